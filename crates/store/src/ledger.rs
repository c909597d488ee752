//! The books: entries of balanced postings, written whole or not at all, never changed after
//! (pishkhan_domain::ledger has the rules; the tables refuse UPDATE and DELETE).

use chrono::{DateTime, Utc};
use pishkhan_domain::ledger::Entry;

use crate::applications::batched;
use crate::script::Arg;
use crate::statements::Connection;
use crate::{Pool, Store, StoreError, WriteError, on_pool};

/// An entry to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEntry {
    /// payment, refund, reversal, settlement, difference …
    pub kind: String,
    /// What it is about: an application's tracking code, a payment's number, a till's day.
    pub reference: String,
    /// A line a person reads in a statement.
    pub memo: String,
    /// Posts once, however often it is told: a second entry with the same key is not written
    /// and the first one's id answered ([`Posted::Already`]). Two PostgreSQL nodes posting the
    /// same key at the same instant: the unique key fails the second (nothing of it written),
    /// and its retry is answered `Already`.
    pub key: Option<String>,
    /// The entry this one undoes; each entry is reversed at most once.
    pub reverses: Option<i64>,
    /// The account (person or system) that posted it.
    pub posted_by: String,
    pub posted_at: DateTime<Utc>,
    pub entry: Entry,
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Written now, with this id.
    New(i64),
    /// Its key was posted before, as this entry; nothing written.
    Already(i64),
}

impl Posted {
    pub fn id(self) -> i64 {
        match self {
            Posted::New(id) | Posted::Already(id) => id,
        }
    }
}

/// An entry as stored, with its postings in order.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerEntryRecord {
    pub id: i64,
    pub posted_at: i64,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub key: Option<String>,
    pub reverses: Option<i64>,
    pub posted_by: String,
    /// (account key, rials): debit positive, credit negative.
    #[sqlx(skip)]
    pub postings: Vec<(String, i64)>,
}

/// Posts `new` inside the caller's transaction: with a payment's state change, a till's close …
/// A reversal of an entry already reversed, or of none, is refused as [`WriteError::Stale`].
pub(crate) async fn post_entry_on(
    conn: &mut (impl Connection + ?Sized),
    new: &NewLedgerEntry,
) -> Result<Posted, WriteError> {
    if let Some(key) = &new.key {
        let before = conn
            .fetch_int(
                "SELECT COALESCE(MAX(id), 0) FROM ledger_entries WHERE key = $1",
                vec![Arg::from(key)],
            )
            .await?;
        if before > 0 {
            return Ok(Posted::Already(before));
        }
    }
    if let Some(reversed) = new.reverses {
        let (exists, undone) = (
            conn.fetch_int(
                "SELECT COUNT(*) FROM ledger_entries WHERE id = $1",
                vec![Arg::Int(reversed)],
            )
            .await?,
            conn.fetch_int(
                "SELECT COUNT(*) FROM ledger_entries WHERE reverses = $1",
                vec![Arg::Int(reversed)],
            )
            .await?,
        );
        if exists != 1 || undone != 0 {
            return Err(WriteError::Stale);
        }
    }
    let id = conn
        .fetch_int(
            "INSERT INTO ledger_entries (posted_at, kind, reference, memo, key, reverses, \
             posted_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            vec![
                Arg::Int(new.posted_at.timestamp_millis()),
                Arg::from(&new.kind),
                Arg::from(&new.reference),
                Arg::from(&new.memo),
                Arg::from(&new.key),
                Arg::MaybeInt(new.reverses),
                Arg::from(&new.posted_by),
            ],
        )
        .await?;
    for (line, posting) in new.entry.postings().iter().enumerate() {
        conn.execute(
            "INSERT INTO ledger_postings (entry_id, line, account, rials) VALUES ($1, $2, $3, $4)",
            vec![
                Arg::Int(id),
                Arg::Int(i64::try_from(line).unwrap_or(i64::MAX)),
                Arg::Text(posting.account.key()),
                Arg::Int(posting.rials),
            ],
        )
        .await?;
    }
    // The domain's Entry balances by construction; the books are checked again where they are
    // written, so no other path can leave them out of balance.
    let sum = conn
        .fetch_int(
            "SELECT CAST(COALESCE(SUM(rials), 0) AS BIGINT) FROM ledger_postings \
             WHERE entry_id = $1",
            vec![Arg::Int(id)],
        )
        .await?;
    if sum != 0 {
        return Err(WriteError::Store(StoreError::Corrupt(format!(
            "ledger entry {id} does not balance: {sum} rials"
        ))));
    }
    Ok(Posted::New(id))
}

impl Store {
    /// Posts one entry, durably, whole or not at all.
    pub async fn post_ledger_entry(&self, new: &NewLedgerEntry) -> Result<Posted, WriteError> {
        // A write answers only whether it committed: what it posted comes back beside it.
        let answer = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (new, told) = (new.clone(), answer.clone());
        batched!(self, conn => {
            let posted = post_entry_on(conn, &new).await?;
            *told.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(posted);
            Ok(())
        })?;
        let posted = *answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        posted.ok_or_else(|| {
            WriteError::Store(StoreError::Corrupt(
                "a committed ledger write said nothing".into(),
            ))
        })
    }

    /// The sum of every posting ever made: 0 while the books balance.
    pub async fn ledger_total(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(rials), 0) AS BIGINT) FROM ledger_postings",
            )
            .fetch_one(pool)
            .await?
        }))
    }

    /// The postings to one account between `from` and `until`, oldest first: (posted at in
    /// milliseconds, the entry's kind, reference and memo, rials).
    pub async fn account_postings(
        &self,
        account: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(i64, String, String, String, i64)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, (i64, String, String, String, i64)>(
                "SELECT e.posted_at, e.kind, e.reference, e.memo, p.rials \
                 FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id \
                 WHERE p.account = $1 AND e.posted_at >= $2 AND e.posted_at < $3 \
                 ORDER BY e.posted_at, e.id, p.line",
            )
            .bind(account)
            .bind(from.timestamp_millis())
            .bind(until.timestamp_millis())
            .fetch_all(pool)
            .await?
        }))
    }

    /// How many entries are posted.
    pub async fn ledger_entry_count(&self) -> Result<u64, StoreError> {
        let count = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ledger_entries")
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Each account's balance (debit positive) whose key starts with `prefix` (`centre:`,
    /// `agency:tehran-municipality`, or "" for all), in key order.
    pub async fn ledger_balances(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let mut balances = on_pool!(self, pool => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT account, CAST(SUM(rials) AS BIGINT) FROM ledger_postings \
                 WHERE substr(account, 1, length($1)) = $1 GROUP BY account",
            )
            .bind(prefix)
            .fetch_all(pool)
            .await?
        });
        // Byte order, the same on both databases (PostgreSQL's collation would differ).
        balances.sort();
        Ok(balances)
    }

    /// One entry with its postings.
    pub async fn ledger_entry(&self, id: i64) -> Result<Option<LedgerEntryRecord>, StoreError> {
        let record = on_pool!(self, pool => {
            sqlx::query_as::<_, LedgerEntryRecord>(
                "SELECT id, posted_at, kind, reference, memo, key, reverses, posted_by \
                 FROM ledger_entries WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let Some(mut record) = record else {
            return Ok(None);
        };
        record.postings = on_pool!(self, pool => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT account, rials FROM ledger_postings WHERE entry_id = $1 ORDER BY line",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(record))
    }
}
