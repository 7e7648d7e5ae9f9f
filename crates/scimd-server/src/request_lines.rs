//! The request log's own writer: one line per request (target `scimd::request`), formatted
//! here rather than by the tracing subscriber, gathered in memory and written to standard
//! error by a thread of its own every few milliseconds.
//!
//! Why not `tracing::info!` like every other line: at tens of thousands of requests a
//! second, the subscriber's generic formatting (a field visitor, a timestamp formatted from
//! scratch) and one `write(2)` per line under the stderr lock cost a fifth of a worker's
//! time. Here a line is formatted with a timestamp prefix cached per second, appended to a
//! shared buffer (one short lock), and written with the other lines of the same few
//! milliseconds in one `write(2)`. The line is the one the subscriber writes (human or
//! JSON, same fields and order), so nothing reading the log sees a difference; whether it
//! is written is still the log filter's decision (`log.level`, e.g. `scimd::request=off`).
//!
//! The buffer is bounded: a line that would take it over [`MAX_BUFFERED`] (standard error
//! not being read) is dropped and counted (`scimd_log_lines_dropped_total`), never waited
//! for. A line may reach the file up to [`FLUSH_EVERY`] after the server's other lines of
//! the same moment; lines are flushed when the server stops. Without [`install`] (a
//! terminal, which gets colours, or a server run inside tests) lines go through tracing.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// At most this much is buffered (about 16,000 lines); more is dropped and counted.
pub const MAX_BUFFERED: usize = 4 << 20;
/// How long a line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A buffer this full is written at once.
const WRITE_AT: usize = 256 << 10;

/// Lines dropped since the start because the buffer was full.
static DROPPED: AtomicU64 = AtomicU64::new(0);
static SINK: OnceLock<Arc<Sink>> = OnceLock::new();

/// Lines dropped since the start because standard error did not keep up.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// One request, as logged.
pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub client_request_id: Option<&'a str>,
    pub tenant: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub duration_ms: f64,
}

/// How lines are written, as `log.format` says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Human,
    Json,
}

struct Sink {
    format: Format,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    stopping: bool,
}

/// Flushes the buffered lines and stops the writer thread when dropped (at the end of `main`).
pub struct Guard {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(sink) = SINK.get() {
            sink.state.lock().expect("request log buffer").stopping = true;
            sink.wake.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends request lines through the buffer and its writer thread from now on.
pub fn install(format: Format) -> Guard {
    let sink = Arc::new(Sink { format, state: Mutex::new(State::default()), wake: Condvar::new() });
    if SINK.set(sink.clone()).is_err() {
        return Guard { thread: None };
    }
    let thread = std::thread::Builder::new()
        .name("scimd-request-log".into())
        .spawn(move || writer(&sink))
        .expect("starting the request log's writer thread");
    Guard { thread: Some(thread) }
}

fn writer(sink: &Sink) {
    let mut out = Vec::with_capacity(WRITE_AT);
    loop {
        let stopping = {
            let mut st = sink.state.lock().expect("request log buffer");
            if st.buf.is_empty() && !st.stopping {
                st = sink.wake.wait_timeout(st, FLUSH_EVERY).expect("request log buffer").0;
            }
            std::mem::swap(&mut st.buf, &mut out);
            st.stopping
        };
        if !out.is_empty() {
            // A failed write (standard error closed) loses these lines, as the subscriber would.
            let _ = std::io::stderr().lock().write_all(&out);
            out.clear();
            if out.capacity() > 2 * WRITE_AT {
                out.shrink_to(WRITE_AT);
            }
        }
        if stopping {
            return;
        }
        // Lines keep arriving: let them gather for a moment rather than writing one by one.
        std::thread::sleep(FLUSH_EVERY / 4);
    }
}

/// Logs one request (if the log filter lets `scimd::request` through).
pub fn log(line: &RequestLine<'_>) {
    let Some(sink) = SINK.get() else {
        tracing::info!(
            target: "scimd::request",
            request_id = %line.request_id,
            client_request_id = line.client_request_id,
            tenant = %line.tenant,
            method = %line.method,
            route = %line.route,
            path = %line.path,
            status = line.status,
            duration_ms = line.duration_ms,
        );
        return;
    };
    LINE.with(|cell| {
        let mut text = cell.borrow_mut();
        text.clear();
        match sink.format {
            Format::Human => human(&mut text, line),
            Format::Json => json(&mut text, line),
        }
        let mut st = sink.state.lock().expect("request log buffer");
        if st.buf.len() + text.len() > MAX_BUFFERED {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        st.buf.extend_from_slice(&text);
        if st.buf.len() >= WRITE_AT {
            sink.wake.notify_one();
        }
    });
}

thread_local! {
    static LINE: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(512));
    /// The second last formatted and its `YYYY-MM-DDTHH:MM:SS.` prefix.
    static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-05T06:42:24.667008Z`, as the subscriber writes it.
fn timestamp(out: &mut Vec<u8>) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs();
    SECOND.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.0 != secs {
            let t = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
            c.1 = t.format("%Y-%m-%dT%H:%M:%S.").to_string();
            c.0 = secs;
        }
        out.extend_from_slice(c.1.as_bytes());
    });
    let _ = write!(out, "{:06}Z", now.subsec_micros());
}

/// The subscriber's human line: `TS  INFO scimd::request: key=value …`; text values as
/// they are, the client's request id quoted (it is the client's).
fn human(out: &mut Vec<u8>, l: &RequestLine<'_>) {
    timestamp(out);
    out.extend_from_slice(b"  INFO scimd::request: request_id=");
    out.extend_from_slice(l.request_id.as_bytes());
    if let Some(c) = l.client_request_id {
        let _ = write!(out, " client_request_id={c:?}");
    }
    for (k, v) in [(" tenant=", l.tenant), (" method=", l.method), (" route=", l.route), (" path=", l.path)] {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    let _ = writeln!(out, " status={} duration_ms={}", l.status, l.duration_ms);
}

/// The subscriber's JSON line (`flatten_event`): timestamp, level, the fields, target.
fn json(out: &mut Vec<u8>, l: &RequestLine<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp(out);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"request_id\":");
    string(out, l.request_id);
    if let Some(c) = l.client_request_id {
        out.extend_from_slice(b",\"client_request_id\":");
        string(out, c);
    }
    for (k, v) in
        [(",\"tenant\":", l.tenant), (",\"method\":", l.method), (",\"route\":", l.route), (",\"path\":", l.path)]
    {
        out.extend_from_slice(k.as_bytes());
        string(out, v);
    }
    let _ = writeln!(out, ",\"status\":{},\"duration_ms\":{},\"target\":\"scimd::request\"}}", l.status, l.duration_ms);
}

/// A JSON string (serde_json's escaping).
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(client: Option<&'a str>, path: &'a str) -> RequestLine<'a> {
        RequestLine {
            request_id: "e388f0355bbb-00000001",
            client_request_id: client,
            tenant: "bench",
            method: "GET",
            route: "/scim/v2/Users/{id}",
            path,
            status: 200,
            duration_ms: 0.71,
        }
    }

    #[test]
    fn human_lines_read_as_the_subscriber_writes_them() {
        let mut out = Vec::new();
        human(&mut out, &line(Some("req \"7\""), "/scim/v2/Users/x"));
        let text = String::from_utf8(out).unwrap();
        let (ts, rest) = text.split_once("  ").unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.len() == 27, "{ts}");
        assert_eq!(
            rest,
            "INFO scimd::request: request_id=e388f0355bbb-00000001 client_request_id=\"req \\\"7\\\"\" \
             tenant=bench method=GET route=/scim/v2/Users/{id} path=/scim/v2/Users/x status=200 duration_ms=0.71\n"
        );
    }

    #[test]
    fn json_lines_are_json_with_the_subscribers_keys() {
        let mut out = Vec::new();
        json(&mut out, &line(None, "/scim/v2/Users/ü\"\n"));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["target"], "scimd::request");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["path"], "/scim/v2/Users/ü\"\n");
        assert_eq!(v["status"], 200);
        assert_eq!(v["duration_ms"], 0.71);
        assert!(v.get("client_request_id").is_none());
        assert!(chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap()).is_ok());
        assert_eq!(out.last(), Some(&b'\n'));
    }
}
