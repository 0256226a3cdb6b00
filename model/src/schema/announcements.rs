//! Announcements (公告): one company document holding every announcement, the categories, and
//! who has acknowledged what.
//!
//! ```text
//! ROOT { kind: "announcements",
//!        categories: { "<name>": true },
//!        items: { "<id>": { title: str, body: str (markdown), category: str, pinned: bool,
//!                           must_read: bool, dept: str ("" for everyone), author: int,
//!                           author_name: str, ts: int (ms), deleted: bool } },
//!        acks:  { "<id>|<user id>": int (ms) } }
//! ```
//!
//! Everyone reads it (offline too) and everyone writes their own acknowledgements; only
//! publishers ([`crate::acl::publish_announcement`]) add announcements and categories, a
//! department admin only to their own department; an announcement is changed by its author or a
//! super admin. [`validate`] reads all of this off each operation: an acknowledgement key names
//! its user, an announcement object belongs to the actor that created it.

use super::read::{bool_at as b_at, int_at as i_at, map_at, str_at as s_at};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DocumentId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_BODY_CHARS: usize = 50_000;

pub fn document_id() -> DocumentId {
    DocumentId::derived(&["announcements"])
}

pub fn genesis() -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "announcements").expect("put on root");
        doc.put_object(ROOT, "categories", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "items", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "acks", ObjType::Map).expect("put on root");
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Announcement {
    pub id: String,
    pub title: String,
    pub body: String,
    pub category: String,
    pub pinned: bool,
    pub must_read: bool,
    /// The department it is for; empty: everyone.
    pub dept: String,
    pub author: UserId,
    pub author_name: String,
    pub ts: i64,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnnouncementError {
    #[error("a title is 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("the text is empty or longer than {MAX_BODY_CHARS} characters")]
    Body,
    #[error("no such announcement")]
    Missing,
    #[error("this is not the announcements document")]
    NotAnnouncements,
}

/// Every announcement that is not deleted: pinned first, then newest first.
pub fn list(doc: &impl ReadDoc) -> Vec<Announcement> {
    let Some(items) = map_at(doc, &ROOT, "items") else { return Vec::new() };
    let mut out: Vec<Announcement> = doc
        .map_range(&items, ..)
        .filter_map(|item| {
            let o = match Value::from(item.value.clone()) {
                Value::Object(ObjType::Map) => item.id(),
                _ => return None,
            };
            Some(Announcement {
                id: item.key.to_string(),
                title: s_at(doc, &o, "title"),
                body: s_at(doc, &o, "body"),
                category: s_at(doc, &o, "category"),
                pinned: b_at(doc, &o, "pinned"),
                must_read: b_at(doc, &o, "must_read"),
                dept: s_at(doc, &o, "dept"),
                author: UserId(i_at(doc, &o, "author")),
                author_name: s_at(doc, &o, "author_name"),
                ts: i_at(doc, &o, "ts"),
                deleted: b_at(doc, &o, "deleted"),
            })
        })
        .filter(|a| !a.deleted)
        .collect();
    out.sort_by(|a, b| b.pinned.cmp(&a.pinned).then(b.ts.cmp(&a.ts)).then_with(|| a.id.cmp(&b.id)));
    out
}

pub fn categories(doc: &impl ReadDoc) -> Vec<String> {
    let Some(m) = map_at(doc, &ROOT, "categories") else { return Vec::new() };
    doc.keys(&m).collect()
}

/// Who acknowledged each announcement, and when (ms).
pub fn acks(doc: &impl ReadDoc) -> BTreeMap<String, BTreeMap<UserId, i64>> {
    let mut out: BTreeMap<String, BTreeMap<UserId, i64>> = BTreeMap::new();
    let Some(m) = map_at(doc, &ROOT, "acks") else { return out };
    for item in doc.map_range(&m, ..) {
        let Some((id, user)) = item.key.rsplit_once('|') else { continue };
        let Ok(user) = user.parse::<i64>() else { continue };
        let ts = match Value::from(item.value.clone()) {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Int(i) => *i,
                _ => 0,
            },
            _ => 0,
        };
        out.entry(id.to_string()).or_default().insert(UserId(user), ts);
    }
    out
}

fn commit(doc: &mut AutoCommit, now_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
}

/// Publish `a` (its category is added to the list if new).
pub fn publish(doc: &mut AutoCommit, a: &Announcement, now_ms: i64) -> Result<(), AnnouncementError> {
    let title = a.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(AnnouncementError::Title);
    }
    let body = a.body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(AnnouncementError::Body);
    }
    let items = map_at(doc, &ROOT, "items").ok_or(AnnouncementError::NotAnnouncements)?;
    let category = a.category.trim().to_string();
    if !category.is_empty() {
        let cats = map_at(doc, &ROOT, "categories").ok_or(AnnouncementError::NotAnnouncements)?;
        if doc.get(&cats, category.as_str()).ok().flatten().is_none() {
            doc.put(&cats, category.as_str(), true).expect("put");
        }
    }
    let o = doc.put_object(&items, &a.id, ObjType::Map).expect("put");
    doc.put(&o, "title", title).expect("put");
    doc.put(&o, "body", body).expect("put");
    doc.put(&o, "category", category).expect("put");
    doc.put(&o, "pinned", a.pinned).expect("put");
    doc.put(&o, "must_read", a.must_read).expect("put");
    doc.put(&o, "dept", a.dept.as_str()).expect("put");
    doc.put(&o, "author", a.author.0).expect("put");
    doc.put(&o, "author_name", a.author_name.as_str()).expect("put");
    doc.put(&o, "ts", a.ts).expect("put");
    doc.put(&o, "deleted", false).expect("put");
    commit(doc, now_ms);
    Ok(())
}

fn item(doc: &AutoCommit, id: &str) -> Result<ObjId, AnnouncementError> {
    let items = map_at(doc, &ROOT, "items").ok_or(AnnouncementError::NotAnnouncements)?;
    map_at(doc, &items, id).ok_or(AnnouncementError::Missing)
}

pub fn set_pinned(doc: &mut AutoCommit, id: &str, pinned: bool, now_ms: i64) -> Result<(), AnnouncementError> {
    let o = item(doc, id)?;
    doc.put(&o, "pinned", pinned).expect("put");
    commit(doc, now_ms);
    Ok(())
}

pub fn delete(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), AnnouncementError> {
    let o = item(doc, id)?;
    doc.put(&o, "deleted", true).expect("put");
    commit(doc, now_ms);
    Ok(())
}

/// `user` has read announcement `id` (once; a later acknowledgement does not move the time).
pub fn acknowledge(doc: &mut AutoCommit, id: &str, user: UserId, now_ms: i64) -> Result<bool, AnnouncementError> {
    item(doc, id)?;
    let m = map_at(doc, &ROOT, "acks").ok_or(AnnouncementError::NotAnnouncements)?;
    let key = format!("{id}|{}", user.0);
    if doc.get(&m, key.as_str()).ok().flatten().is_some() {
        return Ok(false);
    }
    doc.put(&m, key, now_ms).expect("put");
    commit(doc, now_ms);
    Ok(true)
}

/// Announcements `user` must still acknowledge (for their department `dept`, or everyone's).
pub fn unacknowledged(doc: &impl ReadDoc, user: UserId, dept: Option<&str>) -> Vec<Announcement> {
    let acks = acks(doc);
    list(doc)
        .into_iter()
        .filter(|a| a.must_read && (a.dept.is_empty() || Some(a.dept.as_str()) == dept))
        .filter(|a| !acks.get(&a.id).is_some_and(|m| m.contains_key(&user)))
        .collect()
}

// --- who may change what ----------------------------------------------------------------------

/// What the sender may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Powers {
    /// May publish (super admins, department admins).
    pub publish: bool,
    /// May change anyone's announcement (super admins).
    pub moderate: bool,
    /// A department admin's department: the only audience they may publish to. `None` with
    /// `publish`: any audience (super admin).
    pub only_dept: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the announcements document's fixed fields cannot be changed")]
    Root,
    #[error("your role may not publish announcements")]
    NotPublisher,
    #[error("a department admin publishes to their own department only")]
    OtherDepartment,
    #[error("only its author or a super admin changes an announcement")]
    OthersAnnouncement,
    #[error("an acknowledgement can only be given by the person it names")]
    OthersAck,
}

fn genesis_objects() -> &'static (OpId, OpId, OpId) {
    static IDS: OnceLock<(OpId, OpId, OpId)> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut g = genesis();
        (
            super::genesis_object(&mut g, "categories"),
            super::genesis_object(&mut g, "items"),
            super::genesis_object(&mut g, "acks"),
        )
    })
}

pub fn validate(change: &ExpandedChange, user: UserId, powers: &Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    let (cats, items, acks_obj) = genesis_objects();
    for op in &change.operations {
        let ObjectId::Id(target) = &op.obj else { return Err(Violation::Root) };
        if target == acks_obj {
            let Key::Map(k) = &op.key else { return Err(Violation::Root) };
            let named = k.rsplit_once('|').and_then(|(_, u)| u.parse::<i64>().ok());
            match op.action {
                OpType::Put(ScalarValue::Int(_)) if named == Some(user.0) => continue,
                _ => return Err(Violation::OthersAck),
            }
        }
        if !powers.publish {
            return Err(Violation::NotPublisher);
        }
        if target == cats {
            continue;
        }
        if target == items {
            match op.action {
                OpType::Make(ObjType::Map) => continue,
                _ => return Err(Violation::Root),
            }
        }
        // Inside an announcement: its creator's, or a super admin's to change.
        let owner = actor::user_of(target.actor());
        if owner != Some(user) && !powers.moderate {
            return Err(Violation::OthersAnnouncement);
        }
        if let (Some(d), Key::Map(k), OpType::Put(v)) = (&powers.only_dept, &op.key, &op.action)
            && k.as_str() == "dept"
            && !matches!(v, ScalarValue::Str(s) if s.as_str() == d.as_str())
        {
            return Err(Violation::OtherDepartment);
        }
        if let (Key::Map(k), OpType::Put(v)) = (&op.key, &op.action)
            && k.as_str() == "author"
            && !matches!(v, ScalarValue::Int(a) if *a == user.0)
            && owner == Some(user)
        {
            return Err(Violation::OthersAnnouncement);
        }
    }
    Ok(())
}

/// Who of `recipients` has and has not acknowledged `id`: (read with times, not read).
pub fn read_list(doc: &impl ReadDoc, id: &str, recipients: &[UserId]) -> (Vec<(UserId, i64)>, Vec<UserId>) {
    let acks = acks(doc).remove(id).unwrap_or_default();
    let set: BTreeSet<UserId> = recipients.iter().copied().collect();
    let read: Vec<(UserId, i64)> = acks.iter().filter(|(u, _)| set.contains(u)).map(|(u, t)| (*u, *t)).collect();
    let not: Vec<UserId> = set.into_iter().filter(|u| !acks.contains_key(u)).collect();
    (read, not)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn doc(user: i64) -> AutoCommit {
        let mut d = genesis();
        d.set_actor(actor_for(UserId(user), [1; 8]));
        d
    }

    fn ann(id: &str, author: i64, dept: &str) -> Announcement {
        Announcement {
            id: id.into(),
            title: "国庆放假安排".into(),
            body: "10 月 1 日至 7 日放假。".into(),
            category: "行政".into(),
            must_read: true,
            dept: dept.into(),
            author: UserId(author),
            author_name: "行政部".into(),
            ts: 1_000,
            ..Default::default()
        }
    }

    const SUPER: Powers = Powers { publish: true, moderate: true, only_dept: None };
    const EMPLOYEE: Powers = Powers { publish: false, moderate: false, only_dept: None };

    fn last(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().unwrap().decode()
    }

    #[test]
    fn publish_acknowledge_and_read_lists() {
        let mut d = doc(1);
        publish(&mut d, &ann("a1", 1, ""), 1_000).unwrap();
        validate(&last(&mut d), UserId(1), &SUPER).unwrap();
        assert_eq!(validate(&last(&mut d), UserId(1), &EMPLOYEE), Err(Violation::NotPublisher));
        assert_eq!(categories(&d), ["行政"]);
        let mut e = d.fork().with_actor(actor_for(UserId(2), [2; 8]));
        assert!(acknowledge(&mut e, "a1", UserId(2), 2_000).unwrap());
        validate(&last(&mut e), UserId(2), &EMPLOYEE).unwrap();
        assert!(!acknowledge(&mut e, "a1", UserId(2), 3_000).unwrap(), "once");
        // An acknowledgement in someone else's name.
        acknowledge(&mut e, "a1", UserId(3), 3_000).unwrap();
        assert_eq!(validate(&last(&mut e), UserId(2), &EMPLOYEE), Err(Violation::OthersAck));
        d.merge(&mut e).unwrap();
        let (read, not) = read_list(&d, "a1", &[UserId(2), UserId(3), UserId(4)]);
        assert_eq!(read.iter().map(|r| r.0).collect::<Vec<_>>(), [UserId(2), UserId(3)]);
        assert_eq!(not, [UserId(4)]);
        assert!(unacknowledged(&d, UserId(4), None).len() == 1);
        assert!(unacknowledged(&d, UserId(2), None).is_empty());
    }

    #[test]
    fn a_department_admin_publishes_to_their_department_and_edits_only_their_own() {
        let dept_admin = Powers { publish: true, moderate: false, only_dept: Some("sales".into()) };
        let mut d = doc(5);
        publish(&mut d, &ann("s1", 5, "sales"), 1_000).unwrap();
        validate(&last(&mut d), UserId(5), &dept_admin).unwrap();
        publish(&mut d, &ann("s2", 5, "eng"), 1_000).unwrap();
        assert_eq!(validate(&last(&mut d), UserId(5), &dept_admin), Err(Violation::OtherDepartment));
        publish(&mut d, &ann("s3", 5, ""), 1_000).unwrap();
        assert_eq!(validate(&last(&mut d), UserId(5), &dept_admin), Err(Violation::OtherDepartment));
        let mut other = d.fork().with_actor(actor_for(UserId(6), [6; 8]));
        set_pinned(&mut other, "s1", true, 2_000).unwrap();
        let ch = last(&mut other);
        assert_eq!(validate(&ch, UserId(6), &dept_admin), Err(Violation::OthersAnnouncement));
        assert!(validate(&ch, UserId(6), &SUPER).is_ok());
    }

    #[test]
    fn pinned_first_then_newest() {
        let mut d = doc(1);
        let mut a = ann("old", 1, "");
        a.ts = 1;
        publish(&mut d, &a, 1).unwrap();
        let mut b = ann("new", 1, "");
        b.ts = 2;
        publish(&mut d, &b, 2).unwrap();
        let mut c = ann("pin", 1, "");
        c.ts = 0;
        c.pinned = true;
        publish(&mut d, &c, 3).unwrap();
        let ids: Vec<String> = list(&d).into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["pin", "new", "old"]);
    }
}
