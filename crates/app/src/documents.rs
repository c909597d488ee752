//! Where attached files live: `object_store`, a local folder by default (`documents/` in the
//! data folder), an S3-compatible bucket when configured. And what a file is, judged by its
//! content (its first bytes), never by its name.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use pishkhan_domain::id::Problem;
use tokio::sync::{mpsc, oneshot};

/// The largest file accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// The kinds of file accepted: what scanners and phones produce — and, never uploaded, an
/// agency's answer that Pishkhan fetched as a document (once only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Jpeg,
    Png,
    /// An inquiry's answer as the agency sent it (JSON): made only by
    /// [`crate::App::fetch_document`], never judged from an upload's bytes.
    InquiryAnswer,
}

impl DocumentKind {
    pub fn mime(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Jpeg => "image/jpeg",
            DocumentKind::Png => "image/png",
            DocumentKind::InquiryAnswer => "application/json",
        }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {0} bytes, more than the limit")]
    TooLarge(usize),
    #[error("the file is not a PDF, JPEG or PNG")]
    UnknownKind,
}

impl DocumentError {
    /// The refusal in words a person can act on.
    pub fn invalid(&self) -> Problem {
        match self {
            DocumentError::Empty => Problem::new(
                "document_empty",
                "پروندهٔ پیوست خالی است؛ دوباره اسکن یا انتخاب کنید.",
                "The attached file is empty; scan or choose it again.",
            ),
            DocumentError::TooLarge(size) => Problem::new(
                "document_too_large",
                format!(
                    "حجم پرونده {} کیلوبایت است؛ حداکثر {} کیلوبایت پذیرفته می‌شود. با کیفیت کمتر اسکن کنید.",
                    pishkhan_domain::text::to_persian_digits(&(size / 1024).to_string()),
                    pishkhan_domain::text::to_persian_digits(
                        &(MAX_DOCUMENT_BYTES / 1024).to_string()
                    ),
                ),
                format!(
                    "The file is {} KB; at most {} KB is accepted. Scan it at a lower quality.",
                    size / 1024,
                    MAX_DOCUMENT_BYTES / 1024
                ),
            ),
            DocumentError::UnknownKind => Problem::new(
                "document_kind",
                "فقط PDF، JPEG یا PNG پذیرفته می‌شود؛ محتوای این پرونده هیچ‌کدام نیست (نام پرونده ملاک نیست).",
                "Only PDF, JPEG or PNG is accepted; this file's content is none of them (its name does not count).",
            ),
        }
    }
}

/// What a file is, by its first bytes.
pub fn sniff(_name: &str, bytes: &[u8]) -> Result<DocumentKind, DocumentError> {
    if bytes.is_empty() {
        return Err(DocumentError::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(b"%PDF-") {
        Ok(DocumentKind::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(DocumentKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Ok(DocumentKind::Png)
    } else {
        Err(DocumentError::UnknownKind)
    }
}

/// Where documents are kept.
#[derive(Debug, Clone)]
pub enum DocumentSettings {
    /// `documents/` in the data folder.
    Local,
    /// An S3-compatible bucket (MinIO, Ceph, AWS…): credentials from the usual `AWS_*`
    /// environment variables.
    S3 {
        bucket: String,
        endpoint: Option<String>,
        region: String,
    },
}

/// The document store: a thin, typed face on `object_store`. Opened on first use, so a process
/// that never touches a document never creates the folder or reaches the bucket.
#[derive(Debug)]
pub struct Documents {
    settings: DocumentSettings,
    data_dir: PathBuf,
    store: OnceLock<Result<Arc<dyn ObjectStore>, String>>,
    /// The local folder's group flush (see [`Documents::put_all`]), started on first use.
    flusher: OnceLock<mpsc::UnboundedSender<FlushRequest>>,
    /// Group flushes done, and the files they covered.
    flushes: Arc<AtomicU64>,
    flushed: Arc<AtomicU64>,
}

/// Files written and not yet flushed, and where to answer once they are on disk.
struct FlushRequest {
    paths: Vec<PathBuf>,
    reply: oneshot::Sender<Result<(), DocumentStoreError>>,
}

impl Documents {
    pub fn new(settings: &DocumentSettings, data_dir: &Path) -> Documents {
        Documents {
            settings: settings.clone(),
            data_dir: data_dir.to_owned(),
            store: OnceLock::new(),
            flusher: OnceLock::new(),
            flushes: Arc::default(),
            flushed: Arc::default(),
        }
    }

    /// Where documents go, for the operator.
    pub fn describe(&self) -> String {
        match &self.settings {
            DocumentSettings::Local => {
                format!("folder {}", self.data_dir.join("documents").display())
            }
            DocumentSettings::S3 { bucket, .. } => format!("S3 bucket {bucket}"),
        }
    }

    fn store(&self) -> Result<&Arc<dyn ObjectStore>, DocumentStoreError> {
        self.store
            .get_or_init(|| self.connect())
            .as_ref()
            .map_err(|e| DocumentStoreError::new(e.clone()))
    }

    fn connect(&self) -> Result<Arc<dyn ObjectStore>, String> {
        match &self.settings {
            DocumentSettings::Local => {
                let dir = self.data_dir.join("documents");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("documents folder {}: {e}", dir.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| format!("documents folder {}: {e}", dir.display()))?;
                Ok(Arc::new(store))
            }
            DocumentSettings::S3 {
                bucket,
                endpoint,
                region,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(region);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                let store = builder
                    .build()
                    .map_err(|e| format!("S3 bucket {bucket}: {e}"))?;
                Ok(Arc::new(store))
            }
        }
    }

    /// Stores `bytes` under `key`, durably (see [`Documents::put_all`]).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), DocumentStoreError> {
        self.put_all(vec![(key.to_owned(), bytes)]).await
    }

    /// Stores each `(key, bytes)`, durably: when this returns `Ok`, every file is on disk, so a
    /// row committed afterwards never names a file a power cut took away.
    ///
    /// In the local folder `object_store` only writes a file and renames it into place; the
    /// flush is ours, and it is shared (group flush, like the database's group commit): the
    /// files written by everyone waiting at the same moment are flushed together, by one
    /// `syncfs` of the folder's file system on Linux (one journal commit for the whole batch),
    /// by an `fsync` of each file and its folder elsewhere. A filing with five scans thus waits
    /// for one shared flush, not ten in a row, and filings are not capped by the disk's flush
    /// rate. An S3-compatible bucket acknowledges a put only once it is stored.
    pub async fn put_all(&self, files: Vec<(String, Vec<u8>)>) -> Result<(), DocumentStoreError> {
        let store = self.store()?;
        let mut paths = Vec::with_capacity(files.len());
        let mut written = Vec::with_capacity(files.len());
        let mut outcome = Ok(());
        for (key, bytes) in files {
            if let Err(e) = store
                .put(&ObjectPath::from(key.as_str()), bytes.into())
                .await
            {
                outcome = Err(DocumentStoreError::of(&e));
                break;
            }
            paths.push(self.data_dir.join("documents").join(&key));
            written.push(key);
        }
        if outcome.is_ok() && matches!(self.settings, DocumentSettings::Local) && !paths.is_empty()
        {
            outcome = self.flush(paths).await;
        }
        if outcome.is_err() {
            // None of them is named by a row: the ones written before the failure go too.
            for key in &written {
                if let Err(e) = self.delete(key).await {
                    tracing::warn!(key = %key, error = %e, "could not remove a document left by a failed write");
                }
            }
        }
        outcome
    }

    /// Group flushes of the local folder since start, and the files they covered.
    pub fn flush_stats(&self) -> (u64, u64) {
        (
            self.flushes.load(Ordering::Relaxed),
            self.flushed.load(Ordering::Relaxed),
        )
    }

    /// Waits for the next group flush to cover `paths`.
    async fn flush(&self, paths: Vec<PathBuf>) -> Result<(), DocumentStoreError> {
        let sender = self.flusher.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(flush_in_groups(
                self.data_dir.join("documents"),
                receiver,
                [Arc::clone(&self.flushes), Arc::clone(&self.flushed)],
            ));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let stopped = || DocumentStoreError::new("the flush task has stopped");
        sender
            .send(FlushRequest { paths, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Deletes what is under `key` (nothing there is not an error).
    pub async fn delete(&self, key: &str) -> Result<(), DocumentStoreError> {
        match self.store()?.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(DocumentStoreError::of(&e)),
        }
    }

    /// Every file under `prefix` (`documents/`, `drafts/`): its key and when it was written.
    pub async fn list(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, DocumentStoreError> {
        use futures::TryStreamExt;
        let prefix = ObjectPath::from(prefix);
        let listed: Vec<object_store::ObjectMeta> = self
            .store()?
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| DocumentStoreError::of(&e))?;
        Ok(listed
            .into_iter()
            .map(|meta| (meta.location.to_string(), meta.last_modified))
            .collect())
    }

    /// The file under `key`, or `None` when there is none.
    pub async fn get_if_present(&self, key: &str) -> Result<Option<Vec<u8>>, DocumentStoreError> {
        match self.store()?.get(&ObjectPath::from(key)).await {
            Ok(result) => Ok(Some(
                result
                    .bytes()
                    .await
                    .map_err(|e| DocumentStoreError::of(&e))?
                    .to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(DocumentStoreError::of(&e)),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, DocumentStoreError> {
        let result = self
            .store()?
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| DocumentStoreError::of(&e))?;
        Ok(result
            .bytes()
            .await
            .map_err(|e| DocumentStoreError::of(&e))?
            .to_vec())
    }
}

/// The group flush: takes every request waiting, flushes once for all of them, answers each.
/// A request that arrives during a flush waits for the next one, which starts after its files
/// were written.
async fn flush_in_groups(
    folder: PathBuf,
    mut receiver: mpsc::UnboundedReceiver<FlushRequest>,
    [flushes, flushed]: [Arc<AtomicU64>; 2],
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while let Ok(request) = receiver.try_recv() {
            batch.push(request);
        }
        let paths: Vec<PathBuf> = batch.iter().flat_map(|r| r.paths.clone()).collect();
        flushes.fetch_add(1, Ordering::Relaxed);
        flushed.fetch_add(paths.len() as u64, Ordering::Relaxed);
        let folder = folder.clone();
        let result = match tokio::task::spawn_blocking(move || flush_to_disk(&folder, &paths)).await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DocumentStoreError::of(&e)),
            Err(e) => Err(DocumentStoreError::of(&e)),
        };
        for request in batch {
            let _ = request.reply.send(result.clone());
        }
    }
}

/// One `syncfs` of the file system holding `folder`: every file written and renamed before it
/// is on disk when it returns (and a write-back error since the last one is reported).
#[cfg(target_os = "linux")]
fn flush_to_disk(folder: &Path, _paths: &[PathBuf]) -> std::io::Result<()> {
    let dir = std::fs::File::open(folder)?;
    rustix::fs::syncfs(&dir)?;
    Ok(())
}

/// Each file and its folder, one by one.
#[cfg(not(target_os = "linux"))]
fn flush_to_disk(_folder: &Path, paths: &[PathBuf]) -> std::io::Result<()> {
    for path in paths {
        std::fs::File::open(path)?.sync_all()?;
        if let Some(parent) = path.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    Ok(())
}

/// The document store could not be reached or refused the operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("document store: {message}")]
pub struct DocumentStoreError {
    message: String,
    /// The disk is full (nothing is wrong with the document).
    full: bool,
}

impl DocumentStoreError {
    fn new(message: impl Into<String>) -> DocumentStoreError {
        DocumentStoreError {
            message: message.into(),
            full: false,
        }
    }

    /// From any error, keeping its causes in the message and whether the disk is full.
    fn of(error: &(dyn std::error::Error + 'static)) -> DocumentStoreError {
        let mut message = error.to_string();
        let mut full = false;
        let mut link = Some(error);
        while let Some(e) = link {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                full |= crate::is_disk_full(io);
            }
            link = e.source();
            if let Some(cause) = link {
                message = format!("{message}: {cause}");
            }
        }
        DocumentStoreError { message, full }
    }

    /// Whether the disk is full.
    pub fn is_storage_full(&self) -> bool {
        self.full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_content_not_name() {
        assert_eq!(sniff("scan.exe", b"%PDF-1.7\n..."), Ok(DocumentKind::Pdf));
        assert_eq!(
            sniff("a", &[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Ok(DocumentKind::Jpeg)
        );
        assert_eq!(
            sniff("a", &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Ok(DocumentKind::Png)
        );
        assert_eq!(
            sniff("photo.jpg", b"MZ\x90\x00"),
            Err(DocumentError::UnknownKind)
        );
        assert_eq!(sniff("photo.pdf", b""), Err(DocumentError::Empty));
        let big = vec![b'%'; MAX_DOCUMENT_BYTES + 1];
        assert_eq!(
            sniff("big.pdf", &big),
            Err(DocumentError::TooLarge(MAX_DOCUMENT_BYTES + 1))
        );
        assert!(DocumentError::UnknownKind.invalid().fa.contains("PDF"));
    }

    #[tokio::test]
    async fn a_local_folder_keeps_what_is_put() {
        let dir = tempfile::tempdir().unwrap();
        let docs = Documents::new(&DocumentSettings::Local, dir.path());
        docs.put("documents/ab/abc", b"%PDF-1.4 hello".to_vec())
            .await
            .unwrap();
        assert_eq!(
            docs.get("documents/ab/abc").await.unwrap(),
            b"%PDF-1.4 hello"
        );
        assert!(docs.get("documents/ab/missing").await.is_err());
    }
}
