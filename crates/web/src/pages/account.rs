//! A person's own pages: `/account` for staff (roles, second factor, password, sessions) and
//! `/me` for citizens (everything centres filed on their behalf).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::ConsentRecord;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::pages::signin::{ChangePasswordView, Enrolment, SecondFactorView};
use crate::state::WebState;

/// One role as the account page lists it.
pub struct GrantLine {
    pub role: String,
    /// The organisation's or province's name, when it has one.
    pub scope_name: Option<String>,
}

/// Where a role applies, in words: «همهٔ استان‌ها»، «استان تهران»، the agency's or centre's
/// name; the code only when nothing better is known (in English, the code).
pub fn scope_words(
    scope: &pishkhan_domain::identity::Scope,
    directory: &pishkhan_app::records::OrgDirectory,
    page: &PageContext,
) -> String {
    use pishkhan_domain::identity::Scope;
    if page.lang == pishkhan_domain::Language::English {
        return scope.to_string();
    }
    let named = directory.name_of(scope).map(str::to_owned);
    match scope {
        Scope::National => "همهٔ استان‌ها".to_owned(),
        Scope::SelfOnly => "فقط حساب خودش".to_owned(),
        Scope::Province(code) => format!("استان {}", named.unwrap_or_else(|| code.clone())),
        Scope::Agency { agency, unit } => {
            let name = named.unwrap_or_else(|| agency.clone());
            match unit {
                Some(unit) => format!("{name}، واحد {unit}"),
                None => name,
            }
        }
        Scope::Centre(code) => named.unwrap_or_else(|| code.clone()),
    }
}

pub fn grant_lines(
    principal_grants: &[pishkhan_domain::identity::RoleGrant],
    directory: &pishkhan_app::records::OrgDirectory,
    page: &PageContext,
) -> Vec<GrantLine> {
    principal_grants
        .iter()
        .map(|g| GrantLine {
            role: page.role_name(g.role()),
            scope_name: Some(scope_words(g.scope(), directory, page)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView {
    page: PageContext,
    username: String,
    name: String,
    grants: Vec<GrantLine>,
    has_second_factor: bool,
    sessions: i64,
    changed: bool,
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    changed: Option<String>,
}

/// `GET /account`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let Principal::Staff(user) = principal else {
        return Err(WebError::NotFound);
    };
    let directory = state.app.org_directory().await?;
    let sessions = state.app.open_sessions(principal).await?;
    render(&AccountView {
        grants: grant_lines(&user.grants, &directory, &page),
        page,
        username: user.username.clone(),
        name: user.display_name.clone(),
        has_second_factor: user.has_second_factor,
        sessions,
        changed: query.changed.is_some(),
    })
}

/// `GET /account/second-factor`: a new secret to add to an authenticator app.
pub async fn second_factor_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let Principal::Staff(user) = staff(&visitor)? else {
        return Err(WebError::NotFound);
    };
    let Some(session) = visitor.session.as_deref() else {
        return Ok(redirect("/signin"));
    };
    let secret = state.app.begin_second_factor_enrolment(session).await?;
    render(&SecondFactorView {
        page,
        enrol: Some(Enrolment::new(&secret, &user.username)),
        action: "/account/second-factor",
        error: None,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /account/second-factor`
pub async fn second_factor_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let Principal::Staff(user) = staff(&visitor)? else {
        return Err(WebError::NotFound);
    };
    let Some(session) = visitor.session.as_deref() else {
        return Ok(redirect("/signin"));
    };
    match state
        .app
        .enrol_second_factor(session, &form.code, &visitor.client, Utc::now())
        .await
    {
        Ok(_) => Ok(redirect("/account")),
        Err(error) => {
            let message = error.message(page.lang);
            let mut response = render(&SecondFactorView {
                enrol: session
                    .pending_secret
                    .as_ref()
                    .map(|s| Enrolment::new(s, &user.username)),
                page,
                action: "/account/second-factor",
                error: Some(message),
            })?;
            *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            Ok(response)
        }
    }
}

/// `GET /account/password`
pub async fn password_form(page: PageContext) -> Result<Response, WebError> {
    render(&ChangePasswordView {
        page,
        forced: false,
        error: None,
    })
}

#[derive(Template)]
#[template(path = "me.html")]
struct MeView {
    page: PageContext,
    national_id: String,
    mobile: String,
    consents: Vec<ConsentRecord>,
    sessions: i64,
    /// (code, grouped code, service, state, filed)
    applications: Vec<(String, String, String, String, String)>,
    /// Drafts to go on with: (service code, service title, last change).
    drafts: Vec<(String, String, String)>,
}

/// `GET /me`
pub async fn me(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let Some(principal @ Principal::Citizen(citizen)) = visitor.principal() else {
        return Err(WebError::NotFound);
    };
    let consents = state.app.consents_of(citizen).await?;
    let sessions = state.app.open_sessions(principal).await?;
    let mut applications = Vec::new();
    for record in state.app.my_applications(principal).await? {
        if let Some(view) = state.app.application_for(principal, &record.code).await? {
            let tracked = crate::pages::track::Tracked::new(&view, &page);
            applications.push((
                record.code.clone(),
                tracked.code,
                tracked.service,
                tracked.state,
                chrono::DateTime::from_timestamp_millis(record.created_at)
                    .map(|at| page.moment(&at))
                    .unwrap_or_default(),
            ));
        }
    }
    let mut drafts = Vec::new();
    for draft in state.app.drafts(principal).await? {
        if let Some(found) = state.app.service_page(&draft.service).await? {
            drafts.push((
                draft.service.clone(),
                found.service.card.title.fa.clone(),
                page.moment(&draft.updated_at),
            ));
        }
    }
    render(&MeView {
        applications,
        drafts,
        national_id: page.digits(&citizen.national_id),
        mobile: page.digits(&pishkhan_app::auth::mask_mobile(&citizen.mobile)),
        page,
        consents,
        sessions,
    })
}
