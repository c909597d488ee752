//! The holiday table: seeded at start with the years that could be sourced, replaced by the
//! governorate's imports, and read as a [`HolidayCalendar`] for every deadline.

use std::sync::Arc;

use chrono::Utc;
use pishkhan_domain::{HolidayCalendar, HolidayYear, Problem, parse_holiday_csv};
use pishkhan_store::{HolidayYearRecord, Replace, StoreError};

use crate::App;
use crate::audit::Actor;

/// The holidays shipped with Pishkhan (see the file's header for its sources).
pub const SEED_CSV: &str = include_str!("../data/holidays.csv");

/// Why an import was refused; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file has {} problem(s); nothing was imported", .0.len())]
    Invalid(Vec<Problem>),
    #[error("the file holds no holidays")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Stores the shipped holiday years that have no list yet; never overwrites an edited year.
    pub async fn seed_holidays(&self) -> Result<Vec<i32>, StoreError> {
        // The seed is checked by a unit test; a broken one seeds nothing rather than stopping.
        let years = parse_holiday_csv(SEED_CSV).unwrap_or_default();
        let seeded = self
            .store()
            .replace_holiday_years(&years, "seed", Replace::MissingOnly, Utc::now(), &|_| None)
            .await;
        self.inner.calendar.clear();
        seeded
    }

    /// Replaces the years in `csv` (all of them, or none if any line is wrong), and records who
    /// did it in the audit log.
    #[tracing::instrument(skip_all, fields(source = %source))]
    pub async fn import_holidays(
        &self,
        actor: &Actor,
        csv: &str,
        source: &str,
    ) -> Result<Vec<HolidayYear>, ImportError> {
        let years = parse_holiday_csv(csv).map_err(ImportError::Invalid)?;
        if years.is_empty() {
            return Err(ImportError::Empty);
        }
        let audit = |year: &HolidayYear| {
            Some(crate::audit::audit_entry(
                actor,
                "holidays.import",
                ("holiday_year", &year.year.to_string()),
                serde_json::json!({
                    "file": source,
                    "holidays": year.holidays.len(),
                    "covered": year.covered,
                }),
            ))
        };
        let replaced = self
            .store()
            .replace_holiday_years(&years, source, Replace::All, Utc::now(), &audit)
            .await;
        self.inner.calendar.clear();
        replaced?;
        Ok(years)
    }

    /// The holidays in force, for deadline arithmetic: kept in memory (every filing needs it),
    /// read again after an import on this node, or after [`crate::cache::PUBLIC_CACHE_TTL`]
    /// when another node imported.
    pub async fn holiday_calendar(&self) -> Result<Arc<HolidayCalendar>, StoreError> {
        if let Some(kept) = self.inner.calendar.get("") {
            return Ok(kept);
        }
        let holidays = self.store().holidays().await?;
        let years = self.store().holiday_years().await?;
        let calendar = Arc::new(HolidayCalendar::new(
            holidays,
            years.into_iter().filter(|y| y.covered).map(|y| y.year),
        ));
        self.inner.calendar.put("", Arc::clone(&calendar));
        Ok(calendar)
    }

    /// Every stored holiday, by date.
    pub async fn holiday_list(&self) -> Result<Vec<pishkhan_domain::Holiday>, StoreError> {
        self.store().holidays().await
    }

    /// What is stored about each year's list.
    pub async fn holiday_years(&self) -> Result<Vec<HolidayYearRecord>, StoreError> {
        self.store().holiday_years().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_seed_is_valid_and_1404_is_complete() {
        let years = parse_holiday_csv(SEED_CSV).unwrap();
        let y1404 = years.iter().find(|y| y.year == 1404).unwrap();
        assert!(y1404.covered);
        let days: std::collections::BTreeSet<_> = y1404.holidays.iter().map(|h| h.date).collect();
        assert_eq!(days.len(), 26, "the official count of days off in 1404");
        let y1405 = years.iter().find(|y| y.year == 1405).unwrap();
        assert!(!y1405.covered, "1405 could not be sourced whole");
    }
}
