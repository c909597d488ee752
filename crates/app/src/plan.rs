//! Article 2.1 tracking: within two months of the province's plan start, every agency hands in
//! its procedures with their timing, the documents each needs, its forms and its contact details.
//! The governorate sees, per agency, what is in and what is missing, and who is late.

use chrono::{TimeDelta, Utc};
use pishkhan_domain::JalaliDate;
use pishkhan_domain::id::Invalid;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_store::{AgencyContact, StoreError};

use crate::App;
use crate::audit::Actor;
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
    ) -> Result<Result<(), Invalid>, StoreError> {
        let Some(province) = Self::governorate_province(principal) else {
            return Ok(Err(Invalid::new(
                "not_allowed",
                "اجازه ندارید.",
                "Not allowed.",
            )));
        };
        let date = match JalaliDate::parse(text) {
            Ok(date) => date,
            Err(e) => return Ok(Err(e)),
        };
        self.store()
            .set_plan_start(&province, &date.format_numeric())
            .await?;
        self.record(
            actor,
            "plan.start",
            ("province", &province),
            serde_json::json!({ "start": date.format_numeric() }),
        )
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
        self.store().set_agency_contact(agency, contact).await?;
        self.record(
            actor,
            "agency.contact",
            ("agency", agency),
            serde_json::json!({ "phone": contact.phone, "email": contact.email }),
        )
        .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
