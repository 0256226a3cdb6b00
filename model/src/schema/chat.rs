//! Chat history, split into bounded segments.
//!
//! A channel's messages live in a sequence of *segment* documents: segment `n` of channel `c` has
//! the id `DocumentId::derived(["chat", c, n])`, so any replica can name (and create) the next
//! segment offline. A writer appends to the newest segment until it holds
//! [`SEGMENT_CAPACITY`] messages, then moves on. Automerge's cost per applied change grows with
//! the ops in a document, so bounding segments keeps a channel with years of history as fast to
//! open and to sync as a new one: a client opens only the newest segments and loads older ones
//! when the reader scrolls back.
//!
//! ```text
//! ROOT { kind: "chat-segment", channel: str, segment: int,
//!        messages:  [ { id, author: int, author_name, ts: int (ms), text: Text,
//!                       reply_to?: str, edited_at?: int, deleted?: bool,
//!                       history: [ { ts: int, text: str } ] } ],
//!        reactions: { "<message id>|<emoji>|<user id>": true },
//!        pins:      { "<message id>": <user id who pinned> } }
//! ```
//!
//! The layout is chosen so that *who may change what* can be read off each operation
//! ([`validate`]): a message and everything inside it is created by its author's actor, and the
//! shared maps are keyed so that a key names the user it belongs to. The relay runs [`validate`]
//! on every incoming change; the app uses the same rules to decide which buttons to show.

use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{ChannelId, DocumentId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Messages per segment before writers move on to the next one.
pub const SEGMENT_CAPACITY: usize = 200;
/// Longest message body accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// The quick reactions offered in the UI (any single emoji is accepted).
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😄", "🎉", "👀", "✅"];

/// The document id of segment `segment` of `channel`.
pub fn segment_id(channel: &ChannelId, segment: u32) -> DocumentId {
    DocumentId::derived(&["chat", channel.as_str(), &segment.to_string()])
}

/// The genesis document of a segment: identical on every replica.
pub fn genesis(channel: &ChannelId, segment: u32) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "chat-segment").expect("put on root");
        doc.put(ROOT, "channel", channel.as_str()).expect("put on root");
        doc.put(ROOT, "segment", segment as i64).expect("put on root");
        doc.put_object(ROOT, "messages", ObjType::List).expect("put on root");
        doc.put_object(ROOT, "reactions", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "pins", ObjType::Map).expect("put on root");
    })
}

/// One message as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: String,
    pub author: UserId,
    pub author_name: String,
    pub ts: i64,
    pub text: String,
    pub reply_to: Option<String>,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    /// Earlier versions, oldest first: (when it was replaced, the text it had).
    pub history: Vec<(i64, String)>,
    /// Emoji → the users who reacted with it, in a stable order.
    pub reactions: BTreeMap<String, BTreeSet<UserId>>,
    /// Who pinned it, if pinned.
    pub pinned_by: Option<UserId>,
    /// The people it mentions (`@Name` in the text names them for readers).
    pub mentions: Vec<UserId>,
    /// It mentions everyone in the conversation (`@所有人`); only admins may (see
    /// [`crate::acl::mention_all`]).
    pub mention_all: bool,
    /// Files sent with it (uploaded first; see [`crate::files`]).
    pub files: Vec<Attachment>,
    /// A forwarded copy: where it came from ("author · conversation"), shown above it.
    pub forwarded_from: Option<String>,
    /// A quick poll (投票): the text is its question.
    pub poll: Option<Poll>,
}

/// A poll in a conversation. Its options and settings live in a `poll` map inside the message
/// (the author's, like the rest of the message); each vote is a key `<message>|poll:<option>|<user>`
/// in the segment's `reactions` map, so the rule that a reaction names the one who sets it is
/// also the rule for votes, and votes from several devices merge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Poll {
    pub options: Vec<String>,
    /// Several options may be chosen.
    pub multi: bool,
    /// The author closed it: no more votes are offered.
    pub closed: bool,
    /// For each option, who chose it. In a single-choice poll a person who chose two options on
    /// two offline devices counts once, for the first of them.
    pub votes: Vec<BTreeSet<UserId>>,
}

/// Most options a poll may have, and longest option.
pub const MAX_POLL_OPTIONS: usize = 20;
pub const MAX_POLL_OPTION_CHARS: usize = 200;
const POLL_VOTE: &str = "poll:";

impl Poll {
    /// A new open poll with these options (trimmed; empty ones dropped).
    pub fn new(options: impl IntoIterator<Item = String>, multi: bool) -> Result<Poll, ChatError> {
        let options: Vec<String> =
            options.into_iter().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
        let distinct: BTreeSet<&String> = options.iter().collect();
        if options.len() < 2
            || options.len() > MAX_POLL_OPTIONS
            || distinct.len() != options.len()
            || options.iter().any(|o| o.chars().count() > MAX_POLL_OPTION_CHARS)
        {
            return Err(ChatError::BadPoll);
        }
        let votes = vec![BTreeSet::new(); options.len()];
        Ok(Poll { options, multi, closed: false, votes })
    }

    /// How many people voted at all.
    pub fn voters(&self) -> usize {
        self.votes.iter().flatten().collect::<BTreeSet<_>>().len()
    }
}

/// A file attached to a message: enough to show it without asking the relay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// The relay's file id (`GET /api/files/{id}`).
    pub id: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// A small preview image uploaded beside an image (its file id).
    pub thumb: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl ChatMessage {
    /// A new message to append.
    pub fn new(id: String, author: UserId, author_name: String, ts: i64, text: String) -> Self {
        Self {
            id,
            author,
            author_name,
            ts,
            text,
            reply_to: None,
            edited_at: None,
            deleted: false,
            history: Vec::new(),
            reactions: BTreeMap::new(),
            pinned_by: None,
            mentions: Vec::new(),
            mention_all: false,
            files: Vec::new(),
            forwarded_from: None,
            poll: None,
        }
    }

    /// Whether it mentions `user`, by name or through `@所有人`.
    pub fn mentions_user(&self, user: UserId) -> bool {
        self.mention_all || self.mentions.contains(&user)
    }
}

/// How `@所有人` is written, in each language the app speaks.
pub const MENTION_ALL_TOKENS: [&str; 2] = ["@所有人", "@all"];

/// The mention list as stored: user ids joined by commas (one scalar: written once with the
/// message, read without walking a nested object).
fn parse_mentions(s: &str) -> Vec<UserId> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).map(UserId).collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChatError {
    #[error("this document is not a chat segment")]
    NotASegment,
    #[error("message is empty")]
    Empty,
    #[error("message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("no such message")]
    NoSuchMessage,
    #[error("not a reaction")]
    BadReaction,
    #[error("a poll needs 2 to {MAX_POLL_OPTIONS} different options of at most {MAX_POLL_OPTION_CHARS} characters")]
    BadPoll,
    #[error("this poll is closed or has no such option")]
    PollClosed,
}

fn obj(doc: &impl ReadDoc, key: &str, ty: ObjType) -> Option<ObjId> {
    match doc.get(ROOT, key).ok()?? {
        (Value::Object(t), id) if t == ty => Some(id),
        _ => None,
    }
}

fn str_of(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

fn int_of(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            ScalarValue::Timestamp(t) => Some(*t),
            _ => None,
        },
        _ => None,
    }
}

fn bool_of(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(doc.get(obj, key), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
}

/// The channel a segment belongs to.
pub fn channel_of(doc: &impl ReadDoc) -> Option<ChannelId> {
    match doc.get(ROOT, "channel").ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(ChannelId(s.to_string())),
            _ => None,
        },
        _ => None,
    }
}

/// Number of messages in a segment (0 for a document that is not one yet).
pub fn message_count(doc: &impl ReadDoc) -> usize {
    obj(doc, "messages", ObjType::List).map(|m| doc.length(&m)).unwrap_or(0)
}

/// How many messages of a segment someone else wrote after `since` (ms) and did not delete:
/// the unread count of a conversation for `me`. Reads only the fields it needs, so the sidebar
/// can count every conversation on each change without materialising their messages.
pub fn unread_after(doc: &impl ReadDoc, since: i64, me: UserId) -> usize {
    let Some(list) = obj(doc, "messages", ObjType::List) else { return 0 };
    let mut n = 0;
    // Newest last: walk back until a message at or before `since` by someone else. Clocks differ
    // between devices, so a few out-of-order stamps are tolerated before stopping.
    let mut older_seen = 0;
    for i in (0..doc.length(&list)).rev() {
        let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) else { continue };
        let (Some(author), Some(ts)) = (int_of(doc, &m, "author"), int_of(doc, &m, "ts")) else { continue };
        if ts <= since {
            older_seen += 1;
            if older_seen >= 20 {
                break;
            }
            continue;
        }
        if author != me.0 && !bool_of(doc, &m, "deleted") {
            n += 1;
        }
    }
    n
}

/// How many messages after `since` by someone else mention `me` (by name or everyone).
pub fn unread_mentions_after(doc: &impl ReadDoc, since: i64, me: UserId) -> usize {
    let Some(list) = obj(doc, "messages", ObjType::List) else { return 0 };
    let mine = me.0.to_string();
    let mut n = 0;
    for i in (0..doc.length(&list)).rev() {
        let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) else { continue };
        let (Some(author), Some(ts)) = (int_of(doc, &m, "author"), int_of(doc, &m, "ts")) else { continue };
        if ts <= since || author == me.0 || bool_of(doc, &m, "deleted") {
            continue;
        }
        let named = str_of(doc, &m, "mentions").is_some_and(|s| s.split(',').any(|p| p == mine));
        if named || bool_of(doc, &m, "mention_all") {
            n += 1;
        }
    }
    n
}

fn receipt_key(user: UserId) -> String {
    format!("read:{}", user.0)
}

/// Record that `user` has read this segment up to `ts` (a read receipt, 已读), if that is further
/// than before. Only for small conversations: every reader's position is a change to the segment.
/// Returns whether it changed the document.
pub fn set_receipt(doc: &mut AutoCommit, user: UserId, ts: i64) -> bool {
    let key = receipt_key(user);
    let current = int_of(doc, &ROOT, &key).unwrap_or(0);
    if ts <= current || doc.put(ROOT, key, ts).is_err() {
        return false;
    }
    commit(doc, ts);
    true
}

/// Everyone's read receipts in this segment: user → how far they read (ms).
pub fn receipts(doc: &impl ReadDoc) -> BTreeMap<UserId, i64> {
    doc.keys(ROOT)
        .filter_map(|k| {
            let user = k.strip_prefix("read:")?.parse::<i64>().ok()?;
            Some((UserId(user), int_of(doc, &ROOT, &k)?))
        })
        .collect()
}

/// When the newest message of a segment was written (ms), if it has any.
pub fn latest_ts(doc: &impl ReadDoc) -> Option<i64> {
    let list = obj(doc, "messages", ObjType::List)?;
    (0..doc.length(&list)).rev().find_map(|i| match doc.get(&list, i) {
        Ok(Some((Value::Object(ObjType::Map), m))) => int_of(doc, &m, "ts"),
        _ => None,
    })
}

fn reaction_key(message: &str, emoji: &str, user: UserId) -> String {
    format!("{message}|{emoji}|{user}")
}

/// The messages a document has now that it did not have at `before` (heads it had earlier), in
/// document order: what a batch of incoming changes added. Messages are never removed from the
/// list (deleting sets a flag), so a list no longer than before means nothing was added, and
/// that common case (reactions, edits, receipts) costs two length lookups.
pub fn messages_added(doc: &impl ReadDoc, before: &[automerge::ChangeHash]) -> Vec<ChatMessage> {
    let Some(list) = obj(doc, "messages", ObjType::List) else { return Vec::new() };
    let had = doc.length_at(&list, before);
    if doc.length(&list) <= had {
        return Vec::new();
    }
    let old: BTreeSet<String> = (0..had)
        .filter_map(|i| match doc.get_at(&list, i, before) {
            Ok(Some((Value::Object(ObjType::Map), m))) => match doc.get_at(&m, "id", before) {
                Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                    ScalarValue::Str(id) => Some(id.to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    messages(doc).into_iter().filter(|m| !old.contains(&m.id)).collect()
}

/// All messages of a segment in document order. Entries that do not parse (written by a newer or
/// hostile client) are skipped rather than failing the whole segment.
pub fn messages(doc: &impl ReadDoc) -> Vec<ChatMessage> {
    let Some(list) = obj(doc, "messages", ObjType::List) else { return Vec::new() };
    let len = doc.length(&list);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) else { continue };
        let (Some(id), Some(author), Some(ts), Some(text)) =
            (str_of(doc, &m, "id"), int_of(doc, &m, "author"), int_of(doc, &m, "ts"), str_of(doc, &m, "text"))
        else {
            continue;
        };
        let mut history = Vec::new();
        if let Ok(Some((Value::Object(ObjType::List), h))) = doc.get(&m, "history") {
            for j in 0..doc.length(&h) {
                if let Ok(Some((Value::Object(ObjType::Map), e))) = doc.get(&h, j)
                    && let (Some(ts), Some(t)) = (int_of(doc, &e, "ts"), str_of(doc, &e, "text"))
                {
                    history.push((ts, t));
                }
            }
        }
        out.push(ChatMessage {
            author_name: str_of(doc, &m, "author_name").unwrap_or_default(),
            reply_to: str_of(doc, &m, "reply_to"),
            edited_at: int_of(doc, &m, "edited_at"),
            deleted: bool_of(doc, &m, "deleted"),
            history,
            reactions: BTreeMap::new(),
            pinned_by: None,
            mentions: str_of(doc, &m, "mentions").map(|s| parse_mentions(&s)).unwrap_or_default(),
            mention_all: bool_of(doc, &m, "mention_all"),
            files: attachments(doc, &m),
            forwarded_from: str_of(doc, &m, "forwarded_from"),
            poll: poll_of(doc, &m),
            id,
            author: UserId(author),
            ts,
            text,
        });
    }
    // Reactions and pins live in their own maps; attach them by message id.
    let index: BTreeMap<String, usize> = out.iter().enumerate().map(|(i, m)| (m.id.clone(), i)).collect();
    if let Some(r) = obj(doc, "reactions", ObjType::Map) {
        for key in doc.keys(&r) {
            let mut parts = key.splitn(3, '|');
            let (Some(msg), Some(emoji), Some(user)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let (Some(&i), Ok(user)) = (index.get(msg), user.parse::<i64>()) else { continue };
            if !bool_of(doc, &r, &key) {
                continue;
            }
            if let Some(option) = emoji.strip_prefix(POLL_VOTE) {
                let poll = out[i].poll.as_mut();
                if let (Some(poll), Ok(option)) = (poll, option.parse::<usize>())
                    && let Some(voters) = poll.votes.get_mut(option)
                {
                    voters.insert(UserId(user));
                }
                continue;
            }
            out[i].reactions.entry(emoji.to_string()).or_default().insert(UserId(user));
        }
    }
    if let Some(p) = obj(doc, "pins", ObjType::Map) {
        for key in doc.keys(&p) {
            if let (Some(&i), Some(by)) = (index.get(&key), int_of(doc, &p, &key)) {
                out[i].pinned_by = Some(UserId(by));
            }
        }
    }
    for poll in out.iter_mut().filter_map(|m| m.poll.as_mut()).filter(|p| !p.multi) {
        let mut counted = BTreeSet::new();
        for voters in &mut poll.votes {
            voters.retain(|u| counted.insert(*u));
        }
    }
    out
}

fn poll_of(doc: &impl ReadDoc, m: &ObjId) -> Option<Poll> {
    let Ok(Some((Value::Object(ObjType::Map), p))) = doc.get(m, "poll") else { return None };
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(&p, "options") else { return None };
    let options: Vec<String> = (0..doc.length(&list))
        .filter_map(|i| match doc.get(&list, i).ok()?? {
            (Value::Scalar(s), _) => s.as_str().map(str::to_string),
            _ => None,
        })
        .collect();
    Some(Poll {
        votes: vec![BTreeSet::new(); options.len()],
        options,
        multi: bool_of(doc, &p, "multi"),
        closed: bool_of(doc, &p, "closed"),
    })
}

fn attachments(doc: &impl ReadDoc, m: &ObjId) -> Vec<Attachment> {
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(m, "files") else { return Vec::new() };
    (0..doc.length(&list))
        .filter_map(|i| match doc.get(&list, i) {
            Ok(Some((Value::Object(ObjType::Map), f))) => Some(Attachment {
                id: str_of(doc, &f, "id")?,
                name: str_of(doc, &f, "name").unwrap_or_default(),
                size: int_of(doc, &f, "size").and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                mime: str_of(doc, &f, "mime").unwrap_or_default(),
                thumb: str_of(doc, &f, "thumb"),
                width: int_of(doc, &f, "width").and_then(|n| u32::try_from(n).ok()),
                height: int_of(doc, &f, "height").and_then(|n| u32::try_from(n).ok()),
            }),
            _ => None,
        })
        .collect()
}

fn check_text(text: &str) -> Result<&str, ChatError> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Err(ChatError::Empty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong);
    }
    Ok(text)
}

fn commit(doc: &mut AutoCommit, ts_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(ts_ms / 1000));
}

/// Append a message as one change. `doc` must carry the author's actor id.
pub fn append(doc: &mut AutoCommit, msg: &ChatMessage) -> Result<(), ChatError> {
    // A message may be only files; otherwise it needs text.
    let text = if msg.files.is_empty() { check_text(&msg.text)? } else { msg.text.trim_end() };
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong);
    }
    let list = obj(doc, "messages", ObjType::List).ok_or(ChatError::NotASegment)?;
    let at = doc.length(&list);
    let m = doc.insert_object(&list, at, ObjType::Map).map_err(|_| ChatError::NotASegment)?;
    let put = |doc: &mut AutoCommit, k: &str, v: ScalarValue| doc.put(&m, k, v).map_err(|_| ChatError::NotASegment);
    put(doc, "id", msg.id.as_str().into())?;
    put(doc, "author", ScalarValue::Int(msg.author.0))?;
    put(doc, "author_name", msg.author_name.as_str().into())?;
    put(doc, "ts", ScalarValue::Int(msg.ts))?;
    if let Some(r) = &msg.reply_to {
        put(doc, "reply_to", r.as_str().into())?;
    }
    if !msg.mentions.is_empty() {
        let ids: Vec<String> = msg.mentions.iter().map(|u| u.0.to_string()).collect();
        put(doc, "mentions", ids.join(",").into())?;
    }
    if msg.mention_all {
        put(doc, "mention_all", ScalarValue::Boolean(true))?;
    }
    if let Some(f) = &msg.forwarded_from {
        put(doc, "forwarded_from", f.as_str().into())?;
    }
    if !msg.files.is_empty() {
        let list = doc.put_object(&m, "files", ObjType::List).map_err(|_| ChatError::NotASegment)?;
        for (i, a) in msg.files.iter().enumerate() {
            let f = doc.insert_object(&list, i, ObjType::Map).map_err(|_| ChatError::NotASegment)?;
            let mut put_f = |k: &str, v: ScalarValue| doc.put(&f, k, v).map_err(|_| ChatError::NotASegment);
            put_f("id", a.id.as_str().into())?;
            put_f("name", a.name.as_str().into())?;
            put_f("size", ScalarValue::Int(i64::try_from(a.size).unwrap_or(i64::MAX)))?;
            put_f("mime", a.mime.as_str().into())?;
            if let Some(t) = &a.thumb {
                put_f("thumb", t.as_str().into())?;
            }
            if let (Some(w), Some(h)) = (a.width, a.height) {
                put_f("width", ScalarValue::Int(w.into()))?;
                put_f("height", ScalarValue::Int(h.into()))?;
            }
        }
    }
    if let Some(poll) = &msg.poll {
        Poll::new(poll.options.iter().cloned(), poll.multi)?;
        let p = doc.put_object(&m, "poll", ObjType::Map).map_err(|_| ChatError::NotASegment)?;
        doc.put(&p, "multi", poll.multi).map_err(|_| ChatError::NotASegment)?;
        let list = doc.put_object(&p, "options", ObjType::List).map_err(|_| ChatError::NotASegment)?;
        for (i, o) in poll.options.iter().enumerate() {
            doc.insert(&list, i, o.trim()).map_err(|_| ChatError::NotASegment)?;
        }
    }
    let t = doc.put_object(&m, "text", ObjType::Text).map_err(|_| ChatError::NotASegment)?;
    doc.splice_text(&t, 0, 0, text).map_err(|_| ChatError::NotASegment)?;
    doc.put_object(&m, "history", ObjType::List).map_err(|_| ChatError::NotASegment)?;
    commit(doc, msg.ts);
    Ok(())
}

/// `user` chooses (or, with `on` false, un-chooses) option `option` of the poll in message `id`.
/// In a single-choice poll choosing one option takes back the user's other choice, in the same
/// change.
pub fn vote(
    doc: &mut AutoCommit,
    id: &str,
    option: usize,
    user: UserId,
    on: bool,
    now_ms: i64,
) -> Result<(), ChatError> {
    let m = find_message(doc, id).ok_or(ChatError::NoSuchMessage)?;
    let poll = poll_of(doc, &m).ok_or(ChatError::NoSuchMessage)?;
    if poll.closed || option >= poll.options.len() {
        return Err(ChatError::PollClosed);
    }
    let r = obj(doc, "reactions", ObjType::Map).ok_or(ChatError::NotASegment)?;
    let key = |o: usize| reaction_key(id, &format!("{POLL_VOTE}{o}"), user);
    if on && !poll.multi {
        for other in (0..poll.options.len()).filter(|o| *o != option) {
            if doc.get(&r, key(other)).ok().flatten().is_some() {
                doc.delete(&r, key(other)).map_err(|_| ChatError::NotASegment)?;
            }
        }
    }
    let res = if on { doc.put(&r, key(option), true) } else { doc.delete(&r, key(option)) };
    res.map_err(|_| ChatError::NotASegment)?;
    commit(doc, now_ms);
    Ok(())
}

/// Close the poll in message `id` (its author's to do: the poll is part of their message).
pub fn close_poll(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), ChatError> {
    let m = find_message(doc, id).ok_or(ChatError::NoSuchMessage)?;
    let Ok(Some((Value::Object(ObjType::Map), p))) = doc.get(&m, "poll") else { return Err(ChatError::NoSuchMessage) };
    doc.put(&p, "closed", true).map_err(|_| ChatError::NoSuchMessage)?;
    commit(doc, now_ms);
    Ok(())
}

fn find_message(doc: &AutoCommit, id: &str) -> Option<ObjId> {
    let list = obj(doc, "messages", ObjType::List)?;
    (0..doc.length(&list)).rev().find_map(|i| match doc.get(&list, i) {
        Ok(Some((Value::Object(ObjType::Map), m))) if str_of(doc, &m, "id").as_deref() == Some(id) => Some(m),
        _ => None,
    })
}

/// Replace a message's text, keeping the old text in its history. Only the text characters that
/// changed are touched, so an edit merges with a concurrent edit of another part of the text.
pub fn edit(doc: &mut AutoCommit, id: &str, new_text: &str, now_ms: i64) -> Result<(), ChatError> {
    let new_text = check_text(new_text)?;
    let m = find_message(doc, id).ok_or(ChatError::NoSuchMessage)?;
    let Ok(Some((Value::Object(ObjType::Text), t))) = doc.get(&m, "text") else { return Err(ChatError::NoSuchMessage) };
    let old = doc.text(&t).map_err(|_| ChatError::NoSuchMessage)?;
    if old == new_text {
        return Ok(());
    }
    let history = match doc.get(&m, "history") {
        Ok(Some((Value::Object(ObjType::List), h))) => h,
        _ => doc.put_object(&m, "history", ObjType::List).map_err(|_| ChatError::NoSuchMessage)?,
    };
    let at = doc.length(&history);
    let entry = doc.insert_object(&history, at, ObjType::Map).map_err(|_| ChatError::NoSuchMessage)?;
    doc.put(&entry, "ts", ScalarValue::Int(now_ms)).map_err(|_| ChatError::NoSuchMessage)?;
    doc.put(&entry, "text", old.as_str()).map_err(|_| ChatError::NoSuchMessage)?;
    doc.update_text(&t, new_text).map_err(|_| ChatError::NoSuchMessage)?;
    doc.put(&m, "edited_at", ScalarValue::Int(now_ms)).map_err(|_| ChatError::NoSuchMessage)?;
    commit(doc, now_ms);
    Ok(())
}

/// Mark a message deleted (its text stays in history for the audit, the UI hides it).
pub fn delete(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), ChatError> {
    let m = find_message(doc, id).ok_or(ChatError::NoSuchMessage)?;
    // Already deleted: nothing to do. Writing `true` again over two concurrent `true`s would make
    // automerge emit a *delete* of the losing one, which [`validate`] refuses on another's message.
    if bool_of(doc, &m, "deleted") {
        return Ok(());
    }
    doc.put(&m, "deleted", true).map_err(|_| ChatError::NoSuchMessage)?;
    commit(doc, now_ms);
    Ok(())
}

/// Add or remove `user`'s reaction `emoji` to message `id`.
pub fn react(
    doc: &mut AutoCommit,
    id: &str,
    emoji: &str,
    user: UserId,
    on: bool,
    now_ms: i64,
) -> Result<(), ChatError> {
    if emoji.is_empty() || emoji.contains('|') || emoji.chars().count() > 8 {
        return Err(ChatError::BadReaction);
    }
    let r = obj(doc, "reactions", ObjType::Map).ok_or(ChatError::NotASegment)?;
    let key = reaction_key(id, emoji, user);
    let res = if on { doc.put(&r, key, true) } else { doc.delete(&r, key) };
    res.map_err(|_| ChatError::NotASegment)?;
    commit(doc, now_ms);
    Ok(())
}

/// Pin (or unpin) message `id`.
pub fn pin(doc: &mut AutoCommit, id: &str, by: UserId, on: bool, now_ms: i64) -> Result<(), ChatError> {
    let p = obj(doc, "pins", ObjType::Map).ok_or(ChatError::NotASegment)?;
    let res = if on { doc.put(&p, id, ScalarValue::Int(by.0)) } else { doc.delete(&p, id) };
    res.map_err(|_| ChatError::NotASegment)?;
    commit(doc, now_ms);
    Ok(())
}

// --- who may change what -------------------------------------------------------------------

/// What an author may do beyond their own messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Powers {
    /// May delete others' messages (channel moderation: admins).
    pub moderate: bool,
    /// May mention everyone (`@所有人`).
    pub mention_all: bool,
}

/// Why a change to a segment was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the segment's fixed fields cannot be changed")]
    Root,
    #[error("another person's message cannot be edited")]
    OthersMessage,
    #[error("another person's message can only be deleted by an admin")]
    DeleteOthers,
    #[error("a reaction can only be set by the person it names")]
    OthersReaction,
    #[error("this is not something a chat segment holds")]
    Shape,
    #[error("a message must name its real author")]
    Impersonation,
    #[error("only admins may mention everyone")]
    MentionAll,
}

/// The object ids the genesis change creates: (messages list, reactions map, pins map).
fn genesis_objects() -> &'static (OpId, OpId, OpId) {
    static IDS: OnceLock<(OpId, OpId, OpId)> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut g = genesis(&ChannelId(String::new()), 0);
        (
            super::genesis_object(&mut g, "messages"),
            super::genesis_object(&mut g, "reactions"),
            super::genesis_object(&mut g, "pins"),
        )
    })
}

fn opid_user(id: &OpId) -> Option<UserId> {
    actor::user_of(id.actor())
}

/// Check one change against the chat rules, as made by `user` with `powers`:
/// - the root and the shared maps are never replaced;
/// - anyone may append a message (a new map in `messages`) and fill it;
/// - only the author changes anything inside a message, except `deleted`, which an admin may set;
/// - a reaction key must name the user who sets it; anyone may pin or unpin.
///
/// Changes made under the genesis actor are the deterministic genesis and pass.
pub fn validate(change: &ExpandedChange, user: UserId, powers: Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    let (messages, reactions, pins) = genesis_objects();
    for op in &change.operations {
        let target = match &op.obj {
            // The root holds only read receipts besides the genesis fields: `read:<user>`, an
            // int, set by that user alone.
            ObjectId::Root => match (&op.key, &op.action) {
                (Key::Map(k), OpType::Put(ScalarValue::Int(_))) if k.as_str() == receipt_key(user) => continue,
                _ => return Err(Violation::Root),
            },
            ObjectId::Id(id) => id,
        };
        if target == messages {
            match (&op.action, op.insert) {
                (OpType::Make(ObjType::Map), true) => continue,
                (OpType::Delete, false) => {
                    // Removing a list element: allowed for its author, or a moderator.
                    let elem_owner = match &op.key {
                        Key::Seq(e) => e.as_opid().and_then(opid_user),
                        Key::Map(_) => None,
                    };
                    if elem_owner == Some(user) || powers.moderate {
                        continue;
                    }
                    return Err(Violation::DeleteOthers);
                }
                _ => return Err(Violation::Shape),
            }
        }
        if target == reactions {
            let Key::Map(k) = &op.key else { return Err(Violation::Shape) };
            let named = k.rsplit('|').next().and_then(|u| u.parse::<i64>().ok());
            if named != Some(user.0) {
                return Err(Violation::OthersReaction);
            }
            match op.action {
                OpType::Put(ScalarValue::Boolean(_)) | OpType::Delete => continue,
                _ => return Err(Violation::Shape),
            }
        }
        if target == pins {
            match op.action {
                OpType::Put(ScalarValue::Int(by)) if by == user.0 => continue,
                OpType::Delete => continue,
                _ => return Err(Violation::Shape),
            }
        }
        // Any other object: whoever created it owns it (objects this very change creates carry
        // its actor, so a new message is its author's).
        let owner = opid_user(target);
        if owner == Some(user) {
            // A message names its author: it must be the one writing it.
            if matches!(&op.key, Key::Map(k) if k.as_str() == "author")
                && !matches!(op.action, OpType::Put(ScalarValue::Int(a)) if a == user.0)
            {
                return Err(Violation::Impersonation);
            }
            if matches!(&op.key, Key::Map(k) if k.as_str() == "mention_all")
                && matches!(op.action, OpType::Put(ScalarValue::Boolean(true)))
                && !powers.mention_all
            {
                return Err(Violation::MentionAll);
            }
            continue;
        }
        let moderation = matches!(&op.key, Key::Map(k) if k.as_str() == "deleted")
            && matches!(op.action, OpType::Put(ScalarValue::Boolean(true)));
        if moderation && powers.moderate {
            continue;
        }
        return Err(if moderation { Violation::DeleteOthers } else { Violation::OthersMessage });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn msg(author: i64, id: &str, text: &str, ts: i64) -> ChatMessage {
        ChatMessage::new(id.into(), UserId(author), format!("u{author}"), ts, text.into())
    }

    fn doc_for(user: i64, device: u8) -> AutoCommit {
        let mut d = genesis(&ChannelId("general".into()), 0);
        d.set_actor(actor_for(UserId(user), [device; 8]));
        d
    }

    fn last_change(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().expect("a change").decode()
    }

    const EMPLOYEE: Powers = Powers { moderate: false, mention_all: false };
    const ADMIN: Powers = Powers { moderate: true, mention_all: true };

    #[test]
    fn attachments_round_trip_and_a_message_may_be_only_files() {
        let mut d = doc_for(1, 1);
        let mut m = msg(1, "f", "", 100);
        assert_eq!(append(&mut d, &m), Err(ChatError::Empty));
        m.files = vec![
            Attachment {
                id: "f1".into(),
                name: "报告.pdf".into(),
                size: 123,
                mime: "application/pdf".into(),
                ..Default::default()
            },
            Attachment {
                id: "f2".into(),
                name: "photo.png".into(),
                size: 9,
                mime: "image/png".into(),
                thumb: Some("t2".into()),
                width: Some(640),
                height: Some(480),
            },
        ];
        m.forwarded_from = Some("u2 · 项目组".into());
        append(&mut d, &m).unwrap();
        validate(&last_change(&mut d), UserId(1), EMPLOYEE).expect("the author attaches files");
        assert_eq!(messages(&d)[0].files, m.files);
        assert_eq!(messages(&d)[0].forwarded_from.as_deref(), Some("u2 · 项目组"));
    }

    #[test]
    fn polls_count_each_persons_votes_and_only_they_cast_them() {
        let mut a = doc_for(1, 1);
        let mut m = msg(1, "p", "午饭吃什么?", 100);
        assert_eq!(Poll::new(["面".to_string(), " 面 ".to_string()], false), Err(ChatError::BadPoll));
        m.poll = Some(Poll::new(["面".into(), "饭".into(), "  ".into(), "饺子".into()], false).unwrap());
        append(&mut a, &m).unwrap();
        validate(&last_change(&mut a), UserId(1), EMPLOYEE).expect("anyone may start a poll");
        let mut b = doc_for(2, 2);
        b.merge(&mut a).unwrap();
        vote(&mut b, "p", 0, UserId(2), true, 101).unwrap();
        vote(&mut b, "p", 2, UserId(2), true, 102).unwrap();
        validate(&last_change(&mut b), UserId(2), EMPLOYEE).expect("one's own vote");
        // Single choice: the second choice replaced the first.
        let poll = messages(&b)[0].poll.clone().unwrap();
        assert_eq!(poll.options, ["面", "饭", "饺子"]);
        assert_eq!(poll.votes, vec![BTreeSet::new(), BTreeSet::new(), BTreeSet::from([UserId(2)])]);
        assert!(messages(&b)[0].reactions.is_empty(), "votes are not reactions");
        // The same person voting differently on an offline device still counts once.
        let mut b2 = doc_for(2, 3);
        b2.merge(&mut a).unwrap();
        vote(&mut b2, "p", 1, UserId(2), true, 103).unwrap();
        b.merge(&mut b2).unwrap();
        assert_eq!(messages(&b)[0].poll.as_ref().unwrap().voters(), 1);
        assert_eq!(messages(&b)[0].poll.as_ref().unwrap().votes.iter().map(BTreeSet::len).sum::<usize>(), 1);
        // A vote in someone else's name is refused, and so is closing another's poll.
        vote(&mut b, "p", 0, UserId(3), true, 104).unwrap();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Err(Violation::OthersReaction));
        close_poll(&mut b, "p", 105).unwrap();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Err(Violation::OthersMessage));
        close_poll(&mut a, "p", 106).unwrap();
        validate(&last_change(&mut a), UserId(1), EMPLOYEE).expect("the author closes it");
        assert_eq!(vote(&mut a, "p", 0, UserId(1), true, 107), Err(ChatError::PollClosed));
        // Several choices when the poll allows them.
        let mut m2 = msg(1, "q", "哪天?", 200);
        m2.poll = Some(Poll::new(["一".into(), "二".into()], true).unwrap());
        append(&mut a, &m2).unwrap();
        vote(&mut a, "q", 0, UserId(1), true, 201).unwrap();
        vote(&mut a, "q", 1, UserId(1), true, 202).unwrap();
        assert_eq!(messages(&a)[1].poll.as_ref().unwrap().votes.iter().map(BTreeSet::len).sum::<usize>(), 2);
    }

    #[test]
    fn read_receipts_are_each_readers_own_and_only_move_forward() {
        let mut a = doc_for(1, 1);
        append(&mut a, &msg(1, "m", "hi", 100)).unwrap();
        let mut b = doc_for(2, 2);
        b.merge(&mut a).unwrap();
        assert!(set_receipt(&mut b, UserId(2), 100));
        validate(&last_change(&mut b), UserId(2), EMPLOYEE).expect("one's own receipt");
        assert!(!set_receipt(&mut b, UserId(2), 50), "never backwards");
        assert_eq!(receipts(&b), BTreeMap::from([(UserId(2), 100)]));
        // Someone else's receipt, or anything else on the root, is refused.
        assert!(set_receipt(&mut b, UserId(3), 100));
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Err(Violation::Root));
        b.put(ROOT, "channel", "elsewhere").unwrap();
        b.commit();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Err(Violation::Root));
    }

    #[test]
    fn messages_added_lists_only_what_new_changes_brought() {
        let c = ChannelId("c-added".into());
        let mut doc = genesis(&c, 0);
        append(&mut doc, &ChatMessage::new("m1".into(), UserId(1), "A".into(), 1, "first".into())).unwrap();
        let before = doc.get_heads();
        assert!(messages_added(doc.document(), &before).is_empty());
        react(&mut doc, "m1", "👍", UserId(2), true, 2).unwrap();
        assert!(messages_added(doc.document(), &before).is_empty(), "a reaction adds no message");
        let mut other = doc.fork();
        append(&mut other, &ChatMessage::new("m2".into(), UserId(2), "B".into(), 3, "second".into())).unwrap();
        append(&mut doc, &ChatMessage::new("m3".into(), UserId(1), "A".into(), 4, "third".into())).unwrap();
        doc.merge(&mut other).unwrap();
        let ids: Vec<String> = messages_added(doc.document(), &before).into_iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&"m2".to_string()) && ids.contains(&"m3".to_string()));
    }

    #[test]
    fn mentions_round_trip_and_only_admins_mention_everyone() {
        let mut d = doc_for(1, 1);
        let mut m = msg(1, "a", "@u2 @u3 看一下", 100);
        m.mentions = vec![UserId(2), UserId(3)];
        append(&mut d, &m).unwrap();
        validate(&last_change(&mut d), UserId(1), EMPLOYEE).expect("anyone mentions people");
        let got = &messages(&d)[0];
        assert_eq!(got.mentions, [UserId(2), UserId(3)]);
        assert!(got.mentions_user(UserId(3)) && !got.mentions_user(UserId(4)));
        assert_eq!(unread_mentions_after(&d, 0, UserId(2)), 1);
        assert_eq!(unread_mentions_after(&d, 100, UserId(2)), 0);
        assert_eq!(unread_mentions_after(&d, 0, UserId(4)), 0);

        let mut all = msg(1, "b", "@所有人 开会", 200);
        all.mention_all = true;
        append(&mut d, &all).unwrap();
        let change = last_change(&mut d);
        assert_eq!(validate(&change, UserId(1), EMPLOYEE), Err(Violation::MentionAll));
        validate(&change, UserId(1), ADMIN).expect("an admin mentions everyone");
        assert_eq!(unread_mentions_after(&d, 0, UserId(4)), 1);
    }

    #[test]
    fn unread_counts_others_messages_after_the_position_and_skips_deleted_ones() {
        let mut d = doc_for(1, 1);
        assert_eq!(unread_after(&d, 0, UserId(1)), 0);
        assert_eq!(latest_ts(&d), None);
        append(&mut d, &msg(2, "a", "old", 100)).unwrap();
        append(&mut d, &msg(2, "b", "new", 200)).unwrap();
        append(&mut d, &msg(1, "c", "mine", 300)).unwrap();
        append(&mut d, &msg(2, "d", "newer", 400)).unwrap();
        assert_eq!(unread_after(&d, 0, UserId(1)), 3);
        assert_eq!(unread_after(&d, 100, UserId(1)), 2);
        assert_eq!(unread_after(&d, 100, UserId(2)), 1, "only others' messages count");
        assert_eq!(unread_after(&d, 400, UserId(1)), 0);
        assert_eq!(latest_ts(&d), Some(400));
        let mut b = doc_for(2, 2);
        b.merge(&mut d).unwrap();
        delete(&mut b, "d", 500).unwrap();
        assert_eq!(unread_after(&b, 100, UserId(1)), 1, "a deleted message is not unread");
    }

    #[test]
    fn genesis_is_identical_everywhere() {
        let c = ChannelId("general".into());
        let mut a = genesis(&c, 3);
        let mut b = genesis(&c, 3);
        assert_eq!(a.get_heads(), b.get_heads());
        assert_ne!(genesis(&c, 4).get_heads(), a.get_heads());
        assert_eq!(a.save(), b.save());
    }

    #[test]
    fn offline_writers_on_separate_genesis_copies_merge_without_loss() {
        let mut a = doc_for(1, 1);
        let mut b = doc_for(2, 2);
        append(&mut a, &msg(1, "a1", "你好，世界", 1_000)).unwrap();
        append(&mut b, &msg(2, "b1", "hello", 2_000)).unwrap();
        append(&mut a, &msg(1, "a2", "second", 3_000)).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let ma = messages(&a);
        assert_eq!(ma, messages(&b));
        let mut ids: Vec<_> = ma.iter().map(|m| m.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["a1", "a2", "b1"]);
        assert_eq!(ma.iter().find(|m| m.id == "a1").unwrap().text, "你好，世界");
    }

    #[test]
    fn concurrent_edit_reaction_and_delete_all_survive_the_merge() {
        let mut a = doc_for(1, 1);
        append(&mut a, &msg(1, "m", "the quick brown fox", 1_000)).unwrap();
        let mut b = doc_for(2, 2);
        b.merge(&mut a).unwrap();
        let mut a2 = a.fork().with_actor(actor_for(UserId(1), [3; 8]));
        // A edits on one device while B reacts; A deletes from another device.
        edit(&mut a, "m", "the quick red fox", 2_000).unwrap();
        react(&mut b, "m", "👍", UserId(2), true, 2_000).unwrap();
        delete(&mut a2, "m", 3_000).unwrap();
        a.merge(&mut b).unwrap();
        a.merge(&mut a2).unwrap();
        b.merge(&mut a).unwrap();
        let m = &messages(&b)[0];
        assert_eq!(m.text, "the quick red fox");
        assert_eq!(m.history, vec![(2_000, "the quick brown fox".to_string())]);
        assert!(m.deleted);
        assert_eq!(m.reactions["👍"], BTreeSet::from([UserId(2)]));
        assert_eq!(messages(&a), messages(&b));
    }

    #[test]
    fn empty_and_oversized_messages_are_refused() {
        let mut d = doc_for(1, 1);
        assert_eq!(append(&mut d, &msg(1, "e", "  \n ", 1)), Err(ChatError::Empty));
        let long = "字".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(append(&mut d, &msg(1, "l", &long, 1)), Err(ChatError::TooLong));
        assert_eq!(message_count(&d), 0);
        let mut not_segment = AutoCommit::new();
        assert_eq!(append(&mut not_segment, &msg(1, "n", "hi", 1)), Err(ChatError::NotASegment));
        assert_eq!(edit(&mut d, "nope", "x", 1), Err(ChatError::NoSuchMessage));
        assert_eq!(react(&mut d, "m", "a|b", UserId(1), true, 1), Err(ChatError::BadReaction));
    }

    #[test]
    fn segment_ids_differ_per_channel_and_number() {
        let a = ChannelId("a".into());
        assert_ne!(segment_id(&a, 0), segment_id(&a, 1));
        assert_ne!(segment_id(&a, 0), segment_id(&ChannelId("b".into()), 0));
    }

    #[test]
    fn validate_allows_own_messages_reactions_and_pins() {
        let mut a = doc_for(1, 1);
        assert_eq!(validate(&a.get_changes(&[]).first().unwrap().decode(), UserId(1), EMPLOYEE), Ok(()));
        append(&mut a, &msg(1, "m", "mine", 1)).unwrap();
        assert_eq!(validate(&last_change(&mut a), UserId(1), EMPLOYEE), Ok(()));
        edit(&mut a, "m", "mine, edited", 2).unwrap();
        assert_eq!(validate(&last_change(&mut a), UserId(1), EMPLOYEE), Ok(()));
        delete(&mut a, "m", 3).unwrap();
        assert_eq!(validate(&last_change(&mut a), UserId(1), EMPLOYEE), Ok(()));

        let mut b = doc_for(2, 2);
        b.merge(&mut a).unwrap();
        react(&mut b, "m", "🎉", UserId(2), true, 4).unwrap();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Ok(()));
        react(&mut b, "m", "🎉", UserId(2), false, 5).unwrap();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Ok(()));
        pin(&mut b, "m", UserId(2), true, 6).unwrap();
        assert_eq!(validate(&last_change(&mut b), UserId(2), EMPLOYEE), Ok(()));
    }

    #[test]
    fn validate_refuses_touching_others_messages_and_reactions() {
        let mut a = doc_for(1, 1);
        append(&mut a, &msg(1, "m", "Alice's words", 1)).unwrap();
        react(&mut a, "m", "👍", UserId(1), true, 1).unwrap();
        let mut b = doc_for(2, 2);
        b.merge(&mut a).unwrap();

        let mut e = b.fork().with_actor(actor_for(UserId(2), [5; 8]));
        edit(&mut e, "m", "words Alice never said", 2).unwrap();
        assert_eq!(validate(&last_change(&mut e), UserId(2), EMPLOYEE), Err(Violation::OthersMessage));
        assert_eq!(validate(&last_change(&mut e), UserId(2), ADMIN), Err(Violation::OthersMessage));

        let mut d = b.fork().with_actor(actor_for(UserId(2), [6; 8]));
        delete(&mut d, "m", 2).unwrap();
        assert_eq!(validate(&last_change(&mut d), UserId(2), EMPLOYEE), Err(Violation::DeleteOthers));
        assert_eq!(validate(&last_change(&mut d), UserId(2), ADMIN), Ok(()));

        let mut r = b.fork().with_actor(actor_for(UserId(2), [7; 8]));
        react(&mut r, "m", "👍", UserId(1), false, 2).unwrap();
        assert_eq!(validate(&last_change(&mut r), UserId(2), EMPLOYEE), Err(Violation::OthersReaction));

        let mut root = b.fork().with_actor(actor_for(UserId(2), [8; 8]));
        root.put(ROOT, "kind", "hijacked").unwrap();
        root.commit();
        assert_eq!(validate(&last_change(&mut root), UserId(2), ADMIN), Err(Violation::Root));

        let mut fake = b.fork().with_actor(actor_for(UserId(2), [10; 8]));
        append(&mut fake, &msg(1, "f", "signed as Alice", 3)).unwrap();
        assert_eq!(validate(&last_change(&mut fake), UserId(2), ADMIN), Err(Violation::Impersonation));

        let mut wipe = b.fork().with_actor(actor_for(UserId(2), [9; 8]));
        let list = obj(&wipe, "messages", ObjType::List).unwrap();
        wipe.delete(&list, 0).unwrap();
        wipe.commit();
        assert_eq!(validate(&last_change(&mut wipe), UserId(2), EMPLOYEE), Err(Violation::DeleteOthers));
    }
}
