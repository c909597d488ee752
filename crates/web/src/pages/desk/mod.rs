//! The agency desk (`/desk`): what an agency's editors, clerks and admins work on.
//!
//! - [`services`]: an editor's service cards — editing a card as a plain form, its lists
//!   (channels, steps, documents, fees) as rows of labelled inputs ([`rows`]), sending it for
//!   review, publishing (agency and governorate admins), the version history with readable
//!   differences; a new service.
//! - [`forms`]: editing a form as rows of sections, fields and choices; a new form.
//! - [`flow`]: a service's workflow as tables of states and actions.
//! - [`agencies`]: the agency's contact details and offices.
//! - [`applications`]: the clerks' inbox and one application.
//!
//! Anything of another agency answers 404, as if it did not exist.

pub mod agencies;
pub mod applications;
pub mod diagram;
pub mod flow;
pub mod forms;
pub mod rows;
pub mod services;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::DocState;
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

fn actor(visitor: &Visitor) -> Result<pishkhan_app::audit::Actor, WebError> {
    visitor.actor().ok_or(WebError::NotFound)
}

pub struct ServiceLine {
    pub code: String,
    pub title: String,
    pub status: &'static str,
    pub latest: i64,
    pub published: Option<i64>,
}

fn status_key(status: &str) -> &'static str {
    match status {
        "draft" => "desk-status-draft",
        "review" => "desk-status-review",
        "published" => "desk-status-published",
        _ => "desk-status-retired",
    }
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskView {
    page: PageContext,
    agencies: Vec<(String, String, Vec<ServiceLine>)>,
}

/// `GET /desk`
pub async fn index(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let agencies = state
        .app
        .services_for_editor(principal)
        .await?
        .into_iter()
        .map(|(code, name, services)| {
            let lines = services
                .into_iter()
                .map(|(s, title): (DocState, String)| ServiceLine {
                    status: status_key(&s.status),
                    code: s.code,
                    title,
                    latest: s.latest_version,
                    published: s.published_version,
                })
                .collect();
            (code, name, lines)
        })
        .collect();
    render(&DeskView { page, agencies })
}

/// The agency's name, if the principal may edit its catalogue.
async fn editable_agency(
    state: &WebState,
    principal: &Principal,
    agency: Option<&str>,
) -> Result<String, WebError> {
    let agency = agency.ok_or(WebError::NotFound)?;
    state
        .app
        .agency_contact_for_editor(principal, agency)
        .await?
        .map(|(name, _)| name)
        .ok_or(WebError::NotFound)
}

/// `?done=…`: what the page just did, to say so at the top.
#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    done: Option<String>,
}

/// `?agency=…`: whose catalogue a new service or form goes into.
#[derive(Deserialize)]
pub struct AgencyQuery {
    agency: Option<String>,
}
