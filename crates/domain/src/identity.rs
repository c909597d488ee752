//! Who may act, and where: roles held within scopes (DOMAIN.md, "Roles and scopes").
//!
//! A user may hold several role-scope pairs. Each role lives in one kind of scope: a citizen in
//! their own records, an operator in a centre, an agency clerk in an agency (or one of its
//! units), a governorate admin in a province, the commission over every province.

use crate::id::Problem;

/// A role (نقش).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Citizen,
    Operator,
    CentreManager,
    AgencyClerk,
    AgencyEditor,
    AgencyAdmin,
    GovernorateAdmin,
    Noc,
    Commission,
    /// An agency system's API client.
    System,
}

/// The kind of scope a role is held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    SelfOnly,
    Centre,
    Agency,
    Province,
    National,
}

/// Where a role applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The user's own records.
    SelfOnly,
    /// A service centre (دفتر پیشخوان), by its code.
    Centre(String),
    /// An agency, or one of its units: `agency:civil-registry` or `agency:civil-registry/unit-3`.
    Agency {
        agency: String,
        unit: Option<String>,
    },
    /// A province, by its code.
    Province(String),
    /// Every province.
    National,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Citizen,
        Role::Operator,
        Role::CentreManager,
        Role::AgencyClerk,
        Role::AgencyEditor,
        Role::AgencyAdmin,
        Role::GovernorateAdmin,
        Role::Noc,
        Role::Commission,
        Role::System,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Operator => "operator",
            Role::CentreManager => "centre-manager",
            Role::AgencyClerk => "agency-clerk",
            Role::AgencyEditor => "agency-editor",
            Role::AgencyAdmin => "agency-admin",
            Role::GovernorateAdmin => "governorate-admin",
            Role::Noc => "noc",
            Role::Commission => "commission",
            Role::System => "system",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            Role::Citizen => "شهروند",
            Role::Operator => "کاربر پیشخوان",
            Role::CentreManager => "مدیر دفتر پیشخوان",
            Role::AgencyClerk => "کارشناس دستگاه",
            Role::AgencyEditor => "ویراستار دستگاه",
            Role::AgencyAdmin => "مدیر دستگاه",
            Role::GovernorateAdmin => "مدیر استانداری",
            Role::Noc => "کارشناس مرکز عملیات شبکه",
            Role::Commission => "کمیسیون",
            Role::System => "سامانهٔ دستگاه",
        }
    }

    pub fn from_code(code: &str) -> Result<Role, Problem> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| {
                let known = Role::ALL.map(Role::code).join(", ");
                Problem::new(
                    "unknown_role",
                    format!("نقش «{code}» وجود ندارد؛ نقش‌ها: {known}"),
                    format!("There is no role `{code}`; roles: {known}"),
                )
            })
    }

    /// The scope this role is held in.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Citizen => ScopeKind::SelfOnly,
            Role::Operator | Role::CentreManager => ScopeKind::Centre,
            Role::AgencyClerk | Role::AgencyEditor | Role::AgencyAdmin | Role::System => {
                ScopeKind::Agency
            }
            Role::GovernorateAdmin | Role::Noc => ScopeKind::Province,
            Role::Commission => ScopeKind::National,
        }
    }

    /// Whether the role may be held in a scope of `kind`: its own kind, and for a governorate
    /// admin also the national scope — the administrator of a deployment that serves several
    /// provinces, who alone edits what applies to all of them (holidays, search synonyms,
    /// notification texts).
    pub fn may_be_held_in(self, kind: ScopeKind) -> bool {
        kind == self.scope_kind() || (self == Role::GovernorateAdmin && kind == ScopeKind::National)
    }

    /// Staff roles whose sign-in must use a second factor (TOTP).
    pub fn requires_second_factor(self) -> bool {
        matches!(self, Role::GovernorateAdmin | Role::Noc | Role::Commission)
    }
}

/// A code inside a scope: lower-case letters, digits and dashes, as in URLs.
fn code_part(text: &str, what: (&str, &str)) -> Result<String, Problem> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Problem::new(
            "bad_scope_code",
            format!(
                "کد {} فقط حروف کوچک انگلیسی، رقم و خط تیره دارد (حداکثر ۶۴ نویسه).",
                what.0
            ),
            format!(
                "A {} code has lower-case letters, digits and dashes only (at most 64).",
                what.1
            ),
        ))
    }
}

impl Scope {
    /// `self`, `centre:CODE`, `agency:CODE`, `agency:CODE/UNIT`, `province:CODE`, `national`.
    pub fn parse(text: &str) -> Result<Scope, Problem> {
        let text = text.trim();
        match text.split_once(':') {
            None if text == "self" => Ok(Scope::SelfOnly),
            None if text == "national" => Ok(Scope::National),
            Some(("centre", code)) => Ok(Scope::Centre(code_part(code, ("دفتر", "centre"))?)),
            Some(("province", code)) => {
                Ok(Scope::Province(code_part(code, ("استان", "province"))?))
            }
            Some(("agency", rest)) => {
                let (agency, unit) = match rest.split_once('/') {
                    Some((agency, unit)) => (agency, Some(code_part(unit, ("واحد", "unit"))?)),
                    None => (rest, None),
                };
                Ok(Scope::Agency {
                    agency: code_part(agency, ("دستگاه", "agency"))?,
                    unit,
                })
            }
            _ => Err(Problem::new(
                "unknown_scope",
                "قلمرو باید یکی از این‌ها باشد: self، centre:کد، agency:کد یا agency:کد/واحد، province:کد، national.",
                "A scope is one of: self, centre:CODE, agency:CODE or agency:CODE/UNIT, province:CODE, national.",
            )),
        }
    }

    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::SelfOnly => ScopeKind::SelfOnly,
            Scope::Centre(_) => ScopeKind::Centre,
            Scope::Agency { .. } => ScopeKind::Agency,
            Scope::Province(_) => ScopeKind::Province,
            Scope::National => ScopeKind::National,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::SelfOnly => f.write_str("self"),
            Scope::Centre(code) => write!(f, "centre:{code}"),
            Scope::Agency { agency, unit: None } => write!(f, "agency:{agency}"),
            Scope::Agency {
                agency,
                unit: Some(unit),
            } => write!(f, "agency:{agency}/{unit}"),
            Scope::Province(code) => write!(f, "province:{code}"),
            Scope::National => f.write_str("national"),
        }
    }
}

/// A role held within a scope of the kind the role needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleGrant {
    role: Role,
    scope: Scope,
}

impl RoleGrant {
    pub fn new(role: Role, scope: Scope) -> Result<RoleGrant, Problem> {
        if !role.may_be_held_in(scope.kind()) {
            let expected = match role.scope_kind() {
                ScopeKind::SelfOnly => "self",
                ScopeKind::Centre => "centre:CODE",
                ScopeKind::Agency => "agency:CODE",
                ScopeKind::Province if role == Role::GovernorateAdmin => {
                    "province:CODE (or national)"
                }
                ScopeKind::Province => "province:CODE",
                ScopeKind::National => "national",
            };
            return Err(Problem::new(
                "scope_mismatch",
                format!(
                    "نقش «{}» در قلمرو {expected} داده می‌شود، نه {scope}.",
                    role.name_fa()
                ),
                format!(
                    "The role `{}` is held in a scope {expected}, not {scope}.",
                    role.code()
                ),
            ));
        }
        Ok(RoleGrant { role, scope })
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// Which province each agency and centre belongs to: what scope containment needs to know.
pub trait Directory {
    /// The province of an agency or a centre; `None` when the code is unknown.
    fn province_of(&self, scope: &Scope) -> Option<String>;
}

impl Scope {
    /// Does this scope include `other`? A province includes its agencies (and their units) and
    /// centres; an agency includes its units; `national` includes everything; every scope
    /// includes itself. Citizens' own scope includes nothing but itself.
    pub fn contains(&self, other: &Scope, directory: &dyn Directory) -> bool {
        if self == other {
            return true;
        }
        match (self, other) {
            (Scope::National, Scope::SelfOnly) => false,
            (Scope::National, _) => true,
            (Scope::Province(province), Scope::Agency { .. } | Scope::Centre(_)) => {
                directory.province_of(other).as_deref() == Some(province.as_str())
            }
            (
                Scope::Agency { agency, unit: None },
                Scope::Agency {
                    agency: other_agency,
                    ..
                },
            ) => agency == other_agency,
            _ => false,
        }
    }
}

impl RoleGrant {
    /// May someone holding this grant give `target` to a user, or manage (reset, disable) a user
    /// who holds it? Governorate admins manage every staff role inside their province; centre
    /// managers manage their centre's operators; agency admins manage clerks, editors and API
    /// clients of their agency (or their unit). Nobody manages citizens or the commission here.
    pub fn may_manage(&self, target: &RoleGrant, directory: &dyn Directory) -> bool {
        let inside = || self.scope.contains(&target.scope, directory);
        match self.role {
            Role::GovernorateAdmin => {
                !matches!(target.role, Role::Citizen | Role::Commission) && inside()
            }
            Role::CentreManager => target.role == Role::Operator && inside(),
            Role::AgencyAdmin => {
                matches!(
                    target.role,
                    Role::AgencyClerk | Role::AgencyEditor | Role::System
                ) && inside()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for text in [
            "self",
            "national",
            "centre:tehran-12",
            "agency:civil-registry",
            "agency:tax/unit-3",
            "province:tehran",
        ] {
            assert_eq!(Scope::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Scope::parse("city:x").unwrap_err().code, "unknown_scope");
        assert_eq!(
            Scope::parse("province:Tehran").unwrap_err().code,
            "bad_scope_code"
        );
        assert_eq!(Scope::parse("agency:").unwrap_err().code, "bad_scope_code");
    }

    #[test]
    fn each_role_lives_in_its_kind_of_scope() {
        assert!(
            RoleGrant::new(
                Role::GovernorateAdmin,
                Scope::parse("province:tehran").unwrap()
            )
            .is_ok()
        );
        assert!(
            RoleGrant::new(
                Role::AgencyClerk,
                Scope::parse("agency:tax/unit-3").unwrap()
            )
            .is_ok()
        );
        let error =
            RoleGrant::new(Role::Operator, Scope::parse("province:tehran").unwrap()).unwrap_err();
        assert_eq!(error.code, "scope_mismatch");
        assert!(error.en.contains("centre:CODE"));
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Ok(role));
        }
        assert_eq!(Role::from_code("root").unwrap_err().code, "unknown_role");
        assert!(Role::Commission.requires_second_factor());
        assert!(!Role::AgencyClerk.requires_second_factor());
    }

    struct TwoProvinces;
    impl Directory for TwoProvinces {
        fn province_of(&self, scope: &Scope) -> Option<String> {
            let code = match scope {
                Scope::Agency { agency, .. } => agency.as_str(),
                Scope::Centre(code) => code.as_str(),
                _ => return None,
            };
            code.split('-').next().map(str::to_owned)
        }
    }

    fn grant(role: Role, scope: &str) -> RoleGrant {
        RoleGrant::new(role, Scope::parse(scope).unwrap()).unwrap()
    }

    #[test]
    fn admins_manage_only_inside_their_scope() {
        let d = &TwoProvinces;
        let tehran_admin = grant(Role::GovernorateAdmin, "province:tehran");
        assert!(tehran_admin.may_manage(&grant(Role::AgencyClerk, "agency:tehran-tax/u1"), d));
        assert!(tehran_admin.may_manage(&grant(Role::Operator, "centre:tehran-1001"), d));
        assert!(tehran_admin.may_manage(&grant(Role::Noc, "province:tehran"), d));
        assert!(!tehran_admin.may_manage(&grant(Role::Operator, "centre:isfahan-2001"), d));
        assert!(!tehran_admin.may_manage(&grant(Role::Noc, "province:isfahan"), d));
        assert!(!tehran_admin.may_manage(&grant(Role::Commission, "national"), d));
        assert!(!tehran_admin.may_manage(&grant(Role::Citizen, "self"), d));

        let manager = grant(Role::CentreManager, "centre:tehran-1001");
        assert!(manager.may_manage(&grant(Role::Operator, "centre:tehran-1001"), d));
        assert!(!manager.may_manage(&grant(Role::Operator, "centre:tehran-1002"), d));
        assert!(!manager.may_manage(&grant(Role::CentreManager, "centre:tehran-1001"), d));

        let agency_admin = grant(Role::AgencyAdmin, "agency:tehran-tax");
        assert!(agency_admin.may_manage(&grant(Role::AgencyEditor, "agency:tehran-tax"), d));
        assert!(agency_admin.may_manage(&grant(Role::AgencyClerk, "agency:tehran-tax/u1"), d));
        assert!(agency_admin.may_manage(&grant(Role::System, "agency:tehran-tax"), d));
        assert!(!agency_admin.may_manage(&grant(Role::AgencyClerk, "agency:tehran-roads"), d));
        assert!(!agency_admin.may_manage(&grant(Role::AgencyAdmin, "agency:tehran-tax"), d));
        let unit_admin = grant(Role::AgencyAdmin, "agency:tehran-tax/u1");
        assert!(!unit_admin.may_manage(&grant(Role::AgencyClerk, "agency:tehran-tax/u2"), d));
        assert!(!unit_admin.may_manage(&grant(Role::AgencyClerk, "agency:tehran-tax"), d));

        for role in [
            Role::Operator,
            Role::AgencyClerk,
            Role::Noc,
            Role::Commission,
            Role::Citizen,
        ] {
            let scope = match role.scope_kind() {
                ScopeKind::Centre => "centre:tehran-1001",
                ScopeKind::Agency => "agency:tehran-tax",
                ScopeKind::Province => "province:tehran",
                ScopeKind::National => "national",
                ScopeKind::SelfOnly => "self",
            };
            assert!(
                !grant(role, scope).may_manage(&grant(Role::Operator, "centre:tehran-1001"), d)
            );
        }
        assert!(Scope::National.contains(&Scope::parse("centre:isfahan-1").unwrap(), d));
        assert!(!Scope::National.contains(&Scope::SelfOnly, d));
    }
}
