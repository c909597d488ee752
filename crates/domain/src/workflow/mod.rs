//! A service's workflow (گردش کار): the states its applications pass through and the actions
//! that move them, as data an editor can change, saved with the service card's version.
//!
//! Each action names the roles that may take it, whether it needs a comment or a document, and
//! the state it leads to; each state may carry a deadline in business days (its SLA) and, when
//! it is terminal, the outcome. [`Workflow::check`] refuses a workflow people could get stuck
//! in; [`Workflow::act`] decides whether one action may be taken now, before anything changes.

use serde::{Deserialize, Serialize};

use crate::forms::Text;
use crate::identity::Role;

mod rules;
mod staged;
mod standard;

use crate::problem::Problem;
pub use rules::RULES;
pub use staged::Stage;

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
    /// Entering this state issues the service's output: rendered from the card's template,
    /// signed, and kept unchanged from then on.
    #[serde(default, skip_serializing_if = "is_false")]
    pub issues: bool,
    /// The application waits here for its fee bill to be paid: the bill is made on entering it
    /// (the card's fees, or what an earlier step assessed), and the way out is taken when the
    /// payment is verified, or by a clerk exempting it with a reason.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pays: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A value the one taking an action writes (the permit's number, the holder's name as the
/// agency's records have it, the assessed fee): kept with the step, printed on the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    pub code: String,
    pub label: Text,
    #[serde(default)]
    pub required: bool,
}

impl Asked {
    /// The holder's name as the agency's records have it: what every step that issues the
    /// output asks (the output is printed in that name).
    pub fn holder_name() -> Asked {
        Asked {
            code: HOLDER_NAME.into(),
            label: Text::fa("نام و نام خانوادگی دارنده (چنان‌که در سوابق دستگاه است)"),
            required: true,
        }
    }
}

/// The code of [`Asked::holder_name`].
pub const HOLDER_NAME: &str = "holder_name";

/// The longest value written for an [`Asked`] field.
pub const MAX_ASKED_CHARS: usize = 200;

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
    /// What the one taking it writes down (see [`Asked`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asks: Vec<Asked>,
    /// Inquiries (the codes of other agencies' inquiry services) that must have been answered
    /// for the application through the exchange before this action is taken: the business
    /// licence's union, public-places police and health network checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inquiries: Vec<String>,
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

    /// The state whose entry issues the output, if the workflow has one.
    pub fn issuing_state(&self) -> Option<&WorkflowState> {
        self.states.iter().find(|s| s.issues)
    }

    /// The values `action` asks for, checked: each known, none too long, the required ones
    /// there. Answers them trimmed, in the action's order, or the first problem.
    pub fn asked_values(
        action: &Action,
        given: &[(String, String)],
    ) -> Result<Vec<(String, String)>, Problem> {
        if let Some((code, _)) = given
            .iter()
            .find(|(code, _)| !action.asks.iter().any(|a| &a.code == code))
        {
            return Err(Problem::new(
                "unknown_asked_field",
                format!("«{}» چیزی به نام «{code}» نمی‌خواهد.", action.name.fa),
                format!("`{}` asks for no `{code}`.", action.code),
            )
            .at(code.clone()));
        }
        let mut values = Vec::new();
        for asked in &action.asks {
            let value = given
                .iter()
                .find(|(code, _)| code == &asked.code)
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            if value.chars().count() > MAX_ASKED_CHARS {
                return Err(Problem::new(
                    "asked_value_too_long",
                    format!("«{}» حداکثر ۲۰۰ نویسه است.", asked.label.fa),
                    format!("`{}` has at most 200 characters.", asked.code),
                )
                .at(asked.code.clone()));
            }
            if value.chars().any(char::is_control) {
                return Err(Problem::new(
                    "asked_value_control",
                    format!("«{}» نویسهٔ نامعتبر دارد.", asked.label.fa),
                    format!("`{}` holds a control character.", asked.code),
                )
                .at(asked.code.clone()));
            }
            if value.is_empty() {
                if asked.required {
                    return Err(Problem::new(
                        "asked_value_required",
                        format!("«{}» را بنویسید.", asked.label.fa),
                        format!("`{}` is required.", asked.code),
                    )
                    .at(asked.code.clone()));
                }
                continue;
            }
            values.push((asked.code.clone(), value.to_owned()));
        }
        Ok(values)
    }

    /// Does `action` close the application at the applicant's wish? Pages ask before taking it.
    pub fn withdraws(&self, action: &Action) -> bool {
        self.state(&action.to).and_then(|s| s.outcome) == Some(Outcome::Withdrawn)
    }

    /// The roles an action names (unknown codes, which [`Workflow::check`] reports, skipped).
    pub fn roles_of(action: &Action) -> impl Iterator<Item = Role> + '_ {
        action.roles.iter().filter_map(|r| Role::from_code(r).ok())
    }

    /// Everything that would let an application get stuck or act wrongly, each with where it is:
    /// every rule of [`RULES`], in order.
    pub fn check(&self) -> Vec<Problem> {
        if self.states.is_empty() {
            return vec![
                Problem::new(
                    "no_states",
                    "گردش کار دست‌کم یک وضعیت لازم دارد.",
                    "A workflow needs at least one state.",
                )
                .at("workflow.states"),
            ];
        }
        RULES.iter().flat_map(|rule| rule(self)).collect()
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
    ) -> Result<&Action, Problem> {
        if action.trim().is_empty() {
            return Err(Problem::new(
                "no_action",
                "«اقدام» را انتخاب کنید.",
                "Choose an action.",
            ));
        }
        let Some(found) = self.action(action) else {
            return Err(Problem::new(
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
            return Err(Problem::new(
                "wrong_state",
                format!("«{}» در وضعیت «{state_name}» ممکن نیست.", found.name.fa),
                format!("`{action}` is not possible while the application is `{state}`."),
            ));
        }
        if !Self::roles_of(found).any(|r| r == role) {
            return Err(Problem::new(
                "role_may_not_act",
                format!("«{}» کار نقش «{}» نیست.", found.name.fa, role.name_fa()),
                format!("Role `{}` may not take `{action}`.", role.code()),
            ));
        }
        if found.comment && comment.trim().is_empty() {
            return Err(Problem::new(
                "comment_required",
                format!("برای «{}» توضیح بنویسید.", found.name.fa),
                format!("`{action}` needs a comment."),
            ));
        }
        if found.document && documents == 0 {
            return Err(Problem::new(
                "document_required",
                format!("برای «{}» یک سند پیوست کنید.", found.name.fa),
                format!("`{action}` needs a document attached."),
            ));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(problems: &[Problem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.at, p.en))
            .collect()
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
