//! Once only: where a card's required document can come from an agency's inquiry service (a
//! birth record, a tax clearance, a building's no-violation status), the person filing — a
//! citizen online, or an operator at a counter under the person's consent — may let Pishkhan
//! fetch it instead of uploading a scan.
//!
//! - The card names the inquiry on the document (`documents[i].inquiry`); the option is offered
//!   only where the inquiry exists and its agency lets the filer's role ask it for this service.
//! - The fetch is an inquiry like any other ([`App::inquire`]) whose purpose is the draft: a
//!   citizen asks only about themself, an operator only under the draft's open consent, and every
//!   national ID the inquiry asks is the draft's person's (filled in by Pishkhan, never typed).
//! - The agency's answer is kept byte for byte as the document (`application/json`), with its
//!   provenance: the inquiry, the agency, the call's id in the exchange log and what the log entry
//!   names. So the document's SHA-256 is the answer hash that link of the audit chain holds, and
//!   `pishkhan exchange verify` checks every fetched document against its entry.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::Problem;
use pishkhan_domain::forms::FieldKind;
use pishkhan_domain::identity::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::App;
use crate::applications::ApplicationError;
use crate::drafts::{Draft, DraftDocument};
use crate::inquiries::{InquiryDefinition, InquiryError, Purpose};
use crate::policy::Principal;

/// Where a fetched document came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The inquiry service's code, and its agency.
    pub inquiry: String,
    pub agency: String,
    /// The call's id in the exchange log (`details.call` of its `exchange.inquiry` entry).
    pub call: String,
    /// What the log entry names as the purpose (`draft` or `consent`, and its id).
    pub target_kind: String,
    pub target_id: String,
    /// The SHA-256 of the answer (hex): the document's bytes.
    pub sha256: String,
    /// When it was fetched (Unix milliseconds).
    pub at_ms: i64,
}

/// A document the filer may fetch: its place on the card and the inquiry that supplies it.
#[derive(Debug, Clone)]
pub struct FetchOffer {
    pub index: usize,
    pub definition: InquiryDefinition,
}

impl FetchOffer {
    /// The inquiry's input fields the person fills in, as a form (a national ID is always the
    /// draft's person's, filled in by Pishkhan).
    pub fn asked_form(&self) -> pishkhan_domain::forms::FormSchema {
        let mut form = self.definition.input_form();
        for section in &mut form.sections {
            section
                .fields
                .retain(|f| !matches!(f.kind, FieldKind::NationalId {}));
        }
        form
    }
}

/// The role a principal files a draft with: a citizen online, an operator at a counter.
pub fn filer_role(principal: &Principal, draft: &Draft) -> Option<Role> {
    match principal {
        Principal::Citizen(_) if draft.centre.is_none() => Some(Role::Citizen),
        Principal::Staff(_) if draft.consent.is_some() => Some(Role::Operator),
        _ => None,
    }
}

/// Largest answer kept as a document: an inquiry answers fields, not files.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

impl App {
    /// The documents of a card that someone filing with `role` ([`filer_role`]) may fetch:
    /// those naming an inquiry that exists and that the role may ask for this service.
    pub async fn fetch_offers(
        &self,
        role: Option<Role>,
        card: &pishkhan_domain::catalog::ServiceCard,
    ) -> Result<Vec<FetchOffer>, pishkhan_store::StoreError> {
        let Some(role) = role else {
            return Ok(Vec::new());
        };
        let mut offers = Vec::new();
        for (index, doc) in card.documents.iter().enumerate() {
            let Some(code) = doc.inquiry.as_deref() else {
                continue;
            };
            if let Some(definition) = self.inquiry_definition(code).await?
                && definition.allowed_roles().contains(&role)
                && (definition.services.is_empty() || definition.services.contains(&card.code))
            {
                offers.push(FetchOffer { index, definition });
            }
        }
        Ok(offers)
    }

    /// Fetches document `index` of a draft's card from the agency's inquiry, with `input` (the
    /// inquiry's fields other than national IDs) and the person's agreement; keeps the answer
    /// as that document of the draft, replacing what was attached for it. Problems (refused,
    /// not found, the agency not answering) are placed at the document and change nothing.
    #[tracing::instrument(skip_all, fields(draft = %id, document = index))]
    #[allow(clippy::too_many_arguments)]
    pub async fn fetch_document(
        &self,
        principal: &Principal,
        source: &str,
        id: &str,
        index: usize,
        mut input: BTreeMap<String, Value>,
        agreed: bool,
        now: DateTime<Utc>,
    ) -> Result<(Draft, Vec<Problem>), ApplicationError> {
        let mut draft = self
            .draft(principal, id)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let page = self
            .service_page(&draft.service)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let card = &page.service.card;
        let Some(offer) = self
            .fetch_offers(filer_role(principal, &draft), card)
            .await?
            .into_iter()
            .find(|o| o.index == index)
        else {
            return Ok((
                draft,
                vec![Problem::new(
                    "not_fetchable",
                    "این مدرک را نمی‌توان از دستگاه گرفت؛ تصویر آن را بارگذاری کنید.",
                    "This document cannot be fetched from the agency; upload a scan of it.",
                )],
            ));
        };
        let requirement = card.documents[index].name.fa.clone();
        let at = format!("upload:{requirement}");
        let definition = &offer.definition;
        let agency = self
            .org_directory()
            .await?
            .agency(&definition.agency)
            .map_or_else(|| definition.agency.clone(), |a| a.name_fa.clone());
        if !agreed {
            return Ok((
                draft,
                vec![
                    Problem::new(
                        "fetch_consent",
                        format!(
                            "برای گرفتن این مدرک از «{agency}»، نشانِ رضایت را بزنید: بی‌رضایت شخص چیزی پرسیده نمی‌شود."
                        ),
                        format!(
                            "To fetch this document from {agency}, tick the consent box: nothing is asked without the person's consent."
                        ),
                    )
                    .at(&at),
                ],
            ));
        }
        for field in &definition.input {
            if matches!(field.kind, FieldKind::NationalId {}) {
                input.insert(field.id.clone(), Value::String(draft.national_id.clone()));
            }
        }
        let purpose = Purpose {
            draft: Some(draft.id.clone()),
            ..Purpose::default()
        };
        let answer = match self
            .inquire(principal, source, &definition.code, &purpose, &input, now)
            .await
        {
            Ok(answer) => answer,
            Err(InquiryError::Store(e)) => return Err(e.into()),
            Err(InquiryError::Invalid(problems)) => {
                let problems = problems
                    .into_iter()
                    .map(|p| {
                        let label = definition
                            .input
                            .iter()
                            .find(|f| f.id == p.at)
                            .map_or_else(|| p.at.clone(), |f| f.label.fa.clone());
                        Problem::new(p.code, format!("«{label}»: {}", p.fa), p.en).at(&at)
                    })
                    .collect();
                return Ok((draft, problems));
            }
            Err(InquiryError::Refused(p) | InquiryError::Unavailable(p)) => {
                return Ok((draft, vec![p.at(&at)]));
            }
            Err(InquiryError::NotFound) => {
                return Ok((
                    draft,
                    vec![
                        Problem::new(
                            "not_fetchable",
                            "این مدرک را نمی‌توان از دستگاه گرفت؛ تصویر آن را بارگذاری کنید.",
                            "This document cannot be fetched from the agency; upload a scan of it.",
                        )
                        .at(&at),
                    ],
                ));
            }
        };
        if !answer.found {
            return Ok((
                draft,
                vec![
                    Problem::new(
                        "fetch_not_found",
                        format!(
                            "«{agency}» با این مشخصات سابقه‌ای نیافت. آنچه نوشتید را بررسی کنید، یا تصویر مدرک را بارگذاری کنید."
                        ),
                        format!(
                            "{agency} found no record with these details. Check what you typed, or upload a scan of the document."
                        ),
                    )
                    .at(&at),
                ],
            ));
        }
        if answer.raw.len() > MAX_ANSWER_BYTES {
            return Ok((
                draft,
                vec![
                    Problem::new(
                        "fetch_too_large",
                        "پاسخ دستگاه بزرگ‌تر از آن است که مدرک نگه داشته شود؛ تصویر مدرک را بارگذاری کنید.",
                        "The agency's answer is too large to keep as the document; upload a scan of it.",
                    )
                    .at(&at),
                ],
            ));
        }
        self.room_to_write()?;
        let provenance = Provenance {
            inquiry: definition.code.clone(),
            agency: definition.agency.clone(),
            call: answer.call.clone(),
            target_kind: answer.target.0.clone(),
            target_id: answer.target.1.clone(),
            sha256: answer.response_sha256.clone(),
            at_ms: now.timestamp_millis(),
        };
        let doc_id = uuid::Uuid::new_v4().simple().to_string();
        let key = format!("drafts/{}/{doc_id}", draft.id);
        let size = answer.raw.len();
        self.documents().put(&key, answer.raw).await?;
        let doc = DraftDocument {
            id: doc_id,
            requirement: requirement.clone(),
            field: String::new(),
            file_name: format!("{}.json", definition.code),
            media_type: crate::documents::DocumentKind::InquiryAnswer
                .mime()
                .to_owned(),
            size,
            key,
            provenance: Some(provenance),
        };
        let replaced = match draft
            .documents
            .iter()
            .position(|d| d.requirement == requirement && d.field.is_empty())
        {
            Some(i) => Some(std::mem::replace(&mut draft.documents[i], doc).key),
            None => {
                draft.documents.push(doc);
                None
            }
        };
        draft.updated_at = now;
        self.keep_draft(
            &principal.actor_id(),
            source,
            &draft,
            "application.draft.fetch",
            now,
        )
        .await?;
        if let Some(key) = replaced {
            self.forget_object(&key).await;
        }
        Ok((draft, Vec::new()))
    }
}

/// A stored document's provenance, if it was fetched.
pub fn provenance_of(stored: Option<&str>) -> Option<Provenance> {
    serde_json::from_str(stored?).ok()
}

/// A fetched document as a person reads it: where it came from and what the agency answered.
#[derive(Debug, Clone)]
pub struct FetchedAnswer {
    pub provenance: Provenance,
    /// The inquiry's and the agency's Persian names.
    pub inquiry: String,
    pub agency: String,
    /// The answer's fields with their labels, in the inquiry's order.
    pub fields: Vec<(String, String)>,
}

impl App {
    /// What a document fetched from an inquiry says (`None` for an uploaded file). The caller
    /// has already checked the reader may see the application.
    pub async fn fetched_answer(
        &self,
        document: &pishkhan_store::DocumentRecord,
    ) -> Result<Option<FetchedAnswer>, pishkhan_store::StoreError> {
        let Some(provenance) = provenance_of(document.provenance.as_deref()) else {
            return Ok(None);
        };
        let definition = self.inquiry_definition(&provenance.inquiry).await?;
        let agency = self
            .org_directory()
            .await?
            .agency(&provenance.agency)
            .map_or_else(|| provenance.agency.clone(), |a| a.name_fa.clone());
        let answer: Value = match self.documents().get(&document.object_key).await {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(document = %document.id, error = %e, "a fetched document cannot be read");
                Value::Null
            }
        };
        let output = answer["output"].as_object().cloned().unwrap_or_default();
        let fields = match &definition {
            Some(d) => d
                .output
                .iter()
                .filter_map(|f| {
                    let value = output.get(&f.id)?;
                    let text = match (value, &f.kind) {
                        (Value::String(v), FieldKind::YesNo {}) if v == "yes" => "بله".to_owned(),
                        (Value::String(v), FieldKind::YesNo {}) if v == "no" => "خیر".to_owned(),
                        (Value::String(v), _) => v.clone(),
                        (other, _) => other.to_string(),
                    };
                    Some((f.label.fa.clone(), text))
                })
                .collect(),
            None => output
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect(),
        };
        Ok(Some(FetchedAnswer {
            inquiry: definition.map_or_else(|| provenance.inquiry.clone(), |d| d.name.fa),
            agency,
            provenance,
            fields,
        }))
    }
}
