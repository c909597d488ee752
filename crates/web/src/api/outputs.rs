//! Checking an output anyone was handed: `GET /api/v1/verify/{code}` and the public keys that
//! let anyone check a QR payload without Pishkhan, `GET /api/v1/keys`; an output as a W3C
//! Verifiable Credential and what checks one without Pishkhan (`app::credentials`): the
//! issuer's document, each key as a Multikey, the revocation status lists, the JSON-LD contexts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pishkhan_domain::{Language, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, caller_language};
use crate::auth::Visitor;
use crate::state::WebState;

/// What a verification found, and what a receiving clerk needs — never the full national ID.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyReply {
    /// `valid`, `revoked`, `expired`, `unknown` (no output has this code), `tampered` (a payload
    /// with a changed byte), `foreign` (not a Pishkhan code), `unknown-key`.
    pub status: String,
    pub output: Option<VerifiedBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedBody {
    pub number: String,
    pub title: String,
    /// The service's card code.
    pub service: String,
    pub agency: String,
    pub holder_name: String,
    /// Only the last three digits.
    pub national_id: String,
    /// ISO date.
    pub issued: String,
    pub issued_fa: String,
    pub valid_until: Option<String>,
    pub valid_until_fa: Option<String>,
    pub revoked_fa: Option<String>,
    pub revoked_reason: Option<String>,
    pub key_id: String,
}

pub(crate) fn reply(found: pishkhan_app::outputs::Verification) -> VerifyReply {
    VerifyReply {
        status: found.status.to_owned(),
        output: found.output.map(|o| VerifiedBody {
            number: o.number,
            title: o.title,
            service: o.service,
            agency: o.agency,
            holder_name: o.holder_name,
            national_id: o.national_id,
            issued: o.issued.to_string(),
            issued_fa: o.issued_fa,
            valid_until: o.valid_until.map(|d| d.to_string()),
            valid_until_fa: o.valid_until_fa,
            revoked_fa: o.revoked_fa,
            revoked_reason: o.revoked_reason,
            key_id: o.key_id,
        }),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/verify/{code}",
    operation_id = "verifyOutput",
    summary = "تصدیق خروجی با کد تصدیق یا محتوای رمزینه",
    tag = "outputs",
    params(("code" = String, Path, description = "The verification code printed on the output (`XXXX-XXXX-XXXX`, typed in any case, with or without dashes), or the QR code's payload (`PK1.…`)")),
    responses(
        (status = 200, description = "The status (an unknown code is a status, not an error)", body = VerifyReply),
    )
)]
pub async fn verify(
    State(state): State<WebState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let found = if code.trim().starts_with(pishkhan_domain::output::PREFIX) {
        state.app.verify_payload(&code, Utc::now()).await?
    } else {
        state.app.verify_code(&code, Utc::now()).await?
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(reply(found))).into_response())
}

/// One public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// What a payload's `k` names.
    pub id: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    /// When it was first used (ISO 8601).
    pub created: String,
    /// When it was revoked, if it was: what it signed no longer counts.
    pub revoked: Option<String>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeysReply {
    pub keys: Vec<PublicKey>,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[utoipa::path(
    get,
    path = "/api/v1/keys",
    operation_id = "listKeys",
    summary = "کلیدهای عمومی امضای خروجی‌ها",
    tag = "outputs",
    responses(
        (status = 200, description = "Every key that ever signed an output, oldest first; save it to check payloads offline (`pishkhan verify --keys`)", body = KeysReply),
    )
)]
pub async fn keys(State(state): State<WebState>) -> Result<Json<KeysReply>, ApiError> {
    let keys = state.app.published_keys().await?;
    Ok(Json(KeysReply {
        keys: keys
            .into_iter()
            .map(|k| PublicKey {
                id: k.id,
                algorithm: "Ed25519".into(),
                public_key: k.public_key,
                created: iso(k.created_at),
                revoked: k.revoked_at.map(iso),
                revoked_reason: k.revoked_reason,
            })
            .collect(),
    }))
}

/// A JSON-LD document as it is served.
fn linked_data(
    value: serde_json::Value,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        value.to_string(),
    )
        .into_response()
}

fn nothing_here(lang: Language, en: &str, fa: &str) -> ApiError {
    ApiError::refused(
        StatusCode::NOT_FOUND,
        &Problem::new("not_found", fa, en),
        lang,
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/outputs/{number}/credential",
    operation_id = "getOutputCredential",
    summary = "خروجی به صورت اعتبارنامهٔ دیجیتال تأییدپذیر",
    tag = "outputs",
    security(("bearer" = [])),
    params(("number" = String, Path, description = "The output's number (`<tracking code>-<n>`)")),
    responses(
        (status = 200, description = "The output as a W3C Verifiable Credential (Data Model 2.0) with an `eddsa-jcs-2022` Data Integrity proof and a `BitstringStatusListEntry` for revocation. The same output gives the same credential every time while its key signs", content_type = "application/vc", body = Object),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 404, description = "No such output for this system's agency", body = crate::api::ErrorBody),
    )
)]
pub async fn credential(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let lang = caller_language(&headers);
    let principal = visitor.principal().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "This address needs an API token.",
        )
    })?;
    let found = state
        .app
        .output_credential(principal, number.trim(), Utc::now())
        .await?;
    let credential = found.ok_or_else(|| {
        nothing_here(
            lang,
            "There is no such output, or this system may not reach it.",
            "چنین خروجی‌ای نیست، یا این سامانه به آن دسترسی ندارد.",
        )
    })?;
    Ok(credential_response(credential, &number))
}

/// A credential as a download: `application/vc`, named after the output.
pub fn credential_response(credential: serde_json::Value, number: &str) -> Response {
    let safe: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/vc".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"output-{safe}.vc.json\""),
            ),
        ],
        serde_json::to_string_pretty(&credential).unwrap_or_default(),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/issuer",
    operation_id = "getIssuer",
    summary = "سند کنترل‌کنندهٔ صادرکنندهٔ اعتبارنامه‌ها",
    tag = "outputs",
    responses(
        (status = 200, description = "The issuer's controller document (its `id` is a credential's `issuer`): every signing key as a Multikey, the ones not revoked as `assertionMethod`", content_type = "application/json", body = Object),
    )
)]
pub async fn issuer(State(state): State<WebState>) -> Result<Response, ApiError> {
    let doc = state.app.issuer_document().await?;
    Ok(linked_data(doc, "application/json", "public, max-age=60"))
}

#[utoipa::path(
    get,
    path = "/api/v1/keys/{id}",
    operation_id = "getKey",
    summary = "یک کلید عمومی برای سنجش اعتبارنامه",
    tag = "outputs",
    params(("id" = String, Path, description = "The key's id (what a payload's `k` names)")),
    responses(
        (status = 200, description = "The key as a Multikey: what a credential proof's `verificationMethod` names", content_type = "application/json", body = Object),
        (status = 404, description = "No such key", body = crate::api::ErrorBody),
    )
)]
pub async fn key(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = caller_language(&headers);
    match state.app.key_document(&id).await? {
        Some(doc) => Ok(linked_data(doc, "application/json", "public, max-age=60")),
        None => Err(nothing_here(
            lang,
            "No signing key has this id.",
            "کلید امضایی با این شناسه نیست.",
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/status/{list}",
    operation_id = "getStatusList",
    summary = "فهرست وضعیت ابطال خروجی‌ها",
    tag = "outputs",
    params(("list" = i64, Path, minimum = 0, description = "The list's number: a credential's `statusListIndex` divided by 131072")),
    responses(
        (status = 200, description = "A `BitstringStatusListCredential`, signed now: entry n is set when the output with that `statusListIndex` is revoked (or its key is)", content_type = "application/vc", body = Object),
        (status = 404, description = "No such list", body = crate::api::ErrorBody),
    )
)]
pub async fn status_list(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    let lang = caller_language(&headers);
    let missing = || {
        nothing_here(
            lang,
            "There is no such status list.",
            "چنین فهرست وضعیتی نیست.",
        )
    };
    let list: i64 = list.trim().parse().map_err(|_| missing())?;
    match state.app.status_list_credential(list, Utc::now()).await? {
        Some(doc) => Ok(linked_data(doc, "application/vc", "public, max-age=60")),
        None => Err(missing()),
    }
}

/// Where each JSON-LD context is served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContextLink {
    /// The address documents name it by.
    pub url: String,
    /// Where Pishkhan serves its copy.
    pub href: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContextsReply {
    pub contexts: Vec<ContextLink>,
}

#[utoipa::path(
    get,
    path = "/api/v1/contexts",
    operation_id = "listContexts",
    summary = "زمینه‌های معنایی که اعتبارنامه‌ها به کار می‌برند",
    tag = "outputs",
    responses(
        (status = 200, description = "Every JSON-LD context the credentials and their keys use, and where Pishkhan serves its copy: a verifier needs no network", body = ContextsReply),
    )
)]
pub async fn contexts() -> Json<ContextsReply> {
    Json(ContextsReply {
        contexts: pishkhan_app::credentials::CONTEXTS
            .iter()
            .map(|c| ContextLink {
                url: c.url.to_owned(),
                href: format!("/api/v1/contexts/{}", c.name),
            })
            .collect(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/contexts/{name}",
    operation_id = "getContext",
    summary = "یک زمینهٔ معنایی اعتبارنامه‌ها",
    tag = "outputs",
    params(("name" = String, Path, description = "`credentials-v2`, `did-v1` or `multikey-v1`")),
    responses(
        (status = 200, description = "The context, as the W3C publishes it", content_type = "application/ld+json", body = Object),
        (status = 404, description = "No such context", body = crate::api::ErrorBody),
    )
)]
pub async fn context(headers: HeaderMap, Path(name): Path<String>) -> Result<Response, ApiError> {
    let lang = caller_language(&headers);
    let found = pishkhan_app::credentials::CONTEXTS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| nothing_here(lang, "There is no such context.", "چنین زمینه‌ای نیست."))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/ld+json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        found.text,
    )
        .into_response())
}
