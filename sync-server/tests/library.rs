//! The file library (文件库) at the relay: a file added twice under one name becomes two versions
//! whose bytes both download; in a folder with approval a new version is seen (and downloadable)
//! only by its uploader and the approvers until it is accepted, and a rejected one leaves the
//! approved version current; deleting others' files follows the matrix (super admins anywhere,
//! department admins within their department — for a project folder, the department of whoever
//! added the file — employees never) and is audited when refused; folders are created only by
//! their managers, with clean unique names, and deleted only when empty; uploads go only into
//! folders one may write and are added only to the folder they were uploaded into; with the
//! files module off the library and its files are refused.
//!
//! Everyone comes from `org_support::ORG`: Sales (S1 admin, S2, S3 of Sales/East), Eng (E1 admin,
//! E2), X1 a super admin in IT.

mod common;
mod org_support;

use common::*;
use org_support::*;
use qiao_model::api::{FileInfo, UploadState};
use qiao_model::ids::DeptId;
use qiao_model::library::{Folder, FolderListing, Library, LibraryFile, Status};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

async fn delete(relay: &Relay, path: &str, user: &User) -> Reply {
    request(relay, "DELETE", path, Some(&user.token), None, b"").await
}

/// `POST /api/uploads` into `folder`, as [`upload`] starts it.
async fn start_upload(relay: &Relay, user: &User, folder: &str, name: &str, bytes: &[u8]) -> Reply {
    let body = json!({ "folder": folder, "name": name, "size": bytes.len(), "mime": "application/pdf",
                       "sha256": sha256(bytes) });
    post_json(relay, "/api/uploads", &user.token, body).await
}

/// Upload `bytes` into `folder` (one chunk); the stored file, not yet in the library.
async fn upload(relay: &Relay, user: &User, folder: &str, name: &str, bytes: &[u8]) -> FileInfo {
    let r = start_upload(relay, user, folder, name, bytes).await;
    assert_eq!(r.status, 200, "start {name}: {}", r.text());
    let st: UploadState = r.json();
    if let Some(f) = st.file {
        return f;
    }
    let path = format!("/api/uploads/{}?offset=0", st.id);
    let r = request(relay, "PUT", &path, Some(&user.token), Some("application/octet-stream"), bytes).await;
    assert_eq!(r.status, 200, "chunk of {name}: {}", r.text());
    let r = post_json(relay, &format!("/api/uploads/{}/complete", st.id), &user.token, json!({})).await;
    assert_eq!(r.status, 200, "complete {name}: {}", r.text());
    r.json()
}

async fn add(relay: &Relay, user: &User, folder: &str, file: &str) -> Reply {
    post_json(relay, &format!("/api/library/folders/{folder}/files"), &user.token, json!({ "file": file })).await
}

/// Upload `bytes` into `folder` and add them there (both must succeed): the entry as the
/// uploader sees it, and the stored file of this version.
async fn put_file(relay: &Relay, user: &User, folder: &str, name: &str, bytes: &[u8]) -> (LibraryFile, FileInfo) {
    let f = upload(relay, user, folder, name, bytes).await;
    let r = add(relay, user, folder, &f.id).await;
    assert_eq!(r.status, 200, "add {name}: {}", r.text());
    (r.json(), f)
}

async fn create_folder(relay: &Relay, user: &User, body: Value) -> Reply {
    post_json(relay, "/api/library/folders", &user.token, body).await
}

/// A top folder of department `dept` made by its admin `by` (must succeed).
async fn dept_folder(relay: &Relay, by: &User, dept: &DeptId, name: &str, approval: bool) -> Folder {
    let body = json!({ "name": name, "place": { "kind": "dept", "id": dept }, "needs_approval": approval });
    let r = create_folder(relay, by, body).await;
    assert_eq!(r.status, 200, "create {name}: {}", r.text());
    r.json()
}

async fn listing(relay: &Relay, user: &User, folder: &str) -> Reply {
    get(relay, &format!("/api/library/folders/{folder}"), &user.token).await
}

/// The files `user` sees in `folder` (must be readable).
async fn files(relay: &Relay, user: &User, folder: &str) -> Vec<LibraryFile> {
    let r = listing(relay, user, folder).await;
    assert_eq!(r.status, 200, "{} lists {folder}: {}", user.username, r.text());
    r.json::<FolderListing>().files
}

fn numbers(f: &LibraryFile) -> Vec<u32> {
    f.versions.iter().map(|v| v.n).collect()
}

async fn download(relay: &Relay, user: &User, file: &str) -> Reply {
    get(relay, &format!("/api/files/{file}"), &user.token).await
}

async fn review(relay: &Relay, user: &User, entry: &str, n: u32, body: Value) -> Reply {
    post_json(relay, &format!("/api/library/files/{entry}/versions/{n}/review"), &user.token, body).await
}

#[tokio::test]
async fn a_second_upload_of_the_same_name_is_version_2_and_both_versions_download() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, s3) = (org.login("S1").await, org.login("S2").await, org.login("S3").await);
    let folder = dept_folder(relay, &s1, &org.dept("Sales").await, "制度", false).await;

    let (v1, v2) = (b"%PDF-1 first rules".to_vec(), b"%PDF-1 second rules, amended".to_vec());
    let (first, f1) = put_file(relay, &s2, &folder.id, "制度.pdf", &v1).await;
    assert_eq!(numbers(&first), [1]);
    assert_eq!(first.versions[0].status, Status::Approved, "no approval in this folder");
    // No entry id sent: the name alone makes it the next version of the same file.
    let (second, f2) = put_file(relay, &s2, &folder.id, "制度.pdf", &v2).await;
    assert_eq!(second.id, first.id);
    assert_eq!(numbers(&second), [2, 1]);

    // S3 is in Sales/East: a sub-department's people read the department's folder.
    for who in [&s2, &s3] {
        let listed = files(relay, who, &folder.id).await;
        assert_eq!(listed.len(), 1, "one file, not two: {listed:?}");
        assert_eq!((listed[0].name.as_str(), numbers(&listed[0])), ("制度.pdf", vec![2, 1]));
        assert_eq!(listed[0].current().map(|v| v.n), Some(2));
        for (f, bytes) in [(&f1, &v1), (&f2, &v2)] {
            let r = download(relay, who, &f.id).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(&r.body, bytes, "version bytes as sent");
        }
    }
}

#[tokio::test]
async fn a_pending_version_is_seen_by_its_uploader_and_approvers_only_until_reviewed() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, s3, e1) = (org.login("S1").await, org.login("S2").await, org.login("S3").await, org.login("E1").await);
    let folder = dept_folder(relay, &s1, &org.dept("Sales").await, "报销", true).await;

    let (added, f1) = put_file(relay, &s2, &folder.id, "报销单.xlsx", b"claim v1").await;
    assert_eq!(added.versions[0].status, Status::Pending);

    // A colleague of the same department neither sees nor downloads it.
    assert!(files(relay, &s3, &folder.id).await.is_empty());
    assert_eq!(download(relay, &s3, &f1.id).await.status, 404);
    // The uploader sees it, pending; the department admin sees it and may review it.
    let mine = files(relay, &s2, &folder.id).await;
    assert_eq!((mine.len(), mine[0].versions[0].status, mine[0].may_review), (1, Status::Pending, false));
    let theirs = files(relay, &s1, &folder.id).await;
    assert!(theirs[0].may_review);
    let r = get(relay, "/api/library", &s1.token).await;
    let lib: Library = r.json();
    let f = lib.folders.iter().find(|f| f.id == folder.id).expect("the admin's library lists the folder");
    assert_eq!(f.pending, 1, "one version waits for the admin");
    // The admin of another department cannot even read the folder.
    assert_eq!(listing(relay, &e1, &folder.id).await.status, 404);
    assert!(get(relay, "/api/library", &e1.token).await.json::<Library>().folders.iter().all(|f| f.id != folder.id));
    // Nor review what is in it (the folder answers like one that does not exist).
    assert_eq!(review(relay, &e1, &added.id, 1, json!({ "approve": true })).await.status, 404);

    let r = review(relay, &s1, &added.id, 1, json!({ "approve": true })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = files(relay, &s3, &folder.id).await;
    assert_eq!((numbers(&seen[0]), seen[0].versions[0].status), (vec![1], Status::Approved));
    let r = download(relay, &s3, &f1.id).await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"claim v1".as_slice()));

    // Version 2 waits; everyone else keeps version 1 as current.
    let (_, f2) = put_file(relay, &s2, &folder.id, "报销单.xlsx", b"claim v2").await;
    let seen = files(relay, &s3, &folder.id).await;
    assert_eq!((numbers(&seen[0]), seen[0].current().map(|v| v.n)), (vec![1], Some(1)));
    assert_eq!(download(relay, &s3, &f2.id).await.status, 404);
    assert_eq!(numbers(&files(relay, &s2, &folder.id).await[0]), [2, 1]);

    // The uploader, an employee, may not approve their own version.
    let r = review(relay, &s2, &added.id, 2, json!({ "approve": true })).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(relay.refused_audit("file.review").await.len(), 1);

    let r = review(relay, &s1, &added.id, 2, json!({ "approve": false, "note": "金额不对" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let reviewed: LibraryFile = r.json();
    assert_eq!((reviewed.versions[0].status, reviewed.versions[0].note.as_str()), (Status::Rejected, "金额不对"));
    assert_eq!(reviewed.current().map(|v| v.n), Some(1), "rejecting keeps version 1 current");
    assert_eq!(numbers(&files(relay, &s3, &folder.id).await[0]), [1]);
    assert_eq!(download(relay, &s3, &f2.id).await.status, 404, "a rejected version stays hidden");

    // A pending version under another name does not rename the file for everyone else (its name
    // is no more theirs to see than its bytes); approved, it does.
    let f3 = upload(relay, &s2, &folder.id, "报销单-改.xlsx", b"claim v3").await;
    let body = json!({ "file": f3.id, "entry": added.id });
    let r = post_json(relay, &format!("/api/library/folders/{}/files", folder.id), &s2.token, body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = files(relay, &s3, &folder.id).await;
    assert_eq!((seen[0].name.as_str(), numbers(&seen[0])), ("报销单.xlsx", vec![1]));
    assert_eq!(review(relay, &s1, &added.id, 3, json!({ "approve": true })).await.status, 200);
    let seen = files(relay, &s3, &folder.id).await;
    assert_eq!((seen[0].name.as_str(), numbers(&seen[0])), ("报销单-改.xlsx", vec![3, 1]));

    // A version is reviewed once.
    for n in [1, 2, 3] {
        let r = review(relay, &s1, &added.id, n, json!({ "approve": true })).await;
        assert_eq!(r.status, 409, "{}", r.text());
    }
}

#[tokio::test]
async fn deleting_others_files_follows_the_matrix() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, s3) = (org.login("S1").await, org.login("S2").await, org.login("S3").await);
    let (e1, e2, x1) = (org.login("E1").await, org.login("E2").await, org.login("X1").await);
    let sales = dept_folder(relay, &s1, &org.dept("Sales").await, "销售资料", false).await;
    let (a, fa) = put_file(relay, &s2, &sales.id, "a.txt", b"S2's file").await;
    let (b, fb) = put_file(relay, &s3, &sales.id, "b.txt", b"S3's file").await;

    // An employee may not delete a colleague's file: refused and audited.
    assert!(!files(relay, &s3, &sales.id).await.iter().find(|f| f.id == a.id).unwrap().may_delete);
    let r = delete(relay, &format!("/api/library/files/{}", a.id), &s3).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let refused = sqlx::query_scalar::<_, String>(
        "SELECT target FROM audit_log WHERE action = 'file.delete' AND outcome = 'refused'",
    )
    .fetch_all(relay.state.store.pool())
    .await
    .unwrap();
    assert_eq!(refused, [format!("entry:{}", a.id)]);
    // Their own, yes: gone from the listing, its bytes no longer served.
    let r = delete(relay, &format!("/api/library/files/{}", b.id), &s3).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(files(relay, &s2, &sales.id).await.iter().all(|f| f.id != b.id));
    assert_eq!(download(relay, &s3, &fb.id).await.status, 404, "not even for its uploader");
    // The admin of another department cannot see Sales' folder, let alone delete from it.
    assert_eq!(delete(relay, &format!("/api/library/files/{}", a.id), &e1).await.status, 404);

    // A project folder: the file's department is whoever added it.
    let r = relay
        .post(
            "/api/projects",
            Some(&s2.token),
            json!({ "name": "联合项目", "visibility": "company", "members": [e2.id] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let project: qiao_model::api::ProjectSummary = r.json();
    let body = json!({ "name": "交付物", "place": { "kind": "project", "id": project.id } });
    let r = create_folder(relay, &s2, body).await;
    assert_eq!(r.status, 200, "a member organises the project's folders: {}", r.text());
    let shared: Folder = r.json();
    let (by_sales, f_sales) = put_file(relay, &s2, &shared.id, "sales.txt", b"from Sales").await;
    let (by_eng, f_eng) = put_file(relay, &e2, &shared.id, "eng.txt", b"from Eng").await;

    // S1 reads the company-visible project but, no member, may not upload into it; may delete
    // Sales' file, not Eng's.
    let r = start_upload(relay, &s1, &shared.id, "s1.txt", b"not a member").await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = delete(relay, &format!("/api/library/files/{}", by_eng.id), &s1).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = delete(relay, &format!("/api/library/files/{}", by_sales.id), &s1).await;
    assert_eq!(r.status, 204, "{}", r.text());
    // A super admin of another department deletes anything: in the project and in Sales' folder.
    for (entry, folder) in [(&by_eng.id, &shared.id), (&a.id, &sales.id)] {
        let r = delete(relay, &format!("/api/library/files/{entry}"), &x1).await;
        assert_eq!(r.status, 204, "{}", r.text());
        assert!(files(relay, &s2, folder).await.is_empty(), "deleted from the listing");
    }
    for f in [&f_sales, &f_eng, &fa] {
        assert_eq!(download(relay, &x1, &f.id).await.status, 404, "a deleted file is not served");
        assert_eq!(download(relay, &s2, &f.id).await.status, 404);
    }
    // Deleting twice: nothing left to delete.
    assert_eq!(delete(relay, &format!("/api/library/files/{}", a.id), &x1).await.status, 404);
}

#[tokio::test]
async fn folders_are_made_by_their_managers_with_unique_names_and_deleted_when_empty() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, e2, x1) = (org.login("S1").await, org.login("S2").await, org.login("E2").await, org.login("X1").await);
    let sales = org.dept("Sales").await;

    // Employees create neither department nor company folders; a department admin no company one.
    let in_sales = json!({ "name": "我的", "place": { "kind": "dept", "id": sales } });
    let in_company = json!({ "name": "我的", "place": { "kind": "company" } });
    for (who, body) in [(&s2, &in_sales), (&s2, &in_company), (&s1, &in_company)] {
        let r = create_folder(relay, who, body.clone()).await;
        assert_eq!(r.status, 403, "{}: {}", who.username, r.text());
    }
    assert_eq!(relay.refused_audit("file.folder_create").await.len(), 3);

    // A super admin's company folder is read by everyone.
    let r = create_folder(relay, &x1, json!({ "name": " 公告 ", "place": { "kind": "company" } })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let company: Folder = r.json();
    assert_eq!(company.name, "公告", "trimmed");
    for who in [&s2, &e2] {
        let lib: Library = get(relay, "/api/library", &who.token).await.json();
        assert!(lib.folders.iter().any(|f| f.id == company.id), "{} sees the company folder", who.username);
        assert!(files(relay, who, &company.id).await.is_empty());
    }

    // Names: nothing but separators is no name; the same name twice at one level is refused,
    // under another parent it is fine.
    let r = create_folder(relay, &x1, json!({ "name": "/", "place": { "kind": "company" } })).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = create_folder(relay, &x1, json!({ "name": "公告", "place": { "kind": "company" } })).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = create_folder(relay, &x1, json!({ "name": "公告", "parent": company.id })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let child: Folder = r.json();
    assert_eq!(child.parent.as_deref(), Some(company.id.as_str()));
    let r = create_folder(relay, &x1, json!({ "name": "公告", "parent": company.id })).await;
    assert_eq!(r.status, 409, "{}", r.text());

    // Only an empty folder is deleted: a subfolder or a file keeps it.
    let company_path = format!("/api/library/folders/{}", company.id);
    assert_eq!(delete(relay, &company_path, &x1).await.status, 409);
    let (doc, _) = put_file(relay, &e2, &child.id, "通知.pdf", b"notice").await;
    let child_path = format!("/api/library/folders/{}", child.id);
    assert_eq!(delete(relay, &child_path, &x1).await.status, 409);
    assert_eq!(delete(relay, &child_path, &e2).await.status, 403, "an employee manages no company folder");
    assert_eq!(delete(relay, &format!("/api/library/files/{}", doc.id), &e2).await.status, 204);
    assert_eq!(delete(relay, &child_path, &x1).await.status, 204);
    assert_eq!(delete(relay, &company_path, &x1).await.status, 204);
    assert_eq!(listing(relay, &x1, &company.id).await.status, 404);

    // Uploads go only into folders one may write: Sales' folder is not E2's.
    let sales_folder = dept_folder(relay, &s1, &sales, "销售", false).await;
    let r = start_upload(relay, &e2, &sales_folder.id, "x.pdf", b"not for Sales").await;
    assert_eq!(r.status, 404, "{}", r.text());
    // And a file uploaded into folder A is not added to folder B.
    let other = dept_folder(relay, &s1, &sales, "其他", false).await;
    let f = upload(relay, &s2, &sales_folder.id, "y.pdf", b"uploaded into Sales").await;
    let r = add(relay, &s2, &other.id, &f.id).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(files(relay, &s2, &other.id).await.is_empty());
    // Nor is somebody else's upload added, even in its own folder.
    let r = add(relay, &s1, &sales_folder.id, &f.id).await;
    assert_eq!(r.status, 404, "{}", r.text());
}

#[tokio::test]
async fn with_the_files_module_off_the_library_and_its_files_are_refused() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, s3) = (org.login("S1").await, org.login("S2").await, org.login("S3").await);
    let folder = dept_folder(relay, &s1, &org.dept("Sales").await, "制度", false).await;
    let (_, f) = put_file(relay, &s2, &folder.id, "制度.pdf", b"rules").await;

    let toggle = |on: bool| put_json(relay, "/api/admin/modules", &org.admin.token, json!({ "files": on }));
    assert_eq!(toggle(false).await.status, 200);
    let r = get(relay, "/api/library", &s3.token).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(listing(relay, &s3, &folder.id).await.status, 403);
    assert_eq!(start_upload(relay, &s2, &folder.id, "new.pdf", b"more").await.status, 403);
    // Its files are not served either, as a chat file is not while chat is off.
    assert_eq!(download(relay, &s3, &f.id).await.status, 404);

    assert_eq!(toggle(true).await.status, 200);
    assert_eq!(get(relay, "/api/library", &s3.token).await.status, 200);
    let r = download(relay, &s3, &f.id).await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"rules".as_slice()));
}

/// A file still waiting for someone else's approval is not joined by an upload of the same name
/// from a colleague who cannot see it (that would reveal it and make their version part of
/// another's file): the colleague's upload is a file of its own, and naming the hidden file as
/// the entry answers 404 like a file that does not exist.
#[tokio::test]
async fn an_upload_does_not_join_a_file_its_uploader_cannot_see() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, s3) = (org.login("S1").await, org.login("S2").await, org.login("S3").await);
    let folder = dept_folder(relay, &s1, &org.dept("Sales").await, "合同", true).await;

    let (hidden, _) = put_file(relay, &s2, &folder.id, "报价.pdf", b"%PDF-1 S2's quote").await;
    assert_eq!(hidden.versions[0].status, Status::Pending);
    let (own, _) = put_file(relay, &s3, &folder.id, "报价.pdf", b"%PDF-1 S3's quote").await;
    assert_ne!(own.id, hidden.id, "S3 cannot see S2's waiting file, so does not join it");
    assert_eq!(numbers(&own), [1]);
    assert_eq!(files(relay, &s3, &folder.id).await.len(), 1, "S3 sees only their own");
    assert_eq!(files(relay, &s1, &folder.id).await.len(), 2, "the approver sees both");

    let late = upload(relay, &s3, &folder.id, "报价.pdf", b"%PDF-1 S3 tries again").await;
    let body = json!({ "file": late.id, "entry": hidden.id });
    let r = post_json(relay, &format!("/api/library/folders/{}/files", folder.id), &s3.token, body).await;
    assert_eq!(r.status, 404, "{}", r.text());

    // Once approved, the file is everyone's to add versions to by name.
    assert_eq!(review(relay, &s1, &hidden.id, 1, json!({ "approve": true })).await.status, 200);
    let r = add(relay, &s3, &folder.id, &late.id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let joined: LibraryFile = r.json();
    assert!(joined.id == hidden.id || joined.id == own.id, "a version of one of the two visible files");
}

/// Restoring an earlier version adds it again as the newest (history kept, not rewritten), with
/// the old bytes; in a folder with approval an employee's restore waits like any new version;
/// someone who cannot see the folder cannot restore anything in it.
#[tokio::test]
async fn restoring_a_version_adds_it_again_as_the_newest() {
    let org = Org::start().await;
    let relay = &org.relay;
    let (s1, s2, e1) = (org.login("S1").await, org.login("S2").await, org.login("E1").await);
    let sales = org.dept("Sales").await;
    let folder = dept_folder(relay, &s1, &sales, "制度", false).await;
    let (v1, v2) = (b"%PDF-1 rules of 2025".to_vec(), b"%PDF-1 rules of 2026".to_vec());
    let (first, f1) = put_file(relay, &s2, &folder.id, "制度.pdf", &v1).await;
    put_file(relay, &s2, &folder.id, "制度.pdf", &v2).await;

    let restore = |user: &User, entry: &str, n: u32| {
        let path = format!("/api/library/files/{entry}/versions/{n}/restore");
        let token = user.token.clone();
        async move { post_json(relay, &path, &token, json!({})).await }
    };
    let r = restore(&s2, &first.id, 1).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let restored: LibraryFile = r.json();
    assert_eq!(numbers(&restored), [3, 2, 1]);
    let v3 = &restored.versions[0];
    assert_eq!(v3.file.sha256, f1.sha256);
    assert_ne!(v3.file.id, f1.id, "a new version, not the old one moved");
    let r = download(relay, &s2, &v3.file.id).await;
    assert_eq!(r.body, v1);
    assert_eq!(restore(&e1, &first.id, 1).await.status, 404, "Eng cannot see Sales' folder");
    assert_eq!(restore(&s2, &first.id, 9).await.status, 404);

    // With approval on, an employee's restore waits; the approved version stays current.
    let r = request(
        relay,
        "PATCH",
        &format!("/api/library/folders/{}", folder.id),
        Some(&s1.token),
        Some("application/json"),
        br#"{"needs_approval":true}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let waiting: LibraryFile = restore(&s2, &first.id, 2).await.json();
    assert_eq!(waiting.versions[0].status, Status::Pending);
    assert_eq!(waiting.current().map(|v| v.n), Some(3));
}
