//! Realistic knowledge-base pages, deterministic for a given seed.
//!
//! - [`long_page`]: a policy handbook about 50 A4 pages long (about 100,000 characters): about
//!   70% Chinese paragraphs and 30% English ones, a heading every few paragraphs, bullet and
//!   numbered lists, bold words and links.
//! - [`Typist`]: a person editing a page the way the editor reports it to the model. The app
//!   reads the whole editor back into blocks after every `input` event and calls
//!   `kb::write_blocks` with them; one such call is one *edit* here, one Automerge change. An
//!   English keystroke inserts one character; a Chinese IME commit inserts a word (two
//!   characters on average). Besides typing in runs at the caret: backspaces, Enter (a new
//!   paragraph, now and then a heading or a list item), bolding a few characters, and moving the
//!   caret elsewhere in the page.

use qiao_model::schema::kb::{Block, BlockKind, Run};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const ZH: &[&str] = &[
    "根据公司财务管理制度，",
    "员工因公出差产生的交通、住宿和餐饮费用，",
    "应在返回后十五个工作日内提交报销申请。",
    "报销单须附原始发票，",
    "电子发票以税务系统查验结果为准。",
    "超过标准的部分由部门负责人审批后方可报销，",
    "否则由个人承担。",
    "新员工入职第一周须完成信息安全培训，",
    "并签署保密协议。",
    "各部门每季度末提交下一季度的预算计划，",
    "财务部汇总后报管理层审议。",
    "涉及客户数据的系统变更须经过安全评审，",
    "上线前在测试环境完成回归测试。",
    "会议纪要由主持人在会后一个工作日内发布到知识库，",
    "并通知全体参会人员。",
    "办公用品统一由行政部采购，",
    "单笔超过五千元的采购须走招标流程。",
    "远程办公期间，请保持即时通讯工具在线，",
    "重要邮件在四小时内回复。",
    "服务器发生故障时，值班工程师应在十五分钟内响应，",
    "并在故障群中同步处理进展。",
    "年度绩效考核分为目标设定、中期回顾和年终评估三个阶段，",
    "结果与调薪和晋升挂钩。",
];
const EN: &[&str] = &[
    "Expense claims must be filed within fifteen working days of returning from a trip. ",
    "Attach the original receipts; electronic invoices are checked against the tax system. ",
    "New hires complete the security training in their first week and sign the confidentiality agreement. ",
    "Every change to a system that holds customer data goes through a security review. ",
    "Regression tests run in the staging environment before any release. ",
    "The on-call engineer acknowledges an outage within fifteen minutes and posts updates in the incident channel. ",
    "Purchases above 5,000 CNY go through a tender; smaller ones are approved by the team lead. ",
    "Meeting notes are published to the knowledge base within one working day. ",
    "Quarterly budgets are due at the end of each quarter and reviewed by the management team. ",
    "While working remotely, stay reachable on chat and answer important mail within four hours. ",
];
const HEADINGS: &[&str] = &[
    "差旅与报销",
    "Onboarding",
    "信息安全",
    "采购流程",
    "Incident response",
    "预算与审批",
    "会议与沟通",
    "Remote work",
    "绩效考核",
    "办公环境",
    "Release checklist",
    "附录",
];
const ITEMS: &[&str] = &[
    "机票须提前七天预订",
    "住宿标准：一线城市每晚 600 元",
    "Taxi receipts need the route and the purpose",
    "餐补按天计算",
    "Laptops are encrypted with full-disk encryption",
    "密码至少 12 位，每 90 天更换",
    "Two reviewers for every production change",
    "合同须经法务审核",
    "备份每周演练一次",
];
const LINKS: &[&str] = &["https://intranet.example.com/finance", "https://intranet.example.com/security"];

fn sentence(rng: &mut StdRng) -> &'static str {
    if rng.gen_bool(0.7) { ZH.choose(rng).expect("pool") } else { EN.choose(rng).expect("pool") }
}

fn paragraph(rng: &mut StdRng, chars: usize) -> Block {
    let mut runs = Vec::new();
    let mut n = 0;
    while n < chars {
        let s = sentence(rng);
        n += s.chars().count();
        let r = if rng.gen_bool(0.06) {
            Run { text: s.into(), bold: true, ..Default::default() }
        } else if rng.gen_bool(0.02) {
            Run {
                text: s.trim().into(),
                link: Some(LINKS.choose(rng).expect("pool").to_string()),
                ..Default::default()
            }
        } else {
            Run { text: s.into(), ..Default::default() }
        };
        runs.push(r);
    }
    Block { kind: BlockKind::Paragraph, runs }
}

/// A page of about `target_chars` characters (50 A4 pages: about 100,000).
pub fn long_page(seed: u64, target_chars: usize) -> Vec<Block> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut n = 0;
    let mut section = 0;
    while n < target_chars {
        let h = HEADINGS[section % HEADINGS.len()];
        out.push(Block::plain(
            BlockKind::Heading(if section % 4 == 0 { 1 } else { 2 }),
            &format!("{} {h}", section + 1),
        ));
        section += 1;
        for _ in 0..rng.gen_range(4..9) {
            if rng.gen_bool(0.2) {
                let kind = if rng.gen_bool(0.5) { BlockKind::Bullet } else { BlockKind::Numbered };
                for _ in 0..rng.gen_range(3..6) {
                    out.push(Block::plain(kind.clone(), ITEMS.choose(&mut rng).expect("pool")));
                }
            } else {
                let len = rng.gen_range(120..420);
                out.push(paragraph(&mut rng, len));
            }
        }
        n = out.iter().map(|b| b.text().chars().count() + 1).sum();
    }
    out
}

const BOLD: u8 = 1;
const LINK: u8 = 2;

/// A block as the typist sees it: one entry per character, with its marks.
#[derive(Clone)]
struct EBlock {
    kind: BlockKind,
    chars: Vec<(char, u8)>,
}

/// Someone editing a page, one `write_blocks`-sized edit at a time (see the module's comment).
pub struct Typist {
    rng: StdRng,
    blocks: Vec<EBlock>,
    links: Vec<String>,
    /// The caret: block, character.
    at: (usize, usize),
    /// What is still to be typed at the caret, one edit per entry.
    pending: Vec<String>,
    pub counts: Counts,
}

/// One edit as operations on the page's text, in (block, character) coordinates of the page
/// before the edit: what an editor that knows the caret would send instead of the whole page.
pub enum Op {
    Insert {
        block: usize,
        at: usize,
        text: String,
    },
    /// Delete the character before `at`; at the start of a block, its marker (joining it to the
    /// block before).
    Backspace {
        block: usize,
        at: usize,
    },
    /// Enter: a new block of `kind` from `at` on.
    Split {
        block: usize,
        at: usize,
        kind: BlockKind,
    },
    /// Bold (or a link) on or off over characters `from..to`.
    Mark {
        block: usize,
        from: usize,
        to: usize,
        link: Option<String>,
        on: bool,
    },
}

/// How many edits of each sort, for the report.
#[derive(Clone, Copy, Default, Debug)]
pub struct Counts {
    pub typed: usize,
    pub deleted: usize,
    pub paragraphs: usize,
    pub formatted: usize,
    pub moves: usize,
}

impl Typist {
    pub fn new(seed: u64, start: &[Block]) -> Typist {
        let mut links = Vec::new();
        let blocks: Vec<EBlock> = start
            .iter()
            .map(|b| EBlock {
                kind: b.kind.clone(),
                chars: b
                    .runs
                    .iter()
                    .flat_map(|r| {
                        let m = u8::from(r.bold) * BOLD
                            + match &r.link {
                                Some(l) => {
                                    if !links.contains(l) {
                                        links.push(l.clone());
                                    }
                                    LINK
                                }
                                None => 0,
                            };
                        r.text.chars().map(move |c| (c, m))
                    })
                    .collect(),
            })
            .collect();
        let blocks =
            if blocks.is_empty() { vec![EBlock { kind: BlockKind::Paragraph, chars: Vec::new() }] } else { blocks };
        let last = blocks.len() - 1;
        let at = (last, blocks[last].chars.len());
        let link = links.first().cloned().unwrap_or_else(|| LINKS[0].to_string());
        Typist {
            rng: StdRng::seed_from_u64(seed),
            blocks,
            links: vec![link],
            at,
            pending: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// The page as the editor would read it back.
    pub fn blocks(&self) -> Vec<Block> {
        self.blocks
            .iter()
            .map(|b| {
                let mut runs: Vec<Run> = Vec::new();
                let mut marks = None;
                for &(c, m) in &b.chars {
                    if marks != Some(m) {
                        runs.push(Run {
                            text: String::new(),
                            bold: m & BOLD != 0,
                            link: (m & LINK != 0).then(|| self.links[0].clone()),
                            ..Default::default()
                        });
                        marks = Some(m);
                    }
                    runs.last_mut().expect("pushed").text.push(c);
                }
                Block { kind: b.kind.clone(), runs }
            })
            .collect()
    }

    /// The caret: (block, character).
    pub fn caret(&self) -> (usize, usize) {
        self.at
    }

    /// Where each block's marker sits in the page's text (a marker is one character).
    pub fn starts(&self) -> Vec<usize> {
        let mut at = 0;
        self.blocks
            .iter()
            .map(|b| {
                let s = at;
                at += b.chars.len() + 1;
                s
            })
            .collect()
    }

    /// Characters in block `b`.
    pub fn block_len(&self, b: usize) -> usize {
        self.blocks[b].chars.len()
    }

    /// Put the caret somewhere in the middle of a random paragraph with text.
    pub fn jump(&mut self) {
        for _ in 0..50 {
            let b = self.rng.gen_range(0..self.blocks.len());
            let len = self.blocks[b].chars.len();
            if len > 10 {
                self.at = (b, self.rng.gen_range(len / 4..len * 3 / 4));
                return;
            }
        }
        let last = self.blocks.len() - 1;
        self.at = (last, self.blocks[last].chars.len());
    }

    /// Type one character (or one IME word) at the caret, without the rest of the typist's habits.
    pub fn type_one(&mut self) -> Op {
        let c = ['的', 'a', 'e', ' ', '是', 'n'][self.rng.gen_range(0..6)];
        self.insert(&c.to_string())
    }

    fn insert(&mut self, s: &str) -> Op {
        let (b, i) = self.at;
        let i = i.min(self.blocks[b].chars.len());
        let op = Op::Insert { block: b, at: i, text: s.to_string() };
        // Typing continues the marks before the caret, except a link's.
        let m = if i > 0 { self.blocks[b].chars[i - 1].1 & BOLD } else { 0 };
        let new: Vec<(char, u8)> = s.chars().map(|c| (c, m)).collect();
        let n = new.len();
        self.blocks[b].chars.splice(i..i, new);
        self.at = (b, i + n);
        op
    }

    /// Make one edit: afterwards [`Typist::blocks`] differs from before by what one `input` event
    /// reports.
    pub fn edit(&mut self) -> Op {
        if let Some(s) = self.pending.pop() {
            self.counts.typed += 1;
            return self.insert(&s);
        }
        let roll: f64 = self.rng.r#gen();
        if roll < 0.70 {
            // A run of typing at the caret; now and then somewhere else in the page first.
            if self.rng.gen_bool(0.25) {
                self.jump();
                self.counts.moves += 1;
            }
            let units: Vec<String> = if self.rng.gen_bool(0.7) {
                // IME commits: words of one to three characters.
                let s: Vec<char> = ZH.choose(&mut self.rng).expect("pool").chars().collect();
                let mut out = Vec::new();
                let mut k = 0;
                while k < s.len() {
                    let w = self.rng.gen_range(1..=3).min(s.len() - k);
                    out.push(s[k..k + w].iter().collect());
                    k += w;
                }
                out
            } else {
                let s = EN.choose(&mut self.rng).expect("pool");
                let words: Vec<&str> = s.split_inclusive(' ').collect();
                let from = self.rng.gen_range(0..words.len());
                let to = (from + self.rng.gen_range(2..7)).min(words.len());
                words[from..to].concat().chars().map(String::from).collect()
            };
            self.pending = units.into_iter().rev().collect();
            self.edit()
        } else if roll < 0.82 {
            // Backspace.
            let (b, i) = self.at;
            let i = i.min(self.blocks[b].chars.len());
            let op = Op::Backspace { block: b, at: i };
            if i > 0 {
                self.blocks[b].chars.remove(i - 1);
                self.at = (b, i - 1);
            } else if b > 0 {
                // At the start of a block: join it to the one before.
                let tail = self.blocks.remove(b).chars;
                let prev = &mut self.blocks[b - 1];
                let at = prev.chars.len();
                prev.chars.extend(tail);
                self.at = (b - 1, at);
            } else {
                self.counts.typed += 1;
                return self.type_one();
            }
            self.counts.deleted += 1;
            op
        } else if roll < 0.92 {
            // Enter: a new block; sometimes it becomes a heading or a list item.
            let (b, i) = self.at;
            let i = i.min(self.blocks[b].chars.len());
            let tail: Vec<(char, u8)> = self.blocks[b].chars.split_off(i);
            let kind = match self.blocks[b].kind {
                BlockKind::Bullet | BlockKind::Numbered if self.rng.gen_bool(0.8) => self.blocks[b].kind.clone(),
                _ if self.rng.gen_bool(0.1) => BlockKind::Heading(2),
                _ if self.rng.gen_bool(0.1) => BlockKind::Bullet,
                _ => BlockKind::Paragraph,
            };
            self.blocks.insert(b + 1, EBlock { kind: kind.clone(), chars: tail });
            self.at = (b + 1, 0);
            self.counts.paragraphs += 1;
            Op::Split { block: b, at: i, kind }
        } else {
            // Select a few characters of the caret's block and bold (or unbold) them, or make
            // them a link.
            let (b, _) = self.at;
            let len = self.blocks[b].chars.len();
            if len < 4 {
                self.counts.typed += 1;
                return self.type_one();
            }
            let from = self.rng.gen_range(0..len - 2);
            let to = (from + self.rng.gen_range(2..12)).min(len);
            let mark = if self.rng.gen_bool(0.85) { BOLD } else { LINK };
            let on = self.blocks[b].chars[from].1 & mark == 0;
            for c in &mut self.blocks[b].chars[from..to] {
                if on { c.1 |= mark } else { c.1 &= !mark }
            }
            self.counts.formatted += 1;
            Op::Mark { block: b, from, to, link: (mark == LINK).then(|| self.links[0].clone()), on }
        }
    }
}
