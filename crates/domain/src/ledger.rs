//! The books: every movement of money is one balanced entry of postings, in whole rials.
//!
//! Double entry: each [`Entry`] moves money between [`Account`]s, its postings (debit positive,
//! credit negative) summing to zero, so the books as a whole always sum to zero. Nothing posted is
//! edited or deleted; a mistake is undone by posting the entry's [`Entry::reversal`]. What an
//! account holds is the sum of its postings.
//!
//! The accounts, and which way their balances run:
//! - a payment provider's (a bank gateway's) clearing account and a counter's till hold money
//!   (debit balances): what came in and has not yet been passed on;
//! - an agency, a centre (its share, کارمزد) and a utility company are owed money (credit
//!   balances): what was collected for them.
//!
//! A fee bill ([`FeeBill`]) turns a service card's fee lines into what one application owes and
//! whom each rial belongs to; [`FeeBill::payment_entry`] is the entry its payment posts.

use std::collections::BTreeMap;
use std::fmt;

use crate::catalog::ServiceCard;

/// The largest amount one posting may carry: 10^15 rials (a hundred thousand billion tomans),
/// far above any fee or bill, and small enough that no sum of a day's postings can overflow.
pub const MAX_POSTING_RIALS: i64 = 1_000_000_000_000_000;

/// An account in the books.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    /// Money a payment provider (bank gateway) took for us and has not yet settled onward.
    Provider(String),
    /// Cash and card-terminal payments at one operator's till in one centre: (centre, operator).
    Till(String, String),
    /// What is owed to an agency (its fees).
    Agency(String),
    /// What a centre has earned (its share of fees).
    Centre(String),
    /// What is owed to a utility or other bill-issuing company for bills paid.
    Company(String),
    /// Differences found at a till's close, explained and approved, held apart.
    Differences(String),
}

impl Account {
    /// The account as stored: `kind:holder` (`till:centre/operator`).
    pub fn key(&self) -> String {
        match self {
            Account::Provider(p) => format!("provider:{p}"),
            Account::Till(c, o) => format!("till:{c}/{o}"),
            Account::Agency(a) => format!("agency:{a}"),
            Account::Centre(c) => format!("centre:{c}"),
            Account::Company(c) => format!("company:{c}"),
            Account::Differences(c) => format!("differences:{c}"),
        }
    }

    /// Reads a stored key back.
    pub fn parse(key: &str) -> Option<Account> {
        let (kind, holder) = key.split_once(':')?;
        if holder.is_empty() {
            return None;
        }
        let holder = holder.to_owned();
        Some(match kind {
            "provider" => Account::Provider(holder),
            "till" => {
                let (centre, operator) = holder.split_once('/')?;
                if centre.is_empty() || operator.is_empty() {
                    return None;
                }
                Account::Till(centre.to_owned(), operator.to_owned())
            }
            "agency" => Account::Agency(holder),
            "centre" => Account::Centre(holder),
            "company" => Account::Company(holder),
            "differences" => Account::Differences(holder),
            _ => return None,
        })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// One line of an entry: `rials` debited to the account (positive) or credited (negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub rials: i64,
}

/// Why an entry cannot be posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// Fewer than two postings: money must come from somewhere and go somewhere.
    TooFewPostings,
    /// A posting of zero rials says nothing.
    ZeroPosting(Account),
    /// A posting above [`MAX_POSTING_RIALS`] either way.
    TooLarge(Account),
    /// Debits and credits differ by this much.
    Unbalanced(i64),
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::TooFewPostings => f.write_str("an entry needs at least two postings"),
            LedgerError::ZeroPosting(a) => write!(f, "a posting of 0 rials to {a}"),
            LedgerError::TooLarge(a) => write!(f, "a posting to {a} above the largest amount"),
            LedgerError::Unbalanced(by) => write!(f, "debits and credits differ by {by} rials"),
        }
    }
}

impl std::error::Error for LedgerError {}

/// A balanced set of postings, posted together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    postings: Vec<Posting>,
}

impl Entry {
    /// Checks that the postings balance, each non-zero and within bounds. Postings to the same
    /// account are kept apart (each says what it was for).
    pub fn new(postings: Vec<Posting>) -> Result<Entry, LedgerError> {
        if postings.len() < 2 {
            return Err(LedgerError::TooFewPostings);
        }
        let mut sum: i128 = 0;
        for posting in &postings {
            if posting.rials == 0 {
                return Err(LedgerError::ZeroPosting(posting.account.clone()));
            }
            if posting.rials.unsigned_abs() > MAX_POSTING_RIALS as u64 {
                return Err(LedgerError::TooLarge(posting.account.clone()));
            }
            sum += i128::from(posting.rials);
        }
        if sum != 0 {
            let by = i64::try_from(sum).unwrap_or(if sum > 0 { i64::MAX } else { i64::MIN });
            return Err(LedgerError::Unbalanced(by));
        }
        Ok(Entry { postings })
    }

    /// Money moving from one account to another: `to` debited, `from` credited.
    pub fn transfer(from: Account, to: Account, rials: i64) -> Result<Entry, LedgerError> {
        Entry::new(vec![
            Posting { account: to, rials },
            Posting {
                account: from,
                // i64::MIN has no negation; it is refused as too large for `to` first.
                rials: rials.checked_neg().unwrap_or(i64::MAX),
            },
        ])
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// The entry that undoes this one: each posting the other way.
    pub fn reversal(&self) -> Entry {
        Entry {
            postings: self
                .postings
                .iter()
                .map(|p| Posting {
                    account: p.account.clone(),
                    rials: -p.rials,
                })
                .collect(),
        }
    }

    /// The total moved: the sum of the debits.
    pub fn total(&self) -> i64 {
        self.postings.iter().map(|p| p.rials.max(0)).sum()
    }
}

/// Balances per account, from the postings applied so far; the in-memory model of the books the
/// store keeps (and the oracle its tests compare with).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    by_account: BTreeMap<Account, i128>,
}

impl Balances {
    pub fn apply(&mut self, entry: &Entry) {
        for posting in &entry.postings {
            *self.by_account.entry(posting.account.clone()).or_default() +=
                i128::from(posting.rials);
        }
    }

    /// Debit positive, credit negative.
    pub fn of(&self, account: &Account) -> i128 {
        self.by_account.get(account).copied().unwrap_or(0)
    }

    /// The sum over every account: zero while the books balance.
    pub fn total(&self) -> i128 {
        self.by_account.values().sum()
    }

    pub fn accounts(&self) -> impl Iterator<Item = (&Account, i128)> {
        self.by_account.iter().map(|(a, b)| (a, *b))
    }
}

/// One line of a fee bill: what it is for and whom it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    /// The fee's title on the card (Persian).
    pub title: String,
    pub rials: i64,
    /// The centre's share of it, when a centre filed the application (else 0).
    pub centre_share: i64,
    /// The legal basis, when the card gives one.
    pub legal_basis: Option<String>,
}

/// A fee line that is wholly the filing centre's: the counter's own fee.
fn is_counter_fee(fee: &crate::catalog::FeeLine) -> bool {
    fee.centre_share_rials > 0 && fee.centre_share_rials >= fee.rials
}

/// What an application owes: its card's announced fee lines, the centre's shares when a centre
/// filed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeBill {
    pub agency: String,
    pub centre: Option<String>,
    pub lines: Vec<BillLine>,
}

impl FeeBill {
    /// The bill for an application of `card` filed at `centre` (None: online). Fee lines without
    /// an announced amount (0) are left off: nothing is charged that the card does not state. A
    /// line that is wholly the centre's (the counter's own fee, «کارمزد دفتر») is charged only
    /// when a centre filed it: online, no counter did the work.
    pub fn for_card(card: &ServiceCard, centre: Option<&str>) -> FeeBill {
        FeeBill {
            agency: card.agency.clone(),
            centre: centre.map(str::to_owned),
            lines: card
                .fees
                .iter()
                .filter(|fee| fee.rials > 0)
                .filter(|fee| centre.is_some() || !is_counter_fee(fee))
                .map(|fee| BillLine {
                    title: fee.title.fa.clone(),
                    rials: fee.rials,
                    centre_share: if centre.is_some() {
                        fee.centre_share_rials.clamp(0, fee.rials)
                    } else {
                        0
                    },
                    legal_basis: fee.legal_basis.as_ref().map(|b| b.fa.clone()),
                })
                .collect(),
        }
    }

    /// The bill when an earlier step assessed the amount (the `fee_rials` a building permit's
    /// fee assessment or a connection's costing writes down, as typed: Persian or ASCII digits,
    /// separators allowed): one line of that amount, owed to the card's agency, and — filed at a
    /// centre — the card's counter fee lines, which the assessment does not replace.
    /// Without an assessment, or with one that is not a positive whole number of rials up to
    /// [`MAX_POSTING_RIALS`], the card's own fees ([`FeeBill::for_card`]).
    pub fn assessed(card: &ServiceCard, centre: Option<&str>, assessed: Option<&str>) -> FeeBill {
        let rials = assessed.and_then(|text| {
            let digits: String = crate::text::to_ascii_digits(text)
                .chars()
                .filter(|c| !matches!(c, ',' | '٬' | '،' | ' ' | '\u{200c}'))
                .collect();
            digits
                .parse::<i64>()
                .ok()
                .filter(|r| (1..=MAX_POSTING_RIALS).contains(r))
        });
        match rials {
            None => FeeBill::for_card(card, centre),
            Some(rials) => {
                let counter = FeeBill::for_card(card, centre)
                    .lines
                    .into_iter()
                    .filter(|l| centre.is_some() && l.rials > 0 && l.centre_share == l.rials);
                FeeBill {
                    agency: card.agency.clone(),
                    centre: centre.map(str::to_owned),
                    lines: std::iter::once(BillLine {
                        title: "هزینهٔ تعیین‌شده در پرونده".to_owned(),
                        rials,
                        centre_share: 0,
                        legal_basis: None,
                    })
                    .chain(counter)
                    .collect(),
                }
            }
        }
    }

    /// Saturating: a card whose fees add up past any amount gives a bill too large to post
    /// ([`LedgerError::TooLarge`]), never a wrapped-around one.
    pub fn total(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |t, l| t.saturating_add(l.rials))
    }

    pub fn centre_share(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |t, l| t.saturating_add(l.centre_share))
    }

    /// Nothing to pay.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The entry the bill's payment posts: the money in at `received_by` (a provider's clearing
    /// account or a till), owed to the agency less the centre's share, and the share to the centre.
    pub fn payment_entry(&self, received_by: Account) -> Result<Entry, LedgerError> {
        let mut postings = vec![Posting {
            account: received_by,
            rials: self.total(),
        }];
        let to_agency = self.total() - self.centre_share();
        if to_agency > 0 {
            postings.push(Posting {
                account: Account::Agency(self.agency.clone()),
                rials: -to_agency,
            });
        }
        if let (Some(centre), share @ 1..) = (&self.centre, self.centre_share()) {
            postings.push(Posting {
                account: Account::Centre(centre.clone()),
                rials: -share,
            });
        }
        Entry::new(postings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bank() -> Account {
        Account::Provider("sandbox".into())
    }

    #[test]
    fn an_entry_must_balance_and_say_something() {
        let agency = Account::Agency("civil-registry".into());
        assert_eq!(
            Entry::new(vec![Posting {
                account: bank(),
                rials: 10
            }]),
            Err(LedgerError::TooFewPostings)
        );
        assert_eq!(
            Entry::new(vec![
                Posting {
                    account: bank(),
                    rials: 10
                },
                Posting {
                    account: agency.clone(),
                    rials: -9
                },
            ]),
            Err(LedgerError::Unbalanced(1))
        );
        assert_eq!(
            Entry::transfer(agency.clone(), bank(), 0),
            Err(LedgerError::ZeroPosting(bank()))
        );
        assert_eq!(
            Entry::transfer(agency.clone(), bank(), MAX_POSTING_RIALS + 1),
            Err(LedgerError::TooLarge(bank()))
        );
        assert_eq!(
            Entry::transfer(agency.clone(), bank(), i64::MIN),
            Err(LedgerError::TooLarge(bank()))
        );
        let entry = Entry::transfer(agency.clone(), bank(), 230_000).unwrap();
        assert_eq!(entry.total(), 230_000);
        let mut books = Balances::default();
        books.apply(&entry);
        assert_eq!(books.of(&bank()), 230_000);
        assert_eq!(books.of(&agency), -230_000);
        books.apply(&entry.reversal());
        assert_eq!(books.of(&bank()), 0);
        assert_eq!(books.total(), 0);
    }

    #[test]
    fn an_account_key_reads_back() {
        for account in [
            bank(),
            Account::Till("centre-12".into(), "op-3".into()),
            Account::Agency("municipality".into()),
            Account::Centre("centre-12".into()),
            Account::Company("tehran-water".into()),
            Account::Differences("centre-12".into()),
        ] {
            assert_eq!(Account::parse(&account.key()), Some(account.clone()));
        }
        for bad in ["", "provider:", "till:c", "till:/o", "bank:x", "agency"] {
            assert_eq!(Account::parse(bad), None, "{bad}");
        }
    }

    fn card_with_fees(fees: &[(i64, i64)]) -> ServiceCard {
        let mut card = crate::catalog::tests::card();
        card.fees = fees
            .iter()
            .map(|&(rials, share)| crate::catalog::FeeLine {
                title: crate::forms::Text::fa("تعرفه"),
                rials,
                centre_share_rials: share,
                legal_basis: None,
                collector: crate::forms::Text::fa("دستگاه"),
            })
            .collect();
        card
    }

    #[test]
    fn a_centre_keeps_its_share_only_of_what_it_filed() {
        let card = card_with_fees(&[(230_000, 30_000), (150_000, 0), (0, 0)]);
        let online = FeeBill::for_card(&card, None);
        assert_eq!(online.lines.len(), 2, "an unannounced fee is not charged");
        assert_eq!((online.total(), online.centre_share()), (380_000, 0));
        let at_centre = FeeBill::for_card(&card, Some("centre-12"));
        assert_eq!(at_centre.centre_share(), 30_000);
        let entry = at_centre
            .payment_entry(Account::Till("centre-12".into(), "op".into()))
            .unwrap();
        let mut books = Balances::default();
        books.apply(&entry);
        assert_eq!(books.of(&Account::Agency(card.agency.clone())), -350_000);
        assert_eq!(books.of(&Account::Centre("centre-12".into())), -30_000);
        assert_eq!(books.total(), 0);
        // A card with no fees has nothing to pay, and no entry.
        let free = FeeBill::for_card(&card_with_fees(&[]), Some("centre-12"));
        assert!(free.is_empty());
        assert_eq!(free.payment_entry(bank()), Err(LedgerError::TooFewPostings));
    }

    #[test]
    fn amounts_past_any_bound_are_refused_not_wrapped() {
        // Two fees adding up past i64: too large to post, not a small wrapped number.
        let huge = FeeBill::for_card(&card_with_fees(&[(i64::MAX, 0), (i64::MAX, 0)]), None);
        assert_eq!(huge.total(), i64::MAX);
        assert_eq!(
            huge.payment_entry(bank()),
            Err(LedgerError::TooLarge(bank()))
        );
        // Ten thousand postings at the bound: their sum is kept whole, so this does not
        // "balance" by saturating.
        let mut postings: Vec<Posting> = (0..10_000)
            .map(|_| Posting {
                account: bank(),
                rials: MAX_POSTING_RIALS,
            })
            .collect();
        postings.push(Posting {
            account: Account::Agency("x".into()),
            rials: -MAX_POSTING_RIALS,
        });
        assert!(matches!(
            Entry::new(postings),
            Err(LedgerError::Unbalanced(i64::MAX))
        ));
    }

    #[test]
    fn the_counters_own_fee_is_charged_only_where_a_counter_filed_it() {
        let card = card_with_fees(&[(230_000, 0), (120_000, 120_000)]);
        let online = FeeBill::for_card(&card, None);
        assert_eq!((online.total(), online.centre_share()), (230_000, 0));
        let at_centre = FeeBill::for_card(&card, Some("centre-12"));
        assert_eq!(
            (at_centre.total(), at_centre.centre_share()),
            (350_000, 120_000)
        );
        // An assessed amount replaces the agency's fees, not the counter's.
        let assessed = FeeBill::assessed(&card, Some("centre-12"), Some("3,200,000"));
        assert_eq!(
            (assessed.total(), assessed.centre_share()),
            (3_320_000, 120_000)
        );
        let online = FeeBill::assessed(&card, None, Some("3,200,000"));
        assert_eq!((online.total(), online.centre_share()), (3_200_000, 0));
        let entry = assessed
            .payment_entry(Account::Till("centre-12".into(), "op".into()))
            .unwrap();
        let mut books = Balances::default();
        books.apply(&entry);
        assert_eq!(books.of(&Account::Centre("centre-12".into())), -120_000);
        assert_eq!(books.of(&Account::Agency(card.agency.clone())), -3_200_000);
    }

    #[test]
    fn an_assessed_amount_replaces_the_cards_fees() {
        let card = card_with_fees(&[(230_000, 30_000)]);
        for typed in ["۴۵۰٬۰۰۰٬۰۰۰", "450,000,000", "450000000", "٤٥٠٠٠٠٠٠٠"] {
            let bill = FeeBill::assessed(&card, Some("centre-12"), Some(typed));
            assert_eq!(
                (bill.total(), bill.centre_share()),
                (450_000_000, 0),
                "{typed}"
            );
        }
        // Not an amount: the card's fees, never a guess.
        for typed in [
            None,
            Some(""),
            Some("0"),
            Some("-5"),
            Some("چهارصد"),
            Some("1e9"),
            Some("99999999999999999999"),
        ] {
            assert_eq!(
                FeeBill::assessed(&card, Some("centre-12"), typed),
                FeeBill::for_card(&card, Some("centre-12")),
                "{typed:?}"
            );
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pay {
            fees: Vec<(i64, i64)>,
            centre: Option<u8>,
            at_till: bool,
        },
        Refund {
            of: usize,
            rials: i64,
        },
        Reverse {
            of: usize,
        },
        Settle {
            agency: bool,
            rials: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                prop::collection::vec((0i64..5_000_000, 0i64..100_000), 0..4),
                prop::option::of(0u8..3),
                any::<bool>()
            )
                .prop_map(|(fees, centre, at_till)| Op::Pay {
                    fees,
                    centre,
                    at_till
                }),
            (any::<usize>(), 1i64..6_000_000).prop_map(|(of, rials)| Op::Refund { of, rials }),
            any::<usize>().prop_map(|of| Op::Reverse { of }),
            (any::<bool>(), 1i64..2_000_000)
                .prop_map(|(agency, rials)| Op::Settle { agency, rials }),
        ]
    }

    proptest! {
        /// Whatever happens, in any order, the books sum to zero, and each account is the sum of
        /// what was posted to it.
        #[test]
        fn the_books_always_balance(ops in prop::collection::vec(op(), 1..300)) {
            let mut books = Balances::default();
            let mut posted: Vec<Entry> = Vec::new();
            let mut paid: Vec<(i64, Account)> = Vec::new();
            for op in ops {
                let entry = match op {
                    Op::Pay { fees, centre, at_till } => {
                        let centre = centre.map(|c| format!("centre-{c}"));
                        let bill = FeeBill::for_card(&card_with_fees(&fees), centre.as_deref());
                        prop_assert!(bill.centre_share() <= bill.total());
                        let at = if at_till {
                            Account::Till(centre.clone().unwrap_or("online".into()), "op".into())
                        } else {
                            bank()
                        };
                        match bill.payment_entry(at.clone()) {
                            Ok(entry) => {
                                prop_assert_eq!(entry.total(), bill.total());
                                paid.push((bill.total(), at));
                                entry
                            }
                            Err(e) => {
                                prop_assert!(bill.is_empty(), "{e}");
                                continue;
                            }
                        }
                    }
                    Op::Refund { of, rials } => {
                        // Money back to the payer from where it came in, taken from the agency.
                        if paid.is_empty() { continue; }
                        let (amount, from) = paid[of % paid.len()].clone();
                        if rials > amount { continue; }
                        Entry::transfer(from, Account::Agency("x".into()), rials).unwrap()
                    }
                    Op::Reverse { of } => {
                        if posted.is_empty() { continue; }
                        posted[of % posted.len()].reversal()
                    }
                    Op::Settle { agency, rials } => {
                        let to = if agency { Account::Agency("x".into()) } else { Account::Centre("centre-0".into()) };
                        Entry::transfer(bank(), to, rials).unwrap()
                    }
                };
                books.apply(&entry);
                posted.push(entry);
                prop_assert_eq!(books.total(), 0);
            }
            let mut again = Balances::default();
            for entry in &posted { again.apply(entry); }
            prop_assert_eq!(again, books);
        }
    }
}
