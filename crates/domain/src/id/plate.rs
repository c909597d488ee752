//! Vehicle plates (پلاک خودرو): two digits, a letter, three digits, and the two-digit region code
//! beside «ایران», as in `۱۲ ب ۳۴۵ ایران ۶۷`.

use super::Problem;
use crate::text::{digit_value, is_bidi_control, to_persian_digits};

/// What the plate's letter says about the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateCategory {
    Private,
    Government,
    Police,
    Taxi,
    PublicTransport,
    Agricultural,
    Disabled,
    Military,
    Diplomatic,
}

impl PlateCategory {
    pub fn code(self) -> &'static str {
        match self {
            PlateCategory::Private => "private",
            PlateCategory::Government => "government",
            PlateCategory::Police => "police",
            PlateCategory::Taxi => "taxi",
            PlateCategory::PublicTransport => "public_transport",
            PlateCategory::Agricultural => "agricultural",
            PlateCategory::Disabled => "disabled",
            PlateCategory::Military => "military",
            PlateCategory::Diplomatic => "diplomatic",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            PlateCategory::Private => "شخصی",
            PlateCategory::Government => "دولتی",
            PlateCategory::Police => "انتظامی",
            PlateCategory::Taxi => "تاکسی",
            PlateCategory::PublicTransport => "عمومی",
            PlateCategory::Agricultural => "کشاورزی",
            PlateCategory::Disabled => "معلولین",
            PlateCategory::Military => "نظامی",
            PlateCategory::Diplomatic => "سیاسی",
        }
    }
}

/// The letters used on plates, each with its category.
const LETTERS: &[(&str, PlateCategory)] = &[
    ("الف", PlateCategory::Government),
    ("ب", PlateCategory::Private),
    ("پ", PlateCategory::Police),
    ("ت", PlateCategory::Taxi),
    ("ث", PlateCategory::Military),
    ("ج", PlateCategory::Private),
    ("د", PlateCategory::Private),
    ("ز", PlateCategory::Military),
    ("ژ", PlateCategory::Disabled),
    ("س", PlateCategory::Private),
    ("ش", PlateCategory::Military),
    ("ص", PlateCategory::Private),
    ("ط", PlateCategory::Private),
    ("ع", PlateCategory::PublicTransport),
    ("ف", PlateCategory::Military),
    ("ق", PlateCategory::Private),
    ("ک", PlateCategory::Agricultural),
    ("گ", PlateCategory::Private),
    ("ل", PlateCategory::Private),
    ("م", PlateCategory::Private),
    ("ن", PlateCategory::Private),
    ("و", PlateCategory::Private),
    ("ه", PlateCategory::Private),
    ("ی", PlateCategory::Private),
    ("D", PlateCategory::Diplomatic),
    ("S", PlateCategory::Diplomatic),
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VehiclePlate {
    pub first: String,
    pub letter: &'static str,
    pub second: String,
    pub region: String,
}

fn wrong_format() -> Problem {
    Problem::new(
        "wrong_format",
        "پلاک باید به شکل «۱۲ ب ۳۴۵ ایران ۶۷» باشد: دو رقم، یک حرف، سه رقم و کد دو رقمی ایران.",
        "A plate reads like “12 B 345 Iran 67”: two digits, a letter, three digits and the two-digit region.",
    )
}

impl VehiclePlate {
    /// Accepts `12ب345-67`, `۱۲ ب ۳۴۵ ایران ۶۷`, and the region first (`۶۷ ایران ۱۲ب۳۴۵`), with
    /// Arabic letter forms (ك ي) and any digits.
    pub fn parse(input: &str) -> Result<VehiclePlate, Problem> {
        if input.trim().is_empty() {
            return Err(Problem::new(
                "empty",
                "شماره پلاک را وارد کنید.",
                "Enter the plate number.",
            ));
        }
        let folded = input.replace('ك', "ک").replace(['ي', 'ى'], "ی");
        // «۶۷ ایران ۱۲ب۳۴۵»: a letter comes after the word ایران, so the region came first.
        let region_first = folded.find("ایران").is_some_and(|at| {
            folded[at + "ایران".len()..]
                .chars()
                .any(|c| c.is_alphabetic() && digit_value(c).is_none())
        });
        let compact: String = folded
            .replace("ایران", " ")
            .replace("IR", " ")
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-' || *c == '_' || is_bidi_control(*c)))
            .map(|c| digit_value(c).map_or(c, |d| char::from(b'0' + d)))
            .collect();
        let (region, main) = if region_first {
            (
                compact.get(..2).unwrap_or(""),
                compact.get(2..).unwrap_or(""),
            )
        } else {
            let split = compact.len().saturating_sub(2);
            (
                compact.get(split..).unwrap_or(""),
                compact.get(..split).unwrap_or(""),
            )
        };
        let first = main.get(..2).unwrap_or("");
        let rest = main.get(2..).unwrap_or("");
        let Some(letter) = LETTERS
            .iter()
            .map(|(letter, _)| *letter)
            .find(|letter| rest.starts_with(letter))
        else {
            return Err(Problem::new(
                "unknown_letter",
                "حرف پلاک را نمی‌شناسیم؛ حرف‌های پلاک مانند ب، ج، د، س، ص، ط، ق، ل، م، ن، و، ه، ی و الف هستند.",
                "The plate's letter is not one used on Iranian plates.",
            ));
        };
        let second = &rest[letter.len()..];
        let all_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(first, 2) && all_digits(second, 3) && all_digits(region, 2)) {
            return Err(wrong_format());
        }
        if first.starts_with('0') || second.starts_with('0') || region.starts_with('0') {
            return Err(Problem::new(
                "leading_zero",
                "گروه‌های عددی پلاک با صفر شروع نمی‌شوند.",
                "No group of digits on a plate starts with zero.",
            ));
        }
        Ok(VehiclePlate {
            first: first.to_owned(),
            letter,
            second: second.to_owned(),
            region: region.to_owned(),
        })
    }

    pub fn category(&self) -> PlateCategory {
        LETTERS
            .iter()
            .find(|(letter, _)| *letter == self.letter)
            .map_or(PlateCategory::Private, |(_, category)| *category)
    }

    /// The canonical form: `12ب345-67`.
    pub fn canonical(&self) -> String {
        format!(
            "{}{}{}-{}",
            self.first, self.letter, self.second, self.region
        )
    }

    /// As a person reads it, in Persian digits: `۱۲ ب ۳۴۵ ایران ۶۷`.
    pub fn display_fa(&self) -> String {
        to_persian_digits(&format!(
            "{} {} {} ایران {}",
            self.first, self.letter, self.second, self.region
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plates_as_people_write_them() {
        for input in [
            "12ب345-67",
            "۱۲ ب ۳۴۵ ایران ۶۷",
            "۱۲ب۳۴۵ - ۶۷",
            "۶۷ ایران ۱۲ ب ۳۴۵",
            "12 ب 345 IR 67",
        ] {
            let plate = VehiclePlate::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(plate.canonical(), "12ب345-67", "{input}");
        }
        let government = VehiclePlate::parse("۱۲ الف ۳۴۵ ایران ۱۱").unwrap();
        assert_eq!(government.category(), PlateCategory::Government);
        assert_eq!(government.display_fa(), "۱۲ الف ۳۴۵ ایران ۱۱");
        assert_eq!(
            VehiclePlate::parse("۱۲ ي ۳۴۵ ایران ۶۷").unwrap().letter,
            "ی"
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(VehiclePlate::parse("").unwrap_err().code, "empty");
        assert_eq!(
            VehiclePlate::parse("12X345-67").unwrap_err().code,
            "unknown_letter"
        );
        assert_eq!(
            VehiclePlate::parse("12ب34-67").unwrap_err().code,
            "wrong_format"
        );
        assert_eq!(
            VehiclePlate::parse("02ب345-67").unwrap_err().code,
            "leading_zero"
        );
    }
}
