//! Where attached files live: `object_store`, a local folder by default (`documents/` in the
//! data folder), an S3-compatible bucket when configured. And what a file is, judged by its
//! content (its first bytes), never by its name.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use pishkhan_domain::id::Invalid;

/// The largest file accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// The kinds of file accepted: what scanners and phones produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Jpeg,
    Png,
}

impl DocumentKind {
    pub fn mime(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Jpeg => "image/jpeg",
            DocumentKind::Png => "image/png",
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
    pub fn invalid(&self) -> Invalid {
        match self {
            DocumentError::Empty => Invalid::new(
                "document_empty",
                "پروندهٔ پیوست خالی است؛ دوباره اسکن یا انتخاب کنید.",
                "The attached file is empty; scan or choose it again.",
            ),
            DocumentError::TooLarge(size) => Invalid::new(
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
            DocumentError::UnknownKind => Invalid::new(
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
    data_dir: std::path::PathBuf,
    store: OnceLock<Result<Arc<dyn ObjectStore>, String>>,
}

impl Documents {
    pub fn new(settings: &DocumentSettings, data_dir: &Path) -> Documents {
        Documents {
            settings: settings.clone(),
            data_dir: data_dir.to_owned(),
            store: OnceLock::new(),
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
            .map_err(|e| DocumentStoreError(e.clone()))
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

    /// Stores `bytes` under `key`, durably: in the local folder the file and its folder are
    /// flushed to disk before this returns (`object_store` only renames into place), so a row
    /// committed afterwards never names a file a power cut took away.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), DocumentStoreError> {
        self.store()?
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map_err(|e| DocumentStoreError(e.to_string()))?;
        if matches!(self.settings, DocumentSettings::Local) {
            let path = self.data_dir.join("documents").join(key);
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::File::open(&path)?.sync_all()?;
                if let Some(folder) = path.parent() {
                    std::fs::File::open(folder)?.sync_all()?;
                }
                Ok(())
            })
            .await
            .map_err(|e| DocumentStoreError(e.to_string()))?
            .map_err(|e| DocumentStoreError(format!("flushing {key}: {e}")))?;
        }
        Ok(())
    }

    /// Deletes what is under `key` (nothing there is not an error).
    pub async fn delete(&self, key: &str) -> Result<(), DocumentStoreError> {
        match self.store()?.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(DocumentStoreError(e.to_string())),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, DocumentStoreError> {
        let result = self
            .store()?
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| DocumentStoreError(e.to_string()))?;
        Ok(result
            .bytes()
            .await
            .map_err(|e| DocumentStoreError(e.to_string()))?
            .to_vec())
    }
}

/// The document store could not be reached or refused the operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("document store: {0}")]
pub struct DocumentStoreError(pub String);

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
