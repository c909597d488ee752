#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Filing through drafts (the pages' way) on both databases: what is typed is kept even when it
//! is wrong, files are judged by content, a draft files through the one use case and is gone
//! afterwards; counter drafts need consent; edited notification texts are what people receive.

use std::collections::BTreeMap;

use chrono::Utc;
use pishkhan_app::applications::{ApplicationError, EXAMPLE_PDF};
use pishkhan_app::audit::Actor;
use pishkhan_app::config::Sources;
use pishkhan_app::drafts::{DraftChange, DraftUpload};
use pishkhan_app::policy::Principal;
use pishkhan_app::records::CitizenRecord;
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_store::Store;
use serde_json::{Value, json};

use pishkhan_store::on_both_backends;

on_both_backends!(
    a_citizen_drafts_fixes_and_files_online,
    counter_drafts_need_consent_and_online_drafts_an_online_service,
    edited_notification_texts_are_checked_and_used,
    drafts_hold_only_their_services_files_within_a_quota_and_expire,
);

const BIRTH: &str = "tehran.birth-certificate";

async fn app_on(store: Store) -> App {
    let dir = tempfile::tempdir().unwrap().keep();
    let mut config = Config::load(&Sources::default()).unwrap();
    config.data_dir = dir;
    let app = App::with_store(config, store).unwrap();
    app.seed_holidays().await.unwrap();
    app.load_demo_catalogue().await.unwrap();
    app
}

async fn citizen(store: &Store) -> Principal {
    let record = store
        .ensure_citizen(&CitizenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            national_id: "0082451291".into(),
            mobile: "+989121234567".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    Principal::Citizen(record)
}

/// The example answers of every form of the service, as a page would send them (text).
async fn typed(app: &App, service: &str) -> BTreeMap<String, BTreeMap<String, Value>> {
    let example = app.example_submission(service).await.unwrap().unwrap();
    example
        .answers
        .into_iter()
        .map(|(form, fields)| {
            let fields = fields
                .into_iter()
                .filter(|(_, v)| v.get("document").is_none())
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => Value::String(s),
                        Value::Array(a) => Value::Array(a),
                        other => Value::String(other.to_string()),
                    };
                    (k, text)
                })
                .collect();
            (form, fields)
        })
        .collect()
}

fn upload(requirement: &str, name: &str, bytes: &[u8]) -> DraftUpload {
    DraftUpload {
        requirement: requirement.into(),
        field: String::new(),
        file_name: name.into(),
        bytes: bytes.to_vec(),
    }
}

async fn a_citizen_drafts_fixes_and_files_online(store: Store) {
    let app = app_on(store.clone()).await;
    let me = citizen(&store).await;
    let now = Utc::now();
    let draft = app
        .open_draft(&me, "127.0.0.1", BIRTH, "", None, None, now)
        .await
        .unwrap();
    // Opening again finds the same draft.
    let again = app
        .open_draft(&me, "127.0.0.1", BIRTH, "", None, None, now)
        .await
        .unwrap();
    assert_eq!(draft.id, again.id);

    let card = app
        .service_page(BIRTH)
        .await
        .unwrap()
        .unwrap()
        .service
        .card
        .clone();
    let mut answers = typed(&app, BIRTH).await;
    let form = card.forms[0].code.clone();
    answers
        .get_mut(&form)
        .unwrap()
        .insert("mother_national_id".into(), json!("0076229646"));
    // One real PDF, one text file named .pdf.
    let (saved, refused) = app
        .save_draft(
            &me,
            "127.0.0.1",
            &draft.id,
            DraftChange {
                answers: answers.clone(),
                email: String::new(),
                uploads: vec![
                    upload(&card.documents[0].name.fa, "scan.pdf", EXAMPLE_PDF),
                    upload(&card.documents[1].name.fa, "letter.pdf", b"just a letter"),
                ],
                remove: Vec::new(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].code, "document_kind");
    assert!(refused[0].fa.contains("letter.pdf"));
    assert_eq!(saved.documents.len(), 1, "the refused file is not kept");
    // What was typed is kept, wrong or not; the check names each problem in place.
    let stored = app.my_draft(&me, BIRTH).await.unwrap().unwrap();
    assert_eq!(
        stored.answers[&form]["mother_national_id"],
        json!("0076229646")
    );
    let problems = app.check_draft(&stored).await.unwrap();
    let places: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    assert!(
        places.contains(&format!("{form}.mother_national_id").as_str()),
        "{places:?}"
    );
    assert!(places.contains(&"documents[1]"), "{places:?}");
    // Filing now is refused and changes nothing.
    match app.submit_draft(&me, "127.0.0.1", &draft.id, now).await {
        Err(ApplicationError::Invalid(_)) => {}
        other => panic!("expected problems, got {other:?}"),
    }
    assert!(app.my_draft(&me, BIRTH).await.unwrap().is_some());
    assert!(app.my_applications(&me).await.unwrap().is_empty());

    // Fixed: every document, the right national ID; a replaced file is swapped, not added.
    answers
        .get_mut(&form)
        .unwrap()
        .insert("mother_national_id".into(), json!("۰۰۷۶۲۲۹۶۴۵"));
    let uploads = card
        .documents
        .iter()
        .map(|d| upload(&d.name.fa, "scan.pdf", EXAMPLE_PDF))
        .collect();
    let (fixed, refused) = app
        .save_draft(
            &me,
            "127.0.0.1",
            &draft.id,
            DraftChange {
                answers,
                email: "sara@example.ir".into(),
                uploads,
                remove: Vec::new(),
            },
            now,
        )
        .await
        .unwrap();
    assert!(refused.is_empty());
    assert_eq!(fixed.documents.len(), card.documents.len());
    assert!(app.check_draft(&fixed).await.unwrap().is_empty());

    let filed = app
        .submit_draft(&me, "127.0.0.1", &draft.id, now)
        .await
        .unwrap();
    let view = app
        .application_for(&me, filed.code.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.record.channel, "online");
    assert_eq!(view.record.email, "sara@example.ir");
    assert_eq!(view.documents.len(), card.documents.len());
    assert!(
        view.record.answers.contains("0076229645"),
        "normalized digits"
    );
    assert!(
        app.my_draft(&me, BIRTH).await.unwrap().is_none(),
        "the draft is gone"
    );
    assert!(app.drafts(&me).await.unwrap().is_empty());
    // Every step is in the audit log, and the chain holds.
    app.verify_audit().await.unwrap();
}

async fn counter_drafts_need_consent_and_online_drafts_an_online_service(store: Store) {
    let app = app_on(store.clone()).await;
    let me = citizen(&store).await;
    // Building permits are not offered online.
    match app
        .open_draft(
            &me,
            "127.0.0.1",
            "tehran.building-permit",
            "",
            None,
            None,
            Utc::now(),
        )
        .await
    {
        Err(ApplicationError::Invalid(p)) => assert_eq!(p[0].code, "channel_not_offered"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    app.add_org(
        &Actor::command_line(),
        pishkhan_app::records::OrgKind::Centre,
        "tehran-1001",
        "tehran",
        "دفتر پیشخوان ۱۰۰۱",
    )
    .await
    .unwrap();
    let id = app
        .create_user(
            &Actor::command_line(),
            "operator.drafts",
            "اپراتور",
            &Secret::new("drafts test passphrase".to_owned()),
            vec![
                RoleGrant::new(Role::Operator, Scope::parse("centre:tehran-1001").unwrap())
                    .unwrap(),
            ],
        )
        .await
        .unwrap();
    let operator = Principal::Staff(store.user_by_id(&id).await.unwrap().unwrap());
    match app
        .open_draft(
            &operator,
            "127.0.0.1",
            "tehran.building-permit",
            "0082451291",
            Some("tehran-1001"),
            Some("no-such-consent"),
            Utc::now(),
        )
        .await
    {
        Err(ApplicationError::Invalid(p)) => assert_eq!(p[0].code, "consent_required"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Someone else's draft is not found.
    let draft = app
        .open_draft(&me, "127.0.0.1", BIRTH, "", None, None, Utc::now())
        .await
        .unwrap();
    assert!(app.draft(&operator, &draft.id).await.unwrap().is_none());
    assert!(matches!(
        app.submit_draft(&operator, "127.0.0.1", &draft.id, Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));
    app.discard_draft(&me, "127.0.0.1", &draft.id, Utc::now())
        .await
        .unwrap();
    assert!(app.my_draft(&me, BIRTH).await.unwrap().is_none());
}

async fn edited_notification_texts_are_checked_and_used(store: Store) {
    let app = app_on(store.clone()).await;
    let actor = Actor::command_line();
    let mut bodies = BTreeMap::new();
    bodies.insert(
        "application.submitted".to_owned(),
        "«{service}» برای {name} ثبت شد".to_owned(),
    );
    let refused = app
        .save_notification_templates(&actor, &bodies)
        .await
        .unwrap()
        .unwrap_err();
    let codes: Vec<&str> = refused.iter().map(|(_, p)| p.code).collect();
    assert_eq!(codes, ["template_fact", "template_code_missing"]);
    bodies.insert(
        "application.submitted".to_owned(),
        "پیشخوان: «{service}» با کد {code} ثبت شد.".to_owned(),
    );
    app.save_notification_templates(&actor, &bodies)
        .await
        .unwrap()
        .unwrap();
    let me = citizen(&store).await;
    let mut request = app.example_submission(BIRTH).await.unwrap().unwrap();
    request.national_id = String::new();
    request.mobile = String::new();
    // Birth certificates are offered online in the demo.
    let filed = app
        .submit_application(&me, "127.0.0.1", request, Utc::now())
        .await
        .unwrap();
    let outbox = store.outbox_of(filed.code.as_str()).await.unwrap();
    let (_, sms, _) = outbox
        .iter()
        .find(|(topic, _, _)| topic == "notify.sms")
        .unwrap();
    assert!(
        sms.contains(&format!(
            "پیشخوان: «ثبت ولادت و صدور شناسنامهٔ نوزاد» با کد {} ثبت شد.",
            filed.code.grouped_fa()
        )),
        "{sms}"
    );
    // Emptied: back to the built-in text.
    bodies.insert("application.submitted".to_owned(), String::new());
    app.save_notification_templates(&actor, &bodies)
        .await
        .unwrap()
        .unwrap();
    let texts = app.notification_templates().await.unwrap();
    assert!(!texts["application.submitted"].1);
    app.verify_audit().await.unwrap();
}

/// A draft takes files only for its service's documents and its forms' file fields; one
/// person's drafts together hold at most the quota, and one person keeps at most MAX_DRAFTS
/// drafts; a draft nobody touches for a month is deleted with its files.
async fn drafts_hold_only_their_services_files_within_a_quota_and_expire(store: Store) {
    use pishkhan_app::drafts::DRAFT_LIFETIME;
    let dir = tempfile::tempdir().unwrap().keep();
    let mut config = Config::load(&Sources::default()).unwrap();
    config.data_dir = dir;
    config.limits.draft_quota = 64 * 1024;
    let app = App::with_store(config, store.clone()).unwrap();
    app.seed_holidays().await.unwrap();
    app.load_demo_catalogue().await.unwrap();
    let me = citizen(&store).await;
    let now = Utc::now();
    let card = app
        .service_page(BIRTH)
        .await
        .unwrap()
        .unwrap()
        .service
        .card
        .clone();
    let draft = app
        .open_draft(&me, "127.0.0.1", BIRTH, "", None, None, now)
        .await
        .unwrap();
    let save = |uploads: Vec<DraftUpload>| {
        let app = app.clone();
        let me = me.clone();
        let id = draft.id.clone();
        async move {
            app.save_draft(
                &me,
                "127.0.0.1",
                &id,
                DraftChange {
                    answers: BTreeMap::new(),
                    email: String::new(),
                    uploads,
                    remove: Vec::new(),
                },
                Utc::now(),
            )
            .await
            .unwrap()
        }
    };
    let stray_field = DraftUpload {
        requirement: String::new(),
        field: "no-such-form/photo".into(),
        file_name: "x.pdf".into(),
        bytes: EXAMPLE_PDF.to_vec(),
    };
    let (saved, problems) = save(vec![
        upload(&card.documents[0].name.fa, "scan.pdf", EXAMPLE_PDF),
        upload(
            "a document this service never asks for",
            "y.pdf",
            EXAMPLE_PDF,
        ),
        stray_field,
    ])
    .await;
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["unknown_file_field", "unknown_file_field"]);
    assert_eq!(saved.documents.len(), 1);
    assert_eq!(app.documents().list("drafts/").await.unwrap().len(), 1);

    // The quota (64 KiB here): a 70 KiB scan is refused, and nothing of it stored.
    let mut big = EXAMPLE_PDF.to_vec();
    big.resize(70 * 1024, b' ');
    let (saved, problems) = save(vec![upload(&card.documents[1].name.fa, "big.pdf", &big)]).await;
    assert_eq!(problems[0].code, "draft_quota", "{problems:?}");
    assert_eq!(saved.documents.len(), 1);
    assert_eq!(app.documents().list("drafts/").await.unwrap().len(), 1);

    // At most MAX_DRAFTS drafts per person: with that many kept, a new one is refused.
    use pishkhan_app::drafts::MAX_DRAFTS;
    let (services, _) = app
        .published_services(&pishkhan_app::records::ServiceFilter::default(), 100, 0)
        .await
        .unwrap();
    // The draft above, and MAX_DRAFTS - 1 more for other services.
    let others = services.iter().filter(|s| s.card.code != BIRTH);
    for (kept, service) in (1..MAX_DRAFTS).zip(others) {
        let record = pishkhan_store::DraftRecord {
            id: format!("kept-{kept}"),
            owner: me.actor_id(),
            service: service.card.code.clone(),
            national_id: "0082451291".into(),
            centre: None,
            consent: None,
            email: String::new(),
            answers: "{}".into(),
            documents: "[]".into(),
            created_at: now.timestamp_millis(),
            updated_at: now.timestamp_millis(),
        };
        let audit = pishkhan_store::NewAuditEntry {
            at: now,
            actor: me.actor_id(),
            action: "application.draft.open".into(),
            target_kind: "draft".into(),
            target_id: record.id.clone(),
            source: "test".into(),
            details: "{}".into(),
        };
        store.save_draft(&record, &audit).await.unwrap();
    }
    let one_more = app
        .open_draft(
            &me,
            "127.0.0.1",
            "tehran.driving-licence-renewal",
            "",
            None,
            None,
            now,
        )
        .await;
    match one_more {
        Err(ApplicationError::Invalid(problems)) => assert_eq!(problems[0].code, "too_many_drafts"),
        other => panic!("expected too_many_drafts, got {other:?}"),
    }
    // The ones kept still open.
    assert!(
        app.open_draft(&me, "127.0.0.1", BIRTH, "", None, None, now)
            .await
            .is_ok()
    );
    for i in 1..MAX_DRAFTS {
        store
            .delete_draft(
                &format!("kept-{i}"),
                &pishkhan_store::NewAuditEntry {
                    at: now,
                    actor: me.actor_id(),
                    action: "application.draft.discard".into(),
                    target_kind: "draft".into(),
                    target_id: format!("kept-{i}"),
                    source: "test".into(),
                    details: "{}".into(),
                },
            )
            .await
            .unwrap();
    }

    // A month untouched: gone, with its file; a draft touched since stays.
    let old = now - DRAFT_LIFETIME - chrono::TimeDelta::days(1);
    let other = "tehran.driving-licence-renewal";
    let stale = app
        .open_draft(&me, "127.0.0.1", other, "", None, None, old)
        .await;
    let expired = app.expire_drafts(Utc::now()).await.unwrap();
    assert_eq!(expired, usize::from(stale.is_ok()));
    assert!(app.draft(&me, &draft.id).await.unwrap().is_some());
    let later = Utc::now() + DRAFT_LIFETIME + chrono::TimeDelta::days(1);
    assert_eq!(app.expire_drafts(later).await.unwrap(), 1);
    assert!(app.draft(&me, &draft.id).await.unwrap().is_none());
    assert!(app.documents().list("drafts/").await.unwrap().is_empty());
}
