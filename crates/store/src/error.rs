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
    /// The group-commit writer is gone (the runtime is shutting down).
    #[error("the database writer has stopped")]
    WriterStopped,
    /// The batch this write was part of could not be committed; nothing of it was stored.
    #[error("the write could not be committed: {0}")]
    BatchFailed(String),
}
