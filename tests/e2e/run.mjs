// A minimal runner for the browser journeys (no test framework).
//
//   cd tests/e2e && npm ci && node run.mjs [filter ...] [--timeout=ms] [--list]
//
// Runs every test of specs/*.spec.mjs in file order, one after another. A spec file exports
//   export default async function (t) { ... }                   // one test, named after the file
// or
//   export default [ async function login_works(t) {...},        // named functions, or
//                    { name: "...", fn: async t => {...}, timeout: 60_000 } ];
// A filter (case-insensitive substring, any of several) selects tests by "<file>: <name>".
// Per-test timeout: --timeout=ms, else E2E_TIMEOUT_MS, else 120 s (a test's own `timeout` wins).
//
// The test context `t` (see makeContext below) starts servers and browser contexts and cleans them
// up after the test, whatever happened. When a test fails, every page it opened is screenshotted
// and the server output and page console logs are saved under artifacts/<test>/.
//
// Output: "✓ name (ms)" / "✗ name: error" per test, then exactly "N passed, N failed" as the last
// line. Exit code 1 on any failure, and when no test ran.

import { readdirSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { QiaoServer } from "./lib/server.mjs";
import { launchBrowser, newUserContext, login, loginViaApi, screenshotPages } from "./lib/browser.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SPECS = path.join(HERE, "specs");
const ARTIFACTS = path.join(HERE, "artifacts");

const argv = process.argv.slice(2);
const opt = name => argv.find(a => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const filters = argv.filter(a => !a.startsWith("--")).map(f => f.toLowerCase());
const DEFAULT_TIMEOUT = Number(opt("timeout") || process.env.E2E_TIMEOUT_MS || 120_000);
const LIST_ONLY = argv.includes("--list");

const slug = s => s.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").slice(0, 80) || "test";
const sleep = ms => new Promise(r => setTimeout(r, ms));

// ------------------------------------------------------------------ discovery

async function discover() {
  let files;
  try {
    files = readdirSync(SPECS).filter(f => f.endsWith(".spec.mjs")).sort();
  } catch {
    files = [];
  }
  const tests = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(SPECS, file)).href);
    const base = file.replace(/\.spec\.mjs$/, "");
    const exported = mod.default;
    const items = typeof exported === "function" ? [{ name: exported.name && exported.name !== "default" ? exported.name : base, fn: exported }] : exported;
    if (!Array.isArray(items)) throw new Error(`${file}: export default a test function or an array of tests`);
    items.forEach((it, i) => {
      const test = typeof it === "function" ? { name: it.name || `test ${i + 1}`, fn: it } : it;
      if (!test || typeof test.fn !== "function") throw new Error(`${file}: test #${i + 1} has no fn`);
      tests.push({ ...test, file, full: `${base}: ${test.name}` });
    });
  }
  return tests;
}

// ------------------------------------------------------------------ the test context

let sharedBrowser = null;
async function getBrowser() {
  if (sharedBrowser && sharedBrowser.isConnected()) return sharedBrowser;
  sharedBrowser = await launchBrowser();
  return sharedBrowser;
}

function makeContext(test, timeout) {
  const servers = [];
  const contexts = [];
  const deferred = [];
  const abort = new AbortController();
  const logs = [];
  const t = {
    name: test.full,
    timeout,
    /** Aborted when the test times out: pass it to long waits of your own. */
    signal: abort.signal,
    log: (...a) => {
      const line = a.map(x => (typeof x === "string" ? x : JSON.stringify(x))).join(" ");
      logs.push(line);
      if (process.env.E2E_VERBOSE) console.log(`    ${line}`);
    },
    /** A QiaoServer, not started yet (see lib/server.mjs); stopped and deleted after the test. */
    server(o) {
      const s = new QiaoServer(o);
      servers.push(s);
      return s;
    },
    /** A started QiaoServer. */
    async startServer(o) {
      return t.server(o).start();
    },
    /** The run's shared Chromium. */
    browser: getBrowser,
    /** A new browser profile (one per user); baseURL defaults to the last server started. */
    async newContext(o = {}) {
      const last = servers[servers.length - 1];
      const ctx = await newUserContext(await getBrowser(), { baseURL: last ? last.base : undefined, ...o });
      contexts.push(ctx);
      return ctx;
    },
    /** A page in a new context. */
    async newPage(o) {
      const ctx = await t.newContext(o);
      return ctx.newPage();
    },
    login,
    loginViaApi,
    /** Run `fn` after the test (last registered first), pass or fail. */
    defer(fn) {
      deferred.push(fn);
    },
    /** A path in this test's artifact directory. */
    artifact(name) {
      const dir = path.join(ARTIFACTS, slug(test.full));
      mkdirSync(dir, { recursive: true });
      return path.join(dir, name);
    },
    sleep,
  };
  const internals = {
    abort,
    async saveFailure() {
      const dir = path.join(ARTIFACTS, slug(test.full));
      mkdirSync(dir, { recursive: true });
      const saved = [];
      let i = 0;
      for (const ctx of contexts) {
        i++;
        try {
          saved.push(...(await screenshotPages(ctx.pages(), dir, `user${i}-page`)));
        } catch {
          /* the browser may be gone */
        }
        if (ctx.qiaoLog.length) {
          const f = path.join(dir, `user${i}-console.log`);
          writeFileSync(f, ctx.qiaoLog.join("\n") + "\n");
          saved.push(f);
        }
      }
      servers.forEach((s, n) => {
        const f = path.join(dir, `server${n + 1}.log`);
        s.saveLog(f);
        saved.push(f);
      });
      if (logs.length) {
        const f = path.join(dir, "test.log");
        writeFileSync(f, logs.join("\n") + "\n");
        saved.push(f);
      }
      return saved;
    },
    async cleanup() {
      for (const fn of deferred.reverse()) {
        try {
          await Promise.race([fn(), sleep(10_000)]);
        } catch (e) {
          console.log(`    (cleanup: ${e.message})`);
        }
      }
      for (const ctx of contexts) await Promise.race([ctx.close().catch(() => {}), sleep(5000)]);
      for (const s of servers) await s.cleanup().catch(e => console.log(`    (server cleanup: ${e.message})`));
    },
  };
  return { t, internals };
}

// ------------------------------------------------------------------ running

// A rejection nobody awaited (a floating promise in a test) fails the test that is running,
// instead of ending the process as Node would.
let strays = [];
process.on("unhandledRejection", e => strays.push(e instanceof Error ? e : new Error(String(e))));
process.on("uncaughtException", e => strays.push(e));

async function runOne(test) {
  const timeout = test.timeout || DEFAULT_TIMEOUT;
  strays = [];
  rmSync(path.join(ARTIFACTS, slug(test.full)), { recursive: true, force: true });
  const { t, internals } = makeContext(test, timeout);
  const t0 = Date.now();
  let error = null;
  let timer;
  try {
    await Promise.race([
      Promise.resolve().then(() => test.fn(t)),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          internals.abort.abort(new Error("test timed out"));
          reject(new Error(`timed out after ${timeout} ms`));
        }, timeout);
      }),
    ]);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
  }
  if (!error && strays.length) error = new Error(`unhandled error during the test: ${strays[0].message}`);
  const ms = Date.now() - t0;
  let saved = [];
  if (error) saved = await internals.saveFailure().catch(() => []);
  await internals.cleanup();
  if (!error) {
    console.log(`✓ ${test.full} (${ms} ms)`);
    return true;
  }
  const [first, ...rest] = (error.message || String(error)).split("\n");
  console.log(`✗ ${test.full}: ${first}`);
  for (const line of rest.slice(0, 20)) console.log(`    ${line}`);
  const stack = (error.stack || "").split("\n").filter(l => l.includes("/specs/") || l.includes("/lib/")).slice(0, 5);
  for (const line of stack) console.log(`    ${line.trim()}`);
  if (saved.length) console.log(`    artifacts: ${path.relative(process.cwd(), path.dirname(saved[0]))}/`);
  return false;
}

let passed = 0;
let failed = 0;
let exitCode = 0;
try {
  const all = await discover();
  const tests = filters.length ? all.filter(x => filters.some(f => x.full.toLowerCase().includes(f))) : all;
  if (LIST_ONLY) {
    for (const x of tests) console.log(x.full);
  } else {
    if (tests.length === 0) console.log(filters.length ? `no test matches ${filters.join(", ")}` : `no tests in ${SPECS}`);
    for (const test of tests) {
      if (await runOne(test)) passed++;
      else failed++;
    }
    if (tests.length === 0) exitCode = 1;
  }
} catch (e) {
  failed++;
  console.log(`✗ runner: ${e.stack || e}`);
} finally {
  if (sharedBrowser) await Promise.race([sharedBrowser.close().catch(() => {}), sleep(5000)]);
}
if (strays.length) {
  // Errors that surfaced after the last test had finished.
  failed++;
  console.log(`✗ unhandled error after the tests: ${strays[0].message}`);
}
if (!LIST_ONLY) console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : exitCode);
