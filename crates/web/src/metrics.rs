//! Prometheus metrics: request counts and latency histograms by route.
//!
//! One registry per router (not a global), so tests and several servers in one process never mix
//! their counts. Routes are labelled by their pattern (`/static/{*path}`), never by the raw path,
//! so a scan of random URLs cannot blow up the number of series; likewise a method outside the
//! standard ones is counted as `other`, whatever a client invents.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::error::WebError;
use crate::state::WebState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    password_checks: IntGauge,
    /// The group commit and the documents' group flush (see `store::writer`, `app::documents`).
    write_batches: IntGauge,
    write_jobs: IntGauge,
    write_busy: prometheus::Gauge,
    write_commit: prometheus::Gauge,
    document_flushes: IntGauge,
    documents_flushed: IntGauge,
    /// Writes the writer did not take (queue full, caller gone) and its restarts.
    writer_events: IntGaugeVec,
    writer_up: IntGauge,
    /// The data folder's free space, and whether it is under `min_free_disk_mib`.
    disk_free: IntGauge,
    storage_full: IntGauge,
    /// The mobile registry's answers (`app::ownership`).
    ownership: IntGaugeVec,
    /// Connections and request bodies (`server.rs`, `limits.rs`).
    connections_open: IntGauge,
    connections_refused: IntGauge,
    body_bytes: IntGauge,
}

/// Label for requests no route matched.
const UNMATCHED: &str = "(unmatched)";

/// The method as a label: one of HTTP's standard methods, or `other` (a client may send any
/// token as a method; each would otherwise become a series of its own).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status.",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by route.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let password_checks = IntGauge::new(
            "pishkhan_password_hash_checks",
            "Passwords checked against their argon2id hash since start (refused attempts are \
             not checked).",
        )?;
        let write_batches = IntGauge::new(
            "pishkhan_write_batches_total",
            "Transactions of the group-commit writer (one flush to disk each) since start.",
        )?;
        let write_jobs = IntGauge::new(
            "pishkhan_write_jobs_total",
            "Writes (filings, workflow actions) those transactions carried.",
        )?;
        let write_busy = prometheus::Gauge::new(
            "pishkhan_write_busy_seconds_total",
            "Time the group-commit writer spent in transactions, BEGIN to end of COMMIT.",
        )?;
        let write_commit = prometheus::Gauge::new(
            "pishkhan_write_commit_seconds_total",
            "Of that time, in COMMIT (the flush to disk).",
        )?;
        let document_flushes = IntGauge::new(
            "pishkhan_document_flushes_total",
            "Group flushes of the local documents folder since start.",
        )?;
        let documents_flushed = IntGauge::new(
            "pishkhan_documents_flushed_total",
            "Files those flushes covered.",
        )?;
        let writer_events = IntGaugeVec::new(
            Opts::new(
                "pishkhan_writer_events_total",
                "Since start: writes refused because the writer's queue was full (refused_busy, \
                 answered 503), writes not run because their caller had stopped waiting \
                 (abandoned), and restarts of the writer after a write panicked (restarts).",
            ),
            &["event"],
        )?;
        registry.register(Box::new(writer_events.clone()))?;
        let writer_up = IntGauge::new(
            "pishkhan_writer_up",
            "1 while the group-commit writer runs, 0 while it starts again.",
        )?;
        let disk_free = IntGauge::new(
            "pishkhan_data_free_bytes",
            "Free space in the data folder's file system.",
        )?;
        let storage_full = IntGauge::new(
            "pishkhan_storage_full",
            "1 while the data folder has less free space than min_free_disk_mib: filings and \
             uploads are refused (503), reads go on.",
        )?;
        let ownership = IntGaugeVec::new(
            Opts::new(
                "pishkhan_mobile_ownership_inquiries_total",
                "Inquiries to the national registry of mobile lines since start, by answer \
                 (confirmed, denied, unavailable: the registry could not be asked, and the \
                 sign-in or consent was refused).",
            ),
            &["answer"],
        )?;
        registry.register(Box::new(ownership.clone()))?;
        let connections_open = IntGauge::new("pishkhan_connections_open", "Connections open now.")?;
        let connections_refused = IntGauge::new(
            "pishkhan_connections_refused_total",
            "Connections closed at once since start: the server, or their address, was at its \
             cap (max_connections, max_connections_per_address).",
        )?;
        let body_bytes = IntGauge::new(
            "pishkhan_request_body_bytes_in_flight",
            "Bytes of request bodies being received or handled now (max_body_in_flight_mib).",
        )?;
        for gauge in [
            &connections_open,
            &connections_refused,
            &body_bytes,
            &write_batches,
            &write_jobs,
            &document_flushes,
            &documents_flushed,
            &writer_up,
            &disk_free,
            &storage_full,
        ] {
            registry.register(Box::new(gauge.clone()))?;
        }
        registry.register(Box::new(write_busy.clone()))?;
        registry.register(Box::new(write_commit.clone()))?;
        registry.register(Box::new(password_checks.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            password_checks,
            write_batches,
            write_jobs,
            write_busy,
            write_commit,
            document_flushes,
            documents_flushed,
            writer_events,
            writer_up,
            disk_free,
            storage_full,
            ownership,
            connections_open,
            connections_refused,
            body_bytes,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status.to_string().as_str()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    fn render(&self) -> Result<String, WebError> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

/// Middleware: counts and times every request.
pub async fn record(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    state.metrics.observe(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`: Prometheus text format, for whoever holds the metrics token (a bearer token
/// from the configuration); everyone else, and everyone when no token is set, gets a 404: the
/// counters say too much about the province's traffic to be public.
pub async fn export(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let expected = state.app.config().metrics_token.expose();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if expected.is_empty()
        || !pishkhan_domain::totp::constant_time_eq(given.as_bytes(), expected.as_bytes())
    {
        return Err(WebError::NotFound);
    }
    state
        .metrics
        .password_checks
        .set(i64::try_from(state.app.password_checks()).unwrap_or(i64::MAX));
    let m = &state.metrics;
    let writes = state.app.write_stats();
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    m.write_batches.set(count(writes.batches));
    m.write_jobs.set(count(writes.jobs));
    m.write_busy.set(writes.busy_micros as f64 / 1e6);
    m.write_commit.set(writes.commit_micros as f64 / 1e6);
    let (flushes, flushed) = state.app.documents().flush_stats();
    m.document_flushes.set(count(flushes));
    m.documents_flushed.set(count(flushed));
    for (event, n) in [
        ("refused_busy", writes.refused_busy),
        ("abandoned", writes.abandoned),
        ("restarts", writes.restarts),
    ] {
        m.writer_events.with_label_values(&[event]).set(count(n));
    }
    m.writer_up.set(i64::from(state.app.writer_is_up()));
    if let Some(free) = state.app.free_disk() {
        m.disk_free.set(count(free));
    }
    m.storage_full.set(i64::from(state.app.storage_full()));
    let connections = &state.connections;
    m.connections_open.set(count(
        connections.open.load(std::sync::atomic::Ordering::Relaxed),
    ));
    m.connections_refused.set(count(
        connections
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
    ));
    m.body_bytes
        .set(i64::try_from(state.body_budget.in_use()).unwrap_or(i64::MAX));
    let answers = state.app.mobile_ownership().counts();
    for (answer, n) in [
        ("confirmed", answers.confirmed),
        ("denied", answers.denied),
        ("unavailable", answers.unavailable),
    ] {
        m.ownership.with_label_values(&[answer]).set(count(n));
    }
    let body = m.render()?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        for invented in ["FOO", "X1", "PROPFIND", "get"] {
            let method = axum::http::Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{invented}");
        }
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
    }
}
