//! Every route of Pishkhan, in one place, and the middleware every request passes through.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::pages::{errors, home, language};
use crate::state::WebState;
use crate::{api, assets, metrics, ops};

/// The routes, without middleware.
pub fn routes() -> Router<WebState> {
    Router::new()
        // Portal (public)
        .route("/", get(home::show))
        .route("/lang/{tag}", get(language::switch))
        .route("/static/{*path}", get(assets::serve))
        // Public API
        .route("/api/v1/checks/{kind}", post(api::checks::check))
        .route("/api/v1/bills/inspect", post(api::bills::inspect))
        .route(
            "/api/v1/calendar/business-days",
            get(api::calendar::business_days),
        )
        .route("/api/v1/calendar/holidays", get(api::calendar::holidays))
        .route("/api/v1/openapi.json", get(api::openapi::document))
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        // Operations
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(metrics::export))
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
        .layer(CatchPanicLayer::custom(errors::from_panic));
    routes
        .fallback(errors::not_found)
        .layer(stack)
        .with_state(state)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
