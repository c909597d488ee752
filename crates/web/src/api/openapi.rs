//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{
    ApiProblem, ErrorBody, applications, bills, calendar, catalog, checks, events, inquiries,
    outputs, whoami,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pishkhan API",
        version = "1",
        description = "Checks of Iranian identifiers and Jalali dates, bill inspection, and the \
                       business-day calendar. Errors are {\"error\": {\"code\", \"message\"}}; \
                       messages are Persian unless Accept-Language asks for English."
    ),
    paths(
        checks::check,
        bills::inspect,
        calendar::business_days,
        calendar::holidays,
        catalog::list,
        catalog::show,
        catalog::form,
        catalog::jsonld,
        catalog::suggest,
        whoami::show,
        applications::submit,
        applications::list,
        applications::show,
        applications::document,
        applications::act,
        applications::receipt,
        events::list,
        inquiries::ask,
        outputs::verify,
        outputs::keys,
        outputs::key,
        outputs::issuer,
        outputs::status_list,
        outputs::contexts,
        outputs::context,
        outputs::credential
    ),
    modifiers(&BearerAuth),
    components(schemas(
        ApiProblem,
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
        whoami::WhoAmI,
        catalog::ServiceSummary,
        catalog::ServicePage,
        catalog::ServiceDetail,
        catalog::FormDetail,
        catalog::Suggestion,
        catalog::Suggestions,
        applications::UploadBody,
        applications::SubmitBody,
        applications::ActionBody,
        applications::Filed,
        applications::ProblemsBody,
        applications::DocumentInfo,
        applications::FetchedFrom,
        applications::HistoryStep,
        applications::ActionInfo,
        applications::AskedInfo,
        applications::OutputInfo,
        applications::ApplicationDetail,
        applications::ApplicationSummary,
        applications::ApplicationList,
        events::FeedItem,
        events::EventPage,
        inquiries::InquiryBody,
        inquiries::InquiryReply,
        outputs::VerifyReply,
        outputs::VerifiedBody,
        outputs::PublicKey,
        outputs::KeysReply,
        outputs::ContextsReply,
        outputs::ContextLink,
    )),
    tags(
        (name = "checks", description = "Is an identifier or date valid, and what does it say?"),
        (name = "bills", description = "Utility and fine bills"),
        (name = "calendar", description = "Business days and official holidays"),
        (name = "catalogue", description = "The published service cards and forms"),
        (name = "outputs", description = "Checking an issued output, online or offline"),
        (name = "agency systems", description = "For agencies' own systems, with a bearer token"),
    )
)]
pub struct ApiDoc;

/// Agency systems send `Authorization: Bearer TOKEN` (`pishkhan token create`).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
