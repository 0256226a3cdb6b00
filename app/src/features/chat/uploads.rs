//! Sending files: an outbox that survives reloads, and a pump that uploads one file at a time in
//! chunks, resuming where the relay says it stopped.
//!
//! Choosing a file puts it (the Blob itself) in the outbox (`storage/outbox.js`, IndexedDB) before
//! anything goes over the network, so a file chosen offline, or half sent when the connection or
//! the browser went away, is still there. The pump then: hashes it (SHA-256, which the relay
//! checks and stores it under), announces it (`POST /api/uploads`, once; the upload id is kept in
//! the record), asks where the upload stands (`GET /api/uploads/{id}`), sends the rest in chunks
//! of `MAX_CHUNK_BYTES`, completes it, uploads a thumbnail for images, and finally appends the
//! chat message that carries the file. Only then does the record leave the outbox. A network
//! failure leaves the record as it is and retries on the browser's `online` event or after a
//! pause.

use crate::api::{self, ApiFailure};
use crate::contexts::RepoRef;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::{FileInfo, FileScope, NewUpload, UploadState};
use qiao_model::files::{MAX_CHUNK_BYTES, inline_image};
use qiao_model::ids::{ChannelId, DocumentId};
use qiao_model::schema::chat::{self, Attachment, ChatMessage, SEGMENT_CAPACITY};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/storage/outbox.js")]
extern "C" {
    #[wasm_bindgen(js_name = putItem)]
    fn put_item(item: &JsValue) -> js_sys::Promise;
    #[wasm_bindgen(js_name = listItems)]
    fn list_items() -> js_sys::Promise;
    #[wasm_bindgen(js_name = deleteItem)]
    fn delete_item(key: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = patchItem)]
    fn patch_item(key: &str, patch: &JsValue) -> js_sys::Promise;
    #[wasm_bindgen(js_name = clearAll)]
    fn clear_all_js() -> js_sys::Promise;
    #[wasm_bindgen(js_name = sha256Hex)]
    fn sha256_hex(blob: &web_sys::Blob) -> js_sys::Promise;
    #[wasm_bindgen(js_name = thumbnail)]
    fn thumbnail_js(blob: &web_sys::Blob, max: u32) -> js_sys::Promise;
}

/// Forget every queued file (logging out, or the local copy expiring).
pub async fn clear_outbox() {
    let _ = JsFuture::from(clear_all_js()).await;
}

/// Where a queued file stands, for the progress rows above the composer.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Waiting its turn, or for the network.
    Waiting,
    Sending,
    /// The relay refused it (too large, no longer a member…): the reason, shown until dismissed.
    Refused(String),
}

/// Where a queued file goes: a conversation (as a message carrying it) or a library folder (as
/// a new file there, or a new version of `entry`).
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Channel(ChannelId),
    Folder { folder: String, entry: Option<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub key: String,
    pub target: Target,
    pub name: String,
    pub size: u64,
    pub sent: u64,
    pub status: Status,
}

/// The outbox as the UI sees it, and the pump's state.
#[derive(Clone, Copy)]
pub struct Uploads {
    pub items: RwSignal<Vec<Item>>,
    running: StoredValue<bool>,
    repo: RepoRef,
    channels: super::shell::Channels,
    me: StoredValue<qiao_model::api::Me>,
    /// Told when a file reached its folder (it lists the folder again).
    library: Option<crate::features::library::LibraryState>,
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(obj: &js_sys::Object, key: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// A record's target: `folder` (with `entry`) for the file library, else `channel` (records
/// stored before folders existed have only that).
fn target_of(rec: &JsValue) -> Option<Target> {
    match get(rec, "folder").as_string() {
        Some(folder) => Some(Target::Folder { folder, entry: get(rec, "entry").as_string() }),
        None => Some(Target::Channel(ChannelId(get(rec, "channel").as_string()?))),
    }
}

fn item_of(rec: &JsValue) -> Option<Item> {
    Some(Item {
        key: get(rec, "key").as_string()?,
        target: target_of(rec)?,
        name: get(rec, "name").as_string().unwrap_or_default(),
        size: get(rec, "size").as_f64().unwrap_or(0.0) as u64,
        sent: 0,
        status: Status::Waiting,
    })
}

/// Why a step stopped: try again later, or give up on this file.
pub(crate) enum Stop {
    Later,
    Refused(String),
}

impl From<ApiFailure> for Stop {
    fn from(e: ApiFailure) -> Self {
        match e {
            ApiFailure::Offline | ApiFailure::Unauthorized => Stop::Later,
            ApiFailure::Refused(e) => Stop::Refused(e.message),
        }
    }
}

impl Stop {
    /// What to tell the person.
    pub(crate) fn message(&self) -> Option<String> {
        match self {
            Stop::Later => None,
            Stop::Refused(why) => Some(why.clone()),
        }
    }
}

/// Announce `blob` for `scope` (its SHA-256 first): the relay opens an upload at offset 0, or
/// completes it at once when the caller may already see these bytes.
pub(crate) async fn start_upload(
    scope: FileScope,
    blob: &web_sys::Blob,
    name: &str,
    mime: &str,
) -> Result<UploadState, Stop> {
    let sha = JsFuture::from(sha256_hex(blob)).await.ok().and_then(|v| v.as_string()).ok_or(Stop::Later)?;
    let req =
        NewUpload { scope, name: name.to_string(), size: blob.size() as u64, mime: mime.to_string(), sha256: sha };
    Ok(api::post("/api/uploads", &req).await?)
}

/// Send what the relay does not have yet of `blob`, chunk by chunk from where `state` stands
/// (each chunk acknowledged only once it is on the relay's disk), then complete it.
/// `progress(bytes)` hears how far it got before each chunk and once at the end.
pub(crate) async fn send_rest(
    blob: &web_sys::Blob,
    mut state: UploadState,
    progress: impl Fn(u64),
) -> Result<FileInfo, Stop> {
    let size = blob.size() as u64;
    let id = state.id.clone();
    while state.file.is_none() && state.received < size {
        progress(state.received);
        let end = (state.received + MAX_CHUNK_BYTES as u64).min(size);
        let chunk = blob.slice_with_f64_and_f64(state.received as f64, end as f64).map_err(|_| Stop::Later)?;
        match api::put_blob::<UploadState>(&format!("/api/uploads/{id}?offset={}", state.received), &chunk).await {
            Ok(s) => state = s,
            // Out of step (another tab sent a chunk meanwhile): ask where it stands.
            Err(ApiFailure::Refused(e)) if e.code == "upload_offset" || e.code == "conflict" => {
                state = api::get(&format!("/api/uploads/{id}")).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    progress(size);
    match state.file {
        Some(f) => Ok(f),
        None => Ok(api::post::<_, FileInfo>(&format!("/api/uploads/{id}/complete"), &()).await?),
    }
}

impl Uploads {
    /// Load what the outbox holds from an earlier visit and start sending it.
    pub fn provide(repo: RepoRef, channels: super::shell::Channels, me: qiao_model::api::Me) -> Uploads {
        let up = Uploads {
            items: RwSignal::new(Vec::new()),
            running: StoredValue::new(false),
            repo,
            channels,
            me: StoredValue::new(me),
            library: use_context::<crate::features::library::LibraryState>(),
        };
        provide_context(up);
        leptos::task::spawn_local(async move {
            if let Ok(rows) = JsFuture::from(list_items()).await {
                let rows: js_sys::Array = rows.unchecked_into();
                let items: Vec<Item> = rows.iter().filter_map(|r| item_of(&r)).collect();
                up.items.set(items);
                up.pump();
            }
        });
        if let Some(w) = web_sys::window() {
            let cb = Closure::<dyn FnMut()>::new(move || up.pump());
            let _ = w.add_event_listener_with_callback("online", cb.as_ref().unchecked_ref());
            cb.forget();
        }
        up
    }

    /// Queue `file` for `channel`: stored locally first, then sent when it can be.
    pub fn enqueue(self, channel: ChannelId, file: web_sys::File) {
        self.enqueue_to(Target::Channel(channel), file)
    }

    /// Queue `file` for `target`: stored locally first (so a reload, a closed tab or a dropped
    /// connection loses nothing), then sent when it can be.
    pub fn enqueue_to(self, target: Target, file: web_sys::File) {
        let key = format!("{:013}-{}", storage::now_ms(), storage::random_hex::<4>());
        let rec = js_sys::Object::new();
        set(&rec, "key", key.as_str());
        match &target {
            Target::Channel(channel) => set(&rec, "channel", channel.as_str()),
            Target::Folder { folder, entry } => {
                set(&rec, "folder", folder.as_str());
                if let Some(e) = entry {
                    set(&rec, "entry", e.as_str());
                }
            }
        }
        set(&rec, "name", file.name());
        set(&rec, "size", file.size());
        set(&rec, "mime", file.type_());
        set(&rec, "created", js_sys::Date::now());
        set(&rec, "blob", JsValue::from(file.clone()));
        let item = Item {
            key: key.clone(),
            target,
            name: file.name(),
            size: file.size() as u64,
            sent: 0,
            status: Status::Waiting,
        };
        leptos::task::spawn_local(async move {
            match JsFuture::from(put_item(&rec)).await {
                Ok(_) => {
                    self.items.update(|v| v.push(item));
                    self.pump();
                }
                Err(e) => leptos::logging::warn!("could not queue {}: {e:?}", file.name()),
            }
        });
    }

    /// Take a refused file out of the outbox.
    pub fn dismiss(self, key: &str) {
        let key = key.to_string();
        self.items.update(|v| v.retain(|i| i.key != key));
        leptos::task::spawn_local(async move {
            let _ = JsFuture::from(delete_item(&key)).await;
        });
    }

    fn update(self, key: &str, f: impl FnOnce(&mut Item)) {
        self.items.update(|v| {
            if let Some(i) = v.iter_mut().find(|i| i.key == key) {
                f(i);
            }
        });
    }

    /// Send what is queued, one file at a time; does nothing if already sending.
    pub fn pump(self) {
        if self.running.get_value() {
            return;
        }
        self.running.set_value(true);
        leptos::task::spawn_local(async move {
            let mut failures = 0u32;
            loop {
                let next = self.items.with_untracked(|v| {
                    v.iter().find(|i| !matches!(i.status, Status::Refused(_))).map(|i| i.key.clone())
                });
                let Some(key) = next else { break };
                match self.send(&key).await {
                    Ok(()) => {
                        failures = 0;
                        let _ = JsFuture::from(delete_item(&key)).await;
                        self.items.update(|v| v.retain(|i| i.key != key));
                    }
                    Err(Stop::Refused(why)) => self.update(&key, |i| i.status = Status::Refused(why)),
                    Err(Stop::Later) => {
                        self.update(&key, |i| i.status = Status::Waiting);
                        failures += 1;
                        // Back off (the `online` event cuts the wait short by starting a new
                        // pump only once this one has stopped: so stop after a few tries).
                        if failures > 3 {
                            break;
                        }
                        crate::storage::sleep_ms(1000 * (1 << failures.min(4)) as i32).await;
                    }
                }
            }
            self.running.set_value(false);
        });
    }

    async fn record(&self, key: &str) -> Option<JsValue> {
        let rows = JsFuture::from(list_items()).await.ok()?;
        let rows: js_sys::Array = rows.unchecked_into();
        rows.iter().find(|r| get(r, "key").as_string().as_deref() == Some(key))
    }

    /// Upload `blob` (resuming the upload named in the record under `id_field`), returning the
    /// stored file.
    async fn upload(
        &self,
        key: &str,
        rec: &JsValue,
        id_field: &str,
        blob: &web_sys::Blob,
        name: &str,
        mime: &str,
        scope: &FileScope,
        progress: bool,
    ) -> Result<FileInfo, Stop> {
        // Resume the upload this record names, unless the relay no longer has it: it sweeps
        // uploads abandoned for days, and then the file goes again from its first byte.
        let resumed = match get(rec, id_field).as_string() {
            Some(id) => match api::get::<UploadState>(&format!("/api/uploads/{id}")).await {
                Ok(state) => Some(state),
                Err(ApiFailure::Refused(e)) if e.code == "not_found" => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let state = match resumed {
            Some(state) => state,
            None => {
                let state = start_upload(scope.clone(), blob, name, mime).await?;
                let patch = js_sys::Object::new();
                set(&patch, id_field, state.id.as_str());
                let _ = JsFuture::from(patch_item(key, &patch)).await;
                state
            }
        };
        send_rest(blob, state, |sent| {
            if progress {
                self.update(key, |i| {
                    i.sent = sent;
                    i.status = Status::Sending;
                });
            }
        })
        .await
    }

    async fn send(&self, key: &str) -> Result<(), Stop> {
        let rec = self.record(key).await.ok_or(Stop::Refused("missing from the outbox".into()))?;
        let blob: web_sys::Blob = get(&rec, "blob").dyn_into().map_err(|_| Stop::Refused("file unreadable".into()))?;
        let name = get(&rec, "name").as_string().unwrap_or_default();
        let mime = get(&rec, "mime").as_string().unwrap_or_default();
        let channel = match target_of(&rec) {
            Some(Target::Channel(c)) => c,
            Some(Target::Folder { folder, entry }) => {
                let scope = FileScope::Folder(folder.clone());
                let file = self.upload(key, &rec, "uploadId", &blob, &name, &mime, &scope, true).await?;
                return self.add_to_folder(&folder, entry, file).await;
            }
            None => return Err(Stop::Refused("the outbox record names no destination".into())),
        };
        let scope = FileScope::Channel(channel.clone());
        let file = self.upload(key, &rec, "uploadId", &blob, &name, &mime, &scope, true).await?;

        // Images get a small preview uploaded beside them, and their size, so the message can
        // reserve the space before the image loads.
        let mut attachment = Attachment {
            id: file.id.clone(),
            name: file.name.clone(),
            size: file.size,
            mime: file.mime.clone(),
            ..Default::default()
        };
        if inline_image(&mime) {
            if let Ok(t) = JsFuture::from(thumbnail_js(&blob, 480)).await
                && !t.is_null()
                && let Ok(tblob) = get(&t, "blob").dyn_into::<web_sys::Blob>()
            {
                attachment.width = get(&t, "width").as_f64().map(|w| w as u32);
                attachment.height = get(&t, "height").as_f64().map(|h| h as u32);
                let rec = self.record(key).await.unwrap_or(rec.clone());
                let thumb_name = format!("thumb-{name}.jpg");
                if let Ok(tf) =
                    self.upload(key, &rec, "thumbUploadId", &tblob, &thumb_name, "image/jpeg", &scope, false).await
                {
                    attachment.thumb = Some(tf.id);
                }
            }
        }
        self.post_message(&channel, attachment).await
    }

    /// Put the stored file into its library folder. Sent again after a lost answer, the relay
    /// says it is there already: that is success too.
    async fn add_to_folder(&self, folder: &str, entry: Option<String>, file: FileInfo) -> Result<(), Stop> {
        let add = qiao_model::library::AddFile { file: file.id, entry };
        let path = format!("/api/library/folders/{folder}/files");
        match api::post::<_, qiao_model::library::LibraryFile>(&path, &add).await {
            Ok(_) => {}
            Err(ApiFailure::Refused(e)) if e.code == "conflict" => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(lib) = self.library {
            leptos::task::spawn_local(lib.refresh());
        }
        Ok(())
    }

    /// Append the message carrying the file to the conversation's newest segment.
    async fn post_message(&self, channel: &ChannelId, attachment: Attachment) -> Result<(), Stop> {
        let repo = self.repo.get_value();
        let me = self.me.get_value();
        let head = self
            .channels
            .list
            .with_untracked(|l| l.iter().find(|c| &c.id == channel).map(|c| c.head_segment))
            .unwrap_or(0);
        let doc = writable_segment(&repo, channel, head).await;
        let mut msg = ChatMessage::new(
            storage::random_hex::<8>(),
            me.id,
            me.display_name.clone(),
            storage::now_ms(),
            String::new(),
        );
        msg.files = vec![attachment];
        match repo.change(doc, |d| chat::append(d, &msg)) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Stop::Refused(e.to_string())),
            None => Err(Stop::Later),
        }
    }
}

/// The segment a new message of `channel` goes into, moving on when the newest is full (as the
/// channel view does for typed messages).
pub async fn writable_segment(repo: &crate::sync::repo::Repo, channel: &ChannelId, head: u32) -> DocumentId {
    let mut n = super::read_state::local_head(channel).max(head);
    loop {
        let id = chat::segment_id(channel, n);
        let ch = channel.clone();
        repo.open(id, move || chat::genesis(&ch, n)).await;
        if repo.read_untracked(id, chat::message_count).unwrap_or(0) < SEGMENT_CAPACITY {
            if n != super::read_state::local_head(channel) {
                storage::set(&super::read_state::local_head_key(channel), &n.to_string());
            }
            return id;
        }
        n += 1;
    }
}

pub fn expect_uploads() -> Uploads {
    expect_context::<Uploads>()
}

/// "12.5 MB"-style sizes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}
