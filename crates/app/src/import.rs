//! Importing the catalogue from the files agencies hand in: JSON, CSV or XLSX (one row per
//! service, in the template's columns). Everything is checked first; then all of it is published
//! in one transaction, or nothing is. Rows that say what is already published change nothing, so
//! importing the same file twice is a no-op.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::Utc;
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::catalog_table::{COLUMNS, card_from_row, row_from_card};
use pishkhan_domain::forms::FormSchema;
use pishkhan_domain::text::to_persian_digits;
use pishkhan_store::{DocKind, SaveVersionError, ServiceFilter, StoreError};
use serde::Deserialize;

use crate::App;
use crate::audit::Actor;
use crate::catalog::CatalogError;

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Services in the file.
    pub rows: usize,
    /// Published now (new, or a new version).
    pub published: usize,
    /// Already published exactly so.
    pub unchanged: usize,
    /// Forms published from a JSON file.
    pub forms: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error("the file has {} problem(s); nothing was imported", .0.len())]
    Invalid(Vec<Problem>),
    /// Larger than a catalogue can be (rows, columns, unzipped size): refused before reading.
    #[error("{}", .0.en)]
    TooBig(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file kept between the preview and the confirmation could not be written or read.
    #[error(transparent)]
    Staging(#[from] crate::documents::DocumentStoreError),
}

/// Where a previewed file waits for its confirmation: under the admin's own folder (so another
/// person's token finds nothing), removed on confirmation or by the start-up sweep once stale.
fn staged_key(actor: &Actor, token: &str) -> Option<String> {
    let well_formed = !token.is_empty()
        && token.len() <= 64
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    well_formed.then(|| {
        format!(
            "{STAGED_PREFIX}{}/{token}",
            &pishkhan_domain::digest::sha256_hex(actor.id.as_bytes())[..16]
        )
    })
}

/// The folder of the documents store that holds previewed files.
pub const STAGED_PREFIX: &str = "imports/";

/// What importing a file would do ([`App::preview_catalogue_as`]).
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub rows: Vec<PlannedRow>,
    /// Forms in a JSON file: (code, version).
    pub forms: Vec<(String, u32)>,
}

/// One service of the file and what importing it would do.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    /// Its row in the file (its place in a JSON file's list).
    pub line: usize,
    pub code: String,
    pub title: String,
    pub change: PlannedChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedChange {
    /// Not published yet: added.
    New,
    /// Published otherwise: these fields (in Persian) change.
    Changed(Vec<String>),
    /// Published exactly so: nothing happens.
    Unchanged,
}

/// A file read and checked, ready to publish.
struct Prepared {
    forms: Vec<JsonForm>,
    cards: Vec<(usize, ServiceCard)>,
}

/// A JSON import: forms (with their agency) and cards.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonImport {
    #[serde(default)]
    forms: Vec<JsonForm>,
    #[serde(default)]
    services: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonForm {
    agency: String,
    form: FormSchema,
}

/// A problem in one cell of the file: at its column, on its row (0: the file as a whole).
fn cell_error(row: usize, column: &str, fa: String, en: String) -> Problem {
    Problem::new("invalid_cell", fa, en)
        .at_named(column, pishkhan_domain::catalog::card_place_fa(column))
        .on_line(row)
}

/// The template as CSV: the header and one example row.
pub fn csv_template(example: &ServiceCard) -> Result<String, ImportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let unreadable = |e: csv::Error| ImportError::Unreadable(e.to_string());
    writer.write_record(COLUMNS).map_err(unreadable)?;
    writer
        .write_record(row_from_card(example))
        .map_err(unreadable)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    // A byte-order mark, so spreadsheet programs open the Persian text as UTF-8.
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// Rows of a table: the spreadsheet's row number, and column name → cell.
type Rows = Vec<(usize, BTreeMap<String, String>)>;

fn rows_from_csv(bytes: &[u8]) -> Result<Rows, ImportError> {
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ImportError::Unreadable("CSV must be UTF-8".into()))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Unreadable(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    check_headers(&headers)?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_ROWS {
            return Err(beyond_the_sheet(
                u32::try_from(i + 2).unwrap_or(u32::MAX),
                u32::try_from(headers.len()).unwrap_or(u32::MAX),
            ));
        }
        let record = record.map_err(|e| ImportError::Unreadable(e.to_string()))?;
        let cells: BTreeMap<String, String> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        if cells.values().all(|v| v.trim().is_empty()) {
            continue;
        }
        rows.push((i + 2, cells));
    }
    Ok(rows)
}

/// Most rows a catalogue file may have (the synthetic 20,000-service catalogue fits five times).
pub const MAX_ROWS: usize = 100_000;
/// Most columns a sheet may use (the template has fewer than 40).
pub const MAX_COLUMNS: u32 = 100;
/// Most bytes a spreadsheet may hold once unzipped, all its parts together.
pub const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;
/// Most parts (files) inside a spreadsheet.
pub const MAX_ZIP_ENTRIES: usize = 1_000;

fn too_big(fa: String, en: String) -> ImportError {
    ImportError::TooBig(Problem::new("file_too_big", fa, en))
}

/// A spreadsheet is a zip: refuse one with too many parts, or whose parts unzip to more than
/// [`MAX_UNZIPPED_BYTES`] (counted while unzipping, whatever the headers claim), before any
/// part is parsed. A 2 MB file that unzips to gigabytes is a zip bomb.
fn check_zip(bytes: &[u8]) -> Result<(), ImportError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| not_a_spreadsheet())?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(too_big(
            format!(
                "پرونده {} بخش دارد؛ یک صفحه‌گستردهٔ کاتالوگ بیش از {} بخش ندارد.",
                to_persian_digits(&archive.len().to_string()),
                to_persian_digits(&MAX_ZIP_ENTRIES.to_string())
            ),
            format!(
                "The file has {} parts; a catalogue spreadsheet has at most {MAX_ZIP_ENTRIES}.",
                archive.len()
            ),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| not_a_spreadsheet())?;
        let room = MAX_UNZIPPED_BYTES.saturating_sub(total);
        let read = std::io::copy(
            &mut std::io::Read::take(entry, room + 1),
            &mut std::io::sink(),
        )
        .map_err(|_| not_a_spreadsheet())?;
        total += read;
        if total > MAX_UNZIPPED_BYTES {
            return Err(too_big(
                format!(
                    "این صفحه‌گسترده پس از بازشدن بیش از {} مگابایت است (شاید «بمب زیپ»)؛ پذیرفته نشد. کاتالوگ را در چند پرونده بفرستید.",
                    to_persian_digits(&(MAX_UNZIPPED_BYTES / 1024 / 1024).to_string())
                ),
                format!(
                    "Unzipped, this spreadsheet is over {} MB (perhaps a zip bomb); refused. Send the catalogue in several files.",
                    MAX_UNZIPPED_BYTES / 1024 / 1024
                ),
            ));
        }
    }
    Ok(())
}

fn not_a_spreadsheet() -> ImportError {
    ImportError::Unreadable("the file is not a valid XLSX (zip) spreadsheet".into())
}

fn beyond_the_sheet(row: u32, column: u32) -> ImportError {
    too_big(
        format!(
            "صفحه‌گسترده تا سطر {} و ستون {} می‌رود؛ کاتالوگ حداکثر {} سطر و {} ستون دارد. سلول‌های دوردست را پاک کنید.",
            to_persian_digits(&row.to_string()),
            to_persian_digits(&column.to_string()),
            to_persian_digits(&MAX_ROWS.to_string()),
            to_persian_digits(&MAX_COLUMNS.to_string())
        ),
        format!(
            "The sheet reaches row {row} and column {column}; a catalogue has at most {MAX_ROWS} rows and {MAX_COLUMNS} columns. Clear the far-away cells."
        ),
    )
}

/// The first sheet's rows, read cell by cell: a sheet that declares or uses more than
/// [`MAX_ROWS`] rows or [`MAX_COLUMNS`] columns is refused before anything large is built (a
/// reader that makes a grid from the corners would allocate for every cell in between).
fn rows_from_xlsx(bytes: &[u8]) -> Result<Rows, ImportError> {
    use calamine::{Reader, Xlsx};
    check_zip(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?;
    let mut reader = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let declared = reader.dimensions();
    if declared.end.0 as usize >= MAX_ROWS || declared.end.1 >= MAX_COLUMNS {
        return Err(beyond_the_sheet(declared.end.0 + 1, declared.end.1 + 1));
    }
    let mut grid: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| ImportError::Unreadable(e.to_string()))?
    {
        let (row, column) = cell.get_position();
        if row as usize >= MAX_ROWS || column >= MAX_COLUMNS {
            return Err(beyond_the_sheet(row + 1, column + 1));
        }
        let value = calamine::Data::from(cell.get_value().clone()).to_string();
        if !value.trim().is_empty() {
            grid.entry(row).or_default().insert(column, value);
        }
    }
    let mut rows = grid.into_iter();
    let (_, header_cells) = rows
        .next()
        .ok_or_else(|| ImportError::Unreadable("the sheet is empty".into()))?;
    let width = header_cells.keys().max().map_or(0, |c| c + 1);
    let headers: Vec<String> = (0..width)
        .map(|c| header_cells.get(&c).map_or("", |v| v.trim()).to_owned())
        .collect();
    check_headers(&headers)?;
    let mut out = Vec::new();
    for (row, cells) in rows {
        let cells: BTreeMap<String, String> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(c, h)| {
                let column = u32::try_from(c).unwrap_or(u32::MAX);
                (h.clone(), cells.get(&column).cloned().unwrap_or_default())
            })
            .collect();
        if cells.values().all(|v| v.trim().is_empty()) {
            continue;
        }
        // The spreadsheet's own row number, as people see it.
        out.push((row as usize + 1, cells));
    }
    Ok(out)
}

fn check_headers(headers: &[String]) -> Result<(), ImportError> {
    let known: BTreeSet<&str> = COLUMNS.into_iter().collect();
    let mut errors = Vec::new();
    for header in headers {
        if !known.contains(header.as_str()) {
            errors.push(cell_error(
                1,
                header,
                format!("ستون «{header}» در الگو نیست؛ ستون‌ها را از الگو بردارید."),
                format!("Column `{header}` is not in the template."),
            ));
        }
    }
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
        if !headers.iter().any(|h| h == required) {
            errors.push(cell_error(
                1,
                required,
                format!("ستون «{required}» نیست؛ الگو را به کار ببرید."),
                format!("Column `{required}` is missing."),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Invalid(errors))
    }
}

impl App {
    /// An import by a governorate admin from `/admin`: like [`App::import_catalogue`], but every
    /// service and form must belong to an agency inside the admin's province.
    #[tracing::instrument(skip_all, fields(file = %file_name))]
    pub async fn import_catalogue_as(
        &self,
        principal: &crate::policy::Principal,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport, ImportError> {
        let in_scope = self.province_filter(principal).await?;
        self.import_checked(actor, file_name, bytes, &|_, _| {}, Some(&in_scope))
            .await
    }

    /// Keeps a previewed file until the admin confirms it: the token that finds it again.
    pub async fn stage_import(&self, actor: &Actor, bytes: Vec<u8>) -> Result<String, ImportError> {
        let token = crate::auth::random_token();
        let key = staged_key(actor, &token)
            .ok_or_else(|| ImportError::Unreadable("a staging token was not well formed".into()))?;
        self.documents().put(&key, bytes).await?;
        Ok(token)
    }

    /// The previewed file `token` names, if this person staged it and it is still kept.
    pub async fn staged_import(
        &self,
        actor: &Actor,
        token: &str,
    ) -> Result<Option<Vec<u8>>, ImportError> {
        let Some(key) = staged_key(actor, token) else {
            return Ok(None);
        };
        Ok(self.documents().get_if_present(&key).await?)
    }

    /// Forgets a previewed file (after its import, or when it is no longer wanted).
    pub async fn drop_staged_import(&self, actor: &Actor, token: &str) -> Result<(), ImportError> {
        if let Some(key) = staged_key(actor, token) {
            self.documents().delete(&key).await?;
        }
        Ok(())
    }

    /// Whether an agency lies in a province the governorate admin administers.
    async fn province_filter(
        &self,
        principal: &crate::policy::Principal,
    ) -> Result<impl Fn(&str) -> bool + Sync + use<>, ImportError> {
        let directory = self.store().org_directory().await?;
        let provinces: Vec<String> = principal
            .scopes_of(pishkhan_domain::identity::Role::GovernorateAdmin)
            .into_iter()
            .filter_map(|scope| match scope {
                pishkhan_domain::identity::Scope::Province(code) => Some(code.clone()),
                _ => None,
            })
            .collect();
        Ok(move |agency: &str| {
            directory
                .agency(agency)
                .is_some_and(|a| provinces.contains(&a.province))
        })
    }

    /// Imports a catalogue file (by its extension: `.json`, `.csv`, `.xlsx`). `progress(done,
    /// total)` is called while it writes.
    pub async fn import_catalogue(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport, ImportError> {
        self.import_checked(actor, file_name, bytes, progress, None)
            .await
    }

    async fn import_checked(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        progress: &(dyn Fn(usize, usize) + Sync),
        allowed_agency: Option<&(dyn Fn(&str) -> bool + Sync)>,
    ) -> Result<ImportReport, ImportError> {
        let Prepared { forms, cards } = self.prepare(file_name, bytes, allowed_agency).await?;
        self.publish_prepared(actor, file_name, forms, cards, progress)
            .await
    }

    /// Reads and checks a file: everything in it, against the catalogue as it is now.
    async fn prepare(
        &self,
        file_name: &str,
        bytes: &[u8],
        allowed_agency: Option<&(dyn Fn(&str) -> bool + Sync)>,
    ) -> Result<Prepared, ImportError> {
        let extension = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let mut forms = Vec::new();
        let mut cards: Vec<(usize, ServiceCard)> = Vec::new();
        let mut errors: Vec<Problem> = Vec::new();
        match extension.as_str() {
            "json" => {
                let file: JsonImport = serde_json::from_slice(bytes)
                    .map_err(|e| ImportError::Unreadable(format!("JSON: {e}")))?;
                for (i, value) in file.services.into_iter().enumerate() {
                    match serde_json::from_value::<ServiceCard>(value) {
                        Ok(card) => cards.push((i + 1, card)),
                        Err(e) => errors.push(cell_error(
                            i + 1,
                            "",
                            format!("خدمت شمارهٔ {} با قالب استاندارد نمی‌خواند: {e}", i + 1),
                            format!("Service {} does not follow the standard: {e}", i + 1),
                        )),
                    }
                }
                forms = file.forms;
            }
            "csv" | "xlsx" => {
                let rows = if extension == "csv" {
                    rows_from_csv(bytes)?
                } else {
                    rows_from_xlsx(bytes)?
                };
                for (row, cells) in rows {
                    match card_from_row(row, &cells) {
                        Ok(card) => cards.push((row, card)),
                        Err(mut problems) => errors.append(&mut problems),
                    }
                }
            }
            _ => {
                return Err(ImportError::Unreadable(format!(
                    "`{file_name}` is not .json, .csv or .xlsx"
                )));
            }
        }
        // Whole-file checks: unique codes, agencies and forms that exist (or come in the file).
        let directory = self.store().org_directory().await?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        let form_codes: BTreeSet<(String, u32)> = forms
            .iter()
            .map(|f| (f.form.code.clone(), f.form.version))
            .collect();
        for form in &forms {
            if directory.agency(&form.agency).is_none()
                || allowed_agency.is_some_and(|allowed| !allowed(&form.agency))
            {
                errors.push(cell_error(
                    0,
                    "forms",
                    format!("دستگاه «{}» نیست یا بیرون از استان شماست.", form.agency),
                    format!("No agency `{}`.", form.agency),
                ));
            }
            for problem in form.form.check() {
                errors.push(cell_error(
                    0,
                    &problem.at,
                    format!("فرم {}: {}", form.form.code, problem.fa),
                    problem.en,
                ));
            }
        }
        for (row, card) in &cards {
            if let Some(first) = seen.insert(card.code.clone(), *row) {
                errors.push(cell_error(
                    *row,
                    "code",
                    format!("کد «{}» در سطر {first} هم آمده است.", card.code),
                    format!("Code `{}` also appears on row {first}.", card.code),
                ));
            }
            if directory.agency(&card.agency).is_none() {
                errors.push(cell_error(
                    *row,
                    "agency",
                    format!("دستگاه «{}» در پیشخوان تعریف نشده است.", card.agency),
                    format!("There is no agency `{}`.", card.agency),
                ));
            } else if allowed_agency.is_some_and(|allowed| !allowed(&card.agency)) {
                errors.push(cell_error(
                    *row,
                    "agency",
                    format!("دستگاه «{}» بیرون از استان شماست.", card.agency),
                    format!("Agency `{}` is outside your province.", card.agency),
                ));
            }
            if let Some(state) = self.store().doc_state(DocKind::Service, &card.code).await?
                && state.agency != card.agency
            {
                errors.push(cell_error(
                    *row,
                    "agency",
                    format!("خدمت «{}» از آنِ دستگاه «{}» است.", card.code, state.agency),
                    format!("Service `{}` belongs to `{}`.", card.code, state.agency),
                ));
            }
            for form in &card.forms {
                let in_file = form_codes.contains(&(form.code.clone(), form.version));
                let stored = self
                    .store()
                    .doc_version(DocKind::Form, &form.code, i64::from(form.version))
                    .await?
                    .is_some();
                if !in_file && !stored {
                    errors.push(cell_error(
                        *row,
                        "forms",
                        format!("فرم «{}@{}» نیست.", form.code, form.version),
                        format!("No form `{}@{}`.", form.code, form.version),
                    ));
                }
            }
            if let Err(e) = card_problems(card) {
                errors.extend(
                    e.into_iter()
                        .map(|(column, fa, en)| cell_error(*row, &column, fa, en)),
                );
            } else if let Some(p) = crate::catalog::output_template_problem(card).await {
                errors.push(cell_error(*row, &p.at, p.fa, p.en));
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| (a.line, &a.at).cmp(&(b.line, &b.at)));
            return Err(ImportError::Invalid(errors));
        }
        Ok(Prepared { forms, cards })
    }

    /// The cards published as they are now, by code.
    async fn published_bodies(&self) -> Result<HashMap<String, String>, ImportError> {
        let (published, _) = self
            .store()
            .published_services(&ServiceFilter::default(), i64::MAX, 0)
            .await?;
        Ok(published
            .into_iter()
            .map(|(state, version)| (state.code, version.body))
            .collect())
    }

    /// What importing the file would do, row by row, without doing it: each service added,
    /// changed (with the fields that change) or left as it is; or why the file is refused. The
    /// same checks as the import itself, in the admin's province.
    pub async fn preview_catalogue_as(
        &self,
        principal: &crate::policy::Principal,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportPlan, ImportError> {
        let in_scope = self.province_filter(principal).await?;
        let Prepared { forms, cards } = self.prepare(file_name, bytes, Some(&in_scope)).await?;
        let current = self.published_bodies().await?;
        let rows = cards
            .into_iter()
            .map(|(line, card)| {
                let before = current
                    .get(&card.code)
                    .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok());
                let change = match before {
                    None => PlannedChange::New,
                    Some(before) => {
                        let after = serde_json::to_value(&card).unwrap_or_default();
                        let mut fields: Vec<String> = Vec::new();
                        for change in pishkhan_domain::catalog::diff(&before, &after) {
                            let top = change
                                .path
                                .split(['.', '['])
                                .next()
                                .unwrap_or_default()
                                .to_owned();
                            let name = pishkhan_domain::catalog::card_place_fa(&top);
                            if !fields.contains(&name) {
                                fields.push(name);
                            }
                        }
                        if fields.is_empty() {
                            PlannedChange::Unchanged
                        } else {
                            PlannedChange::Changed(fields)
                        }
                    }
                };
                PlannedRow {
                    line,
                    code: card.code.clone(),
                    title: card.title.fa.clone(),
                    change,
                }
            })
            .collect();
        Ok(ImportPlan {
            rows,
            forms: forms
                .iter()
                .map(|f| (f.form.code.clone(), f.form.version))
                .collect(),
        })
    }

    /// Publishes what [`App::prepare`] read and checked.
    async fn publish_prepared(
        &self,
        actor: &Actor,
        file_name: &str,
        forms: Vec<JsonForm>,
        cards: Vec<(usize, ServiceCard)>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport, ImportError> {
        let mut report = ImportReport {
            rows: cards.len(),
            ..ImportReport::default()
        };
        for form in &forms {
            self.load_published_form(actor, &form.agency, &form.form)
                .await
                .map_err(|e| match e {
                    CatalogError::Store(e) => ImportError::Store(e),
                    other => ImportError::Unreadable(other.to_string()),
                })?;
            report.forms += 1;
        }
        let current = self.published_bodies().await?;
        let now = Utc::now();
        let mut batch = Vec::new();
        for (_, card) in &cards {
            let body =
                serde_json::to_string(card).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let same = current
                .get(&card.code)
                .and_then(|b| serde_json::from_str::<ServiceCard>(b).ok())
                .is_some_and(|c| &c == card);
            if same {
                report.unchanged += 1;
                continue;
            }
            batch.push(crate::catalog::card_version(card, body, actor, now));
        }
        let total = batch.len();
        report.published = total;
        let audit = crate::audit::audit_entry(
            actor,
            "catalog.import",
            ("catalog", file_name),
            serde_json::json!({
                "rows": report.rows,
                "published": report.published,
                "unchanged": report.unchanged,
                "forms": report.forms,
            }),
        );
        if total == 0 {
            // No card changed. Forms that did were each recorded as they were published.
            if report.forms > 0 {
                self.store().append_audit(&audit).await?;
            }
            return Ok(report);
        }
        progress(0, total);
        self.store()
            .publish_service_batch(&batch, &|done| progress(done, total), &audit)
            .await
            .map_err(|e| match e {
                SaveVersionError::OtherAgency { code, agency } => {
                    ImportError::Invalid(vec![cell_error(
                        0,
                        "agency",
                        format!("خدمت «{code}» از آنِ دستگاه «{agency}» است."),
                        format!("`{code}` belongs to `{agency}`."),
                    )])
                }
                SaveVersionError::Store(e) => ImportError::Store(e),
            })?;
        self.search_changed().await;
        Ok(report)
    }
}

/// The card's own rules (already applied to table rows; applied here to JSON items too).
fn card_problems(card: &ServiceCard) -> Result<(), Vec<(String, String, String)>> {
    let problems = card.check();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.into_iter().map(|p| (p.at, p.fa, p.en)).collect())
    }
}
