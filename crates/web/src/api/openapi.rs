//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use super::{ErrorBody, Problem, bills, calendar, checks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pishkhan API",
        version = "1",
        description = "Checks of Iranian identifiers and Jalali dates, bill inspection, and the \
                       business-day calendar. Errors are {\"error\": {\"code\", \"message\"}}; \
                       messages are Persian unless Accept-Language asks for English."
    ),
    paths(checks::check, bills::inspect, calendar::business_days, calendar::holidays),
    components(schemas(
        Problem,
        ErrorBody,
        checks::CheckKind,
        checks::CheckRequest,
        checks::CheckResponse,
        bills::BillRequest,
        bills::BillResponse,
        bills::IdVerdict,
        bills::ServiceType,
        calendar::BusinessDaysResponse,
        calendar::DayOff,
        calendar::HolidaysResponse,
        calendar::HolidayEntry,
    )),
    tags(
        (name = "checks", description = "Is an identifier or date valid, and what does it say?"),
        (name = "bills", description = "Utility and fine bills"),
        (name = "calendar", description = "Business days and official holidays"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
