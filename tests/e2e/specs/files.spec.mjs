// Files in chat: a file queued offline goes when the network returns; an upload cut off by a
// reload resumes where it stopped (only the chunk in flight is sent again); the other person sees the file
// card and downloads exactly the bytes; an image shows as a preview.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { png } from "../lib/fixtures.mjs";
import { connState } from "../lib/wait.mjs";

const PNG = png(64, 48);

async function downloadSha(page, href) {
  return page.evaluate(async href => {
    const r = await fetch(href, { credentials: "same-origin" });
    const buf = await r.arrayBuffer();
    const d = await crypto.subtle.digest("SHA-256", buf);
    return { status: r.status, disposition: r.headers.get("content-disposition"), sha: Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join("") };
  }, href);
}

export default [
  {
    name: "files: queued offline, resumed after a reload, downloaded by a colleague; images preview",
    timeout: 180_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");

      // 1. Chosen while offline: it waits in the outbox, then goes when the network returns.
      const small = randomBytes(300_000);
      await a.context().setOffline(true);
      await connState(a, "offline");
      await a.getByTestId("file-input").setInputFiles({ name: "季度报告.pdf", mimeType: "application/pdf", buffer: small });
      await a.waitForSelector('[data-testid="upload-row"][data-name="季度报告.pdf"][data-state="waiting"]', { timeout: 10_000 });
      await a.context().setOffline(false);
      const card = b.locator('[data-testid="attachment-file"]', { hasText: "季度报告.pdf" });
      await card.waitFor({ timeout: 30_000 });
      await a.waitForSelector('[data-testid="upload-row"]', { state: "detached", timeout: 10_000 });
      const href = await card.getByTestId("attachment-download").getAttribute("href");
      const got = await downloadSha(b, href);
      assert.equal(got.status, 200);
      assert.match(got.disposition, /^attachment/);
      assert.equal(got.sha, createHash("sha256").update(small).digest("hex"), "Bob downloads exactly the bytes");

      // 2. A 20 MB file, slowed so that a reload lands in the middle: it resumes, no chunk twice.
      const big = randomBytes(20 * 1024 * 1024);
      const puts = [];
      await a.route("**/api/uploads/*?offset=*", async route => {
        puts.push(new URL(route.request().url()).searchParams.get("offset"));
        await new Promise(r => setTimeout(r, 400));
        await route.continue();
      });
      await a.getByTestId("file-input").setInputFiles({ name: "design.zip", mimeType: "application/zip", buffer: big });
      await a.waitForSelector('[data-testid="upload-row"][data-name="design.zip"][data-state="sending"]', { timeout: 20_000 });
      await a.waitForFunction(() => {
        const bar = document.querySelector('[data-testid="upload-row"][data-name="design.zip"] [role="progressbar"]');
        return bar && Number(bar.getAttribute("aria-valuenow")) > 0;
      }, null, { timeout: 20_000 });
      await a.reload();
      await connState(a, "online");
      const bigCard = b.locator('[data-testid="attachment-file"]', { hasText: "design.zip" });
      await bigCard.waitFor({ timeout: 60_000 });
      // Resumed, not restarted: offset 0 went once; only the chunk the reload cut off may repeat.
      const chunks = Math.ceil(big.length / (4 * 1024 * 1024));
      assert.equal(puts.filter(o => o === "0").length, 1, `offsets sent: ${puts.join(",")}`);
      assert.ok(puts.length >= chunks && puts.length <= chunks + 1, `offsets sent: ${puts.join(",")}`);
      assert.deepEqual([...new Set(puts)].map(Number), [...Array(chunks).keys()].map(i => i * 4 * 1024 * 1024));
      const bigGot = await downloadSha(b, await bigCard.getByTestId("attachment-download").getAttribute("href"));
      assert.equal(bigGot.sha, createHash("sha256").update(big).digest("hex"));
      await a.unroute("**/api/uploads/*?offset=*");

      // 3. An image: Bob sees a preview that loaded.
      await a.getByTestId("file-input").setInputFiles({ name: "whiteboard.png", mimeType: "image/png", buffer: PNG });
      const img = b.locator('[data-testid="attachment-image"] img');
      await img.waitFor({ timeout: 30_000 });
      await b.waitForFunction(() => {
        const i = document.querySelector('[data-testid="attachment-image"] img');
        return i && i.complete && i.naturalWidth > 0;
      }, null, { timeout: 20_000 });
    },
  },
];
