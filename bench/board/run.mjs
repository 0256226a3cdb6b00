// The board benchmark (issue 6: "board with 2,000 tasks: open and render time, drag latency"),
// run by scripts/bench-board.sh. It starts everything it needs on 127.0.0.1 and stops it again:
//
//   1. a qiao-server (release) on a free port and a temporary data dir, serving the app build
//      it is given; four people (an owner and three members);
//   2. `qiao-bench board seed`: the project, created over the API, and its board of 2,000 tasks
//      synced to the relay by the bench's Rust sync client, one replica per person;
//   3. `qiao-bench board model`: model-level figures (Rust, release) against plain JSON;
//   4. Debian's Chromium (playwright-core from tests/e2e): every figure is measured inside the
//      page with performance.now(), a MutationObserver and requestAnimationFrame, never with
//      Playwright round trips, and beside it a peer measured in the same page and run:
//      - open, cold: a fresh profile (IndexedDB empty), logged in; the tasks page opens as soon
//        as the shell shows and the project is clicked the moment the rail lists it; until all
//        2,000 cards are in the DOM and the next frame has been produced. The board comes from
//        the relay;
//      - open, warm: reload; the tasks page opens with the project still selected; the board
//        comes from IndexedDB;
//      - re-open, in memory: "my tasks", then the project again, in the same page;
//      - peer (a): the same board's final markup (captured from Qiao's) set as innerHTML of a
//        fresh element in the same place, appended, and one frame;
//      - move by keyboard (focus, Shift+ArrowRight, a real key press): from the keydown reaching
//        the page to the card in the next column's DOM, and to the next frame;
//      - drop (HTML5 drag and drop, DragEvents dispatched in the page with one DataTransfer):
//        from the drop event to the card in the target column, and to the next frame; and the
//        drop marker: a dragover on a card until the next frame;
//      - peer (b): a card's node moved to another column with appendChild, and one frame; and a
//        class set on a card, and one frame, for the marker.
//   5. one Markdown table on stdout (figure, peer figure, ratio; p50/p95 where there are
//      samples); progress on stderr. --profile adds a CPU profile of a re-open and of keyboard
//      moves (after the measurements, so it cannot disturb them) and prints where the time went.
//
// "Next frame": a requestAnimationFrame callback, then a MessageChannel message posted from it;
// the message runs after that frame's style, layout and paint. Qiao and the peers are timed the
// same way.
//
// Options (scripts/bench-board.sh passes the paths): --server-bin, --bench-bin, --dist,
// --build (a label for the app build), --tasks 2000, --reps 5, --moves 30, --budget-secs 900,
// --profile (CPU profiles go to --profile-dir, default target/bench-board/), --keep (keep the
// temporary work dir: the relay's data and the board's bytes).

import { launchBrowser, newUserContext, loginViaApi } from "../../tests/e2e/lib/browser.mjs";
import { QiaoServer, REPO_ROOT } from "../../tests/e2e/lib/server.mjs";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// --- options ------------------------------------------------------------------------------------

const opt = {
  serverBin: path.join(REPO_ROOT, "target/release/qiao-server"),
  benchBin: path.join(REPO_ROOT, "target/release/qiao-bench"),
  dist: path.join(REPO_ROOT, "dist"),
  build: "?",
  tasks: 2000,
  reps: 5,
  moves: 30,
  budgetSecs: 900,
  profile: false,
  profileDir: path.join(REPO_ROOT, "target/bench-board"),
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
    case "--tasks": opt.tasks = Number(val()); break;
    case "--reps": opt.reps = Number(val()); break;
    case "--moves": opt.moves = Number(val()); break;
    case "--budget-secs": opt.budgetSecs = Number(val()); break;
    case "--profile": opt.profile = true; break;
    case "--profile-dir": opt.profileDir = path.resolve(val()); break;
    case "--keep": opt.keep = true; break;
    default:
      console.error(`bench-board: unknown option ${a}`);
      process.exit(2);
  }
}

const T0 = Date.now();
const LOAD_AT_START = os.loadavg().map(x => x.toFixed(2)).join(" ");
const log = m => console.error(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const PASSWORD = "board-bench-password";
const PEOPLE = [
  { username: "owner", name: "项目负责人 Owner" },
  { username: "member1", name: "成员一 Member 1" },
  { username: "member2", name: "成员二 Member 2" },
  { username: "member3", name: "成员三 Member 3" },
];
const PROJECT = "2.0 发布 · Release 2.0";

// --- everything that must stop when the run ends, however it ends -------------------------------

const work = mkdtempSync(path.join(os.tmpdir(), "qiao-bench-board-"));
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
  console.error(`bench-board: ${why}`);
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

// Installed in every document of a profile before the app's own scripts: opens the tasks page as
// soon as the shell shows, then the project, and times the board until it is painted.
function instrument(cfg) {
  const now = () => performance.now();
  const qb = (window.__qb = {});
  const cards = () => document.querySelectorAll('[data-testid="task-card"]').length;
  qb.cards = cards;
  qb.afterPaint = () =>
    new Promise(res =>
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => res(now());
        ch.port2.postMessage(0);
      }),
    );
  qb.projectItem = () =>
    [...document.querySelectorAll('[data-testid="project-item"]')].find(e => e.dataset.projectName === cfg.project);
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
  qb.open = (async () => {
    const m = {};
    await qb.until(() => document.querySelector('[data-testid="open-tasks"]'), "the shell");
    const tasksButton = document.querySelector('[data-testid="open-tasks"]');
    m.tasksClick = now();
    tasksButton.click();
    await qb.until(() => qb.projectItem(), "the project in the rail");
    const item = qb.projectItem();
    if (item.getAttribute("aria-current") === "page") {
      // Still selected from the last visit: the board opened with the tasks page.
      m.how = "selected";
      m.start = m.tasksClick;
    } else {
      m.how = "click";
      m.start = now();
      item.click();
    }
    m.cards = await qb.until(() => cards() >= cfg.expected, `${cfg.expected} cards`, 120_000);
    m.painted = await qb.afterPaint();
    return m;
  })();
  qb.open.catch(() => {});
}

// Re-open the board from memory: "my tasks", then the project.
async function reopenInPage(cfg) {
  const qb = window.__qb;
  const now = () => performance.now();
  document.querySelector('[data-testid="open-my-tasks"]').click();
  await qb.until(() => qb.cards() === 0, "the board to close");
  await qb.afterPaint();
  await new Promise(r => setTimeout(r, 300));
  const t0 = now();
  qb.projectItem().click();
  const dom = await qb.until(() => qb.cards() >= cfg.expected, `${cfg.expected} cards`);
  const painted = await qb.afterPaint();
  return { dom: dom - t0, painted: painted - t0 };
}

// Show "my tasks" and put a copy of the board's markup in the board's place (peer a).
async function peerInsertInPage(cfg) {
  const qb = window.__qb;
  const now = () => performance.now();
  document.querySelector('[data-testid="open-my-tasks"]').click();
  await qb.until(() => qb.cards() === 0, "the board to close");
  const main = document.querySelector(".tasks-main");
  const hidden = [...main.children];
  for (const c of hidden) c.style.display = "none";
  await qb.afterPaint();
  await new Promise(r => setTimeout(r, 300));
  const t0 = now();
  const holder = document.createElement("div");
  holder.style.display = "contents";
  holder.innerHTML = cfg.html;
  main.appendChild(holder);
  const dom = now();
  const painted = await qb.afterPaint();
  const n = holder.querySelectorAll(".task-card").length;
  if (!cfg.keep) {
    holder.remove();
    for (const c of hidden) c.style.display = "";
  } else {
    qb.peer = { holder, hidden };
  }
  return { dom: dom - t0, painted: painted - t0, n };
}

function peerRemoveInPage() {
  const p = window.__qb.peer;
  if (!p) return;
  p.holder.remove();
  for (const c of p.hidden) c.style.display = "";
  window.__qb.peer = null;
}

// Peer (b): move card `i` of the copy's 待办 to the end of 进行中 by hand; and the drop marker.
async function peerMoveInPage({ i }) {
  const qb = window.__qb;
  const now = () => performance.now();
  const root = qb.peer.holder;
  const col = id => root.querySelector(`[data-column-id="${id}"] .board-cards`);
  const todo = [...col("todo").querySelectorAll(".task-card")];
  const card = todo[(i * 7) % todo.length];
  const over = [...col("doing").querySelectorAll(".task-card")][i];
  card.scrollIntoView({ block: "center" });
  await qb.afterPaint();
  let t0 = now();
  root.querySelectorAll(".drop-before").forEach(e => e.classList.remove("drop-before"));
  over.classList.add("drop-before");
  const marker = (await qb.afterPaint()) - t0;
  await new Promise(r => setTimeout(r, 50));
  t0 = now();
  col("doing").appendChild(card);
  const dom = now() - t0;
  const painted = (await qb.afterPaint()) - t0;
  return { dom, painted, marker };
}

// Qiao: focus card `i` of 待办 and get ready to time the Shift+ArrowRight that follows.
async function armKeyMoveInPage({ i }) {
  const qb = window.__qb;
  const now = () => performance.now();
  const col = id => document.querySelector(`[data-testid="board-column"][data-column-id="${id}"]`);
  const todo = [...col("todo").querySelectorAll('[data-testid="task-card"]')];
  const card = todo[(i * 7) % todo.length];
  const id = card.dataset.taskId;
  card.focus();
  card.scrollIntoView({ block: "center" });
  await qb.afterPaint();
  qb.move = new Promise((resolve, reject) => {
    // The key press starts with Shift's own keydown: time the arrow's.
    const onKey = e => {
      if (e.key !== "ArrowRight") return;
      const t0 = now();
      window.removeEventListener("keydown", onKey, true);
      qb.until(() => col("doing").querySelector(`[data-task-id="${id}"]`), "the moved card", 20_000)
        .then(async dom => resolve({ dom: dom - t0, painted: (await qb.afterPaint()) - t0, id }))
        .catch(reject);
    };
    window.addEventListener("keydown", onKey, true);
  });
  qb.move.catch(() => {});
  return id;
}

// Qiao: drag card `i` of 待办 over a card of 进行中 (the marker), then drop it on the column.
async function dragMoveInPage({ i }) {
  const qb = window.__qb;
  const now = () => performance.now();
  const col = id => document.querySelector(`[data-testid="board-column"][data-column-id="${id}"]`);
  const todo = [...col("todo").querySelectorAll('[data-testid="task-card"]')];
  const card = todo[(i * 7 + 3) % todo.length];
  const id = card.dataset.taskId;
  card.scrollIntoView({ block: "center" });
  await qb.afterPaint();
  const dt = new DataTransfer();
  const fire = (el, type) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
  fire(card, "dragstart");
  await qb.afterPaint();
  const target = col("doing").querySelector(".board-cards");
  const over = [...target.querySelectorAll('[data-testid="task-card"]')][i];
  fire(target, "dragenter");
  fire(target, "dragover");
  await qb.afterPaint();
  let t0 = now();
  fire(over, "dragover");
  const marker = (await qb.afterPaint()) - t0;
  await new Promise(r => setTimeout(r, 50));
  t0 = now();
  const moved = qb.until(() => col("doing").querySelector(`[data-task-id="${id}"]`), "the dropped card", 20_000);
  fire(over, "drop");
  const dom = (await moved) - t0;
  const painted = (await qb.afterPaint()) - t0;
  fire(card, "dragend");
  return { dom, painted, marker, id };
}

// --- driving --------------------------------------------------------------------------------------

const saved = page =>
  page.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 60_000 });

async function quiet(page, ms = 400) {
  await saved(page);
  await sleep(ms);
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
  if (x >= 1) return `${x.toFixed(2)} ms`;
  if (x >= 0.01) return `${x.toFixed(3)} ms`;
  return `${(x * 1000).toFixed(2)} µs`;
}
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b) >= 100 ? (a / b).toFixed(0) : (a / b).toFixed(1)}×` : "—");
const p5095 = xs => `${fmtMs(quantile(xs, 0.5))} / ${fmtMs(quantile(xs, 0.95))}`;

// A CPU profile of `fn` (sampled every 200 µs), saved for DevTools, and summarised: self time by
// crate (WebAssembly names carry their Rust paths; "(program)" is the browser's own work: style,
// layout, paint) and the app's own functions by inclusive time.
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
      if ((/^qiao_app::/.test(f) || f === "qiao_model::schema::tasks::tasks") && !seen.has(f)) {
        seen.add(f);
        inclusive.set(f, (inclusive.get(f) || 0) + dt);
      }
    }
  });
  const top = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { file, total, crates: top(byCrate, 8), app: top(inclusive, 10) };
}

async function main() {
  log(`work dir ${work}`);
  server = new QiaoServer({ bin: opt.serverBin, distDir: opt.dist, dataDir: path.join(work, "server-data") });
  await server.start();
  for (const p of PEOPLE) await server.addUser(p.username, PASSWORD, p.name, "employee");
  log(`qiao-server on ${server.base} (${opt.serverBin}); app: ${opt.dist} (${opt.build})`);

  log(`seeding a board of ${opt.tasks} tasks`);
  const seed = await bench(
    ["board", "seed", "--port", String(server.port), "--tasks", String(opt.tasks), "--project", PROJECT, "--out", work,
      "--people", PEOPLE.map(p => `${p.username}:${PASSWORD}`).join(",")],
    300_000,
  );
  log(`seeded: ${JSON.stringify(seed)}`);
  log("model figures (Rust, release)");
  const model = await bench(["board", "model", "--board", work], 300_000);

  browser = await launchBrowser();
  const cfg = { expected: opt.tasks, project: PROJECT };
  const r = { cold: [], coldNav: [], warm: [], warmNav: [], reopen: [], peerInsert: [], kb: [], drop: [], marker: [], peerMove: [], peerMarker: [] };
  let html = null;
  let last = null;
  for (let rep = 1; rep <= opt.reps; rep++) {
    const ctx = await newUserContext(browser, { baseURL: server.base });
    await loginViaApi(ctx, PEOPLE[0].username, PASSWORD);
    await ctx.addInitScript(instrument, cfg);
    const page = await ctx.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto("/");
    const cold = await page.evaluate(() => window.__qb.open);
    r.cold.push(cold.painted - cold.start);
    r.coldNav.push(cold.painted);
    await quiet(page, 1000);
    await page.reload();
    const warm = await page.evaluate(() => window.__qb.open);
    r.warm.push(warm.painted - warm.start);
    r.warmNav.push(warm.painted);
    await quiet(page);
    const re = await page.evaluate(reopenInPage, cfg);
    r.reopen.push(re.painted);
    if (!html) html = await page.evaluate(() => document.querySelector('[data-testid="board"]').outerHTML);
    await quiet(page);
    const peer = await page.evaluate(peerInsertInPage, { html, keep: false });
    if (peer.n !== opt.tasks) throw new Error(`the peer's copy has ${peer.n} cards`);
    r.peerInsert.push(peer.painted);
    log(
      `rep ${rep}/${opt.reps}: cold ${fmtMs(cold.painted - cold.start)} (${cold.how}; ${fmtMs(cold.painted)} from navigation), ` +
        `warm ${fmtMs(warm.painted - warm.start)} (${warm.how}; ${fmtMs(warm.painted)} from navigation), ` +
        `re-open ${fmtMs(re.painted)}, peer innerHTML ${fmtMs(peer.painted)}`,
    );
    if (rep < opt.reps) await ctx.close();
    else last = { ctx, page };
  }

  const { page } = last;
  // Back on the board (the last step showed "my tasks").
  await page.evaluate(reopenInPage, cfg);
  await quiet(page);
  log(`${opt.moves} keyboard moves, ${opt.moves} drops`);
  for (let i = 0; i < opt.moves; i++) {
    await page.evaluate(armKeyMoveInPage, { i });
    await page.keyboard.press("Shift+ArrowRight");
    const k = await page.evaluate(() => window.__qb.move);
    r.kb.push(k.painted);
    await quiet(page, 250);
    const d = await page.evaluate(dragMoveInPage, { i });
    r.drop.push(d.painted);
    r.marker.push(d.marker);
    await quiet(page, 250);
  }
  await page.evaluate(peerInsertInPage, { html, keep: true });
  for (let i = 0; i < opt.moves; i++) {
    const p = await page.evaluate(peerMoveInPage, { i });
    r.peerMove.push(p.painted);
    r.peerMarker.push(p.marker);
    await sleep(100);
  }
  await page.evaluate(peerRemoveInPage);
  log(`keyboard p50 ${fmtMs(median(r.kb))}, drop p50 ${fmtMs(median(r.drop))}, peer appendChild p50 ${fmtMs(median(r.peerMove))}`);
  log(`keyboard samples in order (ms): ${r.kb.map(x => x.toFixed(0)).join(" ")}`);
  log(`drop samples in order (ms): ${r.drop.map(x => x.toFixed(0)).join(" ")}`);

  let profiles = null;
  if (opt.profile) {
    log("profiling a re-open and 5 keyboard moves");
    const reopen = await profile(page, "board-reopen", () => page.evaluate(reopenInPage, cfg));
    await quiet(page);
    const moves = await profile(page, "board-keyboard-moves", async () => {
      for (let i = 0; i < 5; i++) {
        await page.evaluate(armKeyMoveInPage, { i: 100 + i });
        await page.keyboard.press("Shift+ArrowRight");
        await page.evaluate(() => window.__qb.move);
        await sleep(300);
      }
    });
    profiles = { "a re-open in memory": reopen, "5 keyboard moves": moves };
  }
  const errors = last.ctx.qiaoLog.filter(l => /pageerror|CRASHED/.test(l));
  const chromium = browser.version();
  await cleanup();
  clearTimeout(watchdog);
  report({ seed, model, r, profiles, chromium, errors });
}

// --- the table ------------------------------------------------------------------------------------

function machine() {
  const cpu = os.cpus();
  const load = os.loadavg().map(x => x.toFixed(2)).join(" ");
  return { cores: cpu.length, model: cpu[0]?.model ?? "?", mem: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`, load };
}

function report({ seed, model, r, profiles, chromium, errors }) {
  const m = machine();
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const out = [];
  const n = seed.tasks.toLocaleString("en");
  out.push(`# Qiao board with ${n} tasks — ${date} UTC`);
  out.push("");
  out.push(`- machine: ${m.cores} cores (${m.model}), ${m.mem} RAM; load average at the start ${LOAD_AT_START}, at the end ${m.load}`);
  out.push(`- browser: headless Chromium ${chromium} (Debian), one page at a time, 1280×800; app build: ${opt.build}`);
  out.push(
    `- board: ${seed.tasks} tasks (待办 ${seed.per_column.todo}, 进行中 ${seed.per_column.doing}, 已完成 ${seed.per_column.done}), ` +
      `${seed.comments} comments, ${seed.changes} changes by 4 people (${seed.moves} of them moves), ` +
      `${(seed.saved_bytes / 1024).toFixed(0)} KiB saved; seeded through the relay in ${seed.sync_secs.toFixed(1)} s`,
  );
  out.push(`- ${opt.reps} runs of each open figure (median, [min–max]); ${opt.moves} samples of each move (p50 / p95)`);
  out.push("");
  out.push("| figure | Qiao | peer | peer is | Qiao ÷ peer |");
  out.push("|---|---:|---:|---|---:|");
  const range = xs => `${fmtMs(median(xs))} [${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}]`;
  const pi = median(r.peerInsert);
  const peerA = "(a) the board's markup as innerHTML + 1 frame";
  out.push(`| open, cold: project click → ${n} cards painted (board from the relay) | ${range(r.cold)} | ${fmtMs(pi)} | ${peerA} | ${ratio(median(r.cold), pi)} |`);
  out.push(`| open, warm: reload, tasks page click → painted (board from IndexedDB) | ${range(r.warm)} | ${fmtMs(pi)} | ${peerA} | ${ratio(median(r.warm), pi)} |`);
  out.push(`| re-open in memory: project click → painted | ${range(r.reopen)} | ${fmtMs(pi)} | ${peerA} | ${ratio(median(r.reopen), pi)} |`);
  out.push(`| cold, from navigation start (app load, login state, sync) → painted | ${range(r.coldNav)} | | | |`);
  out.push(`| warm, from navigation start (app load, IndexedDB) → painted | ${range(r.warmNav)} | | | |`);
  const pm = r.peerMove;
  const peerB = "(b) the card's node moved with appendChild + 1 frame";
  out.push(`| move by keyboard (Shift+→): keydown → painted, p50 / p95 | ${p5095(r.kb)} | ${p5095(pm)} | ${peerB} | ${ratio(median(r.kb), median(pm))} / ${ratio(quantile(r.kb, 0.95), quantile(pm, 0.95))} |`);
  out.push(`| drop (HTML5 drag and drop): drop → painted, p50 / p95 | ${p5095(r.drop)} | ${p5095(pm)} | ${peerB} | ${ratio(median(r.drop), median(pm))} / ${ratio(quantile(r.drop, 0.95), quantile(pm, 0.95))} |`);
  out.push(`| drag over a card: the drop marker moves → painted, p50 / p95 | ${p5095(r.marker)} | ${p5095(r.peerMarker)} | a class set on the card + 1 frame | ${ratio(median(r.marker), median(r.peerMarker))} / ${ratio(quantile(r.marker, 0.95), quantile(r.peerMarker, 0.95))} |`);
  const a = model.automerge;
  const p = model.plain;
  const mrow = (label, x, y, peer) =>
    out.push(`| model: ${label}, p50 / p95 | ${fmtMs(x.p50_ms)} / ${fmtMs(x.p95_ms)} | ${fmtMs(y.p50_ms)} / ${fmtMs(y.p95_ms)} | ${peer} | ${ratio(x.p50_ms, y.p50_ms)} |`);
  mrow("load the board from its bytes (genesis + load_incremental)", a.load, p.load, "serde_json::from_slice of the same board as plain structs");
  mrow("`tasks::tasks()`, all tasks in board order", a.tasks, p.tasks, "clone and sort the plain Vec");
  mrow("one `Edit::Move` (commit included)", a.move, p.move, "find the struct, set two fields");
  mrow("the app's keyboard move: `tasks()` for the order + `Edit::Move`", a.move_app, p.move_app, "sort the plain Vec for the order, set two fields");
  mrow("save the whole board", a.save, p.save, "serde_json::to_vec");
  out.push(`| model: size | ${(a.bytes / 1024).toFixed(0)} KiB | ${(p.bytes / 1024).toFixed(0)} KiB | JSON of the same board | ${ratio(a.bytes, p.bytes)} |`);
  out.push("");
  out.push(
    `Model figures: Rust release build, native, median of ${model.reps} runs; \`AutoCommit::load\` of the same bytes takes ${fmtMs(a.load_whole.p50_ms)}. ` +
      "The browser runs the same model code as WebAssembly, typically 1.5–3× slower than native.",
  );
  out.push("");
  out.push(
    `Where the model's time goes: \`tasks::tasks()\` reads every field with its own \`get\`, and each \`get\` seeks the key in ` +
      `Automerge's compressed op columns anew; a reader that takes each task's fields from one \`map_range\` returns the same ` +
      `tasks in ${fmtMs(a.tasks_one_pass.p50_ms)} (${ratio(a.tasks.p50_ms, a.tasks_one_pass.p50_ms)} faster; a measurement in the bench, not the app's code).`,
  );
  if (profiles) {
    for (const [k, v] of Object.entries(profiles)) {
      out.push("");
      out.push(`Profile of ${k} (${path.relative(REPO_ROOT, v.file)}; ${fmtMs(v.total)} of CPU sampled):`);
      out.push(`- self time by crate: ${v.crates.map(([c, ms]) => `${c} ${fmtMs(ms)}`).join(", ")}`);
      out.push(`- \`tasks::tasks\` and the app's functions, inclusive: ${v.app.map(([f, ms]) => `\`${f}\` ${fmtMs(ms)}`).join(", ")}`);
    }
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
