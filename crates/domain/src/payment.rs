//! Payments: the rules money follows from the moment a person is asked to pay until it is settled
//! or given back, whatever the bank says, twice, late or never.
//!
//! An online payment follows the redirect flow Iranian gateways use: Pishkhan asks the provider
//! for a token for an amount on its terminal; the person pays on the bank's page; the bank calls
//! back with a reference; Pishkhan verifies it with the bank ([`check_confirmation`]: same token,
//! terminal and amount, a reference not used before) and only then counts it paid; later the
//! provider settles it, or Pishkhan reverses it within the bank's window. At the counter the
//! operator records cash or a card terminal's reference. [`PaymentState::next`] is the only way a
//! payment's state changes.

use std::fmt;

/// How it was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// Through a payment provider's page.
    Online,
    /// Cash at a counter.
    Cash,
    /// A card terminal (POS) at a counter, with its reference.
    Card,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Online, Method::Cash, Method::Card];

    pub fn code(self) -> &'static str {
        match self {
            Method::Online => "online",
            Method::Cash => "cash",
            Method::Card => "card",
        }
    }

    pub fn parse(code: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            Method::Online => "پرداخت اینترنتی",
            Method::Cash => "نقدی",
            Method::Card => "کارت‌خوان",
        }
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// Asked for; the person has not paid, or the bank has not said so.
    Pending,
    /// Verified with the bank (or recorded at the counter): the money is ours to pass on.
    Paid,
    /// The provider paid it out to us: final.
    Settled,
    /// Given back within the bank's window (a wrong amount, a payment nobody needs): final.
    Reversed,
    /// Never paid: declined, cancelled, or the bank never confirmed it: final.
    Failed,
}

/// What happens to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The bank confirmed it and the confirmation checked out.
    Verified,
    /// The bank declined it, the person cancelled, or it never came back in time.
    Declined,
    /// The provider settled it.
    Settled,
    /// Reversed with the bank.
    Reversed,
}

impl PaymentState {
    pub fn code(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Paid => "paid",
            PaymentState::Settled => "settled",
            PaymentState::Reversed => "reversed",
            PaymentState::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<PaymentState> {
        [
            PaymentState::Pending,
            PaymentState::Paid,
            PaymentState::Settled,
            PaymentState::Reversed,
            PaymentState::Failed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            PaymentState::Pending => "در انتظار پرداخت",
            PaymentState::Paid => "پرداخت شد",
            PaymentState::Settled => "تسویه شد",
            PaymentState::Reversed => "برگشت داده شد",
            PaymentState::Failed => "ناموفق",
        }
    }

    /// Has the money arrived (and not gone back)?
    pub fn counts_as_paid(self) -> bool {
        matches!(self, PaymentState::Paid | PaymentState::Settled)
    }

    /// The state after `event`, or None when it cannot happen now: a settled payment is not
    /// reversed, a failed one not settled, and nothing is paid twice.
    pub fn next(self, event: PaymentEvent) -> Option<PaymentState> {
        use PaymentEvent as E;
        use PaymentState as S;
        match (self, event) {
            (S::Pending, E::Verified) => Some(S::Paid),
            (S::Pending, E::Declined) => Some(S::Failed),
            (S::Paid, E::Settled) => Some(S::Settled),
            (S::Paid, E::Reversed) => Some(S::Reversed),
            _ => None,
        }
    }
}

/// What Pishkhan asked the provider for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub terminal: String,
    pub token: String,
    pub rials: i64,
}

/// What the bank said, at the callback or when asked to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub token: String,
    pub terminal: String,
    pub rials: i64,
    /// The bank's reference number for the payment (شماره مرجع).
    pub reference: String,
    /// Did the bank say it was paid?
    pub paid: bool,
}

/// Why a confirmation is not counted as payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The bank says it was not paid.
    NotPaid,
    /// For another payment.
    WrongToken,
    /// From another terminal than the one asked.
    WrongTerminal,
    /// Not the amount asked: it is reversed, never counted.
    WrongAmount { asked: i64, paid: i64 },
    /// No reference, or one that is not a reference.
    BadReference,
    /// The reference already paid another payment.
    ReferenceUsed,
}

impl Refusal {
    /// A stable code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotPaid => "payment_not_paid",
            Refusal::WrongToken => "payment_wrong_token",
            Refusal::WrongTerminal => "payment_wrong_terminal",
            Refusal::WrongAmount { .. } => "payment_wrong_amount",
            Refusal::BadReference => "payment_bad_reference",
            Refusal::ReferenceUsed => "payment_reference_used",
        }
    }

    /// What the person is told.
    pub fn message_fa(&self) -> String {
        match self {
            Refusal::NotPaid => {
                "بانک پرداخت را تأیید نکرد. اگر مبلغی از حسابتان کم شده، بانک آن را ظرف ۷۲ ساعت برمی‌گرداند.".into()
            }
            Refusal::WrongToken | Refusal::WrongTerminal | Refusal::BadReference => {
                "پاسخ بانک با این پرداخت نمی‌خواند و پذیرفته نشد. اگر مبلغی کم شده، برگشت داده می‌شود.".into()
            }
            Refusal::WrongAmount { asked, paid } => format!(
                "مبلغ پرداخت‌شده ({}) با مبلغ قبض ({}) برابر نیست؛ پرداخت برگشت داده شد و باید دوباره پرداخت کنید.",
                crate::Rials(*paid).format_rials(crate::Language::Persian),
                crate::Rials(*asked).format_rials(crate::Language::Persian),
            ),
            Refusal::ReferenceUsed => {
                "این شمارهٔ مرجع پیش‌تر برای پرداخت دیگری ثبت شده است.".into()
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Does the bank's confirmation pay what was asked? `reference_used` says whether its reference
/// already paid something else. The order matters for what the person is told: a payment the
/// bank declined is not "the wrong amount".
pub fn check_confirmation(
    asked: &PaymentRequest,
    said: &Confirmation,
    reference_used: bool,
) -> Result<(), Refusal> {
    if !said.paid {
        return Err(Refusal::NotPaid);
    }
    if said.token != asked.token {
        return Err(Refusal::WrongToken);
    }
    if said.terminal != asked.terminal {
        return Err(Refusal::WrongTerminal);
    }
    if !is_reference(&said.reference) {
        return Err(Refusal::BadReference);
    }
    if reference_used {
        return Err(Refusal::ReferenceUsed);
    }
    if said.rials != asked.rials {
        return Err(Refusal::WrongAmount {
            asked: asked.rials,
            paid: said.rials,
        });
    }
    Ok(())
}

/// A bank or card terminal's reference: 6 to 40 ASCII letters, digits or dashes.
pub fn is_reference(text: &str) -> bool {
    (6..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Why a refund cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRefusal {
    /// Nothing to refund, or a negative amount.
    NotPositive,
    /// More than what is left of the payment after earlier refunds.
    TooLarge { left: i64 },
    /// The payment is not (or no longer) paid.
    NotPaid,
}

/// May `asked` rials of a payment of `paid` rials in `state` be refunded, after `refunded` so far?
pub fn check_refund(
    state: PaymentState,
    paid: i64,
    refunded: i64,
    asked: i64,
) -> Result<(), RefundRefusal> {
    if !state.counts_as_paid() {
        return Err(RefundRefusal::NotPaid);
    }
    if asked <= 0 {
        return Err(RefundRefusal::NotPositive);
    }
    let left = paid.saturating_sub(refunded).max(0);
    if asked > left {
        return Err(RefundRefusal::TooLarge { left });
    }
    Ok(())
}

/// A till's count at its close, per method, against what the books expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillCount {
    pub method: Method,
    pub expected: i64,
    pub counted: i64,
}

impl TillCount {
    /// Counted less expected: negative when money is missing.
    pub fn difference(&self) -> i64 {
        self.counted - self.expected
    }
}

/// Why a till cannot be closed as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseRefusal {
    /// A count below zero.
    NegativeCount(Method),
    /// A difference without an explanation a manager can judge (at least 10 letters).
    Unexplained { difference: i64 },
}

/// Checks a till's close: every count non-negative, and any difference explained. Answers the
/// total difference (counted less expected), which the manager approves before it is posted.
pub fn check_close(counts: &[TillCount], explanation: Option<&str>) -> Result<i64, CloseRefusal> {
    let mut difference: i64 = 0;
    for count in counts {
        if count.counted < 0 {
            return Err(CloseRefusal::NegativeCount(count.method));
        }
        difference = difference.saturating_add(count.difference());
    }
    let explained = explanation
        .map(|e| e.chars().filter(|c| c.is_alphabetic()).count() >= 10)
        .unwrap_or(false);
    if counts.iter().any(|c| c.difference() != 0) && !explained {
        return Err(CloseRefusal::Unexplained { difference });
    }
    Ok(difference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> PaymentRequest {
        PaymentRequest {
            terminal: "T-1001".into(),
            token: "tok-1".into(),
            rials: 230_000,
        }
    }

    fn said() -> Confirmation {
        Confirmation {
            token: "tok-1".into(),
            terminal: "T-1001".into(),
            rials: 230_000,
            reference: "REF-000123".into(),
            paid: true,
        }
    }

    #[test]
    fn a_confirmation_pays_only_what_was_asked_once() {
        assert_eq!(check_confirmation(&asked(), &said(), false), Ok(()));
        let wrong = |edit: fn(&mut Confirmation)| {
            let mut c = said();
            edit(&mut c);
            check_confirmation(&asked(), &c, false)
        };
        assert_eq!(wrong(|c| c.paid = false), Err(Refusal::NotPaid));
        assert_eq!(
            wrong(|c| c.token = "tok-2".into()),
            Err(Refusal::WrongToken)
        );
        assert_eq!(
            wrong(|c| c.terminal = "T-9".into()),
            Err(Refusal::WrongTerminal)
        );
        assert_eq!(
            wrong(|c| c.reference = "1".into()),
            Err(Refusal::BadReference)
        );
        assert_eq!(
            wrong(|c| c.reference = "REF 1234".into()),
            Err(Refusal::BadReference)
        );
        assert_eq!(
            wrong(|c| c.rials = 23_000),
            Err(Refusal::WrongAmount {
                asked: 230_000,
                paid: 23_000
            })
        );
        assert_eq!(
            check_confirmation(&asked(), &said(), true),
            Err(Refusal::ReferenceUsed)
        );
        // A declined payment is told as declined, whatever else is wrong with it.
        assert_eq!(
            wrong(|c| {
                c.paid = false;
                c.rials = 1;
            }),
            Err(Refusal::NotPaid)
        );
        assert!(
            Refusal::WrongAmount {
                asked: 230_000,
                paid: 23_000
            }
            .message_fa()
            .contains("۲۳٬۰۰۰ ریال")
        );
    }

    #[test]
    fn a_payment_moves_forward_only() {
        use PaymentEvent as E;
        use PaymentState as S;
        assert_eq!(S::Pending.next(E::Verified), Some(S::Paid));
        assert_eq!(S::Paid.next(E::Settled), Some(S::Settled));
        assert_eq!(S::Paid.next(E::Reversed), Some(S::Reversed));
        assert_eq!(S::Pending.next(E::Declined), Some(S::Failed));
        // Paid twice, settled after reversal, reversed after settlement, revived after failure.
        assert_eq!(S::Paid.next(E::Verified), None);
        assert_eq!(S::Reversed.next(E::Settled), None);
        assert_eq!(S::Settled.next(E::Reversed), None);
        assert_eq!(S::Failed.next(E::Verified), None);
        for s in [S::Pending, S::Paid, S::Settled, S::Reversed, S::Failed] {
            assert_eq!(S::parse(s.code()), Some(s));
        }
        for m in Method::ALL {
            assert_eq!(Method::parse(m.code()), Some(m));
        }
    }

    #[test]
    fn a_refund_is_never_more_than_what_is_left() {
        use PaymentState as S;
        assert_eq!(check_refund(S::Paid, 230_000, 0, 230_000), Ok(()));
        assert_eq!(
            check_refund(S::Settled, 230_000, 200_000, 30_001),
            Err(RefundRefusal::TooLarge { left: 30_000 })
        );
        assert_eq!(
            check_refund(S::Paid, 230_000, 0, 0),
            Err(RefundRefusal::NotPositive)
        );
        assert_eq!(
            check_refund(S::Reversed, 230_000, 0, 1),
            Err(RefundRefusal::NotPaid)
        );
        assert_eq!(
            check_refund(S::Pending, 230_000, 0, 1),
            Err(RefundRefusal::NotPaid)
        );
    }

    #[test]
    fn a_till_closes_only_when_every_difference_is_explained() {
        let counts = [
            TillCount {
                method: Method::Cash,
                expected: 1_500_000,
                counted: 1_450_000,
            },
            TillCount {
                method: Method::Card,
                expected: 800_000,
                counted: 800_000,
            },
        ];
        assert_eq!(
            check_close(&counts, None),
            Err(CloseRefusal::Unexplained {
                difference: -50_000
            })
        );
        assert_eq!(
            check_close(&counts, Some("کم")),
            Err(CloseRefusal::Unexplained {
                difference: -50_000
            })
        );
        assert_eq!(
            check_close(
                &counts,
                Some("اسکناس پنجاه‌هزار ریالی به مشتری اضافه برگردانده شد")
            ),
            Ok(-50_000)
        );
        assert_eq!(check_close(&counts[1..], None), Ok(0));
        let negative = [TillCount {
            method: Method::Cash,
            expected: 0,
            counted: -1,
        }];
        assert_eq!(
            check_close(&negative, Some("whatever explanation")),
            Err(CloseRefusal::NegativeCount(Method::Cash))
        );
    }
}
