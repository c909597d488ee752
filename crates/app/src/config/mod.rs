//! Configuration: typed, validated once at start.
//!
//! Sources, later ones winning: built-in defaults, an optional TOML file, `PISHKHAN_*` environment
//! variables, command-line flags. Every error names the setting, where its value came from and
//! what is allowed; a secret's value is never repeated.
//!
//! Each setting is declared once, as a [`Setting`]: its key in the file, its environment
//! variable, its flag, whether it is secret, its default and its check. [`Config::read`] reads
//! every one of them through a [`Reader`], which also learns from it which keys and variables
//! exist. Adding a setting is one declaration, one field and one line in `read`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pishkhan_store::DatabaseLocation;

use crate::Secret;
use crate::documents::DocumentSettings;
use crate::ownership::OwnershipSettings;

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
    /// How long a statement waits for another transaction's lock before it fails.
    pub db_lock_timeout: Duration,
    /// How long one statement may run (PostgreSQL).
    pub db_statement_timeout: Duration,
    /// Mark cookies `Secure` (and use the `__Host-` prefix): set when Pishkhan is served over TLS.
    pub secure_cookies: bool,
    /// The address people reach Pishkhan at (`https://pishkhan.example.ir`), for every absolute
    /// link it writes; unset, one made from `listen`. Never the request's `Host`, which anyone
    /// can send.
    pub public_origin: Option<String>,
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_timeout: Duration,
    /// Where text messages go.
    pub sms: SmsSettings,
    /// Where attached files are kept.
    pub documents: DocumentSettings,
    /// The local documents folder is one every node sees (a network file system): only then may
    /// several nodes (PostgreSQL) keep documents in it.
    pub documents_shared: bool,
    /// Who says whether a mobile line is a national ID's.
    pub mobile_ownership: OwnershipSettings,
    /// What the server accepts at once, and how long it waits.
    pub limits: Limits,
    /// The file of keys that seal secrets in the database; unset: `secrets.key` in the data
    /// folder.
    pub secrets_key_file: Option<PathBuf>,
    /// The file of the keys that sign outputs (Ed25519, 0600); unset: `signing.key` in the data
    /// folder.
    pub signing_key_file: Option<PathBuf>,
    /// The bearer token `/metrics` asks for; empty: `/metrics` is off (404).
    pub metrics_token: Secret<String>,
    /// The payment gateway fees are paid online through; unset: online payment is off and
    /// fees are paid at a counter (or exempted by the agency).
    pub payment: Option<PaymentSettings>,
}

/// A bank gateway's redirect flow (token → the bank's page → callback → verify → settle).
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// The gateway's address (`https://gateway.bank.ir`); the sandbox bank in the demo.
    pub url: String,
    /// Pishkhan's merchant terminal at the gateway.
    pub terminal: String,
    /// The terminal's key: never logged.
    pub key: Secret<String>,
}

/// What one process accepts at once, and how long it waits (see `web::server`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one peer address.
    pub max_connections_per_address: usize,
    /// A request's head must arrive within this; an idle keep-alive connection ends after it.
    pub header_timeout: Duration,
    /// A request, its body included, must be answered within this.
    pub request_timeout: Duration,
    /// Request bodies being received at once, all requests together, in bytes.
    pub max_body_in_flight: usize,
    /// Reverse proxies whose `forwarded_header` is believed (only from these peers).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Which header the proxies set; the other is never believed (a client could forge it and
    /// the proxy would pass it on).
    pub forwarded_header: ForwardedHeader,
    /// Text messages of sign-in and consent codes, all numbers together, in a minute.
    pub sms_per_minute: u32,
    /// Bytes of files one person's drafts hold together, at most.
    pub draft_quota: usize,
    /// Writes waiting for the database writer, at most; one more is answered 503.
    pub write_queue: usize,
    /// How long a request waits for its write to be committed.
    pub write_wait: Duration,
    /// Below this much free space in the data folder's file system, in bytes, writes that store
    /// files are refused (503) and `/readyz` says the storage is full.
    pub min_free_disk: u64,
}

/// The header a trusted reverse proxy names the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx's `$proxy_add_x_forwarded_for`).
    XForwardedFor,
    /// RFC 7239: `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
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
    /// Why `serve` must not start with these settings, if it must not: with PostgreSQL, several
    /// nodes serve one database, and a documents folder only this machine sees would lose every
    /// scan filed through another node.
    /// Where the keys that seal secrets are.
    pub fn secrets_key_file(&self) -> PathBuf {
        self.secrets_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets.key"))
    }

    /// Where the keys that sign outputs are.
    pub fn signing_key_file(&self) -> PathBuf {
        self.signing_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("signing.key"))
    }

    pub fn serving_problem(&self) -> Option<String> {
        let several_nodes = matches!(self.database, DatabaseChoice::Postgres(_));
        let local = matches!(self.documents, DocumentSettings::Local);
        (several_nodes && local && !self.documents_shared).then(|| {
            format!(
                "with PostgreSQL, documents must be kept where every node sees them: set \
                 documents_s3_bucket (PISHKHAN_DOCUMENTS_S3_BUCKET), or, if {} is on a file \
                 system every node mounts, documents_shared = true (PISHKHAN_DOCUMENTS_SHARED=true)",
                self.data_dir.join("documents").display()
            )
        })
    }

    /// `scheme://host[:port]` for absolute links (canonical URLs, the sitemap, JSON-LD, the
    /// tracking link on receipts): `public_origin`, or one made from `listen` (`localhost` for
    /// an address that means "every interface").
    pub fn public_origin(&self) -> String {
        if let Some(origin) = &self.public_origin {
            return origin.clone();
        }
        let scheme = if self.secure_cookies { "https" } else { "http" };
        let host = if self.listen.ip().is_unspecified() {
            "localhost".to_owned()
        } else {
            match self.listen.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            }
        };
        match (scheme, self.listen.port()) {
            ("http", 80) | ("https", 443) => format!("{scheme}://{host}"),
            (_, port) => format!("{scheme}://{host}:{port}"),
        }
    }

    /// Where the store is, for this configuration.
    pub fn database_location(&self) -> Result<DatabaseLocation, ConfigError> {
        match &self.database {
            DatabaseChoice::Sqlite => Ok(DatabaseLocation::SqliteFile(
                self.data_dir.join(SQLITE_FILE_NAME),
            )),
            DatabaseChoice::Postgres(url) => {
                postgres_location(url.expose()).map_err(|problem| ConfigError::Invalid {
                    key: DATABASE_URL.key,
                    origin: Origin::Default,
                    problem,
                })
            }
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

mod settings;
#[cfg(test)]
mod tests;

use settings::*;
pub use settings::{DATA_DIR, DATABASE_URL, LISTEN, Setting};

impl Config {
    /// Reads every setting. The one place that lists them: the reader learns from these calls
    /// which keys and variables exist.
    fn read(r: &mut Reader) -> Config {
        let listen = r.read(&LISTEN);
        let data_dir = r.read(&DATA_DIR);
        let database = r.read(&DATABASE_URL);
        let log_format = r.read(&LOG_FORMAT);
        let log_level = r.read(&LOG_LEVEL);
        let db_max_connections = r.read(&DB_MAX_CONNECTIONS);
        let db_lock_timeout = r.read(&DB_LOCK_TIMEOUT);
        let db_statement_timeout = r.read(&DB_STATEMENT_TIMEOUT);
        let secure_cookies = r.read(&SECURE_COOKIES);
        let public_origin = r.read(&PUBLIC_ORIGIN);
        let session_idle_timeout = r.read(&SESSION_IDLE_TIMEOUT);
        let session_absolute_timeout = r.read(&SESSION_ABSOLUTE_TIMEOUT);
        let sms_provider = r.read(&SMS_PROVIDER);
        let sms_url = r.read(&SMS_URL);
        let sms_key = r.read(&SMS_KEY);
        let sms_template = r.read(&SMS_TEMPLATE);
        let bucket = r.read(&DOCUMENTS_BUCKET);
        let endpoint = r.read(&DOCUMENTS_ENDPOINT);
        let region = r.read(&DOCUMENTS_REGION);
        let limits = Limits {
            max_connections: r.read(&MAX_CONNECTIONS) as usize,
            max_connections_per_address: r.read(&MAX_CONNECTIONS_PER_ADDRESS) as usize,
            header_timeout: r.read(&HEADER_TIMEOUT),
            request_timeout: r.read(&REQUEST_TIMEOUT),
            max_body_in_flight: r.read(&MAX_BODY_IN_FLIGHT_MIB) as usize * 1024 * 1024,
            trusted_proxies: r.read(&TRUSTED_PROXIES),
            forwarded_header: r.read(&FORWARDED_HEADER),
            sms_per_minute: r.read(&SMS_PER_MINUTE),
            draft_quota: r.read(&DRAFT_QUOTA_MIB) as usize * 1024 * 1024,
            write_queue: r.read(&WRITE_QUEUE) as usize,
            write_wait: r.read(&WRITE_WAIT),
            min_free_disk: u64::from(r.read(&MIN_FREE_DISK_MIB)) * 1024 * 1024,
        };
        let metrics_token = r.read(&METRICS_TOKEN);
        let secrets_key_file = r.read(&SECRETS_KEY_FILE).map(PathBuf::from);
        let signing_key_file = r.read(&SIGNING_KEY_FILE).map(PathBuf::from);
        let ownership_provider = r.read(&MOBILE_OWNERSHIP_PROVIDER);
        let ownership_url = r.read(&MOBILE_OWNERSHIP_URL);
        let ownership_key = r.read(&MOBILE_OWNERSHIP_KEY);
        let national_id_field = r.read(&MOBILE_OWNERSHIP_NATIONAL_ID_FIELD);
        let mobile_field = r.read(&MOBILE_OWNERSHIP_MOBILE_FIELD);
        let match_field = r.read(&MOBILE_OWNERSHIP_MATCH_FIELD);
        let ownership_timeout = r.read(&MOBILE_OWNERSHIP_TIMEOUT);
        let payment_url = r.read(&PAYMENT_GATEWAY_URL);
        let payment_terminal = r.read(&PAYMENT_TERMINAL);
        let payment_key = r.read(&PAYMENT_KEY);

        let sms = match (sms_provider, sms_url) {
            (SmsProvider::File, _) => SmsSettings::File,
            (SmsProvider::Http, Some(url))
                if !(url.starts_with("https://") || url.starts_with("http://")) =>
            {
                r.refuse(&SMS_URL, "must be an http:// or https:// address");
                SmsSettings::File
            }
            (SmsProvider::Http, Some(url)) => SmsSettings::Http {
                url,
                key: sms_key,
                template: sms_template,
            },
            (SmsProvider::Http, None) => {
                r.refuse(
                    &SMS_PROVIDER,
                    "is `http`, which needs `sms_url` (the gateway's address) too",
                );
                SmsSettings::File
            }
        };
        // Attached files: the data folder, unless a bucket is named.
        let documents = match bucket {
            None => DocumentSettings::Local,
            Some(bucket) => DocumentSettings::S3 {
                bucket,
                endpoint,
                region,
            },
        };
        let mobile_ownership = match (ownership_provider, ownership_url) {
            (OwnershipProvider::File, _) => OwnershipSettings::File,
            (OwnershipProvider::Http, Some(url))
                if url.starts_with("https://") || url.starts_with("http://") =>
            {
                OwnershipSettings::Http {
                    url,
                    key: ownership_key,
                    national_id_field,
                    mobile_field,
                    match_field,
                    timeout: ownership_timeout,
                }
            }
            (OwnershipProvider::Http, Some(_)) => {
                r.refuse(
                    &MOBILE_OWNERSHIP_URL,
                    "must be an http:// or https:// address",
                );
                OwnershipSettings::File
            }
            (OwnershipProvider::Http, None) => {
                r.refuse(
                    &MOBILE_OWNERSHIP_PROVIDER,
                    "is `http`, which needs `mobile_ownership_url` (the registry's address) too",
                );
                OwnershipSettings::File
            }
        };
        let payment = match payment_url {
            None => None,
            Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                r.refuse(
                    &PAYMENT_GATEWAY_URL,
                    "must be an http:// or https:// address",
                );
                None
            }
            Some(_) if payment_terminal.is_empty() || payment_key.expose().is_empty() => {
                r.refuse(
                    &PAYMENT_GATEWAY_URL,
                    "is set, which needs `payment_terminal` and `payment_key` (the merchant's terminal at the gateway) too",
                );
                None
            }
            Some(url) => Some(PaymentSettings {
                url: url.trim_end_matches('/').to_owned(),
                terminal: payment_terminal,
                key: payment_key,
            }),
        };
        Config {
            listen,
            data_dir,
            database,
            log_format,
            log_level,
            db_max_connections,
            db_lock_timeout,
            db_statement_timeout,
            secure_cookies,
            public_origin,
            session_idle_timeout,
            session_absolute_timeout,
            sms,
            documents,
            documents_shared: r.read(&DOCUMENTS_SHARED),
            mobile_ownership,
            limits,
            metrics_token,
            secrets_key_file,
            signing_key_file,
            payment,
        }
    }

    /// Reads and validates every source. Unknown keys and variables are reported first, then
    /// the first setting whose value is wrong.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let file = match &sources.file {
            Some(path) => Some((path.clone(), read_file(path)?)),
            None => None,
        };
        let mut reader = Reader {
            file: file.as_ref(),
            env: &sources.env,
            flags: &sources.overrides,
            known: Vec::new(),
            refused: None,
        };
        let config = Config::read(&mut reader);
        reader.finish()?;
        Ok(config)
    }

    /// Every setting: its key in the file, its environment variable, and whether it is secret.
    pub fn settings() -> Vec<(&'static str, &'static str, bool)> {
        let sources = Sources::default();
        let mut reader = Reader {
            file: None,
            env: &sources.env,
            flags: &sources.overrides,
            known: Vec::new(),
            refused: None,
        };
        Config::read(&mut reader);
        reader.known
    }
}

// ---- Reading them ---------------------------------------------------------------------------

/// Values given on the command line, by the setting they set; they win over every other source.
#[derive(Default, Clone)]
pub struct Overrides {
    values: BTreeMap<&'static str, Secret<String>>,
}

impl Overrides {
    /// Sets `setting` from its flag (a setting without a flag cannot be set this way).
    pub fn set<T>(&mut self, setting: &Setting<T>, value: Option<String>) -> &mut Overrides {
        if let (Some(value), Some(_)) = (value, setting.flag) {
            self.values.insert(setting.key, Secret::new(value));
        }
        self
    }

    /// Whether `setting` was given a value.
    pub fn has<T>(&self, setting: &Setting<T>) -> bool {
        self.values.contains_key(setting.key)
    }
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which settings, never their values (a database URL may carry a password).
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// Everything configuration is read from. `env` is passed in (not read here) so tests can give
/// their own.
#[derive(Debug, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub overrides: Overrides,
}

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

/// Reads settings from the sources, in order of precedence, remembering which settings exist
/// and the first value refused.
struct Reader<'a> {
    file: Option<&'a (PathBuf, toml::Table)>,
    env: &'a [(String, String)],
    flags: &'a Overrides,
    /// `(key, environment variable, secret)` of every setting read so far.
    known: Vec<(&'static str, &'static str, bool)>,
    refused: Option<ConfigError>,
}

impl Reader<'_> {
    /// The setting's value from the strongest source that has one, checked; its default when
    /// none has (or when the value is refused: the refusal is kept for [`Reader::finish`]).
    fn read<T>(&mut self, setting: &Setting<T>) -> T {
        self.known.push((setting.key, setting.env, setting.secret));
        let Some(raw) = self.raw(setting) else {
            return (setting.default)();
        };
        match (setting.parse)(&raw.value) {
            Ok(value) => value,
            Err(rule) => {
                self.refuse_raw(setting, &raw, &rule);
                (setting.default)()
            }
        }
    }

    /// Refuses `setting`'s value for a reason that involves other settings.
    fn refuse<T>(&mut self, setting: &Setting<T>, rule: &str) {
        let raw = self.raw(setting).unwrap_or(Raw {
            value: toml::Value::String(String::new()),
            origin: Origin::Default,
        });
        self.refuse_raw(setting, &raw, rule);
    }

    fn refuse_raw<T>(&mut self, setting: &Setting<T>, raw: &Raw, rule: &str) {
        if self.refused.is_some() {
            return;
        }
        let found = if setting.secret {
            String::new()
        } else {
            match &raw.value {
                toml::Value::String(s) => format!(" (found `{s}`)"),
                other => format!(" (found {other})"),
            }
        };
        self.refused = Some(ConfigError::Invalid {
            key: setting.key,
            origin: raw.origin.clone(),
            problem: format!("{rule}{found}"),
        });
    }

    fn raw<T>(&self, setting: &Setting<T>) -> Option<Raw> {
        if let (Some(flag), Some(value)) = (setting.flag, self.flags.values.get(setting.key)) {
            return Some(Raw {
                value: toml::Value::String(value.expose().clone()),
                origin: Origin::Flag(flag),
            });
        }
        if let Some((_, value)) = self.env.iter().rev().find(|(k, _)| k == setting.env) {
            return Some(Raw {
                value: toml::Value::String(value.clone()),
                origin: Origin::Env(setting.env),
            });
        }
        let (path, table) = self.file?;
        table.get(setting.key).map(|value| Raw {
            value: value.clone(),
            origin: Origin::File(path.clone()),
        })
    }

    /// Unknown keys in the file and unknown `PISHKHAN_*` variables, then the first refusal.
    fn finish(self) -> Result<(), ConfigError> {
        if let Some((path, table)) = self.file
            && let Some(key) = table
                .keys()
                .find(|k| !self.known.iter().any(|(known, _, _)| known == k))
        {
            return Err(ConfigError::UnknownKey {
                key: key.clone(),
                path: path.clone(),
                known: self
                    .known
                    .iter()
                    .map(|(key, _, _)| *key)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        for (name, _) in self.env {
            let ours = name.starts_with("PISHKHAN_");
            let known = self.known.iter().any(|(_, env, _)| env == name)
                || NON_SETTING_ENV_PREFIXES.iter().any(|p| name.starts_with(p));
            if ours && !known {
                let mut names: Vec<&str> = self.known.iter().map(|(_, env, _)| *env).collect();
                names.push(CONFIG_FILE_ENV);
                return Err(ConfigError::UnknownEnv {
                    var: name.clone(),
                    known: names.join(", "),
                });
            }
        }
        match self.refused {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::FileUnreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    text.parse().map_err(|e: toml::de::Error| {
        ConfigError::FileSyntax {
            path: path.to_owned(),
            // toml's message spans several lines with a caret; keep the first, which says what.
            reason: e.message().lines().next().unwrap_or("").to_owned()
                + &e.span()
                    .map(|span| format!(" (at line {})", line_of(&text, span.start)))
                    .unwrap_or_default(),
        }
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}
