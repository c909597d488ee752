//! Checking an output anyone was handed: `GET /api/v1/verify/{code}` and the public keys that
//! let anyone check a QR payload without Pishkhan, `GET /api/v1/keys`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiError;
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
