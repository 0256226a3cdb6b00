// Conversations a person starts from the app: a direct message and a group, and what happens to
// a member who is removed: the conversation leaves their sidebar and its local copy is wiped.

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
    name: "a direct message and a group started from the app, then a member removed",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      const c = await t.newPage();
      await t.login(c, "carol", "carol-password");
      await connState(a, "online");

      // Alice opens a direct message with Bob.
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-dm").click();
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "Bob 李").waitFor();
      await send(a, "私聊：明天见");
      await b.reload();
      await item(b, "Alice 王").click();
      await b.locator('[data-testid="message-text"]', { hasText: "私聊：明天见" }).waitFor({ timeout: 20_000 });
      assert.equal(await item(c, "Alice 王").count(), 0, "Carol does not see their DM");

      // Alice starts a group with Bob and Carol.
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-group").click();
      await a.getByTestId("channel-name").fill("三人小组");
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.locator('[data-testid="person"][data-username="carol"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "三人小组").waitFor();
      await send(a, "小组第一条");
      await c.reload();
      await item(c, "三人小组").click();
      await c.locator('[data-testid="message-text"]', { hasText: "小组第一条" }).waitFor({ timeout: 20_000 });

      // Alice removes Carol: the group leaves Carol's sidebar and her copy is wiped.
      await a.getByTestId("members-toggle").click();
      await a.locator('[data-testid="member"][data-username="carol"] [data-testid="remove-member"]').click();
      await a.locator('[data-testid="member"][data-username="carol"]').waitFor({ state: "detached", timeout: 10_000 });
      await send(a, "Carol 走后的消息");
      await item(c, "三人小组").waitFor({ state: "detached", timeout: 20_000 });
      const left = await c.evaluate(async () => {
        const db = await new Promise((res, rej) => { const r = indexedDB.open("qiao"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        const rows = await new Promise(res => { const q = db.transaction("chunks").objectStore("chunks").getAll(); q.onsuccess = () => res(q.result); });
        const dec = new TextDecoder();
        return rows.filter(r => dec.decode(r.bytes).includes("小组第一条") || dec.decode(r.bytes).includes("Carol 走后")).length;
      });
      assert.equal(left, 0, "no chunk of the group is left in Carol's IndexedDB");
      assert.equal(await c.locator('[data-testid="message-text"]', { hasText: "Carol 走后的消息" }).count(), 0);
    },
  },
];
