//! The holiday table as a governorate hands it in: a CSV file, checked whole before anything is
//! stored, with every problem reported by line.
//!
//! ```text
//! # comment lines start with #
//! covered,1404,,                      ← the year's whole list is in this file
//! 1404/01/01,solar,آغاز نوروز,Nowruz   ← date, kind, Persian name, English name
//! ```

use std::collections::BTreeMap;

use crate::business_days::{Holiday, HolidayKind};
use crate::jalali::JalaliDate;
use crate::problem::Problem;
use crate::text::to_persian_digits;

/// One year's holidays, and whether the list is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayYear {
    pub year: i32,
    pub covered: bool,
    pub holidays: Vec<Holiday>,
}

/// A column's name in Persian, for problems read by the governorate's staff.
fn column_fa(column: &str) -> &'static str {
    match column {
        "date" => "تاریخ",
        "kind" => "نوع",
        "name_fa" => "نام فارسی",
        "name_en" => "نام انگلیسی",
        "year" => "سال",
        _ => "سطر",
    }
}

/// Parses a whole holiday file. Either every line is right and the years come back, or every
/// problem is listed.
pub fn parse_holiday_csv(text: &str) -> Result<Vec<HolidayYear>, Vec<Problem>> {
    let mut years: BTreeMap<i32, HolidayYear> = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim().trim_start_matches('\u{FEFF}');
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let error = |column: &str, problem: Problem| {
            problem.at_named(column, column_fa(column)).on_line(line)
        };
        if fields.len() != 4 {
            errors.push(error(
                "line",
                Problem::new(
                    "wrong_columns",
                    format!(
                        "هر سطر چهار ستون دارد (تاریخ، نوع، نام فارسی، نام انگلیسی)؛ این سطر {} ستون دارد.",
                        to_persian_digits(&fields.len().to_string())
                    ),
                    format!("Each line has four columns (date, kind, Persian name, English name); this one has {}.", fields.len()),
                ),
            ));
            continue;
        }
        if fields[0] == "covered" {
            match fields[1]
                .parse::<i32>()
                .ok()
                .filter(|y| crate::jalali::YEARS.contains(y))
            {
                Some(year) => {
                    years
                        .entry(year)
                        .or_insert_with(|| HolidayYear {
                            year,
                            covered: false,
                            holidays: Vec::new(),
                        })
                        .covered = true;
                }
                None => errors.push(error(
                    "year",
                    Problem::new(
                        "year_out_of_range",
                        "سال باید چهار رقمی و بین ۱۰۰۰ تا ۱۹۹۹ باشد.",
                        "The year must have four digits, from 1000 to 1999.",
                    ),
                )),
            }
            continue;
        }
        let date = JalaliDate::parse(fields[0]);
        let kind = HolidayKind::from_code(fields[1]);
        if let Err(problem) = &date {
            errors.push(error("date", problem.clone()));
        }
        if kind.is_none() {
            errors.push(error(
                "kind",
                Problem::new(
                    "unknown_kind",
                    "نوع تعطیلی باید solar (خورشیدی) یا lunar (قمری) باشد.",
                    "The kind must be solar or lunar.",
                ),
            ));
        }
        for (column, value) in [("name_fa", fields[2]), ("name_en", fields[3])] {
            if value.is_empty() {
                errors.push(error(
                    column,
                    Problem::new(
                        "empty",
                        "نام مناسبت را بنویسید.",
                        "Write the occasion's name.",
                    ),
                ));
            }
        }
        if let (Ok(date), Some(kind)) = (date, kind)
            && !fields[2].is_empty()
            && !fields[3].is_empty()
        {
            years
                .entry(date.year())
                .or_insert_with(|| HolidayYear {
                    year: date.year(),
                    covered: false,
                    holidays: Vec::new(),
                })
                .holidays
                .push(Holiday {
                    date,
                    name_fa: fields[2].to_owned(),
                    name_en: fields[3].to_owned(),
                    kind,
                });
        }
    }
    if errors.is_empty() {
        Ok(years.into_values().collect())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_years_and_coverage() {
        let years = parse_holiday_csv(
            "# comment\ncovered,1404,,\n1404/01/01,solar,آغاز نوروز,Nowruz\n\n1405/01/01,solar,آغاز نوروز,Nowruz\n",
        )
        .unwrap();
        assert_eq!(years.len(), 2);
        assert!(years[0].covered && !years[1].covered);
        assert_eq!(years[0].holidays[0].name_en, "Nowruz");
    }

    #[test]
    fn reports_every_problem_with_its_line_and_column() {
        let errors = parse_holiday_csv(
            "1404/12/30,solar,x,y\n1404/01/02,moon,x,\ncovered,99,,\n1404/01/03,solar\n",
        )
        .unwrap_err();
        let found: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line.unwrap_or(0), e.at.as_str(), e.code))
            .collect();
        assert_eq!(
            found,
            [
                (1, "date", "day_out_of_range"),
                (2, "kind", "unknown_kind"),
                (2, "name_en", "empty"),
                (3, "year", "year_out_of_range"),
                (4, "line", "wrong_columns"),
            ]
        );
        assert_eq!(
            errors[0].located(crate::Language::Persian),
            "سطر ۱، ستون «تاریخ»: اسفند سال ۱۴۰۴ ۲۹ روز دارد."
        );
    }
}
