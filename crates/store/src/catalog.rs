//! The catalogue's versioned documents: service cards and forms. Every save is a new version;
//! the row in `services`/`forms` says which is latest, its state, and which one the public sees.

use chrono::{DateTime, Utc};

use crate::audit::NewAuditEntry;
use crate::script::Arg;
use crate::statements::Connection;
use crate::{Store, StoreError, on_pool};

/// Which kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Service,
    Form,
}

/// SQL for each kind (the two table sets have the same shape).
macro_rules! sql {
    ($kind:expr, $service:literal, $form:literal) => {
        match $kind {
            DocKind::Service => $service,
            DocKind::Form => $form,
        }
    };
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub kind: DocKind,
    pub code: String,
    pub agency: String,
    /// The document as JSON.
    pub body: String,
    pub title_fa: String,
    /// Services only: the category's code.
    pub category: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocState {
    pub code: String,
    pub agency: String,
    pub latest_version: i64,
    pub status: String,
    pub published_version: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub code: String,
    pub version: i64,
    pub body: String,
    pub title_fa: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub version: i64,
    pub event: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// Why, when the actor said (a card sent back to its editor).
    pub note: String,
}

/// Why a version was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveVersionError {
    #[error("`{code}` belongs to agency `{agency}`")]
    OtherAgency { code: String, agency: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Filters for the published catalogue.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub province: Option<String>,
    pub agency: Option<String>,
    pub category: Option<String>,
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Database(sqlx::Error::Decode("stored time is not valid".into())))
}

type StateRow = (String, String, i64, String, Option<i64>, i64);
type VersionRow = (String, i64, String, String, String, i64);

fn state(row: StateRow) -> Result<DocState, StoreError> {
    Ok(DocState {
        code: row.0,
        agency: row.1,
        latest_version: row.2,
        status: row.3,
        published_version: row.4,
        updated_at: time(row.5)?,
    })
}

fn version(row: VersionRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        code: row.0,
        version: row.1,
        body: row.2,
        title_fa: row.3,
        author: row.4,
        created_at: time(row.5)?,
    })
}

/// Stores version `version` of `new`'s document; for a service, with its line of history
/// (`event`: saved, imported).
async fn insert_version_on(
    conn: &mut (impl Connection + ?Sized),
    new: &NewVersion,
    version: i64,
    event: &'static str,
) -> Result<(), sqlx::Error> {
    let at = new.at.timestamp_millis();
    match new.kind {
        DocKind::Service => {
            conn.execute(
                "INSERT INTO service_versions (code, version, body, title_fa, category, author, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Arg::from(&new.code),
                    Arg::Int(version),
                    Arg::from(&new.body),
                    Arg::from(&new.title_fa),
                    Arg::from(&new.category),
                    Arg::from(&new.author),
                    Arg::Int(at),
                ],
            )
            .await?;
            conn.execute(
                "INSERT INTO service_history (code, version, event, actor, at) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Arg::from(&new.code),
                    Arg::Int(version),
                    Arg::from(event),
                    Arg::from(&new.author),
                    Arg::Int(at),
                ],
            )
            .await?;
        }
        DocKind::Form => {
            conn.execute(
                "INSERT INTO form_versions (code, version, body, title_fa, author, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Arg::from(&new.code),
                    Arg::Int(version),
                    Arg::from(&new.body),
                    Arg::from(&new.title_fa),
                    Arg::from(&new.author),
                    Arg::Int(at),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores a new draft version (the first, or the next after whatever state the latest is
    /// in) and returns its number. A code stays with its agency.
    /// With `audit`, the entry it makes for the version number commits with the version.
    pub async fn save_version(
        &self,
        new: &NewVersion,
        audit: Option<&(dyn Fn(i64) -> NewAuditEntry + Sync)>,
    ) -> Result<i64, SaveVersionError> {
        let kind = new.kind;
        let at = new.at.timestamp_millis();
        let result: Result<Result<i64, SaveVersionError>, StoreError> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                // Taking the row first serialises concurrent saves of one code.
                let touched = sqlx::query(sql!(kind,
                    "UPDATE services SET latest_version = latest_version + 1, status = 'draft', updated_at = $2 WHERE code = $1",
                    "UPDATE forms SET latest_version = latest_version + 1, status = 'draft', updated_at = $2 WHERE code = $1"))
                    .bind(&new.code)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if touched == 0 {
                    sqlx::query(sql!(kind,
                        "INSERT INTO services (code, agency, latest_version, status, published_version, updated_at) VALUES ($1, $2, 1, 'draft', NULL, $3)",
                        "INSERT INTO forms (code, agency, latest_version, status, published_version, updated_at) VALUES ($1, $2, 1, 'draft', NULL, $3)"))
                        .bind(&new.code)
                        .bind(&new.agency)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                let (agency, latest): (String, i64) = sqlx::query_as(sql!(kind,
                    "SELECT agency, latest_version FROM services WHERE code = $1",
                    "SELECT agency, latest_version FROM forms WHERE code = $1"))
                    .bind(&new.code)
                    .fetch_one(&mut *tx)
                    .await?;
                if agency != new.agency {
                    tx.rollback().await?;
                    return Ok(Err(SaveVersionError::OtherAgency { code: new.code.clone(), agency }));
                }
                insert_version_on(&mut *tx, new, latest, "saved").await?;
                if let Some(audit) = audit {
                    crate::audit::append_on(&mut *tx, &audit(latest)).await?;
                }
                tx.commit().await?;
                Ok(Ok(latest))
            }
            .await
        });
        result?
    }

    /// Publishes a batch of service versions in one transaction: for each, a new version that is
    /// at once the published one (a new service, or the next version of an existing one of the
    /// same agency). All of them, or none. Calls `progress(done)` every 500.
    pub async fn publish_service_batch(
        &self,
        batch: &[NewVersion],
        progress: &(dyn Fn(usize) + Sync),
        audit: &NewAuditEntry,
    ) -> Result<(), SaveVersionError> {
        let result: Result<Result<(), SaveVersionError>, StoreError> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                for (i, new) in batch.iter().enumerate() {
                    let at = new.at.timestamp_millis();
                    let touched = sqlx::query(
                        "UPDATE services SET latest_version = latest_version + 1, status = 'published', \
                         published_version = latest_version + 1, updated_at = $2 WHERE code = $1",
                    )
                    .bind(&new.code)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if touched == 0 {
                        sqlx::query(
                            "INSERT INTO services (code, agency, latest_version, status, published_version, updated_at) \
                             VALUES ($1, $2, 1, 'published', 1, $3)",
                        )
                        .bind(&new.code)
                        .bind(&new.agency)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let (agency, version): (String, i64) =
                        sqlx::query_as("SELECT agency, latest_version FROM services WHERE code = $1")
                            .bind(&new.code)
                            .fetch_one(&mut *tx)
                            .await?;
                    if agency != new.agency {
                        tx.rollback().await?;
                        return Ok(Err(SaveVersionError::OtherAgency { code: new.code.clone(), agency }));
                    }
                    insert_version_on(&mut *tx, new, version, "imported").await?;
                    if (i + 1) % 500 == 0 {
                        progress(i + 1);
                    }
                }
                crate::audit::append_on(&mut *tx, audit).await?;
                tx.commit().await?;
                progress(batch.len());
                Ok(Ok(()))
            }
            .await
        });
        result?
    }

    /// Moves the latest version from `from` to `to`, only if it is still `version` and in
    /// `from` (so two reviewers cannot both act on a version that changed). Publishing makes it
    /// the public one; retiring withdraws the public one. `false` if the state had moved on.
    /// With `audit`, the entry commits with the move (and only if it moved).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_doc_status(
        &self,
        kind: DocKind,
        code: &str,
        version: i64,
        from: &str,
        to: &str,
        actor: &str,
        at: DateTime<Utc>,
        audit: Option<&NewAuditEntry>,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        let at_ms = at.timestamp_millis();
        // A move with a note is a card sent back: recorded as `returned`, with why.
        let event = if note.is_some() { "returned" } else { to };
        let updated = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(sql!(kind,
                "UPDATE services SET status = $1, updated_at = $2, \
                 published_version = CASE WHEN $1 = 'published' THEN latest_version WHEN $1 = 'retired' THEN NULL ELSE published_version END \
                 WHERE code = $3 AND latest_version = $4 AND status = $5",
                "UPDATE forms SET status = $1, updated_at = $2, \
                 published_version = CASE WHEN $1 = 'published' THEN latest_version WHEN $1 = 'retired' THEN NULL ELSE published_version END \
                 WHERE code = $3 AND latest_version = $4 AND status = $5"))
                .bind(to)
                .bind(at_ms)
                .bind(code)
                .bind(version)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 1 && kind == DocKind::Service {
                sqlx::query("INSERT INTO service_history (code, version, event, actor, at, note) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(code)
                    .bind(version)
                    .bind(event)
                    .bind(actor)
                    .bind(at_ms)
                    .bind(note.unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
            }
            if done == 1
                && let Some(audit) = audit
            {
                crate::audit::append_on(&mut *tx, audit).await?;
            }
            tx.commit().await?;
            done == 1
        });
        Ok(updated)
    }

    pub async fn doc_state(
        &self,
        kind: DocKind,
        code: &str,
    ) -> Result<Option<DocState>, StoreError> {
        let row: Option<StateRow> = on_pool!(self, pool => {
            sqlx::query_as(sql!(kind,
                "SELECT code, agency, latest_version, status, published_version, updated_at FROM services WHERE code = $1",
                "SELECT code, agency, latest_version, status, published_version, updated_at FROM forms WHERE code = $1"))
                .bind(code)
                .fetch_optional(pool)
                .await?
        });
        row.map(state).transpose()
    }

    pub async fn doc_version(
        &self,
        kind: DocKind,
        code: &str,
        number: i64,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let row: Option<VersionRow> = on_pool!(self, pool => {
            sqlx::query_as(sql!(kind,
                "SELECT code, version, body, title_fa, author, created_at FROM service_versions WHERE code = $1 AND version = $2",
                "SELECT code, version, body, title_fa, author, created_at FROM form_versions WHERE code = $1 AND version = $2"))
                .bind(code)
                .bind(number)
                .fetch_optional(pool)
                .await?
        });
        row.map(version).transpose()
    }

    /// Every version of a document, newest first.
    pub async fn doc_versions(
        &self,
        kind: DocKind,
        code: &str,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let rows: Vec<VersionRow> = on_pool!(self, pool => {
            sqlx::query_as(sql!(kind,
                "SELECT code, version, body, title_fa, author, created_at FROM service_versions WHERE code = $1 ORDER BY version DESC",
                "SELECT code, version, body, title_fa, author, created_at FROM form_versions WHERE code = $1 ORDER BY version DESC"))
                .bind(code)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(version).collect()
    }

    /// A service's changes of state, oldest first.
    pub async fn service_history(&self, code: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows: Vec<(i64, String, String, i64, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT version, event, actor, at, note FROM service_history WHERE code = $1 ORDER BY id")
                .bind(code)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(version, event, actor, at, note)| {
                Ok(HistoryEntry {
                    version,
                    event,
                    actor,
                    at: time(at)?,
                    note,
                })
            })
            .collect()
    }

    /// Every document of an agency (any state), by code.
    pub async fn docs_of_agency(
        &self,
        kind: DocKind,
        agency: &str,
    ) -> Result<Vec<DocState>, StoreError> {
        let rows: Vec<StateRow> = on_pool!(self, pool => {
            sqlx::query_as(sql!(kind,
                "SELECT code, agency, latest_version, status, published_version, updated_at FROM services WHERE agency = $1 ORDER BY code",
                "SELECT code, agency, latest_version, status, published_version, updated_at FROM forms WHERE agency = $1 ORDER BY code"))
                .bind(agency)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(state).collect()
    }

    /// The published services matching the filter, by title, with the total count; `limit`
    /// and `offset` page through them.
    pub async fn published_services(
        &self,
        filter: &ServiceFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<(DocState, VersionRecord)>, i64), StoreError> {
        type Row = (
            String,
            String,
            i64,
            String,
            Option<i64>,
            i64,
            i64,
            String,
            String,
            String,
            i64,
        );
        let (total,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM services s \
                 JOIN service_versions v ON v.code = s.code AND v.version = s.published_version \
                 JOIN agencies a ON a.code = s.agency \
                 WHERE ($1 IS NULL OR a.province = $1) AND ($2 IS NULL OR s.agency = $2) \
                 AND ($3 IS NULL OR v.category = $3)",
            )
            .bind(&filter.province)
            .bind(&filter.agency)
            .bind(&filter.category)
            .fetch_one(pool)
            .await?
        });
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.code, s.agency, s.latest_version, s.status, s.published_version, s.updated_at, \
                 v.version, v.body, v.title_fa, v.author, v.created_at \
                 FROM services s \
                 JOIN service_versions v ON v.code = s.code AND v.version = s.published_version \
                 JOIN agencies a ON a.code = s.agency \
                 WHERE ($1 IS NULL OR a.province = $1) AND ($2 IS NULL OR s.agency = $2) \
                 AND ($3 IS NULL OR v.category = $3) \
                 ORDER BY v.title_fa, s.code LIMIT $4 OFFSET $5",
            )
            .bind(&filter.province)
            .bind(&filter.agency)
            .bind(&filter.category)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        let page = rows
            .into_iter()
            .map(|r| {
                Ok((
                    state((r.0.clone(), r.1, r.2, r.3, r.4, r.5))?,
                    version((r.0, r.6, r.7, r.8, r.9, r.10))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((page, total))
    }
}
