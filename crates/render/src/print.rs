//! What the templates read: a form or a card turned into Persian texts and layout hints.

use pishkhan_domain::Rials;
use pishkhan_domain::catalog::{Audience, Channel, ServiceCard};
use pishkhan_domain::forms::{Choice, Condition, Field, FieldKind, FormSchema};
use pishkhan_domain::language::Language;
use pishkhan_domain::text::to_persian_digits;
use serde_json::{Value, json};

/// A form to print, with what the page says about where it comes from.
pub struct FormPrint<'a> {
    pub form: &'a FormSchema,
    /// The published version number.
    pub version: i64,
    pub agency_name: &'a str,
    /// The province whose portal prints it, as named in full ("استان تهران").
    pub province_name: Option<&'a str>,
    /// When it was printed, as a Jalali date in Persian.
    pub printed_on: &'a str,
}

/// A service card to print.
pub struct CardPrint<'a> {
    pub card: &'a ServiceCard,
    pub version: i64,
    pub agency_name: &'a str,
    pub province_name: Option<&'a str>,
    /// When this version was published, in Persian.
    pub updated_on: &'a str,
    pub printed_on: &'a str,
    /// The title of each form the card names, by code.
    pub form_titles: &'a [(String, String)],
    /// Where the card lives on the portal (printed so a paper copy leads back to it).
    pub address: &'a str,
}

fn fa(n: impl ToString) -> String {
    to_persian_digits(&n.to_string())
}

/// The agency, and its province unless the agency's name already says it.
pub(crate) fn issuer(agency: &str, province: Option<&str>) -> String {
    match province {
        Some(p) if !agency.contains(p) => format!("{agency} — {p}"),
        _ => agency.to_owned(),
    }
}

fn labels(options: &[Choice]) -> Vec<String> {
    options.iter().map(|o| o.label.fa.clone()).collect()
}

fn boxes(groups: &[(u32, &str)]) -> Value {
    json!({
        "kind": "boxes",
        "groups": groups.iter().map(|(n, caption)| json!([n, caption])).collect::<Vec<_>>(),
    })
}

/// How a field is filled by hand, and a hint added to its help.
fn entry(kind: &FieldKind) -> (Value, Option<String>) {
    match kind {
        FieldKind::Text { .. } | FieldKind::Number { .. } => {
            (json!({"kind": "lines", "lines": 1}), None)
        }
        FieldKind::LongText { .. } => (json!({"kind": "lines", "lines": 4}), None),
        FieldKind::Money { .. } => (
            json!({"kind": "lines", "lines": 1}),
            Some("مبلغ به ریال".to_owned()),
        ),
        FieldKind::JalaliDate {} => (
            boxes(&[(4, "سال"), (0, "/"), (2, "ماه"), (0, "/"), (2, "روز")]),
            Some("به تاریخ خورشیدی".to_owned()),
        ),
        FieldKind::Select { options } => (
            json!({"kind": "choices", "options": labels(options)}),
            Some("یکی را علامت بزنید".to_owned()),
        ),
        FieldKind::MultiSelect { options } => (
            json!({"kind": "choices", "options": labels(options)}),
            Some("هر چند گزینه که درست است علامت بزنید".to_owned()),
        ),
        FieldKind::YesNo {} => (json!({"kind": "choices", "options": ["بله", "خیر"]}), None),
        FieldKind::File { accept, max_bytes } => {
            let kinds: Vec<&str> = accept
                .iter()
                .map(|a| match a.as_str() {
                    "application/pdf" => "PDF",
                    "image/jpeg" => "JPEG",
                    "image/png" => "PNG",
                    other => other,
                })
                .collect();
            let megabytes = (*max_bytes).div_ceil(1024 * 1024);
            (
                json!({"kind": "file", "note": "پیوست شد"}),
                Some(format!(
                    "پیوست کنید ({}، تا {} مگابایت در ثبت برخط)",
                    kinds.join("، "),
                    fa(megabytes)
                )),
            )
        }
        FieldKind::NationalId {} => (boxes(&[(10, "کد ملی ۱۰ رقمی")]), None),
        FieldKind::LegalId {} => (boxes(&[(11, "شناسهٔ ملی ۱۱ رقمی")]), None),
        FieldKind::Mobile {} => (boxes(&[(11, "شمارهٔ همراه، مثل ۰۹۱۲…")]), None),
        FieldKind::PostalCode {} => (boxes(&[(10, "کد پستی ۱۰ رقمی")]), None),
        FieldKind::Sheba {} => (boxes(&[(0, "IR"), (24, "شبا: ۲۴ رقم پس از IR")]), None),
        FieldKind::Plate {} => (
            boxes(&[
                (2, "دو رقم"),
                (1, "حرف"),
                (3, "سه رقم"),
                (0, "ایران"),
                (2, "کد"),
            ]),
            None,
        ),
    }
}

fn condition(form: &FormSchema, condition: &Condition) -> Option<String> {
    let other = form.field(&condition.field)?;
    let values: Vec<String> = condition
        .equals
        .iter()
        .map(|v| match (&other.kind, v.as_str()) {
            (FieldKind::YesNo {}, "yes") => "بله".to_owned(),
            (FieldKind::YesNo {}, "no") => "خیر".to_owned(),
            (FieldKind::Select { options } | FieldKind::MultiSelect { options }, v) => options
                .iter()
                .find(|o| o.value == v)
                .map(|o| o.label.fa.clone())
                .unwrap_or_else(|| v.to_owned()),
            (_, v) => v.to_owned(),
        })
        .collect();
    Some(if values.is_empty() {
        format!("فقط اگر «{}» پر شده است", other.label.fa)
    } else {
        format!("فقط اگر «{}»: {}", other.label.fa, values.join(" یا "))
    })
}

fn field(form: &FormSchema, field: &Field) -> Value {
    let (mut entry, hint) = entry(&field.kind);
    let help = match (field.help.as_ref().map(|h| h.fa.clone()), hint) {
        (Some(h), Some(hint)) => Some(format!("{h} — {hint}")),
        (h, hint) => h.or(hint),
    };
    if let Value::Object(map) = &mut entry {
        map.insert("label".into(), json!(field.label.fa));
        map.insert("required".into(), json!(field.required));
        map.insert("help".into(), json!(help));
        map.insert(
            "condition".into(),
            json!(field.show_if.as_ref().and_then(|c| condition(form, c))),
        );
    }
    entry
}

/// The data `templates/form.typ` reads.
pub fn form_data(print: &FormPrint<'_>) -> Value {
    let form = print.form;
    json!({
        "title": form.title.fa,
        "issuer": issuer(print.agency_name, print.province_name),
        "facts": [
            ["نسخه", fa(print.version)],
            ["تاریخ چاپ", print.printed_on],
        ],
        "description": form.description.as_ref().map(|d| d.fa.clone()),
        "instructions": "با خودکار و خوانا بنویسید؛ هر رقم در یک خانه، از چپ به راست. خانه‌های ستاره‌دار (*) را حتماً پر کنید. این فرم را برخط هم می‌توانید در پیشخوان پر کنید.",
        "sections": form.sections.iter().map(|s| json!({
            "title": s.title.fa,
            "help": s.help.as_ref().map(|h| h.fa.clone()),
            "fields": s.fields.iter().map(|f| field(form, f)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "signature_word": "نام و امضای متقاضی",
        "date_word": "تاریخ",
        // The form's code is an identifier: isolated left to right, in the footer only.
        "footer": format!("پیشخوان — {} — فرم \u{2066}{}\u{2069} نسخهٔ {}", print.agency_name, form.code, fa(print.version)),
    })
}

fn channel(channel: Channel) -> &'static str {
    match channel {
        Channel::Online => "برخط (اینترنتی)",
        Channel::Centre => "دفاتر پیشخوان خدمات",
        Channel::AgencyOffice => "ادارهٔ دستگاه",
    }
}

fn money(rials: i64) -> String {
    Rials(rials).format_rials(Language::Persian)
}

/// The data `templates/card.typ` reads.
pub fn card_data(print: &CardPrint<'_>) -> Value {
    let card = print.card;
    let audience: Vec<&str> = card
        .audience
        .iter()
        .map(|a| match a {
            Audience::Citizen => "شهروندان",
            Audience::Business => "کسب‌وکارها",
        })
        .collect();
    let mut about = vec![
        json!(["دسته", card.category.name_fa()]),
        json!(["برای", audience.join(" و ")]),
        json!([
            "زمان انجام",
            format!("{} روز کاری", fa(card.processing_days))
        ]),
        json!(["مراجعهٔ حضوری", format!("{} بار", fa(card.visits_in_person))]),
        json!(["نتیجه", card.output.fa]),
    ];
    if let Some(unit) = &card.deciding_unit {
        about.push(json!(["مرجع تصمیم", unit.fa]));
    }
    let mut sections = vec![
        json!({
            "title": "کجا و چگونه درخواست دهید",
            "kind": "list",
            "items": card.channels.iter().map(|c| {
                let mut line = channel(c.channel).to_owned();
                if !c.complete {
                    line.push_str(" (بخشی از کار)");
                }
                if let Some(note) = &c.note {
                    line.push_str(" — ");
                    line.push_str(&note.fa);
                }
                line
            }).collect::<Vec<_>>(),
        }),
        json!({
            "title": "مراحل",
            "kind": "table",
            "columns": ["auto", "auto", "1fr", "auto"],
            "head": ["#", "چه کسی", "چه کاری", "زمان"],
            "rows": card.steps.iter().enumerate().map(|(i, s)| json!([
                fa(i + 1),
                s.who.fa,
                s.what.fa,
                s.days.map(|d| format!("{} روز کاری", fa(d))).unwrap_or_else(|| "—".into()),
            ])).collect::<Vec<_>>(),
            "total": Value::Null,
        }),
        json!({
            "title": "مدارک لازم",
            "kind": "table",
            "columns": ["auto", "1fr", "auto", "auto"],
            "head": ["#", "مدرک", "اصل", "رونوشت"],
            "rows": card.documents.iter().enumerate().map(|(i, d)| {
                let mut name = d.name.fa.clone();
                if let Some(note) = &d.note {
                    name.push_str(" — ");
                    name.push_str(&note.fa);
                }
                json!([fa(i + 1), name, if d.original { "بله" } else { "خیر" }, fa(d.copies)])
            }).collect::<Vec<_>>(),
            "total": Value::Null,
        }),
    ];
    if !card.fees.is_empty() {
        sections.push(json!({
            "title": "هزینه‌ها",
            "kind": "table",
            "columns": ["1fr", "auto", "auto"],
            "head": ["بابت", "مبلغ", "دریافت‌کننده"],
            "rows": card.fees.iter().map(|f| json!([
                f.title.fa,
                if f.rials > 0 { money(f.rials) } else { "اعلام نشده".to_owned() },
                f.collector.fa,
            ])).collect::<Vec<_>>(),
            "total": if card.has_unannounced_fee() {
                format!("جمع: {} (بدون هزینه‌هایی که مبلغشان اعلام نشده است)", money(card.total_fee()))
            } else {
                format!("جمع: {}", money(card.total_fee()))
            },
        }));
    }
    if !card.forms.is_empty() {
        sections.push(json!({
            "title": "فرم‌ها",
            "kind": "list",
            "items": card.forms.iter().map(|f| {
                print.form_titles.iter().find(|(code, _)| code == &f.code)
                    .map(|(_, t)| t.clone()).unwrap_or_default()
            }).collect::<Vec<_>>(),
        }));
    }
    let mut contact = Vec::new();
    if let Some(a) = &card.contact.address {
        contact.push(format!("نشانی: {}", a.fa));
    }
    if let Some(p) = &card.contact.phone {
        contact.push(format!("تلفن: {}", fa(p)));
    }
    if let Some(e) = &card.contact.email {
        contact.push(format!("رایانامه: {e}"));
    }
    if let Some(h) = &card.contact.hours {
        contact.push(format!("ساعت کار: {}", h.fa));
    }
    if !contact.is_empty() {
        sections.push(json!({"title": "تماس", "kind": "list", "items": contact}));
    }
    for (title, text) in [
        ("مبنای قانونی", &card.legal_basis),
        ("اگر به نتیجه اعتراض دارید", &card.redress),
        ("اگر پاسخی نگرفتید", &card.on_no_answer),
    ] {
        if let Some(text) = text {
            sections.push(json!({"title": title, "kind": "text", "text": text.fa}));
        }
    }
    json!({
        "title": card.title.fa,
        "issuer": issuer(print.agency_name, print.province_name),
        "facts": [
            ["نسخه", fa(print.version)],
            ["به‌روزرسانی", print.updated_on],
            ["تاریخ چاپ", print.printed_on],
        ],
        "summary": card.summary.fa,
        "about": about,
        "sections": sections,
        "footer": format!("پیشخوان — شناسنامهٔ خدمت \u{2066}{}\u{2069} — {}", card.code, print.address),
    })
}

/// What a receipt prints: everything already in Persian.
pub struct ReceiptPrint<'a> {
    /// The tracking code in groups, Persian digits.
    pub code: &'a str,
    pub service_title: &'a str,
    pub agency_name: &'a str,
    pub province_name: Option<&'a str>,
    pub national_id: &'a str,
    /// Online, at which centre, or by which agency system.
    pub channel: &'a str,
    pub filed_on: &'a str,
    pub state: &'a str,
    pub deadline: Option<&'a str>,
    pub fee_rials: i64,
    /// (what it answers, file name) of each attached document.
    pub documents: &'a [(String, String)],
    /// Where to track it.
    pub track_address: &'a str,
    pub printed_on: &'a str,
    /// Filed at a service centre: who filed it where, and the centre's fee.
    pub counter: Option<CounterPrint<'a>>,
}

/// What a receipt printed at a centre adds: the centre (and where it is), the operator, the
/// centre's fee, and room for its stamp.
pub struct CounterPrint<'a> {
    pub centre: &'a str,
    /// Address and phone, as one line ("" when not known).
    pub place: &'a str,
    pub operator: &'a str,
    /// The centre's share of the fees (کارمزد), in rials; 0 when the card names none.
    pub fee_rials: i64,
}

/// The data of an application's receipt (the `Receipt` template).
pub fn receipt_data(print: &ReceiptPrint<'_>) -> Value {
    let mut about = vec![
        json!(["خدمت", print.service_title]),
        json!(["کد ملی متقاضی", fa(print.national_id)]),
        json!(["ثبت", print.channel]),
        json!(["زمان ثبت", print.filed_on]),
        json!(["وضعیت", print.state]),
    ];
    if let Some(deadline) = print.deadline {
        about.push(json!(["مهلت این مرحله", deadline]));
    }
    about.push(json!([
        "هزینه",
        if print.fee_rials > 0 {
            money(print.fee_rials)
        } else {
            "اعلام نشده".to_owned()
        }
    ]));
    if let Some(counter) = &print.counter {
        about.push(json!(["دفتر پیشخوان", counter.centre]));
        if !counter.place.is_empty() {
            about.push(json!(["نشانی دفتر", counter.place]));
        }
        about.push(json!(["کاربر دفتر", counter.operator]));
        about.push(json!([
            "کارمزد دفتر",
            if counter.fee_rials > 0 {
                money(counter.fee_rials)
            } else {
                "در شناسنامهٔ خدمت اعلام نشده".to_owned()
            }
        ]));
    }
    let documents: Vec<Value> = print
        .documents
        .iter()
        .enumerate()
        .map(|(i, (requirement, file))| {
            json!([
                fa(i + 1),
                if requirement.is_empty() {
                    "پیوست فرم"
                } else {
                    requirement.as_str()
                },
                file
            ])
        })
        .collect();
    let mut sections = Vec::new();
    if !documents.is_empty() {
        sections.push(json!({
            "title": "مدارک پیوست‌شده",
            "kind": "table",
            "columns": ["auto", "1fr", "auto"],
            "head": ["#", "مدرک", "پرونده"],
            "rows": documents,
            "total": Value::Null,
        }));
    }
    sections.push(json!({
        "title": "پیگیری",
        "kind": "text",
        "text": format!(
            "وضعیت درخواست را در {} با همین کد رهگیری و کد ملی متقاضی ببینید. هر مرحله‌ای که به شما مربوط باشد پیامک می‌شود.",
            print.track_address
        ),
    }));
    json!({
        "title": "رسید ثبت درخواست",
        "issuer": issuer(print.agency_name, print.province_name),
        "code": print.code,
        "facts": [
            ["تاریخ چاپ", print.printed_on],
        ],
        // Room for the centre's stamp and the operator's signature.
        "stamp": print.counter.is_some(),
        "summary": "درخواست شما ثبت و ذخیره شد. این رسید را نگه دارید.",
        "about": about,
        "sections": sections,
        // The code isolated left to right, so the groups keep their order inside Persian text.
        "footer": format!("پیشخوان — رسید درخواست \u{2066}{}\u{2069} — {}", print.code, print.track_address),
    })
}

/// What a centre's monthly statement prints: everything already in Persian.
pub struct StatementPrint<'a> {
    pub centre_name: &'a str,
    pub province_name: Option<&'a str>,
    /// `آذر ۱۴۰۵`
    pub month: &'a str,
    /// (when, what, reference, the share in rials) per posting, oldest first.
    pub lines: &'a [(String, String, String, i64)],
    pub total_rials: i64,
    pub printed_on: &'a str,
}

/// The data of a centre's monthly statement.
pub fn statement_data(print: &StatementPrint<'_>) -> Value {
    let rials = |r: i64| pishkhan_domain::Rials(r).format_rials(pishkhan_domain::Language::Persian);
    json!({
        "title": format!("صورت‌حساب سهم دفتر — {}", print.month),
        "issuer": issuer(print.centre_name, print.province_name),
        "facts": [
            ["ماه", print.month],
            ["جمع سهم", rials(print.total_rials)],
            ["تاریخ چاپ", print.printed_on],
        ],
        "summary": format!(
            "سهم {} از هزینهٔ خدمت‌هایی که در {} در این دفتر پرداخت شده است، پرداخت به پرداخت، از دفتر حساب پیشخوان.",
            print.centre_name, print.month
        ),
        "about": [],
        "sections": [{
            "title": "سهم‌ها",
            "kind": "table",
            "columns": ["auto", "auto", "1fr", "auto", "auto"],
            "head": ["#", "زمان", "بابت", "مرجع", "سهم"],
            "rows": print.lines.iter().enumerate().map(|(i, (at, memo, reference, r))| json!([
                fa(i + 1), at, memo, format!("\u{2066}{reference}\u{2069}"), rials(*r),
            ])).collect::<Vec<_>>(),
            "total": format!("جمع: {}", rials(print.total_rials)),
        }],
        "footer": format!("پیشخوان — صورت‌حساب ماهانهٔ {} — {}", print.centre_name, print.month),
    })
}

/// What a payment's receipt prints: everything already in Persian.
pub struct PaymentReceiptPrint<'a> {
    pub number: &'a str,
    /// Who took it: the centre, or the online gateway.
    pub centre_name: &'a str,
    /// Taken at a counter: room for its stamp and the operator's signature.
    pub at_counter: bool,
    /// (label, value) lines: what it was for, the bill's IDs, the payee, the method …
    pub about: &'a [(String, String)],
    pub total_rials: i64,
    pub paid_on: &'a str,
}

/// The data of a payment's receipt.
pub fn payment_receipt_data(print: &PaymentReceiptPrint<'_>) -> Value {
    let total =
        pishkhan_domain::Rials(print.total_rials).format_rials(pishkhan_domain::Language::Persian);
    json!({
        "title": "رسید پرداخت",
        "issuer": print.centre_name,
        "facts": [
            ["شمارهٔ پرداخت", format!("\u{2066}{}\u{2069}", print.number)],
            ["مبلغ", total],
            ["زمان", print.paid_on],
        ],
        "summary": format!("مبلغ {total} در {} دریافت شد.", print.centre_name),
        "about": print.about.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "sections": [],
        "stamp": print.at_counter,
        "footer": format!("پیشخوان — رسید پرداخت \u{2066}{}\u{2069}", print.number),
    })
}
