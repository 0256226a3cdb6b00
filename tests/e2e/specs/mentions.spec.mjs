// Mentions: the @ picker, highlighted mentions, the red @ badge, the Mentions list, and
// @所有人 offered only to admins.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);

async function waitSent(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

export default [
  {
    name: "mention a person with the picker; they see the badge, the highlight and the Mentions list; only admins get @所有人",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      // Bob starts a group with Alice.
      await b.getByTestId("new-channel").first().click();
      await b.getByTestId("new-group").click();
      await b.getByTestId("channel-name").fill("项目组");
      await b.locator('[data-testid="person"][data-username="alice"]').click();
      await b.getByTestId("channel-create").click();
      await item(b, "项目组").waitFor();

      // The picker: "@Al" offers Alice, not @所有人 (Bob is an employee); Enter inserts her.
      const box = b.getByTestId("composer-input");
      await box.click();
      await box.pressSequentially("@Al");
      await b.locator('[data-testid="mention-option"][data-username="alice"]').waitFor({ timeout: 10_000 });
      await box.fill("");
      await box.pressSequentially("@所有");
      await b.waitForTimeout(300);
      assert.equal(await b.locator('[data-testid="mention-option"][data-username="all"]').count(), 0, "employees cannot @all");
      await box.fill("");
      await box.pressSequentially("请 @ali");
      await b.locator('[data-testid="mention-option"][data-username="alice"]').waitFor();
      await box.press("Enter");
      assert.equal(await box.inputValue(), "请 @Alice 王 ", "the picker inserts the name and a space");
      await box.pressSequentially("看一下合同");
      await box.press("Enter");
      await waitSent(b);
      const sent = b.locator('[data-testid="message"]', { hasText: "看一下合同" });
      await sent.locator(".mention", { hasText: "@Alice 王" }).waitFor({ timeout: 10_000 });

      // Alice logs in: the group shows a red @ badge and the Mentions entry counts it.
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await a.waitForSelector('[data-testid="channel-item"][data-channel-name="项目组"] [data-testid="unread-badge"][data-mention="true"]', { timeout: 20_000 });
      assert.equal((await a.getByTestId("mentions-count").textContent()).trim(), "1");

      // The Mentions list opens the message in its conversation, highlighted for her.
      await a.getByTestId("open-mentions").click();
      const result = a.getByTestId("mention-result");
      await result.waitFor();
      assert.match(await result.textContent(), /看一下合同/);
      await result.click();
      const mine = a.locator('[data-testid="message"].message-mentioned', { hasText: "看一下合同" });
      await mine.waitFor({ timeout: 10_000 });
      await a.getByTestId("mentions-count").waitFor({ state: "detached", timeout: 10_000 });

      // The admin may mention everyone in the company channel.
      const admin = await t.newPage();
      await t.login(admin, "admin", server.adminPassword);
      await connState(admin, "online");
      const abox = admin.getByTestId("composer-input");
      await abox.click();
      await abox.pressSequentially("@所有");
      await admin.locator('[data-testid="mention-option"][data-username="all"]').waitFor({ timeout: 10_000 });
      await abox.press("Enter");
      await abox.pressSequentially("下午三点停电");
      await abox.press("Enter");
      await waitSent(admin);
      const general = await admin.getByTestId("chat-title").textContent();
      const generalName = general.replace(/^#\s*/, "").trim();
      await a.waitForSelector(`[data-testid="channel-item"][data-channel-name="${generalName}"] [data-testid="unread-badge"][data-mention="true"]`, { timeout: 20_000 });
      await item(a, generalName).click();
      await a.locator('[data-testid="message"].message-mentioned', { hasText: "下午三点停电" }).locator(".mention", { hasText: "@所有人" }).waitFor({ timeout: 10_000 });
    },
  },
];
