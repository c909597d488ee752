//! Every setting, declared once: its key, environment variable, flag, whether it is secret, its
//! default and its check; and the checks settings share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pishkhan_store::DatabaseLocation;

use super::{DEFAULT_SMS_TEMPLATE, DatabaseChoice, ForwardedHeader, LogFormat, LogLevel};
use crate::Secret;

/// Which SMS provider `sms_provider` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SmsProvider {
    File,
    Http,
}

/// One setting, declared once: where it is read from, what it is when nothing sets it, and
/// what a value must be.
pub struct Setting<T: 'static> {
    /// Its key in the TOML file, and its name in every message.
    pub key: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// The command-line flag that sets it, if there is one (see [`Overrides`]).
    pub flag: Option<&'static str>,
    /// A secret's value is never repeated, not even in an error about it.
    pub secret: bool,
    /// Its value when no source sets it.
    pub default: fn() -> T,
    /// A source's value, checked; or what is allowed, as the end of "setting `key` (from …) …".
    pub parse: fn(&toml::Value) -> Result<T, String>,
}

pub const LISTEN: Setting<SocketAddr> = Setting {
    key: "listen",
    env: "PISHKHAN_LISTEN",
    flag: Some("--listen"),
    secret: false,
    default: || SocketAddr::from(([127, 0, 0, 1], 8080)),
    parse: |value| {
        text(value)?.trim().parse().map_err(|_| {
            "must be an address and port such as 127.0.0.1:8080 or [::]:8080".to_owned()
        })
    },
};

pub const DATA_DIR: Setting<PathBuf> = Setting {
    key: "data_dir",
    env: "PISHKHAN_DATA_DIR",
    flag: Some("--data-dir"),
    secret: false,
    default: || PathBuf::from("pishkhan-data"),
    parse: |value| match text(value)? {
        t if t.trim().is_empty() => Err("must name a folder".to_owned()),
        t => Ok(PathBuf::from(t)),
    },
};

pub const DATABASE_URL: Setting<DatabaseChoice> = Setting {
    key: "database_url",
    env: "PISHKHAN_DATABASE_URL",
    flag: Some("--database-url"),
    secret: true,
    default: || DatabaseChoice::Sqlite,
    parse: |value| match text(value)?.trim() {
        "" => Ok(DatabaseChoice::Sqlite),
        url => {
            postgres_location(url)?;
            Ok(DatabaseChoice::Postgres(Secret::new(url.to_owned())))
        }
    },
};

pub(super) const LOG_FORMAT: Setting<LogFormat> = Setting {
    key: "log_format",
    env: "PISHKHAN_LOG_FORMAT",
    flag: None,
    secret: false,
    default: || LogFormat::Text,
    parse: |value| {
        one_of(
            value,
            &[("text", LogFormat::Text), ("json", LogFormat::Json)],
        )
    },
};

pub(super) const LOG_LEVEL: Setting<LogLevel> = Setting {
    key: "log_level",
    env: "PISHKHAN_LOG_LEVEL",
    flag: None,
    secret: false,
    default: || LogLevel::Info,
    parse: |value| {
        one_of(
            value,
            &[
                ("error", LogLevel::Error),
                ("warn", LogLevel::Warn),
                ("info", LogLevel::Info),
                ("debug", LogLevel::Debug),
                ("trace", LogLevel::Trace),
            ],
        )
    },
};

pub(super) const DB_MAX_CONNECTIONS: Setting<u32> = Setting {
    key: "db_max_connections",
    env: "PISHKHAN_DB_MAX_CONNECTIONS",
    flag: None,
    secret: false,
    default: || 10,
    parse: |value| whole_number(value, 1..=256),
};

pub(super) const DB_LOCK_TIMEOUT: Setting<Duration> = Setting {
    key: "db_lock_timeout",
    env: "PISHKHAN_DB_LOCK_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(5),
    parse: duration,
};

pub(super) const DB_STATEMENT_TIMEOUT: Setting<Duration> = Setting {
    key: "db_statement_timeout",
    env: "PISHKHAN_DB_STATEMENT_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(60),
    parse: duration,
};

pub(super) const PUBLIC_ORIGIN: Setting<Option<String>> = Setting {
    key: "public_origin",
    env: "PISHKHAN_PUBLIC_ORIGIN",
    flag: None,
    secret: false,
    default: || None,
    parse: |value| {
        let origin = text(value)?.trim().trim_end_matches('/');
        if origin.is_empty() {
            return Ok(None);
        }
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or("");
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            return Err(
                "must be the address people use, such as https://pishkhan.example.ir (no path)"
                    .to_owned(),
            );
        }
        Ok(Some(origin.to_owned()))
    },
};

pub(super) const SECURE_COOKIES: Setting<bool> = Setting {
    key: "secure_cookies",
    env: "PISHKHAN_SECURE_COOKIES",
    flag: None,
    secret: false,
    default: || false,
    parse: boolean,
};

pub(super) const SESSION_IDLE_TIMEOUT: Setting<Duration> = Setting {
    key: "session_idle_timeout",
    env: "PISHKHAN_SESSION_IDLE_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(30 * 60),
    parse: duration,
};

pub(super) const SESSION_ABSOLUTE_TIMEOUT: Setting<Duration> = Setting {
    key: "session_absolute_timeout",
    env: "PISHKHAN_SESSION_ABSOLUTE_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(12 * 3600),
    parse: duration,
};

pub(super) const SMS_PROVIDER: Setting<SmsProvider> = Setting {
    key: "sms_provider",
    env: "PISHKHAN_SMS_PROVIDER",
    flag: None,
    secret: false,
    default: || SmsProvider::File,
    parse: |value| {
        one_of(
            value,
            &[("file", SmsProvider::File), ("http", SmsProvider::Http)],
        )
    },
};

pub(super) const SMS_URL: Setting<Option<String>> = Setting {
    key: "sms_url",
    env: "PISHKHAN_SMS_URL",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const SMS_KEY: Setting<Secret<String>> = Setting {
    key: "sms_key",
    env: "PISHKHAN_SMS_KEY",
    flag: None,
    secret: true,
    default: || Secret::new(String::new()),
    parse: |value| Ok(Secret::new(text(value)?.trim().to_owned())),
};

pub(super) const SMS_TEMPLATE: Setting<String> = Setting {
    key: "sms_template",
    env: "PISHKHAN_SMS_TEMPLATE",
    flag: None,
    secret: false,
    default: || DEFAULT_SMS_TEMPLATE.to_owned(),
    parse: |value| match text(value)?.trim() {
        "" => Ok(DEFAULT_SMS_TEMPLATE.to_owned()),
        template => Ok(template.to_owned()),
    },
};

pub(super) const MAX_CONNECTIONS: Setting<u32> = Setting {
    key: "max_connections",
    env: "PISHKHAN_MAX_CONNECTIONS",
    flag: None,
    secret: false,
    default: || 1024,
    parse: |value| whole_number(value, 1..=65_536),
};

pub(super) const MAX_CONNECTIONS_PER_ADDRESS: Setting<u32> = Setting {
    key: "max_connections_per_address",
    env: "PISHKHAN_MAX_CONNECTIONS_PER_ADDRESS",
    flag: None,
    secret: false,
    default: || 64,
    parse: |value| whole_number(value, 1..=65_536),
};

pub(super) const HEADER_TIMEOUT: Setting<Duration> = Setting {
    key: "header_timeout",
    env: "PISHKHAN_HEADER_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(10),
    parse: duration,
};

pub(super) const REQUEST_TIMEOUT: Setting<Duration> = Setting {
    key: "request_timeout",
    env: "PISHKHAN_REQUEST_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(120),
    parse: duration,
};

pub(super) const MAX_BODY_IN_FLIGHT_MIB: Setting<u32> = Setting {
    key: "max_body_in_flight_mib",
    env: "PISHKHAN_MAX_BODY_IN_FLIGHT_MIB",
    flag: None,
    secret: false,
    default: || 256,
    parse: |value| whole_number(value, 1..=65_536),
};

pub(super) const TRUSTED_PROXIES: Setting<Vec<ipnet::IpNet>> = Setting {
    key: "trusted_proxies",
    env: "PISHKHAN_TRUSTED_PROXIES",
    flag: None,
    secret: false,
    default: Vec::new,
    parse: |value| {
        let entries: Vec<String> = match value {
            toml::Value::Array(items) => items
                .iter()
                .map(|item| text(item).map(str::to_owned))
                .collect::<Result<_, _>>()?,
            other => text(other)?
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!("`{entry}` is not an address or a CIDR block (like 10.0.0.0/8)")
                    })
            })
            .collect()
    },
};

pub(super) const FORWARDED_HEADER: Setting<ForwardedHeader> = Setting {
    key: "forwarded_header",
    env: "PISHKHAN_FORWARDED_HEADER",
    flag: None,
    secret: false,
    default: || ForwardedHeader::XForwardedFor,
    parse: |value| match text(value)?.trim().to_ascii_lowercase().as_str() {
        "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
        "forwarded" => Ok(ForwardedHeader::Forwarded),
        _ => Err("must be `x-forwarded-for` or `forwarded`".to_owned()),
    },
};

pub(super) const SMS_PER_MINUTE: Setting<u32> = Setting {
    key: "sms_per_minute",
    env: "PISHKHAN_SMS_PER_MINUTE",
    flag: None,
    secret: false,
    default: || 120,
    parse: |value| whole_number(value, 1..=100_000),
};

pub(super) const SECRETS_KEY_FILE: Setting<Option<String>> = Setting {
    key: "secrets_key_file",
    env: "PISHKHAN_SECRETS_KEY_FILE",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const SIGNING_KEY_FILE: Setting<Option<String>> = Setting {
    key: "signing_key_file",
    env: "PISHKHAN_SIGNING_KEY_FILE",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const DRAFT_QUOTA_MIB: Setting<u32> = Setting {
    key: "draft_quota_mib",
    env: "PISHKHAN_DRAFT_QUOTA_MIB",
    flag: None,
    secret: false,
    default: || 50,
    parse: |value| whole_number(value, 1..=10_000),
};

pub(super) const WRITE_QUEUE: Setting<u32> = Setting {
    key: "write_queue",
    env: "PISHKHAN_WRITE_QUEUE",
    flag: None,
    secret: false,
    default: || 4096,
    parse: |value| whole_number(value, 1..=1_000_000),
};

pub(super) const WRITE_WAIT: Setting<Duration> = Setting {
    key: "write_wait",
    env: "PISHKHAN_WRITE_WAIT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(20),
    parse: duration,
};

pub(super) const MIN_FREE_DISK_MIB: Setting<u32> = Setting {
    key: "min_free_disk_mib",
    env: "PISHKHAN_MIN_FREE_DISK_MIB",
    flag: None,
    secret: false,
    default: || 64,
    parse: |value| whole_number(value, 0..=1_000_000),
};

pub(super) const METRICS_TOKEN: Setting<Secret<String>> = Setting {
    key: "metrics_token",
    env: "PISHKHAN_METRICS_TOKEN",
    flag: None,
    secret: true,
    default: || Secret::new(String::new()),
    parse: |value| match text(value)?.trim() {
        token if token.is_empty() || token.len() >= 16 => Ok(Secret::new(token.to_owned())),
        _ => Err("must be at least 16 characters (or empty: /metrics is off)".to_owned()),
    },
};

/// Which registry `mobile_ownership_provider` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OwnershipProvider {
    File,
    Http,
}

pub(super) const MOBILE_OWNERSHIP_PROVIDER: Setting<OwnershipProvider> = Setting {
    key: "mobile_ownership_provider",
    env: "PISHKHAN_MOBILE_OWNERSHIP_PROVIDER",
    flag: None,
    secret: false,
    default: || OwnershipProvider::File,
    parse: |value| {
        one_of(
            value,
            &[
                ("file", OwnershipProvider::File),
                ("http", OwnershipProvider::Http),
            ],
        )
    },
};

pub(super) const MOBILE_OWNERSHIP_URL: Setting<Option<String>> = Setting {
    key: "mobile_ownership_url",
    env: "PISHKHAN_MOBILE_OWNERSHIP_URL",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const MOBILE_OWNERSHIP_KEY: Setting<Secret<String>> = Setting {
    key: "mobile_ownership_key",
    env: "PISHKHAN_MOBILE_OWNERSHIP_KEY",
    flag: None,
    secret: true,
    default: || Secret::new(String::new()),
    parse: |value| Ok(Secret::new(text(value)?.trim().to_owned())),
};

pub(super) const MOBILE_OWNERSHIP_NATIONAL_ID_FIELD: Setting<String> = Setting {
    key: "mobile_ownership_national_id_field",
    env: "PISHKHAN_MOBILE_OWNERSHIP_NATIONAL_ID_FIELD",
    flag: None,
    secret: false,
    default: || "nationalCode".to_owned(),
    parse: field_name,
};

pub(super) const MOBILE_OWNERSHIP_MOBILE_FIELD: Setting<String> = Setting {
    key: "mobile_ownership_mobile_field",
    env: "PISHKHAN_MOBILE_OWNERSHIP_MOBILE_FIELD",
    flag: None,
    secret: false,
    default: || "mobileNumber".to_owned(),
    parse: field_name,
};

pub(super) const MOBILE_OWNERSHIP_MATCH_FIELD: Setting<String> = Setting {
    key: "mobile_ownership_match_field",
    env: "PISHKHAN_MOBILE_OWNERSHIP_MATCH_FIELD",
    flag: None,
    secret: false,
    default: || "match".to_owned(),
    parse: field_name,
};

pub(super) const MOBILE_OWNERSHIP_TIMEOUT: Setting<Duration> = Setting {
    key: "mobile_ownership_timeout",
    env: "PISHKHAN_MOBILE_OWNERSHIP_TIMEOUT",
    flag: None,
    secret: false,
    default: || Duration::from_secs(5),
    parse: duration,
};

pub(super) const PAYMENT_GATEWAY_URL: Setting<Option<String>> = Setting {
    key: "payment_gateway_url",
    env: "PISHKHAN_PAYMENT_GATEWAY_URL",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const PAYMENT_TERMINAL: Setting<String> = Setting {
    key: "payment_terminal",
    env: "PISHKHAN_PAYMENT_TERMINAL",
    flag: None,
    secret: false,
    default: String::new,
    parse: |value| Ok(text(value)?.trim().to_owned()),
};

pub(super) const PAYMENT_KEY: Setting<Secret<String>> = Setting {
    key: "payment_key",
    env: "PISHKHAN_PAYMENT_KEY",
    flag: None,
    secret: true,
    default: || Secret::new(String::new()),
    parse: |value| Ok(Secret::new(text(value)?.trim().to_owned())),
};

pub(super) const DOCUMENTS_SHARED: Setting<bool> = Setting {
    key: "documents_shared",
    env: "PISHKHAN_DOCUMENTS_SHARED",
    flag: None,
    secret: false,
    default: || false,
    parse: boolean,
};

pub(super) const DOCUMENTS_BUCKET: Setting<Option<String>> = Setting {
    key: "documents_s3_bucket",
    env: "PISHKHAN_DOCUMENTS_S3_BUCKET",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const DOCUMENTS_ENDPOINT: Setting<Option<String>> = Setting {
    key: "documents_s3_endpoint",
    env: "PISHKHAN_DOCUMENTS_S3_ENDPOINT",
    flag: None,
    secret: false,
    default: || None,
    parse: optional_text,
};

pub(super) const DOCUMENTS_REGION: Setting<String> = Setting {
    key: "documents_s3_region",
    env: "PISHKHAN_DOCUMENTS_S3_REGION",
    flag: None,
    secret: false,
    default: || "us-east-1".to_owned(),
    parse: |value| match text(value)?.trim() {
        "" => Ok("us-east-1".to_owned()),
        region => Ok(region.to_owned()),
    },
};

// ---- Checks the settings share ----------------------------------------------------------------

fn text(value: &toml::Value) -> Result<&str, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        _ => Err("must be a string (in quotes)".to_owned()),
    }
}

/// A text that may be empty, which means "not set".
fn optional_text(value: &toml::Value) -> Result<Option<String>, String> {
    let text = text(value)?.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// A JSON field's name: letters, digits, `_` and `-`.
fn field_name(value: &toml::Value) -> Result<String, String> {
    let name = text(value)?.trim();
    if !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        Ok(name.to_owned())
    } else {
        Err("must be a JSON field name (letters, digits, _ and -)".to_owned())
    }
}

fn one_of<T: Copy>(value: &toml::Value, choices: &[(&str, T)]) -> Result<T, String> {
    let given = text(value)?.trim();
    choices
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            format!("must be one of: {}", names.join(", "))
        })
}

fn whole_number(value: &toml::Value, range: std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    let number = match value {
        toml::Value::Integer(n) => Some(*n),
        toml::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    number
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        })
}

fn boolean(value: &toml::Value) -> Result<bool, String> {
    match value {
        toml::Value::Boolean(b) => Ok(*b),
        toml::Value::String(s) if s.trim() == "true" => Ok(true),
        toml::Value::String(s) if s.trim() == "false" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

fn duration(value: &toml::Value) -> Result<Duration, String> {
    parse_duration(text(value)?)
        .ok_or_else(|| "must be a duration such as 45s, 30m or 12h (from 1s to 30 days)".to_owned())
}

/// `45s`, `30m`, `12h`, `2d`: from one second to thirty days.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
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

pub(super) fn postgres_location(url: &str) -> Result<DatabaseLocation, String> {
    DatabaseLocation::postgres_url(url).map_err(|e| {
        format!(
            "must be a PostgreSQL URL such as postgres://user@127.0.0.1:5432/pishkhan, \
             or unset for SQLite in the data folder: {e}"
        )
    })
}
