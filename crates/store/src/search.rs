//! What the search index reads besides the published catalogue: which services changed (so each
//! node's index follows what any node published) and the synonym list.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, on_pool};

/// The stored synonym list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymList {
    pub body: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// The services with history entries after `after` (an entry id), each with the version
    /// published now (`None`: not published), and the newest entry id; ids only grow.
    pub async fn catalogue_changes(
        &self,
        after: i64,
    ) -> Result<(Vec<(String, Option<i64>)>, i64), StoreError> {
        let rows: Vec<(String, Option<i64>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT h.code, s.published_version FROM service_history h \
                 JOIN services s ON s.code = h.code WHERE h.id > $1 ORDER BY h.code",
            )
            .bind(after)
            .fetch_all(pool)
            .await?
        });
        let newest = self.catalogue_cursor().await?.max(after);
        Ok((rows, newest))
    }

    /// The newest history entry's id (0 when there is none).
    pub async fn catalogue_cursor(&self) -> Result<i64, StoreError> {
        let (id,): (Option<i64>,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT MAX(id) FROM service_history")
                .fetch_one(pool)
                .await?
        });
        Ok(id.unwrap_or(0))
    }

    pub async fn synonym_list(&self) -> Result<Option<SynonymList>, StoreError> {
        let row: Option<(String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT body, updated_by, updated_at FROM search_synonyms WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        row.map(|(body, updated_by, at)| {
            let updated_at = DateTime::from_timestamp_millis(at).ok_or_else(|| {
                StoreError::Database(sqlx::Error::Decode("stored time is not valid".into()))
            })?;
            Ok(SynonymList {
                body,
                updated_by,
                updated_at,
            })
        })
        .transpose()
    }

    pub async fn save_synonym_list(
        &self,
        body: &str,
        updated_by: &str,
        at: DateTime<Utc>,
        audit: &crate::audit::NewAuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO search_synonyms (id, body, updated_by, updated_at) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(body)
            .bind(updated_by)
            .bind(at.timestamp_millis())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

/// A search that found nothing, as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchMiss {
    pub query: String,
    pub count: i64,
    pub last_at: DateTime<Utc>,
}

/// Misses kept at most; past it the least asked go first.
pub const MAX_SEARCH_MISSES: i64 = 5000;

impl Store {
    /// Adds counts of searches that found nothing; forgets misses not asked for 90 days and, past
    /// [`MAX_SEARCH_MISSES`], the least asked.
    pub async fn add_search_misses(
        &self,
        misses: &[(String, u32)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if misses.is_empty() {
            return Ok(());
        }
        let now = at.timestamp_millis();
        let stale = (at - chrono::TimeDelta::days(90)).timestamp_millis();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (query, count) in misses {
                sqlx::query(
                    "INSERT INTO search_misses (query, count, first_at, last_at) VALUES ($1, $2, $3, $3) \
                     ON CONFLICT (query) DO UPDATE SET count = search_misses.count + excluded.count, \
                     last_at = excluded.last_at",
                )
                .bind(query)
                .bind(i64::from(*count))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("DELETE FROM search_misses WHERE last_at < $1")
                .bind(stale)
                .execute(&mut *tx)
                .await?;
            // Below the count of the last one kept (none when there are fewer).
            sqlx::query(
                "DELETE FROM search_misses WHERE count < (SELECT count FROM search_misses \
                 ORDER BY count DESC LIMIT 1 OFFSET $1)",
            )
            .bind(MAX_SEARCH_MISSES)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The most asked searches that found nothing, most asked first.
    pub async fn search_misses(&self, limit: i64) -> Result<Vec<SearchMiss>, StoreError> {
        let rows: Vec<(String, i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT query, count, last_at FROM search_misses \
                 ORDER BY count DESC, last_at DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(query, count, at)| {
                let last_at = DateTime::from_timestamp_millis(at).ok_or_else(|| {
                    StoreError::Database(sqlx::Error::Decode("stored time is not valid".into()))
                })?;
                Ok(SearchMiss {
                    query,
                    count,
                    last_at,
                })
            })
            .collect()
    }
}
