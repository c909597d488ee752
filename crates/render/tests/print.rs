#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Printed documents, checked with poppler as the oracle: `pdftotext` must read back the Persian
//! texts (so the shaping and order are right, not just pixels), and one page of each kind of
//! document is compared as an image with a reviewed snapshot (`tests/snapshots/*.pgm`).
//!
//! `PISHKHAN_UPDATE_SNAPSHOTS=1 cargo test -p pishkhan-render` writes new snapshots; look at them
//! (`pdftoppm -png`) before committing.

use std::path::{Path, PathBuf};
use std::process::Command;

use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::FormSchema;
use pishkhan_render::{
    CardPrint, FormPrint, ReceiptPrint, Template, card_data, comparable, form_data, receipt_data,
    render,
};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn tools_present() -> bool {
    let present = Command::new("pdftotext").arg("-v").output().is_ok()
        && Command::new("pdftoppm").arg("-v").output().is_ok();
    if !present {
        assert!(
            std::env::var_os("PISHKHAN_TEST_REQUIRE_ORACLES").is_none(),
            "pdftotext/pdftoppm (poppler-utils) are required"
        );
        eprintln!("skipped: poppler-utils not installed");
    }
    present
}

fn write_temp(pdf: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join(name);
    std::fs::write(&path, pdf).unwrap_or_else(|e| panic!("{e}"));
    (dir, path)
}

/// The text poppler reads from the PDF, made [`comparable`].
fn text_of(pdf: &[u8]) -> String {
    let (_dir, path) = write_temp(pdf, "doc.pdf");
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext: {e}"));
    assert!(out.status.success(), "pdftotext failed");
    comparable(&String::from_utf8_lossy(&out.stdout))
}

/// Does the extracted (comparable) text hold `expected`?
fn holds(text: &str, expected: &str) -> bool {
    text.contains(&comparable(expected))
}

fn pages(pdf: &[u8]) -> usize {
    text_of(pdf); // checks the PDF opens
    let (_dir, path) = write_temp(pdf, "doc.pdf");
    let out = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("pdfinfo: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn every_kind() -> FormSchema {
    fixture("every-kind.json")
}

/// Keeps a copy of a rendered PDF in `PISHKHAN_PRINT_DIR`, when set, for a person to look at.
fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("PISHKHAN_PRINT_DIR") {
        std::fs::write(Path::new(&dir).join(name), pdf).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn form_pdf(form: &FormSchema) -> Vec<u8> {
    let data = form_data(&FormPrint {
        form,
        version: 3,
        agency_name: "ادارهٔ کل آزمون",
        province_name: Some("استان تهران"),
        printed_on: "۸ آذر ۱۴۰۵",
    });
    let pdf = render(Template::Form, &data).unwrap_or_else(|e| panic!("{e}"));
    keep(&format!("{}.pdf", form.code), &pdf);
    pdf
}

fn card_pdf(card: &ServiceCard) -> Vec<u8> {
    let data = card_data(&CardPrint {
        card,
        version: 2,
        agency_name: "پلیس راهنمایی و رانندگی تهران",
        province_name: Some("استان تهران"),
        updated_on: "۱ آذر ۱۴۰۵",
        printed_on: "۸ آذر ۱۴۰۵",
        form_titles: &[(
            "tehran.driving-licence-renewal".to_owned(),
            "فرم درخواست تمدید گواهینامهٔ رانندگی".to_owned(),
        )],
        address: "https://pishkhan.example/services/tehran.driving-licence-renewal",
    });
    let pdf = render(Template::Card, &data).unwrap_or_else(|e| panic!("{e}"));
    keep(&format!("{}.card.pdf", card.code), &pdf);
    pdf
}

#[test]
fn a_form_prints_its_title_labels_and_origin() {
    let form = every_kind();
    let pdf = form_pdf(&form);
    assert!(pdf.starts_with(b"%PDF-"));
    if !tools_present() {
        return;
    }
    let text = text_of(&pdf);
    assert!(holds(&text, &form.title.fa), "title missing in: {text}");
    for field in form.fields() {
        assert!(
            holds(&text, &field.label.fa),
            "label {} missing in: {text}",
            field.label.fa
        );
    }
    for expected in [
        "ادارهٔ کل آزمون",
        "test.every-kind",
        "نسخه",
        "آذر",
        "کد ملی ۱۰ رقمی",
        "سال",
        "ماه",
        "روز",
        "صدور",
        "تمدید",
        "فقط اگر «نوع درخواست»: تمدید",
        "صفحهٔ",
    ] {
        assert!(holds(&text, expected), "{expected:?} missing in: {text}");
    }
}

#[test]
fn a_card_prints_steps_documents_and_fees() {
    let card: ServiceCard = fixture("driving-licence-renewal.card.json");
    let pdf = card_pdf(&card);
    if !tools_present() {
        return;
    }
    let text = text_of(&pdf);
    assert!(holds(&text, &card.title.fa), "title missing in: {text}");
    for step in &card.steps {
        let first_words: String = step
            .what
            .fa
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            holds(&text, &first_words),
            "step {first_words:?} missing in: {text}"
        );
    }
    for doc in &card.documents {
        let first_words: String = doc
            .name
            .fa
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            holds(&text, &first_words),
            "document {first_words:?} missing in: {text}"
        );
    }
    assert!(holds(&text, "جمع:"), "fee total missing in: {text}");
    // The fixture lists a fee without its amount: the total says it leaves it out.
    assert!(
        holds(&text, "بدون هزینه‌هایی که مبلغشان اعلام نشده است"),
        "partial total not said in: {text}"
    );
    assert!(holds(&text, "tehran.driving-licence-renewal"));
}

#[test]
fn a_long_form_flows_onto_more_pages() {
    let mut form = every_kind();
    let section = form.sections[1].clone();
    for i in 0..6 {
        let mut more = section.clone();
        more.id = format!("more{i}");
        for field in &mut more.fields {
            field.id = format!("{}_{i}", field.id);
            field.show_if = None;
        }
        form.sections.push(more);
    }
    let pdf = form_pdf(&form);
    if !tools_present() {
        return;
    }
    let n = pages(&pdf);
    assert!(n >= 2, "expected several pages, got {n}");
    // Every page says which page it is, of how many.
    let (_dir, path) = write_temp(&pdf, "doc.pdf");
    let out = Command::new("pdftotext")
        .args(["-f", "2", "-l", "2"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext: {e}"));
    let page_two = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(holds(&comparable(&page_two), "صفحهٔ"), "{page_two}");
    assert!(page_two.contains('۲'), "{page_two}");
    assert!(
        page_two.contains(&pishkhan_domain::text::to_persian_digits(&n.to_string())),
        "{page_two}"
    );
}

/// A grey-scale image of page 1 at 40 dpi (PGM: header, then one byte a pixel).
fn page_image(pdf: &[u8]) -> (usize, usize, Vec<u8>) {
    let (dir, path) = write_temp(pdf, "doc.pdf");
    let out = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-gray", "-r", "40", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("pdftoppm: {e}"));
    assert!(status.success());
    let bytes = std::fs::read(out.with_extension("pgm")).unwrap_or_else(|e| panic!("{e}"));
    parse_pgm(&bytes)
}

fn parse_pgm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    // "P5\n<w> <h>\n255\n" then pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    at += 1;
    assert_eq!(fields[0], "P5");
    let w: usize = fields[1].parse().unwrap_or(0);
    let h: usize = fields[2].parse().unwrap_or(0);
    (w, h, bytes[at..].to_vec())
}

/// Compares page 1 with the stored snapshot: the same size, and at most 0.5% of pixels differing
/// by more than a quarter of the grey range (anti-aliasing may move; a box, a line of text or
/// a table may not).
fn check_snapshot(name: &str, pdf: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.pgm"));
    let (w, h, pixels) = page_image(pdf);
    if std::env::var_os("PISHKHAN_UPDATE_SNAPSHOTS").is_some() {
        let mut out = format!("P5\n{w} {h}\n255\n").into_bytes();
        out.extend_from_slice(&pixels);
        std::fs::write(&path, out).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let stored = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{path:?}: {e} (PISHKHAN_UPDATE_SNAPSHOTS=1 writes it; review it first)")
    });
    let (sw, sh, expected) = parse_pgm(&stored);
    assert_eq!((w, h), (sw, sh), "{name}: page size changed");
    let differing = pixels
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a.abs_diff(**b) > 64)
        .count();
    let share = differing as f64 / pixels.len() as f64;
    assert!(
        share <= 0.005,
        "{name}: {differing} pixels ({:.2}%) differ from {path:?}",
        share * 100.0
    );
}

fn receipt_pdf() -> Vec<u8> {
    let documents = vec![
        ("گواهی‌نامهٔ قبلی".to_owned(), "licence.pdf".to_owned()),
        (String::new(), "medical.pdf".to_owned()),
    ];
    let pdf = render(
        Template::Receipt,
        &receipt_data(&ReceiptPrint {
            code: "۱۲۳۴-۵۶۷۸-۹۰۱",
            service_title: "تمدید گواهی‌نامهٔ رانندگی",
            agency_name: "پلیس راهور تهران",
            province_name: Some("تهران"),
            national_id: "0076229645",
            channel: "در دفتر پیشخوان شمارهٔ ۱۰۰۱",
            filed_on: "۱۵ آبان ۱۴۰۴، ساعت ۱۰:۳۰",
            state: "ثبت شد؛ در نوبت بررسی",
            deadline: Some("۱۷ آبان ۱۴۰۴"),
            fee_rials: 1_250_000,
            documents: &documents,
            track_address: "https://pishkhan.example/track",
            printed_on: "۱۵ آبان ۱۴۰۴",
            counter: Some(pishkhan_render::CounterPrint {
                centre: "دفتر پیشخوان دولت ۱۰۰۱ (میدان انقلاب)",
                place: "تهران، خیابان انقلاب، پلاک ۴۱۲ — ۰۲۱-۶۶۴۰۱۰۰۱",
                operator: "زهرا کریمی",
                fee_rials: 180_000,
            }),
        }),
    )
    .unwrap();
    keep("receipt", &pdf);
    pdf
}

#[test]
fn a_receipt_prints_the_tracking_code_and_what_was_filed() {
    let pdf = receipt_pdf();
    if !tools_present() {
        return;
    }
    let text = text_of(&pdf);
    for expected in [
        "رسید ثبت درخواست",
        "کد رهگیری",
        "تمدید گواهی‌نامهٔ رانندگی",
        "در دفتر پیشخوان",
        "ثبت شد؛ در نوبت بررسی",
        "licence.pdf",
        "https://pishkhan.example/track",
        // At a centre: the centre, where it is, the operator, its fee, room for its stamp.
        "دفتر پیشخوان دولت ۱۰۰۱",
        "خیابان انقلاب",
        "زهرا کریمی",
        "کارمزد دفتر",
        "مهر دفتر پیشخوان",
    ] {
        assert!(holds(&text, expected), "{expected:?} missing in: {text}");
    }
    // The code reads left to right, in its groups.
    assert!(holds(&text, "۱۲۳۴-۵۶۷۸-۹۰۱"), "code missing in: {text}");
}

#[test]
fn each_kind_of_document_looks_as_reviewed() {
    if !tools_present() {
        return;
    }
    check_snapshot("form-every-kind", &form_pdf(&every_kind()));
    let card: ServiceCard = fixture("driving-licence-renewal.card.json");
    check_snapshot("card-driving-licence-renewal", &card_pdf(&card));
    check_snapshot("receipt", &receipt_pdf());
}

#[test]
fn a_snapshot_check_notices_a_changed_page() {
    if !tools_present() {
        return;
    }
    // The card's image is not the form's: the comparison can fail.
    let (_, _, form) = page_image(&form_pdf(&every_kind()));
    let card: ServiceCard = fixture("driving-licence-renewal.card.json");
    let (_, _, card) = page_image(&card_pdf(&card));
    let differing = form
        .iter()
        .zip(&card)
        .filter(|(a, b)| a.abs_diff(**b) > 64)
        .count();
    assert!(differing as f64 / form.len() as f64 > 0.005);
}
