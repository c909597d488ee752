//! Pishkhan's search layer: the published catalogue in a tantivy index with a Persian analyzer.
//!
//! The index lives in memory on every node, rebuilt from the database at start and kept current
//! by the app layer (after each publish, and by polling the catalogue's history for what other
//! nodes published). See `docs/decisions/0005-search.md`.

pub mod analyzer;
mod index;
pub mod spoken;
pub mod synonyms;

pub use index::{Catalogue, Entry, Filter, Found, SearchError};
pub use synonyms::Synonyms;
pub use tantivy::TantivyError;
