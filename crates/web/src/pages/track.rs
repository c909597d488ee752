//! `/track`: where an application is, by tracking code and national ID, without signing in.
//! The pair is posted, not put in the address, so it stays out of logs and browser history.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::applications::{ApplicationError, ApplicationView};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::identity::Role;
use serde::Deserialize;

use crate::auth::Visitor;
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::state::WebState;

/// One step of the history, in plain words.
pub struct Step {
    pub when: String,
    pub what: String,
    pub who: String,
    pub comment: String,
}

/// What the tracking page shows of an application.
pub struct Tracked {
    pub code: String,
    pub service_code: String,
    pub service: String,
    pub state: String,
    pub next: String,
    pub deadline: Option<String>,
    pub overdue: bool,
    pub steps: Vec<Step>,
    /// The application waits for the applicant: what the agency asked for (the comment that
    /// moved it here; may be empty).
    pub request: Option<String>,
    /// When the whole service should be done, if it goes well (set by [`Tracked::load`]).
    pub expected: Option<String>,
    /// What it issued, oldest first.
    pub outputs: Vec<OutputLine>,
    /// The page may offer the outputs' PDFs (not on the anonymous tracking page).
    pub downloadable: bool,
    /// Where the page's output forms post (`/counter` to record a hand-over, `/desk` to revoke),
    /// if it offers them.
    pub output_desk: Option<&'static str>,
}

/// One issued output, as the tracking, `/me` and desk pages show it.
pub struct OutputLine {
    pub number: String,
    pub number_shown: String,
    pub title: String,
    pub code: String,
    pub revoked: bool,
    pub revoked_reason: String,
    pub handed_over: bool,
}

impl Tracked {
    /// [`Tracked::new`] with the expected completion date, which needs the holiday calendar.
    pub async fn load(
        state: &WebState,
        view: &ApplicationView,
        page: &PageContext,
    ) -> Result<Tracked, WebError> {
        let mut tracked = Tracked::new(view, page);
        tracked.expected = state
            .app
            .expected_completion(view)
            .await?
            .map(|d| page.long_date(&d));
        Ok(tracked)
    }

    pub fn new(view: &ApplicationView, page: &PageContext) -> Tracked {
        let today = JalaliDate::in_iran(Utc::now());
        let state = view.state();
        let name_of = |code: &str| {
            view.workflow
                .state(code)
                .map(|s| s.name.fa.clone())
                .unwrap_or_else(|| code.to_owned())
        };
        let code = pishkhan_domain::tracking::TrackingCode::parse(&view.record.code)
            .map(|c| page.digits(&c.grouped()))
            .unwrap_or_else(|_| view.record.code.clone());
        let request = state
            .filter(|s| {
                s.waits_for == pishkhan_domain::workflow::Party::Applicant && s.outcome.is_none()
            })
            .map(|_| {
                view.events
                    .iter()
                    .rev()
                    .find(|e| e.to_state == view.record.state)
                    .map(|e| e.comment.clone())
                    .unwrap_or_default()
            });
        Tracked {
            outputs: view
                .outputs
                .iter()
                .map(|o| OutputLine {
                    number: o.number.clone(),
                    number_shown: page.digits(&o.number),
                    title: o.title.clone(),
                    code: o.code.clone(),
                    revoked: o.revoked_at.is_some(),
                    revoked_reason: o.revoked_reason.clone().unwrap_or_default(),
                    handed_over: o.handed_over_at.is_some(),
                })
                .collect(),
            downloadable: true,
            output_desk: None,
            expected: None,
            request,
            code,
            service_code: view.card.code.clone(),
            service: view.card.title.fa.clone(),
            state: name_of(&view.record.state),
            next: state
                .and_then(|s| s.next.as_ref())
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
            deadline: view
                .record
                .deadline
                .as_deref()
                .and_then(|d| JalaliDate::parse(d).ok())
                .map(|d| page.long_date(&d)),
            overdue: view.overdue(today),
            steps: view
                .events
                .iter()
                .rev()
                .map(|e| Step {
                    when: chrono::DateTime::from_timestamp_millis(e.at)
                        .map(|at| page.moment(&at))
                        .unwrap_or_default(),
                    what: name_of(&e.to_state),
                    who: Role::from_code(&e.actor_role)
                        .map(|r| r.name_fa().to_owned())
                        .unwrap_or_default(),
                    comment: e.comment.clone(),
                })
                .collect(),
        }
    }
}

/// An action taken from a page (the desk, `/me`), on the revision the person saw.
#[derive(Deserialize)]
pub struct ActForm {
    pub action: String,
    pub revision: i64,
    #[serde(default)]
    pub comment: String,
    /// What was written for the actions' asked fields (`field.CODE`), the empty ones left out.
    #[serde(skip)]
    pub fields: Vec<(String, String)>,
}

impl ActForm {
    /// The values the chosen action asks for (the form shows every action's fields at once).
    pub fn fields_for(
        &self,
        workflow: &pishkhan_domain::workflow::Workflow,
    ) -> Vec<(String, String)> {
        let Some(action) = workflow.action(&self.action) else {
            return Vec::new();
        };
        self.fields
            .iter()
            .filter(|(code, _)| action.asks.iter().any(|a| &a.code == code))
            .cloned()
            .collect()
    }
}

/// One value an action on the page asks for: an input the action form shows.
pub struct AskedInput {
    pub action_name: String,
    pub code: String,
    pub label: String,
}

/// The asked fields of the actions a page offers (by code), in their order.
pub fn asked_inputs(
    workflow: &pishkhan_domain::workflow::Workflow,
    actions: &[(String, String, bool)],
) -> Vec<AskedInput> {
    let mut out: Vec<AskedInput> = Vec::new();
    for (code, name, _) in actions {
        let Some(action) = workflow.action(code) else {
            continue;
        };
        for asked in &action.asks {
            if out.iter().any(|o| o.code == asked.code) {
                continue;
            }
            out.push(AskedInput {
                action_name: name.clone(),
                code: asked.code.clone(),
                label: asked.label.fa.clone(),
            });
        }
    }
    out
}

/// The largest action a page may send: a comment and a few scans (each at most 5 MB).
pub const ACT_BODY_LIMIT: usize = 26 * 1024 * 1024;

/// Reads an action form (multipart, so files may come with it): the action, the revision, the
/// comment, and the files chosen (`documents`). `None` when the body is too large or broken.
pub async fn read_act(
    mut multipart: axum::extract::Multipart,
) -> Option<(ActForm, Vec<pishkhan_app::applications::Upload>)> {
    let mut form = ActForm {
        action: String::new(),
        revision: -1,
        comment: String::new(),
        fields: Vec::new(),
    };
    let mut uploads = Vec::new();
    while let Some(field) = multipart.next_field().await.ok()? {
        match field.name().unwrap_or_default() {
            "documents" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.ok()?;
                if !(file_name.is_empty() && bytes.is_empty()) {
                    uploads.push(pishkhan_app::applications::Upload {
                        requirement: String::new(),
                        file_name,
                        bytes: bytes.to_vec(),
                        provenance: None,
                    });
                }
            }
            "action" => form.action = field.text().await.ok()?,
            "revision" => form.revision = field.text().await.ok()?.trim().parse().unwrap_or(-1),
            "comment" => form.comment = field.text().await.ok()?,
            name if name.starts_with("field.") && form.fields.len() < 20 => {
                let code = name["field.".len()..].to_owned();
                let value = field.text().await.ok()?;
                if !value.trim().is_empty() {
                    form.fields.push((code, value));
                }
            }
            _ => {}
        }
    }
    Some((form, uploads))
}

/// `?done=1` after an action went through.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
    /// `?filed=1` right after the application was filed.
    #[serde(default)]
    pub filed: Option<String>,
    /// `?payment=NUMBER` back from paying: what became of that payment.
    #[serde(default)]
    pub payment: Option<String>,
}

/// What to tell a person whose action was refused; a missing application is a 404 and a
/// failure inside Pishkhan a 500.
pub fn refusal_message(error: ApplicationError, page: &PageContext) -> Result<String, WebError> {
    match error {
        ApplicationError::NotFound => Err(WebError::NotFound),
        ApplicationError::Stale => Ok(page.t.string("inbox-stale")),
        ApplicationError::Invalid(problems) => Ok(problems_text(problems, page.lang)),
        other => Err(WebError::from(other)),
    }
}

/// A refusal's problems as one message in the visitor's language.
pub fn problems_text(
    problems: Vec<pishkhan_domain::Problem>,
    lang: pishkhan_domain::Language,
) -> String {
    problems
        .into_iter()
        .map(|p| p.message(lang).to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackView {
    page: PageContext,
    code: String,
    national_id: String,
    error: Option<String>,
    found: Option<Tracked>,
    searched: bool,
}

/// `GET /track`
pub async fn form(page: PageContext) -> Result<Response, WebError> {
    render(&TrackView {
        page,
        code: String::new(),
        national_id: String::new(),
        error: None,
        found: None,
        searched: false,
    })
}

#[derive(Deserialize)]
pub struct TrackForm {
    code: String,
    national_id: String,
}

/// `POST /track`
pub async fn lookup(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<TrackForm>,
) -> Result<Response, WebError> {
    let result = state
        .app
        .track(&form.code, &form.national_id, &visitor.client.source())
        .await;
    let (found, error, status) = match result {
        Ok(Some(view)) => {
            let mut tracked = Tracked::load(&state, &view, &page).await?;
            // Whoever knows the code and national ID sees the output's code, not its file.
            tracked.downloadable = false;
            (Some(tracked), None, StatusCode::OK)
        }
        Ok(None) => (None, None, StatusCode::NOT_FOUND),
        Err(ApplicationError::Invalid(problems)) => (
            None,
            Some(problems_text(problems, page.lang)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(WebError::from(other)),
    };
    with_status(
        status,
        &TrackView {
            page,
            code: form.code,
            national_id: form.national_id,
            error,
            found,
            searched: true,
        },
    )
}

/// `POST /track/receipt`: the receipt, for whoever proves the tracking code and national ID
/// again (posted, like the lookup, so neither lands in an address).
pub async fn tracked_receipt(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<TrackForm>,
) -> Result<Response, WebError> {
    let view = match state
        .app
        .track(&form.code, &form.national_id, &visitor.client.source())
        .await
    {
        Ok(Some(view)) => view,
        Ok(None) | Err(ApplicationError::Invalid(_)) => {
            return lookup_again(state, page, visitor, form).await;
        }
        Err(other) => return Err(WebError::from(other)),
    };
    let track = format!("{}/track", page.origin);
    let pdf = state.app.receipt_of(&view, &track).await?;
    Ok(pdf_response(
        pdf,
        &format!("receipt-{}.pdf", view.record.code),
    ))
}

async fn lookup_again(
    state: WebState,
    page: PageContext,
    visitor: Visitor,
    form: TrackForm,
) -> Result<Response, WebError> {
    lookup(State(state), page, visitor, Form(form)).await
}

/// `GET /applications/{code}/receipt.pdf`: the receipt, for whoever may see the application
/// (the applicant, the centre that filed it, the agency).
pub async fn receipt(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let principal = visitor.principal().ok_or(WebError::NotFound)?;
    let track = format!("{}/track", page.origin);
    let pdf = state
        .app
        .receipt_pdf(principal, &code, &track)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(pdf_response(pdf, &format!("receipt-{}.pdf", code.trim())))
}

/// A PDF to open or save, never cached by shared caches (it names a person).
pub fn pdf_response(pdf: Vec<u8>, file_name: &str) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let safe: String = file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{safe}\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// `GET /outputs/{number}`: an output's PDF, for whoever may see its application (the holder,
/// the centre that filed it, the agency).
pub async fn output_pdf(
    State(state): State<WebState>,
    visitor: Visitor,
    axum::extract::Path(number): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let principal = visitor.principal().ok_or(WebError::NotFound)?;
    let (record, pdf) = state
        .app
        .output_pdf(principal, number.trim())
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(pdf_response(pdf, &format!("output-{}.pdf", record.number)))
}

/// `GET /outputs/{number}/credential`: the output as a W3C Verifiable Credential, for a wallet
/// or another system, to whoever may download its PDF.
pub async fn output_credential(
    State(state): State<WebState>,
    visitor: Visitor,
    axum::extract::Path(number): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let principal = visitor.principal().ok_or(WebError::NotFound)?;
    let credential = state
        .app
        .output_credential(principal, number.trim(), chrono::Utc::now())
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(crate::api::outputs::credential_response(
        credential, &number,
    ))
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    #[serde(default)]
    code: String,
    /// The QR code's payload, as its link carries it.
    #[serde(default)]
    p: String,
}

/// What the verify page shows of a verified output.
struct VerifiedView {
    status: &'static str,
    message_key: String,
    output: Option<pishkhan_app::outputs::VerifiedOutput>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    page: PageContext,
    code: String,
    result: Option<VerifiedView>,
}

/// `GET /verify`: type a code, or arrive from a QR code's link; the status in words, and what
/// a receiving clerk compares with the paper and the person.
pub async fn verify(
    State(state): State<WebState>,
    page: PageContext,
    axum::extract::Query(query): axum::extract::Query<VerifyQuery>,
) -> Result<Response, WebError> {
    let found = if !query.p.trim().is_empty() {
        Some(state.app.verify_payload(&query.p, Utc::now()).await?)
    } else if !query.code.trim().is_empty() {
        Some(state.app.verify_code(&query.code, Utc::now()).await?)
    } else {
        None
    };
    let status = match found.as_ref().map(|f| f.status) {
        Some("valid") | None => StatusCode::OK,
        Some("unknown") => StatusCode::NOT_FOUND,
        Some(_) => StatusCode::OK,
    };
    let result = found.map(|f| VerifiedView {
        status: f.status,
        message_key: format!("verify-status-{}", f.status),
        output: f.output,
    });
    with_status(
        status,
        &VerifyPage {
            page,
            code: query.code.chars().take(40).collect(),
            result,
        },
    )
}
