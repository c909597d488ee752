//! A centre's monthly statement of the shares it earned (کارمزد): every posting to its account
//! in one Jalali month, from the books, with the total; for its manager, on the page, as PDF
//! and as XLSX.

use chrono::{DateTime, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::ledger::Account;
use pishkhan_store::StoreError;

use crate::App;
use crate::payments::{PaymentError, refused};
use crate::policy::Principal;
use crate::tills::day_bounds;

/// One share earned (or given back, negative).
#[derive(Debug, Clone)]
pub struct StatementLine {
    pub at: DateTime<Utc>,
    pub memo: String,
    /// The payment's number.
    pub reference: String,
    pub rials: i64,
}

/// A centre's shares in one Jalali month.
#[derive(Debug, Clone)]
pub struct CentreStatement {
    pub centre: String,
    pub centre_name: String,
    pub province_name: Option<String>,
    /// The month's first day.
    pub month: JalaliDate,
    pub lines: Vec<StatementLine>,
    pub total: i64,
}

impl CentreStatement {
    /// `آذر ۱۴۰۵`
    pub fn month_fa(&self) -> String {
        pishkhan_domain::text::to_persian_digits(&format!(
            "{} {}",
            self.month.month_name_fa(),
            self.month.year()
        ))
    }
}

/// The first day of the Jalali month `text` names (`1405/09`, Persian digits too).
pub fn parse_month(text: &str) -> Result<JalaliDate, PaymentError> {
    JalaliDate::parse(&format!("{}/01", text.trim())).map_err(|_| {
        refused(
            "statement_month",
            "ماه را به شکل سال/ماه بنویسید، مانند ۱۴۰۵/۰۹.",
            "Write the month as year/month, like 1405/09.",
        )
    })
}

impl App {
    /// The statement of `centre` for the month starting `month`: its manager's.
    pub async fn centre_statement(
        &self,
        principal: &Principal,
        centre: &str,
        month: JalaliDate,
    ) -> Result<CentreStatement, PaymentError> {
        let manages = principal
            .scopes_of(Role::CentreManager)
            .into_iter()
            .any(|s| *s == Scope::Centre(centre.to_owned()));
        if !manages {
            return Err(PaymentError::NotFound);
        }
        let first =
            JalaliDate::new(month.year(), month.month(), 1).map_err(PaymentError::Refused)?;
        let next = if first.month() == 12 {
            JalaliDate::new(first.year() + 1, 1, 1)
        } else {
            JalaliDate::new(first.year(), first.month() + 1, 1)
        }
        .map_err(PaymentError::Refused)?;
        let (from, _) = day_bounds(first);
        let (until, _) = day_bounds(next);
        let account = Account::Centre(centre.to_owned()).key();
        let lines: Vec<StatementLine> = self
            .store()
            .account_postings(&account, from, until)
            .await?
            .into_iter()
            .map(|(at, _, reference, memo, rials)| StatementLine {
                at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                memo,
                reference,
                // The centre's account is credited with what it earns.
                rials: rials.saturating_neg(),
            })
            .collect();
        let total = lines.iter().fold(0i64, |t, l| t.saturating_add(l.rials));
        let directory = self.org_directory().await?;
        let org = directory.centre(centre).cloned();
        let province_name = match &org {
            Some(o) => self
                .provinces()
                .await?
                .into_iter()
                .find(|p| p.code == o.province)
                .map(|p| p.name_fa),
            None => None,
        };
        Ok(CentreStatement {
            centre: centre.to_owned(),
            centre_name: org.map_or_else(|| centre.to_owned(), |o| o.name_fa),
            province_name,
            month: first,
            lines,
            total,
        })
    }

    /// The statement as a PDF.
    pub async fn statement_pdf(
        &self,
        statement: &CentreStatement,
    ) -> Result<Vec<u8>, PaymentError> {
        let month = statement.month_fa();
        let lines: Vec<(String, String, String, i64)> = statement
            .lines
            .iter()
            .map(|l| {
                (
                    moment_fa(l.at),
                    l.memo.clone(),
                    l.reference.clone(),
                    l.rials,
                )
            })
            .collect();
        let data = pishkhan_render::statement_data(&pishkhan_render::StatementPrint {
            centre_name: &statement.centre_name,
            province_name: statement.province_name.as_deref(),
            month: &month,
            lines: &lines,
            total_rials: statement.total,
            printed_on: &pishkhan_domain::JalaliDate::in_iran(Utc::now()).format_long_fa(),
        });
        tokio::task::spawn_blocking(move || {
            pishkhan_render::render(pishkhan_render::Template::Statement, &data)
        })
        .await
        .map_err(|e| PaymentError::Store(StoreError::Corrupt(format!("typesetting: {e}"))))?
        .map_err(|e| PaymentError::Store(StoreError::Corrupt(format!("typesetting: {e}"))))
    }
}

fn moment_fa(at: DateTime<Utc>) -> String {
    let local = pishkhan_domain::jalali::iran_local_time(at);
    pishkhan_domain::text::to_persian_digits(&format!(
        "{} {}",
        JalaliDate::from_gregorian(local.date()).format_numeric(),
        local.format("%H:%M")
    ))
}

/// The statement as a spreadsheet: one row per share, dates as text (Jalali), amounts as
/// numbers, the total at the foot; right to left.
pub fn statement_xlsx(statement: &CentreStatement) -> Result<Vec<u8>, PaymentError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| {
        PaymentError::Store(StoreError::Corrupt(format!("the spreadsheet: {e}")))
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_right_to_left(true);
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0");
    sheet
        .write_string_with_format(
            0,
            0,
            format!(
                "سهم دفتر {} — {}",
                statement.centre_name,
                statement.month_fa()
            ),
            &bold,
        )
        .map_err(fail)?;
    for (col, head) in ["زمان", "بابت", "مرجع", "سهم (ریال)"].iter().enumerate()
    {
        sheet
            .write_string_with_format(2, col as u16, *head, &bold)
            .map_err(fail)?;
    }
    let mut row = 3u32;
    for line in &statement.lines {
        sheet
            .write_string(row, 0, moment_fa(line.at))
            .map_err(fail)?;
        sheet
            .write_string(row, 1, pishkhan_domain::text::to_persian_digits(&line.memo))
            .map_err(fail)?;
        sheet.write_string(row, 2, &line.reference).map_err(fail)?;
        sheet
            .write_number_with_format(row, 3, line.rials as f64, &money)
            .map_err(fail)?;
        row += 1;
    }
    sheet
        .write_string_with_format(row, 2, "جمع", &bold)
        .map_err(fail)?;
    sheet
        .write_number_with_format(row, 3, statement.total as f64, &money)
        .map_err(fail)?;
    sheet.set_column_width(0, 18).map_err(fail)?;
    sheet.set_column_width(1, 50).map_err(fail)?;
    sheet.set_column_width(2, 24).map_err(fail)?;
    sheet.set_column_width(3, 16).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}
