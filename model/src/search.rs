//! Local full-text search over messages, Chinese and English, offline.
//!
//! Tokens: Latin-script text is split into lower-cased words; Chinese (and Japanese, Korean) text
//! is indexed as overlapping character bigrams plus single characters — the scheme of
//! Lucene's CJK analyzer. Bigrams find any Chinese word of two or more characters without a
//! dictionary (which would add megabytes to the app), and single characters catch one-character
//! queries. A query matches a message when every query token is in it (AND); the last Latin word
//! of a query also matches as a prefix, so results appear while typing. Results are ranked by how
//! often the query's tokens occur, then by recency. Filters: author, conversation, time range.

use crate::ids::{ChannelId, UserId};
use std::collections::{BTreeMap, HashMap};

/// One searchable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub channel: ChannelId,
    pub author: UserId,
    pub author_name: String,
    pub ts: i64,
    pub text: String,
}

#[derive(Clone, Debug, Default)]
pub struct Query {
    pub text: String,
    pub author: Option<UserId>,
    pub channel: Option<ChannelId>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hit<'a> {
    pub entry: &'a Entry,
    pub score: f32,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0x20000..=0x2FFFF // Extensions B–F
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Run {
    Word(String),
    Cjk(Vec<char>),
}

fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(Run::Word(std::mem::take(&mut word)));
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
            word.extend(c.to_lowercase());
        } else {
            if !word.is_empty() {
                out.push(Run::Word(std::mem::take(&mut word)));
            }
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
        }
    }
    if !word.is_empty() {
        out.push(Run::Word(word));
    }
    if !cjk.is_empty() {
        out.push(Run::Cjk(cjk));
    }
    out
}

/// The tokens a message is indexed under.
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs(text) {
        match run {
            Run::Word(w) => out.push(w),
            Run::Cjk(cs) => {
                for (i, c) in cs.iter().enumerate() {
                    out.push(c.to_string());
                    if let Some(n) = cs.get(i + 1) {
                        out.push(format!("{c}{n}"));
                    }
                }
            }
        }
    }
    out
}

/// The tokens a query needs, and whether its last word may match as a prefix.
fn query_tokens(text: &str) -> (Vec<String>, Option<String>) {
    let rs = runs(text);
    let ends_in_word = matches!(rs.last(), Some(Run::Word(_))) && !text.ends_with(char::is_whitespace);
    let mut tokens = Vec::new();
    let mut prefix = None;
    let n = rs.len();
    for (i, run) in rs.into_iter().enumerate() {
        match run {
            Run::Word(w) if i + 1 == n && ends_in_word => prefix = Some(w),
            Run::Word(w) => tokens.push(w),
            Run::Cjk(cs) if cs.len() == 1 => tokens.push(cs[0].to_string()),
            Run::Cjk(cs) => tokens.extend(cs.windows(2).map(|p| p.iter().collect())),
        }
    }
    tokens.sort();
    tokens.dedup();
    (tokens, prefix)
}

/// An inverted index over messages. Re-adding a message id replaces it.
#[derive(Default)]
pub struct Index {
    entries: Vec<Entry>,
    alive: Vec<bool>,
    by_id: HashMap<String, u32>,
    /// token → (entry, occurrences)
    postings: BTreeMap<String, Vec<(u32, u16)>>,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Add or replace a message.
    pub fn upsert(&mut self, entry: Entry) {
        if let Some(&old) = self.by_id.get(&entry.id) {
            if self.entries[old as usize] == entry {
                return;
            }
            self.alive[old as usize] = false;
        }
        let at = self.entries.len() as u32;
        let mut counts: HashMap<String, u16> = HashMap::new();
        for t in index_tokens(&entry.text).into_iter().chain(index_tokens(&entry.author_name)) {
            *counts.entry(t).or_default() += 1;
        }
        for (t, n) in counts {
            self.postings.entry(t).or_default().push((at, n));
        }
        self.by_id.insert(entry.id.clone(), at);
        self.entries.push(entry);
        self.alive.push(true);
    }

    /// Forget a message (deleted, or its conversation is no longer readable).
    pub fn remove(&mut self, id: &str) {
        if let Some(at) = self.by_id.remove(id) {
            self.alive[at as usize] = false;
        }
    }

    /// Messages matching `q`, best first.
    pub fn search(&self, q: &Query) -> Vec<Hit<'_>> {
        let (tokens, prefix) = query_tokens(&q.text);
        if tokens.is_empty() && prefix.is_none() {
            return Vec::new();
        }
        // score per entry; start from the rarest token to keep the candidate set small.
        let mut lists: Vec<HashMap<u32, u32>> = Vec::new();
        for t in &tokens {
            let Some(p) = self.postings.get(t) else { return Vec::new() };
            lists.push(p.iter().map(|&(e, n)| (e, n as u32)).collect());
        }
        if let Some(p) = &prefix {
            let mut m: HashMap<u32, u32> = HashMap::new();
            for (_, list) in self.postings.range(p.clone()..).take_while(|(k, _)| k.starts_with(p.as_str())) {
                for &(e, n) in list {
                    *m.entry(e).or_default() += n as u32;
                }
            }
            if m.is_empty() {
                return Vec::new();
            }
            lists.push(m);
        }
        lists.sort_by_key(|l| l.len());
        let (first, rest) = lists.split_first().expect("at least one list");
        let mut hits: Vec<Hit<'_>> = first
            .iter()
            .filter_map(|(&e, &n)| {
                let mut score = n;
                for l in rest {
                    score += *l.get(&e)?;
                }
                let i = e as usize;
                let entry = &self.entries[i];
                let keep = self.alive[i]
                    && q.author.is_none_or(|a| a == entry.author)
                    && q.channel.as_ref().is_none_or(|c| *c == entry.channel)
                    && q.from.is_none_or(|f| entry.ts >= f)
                    && q.to.is_none_or(|t| entry.ts <= t);
                keep.then_some(Hit { entry, score: score as f32 })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.entry.ts.cmp(&a.entry.ts)));
        hits.truncate(if q.limit == 0 { 50 } else { q.limit });
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, channel: &str, author: i64, ts: i64, text: &str) -> Entry {
        Entry {
            id: id.into(),
            channel: ChannelId(channel.into()),
            author: UserId(author),
            author_name: format!("user{author}"),
            ts,
            text: text.into(),
        }
    }

    fn ids(hits: &[Hit<'_>]) -> Vec<String> {
        hits.iter().map(|h| h.entry.id.clone()).collect()
    }

    fn q(text: &str) -> Query {
        Query { text: text.into(), ..Default::default() }
    }

    fn sample() -> Index {
        let mut i = Index::new();
        i.upsert(e("1", "general", 1, 100, "明天下午三点开项目周会"));
        i.upsert(e("2", "general", 2, 200, "Quarterly report is ready for review"));
        i.upsert(e("3", "sales", 1, 300, "华东区销售报告已上传，请查收 report"));
        i.upsert(e("4", "sales", 3, 400, "周报：本周完成了客户回访"));
        i
    }

    #[test]
    fn chinese_queries_find_chinese_text() {
        let i = sample();
        assert_eq!(ids(&i.search(&q("周会"))), ["1"]);
        assert_eq!(ids(&i.search(&q("销售报告"))), ["3"]);
        assert_eq!(ids(&i.search(&q("周"))), ["4", "1"]); // newest first at equal score
        assert!(i.search(&q("会议室")).is_empty());
    }

    #[test]
    fn english_is_case_insensitive_and_prefix_while_typing() {
        let i = sample();
        assert_eq!(ids(&i.search(&q("REPORT"))), ["3", "2"]);
        assert_eq!(ids(&i.search(&q("quart"))), ["2"]);
        assert!(i.search(&q("quart ")).is_empty(), "a finished word must match whole");
    }

    #[test]
    fn mixed_queries_need_every_part() {
        let i = sample();
        assert_eq!(ids(&i.search(&q("销售 report"))), ["3"]);
        assert!(i.search(&q("周会 report")).is_empty());
    }

    #[test]
    fn filters_by_person_conversation_and_date() {
        let i = sample();
        let mut query = q("report");
        query.author = Some(UserId(2));
        assert_eq!(ids(&i.search(&query)), ["2"]);
        let mut query = q("report");
        query.channel = Some(ChannelId("sales".into()));
        assert_eq!(ids(&i.search(&query)), ["3"]);
        let mut query = q("report");
        query.to = Some(250);
        assert_eq!(ids(&i.search(&query)), ["2"]);
    }

    #[test]
    fn edits_replace_and_deletes_remove() {
        let mut i = sample();
        i.upsert(e("1", "general", 1, 100, "周会改到周四"));
        assert_eq!(ids(&i.search(&q("周四"))), ["1"]);
        assert!(i.search(&q("三点")).is_empty());
        i.remove("4");
        assert_eq!(ids(&i.search(&q("周报"))), Vec::<String>::new());
        assert_eq!(i.len(), 3);
    }

    #[test]
    fn punctuation_and_empty_queries_find_nothing() {
        let i = sample();
        assert!(i.search(&q("")).is_empty());
        assert!(i.search(&q("，。！")).is_empty());
    }
}
