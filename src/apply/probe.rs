//! A minimal HTTP/1.1 GET for the gates that probe an address (`http-probe`, `prometheus-query`,
//! `jwks-reachable`). sailplan's only HTTP client is the Kubernetes one, which cannot call arbitrary
//! URLs, and a full client library is a large dependency for two gates; so this speaks plain
//! `http://` over a TCP stream (one request, `Connection: close`, fixed-length or chunked bodies).
//! `https://` is refused with a message saying so.

use std::time::Duration;

use tokio::net::TcpStream;

/// The most of a response body that is read.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Why a probe got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The URL is not a plain `http://` URL.
    #[error("{url}: only http:// URLs can be probed (https needs a TLS client sailplan does not carry)")]
    Unsupported {
        /// The URL.
        url: String,
    },
    /// Connecting, sending or reading failed.
    #[error("{url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
}

/// (host, port, path-and-query) of an `http://` URL.
pub fn split_url(url: &str) -> Result<(String, u16, String), ProbeError> {
    let unsupported = || ProbeError::Unsupported { url: url.to_string() };
    let rest = url.strip_prefix("http://").ok_or_else(unsupported)?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], rest[at..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || port.is_empty() => {
            (host.to_string(), port.parse().map_err(|_| unsupported())?)
        }
        _ => (authority.to_string(), 80),
    };
    if host.is_empty() {
        return Err(unsupported());
    }
    Ok((host, port, path))
}

/// Percent-encodes a query parameter value.
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GETs `url` within `timeout`.
pub async fn get(url: &str, timeout: Duration) -> Result<Response, ProbeError> {
    let (host, port, path) = split_url(url)?;
    let transport = |message: String| ProbeError::Transport { url: url.to_string(), message };
    let exchange = async {
        let stream = TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("connect: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sailplan/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let mut sent = 0;
        let bytes = request.as_bytes();
        while sent < bytes.len() {
            stream.writable().await.map_err(|e| format!("send: {e}"))?;
            match stream.try_write(&bytes[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("send: {e}")),
            }
        }
        let mut received = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        loop {
            stream.readable().await.map_err(|e| format!("read: {e}"))?;
            match stream.try_read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    received.extend_from_slice(&buffer[..n]);
                    if received.len() > MAX_BODY {
                        return Err(format!("the response is larger than {MAX_BODY} bytes"));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        parse_response(&received)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result.map_err(transport),
        Err(_) => Err(transport(format!("no response within {}s", timeout.as_secs()))),
    }
}

/// Parses a whole HTTP/1.1 response (status line, headers, body).
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the response has no header end")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    Ok(Response { status, body })
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size line is cut off")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim().to_string();
        let size =
            usize::from_str_radix(&size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("a chunk is cut off".to_string());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            split_url("http://prom:9090/api/v1/query?q=1").unwrap(),
            ("prom".into(), 9090, "/api/v1/query?q=1".into())
        );
        assert_eq!(split_url("http://example.com").unwrap(), ("example.com".into(), 80, "/".into()));
        assert!(matches!(split_url("https://example.com/"), Err(ProbeError::Unsupported { .. })));
    }

    #[test]
    fn responses_with_length_and_chunked_bodies_parse() {
        let plain = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!((plain.status, plain.body), (200, b"ok".to_vec()));
        let chunked = parse_response(
            b"HTTP/1.1 503 No\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((chunked.status, chunked.body), (503, b"abcde".to_vec()));
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query("sum(rate(x[5m])) > 0"), "sum%28rate%28x%5B5m%5D%29%29%20%3E%200");
    }
}
