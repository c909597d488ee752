//! The demo's people and places: a few agencies and centres in Tehran (and one of each in
//! Isfahan, to show that scopes keep provinces apart), and one account per role. Loaded by
//! `pishkhan demo`; loading twice changes nothing.

use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::totp::TotpSecret;
use pishkhan_store::{AddOrgError, CitizenRecord, OrgKind, StoreError};

use crate::audit::Actor;
use crate::orgs::OrgError;
use crate::users::UserError;
use crate::{App, Secret};

/// The demo accounts' password (a demo folder only; never a real installation's).
pub const DEMO_PASSWORD: &str = "pishkhan-demo-1404-tehran";

/// A demo citizen, already bound to this mobile; their codes arrive in the SMS file.
pub const DEMO_CITIZEN: (&str, &str) = ("0082451291", "09121234567");

const ORGS: [(OrgKind, &str, &str, &str); 7] = [
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

/// (username, name, role, scope, TOTP secret for roles that need one)
const ACCOUNTS: [(&str, &str, Role, &str, Option<&str>); 9] = [
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
        "editor.registry",
        "علی رضایی",
        Role::AgencyEditor,
        "agency:tehran-civil-registry",
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

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo organisation: {0}")]
    Org(#[from] OrgError),
    #[error("demo account: {0}")]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
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
        Ok(accounts)
    }
}
