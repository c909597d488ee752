//! The service card (شناسنامهٔ خدمت) in the standard format of DOMAIN.md: what a service is, who
//! decides it, where and how to apply, its steps with their time, the documents and forms it
//! needs, its fees, what one gets, the legal basis and the way to object. Status, versions and
//! authorship live with the stored versions, not in the card.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::forms::Text;
use crate::problem::Problem;
use crate::workflow::Workflow;

/// The six priority groups of Article 4, or other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    CivilRegistration,
    Tax,
    PoliceTraffic,
    Utilities,
    Municipality,
    Commerce,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::CivilRegistration,
        Category::Tax,
        Category::PoliceTraffic,
        Category::Utilities,
        Category::Municipality,
        Category::Commerce,
        Category::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::CivilRegistration => "civil-registration",
            Category::Tax => "tax",
            Category::PoliceTraffic => "police-traffic",
            Category::Utilities => "utilities",
            Category::Municipality => "municipality",
            Category::Commerce => "commerce",
            Category::Other => "other",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            Category::CivilRegistration => "ثبت احوال",
            Category::Tax => "مالیات",
            Category::PoliceTraffic => "پلیس و راهور",
            Category::Utilities => "آب، برق، گاز و تلفن",
            Category::Municipality => "شهرداری",
            Category::Commerce => "بازرگانی و کسب‌وکار",
            Category::Other => "دیگر خدمات",
        }
    }

    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// The life and business events the portal groups services by: (code, Persian name, English
/// name). A card's `events` use these codes; the home page lists them in this order.
pub const LIFE_EVENTS: &[(&str, &str, &str)] = &[
    ("birth", "تولد فرزند", "Having a baby"),
    ("death", "درگذشت یکی از نزدیکان", "A death in the family"),
    ("learning-to-drive", "گرفتن گواهینامه", "Learning to drive"),
    ("buying-a-car", "خرید خودرو", "Buying a car"),
    ("selling-a-car", "فروش خودرو", "Selling a car"),
    ("building-a-home", "ساختن خانه", "Building a home"),
    ("buying-a-home", "خرید خانه", "Buying a home"),
    ("moving-home", "اسباب‌کشی", "Moving home"),
    ("opening-a-shop", "بازکردن مغازه", "Opening a shop"),
    ("running-a-business", "ادارهٔ کسب‌وکار", "Running a business"),
    ("starting-a-trade", "تجارت و صادرات", "Starting to trade"),
    ("lost-documents", "گم شدن مدارک", "Lost documents"),
    ("renewing-documents", "تمدید مدارک", "Renewing documents"),
    ("change-of-details", "تغییر مشخصات", "Changing your details"),
];

/// The Persian name of a life event, if the code is one of [`LIFE_EVENTS`].
pub fn life_event_name_fa(code: &str) -> Option<&'static str> {
    LIFE_EVENTS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, fa, _)| *fa)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Citizen,
    Business,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    National,
    Provincial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceType {
    G2c,
    G2b,
    G2g,
}

/// Where a service can be applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Online,
    Centre,
    AgencyOffice,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Centre => "centre",
            Channel::AgencyOffice => "agency-office",
        }
    }

    pub fn from_code(code: &str) -> Option<Channel> {
        [Channel::Online, Channel::Centre, Channel::AgencyOffice]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelOffer {
    pub channel: Channel,
    /// Can the whole service be done there, or only part of it?
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Who acts: the applicant, the centre, the agency's unit …
    pub who: Text,
    pub what: Text,
    /// Business days this step takes (absent: same day or not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredDocument {
    pub name: Text,
    /// The original (to be seen and returned), or a copy (kept).
    pub original: bool,
    pub copies: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
    /// The step (1-based) that needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// Once only: the code of an agency's inquiry service that can supply it, so the person may
    /// let Pishkhan fetch it with their consent instead of uploading a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inquiry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormRef {
    pub code: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeLine {
    pub title: Text,
    pub rials: i64,
    /// The part a centre keeps for its work (کارمزد), in rials.
    #[serde(default)]
    pub centre_share_rials: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<Text>,
    /// Who collects it: the agency, the centre, a bank …
    pub collector: Text,
}

/// One service card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCard {
    /// Stable across versions: lower-case letters, digits, dots and dashes.
    pub code: String,
    pub title: Text,
    pub summary: Text,
    pub category: Category,
    /// Life or business events, such as `birth`, `buying-a-car`, `opening-a-shop`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    pub audience: Vec<Audience>,
    pub level: Level,
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    /// The competent agency's code.
    pub agency: String,
    /// The unit that decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding_unit: Option<Text>,
    #[serde(default)]
    pub contact: Contact,
    pub channels: Vec<ChannelOffer>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub documents: Vec<RequiredDocument>,
    #[serde(default)]
    pub forms: Vec<FormRef>,
    /// The whole service, in business days.
    pub processing_days: u32,
    /// In-person visits still needed (the goal is zero).
    pub visits_in_person: u32,
    #[serde(default)]
    pub fees: Vec<FeeLine>,
    pub output: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<Text>,
    /// How to object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redress: Option<Text>,
    /// What happens when the agency does not answer in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_no_answer: Option<Text>,
    /// How applications move through the agency; none means [`Workflow::standard`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
    /// How the output is printed and how long it holds; none means the standard print, with
    /// no validity period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_template: Option<OutputTemplate>,
}

/// The printed output of a service, kept with the card's version: what an output issued under
/// this version looks like.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputTemplate {
    /// The body of its typst template (after the shared part every printed document has);
    /// none means the standard layout. Checked by typesetting a sample when the card is saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typst: Option<String>,
    /// How long an output holds, in days from its issue; none: it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_days: Option<u32>,
}

/// The longest an output may hold, in days (ten years).
pub const MAX_VALID_DAYS: u32 = 3660;

/// The longest output template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 120
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
}

/// A place in a service card as its editors read it: `processing_days` is «زمان انجام»,
/// `fees[2]` is «هزینه‌ها، ردیف ۳», `documents[0].step` is «مدارک لازم، ردیف ۱، مرحله».
/// Errors name fields this way, never by their code.
pub fn card_place_fa(at: &str) -> String {
    let name = |part: &str| -> &str {
        match part {
            "code" => "کد خدمت",
            "title" => "عنوان",
            "summary" => "خلاصه",
            "output" => "آنچه دریافت می‌کنید",
            "audience" => "برای",
            "channels" => "راه‌های دریافت خدمت",
            "channel" => "راه",
            "steps" => "مراحل",
            "processing_days" => "زمان انجام",
            "visits_in_person" => "شمار مراجعهٔ حضوری",
            "documents" => "مدارک لازم",
            "step" => "مرحله",
            "inquiry" => "استعلامِ جایگزین",
            "copies" => "شمار نسخه",
            "fees" => "هزینه‌ها",
            "rials" => "مبلغ",
            "centre_share_rials" => "کارمزد دفتر",
            "collector" => "دریافت‌کننده",
            "legal_basis" => "مبنای قانونی",
            "redress" => "راه اعتراض",
            "on_no_answer" => "اگر پاسخی نگرفتید",
            "events" => "رویدادهای زندگی",
            "category" => "موضوع",
            "agency" => "دستگاه",
            "forms" => "فرم‌ها",
            "contact" => "تماس",
            "workflow" => "گردش کار",
            "output_template" => "قالب خروجی",
            "states" => "وضعیت‌ها",
            "actions" => "اقدام‌ها",
            "deciding_unit" => "واحد تصمیم‌گیرنده",
            "title_en" => "عنوان انگلیسی",
            "type" => "نوع خدمت",
            "level" => "سطح",
            "start" => "وضعیت آغاز",
            "name" => "نام",
            "waits_for" => "نوبت کیست",
            "sla_days" => "مهلت (روز کاری)",
            "outcome" => "پایان",
            "next" => "به متقاضی چه بگوییم",
            "from" => "از وضعیت",
            "to" => "به وضعیت",
            "roles" => "چه کسی",
            "service_type" => "نوع خدمت",
            "address" => "نشانی",
            "phone" => "تلفن",
            "fax" => "دورنگار",
            "email" => "رایانامه",
            "hours" => "ساعت کار",
            "complete" => "انجام کامل",
            "note" => "توضیح",
            "who" => "چه کسی",
            "what" => "چه کاری",
            "days" => "روز کاری",
            "original" => "اصل یا رونوشت",
            "version" => "نسخه",
            "comment" => "توضیح لازم",
            "document" => "سند لازم",
            "notify" => "خبر به متقاضی",
            "en" => "انگلیسی",
            _ => "",
        }
    };
    // The catalogue table's columns are the card's fields with `_fa` after the Persian ones.
    let name = |part: &str| match name(part) {
        "" => name(part.strip_suffix("_fa").unwrap_or(part)),
        named => named,
    };
    let mut out: Vec<String> = Vec::new();
    for (depth, segment) in at.split('.').enumerate() {
        let (field, index) = match segment.split_once('[') {
            Some((field, rest)) => (field, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        // The Persian text of a field is the field itself; a code inside a list is a code.
        if field == "fa" && index.is_none() {
            continue;
        }
        let named = if depth > 0 && field == "code" {
            "کد"
        } else {
            name(field)
        };
        out.push(if named.is_empty() {
            "این بخش".to_owned()
        } else {
            named.to_owned()
        });
        if let Some(i) = index {
            out.push(format!(
                "ردیف {}",
                crate::text::to_persian_digits(&(i + 1).to_string())
            ));
        }
    }
    out.join("، ")
}

impl ServiceCard {
    /// The workflow applications for this card follow: the card's own, or the standard one.
    pub fn workflow(&self) -> Workflow {
        self.workflow
            .clone()
            .unwrap_or_else(|| Workflow::standard(self.processing_days))
    }

    /// The fees' total, in rials (of the fees whose amount is announced).
    pub fn total_fee(&self) -> i64 {
        self.fees.iter().map(|f| f.rials).sum()
    }

    /// Is some fee listed without its amount (0)? Then the total is only of the others, and
    /// must say so.
    pub fn has_unannounced_fee(&self) -> bool {
        self.fees.iter().any(|f| f.rials <= 0)
    }

    /// Checks what a person reading the card needs: titles, at least one channel and step,
    /// documents pointing at real steps, sensible times and fees, unique channels.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |at: &str, code: &'static str, fa: String, en: String| {
            problems.push(Problem::new(code, fa, en).at_named(at, card_place_fa(at)));
        };
        if !is_code(&self.code) {
            problem(
                "code",
                "malformed_code",
                "کد خدمت فقط حروف کوچک انگلیسی، رقم، نقطه و خط تیره دارد.".into(),
                "A service code has lower-case letters, digits, dots and dashes only.".into(),
            );
        }
        for (at, text) in [
            ("title", &self.title),
            ("summary", &self.summary),
            ("output", &self.output),
        ] {
            if text.fa.trim().is_empty() {
                problem(
                    at,
                    "missing_text",
                    format!("متن فارسی «{at}» خالی است."),
                    format!("The Persian text of `{at}` is empty."),
                );
            }
        }
        if self.audience.is_empty() {
            problem(
                "audience",
                "missing_audience",
                "بنویسید خدمت برای شهروندان است یا کسب‌وکارها (یا هر دو).".into(),
                "Say whether the service is for citizens, businesses or both.".into(),
            );
        }
        let channels: BTreeSet<Channel> = self.channels.iter().map(|c| c.channel).collect();
        if self.channels.is_empty() || channels.len() != self.channels.len() {
            problem(
                "channels",
                "channels",
                "دست‌کم یک راه دریافت خدمت، و هر راه یک بار.".into(),
                "At least one channel, each once.".into(),
            );
        }
        if self.steps.is_empty() {
            problem(
                "steps",
                "no_steps",
                "مراحل انجام خدمت را بنویسید.".into(),
                "Write the service's steps.".into(),
            );
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.what.fa.trim().is_empty() || step.who.fa.trim().is_empty() {
                problem(
                    &format!("steps[{i}]"),
                    "step_incomplete",
                    format!("مرحلهٔ {}: بنویسید چه کسی چه می‌کند.", i + 1),
                    format!("Step {}: write who does what.", i + 1),
                );
            }
        }
        let step_days: u32 = self.steps.iter().filter_map(|s| s.days).sum();
        if step_days > self.processing_days {
            problem(
                "processing_days",
                "steps_exceed_total",
                format!(
                    "جمع زمان مراحل ({} روز کاری) از زمان کل خدمت ({}) بیشتر است.",
                    crate::text::to_persian_digits(&step_days.to_string()),
                    crate::text::to_persian_digits(&self.processing_days.to_string())
                ),
                format!(
                    "The steps take {step_days} business days, more than the service's {}.",
                    self.processing_days
                ),
            );
        }
        for (i, document) in self.documents.iter().enumerate() {
            let bad_step = document
                .step
                .is_some_and(|s| s == 0 || s as usize > self.steps.len());
            if document.name.fa.trim().is_empty() || document.copies == 0 && !document.original {
                problem(
                    &format!("documents[{i}]"),
                    "document_incomplete",
                    format!("مدرک {}: نام و شمار نسخه‌ها را بنویسید.", i + 1),
                    format!("Document {}: write its name and how many copies.", i + 1),
                );
            }
            if bad_step {
                problem(
                    &format!("documents[{i}].step"),
                    "unknown_step",
                    format!("مدرک {} به مرحله‌ای اشاره می‌کند که نیست.", i + 1),
                    format!("Document {} names a step that does not exist.", i + 1),
                );
            }
            if document.inquiry.as_deref().is_some_and(|c| !is_code(c)) {
                problem(
                    &format!("documents[{i}].inquiry"),
                    "malformed_code",
                    format!(
                        "مدرک {}: شناسهٔ استعلام فقط حروف کوچک انگلیسی، رقم، نقطه و خط تیره دارد.",
                        i + 1
                    ),
                    format!(
                        "Document {}: an inquiry's code has lower-case letters, digits, dots and dashes only.",
                        i + 1
                    ),
                );
            }
        }
        for (i, fee) in self.fees.iter().enumerate() {
            if fee.rials < 0 || fee.centre_share_rials < 0 || fee.centre_share_rials > fee.rials {
                problem(
                    &format!("fees[{i}]"),
                    "fee_amounts",
                    format!(
                        "هزینهٔ {}: مبلغ و سهم دفتر باید نامنفی باشند و سهم دفتر از مبلغ بیشتر نباشد.",
                        i + 1
                    ),
                    format!(
                        "Fee {}: amounts are not negative and the centre's share is not above the amount.",
                        i + 1
                    ),
                );
            }
        }
        for (i, event) in self.events.iter().enumerate() {
            if !is_code(event) {
                problem(
                    &format!("events[{i}]"),
                    "malformed_event",
                    "کد رویداد فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.".into(),
                    "An event code has lower-case letters, digits and dashes only.".into(),
                );
            }
        }
        if let Some(template) = &self.output_template {
            if template
                .valid_days
                .is_some_and(|d| d == 0 || d > MAX_VALID_DAYS)
            {
                problem(
                    "output_template.valid_days",
                    "bad_validity",
                    "مدت اعتبار خروجی از ۱ تا ۳۶۶۰ روز است.".into(),
                    "An output holds from 1 to 3660 days.".into(),
                );
            }
            if template
                .typst
                .as_ref()
                .is_some_and(|t| t.len() > MAX_TEMPLATE_BYTES)
            {
                problem(
                    "output_template.typst",
                    "template_too_long",
                    "قالب خروجی حداکثر ۳۲ کیلوبایت است.".into(),
                    "An output template has at most 32 KB.".into(),
                );
            }
        }
        if let Some(workflow) = &self.workflow {
            problems.extend(workflow.check().into_iter().map(|mut p| {
                if p.at_fa.is_none() && !p.at.is_empty() {
                    p.at_fa = Some(card_place_fa(&format!("workflow.{}", p.at)).into());
                }
                p
            }));
        }
        problems
    }
}

/// One difference between two versions: a path such as `steps[2].what.fa`, and the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The readable difference between two JSON documents (two versions of a card or a form), leaf
/// by leaf, in document order.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let mut left = Vec::new();
    let mut right = Vec::new();
    flatten("", before, &mut left);
    flatten("", after, &mut right);
    let mut changes = Vec::new();
    let right_map: std::collections::BTreeMap<&str, &str> = right
        .iter()
        .map(|(p, v)| (p.as_str(), v.as_str()))
        .collect();
    let left_map: std::collections::BTreeMap<&str, &str> =
        left.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    for (path, value) in &left {
        match right_map.get(path.as_str()) {
            Some(new) if *new == value => {}
            new => changes.push(Change {
                path: path.clone(),
                before: Some(value.clone()),
                after: new.map(|v| (*v).to_owned()),
            }),
        }
    }
    for (path, value) in &right {
        if !left_map.contains_key(path.as_str()) {
            changes.push(Change {
                path: path.clone(),
                before: None,
                after: Some(value.clone()),
            });
        }
    }
    changes
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, item, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::String(text) => out.push((prefix.to_owned(), text.clone())),
        Value::Null => {}
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn card() -> ServiceCard {
        serde_json::from_value(json!({
            "code": "tehran-civil-registry.duplicate-birth-certificate",
            "title": {"fa": "صدور شناسنامهٔ المثنی", "en": "Duplicate birth certificate"},
            "summary": {"fa": "برای کسی که شناسنامه‌اش گم یا فرسوده شده است."},
            "category": "civil-registration",
            "events": ["lost-documents"],
            "audience": ["citizen"],
            "level": "national",
            "type": "g2c",
            "agency": "tehran-civil-registry",
            "channels": [{"channel": "centre", "complete": false}],
            "steps": [
                {"who": {"fa": "متقاضی"}, "what": {"fa": "گرفتن گواهی مفقودی از کلانتری"}, "days": 1},
                {"who": {"fa": "دفتر پیشخوان"}, "what": {"fa": "ثبت درخواست و دریافت هزینه"}},
                {"who": {"fa": "ثبت احوال"}, "what": {"fa": "بررسی و صدور"}, "days": 10}
            ],
            "documents": [
                {"name": {"fa": "کارت ملی"}, "original": true, "copies": 1, "step": 2,
                 "inquiry": "tehran.identity-by-birth-date"},
                {"name": {"fa": "عکس ۳×۴"}, "original": false, "copies": 2, "step": 2}
            ],
            "forms": [{"code": "civil-registry.duplicate-birth-certificate", "version": 1}],
            "processing_days": 15,
            "visits_in_person": 1,
            "fees": [{"title": {"fa": "تعرفهٔ المثنی (بار نخست)"}, "rials": 230000,
                      "collector": {"fa": "ثبت احوال"}},
                     {"title": {"fa": "کارمزد دفتر"}, "rials": 150000, "centre_share_rials": 150000,
                      "collector": {"fa": "دفتر پیشخوان"}}],
            "output": {"fa": "شناسنامهٔ جدید با مهر «المثنی»"}
        }))
        .unwrap()
    }

    #[test]
    fn places_in_a_card_read_in_persian() {
        assert_eq!(card_place_fa("processing_days"), "زمان انجام");
        assert_eq!(card_place_fa("fees[2]"), "هزینه‌ها، ردیف ۳");
        assert_eq!(
            card_place_fa("fees[0].centre_share_rials"),
            "هزینه‌ها، ردیف ۱، کارمزد دفتر"
        );
        assert_eq!(
            card_place_fa("documents[0].step"),
            "مدارک لازم، ردیف ۱، مرحله"
        );
        assert_eq!(card_place_fa("nonsense"), "این بخش");
    }

    #[test]
    fn a_good_card_checks_clean() {
        let card = card();
        assert_eq!(card.check(), vec![]);
        assert_eq!(card.total_fee(), 380_000);
        let text = serde_json::to_string(&card).unwrap();
        assert_eq!(serde_json::from_str::<ServiceCard>(&text).unwrap(), card);
    }

    #[test]
    fn problems_say_where() {
        let mut card = card();
        card.processing_days = 5;
        card.documents[0].step = Some(7);
        card.documents[1].inquiry = Some("Identity; DROP".into());
        card.channels.push(card.channels[0].clone());
        card.fees[1].centre_share_rials = 999_999;
        let at: Vec<String> = card.check().into_iter().map(|p| p.at).collect();
        assert_eq!(
            at,
            [
                "channels",
                "processing_days",
                "documents[0].step",
                "documents[1].inquiry",
                "fees[1]"
            ]
        );
    }

    #[test]
    fn diffs_name_the_changed_leaves() {
        let before = serde_json::to_value(card()).unwrap();
        let mut edited = card();
        edited.steps[2].what = Text::fa("بررسی سوابق و صدور شناسنامه");
        edited.documents.pop();
        let after = serde_json::to_value(&edited).unwrap();
        let changes = diff(&before, &after);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "documents[1].copies",
                "documents[1].name.fa",
                "documents[1].original",
                "documents[1].step",
                "steps[2].what.fa"
            ]
        );
        assert_eq!(
            changes[4].after.as_deref(),
            Some("بررسی سوابق و صدور شناسنامه")
        );
        assert_eq!(changes[0].after, None);
    }
}
