//! Qiao's relay server.
//!
//! It serves the built app, authenticates users ([`auth`]), answers the REST API ([`http`]), and
//! relays Automerge documents over the automerge-repo websocket protocol ([`sync`]), checking every
//! frame against the document's access list and storing every change durably ([`store`]) before
//! anyone hears of it. [`app`] builds the whole router from an [`AppState`], which is what the
//! tests drive in-process.

pub mod actions;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod http;
pub mod oidc;
pub mod push;
pub mod store;
pub mod sync;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: store::Store,
    /// File bytes: partial uploads and content-addressed blobs under the data directory.
    pub blobs: store::blobs::Blobs,
    pub registry: Arc<sync::registry::Registry>,
    pub connections: Arc<sync::connections::Connections>,
    pub login_throttle: Arc<auth::LoginThrottle>,
    /// Single sign-on: logins in flight and the provider client ([`oidc`]).
    pub oidc: Arc<oidc::Oidc>,
    /// A real argon2 hash checked for unknown usernames, so timing does not reveal which exist.
    pub dummy_hash: String,
    /// HR imports being applied, by preview token: how far each has got (for the progress bar).
    pub import_progress: Arc<actions::import::ProgressBoard>,
    /// Web push: the relay's VAPID key and the sender ([`push`]).
    pub push: Arc<push::Push>,
    /// How many suggestions each person filed lately, in memory only ([`http::suggestions`]).
    pub suggestion_flood: Arc<http::suggestions::Flood>,
}

impl AppState {
    pub async fn new(config: Config) -> Result<Self, error::AppError> {
        let store = store::Store::open(&config.data_dir).await?;
        let blobs = store::blobs::Blobs::open(&config.data_dir)?;
        let mut peer = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut peer);
        let server_peer = qiao_model::ids::PeerId(format!("qiao-relay-{}", hex::encode(peer)));
        let push = Arc::new(push::Push::load(&store, &config).await?);
        let state = Self {
            push,
            registry: Arc::new(sync::registry::Registry::new(store.clone(), server_peer)),
            store,
            blobs,
            config: Arc::new(config),
            connections: Arc::default(),
            login_throttle: Arc::default(),
            oidc: Arc::default(),
            dummy_hash: auth::hash_password("qiao-dummy-password")?,
            import_progress: Arc::default(),
            suggestion_flood: Arc::default(),
        };
        // The directory document follows the tables, including accounts added from the command
        // line since the last start.
        actions::directory::publish(&state).await?;
        state.registry.set_events(push::start(&state));
        actions::files::start_sweeper(&state);
        Ok(state)
    }
}

/// The client's address as text, when the server runs with connect info.
pub fn client_ip(ext: &axum::http::Extensions) -> String {
    ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default()
}

/// The whole relay: API, websocket and (when a `dist` directory is configured) the app.
pub fn app(state: AppState) -> Router {
    let mut router = http::router().route("/sync", axum::routing::get(sync::ws::upgrade));
    if let Some(dist) = &state.config.dist_dir {
        // Unknown paths get index.html so that app routes survive a reload.
        let index = ServeFile::new(dist.join("index.html"));
        router = router.fallback_service(ServeDir::new(dist).fallback(index));
    }
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::check_origin))
        .layer(axum::middleware::from_fn(http::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
