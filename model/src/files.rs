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
/// no control characters, at most 200 characters; never empty.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() { "file".into() } else { cleaned }
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
