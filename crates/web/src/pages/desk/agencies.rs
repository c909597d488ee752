//! The agency's own page on the desk: contact details and offices.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

use super::{NoticeQuery, actor};

#[derive(Template)]
#[template(path = "desk_agency.html")]
struct AgencyView {
    page: PageContext,
    code: String,
    name: String,
    contact: pishkhan_app::records::AgencyContact,
    saved: bool,
    offices: Vec<pishkhan_app::records::Office>,
    cities: Vec<pishkhan_app::records::City>,
    office_error: Option<String>,
}

impl AgencyView {
    fn city_name(&self, code: &Option<String>) -> String {
        code.as_ref()
            .and_then(|c| self.cities.iter().find(|city| &city.code == c))
            .map(|c| c.name_fa.clone())
            .unwrap_or_default()
    }

    fn location(&self, office: &pishkhan_app::records::Office) -> String {
        match (office.latitude, office.longitude) {
            (Some(lat), Some(lon)) => self.page.digits(&format!("{lat:.5}, {lon:.5}")),
            _ => String::new(),
        }
    }
}

async fn agency_view(
    state: &WebState,
    page: PageContext,
    visitor: &Visitor,
    code: String,
    saved: bool,
    office_error: Option<String>,
) -> Result<AgencyView, WebError> {
    let principal = staff(visitor)?;
    let (name, contact) = state
        .app
        .agency_contact_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let (offices, cities) = state
        .app
        .offices_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(AgencyView {
        page,
        code,
        name,
        contact,
        saved,
        offices,
        cities,
        office_error,
    })
}

/// `GET /desk/agencies/{code}`
pub async fn agency(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render(&agency_view(&state, page, &visitor, code, query.done.is_some(), None).await?)
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    address_fa: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    fax: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    hours_fa: String,
}

/// `POST /desk/agencies/{code}`
pub async fn save_agency(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let contact = pishkhan_app::records::AgencyContact {
        address_fa: form.address_fa.trim().to_owned(),
        phone: pishkhan_domain::text::to_ascii_digits(form.phone.trim()),
        fax: pishkhan_domain::text::to_ascii_digits(form.fax.trim()),
        email: form.email.trim().to_owned(),
        hours_fa: form.hours_fa.trim().to_owned(),
    };
    if !state
        .app
        .set_agency_contact(principal, &actor(&visitor)?, &code, &contact)
        .await?
    {
        return Err(WebError::NotFound);
    }
    Ok(redirect(&format!("/desk/agencies/{code}?done=saved")))
}

#[derive(Deserialize)]
pub struct OfficeForm {
    #[serde(default)]
    office_code: String,
    #[serde(default)]
    office_name: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    address_fa: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    fax: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    hours_fa: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
}

/// A decimal typed with Persian or ASCII digits and `.` or `٫`.
fn decimal(text: &str) -> Result<Option<f64>, ()> {
    let text = pishkhan_domain::text::to_ascii_digits(text.trim()).replace('٫', ".");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>().map(Some).map_err(|_| ())
}

/// `POST /desk/agencies/{code}/offices`: adds an office, or replaces the one with that code.
pub async fn save_office(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<OfficeForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let location = (decimal(&form.latitude), decimal(&form.longitude));
    let (Ok(latitude), Ok(longitude)) = location else {
        let message = page.t.string("desk-office-bad-number");
        let mut response =
            render(&agency_view(&state, page, &visitor, code, false, Some(message)).await?)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    let office = pishkhan_app::records::Office {
        agency: code.clone(),
        code: form.office_code.trim().to_owned(),
        name_fa: form.office_name.trim().to_owned(),
        city: Some(form.city.trim().to_owned()).filter(|c| !c.is_empty()),
        contact: pishkhan_app::records::AgencyContact {
            address_fa: form.address_fa.trim().to_owned(),
            phone: pishkhan_domain::text::to_ascii_digits(form.phone.trim()),
            fax: pishkhan_domain::text::to_ascii_digits(form.fax.trim()),
            email: form.email.trim().to_owned(),
            hours_fa: form.hours_fa.trim().to_owned(),
        },
        latitude,
        longitude,
    };
    match state
        .app
        .save_office(principal, &actor(&visitor)?, &office)
        .await?
    {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(redirect(&format!("/desk/agencies/{code}?done=saved"))),
        Some(Err(invalid)) => {
            let message = invalid.message(page.lang).to_owned();
            let mut response =
                render(&agency_view(&state, page, &visitor, code, false, Some(message)).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

/// `POST /desk/agencies/{code}/offices/{office}/delete`
pub async fn delete_office(
    State(state): State<WebState>,
    visitor: Visitor,
    Path((code, office)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    if !state
        .app
        .delete_office(principal, &actor(&visitor)?, &code, &office)
        .await?
    {
        return Err(WebError::NotFound);
    }
    Ok(redirect(&format!("/desk/agencies/{code}?done=saved")))
}

// --- creating a service or a form ---------------------------------------------------------
