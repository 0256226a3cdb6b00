//! The automerge-repo websocket protocol, version "1".
//!
//! Every websocket binary frame holds one CBOR map with a `type` field. Decoding goes through a
//! flat [`RawMessage`] with every field optional and then into [`Message`], so that unknown
//! fields are ignored, unknown message types are reported rather than fatal, and a frame missing a
//! field gets a precise error. Frame size is limited by the transport before this runs.

use crate::ids::{DocumentId, PeerId};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// The only protocol version there is.
pub const PROTOCOL_V1: &str = "1";

/// Sent in `join` and `peer`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    #[serde(default)]
    pub is_ephemeral: bool,
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Join {
        sender_id: PeerId,
        supported_protocol_versions: Vec<String>,
        peer_metadata: Option<PeerMetadata>,
    },
    Peer {
        sender_id: PeerId,
        target_id: PeerId,
        selected_protocol_version: String,
        peer_metadata: Option<PeerMetadata>,
    },
    Leave {
        sender_id: PeerId,
    },
    Request {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
    },
    Ephemeral {
        sender_id: PeerId,
        target_id: PeerId,
        count: u64,
        session_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Error {
        message: String,
    },
    /// `remote-subscription-change`, `remote-heads-changed` and anything newer: understood as
    /// "not for us", never fatal.
    Other {
        kind: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("frame is not a CBOR protocol message: {0}")]
    Cbor(String),
    #[error("`{kind}` message lacks `{field}`")]
    Missing { kind: String, field: &'static str },
    #[error("bad document id: {0}")]
    BadDocumentId(String),
}

/// The wire shape: one flat map. Field names are automerge-repo's.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sender_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<ByteBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peer_metadata: Option<PeerMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supported_protocol_versions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selected_protocol_version: Option<String>,
}

impl RawMessage {
    fn need<T>(&self, v: Option<T>, field: &'static str) -> Result<T, DecodeError> {
        v.ok_or_else(|| DecodeError::Missing { kind: self.kind.clone(), field })
    }
}

fn doc_id(s: String) -> Result<DocumentId, DecodeError> {
    s.parse().map_err(|_| DecodeError::BadDocumentId(s.chars().take(40).collect()))
}

impl Message {
    /// Decode one frame. Never panics; any input gives `Ok` or a [`DecodeError`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let raw: RawMessage =
            ciborium::de::from_reader_with_recursion_limit(bytes, 16).map_err(|e| DecodeError::Cbor(e.to_string()))?;
        let r = &raw;
        Ok(match raw.kind.as_str() {
            "join" => Message::Join {
                sender_id: PeerId(r.need(raw.sender_id.clone(), "senderId")?),
                supported_protocol_versions: raw.supported_protocol_versions.clone().unwrap_or_default(),
                peer_metadata: raw.peer_metadata.clone(),
            },
            "peer" => Message::Peer {
                sender_id: PeerId(r.need(raw.sender_id.clone(), "senderId")?),
                target_id: PeerId(r.need(raw.target_id.clone(), "targetId")?),
                selected_protocol_version: r.need(raw.selected_protocol_version.clone(), "selectedProtocolVersion")?,
                peer_metadata: raw.peer_metadata.clone(),
            },
            "leave" => Message::Leave { sender_id: PeerId(r.need(raw.sender_id.clone(), "senderId")?) },
            "request" | "sync" => {
                let sender_id = PeerId(r.need(raw.sender_id.clone(), "senderId")?);
                let target_id = PeerId(r.need(raw.target_id.clone(), "targetId")?);
                let document_id = doc_id(r.need(raw.document_id.clone(), "documentId")?)?;
                let data = r.need(raw.data.clone(), "data")?.into_vec();
                if raw.kind == "request" {
                    Message::Request { sender_id, target_id, document_id, data }
                } else {
                    Message::Sync { sender_id, target_id, document_id, data }
                }
            }
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: PeerId(r.need(raw.sender_id.clone(), "senderId")?),
                target_id: PeerId(r.need(raw.target_id.clone(), "targetId")?),
                document_id: doc_id(r.need(raw.document_id.clone(), "documentId")?)?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: PeerId(r.need(raw.sender_id.clone(), "senderId")?),
                target_id: PeerId(r.need(raw.target_id.clone(), "targetId")?),
                count: r.need(raw.count, "count")?,
                session_id: r.need(raw.session_id.clone(), "sessionId")?,
                document_id: doc_id(r.need(raw.document_id.clone(), "documentId")?)?,
                data: r.need(raw.data.clone(), "data")?.into_vec(),
            },
            "error" => Message::Error { message: raw.message.clone().unwrap_or_default() },
            other => Message::Other { kind: other.chars().take(64).collect() },
        })
    }

    /// Encode as one CBOR frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut raw = RawMessage::default();
        match self.clone() {
            Message::Join { sender_id, supported_protocol_versions, peer_metadata } => {
                raw.kind = "join".into();
                raw.sender_id = Some(sender_id.0);
                raw.supported_protocol_versions = Some(supported_protocol_versions);
                raw.peer_metadata = peer_metadata;
            }
            Message::Peer { sender_id, target_id, selected_protocol_version, peer_metadata } => {
                raw.kind = "peer".into();
                raw.sender_id = Some(sender_id.0);
                raw.target_id = Some(target_id.0);
                raw.selected_protocol_version = Some(selected_protocol_version);
                raw.peer_metadata = peer_metadata;
            }
            Message::Leave { sender_id } => {
                raw.kind = "leave".into();
                raw.sender_id = Some(sender_id.0);
            }
            Message::Request { sender_id, target_id, document_id, data }
            | Message::Sync { sender_id, target_id, document_id, data } => {
                raw.kind = if matches!(self, Message::Request { .. }) { "request" } else { "sync" }.into();
                raw.sender_id = Some(sender_id.0);
                raw.target_id = Some(target_id.0);
                raw.document_id = Some(document_id.to_string());
                raw.data = Some(ByteBuf::from(data));
            }
            Message::DocUnavailable { sender_id, target_id, document_id } => {
                raw.kind = "doc-unavailable".into();
                raw.sender_id = Some(sender_id.0);
                raw.target_id = Some(target_id.0);
                raw.document_id = Some(document_id.to_string());
            }
            Message::Ephemeral { sender_id, target_id, count, session_id, document_id, data } => {
                raw.kind = "ephemeral".into();
                raw.sender_id = Some(sender_id.0);
                raw.target_id = Some(target_id.0);
                raw.count = Some(count);
                raw.session_id = Some(session_id);
                raw.document_id = Some(document_id.to_string());
                raw.data = Some(ByteBuf::from(data));
            }
            Message::Error { message } => {
                raw.kind = "error".into();
                raw.message = Some(message);
            }
            Message::Other { kind } => raw.kind = kind,
        }
        let mut out = Vec::new();
        ciborium::ser::into_writer(&raw, &mut out).expect("writing CBOR to a Vec cannot fail");
        out
    }

    /// The document this message is about, if any.
    pub fn document_id(&self) -> Option<DocumentId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. } => Some(*document_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc() -> DocumentId {
        DocumentId::derived(&["t"])
    }

    #[test]
    fn every_kind_round_trips() {
        let p = || PeerId("p".into());
        let msgs = vec![
            Message::Join {
                sender_id: p(),
                supported_protocol_versions: vec!["1".into()],
                peer_metadata: Some(PeerMetadata { storage_id: Some("s".into()), is_ephemeral: false }),
            },
            Message::Peer {
                sender_id: p(),
                target_id: p(),
                selected_protocol_version: "1".into(),
                peer_metadata: None,
            },
            Message::Leave { sender_id: p() },
            Message::Request { sender_id: p(), target_id: p(), document_id: doc(), data: vec![1, 2] },
            Message::Sync { sender_id: p(), target_id: p(), document_id: doc(), data: vec![3] },
            Message::DocUnavailable { sender_id: p(), target_id: p(), document_id: doc() },
            Message::Ephemeral {
                sender_id: p(),
                target_id: p(),
                count: 7,
                session_id: "s".into(),
                document_id: doc(),
                data: vec![9],
            },
            Message::Error { message: "no".into() },
        ];
        for m in msgs {
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn unknown_type_is_other_and_missing_field_is_named() {
        let mut raw = RawMessage { kind: "remote-heads-changed".into(), ..Default::default() };
        let mut b = Vec::new();
        ciborium::ser::into_writer(&raw, &mut b).unwrap();
        assert_eq!(Message::decode(&b).unwrap(), Message::Other { kind: "remote-heads-changed".into() });

        raw.kind = "sync".into();
        raw.sender_id = Some("a".into());
        raw.target_id = Some("b".into());
        let mut b = Vec::new();
        ciborium::ser::into_writer(&raw, &mut b).unwrap();
        assert_eq!(Message::decode(&b).unwrap_err(), DecodeError::Missing { kind: "sync".into(), field: "documentId" });
    }

    #[test]
    fn garbage_and_deep_nesting_are_errors() {
        assert!(Message::decode(b"").is_err());
        assert!(Message::decode(b"\xff\xff\xff").is_err());
        // 10,000 nested arrays: must fail on the recursion limit, not overflow the stack.
        let deep = vec![0x81u8; 10_000];
        assert!(Message::decode(&deep).is_err());
        // A byte string claiming 2^63 bytes.
        let bomb = [0xa1, 0x64, b'd', b'a', b't', b'a', 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(Message::decode(&bomb).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Message::decode(&bytes);
        }
    }
}
