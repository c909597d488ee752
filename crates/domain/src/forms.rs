//! The form standard (`pishkhan-form/1`): what a form is, and the one validator that web forms,
//! the API and imports all use.
//!
//! A form has sections of fields. Each field has a type — the plain ones (text, long text,
//! number, money, Jalali date, select, multi-select, yes/no, file) and the Iranian identifiers of
//! the Persian core — a label and optional help in Persian and English, whether it is required,
//! and optionally a condition: show (and check) it only when another field has a value. Rules
//! across fields come last. The published JSON Schema is `docs/standards/form-schema-v1.json`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::JalaliDate;
use crate::id::{LegalId, MobileNumber, NationalId, PostalCode, Sheba, VehiclePlate};
use crate::problem::Problem;

/// The `schema` tag of this version of the standard.
pub const SCHEMA_V1: &str = "pishkhan-form/1";

/// Text in both languages; Persian is required, English optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub fa: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    pub fn fa(text: &str) -> Text {
        Text {
            fa: text.to_owned(),
            en: None,
        }
    }
}

/// One form, one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSchema {
    /// Always [`SCHEMA_V1`].
    pub schema: String,
    /// Stable across versions: lower-case letters, digits, dots and dashes.
    pub code: String,
    pub version: u32,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    pub sections: Vec<Section>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    pub fields: Vec<Field>,
}

/// (Unknown keys are refused by [`FieldKind`], which receives every key `Field` does not take.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(default)]
    pub required: bool,
    /// Show (and check) the field only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// A field's type and the limits that go with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FieldKind {
    Text {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    LongText {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// Whole rials.
    Money {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    JalaliDate {},
    Select {
        options: Vec<Choice>,
    },
    MultiSelect {
        options: Vec<Choice>,
    },
    YesNo {},
    File {
        /// Media types, such as `image/jpeg` or `application/pdf`.
        accept: Vec<String>,
        max_bytes: u64,
    },
    NationalId {},
    LegalId {},
    Mobile {},
    PostalCode {},
    Sheba {},
    Plate {},
}

impl FieldKind {
    /// The type's name in the standard.
    pub fn code(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::LongText { .. } => "long-text",
            FieldKind::Number { .. } => "number",
            FieldKind::Money { .. } => "money",
            FieldKind::JalaliDate {} => "jalali-date",
            FieldKind::Select { .. } => "select",
            FieldKind::MultiSelect { .. } => "multi-select",
            FieldKind::YesNo {} => "yes-no",
            FieldKind::File { .. } => "file",
            FieldKind::NationalId {} => "national-id",
            FieldKind::LegalId {} => "legal-id",
            FieldKind::Mobile {} => "mobile",
            FieldKind::PostalCode {} => "postal-code",
            FieldKind::Sheba {} => "sheba",
            FieldKind::Plate {} => "plate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// When a field is shown: another (earlier) field has a value, or one of some values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    /// Any of these values (for yes/no: `"yes"` or `"no"`); absent means "has any value".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
}

/// A rule across fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// Date `earlier` is on or before date `later` (when both are filled).
    DateOrder {
        earlier: String,
        later: String,
        message: Text,
    },
    /// At least one of these fields is filled.
    AtLeastOne { fields: Vec<String>, message: Text },
    /// These two fields differ (e.g. the applicant's and the representative's national IDs).
    Different {
        first: String,
        second: String,
        message: Text,
    },
}

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'))
}

impl FormSchema {
    /// Every field, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// Checks the definition itself: the tag, codes, unique ids, Persian labels, options, limits,
    /// and that conditions and rules name fields that exist (conditions only earlier ones, so a
    /// form can be filled top to bottom).
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |at: String, code: &'static str, fa: String, en: String| {
            problems.push(Problem::new(code, fa, en).at(at));
        };
        if self.schema != SCHEMA_V1 {
            problem(
                "schema".into(),
                "form_schema_tag",
                format!("نسخهٔ استاندارد باید «{SCHEMA_V1}» باشد."),
                format!("The standard's tag must be `{SCHEMA_V1}`."),
            );
        }
        if !is_code(&self.code) {
            problem(
                "code".into(),
                "malformed_code",
                "کد فرم فقط حروف کوچک انگلیسی، رقم، نقطه و خط تیره دارد.".into(),
                "A form code has lower-case letters, digits, dots and dashes only.".into(),
            );
        }
        if self.version == 0 {
            problem(
                "version".into(),
                "version_zero",
                "شمارهٔ نسخه از ۱ آغاز می‌شود.".into(),
                "Versions start at 1.".into(),
            );
        }
        if self.title.fa.trim().is_empty() {
            problem(
                "title".into(),
                "missing_title",
                "عنوان فارسی فرم را بنویسید.".into(),
                "Write the form's Persian title.".into(),
            );
        }
        if self.sections.is_empty() {
            problem(
                "sections".into(),
                "no_sections",
                "فرم دست‌کم یک بخش با یک فیلد می‌خواهد.".into(),
                "A form needs at least one section with one field.".into(),
            );
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut section_ids: BTreeSet<&str> = BTreeSet::new();
        for (s, section) in self.sections.iter().enumerate() {
            if !is_code(&section.id) || !section_ids.insert(&section.id) {
                problem(
                    format!("sections[{s}]"),
                    "malformed_section_id",
                    format!("شناسهٔ بخش «{}» تکراری یا نادرست است.", section.id),
                    format!("Section id `{}` is repeated or malformed.", section.id),
                );
            }
            if section.fields.is_empty() {
                problem(
                    format!("sections[{s}]"),
                    "empty_section",
                    "این بخش هیچ فیلدی ندارد.".into(),
                    "This section has no fields.".into(),
                );
            }
            for (f, field) in section.fields.iter().enumerate() {
                let at = format!("sections[{s}].fields[{f}]");
                if !is_code(&field.id) {
                    problem(
                        at.clone(),
                        "malformed_field_id",
                        format!("شناسهٔ فیلد «{}» نادرست است.", field.id),
                        format!("Field id `{}` is malformed.", field.id),
                    );
                }
                if field.label.fa.trim().is_empty() {
                    problem(
                        at.clone(),
                        "missing_label",
                        format!("فیلد «{}» برچسب فارسی ندارد.", field.id),
                        format!("Field `{}` has no Persian label.", field.id),
                    );
                }
                if let Some(condition) = &field.show_if
                    && !seen.contains(condition.field.as_str())
                {
                    problem(
                        at.clone(),
                        "condition_not_earlier",
                        format!(
                            "شرط فیلد «{}» به فیلد «{}» اشاره می‌کند که پیش از آن نیامده است.",
                            field.id, condition.field
                        ),
                        format!(
                            "Field `{}` is shown on `{}`, which is not an earlier field.",
                            field.id, condition.field
                        ),
                    );
                }
                match &field.kind {
                    FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                        let values: BTreeSet<&str> =
                            options.iter().map(|o| o.value.as_str()).collect();
                        if options.is_empty() || values.len() != options.len() {
                            problem(
                                at.clone(),
                                "bad_options",
                                format!("گزینه‌های فیلد «{}» خالی یا تکراری‌اند.", field.id),
                                format!("Field `{}` has no options or repeated ones.", field.id),
                            );
                        }
                    }
                    FieldKind::Number {
                        min: Some(min),
                        max: Some(max),
                    } if min > max => problem(
                        at.clone(),
                        "min_above_max",
                        format!("کمینهٔ فیلد «{}» از بیشینه‌اش بزرگ‌تر است.", field.id),
                        format!("Field `{}` has min above max.", field.id),
                    ),
                    FieldKind::File { accept, max_bytes }
                        if accept.is_empty() || *max_bytes == 0 =>
                    {
                        problem(
                            at.clone(),
                            "file_limits",
                            format!(
                                "برای فیلد پرونده «{}» نوع‌ها و اندازهٔ مجاز را بنویسید.",
                                field.id
                            ),
                            format!(
                                "File field `{}` needs allowed types and a size limit.",
                                field.id
                            ),
                        )
                    }
                    _ => {}
                }
                if !seen.insert(&field.id) {
                    problem(
                        at,
                        "repeated_field",
                        format!("شناسهٔ فیلد «{}» تکراری است.", field.id),
                        format!("Field id `{}` is repeated.", field.id),
                    );
                }
            }
        }
        for (r, rule) in self.rules.iter().enumerate() {
            let named: Vec<&String> = match rule {
                Rule::DateOrder { earlier, later, .. } => vec![earlier, later],
                Rule::AtLeastOne { fields, .. } => fields.iter().collect(),
                Rule::Different { first, second, .. } => vec![first, second],
            };
            for name in named {
                if !seen.contains(name.as_str()) {
                    problem(
                        format!("rules[{r}]"),
                        "rule_unknown_field",
                        format!("قاعدهٔ {} به فیلد ناموجود «{name}» اشاره می‌کند.", r + 1),
                        format!("Rule {} names `{name}`, which is not a field.", r + 1),
                    );
                }
            }
        }
        problems
    }

    /// A filled example that passes [`FormSchema::validate`]: what the demo's applications and
    /// the tests submit. File fields are left out (they point at uploaded documents).
    pub fn example_answers(&self) -> BTreeMap<String, Value> {
        let mut answers = BTreeMap::new();
        for field in self.fields() {
            let value = match &field.kind {
                FieldKind::Text { max_length } | FieldKind::LongText { max_length } => {
                    let text = "نمونه";
                    let max = max_length.map_or(usize::MAX, |m| m as usize);
                    Value::String(text.chars().take(max).collect())
                }
                FieldKind::Number { min, max } => {
                    Value::from(min.unwrap_or(1).max(1).min(max.unwrap_or(i64::MAX)))
                }
                FieldKind::Money { max } => Value::from(max.unwrap_or(1_000_000).min(1_000_000)),
                FieldKind::JalaliDate {} => Value::String("1404/01/15".into()),
                FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                    match options.first() {
                        Some(o) if matches!(field.kind, FieldKind::MultiSelect { .. }) => {
                            Value::from(vec![o.value.clone()])
                        }
                        Some(o) => Value::String(o.value.clone()),
                        None => continue,
                    }
                }
                FieldKind::YesNo {} => Value::String("yes".into()),
                FieldKind::File { .. } => continue,
                FieldKind::NationalId {} => Value::String("0076229645".into()),
                FieldKind::LegalId {} => Value::String("10380284790".into()),
                FieldKind::Mobile {} => Value::String("09121234567".into()),
                FieldKind::PostalCode {} => Value::String("1345678913".into()),
                FieldKind::Sheba {} => Value::String("IR820540102680020817909002".into()),
                FieldKind::Plate {} => Value::String("12ب345-67".into()),
            };
            answers.insert(field.id.clone(), value);
        }
        answers
    }

    /// Checks someone's answers. On success returns them normalized (identifiers in canonical
    /// form, digits in ASCII, hidden fields dropped); otherwise every problem found, each with its
    /// field.
    pub fn validate(
        &self,
        answers: &BTreeMap<String, Value>,
    ) -> Result<BTreeMap<String, Value>, Vec<Problem>> {
        let mut errors = Vec::new();
        let mut normalized: BTreeMap<String, Value> = BTreeMap::new();
        for key in answers.keys() {
            if self.field(key).is_none() {
                errors.push(
                    Problem::new(
                        "unknown_field",
                        format!("این فرم فیلدی به نام «{key}» ندارد."),
                        format!("This form has no field `{key}`."),
                    )
                    .at(key.clone()),
                );
            }
        }
        for field in self.fields() {
            if let Some(condition) = &field.show_if
                && !condition_holds(condition, &normalized)
            {
                continue;
            }
            let value = answers.get(&field.id).filter(|v| !is_empty(v));
            match value {
                None if field.required => {
                    // A choice is chosen, a file attached, a box filled in: the words people
                    // expect for each.
                    let label_en = field.label.en.as_deref().unwrap_or(&field.label.fa);
                    let (fa, en) = match &field.kind {
                        FieldKind::Select { .. }
                        | FieldKind::MultiSelect { .. }
                        | FieldKind::YesNo {} => (
                            format!("«{}» را انتخاب کنید.", field.label.fa),
                            format!("Choose “{label_en}”."),
                        ),
                        FieldKind::File { .. } => (
                            format!("پرونده‌ای برای «{}» پیوست کنید.", field.label.fa),
                            format!("Attach a file for “{label_en}”."),
                        ),
                        _ => (
                            format!("«{}» را پر کنید.", field.label.fa),
                            format!("Fill in “{label_en}”."),
                        ),
                    };
                    errors.push(Problem::new("required", fa, en).at(field.id.clone()));
                }
                None => {}
                Some(value) => match check_value(field, value) {
                    Ok(clean) => {
                        normalized.insert(field.id.clone(), clean);
                    }
                    Err(error) => errors.push(error),
                },
            }
        }
        for rule in &self.rules {
            if let Some(error) = check_rule(rule, &normalized) {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            Ok(normalized)
        } else {
            Err(errors)
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        _ => None,
    }
}

fn condition_holds(condition: &Condition, answers: &BTreeMap<String, Value>) -> bool {
    let Some(value) = answers.get(&condition.field) else {
        return false;
    };
    if condition.equals.is_empty() {
        return true;
    }
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(as_text)
            .any(|v| condition.equals.contains(&v)),
        other => as_text(other).is_some_and(|v| condition.equals.contains(&v)),
    }
}

fn field_error(field: &Field, code: &'static str, fa: String, en: String) -> Problem {
    Problem::new(
        code,
        format!("«{}»: {fa}", field.label.fa),
        format!(
            "“{}”: {en}",
            field.label.en.as_deref().unwrap_or(&field.label.fa)
        ),
    )
    .at(field.id.clone())
}

fn whole_number(text: &str) -> Option<i64> {
    let ascii = crate::text::to_ascii_digits(text);
    let cleaned: String = ascii
        .chars()
        .filter(|c| !matches!(c, ',' | '،' | '٬' | ' '))
        .collect();
    cleaned.parse().ok()
}

fn check_value(field: &Field, value: &Value) -> Result<Value, Problem> {
    let text = || as_text(value).unwrap_or_default();
    let invalid = |e: Problem| field_error(field, e.code, e.fa, e.en);
    match &field.kind {
        FieldKind::Text { max_length } | FieldKind::LongText { max_length } => {
            let text = text();
            let length = text.chars().count();
            match max_length {
                Some(max) if length > *max as usize => Err(field_error(
                    field,
                    "too_long",
                    format!(
                        "حداکثر {} نویسه؛ این {} نویسه است.",
                        crate::text::to_persian_digits(&max.to_string()),
                        crate::text::to_persian_digits(&length.to_string())
                    ),
                    format!("At most {max} characters; this has {length}."),
                )),
                _ => Ok(Value::String(text)),
            }
        }
        FieldKind::Number { min, max } => {
            let Some(number) = whole_number(&text()) else {
                return Err(field_error(
                    field,
                    "not_a_number",
                    "یک عدد صحیح بنویسید.".into(),
                    "Write a whole number.".into(),
                ));
            };
            if min.is_some_and(|m| number < m) || max.is_some_and(|m| number > m) {
                return Err(field_error(
                    field,
                    "out_of_range",
                    format!(
                        "عدد باید از {} تا {} باشد.",
                        crate::text::to_persian_digits(&min.unwrap_or(i64::MIN).to_string()),
                        crate::text::to_persian_digits(&max.unwrap_or(i64::MAX).to_string())
                    ),
                    format!(
                        "The number must be from {} to {}.",
                        min.unwrap_or(i64::MIN),
                        max.unwrap_or(i64::MAX)
                    ),
                ));
            }
            Ok(Value::from(number))
        }
        FieldKind::Money { max } => match whole_number(&text()) {
            Some(rials) if rials >= 0 && max.is_none_or(|m| rials <= m) => Ok(Value::from(rials)),
            _ => Err(field_error(
                field,
                "bad_amount",
                "مبلغ را به ریال و با رقم بنویسید (بدون اعشار).".into(),
                "Write the amount in rials, as digits (no decimals).".into(),
            )),
        },
        FieldKind::JalaliDate {} => JalaliDate::parse(&text())
            .map(|d| Value::String(d.format_numeric()))
            .map_err(invalid),
        FieldKind::Select { options } => {
            let chosen = text();
            if options.iter().any(|o| o.value == chosen) {
                Ok(Value::String(chosen))
            } else {
                Err(field_error(
                    field,
                    "not_an_option",
                    "یکی از گزینه‌ها را برگزینید.".into(),
                    "Choose one of the options.".into(),
                ))
            }
        }
        FieldKind::MultiSelect { options } => {
            let items: Vec<String> = match value {
                Value::Array(items) => items.iter().filter_map(as_text).collect(),
                other => as_text(other).into_iter().collect(),
            };
            if items.iter().all(|i| options.iter().any(|o| &o.value == i)) {
                Ok(Value::from(items))
            } else {
                Err(field_error(
                    field,
                    "not_an_option",
                    "فقط از میان گزینه‌ها برگزینید.".into(),
                    "Choose only among the options.".into(),
                ))
            }
        }
        FieldKind::YesNo {} => match text().as_str() {
            "yes" | "true" | "بله" => Ok(Value::String("yes".into())),
            "no" | "false" | "خیر" => Ok(Value::String("no".into())),
            _ => Err(field_error(
                field,
                "not_yes_no",
                "«بله» یا «خیر» را برگزینید.".into(),
                "Choose yes or no.".into(),
            )),
        },
        FieldKind::File { accept, max_bytes } => {
            // A file answer is {"name", "media_type", "bytes", ...} from the upload step, which
            // judged the type by content.
            let media = value
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let bytes = value
                .get("bytes")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            if !accept.iter().any(|a| a == media) {
                Err(field_error(
                    field,
                    "file_type",
                    format!("این نوع پرونده پذیرفته نیست؛ مجاز: {}.", accept.join("، ")),
                    format!(
                        "This kind of file is not accepted; allowed: {}.",
                        accept.join(", ")
                    ),
                ))
            } else if bytes > *max_bytes {
                Err(field_error(
                    field,
                    "file_too_large",
                    format!(
                        "پرونده بزرگ‌تر از {} کیلوبایت است.",
                        crate::text::to_persian_digits(&(max_bytes / 1024).to_string())
                    ),
                    format!("The file is larger than {} KB.", max_bytes / 1024),
                ))
            } else {
                Ok(value.clone())
            }
        }
        FieldKind::NationalId {} => NationalId::parse(&text())
            .map(|v| Value::String(v.as_str().to_owned()))
            .map_err(invalid),
        FieldKind::LegalId {} => LegalId::parse(&text())
            .map(|v| Value::String(v.as_str().to_owned()))
            .map_err(invalid),
        FieldKind::Mobile {} => MobileNumber::parse(&text())
            .map(|v| Value::String(v.e164()))
            .map_err(invalid),
        FieldKind::PostalCode {} => PostalCode::parse(&text())
            .map(|v| Value::String(v.as_str().to_owned()))
            .map_err(invalid),
        FieldKind::Sheba {} => Sheba::parse(&text())
            .map(|v| Value::String(v.as_str().to_owned()))
            .map_err(invalid),
        FieldKind::Plate {} => VehiclePlate::parse(&text())
            .map(|v| Value::String(v.canonical()))
            .map_err(invalid),
    }
}

fn rule_error(field: &str, code: &'static str, message: &Text) -> Problem {
    Problem::new(
        code,
        message.fa.clone(),
        message.en.clone().unwrap_or_else(|| message.fa.clone()),
    )
    .at(field)
}

fn check_rule(rule: &Rule, answers: &BTreeMap<String, Value>) -> Option<Problem> {
    match rule {
        Rule::DateOrder {
            earlier,
            later,
            message,
        } => {
            let date = |id: &str| {
                answers
                    .get(id)
                    .and_then(Value::as_str)
                    .and_then(|t| JalaliDate::parse(t).ok())
            };
            match (date(earlier), date(later)) {
                (Some(a), Some(b)) if a > b => Some(rule_error(later, "date_order", message)),
                _ => None,
            }
        }
        Rule::AtLeastOne { fields, message } => (!fields.iter().any(|f| answers.contains_key(f)))
            .then(|| {
                rule_error(
                    fields.first().map_or("", String::as_str),
                    "at_least_one",
                    message,
                )
            }),
        Rule::Different {
            first,
            second,
            message,
        } => match (answers.get(first), answers.get(second)) {
            (Some(a), Some(b)) if a == b => Some(rule_error(second, "must_differ", message)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> FormSchema {
        serde_json::from_value(json!({
            "schema": "pishkhan-form/1",
            "code": "civil-registry.duplicate-birth-certificate",
            "version": 1,
            "title": {"fa": "درخواست صدور شناسنامهٔ المثنی", "en": "Duplicate birth certificate"},
            "sections": [
                {"id": "applicant", "title": {"fa": "درخواست‌کننده"}, "fields": [
                    {"id": "national_id", "type": "national-id", "label": {"fa": "کد ملی", "en": "National ID"}, "required": true},
                    {"id": "mobile", "type": "mobile", "label": {"fa": "شمارهٔ همراه"}, "required": true},
                    {"id": "reason", "type": "select", "label": {"fa": "علت"}, "required": true, "options": [
                        {"value": "lost", "label": {"fa": "مفقودی"}},
                        {"value": "damaged", "label": {"fa": "فرسودگی"}}
                    ]},
                    {"id": "police_report_date", "type": "jalali-date", "label": {"fa": "تاریخ گواهی مفقودی"},
                     "required": true, "show_if": {"field": "reason", "equals": ["lost"]}},
                    {"id": "loss_date", "type": "jalali-date", "label": {"fa": "تاریخ گم شدن"}},
                    {"id": "photo", "type": "file", "label": {"fa": "عکس ۳×۴"}, "accept": ["image/jpeg"], "max_bytes": 1048576},
                    {"id": "fee", "type": "money", "label": {"fa": "هزینه"}, "max": 10000000}
                ]}
            ],
            "rules": [
                {"rule": "date-order", "earlier": "loss_date", "later": "police_report_date",
                 "message": {"fa": "تاریخ گواهی مفقودی نمی‌تواند پیش از تاریخ گم شدن باشد."}}
            ]
        }))
        .unwrap()
    }

    fn answers(value: serde_json::Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_good_form_checks_clean_and_round_trips() {
        let form = form();
        assert_eq!(form.check(), vec![]);
        let text = serde_json::to_string(&form).unwrap();
        assert_eq!(serde_json::from_str::<FormSchema>(&text).unwrap(), form);
    }

    #[test]
    fn answers_are_normalized() {
        let clean = form()
            .validate(&answers(json!({
                "national_id": "۰۰۸۲۴۵۱۲۹۱",
                "mobile": "0912 123 4567",
                "reason": "lost",
                "police_report_date": "۱۴۰۴/۰۲/۱۰",
                "loss_date": "1404/2/1",
                "fee": "۱٬۲۰۰٬۰۰۰"
            })))
            .unwrap();
        assert_eq!(clean["national_id"], "0082451291");
        assert_eq!(clean["mobile"], "+989121234567");
        assert_eq!(clean["police_report_date"], "1404/02/10");
        assert_eq!(clean["fee"], 1_200_000);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let errors = form()
            .validate(&answers(json!({
                "national_id": "1234567890",
                "reason": "lost",
                "loss_date": "1404/03/01",
                "police_report_date": "1404/02/10",
                "photo": {"name": "a.png", "media_type": "image/png", "bytes": 10},
                "color": "blue"
            })))
            .unwrap_err();
        let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.at.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("color", "unknown_field"),
                ("national_id", "checksum"),
                ("mobile", "required"),
                ("photo", "file_type"),
                ("police_report_date", "date_order"),
            ]
        );
        assert!(errors[2].fa.contains("شمارهٔ همراه"));
    }

    #[test]
    fn hidden_fields_are_not_required_nor_kept() {
        let clean = form()
            .validate(&answers(json!({
                "national_id": "0082451291",
                "mobile": "09121234567",
                "reason": "damaged",
                "police_report_date": "not even a date"
            })))
            .unwrap();
        assert!(!clean.contains_key("police_report_date"));
    }

    #[test]
    fn broken_definitions_are_explained() {
        let mut broken = form();
        broken.sections[0].fields[3].show_if = Some(Condition {
            field: "later_field".into(),
            equals: vec![],
        });
        broken.sections[0].fields[1].id = "national_id".into();
        broken.rules.push(Rule::AtLeastOne {
            fields: vec!["nothing".into()],
            message: Text::fa("x"),
        });
        let at: Vec<String> = broken.check().into_iter().map(|p| p.at).collect();
        assert_eq!(
            at,
            ["sections[0].fields[1]", "sections[0].fields[3]", "rules[1]"]
        );
        let unknown = serde_json::from_value::<FormSchema>(json!({
            "schema": "pishkhan-form/1", "code": "x", "version": 1, "title": {"fa": "x"},
            "sections": [{"id": "s", "title": {"fa": "s"}, "fields": [
                {"id": "f", "type": "colour", "label": {"fa": "f"}}]}]
        }));
        assert!(unknown.is_err(), "unknown field types are refused");
        let typo = serde_json::from_value::<FormSchema>(json!({
            "schema": "pishkhan-form/1", "code": "x", "version": 1, "title": {"fa": "x"},
            "sections": [{"id": "s", "title": {"fa": "s"}, "fields": [
                {"id": "f", "type": "text", "max_lenght": 5, "label": {"fa": "f"}}]}]
        }));
        assert!(typo.is_err(), "misspelt keys are refused");
    }
}
