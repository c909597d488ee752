#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The exchange with agencies' systems on both databases: events written with each change and
//! read from a cursor (never skipped, never repeated, one agency's only), and webhooks — signed,
//! retried, dead-lettered, replayed — against a real HTTP receiver.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use pishkhan_app::App;
use pishkhan_app::applications::Upload;
use pishkhan_app::audit::Actor;
use pishkhan_app::jobs::JobKind;
use pishkhan_app::policy::Principal;
use pishkhan_app::webhooks::{VerifyError, WebhookError, verify};
use pishkhan_domain::identity::Role;
use pishkhan_store::{FeedCursor, Store, on_both_backends};

on_both_backends!(
    events_follow_each_change_in_commit_order_for_their_agency_only,
    a_reader_racing_concurrent_filings_sees_each_event_once,
    webhooks_are_signed_retried_dead_lettered_and_replayed,
    webhooks_are_for_the_agency_s_admins_and_refuse_bad_urls,
    inquiries_are_asked_for_a_purpose_logged_cached_and_fail_fast,
    once_only_a_document_is_fetched_with_consent_kept_as_answered_and_verified,
);

const RENEWAL: &str = "tehran.driving-licence-renewal";
const BIRTH: &str = "tehran.birth-certificate";

use super::applications::{app_on, citizen, complete, staff};

async fn file(app: &App, person: &Principal, service: &str) -> String {
    let code = app
        .submit_application(person, "test", complete(app, service).await, Utc::now())
        .await
        .unwrap()
        .code
        .as_str()
        .to_owned();
    let view = app.application_for(person, &code).await.unwrap().unwrap();
    caught_up(app, &view.record.agency).await;
    code
}

/// Waits until the feed serves every committed event of `agency`. On PostgreSQL a reader waits
/// for the oldest transaction still running anywhere on the server (decision 0012), and other
/// tests' transactions run beside this one.
async fn caught_up(app: &App, agency: &str) {
    for _ in 0..200 {
        let visible = read_all_now(app, agency, 500).await.len() as i64;
        if visible == app.count_agency_events(agency).await.unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the feed of {agency} did not catch up in 10 s");
}

async fn agency_of(store: &Store, code: &str) -> String {
    store.application(code).await.unwrap().unwrap().agency
}

/// Every event of `agency`, read page by page from the start, once the feed has caught up.
async fn read_all(app: &App, agency: &str, page: i64) -> Vec<pishkhan_store::FeedEvent> {
    caught_up(app, agency).await;
    read_all_now(app, agency, page).await
}

/// Every event of `agency` the feed serves now, page by page from the start.
async fn read_all_now(app: &App, agency: &str, page: i64) -> Vec<pishkhan_store::FeedEvent> {
    let mut all = Vec::new();
    let mut cursor = FeedCursor::default();
    loop {
        let got = app
            .agency_events(agency, cursor, page, std::time::Duration::ZERO)
            .await
            .unwrap();
        let Some(last) = got.last() else { break };
        cursor = last.cursor();
        all.extend(got);
    }
    all
}

async fn events_follow_each_change_in_commit_order_for_their_agency_only(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let code = file(&app, &person, RENEWAL).await;
    let agency = agency_of(&store, &code).await;
    let clerk = staff(
        &app,
        &store,
        "clerk",
        Role::AgencyClerk,
        &format!("agency:{agency}"),
    )
    .await;
    let act = |who: Principal, revision: i64, action: &'static str, docs: Vec<Upload>| {
        let (app, code) = (app.clone(), code.clone());
        async move {
            app.act_on_application(
                &who,
                "test",
                &code,
                revision,
                action,
                "توضیح",
                docs,
                None,
                Utc::now(),
            )
            .await
            .unwrap()
        }
    };
    let v = act(clerk.clone(), 1, "request-documents", vec![]).await;
    let png = Upload {
        requirement: String::new(),
        file_name: "back.png".into(),
        bytes: [
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
            b"rest",
        ]
        .concat(),
        provenance: None,
    };
    let v = act(person.clone(), v.record.revision, "resubmit", vec![png]).await;
    act(clerk.clone(), v.record.revision, "start-review", vec![]).await;

    // Another agency's filing is not in this feed.
    let other = file(&app, &person, BIRTH).await;
    let other_agency = agency_of(&store, &other).await;
    assert_ne!(other_agency, agency);

    let events = read_all(&app, &agency, 2).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "application.filed",
            "application.action_taken",
            "application.resubmitted",
            "application.documents_added",
            "application.action_taken",
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.subject == code && e.agency == agency)
    );
    let cursors: Vec<FeedCursor> = events.iter().map(|e| e.cursor()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "in order");
    let body = pishkhan_app::events::event_json(&events[1]);
    assert_eq!(body["type"], "application.action_taken");
    assert_eq!(body["data"]["action"], "request-documents");
    assert_eq!(body["data"]["from"], "submitted");
    assert_eq!(body["id"], format!("evt_{}", events[1].id));
    // Reading on from the last cursor gives nothing more; from the middle, the rest.
    let last = cursors[4];
    assert!(store.feed(&agency, last, 10).await.unwrap().is_empty());
    let rest = store.feed(&agency, cursors[1], 10).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(read_all(&app, &other_agency, 100).await.len(), 1);
    // A long poll with nothing new waits, then answers empty.
    let started = std::time::Instant::now();
    let none = app
        .agency_events(&agency, last, 10, std::time::Duration::from_millis(600))
        .await
        .unwrap();
    assert!(none.is_empty() && started.elapsed() >= std::time::Duration::from_millis(500));
}

/// Many filings committed concurrently while a reader follows the feed in small pages: the
/// reader ends with every event exactly once, in cursor order — on PostgreSQL too, where ids are
/// drawn before commit (the feed's horizon keeps a later-committing smaller id from being passed).
async fn a_reader_racing_concurrent_filings_sees_each_event_once(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let first = file(&app, &person, RENEWAL).await;
    let agency = agency_of(&store, &first).await;
    let template = complete(&app, RENEWAL).await;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (app, person, template) = (app.clone(), person.clone(), template.clone());
            tokio::spawn(async move {
                for _ in 0..10 {
                    app.submit_application(&person, "test", template.clone(), Utc::now())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let (app, agency) = (app.clone(), agency.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = FeedCursor::default();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while seen.len() < 41 && std::time::Instant::now() < deadline {
                let page = app
                    .agency_events(&agency, cursor, 3, std::time::Duration::from_millis(50))
                    .await
                    .unwrap();
                if let Some(last) = page.last() {
                    cursor = last.cursor();
                }
                seen.extend(page.into_iter().map(|e| e.id));
            }
            seen
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 41, "every filing's event, none twice");
    assert_eq!(unique.len(), 41);
    let stored: BTreeSet<i64> = read_all(&app, &agency, 500)
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(unique, stored);
}

/// What a receiver saw: (webhook-id, timestamp, signatures, body).
type Seen = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

/// A real HTTP receiver on a free port, answering `status` (shared, changeable).
async fn receiver(status: Arc<Mutex<u16>>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (seen, status) = (seen.clone(), status.clone());
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    seen.lock().unwrap().push((
                        h("webhook-id"),
                        h("webhook-timestamp"),
                        h("webhook-signature"),
                        body.to_vec(),
                    ));
                    StatusCode::from_u16(*status.lock().unwrap()).unwrap()
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn webhooks_are_signed_retried_dead_lettered_and_replayed(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let before = file(&app, &person, RENEWAL).await;
    let agency = agency_of(&store, &before).await;
    let status = Arc::new(Mutex::new(204));
    let (url, seen) = receiver(status.clone()).await;
    let cli = Actor::command_line();
    let secret = app
        .set_webhook(None, &cli, &agency, &url)
        .await
        .unwrap()
        .expect("a new webhook's secret");
    let secret = secret.expose().clone();
    assert!(secret.starts_with("whsec_"));

    // A webhook starts from now: the filing before it is in the feed, not sent.
    let code = file(&app, &person, RENEWAL).await;
    assert_eq!(app.deliver_webhooks(Utc::now()).await.unwrap(), (1, 0));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (id, ts, sig, body) = &seen[0];
        assert_eq!(verify(&[&secret], id, ts, sig, body, Utc::now()), Ok(()));
        let event: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["id"], id.as_str());
        assert_eq!(event["type"], "application.filed");
        assert_eq!(event["subject"], code.as_str());
        // Replayed later, or changed by a byte: a receiver refuses it.
        let later = Utc::now() + chrono::TimeDelta::minutes(10);
        assert_eq!(
            verify(&[&secret], id, ts, sig, body, later),
            Err(VerifyError::Stale)
        );
        let mut forged = body.clone();
        forged[10] ^= 1;
        assert_eq!(
            verify(&[&secret], id, ts, sig, &forged, Utc::now()),
            Err(VerifyError::BadSignature)
        );
    }
    assert_eq!(
        app.deliver_webhooks(Utc::now()).await.unwrap(),
        (0, 0),
        "sent once"
    );

    // Rotation: both secrets sign during the overlap.
    let fresh = app
        .rotate_webhook_secret(None, &cli, &agency, chrono::TimeDelta::hours(1))
        .await
        .unwrap()
        .unwrap();
    file(&app, &person, RENEWAL).await;
    assert_eq!(app.deliver_webhooks(Utc::now()).await.unwrap(), (1, 0));
    {
        let seen = seen.lock().unwrap();
        let (id, ts, sig, body) = seen.last().unwrap();
        assert_eq!(sig.split(' ').count(), 2);
        assert_eq!(
            verify(&[fresh.expose()], id, ts, sig, body, Utc::now()),
            Ok(())
        );
        assert_eq!(verify(&[&secret], id, ts, sig, body, Utc::now()), Ok(()));
    }

    // The receiver fails: retried with pauses, then dead-lettered after the last attempt.
    *status.lock().unwrap() = 500;
    let failing = file(&app, &person, RENEWAL).await;
    let mut later = Utc::now();
    for attempt in 1..=JobKind::Webhook.max_attempts() {
        let (sent, failed) = app.deliver_webhooks(later).await.unwrap();
        assert_eq!((sent, failed), (0, 1), "attempt {attempt}");
        later += chrono::TimeDelta::hours(3);
    }
    assert_eq!(
        app.deliver_webhooks(later).await.unwrap(),
        (0, 0),
        "left alone"
    );
    let dead = app.dead_deliveries(None, &agency, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].application, failing);
    assert_eq!(dead[0].kind, "application.filed");
    assert_eq!(dead[0].last_error, "HTTP 500");
    let status_now = app.exchange_status(None, &agency).await.unwrap();
    assert_eq!((status_now.waiting, status_now.dead), (0, 1));
    // Another agency may not replay it; its own admin (here: the command line) may, once.
    let other = agency_of(&store, &file(&app, &person, BIRTH).await).await;
    assert!(
        !app.replay_delivery(None, &cli, &other, dead[0].id)
            .await
            .unwrap()
    );
    *status.lock().unwrap() = 200;
    assert!(
        app.replay_delivery(None, &cli, &agency, dead[0].id)
            .await
            .unwrap()
    );
    assert!(
        !app.replay_delivery(None, &cli, &agency, dead[0].id)
            .await
            .unwrap()
    );
    assert_eq!(app.deliver_webhooks(Utc::now()).await.unwrap(), (1, 0));
    let ids: Vec<String> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        3,
        "three events, the failing one retried under one id"
    );
    let (entries, _) = store.audit_chain().await.unwrap();
    let actions: BTreeSet<&str> = entries.iter().map(|e| e.fields.action.as_str()).collect();
    for a in ["webhook.register", "webhook.rotate", "outbox.replay"] {
        assert!(actions.contains(a), "{a} audited");
    }
    // The secret is sealed in the database, never stored as it is.
    let hook = store.webhook(&agency).await.unwrap().unwrap();
    assert!(
        !hook
            .secret
            .contains(fresh.expose().trim_start_matches("whsec_"))
    );

    // The sealing key rotates (`pishkhan secrets rotate`): both webhook secrets are sealed anew
    // and deliveries still sign with the same secret.
    let key_file = app.config().secrets_key_file();
    let second = pishkhan_app::sealed::Sealer::add_key(&key_file).unwrap();
    let rotated = App::with_store(app.config().clone(), store.clone()).unwrap();
    let done = rotated.reseal_secrets(&cli, true).await.unwrap();
    assert_eq!(
        done.resealed, 2,
        "the current and the previous webhook secret"
    );
    let hook = store.webhook(&agency).await.unwrap().unwrap();
    assert!(hook.secret.starts_with(&format!("sealed:v1:{second}:")));
    file(&rotated, &person, RENEWAL).await;
    assert_eq!(rotated.deliver_webhooks(Utc::now()).await.unwrap(), (1, 0));
    let seen = seen.lock().unwrap();
    let (id, ts, sig, body) = seen.last().unwrap();
    assert_eq!(
        verify(&[fresh.expose()], id, ts, sig, body, Utc::now()),
        Ok(())
    );
}

/// An agency that does not answer holds up only itself; each agency's admin (and the
/// governorate) looks after its own webhook only; bad URLs are refused with a reason.
async fn webhooks_are_for_the_agency_s_admins_and_refuse_bad_urls(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let a = agency_of(&store, &file(&app, &person, RENEWAL).await).await;
    let b = agency_of(&store, &file(&app, &person, BIRTH).await).await;
    let admin_a = staff(
        &app,
        &store,
        "admin.a",
        Role::AgencyAdmin,
        &format!("agency:{a}"),
    )
    .await;
    let governor = staff(
        &app,
        &store,
        "gov",
        Role::GovernorateAdmin,
        "province:tehran",
    )
    .await;
    let clerk_a = staff(
        &app,
        &store,
        "clerk.a",
        Role::AgencyClerk,
        &format!("agency:{a}"),
    )
    .await;
    let outsider = staff(
        &app,
        &store,
        "gov.fars",
        Role::GovernorateAdmin,
        "province:fars",
    )
    .await;
    let cli = Actor::command_line();
    let (url, seen) = receiver(Arc::new(Mutex::new(204))).await;
    for bad in [
        "http://10.1.2.3/hook",
        "ftp://x/y",
        "https://u:p@x.ir/",
        "nonsense",
    ] {
        assert!(matches!(
            app.set_webhook(Some(&admin_a), &cli, &a, bad).await,
            Err(WebhookError::Invalid(_))
        ));
    }
    for (who, agency) in [(&admin_a, &b), (&clerk_a, &a), (&outsider, &a)] {
        assert!(matches!(
            app.set_webhook(Some(who), &cli, agency, &url).await,
            Err(WebhookError::NotAllowed)
        ));
        assert!(matches!(
            app.dead_deliveries(Some(who), agency, 10).await,
            Err(WebhookError::NotAllowed)
        ));
    }
    assert!(matches!(
        app.set_webhook(None, &cli, "no-such-agency", &url).await,
        Err(WebhookError::NotAllowed)
    ));
    assert!(
        app.set_webhook(Some(&admin_a), &cli, &a, &url)
            .await
            .unwrap()
            .is_some()
    );
    // Agency b's system is down (nothing listens there).
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert!(
        app.set_webhook(Some(&governor), &cli, &b, &format!("http://{down}/hook"))
            .await
            .unwrap()
            .is_some()
    );
    let mut governed: Vec<String> = app
        .exchange_agencies(&governor)
        .await
        .unwrap()
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    governed.sort();
    assert!(governed.contains(&a) && governed.contains(&b));
    assert_eq!(
        app.exchange_agencies(&admin_a).await.unwrap().len(),
        1,
        "an agency admin sees their own agency"
    );
    for _ in 0..3 {
        file(&app, &person, RENEWAL).await;
        file(&app, &person, BIRTH).await;
    }
    let (sent, failed) = app.deliver_webhooks(Utc::now()).await.unwrap();
    assert_eq!(sent, 3, "agency a's events arrive");
    assert_eq!(failed, 1, "agency b: one tried, the rest put back untried");
    assert_eq!(seen.lock().unwrap().len(), 3);
    let b_status = app.exchange_status(None, &b).await.unwrap();
    assert_eq!((b_status.waiting, b_status.dead), (3, 0));
    // Removed: b's queued deliveries go; its events stay in the feed.
    assert!(app.remove_webhook(Some(&governor), &cli, &b).await.unwrap());
    assert_eq!(app.exchange_status(None, &b).await.unwrap().waiting, 0);
    assert_eq!(read_all(&app, &b, 100).await.len(), 4);
}

/// An agency system's inquiry endpoint: answers from a table after `delay` ms, or 500 when
/// `failing`; counts the questions it got.
async fn inquiry_endpoint(
    delay: Arc<Mutex<u64>>,
    failing: Arc<Mutex<bool>>,
) -> (String, Arc<Mutex<u32>>) {
    let asked = Arc::new(Mutex::new(0u32));
    let app = {
        let asked = asked.clone();
        axum::Router::new().route(
            "/identity",
            axum::routing::post(move |body: Bytes| {
                let (asked, delay, failing) = (asked.clone(), delay.clone(), failing.clone());
                async move {
                    *asked.lock().unwrap() += 1;
                    let wait = *delay.lock().unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                    if *failing.lock().unwrap() {
                        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
                    }
                    let question: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let answer = if question["input"]["national_id"] == "0082451291" {
                        serde_json::json!({ "output": { "first_name": "مریم", "alive": "yes" } })
                    } else if question["input"]["national_id"] == "0076229645" {
                        serde_json::json!({ "output": { "alive": "maybe" } })
                    } else {
                        serde_json::json!({ "found": false })
                    };
                    (StatusCode::OK, answer.to_string())
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/identity", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, asked)
}

fn definition(code: &str, agency: &str, url: &str, extra: serde_json::Value) -> String {
    let mut d = serde_json::json!({
        "code": code,
        "agency": agency,
        "name": { "fa": "استعلام هویت" },
        "url": url,
        "input": [
            { "id": "national_id", "type": "national-id", "label": { "fa": "کد ملی" }, "required": true },
            { "id": "birth_date", "type": "jalali-date", "label": { "fa": "تاریخ تولد" }, "required": true }
        ],
        "output": [
            { "id": "first_name", "type": "text", "label": { "fa": "نام" }, "required": true },
            { "id": "alive", "type": "yes-no", "label": { "fa": "در قید حیات" } }
        ],
        "roles": ["agency-clerk", "operator", "system"],
        "services": [],
        "timeout_ms": 400,
        "cache_seconds": 60
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d.to_string()
}

async fn inquiries_are_asked_for_a_purpose_logged_cached_and_fail_fast(store: Store) {
    use pishkhan_app::inquiries::{InquiryError, Purpose};
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0082451291").await;
    let code = file(&app, &person, RENEWAL).await;
    let agency = agency_of(&store, &code).await;
    let cli = Actor::command_line();
    let (delay, failing) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(false)));
    let (url, asked) = inquiry_endpoint(delay.clone(), failing.clone()).await;

    // Registration checks everything, and names where each problem is.
    let refused = |r: Result<String, InquiryError>| match r {
        Err(InquiryError::Invalid(problems)) => {
            problems.into_iter().map(|p| p.at).collect::<Vec<_>>()
        }
        other => panic!("expected problems, got {other:?}"),
    };
    let bad = definition(
        "Bad Code",
        &agency,
        "http://10.1.1.1/x",
        serde_json::json!({ "roles": ["noc"], "timeout_ms": 60_000,
            "output": [{ "id": "scan", "type": "file", "label": { "fa": "پرونده" }, "accept": ["application/pdf"], "max_bytes": 10 }] }),
    );
    let at = refused(app.register_inquiry(None, &cli, &bad).await);
    for place in ["code", "url", "roles", "timeout_ms", "output"] {
        assert!(at.iter().any(|a| a == place), "{place} in {at:?}");
    }
    assert_eq!(
        refused(app.register_inquiry(None, &cli, "{not json").await),
        vec![String::new()]
    );
    let identity = definition("test.identity", &agency, &url, serde_json::json!({}));
    assert_eq!(
        app.register_inquiry(None, &cli, &identity).await.unwrap(),
        "test.identity"
    );
    // Another agency's admin may not register (or replace) it.
    let other_admin = staff(
        &app,
        &store,
        "adm.tax",
        Role::AgencyAdmin,
        "agency:tehran-tax",
    )
    .await;
    assert!(matches!(
        app.register_inquiry(Some(&other_admin), &cli, &identity)
            .await,
        Err(InquiryError::NotFound)
    ));

    let clerk = staff(
        &app,
        &store,
        "clerk",
        Role::AgencyClerk,
        &format!("agency:{agency}"),
    )
    .await;
    let stranger = staff(
        &app,
        &store,
        "clerk.tax",
        Role::AgencyClerk,
        "agency:tehran-tax",
    )
    .await;
    let input = |nid: &str| {
        std::collections::BTreeMap::from([
            ("national_id".to_owned(), serde_json::json!(nid)),
            ("birth_date".to_owned(), serde_json::json!("۱۳۶۸/۰۴/۱۲")),
        ])
    };
    let for_code = Purpose {
        application: Some(code.clone()),
        consent: None,
        ..Default::default()
    };
    let ask = |who: Principal, purpose: Purpose, nid: &'static str| {
        let app = app.clone();
        async move {
            app.inquire(
                &who,
                "test",
                "test.identity",
                &purpose,
                &input(nid),
                Utc::now(),
            )
            .await
        }
    };
    let problem_code = |r: Result<_, InquiryError>| match r {
        Err(InquiryError::Refused(p) | InquiryError::Unavailable(p)) => p.code.to_owned(),
        Err(InquiryError::Invalid(ps)) => ps[0].code.to_owned(),
        Err(other) => format!("{other:?}"),
        Ok(_) => "answered".to_owned(),
    };

    // A purpose is required, and must be one the asker may act on.
    assert_eq!(
        problem_code(ask(clerk.clone(), Purpose::default(), "0082451291").await),
        "purpose_required"
    );
    assert_eq!(
        problem_code(ask(stranger.clone(), for_code.clone(), "0082451291").await),
        "purpose_unknown"
    );
    assert!(
        matches!(
            ask(person.clone(), for_code.clone(), "0082451291").await,
            Err(InquiryError::NotFound)
        ),
        "citizens may not ask"
    );
    assert_eq!(
        problem_code(
            ask(
                clerk.clone(),
                Purpose {
                    application: None,
                    consent: Some("nope".into()),
                    ..Default::default()
                },
                "0082451291"
            )
            .await
        ),
        "consent_not_open"
    );
    assert_eq!(
        problem_code(ask(clerk.clone(), for_code.clone(), "0082451290").await),
        "checksum"
    );
    assert_eq!(
        *asked.lock().unwrap(),
        0,
        "nothing refused reached the agency"
    );

    // Answered (Persian digits normalised), then reused from the cache within its time.
    let answer = ask(clerk.clone(), for_code.clone(), "0082451291")
        .await
        .unwrap();
    assert!(answer.found && !answer.cached);
    assert_eq!(answer.output["first_name"], "مریم");
    let again = ask(clerk.clone(), for_code.clone(), "0082451291")
        .await
        .unwrap();
    assert!(again.cached);
    assert_eq!(*asked.lock().unwrap(), 1);
    // Not found; a malformed answer is an unavailable agency, not a wrong answer shown.
    let nobody = ask(clerk.clone(), for_code.clone(), "0010532129")
        .await
        .unwrap();
    assert!(!nobody.found && nobody.output.is_empty());
    assert_eq!(
        problem_code(ask(clerk.clone(), for_code.clone(), "0076229645").await),
        "agency_unavailable"
    );

    // Slow: fails fast at the timeout, with a Persian message; five failures open the breaker,
    // and then the agency is not asked at all.
    *delay.lock().unwrap() = 2_000;
    let started = std::time::Instant::now();
    let slow = ask(clerk.clone(), for_code.clone(), "1234567891").await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    match &slow {
        Err(InquiryError::Unavailable(p)) => assert!(p.fa.contains("به‌موقع"), "{}", p.fa),
        other => panic!("{other:?}"),
    }
    *delay.lock().unwrap() = 0;
    *failing.lock().unwrap() = true;
    for _ in 0..3 {
        assert_eq!(
            problem_code(ask(clerk.clone(), for_code.clone(), "2345678917").await),
            "agency_unavailable"
        );
    }
    let before = *asked.lock().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        problem_code(ask(clerk.clone(), for_code.clone(), "2345678917").await),
        "agency_unavailable"
    );
    assert_eq!(
        *asked.lock().unwrap(),
        before,
        "the open breaker asks nobody"
    );
    assert!(started.elapsed() < std::time::Duration::from_millis(200));

    // Every call is in the chained log, against the application, with its outcome and hashes.
    let log = app.inquiry_log_of(&code, None).await.unwrap();
    let outcomes: Vec<&str> = log.iter().map(|l| l.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        vec![
            "answered",
            "cached",
            "not-found",
            "malformed",
            "timeout",
            "error",
            "error",
            "error",
            "breaker-open"
        ]
    );
    assert!(
        log.iter()
            .all(|l| l.actor.starts_with("user:") && l.role == "agency-clerk")
    );
    assert_eq!(log[0].request_sha256.len(), 64);
    assert_eq!(log[0].response_sha256, answer.response_sha256);
    let kept =
        serde_json::json!({ "output": { "first_name": "مریم", "alive": "yes" } }).to_string();
    let verified = app
        .verify_exchange_log(Some((log[0].seq, kept.as_bytes())))
        .await
        .unwrap();
    assert_eq!(verified.answer_matches, Some(true));
    assert_eq!(verified.calls.values().sum::<i64>(), 9);
    let forged = app
        .verify_exchange_log(Some((log[0].seq, b"{\"output\":{}}")))
        .await
        .unwrap();
    assert_eq!(forged.answer_matches, Some(false));

    // An operator asks under the consent a person gave at their centre — about that person only.
    let operator = operator_with_consent(&app, &store, &person, "consent-for-inquiry").await;
    let under_consent = Purpose {
        application: None,
        consent: Some("consent-for-inquiry".into()),
        ..Default::default()
    };
    assert_eq!(
        problem_code(ask(operator.clone(), under_consent.clone(), "0076229645").await),
        "consent_other_person"
    );
    assert_eq!(
        problem_code(ask(clerk.clone(), under_consent.clone(), "0082451291").await),
        "consent_not_open",
        "a clerk has no centre to hold a consent at"
    );
    // About that person: answered (here from the answer the agency lets be kept, as the
    // agency is resting behind the breaker by now), and logged against the consent.
    let asked_before = *asked.lock().unwrap();
    let consented = ask(operator.clone(), under_consent, "0082451291")
        .await
        .unwrap();
    assert!(consented.found && consented.cached);
    assert_eq!(
        *asked.lock().unwrap(),
        asked_before,
        "nothing refused reached the agency"
    );
    let under = app
        .inquiry_log_of("no-such-application", Some("consent-for-inquiry"))
        .await
        .unwrap();
    assert_eq!(under.len(), 1);
    assert_eq!(
        (under[0].role.as_str(), under[0].outcome.as_str()),
        ("operator", "cached")
    );
}

/// Once only: the demo's birth-certificate card says its first document (the parents' birth
/// records) can come from the registry's `tehran.birth-record` inquiry.
async fn once_only_a_document_is_fetched_with_consent_kept_as_answered_and_verified(store: Store) {
    use std::collections::BTreeMap;
    let app = app_on(store.clone()).await;
    let now = Utc::now();
    let person = citizen(&store, "0082451291").await;
    let other = citizen(&store, "0076229645").await;
    let cli = Actor::command_line();
    let (delay, failing) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(false)));
    let (url, asked) = inquiry_endpoint(delay.clone(), failing.clone()).await;
    let birth_record = |roles: serde_json::Value| {
        definition(
            "tehran.birth-record",
            "tehran-civil-registry",
            &url,
            serde_json::json!({ "roles": roles, "services": [BIRTH], "timeout_ms": 300, "cache_seconds": 0 }),
        )
    };
    let card = app
        .service_page(BIRTH)
        .await
        .unwrap()
        .unwrap()
        .service
        .card
        .clone();
    let requirement = card.documents[0].name.fa.clone();
    assert_eq!(
        card.documents[0].inquiry.as_deref(),
        Some("tehran.birth-record")
    );

    // Not offered while the agency does not let citizens ask it.
    app.register_inquiry(None, &cli, &birth_record(serde_json::json!(["operator"])))
        .await
        .unwrap();
    let draft = app
        .open_draft(&person, "test", BIRTH, "", None, None, now)
        .await
        .unwrap();
    let citizen_role = pishkhan_app::once_only::filer_role(&person, &draft);
    assert!(
        app.fetch_offers(citizen_role, &card)
            .await
            .unwrap()
            .is_empty()
    );
    let date = || BTreeMap::from([("birth_date".to_owned(), serde_json::json!("۱۳۶۸/۰۴/۱۲"))]);
    let fetch = |who: Principal,
                 draft: String,
                 index: usize,
                 input: BTreeMap<String, serde_json::Value>,
                 agreed: bool| {
        let app = app.clone();
        async move {
            app.fetch_document(&who, "test", &draft, index, input, agreed, Utc::now())
                .await
        }
    };
    let codes = |r: (pishkhan_app::drafts::Draft, Vec<pishkhan_domain::Problem>)| {
        r.1.iter().map(|p| p.code.to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(
        codes(
            fetch(person.clone(), draft.id.clone(), 0, date(), true)
                .await
                .unwrap()
        ),
        ["not_fetchable"]
    );
    app.register_inquiry(
        None,
        &cli,
        &birth_record(serde_json::json!(["citizen", "operator"])),
    )
    .await
    .unwrap();
    let offers = app.fetch_offers(citizen_role, &card).await.unwrap();
    assert_eq!(offers.iter().map(|o| o.index).collect::<Vec<_>>(), [0]);
    let asked_fields: Vec<String> = offers[0]
        .asked_form()
        .fields()
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(
        asked_fields,
        ["birth_date"],
        "the national ID is never asked"
    );

    // Nothing is asked without the consent box; a document the card does not offer is refused;
    // someone else's draft is not found.
    assert_eq!(
        codes(
            fetch(person.clone(), draft.id.clone(), 0, date(), false)
                .await
                .unwrap()
        ),
        ["fetch_consent"]
    );
    assert_eq!(
        codes(
            fetch(person.clone(), draft.id.clone(), 1, date(), true)
                .await
                .unwrap()
        ),
        ["not_fetchable"]
    );
    assert_eq!(
        codes(
            fetch(person.clone(), draft.id.clone(), 99, date(), true)
                .await
                .unwrap()
        ),
        ["not_fetchable"]
    );
    assert!(matches!(
        fetch(other.clone(), draft.id.clone(), 0, date(), true).await,
        Err(pishkhan_app::applications::ApplicationError::NotFound)
    ));
    assert_eq!(
        *asked.lock().unwrap(),
        0,
        "the agency was asked nothing so far"
    );

    // A forged national ID in the input is replaced by the draft's person's: the agency is asked
    // about them, never about the other person.
    let mut forged = date();
    forged.insert("national_id".into(), serde_json::json!("0076229645"));
    let (fetched, problems) = fetch(person.clone(), draft.id.clone(), 0, forged, true)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(*asked.lock().unwrap(), 1);
    let doc = fetched.attached(&requirement, "").unwrap().clone();
    let provenance = doc.provenance.clone().unwrap();
    assert_eq!(doc.media_type, "application/json");
    assert_eq!(provenance.target_kind, "draft");
    assert_eq!(provenance.target_id, draft.id);
    let kept = app.documents().get(&doc.key).await.unwrap();
    assert_eq!(
        pishkhan_domain::digest::sha256_hex(&kept),
        provenance.sha256
    );
    let answer: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(
        answer["output"]["first_name"], "مریم",
        "asked about the draft's person"
    );

    // The agency failing: a Persian problem at the document, and the fetched one is kept.
    *failing.lock().unwrap() = true;
    let (unchanged, problems) = fetch(person.clone(), draft.id.clone(), 0, date(), true)
        .await
        .unwrap();
    assert_eq!(problems[0].code, "agency_unavailable");
    assert_eq!(problems[0].at, format!("upload:{requirement}"));
    assert!(problems[0].fa.contains("بارگذاری"), "{}", problems[0].fa);
    assert_eq!(unchanged.attached(&requirement, "").unwrap().id, doc.id);
    *failing.lock().unwrap() = false;

    // Filed: the document is the answer as the agency sent it, with its provenance; the
    // application's log lists the call; verify finds it is the answer that call logged.
    let mut change = pishkhan_app::drafts::DraftChange {
        answers: complete(&app, BIRTH).await.answers,
        ..Default::default()
    };
    for (i, d) in card.documents.iter().enumerate().skip(1) {
        change.uploads.push(pishkhan_app::drafts::DraftUpload {
            requirement: d.name.fa.clone(),
            field: String::new(),
            file_name: format!("scan-{i}.pdf"),
            bytes: pishkhan_app::applications::EXAMPLE_PDF.to_vec(),
        });
    }
    let (_, refused) = app
        .save_draft(&person, "test", &draft.id, change, Utc::now())
        .await
        .unwrap();
    assert!(refused.is_empty(), "{refused:?}");
    let filed = app
        .submit_draft(&person, "test", &draft.id, Utc::now())
        .await
        .unwrap();
    let code = filed.code.as_str().to_owned();
    let stored = store.application_documents(&code).await.unwrap();
    let kept_doc = stored
        .iter()
        .find(|d| d.requirement == requirement)
        .unwrap();
    assert_eq!(kept_doc.content_type, "application/json");
    assert_eq!(kept_doc.sha256, provenance.sha256);
    let shown = app.fetched_answer(kept_doc).await.unwrap().unwrap();
    assert!(
        shown
            .fields
            .contains(&("نام".to_owned(), "مریم".to_owned()))
    );
    assert!(
        shown
            .fields
            .contains(&("در قید حیات".to_owned(), "بله".to_owned()))
    );
    let log = app.inquiry_log_of(&code, None).await.unwrap();
    assert_eq!(log.len(), 1, "the call that fetched it, made for the draft");
    assert_eq!(log[0].call, provenance.call);
    assert_eq!(log[0].role, "citizen");
    let verified = app
        .verify_exchange_log(Some((log[0].seq, &kept)))
        .await
        .unwrap();
    assert_eq!(verified.answer_matches, Some(true));
    assert_eq!(verified.documents, 1);
    assert!(
        verified.documents_wrong.is_empty(),
        "{:?}",
        verified.documents_wrong
    );

    // An upload cannot pass for a fetched answer: JSON bytes sent as a file are refused by
    // content, whatever their name.
    let mut upload = complete(&app, BIRTH).await;
    upload.documents[0] = Upload {
        requirement: requirement.clone(),
        file_name: "tehran.birth-record.json".into(),
        bytes: kept.clone(),
        provenance: None,
    };
    match app
        .submit_application(&person, "test", upload, Utc::now())
        .await
    {
        Err(pishkhan_app::applications::ApplicationError::Invalid(problems)) => {
            assert_eq!(problems[0].code, "document_kind", "{problems:?}")
        }
        other => panic!("a JSON upload was not refused: {other:?}"),
    }

    // At a counter, under the person's consent: the log names the consent, the operator asks.
    let operator = operator_with_consent(&app, &store, &other, "consent-once-only").await;
    let counter = app
        .open_draft(
            &operator,
            "test",
            BIRTH,
            "0076229645",
            Some("tehran-1001"),
            Some("consent-once-only"),
            Utc::now(),
        )
        .await
        .unwrap();
    // The endpoint answers this person with a malformed `alive`: refused as not valid, kept out.
    let (_, problems) = fetch(operator.clone(), counter.id.clone(), 0, date(), true)
        .await
        .unwrap();
    assert_eq!(problems[0].code, "agency_unavailable", "{problems:?}");
    let entries = store
        .audit_entries_about(
            pishkhan_app::inquiries::LOG_ACTION,
            "consent",
            "consent-once-only",
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "logged under the consent");
    assert!(entries[0].fields.details.contains("\"operator\""));

    // A fetched document altered in storage no longer verifies.
    app.documents()
        .put(
            &kept_doc.object_key,
            b"{\"output\":{\"first_name\":\"x\"}}".to_vec(),
        )
        .await
        .unwrap();
    let tampered = app.verify_exchange_log(None).await.unwrap();
    assert_eq!(
        tampered.documents_wrong.len(),
        1,
        "{:?}",
        tampered.documents_wrong
    );
    assert!(tampered.documents_wrong[0].contains(&code));

    // An editor cannot make a card name an inquiry that is not registered.
    let editor = staff(
        &app,
        &store,
        "editor.registry",
        Role::AgencyEditor,
        "agency:tehran-civil-registry",
    )
    .await;
    let mut edited = card.clone();
    edited.documents[1].inquiry = Some("tehran.no-such-inquiry".into());
    match app.save_service_draft(&editor, &cli, &edited).await {
        Err(pishkhan_app::catalog::CatalogError::Unknown(what)) => {
            assert!(what.contains("tehran.no-such-inquiry"), "{what}")
        }
        other => panic!("an unknown inquiry was saved: {other:?}"),
    }
}

/// An operator at centre `tehran-1001` holding `person`'s open consent `id`.
async fn operator_with_consent(
    app: &App,
    store: &Store,
    person: &Principal,
    id: &str,
) -> Principal {
    let cli = Actor::command_line();
    match app
        .add_org(
            &cli,
            pishkhan_app::records::OrgKind::Centre,
            "tehran-1001",
            "tehran",
            "دفتر ۱۰۰۱",
        )
        .await
    {
        Ok(()) | Err(pishkhan_app::orgs::OrgError::Add(_)) => {}
        Err(e) => panic!("{e}"),
    }
    let operator = staff(
        app,
        store,
        &format!("operator.{id}"),
        Role::Operator,
        "centre:tehran-1001",
    )
    .await;
    let (Principal::Citizen(holder), Principal::Staff(op)) = (person, &operator) else {
        unreachable!()
    };
    store
        .insert_consent(&pishkhan_store::ConsentRecord {
            id: id.into(),
            citizen_id: holder.id.clone(),
            operator_id: op.id.clone(),
            operator_name: "متصدی".into(),
            centre: "tehran-1001".into(),
            centre_name: "دفتر ۱۰۰۱".into(),
            purpose: "استعلام و ثبت".into(),
            granted_at: Utc::now(),
            expires_at: Utc::now() + chrono::TimeDelta::hours(1),
        })
        .await
        .unwrap();
    operator
}
