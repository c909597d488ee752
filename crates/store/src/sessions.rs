//! Sessions, stored so that any node can serve any request.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, on_pool};

/// Whose session it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOwner {
    User(String),
    Citizen(String),
}

/// A session as stored. The cookie carries a token; only its hash is here.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub owner: SessionOwner,
    pub stage: String,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
    /// A TOTP secret being enrolled, shown to its owner until confirmed.
    pub pending_secret: Option<String>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("owner", &self.owner)
            .field("stage", &self.stage)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: Option<String>,
    citizen_id: Option<String>,
    stage: String,
    csrf: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: String,
    user_agent: String,
    pending_secret: Option<String>,
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Database(sqlx::Error::Decode("stored time is not valid".into())))
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        let owner = match (row.user_id, row.citizen_id) {
            (Some(id), None) => SessionOwner::User(id),
            (None, Some(id)) => SessionOwner::Citizen(id),
            _ => {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    "a session has no single owner".into(),
                )));
            }
        };
        Ok(SessionRecord {
            token_hash: row.token_hash,
            owner,
            stage: row.stage,
            csrf: row.csrf,
            created_at: time(row.created_at)?,
            last_seen_at: time(row.last_seen_at)?,
            expires_at: time(row.expires_at)?,
            ip: row.ip,
            user_agent: row.user_agent,
            pending_secret: row.pending_secret,
        })
    }
}

impl Store {
    pub async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut unit = self.begin_write().await?;
        unit.insert_session(session).await?;
        unit.commit().await
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT token_hash, user_id, citizen_id, stage, csrf, created_at, last_seen_at, \
                 expires_at, ip, user_agent, pending_secret FROM sessions WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(SessionRecord::try_from).transpose()
    }

    /// Notes activity, for the idle timeout.
    pub async fn touch_session(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(at.timestamp_millis())
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Moves a session to another sign-in stage (and sets or clears a pending TOTP secret).
    pub async fn set_session_stage(
        &self,
        token_hash: &str,
        stage: &str,
        pending_secret: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut unit = self.begin_write().await?;
        unit.set_session_stage(token_hash, stage, pending_secret)
            .await?;
        unit.commit().await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut unit = self.begin_write().await?;
        unit.delete_session(token_hash).await?;
        unit.commit().await
    }

    /// Ends every session of one owner.
    pub async fn delete_sessions_of(&self, owner: &SessionOwner) -> Result<u64, StoreError> {
        let mut unit = self.begin_write().await?;
        let deleted = unit.delete_sessions_of(owner).await?;
        unit.commit().await?;
        Ok(deleted)
    }

    /// How many live sessions an owner has (shown on their account page).
    pub async fn count_sessions_of(&self, owner: &SessionOwner) -> Result<i64, StoreError> {
        let (count,): (i64,) = match owner {
            SessionOwner::User(id) => on_pool!(self, pool => {
                sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?
            }),
            SessionOwner::Citizen(id) => on_pool!(self, pool => {
                sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE citizen_id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?
            }),
        };
        Ok(count)
    }

    /// Removes sessions past their absolute expiry or idle since `idle_before`.
    pub async fn delete_stale_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                .bind(now.timestamp_millis())
                .bind(idle_before.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }
}
