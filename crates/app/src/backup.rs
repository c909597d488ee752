//! Backups of a one-machine (SQLite) installation, and restoring one into a new data folder.
//!
//! `pishkhan backup --to DIR` runs beside a serving Pishkhan: the database is copied in one read
//! transaction (`VACUUM INTO`), then the documents folder. Every row in the copy names files
//! written before it committed, and filed documents are never deleted, so all of them are in the
//! copy; files written after the database copy are copied too, and are swept as orphans after a
//! restore (no row names them). A draft's file deleted meanwhile (the draft replaced it) is
//! missing from the copy: the draft shows it gone.
//!
//! PostgreSQL installations back up with `pg_dump` and their documents with the bucket's or the
//! shared folder's own tools (README, "Backups").

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::documents::DocumentSettings;

/// The database's file in a data folder and in a backup.
const DATABASE_FILE: &str = "pishkhan.sqlite3";
/// The secrets key, in a backup and (restored) in the data folder.
const SECRETS_KEY_FILE: &str = "secrets.key";
/// What a backup says about itself.
const MANIFEST_FILE: &str = "pishkhan-backup.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub created_at: DateTime<Utc>,
    /// Files copied from the documents folder (none when documents live in a bucket).
    pub documents: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "this installation runs on PostgreSQL: back up the database with pg_dump \
         (pg_dump --format=custom --file=pishkhan.dump \"$PISHKHAN_DATABASE_URL\") and the \
         documents with the bucket's or the shared folder's own tools (README, \"Backups\")"
    )]
    Postgres,
    #[error("{path} already holds files; back up into a new or empty folder")]
    NotEmpty { path: PathBuf },
    #[error("{path} already holds a Pishkhan database; restore into a new data folder")]
    Occupied { path: PathBuf },
    #[error("{path} is not a Pishkhan backup ({MANIFEST_FILE} is missing or unreadable)")]
    NotABackup { path: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] pishkhan_store::StoreError),
}

fn io<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> BackupError + 'p {
    move |source| BackupError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

impl App {
    /// Copies the database and the documents folder into `to` (new or empty), consistently,
    /// while the installation keeps serving.
    pub async fn backup(&self, to: &Path) -> Result<Manifest, BackupError> {
        if to.exists()
            && std::fs::read_dir(to)
                .map_err(io("cannot read", to))?
                .next()
                .is_some()
        {
            return Err(BackupError::NotEmpty {
                path: to.to_owned(),
            });
        }
        std::fs::create_dir_all(to).map_err(io("cannot create", to))?;
        let database = to.join(DATABASE_FILE);
        if self.store().copy_into(&database).await?.is_none() {
            let _ = std::fs::remove_dir(to);
            return Err(BackupError::Postgres);
        }
        let (documents, bytes) = if matches!(self.config().documents, DocumentSettings::Local) {
            let from = self.config().data_dir.join("documents");
            let into = to.join("documents");
            tokio::task::spawn_blocking(move || copy_tree(&from, &into))
                .await
                .map_err(|e| BackupError::Io {
                    what: "copying documents into",
                    path: to.to_owned(),
                    source: std::io::Error::other(e),
                })??
        } else {
            (0, 0)
        };
        // The key that seals second-factor secrets: without it the restored accounts could not
        // use their second factor. (So the backup is as secret as the data folder.)
        let key_file = self.config().secrets_key_file();
        if key_file.exists() {
            let copy = to.join(SECRETS_KEY_FILE);
            std::fs::copy(&key_file, &copy).map_err(io("cannot copy", &key_file))?;
            sync_file(&copy)?;
        }
        let manifest = Manifest {
            version: crate::VERSION.to_owned(),
            created_at: Utc::now(),
            documents,
            bytes,
        };
        write_synced(
            &to.join(MANIFEST_FILE),
            serde_json::to_vec_pretty(&manifest)
                .unwrap_or_default()
                .as_slice(),
        )?;
        sync_file(&database)?;
        Ok(manifest)
    }
}

/// Puts a backup into `data_dir`, which must not hold a database yet. The caller then opens the
/// app there (migrating an older backup forward) and checks it.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Manifest, BackupError> {
    let manifest: Manifest = std::fs::read(from.join(MANIFEST_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| BackupError::NotABackup {
            path: from.to_owned(),
        })?;
    let database = data_dir.join(DATABASE_FILE);
    if database.exists() {
        return Err(BackupError::Occupied {
            path: data_dir.to_owned(),
        });
    }
    std::fs::create_dir_all(data_dir).map_err(io("cannot create", data_dir))?;
    let key = from.join(SECRETS_KEY_FILE);
    let restored_key = data_dir.join(SECRETS_KEY_FILE);
    if key.exists() && !restored_key.exists() {
        std::fs::copy(&key, &restored_key).map_err(io("cannot copy", &key))?;
        sync_file(&restored_key)?;
    }
    let documents = from.join("documents");
    if documents.exists() {
        copy_tree(&documents, &data_dir.join("documents"))?;
    }
    // The database last: a data folder with a database is a restored one.
    let partial = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    std::fs::copy(from.join(DATABASE_FILE), &partial).map_err(io("cannot copy", &partial))?;
    sync_file(&partial)?;
    std::fs::rename(&partial, &database).map_err(io("cannot rename", &database))?;
    Ok(manifest)
}

/// Copies every file under `from` into `into` (made as needed), each flushed to disk; answers
/// how many files and bytes.
fn copy_tree(from: &Path, into: &Path) -> Result<(u64, u64), BackupError> {
    let mut files = 0;
    let mut bytes = 0;
    if !from.exists() {
        return Ok((0, 0));
    }
    std::fs::create_dir_all(into).map_err(io("cannot create", into))?;
    for entry in std::fs::read_dir(from).map_err(io("cannot read", from))? {
        let entry = entry.map_err(io("cannot read", from))?;
        let source = entry.path();
        let target = into.join(entry.file_name());
        let kind = entry.file_type().map_err(io("cannot read", &source))?;
        if kind.is_dir() {
            let (f, b) = copy_tree(&source, &target)?;
            files += f;
            bytes += b;
        } else if kind.is_file() {
            // A file being written is staged beside its place (`name#N`) and renamed when whole:
            // such a file is not a stored document yet, and may vanish while it is copied.
            if entry.file_name().to_string_lossy().contains('#') {
                continue;
            }
            match std::fs::copy(&source, &target) {
                Ok(copied) => bytes += copied,
                // Gone since it was listed: removed (an orphan swept) or renamed; not a document
                // any stored record names at the backup's moment.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = std::fs::remove_file(&target);
                    continue;
                }
                Err(e) => return Err(io("cannot copy", &source)(e)),
            }
            sync_file(&target)?;
            files += 1;
        }
    }
    std::fs::File::open(into)
        .and_then(|dir| dir.sync_all())
        .map_err(io("cannot flush", into))?;
    Ok((files, bytes))
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io("cannot flush", path))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    std::fs::write(path, bytes).map_err(io("cannot write", path))?;
    sync_file(path)
}
