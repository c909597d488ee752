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
pub mod openapi;
pub mod whoami;

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_domain::Language;
use pishkhan_domain::id::Invalid;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem: a stable code for programs, a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable, machine-readable: `checksum`, `wrong_length`, `malformed_body` …
    pub code: String,
    /// In the caller's language.
    pub message: String,
}

impl Problem {
    pub fn from_invalid(invalid: &Invalid, lang: Language) -> Problem {
        Problem {
            code: invalid.code.to_owned(),
            message: invalid.message(lang).to_owned(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: Problem,
}

/// An error answer: status and problem.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Problem,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }

    pub fn bad_request(invalid: &Invalid, lang: Language) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            problem: Problem::from_invalid(invalid, lang),
        }
    }

    pub fn not_found(lang: Language) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            match lang {
                Language::Persian => "چنین نشانی‌ای در API پیشخوان نیست.",
                Language::English => "There is no such address in the Pishkhan API.",
            },
        )
    }

    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "internal error in the API");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something failed inside Pishkhan; nothing was changed. The x-request-id header identifies the incident.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(ErrorBody {
                error: self.problem,
            }),
        )
            .into_response()
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
            Err(rejection) => {
                let detail = rejection.body_text();
                let message = match lang {
                    Language::Persian => format!(
                        "بدنهٔ درخواست JSON درستی نیست (با Content-Type: application/json بفرستید): {detail}"
                    ),
                    Language::English => format!(
                        "The request body is not the JSON expected (send it with Content-Type: application/json): {detail}"
                    ),
                };
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_body",
                    message,
                ))
            }
        }
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
                let message = match lang {
                    Language::Persian => {
                        format!("پارامترهای نشانی درست نیستند (هر پارامتر یک بار): {detail}")
                    }
                    Language::English => {
                        format!("The query parameters are not right (each one once): {detail}")
                    }
                };
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_query",
                    message,
                ))
            }
        }
    }
}

/// The fallback for `/api/...` paths no route matches: JSON, not the HTML page.
pub async fn not_found(headers: HeaderMap) -> ApiError {
    ApiError::not_found(caller_language(&headers))
}
