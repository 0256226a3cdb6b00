//! Ephemeral signals between the people looking at the same document: who is typing, who is
//! here. They travel in automerge-repo `ephemeral` messages (relayed to the document's other
//! peers, never stored) as a small CBOR map.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Signal {
    /// `user` is typing in the conversation this document belongs to.
    Typing { user: UserId, name: String },
    /// `user` stopped typing (sent the message or cleared the box).
    StoppedTyping { user: UserId },
    /// `user` has the app open (sent every half minute to their direct messages and groups).
    Here { user: UserId },
    /// `user` closed the app.
    Gone { user: UserId },
}

impl Signal {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(self, &mut out).expect("writing CBOR to a Vec cannot fail");
        out
    }

    /// `None` for anything that is not a signal this version understands.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > 4096 {
            return None;
        }
        ciborium::de::from_reader_with_recursion_limit(bytes, 8).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let s = Signal::Typing { user: UserId(7), name: "李雷".into() };
        assert_eq!(Signal::decode(&s.encode()), Some(s));
        let h = Signal::Here { user: UserId(9) };
        assert_eq!(Signal::decode(&h.encode()), Some(h));
        assert_eq!(Signal::decode(b"\xff\x00"), None);
        assert_eq!(Signal::decode(&[0x80; 5000]), None);
    }
}
