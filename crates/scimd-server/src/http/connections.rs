//! Serving TCP connections with HTTP/1.1 under three bounds, so that connections that send
//! nothing useful cannot pile up: at most `max_connections` open at once (beyond it the
//! listener stops accepting, and new connections wait in the kernel's queue until one
//! closes), a request head must arrive within `header_timeout` of the connection opening
//! or of its first byte, and a keep-alive connection with no request is closed after
//! `idle_timeout`. A graceful stop closes idle connections at once and lets the others
//! finish their request. The router sees the peer's address as `ConnectInfo`.
//!
//! hyper's own header-read timer also runs while a keep-alive connection waits for its
//! next request, so it cannot give a short header limit with a longer idle one: one
//! watchdog per connection does both, from what the connection's bytes and requests say.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

/// The bounds on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Longest wait for a request head, from the connection's opening or the head's first byte.
    pub header_timeout: Duration,
    /// Longest a keep-alive connection stays open with no request.
    pub idle_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then closes idle connections and
/// waits for the others to finish their requests.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: past the cap, connections wait unaccepted.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let watch = Arc::new(Watch::new());
        let service = {
            let (app, watch) = (app.clone(), watch.clone());
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let busy = Busy::start(watch.clone());
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                let call = app.clone().oneshot(req);
                async move {
                    let res = call.await?;
                    // The request counts as in progress until its response is written.
                    Ok::<_, Infallible>(res.map(|b| Tracked { inner: b, _busy: busy }))
                }
            })
        };
        let io = TokioIo::new(Watched { inner: stream, watch: watch.clone() });
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                r = conn => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                why = watch.expired(limits) => tracing::debug!(%peer, "connection closed: {why}"),
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// An accept that failed: a connection reset before it was accepted is skipped; anything
/// else (out of file descriptors, say) is logged and retried a moment later.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Where a connection is: waiting for (the rest of) a request head since when, serving
/// requests, or idle since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Head(Instant),
    Busy(u32),
    Idle(Instant),
}

/// A connection's phase, moved by its bytes and its requests, read by its watchdog.
struct Watch(Mutex<Phase>);

impl Watch {
    fn new() -> Watch {
        Watch(Mutex::new(Phase::Head(Instant::now())))
    }

    fn set(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut p = self.0.lock().expect("phase");
        *p = f(*p);
    }

    /// Bytes arrived: an idle connection starts a request head (the header limit runs
    /// from its first byte).
    fn bytes(&self) {
        self.set(|p| match p {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            p => p,
        });
    }

    /// Completes when the connection has been waiting too long for a request head, or
    /// idle too long; says which.
    async fn expired(&self, limits: ConnLimits) -> &'static str {
        loop {
            let phase = *self.0.lock().expect("phase");
            let (deadline, why) = match phase {
                Phase::Head(since) => (since + limits.header_timeout, "no complete request head in time"),
                Phase::Idle(since) => (since + limits.idle_timeout, "idle"),
                // A request's time is the request timeout's business; look again later.
                Phase::Busy(_) => (Instant::now() + limits.header_timeout, ""),
            };
            tokio::time::sleep_until(deadline).await;
            let now = *self.0.lock().expect("phase");
            let unchanged = match (phase, now) {
                (Phase::Head(a), Phase::Head(b)) | (Phase::Idle(a), Phase::Idle(b)) => a == b,
                _ => false,
            };
            if unchanged {
                return why;
            }
        }
    }
}

/// One request in progress on a connection, from its head until its response is written.
struct Busy(Arc<Watch>);

impl Busy {
    fn start(watch: Arc<Watch>) -> Busy {
        watch.set(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        Busy(watch)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// A response body that ends its request's [`Busy`] when hyper is done with it.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's socket, telling its [`Watch`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.bytes();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
