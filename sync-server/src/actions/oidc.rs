//! Single sign-on (OpenID Connect): the super admin's settings (validate → persist → audit, one
//! transaction) and the two halves of a login — [`start`] and [`do_callback`] — whose every
//! refusal is audited. The protocol itself is in [`crate::oidc`].

use crate::AppState;
use crate::auth::{self, AuthUser};
use crate::error::AppError;
use crate::oidc::{self, Failure, OidcConfig, PendingLogin};
use crate::store::settings::{self, OIDC};
use crate::store::{AuditRecord, UserRow, audit_tx};
use qiao_model::acl;
use qiao_model::api::{OidcLoginOption, OidcSettings, SetOidcSettings, SsoError};
use qiao_model::audit::Event;
use serde::Serialize;
use std::time::Instant;

/// Longest button label, issuer, client id or secret accepted.
const MAX_LABEL_CHARS: usize = 60;
const MAX_FIELD_CHARS: usize = 500;

/// The stored configuration (everything off and empty until a super admin saves one).
pub async fn config(state: &AppState) -> Result<OidcConfig, AppError> {
    Ok(state.store.setting::<OidcConfig>(OIDC).await?.unwrap_or_default())
}

/// The redirect URI registered at the provider, from the relay's public URL.
pub fn redirect_uri(state: &AppState) -> Option<String> {
    state.config.public_origin().map(|o| format!("{o}/api/auth/oidc/callback"))
}

/// What a super admin sees: everything but the secret.
pub fn view(state: &AppState, c: &OidcConfig) -> OidcSettings {
    OidcSettings {
        enabled: c.enabled,
        issuer: c.issuer.clone(),
        client_id: c.client_id.clone(),
        client_secret_set: !c.client_secret.is_empty(),
        claim: c.claim.clone(),
        button_label: c.button_label.clone(),
        redirect_uri: redirect_uri(state),
    }
}

/// What the login page may know.
pub async fn login_option(state: &AppState) -> Result<OidcLoginOption, AppError> {
    let c = config(state).await?;
    Ok(if c.enabled {
        OidcLoginOption { enabled: true, button_label: c.button_label }
    } else {
        OidcLoginOption::default()
    })
}

/// The configuration as the audit log keeps it: the secret only as set or unset.
#[derive(Serialize)]
struct Audited<'a> {
    enabled: bool,
    issuer: &'a str,
    client_id: &'a str,
    client_secret: &'static str,
    claim: &'a str,
    button_label: &'a str,
}

impl<'a> From<&'a OidcConfig> for Audited<'a> {
    fn from(c: &'a OidcConfig) -> Self {
        Self {
            enabled: c.enabled,
            issuer: &c.issuer,
            client_id: &c.client_id,
            client_secret: if c.client_secret.is_empty() { "unset" } else { "set" },
            claim: &c.claim,
            button_label: &c.button_label,
        }
    }
}

fn valid_claim_name(s: &str) -> bool {
    (1..=100).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
}

/// Save the single sign-on settings. Turning it on needs every field, the relay's public URL,
/// and a provider whose discovery document can be read now (so a typo shows here, not on the
/// login page).
pub async fn do_set_oidc_settings(
    state: &AppState,
    who: &AuthUser,
    req: &SetOidcSettings,
) -> Result<OidcSettings, AppError> {
    acl::system_settings(&who.actor()).map_err(|d| AppError::Forbidden(d.to_string()))?;
    let stored = config(state).await?;
    let new = OidcConfig {
        enabled: req.enabled,
        issuer: req.issuer.trim().trim_end_matches('/').to_string(),
        client_id: req.client_id.trim().to_string(),
        client_secret: match &req.client_secret {
            Some(s) => s.trim().to_string(),
            None => stored.client_secret.clone(),
        },
        claim: req.claim.trim().to_string(),
        button_label: req.button_label.trim().to_string(),
    };
    let bad = |m: String| Err(AppError::BadRequest(m));
    for (name, value) in [("issuer", &new.issuer), ("client_id", &new.client_id), ("client_secret", &new.client_secret)]
    {
        if value.chars().count() > MAX_FIELD_CHARS {
            return bad(format!("{name} is longer than {MAX_FIELD_CHARS} characters"));
        }
    }
    if new.button_label.chars().count() > MAX_LABEL_CHARS {
        return bad(format!("button_label is longer than {MAX_LABEL_CHARS} characters"));
    }
    if !new.claim.is_empty() && !valid_claim_name(&new.claim) {
        return bad("claim is a claim name such as preferred_username or email".into());
    }
    if !new.issuer.is_empty() {
        let u = oidc::checked_url(&new.issuer).map_err(|e| AppError::BadRequest(format!("issuer: {e}")))?;
        if u.query().is_some() || u.fragment().is_some() {
            return bad("issuer: no query or fragment".into());
        }
    }
    if new.enabled {
        for (name, value) in [
            ("issuer", &new.issuer),
            ("client_id", &new.client_id),
            ("client_secret", &new.client_secret),
            ("claim", &new.claim),
            ("button_label", &new.button_label),
        ] {
            if value.is_empty() {
                return bad(format!("{name} is required to turn single sign-on on"));
            }
        }
        if redirect_uri(state).is_none() {
            return bad("the relay does not know its public URL: start it with --public-url (QIAO_PUBLIC_URL)".into());
        }
        state.oidc.forget_discovery();
        state
            .oidc
            .discover(&new.issuer)
            .await
            .map_err(|e| AppError::BadRequest(format!("the provider could not be read: {e}")))?;
    }

    let mut tx = state.store.begin().await?;
    let before = settings::setting_tx::<OidcConfig>(&mut tx, OIDC).await?.unwrap_or_default();
    settings::set_setting(&mut tx, OIDC, &new).await?;
    let secret = match (before.client_secret.is_empty(), new.client_secret.is_empty()) {
        (_, true) if !before.client_secret.is_empty() => "client secret cleared",
        (_, true) => "",
        _ if before.client_secret != new.client_secret => "client secret changed",
        _ => "",
    };
    let rec = AuditRecord::ok(Event::SettingsOidc)
        .by(who.id())
        .ip(&who.ip)
        .target("settings:oidc")
        .detail(secret)
        .before(Audited::from(&before))
        .after(Audited::from(&new));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    state.oidc.forget_discovery();
    Ok(view(state, &new))
}

/// A started login: where to send the browser, and the binding cookie's value.
pub struct Started {
    pub location: String,
    pub binding: String,
}

/// Begin a login: discovery, fresh secrets kept under a new state, the provider's URL.
pub async fn start(state: &AppState) -> Result<Started, Failure> {
    let c = config(state).await.map_err(|e| Failure::new(SsoError::Unavailable, e.to_string()))?;
    if !c.enabled {
        return Err(Failure::new(SsoError::Disabled, "single sign-on is off"));
    }
    let redirect_uri =
        redirect_uri(state).ok_or_else(|| Failure::new(SsoError::Unavailable, "no public URL (--public-url)"))?;
    let provider = state.oidc.discover(&c.issuer).await.map_err(|e| Failure::new(SsoError::Unavailable, e))?;
    let binding = oidc::random_token();
    let login = PendingLogin {
        binding: oidc::binding_hash(&binding),
        verifier: oidc::random_token(),
        nonce: oidc::random_token(),
        redirect_uri,
        provider,
        client_id: c.client_id,
        created: Instant::now(),
    };
    let st = oidc::random_token();
    let location = oidc::authorization_url(&login, &st).map_err(|e| Failure::new(SsoError::Unavailable, e))?;
    if !state.oidc.pending.insert(st, login) {
        return Err(Failure::new(SsoError::Unavailable, "too many logins in flight"));
    }
    Ok(Started { location, binding })
}

/// The provider's answer as the callback receives it.
#[derive(Clone, Debug, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207: the issuer that answers, when the provider says (checked against the one asked).
    pub iss: Option<String>,
}

/// A finished login: the account and its new session token.
pub struct LoggedIn {
    pub user: UserRow,
    pub token: String,
}

/// Finish a login: everything in the module docs of [`crate::oidc`], then a session opened as a
/// password login opens one. Refusals are audited (`auth.oidc_login`, refused) before they
/// return; so is the success.
pub async fn do_callback(
    state: &AppState,
    params: &CallbackParams,
    binding: Option<&str>,
    user_agent: Option<&str>,
    ip: &str,
) -> Result<LoggedIn, Failure> {
    let (user, sub) = match finish(state, params, binding).await {
        Ok(found) => found,
        Err((failure, who)) => {
            // Forged or replayed states cost nothing to send: past five from one address in five
            // minutes they are refused without a row each, so they cannot flood the log.
            if failure.code == SsoError::State {
                let key = format!("oidc-state:{ip}");
                if state.login_throttle.check(&[&key]).is_err() {
                    return Err(failure);
                }
                state.login_throttle.failed(&[&key]);
            }
            let mut rec = AuditRecord::refused(Event::AuthOidcLogin).ip(ip).target("oidc").detail(format!(
                "{}: {}",
                failure.code.as_str(),
                failure.detail
            ));
            if let Some(id) = who {
                rec = rec.by(id).target(format!("user:{id}"));
            }
            if let Err(e) = state.store.audit_record(&rec).await {
                tracing::error!(error = %e, "cannot audit a refused single sign-on");
            }
            return Err(failure);
        }
    };
    let unavailable = |e: AppError| Failure::new(SsoError::Unavailable, e.to_string());
    let (token, _) = auth::open_session(state, &user, user_agent, ip).await.map_err(unavailable)?;
    let c = config(state).await.map_err(unavailable)?;
    let rec = AuditRecord::ok(Event::AuthOidcLogin)
        .by(user.me.id)
        .ip(ip)
        .target(format!("user:{}", user.me.id))
        .detail(format!("{}={} sub={sub} issuer={}", c.claim, user.me.username, c.issuer));
    state.store.audit_record(&rec).await.map_err(unavailable)?;
    Ok(LoggedIn { user, token })
}

type Refusal = (Failure, Option<qiao_model::ids::UserId>);

fn refuse(code: SsoError, detail: impl Into<String>) -> Refusal {
    (Failure::new(code, detail), None)
}

/// The checks of a callback, in order; the account and the provider's subject.
async fn finish(
    state: &AppState,
    params: &CallbackParams,
    binding: Option<&str>,
) -> Result<(UserRow, String), Refusal> {
    let st = params.state.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| refuse(SsoError::State, "no state"))?;
    let login = state.oidc.pending.take(st).ok_or_else(|| refuse(SsoError::State, "unknown, used or expired state"))?;
    match binding {
        Some(b) if oidc::binding_hash(b) == login.binding => {}
        Some(_) => return Err(refuse(SsoError::State, "the login was started in another browser")),
        None => return Err(refuse(SsoError::State, "no binding cookie: the login was started in another browser")),
    }
    if login.created.elapsed() > oidc::PENDING_TTL {
        return Err(refuse(SsoError::State, "the login took too long"));
    }
    if let Some(iss) = &params.iss
        && *iss != login.provider.issuer
    {
        return Err(refuse(SsoError::InvalidToken, format!("the answer comes from issuer {iss:?}")));
    }
    if let Some(e) = &params.error {
        let e: String = e.chars().filter(|c| c.is_ascii_graphic()).take(100).collect();
        return Err(refuse(SsoError::Denied, format!("the provider answered {e}")));
    }
    let c = config(state).await.map_err(|e| refuse(SsoError::Unavailable, e.to_string()))?;
    if !c.enabled {
        return Err(refuse(SsoError::Disabled, "single sign-on was turned off during the login"));
    }
    if c.issuer != login.provider.issuer || c.client_id != login.client_id {
        return Err(refuse(SsoError::State, "the settings changed during the login"));
    }
    let code = params.code.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| refuse(SsoError::Denied, "no code"))?;
    let http = state.oidc.http().map_err(|e| refuse(SsoError::Unavailable, e))?;
    let tokens =
        http.exchange_code(&login, &c.client_secret, code).await.map_err(|e| refuse(SsoError::Unavailable, e))?;
    let id_token = tokens.id_token.ok_or_else(|| refuse(SsoError::InvalidToken, "no id_token"))?;
    let keys = http.jwks(&login.provider.jwks_uri).await.map_err(|e| refuse(SsoError::Unavailable, e))?;
    let claims = oidc::validate_id_token(&id_token, &keys, &login.provider.issuer, &login.client_id, &login.nonce)
        .map_err(|e| refuse(SsoError::InvalidToken, e))?;
    let sub = claims.get("sub").and_then(|v| v.as_str()).unwrap_or_default().to_string();

    let mut name = oidc::claim_value(&claims, &c.claim);
    if name.is_none()
        && let (Some(url), Some(access)) = (&login.provider.userinfo_endpoint, &tokens.access_token)
    {
        let info = http.userinfo(url, access).await.map_err(|e| refuse(SsoError::Unavailable, e))?;
        // OpenID Connect Core §5.3.2: a userinfo answer about someone else is thrown away.
        if info.get("sub").and_then(|v| v.as_str()) != Some(sub.as_str()) {
            return Err(refuse(SsoError::InvalidToken, "userinfo is about another subject"));
        }
        name = oidc::claim_value(&info, &c.claim);
    }
    let name =
        name.ok_or_else(|| refuse(SsoError::NoClaim, format!("the provider sent no {} for sub={sub}", c.claim)))?;
    let user = state
        .store
        .user_by_username(&name)
        .await
        .map_err(|e| refuse(SsoError::Unavailable, e.to_string()))?
        .ok_or_else(|| refuse(SsoError::UnknownAccount, format!("{}={name} sub={sub}: no such account", c.claim)))?;
    if !user.active {
        let id = user.me.id;
        return Err((
            Failure::new(SsoError::Deactivated, format!("{}={name} sub={sub}: deactivated", c.claim)),
            Some(id),
        ));
    }
    Ok((user, sub))
}
