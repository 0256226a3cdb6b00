// The suggestion box (意见箱, issue 8): Bob writes an anonymous suggestion while offline — it
// waits in his outbox, marked as waiting to send, and goes when he is back; Carol (English, on
// a phone) sees it without any name, files a signed one of her own and upvotes Bob's (offline);
// Alice, a super admin, sets its status and replies (offline too); Bob sees the reply. Nobody's
// page shows Bob's name on the anonymous suggestion.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

const item = (page, text) => page.getByTestId("sug-item").filter({ hasText: text });

const ANON = "会议室投影仪经常连不上，希望统一更换";
const SIGNED = "Add bike racks next to the east entrance";
const REPLY = "已联系行政部，下周更换三号会议室的投影仪。";

export default [
  {
    name: "an anonymous suggestion written offline waits, is sent, upvoted and answered, and names nobody",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      await server.addUser("dave", "dave-password-1", "Dave 刘", "employee");
      const ctxB = await t.newContext();
      const b = await ctxB.newPage();
      await t.login(b, "bob", "bob-password-1");
      const ctxC = await t.newContext({ locale: "en-US", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const c = await ctxC.newPage();
      await t.login(c, "carol", "carol-password");
      const a = await t.newPage({ locale: "en-US" });
      await t.login(a, "alice", "alice-password");
      for (const p of [a, b, c]) await connState(p, "online");

      // Bob: an empty box says what to do.
      await b.getByTestId("open-feedback").click();
      await b.getByTestId("feedback-tab-suggestions").click();
      await b.getByTestId("sug-empty").waitFor();
      await b.screenshot({ path: t.artifact("empty-zh-desktop.png") });

      // Offline, he writes an anonymous suggestion: anonymous is the default, and says what it means.
      await ctxB.setOffline(true);
      await connState(b, "offline");
      await b.getByTestId("sug-new").click();
      await b.getByTestId("sug-dialog").waitFor();
      assert.equal(await b.getByTestId("sug-anonymous").isChecked(), true, "anonymous by default");
      assert.match(await b.getByTestId("sug-anon-explain").textContent(), /超级管理员/);
      await b.getByTestId("sug-title").fill("会议室投影仪");
      await b.getByTestId("sug-body").fill(ANON);
      await b.getByTestId("sug-category").selectOption("workplace");
      await b.screenshot({ path: t.artifact("dialog-zh-desktop.png") });
      await b.getByTestId("sug-submit").click();
      const pending = b.getByTestId("sug-pending").filter({ hasText: ANON });
      await pending.waitFor();
      assert.match(await pending.textContent(), /等待发送/);
      await t.sleep(1500);
      assert.equal(await pending.count(), 1, "still waiting while offline");
      assert.equal(await item(b, ANON).count(), 0, "not filed while offline");
      await b.screenshot({ path: t.artifact("outbox-zh-desktop.png") });
      await ctxB.setOffline(false);
      await item(b, ANON).waitFor({ timeout: 30_000 });
      await pending.waitFor({ state: "detached" });
      assert.match(await item(b, ANON).getByTestId("sug-author").textContent(), /匿名/);

      // Carol, on her phone: the suggestion has no name; she files a signed one and upvotes Bob's.
      await c.getByTestId("sidebar-toggle").click();
      await c.getByTestId("open-feedback").click();
      await c.getByTestId("feedback-tab-suggestions").click();
      await item(c, ANON).waitFor({ timeout: 20_000 });
      const anonText = await item(c, ANON).textContent();
      assert.ok(!anonText.includes("Bob") && !anonText.includes("bob"), `no author on the anonymous one: ${anonText}`);
      assert.match(await item(c, ANON).getByTestId("sug-author").textContent(), /Anonymous/);
      await c.getByTestId("sug-new").click();
      await c.getByTestId("sug-anonymous").uncheck();
      assert.match(await c.getByTestId("sug-anon-explain").textContent(), /Carol 张/);
      await c.getByTestId("sug-body").fill(SIGNED);
      await t.sleep(300); // the switch's transition
      await c.screenshot({ path: t.artifact("dialog-en-phone.png") });
      await c.getByTestId("sug-submit").click();
      await item(c, SIGNED).waitFor({ timeout: 20_000 });
      assert.match(await item(c, SIGNED).getByTestId("sug-author").textContent(), /Carol 张/);
      // She upvotes offline: it counts at once on her phone and reaches the others when she is back.
      await ctxC.setOffline(true);
      await connState(c, "offline");
      await item(c, ANON).getByTestId("sug-upvote").click();
      await item(c, ANON).getByTestId("sug-votes").filter({ hasText: "1" }).waitFor();
      assert.equal(await item(c, ANON).getByTestId("sug-upvote").getAttribute("aria-pressed"), "true");
      await c.getByTestId("sug-sort").selectOption("votes");
      const first = await c.getByTestId("sug-item").first().textContent();
      assert.ok(first.includes(ANON), "most upvoted first");
      await c.screenshot({ path: t.artifact("list-en-phone.png"), fullPage: true });
      await ctxC.setOffline(false);

      // Alice, a super admin: the upvote has arrived; she sets the status and replies.
      await a.getByTestId("open-feedback").click();
      await a.getByTestId("feedback-tab-suggestions").click();
      await item(a, ANON).getByTestId("sug-votes").filter({ hasText: "1" }).waitFor({ timeout: 20_000 });
      assert.ok(!(await item(a, ANON).textContent()).includes("Bob"), "the admin sees no author either");
      // She answers offline too; it goes when she is back.
      await a.context().setOffline(true);
      await connState(a, "offline");
      await item(a, ANON).getByTestId("sug-respond").click();
      await item(a, ANON).getByTestId("sug-status-select").selectOption("review");
      await item(a, ANON).getByTestId("sug-reply-input").fill(REPLY);
      await a.screenshot({ path: t.artifact("respond-zh-desktop.png") });
      await item(a, ANON).getByTestId("sug-respond-save").click();
      await a.locator('[data-testid="sug-item"][data-status="review"]').filter({ hasText: ANON }).waitFor();
      await t.sleep(1000);
      assert.equal(await b.locator('[data-testid="sug-item"][data-status="review"]').count(), 0, "not before she is back");
      await a.context().setOffline(false);

      // Bob sees the reply and the status; an employee has no reply button.
      const answered = b.locator('[data-testid="sug-item"][data-status="review"]').filter({ hasText: ANON });
      await answered.waitFor({ timeout: 20_000 });
      assert.match(await answered.getByTestId("sug-reply").textContent(), new RegExp(REPLY));
      assert.match(await answered.getByTestId("sug-status").textContent(), /处理中/);
      assert.equal(await b.getByTestId("sug-respond").count(), 0, "employees do not reply");
      await b.getByTestId("sug-filter-review").click();
      assert.equal(await b.getByTestId("sug-item").count(), 1, "the status filter");
      await b.getByTestId("sug-filter-adopted").click();
      await b.getByTestId("sug-empty").waitFor();
      await b.getByTestId("sug-filter-all").click();
      await b.screenshot({ path: t.artifact("list-zh-desktop.png"), fullPage: true });
      await c.getByTestId("sug-reply").first().waitFor({ timeout: 20_000 });
      await c.screenshot({ path: t.artifact("replied-en-phone.png"), fullPage: true });

      // Dave, in Chinese on a phone in dark mode, sees the same box.
      const d = await t.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: "dark" });
      await t.login(d, "dave", "dave-password-1");
      await d.getByTestId("sidebar-toggle").click();
      await d.getByTestId("open-feedback").click();
      await d.getByTestId("feedback-tab-suggestions").click();
      await d.getByTestId("sug-reply").first().waitFor({ timeout: 20_000 });
      assert.ok(!(await item(d, ANON).textContent()).includes("Bob"));
      await d.screenshot({ path: t.artifact("list-zh-phone-dark.png"), fullPage: true });
      await d.getByTestId("sug-new").click();
      await d.getByTestId("sug-dialog").waitFor();
      await t.sleep(300);
      await d.screenshot({ path: t.artifact("dialog-zh-phone-dark.png") });
    },
  },
];
