//! The knowledge base (知识库): spaces holding a tree of pages; each page's rich text in a
//! document of its own.
//!
//! ```text
//! space  ROOT { kind: "kb-space", space: str,
//!               pages: { "<page id>": { title: str, parent: str ("" at the top), order: f64,
//!                                        created_by: int, created_at: int, deleted: bool } } }
//! page   ROOT { kind: "kb-page", space: str, page: str,
//!               body: Text (block markers + marks),
//!               comments: { "<ms>|<user id>|<nonce>": str } }
//! ```
//!
//! A page's id is random and its document id is derived from (space, page), so a page created
//! offline has its document at once; the relay learns of it from the space document (it registers
//! the page's document when a change to the space names it) and serves it to whoever may read the
//! space. The page tree merges like the task board: pages are map entries under random ids, a
//! page's place is a parent register and a fractional order, deleting is a flag.
//!
//! The body is Automerge text with block markers (`paragraph`, `heading` with a level,
//! `unordered-list-item`, `ordered-list-item`, `code-block`, `blockquote`; the names the
//! Automerge ecosystem's editors use) and marks (`bold`, `italic`, `code`, `link`). The editor
//! turns what the person sees into [`Block`]s and [`write_blocks`] applies the difference with
//! `update_spans`, so two people typing in the same paragraph merge character by character and
//! formatting survives. The genesis holds the first paragraph's marker, identical everywhere, so
//! two replicas writing into a new page offline do not each start a first paragraph.
//!
//! History (版本) is the document's own: [`versions`] lists its changes (who, when, how much),
//! [`blocks_at`] reads any earlier state, and restoring writes that state as a new change.

use super::read::{f64_at as num_at, map_at, scalar, str_at};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DocumentId, UserId};
use automerge::iter::Span;
use automerge::legacy::{Key, ObjectId, OpType};
use automerge::marks::{MarkSet, UpdateSpansConfig};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, hydrate};
use std::collections::HashMap;
use std::sync::Arc;

mod edit;
pub use edit::rebase;

/// Longest page title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// Largest page body accepted from the editor, in characters.
pub const MAX_BODY_CHARS: usize = 500_000;

pub fn space_doc_id(space: &str) -> DocumentId {
    DocumentId::derived(&["kb-space", space])
}

pub fn page_doc_id(space: &str, page: &str) -> DocumentId {
    DocumentId::derived(&["kb-page", space, page])
}

pub fn space_genesis(space: &str) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "kb-space").expect("put on root");
        doc.put(ROOT, "space", space).expect("put on root");
        doc.put_object(ROOT, "pages", ObjType::Map).expect("put on root");
    })
}

pub fn page_genesis(space: &str, page: &str) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "kb-page").expect("put on root");
        doc.put(ROOT, "space", space).expect("put on root");
        doc.put(ROOT, "page", page).expect("put on root");
        let body = doc.put_object(ROOT, "body", ObjType::Text).expect("put on root");
        let first = doc.split_block(&body, 0).expect("first block");
        doc.update_object(&first, &block_value(&BlockKind::Paragraph).into()).expect("block attributes");
        doc.put_object(ROOT, "comments", ObjType::Map).expect("put on root");
    })
}

// --- the page tree ----------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PageMeta {
    pub id: String,
    pub title: String,
    pub parent: String,
    pub order: f64,
    pub created_by: UserId,
    pub created_at: i64,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("a title is 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("no such page")]
    NoPage,
    #[error("a page cannot be moved under itself")]
    Cycle,
    #[error("this is not a knowledge-base document")]
    NotKb,
    #[error("the page is too long")]
    TooLong,
    #[error("an empty comment")]
    Empty,
}

fn commit(doc: &mut AutoCommit, now_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
}

fn check_title(t: &str) -> Result<String, KbError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(KbError::Title);
    }
    Ok(t.to_string())
}

/// Every page of a space that is not deleted, as a flat list ordered for a tree walk: by parent,
/// then order, then id (see [`tree`]).
pub fn pages(doc: &impl ReadDoc) -> Vec<PageMeta> {
    let Some(pages) = map_at(doc, &ROOT, "pages") else { return Vec::new() };
    let mut out: Vec<PageMeta> = doc
        .map_range(&pages, ..)
        .filter_map(|item| {
            let o = match Value::from(item.value.clone()) {
                Value::Object(ObjType::Map) => item.id(),
                _ => return None,
            };
            Some(PageMeta {
                id: item.key.to_string(),
                title: str_at(doc, &o, "title"),
                parent: str_at(doc, &o, "parent"),
                order: num_at(doc, &o, "order"),
                created_by: UserId(num_at(doc, &o, "created_by") as i64),
                created_at: num_at(doc, &o, "created_at") as i64,
                deleted: matches!(scalar(doc, &o, "deleted"), Some(ScalarValue::Boolean(true))),
            })
        })
        .filter(|p| !p.deleted)
        .collect();
    out.sort_by(|a, b| a.order.total_cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The pages as a depth-first tree: (depth, page). A page whose parent is gone (deleted, or a
/// cycle made by two concurrent moves) shows at the top.
pub fn tree(pages: &[PageMeta]) -> Vec<(usize, PageMeta)> {
    let ids: std::collections::HashSet<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&PageMeta>> = HashMap::new();
    for p in pages {
        let parent = if ids.contains(p.parent.as_str()) { p.parent.as_str() } else { "" };
        children.entry(parent).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    fn walk(
        at: &str,
        depth: usize,
        children: &HashMap<&str, Vec<&PageMeta>>,
        seen: &mut std::collections::HashSet<String>,
        out: &mut Vec<(usize, PageMeta)>,
    ) {
        for p in children.get(at).map(|v| v.as_slice()).unwrap_or_default() {
            if seen.insert(p.id.clone()) {
                out.push((depth, (*p).clone()));
                walk(&p.id, depth + 1, children, seen, out);
            }
        }
    }
    walk("", 0, &children, &mut seen, &mut out);
    // Pages caught in a cycle (each the other's parent) are not reachable from the top.
    for p in pages {
        if seen.insert(p.id.clone()) {
            out.push((0, p.clone()));
            walk(&p.id, 1, &children, &mut seen, &mut out);
        }
    }
    out
}

pub fn create_page(doc: &mut AutoCommit, p: &PageMeta, now_ms: i64) -> Result<(), KbError> {
    let title = check_title(&p.title)?;
    let pages = map_at(doc, &ROOT, "pages").ok_or(KbError::NotKb)?;
    let o = doc.put_object(&pages, &p.id, ObjType::Map).map_err(|_| KbError::NotKb)?;
    doc.put(&o, "title", title).expect("put");
    doc.put(&o, "parent", p.parent.as_str()).expect("put");
    doc.put(&o, "order", p.order).expect("put");
    doc.put(&o, "created_by", p.created_by.0).expect("put");
    doc.put(&o, "created_at", p.created_at).expect("put");
    doc.put(&o, "deleted", false).expect("put");
    commit(doc, now_ms);
    Ok(())
}

fn page_obj(doc: &AutoCommit, id: &str) -> Result<ObjId, KbError> {
    let pages = map_at(doc, &ROOT, "pages").ok_or(KbError::NotKb)?;
    map_at(doc, &pages, id).ok_or(KbError::NoPage)
}

pub fn rename_page(doc: &mut AutoCommit, id: &str, title: &str, now_ms: i64) -> Result<(), KbError> {
    let o = page_obj(doc, id)?;
    let title = check_title(title)?;
    if str_at(doc, &o, "title") != title {
        doc.put(&o, "title", title).expect("put");
        commit(doc, now_ms);
    }
    Ok(())
}

/// Move `id` under `parent` ("" for the top) at `order`.
pub fn move_page(doc: &mut AutoCommit, id: &str, parent: &str, order: f64, now_ms: i64) -> Result<(), KbError> {
    let o = page_obj(doc, id)?;
    // Refuse a parent that sits under the page (locally; a concurrent move can still make a
    // cycle, which `tree` shows at the top rather than losing it).
    let all = pages(doc);
    let mut at = parent.to_string();
    while !at.is_empty() {
        if at == id {
            return Err(KbError::Cycle);
        }
        at = all.iter().find(|p| p.id == at).map(|p| p.parent.clone()).unwrap_or_default();
    }
    doc.put(&o, "parent", parent).expect("put");
    doc.put(&o, "order", order).expect("put");
    commit(doc, now_ms);
    Ok(())
}

pub fn delete_page(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), KbError> {
    let o = page_obj(doc, id)?;
    doc.put(&o, "deleted", true).expect("put");
    commit(doc, now_ms);
    Ok(())
}

/// Page ids named in a space document (the relay registers their documents).
pub fn page_ids(doc: &impl ReadDoc) -> Vec<String> {
    let Some(pages) = map_at(doc, &ROOT, "pages") else { return Vec::new() };
    doc.keys(&pages).collect()
}

// --- rich text --------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum BlockKind {
    #[default]
    Paragraph,
    /// 1..=3
    Heading(u8),
    Bullet,
    Numbered,
    Code,
    Quote,
    /// One cell of a simple table (表格), with the table's number of columns: a table is a run of
    /// consecutive cells, row after row. Each cell is a block of its own, so two people typing in
    /// different cells never touch the same text, and concurrent new rows stay whole rows.
    Cell(u8),
    /// An image (图片): a stored file of the page ([`crate::api::FileScope::Page`]) and its name,
    /// on a line of its own with no text. Readers of the page may download it; the relay checks.
    Image {
        file: String,
        name: String,
    },
    /// A file attached in the page (附件), shown as a card to download: like an image, a stored
    /// file of the page on a line of its own.
    File {
        file: String,
        name: String,
    },
}

/// Longest file id or name an image block keeps (longer ones, from a foreign client, are cut).
pub const MAX_IMAGE_ATTR: usize = 200;

/// Most columns a table may have.
pub const MAX_TABLE_COLS: u8 = 8;

impl BlockKind {
    fn name(&self) -> &'static str {
        match self {
            BlockKind::Paragraph => "paragraph",
            BlockKind::Heading(_) => "heading",
            BlockKind::Bullet => "unordered-list-item",
            BlockKind::Numbered => "ordered-list-item",
            BlockKind::Code => "code-block",
            BlockKind::Quote => "blockquote",
            BlockKind::Cell(_) => "table-cell",
            BlockKind::Image { .. } => "image",
            BlockKind::File { .. } => "file",
        }
    }
}

/// A run of text with one set of marks.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Run {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub code: bool,
    pub link: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Block {
    pub kind: BlockKind,
    pub runs: Vec<Run>,
}

impl Block {
    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
    pub fn plain(kind: BlockKind, text: &str) -> Block {
        Block { kind, runs: vec![Run { text: text.into(), ..Default::default() }] }
    }
}

fn block_value(kind: &BlockKind) -> hydrate::Map {
    match kind {
        BlockKind::Heading(level) => automerge::hydrate_map! {
            "type" => "heading",
            "parents" => automerge::hydrate_list![],
            "attrs" => automerge::hydrate_map! { "level" => i64::from(*level) }
        },
        BlockKind::Cell(cols) => automerge::hydrate_map! {
            "type" => "table-cell",
            "parents" => automerge::hydrate_list![],
            "attrs" => automerge::hydrate_map! { "cols" => i64::from(*cols) }
        },
        BlockKind::Image { file, name } | BlockKind::File { file, name } => automerge::hydrate_map! {
            "type" => kind.name(),
            "parents" => automerge::hydrate_list![],
            "attrs" => automerge::hydrate_map! { "file" => file.as_str(), "name" => name.as_str() }
        },
        k => automerge::hydrate_map! {
            "type" => k.name(),
            "parents" => automerge::hydrate_list![],
            "attrs" => automerge::hydrate_map! {}
        },
    }
}

fn kind_of(m: &hydrate::Map) -> BlockKind {
    let ty = match m.get("type") {
        Some(hydrate::Value::Scalar(ScalarValue::Str(s))) => s.to_string(),
        _ => String::new(),
    };
    let attr = |name: &str| match m.get("attrs") {
        Some(hydrate::Value::Map(a)) => match a.get(name) {
            Some(hydrate::Value::Scalar(ScalarValue::Int(l))) => (*l).clamp(1, 255) as u8,
            Some(hydrate::Value::Scalar(ScalarValue::Uint(l))) => (*l).clamp(1, 255) as u8,
            Some(hydrate::Value::Scalar(ScalarValue::F64(l))) => l.clamp(1.0, 255.0) as u8,
            _ => 1,
        },
        _ => 1,
    };
    let text_attr = |name: &str| match m.get("attrs") {
        Some(hydrate::Value::Map(a)) => match a.get(name) {
            Some(hydrate::Value::Scalar(ScalarValue::Str(s))) => s.chars().take(MAX_IMAGE_ATTR).collect(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    match ty.as_str() {
        "heading" => BlockKind::Heading(attr("level").clamp(1, 3)),
        "image" => BlockKind::Image { file: text_attr("file"), name: text_attr("name") },
        "file" => BlockKind::File { file: text_attr("file"), name: text_attr("name") },
        "table-cell" => BlockKind::Cell(attr("cols").clamp(1, MAX_TABLE_COLS)),
        "unordered-list-item" => BlockKind::Bullet,
        "ordered-list-item" => BlockKind::Numbered,
        "code-block" => BlockKind::Code,
        "blockquote" => BlockKind::Quote,
        _ => BlockKind::Paragraph,
    }
}

fn body(doc: &impl ReadDoc) -> Option<ObjId> {
    match doc.get(ROOT, "body").ok()?? {
        (Value::Object(ObjType::Text), id) => Some(id),
        _ => None,
    }
}

fn run_of(text: String, marks: Option<&MarkSet>) -> Run {
    let mut r = Run { text, ..Default::default() };
    for (name, value) in marks.into_iter().flat_map(|m| m.iter()) {
        let on = !matches!(value, ScalarValue::Null | ScalarValue::Boolean(false));
        match name {
            "bold" => r.bold = on,
            "italic" => r.italic = on,
            "code" => r.code = on,
            "link" => {
                r.link = match value {
                    ScalarValue::Str(s) if crate::markdown::safe_url(s) => Some(s.to_string()),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    r
}

/// The page body as blocks. Text before any block marker (none in pages made here) counts as a
/// paragraph.
pub fn blocks(doc: &impl ReadDoc) -> Vec<Block> {
    let Some(body) = body(doc) else { return Vec::new() };
    let Ok(spans) = doc.spans(&body) else { return Vec::new() };
    let mut out: Vec<Block> = Vec::new();
    for span in spans {
        match span {
            Span::Block(m) => out.push(Block { kind: kind_of(&m), runs: Vec::new() }),
            Span::Text { text, marks } => {
                if out.is_empty() {
                    out.push(Block::default());
                }
                let run = run_of(text, marks.as_deref());
                let b = out.last_mut().expect("pushed");
                match b.runs.last_mut() {
                    Some(last)
                        if Run { text: String::new(), ..last.clone() }
                            == Run { text: String::new(), ..run.clone() } =>
                    {
                        last.text.push_str(&run.text)
                    }
                    _ => b.runs.push(run),
                }
            }
        }
    }
    out
}

/// The page's text without formatting, blocks on their own lines (search, diffs, excerpts).
pub fn plain_text(blocks: &[Block]) -> String {
    blocks.iter().map(Block::text).collect::<Vec<_>>().join("\n")
}

fn markset(r: &Run) -> Option<Arc<MarkSet>> {
    let mut v: Vec<(String, ScalarValue)> = Vec::new();
    if r.bold {
        v.push(("bold".into(), ScalarValue::Boolean(true)));
    }
    if r.italic {
        v.push(("italic".into(), ScalarValue::Boolean(true)));
    }
    if r.code {
        v.push(("code".into(), ScalarValue::Boolean(true)));
    }
    if let Some(l) = r.link.as_ref().filter(|l| crate::markdown::safe_url(l)) {
        v.push(("link".into(), ScalarValue::Str(l.as_str().into())));
    }
    (!v.is_empty()).then(|| Arc::new(v.into_iter().collect::<MarkSet>()))
}

/// Make the body equal `blocks`, as one change holding only the difference. Reads the whole
/// body first; the editor, which knows what the body held, calls [`write_edit`] instead.
pub fn write_blocks(doc: &mut AutoCommit, new: &[Block], now_ms: i64) -> Result<(), KbError> {
    write_blocks_with(doc, new, now_ms, None)
}

/// Make the body `after`, given that it is `before` now (what the editor last showed or wrote):
/// only the blocks between the equal ones at both ends are compared and written, so a keystroke
/// costs what its paragraph costs, not what the page costs (see [`edit`]). When the body is
/// found not to be `before`, it is read and the edit moved onto it ([`rebase`]).
pub fn write_edit(doc: &mut AutoCommit, before: &[Block], after: &[Block], now_ms: i64) -> Result<(), KbError> {
    let body = body(doc).ok_or(KbError::NotKb)?;
    check_len(after)?;
    if edit::apply(doc, &body, before, after)? {
        commit(doc, now_ms);
        return Ok(());
    }
    let current = blocks(doc);
    write_blocks(doc, &rebase(before, after, &current), now_ms)
}

fn check_len(new: &[Block]) -> Result<(), KbError> {
    let chars: usize = new.iter().map(|b| b.runs.iter().map(|r| r.text.chars().count()).sum::<usize>() + 1).sum();
    if chars > MAX_BODY_CHARS {
        return Err(KbError::TooLong);
    }
    Ok(())
}

fn write_blocks_with(doc: &mut AutoCommit, new: &[Block], now_ms: i64, message: Option<&str>) -> Result<(), KbError> {
    let body = body(doc).ok_or(KbError::NotKb)?;
    check_len(new)?;
    let before = blocks(doc);
    if !edit::apply(doc, &body, &before, new)? {
        // A body this editor did not make (text before the first block marker): let Automerge
        // diff it.
        let mut spans = Vec::new();
        for b in new {
            spans.push(Span::Block(block_value(&b.kind)));
            for r in b.runs.iter().filter(|r| !r.text.is_empty()) {
                spans.push(Span::Text { text: r.text.replace(['\n', '\u{fffc}'], " "), marks: markset(r) });
            }
        }
        let config = UpdateSpansConfig::default()
            .with_default_expand(edit::expand_of("bold"))
            .with_mark_expand("link", edit::expand_of("link"));
        doc.update_diff_cursor();
        doc.update_spans(&body, config, spans).map_err(|_| KbError::NotKb)?;
    }
    let mut opts = CommitOptions::default().with_time(now_ms / 1000);
    if let Some(m) = message {
        opts = opts.with_message(m.to_string());
    }
    doc.commit_with(opts);
    Ok(())
}

// --- history ----------------------------------------------------------------------------------

/// One change of a page: who, when (unix seconds), and the heads just after it (to view or
/// restore the page as it was then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub user: Option<UserId>,
    pub ts: i64,
    pub heads: Vec<ChangeHash>,
    /// Characters inserted and deleted in the body by this change.
    pub inserted: usize,
    pub deleted: usize,
    /// This version restored an earlier one ([`restore`]); never folded with its neighbours.
    pub restore: bool,
}

/// The commit message that marks a restore.
const RESTORE_MESSAGE: &str = "restore";

/// The page's versions, oldest first: one per change, consecutive changes by one person within
/// `group_secs` folded into one (typing makes many small changes).
pub fn versions(doc: &mut AutoCommit, group_secs: i64) -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    let mut applied: Vec<ChangeHash> = Vec::new();
    let changes: Vec<ExpandedChange> = doc.get_changes(&[]).into_iter().map(|c| c.decode()).collect();
    for c in changes {
        applied.push(c.hash.expect("a stored change has a hash"));
        if c.actor_id.to_bytes() == GENESIS_ACTOR {
            continue;
        }
        let user = actor::user_of(&c.actor_id);
        let (mut ins, mut del) = (0, 0);
        for op in &c.operations {
            if matches!(op.obj, ObjectId::Root) {
                continue;
            }
            match (&op.action, &op.key) {
                (OpType::Put(ScalarValue::Str(s)), Key::Seq(_)) if op.insert => ins += s.chars().count(),
                (OpType::Delete, Key::Seq(_)) => del += 1,
                _ => {}
            }
        }
        let heads = vec![*applied.last().expect("pushed")];
        let restore = c.message.as_deref() == Some(RESTORE_MESSAGE);
        match out.last_mut() {
            Some(v) if !restore && !v.restore && v.user == user && c.time - v.ts <= group_secs => {
                v.ts = c.time;
                v.heads = heads;
                v.inserted += ins;
                v.deleted += del;
            }
            _ => out.push(Version { user, ts: c.time, heads, inserted: ins, deleted: del, restore }),
        }
    }
    out
}

/// The body as it was at `heads`.
pub fn blocks_at(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<Block> {
    let old = doc.fork_at(heads).ok();
    old.map(|d| blocks(&d)).unwrap_or_default()
}

/// Restore the body to what it was at `heads`, as a new change (history keeps everything).
pub fn restore(doc: &mut AutoCommit, heads: &[ChangeHash], now_ms: i64) -> Result<(), KbError> {
    let old = blocks_at(doc, heads);
    write_blocks_with(doc, &old, now_ms, Some(RESTORE_MESSAGE))
}

// --- comments ---------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub key: String,
    pub author: UserId,
    pub ts: i64,
    pub text: String,
}

fn parse_comment_key(k: &str) -> Option<(i64, UserId)> {
    let mut p = k.split('|');
    let ts = p.next()?.parse().ok()?;
    let user = UserId(p.next()?.parse().ok()?);
    p.next()?;
    Some((ts, user))
}

pub fn comments(doc: &impl ReadDoc) -> Vec<Comment> {
    let Some(m) = map_at(doc, &ROOT, "comments") else { return Vec::new() };
    let mut out: Vec<Comment> = doc
        .map_range(&m, ..)
        .filter_map(|item| {
            let (ts, author) = parse_comment_key(&item.key)?;
            let text = match Value::from(item.value.clone()) {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(s) => s.to_string(),
                    _ => return None,
                },
                _ => return None,
            };
            Some(Comment { key: item.key.to_string(), author, ts, text })
        })
        .collect();
    out.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.key.cmp(&b.key)));
    out
}

pub fn add_comment(doc: &mut AutoCommit, author: UserId, text: &str, nonce: &str, now_ms: i64) -> Result<(), KbError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KbError::Empty);
    }
    if text.chars().count() > 20_000 {
        return Err(KbError::TooLong);
    }
    let m = map_at(doc, &ROOT, "comments").ok_or(KbError::NotKb)?;
    doc.put(&m, format!("{now_ms}|{}|{nonce}", author.0), text).expect("put");
    commit(doc, now_ms);
    Ok(())
}

// --- who may change what ----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("a knowledge-base document's fixed fields cannot be changed")]
    Root,
    #[error("a page is never removed from its space (deleting is a flag)")]
    Shape,
    #[error("a comment must name its real author")]
    Impersonation,
    #[error("another person's comment can only be removed by an editor of the space")]
    OthersComment,
    #[error("only the space's editors change its pages; readers may comment")]
    NotEditor,
}

/// Check a change to a space or page document. `editor`: the sender may edit the space (the
/// relay checked it may write at all: editors write pages and the tree; readers only comment).
pub fn validate(change: &ExpandedChange, user: UserId, editor: bool, space_doc: bool) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    // The genesis objects, by their creating op: the first ops of the genesis change.
    let genesis = if space_doc { space_genesis("") } else { page_genesis("", "") };
    let mut g = genesis;
    let gchange = g.get_last_local_change().expect("genesis").decode();
    let gactor = automerge::ActorId::from(GENESIS_ACTOR.as_slice());
    let made = |name: &str| {
        gchange
            .operations
            .iter()
            .position(|op| op.obj == ObjectId::Root && matches!(&op.key, Key::Map(k) if k.as_str() == name))
            .map(|i| automerge::legacy::OpId::new(gchange.start_op.get() + i as u64, &gactor))
    };
    let (pages, comments) = (made("pages"), made("comments"));
    for op in &change.operations {
        let ObjectId::Id(target) = &op.obj else { return Err(Violation::Root) };
        if Some(target) == comments.as_ref() {
            let Key::Map(k) = &op.key else { return Err(Violation::Root) };
            let author = parse_comment_key(k).map(|(_, a)| a);
            match &op.action {
                OpType::Put(ScalarValue::Str(_)) if author == Some(user) => continue,
                OpType::Put(_) => return Err(Violation::Impersonation),
                OpType::Delete if author == Some(user) || editor => continue,
                OpType::Delete => return Err(Violation::OthersComment),
                _ => return Err(Violation::Root),
            }
        }
        if !editor {
            // Readers write comments and nothing else.
            return Err(Violation::NotEditor);
        }
        if Some(target) == pages.as_ref() && !matches!(op.action, OpType::Make(ObjType::Map)) {
            return Err(Violation::Shape);
        }
    }
    Ok(())
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use crate::actor::actor_for;

    fn cells(texts: &[&str], cols: u8) -> Vec<Block> {
        texts.iter().map(|t| Block::plain(BlockKind::Cell(cols), t)).collect()
    }

    /// A 2 × 3 table round-trips; two people typing in different cells, and each adding a row,
    /// offline, merge into whole rows with every word. (Text typed at the very end of the last
    /// cell while someone adds a row after it may land at the end of the new row instead: both
    /// insert after the same character, as with paragraphs; nothing is lost.)
    #[test]
    fn tables_round_trip_and_concurrent_cell_edits_and_rows_merge() {
        let mut a = page_genesis("s", "p");
        a.set_actor(actor_for(UserId(1), [1; 8]));
        let mut page = vec![Block::plain(BlockKind::Paragraph, "预算")];
        page.extend(cells(&["项目", "金额", "负责人", "差旅", "3000", "王芳"], 3));
        page.push(Block::plain(BlockKind::Paragraph, "以上"));
        write_blocks(&mut a, &page, 1).unwrap();
        assert_eq!(blocks(&a), page);
        let mut b = a.fork();
        b.set_actor(actor_for(UserId(2), [2; 8]));
        // As the editor writes them: one edit at a time.
        let mut pa = page.clone();
        pa[5].runs[0].text = "3500".into();
        write_blocks(&mut a, &pa, 2).unwrap();
        pa.splice(7..7, cells(&["培训", "800", "李雷"], 3));
        write_blocks(&mut a, &pa, 2).unwrap();
        assert_eq!(blocks(&a), pa);
        let mut pb = page.clone();
        pb[3].runs[0].text = "负责人/联系人".into();
        write_blocks(&mut b, &pb, 3).unwrap();
        pb.splice(7..7, cells(&["设备", "12000", "赵敏"], 3));
        write_blocks(&mut b, &pb, 3).unwrap();
        assert_eq!(blocks(&b), pb);
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let merged = blocks(&a);
        assert_eq!(merged, blocks(&b));
        let table: Vec<String> =
            merged.iter().filter(|b| matches!(b.kind, BlockKind::Cell(3))).map(Block::text).collect();
        assert_eq!(table.len(), 12, "four whole rows: {table:?}");
        assert_eq!(&table[..6], ["项目", "金额", "负责人/联系人", "差旅", "3500", "王芳"]);
        let rows: Vec<&[String]> = table[6..].chunks(3).collect();
        assert!(rows.contains(&&["培训".to_string(), "800".into(), "李雷".into()][..]), "{rows:?}");
        assert!(rows.contains(&&["设备".to_string(), "12000".into(), "赵敏".into()][..]), "{rows:?}");
    }
    /// One write that edits a cell and adds a row (a paste), on both sides at once, keeps the
    /// characters each did not change: nothing is lost or doubled. (With the region replaced
    /// whole, the merge held 13 cells, "3000" beside "赵敏500".)
    #[test]
    fn one_write_editing_a_cell_and_adding_a_row_merges_cleanly() {
        let mut a = page_genesis("s", "p");
        a.set_actor(actor_for(UserId(1), [1; 8]));
        let mut page = vec![Block::plain(BlockKind::Paragraph, "预算")];
        page.extend(cells(&["项目", "金额", "负责人", "差旅", "3000", "王芳"], 3));
        page.push(Block::plain(BlockKind::Paragraph, "以上"));
        write_blocks(&mut a, &page, 1).unwrap();
        let mut b = a.fork();
        b.set_actor(actor_for(UserId(2), [2; 8]));
        let mut pa = page.clone();
        pa[5].runs[0].text = "3500".into();
        pa.splice(7..7, cells(&["培训", "800", "李雷"], 3));
        write_blocks(&mut a, &pa, 2).unwrap();
        let mut pb = page.clone();
        pb[3].runs[0].text = "负责人/联系人".into();
        pb.splice(7..7, cells(&["设备", "12000", "赵敏"], 3));
        write_blocks(&mut b, &pb, 3).unwrap();
        a.merge(&mut b).unwrap();
        let table: Vec<String> =
            blocks(&a).iter().filter(|b| matches!(b.kind, BlockKind::Cell(3))).map(Block::text).collect();
        assert_eq!(table.len(), 12, "{table:?}");
        assert_eq!(&table[..6], ["项目", "金额", "负责人/联系人", "差旅", "3500", "王芳"]);
        let rows: Vec<&[String]> = table[6..].chunks(3).collect();
        assert!(rows.contains(&&["培训".to_string(), "800".into(), "李雷".into()][..]), "{rows:?}");
        assert!(rows.contains(&&["设备".to_string(), "12000".into(), "赵敏".into()][..]), "{rows:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn page(user: i64, dev: u8) -> AutoCommit {
        let mut d = page_genesis("s1", "p1");
        d.set_actor(actor_for(UserId(user), [dev; 8]));
        d
    }

    fn bold(t: &str) -> Run {
        Run { text: t.into(), bold: true, ..Default::default() }
    }
    fn plain(t: &str) -> Run {
        Run { text: t.into(), ..Default::default() }
    }

    /// An image or an attached file is a block of its own with its file and name; text typed
    /// around it offline by someone else keeps it, and it survives a merge in its place.
    #[test]
    fn images_and_files_round_trip_and_merge_in_place() {
        let mut a = page(1, 1);
        let img = Block { kind: BlockKind::Image { file: "f0123".into(), name: "流程图.png".into() }, runs: vec![] };
        let att = Block { kind: BlockKind::File { file: "f4567".into(), name: "报销单.xlsx".into() }, runs: vec![] };
        let want = vec![
            Block::plain(BlockKind::Paragraph, "报销流程："),
            img.clone(),
            Block::plain(BlockKind::Paragraph, "如上。"),
            att.clone(),
        ];
        write_blocks(&mut a, &want, 1_000).unwrap();
        assert_eq!(blocks(&a), want);
        let mut b = a.fork();
        b.set_actor(actor_for(UserId(2), [2; 8]));
        let mut edited = want.clone();
        edited[2] = Block::plain(BlockKind::Paragraph, "如上，每月 5 日前。");
        write_blocks(&mut b, &edited, 2_000).unwrap();
        let mut mine = want.clone();
        mine.insert(1, Block::plain(BlockKind::Paragraph, "见下图"));
        write_blocks(&mut a, &mine, 2_000).unwrap();
        a.merge(&mut b).unwrap();
        let got = blocks(&a);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[2], img);
        assert_eq!(got[4], att);
        assert_eq!(got[3].text(), "如上，每月 5 日前。");
        assert_eq!(got[1].text(), "见下图");
    }

    #[test]
    fn blocks_and_marks_round_trip() {
        let mut d = page(1, 1);
        assert_eq!(blocks(&d), vec![Block::default()], "the genesis paragraph");
        let want = vec![
            Block::plain(BlockKind::Heading(1), "报销制度"),
            Block {
                kind: BlockKind::Paragraph, runs: vec![plain("发票须在 "), bold("30 天"), plain(" 内提交。")]
            },
            Block::plain(BlockKind::Bullet, "差旅"),
            Block::plain(BlockKind::Bullet, "招待"),
            Block {
                kind: BlockKind::Paragraph,
                runs: vec![Run {
                    text: "流程".into(),
                    link: Some("https://example.com/flow".into()),
                    ..Default::default()
                }],
            },
            Block::plain(BlockKind::Code, "amount <= 5000"),
        ];
        write_blocks(&mut d, &want, 1_000).unwrap();
        assert_eq!(blocks(&d), want);
        validate(&d.get_last_local_change().unwrap().decode(), UserId(1), true, false).unwrap();
        // A javascript: link is dropped, not stored.
        let evil = vec![Block {
            kind: BlockKind::Paragraph,
            runs: vec![Run { text: "x".into(), link: Some("javascript:alert(1)".into()), ..Default::default() }],
        }];
        write_blocks(&mut d, &evil, 2_000).unwrap();
        assert_eq!(blocks(&d)[0].runs[0].link, None);
    }

    /// Typing in a paragraph where bold overlaps a link writes one operation per character: the
    /// marks read back are compared with the marks wanted character by character, not run by run
    /// (a run-by-run comparison cleared and set every mark of the paragraph on every keystroke,
    /// and the history grew without bound).
    #[test]
    fn typing_next_to_bold_and_a_link_writes_only_the_characters() {
        let mut d = page(1, 1);
        let link = |t: &str, bold: bool| Run {
            text: t.into(),
            bold,
            link: Some("https://intranet.example.com/finance".into()),
            ..Default::default()
        };
        let para = |tail: &str| Block {
            kind: BlockKind::Paragraph,
            runs: vec![plain("详见 "), bold("报销"), link("制度", true), link("全文", false), plain(tail)],
        };
        let others = |mid: Block| {
            vec![Block::plain(BlockKind::Heading(1), "财务"), mid, Block::plain(BlockKind::Bullet, "差旅")]
        };
        write_blocks(&mut d, &others(para("。")), 1_000).unwrap();
        assert_eq!(blocks(&d), others(para("。")));
        let n = 40;
        let mut tail = String::from("。");
        let mut ops = 0;
        for k in 0..n {
            tail.push(if k % 2 == 0 { '好' } else { 'a' });
            write_blocks(&mut d, &others(para(&tail)), 2_000 + k).unwrap();
            ops += d.get_last_local_change().unwrap().len();
        }
        assert_eq!(ops, n as usize, "one operation per character typed");
        assert_eq!(blocks(&d), others(para(&tail)));
        // Bolding across the link's end and typing inside the bold part stays one op a character.
        let bolded = |mid: &str| Block {
            kind: BlockKind::Paragraph,
            runs: vec![plain("详见 "), bold("报销"), link("制度", true), link("全文", true), bold(mid), plain(&tail)],
        };
        // As read back: equal neighbours in one run, no empty runs.
        let norm = |bs: Vec<Block>| -> Vec<Block> {
            let mut d = page(9, 9);
            write_blocks(&mut d, &bs, 0).unwrap();
            blocks(&d)
        };
        write_blocks(&mut d, &others(bolded("")), 3_000).unwrap();
        assert_eq!(blocks(&d), norm(others(bolded(""))));
        let mut mid = String::new();
        let mut ops = 0;
        for k in 0..n {
            mid.push('字');
            write_blocks(&mut d, &others(bolded(&mid)), 4_000 + k).unwrap();
            ops += d.get_last_local_change().unwrap().len();
        }
        assert_eq!(blocks(&d), norm(others(bolded(&mid))));
        assert_eq!(blocks(&d)[1].runs[3], bold(&mid), "typed in bold, after the link: {:?}", blocks(&d)[1]);
        assert_eq!(ops, n as usize, "one operation per character typed");
    }

    #[test]
    fn two_offline_writers_keep_every_word_and_the_formatting() {
        let mut a = page(1, 1);
        write_blocks(&mut a, &[Block::plain(BlockKind::Paragraph, "会议纪要")], 1_000).unwrap();
        let mut b = a.fork().with_actor(actor_for(UserId(2), [2; 8]));
        // A adds a heading and bolds a word; B appends a paragraph and edits the first one.
        write_blocks(
            &mut a,
            &[
                Block::plain(BlockKind::Heading(2), "议题"),
                Block { kind: BlockKind::Paragraph, runs: vec![bold("会议"), plain("纪要")] },
            ],
            2_000,
        )
        .unwrap();
        write_blocks(
            &mut b,
            &[
                Block::plain(BlockKind::Paragraph, "会议纪要（草稿）"),
                Block::plain(BlockKind::Paragraph, "参会：研发、市场"),
            ],
            2_000,
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        assert_eq!(blocks(&a), blocks(&b));
        let text = plain_text(&blocks(&a));
        for w in ["议题", "会议纪要", "（草稿）", "参会：研发、市场"] {
            assert!(text.contains(w), "{w} in {text}");
        }
        assert!(blocks(&a).iter().any(|bl| bl.runs.iter().any(|r| r.bold && r.text.contains("会议"))));
    }

    #[test]
    fn restore_is_a_new_change_and_equals_the_old_version() {
        let mut d = page(1, 1);
        write_blocks(&mut d, &[Block::plain(BlockKind::Paragraph, "v1")], 1_000_000).unwrap();
        write_blocks(&mut d, &[Block::plain(BlockKind::Paragraph, "v2 更长")], 2_000_000).unwrap();
        let vs = versions(&mut d, 0);
        assert_eq!(vs.len(), 2);
        let old = vs[0].heads.clone();
        assert_eq!(plain_text(&blocks_at(&mut d, &old)), "v1");
        restore(&mut d, &old, 3_000_000).unwrap();
        assert_eq!(plain_text(&blocks(&d)), "v1");
        let after = versions(&mut d, 0);
        assert_eq!(after.len(), 3, "the restore is itself a version");
        assert_eq!(after[2].user, Some(UserId(1)));
        assert!(after[2].restore);
        // Even right after an edit by the same person, a restore stands on its own.
        write_blocks(&mut d, &[Block::plain(BlockKind::Paragraph, "v3")], 3_001_000).unwrap();
        restore(&mut d, &old, 3_002_000).unwrap();
        assert_eq!(versions(&mut d, 3600).iter().filter(|v| v.restore).count(), 2);
    }

    #[test]
    fn the_tree_survives_cycles_and_deleted_parents() {
        let mut s = space_genesis("s");
        s.set_actor(actor_for(UserId(1), [1; 8]));
        for (id, parent, order) in [("a", "", 1.0), ("b", "a", 1.0), ("c", "b", 1.0), ("d", "", 2.0)] {
            let p = PageMeta { id: id.into(), title: id.into(), parent: parent.into(), order, ..Default::default() };
            create_page(&mut s, &p, 1).unwrap();
        }
        let shape: Vec<(usize, String)> = tree(&pages(&s)).into_iter().map(|(d, p)| (d, p.id)).collect();
        assert_eq!(shape, [(0, "a".into()), (1, "b".into()), (2, "c".into()), (0, "d".into())]);
        assert_eq!(move_page(&mut s, "a", "c", 1.0, 2), Err(KbError::Cycle));
        // Two devices move a and b under each other at once: both stay visible.
        let mut t = s.fork().with_actor(actor_for(UserId(2), [2; 8]));
        move_page(&mut s, "a", "d", 1.0, 3).unwrap();
        move_page(&mut t, "d", "c", 1.0, 3).unwrap();
        s.merge(&mut t).unwrap();
        let all = tree(&pages(&s));
        assert_eq!(all.len(), 4, "{all:?}");
        delete_page(&mut s, "b", 4).unwrap();
        assert!(tree(&pages(&s)).iter().any(|(_, p)| p.id == "c"), "c survives its deleted parent");
    }

    #[test]
    fn readers_only_comment_and_only_in_their_own_name() {
        let mut d = page(3, 1);
        add_comment(&mut d, UserId(3), "第二条不清楚", "n", 1_000).unwrap();
        validate(&d.get_last_local_change().unwrap().decode(), UserId(3), false, false).unwrap();
        add_comment(&mut d, UserId(4), "forged", "n", 2_000).unwrap();
        assert_eq!(
            validate(&d.get_last_local_change().unwrap().decode(), UserId(3), false, false),
            Err(Violation::Impersonation)
        );
        write_blocks(&mut d, &[Block::plain(BlockKind::Paragraph, "改写")], 3_000).unwrap();
        assert_eq!(
            validate(&d.get_last_local_change().unwrap().decode(), UserId(3), false, false),
            Err(Violation::NotEditor)
        );
        assert!(validate(&d.get_last_local_change().unwrap().decode(), UserId(3), true, false).is_ok());
    }
}
