// Waiting in the browser tests, written once.

/** Wait until the app's connection indicator says `state` ("online", "offline", …). The
 * indicator may be hidden (a phone's layout hides it), so it need only be in the page. */
export const connState = (page, state, timeout = 20_000) =>
  page.waitForSelector(`[data-testid="conn-status"][data-state="${state}"]`, { state: "attached", timeout });

/** Wait until the page's service worker is active and controls it (so it serves the app when
 * the network is gone). */
export async function serviceWorkerReady(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise(r => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    }
  });
}

/** Poll `fn` until it returns `true`; on timeout, fail naming `what` and the last answer. */
export async function until(page, what, fn, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}
