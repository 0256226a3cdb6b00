// Knowledge base (issue 5) in the browser: two editors write one page at the same time, one of
// them offline, with formatting; after the network returns both see the same page and every
// word either typed. Versions: an old version is restored, the restore is itself a version,
// and the page equals the old version. A reader (employee) cannot edit but can comment. A simple
// table: Tab and Enter move between cells and add rows; two editors fill different cells, one
// offline, and both end with the same table. An image and an attached file: an editor puts them
// in a page, a reader on a phone sees them, and their bytes download for the reader.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pdf, png } from "../lib/fixtures.mjs";
import { connState } from "../lib/wait.mjs";

// The page as data: one entry per block, [tag, text, bold texts].
const pageOf = page =>
  page.$eval('[data-testid="kb-editor"]', ed =>
    [...ed.children].map(b => [
      b.dataset.kind || b.tagName.toLowerCase(),
      b.textContent,
      [...b.querySelectorAll("b, strong")].map(x => x.textContent),
    ]));

async function waitFor(fn, what, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.ok) return last.value;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last?.value)}`);
}

async function openPage(page, title) {
  await page.getByTestId("open-kb").click();
  const item = page.locator('[data-testid="kb-page-item"]', { hasText: title });
  await item.waitFor({ timeout: 20_000 });
  await item.click();
  await page.getByTestId("kb-editor").waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="kb-editor"]')?.children.length > 0, null, { polling: 100 });
}

/** Put the caret at the end of block `i` of the editor. */
async function caretAtEndOf(page, i) {
  await page.getByTestId("kb-editor").focus();
  await page.evaluate(i => {
    const ed = document.querySelector('[data-testid="kb-editor"]');
    const b = ed.children[i];
    const r = document.createRange();
    r.selectNodeContents(b);
    r.collapse(false);
    const s = getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }, i);
}

/** Select the last `n` characters before the caret. */
async function selectBack(page, n) {
  await page.keyboard.down("Shift");
  for (let i = 0; i < n; i++) await page.keyboard.press("ArrowLeft");
  await page.keyboard.up("Shift");
}

const saved = page =>
  page.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 20_000 });

export default [
  {
    name: "two editors write one page at once, one offline, with formatting; both end with every word",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("bob", "bob-password-1", "Bob 李", "super_admin");
      const ctxA = await t.newContext();
      const ctxB = await t.newContext();
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await t.login(a, "alice", "alice-password");
      await t.login(b, "bob", "bob-password-1");
      await connState(a, "online");
      await connState(b, "online");

      // Alice starts a page from the meeting-notes template.
      await a.getByTestId("open-kb").click();
      await a.getByTestId("kb-new-page").click();
      await a.getByTestId("kb-new-title").fill("周会纪要");
      await a.getByTestId("kb-template-blank").check();
      await a.getByTestId("kb-create").click();
      await a.getByTestId("kb-editor").waitFor();
      await caretAtEndOf(a, 0);
      await a.keyboard.type("本周议题：发布计划");
      await waitFor(async () => ({ ok: (await pageOf(a))[0][1] === "本周议题：发布计划", value: await pageOf(a) }), "alice's first line");

      // Bob opens it and sees the same; then goes offline.
      await openPage(b, "周会纪要");
      await waitFor(async () => ({ ok: (await pageOf(b))[0]?.[1] === "本周议题：发布计划", value: await pageOf(b) }), "bob to see the page");
      await ctxB.setOffline(true);
      await connState(b, "offline");

      // Alice (online): appends to the first line, adds a bold paragraph.
      await caretAtEndOf(a, 0);
      await a.keyboard.type("（A补充）");
      await a.keyboard.press("Enter");
      await a.keyboard.type("结论：下周二发布");
      await selectBack(a, 4);
      await a.getByTestId("kb-bold").click();
      // Bob (offline): appends to the same first line, adds a heading and a list item.
      await caretAtEndOf(b, 0);
      await b.keyboard.type("（B补充）");
      await b.keyboard.press("Enter");
      await b.keyboard.type("待办");
      await b.getByTestId("kb-block-kind").selectOption("h2");
      await b.keyboard.press("End");
      await b.keyboard.press("Enter");
      await b.getByTestId("kb-block-kind").selectOption("bullet");
      await b.keyboard.type("Bob 写测试用例");
      await saved(a);
      await saved(b);

      await ctxB.setOffline(false);
      await connState(b, "online");
      const words = ["本周议题：发布计划", "（A补充）", "（B补充）", "结论：下周二发布", "待办", "Bob 写测试用例"];
      const both = await waitFor(async () => {
        const pa = await pageOf(a);
        const pb = await pageOf(b);
        const text = pa.map(x => x[1]).join("\n");
        return { ok: JSON.stringify(pa) === JSON.stringify(pb) && words.every(w => text.includes(w)), value: { pa, pb } };
      }, "both pages to be equal and hold every word", 30_000);
      const blocks = both.pa;
      assert.ok(blocks.some(([, , bold]) => bold.join("") === "周二发布"), `bold survives: ${JSON.stringify(blocks)}`);
      assert.ok(blocks.some(([kind, text]) => kind === "h2" && text === "待办"), `the heading survives: ${JSON.stringify(blocks)}`);
      // Both appended at the same point (the end of the first line): the CRDT keeps each
      // person's run of text whole, so Alice's words may follow Bob's new blocks. Nothing is lost.
      assert.ok(blocks.some(([kind, text]) => kind === "bullet" && text.startsWith("Bob 写测试用例")), `the list item survives: ${JSON.stringify(blocks)}`);
    },
  },
  {
    name: "restore an old version: the restore is a version too and the page equals the old one; readers only comment",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("erin", "erin-password-1", "Erin 赵", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await a.getByTestId("open-kb").click();
      await a.getByTestId("kb-new-page").click();
      await a.getByTestId("kb-new-title").fill("请假流程");
      await a.getByTestId("kb-template-howto").check();
      await a.getByTestId("kb-create").click();
      await a.getByTestId("kb-editor").waitFor();
      await waitFor(async () => ({ ok: (await pageOf(a)).length > 3, value: await pageOf(a) }), "the template");
      const v1 = await pageOf(a);

      // Versions are grouped by person within two minutes: move the clock on for the next one.
      await a.evaluate(() => {
        const real = Date.now;
        const skew = 10 * 60_000;
        Date.now = () => real() + skew;
      });
      await caretAtEndOf(a, 1);
      await a.keyboard.press("Enter");
      await a.keyboard.type("第二版新增的一段");
      await waitFor(async () => ({ ok: (await pageOf(a)).some(x => x[1] === "第二版新增的一段"), value: await pageOf(a) }), "v2");
      await saved(a);

      await a.getByTestId("kb-open-versions").click();
      const versions = a.getByTestId("kb-version");
      await waitFor(async () => ({ ok: (await versions.count()) === 2, value: await versions.count() }), "two versions");
      await a.locator('[data-testid="kb-version"][data-index="0"]').click();
      // The difference from the page now: the paragraph added since.
      await a.getByTestId("kb-diff").locator(".diff-add", { hasText: "第二版新增的一段" }).waitFor();
      await a.getByTestId("kb-restore").click();
      await waitFor(async () => ({ ok: JSON.stringify(await pageOf(a)) === JSON.stringify(v1), value: await pageOf(a) }), "the page to equal v1");
      await waitFor(async () => ({ ok: (await versions.count()) === 3, value: await versions.count() }), "the restore as a third version");

      // Erin (employee) reads it, cannot edit, and comments.
      const e = await t.newPage();
      await t.login(e, "erin", "erin-password-1");
      await connState(e, "online");
      await openPage(e, "请假流程");
      await waitFor(async () => ({ ok: JSON.stringify(await pageOf(e)) === JSON.stringify(v1), value: await pageOf(e) }), "erin sees the page");
      assert.equal(await e.getByTestId("kb-editor").getAttribute("contenteditable"), "false");
      assert.equal(await e.getByTestId("kb-toolbar").count(), 0);
      await e.getByTestId("kb-open-comments").click();
      await e.getByTestId("kb-comment-input").fill("病假需要附证明吗？");
      await e.getByTestId("kb-comment-input").press("Enter");
      await a.getByTestId("kb-open-comments").click();
      await a.locator('[data-testid="kb-comment"]', { hasText: "病假需要附证明吗？" }).waitFor({ timeout: 20_000 });

      // Search finds the page by a word of its text, in Chinese, offline.
      await e.context().setOffline(true);
      await connState(e, "offline");
      await e.getByTestId("kb-search").fill("常见问题");
      await e.locator('[data-testid="kb-result"][data-title="请假流程"]').click();
      await e.getByTestId("kb-editor").waitFor();
      assert.equal(await e.getByTestId("kb-page-title").inputValue(), "请假流程");
    },
  },
  {
    name: "a simple table: Tab and Enter move between cells and add rows; two editors fill cells, one offline",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("bob", "bob-password-1", "Bob 李", "super_admin");
      const ctxA = await t.newContext();
      const ctxB = await t.newContext();
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await t.login(a, "alice", "alice-password");
      await t.login(b, "bob", "bob-password-1");
      await connState(a, "online");
      await a.getByTestId("open-kb").click();
      await a.getByTestId("kb-new-page").click();
      await a.getByTestId("kb-new-title").fill("差旅预算");
      await a.getByTestId("kb-template-blank").check();
      await a.getByTestId("kb-create").click();
      await a.getByTestId("kb-editor").waitFor();
      await caretAtEndOf(a, 0);
      await a.keyboard.type("本季度预算");
      await a.getByTestId("kb-table").click();
      // Header row, then one row typed with Tab; Enter in the last row adds another.
      for (const [i, cell] of ["项目", "金额", "负责人", "差旅", "3000", "王芳"].entries()) {
        if (i > 0) await a.keyboard.press("Tab");
        await a.keyboard.type(cell);
      }
      await a.keyboard.press("Enter");
      await a.keyboard.type("李雷");
      const cells = async page =>
        page.$$eval('[data-testid="kb-editor"] [data-kind="td"]', els => els.map(e => e.textContent));
      await waitFor(async () => ({ ok: (await cells(a)).join("|") === "项目|金额|负责人|差旅|3000|王芳|||李雷", value: await cells(a) }), "alice's table");
      assert.equal(await a.locator('[data-testid="kb-editor"] .kb-th').count(), 3, "the first row is the header");
      // Backspace at the start of a cell joins nothing.
      await a.keyboard.press("Home");
      await a.keyboard.press("Backspace");
      assert.equal((await cells(a)).length, 9, "no cell was joined");
      const box = await a.locator('[data-testid="kb-editor"] [data-kind="td"]').nth(1).boundingBox();
      const box0 = await a.locator('[data-testid="kb-editor"] [data-kind="td"]').nth(0).boundingBox();
      const box3 = await a.locator('[data-testid="kb-editor"] [data-kind="td"]').nth(3).boundingBox();
      assert.ok(Math.abs(box.y - box0.y) < 2 && box.x > box0.x, "cells of a row sit side by side");
      assert.ok(box3.y > box0.y + 10 && Math.abs(box3.x - box0.x) < 2, "the next row starts under the first");

      await openPage(b, "差旅预算");
      await waitFor(async () => ({ ok: (await cells(b)).length === 9, value: await cells(b) }), "bob to see the table");
      await saved(b);
      await ctxB.setOffline(true);
      await connState(b, "offline");
      // Bob (offline) fills the empty cells of the last row; Alice changes an amount.
      const putCaret = async (page, cell, atEnd) => {
        await page.getByTestId("kb-editor").focus();
        await page.evaluate(([cell, atEnd]) => {
          const el = document.querySelectorAll('[data-testid="kb-editor"] [data-kind="td"]')[cell];
          const r = document.createRange();
          r.selectNodeContents(el);
          r.collapse(!atEnd);
          getSelection().removeAllRanges();
          getSelection().addRange(r);
        }, [cell, atEnd]);
      };
      await putCaret(b, 6, false);
      await b.keyboard.type("培训");
      await b.keyboard.press("Tab");
      await b.keyboard.type("800");
      await putCaret(a, 4, true);
      await a.keyboard.press("Backspace");
      await a.keyboard.press("Backspace");
      await a.keyboard.press("Backspace");
      await a.keyboard.type("500");
      await saved(a);
      await saved(b);
      await ctxB.setOffline(false);
      await connState(b, "online");
      const want = "项目|金额|负责人|差旅|3500|王芳|培训|800|李雷";
      await waitFor(async () => {
        const [ca, cb] = [await cells(a), await cells(b)];
        return { ok: ca.join("|") === want && cb.join("|") === want, value: { ca, cb } };
      }, "both tables equal, with every cell", 30_000);
      assert.deepEqual((await pageOf(a))[0].slice(0, 2), ["p", "本季度预算"]);
      if (process.env.QIAO_SHOTS) await a.screenshot({ path: `${process.env.QIAO_SHOTS}/kb-table.png` });
    },
  },
  {
    name: "an image and a file in a page: inserted by an editor, shown to a reader on a phone, who downloads both",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("carol", "carol-password", "Carol 陈", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await a.getByTestId("open-kb").click();
      await a.getByTestId("kb-new-page").click();
      await a.getByTestId("kb-new-title").fill("报销流程");
      await a.getByTestId("kb-template-blank").check();
      await a.getByTestId("kb-create").click();
      await a.getByTestId("kb-editor").waitFor();
      await caretAtEndOf(a, 0);
      await a.keyboard.type("第一步：填写报销单");
      await a.keyboard.press("Enter");
      await a.keyboard.type("第二步：主管审批");
      await saved(a);
      // The image goes after the block the caret was in: the first.
      await caretAtEndOf(a, 0);
      const image = png(120, 80);
      await a.getByTestId("kb-image").dispatchEvent("mousedown");
      await a.getByTestId("kb-image-input").setInputFiles({ name: "流程图.png", mimeType: "image/png", buffer: image });
      await waitFor(async () => {
        const p = await pageOf(a);
        return { ok: p.length === 3 && p[1][0] === "img", value: p };
      }, "the image after the first paragraph");
      await saved(a);
      assert.deepEqual((await pageOf(a)).map(b => b[1]), ["第一步：填写报销单", "", "第二步：主管审批"]);
      // A file attached after the last paragraph: a card to download.
      await caretAtEndOf(a, 2);
      const form = pdf("Expense form");
      await a.getByTestId("kb-file").dispatchEvent("mousedown");
      await a.getByTestId("kb-file-input").setInputFiles({ name: "报销单.pdf", mimeType: "application/pdf", buffer: form });
      await waitFor(async () => {
        const p = await pageOf(a);
        return { ok: p.length >= 4 && p[3][0] === "file", value: p };
      }, "the file after the last paragraph");
      await saved(a);
      // A screenshot pasted with Ctrl+V goes in where the caret is.
      await caretAtEndOf(a, 2);
      const shot = png(40, 30);
      await a.evaluate(bytes => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "截图.png", { type: "image/png" }));
        document.querySelector('[data-testid="kb-editor"]')
          .dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
      }, [...shot]);
      await waitFor(async () => {
        const p = await pageOf(a);
        return { ok: p.length >= 5 && p[3][0] === "img", value: p };
      }, "the pasted screenshot after the second step");
      await saved(a);

      // A reader on a phone sees it, loaded, and downloads exactly its bytes.
      const c = await t.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await t.login(c, "carol", "carol-password");
      await connState(c, "online");
      await c.getByTestId("sidebar-toggle").first().click();
      await openPage(c, "报销流程");
      const img = c.locator('[data-testid="kb-editor"] figure[data-kind="img"] img').first();
      await img.waitFor({ timeout: 20_000 });
      await c.waitForFunction(() => {
        const i = document.querySelector('[data-testid="kb-editor"] figure img');
        return i && i.complete && i.naturalWidth === 120;
      }, null, { timeout: 20_000 });
      const got = await c.evaluate(async src => {
        const r = await fetch(src);
        const d = await crypto.subtle.digest("SHA-256", await r.arrayBuffer());
        return { status: r.status, sha: Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join("") };
      }, await img.getAttribute("src"));
      assert.equal(got.status, 200);
      assert.equal(got.sha, createHash("sha256").update(image).digest("hex"));
      assert.equal(await c.getByTestId("kb-image").count(), 0, "readers have no toolbar");
      const card = c.locator('[data-testid="kb-editor"] figure[data-kind="file"] a');
      assert.equal(await card.getAttribute("download"), "报销单.pdf");
      const att = await c.evaluate(async src => {
        const r = await fetch(src);
        const d = await crypto.subtle.digest("SHA-256", await r.arrayBuffer());
        return Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join("");
      }, await card.getAttribute("href"));
      assert.equal(att, createHash("sha256").update(form).digest("hex"));
      if (process.env.QIAO_SHOTS) await c.screenshot({ path: `${process.env.QIAO_SHOTS}/kb-image-phone.png` });
    },
  },
];
