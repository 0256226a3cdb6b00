//! A realistic team conversation: the same messages, authors, replies and reactions for a given
//! seed (their times end at the moment the bench runs).
//!
//! Messages are what a mixed Chinese/English team writes in a work channel: about half Chinese,
//! a third English, the rest mixed in one sentence ("PR #1234 已经合并了，please review"); most
//! are short, some are paragraphs, a few carry Markdown (a list, `code`, **bold**). Authors
//! take turns in runs of one to four messages. Time moves forward in working hours: seconds
//! between messages inside a burst, minutes to hours between bursts, nights and weekends
//! skipped, so a long channel spans weeks and the app draws its day dividers. About one message
//! in twelve replies to one of the last thirty, one in twenty-five mentions someone, and about
//! one in eight gets reactions from the others shortly after it.
//!
//! The conversation is a sequence of [`Item`]s in the order they were written: a message, or a
//! reaction to an earlier message of the same segment.

use qiao_model::ids::UserId;
use qiao_model::schema::chat::{ChatMessage, QUICK_REACTIONS};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

const ZH: &[&str] = &[
    "好的，收到",
    "我看一下",
    "今天下午三点开会，别忘了",
    "这个需求我们周五前能交付吗？",
    "刚和客户通了电话，他们希望下周二之前拿到报价单",
    "服务器又告警了，我先去排查一下",
    "发布说明我已经写好了，大家帮忙看看有没有遗漏",
    "财务那边说报销单要在月底前提交",
    "新同事明天入职，工位已经安排好了",
    "这个 bug 在 Safari 上能复现，Chrome 上没问题",
    "辛苦了！",
    "周报模板更新了，在知识库里",
    "会议纪要已经发到群里，请大家确认各自的待办事项",
    "我今天请假，有急事打我电话",
    "合同的第三条需要和法务再确认一下，尤其是违约责任那部分",
    "测试环境已经部署好了，可以开始验收",
    "数据库迁移脚本跑完了，一共迁移了十二万条记录，没有报错",
    "谢谢大家，这周的目标都完成了",
    "客户反馈导出的发票金额和系统里对不上，我在查是不是四舍五入的问题",
    "明天的培训改到 2 号会议室",
    "收到，马上处理",
    "这个方案我觉得可以，不过成本要再压一压",
    "华东区的经销商名单我整理好了，放在共享文件夹里",
    "下半年的招聘计划需要各部门在下周一前报上来",
    "附件离线同步的问题已经修复，大家更新一下应用",
];
const EN: &[&str] = &[
    "ok",
    "thanks!",
    "Looks good to me",
    "Can someone review my PR before lunch?",
    "The meeting is moved to 3pm",
    "I'll send the report tomorrow morning",
    "Deploy done, monitoring for the next hour",
    "Who owns this ticket?",
    "Let's discuss it at standup",
    "The customer called again about the invoice",
    "Numbers in sheet 2 don't add up, can you double-check?",
    "Heads up: the VPN will be down for maintenance on Saturday night",
    "+1",
    "I think we should split this into two tickets: one for the API and one for the UI",
    "Quick question — is the staging DB safe to reset?",
    "Great work everyone, the demo went really well",
    "Running 10 minutes late",
    "Release notes are in the knowledge base, please add anything I missed",
    "The flaky upload test failed again on CI, looking into it",
    "Lunch?",
];
const MIXED: &[&str] = &[
    "PR #{n} 已经合并了，please review the follow-up",
    "这个 API 的 rate limit 是多少？docs 里没写",
    "staging 环境已经更新到 v2.{n}，可以测试了",
    "明天 10am 和 Shanghai team 开 sync meeting",
    "客户说 SSO 登录失败，error code 是 {n}",
    "我把 Q3 的 OKR 放到知识库了，have a look",
    "dark mode 的对比度还是不够，设计同学看一下？",
    "backup restore drill 定在周六，ops 值班的同学注意一下",
];
const LONG: &[&str] = &[
    "总结一下今天的讨论：\n- 登录页的问题先用临时方案绕过去\n- 发票导出下周重做\n- 移动端看板布局交给设计同学\n有遗漏的请补充。",
    "Postmortem for last night's outage: the disk filled up because log rotation was disabled after the migration. \
     Fixed by re-enabling it and adding an alert at 80%. No data was lost. Action items are in the tasks board.",
    "关于报销流程的调整：从下个月开始，所有报销单都通过系统提交，纸质单据不再受理。\
     金额超过五千元的需要部门负责人和财务双重审批，请大家提前安排。",
    "To reproduce: open the channel on a slow network, send a message with an attachment, then go offline. \
     The upload resumes after reconnecting, but the thumbnail is missing until you reload. Logs attached in the ticket.",
    "下周的安排：**周一** 需求评审，**周三** 联调，**周五** 发布。`release/2.0` 分支周四晚上冻结，之后只接受 bug 修复。",
];

/// One thing written into the channel.
pub enum Item {
    /// Person `by` (an index into the people) writes `msg`.
    Message { by: usize, msg: ChatMessage },
    /// Person `by` reacts with `emoji` to message `id` (written earlier into the same segment).
    Reaction { by: usize, id: String, emoji: &'static str },
}

/// What a conversation contains, for the summary.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub messages: usize,
    pub replies: usize,
    pub mentions: usize,
    pub reactions: usize,
    pub text_bytes: usize,
}

/// The people as the conversation knows them.
pub struct Person {
    pub id: UserId,
    pub name: String,
}

/// Build `n` messages (and the reactions to them) by `people`, the last one written about a
/// minute before `now_ms`, in segments of `segment_capacity` messages: the result has one list
/// of items per segment, in writing order.
pub fn build(people: &[Person], n: usize, segment_capacity: usize, seed: u64, now_ms: i64) -> (Vec<Vec<Item>>, Counts) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Times first (backwards from now), so the conversation ends at `now_ms`; with a generator of
    // their own, because skipping nights takes more draws on some days than others, and the
    // content must not depend on the day the bench runs.
    let mut time_rng = StdRng::seed_from_u64(seed ^ 0x7105);
    let mut ts = vec![0i64; n];
    let mut t = now_ms - 60_000;
    for slot in ts.iter_mut().rev() {
        *slot = t;
        t = earlier(&mut time_rng, t);
    }
    let mut counts = Counts::default();
    let mut segments: Vec<Vec<Item>> = Vec::new();
    let mut recent: VecDeque<(String, String)> = VecDeque::new(); // (id, author name)
    let mut author = 0usize;
    let mut run_left = 0usize;
    // Reactions wait a few messages; those still pending when a segment ends are written then.
    let mut pending: Vec<(usize, usize, String, &'static str)> = Vec::new(); // (due at, by, id, emoji)
    for (i, &ts) in ts.iter().enumerate() {
        if i % segment_capacity == 0 {
            if let Some(seg) = segments.last_mut() {
                for (_, by, id, emoji) in pending.drain(..) {
                    seg.push(Item::Reaction { by, id, emoji });
                }
            }
            segments.push(Vec::new());
            recent.clear();
        }
        let seg = segments.last_mut().expect("a segment");
        // Reactions that are due.
        let (due, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(at, ..)| *at <= i);
        pending = later;
        for (_, by, id, emoji) in due {
            seg.push(Item::Reaction { by, id, emoji });
        }
        if run_left == 0 {
            let next = rng.gen_range(0..people.len().max(2) - 1);
            author = (if people.len() > 1 && next >= author { next + 1 } else { next }) % people.len();
            run_left = *[1, 1, 1, 2, 2, 3, 4].choose(&mut rng).unwrap_or(&1);
        }
        run_left -= 1;
        let id = format!("{:016x}", rng.r#gen::<u64>());
        let p = &people[author];
        let mut msg = ChatMessage::new(id.clone(), p.id, p.name.clone(), ts, text(&mut rng, i));
        if !recent.is_empty() && rng.gen_ratio(1, 12) {
            let k = rng.gen_range(0..recent.len());
            msg.reply_to = Some(recent[k].0.clone());
            counts.replies += 1;
        }
        if people.len() > 1 && rng.gen_ratio(1, 25) {
            let other = (author + rng.gen_range(1..people.len())) % people.len();
            msg.text = format!("@{} {}", people[other].name, msg.text);
            msg.mentions.push(people[other].id);
            counts.mentions += 1;
        }
        if people.len() > 1 && rng.gen_ratio(1, 8) {
            let k = rng.gen_range(1..=3.min(people.len() - 1));
            for j in 0..k {
                let by = (author + 1 + j) % people.len();
                let emoji = QUICK_REACTIONS[rng.gen_range(0..QUICK_REACTIONS.len())];
                pending.push((i + rng.gen_range(1..6), by, id.clone(), emoji));
                counts.reactions += 1;
            }
        }
        counts.messages += 1;
        counts.text_bytes += msg.text.len();
        recent.push_back((id, p.name.clone()));
        if recent.len() > 30 {
            recent.pop_front();
        }
        seg.push(Item::Message { by: author, msg });
    }
    if let Some(seg) = segments.last_mut() {
        for (_, by, id, emoji) in pending.drain(..) {
            seg.push(Item::Reaction { by, id, emoji });
        }
    }
    (segments, counts)
}

/// The time of the message before one written at `t`: seconds apart within a burst, minutes to
/// hours between bursts; outside 9:00–19:00 (UTC+8) and on weekends nobody writes.
fn earlier(rng: &mut StdRng, t: i64) -> i64 {
    let gap_s = match rng.gen_range(0..100) {
        0..=59 => rng.gen_range(5..90),
        60..=89 => rng.gen_range(90..1_200),
        _ => rng.gen_range(1_200..7_200),
    };
    let mut t = t - gap_s * 1000;
    loop {
        let local_s = t / 1000 + 8 * 3600;
        let day = local_s.div_euclid(86_400);
        let hour = local_s.rem_euclid(86_400) / 3600;
        // 1970-01-01 was a Thursday: day 2 is Saturday, 3 Sunday.
        let weekday = (day + 3).rem_euclid(7); // 0 = Monday
        if weekday >= 5 {
            t = (day * 86_400 - 8 * 3600) * 1000 - rng.gen_range(0..3_600_000); // Friday evening
        } else if hour < 9 {
            t = ((day - 1) * 86_400 + 19 * 3600 - 8 * 3600) * 1000 - rng.gen_range(0..1_800_000); // the evening before
        } else if hour >= 19 {
            t = (day * 86_400 + 19 * 3600 - 8 * 3600) * 1000 - rng.gen_range(0..1_800_000);
        } else {
            return t;
        }
    }
}

fn text(rng: &mut StdRng, i: usize) -> String {
    let n = 1000 + (i * 7919) % 9000;
    match rng.gen_range(0..100) {
        0..=44 => ZH.choose(rng).copied().unwrap_or_default().to_string(),
        45..=76 => EN.choose(rng).copied().unwrap_or_default().to_string(),
        77..=93 => MIXED.choose(rng).copied().unwrap_or_default().replace("{n}", &n.to_string()),
        _ => LONG.choose(rng).copied().unwrap_or_default().to_string(),
    }
}
