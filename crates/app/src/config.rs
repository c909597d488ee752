//! Configuration: typed, validated once at start.
//!
//! Sources, later ones winning: built-in defaults, an optional TOML file, `PISHKHAN_*` environment
//! variables, command-line flags. Every error names the setting, where its value came from and
//! what is allowed; a secret's value is never repeated.

use crate::documents::DocumentSettings;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pishkhan_store::DatabaseLocation;

use crate::Secret;

/// Name of the SQLite file inside the data folder.
pub const SQLITE_FILE_NAME: &str = "pishkhan.sqlite3";

/// The whole, validated configuration of one Pishkhan process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the web server listens.
    pub listen: SocketAddr,
    /// Where Pishkhan keeps its files (the SQLite database, later uploads and issued documents).
    pub data_dir: PathBuf,
    /// SQLite in the data folder, or a PostgreSQL server.
    pub database: DatabaseChoice,
    pub log_format: LogFormat,
    pub log_level: LogLevel,
    /// Most connections the pool opens to the database.
    pub db_max_connections: u32,
    /// Mark cookies `Secure` (and use the `__Host-` prefix): set when Pishkhan is served over TLS.
    pub secure_cookies: bool,
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_timeout: Duration,
    /// Where text messages go.
    pub sms: SmsSettings,
    /// Where attached files are kept.
    pub documents: DocumentSettings,
}

/// How text messages (one-time codes, notifications) are sent.
#[derive(Debug, Clone)]
pub enum SmsSettings {
    /// Development: each message is appended as one JSON line to `sms-outbox.jsonl` in the data
    /// folder, where the demo's user and the tests read it.
    File,
    /// A generic HTTP SMS gateway: `template` is the request body with `{to}`, `{text}` and
    /// `{code}` filled in (JSON-escaped when the body is JSON, URL-encoded otherwise); `{key}` may
    /// appear in the URL, and the key is also sent as `Authorization: Bearer KEY`.
    Http {
        url: String,
        key: Secret<String>,
        template: String,
    },
}

/// The default body sent to an HTTP SMS gateway.
pub const DEFAULT_SMS_TEMPLATE: &str = r#"{"to":"{to}","text":"{text}"}"#;

#[derive(Debug, Clone)]
pub enum DatabaseChoice {
    /// The embedded database, in `data_dir`.
    Sqlite,
    /// A `postgres://` URL; it may carry a password, so it stays secret.
    Postgres(Secret<String>),
}

impl Config {
    /// Where the store is, for this configuration.
    pub fn database_location(&self) -> Result<DatabaseLocation, ConfigError> {
        match &self.database {
            DatabaseChoice::Sqlite => Ok(DatabaseLocation::SqliteFile(
                self.data_dir.join(SQLITE_FILE_NAME),
            )),
            DatabaseChoice::Postgres(url) => postgres_location(url.expose(), &Origin::Default),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    pub database_url: Option<Secret<String>>,
}

/// Everything configuration is read from. `env` is passed in (not read here) so tests can give
/// their own.
#[derive(Debug, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub overrides: Overrides,
}

/// A setting Pishkhan knows, with its name in the TOML file and in the environment.
struct Setting {
    key: &'static str,
    env: &'static str,
    secret: bool,
}

const LISTEN: Setting = Setting {
    key: "listen",
    env: "PISHKHAN_LISTEN",
    secret: false,
};
const DATA_DIR: Setting = Setting {
    key: "data_dir",
    env: "PISHKHAN_DATA_DIR",
    secret: false,
};
const DATABASE_URL: Setting = Setting {
    key: "database_url",
    env: "PISHKHAN_DATABASE_URL",
    secret: true,
};
const LOG_FORMAT: Setting = Setting {
    key: "log_format",
    env: "PISHKHAN_LOG_FORMAT",
    secret: false,
};
const LOG_LEVEL: Setting = Setting {
    key: "log_level",
    env: "PISHKHAN_LOG_LEVEL",
    secret: false,
};
const DB_MAX_CONNECTIONS: Setting = Setting {
    key: "db_max_connections",
    env: "PISHKHAN_DB_MAX_CONNECTIONS",
    secret: false,
};

const SECURE_COOKIES: Setting = Setting {
    key: "secure_cookies",
    env: "PISHKHAN_SECURE_COOKIES",
    secret: false,
};
const SESSION_IDLE_TIMEOUT: Setting = Setting {
    key: "session_idle_timeout",
    env: "PISHKHAN_SESSION_IDLE_TIMEOUT",
    secret: false,
};
const SESSION_ABSOLUTE_TIMEOUT: Setting = Setting {
    key: "session_absolute_timeout",
    env: "PISHKHAN_SESSION_ABSOLUTE_TIMEOUT",
    secret: false,
};
const SMS_PROVIDER: Setting = Setting {
    key: "sms_provider",
    env: "PISHKHAN_SMS_PROVIDER",
    secret: false,
};
const SMS_URL: Setting = Setting {
    key: "sms_url",
    env: "PISHKHAN_SMS_URL",
    secret: false,
};
const SMS_KEY: Setting = Setting {
    key: "sms_key",
    env: "PISHKHAN_SMS_KEY",
    secret: true,
};
const SMS_TEMPLATE: Setting = Setting {
    key: "sms_template",
    env: "PISHKHAN_SMS_TEMPLATE",
    secret: false,
};

const DOCUMENTS_BUCKET: Setting = Setting {
    key: "documents_s3_bucket",
    env: "PISHKHAN_DOCUMENTS_S3_BUCKET",
    secret: false,
};
const DOCUMENTS_ENDPOINT: Setting = Setting {
    key: "documents_s3_endpoint",
    env: "PISHKHAN_DOCUMENTS_S3_ENDPOINT",
    secret: false,
};
const DOCUMENTS_REGION: Setting = Setting {
    key: "documents_s3_region",
    env: "PISHKHAN_DOCUMENTS_S3_REGION",
    secret: false,
};

const SETTINGS: [&Setting; 16] = [
    &LISTEN,
    &DATA_DIR,
    &DATABASE_URL,
    &LOG_FORMAT,
    &LOG_LEVEL,
    &DB_MAX_CONNECTIONS,
    &SECURE_COOKIES,
    &SESSION_IDLE_TIMEOUT,
    &SESSION_ABSOLUTE_TIMEOUT,
    &SMS_PROVIDER,
    &SMS_URL,
    &SMS_KEY,
    &SMS_TEMPLATE,
    &DOCUMENTS_BUCKET,
    &DOCUMENTS_ENDPOINT,
    &DOCUMENTS_REGION,
];

/// Environment variables with our prefix that are not settings of the file: the config file's
/// own path, and the test suite's variables.
pub const CONFIG_FILE_ENV: &str = "PISHKHAN_CONFIG";
const NON_SETTING_ENV_PREFIXES: [&str; 2] = [CONFIG_FILE_ENV, "PISHKHAN_TEST_"];

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "config file {}", path.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::Flag(flag) => write!(f, "command-line flag {flag}"),
        }
    }
}

/// Why the configuration cannot be used. Each message fits on one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("config file {path} cannot be read: {reason}")]
    FileUnreadable { path: PathBuf, reason: String },
    #[error("config file {path} is not valid TOML: {reason}")]
    FileSyntax { path: PathBuf, reason: String },
    #[error("unknown setting `{key}` in config file {path}; known settings: {known}")]
    UnknownKey {
        key: String,
        path: PathBuf,
        known: String,
    },
    #[error("unknown environment variable {var}; known: {known}")]
    UnknownEnv { var: String, known: String },
    #[error("setting `{key}` (from {origin}) {problem}")]
    Invalid {
        key: &'static str,
        origin: Origin,
        problem: String,
    },
}

/// A raw value and where it came from.
struct Raw {
    value: toml::Value,
    origin: Origin,
}

impl Config {
    /// Reads and validates every source. The first problem found is returned.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let file = match &sources.file {
            Some(path) => Some((path.clone(), read_file(path)?)),
            None => None,
        };
        check_env_names(&sources.env)?;

        let lookup = |setting: &Setting, flag: Option<(&'static str, String)>| -> Option<Raw> {
            if let Some((name, value)) = flag {
                return Some(Raw {
                    value: toml::Value::String(value),
                    origin: Origin::Flag(name),
                });
            }
            if let Some((_, value)) = sources.env.iter().rev().find(|(k, _)| k == setting.env) {
                return Some(Raw {
                    value: toml::Value::String(value.clone()),
                    origin: Origin::Env(setting.env),
                });
            }
            let (path, table) = file.as_ref()?;
            table.get(setting.key).map(|value| Raw {
                value: value.clone(),
                origin: Origin::File(path.clone()),
            })
        };
        let flags = &sources.overrides;

        let listen = match lookup(&LISTEN, flags.listen.clone().map(|v| ("--listen", v))) {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(raw) => {
                let text = string(&LISTEN, &raw)?;
                text.trim().parse().map_err(|_| {
                    invalid(
                        &LISTEN,
                        &raw,
                        "must be an address and port such as 127.0.0.1:8080 or [::]:8080",
                    )
                })?
            }
        };

        let data_dir = match lookup(&DATA_DIR, flags.data_dir.clone().map(|v| ("--data-dir", v))) {
            None => PathBuf::from("pishkhan-data"),
            Some(raw) => {
                let text = string(&DATA_DIR, &raw)?;
                if text.trim().is_empty() {
                    return Err(invalid(&DATA_DIR, &raw, "must name a folder"));
                }
                PathBuf::from(text)
            }
        };

        let database_flag = flags
            .database_url
            .as_ref()
            .map(|v| ("--database-url", v.expose().clone()));
        let database = match lookup(&DATABASE_URL, database_flag) {
            None => DatabaseChoice::Sqlite,
            Some(raw) => {
                let text = string(&DATABASE_URL, &raw)?;
                if text.trim().is_empty() {
                    DatabaseChoice::Sqlite
                } else {
                    postgres_location(text.trim(), &raw.origin)?;
                    DatabaseChoice::Postgres(Secret::new(text.trim().to_owned()))
                }
            }
        };

        let log_format = match lookup(&LOG_FORMAT, None) {
            None => LogFormat::Text,
            Some(raw) => match string(&LOG_FORMAT, &raw)?.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(invalid(&LOG_FORMAT, &raw, "must be one of: text, json")),
            },
        };

        let log_level = match lookup(&LOG_LEVEL, None) {
            None => LogLevel::Info,
            Some(raw) => match string(&LOG_LEVEL, &raw)?.trim() {
                "error" => LogLevel::Error,
                "warn" => LogLevel::Warn,
                "info" => LogLevel::Info,
                "debug" => LogLevel::Debug,
                "trace" => LogLevel::Trace,
                _ => {
                    return Err(invalid(
                        &LOG_LEVEL,
                        &raw,
                        "must be one of: error, warn, info, debug, trace",
                    ));
                }
            },
        };

        let db_max_connections = match lookup(&DB_MAX_CONNECTIONS, None) {
            None => 10,
            Some(raw) => {
                let number = match &raw.value {
                    toml::Value::Integer(n) => Some(*n),
                    toml::Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match number {
                    Some(n @ 1..=256) => u32::try_from(n).unwrap_or(10),
                    _ => {
                        return Err(invalid(
                            &DB_MAX_CONNECTIONS,
                            &raw,
                            "must be a whole number from 1 to 256",
                        ));
                    }
                }
            }
        };

        let secure_cookies = match lookup(&SECURE_COOKIES, None) {
            None => false,
            Some(raw) => match &raw.value {
                toml::Value::Boolean(b) => *b,
                toml::Value::String(s) if s.trim() == "true" => true,
                toml::Value::String(s) if s.trim() == "false" => false,
                _ => return Err(invalid(&SECURE_COOKIES, &raw, "must be true or false")),
            },
        };
        let duration = |setting: &'static Setting, default: Duration| match lookup(setting, None) {
            None => Ok(default),
            Some(raw) => {
                let text = string(setting, &raw)?;
                parse_duration(&text).ok_or_else(|| {
                    invalid(
                        setting,
                        &raw,
                        "must be a duration such as 45s, 30m or 12h (from 1s to 30 days)",
                    )
                })
            }
        };
        let session_idle_timeout = duration(&SESSION_IDLE_TIMEOUT, Duration::from_secs(30 * 60))?;
        let session_absolute_timeout =
            duration(&SESSION_ABSOLUTE_TIMEOUT, Duration::from_secs(12 * 3600))?;

        let optional = |setting: &'static Setting| -> Result<Option<(String, Raw)>, ConfigError> {
            match lookup(setting, None) {
                None => Ok(None),
                Some(raw) => Ok(Some((string(setting, &raw)?.trim().to_owned(), raw))),
            }
        };
        let sms = match optional(&SMS_PROVIDER)? {
            None => SmsSettings::File,
            Some((name, _)) if name == "file" => SmsSettings::File,
            Some((name, raw)) if name == "http" => {
                let Some((url, url_raw)) = optional(&SMS_URL)? else {
                    return Err(invalid(
                        &SMS_PROVIDER,
                        &raw,
                        "is `http`, which needs `sms_url` (the gateway's address) too",
                    ));
                };
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid(
                        &SMS_URL,
                        &url_raw,
                        "must be an http:// or https:// address",
                    ));
                }
                let key = optional(&SMS_KEY)?.map(|(k, _)| k).unwrap_or_default();
                let template = optional(&SMS_TEMPLATE)?
                    .map(|(t, _)| t)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| DEFAULT_SMS_TEMPLATE.to_owned());
                SmsSettings::Http {
                    url,
                    key: Secret::new(key),
                    template,
                }
            }
            Some((_, raw)) => {
                return Err(invalid(&SMS_PROVIDER, &raw, "must be one of: file, http"));
            }
        };

        // Attached files: the data folder, unless a bucket is named.
        let documents = match optional(&DOCUMENTS_BUCKET)? {
            None => DocumentSettings::Local,
            Some((bucket, _)) if bucket.is_empty() => DocumentSettings::Local,
            Some((bucket, _)) => DocumentSettings::S3 {
                bucket,
                endpoint: optional(&DOCUMENTS_ENDPOINT)?
                    .map(|(e, _)| e)
                    .filter(|e| !e.is_empty()),
                region: optional(&DOCUMENTS_REGION)?
                    .map(|(r, _)| r)
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            },
        };

        Ok(Config {
            listen,
            data_dir,
            database,
            log_format,
            log_level,
            db_max_connections,
            secure_cookies,
            session_idle_timeout,
            session_absolute_timeout,
            sms,
            documents,
        })
    }
}

/// `45s`, `30m`, `12h`, `2d`: from one second to thirty days.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        "d" => number.checked_mul(86_400)?,
        _ => return None,
    };
    (1..=30 * 86_400)
        .contains(&seconds)
        .then(|| Duration::from_secs(seconds))
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::FileUnreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::FileSyntax {
            path: path.to_owned(),
            // toml's message spans several lines with a caret; keep the first, which says what.
            reason: e.message().lines().next().unwrap_or("").to_owned()
                + &e.span()
                    .map(|span| format!(" (at line {})", line_of(&text, span.start)))
                    .unwrap_or_default(),
        }
    })?;
    if let Some(key) = table.keys().find(|k| !SETTINGS.iter().any(|s| s.key == *k)) {
        return Err(ConfigError::UnknownKey {
            key: key.clone(),
            path: path.to_owned(),
            known: SETTINGS.map(|s| s.key).join(", "),
        });
    }
    Ok(table)
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

fn check_env_names(env: &[(String, String)]) -> Result<(), ConfigError> {
    for (name, _) in env {
        let ours = name.starts_with("PISHKHAN_");
        let known = SETTINGS.iter().any(|s| s.env == name)
            || NON_SETTING_ENV_PREFIXES.iter().any(|p| name.starts_with(p));
        if ours && !known {
            let mut names: Vec<&str> = SETTINGS.iter().map(|s| s.env).collect();
            names.push(CONFIG_FILE_ENV);
            return Err(ConfigError::UnknownEnv {
                var: name.clone(),
                known: names.join(", "),
            });
        }
    }
    Ok(())
}

fn string(setting: &'static Setting, raw: &Raw) -> Result<String, ConfigError> {
    match &raw.value {
        toml::Value::String(s) => Ok(s.clone()),
        _ => Err(invalid(setting, raw, "must be a string (in quotes)")),
    }
}

fn invalid(setting: &'static Setting, raw: &Raw, rule: &str) -> ConfigError {
    let found = if setting.secret {
        String::new()
    } else {
        match &raw.value {
            toml::Value::String(s) => format!(" (found `{s}`)"),
            other => format!(" (found {other})"),
        }
    };
    ConfigError::Invalid {
        key: setting.key,
        origin: raw.origin.clone(),
        problem: format!("{rule}{found}"),
    }
}

fn postgres_location(url: &str, origin: &Origin) -> Result<DatabaseLocation, ConfigError> {
    DatabaseLocation::postgres_url(url).map_err(|e| ConfigError::Invalid {
        key: DATABASE_URL.key,
        origin: origin.clone(),
        problem: format!(
            "must be a PostgreSQL URL such as postgres://user@127.0.0.1:5432/pishkhan, \
             or unset for SQLite in the data folder: {e}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pishkhan.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn sessions_and_sms_are_configurable() {
        let config = Config::load(&Sources {
            env: env(&[
                ("PISHKHAN_SESSION_IDLE_TIMEOUT", "5s"),
                ("PISHKHAN_SMS_PROVIDER", "http"),
                ("PISHKHAN_SMS_URL", "https://sms.example/{key}/send"),
                ("PISHKHAN_SMS_KEY", "k-123"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(config.session_idle_timeout, Duration::from_secs(5));
        assert_eq!(
            config.session_absolute_timeout,
            Duration::from_secs(12 * 3600)
        );
        assert!(!config.secure_cookies);
        assert!(
            matches!(&config.sms, SmsSettings::Http { template, .. } if template == DEFAULT_SMS_TEMPLATE)
        );
        assert!(
            !format!("{config:?}").contains("k-123"),
            "the key stays secret"
        );
        let err = Config::load(&Sources {
            env: env(&[("PISHKHAN_SMS_PROVIDER", "http")]),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("sms_url"), "{err}");
        let err = Config::load(&Sources {
            env: env(&[("PISHKHAN_SESSION_ABSOLUTE_TIMEOUT", "forever")]),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("30m"), "{err}");
        assert_eq!(parse_duration("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("31d"), None);
    }

    #[test]
    fn defaults_serve_sqlite_on_loopback() {
        let config = Config::load(&Sources::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("pishkhan-data"));
        assert!(matches!(config.database, DatabaseChoice::Sqlite));
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.log_level, LogLevel::Info);
        assert_eq!(config.db_max_connections, 10);
    }

    #[test]
    fn flags_beat_env_and_env_beats_file() {
        let (_dir, path) =
            file("listen = \"127.0.0.1:1000\"\ndata_dir = \"from-file\"\nlog_format = \"json\"\n");
        let sources = Sources {
            file: Some(path),
            env: env(&[
                ("PISHKHAN_LISTEN", "127.0.0.1:2000"),
                ("PISHKHAN_DATA_DIR", "from-env"),
            ]),
            overrides: Overrides {
                listen: Some("127.0.0.1:3000".into()),
                ..Overrides::default()
            },
        };
        let config = Config::load(&sources).unwrap();
        assert_eq!(config.listen.port(), 3000);
        assert_eq!(config.data_dir, PathBuf::from("from-env"));
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn a_wrong_value_names_the_setting_its_source_and_what_is_allowed() {
        let sources = Sources {
            env: env(&[("PISHKHAN_LOG_FORMAT", "xml")]),
            ..Sources::default()
        };
        let message = Config::load(&sources).unwrap_err().to_string();
        assert_eq!(
            message,
            "setting `log_format` (from environment variable PISHKHAN_LOG_FORMAT) \
             must be one of: text, json (found `xml`)"
        );
    }

    #[test]
    fn numbers_are_checked_in_range_from_file_and_env() {
        let (_dir, path) = file("db_max_connections = 0\n");
        let err = Config::load(&Sources {
            file: Some(path.clone()),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("must be a whole number from 1 to 256 (found 0)")
        );
        let config = Config::load(&Sources {
            file: Some(path),
            env: env(&[("PISHKHAN_DB_MAX_CONNECTIONS", "32")]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(config.db_max_connections, 32);
    }

    #[test]
    fn unknown_keys_and_variables_are_refused() {
        let (_dir, path) = file("listn = \"127.0.0.1:1\"\n");
        let err = Config::load(&Sources {
            file: Some(path),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "listn"));

        let err = Config::load(&Sources {
            env: env(&[("PISHKHAN_LISTN", "x")]),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown environment variable PISHKHAN_LISTN")
        );

        // The test suite's own variables are not settings, and are not refused.
        Config::load(&Sources {
            env: env(&[("PISHKHAN_TEST_DATABASE_URL", "postgres://x/y")]),
            ..Sources::default()
        })
        .unwrap();
    }

    #[test]
    fn a_broken_file_says_where() {
        let (_dir, path) = file("listen = \"127.0.0.1:1\"\ndata_dir = \n");
        let err = Config::load(&Sources {
            file: Some(path),
            ..Sources::default()
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("is not valid TOML"), "{message}");
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");

        let missing = Config::load(&Sources {
            file: Some(PathBuf::from("/nonexistent/pishkhan.toml")),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(matches!(missing, ConfigError::FileUnreadable { .. }));
    }

    #[test]
    fn database_urls_are_checked_but_never_repeated() {
        let err = Config::load(&Sources {
            overrides: Overrides {
                database_url: Some(Secret::new("mysql://root:hunter2@db/x".into())),
                ..Overrides::default()
            },
            ..Sources::default()
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("--database-url"), "{message}");
        assert!(message.contains("postgres://"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");

        let config = Config::load(&Sources {
            env: env(&[(
                "PISHKHAN_DATABASE_URL",
                "postgres://app:hunter2@127.0.0.1:5432/pishkhan",
            )]),
            ..Sources::default()
        })
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(
            config.database_location().unwrap().describe(),
            "PostgreSQL at 127.0.0.1:5432/pishkhan"
        );
    }

    #[test]
    fn an_empty_database_url_means_sqlite_in_the_data_folder() {
        let config = Config::load(&Sources {
            env: env(&[
                ("PISHKHAN_DATABASE_URL", ""),
                ("PISHKHAN_DATA_DIR", "/srv/p"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(
            config.database_location().unwrap().describe(),
            "SQLite file /srv/p/pishkhan.sqlite3"
        );
    }
}
