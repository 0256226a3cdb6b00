//! Just enough HTTP/1.1 for the bench's setup calls (login, create channel, health): one request
//! per connection, `Connection: close`, JSON in and out. Loopback only.

use crate::Error;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Send one request to `127.0.0.1:port`; the status and the body.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<(u16, String), Error> {
    request_within(TIMEOUT, port, method, path, token, body).await
}

/// [`request`] with its own time limit (an HR import of 10,000 people hashes 10,000 passwords).
pub async fn request_within(
    limit: Duration,
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<(u16, String), Error> {
    let fut = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await?;
        s.write_all(body.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        parse(&raw)
    };
    tokio::time::timeout(limit, fut).await.map_err(|_| Error::msg(format!("{method} {path}: timed out")))?
}

fn parse(raw: &[u8]) -> Result<(u16, String), Error> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| Error::msg("truncated HTTP response"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::msg(format!("bad status line: {}", head.lines().next().unwrap_or(""))))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((status, if chunked { dechunk(body) } else { body.to_string() }))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A request that must answer 2xx with a JSON body.
pub async fn json(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    json_within(TIMEOUT, port, method, path, token, body).await
}

/// [`json`] with its own time limit.
pub async fn json_within(
    limit: Duration,
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    let (status, text) = request_within(limit, port, method, path, token, body).await?;
    if !(200..300).contains(&status) {
        return Err(Error::msg(format!("{method} {path} → {status} {text}")));
    }
    serde_json::from_str(&text).map_err(|e| Error::msg(format!("{method} {path}: bad JSON ({e}): {text}")))
}
