//! The public portal on the demo catalogue: search as people type, printed forms and cards, and
//! the structured data other sites read.

use std::process::Command;

use pishkhan_app::App;
use pishkhan_render::comparable;

use crate::support::{Reply, get, test_config};

pub(crate) async fn demo_router() -> (pishkhan_store::testing::TestDatabase, axum::Router) {
    let db = pishkhan_store::testing::fresh_sqlite().await;
    let mut config = test_config();
    config.public_origin = Some("https://pishkhan.example".to_owned());
    let app = App::with_store(config, db.store.clone()).unwrap();
    assert_eq!(app.load_demo_catalogue().await.unwrap(), 88);
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap());
    (db, router)
}

fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)]).unwrap()
}

/// Queries written the ways people type them (Arabic letters, no ZWNJ, Persian or ASCII digits,
/// colloquial names, typos, English), each with the service that must come in the top three.
const QUERIES: &[(&str, &str)] = &[
    ("تمدید گواهینامه", "driving-licence-renewal"),
    ("تمديد گواهي نامه", "driving-licence-renewal"),
    ("تمدید گواهی‌نامه رانندگی", "driving-licence-renewal"),
    ("گواهینامه تمدید", "driving-licence-renewal"),
    ("تمدیدگواهینامه", "driving-licence-renewal"),
    ("تمدد گواهینامه", "driving-licence-renewal"),
    ("driving licence renewal", "driving-licence-renewal"),
    ("renew driving license", "driving-licence-renewal"),
    ("گواهینامه پایه ۳", "driving-licence-first"),
    ("گواهینامه پایه 3", "driving-licence-first"),
    ("گرفتن گواهینامه", "driving-licence-first"),
    ("شناسنامه نوزاد", "birth-certificate"),
    ("شناسنامه بچه", "birth-certificate"),
    ("ثبت ولادت", "birth-certificate"),
    ("شناسنامه المثنی", "duplicate-birth-certificate"),
    ("شناسنامه گمشده", "duplicate-birth-certificate"),
    ("المثني", "duplicate-birth-certificate"),
    ("گواهی فوت", "death-certificate"),
    ("ثبت وفات", "death-certificate"),
    ("تغییر اسم کوچک", "change-of-name"),
    ("تغییر نام", "change-of-name"),
    ("مفاصا حساب مالیاتی", "tax-clearance"),
    ("مفاصاحساب", "tax-clearance"),
    ("اظهارنامه مالیاتی", "tax-declaration"),
    ("خلافی ماشین", "traffic-fines"),
    ("جریمه رانندگی", "traffic-fines"),
    ("خلافي خودرو", "traffic-fines"),
    ("تعویض پلاک", "plate-transfer"),
    ("نقل و انتقال خودرو", "plate-transfer"),
    ("سند ماشین", "plate-transfer"),
    ("انشعاب برق", "electricity-connection"),
    ("کنتور برق", "electricity-connection"),
    ("انشعاب آب", "water-connection"),
    ("کنتور آب", "water-connection"),
    ("گاز کشی", "gas-connection"),
    ("انشعاب گاز", "gas-connection"),
    ("تلفن ثابت", "telephone-line"),
    ("خط تلفن", "telephone-line"),
    ("قطعی برق", "electricity-outage-report"),
    ("خاموشی", "electricity-outage-report"),
    ("پرداخت قبض", "bill-payment"),
    ("قبض برق", "bill-payment"),
    ("پروانه ساخت", "building-permit"),
    ("جواز ساخت", "building-permit"),
    ("عدم خلاف", "no-violation-certificate"),
    ("پایان کار", "completion-certificate"),
    ("عوارض نوسازی", "renovation-charges"),
    ("جواز کسب", "business-licence"),
    ("پروانه کسب", "business-licence"),
    ("کارت بازرگانی", "commercial-card"),
    ("كارت بازرگاني", "commercial-card"),
];

pub(crate) async fn top_three(router: &axum::Router, query: &str) -> Vec<String> {
    let reply = get(
        router,
        &format!(
            "/api/v1/services?{}&province=tehran&per_page=3",
            encode(query)
        ),
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn people_find_services_however_they_type() {
    let (_db, router) = demo_router().await;
    assert!(QUERIES.len() >= 40);
    let mut misses = Vec::new();
    for (query, key) in QUERIES {
        let found = top_three(&router, query).await;
        if !found.contains(&format!("tehran.{key}")) {
            misses.push(format!("{query:?} → {found:?}, expected tehran.{key}"));
        }
    }
    assert!(
        misses.is_empty(),
        "not in the top three:\n{}",
        misses.join("\n")
    );
}

#[tokio::test]
async fn search_is_scoped_ranked_and_helpful() {
    let (_db, router) = demo_router().await;
    // Scoped: Isfahan's renewal, not Tehran's.
    let reply = get(
        &router,
        &format!(
            "/api/v1/services?{}&province=isfahan",
            encode("تمدید گواهینامه")
        ),
        &[],
    )
    .await;
    let items = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["code"], "isfahan.driving-licence-renewal");
    assert!(
        items
            .iter()
            .all(|i| i["code"].as_str().unwrap().starts_with("isfahan."))
    );
    // Without a province: all four pilots' renewals come first.
    let reply = get(
        &router,
        &format!("/api/v1/services?{}&per_page=4", encode("تمدید گواهینامه")),
        &[],
    )
    .await;
    let body = reply.json();
    assert!(body["items"].as_array().unwrap().iter().all(|i| {
        i["code"]
            .as_str()
            .unwrap()
            .ends_with(".driving-licence-renewal")
    }));
    // "Did you mean" on the page when nothing matches.
    let page = get(&router, &format!("/search?{}", encode("مفاصاحصاپ")), &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("منظورتان این بود"), "{}", page.body);
    assert!(page.body.contains("مفاصاحساب"));
    // Suggestions from an unfinished word.
    let reply = get(
        &router,
        &format!("/api/v1/suggest?{}&province=tehran", encode("تمدید گواهین")),
        &[],
    )
    .await;
    assert_eq!(
        reply.json()["items"][0]["code"],
        "tehran.driving-licence-renewal"
    );
}

pub(crate) fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = match Command::new("pdftotext").arg(&path).arg("-").output() {
        Ok(out) => out,
        Err(_) => {
            assert!(
                std::env::var_os("PISHKHAN_TEST_REQUIRE_ORACLES").is_none(),
                "pdftotext (poppler-utils) is required"
            );
            return None;
        }
    };
    assert!(out.status.success());
    Some(comparable(&String::from_utf8_lossy(&out.stdout)))
}

/// Does text made [`comparable`] hold `expected`?
fn holds(text: &str, expected: &str) -> bool {
    text.contains(&comparable(expected))
}

fn assert_pdf(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    assert_eq!(reply.header("content-type"), "application/pdf", "{what}");
    assert!(
        reply
            .header("content-disposition")
            .starts_with("attachment; filename=")
    );
    assert!(reply.bytes.starts_with(b"%PDF-"), "{what}");
}

#[tokio::test]
async fn every_demo_form_prints_with_its_title_and_labels() {
    let (db, router) = demo_router().await;
    let app = App::with_store(test_config(), db.store.clone()).unwrap();
    let (services, _) = app
        .published_services(&Default::default(), i64::MAX, 0)
        .await
        .unwrap();
    assert_eq!(services.len(), 88);
    for service in &services {
        for form_ref in &service.card.forms {
            let (form, _) = app.form(&form_ref.code, None).await.unwrap().unwrap();
            let reply = get(&router, &format!("/forms/{}/pdf", form_ref.code), &[]).await;
            assert_pdf(&reply, &form_ref.code);
            let Some(text) = pdftotext(&reply.bytes) else {
                return;
            };
            assert!(
                holds(&text, &form.title.fa),
                "{}: title missing: {text}",
                form.code
            );
            assert!(holds(&text, &form.code), "{}: code missing", form.code);
            for field in form.fields() {
                assert!(
                    holds(&text, &field.label.fa),
                    "{}: label {:?} missing: {text}",
                    form.code,
                    field.label.fa
                );
            }
        }
    }
    // A card prints too, and an unknown form is a 404.
    let reply = get(&router, "/services/tehran.driving-licence-renewal/pdf", &[]).await;
    assert_pdf(&reply, "card");
    if let Some(text) = pdftotext(&reply.bytes) {
        assert!(holds(&text, "تمدید گواهینامهٔ رانندگی"), "{text}");
        assert!(holds(&text, "مدارک لازم"), "{text}");
    }
    assert_eq!(
        get(&router, "/forms/no.such-form/pdf", &[]).await.status,
        404
    );
    assert_eq!(
        get(&router, "/forms/BAD%2F..%2Fx/pdf", &[]).await.status,
        404
    );
}

#[tokio::test]
async fn pages_carry_structured_data_and_the_sitemap_lists_them() {
    let (_db, router) = demo_router().await;
    // Whatever host a request names, absolute links use the configured origin.
    let host = [("host", "evil.example")];
    let page = get(&router, "/services/tehran.driving-licence-renewal", &host).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(
        r#"<link rel="canonical" href="https://pishkhan.example/services/tehran.driving-licence-renewal">"#
    ));
    assert!(
        page.body
            .contains(r#"<meta property="og:title" content="تمدید گواهینامهٔ رانندگی">"#)
    );
    let start = page
        .body
        .find(r#"<script type="application/ld+json">"#)
        .unwrap();
    let json = &page.body[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    let ld: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(ld["@type"], "GovernmentService");
    assert_eq!(ld["name"], "تمدید گواهینامهٔ رانندگی");
    assert_eq!(ld["provider"]["@type"], "GovernmentOrganization");
    assert_eq!(ld["offers"]["priceCurrency"], "IRR");
    // One of its fees has no announced amount: the total says so, and no price is claimed.
    assert!(
        page.body
            .contains("(بدون هزینه‌هایی که مبلغشان اعلام نشده است)")
    );
    assert!(ld["offers"].get("price").is_none(), "{}", ld["offers"]);
    let whole = get(&router, "/services/tehran.death-certificate", &host).await;
    assert!(!whole.body.contains("مبلغشان اعلام نشده"));
    assert!(
        whole.body.contains(r#""price":100000"#),
        "the whole cost is known"
    );

    let sitemap = get(&router, "/sitemap.xml", &host).await;
    assert_eq!(sitemap.status, 200);
    assert!(
        sitemap
            .header("content-type")
            .starts_with("application/xml")
    );
    assert_eq!(sitemap.body.matches("/services/").count(), 88);
    assert!(
        sitemap
            .body
            .contains("<loc>https://pishkhan.example/forms/tehran.driving-licence-renewal</loc>")
    );
    assert!(
        sitemap
            .body
            .contains("<loc>https://pishkhan.example/events/birth</loc>")
    );
    let robots = get(&router, "/robots.txt", &host).await;
    assert!(
        robots
            .body
            .contains("Sitemap: https://pishkhan.example/sitemap.xml")
    );

    for body in [&page.body, &sitemap.body, &robots.body] {
        assert!(
            !body.contains("evil.example"),
            "the request's Host is never trusted"
        );
    }

    // Life events and the home page's agencies of a chosen province.
    let event = get(&router, "/events/buying-a-car", &[]).await;
    assert_eq!(event.status, 200);
    assert!(event.body.contains("تعویض پلاک و نقل‌وانتقال خودرو"));
    assert_eq!(get(&router, "/events/no-such-event", &[]).await.status, 404);
    let home = get(&router, "/?province=tehran", &[]).await;
    assert!(
        home.body.contains("/agencies/tehran-traffic-police"),
        "{}",
        home.body
    );
    assert!(home.body.contains("/events/opening-a-shop"));
}
