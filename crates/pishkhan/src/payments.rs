//! `payments`: reconciling the payment gateway's daily settlement file, and the books' balances.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Subcommand;
use pishkhan_app::audit::Actor;
use pishkhan_app::settlement::ReconcileError;

use crate::context::{Context, DatabaseArgs, Failure};

/// The largest settlement file read (a day's file is a few MB at most).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Subcommand)]
pub enum PaymentsCommand {
    /// Compare the gateway's settlement file of one day (CSV:
    /// `date,terminal,order,token,reference,amount`) with Pishkhan's online payments; list every
    /// line that matches nothing and every payment the file lacks. Changes nothing; audited.
    /// Exits 0 when everything matches, 1 when something is listed, 2 for a bad file.
    Reconcile {
        /// The bank's day the file is for (YYYY-MM-DD, as in the file).
        #[arg(long)]
        date: NaiveDate,
        /// The gateway terminal the file is for [default: the configured one].
        #[arg(long)]
        terminal: Option<String>,
        /// The settlement file.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Each account's balance in the books (rials; debit positive, credit negative): providers,
    /// tills, agencies, centres, companies, differences. Exits 1 if the books do not sum to zero.
    Balances {
        /// Only accounts whose key starts with this (`agency:`, `centre:tehran-1001` …).
        #[arg(default_value = "")]
        prefix: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl PaymentsCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            PaymentsCommand::Reconcile {
                date,
                terminal,
                file,
                database,
            } => reconcile(ctx, date, terminal, file, database).await,
            PaymentsCommand::Balances { prefix, database } => balances(ctx, prefix, database).await,
        }
    }
}

async fn reconcile(
    ctx: &Context,
    date: NaiveDate,
    terminal: Option<String>,
    file: PathBuf,
    database: DatabaseArgs,
) -> Result<(), Failure> {
    let size = std::fs::metadata(&file)
        .map_err(|e| Failure::config(format!("cannot read {}: {e}", file.display())))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Failure::config(format!(
            "{} is {size} bytes; a day's settlement file is at most {MAX_FILE_BYTES}",
            file.display()
        )));
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::config(format!("cannot read {} as UTF-8: {e}", file.display())))?;
    let result = ctx
        .with_app(database, |app| async move {
            Ok(app
                .reconcile_settlement(&Actor::command_line(), terminal.as_deref(), date, &text)
                .await)
        })
        .await?;
    match result {
        Ok(done) => {
            println!(
                "{date}: {} payment(s) matched, {} rials; {} mismatch(es)",
                done.matched,
                done.matched_rials,
                done.mismatches.len()
            );
            for mismatch in &done.mismatches {
                println!("  {}: {}", mismatch.code(), mismatch.describe_fa());
            }
            if done.mismatches.is_empty() {
                Ok(())
            } else {
                Err(Failure::runtime(format!(
                    "{} line(s) or payment(s) do not match (listed above)",
                    done.mismatches.len()
                )))
            }
        }
        Err(ReconcileError::Invalid(problems)) => {
            for problem in &problems {
                eprintln!("{}", problem.located(pishkhan_domain::Language::Persian));
            }
            Err(Failure::config(format!(
                "{} is not a settlement file: {} problem(s) (listed above, in Persian)",
                file.display(),
                problems.len()
            )))
        }
        Err(ReconcileError::NoGateway) => Err(Failure::config(
            "no payment gateway is configured: name the file's terminal with --terminal",
        )),
        Err(ReconcileError::Store(e)) => Err(Failure::runtime(e)),
    }
}

async fn balances(ctx: &Context, prefix: String, database: DatabaseArgs) -> Result<(), Failure> {
    let (balances, (total, entries)) = ctx
        .with_app(database, |app| async move {
            let balances = app.balances(&prefix).await.map_err(Failure::runtime)?;
            let books = app.books_check().await.map_err(Failure::runtime)?;
            Ok((balances, books))
        })
        .await?;
    for (account, rials) in &balances {
        println!("{account}\t{rials}");
    }
    println!(
        "{} account(s); {entries} entr(ies) in the books; all postings sum to {total}",
        balances.len()
    );
    if total != 0 {
        return Err(Failure::runtime(format!(
            "the books do not balance: all postings sum to {total} rials"
        )));
    }
    Ok(())
}
