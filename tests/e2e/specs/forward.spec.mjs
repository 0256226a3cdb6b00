// Forwarding: a message and its file forwarded from a group to a direct message; the recipient,
// who is not in the group, sees where it came from and can open the file.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

export default [
  {
    name: "forward a message and its file from a group to someone outside it",
    timeout: 150_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      await server.addUser("carol", "carol-password", "Carol 张", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      // Bob's group with Alice; he shares a note and a file.
      await b.getByTestId("new-channel").first().click();
      await b.getByTestId("new-group").click();
      await b.getByTestId("channel-name").fill("项目组");
      await b.locator('[data-testid="person"][data-username="alice"]').click();
      await b.getByTestId("channel-create").click();
      await item(b, "项目组").waitFor();
      await send(b, "方案终稿见附件");
      const bytes = randomBytes(150_000);
      await b.getByTestId("file-input").setInputFiles({ name: "方案终稿.docx", mimeType: "application/octet-stream", buffer: bytes });
      await b.locator('[data-testid="attachment-file"]', { hasText: "方案终稿.docx" }).waitFor({ timeout: 30_000 });

      // Alice opens a DM with Carol, then forwards both messages from the group to it.
      await a.reload();
      await connState(a, "online");
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-dm").click();
      await a.locator('[data-testid="person"][data-username="carol"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "Carol 张").waitFor();
      await item(a, "项目组").click();
      for (const needle of ["方案终稿见附件", "方案终稿.docx"]) {
        const msg = a.locator('[data-testid="message"]', { hasText: needle });
        await msg.waitFor({ timeout: 20_000 });
        await msg.hover();
        await msg.getByTestId("forward").click();
        await a.getByTestId("forward-dialog").waitFor();
        await a.getByTestId("forward-filter").fill("Carol");
        await a.locator('[data-testid="forward-target"][data-channel-name="Carol 张"]').click();
        await a.getByTestId("forward-dialog").waitFor({ state: "detached", timeout: 20_000 });
      }

      // Carol, not in the group, sees both with their origin and downloads the file.
      const c = await t.newPage();
      await t.login(c, "carol", "carol-password");
      await connState(c, "online");
      await item(c, "Alice 王").click();
      const text = c.locator('[data-testid="message"]', { hasText: "方案终稿见附件" });
      await text.waitFor({ timeout: 20_000 });
      assert.match(await text.getByTestId("forwarded-from").textContent(), /Bob 李 · 项目组/);
      const card = c.locator('[data-testid="attachment-file"]', { hasText: "方案终稿.docx" });
      await card.waitFor({ timeout: 20_000 });
      const href = await card.getByTestId("attachment-download").getAttribute("href");
      const got = await c.evaluate(async href => {
        const r = await fetch(href, { credentials: "same-origin" });
        const d = await crypto.subtle.digest("SHA-256", await r.arrayBuffer());
        return { status: r.status, sha: Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join("") };
      }, href);
      assert.equal(got.status, 200);
      assert.equal(got.sha, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(await item(c, "项目组").count(), 0, "Carol is still not in the group");
    },
  },
];
