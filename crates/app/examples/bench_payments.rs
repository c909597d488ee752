//! Payments per second against filings per second, in one run on one SQLite database (run by
//! `bench/payments`, release build). Both go through the use cases a page or the API calls:
//! - filings: `App::submit_application` by the registry's system (the demo's example birth
//!   certificate, with its scan): the application, its document, its first history line, the
//!   audit line, durably;
//! - payments: `App::pay_bill_at_counter` by the demo's operator, each a distinct water bill:
//!   the payment row, its balanced ledger entry (till → company) and the audit line, durably,
//!   after the checks (paid already? till closed?).
//!
//! Each is measured for SECONDS with CONCURRENCY tasks; the books are checked to balance and
//! every payment to have its entry. Prints one line per measure and the ratio.
//!
//!   cargo run --release -p pishkhan-app --example bench_payments -- [SECONDS] [CONCURRENCY]

// A benchmark stops at the first failure, saying which: a failed filing or payment is a wrong
// figure, not something to carry on past.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use pishkhan_app::audit::Actor;
use pishkhan_app::policy::Principal;
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::id::{BillServiceType, issue_bill};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::payment::Method;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let tasks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = Config::load(&pishkhan_app::config::Sources::default()).expect("defaults");
    config.data_dir = dir.path().to_path_buf();
    let app = App::start(config).await.expect("Pishkhan starts");
    app.load_demo().await.expect("the demo's accounts");
    app.load_demo_catalogue()
        .await
        .expect("the demo's catalogue");
    let actor = Actor::command_line();
    app.create_user(
        &actor,
        "bench.registry",
        "سامانهٔ ثبت احوال",
        &Secret::new("bench passphrase for the registry".to_owned()),
        vec![
            RoleGrant::new(
                Role::System,
                Scope::parse("agency:tehran-civil-registry").expect("scope"),
            )
            .expect("grant"),
        ],
    )
    .await
    .expect("the registry's system");
    let system = Principal::System(
        app.user_by_username("bench.registry")
            .await
            .expect("store")
            .expect("user"),
    );
    let operator = Principal::Staff(
        app.user_by_username("operator.1001")
            .await
            .expect("store")
            .expect("the demo's operator"),
    );
    let mut example = app
        .example_submission("tehran.birth-certificate")
        .await
        .expect("store")
        .expect("the example");
    example.national_id = "0082451291".into();
    example.mobile = "09121234567".into();

    // Filings.
    let filed = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut running = Vec::new();
    for _ in 0..tasks {
        let (app, system, example, filed) =
            (app.clone(), system.clone(), example.clone(), filed.clone());
        running.push(tokio::spawn(async move {
            while Instant::now() < until {
                app.submit_application(&system, "bench", example.clone(), Utc::now())
                    .await
                    .expect("a filing");
                filed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for task in running {
        task.await.expect("a filing task");
    }
    let filings_per_s = filed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Payments: each task its own run of bills.
    let paid = Arc::new(AtomicU64::new(0));
    let next_file = Arc::new(AtomicU32::new(1_000_000));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut running = Vec::new();
    for _ in 0..tasks {
        let (app, operator, paid, next_file) = (
            app.clone(),
            operator.clone(),
            paid.clone(),
            next_file.clone(),
        );
        running.push(tokio::spawn(async move {
            while Instant::now() < until {
                let file = next_file.fetch_add(1, Ordering::Relaxed);
                let (bill, payment) =
                    issue_bill(file, 11, BillServiceType::Water, 845_000, 5, 8).expect("a bill");
                app.pay_bill_at_counter(
                    &operator,
                    "bench",
                    "tehran-1001",
                    bill.as_str(),
                    payment.as_str(),
                    Method::Cash,
                    "",
                    Utc::now(),
                )
                .await
                .expect("a payment");
                paid.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for task in running {
        task.await.expect("a payment task");
    }
    let payments = paid.load(Ordering::Relaxed);
    let payments_per_s = payments as f64 / started.elapsed().as_secs_f64();

    // Every payment posted, the books balanced.
    let (ledger_total, entries) = app.books_check().await.expect("the books");
    assert_eq!(ledger_total, 0, "the books balance");
    assert_eq!(entries, payments, "one entry per payment");
    println!(
        "filings   {filings_per_s:8.0} /s  ({} in {seconds} s, {tasks} tasks)",
        filed.load(Ordering::Relaxed)
    );
    println!(
        "payments  {payments_per_s:8.0} /s  ({payments} with {entries} ledger entries, books balanced) = {:.2} × filings/s",
        payments_per_s / filings_per_s
    );
    app.close().await;
}
