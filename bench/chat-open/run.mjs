// The chat-open benchmark (issue 4: "open a channel with 10,000 messages from IndexedDB: time
// until the latest 50 are rendered"), run by scripts/bench-chat-open.sh. It starts everything it
// needs on 127.0.0.1 and stops it again:
//
//   1. a qiao-server (release) on a free port and a temporary data dir, serving the app build
//      it is given; four writers (the first an admin, who creates the channels) and a reader;
//   2. `qiao-bench chat-open seed`: a long channel of 10,000 messages (50 segments) and a fresh
//      one of 50, written through the relay by the four writers over their own websockets, one
//      change per message or reaction (bench/src/chat_open/);
//   3. Debian's Chromium (playwright-core from tests/e2e), logged in as the reader. Every figure
//      is timed inside the page with performance.now(), a MutationObserver (the newest 50
//      messages' ids all in the message list) and requestAnimationFrame ("painted": the next
//      frame after that), never with Playwright round trips. For each channel:
//      - cold: a fresh profile (IndexedDB empty); the channel is clicked the moment the sidebar
//        lists it; until its newest 50 messages are painted. The data come from the relay;
//      - warm, online: reload with 综合 General selected, click the channel; from IndexedDB
//        (the relay is there too);
//      - warm, offline: the same with the websocket refused (Playwright's routeWebSocket closes
//        it), so everything comes from IndexedDB;
//      - from navigation: reload with the channel itself selected, online and offline; the time
//        from navigation start, beside the time the app's sidebar first showed;
//      - re-open in memory: General, then the channel again, in the same page;
//      - the app's own marks (`qiao:chat-open` when the view starts, `qiao:chat-segments-open`
//        when its newest segments are loaded) split the offline click;
//      and, in the same page, the peer: the newest 50 messages read with a reverse cursor from
//      an IndexedDB store holding all 10,000 as plain objects, built as raw DOM with the app's
//      own classes (avatar, author, time, quote, text, reactions) into the message list's
//      place, and one frame.
//   4. one Markdown table on stdout (medians with [min–max] over the reps); progress on stderr.
//      --profile adds a CPU profile of an offline click on the long channel (after the
//      measurements) and says where the time went.
//
// Options (scripts/bench-chat-open.sh passes the paths): --server-bin, --bench-bin, --dist,
// --build (a label for the app build), --messages 10000, --fresh 50, --reps 5,
// --budget-secs 1200, --profile (to --profile-dir, default target/bench-chat-open/), --keep.

import { launchBrowser, newUserContext, loginViaApi } from "../../tests/e2e/lib/browser.mjs";
import { QiaoServer, REPO_ROOT } from "../../tests/e2e/lib/server.mjs";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// --- options ------------------------------------------------------------------------------------

const opt = {
  serverBin: path.join(REPO_ROOT, "target/release/qiao-server"),
  benchBin: path.join(REPO_ROOT, "target/release/qiao-bench"),
  dist: path.join(REPO_ROOT, "dist"),
  build: "?",
  messages: 10_000,
  fresh: 50,
  latest: 50,
  reps: 5,
  budgetSecs: 1200,
  profile: false,
  profileDir: path.join(REPO_ROOT, "target/bench-chat-open"),
  keep: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const val = () => process.argv[++i];
  switch (a) {
    case "--server-bin": opt.serverBin = path.resolve(val()); break;
    case "--bench-bin": opt.benchBin = path.resolve(val()); break;
    case "--dist": opt.dist = path.resolve(val()); break;
    case "--build": opt.build = val(); break;
    case "--messages": opt.messages = Number(val()); break;
    case "--fresh": opt.fresh = Number(val()); break;
    case "--reps": opt.reps = Number(val()); break;
    case "--budget-secs": opt.budgetSecs = Number(val()); break;
    case "--profile": opt.profile = true; break;
    case "--profile-dir": opt.profileDir = path.resolve(val()); break;
    case "--keep": opt.keep = true; break;
    default:
      console.error(`bench-chat-open: unknown option ${a}`);
      process.exit(2);
  }
}

const T0 = Date.now();
const LOAD_AT_START = os.loadavg().map(x => x.toFixed(2)).join(" ");
const log = m => console.error(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const PASSWORD = "chat-open-bench-password";
const WRITERS = [
  { username: "wangfang", name: "王芳", role: "super_admin" },
  { username: "lilei", name: "李雷 Li Lei", role: "employee" },
  { username: "anna", name: "Anna Schmidt", role: "employee" },
  { username: "zhangwei", name: "张伟", role: "employee" },
];
const READER = { username: "reader", name: "读者 Reader", role: "employee" };
const GENERAL = "综合 General";

// --- everything that must stop when the run ends, however it ends -------------------------------

const work = mkdtempSync(path.join(os.tmpdir(), "qiao-bench-chat-open-"));
let server = null;
let browser = null;
const children = new Set();
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    for (const c of children) c.kill("SIGKILL");
    if (browser) await browser.close().catch(() => {});
    if (server) await server.cleanup().catch(() => {});
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
async function bail(code, why) {
  console.error(`bench-chat-open: ${why}`);
  await cleanup();
  process.exit(code);
}
const watchdog = setTimeout(() => bail(2, `over its budget of ${opt.budgetSecs} s; stopped`), opt.budgetSecs * 1000);
process.on("SIGINT", () => bail(130, "interrupted"));
process.on("SIGTERM", () => bail(143, "terminated"));

/** Run the bench binary; its stdout is JSON. */
function bench(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = execFile(opt.benchBin, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      children.delete(child);
      if (stderr.trim()) process.stderr.write(stderr.replace(/^/gm, "    "));
      if (err) reject(new Error(`qiao-bench ${args.slice(0, 2).join(" ")}: ${err.message}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()));
    });
    children.add(child);
  });
}

// --- in the page ----------------------------------------------------------------------------------

// Installed in every document of a profile before the app's own scripts. A plan, left in
// sessionStorage before a reload (or given for the profile's first page), says which channel to
// wait for and whether to click it (`click`) or expect it open already (`selected`); the result
// is `window.__qb.result`.
function instrument(first) {
  const now = () => performance.now();
  const qb = (window.__qb = {});
  qb.afterPaint = () =>
    new Promise(res =>
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => res(now());
        ch.port2.postMessage(0);
      }),
    );
  qb.item = name => [...document.querySelectorAll('[data-testid="channel-item"]')].find(e => e.dataset.channelName === name);
  qb.list = () => document.querySelector('[data-testid="message-list"]');
  // All of `ids` in the message list (the newest first: the cheap way to say no).
  qb.hasAll = ids => {
    const list = qb.list();
    if (!list || !list.querySelector(`[data-message-id="${ids[ids.length - 1]}"]`)) return false;
    return ids.every(id => list.querySelector(`[data-message-id="${id}"]`));
  };
  // Resolves when `pred()` holds, checked on every DOM change; the time it first held.
  qb.until = (pred, what, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      if (pred()) return resolve(now());
      const obs = new MutationObserver(() => {
        if (pred()) {
          const t = now();
          obs.disconnect();
          clearTimeout(timer);
          resolve(t);
        }
      });
      const timer = setTimeout(() => {
        obs.disconnect();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      obs.observe(document, { childList: true, subtree: true, attributes: true, characterData: false });
    });
  // Open `plan.name` (click it, or find it open) and time it until its newest messages are
  // painted; `start` is 0 (navigation start) for a channel that opens by itself.
  qb.measure = async plan => {
    const m = { how: plan.how };
    m.shell = await qb.until(() => document.querySelector('[data-testid="sidebar"]'), "the sidebar");
    await qb.until(() => qb.item(plan.name), `${plan.name} in the sidebar`);
    if (plan.how === "click") {
      m.start = now();
      qb.item(plan.name).click();
    } else {
      m.start = 0;
    }
    m.dom = await qb.until(() => qb.hasAll(plan.ids), `the newest ${plan.ids.length} messages`, 120_000);
    m.painted = await qb.afterPaint();
    m.rows = qb.list().querySelectorAll("[data-message-id]").length;
    m.marks = {};
    for (const e of performance.getEntriesByType("mark")) {
      if (e.name.startsWith("qiao:") && e.startTime >= m.start && !(e.name in m.marks)) m.marks[e.name] = e.startTime;
    }
    return m;
  };
  let plan = null;
  try {
    plan = JSON.parse(sessionStorage.getItem("qb.plan") || "null");
    sessionStorage.removeItem("qb.plan");
    if (!plan && !sessionStorage.getItem("qb.started")) plan = first;
    sessionStorage.setItem("qb.started", "1");
  } catch {}
  if (plan) {
    qb.result = qb.measure(plan);
    qb.result.catch(() => {});
  }
}

// Click `name` in the sidebar and wait until it is the open conversation.
async function selectInPage(name) {
  const qb = window.__qb;
  await qb.until(() => qb.item(name), `${name} in the sidebar`);
  qb.item(name).click();
  await qb.until(() => qb.item(name)?.getAttribute("aria-current") === "page", `${name} selected`);
  await qb.afterPaint();
}

// Re-open in memory: General, then the channel (its documents are open in the tab).
async function reopenInPage({ general, plan }) {
  const qb = window.__qb;
  qb.item(general).click();
  await qb.until(() => !qb.list()?.querySelector(`[data-message-id="${plan.ids[plan.ids.length - 1]}"]`), "the channel to close");
  await qb.afterPaint();
  await new Promise(r => setTimeout(r, 300));
  return qb.measure(plan);
}

// The peer's store: every message of the long channel as a plain object, in its own database.
async function peerFillInPage(messages) {
  const req = indexedDB.open("qiao-bench-peer", 1);
  req.onupgradeneeded = () => req.result.createObjectStore("messages", { keyPath: "seq" });
  const db = await new Promise((res, rej) => { req.onsuccess = () => res(req.result); req.onerror = () => rej(req.error); });
  const tx = db.transaction("messages", "readwrite");
  const store = tx.objectStore("messages");
  messages.forEach((m, seq) => store.put({ seq, ...m }));
  await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
  db.close();
  return messages.length;
}

// The peer: open the database, read the newest `n` messages with a reverse cursor, build them as
// raw DOM with the app's classes in the message list's place, and one frame.
async function peerInPage({ n }) {
  const qb = window.__qb;
  const now = () => performance.now();
  const list = qb.list();
  const hidden = [...list.children];
  for (const c of hidden) c.style.display = "none";
  await qb.afterPaint();
  await new Promise(r => setTimeout(r, 300));
  const t0 = now();
  const req = indexedDB.open("qiao-bench-peer", 1);
  const db = await new Promise((res, rej) => { req.onsuccess = () => res(req.result); req.onerror = () => rej(req.error); });
  const rows = await new Promise((res, rej) => {
    const out = [];
    const c = db.transaction("messages", "readonly").objectStore("messages").openCursor(null, "prev");
    c.onsuccess = () => {
      const cur = c.result;
      if (cur && out.length < n) {
        out.push(cur.value);
        cur.continue();
      } else res(out.reverse());
    };
    c.onerror = () => rej(c.error);
  });
  const read = now() - t0;
  const byId = new Map(rows.map(m => [m.id, m]));
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const holder = el("div");
  holder.style.display = "contents";
  for (const m of rows) {
    const row = el("div", "message");
    row.dataset.messageId = m.id;
    row.append(el("span", "avatar", [...m.author_name][0].toUpperCase()));
    const body = el("div", "message-body");
    const meta = el("div", "message-meta");
    const d = new Date(m.ts);
    meta.append(el("span", "message-author", m.author_name), el("time", "message-time", `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`));
    body.append(meta);
    if (m.reply_to) {
      const q = byId.get(m.reply_to);
      const quote = el("div", "message-quote");
      quote.append(el("span", "message-author", q ? q.author_name : ""), el("span", "muted", q ? q.text.slice(0, 60) : "…"));
      body.append(quote);
    }
    body.append(el("div", "message-text markdown", m.text));
    const emojis = Object.entries(m.reactions || {});
    if (emojis.length) {
      const rs = el("div", "reactions");
      for (const [e, k] of emojis) {
        const b = el("button", "reaction");
        b.append(el("span", "reaction-emoji", e), el("span", "reaction-count", String(k)));
        rs.append(b);
      }
      body.append(rs);
    }
    row.append(body);
    holder.append(row);
  }
  list.append(holder);
  list.scrollTop = list.scrollHeight;
  const dom = now() - t0;
  const painted = (await qb.afterPaint()) - t0;
  const count = holder.querySelectorAll("[data-message-id]").length;
  db.close();
  holder.remove();
  for (const c of hidden) c.style.display = "";
  return { read, dom, painted, count };
}

// --- driving --------------------------------------------------------------------------------------

const saved = page =>
  page.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 60_000 });

async function quiet(page, ms = 400) {
  await saved(page);
  await sleep(ms);
}

/** Leave `plan` for the next document, reload, and wait for its result. */
async function reloadMeasure(page, plan) {
  await page.evaluate(p => sessionStorage.setItem("qb.plan", JSON.stringify(p)), plan);
  await page.reload();
  const m = await page.evaluate(() => window.__qb.result);
  await quiet(page);
  return m;
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
}
const median = xs => quantile(xs, 0.5);

function fmtMs(x) {
  if (!Number.isFinite(x)) return "—";
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  return `${x.toFixed(2)} ms`;
}
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b) >= 100 ? (a / b).toFixed(0) : (a / b).toFixed(1)}×` : "—");

// A CPU profile of `fn` (sampled every 200 µs), saved for DevTools, and summarised: self time by
// crate (WebAssembly names carry their Rust paths; "(program)" is the browser's own work: style,
// layout, paint) and the app's and the chat model's functions by inclusive time.
async function profile(page, label, fn) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  await fn();
  const { profile: prof } = await cdp.send("Profiler.stop");
  await cdp.detach();
  mkdirSync(opt.profileDir, { recursive: true });
  const file = path.join(opt.profileDir, `${label}.cpuprofile`);
  writeFileSync(file, JSON.stringify(prof));
  const byId = new Map(prof.nodes.map(n => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const name = id => byId.get(id).callFrame.functionName || `(${byId.get(id).callFrame.url.split("/").pop() || "anonymous"})`;
  const crate = f => (/^<?([a-z_][a-z0-9_]*)::/.exec(f) || [null, f])[1];
  const byCrate = new Map();
  const inclusive = new Map();
  let total = 0;
  prof.samples.forEach((id, k) => {
    const dt = (prof.timeDeltas[k + 1] ?? 0) / 1000;
    const self = name(id);
    if (self === "(idle)") return;
    total += dt;
    byCrate.set(crate(self), (byCrate.get(crate(self)) || 0) + dt);
    const seen = new Set();
    for (let x = id; x != null; x = parent.get(x)) {
      const f = name(x).replace(/::h[0-9a-f]{16}$/, "");
      if ((/^qiao_app::/.test(f) || /^qiao_model::(schema::chat|markdown)::/.test(f)) && !seen.has(f)) {
        seen.add(f);
        inclusive.set(f, (inclusive.get(f) || 0) + dt);
      }
    }
  });
  const top = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { file, total, crates: top(byCrate, 8), app: top(inclusive, 12) };
}

async function main() {
  log(`work dir ${work}`);
  server = new QiaoServer({ bin: opt.serverBin, distDir: opt.dist, dataDir: path.join(work, "server-data") });
  await server.start();
  for (const p of [...WRITERS, READER]) await server.addUser(p.username, PASSWORD, p.name, p.role);
  log(`qiao-server on ${server.base} (${opt.serverBin}); app: ${opt.dist} (${opt.build})`);

  log(`seeding a channel of ${opt.messages} messages and one of ${opt.fresh} through the relay`);
  const seed = await bench(
    ["chat-open", "seed", "--port", String(server.port), "--messages", String(opt.messages), "--fresh", String(opt.fresh),
      "--latest", String(opt.latest), "--out", work, "--people", WRITERS.map(p => `${p.username}:${PASSWORD}`).join(",")],
    900_000,
  );
  log(`seeded: long ${seed.long.messages} messages in ${seed.long.segments} segments (head ${seed.long.head_segment}), ` +
    `${seed.long.reactions} reactions, ${seed.long.write_secs.toFixed(1)} s; fresh ${seed.fresh.messages} messages`);
  const longMessages = JSON.parse(readFileSync(seed.long.messages_file, "utf8"));

  browser = await launchBrowser();
  const plans = {};
  for (const k of ["long", "fresh"]) {
    plans[k] = { click: { how: "click", name: seed[k].name, ids: seed[k].latest }, selected: { how: "selected", name: seed[k].name, ids: seed[k].latest } };
  }
  // figure → channel → samples (each a result of qb.measure)
  const r = {};
  const add = (fig, k, m) => ((r[fig] ??= { long: [], fresh: [] })[k].push(m));
  const peer = [];
  let last = null;
  let errors = [];
  for (let rep = 1; rep <= opt.reps; rep++) {
    // Cold, each channel in a profile of its own.
    for (const k of ["fresh", "long"]) {
      const ctx = await newUserContext(browser, { baseURL: server.base });
      await loginViaApi(ctx, READER.username, PASSWORD);
      await ctx.addInitScript(instrument, plans[k].click);
      const page = await ctx.newPage();
      page.setDefaultTimeout(120_000);
      await page.goto("/");
      add("cold", k, await page.evaluate(() => window.__qb.result));
      if (k === "long") {
        last = { ctx, page };
      } else {
        errors.push(...ctx.qiaoLog.filter(l => /pageerror|CRASHED/.test(l)));
        await ctx.close();
      }
    }
    const { ctx, page } = last;
    // Let the first visit's sync settle into IndexedDB.
    await quiet(page, 1500);
    await page.evaluate(selectInPage, plans.fresh.click.name);
    await quiet(page, 1500);
    for (const offline of [false, true]) {
      if (offline) await ctx.routeWebSocket(/\/sync/, ws => ws.close());
      const tag = offline ? "offline" : "online";
      for (const k of ["long", "fresh"]) {
        await page.evaluate(selectInPage, GENERAL);
        await quiet(page);
        add(`click-${tag}`, k, await reloadMeasure(page, plans[k].click));
        add(`nav-${tag}`, k, await reloadMeasure(page, plans[k].selected));
      }
      if (!offline) {
        for (const k of ["long", "fresh"]) add("memory", k, await page.evaluate(reopenInPage, { general: GENERAL, plan: plans[k].click }));
        // The peer's store, in this profile (each rep's is new).
        const filled = await page.evaluate(peerFillInPage, longMessages);
        if (rep === 1) log(`peer store: ${filled} messages`);
        await page.evaluate(selectInPage, plans.long.click.name);
        await quiet(page);
        const p = await page.evaluate(peerInPage, { n: opt.latest });
        if (p.count !== opt.latest) throw new Error(`the peer built ${p.count} messages`);
        peer.push(p);
      }
    }
    const g = (fig, k) => r[fig][k].at(-1);
    const span = m => fmtMs(m.painted - m.start);
    log(
      `rep ${rep}/${opt.reps}: long / fresh — cold ${span(g("cold", "long"))} / ${span(g("cold", "fresh"))}, ` +
        `warm click ${span(g("click-online", "long"))} / ${span(g("click-online", "fresh"))}, ` +
        `offline click ${span(g("click-offline", "long"))} / ${span(g("click-offline", "fresh"))}, ` +
        `from navigation ${span(g("nav-online", "long"))} / ${span(g("nav-online", "fresh"))}, ` +
        `in memory ${span(g("memory", "long"))} / ${span(g("memory", "fresh"))}; peer ${fmtMs(peer.at(-1).painted)}; ` +
        `rows ${g("cold", "long").rows} / ${g("cold", "fresh").rows}`,
    );
    errors.push(...ctx.qiaoLog.filter(l => /pageerror|CRASHED/.test(l)));
    if (rep < opt.reps) await ctx.close();
  }

  let prof = null;
  if (opt.profile) {
    log("profiling an offline click on the long channel");
    const { page } = last;
    await page.evaluate(selectInPage, GENERAL);
    await quiet(page);
    await page.evaluate(p => sessionStorage.setItem("qb.plan", JSON.stringify(p)), plans.long.click);
    prof = await profile(page, "chat-open-offline-click", async () => {
      await page.reload();
      await page.evaluate(() => window.__qb.result);
    });
  }
  const chromium = browser.version();
  await cleanup();
  clearTimeout(watchdog);
  report({ seed, r, peer, prof, chromium, errors });
}

// --- the table ------------------------------------------------------------------------------------

function machine() {
  const cpu = os.cpus();
  const load = os.loadavg().map(x => x.toFixed(2)).join(" ");
  return { cores: cpu.length, model: cpu[0]?.model ?? "?", mem: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`, load };
}

function report({ seed, r, peer, prof, chromium, errors }) {
  const m = machine();
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const L = seed.long;
  const F = seed.fresh;
  const n = L.messages.toLocaleString("en");
  const out = [];
  out.push(`# Qiao: opening a channel of ${n} messages — ${date} UTC`);
  out.push("");
  out.push(`- machine: ${m.cores} cores (${m.model}), ${m.mem} RAM; load average at the start ${LOAD_AT_START}, at the end ${m.load}`);
  out.push(`- browser: headless Chromium ${chromium} (Debian), one page at a time, 1280×800; app build: ${opt.build}`);
  out.push(
    `- long channel: ${n} messages in ${L.segments} segments by ${seed.writers} writers (${L.replies} replies, ${L.mentions} mentions, ` +
      `${L.reactions} reactions; ${(L.text_bytes / L.messages).toFixed(0)} bytes of text per message), written through the relay ` +
      `one change each in ${L.write_secs.toFixed(0)} s; fresh channel: ${F.messages} messages, one segment`,
  );
  out.push(`- ${opt.reps} runs of each figure: p50 [min–max]${opt.reps < 20 ? ` (with ${opt.reps} runs the p95 is the max)` : ""}; the newest ${opt.latest} messages' ids all in the DOM, then the next frame`);
  out.push("");
  out.push(`| figure | ${n} messages | ${F.messages} messages | ${n} ÷ ${F.messages} | peer | ${n} ÷ peer |`);
  out.push("|---|---:|---:|---:|---:|---:|");
  const span = x => x.painted - x.start;
  const range = xs => `${fmtMs(median(xs))} [${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}]`;
  const pp = median(peer.map(p => p.painted));
  const row = (label, fig, f = span, withPeer = false) => {
    const a = r[fig].long.map(f);
    const b = r[fig].fresh.map(f);
    out.push(`| ${label} | ${range(a)} | ${range(b)} | ${ratio(median(a), median(b))} | ${withPeer ? fmtMs(pp) : ""} | ${withPeer ? ratio(median(a), pp) : ""} |`);
  };
  row("cold (empty IndexedDB, data from the relay): click → newest 50 painted", "cold", span, true);
  row("warm, online: click → newest 50 painted", "click-online", span, true);
  row("warm, offline (websocket refused; IndexedDB only): click → painted", "click-offline", span, true);
  row("re-open in memory: click → painted", "memory", span, true);
  row("reload with the channel open, online: navigation start → painted", "nav-online");
  row("reload with the channel open, offline: navigation start → painted", "nav-offline");
  row("  … navigation start → the app's sidebar shown (same reloads, offline)", "nav-offline", x => x.shell);
  const mk = (x, name) => (x.marks[name] ?? NaN) - x.start;
  row("  offline click → `qiao:chat-open` (the view starts)", "click-offline", x => mk(x, "qiao:chat-open"));
  row("  offline click → `qiao:chat-segments-open` (newest segments loaded)", "click-offline", x => mk(x, "qiao:chat-segments-open"));
  row("  offline click → newest 50 in the DOM", "click-offline", x => x.dom - x.start);
  const rows = k => median(r.cold[k].map(x => x.rows));
  out.push(`| messages in the DOM when painted | ${rows("long")} | ${rows("fresh")} | ${ratio(rows("long"), rows("fresh"))} | ${opt.latest} | ${ratio(rows("long"), opt.latest)} |`);
  out.push("");
  out.push(
    `Peer: in the same page, an IndexedDB store holding all ${n} messages as plain objects; open it, read the newest ${opt.latest} ` +
      `with a reverse cursor (median ${fmtMs(median(peer.map(p => p.read)))}), build them as raw DOM with the app's classes ` +
      `(avatar, author, time, quote, plain text, reactions; no Markdown, no action toolbar) in the message list's place ` +
      `(${fmtMs(median(peer.map(p => p.dom)))} with the read), and one frame.`,
  );
  if (prof) {
    out.push("");
    out.push(`Profile of an offline click on the long channel, reload included (${path.relative(REPO_ROOT, prof.file)}; ${fmtMs(prof.total)} of CPU sampled):`);
    out.push(`- self time by crate: ${prof.crates.map(([c, ms]) => `${c} ${fmtMs(ms)}`).join(", ")}`);
    out.push(`- the app's and the chat model's functions, inclusive: ${prof.app.map(([f, ms]) => `\`${f}\` ${fmtMs(ms)}`).join(", ")}`);
  }
  if (errors.length) {
    out.push("");
    out.push("Page errors during the run:");
    for (const e of errors.slice(0, 10)) out.push(`- ${e}`);
  }
  console.log(out.join("\n"));
  log(`done in ${((Date.now() - T0) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  async e => {
    console.error(e.stack || String(e));
    if (server) console.error(`last server output:\n${server.output.slice(-15).join("\n")}`);
    await bail(1, "failed");
  },
);
