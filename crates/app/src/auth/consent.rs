//! Consent for assisted filing: an operator asks, the citizen reads out the code sent to them,
//! and the operator may file for them at that centre for a while.

use super::*;

impl App {
    /// An operator asks a walk-in citizen's consent to file for them: a code goes to the mobile
    /// bound to the national ID, or the one the operator gives, once the national registry of
    /// mobile lines confirms it is the citizen's. Looking the citizen up is a staff view of
    /// personal data, and is recorded.
    #[tracing::instrument(skip_all, fields(centre = %centre))]
    #[allow(clippy::too_many_arguments)]
    pub async fn request_consent(
        &self,
        operator: &Principal,
        centre: &str,
        national_id: &str,
        mobile: &str,
        purpose: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        let Principal::Staff(user) = operator else {
            return Err(AuthError::NotAllowed);
        };
        if !counter_centres(operator).iter().any(|c| c == centre) {
            return Err(AuthError::NotAllowed);
        }
        let purpose = purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(AuthError::Invalid(Problem::new(
                "bad_purpose",
                "بنویسید رضایت برای ثبت چه درخواستی است (حداکثر ۲۰۰ نویسه).",
                "Write which application the consent is for (at most 200 characters).",
            )));
        }
        let national_id = NationalId::parse(national_id).map_err(AuthError::Invalid)?;
        let actor = Actor {
            id: format!("user:{}", user.id),
            source: client.ip.clone(),
        };
        let registered = self
            .store()
            .citizen_by_national_id(national_id.as_str())
            .await?;
        self.record(
            &actor,
            "citizen.lookup",
            ("citizen", registered.as_ref().map_or("unregistered", |c| c.id.as_str())),
            serde_json::json!({ "national_id": national_id.as_str(), "centre": centre, "purpose": purpose }),
        )
        .await?;
        // The line the code goes to: the one on record, else the one the operator was given (a
        // citizen new to Pishkhan, or one whose line changed) — whichever the registry confirms.
        let typed = match mobile.trim() {
            "" => None,
            given => Some(MobileNumber::parse(given).map_err(AuthError::Invalid)?),
        };
        let bound = registered
            .as_ref()
            .and_then(|c| MobileNumber::parse(&c.mobile).ok());
        let mut candidates: Vec<MobileNumber> = bound.into_iter().collect();
        if let Some(typed) = typed
            && !candidates.iter().any(|m| m.e164() == typed.e164())
        {
            candidates.push(typed);
        }
        if candidates.is_empty() {
            return Err(AuthError::Invalid(Problem::new(
                "mobile_required",
                "شمارهٔ همراه شهروند را وارد کنید؛ کد رضایت به آن فرستاده می‌شود.",
                "Enter the citizen's mobile number; the consent code goes there.",
            )));
        }
        // Counted before the registry is asked, so no operator can use it to look lines up.
        throttled(
            self.store()
                .take_attempt(
                    &[limit(
                        format!("consent-operator:{}", user.id),
                        30,
                        TimeDelta::minutes(10),
                    )],
                    now,
                )
                .await?,
        )?;
        let mut confirmed = None;
        for candidate in candidates {
            if self.owns_mobile(&national_id, &candidate).await? {
                confirmed = Some(candidate);
                break;
            }
        }
        let Some(mobile) = confirmed else {
            return Err(AuthError::NotTheirMobile);
        };
        throttled(
            self.store()
                .take_attempt(&[consent_texts_to(&mobile), self.texts_in_all()], now)
                .await?,
        )?;
        let centre_name = self
            .store()
            .org_directory()
            .await?
            .name_of(&Scope::Centre(centre.to_owned()))
            .unwrap_or(centre)
            .to_owned();
        let code = six_digits();
        let text = format!(
            "پیشخوان: {} در دفتر «{}» می‌خواهد برای «{}» به نام شما درخواست ثبت کند. اگر خودتان در دفتر هستید و موافقید، کد {} را به او بگویید؛ وگرنه این کد را ندهید.",
            user.display_name,
            centre_name,
            purpose,
            pishkhan_domain::text::to_persian_digits(&code)
        );
        self.send_code(
            "consent",
            &national_id,
            &mobile,
            code,
            text,
            Some((&user.id, centre)),
            purpose,
            now,
        )
        .await
    }

    /// The operator types the code the citizen read out: the consent is recorded.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_consent(
        &self,
        operator: &Principal,
        code_id: &str,
        code: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<ConsentRecord, AuthError> {
        let Principal::Staff(user) = operator else {
            return Err(AuthError::NotAllowed);
        };
        let record = self
            .redeem_code(code_id, code, "consent", Some(&user.id), now)
            .await?;
        let centre = record.centre.clone().unwrap_or_default();
        if !counter_centres(operator).contains(&centre) {
            return Err(AuthError::CodeExpired);
        }
        let citizen = self.citizen_for(&record, &client.ip, now).await?;
        let consent = ConsentRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            citizen_id: citizen.id.clone(),
            operator_id: user.id.clone(),
            operator_name: user.display_name.clone(),
            centre: centre.clone(),
            centre_name: String::new(),
            purpose: record.note.clone(),
            granted_at: now,
            expires_at: now + CONSENT_LIFETIME,
        };
        let mut unit = self.store().begin_write().await?;
        unit.insert_consent(&consent).await?;
        unit.audit(&audit_entry(
            &Actor { id: format!("user:{}", user.id), source: client.ip.clone() },
            "consent.grant",
            ("citizen", &citizen.id),
            serde_json::json!({ "consent": consent.id, "centre": centre, "purpose": consent.purpose }),
        ))
        .await?;
        unit.commit().await?;
        Ok(consent)
    }

    /// What was done on a citizen's behalf at centres, newest first.
    pub async fn consents_of(
        &self,
        citizen: &CitizenRecord,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.store().consents_of_citizen(&citizen.id).await
    }

    /// Consents still open at the operator's centres, newest first, each with the citizen's
    /// national ID: the counter lists them so filing can resume after a reload.
    pub async fn open_consents(
        &self,
        operator: &Principal,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConsentRecord, String)>, StoreError> {
        let mut out = Vec::new();
        for centre in counter_centres(operator) {
            out.extend(self.store().open_consents_at(&centre, now).await?);
        }
        Ok(out)
    }
}

/// Consent codes to one line: their own budget, apart from the citizen's sign-in codes, so a
/// citizen who asked for sign-in codes (or someone who asked in their name) does not keep the
/// operator in front of them waiting. Bounded still, so no operator can flood a person's phone.
fn consent_texts_to(mobile: &MobileNumber) -> Limit {
    limit(
        format!("consent-mobile:{}", mobile.e164()),
        5,
        TimeDelta::minutes(10),
    )
}
