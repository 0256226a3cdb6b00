//! What the fuzz targets run: each function takes arbitrary bytes and feeds them to one decoder
//! the relay exposes to clients, the way the relay does, and panics only when something the relay
//! relies on does not hold.
//!
//! The relay runs every automerge call on client bytes under `catch_unwind`
//! (`sync-server/src/sync/contain.rs`): a panic there ends one connection, not the relay. The
//! targets do the same for those calls ([`contain`]), so what they report is a panic in code the
//! relay does *not* contain — qiao_model's frame decoder, chat rules and markdown renderer — or a
//! broken property (a frame that does not survive re-encoding, markup that could run script).
//!
//! `cargo +nightly fuzz run <target>` from this directory runs one under libFuzzer;
//! `cargo test` runs them all, bounded, on seeded mutations of a small corpus (stable Rust).

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, Change};
use qiao_model::actor;
use qiao_model::api::NewUpload;
use qiao_model::automerge_bounds::{self, Limits};
use qiao_model::files::{self, ByteRange};
use qiao_model::ids::{ChannelId, UserId};
use qiao_model::markdown;
use qiao_model::protocol::Message;
use qiao_model::schema::chat;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Once, OnceLock};

thread_local!(static CONTAINED: Cell<bool> = const { Cell::new(false) });

/// Run `f` as the relay runs automerge on client bytes: a panic is an error, not a crash.
/// (libFuzzer's panic hook aborts; ours passes panics inside `contain` by.)
fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(Cell::get) {
                fuzzer_hook(info)
            }
        }));
    });
    CONTAINED.with(|c| c.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(false));
    r.ok()
}

/// A websocket frame: `Message::decode` never panics, and what it accepts re-encodes to the same
/// message.
pub fn protocol_frame(data: &[u8]) {
    if let Ok(m) = Message::decode(data) {
        let again = Message::decode(&m.encode());
        assert_eq!(again.as_ref(), Ok(&m), "a decoded frame re-encodes to the same message");
    }
}

/// What the relay checks before automerge applies a sync message (`sync/contain.rs`): bloom
/// filters it would compute with unboundedly, and changes that would expand past its limits.
fn relay_accepts(msg: &sync::Message) -> bool {
    automerge_bounds::check_sync_message(msg, Limits::RELAY).is_ok()
}

fn segment() -> Automerge {
    static SAVED: OnceLock<Vec<u8>> = OnceLock::new();
    let saved = SAVED.get_or_init(|| chat::genesis(&ChannelId("fuzz".into()), 0).save());
    Automerge::load(saved).expect("the genesis loads")
}

/// The `data` of a sync frame, handled as `Registry::receive_sync` does on a chat segment:
/// decode, check, apply (contained); then, uncontained, the relay's rules on every new change —
/// its author and the chat rules — and, contained again, the relay's answer.
pub fn sync_message(data: &[u8]) {
    let Some(Ok(msg)) = contain(|| sync::Message::decode(data)) else { return };
    if !relay_accepts(&msg) {
        return;
    }
    let mut doc = segment();
    let mut state = sync::State::new();
    let before = doc.get_heads();
    let Some(Ok(())) = contain(|| doc.receive_sync_message(&mut state, msg)) else { return };
    for change in doc.get_changes(&before) {
        let user = UserId(7);
        let _ = actor::may_author(user, change.actor_id());
        for moderate in [false, true] {
            let _ = chat::validate(&change.decode(), user, chat::Powers { moderate, mention_all: moderate });
        }
    }
    let _ = contain(|| doc.generate_sync_message(&mut state));
}

/// One change as a client could send it: the chat rules judge it without panicking.
pub fn chat_change(data: &[u8]) {
    // The relay only decodes a change automerge has applied, and only after the bounds check.
    if automerge_bounds::check_chunks(data, Limits::RELAY).is_err() {
        return;
    }
    let Some(Ok(change)) = contain(|| Change::from_bytes(data.to_vec())) else { return };
    let Some(decoded) = contain(|| change.decode()) else { return };
    for moderate in [false, true] {
        let _ = chat::validate(&decoded, UserId(7), chat::Powers { moderate, mention_all: moderate });
    }
}

/// A message's text: rendered, it holds only markup the renderer makes, with safe links.
pub fn markdown(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for html in [markdown::render(&text), markdown::render_with_mentions(&text, &["@王芳", "@所有人", "@a"])] {
        assert_inert(&html, &text);
    }
    let _ = markdown::excerpt(&text, 40);
}

/// Upload metadata as clients send it: the `POST /api/uploads` body (JSON, a [`NewUpload`]), and
/// any text as a file name, a type or a download's `Range` header. What the relay keeps of a name
/// and a type must hold what it promises ([`files::clean_name`], [`files::clean_mime`]), cleaning
/// twice must change nothing, the `Content-Disposition` built from a name must stay one header
/// value with one quoted part, and a range must lie within the file.
pub fn upload_metadata(data: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<NewUpload>(data) {
        let again: NewUpload = serde_json::from_str(&serde_json::to_string(&req).expect("serialises"))
            .expect("a parsed announcement parses again");
        assert_eq!(again, req, "an announcement survives a round trip");
        let _ = files::valid_sha256(&req.sha256);
        check_name(&req.name);
        check_mime(&req.mime);
    }
    let text = String::from_utf8_lossy(data);
    check_name(&text);
    check_mime(&text);
    for size in [0, 1, 100, u64::MAX] {
        match files::parse_range(&text, size) {
            ByteRange::Bytes(start, end) => {
                assert!(start <= end && end < size, "range {start}-{end} of a {size}-byte file from {text:?}")
            }
            ByteRange::Whole | ByteRange::Unsatisfiable => {}
        }
    }
}

fn check_name(name: &str) {
    let clean = files::clean_name(name);
    assert!(!clean.is_empty() && clean.chars().count() <= 200, "length of {clean:?} (from {name:?})");
    assert!(!clean.contains(['/', '\\']), "a path in {clean:?} (from {name:?})");
    assert!(!clean.starts_with('.'), "a dot-file name {clean:?} (from {name:?})");
    assert!(clean.trim() == clean, "blank around {clean:?} (from {name:?})");
    assert!(
        !clean.chars().any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "a control or bidi override in {clean:?} (from {name:?})"
    );
    assert_eq!(files::clean_name(&clean), clean, "cleaning {name:?} twice");
    for inline in [false, true] {
        let header = files::content_disposition(inline, name);
        assert!(header.bytes().all(|b| (0x20..0x7f).contains(&b)), "not a header value: {header:?}");
        assert_eq!(header.matches('"').count(), 2, "one quoted file name in {header:?}");
        assert!(!header.contains('\\'), "an escape in {header:?}");
    }
}

fn check_mime(mime: &str) {
    let clean = files::clean_mime(mime);
    let (t, s) = clean.split_once('/').unwrap_or_else(|| panic!("{clean:?} is not type/subtype (from {mime:?})"));
    let token =
        |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b'/');
    assert!(token(t) && token(s), "{clean:?} (from {mime:?})");
    assert!(!clean.contains([';', '"', '\\', ',']), "parameters or quoting in {clean:?} (from {mime:?})");
    assert_eq!(files::clean_mime(&clean), clean, "cleaning {mime:?} twice");
}

/// Every tag is one the renderer makes, with only harmless attributes and safe links (text `<`
/// is always escaped, so every `<` in the output opens a tag).
fn assert_inert(html: &str, input: &str) {
    const TAGS: &[&str] = &[
        "span",
        "p",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "input",
    ];
    const ATTRS: &[&str] =
        &["href", "target", "rel", "title", "class", "start", "style", "disabled", "type", "checked"];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let end = i + rest[i..].find('>').unwrap_or_else(|| panic!("unclosed tag in {html:?} (from {input:?})"));
        let tag = rest[i + 1..end].trim_start_matches('/').trim_end_matches('/');
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        assert!(TAGS.contains(&name.as_str()), "tag <{name}> in {html:?} (from {input:?})");
        let mut attrs = &tag[name.len()..];
        while let Some(eq) = attrs.find('=') {
            let attr = attrs[..eq].trim();
            assert!(ATTRS.contains(&attr), "attribute {attr} in {html:?} (from {input:?})");
            let after = &attrs[eq + 1..];
            assert!(after.starts_with('"'), "unquoted attribute in {html:?} (from {input:?})");
            let close = after[1..].find('"').unwrap_or_else(|| panic!("unclosed attribute in {html:?}")) + 1;
            let value = &after[1..close];
            if attr == "href" {
                let url = value.replace("&amp;", "&");
                assert!(markdown::safe_url(&url), "unsafe href {value} in {html:?} (from {input:?})");
            }
            attrs = &after[close + 1..];
        }
        rest = &rest[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    //! The targets as bounded property tests: seeded mutations (bit flips, byte changes,
    //! truncations, splices, length-field bombs) of valid inputs. `QIAO_FUZZ_CASES` sets how many
    //! per target (default 20,000); `QIAO_SEED` the seed.
    use super::*;
    use automerge::AutoCommit;
    use automerge::sync::SyncDoc;
    use qiao_model::ids::{DocumentId, PeerId};
    use qiao_model::schema::chat::ChatMessage;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(rng: &mut Rng, seed: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(v.len() + 1);
            match rng.below(7) {
                0 if !v.is_empty() => {
                    let i = at.min(v.len() - 1);
                    v[i] ^= 1 << rng.below(8);
                }
                1 if !v.is_empty() => {
                    let i = at.min(v.len() - 1);
                    v[i] = rng.next() as u8;
                }
                2 => v.truncate(at),
                3 => v.insert(at, rng.next() as u8),
                4 => {
                    let other = &corpus[rng.below(corpus.len())];
                    let from = rng.below(other.len() + 1);
                    let piece: Vec<u8> = other[from..].iter().take(rng.below(64)).copied().collect();
                    v.splice(at..at, piece);
                }
                // A length or count that lies: LEB128 or CBOR heads claiming huge sizes.
                5 => {
                    v.splice(at..at, [0xff, 0xff, 0xff, 0xff, 0x0f]);
                }
                _ => {
                    v.splice(at..at, [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
                }
            }
        }
        v
    }

    fn run(target: fn(&[u8]), corpus: &[Vec<u8>]) {
        let cases: usize = std::env::var("QIAO_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
        let seed: u64 = std::env::var("QIAO_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
        let mut rng = Rng(seed | 1);
        for input in corpus {
            target(input);
        }
        for _ in 0..cases {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate(&mut rng, base, corpus);
            target(&input);
        }
    }

    fn chat_segment() -> (AutoCommit, Vec<u8>) {
        let mut doc = chat::genesis(&ChannelId("fuzz".into()), 0);
        doc.set_actor(actor::actor_for(UserId(7), [1; 8]));
        for (i, text) in ["你好 **世界**", "[x](https://example.com)", "@王芳 ok"].iter().enumerate() {
            let m = ChatMessage::new(format!("m{i}"), UserId(7), "u".into(), 1_700_000_000_000, (*text).into());
            chat::append(&mut doc, &m).expect("append");
        }
        chat::react(&mut doc, "m0", "👍", UserId(7), true, 1).expect("react");
        chat::edit(&mut doc, "m1", "edited", 2).expect("edit");
        chat::delete(&mut doc, "m2", 3).expect("delete");
        let change = doc.get_last_local_change().expect("a change").raw_bytes().to_vec();
        (doc, change)
    }

    #[test]
    fn protocol_frames() {
        let doc = DocumentId::derived(&["fuzz"]);
        let (p, q) = (PeerId("a".into()), PeerId("b".into()));
        let corpus: Vec<Vec<u8>> = [
            Message::Join { sender_id: p.clone(), supported_protocol_versions: vec!["1".into()], peer_metadata: None },
            Message::Sync {
                sender_id: p.clone(),
                target_id: q.clone(),
                document_id: doc,
                data: vec![0x42, 0, 0, 0, 0],
            },
            Message::Request { sender_id: p.clone(), target_id: q.clone(), document_id: doc, data: vec![1, 2, 3] },
            Message::Ephemeral {
                sender_id: p.clone(),
                target_id: q.clone(),
                count: 3,
                session_id: "s".into(),
                document_id: doc,
                data: vec![0xa0],
            },
            Message::DocUnavailable { sender_id: p.clone(), target_id: q, document_id: doc },
            Message::Leave { sender_id: p },
            Message::Error { message: "x".into() },
        ]
        .iter()
        .map(Message::encode)
        .collect();
        run(protocol_frame, &corpus);
    }

    #[test]
    fn sync_messages() {
        let (mut doc, _) = chat_segment();
        let first = doc.sync().generate_sync_message(&mut sync::State::new()).expect("first").encode();
        let mut with_changes = Vec::new();
        {
            let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
            let mut peer = segment();
            let hello = doc.sync().generate_sync_message(&mut ours).expect("hello");
            peer.receive_sync_message(&mut theirs, hello).expect("peer reads");
            let answer = peer.generate_sync_message(&mut theirs).expect("answer");
            doc.sync().receive_sync_message(&mut ours, answer).expect("doc reads");
            with_changes.push(doc.sync().generate_sync_message(&mut ours).expect("changes").encode());
        }
        let corpus = [vec![first], with_changes].concat();
        run(sync_message, &corpus);
    }

    #[test]
    fn chat_changes() {
        let (mut doc, last) = chat_segment();
        let all: Vec<Vec<u8>> = doc.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect();
        run(chat_change, &[all, vec![last]].concat());
    }

    #[test]
    fn upload_metadata_inputs() {
        let corpus: Vec<Vec<u8>> = [
            r#"{"channel":"c1","name":"报告.pdf","size":10,"mime":"application/pdf","sha256":"ab"}"#,
            r#"{"project":"p1","name":"../../etc/passwd","size":1,"mime":"Image/PNG; q=1","sha256":""}"#,
            r#"{"channel":"c","name":". .htaccess\u202egpj.exe","size":18446744073709551615,"mime":"text/html\r\nX: 1","sha256":"00"}"#,
            r#"{"channel":"c","project":"p","name":"a\u0000b\"c","size":0,"mime":"a/b/c","sha256":"ff"}"#,
            "bytes=0-9",
            "bytes=-18446744073709551615",
            "bytes= 5 - ",
            "C:\\Users\\a\\\u{3000}.x",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        run(upload_metadata, &corpus);
    }

    #[test]
    fn markdown_texts() {
        let corpus: Vec<Vec<u8>> = [
            "**bold** _em_ `code` ~~del~~",
            "[link](https://example.com \"t\") ![img](http://x/y.png)",
            "<script>alert(1)</script><img src=x onerror=alert(1)>",
            "[x](javascript:alert(1)) [y](JaVa\tScRiPt:1) [z](&#106;avascript:1)",
            "| a | b |\n|:-|-:|\n| <b>1</b> | 2 |\n\n- [x] done\n- [ ] todo",
            "```html\n<script>1</script>\n```\n> quote @王芳 @所有人",
            "<https://ok.example/?q=<script>> <mailto:a@b.c> a@b.c",
            "[a]: javascript:alert(1)\n\n[link][a]\n\n1. one\n2. two",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        run(markdown, &corpus);
    }
}
