//! `POST /api/v1/checks/{kind}`: is this identifier or date valid, and what is it?

use axum::Json;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use pishkhan_domain::id::{
    LegalId, MobileNumber, NationalId, Notice, PostalCode, Problem, Sheba, VehiclePlate,
};
use pishkhan_domain::jalali::is_leap_year;
use pishkhan_domain::{JalaliDate, Language};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{ApiError, ApiJson, ApiProblem, ErrorBody, caller_language};

/// What to check.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    /// As the person typed it: Persian or ASCII digits, spaces and dashes are fine.
    #[schema(example = "۰۰۷۶۲۲۹۶۴۵")]
    pub value: String,
}

/// The verdict on one value.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    pub valid: bool,
    /// The canonical form (ASCII digits; E.164 for mobiles; `YYYY/MM/DD` for dates), when valid.
    pub normalized: Option<String>,
    /// Why the value is not valid.
    pub error: Option<ApiProblem>,
    /// Worth a second look, though valid (an unknown mobile operator, an unusual postal code).
    pub warnings: Vec<ApiProblem>,
    /// What the value says: bank for Sheba, operator for mobile, Gregorian date for a date …
    #[schema(value_type = Object)]
    pub details: Value,
}

/// What `{kind}` may be; anything else answers 404.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    NationalId,
    LegalId,
    Mobile,
    PostalCode,
    Sheba,
    Plate,
    JalaliDate,
}

impl CheckKind {
    fn from_path(kind: &str) -> Option<CheckKind> {
        Some(match kind {
            "national-id" => CheckKind::NationalId,
            "legal-id" => CheckKind::LegalId,
            "mobile" => CheckKind::Mobile,
            "postal-code" => CheckKind::PostalCode,
            "sheba" => CheckKind::Sheba,
            "plate" => CheckKind::Plate,
            "jalali-date" => CheckKind::JalaliDate,
            _ => return None,
        })
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/checks/{kind}",
    operation_id = "checkValue",
    summary = "بررسی درستی یک شناسه یا تاریخ",
    tag = "checks",
    params(("kind" = CheckKind, Path, description = "What the value is")),
    request_body = CheckRequest,
    responses(
        (status = 200, description = "The verdict (valid or not)", body = CheckResponse),
        (status = 400, description = "The body is not the JSON expected", body = ErrorBody),
        (status = 404, description = "Unknown kind", body = ErrorBody),
    )
)]
pub async fn check(
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Result<ApiJson<CheckRequest>, ApiError>,
) -> Response {
    let lang = caller_language(&headers);
    let Some(kind) = CheckKind::from_path(&kind) else {
        return ApiError::not_found(lang).into_response();
    };
    let ApiJson(request) = match body {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    Json(verdict(kind, &request.value, lang)).into_response()
}

fn problems(notices: &[Notice], lang: Language) -> Vec<ApiProblem> {
    notices.iter().map(|n| ApiProblem::new(n, lang)).collect()
}

fn refused(error: &Problem, lang: Language) -> CheckResponse {
    CheckResponse {
        valid: false,
        normalized: None,
        error: Some(ApiProblem::new(error, lang)),
        warnings: Vec::new(),
        details: json!({}),
    }
}

fn accepted(normalized: String, warnings: Vec<ApiProblem>, details: Value) -> CheckResponse {
    CheckResponse {
        valid: true,
        normalized: Some(normalized),
        error: None,
        warnings,
        details,
    }
}

fn verdict(kind: CheckKind, value: &str, lang: Language) -> CheckResponse {
    let result = match kind {
        CheckKind::NationalId => {
            NationalId::parse(value).map(|id| accepted(id.to_string(), vec![], json!({})))
        }
        CheckKind::LegalId => {
            LegalId::parse(value).map(|id| accepted(id.to_string(), vec![], json!({})))
        }
        CheckKind::Mobile => MobileNumber::parse(value).map(|number| {
            let operator = number
                .operator()
                .map(|o| json!({ "name_fa": o.name_fa(), "name_en": o.name_en() }));
            accepted(
                number.e164(),
                problems(&number.notices(), lang),
                json!({ "local": number.local(), "operator": operator }),
            )
        }),
        CheckKind::PostalCode => PostalCode::parse(value).map(|code| {
            accepted(
                code.as_str().to_owned(),
                problems(&code.notices(), lang),
                json!({ "grouped": code.grouped() }),
            )
        }),
        CheckKind::Sheba => Sheba::parse(value).map(|sheba| {
            let bank = sheba
                .bank()
                .map(|(fa, en)| json!({ "name_fa": fa, "name_en": en }));
            accepted(
                sheba.as_str().to_owned(),
                problems(&sheba.notices(), lang),
                json!({ "bank_code": sheba.bank_code(), "bank": bank }),
            )
        }),
        CheckKind::Plate => VehiclePlate::parse(value).map(|plate| {
            let category = plate.category();
            accepted(
                plate.canonical(),
                vec![],
                json!({
                    "two_digits": plate.first,
                    "letter": plate.letter,
                    "three_digits": plate.second,
                    "region": plate.region,
                    "category": category.code(),
                    "category_fa": category.name_fa(),
                    "display_fa": plate.display_fa(),
                }),
            )
        }),
        CheckKind::JalaliDate => JalaliDate::parse(value).map(|date| {
            let weekday = date.weekday();
            accepted(
                date.format_numeric(),
                vec![],
                json!({
                    "gregorian": date.format_gregorian_iso(),
                    "weekday_fa": weekday.name_fa(),
                    "weekday_en": weekday.name_en(),
                    "long_fa": date.format_long_fa(),
                    "long_en": date.format_long_en(),
                    "quarter": date.quarter(),
                    "leap_year": is_leap_year(date.year()),
                }),
            )
        }),
    };
    result.unwrap_or_else(|error| refused(&error, lang))
}
