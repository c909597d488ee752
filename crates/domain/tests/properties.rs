//! Property tests: parse ∘ format is the identity for dates and identifiers; folding is
//! idempotent; business-day arithmetic never lands on a day off and only moves forward.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pishkhan_domain::id::{LegalId, MobileNumber, NationalId, PostalCode, Sheba, VehiclePlate};
use pishkhan_domain::jalali::{Weekday, days_in_month};
use pishkhan_domain::text::{fold, to_persian_digits};
use pishkhan_domain::{Holiday, HolidayCalendar, HolidayKind, JalaliDate};
use proptest::prelude::*;

fn jalali_date() -> impl Strategy<Value = JalaliDate> {
    (1000i32..=1999, 1u8..=12, 1u8..=31)
        .prop_map(|(y, m, d)| JalaliDate::new(y, m, d.min(days_in_month(y, m))).unwrap())
}

fn national_id() -> impl Strategy<Value = String> {
    "[0-9]{9}".prop_filter_map("a real ID", |body| {
        let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        let r = sum % 11;
        let id = format!("{body}{}", if r < 2 { r } else { 11 - r });
        NationalId::parse(&id).is_ok().then_some(id)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dates_survive_formatting_and_conversion(date in jalali_date()) {
        prop_assert_eq!(JalaliDate::parse(&date.format_numeric()).unwrap(), date);
        prop_assert_eq!(JalaliDate::parse(&date.format_fa()).unwrap(), date);
        prop_assert_eq!(JalaliDate::from_gregorian(date.to_gregorian()), date);
        prop_assert_eq!(date.add_days(1).add_days(-1), date);
        prop_assert!(date < date.add_days(1));
    }

    #[test]
    fn national_ids_survive_formatting(id in national_id()) {
        let parsed = NationalId::parse(&id).unwrap();
        prop_assert_eq!(NationalId::parse(&parsed.to_string()).unwrap(), parsed.clone());
        prop_assert_eq!(NationalId::parse(&to_persian_digits(&id)).unwrap(), parsed);
    }

    #[test]
    fn other_identifiers_survive_formatting(
        legal in "[0-9]{11}",
        mobile in "9[0-9]{9}",
        postal in "[0-9]{10}",
        sheba_body in "[0-9]{22}",
    ) {
        if let Ok(id) = LegalId::parse(&legal) {
            prop_assert_eq!(LegalId::parse(&id.to_string()).unwrap(), id);
        }
        let number = MobileNumber::parse(&mobile).unwrap();
        prop_assert_eq!(MobileNumber::parse(&number.e164()).unwrap(), number.clone());
        prop_assert_eq!(MobileNumber::parse(&number.local()).unwrap(), number);
        let code = PostalCode::parse(&postal).unwrap();
        prop_assert_eq!(PostalCode::parse(&code.grouped()).unwrap(), code);
        // Any 22 digits become a valid Sheba with the right check digits.
        let rearranged = format!("{sheba_body}182700");
        let remainder = rearranged.bytes().fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
        let sheba = Sheba::parse(&format!("IR{:02}{sheba_body}", 98 - remainder)).unwrap();
        prop_assert_eq!(Sheba::parse(sheba.as_str()).unwrap(), sheba);
    }

    #[test]
    fn plates_survive_formatting(first in 10u32..100, letter in 0usize..4, second in 100u32..1000, region in 10u32..100) {
        let letter = ["ب", "الف", "ع", "ژ"][letter];
        let plate = VehiclePlate::parse(&format!("{first}{letter}{second}-{region}")).unwrap();
        prop_assert_eq!(VehiclePlate::parse(&plate.canonical()).unwrap(), plate.clone());
        prop_assert_eq!(VehiclePlate::parse(&plate.display_fa()).unwrap(), plate);
    }

    #[test]
    fn folding_is_idempotent(text in "[\\u0600-\\u06FF\\u200C\\u200D\\u200F a-zA-Z0-9۰-۹\\-]{0,40}") {
        let once = fold(&text);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn folding_any_text_is_idempotent(text in "\\PC{0,30}") {
        let once = fold(&text);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn business_days_never_land_on_a_day_off_and_move_forward(
        holidays in proptest::collection::btree_set((1403i32..=1405, 1u8..=12, 1u8..=29), 0..60),
        start in (1403i32..=1405, 1u8..=12, 1u8..=29),
        n in 0u32..120,
    ) {
        let calendar = HolidayCalendar::new(
            holidays.into_iter().map(|(y, m, d)| Holiday {
                date: JalaliDate::new(y, m, d).unwrap(),
                name_fa: "تعطیل".into(),
                name_en: "Holiday".into(),
                kind: HolidayKind::Lunar,
            }),
            [1403, 1404, 1405],
        );
        let start = JalaliDate::new(start.0, start.1, start.2).unwrap();
        let end = calendar.add_business_days(start, n);
        prop_assert!(calendar.is_business_day(end));
        prop_assert!(end.weekday() != Weekday::Friday);
        prop_assert!(calendar.holidays_on(end).is_empty());
        prop_assert!(end >= start);
        // Non-decreasing in n; strictly increasing from n = 1 (from a day off, 0 and 1 business
        // days both land on the next business day).
        let next = calendar.add_business_days(start, n + 1);
        prop_assert!(next >= end, "monotonic");
        if n > 0 {
            prop_assert!(next > end, "strictly monotonic from n = 1");
            prop_assert!(end > start);
            prop_assert_eq!(calendar.business_days_between(start, end), i64::from(n));
        }
    }
}
