// Read state: unread counts per conversation, the "new messages" line, and a read position that
// follows the reader to their other device.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

// (attached, not visible: on a phone the sidebar holding it is closed)
const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);
const badge = (page, name) => item(page, name).getByTestId("unread-badge");

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

async function badgeText(page, name, expected) {
  await page.waitForFunction(
    ([name, expected]) => {
      const el = document.querySelector(`[data-testid="channel-item"][data-channel-name="${name}"] [data-testid="unread-badge"]`);
      return (el ? el.textContent.trim() : "") === expected;
    },
    [name, expected],
    { timeout: 20_000 },
  );
}

export default [
  {
    name: "unread counts, the new-messages line, and read positions shared by two devices",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      // Bob writes to Alice before she has ever opened the app.
      await b.getByTestId("new-channel").first().click();
      await b.getByTestId("new-dm").click();
      await b.locator('[data-testid="person"][data-username="alice"]').click();
      await b.getByTestId("channel-create").click();
      await item(b, "Alice 王").waitFor();
      await send(b, "第一条：请看合同");
      await send(b, "第二条：下午三点开会");
      assert.equal(await badge(b, "Alice 王").count(), 0, "one's own messages are not unread");

      // Alice's laptop: the DM shows 2 unread while she is in another channel, so does the tab title.
      const a1 = await t.newPage();
      await t.login(a1, "alice", "alice-password");
      await connState(a1, "online");
      await badgeText(a1, "Bob 李", "2");
      assert.match(await a1.title(), /^\(2\) /);

      // Her phone (another device) sees the same.
      const a2 = await t.newPage({ viewport: { width: 390, height: 844 } });
      await t.login(a2, "alice", "alice-password");
      await connState(a2, "online");
      await badgeText(a2, "Bob 李", "2");

      // On the laptop she opens the DM: the line sits above Bob's first message; the count goes.
      await item(a1, "Bob 李").click();
      const divider = a1.getByTestId("new-divider");
      await divider.waitFor({ timeout: 10_000 });
      const firstAfter = await a1.evaluate(() => {
        const d = document.querySelector('[data-testid="new-divider"]');
        let n = d.nextElementSibling;
        while (n && !n.matches('[data-testid="message"]')) n = n.nextElementSibling;
        return n ? n.querySelector('[data-testid="message-text"]').textContent : null;
      });
      assert.equal(firstAfter.trim(), "第一条：请看合同");
      await badgeText(a1, "Bob 李", "");
      await a1.waitForFunction(() => !document.title.startsWith("("), null, { timeout: 10_000 });

      // The phone learns she read it.
      await badgeText(a2, "Bob 李", "");

      // A new message while the laptop has the DM open: read there at once, unread on the phone
      // only until the laptop's position arrives.
      await send(b, "第三条：改到四点");
      await a1.locator('[data-testid="message-text"]', { hasText: "第三条：改到四点" }).waitFor({ timeout: 20_000 });
      await badgeText(a1, "Bob 李", "");
      await badgeText(a2, "Bob 李", "");

      // The laptop moves on; Bob writes again: unread on both devices.
      await a1.getByTestId("channel-item").first().click();
      await send(b, "第四条：带上电脑");
      await badgeText(a1, "Bob 李", "1");
      await badgeText(a2, "Bob 李", "1");

      // She reads it on the phone while it is offline: the laptop still shows it unread, until
      // the phone is back and its read position merges.
      await a2.context().setOffline(true);
      await connState(a2, "offline");
      await a2.getByTestId("sidebar-toggle").click();
      await item(a2, "Bob 李").click();
      await a2.locator('[data-testid="message-text"]', { hasText: "第四条：带上电脑" }).waitFor({ timeout: 20_000 });
      await badgeText(a2, "Bob 李", "");
      await a1.waitForTimeout(1500);
      await badgeText(a1, "Bob 李", "1");
      await a2.context().setOffline(false);
      await badgeText(a1, "Bob 李", "");
    },
  },
];
