//! Applications (درخواست): submitting — online by a citizen, at a centre by an operator with the
//! citizen's consent, or by an agency system — through one use case; acting on them through the
//! service's workflow; tracking; the desk's inbox; escalation of overdue work; notifications
//! through the outbox.
//!
//! Every write goes through the store in one transaction with its audit entry and outbox
//! messages, and is acknowledged only once durable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::catalog::{Channel, ServiceCard};
use pishkhan_domain::forms::FieldKind;
use pishkhan_domain::id::{Invalid, MobileNumber, NationalId};
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::tracking::TrackingCode;
use pishkhan_domain::workflow::{Party, Workflow};
use pishkhan_store::{
    ApplicationRecord, DocKind, DocumentRecord, EventRecord, InboxFilter, NewApplication,
    NewAuditEntry, NewDocument, NewOutboxMessage, StoreError, Transition, WriteError,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::documents::{DocumentError, DocumentKind, sniff};
use crate::policy::{Principal, counter_centres};

/// A file someone attaches.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The card's required document it answers (its Persian name), or empty.
    pub requirement: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
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
}

/// One problem with a submission or an action, where it is, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// `form.field`, `documents[2]`, `service`, …
    pub at: String,
    pub code: String,
    pub fa: String,
    pub en: String,
}

impl Problem {
    fn new(at: &str, invalid: Invalid) -> Problem {
        Problem {
            at: at.to_owned(),
            code: invalid.code.to_owned(),
            fa: invalid.fa,
            en: invalid.en,
        }
    }
}

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
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("documents: {0}")]
    Documents(String),
}

impl ApplicationError {
    fn one(at: &str, invalid: Invalid) -> ApplicationError {
        ApplicationError::Invalid(vec![Problem::new(at, invalid)])
    }
}

impl From<WriteError> for ApplicationError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Stale => ApplicationError::Stale,
            WriteError::CodeTaken => ApplicationError::Store(StoreError::Corrupt(
                "no free tracking code after several draws".into(),
            )),
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
            kind: sniff(&upload.file_name, &upload.bytes),
            size: upload.bytes.len(),
        }
    }
}

/// Each attachment's problems: how many, type and size by content, and what it answers.
fn check_attached(attached: &[Attached], known_requirement: impl Fn(&str) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    if attached.len() > MAX_DOCUMENTS {
        problems.push(Problem::new(
            "documents",
            Invalid::new(
                "too_many_documents",
                format!("حداکثر {MAX_DOCUMENTS} پرونده می‌توان پیوست کرد."),
                format!("At most {MAX_DOCUMENTS} files may be attached."),
            ),
        ));
    }
    for (i, file) in attached.iter().enumerate() {
        let at = format!("documents[{i}]");
        if let Err(e) = &file.kind {
            problems.push(Problem::new(&at, e.invalid()));
        }
        if !known_requirement(&file.requirement) {
            problems.push(Problem::new(
                &at,
                Invalid::new(
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

impl App {
    /// Files an application. The one use case behind `/me`, `/counter` and the API.
    pub async fn submit_application(
        &self,
        principal: &Principal,
        source: &str,
        request: SubmitApplication,
        now: DateTime<Utc>,
    ) -> Result<Submitted, ApplicationError> {
        // The published card, from the portal's cache (emptied when anything is published).
        let page = self
            .service_page(&request.service)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let service = &page.service;
        let card = &service.card;
        let filer = self
            .filer(
                principal,
                card,
                &request.national_id,
                &request.mobile,
                request.centre.as_deref(),
                request.consent.as_deref(),
                now,
            )
            .await?;
        let Filer {
            channel,
            national_id,
            mobile,
            centre,
            consent,
            acting,
        } = filer;
        let attached: Vec<Attached> = request.documents.iter().map(Attached::of).collect();
        let (email, answers, problems) = self
            .check_filing(card, &request.email, &request.answers, &attached)
            .await?;
        if !problems.is_empty() {
            return Err(ApplicationError::Invalid(problems));
        }

        let workflow = card.workflow();
        let start = workflow
            .state(&workflow.start)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: workflow has no start", card.code)))?;
        let deadline = self.deadline(start.sla_days, now).await?;
        let documents = self
            .put_documents(&request.documents, &acting.actor)
            .await?;
        let agency = card.agency.clone();
        let deadline_text = deadline.map(|d| d.format_long_fa()).unwrap_or_default();
        for _ in 0..5 {
            let code = TrackingCode::generate(random_u64());
            let text = self
                .notification_text(
                    "application.submitted",
                    &[
                        ("code", &code.grouped_fa()),
                        ("service", &card.title.fa),
                        ("deadline", &deadline_text),
                    ],
                )
                .await?;
            let notify = self.notice(&code, &mobile, &email, &text);
            let new = NewApplication {
                code: code.as_str().to_owned(),
                service: card.code.clone(),
                service_version: service.version,
                agency: agency.clone(),
                national_id: national_id.clone(),
                mobile: mobile.clone(),
                email: email.clone(),
                channel: channel.to_owned(),
                centre: centre.clone(),
                filed_by: acting.actor.clone(),
                filed_by_role: acting.role.code().to_owned(),
                consent: consent.clone(),
                state: workflow.start.clone(),
                deadline: deadline.map(|d| d.format_numeric()),
                answers: answers.clone(),
                fee_rials: card.total_fee(),
                at: now,
                documents: documents.clone(),
                outbox: [
                    vec![NewOutboxMessage {
                        topic: "application.submitted".into(),
                        subject: code.as_str().to_owned(),
                        payload: json!({
                            "code": code.as_str(),
                            "service": card.code,
                            "agency": agency,
                            "channel": channel,
                        })
                        .to_string(),
                    }],
                    notify,
                ]
                .concat(),
                audit: NewAuditEntry {
                    at: now,
                    actor: acting.actor.clone(),
                    action: "application.submit".into(),
                    target_kind: "application".into(),
                    target_id: code.as_str().to_owned(),
                    source: source.to_owned(),
                    details: json!({
                        "service": card.code,
                        "version": service.version,
                        "channel": channel,
                        "centre": centre,
                        "consent": consent,
                        "documents": documents.len(),
                    })
                    .to_string(),
                },
            };
            match self.store().insert_application(new).await {
                Ok(()) => {
                    return Ok(Submitted {
                        code,
                        state: workflow.start.clone(),
                        deadline,
                    });
                }
                Err(WriteError::CodeTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(WriteError::CodeTaken.into())
    }

    /// Who files, for whom, through which channel: a citizen online (if the card offers it), an
    /// operator at one of their centres with the citizen's unexpired consent given to them there
    /// (if the card is offered at centres), or an agency system for its own agency.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn filer(
        &self,
        principal: &Principal,
        card: &ServiceCard,
        national_id: &str,
        mobile: &str,
        centre: Option<&str>,
        consent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Filer, ApplicationError> {
        let offers = |channel: Channel| card.channels.iter().any(|c| c.channel == channel);
        Ok(match principal {
            Principal::Citizen(citizen) => {
                if !offers(Channel::Online) {
                    return Err(ApplicationError::one(
                        "service",
                        Invalid::new(
                            "channel_not_offered",
                            "این خدمت برخط ارائه نمی‌شود؛ به یکی از دفترهای پیشخوان یا دستگاه مراجعه کنید.",
                            "This service is not offered online; go to a service centre or the agency.",
                        ),
                    ));
                }
                Filer {
                    channel: "online",
                    national_id: citizen.national_id.clone(),
                    mobile: citizen.mobile.clone(),
                    centre: None,
                    consent: None,
                    acting: Acting {
                        role: Role::Citizen,
                        actor: principal.actor_id(),
                    },
                }
            }
            Principal::Staff(user) => {
                let Some(centre) = centre.map(str::to_owned) else {
                    return Err(ApplicationError::NotFound);
                };
                if !counter_centres(principal).contains(&centre) {
                    return Err(ApplicationError::NotFound);
                }
                if !offers(Channel::Centre) {
                    return Err(ApplicationError::one(
                        "service",
                        Invalid::new(
                            "channel_not_offered",
                            "این خدمت در دفترهای پیشخوان ارائه نمی‌شود.",
                            "This service is not offered at service centres.",
                        ),
                    ));
                }
                let national_id = NationalId::parse(national_id)
                    .map_err(|e| ApplicationError::one("national_id", e))?;
                let citizen = self
                    .store()
                    .citizen_by_national_id(national_id.as_str())
                    .await?
                    .ok_or_else(|| ApplicationError::one("consent", no_consent()))?;
                let consent_id = consent.unwrap_or_default().to_owned();
                let consent = self
                    .store()
                    .consents_of_citizen(&citizen.id)
                    .await?
                    .into_iter()
                    .find(|c| c.id == consent_id);
                match consent {
                    Some(c)
                        if c.centre == centre && c.operator_id == user.id && c.expires_at > now => {
                    }
                    _ => return Err(ApplicationError::one("consent", no_consent())),
                }
                Filer {
                    channel: "centre",
                    national_id: citizen.national_id,
                    mobile: citizen.mobile,
                    centre: Some(centre),
                    consent: Some(consent_id),
                    acting: Acting {
                        role: Role::Operator,
                        actor: principal.actor_id(),
                    },
                }
            }
            Principal::System(_) => {
                if !principal
                    .scopes_of(Role::System)
                    .iter()
                    .any(|s| matches!(s, Scope::Agency { agency, .. } if *agency == card.agency))
                {
                    return Err(ApplicationError::NotFound);
                }
                let national_id =
                    NationalId::parse(national_id).map_err(|e| Problem::new("national_id", e));
                let mobile = MobileNumber::parse(mobile).map_err(|e| Problem::new("mobile", e));
                let (national_id, mobile) = match (national_id, mobile) {
                    (Ok(n), Ok(m)) => (n, m),
                    (n, m) => {
                        return Err(ApplicationError::Invalid(
                            [n.err(), m.err()].into_iter().flatten().collect(),
                        ));
                    }
                };
                Filer {
                    channel: "api",
                    national_id: national_id.as_str().to_owned(),
                    mobile: mobile.e164(),
                    centre: None,
                    consent: None,
                    acting: Acting {
                        role: Role::System,
                        actor: principal.actor_id(),
                    },
                }
            }
        })
    }

    /// Checks a filing's e-mail, forms and documents with the Persian core: answers the e-mail
    /// and the forms' answers normalized, and every problem found (none: it may be filed). A
    /// file field's answer points at one of the attachments (`{"document": index}`); its type
    /// and size are taken from the attachment's content, not from the client.
    pub(crate) async fn check_filing(
        &self,
        card: &ServiceCard,
        email: &str,
        given_answers: &BTreeMap<String, BTreeMap<String, Value>>,
        attached: &[Attached],
    ) -> Result<(String, String, Vec<Problem>), ApplicationError> {
        let mut problems = Vec::new();
        let email = email.trim().to_owned();
        if !email.is_empty() && (!email.contains('@') || email.len() > 200) {
            problems.push(Problem::new(
                "email",
                Invalid::new(
                    "email_invalid",
                    "نشانی رایانامه درست نیست.",
                    "The e-mail address is not valid.",
                ),
            ));
        }
        let mut answers: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for form in &card.forms {
            let Some(schema) = self.form_at(&form.code, i64::from(form.version)).await? else {
                continue;
            };
            let mut given = given_answers.get(&form.code).cloned().unwrap_or_default();
            for field in schema.fields() {
                if !matches!(field.kind, FieldKind::File { .. }) {
                    continue;
                }
                let Some(answer) = given.get_mut(&field.id) else {
                    continue;
                };
                let index = answer.get("document").and_then(Value::as_u64);
                let upload = index.and_then(|i| attached.get(usize::try_from(i).ok()?));
                match (index, upload) {
                    (
                        Some(i),
                        Some(Attached {
                            kind: Ok(kind),
                            file_name,
                            size,
                            ..
                        }),
                    ) => {
                        *answer = json!({
                            "document": i,
                            "name": clean_file_name(file_name),
                            "media_type": kind.mime(),
                            "bytes": size,
                        });
                    }
                    (_, Some(Attached { kind: Err(e), .. })) => problems.push(Problem::new(
                        &format!("{}.{}", form.code, field.id),
                        e.invalid(),
                    )),
                    _ => problems.push(Problem::new(
                        &format!("{}.{}", form.code, field.id),
                        Invalid::new(
                            "file_not_attached",
                            format!("پرونده‌ای برای «{}» پیوست نشده است.", field.label.fa),
                            format!("No file is attached for “{}”.", field.label.fa),
                        ),
                    )),
                }
            }
            match schema.validate(&given) {
                Ok(clean) => {
                    answers.insert(form.code.clone(), clean);
                }
                Err(errors) => problems.extend(errors.into_iter().map(|e| Problem {
                    at: format!("{}.{}", form.code, e.field),
                    code: e.code.to_owned(),
                    fa: e.fa,
                    en: e.en,
                })),
            }
        }
        for form in given_answers.keys() {
            if !card.forms.iter().any(|f| &f.code == form) {
                problems.push(Problem::new(
                    form,
                    Invalid::new(
                        "unknown_form",
                        format!("فرم «{form}» از فرم‌های این خدمت نیست."),
                        format!("Form `{form}` is not one of this service's forms."),
                    ),
                ));
            }
        }
        // Documents: every required one present, each checked by its content.
        for (i, doc) in card.documents.iter().enumerate() {
            if !attached.iter().any(|u| u.requirement == doc.name.fa) {
                problems.push(Problem::new(
                    &format!("documents[{i}]"),
                    Invalid::new(
                        "document_missing",
                        format!("تصویر «{}» را پیوست کنید.", doc.name.fa),
                        format!(
                            "Attach a scan of “{}”.",
                            doc.name.en.as_deref().unwrap_or(&doc.name.fa)
                        ),
                    ),
                ));
            }
        }
        problems.extend(check_attached(attached, |r| {
            r.is_empty() || card.documents.iter().any(|d| d.name.fa == r)
        }));
        let answers =
            serde_json::to_string(&answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((email, answers, problems))
    }

    /// A complete example filing for a service, as an agency system would send it: every form
    /// filled with valid example answers, and a small PDF for each required document and each
    /// file field. For agencies' developers (`pishkhan applications example`), the benchmark and
    /// the tests.
    pub async fn example_submission(
        &self,
        service: &str,
    ) -> Result<Option<SubmitApplication>, StoreError> {
        let Some(published) = self.published_service(service).await? else {
            return Ok(None);
        };
        let card = published.card;
        let mut documents: Vec<Upload> = card
            .documents
            .iter()
            .map(|d| Upload {
                requirement: d.name.fa.clone(),
                file_name: "scan.pdf".into(),
                bytes: EXAMPLE_PDF.to_vec(),
            })
            .collect();
        let mut answers = BTreeMap::new();
        for form in &card.forms {
            let Some((schema, _)) = self.form(&form.code, Some(i64::from(form.version))).await?
            else {
                continue;
            };
            let mut filled = schema.example_answers();
            for field in schema.fields() {
                if matches!(field.kind, FieldKind::File { .. }) {
                    filled.insert(field.id.clone(), json!({ "document": documents.len() }));
                    documents.push(Upload {
                        requirement: String::new(),
                        file_name: format!("{}.pdf", field.id),
                        bytes: EXAMPLE_PDF.to_vec(),
                    });
                }
            }
            answers.insert(form.code.clone(), filled);
        }
        Ok(Some(SubmitApplication {
            service: card.code,
            national_id: "0076229645".into(),
            mobile: "09121234567".into(),
            answers,
            documents,
            ..Default::default()
        }))
    }

    /// An application and its history, for someone who may see it (else `None`, the same as
    /// a missing one).
    pub async fn application_for(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Option<ApplicationView>, ApplicationError> {
        let Ok(code) = TrackingCode::parse(code) else {
            return Ok(None);
        };
        let Some(record) = self.store().application(code.as_str()).await? else {
            return Ok(None);
        };
        if !self.may_see(principal, &record) {
            return Ok(None);
        }
        self.view(record).await.map(Some)
    }

    /// Tracking without signing in: the tracking code and the applicant's national ID must both
    /// match; a wrong pair answers the same as a missing code.
    pub async fn track(
        &self,
        code: &str,
        national_id: &str,
        client_ip: &str,
    ) -> Result<Option<ApplicationView>, ApplicationError> {
        // Guessing pairs is slowed to a few dozen a minute per address.
        let attempt = self
            .store()
            .take_attempt(
                &[pishkhan_store::Limit {
                    key: format!("track-ip:{client_ip}"),
                    max: TRACKS_PER_MINUTE,
                    window_ms: 60_000,
                }],
                Utc::now(),
            )
            .await?;
        if !matches!(attempt, pishkhan_store::Attempt::Allowed) {
            return Err(ApplicationError::one(
                "code",
                Invalid::new(
                    "too_many_tries",
                    "از این نشانی در یک دقیقه بیش از اندازه پیگیری شده است؛ یک دقیقه دیگر دوباره بکوشید.",
                    "Too many lookups from this address in a minute; try again in a minute.",
                ),
            ));
        }
        let code = TrackingCode::parse(code).map_err(|e| ApplicationError::one("code", e))?;
        let national_id =
            NationalId::parse(national_id).map_err(|e| ApplicationError::one("national_id", e))?;
        match self.store().application(code.as_str()).await? {
            Some(record) if record.national_id == national_id.as_str() => {
                self.view(record).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    async fn view(&self, record: ApplicationRecord) -> Result<ApplicationView, ApplicationError> {
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        let workflow = card.workflow();
        let events = self.store().application_events(&record.code).await?;
        let documents = self.store().application_documents(&record.code).await?;
        Ok(ApplicationView {
            record,
            card,
            workflow,
            events,
            documents,
        })
    }

    /// The answers of an application by form, each with its field's Persian label, in the
    /// form's order: what a clerk reads.
    pub async fn labelled_answers(
        &self,
        view: &ApplicationView,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, StoreError> {
        let answers: BTreeMap<String, BTreeMap<String, Value>> =
            serde_json::from_str(&view.record.answers).unwrap_or_default();
        let mut out = Vec::new();
        for form in &view.card.forms {
            let Some(given) = answers.get(&form.code) else {
                continue;
            };
            let Some(schema) = self.form_at(&form.code, i64::from(form.version)).await? else {
                continue;
            };
            let lines = schema
                .fields()
                .filter_map(|field| {
                    let value = given.get(&field.id)?;
                    // Choices by their labels, as the person saw them.
                    let label_of = |v: &str| match &field.kind {
                        FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                            options
                                .iter()
                                .find(|o| o.value == v)
                                .map_or_else(|| v.to_owned(), |o| o.label.fa.clone())
                        }
                        FieldKind::YesNo {} => if v == "yes" { "بله" } else { "خیر" }.to_owned(),
                        _ => v.to_owned(),
                    };
                    let text = match value {
                        Value::String(s) => label_of(s),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), label_of))
                            .collect::<Vec<_>>()
                            .join("، "),
                        Value::Object(o) => o
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("—")
                            .to_owned(),
                        other => other.to_string(),
                    };
                    Some((field.label.fa.clone(), text))
                })
                .collect();
            out.push((schema.title.fa.clone(), lines));
        }
        Ok(out)
    }

    /// The card as it was at `version` (applications keep the workflow they started with).
    /// Versions never change, so they are kept in memory once read.
    async fn card_at(&self, code: &str, version: i64) -> Result<ServiceCard, StoreError> {
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

    /// Who may read an application: the applicant, the centre that filed it, the agency's staff
    /// and system.
    fn may_see(&self, principal: &Principal, record: &ApplicationRecord) -> bool {
        match principal {
            Principal::Citizen(c) => c.national_id == record.national_id,
            Principal::Staff(_) | Principal::System(_) => {
                self.acting_role(principal, record).is_some()
            }
        }
    }

    /// The role `principal` acts in on this application, if any.
    fn acting_role(&self, principal: &Principal, record: &ApplicationRecord) -> Option<Role> {
        let agency_scope = |role: Role| {
            principal
                .scopes_of(role)
                .iter()
                .any(|s| matches!(s, Scope::Agency { agency, .. } if *agency == record.agency))
        };
        match principal {
            Principal::Citizen(c) => (c.national_id == record.national_id).then_some(Role::Citizen),
            Principal::System(_) => agency_scope(Role::System).then_some(Role::System),
            Principal::Staff(_) => {
                if agency_scope(Role::AgencyAdmin) {
                    Some(Role::AgencyAdmin)
                } else if agency_scope(Role::AgencyClerk) {
                    Some(Role::AgencyClerk)
                } else if record
                    .centre
                    .as_ref()
                    .is_some_and(|c| counter_centres(principal).contains(c))
                {
                    Some(Role::Operator)
                } else {
                    None
                }
            }
        }
    }

    /// Takes one workflow action. Checked against the workflow the application started with;
    /// refused with a clear reason and nothing changed when it is not allowed.
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_application(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        revision: i64,
        action: &str,
        comment: &str,
        documents: Vec<Upload>,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView, ApplicationError> {
        let Ok(code) = TrackingCode::parse(code) else {
            return Err(ApplicationError::NotFound);
        };
        let record = self
            .store()
            .application(code.as_str())
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let role = self
            .acting_role(principal, &record)
            .ok_or(ApplicationError::NotFound)?;
        if revision != record.revision {
            return Err(ApplicationError::Stale);
        }
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        let workflow = card.workflow();
        let comment = comment.trim();
        if comment.chars().count() > 2000 {
            return Err(ApplicationError::one(
                "comment",
                Invalid::new(
                    "comment_too_long",
                    "توضیح حداکثر ۲۰۰۰ نویسه است.",
                    "A comment has at most 2000 characters.",
                ),
            ));
        }
        let taken = workflow
            .act(&record.state, action, role, comment, documents.len())
            .map_err(|e| ApplicationError::one("action", e))?
            .clone();
        let attached: Vec<Attached> = documents.iter().map(Attached::of).collect();
        let problems = check_attached(&attached, |_| true);
        if !problems.is_empty() {
            return Err(ApplicationError::Invalid(problems));
        }
        let next = workflow
            .state(&taken.to)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: no state {}", card.code, taken.to)))?;
        let deadline = self.deadline(next.sla_days, now).await?;
        let actor = principal.actor_id();
        let stored = self.put_documents(&documents, &actor).await?;
        let code_text = code.as_str().to_owned();
        let mut outbox = vec![NewOutboxMessage {
            topic: "application.changed".into(),
            subject: code_text.clone(),
            payload: json!({ "code": code_text, "action": taken.code, "state": taken.to })
                .to_string(),
        }];
        if taken.notify {
            let comment = if next.waits_for == Party::Applicant {
                comment
            } else {
                ""
            };
            let text = self
                .notification_text(
                    "application.changed",
                    &[
                        ("code", &code.grouped_fa()),
                        ("service", &card.title.fa),
                        ("state", &next.name.fa),
                        ("comment", comment),
                    ],
                )
                .await?;
            outbox.extend(self.notice(&code, &record.mobile, &record.email, &text));
        }
        let transition = Transition {
            code: code_text.clone(),
            revision,
            action: taken.code.clone(),
            from_state: record.state.clone(),
            to_state: taken.to.clone(),
            actor: actor.clone(),
            actor_role: role.code().to_owned(),
            comment: comment.to_owned(),
            deadline: deadline.map(|d| d.format_numeric()),
            outcome: next.outcome.map(|o| o.code().to_owned()),
            at: now,
            documents: stored,
            outbox,
            audit: NewAuditEntry {
                at: now,
                actor,
                action: "application.act".into(),
                target_kind: "application".into(),
                target_id: code_text.clone(),
                source: source.to_owned(),
                details: json!({
                    "action": taken.code,
                    "from": record.state,
                    "to": taken.to,
                    "role": role.code(),
                })
                .to_string(),
            },
        };
        self.store().apply_transition(transition).await?;
        let record = self
            .store()
            .application(&code_text)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        self.view(record).await
    }

    /// A person's own applications (signed-in citizen), newest first.
    pub async fn my_applications(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        match principal {
            Principal::Citizen(c) => {
                self.store()
                    .applications_of_person(&c.national_id, 200)
                    .await
            }
            _ => Ok(Vec::new()),
        }
    }

    /// What the desk lists for this member of staff: open applications of the agencies they
    /// work for, in the states their roles may act in.
    pub async fn inbox(
        &self,
        principal: &Principal,
        mut filter: InboxFilter,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let mut agencies: Vec<String> = [Role::AgencyClerk, Role::AgencyAdmin, Role::System]
            .iter()
            .flat_map(|r| principal.scopes_of(*r))
            .filter_map(|s| match s {
                Scope::Agency { agency, .. } => Some(agency.clone()),
                _ => None,
            })
            .collect();
        agencies.sort();
        agencies.dedup();
        filter.agencies = agencies;
        filter.limit = filter.limit.clamp(1, 200);
        let rows = self.store().inbox(&filter).await?;
        // Only what this person's roles may move on (the workflow is per service version, so
        // this is decided per row).
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(role) = self.acting_role(principal, &row) else {
                continue;
            };
            let card = self.card_at(&row.service, row.service_version).await?;
            let workflow = card.workflow();
            if workflow
                .actions_from(&row.state)
                .any(|a| Workflow::roles_of(a).any(|r| r == role))
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Claims an application for oneself (`assignee` = self) or, for an agency admin, assigns
    /// it to someone else (or to nobody).
    pub async fn assign_application(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        revision: i64,
        assignee: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let record = self
            .store()
            .application(code)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let role = self
            .acting_role(principal, &record)
            .ok_or(ApplicationError::NotFound)?;
        let me = match principal {
            Principal::Staff(u) => u.id.clone(),
            _ => return Err(ApplicationError::NotFound),
        };
        let to_self = assignee == Some(me.as_str());
        if !(matches!(role, Role::AgencyClerk | Role::AgencyAdmin)
            && (to_self || role == Role::AgencyAdmin))
        {
            return Err(ApplicationError::one(
                "assignee",
                Invalid::new(
                    "may_not_assign",
                    "فقط مدیر دستگاه می‌تواند کار را به دیگری بسپارد.",
                    "Only an agency admin may assign work to someone else.",
                ),
            ));
        }
        let audit = NewAuditEntry {
            at: now,
            actor: principal.actor_id(),
            action: "application.assign".into(),
            target_kind: "application".into(),
            target_id: record.code.clone(),
            source: source.to_owned(),
            details: json!({ "assignee": assignee }).to_string(),
        };
        self.store()
            .assign_application(&record.code, revision, assignee, now, &audit)
            .await?;
        Ok(())
    }

    /// Escalates every open application whose state's deadline has passed: once per state, to
    /// the agency's admins (the supervisors), with a notice in the outbox. Safe on several nodes
    /// at once (each escalation is a conditional update). Returns how many were escalated.
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let today = JalaliDate::in_iran(now).format_numeric();
        let mut escalated = 0;
        loop {
            let due = self.store().overdue_unescalated(&today, 100).await?;
            if due.is_empty() {
                return Ok(escalated);
            }
            let mut progressed = false;
            for row in due {
                let outbox = vec![NewOutboxMessage {
                    topic: "application.escalated".into(),
                    subject: row.code.clone(),
                    payload: json!({
                        "code": row.code,
                        "agency": row.agency,
                        "state": row.state,
                        "deadline": row.deadline,
                        "to_role": Role::AgencyAdmin.code(),
                    })
                    .to_string(),
                }];
                let audit = NewAuditEntry {
                    at: now,
                    actor: "system:escalation".into(),
                    action: "application.escalate".into(),
                    target_kind: "application".into(),
                    target_id: row.code.clone(),
                    source: "worker".into(),
                    details: json!({ "state": row.state, "deadline": row.deadline }).to_string(),
                };
                match self
                    .store()
                    .mark_escalated(&row.code, row.revision, now, &outbox, &audit)
                    .await
                {
                    Ok(true) => {
                        escalated += 1;
                        progressed = true;
                    }
                    Ok(false) => {}
                    Err(WriteError::Store(e)) => return Err(e),
                    Err(e) => return Err(StoreError::BatchFailed(e.to_string())),
                }
            }
            if !progressed {
                return Ok(escalated);
            }
        }
    }

    /// The deadline `sla_days` business days after today (Fridays and holidays skipped).
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
    fn notice(
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
    /// their metadata rows.
    async fn put_documents(
        &self,
        uploads: &[Upload],
        by: &str,
    ) -> Result<Vec<NewDocument>, ApplicationError> {
        let mut rows = Vec::with_capacity(uploads.len());
        let mut files = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let kind = sniff(&upload.file_name, &upload.bytes)
                .map_err(|e: DocumentError| ApplicationError::Documents(e.to_string()))?;
            let id = uuid::Uuid::new_v4().simple().to_string();
            let key = format!("documents/{}/{id}", &id[..2]);
            rows.push(NewDocument {
                id,
                requirement: upload.requirement.clone(),
                file_name: clean_file_name(&upload.file_name),
                content_type: kind.mime().to_owned(),
                size: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
                sha256: hex(&Sha256::digest(&upload.bytes)),
                object_key: key.clone(),
                uploaded_by: by.to_owned(),
            });
            files.push((key, upload.bytes.clone()));
        }
        self.documents()
            .put_all(files)
            .await
            .map_err(|e| ApplicationError::Documents(e.to_string()))?;
        Ok(rows)
    }

    /// A document's bytes, for someone who may see its application.
    pub async fn application_document(
        &self,
        principal: &Principal,
        code: &str,
        document: &str,
    ) -> Result<Option<(DocumentRecord, Vec<u8>)>, ApplicationError> {
        let Some(view) = self.application_for(principal, code).await? else {
            return Ok(None);
        };
        let Some(doc) = view.documents.into_iter().find(|d| d.id == document) else {
            return Ok(None);
        };
        let bytes = self
            .documents()
            .get(&doc.object_key)
            .await
            .map_err(|e| ApplicationError::Documents(e.to_string()))?;
        Ok(Some((doc, bytes)))
    }
}

fn no_consent() -> Invalid {
    Invalid::new(
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}
