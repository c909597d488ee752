//! An application from the applicant's side: the citizen's own (`/me/applications/{code}`) and
//! the same application followed up at the counter of the centre that filed it
//! (`/counter/applications/{code}`). Both show where it stands, what the agency asked for at the
//! top, the history with the agency's words, the receipt, and the applicant's actions: send
//! again after the agency asked for something, hand the output over (the counter), and withdraw
//! — on its own page that says what will happen, never one tap away. One use case behind both:
//! the operator acts through the same workflow, and withdraws only with the citizen's consent.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::applications::ApplicationView;
use pishkhan_app::policy::Principal;
use pishkhan_domain::identity::Role;
use pishkhan_domain::workflow::Workflow;

use crate::auth::{Visitor, redirect};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::track::{DoneQuery, Tracked, read_act, refusal_message};
use crate::state::WebState;

/// Whose side of the application a page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The signed-in citizen's own application.
    Citizen,
    /// The counter of the centre that filed it, for the citizen in front of it.
    Counter,
}

impl Side {
    fn role(self) -> Role {
        match self {
            Side::Citizen => Role::Citizen,
            Side::Counter => Role::Operator,
        }
    }

    pub(crate) fn base(self) -> &'static str {
        match self {
            Side::Citizen => "/me/applications",
            Side::Counter => "/counter/applications",
        }
    }

    pub(crate) fn principal(self, visitor: &Visitor) -> Result<&Principal, WebError> {
        visitor
            .principal()
            .filter(|p| match self {
                Side::Citizen => matches!(p, Principal::Citizen(_)),
                Side::Counter => matches!(p, Principal::Staff(_)),
            })
            .ok_or(WebError::NotFound)
    }

    pub fn is_counter(&self) -> bool {
        *self == Side::Counter
    }
}

#[derive(Template)]
#[template(path = "me_application.html")]
pub(crate) struct ApplicantView {
    page: PageContext,
    side: Side,
    tracked: Tracked,
    code: String,
    national_id: String,
    revision: i64,
    /// (code, name, comment required)
    actions: Vec<(String, String, bool)>,
    /// What those actions ask to be written down.
    asked: Vec<crate::pages::track::AskedInput>,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
    /// Just filed at the counter: the tracking code to read out, large.
    filed: bool,
    /// Where the action form posts, and its comment field's label and hint (message ids).
    act_url: String,
    comment_label: &'static str,
    comment_hint: Option<&'static str>,
    /// The applicant may withdraw now: a link to the page that asks first.
    may_withdraw: bool,
    /// What the application owes at its paying state, and how to pay it here.
    bill: Option<crate::pages::pay::BillView>,
}

/// The action that withdraws the application from its current state, if `role` may.
fn withdrawal(view: &ApplicationView, role: Role) -> Option<String> {
    view.workflow
        .actions_from(&view.record.state)
        .find(|a| view.workflow.withdraws(a) && Workflow::roles_of(a).any(|r| r == role))
        .map(|a| a.code.clone())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn page_of(
    state: &WebState,
    page: PageContext,
    side: Side,
    principal: &Principal,
    code: &str,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
) -> Result<ApplicantView, WebError> {
    let view = state
        .app
        .application_for(principal, code)
        .await?
        .ok_or(WebError::NotFound)?;
    let role = side.role();
    let actions: Vec<(String, String, bool)> = view
        .workflow
        .actions_from(&view.record.state)
        .filter(|a| Workflow::roles_of(a).any(|r| r == role))
        .filter(|a| !view.workflow.withdraws(a))
        .map(|a| (a.code.clone(), a.name.fa.clone(), a.comment))
        .collect();
    let may_withdraw = withdrawal(&view, role).is_some();
    let asked = crate::pages::track::asked_inputs(&view.workflow, &actions);
    let bill = crate::pages::pay::BillView::of(state, &view.record, &page).await?;
    Ok(ApplicantView {
        asked,
        tracked: {
            let mut tracked = Tracked::load(state, &view, &page).await?;
            if matches!(side, Side::Counter) {
                tracked.output_desk = Some("/counter");
            }
            tracked
        },
        code: view.record.code.clone(),
        national_id: page.digits(&view.record.national_id),
        revision: view.record.revision,
        actions,
        error,
        comment,
        notice,
        filed: false,
        act_url: format!("{}/{}", side.base(), view.record.code),
        comment_label: "me-comment",
        comment_hint: None,
        may_withdraw,
        bill,
        side,
        page,
    })
}

async fn show_side(
    state: WebState,
    page: PageContext,
    visitor: Visitor,
    side: Side,
    code: String,
    query: DoneQuery,
) -> Result<Response, WebError> {
    let principal = side.principal(&visitor)?;
    let paid = match &query.payment {
        Some(number) => crate::pages::pay::payment_notice(&state, &code, number, &page).await?,
        None => None,
    };
    let notice = match (query.done, &query.filed) {
        _ if paid.is_some() => paid,
        (_, Some(_)) if side == Side::Citizen => Some(page.t.string("me-filed")),
        (Some(_), _) => Some(page.t.string("inbox-done")),
        _ => None,
    };
    let mut view = page_of(
        &state,
        page,
        side,
        principal,
        &code,
        None,
        String::new(),
        notice,
    )
    .await?;
    view.filed = side == Side::Counter && query.filed.is_some();
    crate::pages::pay::allowing_gateway(&state, render(&view))
}

/// `GET /me/applications/{code}`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    show_side(state, page, visitor, Side::Citizen, code, query).await
}

/// `GET /counter/applications/{code}`: right after filing, the tracking code to read out and
/// the receipt to print; later, the follow-up for the citizen at the counter.
pub async fn counter_show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    show_side(state, page, visitor, Side::Counter, code, query).await
}

async fn act_side(
    state: WebState,
    page: PageContext,
    visitor: Visitor,
    side: Side,
    code: String,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let principal = side.principal(&visitor)?;
    let Some((form, uploads)) = read_act(multipart).await else {
        let message = page.t.string("apply-too-large");
        let view = page_of(
            &state,
            page,
            side,
            principal,
            &code,
            Some(message),
            String::new(),
            None,
        )
        .await?;
        return with_status(StatusCode::PAYLOAD_TOO_LARGE, &view);
    };
    // Withdrawing is never taken from the action form: it has its own page that asks first.
    let current = state.app.application_for(principal, &code).await?;
    let withdraws = current.as_ref().is_some_and(|v| {
        v.workflow
            .action(&form.action)
            .is_some_and(|a| v.workflow.withdraws(a))
    });
    let fields = current
        .as_ref()
        .map(|v| form.fields_for(&v.workflow))
        .unwrap_or_default();
    // A refusal is shown on the page; a missing application is 404 and a failure inside
    // Pishkhan keeps its own answer (500, or 503 while storage is unavailable).
    let error = if withdraws {
        page.t.string("withdraw-use-page")
    } else {
        match state
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
        {
            Ok(_) => return Ok(redirect(&format!("{}/{code}?done=1", side.base()))),
            Err(error) => refusal_message(error, &page)?,
        }
    };
    let view = page_of(
        &state,
        page,
        side,
        principal,
        &code,
        Some(error),
        form.comment,
        None,
    )
    .await?;
    with_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// `POST /me/applications/{code}`
pub async fn act(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    act_side(state, page, visitor, Side::Citizen, code, multipart).await
}

/// `POST /counter/outputs/{number}/hand-over`: the operator records that the output was
/// printed and handed to its holder; back to the application, or the refusal on it.
pub async fn counter_hand_over(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    let principal = visitor.principal().ok_or(WebError::NotFound)?;
    let application = number
        .rsplit_once('-')
        .map(|(code, _)| code.to_owned())
        .unwrap_or_default();
    let error = match state
        .app
        .hand_over_output(principal, &visitor.client.ip, &number, Utc::now())
        .await
    {
        Ok(()) => {
            return Ok(redirect(&format!(
                "{}/{application}?done=1",
                Side::Counter.base()
            )));
        }
        Err(error) => refusal_message(error, &page)?,
    };
    let view = page_of(
        &state,
        page,
        Side::Counter,
        principal,
        &application,
        Some(error),
        String::new(),
        None,
    )
    .await?;
    with_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// `POST /counter/applications/{code}`
pub async fn counter_act(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    act_side(state, page, visitor, Side::Counter, code, multipart).await
}

#[derive(Template)]
#[template(path = "me_withdraw.html")]
struct WithdrawPage {
    page: PageContext,
    side: Side,
    tracked: Tracked,
    code: String,
    revision: i64,
    comment: String,
    error: Option<String>,
}

impl WithdrawPage {
    fn base(&self) -> &'static str {
        self.side.base()
    }
}

async fn withdraw_page(
    state: &WebState,
    page: PageContext,
    side: Side,
    principal: &Principal,
    code: &str,
    comment: String,
    error: Option<String>,
) -> Result<Result<WithdrawPage, Response>, WebError> {
    let view = state
        .app
        .application_for(principal, code)
        .await?
        .ok_or(WebError::NotFound)?;
    if withdrawal(&view, side.role()).is_none() && error.is_none() {
        // Nothing to confirm any more (already closed, or past the point of withdrawal).
        return Ok(Err(redirect(&format!(
            "{}/{}",
            side.base(),
            view.record.code
        ))));
    }
    Ok(Ok(WithdrawPage {
        tracked: Tracked::new(&view, &page),
        code: view.record.code.clone(),
        revision: view.record.revision,
        comment,
        error,
        side,
        page,
    }))
}

async fn withdraw_form_side(
    state: WebState,
    page: PageContext,
    visitor: Visitor,
    side: Side,
    code: String,
) -> Result<Response, WebError> {
    let principal = side.principal(&visitor)?;
    match withdraw_page(&state, page, side, principal, &code, String::new(), None).await? {
        Ok(view) => render(&view),
        Err(moved) => Ok(moved),
    }
}

/// `GET /me/applications/{code}/withdraw`: what withdrawing means, and a button to confirm it.
pub async fn withdraw_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    withdraw_form_side(state, page, visitor, Side::Citizen, code).await
}

/// `GET /counter/applications/{code}/withdraw`
pub async fn counter_withdraw_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    withdraw_form_side(state, page, visitor, Side::Counter, code).await
}

#[derive(serde::Deserialize)]
pub struct WithdrawForm {
    revision: i64,
    #[serde(default)]
    comment: String,
}

async fn withdraw_side(
    state: WebState,
    page: PageContext,
    visitor: Visitor,
    side: Side,
    code: String,
    form: WithdrawForm,
) -> Result<Response, WebError> {
    let principal = side.principal(&visitor)?;
    let view = state
        .app
        .application_for(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let error = match withdrawal(&view, side.role()) {
        None => page.t.string("withdraw-too-late"),
        Some(action) => {
            let result = state
                .app
                .act_on_application(
                    principal,
                    &visitor.client.ip,
                    &code,
                    form.revision,
                    &action,
                    &form.comment,
                    Vec::new(),
                    None,
                    Utc::now(),
                )
                .await;
            match result {
                Ok(_) => return Ok(redirect(&format!("{}/{code}?done=1", side.base()))),
                Err(error) => refusal_message(error, &page)?,
            }
        }
    };
    match withdraw_page(
        &state,
        page,
        side,
        principal,
        &code,
        form.comment,
        Some(error),
    )
    .await?
    {
        Ok(view) => with_status(StatusCode::UNPROCESSABLE_ENTITY, &view),
        Err(moved) => Ok(moved),
    }
}

/// `POST /me/applications/{code}/withdraw`: withdraws, on the revision the person confirmed.
pub async fn withdraw(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<WithdrawForm>,
) -> Result<Response, WebError> {
    withdraw_side(state, page, visitor, Side::Citizen, code, form).await
}

/// `POST /counter/applications/{code}/withdraw`: withdraws in the applicant's name (the app
/// refuses unless the applicant's consent at this centre is open).
pub async fn counter_withdraw(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<WithdrawForm>,
) -> Result<Response, WebError> {
    withdraw_side(state, page, visitor, Side::Counter, code, form).await
}
