//! Serving connections with limits nobody can talk us out of.
//!
//! `axum::serve` has no header-read, idle or body timeouts and no connection cap: a hundred
//! connections that send nothing stay open for ever, and a few hundred slow ones take the server
//! (and `/healthz`) down. This accept loop gives each connection to hyper with:
//! - a cap on connections in all and per peer address (over it, the connection is closed at
//!   once, so the kernel's queue never fills);
//! - a header-read timeout, which also ends keep-alive connections left idle (hyper starts it
//!   whenever it waits for a request's head);
//! - graceful shutdown: on the signal, no new connections; those in flight finish their request,
//!   for at most [`ServerLimits::drain`].
//!
//! Per-request limits (a time limit, bytes in flight) are layers in `router.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// What one process accepts at once, and how long it waits.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one peer address (a reverse proxy counts as one peer).
    pub max_connections_per_address: usize,
    /// A request's head must arrive within this; a keep-alive connection idle this long ends.
    pub header_timeout: Duration,
    /// How long in-flight requests may finish after the stop signal.
    pub drain: Duration,
    /// Reverse proxies: many people's connections come through each, so the per-address cap
    /// does not apply to them (the global cap does).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

/// Connections refused since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    pub open: AtomicU64,
    pub refused: AtomicU64,
}

/// Open connections per peer address.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Releases a connection's place when its task ends, however it ends.
struct Place {
    address: IpAddr,
    per_address: PerAddress,
    stats: Arc<ConnectionStats>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut counts) = self.per_address.lock()
            && let Some(count) = counts.get_mut(&self.address)
        {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish (at most `limits.drain`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    stats: Arc<ConnectionStats>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address: PerAddress = Arc::default();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or the peer gave up: wait a moment, go on.
                    tracing::warn!(error = %e, "a connection could not be accepted");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = take_place(&connections, &per_address, &stats, &limits, remote.ip())
        else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request.map(axum::body::Body::new)
            });
        // HTTP/1.1 only: browsers speak HTTP/2 over TLS, which a reverse proxy ends; serving
        // h2c would mean sniffing the first bytes first, with no timeout on that wait.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(place);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            drain = ?limits.drain,
            "requests still running at the end of the drain were cut"
        );
    }
    Ok(())
}

/// A place for a new connection from `address`, or `None` when the server or that address is
/// at its cap.
fn take_place(
    connections: &Arc<tokio::sync::Semaphore>,
    per_address: &PerAddress,
    stats: &Arc<ConnectionStats>,
    limits: &ServerLimits,
    address: IpAddr,
) -> Option<Place> {
    let permit = connections.clone().try_acquire_owned().ok()?;
    let proxy = limits
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&address));
    // One subscriber holds a whole IPv6 /64: its addresses count as one.
    let address = pishkhan_app::auth::group(address);
    if !proxy {
        let mut counts = per_address.lock().ok()?;
        let count = counts.entry(address).or_insert(0);
        if *count >= limits.max_connections_per_address {
            return None;
        }
        *count += 1;
    }
    stats.open.fetch_add(1, Ordering::Relaxed);
    Some(Place {
        address,
        per_address: per_address.clone(),
        stats: stats.clone(),
        _permit: permit,
    })
}
