use super::{Problem, digits_only, nth, wrong_length};

const WHAT: (&str, &str) = ("کد ملی", "national ID");

/// National ID (کد ملی): ten digits, the last a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalId(String);

impl NationalId {
    /// Accepts 8 to 10 digits (spreadsheets drop leading zeros, so 8 or 9 are left-padded).
    ///
    /// Unlike the reference implementation, ten identical digits (1111111111, which pass the
    /// checksum) are refused: no such number is ever issued.
    pub fn parse(input: &str) -> Result<NationalId, Problem> {
        let digits = digits_only(input, WHAT)?;
        let digits = match digits.len() {
            10 => digits,
            8 | 9 => format!("{digits:0>10}"),
            n => return Err(wrong_length(WHAT, "۱۰", "10", n)),
        };
        if digits.bytes().all(|b| b == digits.as_bytes()[0]) {
            return Err(Problem::new(
                "repeated_digits",
                "کد ملی نمی‌تواند ده رقم یکسان باشد.",
                "A national ID cannot be ten identical digits.",
            ));
        }
        if digits[3..9].bytes().all(|b| b == b'0') {
            return Err(Problem::new(
                "zero_body",
                "رقم‌های چهارم تا نهم کد ملی نمی‌توانند همه صفر باشند.",
                "Digits 4 to 9 of a national ID cannot all be zero.",
            ));
        }
        let sum: u32 = (0..9).map(|i| nth(&digits, i) * (10 - i as u32)).sum();
        let remainder = sum % 11;
        let expected = if remainder < 2 {
            remainder
        } else {
            11 - remainder
        };
        if nth(&digits, 9) != expected {
            return Err(Problem::new(
                "checksum",
                "رقم کنترل کد ملی درست نیست؛ رقم‌ها را دوباره از روی کارت ملی بخوانید.",
                "This national ID is not valid: its check digit does not match. Check the digits against the card.",
            ));
        }
        Ok(NationalId(digits))
    }

    /// The ten ASCII digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NationalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::NationalId;

    fn code(input: &str) -> &'static str {
        NationalId::parse(input).unwrap_err().code
    }

    #[test]
    fn accepts_valid_ids_as_people_type_them() {
        for input in [
            "0076229645",
            "1583250689",
            "۰۰۷۶۲۲۹۶۴۵",
            "007-622964-5",
            " 0076229645 ",
            "\u{200F}۱۵۸۳۲۵۰۶۸۹",
        ] {
            assert!(NationalId::parse(input).is_ok(), "{input}");
        }
        assert_eq!(
            NationalId::parse("76229645").unwrap().as_str(),
            "0076229645"
        );
    }

    #[test]
    fn says_why_an_id_is_refused() {
        assert_eq!(code(""), "empty");
        assert_eq!(code("00762a9645"), "not_digits");
        assert_eq!(code("1234567"), "wrong_length");
        assert_eq!(code("00762296450"), "wrong_length");
        assert_eq!(code("1111111111"), "repeated_digits");
        assert_eq!(code("0000000000"), "repeated_digits");
        assert_eq!(code("1230000001"), "zero_body");
        assert_eq!(code("0076229646"), "checksum");
        let error = NationalId::parse("0076229646").unwrap_err();
        assert!(error.fa.contains("رقم کنترل"));
    }
}
