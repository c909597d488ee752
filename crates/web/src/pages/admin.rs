//! Administration (`/admin`): accounts inside the admin's scope (governorate admins: their
//! province; centre managers: their operators; agency admins: their clerks, editors and API
//! clients) and the holiday table (governorate admins). An account outside the admin's scope
//! answers 404, exactly like one that does not exist.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::audit::Actor;
use pishkhan_app::holidays::ImportError;
use pishkhan_app::policy::{PROVINCE_EDITORS, Principal, USER_ADMINS};
use pishkhan_app::records::UserRecord;
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::pages::account::{GrantLine, grant_lines};
use crate::state::WebState;

fn actor(visitor: &Visitor) -> Result<Actor, WebError> {
    visitor.actor().ok_or(WebError::NotFound)
}

fn holds(principal: &Principal, roles: &[Role]) -> bool {
    roles.iter().any(|r| principal.has_role(*r))
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminView {
    page: PageContext,
    users: bool,
    /// The province's plan and catalogue import.
    province: bool,
    /// What applies to every province: holidays, synonyms, notification texts.
    national: bool,
    editing: bool,
    /// Agencies' systems: webhooks and deliveries.
    exchange: bool,
    /// A governorate admin's province: its name and today's figures.
    today: Option<Today>,
}

/// `GET /admin`
pub async fn index(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let today = match state.app.province_figures(principal).await? {
        Some((province, figures)) => {
            let plan = state.app.plan_status(principal).await?;
            let name = state
                .app
                .public_provinces()
                .await?
                .iter()
                .find(|p| p.code == province)
                .map_or_else(|| province.clone(), |p| p.name_fa.clone());
            let n = |v: i64| page.digits(&v.to_string());
            Some(Today {
                province: name,
                filed: n(figures.filed_today),
                open: n(figures.open),
                overdue: figures
                    .overdue_by_agency
                    .iter()
                    .map(|(code, name, count)| (code.clone(), name.clone(), n(*count)))
                    .collect(),
                in_review: n(figures.cards_in_review),
                plan_due: plan
                    .as_ref()
                    .and_then(|p| p.due)
                    .map(|d| page.long_date(&d)),
                agencies_late: plan
                    .as_ref()
                    .map(|p| n(p.agencies.iter().filter(|a| a.late).count() as i64)),
                agencies_complete: plan.as_ref().map(|p| {
                    format!(
                        "{} {} {}",
                        n(p.agencies.iter().filter(|a| a.complete).count() as i64),
                        page.t.string("admin-of"),
                        n(p.agencies.len() as i64)
                    )
                }),
            })
        }
        None => None,
    };
    render(&AdminView {
        today,
        page,
        users: holds(principal, USER_ADMINS),
        province: holds(principal, PROVINCE_EDITORS),
        national: pishkhan_app::policy::NATIONAL_SETTINGS_EDITORS
            .iter()
            .any(|r| principal.holds_nationally(*r)),
        editing: holds(principal, pishkhan_app::catalog::EDITORS),
        exchange: holds(principal, pishkhan_app::policy::EXCHANGE_ADMINS),
    })
}

/// Today's figures of the admin's province, as `/admin` opens on them.
pub struct Today {
    pub province: String,
    pub filed: String,
    pub open: String,
    /// (agency code, name, count) of open applications past their deadline.
    pub overdue: Vec<(String, String, String)>,
    pub in_review: String,
    /// Article 2.1: when the agencies' hand-in is due, how many are late, how many complete.
    pub plan_due: Option<String>,
    pub agencies_late: Option<String>,
    pub agencies_complete: Option<String>,
}

/// A role the admin may give, with a scope to suggest.
pub struct RoleOption {
    pub code: &'static str,
    pub name: String,
}

pub struct UserLine {
    pub id: String,
    pub username: String,
    pub name: String,
    pub grants: Vec<GrantLine>,
    pub disabled: bool,
    pub has_second_factor: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersView {
    page: PageContext,
    users: Vec<UserLine>,
    roles: Vec<RoleOption>,
    scopes: Vec<String>,
    form: NewUserForm,
    /// After creating: (username, the generated password, shown once).
    created: Option<(String, String)>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

async fn users_view(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    form: NewUserForm,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Result<UsersView, WebError> {
    let principal = staff(visitor)?;
    let directory = state.app.org_directory().await?;
    let users = state
        .app
        .manageable_users(principal)
        .await?
        .into_iter()
        .map(|u| line(u, &directory, &page))
        .collect();
    // Roles the admin's grants can give, and scopes inside the admin's own.
    let roles = pishkhan_app::policy::grantable_roles(principal)
        .into_iter()
        .map(|role| RoleOption {
            code: role.code(),
            name: page.role_name(role),
        })
        .collect();
    let mut scopes: Vec<String> = principal
        .grants()
        .iter()
        .filter(|g| USER_ADMINS.contains(&g.role()))
        .map(|g| g.scope().to_string())
        .collect();
    for org in directory.all() {
        let scope = match org.kind {
            pishkhan_app::records::OrgKind::Agency => Scope::Agency {
                agency: org.code.clone(),
                unit: None,
            },
            pishkhan_app::records::OrgKind::Centre => Scope::Centre(org.code.clone()),
        };
        let inside = principal
            .grants()
            .iter()
            .any(|g| USER_ADMINS.contains(&g.role()) && g.scope().contains(&scope, &directory));
        if inside && !scopes.contains(&scope.to_string()) {
            scopes.push(scope.to_string());
        }
    }
    Ok(UsersView {
        page,
        users,
        roles,
        scopes,
        form,
        created,
        error,
    })
}

fn line(
    user: UserRecord,
    directory: &pishkhan_app::records::OrgDirectory,
    page: &PageContext,
) -> UserLine {
    UserLine {
        grants: grant_lines(&user.grants, directory, page),
        id: user.id,
        username: user.username,
        name: user.display_name,
        disabled: user.disabled,
        has_second_factor: user.has_second_factor,
    }
}

/// `GET /admin/users`
pub async fn users(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    render(&users_view(&state, page, &visitor, NewUserForm::default(), None, None).await?)
}

/// `POST /admin/users`: creates an account with a generated password, shown once.
pub async fn create_user(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<NewUserForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let lang = page.lang;
    let grant = Role::from_code(form.role.trim())
        .and_then(|role| Scope::parse(form.scope.trim()).map(|scope| (role, scope)))
        .and_then(|(role, scope)| RoleGrant::new(role, scope));
    let result = match grant {
        Ok(grant) => state
            .app
            .admin_create_user(
                principal,
                &actor(&visitor)?,
                form.username.trim(),
                &form.name,
                vec![grant],
            )
            .await
            .map_err(|e| {
                if matches!(e, pishkhan_app::users::UserError::Store(_)) {
                    tracing::error!(error = %e, "creating an account failed");
                }
                e.message(lang)
            }),
        Err(invalid) => Err(invalid.message(lang).to_owned()),
    };
    match result {
        Ok((_, password)) => {
            let created = Some((form.username.trim().to_owned(), password.expose().clone()));
            render(
                &users_view(
                    &state,
                    page,
                    &visitor,
                    NewUserForm::default(),
                    created,
                    None,
                )
                .await?,
            )
        }
        Err(message) => {
            let mut response =
                render(&users_view(&state, page, &visitor, form, None, Some(message)).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserView {
    page: PageContext,
    user: UserLine,
    shown: Shown,
    /// An API client's tokens (`None` for other accounts).
    tokens: Option<Vec<TokenLine>>,
}

/// What a page about one account shows besides the account, after an action.
#[derive(Default)]
struct Shown {
    /// After a reset: the new password, shown once.
    new_password: Option<String>,
    notice: Option<String>,
    /// After a token was made: its id and the token, shown once.
    new_token: Option<(String, String)>,
    errors: Vec<String>,
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

    fn new_token((id, token): (String, pishkhan_app::Secret<String>)) -> Shown {
        Shown {
            new_token: Some((id, token.expose().clone())),
            ..Shown::default()
        }
    }
}

/// One API token as the account page lists it.
pub struct TokenLine {
    pub id: String,
    pub label: String,
    pub created: String,
    pub last_used: String,
    pub state: String,
    pub working: bool,
}

fn token_line(t: pishkhan_app::records::ApiTokenRecord, page: &PageContext) -> TokenLine {
    let now = chrono::Utc::now();
    let state = match (t.revoked_at, t.expires_at) {
        (Some(at), _) => format!(
            "{} {}",
            page.t.string("admin-token-revoked"),
            page.moment(&at)
        ),
        (None, Some(at)) if at <= now => {
            format!(
                "{} {}",
                page.t.string("admin-token-expired"),
                page.moment(&at)
            )
        }
        (None, Some(at)) => format!(
            "{} {}",
            page.t.string("admin-token-until"),
            page.moment(&at)
        ),
        (None, None) => page.t.string("admin-token-works"),
    };
    TokenLine {
        working: t.works_at(now),
        created: page.moment(&t.created_at),
        last_used: t
            .last_used_at
            .map_or_else(|| page.t.string("admin-token-never"), |at| page.moment(&at)),
        state,
        id: t.id,
        label: t.label,
    }
}

async fn user_page(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    id: &str,
    shown: Shown,
) -> Result<Response, WebError> {
    let principal = staff(visitor)?;
    let user = state
        .app
        .user_for_admin(principal, &actor(visitor)?, id)
        .await?
        .ok_or(WebError::NotFound)?;
    let directory = state.app.org_directory().await?;
    let tokens = state
        .app
        .api_tokens(Some(principal), id)
        .await
        .map_err(|e| WebError::internal_message(e.to_string()))?
        .map(|list| list.into_iter().map(|t| token_line(t, &page)).collect());
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&UserView {
        user: line(user, &directory, &page),
        page,
        shown,
        tokens,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /admin/users/{id}`
pub async fn user(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    user_page(&state, page, &visitor, &id, Shown::default()).await
}

/// `POST /admin/users/{id}/reset-password`
pub async fn reset_password(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let password = state
        .app
        .admin_reset_password(principal, &actor(&visitor)?, &id)
        .await?
        .ok_or(WebError::NotFound)?;
    let shown = Shown {
        new_password: Some(password.expose().clone()),
        ..Shown::default()
    };
    user_page(&state, page, &visitor, &id, shown).await
}

/// `POST /admin/users/{id}/disable` and `/enable`
pub async fn set_disabled(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    id: &str,
    disabled: bool,
) -> Result<Response, WebError> {
    let principal = staff(visitor)?;
    if !state
        .app
        .admin_set_disabled(principal, &actor(visitor)?, id, disabled)
        .await?
    {
        return Err(WebError::NotFound);
    }
    let notice = page.t.string(if disabled {
        "admin-user-disabled-notice"
    } else {
        "admin-user-enabled-notice"
    });
    let shown = Shown::notice(notice);
    user_page(state, page, visitor, id, shown).await
}

pub async fn disable(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    set_disabled(&state, page, &visitor, &id, true).await
}

pub async fn enable(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    set_disabled(&state, page, &visitor, &id, false).await
}

/// `POST /admin/users/{id}/reset-second-factor`
pub async fn reset_second_factor(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    if !state
        .app
        .admin_reset_second_factor(principal, &actor(&visitor)?, &id)
        .await?
    {
        return Err(WebError::NotFound);
    }
    let notice = page.t.string("admin-user-second-factor-reset-notice");
    let shown = Shown::notice(notice);
    user_page(&state, page, &visitor, &id, shown).await
}

// --- an API client's tokens ------------------------------------------------------------------

#[derive(Deserialize)]
pub struct NewToken {
    #[serde(default)]
    label: String,
}

/// The message for a refused token change, in the person's language.
fn token_refusal(
    error: &pishkhan_app::users::UserError,
    page: &PageContext,
) -> Result<String, WebError> {
    match error {
        pishkhan_app::users::UserError::Store(e) => Err(WebError::internal_message(e.to_string())),
        other => Ok(other.message(page.lang)),
    }
}

/// `POST /admin/users/{id}/tokens`: a new token for an API client, shown once.
pub async fn create_token(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<NewToken>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let shown = match state
        .app
        .admin_create_api_token(principal, &actor(&visitor)?, &id, &form.label)
        .await
    {
        Ok(Some(made)) => Shown::new_token(made),
        Ok(None) => return Err(WebError::NotFound),
        Err(e) => Shown::error(token_refusal(&e, &page)?),
    };
    user_page(&state, page, &visitor, &id, shown).await
}

#[derive(Deserialize)]
pub struct RotateToken {
    #[serde(default)]
    overlap_hours: String,
}

/// The token must be this account's, and the account one the admin looks after: otherwise 404,
/// as for a token that does not exist.
async fn own_token(
    state: &WebState,
    principal: &pishkhan_app::policy::Principal,
    id: &str,
    token_id: &str,
) -> Result<(), WebError> {
    let owned = state
        .app
        .api_tokens(Some(principal), id)
        .await
        .map_err(|e| WebError::internal_message(e.to_string()))?
        .is_some_and(|list| list.iter().any(|t| t.id == token_id));
    if owned {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

/// `POST /admin/users/{id}/tokens/{token}/rotate`: a new token, the old one working for the
/// overlap chosen.
pub async fn rotate_token(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path((id, token_id)): Path<(String, String)>,
    Form(form): Form<RotateToken>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    own_token(&state, principal, &id, &token_id).await?;
    let hours = form.overlap_hours.trim().parse::<i64>().unwrap_or(-1);
    let shown = match state
        .app
        .rotate_api_token(
            Some(principal),
            &actor(&visitor)?,
            &token_id,
            chrono::TimeDelta::hours(hours),
        )
        .await
    {
        Ok(Some(made)) => Shown::new_token(made),
        Ok(None) => Shown::error(page.t.string("admin-token-gone")),
        Err(e) => Shown::error(token_refusal(&e, &page)?),
    };
    user_page(&state, page, &visitor, &id, shown).await
}

#[derive(Deserialize)]
pub struct RevokeToken {
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/users/{id}/tokens/{token}/revoke`: stops a token at once, once confirmed.
pub async fn revoke_token(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path((id, token_id)): Path<(String, String)>,
    Form(form): Form<RevokeToken>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    own_token(&state, principal, &id, &token_id).await?;
    let shown = if form.confirm.is_none() {
        Shown::error(page.t.string("admin-token-confirm-needed"))
    } else {
        match state
            .app
            .revoke_api_token(Some(principal), &actor(&visitor)?, &token_id)
            .await
        {
            Ok(true) => Shown::notice(page.t.string("admin-token-revoked-notice")),
            Ok(false) => Shown::error(page.t.string("admin-token-gone")),
            Err(e) => Shown::error(token_refusal(&e, &page)?),
        }
    };
    user_page(&state, page, &visitor, &id, shown).await
}

// --- holidays -----------------------------------------------------------------------------

pub struct YearLine {
    pub year: String,
    pub covered: bool,
    pub source: String,
    pub updated: String,
    pub holidays: Vec<(String, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "admin_holidays.html")]
struct HolidaysView {
    page: PageContext,
    years: Vec<YearLine>,
    csv: String,
    errors: Vec<String>,
    imported: Option<String>,
}

async fn holidays_view(
    state: &WebState,
    page: PageContext,
    csv: String,
    errors: Vec<String>,
    imported: Option<String>,
) -> Result<HolidaysView, WebError> {
    let records = state.app.holiday_years().await?;
    let calendar_holidays = state.app.holiday_list().await?;
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let years = records
        .into_iter()
        .rev()
        .map(|record| YearLine {
            year: page.digits(&record.year.to_string()),
            covered: record.covered,
            // Where the year came from, in words: shipped with Pishkhan, typed into this page,
            // or a file (its name, as given to `pishkhan holidays import`).
            source: match (fa, record.source.as_str()) {
                (true, "seed") => "پیش‌فرض (همراه پیشخوان)".to_owned(),
                (true, "admin-form") => "همین صفحه".to_owned(),
                (true, file) => format!("پرونده‌ای به نام {file}"),
                (false, source) => source.to_owned(),
            },
            updated: page.moment(&record.updated_at),
            holidays: calendar_holidays
                .iter()
                .filter(|h| h.date.year() == record.year)
                .map(|h| {
                    (
                        if fa {
                            h.date.format_long_fa()
                        } else {
                            h.date.format_long_en()
                        },
                        if fa {
                            h.name_fa.clone()
                        } else {
                            h.name_en.clone()
                        },
                        match h.kind {
                            pishkhan_domain::HolidayKind::Solar => "holidays-kind-solar",
                            pishkhan_domain::HolidayKind::Lunar => "holidays-kind-lunar",
                        },
                    )
                })
                .collect(),
        })
        .collect();
    Ok(HolidaysView {
        page,
        years,
        csv,
        errors,
        imported,
    })
}

/// `GET /admin/holidays`
pub async fn holidays(
    State(state): State<WebState>,
    page: PageContext,
) -> Result<Response, WebError> {
    render(&holidays_view(&state, page, String::new(), Vec::new(), None).await?)
}

#[derive(Deserialize)]
pub struct HolidayImport {
    csv: String,
}

/// `POST /admin/holidays`: replaces the years in the pasted table, all or nothing.
pub async fn import_holidays(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<HolidayImport>,
) -> Result<Response, WebError> {
    let actor = actor(&visitor)?;
    let lang = page.lang;
    match state
        .app
        .import_holidays(&actor, &form.csv, "admin-form")
        .await
    {
        Ok(years) => {
            let list: Vec<String> = years
                .iter()
                .map(|y| page.digits(&y.year.to_string()))
                .collect();
            let imported = Some(list.join("، "));
            render(&holidays_view(&state, page, String::new(), Vec::new(), imported).await?)
        }
        Err(ImportError::Store(e)) => Err(WebError::from(e)),
        Err(error) => {
            let errors = match &error {
                ImportError::Invalid(lines) => lines.iter().map(|l| l.located(lang)).collect(),
                _ => vec![page.t.string("holidays-empty")],
            };
            let mut response = render(&holidays_view(&state, page, form.csv, errors, None).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

// --- catalogue import ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_catalogue.html")]
struct CatalogueView {
    page: PageContext,
    /// The form's action, with its CSRF token (an upload's body is not read before the handler).
    action: String,
    report: Option<String>,
    errors: Vec<String>,
}

fn catalogue_view(page: PageContext, report: Option<String>, errors: Vec<String>) -> CatalogueView {
    let action = format!(
        "/admin/catalogue/import?{}",
        serde_urlencoded::to_string([("csrf", page.csrf.as_str())]).unwrap_or_default()
    );
    CatalogueView {
        page,
        action,
        report,
        errors,
    }
}

/// `GET /admin/catalogue`
pub async fn catalogue(page: PageContext) -> Result<Response, WebError> {
    render(&catalogue_view(page, None, Vec::new()))
}

/// `GET /admin/catalogue/template.csv`: the import template (columns and an example row).
pub async fn catalogue_template() -> Result<Response, WebError> {
    use axum::response::IntoResponse;
    let example = pishkhan_app::demo::example_card()?;
    let text = pishkhan_app::import::csv_template(&example)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"pishkhan-catalogue-template.csv\"",
            ),
        ],
        text,
    )
        .into_response())
}

/// One service of a previewed file, as the preview lists it.
pub struct PreviewLine {
    pub line: usize,
    pub code: String,
    pub title: String,
    /// `new`, `changed` or `unchanged` (the row's style).
    pub kind: &'static str,
    pub what: String,
}

#[derive(Template)]
#[template(path = "admin_catalogue_preview.html")]
struct PreviewView {
    page: PageContext,
    name: String,
    /// The staged file's token; none when nothing would change.
    token: Option<String>,
    digest: String,
    summary: String,
    lines: Vec<PreviewLine>,
    forms: Vec<(String, u32)>,
    errors: Vec<String>,
}

fn preview_view(
    page: PageContext,
    name: String,
    token: Option<String>,
    digest: String,
    plan: pishkhan_app::import::ImportPlan,
    errors: Vec<String>,
) -> PreviewView {
    use pishkhan_app::import::PlannedChange;
    let count = |kind: fn(&PlannedChange) -> bool| {
        page.digits(
            &plan
                .rows
                .iter()
                .filter(|r| kind(&r.change))
                .count()
                .to_string(),
        )
    };
    let summary = format!(
        "{} خدمت تازه، {} خدمت با تغییر، {} خدمت بی‌تغییر؛ {} فرم.",
        count(|c| *c == PlannedChange::New),
        count(|c| matches!(c, PlannedChange::Changed(_))),
        count(|c| *c == PlannedChange::Unchanged),
        page.digits(&plan.forms.len().to_string()),
    );
    let lines = plan
        .rows
        .into_iter()
        .map(|row| {
            let (kind, what) = match row.change {
                PlannedChange::New => ("new", "افزوده و منتشر می‌شود".to_owned()),
                PlannedChange::Changed(fields) => (
                    "changed",
                    format!("نسخهٔ تازه منتشر می‌شود؛ تغییر در: {}", fields.join("، ")),
                ),
                PlannedChange::Unchanged => ("unchanged", "بی‌تغییر؛ کاری انجام نمی‌شود".to_owned()),
            };
            PreviewLine {
                line: row.line,
                code: row.code,
                title: row.title,
                kind,
                what,
            }
        })
        .collect();
    PreviewView {
        page,
        name,
        token,
        digest,
        summary,
        lines,
        forms: plan.forms,
        errors,
    }
}

/// The answer to a file that cannot be imported: what is wrong, line by line, in Persian.
fn import_refused(
    page: PageContext,
    error: pishkhan_app::import::ImportError,
) -> Result<Response, WebError> {
    use pishkhan_app::import::ImportError;
    let (status, errors) = match error {
        ImportError::Store(e) => return Err(WebError::from(e)),
        ImportError::Staging(e) => return Err(WebError::from(e)),
        ImportError::TooBig(problem) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![problem.located(page.lang)],
        ),
        ImportError::Invalid(problems) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            problems.iter().map(|p| p.located(page.lang)).collect(),
        ),
        ImportError::Unreadable(why) => {
            // The reader's own words are technical and English: logged, and the person told in
            // Persian what to do.
            tracing::info!(reason = %why, "an imported catalogue file could not be read");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![page.t.string("catalogue-unreadable")],
            )
        }
    };
    let mut response = render(&catalogue_view(page, None, errors))?;
    *response.status_mut() = status;
    Ok(response)
}

/// A file's name as shown and audited: its last part, at most 120 characters.
fn file_label(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars().filter(|c| !c.is_control()).take(120).collect()
}

/// `POST /admin/catalogue/import` (multipart: `file`): reads and checks the file and shows what
/// importing it would do, row by row; nothing is published until the admin confirms.
pub async fn catalogue_import(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = actor(&visitor)?;
    let mut upload = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let name = file_label(field.file_name().unwrap_or("upload"));
            match field.bytes().await {
                Ok(bytes) => upload = Some((name, bytes)),
                Err(_) => {
                    let errors = vec![page.t.string("catalogue-too-large")];
                    let mut response = render(&catalogue_view(page, None, errors))?;
                    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                    return Ok(response);
                }
            }
        }
    }
    let Some((name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        let errors = vec![page.t.string("catalogue-no-file")];
        let mut response = render(&catalogue_view(page, None, errors))?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    let plan = match state
        .app
        .preview_catalogue_as(principal, &name, &bytes)
        .await
    {
        Ok(plan) => plan,
        Err(e) => return import_refused(page, e),
    };
    let nothing = plan.forms.is_empty()
        && plan
            .rows
            .iter()
            .all(|r| r.change == pishkhan_app::import::PlannedChange::Unchanged);
    let digest = pishkhan_domain::digest::sha256_hex(&bytes);
    let token = if nothing {
        None
    } else {
        match state.app.stage_import(&actor, bytes.to_vec()).await {
            Ok(token) => Some(token),
            Err(e) => return import_refused(page, e),
        }
    };
    render(&preview_view(page, name, token, digest, plan, Vec::new()))
}

#[derive(Deserialize)]
pub struct ConfirmImport {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/catalogue/confirm`: imports the file previewed, checked again against the
/// catalogue as it is now; all of it or, if anything is wrong now, none of it.
pub async fn catalogue_confirm(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<ConfirmImport>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let actor = actor(&visitor)?;
    let name = file_label(&form.name);
    let staged = match state.app.staged_import(&actor, &form.token).await {
        Ok(staged) => staged,
        Err(e) => return import_refused(page, e),
    };
    let Some(bytes) = staged.filter(|b| pishkhan_domain::digest::sha256_hex(b) == form.digest)
    else {
        let errors = vec![page.t.string("catalogue-preview-gone")];
        let mut response = render(&catalogue_view(page, None, errors))?;
        *response.status_mut() = StatusCode::GONE;
        return Ok(response);
    };
    if form.confirm.is_none() {
        let plan = match state
            .app
            .preview_catalogue_as(principal, &name, &bytes)
            .await
        {
            Ok(plan) => plan,
            Err(e) => return import_refused(page, e),
        };
        let errors = vec![page.t.string("catalogue-confirm-needed")];
        let view = preview_view(page, name, Some(form.token), form.digest, plan, errors);
        let mut response = render(&view)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let fa = page.lang == pishkhan_domain::Language::Persian;
    match state
        .app
        .import_catalogue_as(principal, &actor, &name, &bytes)
        .await
    {
        Ok(report) => {
            if let Err(e) = state.app.drop_staged_import(&actor, &form.token).await {
                tracing::warn!(error = %e, "a previewed catalogue file was not removed");
            }
            let text = if fa {
                format!(
                    "«{name}»: {} خدمت؛ {} منتشر شد، {} بی‌تغییر؛ {} فرم.",
                    page.digits(&report.rows.to_string()),
                    page.digits(&report.published.to_string()),
                    page.digits(&report.unchanged.to_string()),
                    page.digits(&report.forms.to_string())
                )
            } else {
                format!(
                    "`{name}`: {} service(s); {} published, {} unchanged; {} form(s).",
                    report.rows, report.published, report.unchanged, report.forms
                )
            };
            render(&catalogue_view(page, Some(text), Vec::new()))
        }
        Err(e) => import_refused(page, e),
    }
}

// --- Article 2.1: what agencies have handed in ------------------------------------------------

#[derive(Template)]
#[template(path = "admin_plan.html")]
struct PlanView {
    page: PageContext,
    start: String,
    due: Option<String>,
    agencies: Vec<pishkhan_app::plan::AgencyProgress>,
    late: usize,
    error: Option<String>,
}

async fn plan_view(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    error: Option<String>,
) -> Result<PlanView, WebError> {
    let principal = staff(visitor)?;
    let status = state
        .app
        .plan_status(principal)
        .await?
        .ok_or(WebError::NotFound)?;
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let show = |d: pishkhan_domain::JalaliDate| {
        if fa {
            d.format_long_fa()
        } else {
            d.format_long_en()
        }
    };
    Ok(PlanView {
        start: status
            .start
            .map(|d| page.digits(&d.format_numeric()))
            .unwrap_or_default(),
        due: status.due.map(show),
        late: status.agencies.iter().filter(|a| a.late).count(),
        agencies: status.agencies,
        page,
        error,
    })
}

/// `GET /admin/plan`
pub async fn plan(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    render(&plan_view(&state, page, &visitor, None).await?)
}

#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    start: String,
}

/// `POST /admin/plan`: the plan's start date.
pub async fn set_plan(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<PlanForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    match state
        .app
        .set_plan_start(principal, &actor(&visitor)?, &form.start)
        .await?
    {
        Ok(()) => Ok(crate::auth::redirect("/admin/plan")),
        Err(invalid) => {
            let message = invalid.message(page.lang).to_owned();
            let mut response = render(&plan_view(&state, page, &visitor, Some(message)).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

// --- search synonyms ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_synonyms.html")]
struct SynonymsView {
    page: PageContext,
    body: String,
    /// Who saved the list last, and when.
    updated: Option<String>,
    /// How many rules a save just stored.
    saved: Option<String>,
    errors: Vec<String>,
    /// Searches people made that found nothing: (words, how often, last time, finds now).
    misses: Vec<(String, String, String, bool)>,
}

/// Searches that found nothing, listed at most.
const MISSES_SHOWN: i64 = 100;

async fn synonyms_view(
    state: &WebState,
    page: PageContext,
    body: Option<String>,
    saved: Option<usize>,
    errors: Vec<String>,
) -> Result<SynonymsView, WebError> {
    let (stored_body, stored) = state.app.synonyms_text().await?;
    let updated = match stored {
        Some(s) => {
            let names = state.app.actor_names(vec![s.updated_by.clone()]).await?;
            Some(format!(
                "{} — {}",
                page.moment(&s.updated_at),
                names.get(&s.updated_by).cloned().unwrap_or_default()
            ))
        }
        None => None,
    };
    let misses = state
        .app
        .search_misses(MISSES_SHOWN)
        .await?
        .into_iter()
        .map(|(miss, finds)| {
            (
                miss.query,
                page.digits(&miss.count.to_string()),
                page.moment(&miss.last_at),
                finds,
            )
        })
        .collect();
    Ok(SynonymsView {
        misses,
        body: body.unwrap_or(stored_body),
        updated,
        saved: saved.map(|n| page.digits(&n.to_string())),
        errors,
        page,
    })
}

/// `GET /admin/search`: the search's synonym list, to edit.
pub async fn synonyms(
    State(state): State<WebState>,
    page: PageContext,
) -> Result<Response, WebError> {
    render(&synonyms_view(&state, page, None, None, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct SynonymsForm {
    synonyms: String,
}

/// `POST /admin/search`: replaces the synonym list (all of it, or nothing when a line is bad).
pub async fn save_synonyms(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<SynonymsForm>,
) -> Result<Response, WebError> {
    use pishkhan_app::search::SynonymError;
    let actor = actor(&visitor)?;
    let principal = visitor.principal().ok_or(WebError::NotFound)?;
    match state
        .app
        .save_synonyms(principal, &actor, &form.synonyms)
        .await
    {
        Ok(rules) => render(&synonyms_view(&state, page, None, Some(rules), Vec::new()).await?),
        Err(SynonymError::Forbidden) => Err(WebError::NotFound),
        Err(SynonymError::Invalid(lines)) => {
            let errors = lines.iter().map(|l| l.located(page.lang)).collect();
            let mut response =
                render(&synonyms_view(&state, page, Some(form.synonyms), None, errors).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(WebError::from(e)),
    }
}

// --- Notification texts -------------------------------------------------------------------------

/// One notification's text on the editing page.
pub struct TemplateRow {
    pub key: String,
    pub when: String,
    pub facts: String,
    pub built_in: String,
    pub body: String,
    pub edited: bool,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_notifications.html")]
struct NotificationsView {
    page: PageContext,
    rows: Vec<TemplateRow>,
    saved: bool,
    refused: bool,
}

async fn notifications_view(
    state: &WebState,
    page: PageContext,
    given: Option<&std::collections::BTreeMap<String, String>>,
    errors: &[(String, pishkhan_domain::id::Problem)],
    saved: bool,
) -> Result<NotificationsView, WebError> {
    use pishkhan_app::templates::TEMPLATES;
    let texts = state.app.notification_templates().await?;
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let rows = TEMPLATES
        .iter()
        .map(|t| {
            let (text, edited) = texts
                .get(t.key)
                .cloned()
                .unwrap_or_else(|| (t.built_in.to_owned(), false));
            TemplateRow {
                key: t.key.to_owned(),
                when: t.when.to_owned(),
                facts: t
                    .facts
                    .iter()
                    .map(|f| format!("{{{f}}}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                built_in: t.built_in.to_owned(),
                body: given.and_then(|g| g.get(t.key).cloned()).unwrap_or(text),
                edited,
                errors: errors
                    .iter()
                    .filter(|(k, _)| k == t.key)
                    .map(|(_, e)| if fa { e.fa.clone() } else { e.en.clone() })
                    .collect(),
            }
        })
        .collect();
    Ok(NotificationsView {
        page,
        rows,
        saved,
        refused: !errors.is_empty(),
    })
}

/// `GET /admin/notifications`: the texts people get by SMS and e-mail, to edit.
pub async fn notifications(
    State(state): State<WebState>,
    page: PageContext,
) -> Result<Response, WebError> {
    render(&notifications_view(&state, page, None, &[], false).await?)
}

/// `POST /admin/notifications`: saves every text (all or none); an emptied text goes back to the
/// built-in one.
pub async fn save_notifications(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<std::collections::BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let actor = actor(&visitor)?;
    let bodies: std::collections::BTreeMap<String, String> = form
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("body:").map(|k| (k.to_owned(), v)))
        .collect();
    match state
        .app
        .save_notification_templates(&actor, &bodies)
        .await?
    {
        Ok(()) => render(&notifications_view(&state, page, None, &[], true).await?),
        Err(problems) => {
            let mut response =
                render(&notifications_view(&state, page, Some(&bodies), &problems, false).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}
