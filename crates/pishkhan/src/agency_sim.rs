//! `pishkhan agency-sim`: a stand-in for an agency's own system, run as its own process beside
//! Pishkhan (the demo starts one; the tests drive it). It does what the developer documentation
//! asks of an agency's system, so it is also a worked example of it:
//!
//! - `POST /webhook`: checks the Standard Webhooks headers against its secrets — a bad
//!   signature or a timestamp more than five minutes off is refused with 401 — and applies each
//!   event once, by its id (a retried delivery is acknowledged, not applied again);
//! - pulls Pishkhan's events feed (`--pull`), keeping its cursor beside its records, so an event
//!   is applied once whichever way it came;
//! - `GET /records`: what it applied, by event id, and how many duplicates and refusals it saw;
//! - `POST /inquiries/{name}`: answers an inquiry from the data it was given (`--data FILE`:
//!   `{"inquiries": {"CODE": [{"input": {…}, "output": {…}}]}}`), `{"found": false}` when nothing
//!   matches; with secrets, only a question Pishkhan signed;
//! - `POST /control` `{"mode": "normal" | "fail" | "slow", "delay_ms": N}`: answers 500 to
//!   every webhook and inquiry, or answers after a delay — to test Pishkhan's retries, timeouts
//!   and breaker. "Down" is the process stopped: its records file keeps what it applied.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use pishkhan_app::webhooks::verify;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::context::Failure;

#[derive(clap::Args)]
pub struct SimArgs {
    /// Where it listens.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The webhook's secrets (`whsec_…`), separated by commas (two while a rotation overlaps).
    #[arg(long, env = "PISHKHAN_SIM_SECRETS", hide_env_values = true)]
    secrets: Option<String>,
    /// A file of the events it applied, one JSON line each, kept across restarts.
    #[arg(long)]
    records: Option<PathBuf>,
    /// Pull the events feed from this Pishkhan (e.g. http://127.0.0.1:8080) with `--token`.
    #[arg(long)]
    pull: Option<String>,
    /// The agency system's API token, for `--pull`.
    #[arg(long, env = "PISHKHAN_SIM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Stop when the process with this id ends (the demo that started it, even if killed).
    #[arg(long)]
    exit_with: Option<u32>,
    /// The answers to inquiries: `{"inquiries": {"CODE": [{"input": {…}, "output": {…}}]}}`.
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Default)]
struct Records {
    /// Event id → (how it came: webhook or feed, its type, its subject).
    applied: BTreeMap<String, (String, String, String)>,
    duplicates: u64,
    refused: u64,
    /// The feed's cursor, when pulling.
    cursor: String,
}

struct Sim {
    secrets: Vec<String>,
    /// Inquiry code → (input, output) pairs.
    answers: BTreeMap<String, Vec<(Value, Value)>>,
    inquiries_answered: std::sync::atomic::AtomicU64,
    records: Mutex<Records>,
    file: Option<PathBuf>,
    mode: Mutex<(String, u64)>,
}

impl Sim {
    /// Applies an event once; answers whether it was new. The line is written before the
    /// answer, so an acknowledged event survives a restart.
    async fn apply(&self, via: &str, event: &Value) -> std::io::Result<bool> {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        let subject = event["subject"].as_str().unwrap_or_default().to_owned();
        let cursor = event["cursor"].as_str().unwrap_or_default().to_owned();
        let mut records = self.records.lock().await;
        if via == "feed" {
            records.cursor = cursor.clone();
        }
        if records.applied.contains_key(&id) {
            records.duplicates += 1;
            if via == "feed"
                && let Some(file) = &self.file
            {
                append(file, &json!({ "cursor": cursor })).await?;
            }
            return Ok(false);
        }
        if let Some(file) = &self.file {
            let line = json!({ "id": id, "via": via, "type": kind, "subject": subject,
                "cursor": if via == "feed" { cursor } else { String::new() } });
            append(file, &line).await?;
        }
        records.applied.insert(id, (via.to_owned(), kind, subject));
        Ok(true)
    }
}

async fn append(file: &PathBuf, line: &Value) -> std::io::Result<()> {
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .await?;
    f.write_all(format!("{line}\n").as_bytes()).await?;
    f.sync_data().await
}

fn load(file: &PathBuf) -> Records {
    let mut records = Records::default();
    let Ok(text) = std::fs::read_to_string(file) else {
        return records;
    };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(c) = v["cursor"].as_str().filter(|c| !c.is_empty()) {
            records.cursor = c.to_owned();
        }
        if let Some(id) = v["id"].as_str() {
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            records.applied.insert(
                id.to_owned(),
                (field("via"), field("type"), field("subject")),
            );
        }
    }
    records
}

/// Behaves as told (`/control`): `Err` with 500 when failing; after a pause when slow.
async fn as_told(sim: &Sim) -> Result<(), StatusCode> {
    let (mode, delay) = sim.mode.lock().await.clone();
    match mode.as_str() {
        "fail" => Err(StatusCode::INTERNAL_SERVER_ERROR),
        "slow" => {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Is the message signed by Pishkhan with one of this system's secrets, and fresh? A refusal is
/// counted.
async fn signed(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> bool {
    let secrets: Vec<&str> = sim.secrets.iter().map(String::as_str).collect();
    let good = verify(
        &secrets,
        &header(headers, "webhook-id"),
        &header(headers, "webhook-timestamp"),
        &header(headers, "webhook-signature"),
        body,
        chrono::Utc::now(),
    )
    .is_ok();
    if !good {
        sim.records.lock().await.refused += 1;
    }
    good
}

async fn webhook(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Err(status) = as_told(&sim).await {
        return status;
    }
    if !signed(&sim, &headers, &body).await {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if event["id"].as_str() != Some(header(&headers, "webhook-id").as_str()) {
        sim.records.lock().await.refused += 1;
        return StatusCode::BAD_REQUEST;
    }
    match sim.apply("webhook", &event).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Answers an inquiry from the data given, after checking Pishkhan's signature (when this
/// simulator has secrets).
async fn inquiry(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if let Err(status) = as_told(&sim).await {
        return (status, Json(json!({})));
    }
    if !sim.secrets.is_empty() && !signed(&sim, &headers, &body).await {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let Ok(question) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({})));
    };
    sim.inquiries_answered
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let code = question["inquiry"].as_str().unwrap_or_default();
    let found = sim
        .answers
        .get(code)
        .and_then(|pairs| pairs.iter().find(|(input, _)| *input == question["input"]));
    match found {
        Some((_, output)) => (StatusCode::OK, Json(json!({ "output": output }))),
        None => (StatusCode::OK, Json(json!({ "found": false }))),
    }
}

async fn show_records(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let records = sim.records.lock().await;
    let applied: Vec<Value> = records
        .applied
        .iter()
        .map(|(id, (via, kind, subject))| {
            json!({ "id": id, "via": via, "type": kind, "subject": subject })
        })
        .collect();
    let subjects: BTreeSet<&str> = records.applied.values().map(|r| r.2.as_str()).collect();
    Json(json!({
        "applied": applied,
        "subjects": subjects.len(),
        "duplicates": records.duplicates,
        "refused": records.refused,
        "cursor": records.cursor,
        "inquiries": sim.inquiries_answered.load(std::sync::atomic::Ordering::Relaxed),
    }))
}

async fn control(State(sim): State<Arc<Sim>>, Json(body): Json<Value>) -> StatusCode {
    let mode = body["mode"].as_str().unwrap_or("normal");
    if !["normal", "fail", "slow"].contains(&mode) {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let delay = body["delay_ms"].as_u64().unwrap_or(0).min(120_000);
    *sim.mode.lock().await = (mode.to_owned(), delay);
    StatusCode::NO_CONTENT
}

/// Pulls the feed for ever: long-polls from the cursor it keeps, applies each event once.
async fn pull(sim: Arc<Sim>, base: String, token: String) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap_or_default();
    loop {
        let cursor = match sim.records.lock().await.cursor.clone() {
            c if c.is_empty() => "0".to_owned(),
            c => c,
        };
        let url = format!(
            "{}/api/v1/events?after={cursor}&wait=25&limit=200",
            base.trim_end_matches('/')
        );
        let page = async {
            let response = client.get(&url).bearer_auth(&token).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            serde_json::from_str::<Value>(&response.text().await.ok()?).ok()
        }
        .await;
        let Some(page) = page else {
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        };
        for event in page["events"].as_array().into_iter().flatten() {
            if sim.apply("feed", event).await.is_err() {
                tokio::time::sleep(Duration::from_secs(2)).await;
                break;
            }
        }
    }
}

pub async fn run(args: SimArgs) -> Result<(), Failure> {
    let secrets: Vec<String> = args
        .secrets
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let records = args.records.as_ref().map(load).unwrap_or_default();
    let mut answers: BTreeMap<String, Vec<(Value, Value)>> = BTreeMap::new();
    if let Some(path) = &args.data {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
        let data: Value = serde_json::from_str(&text)
            .map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
        for (code, pairs) in data["inquiries"].as_object().into_iter().flatten() {
            for pair in pairs.as_array().into_iter().flatten() {
                answers
                    .entry(code.clone())
                    .or_default()
                    .push((pair["input"].clone(), pair["output"].clone()));
            }
        }
    }
    let sim = Arc::new(Sim {
        secrets,
        answers,
        inquiries_answered: std::sync::atomic::AtomicU64::new(0),
        records: Mutex::new(records),
        file: args.records,
        mode: Mutex::new(("normal".to_owned(), 0)),
    });
    if let Some(base) = args.pull {
        let token = args
            .token
            .ok_or_else(|| Failure::config("--pull needs the agency system's --token"))?;
        tokio::spawn(pull(sim.clone(), base, token));
    }
    exit_with(args.exit_with);
    let router = axum::Router::new()
        .route("/webhook", post(webhook))
        .route("/records", get(show_records))
        .route("/inquiries/{name}", post(inquiry))
        .route("/control", post(control))
        .route("/health", get(|| async { "ok" }))
        .with_state(sim);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::config(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener.local_addr().map_err(Failure::runtime)?;
    println!("Agency simulator is serving http://{address}");
    axum::serve(listener, router)
        .with_graceful_shutdown(crate::serve::shutdown_signal())
        .await
        .map_err(|e| Failure::runtime(format!("the simulator stopped: {e}")))
}

/// Ends this process when the one with id `parent` ends (the demo that started it, even if it was
/// killed), where there is a /proc to look in (Linux).
pub(crate) fn exit_with(parent: Option<u32>) {
    if let Some(parent) = parent.filter(|_| std::path::Path::new("/proc/self").exists()) {
        tokio::spawn(async move {
            let alive = std::path::PathBuf::from(format!("/proc/{parent}"));
            while alive.exists() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            std::process::exit(0);
        });
    }
}

/// The demo's agency whose system the simulator stands in for.
pub const DEMO_AGENCY: &str = "tehran-civil-registry";

/// The other Tehran agencies whose inquiry services the simulator also answers (the business
/// licence's checks), each signing with its own webhook secret.
pub const DEMO_INQUIRY_AGENCIES: [&str; 3] = [
    "tehran-trade-unions",
    "tehran-public-places-police",
    "tehran-health-network",
];

/// The simulator the demo runs beside Pishkhan: a child process, stopped with the demo.
pub struct DemoSim {
    child: std::process::Child,
    pub address: SocketAddr,
}

impl Drop for DemoSim {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Starts `pishkhan agency-sim` for the demo's civil registry (and the agencies answering the
/// business licence's inquiries) on a free port and points their webhooks at it, each with a
/// fresh secret (a restarted demo rotates them, no overlap).
/// Its records are `agency-sim.jsonl` in the data folder.
pub async fn start_beside_demo(app: &pishkhan_app::App) -> Result<DemoSim, Failure> {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(Failure::runtime)?;
    let url = format!("http://{address}/webhook");
    let cli = pishkhan_app::audit::Actor::command_line();
    let fail = |e: pishkhan_app::webhooks::WebhookError| Failure::runtime(e.to_string());
    // Each agency it plays has a webhook here, with a fresh secret: Pishkhan signs what it
    // sends that agency with it, and the simulator checks every secret it was given.
    let mut secrets = Vec::new();
    for agency in std::iter::once(DEMO_AGENCY).chain(DEMO_INQUIRY_AGENCIES) {
        let secret = match app
            .set_webhook(None, &cli, agency, &url)
            .await
            .map_err(fail)?
        {
            Some(secret) => secret,
            None => app
                .rotate_webhook_secret(None, &cli, agency, chrono::TimeDelta::zero())
                .await
                .map_err(fail)?
                .ok_or_else(|| Failure::runtime(format!("the webhook of {agency} vanished")))?,
        };
        secrets.push(secret.expose().to_owned());
    }
    // Its inquiry services, pointing at the simulator, and the answers it gives.
    let definitions: Vec<Value> = serde_json::from_str(pishkhan_app::demo::DEMO_INQUIRIES)
        .map_err(|e| Failure::runtime(format!("the demo's inquiries: {e}")))?;
    for definition in definitions {
        let text = definition
            .to_string()
            .replace("{sim}", &format!("http://{address}"));
        app.register_inquiry(None, &cli, &text)
            .await
            .map_err(|e| Failure::runtime(format!("the demo's inquiries: {e}")))?;
    }
    let data = app.config().data_dir.join("agency-sim-data.json");
    std::fs::write(&data, pishkhan_app::demo::DEMO_SIM_DATA).map_err(Failure::runtime)?;
    let exe = std::env::current_exe().map_err(Failure::runtime)?;
    let records = app.config().data_dir.join("agency-sim.jsonl");
    let child = std::process::Command::new(exe)
        .arg("agency-sim")
        .arg("--listen")
        .arg(address.to_string())
        .arg("--records")
        .arg(&records)
        .arg("--exit-with")
        .arg(std::process::id().to_string())
        .arg("--data")
        .arg(&data)
        .env("PISHKHAN_SIM_SECRETS", secrets.join(","))
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Failure::runtime(format!("cannot start the agency simulator: {e}")))?;
    Ok(DemoSim { child, address })
}
