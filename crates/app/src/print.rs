//! Printed documents of the portal: a published form as a blank PDF to fill by hand, and a
//! service card as a PDF (render layer: `pishkhan-render`, typst).

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_render::{
    CardPrint, FormPrint, ReceiptPrint, RenderError, Template, card_data, form_data, receipt_data,
    render,
};
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

/// A moment in Iran's time, as a long Persian date with the hour and minute.
fn iran_moment_fa(at: DateTime<Utc>) -> String {
    let local = pishkhan_domain::jalali::iran_local_time(at);
    format!(
        "{}، ساعت {}",
        JalaliDate::from_gregorian(local.date()).format_long_fa(),
        pishkhan_domain::text::to_persian_digits(&local.format("%H:%M").to_string())
    )
}

pub(crate) fn names(directory: &OrgDirectory, agency: &str) -> (String, Option<String>) {
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

    /// The receipt of an application, for someone who may see it (`None` otherwise, as for a
    /// missing one). `track_address` is the tracking page's full address.
    #[tracing::instrument(skip_all, fields(code = %code))]
    pub async fn receipt_pdf(
        &self,
        principal: &crate::policy::Principal,
        code: &str,
        track_address: &str,
    ) -> Result<Option<Vec<u8>>, PrintError> {
        let view = match self.application_for(principal, code).await {
            Ok(Some(view)) => view,
            Ok(None) => return Ok(None),
            Err(crate::applications::ApplicationError::Store(e)) => return Err(e.into()),
            Err(other) => return Err(PrintError::Join(other.to_string())),
        };
        self.receipt_of(&view, track_address).await.map(Some)
    }

    /// The receipt of an application the caller has already been shown (by [`App::track`]
    /// with its code and national ID, or through [`App::application_for`]).
    pub async fn receipt_of(
        &self,
        view: &crate::applications::ApplicationView,
        track_address: &str,
    ) -> Result<Vec<u8>, PrintError> {
        let directory = self.store().org_directory().await?;
        let (agency, province) = names(&directory, &view.record.agency);
        let r = &view.record;
        let channel = match (r.channel.as_str(), &r.centre) {
            ("centre", Some(centre)) => format!(
                "در دفتر پیشخوان {}",
                directory
                    .centre(centre)
                    .map_or(centre.as_str(), |c| c.name_fa.as_str())
            ),
            ("api", _) => "سامانهٔ دستگاه".to_owned(),
            _ => "برخط، به دست متقاضی".to_owned(),
        };
        let code = pishkhan_domain::tracking::TrackingCode::parse(&r.code)
            .map(|c| c.grouped_fa())
            .unwrap_or_else(|_| r.code.clone());
        let filed_on = DateTime::from_timestamp_millis(r.created_at)
            .map(iran_moment_fa)
            .unwrap_or_default();
        let deadline = r
            .deadline
            .as_deref()
            .and_then(|d| JalaliDate::parse(d).ok())
            .map(|d| d.format_long_fa());
        let documents: Vec<(String, String)> = view
            .documents
            .iter()
            .map(|d| (d.requirement.clone(), d.file_name.clone()))
            .collect();
        let state = view
            .state()
            .map(|s| s.name.fa.clone())
            .unwrap_or_else(|| r.state.clone());
        let printed_on = iran_date_fa(Utc::now());
        // At a centre: the centre, where it is, who filed, and the centre's share of the fees.
        let (centre_name, place, operator) = match (r.channel.as_str(), &r.centre) {
            ("centre", Some(centre)) => {
                let places = self.store().centre_places(None).await?;
                let found = places.iter().find(|p| p.code == *centre);
                let place = found
                    .map(|p| {
                        // The phone isolated left to right, so its groups keep their order.
                        [
                            p.address_fa.clone(),
                            format!(
                                "\u{2066}{}\u{2069}",
                                pishkhan_domain::text::to_persian_digits(&p.phone)
                            ),
                        ]
                        .into_iter()
                        .filter(|s| !s.is_empty() && s != "\u{2066}\u{2069}")
                        .collect::<Vec<_>>()
                        .join(" — ")
                    })
                    .unwrap_or_default();
                let operator = self
                    .actor_names(vec![r.filed_by.clone()])
                    .await?
                    .remove(&r.filed_by)
                    .unwrap_or_default();
                (
                    found.map_or_else(|| centre.clone(), |p| p.name_fa.clone()),
                    place,
                    operator,
                )
            }
            _ => Default::default(),
        };
        let counter = (r.channel == "centre").then(|| pishkhan_render::CounterPrint {
            centre: &centre_name,
            place: &place,
            operator: &operator,
            fee_rials: view.card.fees.iter().map(|f| f.centre_share_rials).sum(),
        });
        let data = receipt_data(&ReceiptPrint {
            counter,
            code: &code,
            service_title: &view.card.title.fa,
            agency_name: &agency,
            province_name: province.as_deref(),
            national_id: &r.national_id,
            channel: &channel,
            filed_on: &filed_on,
            state: &state,
            deadline: deadline.as_deref(),
            fee_rials: r.fee_rials,
            documents: &documents,
            track_address,
            printed_on: &printed_on,
        });
        typeset(Template::Receipt, data).await
    }
}
