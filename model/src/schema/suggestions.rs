//! The suggestion box (意见箱): one company document holding every suggestion, the admins'
//! public replies and statuses, and the upvotes.
//!
//! ```text
//! ROOT { kind: "suggestions",
//!        items: { "<id>": { title: str, body: str, category: str,
//!                           author: int (0: anonymous), author_name: str ("": anonymous),
//!                           created: int (ms, rounded down to the hour),
//!                           status: "new" | "review" | "adopted" | "declined",
//!                           reply: str, reply_name: str, reply_by: int, reply_ts: int (ms) } },
//!        votes: { "<id>|<user id>": true } }
//! ```
//!
//! **Only the relay writes a suggestion** ([`submit`], through its own actor
//! [`directory::SERVER_USER`]): people hand it their text over a REST call, so that an anonymous
//! one is never a change under an actor bound to its author ([`crate::actor`] binds every client
//! actor to a user). An anonymous suggestion has no author field at all, its change is made with
//! time 0, and its `created` is rounded down to the hour, so neither can be matched against the
//! times of logins or connections. A signed one carries its author's id and name like any other
//! record.
//!
//! Over sync ([`validate`]): everyone adds and removes their own upvote (the key names its
//! voter); admins ([`Powers::moderate`]) write a suggestion's status and reply; nobody else
//! writes anything, and nobody creates suggestions.

use super::directory;
use super::read::{int_at as i_at, map_at, str_at as s_at};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DocumentId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub const MAX_TITLE_CHARS: usize = 80;
pub const MAX_BODY_CHARS: usize = 5_000;
pub const MAX_CATEGORY_CHARS: usize = 20;
pub const MAX_REPLY_CHARS: usize = 5_000;
/// How coarse a suggestion's stored time is.
pub const CREATED_GRANULARITY_MS: i64 = 3_600_000;

pub fn document_id() -> DocumentId {
    DocumentId::derived(&["suggestions"])
}

pub fn genesis() -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "suggestions").expect("put on root");
        doc.put_object(ROOT, "items", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "votes", ObjType::Map).expect("put on root");
    })
}

/// Where a suggestion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 新建
    #[default]
    New,
    /// 处理中
    Review,
    /// 已采纳
    Adopted,
    /// 未采纳
    Declined,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::New, Status::Review, Status::Adopted, Status::Declined];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Review => "review",
            Status::Adopted => "adopted",
            Status::Declined => "declined",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What someone hands the relay to file (`POST /api/suggestions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Chosen by the submitting device (random), so that sending an outbox entry twice files it
    /// once.
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub category: String,
    pub anonymous: bool,
}

/// The relay's answer to a submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub id: String,
    /// False when the id was filed already (a resent outbox entry).
    pub created: bool,
}

/// The author of a signed suggestion, as the relay knows them from the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    pub id: UserId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Suggestion {
    pub id: String,
    pub title: String,
    pub body: String,
    pub category: String,
    /// `None`: anonymous.
    pub author: Option<UserId>,
    pub author_name: String,
    pub created: i64,
    pub status: Status,
    pub reply: String,
    /// The replying admin's name when they replied; readers show the directory's name for
    /// [`Suggestion::reply_by`] when they have it (a name is only the writer's word).
    pub reply_name: String,
    /// Who replied (the relay checks it is the sender).
    pub reply_by: Option<UserId>,
    pub reply_ts: i64,
    pub votes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SuggestionError {
    #[error("a title is at most {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("the suggestion is empty or longer than {MAX_BODY_CHARS} characters")]
    Body,
    #[error("a category is at most {MAX_CATEGORY_CHARS} characters")]
    Category,
    #[error("a reply is at most {MAX_REPLY_CHARS} characters")]
    Reply,
    #[error("a suggestion id is 8 to 40 letters, digits or dashes")]
    Id,
    #[error("no such suggestion")]
    Missing,
    #[error("this is not the suggestions document")]
    NotSuggestions,
}

/// Who upvoted what.
pub fn votes(doc: &impl ReadDoc) -> BTreeMap<String, BTreeSet<UserId>> {
    let mut out: BTreeMap<String, BTreeSet<UserId>> = BTreeMap::new();
    let Some(m) = map_at(doc, &ROOT, "votes") else { return out };
    for key in doc.keys(&m) {
        let Some((id, user)) = key.rsplit_once('|') else { continue };
        let Ok(user) = user.parse::<i64>() else { continue };
        out.entry(id.to_string()).or_default().insert(UserId(user));
    }
    out
}

/// Every suggestion, newest first.
pub fn list(doc: &impl ReadDoc) -> Vec<Suggestion> {
    let Some(items) = map_at(doc, &ROOT, "items") else { return Vec::new() };
    let votes = votes(doc);
    let mut out: Vec<Suggestion> = doc
        .map_range(&items, ..)
        .filter_map(|item| {
            let o = match Value::from(item.value.clone()) {
                Value::Object(ObjType::Map) => item.id(),
                _ => return None,
            };
            let id = item.key.to_string();
            let author = i_at(doc, &o, "author");
            Some(Suggestion {
                votes: votes.get(&id).map_or(0, BTreeSet::len),
                id,
                title: s_at(doc, &o, "title"),
                body: s_at(doc, &o, "body"),
                category: s_at(doc, &o, "category"),
                author: (author != 0).then_some(UserId(author)),
                author_name: s_at(doc, &o, "author_name"),
                created: i_at(doc, &o, "created"),
                status: Status::parse(&s_at(doc, &o, "status")).unwrap_or_default(),
                reply: s_at(doc, &o, "reply"),
                reply_name: s_at(doc, &o, "reply_name"),
                reply_by: Some(i_at(doc, &o, "reply_by")).filter(|u| *u != 0).map(UserId),
                reply_ts: i_at(doc, &o, "reply_ts"),
            })
        })
        .collect();
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Check a submission's fields (the relay, and the app before it queues one).
pub fn check(s: &Submission) -> Result<(), SuggestionError> {
    let id_ok = (8..=40).contains(&s.id.len()) && s.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !id_ok {
        return Err(SuggestionError::Id);
    }
    if s.title.trim().chars().count() > MAX_TITLE_CHARS {
        return Err(SuggestionError::Title);
    }
    let body = s.body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(SuggestionError::Body);
    }
    if s.category.trim().chars().count() > MAX_CATEGORY_CHARS {
        return Err(SuggestionError::Category);
    }
    Ok(())
}

/// `now_ms` rounded down to [`CREATED_GRANULARITY_MS`].
pub fn coarse_time(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(CREATED_GRANULARITY_MS)
}

/// File `s` (the relay, under its own actor). `signer` is `None` for an anonymous suggestion,
/// which then stores no author at all. Whether it was new (an id filed before is left alone).
/// The caller commits with time 0 ([`commit_time`]).
pub fn submit(
    doc: &mut impl Transactable,
    s: &Submission,
    signer: Option<&Signer>,
    now_ms: i64,
) -> Result<bool, SuggestionError> {
    check(s)?;
    let items = map_at(doc, &ROOT, "items").ok_or(SuggestionError::NotSuggestions)?;
    if doc.get(&items, s.id.as_str()).ok().flatten().is_some() {
        return Ok(false);
    }
    let o = doc.put_object(&items, &s.id, ObjType::Map).expect("put");
    doc.put(&o, "title", s.title.trim()).expect("put");
    doc.put(&o, "body", s.body.trim()).expect("put");
    doc.put(&o, "category", s.category.trim()).expect("put");
    if let Some(a) = signer {
        doc.put(&o, "author", a.id.0).expect("put");
        doc.put(&o, "author_name", a.name.as_str()).expect("put");
    }
    doc.put(&o, "created", coarse_time(now_ms)).expect("put");
    doc.put(&o, "status", Status::New.as_str()).expect("put");
    Ok(true)
}

/// The time every relay-made suggestion change carries: none (0), so the change history holds
/// no clock reading of the moment someone submitted.
pub fn commit_time() -> CommitOptions {
    CommitOptions::default().with_time(0)
}

fn item(doc: &AutoCommit, id: &str) -> Result<ObjId, SuggestionError> {
    let items = map_at(doc, &ROOT, "items").ok_or(SuggestionError::NotSuggestions)?;
    map_at(doc, &items, id).ok_or(SuggestionError::Missing)
}

/// Toggle `user`'s upvote on `id`; whether it is now on.
pub fn toggle_vote(doc: &mut AutoCommit, id: &str, user: UserId) -> Result<bool, SuggestionError> {
    item(doc, id)?;
    let m = map_at(doc, &ROOT, "votes").ok_or(SuggestionError::NotSuggestions)?;
    let key = format!("{id}|{}", user.0);
    let on = if doc.get(&m, key.as_str()).ok().flatten().is_some() {
        doc.delete(&m, key.as_str()).expect("delete");
        false
    } else {
        doc.put(&m, key, true).expect("put");
        true
    };
    doc.commit_with(CommitOptions::default().with_time(0));
    Ok(on)
}

/// An admin's public answer: the status, and a reply (empty keeps the present one).
pub fn respond(
    doc: &mut AutoCommit,
    id: &str,
    status: Status,
    reply: &str,
    admin: &Signer,
    now_ms: i64,
) -> Result<(), SuggestionError> {
    let reply = reply.trim();
    if reply.chars().count() > MAX_REPLY_CHARS {
        return Err(SuggestionError::Reply);
    }
    let o = item(doc, id)?;
    doc.put(&o, "status", status.as_str()).expect("put");
    if !reply.is_empty() {
        doc.put(&o, "reply", reply).expect("put");
        doc.put(&o, "reply_name", admin.name.as_str()).expect("put");
        doc.put(&o, "reply_by", admin.id.0).expect("put");
        doc.put(&o, "reply_ts", now_ms).expect("put");
    }
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
    Ok(())
}

// --- who may change what ----------------------------------------------------------------------

/// What the sender may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Powers {
    /// May set statuses and reply (super admins, department admins).
    pub moderate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the suggestions document's fixed fields cannot be changed")]
    Root,
    #[error("suggestions are filed through the relay, not written over sync")]
    Submission,
    #[error("an upvote can only be given or taken back by the person it names")]
    OthersVote,
    #[error("only admins set a suggestion's status or reply")]
    NotModerator,
    #[error("a suggestion's text and author are not changed after it is filed")]
    Field,
    #[error("not a status: {0}")]
    Status(String),
    #[error("a reply is at most {MAX_REPLY_CHARS} characters, signed by its admin")]
    Reply,
}

fn genesis_objects() -> &'static (OpId, OpId) {
    static IDS: OnceLock<(OpId, OpId)> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut g = genesis();
        (super::genesis_object(&mut g, "items"), super::genesis_object(&mut g, "votes"))
    })
}

/// Whether `change`, sent over sync by `user`, keeps to the rules in the module docs. The relay
/// calls this for every change of the suggestions document; its own changes
/// (the relay's `Registry::server_change`) do not come through here.
pub fn validate(change: &ExpandedChange, user: UserId, powers: &Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    let (items, votes_obj) = genesis_objects();
    for op in &change.operations {
        let ObjectId::Id(target) = &op.obj else { return Err(Violation::Root) };
        if target == votes_obj {
            let Key::Map(k) = &op.key else { return Err(Violation::Root) };
            let named = k.rsplit_once('|').and_then(|(_, u)| u.parse::<i64>().ok());
            match op.action {
                OpType::Put(ScalarValue::Boolean(true)) | OpType::Delete if named == Some(user.0) => continue,
                _ => return Err(Violation::OthersVote),
            }
        }
        if target == items {
            return Err(Violation::Submission);
        }
        // Inside a suggestion: only objects the relay made are suggestions.
        if actor::user_of(target.actor()) != Some(directory::SERVER_USER) {
            return Err(Violation::Root);
        }
        if !powers.moderate {
            return Err(Violation::NotModerator);
        }
        let Key::Map(k) = &op.key else { return Err(Violation::Field) };
        let OpType::Put(v) = &op.action else { return Err(Violation::Field) };
        match (k.as_str(), v) {
            ("status", ScalarValue::Str(s)) if Status::parse(s).is_some() => {}
            ("status", other) => return Err(Violation::Status(other.to_string())),
            ("reply", ScalarValue::Str(s)) if s.chars().count() <= MAX_REPLY_CHARS => {}
            ("reply_name", ScalarValue::Str(s)) if s.chars().count() <= 100 => {}
            ("reply_by", ScalarValue::Int(u)) if *u == user.0 => {}
            ("reply_ts", ScalarValue::Int(_)) => {}
            ("reply" | "reply_name" | "reply_by" | "reply_ts", _) => return Err(Violation::Reply),
            _ => return Err(Violation::Field),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    const ADMIN: Powers = Powers { moderate: true };
    const EMPLOYEE: Powers = Powers { moderate: false };

    fn relay_doc() -> AutoCommit {
        let mut d = genesis();
        d.set_actor(actor_for(directory::SERVER_USER, [9; 8]));
        d
    }

    fn sub(id: &str, anonymous: bool) -> Submission {
        Submission {
            id: id.into(),
            title: "食堂".into(),
            body: "希望增加素食窗口".into(),
            category: "行政".into(),
            anonymous,
        }
    }

    fn last(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().unwrap().decode()
    }

    fn filed() -> AutoCommit {
        let mut d = relay_doc();
        assert!(submit(&mut d, &sub("s-anon-0001", true), None, 7_265_000).unwrap());
        let signer = Signer { id: UserId(4), name: "李四".into() };
        assert!(submit(&mut d, &sub("s-signed-01", false), Some(&signer), 7_300_000).unwrap());
        d.commit_with(commit_time());
        d
    }

    #[test]
    fn anonymous_suggestions_carry_no_author_and_a_coarse_time() {
        let mut d = filed();
        let change = d.get_last_local_change().unwrap().clone();
        assert_eq!(change.timestamp(), 0);
        let all = list(&d);
        let anon = all.iter().find(|s| s.id == "s-anon-0001").unwrap();
        assert_eq!((anon.author, anon.author_name.as_str()), (None, ""));
        assert_eq!(anon.created, 7_200_000);
        let signed = all.iter().find(|s| s.id == "s-signed-01").unwrap();
        assert_eq!((signed.author, signed.author_name.as_str()), (Some(UserId(4)), "李四"));
        // Filing the same id again changes nothing.
        assert!(!submit(&mut d, &sub("s-anon-0001", true), None, 9_000_000).unwrap());
        assert!(check(&Submission { body: " ".into(), ..sub("s-anon-0002", true) }).is_err());
        assert!(check(&sub("bad id!", true)).is_err());
    }

    #[test]
    fn employees_vote_for_themselves_only_and_file_nothing_over_sync() {
        let mut d = filed();
        let mut e = d.fork().with_actor(actor_for(UserId(2), [2; 8]));
        assert!(toggle_vote(&mut e, "s-anon-0001", UserId(2)).unwrap());
        validate(&last(&mut e), UserId(2), &EMPLOYEE).unwrap();
        assert!(!toggle_vote(&mut e, "s-anon-0001", UserId(2)).unwrap());
        validate(&last(&mut e), UserId(2), &EMPLOYEE).unwrap();
        // Someone else's vote.
        toggle_vote(&mut e, "s-anon-0001", UserId(3)).unwrap();
        assert_eq!(validate(&last(&mut e), UserId(2), &EMPLOYEE), Err(Violation::OthersVote));
        // A suggestion written over sync, even by an admin.
        let mut f = d.fork().with_actor(actor_for(UserId(2), [2; 8]));
        let items = map_at(&f, &ROOT, "items").unwrap();
        let o = f.put_object(&items, "s-forged-01", ObjType::Map).unwrap();
        f.put(&o, "body", "x").unwrap();
        f.commit();
        assert_eq!(validate(&last(&mut f), UserId(2), &ADMIN), Err(Violation::Submission));
        // A status or reply by an employee.
        let mut g = d.fork().with_actor(actor_for(UserId(2), [2; 8]));
        respond(&mut g, "s-anon-0001", Status::Adopted, "好", &Signer { id: UserId(2), name: "x".into() }, 1).unwrap();
        assert_eq!(validate(&last(&mut g), UserId(2), &EMPLOYEE), Err(Violation::NotModerator));
    }

    #[test]
    fn admins_reply_and_set_status_but_do_not_rewrite_or_unmask() {
        let mut d = filed();
        let admin = Signer { id: UserId(1), name: "管理员".into() };
        let mut a = d.fork().with_actor(actor_for(UserId(1), [1; 8]));
        respond(&mut a, "s-anon-0001", Status::Review, "我们在评估", &admin, 8_000_000).unwrap();
        validate(&last(&mut a), UserId(1), &ADMIN).unwrap();
        let s = list(&a).into_iter().find(|s| s.id == "s-anon-0001").unwrap();
        assert_eq!((s.status, s.reply.as_str(), s.reply_name.as_str()), (Status::Review, "我们在评估", "管理员"));
        assert_eq!(s.reply_by, Some(UserId(1)));
        // Rewriting the text or putting a name on an anonymous suggestion.
        let o = item(&a, "s-anon-0001").unwrap();
        a.put(&o, "author", 3).unwrap();
        a.commit();
        assert_eq!(validate(&last(&mut a), UserId(1), &ADMIN), Err(Violation::Field));
        a.put(&o, "body", "改写").unwrap();
        a.commit();
        assert_eq!(validate(&last(&mut a), UserId(1), &ADMIN), Err(Violation::Field));
        a.put(&o, "status", "lost").unwrap();
        a.commit();
        assert!(matches!(validate(&last(&mut a), UserId(1), &ADMIN), Err(Violation::Status(_))));
        // A reply signed in another admin's name.
        a.put(&o, "reply_by", 5).unwrap();
        a.commit();
        assert_eq!(validate(&last(&mut a), UserId(1), &ADMIN), Err(Violation::Reply));
    }
}
