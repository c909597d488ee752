use super::{Notice, Problem, is_separator};
use crate::text::{digit_value, is_bidi_control};

/// Sheba (شبا): an Iranian IBAN, `IR` and 24 digits, checked with ISO 7064 mod 97.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sheba(String);

impl Sheba {
    /// Accepts `IR820540102680020817909002`, lower case, grouped in fours, with Persian digits.
    pub fn parse(input: &str) -> Result<Sheba, Problem> {
        let mut cleaned = String::with_capacity(26);
        for c in input.chars() {
            if c.is_whitespace() || is_separator(c) || is_bidi_control(c) {
                continue;
            }
            match digit_value(c) {
                Some(d) => cleaned.push(char::from(b'0' + d)),
                None if c.is_ascii_alphabetic() => cleaned.push(c.to_ascii_uppercase()),
                None => {
                    return Err(Problem::new(
                        "not_digits",
                        format!("شماره شبا فقط IR و رقم دارد؛ «{c}» جای آن نیست."),
                        format!("A Sheba number is IR followed by digits; “{c}” does not belong."),
                    ));
                }
            }
        }
        if cleaned.is_empty() {
            return Err(Problem::new(
                "empty",
                "شماره شبا را وارد کنید.",
                "Enter the Sheba number.",
            ));
        }
        let Some(digits) = cleaned.strip_prefix("IR") else {
            return Err(Problem::new(
                "missing_country",
                "شماره شبا با IR شروع می‌شود، مانند IR820540102680020817909002.",
                "A Sheba number starts with IR, such as IR820540102680020817909002.",
            ));
        };
        if digits.len() != 24 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Problem::new(
                "wrong_length",
                "شماره شبا پس از IR باید ۲۴ رقم داشته باشد.",
                "A Sheba number has 24 digits after IR.",
            ));
        }
        // ISO 7064 mod 97: the account digits, then I=18, R=27, then the two check digits.
        let rearranged = format!("{}1827{}", &digits[2..], &digits[..2]);
        let remainder = rearranged
            .bytes()
            .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
        if remainder != 1 {
            return Err(Problem::new(
                "checksum",
                "شماره شبا درست نیست: رقم‌های کنترل آن نمی‌خوانند.",
                "This Sheba number is not valid: its check digits do not match.",
            ));
        }
        Ok(Sheba(format!("IR{digits}")))
    }

    /// `IR` and 24 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bank's three-digit code (positions 5 to 7).
    pub fn bank_code(&self) -> &str {
        &self.0[4..7]
    }

    /// The bank's name in Persian and English, if the code is known.
    pub fn bank(&self) -> Option<(&'static str, &'static str)> {
        BANKS
            .iter()
            .find(|(code, _, _)| *code == self.bank_code())
            .map(|(_, fa, en)| (*fa, *en))
    }

    pub fn notices(&self) -> Vec<Notice> {
        match self.bank() {
            Some(_) => Vec::new(),
            None => vec![Notice::new(
                "unknown_bank",
                "کد بانک این شماره شبا را نمی‌شناسیم.",
                "We do not know the bank code of this Sheba number.",
            )],
        }
    }
}

/// Bank codes in Sheba numbers, as published by the Central Bank of Iran.
const BANKS: &[(&str, &str, &str)] = &[
    (
        "010",
        "بانک مرکزی جمهوری اسلامی ایران",
        "Central Bank of Iran",
    ),
    ("011", "بانک صنعت و معدن", "Bank of Industry and Mine"),
    ("012", "بانک ملت", "Bank Mellat"),
    ("013", "بانک رفاه کارگران", "Refah Bank"),
    ("014", "بانک مسکن", "Bank Maskan"),
    ("015", "بانک سپه", "Bank Sepah"),
    ("016", "بانک کشاورزی", "Bank Keshavarzi"),
    ("017", "بانک ملی ایران", "Bank Melli Iran"),
    ("018", "بانک تجارت", "Tejarat Bank"),
    ("019", "بانک صادرات ایران", "Bank Saderat Iran"),
    (
        "020",
        "بانک توسعه صادرات ایران",
        "Export Development Bank of Iran",
    ),
    ("021", "پست بانک ایران", "Post Bank of Iran"),
    ("022", "بانک توسعه تعاون", "Tose'e Ta'avon Bank"),
    ("051", "مؤسسه اعتباری توسعه", "Tose'e Credit Institution"),
    ("053", "بانک کارآفرین", "Karafarin Bank"),
    ("054", "بانک پارسیان", "Parsian Bank"),
    ("055", "بانک اقتصاد نوین", "EN Bank"),
    ("056", "بانک سامان", "Saman Bank"),
    ("057", "بانک پاسارگاد", "Bank Pasargad"),
    ("058", "بانک سرمایه", "Sarmayeh Bank"),
    ("059", "بانک سینا", "Sina Bank"),
    ("060", "بانک قرض‌الحسنه مهر ایران", "Mehr Iran Bank"),
    ("061", "بانک شهر", "Shahr Bank"),
    ("062", "بانک آینده", "Ayandeh Bank"),
    ("064", "بانک گردشگری", "Gardeshgari Bank"),
    ("065", "بانک حکمت ایرانیان", "Hekmat Iranian Bank"),
    ("066", "بانک دی", "Dey Bank"),
    ("069", "بانک ایران زمین", "Iran Zamin Bank"),
    ("070", "بانک قرض‌الحسنه رسالت", "Resalat Bank"),
    ("073", "مؤسسه اعتباری کوثر", "Kosar Credit Institution"),
    ("075", "مؤسسه اعتباری ملل", "Melal Credit Institution"),
    ("078", "بانک خاورمیانه", "Middle East Bank"),
    ("079", "بانک مهر اقتصاد", "Mehr Eqtesad Bank"),
    ("080", "مؤسسه اعتباری نور", "Noor Credit Institution"),
    ("095", "بانک ایران و ونزوئلا", "Iran-Venezuela Bank"),
];

#[cfg(test)]
mod tests {
    use super::Sheba;

    #[test]
    fn checks_mod_97_and_names_the_bank() {
        let sheba = Sheba::parse("ir82 0540 1026 8002 0817 9090 02").unwrap();
        assert_eq!(sheba.as_str(), "IR820540102680020817909002");
        assert_eq!(sheba.bank_code(), "054");
        assert_eq!(sheba.bank().unwrap().0, "بانک پارسیان");
        assert_eq!(
            Sheba::parse("IR820540102680020817909003").unwrap_err().code,
            "checksum"
        );
        assert_eq!(
            Sheba::parse("820540102680020817909002").unwrap_err().code,
            "missing_country"
        );
        assert_eq!(
            Sheba::parse("IR8205401026800208179090").unwrap_err().code,
            "wrong_length"
        );
        assert_eq!(Sheba::parse("").unwrap_err().code, "empty");
    }
}
