/// What went wrong in the store. Messages name the database without credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the database URL is not valid: {0}")]
    InvalidUrl(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored document (a card or a form as JSON) does not read back as one.
    #[error("a stored document is not valid: {0}")]
    Corrupt(String),
    /// The group-commit writer is gone (the runtime is shutting down), or a write in the same
    /// batch panicked and the writer started again; nothing of the batch was stored.
    #[error("the database writer has stopped")]
    WriterStopped,
    /// The writer's queue is full: try again in a few seconds.
    #[error("the database writer is busy")]
    WriterBusy,
    /// The write was not answered in time. If the writer had not reached it, it was not run; if
    /// it had, it may have been stored.
    #[error("the database writer did not answer in time")]
    WriterTimeout,
    /// The key file that seals secrets kept here cannot be read or made.
    #[error("the secrets key cannot be used: {0}")]
    SecretsKey(String),
    /// The disk (or the database server's) is full: nothing of the write was stored.
    #[error("the storage is full")]
    StorageFull,
    /// The writer's thread could not be started.
    #[error("cannot start the database writer: {0}")]
    WriterStart(#[source] std::io::Error),
    /// The batch this write was part of could not be committed; nothing of it was stored.
    #[error("the write could not be committed: {0}")]
    BatchFailed(String),
}

/// Why a write cannot be done now, though nothing is wrong with it: the person should try again
/// later (a 503 with `Retry-After`), not be told that something broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Too many writes are waiting: this one was refused, nothing of it stored.
    Busy,
    /// The write did not finish in time: if the writer had reached it, it may yet be stored.
    Unsure,
    /// The disk is full.
    StorageFull,
}

impl StoreError {
    /// Whether this error means "not now" rather than "broken".
    pub fn unavailable(&self) -> Option<Unavailable> {
        match self {
            StoreError::WriterBusy => Some(Unavailable::Busy),
            StoreError::WriterTimeout => Some(Unavailable::Unsure),
            StoreError::StorageFull => Some(Unavailable::StorageFull),
            StoreError::Database(e) if is_storage_full(e) => Some(Unavailable::StorageFull),
            _ => None,
        }
    }
}

/// A database error that says the disk is full: SQLite's `SQLITE_FULL` (13), PostgreSQL's
/// `disk_full` (53100), or the operating system's "no space left".
pub(crate) fn is_storage_full(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            let code = e.code();
            let code = code.as_deref().unwrap_or("");
            if code.len() == 5 {
                // A PostgreSQL SQLSTATE.
                code == "53100"
            } else {
                // SQLite's extended code (at most four digits); its low byte is the primary one.
                code.parse::<i32>().is_ok_and(|c| c & 0xff == 13)
            }
        }
        sqlx::Error::Io(e) => e.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}
