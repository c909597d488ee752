//! Paying an application's fee bill from its page: online for the applicant (to the bank's page
//! and back through `/payments/callback`), in cash or by card at the counter of the centre that
//! filed it. The page shows the bill's lines, what happened to the last attempt, and the way to
//! pay that this person has.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::records::ApplicationRecord;
use pishkhan_domain::Rials;
use pishkhan_domain::payment::Method;

use crate::auth::{Visitor, redirect};
use crate::error::WebError;
use crate::page::{PageContext, with_status};
use crate::pages::mine::{Side, page_of};
use crate::state::WebState;

/// One line of the bill as the page shows it.
pub struct BillLineView {
    pub title: String,
    pub amount: String,
    pub basis: Option<String>,
}

/// What an application owes at its paying state.
pub struct BillView {
    pub lines: Vec<BillLineView>,
    pub total: String,
    /// An online payment was started and the bank has not said yet.
    pub pending: bool,
    /// Why the last attempt did not pay, as the person reads it.
    pub last_refusal: Option<String>,
    /// Online payment is set up here.
    pub online: bool,
}

impl BillView {
    /// The bill of `record`, if it owes one now.
    pub async fn of(
        state: &WebState,
        record: &ApplicationRecord,
        page: &PageContext,
    ) -> Result<Option<BillView>, WebError> {
        let Some(owed) = state.app.owed_bill(record).await? else {
            return Ok(None);
        };
        let money = |rials: i64| page.digits(&Rials(rials).format_rials(page.lang));
        let last = owed.payments.last();
        Ok(Some(BillView {
            lines: owed
                .bill
                .lines
                .iter()
                .map(|l| BillLineView {
                    title: l.title.clone(),
                    amount: money(l.rials),
                    basis: l.legal_basis.clone(),
                })
                .collect(),
            total: money(owed.bill.total()),
            pending: last.is_some_and(|p| p.state == "pending"),
            last_refusal: last
                .filter(|p| p.state == "failed")
                .and_then(|p| p.note.clone()),
            online: state.app.pays_online(),
        }))
    }
}

/// The notice for `?payment=NUMBER` on an application's page: what became of that payment of
/// this application (another application's payment says nothing).
pub async fn payment_notice(
    state: &WebState,
    code: &str,
    number: &str,
    page: &PageContext,
) -> Result<Option<String>, WebError> {
    let Some(payment) = state.app.payment_of_application(code, number).await? else {
        return Ok(None);
    };
    Ok(Some(
        what_became_of(page, &payment, "pay-done", "pay-waiting").0,
    ))
}

/// What became of an online payment, as its person reads it, and whether it is good news:
/// paid (the `done` message, the amount, the bank's reference), waiting for the bank (`waiting`),
/// or why it did not pay.
pub(crate) fn what_became_of(
    page: &PageContext,
    payment: &pishkhan_app::records::PaymentRecord,
    done: &str,
    waiting: &str,
) -> (String, bool) {
    let amount = page.digits(&Rials(payment.rials).format_rials(page.lang));
    match payment.state.as_str() {
        "paid" | "settled" => {
            let mut text = format!("{} {amount}.", page.t.get(done));
            if let Some(reference) = &payment.reference {
                text.push_str(&format!(
                    " {} {}",
                    page.t.get("pay-reference"),
                    page.digits(reference)
                ));
            }
            (text, true)
        }
        "pending" => (page.t.string(waiting), false),
        _ => (
            payment
                .note
                .clone()
                .unwrap_or_else(|| page.t.string("pay-failed")),
            false,
        ),
    }
}

/// A page with the pay form may send its form on to the gateway: `form-action` names the
/// gateway's origin besides this one (browsers apply it to the redirect to the bank's page).
pub fn allowing_gateway(
    state: &WebState,
    response: Result<Response, WebError>,
) -> Result<Response, WebError> {
    let mut response = response?;
    if let Some(settings) = &state.app.config().payment {
        // scheme://host[:port], without any path (the setting is checked to be http(s)).
        let origin = match settings.url.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
            None => String::new(),
        };
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self' {origin}; \
             frame-ancestors 'none'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

/// A refusal shown on the application's page, in the visitor's language; a missing
/// application is 404, the bank not answering is said as such (503).
async fn refused_on_page(
    state: &WebState,
    page: PageContext,
    side: Side,
    visitor: &Visitor,
    code: &str,
    error: PaymentError,
) -> Result<Response, WebError> {
    let principal = side.principal(visitor)?;
    let (status, message) = match error {
        PaymentError::NotFound => return Err(WebError::NotFound),
        PaymentError::Store(e) => return Err(e.into()),
        PaymentError::Refused(problem) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            problem.message(page.lang).to_owned(),
        ),
        PaymentError::Gateway(why) => {
            tracing::warn!(error = %why, "the payment gateway did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                page.t.string("pay-gateway-down"),
            )
        }
    };
    let view = page_of(
        state,
        page,
        side,
        principal,
        code,
        Some(message),
        String::new(),
        None,
    )
    .await?;
    allowing_gateway(state, with_status(status, &view))
}

/// `POST /me/applications/{code}/pay`: to the bank's page for this bill.
pub async fn pay(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let principal = Side::Citizen.principal(&visitor)?;
    match state
        .app
        .start_online_payment(principal, &visitor.client.ip, &code, Utc::now())
        .await
    {
        Ok(bank_page) => Ok(redirect(&bank_page)),
        Err(error) => refused_on_page(&state, page, Side::Citizen, &visitor, &code, error).await,
    }
}

#[derive(serde::Deserialize)]
pub struct CounterPayForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    reference: String,
}

/// `POST /counter/applications/{code}/pay`: the operator took the bill in cash or by card.
pub async fn counter_pay(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<CounterPayForm>,
) -> Result<Response, WebError> {
    let principal = Side::Counter.principal(&visitor)?;
    let method = match Method::parse(&form.method) {
        Some(m @ (Method::Cash | Method::Card)) => m,
        _ => {
            let error = PaymentError::Refused(pishkhan_domain::Problem::new(
                "payment_bad_method",
                "روش دریافت را انتخاب کنید: نقدی یا کارت‌خوان.",
                "Choose how it was paid: cash or card.",
            ));
            return refused_on_page(&state, page, Side::Counter, &visitor, &code, error).await;
        }
    };
    match state
        .app
        .pay_at_counter(
            principal,
            &visitor.client.ip,
            &code,
            method,
            &form.reference,
            Utc::now(),
        )
        .await
    {
        Ok(payment) => Ok(redirect(&format!(
            "{}/{code}?payment={}",
            Side::Counter.base(),
            payment.number
        ))),
        Err(error) => refused_on_page(&state, page, Side::Counter, &visitor, &code, error).await,
    }
}

#[derive(serde::Deserialize)]
pub struct Callback {
    #[serde(default)]
    token: String,
}

/// `POST /payments/callback`: the bank's page sends the person back here with a form. Only its
/// token is read; what was paid is asked of the bank itself. Then on to the application's page,
/// which says what became of the payment (a bill: to its receipt).
pub async fn callback(
    State(state): State<WebState>,
    page: PageContext,
    axum::Form(form): axum::Form<Callback>,
) -> Result<Response, WebError> {
    match state.app.payment_returned(&form.token, Utc::now()).await {
        Ok((payment, _)) if payment.purpose == "bill" => {
            Ok(redirect(&format!("/me/bills/{}", payment.number)))
        }
        Ok((payment, _)) => {
            let code = payment.application.unwrap_or_default();
            Ok(redirect(&format!(
                "/me/applications/{code}?payment={}",
                payment.number
            )))
        }
        Err(PaymentError::NotFound) => Err(WebError::NotFound),
        Err(PaymentError::Store(e)) => Err(e.into()),
        Err(PaymentError::Refused(problem)) => {
            let text = problem.message(page.lang).to_owned();
            Ok(crate::pages::errors::message_page(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &text,
            ))
        }
        Err(PaymentError::Gateway(why)) => {
            tracing::warn!(error = %why, "the payment gateway did not answer a callback");
            let text = page.t.string("pay-gateway-later");
            Ok(crate::pages::errors::message_page(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                &text,
            ))
        }
    }
}
