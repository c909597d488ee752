//! What every command starts from: where the configuration comes from, how it stops with one
//! line, and one way to open the app, run, and close it again.

use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use pishkhan_app::config::{DATA_DIR, DATABASE_URL, LISTEN, LogFormat, Overrides, Sources};
use pishkhan_app::{App, Config, StartError};

/// Why the program stops: one line for the operator, and the exit code.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Something the operator must change (a setting, a file, an argument): exit code 2.
    pub fn config(message: impl ToString) -> Failure {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }

    /// Something failed while running: exit code 1.
    pub fn runtime(message: impl ToString) -> Failure {
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

/// Where the database is, for any command that uses one.
#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// Folder for Pishkhan's files and its SQLite database [default: ./pishkhan-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// PostgreSQL URL (postgres://…) instead of SQLite (also PISHKHAN_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn overrides(self) -> Overrides {
        let mut overrides = Overrides::default();
        overrides
            .set(&DATA_DIR, self.data_dir)
            .set(&DATABASE_URL, self.database_url);
        overrides
    }
}

/// Where a server listens, and its database.
#[derive(Args)]
pub struct ServerArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl ServerArgs {
    /// The flags, with `default_data_dir` when none is given.
    pub fn overrides(self, default_data_dir: Option<&str>) -> Overrides {
        let mut overrides = self.database.overrides();
        overrides.set(&LISTEN, self.listen);
        if !overrides.has(&DATA_DIR) {
            overrides.set(&DATA_DIR, default_data_dir.map(str::to_owned));
        }
        overrides
    }
}

/// The configuration file named on the command line or in `PISHKHAN_CONFIG`.
pub struct Context {
    pub config_file: Option<PathBuf>,
}

impl Context {
    /// The configuration from every source, with these flags.
    pub fn load(&self, overrides: Overrides) -> Result<Config, Failure> {
        Config::load(&Sources {
            file: self.config_file.clone(),
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("PISHKHAN_"))
                .collect(),
            overrides,
        })
        .map_err(Failure::config)
    }

    /// Loads the configuration, starts logging and opens the app; runs `command` on it, then
    /// closes the database whatever `command` answered.
    pub async fn with_app<T, F, Fut>(
        &self,
        database: DatabaseArgs,
        command: F,
    ) -> Result<T, Failure>
    where
        F: FnOnce(App) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let config = self.load(database.overrides())?;
        init_logging(&config);
        let app = App::start(config).await?;
        let result = command(app.clone()).await;
        app.close().await;
        result
    }
}

/// Logs to stderr, as text or JSON lines, at the configured level.
pub fn init_logging(config: &Config) {
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

/// The file name of `path`, or `fallback`: how an import is named in the audit log.
pub fn file_name(path: &std::path::Path, fallback: &str) -> String {
    path.file_name()
        .map_or_else(|| fallback.to_owned(), |n| n.to_string_lossy().into_owned())
}
