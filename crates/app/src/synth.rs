//! A synthetic catalogue for benchmarks: many plausible service cards of one agency, in the
//! import template's CSV form. Deterministic: the same count gives the same file.

use pishkhan_domain::catalog::{
    Audience, Category, Channel, ChannelOffer, Contact, FeeLine, Level, RequiredDocument,
    ServiceCard, ServiceType, Step,
};
use pishkhan_domain::catalog_table::{COLUMNS, row_from_card};
use pishkhan_domain::forms::Text;

const SUBJECTS: [&str; 12] = [
    "پروانه",
    "گواهی",
    "مجوز",
    "کارت",
    "شناسنامه",
    "اشتراک",
    "انشعاب",
    "استعلام",
    "تمدید",
    "ثبت",
    "صدور",
    "تغییر",
];
const OBJECTS: [&str; 12] = [
    "کسب",
    "ساختمان",
    "رانندگی",
    "بازرگانی",
    "ولادت",
    "آب",
    "برق",
    "گاز",
    "تلفن",
    "خودرو",
    "ملک",
    "نشانی",
];

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// The `i`th synthetic card.
pub fn synthetic_card(i: usize, agency: &str, rng: &mut impl FnMut(usize) -> usize) -> ServiceCard {
    let subject = SUBJECTS[rng(SUBJECTS.len())];
    let object = OBJECTS[rng(OBJECTS.len())];
    let category = Category::ALL[rng(Category::ALL.len())];
    let steps: Vec<Step> = (0..3 + rng(4))
        .map(|s| Step {
            who: Text::fa(if s % 2 == 0 {
                "متقاضی"
            } else {
                "کارشناس دستگاه"
            }),
            what: Text::fa(&format!("مرحلهٔ {} از {subject} {object}", s + 1)),
            days: Some(u32::try_from(rng(4)).unwrap_or(0)),
        })
        .collect();
    let days: u32 = steps.iter().filter_map(|s| s.days).sum::<u32>() + 2;
    ServiceCard {
        code: format!("{agency}.synthetic-{i:06}"),
        title: Text::fa(&format!("{subject} {object} — خدمت {i}")),
        summary: Text::fa(&format!(
            "خدمت آزمایشی شمارهٔ {i} برای سنجش کارایی: {subject} {object}."
        )),
        category,
        events: Vec::new(),
        audience: vec![Audience::Citizen],
        level: Level::Provincial,
        service_type: ServiceType::G2c,
        agency: agency.to_owned(),
        deciding_unit: None,
        contact: Contact::default(),
        channels: vec![
            ChannelOffer {
                channel: Channel::Centre,
                complete: true,
                note: None,
            },
            ChannelOffer {
                channel: Channel::Online,
                complete: rng(2) == 0,
                note: None,
            },
        ],
        documents: vec![RequiredDocument {
            name: Text::fa("کارت ملی"),
            original: true,
            copies: 1,
            note: None,
            step: Some(1),
            inquiry: None,
        }],
        steps,
        forms: Vec::new(),
        processing_days: days,
        visits_in_person: u32::try_from(rng(2)).unwrap_or(0),
        fees: vec![FeeLine {
            title: Text::fa("تعرفه"),
            rials: i64::try_from(10_000 * (1 + rng(100))).unwrap_or(0),
            centre_share_rials: 0,
            legal_basis: None,
            collector: Text::fa("دستگاه"),
        }],
        output: Text::fa(&format!("{subject} {object}")),
        legal_basis: None,
        redress: None,
        on_no_answer: None,
        workflow: None,
        output_template: None,
    }
}

/// `count` synthetic cards as the import template's CSV.
pub fn synthetic_csv(count: usize, agency: &str) -> Result<String, csv::Error> {
    let mut generator = Rng(0x9e37_79b9_7f4a_7c15);
    let mut pick = |n: usize| generator.below(n);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for i in 0..count {
        writer.write_record(row_from_card(&synthetic_card(i, agency, &mut pick)))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
