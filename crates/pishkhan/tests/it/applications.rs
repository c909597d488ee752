//! Applications through the running program: an agency system files through the API, the
//! person tracks it on the public page; and the crash test — under concurrent submissions the
//! server is killed with SIGKILL, and after a restart every tracking code it returned is there
//! with all its data, and nothing half-written is.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pishkhan_app::config::Sources;
use pishkhan_app::{App, Config};
use pishkhan_store::{DatabaseLocation, PoolSettings, Store};
use serde_json::{Value, json};

use crate::support::{Server, pishkhan, run};

const SERVICE: &str = "tehran.birth-certificate";
const NATIONAL_ID: &str = "0076229645";
use pishkhan_app::applications::EXAMPLE_PDF as PDF;

/// One HTTP/1.1 request over a fresh connection: status and body (`None` when the connection
/// failed, as it does once the server is killed).
pub(crate) fn request(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> Option<(u16, String)> {
    request_with(address, method, path, token, body, "")
}

/// A GET answered with its status, head and body as bytes (a document is not text).
fn raw_get(address: &str, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, reply[split + 4..].to_vec())
}

/// [`request`] with more header lines (each ending in `\r\n`).
pub(crate) fn request_with(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
    headers: &str,
) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).ok()?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    // Bodies here are small: unchunked, or chunked in one piece.
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        body.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0\r\n").map_or(rest, |(b, _)| b))
            .unwrap_or("")
            .to_owned()
    } else {
        body.to_owned()
    };
    Some((status, body))
}

async fn store_of(data: &Path) -> Store {
    Store::connect(
        &DatabaseLocation::SqliteFile(data.join("pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap()
}

/// A complete filing for `SERVICE`, as an agency system sends it (the program's own example),
/// and how many documents it attaches.
pub(crate) async fn complete_body(app: &App) -> (Value, usize) {
    let example = app.example_submission(SERVICE).await.unwrap().unwrap();
    let count = example.documents.len();
    (
        pishkhan_web::api::applications::example_json(&example),
        count,
    )
}

pub(crate) fn demo(dir: &Path) -> Server {
    let mut command = pishkhan(dir);
    command.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    command.env("PISHKHAN_LOG_LEVEL", "warn");
    Server::start(command)
}

pub(crate) fn token(dir: &Path) -> String {
    let mut command = pishkhan(dir);
    command.args([
        "token",
        "create",
        "--username",
        "system.registry",
        "--label",
        "test",
        "--data-dir",
        "data",
    ]);
    let done = run(command, Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    done.stdout
        .split("(shown only now): ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned()
}

pub(crate) async fn app_on(data: &Path) -> (App, Store) {
    let mut config = Config::load(&Sources::default()).unwrap();
    config.data_dir = data.to_owned();
    let store = store_of(data).await;
    (App::with_store(config, store.clone()).unwrap(), store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_system_files_and_the_person_tracks_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo(dir.path());
    let token = token(dir.path());
    let (app, _) = app_on(&dir.path().join("data")).await;
    let (mut body, documents) = complete_body(&app).await;

    let (status, reply) = request(
        &server.address,
        "POST",
        "/api/v1/applications",
        &token,
        &body.to_string(),
    )
    .unwrap();
    assert_eq!(status, 201, "{reply}");
    let filed: Value = serde_json::from_str(&reply).unwrap();
    let code = filed["code"].as_str().unwrap().to_owned();
    assert_eq!(filed["state"], "submitted");

    // Retried with an Idempotency-Key: the first answer again, filed once.
    let keyed = |key: &str, body: &str| {
        request_with(
            &server.address,
            "POST",
            "/api/v1/applications",
            &token,
            body,
            &format!("Idempotency-Key: {key}\r\n"),
        )
        .unwrap()
    };
    let (first, reply) = keyed("a6f1c9e2-retry", &body.to_string());
    assert_eq!(first, 201, "{reply}");
    let (again, replay) = keyed("a6f1c9e2-retry", &body.to_string());
    assert_eq!(again, 201, "{replay}");
    let first_code = serde_json::from_str::<Value>(&reply).unwrap()["code"].clone();
    assert_eq!(
        serde_json::from_str::<Value>(&replay).unwrap()["code"],
        first_code,
        "the same tracking code"
    );
    let mut changed = body.clone();
    changed["email"] = json!("other@example.ir");
    let (status, reply) = keyed("a6f1c9e2-retry", &changed.to_string());
    assert_eq!(status, 422, "{reply}");
    assert!(reply.contains("idempotency_key_reused"), "{reply}");
    let (status, reply) = keyed("has space", &body.to_string());
    assert_eq!(status, 400, "{reply}");
    assert!(reply.contains("bad_idempotency_key"), "{reply}");

    let (status, reply) = request(
        &server.address,
        "GET",
        &format!("/api/v1/applications/{code}"),
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    let detail: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(detail["documents"].as_array().unwrap().len(), documents);
    assert_eq!(detail["channel"], "api");
    let revision = detail["revision"].as_i64().unwrap();
    let (status, pdf) = request(
        &server.address,
        "GET",
        &format!("/api/v1/applications/{code}/receipt.pdf"),
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        pdf.contains("%PDF-") && pdf.contains("%%EOF"),
        "a receipt PDF"
    );

    // Wrong: a comment missing where the workflow needs one; an unknown service; bad base64.
    let (status, reply) = request(
        &server.address,
        "POST",
        &format!("/api/v1/applications/{code}/actions"),
        &token,
        &json!({ "action": "request-documents", "revision": revision }).to_string(),
    )
    .unwrap();
    assert_eq!(status, 422, "{reply}");
    assert!(reply.contains("comment_required"), "{reply}");
    body["documents"][0]["content_base64"] = json!("not base64!");
    let (status, reply) = request(
        &server.address,
        "POST",
        "/api/v1/applications",
        &token,
        &body.to_string(),
    )
    .unwrap();
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply.contains("documents[0]") && reply.contains("not_base64"),
        "{reply}"
    );

    // The agency system asks for a document: the person sees it on the tracking page.
    let (status, reply) = request(
        &server.address,
        "POST",
        &format!("/api/v1/applications/{code}/actions"),
        &token,
        &json!({ "action": "request-documents", "revision": revision, "comment": "تصویر شناسنامهٔ پدر خوانا نیست." }).to_string(),
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    let view = app
        .track(&code, NATIONAL_ID, "test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.record.state, "needs-documents");
    assert_eq!(view.events.len(), 2);

    // The agency's list, page by page in order of change: the new application is on it, and a
    // page of one ends with a cursor that the next page starts after; a forged cursor is refused.
    let (status, reply) = request(
        &server.address,
        "GET",
        "/api/v1/applications?limit=200",
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    let listed: Value = serde_json::from_str(&reply).unwrap();
    let rows = listed["applications"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["code"] == code.as_str()), "{reply}");
    let changes: Vec<&str> = rows
        .iter()
        .map(|r| r["updated_at"].as_str().unwrap())
        .collect();
    assert!(
        changes.windows(2).all(|w| w[0] <= w[1]),
        "oldest change first"
    );
    let (_, first) = request(
        &server.address,
        "GET",
        "/api/v1/applications?limit=1",
        &token,
        "",
    )
    .unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    let next = first["next"].as_str().unwrap().to_owned();
    let (_, second) = request(
        &server.address,
        "GET",
        &format!("/api/v1/applications?limit=1&changed_after={next}"),
        &token,
        "",
    )
    .unwrap();
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_ne!(
        first["applications"][0]["code"],
        second["applications"][0]["code"]
    );
    for bad in [
        "changed_after=x",
        "changed_after=12-ab",
        "limit=0",
        "limit=201",
        "state=NOT%20A%20STATE",
    ] {
        let (status, reply) = request(
            &server.address,
            "GET",
            &format!("/api/v1/applications?{bad}"),
            &token,
            "",
        )
        .unwrap();
        assert_eq!(status, 400, "{bad}: {reply}");
    }
    // Each document as stored, with its SHA-256 in the headers and as the detail lists it.
    let document = &detail["documents"][0];
    let (status, head, bytes) = raw_get(
        &server.address,
        &format!(
            "/api/v1/applications/{code}/documents/{}",
            document["id"].as_str().unwrap()
        ),
        &token,
    );
    assert_eq!(status, 200);
    let sha = pishkhan_domain::digest::sha256_hex(&bytes);
    assert_eq!(sha, document["sha256"].as_str().unwrap());
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-content-sha256: {sha}")),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("repr-digest: sha-256=:"),
        "{head}"
    );
    assert!(head.contains("filename*=UTF-8''"), "{head}");
    let (status, _, _) = raw_get(
        &server.address,
        &format!("/api/v1/applications/{code}/documents/no-such-document"),
        &token,
    );
    assert_eq!(status, 404);

    // Each of the system's reads is on the record, naming what it read; its changes are recorded
    // by their use cases.
    let (entries, _) = store_of(&dir.path().join("data"))
        .await
        .audit_chain()
        .await
        .unwrap();
    let reads: Vec<&str> = entries
        .iter()
        .filter(|e| e.fields.action == "api.read")
        .map(|e| e.fields.target_id.as_str())
        .collect();
    assert!(
        reads.contains(&format!("/api/v1/applications/{code}").as_str()),
        "{reads:?}"
    );
    assert!(
        reads.contains(&format!("/api/v1/applications/{code}/receipt.pdf").as_str()),
        "{reads:?}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_submission_survives_sigkill_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = demo(dir.path());
    let token = token(dir.path());
    let (body, documents) = complete_body(&app_on(&data).await.0).await;
    let body = body.to_string();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (address, token, body) = (server.address.clone(), token.clone(), body.clone());
        let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
        clients.push(std::thread::spawn(move || {
            while !killed.load(Ordering::SeqCst) {
                match request(&address, "POST", "/api/v1/applications", &token, &body) {
                    Some((201, reply)) => {
                        let filed: Value = serde_json::from_str(&reply).unwrap();
                        acknowledged
                            .lock()
                            .unwrap()
                            .push(filed["code"].as_str().unwrap().to_owned());
                    }
                    Some((status, reply)) => panic!("{status}: {reply}"),
                    None => break,
                }
            }
        }));
    }
    // Let submissions flow, then kill the server in the middle of them.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 200 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-KILL", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    server.child.wait().unwrap();
    killed.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 200,
        "only {} acknowledged",
        acknowledged.len()
    );

    // Restart on the same data: it serves again.
    let server = demo(dir.path());
    let (app, store) = app_on(&data).await;
    let stored = store
        .applications_of_person(NATIONAL_ID, 1_000_000)
        .await
        .unwrap();
    assert!(stored.len() >= acknowledged.len());
    let stored_codes: std::collections::BTreeSet<&str> =
        stored.iter().map(|a| a.code.as_str()).collect();
    for code in &acknowledged {
        assert!(
            stored_codes.contains(code.as_str()),
            "acknowledged {code} is missing"
        );
    }
    // Every stored application is whole: its first event, all its documents with their bytes,
    // its notices; and the audit chain verifies.
    for application in &stored {
        let events = store.application_events(&application.code).await.unwrap();
        assert_eq!(events.len(), 1, "{}", application.code);
        let docs = store
            .application_documents(&application.code)
            .await
            .unwrap();
        assert_eq!(docs.len(), documents, "{}", application.code);
        for doc in &docs {
            assert_eq!(app.documents().get(&doc.object_key).await.unwrap(), PDF);
        }
        let told = store.events_about(&application.code).await.unwrap();
        assert_eq!(told.len(), 1, "{}", application.code);
        assert_eq!(told[0].kind, "application.filed");
    }
    app.verify_audit().await.unwrap();
    let (status, _) = request(
        &server.address,
        "GET",
        &format!("/api/v1/applications/{}", acknowledged[0]),
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
}
