//! Errors of the web layer and how they reach a person.
//!
//! A handler returns [`WebError`]; its response carries an [`ErrorPage`] marker and no body. The
//! error-page middleware then renders the page in the visitor's language with the request id as
//! the incident id, so every 404 and 500 (a panic included) looks the same and says the same.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// Something failed inside; the detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    pub fn internal(error: impl std::fmt::Display) -> WebError {
        WebError::Internal(error.to_string())
    }
}

/// Marks a response whose body the error-page middleware must render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Internal,
    /// Signed in, but the page is not for this person.
    Forbidden,
    /// A state-changing form arrived without the right CSRF token (forged, or from a page left
    /// open past its session).
    FormExpired,
}

impl ErrorPage {
    pub fn response(self) -> Response {
        let status = match self {
            ErrorPage::NotFound => StatusCode::NOT_FOUND,
            ErrorPage::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorPage::Forbidden | ErrorPage::FormExpired => StatusCode::FORBIDDEN,
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound => ErrorPage::NotFound.response(),
            WebError::Internal(detail) => {
                // Logged inside the request's span, so the line carries the request id that the
                // page shows as the incident id.
                tracing::error!(error = %detail, "internal error");
                ErrorPage::Internal.response()
            }
        }
    }
}
