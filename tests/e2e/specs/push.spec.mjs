// Web push to a closed app. Chromium here cannot reach a vendor push service (no internet), so
// the test plays that service's part, and only that: a push service on 127.0.0.1 receives what
// the relay sends, decrypts it with the device's keys (RFC 8291, in node:crypto), and hands the
// plaintext to Bob's service worker over the DevTools protocol (ServiceWorker.deliverPushMessage),
// which is what the browser does with a message from its push service.
//
// Bob's app is closed (his only tab shows a static file of the origin, so no app code runs and
// he has no connection). Alice writes to him; his service worker shows "Alice 王" with the
// message; the notification's address opens the app at that conversation.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);
// Alice sees Bob's presence: his app says "gone" on the same socket just before it closes.
const dot = (page, name, online) =>
  page.waitForSelector(`[data-testid="channel-item"][data-channel-name="${name}"] [data-online="${online}"]`, { state: "attached", timeout: 20_000 });

async function send(page, text) {
  const box = page.getByTestId("composer-input");
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]').value === "", null, { timeout: 10_000 });
}

/** A push service on loopback: resolves `next()` with each request's body and headers. */
async function pushService() {
  const queue = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", c => chunks.push(c));
    req.on("end", () => {
      const got = { path: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      const w = waiters.shift();
      if (w) w(got); else queue.push(got);
      res.writeHead(201).end();
    });
  });
  await new Promise(r => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    next: (ms = 20_000) => queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no push arrived")), ms);
      waiters.push(v => { clearTimeout(timer); resolve(v); });
    }),
    close: () => new Promise(r => server.close(r)),
  };
}

const b64u = buf => Buffer.from(buf).toString("base64url");
const hkdf = (salt, ikm, info, len) => Buffer.from(crypto.hkdfSync("sha256", ikm, salt, info, len));

/** RFC 8291 decryption of an aes128gcm body, as a browser does it. */
function decrypt(device, body) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const ecdh = device.ecdh.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from("WebPush: info\0"), device.public, asPublic]);
  const ikm = hkdf(device.auth, ecdh, info, 32);
  const cek = hkdf(salt, ikm, Buffer.from("Content-Encoding: aes128gcm\0"), 16);
  const nonce = hkdf(salt, ikm, Buffer.from("Content-Encoding: nonce\0"), 12);
  const decipher = crypto.createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  assert.equal(plain[plain.length - 1], 2, "last record delimiter");
  return plain.subarray(0, plain.length - 1).toString("utf8");
}

export default [
  {
    name: "a direct message reaches a closed app as a push notification that opens the conversation",
    timeout: 150_000,
    fn: async t => {
      const push = await pushService();
      t.defer(() => push.close());
      const server = await t.startServer({ env: { QIAO_PUSH_HOSTS: push.origin } });
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");

      // Bob logs in with notifications allowed; the service worker controls his page.
      const bctx = await t.newContext();
      await bctx.grantPermissions(["notifications"]);
      const b = await bctx.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      await b.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
          await new Promise(r => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
        }
      });
      // His device's push keys, given to the relay as the browser's PushSubscription would be.
      const device = { ecdh: crypto.createECDH("prime256v1"), auth: crypto.randomBytes(16) };
      device.public = device.ecdh.generateKeys();
      const key = await b.evaluate(() => fetch("/api/push/key").then(r => r.json()));
      assert.equal(Buffer.from(key.public_key, "base64url").length, 65, "the relay's VAPID key");
      const status = await b.evaluate(async sub => (await fetch("/api/push/subscriptions", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(sub),
      })).status, { endpoint: `${push.origin}/push/bob-phone`, keys: { p256dh: b64u(device.public), auth: b64u(device.auth) } });
      assert.equal(status, 204);

      // Alice opens a conversation with Bob and Bob closes the app: his tab shows a static
      // file of the origin (the service worker stays registered; no app code, no connection).
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-dm").click();
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "Bob 李").waitFor();
      await b.reload();
      await connState(b, "online");
      await dot(a, "Bob 李", true);
      await b.goto("/manifest.webmanifest");
      await dot(a, "Bob 李", false);

      await send(a, "合同发你了，**请今天**签字");
      const got = await push.next();
      assert.equal(got.path, "/push/bob-phone");
      assert.equal(got.headers["content-encoding"], "aes128gcm");
      assert.match(got.headers.authorization, new RegExp(`^vapid t=.+, k=${key.public_key}$`));
      const payload = JSON.parse(decrypt(device, got.body));
      assert.equal(payload.kind, "dm");
      assert.equal(payload.title, "Alice 王");
      assert.equal(payload.body, "合同发你了，请今天签字", "markdown is dropped");
      assert.match(payload.url, /^\/\?c=/);

      // The browser's part: deliver it to Bob's service worker, which shows the notification.
      const cdp = await bctx.newCDPSession(b);
      const registrations = new Promise(resolve => cdp.on("ServiceWorker.workerRegistrationUpdated", e => {
        const r = e.registrations.find(x => x.scopeURL.startsWith(server.base) && !x.isDeleted);
        if (r) resolve(r);
      }));
      await cdp.send("ServiceWorker.enable");
      const reg = await registrations;
      // Delivered again when nothing shows within 5 s: on a loaded machine the worker may still be
      // starting or updating when the first message arrives. The notification carries a tag, so a
      // second delivery replaces it rather than adding one.
      const shownNow = () => b.evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration("/");
        for (let i = 0; i < 50; i++) {
          const list = r ? await r.getNotifications() : [];
          if (list.length) return list.map(n => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }));
          await new Promise(res => setTimeout(res, 100));
        }
        return [];
      });
      let shown = [];
      for (let attempt = 0; attempt < 4 && shown.length === 0; attempt++) {
        await cdp.send("ServiceWorker.deliverPushMessage", {
          origin: new URL(server.base).origin, registrationId: reg.registrationId, data: JSON.stringify(payload),
        });
        shown = await shownNow();
      }
      assert.equal(shown.length, 1, "one notification is shown");
      assert.equal(shown[0].title, "Alice 王");
      assert.equal(shown[0].body, "合同发你了，请今天签字");
      assert.equal(shown[0].url, payload.url);

      // Opening the notification's address opens the app at the conversation with Alice.
      await b.goto(shown[0].url);
      await connState(b, "online");
      await b.waitForFunction(() => document.querySelector('[data-testid="chat-title"]')?.textContent.includes("Alice 王"), null, { timeout: 20_000 });
      await b.getByText("合同发你了").first().waitFor({ timeout: 20_000 });
      assert.equal(new URL(b.url()).search, "", "the address bar no longer carries the query");

      // With the app open, Bob is not pushed: the app tells him itself. The next message,
      // after he closes the app again, is the next push to arrive.
      await send(a, "你在线，所以不推送");
      await b.getByText("你在线，所以不推送").first().waitFor({ timeout: 20_000 });
      await dot(a, "Bob 李", true);
      await b.goto("/manifest.webmanifest");
      await dot(a, "Bob 李", false);
      await send(a, "离线后的这条会推送");
      const second = JSON.parse(decrypt(device, (await push.next()).body));
      assert.equal(second.body, "离线后的这条会推送", "the message sent while Bob's app was open was not pushed");
    },
  },
];
