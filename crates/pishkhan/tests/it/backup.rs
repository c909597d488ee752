//! A backup taken while agency systems keep filing restores into a new data folder: the
//! restored database checks out, the audit chain is intact, and every filing acknowledged before
//! the backup began is there with its documents.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pishkhan_store::{DatabaseLocation, PoolSettings, Store};
use serde_json::Value;

use crate::applications::{app_on, complete_body, demo, request, token};
use crate::support::{pishkhan, run};

fn command(dir: &Path, args: &[&str]) -> crate::support::Finished {
    let mut command = pishkhan(dir);
    command.args(args);
    command.env("PISHKHAN_LOG_LEVEL", "warn");
    run(command, Duration::from_secs(120))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_filing_load_restores_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo(dir.path());
    let token = token(dir.path());
    let (app, _) = app_on(&dir.path().join("data")).await;
    let (body, documents) = complete_body(&app).await;
    let body = body.to_string();

    // Four agency systems file without pause; each acknowledged code is noted with whether
    // the backup had begun when its acknowledgement arrived (one sent before the backup but
    // committed during it may or may not be in it; one acknowledged before is).
    let backup_started = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let mut filers = Vec::new();
    for _ in 0..4 {
        let (address, token, body) = (server.address.clone(), token.clone(), body.clone());
        let (started, stop, acknowledged) = (
            Arc::clone(&backup_started),
            Arc::clone(&stop),
            Arc::clone(&acknowledged),
        );
        filers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if let Some((201, reply)) =
                    request(&address, "POST", "/api/v1/applications", &token, &body)
                {
                    let acknowledged_after_start = started.load(Ordering::SeqCst);
                    let code = serde_json::from_str::<Value>(&reply).unwrap()["code"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((code, acknowledged_after_start));
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 20 {
        std::thread::sleep(Duration::from_millis(20));
    }
    backup_started.store(true, Ordering::SeqCst);
    let backed_up = command(
        dir.path(),
        &["backup", "--to", "backup", "--data-dir", "data"],
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for filer in filers {
        filer.join().unwrap();
    }
    assert_eq!(backed_up.code, Some(0), "{}", backed_up.stderr);
    assert!(
        backed_up.stdout.contains("Backed up"),
        "{}",
        backed_up.stdout
    );
    drop(server);

    // A second backup into the same folder is refused; so is restoring over a database.
    let again = command(
        dir.path(),
        &["backup", "--to", "backup", "--data-dir", "data"],
    );
    assert_eq!(again.code, Some(1));
    assert!(
        again.stderr.contains("already holds files"),
        "{}",
        again.stderr
    );
    let over = command(
        dir.path(),
        &["restore", "--from", "backup", "--data-dir", "data"],
    );
    assert_eq!(over.code, Some(1));
    assert!(
        over.stderr.contains("already holds a Pishkhan database"),
        "{}",
        over.stderr
    );

    let restored = command(
        dir.path(),
        &["restore", "--from", "backup", "--data-dir", "restored"],
    );
    assert_eq!(restored.code, Some(0), "{}", restored.stderr);
    assert!(
        restored.stdout.contains("the audit log is intact"),
        "{}",
        restored.stdout
    );

    // The key that seals the demo staff's second factors came along, so they still work.
    assert_eq!(
        std::fs::read(dir.path().join("restored/secrets.key")).unwrap(),
        std::fs::read(dir.path().join("data/secrets.key")).unwrap()
    );

    // Every filing acknowledged before the backup began, with its documents' files.
    let store = Store::connect(
        &DatabaseLocation::SqliteFile(dir.path().join("restored/pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, after)| !after)
        .map(|(code, _)| code.clone())
        .collect();
    assert!(before.len() >= 20);
    for code in &before {
        assert!(
            store.application(code).await.unwrap().is_some(),
            "{code} was acknowledged before the backup and is missing"
        );
        let files = store.application_documents(code).await.unwrap();
        assert_eq!(files.len(), documents, "{code}");
        for file in files {
            let path = dir.path().join("restored/documents").join(&file.object_key);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{code}: {} missing: {e}", path.display()));
            assert_eq!(
                pishkhan_domain::digest::sha256_hex(&bytes),
                file.sha256,
                "{code}: {} is not the file filed",
                path.display()
            );
        }
    }
    store.close().await;
}
