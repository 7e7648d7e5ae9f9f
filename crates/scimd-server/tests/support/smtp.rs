//! A test SMTP server on loopback: it speaks enough SMTP (EHLO, AUTH PLAIN and LOGIN,
//! MAIL, RCPT, DATA, QUIT) to receive what scimd sends, and keeps each message with the
//! credentials it came with, so tests read an email as its recipient would. Plain SMTP
//! only for now (STARTTLS to come with a test certificate authority).

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The user and password it authenticated with.
    pub auth: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body).
    pub raw: String,
}

impl Received {
    /// The body decoded from quoted-printable (soft line breaks joined, `=XX` decoded).
    pub fn text(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

pub async fn start() -> Sink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let mut m = Received::default();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 AUTH PLAIN LOGIN\r\n"
                    } else if let Some(rest) = line.strip_prefix("AUTH PLAIN") {
                        let creds = if rest.trim().is_empty() {
                            let _ = w.write_all(b"334 \r\n").await;
                            b64(&lines.next_line().await.ok().flatten().unwrap_or_default())
                        } else {
                            b64(rest)
                        };
                        let parts: Vec<&str> = creds.split('\0').collect();
                        m.auth =
                            Some((parts.get(1).unwrap_or(&"").to_string(), parts.get(2).unwrap_or(&"").to_string()));
                        b"235 ok\r\n"
                    } else if upper.starts_with("AUTH LOGIN") {
                        let _ = w.write_all(b"334 VXNlcm5hbWU6\r\n").await;
                        let user = b64(&lines.next_line().await.ok().flatten().unwrap_or_default());
                        let _ = w.write_all(b"334 UGFzc3dvcmQ6\r\n").await;
                        let pass = b64(&lines.next_line().await.ok().flatten().unwrap_or_default());
                        m.auth = Some((user, pass));
                        b"235 ok\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        m.from = line[10..].trim().trim_matches(['<', '>']).to_string();
                        b"250 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        m.to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        let _ = w.write_all(b"354 go on\r\n").await;
                        let mut raw = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                            raw.push_str("\r\n");
                        }
                        m.raw = raw;
                        kept.lock().unwrap().push(std::mem::take(&mut m));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Sink { port, received }
}
