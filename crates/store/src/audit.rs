//! The audit log: appended in order under the head row's lock, read back for verification.

use chrono::{DateTime, Utc};
use pishkhan_domain::audit::{AuditFields, StoredEntry};

use crate::script::Arg;
use crate::statements::Connection;
use crate::{Store, StoreError, on_pool};

/// One thing to record; the store gives it its place in the chain.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub source: String,
    /// JSON text.
    pub details: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct EntryRow {
    seq: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    source: String,
    details: String,
    prev_hash: String,
    hash: String,
}

impl EntryRow {
    pub(crate) fn into_stored(self) -> StoredEntry {
        StoredEntry {
            fields: AuditFields {
                seq: self.seq,
                at_ms: self.at_ms,
                actor: self.actor,
                action: self.action,
                target_kind: self.target_kind,
                target_id: self.target_id,
                source: self.source,
                details: self.details,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// Appends `entry` to the chain on a connection already inside a transaction (so the entry
/// commits, or not, with the change it records); answers its sequence number. The head row is
/// updated first, which takes its lock at once: appenders queue there, not halfway through.
pub(crate) async fn append_on(
    conn: &mut (impl Connection + ?Sized),
    entry: &NewAuditEntry,
) -> Result<i64, StoreError> {
    conn.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1", vec![])
        .await?;
    let (seq, previous) = conn
        .fetch_int_text("SELECT seq, hash FROM audit_head WHERE id = 1", vec![])
        .await?;
    let (fields, hash) = link(entry, seq, &previous)?;
    conn.execute(
        "INSERT INTO audit_log (seq, at_ms, actor, action, target_kind, target_id, source, \
         details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        row(fields, previous, hash.clone()),
    )
    .await?;
    conn.execute(
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        vec![Arg::Text(hash)],
    )
    .await?;
    Ok(seq)
}

/// The link `seq` of the chain for `entry`, after the one whose hash is `previous` (hex): its
/// fields and its hash (hex).
pub(crate) fn link(
    entry: &NewAuditEntry,
    seq: i64,
    previous: &str,
) -> Result<(AuditFields, String), StoreError> {
    let previous_bytes = pishkhan_domain::audit::from_hex(previous).ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(
            "the audit head's hash is not valid".into(),
        ))
    })?;
    let fields = AuditFields {
        seq,
        at_ms: entry.at.timestamp_millis(),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        target_kind: entry.target_kind.clone(),
        target_id: entry.target_id.clone(),
        source: entry.source.clone(),
        details: entry.details.clone(),
    };
    let hash = pishkhan_domain::audit::to_hex(&pishkhan_domain::audit::entry_hash(
        &previous_bytes,
        &fields,
    ));
    Ok((fields, hash))
}

/// An `audit_log` row's values, in its columns' order.
fn row(fields: AuditFields, previous: String, hash: String) -> Vec<Arg> {
    vec![
        Arg::Int(fields.seq),
        Arg::Int(fields.at_ms),
        Arg::Text(fields.actor),
        Arg::Text(fields.action),
        Arg::Text(fields.target_kind),
        Arg::Text(fields.target_id),
        Arg::Text(fields.source),
        Arg::Text(fields.details),
        Arg::Text(previous),
        Arg::Text(hash),
    ]
}

/// Adds `entry` to `script` as the next link after `head` (its row; the writer moves the head
/// row once at the end of the script); answers the new head. The script runs in the
/// transaction that holds the head.
pub(crate) fn chain_into(
    script: &mut crate::script::Script,
    entry: &NewAuditEntry,
    head: &crate::writer::AuditHead,
) -> Result<crate::writer::AuditHead, StoreError> {
    let (fields, hash) = link(entry, head.seq + 1, &head.hash)?;
    let seq = fields.seq;
    let values = script.row(row(fields, head.hash.clone(), hash.clone()));
    script.push(format!(
        "INSERT INTO audit_log (seq, at_ms, actor, action, target_kind, target_id, source, \
         details, prev_hash, hash) VALUES {values}"
    ));
    Ok(crate::writer::AuditHead { seq, hash })
}

impl Store {
    /// Appends an entry to the chain and returns its sequence number. Concurrent appends are
    /// serialised by the head row (updated first, so the write lock is taken at once on SQLite
    /// and the row lock on PostgreSQL).
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let seq = append_on(&mut *tx, entry).await?;
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// Every entry in chain order, and the number of entries the head says were written.
    pub async fn audit_chain(&self) -> Result<(Vec<StoredEntry>, i64), StoreError> {
        let (rows, head): (Vec<EntryRow>, (i64,)) = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let head = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let rows = sqlx::query_as(
                "SELECT seq, at_ms, actor, action, target_kind, target_id, source, details, prev_hash, hash \
                 FROM audit_log ORDER BY seq",
            )
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            (rows, head)
        });
        let entries = rows.into_iter().map(EntryRow::into_stored).collect();
        Ok((entries, head.0))
    }
}
