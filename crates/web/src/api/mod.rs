//! The public JSON API (`/api/v1`), for agencies' systems and the web forms' inline validation.
//!
//! Every answer is JSON. Errors are `{"error": {"code": "...", "message": "..."}}` with a stable
//! code and a message in the caller's language (`Accept-Language: en` for English; Persian
//! otherwise). The OpenAPI document is served at `/api/v1/openapi.json`.

pub mod applications;
pub mod bills;
pub mod calendar;
pub mod catalog;
pub mod checks;
pub mod events;
pub mod inquiries;
pub mod openapi;
pub mod outputs;
pub mod whoami;

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_domain::Language;
use pishkhan_domain::Problem;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem as the API answers it: a stable code for programs, a message for people in the
/// caller's language and, when it concerns one part of what was sent, where.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ApiProblem {
    /// Where in what was sent: `form.field`, `documents[2]`, `national_id` … (absent when the
    /// problem is with the request as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Stable, machine-readable: `checksum`, `wrong_length`, `malformed_body` …
    pub code: String,
    /// In the caller's language.
    pub message: String,
}

impl ApiProblem {
    pub fn new(problem: &Problem, lang: Language) -> ApiProblem {
        ApiProblem {
            at: (!problem.at.is_empty()).then(|| problem.at.clone()),
            code: problem.code.to_owned(),
            message: problem.message(lang).to_owned(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ApiProblem,
}

/// An error answer: status and problem.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: ApiProblem,
    /// Seconds, for a 503.
    retry_after: Option<u16>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: ApiProblem {
                at: None,
                code: code.to_owned(),
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// A refusal the caller can act on: `status`, with the problem in the caller's language.
    pub fn refused(status: StatusCode, problem: &Problem, lang: Language) -> ApiError {
        ApiError {
            status,
            problem: ApiProblem::new(problem, lang),
            retry_after: None,
        }
    }

    pub fn bad_request(invalid: &Problem, lang: Language) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            problem: ApiProblem::new(invalid, lang),
            retry_after: None,
        }
    }

    pub fn not_found(lang: Language) -> ApiError {
        ApiError::refused(
            StatusCode::NOT_FOUND,
            &Problem::new(
                "not_found",
                "چنین نشانی‌ای در API پیشخوان نیست.",
                "There is no such address in the Pishkhan API.",
            ),
            lang,
        )
    }

    /// Something failed inside: logged with its causes (under the request id), answered 500
    /// with nothing of the cause.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> ApiError {
        if let Some(why) = pishkhan_app::unavailable(error) {
            tracing::warn!(error = %crate::error::CauseChain(error), "refused for now");
            let page = crate::error::ErrorPage::unavailable(why);
            let (code, message) = match why {
                pishkhan_app::Unavailable::Busy => (
                    "busy",
                    "Too many writes are waiting; nothing was stored. Send the request again after Retry-After seconds (with the same Idempotency-Key, it cannot be stored twice).",
                ),
                pishkhan_app::Unavailable::Unsure => (
                    "unsure",
                    "The write did not finish in time and may yet be stored. Send the request again with the same Idempotency-Key: if it was stored, you get its first answer; it is never stored twice.",
                ),
                pishkhan_app::Unavailable::StorageFull => (
                    "storage_full",
                    "Pishkhan's storage is full; nothing was stored. Reading goes on; send the request again later.",
                ),
            };
            let mut refused = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
            refused.retry_after = page.retry_after();
            return refused;
        }
        tracing::error!(error = %crate::error::CauseChain(error), "internal error in the API");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something failed inside Pishkhan; nothing was changed. The x-request-id header identifies the incident.",
        )
    }
}

/// Any error converts into a 500 with `?`; errors a caller can act on are matched first.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        ApiError::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(ErrorBody {
                error: self.problem,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The language of API messages: English when the caller prefers it, Persian otherwise.
pub fn caller_language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().split(';').next())
        .and_then(|tag| tag.parse().ok())
        .unwrap_or_default()
}

/// A JSON body whose problems (not JSON, wrong shape, wrong content type) answer 400 with a
/// message that says what to send.
pub struct ApiJson<T>(pub T);

fn malformed_body(detail: &str, lang: Language) -> ApiError {
    ApiError::bad_request(
        &Problem::new(
            "malformed_body",
            format!(
                "بدنهٔ درخواست JSON درستی نیست (با Content-Type: application/json بفرستید): {detail}"
            ),
            format!(
                "The request body is not the JSON expected (send it with Content-Type: application/json): {detail}"
            ),
        ),
        lang,
    )
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let lang = caller_language(request.headers());
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(malformed_body(&rejection.body_text(), lang)),
        }
    }
}

/// A JSON body that may be retried: its `Idempotency-Key` header, if any, and the request's
/// fingerprint (SHA-256 of method, path and body bytes), so the same key with the same request
/// answers as the first time, and with another request is refused.
pub struct IdempotentJson<T> {
    pub value: T,
    pub key: Option<pishkhan_app::applications::IdempotencyKey>,
}

/// The header an agency system names a request with.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl<T, S> FromRequest<S> for IdempotentJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let lang = caller_language(request.headers());
        let key = match request.headers().get(IDEMPOTENCY_KEY) {
            None => None,
            Some(value) => {
                let text = value.to_str().unwrap_or("");
                let visible = text.bytes().all(|b| (0x21..=0x7e).contains(&b));
                if text.is_empty()
                    || text.len() > pishkhan_app::applications::MAX_IDEMPOTENCY_KEY
                    || !visible
                {
                    return Err(ApiError::bad_request(
                        &Problem::new(
                            "bad_idempotency_key",
                            "سرآیند Idempotency-Key باید ۱ تا ۲۵۵ نویسهٔ دیدنی ASCII باشد (مثلاً یک UUID).",
                            "The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID, say).",
                        ),
                        lang,
                    ));
                }
                Some(text.to_owned())
            }
        };
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().starts_with("application/json"));
        if !json {
            return Err(malformed_body(
                "Expected request with `Content-Type: application/json`",
                lang,
            ));
        }
        let fingerprint = format!("{} {}\n", request.method(), request.uri().path());
        let bytes = match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) => {
                return Err(ApiError::new(
                    rejection.status(),
                    "body_unreadable",
                    rejection.body_text(),
                ));
            }
        };
        let value = match Json::<T>::from_bytes(&bytes) {
            Ok(Json(value)) => value,
            Err(rejection) => return Err(malformed_body(&rejection.body_text(), lang)),
        };
        let key = key.map(|key| pishkhan_app::applications::IdempotencyKey {
            key,
            request_hash: pishkhan_domain::digest::sha256_hex(
                &[fingerprint.as_bytes(), &bytes].concat(),
            ),
        });
        Ok(IdempotentJson { value, key })
    }
}

/// Query parameters whose problems (a repeated or malformed parameter) answer 400 in JSON.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        let lang = caller_language(&parts.headers);
        match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => {
                let detail = rejection.body_text();
                Err(ApiError::bad_request(
                    &Problem::new(
                        "malformed_query",
                        format!("پارامترهای نشانی درست نیستند (هر پارامتر یک بار): {detail}"),
                        format!("The query parameters are not right (each one once): {detail}"),
                    ),
                    lang,
                ))
            }
        }
    }
}

/// The fallback for `/api/...` paths no route matches: JSON, not the HTML page.
pub async fn not_found(headers: HeaderMap) -> ApiError {
    ApiError::not_found(caller_language(&headers))
}
