//! Web push: notifications that reach a person whose app is closed (the installed PWA on a phone,
//! a browser with no Qiao tab open).
//!
//! How it works
//! - A device subscribes in the browser (`PushManager.subscribe` with the relay's VAPID public
//!   key, `GET /api/push/key`) and hands the relay its subscription (`POST
//!   /api/push/subscriptions`, [`crate::http::push`]): an endpoint at the browser vendor's push
//!   service, the device's P-256 key and an authentication secret. The subscription belongs to the
//!   session that made it: logging out, a revoked session or a deactivated account stops it.
//! - The sync registry tells the dispatcher ([`Event`]) when stored changes added chat messages,
//!   and when a project board changed. The dispatcher decides who hears of what:
//!   - a direct message: the other person; a mention: the people mentioned who are members;
//!     `@所有人`: every member (only admins may write it, checked by the chat rules);
//!   - never the author, never a conversation the person muted (read from their own state
//!     document), and only people with no live connection: a running app notifies by itself
//!     ([`qiao_model`]'s rules, the app's toasts and system notifications).
//! - Task reminders: every stored change of a board re-reads its reminders into `task_reminders`
//!   (debounced per board); a ticker sends the due ones to assignees with no live connection,
//!   once each, and never ones more than a day late (a relay that was down does not wake
//!   everyone with last week's reminders). A reminder whose time or assignees change fires again.
//! - Requests answered over REST tell the people concerned ([`Event::Notify`]): a file added to a
//!   folder with approval tells its approvers, a review tells the file's uploader, a new helpdesk
//!   ticket tells the agents.
//! - Sending ([`webpush`]): the JSON payload is encrypted for the device (RFC 8291) and signed
//!   for the push service (VAPID, RFC 8292), so the vendor carries it without reading it. The
//!   relay only ever posts to push services it was told to trust (`--push-hosts`; by default the
//!   ones browsers use), never follows redirects, and drops subscriptions the service says are
//!   gone (404/410) or that keep failing.
//! - The service worker (`public/sw.js`) shows the notification in the reader's language and
//!   opens the conversation or task when it is clicked.
//!
//! Pushing is best effort: events go through a bounded queue, and when it is full (a burst far
//! beyond what people can read) the overflow is dropped and logged rather than slowing sync.

pub mod webpush;

use crate::AppState;
use crate::error::AppError;
use crate::store::push::{Reminder, Subscription};
use crate::store::{DocKind, Store, now_ms};
use qiao_model::api::ConversationKind;
use qiao_model::ids::{ChannelId, DocumentId, ProjectId, UserId};
use qiao_model::schema::{chat, tasks, user_state};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use webpush::Vapid;

/// The setting holding the VAPID key pair (PKCS#8, base64): a secret, like the database itself.
const VAPID_SETTING: &str = "push.vapid_pkcs8";
/// The push services browsers use; `--push-hosts` replaces the list.
pub const DEFAULT_PUSH_HOSTS: [&str; 4] =
    ["fcm.googleapis.com", "*.push.services.mozilla.com", "*.notify.windows.com", "*.push.apple.com"];
/// Events waiting for the dispatcher before new ones are dropped.
const QUEUE: usize = 4_096;
/// Deliveries in flight at once.
const PARALLEL_SENDS: usize = 16;
/// How long a board's reminders wait after its last change before they are re-read.
const BOARD_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often due reminders are looked for.
const REMINDER_TICK: Duration = Duration::from_secs(10);
/// Reminders later than this are not sent at all.
const REMINDER_MAX_LATE_MS: i64 = 24 * 3600 * 1000;
/// Devices per person; subscribing one more forgets the oldest.
pub const MAX_SUBSCRIPTIONS_PER_USER: i64 = 10;

/// What the sync registry reports after it stored changes.
#[derive(Debug)]
pub enum Event {
    /// Stored changes added these messages to a segment of `channel`.
    Chat { channel: ChannelId, messages: Vec<chat::ChatMessage> },
    /// A board's document changed (its reminders may have).
    Board { doc: DocumentId, project: ProjectId },
    /// Tell these people (those whose app is closed) `payload`: a file waits for their approval,
    /// their file was reviewed, a helpdesk ticket came in.
    Notify { users: Vec<UserId>, payload: Payload },
}

/// Where the registry sends [`Event`]s.
#[derive(Clone)]
pub struct EventSink {
    tx: mpsc::Sender<Event>,
    /// Someone has a push subscription: otherwise the registry does not even look for new
    /// messages (that read costs time on every appended message).
    pub subscribers: Arc<AtomicBool>,
}

impl EventSink {
    pub fn send(&self, ev: Event) {
        if let Err(mpsc::error::TrySendError::Full(ev)) = self.tx.try_send(ev) {
            tracing::warn!("push queue full, dropped {:?}", std::mem::discriminant(&ev));
        }
    }
}

/// What the service worker receives (inside the encrypted body) and shows.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Payload {
    /// "dm", "mention", "reminder", "approval" (a file waits for the reader's approval),
    /// "approved" / "rejected" (the reader's file was reviewed) or "ticket" (a new helpdesk
    /// ticket, for agents): the worker words the notification from it.
    pub kind: &'static str,
    /// Who wrote (chat) or the task's title (reminder).
    pub title: String,
    /// The conversation's name (chat), empty for reminders.
    pub place: String,
    pub body: String,
    /// Notifications with the same tag replace each other (one per conversation or task).
    pub tag: String,
    /// What a click opens, a path of this origin.
    pub url: String,
}

/// The relay's push sender.
pub struct Push {
    vapid: Vapid,
    client: reqwest::Client,
    hosts: Vec<String>,
    subscribers: Arc<AtomicBool>,
    sends: tokio::sync::Semaphore,
}

impl Push {
    /// Load (or create, on first start) the VAPID key.
    pub async fn load(store: &Store, config: &crate::config::Config) -> Result<Self, AppError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let pkcs8 = match store.setting::<String>(VAPID_SETTING).await? {
            Some(s) => b64.decode(s).map_err(|e| AppError::Internal(format!("stored push key: {e}")))?,
            None => {
                let fresh = Vapid::generate().map_err(|e| AppError::Internal(e.to_string()))?;
                let mut tx = store.begin().await?;
                crate::store::settings::set_setting(&mut tx, VAPID_SETTING, &b64.encode(&fresh)).await?;
                tx.commit().await?;
                fresh
            }
        };
        let subject = config
            .push_subject
            .clone()
            .or_else(|| config.public_origin().filter(|o| o.starts_with("https://")))
            .unwrap_or_else(|| "mailto:admin@localhost".into());
        let vapid = Vapid::from_pkcs8(&pkcs8, subject).map_err(|e| AppError::Internal(e.to_string()))?;
        let hosts = if config.push_hosts.is_empty() {
            DEFAULT_PUSH_HOSTS.iter().map(|s| s.to_string()).collect()
        } else {
            config.push_hosts.iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Internal(format!("push client: {e}")))?;
        let subscribers = Arc::new(AtomicBool::new(store.any_push_subscription().await?));
        Ok(Self { vapid, client, hosts, subscribers, sends: tokio::sync::Semaphore::new(PARALLEL_SENDS) })
    }

    /// The key browsers subscribe with (`applicationServerKey`).
    pub fn public_key(&self) -> String {
        self.vapid.public_key()
    }

    pub fn note_subscribed(&self) {
        self.subscribers.store(true, Ordering::Relaxed);
    }

    /// An endpoint the relay may post to: https on a trusted push service, or an exact
    /// `http://host:port` origin listed in `--push-hosts` (a push service on this machine).
    pub fn check_endpoint(&self, raw: &str) -> Result<url::Url, String> {
        if raw.len() > 2_048 {
            return Err("the endpoint is too long".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("the endpoint is not a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the endpoint must not carry credentials".into());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let trusted = match url.scheme() {
            "https" => self.hosts.iter().any(|h| match h.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => *h == host,
            }),
            "http" => {
                let origin = url.origin().ascii_serialization();
                self.hosts.contains(&origin)
            }
            _ => false,
        };
        if trusted { Ok(url) } else { Err(format!("{host} is not a push service this server trusts")) }
    }

    /// Encrypt and post `payload` to one device; records the outcome on the subscription.
    async fn deliver(&self, store: &Store, sub: &Subscription, payload: &Payload, ttl_secs: u32) {
        let _permit = self.sends.acquire().await;
        let outcome = self.try_deliver(sub, payload, ttl_secs).await;
        let (ok, gone) = match &outcome {
            Ok(status) => (status.is_success(), matches!(status.as_u16(), 404 | 410)),
            Err(_) => (false, false),
        };
        if !ok {
            tracing::info!("push to subscription {} failed: {:?}", sub.id, outcome.as_ref().map(|s| s.as_u16()));
        }
        if let Err(e) = store.push_delivered(sub.id, ok, gone).await {
            tracing::warn!("push outcome not recorded: {e}");
        }
    }

    async fn try_deliver(
        &self,
        sub: &Subscription,
        payload: &Payload,
        ttl_secs: u32,
    ) -> Result<reqwest::StatusCode, String> {
        // Checked again at send time: the trusted list may have changed since it subscribed.
        let endpoint = self.check_endpoint(&sub.endpoint)?;
        let mut payload = payload.clone();
        let mut json = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
        while json.len() > webpush::MAX_PLAINTEXT && !payload.body.is_empty() {
            let keep = payload.body.chars().count() / 2;
            payload.body = payload.body.chars().take(keep).collect::<String>() + "…";
            json = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
        }
        let body = webpush::encrypt(&sub.p256dh, &sub.auth, &json).map_err(|e| e.to_string())?;
        let now = (now_ms() / 1000) as u64;
        let auth = self.vapid.authorization(&endpoint, now, 12 * 3600).map_err(|e| e.to_string())?;
        let res = self
            .client
            .post(endpoint)
            .header("authorization", auth)
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("ttl", ttl_secs.to_string())
            .header("urgency", "high")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(res.status())
    }
}

/// Start the dispatcher; returns the sink the registry reports to.
pub fn start(state: &AppState) -> EventSink {
    let (tx, rx) = mpsc::channel(QUEUE);
    let sink = EventSink { tx, subscribers: state.push.subscribers.clone() };
    tokio::spawn(run(state.clone(), rx));
    sink
}

async fn run(state: AppState, mut rx: mpsc::Receiver<Event>) {
    let mut boards: HashMap<DocumentId, (ProjectId, tokio::time::Instant)> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last_reminders = tokio::time::Instant::now() - REMINDER_TICK;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                None => return,
                Some(Event::Chat { channel, messages }) => {
                    if let Err(e) = chat_event(&state, &channel, messages).await {
                        tracing::warn!("push for {channel}: {e}");
                    }
                }
                Some(Event::Board { doc, project }) => {
                    boards.insert(doc, (project, tokio::time::Instant::now()));
                }
                Some(Event::Notify { users, payload }) => {
                    if let Err(e) = notify(&state, &users, &payload).await {
                        tracing::warn!("push {}: {e}", payload.kind);
                    }
                }
            },
            _ = tick.tick() => {
                let now = tokio::time::Instant::now();
                let ready: Vec<DocumentId> =
                    boards.iter().filter(|(_, (_, at))| now - *at >= BOARD_DEBOUNCE).map(|(d, _)| *d).collect();
                for doc in ready {
                    let Some((project, _)) = boards.remove(&doc) else { continue };
                    if let Err(e) = board_changed(&state, doc, &project).await {
                        tracing::warn!("reminders of {doc}: {e}");
                    }
                }
                if now - last_reminders >= REMINDER_TICK {
                    last_reminders = now;
                    if let Err(e) = send_due_reminders(&state).await {
                        tracing::warn!("due reminders: {e}");
                    }
                }
            }
        }
    }
}

/// Group subscriptions by person, keeping only people who should hear: not `except`, no live
/// connection, and (for chat) who did not mute `channel`.
async fn audience(
    state: &AppState,
    subs: Vec<Subscription>,
    except: Option<UserId>,
    channel: Option<&ChannelId>,
) -> Result<BTreeMap<UserId, Vec<Subscription>>, AppError> {
    let mut by_user: BTreeMap<UserId, Vec<Subscription>> = BTreeMap::new();
    for s in subs {
        if Some(s.user) != except && state.connections.user_count(s.user) == 0 {
            by_user.entry(s.user).or_default().push(s);
        }
    }
    if let Some(channel) = channel {
        let mut muted = Vec::new();
        for user in by_user.keys() {
            let kind = DocKind::UserState { owner: *user };
            if state.registry.read_doc(user_state::doc_id(*user), &kind, |d| user_state::is_muted(d, channel)).await? {
                muted.push(*user);
            }
        }
        for u in muted {
            by_user.remove(&u);
        }
    }
    Ok(by_user)
}

async fn notify(state: &AppState, users: &[UserId], payload: &Payload) -> Result<(), AppError> {
    let subs = state.store.push_subscriptions(Some(users), None).await?;
    for subs in audience(state, subs, None, None).await?.into_values() {
        for sub in subs {
            let (state, payload) = (state.clone(), payload.clone());
            tokio::spawn(async move { state.push.deliver(&state.store, &sub, &payload, 24 * 3600).await });
        }
    }
    Ok(())
}

async fn chat_event(state: &AppState, channel: &ChannelId, messages: Vec<chat::ChatMessage>) -> Result<(), AppError> {
    let Some((name, kind)) = state.store.channel_name_kind(channel).await? else { return Ok(()) };
    for m in messages.into_iter().filter(|m| !m.deleted) {
        let dm = kind == ConversationKind::Dm;
        let subs = if dm || m.mention_all {
            state.store.push_subscriptions(None, Some(channel)).await?
        } else if !m.mentions.is_empty() {
            state.store.push_subscriptions(Some(&m.mentions), Some(channel)).await?
        } else {
            continue;
        };
        if subs.is_empty() {
            continue;
        }
        let payload = Payload {
            kind: if dm { "dm" } else { "mention" },
            title: m.author_name.clone(),
            place: if dm { String::new() } else { name.clone() },
            body: qiao_model::markdown::excerpt(&qiao_model::markdown::plain_text(&m.text), 200),
            tag: format!("c:{channel}"),
            url: format!("/?c={channel}"),
        };
        for subs in audience(state, subs, Some(m.author), Some(channel)).await?.into_values() {
            for sub in subs {
                let (state, payload) = (state.clone(), payload.clone());
                tokio::spawn(async move { state.push.deliver(&state.store, &sub, &payload, 24 * 3600).await });
            }
        }
    }
    Ok(())
}

/// The reminders a board holds now: tasks with a reminder time, assignees, not deleted, not done.
pub fn board_reminders(doc: &impl automerge::ReadDoc) -> Vec<Reminder> {
    let cols = tasks::columns(doc);
    tasks::tasks(doc)
        .into_iter()
        .filter(|t| !t.deleted && !t.assignees.is_empty() && !tasks::is_done(&cols, t))
        .filter_map(|t| {
            let at = t.remind_at.filter(|r| *r > 0)?;
            Some(Reminder {
                task_id: t.id.clone(),
                title: t.title.clone(),
                remind_at: at,
                assignees: t.assignees.clone(),
            })
        })
        .collect()
}

async fn board_changed(state: &AppState, doc: DocumentId, project: &ProjectId) -> Result<(), AppError> {
    let kind = DocKind::ProjectBoard { project: project.clone() };
    let reminders = state.registry.read_doc(doc, &kind, board_reminders).await?;
    state.store.sync_task_reminders(doc, project, &reminders).await
}

async fn send_due_reminders(state: &AppState) -> Result<(), AppError> {
    let now = now_ms();
    for due in state.store.due_reminders(now, REMINDER_MAX_LATE_MS).await? {
        let r = &due.reminder;
        let subs = state.store.push_subscriptions(Some(&r.assignees), None).await?;
        let payload = Payload {
            kind: "reminder",
            title: r.title.clone(),
            place: String::new(),
            body: String::new(),
            tag: format!("t:{}", r.task_id),
            url: format!("/?p={}&t={}", due.project.as_str(), r.task_id),
        };
        for subs in audience(state, subs, None, None).await?.into_values() {
            for sub in subs {
                let (state, payload) = (state.clone(), payload.clone());
                tokio::spawn(async move { state.push.deliver(&state.store, &sub, &payload, 3600).await });
            }
        }
        state.store.reminder_sent(due.document, &r.task_id, r.remind_at).await?;
    }
    Ok(())
}
