//! Authorization, in one place. Every HTML route and API route names an [`Access`]; the web layer
//! asks [`check`] before the handler runs, and use cases that touch one object (a user, a
//! citizen's record) ask the object rules below, answering "not found" when the answer is no.

use pishkhan_domain::identity::{Directory, Role, RoleGrant, Scope};
use pishkhan_store::{CitizenRecord, UserRecord};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A member of staff, signed in with password (and second factor where required).
    Staff(UserRecord),
    /// A citizen, signed in with a code sent to their mobile.
    Citizen(CitizenRecord),
    /// An agency system, by API token.
    System(UserRecord),
}

impl Principal {
    /// The id written in the audit log: `user:ID` or `citizen:ID`.
    pub fn actor_id(&self) -> String {
        match self {
            Principal::Staff(user) | Principal::System(user) => format!("user:{}", user.id),
            Principal::Citizen(citizen) => format!("citizen:{}", citizen.id),
        }
    }

    pub fn grants(&self) -> &[RoleGrant] {
        match self {
            Principal::Staff(user) | Principal::System(user) => &user.grants,
            Principal::Citizen(_) => &[],
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        match self {
            Principal::Citizen(_) => role == Role::Citizen,
            _ => self.grants().iter().any(|g| g.role() == role),
        }
    }

    /// Whether this principal holds `role` in the national scope.
    pub fn holds_nationally(&self, role: Role) -> bool {
        self.grants()
            .iter()
            .any(|g| g.role() == role && *g.scope() == Scope::National)
    }

    /// The scopes in which this principal holds `role`.
    pub fn scopes_of(&self, role: Role) -> Vec<&Scope> {
        self.grants()
            .iter()
            .filter(|g| g.role() == role)
            .map(RoleGrant::scope)
            .collect()
    }

    pub fn staff(&self) -> Option<&UserRecord> {
        match self {
            Principal::Staff(user) => Some(user),
            _ => None,
        }
    }

    pub fn citizen(&self) -> Option<&CitizenRecord> {
        match self {
            Principal::Citizen(citizen) => Some(citizen),
            _ => None,
        }
    }
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everyone, signed in or not (the portal, the public API, sign-in pages).
    Public,
    /// Someone part-way through staff sign-in (second factor, its enrolment, a forced password
    /// change).
    SignInInProgress,
    /// Any signed-in person (signing out).
    SignedIn,
    /// A signed-in citizen.
    Citizen,
    /// Any signed-in member of staff.
    Staff,
    /// Staff holding at least one of these roles.
    StaffWith(&'static [Role]),
    /// Staff holding one of these roles in the national scope: for what applies to every
    /// province.
    NationalStaffWith(&'static [Role]),
    /// An agency system's API client (bearer token).
    ApiClient,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Nobody is signed in: send them to sign in.
    SignInRequired,
    /// Signed in, but this is not for them.
    Forbidden,
}

/// The route-level decision.
pub fn check(principal: Option<&Principal>, access: Access) -> Result<(), Denied> {
    let Some(principal) = principal else {
        return match access {
            Access::Public | Access::SignInInProgress => Ok(()),
            _ => Err(Denied::SignInRequired),
        };
    };
    let allowed = match access {
        Access::Public | Access::SignInInProgress | Access::SignedIn => true,
        Access::Citizen => matches!(principal, Principal::Citizen(_)),
        Access::Staff => matches!(principal, Principal::Staff(_)),
        Access::StaffWith(roles) => {
            matches!(principal, Principal::Staff(_)) && roles.iter().any(|r| principal.has_role(*r))
        }
        Access::NationalStaffWith(roles) => {
            matches!(principal, Principal::Staff(_))
                && roles.iter().any(|r| principal.holds_nationally(*r))
        }
        Access::ApiClient => matches!(principal, Principal::System(_)),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Roles that reach the user-management screens.
pub const USER_ADMINS: &[Role] = &[
    Role::GovernorateAdmin,
    Role::CentreManager,
    Role::AgencyAdmin,
];
/// Roles that open the administration area (each sees the parts its role allows).
pub const ADMIN_AREA: &[Role] = &[
    Role::GovernorateAdmin,
    Role::CentreManager,
    Role::AgencyAdmin,
];
/// Roles that look after agencies' systems: webhooks, deliveries, dead letters (each only for
/// the agencies in its scope).
pub const EXCHANGE_ADMINS: &[Role] = &[Role::GovernorateAdmin, Role::AgencyAdmin];
/// Roles that file for citizens at a centre.
pub const COUNTER_ROLES: &[Role] = &[Role::Operator, Role::CentreManager];
/// Roles that look after a centre's money: its tills' differences, its day, its statements.
pub const CENTRE_MANAGERS: &[Role] = &[Role::CentreManager];
/// Roles that work applications at the agency desk.
pub const APPLICATION_WORKERS: &[Role] = &[Role::AgencyClerk, Role::AgencyAdmin];
/// Roles that edit the province's plan and import its catalogue.
pub const PROVINCE_EDITORS: &[Role] = &[Role::GovernorateAdmin];
/// Roles that, held in the national scope, edit what applies to every province: the official
/// holidays, the portal search's synonyms, the texts of notifications.
pub const NATIONAL_SETTINGS_EDITORS: &[Role] = &[Role::GovernorateAdmin];

/// The roles `actor` can give to someone (in some scope inside their own).
pub fn grantable_roles(actor: &Principal) -> Vec<Role> {
    let mut roles: Vec<Role> = Vec::new();
    for grant in actor.grants() {
        let gives: &[Role] = match grant.role() {
            Role::GovernorateAdmin => &[
                Role::Operator,
                Role::CentreManager,
                Role::AgencyClerk,
                Role::AgencyEditor,
                Role::AgencyAdmin,
                Role::GovernorateAdmin,
                Role::Noc,
                Role::System,
            ],
            Role::CentreManager => &[Role::Operator],
            Role::AgencyAdmin => &[Role::AgencyClerk, Role::AgencyEditor, Role::System],
            _ => &[],
        };
        for role in gives {
            if !roles.contains(role) {
                roles.push(*role);
            }
        }
    }
    roles.sort();
    roles
}

/// May `actor` give this grant to someone?
pub fn may_grant(actor: &Principal, grant: &RoleGrant, directory: &dyn Directory) -> bool {
    matches!(actor, Principal::Staff(_))
        && actor
            .grants()
            .iter()
            .any(|g| g.may_manage(grant, directory))
}

/// May `actor` see and manage this account? Only if every role it holds is one the actor may
/// grant; never one's own account (that is what the account page is for).
pub fn may_manage_user(actor: &Principal, target: &UserRecord, directory: &dyn Directory) -> bool {
    let own = actor.staff().is_some_and(|me| me.id == target.id);
    !own && !target.grants.is_empty()
        && target.grants.iter().all(|g| may_grant(actor, g, directory))
}

/// Does `principal` hold one of `roles` in `agency` (any of its sections)?
pub fn works_at_agency(principal: &Principal, roles: &[Role], agency: &str) -> bool {
    roles.iter().any(|role| {
        principal
            .scopes_of(*role)
            .into_iter()
            .any(|s| matches!(s, Scope::Agency { agency: a, .. } if a == agency))
    })
}

/// The centres in which `actor` may file for citizens.
pub fn counter_centres(actor: &Principal) -> Vec<String> {
    let mut centres: Vec<String> = COUNTER_ROLES
        .iter()
        .flat_map(|role| actor.scopes_of(*role))
        .filter_map(|scope| match scope {
            Scope::Centre(code) => Some(code.clone()),
            _ => None,
        })
        .collect();
    centres.sort();
    centres.dedup();
    centres
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn staff(grants: &[(Role, &str)]) -> Principal {
        Principal::Staff(UserRecord {
            id: "u1".into(),
            username: "u1".into(),
            display_name: "U".into(),
            created_at: Utc::now(),
            disabled: false,
            must_change_password: false,
            has_second_factor: false,
            grants: grants
                .iter()
                .map(|(r, s)| RoleGrant::new(*r, Scope::parse(s).unwrap()).unwrap())
                .collect(),
        })
    }

    #[test]
    fn route_access_by_role() {
        let clerk = staff(&[(Role::AgencyClerk, "agency:tax")]);
        let admin = staff(&[(Role::GovernorateAdmin, "province:tehran")]);
        assert_eq!(check(None, Access::Public), Ok(()));
        assert_eq!(check(None, Access::Staff), Err(Denied::SignInRequired));
        assert_eq!(check(Some(&clerk), Access::Staff), Ok(()));
        assert_eq!(check(Some(&clerk), Access::Citizen), Err(Denied::Forbidden));
        assert_eq!(
            check(Some(&clerk), Access::StaffWith(USER_ADMINS)),
            Err(Denied::Forbidden)
        );
        assert_eq!(check(Some(&admin), Access::StaffWith(USER_ADMINS)), Ok(()));
        assert_eq!(
            check(Some(&admin), Access::ApiClient),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            counter_centres(&staff(&[(Role::Operator, "centre:c-1")])),
            vec!["c-1"]
        );
    }
}
