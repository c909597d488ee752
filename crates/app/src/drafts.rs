//! Drafts (پیش‌نویس): an application being filled — online by a signed-in citizen or at a
//! counter by an operator with the citizen's consent — kept between the pages of filing and
//! between visits. A draft holds what was typed (checked, not refused, so nothing typed is lost)
//! and the files attached so far (already in the object store under `drafts/`). Filing a draft
//! goes through the one `submit_application` use case; then the draft is deleted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::FormSchema;
use pishkhan_store::{DraftRecord, NewAuditEntry, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::applications::{
    ApplicationError, Attached, MAX_DOCUMENTS, SubmitApplication, Submitted, Upload,
};
use crate::documents::{DocumentError, sniff};
use crate::policy::Principal;

/// Drafts one person (or one operator) keeps at once, at most.
pub const MAX_DRAFTS: usize = 20;
/// A draft nobody touches this long is deleted, with its files.
pub const DRAFT_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// A file attached to a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftDocument {
    pub id: String,
    /// The card's required document it answers (its Persian name); empty for a form's file field.
    pub requirement: String,
    /// For a form's file field: `form/field`.
    #[serde(default)]
    pub field: String,
    pub file_name: String,
    pub media_type: String,
    pub size: usize,
    pub key: String,
    /// Fetched from an agency's inquiry (once only) rather than uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::once_only::Provenance>,
}

/// An application being filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub id: String,
    pub service: String,
    pub national_id: String,
    pub centre: Option<String>,
    pub consent: Option<String>,
    pub email: String,
    /// Form code → field → what was typed (a list for a multiple choice).
    pub answers: BTreeMap<String, BTreeMap<String, Value>>,
    pub documents: Vec<DraftDocument>,
    pub updated_at: DateTime<Utc>,
}

/// A file given on a filing page.
#[derive(Debug, Clone)]
pub struct DraftUpload {
    /// The card's required document it answers, or empty.
    pub requirement: String,
    /// A form's file field (`form/field`), or empty.
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What one filing page sends.
#[derive(Debug, Clone, Default)]
pub struct DraftChange {
    /// Every field of every form (the page shows them all): replaces what was kept.
    pub answers: BTreeMap<String, BTreeMap<String, Value>>,
    pub email: String,
    pub uploads: Vec<DraftUpload>,
    /// Attached files to take away (their ids).
    pub remove: Vec<String>,
}

impl Draft {
    fn of(record: DraftRecord) -> Result<Draft, StoreError> {
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt(format!("draft {}: {e}", record.id));
        Ok(Draft {
            answers: serde_json::from_str(&record.answers).map_err(corrupt)?,
            documents: serde_json::from_str(&record.documents).map_err(corrupt)?,
            updated_at: DateTime::from_timestamp_millis(record.updated_at).unwrap_or_default(),
            id: record.id,
            service: record.service,
            national_id: record.national_id,
            centre: record.centre,
            consent: record.consent,
            email: record.email,
        })
    }

    /// The file attached for a requirement or a field, if any.
    pub fn attached(&self, requirement: &str, field: &str) -> Option<&DraftDocument> {
        self.documents
            .iter()
            .find(|d| d.requirement == requirement && d.field == field)
    }

    /// The draft as a submission: file fields point at their attachments.
    fn submission(&self, documents: Vec<Upload>) -> SubmitApplication {
        let mut answers = self.answers.clone();
        for (i, doc) in self.documents.iter().enumerate() {
            if let Some((form, field)) = doc.field.split_once('/') {
                answers
                    .entry(form.to_owned())
                    .or_default()
                    .insert(field.to_owned(), json!({ "document": i }));
            }
        }
        SubmitApplication {
            service: self.service.clone(),
            national_id: self.national_id.clone(),
            mobile: String::new(),
            email: self.email.clone(),
            centre: self.centre.clone(),
            consent: self.consent.clone(),
            answers,
            documents,
            idempotency: None,
        }
    }
}

impl App {
    /// The forms of a card, at the versions it names, in its order.
    pub async fn card_forms(&self, card: &ServiceCard) -> Result<Vec<FormSchema>, StoreError> {
        let mut out = Vec::with_capacity(card.forms.len());
        for form in &card.forms {
            if let Some(schema) = self.form_at(&form.code, i64::from(form.version)).await? {
                out.push(schema);
            }
        }
        Ok(out)
    }

    /// Finds or starts `principal`'s draft for a service (and, at a counter, for the person
    /// `national_id` at `centre` with their `consent`). Checked like a filing: the service is
    /// offered on this channel, the operator has the citizen's unexpired consent.
    #[tracing::instrument(skip_all, fields(service = %service))]
    #[allow(clippy::too_many_arguments)]
    pub async fn open_draft(
        &self,
        principal: &Principal,
        source: &str,
        service: &str,
        national_id: &str,
        centre: Option<&str>,
        consent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Draft, ApplicationError> {
        let page = self
            .service_page(service)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        if matches!(principal, Principal::System(_)) {
            return Err(ApplicationError::NotFound);
        }
        let filer = self
            .filer(
                principal,
                &page.service.card,
                national_id,
                "",
                centre,
                consent,
                now,
            )
            .await?;
        let owner = principal.actor_id();
        let found = self
            .store()
            .draft_of(&owner, service, &filer.national_id)
            .await?;
        if found.is_none() && self.store().drafts_of(&owner).await?.len() >= MAX_DRAFTS {
            return Err(ApplicationError::Invalid(vec![Problem::new(
                "too_many_drafts",
                format!(
                    "حداکثر {} پیش‌نویس را می‌توان نگه داشت؛ یکی را ثبت یا حذف کنید.",
                    pishkhan_domain::text::to_persian_digits(&MAX_DRAFTS.to_string())
                ),
                format!("At most {MAX_DRAFTS} drafts can be kept; file or discard one."),
            )]));
        }
        if let Some(found) = found {
            let mut draft = Draft::of(found)?;
            if draft.consent != filer.consent || draft.centre != filer.centre {
                draft.consent = filer.consent;
                draft.centre = filer.centre;
                self.keep_draft(&owner, source, &draft, "application.draft.save", now)
                    .await?;
            }
            return Ok(draft);
        }
        let draft = Draft {
            id: uuid::Uuid::new_v4().simple().to_string(),
            service: service.to_owned(),
            national_id: filer.national_id,
            centre: filer.centre,
            consent: filer.consent,
            email: String::new(),
            answers: BTreeMap::new(),
            documents: Vec::new(),
            updated_at: now,
        };
        self.keep_draft(&owner, source, &draft, "application.draft.open", now)
            .await?;
        Ok(draft)
    }

    /// A draft, if it is `principal`'s.
    pub async fn draft(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Option<Draft>, StoreError> {
        match self.store().draft(id).await? {
            Some(record) if record.owner == principal.actor_id() => Ok(Some(Draft::of(record)?)),
            _ => Ok(None),
        }
    }

    /// A signed-in citizen's draft for a service, if they started one.
    pub async fn my_draft(
        &self,
        principal: &Principal,
        service: &str,
    ) -> Result<Option<Draft>, StoreError> {
        let Principal::Citizen(citizen) = principal else {
            return Ok(None);
        };
        self.store()
            .draft_of(&principal.actor_id(), service, &citizen.national_id)
            .await?
            .map(Draft::of)
            .transpose()
    }

    /// Every draft `principal` keeps, the most recently touched first.
    pub async fn drafts(&self, principal: &Principal) -> Result<Vec<Draft>, StoreError> {
        self.store()
            .drafts_of(&principal.actor_id())
            .await?
            .into_iter()
            .map(Draft::of)
            .collect()
    }

    /// Keeps what a filing page sent: the answers as typed, the files that are PDF/JPEG/PNG
    /// within the size limit (a file that is not is refused with the reason and not kept), minus
    /// the files taken away. Answers the draft and the refused files' problems.
    #[tracing::instrument(skip_all, fields(draft = %id))]
    pub async fn save_draft(
        &self,
        principal: &Principal,
        source: &str,
        id: &str,
        change: DraftChange,
        now: DateTime<Utc>,
    ) -> Result<(Draft, Vec<Problem>), ApplicationError> {
        let mut draft = self
            .draft(principal, id)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let mut problems = Vec::new();
        let mut dropped = Vec::new();
        draft.documents.retain(|d| {
            let keep = !change.remove.contains(&d.id);
            if !keep {
                dropped.push(d.key.clone());
            }
            keep
        });
        // What may be attached: the card's documents and its forms' file fields, no more; all of
        // one person's drafts together hold at most `draft_quota_mib`.
        let quota = self.config().limits.draft_quota;
        let mut held = 0;
        if !change.uploads.is_empty() {
            self.room_to_write()?;
            let page = self
                .service_page(&draft.service)
                .await?
                .ok_or(ApplicationError::NotFound)?;
            let card = &page.service.card;
            let forms = self.card_forms(card).await?;
            let targets = FileTargets::of(card, &forms);
            held = self
                .store()
                .drafts_of(&principal.actor_id())
                .await?
                .into_iter()
                .filter(|d| d.id != draft.id)
                .map(|d| Draft::of(d).map(|d| d.documents.iter().map(|f| f.size).sum::<usize>()))
                .sum::<Result<usize, StoreError>>()?;
            for upload in &change.uploads {
                if !targets.accepts(upload) {
                    problems.push(unknown_target(&upload_place(upload), &upload.file_name));
                }
            }
        }
        let own: usize = draft.documents.iter().map(|d| d.size).sum();
        held += own;
        for upload in change.uploads {
            let at = upload_place(&upload);
            if problems.iter().any(|p| p.at == at) {
                continue;
            }
            if held + upload.bytes.len() > quota {
                problems.push(
                    Problem::new(
                        "draft_quota",
                        format!(
                            "پیش‌نویس‌های شما روی هم بیش از {} مگابایت پرونده نگه نمی‌دارند؛ پیش‌نویسی را ثبت یا حذف کنید.",
                            pishkhan_domain::text::to_persian_digits(
                                &(quota / 1024 / 1024).to_string()
                            )
                        ),
                        format!(
                            "Your drafts together hold at most {} MB of files; file or discard a draft.",
                            quota / 1024 / 1024
                        ),
                    )
                    .at(at),
                );
                continue;
            }
            let kind = match sniff(&upload.file_name, &upload.bytes) {
                Ok(kind) => kind,
                Err(e) => {
                    problems.push(refused(&at, &upload.file_name, &e));
                    continue;
                }
            };
            let replaced = draft
                .documents
                .iter()
                .position(|d| d.requirement == upload.requirement && d.field == upload.field);
            if replaced.is_none() && draft.documents.len() >= MAX_DOCUMENTS {
                problems.push(
                    Problem::new(
                        "too_many_documents",
                        format!("حداکثر {MAX_DOCUMENTS} پرونده می‌توان پیوست کرد."),
                        format!("At most {MAX_DOCUMENTS} files may be attached."),
                    )
                    .at(at),
                );
                continue;
            }
            let doc_id = uuid::Uuid::new_v4().simple().to_string();
            let key = format!("drafts/{}/{doc_id}", draft.id);
            let size = upload.bytes.len();
            held += size;
            self.documents().put(&key, upload.bytes).await?;
            let doc = DraftDocument {
                id: doc_id,
                requirement: upload.requirement,
                field: upload.field,
                file_name: crate::applications::clean_file_name(&upload.file_name),
                media_type: kind.mime().to_owned(),
                size,
                key,
                provenance: None,
            };
            match replaced {
                Some(i) => dropped.push(std::mem::replace(&mut draft.documents[i], doc).key),
                None => draft.documents.push(doc),
            }
        }
        draft.answers = change.answers;
        draft.email = change.email.trim().to_owned();
        draft.updated_at = now;
        self.keep_draft(
            &principal.actor_id(),
            source,
            &draft,
            "application.draft.save",
            now,
        )
        .await?;
        for key in dropped {
            self.forget_object(&key).await;
        }
        Ok((draft, problems))
    }

    /// What would stop this draft being filed now: every form field and document checked as a
    /// filing is.
    pub async fn check_draft(&self, draft: &Draft) -> Result<Vec<Problem>, ApplicationError> {
        let page = self
            .service_page(&draft.service)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let attached: Vec<Attached> = draft
            .documents
            .iter()
            .map(|d| Attached {
                requirement: d.requirement.clone(),
                file_name: d.file_name.clone(),
                kind: sniff_media(&d.media_type, d.size, d.provenance.is_some()),
                size: d.size,
            })
            .collect();
        let submission = draft.submission(Vec::new());
        let (_, _, problems) = self
            .check_filing(
                &page.service.card,
                &submission.email,
                &submission.answers,
                &attached,
            )
            .await?;
        Ok(problems)
    }

    /// Files the draft through `submit_application`; once filed, the draft and its copies of
    /// the files are deleted.
    #[tracing::instrument(skip_all, fields(draft = %id))]
    pub async fn submit_draft(
        &self,
        principal: &Principal,
        source: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Submitted, ApplicationError> {
        let draft = self
            .draft(principal, id)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let mut uploads = Vec::with_capacity(draft.documents.len());
        for doc in &draft.documents {
            let bytes = self
                .documents()
                .get(&doc.key)
                .await
                .map_err(|e| ApplicationError::Documents(e.to_string()))?;
            uploads.push(Upload {
                requirement: doc.requirement.clone(),
                file_name: doc.file_name.clone(),
                bytes,
                provenance: doc.provenance.clone(),
            });
        }
        let submitted = self
            .submit_application(principal, source, draft.submission(uploads), now)
            .await?;
        self.drop_draft(principal, source, &draft, "application.draft.filed", now)
            .await?;
        Ok(submitted)
    }

    /// Abandons a draft and its files.
    #[tracing::instrument(skip_all, fields(draft = %id))]
    pub async fn discard_draft(
        &self,
        principal: &Principal,
        source: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let draft = self
            .draft(principal, id)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        self.drop_draft(principal, source, &draft, "application.draft.discard", now)
            .await
    }

    async fn drop_draft(
        &self,
        principal: &Principal,
        source: &str,
        draft: &Draft,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let audit = draft_audit(&principal.actor_id(), source, draft, action, now);
        self.store().delete_draft(&draft.id, &audit).await?;
        for doc in &draft.documents {
            self.forget_object(&doc.key).await;
        }
        Ok(())
    }

    pub(crate) async fn keep_draft(
        &self,
        owner: &str,
        source: &str,
        draft: &Draft,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let record = DraftRecord {
            id: draft.id.clone(),
            owner: owner.to_owned(),
            service: draft.service.clone(),
            national_id: draft.national_id.clone(),
            centre: draft.centre.clone(),
            consent: draft.consent.clone(),
            email: draft.email.clone(),
            answers: serde_json::to_string(&draft.answers)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            documents: serde_json::to_string(&draft.documents)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: now.timestamp_millis(),
            updated_at: now.timestamp_millis(),
        };
        let audit = draft_audit(owner, source, draft, action, now);
        self.store().save_draft(&record, &audit).await
    }

    /// Deletes a stored file no row names any more; a failure only leaves an orphan, logged.
    pub(crate) async fn forget_object(&self, key: &str) {
        if let Err(e) = self.documents().delete(key).await {
            tracing::warn!(key, error = %e, "could not delete a draft's file");
        }
    }
}

fn draft_audit(
    actor: &str,
    source: &str,
    draft: &Draft,
    action: &str,
    now: DateTime<Utc>,
) -> NewAuditEntry {
    NewAuditEntry {
        at: now,
        actor: actor.to_owned(),
        action: action.to_owned(),
        target_kind: "draft".into(),
        target_id: draft.id.clone(),
        source: source.to_owned(),
        details: json!({
            "service": draft.service,
            "centre": draft.centre,
            "documents": draft.documents.len(),
        })
        .to_string(),
    }
}

/// A kept file's kind, from the media type judged when it was uploaded (or fetched).
fn sniff_media(
    media_type: &str,
    size: usize,
    fetched: bool,
) -> Result<crate::documents::DocumentKind, DocumentError> {
    use crate::documents::DocumentKind;
    match media_type {
        "application/pdf" => Ok(DocumentKind::Pdf),
        "image/jpeg" => Ok(DocumentKind::Jpeg),
        "image/png" => Ok(DocumentKind::Png),
        "application/json" if fetched => Ok(DocumentKind::InquiryAnswer),
        _ if size == 0 => Err(DocumentError::Empty),
        _ => Err(DocumentError::UnknownKind),
    }
}

/// A refused file, named, with the reason.
fn refused(at: &str, file_name: &str, error: &DocumentError) -> Problem {
    let invalid = error.invalid();
    let name = crate::applications::clean_file_name(file_name);
    Problem::new(
        invalid.code,
        format!("«{name}»: {}", invalid.fa),
        format!("“{name}”: {}", invalid.en),
    )
    .at(at)
}

/// Where an upload goes, as a problem names it.
fn upload_place(upload: &DraftUpload) -> String {
    if upload.field.is_empty() {
        format!("upload:{}", upload.requirement)
    } else {
        upload.field.replace('/', ".")
    }
}

fn unknown_target(at: &str, file_name: &str) -> Problem {
    Problem::new(
        "unknown_file_field",
        format!("پروندهٔ «{file_name}» به هیچ مدرک یا فیلد پرونده‌ای از این خدمت مربوط نیست."),
        format!("The file `{file_name}` answers none of this service's documents or file fields."),
    )
    .at(at)
}

/// What a draft of one service may hold files for.
struct FileTargets {
    /// The card's documents, by their Persian names.
    documents: Vec<String>,
    /// The forms' file fields, as `form/field`.
    fields: Vec<String>,
}

impl FileTargets {
    fn of(card: &ServiceCard, forms: &[FormSchema]) -> FileTargets {
        FileTargets {
            documents: card.documents.iter().map(|d| d.name.fa.clone()).collect(),
            fields: forms
                .iter()
                .flat_map(|form| {
                    form.fields()
                        .filter(|f| {
                            matches!(f.kind, pishkhan_domain::forms::FieldKind::File { .. })
                        })
                        .map(|f| format!("{}/{}", form.code, f.id))
                })
                .collect(),
        }
    }

    /// A card's document (no field), or a form's file field (no document).
    fn accepts(&self, upload: &DraftUpload) -> bool {
        if upload.field.is_empty() {
            self.documents.contains(&upload.requirement)
        } else {
            upload.requirement.is_empty() && self.fields.contains(&upload.field)
        }
    }
}

impl App {
    /// Deletes drafts nobody has touched for [`DRAFT_LIFETIME`], and their files; answers how
    /// many. Each deletion is audited (`application.draft.expire`).
    pub async fn expire_drafts(&self, now: DateTime<Utc>) -> Result<usize, ApplicationError> {
        let before = (now - DRAFT_LIFETIME).timestamp_millis();
        let mut expired = 0;
        loop {
            let stale = self.store().stale_drafts(before, 100).await?;
            if stale.is_empty() {
                return Ok(expired);
            }
            for record in stale {
                let owner = record.owner.clone();
                let draft = Draft::of(record)?;
                let audit = draft_audit(&owner, "system", &draft, "application.draft.expire", now);
                if self.store().delete_draft(&draft.id, &audit).await? {
                    for doc in &draft.documents {
                        self.forget_object(&doc.key).await;
                    }
                    expired += 1;
                }
            }
        }
    }
}
