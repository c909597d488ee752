//! The counter's day. Each operator closes their till once a day: the books' expected totals
//! by method (what they took in cash and by card that day), the amounts counted, and any
//! difference explained; the centre's manager approves a difference, which posts it to the
//! centre's differences account (once: the entry's key is the till's day). When every till that
//! took money is closed, the manager closes the centre's day. A closed till takes no more money
//! that day.

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::ledger::{Account, Entry};
use pishkhan_domain::payment::{CloseRefusal, Method, TillCount, check_close};
use pishkhan_domain::text::to_persian_digits;
use pishkhan_domain::{Language, Rials};
use pishkhan_store::{
    CentreDayRecord, CloseWriteError, NewAuditEntry, NewLedgerEntry, PaymentRecord, StoreError,
    TillCloseRecord,
};
use serde_json::json;

use crate::App;
use crate::payments::{PaymentError, refused};
use crate::policy::Principal;

/// The longest explanation of a till's difference kept (the form allows as much).
const MAX_EXPLANATION: usize = 1000;

/// The instants a Jalali day in Iran time runs between: [start, end).
pub fn day_bounds(day: JalaliDate) -> (DateTime<Utc>, DateTime<Utc>) {
    pishkhan_domain::jalali::iran_day_bounds(day)
}

/// One operator's till on one day.
#[derive(Debug, Clone)]
pub struct TillDay {
    pub centre: String,
    pub operator: String,
    pub day: JalaliDate,
    /// What they took that day, oldest first.
    pub takings: Vec<PaymentRecord>,
    pub expected_cash: i64,
    pub expected_card: i64,
    pub close: Option<TillCloseRecord>,
}

/// One till as the centre's day shows it.
#[derive(Debug, Clone)]
pub struct TillOfDay {
    pub operator: String,
    pub expected_cash: i64,
    pub expected_card: i64,
    pub close: Option<TillCloseRecord>,
}

/// A centre's day: every till that took money or was closed, and the centre's own close.
#[derive(Debug, Clone)]
pub struct CentreDay {
    pub centre: String,
    pub day: JalaliDate,
    pub tills: Vec<TillOfDay>,
    pub closed: Option<CentreDayRecord>,
}

fn holds(principal: &Principal, role: Role, centre: &str) -> bool {
    principal
        .scopes_of(role)
        .into_iter()
        .any(|s| *s == Scope::Centre(centre.to_owned()))
}

fn audit(
    actor: &str,
    source: &str,
    action: &str,
    target: &str,
    at: DateTime<Utc>,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        target_kind: "till".into(),
        target_id: target.to_owned(),
        source: source.to_owned(),
        details: details.to_string(),
    }
}

pub(crate) fn fa_rials(rials: i64) -> String {
    Rials(rials).format_rials(Language::Persian)
}

fn expected(takings: &[PaymentRecord]) -> (i64, i64) {
    takings.iter().fold((0i64, 0i64), |(cash, card), p| {
        match Method::parse(&p.method) {
            Some(Method::Cash) => (cash.saturating_add(p.rials), card),
            Some(Method::Card) => (cash, card.saturating_add(p.rials)),
            _ => (cash, card),
        }
    })
}

fn close_error(error: CloseWriteError, closed: PaymentError) -> PaymentError {
    match error {
        CloseWriteError::Closed => closed,
        CloseWriteError::Stale => refused(
            "till_stale",
            "این صندوق هم‌زمان تغییر کرد؛ صفحه را دوباره باز کنید.",
            "This till changed meanwhile; reload the page.",
        ),
        CloseWriteError::Moved => refused(
            "till_moved",
            "در همین لحظه پولی در صندوق ثبت شد و شمارش شما دیگر با دفتر نمی‌خواند؛ صفحه را دوباره باز کنید و دوباره بشمارید.",
            "Money was taken while you counted; reload the page and count again.",
        ),
        CloseWriteError::Store(e) => PaymentError::Store(e),
    }
}

impl App {
    /// Refuses taking money at a till closed for today, or at a centre whose day is closed: said
    /// early here, and checked again inside the payment's transaction (its `till_day`).
    pub(crate) async fn till_open(
        &self,
        centre: &str,
        operator: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentError> {
        let day = JalaliDate::in_iran(now).format_numeric();
        let closed = self
            .store()
            .till_close(centre, operator, &day)
            .await?
            .is_some()
            || self.store().centre_day(centre, &day).await?.is_some();
        if closed {
            return Err(crate::payments::till_closed());
        }
        Ok(())
    }

    /// An operator's own till at `centre` on `day`.
    pub async fn till_day(
        &self,
        principal: &Principal,
        centre: &str,
        day: JalaliDate,
    ) -> Result<TillDay, PaymentError> {
        if !holds(principal, Role::Operator, centre) {
            return Err(PaymentError::NotFound);
        }
        self.till_of(centre, &principal.actor_id(), day).await
    }

    async fn till_of(
        &self,
        centre: &str,
        operator: &str,
        day: JalaliDate,
    ) -> Result<TillDay, PaymentError> {
        let (from, until) = day_bounds(day);
        let takings = self
            .store()
            .counter_takings(centre, operator, from, until)
            .await?;
        let (expected_cash, expected_card) = expected(&takings);
        let close = self
            .store()
            .till_close(centre, operator, &day.format_numeric())
            .await?;
        Ok(TillDay {
            centre: centre.to_owned(),
            operator: operator.to_owned(),
            day,
            takings,
            expected_cash,
            expected_card,
            close,
        })
    }

    /// The operator closes their till for `day` (today or a day before), with what they
    /// counted. A difference needs an explanation of at least 10 letters and waits for the
    /// manager; none closes it at once. Closed already: refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn close_till(
        &self,
        principal: &Principal,
        source: &str,
        centre: &str,
        day: JalaliDate,
        counted_cash: i64,
        counted_card: i64,
        explanation: &str,
        now: DateTime<Utc>,
    ) -> Result<TillCloseRecord, PaymentError> {
        if !holds(principal, Role::Operator, centre) {
            return Err(refused(
                "till_not_yours",
                "صندوق را متصدی همان دفتر می‌بندد.",
                "A till is closed by an operator of its centre.",
            ));
        }
        if day > JalaliDate::in_iran(now) {
            return Err(refused(
                "till_future_day",
                "روزی را که هنوز نرسیده نمی‌توان بست.",
                "A day that has not come cannot be closed.",
            ));
        }
        let till = self.till_of(centre, &principal.actor_id(), day).await?;
        let closed_already = || {
            refused(
                "till_closed_already",
                format!(
                    "صندوق شما برای روز {} پیش‌تر بسته شده است و دوباره بسته نمی‌شود.",
                    day.format_fa()
                ),
                "Your till is closed for this day already; it is not closed twice.",
            )
        };
        if till.close.is_some() {
            return Err(closed_already());
        }
        let counts = [
            TillCount {
                method: Method::Cash,
                expected: till.expected_cash,
                counted: counted_cash,
            },
            TillCount {
                method: Method::Card,
                expected: till.expected_card,
                counted: counted_card,
            },
        ];
        let explanation = explanation.trim();
        if explanation.chars().count() > MAX_EXPLANATION {
            return Err(refused(
                "till_explanation_too_long",
                "علت اختلاف را کوتاه‌تر بنویسید (حداکثر ۱۰۰۰ نویسه).",
                "Explain the difference in at most 1,000 characters.",
            ));
        }
        let difference = check_close(&counts, Some(explanation)).map_err(|e| match e {
            CloseRefusal::NegativeCount(_) => refused(
                "till_negative_count",
                "مبلغ شمارش‌شده نمی‌تواند منفی باشد.",
                "A counted amount cannot be negative.",
            ),
            CloseRefusal::Unexplained { difference } => refused(
                "till_unexplained",
                format!(
                    "شمارش با دفتر نمی‌خواند ({} {}). علت اختلاف را دست‌کم در ده حرف بنویسید تا مدیر دفتر آن را بررسی و تأیید کند.",
                    if difference < 0 { "کسری" } else { "اضافه" },
                    fa_rials(difference.saturating_abs())
                ),
                "The count differs from the books; explain why in at least 10 letters for the centre's manager to approve.",
            ),
        })?;
        let any_difference = counts.iter().any(|c| c.difference() != 0);
        let record = TillCloseRecord {
            centre: centre.to_owned(),
            operator: principal.actor_id(),
            day: day.format_numeric(),
            expected_cash: till.expected_cash,
            counted_cash,
            expected_card: till.expected_card,
            counted_card,
            difference,
            explanation: any_difference.then(|| explanation.to_owned()),
            state: if any_difference { "awaiting" } else { "closed" }.into(),
            closed_at: now.timestamp_millis(),
            approved_by: None,
            approved_at: None,
            entry_id: None,
        };
        let line = audit(
            &record.operator,
            source,
            "till.close",
            &format!("{centre}/{}:{}", record.operator, record.day),
            now,
            json!({
                "expected_cash": record.expected_cash, "counted_cash": counted_cash,
                "expected_card": record.expected_card, "counted_card": counted_card,
                "difference": difference, "explanation": record.explanation,
            }),
        );
        self.store()
            .insert_till_close(&record, day_bounds(day), &line)
            .await
            .map_err(|e| close_error(e, closed_already()))?;
        Ok(record)
    }

    /// The centre's manager approves a till close's difference: the difference moves between
    /// the till and the centre's differences account, once.
    pub async fn approve_till_close(
        &self,
        principal: &Principal,
        source: &str,
        centre: &str,
        operator: &str,
        day: JalaliDate,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentError> {
        if !holds(principal, Role::CentreManager, centre) {
            return Err(refused(
                "till_manager_only",
                "اختلاف صندوق را مدیر همان دفتر تأیید می‌کند.",
                "A till's difference is approved by its centre's manager.",
            ));
        }
        let key_day = day.format_numeric();
        let close = self.store().till_close(centre, operator, &key_day).await?;
        let Some(close) = close.filter(|c| c.state == "awaiting") else {
            return Err(refused(
                "till_nothing_to_approve",
                "این صندوق اختلافی برای تأیید ندارد یا پیش‌تر تأیید شده است.",
                "This till has no difference waiting for approval.",
            ));
        };
        let till = Account::Till(centre.to_owned(), operator.to_owned());
        let differences = Account::Differences(centre.to_owned());
        let key = format!("{}:{key_day}", till.key());
        // Cash short by some and card over by as much: nothing moves, but the manager still
        // looks. Short: the till gives the missing amount to differences; over: the reverse.
        let entry = match close.difference {
            0 => None,
            d if d < 0 => Some(Entry::transfer(till, differences, d.saturating_neg())),
            d => Some(Entry::transfer(differences, till, d)),
        }
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
        let approver = principal.actor_id();
        let entry = entry.map(|entry| NewLedgerEntry {
            kind: "difference".into(),
            reference: key.clone(),
            memo: format!(
                "اختلاف صندوق روز {}: {}",
                day.format_fa(),
                close.explanation.clone().unwrap_or_default()
            ),
            key: Some(key.clone()),
            reverses: None,
            posted_by: approver.clone(),
            posted_at: now,
            entry,
        });
        let line = audit(
            &approver,
            source,
            "till.approve",
            &format!("{centre}/{operator}:{key_day}"),
            now,
            json!({ "difference": close.difference }),
        );
        self.store()
            .approve_till_close(
                centre,
                operator,
                &key_day,
                &approver,
                now,
                entry.as_ref(),
                &line,
            )
            .await
            .map_err(|e| {
                close_error(
                    e,
                    refused(
                        "till_nothing_to_approve",
                        "این اختلاف پیش‌تر تأیید شده است.",
                        "This difference is approved already.",
                    ),
                )
            })
    }

    /// A centre's day for its manager: every till that took money or was closed.
    pub async fn centre_day(
        &self,
        principal: &Principal,
        centre: &str,
        day: JalaliDate,
    ) -> Result<CentreDay, PaymentError> {
        if !holds(principal, Role::CentreManager, centre) {
            return Err(PaymentError::NotFound);
        }
        let (from, until) = day_bounds(day);
        let key_day = day.format_numeric();
        let mut operators = self
            .store()
            .operators_with_takings(centre, from, until)
            .await?;
        for close in self.store().till_closes_of(centre, &key_day).await? {
            operators.push(close.operator);
        }
        operators.sort();
        operators.dedup();
        let mut tills = Vec::with_capacity(operators.len());
        for operator in operators {
            let till = self.till_of(centre, &operator, day).await?;
            tills.push(TillOfDay {
                operator,
                expected_cash: till.expected_cash,
                expected_card: till.expected_card,
                close: till.close,
            });
        }
        let closed = self.store().centre_day(centre, &key_day).await?;
        Ok(CentreDay {
            centre: centre.to_owned(),
            day,
            tills,
            closed,
        })
    }

    /// The manager closes the centre's day once every till that took money is closed and any
    /// difference approved.
    pub async fn close_centre_day(
        &self,
        principal: &Principal,
        source: &str,
        centre: &str,
        day: JalaliDate,
        now: DateTime<Utc>,
    ) -> Result<CentreDayRecord, PaymentError> {
        if !holds(principal, Role::CentreManager, centre) {
            return Err(refused(
                "till_manager_only",
                "روز دفتر را مدیر همان دفتر می‌بندد.",
                "A centre's day is closed by its manager.",
            ));
        }
        if day > JalaliDate::in_iran(now) {
            return Err(refused(
                "till_future_day",
                "روزی را که هنوز نرسیده نمی‌توان بست.",
                "A day that has not come cannot be closed.",
            ));
        }
        let centre_day = self.centre_day(principal, centre, day).await?;
        let closed_already = || {
            refused(
                "centre_day_closed_already",
                format!("روز {} این دفتر پیش‌تر بسته شده است.", day.format_fa()),
                "This centre's day is closed already.",
            )
        };
        if centre_day.closed.is_some() {
            return Err(closed_already());
        }
        let open = centre_day
            .tills
            .iter()
            .filter(|t| t.close.as_ref().is_none_or(|c| c.state == "awaiting"))
            .count();
        if open > 0 {
            return Err(refused(
                "centre_tills_open",
                format!(
                    "{} صندوق هنوز بسته نشده یا اختلافش تأیید نشده است؛ نخست آن‌ها را ببندید و تأیید کنید.",
                    to_persian_digits(&open.to_string())
                ),
                "Some tills are still open or wait for approval; close and approve them first.",
            ));
        }
        let closes = centre_day.tills.iter().filter_map(|t| t.close.as_ref());
        let (cash, card, difference) = closes.fold((0i64, 0i64, 0i64), |(a, b, d), c| {
            (
                a.saturating_add(c.counted_cash),
                b.saturating_add(c.counted_card),
                d.saturating_add(c.difference),
            )
        });
        let record = CentreDayRecord {
            centre: centre.to_owned(),
            day: day.format_numeric(),
            cash,
            card,
            difference,
            tills: i64::try_from(centre_day.tills.len()).unwrap_or(i64::MAX),
            closed_by: principal.actor_id(),
            closed_at: now.timestamp_millis(),
        };
        let line = audit(
            &record.closed_by,
            source,
            "centre_day.close",
            &format!("{centre}:{}", record.day),
            now,
            json!({ "cash": cash, "card": card, "difference": difference, "tills": record.tills }),
        );
        let expected = centre_day.tills.iter().fold(0i64, |t, till| {
            t.saturating_add(till.expected_cash)
                .saturating_add(till.expected_card)
        });
        self.store()
            .insert_centre_day(&record, expected, day_bounds(day), &line)
            .await
            .map_err(|e| close_error(e, closed_already()))?;
        Ok(record)
    }
}

impl App {
    /// The name an operator is shown by (their account's display name), from their actor id.
    pub async fn operator_name(&self, operator: &str) -> Result<String, StoreError> {
        let id = operator.strip_prefix("user:").unwrap_or(operator);
        Ok(self
            .store()
            .user_by_id(id)
            .await?
            .map_or_else(|| operator.to_owned(), |u| u.display_name))
    }
}
