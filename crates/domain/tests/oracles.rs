//! Differential tests against reference implementations nobody in this project wrote:
//! npm `@persian-tools/persian-tools` for identifiers and bills, npm `jalaali-js` for the calendar.
//!
//! For each kind, 100,000 inputs are generated from a fixed seed (valid ones, near-valid ones with
//! a digit changed or two swapped, random digit strings, Persian and Arabic-Indic digits, and
//! padding with spaces, dashes, bidi marks and dropped leading zeros). `tests/oracles/run.mjs`
//! runs the oracle on them; our answer must equal the oracle's on every input except where
//! `FORMATS.md` and this file record a deliberate difference (`deliberate_*` below, each with its
//! reason). The calendar is compared on every day from 1300/01/01 to 1500/12/29.
//!
//! Needs Node.js and `npm ci` in `tests/oracles` (the README's test command does both). Without
//! them the tests are skipped with a note, unless `PISHKHAN_TEST_REQUIRE_ORACLES` is set.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pishkhan_domain::JalaliDate;
use pishkhan_domain::id::{LegalId, MobileNumber, NationalId, Sheba, inspect_bill};

const PER_KIND: usize = 100_000;

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles")
}

/// Runs the oracle on `inputs` (one per line); `None` when the oracle cannot run here.
fn oracle(kind: &str, inputs: &[String]) -> Option<Vec<String>> {
    let dir = oracle_dir();
    let ready = dir
        .join("node_modules/@persian-tools/persian-tools")
        .exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !ready {
        assert!(
            std::env::var_os("PISHKHAN_TEST_REQUIRE_ORACLES").is_none(),
            "the oracles are required: run `npm ci` in tests/oracles (Node.js needed)"
        );
        eprintln!(
            "note: Node.js or tests/oracles/node_modules missing; skipping the {kind} oracle"
        );
        return None;
    }
    let work = tempfile_dir();
    let input = work.join(format!("{kind}.in"));
    let output = work.join(format!("{kind}.out"));
    std::fs::write(&input, inputs.join("\n") + "\n").unwrap();
    let status = Command::new("node")
        .arg(dir.join("run.mjs"))
        .arg(kind)
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "the {kind} oracle failed");
    let answers: Vec<String> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    std::fs::remove_dir_all(&work).ok();
    assert_eq!(answers.len(), inputs.len());
    Some(answers)
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pishkhan-oracle-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// xorshift64*: a small deterministic generator, so every run tests the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }
}

fn digit(s: &str, i: usize) -> u32 {
    u32::from(s.as_bytes()[i] - b'0')
}

/// Valid by construction (FORMATS.md), so the sample is rich in valid values.
fn valid_national_id(rng: &mut Rng) -> String {
    let body = rng.digits(9);
    let sum: u32 = (0..9).map(|i| digit(&body, i) * (10 - i as u32)).sum();
    let r = sum % 11;
    format!("{body}{}", if r < 2 { r } else { 11 - r })
}

fn valid_legal_id(rng: &mut Rng) -> String {
    let body = rng.digits(10);
    let weights = [29, 27, 23, 19, 17];
    let k = digit(&body, 9) + 2;
    let sum: u32 = (0..10)
        .map(|i| (k + digit(&body, i)) * weights[i % 5])
        .sum();
    format!("{body}{}", (sum % 11) % 10)
}

fn valid_sheba(rng: &mut Rng) -> String {
    let bban = format!(
        "{}{}",
        rng.pick(&["012", "017", "054", "056", "062", "999"]),
        rng.digits(19)
    );
    let rearranged = format!("{bban}182700");
    let remainder = rearranged
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("IR{:02}{bban}", 98 - remainder)
}

fn m11(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (2 + (i as u32 % 6)))
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => 11 - r,
    }
}

fn valid_bill_pair(rng: &mut Rng) -> (String, String) {
    let file_len = 1 + rng.below(8) as usize;
    let head = format!(
        "{}{}{}",
        1 + rng.below(9),
        rng.digits(file_len - 1),
        rng.digits(3)
    );
    let bill_body = format!(
        "{head}{}",
        rng.pick(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"])
    );
    let bill = format!("{bill_body}{}", m11(&bill_body));
    let amount_len = 1 + rng.below(6) as usize;
    let payment_body = format!(
        "{}{}{}",
        1 + rng.below(9),
        rng.digits(amount_len - 1),
        rng.digits(3)
    );
    let check1 = m11(&payment_body);
    let check2 = m11(&format!("{bill}{payment_body}{check1}"));
    (bill, format!("{payment_body}{check1}{check2}"))
}

/// A near-valid variant: one digit changed, or two neighbours swapped.
fn near(rng: &mut Rng, value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let digit_positions: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_digit())
        .collect();
    if digit_positions.len() < 2 {
        return value.to_owned();
    }
    let i = digit_positions[rng.below(digit_positions.len() as u64) as usize];
    if rng.below(2) == 0 {
        chars[i] = char::from(b'0' + rng.below(10) as u8);
    } else if let Some(&j) = digit_positions.iter().find(|&&j| j == i + 1) {
        chars.swap(i, j);
    }
    chars.into_iter().collect()
}

/// Dresses a value as people type it: other digits, spaces, dashes, bidi marks.
fn dress(rng: &mut Rng, value: &str) -> String {
    match rng.below(6) {
        0 => pishkhan_domain::text::to_persian_digits(value),
        1 => value
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_u32(0x0660 + d).unwrap(),
                None => c,
            })
            .collect(),
        2 => format!(" {value} "),
        3 => {
            let mid = value.len() / 2;
            if value.is_char_boundary(mid) {
                format!("{}-{}", &value[..mid], &value[mid..])
            } else {
                value.to_owned()
            }
        }
        4 => format!("\u{200F}{value}"),
        _ => value.to_owned(),
    }
}

/// The mix of inputs for one kind.
fn inputs(seed: u64, valid: impl Fn(&mut Rng) -> String, lengths: (usize, usize)) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..PER_KIND)
        .map(|i| match i % 10 {
            0..=2 => valid(&mut rng),
            3 | 4 => {
                let v = valid(&mut rng);
                near(&mut rng, &v)
            }
            5 | 6 => {
                let len = lengths.0 + rng.below((lengths.1 - lengths.0 + 1) as u64) as usize;
                rng.digits(len)
            }
            7 => {
                let v = valid(&mut rng);
                dress(&mut rng, &v)
            }
            8 => {
                let v = valid(&mut rng);
                let v = near(&mut rng, &v);
                dress(&mut rng, &v)
            }
            _ => {
                // Spreadsheets drop leading zeros; some people add them.
                let v = valid(&mut rng);
                if rng.below(2) == 0 {
                    v.trim_start_matches('0').to_owned()
                } else {
                    format!("0{v}")
                }
            }
        })
        .collect()
}

fn ascii_digits(input: &str) -> String {
    pishkhan_domain::text::to_ascii_digits(input)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Compares our answers with the oracle's; every mismatch must be a listed deliberate difference.
fn compare(
    kind: &str,
    inputs: &[String],
    ours: impl Fn(&str) -> String,
    deliberate: impl Fn(&str, &str, &str) -> Option<&'static str>,
) {
    let Some(theirs) = oracle(kind, inputs) else {
        return;
    };
    let mut agreed = 0;
    let mut excused: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut unexplained = Vec::new();
    for (input, theirs) in inputs.iter().zip(&theirs) {
        let ours = ours(input);
        if &ours == theirs {
            agreed += 1;
        } else if let Some(reason) = deliberate(input, &ours, theirs) {
            *excused.entry(reason).or_default() += 1;
        } else {
            unexplained.push(format!("{input:?}: ours {ours}, oracle {theirs}"));
        }
    }
    eprintln!(
        "{kind}: {agreed} of {} agree with the oracle; deliberate differences: {excused:?}",
        inputs.len()
    );
    assert!(
        unexplained.is_empty(),
        "{kind}: {} unexplained differences, first: {:#?}",
        unexplained.len(),
        &unexplained[..unexplained.len().min(10)]
    );
    // A guard that the excuses do not swallow the comparison: most answers must agree outright.
    assert!(
        agreed * 100 >= inputs.len() * 85,
        "{kind}: only {agreed} of {} agree outright",
        inputs.len()
    );
}

fn flag(ok: bool) -> String {
    if ok { "1" } else { "0" }.to_owned()
}

#[test]
fn national_ids_agree_with_persian_tools() {
    let inputs = inputs(1, valid_national_id, (5, 12));
    compare(
        "national-id",
        &inputs,
        |input| flag(NationalId::parse(input).is_ok()),
        |input, ours, _| {
            let digits = ascii_digits(input);
            // The oracle reads only the last ten digits of a longer input; a longer input is not
            // a national ID, so we refuse it.
            (digits.len() > 10 && ours == "0").then_some("longer than 10 digits: refused")
        },
    );
}

#[test]
fn legal_ids_agree_with_persian_tools() {
    let inputs = inputs(2, valid_legal_id, (8, 13));
    compare(
        "legal-id",
        &inputs,
        |input| flag(LegalId::parse(input).is_ok()),
        |input, ours, _| {
            let digits = ascii_digits(input);
            // The oracle reads only the first eleven digits of a longer input.
            (digits.len() > 11 && ours == "0").then_some("longer than 11 digits: refused")
        },
    );
}

#[test]
fn sheba_numbers_agree_with_persian_tools() {
    let mut rng = Rng(3);
    let mut inputs = inputs(4, valid_sheba, (20, 28));
    // Random digit strings have no IR; give most of them one, and vary the case.
    for input in inputs.iter_mut() {
        if !input.contains("IR") && rng.below(4) > 0 {
            *input = format!("{}{input}", rng.pick(&["IR", "ir", "Ir"]));
        }
    }
    compare(
        "sheba",
        &inputs,
        |input| flag(Sheba::parse(input).is_ok()),
        |input, ours, _| {
            // The oracle adds a missing IR; FORMATS.md defines Sheba as IR + 24 digits, and a
            // number without its country code is refused with a message that says so.
            (!input.to_uppercase().contains("IR") && ours == "0").then_some("no IR prefix: refused")
        },
    );
}

#[test]
fn mobile_numbers_agree_with_persian_tools() {
    let valid = |rng: &mut Rng| {
        let country = rng.pick(&["0", "+98", "98", "0098", ""]);
        // Mostly prefixes operators use, sometimes any.
        let operator = if rng.below(5) > 0 {
            rng.pick(&[
                "912", "919", "990", "935", "901", "939", "921", "998", "932",
            ])
            .to_owned()
        } else {
            format!("9{}", rng.digits(2))
        };
        format!("{country}{operator}{}", rng.digits(7))
    };
    let inputs = inputs(5, valid, (9, 14));
    compare(
        "mobile",
        &inputs,
        |input| flag(MobileNumber::parse(input).is_ok()),
        |input, ours, _| {
            // The oracle refuses prefixes it does not know. Operators' prefixes change over time,
            // so FORMATS.md makes an unknown prefix a notice, not an error: we accept the number
            // and say the operator is unknown.
            let unknown = MobileNumber::parse(input).is_ok_and(|m| m.operator().is_none());
            (ours == "1" && unknown).then_some("unknown operator prefix: accepted with a notice")
        },
    );
}

#[test]
fn bills_agree_with_persian_tools() {
    let mut rng = Rng(6);
    let pairs: Vec<(String, String)> = (0..PER_KIND)
        .map(|i| {
            let (bill, payment) = valid_bill_pair(&mut rng);
            match i % 8 {
                0..=3 => (bill, payment),
                4 => (near(&mut rng, &bill), payment),
                5 => (bill, near(&mut rng, &payment)),
                6 => (dress(&mut rng, &bill), dress(&mut rng, &payment)),
                _ => {
                    let a = 4 + rng.below(12) as usize;
                    let b = 4 + rng.below(12) as usize;
                    (rng.digits(a), rng.digits(b))
                }
            }
        })
        .collect();
    let inputs: Vec<String> = pairs.iter().map(|(b, p)| format!("{b}\t{p}")).collect();
    compare(
        "bill",
        &inputs,
        |line| {
            let (bill, payment) = line.split_once('\t').unwrap();
            let check = inspect_bill(bill, payment);
            let amount = match &check.payment {
                Ok(payment) if check.is_valid() => payment.amount_rials().to_string(),
                _ => "-".to_owned(),
            };
            format!(
                "{} {} {amount}",
                flag(check.bill.is_ok()),
                flag(check.is_valid())
            )
        },
        |line, ours, theirs| {
            let (bill, payment) = line.split_once('\t').unwrap();
            let (bill, payment) = (ascii_digits(bill), ascii_digits(payment));
            let significant = |s: &str| s.trim_start_matches('0').len();
            let _ = (ours, theirs);
            // FORMATS.md: both IDs have 6 to 13 digits; leading zeros (from zero-padded barcodes)
            // do not count. The oracle has no upper bound and counts zeros.
            let out_of_range = |s: &str| !(6..=13).contains(&significant(s));
            (out_of_range(&bill) || out_of_range(&payment))
                .then_some("bill or payment ID outside 6-13 significant digits: refused")
        },
    );
}

#[test]
fn the_calendar_agrees_with_jalaali_js_on_every_day_from_1300_to_1500() {
    let mut day = JalaliDate::new(1300, 1, 1).unwrap();
    let last = JalaliDate::new(1500, 12, 29).unwrap();
    let mut lines = Vec::new();
    while day <= last {
        let g = day.to_gregorian();
        use chrono::Datelike;
        lines.push(format!(
            "{} {} {} {} {} {}",
            day.year(),
            day.month(),
            day.day(),
            g.year(),
            g.month(),
            g.day()
        ));
        day = day.add_days(1);
    }
    assert!(lines.len() > 73_000, "{} days", lines.len());
    let Some(theirs) = oracle("calendar", &lines) else {
        return;
    };
    for (ours, theirs) in lines.iter().zip(&theirs) {
        let o: Vec<u32> = ours.split(' ').map(|n| n.parse().unwrap()).collect();
        let t: Vec<u32> = theirs.split(' ').map(|n| n.parse().unwrap()).collect();
        assert_eq!(
            &t[0..3],
            &o[3..6],
            "Jalali {ours}: jalaali-js gives Gregorian {theirs}"
        );
        assert_eq!(
            &t[3..6],
            &o[0..3],
            "Gregorian of {ours}: jalaali-js gives Jalali {theirs}"
        );
        assert_eq!(t[6], 1, "jalaali-js says {ours} does not exist");
        let month_length = pishkhan_domain::jalali::days_in_month(o[0] as i32, o[1] as u8);
        assert_eq!(
            u32::from(month_length),
            t[7],
            "length of month {}/{}",
            o[0],
            o[1]
        );
    }
    eprintln!("calendar: {} days agree with jalaali-js", lines.len());
}
