// The knowledge base's browser benchmark (issue 5: "typing latency in a 50-page-long document
// (keystroke to render), p95"), run by `scripts/bench-kb.sh --browser`. It starts everything it
// needs on 127.0.0.1 and stops it again:
//
//   1. a qiao-server (release) on a free port and a temporary data dir, serving the app build it
//      is given; one super admin (who edits the company space);
//   2. Debian's Chromium (playwright-core from tests/e2e): the super admin makes a page and fills
//      it with a generated 50-page handbook (about 100,000 characters, mostly Chinese, with
//      headings, lists, bold and links) the way a paste does (the editor's content replaced, one
//      `input` event); then reloads and opens the knowledge base, so that the page opens from
//      IndexedDB as it would the next day;
//   3. typing: the caret at the end of a paragraph in the middle of the page, `--keys` real key
//      presses (Latin letters and spaces); each timed inside the page from the keydown reaching
//      the page to the next frame after the `input` event's handlers (the app reads the editor back
//      and writes the change in its `input` handler; the browser has already put the character in
//      the element), with performance.now() and requestAnimationFrame, not Playwright round trips;
//   4. the peer, measured in the same page and run: the same page's HTML in a plain
//      `contenteditable` element with no handlers, in the editor's place and with its CSS, and the
//      same keys typed at the same place: what the browser itself needs to put a character into a
//      50-page editable element and paint it;
//   5. one Markdown table on stdout; progress on stderr.
//
// "Next frame": a requestAnimationFrame callback, then a MessageChannel message posted from it;
// the message runs after that frame's style, layout and paint.
//
// Options: --server-bin, --dist, --build (a label), --keys 60, --chars 100000, --budget-secs 600.

import { launchBrowser, newUserContext, loginViaApi } from "../../tests/e2e/lib/browser.mjs";
import { QiaoServer, REPO_ROOT } from "../../tests/e2e/lib/server.mjs";
import os from "node:os";
import path from "node:path";

const opt = {
  serverBin: path.join(REPO_ROOT, "target/release/qiao-server"),
  dist: path.join(REPO_ROOT, "dist"),
  build: "?",
  keys: 60,
  chars: 100_000,
  budgetSecs: 600,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const val = () => process.argv[++i];
  switch (a) {
    case "--server-bin": opt.serverBin = path.resolve(val()); break;
    case "--dist": opt.dist = path.resolve(val()); break;
    case "--build": opt.build = val(); break;
    case "--keys": opt.keys = Number(val()); break;
    case "--chars": opt.chars = Number(val()); break;
    case "--budget-secs": opt.budgetSecs = Number(val()); break;
    default:
      console.error(`bench-kb: unknown option ${a}`);
      process.exit(2);
  }
}

const T0 = Date.now();
const LOAD_AT_START = os.loadavg().map(x => x.toFixed(2)).join(" ");
const log = m => console.error(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const TITLE = "员工手册 · Handbook";

let server = null;
let browser = null;
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.cleanup().catch(() => {});
  })();
  return cleaning;
}
async function bail(code, why) {
  console.error(`bench-kb: ${why}`);
  await cleanup();
  process.exit(code);
}
const watchdog = setTimeout(() => bail(2, `over its budget of ${opt.budgetSecs} s; stopped`), opt.budgetSecs * 1000);
process.on("SIGINT", () => bail(130, "interrupted"));
process.on("SIGTERM", () => bail(143, "terminated"));

// --- the page's content ---------------------------------------------------------------------------

/** A deterministic 50-page handbook as the editor's HTML: about `chars` characters. */
function handbook(chars) {
  let seed = 2026;
  const rnd = n => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const zh = [
    "差旅费用须在出差结束后十五个工作日内报销，", "服务器发生故障时，值班工程师应在十五分钟内响应，",
    "办公用品统一由行政部采购，", "新员工入职第一周须完成信息安全培训，", "上线前在测试环境完成回归测试。",
    "会议纪要在一个工作日内发布到知识库。", "年假按自然年计算，当年未休部分可顺延至次年三月底。",
  ];
  const en = [
    "Expense claims must be filed within fifteen working days of returning from a trip. ",
    "Purchases above 5,000 CNY go through a tender; smaller ones are approved by the team lead. ",
    "Meeting notes are published to the knowledge base within one working day. ",
  ];
  const esc = s => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const out = [];
  let n = 0;
  let section = 0;
  while (n < chars) {
    if (out.length % 12 === 0) {
      const h = `第 ${++section} 章 · Chapter ${section}`;
      out.push(`<h2 data-kind="h2">${esc(h)}</h2>`);
      n += h.length + 1;
      continue;
    }
    const parts = [];
    let len = 0;
    const target = 80 + rnd(160);
    while (len < target) {
      const s = rnd(10) < 7 ? zh[rnd(zh.length)] : en[rnd(en.length)];
      const k = rnd(20);
      if (k === 0) parts.push(`<strong>${esc(s)}</strong>`);
      else if (k === 1) parts.push(`<a href="https://intranet.example.com/p/${rnd(50)}">${esc(s)}</a>`);
      else parts.push(esc(s));
      len += s.length;
    }
    const list = rnd(6) === 0;
    out.push(list ? `<div data-kind="bullet" class="kb-li kb-bullet">${parts.join("")}</div>` : `<p data-kind="p">${parts.join("")}</p>`);
    n += len + 1;
  }
  return { html: out.join(""), blocks: out.length, chars: n };
}

// --- in the page ----------------------------------------------------------------------------------

// Helpers installed in every document: the next frame, and a keystroke timer.
function instrument() {
  const now = () => performance.now();
  const kb = (window.__kb = {});
  kb.afterPaint = () =>
    new Promise(res =>
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => res(now());
        ch.port2.postMessage(0);
      }),
    );
  // Time the next key press in `el`: keydown (capture, before anyone) → after the `input`
  // event's handlers (a bubbling listener on window runs after the element's own) → next frame.
  kb.arm = el =>
    (kb.key = new Promise(resolve => {
      let t0 = null;
      const down = e => {
        if (e.key === "Shift") return;
        t0 = now();
        window.removeEventListener("keydown", down, true);
      };
      const input = async e => {
        if (!el.contains(e.target) && e.target !== el) return;
        window.removeEventListener("input", input, false);
        const handled = now();
        const painted = await kb.afterPaint();
        resolve({ handled: handled - t0, painted: painted - t0 });
      };
      window.addEventListener("keydown", down, true);
      window.addEventListener("input", input, false);
    }));
  kb.caretAtEnd = (el, i) => {
    el.focus();
    const r = document.createRange();
    r.selectNodeContents(el.children[i]);
    r.collapse(false);
    const s = getSelection();
    s.removeAllRanges();
    s.addRange(r);
  };
}

const editor = page => page.locator('[data-testid="kb-editor"]');
const saved = page =>
  page.waitForFunction(() => document.querySelector(".app-shell")?.dataset.saving === "false", null, { polling: 100, timeout: 120_000 });

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
}
function fmtMs(x) {
  if (!Number.isFinite(x)) return "—";
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  return `${x.toFixed(2)} ms`;
}
const p5095 = xs => `${fmtMs(quantile(xs, 0.5))} / ${fmtMs(quantile(xs, 0.95))}`;
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}×` : "—");

/** Type `opt.keys` keys at the end of block `at` of `sel`'s element; the timings. */
async function typeTimed(page, sel, at) {
  const out = [];
  await page.evaluate(([sel, at]) => window.__kb.caretAtEnd(document.querySelector(sel), at), [sel, at]);
  for (let k = 0; k < opt.keys; k++) {
    const key = k % 6 === 5 ? " " : "abcdefghij"[k % 10];
    await page.evaluate(sel => {
      window.__kb.arm(document.querySelector(sel));
    }, sel);
    await page.keyboard.press(key === " " ? "Space" : key);
    out.push(await page.evaluate(() => window.__kb.key));
    await sleep(120);
  }
  return out;
}

async function main() {
  server = new QiaoServer({ bin: opt.serverBin, distDir: opt.dist });
  await server.start();
  await server.addUser("writer", "kb-bench-password", "编辑 Writer", "super_admin");
  log(`qiao-server on ${server.base} (${opt.serverBin}); app: ${opt.dist} (${opt.build})`);

  browser = await launchBrowser();
  const ctx = await newUserContext(browser, { baseURL: server.base });
  await loginViaApi(ctx, "writer", "kb-bench-password");
  await ctx.addInitScript(instrument);
  const page = await ctx.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto("/");

  const content = handbook(opt.chars);
  log(`a page of ${content.blocks} blocks, ${content.chars} characters`);
  await page.getByTestId("open-kb").click();
  await page.getByTestId("kb-new-page").click();
  await page.getByTestId("kb-new-title").fill(TITLE);
  await page.getByTestId("kb-template-blank").check();
  await page.getByTestId("kb-create").click();
  await editor(page).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="kb-editor"]')?.children.length > 0, null, { polling: 100 });
  await sleep(500);
  // As a paste: the editor's content replaced, one input event.
  const pasted = await page.evaluate(async html => {
    const ed = document.querySelector('[data-testid="kb-editor"]');
    ed.focus();
    const t0 = performance.now();
    ed.innerHTML = html;
    ed.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste" }));
    const handled = performance.now();
    const painted = await window.__kb.afterPaint();
    return { handled: handled - t0, painted: painted - t0 };
  }, content.html);
  await saved(page);
  log(`pasted: handled in ${fmtMs(pasted.handled)}, painted after ${fmtMs(pasted.painted)}`);

  // The next day: the app opens, the page from IndexedDB (it is still the selected page).
  await page.reload();
  const opened = await page.evaluate(async expected => {
    const now = () => performance.now();
    const until = pred =>
      new Promise(res => {
        if (pred()) return res(now());
        const obs = new MutationObserver(() => {
          if (pred()) {
            obs.disconnect();
            res(now());
          }
        });
        obs.observe(document, { childList: true, subtree: true });
      });
    await until(() => document.querySelector('[data-testid="open-kb"]'));
    const t0 = now();
    document.querySelector('[data-testid="open-kb"]').click();
    await until(() => document.querySelector('[data-testid="kb-editor"]')?.children.length >= expected);
    const painted = await window.__kb.afterPaint();
    return { click: painted - t0, nav: painted };
  }, content.blocks);
  log(`reloaded: the page painted ${fmtMs(opened.click)} after the knowledge base's button (${fmtMs(opened.nav)} from navigation)`);
  await sleep(1000);

  const at = Math.floor(content.blocks / 2) | 1;
  log(`Qiao: ${opt.keys} keys at the end of block ${at}`);
  const qiao = await typeTimed(page, '[data-testid="kb-editor"]', at);
  await saved(page);
  const typed = await page.evaluate(at => document.querySelector('[data-testid="kb-editor"]').children[at].textContent.slice(-12), at);
  log(`Qiao typed: …${typed}`);

  // The peer: the same HTML in a plain contenteditable, in the editor's place.
  await page.evaluate(html => {
    const ed = document.querySelector('[data-testid="kb-editor"]');
    const peer = document.createElement("div");
    peer.className = ed.className;
    peer.id = "kb-peer";
    peer.contentEditable = "true";
    peer.spellcheck = false;
    peer.innerHTML = html;
    ed.style.display = "none";
    ed.after(peer);
  }, content.html);
  await sleep(500);
  log(`peer: ${opt.keys} keys at the end of block ${at}`);
  const peer = await typeTimed(page, "#kb-peer", at);
  const errors = ctx.qiaoLog.filter(l => /pageerror|CRASHED/.test(l));
  const chromium = browser.version();
  await cleanup();
  clearTimeout(watchdog);

  const q = qiao.map(x => x.painted);
  const qh = qiao.map(x => x.handled);
  const p = peer.map(x => x.painted);
  const ph = peer.map(x => x.handled);
  const cpu = os.cpus();
  const out = [];
  out.push(`# Knowledge base in the browser — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`);
  out.push("");
  out.push(`- machine: ${cpu.length} cores (${cpu[0]?.model ?? "?"}); load average at the start ${LOAD_AT_START}, at the end ${os.loadavg().map(x => x.toFixed(2)).join(" ")}`);
  out.push(`- browser: headless Chromium ${chromium} (Debian), 1280×800; app build: ${opt.build}`);
  out.push(`- page: ${content.blocks} blocks, ${content.chars.toLocaleString("en")} characters (${Math.round(content.chars / 2000)} pages of 2,000 characters); ${opt.keys} key presses at the end of block ${at}`);
  out.push("");
  out.push("| keystroke in a 50-page page, p50 / p95 | Qiao | peer: plain contenteditable | Qiao ÷ peer (p50 / p95) |");
  out.push("|---|---:|---:|---:|");
  out.push(`| keydown → painted (the next frame) | ${p5095(q)} | ${p5095(p)} | ${ratio(quantile(q, 0.5), quantile(p, 0.5))} / ${ratio(quantile(q, 0.95), quantile(p, 0.95))} |`);
  out.push(`| keydown → the input event handled | ${p5095(qh)} | ${p5095(ph)} | ${ratio(quantile(qh, 0.5), quantile(ph, 0.5))} |`);
  out.push(`| the page pasted whole (one input event) → painted | ${fmtMs(pasted.painted)} | | |`);
  out.push(`| after a reload: the knowledge base's button → the page painted from IndexedDB | ${fmtMs(opened.click)} (${fmtMs(opened.nav)} from navigation) | | |`);
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
