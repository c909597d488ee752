//! The calendar API: deadlines in business days, and the holiday table in use.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use pishkhan_domain::id::Problem;
use pishkhan_domain::{JalaliDate, Language};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiProblem, ApiQuery, ErrorBody, caller_language};
use crate::state::WebState;

/// The most business days one request may count forward (about fifteen years).
const MAX_DAYS: u32 = 4000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BusinessDaysQuery {
    /// Jalali start date, `1404-01-01` or `1404/01/01`. Also accepted beyond the pattern: Persian
    /// digits, and days 30 and 31 in the months that have them.
    #[param(required = true, value_type = String, example = "1404-01-01",
        pattern = r"^1[0-9]{3}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|1[0-9]|2[0-9])$")]
    start: Option<String>,
    /// How many business days later (0 to 4000; 0 gives the first business day on or after start).
    #[param(required = true, value_type = u32, minimum = 0, maximum = 4000, example = 10)]
    days: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayOff {
    pub date: String,
    /// `friday` or `holiday`.
    pub reason: String,
    /// The occasions, for a holiday.
    pub names_fa: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessDaysResponse {
    pub start: String,
    pub days: u32,
    /// The Jalali date `days` business days after `start`.
    pub date: String,
    pub date_long_fa: String,
    pub gregorian: String,
    pub weekday_fa: String,
    /// Fridays and holidays passed over on the way.
    pub skipped: Vec<DayOff>,
    /// For example, a year whose holiday list is not complete in the table.
    pub warnings: Vec<ApiProblem>,
}

fn invalid(code: &'static str, fa: &str, en: &str, lang: Language) -> ApiError {
    ApiError::bad_request(&Problem::new(code, fa, en), lang)
}

#[utoipa::path(
    get,
    path = "/api/v1/calendar/business-days",
    operation_id = "businessDays",
    summary = "شمار روزهای کاری میان دو تاریخ",
    tag = "calendar",
    params(BusinessDaysQuery),
    responses(
        (status = 200, description = "The date, with the days off skipped", body = BusinessDaysResponse),
        (status = 400, description = "A missing or wrong parameter", body = ErrorBody),
    )
)]
pub async fn business_days(
    State(state): State<WebState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<BusinessDaysQuery>,
) -> Result<Json<BusinessDaysResponse>, ApiError> {
    let lang = caller_language(&headers);
    let start = query.start.as_deref().unwrap_or("");
    let start = JalaliDate::parse(start).map_err(|e| ApiError::bad_request(&e, lang))?;
    let days_text =
        pishkhan_domain::text::to_ascii_digits(query.days.as_deref().unwrap_or("").trim());
    let days: u32 = days_text
        .parse()
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| {
            invalid(
                "days_out_of_range",
                "days باید عددی صحیح از ۰ تا ۴۰۰۰ باشد.",
                "days must be a whole number from 0 to 4000.",
                lang,
            )
        })?;
    let calendar = state.app.holiday_calendar().await?;
    let date = calendar.add_business_days(start, days);
    let mut skipped = Vec::new();
    let mut day = start;
    while day < date {
        day = day.add_days(1);
        if !calendar.is_business_day(day) {
            let names_fa: Vec<String> = calendar
                .holidays_on(day)
                .iter()
                .map(|h| h.name_fa.clone())
                .collect();
            skipped.push(DayOff {
                date: day.format_numeric(),
                reason: if names_fa.is_empty() {
                    "friday"
                } else {
                    "holiday"
                }
                .to_owned(),
                names_fa,
            });
        }
    }
    let warnings = calendar
        .uncovered_years(start, date)
        .into_iter()
        .map(|year| {
            let year_fa = pishkhan_domain::text::to_persian_digits(&year.to_string());
            ApiProblem::new(
                &Problem::new(
                    "holidays_incomplete",
                    format!("فهرست تعطیلات رسمی سال {year_fa} در پیشخوان کامل نیست؛ جمعه‌ها و تعطیلات ثبت‌شده کنار گذاشته شده‌اند."),
                    format!("The official holiday list for {year} is not complete in Pishkhan; Fridays and the holidays on record were skipped."),
                ),
                lang,
            )
        })
        .collect();
    Ok(Json(BusinessDaysResponse {
        start: start.format_numeric(),
        days,
        date: date.format_numeric(),
        date_long_fa: date.format_long_fa(),
        gregorian: date.format_gregorian_iso(),
        weekday_fa: date.weekday().name_fa().to_owned(),
        skipped,
        warnings,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolidaysQuery {
    /// Jalali year, such as 1404.
    #[param(required = true, value_type = i32, minimum = 1000, maximum = 1999, example = 1404)]
    year: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayEntry {
    pub date: String,
    pub gregorian: String,
    pub weekday_fa: String,
    /// `solar` (fixed date) or `lunar` (moves every year).
    pub kind: String,
    pub name_fa: String,
    pub name_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidaysResponse {
    pub year: i32,
    /// Whether the year's whole list is in the table.
    pub covered: bool,
    /// Where the list came from (`seed`, or the imported file).
    pub source: Option<String>,
    pub holidays: Vec<HolidayEntry>,
}

#[utoipa::path(
    get,
    path = "/api/v1/calendar/holidays",
    operation_id = "listHolidays",
    summary = "تعطیلات رسمی یک سال",
    tag = "calendar",
    params(HolidaysQuery),
    responses(
        (status = 200, description = "The year's holidays in the table in use", body = HolidaysResponse),
        (status = 400, description = "A missing or wrong year", body = ErrorBody),
    )
)]
pub async fn holidays(
    State(state): State<WebState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<HolidaysQuery>,
) -> Result<Json<HolidaysResponse>, ApiError> {
    let lang = caller_language(&headers);
    let year: i32 = query
        .year
        .as_deref()
        .map(|y| pishkhan_domain::text::to_ascii_digits(y.trim()))
        .and_then(|y| y.parse().ok())
        .filter(|y| pishkhan_domain::jalali::YEARS.contains(y))
        .ok_or_else(|| {
            invalid(
                "year_out_of_range",
                "year باید سالی چهار رقمی بین ۱۰۰۰ تا ۱۹۹۹ باشد، مانند ۱۴۰۴.",
                "year must be a four-digit year from 1000 to 1999, such as 1404.",
                lang,
            )
        })?;
    let calendar = state.app.holiday_calendar().await?;
    let record = state
        .app
        .holiday_years()
        .await?
        .into_iter()
        .find(|r| r.year == year);
    let holidays = calendar
        .holidays_in(year)
        .map(|h| HolidayEntry {
            date: h.date.format_numeric(),
            gregorian: h.date.format_gregorian_iso(),
            weekday_fa: h.date.weekday().name_fa().to_owned(),
            kind: h.kind.code().to_owned(),
            name_fa: h.name_fa.clone(),
            name_en: h.name_en.clone(),
        })
        .collect();
    Ok(Json(HolidaysResponse {
        year,
        covered: calendar.covers(year),
        source: record.map(|r| r.source),
        holidays,
    }))
}
