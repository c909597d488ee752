//! Who may act, and where: roles held within scopes (DOMAIN.md, "Roles and scopes").
//!
//! A user may hold several role-scope pairs. Each role lives in one kind of scope: a citizen in
//! their own records, an operator in a centre, an agency clerk in an agency (or one of its
//! units), a governorate admin in a province, the commission over every province.

use crate::id::Invalid;

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

    pub fn from_code(code: &str) -> Result<Role, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| {
                let known = Role::ALL.map(Role::code).join(", ");
                Invalid::new(
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

    /// Staff roles whose sign-in must use a second factor (TOTP).
    pub fn requires_second_factor(self) -> bool {
        matches!(self, Role::GovernorateAdmin | Role::Noc | Role::Commission)
    }
}

/// A code inside a scope: lower-case letters, digits and dashes, as in URLs.
fn code_part(text: &str, what: (&str, &str)) -> Result<String, Invalid> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Invalid::new(
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
    pub fn parse(text: &str) -> Result<Scope, Invalid> {
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
            _ => Err(Invalid::new(
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
    pub fn new(role: Role, scope: Scope) -> Result<RoleGrant, Invalid> {
        if role.scope_kind() != scope.kind() {
            let expected = match role.scope_kind() {
                ScopeKind::SelfOnly => "self",
                ScopeKind::Centre => "centre:CODE",
                ScopeKind::Agency => "agency:CODE",
                ScopeKind::Province => "province:CODE",
                ScopeKind::National => "national",
            };
            return Err(Invalid::new(
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
}
