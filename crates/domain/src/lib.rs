//! The domain layer: pure types and rules of Pishkhan.
//!
//! Nothing here does IO, awaits, reads the clock or draws random numbers: time and randomness come
//! in as parameters, so every rule is testable on its own. Each rule has its unit tests beside it.

pub mod audit;
pub mod business_days;
pub mod catalog;
pub mod catalog_table;
pub mod cpsv;
pub mod credential;
pub mod digest;
pub mod form_rows;
pub mod forms;
pub mod holiday_table;
pub mod id;
pub mod identity;
pub mod jalali;
pub mod language;
pub mod ledger;
pub mod money;
pub mod output;
pub mod password;
pub mod payment;
pub mod problem;
pub mod settlement;
pub mod text;
pub mod totp;
pub mod tracking;
pub mod workflow;

pub use business_days::{Holiday, HolidayCalendar, HolidayKind};
pub use holiday_table::{HolidayYear, parse_holiday_csv};
pub use jalali::JalaliDate;
pub use language::Language;
pub use money::Rials;
pub use problem::Problem;
