use super::{Problem, digits_only, nth, wrong_length};

const WHAT: (&str, &str) = ("شناسه ملی", "legal-entity ID");

/// Legal-entity national ID (شناسه ملی اشخاص حقوقی): eleven digits, the last a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegalId(String);

impl LegalId {
    pub fn parse(input: &str) -> Result<LegalId, Problem> {
        let digits = digits_only(input, WHAT)?;
        if digits.len() != 11 {
            return Err(wrong_length(WHAT, "۱۱", "11", digits.len()));
        }
        if digits[3..9].bytes().all(|b| b == b'0') {
            return Err(Problem::new(
                "zero_body",
                "رقم‌های چهارم تا نهم شناسه ملی نمی‌توانند همه صفر باشند.",
                "Digits 4 to 9 of a legal-entity ID cannot all be zero.",
            ));
        }
        const WEIGHTS: [u32; 5] = [29, 27, 23, 19, 17];
        let k = nth(&digits, 9) + 2;
        let sum: u32 = (0..10)
            .map(|i| (k + nth(&digits, i)) * WEIGHTS[i % 5])
            .sum();
        let expected = match sum % 11 {
            10 => 0,
            r => r,
        };
        if nth(&digits, 10) != expected {
            return Err(Problem::new(
                "checksum",
                "رقم کنترل شناسهٔ ملی درست نیست؛ آن را دوباره از روی مدرک بخوانید.",
                "This legal-entity ID is not valid: its check digit does not match.",
            ));
        }
        Ok(LegalId(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LegalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::LegalId;

    #[test]
    fn checks_the_check_digit() {
        assert_eq!(
            LegalId::parse("10380284790").unwrap().as_str(),
            "10380284790"
        );
        assert_eq!(
            LegalId::parse("۱۰۳۸۰۲۸۴۷۹۰").unwrap().as_str(),
            "10380284790"
        );
        assert_eq!(LegalId::parse("10380284792").unwrap_err().code, "checksum");
        assert_eq!(LegalId::parse("00000000000").unwrap_err().code, "zero_body");
        assert_eq!(
            LegalId::parse("1038028479").unwrap_err().code,
            "wrong_length"
        );
    }
}
