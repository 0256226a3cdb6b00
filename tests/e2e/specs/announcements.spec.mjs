// Announcements (issue 5): a super admin publishes a pinned, must-read announcement; two
// colleagues confirm they read it (one of them offline, confirmed when back); the author's read
// list shows who has and who has not. Employees get no publish button.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

export default [
  {
    name: "a must-read announcement: two colleagues confirm, the author's read list shows who has and who has not",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      await server.addUser("dave", "dave-password-1", "Dave 刘", "employee");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      const ctxC = await t.newContext();
      const c = await ctxC.newPage();
      await t.login(c, "carol", "carol-password");
      const d = await t.newPage();
      await t.login(d, "dave", "dave-password-1");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      for (const p of [a, b, c, d]) await connState(p, "online");

      await a.getByTestId("open-announcements").click();
      await a.getByTestId("ann-new").click();
      await a.getByTestId("ann-title").fill("国庆放假安排");
      await a.getByTestId("ann-body").fill("**10 月 1 日至 7 日**放假，8 日正常上班。");
      await a.getByTestId("ann-category").fill("行政");
      await a.getByTestId("ann-pinned").check();
      await a.getByTestId("ann-publish").click();
      const item = a.locator('[data-testid="ann-item"][data-title="国庆放假安排"]');
      await item.waitFor();
      assert.equal(await item.locator("strong").textContent(), "10 月 1 日至 7 日", "markdown renders");

      // Bob confirms online; Carol confirms while offline, and it arrives when she is back.
      for (const p of [b, c]) {
        await p.getByTestId("ann-pending").filter({ hasText: "1" }).waitFor({ timeout: 20_000 });
        await p.getByTestId("open-announcements").click();
        assert.equal(await p.getByTestId("ann-new").count(), 0, "employees do not publish");
      }
      await b.locator('[data-testid="ann-item"][data-title="国庆放假安排"]').getByTestId("ann-ack").click();
      await b.getByTestId("ann-acked").waitFor();
      await ctxC.setOffline(true);
      await connState(c, "offline");
      await c.locator('[data-testid="ann-item"][data-title="国庆放假安排"]').getByTestId("ann-ack").click();
      await c.getByTestId("ann-acked").waitFor();
      await c.getByTestId("ann-pending").waitFor({ state: "detached" });
      await ctxC.setOffline(false);

      await item.getByTestId("ann-reads").filter({ hasText: "2/" }).waitFor({ timeout: 30_000 });
      await item.getByTestId("ann-reads").click();
      const list = item.getByTestId("ann-read-list");
      await list.waitFor();
      const readers = await list.getByTestId("ann-reader").allTextContents();
      const non = await list.getByTestId("ann-non-reader").allTextContents();
      assert.ok(readers.some(r => r.includes("Bob 李")) && readers.some(r => r.includes("Carol 张")), `read: ${readers}`);
      assert.ok(non.some(r => r.includes("Dave 刘")), `not read: ${non}`);
      assert.ok(!non.some(r => r.includes("Bob 李") || r.includes("Carol 张")), `not read: ${non}`);
    },
  },
];
