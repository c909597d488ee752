//! Inquiry services agencies register, and the log of calls to them: each call an entry in the
//! audit chain, appended through the group-commit writer (so many calls share one flush), found
//! again by the application or consent it named.

use chrono::{DateTime, Utc};
use pishkhan_domain::audit::StoredEntry;

use crate::audit::NewAuditEntry;
use crate::script::Arg;
use crate::writer::Scripted;
use crate::{Pool, Store, StoreError, WriteError, on_pool};

/// An inquiry service as stored: its definition is JSON the app checked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InquiryServiceRecord {
    pub code: String,
    pub agency: String,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Store {
    pub async fn inquiry_service(
        &self,
        code: &str,
    ) -> Result<Option<InquiryServiceRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, InquiryServiceRecord>(
                "SELECT code, agency, definition, created_at, updated_at FROM inquiry_services WHERE code = $1",
            )
            .bind(code)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Every inquiry service (of `agency`, when given), by code.
    pub async fn inquiry_services(
        &self,
        agency: Option<&str>,
    ) -> Result<Vec<InquiryServiceRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, InquiryServiceRecord>(
                "SELECT code, agency, definition, created_at, updated_at FROM inquiry_services \
                 WHERE ($1 IS NULL OR agency = $1) ORDER BY code",
            )
            .bind(agency)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Appends `entry` to the audit chain through the group-commit writer: durable when this
    /// returns, its flush shared with the writes batched beside it.
    pub async fn append_audit_batched(&self, entry: NewAuditEntry) -> Result<(), WriteError> {
        let write: Scripted =
            Box::new(move |script, head| crate::audit::chain_into(script, &entry, head));
        match &self.pool {
            Pool::Sqlite(_) => self.writer()?.write_script(write).await,
            Pool::Postgres(_) => self.pg_writer()?.write_script(write).await,
        }
    }

    /// The audit entries with `action` about one target, oldest first.
    pub async fn audit_entries_about(
        &self,
        action: &str,
        target_kind: &str,
        target_id: &str,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows: Vec<crate::audit::EntryRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT seq, at_ms, actor, action, target_kind, target_id, source, details, \
                 prev_hash, hash FROM audit_log \
                 WHERE target_kind = $1 AND target_id = $2 AND action = $3 ORDER BY seq",
            )
            .bind(target_kind)
            .bind(target_id)
            .bind(action)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(crate::audit::EntryRow::into_stored)
            .collect())
    }
}

impl crate::Unit {
    /// Registers an inquiry service, or replaces its definition (same code, same agency).
    /// `false` if the code belongs to another agency.
    pub async fn put_inquiry_service(
        &mut self,
        code: &str,
        agency: &str,
        definition: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = self
            .run_statement(
                "INSERT INTO inquiry_services (code, agency, definition, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (code) DO UPDATE SET \
                 definition = excluded.definition, updated_at = excluded.updated_at \
                 WHERE inquiry_services.agency = excluded.agency",
                vec![
                    Arg::from(code),
                    Arg::from(agency),
                    Arg::from(definition),
                    Arg::Int(at.timestamp_millis()),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Removes an inquiry service; `false` if there was none of that agency.
    pub async fn remove_inquiry_service(
        &mut self,
        code: &str,
        agency: &str,
    ) -> Result<bool, StoreError> {
        let done = self
            .run_statement(
                "DELETE FROM inquiry_services WHERE code = $1 AND agency = $2",
                vec![Arg::from(code), Arg::from(agency)],
            )
            .await?;
        Ok(done == 1)
    }
}
