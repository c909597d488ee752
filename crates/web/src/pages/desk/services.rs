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
    /// The latest version's workflow in words: states and actions.
    workflow_states: Vec<[String; 4]>,
    workflow_actions: Vec<[String; 3]>,
}

impl ServiceView {
    /// A cell of the form, or empty.
    fn cell(&self, name: &str) -> &str {
        self.cells.get(name).map_or("", String::as_str)
    }

    fn lists(&self) -> &'static [super::rows::ListSpec] {
        &super::rows::LISTS
    }

    /// A list's rows as the editor shows them: those stored, then blank ones to add.
    fn rows(&self, list: &super::rows::ListSpec) -> Vec<EditorRow> {
        editor_rows(&self.cells, list)
    }
}

/// A row as the list editor shows it.
pub struct EditorRow {
    pub values: Vec<String>,
    /// A blank row, offered to add one.
    pub blank: bool,
}

/// A list's rows as the editor shows them: those in the cell, then blank ones to add.
pub(super) fn editor_rows(cells: &Cells, list: &super::rows::ListSpec) -> Vec<EditorRow> {
    let width = list.columns.len();
    let mut rows: Vec<EditorRow> =
        super::rows::rows_of(cells.get(list.name).map_or("", String::as_str), width)
            .into_iter()
            .map(|values| EditorRow {
                values,
                blank: false,
            })
            .collect();
    rows.extend((0..super::rows::BLANK_ROWS).map(|_| EditorRow {
        values: vec![String::new(); width],
        blank: true,
    }));
    rows
}

/// The cells a posted card form stands for: its plain inputs, and its lists assembled from
/// their rows; with what cannot be stored.
fn posted_cells(form: Vec<(String, String)>, page: &PageContext) -> (Cells, Vec<String>) {
    let (lists, errors) = super::rows::cells_from_rows(&form, &page.t);
    let mut cells: Cells = form
        .into_iter()
        .filter(|(k, _)| COLUMNS.contains(&k.as_str()) || k == "workflow")
        .collect();
    cells.extend(lists);
    (cells, errors)
}

fn cells_of(card: &ServiceCard) -> Cells {
    let mut cells: Cells = COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .zip(row_from_card(card))
        .collect();
    // The card's own workflow, as JSON (empty: the standard one).
    cells.insert(
        "workflow".into(),
        card.workflow
            .as_ref()
            .and_then(|w| serde_json::to_string_pretty(w).ok())
            .unwrap_or_default(),
    );
    cells
}

/// The workflow a card's applications follow, in words: its states (name, who must move, the
/// deadline in business days, how it ends) and its actions (name, from → to, who may take it).
fn workflow_lines(card: &ServiceCard) -> (Vec<[String; 4]>, Vec<[String; 3]>) {
    use pishkhan_domain::workflow::Party;
    let workflow = card.workflow();
    let name = |code: &str| {
        workflow
            .state(code)
            .map(|s| s.name.fa.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    let states = workflow
        .states
        .iter()
        .map(|s| {
            [
                s.name.fa.clone(),
                match s.waits_for {
                    Party::Agency => "دستگاه".to_owned(),
                    Party::Applicant => "متقاضی".to_owned(),
                },
                s.sla_days
                    .map(|d| pishkhan_domain::text::to_persian_digits(&d.to_string()))
                    .unwrap_or_else(|| "—".into()),
                match s.outcome {
                    Some(pishkhan_domain::workflow::Outcome::Granted) => "انجام شد".to_owned(),
                    Some(pishkhan_domain::workflow::Outcome::Refused) => "رد شد".to_owned(),
                    Some(pishkhan_domain::workflow::Outcome::Withdrawn) => "انصراف".to_owned(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let actions = workflow
        .actions
        .iter()
        .map(|a| {
            [
                a.name.fa.clone(),
                format!(
                    "{} ← {}",
                    name(&a.to),
                    a.from
                        .iter()
                        .map(|f| name(f))
                        .collect::<Vec<_>>()
                        .join("، ")
                ),
                a.roles
                    .iter()
                    .map(|r| {
                        pishkhan_domain::identity::Role::from_code(r)
                            .map(|r| r.name_fa().to_owned())
                            .unwrap_or_else(|_| r.clone())
                    })
                    .collect::<Vec<_>>()
                    .join("، "),
            ]
        })
        .collect();
    (states, actions)
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
    cells: Option<Cells>,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<ServiceView, WebError> {
    let latest = record.versions.first().ok_or(WebError::NotFound)?;
    let cells = match cells {
        Some(cells) => cells,
        None => {
            let card: ServiceCard = serde_json::from_str(&latest.body)?;
            cells_of(&card)
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
    let (workflow_states, workflow_actions) =
        latest_card.as_ref().map(workflow_lines).unwrap_or_default();
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
        workflow_states,
        workflow_actions,
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
    let (mut cells, row_errors) = posted_cells(form, &page);
    // The code and the agency are not edited here.
    cells.insert("code".into(), record.state.code.clone());
    cells.insert("agency".into(), record.state.agency.clone());
    // Keep the forms the card already names (the form editor manages them).
    if let Some(latest) = record.versions.first()
        && let Ok(card) = serde_json::from_str::<ServiceCard>(&latest.body)
    {
        let previous = cells_of(&card);
        for column in ["forms", "events", "audience", "level", "type"] {
            cells
                .entry(column.to_owned())
                .or_insert_with(|| previous.get(column).cloned().unwrap_or_default());
        }
    }
    let lang = page.lang;
    // The workflow is JSON (empty: the standard one from the processing time); the card's
    // checks (every state reachable, a way out of each, known roles) run on save.
    let workflow_text = cells.get("workflow").map(|w| w.trim()).unwrap_or_default();
    let workflow = if workflow_text.is_empty() {
        Ok(None)
    } else {
        serde_json::from_str::<pishkhan_domain::workflow::Workflow>(workflow_text)
            .map(Some)
            .map_err(|e| {
                pishkhan_domain::Problem::new(
                    "workflow_json",
                    format!("متن JSON درست نیست ({e})."),
                    format!("the JSON is not valid ({e})."),
                )
                .at_named("workflow", "گردش کار")
                .located(lang)
            })
    };
    let errors = match (card_from_row(0, &cells), workflow) {
        _ if !row_errors.is_empty() => row_errors,
        (_, Err(error)) => vec![error],
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
    let mut response =
        render(&service_view(&state, page, principal, record, Some(cells), None, errors).await?)?;
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
    errors: Vec<String>,
}

impl NewServiceView {
    fn cell(&self, name: &str) -> &str {
        self.cells.get(name).map_or("", String::as_str)
    }

    fn lists(&self) -> &'static [super::rows::ListSpec] {
        &super::rows::LISTS
    }

    fn rows(&self, list: &super::rows::ListSpec) -> Vec<EditorRow> {
        editor_rows(&self.cells, list)
    }
}

fn new_service_view(
    page: PageContext,
    agency: String,
    agency_name: String,
    cells: Cells,
    errors: Vec<String>,
) -> NewServiceView {
    NewServiceView {
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
    render(&new_service_view(page, agency, name, cells, Vec::new()))
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
    let (mut cells, row_errors) = posted_cells(form, &page);
    cells.remove("workflow");
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
    let mut response = render(&new_service_view(page, agency, name, cells, errors))?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
