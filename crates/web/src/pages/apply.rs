//! Filing an application from a page, in three steps — fill the forms and attach the documents,
//! review, submit — online by a signed-in citizen (`/me/apply/{service}`) or at a counter by an
//! operator for a walk-in citizen who gave consent (`/counter/drafts/{id}`). What is typed and
//! attached is kept in a draft at every step (nothing typed is lost to an error; a citizen may
//! save and come back), checked field by field by the Persian core, and filed through the one
//! `submit_application` use case. Works without JavaScript.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::applications::ApplicationError;
use pishkhan_app::drafts::{Draft, DraftChange, DraftUpload};
use pishkhan_app::policy::Principal;
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::{FieldKind, FormSchema};
use pishkhan_domain::identity::Scope;
use pishkhan_domain::money::Rials;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::portal::{FormSection, sections_of};
use crate::state::WebState;

/// The largest filing page a browser may send: several scans at once (each at most 5 MB).
pub const APPLY_BODY_LIMIT: usize = 26 * 1024 * 1024;

/// Where a filing happens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Desk {
    /// A citizen, online.
    Mine,
    /// An operator at a service centre.
    Counter,
}

/// One required document, as the filing page shows it.
pub struct DocumentRow {
    pub index: usize,
    pub name: String,
    pub hint: String,
    /// (id, file name, size in KB)
    pub attached: Option<(String, String, String)>,
    /// Fetched from an agency rather than uploaded: the agency's name.
    pub fetched_from: Option<String>,
    pub error: Option<String>,
    /// Once only: the agency's inquiry that can supply it instead of a scan.
    pub fetch: Option<FetchRow>,
}

/// The offer to fetch a document from the agency that holds it, with the person's consent.
pub struct FetchRow {
    pub agency: String,
    pub inquiry: String,
    /// What the inquiry asks besides the person's national ID (named `inq:{i}/{field}`).
    pub fields: Vec<crate::pages::portal::FormField>,
    /// Open when it was just tried (and went wrong), so the person sees why.
    pub open: bool,
}

/// One form of the service with what was typed and what is wrong.
pub struct FormBlock {
    pub title: String,
    pub sections: Vec<FormSection>,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyView {
    page: PageContext,
    base: String,
    service: String,
    service_code: String,
    /// At a counter: whose application, where.
    for_whom: Option<(String, String)>,
    forms: Vec<FormBlock>,
    documents: Vec<DocumentRow>,
    email: String,
    email_error: Option<String>,
    /// (anchor, message): the error summary, each linked to its field.
    problems: Vec<(String, String)>,
    notice: Option<String>,
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "apply_review.html")]
struct ReviewView {
    page: PageContext,
    base: String,
    service: String,
    for_whom: Option<(String, String)>,
    /// (form title, [(label, answer)])
    answers: Vec<(String, Vec<(String, String)>)>,
    /// (requirement, file name)
    documents: Vec<(String, String)>,
    email: String,
    fee: String,
    processing: String,
}

/// `?check=1` asks the form page to show what is missing; `?saved=1` says the draft was kept.
#[derive(Deserialize, Default)]
pub struct ApplyQuery {
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    /// `?fetched=I`: document I was just fetched from its agency.
    #[serde(default)]
    fetched: Option<String>,
}

fn citizen(visitor: &Visitor) -> Result<&Principal, WebError> {
    visitor
        .principal()
        .filter(|p| matches!(p, Principal::Citizen(_)))
        .ok_or(WebError::NotFound)
}

fn base_of(desk: Desk, draft: &Draft) -> String {
    match desk {
        Desk::Mine => format!("/me/apply/{}", draft.service),
        Desk::Counter => format!("/counter/drafts/{}", draft.id),
    }
}

/// The published card of a draft's service.
async fn card_of(state: &WebState, service: &str) -> Result<ServiceCard, WebError> {
    Ok(state
        .app
        .service_page(service)
        .await?
        .ok_or(WebError::NotFound)?
        .service
        .card
        .clone())
}

/// At a counter: the citizen's national ID and the centre's name.
async fn for_whom(
    state: &WebState,
    page: &PageContext,
    desk: Desk,
    draft: &Draft,
) -> Result<Option<(String, String)>, WebError> {
    if desk == Desk::Mine {
        return Ok(None);
    }
    let centre = draft.centre.clone().unwrap_or_default();
    let directory = state.app.org_directory().await?;
    let name = directory
        .name_of(&Scope::Centre(centre.clone()))
        .unwrap_or(&centre)
        .to_owned();
    Ok(Some((page.digits(&draft.national_id), name)))
}

/// A problem's place on the page: `(anchor, field key)`, where the key is `form/field` or
/// `doc:{i}`.
fn place_of(problem: &Problem, card: &ServiceCard) -> Option<(String, String)> {
    if let Some(rest) = problem.at.strip_prefix("documents[") {
        let i: usize = rest.trim_end_matches(']').parse().ok()?;
        return Some((format!("doc-{i}"), format!("doc:{i}")));
    }
    if let Some(requirement) = problem.at.strip_prefix("upload:") {
        let i = card
            .documents
            .iter()
            .position(|d| d.name.fa == requirement)?;
        return Some((format!("doc-{i}"), format!("doc:{i}")));
    }
    if problem.at == "email" {
        return Some(("email".into(), "email".into()));
    }
    let form = card
        .forms
        .iter()
        .find(|f| problem.at.starts_with(&format!("{}.", f.code)))?;
    let field = &problem.at[form.code.len() + 1..];
    Some((
        format!("f-{}-{field}", form.code),
        format!("{}/{field}", form.code),
    ))
}

/// A typed answer as the page shows it again.
fn shown(value: Option<&Value>) -> (String, Vec<String>) {
    match value {
        Some(Value::String(s)) => (s.clone(), vec![s.clone()]),
        Some(Value::Array(items)) => (
            String::new(),
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        Some(Value::Number(n)) => (n.to_string(), vec![n.to_string()]),
        _ => (String::new(), Vec::new()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &WebState,
    page: PageContext,
    desk: Desk,
    draft: &Draft,
    problems: &[Problem],
    notice: Option<String>,
    saved: bool,
) -> Result<ApplyView, WebError> {
    fetch_page(state, page, desk, draft, problems, notice, saved, None).await
}

/// The form page, after someone tried to fetch a document: (its index, what they typed).
#[allow(clippy::too_many_arguments)]
async fn fetch_page(
    state: &WebState,
    page: PageContext,
    desk: Desk,
    draft: &Draft,
    problems: &[Problem],
    notice: Option<String>,
    saved: bool,
    tried: Option<(usize, &BTreeMap<String, Value>)>,
) -> Result<ApplyView, WebError> {
    let card = card_of(state, &draft.service).await?;
    let role = match desk {
        Desk::Mine => pishkhan_domain::identity::Role::Citizen,
        Desk::Counter => pishkhan_domain::identity::Role::Operator,
    };
    let offers = state.app.fetch_offers(Some(role), &card).await?;
    let directory = state.app.org_directory().await?;
    let agency_name = |code: &str| {
        directory
            .agency(code)
            .map_or_else(|| code.to_owned(), |a| a.name_fa.clone())
    };
    let schemas = state.app.card_forms(&card).await?;
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let message = |p: &Problem| if fa { p.fa.clone() } else { p.en.clone() };
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut summary = Vec::new();
    for problem in problems {
        match place_of(problem, &card) {
            Some((anchor, key)) => {
                errors.entry(key).or_insert_with(|| message(problem));
                summary.push((anchor, message(problem)));
            }
            None => summary.push((String::new(), message(problem))),
        }
    }
    let forms = schemas
        .iter()
        .map(|schema| {
            let given = draft.answers.get(&schema.code);
            let mut sections = sections_of(schema);
            for section in &mut sections {
                for field in &mut section.fields {
                    let key = format!("{}/{}", schema.code, field.id);
                    let (mut value, values) = shown(given.and_then(|g| g.get(&field.id)));
                    // A form never saved starts with the applicant's national ID filled in.
                    if given.is_none()
                        && field.id == "national_id"
                        && matches!(
                            schema.field(&field.id).map(|f| &f.kind),
                            Some(FieldKind::NationalId {})
                        )
                    {
                        value = draft.national_id.clone();
                    }
                    field.name = key.clone();
                    field.dom_id = format!("f-{}-{}", schema.code, field.id);
                    field.value = value;
                    field.values = values;
                    field.error = errors.get(&key).cloned();
                    field.attached = draft.attached("", &key).map(|d| d.file_name.clone());
                }
            }
            FormBlock {
                title: schema.title.fa.clone(),
                sections,
            }
        })
        .collect();
    let documents = card
        .documents
        .iter()
        .enumerate()
        .map(|(index, doc)| {
            let mut hint = Vec::new();
            if doc.original {
                hint.push(page.t.string("apply-doc-original"));
            }
            if let Some(note) = &doc.note {
                hint.push(note.fa.clone());
            }
            let attached = draft.attached(&doc.name.fa, "");
            let fetch = offers.iter().find(|o| o.index == index).map(|offer| {
                let form = offer.asked_form();
                let typed = tried.filter(|(i, _)| *i == index).map(|(_, t)| t);
                let fields = sections_of(&form)
                    .into_iter()
                    .flat_map(|s| s.fields)
                    .map(|mut field| {
                        // What the person typed when they last tried (never guessed from
                        // the forms: a child's birth date is not the parent's).
                        let (value, values) = shown(typed.and_then(|t| t.get(&field.id)));
                        // Named apart from the forms' fields of the same name.
                        field.label =
                            format!("{} {}", field.label, page.t.string("apply-fetch-field"));
                        field.name = format!("inq:{index}/{}", field.id);
                        field.dom_id = format!("inq-{index}-{}", field.id);
                        field.value = value;
                        field.values = values;
                        field
                    })
                    .collect();
                FetchRow {
                    agency: agency_name(&offer.definition.agency),
                    inquiry: offer.definition.name.fa.clone(),
                    fields,
                    open: typed.is_some(),
                }
            });
            DocumentRow {
                index,
                name: doc.name.fa.clone(),
                hint: hint.join(" "),
                attached: attached.map(|d| {
                    (
                        d.id.clone(),
                        d.file_name.clone(),
                        page.digits(&(d.size.div_ceil(1024)).to_string()),
                    )
                }),
                fetched_from: attached
                    .and_then(|d| d.provenance.as_ref())
                    .map(|p| agency_name(&p.agency)),
                error: errors.get(&format!("doc:{index}")).cloned(),
                fetch,
            }
        })
        .collect();
    Ok(ApplyView {
        base: base_of(desk, draft),
        service: card.title.fa.clone(),
        service_code: card.code.clone(),
        for_whom: for_whom(state, &page, desk, draft).await?,
        forms,
        documents,
        email: draft.email.clone(),
        email_error: errors.get("email").cloned(),
        problems: summary,
        notice,
        saved: saved.then(|| page.t.string("apply-saved")),
        page,
    })
}

/// Reads a filing page: every form's fields (a multiple choice as a list), the e-mail, the files
/// (required documents as `doc:{i}`, file fields as `file:{form}/{field}`), the files to take
/// away, and what the person asked for (`save` or `review`).
async fn read_page(
    mut multipart: Multipart,
    card: &ServiceCard,
    schemas: &[FormSchema],
) -> Result<(DraftChange, String, Fetching), ()> {
    let mut fetching = Fetching::default();
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut change = DraftChange::default();
    let mut intent = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(target) = name
            .strip_prefix("doc:")
            .map(|i| (true, i.to_owned()))
            .or_else(|| name.strip_prefix("file:").map(|f| (false, f.to_owned())))
        {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|_| ())?;
            if file_name.is_empty() && bytes.is_empty() {
                continue; // no file chosen
            }
            let (requirement, field) = match target {
                (true, i) => match i.parse::<usize>().ok().and_then(|i| card.documents.get(i)) {
                    Some(doc) => (doc.name.fa.clone(), String::new()),
                    None => continue,
                },
                (false, f) => (String::new(), f),
            };
            change.uploads.push(DraftUpload {
                requirement,
                field,
                file_name,
                bytes: bytes.to_vec(),
            });
            continue;
        }
        let text = field.text().await.map_err(|_| ())?;
        match name.as_str() {
            "intent" => intent = text,
            "email" => change.email = text,
            _ if name.starts_with("agree:") => {
                fetching.agreed.insert(name["agree:".len()..].to_owned());
            }
            _ if name.starts_with("inq:") => {
                if let Some((i, field)) = name["inq:".len()..].split_once('/')
                    && let Ok(i) = i.parse::<usize>()
                {
                    fetching
                        .input
                        .entry(i)
                        .or_default()
                        .insert(field.to_owned(), Value::String(text));
                }
            }
            "remove" => change.remove.push(text),
            _ => texts.entry(name).or_default().push(text),
        }
    }
    for schema in schemas {
        let mut answers = BTreeMap::new();
        for field in schema.fields() {
            let Some(values) = texts.remove(&format!("{}/{}", schema.code, field.id)) else {
                continue;
            };
            let value = match field.kind {
                FieldKind::MultiSelect { .. } => Value::from(
                    values
                        .into_iter()
                        .filter(|v| !v.is_empty())
                        .collect::<Vec<_>>(),
                ),
                _ => Value::String(values.into_iter().next().unwrap_or_default()),
            };
            answers.insert(field.id.clone(), value);
        }
        change.answers.insert(schema.code.clone(), answers);
    }
    Ok((change, intent, fetching))
}

/// What a filing page sent for fetching documents: each offer's typed fields, and the offers
/// whose consent box was ticked.
#[derive(Default)]
struct Fetching {
    input: BTreeMap<usize, BTreeMap<String, Value>>,
    agreed: std::collections::BTreeSet<String>,
}

/// The form page: what the draft holds, and (after `?check=1`) what stops it being filed.
async fn show_form(
    state: &WebState,
    page: PageContext,
    desk: Desk,
    draft: &Draft,
    query: ApplyQuery,
) -> Result<Response, WebError> {
    let problems = if query.check.is_some() {
        state
            .app
            .check_draft(draft)
            .await
            .map_err(application_error)?
    } else {
        Vec::new()
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let saved = query.saved.is_some();
    let fetched = query
        .fetched
        .is_some()
        .then(|| page.t.string("apply-fetched"));
    let mut view = form_page(state, page, desk, draft, &problems, None, saved).await?;
    if fetched.is_some() {
        view.saved = fetched;
    }
    with_status(status, &view)
}

fn application_error(error: ApplicationError) -> WebError {
    match error {
        ApplicationError::NotFound => WebError::NotFound,
        other => WebError::from(other),
    }
}

/// Keeps what the page sent; then either back to the form (saved, or with what is wrong) or on
/// to the review.
async fn save_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    principal: &Principal,
    desk: Desk,
    draft: Draft,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let card = card_of(state, &draft.service).await?;
    let schemas = state.app.card_forms(&card).await?;
    let Ok((change, intent, fetching)) = read_page(multipart, &card, &schemas).await else {
        let notice = Some(page.t.string("apply-too-large"));
        return with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            &form_page(state, page, desk, &draft, &[], notice, false).await?,
        );
    };
    let (draft, refused) = state
        .app
        .save_draft(principal, &visitor.client.ip, &draft.id, change, Utc::now())
        .await
        .map_err(application_error)?;
    let base = base_of(desk, &draft);
    // Fetch one document from its agency (what was typed and attached is kept first).
    if let Some(index) = intent
        .strip_prefix("fetch:")
        .and_then(|i| i.parse::<usize>().ok())
    {
        let input = fetching.input.get(&index).cloned().unwrap_or_default();
        let (draft, mut problems) = state
            .app
            .fetch_document(
                principal,
                &visitor.client.ip,
                &draft.id,
                index,
                input.clone(),
                fetching.agreed.contains(&index.to_string()),
                Utc::now(),
            )
            .await
            .map_err(application_error)?;
        if problems.is_empty() && refused.is_empty() {
            return Ok(redirect(&format!("{base}?fetched={index}#doc-{index}")));
        }
        problems.extend(refused);
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &fetch_page(
                state,
                page,
                desk,
                &draft,
                &problems,
                None,
                false,
                Some((index, &input)),
            )
            .await?,
        );
    }
    if refused.is_empty() && intent != "review" {
        return Ok(redirect(&format!("{base}?saved=1")));
    }
    // Every problem at once: the files refused and, when the person asked to go on, what the
    // answers still lack — not one kind now and the other on the next try.
    let mut problems = refused;
    if intent == "review" {
        for problem in state
            .app
            .check_draft(&draft)
            .await
            .map_err(application_error)?
        {
            if !problems.iter().any(|p| p.at == problem.at) {
                problems.push(problem);
            }
        }
    }
    if problems.is_empty() {
        Ok(redirect(&format!("{base}/review")))
    } else {
        with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(state, page, desk, &draft, &problems, None, false).await?,
        )
    }
}

/// The review: every answer with its label, the documents, the fee; a draft that cannot be filed
/// yet goes back to its form with what is wrong.
async fn show_review(
    state: &WebState,
    page: PageContext,
    desk: Desk,
    draft: &Draft,
) -> Result<Response, WebError> {
    let base = base_of(desk, draft);
    let problems = state
        .app
        .check_draft(draft)
        .await
        .map_err(application_error)?;
    if !problems.is_empty() {
        return Ok(redirect(&format!("{base}?check=1")));
    }
    let card = card_of(state, &draft.service).await?;
    let schemas = state.app.card_forms(&card).await?;
    let yes_no = |v: &str| match v {
        "yes" => "بله".to_owned(),
        "no" => "خیر".to_owned(),
        other => other.to_owned(),
    };
    let answers = schemas
        .iter()
        .map(|schema| {
            let given = draft.answers.get(&schema.code);
            let rows = schema
                .fields()
                .filter_map(|field| {
                    let key = format!("{}/{}", schema.code, field.id);
                    let text = match &field.kind {
                        FieldKind::File { .. } => draft.attached("", &key)?.file_name.clone(),
                        FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                            let (_, values) = shown(given.and_then(|g| g.get(&field.id)));
                            values
                                .iter()
                                .map(|v| {
                                    options
                                        .iter()
                                        .find(|o| &o.value == v)
                                        .map(|o| o.label.fa.clone())
                                        .unwrap_or_else(|| v.clone())
                                })
                                .collect::<Vec<_>>()
                                .join("، ")
                        }
                        FieldKind::YesNo {} => {
                            yes_no(&shown(given.and_then(|g| g.get(&field.id))).0)
                        }
                        _ => shown(given.and_then(|g| g.get(&field.id))).0,
                    };
                    (!text.trim().is_empty()).then(|| (field.label.fa.clone(), text))
                })
                .collect();
            (schema.title.fa.clone(), rows)
        })
        .collect();
    let total = card.total_fee();
    let fee = if total > 0 {
        Rials(total).format_rials(page.lang)
    } else {
        page.t.string("portal-fee-unknown")
    };
    render(&ReviewView {
        for_whom: for_whom(state, &page, desk, draft).await?,
        base,
        service: card.title.fa.clone(),
        answers,
        documents: card
            .documents
            .iter()
            .filter_map(|d| {
                draft
                    .attached(&d.name.fa, "")
                    .map(|a| (d.name.fa.clone(), a.file_name.clone()))
            })
            .collect(),
        email: draft.email.clone(),
        fee,
        processing: page.digits(&card.processing_days.to_string()),
        page,
    })
}

/// Files the draft; refused, back to the form with every problem in place.
async fn file(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    principal: &Principal,
    desk: Desk,
    draft: Draft,
) -> Result<Response, WebError> {
    match state
        .app
        .submit_draft(principal, &visitor.client.ip, &draft.id, Utc::now())
        .await
    {
        Ok(submitted) => Ok(redirect(&match desk {
            Desk::Mine => format!("/me/applications/{}?filed=1", submitted.code.as_str()),
            Desk::Counter => format!("/counter/applications/{}?filed=1", submitted.code.as_str()),
        })),
        Err(ApplicationError::Invalid(problems)) => with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(state, page, desk, &draft, &problems, None, false).await?,
        ),
        Err(other) => Err(application_error(other)),
    }
}

/// A citizen's draft for a service, or a new, empty one (not stored until the first save).
async fn my_draft(
    state: &WebState,
    principal: &Principal,
    service: &str,
) -> Result<Draft, WebError> {
    let Principal::Citizen(citizen) = principal else {
        return Err(WebError::NotFound);
    };
    if let Some(draft) = state.app.my_draft(principal, service).await? {
        return Ok(draft);
    }
    Ok(Draft {
        id: String::new(),
        service: service.to_owned(),
        national_id: citizen.national_id.clone(),
        centre: None,
        consent: None,
        email: String::new(),
        answers: BTreeMap::new(),
        documents: Vec::new(),
        updated_at: Utc::now(),
    })
}

/// Opens (finds or starts) the citizen's stored draft; a service not offered online is refused
/// here, in words.
async fn open_mine(
    state: &WebState,
    visitor: &Visitor,
    principal: &Principal,
    service: &str,
) -> Result<Result<Draft, Vec<Problem>>, WebError> {
    match state
        .app
        .open_draft(
            principal,
            &visitor.client.ip,
            service,
            "",
            None,
            None,
            Utc::now(),
        )
        .await
    {
        Ok(draft) => Ok(Ok(draft)),
        Err(ApplicationError::Invalid(problems)) => Ok(Err(problems)),
        Err(other) => Err(application_error(other)),
    }
}

/// `GET /me/apply/{service}`
pub async fn mine_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(service): Path<String>,
    Query(query): Query<ApplyQuery>,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    let draft = my_draft(&state, principal, &service).await?;
    // A service not offered online says so at once, before anything is typed.
    let card = card_of(&state, &service).await?;
    if !card
        .channels
        .iter()
        .any(|c| c.channel == pishkhan_domain::catalog::Channel::Online)
    {
        return match open_mine(&state, &visitor, principal, &service).await? {
            Ok(_) => Err(WebError::NotFound),
            Err(problems) => with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(&state, page, Desk::Mine, &draft, &problems, None, false).await?,
            ),
        };
    }
    show_form(&state, page, Desk::Mine, &draft, query).await
}

/// `POST /me/apply/{service}` (multipart)
pub async fn mine_save(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(service): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    match open_mine(&state, &visitor, principal, &service).await? {
        Ok(draft) => {
            save_page(
                &state,
                page,
                &visitor,
                principal,
                Desk::Mine,
                draft,
                multipart,
            )
            .await
        }
        Err(problems) => {
            let draft = my_draft(&state, principal, &service).await?;
            with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(&state, page, Desk::Mine, &draft, &problems, None, false).await?,
            )
        }
    }
}

async fn stored_mine(
    state: &WebState,
    principal: &Principal,
    service: &str,
) -> Result<Option<Draft>, WebError> {
    state
        .app
        .my_draft(principal, service)
        .await
        .map_err(WebError::from)
}

/// `GET /me/apply/{service}/review`
pub async fn mine_review(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(service): Path<String>,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    match stored_mine(&state, principal, &service).await? {
        Some(draft) => show_review(&state, page, Desk::Mine, &draft).await,
        None => Ok(redirect(&format!("/me/apply/{service}"))),
    }
}

/// `POST /me/apply/{service}/submit`
pub async fn mine_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(service): Path<String>,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    match stored_mine(&state, principal, &service).await? {
        Some(draft) => file(&state, page, &visitor, principal, Desk::Mine, draft).await,
        None => Ok(redirect(&format!("/me/apply/{service}"))),
    }
}

/// `POST /me/apply/{service}/discard`
pub async fn mine_discard(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(service): Path<String>,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    if let Some(draft) = stored_mine(&state, principal, &service).await? {
        state
            .app
            .discard_draft(principal, &visitor.client.ip, &draft.id, Utc::now())
            .await
            .map_err(application_error)?;
    }
    Ok(redirect("/me#drafts"))
}

// --- At the counter -----------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct StartForm {
    centre: String,
    national_id: String,
    consent: String,
    service: String,
}

/// `POST /counter/drafts`: starts filing for the citizen who just gave consent.
pub async fn counter_start(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    match state
        .app
        .open_draft(
            principal,
            &visitor.client.ip,
            form.service.trim(),
            &form.national_id,
            Some(&form.centre),
            Some(&form.consent),
            Utc::now(),
        )
        .await
    {
        Ok(draft) => Ok(redirect(&format!("/counter/drafts/{}", draft.id))),
        Err(ApplicationError::Invalid(problems)) => {
            let message = crate::pages::track::problems_text(problems, page.lang);
            crate::pages::counter::refused(&state, page, &visitor, message).await
        }
        Err(other) => Err(application_error(other)),
    }
}

async fn counter_draft(
    state: &WebState,
    principal: &Principal,
    id: &str,
) -> Result<Draft, WebError> {
    state
        .app
        .draft(principal, id)
        .await?
        .ok_or(WebError::NotFound)
}

/// `GET /counter/drafts/{id}`
pub async fn counter_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(query): Query<ApplyQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let draft = counter_draft(&state, principal, &id).await?;
    show_form(&state, page, Desk::Counter, &draft, query).await
}

/// `POST /counter/drafts/{id}` (multipart)
pub async fn counter_save(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let draft = counter_draft(&state, principal, &id).await?;
    save_page(
        &state,
        page,
        &visitor,
        principal,
        Desk::Counter,
        draft,
        multipart,
    )
    .await
}

/// `GET /counter/drafts/{id}/review`
pub async fn counter_review(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let draft = counter_draft(&state, principal, &id).await?;
    show_review(&state, page, Desk::Counter, &draft).await
}

/// `POST /counter/drafts/{id}/submit`
pub async fn counter_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let draft = counter_draft(&state, principal, &id).await?;
    file(&state, page, &visitor, principal, Desk::Counter, draft).await
}

/// `POST /counter/drafts/{id}/discard`
pub async fn counter_discard(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    state
        .app
        .discard_draft(principal, &visitor.client.ip, &id, Utc::now())
        .await
        .map_err(application_error)?;
    Ok(redirect("/counter"))
}
