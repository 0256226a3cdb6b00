// The foundation's journey: two people chat in a channel; one goes offline, keeps writing, reloads
// while still offline and still sees the unsent messages; back online, both see the same messages
// in the same order; the relay is killed with SIGKILL and restarted, and nothing it acknowledged
// is missing.

import assert from "node:assert/strict";
import { connState, serviceWorkerReady } from "../lib/wait.mjs";

const texts = page => page.$$eval('[data-testid="message-text"]', els => els.map(e => e.textContent.trim()));

/** Wait until `page` shows every text of `want` (and return what it shows). */
async function waitForTexts(page, want, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let have = [];
  while (Date.now() < deadline) {
    have = await texts(page);
    if (want.every(w => have.includes(w))) return have;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${JSON.stringify(want)}; the page shows ${JSON.stringify(have)}`);
}

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(t => [...document.querySelectorAll('[data-testid="message-text"]')].some(e => e.textContent.trim() === t), text, { polling: 100, timeout: 10_000 });
}

/** Until the service worker controls the page and has the app shell cached. */

// The app is not writing to IndexedDB right now.
// (Polled on a timer: a background tab runs no animation frames, Playwright's default.)
const saved = page =>
  page.waitForFunction(() => document.querySelector('.app-shell')?.dataset.saving === "false", null, { polling: 100, timeout: 20_000 });

export default [
  {
    name: "two users chat, one offline with a reload, then a relay crash loses nothing",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");

      const ctxA = await t.newContext();
      const ctxB = await t.newContext();
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await t.login(a, "alice", "alice-password");
      await t.login(b, "bob", "bob-password-1");
      await connState(a, "online");
      await connState(b, "online");

      // Online exchange, both ways.
      await send(a, "A1 你好，Bob");
      await waitForTexts(b, ["A1 你好，Bob"]);
      await send(b, "B1 hello Alice");
      await waitForTexts(a, ["B1 hello Alice"]);

      // Bob goes offline after one visit (the service worker has the app).
      await serviceWorkerReady(b);
      await ctxB.setOffline(true);
      await connState(b, "offline");
      await send(a, "A2 while Bob is away");
      await send(b, "B2 离线时写的第一条");
      await send(b, "B3 offline, second");
      const pending = await b.getByTestId("pending-count").getAttribute("data-count");
      assert.equal(pending, "2", "Bob's two offline messages are counted as waiting to send");

      // Reload while still offline: the app opens from the service worker and IndexedDB. (First
      // wait until the app has finished writing to IndexedDB, as a person sees it has.)
      await saved(b);
      await b.reload();
      await waitForTexts(b, ["A1 你好，Bob", "B1 hello Alice", "B2 离线时写的第一条", "B3 offline, second"]);
      assert.ok(!(await texts(b)).includes("A2 while Bob is away"), "Bob cannot have Alice's message while offline");

      // Back online: both converge on the same messages in the same order.
      await ctxB.setOffline(false);
      await connState(b, "online");
      const all = ["A1 你好，Bob", "B1 hello Alice", "A2 while Bob is away", "B2 离线时写的第一条", "B3 offline, second"];
      await waitForTexts(a, all);
      await waitForTexts(b, all);
      await b.getByTestId("pending-count").waitFor({ state: "detached", timeout: 20_000 });
      const orderA = await texts(a);
      assert.deepEqual(await texts(b), orderA, "same messages, same order on both devices");

      // The relay dies without warning and comes back: everything it acknowledged is there.
      await server.kill();
      await server.start();
      const c = await (await t.newContext()).newPage();
      await t.login(c, "carol", "carol-password");
      await waitForTexts(c, all);
      assert.deepEqual(await texts(c), orderA, "a newcomer after the crash sees exactly what was acknowledged");
      // Alice reconnects by herself and still agrees.
      await connState(a, "online");
      assert.deepEqual(await texts(a), orderA);
    },
  },
  {
    name: "two tabs of one user share the local store without losing writes",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("dora", "dora-password", "Dora", "employee");
      const ctx = await t.newContext();
      const p1 = await ctx.newPage();
      await t.login(p1, "dora", "dora-password");
      const p2 = await ctx.newPage();
      await p2.goto("/");
      await connState(p1, "online");
      await connState(p2, "online");
      await serviceWorkerReady(p1);
      // Both tabs offline, so only the shared IndexedDB and BroadcastChannel can carry writes.
      await ctx.setOffline(true);
      await connState(p1, "offline");
      await connState(p2, "offline");
      const mine = [];
      for (let i = 0; i < 3; i++) {
        await send(p1, `tab one #${i}`);
        await send(p2, `tab two #${i}`);
        mine.push(`tab one #${i}`, `tab two #${i}`);
      }
      await waitForTexts(p1, mine);
      await waitForTexts(p2, mine);
      await saved(p1);
      await saved(p2);
      await p1.reload();
      await waitForTexts(p1, mine);
      await ctx.setOffline(false);
      await connState(p1, "online");
      // What both tabs wrote reaches the relay: a fresh device sees all of it.
      await (async () => {
        const p3 = await (await t.newContext()).newPage();
        await t.login(p3, "dora", "dora-password");
        await waitForTexts(p3, mine);
      })();
    },
  },
];
