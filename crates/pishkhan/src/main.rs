//! `pishkhan`: the one program a province runs.
//!
//! Commands: `serve` (the web server), `migrate` (bring the database schema up to date),
//! `demo` (serve with demo data in its own folder), `nodes` (which processes serve this database).

/// mimalloc instead of the system allocator: rendering a page makes many small short-lived
/// strings, and glibc's malloc took about a quarter of a service page's time (`perf` under
/// `bench/portal`); with mimalloc the page serves about twice as many requests.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pishkhan_app::audit::Actor;
use pishkhan_app::config::{CONFIG_FILE_ENV, LogFormat, Overrides, Sources};
use pishkhan_app::holidays::ImportError;
use pishkhan_app::users::{UserError, generate_password};
use pishkhan_app::{App, Config, Secret, StartError};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_web::WebState;
use tokio::net::TcpListener;

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
    /// The official holidays that deadlines skip.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
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
}

#[derive(Subcommand)]
enum ApplicationsCommand {
    /// Print a complete example body for `POST /api/v1/applications` for a published service:
    /// every form filled with valid example answers, a small PDF for each document.
    Example {
        /// The service's code, e.g. tehran.birth-certificate.
        service: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the workflow a published service's applications follow, as JSON (its own, or the
    /// standard one): the starting point for an editor adapting it on the desk.
    Workflow {
        /// The service's code, e.g. tehran.building-permit.
        service: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a bearer token for an API client; it is shown once.
    Create {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. the system's name.
        #[arg(long, default_value = "api")]
        label: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Add an agency or a service centre to a province.
    Add {
        /// agency or centre.
        kind: String,
        /// Lower-case letters, digits and dashes, e.g. tehran-civil-registry.
        code: String,
        /// The province's code, e.g. tehran.
        #[arg(long)]
        province: String,
        /// The Persian name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account holding one role within a scope. Without --password-stdin a strong
    /// password is generated and shown once.
    Create {
        #[arg(long)]
        username: String,
        /// The person's name, as the screens show it.
        #[arg(long)]
        name: String,
        /// citizen, operator, centre-manager, agency-clerk, agency-editor, agency-admin,
        /// governorate-admin, noc, commission, system.
        #[arg(long)]
        role: String,
        /// self, centre:CODE, agency:CODE[/UNIT], province:CODE or national.
        #[arg(long)]
        scope: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; name the first entry that was edited or deleted.
    Verify(DatabaseArgs),
}

#[derive(Subcommand)]
enum HolidaysCommand {
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

#[derive(Args)]
struct DatabaseArgs {
    /// Folder for Pishkhan's files and its SQLite database [default: ./pishkhan-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// PostgreSQL URL (postgres://…) instead of SQLite (also PISHKHAN_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct ServerArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Where `demo` keeps its data unless told otherwise, apart from a real installation's.
const DEMO_DATA_DIR: &str = "pishkhan-demo";

/// Why the program stops: one line for the operator, and the exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn config(message: impl ToString) -> Failure {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }

    fn runtime(message: impl ToString) -> Failure {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Failure {
        match e {
            StartError::Config(e) => Failure::config(e),
            other => Failure::runtime(other),
        }
    }
}

fn main() -> ExitCode {
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
    let config_file = cli
        .config
        .clone()
        .or_else(|| std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from));
    let load = |overrides: Overrides| {
        Config::load(&Sources {
            file: config_file.clone(),
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("PISHKHAN_"))
                .collect(),
            overrides,
        })
        .map_err(Failure::config)
    };
    match cli.command {
        Command::Serve(args) => serve(load(server_overrides(args, None))?, false).await,
        Command::Demo(args) => {
            serve(load(server_overrides(args, Some(DEMO_DATA_DIR)))?, true).await
        }
        Command::Migrate(args) => {
            let config = load(database_overrides(args))?;
            init_logging(&config);
            let app = App::start(config).await?;
            println!("Database is up to date: {}", app.store().describe());
            app.store().close().await;
            Ok(())
        }
        Command::Holidays(HolidaysCommand::Import { file, database }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::config(format!("cannot read {}: {e}", file.display())))?;
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let source = file
                .file_name()
                .map_or_else(|| "import".to_owned(), |n| n.to_string_lossy().into_owned());
            let result = app
                .import_holidays(&Actor::command_line(), &text, &source)
                .await;
            app.store().close().await;
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
                        eprintln!("{}", error.message_fa());
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
        Command::Holidays(HolidaysCommand::List { year, database }) => {
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let calendar = app.holiday_calendar().await.map_err(Failure::runtime)?;
            app.store().close().await;
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
        Command::User(UserCommand::Create {
            username,
            name,
            role,
            scope,
            password_stdin,
            database,
        }) => {
            let role = Role::from_code(role.trim()).map_err(|e| Failure::config(e.en))?;
            let scope = Scope::parse(&scope).map_err(|e| Failure::config(e.en))?;
            let grant = RoleGrant::new(role, scope).map_err(|e| Failure::config(e.en))?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| Failure::config(format!("cannot read the password: {e}")))?;
                (
                    Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()),
                    false,
                )
            } else {
                (generate_password(), true)
            };
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let result = app
                .create_user(
                    &Actor::command_line(),
                    &username,
                    &name,
                    &password,
                    vec![grant.clone()],
                )
                .await;
            app.store().close().await;
            match result {
                Ok(_) => {
                    println!(
                        "Created {username} ({} in {}).",
                        grant.role().code(),
                        grant.scope()
                    );
                    if generated {
                        println!("Password (shown only now): {}", password.expose());
                    }
                    Ok(())
                }
                Err(UserError::Store(e)) => Err(Failure::runtime(e)),
                Err(e) => Err(Failure::config(e)),
            }
        }
        Command::Applications(ApplicationsCommand::Example { service, database }) => {
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let example = app
                .example_submission(service.trim())
                .await
                .map_err(Failure::runtime);
            app.store().close().await;
            match example? {
                Some(example) => {
                    println!(
                        "{}",
                        pishkhan_web::api::applications::example_json(&example)
                    );
                    Ok(())
                }
                None => Err(Failure::config(format!(
                    "no published service `{}`; `pishkhan demo` loads the demo catalogue",
                    service.trim()
                ))),
            }
        }
        Command::Applications(ApplicationsCommand::Workflow { service, database }) => {
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let page = app
                .service_page(service.trim())
                .await
                .map_err(Failure::runtime);
            app.store().close().await;
            match page? {
                Some(page) => {
                    let workflow = page.service.card.workflow();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&workflow).map_err(Failure::runtime)?
                    );
                    Ok(())
                }
                None => Err(Failure::config(format!(
                    "no published service `{}`; `pishkhan demo` loads the demo catalogue",
                    service.trim()
                ))),
            }
        }
        Command::Token(TokenCommand::Create {
            username,
            label,
            database,
        }) => {
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let result = app
                .create_api_token(&Actor::command_line(), username.trim(), &label)
                .await;
            app.store().close().await;
            match result {
                Ok(token) => {
                    println!("Token for {username} (shown only now): {}", token.expose());
                    Ok(())
                }
                Err(UserError::Store(e)) => Err(Failure::runtime(e)),
                Err(e) => Err(Failure::config(e)),
            }
        }
        Command::Org(OrgCommand::Add {
            kind,
            code,
            province,
            name,
            database,
        }) => {
            let kind = match kind.as_str() {
                "agency" => pishkhan_app::records::OrgKind::Agency,
                "centre" => pishkhan_app::records::OrgKind::Centre,
                other => {
                    return Err(Failure::config(format!(
                        "`{other}` is not a kind of organisation; use agency or centre"
                    )));
                }
            };
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let result = app
                .add_org(&Actor::command_line(), kind, &code, &province, &name)
                .await;
            app.store().close().await;
            match result {
                Ok(()) => {
                    println!("Added {code} in {province}.");
                    Ok(())
                }
                Err(pishkhan_app::orgs::OrgError::Store(e)) => Err(Failure::runtime(e)),
                Err(e) => Err(Failure::config(e)),
            }
        }
        Command::Catalog(CatalogCommand::Template { file }) => {
            let example = pishkhan_app::demo::example_card().map_err(Failure::runtime)?;
            let text = pishkhan_app::import::csv_template(&example).map_err(Failure::runtime)?;
            std::fs::write(&file, text)
                .map_err(|e| Failure::config(format!("cannot write {}: {e}", file.display())))?;
            println!("Wrote the template to {}.", file.display());
            Ok(())
        }
        Command::Catalog(CatalogCommand::Synth {
            file,
            services,
            agency,
        }) => {
            let text =
                pishkhan_app::synth::synthetic_csv(services, &agency).map_err(Failure::runtime)?;
            std::fs::write(&file, text)
                .map_err(|e| Failure::config(format!("cannot write {}: {e}", file.display())))?;
            println!(
                "Wrote {services} synthetic services of {agency} to {}.",
                file.display()
            );
            Ok(())
        }
        Command::Catalog(CatalogCommand::Import { file, database }) => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::config(format!("cannot read {}: {e}", file.display())))?;
            let config = load(database_overrides(database))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let name = file
                .file_name()
                .map_or_else(|| "import".to_owned(), |n| n.to_string_lossy().into_owned());
            let bar = indicatif::ProgressBar::new(0);
            if !std::io::stderr().is_terminal() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let started = std::time::Instant::now();
            let result = app
                .import_catalogue(&Actor::command_line(), &name, &bytes, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await;
            bar.finish_and_clear();
            app.store().close().await;
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
                Err(pishkhan_app::import::ImportError::Invalid(errors)) => {
                    for error in &errors {
                        eprintln!(
                            "سطر {}، ستون «{}»: {}",
                            pishkhan_domain::text::to_persian_digits(&error.row.to_string()),
                            error.column,
                            error.fa
                        );
                    }
                    Err(Failure::config(format!(
                        "{} has {} problem(s) (listed above, in Persian, by row and column); nothing was imported",
                        file.display(),
                        errors.len()
                    )))
                }
                Err(pishkhan_app::import::ImportError::Unreadable(why)) => Err(Failure::config(
                    format!("{} cannot be read: {why}", file.display()),
                )),
                Err(e) => Err(Failure::runtime(e)),
            }
        }
        Command::Audit(AuditCommand::Verify(args)) => {
            let config = load(database_overrides(args))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let result = app.verify_audit().await;
            app.store().close().await;
            let entries = result.map_err(Failure::runtime)?;
            println!("The audit log is intact: {entries} entries, each linked to the one before.");
            Ok(())
        }
        Command::Nodes(args) => {
            let config = load(database_overrides(args))?;
            init_logging(&config);
            let app = App::start(config).await?;
            let nodes = app.live_nodes().await.map_err(Failure::runtime)?;
            println!("{} node(s) serving {}", nodes.len(), app.store().describe());
            for node in nodes {
                println!(
                    "{}  {}  {}  version {}  started {}  last seen {}",
                    node.id,
                    node.hostname,
                    node.listen,
                    node.version,
                    node.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    node.last_seen_at.format("%Y-%m-%d %H:%M:%S UTC"),
                );
            }
            app.store().close().await;
            Ok(())
        }
    }
}

fn database_overrides(args: DatabaseArgs) -> Overrides {
    Overrides {
        listen: None,
        data_dir: args.data_dir,
        database_url: args.database_url.map(Secret::new),
    }
}

fn server_overrides(args: ServerArgs, default_data_dir: Option<&str>) -> Overrides {
    let mut overrides = database_overrides(args.database);
    overrides.listen = args.listen;
    if overrides.data_dir.is_none() {
        overrides.data_dir = default_data_dir.map(str::to_owned);
    }
    overrides
}

async fn serve(config: Config, demo: bool) -> Result<(), Failure> {
    init_logging(&config);
    // Take the port before touching the database: a busy port fails fast and changes nothing.
    let listener = bind(config.listen).await?;
    let address = listener.local_addr().map_err(Failure::runtime)?;
    let app = App::start(config).await?;
    let (demo_accounts, demo_services) = if demo {
        let accounts = app.load_demo().await.map_err(Failure::runtime)?;
        let services = app.load_demo_catalogue().await.map_err(Failure::runtime)?;
        (accounts, services)
    } else {
        (Vec::new(), 0)
    };
    let state = WebState::new(app.clone()).map_err(Failure::runtime)?;
    let node = app
        .register_node(&address.to_string())
        .await
        .map_err(Failure::runtime)?;
    let heartbeats = tokio::spawn(app.clone().run_heartbeats(node.clone()));
    let indexed = app.rebuild_search().await.map_err(Failure::runtime)?;
    let follower = tokio::spawn(app.clone().follow_catalogue());
    let application_jobs = tokio::spawn(app.clone().run_application_jobs());

    println!(
        "Pishkhan {} is serving http://{address}",
        pishkhan_app::VERSION
    );
    println!("  database:    {}", app.store().describe());
    println!("  documents:   {}", app.documents().describe());
    println!("  data folder: {}", app.config().data_dir.display());
    println!("  search index: {indexed} published services");
    if demo {
        println!(
            "  demo catalogue: {demo_services} published services in the pilot provinces ({})",
            pishkhan_app::demo::PILOT_PROVINCES.join(", ")
        );
        print_demo_accounts(&app, &address, &demo_accounts);
    }
    println!("Stop with Ctrl+C.");
    tracing::info!(%address, node = %node.id, "serving");

    let served = axum::serve(
        listener,
        pishkhan_web::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    heartbeats.abort();
    follower.abort();
    application_jobs.abort();
    if let Err(e) = app.stop_node(&node).await {
        tracing::warn!(error = %e, "could not record the node's stop");
    }
    app.store().close().await;
    served.map_err(|e| Failure::runtime(format!("the server stopped: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

fn print_demo_accounts(
    app: &App,
    address: &SocketAddr,
    accounts: &[pishkhan_app::demo::DemoAccount],
) {
    use pishkhan_app::demo::{DEMO_CITIZEN, DEMO_PASSWORD};
    println!();
    println!("Demo accounts (staff sign in at http://{address}/signin, password {DEMO_PASSWORD}):");
    for account in accounts {
        let factor = match &account.totp_secret {
            Some(secret) => format!("  second factor: TOTP secret {secret}"),
            None => String::new(),
        };
        println!(
            "  {:<18} {:<17} {}{}",
            account.role.code(),
            account.username,
            account.scope,
            factor
        );
    }
    println!(
        "  API client:  pishkhan token create --username system.registry --data-dir {}",
        app.config().data_dir.display()
    );
    println!(
        "  citizen:     http://{address}/signin/citizen with national ID {} and mobile {};",
        DEMO_CITIZEN.0, DEMO_CITIZEN.1
    );
    println!(
        "               text messages (sign-in and consent codes) are written to {}",
        app.config()
            .data_dir
            .join(pishkhan_app::sms::SMS_FILE_NAME)
            .display()
    );
    println!();
}

async fn bind(address: SocketAddr) -> Result<TcpListener, Failure> {
    TcpListener::bind(address).await.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "the address is already in use; stop the other program or choose another \
                 address with --listen"
                    .to_owned()
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "this machine has no such address; choose another with --listen".to_owned()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need privileges); choose another with --listen"
                    .to_owned()
            }
            _ => e.to_string(),
        };
        Failure::runtime(format!("cannot listen on {address}: {why}"))
    })
}

/// Resolves on SIGTERM or Ctrl+C: the server then stops taking connections and finishes the
/// requests in flight.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "{level},sqlx=warn",
        level = config.log_level.as_str()
    ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // Only the first call installs a subscriber; later ones (never in the program) are ignored.
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
