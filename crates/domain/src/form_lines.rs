//! Forms as plain lines, for the form editor (no JSON by hand):
//!
//! sections, one per line: `id | title`
//! fields, one per line: `section | id | type | label | required or optional | settings…`
//!
//! settings, each `name: value`, separated by ` | `: `options: a=label, b=label` (select,
//! multi-select), `max length: 60` (text), `min: 1`, `max: 10` (number, money), `accept:
//! image/jpeg, application/pdf` and `max kb: 500` (file), `if: field=value1,value2` (show only
//! when another, earlier field has one of those values; `if: field` for any value), `help: …`.

use std::collections::BTreeMap;

use crate::forms::{Choice, Condition, Field, FieldKind, FormSchema, SCHEMA_V1, Section, Text};

/// A problem on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// `sections` or `fields`.
    pub list: &'static str,
    /// 1-based.
    pub line: usize,
    pub fa: String,
    pub en: String,
}

fn settings_of(field: &Field) -> Vec<String> {
    let mut out = Vec::new();
    match &field.kind {
        FieldKind::Text {
            max_length: Some(n),
        }
        | FieldKind::LongText {
            max_length: Some(n),
        } => {
            out.push(format!("max length: {n}"));
        }
        FieldKind::Number { min, max } => {
            if let Some(min) = min {
                out.push(format!("min: {min}"));
            }
            if let Some(max) = max {
                out.push(format!("max: {max}"));
            }
        }
        FieldKind::Money { max: Some(max) } => out.push(format!("max: {max}")),
        FieldKind::Select { options } | FieldKind::MultiSelect { options } => out.push(format!(
            "options: {}",
            options
                .iter()
                .map(|o| format!("{}={}", o.value, o.label.fa))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        FieldKind::File { accept, max_bytes } => {
            out.push(format!("accept: {}", accept.join(", ")));
            out.push(format!("max kb: {}", max_bytes / 1024));
        }
        _ => {}
    }
    if let Some(condition) = &field.show_if {
        if condition.equals.is_empty() {
            out.push(format!("if: {}", condition.field));
        } else {
            out.push(format!(
                "if: {}={}",
                condition.field,
                condition.equals.join(",")
            ));
        }
    }
    if let Some(help) = &field.help {
        out.push(format!("help: {}", help.fa));
    }
    out
}

/// The form as the editor's two lists.
pub fn to_lines(form: &FormSchema) -> (String, String) {
    let sections = form
        .sections
        .iter()
        .map(|s| format!("{} | {}", s.id, s.title.fa))
        .collect::<Vec<_>>()
        .join("\n");
    let fields = form
        .sections
        .iter()
        .flat_map(|s| {
            s.fields.iter().map(move |f| {
                let mut parts = vec![
                    s.id.clone(),
                    f.id.clone(),
                    f.kind.code().to_owned(),
                    f.label.fa.clone(),
                    if f.required { "required" } else { "optional" }.to_owned(),
                ];
                parts.extend(settings_of(f));
                parts.join(" | ")
            })
        })
        .collect::<Vec<_>>()
        .join("\n");
    (sections, fields)
}

fn kind_of(code: &str, settings: &BTreeMap<String, String>) -> Result<FieldKind, String> {
    let number = |name: &str| -> Result<Option<i64>, String> {
        settings
            .get(name)
            .map(|v| {
                crate::text::to_ascii_digits(v.trim())
                    .parse::<i64>()
                    .map_err(|_| format!("«{name}» باید عدد باشد"))
            })
            .transpose()
    };
    let options = || -> Result<Vec<Choice>, String> {
        let text = settings
            .get("options")
            .ok_or("گزینه‌ها (options) را بنویسید")?;
        text.split([',', '،'])
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                o.split_once('=')
                    .map(|(v, l)| Choice {
                        value: v.trim().to_owned(),
                        label: Text::fa(l.trim()),
                    })
                    .ok_or_else(|| format!("گزینهٔ «{o}» باید «مقدار=برچسب» باشد"))
            })
            .collect()
    };
    let length = || -> Result<Option<u32>, String> {
        number("max length")?
            .map(|n| u32::try_from(n).map_err(|_| "«max length» مثبت است".to_owned()))
            .transpose()
    };
    Ok(match code {
        "text" => FieldKind::Text {
            max_length: length()?,
        },
        "long-text" => FieldKind::LongText {
            max_length: length()?,
        },
        "number" => FieldKind::Number {
            min: number("min")?,
            max: number("max")?,
        },
        "money" => FieldKind::Money {
            max: number("max")?,
        },
        "jalali-date" => FieldKind::JalaliDate {},
        "select" => FieldKind::Select {
            options: options()?,
        },
        "multi-select" => FieldKind::MultiSelect {
            options: options()?,
        },
        "yes-no" => FieldKind::YesNo {},
        "file" => FieldKind::File {
            accept: settings
                .get("accept")
                .map(|a| {
                    a.split([',', '،'])
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            max_bytes: u64::try_from(number("max kb")?.unwrap_or(0)).unwrap_or(0) * 1024,
        },
        "national-id" => FieldKind::NationalId {},
        "legal-id" => FieldKind::LegalId {},
        "mobile" => FieldKind::Mobile {},
        "postal-code" => FieldKind::PostalCode {},
        "sheba" => FieldKind::Sheba {},
        "plate" => FieldKind::Plate {},
        other => {
            return Err(format!(
                "نوع «{other}» نیست؛ یکی از: text، long-text، number، money، jalali-date، select، multi-select، yes-no، file، national-id، legal-id، mobile، postal-code، sheba، plate"
            ));
        }
    })
}

/// The lines carry Persian only: English texts of the previous version stay where the Persian
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

/// Reads the editor's lists back into a form (the next version is set by the store); every
/// problem comes with its list and line. The form's own rules ([`FormSchema::check`]) still apply.
pub fn from_lines(
    base: &FormSchema,
    title_fa: &str,
    sections_text: &str,
    fields_text: &str,
) -> Result<FormSchema, Vec<LineProblem>> {
    let mut problems = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    for (i, line) in sections_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once('|') {
            Some((id, title)) if !id.trim().is_empty() && !title.trim().is_empty() => {
                sections.push(Section {
                    id: id.trim().to_owned(),
                    title: Text::fa(title.trim()),
                    help: None,
                    fields: Vec::new(),
                });
            }
            _ => problems.push(LineProblem {
                list: "sections",
                line: i + 1,
                fa: format!("«{line}» باید «شناسه | عنوان» باشد."),
                en: "Write `id | title`.".into(),
            }),
        }
    }
    for (i, line) in fields_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let problem = |fa: String| LineProblem {
            list: "fields",
            line: i + 1,
            fa,
            en: "Write `section | id | type | label | required or optional | settings`.".into(),
        };
        if parts.len() < 5 {
            problems.push(problem(
                "هر فیلد: «بخش | شناسه | نوع | برچسب | required یا optional | تنظیم‌ها».".into(),
            ));
            continue;
        }
        let mut settings = BTreeMap::new();
        for setting in &parts[5..] {
            match setting.split_once(':') {
                Some((name, value)) => {
                    settings.insert(name.trim().to_owned(), value.trim().to_owned());
                }
                None => problems.push(problem(format!(
                    "تنظیم «{setting}» باید «نام: مقدار» باشد."
                ))),
            }
        }
        let required = match parts[4] {
            "required" | "الزامی" => true,
            "optional" | "اختیاری" => false,
            other => {
                problems.push(problem(format!(
                    "«{other}» باید required یا optional باشد."
                )));
                false
            }
        };
        let kind = match kind_of(parts[2], &settings) {
            Ok(kind) => kind,
            Err(why) => {
                problems.push(problem(why));
                continue;
            }
        };
        let show_if = settings.get("if").map(|c| match c.split_once('=') {
            Some((field, values)) => Condition {
                field: field.trim().to_owned(),
                equals: values
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect(),
            },
            None => Condition {
                field: c.trim().to_owned(),
                equals: Vec::new(),
            },
        });
        let field = Field {
            id: parts[1].to_owned(),
            label: Text::fa(parts[3]),
            help: settings.get("help").map(|h| Text::fa(h)),
            required,
            show_if,
            kind,
        };
        match sections.iter_mut().find(|s| s.id == parts[0]) {
            Some(section) => section.fields.push(field),
            None => problems.push(problem(format!("بخش «{}» در فهرست بخش‌ها نیست.", parts[0]))),
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
            en: base.title.en.clone(),
        },
        description: base.description.clone(),
        sections,
        rules: base.rules.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_round_trips_through_the_lines_keeping_english() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/standards/examples/duplicate-birth-certificate.json"
        ))
        .unwrap();
        let form: FormSchema = serde_json::from_str(&text).unwrap();
        let (sections, fields) = to_lines(&form);
        let back = from_lines(&form, &form.title.fa, &sections, &fields).unwrap();
        assert_eq!(back.check(), vec![]);
        let ids = |f: &FormSchema| {
            f.fields()
                .map(|x| (x.id.clone(), x.kind.clone(), x.required, x.show_if.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&back), ids(&form));
    }

    #[test]
    fn bad_lines_are_named() {
        let form: FormSchema = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../docs/standards/examples/duplicate-birth-certificate.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let problems = from_lines(
            &form,
            "x",
            "applicant | متقاضی",
            "applicant | a | colour | رنگ | required\nnowhere | b | text | ب | optional\napplicant | c | select | ج | maybe | options: x",
        )
        .unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3, 3]);
    }
}
