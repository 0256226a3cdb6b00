// Read receipts (已读): in a direct message the sender's message turns from 未读 to 已读 when the
// other person reads it; in a small group it counts the readers.

import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

const receipt = (page, text, read) =>
  page.locator('[data-testid="message"]', { hasText: text }).locator(`[data-testid="receipt"][data-read="${read}"]`).waitFor({ timeout: 20_000 });

export default [
  {
    name: "a direct message shows 未读 then 已读; a group counts its readers",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");

      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-dm").click();
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "Bob 李").waitFor();
      await send(a, "合同看了吗");
      await receipt(a, "合同看了吗", "0");

      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      await item(b, "Alice 王").click();
      await b.locator('[data-testid="message"]', { hasText: "合同看了吗" }).waitFor({ timeout: 20_000 });
      await receipt(a, "合同看了吗", "1");

      // A group of three: 1 人已读, then 2 人已读.
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-group").click();
      await a.getByTestId("channel-name").fill("周会");
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.locator('[data-testid="person"][data-username="carol"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "周会").waitFor();
      await send(a, "周会改到周四");
      await b.reload();
      await connState(b, "online");
      await item(b, "周会").click();
      await receipt(a, "周会改到周四", "1");
      const c = await t.newPage();
      await t.login(c, "carol", "carol-password");
      await connState(c, "online");
      await item(c, "周会").click();
      await receipt(a, "周会改到周四", "2");
    },
  },
];
