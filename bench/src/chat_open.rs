//! The Rust half of the chat-open benchmark (issue 4: "open a channel with 10,000 messages from
//! IndexedDB: time until the latest 50 are rendered"); `scripts/bench-chat-open.sh` and
//! `bench/chat-open/run.mjs` drive it.
//!
//! `qiao-bench chat-open seed` writes a long channel (10,000 messages) and a fresh one (50)
//! through a running relay, person by person over their own websockets ([`seed`]), with a
//! realistic conversation ([`content`]), and prints a JSON summary: each channel's id, its head
//! segment and the ids of its newest messages, which the browser waits for. Every message also
//! goes to `<channel>-messages.json`, the data of the browser's plain peer.

mod content;
mod seed;

use crate::Error;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Seed a running relay with a long and a fresh channel; print a JSON summary.
    Seed(seed::Args),
}

pub async fn run(cmd: Cmd) -> Result<serde_json::Value, Error> {
    match cmd {
        Cmd::Seed(a) => seed::run(a).await,
    }
}
