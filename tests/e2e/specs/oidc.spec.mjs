// Single sign-on through a real OpenID Connect provider: panva's `oidc-provider` (a certified
// implementation), started here on 127.0.0.1 with a client registered for Qiao's redirect URI,
// its own RSA signing key, and its development login and consent pages (any password; the
// login name becomes the account's `preferred_username`).
//
// The provider's issuer is http://localhost:<port> while Qiao is http://127.0.0.1:<port>: two
// different sites, so the redirects between them are cross-site as in a real deployment (the
// binding cookie must survive the provider's redirect back, SameSite=Lax; the session cookie is
// SameSite=Strict).
//
// Qiao is configured through the admin API as the super admin, or through the console's form.
// Journeys: a known account lands in the app logged in; an account Qiao does not have is refused
// with the message on the login page; a callback replayed in another browser, replayed in the
// same one, or forged is refused; the console form saves the settings and never shows the secret.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";
import { freePort } from "../lib/server.mjs";

const CLIENT_ID = "qiao-e2e";
// Characters that must be form-encoded in HTTP Basic (RFC 6749 §2.3.1).
const CLIENT_SECRET = "e2e-Secret+/=&%:~ 42";
const BUTTON = "使用公司账号登录";

/** A started provider: { issuer, close() }. */
async function startProvider(redirectUri) {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...key, kid: "e2e-rsa", use: "sig", alg: "RS256" }] },
    cookies: { keys: ["e2e-cookie-signing-key"] },
    // By the spec, scope claims go to userinfo, not into the ID token: Qiao must fetch them.
    claims: { openid: ["sub"], profile: ["preferred_username", "name"], email: ["email"] },
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, name: id }) };
    },
    features: { devInteractions: { enabled: true } },
  });
  const server = provider.listen(port, "127.0.0.1");
  await new Promise((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return {
    issuer,
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
}

/** Qiao with its public URL set (the redirect URI comes from it), one employee, a provider. */
async function setUp(t) {
  const port = await freePort();
  const server = await t.startServer({ port, args: ["--public-url", `http://127.0.0.1:${port}`] });
  await server.addUser("li.lei", "li-lei-password", "李雷", "employee");
  const idp = await startProvider(server.url("/api/auth/oidc/callback"));
  t.defer(idp.close);
  return { server, idp };
}

/**
 * A page in a new browser profile that reaches only loopback addresses (the provider's
 * development pages would otherwise ask for a web font).
 */
async function newPage(t) {
  const page = await t.newPage();
  await page.context().route(
    url => !["127.0.0.1", "localhost"].includes(url.hostname),
    route => route.abort(),
  );
  return page;
}

async function configureViaApi(server, idp) {
  const { token } = await server.login("admin", server.adminPassword);
  const saved = await server.api("PUT", "/api/admin/settings/oidc", {
    token,
    body: {
      enabled: true,
      issuer: idp.issuer,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      claim: "preferred_username",
      button_label: BUTTON,
    },
  });
  assert.equal(saved.client_secret_set, true);
  assert.ok(!JSON.stringify(saved).includes(CLIENT_SECRET), "the secret is not returned");
  return token;
}

/**
 * From Qiao's login page through the provider's login and consent pages as `login`. Resolves
 * with the callback URL the provider sent the browser to. `deliver: false` stops the browser
 * there (the callback never reaches Qiao), as an attacker keeping the URL for someone else would.
 */
async function signInAtProvider(page, idp, login, { deliver = true } = {}) {
  await page.goto("/");
  const button = page.getByTestId("login-sso");
  await button.waitFor({ timeout: 30_000 });
  assert.equal((await button.textContent()).trim(), BUTTON);
  // Playwright's routes do not see the hops of a redirect chain, and the callback is one (the
  // provider answers its consent form with a 303): watch it through the DevTools protocol.
  let callback = null;
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Fetch.requestPaused", async e => {
    callback = e.request.url;
    if (deliver) await cdp.send("Fetch.continueRequest", { requestId: e.requestId });
    else await cdp.send("Fetch.failRequest", { requestId: e.requestId, errorReason: "Aborted" });
  });
  await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*/api/auth/oidc/callback*", requestStage: "Request" }] });
  await button.click();
  await page.waitForURL(u => u.origin === idp.issuer, { timeout: 15_000 });
  // oidc-provider's development login page, then its consent page.
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.locator('button[type="submit"]').click();
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  await consent.waitFor({ timeout: 15_000 });
  await consent.click();
  if (deliver) {
    await page.waitForURL(u => u.origin !== idp.issuer && !u.pathname.startsWith("/api/"), { timeout: 15_000 });
  } else {
    const deadline = Date.now() + 15_000;
    while (!callback && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  }
  await cdp.send("Fetch.disable");
  await cdp.detach();
  assert.ok(callback, "the provider sent the browser to the callback");
  return callback;
}

const loginError = async page => (await page.getByTestId("login-error").textContent({ timeout: 15_000 })).trim();

export default [
  {
    name: "a known account signs in with the company provider and lands in the app",
    timeout: 120_000,
    fn: async t => {
      const { server, idp } = await setUp(t);
      await configureViaApi(server, idp);
      const page = await newPage(t);
      const callback = await signInAtProvider(page, idp, "li.lei");
      await page.getByTestId("user-name").waitFor({ timeout: 30_000 });
      assert.equal((await page.getByTestId("user-name").textContent()).trim(), "李雷");
      assert.equal(new URL(page.url()).search, "", "nothing from the login stays in the app's URL");
      const me = await page.evaluate(async () => (await fetch("/api/me")).json());
      assert.equal(me.username, "li.lei");
      // The session cookie is the password login's: HttpOnly, not readable by the page.
      assert.equal(await page.evaluate(() => document.cookie.includes("qiao_session")), false);
      const cookies = await page.context().cookies(server.base);
      const session = cookies.find(c => c.name === "qiao_session");
      assert.ok(session && session.httpOnly && session.sameSite === "Strict", JSON.stringify(cookies));
      assert.ok(!cookies.some(c => c.name === "qiao_oidc" && c.value), "the binding cookie is cleared");
      assert.ok(!new URL(callback).searchParams.has("id_token"), "no token in the callback URL");

      // The audit log has the login.
      const { token } = await server.login("admin", server.adminPassword);
      const audit = await server.api("GET", "/api/admin/audit?action=auth.oidc_login", { token });
      assert.equal(audit.entries[0].outcome, "ok");
      assert.equal(audit.entries[0].username, "li.lei");
    },
  },
  {
    name: "an account Qiao does not have is refused with a message on the login page",
    timeout: 120_000,
    fn: async t => {
      const { server, idp } = await setUp(t);
      await configureViaApi(server, idp);
      const page = await newPage(t);
      await signInAtProvider(page, idp, "stranger");
      assert.match(await loginError(page), /还没有您的账号/);
      assert.equal(new URL(page.url()).search, "", "the error code is taken out of the address");
      await page.getByTestId("login-form").waitFor();
      const me = await page.evaluate(async () => (await fetch("/api/me")).status);
      assert.equal(me, 401, "not logged in");
      const { token } = await server.login("admin", server.adminPassword);
      const audit = await server.api("GET", "/api/admin/audit?action=auth.oidc_login", { token });
      assert.equal(audit.entries[0].outcome, "refused");
      assert.match(audit.entries[0].detail, /unknown_account: preferred_username=stranger/);
    },
  },
  {
    name: "a replayed or forged callback is refused",
    timeout: 120_000,
    fn: async t => {
      const { server, idp } = await setUp(t);
      await configureViaApi(server, idp);
      const victim = await newPage(t);
      const attacker = await newPage(t);
      // The attacker signs in at the provider but does not let their browser finish: the
      // callback URL (their code and state) is carried to the victim's browser instead.
      const carried = await signInAtProvider(attacker, idp, "li.lei", { deliver: false });
      await victim.goto(carried);
      await victim.getByTestId("login-form").waitFor({ timeout: 15_000 });
      assert.match(await loginError(victim), /超时|并非在此浏览器/);
      assert.equal(await victim.evaluate(async () => (await fetch("/api/me")).status), 401);

      // The same URL in the attacker's own browser now: the state was spent by the first try.
      await attacker.goto(carried);
      await attacker.getByTestId("login-form").waitFor({ timeout: 15_000 });
      assert.match(await loginError(attacker), /超时|并非在此浏览器/);

      // A state nobody issued.
      await victim.goto("/api/auth/oidc/callback?code=made-up&state=forged-state");
      assert.match(await loginError(victim), /超时|并非在此浏览器/);

      const { token } = await server.login("admin", server.adminPassword);
      const audit = await server.api("GET", "/api/admin/audit?action=auth.oidc_login&outcome=refused", { token });
      assert.ok(audit.entries.length >= 3, JSON.stringify(audit.entries));
      assert.ok(audit.entries.every(e => e.detail.startsWith("state: ")), JSON.stringify(audit.entries));
      assert.ok(!audit.entries.some(e => e.outcome === "ok"));
    },
  },
  {
    name: "the super admin sets single sign-on up in the console; the secret is never shown",
    timeout: 120_000,
    fn: async t => {
      const { server, idp } = await setUp(t);
      const page = await newPage(t);
      await t.login(page, "admin", server.adminPassword);
      await page.getByTestId("open-admin").click();
      await page.getByTestId("admin-tab-settings").click();
      const form = page.getByTestId("sso-form");
      await form.waitFor({ timeout: 15_000 });
      assert.equal(
        (await page.getByTestId("sso-redirect-uri").textContent()).trim(),
        server.url("/api/auth/oidc/callback"),
      );
      await page.getByTestId("sso-issuer").fill(idp.issuer);
      await page.getByTestId("sso-client-id").fill(CLIENT_ID);
      await page.getByTestId("sso-client-secret").fill(CLIENT_SECRET);
      await page.getByTestId("sso-claim").fill("preferred_username");
      await page.getByTestId("sso-button-label").fill(BUTTON);
      await page.getByTestId("sso-enabled").check();
      await page.getByTestId("sso-save").click();
      await page.getByTestId("sso-saved").waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId("sso-client-secret").inputValue(), "", "the secret field empties");
      assert.match(await page.getByTestId("sso-secret-state").textContent(), /已保存密钥/);

      // A reload shows the same, and the page never receives the secret.
      const bodies = [];
      page.on("response", async r => {
        if (new URL(r.url()).pathname === "/api/admin/settings/oidc") bodies.push(await r.text());
      });
      await page.reload();
      await page.getByTestId("open-admin").click();
      await page.getByTestId("admin-tab-settings").click();
      await page.getByTestId("sso-form").waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId("sso-issuer").inputValue(), idp.issuer);
      assert.ok(await page.getByTestId("sso-enabled").isChecked());
      assert.ok(bodies.length > 0 && bodies.every(b => !b.includes(CLIENT_SECRET)), bodies.join("\n"));

      // Everyone now sees the button on the login page.
      const other = await newPage(t);
      await other.goto("/");
      assert.equal((await other.getByTestId("login-sso").textContent({ timeout: 15_000 })).trim(), BUTTON);
    },
  },
];
