//! Issued outputs and the keys that sign them. An output row is written in the same transaction
//! as the step that issues it, and never changed after, except to mark it revoked or handed over.

use chrono::{DateTime, Utc};

use crate::applications::batched;
use crate::audit::NewAuditEntry;
use crate::script::Arg;
use crate::statements::Connection;
use crate::{NewOutboxMessage, Pool, Store, StoreError, WriteError, on_pool};

/// A signing key's public half, as published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRecord {
    pub id: String,
    /// base64url, 32 bytes.
    pub public_key: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// An output to write with the step that issues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutput {
    pub number: String,
    pub code: String,
    pub application: String,
    pub service: String,
    pub service_version: i64,
    pub agency: String,
    pub title: String,
    pub holder_name: String,
    pub national_id: String,
    pub issued_at: i64,
    /// ISO date (Gregorian) of the last day it holds.
    pub valid_until: Option<String>,
    pub key_id: String,
    pub payload: String,
    pub pdf_key: String,
    pub pdf_sha256: String,
    /// What the output printed, JSON `[[label, value], ...]`.
    pub fields: Option<String>,
    /// The system account that supplied the PDF, when the agency's own system issued it.
    pub supplied_by: Option<String>,
}

/// An output as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutputRecord {
    pub number: String,
    pub code: String,
    pub application: String,
    pub service: String,
    pub service_version: i64,
    pub agency: String,
    pub title: String,
    pub holder_name: String,
    pub national_id: String,
    pub issued_at: i64,
    pub valid_until: Option<String>,
    pub key_id: String,
    pub payload: String,
    pub pdf_key: String,
    pub pdf_sha256: String,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    pub revoked_by: Option<String>,
    pub handed_over_at: Option<i64>,
    pub handed_over_by: Option<String>,
    pub fields: Option<String>,
    pub supplied_by: Option<String>,
    /// Its entry in the revocation status list (list = index / 131072).
    pub status_index: i64,
}

const COLUMNS: &str = "number, code, application, service, service_version, agency, title, \
    holder_name, national_id, issued_at, valid_until, key_id, payload, pdf_key, pdf_sha256, \
    revoked_at, revoked_reason, revoked_by, handed_over_at, handed_over_by, fields, supplied_by, \
    status_index";

/// Writes `output` as part of a step's transaction.
pub(crate) async fn insert_output_on(
    conn: &mut (impl Connection + ?Sized),
    o: &NewOutput,
) -> Result<(), WriteError> {
    conn.execute(
        "INSERT INTO outputs (number, code, application, service, service_version, agency, \
         title, holder_name, national_id, issued_at, valid_until, key_id, payload, pdf_key, \
         pdf_sha256, fields, supplied_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        vec![
            Arg::from(&o.number),
            Arg::from(&o.code),
            Arg::from(&o.application),
            Arg::from(&o.service),
            Arg::Int(o.service_version),
            Arg::from(&o.agency),
            Arg::from(&o.title),
            Arg::from(&o.holder_name),
            Arg::from(&o.national_id),
            Arg::Int(o.issued_at),
            Arg::from(&o.valid_until),
            Arg::from(&o.key_id),
            Arg::from(&o.payload),
            Arg::from(&o.pdf_key),
            Arg::from(&o.pdf_sha256),
            Arg::from(&o.fields),
            Arg::from(&o.supplied_by),
        ],
    )
    .await?;
    Ok(())
}

async fn revoke_on(
    conn: &mut (impl Connection + ?Sized),
    number: &str,
    reason: &str,
    by: &str,
    at: i64,
    outbox: &[NewOutboxMessage],
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let moved = conn
        .execute(
            "UPDATE outputs SET revoked_at = $1, revoked_reason = $2, revoked_by = $3 \
             WHERE number = $4 AND revoked_at IS NULL",
            vec![
                Arg::Int(at),
                Arg::from(reason),
                Arg::from(by),
                Arg::from(number),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    crate::applications::insert_outbox_on(conn, outbox, at).await?;
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

async fn hand_over_on(
    conn: &mut (impl Connection + ?Sized),
    number: &str,
    by: &str,
    at: i64,
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let moved = conn
        .execute(
            "UPDATE outputs SET handed_over_at = $1, handed_over_by = $2 \
             WHERE number = $3 AND handed_over_at IS NULL AND revoked_at IS NULL",
            vec![Arg::Int(at), Arg::from(by), Arg::from(number)],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

async fn revoke_key_on(
    conn: &mut (impl Connection + ?Sized),
    id: &str,
    reason: &str,
    at: i64,
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let moved = conn
        .execute(
            "UPDATE signing_keys SET revoked_at = $1, revoked_reason = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
            vec![Arg::Int(at), Arg::from(reason), Arg::from(id)],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

impl Store {
    /// Publishes a signing key's public half (once; a key already known is left as it is).
    pub async fn register_signing_key(
        &self,
        id: &str,
        public_key: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO signing_keys (id, public_key, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(public_key)
            .bind(at.timestamp_millis())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// Every key ever used to sign, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, SigningKeyRecord>(
                "SELECT id, public_key, created_at, revoked_at, revoked_reason FROM signing_keys \
                 ORDER BY created_at, id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Revokes a signing key (what it signed shows revoked from now on), audited.
    pub async fn revoke_signing_key(
        &self,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> Result<(), WriteError> {
        let (id, reason, audit) = (id.to_owned(), reason.to_owned(), audit.clone());
        let at = at.timestamp_millis();
        batched!(self, conn => revoke_key_on(conn, &id, &reason, at, &audit).await)
    }

    async fn output_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<OutputRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outputs WHERE {column} = $1");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, OutputRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(value)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The output with this verification code.
    pub async fn output_by_code(&self, code: &str) -> Result<Option<OutputRecord>, StoreError> {
        self.output_where("code", code).await
    }

    /// The output with this number.
    pub async fn output_by_number(&self, number: &str) -> Result<Option<OutputRecord>, StoreError> {
        self.output_where("number", number).await
    }

    /// The outputs issued for an application, oldest first (a revoked one, then its re-issue).
    pub async fn outputs_of_application(
        &self,
        application: &str,
    ) -> Result<Vec<OutputRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outputs WHERE application = $1 ORDER BY issued_at, number"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, OutputRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(application)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The status-list entries in `[from, to)` that say revoked: outputs revoked, and outputs
    /// whose signing key was revoked.
    pub async fn revoked_status_entries(&self, from: i64, to: i64) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "SELECT o.status_index FROM outputs o JOIN signing_keys k ON k.id = o.key_id \
                 WHERE o.status_index >= $1 AND o.status_index < $2 \
                 AND (o.revoked_at IS NOT NULL OR k.revoked_at IS NOT NULL) \
                 ORDER BY o.status_index",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The highest status-list entry given so far (`None` before the first output).
    pub async fn last_status_index(&self) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(status_index) FROM outputs")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Marks an output revoked, with the reason, the holder's notice and the audit entry; or
    /// `Stale` if it was revoked already.
    #[allow(clippy::too_many_arguments)]
    pub async fn revoke_output(
        &self,
        number: &str,
        reason: &str,
        by: &str,
        at: DateTime<Utc>,
        outbox: Vec<NewOutboxMessage>,
        audit: &NewAuditEntry,
    ) -> Result<(), WriteError> {
        let (number, reason, by, audit) = (
            number.to_owned(),
            reason.to_owned(),
            by.to_owned(),
            audit.clone(),
        );
        let at = at.timestamp_millis();
        batched!(self, conn => revoke_on(conn, &number, &reason, &by, at, &outbox, &audit).await)
    }

    /// Records that a centre handed the output to its holder; `Stale` if it was already handed
    /// over or is revoked.
    pub async fn hand_over_output(
        &self,
        number: &str,
        by: &str,
        at: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> Result<(), WriteError> {
        let (number, by, audit) = (number.to_owned(), by.to_owned(), audit.clone());
        let at = at.timestamp_millis();
        batched!(self, conn => hand_over_on(conn, &number, &by, at, &audit).await)
    }
}
