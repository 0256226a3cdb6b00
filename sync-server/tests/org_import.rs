//! HR import (组织架构导入): preview shows the diff and changes nothing; apply changes exactly
//! that, atomically, with audit rows; the same file again changes nothing; a malformed file is
//! refused whole with its line; a preview made stale by another change is not applied.

mod common;
mod org_support;

use automerge::AutoCommit;
use common::*;
use org_support::*;
use qiao_model::api::{ImportCounts, ImportRejected, UserStatus};
use qiao_model::schema::directory;
use std::time::Duration;

async fn dir_chunks(relay: &Relay) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
        .bind(directory::document_id().to_string())
        .fetch_one(relay.state.store.pool())
        .await
        .expect("count chunks")
}

async fn user_count(relay: &Relay) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(relay.state.store.pool()).await.expect("count")
}

#[tokio::test]
async fn preview_then_apply_then_the_same_file_changes_nothing() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;

    let p = preview(&relay, &admin, ORG).await;
    assert_eq!(p.counts, ImportCounts { new: 6, departments_new: 4, ..ImportCounts::default() });
    assert_eq!(p.departments_new, ["Eng", "IT", "Sales", "Sales/East"]);
    assert_eq!(p.new[2].line, 4, "S3 is on line 4");
    assert_eq!(p.new[2].record.department, "Sales/East");
    assert_eq!(user_count(&relay).await, 1, "a preview changes nothing");

    let since = audit_len(&relay).await;
    let r = post_json(&relay, "/api/admin/import/apply", &admin.token, serde_json::json!({ "token": p.token })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let applied: qiao_model::api::ImportApplied = r.json();
    assert_eq!(applied.counts, p.counts);
    assert_eq!(applied.initial_passwords.len(), 6);

    // The org chart is there: a tree of departments, managers, roles.
    let org = Org {
        relay,
        admin,
        passwords: applied.initial_passwords.iter().map(|p| (p.username.clone(), p.password.clone())).collect(),
    };
    let dir = org.directory().await;
    let sales = dir.departments.iter().find(|d| d.path == "Sales").expect("Sales");
    let east = dir.departments.iter().find(|d| d.path == "Sales/East").expect("Sales/East");
    assert_eq!((east.name.as_str(), east.parent.as_ref()), ("East", Some(&sales.id)));
    let s1 = dir.users.iter().find(|u| u.username == "S1").expect("S1");
    let s3 = dir.users.iter().find(|u| u.username == "S3").expect("S3");
    assert_eq!(s3.name, "韩梅梅");
    assert_eq!(s3.department.as_ref(), Some(&east.id));
    assert_eq!(s3.manager, Some(s1.id));
    assert_eq!(s1.role, qiao_model::acl::Role::DeptAdmin);
    assert_eq!(s3.role, qiao_model::acl::Role::Employee, "no role given: employee");
    // The initial password works, once handed out.
    let s2 = org.login("S2").await;
    assert_eq!(get(&org.relay, "/api/me", &s2.token).await.status, 200);

    // Audit: 4 departments, 6 people, 1 summary, in the apply's transaction.
    let rows = audit_since(&org.relay, since).await;
    let actions: Vec<&str> = rows.iter().filter(|r| r.action != "auth.login").map(|r| r.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "directory.department_create").count(), 4);
    assert_eq!(actions.iter().filter(|a| **a == "user.create").count(), 6);
    assert_eq!(actions.iter().filter(|a| **a == "directory.import_apply").count(), 1);
    assert!(rows.iter().all(|r| r.outcome == "ok"));
    let created = rows.iter().find(|r| r.action == "user.create" && r.detail == "S3").expect("S3's row");
    assert!(created.after.as_deref().unwrap().contains("Sales/East"), "{created:?}");
    assert!(rows.iter().all(|r| !r.detail.contains(&org.passwords["S3"])), "no password in the log");

    // The same file again: an empty diff, and applying it changes nothing.
    let users_before = org.directory().await;
    let chunks_before = dir_chunks(&org.relay).await;
    let again = preview(&org.relay, &org.admin, ORG).await;
    assert_eq!(again.token, p.token, "the token is the file's hash");
    assert_eq!(again.counts, ImportCounts { unchanged: 6, ..ImportCounts::default() });
    assert!(again.new.is_empty() && again.changed.is_empty() && again.moved.is_empty() && again.deactivate.is_empty());
    let r =
        post_json(&org.relay, "/api/admin/import/apply", &org.admin.token, serde_json::json!({ "token": again.token }))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let applied: qiao_model::api::ImportApplied = r.json();
    assert_eq!(applied.counts, again.counts);
    assert!(applied.initial_passwords.is_empty());
    assert_eq!(org.directory().await, users_before);
    assert_eq!(dir_chunks(&org.relay).await, chunks_before, "the directory document did not change either");
}

#[tokio::test]
async fn a_second_file_changes_moves_deactivates_and_cuts_the_leavers_socket() {
    let org = Org::start().await;
    let relay = &org.relay;
    let s2 = org.login("S2").await;
    let mut s2_socket = relay.connect(&s2).await;
    let general = relay.general(&s2).await;
    let mut doc = chat_doc(&general, &s2);
    say(&mut doc, &s2, "还在");
    s2_socket.sync(general.head_document, &mut doc).await.expect("S2 syncs");

    // S2 leaves; S3 moves up to Sales and is promoted; 王芳 changes name; N1 joins a new team.
    let file = "employee_id,name,department,position,manager_employee_id,role\n\
        S1,销售管理员 Sales Admin,Sales,Manager,,dept_admin\n\
        S3,韩梅梅,Sales,Senior Rep,S1,\n\
        E1,Eng Admin,Eng,Lead,,dept_admin\n\
        E2,王芳芳,Eng,Dev,E1,\n\
        X1,Second Super,IT,,,super_admin\n\
        N1,New Person,Eng/Platform,Dev,E1,\n";
    let p = preview(relay, &org.admin, file).await;
    assert_eq!(
        p.counts,
        ImportCounts { new: 1, changed: 2, moved: 1, deactivate: 1, unchanged: 3, departments_new: 1 }
    );
    assert_eq!(p.moved[0].after.employee_id, "S3");
    assert_eq!((p.moved[0].before.department.as_str(), p.moved[0].after.department.as_str()), ("Sales/East", "Sales"));
    let s3_change = p.changed.iter().find(|c| c.after.employee_id == "S3").expect("S3 changed");
    assert_eq!(s3_change.fields, ["department", "position"]);
    assert_eq!(p.deactivate[0].record.employee_id, "S2");
    assert_eq!(status(relay, s2.id).await, "active", "the preview changed nothing");

    let r =
        post_json(relay, "/api/admin/import/apply", &org.admin.token, serde_json::json!({ "token": p.token })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    tokio::time::timeout(Duration::from_secs(1), s2_socket.expect_refusal())
        .await
        .expect("the leaver's socket closed within 1 s")
        .assert_says("account deactivated");
    assert_eq!(status(relay, s2.id).await, "deactivated");
    let r = relay
        .post("/api/auth/login", None, serde_json::json!({ "username": "S2", "password": org.passwords["S2"] }))
        .await;
    assert_eq!(r.status, 401, "a deactivated account cannot log in");
    assert_eq!(relay.get("/api/me", Some(&s2.token)).await.status, 401, "its sessions are revoked");

    let dir = org.directory().await;
    let s3 = dir.users.iter().find(|u| u.username == "S3").unwrap();
    assert_eq!((s3.position.as_str(), s3.department.clone()), ("Senior Rep", Some(org.dept("Sales").await)));
    let s2_row = dir.users.iter().find(|u| u.username == "S2").unwrap();
    assert_eq!(s2_row.status, UserStatus::Deactivated);
    let leaver = audit_rows(relay).await.into_iter().rev().find(|r| r.action == "user.deactivate").expect("row");
    assert_eq!(leaver.target, format!("user:{}", s2.id));
    assert!(leaver.before.as_deref().unwrap().contains("\"active\""));
    assert!(leaver.after.as_deref().unwrap().contains("\"deactivated\""));

    // Back in a later file: reactivated, and that is a change too.
    let back = format!("{file}S2,李雷,Sales,Rep,S1,\n");
    let p = preview(relay, &org.admin, &back).await;
    assert_eq!(p.counts.changed, 1);
    assert_eq!(p.changed[0].fields, ["status"]);
}

#[tokio::test]
async fn a_malformed_file_is_refused_whole_with_its_line() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let bad_csv = "employee_id,name,department\nA1,甲,Sales\nA2,乙,Sales\nA3,,Sales\nA4,丁,Eng\n";
    let bad_json = r#"[{"employee_id":"A1","name":"甲"},{"employee_id":"A2","name":"乙","manager_employee_id":"ZZ"}]"#;
    let cases: &[(&[u8], usize, &str)] = &[
        (bad_csv.as_bytes(), 4, "line 4: the name is empty"),
        (bad_json.as_bytes(), 2, "line 2: the manager ZZ is not in the file"),
        (b"employee_id,name\nA1,\xC0\xC1\n", 0, "not UTF-8"),
        (b"employee_id,name\n", 0, "no rows"),
    ];
    for (body, line, message) in cases {
        let since = audit_len(&relay).await;
        let r = request(&relay, "POST", "/api/admin/import/preview", Some(&admin.token), Some("text/csv"), body).await;
        assert_eq!(r.status, 400, "{}", r.text());
        let err: ImportRejected = r.json();
        assert_eq!(err.line, *line, "{err:?}");
        assert!(err.message.contains(message), "{:?} should say {message:?}", err.message);
        assert_eq!(err.code, "bad_request");
        if *line > 0 {
            let rows = audit_since(&relay, since).await;
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!((rows[0].action.as_str(), rows[0].outcome.as_str()), ("directory.import_preview", "refused"));
            assert!(rows[0].detail.contains(message));
        }
    }
    // Nothing was applied, nothing can be.
    assert_eq!(user_count(&relay).await, 1);
    let depts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM departments").fetch_one(relay.state.store.pool()).await.unwrap();
    assert_eq!(depts, 0);
    let token = qiao_server::actions::import::token_of(bad_csv);
    let r = post_json(&relay, "/api/admin/import/apply", &admin.token, serde_json::json!({ "token": token })).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(user_count(&relay).await, 1);
}

#[tokio::test]
async fn a_stale_preview_is_not_applied() {
    let org = Org::start().await;
    let relay = &org.relay;
    let file = ORG.replace("王芳,Eng,Dev", "王芳芳,Eng,Dev");
    let p = preview(relay, &org.admin, &file).await;
    assert_eq!(p.counts.changed, 1);
    // Meanwhile E2 is deactivated: the previewed diff is no longer what applying would do.
    let e2 = org.user_id("E2").await;
    let r = post_json(relay, &format!("/api/admin/users/{}/deactivate", e2.0), &org.admin.token, serde_json::json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let before = org.directory().await;
    let r =
        post_json(relay, "/api/admin/import/apply", &org.admin.token, serde_json::json!({ "token": p.token })).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(org.directory().await, before, "nothing applied");
    let last = audit_rows(relay).await.pop().unwrap();
    assert_eq!((last.action.as_str(), last.outcome.as_str()), ("directory.import_apply", "refused"));
}

/// Everyone can read the directory over sync (offline browsing); it follows every import; nobody
/// can write it.
#[tokio::test]
async fn the_directory_document_follows_imports_and_is_read_only() {
    let org = Org::start().await;
    let relay = &org.relay;
    let e2 = org.login("E2").await;
    let mut c = relay.connect(&e2).await;
    let mut doc = AutoCommit::new();
    let users = synced_directory(&mut c, &mut doc, 7).await;
    let wang = users.iter().find(|u| u.username == "E2").expect("E2 in the document");
    assert_eq!(wang.name, "王芳");
    assert_eq!(directory::read(&doc).0.len(), 4, "four departments");

    import(relay, &org.admin, &format!("{ORG}N1,New Person,Eng,Dev,E1,\n")).await;
    let users = synced_directory(&mut c, &mut doc, 8).await;
    assert!(users.iter().any(|u| u.username == "N1"), "the new person arrived over sync");

    // A write, even under the employee's own actor, is refused and recorded.
    doc.set_actor(qiao_model::actor::actor_for(e2.id, [9; 8]));
    let (_, users_obj) = automerge::ReadDoc::get(&doc, automerge::ROOT, "users").unwrap().unwrap();
    let (_, me) = automerge::ReadDoc::get(&doc, &users_obj, e2.id.0.to_string()).unwrap().unwrap();
    automerge::transaction::Transactable::put(&mut doc, &me, "role", "super_admin").unwrap();
    doc.commit();
    let refusal = c.sync(directory::document_id(), &mut doc).await.expect_err("the relay refuses the write");
    refusal.assert_says("read-only");
    let refused = relay.refused_audit("sync.write").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let dir = org.directory().await;
    assert_eq!(dir.users.iter().find(|u| u.id == e2.id).unwrap().role, qiao_model::acl::Role::Employee);
}

/// While an import is applied, `GET /api/admin/import/progress/{token}` says how far it has got
/// (the progress bar's source): hashing the new accounts' passwords, then writing every row;
/// the figures only grow, end complete, and the entry is gone once the apply has answered.
#[tokio::test]
async fn the_progress_of_an_apply_can_be_followed() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let employee = relay.employee("eve").await;
    let mut file = String::from("employee_id,name,department,position\n");
    for i in 0..24 {
        file.push_str(&format!("P{i:02},员工 {i},Ops/Team{},Agent\n", i % 3));
    }
    let p = preview(&relay, &admin, &file).await;
    let url = format!("/api/admin/import/progress/{}", p.token);
    assert_eq!(get(&relay, &url, &admin.token).await.status, 404, "nothing runs before the apply");

    let apply = {
        let (addr, token, body) = (relay.addr, admin.token.clone(), serde_json::json!({ "token": p.token }));
        tokio::spawn(async move { http(addr, "POST", "/api/admin/import/apply", Some(&token), Some(body)).await })
    };
    let mut seen: Vec<qiao_model::api::ImportProgress> = Vec::new();
    while !apply.is_finished() {
        let r = get(&relay, &url, &admin.token).await;
        if r.status == 200 {
            seen.push(r.json());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let r = apply.await.expect("apply task");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(&relay, &url, &admin.token).await.status, 404, "the entry ends with the apply");
    assert!(!seen.is_empty(), "the apply was observed while it ran");
    for w in seen.windows(2) {
        assert!(w[1].hashed >= w[0].hashed && w[1].written >= w[0].written, "progress only grows: {seen:?}");
    }
    let last = seen.last().expect("observed");
    assert_eq!(last.to_hash, 24, "24 initial passwords to hash");
    assert!(seen.iter().any(|s| s.fraction() > 0.0 && s.fraction() < 1.0), "an intermediate value: {seen:?}");
    // Rows: 4 departments (Ops and its three teams) and 24 people.
    assert!(seen.iter().filter(|s| s.to_write > 0).all(|s| s.to_write == 28), "{seen:?}");
    // Only super admins may look.
    assert_eq!(get(&relay, &url, &employee.token).await.status, 403);
}
