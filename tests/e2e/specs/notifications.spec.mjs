// Notifications: a direct message raises a toast while the app has focus (a click opens the
// conversation) and a system notification when it does not; a muted conversation raises
// neither and its unread count turns grey.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

export default [
  {
    name: "a direct message notifies by toast or system notification; muting silences it",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const a = await t.newPage();
      // Record system notifications, and let the test say whether the window has focus.
      await a.context().grantPermissions(["notifications"]);
      await a.context().addInitScript(() => {
        window.__shown = [];
        window.__focused = true;
        document.hasFocus = () => window.__focused;
        window.Notification = class {
          static permission = "granted";
          static requestPermission() { return Promise.resolve("granted"); }
          constructor(title, opts) { window.__shown.push({ title, body: opts && opts.body }); }
        };
      });
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      await b.getByTestId("new-channel").first().click();
      await b.getByTestId("new-dm").click();
      await b.locator('[data-testid="person"][data-username="alice"]').click();
      await b.getByTestId("channel-create").click();
      await item(b, "Alice 王").waitFor();
      // Alice learns of the new conversation when her list refreshes (a reconnect does it).
      await send(b, "在吗？");
      await a.reload();
      await connState(a, "online");
      await item(a, "Bob 李").waitFor({ timeout: 20_000 });

      // Focused: a toast; its click opens the DM.
      await send(b, "合同发你了，请查收");
      const toast = a.getByTestId("toast").filter({ hasText: "合同发你了" });
      await toast.waitFor({ timeout: 20_000 });
      assert.match(await toast.textContent(), /Bob 李.*合同发你了/);
      await toast.click();
      await a.waitForFunction(() => document.querySelector('[data-testid="chat-title"]').textContent.includes("Bob 李"), null, { timeout: 10_000 });

      // Not focused, another conversation open: a system notification.
      await a.getByTestId("channel-item").first().click();
      await a.evaluate(() => { window.__focused = false; });
      await send(b, "下午三点见");
      await a.waitForFunction(() => window.__shown.some(n => n.body && n.body.includes("下午三点见")), null, { timeout: 20_000 });
      assert.equal((await a.evaluate(() => window.__shown.find(n => n.body.includes("下午三点见")).title)), "Bob 李");

      // Muted: nothing, and the count is grey.
      await a.evaluate(() => { window.__focused = true; });
      await item(a, "Bob 李").click();
      await a.getByTestId("mute-toggle").click();
      await a.waitForSelector('[data-testid="mute-toggle"][aria-pressed="true"]');
      await a.getByTestId("channel-item").first().click();
      const before = await a.evaluate(() => window.__shown.length);
      await send(b, "这条不该打扰你");
      await a.waitForSelector('[data-testid="channel-item"][data-channel-name="Bob 李"] [data-testid="unread-badge"].badge-muted', { timeout: 20_000 });
      await a.waitForTimeout(1000);
      assert.equal(await a.locator('[data-testid="toast"]', { hasText: "这条不该打扰你" }).count(), 0, "no toast from a muted conversation");
      assert.equal(await a.evaluate(() => window.__shown.length), before, "no system notification either");
    },
  },
];
