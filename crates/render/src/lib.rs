//! Pishkhan's render layer: printable PDFs through typst, used as a library, with the Vazirmatn
//! font built in (OFL, `fonts/OFL.txt`).
//!
//! Each document is a fixed typst template (`templates/`) and a JSON file of data the template
//! reads with `json("/data.json")`: texts never pass through typst markup, so a card or form
//! cannot inject markup, and the template stays one reviewed file. The Rust side writes every
//! text already in Persian (digits, money, Jalali dates); the template only lays it out.

mod output;
mod print;

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

pub use output::{
    OutputPrint, TemplateProblem, check_output_template, output_data, qr_svg, render_output,
    sample_output,
};
pub use print::{
    CardPrint, CounterPrint, FormPrint, PaymentReceiptPrint, ReceiptPrint, StatementPrint,
    card_data, form_data, payment_receipt_data, receipt_data, statement_data,
};

static FONT_FILES: [&[u8]; 2] = [
    include_bytes!("../fonts/Vazirmatn-Regular.ttf"),
    include_bytes!("../fonts/Vazirmatn-Bold.ttf"),
];

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> Option<FileId> {
    VirtualPath::new(path)
        .ok()
        .map(|vpath| RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The printed documents Pishkhan makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A blank form to fill by hand.
    Form,
    /// A service card.
    Card,
    /// The receipt of a filed application.
    Receipt,
    /// A centre's monthly statement of the shares it earned.
    Statement,
    /// The receipt of a payment taken at a counter.
    PaymentReceipt,
}

/// A template's source: the shared part, then the document's own.
fn template(path: &str, own: &str) -> Option<Source> {
    file_id(path).map(|id| Source::new(id, [include_str!("../templates/common.typ"), own].concat()))
}

static FORM_SOURCE: LazyLock<Option<Source>> =
    LazyLock::new(|| template("/form.typ", include_str!("../templates/form.typ")));

static CARD_SOURCE: LazyLock<Option<Source>> =
    LazyLock::new(|| template("/card.typ", include_str!("../templates/card.typ")));

static RECEIPT_SOURCE: LazyLock<Option<Source>> =
    LazyLock::new(|| template("/receipt.typ", include_str!("../templates/receipt.typ")));

static PAYMENT_RECEIPT_SOURCE: LazyLock<Option<Source>> = LazyLock::new(|| {
    template(
        "/payment_receipt.typ",
        include_str!("../templates/payment_receipt.typ"),
    )
});

static STATEMENT_SOURCE: LazyLock<Option<Source>> =
    LazyLock::new(|| template("/statement.typ", include_str!("../templates/statement.typ")));

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the template could not be loaded")]
    Template,
    #[error("the document could not be typeset: {0}")]
    Typeset(String),
    #[error("the data could not be written: {0}")]
    Data(#[from] serde_json::Error),
}

fn messages(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One document being compiled: its template and its data.
struct PrintWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl World for PrintWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(
                id.vpath().get_with_slash().to_string().into(),
            ))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::NotFound(
                id.vpath().get_with_slash().to_string().into(),
            ))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        // Dates are written by the caller, in the Jalali calendar.
        None
    }
}

/// Typesets `template` with `data` (the JSON the template reads) into a PDF.
pub fn render(template: Template, data: &serde_json::Value) -> Result<Vec<u8>, RenderError> {
    let source = match template {
        Template::Form => FORM_SOURCE.as_ref(),
        Template::Card => CARD_SOURCE.as_ref(),
        Template::Receipt => RECEIPT_SOURCE.as_ref(),
        Template::Statement => STATEMENT_SOURCE.as_ref(),
        Template::PaymentReceipt => PAYMENT_RECEIPT_SOURCE.as_ref(),
    }
    .ok_or(RenderError::Template)?;
    typeset(source.clone(), data).map_err(|(error, _)| error)
}

/// Compiles `main` with `data` into a PDF; on an error, also the first error's line in `main`
/// (counted from 1), when it has one.
fn typeset(
    main: Source,
    data: &serde_json::Value,
) -> Result<Vec<u8>, (RenderError, Option<usize>)> {
    let world = PrintWorld {
        main,
        data_id: file_id("/data.json").ok_or((RenderError::Template, None))?,
        data: Bytes::new(serde_json::to_vec(data).map_err(|e| (e.into(), None))?),
    };
    let line_of = |errors: &[SourceDiagnostic]| {
        errors.iter().find_map(|e| {
            let range = typst::WorldExt::range(&world, e.span)?;
            world.main.lines().byte_to_line(range.start).map(|l| l + 1)
        })
    };
    let document: typst_layout::PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| (RenderError::Typeset(messages(&errors)), line_of(&errors)))?;
    let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|errors| (RenderError::Typeset(messages(&errors)), line_of(&errors)))?;
    // typst memoizes across compilations; keep what recent documents used, drop the rest, so
    // memory stays flat however many documents a node prints.
    typst::comemo::evict(10);
    Ok(pdf)
}

/// Text in the form used to compare what a PDF says with what it should say, whatever tool
/// extracted it: folded the Persian way (letters, diacritics, bidi controls), letters only
/// (extractors move spaces and ZWNJ around joined letters, and write digit runs inside
/// right-to-left text in visual order: `۳×۴` comes back as `4×3`), and the lam-alef ligature in
/// one order (extractors that reverse right-to-left text write it back to front).
pub fn comparable(text: &str) -> String {
    pishkhan_domain::text::fold(text)
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect::<String>()
        .replace("لا", "ال")
}
