/*
 * Qiao 桥 — registers the service worker (/sw.js) and tells the app when a new version is
 * ready. Plain script, loaded with <script defer>, no modules.
 *
 * For the app:
 * - window event "qiao:update-ready" (CustomEvent, detail.reason = "worker" | "build") fires
 *   once when a newer version can be loaded. It may fire before the app has mounted, so also
 *   read window.qiaoUpdateReady (true once ready) when the banner component starts.
 * - window.qiaoApplyUpdate() switches to the new version: it activates a waiting worker
 *   (SKIP_WAITING) and reloads once that worker controls the page; with no waiting worker it
 *   simply reloads (the worker fetches index.html network-first).
 *
 * Two ways a new version is noticed, so the banner appears even when sw.js did not change:
 * - "worker": the browser installed a changed sw.js, which now waits.
 * - "build": index.html on the server (or the shell the worker just cached) names other hashed
 *   files than the ones this page runs.
 *
 * Escape hatch for development and tests: localStorage "qiao.sw" = "off" unregisters the worker
 * and drops its caches on the next load.
 */
(function () {
  "use strict";

  var CHECK_INTERVAL_MS = 30 * 60 * 1000;
  var MIN_CHECK_GAP_MS = 5 * 60 * 1000;
  var CACHE_PREFIX = "qiao-shell-";
  /* Same patterns as sw.js: quoted local static paths, and Trunk's content hash. */
  var ASSET_REF = /["'`]((?:\.{0,2}\/)?[\w\-./%]+\.(?:js|mjs|wasm|css|png|jpe?g|webp|gif|svg|ico|webmanifest|woff2?))["'`]/gi;
  var HASHED_PATH = /-[0-9a-f]{8,}(?:_bg)?\.[a-z0-9]+$/i;

  var registration = null;
  var announced = false;
  var reloadOnControllerChange = false;
  var reloading = false;
  var lastCheck = 0;

  window.qiaoUpdateReady = false;

  function reload() {
    if (reloading) return;
    reloading = true;
    window.location.reload();
  }

  window.qiaoApplyUpdate = function () {
    var waiting = registration && registration.waiting;
    if (waiting && navigator.serviceWorker.controller) {
      reloadOnControllerChange = true;
      waiting.postMessage({ type: "SKIP_WAITING" });
      // If the worker never takes over (it crashed, another tab holds it), reload anyway.
      window.setTimeout(reload, 4000);
    } else {
      reload();
    }
  };

  function announce(reason) {
    if (announced) return;
    announced = true;
    window.qiaoUpdateReady = true;
    window.dispatchEvent(new CustomEvent("qiao:update-ready", { detail: { reason: reason } }));
  }

  var loc = window.location;
  var local = loc.hostname === "localhost" || loc.hostname === "127.0.0.1" || loc.hostname === "[::1]";
  if (!("serviceWorker" in navigator)) return;
  if (loc.protocol !== "https:" && !(loc.protocol === "http:" && local)) return;

  var disabled = false;
  try {
    disabled = window.localStorage.getItem("qiao.sw") === "off";
  } catch (e) {
    /* storage blocked: keep the default */
  }
  if (disabled) {
    navigator.serviceWorker.getRegistrations().then(function (regs) {
      regs.forEach(function (reg) {
        reg.unregister();
      });
    });
    if (window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) {
          if (name.indexOf(CACHE_PREFIX) === 0) caches.delete(name);
        });
      });
    }
    return;
  }

  /* Hashed files named in an HTML string, as absolute hrefs without query. */
  function hashedAssets(html) {
    var out = [];
    var match;
    ASSET_REF.lastIndex = 0;
    while ((match = ASSET_REF.exec(html)) !== null) {
      var url;
      try {
        url = new URL(match[1], loc.href);
      } catch (e) {
        continue;
      }
      var href = url.origin + url.pathname;
      if (url.origin === loc.origin && HASHED_PATH.test(url.pathname) && out.indexOf(href) < 0) {
        out.push(href);
      }
    }
    return out;
  }

  /* The build this page runs: Trunk puts its <script>/<link> tags in <head>. */
  var runningAssets = hashedAssets(document.head ? document.head.innerHTML : "");

  function isOtherBuild(assets) {
    if (runningAssets.length === 0 || assets.length === 0) return false; // unhashed dev build
    return runningAssets.some(function (href) {
      return assets.indexOf(href) < 0;
    });
  }

  function checkForNewBuild() {
    if (announced || navigator.onLine === false) return;
    lastCheck = Date.now();
    fetch("/index.html", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (isOtherBuild(hashedAssets(html))) announce("build");
      })
      .catch(function () {
        /* offline or server down: try again later */
      });
  }

  function checkForUpdates() {
    if (Date.now() - lastCheck < MIN_CHECK_GAP_MS) return;
    if (registration) registration.update().catch(function () {});
    checkForNewBuild();
  }

  function watchInstalling(worker) {
    if (!worker) return;
    worker.addEventListener("statechange", function () {
      // "installed" with a controller present = an update is waiting. Without a controller it
      // is the very first install, which needs no banner.
      if (worker.state === "installed" && navigator.serviceWorker.controller) announce("worker");
    });
  }

  /* Resources this page loaded before the worker controlled it, so they work offline too. */
  function shareLoadedResources(worker) {
    if (!worker || !window.performance || !performance.getEntriesByType) return;
    var urls = performance
      .getEntriesByType("resource")
      .map(function (entry) {
        return entry.name;
      })
      .filter(function (name) {
        return name.indexOf(loc.origin + "/") === 0;
      });
    if (urls.length) worker.postMessage({ type: "CACHE_URLS", urls: urls });
  }

  navigator.serviceWorker.addEventListener("controllerchange", function () {
    if (reloadOnControllerChange) {
      reload();
    } else if (registration) {
      // Another tab activated a new worker; this page still runs its old build.
      lastCheck = 0;
      checkForNewBuild();
    }
  });

  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "SHELL_UPDATED" && Array.isArray(data.assets)) {
      var hashed = data.assets.filter(function (href) {
        return HASHED_PATH.test(new URL(href, loc.href).pathname);
      });
      if (isOtherBuild(hashed)) announce("build");
    }
  });

  function adopt(reg) {
    if (!reg) return;
    registration = reg;
    if (reg.waiting && navigator.serviceWorker.controller) announce("worker");
    watchInstalling(reg.installing);
    reg.addEventListener("updatefound", function () {
      watchInstalling(reg.installing);
    });
  }

  function register() {
    lastCheck = Date.now();
    navigator.serviceWorker
      .register("/sw.js", { scope: "/", updateViaCache: "none" })
      .catch(function (error) {
        // Offline start: fetching /sw.js fails, but the installed worker still runs the page.
        if (window.console) console.warn("Qiao: service worker registration failed", error);
        return navigator.serviceWorker.getRegistration("/");
      })
      .then(function (reg) {
        adopt(reg);
        return reg ? navigator.serviceWorker.ready : null;
      })
      .then(function (reg) {
        if (reg) shareLoadedResources(reg.active);
      })
      .catch(function () {});

    window.setInterval(checkForUpdates, CHECK_INTERVAL_MS);
    window.addEventListener("online", function () {
      lastCheck = 0;
      checkForUpdates();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") checkForUpdates();
    });
  }

  // After the page's own load, so the worker's precache does not compete with the wasm.
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register);
})();
