//! The app's use cases against real databases, in one test binary (one link of the whole app,
//! not five): each module's cases run on SQLite and again on PostgreSQL (`on_both_backends!`).

mod applications;
mod catalog;
mod drafts;
mod exchange;
mod identity;
mod import;
