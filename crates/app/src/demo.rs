//! The demo's people and places: a few agencies and centres in Tehran (and one of each in
//! Isfahan, to show that scopes keep provinces apart), and one account per role. Loaded by
//! `pishkhan demo`; loading twice changes nothing.

use std::collections::BTreeMap;

use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::forms::{FormSchema, SCHEMA_V1, Section, Text};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::totp::TotpSecret;
use pishkhan_store::{AddOrgError, CitizenRecord, OrgKind, StoreError};
use serde::Deserialize;

use crate::audit::Actor;
use crate::catalog::CatalogError;
use crate::orgs::OrgError;
use crate::users::UserError;
use crate::{App, Secret};

/// The demo accounts' password (a demo folder only; never a real installation's).
pub const DEMO_PASSWORD: &str = "pishkhan-demo-1404-tehran";

/// A demo citizen, already bound to this mobile; their codes arrive in the SMS file.
pub const DEMO_CITIZEN: (&str, &str) = ("0082451291", "09121234567");

/// The people the demo's registry of mobile lines knows (`mobile-registry.csv`): the demo
/// citizen, and a second person to try assisted filing and tracking with. Anyone else may be
/// added to the file as `national ID,mobile`.
pub const DEMO_PEOPLE: [(&str, &str); 2] = [DEMO_CITIZEN, ("0076229645", "09131234567")];

const ORGS: [(OrgKind, &str, &str, &str); 9] = [
    (
        OrgKind::Agency,
        "tehran-civil-registry",
        "tehran",
        "ادارهٔ کل ثبت احوال استان تهران",
    ),
    (
        OrgKind::Agency,
        "tehran-traffic-police",
        "tehran",
        "پلیس راهور استان تهران",
    ),
    (
        OrgKind::Agency,
        "tehran-municipality",
        "tehran",
        "شهرداری تهران",
    ),
    (
        OrgKind::Agency,
        "tehran-guilds",
        "tehran",
        "اتاق اصناف تهران",
    ),
    // Before the catalogue: the water company's clerk (`clerk.water`) needs it.
    (
        OrgKind::Agency,
        "tehran-water",
        "tehran",
        "شرکت آب و فاضلاب استان تهران",
    ),
    (
        OrgKind::Centre,
        "tehran-1001",
        "tehran",
        "دفتر پیشخوان دولت ۱۰۰۱ (میدان انقلاب)",
    ),
    (
        OrgKind::Centre,
        "tehran-1002",
        "tehran",
        "دفتر پیشخوان دولت ۱۰۰۲ (تجریش)",
    ),
    (
        OrgKind::Agency,
        "isfahan-civil-registry",
        "isfahan",
        "ادارهٔ کل ثبت احوال استان اصفهان",
    ),
    (
        OrgKind::Centre,
        "isfahan-2001",
        "isfahan",
        "دفتر پیشخوان دولت ۲۰۰۱ (اصفهان)",
    ),
];

/// Where the demo's centres are: (centre, city, address, phone, opening hours).
const CENTRE_PLACES: [(&str, &str, &str, &str, &str); 3] = [
    (
        "tehran-1001",
        "tehran-tehran",
        "تهران، خیابان انقلاب، نبش خیابان فلسطین، پلاک ۴۱۲، طبقهٔ همکف",
        "021-66401001",
        "شنبه تا چهارشنبه ۷:۳۰ تا ۱۹؛ پنجشنبه ۸ تا ۱۳",
    ),
    (
        "tehran-1002",
        "tehran-tehran",
        "تهران، تجریش، خیابان شهید دربندی، کوچهٔ نارنج، پلاک ۱۸",
        "021-22711002",
        "شنبه تا چهارشنبه ۸ تا ۱۸؛ پنجشنبه ۸ تا ۱۲",
    ),
    (
        "isfahan-2001",
        "isfahan-isfahan",
        "اصفهان، خیابان چهارباغ بالا، روبه‌روی کوچهٔ ۱۴، پلاک ۲۷",
        "031-36262001",
        "شنبه تا چهارشنبه ۷:۳۰ تا ۱۸؛ پنجشنبه ۸ تا ۱۲",
    ),
];

/// A demo agency's contact point, made up from its kind and its province's capital: an address
/// on a main street, a phone in the province's area code, office hours.
fn demo_agency_contact(
    key: &str,
    capital: &str,
    area: &str,
    n: usize,
) -> pishkhan_store::AgencyContact {
    let street = [
        "بلوار کشاورز",
        "خیابان آزادی",
        "خیابان ولی‌عصر",
        "بلوار میرداماد",
        "خیابان شریعتی",
    ][n % 5];
    let number = pishkhan_domain::text::to_persian_digits(&(100 + 37 * n).to_string());
    pishkhan_store::AgencyContact {
        address_fa: format!("{capital}، {street}، پلاک {number}"),
        phone: format!("{area}-{}", 3000_0000 + 1111 * (n as u32 + 1)),
        fax: String::new(),
        email: format!("info@{key}.example.ir"),
        hours_fa: "شنبه تا چهارشنبه ۷:۳۰ تا ۱۴:۳۰".to_owned(),
    }
}

/// The area codes of the pilot provinces' capitals.
fn area_code(province: &str) -> &'static str {
    match province {
        "tehran" => "021",
        "isfahan" => "031",
        "khorasan-razavi" => "051",
        "fars" => "071",
        _ => "0",
    }
}

/// Bills a walk-in might bring to a Tehran counter in the demo: (what, bill ID, payment ID),
/// issued as Tehran's water, electricity and gas companies would.
pub fn sample_bills() -> Vec<(&'static str, String, String)> {
    use pishkhan_domain::id::{BillServiceType, issue_bill};
    [
        ("water", 3_021_455, 11, BillServiceType::Water, 845_000),
        (
            "electricity",
            5_511_234,
            21,
            BillServiceType::Electricity,
            612_000,
        ),
        ("gas", 8_800_123, 31, BillServiceType::Gas, 1_750_000),
    ]
    .into_iter()
    .filter_map(|(what, file, company, service, rials)| {
        let (bill, payment) = issue_bill(file, company, service, rials, 5, 8)?;
        Some((what, bill.as_str().to_owned(), payment.as_str().to_owned()))
    })
    .collect()
}

/// (username, name, role, scope, TOTP secret for roles that need one)
const ACCOUNTS: [(&str, &str, Role, &str, Option<&str>); 14] = [
    (
        "operator.1001",
        "زهرا کریمی",
        Role::Operator,
        "centre:tehran-1001",
        None,
    ),
    (
        "manager.1001",
        "حسن موسوی",
        Role::CentreManager,
        "centre:tehran-1001",
        None,
    ),
    (
        "clerk.registry",
        "مریم احمدی",
        Role::AgencyClerk,
        "agency:tehran-civil-registry",
        None,
    ),
    (
        "clerk.municipality",
        "امیر نوری",
        Role::AgencyClerk,
        "agency:tehran-municipality",
        None,
    ),
    (
        "clerk.guilds",
        "نرگس صادقی",
        Role::AgencyClerk,
        "agency:tehran-guilds",
        None,
    ),
    (
        "clerk.water",
        "رضا جعفری",
        Role::AgencyClerk,
        "agency:tehran-water",
        None,
    ),
    (
        "editor.registry",
        "علی رضایی",
        Role::AgencyEditor,
        "agency:tehran-civil-registry",
        None,
    ),
    (
        "editor.traffic",
        "مهدی کاظمی",
        Role::AgencyEditor,
        "agency:tehran-traffic-police",
        None,
    ),
    (
        "admin.registry",
        "سارا محمدی",
        Role::AgencyAdmin,
        "agency:tehran-civil-registry",
        None,
    ),
    (
        "gov.tehran",
        "رضا حسینی",
        Role::GovernorateAdmin,
        "province:tehran",
        Some("PISHKHANDEMOGOVTEHRAN234"),
    ),
    (
        "admin.national",
        "مهدی کریمی",
        Role::GovernorateAdmin,
        "national",
        Some("PISHKHANDEMONATIONAL2345"),
    ),
    (
        "noc.tehran",
        "نرگس صادقی",
        Role::Noc,
        "province:tehran",
        Some("PISHKHANDEMONOCTEHRAN567"),
    ),
    (
        "commission",
        "کمیسیون ملی",
        Role::Commission,
        "national",
        Some("PISHKHANDEMOCOMMISSION23"),
    ),
    (
        "system.registry",
        "سامانهٔ ثبت احوال",
        Role::System,
        "agency:tehran-civil-registry",
        None,
    ),
];

/// One demo account, as `pishkhan demo` prints it.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: Role,
    pub username: String,
    pub scope: String,
    pub totp_secret: Option<String>,
}

/// The demo catalogue: agencies (name templates with `{p}` for the province and `{c}` for its
/// capital) and the priority services of Article 4, each with the fields of its form.
const DEMO_CATALOGUE: &str = include_str!("../data/demo-catalogue.json");

/// The inquiry services of the demo's agencies (`{sim}`: where the agency simulator listens).
pub const DEMO_INQUIRIES: &str = include_str!("../data/demo-inquiries.json");
/// What the demo's agency simulator answers them with.
pub const DEMO_SIM_DATA: &str = include_str!("../data/demo-sim-data.json");

/// The demo cards' documents an inquiry can supply (Tehran's, whose civil registry the demo's
/// agency simulator plays): (service, document's place on the card, inquiry).
const DEMO_ONCE_ONLY: [(&str, usize, &str); 3] = [
    ("birth-certificate", 0, "tehran.birth-record"),
    ("driving-licence-renewal", 0, "tehran.birth-record"),
    ("business-licence", 0, "tehran.birth-record"),
];

/// The demo's stages that wait for other agencies' answers through the exchange (Tehran's,
/// whose agencies the simulator plays; elsewhere the clerk writes down the answers received):
/// (service, the action that ends the stage, the inquiries it waits for).
const DEMO_STAGE_INQUIRIES: [(&str, &str, &[&str]); 1] = [(
    "business-licence",
    "inquiries-done",
    &[
        "tehran.guild-union-membership",
        "tehran.public-places-clearance",
        "tehran.health-premises",
    ],
)];

/// The pilot provinces the demo fills.
pub const PILOT_PROVINCES: [&str; 4] = ["tehran", "isfahan", "khorasan-razavi", "fars"];

#[derive(Deserialize)]
struct DemoCatalogue {
    agencies: BTreeMap<String, String>,
    services: Vec<DemoService>,
}

#[derive(Deserialize)]
struct DemoService {
    key: String,
    agency: String,
    form_fields: Vec<serde_json::Value>,
    card: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo catalogue: {0}")]
    Catalogue(String),
    #[error("demo organisation: {0}")]
    Org(#[from] OrgError),
    #[error("demo account: {0}")]
    User(#[from] UserError),
    #[error("the demo's registry of mobile lines cannot be written: {0}")]
    Registry(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CatalogError> for DemoError {
    fn from(error: CatalogError) -> DemoError {
        DemoError::Catalogue(error.lines(pishkhan_domain::Language::English).join("; "))
    }
}

/// The form every demo service uses: who applies, then the service's own fields.
fn demo_form(
    code: &str,
    title: &Text,
    fields: &[serde_json::Value],
) -> Result<FormSchema, DemoError> {
    let applicant: Section = serde_json::from_value(serde_json::json!({
        "id": "applicant",
        "title": {"fa": "مشخصات درخواست‌کننده", "en": "Applicant"},
        "fields": [
            {"id": "national_id", "type": "national-id", "label": {"fa": "کد ملی", "en": "National ID"}, "required": true},
            {"id": "first_name", "type": "text", "label": {"fa": "نام", "en": "First name"}, "required": true, "max_length": 60},
            {"id": "last_name", "type": "text", "label": {"fa": "نام خانوادگی", "en": "Family name"}, "required": true, "max_length": 80},
            {"id": "mobile", "type": "mobile", "label": {"fa": "شمارهٔ همراه", "en": "Mobile"}, "required": true}
        ]
    }))
    .map_err(|e| DemoError::Catalogue(e.to_string()))?;
    let request: Section = serde_json::from_value(serde_json::json!({
        "id": "request",
        "title": {"fa": "درخواست", "en": "Request"},
        "fields": fields,
    }))
    .map_err(|e| DemoError::Catalogue(format!("{code}: {e}")))?;
    Ok(FormSchema {
        schema: SCHEMA_V1.to_owned(),
        code: code.to_owned(),
        version: 1,
        title: Text {
            fa: format!("فرم درخواست {}", title.fa),
            en: title.en.as_ref().map(|en| format!("Application: {en}")),
        },
        description: None,
        sections: if fields.is_empty() {
            vec![applicant]
        } else {
            vec![applicant, request]
        },
        rules: Vec::new(),
    })
}

impl App {
    /// Loads the demo catalogue: the four pilot provinces, each with the agencies of Article 4
    /// and every priority service (with its form), published. Loading twice changes nothing.
    /// Returns how many services it holds.
    pub async fn load_demo_catalogue(&self) -> Result<usize, DemoError> {
        let actor = Actor {
            id: "demo".to_owned(),
            source: "cli".to_owned(),
        };
        let catalogue: DemoCatalogue = serde_json::from_str(DEMO_CATALOGUE)
            .map_err(|e| DemoError::Catalogue(e.to_string()))?;
        let provinces = self.provinces().await?;
        let mut count = 0;
        for code in PILOT_PROVINCES {
            let Some(province) = provinces.iter().find(|p| p.code == code) else {
                return Err(DemoError::Catalogue(format!("no province {code}")));
            };
            self.store().set_pilot(code, true).await?;
            self.public_changed();
            for (n, (key, template)) in catalogue.agencies.iter().enumerate() {
                let name = template
                    .replace("{p}", &province.name_fa)
                    .replace("{c}", &province.capital_fa);
                let agency = format!("{code}-{key}");
                match self
                    .add_org(&actor, OrgKind::Agency, &agency, code, &name)
                    .await
                {
                    Ok(()) | Err(OrgError::Add(AddOrgError::CodeTaken(_))) => {}
                    Err(e) => return Err(e.into()),
                }
                // A contact point, unless an editor has given one. The gas company is left
                // without, so the plan of Article 2.1 has an agency that is late to show.
                let given = self.store().agency_contact(&agency).await?;
                if key != "gas"
                    && given.is_some_and(|c| c.address_fa.is_empty() && c.phone.is_empty())
                {
                    let contact =
                        demo_agency_contact(key, &province.capital_fa, area_code(code), n);
                    let audit = crate::audit::audit_entry(
                        &actor,
                        "agency.contact",
                        ("agency", &agency),
                        serde_json::json!({ "phone": contact.phone, "email": contact.email }),
                    );
                    self.store()
                        .set_agency_contact(&agency, &contact, &audit)
                        .await?;
                }
            }
            for service in &catalogue.services {
                let agency = format!("{code}-{}", service.agency);
                let mut card = service.card.clone();
                let title: Text = serde_json::from_value(card["title"].clone())
                    .map_err(|e| DemoError::Catalogue(e.to_string()))?;
                let form = demo_form(
                    &format!("{code}.{}", service.key),
                    &title,
                    &service.form_fields,
                )?;
                let version = self.load_published_form(&actor, &agency, &form).await?;
                card["code"] = serde_json::json!(format!("{code}.{}", service.key));
                // Once only: where the demo's agency simulator supplies a document.
                for (key, document, inquiry) in DEMO_ONCE_ONLY {
                    if code == "tehran" && service.key == key {
                        card["documents"][document]["inquiry"] = serde_json::json!(inquiry);
                    }
                }
                card["agency"] = serde_json::json!(agency);
                card["forms"] = serde_json::json!([{ "code": form.code, "version": version }]);
                let mut card: ServiceCard = serde_json::from_value(card)
                    .map_err(|e| DemoError::Catalogue(format!("{}: {e}", service.key)))?;
                // Its agency's own procedure, ending in its output.
                if let Some((mut workflow, output)) =
                    crate::demo_workflows::demo_workflow(&service.key)
                {
                    for (key, action, inquiries) in DEMO_STAGE_INQUIRIES {
                        let waiting = workflow
                            .actions
                            .iter_mut()
                            .find(|a| a.code == action)
                            .filter(|_| code == "tehran" && service.key == key);
                        if let Some(waiting) = waiting {
                            waiting.inquiries = inquiries.iter().map(|i| (*i).to_owned()).collect();
                            waiting.asks.clear();
                        }
                    }
                    card.workflow = Some(workflow);
                    card.output_template = Some(output);
                }
                self.load_published_service(&actor, &card).await?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Loads the demo's organisations and accounts (those missing), and returns the accounts.
    pub async fn load_demo(&self) -> Result<Vec<DemoAccount>, DemoError> {
        let actor = Actor {
            id: "demo".to_owned(),
            source: "cli".to_owned(),
        };
        for (kind, code, province, name) in ORGS {
            match self.add_org(&actor, kind, code, province, name).await {
                Ok(()) | Err(OrgError::Add(AddOrgError::CodeTaken(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for (centre, city, address, phone, hours) in CENTRE_PLACES {
            let audit = crate::audit::audit_entry(
                &actor,
                "centre.place",
                ("centre", centre),
                serde_json::json!({ "city": city, "phone": phone }),
            );
            self.store()
                .set_centre_place(centre, Some(city), address, phone, hours, &audit)
                .await?;
        }
        self.public_changed();
        let mut accounts = Vec::new();
        for (username, name, role, scope, totp) in ACCOUNTS {
            let grant = RoleGrant::new(role, Scope::parse(scope).map_err(UserError::Invalid)?)
                .map_err(UserError::Invalid)?;
            if self.store().user_by_username(username).await?.is_none() {
                let id = self
                    .create_user(
                        &actor,
                        username,
                        name,
                        &Secret::new(DEMO_PASSWORD.to_owned()),
                        vec![grant],
                    )
                    .await?;
                if let Some(secret) = totp.and_then(TotpSecret::from_base32) {
                    self.set_second_factor(&actor, &id, &secret).await?;
                }
            }
            accounts.push(DemoAccount {
                role,
                username: username.to_owned(),
                scope: scope.to_owned(),
                totp_secret: totp.map(str::to_owned),
            });
        }
        self.store()
            .ensure_citizen(&CitizenRecord {
                id: "demo-citizen".to_owned(),
                national_id: DEMO_CITIZEN.0.to_owned(),
                mobile: pishkhan_domain::id::MobileNumber::parse(DEMO_CITIZEN.1)
                    .map(|m| m.e164())
                    .unwrap_or_default(),
                created_at: chrono::Utc::now(),
            })
            .await?;
        if matches!(
            self.config().mobile_ownership,
            crate::ownership::OwnershipSettings::File
        ) {
            for (national_id, mobile) in DEMO_PEOPLE {
                let (Ok(national_id), Ok(mobile)) = (
                    pishkhan_domain::id::NationalId::parse(national_id),
                    pishkhan_domain::id::MobileNumber::parse(mobile),
                ) else {
                    continue;
                };
                crate::ownership::register_pair(&self.config().data_dir, &national_id, &mobile)
                    .await?;
            }
        }
        Ok(accounts)
    }
}

/// One demo card (Tehran's duplicate birth certificate), for the import template's example row.
pub fn example_card() -> Result<ServiceCard, DemoError> {
    let catalogue: DemoCatalogue =
        serde_json::from_str(DEMO_CATALOGUE).map_err(|e| DemoError::Catalogue(e.to_string()))?;
    let service = catalogue
        .services
        .iter()
        .find(|s| s.key == "duplicate-birth-certificate")
        .ok_or_else(|| DemoError::Catalogue("no example".into()))?;
    let mut card = service.card.clone();
    card["code"] = serde_json::json!("tehran.duplicate-birth-certificate");
    card["agency"] = serde_json::json!("tehran-civil-registry");
    card["forms"] = serde_json::json!([]);
    serde_json::from_value(card).map_err(|e| DemoError::Catalogue(e.to_string()))
}
