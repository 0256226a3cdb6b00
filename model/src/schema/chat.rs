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
//!        messages: [ { id: str, author: int, author_name: str, ts: int (ms), text: Text } ] }
//! ```

use crate::ids::{ChannelId, DocumentId, UserId};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

/// Messages per segment before writers move on to the next one.
pub const SEGMENT_CAPACITY: usize = 200;
/// Longest message body accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChatError {
    #[error("this document is not a chat segment")]
    NotASegment,
    #[error("message is empty")]
    Empty,
    #[error("message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
}

fn messages_obj(doc: &impl ReadDoc) -> Option<ObjId> {
    match doc.get(ROOT, "messages").ok()?? {
        (Value::Object(ObjType::List), id) => Some(id),
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

/// Number of messages in a segment (0 for a document that is not one yet).
pub fn message_count(doc: &impl ReadDoc) -> usize {
    messages_obj(doc).map(|m| doc.length(&m)).unwrap_or(0)
}

/// All messages of a segment in document order. Entries that do not parse (written by a newer or
/// hostile client) are skipped rather than failing the whole segment.
pub fn messages(doc: &impl ReadDoc) -> Vec<ChatMessage> {
    let Some(list) = messages_obj(doc) else { return Vec::new() };
    let len = doc.length(&list);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) else { continue };
        let (Some(id), Some(author), Some(ts), Some(text)) =
            (str_of(doc, &m, "id"), int_of(doc, &m, "author"), int_of(doc, &m, "ts"), str_of(doc, &m, "text"))
        else {
            continue;
        };
        out.push(ChatMessage {
            id,
            author: UserId(author),
            author_name: str_of(doc, &m, "author_name").unwrap_or_default(),
            ts,
            text,
        });
    }
    out
}

/// Append a message as one change. `doc` must carry the author's actor id.
pub fn append(doc: &mut AutoCommit, msg: &ChatMessage) -> Result<(), ChatError> {
    let text = msg.text.trim_end();
    if text.trim().is_empty() {
        return Err(ChatError::Empty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong);
    }
    let list = messages_obj(doc).ok_or(ChatError::NotASegment)?;
    let at = doc.length(&list);
    let m = doc.insert_object(&list, at, ObjType::Map).map_err(|_| ChatError::NotASegment)?;
    let put = |doc: &mut AutoCommit, k: &str, v: ScalarValue| doc.put(&m, k, v).map_err(|_| ChatError::NotASegment);
    put(doc, "id", msg.id.as_str().into())?;
    put(doc, "author", ScalarValue::Int(msg.author.0))?;
    put(doc, "author_name", msg.author_name.as_str().into())?;
    put(doc, "ts", ScalarValue::Int(msg.ts))?;
    let t = doc.put_object(&m, "text", ObjType::Text).map_err(|_| ChatError::NotASegment)?;
    doc.splice_text(&t, 0, 0, text).map_err(|_| ChatError::NotASegment)?;
    doc.commit_with(CommitOptions::default().with_time(msg.ts / 1000));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn msg(author: i64, id: &str, text: &str, ts: i64) -> ChatMessage {
        ChatMessage { id: id.into(), author: UserId(author), author_name: format!("u{author}"), ts, text: text.into() }
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
        let c = ChannelId("general".into());
        let mut a = genesis(&c, 0);
        a.set_actor(actor_for(UserId(1), [1; 8]));
        let mut b = genesis(&c, 0);
        b.set_actor(actor_for(UserId(2), [2; 8]));
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
    fn empty_and_oversized_messages_are_refused() {
        let mut d = genesis(&ChannelId("x".into()), 0);
        assert_eq!(append(&mut d, &msg(1, "e", "  \n ", 1)), Err(ChatError::Empty));
        let long = "字".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(append(&mut d, &msg(1, "l", &long, 1)), Err(ChatError::TooLong));
        assert_eq!(message_count(&d), 0);
        let mut not_segment = AutoCommit::new();
        assert_eq!(append(&mut not_segment, &msg(1, "n", "hi", 1)), Err(ChatError::NotASegment));
    }

    #[test]
    fn segment_ids_differ_per_channel_and_number() {
        let a = ChannelId("a".into());
        assert_ne!(segment_id(&a, 0), segment_id(&a, 1));
        assert_ne!(segment_id(&a, 0), segment_id(&ChannelId("b".into()), 0));
    }
}
