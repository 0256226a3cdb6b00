//! Print the change hash of a chat segment's genesis: `cargo run -p qiao-model --example
//! genesis_hash -- <channel id> <segment>`. tests/interop pins this value to prove that a JS
//! replica builds the byte-identical genesis.

use qiao_model::ids::ChannelId;
use qiao_model::schema::chat;

fn main() {
    let mut args = std::env::args().skip(1);
    let channel = ChannelId(args.next().unwrap_or_else(|| "cinterop0123".into()));
    let segment: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut doc = chat::genesis(&channel, segment);
    for h in doc.get_heads() {
        println!("{h}");
    }
}
