//! Fresh databases for tests: every test gets its own, so tests never see each other's rows.
//!
//! - SQLite: a new file in a temporary folder (never `:memory:`: each pooled connection would get
//!   its own empty database).
//! - PostgreSQL: a new database on the server named by `PISHKHAN_TEST_DATABASE_URL` (an admin URL
//!   such as `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends, even if it
//!   panicked. Without that variable the PostgreSQL variants are skipped with a note, unless
//!   `PISHKHAN_TEST_REQUIRE_POSTGRES` is set (the README's test command sets both), in which case
//!   they fail.
//!
//! Test support fails the test by panicking: that is its whole error handling.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::{DatabaseLocation, PoolSettings, Store};

pub const TEST_DATABASE_URL_VAR: &str = "PISHKHAN_TEST_DATABASE_URL";
pub const REQUIRE_POSTGRES_VAR: &str = "PISHKHAN_TEST_REQUIRE_POSTGRES";
/// Every test database's name starts with this, so a test run can sweep away leftovers.
pub const TEST_DATABASE_PREFIX: &str = "pishkhan_t_";

/// A migrated store on its own fresh database; the database goes away when this is dropped.
pub struct TestDatabase {
    pub store: Store,
    _keep: Keep,
}

/// Whatever must live as long as the store: the temp folder, or the database to drop.
enum Keep {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] Box<PostgresDatabase>),
}

/// Declares, for each named `async fn(Store)`, a test `NAME::sqlite` on a fresh SQLite file and a
/// test `NAME::postgres` on a fresh PostgreSQL database (skipped, or failed when required, as
/// [`fresh_postgres`] says). Every crate's tests use this one.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::fresh_sqlite().await;
                assert_eq!(db.store.backend(), $crate::Backend::Sqlite);
                super::$name(db.store.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::testing::fresh_postgres().await else { return };
                assert_eq!(db.store.backend(), $crate::Backend::Postgres);
                super::$name(db.store.clone()).await;
            }
        }
    )+};
}

/// A migrated store on a new SQLite file.
pub async fn fresh_sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = open_migrated(&DatabaseLocation::SqliteFile(sqlite_path(&dir))).await;
    TestDatabase {
        store,
        _keep: Keep::Sqlite(dir),
    }
}

/// Where a data folder keeps its SQLite file.
fn sqlite_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("pishkhan.sqlite3")
}

/// A migrated store on a new PostgreSQL database, or `None` when no test server is configured.
pub async fn fresh_postgres() -> Option<TestDatabase> {
    let database = PostgresDatabase::create().await?;
    let location = DatabaseLocation::postgres_url(&database.url).expect("test database URL");
    let store = open_migrated(&location).await;
    Some(TestDatabase {
        store,
        _keep: Keep::Postgres(Box::new(database)),
    })
}

async fn open_migrated(location: &DatabaseLocation) -> Store {
    let store = Store::connect(location, PoolSettings::default())
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate the test database");
    store
}

/// A new, empty PostgreSQL database (not migrated), for tests that hand a URL to the program.
/// Dropped, with any connections still open to it, when this value is dropped.
pub struct PostgresDatabase {
    /// The URL of the new database, with the credentials of the admin URL.
    pub url: String,
    pub name: String,
    admin: PgConnectOptions,
}

impl PostgresDatabase {
    /// Creates a database, or returns `None` (with a note on stderr) when no test server is set.
    pub async fn create() -> Option<PostgresDatabase> {
        let Some(admin_url) = admin_url() else {
            eprintln!("note: {TEST_DATABASE_URL_VAR} is not set; skipping the PostgreSQL variant");
            return None;
        };
        let admin = PgConnectOptions::from_str(&admin_url).expect("admin URL");
        let name = unique_name();
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        conn.close().await.ok();
        Some(PostgresDatabase {
            url: replace_database(&admin_url, &name),
            name,
            admin,
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs outside async code (perhaps while a test unwinds): do the work on a thread
        // with a runtime of its own, and wait for it so the next test starts clean.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let result = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        let problem = match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the clean-up thread panicked".to_owned(),
        };
        eprintln!(
            "note: could not drop test database {}: {problem}",
            self.name
        );
    }
}

/// The admin URL of the PostgreSQL test server, if one is configured.
pub fn admin_url() -> Option<String> {
    match std::env::var(TEST_DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_POSTGRES_VAR).is_none(),
                "{REQUIRE_POSTGRES_VAR} is set but {TEST_DATABASE_URL_VAR} is not: \
                 point it at a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{TEST_DATABASE_PREFIX}{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `postgres://u@h:5432/test?x=y` with database `name` → `postgres://u@h:5432/name?x=y`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Every `(table, column)` the migrations built, sorted, without the migrator's own table: the
/// two backends' migrations must agree on this.
pub async fn schema_columns(store: &Store) -> Result<Vec<(String, String)>, crate::StoreError> {
    let mut columns: Vec<(String, String)> = match &store.pool {
        crate::Pool::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await?
        }
        crate::Pool::Postgres(pool) => {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await?
        }
    };
    columns.sort();
    Ok(columns)
}

/// Runs SQL directly, as someone with access to the database could (tamper tests).
pub async fn execute_raw(store: &Store, sql: &'static str) -> Result<u64, crate::StoreError> {
    let affected = crate::on_pool!(store, pool => {
        sqlx::raw_sql(sql).execute(pool).await?.rows_affected()
    });
    Ok(affected)
}

/// The SQLite settings every connection must carry: (journal mode, synchronous, foreign keys).
pub async fn sqlite_pragmas(store: &Store) -> Option<(String, i64, i64)> {
    let crate::Pool::Sqlite(pool) = &store.pool else {
        return None;
    };
    let mut conn = pool.acquire().await.ok()?;
    let journal: (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .ok()?;
    let synchronous: (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .ok()?;
    let foreign_keys: (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .ok()?;
    Some((journal.0, synchronous.0, foreign_keys.0))
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h:1", "x"), "postgres://h:1/x");
    }
}
