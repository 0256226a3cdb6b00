// Helpdesk (报修, issue 8): the super admin names an IT agent; an employee opens a ticket with a
// screenshot attached, and a second one while offline (it waits in the outbox and is created when
// the network is back); the agent (on a phone, in English) finds it in the queue, takes it,
// answers and resolves it; the employee confirms and rates it; the super admin's figures count
// 2 opened, 1 solved (50 %), rating 5. Screens are saved as artifacts (zh and en, desktop and
// 390 px phone).

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

const PHONE = { width: 390, height: 844 };

async function openHelpdesk(page, phone = false) {
  if (phone) await page.getByTestId("sidebar-toggle").first().click();
  await page.getByTestId("open-helpdesk").click();
}

export default [
  {
    name: "a ticket through its life: opened (and one offline), assigned, answered, resolved, confirmed with a rating, counted in the figures",
    timeout: 240_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("ivy", "ivy-password-1", "Ivy 周", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");

      // The super admin names Ivy a helpdesk agent.
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await openHelpdesk(a);
      await a.getByTestId("hd-tab-agents").click();
      await a.locator('[data-testid="hd-agent-pick"] option', { hasText: "Ivy 周" }).waitFor({ state: "attached", timeout: 20_000 });
      await a.getByTestId("hd-agent-pick").selectOption({ label: "Ivy 周" });
      await a.getByTestId("hd-agent-add").click();
      await a.locator('[data-testid="hd-agent"]', { hasText: "Ivy 周" }).waitFor();

      // Bob opens a ticket with a screenshot.
      const ctxB = await t.newContext();
      const b = await ctxB.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      await openHelpdesk(b);
      await b.getByTestId("hd-empty").first().waitFor();
      assert.equal(await b.getByTestId("hd-tab-queue").count(), 0, "employees have no queue");
      await b.getByTestId("hd-new").click();
      await b.locator('[data-testid="hd-category-option"][data-category="printer"]').click();
      await b.getByTestId("hd-title").fill("三楼打印机卡纸");
      await b.getByTestId("hd-description-input").fill("今天上午开始，打印到第二页就卡纸。已经重启过。");
      await b.getByTestId("hd-new-files").setInputFiles({ name: "卡纸.png", mimeType: "image/png", buffer: Buffer.from("\x89PNG fake screenshot bytes") });
      await b.screenshot({ path: t.artifact("new-ticket-zh-desktop.png") });
      await b.getByTestId("hd-submit").click();
      await b.getByTestId("hd-dialog").waitFor({ state: "detached", timeout: 30_000 });
      const detailB = b.getByTestId("hd-detail");
      await detailB.getByTestId("hd-detail-title").filter({ hasText: "三楼打印机卡纸" }).waitFor({ timeout: 20_000 });
      await detailB.getByTestId("hd-file").filter({ hasText: "卡纸.png" }).waitFor({ timeout: 20_000 });
      await detailB.locator('[data-testid="hd-status"][data-status="new"]').waitFor();

      // A second ticket typed offline waits in the outbox, then is created.
      await ctxB.setOffline(true);
      await connState(b, "offline");
      await b.getByTestId("hd-new").click();
      await b.locator('[data-testid="hd-category-option"][data-category="network"]').click();
      await b.getByTestId("hd-title").fill("VPN 连不上");
      await b.getByTestId("hd-submit").click();
      await b.locator('[data-testid="hd-draft"][data-title="VPN 连不上"]').waitFor();
      await ctxB.setOffline(false);
      await connState(b, "online");
      await b.locator('[data-testid="hd-item"][data-title="VPN 连不上"]').waitFor({ timeout: 30_000 });
      assert.equal(await b.getByTestId("hd-draft").count(), 0, "the outbox is empty once created");

      // Ivy, on a phone in English, finds it in the queue (unassigned first), takes it, answers, resolves.
      const i = await t.newPage({ viewport: PHONE, locale: "en-US", isMobile: true, hasTouch: true });
      await t.login(i, "ivy", "ivy-password-1");
      await connState(i, "online");
      await openHelpdesk(i, true);
      await i.getByTestId("hd-tab-queue").click();
      const item = i.locator('[data-testid="hd-item"][data-title="三楼打印机卡纸"]');
      await item.waitFor({ timeout: 20_000 });
      await t.sleep(400);
      await i.screenshot({ path: t.artifact("queue-en-phone.png") });
      await item.click();
      const detailI = i.getByTestId("hd-detail");
      await detailI.getByTestId("hd-description").filter({ hasText: "已经重启过" }).waitFor({ timeout: 20_000 });
      await detailI.getByTestId("hd-assign-me").click();
      await detailI.locator('[data-testid="hd-status"][data-status="in_progress"]').waitFor();
      await detailI.getByTestId("hd-reply-input").fill("已派人过去，请稍等。Paper tray 2 is jammed.");
      await detailI.getByTestId("hd-reply-send").click();
      await detailI.getByTestId("hd-reply").filter({ hasText: "已派人过去" }).waitFor();
      await detailI.getByTestId("hd-resolve").click();
      await detailI.locator('[data-testid="hd-status"][data-status="resolved"]').waitFor();
      await i.screenshot({ path: t.artifact("ticket-agent-en-phone.png"), fullPage: true });

      // Bob sees the answer and the resolution live, confirms and rates it.
      await b.locator('[data-testid="hd-item"][data-title="三楼打印机卡纸"]').click();
      await detailB.getByTestId("hd-reply").filter({ hasText: "已派人过去" }).waitFor({ timeout: 30_000 });
      await detailB.getByTestId("hd-confirm-box").waitFor({ timeout: 30_000 });
      await detailB.locator('[data-testid="hd-rate"][data-value="5"]').click();
      await detailB.getByTestId("hd-feedback").fill("很快，谢谢！");
      await b.screenshot({ path: t.artifact("confirm-zh-desktop.png"), fullPage: true });
      await detailB.getByTestId("hd-confirm").click();
      await detailB.locator('[data-testid="hd-status"][data-status="closed"]').waitFor();
      await detailB.locator('[data-testid="hd-rated"][data-rating="5"]').waitFor();
      // The relay recorded every step with its own clock.
      for (const step of ["hd-time-response", "hd-time-resolved", "hd-time-closed"]) {
        await detailB.locator(`[data-testid="${step}"].hd-step-done`).waitFor({ timeout: 30_000 });
      }
      await b.screenshot({ path: t.artifact("closed-zh-desktop.png"), fullPage: true });
      await b.emulateMedia({ colorScheme: "dark" });
      await b.screenshot({ path: t.artifact("closed-zh-desktop-dark.png"), fullPage: true });
      await b.emulateMedia({ colorScheme: "light" });

      // The super admin's figures: 2 opened, 1 solved, rating 5.
      await a.getByTestId("hd-tab-stats").click();
      await a.getByTestId("hd-stat-opened").filter({ hasText: "2" }).waitFor({ timeout: 20_000 });
      assert.match(await a.getByTestId("hd-stat-rate").textContent(), /50%/);
      assert.match(await a.getByTestId("hd-stat-rating").textContent(), /5\.0/);
      const printer = a.locator('[data-testid="hd-chart-row"][data-category="printer"]');
      assert.equal(await printer.getAttribute("data-opened"), "1");
      assert.equal(await printer.getAttribute("data-solved"), "1");
      const network = a.locator('[data-testid="hd-chart-row"][data-category="network"]');
      assert.equal(await network.getAttribute("data-solved"), "0");
      await a.screenshot({ path: t.artifact("stats-zh-desktop.png"), fullPage: true });

      // The same figures in English on a phone, and Bob's list in English on a phone.
      const ap = await t.newPage({ viewport: PHONE, locale: "en-US", isMobile: true, hasTouch: true });
      await t.login(ap, "alice", "alice-password");
      await connState(ap, "online");
      await openHelpdesk(ap, true);
      await ap.getByTestId("hd-tab-stats").click();
      await ap.getByTestId("hd-stat-opened").filter({ hasText: "2" }).waitFor({ timeout: 20_000 });
      await t.sleep(400);
      await ap.screenshot({ path: t.artifact("stats-en-phone.png"), fullPage: true });
      await ap.getByTestId("hd-tab-queue").click();
      await ap.locator('[data-testid="hd-item"][data-title="VPN 连不上"]').click();
      await ap.getByTestId("hd-detail").waitFor();
      await ap.screenshot({ path: t.artifact("ticket-new-en-phone.png"), fullPage: true });
      const bp = await t.newPage({ viewport: PHONE, isMobile: true, hasTouch: true });
      await t.login(bp, "bob", "bob-password-1");
      await connState(bp, "online");
      await openHelpdesk(bp, true);
      await bp.locator('[data-testid="hd-item"][data-title="三楼打印机卡纸"][data-status="closed"]').waitFor({ timeout: 20_000 });
      await t.sleep(400);
      await bp.screenshot({ path: t.artifact("mine-zh-phone.png"), fullPage: true });
      // The agent's view of the closed ticket in English on a desktop.
      const id = await t.newPage({ locale: "en-US" });
      await t.login(id, "ivy", "ivy-password-1");
      await connState(id, "online");
      await openHelpdesk(id);
      await id.getByTestId("hd-tab-queue").click();
      await id.locator('[data-testid="hd-item"][data-title="三楼打印机卡纸"][data-status="closed"]').click();
      await id.locator('[data-testid="hd-detail"] [data-testid="hd-rated"][data-rating="5"]').waitFor({ timeout: 20_000 });
      await id.screenshot({ path: t.artifact("ticket-closed-en-desktop.png"), fullPage: true });
    },
  },
];
