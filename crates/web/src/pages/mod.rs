//! HTML pages, one file per page or small family of pages.

pub mod errors;
pub mod home;
pub mod language;
