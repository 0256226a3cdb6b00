//! `qiao-bench board seed`: put a project with a big board on a running relay.
//!
//! The people must exist already (`qiao-server user add`); the first is the project's owner.
//! Every person's replica is synced over its own websocket with that person's token (the relay
//! refuses a change under anyone else's actor); members first, then the owner, whose replica
//! holds everything, so that its connection sends only the owner's own changes. A sync is done
//! when the relay's heads, as it last reported them, are exactly the replica's heads: the relay
//! reports heads only after the changes are committed to its store.

use super::content;
use crate::client::{self, ConnSpec, Event, Replica, SentLog};
use crate::{Error, http};
use qiao_model::actor::actor_for;
use qiao_model::ids::{DocumentId, ProjectId, UserId};
use qiao_model::schema::tasks;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const SYNC_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The relay's port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// `username:password` of each person, comma-separated; the first owns the project.
    #[arg(long, value_delimiter = ',', required = true)]
    people: Vec<String>,
    /// How many tasks.
    #[arg(long, default_value_t = 2000)]
    tasks: usize,
    /// The project's name.
    #[arg(long, default_value = "2.0 发布 · Release 2.0")]
    project: String,
    /// Directory to save the board's bytes in (`board.automerge`).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the content generator.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

struct Person {
    id: UserId,
    token: String,
}

async fn login(port: u16, cred: &str) -> Result<Person, Error> {
    let (username, password) =
        cred.split_once(':').ok_or_else(|| Error::msg(format!("`{cred}`: expected username:password")))?;
    let body = serde_json::json!({ "username": username, "password": password });
    let r = http::json(port, "POST", "/api/auth/login", None, Some(&body)).await?;
    let token = r["token"].as_str().ok_or_else(|| Error::msg("login answer lacks a token"))?.to_string();
    let id = r["user"]["id"].as_i64().ok_or_else(|| Error::msg("login answer lacks user.id"))?;
    Ok(Person { id: UserId(id), token })
}

pub async fn run(a: Args) -> Result<serde_json::Value, Error> {
    let t0 = Instant::now();
    if a.people.is_empty() {
        return Err(Error::msg("at least one person (the owner)"));
    }
    let mut people = Vec::new();
    for cred in &a.people {
        people.push(login(a.port, cred).await?);
    }
    let owner = &people[0];
    let body = serde_json::json!({
        "name": a.project,
        "description": "看板基准测试 · board benchmark",
        "members": people.iter().skip(1).map(|p| p.id.0).collect::<Vec<_>>(),
    });
    let p = http::json(a.port, "POST", "/api/projects", Some(&owner.token), Some(&body)).await?;
    let project = ProjectId(p["id"].as_str().ok_or_else(|| Error::msg("project answer lacks an id"))?.to_string());
    let document: DocumentId = p["document"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| Error::msg(format!("project answer lacks a document: {p}")))?;
    if document != tasks::board_id(&project) {
        return Err(Error::msg("the relay's board id differs from tasks::board_id"));
    }

    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let ids: Vec<UserId> = people.iter().map(|p| p.id).collect();
    let t_build = Instant::now();
    let mut board = content::build(&project, &ids, a.tasks, a.seed, now_ms);
    let build_secs = t_build.elapsed().as_secs_f64();
    eprintln!(
        "board seed: {} tasks ({:?} per column), {} comments, {} moves, built in {build_secs:.1} s",
        board.tasks, board.per_column, board.comments, board.moves
    );

    // Members' own replicas first, then the owner's (everything).
    let t_sync = Instant::now();
    let order: Vec<usize> = (1..people.len()).chain([0]).collect();
    for i in order {
        let doc = if i == 0 { board.merged.clone() } else { board.forks[i].clone() };
        let want = if i == 0 { board.merged.get_heads() } else { board.forks[i].get_heads() };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let spec = ConnSpec {
            url: format!("ws://127.0.0.1:{}/sync", a.port),
            token: Some(people[i].token.clone()),
            peer_id: format!("bench-board-seed-{i}"),
            actor: actor_for(people[i].id, content::device(i)),
            replicas: vec![Replica { id: document, doc }],
        };
        let cmds = client::spawn(i, spec, tx, SentLog::default());
        let end = tokio::time::Instant::now() + SYNC_TIMEOUT;
        loop {
            match tokio::time::timeout_at(end, rx.recv()).await {
                // The relay reported exactly our heads, which descend from everything we had;
                // a member's replica has taken in the others' changes on the way.
                Ok(Some(Event::Synced { mut heads, .. })) => {
                    let mut want = want.clone();
                    want.sort();
                    heads.sort();
                    if i == 0 && heads != want {
                        return Err(Error::msg("the relay's heads differ from the whole board's"));
                    }
                    break;
                }
                Ok(Some(Event::Failed { error, .. })) => {
                    return Err(Error::msg(format!("syncing person {i}'s replica: {error}")));
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err(Error::msg("the sync client ended")),
                Err(_) => return Err(Error::msg(format!("person {i}'s replica not synced within 180 s"))),
            }
        }
        let _ = cmds.send(client::Cmd::Close);
        // Let it say goodbye before the next person connects.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(e) = rx.recv().await {
                if matches!(e, Event::Closed | Event::Failed { .. }) {
                    break;
                }
            }
        })
        .await;
    }
    let sync_secs = t_sync.elapsed().as_secs_f64();

    let bytes = board.merged.save();
    std::fs::create_dir_all(&a.out)?;
    std::fs::write(super::board_file(&a.out), &bytes)?;
    let changes = board.merged.get_changes(&[]).len();
    Ok(serde_json::json!({
        "project": project.as_str(),
        "project_name": a.project,
        "document": document.to_string(),
        "tasks": board.tasks,
        "per_column": { "todo": board.per_column[0], "doing": board.per_column[1], "done": board.per_column[2] },
        "comments": board.comments,
        "moves": board.moves,
        "changes": changes,
        "saved_bytes": bytes.len(),
        "build_secs": build_secs,
        "sync_secs": sync_secs,
        "total_secs": t0.elapsed().as_secs_f64(),
    }))
}
