//! `POST /api/v1/bills/inspect`: what a bill ID and payment ID pair says.

use axum::Json;
use axum::http::HeaderMap;
use pishkhan_domain::id::inspect_bill;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiJson, ApiProblem, ErrorBody, caller_language};

#[derive(Debug, Deserialize, ToSchema)]
pub struct BillRequest {
    #[schema(example = "7748317800142")]
    pub bill_id: String,
    #[schema(example = "1770160")]
    pub payment_id: String,
}

/// One of the two IDs on its own.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdVerdict {
    pub valid: bool,
    pub normalized: Option<String>,
    pub error: Option<ApiProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceType {
    /// water, electricity, gas, fixed_telephone, mobile, municipality, tax, traffic_fines
    pub code: String,
    pub name_fa: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillResponse {
    /// Both IDs valid and issued together.
    pub valid: bool,
    pub bill_id: IdVerdict,
    pub payment_id: IdVerdict,
    /// Whether the payment ID belongs to the bill ID (null unless both are valid on their own).
    pub pair_matches: Option<bool>,
    pub service_type: Option<ServiceType>,
    pub company_code: Option<String>,
    pub file_number: Option<String>,
    /// The amount due, in rials.
    pub amount_rials: Option<i64>,
    /// The last digit of the billing year.
    pub year_digit: Option<u8>,
    pub period: Option<String>,
    /// The 26-digit barcode, for a valid pair.
    pub barcode: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/bills/inspect",
    operation_id = "inspectBill",
    summary = "بررسی شناسهٔ قبض و پرداخت",
    tag = "bills",
    request_body = BillRequest,
    responses(
        (status = 200, description = "What the pair says (valid or not)", body = BillResponse),
        (status = 400, description = "The body is not the JSON expected", body = ErrorBody),
    )
)]
pub async fn inspect(
    headers: HeaderMap,
    body: Result<ApiJson<BillRequest>, ApiError>,
) -> Result<Json<BillResponse>, ApiError> {
    let lang = caller_language(&headers);
    let ApiJson(request) = body?;
    let check = inspect_bill(&request.bill_id, &request.payment_id);
    let verdict = |result: Result<String, &pishkhan_domain::id::Problem>| match result {
        Ok(normalized) => IdVerdict {
            valid: true,
            normalized: Some(normalized),
            error: None,
        },
        Err(error) => IdVerdict {
            valid: false,
            normalized: None,
            error: Some(ApiProblem::new(error, lang)),
        },
    };
    let bill = check.bill.as_ref().ok();
    let payment = check.payment.as_ref().ok();
    Ok(Json(BillResponse {
        valid: check.is_valid(),
        bill_id: verdict(check.bill.as_ref().map(|b| b.as_str().to_owned())),
        payment_id: verdict(check.payment.as_ref().map(|p| p.as_str().to_owned())),
        pair_matches: check.pair_matches,
        service_type: bill.and_then(|b| b.service_type()).map(|t| ServiceType {
            code: t.code().to_owned(),
            name_fa: t.name_fa().to_owned(),
        }),
        company_code: bill.map(|b| b.company_code().to_owned()),
        file_number: bill.map(|b| b.file_number().to_owned()),
        amount_rials: payment.map(|p| p.amount_rials()),
        year_digit: payment.map(|p| p.year_digit()),
        period: payment.map(|p| p.period().to_owned()),
        barcode: check.barcode(),
    }))
}
