//! Each demo service's own workflow: the stages its agency really goes through, as
//! `../shared/design/SERVICES-REFERENCE.md` gives them (paraphrased), with a deadline in
//! business days only where the reference states one — a stage it marks "unconfirmed" has none,
//! rather than an invented one. A payment is a paying stage (`Stage::paying`: it waits on the
//! applicant; issue 20 makes its bill and moves on once paid). How long each output holds, where
//! the reference says.

use pishkhan_domain::catalog::OutputTemplate;
use pishkhan_domain::workflow::{Stage, Workflow};

/// (code, label, required) of what a stage's closing step writes down.
type Asks = &'static [(&'static str, &'static str, bool)];

const PAYMENT: Stage =
    Stage::agency("payment", "در انتظار پرداخت هزینه", "تأیید پرداخت", None).paying();

const fn stage(code: &'static str, name: &'static str, done: &'static str) -> Stage {
    Stage::agency(code, name, done, None)
}

const fn within(code: &'static str, name: &'static str, done: &'static str, days: u32) -> Stage {
    Stage::agency(code, name, done, Some(days))
}

const NUMBER: Asks = &[("output_number", "شمارهٔ سند صادرشده در سامانهٔ دستگاه", true)];

/// The workflow and the output's validity of a demo service (its key in the demo catalogue).
pub fn demo_workflow(key: &str) -> Option<(Workflow, OutputTemplate)> {
    let (stages, issue_days, valid_days): (Vec<Stage>, u32, Option<u32>) = match key {
        // A1: documents checked against the population database, the record signed, the fee
        // paid, the certificate issued.
        "birth-certificate" => (
            vec![
                stage(
                    "records-check",
                    "تطبیق مدارک با پایگاه اطلاعات جمعیت",
                    "تأیید مدارک",
                ),
                stage(
                    "birth-record",
                    "امضای سند ولادت به دست اعلام‌کننده",
                    "ثبت امضای سند ولادت",
                )
                .on_applicant(),
                PAYMENT,
                within("registration", "صدور شناسنامه و کد ملی نوزاد", "صدور", 1).asking(&[(
                    "child_national_id",
                    "کد ملی نوزاد",
                    true,
                )]),
            ],
            1,
            None,
        ),
        // A2: identity records checked, then the booklet marked «المثنی».
        "duplicate-birth-certificate" => (
            vec![
                stage("records-check", "بررسی سوابق هویتی", "تأیید سوابق"),
                stage("printing", "چاپ شناسنامه با مهر «المثنی»", "صدور").asking(&[(
                    "serial",
                    "سری و سریال شناسنامهٔ تازه",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // A3: declarant and deceased checked, death record drafted, certificate issued.
        "death-certificate" => (
            vec![
                stage(
                    "documents-check",
                    "بررسی مدارک اعلام‌کننده و متوفی",
                    "تأیید مدارک",
                ),
                stage(
                    "death-record",
                    "تنظیم سند وفات و باطل کردن شناسنامه",
                    "صدور",
                )
                .asking(&[("record_number", "شمارهٔ سند وفات", true)]),
            ],
            1,
            None,
        ),
        // A4: local office 3 days to forward, headquarters 7 days to answer.
        "change-of-name" => (
            vec![
                within(
                    "local-review",
                    "بررسی در اداره و ارجاع",
                    "ارجاع به ادارهٔ کل",
                    3,
                ),
                within(
                    "headquarters",
                    "بررسی در ادارهٔ کل اسناد هویتی",
                    "ثبت پاسخ",
                    7,
                )
                .asking(&[("approved_name", "نام تأییدشده", true)]),
                stage("reissue", "صدور شناسنامهٔ جدید", "صدور").asking(NUMBER),
            ],
            2,
            None,
        ),
        // B1 (weakly sourced; the reference's plausible flow).
        "tax-clearance" => (
            vec![
                stage(
                    "debt-check",
                    "بررسی بدهی‌های قطعی و پرونده‌های باز",
                    "ثبت نتیجهٔ بررسی",
                )
                .asking(&[("debt_rials", "بدهی قطعی (ریال)", false)]),
                stage("debt-payment", "در انتظار پرداخت بدهی", "تأیید پرداخت").paying(),
                stage("certificate", "صدور گواهی مادهٔ ۱۸۶", "صدور").asking(NUMBER),
            ],
            2,
            None,
        ),
        // B2: identity and data checked; the declaration received.
        "tax-declaration" => (
            vec![
                stage("identity-check", "احراز هویت و اطلاعات", "تأیید"),
                stage("receipt", "ثبت اظهارنامه", "صدور رسید").asking(&[(
                    "declaration_number",
                    "شمارهٔ اظهارنامه",
                    true,
                )]),
            ],
            1,
            None,
        ),
        // C1: medical exam, classes, theory test, practice, city test, card.
        "driving-licence-first" => (
            vec![
                stage("medical", "معاینهٔ پزشکی نزد پزشک معتمد", "ثبت نتیجهٔ معاینه").on_applicant(),
                stage(
                    "theory-test",
                    "آزمون آیین‌نامه",
                    "ثبت قبولی در آزمون آیین‌نامه",
                )
                .asking(&[("theory_score", "نمرهٔ آزمون آیین‌نامه", true)]),
                stage(
                    "practice",
                    "جلسه‌های آموزش عملی در آموزشگاه",
                    "ثبت پایان آموزش",
                )
                .on_applicant(),
                stage("city-test", "آزمون شهری", "ثبت قبولی در آزمون شهری"),
                stage("printing", "صدور کارت گواهینامه", "صدور").asking(&[(
                    "licence_number",
                    "شمارهٔ گواهینامه",
                    true,
                )]),
            ],
            2,
            Some(3650),
        ),
        // C2: documents and the medical result checked, fees paid, card produced.
        "driving-licence-renewal" => (
            vec![
                stage(
                    "documents-check",
                    "بررسی مدارک و نتیجهٔ معاینه",
                    "تأیید مدارک",
                ),
                PAYMENT,
                stage("printing", "صدور کارت تازه", "صدور").asking(&[(
                    "licence_number",
                    "شمارهٔ گواهینامه",
                    true,
                )]),
            ],
            2,
            Some(3650),
        ),
        // C3: the list of fines, then payment.
        "traffic-fines" => (
            vec![
                stage("statement", "تهیهٔ فهرست جریمه‌ها", "ثبت فهرست").asking(&[(
                    "fines_rials",
                    "جمع جریمه‌ها (ریال)",
                    true,
                )]),
                stage("payment", "در انتظار پرداخت جریمه‌ها", "تأیید پرداخت").paying(),
                stage("receipt", "صدور رسید پرداخت", "صدور رسید"),
            ],
            1,
            None,
        ),
        // C4: clearances, appointment, inspection, registration to the buyer.
        "plate-transfer" => (
            vec![
                stage(
                    "clearances",
                    "بررسی خلافی، مالیات نقل‌وانتقال و عوارض",
                    "تأیید",
                ),
                stage(
                    "appointment",
                    "حضور خریدار، فروشنده و خودرو در مرکز تعویض پلاک",
                    "ثبت حضور",
                )
                .on_applicant(),
                stage(
                    "inspection",
                    "بازدید خودرو و بررسی مدارک",
                    "ثبت نتیجهٔ بازدید",
                ),
                stage("registration", "ثبت پلاک به نام خریدار", "صدور").asking(&[(
                    "plate_number",
                    "شمارهٔ پلاک",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // D1: site visit, fee bill, payment, meter.
        "electricity-connection" => (
            vec![
                stage("site-visit", "بازدید محل و تهیهٔ کروکی", "ثبت بازدید"),
                stage("billing", "صدور صورت‌حساب هزینهٔ انشعاب", "ثبت هزینه").asking(&[(
                    "fee_rials",
                    "هزینهٔ انشعاب (ریال)",
                    true,
                )]),
                PAYMENT,
                stage("installation", "نصب کنتور", "صدور").asking(&[(
                    "subscription",
                    "شمارهٔ اشتراک",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // D2 (Guilan): map check same day, site valuation 2 days, digging permit 2 days.
        "water-connection" => (
            vec![
                within("feasibility", "بررسی نقشه و امکان‌سنجی", "تأیید امکان", 1),
                within("valuation", "بازدید محل و برآورد هزینه", "ثبت برآورد", 2).asking(&[(
                    "fee_rials",
                    "هزینهٔ انشعاب (ریال)",
                    true,
                )]),
                within(
                    "digging-permit",
                    "گرفتن مجوز حفاری از شهرداری",
                    "ثبت مجوز",
                    2,
                ),
                PAYMENT,
                stage("installation", "اجرای انشعاب و نصب کنتور", "صدور").asking(&[(
                    "subscription",
                    "شمارهٔ اشتراک",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // D3: riser reviewed in about a week and installed in about a month; piping approved
        // by the engineering organisation; fee; meter.
        "gas-connection" => (
            vec![
                within("riser-review", "بررسی درخواست علمک", "تأیید", 5),
                within("riser", "نصب علمک پس از مجوز حفاری", "ثبت نصب علمک", 22),
                stage(
                    "piping",
                    "لوله‌کشی و تأیید نظام مهندسی",
                    "ثبت تأیید نظام مهندسی",
                )
                .on_applicant(),
                PAYMENT,
                stage("metering", "نصب کنتور و گازدار کردن", "صدور").asking(&[(
                    "subscription",
                    "شمارهٔ اشتراک",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // D4: service area, fee, wiring, activation.
        "telephone-line" => (
            vec![
                stage("coverage", "بررسی قرار گرفتن نشانی در محدودهٔ مرکز", "تأیید"),
                PAYMENT,
                stage("wiring", "نوبت‌دهی و سیم‌کشی", "ثبت سیم‌کشی"),
                stage("activation", "راه‌اندازی خط", "صدور").asking(&[(
                    "phone_number",
                    "شمارهٔ تلفن",
                    true,
                )]),
            ],
            1,
            None,
        ),
        // D5: crew dispatched, fault repaired.
        "electricity-outage-report" => (
            vec![
                stage("dispatch", "اعزام اکیپ", "ثبت اعزام"),
                stage("repair", "رفع خرابی", "ثبت رفع خرابی").asking(&[(
                    "crew_report",
                    "گزارش اکیپ",
                    true,
                )]),
            ],
            1,
            None,
        ),
        // D6: a payment (issue 20 takes it as one).
        "bill-payment" => (
            vec![stage("payment-check", "تطبیق پرداخت با شرکت", "صدور رسید")],
            1,
            None,
        ),
        // E1: file review, site inspection, zoning and plan brief, drawings, charges assessed
        // and paid, technical approval and undertakings, permit.
        "building-permit" => (
            vec![
                stage("file-review", "بررسی پرونده", "پایان بررسی پرونده"),
                stage(
                    "site-inspection",
                    "بازدید محل به دست کارشناس شهرداری",
                    "ثبت نتیجهٔ بازدید",
                )
                .asking(&[("inspection", "خلاصهٔ گزارش بازدید", true)]),
                stage(
                    "zoning",
                    "کنترل ضوابط طرح تفصیلی و صدور دستور نقشه",
                    "صدور دستور نقشه",
                ),
                stage(
                    "drawings",
                    "تهیهٔ نقشه‌ها و تأیید نظام مهندسی",
                    "ثبت تأیید نقشه‌ها",
                )
                .on_applicant(),
                stage("fee-assessment", "محاسبهٔ عوارض", "ثبت عوارض").asking(&[(
                    "charges_rials",
                    "عوارض پروانه (ریال)",
                    true,
                )]),
                stage("payment", "در انتظار پرداخت عوارض و بیمه", "تأیید پرداخت").paying(),
                stage(
                    "technical-approval",
                    "تأیید فنی و تعهدات محضری",
                    "تأیید فنی",
                ),
                stage("permit", "تنظیم و امضای پروانه", "صدور پروانه").asking(&[
                    ("permit_number", "شمارهٔ پروانه", true),
                    ("floors_allowed", "تعداد طبقات مجاز", true),
                ]),
            ],
            2,
            None,
        ),
        // E2: supervisor's report, inspection, charges, certificate.
        "no-violation-certificate" => (
            vec![
                stage(
                    "supervisor-report",
                    "گزارش مرحله‌ای مهندس ناظر",
                    "ثبت گزارش ناظر",
                )
                .on_applicant(),
                stage("inspection", "بازدید شهرداری", "ثبت نتیجهٔ بازدید"),
                stage(
                    "charges",
                    "پرداخت عوارض (تخلف: کمیسیون مادهٔ ۱۰۰)",
                    "تأیید پرداخت",
                )
                .paying(),
                stage("certificate", "صدور گواهی", "صدور").asking(NUMBER),
            ],
            2,
            None,
        ),
        // E3: final report, inspection, Article 100 commission if needed, fines, certificate
        // stating the building's use.
        "completion-certificate" => (
            vec![
                stage("final-report", "گزارش نهایی ناظران", "ثبت گزارش نهایی").on_applicant(),
                stage(
                    "inspection",
                    "بازدید و تطبیق با نقشهٔ مصوب",
                    "ثبت نتیجهٔ بازدید",
                ),
                stage(
                    "commission",
                    "رسیدگی کمیسیون مادهٔ ۱۰۰ (اگر تخلف باشد)",
                    "ثبت رأی",
                ),
                PAYMENT,
                stage("certificate", "صدور گواهی پایان کار", "صدور").asking(&[(
                    "building_use",
                    "کاربری ساختمان",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // E4: charge calculated and billed, paid.
        "renovation-charges" => (
            vec![
                stage("assessment", "محاسبهٔ عوارض و صدور قبض", "ثبت قبض").asking(&[(
                    "charge_rials",
                    "عوارض نوسازی (ریال)",
                    true,
                )]),
                stage("payment", "در انتظار پرداخت عوارض", "تأیید پرداخت").paying(),
                stage("receipt", "صدور رسید پرداخت", "صدور رسید"),
            ],
            1,
            None,
        ),
        // F1: inter-agency inquiries (the trade union, the public-places police, the health
        // network), the union's inspection, fees, licence with a unique ID.
        "business-licence" => (
            vec![
                stage(
                    "inquiries",
                    "استعلام از اتحادیهٔ صنفی، پلیس اماکن و شبکهٔ بهداشت",
                    "ثبت پاسخ استعلام‌ها",
                )
                .asking(&[
                    ("union_inquiry", "پاسخ اتحادیهٔ صنفی", true),
                    ("police_inquiry", "پاسخ پلیس اماکن", true),
                    ("health_inquiry", "پاسخ شبکهٔ بهداشت", true),
                ]),
                stage(
                    "union-inspection",
                    "بازدید اتحادیه از محل کسب",
                    "ثبت نتیجهٔ بازدید",
                ),
                PAYMENT,
                stage("licence", "صدور پروانه با شناسهٔ یکتا", "صدور").asking(&[(
                    "licence_id",
                    "شناسهٔ یکتای پروانه",
                    true,
                )]),
            ],
            2,
            None,
        ),
        // F2: the chamber reviews, then issues a card valid about a year.
        "commercial-card" => (
            vec![
                stage("review", "بررسی مدارک در اتاق بازرگانی", "تأیید"),
                stage("card", "صدور کارت بازرگانی", "صدور").asking(&[(
                    "card_number",
                    "شمارهٔ کارت بازرگانی",
                    true,
                )]),
            ],
            2,
            Some(365),
        ),
        _ => return None,
    };
    Some((
        Workflow::staged(&stages, issue_days),
        OutputTemplate {
            typst: None,
            valid_days,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_workflow_passes_its_checks_and_issues() {
        let catalogue: serde_json::Value =
            serde_json::from_str(include_str!("../data/demo-catalogue.json")).unwrap();
        let services = catalogue["services"].as_array().unwrap();
        assert_eq!(services.len(), 22);
        for service in services {
            let key = service["key"].as_str().unwrap();
            let (workflow, _) = demo_workflow(key).unwrap_or_else(|| panic!("{key} has none"));
            assert_eq!(workflow.check(), Vec::new(), "{key}");
            assert!(workflow.issuing_state().is_some(), "{key}");
        }
        let (permit, _) = demo_workflow("building-permit").unwrap();
        for stage in [
            "file-review",
            "site-inspection",
            "fee-assessment",
            "payment",
            "technical-approval",
        ] {
            assert!(permit.state(stage).is_some(), "{stage}");
        }
        assert!(permit.state("payment").is_some_and(|s| s.pays));
        assert!(permit.state("fee-assessment").is_some_and(|s| !s.pays));
    }
}
