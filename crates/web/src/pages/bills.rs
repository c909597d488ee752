//! Paying a bill at the counter (`/counter/bills`): the operator types (or scans) the bill ID
//! and payment ID, reads what the bill is and whether it is paid already, takes the money in
//! cash or by card, and prints the receipt (`/counter/payments/{number}`). The utility company's
//! clerks see what was paid for its bills (`/desk/bills`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use pishkhan_app::bills::BillToPay;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::records::PaymentRecord;
use pishkhan_domain::Rials;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::payment::Method;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::counter::{CentreOption, centres};
use crate::state::WebState;

/// A bill as the counter shows it before taking the money.
pub struct BillShown {
    pub service: String,
    pub payee: String,
    pub file_number: String,
    pub period: String,
    pub amount: String,
    pub bill_id: String,
    pub payment_id: String,
    /// Paid already: (when, payment number).
    pub paid: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "counter_bill.html")]
struct BillPage {
    page: PageContext,
    centres: Vec<CentreOption>,
    centre: String,
    bill_id: String,
    payment_id: String,
    shown: Option<BillShown>,
    /// This person takes money at this centre (an operator there); a manager reads only.
    can_take: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BillQuery {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    bill_id: String,
    #[serde(default)]
    payment_id: String,
}

pub(crate) fn money(page: &PageContext, rials: i64) -> String {
    page.digits(&Rials(rials).format_rials(page.lang))
}

fn when(page: &PageContext, millis: Option<i64>) -> String {
    millis
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|at| page.moment(&at))
        .unwrap_or_default()
}

/// The Jalali year a payment ID's last digit of the year means: the latest year up to this one
/// that ends in it.
fn full_year(digit: u8) -> i32 {
    let this_year = pishkhan_domain::JalaliDate::in_iran(Utc::now()).year();
    this_year - (this_year - i32::from(digit)).rem_euclid(10)
}

pub(crate) fn shown(page: &PageContext, bill: &BillToPay) -> BillShown {
    BillShown {
        service: bill.service.name_fa().to_owned(),
        payee: page.digits(&bill.payee_name),
        file_number: page.digits(&bill.file_number),
        period: page.digits(&format!("{} / {}", bill.period, full_year(bill.year_digit))),
        amount: money(page, bill.rials),
        bill_id: bill.bill_id.clone(),
        payment_id: bill.payment_id.clone(),
        paid: bill
            .paid
            .as_ref()
            .map(|p| (when(page, p.paid_at), p.number.clone())),
    }
}

/// The centre the form names, if this operator works there; else their first.
fn chosen(centres: &[CentreOption], asked: &str) -> String {
    centres
        .iter()
        .find(|c| c.code == asked)
        .or(centres.first())
        .map(|c| c.code.clone())
        .unwrap_or_default()
}

async fn bill_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    query: BillQuery,
    error: Option<PaymentError>,
) -> Result<Response, WebError> {
    let centres = centres(state, visitor).await?;
    let centre = chosen(&centres, &query.centre);
    // The bill stays in view after a refused payment (a method not chosen, a bad reference),
    // so the operator corrects only what was wrong.
    let read = if query.bill_id.trim().is_empty() {
        None
    } else {
        Some(
            state
                .app
                .read_bill(&centre, &query.bill_id, &query.payment_id)
                .await,
        )
    };
    let (shown_bill, message) = bill_and_message(&page, read, error)?;
    let status = if message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let can_take = staff(visitor)?
        .scopes_of(pishkhan_domain::identity::Role::Operator)
        .into_iter()
        .any(|s| *s == Scope::Centre(centre.clone()));
    with_status(
        status,
        &BillPage {
            page,
            can_take,
            centres,
            centre,
            bill_id: query.bill_id,
            payment_id: query.payment_id,
            shown: shown_bill,
            error: message,
        },
    )
}

/// The bill a form named, as shown, and what the page says first: the refusal of the step just
/// tried, else why the bill could not be read.
pub(crate) fn bill_and_message(
    page: &PageContext,
    read: Option<Result<BillToPay, PaymentError>>,
    error: Option<PaymentError>,
) -> Result<(Option<BillShown>, Option<String>), WebError> {
    let mut message = match error {
        Some(e) => Some(refusal_text(page, e)?),
        None => None,
    };
    let mut shown_bill = None;
    match read {
        Some(Ok(bill)) => shown_bill = Some(shown(page, &bill)),
        Some(Err(e)) if message.is_none() => message = Some(refusal_text(page, e)?),
        _ => {}
    }
    Ok((shown_bill, message))
}

/// What a refused payment, till or statement step tells the person on the page; not found and
/// the store's failures are answered as such.
pub(crate) fn refusal_text(page: &PageContext, error: PaymentError) -> Result<String, WebError> {
    match error {
        PaymentError::Refused(problem) => Ok(problem.message(page.lang).to_owned()),
        PaymentError::NotFound => Err(WebError::NotFound),
        PaymentError::Store(e) => Err(e.into()),
        PaymentError::Gateway(_) => Ok(page.t.string("pay-gateway-down")),
    }
}

/// `GET /counter/bills`: the form; with `bill_id` (and `payment_id`), what the bill is.
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<BillQuery>,
) -> Result<Response, WebError> {
    bill_page(&state, page, &visitor, query, None).await
}

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    bill_id: String,
    #[serde(default)]
    payment_id: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    reference: String,
}

/// `POST /counter/bills`: the operator took the bill's money; on to its receipt.
pub async fn pay(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::Form(form): axum::Form<PayForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let query = BillQuery {
        centre: form.centre.clone(),
        bill_id: form.bill_id.clone(),
        payment_id: form.payment_id.clone(),
    };
    let method = match Method::parse(&form.method) {
        Some(m @ (Method::Cash | Method::Card)) => m,
        _ => {
            let error = PaymentError::Refused(pishkhan_domain::Problem::new(
                "payment_bad_method",
                "روش دریافت را انتخاب کنید: نقدی یا کارت‌خوان.",
                "Choose how it was paid: cash or card.",
            ));
            return bill_page(&state, page, &visitor, query, Some(error)).await;
        }
    };
    match state
        .app
        .pay_bill_at_counter(
            principal,
            &visitor.client.ip,
            &form.centre,
            &form.bill_id,
            &form.payment_id,
            method,
            &form.reference,
            Utc::now(),
        )
        .await
    {
        Ok(payment) => Ok(redirect(&format!("/counter/payments/{}", payment.number))),
        Err(error) => bill_page(&state, page, &visitor, query, Some(error)).await,
    }
}

/// A payment as its receipt shows it.
pub struct ReceiptShown {
    pub number: String,
    pub title: String,
    pub bill: Option<(String, String)>,
    pub payee: String,
    pub amount: String,
    pub method: String,
    pub reference: Option<String>,
    pub paid: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "counter_receipt.html")]
pub(crate) struct ReceiptPage {
    pub page: PageContext,
    pub receipt: ReceiptShown,
    /// The centre that took it; none for a payment online.
    pub centre: Option<String>,
    /// Where "back" leads: (href, label key), and "pay another" ….
    pub links: Vec<(&'static str, &'static str)>,
    /// What the page says of the payment first, and whether it is good news.
    pub lead: (String, bool),
    /// The PDF's address, once it is paid.
    pub pdf: Option<String>,
}

pub(crate) fn state_name(page: &PageContext, state: &str) -> String {
    page.t.string(match state {
        "reversed" => "receipt-reversed",
        "pending" => "receipt-pending",
        "failed" => "receipt-failed",
        _ => "receipt-paid",
    })
}

/// A payment as its receipt shows it; `directory` names the payee (loaded once per page, not
/// once per payment: the company's list shows up to 500).
pub(crate) fn receipt_of(
    directory: &pishkhan_app::records::OrgDirectory,
    page: &PageContext,
    payment: &PaymentRecord,
) -> ReceiptShown {
    let payee = page.digits(&pishkhan_app::bills::payee_name(directory, &payment.payee));
    let title = pishkhan_app::payments::bill_of_payment(payment)
        .lines
        .iter()
        .map(|l| l.title.clone())
        .collect::<Vec<_>>()
        .join("، ");
    ReceiptShown {
        number: payment.number.clone(),
        title,
        bill: payment.bill_id.clone().zip(payment.payment_id.clone()),
        payee,
        amount: money(page, payment.rials),
        method: Method::parse(&payment.method)
            .map(|m| m.name_fa().to_owned())
            .unwrap_or_default(),
        reference: payment.reference.clone(),
        paid: when(page, payment.paid_at.or(Some(payment.created_at))),
        state: state_name(page, &payment.state),
    }
}

/// `GET /counter/payments/{number}`: the receipt of a payment taken at this person's centre.
pub async fn receipt(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let payment = match state.app.counter_payment(principal, &number).await {
        Ok(p) => p,
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    let directory = state.app.org_directory().await?;
    let centre = payment
        .centre
        .as_deref()
        .and_then(|c| directory.name_of(&Scope::Centre(c.to_owned())))
        .unwrap_or_default()
        .to_owned();
    let receipt = receipt_of(&directory, &page, &payment);
    let lead = (page.t.string("receipt-lead"), true);
    render(&ReceiptPage {
        pdf: Some(format!("/counter/payments/{}/pdf", receipt.number)),
        page,
        receipt,
        centre: Some(centre),
        links: vec![
            ("/counter/bills", "billpay-next"),
            ("/counter", "counter-back"),
        ],
        lead,
    })
}

/// One agency's bills paid through Pishkhan.
pub struct CompanyBills {
    pub agency: String,
    pub name: String,
    pub payments: Vec<ReceiptShown>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "desk_bills.html")]
struct CompanyPage {
    page: PageContext,
    companies: Vec<CompanyBills>,
}

/// `GET /desk/bills`: for each agency this clerk or admin works at, the bills paid to it.
pub async fn company(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let directory = state.app.org_directory().await?;
    let mut agencies: Vec<String> = [Role::AgencyClerk, Role::AgencyAdmin]
        .iter()
        .flat_map(|role| principal.scopes_of(*role))
        .filter_map(|s| match s {
            Scope::Agency { agency, .. } => Some(agency.clone()),
            _ => None,
        })
        .collect();
    agencies.sort();
    agencies.dedup();
    let mut companies = Vec::new();
    for agency in agencies {
        let paid = match state.app.bills_paid_to(principal, &agency).await {
            Ok(paid) => paid,
            Err(PaymentError::Store(e)) => return Err(e.into()),
            Err(_) => continue,
        };
        let total = paid
            .iter()
            .filter(|p| p.state != "reversed")
            .fold(0i64, |t, p| t.saturating_add(p.rials));
        let mut payments = Vec::with_capacity(paid.len());
        for p in &paid {
            payments.push(receipt_of(&directory, &page, p));
        }
        companies.push(CompanyBills {
            name: directory
                .agency(&agency)
                .map(|a| a.name_fa.clone())
                .unwrap_or_else(|| agency.clone()),
            agency,
            payments,
            total: money(&page, total),
        });
    }
    render(&CompanyPage { page, companies })
}

/// `GET /counter/payments/{number}/pdf`: the receipt to print and hand over.
pub async fn receipt_pdf(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    receipt_pdf_reply(
        state.app.counter_payment_pdf(principal, &number).await,
        &number,
    )
}

/// A payment's receipt PDF as a download; a payment this person may not see is not found.
pub(crate) fn receipt_pdf_reply(
    pdf: Result<Vec<u8>, PaymentError>,
    number: &str,
) -> Result<Response, WebError> {
    match pdf {
        Ok(pdf) => Ok(crate::pages::statement::download(
            pdf,
            "application/pdf",
            &format!("{number}.pdf"),
        )),
        Err(PaymentError::Store(e)) => Err(e.into()),
        Err(_) => Err(WebError::NotFound),
    }
}
