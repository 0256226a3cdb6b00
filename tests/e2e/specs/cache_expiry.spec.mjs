// Offline-cache expiry (issue 3): a super admin sets how many days a device may go without
// reaching the relay; a device past that wipes its local copy — documents in IndexedDB and
// settings in local storage — at its next start, offline, and says why on the login page.
// Nothing is lost on the relay: logging in again brings the conversation back.

import assert from "node:assert/strict";
import { connState, serviceWorkerReady } from "../lib/wait.mjs";

const chunkCount = page =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open("qiao", 1);
        req.onsuccess = () => {
          const db = req.result;
          const c = db.transaction("chunks").objectStore("chunks").count();
          c.onsuccess = () => resolve(c.result);
          c.onerror = () => reject(c.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );

export default [
  {
    name: "a device offline past the company's expiry wipes its local copy at the next start",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      const admin = await server.login("admin", server.adminPassword);
      await server.api("PUT", "/api/admin/settings/client", {
        token: admin.token,
        body: { offline_cache_expiry_days: 3 },
        headers: { Origin: server.base },
      });

      const ctx = await t.newContext();
      const a = await ctx.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await serviceWorkerReady(a);
      const box = a.getByTestId("composer-input");
      await box.fill("季度报表在共享盘");
      await box.press("Enter");
      await a.locator('[data-testid="message-text"]', { hasText: "季度报表在共享盘" }).waitFor();
      await a.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 20_000 });
      await a.waitForFunction(() => localStorage.getItem("qiao.cache_expiry_days") === "3", null, { polling: 100, timeout: 20_000 });
      assert.ok((await chunkCount(a)) > 0, "the conversation is stored locally");

      // Two days without contact: still within the policy; the app opens offline as usual.
      await ctx.setOffline(true);
      await connState(a, "offline");
      await a.evaluate(() => localStorage.setItem("qiao.last_contact", String(Date.now() - 2 * 86_400_000)));
      await a.reload();
      await a.locator('[data-testid="message-text"]', { hasText: "季度报表在共享盘" }).waitFor({ timeout: 20_000 });

      // Four days: the next start wipes everything and shows why.
      await a.evaluate(() => localStorage.setItem("qiao.last_contact", String(Date.now() - 4 * 86_400_000)));
      await a.reload();
      await a.getByTestId("cache-wiped").waitFor({ timeout: 20_000 });
      assert.match(await a.getByTestId("cache-wiped").textContent(), /3/);
      await a.getByTestId("login-form").waitFor();
      await a.waitForFunction(() => !Object.keys(localStorage).some(k => k.startsWith("qiao.") && k !== "qiao.locale"), null, { polling: 100, timeout: 10_000 });
      assert.equal(await chunkCount(a), 0, "no document is left in IndexedDB");

      // Back online, the same person logs in again and the relay still has everything.
      await ctx.setOffline(false);
      await a.getByTestId("login-username").fill("alice");
      await a.getByTestId("login-password").fill("alice-password");
      await a.getByTestId("login-submit").click();
      await a.locator('[data-testid="message-text"]', { hasText: "季度报表在共享盘" }).waitFor({ timeout: 20_000 });
    },
  },
];
