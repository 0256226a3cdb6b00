//! Surveys at the relay: a department admin builds one over sync for their department; two people
//! of it answer (one long after the other, as an answer kept offline arrives); the results and
//! the CSV add up; outsiders, second answers and answers after closing are refused; employees
//! cannot create surveys; an anonymous survey's stored answers hold nothing of who gave them.

mod common;
mod org_support;

use automerge::AutoCommit;
use common::*;
use org_support::*;
use qiao_model::actor::actor_for;
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::surveys::{self as sv, Question, QuestionKind, Survey, SurveyResults};
use serde_json::json;
use sqlx::Row;

fn board(user: UserId) -> AutoCommit {
    let mut d = sv::genesis();
    d.set_actor(actor_for(user, [7; 8]));
    d
}

fn q(id: &str, kind: QuestionKind, title: &str, options: &[&str], required: bool) -> Question {
    Question {
        id: id.into(),
        kind,
        title: title.into(),
        required,
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

fn survey(id: &str, author: &User, depts: &[&DeptId], anonymous: bool) -> Survey {
    Survey {
        id: id.into(),
        title: "食堂满意度调查".into(),
        description: "请如实填写".into(),
        questions: vec![
            q("q1", QuestionKind::Single, "午餐怎么样？", &["好", "一般", "差"], true),
            q("q2", QuestionKind::Rating, "总体评分", &[], true),
            q("q3", QuestionKind::Text, "建议", &[], false),
            q("q4", QuestionKind::Multiple, "常去哪几餐", &["早餐", "午餐", "晚餐"], false),
        ],
        depts: depts.iter().map(|d| (*d).clone()).collect(),
        anonymous,
        author: author.id,
        author_name: author.username.clone(),
        ts: 1_000,
        ..Default::default()
    }
}

async fn answer(relay: &Relay, user: &User, id: &str, body: serde_json::Value) -> Reply {
    post_json(relay, &format!("/api/surveys/{id}/answers"), &user.token, body).await
}

fn lunch(choice: u32, stars: u8, text: &str) -> serde_json::Value {
    json!({ "answers": [
        { "question": "q1", "choices": [choice] },
        { "question": "q2", "rating": stars },
        { "question": "q3", "text": text },
    ]})
}

#[tokio::test]
async fn a_department_survey_answered_twice_one_late_with_results_and_csv() {
    let org = Org::start().await;
    let relay = &org.relay;
    let id = sv::document_id();
    let sales = org.dept("Sales").await;
    let s1 = org.login("S1").await; // Sales department admin
    let s2 = org.login("S2").await; // Sales employee
    let s3 = org.login("S3").await; // Sales/East employee: a sub-department of Sales
    let e2 = org.login("E2").await; // Eng employee

    // The department admin publishes to Sales; not to everyone.
    let mut c1 = relay.connect(&s1).await;
    let mut d1 = board(s1.id);
    c1.sync(id, &mut d1).await.expect("reads");
    sv::publish(&mut d1, &survey("v1", &s1, &[&sales], false), 1_000).unwrap();
    c1.sync(id, &mut d1).await.expect("a department admin surveys their department");
    sv::publish(&mut d1, &survey("v9", &s1, &[], false), 1_000).unwrap();
    c1.sync(id, &mut d1).await.expect_err("not everyone").assert_says("own department");
    // The refused change stays on that replica; the admin goes on from the relay's copy.
    let mut d1 = board(s1.id);
    let mut c1 = relay.connect(&s1).await;
    c1.sync(id, &mut d1).await.expect("reads");
    assert_eq!(sv::list(&d1).iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["v1"]);

    // An employee cannot create one over sync.
    let mut c2 = relay.connect(&s2).await;
    let mut d2 = board(s2.id);
    c2.sync(id, &mut d2).await.expect("reads");
    assert_eq!(sv::list(&d2).iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["v1"]);
    sv::publish(&mut d2, &survey("x", &s2, &[&sales], false), 2_000).unwrap();
    c2.sync(id, &mut d2).await.expect_err("an employee may not create surveys").assert_says("read-only");

    // S3 reads the survey now and answers "offline": the answer reaches the relay only after
    // S2's, and is still taken.
    let mut c3 = relay.connect(&s3).await;
    let mut d3 = board(s3.id);
    c3.sync(id, &mut d3).await.expect("reads");
    assert!(sv::get(&d3, "v1").is_some());
    let offline_answer = json!({ "answers": [
        { "question": "q1", "choices": [2] },
        { "question": "q2", "rating": 2 },
        { "question": "q4", "choices": [0, 2] },
    ]});

    let r = answer(relay, &s2, "v1", lunch(0, 5, "希望多一些素菜")).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = answer(relay, &s2, "v1", lunch(1, 1, "再来一次")).await;
    assert_eq!(r.status, 409, "a second answer: {}", r.text());
    assert!(r.text().contains("already answered"), "{}", r.text());
    let r = answer(relay, &e2, "v1", lunch(0, 5, "")).await;
    assert_eq!(r.status, 403, "outside the department: {}", r.text());
    assert!(r.text().contains("not addressed"), "{}", r.text());
    let r = answer(relay, &s3, "v1", json!({ "answers": [{ "question": "q2", "rating": 4 }] })).await;
    assert_eq!(r.status, 400, "a required question left out: {}", r.text());
    let r = answer(relay, &s3, "v1", offline_answer).await;
    assert_eq!(r.status, 204, "the late answer: {}", r.text());
    let r = get(relay, "/api/surveys/answered", &s3.token).await;
    assert_eq!(r.json::<Vec<String>>(), ["v1"]);

    // Results: the author and super admins, nobody else.
    let r = get(relay, "/api/surveys/v1/results", &s2.token).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = get(relay, "/api/surveys/v1/results", &org.admin.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(relay, "/api/surveys/v1/results", &s1.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let res: SurveyResults = r.json();
    assert_eq!(res.responses, 2);
    assert_eq!((res.answered_targeted, res.targeted), (2, 3), "S1, S2, S3 are addressed; two answered");
    assert!((res.response_rate() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(res.questions[0].counts, [1, 0, 1]);
    assert_eq!(res.questions[1].ratings, [0, 1, 0, 0, 1]);
    assert_eq!(res.questions[1].average, Some(3.5));
    assert_eq!(res.questions[2].texts, ["希望多一些素菜"]);
    assert_eq!(res.questions[3].counts, [1, 0, 1]);
    assert_eq!(res.questions[3].answered, 1);

    let r = get(relay, "/api/surveys/v1/results.csv", &s1.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let csv = String::from_utf8(r.body.clone()).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a byte order mark for Excel");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines,
        [
            "\"respondent\",\"午餐怎么样？\",\"总体评分\",\"建议\",\"常去哪几餐\"",
            "\"李雷\",\"好\",\"5\",\"希望多一些素菜\",\"\"",
            "\"韩梅梅\",\"差\",\"2\",\"\",\"早餐; 晚餐\"",
        ]
    );
    assert_eq!(get(relay, "/api/surveys/v1/results.csv", &s3.token).await.status, 403);

    // Closed with the close button (over sync, by the author): no more answers.
    let r = answer(relay, &s1, "v1", lunch(0, 4, "")).await;
    assert_eq!(r.status, 204, "the admin is in Sales too: {}", r.text());
    sv::close(&mut d1, "v1", 5_000).unwrap();
    c1.sync(id, &mut d1).await.expect("the author closes it");
    let mut late = board(s3.id);
    c3.sync(id, &mut late).await.expect("reads");
    assert!(!sv::get(&late, "v1").unwrap().is_open(0));
    let s3_again = answer(relay, &s3, "v1", lunch(0, 4, "")).await;
    assert_eq!(s3_again.status, 409, "{}", s3_again.text());
    // A survey past its close date.
    let mut old = survey("v2", &s1, &[&sales], false);
    old.close_at = 2_000;
    sv::publish(&mut d1, &old, 1_000).unwrap();
    c1.sync(id, &mut d1).await.expect("publishes");
    let r = answer(relay, &s2, "v2", lunch(0, 4, "")).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("closed"), "{}", r.text());
    // An employee closing someone's survey over sync: refused.
    let mut dd = board(s2.id);
    c2 = relay.connect(&s2).await;
    c2.sync(id, &mut dd).await.expect("reads");
    sv::close(&mut dd, "v2", 6_000).unwrap();
    c2.sync(id, &mut dd).await.expect_err("read-only").assert_says("read-only");
    let r = get(relay, "/api/surveys/nope/results", &s1.token).await;
    assert_eq!(r.status, 404, "{}", r.text());

    // With the suggestions module (意见箱, surveys included) off: no answers, no results, no
    // document.
    let r = put_json(relay, "/api/admin/modules", &org.admin.token, json!({ "suggestions": false })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = answer(relay, &s2, "v1", lunch(0, 4, "")).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("turned off"), "{}", r.text());
    assert_eq!(get(relay, "/api/surveys/v1/results", &s1.token).await.status, 403);
    let mut fresh = board(s1.id);
    let mut c = relay.connect(&s1).await;
    let _ = c.sync(id, &mut fresh).await;
    assert!(c.unavailable.contains(&id), "the document is unavailable while the module is off");
    assert!(sv::list(&fresh).is_empty(), "and nothing of it arrives");
}

#[tokio::test]
async fn an_anonymous_surveys_stored_answers_hold_no_respondent() {
    let org = Org::start().await;
    let relay = &org.relay;
    let id = sv::document_id();
    let admin = &org.admin;
    let s2 = org.login("S2").await;
    let e2 = org.login("E2").await;

    let mut c = relay.connect(admin).await;
    let mut d = board(admin.id);
    c.sync(id, &mut d).await.expect("reads");
    sv::publish(&mut d, &survey("anon", admin, &[], true), 1_000).unwrap();
    c.sync(id, &mut d).await.expect("a super admin surveys everyone");
    // Anonymity cannot be switched off afterwards.
    let mut turned = d.fork().with_actor(actor_for(admin.id, [8; 8]));
    {
        use automerge::transaction::Transactable;
        use automerge::{ROOT, ReadDoc};
        let items = turned.get(ROOT, "items").unwrap().unwrap().1;
        let o = turned.get(&items, "anon").unwrap().unwrap().1;
        turned.put(&o, "anonymous", false).unwrap();
        turned.commit();
    }
    c.sync(id, &mut turned).await.expect_err("frozen").assert_says("set when it is created");

    let texts = [("S2", &s2, "领导开会太多ZQX1"), ("E2", &e2, "加班费不透明ZQX2")];
    for (_, u, text) in &texts {
        let r = answer(relay, u, "anon", lunch(1, 3, text)).await;
        assert_eq!(r.status, 204, "{}", r.text());
    }
    assert_eq!(answer(relay, &s2, "anon", lunch(1, 3, "again")).await.status, 409, "still only once");

    // The answers table: no user ids, no time, nothing beyond the key, survey and answers.
    let pool = relay.state.store.pool();
    let cols: Vec<String> = sqlx::query("PRAGMA table_info(survey_answers)")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect();
    assert_eq!(cols, ["id", "survey_id", "user_id", "answers"]);
    let rows = sqlx::query("SELECT id, user_id, answers FROM survey_answers WHERE survey_id = 'anon'")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r.get::<Option<i64>, _>("user_id"), None);
        let answers: String = r.get("answers");
        let key: String = r.get("id");
        assert_eq!(key.len(), 32, "a random key, not a sequence");
        for (name, u, _) in &texts {
            assert!(!answers.contains(name) && !answers.contains(&format!("\"{}\"", u.id.0)), "{answers}");
        }
    }
    let without_rowid: Vec<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name IN ('survey_answers', 'survey_respondents')")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(without_rowid.iter().all(|s| s.contains("WITHOUT ROWID")), "{without_rowid:?}");

    // The database files as bytes: around each answer's text (its row), no respondent's
    // username or id written next to it.
    let dir = relay.state.config.data_dir.clone();
    let mut found = 0;
    for f in ["qiao.db", "qiao.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join(f)) else { continue };
        for (name, u, text) in &texts {
            let needle = text.as_bytes();
            for at in bytes.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i) {
                found += 1;
                let row = &bytes[at.saturating_sub(120)..(at + needle.len() + 120).min(bytes.len())];
                let row = String::from_utf8_lossy(row);
                for (other, v, _) in &texts {
                    assert!(!row.contains(other), "{f}: {name}'s answer lies next to the username {other}: {row}");
                    assert!(!row.contains(&format!("\"user\":{}", v.id.0)), "{f}: {row}");
                }
                let _ = u;
            }
        }
    }
    assert!(found >= 2, "the answers are in the files");

    // Results and the CSV: counted, no respondent column.
    let res: SurveyResults = get(relay, "/api/surveys/anon/results", &admin.token).await.json();
    assert_eq!(res.responses, 2);
    assert_eq!(res.questions[0].counts, [0, 2, 0]);
    let csv = String::from_utf8(get(relay, "/api/surveys/anon/results.csv", &admin.token).await.body).unwrap();
    let first = csv.trim_start_matches('\u{feff}').lines().next().unwrap().to_string();
    assert!(!first.contains("respondent"), "{first}");
    assert!(!csv.contains("李雷") && !csv.contains("王芳"), "{csv}");
}
