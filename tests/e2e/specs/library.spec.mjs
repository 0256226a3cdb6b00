// File library (文件库, issue 5): a department admin creates a folder that needs approval; an
// employee uploads a PDF into it, which waits; a colleague (on a 390 px phone, in English) does
// not see it until the admin approves it, then previews it (the browser's PDF viewer, framed by the app only); the admin uploads a second version
// (an approver's own version needs no approval) and the first stays downloadable; the employee
// may not delete the admin's file (no button, and the relay answers 403); a 9 MB upload survives
// a dropped connection and a reload and arrives whole; file names are found by search offline, from the
// library the browser kept.
//
// People with departments come from an HR import (the CLI creates people without one).

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { pdf } from "../lib/fixtures.mjs";
import { connState } from "../lib/wait.mjs";

const PHONE = { width: 390, height: 844 };

async function importViaApi(server, rows) {
  const admin = await server.login("admin", server.adminPassword);
  const preview = await server.api("POST", "/api/admin/import/preview", { token: admin.token, body: rows });
  const applied = await server.api("POST", "/api/admin/import/apply", { token: admin.token, body: { token: preview.token } });
  return Object.fromEntries(applied.initial_passwords.map(p => [p.employee_id, p.password]));
}

async function openLibrary(page, phone = false) {
  if (phone) await page.getByTestId("sidebar-toggle").first().click();
  await page.getByTestId("open-library").click();
}

const sha = b => createHash("sha256").update(b).digest("hex");

/** Fetch `href` in the page (its session): status, headers, SHA-256 of the body. */
async function fetchSha(page, href) {
  return page.evaluate(async href => {
    const r = await fetch(href, { credentials: "same-origin" });
    const buf = await r.arrayBuffer();
    const d = await crypto.subtle.digest("SHA-256", buf);
    return {
      status: r.status,
      type: r.headers.get("content-type"),
      disposition: r.headers.get("content-disposition"),
      csp: r.headers.get("content-security-policy"),
      frame: r.headers.get("x-frame-options"),
      sha: Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join(""),
    };
  }, href);
}

const row = (page, name) => page.locator(`[data-testid="lib-file"][data-name="${name}"]`);
const folder = (page, name) => page.locator(`[data-testid="lib-folder"][data-name="${name}"]`);

export default [
  {
    name: "file library: a folder with approval, a pending upload, approval, preview, versions, delete refused, a resumed upload, search offline",
    timeout: 240_000,
    fn: async t => {
      const server = await t.startServer();
      const pw = await importViaApi(server, [
        { employee_id: "S1", name: "王芳", department: "销售部", position: "销售总监", role: "dept_admin" },
        { employee_id: "S2", name: "李雷", department: "销售部", position: "销售" },
        { employee_id: "S3", name: "Han Meimei", department: "销售部", position: "Sales" },
      ]);
      const a = await t.newPage();
      await t.login(a, "S1", pw.S1);
      const b = await t.newPage({ colorScheme: "dark" });
      await t.login(b, "S2", pw.S2);
      const ctxC = await t.newContext({ locale: "en-US", viewport: PHONE, isMobile: true, hasTouch: true });
      const c = await ctxC.newPage();
      await t.login(c, "S3", pw.S3);
      for (const p of [a, b, c]) await connState(p, "online");

      // The department admin creates a folder that needs approval.
      await openLibrary(a);
      await a.getByTestId("lib-empty").waitFor();
      await a.getByTestId("lib-new-folder").click();
      await a.getByTestId("lib-folder-name").fill("合同模板");
      await a.getByTestId("lib-folder-approval").check();
      await a.getByTestId("lib-folder-create").click();
      await a.getByTestId("lib-folder-dialog").waitFor({ state: "detached" });
      await a.getByTestId("lib-needs-approval").waitFor();
      await a.getByTestId("lib-folder-empty").waitFor();

      // An employee uploads a PDF: it waits for approval, and says so.
      const v1 = pdf("Quote v1");
      await openLibrary(b);
      await folder(b, "合同模板").click();
      await b.getByTestId("lib-upload-input").setInputFiles({ name: "报价单.pdf", mimeType: "application/pdf", buffer: v1 });
      await b.locator('[data-testid="lib-file"][data-name="报价单.pdf"][data-status="pending"]').waitFor({ timeout: 30_000 });
      assert.equal(await row(b, "报价单.pdf").getByTestId("lib-approve").count(), 0, "an employee cannot approve");

      // A colleague on a phone sees the folder but not the waiting file.
      await openLibrary(c, true);
      await folder(c, "合同模板").click();
      await c.getByTestId("lib-folder-empty").waitFor();

      // The admin sees it waiting (a badge on the folder) and approves it.
      await folder(a, "合同模板").click();
      await folder(a, "合同模板").getByTestId("lib-folder-pending").filter({ hasText: "1" }).waitFor({ timeout: 20_000 });
      await a.getByTestId("lib-pending").filter({ hasText: "1" }).waitFor();
      await a.locator('[data-testid="lib-waiting-file"][data-name="报价单.pdf"]').waitFor();
      await row(a, "报价单.pdf").getByTestId("lib-approve").click();
      await a.locator('[data-testid="lib-file"][data-name="报价单.pdf"][data-status="approved"]').waitFor();
      await a.getByTestId("lib-pending").waitFor({ state: "detached" });
      await a.getByTestId("lib-waiting").waitFor({ state: "detached" });
      await a.screenshot({ path: t.artifact("library-zh-desktop.png") });

      // The colleague now sees it and previews it: the relay serves the PDF for the viewer, inline
      // and still under the sandbox policy.
      await c.getByTestId("lib-back").click();
      await folder(c, "合同模板").click();
      await row(c, "报价单.pdf").waitFor({ timeout: 20_000 });
      await c.screenshot({ path: t.artifact("library-en-phone-folder.png") });
      await row(c, "报价单.pdf").getByTestId("lib-preview").click();
      const frame = c.getByTestId("lib-preview-pdf");
      await frame.waitFor();
      const src = await frame.getAttribute("src");
      const shown = await fetchSha(c, src);
      assert.equal(shown.status, 200);
      assert.equal(shown.type, "application/pdf");
      assert.match(shown.disposition, /^inline/);
      assert.equal(shown.csp, "default-src 'none'; frame-ancestors 'self'");
      assert.equal(shown.frame, "SAMEORIGIN");
      // The preview is shown in the frame: Chrome's viewer document, not an error page.
      await c.waitForFunction(() => {
        const f = document.querySelector('[data-testid="lib-preview-pdf"]');
        return f && f.contentDocument && f.contentDocument.contentType === "application/pdf";
      }, null, { timeout: 20_000 });
      assert.equal(shown.sha, sha(v1));
      await c.screenshot({ path: t.artifact("library-en-phone-preview.png") });
      await c.keyboard.press("Escape");
      await c.getByTestId("lib-preview-dialog").waitFor({ state: "detached" });

      // The admin uploads a second version: no approval needed for an approver's own. Both
      // versions download, each its own bytes.
      const v2 = pdf("Quote v2, with discount");
      await row(a, "报价单.pdf").getByTestId("lib-version-input").setInputFiles({ name: "报价单.pdf", mimeType: "application/pdf", buffer: v2 });
      await a.locator('[data-testid="lib-file"][data-name="报价单.pdf"][data-version="2"][data-status="approved"]').waitFor({ timeout: 30_000 });
      await row(a, "报价单.pdf").getByTestId("lib-history").click();
      const versions = row(a, "报价单.pdf").locator("xpath=following-sibling::tr[1]").getByTestId("lib-version");
      assert.equal(await versions.count(), 2);
      const hrefs = await row(a, "报价单.pdf").locator("xpath=following-sibling::tr[1]").getByTestId("lib-version-download").evaluateAll(els => els.map(e => e.getAttribute("href")));
      assert.equal((await fetchSha(a, hrefs[0])).sha, sha(v2), "newest first");
      assert.equal((await fetchSha(a, hrefs[1])).sha, sha(v1), "the old version is kept");
      // Restoring version 1 adds it again as version 3; history keeps all three.
      await row(a, "报价单.pdf").locator("xpath=following-sibling::tr[1]").locator('[data-testid="lib-version"][data-n="1"]').getByTestId("lib-version-restore").click();
      await a.locator('[data-testid="lib-file"][data-name="报价单.pdf"][data-version="3"]').waitFor({ timeout: 20_000 });
      const newest = await row(a, "报价单.pdf").getByTestId("lib-download").getAttribute("href");
      assert.equal((await fetchSha(a, newest)).sha, sha(v1), "version 3 is version 1's bytes");
      await a.screenshot({ path: t.artifact("library-zh-history.png") });

      // The employee may not delete the admin's file: no button, and the relay refuses it.
      await b.getByTestId("open-library").click();
      await folder(b, "合同模板").click();
      await b.locator('[data-testid="lib-file"][data-name="报价单.pdf"][data-version="3"]').waitFor({ timeout: 20_000 });
      assert.equal(await row(b, "报价单.pdf").getByTestId("lib-delete").count(), 0);
      await b.screenshot({ path: t.artifact("library-zh-dark.png") });
      const listing = await b.evaluate(async () => {
        const lib = await (await fetch("/api/library")).json();
        const f = lib.folders.find(x => x.name === "合同模板");
        return (await fetch(`/api/library/folders/${f.id}`)).json();
      });
      const entry = listing.files.find(f => f.name === "报价单.pdf").id;
      const refused = await b.evaluate(async id => (await fetch(`/api/library/files/${id}`, { method: "DELETE" })).status, entry);
      assert.equal(refused, 403);

      // A 9 MB file over a connection that drops mid-way, then a reload: it waits, then resumes
      // from the device's outbox where the relay stopped and arrives whole (the admin's upload
      // needs no approval).
      const big = randomBytes(9 * 1024 * 1024);
      const ctxA = a.context();
      await a.getByTestId("lib-upload-input").setInputFiles({ name: "产品手册.bin", mimeType: "application/octet-stream", buffer: big });
      const sending = a.locator('[data-testid="lib-sending"][data-name="产品手册.bin"] [role="progressbar"]');
      await a.waitForFunction(() => {
        const bar = document.querySelector('[data-testid="lib-sending"] [role="progressbar"]');
        return bar && Number(bar.getAttribute("aria-valuenow")) >= 40;
      }, null, { timeout: 60_000 });
      await ctxA.setOffline(true);
      await a.locator('[data-testid="lib-sending"][data-name="产品手册.bin"][data-state="waiting"]').filter({ hasText: "等待网络" }).waitFor({ timeout: 20_000 });
      const before = Number(await sending.getAttribute("aria-valuenow"));
      await ctxA.setOffline(false);
      await a.reload();
      await connState(a, "online");
      await a.getByTestId("open-library").click();
      await row(a, "产品手册.bin").waitFor({ timeout: 60_000 });
      assert.ok(before >= 40, `the upload had got to ${before} % before the drop`);
      const href = await row(a, "产品手册.bin").getByTestId("lib-download").getAttribute("href");
      assert.equal((await fetchSha(a, href)).sha, sha(big), "the resumed upload arrived whole");

      // Search, offline: the phone finds files by name from the library it kept.
      await c.reload();
      await connState(c, "online");
      await openLibrary(c, true);
      // The folder it had open is open again, now with the manual in it.
      await row(c, "产品手册.bin").waitFor({ timeout: 20_000 });
      await ctxC.setOffline(true);
      await connState(c, "offline");
      await c.getByTestId("lib-search").fill("报价");
      await c.locator('[data-testid="lib-result"][data-name="报价单.pdf"]').waitFor({ timeout: 20_000 });
      await c.getByTestId("lib-search").fill("pdf");
      await c.locator('[data-testid="lib-result"][data-name="报价单.pdf"]').waitFor();
      await c.getByTestId("lib-search").fill("手册");
      await c.locator('[data-testid="lib-result"][data-name="产品手册.bin"]').waitFor({ timeout: 20_000 });
      await c.screenshot({ path: t.artifact("library-en-phone-search.png") });
      await ctxC.setOffline(false);

      // The admin renames the folder.
      a.once("dialog", d => d.accept("合同与报价"));
      await a.getByTestId("lib-rename-folder").click();
      await folder(a, "合同与报价").waitFor({ timeout: 20_000 });
    },
  },
  {
    name: "search (Ctrl+K) finds pages, announcements and file names, offline, and opens each",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      const ctx = await t.newContext();
      const a = await ctx.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");

      // A page, an announcement and a file, each about travel expenses (差旅报销).
      await a.getByTestId("open-kb").click();
      await a.getByTestId("kb-new-page").click();
      await a.getByTestId("kb-new-title").fill("差旅报销制度");
      await a.getByTestId("kb-template-blank").check();
      await a.getByTestId("kb-create").click();
      await a.getByTestId("kb-editor").waitFor();
      await a.getByTestId("kb-editor").click();
      await a.keyboard.type("机票和酒店凭发票报销。");
      await a.getByTestId("open-announcements").click();
      await a.getByTestId("ann-new").click();
      await a.getByTestId("ann-title").fill("差旅报销新规");
      await a.getByTestId("ann-body").fill("12 月起差旅报销须在 30 天内提交。");
      await a.getByTestId("ann-publish").click();
      await a.locator('[data-testid="ann-item"][data-title="差旅报销新规"]').waitFor();
      await openLibrary(a);
      await a.getByTestId("lib-new-folder").click();
      await a.getByTestId("lib-folder-name").fill("财务表格");
      await a.getByTestId("lib-folder-create").click();
      await a.getByTestId("lib-upload-input").setInputFiles({ name: "差旅报销单.xlsx", mimeType: "application/vnd.ms-excel", buffer: Buffer.from("报销单 bytes") });
      await row(a, "差旅报销单.xlsx").waitFor({ timeout: 30_000 });
      // A file dropped on the folder goes into it too.
      await a.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["出差审批流程"], "出差须知.txt", { type: "text/plain" }));
        const el = document.querySelector('[data-testid="lib-drop"]');
        for (const type of ["dragover", "drop"]) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      await row(a, "出差须知.txt").waitFor({ timeout: 30_000 });
      await a.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { timeout: 20_000 });

      // Offline, from the chat: one search finds all three kinds.
      await ctx.setOffline(true);
      await connState(a, "offline");
      await a.getByTestId("open-kb").click();
      const search = async () => {
        await a.keyboard.press("Control+k");
        await a.getByTestId("search-input").fill("差旅报销");
      };
      await search();
      for (const kind of ["search.kind.pages", "search.kind.announcements", "search.kind.files"]) {
        await a.locator(`[data-testid="search-group"][data-kind="${kind}"]`).waitFor({ timeout: 20_000 });
      }
      await a.screenshot({ path: t.artifact("search-all-zh.png") });

      // Each opens where it lives.
      await a.locator('[data-testid="search-other"][data-title="差旅报销单.xlsx"]').click();
      await a.locator('[data-testid="lib-folder-head"][data-name="财务表格"]').waitFor();
      await row(a, "差旅报销单.xlsx").waitFor();
      await search();
      await a.locator('[data-testid="search-other"][data-title="差旅报销新规"]').click();
      await a.locator('[data-testid="ann-item"][data-title="差旅报销新规"].ann-focus').waitFor();
      await search();
      await a.locator('[data-testid="search-other"][data-title="差旅报销制度"]').click();
      await a.locator('[data-testid="kb-page-title"]').waitFor();
      assert.equal(await a.getByTestId("kb-page-title").inputValue(), "差旅报销制度");
      await ctx.setOffline(false);
    },
  },
];
