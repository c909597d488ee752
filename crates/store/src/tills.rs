//! The counter's day: each operator's till close (once a day), the manager's approval of a
//! difference (posted to the books with it), and the centre's day (migration 0024).

use chrono::{DateTime, Utc};

use crate::applications::batched;
use crate::audit::NewAuditEntry;
use crate::ledger::{NewLedgerEntry, post_entry_on};
use crate::payments::{COLUMNS, PaymentRecord};
use crate::script::Arg;
use crate::statements::Connection;
use crate::{Pool, Store, StoreError, WriteError, on_pool};

/// One operator's till closed for one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TillCloseRecord {
    pub centre: String,
    pub operator: String,
    /// The Jalali day in Iran time, `1405/09/13`.
    pub day: String,
    pub expected_cash: i64,
    pub counted_cash: i64,
    pub expected_card: i64,
    pub counted_card: i64,
    /// Counted less expected, both methods together.
    pub difference: i64,
    pub explanation: Option<String>,
    /// `closed` (no difference), `awaiting` (the manager's approval), `approved`.
    pub state: String,
    pub closed_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub entry_id: Option<i64>,
}

const TILL_COLUMNS: &str = "centre, operator, day, expected_cash, counted_cash, expected_card, \
    counted_card, difference, explanation, state, closed_at, approved_by, approved_at, entry_id";

/// A centre's day, closed by its manager.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CentreDayRecord {
    pub centre: String,
    pub day: String,
    pub cash: i64,
    pub card: i64,
    pub difference: i64,
    pub tills: i64,
    pub closed_by: String,
    pub closed_at: i64,
}

/// Why a close was not written. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum CloseWriteError {
    /// This till (or centre) is closed for this day already.
    #[error("closed already")]
    Closed,
    /// The close is not waiting for approval (approved meanwhile, or never needed one).
    #[error("the close changed meanwhile")]
    Stale,
    /// Money was taken while the till (or the day) was being counted: what the close counted
    /// is not what the books now hold.
    #[error("the takings moved while they were counted")]
    Moved,
    #[error(transparent)]
    Store(StoreError),
}

impl From<WriteError> for CloseWriteError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Store(StoreError::Database(sqlx::Error::Database(e)))
                if e.is_unique_violation() =>
            {
                CloseWriteError::Closed
            }
            WriteError::Stale | WriteError::KeyTaken => CloseWriteError::Stale,
            WriteError::Refused(_) => CloseWriteError::Moved,
            WriteError::Store(e) => CloseWriteError::Store(e),
            WriteError::CodeTaken => CloseWriteError::Store(StoreError::Corrupt(
                "a till's close took a tracking code".into(),
            )),
        }
    }
}

/// Takes `centre`'s `day` row of `counter_locks`: PostgreSQL holds it until the transaction
/// ends, so a counter payment and a close of the same centre's day run one after the other, and
/// the second sees what the first wrote (SQLite has one writer already).
async fn lock_counter_day(
    conn: &mut (impl Connection + ?Sized),
    centre: &str,
    day: &str,
) -> Result<(), WriteError> {
    conn.execute(
        "INSERT INTO counter_locks (centre, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vec![Arg::from(centre), Arg::from(day)],
    )
    .await?;
    conn.execute(
        "UPDATE counter_locks SET writes = writes + 1 WHERE centre = $1 AND day = $2",
        vec![Arg::from(centre), Arg::from(day)],
    )
    .await?;
    Ok(())
}

/// In a counter payment's transaction: its till and its centre's day are still open on `day`
/// (else [`WriteError::Refused`], nothing written).
pub(crate) async fn till_open_on(
    conn: &mut (impl Connection + ?Sized),
    centre: &str,
    operator: &str,
    day: &str,
) -> Result<(), WriteError> {
    lock_counter_day(conn, centre, day).await?;
    let tills = conn
        .fetch_int(
            "SELECT COUNT(*) FROM till_closes WHERE centre = $1 AND operator = $2 AND day = $3",
            vec![Arg::from(centre), Arg::from(operator), Arg::from(day)],
        )
        .await?;
    let days = conn
        .fetch_int(
            "SELECT COUNT(*) FROM centre_days WHERE centre = $1 AND day = $2",
            vec![Arg::from(centre), Arg::from(day)],
        )
        .await?;
    if tills + days > 0 {
        return Err(WriteError::Refused("till_closed"));
    }
    Ok(())
}

/// What the books hold of a centre's counter takings by `method` in `[from, until)`, for one
/// operator or (`operator` empty) all of them, read inside a close's transaction.
async fn takings_on(
    conn: &mut (impl Connection + ?Sized),
    centre: &str,
    operator: &str,
    method: &str,
    bounds: (DateTime<Utc>, DateTime<Utc>),
) -> Result<i64, WriteError> {
    Ok(conn
        .fetch_int(
            "SELECT CAST(COALESCE(SUM(rials), 0) AS BIGINT) FROM payments \
             WHERE centre = $1 AND ($2 = '' OR operator = $2) AND method = $3 \
             AND state IN ('paid', 'settled') AND paid_at >= $4 AND paid_at < $5",
            vec![
                Arg::from(centre),
                Arg::from(operator),
                Arg::from(method),
                Arg::Int(bounds.0.timestamp_millis()),
                Arg::Int(bounds.1.timestamp_millis()),
            ],
        )
        .await?)
}

impl Store {
    /// What an operator took at a centre's counter in cash or by card between `from` and
    /// `until` (paid, and not reversed), oldest first.
    pub async fn counter_takings(
        &self,
        centre: &str,
        operator: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE centre = $1 AND operator = $2 \
             AND method IN ('cash', 'card') AND state IN ('paid', 'settled') \
             AND paid_at >= $3 AND paid_at < $4 ORDER BY paid_at, number"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(centre)
                .bind(operator)
                .bind(from.timestamp_millis())
                .bind(until.timestamp_millis())
                .fetch_all(pool)
                .await?
        }))
    }

    /// The operators who took money at a centre's counter between `from` and `until`.
    pub async fn operators_with_takings(
        &self,
        centre: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let mut operators = on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT operator FROM payments WHERE centre = $1 \
                 AND operator IS NOT NULL AND method IN ('cash', 'card') \
                 AND state IN ('paid', 'settled') AND paid_at >= $2 AND paid_at < $3",
            )
            .bind(centre)
            .bind(from.timestamp_millis())
            .bind(until.timestamp_millis())
            .fetch_all(pool)
            .await?
        });
        operators.sort();
        Ok(operators)
    }

    /// Records a till's close, audited. A till closed for this day already: [`CloseWriteError::Closed`].
    /// `bounds` are the day's in Iran time: if the operator took money since they counted (the
    /// close's expected amounts are no longer the books'), [`CloseWriteError::Moved`].
    pub async fn insert_till_close(
        &self,
        close: &TillCloseRecord,
        bounds: (DateTime<Utc>, DateTime<Utc>),
        audit: &NewAuditEntry,
    ) -> Result<(), CloseWriteError> {
        let (c, a) = (close.clone(), audit.clone());
        let written: Result<(), WriteError> = async {
            batched!(self, conn => {
                lock_counter_day(conn, &c.centre, &c.day).await?;
                let cash = takings_on(conn, &c.centre, &c.operator, "cash", bounds).await?;
                let card = takings_on(conn, &c.centre, &c.operator, "card", bounds).await?;
                if (cash, card) != (c.expected_cash, c.expected_card) {
                    return Err(WriteError::Refused("till_moved"));
                }
                conn.execute(
                    "INSERT INTO till_closes (centre, operator, day, expected_cash, counted_cash, \
                     expected_card, counted_card, difference, explanation, state, closed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    vec![
                        Arg::from(&c.centre),
                        Arg::from(&c.operator),
                        Arg::from(&c.day),
                        Arg::Int(c.expected_cash),
                        Arg::Int(c.counted_cash),
                        Arg::Int(c.expected_card),
                        Arg::Int(c.counted_card),
                        Arg::Int(c.difference),
                        Arg::from(&c.explanation),
                        Arg::from(&c.state),
                        Arg::Int(c.closed_at),
                    ],
                )
                .await?;
                crate::audit::append_on(conn, &a).await?;
                Ok(())
            })
        }
        .await;
        Ok(written?)
    }

    /// The manager approves a close's difference: the close becomes `approved` and the
    /// difference's entry (none when the methods' differences cancel out) is posted with it
    /// (its key makes a second posting impossible).
    #[allow(clippy::too_many_arguments)]
    pub async fn approve_till_close(
        &self,
        centre: &str,
        operator: &str,
        day: &str,
        approver: &str,
        at: DateTime<Utc>,
        entry: Option<&NewLedgerEntry>,
        audit: &NewAuditEntry,
    ) -> Result<(), CloseWriteError> {
        let (centre, operator, day, approver) = (
            centre.to_owned(),
            operator.to_owned(),
            day.to_owned(),
            approver.to_owned(),
        );
        let (entry, audit) = (entry.cloned(), audit.clone());
        let written: Result<(), WriteError> = async {
            batched!(self, conn => {
                let posted = match &entry {
                    Some(entry) => Some(post_entry_on(conn, entry).await?.id()),
                    None => None,
                };
                let moved = conn
                    .execute(
                        "UPDATE till_closes SET state = 'approved', approved_by = $1, \
                         approved_at = $2, entry_id = $3 \
                         WHERE centre = $4 AND operator = $5 AND day = $6 AND state = 'awaiting'",
                        vec![
                            Arg::from(&approver),
                            Arg::Int(at.timestamp_millis()),
                            Arg::MaybeInt(posted),
                            Arg::from(&centre),
                            Arg::from(&operator),
                            Arg::from(&day),
                        ],
                    )
                    .await?;
                if moved != 1 {
                    return Err(WriteError::Stale);
                }
                crate::audit::append_on(conn, &audit).await?;
                Ok(())
            })
        }
        .await;
        Ok(written?)
    }

    /// One operator's close of one day, if closed.
    pub async fn till_close(
        &self,
        centre: &str,
        operator: &str,
        day: &str,
    ) -> Result<Option<TillCloseRecord>, StoreError> {
        let sql = format!(
            "SELECT {TILL_COLUMNS} FROM till_closes WHERE centre = $1 AND operator = $2 AND day = $3"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, TillCloseRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(centre)
                .bind(operator)
                .bind(day)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every till closed at a centre on a day, by operator.
    pub async fn till_closes_of(
        &self,
        centre: &str,
        day: &str,
    ) -> Result<Vec<TillCloseRecord>, StoreError> {
        let sql = format!(
            "SELECT {TILL_COLUMNS} FROM till_closes WHERE centre = $1 AND day = $2 ORDER BY operator"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, TillCloseRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(centre)
                .bind(day)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Closes a centre's day, audited; closed already: [`CloseWriteError::Closed`].
    /// `expected` is what the manager saw taken that day (every method, every till) within
    /// `bounds`: money taken since is [`CloseWriteError::Moved`], nothing written.
    pub async fn insert_centre_day(
        &self,
        record: &CentreDayRecord,
        expected: i64,
        bounds: (DateTime<Utc>, DateTime<Utc>),
        audit: &NewAuditEntry,
    ) -> Result<(), CloseWriteError> {
        let (r, a) = (record.clone(), audit.clone());
        let written: Result<(), WriteError> = async {
            batched!(self, conn => {
                lock_counter_day(conn, &r.centre, &r.day).await?;
                let cash = takings_on(conn, &r.centre, "", "cash", bounds).await?;
                let card = takings_on(conn, &r.centre, "", "card", bounds).await?;
                if cash.saturating_add(card) != expected {
                    return Err(WriteError::Refused("centre_day_moved"));
                }
                conn.execute(
                    "INSERT INTO centre_days (centre, day, cash, card, difference, tills, \
                     closed_by, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    vec![
                        Arg::from(&r.centre),
                        Arg::from(&r.day),
                        Arg::Int(r.cash),
                        Arg::Int(r.card),
                        Arg::Int(r.difference),
                        Arg::Int(r.tills),
                        Arg::from(&r.closed_by),
                        Arg::Int(r.closed_at),
                    ],
                )
                .await?;
                crate::audit::append_on(conn, &a).await?;
                Ok(())
            })
        }
        .await;
        Ok(written?)
    }

    /// A centre's day, if its manager closed it.
    pub async fn centre_day(
        &self,
        centre: &str,
        day: &str,
    ) -> Result<Option<CentreDayRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, CentreDayRecord>(
                "SELECT centre, day, cash, card, difference, tills, closed_by, closed_at \
                 FROM centre_days WHERE centre = $1 AND day = $2",
            )
            .bind(centre)
            .bind(day)
            .fetch_optional(pool)
            .await?
        }))
    }
}
