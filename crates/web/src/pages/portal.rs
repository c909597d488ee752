//! The public portal's catalogue pages (Article 2.2(b)): a service card, a category, an agency,
//! a form — server-rendered, right to left, usable without JavaScript and in print.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use pishkhan_app::catalog::PublishedService;
use pishkhan_app::plan::PublicAgency;
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
struct ServiceView<'a> {
    page: PageContext,
    card: &'a ServiceCard,
    agency: Option<&'a PublicAgency>,
    category: &'static str,
    updated: String,
    version: String,
    total_fee: String,
    /// Each form the card names: (code, title).
    forms: &'a [(String, String)],
    /// The province's service centres, with where they are.
    centres: &'a [pishkhan_app::records::CentrePlace],
    /// Who it is for, in words.
    audience: String,
    canonical: String,
    /// schema.org `GovernmentService`, ready for a `<script>` element.
    json_ld: String,
}

impl ServiceView<'_> {
    /// A fee's amount; a fee the card lists without an amount (0) is "not announced", not free.
    fn money(&self, rials: &i64) -> String {
        if *rials > 0 {
            Rials(*rials).format_rials(self.page.lang)
        } else {
            self.page.t.string("portal-fee-unknown")
        }
    }

    fn channel(&self, channel: &Channel) -> &'static str {
        channel_key(*channel)
    }

    /// The agency's province (the centres listed are its).
    fn province(&self) -> &str {
        self.centres.first().map_or("", |c| c.province.as_str())
    }

    /// Can a service centre file it?
    fn at_centres(&self) -> bool {
        self.card
            .channels
            .iter()
            .any(|c| c.channel == Channel::Centre)
    }

    /// Can a signed-in citizen file it online?
    fn online(&self) -> bool {
        self.card
            .channels
            .iter()
            .any(|c| c.channel == Channel::Online)
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
    let data = state
        .app
        .service_page(&code)
        .await?
        .ok_or(WebError::NotFound)?;
    let service = &data.service;
    let agency = data.agency.as_ref();
    let mut total_fee = Rials(service.card.total_fee()).format_rials(page.lang);
    if service.card.has_unannounced_fee() {
        total_fee = format!("{total_fee} {}", page.t.get("portal-total-fee-partial"));
    }
    let canonical = format!("{}/services/{}", page.origin, service.card.code);
    let json_ld = script_json(&government_service(
        service,
        agency,
        &page.origin,
        &canonical,
    ));
    render(&ServiceView {
        category: service.card.category.name_fa(),
        updated: page.moment(&service.updated_at),
        version: page.digits(&service.version.to_string()),
        total_fee,
        forms: &data.forms,
        centres: &data.centres,
        audience: service
            .card
            .audience
            .iter()
            .map(|a| {
                page.t.string(match a {
                    pishkhan_domain::catalog::Audience::Citizen => "portal-audience-citizen",
                    pishkhan_domain::catalog::Audience::Business => "portal-audience-business",
                })
            })
            .collect::<Vec<_>>()
            .join("، "),
        canonical,
        json_ld,
        agency,
        card: &service.card,
        page,
    })
}

/// JSON for a `<script type="application/ld+json">` element: `<` escaped so no text in it can
/// close the element.
fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// The card as schema.org `GovernmentService`, for search engines and other readers.
fn government_service(
    service: &PublishedService,
    agency: Option<&PublicAgency>,
    origin: &str,
    url: &str,
) -> serde_json::Value {
    let card = &service.card;
    let mut provider = serde_json::json!({
        "@type": "GovernmentOrganization",
        "identifier": card.agency,
        "url": format!("{origin}/agencies/{}", card.agency),
    });
    if let Some(a) = agency {
        provider["name"] = a.name_fa.clone().into();
        if !a.contact.phone.is_empty() {
            provider["telephone"] = a.contact.phone.clone().into();
        }
        if !a.contact.email.is_empty() {
            provider["email"] = a.contact.email.clone().into();
        }
    }
    let channels: Vec<serde_json::Value> = card
        .channels
        .iter()
        .map(|offer| {
            serde_json::json!({
                "@type": "ServiceChannel",
                "name": match offer.channel {
                    Channel::Online => "برخط",
                    Channel::Centre => "دفاتر پیشخوان دولت",
                    Channel::AgencyOffice => "ادارهٔ دستگاه",
                },
                "serviceUrl": url,
                "processingTime": format!("P{}D", card.processing_days),
            })
        })
        .collect();
    let mut value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": url,
        "url": url,
        "identifier": card.code,
        "name": card.title.fa,
        "description": card.summary.fa,
        "serviceType": card.category.name_fa(),
        "inLanguage": "fa",
        "provider": provider,
        "serviceOperator": provider,
        "availableChannel": channels,
        "dateModified": service.updated_at.to_rfc3339(),
        "offers": {
            "@type": "Offer",
            "priceCurrency": "IRR",
        },
        "serviceOutput": { "@type": "Thing", "name": card.output.fa },
    });
    if let Some(a) = agency {
        value["areaServed"] = serde_json::json!({
            "@type": "AdministrativeArea",
            "identifier": a.province,
        });
    }
    if let Some(basis) = &card.legal_basis {
        value["termsOfService"] = basis.fa.clone().into();
    }
    // A price only when every fee is announced: a partial sum would read as the whole cost.
    if !card.has_unannounced_fee() {
        value["offers"]["price"] = card.total_fee().into();
    }
    if let Some(en) = &card.title.en {
        value["alternateName"] = en.clone().into();
    }
    value
}

pub struct ServiceItem {
    pub code: String,
    pub title: String,
    pub summary: String,
    pub days: String,
    /// The province's name when the list shows several provinces ("" otherwise).
    pub province: String,
}

/// Every published service passing `filter`, by title, as a list shows them (from the search
/// index: no database read, no cut-off).
async fn listed(
    state: &WebState,
    page: &PageContext,
    filter: pishkhan_app::search::Filter,
) -> Result<Vec<ServiceItem>, WebError> {
    let names = if filter.province.is_none() {
        province_choices(state).await?
    } else {
        Vec::new()
    };
    Ok(state
        .app
        .browse_services(&filter)
        .await?
        .iter()
        .map(|e| ServiceItem {
            code: e.code.clone(),
            title: e.title_fa.clone(),
            summary: e.summary_fa.clone(),
            days: page.digits(&e.processing_days.to_string()),
            province: province_name(&names, e.province.as_deref()),
        })
        .collect())
}

/// A province's name from the choices, for a list that shows several ("" when there is only one).
pub(crate) fn province_name(names: &[(String, String)], code: Option<&str>) -> String {
    code.and_then(|c| names.iter().find(|(k, _)| k == c))
        .map(|(_, name)| name.clone())
        .unwrap_or_default()
}

/// The province a list shows: `?province=` when given (empty: all), else the one the visitor
/// chose before; only a known one counts.
pub(crate) fn chosen_province(
    provinces: &[(String, String)],
    asked: Option<String>,
    page: &PageContext,
) -> Option<(String, String)> {
    let code = match asked {
        Some(code) => code,
        None => page.province.clone().unwrap_or_default(),
    };
    provinces.iter().find(|(c, _)| *c == code).cloned()
}

#[derive(serde::Deserialize, Default)]
pub struct ProvinceQuery {
    province: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_list.html")]
struct ListView {
    page: PageContext,
    title: String,
    lead: String,
    services: Vec<ServiceItem>,
    agency: Option<PublicAgency>,
    /// A category or life event: the province chooser, with the one shown ("" for all).
    provinces: Vec<(String, String)>,
    province: String,
    province_name: String,
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
    axum::extract::Query(query): axum::extract::Query<ProvinceQuery>,
) -> Result<Response, WebError> {
    let category = Category::from_code(&code).ok_or(WebError::NotFound)?;
    let provinces = province_choices(&state).await?;
    let (province, province_name) =
        chosen_province(&provinces, query.province, &page).unwrap_or_default();
    let services = listed(
        &state,
        &page,
        pishkhan_app::search::Filter {
            category: Some(code),
            province: (!province.is_empty()).then(|| province.clone()),
            ..Default::default()
        },
    )
    .await?;
    render(&ListView {
        title: category.name_fa().to_owned(),
        lead: page.t.string("portal-category-lead"),
        services,
        agency: None,
        provinces,
        province,
        province_name,
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
        .await?
        .ok_or(WebError::NotFound)?;
    let services = listed(
        &state,
        &page,
        pishkhan_app::search::Filter {
            agency: Some(code),
            ..Default::default()
        },
    )
    .await?;
    render(&ListView {
        title: agency.name_fa.clone(),
        lead: page.t.string("portal-agency-lead"),
        services,
        agency: Some(agency),
        provinces: Vec::new(),
        province: String::new(),
        province_name: String::new(),
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
    /// On a filing page: the input's name and element id, what was typed (a multiple choice's
    /// choices), what is wrong with it, the file attached.
    pub name: String,
    pub dom_id: String,
    pub value: String,
    pub values: Vec<String>,
    pub error: Option<String>,
    pub attached: Option<String>,
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
    /// The service this form is filed for, when it has the form's code: (code, title).
    service: Option<(String, String)>,
}

pub(crate) fn sections_of(form: &FormSchema) -> Vec<FormSection> {
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
                        name: field.id.clone(),
                        dom_id: format!("field-{}", field.id),
                        value: String::new(),
                        values: Vec::new(),
                        error: None,
                        attached: None,
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
        .await?
        .ok_or(WebError::NotFound)?;
    // The service filed with this form: in the province the visitor chose, if it has one.
    let using: Vec<_> = state
        .app
        .browse_services(&pishkhan_app::search::Filter::default())
        .await?
        .iter()
        .filter(|e| e.forms.contains(&code))
        .cloned()
        .collect();
    let service = using
        .iter()
        .find(|e| e.province.is_some() && e.province == page.province)
        .or(using.first())
        .map(|e| (e.code.clone(), e.title_fa.clone()));
    render(&FormView {
        service,
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
    province: Option<String>,
    page: Option<String>,
}

/// Results per page of the search page.
const SEARCH_PAGE: usize = 20;

pub struct SearchHit {
    pub code: String,
    pub title: String,
    pub summary: String,
    pub agency: String,
    pub days: String,
    /// The province's name when results from several provinces show ("" otherwise).
    pub province: String,
}

#[derive(Template)]
#[template(path = "portal_search.html")]
struct SearchView {
    page: PageContext,
    q: String,
    province: String,
    provinces: Vec<(String, String)>,
    hits: Vec<SearchHit>,
    count: String,
    /// "Did you mean": the corrected query and its link.
    did_you_mean: Option<(String, String)>,
    /// Links to the previous and next pages, when there are some.
    previous: Option<String>,
    next: Option<String>,
}

/// The provinces a visitor can choose: the pilots (where services are published), by name.
pub(crate) async fn province_choices(state: &WebState) -> Result<Vec<(String, String)>, WebError> {
    let mut provinces: Vec<(String, String)> = state
        .app
        .public_provinces()
        .await?
        .iter()
        .filter(|p| p.pilot)
        .map(|p| (p.code.clone(), p.name_fa.clone()))
        .collect();
    provinces.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(provinces)
}

fn search_href(q: &str, province: &str, page: usize) -> String {
    let mut pairs = vec![("q", q.to_owned())];
    if !province.is_empty() {
        pairs.push(("province", province.to_owned()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    format!(
        "/search?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// `GET /search?q=…&province=…&page=…`: the ranked search of the published catalogue.
pub async fn search(
    State(state): State<WebState>,
    page: PageContext,
    axum::extract::Query(query): axum::extract::Query<SearchQuery>,
) -> Result<Response, WebError> {
    let q = query.q.unwrap_or_default().trim().to_owned();
    let provinces = province_choices(&state).await?;
    // An unknown province is no filter (the choice list offers only known ones); without
    // `?province=`, the one the visitor chose before.
    let province = chosen_province(&provinces, query.province, &page)
        .map(|(code, _)| code)
        .unwrap_or_default();
    let number = query
        .page
        .and_then(|p| {
            pishkhan_domain::text::to_ascii_digits(&p)
                .parse::<usize>()
                .ok()
        })
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(1);
    let filter = pishkhan_app::search::Filter {
        province: (!province.is_empty()).then(|| province.clone()),
        ..Default::default()
    };
    let found = if q.is_empty() {
        pishkhan_app::search::Found::default()
    } else {
        state
            .app
            .search_services(&q, &filter, (number - 1) * SEARCH_PAGE, SEARCH_PAGE)
            .await?
    };
    let hits = found
        .hits
        .iter()
        .map(|e| SearchHit {
            code: e.code.clone(),
            title: e.title_fa.clone(),
            summary: e.summary_fa.clone(),
            agency: e.agency_name.clone(),
            days: page.digits(&e.processing_days.to_string()),
            province: if province.is_empty() {
                province_name(&provinces, e.province.as_deref())
            } else {
                String::new()
            },
        })
        .collect();
    let previous = (number > 1).then(|| search_href(&q, &province, number - 1));
    let next = (number * SEARCH_PAGE < found.total).then(|| search_href(&q, &province, number + 1));
    render(&SearchView {
        count: page.digits(&found.total.to_string()),
        did_you_mean: found.did_you_mean.map(|better| {
            let href = search_href(&better, &province, 1);
            (better, href)
        }),
        q,
        province,
        provinces,
        hits,
        previous,
        next,
        page,
    })
}

/// `GET /events/{code}`: the services of one life or business event.
pub async fn event(
    State(state): State<WebState>,
    page: PageContext,
    Path(code): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ProvinceQuery>,
) -> Result<Response, WebError> {
    let (_, name, _) = pishkhan_domain::catalog::LIFE_EVENTS
        .iter()
        .find(|(c, _, _)| *c == code)
        .ok_or(WebError::NotFound)?;
    let provinces = province_choices(&state).await?;
    let (province, province_name) =
        chosen_province(&provinces, query.province, &page).unwrap_or_default();
    let services = listed(
        &state,
        &page,
        pishkhan_app::search::Filter {
            event: Some(code),
            province: (!province.is_empty()).then(|| province.clone()),
            ..Default::default()
        },
    )
    .await?;
    render(&ListView {
        title: (*name).to_owned(),
        lead: page.t.string("portal-event-lead"),
        services,
        agency: None,
        provinces,
        province,
        province_name,
        page,
    })
}

fn pdf_response(pdf: Vec<u8>, file_name: &str) -> Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (
                axum::http::header::CACHE_CONTROL,
                "public, max-age=300".to_owned(),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// Codes are lower-case letters, digits, dots and dashes: safe in a file name as they are.
fn plain_code(code: &str) -> Result<&str, WebError> {
    if !code.is_empty()
        && code.len() <= 128
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
    {
        Ok(code)
    } else {
        Err(WebError::NotFound)
    }
}

/// `GET /forms/{code}/pdf`: the published form as a PDF to print and fill by hand.
pub async fn form_pdf(
    State(state): State<WebState>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let code = plain_code(&code)?;
    let printed = state.app.form_pdf(code).await?.ok_or(WebError::NotFound)?;
    Ok(pdf_response(
        printed.pdf,
        &format!("{code}-v{}.pdf", printed.version),
    ))
}

/// `GET /services/{code}/pdf`: the service card as a PDF.
pub async fn card_pdf(
    State(state): State<WebState>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let code = plain_code(&code)?;
    let address = format!("{}/services/{code}", crate::page::site_origin(&state));
    let printed = state
        .app
        .card_pdf(code, &address)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(pdf_response(
        printed.pdf,
        &format!("{code}-card-v{}.pdf", printed.version),
    ))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /sitemap.xml`: every public page of the portal, with when each service last changed.
pub async fn sitemap(State(state): State<WebState>) -> Result<Response, WebError> {
    use axum::response::IntoResponse;
    let origin = crate::page::site_origin(&state);
    let services = state
        .app
        .browse_services(&pishkhan_app::search::Filter::default())
        .await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut url = |path: &str, modified: Option<&str>| {
        out.push_str("<url><loc>");
        out.push_str(&xml_escape(&format!("{origin}{path}")));
        out.push_str("</loc>");
        if let Some(m) = modified {
            out.push_str("<lastmod>");
            out.push_str(&xml_escape(m));
            out.push_str("</lastmod>");
        }
        out.push_str("</url>\n");
    };
    url("/", None);
    for category in Category::ALL {
        url(&format!("/categories/{}", category.code()), None);
    }
    for (code, _, _) in pishkhan_domain::catalog::LIFE_EVENTS {
        url(&format!("/events/{code}"), None);
    }
    let mut agencies: Vec<&str> = services.iter().map(|e| e.agency.as_str()).collect();
    agencies.sort_unstable();
    agencies.dedup();
    for agency in agencies {
        url(&format!("/agencies/{agency}"), None);
    }
    for entry in &services {
        let day = entry.updated_at.get(..10);
        url(&format!("/services/{}", entry.code), day);
    }
    let mut forms: Vec<&str> = services
        .iter()
        .flat_map(|e| e.forms.iter().map(String::as_str))
        .collect();
    forms.sort_unstable();
    forms.dedup();
    for form in forms {
        url(&format!("/forms/{form}"), None);
    }
    out.push_str("</urlset>\n");
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/xml; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// `GET /robots.txt`: everything public may be indexed; the sitemap says where it is.
pub async fn robots(State(state): State<WebState>) -> Response {
    use axum::response::IntoResponse;
    let origin = crate::page::site_origin(&state);
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "User-agent: *\nDisallow: /admin\nDisallow: /desk\nDisallow: /counter\nDisallow: /account\nDisallow: /me\nDisallow: /signin\nSitemap: {origin}/sitemap.xml\n"
        ),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "portal_centres.html")]
struct CentresView {
    page: PageContext,
    provinces: Vec<(String, String)>,
    province: String,
    province_name: String,
    centres: Vec<pishkhan_app::records::CentrePlace>,
    /// The centres by province: (province name, its centres).
    groups: Vec<(String, Vec<pishkhan_app::records::CentrePlace>)>,
}

/// `GET /centres?province=…`: the service centres where a person can go, with address, phone and
/// opening hours; those of the province the visitor chose, or all of them by province.
pub async fn centres(
    State(state): State<WebState>,
    page: PageContext,
    axum::extract::Query(query): axum::extract::Query<ProvinceQuery>,
) -> Result<Response, WebError> {
    let provinces = province_choices(&state).await?;
    let (province, province_name) =
        chosen_province(&provinces, query.province, &page).unwrap_or_default();
    let centres = state
        .app
        .centre_places((!province.is_empty()).then_some(province.as_str()))
        .await?;
    let all = state.app.public_provinces().await?;
    let mut groups: Vec<(String, Vec<pishkhan_app::records::CentrePlace>)> = Vec::new();
    for centre in &centres {
        let name = all
            .iter()
            .find(|p| p.code == centre.province)
            .map_or_else(|| centre.province.clone(), |p| p.name_fa.clone());
        match groups.last_mut() {
            Some((last, group)) if *last == name => group.push(centre.clone()),
            _ => groups.push((name, vec![centre.clone()])),
        }
    }
    render(&CentresView {
        page,
        provinces,
        province,
        province_name,
        centres,
        groups,
    })
}
