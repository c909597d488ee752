//! Giving money back: an agency's admin refunds part or all of a payment made to it online,
//! with a reason. The bank gives it back to the card it came from; the books post it from the
//! agency's (or company's) account back to the gateway's. Never more than what is left of the
//! payment after earlier refunds: checked here (`domain::payment::check_refund`), by the bank,
//! and again in the refund's own transaction, so two refunds at once cannot add up past it.

use chrono::{DateTime, Utc};
use pishkhan_domain::Rials;
use pishkhan_domain::identity::Role;
use pishkhan_domain::ledger::{Account, Entry};
use pishkhan_domain::payment::{PaymentState, RefundRefusal, check_refund};
use pishkhan_store::{NewLedgerEntry, PaymentRecord, PaymentWriteError, StoreError};
use serde_json::json;

use crate::App;
use crate::payments::{Gateway, PaymentError, audit, bill_of_payment, refused, write_error};
use crate::policy::{APPLICATION_WORKERS, Principal, works_at_agency};
use crate::tills::fa_rials;

/// The longest reason a refund keeps.
pub const MAX_REASON: usize = 1000;

/// A payment as the agency it was paid to sees it.
#[derive(Debug, Clone)]
pub struct AgencyPayment {
    pub payment: PaymentRecord,
    /// Given back so far, in rials.
    pub refunded: i64,
    /// What may be given back in all ([`refundable`]).
    pub refundable: i64,
    /// This person may refund it (the agency's admin, an online payment settled with the bank,
    /// something left).
    pub may_refund: bool,
}

/// What the agency may give back of a payment: what it received. A counter's share of a fee
/// paid online for an application it filed was the counter's work, and stays the counter's.
pub fn refundable(payment: &PaymentRecord) -> i64 {
    let share = if payment.purpose != "bill" && payment.centre.is_some() {
        bill_of_payment(payment).centre_share()
    } else {
        0
    };
    payment.rials.saturating_sub(share).max(0)
}

/// The account a payment's money was owed to: the company's for a bill, else the agency's.
fn payee_account(payment: &PaymentRecord) -> Account {
    if payment.purpose == "bill" {
        Account::Company(payment.payee.clone())
    } else {
        Account::Agency(payment.payee.clone())
    }
}

impl App {
    /// Payment `number`, for a clerk or admin of the agency it was paid to; `NotFound` for
    /// anyone else.
    pub async fn agency_payment(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<AgencyPayment, PaymentError> {
        let payment = self
            .store()
            .payment(number)
            .await?
            .filter(|p| works_at_agency(principal, APPLICATION_WORKERS, &p.payee))
            .ok_or(PaymentError::NotFound)?;
        let refunded = self.store().refunded(&payment.number).await?;
        let may_refund = works_at_agency(principal, &[Role::AgencyAdmin], &payment.payee)
            && payment.method == "online"
            && payment.state == "settled"
            && refunded < refundable(&payment);
        Ok(AgencyPayment {
            refundable: refundable(&payment),
            payment,
            refunded,
            may_refund,
        })
    }

    /// The agency's admin gives back `amount` (as typed) of payment `number`, with a reason of
    /// at least 10 letters: the bank refunds it to the card, then the books post it. Answers
    /// the payment as the agency sees it after.
    #[tracing::instrument(skip_all, fields(number = %number))]
    pub async fn refund_payment(
        &self,
        principal: &Principal,
        source: &str,
        number: &str,
        amount: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<AgencyPayment, PaymentError> {
        let seen = self.agency_payment(principal, number).await?;
        let payment = seen.payment;
        if !works_at_agency(principal, &[Role::AgencyAdmin], &payment.payee) {
            return Err(refused(
                "refund_admin_only",
                "بازپرداخت را مدیر همان دستگاه انجام می‌دهد.",
                "A refund is made by the admin of the agency it was paid to.",
            ));
        }
        if payment.method != "online" {
            return Err(refused(
                "refund_counter_payment",
                "این پول در دفتر پیشخوان نقدی یا با کارت‌خوان گرفته شده است و از راه درگاه بانک برنمی‌گردد؛ بازپرداخت آن با خود دستگاه است.",
                "This was taken at a counter in cash or by card; it is not refunded through the gateway.",
            ));
        }
        let reason = reason.trim();
        if reason.chars().filter(|c| c.is_alphabetic()).count() < 10 {
            return Err(refused(
                "refund_reason_required",
                "علت بازپرداخت را دست‌کم در ده حرف بنویسید؛ در سابقهٔ پرداخت می‌ماند.",
                "Explain the refund in at least 10 letters; it stays in the payment's record.",
            ));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(refused(
                "refund_reason_too_long",
                "علت بازپرداخت را کوتاه‌تر بنویسید (حداکثر ۱۰۰۰ نویسه).",
                "Explain the refund in at most 1,000 characters.",
            ));
        }
        let asked = Rials::parse(amount).map_err(PaymentError::Refused)?.0;
        let state = PaymentState::parse(&payment.state)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: state", payment.number)))?;
        let too_large = |left: i64| {
            refused(
                "refund_too_large",
                format!(
                    "بازپرداخت بیش از مانده است: از این پرداخت {} به دستگاه رسیده و {} پیش‌تر بازپرداخت شده؛ دست‌بالا {} را می‌توان بازگرداند.",
                    fa_rials(refundable(&payment)),
                    fa_rials(seen.refunded),
                    fa_rials(left)
                ),
                "More than is left of the payment after earlier refunds.",
            )
        };
        let limit = refundable(&payment);
        check_refund(state, limit, seen.refunded, asked).map_err(|e| match e {
            RefundRefusal::NotPositive => refused(
                "refund_not_positive",
                "مبلغ بازپرداخت را بیش از صفر ریال بنویسید.",
                "Write an amount above zero.",
            ),
            RefundRefusal::TooLarge { left } => too_large(left),
            RefundRefusal::NotPaid => refused(
                "refund_not_paid",
                "این پرداخت انجام نشده یا برگشت خورده است و چیزی برای بازپرداخت ندارد.",
                "This payment was not made, or was reversed: nothing to refund.",
            ),
        })?;
        if payment.state != "settled" {
            return Err(refused(
                "refund_not_settled",
                "این پرداخت هنوز با بانک تسویه نشده است؛ چند دقیقهٔ دیگر دوباره تلاش کنید.",
                "The bank has not settled this payment yet; try again in a few minutes.",
            ));
        }
        let Some(settings) = self.config().payment.clone() else {
            return Err(refused(
                "payment_online_off",
                "درگاه پرداخت در این سامانه راه‌اندازی نشده است.",
                "No payment gateway is set up here.",
            ));
        };
        let token = payment.token.clone().unwrap_or_default();
        let bank_ref = match Gateway(&settings).refund(&token, asked).await? {
            Ok(reference) => reference,
            Err(said) => {
                tracing::warn!(payment = %payment.number, said = %said, "the bank refused a refund");
                return Err(refused(
                    "refund_bank_refused",
                    "بانک این بازپرداخت را نپذیرفت (بیش از مانده در بانک یا پرداخت تسویه‌نشده)؛ هیچ پولی جابه‌جا نشد.",
                    "The bank refused the refund; nothing moved.",
                ));
            }
        };
        let terminal = payment.terminal.clone().unwrap_or_default();
        let entry = Entry::transfer(Account::Provider(terminal), payee_account(&payment), asked)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", payment.number)))?;
        let admin = principal.actor_id();
        let ledger = NewLedgerEntry {
            kind: "refund".into(),
            reference: payment.number.clone(),
            memo: format!("بازپرداخت پرداخت {}: {reason}", payment.number),
            key: Some(format!("refund:{}:{bank_ref}", payment.number)),
            reverses: None,
            posted_by: admin.clone(),
            posted_at: now,
            entry,
        };
        let line = audit(
            &admin,
            source,
            "payment.refund",
            &payment.number,
            now,
            json!({ "rials": asked, "reason": reason, "bank_reference": bank_ref }),
        );
        match self
            .store()
            .post_refund(&payment.number, limit, &ledger, &line)
            .await
        {
            Ok(()) => {}
            Err(PaymentWriteError::RefundTooMuch) => {
                // The bank gave it back but the books would go past the payment: another refund
                // was posted at the same instant. Said loudly: reconciliation must look at it.
                tracing::error!(
                    payment = %payment.number, bank_reference = %bank_ref,
                    "a refund the bank made was not posted: it would pass the payment's amount"
                );
                let left = limit.saturating_sub(self.store().refunded(&payment.number).await?);
                return Err(too_large(left.max(0)));
            }
            Err(e) => return Err(write_error(e)),
        }
        self.agency_payment(principal, number).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid_online(purpose: &str, centre: Option<&str>, lines: &str) -> PaymentRecord {
        PaymentRecord {
            number: "PAY-1".into(),
            purpose: purpose.into(),
            application: None,
            bill_id: None,
            payment_id: None,
            payee: "tehran-registry".into(),
            rials: 350_000,
            lines: lines.into(),
            method: "online".into(),
            state: "settled".into(),
            provider: Some("gateway".into()),
            terminal: Some("T-1".into()),
            token: Some("SBX1".into()),
            reference: Some("123456".into()),
            centre: centre.map(str::to_owned),
            operator: None,
            payer: Some("citizen:1".into()),
            created_at: 0,
            paid_at: Some(0),
            ended_at: Some(0),
            note: None,
        }
    }

    #[test]
    fn an_agency_gives_back_what_it_received_not_the_counters_share() {
        let lines = r#"[{"title":"تعرفه","rials":230000,"centre_share":0},
                        {"title":"کارمزد دفتر","rials":120000,"centre_share":120000}]"#;
        // Filed at a counter, paid online: the counter's 120,000 was its work.
        assert_eq!(
            refundable(&paid_online("fee", Some("tehran-1001"), lines)),
            230_000
        );
        // Filed online: no counter, the whole payment went to the agency.
        assert_eq!(refundable(&paid_online("fee", None, lines)), 350_000);
        // A bill: the company received all of it.
        assert_eq!(refundable(&paid_online("bill", None, "[]")), 350_000);
        // Lines that claim more share than was paid never make it negative.
        let greedy = r#"[{"title":"x","rials":350000,"centre_share":999999999}]"#;
        assert_eq!(refundable(&paid_online("fee", Some("c"), greedy)), 0);
    }
}
