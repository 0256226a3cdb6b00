//! Markdown for messages, rendered to HTML that is safe to insert into the page.
//!
//! Safety does not rest on cleaning HTML afterwards: the renderer never emits markup it did not
//! produce itself. Raw HTML in a message (block or inline) is turned into escaped text, link and
//! image destinations are kept only for `http:`, `https:` and `mailto:` (anything else — including
//! `javascript:`, `data:` and `vbscript:`, however cased or encoded — becomes plain text), images
//! are shown as links (no request leaves the page to a third party when a message is read), and
//! every link opens in a new tab with `rel="noopener noreferrer nofollow"`.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Longest input rendered as markdown; longer text is shown escaped.
const MAX_RENDER_BYTES: usize = 64 * 1024;

/// Whether a link destination may be followed.
pub fn safe_url(url: &str) -> bool {
    // Browsers ignore ASCII whitespace and control characters inside a scheme: strip them first.
    let cleaned: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let lower = cleaned.to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') && !scheme.contains('?') && !scheme.contains('#') => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        // No scheme: a relative link within the app.
        _ => !lower.starts_with("//") && !lower.starts_with("\\\\"),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Render `text` to safe HTML.
pub fn render(text: &str) -> String {
    render_with_mentions(text, &[])
}

/// Escape `text`, wrapping each occurrence of a mention token (`@Name`, longest first) in
/// `<span class="mention">`.
fn mark_mentions(text: &str, tokens: &[&str]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&escape(&rest[..at]));
        let tail = &rest[at..];
        match tokens.iter().filter(|t| tail.starts_with(**t)).max_by_key(|t| t.len()) {
            Some(t) => {
                out.push_str("<span class=\"mention\">");
                out.push_str(&escape(t));
                out.push_str("</span>");
                rest = &tail[t.len()..];
            }
            None => {
                out.push('@');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// Render `text` to safe HTML, highlighting the mentions it carries (`tokens`: `@Name` as
/// written, e.g. `@王芳` or `@所有人`). Mentions inside code stay code.
pub fn render_with_mentions(text: &str, tokens: &[&str]) -> String {
    if text.len() > MAX_RENDER_BYTES {
        return format!("<p>{}</p>", escape(text));
    }
    let mut in_code_block = false;
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    // Links and images whose destination is unsafe are dropped to their text; the stack
    // remembers, for each open link/image, whether its end tag must be dropped too.
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(text, options).filter_map(|ev| match ev {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::CodeBlock(kind)) => {
            in_code_block = true;
            Some(Event::Start(Tag::CodeBlock(kind)))
        }
        Event::End(TagEnd::CodeBlock) => {
            in_code_block = false;
            Some(Event::End(TagEnd::CodeBlock))
        }
        // Text with a mention: escaped here, with the renderer's own span around the mention.
        Event::Text(t) if !tokens.is_empty() && !in_code_block && t.contains('@') => {
            Some(Event::InlineHtml(mark_mentions(&t, tokens).into()))
        }
        // In chat, a line break typed with Shift+Enter is meant as one.
        Event::SoftBreak => Some(Event::HardBreak),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            // Autolinked e-mail addresses get a mailto: prefix from the renderer itself.
            let ok = link_type == LinkType::Email || safe_url(&dest_url);
            dropped.push(!ok);
            ok.then_some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
        }
        Event::Start(Tag::Image { dest_url, title, id, .. }) => {
            // An image becomes a link to it: nothing is fetched just by reading a message.
            let ok = safe_url(&dest_url);
            dropped.push(!ok);
            ok.then_some(Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id }))
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            if dropped.pop().unwrap_or(true) {
                None
            } else {
                Some(Event::End(TagEnd::Link))
            }
        }
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    // Links open outside the app, without handing it a reference or a referrer.
    out.trim_end().replace("<a href=", "<a target=\"_blank\" rel=\"noopener noreferrer nofollow\" href=")
}

/// The words of a message without its markdown (`**9 点**` reads `9 点`), for places that show
/// plain text: system notifications and pushes. Link targets are dropped, their text kept.
pub fn plain_text(text: &str) -> String {
    if text.len() > MAX_RENDER_BYTES {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for ev in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES) {
        match ev {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_)) => {
                out.push(' ')
            }
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Plain-text excerpt of a message (for replies, notifications, search snippets).
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        flat
    } else {
        format!("{}…", flat.chars().take(max_chars).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_drops_markdown_and_keeps_words() {
        assert_eq!(plain_text("明天 **9 点**开会，[周报](https://x.example) `v2`"), "明天 9 点开会，周报 v2");
        assert_eq!(plain_text("- 一\n- 二"), "一 二");
        assert_eq!(plain_text("<b>x</b>"), "<b>x</b>");
    }

    /// Every tag in the output is one the renderer makes, with only harmless attributes. Text
    /// `<` is always escaped, so every `<` in the output opens a real tag.
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
            let tag_end = rest[i..].find('>').map(|j| i + j).unwrap_or_else(|| panic!("unclosed tag in {html:?}"));
            let tag = &rest[i + 1..tag_end];
            let tag = tag.trim_start_matches('/').trim_end_matches('/');
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(TAGS.contains(&name.as_str()), "tag <{name}> in {html:?} (from {input:?})");
            // Attributes: name="value" pairs; values are quoted by the renderer.
            let mut attrs = &tag[name.len()..];
            while let Some(eq) = attrs.find('=') {
                let attr = attrs[..eq].trim();
                assert!(ATTRS.contains(&attr), "attribute {attr} in {html:?} (from {input:?})");
                let after = &attrs[eq + 1..];
                assert!(after.starts_with('"'), "unquoted attribute in {html:?}");
                let close = after[1..].find('"').expect("closing quote") + 1;
                let value = &after[1..close];
                if attr == "href" {
                    assert!(safe_url(&value.replace("&amp;", "&")), "unsafe href {value} in {html:?} (from {input:?})");
                }
                if attr == "style" {
                    assert!(value.starts_with("text-align:"), "style {value} in {html:?}");
                }
                attrs = &after[close + 1..];
            }
            rest = &rest[tag_end + 1..];
        }
    }

    const XSS_CORPUS: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=javascript:alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java\tscript:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "![x](https://example.com/a.png\" onerror=\"alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<details open ontoggle=alert(1)>",
        "`<script>` in code and <b onmouseover=alert(1)>bold</b>",
        "```html\n<script>alert(1)</script>\n```",
        "[a]: javascript:alert(1)\n\n[link][a]",
        "<https://ok.example/?q=<script>>",
        "<javascript:alert(1)>",
        "<form action=x><input autofocus onfocus=alert(1)>",
        "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | x |",
        "<style>*{}</style><link rel=stylesheet href=x><meta http-equiv=refresh content=0>",
        "<base href=//evil.example/>",
    ];

    #[test]
    fn xss_corpus_renders_inert() {
        for input in XSS_CORPUS {
            assert_inert(&render(input), input);
        }
    }

    #[test]
    fn ordinary_markdown_renders() {
        let html = render("**粗体** and _italic_, `code`, ~~old~~\n\n- 一\n- two\n\n[官网](https://example.com)");
        assert!(html.contains("<strong>粗体</strong>"));
        assert!(html.contains("<em>italic</em>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<del>old</del>"));
        assert!(html.contains("<li>一</li>"));
        assert!(html.contains(r#"rel="noopener noreferrer nofollow" href="https://example.com">官网</a>"#));
    }

    #[test]
    fn unsafe_link_keeps_its_text() {
        let html = render("[点我](javascript:alert(1))");
        assert!(html.contains("点我"));
        assert!(!html.contains("<a"));
    }

    #[test]
    fn urls() {
        assert!(safe_url("https://a.example/x"));
        assert!(safe_url("mailto:a@b.example"));
        assert!(safe_url("/c/general"));
        assert!(!safe_url(" javascript:alert(1)"));
        assert!(!safe_url("JAVASCRIPT:alert(1)"));
        assert!(!safe_url("java\nscript:alert(1)"));
        assert!(!safe_url("data:text/html,x"));
        assert!(!safe_url("//evil.example/"));
    }

    #[test]
    fn excerpts_are_flat_and_short() {
        assert_eq!(excerpt("a\n\n b", 10), "a b");
        assert_eq!(excerpt("一二三四五六", 3), "一二三…");
    }

    #[test]
    fn mentions_are_highlighted_outside_code_and_stay_escaped() {
        let html = render_with_mentions("hi @王芳 and @所有人, not @nobody\n\n```\n@王芳\n```", &["@王芳", "@所有人"]);
        assert_eq!(
            html,
            "<p>hi <span class=\"mention\">@王芳</span> and <span class=\"mention\">@所有人</span>, not @nobody</p>\n<pre><code>@王芳\n</code></pre>"
        );
        // Longest token wins; a hostile display name is escaped like any text.
        let html = render_with_mentions("@Ann Lee <b>", &["@Ann", "@Ann Lee"]);
        assert_eq!(html, "<p><span class=\"mention\">@Ann Lee</span> &lt;b&gt;</p>");
        let evil = "@<img src=x onerror=alert(1)>";
        assert_inert(&render_with_mentions(&format!("hey {evil}"), &[evil]), evil);
    }

    proptest! {
        #[test]
        fn any_input_with_mentions_renders_inert(s in "(<|>|\"|@|@a<b|a|`| |\n|&|;)*") {
            assert_inert(&render_with_mentions(&s, &["@a<b", "@a"]), &s);
        }

        #[test]
        fn any_input_renders_inert(s in "(<|>|\"|'|\\[|\\]|\\(|\\)|!|:|javascript|script|img|onerror=|src|href|=| |\n|`|a|&#|;|data)*") {
            assert_inert(&render(&s), &s);
        }
    }
}
