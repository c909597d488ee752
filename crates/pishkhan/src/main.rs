//! `pishkhan`: the one program a province runs.
//!
//! A module per command group; each opens the app through [`context::Context::with_app`], which
//! loads the configuration, starts logging, opens the database and closes it again.

/// mimalloc instead of the system allocator: rendering a page makes many small short-lived
/// strings, and glibc's malloc took about a quarter of a service page's time (`perf` under
/// `bench/portal`); with mimalloc the page serves about twice as many requests.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts;
mod agency_sim;
mod applications;
mod bank_sim;
mod catalog;
mod context;
mod database;
mod holidays;
mod outputs;
mod payments;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pishkhan_app::config::CONFIG_FILE_ENV;

use crate::accounts::{OrgCommand, TokenCommand, UserCommand};
use crate::applications::{
    ApplicationsCommand, ExchangeCommand, InquiryCommand, OutboxCommand, WebhookCommand,
};
use crate::catalog::CatalogCommand;
use crate::context::{Context, DatabaseArgs, Failure, ServerArgs};
use crate::database::AuditCommand;
use crate::holidays::HolidaysCommand;

#[derive(Parser)]
#[command(
    name = "pishkhan",
    version,
    about = "Pishkhan: a province's e-government services portal"
)]
struct Cli {
    /// A TOML configuration file (also PISHKHAN_CONFIG). Environment variables PISHKHAN_* and
    /// flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve(ServerArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load the demo data into a demo folder (./pishkhan-demo unless --data-dir) and serve it.
    Demo(ServerArgs),
    /// List the Pishkhan processes currently serving this database.
    Nodes(DatabaseArgs),
    /// Copy the database and documents into a new folder, while Pishkhan keeps serving (SQLite).
    Backup(database::BackupArgs),
    /// Put a backup into a new data folder, then check it (integrity, audit chain).
    Restore(database::RestoreArgs),
    /// The official holidays that deadlines skip.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The keys that seal second-factor secrets in the database.
    #[command(subcommand)]
    Secrets(database::SecretsCommand),
    /// Accounts (the first administrator, above all).
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for agencies' systems (users holding the `system` role).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Agencies and service centres, the scopes staff roles are held in.
    #[command(subcommand)]
    Org(OrgCommand),
    /// The catalogue of service cards: import, template, synthetic data.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Applications: an example filing for agencies' developers.
    #[command(subcommand)]
    Applications(ApplicationsCommand),
    /// Background jobs (notifications, webhook deliveries) that failed their last attempt:
    /// list them, try one again.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// An agency's webhook: where its events are sent, signed (Standard Webhooks).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Inquiry services agencies answer (استعلام): register, list.
    #[command(subcommand)]
    Inquiry(InquiryCommand),
    /// The log of exchanges with agencies' systems: verify it.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// Payments: reconcile the gateway's daily settlement file.
    #[command(subcommand)]
    Payments(payments::PaymentsCommand),
    /// The keys that sign outputs: list, rotate, revoke.
    #[command(subcommand)]
    Keys(outputs::KeysCommand),
    /// Check an output's QR code (its text, or an image of it) offline against the published
    /// keys (`GET /api/v1/keys`, saved to a file). Exits 0 only for a valid one.
    Verify(outputs::VerifyArgs),
    /// A stand-in for an agency's own system, for the demo and the tests: receives and checks
    /// webhooks, pulls the events feed, answers inquiries; can be made slow or failing.
    AgencySim(agency_sim::SimArgs),
    /// A SANDBOX payment gateway (no money moves), for the demo and the tests: the redirect flow
    /// of Iranian gateways (token, bank page, callback, verify, settle or reverse, settlement
    /// file); can be told to decline, time out, call back twice or take a different amount.
    BankSim(bank_sim::BankArgs),
}

fn main() -> ExitCode {
    pishkhan_app::keep_new_files_private();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pishkhan: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("pishkhan: error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Context {
        config_file: cli
            .config
            .or_else(|| std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from)),
    };
    match cli.command {
        Command::Serve(args) => serve::serve(ctx.load(args.overrides(None))?, false).await,
        Command::Demo(args) => {
            let config = ctx.load(args.overrides(Some(serve::DEMO_DATA_DIR)))?;
            serve::serve(config, true).await
        }
        Command::Migrate(database) => database::migrate(&ctx, database).await,
        Command::Nodes(database) => database::nodes(&ctx, database).await,
        Command::Backup(args) => database::backup(&ctx, args).await,
        Command::Restore(args) => database::restore(&ctx, args).await,
        Command::Holidays(command) => command.run(&ctx).await,
        Command::Audit(command) => command.run(&ctx).await,
        Command::Secrets(command) => command.run(&ctx).await,
        Command::User(command) => command.run(&ctx).await,
        Command::Token(command) => command.run(&ctx).await,
        Command::Org(command) => command.run(&ctx).await,
        Command::Catalog(command) => command.run(&ctx).await,
        Command::Applications(command) => command.run(&ctx).await,
        Command::Outbox(command) => command.run(&ctx).await,
        Command::Webhook(command) => command.run(&ctx).await,
        Command::Inquiry(command) => command.run(&ctx).await,
        Command::Exchange(command) => command.run(&ctx).await,
        Command::Keys(command) => command.run(&ctx).await,
        Command::Payments(command) => command.run(&ctx).await,
        Command::Verify(args) => outputs::verify(args),
        Command::AgencySim(args) => agency_sim::run(args).await,
        Command::BankSim(args) => bank_sim::run(args).await,
    }
}
