//! `holidays`: the official holidays that deadlines skip.

use std::path::PathBuf;

use clap::Subcommand;
use pishkhan_app::audit::Actor;
use pishkhan_app::holidays::ImportError;

use crate::context::{Context, DatabaseArgs, Failure, file_name};

#[derive(Subcommand)]
pub enum HolidaysCommand {
    /// Replace the years in a CSV file (checked whole first: all of it is imported, or nothing).
    /// Lines: `date,kind,name_fa,name_en` (kind: solar or lunar), and `covered,YEAR,,` for a
    /// year whose whole list is in the file.
    Import {
        /// The CSV file (UTF-8).
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Show one year's holidays.
    List {
        /// A Jalali year, such as 1404.
        year: i32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl HolidaysCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            HolidaysCommand::Import { file, database } => import(ctx, file, database).await,
            HolidaysCommand::List { year, database } => list(ctx, year, database).await,
        }
    }
}

async fn import(ctx: &Context, file: PathBuf, database: DatabaseArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::config(format!("cannot read {}: {e}", file.display())))?;
    let source = file_name(&file, "import");
    let result = ctx
        .with_app(database, |app| async move {
            Ok(app
                .import_holidays(&Actor::command_line(), &text, &source)
                .await)
        })
        .await?;
    match result {
        Ok(years) => {
            for year in years {
                println!(
                    "{}: {} holiday(s), {}",
                    year.year,
                    year.holidays.len(),
                    if year.covered {
                        "complete list"
                    } else {
                        "list not complete"
                    }
                );
            }
            Ok(())
        }
        Err(ImportError::Invalid(errors)) => {
            for error in &errors {
                eprintln!("{}", error.located(pishkhan_domain::Language::Persian));
            }
            Err(Failure::config(format!(
                "{} has {} problem(s) (listed above, in Persian); nothing was imported",
                file.display(),
                errors.len()
            )))
        }
        Err(other) => Err(Failure::runtime(other)),
    }
}

async fn list(ctx: &Context, year: i32, database: DatabaseArgs) -> Result<(), Failure> {
    let calendar = ctx
        .with_app(database, |app| async move {
            app.holiday_calendar().await.map_err(Failure::runtime)
        })
        .await?;
    println!(
        "{year}: {}",
        if calendar.covers(year) {
            "complete list"
        } else {
            "list not complete"
        }
    );
    for holiday in calendar.holidays_in(year) {
        println!(
            "{}  {:<9} {:<5} {}  ({})",
            holiday.date,
            holiday.date.weekday().name_en(),
            holiday.kind.code(),
            holiday.name_fa,
            holiday.name_en
        );
    }
    Ok(())
}
