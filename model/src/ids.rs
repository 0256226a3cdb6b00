//! Identifiers. Each kind of id is its own type so that a user id can never be passed where a
//! channel id is expected.
//!
//! [`DocumentId`] follows automerge-repo: 16 random bytes, shown as base58check (no version
//! byte, 4-byte double-SHA-256 checksum), so a stock automerge-repo client can name our documents.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// An automerge-repo document id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("not a base58check document id")]
    NotBase58Check,
    #[error("document id must be 16 bytes, got {0}")]
    WrongLength(usize),
}

impl DocumentId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// A document id derived from a name: every replica computes the same id offline, which is
    /// how a client can create the next chat segment without asking the server.
    pub fn derived(parts: &[&str]) -> Self {
        let mut h = Sha256::new();
        h.update(b"qiao/doc/v1");
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        let digest = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }
    /// The `automerge:` URL that automerge-repo's `Repo::find` accepts.
    pub fn to_url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(&self.0).with_check().into_string())
    }
}
impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        // A 16-byte id with checksum is at most 28 base58 characters; refuse long input before
        // decoding so hostile strings cost nothing.
        if s.len() > 40 {
            return Err(IdError::NotBase58Check);
        }
        let bytes = bs58::decode(s).with_check(None).into_vec().map_err(|_| IdError::NotBase58Check)?;
        let arr: [u8; 16] = bytes.as_slice().try_into().map_err(|_| IdError::WrongLength(bytes.len()))?;
        Ok(Self(arr))
    }
}

impl Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A sync peer: one browser tab or one server process, ephemeral.
    PeerId
);
string_id!(
    /// A conversation (channel, group or direct message).
    ChannelId
);
string_id!(
    /// A department in the directory.
    DeptId
);
string_id!(
    /// A project (项目): its members and its task board ([`crate::schema::tasks`]).
    ProjectId
);

/// A user account. Numeric because it is also packed into Automerge actor ids ([`crate::actor`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_automerge_repo_id_round_trips() {
        let id = DocumentId::derived(&["x"]);
        let s = id.to_string();
        assert_eq!(s.parse::<DocumentId>().unwrap(), id);
        assert_eq!(id.to_url().parse::<DocumentId>().unwrap(), id);
    }

    #[test]
    fn corrupted_checksum_is_refused() {
        let mut s = DocumentId::derived(&["y"]).to_string();
        let last = s.pop().unwrap();
        s.push(if last == '2' { '3' } else { '2' });
        assert!(s.parse::<DocumentId>().is_err());
        assert!("".parse::<DocumentId>().is_err());
        assert!("0OIl".parse::<DocumentId>().is_err());
        assert!("x".repeat(10_000).parse::<DocumentId>().is_err());
    }

    #[test]
    fn derived_ids_separate_their_parts() {
        assert_ne!(DocumentId::derived(&["ab", "c"]), DocumentId::derived(&["a", "bc"]));
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::array::uniform16(any::<u8>())) {
            let id = DocumentId::from_bytes(bytes);
            prop_assert_eq!(id.to_string().parse::<DocumentId>().unwrap(), id);
        }

        #[test]
        fn any_string_parses_or_errs(s in ".{0,60}") {
            let _ = s.parse::<DocumentId>();
        }
    }
}
