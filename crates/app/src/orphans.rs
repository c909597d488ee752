//! Files no row names (scans, drafts' files, outputs' PDFs). A filing writes its scans before the transaction that names them; if the
//! process dies in between (or the refusal's clean-up failed), the scans stay behind with nobody
//! to find them — personal documents kept for nothing. At start the documents store is walked
//! and such files, older than [`GRACE`] (so a filing in flight on another node is left alone),
//! are removed.

use chrono::{DateTime, Utc};
use pishkhan_store::{FileOwner, StoreError};

use crate::App;
use crate::documents::DocumentStoreError;

/// A file younger than this may belong to a filing still in flight.
pub const GRACE: chrono::Duration = chrono::Duration::hours(1);

/// What one sweep found and removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub removed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Documents(#[from] DocumentStoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Removes the files under `documents/`, `drafts/` and `outputs/` that no row names, and previewed
    /// catalogue files under `imports/`, written before `now - GRACE`.
    pub async fn sweep_orphans(&self, now: DateTime<Utc>) -> Result<Swept, SweepError> {
        let mut swept = Swept::default();
        for (prefix, owner) in [
            ("documents/", FileOwner::Document),
            ("drafts/", FileOwner::Draft),
            ("outputs/", FileOwner::Output),
        ] {
            let files = self.documents().list(prefix).await?;
            swept.files += files.len();
            // The owner's id: `documents/xx/ID` → ID; `drafts/ID/FILE` → ID.
            let owned: Vec<(String, String)> = files
                .into_iter()
                .filter(|(_, written)| *written < now - GRACE)
                .filter_map(|(key, _)| {
                    let mut parts = key.split('/');
                    let id = match owner {
                        FileOwner::Document => parts.nth(2),
                        FileOwner::Draft => parts.nth(1),
                        // An output's PDF is named by its whole key.
                        FileOwner::Output => Some(key.as_str()),
                    }?;
                    Some((id.to_owned(), key))
                })
                .collect();
            let ids: Vec<String> = owned.iter().map(|(id, _)| id.clone()).collect();
            let unknown: std::collections::HashSet<String> = self
                .store()
                .unknown_ids(owner, &ids)
                .await?
                .into_iter()
                .collect();
            for (id, key) in owned {
                if unknown.contains(&id) {
                    self.documents().delete(&key).await?;
                    swept.removed += 1;
                }
            }
        }
        // Previewed catalogue files nobody confirmed.
        let staged = self.documents().list(crate::import::STAGED_PREFIX).await?;
        swept.files += staged.len();
        for (key, written) in staged {
            if written < now - GRACE {
                self.documents().delete(&key).await?;
                swept.removed += 1;
            }
        }
        Ok(swept)
    }
}
