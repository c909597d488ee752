//! Nodes: the running Pishkhan processes that serve this database, with their heartbeats.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, on_pool};

/// One running (or stopped) Pishkhan process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: String,
    pub hostname: String,
    /// The address it listens on, as configured.
    pub listen: String,
    /// The program version it runs.
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct NodeRow {
    id: String,
    hostname: String,
    listen: String,
    version: String,
    started_at: i64,
    last_seen_at: i64,
    stopped_at: Option<i64>,
}

fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(
            format!("instant {ms} ms is out of range").into(),
        ))
    })
}

impl TryFrom<NodeRow> for NodeRecord {
    type Error = StoreError;

    fn try_from(row: NodeRow) -> Result<Self, StoreError> {
        Ok(NodeRecord {
            id: row.id,
            hostname: row.hostname,
            listen: row.listen,
            version: row.version,
            started_at: from_millis(row.started_at)?,
            last_seen_at: from_millis(row.last_seen_at)?,
            stopped_at: row.stopped_at.map(from_millis).transpose()?,
        })
    }
}

impl Store {
    /// Records a node that has just started.
    pub async fn register_node(&self, node: &NodeRecord) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO nodes (id, hostname, listen, version, started_at, last_seen_at, stopped_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&node.id)
            .bind(&node.hostname)
            .bind(&node.listen)
            .bind(&node.version)
            .bind(to_millis(node.started_at))
            .bind(to_millis(node.last_seen_at))
            .bind(node.stopped_at.map(to_millis))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records that the node is alive at `at`. Returns false if no such node is registered.
    pub async fn touch_node(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let affected = on_pool!(self, pool => {
            sqlx::query("UPDATE nodes SET last_seen_at = $1 WHERE id = $2 AND stopped_at IS NULL")
                .bind(to_millis(at))
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Records that the node stopped cleanly at `at`.
    pub async fn stop_node(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let affected = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE nodes SET stopped_at = $1, last_seen_at = $1 WHERE id = $2 AND stopped_at IS NULL",
            )
            .bind(to_millis(at))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Nodes that have not stopped and were seen at or after `since`, oldest start first.
    pub async fn live_nodes(&self, since: DateTime<Utc>) -> Result<Vec<NodeRecord>, StoreError> {
        let rows: Vec<NodeRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, hostname, listen, version, started_at, last_seen_at, stopped_at \
                 FROM nodes WHERE stopped_at IS NULL AND last_seen_at >= $1 \
                 ORDER BY started_at, id",
            )
            .bind(to_millis(since))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(NodeRecord::try_from).collect()
    }

    /// One node by id, stopped or not.
    pub async fn node(&self, id: &str) -> Result<Option<NodeRecord>, StoreError> {
        let row: Option<NodeRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, hostname, listen, version, started_at, last_seen_at, stopped_at \
                 FROM nodes WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(NodeRecord::try_from).transpose()
    }
}
