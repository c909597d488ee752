//! A centre's monthly statement of its shares (`/counter/statement`), for its manager: on the
//! page, as PDF (`/counter/statement/pdf`) and as XLSX (`/counter/statement/xlsx`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::statements::{CentreStatement, parse_month, statement_xlsx};
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::{JalaliDate, Rials};
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, with_status};
use crate::pages::counter::CentreOption;
use crate::state::WebState;

/// One share as the page shows it.
pub struct ShareShown {
    pub at: String,
    pub memo: String,
    pub reference: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "counter_statement.html")]
struct StatementPage {
    page: PageContext,
    centres: Vec<CentreOption>,
    centre: String,
    /// `1405/09`, for the links and the form.
    month: String,
    month_shown: String,
    shares: Vec<ShareShown>,
    total: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct StatementQuery {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    month: String,
}

/// The centres this person manages, and the one asked for (else the first).
async fn managed(
    state: &WebState,
    visitor: &Visitor,
    asked: &str,
) -> Result<(Vec<CentreOption>, String), WebError> {
    let directory = state.app.org_directory().await?;
    let mut codes: Vec<String> = staff(visitor)?
        .scopes_of(Role::CentreManager)
        .into_iter()
        .filter_map(|s| match s {
            Scope::Centre(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    codes.sort();
    codes.dedup();
    let centres: Vec<CentreOption> = codes
        .into_iter()
        .map(|code| CentreOption {
            name: directory
                .name_of(&Scope::Centre(code.clone()))
                .unwrap_or(&code)
                .to_owned(),
            code,
        })
        .collect();
    let centre = centres
        .iter()
        .find(|c| c.code == asked)
        .or(centres.first())
        .map(|c| c.code.clone())
        .unwrap_or_default();
    Ok((centres, centre))
}

fn this_month() -> JalaliDate {
    let today = JalaliDate::in_iran(Utc::now());
    JalaliDate::new(today.year(), today.month(), 1).unwrap_or(today)
}

async fn statement_of(
    state: &WebState,
    visitor: &Visitor,
    query: &StatementQuery,
) -> Result<
    (
        Vec<CentreOption>,
        String,
        Result<CentreStatement, PaymentError>,
    ),
    WebError,
> {
    let (centres, centre) = managed(state, visitor, &query.centre).await?;
    let month = if query.month.trim().is_empty() {
        Ok(this_month())
    } else {
        parse_month(&query.month)
    };
    let statement = match month {
        Ok(month) => {
            state
                .app
                .centre_statement(staff(visitor)?, &centre, month)
                .await
        }
        Err(e) => Err(e),
    };
    Ok((centres, centre, statement))
}

fn month_key(month: JalaliDate) -> String {
    format!("{:04}/{:02}", month.year(), month.month())
}

/// `GET /counter/statement`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let (centres, centre, statement) = statement_of(&state, &visitor, &query).await?;
    let money = |r: i64| page.digits(&Rials(r).format_rials(page.lang));
    let (month, month_shown, shares, total, error) = match statement {
        Ok(s) => (
            month_key(s.month),
            s.month_fa(),
            s.lines
                .iter()
                .map(|l| ShareShown {
                    at: page.moment(&l.at),
                    memo: page.digits(&l.memo),
                    reference: l.reference.clone(),
                    amount: money(l.rials),
                })
                .collect(),
            money(s.total),
            None,
        ),
        Err(PaymentError::Refused(problem)) => (
            month_key(this_month()),
            String::new(),
            Vec::new(),
            money(0),
            Some(problem.message(page.lang).to_owned()),
        ),
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    with_status(
        status,
        &StatementPage {
            page,
            centres,
            centre,
            month,
            month_shown,
            shares,
            total,
            error,
        },
    )
}

/// A file to save (not to show): its type, its name, never cached.
pub(crate) fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn statement_or_404(
    state: &WebState,
    visitor: &Visitor,
    query: &StatementQuery,
) -> Result<CentreStatement, WebError> {
    match statement_of(state, visitor, query).await?.2 {
        Ok(s) => Ok(s),
        Err(PaymentError::Store(e)) => Err(e.into()),
        Err(_) => Err(WebError::NotFound),
    }
}

fn file_name(s: &CentreStatement, extension: &str) -> String {
    format!(
        "statement-{}-{:04}-{:02}.{extension}",
        s.centre,
        s.month.year(),
        s.month.month()
    )
}

/// `GET /counter/statement/pdf`
pub async fn pdf(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let statement = statement_or_404(&state, &visitor, &query).await?;
    let bytes = match state.app.statement_pdf(&statement).await {
        Ok(bytes) => bytes,
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    Ok(download(
        bytes,
        "application/pdf",
        &file_name(&statement, "pdf"),
    ))
}

/// `GET /counter/statement/xlsx`
pub async fn xlsx(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let statement = statement_or_404(&state, &visitor, &query).await?;
    let bytes = match statement_xlsx(&statement) {
        Ok(bytes) => bytes,
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &file_name(&statement, "xlsx"),
    ))
}
