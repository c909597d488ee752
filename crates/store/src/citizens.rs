//! Citizens, the one-time codes sent to their mobiles, and their consents for assisted filing.

use chrono::{DateTime, Utc};

use crate::audit::NewAuditEntry;
use crate::{Store, StoreError, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRecord {
    pub id: String,
    pub national_id: String,
    /// E.164.
    pub mobile: String,
    pub created_at: DateTime<Utc>,
}

/// A one-time code, as stored (its hash only).
#[derive(Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub id: String,
    /// `sign-in` or `consent`.
    pub purpose: String,
    pub mobile: String,
    pub national_id: String,
    pub code_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attempts: i64,
    pub used_at: Option<DateTime<Utc>>,
    /// For consent codes: the operator who asked, and their centre.
    pub requested_by: Option<String>,
    pub centre: Option<String>,
    /// For consent codes: what the operator will file.
    pub note: String,
}

impl std::fmt::Debug for CodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRecord")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// A consent, with the names a citizen reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub id: String,
    pub citizen_id: String,
    pub operator_id: String,
    pub operator_name: String,
    pub centre: String,
    pub centre_name: String,
    pub purpose: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Database(sqlx::Error::Decode("stored time is not valid".into())))
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: String,
    purpose: String,
    mobile: String,
    national_id: String,
    code_hash: String,
    created_at: i64,
    expires_at: i64,
    attempts: i64,
    used_at: Option<i64>,
    requested_by: Option<String>,
    centre: Option<String>,
    note: String,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: String,
    citizen_id: String,
    operator_id: String,
    operator_name: String,
    centre: String,
    centre_name: String,
    purpose: String,
    granted_at: i64,
    expires_at: i64,
}

impl TryFrom<ConsentRow> for ConsentRecord {
    type Error = StoreError;

    fn try_from(row: ConsentRow) -> Result<ConsentRecord, StoreError> {
        Ok(ConsentRecord {
            id: row.id,
            citizen_id: row.citizen_id,
            operator_id: row.operator_id,
            operator_name: row.operator_name,
            centre: row.centre,
            centre_name: row.centre_name,
            purpose: row.purpose,
            granted_at: time(row.granted_at)?,
            expires_at: time(row.expires_at)?,
        })
    }
}

/// A consent with the citizen's national ID.
#[derive(sqlx::FromRow)]
struct OpenConsentRow {
    #[sqlx(flatten)]
    consent: ConsentRow,
    national_id: String,
}

impl Store {
    pub async fn citizen_by_national_id(
        &self,
        national_id: &str,
    ) -> Result<Option<CitizenRecord>, StoreError> {
        let row: Option<(String, String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, national_id, mobile, created_at FROM citizens WHERE national_id = $1")
                .bind(national_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(|(id, national_id, mobile, at)| {
            Ok(CitizenRecord {
                id,
                national_id,
                mobile,
                created_at: time(at)?,
            })
        })
        .transpose()
    }

    pub async fn citizen_by_id(&self, id: &str) -> Result<Option<CitizenRecord>, StoreError> {
        let row: Option<(String, String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, national_id, mobile, created_at FROM citizens WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(|(id, national_id, mobile, at)| {
            Ok(CitizenRecord {
                id,
                national_id,
                mobile,
                created_at: time(at)?,
            })
        })
        .transpose()
    }

    /// Registers a citizen unless one with that national ID exists; returns the stored one
    /// (which, if it existed, may carry another mobile: the caller decides).
    pub async fn ensure_citizen(&self, new: &CitizenRecord) -> Result<CitizenRecord, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO citizens (id, national_id, mobile, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (national_id) DO NOTHING",
            )
            .bind(&new.id)
            .bind(&new.national_id)
            .bind(&new.mobile)
            .bind(new.created_at.timestamp_millis())
            .execute(pool)
            .await?;
        });
        self.citizen_by_national_id(&new.national_id)
            .await?
            .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// Binds a citizen to a new mobile (the registry confirmed the line is theirs): every
    /// session of theirs ends, and `audit` records the change, all in one transaction.
    pub async fn rebind_citizen_mobile(
        &self,
        citizen_id: &str,
        mobile: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE citizens SET mobile = $1 WHERE id = $2")
                .bind(mobile)
                .bind(citizen_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE citizen_id = $1")
                .bind(citizen_id)
                .execute(&mut *tx)
                .await?;
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO one_time_codes (id, purpose, mobile, national_id, code_hash, created_at, \
                 expires_at, attempts, used_at, requested_by, centre, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL, $8, $9, $10)",
            )
            .bind(&code.id)
            .bind(&code.purpose)
            .bind(&code.mobile)
            .bind(&code.national_id)
            .bind(&code.code_hash)
            .bind(code.created_at.timestamp_millis())
            .bind(code.expires_at.timestamp_millis())
            .bind(&code.requested_by)
            .bind(&code.centre)
            .bind(&code.note)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Counts one try at a code and returns the code as it now stands.
    pub async fn try_code(&self, id: &str) -> Result<Option<CodeRecord>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        let row: Option<CodeRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, purpose, mobile, national_id, code_hash, created_at, expires_at, attempts, \
                 used_at, requested_by, centre, note FROM one_time_codes WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|row| {
            Ok(CodeRecord {
                id: row.id,
                purpose: row.purpose,
                mobile: row.mobile,
                national_id: row.national_id,
                code_hash: row.code_hash,
                created_at: time(row.created_at)?,
                expires_at: time(row.expires_at)?,
                attempts: row.attempts,
                used_at: row.used_at.map(time).transpose()?,
                requested_by: row.requested_by,
                centre: row.centre,
                note: row.note,
            })
        })
        .transpose()
    }

    /// Marks a code used; `false` if it already was (two requests racing: one wins).
    pub async fn use_code(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(at.timestamp_millis())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Deletes one-time codes that expired before `before`.
    pub async fn delete_expired_codes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM one_time_codes WHERE expires_at < $1")
                .bind(before.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }

    pub async fn insert_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError> {
        let mut unit = self.begin_write().await?;
        unit.insert_consent(consent).await?;
        unit.commit().await
    }

    /// Every consent a citizen gave, newest first, with operator and centre names.
    pub async fn consents_of_citizen(
        &self,
        citizen_id: &str,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let rows: Vec<ConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT c.id, c.citizen_id, c.operator_id, u.display_name AS operator_name, c.centre, ce.name_fa AS centre_name, \
                 c.purpose, c.granted_at, c.expires_at \
                 FROM consents c JOIN users u ON u.id = c.operator_id JOIN centres ce ON ce.code = c.centre \
                 WHERE c.citizen_id = $1 ORDER BY c.granted_at DESC",
            )
            .bind(citizen_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ConsentRecord::try_from).collect()
    }

    /// Consents still open at `now` given at one centre, newest first, each with the citizen's
    /// national ID: what the counter offers to resume.
    pub async fn open_consents_at(
        &self,
        centre: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConsentRecord, String)>, StoreError> {
        let rows: Vec<OpenConsentRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT c.id, c.citizen_id, c.operator_id, u.display_name AS operator_name, c.centre, \
                 ce.name_fa AS centre_name, c.purpose, c.granted_at, c.expires_at, z.national_id \
                 FROM consents c JOIN users u ON u.id = c.operator_id \
                 JOIN centres ce ON ce.code = c.centre JOIN citizens z ON z.id = c.citizen_id \
                 WHERE c.centre = $1 AND c.expires_at > $2 ORDER BY c.granted_at DESC LIMIT 50",
            )
            .bind(centre)
            .bind(now.timestamp_millis())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| Ok((ConsentRecord::try_from(row.consent)?, row.national_id)))
            .collect()
    }
}
