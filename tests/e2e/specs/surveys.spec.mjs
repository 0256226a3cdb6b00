// Surveys (问卷, issue 8): a department admin builds a survey in the UI — a single choice, a
// rating and a free-text question — for their department; two colleagues answer it, one of them
// offline (the answer waits in the outbox and is sent when the connection is back); someone in
// another department does not see it; the admin's results show the right numbers and the CSV
// downloads with a byte order mark, one row per answer.
//
// People with departments come from an HR import (the CLI creates people without one).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connState } from "../lib/wait.mjs";

async function importViaApi(server, rows) {
  const admin = await server.login("admin", server.adminPassword);
  const preview = await server.api("POST", "/api/admin/import/preview", { token: admin.token, body: rows });
  const applied = await server.api("POST", "/api/admin/import/apply", { token: admin.token, body: { token: preview.token } });
  return Object.fromEntries(applied.initial_passwords.map(p => [p.employee_id, p.password]));
}

/** Open the feedback page's surveys tab (through the sidebar's toggle on a phone). */
async function openSurveys(page, { phone = false } = {}) {
  if (phone) await page.getByTestId("sidebar-toggle").click();
  await page.getByTestId("open-feedback").click();
  await page.getByTestId("feedback-tab-surveys").click();
  await page.getByTestId("surveys").waitFor();
}

const card = (page, title) => page.locator(`[data-testid="sv-card"][data-title="${title}"]`);

/** Answer the open survey form: option `choice` (0-based), `stars`, `text`. */
async function answer(page, { choice, stars, text }) {
  const form = page.getByTestId("sv-answer-form");
  await form.waitFor();
  const qs = form.getByTestId("sv-question");
  await qs.nth(0).getByTestId("sv-opt").nth(choice).check();
  await qs.nth(1).locator(`[data-testid="sv-star"][data-value="${stars}"]`).click();
  await qs.nth(2).getByTestId("sv-text").fill(text);
  await form.getByTestId("sv-submit").click();
}

const TITLE = "食堂满意度调查";

export default [
  {
    name: "a department survey: built in the UI, answered by two (one offline), results and CSV for its author",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      const pw = await importViaApi(server, [
        { employee_id: "S1", name: "王芳", department: "销售部", position: "销售总监", role: "dept_admin" },
        { employee_id: "S2", name: "李雷", department: "销售部", position: "销售" },
        { employee_id: "S3", name: "韩梅梅", department: "销售部/华东区", position: "销售" },
        { employee_id: "E1", name: "Eli Engineer", department: "研发部", position: "工程师" },
      ]);
      const a = await t.newPage();
      await t.login(a, "S1", pw.S1);
      const b = await t.newPage();
      await t.login(b, "S2", pw.S2);
      const ctxC = await t.newContext({ locale: "en-US", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const c = await ctxC.newPage();
      await t.login(c, "S3", pw.S3);
      const e = await t.newPage({ locale: "en-US" });
      await t.login(e, "E1", pw.E1);
      for (const p of [a, b, c, e]) await connState(p, "online");

      // The department admin builds the survey.
      await openSurveys(a);
      await a.getByTestId("sv-empty").waitFor();
      await a.getByTestId("sv-new").click();
      await a.getByTestId("sv-title").fill(TITLE);
      await a.getByTestId("sv-desc").fill("三道题，一分钟。");
      const q1 = a.getByTestId("sv-q").nth(0);
      await q1.getByTestId("sv-q-title").fill("午餐怎么样？");
      await q1.getByTestId("sv-q-option").nth(0).fill("好");
      await q1.getByTestId("sv-q-option").nth(1).fill("一般");
      await q1.getByTestId("sv-q-add-option").click();
      await q1.getByTestId("sv-q-option").nth(2).fill("差");
      await a.getByTestId("sv-add-rating").click();
      await a.getByTestId("sv-q").nth(1).getByTestId("sv-q-title").fill("总体评分");
      await a.getByTestId("sv-add-text").click();
      const q3 = a.getByTestId("sv-q").nth(2);
      await q3.getByTestId("sv-q-title").fill("还有什么建议？");
      await q3.getByTestId("sv-q-required").uncheck();
      await a.screenshot({ path: t.artifact("builder-zh-desktop.png"), fullPage: true });
      await a.getByTestId("sv-publish").click();
      await card(a, TITLE).waitFor();

      // The colleagues see it, not yet answered; the engineer does not.
      await openSurveys(b);
      await card(b, TITLE).getByTestId("sv-badge-todo").waitFor({ timeout: 20_000 });
      await openSurveys(c, { phone: true });
      await card(c, TITLE).getByTestId("sv-badge-todo").waitFor({ timeout: 20_000 });
      await openSurveys(e);
      await e.getByTestId("sv-empty").waitFor();
      assert.equal(await card(e, TITLE).count(), 0, "not addressed to Engineering");
      await e.screenshot({ path: t.artifact("empty-en-desktop.png") });

      // Li Lei answers online.
      await card(b, TITLE).getByTestId("sv-answer").click();
      await answer(b, { choice: 0, stars: 5, text: "希望多一些素菜" });
      await card(b, TITLE).getByTestId("sv-badge-done").waitFor({ timeout: 20_000 });
      assert.equal(await card(b, TITLE).getByTestId("sv-answer").count(), 0, "answered once");
      await b.screenshot({ path: t.artifact("list-zh-desktop.png") });

      // Han Meimei answers offline: it waits, and goes when she is back.
      await ctxC.setOffline(true);
      await connState(c, "offline");
      await card(c, TITLE).getByTestId("sv-answer").click();
      await c.getByTestId("sv-answer-form").waitFor();
      await c.screenshot({ path: t.artifact("answer-en-phone.png"), fullPage: true });
      await answer(c, { choice: 2, stars: 2, text: "排队太久" });
      await card(c, TITLE).getByTestId("sv-badge-pending").waitFor();
      await c.getByTestId("sv-notice").waitFor();
      await c.screenshot({ path: t.artifact("pending-en-phone.png"), fullPage: true });
      await t.sleep(1500);
      await card(c, TITLE).getByTestId("sv-badge-pending").waitFor({ timeout: 1000 });
      await ctxC.setOffline(false);
      await card(c, TITLE).getByTestId("sv-badge-done").waitFor({ timeout: 30_000 });
      await c.screenshot({ path: t.artifact("done-en-phone.png") });

      // The author's results.
      await card(a, TITLE).getByTestId("sv-results").click();
      await a.getByTestId("sv-summary").waitFor({ timeout: 20_000 });
      assert.equal(await a.getByTestId("sv-responses").textContent(), "2");
      assert.equal(await a.getByTestId("sv-rate").textContent(), "67%", "2 of 3 in Sales answered");
      const results = a.getByTestId("sv-result-q");
      const counts = async i => results.nth(i).getByTestId("sv-bar").evaluateAll(bs => bs.map(b => [b.dataset.label, Number(b.dataset.count)]));
      assert.deepEqual(await counts(0), [["好", 1], ["一般", 0], ["差", 1]]);
      assert.deepEqual(await counts(1), [["★ 5", 1], ["★ 4", 0], ["★ 3", 0], ["★ 2", 1], ["★ 1", 0]]);
      assert.equal(await results.nth(1).getByTestId("sv-average").textContent(), "3.5");
      assert.deepEqual((await results.nth(2).getByTestId("sv-text-answer").allTextContents()).sort(), ["希望多一些素菜", "排队太久"].sort());
      await a.screenshot({ path: t.artifact("results-zh-desktop.png"), fullPage: true });
      await a.emulateMedia({ colorScheme: "dark" });
      await a.screenshot({ path: t.artifact("results-zh-dark.png"), fullPage: true });
      await a.emulateMedia({ colorScheme: "light" });

      const [d] = await Promise.all([a.waitForEvent("download", { timeout: 15_000 }), a.getByTestId("sv-csv").click()]);
      const bytes = readFileSync(await d.path());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with a byte order mark");
      const lines = bytes.toString("utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
      assert.deepEqual(lines, [
        '"respondent","午餐怎么样？","总体评分","还有什么建议？"',
        '"李雷","好","5","希望多一些素菜"',
        '"韩梅梅","差","2","排队太久"',
      ]);

      // Someone who is neither its author nor a super admin gets no results from the relay.
      const id = await card(b, TITLE).getAttribute("data-id");
      const status = await b.evaluate(async id => (await fetch(`/api/surveys/${id}/results`)).status, id);
      assert.equal(status, 403, "results are for the author and super admins");
    },
  },
];
