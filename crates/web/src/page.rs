//! What every HTML page needs: the visitor's language (from the `lang` cookie; Persian by
//! default), its messages, and the current path (for the language switch to return to).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use pishkhan_domain::Language;

use pishkhan_app::policy::Principal;

use crate::assets;
use crate::auth::Visitor;
use crate::error::WebError;
use crate::i18n::Translator;
use crate::state::WebState;

/// The cookie that keeps the visitor's language choice.
pub const LANG_COOKIE: &str = "lang";

/// The cookie that keeps the province the visitor chose last (`?province=` on any page).
pub const PROVINCE_COOKIE: &str = "province";

pub struct PageContext {
    pub lang: Language,
    pub t: Translator,
    path: String,
    /// `scheme://host` as the visitor reached the site: canonical and Open Graph URLs.
    pub origin: String,
    /// The token every form on the page carries.
    pub csrf: String,
    /// Who is signed in, for the header.
    pub nav: Option<Nav>,
    /// The province the visitor chose last (a code as written; pages check it is known).
    pub province: Option<String>,
}

/// The signed-in person, as the header shows them.
pub struct Nav {
    pub name: String,
    /// Their own page: `/account` for staff, `/me` for citizens.
    pub home: &'static str,
    /// Links to the areas their roles open, as (message id, path).
    pub areas: Vec<(&'static str, &'static str)>,
}

/// The site's origin (`scheme://host`) for absolute URLs in canonical links, Open Graph tags,
/// the sitemap, JSON-LD and receipts: the configured one, never the request's `Host` header
/// (anyone can send any host, and those links are copied and cached).
pub fn site_origin(state: &WebState) -> String {
    state.app.config().public_origin()
}

impl PageContext {
    pub fn new(state: &WebState, headers: &HeaderMap, path: &str) -> PageContext {
        let lang = language_from_cookies(headers);
        PageContext {
            lang,
            t: Translator::new(state.i18n.clone(), lang),
            path: path.to_owned(),
            origin: site_origin(state),
            csrf: String::new(),
            nav: None,
            province: crate::auth::cookie(headers, PROVINCE_COOKIE)
                .filter(|p| plain_province(p))
                .map(str::to_owned),
        }
    }

    /// Adds what the visitor's session says: the form token and the header's account links.
    pub fn with_visitor(mut self, visitor: &Visitor) -> PageContext {
        use pishkhan_app::policy::{COUNTER_ROLES, PROVINCE_EDITORS, USER_ADMINS};
        self.csrf = visitor.csrf.clone();
        self.nav = visitor.principal().map(|principal| match principal {
            Principal::Citizen(citizen) => Nav {
                name: pishkhan_domain::text::to_persian_digits(&citizen.national_id),
                home: "/me",
                areas: vec![("nav-me", "/me"), ("nav-bills", "/me/bills")],
            },
            Principal::Staff(user) | Principal::System(user) => {
                let has = |roles: &[pishkhan_domain::identity::Role]| {
                    roles.iter().any(|r| principal.has_role(*r))
                };
                let mut areas = Vec::new();
                if has(COUNTER_ROLES) {
                    areas.push(("nav-counter", "/counter"));
                }
                if has(pishkhan_app::policy::APPLICATION_WORKERS) {
                    areas.push(("nav-applications", "/desk/applications"));
                }
                if has(pishkhan_app::catalog::EDITORS) {
                    areas.push(("nav-desk", "/desk"));
                }
                if has(USER_ADMINS) || has(PROVINCE_EDITORS) {
                    areas.push(("nav-admin", "/admin"));
                }
                Nav {
                    name: user.display_name.clone(),
                    home: "/account",
                    areas,
                }
            }
        });
        self
    }

    /// May this visitor open the area at `href` (`/me`, `/counter`, `/desk`, `/admin`)? Someone
    /// signed out may (it leads to the sign-in); a citizen only `/me` and below; staff not those,
    /// and the areas their roles open. Links to anything else are not hidden.
    pub fn may_open(&self, href: &str) -> bool {
        match &self.nav {
            None => true,
            Some(nav) if nav.home == "/me" => href == "/me" || href.starts_with("/me/"),
            Some(nav) => {
                href != "/me"
                    && !href.starts_with("/me/")
                    && (nav.areas.iter().any(|(_, area)| *area == href)
                        || !matches!(href, "/counter" | "/desk" | "/admin"))
            }
        }
    }

    /// A moment as people here read it: the Jalali date and the time, in the page's language
    /// (Iran time).
    pub fn moment(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        let local = pishkhan_domain::jalali::iran_local_time(*at);
        let date = pishkhan_domain::JalaliDate::from_gregorian(local.date());
        let time = local.format("%H:%M").to_string();
        match self.lang {
            Language::Persian => format!(
                "{} ساعت {}",
                date.format_long_fa(),
                pishkhan_domain::text::to_persian_digits(&time)
            ),
            Language::English => format!("{} at {time}", date.format_long_en()),
        }
    }

    /// A Jalali date written out, in the page's language: «۱۲ اردیبهشت ۱۴۰۵».
    pub fn long_date(&self, date: &pishkhan_domain::JalaliDate) -> String {
        match self.lang {
            Language::Persian => date.format_long_fa(),
            Language::English => date.format_long_en(),
        }
    }

    /// A role's name for the reader: its Persian name, or its code in English.
    pub fn role_name(&self, role: pishkhan_domain::identity::Role) -> String {
        match self.lang {
            Language::Persian => role.name_fa().to_owned(),
            Language::English => role.code().to_owned(),
        }
    }

    /// Digits in the page's script.
    pub fn digits(&self, text: &str) -> String {
        match self.lang {
            Language::Persian => pishkhan_domain::text::to_persian_digits(text),
            Language::English => text.to_owned(),
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
        let page = PageContext::new(state, &parts.headers, &path);
        Ok(match parts.extensions.get::<Visitor>() {
            Some(visitor) => page.with_visitor(visitor),
            None => page,
        })
    }
}

/// A province code as pages write it: lower-case letters and dashes, short.
fn plain_province(code: &str) -> bool {
    !code.is_empty() && code.len() <= 40 && code.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// Remembers the province a visitor chooses: a page opened with `?province=X` sets the cookie
/// (for a year); `?province=` (all provinces) clears it. Pages read it as
/// [`PageContext::province`] and honour it where no `?province=` is given.
pub async fn remember_province(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let chosen = (request.method() == axum::http::Method::GET)
        .then(|| request.uri().query())
        .flatten()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "province"))
        .map(|(_, v)| v)
        .filter(|v| v.is_empty() || plain_province(v));
    let mut response = next.run(request).await;
    if let Some(code) = chosen
        && response.status().is_success()
    {
        let cookie = if code.is_empty() {
            format!("{PROVINCE_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax")
        } else {
            format!("{PROVINCE_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Lax")
        };
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The language chosen in the `lang` cookie, or Persian.
pub fn language_from_cookies(headers: &HeaderMap) -> Language {
    crate::auth::cookie(headers, LANG_COOKIE)
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

/// Renders a template as an HTML response.
pub fn render(template: &impl askama::Template) -> Result<Response, WebError> {
    let body = template.render()?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Html(body),
    )
        .into_response())
}

/// Renders a template with another status than 200 (a refused form, a missing record).
pub fn with_status(
    status: axum::http::StatusCode,
    template: &impl askama::Template,
) -> Result<Response, WebError> {
    let mut response = render(template)?;
    *response.status_mut() = status;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

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
