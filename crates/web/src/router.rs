//! Every route of Pishkhan, in one place, and the middleware every request passes through.

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get, post};
use pishkhan_app::policy::Access;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{PAYMENT_CALLBACK, guard, load_visitor};
use crate::pages::{
    account, admin, apply, bills, counter, desk, developers, errors, exchange, home, language,
    mine, my_bills, pay, portal, refunds, signin, statement, till, track,
};
use crate::state::WebState;
use crate::{api, assets, limits, metrics, ops};

/// The largest body an application or action may have through the API: its documents, in
/// base64, about 24 MB together (each file at most 5 MB).
const API_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// One route: a method (or any method), a path pattern, who may use it, and its handler.
pub struct RouteSpec {
    /// `None` for any method.
    pub method: Option<Method>,
    pub path: &'static str,
    pub access: Access,
}

/// Every route with its access rule. The router is built from this table and nothing else, so a
/// route cannot exist without a rule; the route × role matrix test reads the same table.
fn table() -> Vec<(RouteSpec, MethodRouter<WebState>)> {
    use Access::*;
    use pishkhan_app::catalog::EDITORS;
    use pishkhan_app::policy::{
        ADMIN_AREA, APPLICATION_WORKERS, CENTRE_MANAGERS, COUNTER_ROLES, EXCHANGE_ADMINS,
        NATIONAL_SETTINGS_EDITORS, PROVINCE_EDITORS, USER_ADMINS,
    };
    let g = |path, access, handler: MethodRouter<WebState>| {
        (
            RouteSpec {
                method: Some(Method::GET),
                path,
                access,
            },
            handler,
        )
    };
    let p = |path, access, handler: MethodRouter<WebState>| {
        (
            RouteSpec {
                method: Some(Method::POST),
                path,
                access,
            },
            handler,
        )
    };
    let any_method = |path, access, handler: MethodRouter<WebState>| {
        (
            RouteSpec {
                method: None,
                path,
                access,
            },
            handler,
        )
    };
    vec![
        // Portal (public)
        g("/", Public, get(home::show)),
        g("/lang/{tag}", Public, get(language::switch)),
        g("/static/{*path}", Public, get(assets::serve)),
        g("/search", Public, get(portal::search)),
        g("/services/{code}", Public, get(portal::service)),
        g("/services/{code}/pdf", Public, get(portal::card_pdf)),
        g("/categories/{code}", Public, get(portal::category)),
        g("/events/{code}", Public, get(portal::event)),
        g("/agencies/{code}", Public, get(portal::agency)),
        g("/centres", Public, get(portal::centres)),
        g("/developers", Public, get(developers::reference)),
        g("/verify", Public, get(track::verify)),
        g("/outputs/{number}", SignedIn, get(track::output_pdf)),
        g(
            "/outputs/{number}/credential",
            SignedIn,
            get(track::output_credential),
        ),
        g("/track", Public, get(track::form)),
        // The bank's page sends the person back here (a form from another site: no CSRF token;
        // only its token is read, and the bank is asked what was paid).
        p(
            PAYMENT_CALLBACK,
            Public,
            post(pay::callback).layer(axum::extract::DefaultBodyLimit::max(4096)),
        ),
        p("/track", Public, post(track::lookup)),
        p("/track/receipt", Public, post(track::tracked_receipt)),
        g(
            "/applications/{code}/receipt.pdf",
            SignedIn,
            get(track::receipt),
        ),
        g("/forms/{code}", Public, get(portal::form)),
        g("/forms/{code}/pdf", Public, get(portal::form_pdf)),
        g("/sitemap.xml", Public, get(portal::sitemap)),
        g("/robots.txt", Public, get(portal::robots)),
        // Signing in and out
        g("/signin", Public, get(signin::staff_form)),
        p("/signin", Public, post(signin::staff_submit)),
        g(
            "/signin/second-factor",
            SignInInProgress,
            get(signin::second_factor_form),
        ),
        p(
            "/signin/second-factor",
            SignInInProgress,
            post(signin::second_factor_submit),
        ),
        g(
            "/signin/password",
            SignInInProgress,
            get(signin::forced_password_form),
        ),
        p(
            "/signin/password",
            SignInInProgress,
            post(signin::password_submit),
        ),
        g("/signin/citizen", Public, get(signin::citizen_form)),
        p(
            "/signin/citizen",
            Public,
            post(signin::citizen_request_code),
        ),
        p(
            "/signin/citizen/code",
            Public,
            post(signin::citizen_submit_code),
        ),
        // Also part-way through sign-in: someone without their phone must be able to give up.
        p("/signout", SignInInProgress, post(signin::sign_out)),
        p(
            "/signout/everywhere",
            SignedIn,
            post(signin::sign_out_everywhere),
        ),
        // One's own pages
        g("/account", Staff, get(account::show)),
        g("/account/password", Staff, get(account::password_form)),
        p("/account/password", Staff, post(signin::password_submit)),
        g(
            "/account/second-factor",
            Staff,
            get(account::second_factor_form),
        ),
        p(
            "/account/second-factor",
            Staff,
            post(account::second_factor_submit),
        ),
        g("/me", Citizen, get(account::me)),
        g("/me/applications/{code}", Citizen, get(mine::show)),
        p(
            "/me/applications/{code}",
            Citizen,
            post(mine::act).layer(axum::extract::DefaultBodyLimit::max(track::ACT_BODY_LIMIT)),
        ),
        g(
            "/me/applications/{code}/withdraw",
            Citizen,
            get(mine::withdraw_form),
        ),
        p("/me/applications/{code}/pay", Citizen, post(pay::pay)),
        g("/me/bills", Citizen, get(my_bills::show)),
        p("/me/bills/pay", Citizen, post(my_bills::pay)),
        g("/me/bills/{number}", Citizen, get(my_bills::receipt)),
        g(
            "/me/bills/{number}/pdf",
            Citizen,
            get(my_bills::receipt_pdf),
        ),
        p(
            "/me/applications/{code}/withdraw",
            Citizen,
            post(mine::withdraw),
        ),
        g("/me/apply/{service}", Citizen, get(apply::mine_form)),
        p(
            "/me/apply/{service}",
            Citizen,
            post(apply::mine_save).layer(axum::extract::DefaultBodyLimit::max(
                apply::APPLY_BODY_LIMIT,
            )),
        ),
        g(
            "/me/apply/{service}/review",
            Citizen,
            get(apply::mine_review),
        ),
        p(
            "/me/apply/{service}/submit",
            Citizen,
            post(apply::mine_submit),
        ),
        p(
            "/me/apply/{service}/discard",
            Citizen,
            post(apply::mine_discard),
        ),
        // Counter (service centres)
        g("/counter", StaffWith(COUNTER_ROLES), get(counter::show)),
        g("/counter/bills", StaffWith(COUNTER_ROLES), get(bills::show)),
        g("/counter/till", StaffWith(COUNTER_ROLES), get(till::show)),
        g(
            "/counter/statement",
            StaffWith(CENTRE_MANAGERS),
            get(statement::show),
        ),
        g(
            "/counter/statement/pdf",
            StaffWith(CENTRE_MANAGERS),
            get(statement::pdf),
        ),
        g(
            "/counter/statement/xlsx",
            StaffWith(CENTRE_MANAGERS),
            get(statement::xlsx),
        ),
        p("/counter/till", StaffWith(COUNTER_ROLES), post(till::close)),
        p(
            "/counter/till/approve",
            StaffWith(COUNTER_ROLES),
            post(till::approve),
        ),
        p(
            "/counter/till/day",
            StaffWith(COUNTER_ROLES),
            post(till::close_day),
        ),
        p("/counter/bills", StaffWith(COUNTER_ROLES), post(bills::pay)),
        g(
            "/counter/payments/{number}",
            StaffWith(COUNTER_ROLES),
            get(bills::receipt),
        ),
        g(
            "/counter/payments/{number}/pdf",
            StaffWith(COUNTER_ROLES),
            get(bills::receipt_pdf),
        ),
        p(
            "/counter/inquiries/{inquiry}",
            StaffWith(COUNTER_ROLES),
            post(counter::inquire),
        ),
        p(
            "/counter/consent",
            StaffWith(COUNTER_ROLES),
            post(counter::request),
        ),
        p(
            "/counter/consent/confirm",
            StaffWith(COUNTER_ROLES),
            post(counter::confirm),
        ),
        p(
            "/counter/drafts",
            StaffWith(COUNTER_ROLES),
            post(apply::counter_start),
        ),
        g(
            "/counter/drafts/{id}",
            StaffWith(COUNTER_ROLES),
            get(apply::counter_form),
        ),
        p(
            "/counter/drafts/{id}",
            StaffWith(COUNTER_ROLES),
            post(apply::counter_save).layer(axum::extract::DefaultBodyLimit::max(
                apply::APPLY_BODY_LIMIT,
            )),
        ),
        g(
            "/counter/drafts/{id}/review",
            StaffWith(COUNTER_ROLES),
            get(apply::counter_review),
        ),
        p(
            "/counter/drafts/{id}/submit",
            StaffWith(COUNTER_ROLES),
            post(apply::counter_submit),
        ),
        p(
            "/counter/drafts/{id}/discard",
            StaffWith(COUNTER_ROLES),
            post(apply::counter_discard),
        ),
        g(
            "/counter/applications/{code}",
            StaffWith(COUNTER_ROLES),
            get(mine::counter_show),
        ),
        p(
            "/counter/applications/{code}",
            StaffWith(COUNTER_ROLES),
            post(mine::counter_act)
                .layer(axum::extract::DefaultBodyLimit::max(track::ACT_BODY_LIMIT)),
        ),
        p(
            "/counter/applications/{code}/pay",
            StaffWith(COUNTER_ROLES),
            post(pay::counter_pay),
        ),
        p(
            "/counter/outputs/{number}/hand-over",
            StaffWith(COUNTER_ROLES),
            post(mine::counter_hand_over),
        ),
        g(
            "/counter/applications/{code}/withdraw",
            StaffWith(COUNTER_ROLES),
            get(mine::counter_withdraw_form),
        ),
        p(
            "/counter/applications/{code}/withdraw",
            StaffWith(COUNTER_ROLES),
            post(mine::counter_withdraw),
        ),
        // Agency desk: applications, the bills paid to the agency, a payment and its refunds
        g(
            "/desk/bills",
            StaffWith(APPLICATION_WORKERS),
            get(bills::company),
        ),
        g(
            "/desk/payments/{number}",
            StaffWith(APPLICATION_WORKERS),
            get(refunds::show),
        ),
        p(
            "/desk/payments/{number}/refund",
            StaffWith(APPLICATION_WORKERS),
            post(refunds::refund),
        ),
        g(
            "/desk/applications",
            StaffWith(APPLICATION_WORKERS),
            get(desk::applications::index),
        ),
        g(
            "/desk/applications/{code}",
            StaffWith(APPLICATION_WORKERS),
            get(desk::applications::show),
        ),
        p(
            "/desk/applications/{code}",
            StaffWith(APPLICATION_WORKERS),
            post(desk::applications::act)
                .layer(axum::extract::DefaultBodyLimit::max(track::ACT_BODY_LIMIT)),
        ),
        g(
            "/desk/applications/{code}/documents/{id}",
            StaffWith(APPLICATION_WORKERS),
            get(desk::applications::document),
        ),
        p(
            "/desk/applications/{code}/inquiries/{inquiry}",
            StaffWith(APPLICATION_WORKERS),
            post(desk::applications::inquire),
        ),
        p(
            "/desk/outputs/{number}/revoke",
            StaffWith(APPLICATION_WORKERS),
            post(desk::applications::revoke_output),
        ),
        // Agency desk: the catalogue
        g("/desk", StaffWith(EDITORS), get(desk::index)),
        g(
            "/desk/services/new",
            StaffWith(EDITORS),
            get(desk::services::new_service),
        ),
        p(
            "/desk/services/new",
            StaffWith(EDITORS),
            post(desk::services::create_service),
        ),
        g(
            "/desk/forms/new",
            StaffWith(EDITORS),
            get(desk::forms::new_form),
        ),
        p(
            "/desk/forms/new",
            StaffWith(EDITORS),
            post(desk::forms::create_form),
        ),
        g(
            "/desk/services/{code}",
            StaffWith(EDITORS),
            get(desk::services::service),
        ),
        p(
            "/desk/services/{code}",
            StaffWith(EDITORS),
            post(desk::services::save),
        ),
        p(
            "/desk/services/{code}/submit",
            StaffWith(EDITORS),
            post(desk::services::submit),
        ),
        p(
            "/desk/services/{code}/publish",
            StaffWith(EDITORS),
            post(desk::services::publish),
        ),
        p(
            "/desk/services/{code}/return",
            StaffWith(EDITORS),
            post(desk::services::send_back),
        ),
        p(
            "/desk/services/{code}/retire",
            StaffWith(EDITORS),
            post(desk::services::retire),
        ),
        g(
            "/desk/services/{code}/diff",
            StaffWith(EDITORS),
            get(desk::services::diff),
        ),
        g(
            "/desk/agencies/{code}",
            StaffWith(EDITORS),
            get(desk::agencies::agency),
        ),
        p(
            "/desk/agencies/{code}",
            StaffWith(EDITORS),
            post(desk::agencies::save_agency),
        ),
        p(
            "/desk/agencies/{code}/offices",
            StaffWith(EDITORS),
            post(desk::agencies::save_office),
        ),
        p(
            "/desk/agencies/{code}/offices/{office}/delete",
            StaffWith(EDITORS),
            post(desk::agencies::delete_office),
        ),
        g(
            "/desk/forms/{code}",
            StaffWith(EDITORS),
            get(desk::forms::form),
        ),
        p(
            "/desk/forms/{code}",
            StaffWith(EDITORS),
            post(desk::forms::save_form),
        ),
        // Administration
        g("/admin", StaffWith(ADMIN_AREA), get(admin::index)),
        g("/admin/users", StaffWith(USER_ADMINS), get(admin::users)),
        p(
            "/admin/users",
            StaffWith(USER_ADMINS),
            post(admin::create_user),
        ),
        g(
            "/admin/users/{id}",
            StaffWith(USER_ADMINS),
            get(admin::user),
        ),
        p(
            "/admin/users/{id}/reset-password",
            StaffWith(USER_ADMINS),
            post(admin::reset_password),
        ),
        p(
            "/admin/users/{id}/disable",
            StaffWith(USER_ADMINS),
            post(admin::disable),
        ),
        p(
            "/admin/users/{id}/enable",
            StaffWith(USER_ADMINS),
            post(admin::enable),
        ),
        p(
            "/admin/users/{id}/reset-second-factor",
            StaffWith(USER_ADMINS),
            post(admin::reset_second_factor),
        ),
        p(
            "/admin/users/{id}/tokens",
            StaffWith(USER_ADMINS),
            post(admin::create_token),
        ),
        p(
            "/admin/users/{id}/tokens/{token}/rotate",
            StaffWith(USER_ADMINS),
            post(admin::rotate_token),
        ),
        p(
            "/admin/users/{id}/tokens/{token}/revoke",
            StaffWith(USER_ADMINS),
            post(admin::revoke_token),
        ),
        g(
            "/admin/exchange",
            StaffWith(EXCHANGE_ADMINS),
            get(exchange::list),
        ),
        g(
            "/admin/exchange/{agency}",
            StaffWith(EXCHANGE_ADMINS),
            get(exchange::agency),
        ),
        p(
            "/admin/exchange/{agency}/webhook",
            StaffWith(EXCHANGE_ADMINS),
            post(exchange::set_webhook),
        ),
        p(
            "/admin/exchange/{agency}/webhook/rotate",
            StaffWith(EXCHANGE_ADMINS),
            post(exchange::rotate_secret),
        ),
        p(
            "/admin/exchange/{agency}/webhook/remove",
            StaffWith(EXCHANGE_ADMINS),
            post(exchange::remove_webhook),
        ),
        p(
            "/admin/exchange/{agency}/dead/{job}/replay",
            StaffWith(EXCHANGE_ADMINS),
            post(exchange::replay),
        ),
        g("/admin/plan", StaffWith(PROVINCE_EDITORS), get(admin::plan)),
        p(
            "/admin/plan",
            StaffWith(PROVINCE_EDITORS),
            post(admin::set_plan),
        ),
        g(
            "/admin/catalogue",
            StaffWith(PROVINCE_EDITORS),
            get(admin::catalogue),
        ),
        g(
            "/admin/catalogue/template.csv",
            StaffWith(PROVINCE_EDITORS),
            get(admin::catalogue_template),
        ),
        p(
            "/admin/catalogue/import",
            StaffWith(PROVINCE_EDITORS),
            post(admin::catalogue_import)
                .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024)),
        ),
        p(
            "/admin/catalogue/confirm",
            StaffWith(PROVINCE_EDITORS),
            post(admin::catalogue_confirm),
        ),
        g(
            "/admin/holidays",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            get(admin::holidays),
        ),
        g(
            "/admin/search",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            get(admin::synonyms),
        ),
        p(
            "/admin/search",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            post(admin::save_synonyms),
        ),
        p(
            "/admin/holidays",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            post(admin::import_holidays),
        ),
        g(
            "/admin/notifications",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            get(admin::notifications),
        ),
        p(
            "/admin/notifications",
            NationalStaffWith(NATIONAL_SETTINGS_EDITORS),
            post(admin::save_notifications),
        ),
        // Public API
        p("/api/v1/checks/{kind}", Public, post(api::checks::check)),
        p("/api/v1/bills/inspect", Public, post(api::bills::inspect)),
        g("/api/v1/verify/{code}", Public, get(api::outputs::verify)),
        g("/api/v1/keys", Public, get(api::outputs::keys)),
        g("/api/v1/keys/{id}", Public, get(api::outputs::key)),
        g("/api/v1/issuer", Public, get(api::outputs::issuer)),
        g(
            "/api/v1/status/{list}",
            Public,
            get(api::outputs::status_list),
        ),
        g("/api/v1/contexts", Public, get(api::outputs::contexts)),
        g(
            "/api/v1/contexts/{name}",
            Public,
            get(api::outputs::context),
        ),
        g(
            "/api/v1/calendar/business-days",
            Public,
            get(api::calendar::business_days),
        ),
        g(
            "/api/v1/calendar/holidays",
            Public,
            get(api::calendar::holidays),
        ),
        g("/api/v1/services", Public, get(api::catalog::list)),
        g("/api/v1/suggest", Public, get(api::catalog::suggest)),
        g("/api/v1/services/{code}", Public, get(api::catalog::show)),
        g("/api/v1/forms/{code}", Public, get(api::catalog::form)),
        g("/api/v1/catalog.jsonld", Public, get(api::catalog::jsonld)),
        g("/api/v1/openapi.json", Public, get(api::openapi::document)),
        // API for agency systems (bearer token)
        g("/api/v1/whoami", ApiClient, get(api::whoami::show)),
        g(
            "/api/v1/applications",
            ApiClient,
            get(api::applications::list),
        ),
        g(
            "/api/v1/applications/{code}/documents/{id}",
            ApiClient,
            get(api::applications::document),
        ),
        g("/api/v1/events", ApiClient, get(api::events::list)),
        p(
            "/api/v1/inquiries/{code}",
            ApiClient,
            post(api::inquiries::ask),
        ),
        p(
            "/api/v1/applications",
            ApiClient,
            post(api::applications::submit)
                .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT)),
        ),
        g(
            "/api/v1/applications/{code}",
            ApiClient,
            get(api::applications::show),
        ),
        g(
            "/api/v1/applications/{code}/receipt.pdf",
            ApiClient,
            get(api::applications::receipt),
        ),
        g(
            "/api/v1/outputs/{number}/credential",
            ApiClient,
            get(api::outputs::credential),
        ),
        p(
            "/api/v1/applications/{code}/actions",
            ApiClient,
            post(api::applications::act)
                .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT)),
        ),
        any_method("/api/{*rest}", Public, axum::routing::any(api::not_found)),
        // Operations
        g("/healthz", Public, get(ops::healthz)),
        g("/readyz", Public, get(ops::readyz)),
        g("/metrics", Public, get(metrics::export)),
    ]
}

/// Every route's method, path and access rule (for the route × role matrix test).
pub fn route_specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}

/// The routes, each behind its guard, without the shared middleware.
pub fn routes() -> Router<WebState> {
    table()
        .into_iter()
        .fold(Router::new(), |router, (spec, handler)| {
            router.route(spec.path, handler.layer(from_fn(guard(spec.access))))
        })
}

/// The whole application: [`routes`] behind the standard middleware.
pub fn router(state: WebState) -> Router {
    with_middleware(routes(), state)
}

/// Puts `routes` (and the 404 fallback) behind the middleware every request passes through,
/// outermost first: request id, tracing, request id on the response, metrics, security headers,
/// compression, error pages, panic catching.
pub fn with_middleware(routes: Router<WebState>, state: WebState) -> Router {
    let compress = DefaultPredicate::new().and(NotForContentType::const_new("font/"));
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(from_fn_with_state(state.clone(), metrics::record))
        // Counted by the metrics above: a request that runs past its time answers 408.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.app.config().limits.request_timeout,
        ))
        .layer(from_fn_with_state(state.clone(), limits::reserve))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(CompressionLayer::new().compress_when(compress))
        .layer(from_fn_with_state(state.clone(), errors::render_marked))
        .layer(CatchPanicLayer::custom(errors::from_panic))
        .layer(from_fn_with_state(state.clone(), load_visitor))
        .layer(from_fn(crate::page::remember_province));
    routes
        .fallback(errors::not_found)
        .layer(stack)
        .with_state(state)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
