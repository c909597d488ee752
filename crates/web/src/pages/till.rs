//! The counter's day (`/counter/till`): an operator sees what they took today by method and
//! closes their till with what they counted; the centre's manager sees every till, approves a
//! difference and closes the centre's day.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use pishkhan_app::payments::PaymentError;
use pishkhan_app::records::TillCloseRecord;
use pishkhan_app::tills::{CentreDay, TillDay};
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::payment::Method;
use pishkhan_domain::{JalaliDate, Rials};
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, with_status};
use crate::pages::bills::refusal_text;
use crate::pages::counter::{CentreOption, centres};
use crate::state::WebState;

/// One payment taken, as the till's list shows it.
pub struct TakingShown {
    pub number: String,
    pub at: String,
    pub what: String,
    pub method: String,
    pub amount: String,
}

/// A close as shown: counted against expected, the difference and its state.
pub struct CloseShown {
    pub operator: String,
    /// The operator's actor id, for the approve form.
    pub operator_id: String,
    pub expected_cash: String,
    pub counted_cash: String,
    pub expected_card: String,
    pub counted_card: String,
    pub difference: String,
    pub has_difference: bool,
    pub explanation: String,
    pub state: String,
    pub awaiting: bool,
}

/// The operator's own till.
pub struct OwnTill {
    pub takings: Vec<TakingShown>,
    pub expected_cash: String,
    pub expected_card: String,
    pub close: Option<CloseShown>,
}

/// The centre's day, for its manager.
pub struct CentreShown {
    pub tills: Vec<CloseShown>,
    /// Closed: (cash, card, difference, when).
    pub closed: Option<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "counter_till.html")]
struct TillPage {
    page: PageContext,
    centres: Vec<CentreOption>,
    centre: String,
    /// `1405/09/13`, for the forms; and as people read it.
    day: String,
    day_shown: String,
    own: Option<OwnTill>,
    manager: Option<CentreShown>,
    counted_cash: String,
    counted_card: String,
    explanation: String,
    error: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TillQuery {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    done: String,
}

fn money(page: &PageContext, rials: i64) -> String {
    page.digits(&Rials(rials).format_rials(page.lang))
}

/// A difference with its direction: short (money missing) or over.
fn difference(page: &PageContext, rials: i64) -> String {
    match rials {
        0 => money(page, 0),
        d if d < 0 => format!(
            "{} {}",
            page.t.get("till-short"),
            money(page, d.saturating_neg())
        ),
        d => format!("{} {}", page.t.get("till-over"), money(page, d)),
    }
}

fn state_name(page: &PageContext, state: &str) -> String {
    page.t.string(match state {
        "awaiting" => "till-state-awaiting",
        "approved" => "till-state-approved",
        "closed" => "till-state-closed",
        _ => "till-state-open",
    })
}

fn close_shown(
    page: &PageContext,
    operator: String,
    operator_id: String,
    expected_cash: i64,
    expected_card: i64,
    close: Option<&TillCloseRecord>,
) -> CloseShown {
    let counted = |f: fn(&TillCloseRecord) -> i64| {
        close
            .map(|c| money(page, f(c)))
            .unwrap_or_else(|| "—".into())
    };
    CloseShown {
        operator,
        operator_id,
        expected_cash: money(page, expected_cash),
        counted_cash: counted(|c| c.counted_cash),
        expected_card: money(page, expected_card),
        counted_card: counted(|c| c.counted_card),
        difference: close
            .map(|c| difference(page, c.difference))
            .unwrap_or_else(|| "—".into()),
        has_difference: close.is_some_and(|c| {
            c.counted_cash != c.expected_cash || c.counted_card != c.expected_card
        }),
        explanation: close
            .and_then(|c| c.explanation.clone())
            .unwrap_or_default(),
        state: state_name(page, close.map_or("open", |c| c.state.as_str())),
        awaiting: close.is_some_and(|c| c.state == "awaiting"),
    }
}

fn own_till(page: &PageContext, till: &TillDay) -> OwnTill {
    OwnTill {
        takings: till
            .takings
            .iter()
            .map(|p| TakingShown {
                number: p.number.clone(),
                at: p
                    .paid_at
                    .and_then(DateTime::<Utc>::from_timestamp_millis)
                    .map(|at| page.moment(&at))
                    .unwrap_or_default(),
                what: match (&p.application, &p.bill_id) {
                    (Some(code), _) => {
                        format!("{} {}", page.t.get("till-fee-of"), page.digits(code))
                    }
                    (_, Some(bill)) => {
                        format!("{} {}", page.t.get("till-bill-of"), page.digits(bill))
                    }
                    _ => String::new(),
                },
                method: Method::parse(&p.method)
                    .map(|m| m.name_fa().to_owned())
                    .unwrap_or_default(),
                amount: money(page, p.rials),
            })
            .collect(),
        expected_cash: money(page, till.expected_cash),
        expected_card: money(page, till.expected_card),
        close: till.close.as_ref().map(|c| {
            close_shown(
                page,
                String::new(),
                till.operator.clone(),
                till.expected_cash,
                till.expected_card,
                Some(c),
            )
        }),
    }
}

async fn centre_shown(
    state: &WebState,
    page: &PageContext,
    day: &CentreDay,
) -> Result<CentreShown, WebError> {
    let mut tills = Vec::with_capacity(day.tills.len());
    for t in &day.tills {
        let name = state.app.operator_name(&t.operator).await?;
        tills.push(close_shown(
            page,
            name,
            t.operator.clone(),
            t.expected_cash,
            t.expected_card,
            t.close.as_ref(),
        ));
    }
    Ok(CentreShown {
        tills,
        closed: day.closed.as_ref().map(|c| {
            (
                money(page, c.cash),
                money(page, c.card),
                difference(page, c.difference),
                DateTime::<Utc>::from_timestamp_millis(c.closed_at)
                    .map(|at| page.moment(&at))
                    .unwrap_or_default(),
            )
        }),
    })
}

/// The values the close form keeps when it is refused.
#[derive(Default)]
struct Kept {
    counted_cash: String,
    counted_card: String,
    explanation: String,
}

fn parse_day(day: &str, now: DateTime<Utc>) -> Result<JalaliDate, PaymentError> {
    if day.trim().is_empty() {
        return Ok(JalaliDate::in_iran(now));
    }
    JalaliDate::parse(day).map_err(PaymentError::Refused)
}

async fn till_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    query: TillQuery,
    kept: Kept,
    error: Option<PaymentError>,
) -> Result<Response, WebError> {
    let principal = staff(visitor)?;
    let centres = centres(state, visitor).await?;
    let centre = centres
        .iter()
        .find(|c| c.code == query.centre)
        .or(centres.first())
        .map(|c| c.code.clone())
        .unwrap_or_default();
    let mut message = match error {
        Some(e) => Some(refusal_text(&page, e)?),
        None => None,
    };
    let day = match parse_day(&query.day, Utc::now()) {
        Ok(day) => day,
        Err(e) => {
            message = Some(refusal_text(&page, e)?);
            JalaliDate::in_iran(Utc::now())
        }
    };
    let holds = |role: Role| {
        principal
            .scopes_of(role)
            .into_iter()
            .any(|s| *s == Scope::Centre(centre.clone()))
    };
    let own = if holds(Role::Operator) {
        Some(own_till(
            &page,
            &state
                .app
                .till_day(principal, &centre, day)
                .await
                .map_err(web)?,
        ))
    } else {
        None
    };
    let manager = if holds(Role::CentreManager) {
        let day = state
            .app
            .centre_day(principal, &centre, day)
            .await
            .map_err(web)?;
        Some(centre_shown(state, &page, &day).await?)
    } else {
        None
    };
    let done = match query.done.as_str() {
        "closed" => Some(page.t.string("till-done-closed")),
        "approved" => Some(page.t.string("till-done-approved")),
        "day" => Some(page.t.string("till-done-day")),
        _ => None,
    };
    let status = if message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    with_status(
        status,
        &TillPage {
            day: day.format_numeric(),
            day_shown: page.long_date(&day),
            page,
            centres,
            centre,
            own,
            manager,
            counted_cash: kept.counted_cash,
            counted_card: kept.counted_card,
            explanation: kept.explanation,
            error: message,
            done,
        },
    )
}

fn web(error: PaymentError) -> WebError {
    match error {
        PaymentError::Store(e) => e.into(),
        _ => WebError::NotFound,
    }
}

/// `GET /counter/till`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<TillQuery>,
) -> Result<Response, WebError> {
    till_page(&state, page, &visitor, query, Kept::default(), None).await
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    counted_cash: String,
    #[serde(default)]
    counted_card: String,
    #[serde(default)]
    explanation: String,
}

fn back(centre: &str, day: &str, done: &str) -> Response {
    let query = serde_urlencoded::to_string([("centre", centre), ("day", day), ("done", done)])
        .unwrap_or_default();
    redirect(&format!("/counter/till?{query}"))
}

/// `POST /counter/till`: the operator closes their till with what they counted.
pub async fn close(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::Form(form): axum::Form<CloseForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let query = TillQuery {
        centre: form.centre.clone(),
        day: form.day.clone(),
        done: String::new(),
    };
    let kept = Kept {
        counted_cash: form.counted_cash.clone(),
        counted_card: form.counted_card.clone(),
        explanation: form.explanation.clone(),
    };
    let now = Utc::now();
    let parsed = parse_day(&form.day, now).and_then(|day| {
        let amount = |typed: &str| {
            Rials::parse(typed)
                .map(|r| r.0)
                .map_err(PaymentError::Refused)
        };
        Ok((
            day,
            amount(&form.counted_cash)?,
            amount(&form.counted_card)?,
        ))
    });
    let (day, cash, card) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return till_page(&state, page, &visitor, query, kept, Some(e)).await,
    };
    match state
        .app
        .close_till(
            principal,
            &visitor.client.ip,
            &form.centre,
            day,
            cash,
            card,
            &form.explanation,
            now,
        )
        .await
    {
        Ok(_) => Ok(back(&form.centre, &day.format_numeric(), "closed")),
        Err(e) => till_page(&state, page, &visitor, query, kept, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct ManagerForm {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    operator: String,
}

/// `POST /counter/till/approve`: the manager approves a till's difference.
pub async fn approve(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::Form(form): axum::Form<ManagerForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let query = TillQuery {
        centre: form.centre.clone(),
        day: form.day.clone(),
        done: String::new(),
    };
    let now = Utc::now();
    let result = match parse_day(&form.day, now) {
        Ok(day) => state
            .app
            .approve_till_close(
                principal,
                &visitor.client.ip,
                &form.centre,
                &form.operator,
                day,
                now,
            )
            .await
            .map(|()| day),
        Err(e) => Err(e),
    };
    match result {
        Ok(day) => Ok(back(&form.centre, &day.format_numeric(), "approved")),
        Err(e) => till_page(&state, page, &visitor, query, Kept::default(), Some(e)).await,
    }
}

/// `POST /counter/till/day`: the manager closes the centre's day.
pub async fn close_day(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::Form(form): axum::Form<ManagerForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let query = TillQuery {
        centre: form.centre.clone(),
        day: form.day.clone(),
        done: String::new(),
    };
    let now = Utc::now();
    let result = match parse_day(&form.day, now) {
        Ok(day) => state
            .app
            .close_centre_day(principal, &visitor.client.ip, &form.centre, day, now)
            .await
            .map(|_| day),
        Err(e) => Err(e),
    };
    match result {
        Ok(day) => Ok(back(&form.centre, &day.format_numeric(), "day")),
        Err(e) => till_page(&state, page, &visitor, query, Kept::default(), Some(e)).await,
    }
}
