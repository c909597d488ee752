//! Accounts and the roles they hold.

use chrono::{DateTime, Utc};

use pishkhan_domain::identity::{Role, RoleGrant, Scope};

use crate::audit::NewAuditEntry;
use crate::{Store, StoreError, on_pool};

/// A new account, with its first grants.
#[derive(Clone)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub grants: Vec<RoleGrant>,
    pub at: DateTime<Utc>,
    /// Ask for a new password at the first sign-in (accounts created with a generated one).
    pub must_change_password: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"«redacted»")
            .field("grants", &self.grants)
            .finish()
    }
}

/// An account as stored (without its password hash, which only sign-in reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub has_second_factor: bool,
    pub grants: Vec<RoleGrant>,
}

/// The public id of an API token: the first twelve characters of its hash.
pub fn api_token_id(token_hash: &str) -> String {
    token_hash.chars().take(12).collect()
}

/// An agency system's API token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// Set when rotated: it works until then.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiTokenRecord {
    /// Does it still work at `now`?
    pub fn works_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: String,
    user_id: String,
    label: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl TryFrom<ApiTokenRow> for ApiTokenRecord {
    type Error = StoreError;

    fn try_from(row: ApiTokenRow) -> Result<Self, StoreError> {
        let time = |ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| StoreError::Corrupt(format!("api token time {ms}")))
        };
        let maybe = |ms: Option<i64>| ms.map(time).transpose();
        Ok(ApiTokenRecord {
            created_at: time(row.created_at)?,
            expires_at: maybe(row.expires_at)?,
            revoked_at: maybe(row.revoked_at)?,
            last_used_at: maybe(row.last_used_at)?,
            id: row.id,
            user_id: row.user_id,
            label: row.label,
        })
    }
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    created_at: i64,
    disabled_at: Option<i64>,
    must_change_password: i64,
    has_totp: i64,
}

/// `SELECT` of a [`UserRow`] from `users`, followed by `$tail`.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, display_name, created_at, disabled_at, must_change_password, ",
            "CAST(CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_totp FROM users ",
            $tail
        )
    };
}

fn decode(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("stored {what} is not valid").into(),
    ))
}

impl Store {
    /// Creates the account and its grants, with `audit`, in one transaction.
    pub async fn create_user(
        &self,
        user: &NewUser,
        audit: &NewAuditEntry,
    ) -> Result<(), CreateUserError> {
        let result: Result<(), StoreError> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO users (id, username, display_name, password_hash, created_at, must_change_password) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&user.id)
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.at.timestamp_millis())
                .bind(i64::from(user.must_change_password))
                .execute(&mut *tx)
                .await?;
                for grant in &user.grants {
                    sqlx::query(
                        "INSERT INTO role_grants (user_id, role, scope, granted_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&user.id)
                    .bind(grant.role().code())
                    .bind(grant.scope().to_string())
                    .bind(user.at.timestamp_millis())
                    .execute(&mut *tx)
                    .await?;
                }
                crate::audit::append_on(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
            .await
        });
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(CreateUserError::UsernameTaken(user.username.clone()))
            }
            Err(e) => Err(CreateUserError::Store(e)),
        }
    }

    /// The account with this username, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(select_users!("WHERE username = $1"))
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(self.with_grants(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The account with this id, if any.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(select_users!("WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(self.with_grants(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Every staff account with its grants, by username. (A province has thousands at most; the
    /// app filters them by the viewer's scope.)
    pub async fn all_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(select_users!("ORDER BY username"))
                .fetch_all(pool)
                .await?
        });
        self.with_grants(rows).await
    }

    async fn with_grants(&self, rows: Vec<UserRow>) -> Result<Vec<UserRecord>, StoreError> {
        let all: Vec<(String, String, String)> = if rows.len() == 1 {
            on_pool!(self, pool => {
                sqlx::query_as("SELECT user_id, role, scope FROM role_grants WHERE user_id = $1 ORDER BY role, scope")
                    .bind(&rows[0].id)
                    .fetch_all(pool)
                    .await?
            })
        } else {
            on_pool!(self, pool => {
                sqlx::query_as("SELECT user_id, role, scope FROM role_grants ORDER BY role, scope")
                    .fetch_all(pool)
                    .await?
            })
        };
        let mut grants: std::collections::HashMap<String, Vec<RoleGrant>> = Default::default();
        for (user_id, role, scope) in all {
            let role = Role::from_code(&role).map_err(|_| decode("role"))?;
            let scope = Scope::parse(&scope).map_err(|_| decode("scope"))?;
            let grant = RoleGrant::new(role, scope).map_err(|_| decode("grant"))?;
            grants.entry(user_id).or_default().push(grant);
        }
        rows.into_iter()
            .map(|row| {
                Ok(UserRecord {
                    grants: grants.remove(&row.id).unwrap_or_default(),
                    created_at: DateTime::from_timestamp_millis(row.created_at)
                        .ok_or_else(|| decode("time"))?,
                    id: row.id,
                    username: row.username,
                    display_name: row.display_name,
                    disabled: row.disabled_at.is_some(),
                    must_change_password: row.must_change_password != 0,
                    has_second_factor: row.has_totp != 0,
                })
            })
            .collect()
    }

    /// Every stored TOTP secret, as stored (sealed), by user id.
    pub async fn totp_secrets(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// The TOTP secret and the last step used.
    pub async fn totp_state(
        &self,
        user_id: &str,
    ) -> Result<Option<(String, Option<i64>)>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(secret, step)| secret.map(|s| (s, step))))
    }

    /// Records `step` as used, only if it is later than the last one: of two requests racing with
    /// the same code, one wins.
    pub async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let mut unit = self.begin_write().await?;
        let claimed = unit.claim_totp_step(user_id, step).await?;
        unit.commit().await?;
        Ok(claimed)
    }

    /// The API token with this hash, if it still works at `now` (not revoked, not expired).
    pub async fn working_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiTokenRecord>, StoreError> {
        let row: Option<ApiTokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_id, label, created_at, expires_at, revoked_at, last_used_at \
                 FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $2)",
            )
            .bind(token_hash)
            .bind(now.timestamp_millis())
            .fetch_optional(pool)
            .await?
        });
        row.map(ApiTokenRecord::try_from).transpose()
    }

    /// One API token by its public id.
    pub async fn api_token(&self, id: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
        let row: Option<ApiTokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_id, label, created_at, expires_at, revoked_at, last_used_at \
                 FROM api_tokens WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ApiTokenRecord::try_from).transpose()
    }

    /// A user's API tokens, newest first.
    pub async fn api_tokens_of(&self, user_id: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        let rows: Vec<ApiTokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_id, label, created_at, expires_at, revoked_at, last_used_at \
                 FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ApiTokenRecord::try_from).collect()
    }

    /// Notes that a token was used at `at`, at most once a minute (a busy system's every call
    /// would otherwise be a write).
    pub async fn touch_api_token(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let at = at.timestamp_millis();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 \
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(at)
            .bind(id)
            .bind(at - 60_000)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The staff account a known browser (by its cookie's hash) signed in to before.
    pub async fn known_device_user(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT user_id FROM known_devices WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id,)| id))
    }

    /// The stored password hash, for sign-in only.
    pub async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(hash,)| hash))
    }
}
