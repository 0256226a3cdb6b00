//! Single sign-on through one OpenID Connect provider: the relay is a confidential client using
//! the authorization code flow with PKCE (S256), `state` and `nonce`.
//!
//! How a login goes (`http/oidc.rs` holds the routes, `actions/oidc.rs` the decisions):
//! 1. `GET /api/auth/oidc/start` reads the provider's discovery document
//!    (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the configured one),
//!    makes a fresh `state`, `nonce`, PKCE verifier and a browser binding, keeps them in
//!    [`PendingLogins`] under the state for [`PENDING_TTL`], sets the binding in an HttpOnly,
//!    `SameSite=Lax` cookie limited to `/api/auth/oidc`, and redirects to the provider.
//! 2. The provider sends the browser back to `GET /api/auth/oidc/callback?code&state`. The
//!    pending login is taken out of the map (so a state works once, whatever happens next); it
//!    must exist, be fresh, and its binding must match the cookie this browser sends, so a
//!    callback URL carried to another browser (login CSRF) or replayed is refused.
//! 3. The code is exchanged at the token endpoint (client secret by HTTP Basic, the PKCE
//!    verifier); the ID token is checked against the provider's JWKS ([`validate_id_token`]:
//!    signature, `iss`, `aud`/`azp`, `exp`/`nbf`/`iat`, `nonce`). The claim naming the account
//!    comes from the ID token, or from the userinfo endpoint when the token lacks it (providers
//!    that follow the spec strictly put scope claims only there); userinfo's `sub` must match.
//! 4. The claim's value is looked up as a Qiao username. Accounts are never created here.
//!
//! Tokens never reach the browser: the code is spent by the relay, the ID and access tokens die
//! with the request, and the browser leaves with the same session cookie a password login gives.
//!
//! Pending logins live in memory: a relay restart in the middle of a login makes the person
//! click the button again, which is cheaper than a table and a migration. The map is bounded.
//!
//! Outbound requests go only to the configured issuer's discovery document and the endpoints
//! it names, over HTTPS (plain HTTP only to loopback addresses, for tests and local providers),
//! without following redirects, with timeouts and a size limit on every answer.

pub mod ring_jwt;

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{DecodingKey, Validation};
use qiao_model::api::SsoError;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a started login may take at the provider.
pub const PENDING_TTL: Duration = Duration::from_secs(600);
/// Most logins in flight at once; past it new ones are refused until old ones finish or expire.
pub const MAX_PENDING: usize = 10_000;
/// Largest answer read from the provider.
const MAX_BODY: usize = 1 << 20;
/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 60;
/// The cookie binding a pending login to the browser that started it.
pub const BINDING_COOKIE: &str = "qiao_oidc";
/// The claims requested; `openid` is required, the others carry the usual account names.
pub const SCOPE: &str = "openid profile email";

/// The stored configuration (settings key [`crate::store::settings::OIDC`]). The secret is
/// stored as is: the relay must present it to the provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcConfig {
    pub enabled: bool,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub claim: String,
    pub button_label: String,
}

/// Why a login failed: the code shown to the person, and the detail kept in the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: SsoError,
    pub detail: String,
}

impl Failure {
    pub fn new(code: SsoError, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into() }
    }
}

/// What the discovery document says, as far as the relay uses it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProviderMeta {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// One login between start and callback.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    /// SHA-256 of the binding cookie's value.
    pub binding: Vec<u8>,
    pub verifier: String,
    pub nonce: String,
    pub redirect_uri: String,
    pub provider: ProviderMeta,
    pub client_id: String,
    pub created: Instant,
}

/// The relay's single sign-on state: logins in flight, the HTTP client (built on first use, as
/// loading the system's root certificates is not free), and the last discovery document.
#[derive(Default)]
pub struct Oidc {
    pub pending: PendingLogins,
    http: std::sync::OnceLock<HttpClient>,
    discovered: Mutex<Option<(String, ProviderMeta, Instant)>>,
}

/// How long a discovery document is reused: a burst of logins asks the provider once.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

impl Oidc {
    pub fn http(&self) -> Result<&HttpClient, String> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let c = HttpClient::new()?;
        Ok(self.http.get_or_init(|| c))
    }

    /// The provider's metadata, from the cache when it is fresh and for the same issuer.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMeta, String> {
        if let Some((i, meta, at)) = &*self.discovered.lock().unwrap_or_else(|p| p.into_inner())
            && i == issuer
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(meta.clone());
        }
        let meta = self.http()?.discover(issuer).await?;
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((issuer.to_string(), meta.clone(), Instant::now()));
        Ok(meta)
    }

    /// Forget the cached discovery document (the settings changed).
    pub fn forget_discovery(&self) {
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Logins in flight, keyed by their `state`.
#[derive(Default)]
pub struct PendingLogins {
    map: Mutex<HashMap<String, PendingLogin>>,
}

impl PendingLogins {
    /// Keep `login` under `state`; false when [`MAX_PENDING`] fresh logins are already waiting.
    pub fn insert(&self, state: String, login: PendingLogin) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_PENDING {
            map.retain(|_, l| l.created.elapsed() < PENDING_TTL);
            if map.len() >= MAX_PENDING {
                return false;
            }
        }
        map.insert(state, login);
        true
    }

    /// Take the login started with `state` out of the map: each state is good for one callback.
    pub fn take(&self, state: &str) -> Option<PendingLogin> {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).remove(state)
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 32 random bytes, hex-encoded: states, nonces, PKCE verifiers (64 characters, within the 43
/// to 128 of RFC 7636) and browser bindings.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    hex::encode(bytes)
}

pub fn binding_hash(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// The PKCE S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `url` parsed, if the relay may talk to it: HTTPS, or plain HTTP to a loopback host.
pub fn checked_url(url: &str) -> Result<Url, String> {
    let u = Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!("{url:?} must not carry credentials"));
    }
    match u.scheme() {
        "https" => Ok(u),
        "http" if is_loopback(&u) => Ok(u),
        "http" => Err(format!("{url:?} must use https (plain http only to a loopback address)")),
        other => Err(format!("{url:?}: the scheme {other} is not http(s)")),
    }
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The provider's address for the relay's outbound requests.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new() -> Result<Self, String> {
        let inner = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // Every URL is checked before it is asked; a redirect would skip that check.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("qiao-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { inner })
    }

    async fn read(res: reqwest::Response, what: &str) -> Result<(reqwest::StatusCode, Vec<u8>), String> {
        let status = res.status();
        let mut res = res;
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| format!("{what}: {e}"))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!("{what}: the answer is larger than {MAX_BODY} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    async fn get_json(&self, url: &str, bearer: Option<&str>, what: &str) -> Result<Value, String> {
        let url = checked_url(url).map_err(|e| format!("{what}: {e}"))?;
        let mut req = self.inner.get(url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| format!("{what}: {}", error_chain(&e)))?;
        let (status, body) = Self::read(res, what).await?;
        if !status.is_success() {
            return Err(format!("{what}: HTTP {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{what}: not JSON: {e}"))
    }

    /// Read and check the discovery document of `issuer`.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMeta, String> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let doc = self.get_json(&url, None, "discovery").await?;
        let meta: ProviderMeta =
            serde_json::from_value(doc).map_err(|e| format!("discovery: missing or malformed field: {e}"))?;
        // OpenID Connect Discovery 1.0 §4.3: the document's issuer is exactly the one asked.
        if meta.issuer != issuer {
            return Err(format!("discovery: the provider calls itself {:?}, not {issuer:?}", meta.issuer));
        }
        for u in [&meta.authorization_endpoint, &meta.token_endpoint, &meta.jwks_uri] {
            checked_url(u).map_err(|e| format!("discovery: {e}"))?;
        }
        if let Some(u) = &meta.userinfo_endpoint {
            checked_url(u).map_err(|e| format!("discovery: {e}"))?;
        }
        Ok(meta)
    }

    /// Exchange an authorization code for tokens (client authentication: HTTP Basic).
    pub async fn exchange_code(
        &self,
        login: &PendingLogin,
        client_secret: &str,
        code: &str,
    ) -> Result<TokenResponse, String> {
        let url = checked_url(&login.provider.token_endpoint).map_err(|e| format!("token: {e}"))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &login.redirect_uri)
            .append_pair("code_verifier", &login.verifier)
            .finish();
        // RFC 6749 §2.3.1: the id and secret are form-encoded before they go into Basic.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let res = self
            .inner
            .post(url)
            .basic_auth(enc(&login.client_id), Some(enc(client_secret)))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| format!("token: {}", error_chain(&e)))?;
        let (status, body) = Self::read(res, "token").await?;
        if !status.is_success() {
            // The provider's error code is safe to log; its description may be long.
            let err = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(|s| s.chars().take(100).collect::<String>()))
                .unwrap_or_default();
            return Err(format!("token: HTTP {status} {err}").trim().to_string());
        }
        serde_json::from_slice(&body).map_err(|e| format!("token: malformed answer: {e}"))
    }

    /// The provider's signing keys. Keys this relay cannot use (encryption keys, unknown types)
    /// are skipped rather than failing the whole set.
    pub async fn jwks(&self, url: &str) -> Result<Vec<Jwk>, String> {
        let doc = self.get_json(url, None, "jwks").await?;
        let keys = doc.get("keys").and_then(Value::as_array).ok_or("jwks: no keys")?;
        Ok(keys.iter().filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok()).collect())
    }

    pub async fn userinfo(&self, url: &str, access_token: &str) -> Result<Map<String, Value>, String> {
        match self.get_json(url, Some(access_token), "userinfo").await? {
            Value::Object(m) => Ok(m),
            _ => Err("userinfo: not a JSON object".into()),
        }
    }
}

/// The whole chain of a reqwest error ("error sending request" alone says nothing).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[derive(Clone, Debug, Deserialize)]
pub struct TokenResponse {
    pub id_token: Option<String>,
    pub access_token: Option<String>,
}

/// The URL that sends the browser to the provider.
pub fn authorization_url(login: &PendingLogin, state: &str) -> Result<String, String> {
    let mut u = checked_url(&login.provider.authorization_endpoint)?;
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &login.client_id)
        .append_pair("redirect_uri", &login.redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("state", state)
        .append_pair("nonce", &login.nonce)
        .append_pair("code_challenge", &pkce_challenge(&login.verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(u.into())
}

/// Check an ID token (OpenID Connect Core §3.1.3.7) and return its claims: signed by one of
/// `keys` with an asymmetric algorithm the key allows, issued by `issuer` for `client_id`
/// (and, with several audiences, authorised for it), not expired, not from the future, with
/// a subject and our `nonce`.
pub fn validate_id_token(
    id_token: &str,
    keys: &[Jwk],
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Map<String, Value>, String> {
    ring_jwt::install();
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| format!("header: {e}"))?;
    if !ring_jwt::ALGORITHMS.contains(&header.alg) {
        return Err(format!("algorithm {:?} is not accepted", header.alg));
    }
    let usable = |k: &&Jwk| {
        !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption))
            && k.common.key_algorithm.is_none_or(|a| a == KeyAlgorithm::from(header.alg))
    };
    let key = match &header.kid {
        Some(kid) => keys.iter().filter(usable).find(|k| k.common.key_id.as_deref() == Some(kid)),
        // Without a key id, only an unambiguous key set will do.
        None => {
            let mut candidates = keys.iter().filter(usable);
            match (candidates.next(), candidates.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }
    .ok_or_else(|| format!("no key of the provider matches kid {:?} and {:?}", header.kid, header.alg))?;
    let key = DecodingKey::from_jwk(key).map_err(|e| format!("key: {e}"))?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[client_id]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    let data = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &v).map_err(|e| format!("token: {e}"))?;
    let claims = data.claims;
    let now = jsonwebtoken::get_current_timestamp();
    match claims.get("iat").and_then(Value::as_u64) {
        Some(iat) if iat <= now + LEEWAY_SECS => {}
        Some(_) => return Err("token: issued in the future".into()),
        None => return Err("token: iat is not a number".into()),
    }
    if claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err("token: sub is not a string".into());
    }
    if let Some(Value::Array(aud)) = claims.get("aud")
        && aud.len() > 1
        && claims.get("azp").and_then(Value::as_str) != Some(client_id)
    {
        return Err("token: several audiences and azp is not this client".into());
    }
    if let Some(azp) = claims.get("azp")
        && azp.as_str() != Some(client_id)
    {
        return Err("token: azp is another client".into());
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err("token: nonce does not match this login".into());
    }
    Ok(claims)
}

/// The claim's value as a username: a non-empty string of at most 100 characters.
pub fn claim_value(claims: &Map<String, Value>, claim: &str) -> Option<String> {
    claims
        .get(claim)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.chars().count() <= 100)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use ring::rand::SystemRandom;
    use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    const ISS: &str = "https://idp.example.test";
    const CLIENT: &str = "qiao";
    const NONCE: &str = "n-0S6_WzA2Mj";

    struct Signer {
        key: EcdsaKeyPair,
        jwk: Jwk,
    }

    fn es256(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = key.public_key().as_ref();
        let jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65]),
        }))
        .unwrap();
        Signer { key, jwk }
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn claims() -> Value {
        serde_json::json!({
            "iss": ISS, "aud": CLIENT, "sub": "248289761001", "nonce": NONCE,
            "iat": now(), "exp": now() + 300, "preferred_username": "li.lei",
        })
    }

    fn token(header: Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        format!("{input}.{}", B64.encode(sign(input.as_bytes())))
    }

    impl Signer {
        fn sign(&self, claims: &Value) -> String {
            let kid = self.jwk.common.key_id.clone().unwrap();
            token(serde_json::json!({ "alg": "ES256", "kid": kid, "typ": "JWT" }), claims, |m| {
                self.key.sign(&SystemRandom::new(), m).unwrap().as_ref().to_vec()
            })
        }
    }

    fn check(t: &str, keys: &[Jwk]) -> Result<Map<String, Value>, String> {
        validate_id_token(t, keys, ISS, CLIENT, NONCE)
    }

    #[test]
    fn a_good_token_verifies_and_yields_its_claims() {
        let s = es256("k1");
        let c = check(&s.sign(&claims()), std::slice::from_ref(&s.jwk)).expect("valid");
        assert_eq!(claim_value(&c, "preferred_username").as_deref(), Some("li.lei"));
        assert_eq!(claim_value(&c, "email"), None);
    }

    #[test]
    fn a_token_from_another_key_or_altered_is_refused() {
        let (s, other) = (es256("k1"), es256("k1"));
        assert!(check(&other.sign(&claims()), std::slice::from_ref(&s.jwk)).is_err(), "signed by someone else");
        let good = s.sign(&claims());
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let mut c = claims();
        c["preferred_username"] = "admin".into();
        parts[1] = B64.encode(c.to_string());
        assert!(check(&parts.join("."), std::slice::from_ref(&s.jwk)).is_err(), "claims changed after signing");
        assert!(check(&good, &[es256("k2").jwk]).unwrap_err().contains("no key"), "unknown kid");
    }

    #[test]
    fn issuer_audience_expiry_and_nonce_are_checked() {
        let s = es256("k1");
        let keys = [s.jwk.clone()];
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            check(&s.sign(&c), &keys)
        };
        assert!(with("iss", "https://evil.example.test".into()).is_err());
        assert!(with("aud", "another-client".into()).is_err());
        assert!(with("aud", serde_json::json!([CLIENT, "other"])).is_err(), "several audiences, no azp");
        assert!(with("azp", "other".into()).is_err());
        assert!(with("exp", (now() - 3600).into()).is_err());
        assert!(with("exp", "never".into()).is_err(), "exp of the wrong type");
        assert!(with("nbf", (now() + 3600).into()).is_err());
        assert!(with("iat", (now() + 3600).into()).is_err());
        assert!(with("nonce", "replayed-from-another-login".into()).unwrap_err().contains("nonce"));
        assert!(with("sub", "".into()).is_err());
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert!(check(&s.sign(&c), &keys).is_err(), "no nonce");
        let mut c = claims();
        c["aud"] = serde_json::json!([CLIENT, "other"]);
        c["azp"] = CLIENT.into();
        assert!(check(&s.sign(&c), &keys).is_ok(), "several audiences with azp = this client");
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused() {
        let s = es256("k1");
        let none = token(serde_json::json!({ "alg": "none", "kid": "k1" }), &claims(), |_| vec![]);
        assert!(check(&none, std::slice::from_ref(&s.jwk)).is_err());
        // HS256 "signed" with a public value: the classic key-confusion attack.
        let oct: Jwk =
            serde_json::from_value(serde_json::json!({ "kty": "oct", "kid": "k1", "k": B64.encode(b"public") }))
                .unwrap();
        let hs = token(serde_json::json!({ "alg": "HS256", "kid": "k1" }), &claims(), |m| {
            ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"public"), m).as_ref().to_vec()
        });
        assert!(check(&hs, &[oct]).unwrap_err().contains("not accepted"));
        // A key that says it is for another algorithm is not used for this one.
        let mut jwk = s.jwk.clone();
        jwk.common.key_algorithm = Some(KeyAlgorithm::ES384);
        assert!(check(&s.sign(&claims()), &[jwk]).is_err());
    }

    #[test]
    fn ed25519_tokens_verify_too() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.public_key().as_ref()),
        }))
        .unwrap();
        let t = token(serde_json::json!({ "alg": "EdDSA" }), &claims(), |m| key.sign(m).as_ref().to_vec());
        assert!(check(&t, &[jwk]).is_ok(), "a single key without kid");
    }

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        assert!(checked_url("https://login.example.com/realms/x").is_ok());
        assert!(checked_url("http://127.0.0.1:9000").is_ok());
        assert!(checked_url("http://localhost:9000/").is_ok());
        assert!(checked_url("http://[::1]:9000/").is_ok());
        assert!(checked_url("http://login.example.com").is_err());
        assert!(checked_url("http://10.0.0.5").is_err());
        assert!(checked_url("file:///etc/passwd").is_err());
        assert!(checked_url("https://user:pw@login.example.com").is_err());
    }

    #[test]
    fn pkce_challenge_is_rfc7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_state_is_taken_once() {
        let p = PendingLogins::default();
        let login = PendingLogin {
            binding: binding_hash("b"),
            verifier: random_token(),
            nonce: random_token(),
            redirect_uri: "http://127.0.0.1/api/auth/oidc/callback".into(),
            provider: ProviderMeta {
                issuer: ISS.into(),
                authorization_endpoint: format!("{ISS}/auth"),
                token_endpoint: format!("{ISS}/token"),
                jwks_uri: format!("{ISS}/jwks"),
                userinfo_endpoint: None,
            },
            client_id: CLIENT.into(),
            created: Instant::now(),
        };
        assert!(p.insert("s1".into(), login));
        assert!(p.take("s1").is_some());
        assert!(p.take("s1").is_none());
    }
}
