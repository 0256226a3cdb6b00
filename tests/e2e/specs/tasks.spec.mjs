// Tasks (issue 6): a project's board in the browser. Create a project and tasks, assign, move
// across columns by drag and drop and by keyboard, comment, set a reminder and see it fire on
// the assignee's screen, attach a file only members can download; a non-member cannot read the project; a chat message becomes a task; two members moving the same
// card while offline end with one identical board.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

// The board as data: column id → card titles, in order.
const boardOf = page =>
  page.$$eval('[data-testid="board-column"]', cols =>
    Object.fromEntries(cols.map(c => [c.dataset.columnId, [...c.querySelectorAll('[data-testid="task-card"]')].map(e => e.dataset.title)])));

async function waitForBoard(page, pred, what, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let b = {};
  while (Date.now() < deadline) {
    b = await boardOf(page);
    if (pred(b)) return b;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}; the board is ${JSON.stringify(b)}`);
}

const column = (page, id) => page.locator(`[data-testid="board-column"][data-column-id="${id}"]`);
const card = (page, title) => page.locator('[data-testid="task-card"]', { hasText: title });

// The moved card keeps the keyboard focus (the app puts it back on the re-rendered card).
const focusedOn = (page, title) =>
  page.waitForFunction(t => document.activeElement?.dataset?.title === t, title, { polling: 50, timeout: 10_000 });

async function openProject(page, name) {
  await page.getByTestId("open-tasks").click();
  const item = page.locator('[data-testid="project-item"]', { hasText: name });
  await item.waitFor({ timeout: 20_000 });
  await item.click();
  await page.getByTestId("board").waitFor();
}

async function quickAdd(page, columnId, titles) {
  await column(page, columnId).getByTestId("quick-add").click();
  const input = column(page, columnId).getByTestId("quick-add-input");
  for (const t of titles) {
    await input.fill(t);
    await input.press("Enter");
    await card(page, t).waitFor({ timeout: 10_000 });
  }
  await input.press("Escape");
}

async function createProject(page, name, members) {
  await page.getByTestId("open-tasks").click();
  await page.getByTestId("new-project").click();
  const dialog = page.getByTestId("project-dialog");
  await dialog.getByTestId("project-name").fill(name);
  for (const m of members) await dialog.locator(`[data-testid="project-person"][data-username="${m}"] input`).check();
  await dialog.getByTestId("project-create").click();
  await dialog.waitFor({ state: "detached", timeout: 10_000 });
  await page.getByTestId("board").waitFor();
}

// The app is not writing to IndexedDB right now (polled on a timer: background tabs have no rAF).
const saved = page =>
  page.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 20_000 });

export default [
  {
    name: "a project's board: create, assign, drag and keyboard moves, comment, history, a reminder fires; outsiders see nothing",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      const c = await t.newPage();
      await t.login(c, "carol", "carol-password");
      await connState(c, "online");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");

      await a.getByTestId("open-tasks").click();
      await a.getByTestId("tasks-empty").waitFor();
      await createProject(a, "发布 2.0", ["bob"]);
      assert.deepEqual(Object.keys(await boardOf(a)), ["todo", "doing", "done"]);
      await quickAdd(a, "todo", ["写发布说明", "准备演示", "更新官网"]);

      // Assign bob and comment, in the task panel.
      await card(a, "写发布说明").click();
      const panel = a.getByTestId("task-panel");
      await panel.waitFor();
      await panel.getByTestId("task-assign").locator("option", { hasText: "Bob 李" }).waitFor({ state: "attached", timeout: 20_000 });
      await panel.getByTestId("task-assign").selectOption({ label: "Bob 李" });
      await panel.getByTestId("assignee-chip").filter({ hasText: "Bob 李" }).waitFor();
      await panel.getByTestId("task-comment-input").fill("今天下班前给初稿");
      await panel.getByTestId("task-comment-input").press("Enter");
      await panel.locator('[data-testid="task-comment"]', { hasText: "今天下班前给初稿" }).waitFor();
      await panel.getByTestId("task-close").click();

      // Drag and drop to 进行中; then by keyboard: right, right, back left, and up within the column.
      await card(a, "写发布说明").dragTo(column(a, "doing").locator(".board-cards"));
      await waitForBoard(a, bd => bd.doing.includes("写发布说明"), "the dragged card in 进行中");
      await card(a, "准备演示").focus();
      await a.keyboard.press("Shift+ArrowRight");
      await waitForBoard(a, bd => bd.doing.includes("准备演示"), "the card one column right");
      await focusedOn(a, "准备演示");
      await a.keyboard.press("Shift+ArrowRight");
      await waitForBoard(a, bd => bd.done.includes("准备演示"), "the card in 已完成");
      await focusedOn(a, "准备演示");
      await a.keyboard.press("Shift+ArrowLeft");
      await waitForBoard(a, bd => bd.doing.includes("准备演示"), "the card back in 进行中");
      await focusedOn(a, "准备演示");
      await a.keyboard.press("Shift+ArrowUp");
      await waitForBoard(a, bd => bd.doing[0] === "准备演示", "the card moved up");

      // Bob (a member) sees the same board, and the comment.
      await openProject(b, "发布 2.0");
      const want = { todo: ["更新官网"], doing: ["准备演示", "写发布说明"], done: [] };
      await waitForBoard(b, bd => JSON.stringify(bd) === JSON.stringify(want), "bob's board to match alice's");
      assert.deepEqual(await boardOf(a), want);

      // A reminder alice sets on bob's task fires on bob's screen (it is due already).
      await card(a, "写发布说明").click();
      await panel.getByTestId("task-remind").selectOption("custom");
      const d = new Date(Date.now() - 60_000);
      const pad = n => String(n).padStart(2, "0");
      const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      await panel.getByTestId("task-remind-at").fill(local);
      await panel.getByTestId("task-remind-at").dispatchEvent("change");
      const reminder = b.locator('[data-testid="task-reminder"]', { hasText: "写发布说明" });
      await reminder.waitFor({ timeout: 30_000 });
      assert.equal(await a.getByTestId("task-reminder").count(), 0, "alice is not the assignee");
      await reminder.locator(".toast-text").click();
      await b.getByTestId("task-panel").getByTestId("task-title").waitFor();
      assert.equal(await b.getByTestId("task-panel").getByTestId("task-title").inputValue(), "写发布说明");

      // History: created, assigned, moved, the comment — each with who did it.
      await panel.getByTestId("task-history-toggle").click();
      const history = panel.getByTestId("task-history");
      await history.locator('[data-field="column"]').first().waitFor();
      const fields = await history.locator("li").evaluateAll(els => els.map(e => e.dataset.field));
      for (const f of ["created", "assignees", "column", "comment", "remind_at"]) assert.ok(fields.includes(f), `history has ${f}: ${fields}`);
      assert.match(await history.locator('[data-field="assignees"]').first().textContent(), /Alice 王.*Bob 李/);

      // Carol is not a member: the project is not listed and its members are refused.
      await c.getByTestId("open-tasks").click();
      await c.getByTestId("tasks-empty").waitFor();
      assert.equal(await c.getByTestId("project-item").count(), 0);
      const projects = await a.evaluate(() => fetch("/api/projects").then(r => r.json()));
      const status = await c.evaluate(id => fetch(`/api/projects/${id}/members`).then(r => r.status), projects[0].id);
      assert.equal(status, 404);

      // Attachments: Alice attaches a file (a progress bar while it goes); Bob, a member, sees
      // it in his open panel and downloads it whole; Carol, not a member, is refused it.
      const bytes = Buffer.from("发布说明初稿 v1 — release notes draft\n".repeat(40_000));
      await panel.getByTestId("task-file-input").setInputFiles({ name: "初稿.txt", mimeType: "text/plain", buffer: bytes });
      const fileRow = panel.locator('[data-testid="task-file"]', { hasText: "初稿.txt" });
      await fileRow.waitFor({ timeout: 30_000 });
      assert.equal(await panel.getByTestId("task-file-sending").count(), 0, "the progress bar goes once the file is stored");
      const fileId = await fileRow.getAttribute("data-file-id");
      await b.getByTestId("task-panel").locator('[data-testid="task-file"]', { hasText: "初稿.txt" }).waitFor({ timeout: 20_000 });
      const got = await b.evaluate(async id => {
        const r = await fetch(`/api/files/${id}`);
        return [r.status, (await r.arrayBuffer()).byteLength];
      }, fileId);
      assert.deepEqual(got, [200, bytes.length]);
      assert.equal(await c.evaluate(id => fetch(`/api/files/${id}`).then(r => r.status), fileId), 404);

      // Alice adds Carol in the members dialog; Carol's rail then lists the project.
      await a.getByTestId("project-members").click();
      const md = a.getByTestId("project-members-dialog");
      await md.getByTestId("project-member-find").fill("carol");
      await md.locator('[data-testid="project-member-add"][data-username="carol"]').click();
      await md.locator('[data-testid="project-member"][data-username="carol"]').waitFor({ timeout: 10_000 });
      await md.getByTestId("project-members-close").click();
      await c.getByTestId("channel-item").first().click();
      await c.getByTestId("open-tasks").click();
      await c.locator('[data-testid="project-item"]', { hasText: "发布 2.0" }).waitFor({ timeout: 20_000 });

      // A chat message becomes a task (转为任务) that links back to it.
      await a.getByTestId("channel-item").first().click();
      const box = a.getByTestId("composer-input");
      await box.fill("请整理上周的客户反馈");
      await box.press("Enter");
      const msg = a.locator('[data-testid="message"]', { hasText: "请整理上周的客户反馈" });
      await msg.waitFor({ timeout: 10_000 });
      await msg.hover();
      await msg.getByTestId("make-task").click();
      const dialog = a.getByTestId("make-task-dialog");
      assert.equal(await dialog.getByTestId("make-task-title").inputValue(), "请整理上周的客户反馈");
      await dialog.getByTestId("make-task-create").click();
      await a.getByTestId("task-panel").getByTestId("task-link").waitFor({ timeout: 10_000 });
      await waitForBoard(a, bd => bd.todo.includes("请整理上周的客户反馈"), "the new task in 待办");
      await a.getByTestId("task-panel").getByTestId("task-link").click();
      await msg.waitFor({ timeout: 10_000 });
    },
  },
  {
    name: "the same card moved to different columns on two offline devices ends in one column on both",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const ctxB = await t.newContext();
      const b = await ctxB.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      const ctxA = await t.newContext();
      const a = await ctxA.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await createProject(a, "季度计划", ["bob"]);
      await quickAdd(a, "todo", ["客户回访", "预算表"]);
      await openProject(b, "季度计划");
      await waitForBoard(b, bd => bd.todo.length === 2, "bob to have both cards");

      await ctxA.setOffline(true);
      await ctxB.setOffline(true);
      await connState(a, "offline");
      await connState(b, "offline");
      // Alice: 客户回访 → 进行中; Bob: 客户回访 → 已完成, 预算表 → 进行中; each adds a card.
      await card(a, "客户回访").focus();
      await a.keyboard.press("Shift+ArrowRight");
      await waitForBoard(a, bd => bd.doing.includes("客户回访"), "alice's offline move");
      await card(b, "客户回访").focus();
      await b.keyboard.press("Shift+ArrowRight");
      await waitForBoard(b, bd => bd.doing.includes("客户回访"), "bob's first offline move");
      await focusedOn(b, "客户回访");
      await b.keyboard.press("Shift+ArrowRight");
      await waitForBoard(b, bd => bd.done.includes("客户回访"), "bob's offline move");
      await card(b, "预算表").dragTo(column(b, "doing").locator(".board-cards"));
      await waitForBoard(b, bd => bd.doing.includes("预算表"), "bob's offline drag");
      await quickAdd(a, "todo", ["离线新增 A"]);
      await quickAdd(b, "done", ["离线新增 B"]);
      await saved(a);
      await saved(b);

      await ctxA.setOffline(false);
      await ctxB.setOffline(false);
      const settled = bd => {
        const all = Object.values(bd).flat();
        return all.length === 4 && ["客户回访", "预算表", "离线新增 A", "离线新增 B"].every(x => all.filter(y => y === x).length === 1);
      };
      const deadline = Date.now() + 30_000;
      let fa = {};
      let fb = {};
      while (Date.now() < deadline) {
        fa = await boardOf(a);
        fb = await boardOf(b);
        if (settled(fa) && JSON.stringify(fa) === JSON.stringify(fb)) break;
        await a.waitForTimeout(100);
      }
      assert.deepEqual(fa, fb, "both devices show the same board");
      assert.ok(settled(fa), `every card once: ${JSON.stringify(fa)}`);
      assert.ok(fa.doing.includes("客户回访") || fa.done.includes("客户回访"), `the contested card is in one of the two columns: ${JSON.stringify(fa)}`);
      assert.ok(fa.doing.includes("预算表"));
    },
  },
];
