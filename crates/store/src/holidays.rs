//! Official holidays and which years' lists are complete.

use chrono::{DateTime, Utc};
use pishkhan_domain::{Holiday, HolidayKind, HolidayYear, JalaliDate};

use crate::{Store, StoreError, on_pool};

/// What is stored about one year's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayYearRecord {
    pub year: i32,
    pub covered: bool,
    /// Where the list came from: "seed" or the imported file's name.
    pub source: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct HolidayRow {
    date: String,
    kind: String,
    name_fa: String,
    name_en: String,
}

#[derive(sqlx::FromRow)]
struct YearRow {
    year: i32,
    covered: bool,
    source: String,
    updated_at: i64,
}

/// Which years a write may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Replace every year given (an import).
    All,
    /// Only years with no list yet (the seed at start: never overwrite an admin's edits).
    MissingOnly,
}

fn decode(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("stored {what} is not valid").into(),
    ))
}

impl Store {
    /// Replaces the listed years' holidays in one transaction: all of them or none, with the
    /// audit entry `audit` makes for each year written. Returns the years written.
    pub async fn replace_holiday_years(
        &self,
        years: &[HolidayYear],
        source: &str,
        mode: Replace,
        at: DateTime<Utc>,
        audit: &(dyn Fn(&HolidayYear) -> Option<crate::audit::NewAuditEntry> + Sync),
    ) -> Result<Vec<i32>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut written = Vec::new();
            for year in years {
                match mode {
                    Replace::MissingOnly => {
                        // Claim the year: nodes starting together race here, and only the one
                        // whose insert lands writes the year's holidays (PostgreSQL makes the
                        // others wait for its commit, then see the conflict).
                        let claimed = sqlx::query(
                            "INSERT INTO holiday_years (year, covered, source, updated_at) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (year) DO NOTHING",
                        )
                        .bind(year.year)
                        .bind(year.covered)
                        .bind(source)
                        .bind(at.timestamp_millis())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if claimed == 0 {
                            continue;
                        }
                    }
                    Replace::All => {
                        sqlx::query("DELETE FROM holidays WHERE year = $1")
                            .bind(year.year)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "INSERT INTO holiday_years (year, covered, source, updated_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (year) DO UPDATE SET covered = excluded.covered, \
                             source = excluded.source, updated_at = excluded.updated_at",
                        )
                        .bind(year.year)
                        .bind(year.covered)
                        .bind(source)
                        .bind(at.timestamp_millis())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                for holiday in &year.holidays {
                    sqlx::query(
                        "INSERT INTO holidays (date, year, kind, name_fa, name_en) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(holiday.date.format_numeric())
                    .bind(year.year)
                    .bind(holiday.kind.code())
                    .bind(&holiday.name_fa)
                    .bind(&holiday.name_en)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(entry) = audit(year) {
                    crate::audit::append_on(&mut *tx, &entry).await?;
                }
                written.push(year.year);
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Every stored holiday, in date order.
    pub async fn holidays(&self) -> Result<Vec<Holiday>, StoreError> {
        let rows: Vec<HolidayRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT date, kind, name_fa, name_en FROM holidays ORDER BY date, name_fa")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(Holiday {
                    date: JalaliDate::parse(&row.date).map_err(|_| decode("holiday date"))?,
                    kind: HolidayKind::from_code(&row.kind)
                        .ok_or_else(|| decode("holiday kind"))?,
                    name_fa: row.name_fa,
                    name_en: row.name_en,
                })
            })
            .collect()
    }

    /// Every year that has a list, in order.
    pub async fn holiday_years(&self) -> Result<Vec<HolidayYearRecord>, StoreError> {
        let rows: Vec<YearRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT year, covered, source, updated_at FROM holiday_years ORDER BY year")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(HolidayYearRecord {
                    year: row.year,
                    covered: row.covered,
                    source: row.source,
                    updated_at: DateTime::from_timestamp_millis(row.updated_at)
                        .ok_or_else(|| decode("update time"))?,
                })
            })
            .collect()
    }
}
