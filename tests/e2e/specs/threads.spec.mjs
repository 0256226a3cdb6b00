// Threads: a reply written in a message's thread panel shows there for everyone, and the
// message in the conversation shows how many replies it has; the link opens the thread.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

export default [
  {
    name: "replies in a thread panel; the reply count opens the thread for the other person",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      await send(a, "下周团建去哪里？");
      const root = b.locator('[data-testid="message"]', { hasText: "下周团建去哪里？" });
      await root.waitFor({ timeout: 20_000 });
      await root.hover();
      await root.getByTestId("open-thread").click();
      const panel = b.getByTestId("thread-panel");
      await panel.waitFor();
      await panel.getByTestId("thread-input").fill("去爬山吧");
      await panel.getByTestId("thread-input").press("Enter");
      await panel.locator('[data-testid="thread-message"]', { hasText: "去爬山吧" }).waitFor({ timeout: 10_000 });

      // Alice sees the count under her message and opens the thread from it.
      const link = a.locator('[data-testid="message"]', { hasText: "下周团建去哪里？" }).getByTestId("thread-link");
      await link.waitFor({ timeout: 20_000 });
      assert.match(await link.textContent(), /1/);
      await link.click();
      const aPanel = a.getByTestId("thread-panel");
      await aPanel.locator('[data-testid="thread-message"]', { hasText: "去爬山吧" }).waitFor({ timeout: 10_000 });
      assert.match(await aPanel.locator('[data-testid="thread-message"]').first().textContent(), /下周团建去哪里？/, "the thread starts with its message");
      await aPanel.getByTestId("thread-input").fill("同意，周六出发");
      await aPanel.getByTestId("thread-input").press("Enter");
      await panel.locator('[data-testid="thread-message"]', { hasText: "同意，周六出发" }).waitFor({ timeout: 20_000 });
      await a.locator('[data-testid="message"]', { hasText: "下周团建去哪里？" }).getByTestId("thread-link").filter({ hasText: "2" }).waitFor({ timeout: 10_000 });
      await aPanel.getByTestId("thread-close").click();
      await aPanel.waitFor({ state: "detached" });
    },
  },
];
