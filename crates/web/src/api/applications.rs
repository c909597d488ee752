//! Applications through the API, for agencies' systems (bearer token): file one for a person,
//! read it, take a workflow action. The same use cases as the pages (`app::applications`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pishkhan_app::applications::{ApplicationError, ApplicationView, SubmitApplication, Upload};
use pishkhan_domain::workflow::Workflow;
use pishkhan_domain::{Language, Problem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::{ApiError, ApiProblem, IdempotentJson, caller_language};
use crate::auth::Visitor;
use crate::state::WebState;

/// A file, its bytes in base64 (standard alphabet, padded).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    /// The card's required document it answers (its Persian name, as in the card), or empty.
    #[serde(default)]
    pub requirement: String,
    pub file_name: String,
    #[schema(
        format = Byte,
        pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    )]
    pub content_base64: String,
}

/// A new application filed by an agency system for a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The service's code, as in the catalogue.
    pub service: String,
    /// The applicant's national ID (any digits, with or without dashes).
    pub national_id: String,
    /// The applicant's mobile number, for notifications.
    pub mobile: String,
    #[serde(default)]
    pub email: String,
    /// Form code → field id → answer. A file field's answer is `{"document": INDEX}`, the
    /// index into `documents`.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, BTreeMap<String, serde_json::Value>>)]
    pub answers: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(default)]
    pub documents: Vec<UploadBody>,
}

/// An action on an application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// One of the actions in `actions` of the application.
    pub action: String,
    /// The `revision` read last; a change by someone else in between answers 409.
    #[serde(deserialize_with = "whole_number")]
    pub revision: i64,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub documents: Vec<UploadBody>,
    /// What the action asks to be written down (its `asks`), by code: e.g. the issuing step's
    /// `holder_name`.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// With the action that issues the output, when the agency's own system issued it: the PDF
    /// it made (base64, at most 10 MB), kept instead of one Pishkhan typesets. It is numbered and
    /// signed the same way; print the verification code the answer's `outputs` gives on it.
    #[schema(
        format = Byte,
        pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    )]
    #[serde(default)]
    pub output_pdf_base64: Option<String>,
}

/// A whole number, written as JSON Schema's `integer` allows (`3` or `3.0`).
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(serde::de::Error::custom("expected a whole number")),
    }
}

/// The answer to a filing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Filed {
    /// Eleven digits, the last a check digit.
    pub code: String,
    /// The same in groups, for reading aloud: `1234-5678-901`.
    pub code_grouped: String,
    pub state: String,
    /// The current state's deadline, Jalali `YYYY/MM/DD`, when it has one.
    pub deadline: Option<String>,
    pub href: String,
}

/// A refused filing or action: the summary, and each problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemsBody {
    pub error: ApiProblem,
    pub problems: Vec<ApiProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentInfo {
    pub id: String,
    pub requirement: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Present when Pishkhan fetched the document from an agency's inquiry with the person's
    /// consent (once only) instead of a scan being uploaded: the file is the agency's answer as
    /// received (`application/json`), and `call` finds its entry in the exchange log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched: Option<FetchedFrom>,
}

/// Where a fetched document came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct FetchedFrom {
    /// The inquiry service's code and its agency's code.
    pub inquiry: String,
    pub agency: String,
    /// The call's id in the exchange log.
    pub call: String,
    /// When it was fetched (RFC 3339).
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryStep {
    pub seq: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_role: String,
    pub comment: String,
    /// RFC 3339.
    pub at: String,
    pub deadline: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionInfo {
    pub code: String,
    pub name: String,
    pub comment_required: bool,
    pub document_required: bool,
    /// What to send in `fields` (by code) when taking it.
    pub asks: Vec<AskedInfo>,
}

/// One value an action asks to be written down.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskedInfo {
    pub code: String,
    pub label: String,
    pub required: bool,
}

/// An output the application issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputInfo {
    pub number: String,
    /// The verification code printed on it (`GET /api/v1/verify/{code}`).
    pub verification_code: String,
    pub title: String,
    pub holder_name: String,
    /// RFC 3339.
    pub issued_at: String,
    /// The last day it holds (ISO date), if it expires.
    pub valid_until: Option<String>,
    /// The signed payload its QR code carries (`pishkhan verify` checks it offline).
    pub payload: String,
    /// SHA-256 of its PDF.
    pub pdf_sha256: String,
    pub revoked: bool,
    pub revoked_reason: Option<String>,
    pub handed_over: bool,
}

/// An application as an agency system sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDetail {
    pub code: String,
    pub service: String,
    /// The card version (and so the workflow) it follows.
    pub service_version: i64,
    pub agency: String,
    pub national_id: String,
    pub channel: String,
    pub centre: Option<String>,
    pub state: String,
    pub state_name: String,
    pub outcome: Option<String>,
    pub deadline: Option<String>,
    pub revision: i64,
    /// RFC 3339.
    pub created_at: String,
    #[schema(value_type = Object)]
    pub answers: Value,
    pub documents: Vec<DocumentInfo>,
    pub history: Vec<HistoryStep>,
    /// What may be done next, by an agency system.
    pub actions: Vec<ActionInfo>,
    /// What it issued, oldest first.
    pub outputs: Vec<OutputInfo>,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339()
}

fn detail(view: &ApplicationView) -> ApplicationDetail {
    let r = &view.record;
    ApplicationDetail {
        code: r.code.clone(),
        service: r.service.clone(),
        service_version: r.service_version,
        agency: r.agency.clone(),
        national_id: r.national_id.clone(),
        channel: r.channel.clone(),
        centre: r.centre.clone(),
        state: r.state.clone(),
        state_name: view
            .state()
            .map(|s| s.name.fa.clone())
            .unwrap_or_else(|| r.state.clone()),
        outcome: r.outcome.clone(),
        deadline: r.deadline.clone(),
        revision: r.revision,
        created_at: rfc3339(r.created_at),
        answers: serde_json::from_str(&r.answers).unwrap_or(Value::Null),
        documents: view
            .documents
            .iter()
            .map(|d| DocumentInfo {
                id: d.id.clone(),
                requirement: d.requirement.clone(),
                file_name: d.file_name.clone(),
                content_type: d.content_type.clone(),
                size: d.size,
                sha256: d.sha256.clone(),
                fetched: pishkhan_app::once_only::provenance_of(d.provenance.as_deref()).map(|p| {
                    FetchedFrom {
                        at: rfc3339(p.at_ms),
                        inquiry: p.inquiry,
                        agency: p.agency,
                        call: p.call,
                    }
                }),
            })
            .collect(),
        history: view
            .events
            .iter()
            .map(|e| HistoryStep {
                seq: e.seq,
                action: e.action.clone(),
                from_state: e.from_state.clone(),
                to_state: e.to_state.clone(),
                actor_role: e.actor_role.clone(),
                comment: e.comment.clone(),
                at: rfc3339(e.at),
                deadline: e.deadline.clone(),
            })
            .collect(),
        actions: view
            .workflow
            .actions_from(&r.state)
            .filter(|a| {
                Workflow::roles_of(a).any(|role| role == pishkhan_domain::identity::Role::System)
            })
            .map(|a| ActionInfo {
                code: a.code.clone(),
                name: a.name.fa.clone(),
                comment_required: a.comment,
                document_required: a.document,
                asks: a
                    .asks
                    .iter()
                    .map(|asked| AskedInfo {
                        code: asked.code.clone(),
                        label: asked.label.fa.clone(),
                        required: asked.required,
                    })
                    .collect(),
            })
            .collect(),
        outputs: view
            .outputs
            .iter()
            .map(|o| OutputInfo {
                number: o.number.clone(),
                verification_code: o.code.clone(),
                title: o.title.clone(),
                holder_name: o.holder_name.clone(),
                issued_at: rfc3339(o.issued_at),
                valid_until: o.valid_until.clone(),
                payload: o.payload.clone(),
                pdf_sha256: o.pdf_sha256.clone(),
                revoked: o.revoked_at.is_some(),
                revoked_reason: o.revoked_reason.clone(),
                handed_over: o.handed_over_at.is_some(),
            })
            .collect(),
    }
}

/// A submission as the JSON body of `POST /api/v1/applications` (documents in base64).
pub fn example_json(request: &SubmitApplication) -> Value {
    serde_json::json!({
        "service": request.service,
        "national_id": request.national_id,
        "mobile": request.mobile,
        "answers": request.answers,
        "documents": request
            .documents
            .iter()
            .map(|d| serde_json::json!({
                "requirement": d.requirement,
                "file_name": d.file_name,
                "content_base64": data_encoding::BASE64.encode(&d.bytes),
            }))
            .collect::<Vec<_>>(),
    })
}

/// The API client behind the bearer token (the route's guard already required one).
fn api_client(visitor: &Visitor) -> Result<&pishkhan_app::policy::Principal, Box<Response>> {
    visitor.principal().ok_or_else(|| {
        Box::new(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "This address needs an API token.",
            )
            .into_response(),
        )
    })
}

/// Decodes uploads, off the async runtime (megabytes of base64 are CPU work); a bad base64
/// string is a problem at its index.
async fn uploads(
    bodies: Vec<UploadBody>,
    lang: Language,
) -> Result<Result<Vec<Upload>, Vec<ApiProblem>>, ApiError> {
    Ok(tokio::task::spawn_blocking(move || decode_uploads(bodies, lang)).await?)
}

fn decode_uploads(bodies: Vec<UploadBody>, lang: Language) -> Result<Vec<Upload>, Vec<ApiProblem>> {
    let mut out = Vec::with_capacity(bodies.len());
    let mut problems = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        match data_encoding::BASE64.decode(body.content_base64.trim().as_bytes()) {
            Ok(bytes) => out.push(Upload {
                requirement: body.requirement,
                file_name: body.file_name,
                bytes,
                provenance: None,
            }),
            Err(_) => problems.push(ApiProblem::new(
                &Problem::new(
                    "not_base64",
                    "محتوای پرونده base64 درستی نیست.",
                    "The file's content is not valid base64.",
                )
                .at(format!("documents[{i}]")),
                lang,
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn problems_response(problems: Vec<ApiProblem>, lang: Language) -> Response {
    unprocessable(
        &Problem::new(
            "invalid_application",
            "درخواست کامل یا درست نیست؛ هر مشکل در problems آمده است.",
            "The application is incomplete or wrong; each problem is in `problems`.",
        ),
        problems,
        lang,
    )
}

/// 422: `summary`, and each problem with where it is.
fn unprocessable(summary: &Problem, problems: Vec<ApiProblem>, lang: Language) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CACHE_CONTROL, "no-store")],
        Json(ProblemsBody {
            error: ApiProblem::new(summary, lang),
            problems,
        }),
    )
        .into_response()
}

/// The answer for a use case's refusal.
fn refused(error: ApplicationError, lang: Language) -> Response {
    match error {
        ApplicationError::NotFound => ApiError::refused(
            StatusCode::NOT_FOUND,
            &Problem::new(
                "not_found",
                "چنین درخواست یا خدمتی نیست، یا این سامانه به آن دسترسی ندارد.",
                "There is no such application or service, or this system may not reach it.",
            ),
            lang,
        )
        .into_response(),
        ApplicationError::Invalid(problems) => problems_response(
            problems
                .into_iter()
                .map(|p| ApiProblem::new(&p, lang))
                .collect(),
            lang,
        ),
        ApplicationError::KeyReused => unprocessable(
            &Problem::new(
                "idempotency_key_reused",
                "این Idempotency-Key پیش‌تر با درخواستی دیگر به کار رفته است؛ برای هر درخواست تازه کلیدی تازه بفرستید.",
                "This Idempotency-Key was used before with another request; send a new key with each new request.",
            ),
            Vec::new(),
            lang,
        ),
        ApplicationError::Stale => ApiError::refused(
            StatusCode::CONFLICT,
            &Problem::new(
                "stale",
                "درخواست در این فاصله تغییر کرده است؛ دوباره بخوانید و تصمیم بگیرید.",
                "The application changed meanwhile; read it again and decide again.",
            ),
            lang,
        )
        .into_response(),
        other => ApiError::internal(&other).into_response(),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/applications",
    operation_id = "submitApplication",
    summary = "ثبت درخواست از سامانهٔ دستگاه",
    tag = "agency systems",
    security(("bearer" = [])),
    request_body = SubmitBody,
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Your name for this request (1 to 255 visible ASCII characters, a UUID say). Sent again with the same body — a retry after a timeout — it answers what the first one answered (the same tracking code) and files nothing twice; sent with another body it is refused (422, `idempotency_key_reused`). Keys are kept for at least 24 hours."),
    ),
    responses(
        (status = 201, description = "Filed and durable (or, for a retried key, filed the first time)", body = Filed),
        (status = 400, description = "The body is not the JSON expected", body = crate::api::ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::api::ErrorBody),
        (status = 403, description = "Not an agency system", body = crate::api::ErrorBody),
        (status = 404, description = "No such published service for this system's agency", body = crate::api::ErrorBody),
        (status = 422, description = "Incomplete or wrong, each problem with where it is; or an idempotency key used before with another body (`idempotency_key_reused`)", body = ProblemsBody),
    )
)]
pub async fn submit(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    IdempotentJson { value: body, key }: IdempotentJson<SubmitBody>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let documents = match uploads(body.documents, lang).await {
        Ok(Ok(d)) => d,
        Ok(Err(problems)) => return problems_response(problems, lang),
        Err(error) => return error.into_response(),
    };
    let request = SubmitApplication {
        service: body.service,
        national_id: body.national_id,
        mobile: body.mobile,
        email: body.email,
        centre: None,
        consent: None,
        answers: body.answers,
        documents,
        idempotency: key,
    };
    match state
        .app
        .submit_application(principal, &visitor.client.ip, request, Utc::now())
        .await
    {
        Ok(filed) => {
            let href = format!("/api/v1/applications/{}", filed.code);
            (
                StatusCode::CREATED,
                [
                    (header::LOCATION, href.clone()),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                Json(Filed {
                    code: filed.code.as_str().to_owned(),
                    code_grouped: filed.code.grouped(),
                    state: filed.state,
                    deadline: filed.deadline.map(|d| d.format_numeric()),
                    href,
                }),
            )
                .into_response()
        }
        Err(error) => refused(error, lang),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/applications/{code}",
    operation_id = "getApplication",
    summary = "دیدن یک درخواست: وضعیت، مدارک، سابقه و اقدام‌های ممکن",
    tag = "agency systems",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The tracking code")),
    responses(
        (status = 200, description = "The application", body = ApplicationDetail),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 404, description = "No such application for this system's agency", body = crate::api::ErrorBody),
    )
)]
pub async fn show(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    match state.app.application_for(principal, &code).await {
        Ok(Some(view)) => {
            ([(header::CACHE_CONTROL, "no-store")], Json(detail(&view))).into_response()
        }
        Ok(None) => refused(ApplicationError::NotFound, lang),
        Err(error) => refused(error, lang),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/applications/{code}/actions",
    operation_id = "actOnApplication",
    summary = "انجام یک اقدام گردش کار روی درخواست",
    tag = "agency systems",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "The tracking code"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Your name for this request (1 to 255 visible ASCII characters). Sent again with the same body, it takes nothing again and answers with the application as it is now; with another body it is refused (422, `idempotency_key_reused`). Kept for at least 24 hours."),
    ),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Done; the application as it is now", body = ApplicationDetail),
        (status = 400, description = "The body is not the JSON expected", body = crate::api::ErrorBody),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 404, description = "No such application for this system's agency", body = crate::api::ErrorBody),
        (status = 409, description = "Changed since `revision`", body = crate::api::ErrorBody),
        (status = 422, description = "Not allowed now: wrong state or role, comment or document missing; or an idempotency key used before with another body (`idempotency_key_reused`)", body = ProblemsBody),
    )
)]
pub async fn act(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(code): Path<String>,
    IdempotentJson { value: body, key }: IdempotentJson<ActionBody>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let documents = match uploads(body.documents, lang).await {
        Ok(Ok(d)) => d,
        Ok(Err(problems)) => return problems_response(problems, lang),
        Err(error) => return error.into_response(),
    };
    let fields: Vec<(String, String)> = body.fields.into_iter().collect();
    let output_pdf = match body.output_pdf_base64.map(|text| {
        data_encoding::BASE64
            .decode(text.trim().as_bytes())
            .map_err(|_| {
                ApiProblem::new(
                    &Problem::new(
                        "not_base64",
                        "محتوای پرونده base64 درستی نیست.",
                        "The file's content is not valid base64.",
                    )
                    .at("output_pdf_base64"),
                    lang,
                )
            })
    }) {
        None => None,
        Some(Ok(pdf)) => Some(pdf),
        Some(Err(problem)) => return problems_response(vec![problem], lang),
    };
    match state
        .app
        .act_on_application_with(
            principal,
            &visitor.client.ip,
            &code,
            body.revision,
            &body.action,
            &body.comment,
            &fields,
            documents,
            output_pdf,
            key,
            Utc::now(),
        )
        .await
    {
        Ok(view) => ([(header::CACHE_CONTROL, "no-store")], Json(detail(&view))).into_response(),
        Err(error) => refused(error, lang),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/applications/{code}/receipt.pdf",
    operation_id = "getReceipt",
    summary = "رسید چاپی درخواست (پی‌دی‌اف)",
    tag = "agency systems",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The tracking code")),
    responses(
        (status = 200, description = "The receipt, a PDF", content_type = "application/pdf"),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 404, description = "No such application for this system's agency", body = crate::api::ErrorBody),
    )
)]
pub async fn receipt(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let track = format!("{}/track", crate::page::site_origin(&state));
    match state.app.receipt_pdf(principal, &code, &track).await {
        Ok(Some(pdf)) => crate::pages::track::pdf_response(pdf, &format!("receipt-{code}.pdf")),
        Ok(None) => refused(ApplicationError::NotFound, lang),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// One application as the agency's list gives it: enough to decide whether to read it again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    /// The tracking code.
    pub code: String,
    pub service: String,
    pub service_version: i64,
    pub state: String,
    /// `granted`, `refused` or `withdrawn` once finished.
    pub outcome: Option<String>,
    /// This stage's deadline (Jalali, `YYYY/MM/DD`), if it has one.
    pub deadline: Option<String>,
    /// Filed, RFC 3339.
    pub created_at: String,
    /// Last changed, RFC 3339.
    pub updated_at: String,
    /// Changes with every action; send it back with the next action.
    pub revision: i64,
}

/// A page of the agency's applications, oldest change first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationSummary>,
    /// Pass as `changed_after` for the next page; absent when this page is the last one for now
    /// (ask again later with the last cursor you had to see what changed since).
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only applications in this workflow state (e.g. `submitted`).
    #[param(pattern = "^[a-z0-9-]{1,60}$")]
    pub state: Option<String>,
    /// The `next` of the previous page: only applications that changed after it.
    #[param(pattern = "^[0-9]{1,18}-[0-9]{1,20}$")]
    pub changed_after: Option<String>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A page's cursor: the last row's change time and code, as `MILLIS-CODE`.
fn cursor_of(record: &pishkhan_app::records::ApplicationRecord) -> String {
    format!("{}-{}", record.updated_at, record.code)
}

fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (at, code) = text.split_once('-')?;
    let at = (!at.is_empty() && at.len() <= 18 && at.chars().all(|c| c.is_ascii_digit()))
        .then(|| at.parse::<i64>().ok())
        .flatten()?;
    (!code.is_empty() && code.len() <= 20 && code.chars().all(|c| c.is_ascii_digit()))
        .then(|| (at, code.to_owned()))
}

#[utoipa::path(
    get,
    path = "/api/v1/applications",
    operation_id = "listApplications",
    summary = "درخواست‌های دستگاه، به ترتیب زمان آخرین تغییر، صفحه به صفحه",
    tag = "agency systems",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the agency's applications", body = ApplicationList),
        (status = 400, description = "A bad state, cursor or limit", body = crate::api::ErrorBody),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    crate::api::ApiQuery(query): crate::api::ApiQuery<ListQuery>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let bad = |code: &'static str, fa: &str, en: &str| {
        ApiError::bad_request(&Problem::new(code, fa, en), lang).into_response()
    };
    let changed_after = match query.changed_after.as_deref() {
        None => None,
        Some(text) => match parse_cursor(text) {
            Some(cursor) => Some(cursor),
            None => {
                return bad(
                    "bad_cursor",
                    "changed_after باید همان next صفحهٔ پیشین باشد.",
                    "`changed_after` must be the `next` of the previous page.",
                );
            }
        },
    };
    let states = match query.state.as_deref() {
        None => Vec::new(),
        Some(s)
            if !s.is_empty()
                && s.len() <= 60
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
        {
            vec![s.to_owned()]
        }
        Some(_) => {
            return bad(
                "bad_state",
                "state یک شناسهٔ وضعیت گردش کار است (حروف کوچک لاتین، رقم و خط تیره).",
                "`state` is a workflow state's code (lower-case letters, digits and dashes).",
            );
        }
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return bad(
            "bad_limit",
            "limit عددی از ۱ تا ۲۰۰ است.",
            "`limit` is a number from 1 to 200.",
        );
    }
    let filter = pishkhan_app::records::InboxFilter {
        states,
        include_closed: true,
        by_change: true,
        changed_after,
        limit,
        ..Default::default()
    };
    match state.app.inbox(principal, filter).await {
        Ok(rows) => {
            let next = (rows.len() as i64 == limit)
                .then(|| rows.last().map(cursor_of))
                .flatten();
            let applications = rows
                .into_iter()
                .map(|r| ApplicationSummary {
                    created_at: rfc3339(r.created_at),
                    updated_at: rfc3339(r.updated_at),
                    code: r.code,
                    service: r.service,
                    service_version: r.service_version,
                    state: r.state,
                    outcome: r.outcome,
                    deadline: r.deadline,
                    revision: r.revision,
                })
                .collect();
            (
                [(header::CACHE_CONTROL, "no-store")],
                Json(ApplicationList { applications, next }),
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/applications/{code}/documents/{id}",
    operation_id = "getDocument",
    summary = "دریافت یک مدرک پیوست درخواست، همان‌گونه که نگه داشته شده است",
    tag = "agency systems",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "The tracking code"),
        ("id" = String, Path, description = "The document's id, from the application's `documents`"),
    ),
    responses(
        (status = 200, description = "The file as stored; `Repr-Digest` carries its SHA-256 (RFC 9530), `X-Content-SHA256` the same in hex", content_type = "application/octet-stream"),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 404, description = "No such application or document for this system's agency", body = crate::api::ErrorBody),
    )
)]
pub async fn document(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let lang = caller_language(&headers);
    let principal = match api_client(&visitor) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    match state.app.application_document(principal, &code, &id).await {
        Ok(Some((doc, bytes))) => {
            let digest = data_encoding::HEXLOWER
                .decode(doc.sha256.as_bytes())
                .map(|raw| format!("sha-256=:{}:", data_encoding::BASE64.encode(&raw)))
                .unwrap_or_default();
            // The name as given (often Persian) in RFC 5987 form, and a plain fallback.
            let fallback = format!("document-{}", doc.id);
            let encoded: String = doc
                .file_name
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, doc.content_type.clone()),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"),
                    ),
                    (header::HeaderName::from_static("repr-digest"), digest),
                    (
                        header::HeaderName::from_static("x-content-sha256"),
                        doc.sha256.clone(),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => refused(ApplicationError::NotFound, lang),
        Err(error) => refused(error, lang),
    }
}
