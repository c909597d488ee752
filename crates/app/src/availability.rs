//! "Not now" rather than "broken": a write refused because the writer's queue is full, or because
//! the disk is full, is answered 503 with `Retry-After` and a message that says which, not the
//! generic 500. Each layer's error wraps the store's; this finds it in any of them.

use std::error::Error;

use pishkhan_store::{StoreError, Unavailable};

use crate::applications::ApplicationError;
use crate::audit::AuditError;
use crate::auth::AuthError;
use crate::catalog::CatalogError;
use crate::holidays::ImportError as HolidayImportError;
use crate::import::ImportError as CatalogImportError;
use crate::orgs::OrgError;
use crate::print::PrintError;
use crate::search::{SearchUseError, SynonymError};
use crate::users::UserError;

/// Why `error` (or any of its causes) means "try again later", if it does.
pub fn unavailable(error: &(dyn Error + 'static)) -> Option<Unavailable> {
    let mut link = Some(error);
    while let Some(error) = link {
        if let Some(store) = store_error(error)
            && let Some(found) = store.unavailable()
        {
            return Some(found);
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && is_disk_full(io)
        {
            return Some(Unavailable::StorageFull);
        }
        link = error.source();
    }
    None
}

/// "No space left on device" or "disk quota exceeded".
pub fn is_disk_full(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::StorageFull
        || error.kind() == std::io::ErrorKind::QuotaExceeded
}

/// The store's error inside `error`: the errors that wrap it transparently hide it from
/// `source()`, so each is asked by name.
fn store_error<'e>(error: &'e (dyn Error + 'static)) -> Option<&'e StoreError> {
    macro_rules! wrapped {
        ($($kind:ident),+) => {$(
            if let Some($kind::Store(store)) = error.downcast_ref::<$kind>() {
                return Some(store);
            }
        )+};
    }
    if let Some(store) = error.downcast_ref::<StoreError>() {
        return Some(store);
    }
    wrapped!(
        ApplicationError,
        AuthError,
        CatalogError,
        UserError,
        OrgError,
        AuditError,
        SearchUseError,
        SynonymError,
        HolidayImportError,
        CatalogImportError,
        PrintError
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_or_disk_is_found_through_the_layers() {
        let busy = ApplicationError::Store(StoreError::WriterBusy);
        assert_eq!(unavailable(&busy), Some(Unavailable::Busy));
        let late = ApplicationError::Store(StoreError::WriterTimeout);
        assert_eq!(unavailable(&late), Some(Unavailable::Unsure));
        let full = AuthError::Store(StoreError::StorageFull);
        assert_eq!(unavailable(&full), Some(Unavailable::StorageFull));
        let disk = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(unavailable(&disk), Some(Unavailable::StorageFull));
        let broken = ApplicationError::Store(StoreError::Corrupt("x".into()));
        assert_eq!(unavailable(&broken), None);
    }
}
