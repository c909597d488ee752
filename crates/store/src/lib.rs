//! The store: the only place in Pishkhan with SQL.
//!
//! One [`Store`] serves the rest of the code on either backend: SQLite (embedded, the default) or
//! PostgreSQL (several app nodes on one database). Each backend has its own typed connection pool
//! and its own migrations; queries are written once in portable SQL (`$1` placeholders work on both)
//! and run through [`on_pool!`], which expands the same code for each pool. Where the two dialects
//! differ, a method matches on the pool and says so.
//!
//! Must not live here: business rules (domain), authorization (app), HTTP (web).

mod applications;
mod audit;
mod catalog;
mod citizens;
mod drafts;
mod error;
mod feed;
mod holidays;
mod inquiries;
mod ledger;
mod location;
mod nodes;
mod orgs;
mod outputs;
mod payments;
mod script;
mod search;
mod sessions;
mod statements;
mod sweep;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;
mod tills;
mod unit;
mod users;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use applications::{
    ApplicationRecord, DeadLetter, DocumentRecord, EventRecord, IdempotencyRecord, InboxFilter,
    NewApplication, NewDocument, NewIdempotency, NewOutboxMessage, OutboxRecord, Transition,
    WriteError,
};
pub use audit::NewAuditEntry;
pub use catalog::{
    DocKind, DocState, HistoryEntry, NewVersion, SaveVersionError, ServiceFilter, VersionRecord,
};
pub use citizens::{CitizenRecord, CodeRecord, ConsentRecord};
pub use drafts::{DraftRecord, TemplateRecord};
pub use error::StoreError;
pub use error::Unavailable;
pub use feed::{FeedCursor, FeedEvent, NewFeedEvent, WebhookRecord};
pub use holidays::{HolidayYearRecord, Replace};
pub use inquiries::InquiryServiceRecord;
pub use ledger::{LedgerEntryRecord, NewLedgerEntry, Posted};
pub use location::DatabaseLocation;
pub use nodes::NodeRecord;
pub use orgs::{
    AddOrgError, AgencyContact, CentrePlace, City, HandIn, Office, OrgDirectory, OrgKind,
    OrgRecord, Province, ProvinceFigures,
};
pub use outputs::{NewOutput, OutputRecord, SigningKeyRecord};
pub use payments::{NewPayment, PaymentChange, PaymentRecord, PaymentWriteError};
pub use search::{MAX_SEARCH_MISSES, SearchMiss, SynonymList};
pub use sessions::{SessionOwner, SessionRecord};
pub use sweep::FileOwner;
pub use throttle::{Attempt, Limit};
pub use tills::{CentreDayRecord, CloseWriteError, TillCloseRecord};
pub use unit::Unit;
pub use users::{ApiTokenRecord, CreateUserError, NewUser, UserRecord, api_token_id};
pub use writer::{WriteStats, WriterSettings};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Pool sizing and waiting, the same knobs on both backends.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a caller waits for a free connection (and the first connection at start).
    pub acquire_timeout: Duration,
    /// How long a statement waits for a lock another transaction holds before it fails
    /// (SQLite's busy timeout; PostgreSQL's `lock_timeout`).
    pub lock_timeout: Duration,
    /// How long one statement may run on PostgreSQL (`statement_timeout`). SQLite's statements
    /// run in this process and have no such limit.
    pub statement_timeout: Duration,
    /// The group-commit writer's queue and callers' wait.
    pub writer: WriterSettings,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            writer: WriterSettings::default(),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same block against whichever pool the store holds, binding it to `$pool`.
/// Each arm is type-checked on its own, so typed rows and binds work on both backends.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The database behind Pishkhan. Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Where it points, without credentials: safe to log and show.
    description: Arc<str>,
    /// The group-commit writers (one per backend; only the store's own is set).
    sqlite_writer: Option<Arc<writer::GroupWriter<sqlx::Sqlite, WriteError>>>,
    postgres_writer: Option<Arc<writer::GroupWriter<sqlx::Postgres, WriteError>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("at", &self.description)
            .finish()
    }
}

impl Store {
    /// Opens a pool on the database (creating an SQLite file if missing) and checks that one
    /// connection can be made. Does not migrate: see [`Store::migrate`].
    pub async fn connect(
        location: &DatabaseLocation,
        settings: PoolSettings,
    ) -> Result<Store, StoreError> {
        let description: Arc<str> = location.describe().into();
        let connect_error = |source| StoreError::Connect {
            target: description.to_string(),
            source,
        };
        let pool = match location {
            DatabaseLocation::SqliteFile(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Anything acknowledged to a person survives a power cut.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(settings.lock_timeout);
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Pool::Sqlite(pool)
            }
            DatabaseLocation::Postgres(options) => {
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with((**options).clone().options([
                        (
                            "lock_timeout",
                            settings.lock_timeout.as_millis().to_string(),
                        ),
                        (
                            "statement_timeout",
                            settings.statement_timeout.as_millis().to_string(),
                        ),
                    ]))
                    .await
                    .map_err(connect_error)?;
                Pool::Postgres(pool)
            }
        };
        let (sqlite_writer, postgres_writer) = match &pool {
            Pool::Sqlite(pool) => (
                Some(writer::GroupWriter::start(
                    pool,
                    script::SQLITE,
                    settings.writer,
                )?),
                None,
            ),
            Pool::Postgres(pool) => (
                None,
                Some(writer::GroupWriter::start(
                    pool,
                    script::POSTGRES,
                    settings.writer,
                )?),
            ),
        };
        Ok(Store {
            pool,
            description,
            sqlite_writer,
            postgres_writer,
        })
    }

    /// The SQLite group-commit writer.
    pub(crate) fn writer(
        &self,
    ) -> Result<&writer::GroupWriter<sqlx::Sqlite, WriteError>, StoreError> {
        self.sqlite_writer
            .as_deref()
            .ok_or(StoreError::WriterStopped)
    }

    /// The PostgreSQL group-commit writer.
    pub(crate) fn pg_writer(
        &self,
    ) -> Result<&writer::GroupWriter<sqlx::Postgres, WriteError>, StoreError> {
        self.postgres_writer
            .as_deref()
            .ok_or(StoreError::WriterStopped)
    }

    /// What the group-commit writer has done since this process started.
    pub fn write_stats(&self) -> writer::WriteStats {
        match (&self.sqlite_writer, &self.postgres_writer) {
            (Some(w), _) => w.stats(),
            (_, Some(w)) => w.stats(),
            _ => writer::WriteStats::default(),
        }
    }

    /// A consistent copy of an SQLite database, taken while it serves (`VACUUM INTO`: one read
    /// transaction, so every write committed before it began is in the copy and none after).
    /// `None` on PostgreSQL, which has its own tools (`pg_dump`).
    pub async fn copy_into(&self, path: &std::path::Path) -> Result<Option<()>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("VACUUM INTO $1")
                    .bind(path.to_string_lossy().into_owned())
                    .execute(pool)
                    .await?;
                Ok(Some(()))
            }
            Pool::Postgres(_) => Ok(None),
        }
    }

    /// SQLite's own check of every page and index: the problems it finds (none: `ok`).
    pub async fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => Ok(sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(pool)
                .await?),
            Pool::Postgres(_) => Ok(vec!["ok".to_owned()]),
        }
    }

    /// Whether the group-commit writer is running (false for a moment after a write panicked,
    /// while it starts again).
    pub fn writer_is_up(&self) -> bool {
        match (&self.sqlite_writer, &self.postgres_writer) {
            (Some(w), _) => w.is_up(),
            (_, Some(w)) => w.is_up(),
            _ => false,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Where the store points, without credentials (for logs and the operator).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Applies every migration not yet applied. Safe to run from several nodes at once: on
    /// PostgreSQL the migrator holds an advisory lock while it works.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// One round trip to the database: is it reachable and answering?
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; waits for those in use to be returned.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}
