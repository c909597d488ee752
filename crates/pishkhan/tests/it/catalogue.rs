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
    let app = App::with_store(test_config(), store.clone()).unwrap();
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
    let admin = Principal::Staff(store.user_by_id(&id).await.unwrap().unwrap());
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

/// The demo catalogue's CPSV-AP export conforms to the CPSV-AP 3.2.0 shapes, as pySHACL (an
/// implementation nobody here wrote) judges; and the same check refuses a service stripped of its
/// title, so a pass means something. pySHACL is required when PISHKHAN_TEST_REQUIRE_ORACLES is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpsv_ap_export_of_the_demo_catalogue_conforms_to_the_shapes() {
    let db = pishkhan_store::testing::fresh_sqlite().await;
    let app = App::with_store(test_config(), db.store.clone()).unwrap();
    assert_eq!(app.load_demo_catalogue().await.unwrap(), 88);
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap());
    let reply = get(
        &router,
        "/api/v1/catalog.jsonld",
        &[("host", "pishkhan.example")],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/ld+json");
    let document = reply.json();
    let graph = document["@graph"].as_array().unwrap();
    let services = graph
        .iter()
        .filter(|n| n["@type"] == "cpsv:PublicService")
        .count();
    assert_eq!(services, 88);

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("catalog.jsonld");
    std::fs::write(&good, document.to_string()).unwrap();
    let mut broken = document.clone();
    let first = broken["@graph"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["@type"] == "cpsv:PublicService")
        .unwrap();
    first.as_object_mut().unwrap().remove("dct:title");
    let bad = dir.path().join("broken.jsonld");
    std::fs::write(&bad, broken.to_string()).unwrap();

    let shapes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/standards/cpsv-ap-3.2.0/cpsv-ap-SHACL.ttl"
    );
    let script = "import sys\n\
        try:\n import rdflib\n from pyshacl import validate\n\
        except ImportError:\n sys.exit(3)\n\
        data=rdflib.Graph().parse(sys.argv[2], format='json-ld')\n\
        shapes=rdflib.Graph().parse(sys.argv[1])\n\
        ok,_,text=validate(data, shacl_graph=shapes, inference='none')\n\
        print(text)\n\
        sys.exit(0 if ok else 1)\n";
    let run = |file: &std::path::Path| {
        std::process::Command::new("python3")
            .args(["-c", script, shapes])
            .arg(file)
            .output()
            .unwrap()
    };
    let result = run(&good);
    if result.status.code() == Some(3) {
        assert!(
            std::env::var_os("PISHKHAN_TEST_REQUIRE_ORACLES").is_none(),
            "pySHACL is required (pip install pyshacl)"
        );
        return;
    }
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
    let refused = run(&bad);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "a service without a title is refused"
    );
    assert!(String::from_utf8_lossy(&refused.stdout).contains("title"));
}
