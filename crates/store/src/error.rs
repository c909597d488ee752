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
}
