// Interop: a STOCK @automerge/automerge-repo client (Node, websocket adapter) syncs through the
// Qiao relay (`qiao-server`), and the relay's access rules hold against it.
//
//   cd tests/interop && npm ci && node run.mjs        (QIAO_BIN=... to pick the server binary)
//
// Builds nothing: expects the server binary at $QIAO_BIN, default <repo>/target/debug/qiao-server
// (`cargo build -p qiao-server`). Starts it on a free loopback port with a temporary data dir,
// provisions alice and bob (employees), and checks:
//   - a JS replica's genesis of a chat segment is byte-identical to qiao_model's (so JS and Rust
//     replicas that create the same segment offline merge), and head_document is the derived id;
//   (a) alice imports a segment (genesis + her message) into the channel's head document; a fresh,
//       independent Repo as bob finds it and reads her message; bob writes under his own actor and
//       alice's live Repo receives it; a write under the stock client's random actor is REFUSED
//       (error + close 1008 mentioning "actor") and leaves the stored document intact;
//       a `constructor` key bob writes into his own message is refused (JS readers would take it
//       for prototype machinery; automerge's JS API already refuses `__proto__`);
//   (b) bob cannot read (find → unavailable) nor write a private channel's document;
//   (c) the websocket upgrade without a session, or with a bad one, is refused with 401; a foreign
//       Origin with a good session with 403.
// Every step is bounded to 15 s. The server is always killed at the end. Last line:
// "N passed, N failed"; exit code 1 on any failure.
//
// The session travels as `Authorization: Bearer <token>` through ./ws-with-session, installed in
// place of `isomorphic-ws` by package.json "overrides" (see ws-with-session/index.js): the
// automerge-repo packages themselves are used unmodified.
//
// Setting the actor: automerge-repo has no option for the actor id of a handle's document. The
// relay requires actor = user id (8 bytes BE) + 8 device bytes, so the test uses only public API:
// `handle.update(doc => Automerge.clone(doc, { actor }))` after `find`, then `handle.change`.
// `repo.import(bytes, { docId })` (2.5.x) leaves the handle un-ready (no doneLoading), so the
// seeding steps call `handle.doneLoading()` after it.

import { spawn, execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as A from "@automerge/automerge";
import { Repo, cbor, stringifyAutomergeUrl } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import SessionWebSocket from "isomorphic-ws"; // = ./ws-with-session, through the override
import RawWebSocket from "ws";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const BIN = path.resolve(ROOT, process.env.QIAO_BIN || "target/debug/qiao-server");
const STEP_MS = 15_000;
const ADMIN_PW = "interop-admin-pw-1";
const USERS = {
  alice: { password: "alicepassword1", name: "Alice 爱丽丝" },
  bob: { password: "bobpassword1", name: "Bob" },
};
// qiao_model::schema::chat::genesis(&ChannelId("cinterop0123"), 0): the hash of its one change,
// computed by the Rust model (`cargo run -p qiao-model --example genesis_hash`). If the genesis
// changes, update this constant: JS and Rust replicas must keep producing the same change.
const RUST_GENESIS_HASH = {
  channel: "cinterop0123",
  hash: "7bf6c3c9240f827d5041ab46441dcffc9128b8d52e9080fdc2518ad6739931df",
};

// ---------------------------------------------------------------- small helpers

const log = (...a) => console.log(...a);
const sleep = ms => new Promise(r => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function waitFor(what, pred, ms = STEP_MS, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    let v;
    try {
      v = await pred();
    } catch {
      v = undefined;
    }
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await withTimeout(Promise.resolve().then(fn), STEP_MS, name);
    passed++;
    log(`✓ ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    failed++;
    log(`✗ ${name}: ${e && e.message ? e.message : e}`);
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- the server

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("QIAO_")) delete env[k];
  return env;
}

class Server {
  constructor() {
    this.dataDir = mkdtempSync(path.join(tmpdir(), "qiao-interop-"));
    this.output = [];
  }
  async start() {
    if (!existsSync(BIN)) throw new Error(`no server binary at ${BIN}: run cargo build -p qiao-server or set QIAO_BIN`);
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(
      BIN,
      ["serve", "--addr", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--admin-password", ADMIN_PW],
      { stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() },
    );
    const keep = d => {
      this.output.push(...d.toString().split("\n").filter(Boolean));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.exited = new Promise(r => this.proc.once("exit", (code, sig) => r({ code, sig })));
    await waitFor("the server to answer /api/health", async () => {
      if (this.proc.exitCode !== null) throw new Error("exited");
      const r = await fetch(`${this.base}/api/health`);
      return r.ok;
    });
    if (this.proc.exitCode !== null) throw new Error(`server exited:\n${this.output.join("\n")}`);
  }
  addUser(username, password, name, role = "employee") {
    return new Promise((resolve, reject) => {
      execFile(
        BIN,
        ["user", "add", "--data-dir", this.dataDir, "--username", username, "--password", password, "--name", name, "--role", role],
        { timeout: STEP_MS, env: cleanEnv() },
        (err, stdout, stderr) => (err ? reject(new Error(`user add ${username}: ${err.message} ${stderr}`)) : resolve(stdout)),
      );
    });
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill("SIGTERM");
    const done = await Promise.race([this.exited, sleep(3000).then(() => null)]);
    if (!done) {
      this.proc.kill("SIGKILL");
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}

async function api(server, method, p, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(`${server.base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p} → ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// ---------------------------------------------------------------- automerge / repo helpers

/** 16-byte actor hex: user id as 8 bytes big-endian + 8 device bytes. */
function actorFor(userId, device = randomBytes(8)) {
  const b = Buffer.alloc(16);
  b.writeBigInt64BE(BigInt(userId), 0);
  device.copy(b, 8);
  return b.toString("hex");
}

/** qiao_model::schema::chat::genesis, in JS: all-zero actor, time 0, same ops in the same order. */
function genesis(channel, segment) {
  const doc = A.init({ actor: "00".repeat(16) });
  return A.change(doc, { time: 0 }, d => {
    d.kind = new A.ImmutableString("chat-segment");
    d.channel = new A.ImmutableString(channel);
    d.segment = segment;
    d.messages = [];
    d.reactions = {};
    d.pins = {};
  });
}

/** qiao_model::schema::chat::append, in JS (scalar strings; text as Text; one change). */
function appendMessage(d, { id, author, authorName, ts, text }) {
  d.messages.push({
    id: new A.ImmutableString(id),
    author,
    author_name: new A.ImmutableString(authorName),
    ts,
    text, // a JS string becomes an Automerge Text object
    history: [],
  });
}

/** DocumentId::derived(["chat", channel, segment]) as automerge-repo's document id string. */
function segmentDocId(channel, segment) {
  const h = createHash("sha256");
  h.update("qiao/doc/v1");
  for (const p of ["chat", channel, String(segment)]) {
    const bytes = Buffer.from(p, "utf8");
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(bytes.length));
    h.update(len);
    h.update(bytes);
  }
  const bin = new Uint8Array(h.digest().subarray(0, 16));
  return stringifyAutomergeUrl(bin).slice("automerge:".length);
}

const textOf = v => (v == null ? v : String(v));
const msgs = doc => (doc && Array.isArray(doc.messages) ? doc.messages : []).map(m => ({ ...m, id: textOf(m.id), text: textOf(m.text) }));

// Every socket opened through the shim: remember close codes/reasons and `error` frames per URL.
const closes = [];
const errorFrames = [];
SessionWebSocket.sockets.on("socket", s => {
  s.on("close", (code, reason) => closes.push({ url: s.qiaoUrl, code, reason: reason.toString() }));
  s.on("message", data => {
    try {
      const m = cbor.decode(new Uint8Array(data));
      if (m && m.type === "error") errorFrames.push({ url: s.qiaoUrl, message: m.message });
    } catch {
      /* not ours to judge */
    }
  });
});

const repos = [];
/** A fresh, in-memory, stock Repo connected to the relay as `who` (a label) with `token`. */
function newRepo(server, who, token) {
  const url = `ws://127.0.0.1:${server.port}/sync?as=${encodeURIComponent(who)}-${repos.length}`;
  SessionWebSocket.setSessionToken(url, token);
  const adapter = new WebSocketClientAdapter(url);
  const repo = new Repo({ network: [adapter] });
  const r = { repo, adapter, url, who };
  repos.push(r);
  return r;
}

/** Resolves once the relay has sent `adapter` a sync message for `docId` whose heads include all of `heads`. */
function relayAcknowledges(adapter, docId, heads) {
  return new Promise(resolve => {
    const on = m => {
      if (m.type !== "sync" || m.documentId !== docId) return;
      try {
        const s = A.decodeSyncMessage(m.data);
        if (heads.every(h => s.heads.includes(h))) {
          adapter.off("message", on);
          resolve(s.heads);
        }
      } catch {
        /* ignore */
      }
    };
    adapter.on("message", on);
  });
}

/** Resolves with the next message of `type` about `docId` the adapter receives. */
function nextMessage(adapter, type, docId) {
  return new Promise(resolve => {
    const on = m => {
      if (m.type === type && m.documentId === docId) {
        adapter.off("message", on);
        resolve(m);
      }
    };
    adapter.on("message", on);
  });
}

/** Put `bytes` into `repo` as document `docId` and mark it loaded, as a client that created it. */
function importAs(repo, bytes, docId) {
  const handle = repo.import(bytes, { docId });
  handle.doneLoading();
  return handle;
}

async function shutdownRepo(r) {
  try {
    await withTimeout(r.repo.shutdown(), 3000, `shutdown ${r.who}`);
  } catch {
    /* already gone */
  }
}

/** A raw `ws` upgrade attempt: resolves "open" or the HTTP status of the refusal. */
function tryUpgrade(url, headers) {
  return new Promise(resolve => {
    const ws = new RawWebSocket(url, { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode);
      res.resume();
      ws.terminate();
    });
    ws.on("error", e => resolve(`error: ${e.message}`));
  });
}

// ---------------------------------------------------------------- the test

const server = new Server();
process.on("exit", () => {
  if (server.proc && server.proc.exitCode === null) server.proc.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (server.proc && server.proc.exitCode === null) server.proc.kill("SIGKILL");
    process.exit(130);
  });
}
let uncaught = [];
process.on("uncaughtException", e => {
  uncaught.push(e);
  log(`! uncaught exception (counted as a failure): ${e && e.stack ? e.stack : e}`);
});

const T0 = Date.now();
const s = {}; // shared state between steps
try {
  const ok = await step("relay starts; alice and bob are provisioned and log in", async () => {
    await server.start();
    for (const [u, v] of Object.entries(USERS)) await server.addUser(u, v.password, v.name, "employee");
    s.login = {};
    for (const [u, pw] of [["admin", ADMIN_PW], ["alice", USERS.alice.password], ["bob", USERS.bob.password]]) {
      const r = await api(server, "POST", "/api/auth/login", { body: { username: u, password: pw } });
      assert(r.token && r.user && Number.isInteger(r.user.id), `login ${u} returns a token and a user id`);
      s.login[u] = r;
    }
    const chans = await api(server, "GET", "/api/channels", { token: s.login.alice.token });
    s.general = chans.find(c => !c.private);
    assert(s.general, `alice sees a public channel (got ${JSON.stringify(chans)})`);
  });
  if (!ok) throw new Error("cannot go on without a running relay");

  await step("JS genesis of a chat segment is byte-identical to qiao_model's (Rust)", () => {
    const g = genesis(RUST_GENESIS_HASH.channel, 0);
    const [h] = A.getHeads(g);
    assert(h === RUST_GENESIS_HASH.hash, `genesis hash ${h} == ${RUST_GENESIS_HASH.hash}`);
  });

  await step("head_document is DocumentId::derived([chat, channel, segment]) computed in JS", () => {
    const mine = segmentDocId(s.general.id, s.general.head_segment);
    assert(mine === s.general.head_document, `${mine} == ${s.general.head_document}`);
  });

  // ---- (a) a stock client writes, another reads; the actor rule holds.
  const docId = s.general.head_document;
  const url = `automerge:${docId}`;

  await step("(a) alice's stock Repo imports genesis + her message; the relay stores it", async () => {
    const alice = s.login.alice.user;
    let doc = genesis(s.general.id, s.general.head_segment);
    doc = A.clone(doc, { actor: actorFor(alice.id) });
    const ts = Date.now();
    s.aliceText = `你好 from alice ${randomBytes(3).toString("hex")}`;
    doc = A.change(doc, { time: Math.floor(ts / 1000) }, d =>
      appendMessage(d, { id: "interop-a1", author: alice.id, authorName: alice.display_name, ts, text: s.aliceText }),
    );
    s.alice = newRepo(server, "alice", s.login.alice.token);
    const ack = relayAcknowledges(s.alice.adapter, docId, A.getHeads(doc));
    s.aliceHandle = importAs(s.alice.repo, A.save(doc), docId);
    await ack;
  });

  await step("(a) a fresh, independent Repo as bob finds the document and reads alice's message", async () => {
    s.bob = newRepo(server, "bob", s.login.bob.token);
    const handle = await s.bob.repo.find(url, { signal: AbortSignal.timeout(STEP_MS - 1000) });
    const doc = await handle.doc();
    assert(textOf(doc.kind) === "chat-segment", `kind is chat-segment (got ${textOf(doc.kind)})`);
    assert(textOf(doc.channel) === s.general.id, "channel matches");
    const m = msgs(doc).find(m => m.id === "interop-a1");
    assert(m && m.text === s.aliceText, `alice's message text arrives (got ${JSON.stringify(msgs(doc))})`);
    assert(m.author === s.login.alice.user.id, "author is alice's user id");
    s.bobHandle = handle;
  });

  await step("(a) bob writes under his own actor (handle.update + Automerge.clone); alice's live Repo receives it", async () => {
    const bob = s.login.bob.user;
    s.bobHandle.update(d => A.clone(d, { actor: actorFor(bob.id) }));
    assert(A.getActorId(s.bobHandle.doc()).startsWith(actorFor(bob.id).slice(0, 16)), "bob's handle carries bob's actor");
    s.bobText = `hello from bob ${randomBytes(3).toString("hex")}`;
    const ts = Date.now();
    s.bobHandle.change(d => appendMessage(d, { id: "interop-b1", author: bob.id, authorName: bob.display_name, ts, text: s.bobText }), {
      time: Math.floor(ts / 1000),
    });
    await waitFor("bob's message in alice's Repo", () => msgs(s.aliceHandle.doc()).some(m => m.id === "interop-b1" && m.text === s.bobText));
    const refused = closes.filter(c => c.url === s.bob.url && c.code === 1008);
    assert(refused.length === 0, `bob's connection was not closed by the relay (${JSON.stringify(refused)})`);
  });

  await step("(a) a `constructor` key, even in bob's own message, is REFUSED (close 1008 naming it); `__proto__` the JS API will not write", async () => {
    const hostile = newRepo(server, "bob-constructor", s.login.bob.token);
    const handle = await hostile.repo.find(url, { signal: AbortSignal.timeout(STEP_MS - 4000) });
    handle.update(d => A.clone(d, { actor: actorFor(s.login.bob.user.id) }));
    const i = msgs(handle.doc()).findIndex(m => m.id === "interop-b1");
    assert(i >= 0, "bob's message is there");
    let thrown = null;
    try {
      A.change(handle.doc(), d => {
        d.messages[i]["__proto__"] = { polluted: "yes" };
      });
    } catch (e) {
      thrown = e;
    }
    assert(thrown && /__proto__/.test(String(thrown)), `automerge's JS API refuses __proto__ (got ${thrown})`);
    handle.change(d => {
      d.messages[i]["constructor"] = { prototype: { polluted: "yes" } };
    });
    const c = await waitFor("the relay to close the connection", () => closes.find(c => c.url === hostile.url && c.code === 1008));
    await shutdownRepo(hostile);
    assert(/constructor/.test(c.reason), `close reason names the key (got "${c.reason}")`);
    assert(({}).polluted === undefined, "Object.prototype is untouched");
    await sleep(200);
    const m = (s.aliceHandle.doc().messages || []).find(m => textOf(m.id) === "interop-b1");
    assert(m && !Object.prototype.hasOwnProperty.call(m, "constructor"), "alice never received the key");
  });

  await step("(a) a stock write under the client's random actor is REFUSED (error + close 1008 naming the actor)", async () => {
    const mallory = newRepo(server, "bob-random-actor", s.login.bob.token);
    s.mallory = mallory;
    const handle = await mallory.repo.find(url, { signal: AbortSignal.timeout(STEP_MS - 4000) });
    const actor = A.getActorId(handle.doc());
    assert(!actor.startsWith(actorFor(s.login.bob.user.id).slice(0, 16)), "the stock client's actor is random");
    handle.change(d =>
      appendMessage(d, { id: "interop-forged", author: s.login.alice.user.id, authorName: "Alice", ts: Date.now(), text: "forged" }),
    );
    const c = await waitFor("the relay to close the connection", () => closes.find(c => c.url === mallory.url && c.code === 1008));
    await shutdownRepo(mallory); // the stock client would reconnect and retry forever
    assert(/actor/i.test(c.reason), `close reason mentions the actor (got "${c.reason}")`);
    const e = errorFrames.find(e => e.url === mallory.url);
    assert(e && /actor .* not yours/i.test(e.message), `an error frame explains it (got ${JSON.stringify(e)})`);
    log(`    relay said: ${e.message}`);
  });

  await step("(a) a fresh reader sees alice's and bob's messages, not the refused one; every change's actor is its author's", async () => {
    const reader = newRepo(server, "alice-reader", s.login.alice.token);
    const handle = await reader.repo.find(url, { signal: AbortSignal.timeout(STEP_MS - 1000) });
    // The relay sends everything it has in answer to the request; give a late sync a moment anyway.
    await waitFor("both messages", () => msgs(handle.doc()).length >= 2);
    await sleep(300);
    const doc = handle.doc();
    const ids = msgs(doc).map(m => m.id).sort();
    assert(JSON.stringify(ids) === JSON.stringify(["interop-a1", "interop-b1"]), `messages are a1, b1 (got ${ids})`);
    assert(!msgs(s.aliceHandle.doc()).some(m => m.id === "interop-forged"), "alice never received the forged message");
    const prefixes = new Set(A.getAllChanges(doc).map(c => A.decodeChange(c).actor.slice(0, 16)));
    const expect = new Set(["0".repeat(16), actorFor(s.login.alice.user.id).slice(0, 16), actorFor(s.login.bob.user.id).slice(0, 16)]);
    assert([...prefixes].every(p => expect.has(p)), `actors are genesis/alice/bob only (got ${[...prefixes]})`);
    await shutdownRepo(reader);
  });

  // ---- (b) a private channel bob is not in.
  await step("(b) admin creates a private channel and seeds its head document", async () => {
    const admin = s.login.admin.user;
    s.priv = await api(server, "POST", "/api/channels", { token: s.login.admin.token, body: { name: "interop secret", private: true } });
    assert(s.priv.private === true && s.priv.head_document, "private channel with a head document");
    let doc = A.clone(genesis(s.priv.id, s.priv.head_segment), { actor: actorFor(admin.id) });
    const ts = Date.now();
    doc = A.change(doc, d => appendMessage(d, { id: "interop-secret", author: admin.id, authorName: "Admin", ts, text: "top secret" }));
    s.admin = newRepo(server, "admin", s.login.admin.token);
    const ack = relayAcknowledges(s.admin.adapter, s.priv.head_document, A.getHeads(doc));
    importAs(s.admin.repo, A.save(doc), s.priv.head_document);
    await ack;
  });

  await step("(b) bob's find of the private document rejects as unavailable, without the data", async () => {
    const r = newRepo(server, "bob-private", s.login.bob.token);
    const t0 = Date.now();
    let err;
    try {
      await r.repo.find(`automerge:${s.priv.head_document}`, { signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      err = e;
    }
    assert(err, "find rejected");
    assert(/unavailable/i.test(err.message), `rejection says unavailable (got "${err.message}")`);
    const h = r.repo.handles[s.priv.head_document];
    assert(!h || !h.isReady(), "bob holds no ready handle for it");
    log(`    rejected after ${Date.now() - t0} ms: ${err.message}`);
    await shutdownRepo(r);
  });

  await step("(b) bob cannot write into the private document either", async () => {
    const r = newRepo(server, "bob-private-write", s.login.bob.token);
    const bob = s.login.bob.user;
    let doc = A.clone(genesis(s.priv.id, s.priv.head_segment), { actor: actorFor(bob.id) });
    doc = A.change(doc, d => appendMessage(d, { id: "interop-intruder", author: bob.id, authorName: "Bob", ts: Date.now(), text: "let me in" }));
    const refused = nextMessage(r.adapter, "doc-unavailable", s.priv.head_document);
    importAs(r.repo, A.save(doc), s.priv.head_document);
    await refused;
    await sleep(500);
    await shutdownRepo(r);
    const reader = newRepo(server, "admin-reader", s.login.admin.token);
    const handle = await reader.repo.find(`automerge:${s.priv.head_document}`, { signal: AbortSignal.timeout(8000) });
    await sleep(300);
    const ids = msgs(handle.doc()).map(m => m.id);
    assert(JSON.stringify(ids) === JSON.stringify(["interop-secret"]), `only admin's message is there (got ${ids})`);
    await shutdownRepo(reader);
  });

  // ---- (c) the upgrade itself.
  await step("(c) websocket upgrade without a session → 401; bad token → 401; foreign Origin → 403; good → open", async () => {
    const u = `ws://127.0.0.1:${server.port}/sync`;
    const none = await tryUpgrade(u, {});
    assert(none === 401, `no token → 401 (got ${none})`);
    const bad = await tryUpgrade(u, { Authorization: "Bearer not-a-session" });
    assert(bad === 401, `bad token → 401 (got ${bad})`);
    const foreign = await tryUpgrade(u, { Authorization: `Bearer ${s.login.bob.token}`, Origin: "http://evil.example" });
    assert(foreign === 403, `foreign Origin → 403 (got ${foreign})`);
    const good = await tryUpgrade(u, { Authorization: `Bearer ${s.login.bob.token}`, Origin: `http://127.0.0.1:${server.port}` });
    assert(good === "open", `good token and same Origin → open (got ${good})`);
  });
} catch (e) {
  failed++;
  log(`✗ aborted: ${e.message}`);
} finally {
  for (const r of repos) await shutdownRepo(r);
  await server.stop();
  if (server.proc && (failed > 0 || uncaught.length > 0)) {
    log("--- last server output ---");
    log(server.output.slice(-40).join("\n"));
    log(`--- data dir kept for inspection: ${server.dataDir}`);
  } else {
    rmSync(server.dataDir, { recursive: true, force: true });
  }
  failed += uncaught.length;
  log(`total ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}
