//! The public portal's catalogue pages (Article 2.2(b)): a service card, a category, an agency,
//! a form — server-rendered, right to left, usable without JavaScript and in print.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use pishkhan_app::catalog::PublishedService;
use pishkhan_app::plan::PublicAgency;
use pishkhan_app::records::ServiceFilter;
use pishkhan_domain::Rials;
use pishkhan_domain::catalog::{Category, Channel, ServiceCard};
use pishkhan_domain::forms::{FieldKind, FormSchema};

use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Online => "portal-channel-online",
        Channel::Centre => "portal-channel-centre",
        Channel::AgencyOffice => "portal-channel-office",
    }
}

#[derive(Template)]
#[template(path = "portal_service.html")]
struct ServiceView {
    page: PageContext,
    card: ServiceCard,
    agency: Option<PublicAgency>,
    category: &'static str,
    updated: String,
    version: String,
    total_fee: String,
}

impl ServiceView {
    fn money(&self, rials: &i64) -> String {
        Rials(*rials).format_rials(self.page.lang)
    }

    fn channel(&self, channel: &Channel) -> &'static str {
        channel_key(*channel)
    }

    fn number(&self, n: &u32) -> String {
        self.page.digits(&n.to_string())
    }
}

/// `GET /services/{code}`: one published service card.
pub async fn service(
    State(state): State<WebState>,
    page: PageContext,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let service = state
        .app
        .published_service(&code)
        .await
        .map_err(WebError::internal)?
        .ok_or(WebError::NotFound)?;
    let agency = state
        .app
        .public_agency(&service.card.agency)
        .await
        .map_err(WebError::internal)?;
    let total_fee = Rials(service.card.total_fee()).format_rials(page.lang);
    render(&ServiceView {
        category: service.card.category.name_fa(),
        updated: page.moment(&service.updated_at),
        version: page.digits(&service.version.to_string()),
        total_fee,
        agency,
        card: service.card,
        page,
    })
}

pub struct ServiceItem {
    pub code: String,
    pub title: String,
    pub summary: String,
    pub days: String,
}

fn items(page: &PageContext, services: Vec<PublishedService>) -> Vec<ServiceItem> {
    services
        .into_iter()
        .map(|s| ServiceItem {
            days: page.digits(&s.card.processing_days.to_string()),
            code: s.card.code,
            title: s.card.title.fa,
            summary: s.card.summary.fa,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "portal_list.html")]
struct ListView {
    page: PageContext,
    title: String,
    lead: String,
    services: Vec<ServiceItem>,
    agency: Option<PublicAgency>,
}

impl ListView {
    fn city_name(&self, code: &Option<String>) -> String {
        let cities = self
            .agency
            .as_ref()
            .map(|a| a.cities.as_slice())
            .unwrap_or(&[]);
        code.as_ref()
            .and_then(|c| cities.iter().find(|city| &city.code == c))
            .map(|c| c.name_fa.clone())
            .unwrap_or_default()
    }
}

/// `GET /categories/{code}`: the published services of one category.
pub async fn category(
    State(state): State<WebState>,
    page: PageContext,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let category = Category::from_code(&code).ok_or(WebError::NotFound)?;
    let filter = ServiceFilter {
        category: Some(code),
        ..ServiceFilter::default()
    };
    let (services, _) = state
        .app
        .published_services(&filter, 500, 0)
        .await
        .map_err(WebError::internal)?;
    render(&ListView {
        title: category.name_fa().to_owned(),
        lead: page.t.get("portal-category-lead"),
        services: items(&page, services),
        agency: None,
        page,
    })
}

/// `GET /agencies/{code}`: an agency, its offices and contacts, and its services.
pub async fn agency(
    State(state): State<WebState>,
    page: PageContext,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let agency = state
        .app
        .public_agency(&code)
        .await
        .map_err(WebError::internal)?
        .ok_or(WebError::NotFound)?;
    let filter = ServiceFilter {
        agency: Some(code),
        ..ServiceFilter::default()
    };
    let (services, _) = state
        .app
        .published_services(&filter, 500, 0)
        .await
        .map_err(WebError::internal)?;
    render(&ListView {
        title: agency.name_fa.clone(),
        lead: page.t.get("portal-agency-lead"),
        services: items(&page, services),
        agency: Some(agency),
        page,
    })
}

/// One field of a form, as the page shows it.
pub struct FormField {
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    /// `text`, `textarea`, `select`, `checkboxes`, `radio` (yes/no), `file`, `date`, `number`.
    pub control: &'static str,
    pub options: Vec<(String, String)>,
    pub ltr: bool,
    pub condition: Option<String>,
}

pub struct FormSection {
    pub title: String,
    pub fields: Vec<FormField>,
}

#[derive(Template)]
#[template(path = "portal_form.html")]
struct FormView {
    page: PageContext,
    code: String,
    title: String,
    version: String,
    sections: Vec<FormSection>,
}

fn sections_of(form: &FormSchema) -> Vec<FormSection> {
    form.sections
        .iter()
        .map(|section| FormSection {
            title: section.title.fa.clone(),
            fields: section
                .fields
                .iter()
                .map(|field| {
                    let (control, options, ltr) = match &field.kind {
                        FieldKind::LongText { .. } => ("textarea", Vec::new(), false),
                        FieldKind::Select { options } => (
                            "select",
                            options
                                .iter()
                                .map(|o| (o.value.clone(), o.label.fa.clone()))
                                .collect(),
                            false,
                        ),
                        FieldKind::MultiSelect { options } => (
                            "checkboxes",
                            options
                                .iter()
                                .map(|o| (o.value.clone(), o.label.fa.clone()))
                                .collect(),
                            false,
                        ),
                        FieldKind::YesNo {} => (
                            "radio",
                            vec![("yes".into(), "بله".into()), ("no".into(), "خیر".into())],
                            false,
                        ),
                        FieldKind::File { .. } => ("file", Vec::new(), false),
                        FieldKind::JalaliDate {} => ("date", Vec::new(), true),
                        FieldKind::Number { .. } | FieldKind::Money { .. } => {
                            ("number", Vec::new(), true)
                        }
                        FieldKind::Text { .. } => ("text", Vec::new(), false),
                        _ => ("text", Vec::new(), true),
                    };
                    let condition = field
                        .show_if
                        .as_ref()
                        .and_then(|c| form.field(&c.field).map(|other| other.label.fa.clone()));
                    FormField {
                        id: field.id.clone(),
                        label: field.label.fa.clone(),
                        help: field.help.as_ref().map(|h| h.fa.clone()),
                        required: field.required,
                        control,
                        options,
                        ltr,
                        condition,
                    }
                })
                .collect(),
        })
        .collect()
}

/// `GET /forms/{code}`: the published form as an accessible page (to read, print and fill by hand).
pub async fn form(
    State(state): State<WebState>,
    page: PageContext,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (form, version) = state
        .app
        .form(&code, None)
        .await
        .map_err(WebError::internal)?
        .ok_or(WebError::NotFound)?;
    render(&FormView {
        version: page.digits(&version.to_string()),
        sections: sections_of(&form),
        title: form.title.fa,
        code,
        page,
    })
}

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search?q=…`: services whose title or summary holds every word typed.
pub async fn search(
    State(state): State<WebState>,
    page: PageContext,
    axum::extract::Query(query): axum::extract::Query<SearchQuery>,
) -> Result<Response, WebError> {
    let q = query.q.unwrap_or_default();
    let services = if q.trim().is_empty() {
        Vec::new()
    } else {
        state
            .app
            .find_services(&ServiceFilter::default(), &q)
            .await
            .map_err(WebError::internal)?
    };
    let count = page.digits(&services.len().to_string());
    render(&ListView {
        title: format!("{} «{}»", page.t.get("portal-search-title"), q.trim()),
        lead: format!("{} {count}", page.t.get("portal-search-count")),
        services: items(&page, services),
        agency: None,
        page,
    })
}
