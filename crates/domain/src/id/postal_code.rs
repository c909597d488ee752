use super::{Notice, Problem, digits_only, wrong_length};

const WHAT: (&str, &str) = ("کد پستی", "postal code");

/// Postal code (کد پستی): ten digits, often written XXXXX-XXXXX. There is no official checksum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(input: &str) -> Result<PostalCode, Problem> {
        let digits = digits_only(input, WHAT)?;
        if digits.len() != 10 {
            return Err(wrong_length(WHAT, "۱۰", "10", digits.len()));
        }
        Ok(PostalCode(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXXXX-XXXXX`, as printed on envelopes.
    pub fn grouped(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// A widely copied heuristic (no 0 or 2 in the first five digits, the fifth not 5, no 2 in
    /// the last five, the first four not all equal): a notice when it fails, never a rejection,
    /// since real codes break it.
    pub fn notices(&self) -> Vec<Notice> {
        let b = self.0.as_bytes();
        let first_four_same = b[..4].iter().all(|&d| d == b[0]);
        let usual = !first_four_same
            && b[..4].iter().all(|&d| d != b'0' && d != b'2')
            && !matches!(b[4], b'0' | b'2' | b'5')
            && b[5..].iter().all(|&d| d != b'2');
        if usual {
            Vec::new()
        } else {
            vec![Notice::new(
                "unusual_pattern",
                "این کد پستی شکل معمول کدهای پستی را ندارد؛ آن را دوباره بررسی کنید.",
                "This postal code does not look like usual postal codes; please check it.",
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PostalCode;

    #[test]
    fn ten_digits_with_a_notice_for_unusual_ones() {
        let code = PostalCode::parse("۱۳۴۵۶-۷۸۹۱۳").unwrap();
        assert_eq!(code.as_str(), "1345678913");
        assert_eq!(code.grouped(), "13456-78913");
        assert!(code.notices().is_empty());
        assert_eq!(
            PostalCode::parse("1111178913").unwrap().notices()[0].code,
            "unusual_pattern"
        );
        assert_eq!(
            PostalCode::parse("1345278913").unwrap().notices()[0].code,
            "unusual_pattern"
        );
        assert_eq!(
            PostalCode::parse("134567891").unwrap_err().code,
            "wrong_length"
        );
    }
}
