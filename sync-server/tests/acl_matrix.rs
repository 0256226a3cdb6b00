//! The permission matrix at the relay, table-driven: 3 roles × same/other department × each
//! admin action over REST, and each role against the directory document over sync.
//!
//! Every case asserts: allowed → the effect happened (and an `ok` audit row where the action is
//! audited); refused → 403 with a message that says why, exactly one `refused` audit row naming
//! the actor, and no side effect.

mod common;
mod org_support;

use automerge::AutoCommit;

use org_support::*;
use qiao_model::acl::Role;
use qiao_model::api::{ApiError, ClientSettings, ModuleStates};
use qiao_model::ids::UserId;
use qiao_model::schema::directory;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Super,
    /// S1, department admin of Sales.
    SalesAdmin,
    /// S2, employee in Sales.
    SalesEmployee,
}

/// Whose account a deactivation aims at (a fresh account per case, except `Myself`).
#[derive(Clone, Copy, Debug)]
enum Target {
    EmployeeSameDept,
    EmployeeOtherDept,
    AdminSameDept,
    AdminOtherDept,
    SuperAdmin,
    Myself,
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Deactivate(Target),
    ReadAudit,
    ExportAudit,
    VerifyAudit,
    ToggleModule,
    SetClientSettings,
    PreviewImport,
    ReadDirectory,
    ReadModules,
    ReadClientSettings,
    ListSessions,
}

/// Refused: the audit action of the refusal row, and what the message must say.
type Expect = Result<(), (&'static str, &'static str)>;

const OK: Expect = Ok(());
const NEEDS_SUPER: Expect = Err(("admin.access", "only a super admin"));
const NEEDS_ADMIN: Expect = Err(("admin.access", "only a department admin"));
const OTHER_DEPT: Expect = Err(("user.deactivate", "only within your own department"));
const ROLE: Expect = Err(("user.deactivate", "your role may not do this"));
const OWN: Expect = Err(("user.deactivate", "not on your own account"));

fn cases() -> Vec<(Who, Action, Expect)> {
    use Action::*;
    use Target::*;
    use Who::*;
    vec![
        // Deactivation: role × target's role × same/other department.
        (Super, Deactivate(EmployeeSameDept), OK),
        (Super, Deactivate(EmployeeOtherDept), OK),
        (Super, Deactivate(AdminSameDept), OK),
        (Super, Deactivate(AdminOtherDept), OK),
        (Super, Deactivate(SuperAdmin), OK),
        (Super, Deactivate(Myself), OWN),
        (SalesAdmin, Deactivate(EmployeeSameDept), OK),
        (SalesAdmin, Deactivate(EmployeeOtherDept), OTHER_DEPT),
        (SalesAdmin, Deactivate(AdminSameDept), ROLE),
        (SalesAdmin, Deactivate(AdminOtherDept), ROLE),
        (SalesAdmin, Deactivate(SuperAdmin), ROLE),
        (SalesAdmin, Deactivate(Myself), OWN),
        (SalesEmployee, Deactivate(EmployeeSameDept), NEEDS_ADMIN),
        (SalesEmployee, Deactivate(EmployeeOtherDept), NEEDS_ADMIN),
        (SalesEmployee, Deactivate(AdminSameDept), NEEDS_ADMIN),
        (SalesEmployee, Deactivate(Myself), NEEDS_ADMIN),
        // System settings, audit log, org import: super admins only.
        (Super, ReadAudit, OK),
        (SalesAdmin, ReadAudit, NEEDS_SUPER),
        (SalesEmployee, ReadAudit, NEEDS_SUPER),
        (Super, ExportAudit, OK),
        (SalesAdmin, ExportAudit, NEEDS_SUPER),
        (SalesEmployee, ExportAudit, NEEDS_SUPER),
        (Super, VerifyAudit, OK),
        (SalesAdmin, VerifyAudit, NEEDS_SUPER),
        (SalesEmployee, VerifyAudit, NEEDS_SUPER),
        (Super, ToggleModule, OK),
        (SalesAdmin, ToggleModule, NEEDS_SUPER),
        (SalesEmployee, ToggleModule, NEEDS_SUPER),
        (Super, SetClientSettings, OK),
        (SalesAdmin, SetClientSettings, NEEDS_SUPER),
        (SalesEmployee, SetClientSettings, NEEDS_SUPER),
        (Super, PreviewImport, OK),
        (SalesAdmin, PreviewImport, NEEDS_SUPER),
        (SalesEmployee, PreviewImport, NEEDS_SUPER),
        // What everyone may read.
        (Super, ReadDirectory, OK),
        (SalesAdmin, ReadDirectory, OK),
        (SalesEmployee, ReadDirectory, OK),
        (SalesEmployee, ReadModules, OK),
        (SalesEmployee, ReadClientSettings, OK),
        (SalesAdmin, ListSessions, OK),
        (SalesEmployee, ListSessions, OK),
    ]
}

/// Observable state an action may change, compared before and after a refused one.
#[derive(Debug, PartialEq)]
struct World {
    statuses: Vec<(i64, String)>,
    modules: ModuleStates,
    settings: ClientSettings,
    previews: i64,
}

async fn world(org: &Org) -> World {
    let pool = org.relay.state.store.pool();
    World {
        statuses: sqlx::query_as("SELECT id, status FROM users ORDER BY id").fetch_all(pool).await.unwrap(),
        modules: org.relay.state.store.modules().await.unwrap(),
        settings: qiao_server::actions::settings::client_settings(&org.relay.state).await.unwrap(),
        previews: sqlx::query_scalar("SELECT COUNT(*) FROM import_previews").fetch_one(pool).await.unwrap(),
    }
}

#[tokio::test]
async fn rest_permission_matrix() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (sales, eng) = (org.dept("Sales").await, org.dept("Eng").await);
    let users = [
        (Who::Super, org.admin.clone()),
        (Who::SalesAdmin, org.login("S1").await),
        (Who::SalesEmployee, org.login("S2").await),
    ];
    let mut failures = Vec::new();
    for (n, (who, action, expect)) in cases().into_iter().enumerate() {
        let me = &users.iter().find(|(w, _)| *w == who).unwrap().1;
        let tok = me.token.as_str();
        // Fresh targets per case, so an allowed deactivation does not affect the next case.
        let target = match action {
            Action::Deactivate(t) => Some(match t {
                Target::EmployeeSameDept => org.make_user(&format!("t{n}"), Role::Employee, Some(&sales)).await,
                Target::EmployeeOtherDept => org.make_user(&format!("t{n}"), Role::Employee, Some(&eng)).await,
                Target::AdminSameDept => org.make_user(&format!("t{n}"), Role::DeptAdmin, Some(&sales)).await,
                Target::AdminOtherDept => org.make_user(&format!("t{n}"), Role::DeptAdmin, Some(&eng)).await,
                Target::SuperAdmin => org.make_user(&format!("t{n}"), Role::SuperAdmin, None).await,
                Target::Myself => me.id,
            }),
            _ => None,
        };
        let before = world(&org).await;
        let since = audit_len(relay).await;

        let (reply, ok_audit) = match action {
            Action::Deactivate(_) => {
                let path = format!("/api/admin/users/{}/deactivate", target.unwrap().0);
                (post_json(relay, &path, tok, serde_json::json!({})).await, Some("user.deactivate"))
            }
            Action::ReadAudit => (get(relay, "/api/admin/audit?limit=5", tok).await, None),
            Action::ExportAudit => (get(relay, "/api/admin/audit.csv", tok).await, Some("audit.export")),
            Action::VerifyAudit => (get(relay, "/api/admin/audit/verify", tok).await, Some("audit.verify")),
            Action::ToggleModule => (
                put_json(relay, "/api/admin/modules", tok, serde_json::json!({ "tasks": false })).await,
                Some("settings.modules"),
            ),
            Action::SetClientSettings => (
                put_json(
                    relay,
                    "/api/admin/settings/client",
                    tok,
                    serde_json::json!({ "offline_cache_expiry_days": 7 }),
                )
                .await,
                Some("settings.client"),
            ),
            Action::PreviewImport => {
                (post_file(relay, "/api/admin/import/preview", tok, ORG).await, Some("directory.import_preview"))
            }
            Action::ReadDirectory => (get(relay, "/api/directory", tok).await, None),
            Action::ReadModules => (get(relay, "/api/modules", tok).await, None),
            Action::ReadClientSettings => (get(relay, "/api/settings/client", tok).await, None),
            Action::ListSessions => (get(relay, "/api/sessions", tok).await, None),
        };
        let rows = audit_since(relay, since).await;
        let after = world(&org).await;
        let case = format!("case {n}: {who:?} {action:?}");

        match expect {
            Ok(()) => {
                if reply.status != 200 {
                    failures.push(format!("{case}: expected 200, got {} {}", reply.status, reply.text()));
                    continue;
                }
                if let Some(a) = ok_audit
                    && !rows.iter().any(|r| r.action == a && r.outcome == "ok" && r.user == Some(me.id.0))
                {
                    failures.push(format!("{case}: no ok audit row {a}: {rows:?}"));
                }
                // The effect, then undo it for the next case.
                match action {
                    Action::Deactivate(_) if status(relay, target.unwrap()).await != "deactivated" => {
                        failures.push(format!("{case}: target still active"));
                    }
                    Action::ToggleModule => {
                        if after.modules.get(&qiao_model::acl::Module::Tasks) != Some(&false) {
                            failures.push(format!("{case}: tasks still on"));
                        }
                        put_json(relay, "/api/admin/modules", &org.admin.token, serde_json::json!({ "tasks": true }))
                            .await;
                    }
                    Action::SetClientSettings => {
                        if after.settings.offline_cache_expiry_days != Some(7) {
                            failures.push(format!("{case}: setting not stored"));
                        }
                        let reset = serde_json::json!({ "offline_cache_expiry_days": null });
                        put_json(relay, "/api/admin/settings/client", &org.admin.token, reset).await;
                    }
                    Action::ExportAudit if !reply.body.starts_with("\u{feff}id,".as_bytes()) => {
                        failures.push(format!("{case}: not our CSV"));
                    }
                    _ => {}
                }
            }
            Err((audit_action, needle)) => {
                if reply.status != 403 {
                    failures.push(format!("{case}: expected 403, got {} {}", reply.status, reply.text()));
                    continue;
                }
                let err: ApiError = reply.json();
                if err.code != "forbidden" || !err.message.contains(needle) {
                    failures.push(format!("{case}: error {err:?} should say {needle:?}"));
                }
                match rows.as_slice() {
                    [r] if r.action == audit_action && r.outcome == "refused" && r.user == Some(me.id.0) => {}
                    other => failures.push(format!("{case}: expected one refused {audit_action} row, got {other:?}")),
                }
                if before != after {
                    failures.push(format!("{case}: side effect\n before {before:?}\n after  {after:?}"));
                }
                if reply.text().contains("hash") || reply.text().contains("employee_id") {
                    failures.push(format!("{case}: the refusal leaks data: {}", reply.text()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases().len(), failures.join("\n"));
}

/// Nobody sees password hashes or sessions in the directory.
#[tokio::test]
async fn the_directory_holds_no_secrets() {
    let org = Org::start().await;
    let s2 = org.login("S2").await;
    let r = get(&org.relay, "/api/directory", &s2.token).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    for secret in ["argon2", "password", "token", "session"] {
        assert!(!text.contains(secret), "the directory mentions {secret}: {text}");
    }
    let dir: qiao_model::api::Directory = r.json();
    assert_eq!(dir.users.len(), 7);
    assert_eq!(dir.document, directory::document_id());
}

/// Each role against the directory document over sync: every role reads it, no role writes it
/// (refused, connection closed, one `sync.write` row, nothing stored).
#[tokio::test]
async fn sync_permission_matrix_for_the_directory() {
    let org = Org::start().await;
    let relay = &org.relay;
    let id = directory::document_id();
    let users = [org.admin.clone(), org.login("S1").await, org.login("S2").await];
    for user in &users {
        let mut c = relay.connect(user).await;
        let mut doc = AutoCommit::new();
        let people = synced_directory(&mut c, &mut doc, 7).await;
        assert!(people.iter().any(|p| p.id == user.id), "{} reads the directory", user.username);

        let chunks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
            .bind(id.to_string())
            .fetch_one(relay.state.store.pool())
            .await
            .unwrap();
        let since = audit_len(relay).await;
        doc.set_actor(qiao_model::actor::actor_for(user.id, [7; 8]));
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "kind", "hacked").unwrap();
        doc.commit();
        c.sync(id, &mut doc).await.expect_err("refused").assert_says("read-only");
        let rows = audit_since(relay, since).await;
        assert!(
            rows.len() == 1
                && rows[0].action == "sync.write"
                && rows[0].outcome == "refused"
                && rows[0].user == Some(user.id.0),
            "{}: {rows:?}",
            user.username
        );
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
            .bind(id.to_string())
            .fetch_one(relay.state.store.pool())
            .await
            .unwrap();
        assert_eq!(after, chunks, "{}: nothing stored", user.username);
    }
    // A change under the relay's own actor (user 0) is refused like any other foreign actor.
    let s2 = &users[2];
    let mut c = relay.connect(s2).await;
    let mut doc = AutoCommit::new();
    synced_directory(&mut c, &mut doc, 7).await;
    doc.set_actor(qiao_model::actor::actor_for(UserId(0), [1; 8]));
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "kind", "forged").unwrap();
    doc.commit();
    c.sync(id, &mut doc).await.expect_err("refused");
}

/// Each role against a project's board over sync and its membership over REST: a member of any
/// role reads and writes; a non-member reads a company-visible board but may not write it (one
/// `sync.write` row, nothing stored); a private board is `doc-unavailable` to a non-member of any
/// role, super admins included (one `sync.read` row); only the owner and super admins manage
/// members (one refused `project.member_add` row otherwise, nobody added).
#[tokio::test]
async fn project_board_matrix() {
    use crate::common::{Event, STEP, first_sync_bytes, http};
    use qiao_model::api::ProjectSummary;
    use qiao_model::protocol::Message;
    use qiao_model::schema::tasks;
    let org = Org::start().await;
    let relay = &org.relay;
    let owner = org.login("E2").await;
    let users = [
        (Who::Super, org.admin.clone()),
        (Who::SalesAdmin, org.login("S1").await),
        (Who::SalesEmployee, org.login("S2").await),
    ];
    let create = |body: serde_json::Value| {
        let token = owner.token.clone();
        async move {
            let r = post_json(relay, "/api/projects", &token, body).await;
            assert_eq!(r.status, 200, "{}", r.text());
            r.json::<ProjectSummary>()
        }
    };
    let member_ids: Vec<i64> = users.iter().map(|(_, u)| u.id.0).collect();
    let shared = create(serde_json::json!({ "name": "shared", "members": member_ids })).await;
    let company = create(serde_json::json!({ "name": "company", "visibility": "company" })).await;
    let private = create(serde_json::json!({ "name": "private" })).await;
    // Something on each board to read (and to leak, if a rule were wrong).
    for p in [&shared, &company, &private] {
        let mut c = relay.connect(&owner).await;
        let mut doc = tasks::genesis(&p.id);
        doc.set_actor(qiao_model::actor::actor_for(owner.id, [1; 8]));
        let t = tasks::Task {
            id: "t1".into(),
            title: "secret plan".into(),
            column: "todo".into(),
            order: 1.0,
            created_by: owner.id,
            ..Default::default()
        };
        tasks::create(&mut doc, &t, 1_000).unwrap();
        c.sync(p.document, &mut doc).await.expect("the owner writes");
    }
    let chunks = |p: &ProjectSummary| {
        let id = p.document.to_string();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
                .bind(id)
                .fetch_one(relay.state.store.pool())
                .await
                .unwrap()
        }
    };
    let mut failures = Vec::new();
    for (who, user) in &users {
        // Member of `shared`: reads and writes.
        let mut c = relay.connect(user).await;
        let mut doc = tasks::genesis(&shared.id);
        doc.set_actor(qiao_model::actor::actor_for(user.id, [2; 8]));
        c.sync(shared.document, &mut doc).await.expect("a member reads");
        if tasks::tasks(&doc).len() != 1 {
            failures.push(format!("{who:?}: member does not see the task"));
        }
        tasks::edit(&mut doc, "t1", tasks::Edit::Move("doing".into(), 1.0), 2_000).unwrap();
        if let Err(e) = c.sync(shared.document, &mut doc).await {
            failures.push(format!("{who:?}: a member's write refused: {e:?}"));
        }

        // Company-visible, not a member: reads, may not write.
        let mut c = relay.connect(user).await;
        let mut doc = tasks::genesis(&company.id);
        doc.set_actor(qiao_model::actor::actor_for(user.id, [3; 8]));
        c.sync(company.document, &mut doc).await.expect("a company board is readable");
        if tasks::tasks(&doc).len() != 1 {
            failures.push(format!("{who:?}: cannot read the company board"));
        }
        let before = chunks(&company).await;
        let since = audit_len(relay).await;
        tasks::edit(&mut doc, "t1", tasks::Edit::Title("changed".into()), 3_000).unwrap();
        match c.sync(company.document, &mut doc).await {
            Err(r) if r.error.as_deref().is_some_and(|e| e.contains("read-only")) => {}
            other => failures.push(format!("{who:?}: write to a company board by a non-member: {other:?}")),
        }
        let rows = audit_since(relay, since).await;
        if !(rows.len() == 1 && rows[0].action == "sync.write" && rows[0].user == Some(user.id.0)) {
            failures.push(format!("{who:?}: expected one sync.write row, got {rows:?}"));
        }
        if chunks(&company).await != before {
            failures.push(format!("{who:?}: a refused write was stored"));
        }

        // Private, not a member: unavailable, whatever the role.
        let mut c = relay.connect(user).await;
        let mut doc = tasks::genesis(&private.id);
        let since = audit_len(relay).await;
        c.send(&c.sync_frame(private.document, first_sync_bytes(&mut doc), true)).await.expect("send");
        loop {
            match c.next_event(STEP).await {
                Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == private.document => break,
                Event::Msg(Message::Sync { document_id, .. }) if document_id == private.document => {
                    failures.push(format!("{who:?}: sync data about a private board"));
                    break;
                }
                Event::Msg(_) => {}
                other => {
                    failures.push(format!("{who:?}: expected doc-unavailable, got {other:?}"));
                    break;
                }
            }
        }
        let rows = audit_since(relay, since).await;
        if !rows.iter().any(|r| r.action == "sync.read" && r.outcome == "refused" && r.user == Some(user.id.0)) {
            failures.push(format!("{who:?}: no refused sync.read row: {rows:?}"));
        }

        // Membership of `company`: the owner and super admins only.
        let since = audit_len(relay).await;
        let path = format!("/api/projects/{}/members", company.id);
        let r = post_json(relay, &path, &user.token, serde_json::json!({ "user": user.id })).await;
        let rows = audit_since(relay, since).await;
        let added = relay.state.store.project_role(&company.id, user.id).await.unwrap().is_some();
        match who {
            Who::Super => {
                if r.status != 204 || !added {
                    failures.push(format!("{who:?}: a super admin could not add: {} {}", r.status, r.text()));
                }
                http(relay.addr, "DELETE", &format!("{path}/{}", user.id), Some(&org.admin.token), None).await;
            }
            _ => {
                if r.status != 403 || added {
                    failures.push(format!("{who:?}: adding oneself: {} {} (added: {added})", r.status, r.text()));
                }
                if !(rows.len() == 1 && rows[0].action == "project.member_add" && rows[0].outcome == "refused") {
                    failures.push(format!("{who:?}: expected one refused project.member_add row, got {rows:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// What a case expects of one role against one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum May {
    /// `doc-unavailable`, no data, one refused `sync.read` row.
    Nothing,
    /// Reads; its change is refused (one refused `sync.write` row) and not stored.
    Read,
    /// Reads, and its change is stored.
    Write,
}

/// Every kind of document over sync, table-driven: 3 roles (super admin, Sales department admin,
/// Sales employee) × each document kind, including same and other department where the rule
/// depends on it. Each case reads, then tries the change the kind's UI would make.
#[tokio::test]
async fn sync_matrix_by_document_kind() {
    use crate::common::{Event, STEP, chat_doc, first_sync_bytes, say};
    use May::*;
    use qiao_model::api::{ChannelSummary, KbSpace};
    use qiao_model::ids::DocumentId;
    use qiao_model::protocol::Message;
    use qiao_model::schema::{announcements as ann, chat, kb, user_state};

    let org = Org::start().await;
    let relay = &org.relay;
    let (sales, _eng) = (org.dept("Sales").await, org.dept("Eng").await);
    let e1 = org.login("E1").await; // Eng department admin
    let users = [
        (Who::Super, org.admin.clone()),
        (Who::SalesAdmin, org.login("S1").await),
        (Who::SalesEmployee, org.login("S2").await),
    ];
    let general: ChannelSummary = relay.general(&users[2].1).await;
    let r = post_json(relay, "/api/channels", &e1.token, serde_json::json!({ "name": "eng-private", "private": true }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let private: ChannelSummary = r.json();
    let spaces: Vec<KbSpace> = get(relay, "/api/kb/spaces", &org.admin.token).await.json();
    let company = spaces.iter().find(|s| s.dept.is_none()).unwrap().clone();
    let r =
        post_json(relay, "/api/kb/spaces", &users[1].1.token, serde_json::json!({ "name": "Sales KB", "dept": sales }))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sales_space: KbSpace = r.json();
    // A page in the Sales space, named by its tree (so the relay serves it).
    {
        let mut c = relay.connect(&users[1].1).await;
        let mut tree = kb::space_genesis(&sales_space.id);
        tree.set_actor(qiao_model::actor::actor_for(users[1].1.id, [1; 8]));
        let meta = kb::PageMeta { id: "pg".into(), title: "Pricing".into(), ..Default::default() };
        kb::create_page(&mut tree, &meta, 1_000).unwrap();
        c.sync(sales_space.document, &mut tree).await.expect("the department admin writes its tree");
    }
    let other_state = user_state::doc_id(e1.id);

    #[derive(Clone, Copy, Debug)]
    enum Doc {
        PublicChannel,
        OtherTeamsPrivateChannel,
        CompanyKbTree,
        SalesKbTree,
        SalesKbPageText,
        SalesKbPageComment,
        AnnouncementToAll,
        AnnouncementToSales,
        AnnouncementAck,
        SomeoneElsesState,
    }
    use Doc::*;
    let cases: Vec<(Who, Doc, May)> = vec![
        (Who::Super, PublicChannel, Write),
        (Who::SalesAdmin, PublicChannel, Write),
        (Who::SalesEmployee, PublicChannel, Write),
        (Who::Super, OtherTeamsPrivateChannel, Nothing),
        (Who::SalesAdmin, OtherTeamsPrivateChannel, Nothing),
        (Who::SalesEmployee, OtherTeamsPrivateChannel, Nothing),
        (Who::Super, CompanyKbTree, Write),
        (Who::SalesAdmin, CompanyKbTree, Read),
        (Who::SalesEmployee, CompanyKbTree, Read),
        (Who::Super, SalesKbTree, Write),
        (Who::SalesAdmin, SalesKbTree, Write),
        (Who::SalesEmployee, SalesKbTree, Read),
        (Who::Super, SalesKbPageText, Write),
        (Who::SalesAdmin, SalesKbPageText, Write),
        (Who::SalesEmployee, SalesKbPageText, Read),
        (Who::Super, SalesKbPageComment, Write),
        (Who::SalesAdmin, SalesKbPageComment, Write),
        (Who::SalesEmployee, SalesKbPageComment, Write),
        (Who::Super, AnnouncementToAll, Write),
        (Who::SalesAdmin, AnnouncementToAll, Read),
        (Who::SalesEmployee, AnnouncementToAll, Read),
        (Who::Super, AnnouncementToSales, Write),
        (Who::SalesAdmin, AnnouncementToSales, Write),
        (Who::SalesEmployee, AnnouncementToSales, Read),
        (Who::Super, AnnouncementAck, Write),
        (Who::SalesAdmin, AnnouncementAck, Write),
        (Who::SalesEmployee, AnnouncementAck, Write),
        (Who::Super, SomeoneElsesState, Nothing),
        (Who::SalesAdmin, SomeoneElsesState, Nothing),
        (Who::SalesEmployee, SomeoneElsesState, Nothing),
    ];
    let mut failures = Vec::new();
    for (n, (who, doc, want)) in cases.into_iter().enumerate() {
        let user = &users.iter().find(|(w, _)| *w == who).unwrap().1;
        let actor = qiao_model::actor::actor_for(user.id, [n as u8 + 10; 8]);
        let case = format!("case {n}: {who:?} {doc:?} expecting {want:?}");
        // The document, a local replica, and the change this role tries.
        let (id, mut replica): (DocumentId, automerge::AutoCommit) = match doc {
            PublicChannel => (general.head_document, chat_doc(&general, user)),
            OtherTeamsPrivateChannel => (private.head_document, chat_doc(&private, user)),
            CompanyKbTree => (company.document, kb::space_genesis(&company.id)),
            SalesKbTree => (sales_space.document, kb::space_genesis(&sales_space.id)),
            SalesKbPageText | SalesKbPageComment => {
                (kb::page_doc_id(&sales_space.id, "pg"), kb::page_genesis(&sales_space.id, "pg"))
            }
            AnnouncementToAll | AnnouncementToSales | AnnouncementAck => (ann::document_id(), ann::genesis()),
            SomeoneElsesState => (other_state, user_state::genesis(e1.id)),
        };
        replica.set_actor(actor);
        let since = audit_len(relay).await;
        let mut c = relay.connect(user).await;
        if want == Nothing {
            c.send(&c.sync_frame(id, first_sync_bytes(&mut replica), true)).await.expect("send");
            let mut ok = false;
            loop {
                match c.next_event(STEP).await {
                    Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => {
                        ok = true;
                        break;
                    }
                    Event::Msg(Message::Sync { document_id, .. }) if document_id == id => break,
                    Event::Msg(_) => {}
                    _ => break,
                }
            }
            let rows = audit_since(relay, since).await;
            if !ok {
                failures.push(format!("{case}: not doc-unavailable"));
            }
            if !rows.iter().any(|r| r.action == "sync.read" && r.outcome == "refused" && r.user == Some(user.id.0)) {
                failures.push(format!("{case}: no refused sync.read row: {rows:?}"));
            }
            continue;
        }
        if let Err(e) = c.sync(id, &mut replica).await {
            failures.push(format!("{case}: cannot read: {e:?}"));
            continue;
        }
        let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
            .bind(id.to_string())
            .fetch_one(relay.state.store.pool())
            .await
            .unwrap();
        let since = audit_len(relay).await;
        let now = 1_000_000 + n as i64;
        match doc {
            PublicChannel | OtherTeamsPrivateChannel => say(&mut replica, user, &format!("case {n}")),
            CompanyKbTree | SalesKbTree => {
                let meta = kb::PageMeta { id: format!("p{n}"), title: format!("case {n}"), ..Default::default() };
                kb::create_page(&mut replica, &meta, now).unwrap();
            }
            SalesKbPageText => kb::write_blocks(
                &mut replica,
                &[kb::Block::plain(kb::BlockKind::Paragraph, &format!("changed in case {n}"))],
                now,
            )
            .unwrap(),
            SalesKbPageComment => kb::add_comment(&mut replica, user.id, "a question", &n.to_string(), now).unwrap(),
            AnnouncementToAll | AnnouncementToSales => {
                let dept = if matches!(doc, AnnouncementToSales) { sales.0.clone() } else { String::new() };
                let a = ann::Announcement {
                    id: format!("a{n}"),
                    title: "t".into(),
                    body: "b".into(),
                    dept,
                    author: user.id,
                    ts: now,
                    ..Default::default()
                };
                ann::publish(&mut replica, &a, now).unwrap();
            }
            AnnouncementAck => {
                // Something to acknowledge: the super admin's announcement of an earlier case.
                let target = ann::list(&replica).first().map(|a| a.id.clone()).expect("an announcement to acknowledge");
                ann::acknowledge(&mut replica, &target, user.id, now).unwrap();
            }
            SomeoneElsesState => unreachable!(),
        }
        let result = c.sync(id, &mut replica).await;
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?")
            .bind(id.to_string())
            .fetch_one(relay.state.store.pool())
            .await
            .unwrap();
        let rows = audit_since(relay, since).await;
        match (want, result) {
            (Write, Ok(())) if after > before => {}
            (Write, other) => failures.push(format!("{case}: the change was not accepted: {other:?}")),
            (Read, Err(r)) if r.error.is_some() => {
                if after != before {
                    failures.push(format!("{case}: a refused change was stored"));
                }
                if !(rows.len() == 1 && rows[0].action == "sync.write" && rows[0].outcome == "refused") {
                    failures.push(format!("{case}: expected one refused sync.write row, got {rows:?}"));
                }
            }
            (Read, other) => failures.push(format!("{case}: the change was not refused: {other:?}")),
            (Nothing, _) => unreachable!(),
        }
    }
    let _ = chat::SEGMENT_CAPACITY;
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
