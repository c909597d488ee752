//! Drafts of applications (kept between the pages of filing and between visits) and the edited
//! texts of notifications. Each change is written in one transaction with its audit entry.

use chrono::{DateTime, Utc};

use crate::audit::NewAuditEntry;
use crate::{Store, StoreError, on_pool};

/// An application being filled.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DraftRecord {
    pub id: String,
    pub owner: String,
    pub service: String,
    pub national_id: String,
    pub centre: Option<String>,
    pub consent: Option<String>,
    pub email: String,
    /// JSON: form code → field → what was typed.
    pub answers: String,
    /// JSON: the files attached so far.
    pub documents: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An edited notification text.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TemplateRecord {
    pub key: String,
    pub body: String,
    pub updated_by: String,
    pub updated_at: i64,
}

macro_rules! select_drafts {
    ($rest:literal) => {
        concat!(
            "SELECT id, owner, service, national_id, centre, consent, email, answers, documents, \
             created_at, updated_at FROM application_drafts ",
            $rest
        )
    };
}

impl Store {
    /// The draft `owner` keeps for `service` and the person `national_id`.
    pub async fn draft_of(
        &self,
        owner: &str,
        service: &str,
        national_id: &str,
    ) -> Result<Option<DraftRecord>, StoreError> {
        let sql = select_drafts!("WHERE owner = $1 AND service = $2 AND national_id = $3");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(owner)
                .bind(service)
                .bind(national_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn draft(&self, id: &str) -> Result<Option<DraftRecord>, StoreError> {
        let sql = select_drafts!("WHERE id = $1");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Drafts nobody has touched since `before`, at most `limit` of them (oldest first).
    pub async fn stale_drafts(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<DraftRecord>, StoreError> {
        let sql = select_drafts!("WHERE updated_at < $1 ORDER BY updated_at LIMIT $2");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sql).bind(before).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Every draft `owner` keeps, the most recently touched first.
    pub async fn drafts_of(&self, owner: &str) -> Result<Vec<DraftRecord>, StoreError> {
        let sql = select_drafts!("WHERE owner = $1 ORDER BY updated_at DESC LIMIT 100");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sql).bind(owner).fetch_all(pool).await?
        }))
    }

    /// Creates or replaces a draft (keyed by owner, service and person), with its audit entry.
    pub async fn save_draft(
        &self,
        draft: &DraftRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO application_drafts (id, owner, service, national_id, centre, consent, \
                 email, answers, documents, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (owner, service, national_id) DO UPDATE SET \
                 centre = excluded.centre, consent = excluded.consent, email = excluded.email, \
                 answers = excluded.answers, documents = excluded.documents, \
                 updated_at = excluded.updated_at",
            )
            .bind(&draft.id)
            .bind(&draft.owner)
            .bind(&draft.service)
            .bind(&draft.national_id)
            .bind(&draft.centre)
            .bind(&draft.consent)
            .bind(&draft.email)
            .bind(&draft.answers)
            .bind(&draft.documents)
            .bind(draft.created_at)
            .bind(draft.updated_at)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes a draft (filed or abandoned), with its audit entry. False if there was none.
    pub async fn delete_draft(&self, id: &str, audit: &NewAuditEntry) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let gone = sqlx::query("DELETE FROM application_drafts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone == 0 {
                return Ok(false);
            }
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// Every edited notification text.
    pub async fn notification_templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT key, body, updated_by, updated_at FROM notification_templates ORDER BY key",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Saves the edited texts (an empty body returns a key to its built-in text), audited as one
    /// change.
    pub async fn save_notification_templates(
        &self,
        bodies: &[(String, String)],
        by: &str,
        at: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (key, body) in bodies {
                if body.trim().is_empty() {
                    sqlx::query("DELETE FROM notification_templates WHERE key = $1")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO notification_templates (key, body, updated_by, updated_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                         body = excluded.body, updated_by = excluded.updated_by, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(key)
                    .bind(body)
                    .bind(by)
                    .bind(at.timestamp_millis())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
