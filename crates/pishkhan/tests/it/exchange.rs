//! The exchange with a real agency system: the simulator (`pishkhan agency-sim`) as its own
//! process, receiving Pishkhan's signed webhooks, going down under filing load and coming back;
//! and two `pishkhan serve` nodes on one PostgreSQL database, one killed mid-run.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use pishkhan_app::App;
use pishkhan_app::audit::Actor;
use pishkhan_store::Store;
use serde_json::Value;

use crate::support::{Server, on_both_backends, pishkhan, test_config};

on_both_backends!(the_agency_system_gets_every_event_once_through_an_outage);

/// A free port on this machine.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Starts the simulator at `address` with `secret`, keeping its records in `dir`.
fn simulator(dir: &Path, address: &str, secret: &str, extra: &[&str]) -> Server {
    let mut command = pishkhan(dir);
    command
        .args(["agency-sim", "--listen", address, "--records", "sim.jsonl"])
        .args(extra)
        .env("PISHKHAN_SIM_SECRETS", secret);
    Server::start(command)
}

fn records(sim: &Server) -> Value {
    let (status, body) = sim.get("/records");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn applied_ids(records: &Value) -> Vec<String> {
    records["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A raw POST to the simulator's webhook with the given headers: its status.
fn post_webhook(address: &str, headers: &[(&str, String)], body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    write!(stream, "{head}\r\n{body}").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

async fn file_many(app: &App, store: &Store, n: usize) -> Vec<String> {
    let person = pishkhan_app::policy::Principal::Citizen(
        store
            .ensure_citizen(&pishkhan_app::records::CitizenRecord {
                id: format!("citizen-{}", Utc::now().timestamp_nanos_opt().unwrap_or(0)),
                national_id: "0076229645".into(),
                mobile: "+989121234567".into(),
                created_at: Utc::now(),
            })
            .await
            .unwrap(),
    );
    let mut request = app
        .example_submission("tehran.birth-certificate")
        .await
        .unwrap()
        .unwrap();
    request.national_id = String::new();
    request.mobile = String::new();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (app, person, request) = (app.clone(), person.clone(), request.clone());
            tokio::spawn(async move {
                app.submit_application(&person, "test", request, Utc::now())
                    .await
                    .unwrap()
                    .code
                    .as_str()
                    .to_owned()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    // On PostgreSQL the feed waits for the oldest transaction still running on the server
    // (decision 0012); other tests run beside this one.
    let agency = "tehran-civil-registry";
    for _ in 0..200 {
        let visible = app
            .agency_events(agency, Default::default(), 100_000, Duration::ZERO)
            .await
            .unwrap()
            .len() as i64;
        if visible == app.count_agency_events(agency).await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    codes
}

/// Runs deliveries (as the job loop does, with the clock moved on past every pause) until
/// nothing waits; answers how many rounds it took.
async fn deliver_until_done(app: &App, agency: &str) -> usize {
    let mut later = Utc::now();
    for round in 1..=50 {
        app.deliver_webhooks(later).await.unwrap();
        if app.exchange_status(None, agency).await.unwrap().waiting == 0 {
            return round;
        }
        later += chrono::TimeDelta::hours(3);
    }
    panic!("deliveries still waiting after 50 rounds");
}

async fn the_agency_system_gets_every_event_once_through_an_outage(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let app = App::with_store(config, store.clone()).unwrap();
    app.seed_holidays().await.unwrap();
    app.load_demo_catalogue().await.unwrap();
    let agency = "tehran-civil-registry";
    let address = free_address();
    let secret = app
        .set_webhook(
            None,
            &Actor::command_line(),
            agency,
            &format!("http://{address}/webhook"),
        )
        .await
        .unwrap()
        .unwrap();
    let sim = simulator(dir.path(), &address, secret.expose(), &[]);

    // Up: twenty filings, twenty events applied.
    file_many(&app, &store, 20).await;
    deliver_until_done(&app, agency).await;
    let seen = records(&sim);
    assert_eq!(applied_ids(&seen).len(), 20);
    assert_eq!(seen["duplicates"], 0);

    // Forged and replayed messages are refused as the documentation says.
    let body = r#"{"id":"evt_999999","type":"application.filed","subject":"x","data":{}}"#;
    let now = Utc::now().timestamp();
    let good = pishkhan_app::webhooks::sign(secret.expose(), "evt_999999", now, body).unwrap();
    let forged = pishkhan_app::webhooks::sign(
        &pishkhan_app::webhooks::new_secret(),
        "evt_999999",
        now,
        body,
    )
    .unwrap();
    let stale =
        pishkhan_app::webhooks::sign(secret.expose(), "evt_999999", now - 600, body).unwrap();
    let h = |ts: i64, sig: &str| {
        vec![
            ("webhook-id", "evt_999999".to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sig.to_owned()),
        ]
    };
    assert_eq!(post_webhook(&address, &h(now, &forged), body), 401);
    assert_eq!(post_webhook(&address, &h(now - 600, &stale), body), 401);
    assert_eq!(
        post_webhook(&address, &h(now, &good), &body.replace("999", "998")),
        401
    );
    assert_eq!(records(&sim)["refused"], 3);
    assert_eq!(
        applied_ids(&records(&sim)).len(),
        20,
        "nothing forged applied"
    );

    // Down while thirty more are filed: they wait.
    assert!(sim.terminate().success());
    file_many(&app, &store, 30).await;
    let (sent, failed) = app.deliver_webhooks(Utc::now()).await.unwrap();
    assert_eq!(
        (sent, failed),
        (0, 1),
        "one tried, the rest put back untried"
    );
    let waiting = app.exchange_status(None, agency).await.unwrap();
    assert_eq!((waiting.waiting, waiting.dead), (30, 0));

    // Back (same address, same records): every event arrives, none applied twice.
    let sim = simulator(dir.path(), &address, secret.expose(), &[]);
    deliver_until_done(&app, agency).await;
    let seen = records(&sim);
    let ids = applied_ids(&seen);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(unique.len(), 50);
    let stored: BTreeSet<String> = app
        .agency_events(agency, Default::default(), 500, Duration::ZERO)
        .await
        .unwrap()
        .into_iter()
        .map(|e| pishkhan_app::events::event_id(e.id))
        .collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), stored);
    drop(sim);
}

/// Two nodes on one PostgreSQL database share the webhook's jobs (claimed with SKIP LOCKED); one
/// is killed while agency systems file through both; every event still reaches the simulator,
/// and each is applied exactly once (by its id). The simulator also pulls the feed and applies
/// by the same ids, so the two ways in agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_one_killed_every_event_reaches_the_agency_once() {
    let Some(db) = pishkhan_store::testing::PostgresDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Set up as an installation would be: the demo's accounts and catalogue, an API token for
    // filing and one for pulling, the registry's webhook pointing at the simulator.
    let store = Store::connect(
        &pishkhan_store::DatabaseLocation::postgres_url(&url).unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let mut config = crate::support::postgres_config(&url);
    config.data_dir = data.clone();
    std::fs::create_dir_all(&data).unwrap();
    let app = App::with_store(config, store.clone()).unwrap();
    app.seed_holidays().await.unwrap();
    app.load_demo().await.unwrap();
    app.load_demo_catalogue().await.unwrap();
    let cli = Actor::command_line();
    let token = app
        .create_api_token(&cli, "system.registry", "filing")
        .await
        .unwrap();
    let pull_token = app
        .create_api_token(&cli, "system.registry", "pull")
        .await
        .unwrap();
    let sim_address = free_address();
    let secret = app
        .set_webhook(
            None,
            &cli,
            "tehran-civil-registry",
            &format!("http://{sim_address}/webhook"),
        )
        .await
        .unwrap()
        .unwrap();
    let body = pishkhan_web::api::applications::example_json(
        &app.example_submission("tehran.birth-certificate")
            .await
            .unwrap()
            .unwrap(),
    )
    .to_string();
    let token = token.expose().clone();
    let node = || {
        let mut command = pishkhan(dir.path());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
            .env("PISHKHAN_DATABASE_URL", &url)
            .env("PISHKHAN_DOCUMENTS_SHARED", "true")
            .env("PISHKHAN_LOG_LEVEL", "warn");
        Server::start(command)
    };
    let mut one = node();
    let two = node();
    // One simulator receives the webhook; another, behind its "firewall", pulls the feed.
    let sim = simulator(dir.path(), &sim_address, secret.expose(), &[]);
    let mut command = pishkhan(dir.path());
    command
        .args([
            "agency-sim",
            "--listen",
            "127.0.0.1:0",
            "--records",
            "pulled.jsonl",
        ])
        .args(["--pull", &format!("http://{}", two.address)])
        .env("PISHKHAN_SIM_TOKEN", pull_token.expose());
    let puller = Server::start(command);

    let filed = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = [one.address.clone(), two.address.clone()]
        .into_iter()
        .map(|address| {
            let (token, body, filed, stop) =
                (token.clone(), body.clone(), filed.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match crate::applications::request(
                        &address,
                        "POST",
                        "/api/v1/applications",
                        &token,
                        &body,
                    ) {
                        Some((201, reply)) => {
                            let v: Value = serde_json::from_str(&reply).unwrap();
                            filed
                                .lock()
                                .unwrap()
                                .push(v["code"].as_str().unwrap().to_owned());
                        }
                        Some((status, reply)) => panic!("{status}: {reply}"),
                        None => break, // that node was killed
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while filed.lock().unwrap().len() < 60 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .args(["-KILL", &one.child.id().to_string()])
        .status()
        .unwrap();
    one.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let filed = filed.lock().unwrap().clone();
    assert!(filed.len() >= 60, "only {} filed", filed.len());

    // Every event in the database reaches the simulator — by webhook (from the node left, and
    // from the killed node's claims once their lease ends) or by the feed — each applied once.
    // (The killed node's open transaction ends when the server notices; until then the feed
    // waits behind it.)
    let mut events = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        events = store
            .feed("tehran-civil-registry", Default::default(), 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| pishkhan_app::events::event_id(e.id))
            .collect();
        let total = app
            .count_agency_events("tehran-civil-registry")
            .await
            .unwrap();
        if events.len() as i64 == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(events.len() >= filed.len());
    // The killed node's claimed deliveries come back when their lease (two minutes) ends.
    let deadline = Instant::now() + Duration::from_secs(240);
    let all_in = |sim: &Server| -> Vec<String> {
        loop {
            let applied = applied_ids(&records(sim));
            if applied.len() >= events.len() || Instant::now() > deadline {
                return applied;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    for (who, sim, via) in [("webhook", &sim, "webhook"), ("feed", &puller, "feed")] {
        let seen = records(sim);
        let applied = all_in(sim);
        let unique: BTreeSet<String> = applied.iter().cloned().collect();
        assert_eq!(unique.len(), applied.len(), "{who}: none applied twice");
        assert_eq!(unique, events, "{who}: every event applied");
        assert!(
            seen["applied"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["via"] == via),
            "{who}"
        );
    }
    // Each webhook job, whichever node ran it, finished; none dead.
    let waiting = store
        .outbox_counts("webhook.", Some("tehran-civil-registry"))
        .await
        .unwrap();
    assert_eq!(waiting.1, 0, "nothing dead-lettered");
    drop((sim, puller, two, app, store, db));
}
