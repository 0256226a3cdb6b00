//! Upgrading a relay's database across migration 0017, which replaced the files' and uploads'
//! scope columns (channel_id, project_id, ticket_id) with one (scope_kind, scope_id) pair: a
//! database written by the schema before it, with a file and an unfinished upload in each of
//! the three scopes, keeps every row, each with the scope it had.

use qiao_model::api::FileScope;
use qiao_model::ids::{ChannelId, ProjectId};
use qiao_server::store::Store;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

#[tokio::test]
async fn files_of_every_scope_keep_their_scope_across_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let opts =
        SqliteConnectOptions::new().filename(dir.path().join("qiao.db")).create_if_missing(true).foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();

    // The schema as it was before 0017.
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version < 17).cloned().collect::<Vec<_>>().into();
    assert!(before.migrations.iter().any(|m| m.version == 16), "the migrations up to 0016");
    before.run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, display_name, password_hash, role, created_at) VALUES (1, 'ann', 'Ann', 'x', 'employee', 0)",
        "INSERT INTO channels (id, name, created_by, created_at) VALUES ('c1', '综合', 1, 0)",
        "INSERT INTO projects (id, name, owner, created_at) VALUES ('p1', '发布', 1, 0)",
        "INSERT INTO documents (id, kind) VALUES ('2ZUYcCpR2CWkE7nkLrUbZTrQT3Dj', 'ticket')",
        "INSERT INTO helpdesk_tickets (id, doc_id, requester, client_key, title, category, created_at, updated_at)
           VALUES ('t1', '2ZUYcCpR2CWkE7nkLrUbZTrQT3Dj', 1, 'k', '打印机', 'printer', 0, 0)",
        "INSERT INTO files (id, sha256, size, name, mime, owner, channel_id, created_at) VALUES ('fc', 'a', 1, 'c.txt', 'text/plain', 1, 'c1', 1)",
        "INSERT INTO files (id, sha256, size, name, mime, owner, project_id, created_at) VALUES ('fp', 'b', 2, 'p.txt', 'text/plain', 1, 'p1', 2)",
        "INSERT INTO files (id, sha256, size, name, mime, owner, ticket_id, created_at) VALUES ('ft', 'c', 3, 't.png', 'image/png', 1, 't1', 3)",
        "INSERT INTO uploads (id, owner, channel_id, name, size, mime, sha256, received, created_at, file_id)
           VALUES ('uc', 1, 'c1', 'c.txt', 1, 'text/plain', 'a', 1, 1, 'fc')",
        "INSERT INTO uploads (id, owner, project_id, name, size, mime, sha256, received, created_at)
           VALUES ('up', 1, 'p1', 'half.bin', 10, 'application/octet-stream', 'd', 4, 5)",
        "INSERT INTO uploads (id, owner, ticket_id, name, size, mime, sha256, received, created_at)
           VALUES ('ut', 1, 't1', 't.png', 3, 'image/png', 'c', 0, 6)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;

    // The relay starts on it: every migration since runs.
    let store = Store::open(dir.path()).await.expect("the upgraded database opens");
    let scope = |id: &'static str| {
        let store = store.clone();
        async move { store.file(id).await.unwrap().unwrap_or_else(|| panic!("file {id} kept")).scope }
    };
    assert_eq!(scope("fc").await, FileScope::Channel(ChannelId("c1".into())));
    assert_eq!(scope("fp").await, FileScope::Project(ProjectId("p1".into())));
    assert_eq!(scope("ft").await, FileScope::Ticket("t1".into()));
    for (id, want, received) in [
        ("uc", FileScope::Channel(ChannelId("c1".into())), 1),
        ("up", FileScope::Project(ProjectId("p1".into())), 4),
        ("ut", FileScope::Ticket("t1".into()), 0),
    ] {
        let u = store.upload(id).await.unwrap().unwrap_or_else(|| panic!("upload {id} kept"));
        assert_eq!((u.scope, u.received), (want, received), "upload {id}");
    }
    assert_eq!(store.upload("uc").await.unwrap().unwrap().file_id.as_deref(), Some("fc"));
    // The unfinished ones are still found by the sweeper's index.
    assert_eq!(store.abandoned_uploads(i64::MAX, 10).await.unwrap().len(), 2);
}
