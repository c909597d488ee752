//! Outputs: what an application issues when its workflow enters the issuing state — numbered,
//! rendered from the card's template, signed (`app::signing`), stored, and from then on only
//! ever revoked (and re-issued), never changed. Anyone verifies one by its code or its QR
//! payload; its holder (and the centre or agency that may see the application) downloads it.

use chrono::{DateTime, NaiveDate, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::output::{
    self, Claims, Rejection, Standing, holder_digest, masked_national_id, parse_verification_code,
};
use pishkhan_domain::problem::Problem;
use pishkhan_render::{OutputPrint, output_data, render_output};
use pishkhan_store::{
    ApplicationRecord, NewAuditEntry, NewOutput, OutputRecord, SigningKeyRecord, StoreError,
    WriteError,
};
use serde::Serialize;
use serde_json::json;

use crate::App;
use crate::applications::ApplicationError;
use crate::policy::Principal;

/// What a verification found: one status, and what a receiving clerk needs to compare with the
/// paper and the person in front of them — never the full national ID.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// `valid`, `revoked`, `expired`, `unknown` (no such code or number), `tampered` (a changed
    /// byte), `foreign` (not a Pishkhan code), `unknown-key` (signed by a key not published).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<VerifiedOutput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifiedOutput {
    pub number: String,
    pub title: String,
    pub service: String,
    pub agency: String,
    pub holder_name: String,
    /// The last three digits only.
    pub national_id: String,
    pub issued: NaiveDate,
    pub issued_fa: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until_fa: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_fa: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
    pub key_id: String,
}

impl Verification {
    fn only(status: &'static str) -> Verification {
        Verification {
            status,
            output: None,
        }
    }
}

fn iran_day(at_ms: i64) -> JalaliDate {
    JalaliDate::in_iran(DateTime::from_timestamp_millis(at_ms).unwrap_or_default())
}

fn issued_date(record: &OutputRecord) -> NaiveDate {
    iran_day(record.issued_at).to_gregorian()
}

/// The number of an application's `n`th output (from 1).
fn output_number(application: &str, n: usize) -> String {
    format!("{application}-{n}")
}

/// Where an output's PDF is stored: under its number, with a random part, so a step that loses
/// a race for the same number (and deletes what it wrote) never touches the winner's file.
fn pdf_key(number: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("outputs/{number}-{}.pdf", &random[..12])
}

/// An output's PDF made by the agency's own system and sent with the issuing step, instead of
/// one Pishkhan typesets.
pub struct Supplied {
    pub pdf: Vec<u8>,
    /// The system account that sent it.
    pub by: String,
}

/// An output ready to be written with the step that issues it (its PDF already stored).
pub(crate) struct Prepared {
    pub row: NewOutput,
}

impl App {
    /// Numbers, renders, signs and stores the output of `record` entering its issuing state.
    /// `fields` are what the application and its steps recorded, labelled; `holder_name` the
    /// name the issuing step wrote down. The row goes in the step's own transaction.
    pub(crate) async fn prepare_output(
        &self,
        record: &ApplicationRecord,
        card: &ServiceCard,
        holder_name: &str,
        fields: Vec<(String, String)>,
        supplied: Option<Supplied>,
        now: DateTime<Utc>,
    ) -> Result<Prepared, ApplicationError> {
        let signers = self.signers().await?;
        let (key_id, key) = signers.current();
        let earlier = self.store().outputs_of_application(&record.code).await?;
        let number = output_number(&record.code, earlier.len() + 1);
        let code = output::verification_code(rand_bytes());
        let today = JalaliDate::in_iran(now);
        let valid_days = card.output_template.as_ref().and_then(|t| t.valid_days);
        let until = valid_days.map(|d| today.add_days(i64::from(d) - 1));
        let claims = Claims {
            service: card.code.clone(),
            number: number.clone(),
            holder: holder_digest(&number, &record.national_id),
            issued: today.to_gregorian(),
            until: until.map(JalaliDate::to_gregorian),
            key: key_id.to_owned(),
        };
        let payload = output::sign(&claims, key);
        let stored_fields = serde_json::to_string(&fields).unwrap_or_default();
        let (pdf, supplied_by) = match supplied {
            Some(Supplied { pdf, by }) => (pdf, Some(by)),
            None => (
                self.render_output_pdf(
                    record,
                    card,
                    holder_name,
                    &fields,
                    &number,
                    &code,
                    &payload,
                    today,
                    until,
                )
                .await?,
                None,
            ),
        };
        let key = pdf_key(&number);
        let sha = pishkhan_domain::digest::sha256_hex(&pdf);
        self.documents().put_all(vec![(key.clone(), pdf)]).await?;
        Ok(Prepared {
            row: NewOutput {
                number,
                code,
                application: record.code.clone(),
                service: card.code.clone(),
                service_version: record.service_version,
                agency: record.agency.clone(),
                title: card.output.fa.clone(),
                holder_name: holder_name.to_owned(),
                national_id: record.national_id.clone(),
                issued_at: now.timestamp_millis(),
                valid_until: until.map(|d| d.format_gregorian_iso()),
                key_id: key_id.to_owned(),
                payload,
                pdf_key: key,
                pdf_sha256: sha,
                fields: Some(stored_fields),
                supplied_by,
            },
        })
    }

    /// Typesets an output from the card's template (the standard one if it has none).
    #[allow(clippy::too_many_arguments)]
    async fn render_output_pdf(
        &self,
        record: &ApplicationRecord,
        card: &ServiceCard,
        holder_name: &str,
        fields: &[(String, String)],
        number: &str,
        code: &str,
        payload: &str,
        today: JalaliDate,
        until: Option<JalaliDate>,
    ) -> Result<Vec<u8>, ApplicationError> {
        let origin = self.config().public_origin();
        let qr_text = format!("{origin}/verify?p={payload}");
        let verify_address = format!("{origin}/verify");
        let directory = self.store().org_directory().await?;
        let (agency, province) = crate::print::names(&directory, &record.agency);
        let application = pishkhan_domain::tracking::TrackingCode::parse(&record.code)
            .map(|c| c.grouped_fa())
            .unwrap_or_else(|_| record.code.clone());
        let issued_on = today.format_long_fa();
        let until_fa = until.map(JalaliDate::format_long_fa);
        let data = output_data(&OutputPrint {
            title: &card.output.fa,
            service_title: &card.title.fa,
            agency_name: &agency,
            province_name: province.as_deref(),
            number,
            holder_name,
            national_id: &record.national_id,
            issued_on: &issued_on,
            valid_until: until_fa.as_deref(),
            application: &application,
            fields,
            code,
            qr_text: &qr_text,
            verify_address: &verify_address,
        })
        .map_err(|e| ApplicationError::Documents(e.to_string()))?;
        let body = card.output_template.as_ref().and_then(|t| t.typst.clone());
        tokio::task::spawn_blocking(move || render_output(body.as_deref(), &data))
            .await
            .map_err(|e| ApplicationError::Documents(e.to_string()))?
            .map_err(|e| ApplicationError::Documents(e.to_string()))
    }

    /// Revokes a signing key: every output it signed shows revoked from now on (re-issue them
    /// under the current key). Audited. Refused for the key that signs now: rotate first.
    pub async fn revoke_signing_key(
        &self,
        actor: &crate::audit::Actor,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let signers = self.signers().await.map_err(|e| e.to_string())?;
        if signers.current().0 == id {
            return Err(format!(
                "key {id} signs now: run `pishkhan keys rotate` first, then revoke it"
            ));
        }
        let known = self
            .store()
            .signing_keys()
            .await
            .map_err(|e| e.to_string())?;
        if !known.iter().any(|k| k.id == id) {
            return Err(format!("no signing key {id} (see `pishkhan keys list`)"));
        }
        if reason.trim().is_empty() {
            return Err("give the reason (--reason)".to_owned());
        }
        let audit = NewAuditEntry {
            at: now,
            actor: actor.id.clone(),
            action: "signing-key.revoke".into(),
            target_kind: "signing-key".into(),
            target_id: id.to_owned(),
            source: actor.source.clone(),
            details: json!({ "reason": reason.trim() }).to_string(),
        };
        match self
            .store()
            .revoke_signing_key(id, reason.trim(), now, &audit)
            .await
        {
            Ok(()) => Ok(()),
            Err(WriteError::Stale) => Err(format!("key {id} is already revoked")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The published keys, oldest first (what `GET /api/v1/keys` answers).
    pub async fn published_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        // Make sure this node's keys are registered before anyone reads the list.
        self.signers().await?;
        self.store().signing_keys().await
    }

    async fn verified_output(
        &self,
        record: &OutputRecord,
        today: NaiveDate,
        key_revoked: bool,
    ) -> Result<Verification, StoreError> {
        let directory = self.store().org_directory().await?;
        let (agency, _) = crate::print::names(&directory, &record.agency);
        let until = record
            .valid_until
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let status = if record.revoked_at.is_some() || key_revoked {
            "revoked"
        } else if until.is_some_and(|u| today > u) {
            "expired"
        } else {
            "valid"
        };
        let issued = issued_date(record);
        Ok(Verification {
            status,
            output: Some(VerifiedOutput {
                number: record.number.clone(),
                title: record.title.clone(),
                service: record.service.clone(),
                agency,
                holder_name: record.holder_name.clone(),
                national_id: masked_national_id(&record.national_id),
                issued,
                issued_fa: JalaliDate::from_gregorian(issued).format_long_fa(),
                valid_until: until,
                valid_until_fa: until.map(|u| JalaliDate::from_gregorian(u).format_long_fa()),
                revoked_fa: record.revoked_at.map(|at| iran_day(at).format_long_fa()),
                revoked_reason: if key_revoked && record.revoked_at.is_none() {
                    Some("کلید امضای این سند باطل شده است.".to_owned())
                } else {
                    record.revoked_reason.clone()
                },
                key_id: record.key_id.clone(),
            }),
        })
    }

    async fn key_revoked(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .store()
            .signing_keys()
            .await?
            .iter()
            .any(|k| k.id == id && k.revoked_at.is_some()))
    }

    /// Verifies a typed code (`XXXX-XXXX-XXXX`, typed however people type it).
    pub async fn verify_code(
        &self,
        typed: &str,
        now: DateTime<Utc>,
    ) -> Result<Verification, StoreError> {
        let Some(code) = parse_verification_code(typed) else {
            return Ok(Verification::only("unknown"));
        };
        let Some(record) = self.store().output_by_code(&code).await? else {
            return Ok(Verification::only("unknown"));
        };
        let today = JalaliDate::in_iran(now).to_gregorian();
        let key_revoked = self.key_revoked(&record.key_id).await?;
        self.verified_output(&record, today, key_revoked).await
    }

    /// Verifies a QR payload (or the verify link carrying it): its signature against the
    /// published keys first, then what Pishkhan knows of it since (revoked?).
    pub async fn verify_payload(
        &self,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Verification, StoreError> {
        let keys: Vec<_> = self
            .published_keys()
            .await?
            .iter()
            .filter_map(crate::signing::published)
            .collect();
        let today = JalaliDate::in_iran(now).to_gregorian();
        let verified = match output::verify(text, &keys) {
            Ok(verified) => verified,
            Err(Rejection::Foreign) => return Ok(Verification::only("foreign")),
            Err(Rejection::Tampered) => return Ok(Verification::only("tampered")),
            Err(Rejection::UnknownKey(_)) => return Ok(Verification::only("unknown-key")),
        };
        match self
            .store()
            .output_by_number(&verified.claims.number)
            .await?
        {
            Some(record) => {
                self.verified_output(&record, today, verified.key_revoked)
                    .await
            }
            // Signed by this province but not in this database (restored from an older backup):
            // the payload's own word.
            None => Ok(Verification {
                status: match verified.standing(today) {
                    Standing::Valid => "valid",
                    Standing::Expired => "expired",
                    Standing::Revoked => "revoked",
                },
                output: None,
            }),
        }
    }

    /// The output with this number, when `principal` may see its application (the holder, the
    /// centre that filed it, the agency); None for anyone else, as for an unknown number.
    pub(crate) async fn output_seen_by(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<Option<OutputRecord>, ApplicationError> {
        let Some(record) = self.store().output_by_number(number).await? else {
            return Ok(None);
        };
        let seen = self
            .application_for(principal, &record.application)
            .await?
            .is_some();
        Ok(seen.then_some(record))
    }

    /// An output's PDF, for someone who may see its application (`None` otherwise, as for a
    /// missing one): the holder, the centre that filed it, the agency's staff.
    pub async fn output_pdf(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<Option<(OutputRecord, Vec<u8>)>, ApplicationError> {
        let Some(record) = self.output_seen_by(principal, number).await? else {
            return Ok(None);
        };
        let pdf = self.documents().get(&record.pdf_key).await?;
        Ok(Some((record, pdf)))
    }

    /// An output by its number and the application it answers; not found as one.
    async fn output_and_application(
        &self,
        number: &str,
    ) -> Result<(OutputRecord, ApplicationRecord), ApplicationError> {
        let output = self
            .store()
            .output_by_number(number)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let application = self
            .store()
            .application(&output.application)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        Ok((output, application))
    }

    /// Revokes an output, with a reason: audited, the holder told. Agency staff of its agency
    /// only. Nothing issued is changed; a new output comes only from a new issuing step.
    pub async fn revoke_output(
        &self,
        principal: &Principal,
        source: &str,
        number: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let (output, application) = self.output_and_application(number).await?;
        let role = self.acting_role(principal, &application);
        if !matches!(
            role,
            Some(
                pishkhan_domain::identity::Role::AgencyAdmin
                    | pishkhan_domain::identity::Role::AgencyClerk
                    | pishkhan_domain::identity::Role::System
            )
        ) {
            return Err(ApplicationError::NotFound);
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ApplicationError::Invalid(vec![
                Problem::new(
                    "reason_required",
                    "دلیل ابطال را بنویسید (حداکثر ۵۰۰ نویسه).",
                    "Write why it is revoked (at most 500 characters).",
                )
                .at("reason"),
            ]));
        }
        let code = pishkhan_domain::tracking::TrackingCode::parse(&application.code)
            .map_err(|_| ApplicationError::NotFound)?;
        let text = self
            .notification_text(
                "application.changed",
                &[
                    ("code", &code.grouped_fa()),
                    ("service", &output.title),
                    ("state", "خروجی این درخواست باطل شد"),
                    ("comment", reason),
                    (
                        "link",
                        &format!(
                            "{}/me/applications/{}",
                            self.config().public_origin(),
                            application.code
                        ),
                    ),
                ],
            )
            .await?;
        let outbox = self.notice(&code, &application.mobile, &application.email, &text);
        let actor = principal.actor_id();
        let audit = NewAuditEntry {
            at: now,
            actor: actor.clone(),
            action: "output.revoke".into(),
            target_kind: "output".into(),
            target_id: output.number.clone(),
            source: source.to_owned(),
            details: json!({ "application": application.code, "reason": reason }).to_string(),
        };
        match self
            .store()
            .revoke_output(&output.number, reason, &actor, now, outbox, &audit)
            .await
        {
            Ok(()) => Ok(()),
            Err(WriteError::Stale) => Err(ApplicationError::Invalid(vec![Problem::new(
                "already_revoked",
                "این خروجی پیش‌تر باطل شده است.",
                "This output is already revoked.",
            )])),
            Err(e) => Err(e.into()),
        }
    }

    /// Records that a centre printed the output and handed it to its holder. Operators of the
    /// centre that filed the application only; once.
    pub async fn hand_over_output(
        &self,
        principal: &Principal,
        source: &str,
        number: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let (output, application) = self.output_and_application(number).await?;
        if self.acting_role(principal, &application)
            != Some(pishkhan_domain::identity::Role::Operator)
        {
            return Err(ApplicationError::NotFound);
        }
        let actor = principal.actor_id();
        let audit = NewAuditEntry {
            at: now,
            actor: actor.clone(),
            action: "output.hand-over".into(),
            target_kind: "output".into(),
            target_id: output.number.clone(),
            source: source.to_owned(),
            details: json!({ "application": application.code }).to_string(),
        };
        match self
            .store()
            .hand_over_output(&output.number, &actor, now, &audit)
            .await
        {
            Ok(()) => Ok(()),
            Err(WriteError::Stale) => Err(ApplicationError::Invalid(vec![Problem::new(
                "not_to_hand_over",
                "این خروجی پیش‌تر تحویل شده یا باطل شده است.",
                "This output was already handed over, or is revoked.",
            )])),
            Err(e) => Err(e.into()),
        }
    }
}

fn rand_bytes() -> [u8; 8] {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    bytes
}
