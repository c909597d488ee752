//! The counter (`/counter`): an operator asks a walk-in citizen's consent, by a code sent to the
//! citizen's mobile, before filing for them.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::auth::AuthError;
use pishkhan_app::policy::counter_centres;
use pishkhan_domain::identity::Scope;
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

pub struct CentreOption {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterView {
    page: PageContext,
    centres: Vec<CentreOption>,
    centre: String,
    national_id: String,
    mobile: String,
    purpose: String,
    /// Step two: (code id, masked mobile).
    ticket: Option<(String, String)>,
    /// Done: (purpose, until).
    granted: Option<(String, String)>,
    error: Option<String>,
}

async fn centres(state: &WebState, visitor: &Visitor) -> Result<Vec<CentreOption>, WebError> {
    let directory = state
        .app
        .org_directory()
        .await
        .map_err(WebError::internal)?;
    Ok(counter_centres(staff(visitor)?)
        .into_iter()
        .map(|code| CentreOption {
            name: directory
                .name_of(&Scope::Centre(code.clone()))
                .unwrap_or(&code)
                .to_owned(),
            code,
        })
        .collect())
}

fn status_of(error: &AuthError) -> StatusCode {
    match error {
        AuthError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AuthError::WrongCode { .. } => StatusCode::UNAUTHORIZED,
        AuthError::NotAllowed => StatusCode::FORBIDDEN,
        AuthError::CodeExpired => StatusCode::GONE,
        AuthError::Sms(_) => StatusCode::BAD_GATEWAY,
        AuthError::Store(_) | AuthError::Hashing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `GET /counter`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let centres = centres(&state, &visitor).await?;
    render(&CounterView {
        centre: centres.first().map(|c| c.code.clone()).unwrap_or_default(),
        page,
        centres,
        national_id: String::new(),
        mobile: String::new(),
        purpose: String::new(),
        ticket: None,
        granted: None,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ConsentRequest {
    centre: String,
    national_id: String,
    #[serde(default)]
    mobile: String,
    purpose: String,
}

/// `POST /counter/consent`: sends the consent code to the citizen.
pub async fn request(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<ConsentRequest>,
) -> Result<Response, WebError> {
    let operator = staff(&visitor)?;
    let result = state
        .app
        .request_consent(
            operator,
            &form.centre,
            &form.national_id,
            &form.mobile,
            &form.purpose,
            &visitor.client,
        )
        .await;
    let centres = centres(&state, &visitor).await?;
    let (ticket, error, status) = match result {
        Ok(ticket) => (
            Some((ticket.code_id, page.digits(&ticket.masked_mobile))),
            None,
            StatusCode::OK,
        ),
        Err(error) => {
            if matches!(error, AuthError::Store(_) | AuthError::Sms(_)) {
                tracing::error!(error = %error, "consent request failed");
            }
            (None, Some(error.message(page.lang)), status_of(&error))
        }
    };
    let mut response = render(&CounterView {
        page,
        centres,
        centre: form.centre,
        national_id: form.national_id,
        mobile: form.mobile,
        purpose: form.purpose,
        ticket,
        granted: None,
        error,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
pub struct ConsentConfirm {
    code_id: String,
    code: String,
    #[serde(default)]
    masked: String,
}

/// `POST /counter/consent/confirm`: the code the citizen read out.
pub async fn confirm(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<ConsentConfirm>,
) -> Result<Response, WebError> {
    let operator = staff(&visitor)?;
    let result = state
        .app
        .confirm_consent(operator, &form.code_id, &form.code, &visitor.client)
        .await;
    let centres = centres(&state, &visitor).await?;
    let centre = centres.first().map(|c| c.code.clone()).unwrap_or_default();
    let mut view = CounterView {
        page,
        centres,
        centre,
        national_id: String::new(),
        mobile: String::new(),
        purpose: String::new(),
        ticket: None,
        granted: None,
        error: None,
    };
    let status = match result {
        Ok(consent) => {
            view.granted = Some((
                consent.purpose.clone(),
                view.page.moment(&consent.expires_at),
            ));
            StatusCode::OK
        }
        Err(error) => {
            if matches!(error, AuthError::WrongCode { .. }) {
                view.ticket = Some((form.code_id, form.masked));
            }
            view.error = Some(error.message(view.page.lang));
            status_of(&error)
        }
    };
    let mut response = render(&view)?;
    *response.status_mut() = status;
    Ok(response)
}
