//! The language switch: a plain link (it works without JavaScript) that stores the choice in a
//! cookie and returns to the page it came from.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_domain::Language;
use serde::Deserialize;

use crate::error::WebError;
use crate::page::LANG_COOKIE;
use crate::state::WebState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /lang/{tag}?next=/path`
pub async fn switch(
    State(state): State<WebState>,
    Path(tag): Path<String>,
    Query(query): Query<Next>,
) -> Result<Response, WebError> {
    let lang: Language = tag.parse().map_err(|_| WebError::NotFound)?;
    let target = query
        .next
        .as_deref()
        .filter(|n| is_local_path(n))
        .unwrap_or("/");
    let secure = if state.app.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
        lang.tag()
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_str(target)?),
            (header::SET_COOKIE, HeaderValue::from_str(&cookie)?),
        ],
    )
        .into_response())
}

/// Only paths on this site: never `//host` or `/\host`, which browsers treat as another site.
pub(crate) fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/services?q=x"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/x\r\nSet-Cookie: a=b"));
        assert!(!is_local_path(""));
    }
}
