//! Provinces (reference data), and the agencies and centres that belong to them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::identity::{Directory, Scope};

use crate::{Store, StoreError, on_pool};

/// An organisation a role can be scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Agency,
    Centre,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Province {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub capital_fa: String,
    pub capital_en: String,
    pub pilot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub kind: OrgKind,
    pub code: String,
    pub province: String,
    pub name_fa: String,
}

/// Why an agency or centre was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddOrgError {
    #[error("the code `{0}` is taken")]
    CodeTaken(String),
    #[error("there is no province `{0}`")]
    UnknownProvince(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every agency and centre with its province, loaded at once: what scope checks consult.
#[derive(Debug, Clone, Default)]
pub struct OrgDirectory {
    agencies: HashMap<String, OrgRecord>,
    centres: HashMap<String, OrgRecord>,
    /// Province code → Persian name.
    provinces: HashMap<String, String>,
}

impl OrgDirectory {
    pub fn agency(&self, code: &str) -> Option<&OrgRecord> {
        self.agencies.get(code)
    }

    pub fn centre(&self, code: &str) -> Option<&OrgRecord> {
        self.centres.get(code)
    }

    /// Every agency and centre, agencies first, each by code.
    pub fn all(&self) -> Vec<&OrgRecord> {
        let mut agencies: Vec<&OrgRecord> = self.agencies.values().collect();
        agencies.sort_by(|a, b| a.code.cmp(&b.code));
        let mut centres: Vec<&OrgRecord> = self.centres.values().collect();
        centres.sort_by(|a, b| a.code.cmp(&b.code));
        agencies.extend(centres);
        agencies
    }

    /// Does the scope name an organisation that exists (provinces are checked by the caller)?
    pub fn knows(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Agency { agency, .. } => self.agencies.contains_key(agency),
            Scope::Centre(code) => self.centres.contains_key(code),
            _ => true,
        }
    }

    /// The organisation's (or province's) Persian name, for screens.
    pub fn name_of(&self, scope: &Scope) -> Option<&str> {
        match scope {
            Scope::Agency { agency, .. } => self.agencies.get(agency).map(|o| o.name_fa.as_str()),
            Scope::Centre(code) => self.centres.get(code).map(|o| o.name_fa.as_str()),
            Scope::Province(code) => self.provinces.get(code).map(String::as_str),
            Scope::National | Scope::SelfOnly => None,
        }
    }
}

impl Directory for OrgDirectory {
    fn province_of(&self, scope: &Scope) -> Option<String> {
        match scope {
            Scope::Agency { agency, .. } => self.agencies.get(agency),
            Scope::Centre(code) => self.centres.get(code),
            _ => None,
        }
        .map(|org| org.province.clone())
    }
}

impl Store {
    pub async fn provinces(&self) -> Result<Vec<Province>, StoreError> {
        type Row = (String, String, String, String, String, i64);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT code, name_fa, name_en, capital_fa, capital_en, pilot FROM provinces ORDER BY code",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(code, name_fa, name_en, capital_fa, capital_en, pilot)| Province {
                    code,
                    name_fa,
                    name_en,
                    capital_fa,
                    capital_en,
                    pilot: pilot != 0,
                },
            )
            .collect())
    }

    /// Marks a province as a pilot (or not).
    pub async fn set_pilot(&self, code: &str, pilot: bool) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sqlx::query("UPDATE provinces SET pilot = $1 WHERE code = $2")
                .bind(i64::from(pilot))
                .bind(code)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Adds an agency or a centre in a province.
    pub async fn add_org(
        &self,
        kind: OrgKind,
        code: &str,
        province: &str,
        name_fa: &str,
        at: DateTime<Utc>,
    ) -> Result<(), AddOrgError> {
        let known: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT code FROM provinces WHERE code = $1")
                .bind(province)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?
        });
        if known.is_none() {
            return Err(AddOrgError::UnknownProvince(province.to_owned()));
        }
        let sql = match kind {
            OrgKind::Agency => {
                "INSERT INTO agencies (code, province, name_fa, created_at) VALUES ($1, $2, $3, $4)"
            }
            OrgKind::Centre => {
                "INSERT INTO centres (code, province, name_fa, created_at) VALUES ($1, $2, $3, $4)"
            }
        };
        let result = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(code)
                .bind(province)
                .bind(name_fa)
                .bind(at.timestamp_millis())
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result {
            Ok(()) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AddOrgError::CodeTaken(code.to_owned()))
            }
            Err(e) => Err(AddOrgError::Store(e.into())),
        }
    }

    /// Every agency and centre.
    pub async fn org_directory(&self) -> Result<OrgDirectory, StoreError> {
        let agencies: Vec<(String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT code, province, name_fa FROM agencies")
                .fetch_all(pool)
                .await?
        });
        let centres: Vec<(String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT code, province, name_fa FROM centres")
                .fetch_all(pool)
                .await?
        });
        let index = |kind, rows: Vec<(String, String, String)>| {
            rows.into_iter()
                .map(|(code, province, name_fa)| {
                    (
                        code.clone(),
                        OrgRecord {
                            kind,
                            code,
                            province,
                            name_fa,
                        },
                    )
                })
                .collect()
        };
        let provinces = self
            .provinces()
            .await?
            .into_iter()
            .map(|p| (p.code, format!("استان {}", p.name_fa)))
            .collect();
        Ok(OrgDirectory {
            agencies: index(OrgKind::Agency, agencies),
            centres: index(OrgKind::Centre, centres),
            provinces,
        })
    }
}
