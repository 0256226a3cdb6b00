//! Page templates (模板): the page types a company writes again and again. A template is only
//! a starting text; the page owes nothing to it afterwards.

use crate::i18n::I18n;
use qiao_model::schema::kb::{Block, BlockKind};

pub const TEMPLATES: [&str; 4] = ["blank", "policy", "meeting", "howto"];

/// The blocks a new page of template `key` starts with, in the reader's language (the title is
/// the page's own, above the text).
pub fn blocks(i18n: I18n, key: &str) -> Vec<Block> {
    let t = |k: &str| i18n.t(&format!("kb.tpl.{key}.{k}"));
    let h = |k: &str| Block::plain(BlockKind::Heading(2), &t(k));
    let p = |k: &str| Block::plain(BlockKind::Paragraph, &t(k));
    let li = |k: &str| Block::plain(BlockKind::Bullet, &t(k));
    let ol = |k: &str| Block::plain(BlockKind::Numbered, &t(k));
    let mut out = Vec::new();
    match key {
        "policy" => out.extend([
            h("scope"),
            p("scope_body"),
            h("rules"),
            ol("rule1"),
            ol("rule2"),
            h("effective"),
            p("effective_body"),
        ]),
        "meeting" => out.extend([
            p("when"),
            p("who"),
            h("agenda"),
            li("agenda1"),
            h("decisions"),
            li("decision1"),
            h("todo"),
            li("todo1"),
        ]),
        "howto" => out.extend([
            h("goal"),
            p("goal_body"),
            h("steps"),
            ol("step1"),
            ol("step2"),
            ol("step3"),
            h("faq"),
            p("faq_body"),
        ]),
        _ => out.push(Block::default()),
    }
    out
}
