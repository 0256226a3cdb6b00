// The admin console (管理后台), one journey per role. What a role may do is decided by the relay;
// these tests check that the console offers each role exactly its buttons, that the buttons
// work end to end, and that an employee calling an admin endpoint directly is refused.
//
// Accounts with departments come from an HR import (the CLI creates people without one); the
// import's one-time passwords are how the imported people log in.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const ROSTER_CSV = [
  "employee_id,name,department,position,manager_employee_id,role",
  "E001,王芳,销售部,销售总监,,dept_admin",
  "E002,李雷,销售部/华东区,销售经理,E001,",
  "E003,韩梅梅,研发部,工程师,,",
].join("\n");

/** Import `rows` (JSON) as the super admin through the API; returns { employee_id: password }. */
async function importViaApi(server, rows) {
  const admin = await server.login("admin", server.adminPassword);
  const preview = await server.api("POST", "/api/admin/import/preview", { token: admin.token, body: rows });
  const applied = await server.api("POST", "/api/admin/import/apply", { token: admin.token, body: { token: preview.token } });
  return Object.fromEntries(applied.initial_passwords.map(p => [p.employee_id, p.password]));
}

const testIds = (page, id) => page.$$eval(`[data-testid="${id}"]`, els => els.length);
const row = (page, username) => page.locator(`[data-testid="dir-row"][data-username="${username}"]`);

/** The content of a download started by clicking `locator`. */
async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), locator.click()]);
  return { name: d.suggestedFilename(), text: readFileSync(await d.path(), "utf8") };
}

/** The page does not scroll sideways (wide tables scroll inside their own box). */
async function assertNoPageOverflow(page, what) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width + 1, `${what}: the page is ${scroll}px wide in a ${width}px window`);
}

export default [
  {
    name: "super admin imports a CSV, toggles a module, reads, filters, exports and verifies the audit log",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      const page = await t.newPage();
      await t.login(page, "admin", server.adminPassword);

      await page.getByTestId("open-admin").click();
      for (const tab of ["directory", "import", "modules", "settings", "audit", "sessions"]) {
        await page.getByTestId(`admin-tab-${tab}`).waitFor();
      }
      // A fresh install: no departments yet, and the console says where to get them.
      await page.getByTestId("dept-empty").waitFor();

      // HR import through the UI: a file → preview with counts → apply → passwords.
      await page.getByTestId("admin-tab-import").click();
      await page.getByTestId("import-file").setInputFiles({ name: "roster.csv", mimeType: "text/csv", buffer: Buffer.from(ROSTER_CSV) });
      await page.getByTestId("import-file-chip").waitFor();
      await page.getByTestId("import-preview").click();
      await page.getByTestId("import-preview-result").waitFor({ timeout: 15_000 });
      const count = k => page.getByTestId(`count-${k}`).getAttribute("data-count");
      assert.equal(await count("new"), "3");
      assert.equal(await count("departments_new"), "3", "销售部, 销售部/华东区, 研发部");
      assert.equal(await count("deactivate"), "0", "the admin has no employee id: never deactivated by a file");
      assert.equal(await page.locator('[data-testid="import-new"] tbody tr').count(), 3);

      await page.getByTestId("import-apply").click();
      await page.getByTestId("import-done").waitFor({ timeout: 30_000 });
      const passwords = await page.$$eval('[data-testid="password-row"]', rows =>
        Object.fromEntries(rows.map(r => [r.dataset.username, r.querySelector('[data-testid="initial-password"]').textContent.trim()])),
      );
      assert.deepEqual(Object.keys(passwords).sort(), ["E001", "E002", "E003"]);
      const csv = await download(page, page.getByTestId("download-passwords"));
      assert.match(csv.name, /\.csv$/);
      assert.ok(csv.text.includes(`E002,E002,${passwords.E002}`), `the download holds the passwords:\n${csv.text}`);
      const li = await server.login("E002", passwords.E002);
      assert.equal(li.user.display_name, "李雷", "an imported person logs in with the password shown");

      // The same file again changes nothing, and the console says so.
      await page.getByTestId("import-again").click();
      await page.getByTestId("import-text").fill(ROSTER_CSV);
      await page.getByTestId("import-preview").click();
      await page.getByTestId("import-nothing").waitFor({ timeout: 15_000 });
      assert.equal(await count("unchanged"), "3");
      assert.ok(await page.getByTestId("import-apply").isDisabled());

      // The directory shows the new tree.
      await page.getByTestId("admin-tab-directory").click();
      await page.locator('[data-dept-path="销售部/华东区"]').waitFor();
      await page.locator('[data-dept-path="销售部"] [data-testid="dept-node"]').click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="dir-row"]').length === 2);

      // Modules: turn the knowledge base off.
      await page.getByTestId("admin-tab-modules").click();
      const kb = page.getByTestId("module-kb");
      assert.ok(await kb.isChecked(), "modules start on");
      const put = page.waitForResponse(r => new URL(r.url()).pathname === "/api/admin/modules" && r.request().method() === "PUT");
      await kb.click();
      assert.equal((await put).status(), 200);
      await page.waitForFunction(() => !document.querySelector('[data-testid="module-kb"]').checked);
      const modules = await server.api("GET", "/api/modules", { token: li.token });
      assert.equal(modules.kb, false, "the relay has the module off");
      assert.equal(modules.chat, true);
      // Off means hidden: the sidebar's 知识库 entry goes; the other modules stay.
      await page.getByTestId("open-kb").waitFor({ state: "detached", timeout: 10_000 });
      await page.getByTestId("open-tasks").waitFor();

      // The audit log has rows for all of it.
      await page.getByTestId("admin-tab-audit").click();
      await page.getByTestId("audit-table").waitFor({ timeout: 15_000 });
      const actions = await page.$$eval('[data-testid="audit-row"]', rows => rows.map(r => r.dataset.action));
      for (const a of ["directory.import_preview", "directory.import_apply", "user.create", "settings.modules", "auth.login"]) {
        assert.ok(actions.includes(a), `an audit row for ${a} (have ${[...new Set(actions)].join(", ")})`);
      }
      // Filter to module changes.
      await page.getByTestId("audit-action").selectOption("settings.modules");
      await page.getByTestId("audit-search").click();
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
        return rows.length === 1 && rows[0].dataset.action === "settings.modules";
      });
      // The export is the filtered log as CSV.
      const exported = await download(page, page.getByTestId("audit-export"));
      const lines = exported.text.replace(/^\uFEFF/, "").trim().split(/\r?\n/);
      assert.match(lines[0], /^id,time \(UTC\),user_id,username/);
      assert.equal(lines.length, 2, `header + one row:\n${exported.text}`);
      assert.ok(lines[1].includes("settings.modules"));
      // The chain checks out.
      await page.getByTestId("audit-verify").click();
      const verdict = page.getByTestId("audit-verify-result");
      await verdict.waitFor({ timeout: 15_000 });
      assert.equal(await verdict.getAttribute("data-ok"), "true", await verdict.textContent());

      // Back to the chat from the sidebar.
      await page.locator('[data-testid="channel-item"]').first().click();
      await page.getByTestId("composer-input").waitFor();
    },
  },
  {
    name: "department admin sees the directory and may deactivate only employees of their own department",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      const pw = await importViaApi(server, [
        { employee_id: "S1", name: "Sonia Sales-Admin", department: "Sales", position: "Head of sales", role: "dept_admin" },
        { employee_id: "S2", name: "Sam Seller", department: "Sales/East", position: "Sales rep" },
        { employee_id: "S3", name: "Sara Seller", department: "Sales", position: "Sales rep" },
        { employee_id: "E1", name: "Eli Engineer", department: "Engineering", position: "Engineer" },
      ]);
      const page = await t.newPage({ locale: "en-US" });
      await t.login(page, "S1", pw.S1);
      await page.getByTestId("open-admin").click();
      await page.getByTestId("admin-tab-directory").waitFor();
      await page.getByTestId("admin-tab-sessions").waitFor();
      for (const tab of ["import", "modules", "settings", "audit"]) {
        assert.equal(await testIds(page, `admin-tab-${tab}`), 0, `a department admin has no ${tab} tab`);
      }
      await row(page, "E1").waitFor();
      // Buttons only where the rules allow: own department's employees, not self, not other departments, not the super admin.
      const button = u => row(page, u).locator('[data-testid="deactivate-user"]').count();
      assert.equal(await button("S3"), 1, "an employee of Sales");
      assert.equal(await button("S2"), 0, "Sales/East is a department of its own");
      assert.equal(await button("S1"), 0, "not themselves");
      assert.equal(await button("E1"), 0, "not another department's employee");
      assert.equal(await button("admin"), 0, "not the super admin");

      await row(page, "S3").locator('[data-testid="deactivate-user"]').click();
      await page.getByTestId("deactivate-dialog").waitFor();
      await page.getByTestId("confirm-deactivate").click();
      await page.getByTestId("dir-notice").waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="dir-row"][data-username="S3"][data-status="deactivated"]').waitFor();
      assert.equal(await button("S3"), 0, "no button on a deactivated account");
      await assert.rejects(server.login("S3", pw.S3), /401/, "S3 can no longer log in");

      // The relay, not the hidden button, is the check: the same call for E1 is refused.
      const status = await page.evaluate(async () => {
        const me = await (await fetch("/api/directory")).json();
        const e1 = me.users.find(u => u.username === "E1");
        return (await fetch(`/api/admin/users/${e1.id}/deactivate`, { method: "POST" })).status;
      });
      assert.equal(status, 403);
      await server.login("E1", pw.E1);
    },
  },
  {
    name: "employee has only My devices, signs out other devices, and admin endpoints answer 403",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("emma", "emma-password", "Emma 陈", "employee");
      const other = await server.login("emma", "emma-password"); // another device
      const page = await t.newPage();
      await t.login(page, "emma", "emma-password");
      await page.getByTestId("sidebar").waitFor();
      assert.equal(await testIds(page, "open-admin"), 0, "no admin console button");

      await page.getByTestId("open-devices").click();
      assert.equal((await page.getByTestId("admin-title").textContent()).trim(), "我的设备");
      assert.equal(await testIds(page, "admin-tabs"), 0, "no tabs: only this page");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 2);
      assert.equal(await page.locator('[data-testid="session-row"][data-current="true"]').count(), 1);

      await page.getByTestId("logout-others").click();
      await page.getByTestId("sessions-notice").waitFor({ timeout: 15_000 });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 1);
      await assert.rejects(server.api("GET", "/api/me", { token: other.token }), /401/, "the other device is signed out");

      // Calls an admin page would make, straight from the employee's page: refused.
      const statuses = await page.evaluate(async () => {
        const put = (p, body) => fetch(p, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        return {
          modules: (await put("/api/admin/modules", { chat: false })).status,
          settings: (await put("/api/admin/settings/client", { offline_cache_expiry_days: 1 })).status,
          audit: (await fetch("/api/admin/audit")).status,
          import: (await fetch("/api/admin/import/preview", { method: "POST", body: "employee_id,name\nX1,X" })).status,
        };
      });
      assert.deepEqual(statuses, { modules: 403, settings: 403, audit: 403, import: 403 });
      const admin = await server.login("admin", server.adminPassword);
      assert.equal((await server.api("GET", "/api/modules", { token: admin.token })).chat, true, "nothing changed");
      const refused = await server.api("GET", "/api/admin/audit?action=admin.access&outcome=refused", { token: admin.token });
      assert.ok(refused.entries.length >= 4, "each refusal is on record");
    },
  },
  {
    name: "the console fits a phone: tabs wrap, tables scroll inside their box",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await importViaApi(server, [
        { employee_id: "P1", name: "欧阳娜娜", department: "市场部/品牌组", position: "品牌经理" },
        { employee_id: "P2", name: "Maximilian Alexander Featherstonehaugh", department: "Engineering/Platform/Infrastructure", position: "Principal site reliability engineer" },
      ]);
      const page = await t.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await t.login(page, "admin", server.adminPassword);
      await page.getByTestId("sidebar-toggle").click();
      await page.getByTestId("open-admin").click();
      await row(page, "P2").waitFor();
      for (const tab of ["directory", "import", "modules", "settings", "audit", "sessions"]) {
        await page.getByTestId(`admin-tab-${tab}`).click();
        await page.locator(`[data-testid="admin-panel-${tab}"]`).waitFor();
        await page.waitForTimeout(300);
        await assertNoPageOverflow(page, tab);
      }
      const tabsFit = await page.$eval('[data-testid="admin-tabs"]', el => el.scrollWidth <= el.clientWidth + 1);
      assert.ok(tabsFit, "the tab bar wraps instead of overflowing");
    },
  },
];
