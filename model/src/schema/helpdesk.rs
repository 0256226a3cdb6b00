//! Helpdesk (报修): IT tickets, one Automerge document per ticket.
//!
//! ```text
//! ROOT { kind: "ticket", id: str, requester: int,            (genesis: fixed for ever)
//!        status: "new" | "in_progress" | "resolved" | "closed", assignee: int (0: nobody),
//!        rating: int (0: not rated), title, category, description, requester_name: str,
//!        created: int (ms, the relay's), assignee_name, feedback: str,
//!        replies: { "<user>-<id>": { author: int, author_name: str, body: str, ts: int } },
//!        files:   { "<user>-<file id>": { id, name, mime: str, size, by, ts: int } } }
//! ```
//!
//! Why one document per ticket (and not one helpdesk document): a ticket is private to its
//! requester and the helpdesk agents, and the relay's access check is per document, so a
//! document per ticket is what lets the relay refuse everyone else at the door (sync frames and
//! REST alike) instead of filtering inside a shared document. It also keeps each replica small:
//! an employee holds only their own tickets.
//!
//! Creation goes through the relay (`POST /api/helpdesk/tickets`): it registers the document and
//! an index row, and writes the title, category and description itself, so a ticket exists
//! whole or not at all. The app keeps a ticket typed offline in an outbox until that succeeds
//! (a client key makes a retried creation answer the same ticket). From then on the document is
//! synced like any other, offline too, and [`validate`] says who may write which fields:
//!
//! - the requester: title and description, their own replies and files, and — once an agent has
//!   resolved it — closing it with a rating (确认解决 + 评分) or reopening it;
//! - agents (named by the super admin; super admins always are): status, assignee, their own
//!   replies and files;
//! - nobody: the fixed fields, or anyone else's reply or file (a reply's key starts with its
//!   author's id and its object belongs to the actor that made it).
//!
//! The relay keeps the index row in step with every stored change ([`Summary`]) and stamps the
//! times with its own clock when it first sees them: first agent response, resolution, closing.
//! The figures admins see ([`figures`]) are computed from those rows only.

use super::read::{int_at as i_at, map_at, str_at as s_at};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DocumentId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_REPLY_CHARS: usize = 10_000;
pub const MAX_FEEDBACK_CHARS: usize = 1_000;

/// The categories a ticket may have (labels are the app's: `helpdesk.cat.<id>`).
pub const CATEGORIES: [&str; 5] = ["network", "computer", "printer", "account", "other"];

pub fn valid_category(c: &str) -> bool {
    CATEGORIES.contains(&c)
}

/// The document of ticket `ticket`.
pub fn document_id(ticket: &str) -> DocumentId {
    DocumentId::derived(&["ticket", ticket])
}

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 新建: nobody has taken it up.
    #[default]
    New,
    /// 处理中: an agent works on it (also after the requester reopens it).
    InProgress,
    /// 已解决: an agent says it is fixed; the requester confirms or reopens.
    Resolved,
    /// 已关闭: confirmed by the requester (or closed by an agent).
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::New, Status::InProgress, Status::Resolved, Status::Closed];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Resolved or closed: counts as solved in the figures.
    pub fn solved(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

pub fn genesis(ticket: &str, requester: UserId) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "ticket").expect("put on root");
        doc.put(ROOT, "id", ticket).expect("put on root");
        doc.put(ROOT, "requester", requester.0).expect("put on root");
        doc.put(ROOT, "status", Status::New.as_str()).expect("put on root");
        doc.put(ROOT, "assignee", 0i64).expect("put on root");
        doc.put(ROOT, "rating", 0i64).expect("put on root");
        doc.put_object(ROOT, "replies", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "files", ObjType::Map).expect("put on root");
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Reply {
    pub key: String,
    pub author: UserId,
    pub author_name: String,
    pub body: String,
    pub ts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TicketFile {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub by: UserId,
    pub ts: i64,
}

/// A ticket as read from its document.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ticket {
    pub id: String,
    pub requester: UserId,
    pub requester_name: String,
    pub title: String,
    pub category: String,
    pub description: String,
    pub status: Status,
    pub assignee: Option<UserId>,
    pub assignee_name: String,
    /// 1–5 once the requester rated it.
    pub rating: Option<u8>,
    pub feedback: String,
    pub created: i64,
    /// Oldest first.
    pub replies: Vec<Reply>,
    pub files: Vec<TicketFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("a title is 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("a description is at most {MAX_DESCRIPTION_CHARS} characters")]
    Description,
    #[error("unknown category")]
    Category,
    #[error("a reply is 1 to {MAX_REPLY_CHARS} characters")]
    Reply,
    #[error("a rating is 1 to 5")]
    Rating,
    #[error("this is not a ticket document")]
    NotTicket,
}

fn objects(doc: &impl ReadDoc, key: &str) -> Vec<(String, ObjId)> {
    let Some(m) = map_at(doc, &ROOT, key) else { return Vec::new() };
    doc.map_range(&m, ..)
        .filter_map(|item| match Value::from(item.value.clone()) {
            Value::Object(ObjType::Map) => Some((item.key.to_string(), item.id())),
            _ => None,
        })
        .collect()
}

/// The ticket in `doc`; `None` when it is not a ticket document (or not loaded yet).
pub fn read(doc: &impl ReadDoc) -> Option<Ticket> {
    if s_at(doc, &ROOT, "kind") != "ticket" {
        return None;
    }
    let mut replies: Vec<Reply> = objects(doc, "replies")
        .into_iter()
        .map(|(key, o)| Reply {
            key,
            author: UserId(i_at(doc, &o, "author")),
            author_name: s_at(doc, &o, "author_name"),
            body: s_at(doc, &o, "body"),
            ts: i_at(doc, &o, "ts"),
        })
        .filter(|r| !r.body.is_empty())
        .collect();
    replies.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.key.cmp(&b.key)));
    let mut files: Vec<TicketFile> = objects(doc, "files")
        .into_iter()
        .map(|(_, o)| TicketFile {
            id: s_at(doc, &o, "id"),
            name: s_at(doc, &o, "name"),
            mime: s_at(doc, &o, "mime"),
            size: i_at(doc, &o, "size").max(0) as u64,
            by: UserId(i_at(doc, &o, "by")),
            ts: i_at(doc, &o, "ts"),
        })
        .filter(|f| !f.id.is_empty())
        .collect();
    files.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.id.cmp(&b.id)));
    let assignee = i_at(doc, &ROOT, "assignee");
    let rating = i_at(doc, &ROOT, "rating");
    Some(Ticket {
        id: s_at(doc, &ROOT, "id"),
        requester: UserId(i_at(doc, &ROOT, "requester")),
        requester_name: s_at(doc, &ROOT, "requester_name"),
        title: s_at(doc, &ROOT, "title"),
        category: s_at(doc, &ROOT, "category"),
        description: s_at(doc, &ROOT, "description"),
        status: Status::parse(&s_at(doc, &ROOT, "status")).unwrap_or_default(),
        assignee: (assignee != 0).then_some(UserId(assignee)),
        assignee_name: s_at(doc, &ROOT, "assignee_name"),
        rating: (1..=5).contains(&rating).then_some(rating as u8),
        feedback: s_at(doc, &ROOT, "feedback"),
        created: i_at(doc, &ROOT, "created"),
        replies,
        files,
    })
}

/// The status as it was at `heads` (the relay asks what it was before a change arrived).
pub fn status_at(doc: &automerge::Automerge, heads: &[ChangeHash]) -> Status {
    match doc.get_at(ROOT, "status", heads) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => Status::parse(s).unwrap_or_default(),
            _ => Status::New,
        },
        _ => Status::New,
    }
}

fn commit(doc: &mut AutoCommit, now_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
}

fn check_title(t: &str) -> Result<String, TicketError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(TicketError::Title);
    }
    Ok(t.to_string())
}

fn check_description(d: &str) -> Result<String, TicketError> {
    let d = d.trim();
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(TicketError::Description);
    }
    Ok(d.to_string())
}

/// Check what a new ticket carries (the relay, before it creates anything).
pub fn check_new(new: &CreateTicket) -> Result<(), TicketError> {
    check_title(&new.title)?;
    check_description(&new.description)?;
    if !valid_category(&new.category) {
        return Err(TicketError::Category);
    }
    Ok(())
}

/// The relay fills a new ticket in (under its own actor).
pub fn fill(
    doc: &mut impl Transactable,
    new: &CreateTicket,
    requester_name: &str,
    created: i64,
) -> Result<(), TicketError> {
    check_new(new)?;
    doc.put(ROOT, "title", check_title(&new.title)?).expect("put");
    doc.put(ROOT, "category", new.category.as_str()).expect("put");
    doc.put(ROOT, "description", check_description(&new.description)?).expect("put");
    doc.put(ROOT, "requester_name", requester_name).expect("put");
    doc.put(ROOT, "created", created).expect("put");
    Ok(())
}

/// The requester edits the title and description.
pub fn edit(doc: &mut AutoCommit, title: &str, description: &str, now_ms: i64) -> Result<(), TicketError> {
    let (t, d) = (check_title(title)?, check_description(description)?);
    doc.put(ROOT, "title", t).expect("put");
    doc.put(ROOT, "description", d).expect("put");
    commit(doc, now_ms);
    Ok(())
}

/// Add a reply by `author`; `id` is any fresh random id (the key is prefixed with the author).
pub fn reply(
    doc: &mut AutoCommit,
    id: &str,
    author: UserId,
    author_name: &str,
    body: &str,
    now_ms: i64,
) -> Result<String, TicketError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_REPLY_CHARS {
        return Err(TicketError::Reply);
    }
    let m = map_at(doc, &ROOT, "replies").ok_or(TicketError::NotTicket)?;
    let key = format!("{}-{id}", author.0);
    let o = doc.put_object(&m, key.as_str(), ObjType::Map).expect("put");
    doc.put(&o, "author", author.0).expect("put");
    doc.put(&o, "author_name", author_name).expect("put");
    doc.put(&o, "body", body).expect("put");
    doc.put(&o, "ts", now_ms).expect("put");
    commit(doc, now_ms);
    Ok(key)
}

/// An agent sets the status.
pub fn set_status(doc: &mut AutoCommit, status: Status, now_ms: i64) {
    doc.put(ROOT, "status", status.as_str()).expect("put");
    commit(doc, now_ms);
}

/// An agent assigns the ticket (`None`: to nobody). Taking up a new ticket starts it.
pub fn assign(doc: &mut AutoCommit, to: Option<(UserId, String)>, now_ms: i64) {
    let (id, name) = to.map(|(u, n)| (u.0, n)).unwrap_or((0, String::new()));
    doc.put(ROOT, "assignee", id).expect("put");
    doc.put(ROOT, "assignee_name", name).expect("put");
    let status = read(doc).map(|t| t.status).unwrap_or_default();
    if id != 0 && status == Status::New {
        doc.put(ROOT, "status", Status::InProgress.as_str()).expect("put");
    }
    commit(doc, now_ms);
}

/// The requester confirms the fix: closed, with a rating and an optional word.
pub fn confirm(doc: &mut AutoCommit, rating: u8, feedback: &str, now_ms: i64) -> Result<(), TicketError> {
    if !(1..=5).contains(&rating) {
        return Err(TicketError::Rating);
    }
    let feedback: String = feedback.trim().chars().take(MAX_FEEDBACK_CHARS).collect();
    doc.put(ROOT, "rating", rating as i64).expect("put");
    doc.put(ROOT, "feedback", feedback).expect("put");
    doc.put(ROOT, "status", Status::Closed.as_str()).expect("put");
    commit(doc, now_ms);
    Ok(())
}

/// The requester says it is not fixed after all.
pub fn reopen(doc: &mut AutoCommit, now_ms: i64) {
    doc.put(ROOT, "status", Status::InProgress.as_str()).expect("put");
    commit(doc, now_ms);
}

/// Name an uploaded file in the ticket (once the relay holds all of it).
pub fn attach(doc: &mut AutoCommit, f: &TicketFile, now_ms: i64) -> Result<(), TicketError> {
    let m = map_at(doc, &ROOT, "files").ok_or(TicketError::NotTicket)?;
    let o = doc.put_object(&m, format!("{}-{}", f.by.0, f.id), ObjType::Map).expect("put");
    doc.put(&o, "id", f.id.as_str()).expect("put");
    doc.put(&o, "name", f.name.as_str()).expect("put");
    doc.put(&o, "mime", f.mime.as_str()).expect("put");
    doc.put(&o, "size", f.size as i64).expect("put");
    doc.put(&o, "by", f.by.0).expect("put");
    doc.put(&o, "ts", f.ts).expect("put");
    commit(doc, now_ms);
    Ok(())
}

// --- who may change what ----------------------------------------------------------------------

/// The people a change makes the ticket's assignee (nobody, 0, left out): the relay checks that
/// each is a helpdesk agent, which this pure module cannot know.
pub fn assignees_named(change: &ExpandedChange) -> Vec<UserId> {
    change
        .operations
        .iter()
        .filter_map(|op| match (&op.obj, &op.key, &op.action) {
            (ObjectId::Root, Key::Map(k), OpType::Put(ScalarValue::Int(u))) if k.as_str() == "assignee" && *u != 0 => {
                Some(UserId(*u))
            }
            _ => None,
        })
        .collect()
}

/// What the sender of a change is to this ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Powers {
    /// The person who opened the ticket.
    pub requester: bool,
    /// A helpdesk agent (or super admin).
    pub agent: bool,
    /// The ticket's status before the change arrived: the requester confirms or reopens only a
    /// resolved (or closed) ticket.
    pub prior: Status,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("a ticket's fixed fields cannot be changed")]
    Fixed,
    #[error("only helpdesk agents change a ticket's status or assignee")]
    AgentsOnly,
    #[error("the requester confirms or reopens a ticket only once it is resolved")]
    NotResolved,
    #[error("only the requester edits the ticket, confirms and rates it")]
    RequesterOnly,
    #[error("a rating is 1 to 5")]
    Rating,
    #[error("nobody changes another person's reply or file")]
    OthersReply,
    #[error("only the requester and helpdesk agents write to a ticket")]
    Outsider,
}

fn genesis_objects() -> &'static (OpId, OpId) {
    static IDS: OnceLock<(OpId, OpId)> = OnceLock::new();
    IDS.get_or_init(|| {
        // The object ids do not depend on the ticket: the genesis ops are in the same order.
        let mut g = genesis("x", UserId(0));
        (super::genesis_object(&mut g, "replies"), super::genesis_object(&mut g, "files"))
    })
}

/// Whether `change`, sent by `user` with `powers`, may enter a ticket document.
pub fn validate(change: &ExpandedChange, user: UserId, powers: &Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    if !powers.requester && !powers.agent {
        return Err(Violation::Outsider);
    }
    let (replies, files) = genesis_objects();
    let own_key = |k: &str| k.split_once('-').is_some_and(|(u, rest)| u == user.0.to_string() && !rest.is_empty());
    for op in &change.operations {
        let ObjectId::Id(target) = &op.obj else {
            let Key::Map(k) = &op.key else { return Err(Violation::Fixed) };
            let OpType::Put(v) = &op.action else { return Err(Violation::Fixed) };
            match (k.as_str(), v) {
                ("title" | "description", ScalarValue::Str(_)) if powers.requester => {}
                ("title" | "description", _) => return Err(Violation::RequesterOnly),
                ("assignee", ScalarValue::Int(_)) | ("assignee_name", ScalarValue::Str(_)) if powers.agent => {}
                ("assignee" | "assignee_name", _) => return Err(Violation::AgentsOnly),
                ("status", ScalarValue::Str(s)) => {
                    let Some(to) = Status::parse(s) else { return Err(Violation::Fixed) };
                    let requester_may =
                        powers.requester && powers.prior.solved() && matches!(to, Status::Closed | Status::InProgress);
                    if !powers.agent && !requester_may {
                        return Err(if powers.prior.solved() { Violation::AgentsOnly } else { Violation::NotResolved });
                    }
                }
                ("rating", ScalarValue::Int(r)) if powers.requester => {
                    if !(1..=5).contains(r) {
                        return Err(Violation::Rating);
                    }
                    if !powers.prior.solved() {
                        return Err(Violation::NotResolved);
                    }
                }
                ("feedback", ScalarValue::Str(_)) if powers.requester && powers.prior.solved() => {}
                ("rating" | "feedback", _) if !powers.requester => return Err(Violation::RequesterOnly),
                ("rating" | "feedback", _) => return Err(Violation::NotResolved),
                _ => return Err(Violation::Fixed),
            }
            continue;
        };
        if target == replies || target == files {
            // A new reply or file, under a key that names its author.
            let Key::Map(k) = &op.key else { return Err(Violation::Fixed) };
            match op.action {
                OpType::Make(ObjType::Map) if own_key(k) => continue,
                OpType::Delete if target == files && own_key(k) => continue,
                _ => return Err(Violation::OthersReply),
            }
        }
        // Inside a reply or file: only the actor that made it writes there, in their own name.
        if actor::user_of(target.actor()) != Some(user) {
            return Err(Violation::OthersReply);
        }
        if let (Key::Map(k), OpType::Put(v)) = (&op.key, &op.action)
            && matches!(k.as_str(), "author" | "by")
            && !matches!(v, ScalarValue::Int(a) if *a == user.0)
        {
            return Err(Violation::OthersReply);
        }
    }
    Ok(())
}

// --- what the relay indexes -------------------------------------------------------------------

/// What the relay's index row holds of a ticket, read after every stored change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub title: String,
    pub category: String,
    pub status: Status,
    pub assignee: Option<UserId>,
    pub rating: Option<u8>,
    /// An agent has answered: a reply by someone other than the requester, or the status moved
    /// on from "new" (only agents move it there). The relay stamps the first time it sees this.
    pub responded: bool,
}

pub fn summary(doc: &impl ReadDoc) -> Option<Summary> {
    let t = read(doc)?;
    let responded = t.status != Status::New || t.replies.iter().any(|r| r.author != t.requester);
    Some(Summary {
        title: t.title,
        category: t.category,
        status: t.status,
        assignee: t.assignee,
        rating: t.rating,
        responded,
    })
}

// --- REST ---------------------------------------------------------------------------------------

/// `POST /api/helpdesk/tickets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTicket {
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    /// Chosen by the app when the ticket is typed; a creation retried from the outbox with the
    /// same key answers the ticket made the first time.
    pub client_key: String,
}

/// One ticket in a list, with the times the relay recorded (Unix ms, its own clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    pub id: String,
    pub document: DocumentId,
    pub requester: UserId,
    pub requester_name: String,
    pub title: String,
    pub category: String,
    pub status: Status,
    pub assignee: Option<UserId>,
    pub rating: Option<u8>,
    pub client_key: String,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
}

/// `GET /api/helpdesk/tickets`: the caller's own tickets, or every ticket for an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TicketList {
    /// Whether the caller is a helpdesk agent (the app shows the queue).
    pub agent: bool,
    /// Whether the caller names the agents (super admins).
    pub admin: bool,
    /// Which figures the caller may see: `Some(All)` for super admins, `Some(Department)` for a
    /// department admin (tickets opened by people of their department), `None` for others.
    #[serde(default)]
    pub figures: Option<FiguresScope>,
    pub tickets: Vec<TicketSummary>,
}

/// Whose tickets a caller's figures count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiguresScope {
    All,
    Department,
}

/// Which figures `actor` may see (the permission matrix's "own department" for department
/// admins).
pub fn figures_scope(actor: &crate::acl::Actor) -> Option<FiguresScope> {
    match actor.role {
        crate::acl::Role::SuperAdmin => Some(FiguresScope::All),
        crate::acl::Role::DeptAdmin if actor.dept.is_some() => Some(FiguresScope::Department),
        _ => None,
    }
}

/// `PUT /api/helpdesk/agents`: who the helpdesk agents are (besides the super admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAgents {
    pub users: Vec<UserId>,
}

/// One helpdesk agent (`GET /api/helpdesk/agents`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: UserId,
    pub display_name: String,
    /// A super admin (always an agent, not removable here); otherwise named by one.
    pub super_admin: bool,
}

/// A ticket's recorded times, as the figures read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Times {
    pub category: String,
    pub status: Status,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub rating: Option<u8>,
}

/// The figures of a set of tickets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub opened: u32,
    /// Resolved or closed now.
    pub solved: u32,
    /// 问题解决率: solved / opened; `None` when nothing was opened.
    pub resolution_rate: Option<f64>,
    /// Median of (first agent response − creation), over the tickets that had one, in ms.
    pub median_first_response_ms: Option<i64>,
    /// Median of (resolution − creation), over the solved tickets, in ms.
    pub median_resolution_ms: Option<i64>,
    pub rated: u32,
    pub average_rating: Option<f64>,
}

/// `GET /api/helpdesk/stats?from=&to=`: tickets opened in [from, to), in all and per category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Figures {
    pub from: i64,
    pub to: i64,
    pub all: Counts,
    /// Every category, in [`CATEGORIES`] order, those with no tickets included.
    pub per_category: Vec<(String, Counts)>,
}

/// The median of `v` (the mean of the two middle values for an even count, rounded down).
pub fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]).div_euclid(2) })
}

fn counts(rows: &[&Times]) -> Counts {
    let opened = rows.len() as u32;
    let solved = rows.iter().filter(|t| t.status.solved()).count() as u32;
    let first: Vec<i64> = rows.iter().filter_map(|t| t.first_response_at.map(|f| (f - t.created_at).max(0))).collect();
    let resolution: Vec<i64> = rows
        .iter()
        .filter(|t| t.status.solved())
        .filter_map(|t| t.resolved_at.or(t.closed_at).map(|r| (r - t.created_at).max(0)))
        .collect();
    let ratings: Vec<u8> = rows.iter().filter_map(|t| t.rating).collect();
    Counts {
        opened,
        solved,
        resolution_rate: (opened > 0).then(|| solved as f64 / opened as f64),
        median_first_response_ms: median(first),
        median_resolution_ms: median(resolution),
        rated: ratings.len() as u32,
        average_rating: (!ratings.is_empty())
            .then(|| ratings.iter().map(|r| *r as f64).sum::<f64>() / ratings.len() as f64),
    }
}

/// The figures of the tickets opened in [from, to).
pub fn figures(rows: &[Times], from: i64, to: i64) -> Figures {
    let in_period: Vec<&Times> = rows.iter().filter(|t| t.created_at >= from && t.created_at < to).collect();
    let mut by_cat: BTreeMap<&str, Vec<&Times>> = BTreeMap::new();
    for t in &in_period {
        by_cat.entry(t.category.as_str()).or_default().push(t);
    }
    let per_category =
        CATEGORIES.iter().map(|c| (c.to_string(), counts(by_cat.get(c).map(Vec::as_slice).unwrap_or(&[])))).collect();
    Figures { from, to, all: counts(&in_period), per_category }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    const REQ: UserId = UserId(10);
    const AGENT: UserId = UserId(20);

    fn doc(user: UserId, device: u8) -> AutoCommit {
        let mut d = genesis("t1", REQ);
        d.set_actor(actor_for(user, [device; 8]));
        d
    }

    fn last(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().unwrap().decode()
    }

    fn p(requester: bool, agent: bool, prior: Status) -> Powers {
        Powers { requester, agent, prior }
    }

    #[test]
    fn requester_and_agent_each_write_their_own_fields() {
        let mut r = doc(REQ, 1);
        edit(&mut r, "打印机卡纸", "三楼打印机", 1).unwrap();
        validate(&last(&mut r), REQ, &p(true, false, Status::New)).unwrap();
        assert_eq!(validate(&last(&mut r), AGENT, &p(false, true, Status::New)), Err(Violation::RequesterOnly));
        reply(&mut r, "a", REQ, "Ann", "还是不行", 2).unwrap();
        validate(&last(&mut r), REQ, &p(true, false, Status::New)).unwrap();

        let mut a = r.fork().with_actor(actor_for(AGENT, [2; 8]));
        assign(&mut a, Some((AGENT, "IT".into())), 3);
        validate(&last(&mut a), AGENT, &p(false, true, Status::New)).unwrap();
        reply(&mut a, "b", AGENT, "IT", "马上来", 4).unwrap();
        validate(&last(&mut a), AGENT, &p(false, true, Status::InProgress)).unwrap();
        set_status(&mut a, Status::Resolved, 5);
        validate(&last(&mut a), AGENT, &p(false, true, Status::InProgress)).unwrap();
        let t = read(&a).unwrap();
        assert_eq!((t.status, t.assignee, t.replies.len()), (Status::Resolved, Some(AGENT), 2));
        let s = summary(&a).unwrap();
        assert!(s.responded);

        // The requester may not resolve, nor assign.
        let mut r2 = doc(REQ, 3);
        set_status(&mut r2, Status::Resolved, 6);
        assert_eq!(validate(&last(&mut r2), REQ, &p(true, false, Status::InProgress)), Err(Violation::NotResolved));
        assign(&mut r2, Some((REQ, "me".into())), 7);
        assert_eq!(validate(&last(&mut r2), REQ, &p(true, false, Status::InProgress)), Err(Violation::AgentsOnly));
        // Confirming with a rating once resolved; a rating out of range or too early is refused.
        let mut r3 = a.fork().with_actor(actor_for(REQ, [4; 8]));
        confirm(&mut r3, 5, "谢谢", 8).unwrap();
        validate(&last(&mut r3), REQ, &p(true, false, Status::Resolved)).unwrap();
        assert_eq!(validate(&last(&mut r3), REQ, &p(true, false, Status::InProgress)), Err(Violation::NotResolved));
        assert_eq!(read(&r3).unwrap().rating, Some(5));
        r3.put(ROOT, "rating", 9i64).unwrap();
        r3.commit();
        assert_eq!(validate(&last(&mut r3), REQ, &p(true, false, Status::Closed)), Err(Violation::Rating));
        reopen(&mut r3, 9);
        validate(&last(&mut r3), REQ, &p(true, false, Status::Closed)).unwrap();
        // An agent does not rate.
        let mut a2 = a.fork().with_actor(actor_for(AGENT, [5; 8]));
        confirm(&mut a2, 5, "", 10).unwrap();
        assert_eq!(validate(&last(&mut a2), AGENT, &p(false, true, Status::Resolved)), Err(Violation::RequesterOnly));
    }

    #[test]
    fn nobody_edits_another_persons_reply() {
        let mut a = doc(AGENT, 1);
        let key = reply(&mut a, "x", AGENT, "IT", "请重启", 1).unwrap();
        let mut r = a.fork().with_actor(actor_for(REQ, [2; 8]));
        let m = map_at(&r, &ROOT, "replies").unwrap();
        let o = map_at(&r, &m, &key).unwrap();
        r.put(&o, "body", "改过的").unwrap();
        r.commit();
        assert_eq!(validate(&last(&mut r), REQ, &p(true, false, Status::InProgress)), Err(Violation::OthersReply));
        // Nor replaces it under its key, nor writes a reply in another's name.
        let mut r = a.fork().with_actor(actor_for(REQ, [3; 8]));
        r.put_object(&m, key.as_str(), ObjType::Map).unwrap();
        r.commit();
        assert_eq!(validate(&last(&mut r), REQ, &p(true, false, Status::InProgress)), Err(Violation::OthersReply));
        let mut r = a.fork().with_actor(actor_for(REQ, [4; 8]));
        reply(&mut r, "y", AGENT, "IT", "假冒", 2).unwrap();
        assert_eq!(validate(&last(&mut r), REQ, &p(true, false, Status::InProgress)), Err(Violation::OthersReply));
        // Fixed fields and outsiders.
        let mut r = a.fork().with_actor(actor_for(REQ, [5; 8]));
        r.put(ROOT, "requester", 99i64).unwrap();
        r.commit();
        assert_eq!(validate(&last(&mut r), REQ, &p(true, true, Status::New)), Err(Violation::Fixed));
        let mut o = a.fork().with_actor(actor_for(UserId(30), [6; 8]));
        reply(&mut o, "z", UserId(30), "Eve", "hi", 3).unwrap();
        assert_eq!(validate(&last(&mut o), UserId(30), &p(false, false, Status::New)), Err(Violation::Outsider));
    }

    fn t(
        cat: &str,
        created: i64,
        first: Option<i64>,
        resolved: Option<i64>,
        status: Status,
        rating: Option<u8>,
    ) -> Times {
        Times {
            category: cat.into(),
            status,
            created_at: created,
            first_response_at: first,
            resolved_at: resolved,
            closed_at: None,
            rating,
        }
    }

    #[test]
    fn figures_add_up() {
        let rows = [
            t("network", 1_000, Some(2_000), Some(5_000), Status::Closed, Some(5)),
            t("network", 2_000, Some(5_000), Some(12_000), Status::Resolved, None),
            t("printer", 3_000, Some(3_500), None, Status::InProgress, None),
            t("printer", 4_000, None, None, Status::New, None),
            // Outside the period.
            t("network", 99_000, Some(99_500), Some(99_900), Status::Closed, Some(1)),
        ];
        let f = figures(&rows, 0, 10_000);
        assert_eq!((f.all.opened, f.all.solved), (4, 2));
        assert_eq!(f.all.resolution_rate, Some(0.5));
        // First responses 1000, 3000, 500 → 1000; resolutions 4000, 10000 → 7000.
        assert_eq!(f.all.median_first_response_ms, Some(1_000));
        assert_eq!(f.all.median_resolution_ms, Some(7_000));
        assert_eq!((f.all.rated, f.all.average_rating), (1, Some(5.0)));
        let net = &f.per_category.iter().find(|(c, _)| c == "network").unwrap().1;
        assert_eq!((net.opened, net.solved, net.resolution_rate), (2, 2, Some(1.0)));
        let other = &f.per_category.iter().find(|(c, _)| c == "other").unwrap().1;
        assert_eq!((other.opened, other.resolution_rate), (0, None));
        assert_eq!(median(vec![3, 1, 2]), Some(2));
        assert_eq!(median(vec![]), None);
    }
}
