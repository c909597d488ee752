use super::{Notice, Problem, is_separator};
use crate::text::{digit_value, is_bidi_control};

/// A mobile operator, from the number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobileOperator {
    /// همراه اول
    Mci,
    /// ایرانسل
    Irancell,
    /// رایتل
    Rightel,
    /// شاتل موبایل
    ShatelMobile,
    /// تالیا
    Taliya,
    /// Mobile virtual network operators on 999 (آپتل، سامانتل، لوتوس‌تل …)
    Mvno999,
}

impl MobileOperator {
    pub fn name_fa(self) -> &'static str {
        match self {
            MobileOperator::Mci => "همراه اول",
            MobileOperator::Irancell => "ایرانسل",
            MobileOperator::Rightel => "رایتل",
            MobileOperator::ShatelMobile => "شاتل موبایل",
            MobileOperator::Taliya => "تالیا",
            MobileOperator::Mvno999 => "اپراتور مجازی (۹۹۹)",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            MobileOperator::Mci => "MCI (Hamrah-e Aval)",
            MobileOperator::Irancell => "Irancell",
            MobileOperator::Rightel => "Rightel",
            MobileOperator::ShatelMobile => "Shatel Mobile",
            MobileOperator::Taliya => "Taliya",
            MobileOperator::Mvno999 => "Virtual operator (999)",
        }
    }

    /// Operator by the three digits after the leading 9 (`912…` → "912"). Prefixes change over
    /// time, so this is data, and an unknown prefix is only a notice.
    fn from_prefix(prefix: &str) -> Option<MobileOperator> {
        Some(match prefix {
            "910" | "911" | "912" | "913" | "914" | "915" | "916" | "917" | "918" | "919"
            | "990" | "991" | "992" | "993" | "994" | "995" | "996" => MobileOperator::Mci,
            "900" | "901" | "902" | "903" | "904" | "905" | "930" | "933" | "935" | "936"
            | "937" | "938" | "939" | "941" => MobileOperator::Irancell,
            "920" | "921" | "922" | "923" => MobileOperator::Rightel,
            "998" => MobileOperator::ShatelMobile,
            "932" => MobileOperator::Taliya,
            "999" => MobileOperator::Mvno999,
            _ => return None,
        })
    }
}

/// An Iranian mobile number, kept in E.164 form: `+989XXXXXXXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber {
    /// The ten national digits, starting with 9.
    national: String,
}

impl MobileNumber {
    /// Accepts `09121234567`, `9121234567`, `+989121234567`, `00989121234567`, `989121234567`,
    /// with Persian digits, spaces, dashes or parentheses.
    pub fn parse(input: &str) -> Result<MobileNumber, Problem> {
        let mut cleaned = String::with_capacity(input.len());
        for c in input.chars() {
            if c.is_whitespace() || is_separator(c) || is_bidi_control(c) || c == '(' || c == ')' {
                continue;
            }
            // A plus sign only as the first thing typed (invisible marks and spaces aside).
            if c == '+' && cleaned.is_empty() {
                cleaned.push('+');
                continue;
            }
            match digit_value(c) {
                Some(d) => cleaned.push(char::from(b'0' + d)),
                None => {
                    return Err(Problem::new(
                        "not_digits",
                        format!("شماره همراه فقط باید رقم داشته باشد؛ «{c}» رقم نیست."),
                        format!("A mobile number may contain digits only; “{c}” is not a digit."),
                    ));
                }
            }
        }
        if cleaned.is_empty() {
            return Err(Problem::new(
                "empty",
                "شماره همراه را وارد کنید.",
                "Enter the mobile number.",
            ));
        }
        let national = ["+98", "0098", "98", "0"]
            .iter()
            .find_map(|prefix| cleaned.strip_prefix(prefix).filter(|rest| rest.len() == 10))
            .unwrap_or(&cleaned);
        if national.contains('+') || cleaned.starts_with('+') && !cleaned.starts_with("+98") {
            return Err(Problem::new(
                "not_iranian",
                "شماره همراه باید ایرانی باشد (با ۰۹ یا ‎+۹۸ شروع شود).",
                "The mobile number must be Iranian (starting 09 or +98).",
            ));
        }
        if national.len() != 10 || !national.starts_with('9') {
            return Err(Problem::new(
                "wrong_format",
                "شماره همراه باید یازده رقم باشد و با ۰۹ شروع شود، مانند ۰۹۱۲۱۲۳۴۵۶۷.",
                "A mobile number has eleven digits starting with 09, such as 09121234567.",
            ));
        }
        Ok(MobileNumber {
            national: national.to_owned(),
        })
    }

    /// E.164: `+989121234567`.
    pub fn e164(&self) -> String {
        format!("+98{}", self.national)
    }

    /// As Iranians write it: `09121234567`.
    pub fn local(&self) -> String {
        format!("0{}", self.national)
    }

    pub fn operator(&self) -> Option<MobileOperator> {
        MobileOperator::from_prefix(self.national.get(..3).unwrap_or(""))
    }

    /// Notices about the number: an operator prefix we do not know.
    pub fn notices(&self) -> Vec<Notice> {
        match self.operator() {
            Some(_) => Vec::new(),
            None => vec![Notice::new(
                "unknown_operator",
                "پیش‌شماره این شماره همراه را نمی‌شناسیم؛ اگر درست است، ادامه دهید.",
                "We do not know this mobile prefix; if the number is right, carry on.",
            )],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_form_gives_one_canonical_number() {
        for input in [
            "09121234567",
            "9121234567",
            "+989121234567",
            "00989121234567",
            "989121234567",
            "۰۹۱۲ ۱۲۳ ۴۵۶۷",
            "0912-123-4567",
            "(0912) 1234567",
            "\u{200F}+989121234567",
        ] {
            let number = MobileNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(number.e164(), "+989121234567", "{input}");
        }
        let number = MobileNumber::parse("09351234567").unwrap();
        assert_eq!(number.local(), "09351234567");
        assert_eq!(number.operator(), Some(MobileOperator::Irancell));
        assert!(number.notices().is_empty());
    }

    #[test]
    fn unknown_prefixes_are_a_notice_not_an_error() {
        let number = MobileNumber::parse("09701234567").unwrap();
        assert_eq!(number.operator(), None);
        assert_eq!(number.notices()[0].code, "unknown_operator");
    }

    #[test]
    fn refuses_what_is_not_an_iranian_mobile() {
        assert_eq!(MobileNumber::parse("").unwrap_err().code, "empty");
        assert_eq!(
            MobileNumber::parse("0912abc4567").unwrap_err().code,
            "not_digits"
        );
        assert_eq!(
            MobileNumber::parse("02112345678").unwrap_err().code,
            "wrong_format"
        );
        assert_eq!(
            MobileNumber::parse("0912123456").unwrap_err().code,
            "wrong_format"
        );
        assert_eq!(
            MobileNumber::parse("+447911123456").unwrap_err().code,
            "not_iranian"
        );
    }
}
