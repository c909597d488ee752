//! Service cards as spreadsheet rows: what agencies hand in (CSV or XLSX, one row per service).
//! Lists inside a cell go one per line; the parts of one item are separated by ` | `:
//!
//! - `channels`: `centre | complete` or `online | partial | note`
//! - `steps`: `who | what | business days (optional)`
//! - `documents`: `name | original or copy | copies | step (optional) | note (optional) |
//!   inquiry that can supply it (optional)`
//! - `fees`: `title | rials | collector | centre share (optional) | legal basis (optional)`
//! - `forms`: `code@version`, comma-separated
//! - `events`, `audience`: comma-separated codes
//!
//! Every problem is reported with its row (as the spreadsheet numbers it, the header being row 1)
//! and column, in Persian and English.

use std::collections::BTreeMap;

use crate::catalog::{
    Audience, Category, Channel, ChannelOffer, Contact, FeeLine, FormRef, Level, RequiredDocument,
    ServiceCard, ServiceType, Step,
};
use crate::forms::Text;
use crate::problem::Problem;

/// The columns, in the template's order.
pub const COLUMNS: [&str; 25] = [
    "code",
    "agency",
    "title_fa",
    "title_en",
    "summary_fa",
    "category",
    "events",
    "audience",
    "level",
    "type",
    "deciding_unit_fa",
    "channels",
    "steps",
    "documents",
    "forms",
    "processing_days",
    "visits_in_person",
    "fees",
    "output_fa",
    "legal_basis_fa",
    "redress_fa",
    "on_no_answer_fa",
    "phone",
    "email",
    "address_fa",
];

/// A problem in one cell: at its column, on its row.
fn err(row: usize, column: &str, fa: impl Into<String>, en: impl Into<String>) -> Problem {
    Problem::new("invalid_cell", fa, en)
        .at_named(column, crate::catalog::card_place_fa(column))
        .on_line(row)
}

fn opt_text(value: &str) -> Option<Text> {
    let value = value.trim();
    (!value.is_empty()).then(|| Text::fa(value))
}

fn lines(cell: &str) -> impl Iterator<Item = &str> {
    cell.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn parts(line: &str) -> Vec<&str> {
    line.split('|').map(str::trim).collect()
}

fn number(text: &str) -> Option<i64> {
    let ascii = crate::text::to_ascii_digits(text.trim());
    let cleaned: String = ascii
        .chars()
        .filter(|c| !matches!(c, ',' | '،' | '٬' | ' '))
        .collect();
    cleaned.parse().ok()
}

fn codes(cell: &str) -> Vec<String> {
    cell.split([',', '،'])
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Reads one row (column name → cell) into a card, or every problem in it. `row` is the
/// spreadsheet's row number.
pub fn card_from_row(
    row: usize,
    cells: &BTreeMap<String, String>,
) -> Result<ServiceCard, Vec<Problem>> {
    let mut errors = Vec::new();
    let cell = |name: &str| cells.get(name).map(String::as_str).unwrap_or("").trim();
    for required in [
        "code",
        "agency",
        "title_fa",
        "summary_fa",
        "category",
        "channels",
        "steps",
        "processing_days",
        "output_fa",
    ] {
        if cell(required).is_empty() {
            errors.push(err(
                row,
                required,
                "این خانه خالی است و باید پر شود.",
                "This cell is empty and must be filled.",
            ));
        }
    }
    let category = match Category::from_code(cell("category")) {
        Some(c) => c,
        None => {
            if !cell("category").is_empty() {
                errors.push(err(row, "category", format!("دستهٔ «{}» شناخته نیست؛ یکی از: civil-registration، tax، police-traffic، utilities، municipality، commerce، other.", cell("category")), "Unknown category."));
            }
            Category::Other
        }
    };
    let mut audience = Vec::new();
    for code in codes(if cell("audience").is_empty() {
        "citizen"
    } else {
        cell("audience")
    }) {
        match code.as_str() {
            "citizen" => audience.push(Audience::Citizen),
            "business" => audience.push(Audience::Business),
            other => errors.push(err(
                row,
                "audience",
                format!("مخاطب «{other}» شناخته نیست؛ citizen یا business."),
                "audience is citizen or business.",
            )),
        }
    }
    let level = match cell("level") {
        "" | "provincial" => Level::Provincial,
        "national" => Level::National,
        other => {
            errors.push(err(
                row,
                "level",
                format!("سطح «{other}» شناخته نیست؛ national یا provincial."),
                "level is national or provincial.",
            ));
            Level::Provincial
        }
    };
    let service_type = match cell("type") {
        "" | "g2c" => ServiceType::G2c,
        "g2b" => ServiceType::G2b,
        "g2g" => ServiceType::G2g,
        other => {
            errors.push(err(
                row,
                "type",
                format!("نوع «{other}» شناخته نیست؛ g2c، g2b یا g2g."),
                "type is g2c, g2b or g2g.",
            ));
            ServiceType::G2c
        }
    };
    let mut channels = Vec::new();
    for (i, line) in lines(cell("channels")).enumerate() {
        let p = parts(line);
        let channel = Channel::from_code(p[0]);
        let complete = match p.get(1).copied().unwrap_or("complete") {
            "complete" | "کامل" => Some(true),
            "partial" | "بخشی" => Some(false),
            _ => None,
        };
        match (channel, complete) {
            (Some(channel), Some(complete)) => channels.push(ChannelOffer { channel, complete, note: p.get(2).and_then(|n| opt_text(n)) }),
            _ => errors.push(err(row, "channels", format!("سطر {} : «{line}» باید مانند «centre | complete» باشد (راه: online، centre، agency-office؛ complete یا partial).", i + 1), format!("Line {}: write like `centre | complete`.", i + 1))),
        }
    }
    let mut steps = Vec::new();
    for (i, line) in lines(cell("steps")).enumerate() {
        let p = parts(line);
        let days = match p.get(2).filter(|d| !d.is_empty()) {
            None => Some(None),
            Some(d) => number(d).and_then(|n| u32::try_from(n).ok()).map(Some),
        };
        match (p.len() >= 2 && !p[0].is_empty() && !p[1].is_empty(), days) {
            (true, Some(days)) => steps.push(Step {
                who: Text::fa(p[0]),
                what: Text::fa(p[1]),
                days,
            }),
            _ => errors.push(err(
                row,
                "steps",
                format!(
                    "مرحلهٔ {}: «{line}» باید «چه کسی | چه کاری | روز کاری» باشد.",
                    i + 1
                ),
                format!("Step {}: write `who | what | business days`.", i + 1),
            )),
        }
    }
    let mut documents = Vec::new();
    for (i, line) in lines(cell("documents")).enumerate() {
        let p = parts(line);
        let original = match p.get(1).copied().unwrap_or("copy") {
            "original" | "اصل" => Some(true),
            "copy" | "رونوشت" | "کپی" => Some(false),
            _ => None,
        };
        let copies = p
            .get(2)
            .filter(|c| !c.is_empty())
            .map_or(Some(1), |c| number(c).and_then(|n| u32::try_from(n).ok()));
        let step = match p.get(3).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(s) => number(s).and_then(|n| u32::try_from(n).ok()).map(Some),
        };
        match (p[0].is_empty(), original, copies, step) {
            (false, Some(original), Some(copies), Some(step)) => documents.push(RequiredDocument {
                name: Text::fa(p[0]),
                original,
                copies,
                note: p.get(4).and_then(|n| opt_text(n)),
                step,
                inquiry: p.get(5).filter(|c| !c.is_empty()).map(|c| (*c).to_owned()),
            }),
            _ => errors.push(err(
                row,
                "documents",
                format!(
                    "مدرک {}: «{line}» باید «نام | original یا copy | شمار | مرحله | توضیح» باشد.",
                    i + 1
                ),
                format!(
                    "Document {}: write `name | original or copy | copies | step | note`.",
                    i + 1
                ),
            )),
        }
    }
    let mut fees = Vec::new();
    for (i, line) in lines(cell("fees")).enumerate() {
        let p = parts(line);
        let rials = p.get(1).and_then(|r| number(r));
        let share = p
            .get(3)
            .filter(|s| !s.is_empty())
            .map_or(Some(0), |s| number(s));
        match (p[0].is_empty(), rials, p.get(2).filter(|c| !c.is_empty()), share) {
            (false, Some(rials), Some(collector), Some(share)) => fees.push(FeeLine {
                title: Text::fa(p[0]),
                rials,
                centre_share_rials: share,
                legal_basis: p.get(4).and_then(|b| opt_text(b)),
                collector: Text::fa(collector),
            }),
            _ => errors.push(err(row, "fees", format!("هزینهٔ {}: «{line}» باید «عنوان | مبلغ به ریال | دریافت‌کننده | سهم دفتر | مبنای قانونی» باشد.", i + 1), format!("Fee {}: write `title | rials | collector | centre share | legal basis`.", i + 1))),
        }
    }
    let mut forms = Vec::new();
    for item in codes(cell("forms")) {
        match item.split_once('@').and_then(|(c, v)| {
            number(v)
                .and_then(|v| u32::try_from(v).ok())
                .map(|v| (c, v))
        }) {
            Some((code, version)) => forms.push(FormRef {
                code: code.to_owned(),
                version,
            }),
            None => errors.push(err(
                row,
                "forms",
                format!("«{item}» باید «کد@نسخه» باشد، مانند civil-registry.birth@1."),
                "Write forms as code@version.",
            )),
        }
    }
    let whole = |name: &str, errors: &mut Vec<Problem>| -> u32 {
        let text = cell(name);
        if text.is_empty() {
            return 0;
        }
        match number(text).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => n,
            None => {
                errors.push(err(
                    row,
                    name,
                    format!("«{text}» عدد صحیح نامنفی نیست."),
                    "Not a whole number.",
                ));
                0
            }
        }
    };
    let processing_days = whole("processing_days", &mut errors);
    let visits_in_person = whole("visits_in_person", &mut errors);
    let card = ServiceCard {
        code: cell("code").to_owned(),
        title: Text {
            fa: cell("title_fa").to_owned(),
            en: opt_text(cell("title_en")).map(|t| t.fa),
        },
        summary: Text::fa(cell("summary_fa")),
        category,
        events: codes(cell("events")),
        audience,
        level,
        service_type,
        agency: cell("agency").to_owned(),
        deciding_unit: opt_text(cell("deciding_unit_fa")),
        contact: Contact {
            address: opt_text(cell("address_fa")),
            phone: (!cell("phone").is_empty()).then(|| cell("phone").to_owned()),
            fax: None,
            email: (!cell("email").is_empty()).then(|| cell("email").to_owned()),
            hours: None,
        },
        channels,
        steps,
        documents,
        forms,
        processing_days,
        visits_in_person,
        fees,
        output: Text::fa(cell("output_fa")),
        legal_basis: opt_text(cell("legal_basis_fa")),
        redress: opt_text(cell("redress_fa")),
        on_no_answer: opt_text(cell("on_no_answer_fa")),
        workflow: None,
        output_template: None,
    };
    if errors.is_empty() {
        // The card's own rules, reported against the row.
        errors.extend(card.check().into_iter().map(|p| {
            let column = p.at.split(['[', '.']).next().unwrap_or("").to_owned();
            p.at(column).on_line(row)
        }));
    }
    if errors.is_empty() {
        Ok(card)
    } else {
        Err(errors)
    }
}

/// A card as a row of the template (the inverse of [`card_from_row`], for templates and exports).
pub fn row_from_card(card: &ServiceCard) -> Vec<String> {
    let join = |items: Vec<String>| items.join("\n");
    let cells: BTreeMap<&str, String> = [
        ("code", card.code.clone()),
        ("agency", card.agency.clone()),
        ("title_fa", card.title.fa.clone()),
        ("title_en", card.title.en.clone().unwrap_or_default()),
        ("summary_fa", card.summary.fa.clone()),
        ("category", card.category.code().to_owned()),
        ("events", card.events.join(", ")),
        (
            "audience",
            card.audience
                .iter()
                .map(|a| match a {
                    Audience::Citizen => "citizen",
                    Audience::Business => "business",
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "level",
            match card.level {
                Level::National => "national",
                Level::Provincial => "provincial",
            }
            .to_owned(),
        ),
        (
            "type",
            match card.service_type {
                ServiceType::G2c => "g2c",
                ServiceType::G2b => "g2b",
                ServiceType::G2g => "g2g",
            }
            .to_owned(),
        ),
        (
            "deciding_unit_fa",
            card.deciding_unit
                .as_ref()
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
        ),
        (
            "channels",
            join(
                card.channels
                    .iter()
                    .map(|c| {
                        let base = format!(
                            "{} | {}",
                            c.channel.code(),
                            if c.complete { "complete" } else { "partial" }
                        );
                        match &c.note {
                            Some(n) => format!("{base} | {}", n.fa),
                            None => base,
                        }
                    })
                    .collect(),
            ),
        ),
        (
            "steps",
            join(
                card.steps
                    .iter()
                    .map(|s| match s.days {
                        Some(d) => format!("{} | {} | {d}", s.who.fa, s.what.fa),
                        None => format!("{} | {}", s.who.fa, s.what.fa),
                    })
                    .collect(),
            ),
        ),
        (
            "documents",
            join(
                card.documents
                    .iter()
                    .map(|d| {
                        format!(
                            "{} | {} | {} | {} | {} | {}",
                            d.name.fa,
                            if d.original { "original" } else { "copy" },
                            d.copies,
                            d.step.map(|s| s.to_string()).unwrap_or_default(),
                            d.note.as_ref().map(|n| n.fa.clone()).unwrap_or_default(),
                            d.inquiry.as_deref().unwrap_or_default()
                        )
                        .trim_end_matches([' ', '|'])
                        .to_owned()
                    })
                    .collect(),
            ),
        ),
        (
            "forms",
            card.forms
                .iter()
                .map(|f| format!("{}@{}", f.code, f.version))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("processing_days", card.processing_days.to_string()),
        ("visits_in_person", card.visits_in_person.to_string()),
        (
            "fees",
            join(
                card.fees
                    .iter()
                    .map(|f| {
                        format!(
                            "{} | {} | {} | {} | {}",
                            f.title.fa,
                            f.rials,
                            f.collector.fa,
                            f.centre_share_rials,
                            f.legal_basis
                                .as_ref()
                                .map(|b| b.fa.clone())
                                .unwrap_or_default()
                        )
                        .trim_end_matches([' ', '|'])
                        .to_owned()
                    })
                    .collect(),
            ),
        ),
        ("output_fa", card.output.fa.clone()),
        (
            "legal_basis_fa",
            card.legal_basis
                .as_ref()
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
        ),
        (
            "redress_fa",
            card.redress
                .as_ref()
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
        ),
        (
            "on_no_answer_fa",
            card.on_no_answer
                .as_ref()
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
        ),
        ("phone", card.contact.phone.clone().unwrap_or_default()),
        ("email", card.contact.email.clone().unwrap_or_default()),
        (
            "address_fa",
            card.contact
                .address
                .as_ref()
                .map(|t| t.fa.clone())
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .collect();
    COLUMNS
        .iter()
        .map(|c| cells.get(c).cloned().unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(card: &ServiceCard) -> BTreeMap<String, String> {
        COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .zip(row_from_card(card))
            .collect()
    }

    #[test]
    fn a_card_survives_a_round_trip_through_a_row() {
        let card = crate::catalog::tests::card();
        let back = card_from_row(2, &row(&card)).unwrap();
        // Only English texts other than the title are not carried by the template.
        let mut expected = card.clone();
        expected.contact = Contact::default();
        assert_eq!(back.steps, expected.steps);
        assert_eq!(back.fees, expected.fees);
        assert_eq!(back.documents, expected.documents);
        assert_eq!(back.channels, expected.channels);
        assert_eq!(back.title, expected.title);
    }

    #[test]
    fn every_bad_cell_is_named() {
        let mut cells = row(&crate::catalog::tests::card());
        cells.insert("category".into(), "space".into());
        cells.insert("steps".into(), "متقاضی | ثبت | دو روز".into());
        cells.insert("fees".into(), "تعرفه | بسیار | ثبت احوال".into());
        cells.insert("processing_days".into(), "".into());
        let errors = card_from_row(7, &cells).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(columns, ["processing_days", "category", "steps", "fees"]);
        assert!(errors.iter().all(|e| e.line == Some(7)));
        assert!(errors[2].fa.contains("مرحلهٔ ۱") || errors[2].fa.contains("مرحلهٔ 1"));
    }
}
