//! Errors of the web layer and how they reach a person.
//!
//! A handler returns [`WebError`]; its response carries an [`ErrorPage`] marker and no body. The
//! error-page middleware then renders the page in the visitor's language with the request id as
//! the incident id, so every 404 and 500 (a panic included) looks the same and says the same.
//!
//! Any error converts into [`WebError::Internal`] with `?` and keeps its cause: the log line,
//! written inside the request's span (so under its request id), shows the whole chain of causes.
//! Errors a person can act on (not found, refused input) are matched by the handler first.

use std::error::Error;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_app::Unavailable;

/// What a page handler failed with.
///
/// Deliberately not an [`Error`] itself: that is what lets every error convert into it with `?`.
#[derive(Debug)]
pub enum WebError {
    /// No such page or object, or one this visitor may not see: the same 404 either way.
    NotFound,
    /// Something failed inside; the cause is logged, never shown.
    Internal(Box<dyn Error + Send + Sync>),
}

impl WebError {
    /// An internal failure described in words (no error value to carry).
    pub fn internal_message(message: impl Into<String>) -> WebError {
        WebError::Internal(message.into().into())
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for WebError {
    fn from(error: E) -> WebError {
        WebError::Internal(Box::new(error))
    }
}

/// An error and its causes on one line: `what failed: because: because`.
pub struct CauseChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
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
    /// Too many writes at once: nothing was saved; try again in a few seconds (503).
    Busy,
    /// The write did not finish in time and may yet be saved: look before sending again (503).
    Unsure,
    /// The disk is full: nothing was saved; reading goes on (503).
    StorageFull,
}

impl ErrorPage {
    pub fn response(self) -> Response {
        let status = match self {
            ErrorPage::NotFound => StatusCode::NOT_FOUND,
            ErrorPage::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorPage::Forbidden | ErrorPage::FormExpired => StatusCode::FORBIDDEN,
            ErrorPage::Busy | ErrorPage::Unsure | ErrorPage::StorageFull => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        let mut response = status.into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl ErrorPage {
    /// The page for "not now": the writer's queue or the disk is full.
    pub fn unavailable(why: Unavailable) -> ErrorPage {
        match why {
            Unavailable::Busy => ErrorPage::Busy,
            Unavailable::Unsure => ErrorPage::Unsure,
            Unavailable::StorageFull => ErrorPage::StorageFull,
        }
    }

    /// Seconds to wait before trying again, for a 503.
    pub fn retry_after(self) -> Option<u16> {
        match self {
            ErrorPage::Busy => Some(5),
            ErrorPage::Unsure => Some(30),
            ErrorPage::StorageFull => Some(300),
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound => ErrorPage::NotFound.response(),
            WebError::Internal(error) => {
                if let Some(why) = pishkhan_app::unavailable(&*error) {
                    tracing::warn!(error = %CauseChain(&*error), "refused for now");
                    return ErrorPage::unavailable(why).response();
                }
                // Logged inside the request's span, so the line carries the request id that the
                // page shows as the incident id.
                tracing::error!(error = %CauseChain(&*error), "internal error");
                ErrorPage::Internal.response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the page could not be built")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_cause_chain_is_kept_and_written_on_one_line() {
        fn fails() -> Result<(), WebError> {
            Err(Outer(std::io::Error::other("disk full")))?;
            Ok(())
        }
        let Err(WebError::Internal(error)) = fails() else {
            panic!("an error converts into an internal one");
        };
        assert_eq!(
            CauseChain(&*error).to_string(),
            "the page could not be built: disk full"
        );
    }
}
