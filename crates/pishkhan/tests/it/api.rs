//! The public API (`/api/v1`) through the real router, on SQLite and on PostgreSQL.

use pishkhan_app::App;
use pishkhan_store::Store;
use serde_json::json;

use crate::support::{get, on_both_backends, post_json, test_config};

on_both_backends!(
    checks_accept_what_people_type_and_say_why_not,
    checks_give_details_and_warnings,
    unknown_kinds_and_malformed_bodies_are_clear_errors,
    bills_are_inspected,
    business_days_skip_fridays_and_holidays_and_say_what_is_unknown,
    the_holiday_table_is_served_and_imports_replace_it,
    the_openapi_document_lists_every_api_route,
);

/// The router on an app that seeded its holidays, as `App::start` does.
async fn router(store: Store) -> axum::Router {
    let app = App::with_store(test_config(), store).unwrap();
    app.seed_holidays().await.unwrap();
    pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap())
}

async fn checks_accept_what_people_type_and_say_why_not(store: Store) {
    let router = router(store).await;
    for (kind, value, normalized) in [
        ("national-id", "۰۰۷-۶۲۲۹۶۴-۵", "0076229645"),
        ("legal-id", "10380284790", "10380284790"),
        ("mobile", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "+989121234567"),
        ("postal-code", "13456-78913", "1345678913"),
        (
            "sheba",
            "ir82 0540 1026 8002 0817 9090 02",
            "IR820540102680020817909002",
        ),
        ("plate", "۱۲ الف ۳۴۵ ایران ۱۱", "12الف345-11"),
        ("jalali-date", "۱۴۰۴/۱/۱۵", "1404/01/15"),
    ] {
        let reply = post_json(
            &router,
            &format!("/api/v1/checks/{kind}"),
            &json!({ "value": value }).to_string(),
            &[],
        )
        .await;
        assert_eq!(reply.status, 200, "{kind}");
        let body = reply.json();
        assert_eq!(body["valid"], true, "{kind}: {body}");
        assert_eq!(body["normalized"], normalized, "{kind}");
        assert!(body["error"].is_null());
    }

    let refused = post_json(
        &router,
        "/api/v1/checks/national-id",
        r#"{"value":"0076229646"}"#,
        &[],
    )
    .await;
    assert_eq!(
        refused.status, 200,
        "an invalid value is an answer, not an error"
    );
    let body = refused.json();
    assert_eq!(body["valid"], false);
    assert!(body["normalized"].is_null());
    assert_eq!(body["error"]["code"], "checksum");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("کد ملی")
    );

    let english = post_json(
        &router,
        "/api/v1/checks/jalali-date",
        r#"{"value":"1404/12/30"}"#,
        &[("accept-language", "en-GB,en;q=0.9")],
    )
    .await;
    assert_eq!(
        english.json()["error"]["message"],
        "Esfand 1404 has 29 days."
    );
}

async fn checks_give_details_and_warnings(store: Store) {
    let router = router(store).await;
    let sheba = post_json(
        &router,
        "/api/v1/checks/sheba",
        r#"{"value":"IR820540102680020817909002"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(sheba["details"]["bank_code"], "054");
    assert_eq!(sheba["details"]["bank"]["name_fa"], "بانک پارسیان");

    let mobile = post_json(
        &router,
        "/api/v1/checks/mobile",
        r#"{"value":"09701234567"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(mobile["valid"], true);
    assert!(mobile["details"]["operator"].is_null());
    assert_eq!(mobile["warnings"][0]["code"], "unknown_operator");

    let date = post_json(
        &router,
        "/api/v1/checks/jalali-date",
        r#"{"value":"1382/05/25"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(date["details"]["gregorian"], "2003-08-16");
    assert_eq!(date["details"]["weekday_fa"], "شنبه");
    assert_eq!(date["details"]["quarter"], 2);

    let postal = post_json(
        &router,
        "/api/v1/checks/postal-code",
        r#"{"value":"1111178913"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(postal["valid"], true);
    assert_eq!(postal["warnings"][0]["code"], "unusual_pattern");
}

async fn unknown_kinds_and_malformed_bodies_are_clear_errors(store: Store) {
    let router = router(store).await;
    let unknown = post_json(&router, "/api/v1/checks/passport", r#"{"value":"x"}"#, &[]).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");

    for body in [r#"{"value":"#, r#"{"valu":"x"}"#, r#"[1,2]"#, ""] {
        let reply = post_json(&router, "/api/v1/checks/mobile", body, &[]).await;
        assert_eq!(reply.status, 400, "{body:?}");
        let json = reply.json();
        assert_eq!(json["error"]["code"], "malformed_body");
        assert!(json["error"]["message"].as_str().unwrap().contains("JSON"));
    }

    let nowhere = get(&router, "/api/v1/nothing-here", &[]).await;
    assert_eq!(nowhere.status, 404);
    assert!(
        nowhere
            .header("content-type")
            .starts_with("application/json"),
        "API paths answer JSON, not the HTML page"
    );
}

async fn bills_are_inspected(store: Store) {
    let router = router(store).await;
    let good = post_json(
        &router,
        "/api/v1/bills/inspect",
        r#"{"bill_id":"۷۷۴۸۳۱۷۸۰۰۱۴۲","payment_id":"1770160"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(good["valid"], true);
    assert_eq!(good["service_type"]["code"], "fixed_telephone");
    assert_eq!(good["company_code"], "001");
    assert_eq!(good["amount_rials"], 17000);
    assert_eq!(good["period"], "01");
    assert_eq!(good["barcode"], "77483178001420000001770160");

    let mismatched = post_json(
        &router,
        "/api/v1/bills/inspect",
        r#"{"bill_id":"7748317800142","payment_id":"1770161"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(mismatched["valid"], false);
    assert_eq!(mismatched["pair_matches"], false);
    assert!(mismatched["barcode"].is_null());

    let broken = post_json(
        &router,
        "/api/v1/bills/inspect",
        r#"{"bill_id":"123","payment_id":"1770160"}"#,
        &[],
    )
    .await
    .json();
    assert_eq!(broken["bill_id"]["error"]["code"], "wrong_length");
    assert!(broken["pair_matches"].is_null());
}

async fn business_days_skip_fridays_and_holidays_and_say_what_is_unknown(store: Store) {
    let router = router(store).await;
    let reply = get(
        &router,
        "/api/v1/calendar/business-days?start=1404-01-01&days=10",
        &[],
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    // Nowruz (1-4), Fridays (8, 15), Eid al-Fitr and Republic Day (11, 12), Nature Day (13).
    assert_eq!(body["date"], "1404/01/19");
    assert_eq!(body["gregorian"], "2025-04-08");
    let skipped: Vec<&str> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            "1404/01/02",
            "1404/01/03",
            "1404/01/04",
            "1404/01/08",
            "1404/01/11",
            "1404/01/12",
            "1404/01/13",
            "1404/01/15"
        ]
    );
    assert!(body["warnings"].as_array().unwrap().is_empty());

    let persian_digits = get(&router, "/api/v1/calendar/business-days?start=%DB%B1%DB%B4%DB%B0%DB%B4%2F%DB%B0%DB%B1%2F%DB%B0%DB%B1&days=10", &[]).await.json();
    assert_eq!(persian_digits["date"], "1404/01/19");

    let uncovered = get(
        &router,
        "/api/v1/calendar/business-days?start=1405-09-08&days=5",
        &[],
    )
    .await
    .json();
    assert_eq!(uncovered["warnings"][0]["code"], "holidays_incomplete");

    for query in [
        "start=1404-13-01&days=1",
        "days=3",
        "start=1404-01-01&days=-1",
        "start=1404-01-01&days=99999",
        "start=1404-01-01",
    ] {
        let reply = get(
            &router,
            &format!("/api/v1/calendar/business-days?{query}"),
            &[],
        )
        .await;
        assert_eq!(reply.status, 400, "{query}");
        assert!(reply.json()["error"]["code"].is_string());
    }
}

async fn the_holiday_table_is_served_and_imports_replace_it(store: Store) {
    let app = App::with_store(test_config(), store.clone()).unwrap();
    app.seed_holidays().await.unwrap();
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app.clone()).unwrap());
    let y1404 = get(&router, "/api/v1/calendar/holidays?year=1404", &[])
        .await
        .json();
    assert_eq!(y1404["covered"], true);
    assert_eq!(y1404["source"], "seed");
    assert_eq!(y1404["holidays"][0]["name_en"], "Nowruz");
    assert_eq!(y1404["holidays"][0]["gregorian"], "2025-03-21");

    // The governorate completes 1405: the new list replaces the seed, and deadlines use it.
    let admin = pishkhan_app::audit::Actor {
        id: "admin-1".to_owned(),
        source: "127.0.0.1".to_owned(),
    };
    app.import_holidays(
        &admin,
        "covered,1405,,\n1405/09/10,lunar,روز آزمون,Test day\n",
        "admin.csv",
    )
    .await
    .unwrap();
    let y1405 = get(&router, "/api/v1/calendar/holidays?year=1405", &[])
        .await
        .json();
    assert_eq!(y1405["covered"], true);
    assert_eq!(y1405["source"], "admin.csv");
    assert_eq!(y1405["holidays"].as_array().unwrap().len(), 1);
    let deadline = get(
        &router,
        "/api/v1/calendar/business-days?start=1405-09-08&days=2",
        &[],
    )
    .await
    .json();
    assert_eq!(deadline["date"], "1405/09/11", "09/10 is now a holiday");
    assert!(deadline["warnings"].as_array().unwrap().is_empty());

    // A file with a mistake imports nothing.
    let error = app
        .import_holidays(&admin, "covered,1405,,\n1405/12/30,lunar,x,y\n", "bad.csv")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("1 problem"), "{error}");
    // The good import is on the record, by its actor; the refused one is not.
    assert_eq!(app.verify_audit().await.unwrap(), 1);
    let (entries, _) = store.audit_chain().await.unwrap();
    assert_eq!(
        (
            entries[0].fields.actor.as_str(),
            entries[0].fields.action.as_str(),
            entries[0].fields.target_id.as_str()
        ),
        ("admin-1", "holidays.import", "1405")
    );
    let still = get(&router, "/api/v1/calendar/holidays?year=1405", &[])
        .await
        .json();
    assert_eq!(still["source"], "admin.csv");

    let none = get(&router, "/api/v1/calendar/holidays?year=1410", &[])
        .await
        .json();
    assert_eq!(none["covered"], false);
    assert!(none["holidays"].as_array().unwrap().is_empty());
    assert_eq!(
        get(&router, "/api/v1/calendar/holidays?year=abc", &[])
            .await
            .status,
        400
    );
}

async fn the_openapi_document_lists_every_api_route(store: Store) {
    let router = router(store).await;
    let reply = get(&router, "/api/v1/openapi.json", &[]).await;
    assert_eq!(reply.status, 200);
    let document = reply.json();
    assert_eq!(document["info"]["title"], "Pishkhan API");
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/checks/{kind}",
        "/api/v1/bills/inspect",
        "/api/v1/calendar/business-days",
        "/api/v1/calendar/holidays",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(document["components"]["schemas"]["CheckResponse"].is_object());
}
