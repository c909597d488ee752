//! Sessions: opened, resolved on every request, rotated at each stage, ended; API tokens.

use super::*;

impl App {
    /// A new session in `unit` (stored when the unit commits, with whatever else it holds —
    /// above all the audit entry of the sign-in). `absolute_from` keeps the original sign-in
    /// time across rotations. Answers the token and the row, for [`App::opened`].
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn open_session_in(
        &self,
        unit: &mut Unit,
        owner: SessionOwner,
        stage: Stage,
        pending_secret: Option<TotpSecret>,
        client: &Client,
        now: DateTime<Utc>,
        absolute_from: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Opening, AuthError> {
        let token = random_token();
        let (created_at, expires_at) = absolute_from.unwrap_or((
            now,
            now + TimeDelta::from_std(self.config().session_absolute_timeout)
                .unwrap_or(TimeDelta::hours(12)),
        ));
        let token_hash = sha256_hex(&token);
        let pending_secret = match &pending_secret {
            Some(secret) => Some(self.sealer()?.seal(
                &secret.to_base32(),
                &crate::sealed::pending_place(&token_hash),
            )),
            None => None,
        };
        let record = SessionRecord {
            token_hash,
            owner,
            stage: stage.code().to_owned(),
            csrf: random_token(),
            created_at,
            last_seen_at: now,
            expires_at,
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .chars()
                .take(MAX_USER_AGENT_CHARS)
                .collect(),
            pending_secret,
        };
        unit.insert_session(&record).await?;
        Ok(Opening { token, record })
    }

    /// Commits `unit` and answers the session it opened, live.
    pub(super) async fn opened(
        &self,
        unit: Unit,
        opening: Opening,
    ) -> Result<NewSession, AuthError> {
        unit.commit().await?;
        let session = self
            .resolve(opening.record)
            .await?
            .ok_or(AuthError::NotAllowed)?;
        Ok(NewSession {
            token: Secret::new(opening.token),
            session,
            device: None,
        })
    }

    /// Turns a stored session into a live one, or `None` if its owner is gone or disabled.
    async fn resolve(&self, record: SessionRecord) -> Result<Option<Session>, StoreError> {
        let Some(stage) = Stage::from_code(&record.stage) else {
            return Ok(None);
        };
        let principal = match &record.owner {
            SessionOwner::User(id) => match self.store().user_by_id(id).await? {
                Some(user) if !user.disabled && !is_api_client_only(&user) => {
                    Principal::Staff(user)
                }
                _ => return Ok(None),
            },
            SessionOwner::Citizen(id) => match self.store().citizen_by_id(id).await? {
                Some(citizen) => Principal::Citizen(citizen),
                None => return Ok(None),
            },
        };
        let pending_secret = record
            .pending_secret
            .as_deref()
            .and_then(|stored| {
                self.sealer()
                    .ok()?
                    .open(stored, &crate::sealed::pending_place(&record.token_hash))
                    .ok()
            })
            .as_deref()
            .and_then(TotpSecret::from_base32);
        Ok(Some(Session {
            token_hash: record.token_hash,
            csrf: record.csrf,
            stage,
            principal,
            pending_secret,
            created_at: record.created_at,
            expires_at: record.expires_at,
        }))
    }

    /// The live session a cookie's token names: `None` if unknown, past its absolute expiry,
    /// idle too long, or its owner is disabled (an ended session is deleted).
    pub async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let token_hash = sha256_hex(token);
        let Some(record) = self.store().session(&token_hash).await? else {
            return Ok(None);
        };
        let idle = TimeDelta::from_std(self.config().session_idle_timeout)
            .unwrap_or(TimeDelta::minutes(30));
        if record.expires_at <= now || now - record.last_seen_at > idle {
            self.store().delete_session(&token_hash).await?;
            return Ok(None);
        }
        // Note activity at most every minute (or a tenth of the idle timeout, if shorter).
        let touch_every = std::cmp::min(TimeDelta::minutes(1), idle / 10);
        if now - record.last_seen_at >= touch_every {
            self.store().touch_session(&token_hash, now).await?;
        }
        let resolved = self.resolve(record).await?;
        if resolved.is_none() {
            self.store().delete_session(&token_hash).await?;
        }
        Ok(resolved)
    }

    /// In `unit`: the session's next stage under a new token; the old token stops working.
    pub(super) async fn rotate_in(
        &self,
        unit: &mut Unit,
        session: &Session,
        stage: Stage,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<Opening, AuthError> {
        let opening = self
            .open_session_in(
                unit,
                session_owner(&session.principal),
                stage,
                None,
                client,
                now,
                Some((session.created_at, session.expires_at)),
            )
            .await?;
        unit.delete_session(&session.token_hash).await?;
        Ok(opening)
    }

    /// Ends one session.
    pub async fn sign_out(&self, session: &Session, client: &Client) -> Result<(), StoreError> {
        let mut unit = self.store().begin_write().await?;
        unit.delete_session(&session.token_hash).await?;
        unit.audit(&audit_entry(
            &session.actor(client),
            "session.sign-out",
            (
                owner_kind(&session.principal),
                &owner_id(&session.principal),
            ),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await
    }

    /// Ends every session of the session's owner, on every device.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out_everywhere(
        &self,
        session: &Session,
        client: &Client,
    ) -> Result<u64, StoreError> {
        let mut unit = self.store().begin_write().await?;
        let ended = unit
            .delete_sessions_of(&session_owner(&session.principal))
            .await?;
        unit.audit(&audit_entry(
            &session.actor(client),
            "session.sign-out-everywhere",
            (
                owner_kind(&session.principal),
                &owner_id(&session.principal),
            ),
            serde_json::json!({ "sessions": ended }),
        ))
        .await?;
        unit.commit().await?;
        Ok(ended)
    }

    /// How many sessions the owner has open.
    pub async fn open_sessions(&self, principal: &Principal) -> Result<i64, StoreError> {
        self.store()
            .count_sessions_of(&session_owner(principal))
            .await
    }

    /// Deletes ended sessions, attempts older than any limiter's window, and one-time codes a
    /// day past expiry. Returns how many of each went.
    pub async fn sweep_sign_in_data(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64, u64), StoreError> {
        let idle = TimeDelta::from_std(self.config().session_idle_timeout)
            .unwrap_or(TimeDelta::minutes(30));
        let sessions = self.store().delete_stale_sessions(now, now - idle).await?;
        let attempts = self
            .store()
            .prune_attempts(now - TimeDelta::days(1))
            .await?;
        let codes = self
            .store()
            .delete_expired_codes(now - TimeDelta::days(1))
            .await?;
        Ok((sessions, attempts, codes))
    }

    /// The API client an `Authorization: Bearer` token names.
    pub async fn api_principal(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let now = chrono::Utc::now();
        let Some(record) = self
            .store()
            .working_api_token(&sha256_hex(token), now)
            .await?
        else {
            return Ok(None);
        };
        if record
            .last_used_at
            .is_none_or(|at| at < now - TimeDelta::minutes(1))
        {
            self.store().touch_api_token(&record.id, now).await?;
        }
        Ok(self
            .store()
            .user_by_id(&record.user_id)
            .await?
            .filter(|u| {
                !u.disabled
                    && u.grants
                        .iter()
                        .any(|g| g.role() == pishkhan_domain::identity::Role::System)
            })
            .map(Principal::System))
    }
}
