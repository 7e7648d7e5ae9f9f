//! Connections that send nothing useful do not stay: a connection without a complete
//! request head (nothing, a partial head, or a head trickled byte by byte) is closed after
//! the header timeout; a keep-alive connection is kept between requests and closed after
//! the idle timeout; beyond the connection cap, a further connection is not served until
//! one closes. Raw TCP on loopback; every wait is bounded.

use std::time::Duration;

use scimd_server::http::connections::ConnLimits;
use scimd_server::http::limits::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Options, TestServer};

/// The longest any test here waits for the server to act.
const BOUND: Duration = Duration::from_secs(15);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: scimd\r\n\r\n";

async fn server(connections: ConnLimits) -> TestServer {
    let mut o = Options::default();
    o.http.limits = Limits { connections, ..Limits::default() };
    TestServer::start_with(o).await
}

/// Whether the server closes the connection (end of stream or a reset) within `within`,
/// reading and discarding whatever it sends before.
async fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Reads one response to `GET /healthz` (its body is short and has a length), keeping the
/// connection; `None` if none came within `within`.
async fn response(c: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= len {
                return Some(text);
            }
        }
        match tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn a_connection_without_a_complete_request_head_is_closed_after_the_header_timeout() {
    let s = server(ConnLimits { header_timeout: Duration::from_millis(300), ..ConnLimits::default() }).await;
    // Nothing at all.
    let mut silent = TcpStream::connect(&s.addr).await.unwrap();
    // Half a head.
    let mut partial = TcpStream::connect(&s.addr).await.unwrap();
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: scimd\r\nX-Slow: ").await.unwrap();
    assert!(closed_within(&mut silent, BOUND).await, "a silent connection stays open");
    assert!(closed_within(&mut partial, BOUND).await, "a half-sent head stays open");

    // A head trickled a byte at a time: the limit runs from its first byte, not the last.
    let mut trickle = TcpStream::connect(&s.addr).await.unwrap();
    let bytes = b"GET /healthz HTTP/1.1\r\nHost: scimd\r\nX-Padding: ".iter().chain(std::iter::repeat(&b'a'));
    let mut closed = false;
    for b in bytes.take(2000) {
        if trickle.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed || closed_within(&mut trickle, Duration::from_millis(100)).await, "a trickled head stays open");

    // A complete request is answered as before.
    let mut ok = TcpStream::connect(&s.addr).await.unwrap();
    ok.write_all(HEALTHZ).await.unwrap();
    let r = response(&mut ok, BOUND).await.expect("a response");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
}

#[tokio::test]
async fn a_keep_alive_connection_is_kept_between_requests_then_closed_when_idle() {
    let s = server(ConnLimits {
        header_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_secs(5),
        ..ConnLimits::default()
    })
    .await;
    let mut c = TcpStream::connect(&s.addr).await.unwrap();
    c.write_all(HEALTHZ).await.unwrap();
    let r = response(&mut c, BOUND).await.expect("a response");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // Waiting between requests is idle time, not a slow head: well past the header
    // timeout, the connection still serves.
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.write_all(HEALTHZ).await.unwrap();
    let r = response(&mut c, BOUND).await.expect("a second response on the same connection");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(closed_within(&mut c, BOUND).await, "an idle keep-alive connection stays open");
}

#[tokio::test]
async fn beyond_the_connection_cap_a_connection_waits_until_one_closes() {
    let s = server(ConnLimits { max_connections: 2, header_timeout: Duration::from_secs(60), ..ConnLimits::default() })
        .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(&s.addr).await.unwrap();
        c.write_all(HEALTHZ).await.unwrap();
        assert!(response(&mut c, BOUND).await.is_some());
        held.push(c);
    }
    // The third is connected by the kernel but not accepted: its request waits.
    let mut third = TcpStream::connect(&s.addr).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();
    assert!(response(&mut third, Duration::from_millis(500)).await.is_none(), "served beyond the cap");
    drop(held.pop());
    let r = response(&mut third, BOUND).await.expect("served once a connection closed");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
}
