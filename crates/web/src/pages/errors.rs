//! Error pages (404, 500) in the site's layout and the visitor's language.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::{ErrorPage, WebError};
use crate::page::PageContext;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView {
    page: PageContext,
    title: String,
    text: String,
    incident: Option<String>,
}

/// The fallback for any path no route matches.
pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// Middleware: renders the body of every response marked with [`ErrorPage`].
pub async fn render_marked(
    State(state): State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let Some(kind) = response.extensions().get::<ErrorPage>().copied() else {
        return response;
    };
    let page = PageContext::new(&state, &headers, &path);
    let (title, text, incident) = match kind {
        ErrorPage::NotFound => (
            page.t.string("error-not-found-title"),
            page.t.string("error-not-found-text"),
            None,
        ),
        ErrorPage::Forbidden => (
            page.t.string("error-forbidden-title"),
            page.t.string("error-forbidden-text"),
            None,
        ),
        ErrorPage::FormExpired => (
            page.t.string("error-form-expired-title"),
            page.t.string("error-form-expired-text"),
            None,
        ),
        ErrorPage::Busy => (
            page.t.string("error-busy-title"),
            page.t.string("error-busy-text"),
            None,
        ),
        ErrorPage::Unsure => (
            page.t.string("error-unsure-title"),
            page.t.string("error-unsure-text"),
            None,
        ),
        ErrorPage::StorageFull => (
            page.t.string("error-storage-full-title"),
            page.t.string("error-storage-full-text"),
            None,
        ),
        ErrorPage::Internal => (
            page.t.string("error-internal-title"),
            page.t.string("error-internal-text"),
            headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ),
    };
    let view = ErrorView {
        page,
        title,
        text,
        incident,
    };
    let body = match view.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page itself failed to render");
            "Error".into_response()
        }
    };
    let (mut parts, _) = response.into_parts();
    let (body_parts, body) = body.into_parts();
    parts.headers.extend(body_parts.headers);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, body)
}

/// What a panic answers: the 500 page (the panic is logged with the request id).
pub fn from_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    WebError::internal_message(format!("panic: {detail}")).into_response()
}

/// A page that says one thing that went wrong (`text`), with `status`: for refusals that have
/// no page of their own to be shown on (the bank's callback).
pub fn message_page(page: PageContext, status: axum::http::StatusCode, text: &str) -> Response {
    let view = ErrorView {
        title: page.t.string("pay-callback-title"),
        page,
        text: text.to_owned(),
        incident: None,
    };
    match view.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => WebError::internal_message(e.to_string()).into_response(),
    }
}
