//! A payment as the agency it was paid to sees it (`/desk/payments/{number}`): what, how much,
//! how it was paid, what was given back so far; its admin refunds part or all of an online
//! payment there, with a reason (`POST /desk/payments/{number}/refund`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::refunds::AgencyPayment;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, with_status};
use crate::pages::bills::{ReceiptShown, money, receipt_of, refusal_text};
use crate::state::WebState;

#[derive(Template)]
#[template(path = "desk_payment.html")]
struct PaymentPage {
    page: PageContext,
    receipt: ReceiptShown,
    application: Option<String>,
    refunded: String,
    left: String,
    may_refund: bool,
    /// Why online payments taken at a counter are not refunded here, when it is one.
    at_counter: bool,
    error: Option<String>,
    done: bool,
    amount: String,
    reason: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RefundForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

async fn payment_page(
    state: &WebState,
    page: PageContext,
    seen: AgencyPayment,
    form: RefundForm,
    error: Option<String>,
    done: bool,
) -> Result<Response, WebError> {
    let directory = state.app.org_directory().await?;
    let receipt = receipt_of(&directory, &page, &seen.payment);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = PaymentPage {
        application: seen.payment.application.clone(),
        refunded: money(&page, seen.refunded),
        left: money(&page, seen.refundable.saturating_sub(seen.refunded).max(0)),
        may_refund: seen.may_refund,
        at_counter: seen.payment.method != "online",
        receipt,
        error,
        done,
        amount: form.amount,
        reason: form.reason,
        page,
    };
    with_status(status, &view)
}

/// `GET /desk/payments/{number}`: a payment made to this clerk's or admin's agency.
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let seen = match state.app.agency_payment(principal, &number).await {
        Ok(seen) => seen,
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    let done = done.done.is_some();
    payment_page(&state, page, seen, RefundForm::default(), None, done).await
}

/// `POST /desk/payments/{number}/refund`: the agency's admin gives back part or all of it.
pub async fn refund(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
    axum::Form(form): axum::Form<RefundForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    match state
        .app
        .refund_payment(
            principal,
            &visitor.client.ip,
            &number,
            &form.amount,
            &form.reason,
            Utc::now(),
        )
        .await
    {
        Ok(_) => Ok(redirect(&format!("/desk/payments/{number}?done=1"))),
        Err(error) => {
            let message = refusal_text(&page, error)?;
            let seen = match state.app.agency_payment(principal, &number).await {
                Ok(seen) => seen,
                Err(PaymentError::Store(e)) => return Err(e.into()),
                Err(_) => return Err(WebError::NotFound),
            };
            payment_page(&state, page, seen, form, Some(message), false).await
        }
    }
}
