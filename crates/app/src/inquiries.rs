//! Inquiries (استعلام): an operator, a clerk or an agency's system asks another agency's system
//! something (a person's identity by national ID and birth date, traffic fines by plate, a
//! building's no-violation status by postal code) through Pishkhan, which
//!
//! - knows each inquiry service the agency registered: its input and output fields in the form
//!   standard, who may ask (roles) and for which services' applications, its timeout and the
//!   time the agency lets an answer be reused;
//! - lets someone ask only for a purpose it can check: an application they may act on (of one of
//!   those services), or a consent the person gave at their centre and that is still open;
//! - sends the question signed like a webhook (the agency's webhook secret, when it has one), with
//!   a timeout; after five failures in a row it stops asking for half a minute (a circuit
//!   breaker), so a counter waiting on a slow agency gets a clear answer at once, not a hang;
//! - logs every call in the audit chain (`exchange.inquiry`): who asked, with which role, for
//!   which application or consent, when, the SHA-256 of the request and of the answer, how it
//!   went — chained, and checked later with `pishkhan exchange verify`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pishkhan_domain::Problem;
use pishkhan_domain::digest::sha256_hex;
use pishkhan_domain::forms::{Field, FieldKind, FormSchema, Section, Text};
use pishkhan_domain::identity::Role;
use pishkhan_store::{NewAuditEntry, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::audit::Actor;
use crate::policy::{Principal, counter_centres};

/// The audit action of one call.
pub const LOG_ACTION: &str = "exchange.inquiry";
/// Failures in a row that open an inquiry's breaker, and how long it stays open.
const BREAKER_FAILURES: u32 = 5;
const BREAKER_OPEN: Duration = Duration::from_secs(30);
/// The roles that may be allowed to ask (a citizen only about themself, for a draft of theirs).
const ASKING_ROLES: [Role; 6] = [
    Role::Citizen,
    Role::Operator,
    Role::CentreManager,
    Role::AgencyClerk,
    Role::AgencyAdmin,
    Role::System,
];

/// An inquiry service as its agency registers it (`pishkhan inquiry register FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InquiryDefinition {
    /// Lower-case letters, digits, dots and dashes, e.g. `tehran.identity-by-birth-date`.
    pub code: String,
    /// The agency that answers.
    pub agency: String,
    pub name: Text,
    /// Where Pishkhan sends the question (`https://…`, or `http://` to this machine).
    pub url: String,
    /// What is asked, and what is answered: fields of the form standard.
    pub input: Vec<Field>,
    pub output: Vec<Field>,
    /// Roles that may ask: citizen, operator, centre-manager, agency-clerk, agency-admin,
    /// system. A citizen asks only about themself, to fetch a document for their own filing.
    pub roles: Vec<String>,
    /// The services whose applications it may be asked for (empty: any).
    #[serde(default)]
    pub services: Vec<String>,
    /// How long Pishkhan waits for the answer (100–10 000 ms).
    pub timeout_ms: u64,
    /// How long an answer may be reused for the same question (0: never; at most a day).
    #[serde(default)]
    pub cache_seconds: u64,
}

impl InquiryDefinition {
    fn form(fields: &[Field], code: &str, part: &str) -> FormSchema {
        FormSchema {
            schema: pishkhan_domain::forms::SCHEMA_V1.to_owned(),
            code: format!("{code}.{part}"),
            version: 1,
            title: Text::fa(part),
            description: None,
            sections: vec![Section {
                id: part.to_owned(),
                title: Text::fa(part),
                help: None,
                fields: fields.to_vec(),
            }],
            rules: Vec::new(),
        }
    }

    pub fn input_form(&self) -> FormSchema {
        Self::form(&self.input, &self.code, "input")
    }

    pub fn output_form(&self) -> FormSchema {
        Self::form(&self.output, &self.code, "output")
    }

    pub fn allowed_roles(&self) -> Vec<Role> {
        self.roles
            .iter()
            .filter_map(|r| Role::from_code(r).ok())
            .collect()
    }

    /// Everything wrong with the definition, each with where it is.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let valid_code = !self.code.is_empty()
            && self.code.len() <= 100
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !valid_code {
            problems.push(
                Problem::new(
                    "inquiry_code",
                    "شناسهٔ استعلام فقط حروف کوچک لاتین، رقم، نقطه و خط تیره است.",
                    "An inquiry's code is lower-case letters, digits, dots and dashes.",
                )
                .at("code"),
            );
        }
        if let Err(problem) = crate::webhooks::check_url(&self.url) {
            problems.push(problem.at("url"));
        }
        for (part, form) in [("input", self.input_form()), ("output", self.output_form())] {
            for problem in form.check() {
                let at = problem.at.clone();
                problems.push(problem.at(format!("{part}.{at}")));
            }
            if form
                .fields()
                .any(|f| matches!(f.kind, FieldKind::File { .. }))
            {
                problems.push(
                    Problem::new(
                        "inquiry_file_field",
                        "پرسش و پاسخ استعلام پرونده ندارد.",
                        "An inquiry asks and answers no files.",
                    )
                    .at(part),
                );
            }
        }
        if self.input.is_empty() {
            problems.push(
                Problem::new(
                    "inquiry_no_input",
                    "استعلام دست‌کم یک فیلد پرسش دارد.",
                    "An inquiry has at least one input field.",
                )
                .at("input"),
            );
        }
        let roles: Vec<Result<Role, _>> = self.roles.iter().map(|r| Role::from_code(r)).collect();
        if roles.is_empty()
            || roles
                .iter()
                .any(|r| !r.as_ref().is_ok_and(|r| ASKING_ROLES.contains(r)))
        {
            problems.push(
                Problem::new(
                    "inquiry_roles",
                    "نقش‌های پرسنده از میان citizen، operator، centre-manager، agency-clerk، agency-admin و system است.",
                    "The asking roles are among citizen, operator, centre-manager, agency-clerk, agency-admin and system.",
                )
                .at("roles"),
            );
        }
        if !(100..=10_000).contains(&self.timeout_ms) {
            problems.push(
                Problem::new(
                    "inquiry_timeout",
                    "زمان انتظار از ۱۰۰ تا ۱۰٬۰۰۰ میلی‌ثانیه است.",
                    "The timeout is from 100 to 10,000 milliseconds.",
                )
                .at("timeout_ms"),
            );
        }
        if self.cache_seconds > 86_400 {
            problems.push(
                Problem::new(
                    "inquiry_cache",
                    "پاسخ حداکثر یک روز نگه داشته می‌شود.",
                    "An answer is kept at most a day.",
                )
                .at("cache_seconds"),
            );
        }
        problems
    }
}

/// Why someone asks: an application, a consent given at a centre, or a draft being filled (to
/// fetch one of its documents: a citizen's own, or an operator's under the draft's consent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub consent: Option<String>,
    #[serde(default, skip)]
    pub draft: Option<String>,
}

/// An inquiry's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct InquiryAnswer {
    /// Did the agency find what was asked about?
    pub found: bool,
    /// The answer's fields (empty when not found).
    pub output: BTreeMap<String, Value>,
    /// Reused from an earlier answer the agency lets be kept.
    pub cached: bool,
    pub at: DateTime<Utc>,
    /// The SHA-256 of the agency's answer as received (hex), as the log keeps it.
    pub response_sha256: String,
    /// The agency's answer as received: what a fetched document keeps.
    pub raw: Vec<u8>,
    /// This call's id in the log (`inq_…`; an answer reused from the cache gets its own).
    pub call: String,
    /// What the log entry names as the call's purpose: (`application`, `consent` or `draft`, id).
    pub target: (String, String),
}

/// Why an inquiry was not answered.
#[derive(Debug, thiserror::Error)]
pub enum InquiryError {
    /// No such inquiry, or not one this person may ask (the same answer).
    #[error("no such inquiry")]
    NotFound,
    /// The person may not ask it for this purpose.
    #[error("{}", .0.en)]
    Refused(Problem),
    #[error("invalid input")]
    Invalid(Vec<Problem>),
    /// The agency did not answer in time, answered wrongly, or is resting behind the breaker.
    #[error("{}", .0.en)]
    Unavailable(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Per-node state: reusable answers, breakers, and the definitions read lately.
#[derive(Default)]
pub struct InquiryState {
    cache: Mutex<HashMap<String, (Instant, InquiryAnswer)>>,
    breakers: Mutex<HashMap<String, Breaker>>,
    /// Definitions as read at most [`DEFINITION_TTL`] ago (a node that registers one forgets
    /// them all at once; another node sees the change within that time).
    definitions: Mutex<HashMap<String, (Instant, Option<InquiryDefinition>)>>,
}

/// How long a node asks with a definition it read, before reading it again.
const DEFINITION_TTL: Duration = Duration::from_secs(5);

#[derive(Default, Clone, Copy)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

impl std::fmt::Debug for InquiryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InquiryState")
    }
}

fn unavailable(name: &str, why_fa: &str, why_en: &str) -> InquiryError {
    InquiryError::Unavailable(Problem::new(
        "agency_unavailable",
        format!(
            "«{name}» اکنون پاسخ نمی‌دهد ({why_fa}). چند دقیقهٔ دیگر دوباره بپرسید، یا مدرک را بارگذاری کنید."
        ),
        format!(
            "“{name}” is not answering now ({why_en}). Ask again in a few minutes, or upload the document."
        ),
    ))
}

fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Pishkhan-Inquiries/1")
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_default()
    })
}

impl App {
    /// Registers an inquiry service from its JSON definition (or replaces it), for someone who
    /// looks after the agency's systems (`None`: the command line). Answers its code.
    pub async fn register_inquiry(
        &self,
        principal: Option<&Principal>,
        actor: &Actor,
        json_text: &str,
    ) -> Result<String, InquiryError> {
        let definition: InquiryDefinition = serde_json::from_str(json_text).map_err(|e| {
            InquiryError::Invalid(vec![Problem::new(
                "inquiry_json",
                format!("تعریف استعلام JSON درستی نیست: {e}"),
                format!("The inquiry's definition is not valid JSON: {e}"),
            )])
        })?;
        let problems = definition.check();
        if !problems.is_empty() {
            return Err(InquiryError::Invalid(problems));
        }
        if let Some(principal) = principal {
            if !self
                .may_manage_exchange(principal, &definition.agency)
                .await?
            {
                return Err(InquiryError::NotFound);
            }
        } else if self
            .store()
            .org_directory()
            .await?
            .agency(&definition.agency)
            .is_none()
        {
            return Err(InquiryError::Invalid(vec![
                Problem::new(
                    "unknown_agency",
                    format!("دستگاهی با شناسهٔ «{}» نیست.", definition.agency),
                    format!("There is no agency `{}`.", definition.agency),
                )
                .at("agency"),
            ]));
        }
        let stored =
            serde_json::to_string(&definition).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut unit = self.store().begin_write().await?;
        if !unit
            .put_inquiry_service(&definition.code, &definition.agency, &stored, Utc::now())
            .await?
        {
            return Err(InquiryError::Invalid(vec![
                Problem::new(
                    "inquiry_code_taken",
                    "این شناسه از آنِ استعلام دستگاه دیگری است.",
                    "This code belongs to another agency's inquiry.",
                )
                .at("code"),
            ]));
        }
        unit.audit(&crate::audit::audit_entry(
            actor,
            "inquiry.register",
            ("inquiry", &definition.code),
            json!({ "agency": definition.agency, "url": definition.url }),
        ))
        .await?;
        unit.commit().await?;
        if let Ok(mut read) = self.inner.inquiries.definitions.lock() {
            read.clear();
        }
        Ok(definition.code)
    }

    /// One inquiry service's definition.
    pub async fn inquiry_definition(
        &self,
        code: &str,
    ) -> Result<Option<InquiryDefinition>, StoreError> {
        let Some(record) = self.store().inquiry_service(code).await? else {
            return Ok(None);
        };
        serde_json::from_str(&record.definition)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("inquiry {code}: {e}")))
    }

    /// Every inquiry service (of `agency`, when given).
    pub async fn inquiry_definitions(
        &self,
        agency: Option<&str>,
    ) -> Result<Vec<InquiryDefinition>, StoreError> {
        self.store()
            .inquiry_services(agency)
            .await?
            .into_iter()
            .map(|r| {
                serde_json::from_str(&r.definition)
                    .map_err(|e| StoreError::Corrupt(format!("inquiry {}: {e}", r.code)))
            })
            .collect()
    }

    /// The inquiries `principal` may ask about application `code` (for the desk's page).
    pub async fn inquiries_for_application(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Vec<InquiryDefinition>, StoreError> {
        let Some(record) = self.store().application(code).await? else {
            return Ok(Vec::new());
        };
        let Some(role) = self.acting_role(principal, &record) else {
            return Ok(Vec::new());
        };
        Ok(self
            .inquiry_definitions(None)
            .await?
            .into_iter()
            .filter(|d| {
                d.allowed_roles().contains(&role)
                    && (d.services.is_empty() || d.services.contains(&record.service))
            })
            .collect())
    }

    /// The inquiries `principal` may ask with a consent at their centre (for the counter).
    pub async fn inquiries_with_consent(
        &self,
        principal: &Principal,
    ) -> Result<Vec<InquiryDefinition>, StoreError> {
        let counter = !counter_centres(principal).is_empty();
        Ok(self
            .inquiry_definitions(None)
            .await?
            .into_iter()
            .filter(|d| counter && d.allowed_roles().contains(&Role::Operator))
            .collect())
    }

    /// The role `principal` asks `definition` with, for `purpose` (what the log names, and under
    /// a consent the national ID of its person); refused with a reason.
    async fn asking_role(
        &self,
        principal: &Principal,
        definition: &InquiryDefinition,
        purpose: &Purpose,
        now: DateTime<Utc>,
    ) -> Result<(Role, (&'static str, String), Option<String>), InquiryError> {
        let allowed = definition.allowed_roles();
        if let Some(id) = purpose.draft.as_deref().filter(|c| !c.is_empty()) {
            let draft = self.draft(principal, id).await?.ok_or_else(|| {
                InquiryError::Refused(Problem::new(
                    "purpose_unknown",
                    "این پیش‌نویس از آنِ شما نیست.",
                    "This draft is not yours.",
                ))
            })?;
            if !definition.services.is_empty() && !definition.services.contains(&draft.service) {
                return Err(InquiryError::Refused(Problem::new(
                    "purpose_service",
                    "این استعلام برای درخواست‌های این خدمت نیست.",
                    "This inquiry is not for this service's applications.",
                )));
            }
            if let Some(consent) = draft.consent.filter(|_| draft.centre.is_some()) {
                // At a counter: the draft's consent is the purpose, checked as any consent is.
                let under = Purpose {
                    consent: Some(consent),
                    ..Purpose::default()
                };
                return Box::pin(self.asking_role(principal, definition, &under, now)).await;
            }
            if !matches!(principal, Principal::Citizen(_)) || !allowed.contains(&Role::Citizen) {
                return Err(InquiryError::NotFound);
            }
            return Ok((Role::Citizen, ("draft", draft.id), Some(draft.national_id)));
        }
        if let Some(code) = purpose.application.as_deref().filter(|c| !c.is_empty()) {
            let record = self.store().application(code).await?.ok_or_else(|| {
                InquiryError::Refused(Problem::new(
                    "purpose_unknown",
                    "درخواستی با این کد پیگیری برای شما نیست.",
                    "There is no application with this tracking code for you.",
                ))
            })?;
            let role = self.acting_role(principal, &record).ok_or_else(|| {
                InquiryError::Refused(Problem::new(
                    "purpose_unknown",
                    "درخواستی با این کد پیگیری برای شما نیست.",
                    "There is no application with this tracking code for you.",
                ))
            })?;
            if !allowed.contains(&role) {
                return Err(InquiryError::NotFound);
            }
            if !definition.services.is_empty() && !definition.services.contains(&record.service) {
                return Err(InquiryError::Refused(Problem::new(
                    "purpose_service",
                    "این استعلام برای درخواست‌های این خدمت نیست.",
                    "This inquiry is not for this service's applications.",
                )));
            }
            return Ok((role, ("application", record.code), None));
        }
        if let Some(consent) = purpose.consent.as_deref().filter(|c| !c.is_empty()) {
            if !allowed.contains(&Role::Operator) {
                return Err(InquiryError::NotFound);
            }
            for centre in counter_centres(principal) {
                if let Some((_, person)) = self
                    .store()
                    .open_consents_at(&centre, now)
                    .await?
                    .into_iter()
                    .find(|(c, _)| c.id == consent)
                {
                    return Ok((
                        Role::Operator,
                        ("consent", consent.to_owned()),
                        Some(person),
                    ));
                }
            }
            return Err(InquiryError::Refused(Problem::new(
                "consent_not_open",
                "این رضایت در دفتر شما باز نیست؛ نخست رضایت شخص را با کد پیامکی بگیرید.",
                "This consent is not open at your centre; first ask the person's consent with the texted code.",
            )));
        }
        Err(InquiryError::Refused(Problem::new(
            "purpose_required",
            "استعلام فقط برای یک درخواست یا با رضایت شخص ممکن است: کد پیگیری یا رضایت را نام ببرید.",
            "An inquiry needs a purpose: name an application's tracking code or the person's consent.",
        )))
    }

    /// Asks an inquiry for `purpose` (see the module's notes): checked, sent, logged.
    #[tracing::instrument(skip_all, fields(inquiry = %code))]
    pub async fn inquire(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        purpose: &Purpose,
        input: &BTreeMap<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<InquiryAnswer, InquiryError> {
        let definition = self
            .recent_definition(code)
            .await?
            .ok_or(InquiryError::NotFound)?;
        let (role, target, person) = self
            .asking_role(principal, &definition, purpose, now)
            .await?;
        let input = definition
            .input_form()
            .validate(input)
            .map_err(InquiryError::Invalid)?;
        // A consent is one person's: asked under it, every national ID asked about is theirs.
        if let Some(person) = person {
            let other = definition.input.iter().any(|f| {
                matches!(f.kind, FieldKind::NationalId {})
                    && input.get(&f.id).and_then(Value::as_str) != Some(person.as_str())
            });
            if other {
                return Err(InquiryError::Refused(Problem::new(
                    "consent_other_person",
                    "این رضایت از کس دیگری است: فقط دربارهٔ همان کسی بپرسید که رضایت داده است.",
                    "This consent is someone else's: ask only about the person who gave it.",
                )));
            }
        }
        let request = json!({ "inquiry": definition.code, "input": input }).to_string();
        let call = format!("inq_{}", uuid::Uuid::new_v4().simple());
        let request_sha256 = sha256_hex(request.as_bytes());
        let cache_key = format!("{}\n{request_sha256}", definition.code);
        let log = |outcome: &str, response_sha256: &str, ms: u128| NewAuditEntry {
            at: now,
            actor: principal.actor_id(),
            action: LOG_ACTION.to_owned(),
            target_kind: target.0.to_owned(),
            target_id: target.1.clone(),
            source: source.to_owned(),
            details: json!({
                "inquiry": definition.code,
                "agency": definition.agency,
                "call": call,
                "role": role.code(),
                "request_sha256": request_sha256,
                "response_sha256": response_sha256,
                "outcome": outcome,
                "ms": ms,
            })
            .to_string(),
        };
        if definition.cache_seconds > 0 {
            let kept = self
                .inner
                .inquiries
                .cache
                .lock()
                .ok()
                .and_then(|c| c.get(&cache_key).cloned());
            if let Some((until, answer)) = kept
                && until > Instant::now()
            {
                self.write_log(log("cached", &answer.response_sha256, 0))
                    .await?;
                return Ok(InquiryAnswer {
                    cached: true,
                    call,
                    target: (target.0.to_owned(), target.1.clone()),
                    ..answer
                });
            }
        }
        if let Some(open_until) = self.breaker(&definition.code).open_until
            && open_until > Instant::now()
        {
            self.write_log(log("breaker-open", "", 0)).await?;
            return Err(unavailable(
                &definition.name.fa,
                "پس از چند خطای پیاپی، چند لحظه پرسیده نمی‌شود",
                "after several failures in a row it is not asked for a moment",
            ));
        }
        let started = Instant::now();
        let sent = self.send_inquiry(&definition, &call, &request).await;
        let ms = started.elapsed().as_millis();
        match sent {
            Ok((found, output, raw)) => {
                let response_sha256 = sha256_hex(&raw);
                self.breaker_result(&definition.code, true);
                self.write_log(log(
                    if found { "answered" } else { "not-found" },
                    &response_sha256,
                    ms,
                ))
                .await?;
                let answer = InquiryAnswer {
                    found,
                    output,
                    cached: false,
                    at: now,
                    response_sha256,
                    raw,
                    call: call.clone(),
                    target: (target.0.to_owned(), target.1.clone()),
                };
                if definition.cache_seconds > 0
                    && let Ok(mut cache) = self.inner.inquiries.cache.lock()
                {
                    if cache.len() > 10_000 {
                        let now = Instant::now();
                        cache.retain(|_, (until, _)| *until > now);
                    }
                    cache.insert(
                        cache_key,
                        (
                            Instant::now() + Duration::from_secs(definition.cache_seconds),
                            answer.clone(),
                        ),
                    );
                }
                Ok(answer)
            }
            Err((outcome, response_sha256, error)) => {
                self.breaker_result(&definition.code, false);
                tracing::warn!(inquiry = %definition.code, outcome, "inquiry failed");
                self.write_log(log(outcome, &response_sha256, ms)).await?;
                Err(error)
            }
        }
    }

    /// The definition, as read at most [`DEFINITION_TTL`] ago: asking is the hot path, while
    /// definitions change rarely (and registering on this node forgets what was read).
    async fn recent_definition(&self, code: &str) -> Result<Option<InquiryDefinition>, StoreError> {
        let kept = self
            .inner
            .inquiries
            .definitions
            .lock()
            .ok()
            .and_then(|d| d.get(code).cloned());
        if let Some((at, definition)) = kept
            && at.elapsed() < DEFINITION_TTL
        {
            return Ok(definition);
        }
        let definition = self.inquiry_definition(code).await?;
        // One not registered yet is read again next time (it may be registered any moment).
        if definition.is_some()
            && let Ok(mut read) = self.inner.inquiries.definitions.lock()
        {
            if read.len() > 1_000 {
                read.clear();
            }
            read.insert(code.to_owned(), (Instant::now(), definition.clone()));
        }
        Ok(definition)
    }

    async fn write_log(&self, entry: NewAuditEntry) -> Result<(), StoreError> {
        match self.store().append_audit_batched(entry).await {
            Ok(()) => Ok(()),
            Err(pishkhan_store::WriteError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::BatchFailed(e.to_string())),
        }
    }

    fn breaker(&self, code: &str) -> Breaker {
        self.inner
            .inquiries
            .breakers
            .lock()
            .ok()
            .and_then(|b| b.get(code).copied())
            .unwrap_or_default()
    }

    fn breaker_result(&self, code: &str, ok: bool) {
        if let Ok(mut breakers) = self.inner.inquiries.breakers.lock() {
            let breaker = breakers.entry(code.to_owned()).or_default();
            if ok {
                *breaker = Breaker::default();
            } else {
                breaker.failures += 1;
                if breaker.failures >= BREAKER_FAILURES {
                    breaker.open_until = Some(Instant::now() + BREAKER_OPEN);
                    breaker.failures = 0;
                }
            }
        }
    }

    /// Sends the question as call `id`; answers (found, output, the answer's bytes) or
    /// (outcome, SHA-256 of what came back, the error for the asker).
    async fn send_inquiry(
        &self,
        definition: &InquiryDefinition,
        id: &str,
        request: &str,
    ) -> Result<(bool, BTreeMap<String, Value>, Vec<u8>), (&'static str, String, InquiryError)>
    {
        let name = definition.name.fa.as_str();
        let timestamp = Utc::now().timestamp();
        let mut call = client()
            .post(&definition.url)
            .timeout(Duration::from_millis(definition.timeout_ms))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Ok(Some(hook)) = self.store().webhook(&definition.agency).await
            && let Ok(secrets) = self.signing_secrets(&hook, Utc::now())
        {
            let signature = secrets
                .iter()
                .filter_map(|s| crate::webhooks::sign(s, id, timestamp, request))
                .collect::<Vec<_>>()
                .join(" ");
            call = call.header("webhook-signature", signature);
        }
        let response = match call.body(request.to_owned()).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err((
                    "timeout",
                    String::new(),
                    unavailable(name, "پاسخ به‌موقع نرسید", "no answer in time"),
                ));
            }
            Err(_) => {
                return Err((
                    "unreachable",
                    String::new(),
                    unavailable(name, "سامانه در دسترس نیست", "its system cannot be reached"),
                ));
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(_) => {
                return Err((
                    "timeout",
                    String::new(),
                    unavailable(name, "پاسخ به‌موقع نرسید", "no answer in time"),
                ));
            }
        };
        let response_sha256 = sha256_hex(&body);
        if !status.is_success() {
            return Err((
                "error",
                response_sha256,
                unavailable(name, "سامانه خطا داد", "its system answered with an error"),
            ));
        }
        let malformed = |sha: String| {
            (
                "malformed",
                sha,
                unavailable(name, "پاسخ سامانه درست نبود", "its answer was not valid"),
            )
        };
        let Ok(answer) = serde_json::from_slice::<Value>(&body) else {
            return Err(malformed(response_sha256));
        };
        if answer.get("found") == Some(&Value::Bool(false)) {
            return Ok((false, BTreeMap::new(), body.to_vec()));
        }
        let output: BTreeMap<String, Value> = match answer.get("output").and_then(Value::as_object)
        {
            Some(o) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => return Err(malformed(response_sha256)),
        };
        match definition.output_form().validate(&output) {
            Ok(output) => Ok((true, output, body.to_vec())),
            Err(_) => Err(malformed(response_sha256)),
        }
    }

    /// The calls logged about an application (or, with its consent, made before it was filed;
    /// or those that fetched its documents while it was a citizen's draft), oldest first.
    pub async fn inquiry_log_of(
        &self,
        application: &str,
        consent: Option<&str>,
    ) -> Result<Vec<LoggedInquiry>, StoreError> {
        let mut entries = self
            .store()
            .audit_entries_about(LOG_ACTION, "application", application)
            .await?;
        if let Some(consent) = consent {
            entries.extend(
                self.store()
                    .audit_entries_about(LOG_ACTION, "consent", consent)
                    .await?,
            );
        }
        for document in self.store().application_documents(application).await? {
            let Some(p) = crate::once_only::provenance_of(document.provenance.as_deref()) else {
                continue;
            };
            if p.target_kind == "draft" {
                entries.extend(
                    self.store()
                        .audit_entries_about(LOG_ACTION, "draft", &p.target_id)
                        .await?
                        .into_iter()
                        .filter(|e| e.fields.details.contains(&p.call)),
                );
            }
        }
        entries.sort_by_key(|e| e.fields.seq);
        entries.dedup_by_key(|e| e.fields.seq);
        Ok(entries
            .into_iter()
            .map(|e| {
                let details: Value = serde_json::from_str(&e.fields.details).unwrap_or_default();
                let field = |k: &str| details[k].as_str().unwrap_or_default().to_owned();
                LoggedInquiry {
                    seq: e.fields.seq,
                    at: DateTime::from_timestamp_millis(e.fields.at_ms).unwrap_or_default(),
                    actor: e.fields.actor,
                    role: field("role"),
                    inquiry: field("inquiry"),
                    agency: field("agency"),
                    outcome: field("outcome"),
                    ms: details["ms"].as_i64().unwrap_or(0),
                    request_sha256: field("request_sha256"),
                    response_sha256: field("response_sha256"),
                    call: field("call"),
                    hash: e.hash,
                }
            })
            .collect())
    }
}

/// One logged call, as the application's page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedInquiry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub inquiry: String,
    pub agency: String,
    pub outcome: String,
    pub ms: i64,
    pub request_sha256: String,
    pub response_sha256: String,
    /// The call's id (what a fetched document's provenance names).
    pub call: String,
    /// The entry's hash in the chain.
    pub hash: String,
}

/// What `pishkhan exchange verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeVerified {
    /// Entries in the whole chain, which verified.
    pub chain: i64,
    /// Inquiry calls logged, by outcome.
    pub calls: BTreeMap<String, i64>,
    /// With a kept answer: does its SHA-256 match the one entry `seq` logged?
    pub answer_matches: Option<bool>,
    /// Documents fetched from inquiries (once only), each checked against its log entry.
    pub documents: usize,
    /// Those that are not what their entry logged (`application/document: why`).
    pub documents_wrong: Vec<String>,
}

impl App {
    /// Walks the audit chain (every inquiry call is a link of it) and counts the calls; with
    /// `answer` (an entry's sequence number and an answer someone kept), says whether that
    /// answer is the one the entry logged. `Ok(None)` answer-check when there is no such entry.
    pub async fn verify_exchange_log(
        &self,
        answer: Option<(i64, &[u8])>,
    ) -> Result<ExchangeVerified, crate::audit::AuditError> {
        let chain = self.verify_audit().await?;
        let (entries, _) = self.store().audit_chain().await?;
        let mut calls: BTreeMap<String, i64> = BTreeMap::new();
        let mut answer_matches = None;
        // call id → (target kind, target id, answer hash, outcome)
        let mut logged: HashMap<String, (String, String, String, String)> = HashMap::new();
        for entry in entries.iter().filter(|e| e.fields.action == LOG_ACTION) {
            let details: Value = serde_json::from_str(&entry.fields.details).unwrap_or_default();
            if let Some(call) = details["call"].as_str() {
                logged.insert(
                    call.to_owned(),
                    (
                        entry.fields.target_kind.clone(),
                        entry.fields.target_id.clone(),
                        details["response_sha256"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        details["outcome"].as_str().unwrap_or_default().to_owned(),
                    ),
                );
            }
            *calls
                .entry(details["outcome"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
            if let Some((seq, bytes)) = answer
                && seq == entry.fields.seq
            {
                answer_matches =
                    Some(details["response_sha256"].as_str() == Some(&sha256_hex(bytes)));
            }
        }
        let fetched = self.store().fetched_documents().await?;
        let mut documents_wrong = Vec::new();
        for document in &fetched {
            let place = format!("{}/{}", document.application, document.id);
            let Some(p) = crate::once_only::provenance_of(document.provenance.as_deref()) else {
                documents_wrong.push(format!("{place}: its provenance cannot be read"));
                continue;
            };
            let Some((kind, target, answer, outcome)) = logged.get(&p.call) else {
                documents_wrong.push(format!("{place}: no logged call {}", p.call));
                continue;
            };
            let held = match self.documents().get(&document.object_key).await {
                Ok(bytes) => sha256_hex(&bytes),
                Err(e) => {
                    documents_wrong.push(format!("{place}: its file cannot be read ({e})"));
                    continue;
                }
            };
            if !matches!(outcome.as_str(), "answered" | "cached") {
                documents_wrong.push(format!("{place}: call {} was {outcome}", p.call));
            } else if *answer != document.sha256 || held != document.sha256 {
                documents_wrong.push(format!(
                    "{place}: not the answer call {} logged (SHA-256 differs)",
                    p.call
                ));
            } else if (kind.as_str(), target.as_str())
                != (p.target_kind.as_str(), p.target_id.as_str())
            {
                documents_wrong.push(format!("{place}: call {} was for another purpose", p.call));
            }
        }
        Ok(ExchangeVerified {
            chain,
            calls,
            answer_matches,
            documents: fetched.len(),
            documents_wrong,
        })
    }
}
