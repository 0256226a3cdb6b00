// Chat beyond plain text: markdown that cannot run script, reactions, edits with history,
// deletes, pins and replies — and the offline merge of all of them.

import assert from "node:assert/strict";
import { connState, serviceWorkerReady, until } from "../lib/wait.mjs";

const texts = page => page.$$eval('[data-testid="message-text"]', els => els.map(e => e.textContent.trim()));
const row = (page, text) => page.locator('[data-testid="message"]', { has: page.locator('[data-testid="message-text"]', { hasText: text }) });

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

const XSS = [
  '<img src=x onerror="window.__xss=1">',
  "<script>window.__xss=2</script>",
  "[点我](javascript:window.__xss=3)",
  '<svg onload="window.__xss=4"></svg>',
  "![x](javascript:window.__xss=5)",
  '<a href="javascript:window.__xss=6">link</a>',
  '<iframe src="javascript:window.__xss=7"></iframe>',
  "[data](data:text/html,<script>parent.__xss=8</script>)",
];

export default [
  {
    name: "an XSS corpus in messages renders inert for the reader",
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("mallory", "mallory-password", "Mallory", "employee");
      await server.addUser("victor", "victor-password", "Victor", "employee");
      const m = await t.newPage();
      await t.login(m, "mallory", "mallory-password");
      const v = await t.newPage();
      await t.login(v, "victor", "victor-password");
      await connState(m, "online");
      for (const x of XSS) await send(m, x);
      await send(m, "**bold** and [ok](https://example.com)");
      await until(v, "all payloads at the reader", async () => (await texts(v)).length >= XSS.length + 1 || (await texts(v)).length);
      // Click every link in the list: none may run script.
      for (const a of await v.locator('[data-testid="message-list"] a').all()) {
        const href = await a.getAttribute("href");
        assert.match(href, /^(https?:|mailto:|\/)/, `only safe links are rendered (got ${href})`);
      }
      const dangerous = await v.$$eval('[data-testid="message-list"] script, [data-testid="message-list"] img, [data-testid="message-list"] svg, [data-testid="message-list"] iframe', els => els.length);
      assert.equal(dangerous, 0, "no script, img, svg or iframe elements in the message list");
      await v.waitForTimeout(500);
      assert.equal(await v.evaluate(() => window.__xss), undefined, "no payload ran");
      assert.equal(await v.locator('[data-testid="message-text"] strong', { hasText: "bold" }).count(), 1, "markdown still renders");
      assert.ok((await texts(v)).some(s => s.includes("<script>window.__xss=2</script>")), "markup is shown as text");
    },
  },
  {
    name: "reactions, reply, pin and edit history between two people",
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice", "employee");
      await server.addUser("bob", "bob-password-1", "Bob", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await send(a, "周五下午三点开会");
      await row(b, "周五下午三点开会").waitFor({ timeout: 20_000 });
      // Bob reacts; Alice sees the count.
      await row(b, "周五下午三点开会").hover();
      await row(b, "周五下午三点开会").locator('[data-testid="react"][data-emoji="👍"]').click();
      await row(a, "周五下午三点开会").locator('[data-testid="reaction"][data-emoji="👍"]').waitFor({ timeout: 20_000 });
      // Bob replies; the quote names Alice's message.
      await row(b, "周五下午三点开会").hover();
      await row(b, "周五下午三点开会").locator('[data-testid="reply"]').click();
      await b.getByTestId("composer-reply").waitFor();
      await send(b, "收到");
      await row(a, "收到").locator('[data-testid="reply-quote"]', { hasText: "周五下午三点开会" }).waitFor({ timeout: 20_000 });
      // Alice edits her message; Bob sees the new text marked edited.
      await row(a, "周五下午三点开会").hover();
      await row(a, "周五下午三点开会").locator('[data-testid="edit"]').click();
      await a.getByTestId("edit-input").fill("周五下午四点开会");
      await a.getByTestId("edit-save").click();
      await row(b, "周五下午四点开会").locator('[data-testid="edited"]').waitFor({ timeout: 20_000 });
      // Bob cannot edit Alice's message: no edit button on it.
      await row(b, "周五下午四点开会").hover();
      assert.equal(await row(b, "周五下午四点开会").locator('[data-testid="edit"]').count(), 0);
      assert.equal(await row(b, "周五下午四点开会").locator('[data-testid="delete"]').count(), 0);
      // Typing shows up on the other side and goes away after sending.
      await b.getByTestId("composer-input").fill("我在想");
      await a.getByTestId("typing").filter({ hasText: "Bob" }).waitFor({ timeout: 10_000 });
      await b.getByTestId("composer-input").press("Enter");
      await a.waitForFunction(() => !document.querySelector('[data-testid="typing"]').textContent.includes("Bob"), null, { timeout: 10_000 });
      // Pin: both see the pinned count.
      await row(b, "周五下午四点开会").locator('[data-testid="pin"]').click();
      await a.getByTestId("pins-toggle").waitFor({ timeout: 20_000 });
    },
  },
  {
    name: "offline edit, reaction and delete on one device while another edits the same message all merge",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice", "employee");
      await server.addUser("bob", "bob-password-1", "Bob", "employee");
      const phone = await t.newContext(); // Alice's phone
      const laptop = await t.newContext(); // Alice's laptop
      const p = await phone.newPage();
      const l = await laptop.newPage();
      const b = await t.newPage();
      await t.login(p, "alice", "alice-password");
      await t.login(l, "alice", "alice-password");
      await t.login(b, "bob", "bob-password-1");
      await send(l, "the quick brown fox");
      await send(l, "delete me later");
      await row(p, "delete me later").waitFor({ timeout: 20_000 });
      await row(b, "the quick brown fox").waitFor({ timeout: 20_000 });
      await serviceWorkerReady(p);
      await serviceWorkerReady(b);

      // The phone and Bob go offline.
      await phone.setOffline(true);
      await b.context().setOffline(true);
      await connState(p, "offline");
      await connState(b, "offline");
      // Phone: edit the start of the sentence, react, delete the other message.
      await row(p, "the quick brown fox").hover();
      await row(p, "the quick brown fox").locator('[data-testid="edit"]').click();
      await p.getByTestId("edit-input").fill("a quick brown fox");
      await p.getByTestId("edit-save").click();
      await row(p, "a quick brown fox").hover();
      await row(p, "a quick brown fox").locator('[data-testid="react"][data-emoji="😄"]').click();
      p.once("dialog", d => d.accept());
      await row(p, "delete me later").hover();
      await row(p, "delete me later").locator('[data-testid="delete"]').click();
      // Bob, offline too, reacts to the same message.
      await row(b, "the quick brown fox").hover();
      await row(b, "the quick brown fox").locator('[data-testid="react"][data-emoji="👍"]').click();
      // Meanwhile the laptop edits the end of the same sentence.
      await row(l, "the quick brown fox").hover();
      await row(l, "the quick brown fox").locator('[data-testid="edit"]').click();
      await l.getByTestId("edit-input").fill("the quick brown cat");
      await l.getByTestId("edit-save").click();
      // A reload while offline keeps the phone's work (once the app has written it to IndexedDB).
      await p.waitForSelector('.app-shell[data-saving="false"]', { state: "attached", timeout: 20_000 });
      await p.reload();
      await row(p, "a quick brown fox").waitFor({ timeout: 20_000 });

      await phone.setOffline(false);
      await b.context().setOffline(false);
      const merged = "a quick brown cat";
      for (const page of [p, l, b]) {
        await row(page, merged).waitFor({ timeout: 30_000 });
        const r = row(page, merged);
        await r.locator('[data-testid="reaction"][data-emoji="😄"]').waitFor({ timeout: 20_000 });
        await r.locator('[data-testid="reaction"][data-emoji="👍"]').waitFor({ timeout: 20_000 });
        await until(page, "the deleted message gone", async () => !(await texts(page)).includes("delete me later"));
        assert.equal(await page.getByTestId("message-deleted").count(), 1);
      }
      // Both earlier versions are in the history.
      const title = await row(b, merged).getByTestId("edited").getAttribute("title");
      assert.ok(title.includes("the quick brown fox"), `history lists the original (got ${title})`);
    },
  },
  {
    name: "search finds Chinese and English messages offline, with filters",
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice", "employee");
      await server.addUser("bob", "bob-password-1", "Bob", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await send(a, "华东区销售报告已上传，请查收");
      await send(b, "The quarterly report is ready");
      await send(a, "明天下午三点开项目周会");
      await row(b, "明天下午三点开项目周会").waitFor({ timeout: 20_000 });
      await serviceWorkerReady(b);
      await b.context().setOffline(true);
      await connState(b, "offline");
      const search = async (q) => {
        await b.getByTestId("search-input").fill(q);
        await b.waitForTimeout(150);
        return b.$$eval('[data-testid="search-result"] .search-result-text', els => els.map(e => e.textContent));
      };
      await b.keyboard.press("Control+k");
      await b.getByTestId("search-panel").waitFor();
      assert.deepEqual(await search("销售报告"), ["华东区销售报告已上传，请查收"]);
      assert.deepEqual(await search("周会"), ["明天下午三点开项目周会"]);
      assert.deepEqual(await search("quart"), ["The quarterly report is ready"]);
      // Filter by person: only Alice's report.
      const aliceId = await b.$eval('[data-testid="search-author"] option:nth-child(2)', o => o.textContent === "Alice" ? o.value : null)
        ?? await b.$eval('[data-testid="search-author"] option:nth-child(3)', o => o.value);
      await b.getByTestId("search-author").selectOption(aliceId);
      assert.deepEqual(await search("report"), []);
      assert.deepEqual(await search("报告"), ["华东区销售报告已上传，请查收"]);
      // A result opens its message.
      await b.getByTestId("search-result").first().click();
      await b.getByTestId("search-panel").waitFor({ state: "detached" });
    },
  },
];
