//! The Jalali (Solar Hijri) calendar, on ICU4X's Persian calendar: we never hand-roll the
//! conversion. Dates people read are Jalali; Gregorian dates are for machines and other systems.

use chrono::{Datelike, NaiveDate};
use icu_calendar::cal::Persian;
use icu_calendar::types::RataDie;
use icu_calendar::{Date, Iso};

use crate::id::Problem;
use crate::text::{digit_value, is_bidi_control, to_persian_digits};

/// Month names, Farvardin first.
pub const MONTHS_FA: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];
pub const MONTHS_EN: [&str; 12] = [
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
];

/// The years a [`JalaliDate`] may have: wide enough for any record a province keeps.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=1999;

/// A day of the week, Saturday first as in Iran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    Saturday,
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
}

impl Weekday {
    pub fn name_fa(self) -> &'static str {
        match self {
            Weekday::Saturday => "شنبه",
            Weekday::Sunday => "یکشنبه",
            Weekday::Monday => "دوشنبه",
            Weekday::Tuesday => "سه‌شنبه",
            Weekday::Wednesday => "چهارشنبه",
            Weekday::Thursday => "پنجشنبه",
            Weekday::Friday => "جمعه",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
        }
    }
}

/// A Jalali date. Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliDate {
    year: i32,
    month: u8,
    day: u8,
}

impl JalaliDate {
    /// A date from its parts, if it exists (`1403/12/30` does, `1404/12/30` does not).
    pub fn new(year: i32, month: u8, day: u8) -> Result<JalaliDate, Problem> {
        if !YEARS.contains(&year) {
            return Err(Problem::new(
                "year_out_of_range",
                "سال باید چهار رقمی و بین ۱۰۰۰ تا ۱۹۹۹ باشد.",
                "The year must have four digits, from 1000 to 1999.",
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(Problem::new(
                "month_out_of_range",
                "ماه باید بین ۱ (فروردین) تا ۱۲ (اسفند) باشد.",
                "The month must be from 1 (Farvardin) to 12 (Esfand).",
            ));
        }
        let last = days_in_month(year, month);
        if day == 0 || day > last {
            return Err(Problem::new(
                "day_out_of_range",
                format!(
                    "{} سال {} {} روز دارد.",
                    MONTHS_FA[usize::from(month - 1)],
                    to_persian_digits(&year.to_string()),
                    to_persian_digits(&last.to_string())
                ),
                format!(
                    "{} {year} has {last} days.",
                    MONTHS_EN[usize::from(month - 1)]
                ),
            ));
        }
        Ok(JalaliDate { year, month, day })
    }

    /// Parses `1404/01/15` (or `1404-1-15`), with Persian, Arabic-Indic or ASCII digits.
    pub fn parse(input: &str) -> Result<JalaliDate, Problem> {
        let text: String = input
            .trim()
            .chars()
            .filter(|c| !is_bidi_control(*c))
            .map(|c| digit_value(c).map_or(c, |d| char::from(b'0' + d)))
            .collect();
        if text.is_empty() {
            return Err(Problem::new(
                "empty",
                "تاریخ را وارد کنید.",
                "Enter the date.",
            ));
        }
        let wrong = || {
            Problem::new(
                "wrong_format",
                "تاریخ را به شکل سال/ماه/روز بنویسید، مانند ۱۴۰۴/۰۱/۱۵.",
                "Write the date as year/month/day, such as 1404/01/15.",
            )
        };
        let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
        let [year, month, day] = parts.as_slice() else {
            return Err(wrong());
        };
        let number = |s: &str, max_len: usize| -> Result<u32, Problem> {
            if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            s.parse().map_err(|_| wrong())
        };
        if year.len() != 4 {
            return Err(Problem::new(
                "year_out_of_range",
                "سال باید چهار رقمی و بین ۱۰۰۰ تا ۱۹۹۹ باشد.",
                "The year must have four digits, from 1000 to 1999.",
            ));
        }
        let year = number(year, 4)?;
        let month = number(month, 2)?;
        let day = number(day, 2)?;
        JalaliDate::new(
            i32::try_from(year).map_err(|_| wrong())?,
            u8::try_from(month).map_err(|_| wrong())?,
            u8::try_from(day).map_err(|_| wrong())?,
        )
    }

    /// The day an instant falls on in Iran.
    pub fn in_iran(instant: chrono::DateTime<chrono::Utc>) -> JalaliDate {
        JalaliDate::from_gregorian(iran_local_time(instant).date())
    }

    pub fn from_gregorian(date: NaiveDate) -> JalaliDate {
        let iso = Date::try_new_iso(
            date.year(),
            u8::try_from(date.month()).unwrap_or(1),
            u8::try_from(date.day()).unwrap_or(1),
        );
        match iso {
            Ok(iso) => JalaliDate::from_icu(iso.to_calendar(Persian)),
            // chrono's dates always exist in ISO; keep the type total.
            Err(_) => JalaliDate {
                year: 1000,
                month: 1,
                day: 1,
            },
        }
    }

    pub fn to_gregorian(self) -> NaiveDate {
        let iso = self.to_icu().to_calendar(Iso);
        NaiveDate::from_ymd_opt(
            iso.year().extended_year(),
            u32::from(iso.month().ordinal),
            u32::from(iso.day_of_month().0),
        )
        .unwrap_or_default()
    }

    /// The Gregorian date as ISO 8601, `2025-03-21`: the form other systems exchange.
    pub fn format_gregorian_iso(self) -> String {
        self.to_gregorian().format("%Y-%m-%d").to_string()
    }

    fn to_icu(self) -> Date<Persian> {
        // The fields were checked when the date was made.
        Date::try_new_persian(self.year, self.month, self.day)
            .unwrap_or_else(|_| Date::from_rata_die(RataDie::new(0), Persian))
    }

    fn from_icu(date: Date<Persian>) -> JalaliDate {
        JalaliDate {
            year: date.year().extended_year(),
            month: date.month().ordinal,
            day: date.day_of_month().0,
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Jalali quarter: 1 = Farvardin–Khordad, 2 = Tir–Shahrivar, 3 = Mehr–Azar, 4 = Dey–Esfand.
    pub fn quarter(self) -> u8 {
        (self.month - 1) / 3 + 1
    }

    pub fn weekday(self) -> Weekday {
        match self.to_icu().weekday() {
            icu_calendar::types::Weekday::Saturday => Weekday::Saturday,
            icu_calendar::types::Weekday::Sunday => Weekday::Sunday,
            icu_calendar::types::Weekday::Monday => Weekday::Monday,
            icu_calendar::types::Weekday::Tuesday => Weekday::Tuesday,
            icu_calendar::types::Weekday::Wednesday => Weekday::Wednesday,
            icu_calendar::types::Weekday::Thursday => Weekday::Thursday,
            icu_calendar::types::Weekday::Friday => Weekday::Friday,
        }
    }

    /// The date `days` later (earlier when negative).
    pub fn add_days(self, days: i64) -> JalaliDate {
        let day_number = self.to_icu().to_rata_die().to_i64_date() + days;
        JalaliDate::from_icu(Date::from_rata_die(RataDie::new(day_number), Persian))
    }

    /// Days from `self` to `other` (negative if `other` is earlier).
    pub fn days_until(self, other: JalaliDate) -> i64 {
        other.to_icu().to_rata_die().to_i64_date() - self.to_icu().to_rata_die().to_i64_date()
    }

    pub fn month_name_fa(self) -> &'static str {
        MONTHS_FA[usize::from(self.month - 1)]
    }

    pub fn month_name_en(self) -> &'static str {
        MONTHS_EN[usize::from(self.month - 1)]
    }

    /// `1404/01/15`, ASCII digits: the form APIs exchange.
    pub fn format_numeric(self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }

    /// `۱۴۰۴/۰۱/۱۵`
    pub fn format_fa(self) -> String {
        to_persian_digits(&self.format_numeric())
    }

    /// `۱۵ فروردین ۱۴۰۴`
    pub fn format_long_fa(self) -> String {
        to_persian_digits(&format!(
            "{} {} {}",
            self.day,
            self.month_name_fa(),
            self.year
        ))
    }

    /// `15 Farvardin 1404`
    pub fn format_long_en(self) -> String {
        format!("{} {} {}", self.day, self.month_name_en(), self.year)
    }
}

impl std::fmt::Display for JalaliDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format_numeric())
    }
}

/// The instants a Jalali day in Iran runs between: [its midnight, the next midnight), in UTC.
pub fn iran_day_bounds(
    day: JalaliDate,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let start = day
        .to_gregorian()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        - chrono::TimeDelta::seconds(i64::from(IRAN_UTC_OFFSET_SECONDS));
    (start, start + chrono::TimeDelta::days(1))
}

/// Days in a Jalali month: 31 for the first six, 30 for the next five, 29 or 30 for Esfand.
/// Iran's offset from UTC, in seconds: +03:30 all year (no daylight saving since 1401).
pub const IRAN_UTC_OFFSET_SECONDS: i32 = 3 * 3600 + 1800;

/// The wall-clock time in Iran at an instant: UTC+03:30 all year (no daylight saving since 1401).
pub fn iran_local_time(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    chrono::FixedOffset::east_opt(IRAN_UTC_OFFSET_SECONDS).map_or_else(
        || instant.naive_utc(),
        |o| instant.with_timezone(&o).naive_local(),
    )
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1..=6 => 31,
        7..=11 => 30,
        _ => Date::try_new_persian(year, 12, 1).map_or(29, |d| d.days_in_month()),
    }
}

/// Whether a Jalali year has 366 days (Esfand has 30).
pub fn is_leap_year(year: i32) -> bool {
    days_in_month(year, 12) == 30
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> JalaliDate {
        JalaliDate::new(y, m, d).unwrap()
    }

    fn gregorian(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn converts_known_dates() {
        // The resolution's date, and Nowruz 1404.
        assert_eq!(date(1382, 5, 25).to_gregorian(), gregorian(2003, 8, 16));
        assert_eq!(date(1404, 1, 1).to_gregorian(), gregorian(2025, 3, 21));
        assert_eq!(
            JalaliDate::from_gregorian(gregorian(2025, 3, 21)),
            date(1404, 1, 1)
        );
        assert_eq!(date(1404, 1, 1).weekday(), Weekday::Friday);
        assert_eq!(date(1382, 5, 25).weekday(), Weekday::Saturday);
    }

    #[test]
    fn knows_month_lengths_and_leap_years() {
        assert!(is_leap_year(1403));
        assert!(!is_leap_year(1404));
        assert!(JalaliDate::new(1403, 12, 30).is_ok());
        let error = JalaliDate::new(1404, 12, 30).unwrap_err();
        assert_eq!(error.code, "day_out_of_range");
        assert_eq!(error.fa, "اسفند سال ۱۴۰۴ ۲۹ روز دارد.");
        assert_eq!(
            JalaliDate::new(1404, 7, 31).unwrap_err().code,
            "day_out_of_range"
        );
        assert_eq!(
            JalaliDate::new(1404, 13, 1).unwrap_err().code,
            "month_out_of_range"
        );
    }

    #[test]
    fn parses_what_people_type() {
        for input in [
            "1404/01/15",
            "۱۴۰۴/۰۱/۱۵",
            "1404-1-15",
            " ۱۴۰۴/۱/۱۵ ",
            "١٤٠٤/٠١/١٥",
        ] {
            assert_eq!(
                JalaliDate::parse(input).unwrap(),
                date(1404, 1, 15),
                "{input}"
            );
        }
        assert_eq!(JalaliDate::parse("").unwrap_err().code, "empty");
        assert_eq!(
            JalaliDate::parse("15/01/1404").unwrap_err().code,
            "year_out_of_range"
        );
        assert_eq!(
            JalaliDate::parse("1404/01").unwrap_err().code,
            "wrong_format"
        );
        assert_eq!(
            JalaliDate::parse("1404/aa/01").unwrap_err().code,
            "wrong_format"
        );
    }

    #[test]
    fn formats_for_people_and_machines() {
        let d = date(1404, 1, 15);
        assert_eq!(d.format_numeric(), "1404/01/15");
        assert_eq!(d.format_fa(), "۱۴۰۴/۰۱/۱۵");
        assert_eq!(d.format_long_fa(), "۱۵ فروردین ۱۴۰۴");
        assert_eq!(d.format_long_en(), "15 Farvardin 1404");
    }

    #[test]
    fn quarters_and_arithmetic() {
        assert_eq!(date(1404, 3, 31).quarter(), 1);
        assert_eq!(date(1404, 4, 1).quarter(), 2);
        assert_eq!(date(1404, 12, 29).quarter(), 4);
        assert_eq!(date(1403, 12, 30).add_days(1), date(1404, 1, 1));
        assert_eq!(date(1404, 1, 1).add_days(-1), date(1403, 12, 30));
        assert_eq!(date(1404, 1, 1).days_until(date(1405, 1, 1)), 365);
    }

    #[test]
    fn an_iranian_day_starts_at_midnight_tehran_time() {
        // 1405/09/13 is 2026-12-04; its midnight in Tehran is 20:30 UTC the evening before.
        let (start, end) = iran_day_bounds(date(1405, 9, 13));
        assert_eq!(start.to_rfc3339(), "2026-12-03T20:30:00+00:00");
        assert_eq!((end - start).num_hours(), 24);
        assert_eq!(JalaliDate::in_iran(start), date(1405, 9, 13));
        assert_eq!(
            JalaliDate::in_iran(start - chrono::TimeDelta::seconds(1)),
            date(1405, 9, 12)
        );
        assert_eq!(JalaliDate::in_iran(end), date(1405, 9, 14));
    }
}
