//! Realistic chat history for the search benchmark, deterministic for a given seed.
//!
//! A company's messages over a year: about 45% Chinese, 35% English and 20% mixed (Chinese
//! sentences with English product words, as Chinese engineers write them). Most messages are
//! one short sentence; one in ten is a paragraph of several. 200 people (Chinese and English
//! names) write in 50 channels; each channel's history is cut into segments of
//! [`SEGMENT_CAPACITY`] messages, as the app stores them.
//!
//! Two *planted* terms appear nowhere in the vocabulary, so which messages contain them is known
//! exactly: [`PLANTED_ZH`] (a Chinese word, placed inside a Chinese sentence) and
//! [`PLANTED_EN`] (an English word). The bench checks that search finds exactly those messages.

use qiao_model::ids::{ChannelId, UserId};
use qiao_model::schema::chat::{ChatMessage, SEGMENT_CAPACITY};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// A Chinese word none of the fragments contain (nor any of its character pairs).
pub const PLANTED_ZH: &str = "桥梁验收";
/// An English word none of the fragments contain.
pub const PLANTED_EN: &str = "zyxquark";

const ZH: &[&str] = &[
    "明天上午十点开周会",
    "周会改到下午三点",
    "报销单已经提交了，麻烦审批一下",
    "差旅报销需要附上发票",
    "服务器刚才出现故障，正在排查",
    "故障已经恢复，原因是磁盘满了",
    "服务器故障的复盘报告周四发",
    "客户那边反馈登录很慢",
    "下周二去拜访客户",
    "合同已经发给法务审核",
    "合同的付款条款需要再确认一下",
    "新版本今晚上线",
    "上线前请大家再测一遍",
    "收到，谢谢",
    "好的，我马上处理",
    "这个需求下个迭代再做",
    "请把会议纪要发到群里",
    "预算表在共享盘里",
    "季度总结周五前交",
    "新同事下周一入职，请大家多关照",
    "培训资料已经更新",
    "今天食堂有红烧肉",
    "打印机又卡纸了",
    "年会节目报名截止到本周五",
    "项目进度比计划慢了两天",
    "设计稿已经改好了，请看一下",
    "数据库备份每天凌晨两点执行",
    "这个问题我来跟进",
    "销售报告已上传，请查收",
    "采购申请需要部门负责人签字",
    "办公室空调坏了，已经报修",
    "安全培训必须在月底前完成",
    "接口文档写得不太清楚",
    "测试环境的数据被清掉了",
    "麻烦帮忙看一下这个报错",
    "晚上有人一起加班吗",
    "我请假半天，下午回来",
];

const EN: &[&str] = &[
    "the meeting is moved to 3pm",
    "can we move the meeting to tomorrow",
    "please review the draft before Friday",
    "I will send the report tomorrow morning",
    "the quarterly report is ready for review",
    "deploy to staging is done",
    "the deploy failed again, looking into it",
    "customer called about the invoice",
    "the invoice was sent last week",
    "who owns this ticket",
    "let's discuss at standup",
    "looks good to me",
    "thanks, merged",
    "can you check the numbers in sheet 2",
    "the build is green now",
    "revenue is up 12% this quarter",
    "reviewing the pull request now",
    "I'm out of office on Monday",
    "the release notes need another pass",
    "please update the onboarding checklist",
    "the dashboard is loading slowly",
    "rollback finished, service is stable",
    "lunch at noon?",
    "the contract needs legal review",
    "server alerts are firing again",
    "I'll reply to the client after lunch",
    "budget planning starts next week",
    "the demo went well",
];

/// Chinese sentences with English work words, as written in Chinese teams.
const MIXED: &[&str] = &[
    "这个bug明天deploy到staging",
    "PR已经提了，帮忙review一下",
    "Q3的OKR周五前对齐",
    "demo的时候客户提了几个feature",
    "staging环境的invoice数据有问题",
    "明天的meeting改到线上",
    "report模板我发在群里了",
    "dashboard上的数据和Excel对不上",
    "这次release先不上这个功能",
    "API文档更新了，大家看一下",
];

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超"];
const EN_NAMES: &[&str] = &["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"];

/// One person of the company.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub name: String,
}

/// A channel's history, cut into segments of at most [`SEGMENT_CAPACITY`] messages, oldest first.
pub struct ChannelHistory {
    pub channel: ChannelId,
    pub segments: Vec<Vec<ChatMessage>>,
}

pub struct History {
    pub people: Vec<Person>,
    pub channels: Vec<ChannelHistory>,
    /// Ids of the messages that contain [`PLANTED_ZH`] / [`PLANTED_EN`].
    pub planted_zh: Vec<String>,
    pub planted_en: Vec<String>,
    /// The newest message's time (ms); messages span the year before it.
    pub newest_ts: i64,
}

pub const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;
const NEWEST_TS: i64 = 1_790_000_000_000;

fn people(rng: &mut StdRng, n: usize) -> Vec<Person> {
    (0..n)
        .map(|i| {
            let name = if i % 5 == 4 {
                format!("{} {}", EN_NAMES[rng.gen_range(0..EN_NAMES.len())], ["Wang", "Li", "Chen", "Smith"][i % 4])
            } else {
                format!(
                    "{}{}{}",
                    SURNAMES[rng.gen_range(0..SURNAMES.len())],
                    GIVEN[rng.gen_range(0..GIVEN.len())],
                    if rng.gen_bool(0.5) { GIVEN[rng.gen_range(0..GIVEN.len())] } else { "" }
                )
            };
            Person { id: UserId(100 + i as i64), name }
        })
        .collect()
}

fn sentence(rng: &mut StdRng) -> (&'static str, bool) {
    let roll = rng.gen_range(0..100);
    if roll < 45 {
        (ZH.choose(rng).expect("nonempty"), true)
    } else if roll < 80 {
        (EN.choose(rng).expect("nonempty"), false)
    } else {
        (MIXED.choose(rng).expect("nonempty"), true)
    }
}

/// The text of one message: a sentence, or (one in ten) a paragraph of three to eight.
fn text(rng: &mut StdRng) -> String {
    let n = if rng.gen_range(0..10) == 0 { rng.gen_range(3..=8) } else { 1 };
    let mut out = String::new();
    for i in 0..n {
        let (s, zh) = sentence(rng);
        if i > 0 {
            out.push_str(if zh { "，" } else { ". " });
        }
        out.push_str(s);
    }
    if rng.gen_range(0..4) == 0 {
        out.push_str(if rng.gen_bool(0.5) { "。" } else { "!" });
    }
    out
}

/// `messages` messages in `channels` channels by `authors` people.
pub fn history(seed: u64, messages: usize, channels: usize, authors: usize) -> History {
    let mut rng = StdRng::seed_from_u64(seed);
    let people = people(&mut rng, authors.max(1));
    let channels_n = channels.max(1);
    // Planted positions: 40 for the Chinese word, 25 for the English one (fewer if tiny).
    let mut all: Vec<usize> = (0..messages).collect();
    all.shuffle(&mut rng);
    let zh_at: std::collections::HashSet<usize> = all.iter().copied().take(40.min(messages / 4)).collect();
    let en_at: std::collections::HashSet<usize> =
        all.iter().copied().skip(zh_at.len()).take(25.min(messages / 4)).collect();
    let mut chans: Vec<ChannelHistory> = (0..channels_n)
        .map(|c| ChannelHistory { channel: ChannelId(format!("c{c:024x}")), segments: vec![Vec::new()] })
        .collect();
    let (mut planted_zh, mut planted_en) = (Vec::new(), Vec::new());
    let step = YEAR_MS / messages.max(1) as i64;
    for i in 0..messages {
        let mut t = text(&mut rng);
        let id = format!("{i:08x}{:08x}", rng.r#gen::<u32>());
        if zh_at.contains(&i) {
            t = format!("下周三{PLANTED_ZH}，{t}");
            planted_zh.push(id.clone());
        }
        if en_at.contains(&i) {
            t = format!("{t} (ref {PLANTED_EN})");
            planted_en.push(id.clone());
        }
        // Busy channels get more: channel c with weight 1/(c+1) roughly (Zipf-like).
        let c = (rng.gen_range(0.0f64..1.0).powi(3) * channels_n as f64) as usize % channels_n;
        let p = &people[rng.gen_range(0..people.len())];
        let ts = NEWEST_TS - YEAR_MS + i as i64 * step + rng.gen_range(0..step.max(1));
        let segs = &mut chans[c].segments;
        if segs.last().is_some_and(|s| s.len() >= SEGMENT_CAPACITY) {
            segs.push(Vec::new());
        }
        segs.last_mut().expect("one at least").push(ChatMessage::new(id, p.id, p.name.clone(), ts, t));
    }
    History { people, channels: chans, planted_zh, planted_en, newest_ts: NEWEST_TS }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_words_appear_only_where_planted() {
        let h = history(7, 5_000, 10, 50);
        for list in [ZH, EN, MIXED] {
            for s in list {
                assert!(!s.contains("桥梁") && !s.contains("梁验") && !s.contains(PLANTED_EN), "{s}");
            }
        }
        let count = |w: &str| {
            h.channels.iter().flat_map(|c| c.segments.iter().flatten()).filter(|m| m.text.contains(w)).count()
        };
        assert_eq!(count(PLANTED_ZH), h.planted_zh.len());
        assert_eq!(count(PLANTED_EN), h.planted_en.len());
        assert_eq!(h.planted_zh.len(), 40);
        let n: usize = h.channels.iter().flat_map(|c| c.segments.iter()).map(Vec::len).sum();
        assert_eq!(n, 5_000);
        assert!(h.channels.iter().flat_map(|c| c.segments.iter()).all(|s| s.len() <= SEGMENT_CAPACITY));
    }

    #[test]
    fn same_seed_same_history() {
        let a = history(3, 500, 5, 20);
        let b = history(3, 500, 5, 20);
        let texts = |h: &History| -> Vec<String> {
            h.channels.iter().flat_map(|c| c.segments.iter().flatten()).map(|m| m.text.clone()).collect()
        };
        assert_eq!(texts(&a), texts(&b));
    }
}
