//! A realistic project board, deterministic for a given seed.
//!
//! Titles are a mix of Chinese (about 60%) and English work items; about a third of the tasks
//! carry a description, most have one or two assignees among the project's people, some a due
//! time (past ones make overdue cards), a reminder, labels, a checklist, comments. Final
//! columns: about 40% 待办, 30% 进行中, 30% 已完成.
//!
//! Each person creates their share of the tasks on a replica of their own ([`Board::forks`]):
//! concurrent branches from the genesis, as people working offline or at the same time make
//! them. The owner's replica then takes in everyone's ([`Board::merged`]) and moves most cards
//! that ended in 进行中 or 已完成 there from 待办, one change per move, as a board fills up over
//! weeks; the rest were created in their column directly.

use automerge::AutoCommit;
use qiao_model::actor::actor_for;
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, CheckItem, Edit, Task};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const DAY_MS: i64 = 86_400_000;

const ZH_VERBS: &[&str] = &[
    "修复", "整理", "更新", "评审", "编写", "优化", "测试", "部署", "准备", "确认", "跟进", "设计", "核对", "迁移",
    "汇总", "排查",
];
const ZH_OBJECTS: &[&str] = &[
    "登录页在 Safari 上的样式问题",
    "第三季度客户反馈",
    "2.0 发布说明",
    "数据库迁移脚本",
    "新员工入职手册",
    "支付回调重试逻辑",
    "附件离线同步",
    "移动端看板布局",
    "采购合同条款",
    "销售培训材料",
    "下半年招聘计划",
    "服务器监控告警规则",
    "年会活动方案",
    "报销审批流程",
    "华东区经销商名单",
    "官网首页文案",
    "客服工单分类",
    "备份恢复演练记录",
    "权限矩阵",
    "产品路线图",
    "周报模板",
    "接口文档",
    "发票导出功能",
    "搜索结果排序",
];
const ZH_SUFFIXES: &[&str] = &["", "", "", "（第二轮）", "（急）", "，周五前", "，和法务确认", "（客户 A 公司）"];
const EN_VERBS: &[&str] = &[
    "Fix",
    "Review",
    "Update",
    "Write",
    "Prepare",
    "Follow up on",
    "Migrate",
    "Test",
    "Design",
    "Clean up",
    "Plan",
    "Document",
];
const EN_OBJECTS: &[&str] = &[
    "the login page on Safari",
    "Q3 customer feedback",
    "release notes for 2.0",
    "invoice export",
    "the onboarding checklist",
    "offline sync for attachments",
    "the flaky upload test",
    "pricing page copy",
    "SSO with the HR directory",
    "the on-call rotation",
    "search ranking for Chinese names",
    "the quarterly board deck",
    "vendor contract renewals",
    "dark mode contrast",
    "the backup restore drill",
    "API rate limits",
];
const EN_SUFFIXES: &[&str] = &["", "", "", " before Friday", " (round 2)", " with the Shanghai team", " — blocked?"];
const LABELS: &[&str] = &["前端", "后端", "设计", "bug", "urgent", "客户", "文档", "ops"];
const DESCRIPTIONS: &[&str] = &[
    "客户上周反馈了两次，需要先复现，再确认影响范围。相关截图在群里。",
    "See the thread in #general for context. Keep the old behaviour behind a flag until the next release.",
    "和财务对一下口径，数字以系统导出的为准。完成后在周会上同步。",
    "Acceptance: works offline, survives a reload, and the numbers match the spreadsheet.",
    "先出一个初稿，评审后再细化。注意中英文两个版本都要更新。",
    "Depends on the migration. Ping ops before deploying to production.",
];
const CHECK_ITEMS: &[&str] =
    &["初稿", "评审", "修改", "上线", "通知相关同事", "Write tests", "Update docs", "Deploy", "Verify on mobile"];
const COMMENTS: &[&str] = &[
    "已经在处理了，今天下班前给结果。",
    "Looks good to me, one small comment on the wording.",
    "这个需要产品确认一下优先级。",
    "Moved the due date, waiting on the vendor.",
    "附件已更新，请再看一下。",
];

/// The seeded board.
pub struct Board {
    /// Per person (in the order given): genesis plus the tasks and comments they created.
    pub forks: Vec<AutoCommit>,
    /// Everything: every fork merged into the owner's, then the owner's moves.
    pub merged: AutoCommit,
    pub tasks: usize,
    /// Tasks per default column (待办, 进行中, 已完成).
    pub per_column: [usize; 3],
    pub comments: usize,
    pub moves: usize,
}

/// The device bytes of person `i`'s bench replica.
pub fn device(i: usize) -> [u8; 8] {
    [0xb0, 0xa2, 0xd0, 0, 0, 0, 0, i as u8]
}

fn title(rng: &mut StdRng, i: usize) -> String {
    if rng.gen_bool(0.6) {
        let v = ZH_VERBS.choose(rng).copied().unwrap_or_default();
        let o = ZH_OBJECTS.choose(rng).copied().unwrap_or_default();
        let s = ZH_SUFFIXES.choose(rng).copied().unwrap_or_default();
        format!("{v}{o}{s}")
    } else {
        let v = EN_VERBS.choose(rng).copied().unwrap_or_default();
        let o = EN_OBJECTS.choose(rng).copied().unwrap_or_default();
        let s = EN_SUFFIXES.choose(rng).copied().unwrap_or_default();
        if rng.gen_bool(0.15) { format!("{v} {o} (#{}){s}", 1000 + i) } else { format!("{v} {o}{s}") }
    }
}

/// Build the board of `project` with `n` tasks made by `people` (the first is the owner), as of
/// `now_ms`.
pub fn build(project: &ProjectId, people: &[UserId], n: usize, seed: u64, now_ms: i64) -> Board {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut forks: Vec<AutoCommit> = people
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut d = tasks::genesis(project);
            d.set_actor(actor_for(*u, device(i)));
            d
        })
        .collect();
    let cols = tasks::DEFAULT_COLUMNS;
    let start = now_ms - 90 * DAY_MS;
    let mut per_column = [0usize; 3];
    let mut comments = 0;
    let mut later: Vec<(String, usize)> = Vec::new();
    for i in 0..n {
        let who = i % people.len();
        let created_at = start + (i as i64) * (80 * DAY_MS) / n.max(1) as i64;
        let roll = rng.gen_range(0..100);
        let fin = if roll < 40 {
            0
        } else if roll < 70 {
            1
        } else {
            2
        };
        per_column[fin] += 1;
        let created_in = if fin > 0 && rng.gen_bool(0.7) { 0 } else { fin };
        let id = format!("t{:016x}", rng.r#gen::<u64>());
        let assignees = {
            let k = match rng.gen_range(0..10) {
                0..=2 => 0,
                3..=8 => 1,
                _ => 2,
            };
            let mut a: Vec<UserId> = people.choose_multiple(&mut rng, k).copied().collect();
            a.sort();
            a
        };
        let due =
            rng.gen_bool(0.4).then(|| now_ms + rng.gen_range(-20..40) * DAY_MS + rng.gen_range(9..18) * 3_600_000);
        let remind_at = due.filter(|_| rng.gen_bool(0.25)).map(|d| d - DAY_MS);
        let n_labels = rng.gen_range(0..3);
        let labels: Vec<String> = LABELS.choose_multiple(&mut rng, n_labels).map(|s| s.to_string()).collect();
        let checklist: Vec<CheckItem> = if rng.gen_bool(0.2) {
            (0..rng.gen_range(2..7))
                .map(|k| CheckItem {
                    id: format!("c{k}"),
                    text: CHECK_ITEMS.choose(&mut rng).copied().unwrap_or_default().to_string(),
                    done: rng.gen_bool(0.4),
                    order: k as f64,
                })
                .collect()
        } else {
            Vec::new()
        };
        let task = Task {
            id: id.clone(),
            title: title(&mut rng, i),
            description: if rng.gen_bool(0.3) {
                DESCRIPTIONS.choose(&mut rng).copied().unwrap_or_default().to_string()
            } else {
                String::new()
            },
            column: cols[created_in].to_string(),
            order: i as f64,
            priority: [0, 0, 1, 1, 2, 3][rng.gen_range(0..6)],
            due,
            remind_at,
            link: String::new(),
            created_by: people[who],
            created_at,
            deleted: false,
            assignees,
            labels,
            checklist,
            attachments: Vec::new(),
        };
        let d = &mut forks[who];
        tasks::create(d, &task, created_at).expect("a generated task is valid");
        if rng.gen_bool(0.15) {
            for k in 0..rng.gen_range(1..4) {
                let text = COMMENTS.choose(&mut rng).copied().unwrap_or_default();
                let ts = created_at + (k + 1) * 3_600_000;
                tasks::add_comment(d, &id, people[who], text, &format!("n{i}x{k}"), ts)
                    .expect("a generated comment is valid");
                comments += 1;
            }
        }
        if created_in != fin {
            later.push((id, fin));
        }
    }

    // The owner's replica, still under the owner's actor: it goes on to take in everyone's.
    let mut merged = forks[0].clone();
    for f in forks.iter_mut().skip(1) {
        merged.merge(f).expect("forks of one genesis merge");
    }
    later.shuffle(&mut rng);
    let moves = later.len();
    for (k, (id, col)) in later.into_iter().enumerate() {
        let ts = start + 80 * DAY_MS + (k as i64) * (9 * DAY_MS) / moves.max(1) as i64;
        tasks::edit(&mut merged, &id, Edit::Move(cols[col].to_string(), 100_000.0 + k as f64), ts)
            .expect("a move to a default column is valid");
    }
    Board { forks, merged, tasks: n, per_column, comments, moves }
}
