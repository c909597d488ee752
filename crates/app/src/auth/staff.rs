//! Staff sign-in: password (argon2, limited before it is hashed), then the second factor
//! (TOTP) where the role requires one, then a forced password change after a reset.

use super::*;

impl App {
    /// How many times a password was checked against its argon2 hash since start (for metrics,
    /// and for proving that refused attempts are refused before the hash is touched).
    pub fn password_checks(&self) -> u64 {
        self.inner.password_checks.load(Ordering::Relaxed)
    }

    async fn verify_password(&self, hash: String, password: &Secret<String>) -> bool {
        self.inner.password_checks.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false)
    }

    /// Records a sign-in attempt that did not get in: the username it named, from where, why.
    async fn record_attempt(
        &self,
        username: &str,
        client: &Client,
        action: &str,
        reason: &str,
    ) -> Result<(), AuthError> {
        self.record(
            &Actor {
                id: format!("anonymous:{username}"),
                source: client.ip.clone(),
            },
            action,
            ("user", username),
            serde_json::json!({ "reason": reason }),
        )
        .await?;
        Ok(())
    }

    /// Staff sign-in, first step. Every attempt is counted before the password is checked, and
    /// wrong passwords slow down where they come from, not the account: from one address, an
    /// account takes [`PASSWORDS_PER_MINUTE`] attempts a minute and
    /// [`PASSWORDS_PER_QUARTER_HOUR`] a quarter hour, so twenty addresses guessing cannot lock
    /// its owner out. Across addresses, an account takes [`ACCOUNT_PASSWORDS_PER_HOUR`] checks
    /// an hour from browsers it has not seen; a browser that signed in to it before
    /// ([`Client::device`]) is not counted there and still gets through. Refused attempts never
    /// touch the hash.
    #[tracing::instrument(skip_all)]
    pub async fn staff_sign_in(
        &self,
        username: &str,
        password: &Secret<String>,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<NewSession, AuthError> {
        let username = username.trim();
        if username.chars().count() > MAX_USERNAME_CHARS
            || password.expose().len() > MAX_PASSWORD_BYTES
        {
            // Nobody's username or password is this long: refused as a wrong one, counted
            // against the address only, and recorded without what was typed.
            let counted = throttled(
                self.store()
                    .take_attempt(
                        &[limit(
                            format!("password-ip:{}", client.source()),
                            60,
                            TimeDelta::minutes(1),
                        )],
                        now,
                    )
                    .await?,
            );
            self.record(
                &Actor {
                    id: "anonymous".to_owned(),
                    source: client.ip.clone(),
                },
                "session.sign-in-refused",
                ("user", "(too long)"),
                serde_json::json!({
                    "reason": if counted.is_ok() { "too_long" } else { "throttled" }
                }),
            )
            .await?;
            counted?;
            return Err(AuthError::WrongCredentials);
        }
        let username = username.to_lowercase();
        let minute_key = format!("password:{username}@{}", client.source());
        let quarter_key = format!("password-15m:{username}@{}", client.source());
        let attempt = self
            .store()
            .take_attempt(
                &[
                    limit(
                        minute_key.clone(),
                        PASSWORDS_PER_MINUTE,
                        TimeDelta::minutes(1),
                    ),
                    limit(
                        quarter_key.clone(),
                        PASSWORDS_PER_QUARTER_HOUR,
                        TimeDelta::minutes(15),
                    ),
                    limit(
                        format!("password-ip:{}", client.source()),
                        60,
                        TimeDelta::minutes(1),
                    ),
                ],
                now,
            )
            .await?;
        if let Err(refused) = throttled(attempt) {
            self.record_attempt(&username, client, "session.sign-in-refused", "throttled")
                .await?;
            return Err(refused);
        }
        let user = self.store().user_by_username(&username).await?;
        let device_hash = client.device.as_deref().map(sha256_hex);
        let known_device = match (&device_hash, &user) {
            (Some(hash), Some(user)) => {
                self.store().known_device_user(hash).await?.as_deref() == Some(user.id.as_str())
            }
            _ => false,
        };
        if !known_device {
            let attempt = self
                .store()
                .take_attempt(
                    &[limit(
                        format!("password-account:{username}"),
                        ACCOUNT_PASSWORDS_PER_HOUR,
                        TimeDelta::hours(1),
                    )],
                    now,
                )
                .await?;
            if let Err(refused) = throttled(attempt) {
                self.record_attempt(
                    &username,
                    client,
                    "session.sign-in-refused",
                    "account_budget",
                )
                .await?;
                return Err(refused);
            }
        }
        let hash = match &user {
            Some(user) => self
                .store()
                .password_hash(&user.id)
                .await?
                .unwrap_or_default(),
            None => decoy_hash().to_owned(),
        };
        let matches = self.verify_password(hash, password).await;
        let Some(user) = user.filter(|_| matches) else {
            self.record_attempt(
                &username,
                client,
                "session.sign-in-failed",
                "wrong_credentials",
            )
            .await?;
            return Err(AuthError::WrongCredentials);
        };
        self.store().clear_attempts(&minute_key).await?;
        self.store().clear_attempts(&quarter_key).await?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        if is_api_client_only(&user) {
            // An agency system's account works with its API token, never through pages.
            return Err(AuthError::NotAllowed);
        }
        let needs_factor = user
            .grants
            .iter()
            .any(|g| g.role().requires_second_factor());
        let (stage, pending) = if user.has_second_factor {
            (Stage::SecondFactor, None)
        } else if needs_factor {
            (Stage::EnrolSecondFactor, Some(new_totp_secret()))
        } else if user.must_change_password {
            (Stage::ChangePassword, None)
        } else {
            (Stage::Full, None)
        };
        let actor = Actor {
            id: format!("user:{}", user.id),
            source: client.ip.clone(),
        };
        let mut unit = self.store().begin_write().await?;
        let opening = self
            .open_session_in(
                &mut unit,
                SessionOwner::User(user.id.clone()),
                stage,
                pending,
                client,
                now,
                None,
            )
            .await?;
        // The browser is known for this account from now on.
        let device = if known_device {
            None
        } else {
            let token = random_token();
            unit.insert_known_device(&sha256_hex(&token), &user.id, now)
                .await?;
            Some(Secret::new(token))
        };
        unit.audit(&audit_entry(
            &actor,
            "session.sign-in",
            ("user", &user.id),
            serde_json::json!({
                "stage": stage.code(),
                "user_agent": client.user_agent,
                "new_browser": device.is_some(),
            }),
        ))
        .await?;
        let mut created = self.opened(unit, opening).await?;
        created.device = device;
        Ok(created)
    }

    /// The stage after the second factor (or its enrolment).
    fn after_second_factor(session: &Session) -> Stage {
        match &session.principal {
            Principal::Staff(user) if user.must_change_password => Stage::ChangePassword,
            _ => Stage::Full,
        }
    }

    /// Counts one try at a second-factor code (at sign-in or at enrolment): at most five a
    /// minute per account, refused before the code is looked at.
    async fn take_second_factor_attempt(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        throttled(
            self.store()
                .take_attempt(
                    &[limit(format!("totp:{user_id}"), 5, TimeDelta::minutes(1))],
                    now,
                )
                .await?,
        )
    }

    /// Second step for staff with a second factor: the code from their authenticator app.
    #[tracing::instrument(skip_all)]
    pub async fn verify_second_factor(
        &self,
        session: &Session,
        code: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<NewSession, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        if session.stage != Stage::SecondFactor {
            return Err(AuthError::NotAllowed);
        }
        self.take_second_factor_attempt(&user.id, now).await?;
        let Some((secret, last)) = self.store().totp_state(&user.id).await? else {
            return Err(AuthError::NotAllowed);
        };
        let secret = self
            .sealer()?
            .open(&secret, &crate::sealed::totp_place(&user.id))
            .ok()
            .and_then(|s| TotpSecret::from_base32(&s))
            .ok_or(AuthError::NotAllowed)?;
        let last = last.and_then(|s| u64::try_from(s).ok());
        let step = secret.verify(code, now.timestamp(), last);
        let claimed = match step.and_then(|s| i64::try_from(s).ok()) {
            Some(step) => self.store().claim_totp_step(&user.id, step).await?,
            None => false,
        };
        if !claimed {
            self.record(
                &session.actor(client),
                "session.second-factor-failed",
                ("user", &user.id),
                serde_json::json!({}),
            )
            .await?;
            return Err(AuthError::WrongSecondFactor);
        }
        self.store()
            .clear_attempts(&format!("totp:{}", user.id))
            .await?;
        let next = Self::after_second_factor(session);
        let mut unit = self.store().begin_write().await?;
        let opening = self
            .rotate_in(&mut unit, session, next, client, now)
            .await?;
        unit.audit(&audit_entry(
            &session.actor(client),
            "session.second-factor",
            ("user", &user.id),
            serde_json::json!({}),
        ))
        .await?;
        self.opened(unit, opening).await
    }

    /// Enrolment of a second factor during sign-in (roles that require one) or from the account
    /// page: the code proves the app holds the secret shown.
    #[tracing::instrument(skip_all)]
    pub async fn enrol_second_factor(
        &self,
        session: &Session,
        code: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<Option<NewSession>, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        let Some(secret) = &session.pending_secret else {
            return Err(AuthError::NotAllowed);
        };
        self.take_second_factor_attempt(&user.id, now).await?;
        let Some(step) = secret.verify(code, now.timestamp(), None) else {
            return Err(AuthError::WrongSecondFactor);
        };
        let mut unit = self.store().begin_write().await?;
        let sealed = self
            .sealer()?
            .seal(&secret.to_base32(), &crate::sealed::totp_place(&user.id));
        unit.set_totp_secret(&user.id, Some(&sealed)).await?;
        unit.claim_totp_step(&user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?;
        unit.audit(&audit_entry(
            &session.actor(client),
            "user.second-factor-enrol",
            ("user", &user.id),
            serde_json::json!({}),
        ))
        .await?;
        if session.stage == Stage::EnrolSecondFactor {
            let next = Self::after_second_factor(session);
            let opening = self
                .rotate_in(&mut unit, session, next, client, now)
                .await?;
            return Ok(Some(self.opened(unit, opening).await?));
        }
        unit.set_session_stage(&session.token_hash, session.stage.code(), None)
            .await?;
        unit.commit().await?;
        Ok(None)
    }

    /// Starts enrolment from the account page: a new secret, shown until confirmed.
    pub async fn begin_second_factor_enrolment(
        &self,
        session: &Session,
    ) -> Result<TotpSecret, StoreError> {
        if let Some(secret) = &session.pending_secret {
            return Ok(secret.clone());
        }
        let secret = new_totp_secret();
        let sealed = self.sealer()?.seal(
            &secret.to_base32(),
            &crate::sealed::pending_place(&session.token_hash),
        );
        self.store()
            .set_session_stage(&session.token_hash, session.stage.code(), Some(&sealed))
            .await?;
        Ok(secret)
    }

    /// A member of staff sets a new password: at the forced change after a reset (no current
    /// password asked: they just signed in with it), or from the account page (current password
    /// checked). Every other session of theirs ends.
    #[tracing::instrument(skip_all)]
    pub async fn change_own_password(
        &self,
        session: &Session,
        current: Option<&Secret<String>>,
        new: &Secret<String>,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<NewSession, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        if session.stage != Stage::ChangePassword {
            let Some(current) = current else {
                return Err(AuthError::WrongCredentials);
            };
            throttled(
                self.store()
                    .take_attempt(
                        &[limit(
                            format!("password:{}", user.username),
                            PASSWORDS_PER_MINUTE,
                            TimeDelta::minutes(1),
                        )],
                        now,
                    )
                    .await?,
            )?;
            let hash = self
                .store()
                .password_hash(&user.id)
                .await?
                .unwrap_or_default();
            if !self.verify_password(hash, current).await {
                return Err(AuthError::WrongCredentials);
            }
        }
        pishkhan_domain::password::check_new_password(
            new.expose(),
            &[&user.username, &user.display_name],
        )
        .map_err(AuthError::Invalid)?;
        let hash = hash_password(new).await?;
        let mut unit = self.store().begin_write().await?;
        unit.set_password_hash(&user.id, &hash, false).await?;
        unit.delete_sessions_of(&SessionOwner::User(user.id.clone()))
            .await?;
        unit.audit(&audit_entry(
            &session.actor(client),
            "user.password-change",
            ("user", &user.id),
            serde_json::json!({}),
        ))
        .await?;
        let opening = self
            .open_session_in(
                &mut unit,
                SessionOwner::User(user.id.clone()),
                Stage::Full,
                None,
                client,
                now,
                Some((session.created_at, session.expires_at)),
            )
            .await?;
        self.opened(unit, opening).await
    }
}
