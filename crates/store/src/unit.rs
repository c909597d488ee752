//! A write the app composes of several changes, and the audit entries that record them: they
//! commit together, or none of them does. Every audited change outside applications (which the
//! group-commit writer stores whole) goes through one.
//!
//! A [`Unit`] is one transaction (on SQLite `BEGIN IMMEDIATE`, so it waits for the write lock at
//! once rather than failing on upgrade); each method is one statement, written once for both
//! backends over [`Connection`]. Dropping a unit without [`Unit::commit`] rolls it back.

use chrono::{DateTime, Utc};

use crate::audit::NewAuditEntry;
use crate::citizens::ConsentRecord;
use crate::script::Arg;
use crate::sessions::{SessionOwner, SessionRecord};
use crate::statements::Connection;
use crate::{Pool, Store, StoreError};

/// One write transaction.
pub struct Unit {
    tx: Tx,
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unit")
    }
}

impl Store {
    /// Begins a write: what is done through the [`Unit`], audit entries included, is stored
    /// when it commits, and not at all otherwise.
    pub async fn begin_write(&self) -> Result<Unit, StoreError> {
        let tx = match &self.pool {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        Ok(Unit { tx })
    }
}

impl Unit {
    fn conn(&mut self) -> &mut dyn Connection {
        match &mut self.tx {
            Tx::Sqlite(tx) => &mut **tx,
            Tx::Postgres(tx) => &mut **tx,
        }
    }

    /// Appends `entry` to the audit chain, with the changes of this unit.
    pub async fn audit(&mut self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        crate::audit::append_on(self.conn(), entry).await
    }

    /// Stores everything done through the unit.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    async fn run(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(self.conn().execute(sql, args).await?)
    }

    /// One statement, for the store's other modules.
    pub(crate) async fn run_statement(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<u64, StoreError> {
        self.run(sql, args).await
    }

    /// Replaces the password hash; `must_change` makes the next sign-in ask for a new one.
    pub async fn set_password_hash(
        &mut self,
        user_id: &str,
        hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3",
                vec![
                    Arg::from(hash),
                    Arg::Int(i64::from(must_change)),
                    Arg::from(user_id),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Disables (with the time) or enables an account.
    pub async fn set_disabled(
        &mut self,
        user_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE users SET disabled_at = $1 WHERE id = $2",
                vec![
                    Arg::MaybeInt(at.map(|t| t.timestamp_millis())),
                    Arg::from(user_id),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Sets (or, with `None`, removes) the TOTP secret, forgetting the last step used.
    pub async fn set_totp_secret(
        &mut self,
        user_id: &str,
        secret: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE id = $2",
                vec![Arg::from(secret), Arg::from(user_id)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Records `step` as used, only if it is later than the last one.
    pub async fn claim_totp_step(&mut self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE users SET totp_last_step = $1 \
                 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                vec![Arg::Int(step), Arg::from(user_id)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Stores an API token's hash for a user.
    pub async fn insert_api_token(
        &mut self,
        token_hash: &str,
        user_id: &str,
        label: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO api_tokens (token_hash, id, user_id, label, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::from(token_hash),
                Arg::from(&crate::users::api_token_id(token_hash)),
                Arg::from(user_id),
                Arg::from(label),
                Arg::Int(at.timestamp_millis()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Puts a dead-lettered outbox message back to be tried again at `at`, its attempts counted
    /// from zero; `false` if it is not dead-lettered.
    pub async fn replay_outbox(&mut self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE outbox SET dead_at = NULL, attempts = 0, next_at = $1, claimed_until = NULL \
                 WHERE id = $2 AND dead_at IS NOT NULL",
                vec![Arg::Int(at.timestamp_millis()), Arg::Int(id)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Registers `agency`'s webhook, or changes where it points (its secret and cursor kept).
    /// A new webhook starts at `start`: events before it are not sent.
    pub async fn put_webhook(
        &mut self,
        agency: &str,
        url: &str,
        sealed_secret: &str,
        start: crate::FeedCursor,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO webhooks (agency, url, secret, cursor_tx, cursor_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (agency) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
            vec![
                Arg::from(agency),
                Arg::from(url),
                Arg::from(sealed_secret),
                Arg::Int(start.tx),
                Arg::Int(start.id),
                Arg::Int(at.timestamp_millis()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Gives `agency`'s webhook a new secret; the old one keeps signing until `previous_until`.
    /// `false` if the agency has no webhook.
    pub async fn rotate_webhook_secret(
        &mut self,
        agency: &str,
        sealed_secret: &str,
        previous_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE webhooks SET previous_secret = secret, previous_until = $1, secret = $2, \
                 updated_at = $3 WHERE agency = $4",
                vec![
                    Arg::Int(previous_until.timestamp_millis()),
                    Arg::from(sealed_secret),
                    Arg::Int(at.timestamp_millis()),
                    Arg::from(agency),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Replaces a webhook secret sealed as `old` by the same secret sealed anew (the previous
    /// one with `previous`); `false` if it changed meanwhile.
    pub async fn reseal_webhook_secret(
        &mut self,
        agency: &str,
        previous: bool,
        old: &str,
        sealed: &str,
    ) -> Result<bool, StoreError> {
        let sql = if previous {
            "UPDATE webhooks SET previous_secret = $1 WHERE agency = $2 AND previous_secret = $3"
        } else {
            "UPDATE webhooks SET secret = $1 WHERE agency = $2 AND secret = $3"
        };
        let done = self
            .run(
                sql,
                vec![Arg::from(sealed), Arg::from(agency), Arg::from(old)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Stops sending `agency`'s events; deliveries already queued are dropped. `false` if it
    /// had no webhook.
    pub async fn remove_webhook(&mut self, agency: &str) -> Result<bool, StoreError> {
        let done = self
            .run(
                "DELETE FROM webhooks WHERE agency = $1",
                vec![Arg::from(agency)],
            )
            .await?;
        self.run(
            "DELETE FROM outbox WHERE topic = 'webhook.deliver' AND subject = $1 AND done_at IS NULL",
            vec![Arg::from(agency)],
        )
        .await?;
        Ok(done == 1)
    }

    /// Stops a token of `user_id` at once; `false` if there is no such token still working.
    pub async fn revoke_api_token(
        &mut self,
        id: &str,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $1)",
                vec![
                    Arg::Int(at.timestamp_millis()),
                    Arg::from(id),
                    Arg::from(user_id),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Lets a token of `user_id` work until `until` (no later than it already would); `false` if
    /// there is no such token still working at `now`.
    pub async fn expire_api_token(
        &mut self,
        id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                "UPDATE api_tokens SET expires_at = $1 \
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $4)",
                vec![
                    Arg::Int(until.timestamp_millis()),
                    Arg::from(id),
                    Arg::from(user_id),
                    Arg::Int(now.timestamp_millis()),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Replaces a stored TOTP secret by the same secret sealed anew, if it is still `old` (the
    /// last step used is kept: sealing again changes nothing a code can tell).
    pub async fn reseal_totp_secret(
        &mut self,
        user_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3",
                vec![Arg::from(new), Arg::from(user_id), Arg::from(old)],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Remembers a browser that signed in to `user_id` (its cookie's hash).
    pub async fn insert_known_device(
        &mut self,
        token_hash: &str,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO known_devices (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
            vec![
                Arg::from(token_hash),
                Arg::from(user_id),
                Arg::Int(at.timestamp_millis()),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        let (user_id, citizen_id) = match &session.owner {
            SessionOwner::User(id) => (Some(id.as_str()), None),
            SessionOwner::Citizen(id) => (None, Some(id.as_str())),
        };
        self.run(
            "INSERT INTO sessions (token_hash, user_id, citizen_id, stage, csrf, created_at, \
             last_seen_at, expires_at, ip, user_agent, pending_secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                Arg::from(&session.token_hash),
                Arg::from(user_id),
                Arg::from(citizen_id),
                Arg::from(&session.stage),
                Arg::from(&session.csrf),
                Arg::Int(session.created_at.timestamp_millis()),
                Arg::Int(session.last_seen_at.timestamp_millis()),
                Arg::Int(session.expires_at.timestamp_millis()),
                Arg::from(&session.ip),
                Arg::from(&session.user_agent),
                Arg::from(&session.pending_secret),
            ],
        )
        .await?;
        Ok(())
    }

    /// Moves a session to another sign-in stage (and sets or clears a pending TOTP secret).
    pub async fn set_session_stage(
        &mut self,
        token_hash: &str,
        stage: &str,
        pending_secret: Option<&str>,
    ) -> Result<(), StoreError> {
        self.run(
            "UPDATE sessions SET stage = $1, pending_secret = $2 WHERE token_hash = $3",
            vec![
                Arg::from(stage),
                Arg::from(pending_secret),
                Arg::from(token_hash),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.run(
            "DELETE FROM sessions WHERE token_hash = $1",
            vec![Arg::from(token_hash)],
        )
        .await?;
        Ok(())
    }

    /// Ends every session of one owner.
    pub async fn delete_sessions_of(&mut self, owner: &SessionOwner) -> Result<u64, StoreError> {
        match owner {
            SessionOwner::User(id) => {
                self.run(
                    "DELETE FROM sessions WHERE user_id = $1",
                    vec![Arg::from(id)],
                )
                .await
            }
            SessionOwner::Citizen(id) => {
                self.run(
                    "DELETE FROM sessions WHERE citizen_id = $1",
                    vec![Arg::from(id)],
                )
                .await
            }
        }
    }

    pub async fn insert_consent(&mut self, consent: &ConsentRecord) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO consents (id, citizen_id, operator_id, centre, purpose, granted_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Arg::from(&consent.id),
                Arg::from(&consent.citizen_id),
                Arg::from(&consent.operator_id),
                Arg::from(&consent.centre),
                Arg::from(&consent.purpose),
                Arg::Int(consent.granted_at.timestamp_millis()),
                Arg::Int(consent.expires_at.timestamp_millis()),
            ],
        )
        .await?;
        Ok(())
    }
}
