//! Reconciling a payment provider's settlement file with Pishkhan's payments, one day at a time.
//!
//! The file is CSV, `date,terminal,order,token,reference,amount` (the sandbox bank's, and the
//! shape Iranian PSPs' daily files reduce to): one line per payment the bank settled to the
//! terminal that day. Every line must match one payment of ours by its token, with the same
//! amount and reference, that we count as settled; every payment we settled that day must be in
//! the file. What does not match is listed, line by line, for a person to act on; nothing is
//! changed by reconciling.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::Problem;
use crate::text::to_persian_digits;

/// The most lines one file may have (a busy terminal settles far fewer a day).
pub const MAX_LINES: usize = 200_000;

/// One line of a settlement file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    /// Its line in the file, from 1 (the header is line 1).
    pub line: usize,
    pub date: NaiveDate,
    pub terminal: String,
    pub order: String,
    pub token: String,
    pub reference: String,
    pub rials: i64,
}

/// Reads a settlement file: every problem, each on its line, or the lines.
pub fn parse_settlement(text: &str) -> Result<Vec<SettlementLine>, Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let header = rows
        .next()
        .map(|(_, h)| h.replace(' ', ""))
        .unwrap_or_default();
    if header != "date,terminal,order,token,reference,amount" {
        return Err(vec![
            Problem::new(
                "settlement_header",
                "سطر نخست پروندهٔ تسویه باید «date,terminal,order,token,reference,amount» باشد.",
                "The settlement file's first line must be `date,terminal,order,token,reference,amount`.",
            )
            .on_line(1),
        ]);
    }
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (n, row) in rows {
        if row.trim().is_empty() {
            continue;
        }
        if lines.len() + problems.len() >= MAX_LINES {
            problems.push(
                Problem::new(
                    "settlement_too_long",
                    format!(
                        "پروندهٔ تسویه بیش از {} سطر دارد؛ آن را روز به روز بفرستید.",
                        to_persian_digits(&MAX_LINES.to_string())
                    ),
                    format!("The settlement file has more than {MAX_LINES} lines."),
                )
                .on_line(n),
            );
            break;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        let [date, terminal, order, token, reference, amount] = fields[..] else {
            problems.push(
                Problem::new(
                    "settlement_fields",
                    "این سطر باید شش ستون داشته باشد: تاریخ، پایانه، سفارش، توکن، مرجع، مبلغ.",
                    "This line must have six fields: date, terminal, order, token, reference, amount.",
                )
                .on_line(n),
            );
            continue;
        };
        let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
            problems.push(
                Problem::new(
                    "settlement_date",
                    "تاریخ این سطر به شکل YYYY-MM-DD (میلادی) نیست.",
                    "This line's date is not YYYY-MM-DD.",
                )
                .on_line(n),
            );
            continue;
        };
        let rials = match amount.parse::<i64>() {
            Ok(r) if r > 0 && r <= crate::ledger::MAX_POSTING_RIALS => r,
            _ => {
                problems.push(
                    Problem::new(
                        "settlement_amount",
                        "مبلغ این سطر یک عدد درست مثبت به ریال نیست.",
                        "This line's amount is not a positive whole number of rials.",
                    )
                    .on_line(n),
                );
                continue;
            }
        };
        if token.is_empty() || token.len() > 100 || terminal.is_empty() {
            problems.push(
                Problem::new(
                    "settlement_token",
                    "توکن یا پایانهٔ این سطر خالی یا بیش از اندازه بلند است.",
                    "This line's token or terminal is empty or too long.",
                )
                .on_line(n),
            );
            continue;
        }
        lines.push(SettlementLine {
            line: n,
            date,
            terminal: terminal.to_owned(),
            order: order.to_owned(),
            token: token.to_owned(),
            reference: reference.to_owned(),
            rials,
        });
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

/// One of our online payments, as reconciling needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurPayment {
    pub number: String,
    pub token: String,
    pub reference: Option<String>,
    pub rials: i64,
    /// pending, paid, settled, reversed, failed.
    pub state: String,
    /// The day (the provider's calendar day) we recorded it settled.
    pub settled_on: Option<NaiveDate>,
}

/// What does not match, for a person to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// A line for another day or another terminal than the one reconciled.
    NotThisFile { line: usize },
    /// The same token settled twice in the file.
    Duplicate { line: usize, first: usize },
    /// A line that matches none of our payments.
    Unknown {
        line: usize,
        token: String,
        rials: i64,
    },
    /// The bank settled a different amount than we took.
    Amount {
        line: usize,
        number: String,
        ours: i64,
        theirs: i64,
    },
    /// The bank's reference differs from the one it confirmed to us.
    Reference { line: usize, number: String },
    /// The bank settled a payment we do not count as settled (failed, reversed, still pending
    /// or paid but not yet settled with the bank).
    NotSettledHere {
        line: usize,
        number: String,
        state: String,
    },
    /// A payment we settled that day that the file does not have.
    Missing { number: String, rials: i64 },
}

impl Mismatch {
    /// A stable code for APIs and the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Mismatch::NotThisFile { .. } => "not_this_file",
            Mismatch::Duplicate { .. } => "duplicate",
            Mismatch::Unknown { .. } => "unknown",
            Mismatch::Amount { .. } => "amount",
            Mismatch::Reference { .. } => "reference",
            Mismatch::NotSettledHere { .. } => "not_settled_here",
            Mismatch::Missing { .. } => "missing",
        }
    }

    /// What a person reads, in Persian.
    pub fn describe_fa(&self) -> String {
        let n = |v: usize| to_persian_digits(&v.to_string());
        let r = |v: i64| to_persian_digits(&v.to_string());
        match self {
            Mismatch::NotThisFile { line } => {
                format!("سطر {}: از روز یا پایانهٔ دیگری است.", n(*line))
            }
            Mismatch::Duplicate { line, first } => format!(
                "سطر {}: همان پرداخت سطر {} دوباره آمده است.",
                n(*line),
                n(*first)
            ),
            Mismatch::Unknown { line, token, rials } => format!(
                "سطر {}: پرداختی با توکن {token} و مبلغ {} ریال در پیشخوان نیست.",
                n(*line),
                r(*rials)
            ),
            Mismatch::Amount {
                line,
                number,
                ours,
                theirs,
            } => format!(
                "سطر {}: بانک برای {number} مبلغ {} ریال تسویه کرده، پیشخوان {} ریال گرفته است.",
                n(*line),
                r(*theirs),
                r(*ours)
            ),
            Mismatch::Reference { line, number } => format!(
                "سطر {}: شمارهٔ مرجع {number} با آنچه بانک تأیید کرده بود نمی‌خواند.",
                n(*line)
            ),
            Mismatch::NotSettledHere {
                line,
                number,
                state,
            } => format!(
                "سطر {}: بانک {number} را تسویه کرده، ولی در پیشخوان «{state}» است.",
                n(*line)
            ),
            Mismatch::Missing { number, rials } => format!(
                "{number} ({} ریال) در پیشخوان تسویه شده ولی در پروندهٔ بانک نیست.",
                r(*rials)
            ),
        }
    }
}

/// The outcome of reconciling one day's file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    pub matched: usize,
    pub matched_rials: i64,
    pub mismatches: Vec<Mismatch>,
}

/// Reconciles `lines` (the file of `day` for `terminal`) with `ours`: the payments whose tokens
/// the file names, and those we settled that day.
pub fn reconcile(
    day: NaiveDate,
    terminal: &str,
    lines: &[SettlementLine],
    ours: &[OurPayment],
) -> Reconciliation {
    let by_token: BTreeMap<&str, &OurPayment> =
        ours.iter().map(|p| (p.token.as_str(), p)).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Reconciliation::default();
    for l in lines {
        if l.date != day || l.terminal != terminal {
            out.mismatches.push(Mismatch::NotThisFile { line: l.line });
            continue;
        }
        if let Some(first) = seen.get(l.token.as_str()) {
            out.mismatches.push(Mismatch::Duplicate {
                line: l.line,
                first: *first,
            });
            continue;
        }
        seen.insert(&l.token, l.line);
        let Some(p) = by_token.get(l.token.as_str()) else {
            out.mismatches.push(Mismatch::Unknown {
                line: l.line,
                token: l.token.clone(),
                rials: l.rials,
            });
            continue;
        };
        if p.rials != l.rials {
            out.mismatches.push(Mismatch::Amount {
                line: l.line,
                number: p.number.clone(),
                ours: p.rials,
                theirs: l.rials,
            });
        } else if p.reference.as_deref() != Some(l.reference.as_str()) {
            out.mismatches.push(Mismatch::Reference {
                line: l.line,
                number: p.number.clone(),
            });
        } else if p.state != "settled" {
            out.mismatches.push(Mismatch::NotSettledHere {
                line: l.line,
                number: p.number.clone(),
                state: p.state.clone(),
            });
        } else {
            out.matched += 1;
            out.matched_rials = out.matched_rials.saturating_add(l.rials);
        }
    }
    let in_file: BTreeSet<&str> = seen.keys().copied().collect();
    for p in ours {
        if p.state == "settled" && p.settled_on == Some(day) && !in_file.contains(p.token.as_str())
        {
            out.mismatches.push(Mismatch::Missing {
                number: p.number.clone(),
                rials: p.rials,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    fn ours(n: u8, state: &str, rials: i64) -> OurPayment {
        OurPayment {
            number: format!("PAY-{n}"),
            token: format!("SBX{n}"),
            reference: Some(format!("REF{n}")),
            rials,
            state: state.into(),
            settled_on: (state == "settled").then(day),
        }
    }

    #[test]
    fn reads_the_file_and_names_each_bad_line() {
        let good = "date,terminal,order,token,reference,amount\n\
                    2026-12-04,T1,PAY-1,SBX1,REF1,120000\n\n";
        let lines = parse_settlement(good).unwrap();
        assert_eq!(
            (lines.len(), lines[0].line, lines[0].rials),
            (1, 2, 120_000)
        );
        let bad = "date,terminal,order,token,reference,amount\n\
                   2026-12-04,T1,PAY-1,SBX1,REF1\n\
                   04/12/2026,T1,PAY-1,SBX1,REF1,5\n\
                   2026-12-04,T1,PAY-1,SBX1,REF1,-5\n\
                   2026-12-04,T1,PAY-1,,REF1,5\n";
        let problems = parse_settlement(bad).unwrap_err();
        let codes: Vec<_> = problems.iter().map(|p| (p.code, p.line)).collect();
        assert_eq!(
            codes,
            vec![
                ("settlement_fields", Some(2)),
                ("settlement_date", Some(3)),
                ("settlement_amount", Some(4)),
                ("settlement_token", Some(5)),
            ]
        );
        assert_eq!(
            parse_settlement("a,b\n").unwrap_err()[0].code,
            "settlement_header"
        );
        assert_eq!(
            parse_settlement("").unwrap_err()[0].code,
            "settlement_header"
        );
    }

    #[test]
    fn every_kind_of_mismatch_is_listed() {
        let file = "date,terminal,order,token,reference,amount\n\
                    2026-12-04,T1,PAY-1,SBX1,REF1,120000\n\
                    2026-12-04,T1,PAY-2,SBX2,REF2,999\n\
                    2026-12-04,T1,PAY-3,SBX3,OTHER,50000\n\
                    2026-12-04,T1,PAY-4,SBX4,REF4,70000\n\
                    2026-12-04,T1,X,SBX9,R9,10000\n\
                    2026-12-04,T1,PAY-1,SBX1,REF1,120000\n\
                    2026-12-03,T1,PAY-1,SBX7,REF7,1\n\
                    2026-12-04,T2,PAY-1,SBX8,REF8,1\n";
        let lines = parse_settlement(file).unwrap();
        let ours = vec![
            ours(1, "settled", 120_000),
            ours(2, "settled", 100_000),
            ours(3, "settled", 50_000),
            ours(4, "reversed", 70_000),
            ours(5, "settled", 30_000),
        ];
        let result = reconcile(day(), "T1", &lines, &ours);
        assert_eq!((result.matched, result.matched_rials), (1, 120_000));
        let codes: Vec<_> = result.mismatches.iter().map(Mismatch::code).collect();
        assert_eq!(
            codes,
            vec![
                "amount",
                "reference",
                "not_settled_here",
                "unknown",
                "duplicate",
                "not_this_file",
                "not_this_file",
                "missing"
            ]
        );
        assert!(result.mismatches[0].describe_fa().contains("۹۹۹"));
        // A clean day: everything matched, nothing listed.
        let clean = reconcile(day(), "T1", &lines[..1], &ours[..1]);
        assert_eq!((clean.matched, clean.mismatches.len()), (1, 0));
    }
}
