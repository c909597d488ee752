//! Accounts and the roles they hold.

use chrono::{DateTime, Utc};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};

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
    pub grants: Vec<RoleGrant>,
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
}

fn decode(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("stored {what} is not valid").into(),
    ))
}

impl Store {
    /// Creates the account and its grants in one transaction.
    pub async fn create_user(&self, user: &NewUser) -> Result<(), CreateUserError> {
        let result: Result<(), sqlx::Error> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO users (id, username, display_name, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&user.id)
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.at.timestamp_millis())
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
                tx.commit().await
            }
            .await
        });
        match result {
            Ok(()) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CreateUserError::UsernameTaken(user.username.clone()))
            }
            Err(e) => Err(CreateUserError::Store(e.into())),
        }
    }

    /// The account with this username, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, username, display_name, created_at, disabled_at FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let grants: Vec<(String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT role, scope FROM role_grants WHERE user_id = $1 ORDER BY role, scope")
                .bind(&row.id)
                .fetch_all(pool)
                .await?
        });
        let grants = grants
            .into_iter()
            .map(|(role, scope)| {
                let role = Role::from_code(&role).map_err(|_| decode("role"))?;
                let scope = Scope::parse(&scope).map_err(|_| decode("scope"))?;
                RoleGrant::new(role, scope).map_err(|_| decode("grant"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(UserRecord {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            created_at: DateTime::from_timestamp_millis(row.created_at)
                .ok_or_else(|| decode("time"))?,
            disabled: row.disabled_at.is_some(),
            grants,
        }))
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
