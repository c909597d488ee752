//! Applications (درخواست): the one way they are filed, followed and moved on.
//!
//! - [`filing`]: submitting — online by a citizen, at a centre by an operator with the
//!   citizen's consent, or by an agency system — through one use case, and the example filing;
//! - [`tracking`]: reading an application (the applicant, the centre, the agency), `/track`,
//!   a citizen's list, the desk's inbox, documents;
//! - [`actions`]: workflow actions and claiming;
//! - [`escalation`]: overdue work, escalated once per state.
//!
//! Every write goes through the store in one transaction with its audit entry and outbox
//! messages, and is acknowledged only once durable. Notifications leave through the outbox.

mod actions;
pub use actions::MAX_OUTPUT_PDF;
mod escalation;
mod filing;
mod tracking;

pub use tracking::CentreFiling;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::{Channel, ServiceCard};
use pishkhan_domain::forms::FieldKind;
use pishkhan_domain::id::{MobileNumber, NationalId};
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::tracking::TrackingCode;
use pishkhan_domain::workflow::{Party, Workflow};
use pishkhan_store::{
    ApplicationRecord, DocKind, DocumentRecord, EventRecord, InboxFilter, NewApplication,
    NewAuditEntry, NewDocument, NewOutboxMessage, StoreError, Transition, WriteError,
};
use serde_json::{Value, json};

use crate::App;
use crate::documents::{DocumentError, DocumentKind, sniff};
use crate::events::EventKind;
use crate::policy::{Principal, counter_centres};

/// A file someone attaches.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The card's required document it answers (its Persian name), or empty.
    pub requirement: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Fetched from an agency's inquiry (once only), not uploaded. Set only by Pishkhan itself
    /// (a draft's fetched document), never from what a client sends.
    pub provenance: Option<crate::once_only::Provenance>,
}

/// What someone submits, whoever they are.
#[derive(Debug, Clone, Default)]
pub struct SubmitApplication {
    pub service: String,
    /// For a centre or an agency system: whose application it is. A citizen files for themself.
    pub national_id: String,
    /// For an agency system: where to tell the person. Otherwise the citizen's bound mobile.
    pub mobile: String,
    pub email: String,
    /// For an operator: the centre they file at, and the citizen's consent.
    pub centre: Option<String>,
    pub consent: Option<String>,
    /// Form code → field → answer.
    pub answers: BTreeMap<String, BTreeMap<String, Value>>,
    pub documents: Vec<Upload>,
    /// For an agency system: its `Idempotency-Key`, if it sent one.
    pub idempotency: Option<IdempotencyKey>,
}

/// `problem`, placed at `at` in what was sent: `form.field`, `documents[2]`, `service` …
pub(crate) fn placed(at: &str, problem: Problem) -> Problem {
    problem.at(at)
}

/// An agency system's `Idempotency-Key` on one request, with the request's fingerprint: the
/// same key and request answer as the first time did, without doing anything again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    /// SHA-256 (hex) of the request's method, path and body.
    pub request_hash: String,
}

/// Most characters an idempotency key may have.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Why an application was not filed or moved. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// No such (published) service, application or consent that this person may see.
    #[error("not found")]
    NotFound,
    /// What was sent is wrong; each problem says where and why.
    #[error("the application has problems")]
    Invalid(Vec<Problem>),
    /// The application changed since it was read; read it again.
    #[error("the application changed meanwhile")]
    Stale,
    /// The idempotency key was used before with another request.
    #[error("the idempotency key was used with another request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("documents: {0}")]
    Documents(String),
}

impl ApplicationError {
    fn one(at: &str, invalid: Problem) -> ApplicationError {
        ApplicationError::Invalid(vec![placed(at, invalid)])
    }
}

impl From<crate::documents::DocumentStoreError> for ApplicationError {
    /// A full disk is the store's "storage full" (a 503, try later); anything else an error.
    fn from(error: crate::documents::DocumentStoreError) -> Self {
        if error.is_storage_full() {
            ApplicationError::Store(StoreError::StorageFull)
        } else {
            ApplicationError::Documents(error.to_string())
        }
    }
}

impl From<WriteError> for ApplicationError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Stale => ApplicationError::Stale,
            WriteError::CodeTaken => ApplicationError::Store(StoreError::Corrupt(
                "no free tracking code after several draws".into(),
            )),
            WriteError::KeyTaken => ApplicationError::Store(StoreError::Corrupt(
                "an idempotency key was taken and then not found".into(),
            )),
            WriteError::Refused(why) => ApplicationError::Store(StoreError::Corrupt(format!(
                "an application's write: {why}"
            ))),
            WriteError::Store(e) => ApplicationError::Store(e),
        }
    }
}

/// A filed application: what the receipt shows.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub code: TrackingCode,
    pub state: String,
    pub deadline: Option<JalaliDate>,
}

/// An application with everything a reader needs.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub record: ApplicationRecord,
    pub card: ServiceCard,
    pub workflow: Workflow,
    pub events: Vec<EventRecord>,
    pub documents: Vec<DocumentRecord>,
    /// What it issued, oldest first (a revoked output, then its re-issue).
    pub outputs: Vec<pishkhan_store::OutputRecord>,
}

impl ApplicationView {
    /// The current state's definition.
    pub fn state(&self) -> Option<&pishkhan_domain::workflow::WorkflowState> {
        self.workflow.state(&self.record.state)
    }

    /// Is the current state's deadline past on `today`?
    pub fn overdue(&self, today: JalaliDate) -> bool {
        self.record.outcome.is_none()
            && self
                .record
                .deadline
                .as_deref()
                .and_then(|d| JalaliDate::parse(d).ok())
                .is_some_and(|d| d < today)
    }
}

/// The smallest valid PDF, attached by example submissions.
pub const EXAMPLE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The smallest file that is a JPEG by its content, for examples whose field takes only photos.
pub const EXAMPLE_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0xFF, 0xD9,
];

/// Tracking lookups one address may make per minute.
pub const TRACKS_PER_MINUTE: i64 = 30;

/// Largest number of documents in one submission or action.
pub const MAX_DOCUMENTS: usize = 20;

/// Who is acting and as what.
pub(crate) struct Acting {
    role: Role,
    actor: String,
}

/// Who files an application, for whom, through which channel.
pub(crate) struct Filer {
    pub channel: &'static str,
    pub national_id: String,
    pub mobile: String,
    pub centre: Option<String>,
    pub consent: Option<String>,
    acting: Acting,
}

/// An attached file as the checks see it: what it answers, its name, what its content is.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    pub requirement: String,
    pub file_name: String,
    pub kind: Result<DocumentKind, DocumentError>,
    pub size: usize,
}

impl Attached {
    pub fn of(upload: &Upload) -> Attached {
        Attached {
            requirement: upload.requirement.clone(),
            file_name: upload.file_name.clone(),
            kind: kind_of(upload),
            size: upload.bytes.len(),
        }
    }
}

/// What an attached file is: an agency's answer Pishkhan fetched (kept as it came, if it is still
/// that answer), or an upload judged by its content.
fn kind_of(upload: &Upload) -> Result<DocumentKind, DocumentError> {
    match &upload.provenance {
        Some(provenance) => {
            if pishkhan_domain::digest::sha256_hex(&upload.bytes) == provenance.sha256 {
                Ok(DocumentKind::InquiryAnswer)
            } else {
                Err(DocumentError::UnknownKind)
            }
        }
        None => sniff(&upload.file_name, &upload.bytes),
    }
}

/// Each attachment's problems: how many, type and size by content, and what it answers.
fn check_attached(attached: &[Attached], known_requirement: impl Fn(&str) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    if attached.len() > MAX_DOCUMENTS {
        problems.push(placed(
            "documents",
            Problem::new(
                "too_many_documents",
                format!("حداکثر {MAX_DOCUMENTS} پرونده می‌توان پیوست کرد."),
                format!("At most {MAX_DOCUMENTS} files may be attached."),
            ),
        ));
    }
    for (i, file) in attached.iter().enumerate() {
        let at = format!("documents[{i}]");
        if let Err(e) = &file.kind {
            problems.push(placed(&at, e.invalid()));
        }
        if !known_requirement(&file.requirement) {
            problems.push(placed(
                &at,
                Problem::new(
                    "unknown_requirement",
                    format!("«{}» از مدارک این خدمت نیست.", file.requirement),
                    format!(
                        "“{}” is not one of this service's documents.",
                        file.requirement
                    ),
                ),
            ));
        }
    }
    problems
}

/// What every part of applications shares: the card and form versions an application
/// started with, its deadlines and its notices.
impl App {
    /// The answer stored under `principal`'s idempotency key: `None` when the key is new; refused
    /// when the key was used with another request.
    async fn replayed(
        &self,
        principal: &Principal,
        key: &IdempotencyKey,
    ) -> Result<Option<serde_json::Value>, ApplicationError> {
        let Some(stored) = self
            .store()
            .idempotency(&principal.actor_id(), &key.key)
            .await?
        else {
            return Ok(None);
        };
        if stored.request_hash != key.request_hash {
            return Err(ApplicationError::KeyReused);
        }
        Ok(Some(serde_json::from_str(&stored.answer).map_err(|e| {
            StoreError::Corrupt(format!("a stored idempotent answer: {e}"))
        })?))
    }

    /// The key, with `answer`, to store with the change.
    fn idempotency_row(
        principal: &Principal,
        key: &IdempotencyKey,
        answer: &serde_json::Value,
    ) -> pishkhan_store::NewIdempotency {
        pishkhan_store::NewIdempotency {
            client: principal.actor_id(),
            key: key.key.clone(),
            request_hash: key.request_hash.clone(),
            answer: answer.to_string(),
        }
    }

    /// The card as it was at `version` (applications keep the workflow they started with).
    /// Versions never change, so they are kept in memory once read.
    pub(crate) async fn card_at(
        &self,
        code: &str,
        version: i64,
    ) -> Result<ServiceCard, StoreError> {
        let key = format!("{code}@{version}");
        if let Some(card) = self.inner.card_versions.get(&key) {
            return Ok((*card).clone());
        }
        let stored = self
            .store()
            .doc_version(DocKind::Service, code, version)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{code} v{version} is missing")))?;
        let card: ServiceCard =
            serde_json::from_str(&stored.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.inner
            .card_versions
            .put(&key, std::sync::Arc::new(card.clone()));
        Ok(card)
    }

    /// A form as it was at `version`, kept in memory once read (versions never change).
    pub(crate) async fn form_at(
        &self,
        code: &str,
        version: i64,
    ) -> Result<Option<pishkhan_domain::forms::FormSchema>, StoreError> {
        let key = format!("{code}@{version}");
        if let Some(form) = self.inner.form_versions.get(&key) {
            return Ok((*form).clone());
        }
        let form = self
            .form(code, Some(version))
            .await?
            .map(|(schema, _)| schema);
        self.inner
            .form_versions
            .put(&key, std::sync::Arc::new(form.clone()));
        Ok(form)
    }

    /// The deadline `sla_days` business days after today (Fridays and holidays skipped).
    /// When the whole service should be done if it goes well: the card's processing time in
    /// business days from the filing day (`None` once the application is closed).
    pub async fn expected_completion(
        &self,
        view: &ApplicationView,
    ) -> Result<Option<JalaliDate>, StoreError> {
        if view.record.outcome.is_some() || view.card.processing_days == 0 {
            return Ok(None);
        }
        let Some(filed) = DateTime::from_timestamp_millis(view.record.created_at) else {
            return Ok(None);
        };
        let calendar = self.holiday_calendar().await?;
        Ok(Some(calendar.add_business_days(
            JalaliDate::in_iran(filed),
            view.card.processing_days,
        )))
    }

    async fn deadline(
        &self,
        sla_days: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Option<JalaliDate>, StoreError> {
        let Some(days) = sla_days else {
            return Ok(None);
        };
        let calendar = self.holiday_calendar().await?;
        Ok(Some(
            calendar.add_business_days(JalaliDate::in_iran(now), days),
        ))
    }

    /// The SMS (and e-mail, when given) telling the person, as outbox messages.
    pub(crate) fn notice(
        &self,
        code: &TrackingCode,
        mobile: &str,
        email: &str,
        text: &str,
    ) -> Vec<NewOutboxMessage> {
        let mut out = vec![NewOutboxMessage {
            topic: "notify.sms".into(),
            subject: code.as_str().to_owned(),
            payload: json!({ "to": mobile, "text": text }).to_string(),
        }];
        if !email.is_empty() {
            out.push(NewOutboxMessage {
                topic: "notify.email".into(),
                subject: code.as_str().to_owned(),
                payload: json!({ "to": email, "text": text }).to_string(),
            });
        }
        out
    }

    /// Puts each upload's bytes in the object store (one shared flush for all of them); answers
    /// their metadata rows. Refused while the disk is nearly full. Telling the kind of each file
    /// and hashing it are done off the async runtime.
    async fn put_documents(
        &self,
        uploads: &[Upload],
        by: &str,
    ) -> Result<Vec<NewDocument>, ApplicationError> {
        if uploads.is_empty() {
            return Ok(Vec::new());
        }
        self.room_to_write()?;
        let owned = uploads.to_vec();
        let by = by.to_owned();
        let checked = tokio::task::spawn_blocking(move || {
            owned
                .into_iter()
                .map(|upload| {
                    let kind = kind_of(&upload)?;
                    let id = uuid::Uuid::new_v4().simple().to_string();
                    let key = format!("documents/{}/{id}", &id[..2]);
                    let row = NewDocument {
                        id,
                        requirement: upload.requirement,
                        file_name: clean_file_name(&upload.file_name),
                        content_type: kind.mime().to_owned(),
                        size: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
                        sha256: pishkhan_domain::digest::sha256_hex(&upload.bytes),
                        object_key: key.clone(),
                        uploaded_by: by.clone(),
                        provenance: upload
                            .provenance
                            .as_ref()
                            .and_then(|p| serde_json::to_string(p).ok()),
                    };
                    Ok((row, (key, upload.bytes)))
                })
                .collect::<Result<Vec<_>, DocumentError>>()
        })
        .await
        .map_err(|e| ApplicationError::Documents(e.to_string()))?
        .map_err(|e| ApplicationError::Documents(e.to_string()))?;
        let (rows, files): (Vec<NewDocument>, Vec<(String, Vec<u8>)>) = checked.into_iter().unzip();
        self.documents().put_all(files).await?;
        Ok(rows)
    }
}

fn no_consent() -> Problem {
    Problem::new(
        "consent_required",
        "رضایت شهروند برای این پرونده ثبت نشده یا منقضی شده است؛ کد رضایت را دوباره بگیرید.",
        "There is no valid consent from the citizen for this filing; ask for a new consent code.",
    )
}

/// A file name safe to show and to offer back: no folders, no control characters, bounded.
pub(crate) fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !pishkhan_domain::text::is_bidi_control(*c))
        .take(120)
        .collect();
    if clean.trim().is_empty() {
        "document".to_owned()
    } else {
        clean
    }
}

fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}
