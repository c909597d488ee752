//! Citizens sign in with a one-time code sent by SMS to the mobile bound to their national ID.

use super::*;

impl App {
    /// Citizen sign-in, first step: a code goes to the mobile if the national registry of mobile
    /// lines confirms it is the national ID's. Whatever the pair, the answer is the same ("a
    /// code was sent to 0912…4567") and the attempt is counted, per mobile, per national ID and
    /// per address: nobody learns which mobile is someone's, or whether they have signed in
    /// before. A pair the registry does not confirm gets a code record nobody can redeem, and
    /// no message.
    #[tracing::instrument(skip_all)]
    pub async fn request_sign_in_code(
        &self,
        national_id: &str,
        mobile: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        let national_id = NationalId::parse(national_id).map_err(AuthError::Invalid)?;
        let mobile = MobileNumber::parse(mobile).map_err(AuthError::Invalid)?;
        throttled(
            self.store()
                .take_attempt(
                    &[
                        texts_to(&mobile),
                        self.texts_in_all(),
                        limit(
                            format!("sign-in-id:{}", national_id.as_str()),
                            10,
                            TimeDelta::minutes(10),
                        ),
                        limit(
                            format!("sms-ip:{}", client.source()),
                            10,
                            TimeDelta::minutes(10),
                        ),
                    ],
                    now,
                )
                .await?,
        )?;
        if !self.owns_mobile(&national_id, &mobile).await? {
            return self.decoy_code("sign-in", &national_id, &mobile, now).await;
        }
        let code = six_digits();
        let text = format!(
            "پیشخوان: کد ورود شما {} است. این کد را به هیچ‌کس، حتی کارکنان دفتر، ندهید.",
            pishkhan_domain::text::to_persian_digits(&code)
        );
        self.send_code("sign-in", &national_id, &mobile, code, text, None, "", now)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_code(
        &self,
        purpose: &str,
        national_id: &NationalId,
        mobile: &MobileNumber,
        code: String,
        text: String,
        requested: Option<(&str, &str)>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        let ticket = self
            .store_code(
                purpose,
                national_id,
                mobile,
                Some(&code),
                requested,
                note,
                now,
            )
            .await?;
        self.sms()
            .send(&SmsMessage {
                to: mobile.clone(),
                text,
                code: Some(code),
            })
            .await?;
        Ok(ticket)
    }

    /// Stores a code for `mobile` (only its salted hash; `None`: a decoy no code redeems) and
    /// answers its ticket.
    #[allow(clippy::too_many_arguments)]
    async fn store_code(
        &self,
        purpose: &str,
        national_id: &NationalId,
        mobile: &MobileNumber,
        code: Option<&str>,
        requested: Option<(&str, &str)>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let record = CodeRecord {
            id: id.clone(),
            purpose: purpose.to_owned(),
            mobile: mobile.e164(),
            national_id: national_id.as_str().to_owned(),
            code_hash: code.map_or_else(|| UNREDEEMABLE.to_owned(), |code| code_hash(&id, code)),
            created_at: now,
            expires_at: now + CODE_LIFETIME,
            attempts: 0,
            used_at: None,
            requested_by: requested.map(|(user, _)| user.to_owned()),
            centre: requested.map(|(_, centre)| centre.to_owned()),
            note: note.to_owned(),
        };
        self.store().insert_code(&record).await?;
        Ok(CodeTicket {
            code_id: id,
            masked_mobile: mask_mobile(&mobile.e164()),
            expires_at: record.expires_at,
        })
    }

    /// The registry's answer: is `mobile` the line of `national_id`? Fails closed.
    pub(super) async fn owns_mobile(
        &self,
        national_id: &NationalId,
        mobile: &MobileNumber,
    ) -> Result<bool, AuthError> {
        self.mobile_ownership()
            .confirms(national_id, mobile)
            .await
            .map_err(|_| AuthError::RegistryUnavailable)
    }

    /// A ticket that looks like any other, for a pair the registry did not confirm: its code is
    /// never sent and can never be redeemed (its hash is not a hash), and every try at it is
    /// counted like a wrong code.
    async fn decoy_code(
        &self,
        purpose: &str,
        national_id: &NationalId,
        mobile: &MobileNumber,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        self.store_code(purpose, national_id, mobile, None, None, "", now)
            .await
    }

    /// Checks a typed code: counts the try, refuses expired, used or over-tried codes, and
    /// marks it used on success (once, even under racing requests).
    pub(super) async fn redeem_code(
        &self,
        code_id: &str,
        code: &str,
        purpose: &str,
        requested_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<CodeRecord, AuthError> {
        let code = pishkhan_domain::text::to_ascii_digits(code.trim());
        let Some(record) = self.store().try_code(code_id).await? else {
            return Err(AuthError::CodeExpired);
        };
        if record.purpose != purpose
            || record.requested_by.as_deref() != requested_by
            || record.used_at.is_some()
            || record.expires_at <= now
            || record.attempts > CODE_TRIES
        {
            return Err(AuthError::CodeExpired);
        }
        let expected = code_hash(code_id, &code);
        if !constant_time_eq(expected.as_bytes(), record.code_hash.as_bytes()) {
            let tries_left = CODE_TRIES - record.attempts;
            return Err(if tries_left > 0 {
                AuthError::WrongCode { tries_left }
            } else {
                AuthError::CodeExpired
            });
        }
        if !self.store().use_code(code_id, now).await? {
            return Err(AuthError::CodeExpired);
        }
        Ok(record)
    }

    /// The citizen a redeemed code proves: registered on first sign-in, bound to the mobile the
    /// code went to (which the registry confirmed). A citizen whose line changed is bound to the
    /// new one: every old session ends, the change is on the record, and the old line is told.
    pub(super) async fn citizen_for(
        &self,
        record: &CodeRecord,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<CitizenRecord, AuthError> {
        let citizen = self
            .store()
            .ensure_citizen(&CitizenRecord {
                id: uuid::Uuid::new_v4().simple().to_string(),
                national_id: record.national_id.clone(),
                mobile: record.mobile.clone(),
                created_at: now,
            })
            .await?;
        if citizen.mobile == record.mobile {
            return Ok(citizen);
        }
        let old = citizen.mobile.clone();
        let actor = Actor {
            id: format!("citizen:{}", citizen.id),
            source: source.to_owned(),
        };
        let audit = crate::audit::audit_entry(
            &actor,
            "citizen.mobile-rebound",
            ("citizen", &citizen.id),
            serde_json::json!({
                "from": mask_mobile(&old),
                "to": mask_mobile(&record.mobile),
                "purpose": record.purpose,
            }),
        );
        self.store()
            .rebind_citizen_mobile(&citizen.id, &record.mobile, &audit)
            .await?;
        if let Ok(old) = MobileNumber::parse(&old) {
            let notice = SmsMessage {
                to: old,
                text: format!(
                    "پیشخوان: شمارهٔ همراه حساب شما در پیشخوان به {} تغییر کرد. اگر این کار شما نبوده است، با ۱۱۱ تماس بگیرید.",
                    pishkhan_domain::text::to_persian_digits(&mask_mobile(&record.mobile))
                ),
                code: None,
            };
            // The change stands even if the old line cannot be told; the failure is logged.
            if let Err(e) = self.sms().send(&notice).await {
                tracing::warn!(error = %e, "the old mobile could not be told of the change");
            }
        }
        Ok(CitizenRecord {
            mobile: record.mobile.clone(),
            ..citizen
        })
    }

    /// Citizen sign-in, second step: the code from the text message.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_with_code(
        &self,
        code_id: &str,
        code: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<NewSession, AuthError> {
        let record = self
            .redeem_code(code_id, code, "sign-in", None, now)
            .await?;
        let citizen = self.citizen_for(&record, &client.ip, now).await?;
        let mut unit = self.store().begin_write().await?;
        let opening = self
            .open_session_in(
                &mut unit,
                SessionOwner::Citizen(citizen.id.clone()),
                Stage::Full,
                None,
                client,
                now,
                None,
            )
            .await?;
        unit.audit(&audit_entry(
            &Actor {
                id: format!("citizen:{}", citizen.id),
                source: client.ip.clone(),
            },
            "session.sign-in",
            ("citizen", &citizen.id),
            serde_json::json!({ "user_agent": client.user_agent }),
        ))
        .await?;
        self.opened(unit, opening).await
    }
}
