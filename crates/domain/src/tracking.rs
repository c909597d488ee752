//! Tracking code (کد رهگیری) printed on every receipt: eleven digits, the last a Damm check
//! digit, shown in groups of four, four and three.
//!
//! Digits only, because a code is read aloud over the phone and typed on any keyboard, Persian
//! or Latin; the Damm check digit catches every single wrong digit and every swap of two
//! neighbouring digits, the two mistakes people make copying a number.

use std::fmt;

use crate::id::Problem;
use crate::text::{digit_value, to_persian_digits};

/// The Damm algorithm's quasigroup of order 10 (totally anti-symmetric).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// Digits in a code, the check digit included.
pub const LENGTH: usize = 11;

fn damm(digits: impl IntoIterator<Item = u8>) -> u8 {
    digits
        .into_iter()
        .fold(0, |interim, d| DAMM[usize::from(interim)][usize::from(d)])
}

/// A valid tracking code: eleven ASCII digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingCode(String);

impl TrackingCode {
    /// A new code from a random number (the caller draws it; the domain has no randomness).
    pub fn generate(random: u64) -> TrackingCode {
        let body = 1_000_000_000 + random % 9_000_000_000;
        let body = body.to_string();
        let check = damm(body.bytes().map(|b| b - b'0'));
        TrackingCode(format!("{body}{check}"))
    }

    /// What a person typed: Persian, Arabic-Indic or Latin digits, with or without spaces and
    /// dashes.
    pub fn parse(input: &str) -> Result<TrackingCode, Problem> {
        let mut digits = Vec::with_capacity(LENGTH);
        for c in input.chars() {
            if let Some(d) = digit_value(c) {
                digits.push(d);
            } else if c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '_' | '/') {
                continue;
            } else {
                return Err(Problem::new(
                    "tracking_code_characters",
                    "کد رهگیری فقط رقم دارد.",
                    "A tracking code has digits only.",
                ));
            }
        }
        if digits.is_empty() {
            return Err(Problem::new(
                "tracking_code_missing",
                "کد رهگیری را وارد کنید.",
                "Enter the tracking code.",
            ));
        }
        if digits.len() != LENGTH {
            return Err(Problem::new(
                "tracking_code_length",
                format!(
                    "کد رهگیری {} رقم است؛ {} رقم وارد شد.",
                    to_persian_digits(&LENGTH.to_string()),
                    to_persian_digits(&digits.len().to_string())
                ),
                format!(
                    "A tracking code has {LENGTH} digits; {} were entered.",
                    digits.len()
                ),
            ));
        }
        if digits[0] == 0 || damm(digits.iter().copied()) != 0 {
            return Err(Problem::new(
                "tracking_code_check",
                "کد رهگیری درست نیست؛ رقم‌ها را دوباره از روی رسید بخوانید.",
                "This tracking code is not valid; read the digits again from the receipt.",
            ));
        }
        Ok(TrackingCode(
            digits.iter().map(|d| char::from(b'0' + d)).collect(),
        ))
    }

    /// The eleven digits, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// In groups for reading: `1234-5678-901` (Latin digits; see [`TrackingCode::grouped_fa`]).
    pub fn grouped(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }

    /// In groups, with Persian digits.
    pub fn grouped_fa(&self) -> String {
        to_persian_digits(&self.grouped())
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damm_matches_the_published_example() {
        // Damm (2004) and every reference implementation: 572 → check digit 4.
        assert_eq!(damm([5, 7, 2]), 4);
        assert_eq!(damm([5, 7, 2, 4]), 0);
    }

    #[test]
    fn generated_codes_parse_back_in_any_digits_and_grouping() {
        for random in [0, 1, 42, 8_999_999_999, u64::MAX, 123_456_789_012] {
            let code = TrackingCode::generate(random);
            assert_eq!(code.as_str().len(), LENGTH);
            assert_ne!(code.as_str().as_bytes()[0], b'0');
            assert_eq!(TrackingCode::parse(code.as_str()), Ok(code.clone()));
            assert_eq!(TrackingCode::parse(&code.grouped()), Ok(code.clone()));
            assert_eq!(TrackingCode::parse(&code.grouped_fa()), Ok(code.clone()));
            assert_eq!(
                TrackingCode::parse(&format!(" {} ", code.grouped().replace('-', " "))),
                Ok(code.clone())
            );
        }
    }

    #[test]
    fn every_single_digit_error_and_neighbour_swap_is_caught() {
        let code = TrackingCode::generate(987_654_321);
        let digits: Vec<u8> = code.as_str().bytes().map(|b| b - b'0').collect();
        for i in 0..LENGTH {
            for wrong in 0..10u8 {
                if wrong == digits[i] {
                    continue;
                }
                let mut typed = digits.clone();
                typed[i] = wrong;
                let text: String = typed.iter().map(|d| char::from(b'0' + d)).collect();
                assert!(TrackingCode::parse(&text).is_err(), "{text} accepted");
            }
            if i + 1 < LENGTH && digits[i] != digits[i + 1] {
                let mut typed = digits.clone();
                typed.swap(i, i + 1);
                let text: String = typed.iter().map(|d| char::from(b'0' + d)).collect();
                assert!(TrackingCode::parse(&text).is_err(), "{text} accepted");
            }
        }
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert_eq!(
            TrackingCode::parse("").unwrap_err().code,
            "tracking_code_missing"
        );
        assert_eq!(
            TrackingCode::parse("12345").unwrap_err().code,
            "tracking_code_length"
        );
        assert_eq!(
            TrackingCode::parse("12a45678901").unwrap_err().code,
            "tracking_code_characters"
        );
        assert!(
            TrackingCode::parse("12345")
                .unwrap_err()
                .fa
                .contains("۱۱ رقم")
        );
    }
}
