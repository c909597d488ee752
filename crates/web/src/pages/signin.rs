//! Signing in and out: staff (password, then the second factor or its enrolment, then a password
//! change when an admin reset it) and citizens (national ID and mobile, then the SMS code).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use pishkhan_app::Secret;
use pishkhan_app::auth::{AuthError, NewSession, Stage};
use pishkhan_app::policy::Principal;
use serde::Deserialize;

use crate::auth::{Visitor, clear_session_cookie, redirect, session_cookie};
use crate::error::WebError;
use crate::page::{PageContext, render, with_status};
use crate::state::WebState;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    next: Option<String>,
    ended: Option<String>,
}

/// Only paths on this site (the language switch's rule).
fn local(next: Option<&str>) -> Option<String> {
    next.filter(|n| crate::pages::language::is_local_path(n))
        .map(str::to_owned)
}

/// Where a session at this stage goes next.
fn stage_page(stage: Stage, principal: &Principal, next: Option<&str>) -> String {
    match stage {
        Stage::SecondFactor | Stage::EnrolSecondFactor => "/signin/second-factor".to_owned(),
        Stage::ChangePassword => "/signin/password".to_owned(),
        Stage::Full => local(next).unwrap_or_else(|| match principal {
            Principal::Citizen(_) => "/me".to_owned(),
            _ => "/account".to_owned(),
        }),
    }
}

/// Sets the new session's cookie and sends the browser on.
fn signed(state: &WebState, created: &NewSession, next: Option<&str>) -> Response {
    let target = stage_page(created.session.stage, &created.session.principal, next);
    let mut response = redirect(&target);
    let secure = state.app.config().secure_cookies;
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(secure, created.token.expose()),
    );
    if let Some(device) = &created.device {
        response.headers_mut().append(
            header::SET_COOKIE,
            crate::auth::device_cookie(secure, device.expose()),
        );
    }
    response
}

/// The HTTP status of an identity refusal, on every page that shows one.
pub(crate) fn status_of(error: &AuthError) -> StatusCode {
    match error {
        AuthError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AuthError::WrongCredentials
        | AuthError::WrongSecondFactor
        | AuthError::WrongCode { .. } => StatusCode::UNAUTHORIZED,
        AuthError::AccountDisabled | AuthError::NotAllowed => StatusCode::FORBIDDEN,
        AuthError::CodeExpired => StatusCode::GONE,
        AuthError::NotTheirMobile | AuthError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AuthError::Sms(_) => StatusCode::BAD_GATEWAY,
        AuthError::RegistryUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        AuthError::Hashing(_) | AuthError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn log_if_internal(error: &AuthError) {
    if matches!(
        error,
        AuthError::Store(_) | AuthError::Hashing(_) | AuthError::Sms(_)
    ) {
        tracing::error!(error = %error, "sign-in step failed");
    }
}

// --- staff --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInView {
    page: PageContext,
    username: String,
    next: String,
    error: Option<String>,
    ended: bool,
}

/// `GET /signin`
pub async fn staff_form(
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<SignInQuery>,
) -> Result<Response, WebError> {
    if let Some(session) = &visitor.session {
        return Ok(redirect(&stage_page(
            session.stage,
            &session.principal,
            query.next.as_deref(),
        )));
    }
    render(&SignInView {
        page,
        username: String::new(),
        next: local(query.next.as_deref()).unwrap_or_default(),
        error: None,
        ended: query.ended.is_some() || visitor.session_ended,
    })
}

#[derive(Deserialize)]
pub struct StaffSignIn {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin`
pub async fn staff_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<StaffSignIn>,
) -> Result<Response, WebError> {
    let password = Secret::new(form.password);
    match state
        .app
        .staff_sign_in(&form.username, &password, &visitor.client, Utc::now())
        .await
    {
        Ok(created) => Ok(signed(&state, &created, Some(&form.next))),
        Err(error) => {
            log_if_internal(&error);
            let message = error.message(page.lang);
            with_status(
                status_of(&error),
                &SignInView {
                    page,
                    username: form.username,
                    next: local(Some(&form.next)).unwrap_or_default(),
                    error: Some(message),
                    ended: false,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
pub struct SecondFactorView {
    pub page: PageContext,
    /// Enrolment: the secret to type, the `otpauth://` link and its QR code.
    pub enrol: Option<Enrolment>,
    /// Where the form posts: the sign-in step, or the account page's enrolment.
    pub action: &'static str,
    pub error: Option<String>,
}

pub struct Enrolment {
    pub secret_groups: String,
    pub uri: String,
    pub qr_data_url: String,
}

impl Enrolment {
    pub fn new(secret: &pishkhan_domain::totp::TotpSecret, account: &str) -> Enrolment {
        let base32 = secret.to_base32();
        let groups: Vec<String> = base32
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let uri = secret.otpauth_uri("Pishkhan", account);
        let qr_data_url = qrcode::QrCode::new(uri.as_bytes())
            .map(|code| {
                let svg = code
                    .render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(200, 200)
                    .quiet_zone(true)
                    .build();
                format!(
                    "data:image/svg+xml;base64,{}",
                    data_encoding::BASE64.encode(svg.as_bytes())
                )
            })
            .unwrap_or_default();
        Enrolment {
            secret_groups: groups.join(" "),
            uri,
            qr_data_url,
        }
    }
}

fn enrolment_of(session: &pishkhan_app::auth::Session) -> Option<Enrolment> {
    let account = match &session.principal {
        Principal::Staff(user) => user.username.clone(),
        _ => String::new(),
    };
    session
        .pending_secret
        .as_ref()
        .map(|secret| Enrolment::new(secret, &account))
}

/// `GET /signin/second-factor`
pub async fn second_factor_form(page: PageContext, visitor: Visitor) -> Result<Response, WebError> {
    let Some(session) = visitor.session.as_deref() else {
        return Ok(redirect("/signin"));
    };
    if !matches!(
        session.stage,
        Stage::SecondFactor | Stage::EnrolSecondFactor
    ) {
        return Ok(redirect(&stage_page(
            session.stage,
            &session.principal,
            None,
        )));
    }
    render(&SecondFactorView {
        page,
        enrol: enrolment_of(session),
        action: "/signin/second-factor",
        error: None,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /signin/second-factor`
pub async fn second_factor_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let Some(session) = visitor.session.as_deref() else {
        return Ok(redirect("/signin"));
    };
    let result = match session.stage {
        Stage::SecondFactor => state
            .app
            .verify_second_factor(session, &form.code, &visitor.client, Utc::now())
            .await
            .map(Some),
        Stage::EnrolSecondFactor => {
            state
                .app
                .enrol_second_factor(session, &form.code, &visitor.client, Utc::now())
                .await
        }
        other => return Ok(redirect(&stage_page(other, &session.principal, None))),
    };
    match result {
        Ok(Some(created)) => Ok(signed(&state, &created, None)),
        Ok(None) => Ok(redirect("/account")),
        Err(error) => {
            log_if_internal(&error);
            let message = error.message(page.lang);
            with_status(
                status_of(&error),
                &SecondFactorView {
                    page,
                    enrol: enrolment_of(session),
                    action: "/signin/second-factor",
                    error: Some(message),
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "change_password.html")]
pub struct ChangePasswordView {
    pub page: PageContext,
    /// After an admin's reset (no current password asked), or from the account page.
    pub forced: bool,
    pub error: Option<String>,
}

/// `GET /signin/password`: the new password owed after an admin's reset.
pub async fn forced_password_form(
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    match visitor.session.as_deref() {
        Some(session) if session.stage == Stage::ChangePassword => render(&ChangePasswordView {
            page,
            forced: true,
            error: None,
        }),
        Some(session) => Ok(redirect(&stage_page(
            session.stage,
            &session.principal,
            None,
        ))),
        None => Ok(redirect("/signin")),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    new: String,
    confirm: String,
}

/// `POST /signin/password` and `POST /account/password`.
pub async fn password_submit(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let Some(session) = visitor.session.as_deref() else {
        return Ok(redirect("/signin"));
    };
    let forced = session.stage == Stage::ChangePassword;
    if !forced && session.stage != Stage::Full {
        return Ok(redirect(&stage_page(
            session.stage,
            &session.principal,
            None,
        )));
    }
    let fail = |page: PageContext, status, message| {
        with_status(
            status,
            &ChangePasswordView {
                page,
                forced,
                error: Some(message),
            },
        )
    };
    if form.new != form.confirm {
        let message = page.t.string("password-mismatch");
        return fail(page, StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    let current = Secret::new(form.current);
    let result = state
        .app
        .change_own_password(
            session,
            (!forced).then_some(&current),
            &Secret::new(form.new),
            &visitor.client,
            Utc::now(),
        )
        .await;
    match result {
        Ok(created) => {
            let mut response = redirect(if forced {
                "/account"
            } else {
                "/account?changed=1"
            });
            response.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(state.app.config().secure_cookies, created.token.expose()),
            );
            Ok(response)
        }
        Err(error) => {
            log_if_internal(&error);
            let message = error.message(page.lang);
            fail(page, status_of(&error), message)
        }
    }
}

// --- citizens -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "citizen_signin.html")]
struct CitizenSignInView {
    page: PageContext,
    national_id: String,
    mobile: String,
    /// Step two: the code was sent.
    ticket: Option<(String, String)>,
    next: String,
    error: Option<String>,
    ended: bool,
}

/// `GET /signin/citizen`
pub async fn citizen_form(
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<SignInQuery>,
) -> Result<Response, WebError> {
    if let Some(session) = &visitor.session {
        return Ok(redirect(&stage_page(
            session.stage,
            &session.principal,
            query.next.as_deref(),
        )));
    }
    render(&CitizenSignInView {
        page,
        national_id: String::new(),
        mobile: String::new(),
        ticket: None,
        next: local(query.next.as_deref()).unwrap_or_default(),
        error: None,
        ended: query.ended.is_some() || visitor.session_ended,
    })
}

#[derive(Deserialize)]
pub struct CitizenStart {
    national_id: String,
    mobile: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin/citizen`: sends the code.
pub async fn citizen_request_code(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<CitizenStart>,
) -> Result<Response, WebError> {
    let result = state
        .app
        .request_sign_in_code(&form.national_id, &form.mobile, &visitor.client, Utc::now())
        .await;
    let next = local(Some(&form.next)).unwrap_or_default();
    match result {
        Ok(ticket) => render(&CitizenSignInView {
            page,
            national_id: form.national_id,
            mobile: form.mobile,
            ticket: Some((ticket.code_id, ticket.masked_mobile)),
            next,
            error: None,
            ended: false,
        }),
        Err(error) => {
            log_if_internal(&error);
            let message = error.message(page.lang);
            with_status(
                status_of(&error),
                &CitizenSignInView {
                    page,
                    national_id: form.national_id,
                    mobile: form.mobile,
                    ticket: None,
                    next,
                    error: Some(message),
                    ended: false,
                },
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CitizenCode {
    code_id: String,
    code: String,
    #[serde(default)]
    masked: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin/citizen/code`
pub async fn citizen_submit_code(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<CitizenCode>,
) -> Result<Response, WebError> {
    match state
        .app
        .sign_in_with_code(&form.code_id, &form.code, &visitor.client, Utc::now())
        .await
    {
        Ok(created) => Ok(signed(&state, &created, Some(&form.next))),
        Err(error) => {
            log_if_internal(&error);
            let message = error.message(page.lang);
            // A wrong code may be tried again; anything else starts over.
            let ticket = matches!(error, AuthError::WrongCode { .. })
                .then(|| (form.code_id.clone(), form.masked.clone()));
            with_status(
                status_of(&error),
                &CitizenSignInView {
                    page,
                    national_id: String::new(),
                    mobile: String::new(),
                    ticket,
                    next: local(Some(&form.next)).unwrap_or_default(),
                    error: Some(message),
                    ended: false,
                },
            )
        }
    }
}

// --- signing out --------------------------------------------------------------------------

/// `POST /signout`
pub async fn sign_out(
    State(state): State<WebState>,
    visitor: Visitor,
) -> Result<Response, WebError> {
    if let Some(session) = visitor.session.as_deref() {
        state.app.sign_out(session, &visitor.client).await?;
    }
    let mut response = redirect("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_session_cookie(state.app.config().secure_cookies),
    );
    Ok(response)
}

/// `POST /signout/everywhere`
pub async fn sign_out_everywhere(
    State(state): State<WebState>,
    visitor: Visitor,
) -> Result<Response, WebError> {
    if let Some(session) = visitor.session.as_deref() {
        state
            .app
            .sign_out_everywhere(session, &visitor.client)
            .await?;
    }
    let mut response = redirect("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_session_cookie(state.app.config().secure_cookies),
    );
    Ok(response.into_response())
}
