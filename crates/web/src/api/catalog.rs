//! The published catalogue, read-only: `GET /api/v1/services` (filtered, paged),
//! `GET /api/v1/services/{code}` and `GET /api/v1/forms/{code}`. The card and form bodies follow
//! the standard formats (`crates/domain/src/catalog.rs`, `docs/standards/form-schema-v1.json`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use pishkhan_app::catalog::PublishedService;
use pishkhan_app::records::ServiceFilter;
use pishkhan_domain::Language;
use pishkhan_domain::catalog::{Category, Channel};
use pishkhan_domain::id::Problem;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiQuery, ErrorBody, caller_language};
use crate::state::WebState;

const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// A province's code, such as `tehran`.
    #[param(value_type = Option<String>, pattern = "^[a-z0-9-]{0,64}$")]
    province: Option<String>,
    /// An agency's code.
    #[param(value_type = Option<String>, pattern = "^[a-z0-9-]{0,64}$")]
    agency: Option<String>,
    /// civil-registration, tax, police-traffic, utilities, municipality, commerce or other
    /// (empty: any).
    #[param(value_type = Option<String>,
        pattern = "^(|civil-registration|tax|police-traffic|utilities|municipality|commerce|other)$")]
    category: Option<String>,
    /// online, centre or agency-office (empty: any).
    #[param(value_type = Option<String>, pattern = "^(|online|centre|agency-office)$")]
    channel: Option<String>,
    /// Words to search for, as people type them (Persian or Arabic letters, any digits, with or
    /// without ZWNJ, a typo allowed): the results come ranked, best first.
    #[param(value_type = Option<String>)]
    q: Option<String>,
    /// From 1 (at most 1,000,000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    page: Option<String>,
    /// 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

/// One service in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub code: String,
    pub title_fa: String,
    pub title_en: Option<String>,
    pub summary_fa: String,
    pub category: String,
    pub agency: String,
    /// online, centre, agency-office.
    pub channels: Vec<String>,
    /// Business days.
    pub processing_days: u32,
    pub visits_in_person: u32,
    pub total_fee_rials: i64,
    pub version: i64,
    /// When this version was written (RFC 3339).
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<ServiceSummary>,
}

/// One published service card.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail {
    pub version: i64,
    pub updated_at: String,
    pub total_fee_rials: i64,
    /// The card in the standard format.
    #[schema(value_type = Object)]
    pub card: serde_json::Value,
}

/// One form version.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormDetail {
    pub version: i64,
    /// The form in the `pishkhan-form/1` standard.
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormQuery {
    /// A version number; the published one if absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 4294967295_u64)]
    version: Option<String>,
}

fn bad(code: &'static str, fa: &str, en: &str, lang: Language) -> ApiError {
    ApiError::bad_request(&Problem::new(code, fa, en), lang)
}

/// Province and agency codes: lower-case letters, digits and dashes, at most 64.
fn is_plain_code(code: &str) -> bool {
    code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn bad_code(lang: Language) -> ApiError {
    bad(
        "bad_code",
        "کد استان یا دستگاه فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.",
        "A province or agency code has lower-case letters, digits and dashes only.",
        lang,
    )
}

fn number(text: Option<&str>, default: i64, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    match text {
        None => Some(default),
        Some(t) => pishkhan_domain::text::to_ascii_digits(t.trim())
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n)),
    }
}

fn indexed_summary(entry: &pishkhan_app::search::Entry) -> ServiceSummary {
    ServiceSummary {
        code: entry.code.clone(),
        title_fa: entry.title_fa.clone(),
        title_en: entry.title_en.clone(),
        summary_fa: entry.summary_fa.clone(),
        category: entry.category.clone(),
        agency: entry.agency.clone(),
        channels: entry.channels.clone(),
        processing_days: entry.processing_days,
        visits_in_person: entry.visits_in_person,
        total_fee_rials: entry.total_fee_rials,
        version: entry.version,
        updated_at: entry.updated_at.clone(),
    }
}

fn summary(service: PublishedService) -> ServiceSummary {
    let card = service.card;
    ServiceSummary {
        total_fee_rials: card.total_fee(),
        code: card.code,
        title_fa: card.title.fa,
        title_en: card.title.en,
        summary_fa: card.summary.fa,
        category: card.category.code().to_owned(),
        agency: card.agency,
        channels: card
            .channels
            .iter()
            .map(|c| c.channel.code().to_owned())
            .collect(),
        processing_days: card.processing_days,
        visits_in_person: card.visits_in_person,
        version: service.version,
        updated_at: service.updated_at.to_rfc3339(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/services",
    operation_id = "listServices",
    summary = "فهرست شناسنامه‌های خدمت منتشرشده",
    tag = "catalogue",
    params(ServicesQuery),
    responses(
        (status = 200, description = "Published services: by title, or ranked best first when `q` is given", body = ServicePage),
        (status = 400, description = "A filter is not valid", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<WebState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ServicesQuery>,
) -> Result<Json<ServicePage>, ApiError> {
    let lang = caller_language(&headers);
    // An empty filter (a form's "any" choice) is no filter.
    let present = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    let query = ServicesQuery {
        province: present(&query.province),
        agency: present(&query.agency),
        category: present(&query.category),
        channel: present(&query.channel),
        q: query.q,
        page: query.page,
        per_page: query.per_page,
    };
    let plain = |code: &Option<String>| code.as_deref().is_none_or(is_plain_code);
    if !plain(&query.province) || !plain(&query.agency) {
        return Err(bad_code(lang));
    }
    let Some(page) = number(query.page.as_deref(), 1, 1..=1_000_000) else {
        return Err(bad(
            "bad_page",
            "شمارهٔ صفحه عددی از ۱ است.",
            "page is a number from 1.",
            lang,
        ));
    };
    let Some(per_page) = number(query.per_page.as_deref(), 20, 1..=MAX_PER_PAGE) else {
        return Err(bad(
            "bad_per_page",
            "per_page عددی از ۱ تا ۱۰۰ است.",
            "per_page is a number from 1 to 100.",
            lang,
        ));
    };
    if let Some(category) = &query.category
        && Category::from_code(category).is_none()
    {
        return Err(bad(
            "unknown_category",
            "دسته باید یکی از این‌ها باشد: civil-registration، tax، police-traffic، utilities، municipality، commerce، other.",
            "category is one of civil-registration, tax, police-traffic, utilities, municipality, commerce, other.",
            lang,
        ));
    }
    let channel = match query.channel.as_deref() {
        None => None,
        Some(text) => Some(Channel::from_code(text).ok_or_else(|| {
            bad(
                "unknown_channel",
                "راه دریافت باید online، centre یا agency-office باشد.",
                "channel is online, centre or agency-office.",
                lang,
            )
        })?),
    };
    let filter = ServiceFilter {
        province: query.province.clone(),
        agency: query.agency.clone(),
        category: query.category.clone(),
    };
    let q = query.q.as_deref().unwrap_or("").trim().to_owned();
    let offset = (page - 1) * per_page;
    let (items, total) = if q.is_empty() && channel.is_none() {
        let (services, total) = state
            .app
            .published_services(&filter, per_page, offset)
            .await?;
        (services.into_iter().map(summary).collect(), total)
    } else {
        let filter = pishkhan_app::search::Filter {
            province: filter.province,
            agency: filter.agency,
            category: filter.category,
            channel: channel.map(|c| c.code().to_owned()),
            event: None,
        };
        let (entries, total) = if q.is_empty() {
            // A channel without words: every matching service, by title.
            let all = state.app.browse_services(&filter).await?;
            let total = all.len();
            let page: Vec<_> = all
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(usize::try_from(per_page).unwrap_or(0))
                .collect();
            (page, total)
        } else {
            // Words: the portal's ranked search, best first.
            let found = state
                .app
                .search_services(
                    &q,
                    &filter,
                    usize::try_from(offset).unwrap_or(usize::MAX),
                    usize::try_from(per_page).unwrap_or(0),
                )
                .await?;
            (found.hits, found.total)
        };
        (
            entries.iter().map(|e| indexed_summary(e)).collect(),
            i64::try_from(total).unwrap_or(i64::MAX),
        )
    };
    Ok(Json(ServicePage {
        total,
        page,
        per_page,
        items,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/services/{code}",
    operation_id = "getService",
    summary = "یک شناسنامهٔ خدمت",
    tag = "catalogue",
    params(("code" = String, Path, description = "The service's code")),
    responses(
        (status = 200, description = "The published card", body = ServiceDetail),
        (status = 404, description = "No published service has this code", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<ServiceDetail>, ApiError> {
    let lang = caller_language(&headers);
    let service = state.app.published_service(&code).await?.ok_or_else(|| {
        not_found(
            lang,
            "خدمتی با این کد منتشر نشده است.",
            "No published service has this code.",
        )
    })?;
    Ok(Json(ServiceDetail {
        version: service.version,
        updated_at: service.updated_at.to_rfc3339(),
        total_fee_rials: service.card.total_fee(),
        card: serde_json::to_value(&service.card)?,
    }))
}

fn not_found(lang: Language, fa: &str, en: &str) -> ApiError {
    ApiError::refused(
        StatusCode::NOT_FOUND,
        &Problem::new("not_found", fa, en),
        lang,
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/forms/{code}",
    operation_id = "getForm",
    summary = "یک فرم در قالب استاندارد",
    tag = "catalogue",
    params(("code" = String, Path, description = "The form's code"), FormQuery),
    responses(
        (status = 200, description = "The form's schema", body = FormDetail),
        (status = 400, description = "The version is not a number", body = ErrorBody),
        (status = 404, description = "No such form or version", body = ErrorBody),
    )
)]
pub async fn form(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    ApiQuery(query): ApiQuery<FormQuery>,
) -> Result<Json<FormDetail>, ApiError> {
    let lang = caller_language(&headers);
    let version = match query.version.as_deref() {
        None => None,
        Some(text) => Some(
            number(Some(text), 1, 1..=i64::from(u32::MAX)).ok_or_else(|| {
                bad(
                    "bad_version",
                    "نسخه عددی از ۱ است.",
                    "version is a number from 1.",
                    lang,
                )
            })?,
        ),
    };
    let (form, version) = state.app.form(&code, version).await?.ok_or_else(|| {
        not_found(
            lang,
            "فرمی با این کد و نسخه نیست.",
            "No form has this code and version.",
        )
    })?;
    Ok(Json(FormDetail {
        version,
        form: serde_json::to_value(&form)?,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/catalog.jsonld",
    operation_id = "catalogueJsonLd",
    summary = "کاتالوگ خدمات به زبان داده‌های پیوندی، در قالب استاندارد اروپایی خدمات عمومی",
    tag = "catalogue",
    responses(
        (status = 200, description = "The published catalogue as CPSV-AP 3.2.0 JSON-LD (extension terms under https://pishkhan.ir/ns/catalogue#)",
         content_type = "application/ld+json", body = Object),
    )
)]
pub async fn jsonld(State(state): State<WebState>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let origin = crate::page::site_origin(&state);
    let document = state.app.catalogue_jsonld(&origin).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/ld+json")],
        document.to_string(),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far; the last word may be unfinished.
    #[param(value_type = Option<String>)]
    q: Option<String>,
    /// A province's code: its services and the national ones.
    #[param(value_type = Option<String>, pattern = "^[a-z0-9-]{0,64}$")]
    province: Option<String>,
}

/// One suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub code: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// At most eight suggestions: enough for a list under a search box.
const SUGGESTIONS: usize = 8;

#[utoipa::path(
    get,
    path = "/api/v1/suggest",
    operation_id = "suggestServices",
    summary = "پیشنهاد خدمت هنگام نوشتن در جست‌وجو",
    tag = "catalogue",
    params(SuggestQuery),
    responses(
        (status = 200, description = "Service titles for what has been typed so far, best first", body = Suggestions),
        (status = 400, description = "The province code is not valid", body = ErrorBody),
    )
)]
pub async fn suggest(
    State(state): State<WebState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SuggestQuery>,
) -> Result<Json<Suggestions>, ApiError> {
    let q = query.q.unwrap_or_default();
    let province = query.province.filter(|p| !p.is_empty());
    if province.as_deref().is_some_and(|p| !is_plain_code(p)) {
        return Err(bad_code(caller_language(&headers)));
    }
    let filter = pishkhan_app::search::Filter {
        province,
        ..Default::default()
    };
    let items = state
        .app
        .suggest_services(&q, &filter, SUGGESTIONS)
        .await?
        .iter()
        .map(|e| Suggestion {
            code: e.code.clone(),
            title: e.title_fa.clone(),
        })
        .collect();
    Ok(Json(Suggestions { items }))
}
