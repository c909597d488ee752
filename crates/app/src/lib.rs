//! The app layer: Pishkhan's use cases.
//!
//! One function per verb of the system. Each checks who may do it, calls domain rules, and writes
//! through the store. Web handlers and the command line call these; nothing here knows HTTP.

pub mod applications;
pub mod audit;
pub mod auth;
mod availability;
pub mod backup;
pub mod bills;
mod cache;
pub mod catalog;
pub mod config;
pub mod credentials;
pub mod demo;
mod demo_workflows;
pub mod documents;
pub mod drafts;
pub mod events;
pub mod holidays;
pub mod import;
pub mod inquiries;
pub mod jobs;
mod nodes;
pub mod notify;
pub mod once_only;
pub mod orgs;
pub mod orphans;
pub mod outputs;
pub mod ownership;
pub mod payments;
pub mod plan;
pub mod policy;
pub mod portal;
pub mod print;
pub mod refunds;
pub mod sealed;
pub mod search;
mod secret;
pub mod settlement;
pub mod signing;
pub mod sms;
pub mod statements;
pub mod synth;
pub mod templates;
pub mod tills;
pub mod users;
pub mod webhooks;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use pishkhan_store::{PoolSettings, Store, StoreError};

pub use config::{Config, ConfigError, PaymentSettings, SmsSettings};

/// The stored records the app's use cases hand to the web layer and the command line.
/// A key file's modification time and size, to notice it changed.
type KeyFileStamp = Option<(Option<std::time::SystemTime>, u64)>;

pub mod records {
    pub use pishkhan_store::{
        AgencyContact, ApiTokenRecord, ApplicationRecord, CentrePlace, CitizenRecord, City,
        ConsentRecord, DocState, DocumentRecord, EventRecord, HistoryEntry, HolidayYearRecord,
        InboxFilter, Office, OrgDirectory, OrgKind, OrgRecord, PaymentRecord, Province,
        ProvinceFigures, ServiceFilter, TillCloseRecord, UserRecord, VersionRecord,
    };
}
pub use availability::{is_disk_full, unavailable};
pub use nodes::NodeIdentity;
pub use pishkhan_store::Unavailable;
pub use secret::Secret;

/// The program's version, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long a readiness check may wait for the database before it answers "not ready". Well
/// under a second, so a load balancer learns within a second that the database is gone; a
/// healthy database answers `SELECT 1` in milliseconds.
pub const READINESS_TIMEOUT: Duration = Duration::from_millis(500);

/// A started Pishkhan: configuration and the store, shared by every request. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Seals TOTP secrets in the database; the key file is read (or made) on first use.
    sealer: std::sync::OnceLock<Result<sealed::Sealer, String>>,
    /// Signs outputs: the key file as last read (made on first use, its public keys registered),
    /// with its modification time and size then, to read it again when it changes.
    signers: tokio::sync::Mutex<Option<(KeyFileStamp, Arc<signing::Signers>)>>,
    config: Config,
    store: Store,
    sms: sms::SmsProvider,
    /// Who says whether a mobile line is a national ID's.
    mobile_ownership: ownership::MobileOwnership,
    /// Attached files.
    documents: documents::Documents,
    /// Argon2 password checks since start.
    password_checks: AtomicU64,
    /// The published catalogue's search index (in memory, one per node).
    search: Arc<pishkhan_search::Catalogue>,
    search_sync: tokio::sync::Mutex<search::SearchSync>,
    /// Has the index been built from the database?
    search_ready: std::sync::atomic::AtomicBool,
    /// Searches that found nothing since the last heartbeat (`search.rs`).
    search_misses: std::sync::Mutex<std::collections::HashMap<String, u32>>,
    /// The portal's read-mostly data (`portal.rs`).
    pages: cache::Cache<portal::ServicePage>,
    provinces: cache::Cache<Vec<pishkhan_store::Province>>,
    /// Card and form versions applications use (`code@version`; versions never change).
    card_versions: cache::Cache<pishkhan_domain::catalog::ServiceCard>,
    form_versions: cache::Cache<Option<pishkhan_domain::forms::FormSchema>>,
    /// The notifications' texts in use (`templates.rs`).
    templates: cache::Cache<std::collections::BTreeMap<String, (String, bool)>>,
    /// The holiday calendar (`holidays.rs`).
    calendar: cache::Cache<pishkhan_domain::HolidayCalendar>,
    /// Inquiries' answers the agencies allow to be reused, and their circuit breakers
    /// (`inquiries.rs`; one per node).
    inquiries: inquiries::InquiryState,
}

/// Why Pishkhan could not start. Each message is one line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("data folder {path} {problem}: {source}")]
    DataDir {
        path: PathBuf,
        problem: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A provider, the secrets key or the stored secrets could not be set up.
    #[error("{0}")]
    Setup(String),
}

/// Why the process is not ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum Unready {
    #[error("the database did not answer within {0:?}")]
    DatabaseTimeout(Duration),
    #[error("the database is unreachable: {0}")]
    Database(StoreError),
    #[error("the database writer is starting again")]
    Writer,
    #[error("the data folder's disk is full")]
    StorageFull,
}

impl App {
    /// Prepares the data folder, opens the database and brings its schema up to date.
    pub async fn start(config: Config) -> Result<App, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let location = config.database_location()?;
        let settings = PoolSettings {
            max_connections: config.db_max_connections,
            lock_timeout: config.db_lock_timeout,
            statement_timeout: config.db_statement_timeout,
            writer: pishkhan_store::WriterSettings {
                queue: config.limits.write_queue,
                wait: config.limits.write_wait,
            },
            ..PoolSettings::default()
        };
        let store = Store::connect(&location, settings).await?;
        store.migrate().await?;
        let app = App::with_store(config, store).map_err(StartError::Setup)?;
        // Secrets stored before sealing existed are sealed now; one sealed with a key this node
        // does not hold stops the start, naming the key.
        app.reseal_secrets(&audit::Actor::command_line(), false)
            .await
            .map_err(|e| StartError::Setup(e.to_string()))?;
        app.seed_holidays().await?;
        Ok(app)
    }

    /// An app on a store that is already open and migrated (tests, and tools that share one).
    pub fn with_store(config: Config, store: Store) -> Result<App, String> {
        let sms = sms::SmsProvider::from_settings(&config.sms, &config.data_dir)?;
        let mobile_ownership =
            ownership::MobileOwnership::from_settings(&config.mobile_ownership, &config.data_dir)?;
        let documents = documents::Documents::new(&config.documents, &config.data_dir);
        Ok(App {
            inner: Arc::new(Inner {
                sealer: std::sync::OnceLock::new(),
                signers: tokio::sync::Mutex::new(None),
                config,
                store,
                sms,
                mobile_ownership,
                documents,
                password_checks: AtomicU64::new(0),
                search: Arc::new(pishkhan_search::Catalogue::new().map_err(|e| e.to_string())?),
                search_sync: tokio::sync::Mutex::new(search::SearchSync::default()),
                search_ready: std::sync::atomic::AtomicBool::new(false),
                search_misses: std::sync::Mutex::default(),
                pages: cache::Cache::default(),
                provinces: cache::Cache::default(),
                card_versions: cache::Cache::default(),
                form_versions: cache::Cache::default(),
                templates: cache::Cache::default(),
                calendar: cache::Cache::default(),
                inquiries: inquiries::InquiryState::default(),
            }),
        })
    }

    /// The keys that sign outputs (see `app::signing`): read or made on first use, and every
    /// public half registered in the database (so other nodes and old outputs verify).
    pub(crate) async fn signers(&self) -> Result<Arc<signing::Signers>, StoreError> {
        let path = self.inner.config.signing_key_file();
        let stamp = |path: &std::path::Path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.modified().ok(), m.len()))
        };
        let mut held = self.inner.signers.lock().await;
        // Read again when the file changed (`pishkhan keys rotate` on this machine): a running
        // node signs with the new key at once, never with one revoked after the rotation.
        let now = stamp(&path);
        if let Some((seen, signers)) = held.as_ref()
            && now.is_some()
            && *seen == now
        {
            return Ok(signers.clone());
        }
        let signers = signing::Signers::open_or_create(&path)
            .map_err(|e| StoreError::SecretsKey(e.to_string()))?;
        for (id, public) in signers.public_keys() {
            self.store()
                .register_signing_key(&id, &public, chrono::Utc::now())
                .await?;
        }
        let signers = Arc::new(signers);
        *held = Some((stamp(&path), signers.clone()));
        Ok(signers)
    }

    /// The key that seals secrets stored in the database (see `app::sealed`).
    pub(crate) fn sealer(&self) -> Result<&sealed::Sealer, StoreError> {
        self.inner
            .sealer
            .get_or_init(|| {
                sealed::Sealer::open_or_create(&self.inner.config.secrets_key_file())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| StoreError::SecretsKey(e.clone()))
    }

    /// Where text messages go.
    pub fn sms(&self) -> &sms::SmsProvider {
        &self.inner.sms
    }

    /// Who says whether a mobile line is a national ID's.
    pub fn mobile_ownership(&self) -> &ownership::MobileOwnership {
        &self.inner.mobile_ownership
    }

    /// Where attached files are kept.
    pub fn documents(&self) -> &documents::Documents {
        &self.inner.documents
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store, for the use cases only: every other layer goes through them, so nothing can
    /// reach the data around the policy.
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Where the database is, without credentials: safe to print and log.
    pub fn database_description(&self) -> &str {
        self.inner.store.describe()
    }

    /// Which engine the database runs on: `SQLite` or `PostgreSQL`.
    pub fn database_engine(&self) -> &'static str {
        self.inner.store.backend().name()
    }

    /// The group-commit writer's counters since start, for `/metrics`.
    pub fn write_stats(&self) -> pishkhan_store::WriteStats {
        self.inner.store.write_stats()
    }

    /// The database's own check of its pages (SQLite; PostgreSQL answers `ok`).
    pub async fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.inner.store.integrity_check().await
    }

    /// Whether the database writer is running (see `store::writer`).
    pub fn writer_is_up(&self) -> bool {
        self.inner.store.writer_is_up()
    }

    /// Closes the database's connections (at the end of a command, or of serving).
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    /// Can this process take writes right now: the database answers (within
    /// [`READINESS_TIMEOUT`]), its writer is running, the data folder has room.
    pub async fn readiness(&self) -> Result<(), Unready> {
        match tokio::time::timeout(READINESS_TIMEOUT, self.inner.store.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Unready::Database(e)),
            Err(_) => return Err(Unready::DatabaseTimeout(READINESS_TIMEOUT)),
        }
        if !self.inner.store.writer_is_up() {
            return Err(Unready::Writer);
        }
        if self.storage_full() {
            return Err(Unready::StorageFull);
        }
        Ok(())
    }

    /// Free space in the data folder's file system, in bytes (what an unprivileged process may
    /// use); `None` where the system cannot say.
    pub fn free_disk(&self) -> Option<u64> {
        let stat = rustix::fs::statvfs(&self.inner.config.data_dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    /// The data folder has less free space than `min_free_disk_mib`.
    pub fn storage_full(&self) -> bool {
        self.free_disk()
            .is_some_and(|free| free < self.inner.config.limits.min_free_disk)
    }

    /// Refuses a write that would store files while the disk is nearly full: "storage is full"
    /// (a 503), before anything is written, rather than a file half-written.
    pub(crate) fn room_to_write(&self) -> Result<(), StoreError> {
        if self.storage_full() {
            Err(StoreError::StorageFull)
        } else {
            Ok(())
        }
    }
}

/// Files and folders this process creates are its user's alone (0600 and 0700): the data
/// folder holds personal data. Called first thing by the program.
pub fn keep_new_files_private() {
    #[cfg(target_os = "linux")]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates the data folder if needed and proves it is writable, before anything is stored there.
fn prepare_data_dir(path: &Path) -> Result<(), StartError> {
    let error = |problem, source| StartError::DataDir {
        path: path.to_owned(),
        problem,
        source,
    };
    std::fs::create_dir_all(path).map_err(|e| error("cannot be created", e))?;
    // The database (password hashes, second-factor secrets), text messages and citizens'
    // documents live here: only Pishkhan's own user may enter, whatever the folder was before.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| error("cannot be made private", e))?;
    }
    let probe = path.join(format!(".write-check-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| error("is not writable", e))?;
    std::fs::remove_file(&probe).map_err(|e| error("is not writable", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_folder_inside_a_file_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let err = prepare_data_dir(&file.join("data")).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("data folder "), "{message}");
        assert!(message.contains("cannot be created"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_folder_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_data_dir(&data).unwrap();
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_fresh_data_folder_is_created_and_left_clean() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b");
        prepare_data_dir(&data).unwrap();
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    }
}
