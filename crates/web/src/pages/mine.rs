//! A citizen's own applications (`/me/applications/{code}`): where each stands, what to do now,
//! the history with the agency's words, the receipt, and the actions that are the applicant's
//! (send again after the agency asked for something, withdraw).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::policy::Principal;
use pishkhan_domain::identity::Role;
use pishkhan_domain::workflow::Workflow;

use crate::auth::{Visitor, redirect};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::pages::track::{DoneQuery, Tracked, read_act, refusal_message};
use crate::state::WebState;

#[derive(Template)]
#[template(path = "me_application.html")]
struct MyApplication {
    page: PageContext,
    tracked: Tracked,
    code: String,
    revision: i64,
    /// (code, name, comment required)
    actions: Vec<(String, String, bool)>,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
    /// Where the action form posts, and its comment field's label and hint (message ids).
    act_url: String,
    comment_label: &'static str,
    comment_hint: Option<&'static str>,
}

fn citizen(visitor: &Visitor) -> Result<&Principal, WebError> {
    visitor
        .principal()
        .filter(|p| matches!(p, Principal::Citizen(_)))
        .ok_or(WebError::NotFound)
}

async fn page_of(
    state: &WebState,
    page: PageContext,
    principal: &Principal,
    code: &str,
    error: Option<String>,
    comment: String,
    notice: Option<String>,
) -> Result<MyApplication, WebError> {
    let view = state
        .app
        .application_for(principal, code)
        .await?
        .ok_or(WebError::NotFound)?;
    let actions = view
        .workflow
        .actions_from(&view.record.state)
        .filter(|a| Workflow::roles_of(a).any(|r| r == Role::Citizen))
        .map(|a| (a.code.clone(), a.name.fa.clone(), a.comment))
        .collect();
    Ok(MyApplication {
        tracked: Tracked::new(&view, &page),
        code: view.record.code.clone(),
        revision: view.record.revision,
        actions,
        error,
        comment,
        notice,
        act_url: format!("/me/applications/{}", view.record.code),
        comment_label: "me-comment",
        comment_hint: None,
        page,
    })
}

/// `GET /me/applications/{code}`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    let notice = match (query.done, query.filed) {
        (_, Some(_)) => Some(page.t.string("me-filed")),
        (Some(_), _) => Some(page.t.string("inbox-done")),
        _ => None,
    };
    render(&page_of(&state, page, principal, &code, None, String::new(), notice).await?)
}

/// `POST /me/applications/{code}`
pub async fn act(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let principal = citizen(&visitor)?;
    let Some((form, uploads)) = read_act(multipart).await else {
        let message = page.t.string("apply-too-large");
        return with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            &page_of(
                &state,
                page,
                principal,
                &code,
                Some(message),
                String::new(),
                None,
            )
            .await?,
        );
    };
    let result = state
        .app
        .act_on_application(
            principal,
            &visitor.client.ip,
            &code,
            form.revision,
            &form.action,
            &form.comment,
            uploads,
            None,
            Utc::now(),
        )
        .await;
    let error = match result {
        Ok(_) => return Ok(redirect(&format!("/me/applications/{code}?done=1"))),
        Err(error) => refusal_message(error, &page)?,
    };
    with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page_of(
            &state,
            page,
            principal,
            &code,
            Some(error),
            form.comment,
            None,
        )
        .await?,
    )
}
