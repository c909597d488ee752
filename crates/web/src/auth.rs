//! Who is asking, on every request: the session cookie (pages) or a bearer token (API); the CSRF
//! check on every state-changing form; and the guard each route carries, which asks the app
//! layer's policy.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pishkhan_app::auth::{Client, Session};
use pishkhan_app::policy::{self, Access, Denied, Principal};
use pishkhan_domain::totp::constant_time_eq;

use crate::api::{ApiError, caller_language};
use crate::error::ErrorPage;
use crate::state::WebState;

/// Largest form body read for the CSRF check (file uploads use their own routes later).
const FORM_LIMIT: usize = 1024 * 1024;
/// The most a form from someone not signed in may carry (sign-in, tracking, the language
/// switch: a few fields). Anything bigger is refused before it is read.
pub const ANONYMOUS_FORM_LIMIT: usize = 16 * 1024;

/// What the request carries about its sender.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub session: Option<Arc<Session>>,
    pub api: Option<Arc<Principal>>,
    pub client: Client,
    /// The token this visitor's forms carry: the session's, or the anonymous cookie's.
    pub csrf: String,
    /// A session cookie came with the request but its session has ended.
    pub session_ended: bool,
}

impl Visitor {
    /// The signed-in principal (sign-in complete), or the API client.
    pub fn principal(&self) -> Option<&Principal> {
        self.session
            .as_deref()
            .and_then(Session::signed_in)
            .or(self.api.as_deref())
    }

    pub fn actor(&self) -> Option<pishkhan_app::audit::Actor> {
        self.principal().map(|p| pishkhan_app::audit::Actor {
            id: p.actor_id(),
            source: self.client.ip.clone(),
        })
    }
}

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pishkhan_session"
    } else {
        "pishkhan_session"
    }
}

/// The cookie by which a browser that signed in to a staff account before is known (see
/// `App::staff_sign_in`): long-lived, sent only to this site.
pub fn device_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pishkhan_device"
    } else {
        "pishkhan_device"
    }
}

/// `Set-Cookie` for a browser now known for a staff account: kept a year.
pub fn device_cookie(secure: bool, token: &str) -> HeaderValue {
    let value = format!(
        "{}={token}{}; Max-Age=31536000",
        device_cookie_name(secure),
        cookie_attributes(secure)
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pishkhan_csrf"
    } else {
        "pishkhan_csrf"
    }
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Where a bank's page sends the person back after paying: a form posted from the bank's site,
/// so it carries no CSRF token. It needs none: the handler reads only the payment's token and
/// asks the bank itself what was paid; nothing is taken from the form as true.
pub const PAYMENT_CALLBACK: &str = "/payments/callback";

fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

/// `Set-Cookie` for a new session token (a browser-session cookie: the server decides expiry).
pub fn session_cookie(secure: bool, token: &str) -> HeaderValue {
    let value = format!(
        "{}={token}{}",
        session_cookie_name(secure),
        cookie_attributes(secure)
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let value = format!(
        "{}={}; Max-Age=0",
        session_cookie_name(secure),
        cookie_attributes(secure)
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware: resolves the visitor, checks CSRF on state-changing form posts, and hands the
/// visitor to the route's guard and handler.
pub async fn load_visitor(
    State(state): State<WebState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let secure = state.app.config().secure_cookies;
    let headers = request.headers();
    let client = Client {
        ip: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(
                || "unknown".to_owned(),
                |c| {
                    let limits = &state.app.config().limits;
                    crate::forwarded::client_address(
                        c.0.ip(),
                        headers,
                        &limits.trusted_proxies,
                        limits.forwarded_header,
                    )
                    .to_string()
                },
            ),
        // Cut at the edge: whatever a client sends, no more than this reaches a log or a row.
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(pishkhan_app::auth::MAX_USER_AGENT_CHARS)
            .collect(),
        // A token we made is 64 hex digits; anything longer is not one of ours.
        device: cookie(headers, device_cookie_name(secure))
            .filter(|v| v.len() <= 128)
            .map(str::to_owned),
    };
    let mut visitor = Visitor {
        session: None,
        api: None,
        client,
        csrf: String::new(),
        session_ended: false,
    };
    let mut new_csrf_cookie = None;
    let mut clear_cookie = false;
    let is_api = path.starts_with("/api/");
    let plain = path.starts_with("/static/")
        || matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics");
    if is_api {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            match state.app.api_principal(token).await {
                Ok(principal) => visitor.api = principal.map(Arc::new),
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    } else if !plain {
        if let Some(token) = cookie(headers, session_cookie_name(secure)) {
            match state.app.session(token, chrono::Utc::now()).await {
                Ok(Some(session)) => visitor.session = Some(Arc::new(session)),
                Ok(None) => {
                    visitor.session_ended = true;
                    clear_cookie = true;
                }
                Err(e) => return crate::WebError::from(e).into_response(),
            }
        }
        visitor.csrf = match &visitor.session {
            Some(session) => session.csrf.clone(),
            None => match cookie(headers, csrf_cookie_name(secure)) {
                Some(value) if value.len() >= 32 => value.to_owned(),
                _ => {
                    let token = pishkhan_app::auth::random_csrf_token();
                    new_csrf_cookie = Some(token.clone());
                    token
                }
            },
        };
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if is_unsafe(request.method()) && multipart {
            // A file upload carries its token in the form's action (`?csrf=…`): its body is
            // streamed to the handler, not read here. (Only the path is logged, never the query.)
            let given = request
                .uri()
                .query()
                .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
                .unwrap_or_default();
            if new_csrf_cookie.is_some()
                || !origin_matches(request.headers())
                || !constant_time_eq(given.as_bytes(), visitor.csrf.as_bytes())
            {
                tracing::warn!(path = %path, "upload refused: CSRF token missing or wrong");
                return ErrorPage::FormExpired.response();
            }
        } else if is_unsafe(request.method()) && path != PAYMENT_CALLBACK {
            let (parts, body) = request.into_parts();
            let limit = if visitor.session.is_some() {
                FORM_LIMIT
            } else {
                ANONYMOUS_FORM_LIMIT
            };
            let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            let given = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
                .unwrap_or_default();
            let same_origin = origin_matches(&parts.headers);
            let expected = visitor.csrf.as_bytes();
            if new_csrf_cookie.is_some()
                || !same_origin
                || !constant_time_eq(given.as_bytes(), expected)
            {
                tracing::warn!(path = %path, same_origin, "form refused: CSRF token missing or wrong");
                return ErrorPage::FormExpired.response();
            }
            request = Request::from_parts(parts, Body::from(bytes));
        }
    }
    // An agency system's reads are on the record before they are answered (its changes are
    // recorded by the use cases that make them): no personal data leaves unaudited.
    if is_api
        && visitor.api.is_some()
        && matches!(
            *request.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        )
        && let Some(actor) = visitor.actor()
        && let Err(e) = state
            .app
            .record_batched(&actor, "api.read", ("api", &path), serde_json::json!({}))
            .await
    {
        return ApiError::from(e).into_response();
    }
    request.extensions_mut().insert(visitor);
    let mut response = next.run(request).await;
    if let Some(token) = new_csrf_cookie {
        let value = format!(
            "{}={token}{}",
            csrf_cookie_name(secure),
            cookie_attributes(secure)
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if clear_cookie && !response.headers().contains_key(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_session_cookie(secure));
    }
    response
}

/// A browser's `Origin` (sent with every cross-site POST) must name this host, if present.
fn origin_matches(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host == host
}

/// Header on a response the route guard refused: `sign-in-required` or `forbidden`. (The status
/// says the same; the header lets the route × role test tell the guard's refusal from a handler's.)
pub const DENIED_HEADER: &str = "x-pishkhan-denied";

/// Middleware each route carries: asks the policy whether its visitor may use it.
pub async fn enforce(access: Access, request: Request, next: Next) -> Response {
    let mut response = decide(access, request, next).await;
    if let Some(denied) = response.extensions().get::<Denied>().copied() {
        let value = match denied {
            Denied::SignInRequired => "sign-in-required",
            Denied::Forbidden => "forbidden",
        };
        response
            .headers_mut()
            .insert(DENIED_HEADER, HeaderValue::from_static(value));
    }
    response
}

fn denied(mut response: Response, why: Denied) -> Response {
    response.extensions_mut().insert(why);
    response
}

async fn decide(access: Access, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let visitor = request.extensions().get::<Visitor>().cloned();
    let principal = visitor.as_ref().and_then(Visitor::principal);
    match policy::check(principal, access) {
        Ok(()) => next.run(request).await,
        Err(why) if path.starts_with("/api/") => {
            let lang = caller_language(request.headers());
            let fa = lang == pishkhan_domain::Language::Persian;
            let response = match why {
                Denied::SignInRequired => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    if fa {
                        "این نشانی توکن سامانه می‌خواهد: سرآیند Authorization: Bearer را بفرستید."
                    } else {
                        "This address needs an API token: send an Authorization: Bearer header."
                    },
                ),
                Denied::Forbidden => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    if fa {
                        "این توکن اجازهٔ این کار را ندارد."
                    } else {
                        "This token is not allowed to do this."
                    },
                ),
            }
            .into_response();
            denied(response, why)
        }
        Err(Denied::SignInRequired) => {
            let ended = visitor.as_ref().is_some_and(|v| v.session_ended);
            // Staff go to their own sign-in page from the areas only they open; anything a
            // citizen may open (a receipt) leads to the citizen's, which links to the staff one.
            let target = if matches!(access, Access::Citizen | Access::SignedIn) {
                "/signin/citizen"
            } else {
                "/signin"
            };
            let next_path = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let mut query = vec![("next", next_path.as_str())];
            if ended {
                query.push(("ended", "1"));
            }
            let location = format!(
                "{target}?{}",
                serde_urlencoded::to_string(query).unwrap_or_default()
            );
            denied(redirect(&location), Denied::SignInRequired)
        }
        Err(Denied::Forbidden) => denied(ErrorPage::Forbidden.response(), Denied::Forbidden),
    }
}

/// `303 See Other` to a path on this site.
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A guard middleware for one route.
pub fn guard(
    access: Access,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |request, next| Box::pin(enforce(access, request, next))
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Visitor {
    type Rejection = crate::WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| crate::WebError::internal_message("no visitor on the request"))
    }
}

/// The signed-in staff member, for handlers behind a staff guard.
pub fn staff(visitor: &Visitor) -> Result<&Principal, crate::WebError> {
    visitor
        .principal()
        .filter(|p| matches!(p, Principal::Staff(_)))
        .ok_or(crate::WebError::NotFound)
}
