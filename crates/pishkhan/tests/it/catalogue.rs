//! The published catalogue through the API, on both databases.

use pishkhan_app::App;
use pishkhan_app::audit::Actor;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::OrgKind;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::FormSchema;
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_store::Store;

use crate::support::{get, on_both_backends, test_config};

on_both_backends!(the_api_lists_and_shows_only_published_services);

fn form() -> FormSchema {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/standards/examples/duplicate-birth-certificate.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn card(code: &str, title: &str, channel: &str) -> ServiceCard {
    serde_json::from_value(serde_json::json!({
        "code": code,
        "title": {"fa": title},
        "summary": {"fa": "خلاصهٔ خدمت"},
        "category": "civil-registration",
        "audience": ["citizen"],
        "level": "national",
        "type": "g2c",
        "agency": "tehran-civil-registry",
        "channels": [{"channel": channel, "complete": true}],
        "steps": [{"who": {"fa": "متقاضی"}, "what": {"fa": "ثبت درخواست"}}],
        "forms": [{"code": "civil-registry.duplicate-birth-certificate", "version": 1}],
        "processing_days": 7,
        "visits_in_person": 0,
        "fees": [{"title": {"fa": "تعرفه"}, "rials": 230000, "collector": {"fa": "ثبت احوال"}}],
        "output": {"fa": "شناسنامه"}
    }))
    .unwrap()
}

async fn the_api_lists_and_shows_only_published_services(store: Store) {
    let app = App::with_store(test_config(), store).unwrap();
    let cli = Actor::command_line();
    app.add_org(
        &cli,
        OrgKind::Agency,
        "tehran-civil-registry",
        "tehran",
        "ثبت احوال",
    )
    .await
    .unwrap();
    let id = app
        .create_user(
            &cli,
            "admin",
            "مدیر",
            &pishkhan_app::Secret::new("catalogue api passphrase".to_owned()),
            vec![
                RoleGrant::new(
                    Role::AgencyAdmin,
                    Scope::parse("agency:tehran-civil-registry").unwrap(),
                )
                .unwrap(),
            ],
        )
        .await
        .unwrap();
    let admin = Principal::Staff(app.store().user_by_id(&id).await.unwrap().unwrap());
    let actor = Actor {
        id: format!("user:{id}"),
        source: "test".into(),
    };
    app.save_form(&admin, &actor, "tehran-civil-registry", &form())
        .await
        .unwrap();
    for (code, title, channel, publish) in [
        ("reg.duplicate", "صدور شناسنامهٔ المثنی", "centre", true),
        ("reg.death", "صدور گواهی فوت", "agency-office", true),
        ("reg.draft-only", "خدمت پیش‌نویس", "online", false),
    ] {
        let v = app
            .save_service_draft(&admin, &actor, &card(code, title, channel))
            .await
            .unwrap();
        app.submit_service(&admin, &actor, code, v).await.unwrap();
        if publish {
            app.publish_service(&admin, &actor, code, v).await.unwrap();
        }
    }
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap());

    let all = get(&router, "/api/v1/services", &[]).await.json();
    assert_eq!(all["total"], 2, "{all}");
    let titles: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title_fa"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["صدور شناسنامهٔ المثنی", "صدور گواهی فوت"]);
    assert_eq!(all["items"][0]["total_fee_rials"], 230000);

    // Words typed with Arabic letters and without the hamza still find it.
    let found = get(&router, "/api/v1/services?q=%D8%B4%D9%86%D8%A7%D8%B3%D9%86%D8%A7%D9%85%D9%87%20%D8%A7%D9%84%D9%85%D8%AB%D9%86%D9%8A", &[]).await.json();
    assert_eq!(found["total"], 1, "{found}");
    let centre = get(&router, "/api/v1/services?channel=centre", &[])
        .await
        .json();
    assert_eq!(centre["items"][0]["code"], "reg.duplicate");
    let paged = get(&router, "/api/v1/services?per_page=1&page=2", &[])
        .await
        .json();
    assert_eq!(
        (paged["total"].as_i64(), paged["items"][0]["code"].as_str()),
        (Some(2), Some("reg.death"))
    );
    assert_eq!(
        get(&router, "/api/v1/services?province=isfahan", &[])
            .await
            .json()["total"],
        0
    );
    let bad = get(&router, "/api/v1/services?per_page=500", &[]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "bad_per_page");
    assert_eq!(
        get(&router, "/api/v1/services?category=space", &[])
            .await
            .status,
        400
    );

    let one = get(&router, "/api/v1/services/reg.duplicate", &[]).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["card"]["steps"][0]["what"]["fa"], "ثبت درخواست");
    assert_eq!(
        get(&router, "/api/v1/services/reg.draft-only", &[])
            .await
            .status,
        404,
        "drafts are not public"
    );

    let schema = get(
        &router,
        "/api/v1/forms/civil-registry.duplicate-birth-certificate",
        &[],
    )
    .await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.json()["form"]["schema"], "pishkhan-form/1");
    assert_eq!(
        get(
            &router,
            "/api/v1/forms/civil-registry.duplicate-birth-certificate?version=9",
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        get(
            &router,
            "/api/v1/forms/civil-registry.duplicate-birth-certificate?version=x",
            &[]
        )
        .await
        .status,
        400
    );
}
