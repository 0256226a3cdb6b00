//! Files: what the app and the relay agree on about uploads and serving.
//!
//! An upload is announced with its size and SHA-256 ([`crate::api::NewUpload`]), sent in chunks
//! of at most [`MAX_CHUNK_BYTES`] at increasing offsets (a dropped connection resumes from the
//! offset the relay reports), and completed once all bytes are there; the relay then checks the
//! hash and keeps the bytes under it, so the same file uploaded twice is stored once. A message
//! refers to files by id ([`crate::schema::chat::Attachment`]); every download repeats the access
//! check against the file's conversation.

/// Largest chunk in one `PUT`.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Default limit for one file (a server setting; super admins change it).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;

/// Raster image types shown inline (and as previews). Anything else, SVG included, is served as
/// an attachment: an SVG or HTML file can carry script.
pub fn inline_image(mime: &str) -> bool {
    matches!(mime.to_ascii_lowercase().as_str(), "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

/// Whether `s` is a SHA-256 in lowercase hex.
pub fn valid_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A display name made safe to show and to put in a `Content-Disposition` header: no path,
/// no control characters, no bidirectional-text controls (U+202E turns `gpj.exe` into a name
/// that reads as `exe.jpg`), no leading dot or space (`. .htaccess` is not a dot-file either), at
/// most 200 characters; never empty. Cleaning a clean name changes nothing.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|&c| !c.is_control() && !bidi_control(c)).take(200).collect();
    let cleaned = cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace()).trim_end();
    if cleaned.is_empty() { "file".into() } else { cleaned.to_string() }
}

/// Characters that reorder the text around them: the embeddings, overrides and isolates, and
/// the directional marks.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The announced type, lowercased and without parameters, when it has the shape
/// `type/subtype`; otherwise `application/octet-stream`. It is a label only (and the
/// `Content-Type` of raster images served inline), so nothing more is needed.
pub fn clean_mime(mime: &str) -> String {
    let m = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match m.split_once('/') {
        Some((t, s)) if token(t) && token(s) => m,
        _ => "application/octet-stream".into(),
    }
}

/// `inline` or `attachment`, with the cleaned name twice: an ASCII fallback for old clients and
/// the exact name as RFC 5987 `filename*` (UTF-8, percent-encoded), so no character of a name
/// can break out of the header.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let name = clean_name(name);
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A `Range` header as the relay answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// Serve the whole file (not a single byte range: ignored, as RFC 9110 allows).
    Whole,
    /// First and last byte, inclusive, within the file.
    Bytes(u64, u64),
    /// 416.
    Unsatisfiable,
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range of a file of `size` bytes.
pub fn parse_range(header: &str, size: u64) -> ByteRange {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return ByteRange::Whole };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return ByteRange::Whole };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        // The last n bytes.
        (true, false) => match b.parse::<u64>() {
            Ok(0) => return ByteRange::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => a.parse::<u64>().ok().map(|s| (s, size.saturating_sub(1))),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => ByteRange::Whole,
        Some((start, _)) if start >= size => ByteRange::Unsatisfiable,
        Some((start, end)) => ByteRange::Bytes(start, end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name(""), "file");
    }

    /// The rule against leading dots held for one pass only: the `upload_metadata` fuzz target
    /// found `". a"` (cleaned to `" a"`, and `". .htaccess"` to `" .htaccess"`) in a few hundred
    /// runs. Right-to-left overrides went through too.
    #[test]
    fn names_cannot_hide_a_dot_or_their_extension() {
        assert_eq!(clean_name(". a"), "a");
        assert_eq!(clean_name(". .htaccess"), "htaccess");
        assert_eq!(clean_name(" . a"), "a");
        assert_eq!(clean_name("invoice\u{202E}gpj.exe"), "invoicegpj.exe");
        assert_eq!(clean_name("\u{2067}a\u{2069}\u{200F}.txt"), "a.txt");
        for name in [". .htaccess", "a .b ", "\u{3000}.x", "..\u{0}. y"] {
            let once = clean_name(name);
            assert_eq!(clean_name(&once), once, "cleaning {name:?} twice");
        }
    }

    #[test]
    fn mime_types_are_labels() {
        assert_eq!(clean_mime("Image/PNG; charset=x"), "image/png");
        assert_eq!(clean_mime("text/html\r\nX-Evil: 1"), "application/octet-stream");
        assert_eq!(clean_mime("nonsense"), "application/octet-stream");
        assert_eq!(clean_mime("a/b/c"), "application/octet-stream");
    }

    #[test]
    fn ranges() {
        use ByteRange::*;
        assert_eq!(parse_range("bytes=0-9", 100), Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Bytes(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Bytes(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), Bytes(0, 99));
        assert_eq!(parse_range("bytes=50-500", 100), Bytes(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Whole);
        assert_eq!(parse_range("bytes=9-1", 100), Whole);
        assert_eq!(parse_range("items=0-1", 100), Whole);
        assert_eq!(parse_range("bytes=-1", 0), Unsatisfiable);
    }

    #[test]
    fn disposition_cannot_be_broken_out_of() {
        assert_eq!(
            content_disposition(false, "../报告 \"final\".pdf"),
            "attachment; filename=\"__ _final_.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf"
        );
        assert_eq!(content_disposition(true, "a\r\nb.png"), "inline; filename=\"ab.png\"; filename*=UTF-8''ab.png");
    }

    #[test]
    fn only_raster_images_are_inline() {
        assert!(inline_image("image/PNG") && inline_image("image/webp"));
        assert!(!inline_image("image/svg+xml") && !inline_image("text/html") && !inline_image(""));
    }

    #[test]
    fn sha256_shape() {
        assert!(valid_sha256(&"a".repeat(64)));
        assert!(!valid_sha256(&"A".repeat(64)) && !valid_sha256("abc") && !valid_sha256(&"g".repeat(64)));
    }
}
