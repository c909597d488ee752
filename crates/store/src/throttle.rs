//! Counting attempts (wrong passwords, codes sent, codes tried) in sliding windows, atomically
//! across concurrent requests and nodes.

use chrono::{DateTime, Utc};

use crate::{Pool, Store, StoreError};

/// At most `max` attempts under `key` within `window_ms` milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub key: String,
    pub max: i64,
    pub window_ms: i64,
}

/// What [`Store::take_attempt`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Counted under every key; go ahead.
    Allowed,
    /// Refused (and not counted): the limit at this index is reached; the oldest attempt in its
    /// window leaves it at `retry_at`.
    Refused {
        limit: usize,
        retry_at: DateTime<Utc>,
    },
}

impl Store {
    /// Checks every limit and, only if none is reached, records one attempt under each key — as
    /// one step, so of many concurrent attempts exactly as many pass as the limits allow. SQLite
    /// takes the write lock first (`BEGIN IMMEDIATE`); PostgreSQL takes a transaction-scoped
    /// advisory lock per key, in a fixed order.
    pub async fn take_attempt(
        &self,
        limits: &[Limit],
        now: DateTime<Utc>,
    ) -> Result<Attempt, StoreError> {
        let now_ms = now.timestamp_millis();
        let mut order: Vec<&Limit> = limits.iter().collect();
        order.sort_by(|a, b| a.key.cmp(&b.key));
        macro_rules! decide {
            ($tx:expr) => {{
                let mut refused = None;
                for (index, limit) in limits.iter().enumerate() {
                    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                        "SELECT COUNT(*), MIN(at) FROM auth_attempts WHERE key = $1 AND at > $2",
                    )
                    .bind(&limit.key)
                    .bind(now_ms - limit.window_ms)
                    .fetch_one(&mut *$tx)
                    .await?;
                    if count >= limit.max {
                        let retry_ms = oldest.unwrap_or(now_ms) + limit.window_ms;
                        refused = Some(Attempt::Refused {
                            limit: index,
                            retry_at: DateTime::from_timestamp_millis(retry_ms).unwrap_or(now),
                        });
                        break;
                    }
                }
                if refused.is_none() {
                    for limit in limits {
                        sqlx::query("INSERT INTO auth_attempts (key, at) VALUES ($1, $2)")
                            .bind(&limit.key)
                            .bind(now_ms)
                            .execute(&mut *$tx)
                            .await?;
                    }
                }
                $tx.commit().await?;
                Ok(refused.unwrap_or(Attempt::Allowed))
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                decide!(tx)
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for limit in &order {
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7207))")
                        .bind(&limit.key)
                        .execute(&mut *tx)
                        .await?;
                }
                decide!(tx)
            }
        }
    }

    /// Forgets the attempts under a key (after a successful sign-in).
    pub async fn clear_attempts(&self, key: &str) -> Result<(), StoreError> {
        crate::on_pool!(self, pool => {
            sqlx::query("DELETE FROM auth_attempts WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Drops attempts older than any window can see.
    pub async fn prune_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = crate::on_pool!(self, pool => {
            sqlx::query("DELETE FROM auth_attempts WHERE at < $1")
                .bind(before.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }
}
