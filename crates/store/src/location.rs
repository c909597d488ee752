use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::StoreError;

/// Where the database lives.
#[derive(Clone)]
pub enum DatabaseLocation {
    /// An SQLite file, created if missing.
    SqliteFile(PathBuf),
    /// A PostgreSQL database, from a `postgres://` URL.
    Postgres(Box<PgConnectOptions>),
}

impl DatabaseLocation {
    /// Parses a `postgres://` or `postgresql://` URL. The error never repeats the URL, which may
    /// carry a password.
    pub fn postgres_url(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::InvalidUrl(
                "it must start with postgres:// or postgresql://".to_owned(),
            ));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::InvalidUrl(match e {
                sqlx::Error::Configuration(inner) => inner.to_string(),
                _ => "it could not be read as a PostgreSQL URL".to_owned(),
            })
        })?;
        Ok(DatabaseLocation::Postgres(Box::new(options)))
    }

    /// A description without credentials: `SQLite file /x/y.sqlite3`, `PostgreSQL at host:port/db`.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::SqliteFile(path) => format!("SQLite file {}", path.display()),
            DatabaseLocation::Postgres(options) => format!(
                "PostgreSQL at {}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("(default database)")
            ),
        }
    }
}

impl std::fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_hides_the_password() {
        let location =
            DatabaseLocation::postgres_url("postgres://app:s3cret@db.example:6432/pishkhan")
                .unwrap();
        let shown = format!("{} {:?}", location.describe(), location);
        assert_eq!(
            location.describe(),
            "PostgreSQL at db.example:6432/pishkhan"
        );
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn rejects_other_schemes_without_echoing_the_url() {
        let err = DatabaseLocation::postgres_url("mysql://root:pw@localhost/x")
            .err()
            .unwrap();
        assert!(err.to_string().contains("postgres://"));
        assert!(!err.to_string().contains("pw"));
    }
}
