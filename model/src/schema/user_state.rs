//! A person's own state, synced between their devices and readable by nobody else: how far they
//! have read each conversation, and which conversations they muted.
//!
//! ```text
//! ROOT { kind: "user-state", user: int,
//!        read:  { "<channel id>|<device>": int (ms of the last message read) },
//!        muted: { "<channel id>": bool } }
//! ```
//!
//! Read positions are kept per device and the position of a conversation is the largest of them:
//! two devices reading offline merge to the furthest point either reached, and a device that was
//! behind can never move the position back.

use crate::ids::{ChannelId, DocumentId, UserId};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

pub fn doc_id(user: UserId) -> DocumentId {
    DocumentId::derived(&["user-state", &user.0.to_string()])
}

pub fn genesis(user: UserId) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "user-state").expect("put on root");
        doc.put(ROOT, "user", user.0).expect("put on root");
        doc.put_object(ROOT, "read", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "muted", ObjType::Map).expect("put on root");
    })
}

fn map(doc: &impl ReadDoc, key: &str) -> Option<ObjId> {
    match doc.get(ROOT, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// How far `channel` has been read on any device (ms; 0 when never).
pub fn read_position(doc: &impl ReadDoc, channel: &ChannelId) -> i64 {
    let Some(read) = map(doc, "read") else { return 0 };
    let prefix = format!("{channel}|");
    doc.keys(&read)
        .filter(|k| k.starts_with(&prefix))
        .filter_map(|k| match doc.get(&read, &k) {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Int(i) => Some(*i),
                _ => None,
            },
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Record that this device has read `channel` up to `ts`; does nothing when that is not further.
/// Returns whether it changed the document.
pub fn mark_read(doc: &mut AutoCommit, channel: &ChannelId, device: &str, ts: i64) -> bool {
    if ts <= read_position(doc, channel) {
        return false;
    }
    let Some(read) = map(doc, "read") else { return false };
    if doc.put(&read, format!("{channel}|{device}"), ts).is_err() {
        return false;
    }
    doc.commit_with(CommitOptions::default().with_time(ts / 1000));
    true
}

pub fn is_muted(doc: &impl ReadDoc, channel: &ChannelId) -> bool {
    let Some(m) = map(doc, "muted") else { return false };
    matches!(doc.get(&m, channel.as_str()), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
}

pub fn set_muted(doc: &mut AutoCommit, channel: &ChannelId, muted: bool, now_ms: i64) {
    if let Some(m) = map(doc, "muted") {
        let _ = doc.put(&m, channel.as_str(), muted);
        doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    #[test]
    fn two_devices_merge_to_the_furthest_read_position() {
        let me = UserId(3);
        let c = ChannelId("general".into());
        let mut phone = genesis(me).with_actor(actor_for(me, [1; 8]));
        let mut laptop = genesis(me).with_actor(actor_for(me, [2; 8]));
        assert!(mark_read(&mut phone, &c, "phone", 500));
        assert!(mark_read(&mut laptop, &c, "laptop", 900));
        assert!(!mark_read(&mut laptop, &c, "laptop", 800), "never backwards");
        phone.merge(&mut laptop).unwrap();
        laptop.merge(&mut phone).unwrap();
        assert_eq!(read_position(&phone, &c), 900);
        assert_eq!(read_position(&laptop, &c), 900);
        assert_eq!(read_position(&phone, &ChannelId("other".into())), 0);
        // The phone catching up to an older point after the merge changes nothing.
        assert!(!mark_read(&mut phone, &c, "phone", 700));
        set_muted(&mut phone, &c, true, 1);
        assert!(is_muted(&phone, &c));
    }
}
