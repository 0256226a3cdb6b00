//! Single sign-on (OpenID Connect) at the relay: only super admins configure it (403 and an
//! audit row for anyone else), the client secret never comes back, and a login through a
//! provider goes end to end — against a small provider run by the test itself (discovery, JWKS,
//! a token endpoint that checks the client secret, the redirect URI and the PKCE verifier, and
//! userinfo), whose ID tokens are signed with a fresh ES256 key. Forged and replayed states,
//! callbacks carried to another browser, unknown and deactivated accounts, and tokens with the
//! wrong nonce are refused and audited. The browser journey against a certified provider is
//! `tests/e2e/specs/oidc.spec.mjs`.

mod common;
mod org_support;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get as route_get, post as route_post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use org_support::*;
use qiao_model::api::{Me, OidcLoginOption, OidcSettings};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "qiao-relay";
const SECRET: &str = "s3cret+with/odd=chars&more";
const PUBLIC_URL: &str = "http://qiao.test";

// --- a provider on loopback -------------------------------------------------------------------

/// What the provider will put in the tokens for the next code it hands out.
#[derive(Clone)]
struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    id_claims: Value,
    userinfo: Value,
}

struct Idp {
    issuer: String,
    key: EcdsaKeyPair,
    kid: String,
    grants: Mutex<HashMap<String, Grant>>,
    access: Mutex<HashMap<String, Value>>,
    /// Token requests seen, with what was wrong with them ("" when nothing).
    token_requests: Mutex<Vec<String>>,
}

async fn start_idp() -> Arc<Idp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let idp = Arc::new(Idp {
        issuer: format!("http://{addr}/idp"),
        key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap(),
        kid: "test-key-1".into(),
        grants: Mutex::default(),
        access: Mutex::default(),
        token_requests: Mutex::default(),
    });
    let app = Router::new()
        .route("/idp/.well-known/openid-configuration", route_get(discovery))
        .route("/idp/jwks", route_get(jwks))
        .route("/idp/token", route_post(token))
        .route("/idp/userinfo", route_get(userinfo))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    idp
}

async fn discovery(State(idp): State<Arc<Idp>>) -> Json<Value> {
    let i = &idp.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/auth"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(State(idp): State<Arc<Idp>>) -> Json<Value> {
    let p = idp.key.public_key().as_ref();
    Json(json!({ "keys": [
        // An encryption key the relay must skip.
        { "kty": "RSA", "use": "enc", "kid": "enc-1", "alg": "RSA-OAEP", "n": B64.encode([1u8; 256]), "e": "AQAB" },
        { "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": idp.kid,
          "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65]) },
    ]}))
}

async fn token(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    let creds = basic
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8(b).unwrap());
    let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().unwrap().1.into_owned();
    let problem = match creds.as_deref().and_then(|c| c.split_once(':')) {
        Some((id, secret)) if decode(id) == CLIENT_ID && decode(secret) == SECRET => None,
        _ => Some("invalid_client"),
    };
    let grant = idp.grants.lock().unwrap().remove(f.get("code").map(String::as_str).unwrap_or(""));
    let problem = problem.or(match &grant {
        None => Some("invalid_grant"),
        Some(g) if f.get("grant_type").map(String::as_str) != Some("authorization_code") => {
            Some("unsupported_grant_type")
        }
        Some(g) if f.get("redirect_uri") != Some(&g.redirect_uri) => Some("invalid_grant: redirect_uri"),
        Some(g) if B64.encode(Sha256::digest(f.get("code_verifier").cloned().unwrap_or_default())) != g.challenge => {
            Some("invalid_grant: pkce")
        }
        Some(_) => None,
    });
    idp.token_requests.lock().unwrap().push(problem.unwrap_or("").to_string());
    if let Some(p) = problem {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": p }))).into_response();
    }
    let g = grant.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut claims = json!({ "iss": idp.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": g.nonce });
    for (k, v) in g.id_claims.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let header = json!({ "alg": "ES256", "kid": idp.kid, "typ": "JWT" });
    let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let sig = idp.key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    let id_token = format!("{input}.{}", B64.encode(sig.as_ref()));
    let access = format!("at-{}", idp.access.lock().unwrap().len());
    idp.access.lock().unwrap().insert(access.clone(), g.userinfo.clone());
    Json(json!({ "access_token": access, "token_type": "Bearer", "id_token": id_token, "expires_in": 300 }))
        .into_response()
}

async fn userinfo(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> impl IntoResponse {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| idp.access.lock().unwrap().get(t).cloned()) {
        Some(info) => Json(info).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

// --- the browser's side -----------------------------------------------------------------------

/// A login started at the relay: what the browser was told.
struct Started {
    binding: String,
    /// The authorization request's parameters.
    query: HashMap<String, String>,
}

fn set_cookies(r: &RawReply) -> Vec<String> {
    r.headers.iter().filter(|(n, _)| n == "set-cookie").map(|(_, v)| v.clone()).collect()
}

fn cookie_value(r: &RawReply, name: &str) -> Option<String> {
    set_cookies(r).iter().find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_string))
}

async fn start_login(relay: &Relay, idp: &Idp) -> Started {
    let r = http_bytes(relay.addr, "GET", "/api/auth/oidc/start", None, &[], b"").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.header("location").expect("a redirect").to_string();
    assert!(location.starts_with(&format!("{}/auth?", idp.issuer)), "{location}");
    let cookie = set_cookies(&r).into_iter().find(|c| c.starts_with("qiao_oidc=")).expect("a binding cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/api/auth/oidc", "Max-Age=600"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let query: HashMap<String, String> =
        url::Url::parse(&location).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], format!("{PUBLIC_URL}/api/auth/oidc/callback"));
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["scope"].split(' ').any(|s| s == "openid"));
    assert_ne!(query["state"], query["nonce"]);
    Started { binding: cookie_value(&r, "qiao_oidc").unwrap(), query }
}

impl Idp {
    /// The person logs in at the provider: a code for the relay, carrying these claims.
    fn approve(&self, s: &Started, id_claims: Value, userinfo: Value) -> String {
        self.approve_with_nonce(s, &s.query["nonce"], id_claims, userinfo)
    }
    fn approve_with_nonce(&self, s: &Started, nonce: &str, id_claims: Value, userinfo: Value) -> String {
        let code = format!("code-{}", self.grants.lock().unwrap().len() + self.token_requests.lock().unwrap().len());
        let grant = Grant {
            nonce: nonce.into(),
            challenge: s.query["code_challenge"].clone(),
            redirect_uri: s.query["redirect_uri"].clone(),
            id_claims,
            userinfo,
        };
        self.grants.lock().unwrap().insert(code.clone(), grant);
        code
    }
}

async fn callback(relay: &Relay, query: &str, binding: Option<&str>) -> RawReply {
    let cookie = binding.map(|b| format!("qiao_oidc={b}"));
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
    http_bytes(relay.addr, "GET", &format!("/api/auth/oidc/callback?{query}"), None, &headers, b"").await
}

fn assert_refused(r: &RawReply, code: &str) {
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some(format!("/?sso_error={code}").as_str()));
    assert!(cookie_value(r, "qiao_session").is_none(), "no session on a refusal");
}

async fn oidc_rows(relay: &Relay, since: usize) -> Vec<AuditRow> {
    audit_since(relay, since).await.into_iter().filter(|r| r.action == "auth.oidc_login").collect()
}

async fn configure(relay: &Relay, admin: &User, idp: &Idp, claim: &str) -> OidcSettings {
    let r = put_json(
        relay,
        "/api/admin/settings/oidc",
        &admin.token,
        json!({ "enabled": true, "issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": SECRET,
                "claim": claim, "button_label": "公司账号登录 Company sign-in" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn relay_with_public_url() -> Relay {
    Relay::start_with(|c| c.public_url = Some(PUBLIC_URL.into())).await
}

// --- the tests --------------------------------------------------------------------------------

#[tokio::test]
async fn only_super_admins_read_or_change_the_settings_and_refusals_are_audited() {
    let relay = relay_with_public_url().await;
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;
    let since = audit_len(&relay).await;
    let r = get(&relay, "/api/admin/settings/oidc", &eve.token).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let body = json!({ "enabled": false, "issuer": "https://evil.example", "client_id": "x", "client_secret": "y",
                       "claim": "email", "button_label": "x" });
    let r = put_json(&relay, "/api/admin/settings/oidc", &eve.token, body.clone()).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let rows = audit_since(&relay, since).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, method) in rows.iter().zip(["GET", "PUT"]) {
        assert_eq!(
            (row.action.as_str(), row.outcome.as_str(), row.user, row.target.as_str()),
            ("admin.access", "refused", Some(eve.id.0), format!("{method} /api/admin/settings/oidc").as_str())
        );
    }
    // Nothing changed: the settings are still the empty default.
    let r = get(&relay, "/api/admin/settings/oidc", &admin.token).await;
    let s: OidcSettings = r.json();
    assert_eq!((s.enabled, s.issuer.as_str(), s.client_secret_set), (false, "", false));
    assert_eq!(s.redirect_uri.as_deref(), Some("http://qiao.test/api/auth/oidc/callback"));
    let login: OidcLoginOption = relay.get("/api/auth/oidc", None).await.json();
    assert_eq!(login, OidcLoginOption::default(), "the login page offers nothing");
    // Without a login, the settings are not there at all.
    assert_eq!(relay.get("/api/admin/settings/oidc", None).await.status, 401);
}

#[tokio::test]
async fn the_client_secret_is_never_returned_nor_audited() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    let since = audit_len(&relay).await;
    let saved = configure(&relay, &admin, &idp, "preferred_username").await;
    assert!(saved.enabled && saved.client_secret_set);
    let r = get(&relay, "/api/admin/settings/oidc", &admin.token).await;
    assert!(!r.text().contains(SECRET), "{}", r.text());
    let got: OidcSettings = r.json();
    assert_eq!(got, saved);
    let login: OidcLoginOption = relay.get("/api/auth/oidc", None).await.json();
    assert_eq!(login, OidcLoginOption { enabled: true, button_label: "公司账号登录 Company sign-in".into() });

    // Saving without a secret keeps it; a new one replaces it; "" clears it (and off is allowed).
    let mut body = json!({ "enabled": true, "issuer": idp.issuer, "client_id": CLIENT_ID,
                           "claim": "email", "button_label": "SSO" });
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json::<OidcSettings>().client_secret_set);
    body["client_secret"] = "another-secret".into();
    assert_eq!(put_json(&relay, "/api/admin/settings/oidc", &admin.token, body.clone()).await.status, 200);
    body["client_secret"] = "".into();
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, body.clone()).await;
    assert_eq!(r.status, 400, "on without a secret: {}", r.text());
    body["enabled"] = false.into();
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, body.clone()).await;
    assert!(!r.json::<OidcSettings>().client_secret_set);

    let rows: Vec<AuditRow> = audit_since(&relay, since).await;
    let details: Vec<&str> = rows.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.action == "settings.oidc" && r.outcome == "ok" && r.user == Some(admin.id.0)));
    assert_eq!(details, ["client secret changed", "", "client secret changed", "client secret cleared"]);
    for r in &rows {
        let text = format!("{r:?}");
        assert!(!text.contains(SECRET) && !text.contains("another-secret"), "the secret leaked: {text}");
    }
    assert!(rows[0].before.as_deref().unwrap().contains("\"client_secret\":\"unset\""));
    assert!(rows[0].after.as_deref().unwrap().contains("\"client_secret\":\"set\""));
}

#[tokio::test]
async fn turning_it_on_needs_a_public_url_and_a_provider_that_answers() {
    let idp = start_idp().await;
    let relay = Relay::start().await; // no --public-url, no allowed origins
    let admin = relay.admin().await;
    let body = json!({ "enabled": true, "issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": SECRET,
                       "claim": "email", "button_label": "SSO" });
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, body.clone()).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("--public-url"), "{}", r.text());
    let relay = relay_with_public_url().await;
    let admin = relay.admin().await;
    let mut wrong = body.clone();
    wrong["issuer"] = format!("{}/nowhere", idp.issuer).into();
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, wrong).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("could not be read"), "{}", r.text());
    let mut plain = body.clone();
    plain["issuer"] = "http://login.example.com".into();
    let r = put_json(&relay, "/api/admin/settings/oidc", &admin.token, plain).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("https"), "{}", r.text());
}

#[tokio::test]
async fn a_forged_state_is_refused_and_audited() {
    let relay = relay_with_public_url().await;
    let since = audit_len(&relay).await;
    let r = callback(&relay, "code=anything&state=forged-state", Some("whatever")).await;
    assert_refused(&r, "state");
    let r = callback(&relay, "code=anything", None).await;
    assert_refused(&r, "state");
    let rows = oidc_rows(&relay, since).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.outcome == "refused" && r.user.is_none()));
    assert!(rows[0].detail.starts_with("state: unknown, used or expired state"), "{}", rows[0].detail);
}

#[tokio::test]
async fn a_login_through_the_provider_opens_a_session_like_a_password_login() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    let li = relay.employee("li.lei").await;
    configure(&relay, &admin, &idp, "preferred_username").await;

    let since = audit_len(&relay).await;
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "idp-li", "preferred_username": "li.lei" }), json!({}));
    let query = format!("code={code}&state={}&iss={}", s.query["state"], idp.issuer);
    let r = callback(&relay, &query, Some(&s.binding)).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    let all = set_cookies(&r);
    let session = all.iter().find(|c| c.starts_with("qiao_session=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    assert!(all.iter().any(|c| c.starts_with("qiao_oidc=;") && c.contains("Max-Age=0")), "binding cleared: {all:?}");
    assert!(!r.header("location").unwrap().contains(&code), "no token or code in the app's URL");
    let token = cookie_value(&r, "qiao_session").unwrap();
    let me: Me = relay.get("/api/me", Some(&token)).await.json();
    assert_eq!((me.id, me.username.as_str()), (li.id, "li.lei"));
    assert_eq!(idp.token_requests.lock().unwrap().as_slice(), [""], "secret, redirect URI and PKCE verifier all right");
    let rows = oidc_rows(&relay, since).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].outcome.as_str(), rows[0].user), ("ok", Some(li.id.0)));
    assert!(rows[0].detail.contains("preferred_username=li.lei sub=idp-li"), "{}", rows[0].detail);

    // The same callback again (a replay, or the back button) is refused: a state works once.
    let since = audit_len(&relay).await;
    let r = callback(&relay, &query, Some(&s.binding)).await;
    assert_refused(&r, "state");
    assert_eq!(oidc_rows(&relay, since).await.len(), 1);
}

#[tokio::test]
async fn a_callback_carried_to_another_browser_is_refused() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    relay.employee("li.lei").await;
    configure(&relay, &admin, &idp, "preferred_username").await;
    // An attacker starts a login, approves it as themselves, and sends the callback URL to a
    // victim, whose browser has no (or another) binding cookie.
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "x", "preferred_username": "li.lei" }), json!({}));
    let query = format!("code={code}&state={}", s.query["state"]);
    let since = audit_len(&relay).await;
    assert_refused(&callback(&relay, &query, Some("the-victims-own-binding")).await, "state");
    // ...and the state is spent: the attacker cannot use it either.
    assert_refused(&callback(&relay, &query, Some(&s.binding)).await, "state");
    let rows = oidc_rows(&relay, since).await;
    assert!(rows[0].detail.contains("another browser"), "{}", rows[0].detail);
    assert!(idp.token_requests.lock().unwrap().is_empty(), "no code was spent");
}

#[tokio::test]
async fn unknown_and_deactivated_accounts_are_refused_never_created() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    let gone = relay.employee("wang.fang").await;
    configure(&relay, &admin, &idp, "email").await;
    let users_before =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(relay.state.store.pool()).await.unwrap();

    // The claim names nobody here.
    let since = audit_len(&relay).await;
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "s1", "email": "stranger@example.com" }), json!({}));
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "unknown_account",
    );
    let rows = oidc_rows(&relay, since).await;
    assert_eq!((rows.len(), rows[0].outcome.as_str()), (1, "refused"));
    assert!(rows[0].detail.contains("email=stranger@example.com"), "{}", rows[0].detail);

    // A deactivated account: refused, and the row names the account.
    let r = post_json(&relay, &format!("/api/admin/users/{}/deactivate", gone.id), &admin.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let since = audit_len(&relay).await;
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "s2", "email": "wang.fang" }), json!({}));
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "deactivated",
    );
    let rows = oidc_rows(&relay, since).await;
    assert_eq!((rows[0].user, rows[0].target.clone()), (Some(gone.id.0), format!("user:{}", gone.id)));

    // The provider sends no such claim at all.
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "s3" }), json!({ "sub": "s3" }));
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "no_claim",
    );

    let users_after =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(relay.state.store.pool()).await.unwrap();
    assert_eq!(users_before, users_after, "a login never creates an account");
}

#[tokio::test]
async fn the_claim_may_come_from_userinfo_but_only_about_the_same_subject() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    let li = relay.employee("li.lei").await;
    configure(&relay, &admin, &idp, "preferred_username").await;

    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "idp-li" }), json!({ "sub": "idp-li", "preferred_username": "li.lei" }));
    let r = callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await;
    assert_eq!(r.header("location"), Some("/"), "{:?}", r.headers);
    let me: Me = relay.get("/api/me", Some(&cookie_value(&r, "qiao_session").unwrap())).await.json();
    assert_eq!(me.id, li.id);

    let s = start_login(&relay, &idp).await;
    let code =
        idp.approve(&s, json!({ "sub": "idp-mallory" }), json!({ "sub": "idp-li", "preferred_username": "li.lei" }));
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "invalid_token",
    );
}

#[tokio::test]
async fn a_token_for_another_login_or_from_another_issuer_is_refused() {
    let relay = relay_with_public_url().await;
    let idp = start_idp().await;
    let admin = relay.admin().await;
    relay.employee("li.lei").await;
    configure(&relay, &admin, &idp, "preferred_username").await;

    // An ID token minted for another login (its nonce) is not accepted for this one.
    let since = audit_len(&relay).await;
    let s = start_login(&relay, &idp).await;
    let code = idp.approve_with_nonce(
        &s,
        "someone-elses-nonce",
        json!({ "sub": "x", "preferred_username": "li.lei" }),
        json!({}),
    );
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "invalid_token",
    );
    let rows = oidc_rows(&relay, since).await;
    assert!(rows[0].detail.contains("nonce"), "{}", rows[0].detail);

    // An answer that says another issuer sent it (RFC 9207 mix-up defence).
    let s = start_login(&relay, &idp).await;
    let q = format!("code=c&state={}&iss=https%3A%2F%2Fevil.example", s.query["state"]);
    assert_refused(&callback(&relay, &q, Some(&s.binding)).await, "invalid_token");

    // The person cancelled at the provider.
    let s = start_login(&relay, &idp).await;
    let q = format!("error=access_denied&state={}", s.query["state"]);
    assert_refused(&callback(&relay, &q, Some(&s.binding)).await, "denied");

    // Turned off between start and callback.
    let s = start_login(&relay, &idp).await;
    let code = idp.approve(&s, json!({ "sub": "x", "preferred_username": "li.lei" }), json!({}));
    let off = json!({ "enabled": false, "issuer": idp.issuer, "client_id": CLIENT_ID, "claim": "preferred_username", "button_label": "SSO" });
    assert_eq!(put_json(&relay, "/api/admin/settings/oidc", &admin.token, off).await.status, 200);
    assert_refused(
        &callback(&relay, &format!("code={code}&state={}", s.query["state"]), Some(&s.binding)).await,
        "disabled",
    );
    let r = http_bytes(relay.addr, "GET", "/api/auth/oidc/start", None, &[], b"").await;
    assert_refused(&r, "disabled");
}
