/*
 * Qiao 桥 — service worker: the app opens offline after one visit, and never strands anyone on
 * an old build.
 *
 * How it works
 * - The app shell is index.html plus the hashed files Trunk emits (/qiao-app-<hash>.js,
 *   /qiao-app-<hash>_bg.wasm, /main-<hash>.css). The worker reads the asset URLs out of
 *   index.html itself, so it needs no build step and no list kept by hand.
 * - A shell is committed to the cache only after every asset it names is cached, so the cached
 *   index.html and the cached wasm always belong to the same build (never a new page with a
 *   missing wasm while offline). Hashed files no cached shell names any more are then deleted.
 * - Navigations (and /index.html, /): network first; after 3 s, on a network error or a 5xx
 *   the cached shell answers. A newer shell seen on the network is committed in the background
 *   and open pages get {type: "SHELL_UPDATED"} so they can offer a reload.
 * - Hashed files: cache first (their name changes when their content does). Other static files
 *   (icons, manifest, sw-register.js): served from cache, refreshed in the background.
 * - /api/*, /sync, /sw.js, other origins and non-GET requests are not touched at all.
 * - A new worker waits until the page posts {type: "SKIP_WAITING"}  (sw-register.js does that
 *   when the user accepts the "new version" banner): no surprise swap under a running app.
 */
"use strict";

/* Bump when the caching logic in this file changes; old caches are dropped on activate. The
 * prefix is specific so the app's own Cache Storage (if any) is never touched. */
const CACHE_PREFIX = "qiao-shell-";
const CACHE = `${CACHE_PREFIX}v1`;

const SHELL_URL = "/index.html";
const SHELL_KEYS = ["/index.html", "/"];
const NAVIGATION_TIMEOUT_MS = 3000;

/* Small files cached on install when present; a missing one does not fail the install. */
const OPTIONAL_PRECACHE = [
  "/manifest.webmanifest",
  "/favicon.svg",
  "/sw-register.js",
  "/icons/icon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-512.png",
  "/icons/apple-touch-icon.png",
];

/* Files the worker may cache. Anything else (JSON, downloads, ...) goes to the network. */
const STATIC_PATH = /\.(?:js|mjs|wasm|css|png|jpe?g|webp|gif|svg|ico|webmanifest|woff2?|ftl)$/i;
/* Trunk's content hash: name-<hex>.ext or name-<hex>_bg.wasm; wasm-bindgen snippets live under
 * /snippets/<crate>-<hash>/. */
const HASHED_PATH = /-[0-9a-f]{8,}(?:_bg)?\.[a-z0-9]+$/i;
/* Quoted local paths to static files in index.html: href="...", src="...", import '...'. */
const ASSET_REF = /["'`]((?:\.{0,2}\/)?[\w\-./%]+\.(?:js|mjs|wasm|css|png|jpe?g|webp|gif|svg|ico|webmanifest|woff2?))["'`]/gi;

/* ---- Classifying requests ---------------------------------------------------------------- */

function isBypassed(url) {
  if (url.origin !== self.location.origin) return true;
  const p = url.pathname;
  return (
    p === "/api" ||
    p.startsWith("/api/") ||
    p === "/sync" ||
    p.startsWith("/sync/") ||
    p === "/sw.js"
  );
}

function isStatic(url) {
  return STATIC_PATH.test(url.pathname);
}

function isImmutable(url) {
  return HASHED_PATH.test(url.pathname) || url.pathname.startsWith("/snippets/");
}

function isShellRequest(request, url) {
  return request.mode === "navigate" || SHELL_KEYS.includes(url.pathname);
}

/* A 200 HTML page; looksLikeShell() then checks that it loads our wasm (not a proxy's login
 * or error page, which must never become the offline shell). */
function isUsableShell(response) {
  return (
    response &&
    response.ok &&
    (response.headers.get("content-type") || "").includes("text/html")
  );
}

/* ---- Shell bookkeeping ------------------------------------------------------------------- */

/** Same-origin static URLs named in an HTML document, as sorted absolute hrefs. */
function extractAssets(html, base) {
  const found = new Set();
  for (const match of html.matchAll(ASSET_REF)) {
    let url;
    try {
      url = new URL(match[1], base);
    } catch {
      continue;
    }
    if (!isBypassed(url) && isStatic(url)) found.add(url.origin + url.pathname);
  }
  return [...found].sort();
}

function looksLikeShell(assets) {
  return assets.some((href) => href.endsWith(".wasm"));
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/* One fetch per URL at a time: the page and the shell refresh often ask for the same wasm. */
const inflight = new Map();

function fetchAndCache(cache, href) {
  let pending = inflight.get(href);
  if (!pending) {
    pending = fetch(href, { credentials: "same-origin" })
      .then(async (response) => {
        if (response.ok && response.type === "basic") await cache.put(href, response.clone());
        return response;
      })
      .finally(() => inflight.delete(href));
    inflight.set(href, pending);
  }
  return pending.then((response) => response.clone());
}

async function cacheIfMissing(cache, href) {
  if (await cache.match(href, { ignoreVary: true })) return;
  const response = await fetchAndCache(cache, href);
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
}

/* Commits run one at a time so two refreshes cannot interleave their puts and deletes. */
let shellLock = Promise.resolve();

function withShellLock(task) {
  const run = shellLock.then(task, task);
  shellLock = run.catch(() => {});
  return run;
}

async function cachedShellAssets(cache) {
  const cached = await cache.match(SHELL_URL);
  return cached ? extractAssets(await cached.text(), self.location.origin + "/") : null;
}

/**
 * Caches every asset the shell names, then the shell itself, then drops hashed files that
 * belonged to older builds. Throws (leaving the previous shell in place) if an asset fails.
 */
async function commitShell(cache, html, assets) {
  await Promise.all(assets.map((href) => cacheIfMissing(cache, href)));
  for (const key of SHELL_KEYS) {
    await cache.put(
      key,
      new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }),
    );
  }
  const keep = new Set(assets);
  for (const request of await cache.keys()) {
    const url = new URL(request.url);
    // Snippets are loaded by the wasm at run time and never named in index.html: keep them.
    const stale =
      HASHED_PATH.test(url.pathname) &&
      !url.pathname.startsWith("/snippets/") &&
      !keep.has(url.origin + url.pathname);
    if (stale) await cache.delete(request);
  }
}

/** A shell arrived from the network: commit it if it is a different build, tell open pages. */
function adoptShell(response) {
  return withShellLock(async () => {
    const html = await response.text();
    const assets = extractAssets(html, response.url || self.location.origin + "/");
    if (!looksLikeShell(assets)) return;
    const cache = await caches.open(CACHE);
    const previous = await cachedShellAssets(cache);
    if (previous && sameList(previous, assets)) return;
    await commitShell(cache, html, assets);
    if (previous) {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) client.postMessage({ type: "SHELL_UPDATED", assets });
    }
  });
}

/* ---- Strategies -------------------------------------------------------------------------- */

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function handleShell(event) {
  // Clone before anyone reads the body: one copy for the page, one for the cache.
  const network = fetch(event.request).then((response) => ({ response, copy: response.clone() }));
  event.waitUntil(
    network
      .then(({ response, copy }) => (isUsableShell(response) ? adoptShell(copy) : undefined))
      .catch(() => {}),
  );
  event.respondWith(respondWithShell(network));
}

async function respondWithShell(network) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(SHELL_URL);
  if (!cached) {
    try {
      return (await network).response;
    } catch {
      return offlineResponse();
    }
  }
  return Promise.race([
    // A 5xx (server down behind a proxy) is no better than being offline.
    network.then(({ response }) => (response.status >= 500 ? cached : response), () => cached),
    delay(NAVIGATION_TIMEOUT_MS).then(() => cached),
  ]);
}

async function cacheFirst(href) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(href, { ignoreVary: true });
  return cached || fetchAndCache(cache, href);
}

function handleStaleWhileRevalidate(event, href) {
  const cacheP = caches.open(CACHE);
  const network = cacheP.then((cache) => fetchAndCache(cache, href));
  const response = cacheP
    .then((cache) => cache.match(href, { ignoreVary: true }))
    .then((cached) => cached || network);
  event.waitUntil(network.catch(() => {}));
  event.respondWith(response);
}

/* First visit while the server is unreachable and nothing is cached yet. */
function offlineResponse() {
  const html = `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Qiao 桥</title>
<style>body{margin:0;padding:20vh 1.5rem;font:15px/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;text-align:center;color:#1a232b;background:#f3f6f8}
@media (prefers-color-scheme:dark){body{color:#e3e9ee;background:#161c21}}
h1{font-size:20px;margin:0 0 .5em}a{color:#0e7789}</style></head><body>
<h1>暂时无法连接到桥</h1><p>首次打开需要联网，请检查网络后<a href="">重试</a>。</p>
<p lang="en">Qiao cannot be reached. The first visit needs a connection; check your network and <a href="">try again</a>.</p>
</body></html>`;
  return new Response(html, {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

/* ---- Lifecycle --------------------------------------------------------------------------- */

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        OPTIONAL_PRECACHE.map((path) =>
          cacheIfMissing(cache, new URL(path, self.location.origin).href).catch(() => {}),
        ),
      );
      // The shell is required: without it the worker would be useless offline, so a failure
      // here fails the install and the browser tries again on the next visit.
      const response = await fetch(SHELL_URL, { cache: "no-cache", credentials: "same-origin" });
      if (!isUsableShell(response)) throw new Error(`shell: HTTP ${response.status}`);
      const html = await response.text();
      const assets = extractAssets(html, response.url);
      if (!looksLikeShell(assets)) throw new Error("shell: index.html names no .wasm");
      await withShellLock(() => commitShell(cache, html, assets));
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
      // Take over the page that registered us, so its later requests are cached too.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "SKIP_WAITING") {
    self.skipWaiting();
  } else if (data.type === "CACHE_URLS" && Array.isArray(data.urls)) {
    // Files the page loaded before this worker controlled it (wasm-bindgen snippets, ...).
    event.waitUntil(
      caches.open(CACHE).then((cache) =>
        Promise.all(
          data.urls.map((raw) => {
            let url;
            try {
              url = new URL(String(raw), self.location.origin);
            } catch {
              return undefined;
            }
            if (isBypassed(url) || !isStatic(url)) return undefined;
            return cacheIfMissing(cache, url.origin + url.pathname).catch(() => {});
          }),
        ),
      ),
    );
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.has("range")) return;
  const url = new URL(request.url);
  if (isBypassed(url)) return; // /api, /sync, other origins: straight to the network

  if (isStatic(url)) {
    if (url.search) return; // versioned by query string: leave it to the HTTP cache
    const href = url.origin + url.pathname;
    if (isImmutable(url)) event.respondWith(cacheFirst(href));
    else handleStaleWhileRevalidate(event, href);
    return;
  }
  if (isShellRequest(request, url)) handleShell(event);
});

/* ---- Web push ------------------------------------------------------------------------------
 * The relay encrypts a small JSON payload for this device (see sync-server/src/push.rs):
 *   { kind: "dm" | "mention" | "reminder" | "approval" | "approved" | "rejected" | "ticket",
 *     title, place, body, tag, url }
 * The worker words it in the browser's language (the worker cannot read the app's setting) and
 * shows it; a click focuses an open Qiao window and tells it where to go ({type: "QIAO_OPEN"}),
 * or opens the app at `url`. */

const PUSH_TEXT = {
  zh: {
    mention: (p) => `${p.title} 在「${p.place}」中提到了你`,
    reminder: (p) => `任务提醒：${p.title}`,
    reminderBody: "点击查看任务",
    approval: (p) => `待你审批：${p.title}`,
    approvalBody: (p) => `${p.body} 上传到「${p.place}」`,
    approved: (p) => `已通过：${p.title}`,
    rejected: (p) => `被驳回：${p.title}`,
    ticket: (p) => `新报修：${p.title}`,
    fallback: "桥 有新消息",
  },
  en: {
    mention: (p) => `${p.title} mentioned you in ${p.place}`,
    reminder: (p) => `Task reminder: ${p.title}`,
    reminderBody: "Open the task",
    approval: (p) => `Awaiting your approval: ${p.title}`,
    approvalBody: (p) => `${p.body} added it to ${p.place}`,
    approved: (p) => `Approved: ${p.title}`,
    rejected: (p) => `Rejected: ${p.title}`,
    ticket: (p) => `New ticket: ${p.title}`,
    fallback: "New activity in Qiao",
  },
};

function pushLanguage() {
  const lang = (self.navigator && self.navigator.language) || "zh-CN";
  return lang.toLowerCase().startsWith("en") ? "en" : "zh";
}

/** The notification's title and options for a payload. */
function notificationFor(payload) {
  const t = PUSH_TEXT[pushLanguage()];
  const p = payload && typeof payload === "object" ? payload : {};
  const str = (v) => (typeof v === "string" ? v : "");
  // Only a same-origin path is ever opened: a payload cannot send the reader elsewhere.
  const url = str(p.url).startsWith("/") && !str(p.url).startsWith("//") ? str(p.url) : "/";
  let title = t.fallback;
  let body = str(p.body);
  if (p.kind === "dm") title = str(p.title) || t.fallback;
  else if (p.kind === "mention") title = t.mention({ title: str(p.title), place: str(p.place) });
  else if (p.kind === "reminder") {
    title = t.reminder({ title: str(p.title) });
    body = body || t.reminderBody;
  } else if (p.kind === "approval") {
    title = t.approval({ title: str(p.title) });
    body = t.approvalBody({ body: str(p.body), place: str(p.place) });
  } else if (p.kind === "approved" || p.kind === "rejected") {
    title = t[p.kind]({ title: str(p.title) });
    body = str(p.body) || str(p.place);
  } else if (p.kind === "ticket") {
    title = t.ticket({ title: str(p.title) });
  }
  return {
    title,
    options: {
      body,
      tag: str(p.tag) || undefined,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data: { url },
      // A new message in the same conversation replaces the old notification and still rings.
      renotify: Boolean(p.tag),
    },
  };
}

self.addEventListener("push", (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null;
  }
  const { title, options } = notificationFor(payload);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const mine = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (mine) {
        mine.postMessage({ type: "QIAO_OPEN", url });
        try {
          await mine.focus();
        } catch {
          /* focusing may be refused; the page still goes there */
        }
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
