//! Money: whole rials, never floats. Displayed in rials, or in tomans (rials ÷ 10) where people
//! expect them, always labelled.

use crate::Language;
use crate::text::{Digits, format_integer};

/// An amount in rials (ریال).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rials(pub i64);

impl Rials {
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
}
