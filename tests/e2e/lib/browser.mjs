// Debian's Chromium driven by playwright-core (no downloaded browser: `npx playwright install`
// cannot work on these machines). One browser per run; one context per user (a context is a
// separate profile: cookies, localStorage, IndexedDB, service workers).
//
//   const browser = await launchBrowser();
//   const ctx = await newUserContext(browser, { baseURL: server.base });
//   const page = await ctx.newPage();
//   await login(page, "bob", "bobpassword1");
//   await screenshotPages([page], "tests/e2e/artifacts/x");
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launch headless Chromium. Playwright gives each launch a fresh temporary profile. */
export function launchBrowser({ executablePath = CHROMIUM_PATH, args = [], headless = true, timeout = 30_000 } = {}) {
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...args], headless, timeout });
}

/**
 * A new context (= one user's browser profile) with `baseURL`, so `page.goto("/")` works.
 * Console errors and uncaught page errors of its pages are collected in `context.qiaoLog`
 * (the runner saves them when a test fails).
 */
export async function newUserContext(browser, { baseURL, locale = "zh-CN", viewport = { width: 1280, height: 800 }, ...rest } = {}) {
  const context = await browser.newContext({ baseURL, locale, viewport, ...rest });
  context.qiaoLog = [];
  const stamp = () => new Date().toISOString().slice(11, 23);
  context.on("page", page => watchPage(context, page, stamp));
  for (const page of context.pages()) watchPage(context, page, stamp);
  return context;
}

function watchPage(context, page, stamp) {
  const n = context.pages().indexOf(page);
  page.on("console", m => {
    if (m.type() === "error" || m.type() === "warning") context.qiaoLog.push(`${stamp()} [page ${n}] console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", e => context.qiaoLog.push(`${stamp()} [page ${n}] pageerror: ${e.message}`));
  page.on("requestfailed", r => context.qiaoLog.push(`${stamp()} [page ${n}] requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("crash", () => context.qiaoLog.push(`${stamp()} [page ${n}] CRASHED`));
}

/**
 * Log in through the app's login form (data-testid login-username / login-password /
 * login-submit) and wait for the server's answer. Opens "/" first when the page is not on the
 * app yet. Resolves with the login response body; rejects with the status, the body and any
 * error the form shows.
 */
export async function login(page, username, password, { timeout = 30_000 } = {}) {
  if (!/^https?:/.test(page.url())) await page.goto("/");
  const form = page.getByTestId("login-form");
  await form.waitFor({ state: "visible", timeout });
  await page.getByTestId("login-username").fill(username);
  await page.getByTestId("login-password").fill(password);
  const answer = page.waitForResponse(r => new URL(r.url()).pathname === "/api/auth/login" && r.request().method() === "POST", { timeout });
  await page.getByTestId("login-submit").click();
  const res = await answer;
  const body = await res.text();
  if (!res.ok()) {
    const shown = await page.getByTestId("login-error").textContent({ timeout: 2000 }).catch(() => null);
    throw new Error(`login ${username} → ${res.status()} ${body}${shown ? ` (form shows "${shown}")` : ""}`);
  }
  // The app swaps the login page for the shell once it has the session.
  await form.waitFor({ state: "detached", timeout });
  return JSON.parse(body);
}

/**
 * Log in without the UI: the context gets the session cookie (playwright's request API shares
 * the context's cookie jar). For journeys that are not about logging in.
 */
export async function loginViaApi(context, username, password) {
  const res = await context.request.post("/api/auth/login", { data: { username, password } });
  if (!res.ok()) throw new Error(`login ${username} → ${res.status()} ${await res.text()}`);
  return res.json();
}

/** Simulate losing / regaining the network for one user (the server stays up). */
export function setOffline(context, offline) {
  return context.setOffline(offline);
}

/** Screenshot every open page into `dir` as <prefix>-<n>.png; returns the files written. */
export async function screenshotPages(pages, dir, prefix = "page") {
  mkdirSync(dir, { recursive: true });
  const files = [];
  let n = 0;
  for (const page of pages) {
    n++;
    if (page.isClosed()) continue;
    const file = path.join(dir, `${prefix}-${n}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
      files.push(file);
    } catch (e) {
      writeFileSync(`${file}.txt`, `screenshot failed: ${e.message}\n`);
    }
  }
  return files;
}
