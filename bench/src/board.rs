//! The Rust half of the board benchmark (issue 6: "board with 2,000 tasks: open and render
//! time, drag latency"); `scripts/bench-board.sh` and `bench/board/run.mjs` drive it.
//!
//! - `qiao-bench board seed`: logs in as the project's owner and members on a running relay,
//!   creates the project over the API, writes a realistic board ([`content`]) and syncs it to
//!   the relay with the bench's own sync client until the relay holds every change. Each member
//!   writes on a replica of their own (their tasks are concurrent with the others'), under the
//!   actor ids the relay accepts from them; the owner then moves cards along the board, as a
//!   team's board gets its columns filled. Prints a JSON summary and saves the board's bytes.
//! - `qiao-bench board model`: model-level figures on those bytes ([`model`]): loading the board,
//!   `tasks::tasks`, one `Edit::Move`, saving, each beside the same work on the same tasks as
//!   plain structs in JSON (serde_json), so what the CRDT costs shows. Prints JSON.
//!
//! Both print machine-readable JSON on stdout (progress on stderr): the browser driver puts their
//! figures into its one table.

mod content;
mod model;
mod seed;

use crate::Error;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Seed a running relay with a project board of many tasks; print a JSON summary.
    Seed(seed::Args),
    /// Time loading, reading, moving and saving the seeded board against plain JSON; print JSON.
    Model(model::Args),
}

/// Where the board's bytes go (`seed --out`) and come from (`model --board`).
pub fn board_file(dir: &std::path::Path) -> PathBuf {
    dir.join("board.automerge")
}

pub async fn run(cmd: Cmd) -> Result<serde_json::Value, Error> {
    match cmd {
        Cmd::Seed(a) => seed::run(a).await,
        Cmd::Model(a) => tokio::task::spawn_blocking(move || model::run(a))
            .await
            .map_err(|e| Error::msg(format!("the model bench panicked: {e}")))?,
    }
}
