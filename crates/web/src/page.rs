//! What every HTML page needs: the visitor's language (from the `lang` cookie; Persian by
//! default), its messages, and the current path (for the language switch to return to).

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use pishkhan_domain::Language;

use crate::assets;
use crate::error::WebError;
use crate::i18n::Translator;
use crate::state::WebState;

/// The cookie that keeps the visitor's language choice.
pub const LANG_COOKIE: &str = "lang";

pub struct PageContext {
    pub lang: Language,
    pub t: Translator,
    path: String,
}

impl PageContext {
    pub fn new(state: &WebState, headers: &HeaderMap, path: &str) -> PageContext {
        let lang = language_from_cookies(headers);
        PageContext {
            lang,
            t: Translator::new(state.i18n.clone(), lang),
            path: path.to_owned(),
        }
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn dir(&self) -> &'static str {
        self.lang.direction().as_html()
    }

    pub fn stylesheet(&self) -> &'static str {
        assets::stylesheet_href()
    }

    pub fn version(&self) -> &'static str {
        pishkhan_app::VERSION
    }

    /// The language the switch offers (the one not in use).
    pub fn other_lang(&self) -> Language {
        match self.lang {
            Language::Persian => Language::English,
            Language::English => Language::Persian,
        }
    }

    /// The switch's link: sets the other language and comes back to this page.
    pub fn switch_href(&self) -> String {
        let query = serde_urlencoded::to_string([("next", self.path.as_str())]).unwrap_or_default();
        format!("/lang/{}?{query}", self.other_lang().tag())
    }
}

impl FromRequestParts<WebState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        Ok(PageContext::new(state, &parts.headers, &path))
    }
}

/// The language chosen in the `lang` cookie, or Persian.
pub fn language_from_cookies(headers: &HeaderMap) -> Language {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or_default()
}

/// Renders a template as an HTML response.
pub fn render(template: &impl askama::Template) -> Result<Response, WebError> {
    let body = template.render().map_err(WebError::internal)?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Html(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn language_comes_from_the_cookie_or_defaults_to_persian() {
        assert_eq!(language_from_cookies(&HeaderMap::new()), Language::Persian);
        assert_eq!(
            language_from_cookies(&cookies("a=1; lang=en")),
            Language::English
        );
        assert_eq!(
            language_from_cookies(&cookies("lang=xx")),
            Language::Persian
        );
        assert_eq!(
            language_from_cookies(&cookies("xlang=en")),
            Language::Persian
        );
    }
}
