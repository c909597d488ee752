//! The exchange with agencies' systems (`/admin/exchange`): for an agency's admins and the
//! governorate over it, where the agency's events go (its webhook: register, change, rotate the
//! secret, remove), how deliveries stand, and the deliveries that failed their last attempt, to
//! send again once the agency's system is back. An agency outside the person's scope answers
//! 404, as one that does not exist.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::webhooks::{DeadDelivery, ExchangeStatus, WebhookError};
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

/// One agency in the list.
pub struct AgencyLine {
    pub code: String,
    pub name: String,
    pub url: Option<String>,
    pub events: String,
    pub waiting: String,
    pub dead: String,
    pub has_dead: bool,
}

#[derive(Template)]
#[template(path = "admin_exchange.html")]
struct ListView {
    page: PageContext,
    agencies: Vec<AgencyLine>,
}

/// One dead-lettered delivery as the page shows it.
pub struct DeadLine {
    pub id: i64,
    pub event: String,
    pub kind: String,
    pub application: String,
    pub attempts: String,
    pub last_error: String,
    pub dead_at: String,
}

#[derive(Template)]
#[template(path = "admin_exchange_agency.html")]
struct AgencyView {
    page: PageContext,
    code: String,
    name: String,
    status: ExchangeStatus,
    figures: (String, String, String),
    previous_until: Option<String>,
    dead: Vec<DeadLine>,
    /// The inquiry services the agency answers: (name, code, URL, timeout and cache, who asks).
    inquiries: Vec<InquiryServiceLine>,
    shown: Shown,
}

/// One inquiry service the agency answers, as the page lists it.
pub struct InquiryServiceLine {
    pub name: String,
    pub code: String,
    pub url: String,
    pub limits: String,
    pub roles: String,
}

/// What the page shows after an action.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    /// A new secret, shown once.
    secret: Option<String>,
    errors: Vec<String>,
    /// The URL as typed, when it was refused.
    url: Option<String>,
}

impl Shown {
    fn notice(text: String) -> Shown {
        Shown {
            notice: Some(text),
            ..Shown::default()
        }
    }

    fn error(text: String) -> Shown {
        Shown {
            errors: vec![text],
            ..Shown::default()
        }
    }
}

fn refused(error: WebhookError, page: &PageContext) -> Result<Shown, WebError> {
    match error {
        WebhookError::NotAllowed => Err(WebError::NotFound),
        WebhookError::Invalid(problem) => Ok(Shown::error(problem.message(page.lang).to_owned())),
        WebhookError::Store(e) => Err(e.into()),
    }
}

/// `GET /admin/exchange`
pub async fn list(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let mut agencies = Vec::new();
    for (code, name) in state.app.exchange_agencies(principal).await? {
        let status = state
            .app
            .exchange_status(Some(principal), &code)
            .await
            .map_err(|e| WebError::internal_message(e.to_string()))?;
        agencies.push(AgencyLine {
            url: status.webhook.map(|w| w.url),
            events: page.digits(&status.events.to_string()),
            waiting: page.digits(&status.waiting.to_string()),
            dead: page.digits(&status.dead.to_string()),
            has_dead: status.dead > 0,
            code,
            name,
        });
    }
    render(&ListView { page, agencies })
}

async fn agency_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    code: &str,
    shown: Shown,
) -> Result<Response, WebError> {
    let principal = staff(visitor)?;
    let status = match state.app.exchange_status(Some(principal), code).await {
        Ok(status) => status,
        Err(WebhookError::NotAllowed) => return Err(WebError::NotFound),
        Err(e) => return Err(WebError::internal_message(e.to_string())),
    };
    let dead = state
        .app
        .dead_deliveries(Some(principal), code, 100)
        .await
        .map_err(|e| WebError::internal_message(e.to_string()))?
        .into_iter()
        .map(|d: DeadDelivery| DeadLine {
            id: d.id,
            event: d.event,
            kind: d.kind,
            application: d.application,
            attempts: page.digits(&d.attempts.to_string()),
            last_error: d.last_error,
            dead_at: page.moment(&d.dead_at),
        })
        .collect();
    let name = state
        .app
        .org_directory()
        .await?
        .agency(code)
        .map(|a| a.name_fa.clone())
        .unwrap_or_else(|| code.to_owned());
    let now = chrono::Utc::now();
    let previous_until = status
        .webhook
        .as_ref()
        .and_then(|w| w.previous_until)
        .filter(|t| *t > now)
        .map(|t| page.moment(&t));
    let figures = (
        page.digits(&status.events.to_string()),
        page.digits(&status.waiting.to_string()),
        page.digits(&status.dead.to_string()),
    );
    let inquiries = state
        .app
        .inquiry_definitions(Some(code))
        .await?
        .into_iter()
        .map(|d| InquiryServiceLine {
            limits: format!(
                "{} {} · {} {}",
                page.digits(&d.timeout_ms.to_string()),
                page.t.string("exchange-inquiry-ms"),
                page.digits(&d.cache_seconds.to_string()),
                page.t.string("exchange-inquiry-cache"),
            ),
            roles: d
                .allowed_roles()
                .into_iter()
                .map(|r| page.role_name(r))
                .collect::<Vec<_>>()
                .join("، "),
            name: d.name.fa,
            code: d.code,
            url: d.url,
        })
        .collect();
    let failed = !shown.errors.is_empty();
    let mut response = render(&AgencyView {
        inquiries,
        page,
        code: code.to_owned(),
        name,
        status,
        figures,
        previous_until,
        dead,
        shown,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// `GET /admin/exchange/{agency}`
pub async fn agency(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    agency_page(&state, page, &visitor, &code, Shown::default()).await
}

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
}

/// `POST /admin/exchange/{agency}/webhook`: registers the webhook (its secret shown once) or
/// changes its URL.
pub async fn set_webhook(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<WebhookForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = visitor.actor().ok_or(WebError::NotFound)?;
    let shown = match state
        .app
        .set_webhook(Some(principal), &actor, &code, &form.url)
        .await
    {
        Ok(Some(secret)) => Shown {
            notice: Some(page.t.string("exchange-registered")),
            secret: Some(secret.expose().clone()),
            ..Shown::default()
        },
        Ok(None) => Shown::notice(page.t.string("exchange-url-changed")),
        Err(e) => Shown {
            url: Some(form.url.chars().take(600).collect()),
            ..refused(e, &page)?
        },
    };
    agency_page(&state, page, &visitor, &code, shown).await
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    overlap_hours: String,
}

/// `POST /admin/exchange/{agency}/webhook/rotate`: a new secret, shown once; the old one signs
/// too for the overlap chosen.
pub async fn rotate_secret(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<RotateForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = visitor.actor().ok_or(WebError::NotFound)?;
    let hours = match form.overlap_hours.trim().parse::<i64>() {
        Ok(h) if (0..=720).contains(&h) => h,
        _ => {
            let shown = Shown::error(page.t.string("exchange-overlap-invalid"));
            return agency_page(&state, page, &visitor, &code, shown).await;
        }
    };
    let shown = match state
        .app
        .rotate_webhook_secret(
            Some(principal),
            &actor,
            &code,
            chrono::TimeDelta::hours(hours),
        )
        .await
    {
        Ok(Some(secret)) => Shown {
            notice: Some(page.t.string("exchange-rotated")),
            secret: Some(secret.expose().clone()),
            ..Shown::default()
        },
        Ok(None) => Shown::error(page.t.string("exchange-no-webhook")),
        Err(e) => refused(e, &page)?,
    };
    agency_page(&state, page, &visitor, &code, shown).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/exchange/{agency}/webhook/remove`: stops sending, once confirmed.
pub async fn remove_webhook(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = visitor.actor().ok_or(WebError::NotFound)?;
    let shown = if form.confirm.is_none() {
        Shown::error(page.t.string("exchange-remove-confirm-needed"))
    } else {
        match state
            .app
            .remove_webhook(Some(principal), &actor, &code)
            .await
        {
            Ok(true) => Shown::notice(page.t.string("exchange-removed")),
            Ok(false) => Shown::error(page.t.string("exchange-no-webhook")),
            Err(e) => refused(e, &page)?,
        }
    };
    agency_page(&state, page, &visitor, &code, shown).await
}

/// `POST /admin/exchange/{agency}/dead/{id}/replay`: sends a dead-lettered delivery again.
pub async fn replay(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = visitor.actor().ok_or(WebError::NotFound)?;
    let shown = match state
        .app
        .replay_delivery(Some(principal), &actor, &code, id)
        .await
    {
        Ok(true) => Shown::notice(page.t.string("exchange-replayed")),
        Ok(false) => Shown::error(page.t.string("exchange-replay-gone")),
        Err(e) => refused(e, &page)?,
    };
    agency_page(&state, page, &visitor, &code, shown).await
}
