// Smoke: the relay starts from the harness, answers /api/health, serves the built app at "/",
// and Chromium opens it. Needs <repo>/dist (scripts/build-app.sh) or QIAO_E2E_DIST_DIR.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";

function requireDist(server) {
  const index = path.join(server.distDir || "", "index.html");
  if (!server.distDir || !existsSync(index)) {
    throw new Error(`${index} is missing: run scripts/build-app.sh first (or set QIAO_E2E_DIST_DIR)`);
  }
}

export default [
  {
    name: "server starts and /api/health is ok",
    fn: async t => {
      const server = await t.startServer();
      const r = await fetch(server.url("/api/health"));
      assert.equal(r.status, 200);
      assert.equal((await r.text()).trim(), "ok");
      const admin = await server.login("admin", server.adminPassword);
      assert.equal(admin.user.username, "admin", "the first start created the admin");
    },
  },
  {
    name: "/ serves the app's HTML with a <title>",
    fn: async t => {
      const server = await t.startServer();
      requireDist(server);
      const r = await fetch(server.url("/"));
      assert.equal(r.status, 200, `GET / → ${r.status}`);
      assert.match(r.headers.get("content-type") || "", /text\/html/);
      const html = await r.text();
      assert.match(html, /<title>[^<]+<\/title>/i, "index.html has a non-empty <title>");
      // An app route that is not a file gets the shell too (reload on a deep link).
      const deep = await fetch(server.url("/channels/some-channel"));
      assert.equal(deep.status, 200);
      assert.match(await deep.text(), /<title>/i);
    },
  },
  {
    name: "Chromium opens the app shell",
    fn: async t => {
      const server = await t.startServer();
      requireDist(server);
      const page = await t.newPage();
      const res = await page.goto("/", { waitUntil: "load" });
      assert.equal(res.status(), 200);
      const title = await page.title();
      assert.ok(title.trim().length > 0, "the page has a title");
      t.log(`title: ${title}`);
    },
  },
  {
    name: "server comes back after kill -9 with its data",
    fn: async t => {
      const server = await t.startServer({ distDir: null });
      await server.addUser("bob", "bobpassword1", "Bob", "employee");
      const port = server.port;
      await server.kill();
      assert.equal(server.running, false);
      await assert.rejects(fetch(server.url("/api/health")), "nothing answers while it is down");
      await server.start();
      assert.equal(server.port, port, "same port after restart");
      const bob = await server.login("bob", "bobpassword1");
      const channels = await server.api("GET", "/api/channels", { token: bob.token });
      assert.ok(channels.some(c => !c.private), "the General channel survived");
      await server.restart(); // graceful this time
      await server.login("bob", "bobpassword1");
    },
  },
];
