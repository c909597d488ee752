//! The domain layer: pure types and rules of Pishkhan.
//!
//! Nothing here does IO, awaits, reads the clock or draws random numbers: time and randomness come
//! in as parameters, so every rule is testable on its own. Each rule has its unit tests beside it.

pub mod language;

pub use language::Language;
