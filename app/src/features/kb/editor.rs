//! The rich-text editor of a page: a `contenteditable` element whose content is the page's
//! [`Block`]s.
//!
//! The browser edits the element as people expect (typing, IME composition for Chinese, Enter,
//! Backspace, Ctrl+B/I, paste); after each input the element is read back into blocks
//! ([`parse`]) and [`kb::write_blocks`] stores the difference as one change. When the document
//! changes underneath (a colleague's edit, a merge after being offline), the element is rendered
//! again from the blocks ([`render`]) with the caret kept at the same place in the same block.
//! During an IME composition nothing is read or rendered: the composition belongs to the browser
//! until it ends.
//!
//! One element per block, always a direct child of the editor: `p`, `h1`–`h3`, `div.kb-li`
//! (bullet or numbered, numbered by CSS counters), `pre` (code), `blockquote`, `div.kb-td` (a
//! table cell); each carries `data-kind`. Inline marks are `strong`, `em`, `code` and `a`.
//!
//! A table is a run of consecutive cells, each floated and as wide as the table has columns
//! (`--cols`), the first of each row clearing the row above, so every cell stays a block of the
//! page (inline-block cells confuse Chrome's caret at their edges). The browser must not split or join cells: [`cell_key`] takes Enter, Tab and Backspace
//! in a cell (next row, next cell, nothing), and [`insert_table`] adds one.

use qiao_model::schema::kb::{Block, BlockKind, Run};
use wasm_bindgen::JsCast;
use web_sys::{Element, Node};

fn kind_attr(k: &BlockKind) -> &'static str {
    match k {
        BlockKind::Paragraph => "p",
        BlockKind::Heading(1) => "h1",
        BlockKind::Heading(2) => "h2",
        BlockKind::Heading(_) => "h3",
        BlockKind::Bullet => "bullet",
        BlockKind::Numbered => "numbered",
        BlockKind::Code => "code",
        BlockKind::Quote => "quote",
        BlockKind::Cell(_) => "td",
        BlockKind::Image { .. } => "img",
        BlockKind::File { .. } => "file",
    }
}

pub fn kind_from_attr(s: &str) -> Option<BlockKind> {
    Some(match s {
        "p" => BlockKind::Paragraph,
        "h1" => BlockKind::Heading(1),
        "h2" => BlockKind::Heading(2),
        "h3" => BlockKind::Heading(3),
        "bullet" => BlockKind::Bullet,
        "numbered" => BlockKind::Numbered,
        "code" => BlockKind::Code,
        "quote" => BlockKind::Quote,
        _ => return None,
    })
}

fn tag_of(k: &BlockKind) -> (&'static str, &'static str) {
    match k {
        BlockKind::Paragraph => ("p", ""),
        BlockKind::Heading(1) => ("h1", ""),
        BlockKind::Heading(2) => ("h2", ""),
        BlockKind::Heading(_) => ("h3", ""),
        BlockKind::Bullet => ("div", "kb-li kb-bullet"),
        BlockKind::Numbered => ("div", "kb-li kb-numbered"),
        BlockKind::Code => ("pre", ""),
        BlockKind::Quote => ("blockquote", ""),
        BlockKind::Cell(_) => ("div", "kb-td"),
        BlockKind::Image { .. } => ("figure", "kb-img"),
        BlockKind::File { .. } => ("figure", "kb-file"),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The blocks as the editor's HTML.
pub fn to_html(blocks: &[Block]) -> String {
    let mut out = String::new();
    // Cells since the start of the current table: the first row is its header.
    let mut cell = 0usize;
    for b in blocks {
        if matches!(b.kind, BlockKind::Image { .. } | BlockKind::File { .. }) {
            cell = 0;
            out.push_str(&embed_html(&b.kind));
            continue;
        }
        let (tag, class) = tag_of(&b.kind);
        out.push_str(&format!("<{tag} data-kind=\"{}\"", kind_attr(&b.kind)));
        if let BlockKind::Cell(cols) = b.kind {
            let head = if cell < usize::from(cols) { " kb-th" } else { "" };
            let start = if cell % usize::from(cols) == 0 { " kb-row-start" } else { "" };
            out.push_str(&format!(" class=\"{class}{head}{start}\" data-cols=\"{cols}\" style=\"--cols: {cols}\""));
            cell += 1;
        } else {
            cell = 0;
            if !class.is_empty() {
                out.push_str(&format!(" class=\"{class}\""));
            }
        }
        out.push('>');
        if b.runs.iter().all(|r| r.text.is_empty()) {
            out.push_str("<br>");
        }
        for r in &b.runs {
            let mut open = String::new();
            let mut close = String::new();
            if let Some(l) = r.link.as_ref().filter(|l| qiao_model::markdown::safe_url(l)) {
                open.push_str(&format!("<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">", escape(l)));
                close.insert_str(0, "</a>");
            }
            if r.bold {
                open.push_str("<strong>");
                close.insert_str(0, "</strong>");
            }
            if r.italic {
                open.push_str("<em>");
                close.insert_str(0, "</em>");
            }
            if r.code {
                open.push_str("<code>");
                close.insert_str(0, "</code>");
            }
            out.push_str(&open);
            out.push_str(&escape(&r.text));
            out.push_str(&close);
        }
        out.push_str(&format!("</{tag}>"));
    }
    if blocks.is_empty() {
        out.push_str("<p data-kind=\"p\"><br></p>");
    }
    out
}

/// Whether a file id can go into a URL as it is (ids are letters and digits; anything else came
/// from a foreign client and is not fetched).
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An image or file block: not editable inside (the caret goes around it), its file and name
/// kept on the element for [`parse`]. A file is a card that downloads it.
fn embed_html(kind: &BlockKind) -> String {
    let (attr, class, file, name) = match kind {
        BlockKind::Image { file, name } => ("img", "kb-img", file, name),
        BlockKind::File { file, name } => ("file", "kb-file", file, name),
        _ => return String::new(),
    };
    let inner = match (plain_id(file), attr) {
        (false, _) => String::new(),
        (true, "img") => format!("<img src=\"/api/files/{file}\" alt=\"{}\" loading=\"lazy\">", escape(name)),
        (true, _) => format!(
            "<a class=\"kb-file-card\" href=\"/api/files/{file}\" download=\"{n}\"><span class=\"attachment-kind\">{}</span><span class=\"kb-file-name\">{n}</span></a>",
            escape(&crate::features::chat::attachments::kind(name)),
            n = escape(name)
        ),
    };
    format!(
        "<figure data-kind=\"{attr}\" class=\"{class}\" contenteditable=\"false\" data-file=\"{}\" data-name=\"{}\">{inner}</figure>",
        escape(file),
        escape(name)
    )
}

#[derive(Clone, Default, PartialEq)]
struct Marks {
    bold: bool,
    italic: bool,
    code: bool,
    link: Option<String>,
}

fn push_text(runs: &mut Vec<Run>, text: &str, m: &Marks) {
    if text.is_empty() {
        return;
    }
    // A newline inside a block (from a paste) reads as a space: blocks are the lines.
    let text = text.replace(['\n', '\r', '\u{fffc}'], " ").replace('\u{a0}', " ");
    if let Some(last) = runs.last_mut()
        && last.bold == m.bold
        && last.italic == m.italic
        && last.code == m.code
        && last.link == m.link
    {
        last.text.push_str(&text);
        return;
    }
    runs.push(Run { text, bold: m.bold, italic: m.italic, code: m.code, link: m.link.clone() });
}

fn walk_inline(node: &Node, marks: &Marks, runs: &mut Vec<Run>) {
    if node.node_type() == Node::TEXT_NODE {
        push_text(runs, &node.text_content().unwrap_or_default(), marks);
        return;
    }
    let Some(el) = node.dyn_ref::<Element>() else { return };
    let mut m = marks.clone();
    match el.tag_name().as_str() {
        "B" | "STRONG" => m.bold = true,
        "I" | "EM" => m.italic = true,
        "CODE" => m.code = true,
        "A" => m.link = el.get_attribute("href").filter(|h| qiao_model::markdown::safe_url(h)),
        "BR" => return,
        "SCRIPT" | "STYLE" => return,
        _ => {}
    }
    if let Some(style) = el.get_attribute("style") {
        let s = style.replace(' ', "").to_lowercase();
        if s.contains("font-weight:bold") || s.contains("font-weight:700") {
            m.bold = true;
        }
        if s.contains("font-style:italic") {
            m.italic = true;
        }
    }
    let children = el.child_nodes();
    for i in 0..children.length() {
        if let Some(c) = children.item(i) {
            walk_inline(&c, &m, runs);
        }
    }
}

fn block_kind_of(el: &Element) -> BlockKind {
    let attr = |n: &str| el.get_attribute(n).unwrap_or_default();
    match el.get_attribute("data-kind").as_deref() {
        Some("img") => return BlockKind::Image { file: attr("data-file"), name: attr("data-name") },
        Some("file") => return BlockKind::File { file: attr("data-file"), name: attr("data-name") },
        _ => {}
    }
    if el.get_attribute("data-kind").as_deref() == Some("td") {
        let cols = el.get_attribute("data-cols").and_then(|c| c.parse::<u8>().ok()).unwrap_or(1);
        return BlockKind::Cell(cols.clamp(1, qiao_model::schema::kb::MAX_TABLE_COLS));
    }
    if let Some(k) = el.get_attribute("data-kind").and_then(|k| kind_from_attr(&k)) {
        return k;
    }
    match el.tag_name().as_str() {
        "H1" => BlockKind::Heading(1),
        "H2" => BlockKind::Heading(2),
        "H3" | "H4" | "H5" | "H6" => BlockKind::Heading(3),
        "PRE" => BlockKind::Code,
        "BLOCKQUOTE" => BlockKind::Quote,
        _ => BlockKind::Paragraph,
    }
}

/// Read the editor element back into blocks.
pub fn parse(root: &Element) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let children = root.child_nodes();
    for i in 0..children.length() {
        let Some(node) = children.item(i) else { continue };
        match node.dyn_ref::<Element>() {
            Some(el) if matches!(el.tag_name().as_str(), "UL" | "OL") => {
                // A pasted list: one block per item.
                let kind = if el.tag_name() == "OL" { BlockKind::Numbered } else { BlockKind::Bullet };
                let items = el.children();
                for j in 0..items.length() {
                    if let Some(li) = items.item(j) {
                        let mut runs = Vec::new();
                        walk_inline(&li, &Marks::default(), &mut runs);
                        out.push(Block { kind: kind.clone(), runs });
                    }
                }
            }
            Some(el)
                if !matches!(el.tag_name().as_str(), "B" | "STRONG" | "I" | "EM" | "CODE" | "A" | "SPAN" | "BR") =>
            {
                let kind = block_kind_of(el);
                let mut runs = Vec::new();
                let kids = el.child_nodes();
                for j in 0..kids.length() {
                    if let Some(c) = kids.item(j)
                        && !matches!(kind, BlockKind::Image { .. } | BlockKind::File { .. })
                    {
                        walk_inline(&c, &Marks::default(), &mut runs);
                    }
                }
                out.push(Block { kind, runs });
            }
            _ => {
                // Loose inline content (typed into an emptied editor): part of a paragraph.
                let mut runs = Vec::new();
                walk_inline(&node, &Marks::default(), &mut runs);
                if runs.is_empty() && node.node_type() != Node::ELEMENT_NODE {
                    continue;
                }
                match out.last_mut() {
                    Some(b)
                        if b.kind == BlockKind::Paragraph
                            && i > 0
                            && children.item(i - 1).is_some_and(|p| p.node_type() == Node::TEXT_NODE) =>
                    {
                        b.runs.extend(runs)
                    }
                    _ => out.push(Block { kind: BlockKind::Paragraph, runs }),
                }
            }
        }
    }
    if out.is_empty() {
        out.push(Block::default());
    }
    out
}

/// The editor's direct child holding `node`.
fn block_of(root: &Element, node: &Node) -> Option<Element> {
    let mut n = node.clone();
    loop {
        let parent = n.parent_node()?;
        if parent.is_same_node(Some(root)) {
            return n.dyn_into::<Element>().ok();
        }
        n = parent;
    }
}

/// Where the caret is: (block index, offset in UTF-16 units within the block's text).
pub fn caret(root: &Element) -> Option<(u32, u32)> {
    let doc = web_sys::window()?.document()?;
    let sel = doc.get_selection().ok()??;
    let node = sel.anchor_node()?;
    if !root.contains(Some(&node)) {
        return None;
    }
    let block = block_of(root, &node)?;
    let children = root.children();
    let idx = (0..children.length()).find(|i| children.item(*i).is_some_and(|c| c.is_same_node(Some(&block))))?;
    let range = doc.create_range().ok()?;
    range.set_start(&block, 0).ok()?;
    range.set_end(&node, sel.anchor_offset()).ok()?;
    let before: String = range.to_string().into();
    Some((idx, before.encode_utf16().count() as u32))
}

/// Put the caret back at (block index, offset), or as near as the content allows.
pub fn set_caret(root: &Element, at: (u32, u32)) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let children = root.children();
    if children.length() == 0 {
        return;
    }
    let block = children.item(at.0.min(children.length() - 1)).expect("in range");
    let mut left = at.1;
    let (mut target, mut offset): (Node, u32) = (block.clone().into(), 0);
    // Depth-first through the block's text nodes.
    let mut stack: Vec<Node> = vec![block.clone().into()];
    let mut last_text: Option<Node> = None;
    let mut found = false;
    while let Some(n) = stack.pop() {
        if n.node_type() == Node::TEXT_NODE {
            let len = n.text_content().unwrap_or_default().encode_utf16().count() as u32;
            if left <= len {
                target = n;
                offset = left;
                found = true;
                break;
            }
            left -= len;
            last_text = Some(n);
            continue;
        }
        let kids = n.child_nodes();
        for i in (0..kids.length()).rev() {
            if let Some(c) = kids.item(i) {
                stack.push(c);
            }
        }
    }
    if !found && let Some(t) = last_text {
        offset = t.text_content().unwrap_or_default().encode_utf16().count() as u32;
        target = t;
    }
    if let (Ok(Some(sel)), Ok(range)) = (doc.get_selection(), doc.create_range()) {
        let _ = range.set_start(&target, offset);
        range.collapse_with_to_start(true);
        let _ = sel.remove_all_ranges();
        let _ = sel.add_range(&range);
    }
}

/// Render `blocks` into the editor, keeping the caret where it was (when the editor has focus).
pub fn render(root: &Element, blocks: &[Block]) {
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|a| a.is_same_node(Some(root)) || root.contains(Some(&a)));
    let at = if focused { caret(root) } else { None };
    root.set_inner_html(&to_html(blocks));
    if let Some(at) = at {
        set_caret(root, at);
    }
}

/// Change the kind of the block holding the caret (the toolbar's 正文/标题/列表/代码/引用).
pub fn set_block_kind(root: &Element, kind: &BlockKind) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    let at = caret(root);
    let Some(sel) = doc.get_selection().ok().flatten() else { return false };
    let Some(node) = sel.anchor_node() else { return false };
    let Some(block) = block_of(root, &node) else { return false };
    let (tag, class) = tag_of(kind);
    let Ok(new) = doc.create_element(tag) else { return false };
    let _ = new.set_attribute("data-kind", kind_attr(kind));
    if !class.is_empty() {
        let _ = new.set_attribute("class", class);
    }
    while let Some(c) = block.first_child() {
        let _ = new.append_child(&c);
    }
    if new.child_nodes().length() == 0 {
        new.set_inner_html("<br>");
    }
    let _ = root.replace_child(&new, &block);
    if let Some(at) = at {
        set_caret(root, at);
    }
    true
}

/// The kind of the block holding the caret.
pub fn current_kind(root: &Element) -> Option<BlockKind> {
    let doc = web_sys::window()?.document()?;
    let node = doc.get_selection().ok()??.anchor_node()?;
    block_of(root, &node).map(|b| block_kind_of(&b))
}

/// `document.execCommand` for inline formatting (bold, italic, createLink, unlink).
pub fn exec(command: &str, value: Option<&str>) {
    if let Some(d) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
    {
        let _ = match value {
            Some(v) => d.exec_command_with_show_ui_and_value(command, false, v),
            None => d.exec_command(command),
        };
    }
}

fn index_of(root: &Element, block: &Element) -> Option<u32> {
    let children = root.children();
    (0..children.length()).find(|i| children.item(*i).is_some_and(|c| c.is_same_node(Some(block))))
}

fn cell_cols(el: &Element) -> Option<u32> {
    match block_kind_of(el) {
        BlockKind::Cell(cols) => Some(u32::from(cols)),
        _ => None,
    }
}

/// `rows` rows of empty cells, `cols` wide.
fn new_cells(doc: &web_sys::Document, rows: u32, cols: u32) -> Vec<Element> {
    let kind = BlockKind::Cell(cols as u8);
    (0..rows * cols)
        .filter_map(|i| {
            let el = doc.create_element("div").ok()?;
            let _ = el.set_attribute("data-kind", kind_attr(&kind));
            let _ = el.set_attribute("class", if i % cols == 0 { "kb-td kb-row-start" } else { "kb-td" });
            let _ = el.set_attribute("data-cols", &cols.to_string());
            let _ = el.set_attribute("style", &format!("--cols: {cols}"));
            el.set_inner_html("<br>");
            Some(el)
        })
        .collect()
}

fn insert_after(root: &Element, after: Option<&Element>, els: &[Element]) {
    let mut next = after.and_then(|a| a.next_element_sibling());
    if after.is_none() {
        next = root.first_element_child();
    }
    for el in els {
        let _ = root.insert_before(el, next.as_ref().map(|n| n.as_ref()));
    }
}

/// Insert a table of `rows` × `cols` empty cells after the block holding the caret (or at the
/// end), followed by an empty paragraph when nothing follows, and put the caret in its first cell.
pub fn insert_table(root: &Element, rows: u32, cols: u32) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    let current = doc
        .get_selection()
        .ok()
        .flatten()
        .and_then(|s| s.anchor_node())
        .filter(|n| root.contains(Some(n)))
        .and_then(|n| block_of(root, &n))
        .or_else(|| root.last_element_child());
    let mut cells = new_cells(&doc, rows, cols);
    for c in cells.iter().take(cols as usize) {
        let _ = c.class_list().add_1("kb-th");
    }
    let at_end = current.as_ref().is_none_or(|c| c.next_element_sibling().is_none());
    if at_end && let Ok(p) = doc.create_element("p") {
        let _ = p.set_attribute("data-kind", "p");
        p.set_inner_html("<br>");
        cells.push(p);
    }
    insert_after(root, current.as_ref(), &cells);
    if let Some(i) = cells.first().and_then(|c| index_of(root, c)) {
        set_caret(root, (i, 0));
    }
    true
}

/// The index of the block holding the caret, if the caret is in the editor.
pub fn caret_block(root: &Element) -> Option<u32> {
    caret(root).map(|(i, _)| i)
}

/// Insert an image or file block after block `after` (or at the end), followed by an empty
/// paragraph when nothing follows, so there is always a line to type on below it.
pub fn insert_embed(root: &Element, after: Option<u32>, kind: &BlockKind) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    let Ok(holder) = doc.create_element("div") else { return false };
    holder.set_inner_html(&embed_html(kind));
    let Some(fig) = holder.first_element_child() else { return false };
    let current = after.and_then(|i| root.children().item(i)).or_else(|| root.last_element_child());
    let mut els = vec![fig];
    if current.as_ref().is_none_or(|c| c.next_element_sibling().is_none())
        && let Ok(p) = doc.create_element("p")
    {
        let _ = p.set_attribute("data-kind", "p");
        p.set_inner_html("<br>");
        els.push(p);
    }
    insert_after(root, current.as_ref(), &els);
    true
}

/// Keys that must not split or join cells, in a cell: Enter goes to the same column of the next
/// row (adding a row after the last), Tab to the next cell (adding a row after the last cell),
/// Shift+Tab to the previous one, Backspace at a cell's start and Delete at its end do nothing.
/// Returns whether it took the key; when it did, the caller reads the editor back.
pub fn cell_key(root: &Element, key: &str, shift: bool) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    let Some(node) = doc.get_selection().ok().flatten().and_then(|s| s.anchor_node()) else { return false };
    let Some(block) = block_of(root, &node) else { return false };
    let Some(cols) = cell_cols(&block) else { return false };
    let Some((idx, offset)) = caret(root) else { return false };
    let children = root.children();
    let is_cell = |i: u32| children.item(i).as_ref().and_then(cell_cols).is_some();
    // The table's first and last cell around this one.
    let mut first = idx;
    while first > 0 && is_cell(first - 1) {
        first -= 1;
    }
    let mut last = idx;
    while is_cell(last + 1) {
        last += 1;
    }
    let add_row = |after: u32| {
        let after_el = children.item(after);
        let row = new_cells(&doc, 1, cols);
        insert_after(root, after_el.as_ref(), &row);
    };
    match key {
        "Enter" => {
            let target = idx + cols;
            if target > last {
                // The end of the current row, counted from the table's start.
                let row_end = first + ((idx - first) / cols + 1) * cols - 1;
                add_row(row_end.min(last));
            }
            set_caret(root, (target, 0));
            true
        }
        "Tab" if shift => {
            if idx > first {
                set_caret(root, (idx - 1, u32::MAX));
            }
            true
        }
        "Tab" => {
            if idx == last {
                add_row(last);
            }
            set_caret(root, (idx + 1, 0));
            true
        }
        "Backspace" => offset == 0,
        "Delete" => offset >= block.text_content().unwrap_or_default().encode_utf16().count() as u32,
        _ => false,
    }
}
