//! Events for agencies' systems: written with the change they describe (same transaction), read
//! from a cursor in commit order, and followed by each agency's webhook, whose deliveries are
//! queued in the outbox as `webhook.deliver` jobs.
//!
//! The order is (tx, id). On SQLite `tx` is 0 and one writer commits at a time, so ids are in
//! commit order. On PostgreSQL ids are drawn at write time, not commit time, so a reader only
//! serves rows of transactions older than every transaction still running (see migration 0017):
//! a cursor that was acknowledged is never passed by a row committed later.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::script::{Arg, Script};
use crate::statements::Connection;
use crate::{Backend, Store, StoreError, on_pool};

/// An event to write with the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedEvent {
    pub agency: String,
    /// `application.filed`, `application.action_taken` …
    pub kind: String,
    /// What it is about (an application's tracking code).
    pub subject: String,
    /// JSON text.
    pub data: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedEvent {
    pub id: i64,
    pub tx: i64,
    pub agency: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub data: String,
    pub created_at: i64,
}

/// A place in an agency's feed: the last event a reader has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedCursor {
    pub tx: i64,
    pub id: i64,
}

impl FeedEvent {
    pub fn cursor(&self) -> FeedCursor {
        FeedCursor {
            tx: self.tx,
            id: self.id,
        }
    }
}

/// An agency's webhook as stored (its secrets sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRecord {
    pub agency: String,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
    pub cursor_tx: i64,
    pub cursor_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const EVENT_COLUMNS: &str = "id, tx, agency, type, subject, data, created_at";

/// The condition that keeps a PostgreSQL reader behind every transaction still running.
const PG_HORIZON: &str = "tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// Events into a script (`script.rs`), at `at` (milliseconds).
pub(crate) fn events_into(script: &mut Script, events: &[NewFeedEvent], at: i64) {
    if events.is_empty() {
        return;
    }
    let rows: Vec<String> = events
        .iter()
        .map(|e| {
            script.row(vec![
                Arg::from(&e.agency),
                Arg::from(&e.kind),
                Arg::from(&e.subject),
                Arg::from(&e.data),
                Arg::Int(at),
            ])
        })
        .collect();
    script.push(format!(
        "INSERT INTO events (agency, type, subject, data, created_at) VALUES {}",
        rows.join(", ")
    ));
}

/// Events, on a connection inside a write.
pub(crate) async fn insert_events_on(
    conn: &mut (impl Connection + ?Sized),
    events: &[NewFeedEvent],
    at: i64,
) -> Result<(), sqlx::Error> {
    for e in events {
        conn.execute(
            "INSERT INTO events (agency, type, subject, data, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::from(&e.agency),
                Arg::from(&e.kind),
                Arg::from(&e.subject),
                Arg::from(&e.data),
                Arg::Int(at),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The page of `agency`'s feed after `after`, at most `limit` events, in commit order.
fn feed_sql(backend: Backend) -> String {
    let horizon = match backend {
        Backend::Sqlite => "1 = 1",
        Backend::Postgres => PG_HORIZON,
    };
    format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE agency = $1 \
         AND (tx > $2 OR (tx = $2 AND id > $3)) AND {horizon} ORDER BY tx, id LIMIT $4"
    )
}

impl Store {
    /// `agency`'s events after `after`, oldest first, at most `limit`. Only events whose
    /// transactions have all ended are served, so no later page holds an event that sorts before
    /// this one's last.
    pub async fn feed(
        &self,
        agency: &str,
        after: FeedCursor,
        limit: i64,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = feed_sql(self.backend());
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(sql))
                .bind(agency)
                .bind(after.tx)
                .bind(after.id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The end of `agency`'s feed as a reader can see it now (where a new webhook starts).
    pub async fn feed_end(&self, agency: &str) -> Result<FeedCursor, StoreError> {
        let mut end = FeedCursor::default();
        loop {
            let page = self.feed(agency, end, 1000).await?;
            match page.last() {
                Some(last) => end = last.cursor(),
                None => return Ok(end),
            }
        }
    }

    /// Events by id (those that exist).
    pub async fn feed_events(&self, ids: &[i64]) -> Result<Vec<FeedEvent>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({list}) ORDER BY id");
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(sql.clone()));
                for id in chunk {
                    query = query.bind(id);
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// The events about `subject` (an application), oldest first.
    pub async fn events_about(&self, subject: &str) -> Result<Vec<FeedEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE subject = $1 ORDER BY tx, id");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(sql))
                .bind(subject)
                .fetch_all(pool)
                .await?
        }))
    }

    /// How many events `agency` has (for the exchange's screen).
    pub async fn count_feed_events(&self, agency: &str) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events WHERE agency = $1")
                .bind(agency)
                .fetch_one(pool)
                .await?
        }))
    }

    pub async fn webhook(&self, agency: &str) -> Result<Option<WebhookRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRecord>("SELECT * FROM webhooks WHERE agency = $1")
                .bind(agency)
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRecord>("SELECT * FROM webhooks ORDER BY agency")
                .fetch_all(pool)
                .await?
        }))
    }

    /// Queues a delivery of each of `agency`'s events its webhook has not yet queued, oldest
    /// first, at most `limit`, and moves the webhook's cursor past them — in one transaction, so
    /// an event is queued once even with several nodes (another node's dispatch of the same
    /// webhook waits, or on PostgreSQL skips it). Answers how many were queued.
    pub async fn dispatch_webhook(
        &self,
        agency: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let backend = self.backend();
        let (begin, lock) = match backend {
            Backend::Sqlite => (
                "BEGIN IMMEDIATE",
                "SELECT cursor_tx, cursor_id FROM webhooks WHERE agency = $1",
            ),
            Backend::Postgres => (
                "BEGIN",
                "SELECT cursor_tx, cursor_id FROM webhooks WHERE agency = $1 FOR UPDATE SKIP LOCKED",
            ),
        };
        let sql = feed_sql(backend);
        let at = now.timestamp_millis();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let Some(row) = sqlx::query(lock).bind(agency).fetch_optional(&mut *tx).await? else {
                return Ok(0);
            };
            let after = FeedCursor { tx: row.get(0), id: row.get(1) };
            let events = sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(sql))
                .bind(agency)
                .bind(after.tx)
                .bind(after.id)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let Some(last) = events.last().map(FeedEvent::cursor) else {
                return Ok(0);
            };
            for chunk in events.chunks(200) {
                let rows = (0..chunk.len())
                    .map(|i| format!("('webhook.deliver', $1, ${}, $2, $2)", i + 3))
                    .collect::<Vec<_>>()
                    .join(", ");
                let insert = format!(
                    "INSERT INTO outbox (topic, subject, payload, created_at, next_at) VALUES {rows}"
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(insert)).bind(agency).bind(at);
                for event in chunk {
                    query = query.bind(serde_json::json!({ "event": event.id }).to_string());
                }
                query.execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE webhooks SET cursor_tx = $1, cursor_id = $2 WHERE agency = $3")
                .bind(last.tx)
                .bind(last.id)
                .bind(agency)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            events.len()
        }))
    }
}
