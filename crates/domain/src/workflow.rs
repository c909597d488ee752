//! A service's workflow (گردش کار): the states its applications pass through and the actions
//! that move them, as data an editor can change, saved with the service card's version.
//!
//! Each action names the roles that may take it, whether it needs a comment or a document, and
//! the state it leads to; each state may carry a deadline in business days (its SLA) and, when
//! it is terminal, the outcome. [`Workflow::check`] refuses a workflow people could get stuck
//! in; [`Workflow::act`] decides whether one action may be taken now, before anything changes.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::catalog::CardProblem;
use crate::forms::Text;
use crate::id::Invalid;
use crate::identity::Role;

/// Who must move an application in this state forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The agency's clerks (the SLA runs against them).
    Agency,
    /// The applicant: the citizen, or the centre that filed for them.
    Applicant,
}

/// How a terminal state ends the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The person got the service's output.
    Granted,
    /// Refused, with a reason and the means of redress.
    Refused,
    /// The applicant withdrew.
    Withdrawn,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Refused => "refused",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

/// One state of the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowState {
    pub code: String,
    /// What the state means, in plain words (shown on the tracking page).
    pub name: Text,
    pub waits_for: Party,
    /// The deadline for leaving this state, in business days from entering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_days: Option<u32>,
    /// Set on terminal states only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// What the person should do now, when it is on them (or simply wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Text>,
}

impl WorkflowState {
    pub fn is_terminal(&self) -> bool {
        self.outcome.is_some()
    }
}

/// One action: from some states to one state, by some roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub code: String,
    pub name: Text,
    pub from: Vec<String>,
    pub to: String,
    /// Role codes (see [`Role::code`]); checked on save, so a typo is reported, not ignored.
    pub roles: Vec<String>,
    /// A comment is required (a reason, what is missing).
    #[serde(default)]
    pub comment: bool,
    /// A document must be attached.
    #[serde(default)]
    pub document: bool,
    /// The applicant is told (SMS, e-mail) when this action is taken.
    #[serde(default)]
    pub notify: bool,
}

/// The roles that may act on applications at all.
pub const ACTING_ROLES: [Role; 6] = [
    Role::Citizen,
    Role::Operator,
    Role::CentreManager,
    Role::AgencyClerk,
    Role::AgencyAdmin,
    Role::System,
];

/// States and actions of one service's applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// The state a submitted application enters.
    pub start: String,
    pub states: Vec<WorkflowState>,
    pub actions: Vec<Action>,
}

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 60
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The longest SLA a state may have, in business days (a year and a bit).
pub const MAX_SLA_DAYS: u32 = 300;

impl Workflow {
    pub fn state(&self, code: &str) -> Option<&WorkflowState> {
        self.states.iter().find(|s| s.code == code)
    }

    pub fn action(&self, code: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.code == code)
    }

    /// The actions that leave `state`.
    pub fn actions_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Action> + 'a {
        self.actions
            .iter()
            .filter(move |a| a.from.iter().any(|f| f == state))
    }

    /// The roles an action names (unknown codes, which [`Workflow::check`] reports, skipped).
    pub fn roles_of(action: &Action) -> impl Iterator<Item = Role> + '_ {
        action.roles.iter().filter_map(|r| Role::from_code(r).ok())
    }

    /// Everything that would let an application get stuck or act wrongly, each with where it is.
    pub fn check(&self) -> Vec<CardProblem> {
        let mut problems = Vec::new();
        let mut problem = |at: String, fa: String, en: String| {
            problems.push(CardProblem { at, fa, en });
        };
        if self.states.is_empty() {
            problem(
                "workflow.states".into(),
                "گردش کار دست‌کم یک وضعیت لازم دارد.".into(),
                "A workflow needs at least one state.".into(),
            );
            return problems;
        }
        let mut seen = BTreeSet::new();
        for (i, state) in self.states.iter().enumerate() {
            let at = format!("workflow.states[{i}]");
            if !is_code(&state.code) {
                problem(
                    format!("{at}.code"),
                    format!(
                        "کد وضعیت «{}» فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.",
                        state.code
                    ),
                    format!(
                        "State code `{}`: lower-case letters, digits and dashes only.",
                        state.code
                    ),
                );
            }
            if !seen.insert(state.code.as_str()) {
                problem(
                    format!("{at}.code"),
                    format!("وضعیت «{}» دو بار آمده است.", state.code),
                    format!("State `{}` appears twice.", state.code),
                );
            }
            if state.name.fa.trim().is_empty() {
                problem(
                    format!("{at}.name"),
                    format!("وضعیت «{}» نام فارسی ندارد.", state.code),
                    format!("State `{}` has no Persian name.", state.code),
                );
            }
            match (state.is_terminal(), state.sla_days) {
                (true, Some(_)) => problem(
                    format!("{at}.sla_days"),
                    format!("وضعیت پایانی «{}» مهلت ندارد.", state.code),
                    format!("Terminal state `{}` cannot have a deadline.", state.code),
                ),
                (false, Some(days)) if days == 0 || days > MAX_SLA_DAYS => problem(
                    format!("{at}.sla_days"),
                    format!(
                        "مهلت وضعیت «{}» باید بین ۱ و ۳۰۰ روز کاری باشد.",
                        state.code
                    ),
                    format!(
                        "State `{}`: the deadline must be 1 to {MAX_SLA_DAYS} business days.",
                        state.code
                    ),
                ),
                _ => {}
            }
        }
        match self.state(&self.start) {
            None => problem(
                "workflow.start".into(),
                format!("وضعیت آغاز «{}» در فهرست وضعیت‌ها نیست.", self.start),
                format!("The start state `{}` is not among the states.", self.start),
            ),
            Some(s) if s.is_terminal() => problem(
                "workflow.start".into(),
                "وضعیت آغاز نمی‌تواند پایانی باشد.".into(),
                "The start state cannot be terminal.".into(),
            ),
            Some(_) => {}
        }
        let mut action_codes = BTreeSet::new();
        for (i, action) in self.actions.iter().enumerate() {
            let at = format!("workflow.actions[{i}]");
            if !is_code(&action.code) {
                problem(
                    format!("{at}.code"),
                    format!(
                        "کد اقدام «{}» فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.",
                        action.code
                    ),
                    format!(
                        "Action code `{}`: lower-case letters, digits and dashes only.",
                        action.code
                    ),
                );
            }
            if !action_codes.insert(action.code.as_str()) {
                problem(
                    format!("{at}.code"),
                    format!("اقدام «{}» دو بار آمده است.", action.code),
                    format!("Action `{}` appears twice.", action.code),
                );
            }
            if action.name.fa.trim().is_empty() {
                problem(
                    format!("{at}.name"),
                    format!("اقدام «{}» نام فارسی ندارد.", action.code),
                    format!("Action `{}` has no Persian name.", action.code),
                );
            }
            if action.from.is_empty() {
                problem(
                    format!("{at}.from"),
                    format!("اقدام «{}» از هیچ وضعیتی شروع نمی‌شود.", action.code),
                    format!("Action `{}` leaves no state.", action.code),
                );
            }
            for from in &action.from {
                match self.state(from) {
                    None => problem(
                        format!("{at}.from"),
                        format!("اقدام «{}» از وضعیت ناموجود «{from}» است.", action.code),
                        format!(
                            "Action `{}` leaves `{from}`, which is not a state.",
                            action.code
                        ),
                    ),
                    Some(s) if s.is_terminal() => problem(
                        format!("{at}.from"),
                        format!(
                            "اقدام «{}» از وضعیت پایانی «{from}» است؛ پایان، پایان است.",
                            action.code
                        ),
                        format!("Action `{}` leaves terminal state `{from}`.", action.code),
                    ),
                    Some(_) => {}
                }
            }
            match self.state(&action.to) {
                None => problem(
                    format!("{at}.to"),
                    format!(
                        "اقدام «{}» به وضعیت ناموجود «{}» می‌رود.",
                        action.code, action.to
                    ),
                    format!(
                        "Action `{}` leads to `{}`, which is not a state.",
                        action.code, action.to
                    ),
                ),
                Some(s) if s.outcome == Some(Outcome::Refused) && !action.comment => problem(
                    format!("{at}.comment"),
                    format!(
                        "اقدام «{}» درخواست را رد می‌کند؛ دلیل (توضیح) باید اجباری باشد.",
                        action.code
                    ),
                    format!(
                        "Action `{}` refuses the application, so it must require a reason.",
                        action.code
                    ),
                ),
                Some(_) => {}
            }
            if action.roles.is_empty() {
                problem(
                    format!("{at}.roles"),
                    format!("اقدام «{}» نقشی ندارد که انجامش دهد.", action.code),
                    format!("Action `{}` names no role that may take it.", action.code),
                );
            }
            for role in &action.roles {
                match Role::from_code(role) {
                    Err(invalid) => problem(format!("{at}.roles"), invalid.fa, invalid.en),
                    Ok(r) if !ACTING_ROLES.contains(&r) => problem(
                        format!("{at}.roles"),
                        format!("نقش «{}» روی درخواست‌ها کاری نمی‌کند.", r.name_fa()),
                        format!("Role `{role}` does not act on applications."),
                    ),
                    Ok(_) => {}
                }
            }
        }
        // Reachability from the start, and a way out of every state that is not terminal.
        let mut reached: BTreeSet<&str> = BTreeSet::new();
        if self.state(&self.start).is_some() {
            let mut queue = VecDeque::from([self.start.as_str()]);
            reached.insert(self.start.as_str());
            let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
            for a in &self.actions {
                for f in &a.from {
                    edges.entry(f.as_str()).or_default().push(a.to.as_str());
                }
            }
            while let Some(s) = queue.pop_front() {
                for to in edges.get(s).into_iter().flatten() {
                    if reached.insert(to) {
                        queue.push_back(to);
                    }
                }
            }
        }
        for (i, state) in self.states.iter().enumerate() {
            if !reached.contains(state.code.as_str()) && self.state(&self.start).is_some() {
                problem(
                    format!("workflow.states[{i}]"),
                    format!("هیچ راهی از وضعیت آغاز به وضعیت «{}» نمی‌رسد.", state.code),
                    format!("State `{}` cannot be reached from the start.", state.code),
                );
            }
            if !state.is_terminal() && self.actions_from(&state.code).next().is_none() {
                problem(
                    format!("workflow.states[{i}]"),
                    format!(
                        "از وضعیت «{}» هیچ اقدامی بیرون نمی‌رود؛ درخواست‌ها در آن می‌مانند.",
                        state.code
                    ),
                    format!(
                        "No action leaves state `{}`: applications would stay there.",
                        state.code
                    ),
                );
            }
        }
        if !self
            .states
            .iter()
            .any(|s| s.outcome == Some(Outcome::Granted))
        {
            problem(
                "workflow.states".into(),
                "گردش کار وضعیتی پایانی برای «انجام شد» (تحویل خروجی) لازم دارد.".into(),
                "A workflow needs a terminal state where the person gets the output.".into(),
            );
        }
        problems
    }

    /// Whether `role` may take `action` on an application in `state`, with this comment and
    /// these documents. Answers the action, or why not — before anything is changed.
    pub fn act(
        &self,
        state: &str,
        action: &str,
        role: Role,
        comment: &str,
        documents: usize,
    ) -> Result<&Action, Invalid> {
        let Some(found) = self.action(action) else {
            return Err(Invalid::new(
                "unknown_action",
                format!("اقدام «{action}» در گردش کار این خدمت نیست."),
                format!("This service's workflow has no action `{action}`."),
            ));
        };
        let state_name = self
            .state(state)
            .map(|s| s.name.fa.clone())
            .unwrap_or_else(|| state.to_owned());
        if !found.from.iter().any(|f| f == state) {
            return Err(Invalid::new(
                "wrong_state",
                format!("«{}» در وضعیت «{state_name}» ممکن نیست.", found.name.fa),
                format!("`{action}` is not possible while the application is `{state}`."),
            ));
        }
        if !Self::roles_of(found).any(|r| r == role) {
            return Err(Invalid::new(
                "role_may_not_act",
                format!("«{}» کار نقش «{}» نیست.", found.name.fa, role.name_fa()),
                format!("Role `{}` may not take `{action}`.", role.code()),
            ));
        }
        if found.comment && comment.trim().is_empty() {
            return Err(Invalid::new(
                "comment_required",
                format!("برای «{}» توضیح بنویسید.", found.name.fa),
                format!("`{action}` needs a comment."),
            ));
        }
        if found.document && documents == 0 {
            return Err(Invalid::new(
                "document_required",
                format!("برای «{}» یک سند پیوست کنید.", found.name.fa),
                format!("`{action}` needs a document attached."),
            ));
        }
        Ok(found)
    }

    /// The workflow a service uses until its editors adapt it: review, a round for missing
    /// documents, approval, issue and delivery of the output; refusal with a reason; withdrawal.
    /// `processing_days` (the card's total) is the review's deadline.
    pub fn standard(processing_days: u32) -> Workflow {
        let state = |code: &str, fa: &str, waits_for, sla_days, outcome, next: Option<&str>| {
            WorkflowState {
                code: code.into(),
                name: Text::fa(fa),
                waits_for,
                sla_days,
                outcome,
                next: next.map(Text::fa),
            }
        };
        let agency_roles = || {
            vec![
                "agency-clerk".into(),
                "agency-admin".into(),
                "system".into(),
            ]
        };
        let applicant_roles = || vec!["citizen".into(), "operator".into(), "system".into()];
        let action =
            |code: &str, fa: &str, from: &[&str], to: &str, roles, comment, notify| Action {
                code: code.into(),
                name: Text::fa(fa),
                from: from.iter().map(|s| (*s).to_owned()).collect(),
                to: to.into(),
                roles,
                comment,
                document: false,
                notify,
            };
        let review = processing_days.clamp(1, MAX_SLA_DAYS);
        Workflow {
            start: "submitted".into(),
            states: vec![
                state(
                    "submitted",
                    "ثبت شد؛ در نوبت بررسی",
                    Party::Agency,
                    Some(1),
                    None,
                    Some("کاری لازم نیست؛ دستگاه درخواست را بررسی می‌کند."),
                ),
                state(
                    "in-review",
                    "در حال بررسی در دستگاه",
                    Party::Agency,
                    Some(review),
                    None,
                    Some("کاری لازم نیست؛ نتیجه پیامک می‌شود."),
                ),
                state(
                    "needs-documents",
                    "نیاز به مدرک یا اصلاح",
                    Party::Applicant,
                    None,
                    None,
                    Some(
                        "آنچه خواسته شده را در «درخواست‌های من» یا در دفتر پیشخوانی که درخواست را ثبت کرد بفرستید.",
                    ),
                ),
                state(
                    "resubmitted",
                    "مدارک دوباره فرستاده شد؛ در نوبت بررسی",
                    Party::Agency,
                    Some(2),
                    None,
                    Some("کاری لازم نیست؛ دستگاه مدارک را بررسی می‌کند."),
                ),
                state(
                    "approved",
                    "تأیید شد؛ در حال صدور",
                    Party::Agency,
                    Some(2),
                    None,
                    Some("کاری لازم نیست؛ خروجی صادر می‌شود."),
                ),
                state(
                    "issued",
                    "صادر شد؛ آمادهٔ تحویل",
                    Party::Agency,
                    Some(3),
                    None,
                    Some("خروجی به نشانی شما فرستاده یا در دفتر تحویل داده می‌شود."),
                ),
                state(
                    "delivered",
                    "تحویل شد",
                    Party::Agency,
                    None,
                    Some(Outcome::Granted),
                    None,
                ),
                state(
                    "rejected",
                    "رد شد",
                    Party::Agency,
                    None,
                    Some(Outcome::Refused),
                    Some("دلیل رد در سابقه آمده است؛ راه اعتراض در شناسنامهٔ خدمت نوشته شده است."),
                ),
                state(
                    "withdrawn",
                    "با انصراف متقاضی بسته شد",
                    Party::Applicant,
                    None,
                    Some(Outcome::Withdrawn),
                    None,
                ),
            ],
            actions: vec![
                action(
                    "start-review",
                    "شروع بررسی",
                    &["submitted"],
                    "in-review",
                    agency_roles(),
                    false,
                    false,
                ),
                action(
                    "request-documents",
                    "درخواست مدرک یا اصلاح",
                    &["submitted", "in-review", "resubmitted"],
                    "needs-documents",
                    agency_roles(),
                    true,
                    true,
                ),
                action(
                    "resubmit",
                    "ارسال دوباره",
                    &["needs-documents"],
                    "resubmitted",
                    applicant_roles(),
                    false,
                    false,
                ),
                action(
                    "approve",
                    "تأیید",
                    &["in-review", "resubmitted"],
                    "approved",
                    agency_roles(),
                    false,
                    true,
                ),
                action(
                    "reject",
                    "رد درخواست",
                    &["submitted", "in-review", "resubmitted"],
                    "rejected",
                    agency_roles(),
                    true,
                    true,
                ),
                action(
                    "issue",
                    "صدور خروجی",
                    &["approved"],
                    "issued",
                    agency_roles(),
                    false,
                    true,
                ),
                action(
                    "deliver",
                    "تحویل",
                    &["issued"],
                    "delivered",
                    vec![
                        "agency-clerk".into(),
                        "agency-admin".into(),
                        "operator".into(),
                        "system".into(),
                    ],
                    false,
                    true,
                ),
                action(
                    "withdraw",
                    "انصراف",
                    &["submitted", "needs-documents"],
                    "withdrawn",
                    vec!["citizen".into(), "operator".into()],
                    false,
                    true,
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(problems: &[CardProblem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.at, p.en))
            .collect()
    }

    #[test]
    fn the_standard_workflow_passes_its_checks() {
        for days in [0, 1, 7, 30, 1000] {
            let w = Workflow::standard(days);
            assert_eq!(codes(&w.check()), Vec::<String>::new());
        }
    }

    #[test]
    fn a_state_nobody_can_reach_or_leave_is_reported() {
        let mut w = Workflow::standard(5);
        w.states.push(WorkflowState {
            code: "limbo".into(),
            name: Text::fa("برزخ"),
            waits_for: Party::Agency,
            sla_days: None,
            outcome: None,
            next: None,
        });
        let found = codes(&w.check());
        assert!(
            found.iter().any(|p| p.contains("cannot be reached")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("No action leaves state `limbo`")),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_roles_states_and_reasonless_refusals_are_reported() {
        let mut w = Workflow::standard(5);
        w.actions[0].roles.push("agency-clark".into());
        w.actions[0].roles.push("commission".into());
        w.actions[1].to = "nowhere".into();
        let reject = w.actions.iter_mut().find(|a| a.code == "reject").unwrap();
        reject.comment = false;
        let found = codes(&w.check());
        assert!(
            found.iter().any(|p| p.contains("no role `agency-clark`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("`commission` does not act")),
            "{found:?}"
        );
        assert!(found.iter().any(|p| p.contains("`nowhere`")), "{found:?}");
        assert!(
            found.iter().any(|p| p.contains("must require a reason")),
            "{found:?}"
        );
    }

    #[test]
    fn terminal_states_have_no_way_out_and_no_deadline() {
        let mut w = Workflow::standard(5);
        w.actions[0].from.push("delivered".into());
        w.states
            .iter_mut()
            .find(|s| s.code == "rejected")
            .unwrap()
            .sla_days = Some(3);
        w.start = "delivered".into();
        let found = codes(&w.check());
        assert!(
            found.iter().any(|p| p.contains("leaves terminal state")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("cannot have a deadline")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("start state cannot be terminal")),
            "{found:?}"
        );
    }

    #[test]
    fn illegal_actions_are_refused_with_the_reason() {
        let w = Workflow::standard(5);
        let refused =
            |state, action, role, comment| w.act(state, action, role, comment, 0).unwrap_err().code;
        assert_eq!(
            refused("submitted", "approve", Role::AgencyClerk, ""),
            "wrong_state"
        );
        assert_eq!(
            refused("in-review", "approve", Role::Citizen, ""),
            "role_may_not_act"
        );
        assert_eq!(
            refused("in-review", "request-documents", Role::AgencyClerk, "  "),
            "comment_required"
        );
        assert_eq!(
            refused("in-review", "fly", Role::AgencyClerk, ""),
            "unknown_action"
        );
        assert_eq!(
            refused("delivered", "withdraw", Role::Citizen, ""),
            "wrong_state"
        );
        let ok = w
            .act(
                "in-review",
                "request-documents",
                Role::AgencyClerk,
                "کپی سند",
                0,
            )
            .unwrap();
        assert_eq!(ok.to, "needs-documents");
        assert!(
            w.act("in-review", "approve", Role::Citizen, "", 0)
                .unwrap_err()
                .fa
                .contains("شهروند")
        );
    }

    #[test]
    fn a_required_document_is_enforced() {
        let mut w = Workflow::standard(5);
        w.actions
            .iter_mut()
            .find(|a| a.code == "issue")
            .unwrap()
            .document = true;
        assert_eq!(
            w.act("approved", "issue", Role::AgencyClerk, "", 0)
                .unwrap_err()
                .code,
            "document_required"
        );
        assert!(w.act("approved", "issue", Role::AgencyClerk, "", 1).is_ok());
    }

    #[test]
    fn a_workflow_reads_back_from_json() {
        let w = Workflow::standard(12);
        let json = serde_json::to_string(&w).unwrap();
        let back: Workflow = serde_json::from_str(&json).unwrap();
        assert_eq!(back, w);
    }
}
