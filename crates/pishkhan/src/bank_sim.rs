//! `pishkhan bank-sim`: a SANDBOX payment gateway, run as its own process beside Pishkhan (the
//! demo starts one; the tests drive it). No money moves: every page it shows says so. It follows
//! the redirect flow Iranian payment gateways use, so Pishkhan's side of the flow is the real one:
//!
//! - `POST /api/token` `{terminal, key, amount, order, callback}`: a token for paying `amount`
//!   rials (1,000 to 10^12) for the merchant's `order` (used once per terminal);
//! - `GET /pay/{token}`: the bank's page, where the person pays or cancels; the bank then sends
//!   the person's browser back to `callback` with a form `{token, order, terminal, status,
//!   reference, amount}` (status `paid`, `declined` or `cancelled`);
//! - `POST /api/verify` `{terminal, key, token}`: what the bank knows of the payment — Pishkhan
//!   counts nothing the bank has not said here; `POST /api/inquire` `{terminal, key, order}` the
//!   same by order, for a payment whose person never came back;
//! - `POST /api/settle` and `POST /api/reverse` `{terminal, key, token}`: the merchant keeps the
//!   money, or gives it back (within the reversal window);
//! - `POST /api/refund` `{terminal, key, token, amount}`: gives back part or all of a settled
//!   payment, never more than is left of it; answers the refund's reference;
//! - `GET /api/settlement?terminal=&key=&date=YYYY-MM-DD`: the day's settlement file, CSV, as a
//!   bank sends it for reconciliation;
//! - `POST /control` `{"mode": …}`: how it behaves from now on — `normal`; `fail` (declines every
//!   payment); `timeout` (takes the money but never sends the person back: only an inquiry finds
//!   it); `double` (calls back twice: once server to server, once through the browser);
//!   `amount` (takes 1,000 rials less than asked, and says so when verified).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use pishkhan_domain::text::{Digits, format_integer};

use crate::context::Failure;

#[derive(clap::Args)]
pub struct BankArgs {
    /// Where it listens.
    #[arg(long, default_value = "127.0.0.1:8091")]
    listen: SocketAddr,
    /// The merchants' terminals and their keys: `TERMINAL:KEY`, separated by commas.
    #[arg(long, env = "PISHKHAN_BANK_TERMINALS", hide_env_values = true)]
    terminals: String,
    /// How long after paying a payment may still be reversed, in seconds.
    #[arg(long, default_value_t = 1800)]
    reverse_window: i64,
    /// Stop when the process with this id ends (the demo that started it, even if killed).
    #[arg(long)]
    exit_with: Option<u32>,
}

/// The smallest and largest amounts the gateway takes, in rials.
const MIN_AMOUNT: i64 = 1_000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone)]
struct Payment {
    terminal: String,
    order: String,
    token: String,
    asked: i64,
    /// What the bank took (differs from `asked` only in `amount` mode).
    taken: i64,
    callback: String,
    /// pending, paid, declined, cancelled, settled, reversed
    status: &'static str,
    reference: String,
    paid_at: Option<DateTime<Utc>>,
    settled_at: Option<DateTime<Utc>>,
    /// Given back after settling, in rials (never more than `taken`).
    refunded: i64,
}

struct Bank {
    terminals: BTreeMap<String, String>,
    reverse_window: i64,
    mode: Mutex<String>,
    /// token → payment
    payments: Mutex<BTreeMap<String, Payment>>,
    tokens: std::collections::hash_map::RandomState,
    counter: std::sync::atomic::AtomicU64,
    client: reqwest::Client,
}

impl Bank {
    fn draw(&self, digits: usize) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut hasher = self.tokens.build_hasher();
        hasher.write_u64(n);
        let value = hasher.finish();
        format!("{value:020}")[20 - digits..].to_owned()
    }

    fn merchant(&self, terminal: &str, key: &str) -> bool {
        self.terminals.get(terminal).is_some_and(|k| k == key)
    }
}

fn refuse(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error, "message": message }))).into_response()
}

fn described(p: &Payment) -> Value {
    json!({
        "token": p.token, "order": p.order, "terminal": p.terminal, "status": p.status,
        "amount": p.taken, "reference": p.reference, "refunded": p.refunded,
        "paid_at": p.paid_at.map(|t| t.to_rfc3339()),
    })
}

#[derive(Deserialize)]
struct TokenAsk {
    terminal: String,
    key: String,
    amount: i64,
    order: String,
    callback: String,
}

async fn token(State(bank): State<Arc<Bank>>, Json(ask): Json<TokenAsk>) -> Response {
    if !bank.merchant(&ask.terminal, &ask.key) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "terminal",
            "unknown terminal or wrong key",
        );
    }
    if !(MIN_AMOUNT..=MAX_AMOUNT).contains(&ask.amount) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
            "the amount is not between 1,000 and 10^12 rials",
        );
    }
    if ask.order.is_empty() || ask.order.len() > 64 {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order",
            "an order id of 1 to 64 characters",
        );
    }
    if !(ask.callback.starts_with("http://") || ask.callback.starts_with("https://")) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "callback",
            "the callback is not an http(s) address",
        );
    }
    let mut payments = bank.payments.lock().await;
    if payments
        .values()
        .any(|p| p.terminal == ask.terminal && p.order == ask.order)
    {
        return refuse(
            StatusCode::CONFLICT,
            "order_used",
            "this order id was used before",
        );
    }
    let token = format!("SBX{}", bank.draw(16));
    payments.insert(
        token.clone(),
        Payment {
            terminal: ask.terminal,
            order: ask.order,
            token: token.clone(),
            asked: ask.amount,
            taken: 0,
            callback: ask.callback,
            status: "pending",
            reference: String::new(),
            paid_at: None,
            settled_at: None,
            refunded: 0,
        },
    );
    Json(json!({ "token": token })).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's frame: RTL, Persian, and a banner that no money moves here.
fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — درگاه آزمایشی</title><style>\
         body{{font-family:Vazirmatn,Tahoma,sans-serif;max-width:28rem;margin:0 auto;padding:1rem;background:#f4f4f4;color:#111}}\
         .sandbox{{background:#b00020;color:#fff;padding:.6rem;border-radius:.4rem;font-weight:bold;text-align:center}}\
         main{{background:#fff;padding:1rem;border-radius:.4rem;margin-top:1rem}}\
         button{{font:inherit;font-size:1.1rem;padding:.7rem 1.2rem;margin:.3rem 0;width:100%;border-radius:.4rem;border:1px solid #333;cursor:pointer}}\
         .pay{{background:#0b6b3a;color:#fff}} .amount{{font-size:1.4rem;font-weight:bold}}</style></head>\
         <body><p class=\"sandbox\" role=\"alert\">درگاه پرداخت آزمایشی (Sandbox) — هیچ پولی جابه‌جا نمی‌شود</p>\
         <main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

async fn pay_page(State(bank): State<Arc<Bank>>, Path(token): Path<String>) -> Response {
    let payments = bank.payments.lock().await;
    let Some(p) = payments.get(&token) else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "پرداخت پیدا نشد",
                "<p>این پیوند پرداخت معتبر نیست یا منقضی شده است.</p>",
            ),
        )
            .into_response();
    };
    if p.status != "pending" {
        return page(
            "این پرداخت انجام شده است",
            "<p>این پیوند پیش‌تر استفاده شده است و دوباره نمی‌توان با آن پرداخت کرد.</p>",
        )
        .into_response();
    }
    let amount = format_integer(p.asked, Digits::Persian);
    page(
        "پرداخت",
        &format!(
            "<p>پذیرنده: پیشخوان خدمات دولت (پایانهٔ <bdi>{terminal}</bdi>)</p>\
             <p>مبلغ: <span class=\"amount\">{amount} ریال</span></p>\
             <form method=\"post\"><button class=\"pay\" name=\"choice\" value=\"pay\">پرداخت</button>\
             <button name=\"choice\" value=\"cancel\">انصراف</button></form>",
            terminal = escape(&p.terminal),
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct Choice {
    choice: String,
}

/// The form the bank sends back to the merchant.
fn callback_fields(p: &Payment) -> Vec<(&'static str, String)> {
    vec![
        ("token", p.token.clone()),
        ("order", p.order.clone()),
        ("terminal", p.terminal.clone()),
        ("status", p.status.to_owned()),
        ("reference", p.reference.clone()),
        ("amount", p.taken.to_string()),
    ]
}

async fn pay(
    State(bank): State<Arc<Bank>>,
    Path(token): Path<String>,
    Form(choice): Form<Choice>,
) -> Response {
    let mode = bank.mode.lock().await.clone();
    let done = {
        let mut payments = bank.payments.lock().await;
        let Some(p) = payments.get_mut(&token) else {
            return (
                StatusCode::NOT_FOUND,
                page("پرداخت پیدا نشد", "<p>این پیوند پرداخت معتبر نیست.</p>"),
            )
                .into_response();
        };
        if p.status != "pending" {
            return page(
                "این پرداخت انجام شده است",
                "<p>این پیوند پیش‌تر استفاده شده است.</p>",
            )
            .into_response();
        }
        match (choice.choice.as_str(), mode.as_str()) {
            ("cancel", _) => p.status = "cancelled",
            ("pay", "fail") => p.status = "declined",
            ("pay", m) => {
                p.status = "paid";
                p.taken = if m == "amount" {
                    p.asked - 1_000
                } else {
                    p.asked
                };
                p.reference = bank.draw(12);
                p.paid_at = Some(Utc::now());
            }
            _ => {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page(
                        "انتخاب نامعتبر",
                        "<p>یکی از دکمه‌های «پرداخت» یا «انصراف» را بزنید.</p>",
                    ),
                )
                    .into_response();
            }
        }
        p.clone()
    };
    if mode == "timeout" && done.status == "paid" {
        return page(
            "ارتباط با پذیرنده برقرار نشد",
            "<p>مبلغ از حساب شما برداشت شد اما پاسخ به پذیرنده نرسید. پذیرنده وضعیت را از بانک می‌پرسد؛ \
             اگر پرداخت پذیرفته نشود، مبلغ ظرف ۷۲ ساعت برمی‌گردد.</p>",
        )
        .into_response();
    }
    let fields = callback_fields(&done);
    if mode == "double" {
        // Server to server first, then the browser: the merchant hears it twice.
        let _ = bank.client.post(&done.callback).form(&fields).send().await;
    }
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let said = match done.status {
        "paid" => "پرداخت انجام شد.",
        "cancelled" => "پرداخت لغو شد.",
        _ => "بانک پرداخت را نپذیرفت.",
    };
    page(
        said,
        &format!(
            "<p>در حال بازگشت به پذیرنده…</p><form id=\"back\" method=\"post\" action=\"{}\">{inputs}\
             <button class=\"pay\">بازگشت به پیشخوان</button></form>\
             <script>document.getElementById('back').submit()</script>",
            escape(&done.callback)
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct ByToken {
    terminal: String,
    key: String,
    token: Option<String>,
    order: Option<String>,
}

async fn find(bank: &Bank, ask: &ByToken) -> Result<Payment, Response> {
    if !bank.merchant(&ask.terminal, &ask.key) {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "terminal",
            "unknown terminal or wrong key",
        ));
    }
    let payments = bank.payments.lock().await;
    payments
        .values()
        .find(|p| {
            p.terminal == ask.terminal
                && (ask.token.as_deref() == Some(p.token.as_str())
                    || ask.order.as_deref() == Some(p.order.as_str()))
        })
        .cloned()
        .ok_or_else(|| {
            refuse(
                StatusCode::NOT_FOUND,
                "unknown",
                "no such payment on this terminal",
            )
        })
}

async fn verify(State(bank): State<Arc<Bank>>, Json(ask): Json<ByToken>) -> Response {
    match find(&bank, &ask).await {
        Ok(p) => Json(described(&p)).into_response(),
        Err(refused) => refused,
    }
}

/// Settles (`to` = settled) or reverses a paid payment; settling twice answers as the first.
async fn finish(bank: &Bank, ask: &ByToken, to: &'static str) -> Response {
    let found = match find(bank, ask).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let mut payments = bank.payments.lock().await;
    let Some(p) = payments.get_mut(&found.token) else {
        return refuse(StatusCode::NOT_FOUND, "unknown", "no such payment");
    };
    if p.status == to {
        return Json(described(p)).into_response();
    }
    if p.status != "paid" {
        return refuse(
            StatusCode::CONFLICT,
            "not_paid",
            &format!("the payment is {}", p.status),
        );
    }
    if to == "reversed"
        && p.paid_at
            .is_some_and(|t| (Utc::now() - t).num_seconds() > bank.reverse_window)
    {
        return refuse(
            StatusCode::CONFLICT,
            "window_closed",
            "too late to reverse: refund it instead",
        );
    }
    p.status = to;
    if to == "settled" {
        p.settled_at = Some(Utc::now());
    }
    Json(described(p)).into_response()
}

#[derive(Deserialize)]
struct RefundAsk {
    terminal: String,
    key: String,
    token: String,
    amount: i64,
}

/// Gives back part or all of a settled payment, to the card it came from: never more than what
/// is left of it. Answers the refund's own reference.
async fn refund(State(bank): State<Arc<Bank>>, Json(ask): Json<RefundAsk>) -> Response {
    let by_token = ByToken {
        terminal: ask.terminal.clone(),
        key: ask.key.clone(),
        token: Some(ask.token.clone()),
        order: None,
    };
    let found = match find(&bank, &by_token).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let reference = bank.draw(12);
    let mut payments = bank.payments.lock().await;
    let Some(p) = payments.get_mut(&found.token) else {
        return refuse(StatusCode::NOT_FOUND, "unknown", "no such payment");
    };
    if p.status != "settled" {
        return refuse(
            StatusCode::CONFLICT,
            "not_settled",
            &format!(
                "only a settled payment is refunded; this one is {}",
                p.status
            ),
        );
    }
    if ask.amount < 1 || ask.amount > p.taken - p.refunded {
        return refuse(
            StatusCode::CONFLICT,
            "too_much",
            &format!("{} rials are left to refund", p.taken - p.refunded),
        );
    }
    p.refunded += ask.amount;
    Json(json!({
        "token": p.token, "refund": format!("R{reference}"), "amount": ask.amount,
        "refunded": p.refunded,
    }))
    .into_response()
}

async fn settle(State(bank): State<Arc<Bank>>, Json(ask): Json<ByToken>) -> Response {
    finish(&bank, &ask, "settled").await
}

async fn reverse(State(bank): State<Arc<Bank>>, Json(ask): Json<ByToken>) -> Response {
    finish(&bank, &ask, "reversed").await
}

#[derive(Deserialize)]
struct SettlementAsk {
    terminal: String,
    key: String,
    date: chrono::NaiveDate,
}

/// The day's settled payments (UTC days), as the bank's settlement file.
async fn settlement(State(bank): State<Arc<Bank>>, Query(ask): Query<SettlementAsk>) -> Response {
    if !bank.merchant(&ask.terminal, &ask.key) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "terminal",
            "unknown terminal or wrong key",
        );
    }
    let payments = bank.payments.lock().await;
    let mut csv = String::from("date,terminal,order,token,reference,amount\n");
    for p in payments.values().filter(|p| {
        p.terminal == ask.terminal && p.settled_at.is_some_and(|t| t.date_naive() == ask.date)
    }) {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            ask.date, p.terminal, p.order, p.token, p.reference, p.taken
        ));
    }
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response()
}

async fn control(State(bank): State<Arc<Bank>>, Json(body): Json<Value>) -> StatusCode {
    let mode = body["mode"].as_str().unwrap_or("normal");
    if !["normal", "fail", "timeout", "double", "amount"].contains(&mode) {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    *bank.mode.lock().await = mode.to_owned();
    StatusCode::NO_CONTENT
}

/// Reads `TERMINAL:KEY,…`.
fn terminals(text: &str) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once(':') {
            Some((t, k)) if !t.is_empty() && k.len() >= 8 => {
                out.insert(t.to_owned(), k.to_owned());
            }
            _ => {
                return Err(Failure::config(
                    "--terminals: each is TERMINAL:KEY, the key at least 8 characters",
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(Failure::config("--terminals: name at least one terminal"));
    }
    Ok(out)
}

pub async fn run(args: BankArgs) -> Result<(), Failure> {
    let bank = Arc::new(Bank {
        terminals: terminals(&args.terminals)?,
        reverse_window: args.reverse_window,
        mode: Mutex::new("normal".to_owned()),
        payments: Mutex::new(BTreeMap::new()),
        tokens: std::collections::hash_map::RandomState::new(),
        counter: std::sync::atomic::AtomicU64::new(1),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
    });
    crate::agency_sim::exit_with(args.exit_with);
    let router = axum::Router::new()
        .route("/api/token", post(token))
        .route("/pay/{token}", get(pay_page).post(pay))
        .route("/api/verify", post(verify))
        .route("/api/inquire", post(verify))
        .route("/api/settle", post(settle))
        .route("/api/reverse", post(reverse))
        .route("/api/refund", post(refund))
        .route("/api/settlement", get(settlement))
        .route("/control", post(control))
        .route("/health", get(|| async { "ok" }))
        .with_state(bank);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::config(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener.local_addr().map_err(Failure::runtime)?;
    println!("Sandbox bank (no money moves) is serving http://{address}");
    axum::serve(listener, router)
        .with_graceful_shutdown(crate::serve::shutdown_signal())
        .await
        .map_err(|e| Failure::runtime(format!("the sandbox bank stopped: {e}")))
}

/// The terminal the demo's Pishkhan pays through at the sandbox bank.
pub const DEMO_TERMINAL: &str = "PISHKHAN-DEMO";

/// The sandbox bank the demo runs beside Pishkhan: a child process, stopped with the demo.
pub struct DemoBank {
    child: std::process::Child,
    pub address: SocketAddr,
}

impl Drop for DemoBank {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Starts `pishkhan bank-sim` on a free port with a fresh terminal key, and points Pishkhan's
/// online payments at it (unless a gateway is configured: then the demo pays through that).
pub fn start_beside_demo(config: &mut pishkhan_app::Config) -> Result<Option<DemoBank>, Failure> {
    if config.payment.is_some() {
        return Ok(None);
    }
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(Failure::runtime)?;
    let key = uuid::Uuid::new_v4().simple().to_string();
    let exe = std::env::current_exe().map_err(Failure::runtime)?;
    let child = std::process::Command::new(exe)
        .arg("bank-sim")
        .arg("--listen")
        .arg(address.to_string())
        .arg("--exit-with")
        .arg(std::process::id().to_string())
        .env("PISHKHAN_BANK_TERMINALS", format!("{DEMO_TERMINAL}:{key}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Failure::runtime(format!("cannot start the sandbox bank: {e}")))?;
    // Ready before the first person is sent to it.
    for _ in 0..100 {
        if std::net::TcpStream::connect(address).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    config.payment = Some(pishkhan_app::PaymentSettings {
        url: format!("http://{address}"),
        terminal: DEMO_TERMINAL.to_owned(),
        key: pishkhan_app::Secret::new(key),
    });
    Ok(Some(DemoBank { child, address }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_are_read_with_their_keys() {
        let Ok(t) = terminals("T-1001:sandbox-key-1, T-2:another-key") else {
            panic!("two terminals")
        };
        assert_eq!(t.get("T-1001").map(String::as_str), Some("sandbox-key-1"));
        assert!(terminals("T-1:short").is_err());
        assert!(terminals("").is_err());
        assert!(terminals("nokey").is_err());
    }
}
