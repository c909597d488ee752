//! Article 2.1 tracking: within two months of the province's plan start, every agency hands in
//! its procedures with their timing, the documents each needs, its forms and its contact details.
//! The governorate sees, per agency, what is in and what is missing, and who is late.

use chrono::{TimeDelta, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::id::Problem;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_store::{AgencyContact, City, Office, StoreError};

use crate::App;
use crate::audit::{Actor, audit_entry};
use crate::catalog::EDITORS;
use crate::policy::Principal;

/// How long agencies have, from the plan's start.
pub const HAND_IN_MONTHS: u8 = 2;

/// One agency's hand-in, item by item.
#[derive(Debug, Clone)]
pub struct AgencyProgress {
    pub agency: String,
    pub name_fa: String,
    pub procedures: bool,
    pub documents: bool,
    pub forms: bool,
    pub contacts: bool,
    pub complete: bool,
    /// The deadline has passed and something is missing.
    pub late: bool,
}

#[derive(Debug, Clone)]
pub struct PlanStatus {
    pub province: String,
    pub start: Option<JalaliDate>,
    pub due: Option<JalaliDate>,
    pub today: JalaliDate,
    pub agencies: Vec<AgencyProgress>,
}

/// Today in Iran (UTC+03:30).
pub fn jalali_today() -> JalaliDate {
    let now = Utc::now() + TimeDelta::minutes(210);
    JalaliDate::from_gregorian(now.date_naive())
}

/// The same day `months` later (the month's last day when it is shorter).
pub fn add_months(date: JalaliDate, months: u8) -> JalaliDate {
    let index = i32::from(date.month()) - 1 + i32::from(months);
    let year = date.year() + index / 12;
    let month = u8::try_from(index % 12 + 1).unwrap_or(12);
    let mut day = date.day();
    loop {
        if let Ok(d) = JalaliDate::new(year, month, day) {
            return d;
        }
        if day <= 28 {
            return date.add_days(61);
        }
        day -= 1;
    }
}

impl App {
    fn governorate_province(principal: &Principal) -> Option<String> {
        principal
            .scopes_of(Role::GovernorateAdmin)
            .into_iter()
            .find_map(|s| match s {
                Scope::Province(code) => Some(code.clone()),
                _ => None,
            })
    }

    /// What a governorate admin's `/admin` opens on: the province's figures for today (filings,
    /// open and overdue work by agency, cards waiting to be published). `None` for anyone
    /// without a province of their own.
    pub async fn province_figures(
        &self,
        principal: &Principal,
    ) -> Result<Option<(String, pishkhan_store::ProvinceFigures)>, StoreError> {
        let Some(province) = Self::governorate_province(principal) else {
            return Ok(None);
        };
        // Midnight in Iran (UTC+03:30), as an instant.
        let offset = TimeDelta::minutes(210);
        let local = Utc::now() + offset;
        let midnight = local
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|m| m.and_utc() - offset)
            .unwrap_or_else(Utc::now);
        let figures = self
            .store()
            .province_figures(&province, midnight, &jalali_today().format_numeric())
            .await?;
        Ok(Some((province, figures)))
    }

    /// The province's plan and every agency's hand-in, for its governorate admin.
    pub async fn plan_status(
        &self,
        principal: &Principal,
    ) -> Result<Option<PlanStatus>, StoreError> {
        let Some(province) = Self::governorate_province(principal) else {
            return Ok(None);
        };
        let start = self
            .store()
            .plan_start(&province)
            .await?
            .and_then(|t| JalaliDate::parse(&t).ok());
        let due = start.map(|s| add_months(s, HAND_IN_MONTHS));
        let today = jalali_today();
        let agencies = self
            .store()
            .hand_ins(&province)
            .await?
            .into_iter()
            .map(|h| {
                let contacts =
                    !h.contact.phone.trim().is_empty() && !h.contact.address_fa.trim().is_empty();
                let procedures = h.procedures > 0;
                let documents = h.with_documents > 0;
                let forms = h.forms > 0;
                let complete = procedures && documents && forms && contacts;
                AgencyProgress {
                    late: !complete && due.is_some_and(|d| today > d),
                    agency: h.agency,
                    name_fa: h.name_fa,
                    procedures,
                    documents,
                    forms,
                    contacts,
                    complete,
                }
            })
            .collect();
        Ok(Some(PlanStatus {
            province,
            start,
            due,
            today,
            agencies,
        }))
    }

    /// Sets the province's plan start (a Jalali date, Persian or ASCII digits).
    pub async fn set_plan_start(
        &self,
        principal: &Principal,
        actor: &Actor,
        text: &str,
    ) -> Result<Result<(), Problem>, StoreError> {
        let Some(province) = Self::governorate_province(principal) else {
            return Ok(Err(Problem::new(
                "not_allowed",
                "اجازه ندارید.",
                "Not allowed.",
            )));
        };
        let date = match JalaliDate::parse(text) {
            Ok(date) => date,
            Err(e) => return Ok(Err(e)),
        };
        let audit = audit_entry(
            actor,
            "plan.start",
            ("province", &province),
            serde_json::json!({ "start": date.format_numeric() }),
        );
        self.store()
            .set_plan_start(&province, &date.format_numeric(), &audit)
            .await?;
        Ok(Ok(()))
    }

    /// An agency's contact point, for its editors and admins (and the governorate); `None`
    /// otherwise.
    pub async fn agency_contact_for_editor(
        &self,
        principal: &Principal,
        agency: &str,
    ) -> Result<Option<(String, AgencyContact)>, StoreError> {
        let directory = self.store().org_directory().await?;
        let Some(org) = directory.agency(agency) else {
            return Ok(None);
        };
        let target = Scope::Agency {
            agency: agency.to_owned(),
            unit: None,
        };
        let allowed = matches!(principal, Principal::Staff(_))
            && principal
                .grants()
                .iter()
                .any(|g| EDITORS.contains(&g.role()) && g.scope().contains(&target, &directory));
        if !allowed {
            return Ok(None);
        }
        Ok(self
            .store()
            .agency_contact(agency)
            .await?
            .map(|c| (org.name_fa.clone(), c)))
    }

    /// Replaces an agency's contact point.
    #[tracing::instrument(skip_all, fields(agency = %agency))]
    pub async fn set_agency_contact(
        &self,
        principal: &Principal,
        actor: &Actor,
        agency: &str,
        contact: &AgencyContact,
    ) -> Result<bool, StoreError> {
        if self
            .agency_contact_for_editor(principal, agency)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        let audit = audit_entry(
            actor,
            "agency.contact",
            ("agency", agency),
            serde_json::json!({ "phone": contact.phone, "email": contact.email }),
        );
        self.store()
            .set_agency_contact(agency, contact, &audit)
            .await?;
        self.public_changed();
        Ok(true)
    }
}

/// Checks an office before it is stored: a code, a name, a city of the agency's province, a
/// location inside Iran's bounding box when given, an e-mail address that looks like one.
pub fn check_office(office: &Office, cities: &[City]) -> Result<(), Problem> {
    let code_ok = !office.code.is_empty()
        && office.code.len() <= 40
        && office
            .code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        return Err(Problem::new(
            "bad_office_code",
            "کد دفتر فقط حروف کوچک انگلیسی، رقم و خط تیره دارد (حداکثر ۴۰ نویسه).",
            "An office code has lower-case letters, digits and dashes (at most 40).",
        ));
    }
    if office.name_fa.trim().is_empty() {
        return Err(Problem::new(
            "empty_name",
            "نام دفتر را بنویسید.",
            "Write the office's name.",
        ));
    }
    if let Some(city) = &office.city
        && !cities.iter().any(|c| &c.code == city)
    {
        return Err(Problem::new(
            "unknown_city",
            "شهر برگزیده در استان این دستگاه نیست.",
            "The city is not in the agency's province.",
        ));
    }
    match (office.latitude, office.longitude) {
        (None, None) => {}
        (Some(lat), Some(lon)) if (24.0..=40.5).contains(&lat) && (44.0..=63.5).contains(&lon) => {}
        _ => {
            return Err(Problem::new(
                "bad_location",
                "عرض و طول جغرافیایی را با هم و درون ایران بنویسید (مانند ۳۵٫۶۹ و ۵۱٫۳۹).",
                "Give latitude and longitude together, inside Iran (such as 35.69 and 51.39).",
            ));
        }
    }
    let email = office.contact.email.trim();
    let looks_like_email = email.contains('@') && email.contains('.') && !email.contains(' ');
    if !email.is_empty() && !looks_like_email {
        return Err(Problem::new(
            "bad_email",
            "نشانی رایانامه درست نیست.",
            "The e-mail address is not valid.",
        ));
    }
    Ok(())
}

/// An agency as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicAgency {
    pub code: String,
    pub name_fa: String,
    pub province: String,
    pub contact: AgencyContact,
    pub offices: Vec<Office>,
    pub cities: Vec<City>,
}

impl App {
    /// An agency's public face: name, contact point, offices.
    pub async fn public_agency(&self, code: &str) -> Result<Option<PublicAgency>, StoreError> {
        let directory = self.store().org_directory().await?;
        let Some(org) = directory.agency(code) else {
            return Ok(None);
        };
        let contact = self.store().agency_contact(code).await?.unwrap_or_default();
        Ok(Some(PublicAgency {
            code: org.code.clone(),
            name_fa: org.name_fa.clone(),
            province: org.province.clone(),
            contact,
            offices: self.store().offices(code).await?,
            cities: self.store().cities(&org.province).await?,
        }))
    }

    /// An agency's offices and the cities of its province, for its editors; `None` otherwise.
    pub async fn offices_for_editor(
        &self,
        principal: &Principal,
        agency: &str,
    ) -> Result<Option<(Vec<Office>, Vec<City>)>, StoreError> {
        if self
            .agency_contact_for_editor(principal, agency)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let directory = self.store().org_directory().await?;
        let province = directory
            .agency(agency)
            .map(|a| a.province.clone())
            .unwrap_or_default();
        Ok(Some((
            self.store().offices(agency).await?,
            self.store().cities(&province).await?,
        )))
    }

    /// Adds or replaces an office. `Ok(None)` when the caller may not edit the agency.
    #[tracing::instrument(skip_all, fields(agency = %office.agency, office = %office.code))]
    pub async fn save_office(
        &self,
        principal: &Principal,
        actor: &Actor,
        office: &Office,
    ) -> Result<Option<Result<(), Problem>>, StoreError> {
        let Some((_, cities)) = self.offices_for_editor(principal, &office.agency).await? else {
            return Ok(None);
        };
        if let Err(invalid) = check_office(office, &cities) {
            return Ok(Some(Err(invalid)));
        }
        let audit = audit_entry(
            actor,
            "agency.office-save",
            ("agency", &office.agency),
            serde_json::json!({ "office": office.code, "name": office.name_fa }),
        );
        self.store().save_office(office, &audit).await?;
        self.public_changed();
        Ok(Some(Ok(())))
    }

    /// Removes an office; `false` if it is not there or not the caller's.
    #[tracing::instrument(skip_all)]
    pub async fn delete_office(
        &self,
        principal: &Principal,
        actor: &Actor,
        agency: &str,
        code: &str,
    ) -> Result<bool, StoreError> {
        if self.offices_for_editor(principal, agency).await?.is_none() {
            return Ok(false);
        }
        let audit = audit_entry(
            actor,
            "agency.office-delete",
            ("agency", agency),
            serde_json::json!({ "office": code }),
        );
        let deleted = self.store().delete_office(agency, code, &audit).await?;
        if deleted {
            self.public_changed();
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offices_are_checked() {
        let cities = vec![City {
            code: "tehran-tehran".into(),
            province: "tehran".into(),
            name_fa: "تهران".into(),
            capital: true,
        }];
        let mut office = Office {
            agency: "a".into(),
            code: "region-3".into(),
            name_fa: "ادارهٔ منطقهٔ ۳".into(),
            city: Some("tehran-tehran".into()),
            contact: AgencyContact::default(),
            latitude: Some(35.75),
            longitude: Some(51.42),
        };
        assert!(check_office(&office, &cities).is_ok());
        office.longitude = None;
        assert_eq!(
            check_office(&office, &cities).unwrap_err().code,
            "bad_location"
        );
        office.longitude = Some(51.42);
        office.city = Some("isfahan-isfahan".into());
        assert_eq!(
            check_office(&office, &cities).unwrap_err().code,
            "unknown_city"
        );
    }

    #[test]
    fn two_months_later_clamps_to_the_month() {
        let d = |t: &str| JalaliDate::parse(t).unwrap();
        assert_eq!(add_months(d("1404/01/15"), 2), d("1404/03/15"));
        assert_eq!(add_months(d("1404/11/10"), 2), d("1405/01/10"));
        assert_eq!(add_months(d("1404/05/31"), 2), d("1404/07/30"));
        assert_eq!(
            add_months(d("1403/10/30"), 2),
            d("1403/12/30"),
            "1403 is a leap year"
        );
    }
}
