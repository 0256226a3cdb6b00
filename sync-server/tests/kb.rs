//! The knowledge base at the relay: everyone reads every space and comments on pages; only the
//! matrix's editors (super admins anywhere, department admins in their department's space) and
//! people granted by them change pages; a page made offline becomes available once its space
//! names it.

mod common;
mod org_support;

use automerge::AutoCommit;
use common::*;
use org_support::*;
use qiao_model::actor::actor_for;
use qiao_model::api::KbSpace;
use qiao_model::ids::UserId;
use qiao_model::protocol::Message;
use qiao_model::schema::kb::{self, Block, BlockKind, PageMeta};

fn space_doc(space: &str, user: UserId) -> AutoCommit {
    let mut d = kb::space_genesis(space);
    d.set_actor(actor_for(user, [5; 8]));
    d
}

fn page_doc(space: &str, page: &str, user: UserId) -> AutoCommit {
    let mut d = kb::page_genesis(space, page);
    d.set_actor(actor_for(user, [6; 8]));
    d
}

async fn spaces(relay: &Relay, user: &User) -> Vec<KbSpace> {
    let r = get(relay, "/api/kb/spaces", &user.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn editors_write_everyone_reads_and_comments() {
    let org = Org::start().await;
    let relay = &org.relay;
    let admin = &org.admin;
    let s2 = org.login("S2").await;
    let company = spaces(relay, admin).await.into_iter().find(|s| s.dept.is_none()).expect("a company space");
    assert!(company.editable);
    assert!(!spaces(relay, &s2).await.iter().find(|s| s.id == company.id).expect("listed").editable);

    // The super admin writes a page: the tree first, then the text.
    let mut tree = space_doc(&company.id, admin.id);
    let meta = PageMeta { id: "p1".into(), title: "报销制度".into(), created_by: admin.id, ..Default::default() };
    kb::create_page(&mut tree, &meta, 1_000).unwrap();
    let mut a = relay.connect(admin).await;
    a.sync(company.document, &mut tree).await.expect("an editor writes the tree");
    let pid = kb::page_doc_id(&company.id, "p1");
    let mut page = page_doc(&company.id, "p1", admin.id);
    kb::write_blocks(
        &mut page,
        &[Block::plain(BlockKind::Heading(1), "报销制度"), Block::plain(BlockKind::Paragraph, "发票 30 天内提交")],
        2_000,
    )
    .unwrap();
    a.sync(pid, &mut page).await.expect("an editor writes the page");

    // An employee reads both and comments, but may not change the text or the tree.
    let mut e = relay.connect(&s2).await;
    let mut etree = space_doc(&company.id, s2.id);
    e.sync(company.document, &mut etree).await.expect("reads the tree");
    assert_eq!(kb::pages(&etree)[0].title, "报销制度");
    let mut epage = page_doc(&company.id, "p1", s2.id);
    e.sync(pid, &mut epage).await.expect("reads the page");
    assert_eq!(kb::plain_text(&kb::blocks(&epage)), "报销制度\n发票 30 天内提交");
    kb::add_comment(&mut epage, s2.id, "电子发票也可以吗？", "n1", 3_000).unwrap();
    e.sync(pid, &mut epage).await.expect("a reader comments");
    kb::write_blocks(&mut epage, &[Block::plain(BlockKind::Paragraph, "改掉")], 4_000).unwrap();
    e.sync(pid, &mut epage).await.expect_err("a reader's edit is refused").assert_says("only the space's editors");
    let mut e = relay.connect(&s2).await;
    kb::rename_page(&mut etree, "p1", "改名", 5_000).unwrap();
    e.sync(company.document, &mut etree).await.expect_err("a reader may not change the tree").assert_says("read-only");
    a.sync(pid, &mut page).await.expect("the admin syncs");
    assert_eq!(kb::plain_text(&kb::blocks(&page)), "报销制度\n发票 30 天内提交");
    assert_eq!(kb::comments(&page).len(), 1);
}

#[tokio::test]
async fn department_spaces_follow_the_matrix_and_grants() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (sales, eng) = (org.dept("Sales").await, org.dept("Eng").await);
    let s1 = org.login("S1").await; // Sales department admin
    let s2 = org.login("S2").await; // Sales employee
    let create =
        |token: String, body: serde_json::Value| async move { post_json(relay, "/api/kb/spaces", &token, body).await };
    let r = create(s1.token.clone(), serde_json::json!({ "name": "销售部知识库", "dept": sales })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let space: KbSpace = r.json();
    assert!(space.editable);
    let since = audit_len(relay).await;
    let r = create(s1.token.clone(), serde_json::json!({ "name": "研发", "dept": eng })).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = create(s2.token.clone(), serde_json::json!({ "name": "我的", "dept": sales })).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let rows = audit_since(relay, since).await;
    assert_eq!(rows.iter().filter(|r| r.action == "kb.space_create" && r.outcome == "refused").count(), 2, "{rows:?}");

    // S2 cannot edit until S1 grants it; then S2's page goes through. A page made "offline"
    // (its text synced before the tree names it) is unavailable until the tree arrives.
    let pid = kb::page_doc_id(&space.id, "p9");
    let mut page = page_doc(&space.id, "p9", s2.id);
    kb::write_blocks(&mut page, &[Block::plain(BlockKind::Paragraph, "客户拜访清单")], 1_000).unwrap();
    let r = post_json(
        relay,
        &format!("/api/kb/spaces/{}/editors", space.id),
        &s2.token,
        serde_json::json!({ "user": s2.id }),
    )
    .await;
    assert_eq!(r.status, 403, "an employee cannot grant themselves");
    let r = post_json(
        relay,
        &format!("/api/kb/spaces/{}/editors", space.id),
        &s1.token,
        serde_json::json!({ "user": s2.id }),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(spaces(relay, &s2).await.iter().find(|s| s.id == space.id).unwrap().editable);

    let mut c = relay.connect(&s2).await;
    c.send(&c.sync_frame(pid, first_sync_bytes(&mut page), true)).await.expect("send");
    loop {
        match c.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == pid => break,
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable for a page no tree names yet, got {other:?}"),
        }
    }
    let mut tree = space_doc(&space.id, s2.id);
    let meta = PageMeta { id: "p9".into(), title: "客户拜访".into(), created_by: s2.id, ..Default::default() };
    kb::create_page(&mut tree, &meta, 2_000).unwrap();
    let mut c = relay.connect(&s2).await;
    c.sync(space.document, &mut tree).await.expect("a granted editor writes the tree");
    c.sync(pid, &mut page).await.expect("the page is served once the tree names it");
    assert_eq!(c.server_heads(pid), page.get_heads());
}

/// A reader opening a space nobody has written yet syncs without a refusal (the relay already
/// holds the genesis its replica starts from); a change under the genesis actor that is not the
/// genesis is refused.
#[tokio::test]
async fn a_reader_opens_an_unwritten_space_and_a_forged_genesis_is_refused() {
    let org = Org::start().await;
    let relay = &org.relay;
    let s2 = org.login("S2").await;
    let company = spaces(relay, &s2).await.into_iter().find(|s| s.dept.is_none()).expect("company space");
    let mut c = relay.connect(&s2).await;
    let mut tree = space_doc(&company.id, s2.id);
    c.sync(company.document, &mut tree).await.expect("a reader syncs an unwritten space");
    assert_eq!(c.server_heads(company.document), tree.get_heads());
    // A change dressed as the genesis, even from an editor: refused, never stored.
    let admin = &org.admin;
    let mut forged = kb::space_genesis(&company.id);
    let meta = PageMeta { id: "evil".into(), title: "forged".into(), ..Default::default() };
    kb::create_page(&mut forged, &meta, 1).unwrap();
    let mut c = relay.connect(admin).await;
    c.sync(company.document, &mut forged).await.expect_err("refused").assert_says("genesis");
    let mut a = relay.connect(admin).await;
    let mut fresh = space_doc(&company.id, admin.id);
    a.sync(company.document, &mut fresh).await.expect("reads");
    assert!(kb::pages(&fresh).is_empty());
}

/// Upload `bytes` into `scope` (JSON, e.g. `{"page": "<doc id>"}`) in one chunk: the reply of the
/// step that failed, or of the completion.
async fn upload_into(relay: &Relay, user: &User, scope: serde_json::Value, bytes: &[u8]) -> Reply {
    use sha2::Digest;
    let mut body = scope;
    body["name"] = "流程图.png".into();
    body["size"] = bytes.len().into();
    body["mime"] = "image/png".into();
    body["sha256"] = hex::encode(sha2::Sha256::digest(bytes)).into();
    let r = post_json(relay, "/api/uploads", &user.token, body).await;
    if r.status != 200 {
        return r;
    }
    let st: qiao_model::api::UploadState = r.json();
    let path = format!("/api/uploads/{}?offset=0", st.id);
    let r = request(relay, "PUT", &path, Some(&user.token), Some("application/octet-stream"), bytes).await;
    if r.status != 200 {
        return r;
    }
    post_json(relay, &format!("/api/uploads/{}/complete", st.id), &user.token, serde_json::json!({})).await
}

/// Images in pages: an editor uploads one into the page (scope `page`), every reader of the page
/// downloads it; a reader, who may comment on the page, may not upload into it; a document that
/// is not a page (a chat segment, an unknown id) takes no images.
#[tokio::test]
async fn page_images_are_uploaded_by_editors_and_read_by_readers() {
    let org = Org::start().await;
    let relay = &org.relay;
    let admin = &org.admin;
    let s2 = org.login("S2").await;
    let company = spaces(relay, admin).await.into_iter().find(|s| s.dept.is_none()).expect("a company space");
    let mut tree = space_doc(&company.id, admin.id);
    let meta = PageMeta { id: "p1".into(), title: "报销流程".into(), created_by: admin.id, ..Default::default() };
    kb::create_page(&mut tree, &meta, 1_000).unwrap();
    let mut a = relay.connect(admin).await;
    a.sync(company.document, &mut tree).await.expect("an editor writes the tree");
    let pid = kb::page_doc_id(&company.id, "p1");
    let mut page = page_doc(&company.id, "p1", admin.id);
    a.sync(pid, &mut page).await.expect("the page is there");

    let bytes = b"\x89PNG an image of the flow".to_vec();
    let r = upload_into(relay, admin, serde_json::json!({ "page": pid.to_string() }), &bytes).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file: qiao_model::api::FileInfo = r.json();
    kb::write_blocks(
        &mut page,
        &[
            Block::plain(BlockKind::Paragraph, "流程如下"),
            Block { kind: BlockKind::Image { file: file.id.clone(), name: file.name.clone() }, runs: vec![] },
        ],
        2_000,
    )
    .unwrap();
    a.sync(pid, &mut page).await.expect("an editor puts the image in the page");

    // The reader's copy holds the image block, and its bytes download for them.
    let mut e = relay.connect(&s2).await;
    let mut epage = page_doc(&company.id, "p1", s2.id);
    e.sync(pid, &mut epage).await.expect("reads the page");
    assert_eq!(kb::blocks(&epage)[1].kind, BlockKind::Image { file: file.id.clone(), name: "流程图.png".into() });
    let r = get(relay, &format!("/api/files/{}", file.id), &s2.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, bytes);

    // Readers comment, but upload nothing into the page; other documents take no images.
    let r = upload_into(relay, &s2, serde_json::json!({ "page": pid.to_string() }), b"\x89PNG mine").await;
    assert_eq!(r.status, 404, "{}", r.text());
    let general = relay.general(admin).await;
    let segment = qiao_model::schema::chat::segment_id(&general.id, 0);
    let r = upload_into(relay, admin, serde_json::json!({ "page": segment.to_string() }), b"\x89PNG chat").await;
    assert_eq!(r.status, 404, "a chat segment is not a page: {}", r.text());
    let r = post_json(relay, "/api/uploads", &admin.token, serde_json::json!({ "page": "nonsense", "name": "a", "size": 1, "mime": "image/png", "sha256": "0".repeat(64) })).await;
    assert!(matches!(r.status, 400 | 422), "a page id that is not a document id: {} {}", r.status, r.text());
}
