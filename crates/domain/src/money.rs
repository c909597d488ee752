//! Money: whole rials, never floats. Displayed in rials, or in tomans (rials ÷ 10) where people
//! expect them, always labelled.

use crate::text::{Digits, digit_value, format_integer};
use crate::{Language, Problem};

/// An amount in rials (ریال).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rials(pub i64);

impl Rials {
    /// An amount a person typed: Persian, Arabic-Indic or ASCII digits, with or without
    /// thousands separators (`۱٬۲۳۰٬۰۰۰`, `1,230,000`, `1 230 000`) and a trailing «ریال».
    /// Whole rials only, not negative, at most 10^15.
    pub fn parse(input: &str) -> Result<Rials, Problem> {
        let text = input.trim();
        let text = text.strip_suffix("ریال").unwrap_or(text).trim();
        if text.is_empty() {
            return Err(Problem::new(
                "empty",
                "مبلغ را به ریال بنویسید (اگر چیزی نیست، ۰).",
                "Write the amount in rials (0 if none).",
            ));
        }
        let mut value: i64 = 0;
        for c in text.chars() {
            if matches!(c, ',' | '٬' | '،' | ' ' | '\u{200c}' | '\u{a0}' | '_') {
                continue;
            }
            let Some(d) = digit_value(c) else {
                return Err(Problem::new(
                    "not_a_number",
                    "مبلغ را فقط با رقم بنویسید، مانند ۱٬۲۵۰٬۰۰۰.",
                    "Write the amount in digits only, like 1,250,000.",
                ));
            };
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(d)))
                .filter(|v| *v <= crate::ledger::MAX_POSTING_RIALS)
                .ok_or_else(|| {
                    Problem::new(
                        "too_large",
                        "این مبلغ بیش از اندازه بزرگ است؛ آن را دوباره بخوانید.",
                        "This amount is too large; read it again.",
                    )
                })?;
        }
        Ok(Rials(value))
    }

    pub fn checked_add(self, other: Rials) -> Option<Rials> {
        self.0.checked_add(other.0).map(Rials)
    }

    /// `۱۲۰٬۰۰۰ ریال` / `120,000 rials`
    pub fn format_rials(self, lang: Language) -> String {
        match lang {
            Language::Persian => format!("{} ریال", format_integer(self.0, Digits::Persian)),
            Language::English => format!("{} rials", format_integer(self.0, Digits::Ascii)),
        }
    }

    /// `۱۲٬۰۰۰ تومان` / `12,000 tomans`; an amount that is not a whole number of tomans keeps
    /// its last digit after the decimal separator (`۱۲٬۰۰۰٫۵ تومان`).
    pub fn format_tomans(self, lang: Language) -> String {
        let (digits, decimal, unit) = match lang {
            Language::Persian => (Digits::Persian, "٫", "تومان"),
            Language::English => (Digits::Ascii, ".", "tomans"),
        };
        let whole = format_integer(self.0 / 10, digits);
        let sign = if self.0 < 0 && self.0 / 10 == 0 {
            "-"
        } else {
            ""
        };
        match (self.0 % 10).unsigned_abs() {
            0 => format!("{sign}{whole} {unit}"),
            tenth => {
                let tenth = format_integer(i64::from(u8::try_from(tenth).unwrap_or(0)), digits);
                format!("{sign}{whole}{decimal}{tenth} {unit}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_rials_and_tomans_with_labels() {
        let fee = Rials(1_200_000);
        assert_eq!(fee.format_rials(Language::Persian), "۱٬۲۰۰٬۰۰۰ ریال");
        assert_eq!(fee.format_rials(Language::English), "1,200,000 rials");
        assert_eq!(fee.format_tomans(Language::Persian), "۱۲۰٬۰۰۰ تومان");
        assert_eq!(
            Rials(120_005).format_tomans(Language::Persian),
            "۱۲٬۰۰۰٫۵ تومان"
        );
        assert_eq!(Rials(-5).format_tomans(Language::English), "-0.5 tomans");
        assert_eq!(Rials(0).format_tomans(Language::English), "0 tomans");
        assert_eq!(Rials(7).checked_add(Rials(i64::MAX)), None);
    }

    #[test]
    fn reads_amounts_as_people_type_them() {
        for (typed, rials) in [
            ("۱٬۲۳۰٬۰۰۰", 1_230_000),
            ("1,230,000", 1_230_000),
            ("1 230 000 ریال", 1_230_000),
            ("۰", 0),
            ("٤٥٠٠", 4500),
        ] {
            assert_eq!(Rials::parse(typed), Ok(Rials(rials)), "{typed}");
        }
        for (typed, code) in [
            ("", "empty"),
            ("ریال", "empty"),
            ("-5", "not_a_number"),
            ("12.5", "not_a_number"),
            ("1e6", "not_a_number"),
            ("99999999999999999999999", "too_large"),
            ("1000000000000001", "too_large"),
        ] {
            assert_eq!(Rials::parse(typed).unwrap_err().code, code, "{typed}");
        }
    }
}
