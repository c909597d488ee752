//! A citizen pays a utility or fine bill online (`/me/bills`): types (or pastes the barcode of)
//! the bill, reads what it is and whether it is paid already, goes to the bank's page, and comes
//! back through `/payments/callback` to the payment's receipt (`/me/bills/{number}`), with a PDF
//! once it is paid. The bills this person paid are listed on the same page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::payments::PaymentError;
use serde::Deserialize;

use crate::auth::{Visitor, redirect};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::bills::{BillShown, ReceiptPage, ReceiptShown, bill_and_message, receipt_of};
use crate::pages::mine::Side;
use crate::pages::pay::allowing_gateway;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "me_bills.html")]
struct MyBillsPage {
    page: PageContext,
    bill_id: String,
    payment_id: String,
    shown: Option<BillShown>,
    /// Online payment is set up here.
    online: bool,
    error: Option<String>,
    paid: Vec<ReceiptShown>,
}

#[derive(Deserialize, Default)]
pub struct BillQuery {
    #[serde(default)]
    bill_id: String,
    #[serde(default)]
    payment_id: String,
}

async fn bills_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    query: BillQuery,
    error: Option<PaymentError>,
) -> Result<Response, WebError> {
    let principal = Side::Citizen.principal(visitor)?;
    let read = if query.bill_id.trim().is_empty() {
        None
    } else {
        Some(
            state
                .app
                .read_bill_online(&query.bill_id, &query.payment_id)
                .await,
        )
    };
    let (shown_bill, message) = bill_and_message(&page, read, error)?;
    let directory = state.app.org_directory().await?;
    let paid = match state.app.my_bill_payments(principal).await {
        Ok(list) => list,
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => Vec::new(),
    };
    let paid = paid
        .iter()
        .map(|p| receipt_of(&directory, &page, p))
        .collect();
    let status = if message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = MyBillsPage {
        page,
        bill_id: query.bill_id,
        payment_id: query.payment_id,
        shown: shown_bill,
        online: state.app.pays_online(),
        error: message,
        paid,
    };
    allowing_gateway(state, with_status(status, &view))
}

/// `GET /me/bills`: the form, this person's bills paid; with `bill_id`, what the bill is.
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<BillQuery>,
) -> Result<Response, WebError> {
    bills_page(&state, page, &visitor, query, None).await
}

/// `POST /me/bills/pay`: to the bank's page for this bill.
pub async fn pay(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::Form(form): axum::Form<BillQuery>,
) -> Result<Response, WebError> {
    let principal = Side::Citizen.principal(&visitor)?;
    match state
        .app
        .start_online_bill_payment(
            principal,
            &visitor.client.ip,
            &form.bill_id,
            &form.payment_id,
            Utc::now(),
        )
        .await
    {
        Ok(bank_page) => Ok(redirect(&bank_page)),
        Err(error) => {
            if let PaymentError::Gateway(why) = &error {
                tracing::warn!(error = %why, "the payment gateway did not answer");
            }
            bills_page(&state, page, &visitor, form, Some(error)).await
        }
    }
}

/// `GET /me/bills/{number}`: what became of this person's payment of a bill, as a receipt.
pub async fn receipt(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    let principal = Side::Citizen.principal(&visitor)?;
    let payment = match state.app.my_payment(principal, &number).await {
        Ok(p) if p.purpose == "bill" => p,
        Ok(_) => return Err(WebError::NotFound),
        Err(PaymentError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(WebError::NotFound),
    };
    let directory = state.app.org_directory().await?;
    let mut receipt = receipt_of(&directory, &page, &payment);
    let paid = matches!(payment.state.as_str(), "paid" | "settled");
    let lead = crate::pages::pay::what_became_of(
        &page,
        &payment,
        "billpay-online-done",
        "billpay-online-waiting",
    );
    if !paid {
        receipt.paid = String::new();
    }
    render(&ReceiptPage {
        pdf: paid.then(|| format!("/me/bills/{}/pdf", payment.number)),
        page,
        receipt,
        centre: None,
        links: vec![("/me/bills", "billpay-online-next"), ("/me", "nav-me")],
        lead,
    })
}

/// `GET /me/bills/{number}/pdf`: the receipt of a bill this person paid, to keep or print.
pub async fn receipt_pdf(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    let principal = Side::Citizen.principal(&visitor)?;
    crate::pages::bills::receipt_pdf_reply(
        state.app.my_payment_pdf(principal, &number).await,
        &number,
    )
}
