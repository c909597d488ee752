//! `POST /api/v1/inquiries/{code}`: an agency's system asks another agency's inquiry service
//! through Pishkhan, for an application it may act on (`app::inquiries` checks who may ask what
//! and why, applies the timeout and the breaker, and logs the call in the audit chain).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_app::inquiries::{InquiryError, Purpose};
use pishkhan_domain::Problem;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::applications::ProblemsBody;
use crate::api::{ApiError, ApiJson, ApiProblem, caller_language};
use crate::auth::Visitor;
use crate::state::WebState;

/// A question: why it is asked (an application's tracking code) and its input fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryBody {
    /// The tracking code of the application it is asked for.
    #[schema(pattern = "^[0-9]{8,20}$")]
    pub application: String,
    /// The inquiry's input fields by id, as its definition names them.
    #[schema(value_type = Object)]
    pub input: BTreeMap<String, Value>,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryReply {
    /// Did the agency find what was asked about?
    pub found: bool,
    /// The answer's fields by id (empty when not found).
    #[schema(value_type = Object)]
    pub output: BTreeMap<String, Value>,
    /// Reused from an earlier answer within the time the agency allows.
    pub cached: bool,
    /// The SHA-256 (hex) of the agency's answer, as the exchange log keeps it.
    pub response_sha256: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/inquiries/{code}",
    operation_id = "askInquiry",
    summary = "استعلام از سامانهٔ دستگاه دیگر برای یک درخواست، از راه پیشخوان",
    tag = "agency systems",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The inquiry service's code")),
    request_body = InquiryBody,
    responses(
        (status = 200, description = "The agency's answer", body = InquiryReply),
        (status = 400, description = "The body is not the JSON expected", body = crate::api::ErrorBody),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 403, description = "Not for this purpose: the application is not this system's, or not of a service the inquiry serves", body = crate::api::ErrorBody),
        (status = 404, description = "No such inquiry this system may ask", body = crate::api::ErrorBody),
        (status = 422, description = "The input is incomplete or wrong, each problem with where it is", body = ProblemsBody),
        (status = 503, description = "The agency did not answer in time, answered wrongly, or is resting behind the breaker; ask again later", body = crate::api::ErrorBody),
    )
)]
pub async fn ask(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<InquiryBody>,
) -> Response {
    let lang = caller_language(&headers);
    let Some(principal) = visitor.principal() else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "This address needs an API token.",
        )
        .into_response();
    };
    let source = visitor.actor().map(|a| a.source).unwrap_or_default();
    let purpose = Purpose {
        application: Some(body.application),
        consent: None,
        ..Default::default()
    };
    match state
        .app
        .inquire(
            principal,
            &source,
            &code,
            &purpose,
            &body.input,
            chrono::Utc::now(),
        )
        .await
    {
        Ok(answer) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(InquiryReply {
                found: answer.found,
                output: answer.output,
                cached: answer.cached,
                response_sha256: answer.response_sha256,
            }),
        )
            .into_response(),
        Err(InquiryError::NotFound) => ApiError::refused(
            StatusCode::NOT_FOUND,
            &Problem::new(
                "not_found",
                "چنین استعلامی نیست، یا این سامانه اجازهٔ پرسیدن آن را ندارد.",
                "There is no such inquiry, or this system may not ask it.",
            ),
            lang,
        )
        .into_response(),
        Err(InquiryError::Refused(problem)) => {
            ApiError::refused(StatusCode::FORBIDDEN, &problem, lang).into_response()
        }
        Err(InquiryError::Invalid(problems)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CACHE_CONTROL, "no-store")],
            Json(ProblemsBody {
                error: ApiProblem::new(
                    &Problem::new(
                        "invalid_input",
                        "پرسش کامل یا درست نیست؛ هر مشکل در problems آمده است.",
                        "The question is incomplete or wrong; each problem is in `problems`.",
                    ),
                    lang,
                ),
                problems: problems.iter().map(|p| ApiProblem::new(p, lang)).collect(),
            }),
        )
            .into_response(),
        Err(InquiryError::Unavailable(problem)) => {
            let mut response =
                ApiError::refused(StatusCode::SERVICE_UNAVAILABLE, &problem, lang).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
            response
        }
        Err(InquiryError::Store(e)) => ApiError::internal(&e).into_response(),
    }
}
