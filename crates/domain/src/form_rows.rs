//! Forms as rows, for the form editor (no JSON and no syntax to learn): a row per section (its
//! identifier and title), a row per field (its section, identifier, label, type, whether it is
//! required, a help text, the limits its type takes, the file types it accepts and when it is
//! shown) and a row per choice of a list field (the field, the choice's value and its label).
//!
//! [`to_rows`] lays a form out that way and [`from_rows`] reads it back, naming every problem by
//! its list, row and column in Persian; the form's own rules ([`FormSchema::check`]) still apply.

use crate::forms::{Choice, Condition, Field, FieldKind, FormSchema, SCHEMA_V1, Section, Text};
use crate::text::{to_ascii_digits, to_persian_digits};

/// The field types an editor chooses from: (code, Persian name).
pub const KINDS: [(&str, &str); 15] = [
    ("text", "متن کوتاه"),
    ("long-text", "متن بلند"),
    ("number", "عدد"),
    ("money", "مبلغ (ریال)"),
    ("jalali-date", "تاریخ"),
    ("select", "یک گزینه از فهرست"),
    ("multi-select", "چند گزینه از فهرست"),
    ("yes-no", "بله یا نه"),
    ("file", "پیوست (پرونده)"),
    ("national-id", "کد ملی"),
    ("legal-id", "شناسهٔ ملی شخص حقوقی"),
    ("mobile", "شمارهٔ همراه"),
    ("postal-code", "کد پستی"),
    ("sheba", "شمارهٔ شبا"),
    ("plate", "شمارهٔ پلاک"),
];

/// The file types a file field may accept: (media type, Persian name).
pub const FILE_TYPES: [(&str, &str); 3] = [
    ("image/jpeg", "تصویر جی‌پگ"),
    ("application/pdf", "پی‌دی‌اف"),
    ("image/png", "تصویر پی‌ان‌جی"),
];

/// One section as a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionRow {
    pub id: String,
    pub title: String,
}

/// One field as a row: every box as typed (numbers may be in Persian digits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRow {
    pub section: String,
    pub id: String,
    pub label: String,
    /// One of [`KINDS`].
    pub kind: String,
    pub required: bool,
    pub help: String,
    /// Text and long text.
    pub max_length: String,
    /// Number.
    pub min: String,
    /// Number and money.
    pub max: String,
    /// File: media types of [`FILE_TYPES`].
    pub accept: Vec<String>,
    /// File.
    pub max_kb: String,
    /// When the field is shown: `field` (any answer) or `field=value` items, all of one field;
    /// empty: always.
    pub show_if: Vec<String>,
}

/// One choice of a list field as a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionRow {
    pub field: String,
    pub value: String,
    pub label: String,
}

/// A problem in one row: the list (`sections`, `fields` or `options`), its 1-based row and a
/// Persian message that names the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub list: &'static str,
    pub row: usize,
    pub fa: String,
    pub en: String,
}

impl RowProblem {
    /// «فیلدها، ردیف ۳: …»
    pub fn located_fa(&self) -> String {
        let list = match self.list {
            "sections" => "بخش‌ها",
            "fields" => "فیلدها",
            _ => "گزینه‌ها",
        };
        format!(
            "{list}، ردیف {}: {}",
            to_persian_digits(&self.row.to_string()),
            self.fa
        )
    }
}

/// Where a problem of [`FormSchema::check`] is, in the editor's words: «بخش‌ها، ردیف ۲»،
/// «فیلد «رنگ»», never `sections[1].fields[0]`.
pub fn place_fa(form: &FormSchema, at: &str) -> String {
    let index = |part: &str, name: &str| -> Option<usize> {
        part.strip_prefix(name)?
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse()
            .ok()
    };
    let mut parts = at.split('.');
    let first = parts.next().unwrap_or_default();
    if let Some(s) = index(first, "sections") {
        let section = form.sections.get(s);
        if let Some(f) = parts.next().and_then(|p| index(p, "fields")) {
            let label = section
                .and_then(|x| x.fields.get(f))
                .map(|x| x.label.fa.clone())
                .filter(|l| !l.is_empty());
            return match label {
                Some(label) => format!("فیلد «{label}»"),
                None => format!("فیلدها، ردیف {}", to_persian_digits(&(f + 1).to_string())),
            };
        }
        return match section
            .map(|x| x.title.fa.clone())
            .filter(|t| !t.is_empty())
        {
            Some(title) => format!("بخش «{title}»"),
            None => format!("بخش‌ها، ردیف {}", to_persian_digits(&(s + 1).to_string())),
        };
    }
    if let Some(r) = index(first, "rules") {
        return format!(
            "قاعده‌های فرم، ردیف {}",
            to_persian_digits(&(r + 1).to_string())
        );
    }
    match first {
        "code" => "کد فرم".into(),
        "title" => "عنوان فرم".into(),
        _ => "فرم".into(),
    }
}

/// The form as the editor's three lists.
pub fn to_rows(form: &FormSchema) -> (Vec<SectionRow>, Vec<FieldRow>, Vec<OptionRow>) {
    let sections = form
        .sections
        .iter()
        .map(|s| SectionRow {
            id: s.id.clone(),
            title: s.title.fa.clone(),
        })
        .collect();
    let mut fields = Vec::new();
    let mut options = Vec::new();
    for section in &form.sections {
        for field in &section.fields {
            let mut row = FieldRow {
                section: section.id.clone(),
                id: field.id.clone(),
                label: field.label.fa.clone(),
                kind: field.kind.code().to_owned(),
                required: field.required,
                help: field
                    .help
                    .as_ref()
                    .map(|h| h.fa.clone())
                    .unwrap_or_default(),
                ..FieldRow::default()
            };
            let text = |n: &Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
            match &field.kind {
                FieldKind::Text { max_length } | FieldKind::LongText { max_length } => {
                    row.max_length = max_length.map(|n| n.to_string()).unwrap_or_default();
                }
                FieldKind::Number { min, max } => {
                    row.min = text(min);
                    row.max = text(max);
                }
                FieldKind::Money { max } => row.max = text(max),
                FieldKind::Select { options: choices }
                | FieldKind::MultiSelect { options: choices } => {
                    options.extend(choices.iter().map(|c| OptionRow {
                        field: field.id.clone(),
                        value: c.value.clone(),
                        label: c.label.fa.clone(),
                    }));
                }
                FieldKind::File { accept, max_bytes } => {
                    row.accept.clone_from(accept);
                    row.max_kb = (max_bytes / 1024).to_string();
                }
                _ => {}
            }
            if let Some(condition) = &field.show_if {
                row.show_if = if condition.equals.is_empty() {
                    vec![condition.field.clone()]
                } else {
                    condition
                        .equals
                        .iter()
                        .map(|v| format!("{}={v}", condition.field))
                        .collect()
                };
            }
            fields.push(row);
        }
    }
    (sections, fields, options)
}

/// The answers a field's condition can name: `(item, Persian label)` for "any answer" and for
/// each choice of every list and yes/no field, in the form's order.
pub fn conditions(fields: &[FieldRow], options: &[OptionRow]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for field in fields {
        let name = if field.label.is_empty() {
            field.id.clone()
        } else {
            field.label.clone()
        };
        match field.kind.as_str() {
            "select" | "multi-select" => {
                out.push((field.id.clone(), format!("«{name}»: هر پاسخی")));
                for option in options.iter().filter(|o| o.field == field.id) {
                    out.push((
                        format!("{}={}", field.id, option.value),
                        format!("«{name}»: {}", option.label),
                    ));
                }
            }
            "yes-no" => {
                out.push((format!("{}=yes", field.id), format!("«{name}»: بله")));
                out.push((format!("{}=no", field.id), format!("«{name}»: نه")));
            }
            _ => out.push((field.id.clone(), format!("«{name}»: پر شده باشد"))),
        }
    }
    out
}

fn number(text: &str, column: &str) -> Result<Option<i64>, String> {
    let text = to_ascii_digits(text.trim());
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("«{column}» باید عدد باشد."))
}

/// Texts the editor types are short; longer ones are refused, not cut.
const MAX_TEXT: usize = 500;

/// Reads the editor's rows back into a form (the next version is set by the caller); every
/// problem comes with its list and row. Identifiers left empty on a new field or choice are
/// made up (`field-3`, `option-2`).
pub fn from_rows(
    base: &FormSchema,
    title_fa: &str,
    section_rows: &[SectionRow],
    field_rows: &[FieldRow],
    option_rows: &[OptionRow],
) -> Result<FormSchema, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut problem = |list: &'static str, row: usize, fa: String| {
        problems.push(RowProblem {
            list,
            row: row + 1,
            fa,
            en: format!("{list}, row {}", row + 1),
        });
    };
    let too_long = |text: &str| text.chars().count() > MAX_TEXT;
    let mut sections: Vec<Section> = Vec::new();
    for (i, row) in section_rows.iter().enumerate() {
        let id = if row.id.trim().is_empty() {
            format!("section-{}", i + 1)
        } else {
            row.id.trim().to_owned()
        };
        if row.title.trim().is_empty() {
            problem("sections", i, "«عنوان بخش» را بنویسید.".into());
        } else if too_long(&row.title) {
            problem("sections", i, "«عنوان بخش» بیش از ۵۰۰ نویسه است.".into());
        }
        sections.push(Section {
            id,
            title: Text::fa(row.title.trim()),
            help: None,
            fields: Vec::new(),
        });
    }
    // Identifiers first, so choices and conditions can name a field added in the same save.
    let ids: Vec<String> = field_rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if row.id.trim().is_empty() {
                format!("field-{}", i + 1)
            } else {
                row.id.trim().to_owned()
            }
        })
        .collect();
    for (i, row) in option_rows.iter().enumerate() {
        match field_rows
            .iter()
            .position(|f| f.id.trim() == row.field.trim())
        {
            None => problem(
                "options",
                i,
                "«فیلد» را انتخاب کنید: فیلدی از نوع فهرست.".into(),
            ),
            Some(at) if !matches!(field_rows[at].kind.as_str(), "select" | "multi-select") => {
                problem(
                    "options",
                    i,
                    format!(
                        "فیلد «{}» از نوع فهرست نیست؛ گزینه ندارد.",
                        field_rows[at].label.trim()
                    ),
                );
            }
            Some(_) => {}
        }
        if row.label.trim().is_empty() {
            problem("options", i, "«برچسب گزینه» را بنویسید.".into());
        } else if too_long(&row.label) {
            problem("options", i, "«برچسب گزینه» بیش از ۵۰۰ نویسه است.".into());
        }
    }
    for (i, row) in field_rows.iter().enumerate() {
        let mut say = |fa: String| problem("fields", i, fa);
        if row.label.trim().is_empty() {
            say("«برچسب» را بنویسید.".into());
        }
        for (text, name) in [(&row.label, "برچسب"), (&row.help, "راهنما")] {
            if too_long(text) {
                say(format!("«{name}» بیش از ۵۰۰ نویسه است."));
            }
        }
        let numbers = (|| -> Result<_, String> {
            Ok((
                number(&row.max_length, "بیشینهٔ طول")?,
                number(&row.min, "کمینه")?,
                number(&row.max, "بیشینه")?,
                number(&row.max_kb, "بیشینهٔ حجم")?,
            ))
        })();
        let (max_length, min, max, max_kb) = match numbers {
            Ok(n) => n,
            Err(why) => {
                say(why);
                continue;
            }
        };
        let mut choices = option_rows
            .iter()
            .filter(|o| o.field.trim() == row.id.trim() && !row.id.trim().is_empty())
            .enumerate()
            .map(|(n, o)| Choice {
                value: if o.value.trim().is_empty() {
                    format!("option-{}", n + 1)
                } else {
                    o.value.trim().to_owned()
                },
                label: Text::fa(o.label.trim()),
            })
            .collect::<Vec<_>>();
        let length = match max_length.map(u32::try_from).transpose() {
            Ok(n) => n,
            Err(_) => {
                say("«بیشینهٔ طول» عددی مثبت است.".into());
                continue;
            }
        };
        let kind = match row.kind.as_str() {
            "text" => FieldKind::Text { max_length: length },
            "long-text" => FieldKind::LongText { max_length: length },
            "number" => FieldKind::Number { min, max },
            "money" => FieldKind::Money { max },
            "jalali-date" => FieldKind::JalaliDate {},
            "select" | "multi-select" if choices.is_empty() => {
                say(format!(
                    "فیلد «{}» فهرست است: گزینه‌هایش را در جدول «گزینه‌ها» بیفزایید (پس از این ذخیره، نامش آنجا آمده است).",
                    row.label.trim()
                ));
                continue;
            }
            "select" => FieldKind::Select {
                options: std::mem::take(&mut choices),
            },
            "multi-select" => FieldKind::MultiSelect {
                options: std::mem::take(&mut choices),
            },
            "yes-no" => FieldKind::YesNo {},
            "file" => {
                let unknown: Vec<&String> = row
                    .accept
                    .iter()
                    .filter(|t| !FILE_TYPES.iter().any(|(m, _)| m == t))
                    .collect();
                if !unknown.is_empty() || row.accept.is_empty() {
                    say("«نوع پرونده» را از فهرست انتخاب کنید.".into());
                    continue;
                }
                let Some(kb) = max_kb.filter(|kb| (1..=20 * 1024).contains(kb)) else {
                    say("«بیشینهٔ حجم» را به کیلوبایت بنویسید، از ۱ تا ۲۰۴۸۰.".into());
                    continue;
                };
                FieldKind::File {
                    accept: row.accept.clone(),
                    max_bytes: u64::try_from(kb).unwrap_or(0) * 1024,
                }
            }
            "national-id" => FieldKind::NationalId {},
            "legal-id" => FieldKind::LegalId {},
            "mobile" => FieldKind::Mobile {},
            "postal-code" => FieldKind::PostalCode {},
            "sheba" => FieldKind::Sheba {},
            "plate" => FieldKind::Plate {},
            "" => {
                say("«نوع» را انتخاب کنید.".into());
                continue;
            }
            other => {
                say(format!("نوع «{other}» در فهرست نیست."));
                continue;
            }
        };
        let show_if = match condition(&row.show_if) {
            Ok(c) => c,
            Err(why) => {
                say(why);
                continue;
            }
        };
        let field = Field {
            id: ids[i].clone(),
            label: Text::fa(row.label.trim()),
            help: Some(row.help.trim())
                .filter(|h| !h.is_empty())
                .map(Text::fa),
            required: row.required,
            show_if,
            kind,
        };
        // With one section, a field that names none goes in it.
        let only = sections.len() == 1 && row.section.trim().is_empty();
        match sections
            .iter_mut()
            .find(|s| only || s.id == row.section.trim())
        {
            Some(section) => section.fields.push(field),
            None => say("«بخش» را انتخاب کنید.".into()),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    keep_english(base, &mut sections);
    Ok(FormSchema {
        schema: SCHEMA_V1.to_owned(),
        code: base.code.clone(),
        version: base.version,
        title: Text {
            fa: title_fa.trim().to_owned(),
            en: if title_fa.trim() == base.title.fa {
                base.title.en.clone()
            } else {
                None
            },
        },
        description: base.description.clone(),
        sections,
        rules: base.rules.clone(),
    })
}

/// A field's condition from the items chosen: all of one field.
fn condition(items: &[String]) -> Result<Option<Condition>, String> {
    let mut out: Option<Condition> = None;
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let (field, value) = match item.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (item, None),
        };
        let condition = out.get_or_insert_with(|| Condition {
            field: field.to_owned(),
            equals: Vec::new(),
        });
        if condition.field != field {
            return Err("«نمایش فقط وقتی» پاسخ‌های یک فیلد را می‌گیرد، نه چند فیلد.".into());
        }
        if let Some(value) = value {
            condition.equals.push(value.to_owned());
        }
    }
    Ok(out)
}

/// The rows carry Persian only: English texts of the previous version stay where the Persian
/// they translate is unchanged.
fn keep_english(base: &FormSchema, sections: &mut [Section]) {
    let same = |old: &Text, new: &mut Text| {
        if old.fa == new.fa {
            new.en.clone_from(&old.en);
        }
    };
    for section in sections {
        if let Some(old) = base.sections.iter().find(|s| s.id == section.id) {
            same(&old.title, &mut section.title);
            // The section's help is not edited in rows; it stays as it was.
            section.help.clone_from(&old.help);
        }
        for field in &mut section.fields {
            let Some(old) = base.field(&field.id) else {
                continue;
            };
            same(&old.label, &mut field.label);
            if let (Some(old_help), Some(help)) = (&old.help, &mut field.help) {
                same(old_help, help);
            }
            if let (
                FieldKind::Select {
                    options: old_options,
                }
                | FieldKind::MultiSelect {
                    options: old_options,
                },
                FieldKind::Select { options } | FieldKind::MultiSelect { options },
            ) = (&old.kind, &mut field.kind)
            {
                for option in options {
                    if let Some(old_option) = old_options.iter().find(|o| o.value == option.value) {
                        same(&old_option.label, &mut option.label);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> FormSchema {
        serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../docs/standards/examples/duplicate-birth-certificate.json"
            ))
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_form_round_trips_through_the_rows_keeping_english() {
        let form = example();
        let (sections, fields, options) = to_rows(&form);
        let back = from_rows(&form, &form.title.fa, &sections, &fields, &options).unwrap();
        assert_eq!(back.check(), vec![]);
        assert_eq!(back.sections, form.sections);
        assert_eq!(back.title, form.title);
    }

    #[test]
    fn a_new_list_field_and_its_choices_can_be_added_in_one_save() {
        let form = example();
        let (sections, mut fields, mut options) = to_rows(&form);
        fields.push(FieldRow {
            section: sections[0].id.clone(),
            label: "رنگ".into(),
            kind: "select".into(),
            id: "colour".into(),
            ..FieldRow::default()
        });
        options.push(OptionRow {
            field: "colour".into(),
            value: String::new(),
            label: "سبز".into(),
        });
        fields.push(FieldRow {
            section: sections[0].id.clone(),
            label: "کدام سبز".into(),
            kind: "text".into(),
            max_length: "۴۰".into(),
            show_if: vec!["colour=option-1".into()],
            ..FieldRow::default()
        });
        let back = from_rows(&form, "x", &sections, &fields, &options).unwrap();
        assert_eq!(back.check(), vec![]);
        let added = back.field(&format!("field-{}", fields.len())).unwrap();
        assert_eq!(
            added.kind,
            FieldKind::Text {
                max_length: Some(40)
            }
        );
        assert_eq!(added.show_if.as_ref().unwrap().equals, ["option-1"]);
    }

    #[test]
    fn bad_rows_are_named_with_their_column_in_persian() {
        let form = example();
        let sections = [SectionRow {
            id: "applicant".into(),
            title: "متقاضی".into(),
        }];
        let fields = [
            FieldRow {
                section: "applicant".into(),
                id: "a".into(),
                label: "رنگ".into(),
                kind: String::new(),
                ..FieldRow::default()
            },
            FieldRow {
                section: "nowhere".into(),
                id: "b".into(),
                label: "ب".into(),
                kind: "text".into(),
                ..FieldRow::default()
            },
            FieldRow {
                section: "applicant".into(),
                id: "c".into(),
                label: "ج".into(),
                kind: "select".into(),
                ..FieldRow::default()
            },
            FieldRow {
                section: "applicant".into(),
                id: "d".into(),
                label: "د".into(),
                kind: "number".into(),
                min: "یک".into(),
                ..FieldRow::default()
            },
            FieldRow {
                section: "applicant".into(),
                id: "e".into(),
                label: "ه".into(),
                kind: "file".into(),
                accept: vec!["application/x-msdownload".into()],
                max_kb: "500".into(),
                ..FieldRow::default()
            },
            FieldRow {
                section: "applicant".into(),
                id: "f".into(),
                label: "و".into(),
                kind: "text".into(),
                show_if: vec!["c".into(), "d".into()],
                ..FieldRow::default()
            },
        ];
        let options = [OptionRow {
            field: "b".into(),
            value: "x".into(),
            label: "ایکس".into(),
        }];
        let problems = from_rows(&form, "x", &sections, &fields, &options).unwrap_err();
        let found: Vec<String> = problems.iter().map(RowProblem::located_fa).collect();
        assert_eq!(problems.len(), 7, "{found:#?}");
        for expected in [
            "گزینه‌ها، ردیف ۱: فیلد «ب» از نوع فهرست نیست",
            "فیلدها، ردیف ۱: «نوع» را انتخاب کنید",
            "فیلدها، ردیف ۲: «بخش» را انتخاب کنید",
            "فیلدها، ردیف ۳: فیلد «ج» فهرست است",
            "فیلدها، ردیف ۴: «کمینه» باید عدد باشد",
            "فیلدها، ردیف ۵: «نوع پرونده»",
            "فیلدها، ردیف ۶: «نمایش فقط وقتی»",
        ] {
            assert!(
                found.iter().any(|f| f.starts_with(expected)),
                "{expected}: {found:#?}"
            );
        }
        assert!(found.iter().all(|f| !f.contains("max") && !f.contains('|')));
    }

    #[test]
    fn the_forms_own_checks_are_placed_in_the_editors_words() {
        let mut form = example();
        let (mut sections, fields, options) = to_rows(&form);
        sections.push(SectionRow {
            id: "extra".into(),
            title: "بخش افزوده".into(),
        });
        form = from_rows(&form, "x", &sections, &fields, &options).unwrap();
        let places: Vec<String> = form
            .check()
            .iter()
            .map(|p| format!("{}: {}", place_fa(&form, &p.at), p.fa))
            .collect();
        assert_eq!(places, ["بخش «بخش افزوده»: این بخش هیچ فیلدی ندارد."]);
        assert_eq!(
            place_fa(&form, "sections[0].fields[1]"),
            format!("فیلد «{}»", form.sections[0].fields[1].label.fa)
        );
        assert_eq!(place_fa(&form, "rules[1]"), "قاعده‌های فرم، ردیف ۲");
    }

    #[test]
    fn a_huge_label_is_refused_not_cut() {
        let form = example();
        let (sections, mut fields, options) = to_rows(&form);
        fields[0].label = "ب".repeat(10_000);
        let problems = from_rows(&form, "x", &sections, &fields, &options).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].fa.contains("۵۰۰"));
    }
}
