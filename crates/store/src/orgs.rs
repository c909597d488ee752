//! Provinces (reference data), and the agencies and centres that belong to them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pishkhan_domain::identity::{Directory, Scope};

use crate::audit::NewAuditEntry;
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

    /// The one province this installation's agencies and centres are in, when they are all in
    /// one (a province runs its own Pishkhan): where a bill paid online is taken to be from.
    pub fn sole_province(&self) -> Option<&str> {
        let mut provinces = self
            .agencies
            .values()
            .chain(self.centres.values())
            .map(|o| o.province.as_str());
        let first = provinces.next()?;
        provinces.all(|p| p == first).then_some(first)
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
        audit: &NewAuditEntry,
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
        let result: Result<(), StoreError> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query(sql)
                    .bind(code)
                    .bind(province)
                    .bind(name_fa)
                    .bind(at.timestamp_millis())
                    .execute(&mut *tx)
                    .await?;
                crate::audit::append_on(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
            .await
        });
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(AddOrgError::CodeTaken(code.to_owned()))
            }
            Err(e) => Err(AddOrgError::Store(e)),
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

/// An agency's contact point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgencyContact {
    pub address_fa: String,
    pub phone: String,
    pub fax: String,
    pub email: String,
    pub hours_fa: String,
}

/// Where a service centre is and when it is open, as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CentrePlace {
    pub code: String,
    pub province: String,
    pub name_fa: String,
    /// The city's name ("" when not set).
    pub city_fa: String,
    pub address_fa: String,
    pub phone: String,
    pub hours_fa: String,
}

/// What an agency has handed in (Article 2.1), counted from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandIn {
    pub agency: String,
    pub name_fa: String,
    pub contact: AgencyContact,
    /// Service cards (any state) with steps and a processing time.
    pub procedures: i64,
    /// Cards listing at least one document.
    pub with_documents: i64,
    pub forms: i64,
}

impl Store {
    pub async fn agency_contact(&self, agency: &str) -> Result<Option<AgencyContact>, StoreError> {
        let row: Option<(String, String, String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT address_fa, phone, fax, email, hours_fa FROM agencies WHERE code = $1")
                .bind(agency)
                .fetch_optional(pool)
                .await?
        });
        Ok(
            row.map(|(address_fa, phone, fax, email, hours_fa)| AgencyContact {
                address_fa,
                phone,
                fax,
                email,
                hours_fa,
            }),
        )
    }

    pub async fn set_agency_contact(
        &self,
        agency: &str,
        contact: &AgencyContact,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE agencies SET address_fa = $1, phone = $2, fax = $3, email = $4, hours_fa = $5 WHERE code = $6",
            )
            .bind(&contact.address_fa)
            .bind(&contact.phone)
            .bind(&contact.fax)
            .bind(&contact.email)
            .bind(&contact.hours_fa)
            .bind(agency)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// The centres of a province (every province's when `None`), by name, with where they are.
    pub async fn centre_places(
        &self,
        province: Option<&str>,
    ) -> Result<Vec<CentrePlace>, StoreError> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT c.code, c.province, c.name_fa, ci.name_fa, c.address_fa, c.phone, c.hours_fa \
                 FROM centres c LEFT JOIN cities ci ON ci.code = c.city \
                 WHERE CAST($1 AS TEXT) IS NULL OR c.province = $1 ORDER BY c.province, c.name_fa",
            )
            .bind(province)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(code, province, name_fa, city, address_fa, phone, hours_fa)| CentrePlace {
                    code,
                    province,
                    name_fa,
                    city_fa: city.unwrap_or_default(),
                    address_fa,
                    phone,
                    hours_fa,
                },
            )
            .collect())
    }

    /// Sets where a centre is and when it is open (`city` a code from `cities`, or `None`).
    pub async fn set_centre_place(
        &self,
        centre: &str,
        city: Option<&str>,
        address_fa: &str,
        phone: &str,
        hours_fa: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE centres SET city = $1, address_fa = $2, phone = $3, hours_fa = $4 WHERE code = $5",
            )
            .bind(city)
            .bind(address_fa)
            .bind(phone)
            .bind(hours_fa)
            .bind(centre)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// The plan's start date of a province (Jalali, `YYYY/MM/DD`), if set.
    pub async fn plan_start(&self, province: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT plan_start FROM provinces WHERE code = $1")
                .bind(province)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(start,)| start))
    }

    pub async fn set_plan_start(
        &self,
        province: &str,
        start: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE provinces SET plan_start = $1 WHERE code = $2")
                .bind(start)
                .bind(province)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// What each agency of a province has handed in, by agency code.
    pub async fn hand_ins(&self, province: &str) -> Result<Vec<HandIn>, StoreError> {
        type Row = (String, String, String, String, String, String, String);
        let agencies: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT code, name_fa, address_fa, phone, fax, email, hours_fa FROM agencies \
                 WHERE province = $1 ORDER BY code",
            )
            .bind(province)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::new();
        for (code, name_fa, address_fa, phone, fax, email, hours_fa) in agencies {
            let bodies: Vec<(String,)> = on_pool!(self, pool => {
                sqlx::query_as(
                    "SELECT v.body FROM services s JOIN service_versions v \
                     ON v.code = s.code AND v.version = s.latest_version WHERE s.agency = $1",
                )
                .bind(&code)
                .fetch_all(pool)
                .await?
            });
            let (forms,): (i64,) = on_pool!(self, pool => {
                sqlx::query_as("SELECT COUNT(*) FROM forms WHERE agency = $1")
                    .bind(&code)
                    .fetch_one(pool)
                    .await?
            });
            let cards: Vec<pishkhan_domain::catalog::ServiceCard> = bodies
                .into_iter()
                .filter_map(|(body,)| serde_json::from_str(&body).ok())
                .collect();
            let count = |f: &dyn Fn(&pishkhan_domain::catalog::ServiceCard) -> bool| {
                i64::try_from(cards.iter().filter(|c| f(c)).count()).unwrap_or(i64::MAX)
            };
            out.push(HandIn {
                procedures: count(&|c| !c.steps.is_empty() && c.processing_days > 0),
                with_documents: count(&|c| !c.documents.is_empty()),
                forms,
                agency: code,
                name_fa,
                contact: AgencyContact {
                    address_fa,
                    phone,
                    fax,
                    email,
                    hours_fa,
                },
            });
        }
        Ok(out)
    }
}

/// A city (reference data for now: the provinces' capitals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct City {
    pub code: String,
    pub province: String,
    pub name_fa: String,
    pub capital: bool,
}

/// One office (unit) of an agency, where people go.
#[derive(Debug, Clone, PartialEq)]
pub struct Office {
    pub agency: String,
    pub code: String,
    pub name_fa: String,
    pub city: Option<String>,
    pub contact: AgencyContact,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

type OfficeRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<f64>,
);

impl Store {
    /// The cities of a province, capital first.
    pub async fn cities(&self, province: &str) -> Result<Vec<City>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT code, province, name_fa, capital FROM cities WHERE province = $1 \
                 ORDER BY capital DESC, name_fa",
            )
            .bind(province)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(code, province, name_fa, capital)| City {
                code,
                province,
                name_fa,
                capital: capital != 0,
            })
            .collect())
    }

    /// An agency's offices, by code.
    pub async fn offices(&self, agency: &str) -> Result<Vec<Office>, StoreError> {
        let rows: Vec<OfficeRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT agency, code, name_fa, city, address_fa, phone, fax, email, hours_fa, \
                 latitude, longitude FROM agency_offices WHERE agency = $1 ORDER BY code",
            )
            .bind(agency)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| Office {
                agency: r.0,
                code: r.1,
                name_fa: r.2,
                city: r.3,
                contact: AgencyContact {
                    address_fa: r.4,
                    phone: r.5,
                    fax: r.6,
                    email: r.7,
                    hours_fa: r.8,
                },
                latitude: r.9,
                longitude: r.10,
            })
            .collect())
    }

    /// Adds an office or replaces the one with its code.
    pub async fn save_office(
        &self,
        office: &Office,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO agency_offices (agency, code, name_fa, city, address_fa, phone, fax, email, \
                 hours_fa, latitude, longitude) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (agency, code) DO UPDATE SET name_fa = excluded.name_fa, city = excluded.city, \
                 address_fa = excluded.address_fa, phone = excluded.phone, fax = excluded.fax, \
                 email = excluded.email, hours_fa = excluded.hours_fa, latitude = excluded.latitude, \
                 longitude = excluded.longitude",
            )
            .bind(&office.agency)
            .bind(&office.code)
            .bind(&office.name_fa)
            .bind(&office.city)
            .bind(&office.contact.address_fa)
            .bind(&office.contact.phone)
            .bind(&office.contact.fax)
            .bind(&office.contact.email)
            .bind(&office.contact.hours_fa)
            .bind(office.latitude)
            .bind(office.longitude)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_on(&mut *tx, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes an office; `audit` is recorded only if there was one.
    pub async fn delete_office(
        &self,
        agency: &str,
        code: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("DELETE FROM agency_offices WHERE agency = $1 AND code = $2")
                .bind(agency)
                .bind(code)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 1 {
                crate::audit::append_on(&mut *tx, audit).await?;
            }
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }
}

/// What a province's governorate admin sees first: today's work in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceFigures {
    /// Applications to the province's agencies filed since the given instant (today).
    pub filed_today: i64,
    /// Applications still open.
    pub open: i64,
    /// Open applications past their deadline, by agency: (agency, name, count), most first.
    pub overdue_by_agency: Vec<(String, String, i64)>,
    /// Service cards waiting for a reviewer to publish them.
    pub cards_in_review: i64,
}

impl Store {
    /// Today's figures of a province: filings since `since` (ms), open applications, those past
    /// their deadline (a Jalali day `YYYY/MM/DD`, compared as text) by agency, cards in review.
    pub async fn province_figures(
        &self,
        province: &str,
        since: DateTime<Utc>,
        today: &str,
    ) -> Result<ProvinceFigures, StoreError> {
        let since = since.timestamp_millis();
        let (filed_today, open, cards_in_review, overdue): (
            i64,
            i64,
            i64,
            Vec<(String, String, i64)>,
        ) = on_pool!(self, pool => {
            let (filed,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM applications a JOIN agencies g ON g.code = a.agency \
                 WHERE g.province = $1 AND a.created_at >= $2",
            )
            .bind(province)
            .bind(since)
            .fetch_one(pool)
            .await?;
            let (open,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM applications a JOIN agencies g ON g.code = a.agency \
                 WHERE g.province = $1 AND a.outcome IS NULL",
            )
            .bind(province)
            .fetch_one(pool)
            .await?;
            let (review,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM services s JOIN agencies g ON g.code = s.agency \
                 WHERE g.province = $1 AND s.status = 'review'",
            )
            .bind(province)
            .fetch_one(pool)
            .await?;
            let overdue: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT a.agency, g.name_fa, COUNT(*) FROM applications a \
                 JOIN agencies g ON g.code = a.agency WHERE g.province = $1 \
                 AND a.outcome IS NULL AND a.deadline IS NOT NULL AND a.deadline < $2 \
                 GROUP BY a.agency, g.name_fa ORDER BY COUNT(*) DESC, g.name_fa",
            )
            .bind(province)
            .bind(today)
            .fetch_all(pool)
            .await?;
            (filed, open, review, overdue)
        });
        Ok(ProvinceFigures {
            filed_today,
            open,
            overdue_by_agency: overdue,
            cards_in_review,
        })
    }
}
