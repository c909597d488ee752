//! `catalog`: import service cards, write the import template, make a synthetic catalogue.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;
use pishkhan_app::audit::Actor;
use pishkhan_app::import::ImportError;

use crate::context::{Context, DatabaseArgs, Failure, file_name};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Import service cards from a JSON, CSV or XLSX file: everything is checked first, then all
    /// of it is published, or nothing (with every problem by row and column, in Persian).
    /// Importing the same file again changes nothing.
    Import {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write the CSV template (the columns and one example row) to FILE.
    Template { file: PathBuf },
    /// Write a synthetic catalogue of N services of one agency to a CSV file (for benchmarks).
    Synth {
        file: PathBuf,
        #[arg(long, default_value_t = 20000)]
        services: usize,
        /// The agency the services belong to (it must exist when importing).
        #[arg(long, default_value = "synth-agency")]
        agency: String,
    },
}

impl CatalogCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            CatalogCommand::Import { file, database } => import(ctx, file, database).await,
            CatalogCommand::Template { file } => {
                let example = pishkhan_app::demo::example_card().map_err(Failure::runtime)?;
                let text =
                    pishkhan_app::import::csv_template(&example).map_err(Failure::runtime)?;
                write(&file, text)?;
                println!("Wrote the template to {}.", file.display());
                Ok(())
            }
            CatalogCommand::Synth {
                file,
                services,
                agency,
            } => {
                let text = pishkhan_app::synth::synthetic_csv(services, &agency)
                    .map_err(Failure::runtime)?;
                write(&file, text)?;
                println!(
                    "Wrote {services} synthetic services of {agency} to {}.",
                    file.display()
                );
                Ok(())
            }
        }
    }
}

fn write(file: &PathBuf, text: String) -> Result<(), Failure> {
    std::fs::write(file, text)
        .map_err(|e| Failure::config(format!("cannot write {}: {e}", file.display())))
}

async fn import(ctx: &Context, file: PathBuf, database: DatabaseArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&file)
        .map_err(|e| Failure::config(format!("cannot read {}: {e}", file.display())))?;
    let name = file_name(&file, "import");
    let started = std::time::Instant::now();
    let result = ctx
        .with_app(database, |app| async move {
            let bar = indicatif::ProgressBar::new(0);
            if !std::io::stderr().is_terminal() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let result = app
                .import_catalogue(&Actor::command_line(), &name, &bytes, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await;
            bar.finish_and_clear();
            Ok(result)
        })
        .await?;
    match result {
        Ok(report) => {
            println!(
                "{}: {} service(s); {} published, {} unchanged; {} form(s); {:.1} s",
                file.display(),
                report.rows,
                report.published,
                report.unchanged,
                report.forms,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(ImportError::Invalid(errors)) => {
            for error in &errors {
                eprintln!("{}", error.located(pishkhan_domain::Language::Persian));
            }
            Err(Failure::config(format!(
                "{} has {} problem(s) (listed above, in Persian, by row and column); nothing was imported",
                file.display(),
                errors.len()
            )))
        }
        Err(ImportError::TooBig(problem)) => Err(Failure::config(format!(
            "{} is refused: {}",
            file.display(),
            problem.en
        ))),
        Err(ImportError::Unreadable(why)) => Err(Failure::config(format!(
            "{} cannot be read: {why}",
            file.display()
        ))),
        Err(e) => Err(Failure::runtime(e)),
    }
}
