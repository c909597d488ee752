//! Business days: the basis of every deadline (SLA). Friday is off; official holidays are off.
//!
//! Solar holidays fall on fixed Jalali dates; lunar ones move every year, so the holiday table is
//! data (kept by the governorate, seeded for the years that could be sourced). A calendar knows
//! which years its table covers, so a deadline that runs into an uncovered year can say so.

use std::collections::{BTreeMap, BTreeSet};

use crate::jalali::{JalaliDate, Weekday};

/// Whether a holiday is on a fixed solar date or follows the lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidayKind {
    Solar,
    Lunar,
}

impl HolidayKind {
    pub fn code(self) -> &'static str {
        match self {
            HolidayKind::Solar => "solar",
            HolidayKind::Lunar => "lunar",
        }
    }

    pub fn from_code(code: &str) -> Option<HolidayKind> {
        match code {
            "solar" => Some(HolidayKind::Solar),
            "lunar" => Some(HolidayKind::Lunar),
            _ => None,
        }
    }
}

/// One official holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: JalaliDate,
    pub name_fa: String,
    pub name_en: String,
    pub kind: HolidayKind,
}

/// The days off, for deadline arithmetic.
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    holidays: BTreeMap<JalaliDate, Vec<Holiday>>,
    covered_years: BTreeSet<i32>,
}

impl HolidayCalendar {
    /// A calendar from the holidays of the `covered_years` (years whose whole list is known).
    pub fn new(
        holidays: impl IntoIterator<Item = Holiday>,
        covered_years: impl IntoIterator<Item = i32>,
    ) -> HolidayCalendar {
        let mut by_date: BTreeMap<JalaliDate, Vec<Holiday>> = BTreeMap::new();
        for holiday in holidays {
            by_date.entry(holiday.date).or_default().push(holiday);
        }
        HolidayCalendar {
            holidays: by_date,
            covered_years: covered_years.into_iter().collect(),
        }
    }

    /// Whether the year's holiday list is known.
    pub fn covers(&self, year: i32) -> bool {
        self.covered_years.contains(&year)
    }

    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.covered_years.iter().copied()
    }

    /// The holidays on `date` (several occasions may share a day).
    pub fn holidays_on(&self, date: JalaliDate) -> &[Holiday] {
        self.holidays.get(&date).map_or(&[], Vec::as_slice)
    }

    /// The holidays of a year, in date order.
    pub fn holidays_in(&self, year: i32) -> impl Iterator<Item = &Holiday> {
        self.holidays
            .iter()
            .filter(move |(date, _)| date.year() == year)
            .flat_map(|(_, list)| list)
    }

    pub fn is_business_day(&self, date: JalaliDate) -> bool {
        date.weekday() != Weekday::Friday && !self.holidays.contains_key(&date)
    }

    /// The `n`th business day after `start` (`start` itself does not count). With `n = 0`, the
    /// first business day on or after `start`. Always lands on a business day.
    pub fn add_business_days(&self, start: JalaliDate, n: u32) -> JalaliDate {
        let mut date = start;
        if n == 0 {
            while !self.is_business_day(date) {
                date = date.add_days(1);
            }
            return date;
        }
        let mut left = n;
        while left > 0 {
            date = date.add_days(1);
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// The number of business days `d` with `a < d <= b`; negative (the same count) if `b < a`.
    /// For any `n ≥ 1`: `business_days_between(a, add_business_days(a, n)) == n`.
    pub fn business_days_between(&self, a: JalaliDate, b: JalaliDate) -> i64 {
        let (from, to, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut count = 0;
        let mut date = from;
        while date < to {
            date = date.add_days(1);
            if self.is_business_day(date) {
                count += 1;
            }
        }
        sign * count
    }

    /// The years between `a` and `b` (inclusive) whose holidays are not known.
    pub fn uncovered_years(&self, a: JalaliDate, b: JalaliDate) -> Vec<i32> {
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        (from.year()..=to.year())
            .filter(|y| !self.covers(*y))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> JalaliDate {
        JalaliDate::new(y, m, d).unwrap()
    }

    fn nowruz_1404() -> HolidayCalendar {
        let holiday = |d| Holiday {
            date: date(1404, 1, d),
            name_fa: "نوروز".into(),
            name_en: "Nowruz".into(),
            kind: HolidayKind::Solar,
        };
        HolidayCalendar::new([1, 2, 3, 4, 12, 13].map(holiday), [1404])
    }

    #[test]
    fn skips_fridays_and_holidays() {
        let calendar = nowruz_1404();
        // 1403/12/29 is a Wednesday. Thursday 12/30 counts; 1404/01/01 (Friday, Nowruz) to 01/04
        // do not; Saturday 01/05 does.
        assert_eq!(date(1403, 12, 29).weekday(), Weekday::Wednesday);
        assert_eq!(
            calendar.add_business_days(date(1403, 12, 29), 1),
            date(1403, 12, 30)
        );
        assert_eq!(
            calendar.add_business_days(date(1403, 12, 29), 2),
            date(1404, 1, 5)
        );
        // 01/08 is a Friday; 01/12 and 01/13 are holidays.
        assert_eq!(date(1404, 1, 8).weekday(), Weekday::Friday);
        assert_eq!(
            calendar.add_business_days(date(1404, 1, 5), 5),
            date(1404, 1, 11)
        );
        assert_eq!(
            calendar.add_business_days(date(1404, 1, 11), 1),
            date(1404, 1, 14)
        );
        assert_eq!(
            calendar.add_business_days(date(1404, 1, 1), 0),
            date(1404, 1, 5)
        );
        assert_eq!(
            calendar.business_days_between(date(1403, 12, 29), date(1404, 1, 5)),
            2
        );
        assert_eq!(
            calendar.business_days_between(date(1404, 1, 5), date(1403, 12, 29)),
            -2
        );
    }

    #[test]
    fn knows_which_years_it_covers() {
        let calendar = nowruz_1404();
        assert!(calendar.covers(1404));
        assert_eq!(
            calendar.uncovered_years(date(1403, 12, 1), date(1405, 1, 5)),
            [1403, 1405]
        );
        assert_eq!(calendar.holidays_in(1404).count(), 6);
        assert_eq!(calendar.holidays_on(date(1404, 1, 2))[0].name_en, "Nowruz");
    }
}
