//! The counter (`/counter`): an operator asks a walk-in citizen's consent, by a code sent to the
//! citizen's mobile, before filing for them.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use pishkhan_app::auth::AuthError;
use pishkhan_app::policy::counter_centres;
use pishkhan_domain::identity::Scope;
use serde::Deserialize;

use crate::auth::{Visitor, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::pages::signin::status_of;
use crate::state::WebState;

pub struct CentreOption {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterView {
    page: PageContext,
    centres: Vec<CentreOption>,
    centre: String,
    national_id: String,
    mobile: String,
    purpose: String,
    /// Step two: (code id, masked mobile).
    ticket: Option<(String, String)>,
    /// Done: (purpose, until).
    granted: Option<(String, String)>,
    /// After consent: (centre, national ID, consent id) and the services to file at the centre
    /// (code, title).
    start: Option<(String, String, String)>,
    services: Vec<(String, String)>,
    /// Drafts this operator left open: (id, service title, national ID, last change).
    drafts: Vec<(String, String, String, String)>,
    /// The service a consent just given was for (its title), to preselect.
    chosen: String,
    /// Consents still open at the operator's centres, to resume filing.
    consents: Vec<OpenConsent>,
    /// What the centres filed, those waiting on the applicant first.
    filings: Vec<Filing>,
    error: Option<String>,
    /// Inquiries an operator may ask with a consent (the consent's national ID goes into a
    /// `national_id` field).
    inquiries: Vec<crate::pages::desk::applications::InquiryForm>,
    /// The answer to the inquiry just asked, and the consent it was asked under.
    inquiry_answer: Option<(crate::pages::desk::applications::InquiryShown, String)>,
}

/// A consent still open: filing can start (again) under it.
pub struct OpenConsent {
    pub id: String,
    pub centre: String,
    pub national_id: String,
    pub national_shown: String,
    pub purpose: String,
    pub until: String,
}

/// One application a centre filed.
pub struct Filing {
    pub code: String,
    pub grouped: String,
    pub service: String,
    pub national_id: String,
    pub state: String,
    pub filed: String,
    pub waits: bool,
}

impl CounterView {
    /// The counter as it stands for this operator: the consent form, the drafts, the open
    /// consents and what the centres filed; each handler adds what its step shows.
    async fn load(
        state: &WebState,
        page: PageContext,
        visitor: &Visitor,
    ) -> Result<CounterView, WebError> {
        let operator = staff(visitor)?;
        let centres = centres(state, visitor).await?;
        let centre = centres.first().map(|c| c.code.clone()).unwrap_or_default();
        let drafts = open_drafts(state, &page, visitor).await?;
        let services = centre_services(state, &centre).await?;
        let consents = state
            .app
            .open_consents(operator, Utc::now())
            .await?
            .into_iter()
            .map(|(c, national_id)| OpenConsent {
                id: c.id,
                centre: c.centre,
                national_shown: page.digits(&national_id),
                national_id,
                purpose: c.purpose,
                until: page.moment(&c.expires_at),
            })
            .collect();
        let filings = state
            .app
            .centre_applications(operator)
            .await?
            .into_iter()
            .map(|f| Filing {
                grouped: pishkhan_domain::tracking::TrackingCode::parse(&f.record.code)
                    .map(|c| page.digits(&c.grouped()))
                    .unwrap_or_else(|_| f.record.code.clone()),
                code: f.record.code.clone(),
                service: f.service_title,
                national_id: page.digits(&f.record.national_id),
                state: f.state_name,
                filed: chrono::DateTime::from_timestamp_millis(f.record.created_at)
                    .map(|at| page.moment(&at))
                    .unwrap_or_default(),
                waits: f.waits_on_applicant,
            })
            .collect();
        let inquiries = state
            .app
            .inquiries_with_consent(operator)
            .await?
            .into_iter()
            .map(|d| {
                let fields = d
                    .input
                    .iter()
                    .map(|f| {
                        let hint = match f.kind {
                            pishkhan_domain::forms::FieldKind::JalaliDate {} => {
                                page.t.string("inquiry-date-hint")
                            }
                            _ => String::new(),
                        };
                        (f.id.clone(), f.label.fa.clone(), String::new(), hint)
                    })
                    .collect();
                crate::pages::desk::applications::InquiryForm {
                    code: d.code,
                    name: d.name.fa,
                    fields,
                }
            })
            .collect();
        Ok(CounterView {
            inquiries,
            inquiry_answer: None,
            page,
            centres,
            centre,
            national_id: String::new(),
            mobile: String::new(),
            purpose: String::new(),
            ticket: None,
            granted: None,
            start: None,
            services,
            drafts,
            chosen: String::new(),
            consents,
            filings,
            error: None,
        })
    }
}

/// The services the centre's province publishes that centres may file (code, title).
async fn centre_services(
    state: &WebState,
    centre: &str,
) -> Result<Vec<(String, String)>, WebError> {
    use pishkhan_domain::identity::Directory;
    let directory = state.app.org_directory().await?;
    let Some(province) = directory.province_of(&Scope::Centre(centre.to_owned())) else {
        return Ok(Vec::new());
    };
    let filter = pishkhan_app::records::ServiceFilter {
        province: Some(province),
        ..Default::default()
    };
    let (services, _) = state.app.published_services(&filter, 500, 0).await?;
    let mut out: Vec<(String, String)> = services
        .into_iter()
        .filter(|s| {
            s.card
                .channels
                .iter()
                .any(|c| c.channel == pishkhan_domain::catalog::Channel::Centre)
        })
        .map(|s| (s.card.code, s.card.title.fa))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The operator's open drafts.
async fn open_drafts(
    state: &WebState,
    page: &PageContext,
    visitor: &Visitor,
) -> Result<Vec<(String, String, String, String)>, WebError> {
    let operator = staff(visitor)?;
    let mut out = Vec::new();
    for draft in state.app.drafts(operator).await? {
        let title = match state.app.service_page(&draft.service).await? {
            Some(p) => p.service.card.title.fa.clone(),
            None => draft.service.clone(),
        };
        out.push((
            draft.id,
            title,
            page.digits(&draft.national_id),
            page.moment(&draft.updated_at),
        ));
    }
    Ok(out)
}

/// The counter page with a refusal (filing could not start).
pub async fn refused(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    message: String,
) -> Result<Response, WebError> {
    let mut view = CounterView::load(state, page, visitor).await?;
    view.error = Some(message);
    let mut response = render(&view)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

pub(crate) async fn centres(
    state: &WebState,
    visitor: &Visitor,
) -> Result<Vec<CentreOption>, WebError> {
    let directory = state.app.org_directory().await?;
    Ok(counter_centres(staff(visitor)?)
        .into_iter()
        .map(|code| CentreOption {
            name: directory
                .name_of(&Scope::Centre(code.clone()))
                .unwrap_or(&code)
                .to_owned(),
            code,
        })
        .collect())
}

/// `GET /counter`
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
) -> Result<Response, WebError> {
    render(&CounterView::load(&state, page, &visitor).await?)
}

#[derive(Deserialize)]
pub struct ConsentRequest {
    centre: String,
    national_id: String,
    #[serde(default)]
    mobile: String,
    purpose: String,
}

/// `POST /counter/consent`: sends the consent code to the citizen.
pub async fn request(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<ConsentRequest>,
) -> Result<Response, WebError> {
    let operator = staff(&visitor)?;
    let result = state
        .app
        .request_consent(
            operator,
            &form.centre,
            &form.national_id,
            &form.mobile,
            &form.purpose,
            &visitor.client,
            Utc::now(),
        )
        .await;
    let (ticket, error, status) = match result {
        Ok(ticket) => (
            Some((ticket.code_id, page.digits(&ticket.masked_mobile))),
            None,
            StatusCode::OK,
        ),
        Err(error) => {
            if matches!(error, AuthError::Store(_) | AuthError::Sms(_)) {
                tracing::error!(error = %error, "consent request failed");
            }
            (None, Some(error.message(page.lang)), status_of(&error))
        }
    };
    let mut view = CounterView::load(&state, page, &visitor).await?;
    view.centre = form.centre;
    view.national_id = form.national_id;
    view.mobile = form.mobile;
    view.purpose = form.purpose;
    view.ticket = ticket;
    view.error = error;
    let mut response = render(&view)?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
pub struct ConsentConfirm {
    code_id: String,
    code: String,
    #[serde(default)]
    masked: String,
    #[serde(default)]
    national_id: String,
}

/// `POST /counter/consent/confirm`: the code the citizen read out.
pub async fn confirm(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Form(form): Form<ConsentConfirm>,
) -> Result<Response, WebError> {
    let operator = staff(&visitor)?;
    let result = state
        .app
        .confirm_consent(
            operator,
            &form.code_id,
            &form.code,
            &visitor.client,
            Utc::now(),
        )
        .await;
    let mut view = CounterView::load(&state, page, &visitor).await?;
    let status = match result {
        Ok(consent) => {
            view.granted = Some((
                consent.purpose.clone(),
                view.page.moment(&consent.expires_at),
            ));
            view.services = centre_services(&state, &consent.centre).await?;
            view.chosen = consent.purpose.clone();
            view.start = Some((consent.centre.clone(), form.national_id.clone(), consent.id));
            StatusCode::OK
        }
        Err(error) => {
            if matches!(error, AuthError::WrongCode { .. }) {
                view.ticket = Some((form.code_id, form.masked));
                view.national_id = form.national_id;
            }
            view.error = Some(error.message(view.page.lang));
            status_of(&error)
        }
    };
    let mut response = render(&view)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /counter/inquiries/{inquiry}`: asks an inquiry for a walk-in person, under the consent
/// they gave at this centre (named in the form); the counter again with the answer. The call is
/// logged against the consent, so the application filed under it shows it at the agency.
pub async fn inquire(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    axum::extract::Path(inquiry): axum::extract::Path<String>,
    Form(form): Form<std::collections::BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let operator = staff(&visitor)?;
    let definition = state
        .app
        .inquiries_with_consent(operator)
        .await?
        .into_iter()
        .find(|d| d.code == inquiry)
        .ok_or(WebError::NotFound)?;
    let consent = form.get("consent").cloned().unwrap_or_default();
    let input = crate::pages::desk::applications::inquiry_input(&definition, &form);
    let purpose = pishkhan_app::inquiries::Purpose {
        application: None,
        consent: Some(consent.clone()),
        ..Default::default()
    };
    let asked = state
        .app
        .inquire(
            operator,
            &visitor.client.ip,
            &inquiry,
            &purpose,
            &input,
            Utc::now(),
        )
        .await;
    match asked {
        Ok(answer) => {
            let shown =
                crate::pages::desk::applications::InquiryShown::of(&definition, &answer, &page);
            let mut view = CounterView::load(&state, page, &visitor).await?;
            view.inquiry_answer = Some((shown, consent));
            render(&view)
        }
        Err(error) => {
            let message = crate::pages::desk::applications::inquiry_refusal(error, &page)?;
            refused(&state, page, &visitor, message).await
        }
    }
}
