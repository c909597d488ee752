//! The real router, in process, on SQLite and on PostgreSQL.

use axum::routing::get as get_route;
use pishkhan_store::Store;
use pishkhan_web::WebError;

use crate::support::{
    METRICS_AUTH, get, on_both_backends, router_on, send_form, state_on, test_config,
};

on_both_backends!(
    the_home_page_is_persian_and_right_to_left,
    the_language_switch_sets_a_cookie_and_returns,
    the_language_switch_never_leaves_the_site,
    unknown_paths_get_the_not_found_page_in_the_visitors_language,
    internal_errors_show_an_incident_id_and_no_details,
    a_full_queue_or_disk_is_a_503_saying_so_in_persian,
    every_response_carries_a_request_id_and_security_headers,
    static_assets_are_cached_and_compressed,
    health_and_readiness_answer,
    metrics_count_requests_by_route,
    invented_methods_cannot_grow_the_metrics,
    behind_tls_cookies_are_secure_and_host_bound,
    the_sixth_wrong_password_is_refused_over_http_without_a_hash_check,
);

async fn the_home_page_is_persian_and_right_to_left(store: Store) {
    let router = router_on(store);
    let reply = get(&router, "/", &[]).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("text/html"));
    assert!(reply.body.contains(r#"<html lang="fa" dir="rtl">"#));
    assert!(
        reply
            .body
            .contains("<h1>خدمات دستگاه‌های اجرایی استان، در یک جا</h1>")
    );
    assert!(
        reply
            .body
            .contains(r##"<a class="skip-link" href="#main">"##)
    );
    assert!(
        reply
            .body
            .contains(r#"href="/static/fonts/Vazirmatn-Regular.woff2""#)
    );
    assert!(
        reply.body.contains(r#"href="/lang/en?next=%2F""#),
        "switch to English"
    );
}

async fn the_language_switch_sets_a_cookie_and_returns(store: Store) {
    let router = router_on(store);
    let reply = get(&router, "/lang/en?next=%2F", &[]).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), "/");
    assert!(reply.header("set-cookie").starts_with("lang=en;"));
    assert!(reply.header("set-cookie").contains("SameSite=Lax"));

    let english = get(&router, "/", &[("cookie", "lang=en")]).await;
    assert!(english.body.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(
        english
            .body
            .contains("Every agency&#39;s services in the province, in one place")
    );
    assert!(
        english.body.contains(r#"href="/lang/fa?next=%2F""#),
        "switch back to Persian"
    );

    let back = get(&router, "/lang/fa?next=%2F", &[("cookie", "lang=en")]).await;
    assert!(back.header("set-cookie").starts_with("lang=fa;"));
}

async fn the_language_switch_never_leaves_the_site(store: Store) {
    let router = router_on(store);
    for next in [
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let reply = get(&router, &format!("/lang/en?next={next}"), &[]).await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.header("location"), "/", "next={next}");
    }
    let unknown = get(&router, "/lang/xx?next=%2F", &[]).await;
    assert_eq!(unknown.status, 404);
    assert!(!unknown.header("set-cookie").contains("lang="));
}

async fn unknown_paths_get_the_not_found_page_in_the_visitors_language(store: Store) {
    let router = router_on(store);
    let persian = get(&router, "/no/such/page", &[]).await;
    assert_eq!(persian.status, 404);
    assert!(persian.header("content-type").starts_with("text/html"));
    assert!(persian.body.contains("<h1>این صفحه پیدا نشد</h1>"));
    assert!(
        persian.body.contains(r#"dir="rtl""#),
        "in the site's layout"
    );
    assert!(
        !persian.body.contains("شناسهٔ رخداد"),
        "no incident id for a 404"
    );

    let english = get(&router, "/no/such/page", &[("cookie", "lang=en")]).await;
    assert!(english.body.contains("<h1>Page not found</h1>"));
    // The switch on an error page returns to the page that was asked for.
    assert!(english.body.contains("next=%2Fno%2Fsuch%2Fpage"));
}

async fn internal_errors_show_an_incident_id_and_no_details(store: Store) {
    let routes = pishkhan_web::routes()
        .route(
            "/fails",
            get_route(|| async {
                Err::<(), _>(WebError::internal_message("secret detail: table xyz"))
            }),
        )
        .route("/panics", get_route(panicking_handler));
    let router = pishkhan_web::with_middleware(routes, state_on(store));
    for path in ["/fails", "/panics"] {
        let reply = get(&router, path, &[]).await;
        assert_eq!(reply.status, 500, "{path}");
        let incident = reply.header("x-request-id");
        assert!(!incident.is_empty());
        assert!(
            reply.body.contains("<h1>متأسفیم، مشکلی پیش آمد</h1>"),
            "{path}"
        );
        assert!(
            reply
                .body
                .contains(&format!(r#"<code dir="ltr">{incident}</code>"#)),
            "{path}"
        );
        assert!(!reply.body.contains("secret detail"));
        assert!(!reply.body.contains("a bug in a handler"));
    }
}

/// "Not now" from any layer — the writer's queue full, the disk full — is a 503 with
/// `Retry-After` and a page saying which, not the generic error page.
async fn a_full_queue_or_disk_is_a_503_saying_so_in_persian(store: Store) {
    use pishkhan_app::applications::ApplicationError;
    use pishkhan_store::StoreError;
    let routes = pishkhan_web::routes()
        .route(
            "/busy",
            get_route(|| async {
                Err::<(), WebError>(ApplicationError::Store(StoreError::WriterBusy).into())
            }),
        )
        .route(
            "/late",
            get_route(|| async {
                Err::<(), WebError>(ApplicationError::Store(StoreError::WriterTimeout).into())
            }),
        )
        .route(
            "/full",
            get_route(|| async {
                Err::<(), WebError>(std::io::Error::from(std::io::ErrorKind::StorageFull).into())
            }),
        );
    let router = pishkhan_web::with_middleware(routes, state_on(store));
    let busy = get(&router, "/busy", &[]).await;
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("retry-after"), "5");
    assert!(
        busy.body.contains("<h1>پیشخوان هم‌اکنون پربار است</h1>"),
        "{}",
        busy.body
    );
    assert!(!busy.body.contains("شناسهٔ رخداد"));
    // A write that timed out may yet be stored: the page says so, and does not say "not saved".
    let late = get(&router, "/late", &[]).await;
    assert_eq!(late.status, 503);
    assert!(
        late.body.contains("<h1>ذخیره به‌موقع تمام نشد</h1>"),
        "{}",
        late.body
    );
    assert!(!late.body.contains("ذخیره نشد."));
    let full = get(&router, "/full", &[]).await;
    assert_eq!(full.status, 503);
    assert_eq!(full.header("retry-after"), "300");
    assert!(
        full.body.contains("<h1>فضای ذخیره‌سازی پر است</h1>"),
        "{}",
        full.body
    );
}

async fn panicking_handler() -> &'static str {
    panic!("a bug in a handler")
}

async fn every_response_carries_a_request_id_and_security_headers(store: Store) {
    let router = router_on(store);
    let mut ids = Vec::new();
    for path in ["/", "/static/app.css", "/nope", "/readyz", "/lang/en"] {
        let reply = get(&router, path, &[]).await;
        let id = reply.header("x-request-id").to_owned();
        assert_eq!(id.len(), 36, "{path}: a UUID request id, got {id:?}");
        ids.push(id);
        assert!(
            reply
                .header("content-security-policy")
                .contains("default-src 'self'")
        );
        assert!(
            reply
                .header("content-security-policy")
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(reply.header("x-frame-options"), "DENY");
        assert!(!reply.header("referrer-policy").is_empty());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each request gets its own id");
}

async fn static_assets_are_cached_and_compressed(store: Store) {
    let router = router_on(store);
    let home = get(&router, "/", &[]).await;
    let href = home
        .body
        .split(r#"<link rel="stylesheet" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(href.starts_with("/static/app.css?v="), "{href}");

    let css = get(&router, &href, &[]).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.body.contains("font-family: \"Vazirmatn\""));
    let etag = css.header("etag").to_owned();
    assert!(etag.starts_with('"'));
    assert!(css.header("cache-control").contains("max-age"));

    let again = get(&router, &href, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let gzipped = get(&router, &href, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzipped.header("content-encoding"), "gzip");

    let font = get(
        &router,
        "/static/fonts/Vazirmatn-Regular.woff2",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(font.status, 200);
    assert_eq!(font.header("content-type"), "font/woff2");
    assert_eq!(
        font.header("content-encoding"),
        "",
        "woff2 is compressed already"
    );

    let licence = get(&router, "/static/fonts/OFL.txt", &[]).await;
    assert!(licence.body.contains("SIL Open Font License"));

    let missing = get(&router, "/static/nope.css", &[]).await;
    assert_eq!(missing.status, 404);
}

async fn health_and_readiness_answer(store: Store) {
    let backend = store.backend().name();
    let router = router_on(store);
    let health = get(&router, "/healthz", &[]).await;
    assert_eq!(health.status, 200);
    assert!(health.body.contains(r#""status":"ok""#));
    let ready = get(&router, "/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["database"], backend);
    assert_eq!(ready.header("cache-control"), "no-store");
}

async fn metrics_count_requests_by_route(store: Store) {
    let router = router_on(store);
    get(&router, "/", &[]).await;
    get(&router, "/", &[]).await;
    get(&router, "/static/app.css", &[]).await;
    get(&router, "/random-1", &[]).await;
    get(&router, "/random-2", &[]).await;
    let metrics = get(&router, "/metrics", &[METRICS_AUTH]).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    let body = metrics.body;
    assert!(
        body.contains(r#"http_requests_total{method="GET",route="/",status="200"} 2"#),
        "{body}"
    );
    assert!(
        body.contains(
            r#"http_requests_total{method="GET",route="/static/{*path}",status="200"} 1"#
        ),
        "{body}"
    );
    // Unmatched paths share one label: random URLs cannot multiply the series.
    assert!(
        body.contains(r#"http_requests_total{method="GET",route="(unmatched)",status="404"} 2"#),
        "{body}"
    );
    assert!(
        body.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/",le="0.005"}"#),
        "{body}"
    );
    assert!(
        body.contains(r#"http_request_duration_seconds_count{method="GET",route="/"} 2"#),
        "{body}"
    );
}

/// With `secure_cookies` (Pishkhan behind TLS) every cookie is `Secure` and `__Host-` bound; the
/// session cookie is HttpOnly and SameSite=Lax, and a new one comes with every sign-in.
async fn behind_tls_cookies_are_secure_and_host_bound(store: Store) {
    let mut config = test_config();
    config.secure_cookies = true;
    let app = pishkhan_app::App::with_store(config, store).unwrap();
    let cli = pishkhan_app::audit::Actor::command_line();
    app.add_org(
        &cli,
        pishkhan_app::records::OrgKind::Agency,
        "tax",
        "tehran",
        "مالیات",
    )
    .await
    .unwrap();
    let grant = pishkhan_domain::identity::RoleGrant::new(
        pishkhan_domain::identity::Role::AgencyClerk,
        pishkhan_domain::identity::Scope::parse("agency:tax").unwrap(),
    )
    .unwrap();
    let password = pishkhan_app::Secret::new("tls passphrase for the clerk".to_owned());
    app.create_user(&cli, "clerk", "مریم", &password, vec![grant])
        .await
        .unwrap();
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap());

    let form = get(&router, "/signin", &[]).await;
    let csrf_cookie = form.header("set-cookie").to_owned();
    assert!(
        csrf_cookie.starts_with("__Host-pishkhan_csrf="),
        "{csrf_cookie}"
    );
    assert!(csrf_cookie.contains("; Secure") && csrf_cookie.contains("HttpOnly"));
    let token = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let cookie = format!("__Host-pishkhan_csrf={token}");

    // Without the token the form is refused, and nothing is signed in.
    let forged = send_form(
        &router,
        http::Method::POST,
        "/signin",
        "username=clerk&password=tls+passphrase+for+the+clerk",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(forged.status, 403);
    assert!(forged.header("set-cookie").is_empty());

    let body = format!("csrf={token}&username=clerk&password=tls+passphrase+for+the+clerk");
    let signed = send_form(
        &router,
        http::Method::POST,
        "/signin",
        &body,
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.header("location"), "/account");
    let session = signed.header("set-cookie").to_owned();
    assert!(session.starts_with("__Host-pishkhan_session="), "{session}");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    let session_cookie = session.split(';').next().unwrap().to_owned();
    let account = get(&router, "/account", &[("cookie", &session_cookie)]).await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("مریم"));
    // The plain-HTTP cookie name is not honoured when Secure cookies are on.
    let plain = session_cookie.replace("__Host-pishkhan_session", "pishkhan_session");
    let refused = get(&router, "/account", &[("cookie", &plain)]).await;
    assert_eq!(refused.status, 303);
}

/// Over HTTP: five wrong passwords answer 401, the sixth (even the right one) 429, and the
/// metrics show exactly five argon2 checks.
async fn the_sixth_wrong_password_is_refused_over_http_without_a_hash_check(store: Store) {
    let app = pishkhan_app::App::with_store(test_config(), store).unwrap();
    let cli = pishkhan_app::audit::Actor::command_line();
    app.add_org(
        &cli,
        pishkhan_app::records::OrgKind::Centre,
        "c-1",
        "tehran",
        "دفتر",
    )
    .await
    .unwrap();
    let grant = pishkhan_domain::identity::RoleGrant::new(
        pishkhan_domain::identity::Role::Operator,
        pishkhan_domain::identity::Scope::parse("centre:c-1").unwrap(),
    )
    .unwrap();
    let password = pishkhan_app::Secret::new("the operator's own passphrase".to_owned());
    app.create_user(&cli, "op1", "زهرا", &password, vec![grant])
        .await
        .unwrap();
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app).unwrap());
    let cookie = "pishkhan_csrf=csrf-token-of-at-least-thirty-two-characters";
    let attempt = |password: &'static str| {
        let router = router.clone();
        async move {
            let body = format!(
                "csrf=csrf-token-of-at-least-thirty-two-characters&username=op1&password={password}"
            );
            send_form(
                &router,
                http::Method::POST,
                "/signin",
                &body,
                &[("cookie", cookie)],
            )
            .await
        }
    };
    // Signed in once: the browser is given the long-lived cookie that makes it known.
    let signed = attempt("the+operator%27s+own+passphrase").await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let cookies: Vec<&str> = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("pishkhan_device=")
            && c.contains("HttpOnly")
            && c.contains("Max-Age=31536000")),
        "{cookies:?}"
    );
    for _ in 0..5 {
        let reply = attempt("wrong+guess+again+and+again").await;
        assert_eq!(reply.status, 401);
        assert!(reply.body.contains("نام کاربری یا گذرواژه درست نیست"));
    }
    let refused = attempt("the+operator%27s+own+passphrase").await;
    assert_eq!(refused.status, 429);
    assert!(
        refused.body.contains("دقیقهٔ دیگر دوباره امتحان کنید"),
        "{}",
        refused.body
    );
    assert!(refused.header("set-cookie").is_empty(), "no session");
    let metrics = get(&router, "/metrics", &[METRICS_AUTH]).await;
    assert!(
        metrics.body.contains("pishkhan_password_hash_checks 6"),
        "{}",
        metrics.body
    );
}

/// 13,000 requests with invented methods once made `/metrics` 238 MB: each method became a
/// series. Now they share one label.
async fn invented_methods_cannot_grow_the_metrics(store: Store) {
    use tower::ServiceExt;
    let router = router_on(store);
    let before = get(&router, "/metrics", &[METRICS_AUTH]).await.body.len();
    for i in 0..2_000 {
        let method = http::Method::from_bytes(format!("M{i}X").as_bytes()).unwrap();
        let request = http::Request::builder()
            .method(method)
            .uri(format!("/nothing-{i}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let reply = router.clone().oneshot(request).await.unwrap();
        assert!(reply.status().is_client_error());
    }
    let body = get(&router, "/metrics", &[METRICS_AUTH]).await.body;
    assert!(
        body.contains(r#"method="other""#),
        "invented methods are counted as other"
    );
    assert!(!body.contains("M17X"), "no invented method is a label");
    assert!(
        body.len() < before + 16 * 1024,
        "{} bytes before, {} after",
        before,
        body.len()
    );
}
