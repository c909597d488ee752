#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The catalogue's life on both databases: drafts, review, publishing, versions and diffs, and
//! editors kept to their own agency.

use pishkhan_app::audit::Actor;
use pishkhan_app::catalog::CatalogError;
use pishkhan_app::config::Sources;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::{OrgKind, ServiceFilter};
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::{FormSchema, Text};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_store::Store;

use pishkhan_store::on_both_backends;

on_both_backends!(
    a_card_goes_from_draft_to_published_and_keeps_every_version,
    the_demo_catalogue_loads_once_and_is_whole,
    search_follows_what_another_node_publishes,
    a_flood_of_searches_that_find_nothing_is_counted_within_bounds,
);

/// Searches that find nothing are counted without anyone named, at most 1000 different ones
/// between two heartbeats, so random words sent by the thousand cost a bounded table.
async fn a_flood_of_searches_that_find_nothing_is_counted_within_bounds(store: Store) {
    let app = App::with_store(Config::load(&Sources::default()).unwrap(), store.clone()).unwrap();
    assert_eq!(app.rebuild_search().await.unwrap(), 0);
    let filter = pishkhan_app::search::Filter::default();
    for n in 0..3000 {
        app.search_services(&format!("واژهٔ بی‌معنی {n}"), &filter, 0, 10)
            .await
            .unwrap();
    }
    for _ in 0..3 {
        app.search_services("واژهٔ بی‌معنی 7", &filter, 0, 10)
            .await
            .unwrap();
    }
    app.flush_search_misses().await.unwrap();
    let misses = app.search_misses(5000).await.unwrap();
    assert_eq!(misses.len(), 1000);
    let seven = misses
        .iter()
        .find(|(m, _)| m.query == "واژه بیمعنی 7")
        .expect("counted");
    assert_eq!(seven.0.count, 4);
    // Counts add up across heartbeats.
    app.search_services("واژهٔ بی‌معنی 7", &filter, 0, 10)
        .await
        .unwrap();
    app.flush_search_misses().await.unwrap();
    let misses = app.search_misses(1).await.unwrap();
    assert_eq!(misses[0].0.query, "واژه بیمعنی 7");
    assert_eq!(misses[0].0.count, 5);
}

/// Two nodes on one database: what one publishes, retires or teaches the search, the other's
/// index follows at its next refresh (the 2-second poll in a running server).
async fn search_follows_what_another_node_publishes(store: Store) {
    let config = || Config::load(&Sources::default()).unwrap();
    let reader = App::with_store(config(), store.clone()).unwrap();
    assert_eq!(reader.rebuild_search().await.unwrap(), 0);
    let writer = App::with_store(config(), store.clone()).unwrap();
    assert_eq!(writer.load_demo_catalogue().await.unwrap(), 88);

    let find = |app: App, q: &'static str| async move {
        let filter = pishkhan_app::search::Filter {
            province: Some("tehran".into()),
            ..Default::default()
        };
        app.search_services(q, &filter, 0, 3)
            .await
            .unwrap()
            .hits
            .iter()
            .map(|e| e.code.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        find(reader.clone(), "تمدید گواهینامه").await.is_empty(),
        "not refreshed yet"
    );
    assert_eq!(reader.refresh_search().await.unwrap(), 88);
    assert_eq!(
        find(reader.clone(), "تمدید گواهینامه").await[0],
        "tehran.driving-licence-renewal"
    );
    // Refreshing again finds nothing new.
    assert_eq!(reader.refresh_search().await.unwrap(), 0);

    // Retired on the writer: gone from the reader's search after its refresh.
    let (admin, admin_actor) = staff(
        &writer,
        &store,
        "traffic.admin",
        Role::AgencyAdmin,
        "agency:tehran-traffic-police",
    )
    .await;
    writer
        .retire_service(&admin, &admin_actor, "tehran.driving-licence-renewal", 1)
        .await
        .unwrap();
    assert_eq!(reader.refresh_search().await.unwrap(), 1);
    assert!(
        !find(reader.clone(), "تمدید گواهینامه")
            .await
            .contains(&"tehran.driving-licence-renewal".to_owned())
    );

    // A synonym saved on the writer works on the reader. The list serves every province: a
    // province's governorate admin may not edit it, the national one may.
    let (provincial, provincial_actor) = staff(
        &writer,
        &store,
        "gov.tehran",
        Role::GovernorateAdmin,
        "province:tehran",
    )
    .await;
    assert!(matches!(
        writer
            .save_synonyms(&provincial, &provincial_actor, "x = y")
            .await,
        Err(pishkhan_app::search::SynonymError::Forbidden)
    ));
    let (governor, governor_actor) =
        staff(&writer, &store, "gov", Role::GovernorateAdmin, "national").await;
    assert!(find(reader.clone(), "پیکان قراضه").await.is_empty());
    writer
        .save_synonyms(&governor, &governor_actor, "پیکان قراضه = تعویض پلاک خودرو")
        .await
        .unwrap();
    reader.refresh_search().await.unwrap();
    assert_eq!(
        find(reader.clone(), "پیکان قراضه").await[0],
        "tehran.plate-transfer"
    );
    // The search that found nothing was counted, and now finds something.
    reader.flush_search_misses().await.unwrap();
    let misses = reader.search_misses(10).await.unwrap();
    let (miss, finds) = misses
        .iter()
        .find(|(m, _)| m.query == "پیکان قراضه")
        .expect("the miss was counted");
    assert_eq!(miss.count, 1);
    assert!(*finds);
    // An agency admin may not edit the list.
    assert!(
        writer
            .save_synonyms(&admin, &admin_actor, "x = y")
            .await
            .is_err()
    );
}

async fn the_demo_catalogue_loads_once_and_is_whole(store: Store) {
    let app = App::with_store(Config::load(&Sources::default()).unwrap(), store.clone()).unwrap();
    let count = app.load_demo_catalogue().await.unwrap();
    assert_eq!(count, 4 * 22);
    let (page, total) = app
        .published_services(&ServiceFilter::default(), 100, 0)
        .await
        .unwrap();
    assert_eq!(total, 88);
    for service in &page {
        assert_eq!(service.card.check(), vec![], "{}", service.card.code);
        assert_eq!(service.version, 1);
        for form in &service.card.forms {
            let (schema, _) = app
                .form(&form.code, Some(i64::from(form.version)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(schema.check(), vec![], "{}", form.code);
        }
    }
    let provinces = app.provinces().await.unwrap();
    assert_eq!(provinces.len(), 31);
    assert_eq!(provinces.iter().filter(|p| p.pilot).count(), 4);
    assert!(provinces.iter().all(|p| !p.capital_fa.is_empty()));
    let fars = ServiceFilter {
        province: Some("fars".into()),
        category: Some("municipality".into()),
        ..ServiceFilter::default()
    };
    assert_eq!(app.published_services(&fars, 100, 0).await.unwrap().1, 4);
    // Loading again changes nothing: no new versions.
    let (entries_before, _) = store.audit_chain().await.unwrap();
    assert_eq!(app.load_demo_catalogue().await.unwrap(), 88);
    let (entries_after, _) = store.audit_chain().await.unwrap();
    assert_eq!(
        entries_before.len(),
        entries_after.len(),
        "nothing recorded, nothing changed"
    );
    let again = app
        .published_service("tehran.duplicate-birth-certificate")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.version, 1);
}

fn form() -> FormSchema {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/standards/examples/duplicate-birth-certificate.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn card() -> ServiceCard {
    serde_json::from_value(serde_json::json!({
        "code": "tehran-civil-registry.duplicate-birth-certificate",
        "title": {"fa": "صدور شناسنامهٔ المثنی", "en": "Duplicate birth certificate"},
        "summary": {"fa": "برای کسی که شناسنامه‌اش گم یا فرسوده شده است."},
        "category": "civil-registration",
        "audience": ["citizen"],
        "level": "national",
        "type": "g2c",
        "agency": "tehran-civil-registry",
        "channels": [{"channel": "centre", "complete": false}],
        "steps": [
            {"who": {"fa": "متقاضی"}, "what": {"fa": "گرفتن گواهی مفقودی از کلانتری"}, "days": 1},
            {"who": {"fa": "دفتر پیشخوان"}, "what": {"fa": "ثبت درخواست و دریافت هزینه"}},
            {"who": {"fa": "ثبت احوال"}, "what": {"fa": "بررسی و صدور"}, "days": 10}
        ],
        "documents": [{"name": {"fa": "کارت ملی"}, "original": true, "copies": 1, "step": 2}],
        "forms": [{"code": "civil-registry.duplicate-birth-certificate", "version": 1}],
        "processing_days": 15,
        "visits_in_person": 1,
        "fees": [{"title": {"fa": "تعرفهٔ المثنی"}, "rials": 230000, "collector": {"fa": "ثبت احوال"}}],
        "output": {"fa": "شناسنامهٔ جدید با مهر «المثنی»"}
    }))
    .unwrap()
}

async fn staff(
    app: &App,
    store: &Store,
    username: &str,
    role: Role,
    scope: &str,
) -> (Principal, Actor) {
    let id = app
        .create_user(
            &Actor::command_line(),
            username,
            "کارمند",
            &Secret::new("catalogue test passphrase".to_owned()),
            vec![RoleGrant::new(role, Scope::parse(scope).unwrap()).unwrap()],
        )
        .await
        .unwrap();
    let user = store.user_by_id(&id).await.unwrap().unwrap();
    let actor = Actor {
        id: format!("user:{id}"),
        source: "test".into(),
    };
    (Principal::Staff(user), actor)
}

async fn a_card_goes_from_draft_to_published_and_keeps_every_version(store: Store) {
    let app = App::with_store(Config::load(&Sources::default()).unwrap(), store.clone()).unwrap();
    let cli = Actor::command_line();
    for (code, province) in [
        ("tehran-civil-registry", "tehran"),
        ("tehran-tax", "tehran"),
    ] {
        app.add_org(&cli, OrgKind::Agency, code, province, code)
            .await
            .unwrap();
    }
    let (editor, editor_actor) = staff(
        &app,
        &store,
        "editor",
        Role::AgencyEditor,
        "agency:tehran-civil-registry",
    )
    .await;
    let (other, other_actor) = staff(
        &app,
        &store,
        "other",
        Role::AgencyEditor,
        "agency:tehran-tax",
    )
    .await;
    let (admin, admin_actor) = staff(
        &app,
        &store,
        "admin",
        Role::AgencyAdmin,
        "agency:tehran-civil-registry",
    )
    .await;

    // A card cannot name a form that does not exist; the form comes first.
    let error = app
        .save_service_draft(&editor, &editor_actor, &card())
        .await
        .unwrap_err();
    assert!(matches!(error, CatalogError::Unknown(_)), "{error}");
    app.save_form(&admin, &admin_actor, "tehran-civil-registry", &form())
        .await
        .unwrap();
    assert_eq!(
        app.form("civil-registry.duplicate-birth-certificate", None)
            .await
            .unwrap()
            .unwrap()
            .1,
        1
    );

    // Another agency's editor is told it does not exist; a broken card says what is wrong.
    let error = app
        .save_service_draft(&other, &other_actor, &card())
        .await
        .unwrap_err();
    assert!(matches!(error, CatalogError::NotFound));
    let mut broken = card();
    broken.steps.clear();
    let error = app
        .save_service_draft(&editor, &editor_actor, &broken)
        .await
        .unwrap_err();
    assert!(error.lines(pishkhan_domain::Language::Persian)[0].contains("مراحل"));
    // An output template that does not typeset is refused on save, with its line.
    let mut broken = card();
    broken.output_template = Some(pishkhan_domain::catalog::OutputTemplate {
        typst: Some("#header()\n#text(d.holder_name)\n#d.no_such_field\n".into()),
        valid_days: Some(365),
    });
    let error = app
        .save_service_draft(&editor, &editor_actor, &broken)
        .await
        .unwrap_err();
    let said = error.lines(pishkhan_domain::Language::Persian).join(" ");
    assert!(said.contains("سطر ۳"), "{said}");
    broken.output_template.as_mut().unwrap().typst =
        Some("#header()\n#text(size: 14pt, d.holder_name)\n#image(bytes(d.qr), format: \"svg\", width: 3cm)\n".into());
    broken.code = "tehran.template-check".into();
    app.save_service_draft(&editor, &editor_actor, &broken)
        .await
        .expect("a template that typesets is kept with the card");

    let code = card().code;
    let v1 = app
        .save_service_draft(&editor, &editor_actor, &card())
        .await
        .unwrap();
    assert_eq!(v1, 1);
    let filter = ServiceFilter::default();
    assert_eq!(
        app.published_services(&filter, 10, 0).await.unwrap().1,
        0,
        "a draft is not public"
    );
    app.submit_service(&editor, &editor_actor, &code, v1)
        .await
        .unwrap();
    // An editor cannot publish; the agency admin can.
    assert!(
        app.publish_service(&editor, &editor_actor, &code, v1)
            .await
            .is_err()
    );
    app.publish_service(&admin, &admin_actor, &code, v1)
        .await
        .unwrap();
    let public = app.published_service(&code).await.unwrap().unwrap();
    assert_eq!(public.version, 1);

    // An edit is a new draft; the public still sees version 1 until it is published.
    let mut edited = card();
    edited.steps[2].what = Text::fa("بررسی سوابق هویتی و صدور شناسنامه");
    let v2 = app
        .save_service_draft(&editor, &editor_actor, &edited)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    assert_eq!(
        app.published_service(&code).await.unwrap().unwrap().version,
        1
    );
    let changes = app
        .service_diff(&editor, &code, 1, 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, "steps[2].what.fa");
    assert!(
        app.service_diff(&other, &code, 1, 2)
            .await
            .unwrap()
            .is_none(),
        "not theirs"
    );
    // Acting on a stale version is refused.
    assert!(matches!(
        app.submit_service(&editor, &editor_actor, &code, v1).await,
        Err(CatalogError::WrongState { .. })
    ));
    app.submit_service(&editor, &editor_actor, &code, v2)
        .await
        .unwrap();
    app.publish_service(&admin, &admin_actor, &code, v2)
        .await
        .unwrap();
    let public = app.published_service(&code).await.unwrap().unwrap();
    assert_eq!(
        public.card.steps[2].what.fa,
        "بررسی سوابق هویتی و صدور شناسنامه"
    );

    let filtered = ServiceFilter {
        province: Some("tehran".into()),
        category: Some("civil-registration".into()),
        ..ServiceFilter::default()
    };
    let (page, total) = app.published_services(&filtered, 10, 0).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    let elsewhere = ServiceFilter {
        province: Some("isfahan".into()),
        ..ServiceFilter::default()
    };
    assert_eq!(
        app.published_services(&elsewhere, 10, 0).await.unwrap().1,
        0
    );

    let record = app
        .service_for_editor(&editor, &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.versions.len(), 2);
    let events: Vec<&str> = record.history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "saved",
            "review",
            "published",
            "saved",
            "review",
            "published"
        ]
    );

    app.retire_service(&admin, &admin_actor, &code, v2)
        .await
        .unwrap();
    assert!(app.published_service(&code).await.unwrap().is_none());
    app.verify_audit().await.unwrap();
}
