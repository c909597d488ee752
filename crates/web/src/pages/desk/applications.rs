//! The agency desk, applications part (`/desk/applications`): the inbox of what the clerk's
//! roles may act on — by state, service, overdue work, or what they claimed —; one application
//! with its answers, documents, history and deadline; claiming it; the workflow's actions with a
//! comment. The use cases decide who may see and do what (`app::applications`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pishkhan_app::applications::ApplicationView;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::InboxFilter;
use pishkhan_domain::JalaliDate;
use pishkhan_domain::workflow::Workflow;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::track::{DoneQuery, Tracked, read_act, refusal_message};
use crate::state::WebState;

/// One line of the inbox.
pub struct InboxLine {
    pub code: String,
    pub grouped: String,
    pub service: String,
    pub state: String,
    pub filed: String,
    pub deadline: String,
    pub overdue: bool,
    pub mine: bool,
    pub channel: String,
    /// Who claimed it («بررسی‌کننده»), "" when nobody has.
    pub reviewer: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxView {
    page: PageContext,
    lines: Vec<InboxLine>,
    overdue_only: bool,
    mine_only: bool,
    /// `open` (what the clerk may act on), `all` or `closed`.
    which: String,
    /// The tracking code or national ID searched for, and what is wrong with it.
    q: String,
    q_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    service: Option<String>,
    /// `open` (default), `all`, `closed`.
    #[serde(default)]
    state: Option<String>,
    /// A tracking code or a national ID.
    #[serde(default)]
    q: Option<String>,
}

/// What the inbox's search box holds: a tracking code (11 digits) or a national ID (10), in any
/// digits and spacing; or why it is neither.
fn searched(q: &str) -> Result<(Option<String>, Option<String>), String> {
    let digits: String = pishkhan_domain::text::to_ascii_digits(q)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() {
        return Ok((None, None));
    }
    match digits.len() {
        11 => pishkhan_domain::tracking::TrackingCode::parse(&digits)
            .map(|c| (Some(c.as_str().to_owned()), None))
            .map_err(|p| p.fa),
        10 => pishkhan_domain::id::NationalId::parse(&digits)
            .map(|n| (None, Some(n.as_str().to_owned())))
            .map_err(|p| p.fa),
        _ => Err("کد رهگیری ۱۱ رقم و کد ملی ۱۰ رقم است؛ یکی از این دو را بنویسید.".to_owned()),
    }
}

fn user_id(principal: &Principal) -> String {
    principal.staff().map(|u| u.id.clone()).unwrap_or_default()
}

fn channel_key(channel: &str) -> &'static str {
    match channel {
        "centre" => "inbox-channel-centre",
        "api" => "inbox-channel-api",
        _ => "inbox-channel-online",
    }
}

/// `GET /desk/applications`
pub async fn index(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let today = JalaliDate::in_iran(Utc::now());
    let overdue_only = query.overdue.is_some();
    let mine_only = query.mine.is_some();
    let which = match query.state.as_deref() {
        Some("all") => "all",
        Some("closed") => "closed",
        _ => "open",
    };
    let q = query.q.unwrap_or_default().trim().to_owned();
    let (code, national_id, q_error) = match searched(&q) {
        Ok((code, national_id)) => (code, national_id, None),
        Err(message) => (None, None, Some(message)),
    };
    let me = user_id(principal);
    let rows = if q_error.is_some() {
        Vec::new()
    } else {
        state
            .app
            .inbox(
                principal,
                InboxFilter {
                    service: query.service.filter(|s| !s.is_empty()),
                    deadline_before: overdue_only.then(|| today.format_numeric()),
                    assignee: mine_only.then(|| me.clone()),
                    // A search looks through every state: the case may be finished.
                    include_closed: which == "all" || code.is_some() || national_id.is_some(),
                    closed_only: which == "closed",
                    code,
                    national_id,
                    limit: 200,
                    ..Default::default()
                },
            )
            .await?
    };
    let reviewers = state
        .app
        .actor_names(rows.iter().filter_map(|r| r.assignee.clone()).collect())
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(view) = state.app.application_for(principal, &row.code).await? else {
            continue;
        };
        let tracked = Tracked::new(&view, &page);
        lines.push(InboxLine {
            code: row.code.clone(),
            grouped: tracked.code,
            service: tracked.service,
            state: tracked.state,
            filed: chrono::DateTime::from_timestamp_millis(row.created_at)
                .map(|at| page.moment(&at))
                .unwrap_or_default(),
            deadline: tracked.deadline.unwrap_or_else(|| "—".into()),
            overdue: tracked.overdue,
            mine: row.assignee.as_deref() == Some(me.as_str()),
            channel: page.t.string(channel_key(&row.channel)),
            reviewer: row
                .assignee
                .as_ref()
                .and_then(|a| reviewers.get(a).cloned())
                .unwrap_or_default(),
        });
    }
    render(&InboxView {
        page,
        lines,
        overdue_only,
        mine_only,
        which: which.to_owned(),
        q,
        q_error,
    })
}

#[derive(Template)]
#[template(path = "inbox_application.html")]
struct ApplicationPage {
    page: PageContext,
    tracked: Tracked,
    code: String,
    revision: i64,
    national_id: String,
    channel: String,
    centre: String,
    assignee: String,
    answers: Vec<(String, Vec<(String, String)>)>,
    documents: Vec<DocShown>,
    /// (code, name, comment required)
    actions: Vec<(String, String, bool)>,
    /// What those actions ask to be written down.
    asked: Vec<crate::pages::track::AskedInput>,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
    /// Where the action form posts, and its comment field's label and hint (message ids).
    act_url: String,
    comment_label: &'static str,
    comment_hint: Option<&'static str>,
    /// Inquiries the clerk may ask for this application (the applicant's national ID filled in
    /// where the inquiry asks for `national_id`), and the calls made so far.
    inquiries: Vec<InquiryForm>,
    inquiry_log: Vec<InquiryLine>,
    /// The answer to the inquiry just asked.
    inquiry_answer: Option<InquiryShown>,
    /// Its payments that moved money (paid, settled, reversed), each linking to its page.
    payments: Vec<crate::pages::bills::ReceiptShown>,
}

/// One inquiry the page offers: its code, name and input fields (id, label, value, hint).
pub struct InquiryForm {
    pub code: String,
    pub name: String,
    pub fields: Vec<(String, String, String, String)>,
}

/// One logged call: when, the inquiry's name, who asked (role), how it went, how long.
pub struct InquiryLine {
    /// The entry's number in the audit chain (`pishkhan exchange verify --entry N`).
    pub seq: String,
    pub when: String,
    pub name: String,
    pub role: String,
    pub outcome: String,
    pub ms: String,
    pub hash: String,
}

/// A document as the application's page lists it.
pub struct DocShown {
    pub id: String,
    /// What it is: the card's requirement, or "attachment".
    pub what: String,
    pub file: String,
    /// An image that can be shown in the page.
    pub image: bool,
    /// Fetched from an agency's inquiry (once only): where from and what it says.
    pub fetched: Option<FetchedShown>,
}

pub struct FetchedShown {
    pub agency: String,
    pub inquiry: String,
    pub when: String,
    /// The call's entry in the exchange log, when it can be found there.
    pub entry: Option<String>,
    pub fields: Vec<(String, String)>,
}

async fn documents_shown(
    state: &WebState,
    page: &PageContext,
    view: &ApplicationView,
) -> Result<Vec<DocShown>, WebError> {
    let mut shown = Vec::with_capacity(view.documents.len());
    let mut log = None;
    for d in &view.documents {
        let fetched = match state.app.fetched_answer(d).await? {
            Some(answer) => {
                if log.is_none() {
                    log = Some(
                        state
                            .app
                            .inquiry_log_of(&view.record.code, view.record.consent.as_deref())
                            .await?,
                    );
                }
                let entry = log
                    .iter()
                    .flatten()
                    .find(|l| l.call == answer.provenance.call)
                    .map(|l| page.digits(&l.seq.to_string()));
                Some(FetchedShown {
                    agency: answer.agency,
                    inquiry: answer.inquiry,
                    when: page.moment(
                        &chrono::DateTime::from_timestamp_millis(answer.provenance.at_ms)
                            .unwrap_or_default(),
                    ),
                    entry,
                    fields: answer.fields,
                })
            }
            None => None,
        };
        shown.push(DocShown {
            id: d.id.clone(),
            what: if d.requirement.is_empty() {
                page.t.string("inbox-attachment")
            } else {
                d.requirement.clone()
            },
            file: d.file_name.clone(),
            image: matches!(d.content_type.as_str(), "image/jpeg" | "image/png"),
            fetched,
        });
    }
    Ok(shown)
}

/// The answer just received.
pub struct InquiryShown {
    pub name: String,
    pub found: bool,
    pub cached: bool,
    pub lines: Vec<(String, String)>,
}

impl InquiryShown {
    /// An answer as a page shows it: the output fields by their labels, in the definition's
    /// order, yes/no in words.
    pub(crate) fn of(
        definition: &pishkhan_app::inquiries::InquiryDefinition,
        answer: &pishkhan_app::inquiries::InquiryAnswer,
        page: &PageContext,
    ) -> InquiryShown {
        let lines = definition
            .output
            .iter()
            .filter_map(|f| {
                answer.output.get(&f.id).map(|v| {
                    let text = match v {
                        serde_json::Value::String(s) if s == "yes" => page.t.string("inquiry-yes"),
                        serde_json::Value::String(s) if s == "no" => page.t.string("inquiry-no"),
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (f.label.fa.clone(), text)
                })
            })
            .collect();
        InquiryShown {
            name: definition.name.fa.clone(),
            found: answer.found,
            cached: answer.cached,
            lines,
        }
    }
}

/// An inquiry's input from a posted form: its fields that were filled, trimmed.
pub(crate) fn inquiry_input(
    definition: &pishkhan_app::inquiries::InquiryDefinition,
    form: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    definition
        .input
        .iter()
        .filter_map(|f| {
            form.get(&f.id)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (f.id.clone(), serde_json::Value::String(v.trim().to_owned())))
        })
        .collect()
}

/// The message for an inquiry that was not answered; `Err` for what is not the asker's to fix.
pub(crate) fn inquiry_refusal(
    error: pishkhan_app::inquiries::InquiryError,
    page: &PageContext,
) -> Result<String, WebError> {
    use pishkhan_app::inquiries::InquiryError;
    match error {
        InquiryError::Invalid(problems) => Ok(problems
            .iter()
            .map(|p| p.message(page.lang).to_owned())
            .collect::<Vec<_>>()
            .join(" ")),
        InquiryError::Refused(p) | InquiryError::Unavailable(p) => {
            Ok(p.message(page.lang).to_owned())
        }
        InquiryError::NotFound => Err(WebError::NotFound),
        InquiryError::Store(e) => Err(e.into()),
    }
}

/// What a logged outcome says, in the person's language.
fn outcome_text(outcome: &str, page: &PageContext) -> String {
    page.t.string(match outcome {
        "answered" => "inquiry-outcome-answered",
        "cached" => "inquiry-outcome-cached",
        "not-found" => "inquiry-outcome-not-found",
        "timeout" => "inquiry-outcome-timeout",
        "breaker-open" => "inquiry-outcome-breaker",
        _ => "inquiry-outcome-failed",
    })
}

async fn inquiry_parts(
    state: &WebState,
    page: &PageContext,
    principal: &Principal,
    view: &ApplicationView,
) -> Result<(Vec<InquiryForm>, Vec<InquiryLine>), WebError> {
    let definitions = state
        .app
        .inquiries_for_application(principal, &view.record.code)
        .await?;
    // What the application already says fills an inquiry's field of the same name (the
    // applicant's national ID; the shop's postal code for the premises check).
    // Answers are kept by form, then by field.
    let answers: std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&view.record.answers).unwrap_or_default();
    let forms = definitions
        .iter()
        .map(|d| InquiryForm {
            code: d.code.clone(),
            name: d.name.fa.clone(),
            fields: d
                .input
                .iter()
                .map(|f| {
                    let value = match f.kind {
                        pishkhan_domain::forms::FieldKind::NationalId {}
                            if f.id == "national_id" =>
                        {
                            Some(view.record.national_id.clone())
                        }
                        _ => answers
                            .values()
                            .find_map(|form| form.get(&f.id))
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned),
                    }
                    .unwrap_or_default();
                    let hint = match f.kind {
                        pishkhan_domain::forms::FieldKind::JalaliDate {} => {
                            page.t.string("inquiry-date-hint")
                        }
                        _ => String::new(),
                    };
                    (f.id.clone(), f.label.fa.clone(), value, hint)
                })
                .collect(),
        })
        .collect();
    let names: std::collections::BTreeMap<String, String> = state
        .app
        .inquiry_definitions(None)
        .await?
        .into_iter()
        .map(|d| (d.code, d.name.fa))
        .collect();
    let log = state
        .app
        .inquiry_log_of(&view.record.code, view.record.consent.as_deref())
        .await?
        .into_iter()
        .map(|l| InquiryLine {
            seq: page.digits(&l.seq.to_string()),
            when: page.moment(&l.at),
            name: names.get(&l.inquiry).cloned().unwrap_or(l.inquiry),
            role: pishkhan_domain::identity::Role::from_code(&l.role)
                .map(|r| page.role_name(r))
                .unwrap_or(l.role),
            outcome: outcome_text(&l.outcome, page),
            ms: page.digits(&l.ms.to_string()),
            hash: l.hash.chars().take(12).collect(),
        })
        .collect();
    Ok((forms, log))
}

async fn application_page(
    state: &WebState,
    page: PageContext,
    principal: &Principal,
    view: ApplicationView,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
) -> Result<ApplicationPage, WebError> {
    let answers = state.app.labelled_answers(&view).await?;
    let role_actions: Vec<(String, String, bool)> = view
        .workflow
        .actions_from(&view.record.state)
        .filter(|a| {
            Workflow::roles_of(a).any(|r| {
                principal.has_role(r)
                    && matches!(
                        r,
                        pishkhan_domain::identity::Role::AgencyClerk
                            | pishkhan_domain::identity::Role::AgencyAdmin
                    )
            })
        })
        .map(|a| (a.code.clone(), a.name.fa.clone(), a.comment))
        .collect();
    let me = user_id(principal);
    let assignee = match view.record.assignee.as_deref() {
        None => page.t.string("inbox-unassigned"),
        Some(id) if id == me => page.t.string("inbox-assigned-me"),
        Some(id) => state
            .app
            .actor_names(vec![id.to_owned()])
            .await?
            .remove(id)
            .unwrap_or_else(|| page.t.string("inbox-assigned-other")),
    };
    let (inquiries, inquiry_log) = inquiry_parts(state, &page, principal, &view).await?;
    let directory = state.app.org_directory().await?;
    let payments = state
        .app
        .payments_of_application(&view.record.code)
        .await?
        .iter()
        .filter(|p| matches!(p.state.as_str(), "paid" | "settled" | "reversed"))
        .map(|p| crate::pages::bills::receipt_of(&directory, &page, p))
        .collect();
    Ok(ApplicationPage {
        payments,
        inquiries,
        inquiry_log,
        inquiry_answer: None,
        tracked: {
            let mut tracked = Tracked::new(&view, &page);
            tracked.output_desk = Some("/desk");
            tracked
        },
        code: view.record.code.clone(),
        revision: view.record.revision,
        national_id: view.record.national_id.clone(),
        channel: page.t.string(channel_key(&view.record.channel)),
        centre: view.record.centre.clone().unwrap_or_default(),
        assignee,
        answers,
        documents: documents_shown(state, &page, &view).await?,
        asked: crate::pages::track::asked_inputs(&view.workflow, &role_actions),
        actions: role_actions,
        error,
        comment,
        notice,
        act_url: format!("/desk/applications/{}", view.record.code),
        comment_label: "inbox-comment",
        comment_hint: Some("inbox-comment-hint"),
        page,
    })
}

/// `GET /desk/applications/{code}`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let view = state
        .app
        .application_for(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let notice = query.done.map(|_| page.t.string("inbox-done"));
    render(&application_page(&state, page, principal, view, None, String::new(), notice).await?)
}

/// `POST /desk/applications/{code}`: one workflow action (or `claim`).
pub async fn act(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let Some((form, uploads)) = read_act(multipart).await else {
        let view = state
            .app
            .application_for(principal, &code)
            .await?
            .ok_or(WebError::NotFound)?;
        let message = page.t.string("apply-too-large");
        return with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            &application_page(
                &state,
                page,
                principal,
                view,
                Some(message),
                String::new(),
                None,
            )
            .await?,
        );
    };
    let result = if form.action == "claim" {
        let me = user_id(principal);
        state
            .app
            .assign_application(
                principal,
                &visitor.client.ip,
                &code,
                form.revision,
                Some(&me),
                Utc::now(),
            )
            .await
            .map(|()| None)
    } else {
        let fields = match state.app.application_for(principal, &code).await? {
            Some(view) => form.fields_for(&view.workflow),
            None => Vec::new(),
        };
        state
            .app
            .act_on_application_with(
                principal,
                &visitor.client.ip,
                &code,
                form.revision,
                &form.action,
                &form.comment,
                &fields,
                uploads,
                None,
                None,
                Utc::now(),
            )
            .await
            .map(Some)
    };
    let error = match result {
        Ok(_) => return Ok(redirect(&format!("/desk/applications/{code}?done=1"))),
        Err(error) => refusal_message(error, &page)?,
    };
    let view = state
        .app
        .application_for(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &application_page(
            &state,
            page,
            principal,
            view,
            Some(error),
            form.comment,
            None,
        )
        .await?,
    )
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

/// `POST /desk/outputs/{number}/revoke`: the agency revokes an output, with the reason; back to
/// the application, or the refusal on it.
pub async fn revoke_output(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
    axum::Form(form): axum::Form<RevokeForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let code = number
        .rsplit_once('-')
        .map(|(code, _)| code.to_owned())
        .unwrap_or_default();
    let error = match state
        .app
        .revoke_output(
            principal,
            &visitor.client.ip,
            &number,
            &form.reason,
            Utc::now(),
        )
        .await
    {
        Ok(()) => return Ok(redirect(&format!("/desk/applications/{code}?done=1"))),
        Err(error) => refusal_message(error, &page)?,
    };
    let view = state
        .app
        .application_for(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &application_page(
            &state,
            page,
            principal,
            view,
            Some(error),
            String::new(),
            None,
        )
        .await?,
    )
}

/// `POST /desk/applications/{code}/inquiries/{inquiry}`: asks an inquiry for this application;
/// the page again, with the answer (or why there is none) and the call in its log.
pub async fn inquire(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path((code, inquiry)): Path<(String, String)>,
    axum::Form(form): axum::Form<std::collections::BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let definition = state
        .app
        .inquiries_for_application(principal, &code)
        .await?
        .into_iter()
        .find(|d| d.code == inquiry)
        .ok_or(WebError::NotFound)?;
    let input = inquiry_input(&definition, &form);
    let purpose = pishkhan_app::inquiries::Purpose {
        application: Some(code.clone()),
        consent: None,
        ..Default::default()
    };
    let asked = state
        .app
        .inquire(
            principal,
            &visitor.client.ip,
            &inquiry,
            &purpose,
            &input,
            Utc::now(),
        )
        .await;
    let view = state
        .app
        .application_for(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let (answer, error) = match asked {
        Ok(answer) => (Some(InquiryShown::of(&definition, &answer, &page)), None),
        Err(error) => (None, Some(inquiry_refusal(error, &page)?)),
    };
    let failed = error.is_some();
    let mut shown =
        application_page(&state, page, principal, view, error, String::new(), None).await?;
    shown.inquiry_answer = answer;
    // The form asked keeps what was typed.
    for asked in shown.inquiries.iter_mut().filter(|q| q.code == inquiry) {
        for (id, _, value, _) in &mut asked.fields {
            if let Some(typed) = form.get(id.as_str()) {
                value.clone_from(typed);
            }
        }
    }
    if failed {
        with_status(StatusCode::UNPROCESSABLE_ENTITY, &shown)
    } else {
        render(&shown)
    }
}

/// `GET /desk/applications/{code}/documents/{id}`: a document, shown in the browser (PDF and
/// images only, as judged when it was uploaded), never run as a page.
pub async fn document(
    State(state): State<WebState>,
    visitor: Visitor,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let (doc, bytes) = state
        .app
        .application_document(principal, &code, &id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, doc.content_type.clone()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"document-{}\"", doc.id),
            ),
        ],
        bytes,
    )
        .into_response())
}
