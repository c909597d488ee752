//! An issued output as a PDF: the card's own template (typst, kept with the card's version) or
//! the standard one, after the shared part every printed document has. The data is JSON, so a
//! holder's name or a clerk's note is never read as markup, whatever template prints it.

use std::sync::LazyLock;

use pishkhan_domain::text::to_persian_digits;
use serde_json::{Value, json};
use typst::syntax::Source;

use crate::{RenderError, file_id, typeset};

const COMMON: &str = include_str!("../templates/common.typ");
const STANDARD: &str = include_str!("../templates/output.typ");

/// Lines the shared part takes before a template's own first line.
static COMMON_LINES: LazyLock<usize> = LazyLock::new(|| COMMON.lines().count());

/// What an output prints: everything already in Persian, except the codes.
pub struct OutputPrint<'a> {
    /// What it is: the card's output ("پروانهٔ ساختمان").
    pub title: &'a str,
    pub service_title: &'a str,
    pub agency_name: &'a str,
    pub province_name: Option<&'a str>,
    /// The output's number, as printed (ASCII digits are turned Persian).
    pub number: &'a str,
    pub holder_name: &'a str,
    /// The holder's national ID (on the holder's own copy, in full).
    pub national_id: &'a str,
    pub issued_on: &'a str,
    /// The last day it holds, when it has a validity period.
    pub valid_until: Option<&'a str>,
    /// The application it answers (tracking code, grouped).
    pub application: &'a str,
    /// (label, value) of what the person filed and what the workflow recorded.
    pub fields: &'a [(String, String)],
    /// The code to type at the verify page, `XXXX-XXXX-XXXX`.
    pub code: &'a str,
    /// What the QR code holds: the verify page's address with the signed payload.
    pub qr_text: &'a str,
    /// The verify page's address, as people type it.
    pub verify_address: &'a str,
}

fn fa(text: &str) -> String {
    to_persian_digits(text)
}

/// A code or number in Persian digits, isolated left to right: its groups keep their order in
/// right-to-left text.
fn ltr(text: &str) -> String {
    format!("\u{2066}{}\u{2069}", fa(text))
}

/// A value written down in a workflow step, as printed: Persian digits; a value without Persian
/// or Arabic letters (a phone number `+98…`, a code, a number with separators) isolated left to
/// right, so a leading `+` or a Latin code stays where it was written.
fn field_value(text: &str) -> String {
    let rtl = text.chars().any(|c| {
        c.is_alphabetic() && matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FEFC}')
    });
    if rtl { fa(text) } else { ltr(text) }
}

/// A QR code of `text`, as an SVG document (medium error correction: a printed, folded or
/// photocopied code still reads).
pub fn qr_svg(text: &str) -> Result<String, RenderError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| RenderError::Typeset(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(200, 200)
        .build())
}

/// The data an output template reads (`d` in the template). The fields a template may use are
/// those of [`sample_output`], which every template is checked against.
pub fn output_data(print: &OutputPrint<'_>) -> Result<Value, RenderError> {
    let issuer = crate::print::issuer(print.agency_name, print.province_name);
    let mut facts = vec![
        json!(["شماره", ltr(print.number)]),
        json!(["تاریخ صدور", print.issued_on]),
    ];
    facts.push(json!([
        "اعتبار",
        match print.valid_until {
            Some(until) => format!("تا {until}"),
            None => "بدون تاریخ انقضا".to_owned(),
        }
    ]));
    Ok(json!({
        "title": print.title,
        "issuer": issuer,
        "facts": facts,
        "statement": format!(
            "این {} برای درخواست «{}» به نام دارندهٔ زیر صادر شده است.",
            print.title, print.service_title
        ),
        "about": [
            ["دارنده", print.holder_name],
            ["کد ملی", ltr(print.national_id)],
            ["شمارهٔ خروجی", ltr(print.number)],
            ["تاریخ صدور", print.issued_on],
            ["معتبر تا", print.valid_until.unwrap_or("بدون تاریخ انقضا")],
            ["کد رهگیری درخواست", ltr(print.application)],
        ],
        "holder_name": print.holder_name,
        "national_id": ltr(print.national_id),
        "number": ltr(print.number),
        "issued_on": print.issued_on,
        "valid_until": print.valid_until,
        "fields_title": "آنچه در پرونده ثبت شد",
        "fields": print
            .fields
            .iter()
            .map(|(l, v)| json!([l, field_value(v)]))
            .collect::<Vec<_>>(),
        "qr": qr_svg(print.qr_text)?,
        "code": print.code,
        "code_word": "کد تصدیق",
        "how_to_verify": format!(
            "درستی این سند را هر کسی می‌تواند بسنجد: رمزینهٔ کنار را با دوربین گوشی بخوانید، یا کد تصدیق را در {} بنویسید. رمزینه امضای دیجیتال استان را دارد و بی‌اینترنت هم سنجیده می‌شود؛ هر تغییری در آن امضا را باطل می‌کند.",
            print.verify_address
        ),
        // Codes isolated left to right, so their characters keep their order in Persian text.
        "footer": format!(
            "پیشخوان — {} \u{2066}{}\u{2069} — کد تصدیق \u{2066}{}\u{2069} — {}",
            print.title, print.number, print.code, print.verify_address
        ),
    }))
}

/// An output with made-up but well-formed data: what a template is checked against on save.
pub fn sample_output() -> Result<Value, RenderError> {
    let fields = [(
        "نام و نام خانوادگی دارنده".to_owned(),
        "مریم احمدی".to_owned(),
    )];
    output_data(&OutputPrint {
        title: "گواهی نمونه",
        service_title: "خدمت نمونه",
        agency_name: "دستگاه نمونه",
        province_name: Some("استان تهران"),
        number: "1405-000000-1",
        holder_name: "مریم احمدی",
        national_id: "0082451291",
        issued_on: "۱۲ آذر ۱۴۰۵",
        valid_until: Some("۱۲ آذر ۱۴۰۶"),
        application: "۱۲۳۴ ۵۶۷۸ ۹۰۱۲",
        fields: &fields,
        code: "ABCD-EFGH-JKMN",
        qr_text: "https://pishkhan.example/verify?p=PK1.sample",
        verify_address: "pishkhan.example/verify",
    })
}

fn source(body: Option<&str>) -> Result<Source, RenderError> {
    let id = file_id("/output.typ").ok_or(RenderError::Template)?;
    Ok(Source::new(id, [COMMON, body.unwrap_or(STANDARD)].concat()))
}

/// Typesets an output with the card's template body (`None`: the standard one).
pub fn render_output(body: Option<&str>, data: &Value) -> Result<Vec<u8>, RenderError> {
    typeset(source(body)?, data).map_err(|(error, _)| error)
}

/// Why a template was refused, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// The line of the template's own text (from 1), when typst names one.
    pub line: Option<usize>,
    pub message: String,
}

/// Typesets a sample output with the template body: refused, with the line, if it does not.
pub fn check_output_template(body: &str) -> Result<(), TemplateProblem> {
    let source = source(Some(body)).map_err(|e| TemplateProblem {
        line: None,
        message: e.to_string(),
    })?;
    let sample = sample_output().map_err(|e| TemplateProblem {
        line: None,
        message: e.to_string(),
    })?;
    match typeset(source, &sample) {
        Ok(_) => Ok(()),
        Err((error, line)) => Err(TemplateProblem {
            // A line inside the shared part means the template used it wrongly: say its first.
            line: line.map(|l| l.saturating_sub(*COMMON_LINES).max(1)),
            message: match error {
                RenderError::Typeset(m) => m,
                other => other.to_string(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_template_passes_its_own_check() {
        check_output_template(STANDARD).unwrap();
    }

    #[test]
    fn a_template_with_an_error_is_refused_with_its_line() {
        let body = "#header()\n\nخط دوم\n#let x = (\n";
        let problem = check_output_template(body).unwrap_err();
        assert_eq!(problem.line, Some(4), "{problem:?}");
        let unknown = "#header()\n#d.no_such_field\n";
        let problem = check_output_template(unknown).unwrap_err();
        assert_eq!(problem.line, Some(2), "{problem:?}");
        assert!(problem.message.contains("no_such_field"), "{problem:?}");
    }

    #[test]
    fn a_value_without_persian_letters_keeps_its_order_in_persian_text() {
        // The phone number's "+" stays in front of it (left), not at its end.
        assert_eq!(
            field_value("+989121234567"),
            "\u{2066}+۹۸۹۱۲۱۲۳۴۵۶۷\u{2069}"
        );
        assert_eq!(field_value("AB-12"), "\u{2066}AB-۱۲\u{2069}");
        assert_eq!(field_value("۴۵۰٬۰۰۰٬۰۰۰"), "\u{2066}۴۵۰٬۰۰۰٬۰۰۰\u{2069}");
        // Persian text stays as written, with Persian digits.
        assert_eq!(field_value("زمین 200 متری"), "زمین ۲۰۰ متری");
    }

    #[test]
    fn a_template_cannot_read_files() {
        let body = "#read(\"/etc/passwd\")\n";
        let problem = check_output_template(body).unwrap_err();
        assert_eq!(problem.line, Some(1));
    }
}
