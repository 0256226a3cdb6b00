// Quick polls in a conversation (投票): one person starts a poll from the composer, three vote —
// one of them offline — and every screen shows the same counts once they are back; a single
// choice moves rather than adds; the author closes the poll and no one can vote after.

import assert from "node:assert/strict";
import { connState, serviceWorkerReady, until } from "../lib/wait.mjs";

const poll = page => page.locator('[data-testid="message"]', { has: page.getByTestId("poll") }).first();
const option = (page, label) => poll(page).locator('[data-testid="poll-option"]', { hasText: label });

async function counts(page) {
  return poll(page).locator('[data-testid="poll-option"]').evaluateAll(els => els.map(e => Number(e.dataset.count)));
}

export default [
  {
    name: "a poll in a conversation: votes from three people, one offline, counted once each; closed by its author",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice", "employee");
      await server.addUser("bob", "bob-password-1", "Bob", "employee");
      await server.addUser("carol", "carol-password", "Carol", "employee");
      // Carol is on a phone.
      const [a, b, c] = [await t.newPage(), await t.newPage(), await t.newPage({ viewport: { width: 390, height: 844 } })];
      await t.login(a, "alice", "alice-password");
      await t.login(b, "bob", "bob-password-1");
      await t.login(c, "carol", "carol-password");
      await connState(a, "online");

      // Alice starts a single-choice poll; an empty option is dropped, a duplicate is refused.
      await a.getByTestId("poll-open").click();
      const dialog = a.getByTestId("poll-dialog");
      await dialog.getByTestId("poll-question").fill("周五团建去哪里？");
      await dialog.getByTestId("poll-option-input").nth(0).fill("爬山");
      await dialog.getByTestId("poll-option-input").nth(1).fill("爬山");
      await dialog.getByTestId("poll-create").click();
      await dialog.locator('[role="alert"]').waitFor();
      await dialog.getByTestId("poll-option-input").nth(1).fill("密室逃脱");
      await dialog.getByTestId("poll-add-option").click();
      await dialog.getByTestId("poll-option-input").nth(2).fill("聚餐");
      await dialog.getByTestId("poll-add-option").click();
      await dialog.getByTestId("poll-create").click();
      await dialog.waitFor({ state: "detached" });
      await poll(a).waitFor({ timeout: 20_000 });
      assert.deepEqual(await poll(a).locator(".poll-label").allTextContents(), ["爬山", "密室逃脱", "聚餐"]);

      // Bob votes, then changes his mind: a single choice moves.
      await option(b, "爬山").waitFor({ timeout: 20_000 });
      await option(b, "爬山").click();
      await until(b, "bob's first vote", async () => JSON.stringify(await counts(b)) === "[1,0,0]" || (await counts(b)), 30_000);
      await option(b, "聚餐").click();
      await until(b, "bob's vote moved", async () => JSON.stringify(await counts(b)) === "[0,0,1]" || (await counts(b)), 30_000);

      // Carol votes offline; Alice votes online meanwhile.
      await serviceWorkerReady(c);
      await option(c, "聚餐").waitFor({ timeout: 20_000 });
      await c.context().setOffline(true);
      await connState(c, "offline");
      await option(c, "密室逃脱").click();
      await option(a, "聚餐").click();
      await until(a, "two votes at alice", async () => JSON.stringify(await counts(a)) === "[0,0,2]" || (await counts(a)), 30_000);
      await c.context().setOffline(false);
      for (const page of [a, b, c]) {
        await until(page, "every vote everywhere", async () => JSON.stringify(await counts(page)) === "[0,1,2]" || (await counts(page)), 30_000);
        assert.equal(await poll(page).getByTestId("poll").getAttribute("data-voters"), "3");
      }
      assert.equal(await option(c, "密室逃脱").getAttribute("aria-pressed"), "true", "carol sees her own choice marked");

      // Only the author may close it; once closed nobody votes.
      assert.equal(await poll(b).getByTestId("poll-close").count(), 0);
      await poll(a).getByTestId("poll-close").click();
      for (const page of [a, b]) {
        await until(page, "closed", async () => (await poll(page).getByTestId("poll").getAttribute("data-closed")) === "true", 30_000);
      }
      assert.ok(await option(b, "爬山").isDisabled(), "a closed poll's options cannot be clicked");
      if (process.env.QIAO_SHOTS) {
        await a.screenshot({ path: `${process.env.QIAO_SHOTS}/poll-closed.png` });
        await c.screenshot({ path: `${process.env.QIAO_SHOTS}/poll-voter.png` });
        await a.getByTestId("poll-open").click();
        await a.waitForTimeout(600);
        await a.screenshot({ path: `${process.env.QIAO_SHOTS}/poll-dialog.png` });
      }
    },
  },
];
