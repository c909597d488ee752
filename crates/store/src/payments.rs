//! Payments: asked, paid, settled, reversed or failed. A change that moves money writes the
//! payment's new state, its ledger entry, the application's step (when paying lets it move on)
//! and the audit line in one transaction: a crash leaves all of them or none.

use chrono::{DateTime, Utc};

use crate::applications::{Transition, apply_transition_on, batched};
use crate::audit::NewAuditEntry;
use crate::ledger::{NewLedgerEntry, post_entry_on};
use crate::script::Arg;
use crate::statements::Connection;
use crate::{Pool, Store, StoreError, WriteError, on_pool};

/// A payment to record: asked for (pending, online) or taken at a counter (paid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub number: String,
    /// `fee` or `bill`.
    pub purpose: String,
    pub application: Option<String>,
    pub bill_id: Option<String>,
    pub payment_id: Option<String>,
    /// Whom the money is for: an agency's or a company's code.
    pub payee: String,
    pub rials: i64,
    /// JSON: what the money is for, line by line.
    pub lines: String,
    /// `online`, `cash` or `card`.
    pub method: String,
    /// `pending` (online, before the bank says) or `paid` (at a counter).
    pub state: String,
    pub provider: Option<String>,
    pub terminal: Option<String>,
    pub token: Option<String>,
    pub reference: Option<String>,
    pub centre: Option<String>,
    pub operator: Option<String>,
    /// Who paid: a national ID when known.
    pub payer: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A counter payment's Jalali day (its till's, `1405/09/13`): checked open in the payment's
    /// own transaction, after taking the centre's day row that closes also take.
    pub till_day: Option<String>,
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRecord {
    pub number: String,
    pub purpose: String,
    pub application: Option<String>,
    pub bill_id: Option<String>,
    pub payment_id: Option<String>,
    pub payee: String,
    pub rials: i64,
    pub lines: String,
    pub method: String,
    pub state: String,
    pub provider: Option<String>,
    pub terminal: Option<String>,
    pub token: Option<String>,
    pub reference: Option<String>,
    pub centre: Option<String>,
    pub operator: Option<String>,
    pub payer: Option<String>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub note: Option<String>,
}

pub(crate) const COLUMNS: &str = "number, purpose, application, bill_id, payment_id, payee, rials, lines, \
    method, state, provider, terminal, token, reference, centre, operator, payer, created_at, \
    paid_at, ended_at, note";

/// A payment's state changing, with what changes with it.
#[derive(Debug, Clone)]
pub struct PaymentChange {
    pub number: String,
    /// The state it is in now; if it moved meanwhile, nothing is written ([`PaymentWriteError::Stale`]).
    pub from: String,
    pub to: String,
    /// The bank's reference, when the change is the bank confirming it.
    pub reference: Option<String>,
    /// Why (a refusal's code, a reversal's reason).
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub ledger: Option<NewLedgerEntry>,
    /// The application's step that paying makes (the payment stage's action).
    pub transition: Option<Transition>,
    pub audit: NewAuditEntry,
}

/// Why a payment was not written. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum PaymentWriteError {
    /// The bill (bill ID and payment ID) is paid already.
    #[error("this bill is paid already")]
    BillPaid,
    /// The provider's reference paid another payment.
    #[error("this reference paid another payment")]
    ReferenceUsed,
    /// The payment (or its application) moved meanwhile.
    #[error("the payment changed meanwhile")]
    Stale,
    /// The counter's till (or the centre's day) was closed for the day: it takes no money.
    #[error("the till is closed")]
    TillClosed,
    /// A refund that would give back more than was paid, with what earlier refunds gave.
    #[error("more than is left to refund")]
    RefundTooMuch,
    #[error(transparent)]
    Store(StoreError),
}

impl From<WriteError> for PaymentWriteError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Store(StoreError::Database(sqlx::Error::Database(e)))
                if e.is_unique_violation() =>
            {
                // PostgreSQL names the index; SQLite the columns.
                let said = e.constraint().unwrap_or(e.message()).to_owned();
                if said.contains("payments_bill_paid") || said.contains("payments.bill_id") {
                    PaymentWriteError::BillPaid
                } else if said.contains("payments_reference") || said.contains("payments.provider")
                {
                    PaymentWriteError::ReferenceUsed
                } else {
                    PaymentWriteError::Store(StoreError::Database(sqlx::Error::Database(e)))
                }
            }
            // The step's idempotency key used by a request at the same moment: it moved meanwhile.
            WriteError::Stale | WriteError::KeyTaken => PaymentWriteError::Stale,
            WriteError::Refused("till_closed") => PaymentWriteError::TillClosed,
            WriteError::Refused("refund_too_much") => PaymentWriteError::RefundTooMuch,
            WriteError::Refused(why) => {
                PaymentWriteError::Store(StoreError::Corrupt(format!("a payment's write: {why}")))
            }
            WriteError::Store(e) => PaymentWriteError::Store(e),
            // A payment inserts no application: a tracking code cannot be taken here.
            WriteError::CodeTaken => PaymentWriteError::Store(StoreError::Corrupt(
                "a payment's write took a tracking code".into(),
            )),
        }
    }
}

/// What the refunds of the payment numbered `$1` gave back so far (their positive postings).
const REFUNDED: &str = "SELECT CAST(COALESCE(SUM(p.rials), 0) AS BIGINT) FROM ledger_postings p \
     JOIN ledger_entries e ON e.id = p.entry_id \
     WHERE e.kind = 'refund' AND e.reference = $1 AND p.rials > 0";

async fn insert_payment_on(
    conn: &mut (impl Connection + ?Sized),
    p: &NewPayment,
    ledger: Option<&NewLedgerEntry>,
    transition: Option<&Transition>,
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let at = p.created_at.timestamp_millis();
    let paid_at = (p.state == "paid").then_some(at);
    if let (Some(day), Some(centre), Some(operator)) = (&p.till_day, &p.centre, &p.operator) {
        crate::tills::till_open_on(conn, centre, operator, day).await?;
    }
    conn.execute(
        "INSERT INTO payments (number, purpose, application, bill_id, payment_id, payee, rials, \
         lines, method, state, provider, terminal, token, reference, centre, operator, payer, \
         created_at, paid_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        vec![
            Arg::from(&p.number),
            Arg::from(&p.purpose),
            Arg::from(&p.application),
            Arg::from(&p.bill_id),
            Arg::from(&p.payment_id),
            Arg::from(&p.payee),
            Arg::Int(p.rials),
            Arg::from(&p.lines),
            Arg::from(&p.method),
            Arg::from(&p.state),
            Arg::from(&p.provider),
            Arg::from(&p.terminal),
            Arg::from(&p.token),
            Arg::from(&p.reference),
            Arg::from(&p.centre),
            Arg::from(&p.operator),
            Arg::from(&p.payer),
            Arg::Int(at),
            Arg::MaybeInt(paid_at),
        ],
    )
    .await?;
    if let Some(entry) = ledger {
        post_entry_on(conn, entry).await?;
    }
    if let Some(transition) = transition {
        apply_transition_on(conn, transition).await?;
    }
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

async fn change_payment_on(
    conn: &mut (impl Connection + ?Sized),
    c: &PaymentChange,
) -> Result<(), WriteError> {
    let at = c.at.timestamp_millis();
    let moved = conn
        .execute(
            "UPDATE payments SET state = $1, reference = COALESCE($2, reference), \
             note = COALESCE($3, note), \
             paid_at = CASE WHEN $1 = 'paid' THEN $4 ELSE paid_at END, \
             ended_at = CASE WHEN $1 IN ('settled', 'reversed', 'failed') THEN $4 ELSE ended_at END \
             WHERE number = $5 AND state = $6",
            vec![
                Arg::from(&c.to),
                Arg::from(&c.reference),
                Arg::from(&c.note),
                Arg::Int(at),
                Arg::from(&c.number),
                Arg::from(&c.from),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    if let Some(entry) = &c.ledger {
        post_entry_on(conn, entry).await?;
    }
    if let Some(transition) = &c.transition {
        apply_transition_on(conn, transition).await?;
    }
    crate::audit::append_on(conn, &c.audit).await?;
    Ok(())
}

impl Store {
    /// Records a payment (with its ledger entry when it is paid at once, at a counter), audited.
    pub async fn insert_payment(
        &self,
        payment: &NewPayment,
        ledger: Option<&NewLedgerEntry>,
        audit: &NewAuditEntry,
    ) -> Result<(), PaymentWriteError> {
        self.insert_payment_with_step(payment, ledger, None, audit)
            .await
    }

    /// Records a payment taken at a counter with everything it causes, all or nothing: its
    /// ledger entry and the application's step out of its paying state.
    pub async fn insert_payment_with_step(
        &self,
        payment: &NewPayment,
        ledger: Option<&NewLedgerEntry>,
        transition: Option<&Transition>,
        audit: &NewAuditEntry,
    ) -> Result<(), PaymentWriteError> {
        let (p, l, t, a) = (
            payment.clone(),
            ledger.cloned(),
            transition.cloned(),
            audit.clone(),
        );
        let written: Result<(), WriteError> = async {
            batched!(self, conn => insert_payment_on(conn, &p, l.as_ref(), t.as_ref(), &a).await)
        }
        .await;
        Ok(written?)
    }

    /// Moves a payment on, with its ledger entry and the application's step, all or nothing.
    pub async fn change_payment(&self, change: &PaymentChange) -> Result<(), PaymentWriteError> {
        let c = change.clone();
        let written: Result<(), WriteError> =
            async { batched!(self, conn => change_payment_on(conn, &c).await) }.await;
        Ok(written?)
    }

    async fn payments_where(
        &self,
        filter: &str,
        value: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM payments WHERE {filter} ORDER BY created_at, number");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(value)
                .fetch_all(pool)
                .await?
        }))
    }

    pub async fn payment(&self, number: &str) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.payments_where("number = $1", number).await?.pop())
    }

    /// The payment a provider's token was issued for.
    pub async fn payment_by_token(&self, token: &str) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.payments_where("token = $1", token).await?.pop())
    }

    /// An application's payments, oldest first.
    pub async fn payments_of_application(
        &self,
        application: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        self.payments_where("application = $1", application).await
    }

    /// The payment (paid or settled) of a bill, if it was paid.
    pub async fn bill_payment(
        &self,
        bill_id: &str,
        payment_id: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE purpose = 'bill' AND bill_id = $1 \
             AND payment_id = $2 AND state IN ('paid', 'settled')"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(bill_id)
                .bind(payment_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// What the refunds of payment `number` gave back so far, in rials.
    pub async fn refunded(&self, number: &str) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                REFUNDED,
            )
            .bind(number)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Posts a refund of payment `number` (of `paid` rials) with its audit line. In the same
    /// transaction the payment's row is taken first (two refunds at once run one after the
    /// other) and what was refunded so far read again: more than `paid` in all is
    /// [`PaymentWriteError::RefundTooMuch`], nothing written.
    pub async fn post_refund(
        &self,
        number: &str,
        paid: i64,
        entry: &NewLedgerEntry,
        audit: &NewAuditEntry,
    ) -> Result<(), PaymentWriteError> {
        let (number, entry, audit) = (number.to_owned(), entry.clone(), audit.clone());
        let written: Result<(), WriteError> = async {
            batched!(self, conn => {
                let found = conn
                    .execute(
                        "UPDATE payments SET state = state WHERE number = $1",
                        vec![Arg::from(&number)],
                    )
                    .await?;
                if found != 1 {
                    return Err(WriteError::Stale);
                }
                let before = conn
                    .fetch_int(
                        REFUNDED,
                        vec![Arg::from(&number)],
                    )
                    .await?;
                let asked: i64 = entry
                    .entry
                    .postings()
                    .iter()
                    .map(|p| p.rials)
                    .filter(|r| *r > 0)
                    .sum();
                if before.saturating_add(asked) > paid {
                    return Err(WriteError::Refused("refund_too_much"));
                }
                post_entry_on(conn, &entry).await?;
                crate::audit::append_on(conn, &audit).await?;
                Ok(())
            })
        }
        .await;
        Ok(written?)
    }

    /// The bills a person paid (or tried to pay) online, newest first, at most `limit`.
    pub async fn bill_payments_of_payer(
        &self,
        payer: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE purpose = 'bill' AND payer = $1 \
             ORDER BY created_at DESC, number DESC LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(payer)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Online payments still pending that were asked for before `before`: the sweep asks the
    /// bank what became of them.
    pub async fn pending_online_payments(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        self.online_payments_in("pending", before, limit).await
    }

    /// Online payments in `state` asked for before `before`, oldest first (the sweep's: paid
    /// ones still to settle with the bank).
    pub async fn online_payments_in(
        &self,
        state: &str,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE state = $1 AND method = 'online' \
             AND created_at < $2 ORDER BY created_at, number LIMIT $3"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(state)
                .bind(before.timestamp_millis())
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The bill payments paid to `payee` (a utility company's account holder), newest first,
    /// at most `limit`: what the company sees of its bills paid through Pishkhan.
    pub async fn bill_payments_to(
        &self,
        payee: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE purpose = 'bill' AND payee = $1 \
             AND state IN ('paid', 'settled', 'reversed') \
             ORDER BY created_at DESC, number DESC LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(payee)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Online payments asked for, or ended (settled, reversed, failed), between `from` and
    /// `until`: what a day's settlement file is reconciled against.
    pub async fn online_payments_around(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE method = 'online' AND token IS NOT NULL \
             AND ((created_at >= $1 AND created_at < $2) OR (ended_at >= $1 AND ended_at < $2)) \
             ORDER BY created_at, number"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(from.timestamp_millis())
                .bind(until.timestamp_millis())
                .fetch_all(pool)
                .await?
        }))
    }

    /// The payment a provider's reference paid, if any.
    pub async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM payments WHERE provider = $1 AND reference = $2");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PaymentRecord>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(provider)
                .bind(reference)
                .fetch_optional(pool)
                .await?
        }))
    }
}
