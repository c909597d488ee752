//! Service cards on the desk: edit, send for review, publish, retire, compare versions; a new
//! service.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::catalog::{CatalogError, ServiceRecord};
use pishkhan_app::policy::Principal;
use pishkhan_domain::catalog::{Category, Change, ServiceCard};
use pishkhan_domain::catalog_table::{COLUMNS, card_from_row, row_from_card};
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

use super::{AgencyQuery, NoticeQuery, actor, editable_agency, status_key};

/// The edit form's cells: the import template's columns.
pub type Cells = BTreeMap<String, String>;

pub struct VersionLine {
    pub version: i64,
    pub author: String,
    pub at: String,
}

pub struct HistoryLine {
    pub version: i64,
    pub event: &'static str,
    pub actor: String,
    pub at: String,
    pub note: String,
}

/// One input of the card form.
pub struct EditField {
    pub name: &'static str,
    pub label: &'static str,
    pub area: bool,
    pub numeric: bool,
}

const fn field(name: &'static str, label: &'static str, area: bool, numeric: bool) -> EditField {
    EditField {
        name,
        label,
        area,
        numeric,
    }
}

const SHORT_FIELDS: [EditField; 4] = [
    field("title_fa", "desk-f-title-fa", false, false),
    field("title_en", "desk-f-title-en", false, false),
    field("summary_fa", "desk-f-summary", true, false),
    field("deciding_unit_fa", "desk-f-unit", false, false),
];

const CLOSING_FIELDS: [EditField; 6] = [
    field("processing_days", "desk-f-days", false, true),
    field("visits_in_person", "desk-f-visits", false, true),
    field("output_fa", "desk-f-output", true, false),
    field("legal_basis_fa", "desk-f-legal", true, false),
    field("redress_fa", "desk-f-redress", true, false),
    field("on_no_answer_fa", "desk-f-no-answer", true, false),
];

#[derive(Template)]
#[template(path = "desk_service.html")]
struct ServiceView {
    /// The forms the card names: (code, version).
    forms: Vec<(String, u32)>,
    short_fields: &'static [EditField],
    closing_fields: &'static [EditField],
    page: PageContext,
    code: String,
    status: &'static str,
    latest: i64,
    published: Option<i64>,
    can_submit: bool,
    can_publish: bool,
    can_retire: bool,
    cells: Cells,
    categories: Vec<(&'static str, &'static str)>,
    versions: Vec<VersionLine>,
    history: Vec<HistoryLine>,
    notice: Option<String>,
    errors: Vec<String>,
    /// The latest version's workflow drawn (SVG, escaped when made).
    workflow_svg: String,
    /// The card's lists as rows.
    lists: Vec<super::rows::List>,
    /// The workflow as the editor shows it, and its tables.
    flow: super::flow::FlowForm,
    flow_lists: Vec<super::rows::List>,
}

impl ServiceView {
    /// A cell of the form, or empty.
    fn cell(&self, name: &str) -> &str {
        self.cells.get(name).map_or("", String::as_str)
    }
}

/// The cells a posted card form stands for: its plain inputs, and its lists assembled from
/// their rows; with what cannot be stored.
fn posted_cells(form: Vec<(String, String)>, page: &PageContext) -> (Cells, Vec<String>) {
    let (lists, errors) = super::rows::cells_from_rows(&form, &page.t);
    let mut cells: Cells = form
        .into_iter()
        .filter(|(k, _)| COLUMNS.contains(&k.as_str()))
        .collect();
    cells.extend(lists);
    (cells, errors)
}

fn cells_of(card: &ServiceCard) -> Cells {
    COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .zip(row_from_card(card))
        .collect()
}

fn event_key(event: &str) -> &'static str {
    match event {
        "saved" => "desk-event-saved",
        "review" => "desk-event-review",
        "published" => "desk-event-published",
        "imported" => "desk-event-imported",
        "returned" => "desk-event-returned",
        _ => "desk-event-retired",
    }
}

async fn service_view(
    state: &WebState,
    page: PageContext,
    principal: &Principal,
    record: ServiceRecord,
    posted: Option<(Cells, super::flow::FlowForm)>,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<ServiceView, WebError> {
    let latest = record.versions.first().ok_or(WebError::NotFound)?;
    let (cells, flow) = match posted {
        Some(posted) => posted,
        None => {
            let card: ServiceCard = serde_json::from_str(&latest.body)?;
            let flow = super::flow::FlowForm::of(card.workflow.as_ref(), &card.workflow());
            (cells_of(&card), flow)
        }
    };
    let may_publish = state
        .app
        .may_publish(principal, &record.state.agency)
        .await?;
    let status = record.state.status.as_str();
    let latest_card = serde_json::from_str::<ServiceCard>(&latest.body).ok();
    let forms = latest_card
        .as_ref()
        .map(|card| {
            card.forms
                .iter()
                .map(|f| (f.code.clone(), f.version))
                .collect()
        })
        .unwrap_or_default();
    let workflow_svg = latest_card
        .as_ref()
        .map(|card| {
            super::diagram::workflow_svg(&card.workflow(), &page.t.string("desk-workflow-diagram"))
        })
        .unwrap_or_default();
    let names = state
        .app
        .actor_names(
            record
                .versions
                .iter()
                .map(|v| v.author.clone())
                .chain(record.history.iter().map(|h| h.actor.clone()))
                .collect(),
        )
        .await?;
    let name = |actor: &str| names.get(actor).cloned().unwrap_or_default();
    Ok(ServiceView {
        workflow_svg,
        forms,
        lists: super::rows::card_lists(&cells, &page.t, &inquiry_choices(state).await?),
        flow_lists: flow.lists(),
        flow,
        short_fields: &SHORT_FIELDS,
        closing_fields: &CLOSING_FIELDS,
        code: record.state.code.clone(),
        status: status_key(status),
        latest: record.state.latest_version,
        published: record.state.published_version,
        can_submit: status == "draft",
        can_publish: status == "review" && may_publish,
        can_retire: status == "published" && may_publish,
        cells,
        categories: Category::ALL
            .iter()
            .map(|c| (c.code(), c.name_fa()))
            .collect(),
        versions: record
            .versions
            .iter()
            .map(|v| VersionLine {
                version: v.version,
                author: name(&v.author),
                at: page.moment(&v.created_at),
            })
            .collect(),
        history: record
            .history
            .iter()
            .rev()
            .map(|h| HistoryLine {
                version: h.version,
                event: event_key(&h.event),
                actor: name(&h.actor),
                at: page.moment(&h.at),
                note: h.note.clone(),
            })
            .collect(),
        page,
        notice,
        errors,
    })
}

/// `GET /desk/services/{code}`
pub async fn service(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let record = state
        .app
        .service_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let notice = query.done.as_deref().map(|d| {
        page.t.string(match d {
            "saved" => "desk-notice-saved",
            "review" => "desk-notice-review",
            "published" => "desk-notice-published",
            "returned" => "desk-notice-returned",
            _ => "desk-notice-retired",
        })
    });
    render(&service_view(&state, page, principal, record, None, notice, Vec::new()).await?)
}

/// `POST /desk/services/{code}`: saves the form as a new draft version.
pub async fn save(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let record = state
        .app
        .service_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let flow = super::flow::FlowForm::posted(&form);
    let overflow = super::rows::overflow(&form);
    let (mut cells, mut row_errors) = posted_cells(form, &page);
    row_errors.extend(overflow);
    // The code and the agency are not edited here.
    cells.insert("code".into(), record.state.code.clone());
    cells.insert("agency".into(), record.state.agency.clone());
    // Keep the forms the card already names (the form editor manages them).
    let previous_card = record
        .versions
        .first()
        .and_then(|latest| serde_json::from_str::<ServiceCard>(&latest.body).ok());
    if let Some(card) = &previous_card {
        let previous = cells_of(card);
        for column in ["forms", "events", "audience", "level", "type"] {
            cells
                .entry(column.to_owned())
                .or_insert_with(|| previous.get(column).cloned().unwrap_or_default());
        }
    }
    let lang = page.lang;
    // The workflow: the standard one (from the processing time), the tables, or the JSON; the
    // card's checks (every state reachable, a way out of each, known roles) run on save.
    let workflow = flow.workflow(previous_card.as_ref().and_then(|c| c.workflow.as_ref()));
    let errors = match (card_from_row(0, &cells), workflow) {
        _ if !row_errors.is_empty() => row_errors,
        (_, Err(errors)) => errors,
        (Ok(mut card), Ok(workflow)) => {
            card.workflow = workflow;
            match state
                .app
                .save_service_draft(principal, &actor(&visitor)?, &card)
                .await
            {
                Ok(_) => return Ok(redirect(&format!("/desk/services/{code}?done=saved"))),
                Err(CatalogError::Store(e)) => return Err(WebError::from(e)),
                Err(CatalogError::NotFound) => return Err(WebError::NotFound),
                Err(other) => other.lines(lang),
            }
        }
        (Err(problems), _) => problems.into_iter().map(|p| p.located(lang)).collect(),
    };
    let mut response = render(
        &service_view(
            &state,
            page,
            principal,
            record,
            Some((cells, flow)),
            None,
            errors,
        )
        .await?,
    )?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The version a state change acts on, from the form (read only after the service was found to
/// be the caller's, so a malformed request learns nothing about others' services).
type VersionForm = BTreeMap<String, String>;

/// What a button on the service's page does to its latest version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// An editor sends the draft for review.
    SendForReview,
    /// A publisher makes it the version the public sees.
    Publish,
    /// A publisher withdraws the service from the public.
    Retire,
    /// A publisher sends the version in review back to its editor, saying why.
    Return,
}

impl Move {
    /// The `done=` the page shows after it: the state the version is now in.
    fn done(self) -> &'static str {
        match self {
            Move::SendForReview => "review",
            Move::Publish => "published",
            Move::Retire => "retired",
            Move::Return => "returned",
        }
    }
}

async fn transition(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    code: &str,
    form: &VersionForm,
    action: Move,
) -> Result<Response, WebError> {
    let principal = staff(visitor)?;
    let actor = actor(visitor)?;
    let record = state
        .app
        .service_for_editor(principal, code)
        .await?
        .ok_or(WebError::NotFound)?;
    let Some(version) = form
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        let errors = vec![page.t.string("desk-stale")];
        let mut response =
            render(&service_view(state, page, principal, record, None, None, errors).await?)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    // Publishing and retiring change what everyone sees: the person ticks that they mean it.
    if matches!(action, Move::Publish | Move::Retire) && form.get("confirm").is_none() {
        let errors = vec![page.t.string("desk-confirm-needed")];
        let mut response =
            render(&service_view(state, page, principal, record, None, None, errors).await?)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let result = match action {
        Move::Return => {
            let note = form.get("note").map_or("", String::as_str);
            state
                .app
                .return_service(principal, &actor, code, version, note)
                .await
        }
        Move::SendForReview => {
            state
                .app
                .submit_service(principal, &actor, code, version)
                .await
        }
        Move::Publish => {
            state
                .app
                .publish_service(principal, &actor, code, version)
                .await
        }
        Move::Retire => {
            state
                .app
                .retire_service(principal, &actor, code, version)
                .await
        }
    };
    match result {
        Ok(()) => Ok(redirect(&format!(
            "/desk/services/{code}?done={}",
            action.done()
        ))),
        Err(CatalogError::NotFound) => Err(WebError::NotFound),
        Err(CatalogError::Store(e)) => Err(WebError::from(e)),
        Err(other) => {
            let record = state
                .app
                .service_for_editor(principal, code)
                .await?
                .ok_or(WebError::NotFound)?;
            let errors = other.lines(page.lang);
            let mut response =
                render(&service_view(state, page, principal, record, None, None, errors).await?)?;
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
    }
}

/// `POST /desk/services/{code}/submit`
pub async fn submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    transition(&state, page, &visitor, &code, &form, Move::SendForReview).await
}

/// `POST /desk/services/{code}/publish`
pub async fn publish(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    transition(&state, page, &visitor, &code, &form, Move::Publish).await
}

/// `POST /desk/services/{code}/return`: back to the editor, with a note.
pub async fn send_back(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    transition(&state, page, &visitor, &code, &form, Move::Return).await
}

/// `POST /desk/services/{code}/retire`
pub async fn retire(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    transition(&state, page, &visitor, &code, &form, Move::Retire).await
}

#[derive(Template)]
#[template(path = "desk_diff.html")]
struct DiffView {
    page: PageContext,
    code: String,
    from: i64,
    to: i64,
    changes: Vec<Change>,
}

impl DiffView {
    /// Where a change is, in the person's language: «مراحل، ردیف ۴، چه کاری».
    fn place(&self, path: &str) -> String {
        if self.page.lang == pishkhan_domain::Language::Persian {
            pishkhan_domain::catalog::card_place_fa(path)
        } else {
            path.to_owned()
        }
    }
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// `GET /desk/services/{code}/diff?from=1&to=2`
pub async fn diff(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let record = state
        .app
        .service_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let to = query.to.unwrap_or(record.state.latest_version);
    let from = query.from.unwrap_or(to - 1);
    // Versions that do not exist (the first has no previous one) differ in nothing shown.
    let changes = state
        .app
        .service_diff(principal, &code, from, to)
        .await?
        .unwrap_or_default();
    render(&DiffView {
        page,
        code,
        from,
        to,
        changes,
    })
}

// --- the form editor ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk_new_service.html")]
struct NewServiceView {
    page: PageContext,
    agency: String,
    agency_name: String,
    cells: Cells,
    categories: Vec<(&'static str, &'static str)>,
    short_fields: &'static [EditField],
    closing_fields: &'static [EditField],
    lists: Vec<super::rows::List>,
    errors: Vec<String>,
}

impl NewServiceView {
    fn cell(&self, name: &str) -> &str {
        self.cells.get(name).map_or("", String::as_str)
    }
}

/// The inquiry services a card's document may name (once only), as (code, "name — agency").
async fn inquiry_choices(state: &WebState) -> Result<Vec<(String, String)>, WebError> {
    let directory = state.app.org_directory().await?;
    Ok(state
        .app
        .inquiry_definitions(None)
        .await?
        .into_iter()
        .map(|d| {
            let agency = directory
                .agency(&d.agency)
                .map_or_else(|| d.agency.clone(), |a| a.name_fa.clone());
            (d.code, format!("{} — {agency}", d.name.fa))
        })
        .collect())
}

fn new_service_view(
    page: PageContext,
    agency: String,
    agency_name: String,
    cells: Cells,
    errors: Vec<String>,
    inquiries: &[(String, String)],
) -> NewServiceView {
    NewServiceView {
        lists: super::rows::card_lists(&cells, &page.t, inquiries),
        page,
        agency,
        agency_name,
        cells,
        categories: Category::ALL
            .iter()
            .map(|c| (c.code(), c.name_fa()))
            .collect(),
        short_fields: &SHORT_FIELDS,
        closing_fields: &CLOSING_FIELDS,
        errors,
    }
}

/// `GET /desk/services/new?agency=CODE`
pub async fn new_service(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AgencyQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let name = editable_agency(&state, principal, query.agency.as_deref()).await?;
    let agency = query.agency.unwrap_or_default();
    let mut cells = Cells::new();
    cells.insert("code".into(), format!("{agency}."));
    cells.insert("channels".into(), "centre | complete".into());
    let inquiries = inquiry_choices(&state).await?;
    render(&new_service_view(
        page,
        agency,
        name,
        cells,
        Vec::new(),
        &inquiries,
    ))
}

/// `POST /desk/services/new?agency=CODE`: the first draft of a new service.
pub async fn create_service(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AgencyQuery>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let name = editable_agency(&state, principal, query.agency.as_deref()).await?;
    let agency = query.agency.unwrap_or_default();
    let overflow = super::rows::overflow(&form);
    let (mut cells, mut row_errors) = posted_cells(form, &page);
    row_errors.extend(overflow);
    cells.insert("agency".into(), agency.clone());
    let code = cells
        .get("code")
        .cloned()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let lang = page.lang;
    let exists = state.app.service_exists(&code).await?;
    let errors = if exists {
        vec![page.t.string("desk-code-taken")]
    } else if !row_errors.is_empty() {
        row_errors
    } else {
        match card_from_row(0, &cells) {
            Ok(card) => match state
                .app
                .save_service_draft(principal, &actor(&visitor)?, &card)
                .await
            {
                Ok(_) => return Ok(redirect(&format!("/desk/services/{code}?done=saved"))),
                Err(CatalogError::Store(e)) => return Err(WebError::from(e)),
                Err(other) => other.lines(lang),
            },
            Err(problems) => problems.into_iter().map(|p| p.located(lang)).collect(),
        }
    };
    let inquiries = inquiry_choices(&state).await?;
    let mut response = render(&new_service_view(
        page, agency, name, cells, errors, &inquiries,
    ))?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
