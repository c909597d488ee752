//! Printed documents of the portal: a published form as a blank PDF to fill by hand, and a
//! service card as a PDF (render layer: `pishkhan-render`, typst).

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_render::{CardPrint, FormPrint, RenderError, Template, card_data, form_data, render};
use pishkhan_store::{DocKind, OrgDirectory, StoreError};

use crate::App;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("the renderer stopped: {0}")]
    Join(String),
}

/// A printed document and the version it shows.
pub struct Printed {
    pub pdf: Vec<u8>,
    pub version: i64,
}

/// The day a moment falls on in Iran (UTC+03:30 all year), as a long Persian Jalali date.
fn iran_date_fa(at: DateTime<Utc>) -> String {
    JalaliDate::in_iran(at).format_long_fa()
}

fn names(directory: &OrgDirectory, agency: &str) -> (String, Option<String>) {
    match directory.agency(agency) {
        Some(org) => (
            org.name_fa.clone(),
            directory
                .name_of(&pishkhan_domain::identity::Scope::Province(
                    org.province.clone(),
                ))
                .map(str::to_owned),
        ),
        None => (agency.to_owned(), None),
    }
}

async fn typeset(template: Template, data: serde_json::Value) -> Result<Vec<u8>, PrintError> {
    // Typesetting takes milliseconds of CPU: off the request threads.
    tokio::task::spawn_blocking(move || render(template, &data))
        .await
        .map_err(|e| PrintError::Join(e.to_string()))?
        .map_err(PrintError::from)
}

impl App {
    /// The published version of a form as a PDF; `None` if there is none.
    pub async fn form_pdf(&self, code: &str) -> Result<Option<Printed>, PrintError> {
        let Some(state) = self.store().doc_state(DocKind::Form, code).await? else {
            return Ok(None);
        };
        let Some((form, version)) = self.form(code, None).await? else {
            return Ok(None);
        };
        let directory = self.store().org_directory().await?;
        let (agency, province) = names(&directory, &state.agency);
        let printed_on = iran_date_fa(Utc::now());
        let data = form_data(&FormPrint {
            form: &form,
            version,
            agency_name: &agency,
            province_name: province.as_deref(),
            printed_on: &printed_on,
        });
        Ok(Some(Printed {
            pdf: typeset(Template::Form, data).await?,
            version,
        }))
    }

    /// A published service card as a PDF; `address` is the card's page on the portal.
    pub async fn card_pdf(&self, code: &str, address: &str) -> Result<Option<Printed>, PrintError> {
        let Some(service) = self.published_service(code).await? else {
            return Ok(None);
        };
        let directory = self.store().org_directory().await?;
        let (agency, province) = names(&directory, &service.card.agency);
        let mut form_titles = Vec::new();
        for form in &service.card.forms {
            if let Some((schema, _)) = self.form(&form.code, None).await? {
                form_titles.push((form.code.clone(), schema.title.fa));
            }
        }
        let updated_on = iran_date_fa(service.updated_at);
        let printed_on = iran_date_fa(Utc::now());
        let data = card_data(&CardPrint {
            card: &service.card,
            version: service.version,
            agency_name: &agency,
            province_name: province.as_deref(),
            updated_on: &updated_on,
            printed_on: &printed_on,
            form_titles: &form_titles,
            address,
        });
        Ok(Some(Printed {
            pdf: typeset(Template::Card, data).await?,
            version: service.version,
        }))
    }
}
