//! The rules [`Workflow::check`] applies: one function each, each with its test.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::{ACTING_ROLES, MAX_SLA_DAYS, Outcome, Workflow, is_code};
use crate::identity::Role;
use crate::problem::Problem;

/// The rules a workflow must keep, each a function of its own (with its test below).
pub const RULES: [fn(&Workflow) -> Vec<Problem>; 14] = [
    states_are_well_formed,
    start_is_an_open_state,
    actions_are_well_formed,
    actions_leave_open_states,
    actions_lead_to_states,
    refusals_require_a_reason,
    actions_name_roles_that_act,
    every_state_is_reachable,
    every_open_state_has_a_way_out,
    someone_can_get_the_output,
    one_state_issues_on_the_way_to_granting,
    asked_fields_are_well_formed,
    required_inquiries_are_well_formed,
    paying_states_wait_for_the_applicant,
];

fn state_at(i: usize) -> String {
    format!("workflow.states[{i}]")
}

fn action_at(i: usize) -> String {
    format!("workflow.actions[{i}]")
}

/// Codes are well formed and unique, names are there, deadlines only on open states and
/// within [`MAX_SLA_DAYS`].
fn states_are_well_formed(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, state) in w.states.iter().enumerate() {
        let at = state_at(i);
        if !is_code(&state.code) {
            problems.push(
                Problem::new(
                    "malformed_state_code",
                    format!(
                        "کد وضعیت «{}» فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.",
                        state.code
                    ),
                    format!(
                        "State code `{}`: lower-case letters, digits and dashes only.",
                        state.code
                    ),
                )
                .at(format!("{at}.code")),
            );
        }
        if !seen.insert(state.code.as_str()) {
            problems.push(
                Problem::new(
                    "repeated_state",
                    format!("وضعیت «{}» دو بار آمده است.", state.code),
                    format!("State `{}` appears twice.", state.code),
                )
                .at(format!("{at}.code")),
            );
        }
        if state.name.fa.trim().is_empty() {
            problems.push(
                Problem::new(
                    "unnamed_state",
                    format!("وضعیت «{}» نام فارسی ندارد.", state.code),
                    format!("State `{}` has no Persian name.", state.code),
                )
                .at(format!("{at}.name")),
            );
        }
        match (state.is_terminal(), state.sla_days) {
            (true, Some(_)) => problems.push(
                Problem::new(
                    "deadline_on_terminal_state",
                    format!("وضعیت پایانی «{}» مهلت ندارد.", state.code),
                    format!("Terminal state `{}` cannot have a deadline.", state.code),
                )
                .at(format!("{at}.sla_days")),
            ),
            (false, Some(days)) if days == 0 || days > MAX_SLA_DAYS => problems.push(
                Problem::new(
                    "deadline_out_of_range",
                    format!(
                        "مهلت وضعیت «{}» باید بین ۱ و ۳۰۰ روز کاری باشد.",
                        state.code
                    ),
                    format!(
                        "State `{}`: the deadline must be 1 to {MAX_SLA_DAYS} business days.",
                        state.code
                    ),
                )
                .at(format!("{at}.sla_days")),
            ),
            _ => {}
        }
    }
    problems
}

/// Applications start in a state that exists and is not an ending.
fn start_is_an_open_state(w: &Workflow) -> Vec<Problem> {
    let problem = match w.state(&w.start) {
        None => Problem::new(
            "unknown_start",
            format!("وضعیت آغاز «{}» در فهرست وضعیت‌ها نیست.", w.start),
            format!("The start state `{}` is not among the states.", w.start),
        ),
        Some(s) if s.is_terminal() => Problem::new(
            "terminal_start",
            "وضعیت آغاز نمی‌تواند پایانی باشد.",
            "The start state cannot be terminal.",
        ),
        Some(_) => return Vec::new(),
    };
    vec![problem.at("workflow.start")]
}

/// Action codes are well formed and unique, and every action has a Persian name.
fn actions_are_well_formed(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, action) in w.actions.iter().enumerate() {
        let at = action_at(i);
        if !is_code(&action.code) {
            problems.push(
                Problem::new(
                    "malformed_action_code",
                    format!(
                        "کد اقدام «{}» فقط حروف کوچک انگلیسی، رقم و خط تیره دارد.",
                        action.code
                    ),
                    format!(
                        "Action code `{}`: lower-case letters, digits and dashes only.",
                        action.code
                    ),
                )
                .at(format!("{at}.code")),
            );
        }
        if !seen.insert(action.code.as_str()) {
            problems.push(
                Problem::new(
                    "repeated_action",
                    format!("اقدام «{}» دو بار آمده است.", action.code),
                    format!("Action `{}` appears twice.", action.code),
                )
                .at(format!("{at}.code")),
            );
        }
        if action.name.fa.trim().is_empty() {
            problems.push(
                Problem::new(
                    "unnamed_action",
                    format!("اقدام «{}» نام فارسی ندارد.", action.code),
                    format!("Action `{}` has no Persian name.", action.code),
                )
                .at(format!("{at}.name")),
            );
        }
    }
    problems
}

/// Every action leaves at least one state, each of them a state that exists and is open: an
/// ending is an ending.
fn actions_leave_open_states(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, action) in w.actions.iter().enumerate() {
        let at = format!("{}.from", action_at(i));
        if action.from.is_empty() {
            problems.push(
                Problem::new(
                    "action_leaves_no_state",
                    format!("اقدام «{}» از هیچ وضعیتی شروع نمی‌شود.", action.code),
                    format!("Action `{}` leaves no state.", action.code),
                )
                .at(at.clone()),
            );
        }
        for from in &action.from {
            match w.state(from) {
                None => problems.push(
                    Problem::new(
                        "unknown_state",
                        format!("اقدام «{}» از وضعیت ناموجود «{from}» است.", action.code),
                        format!(
                            "Action `{}` leaves `{from}`, which is not a state.",
                            action.code
                        ),
                    )
                    .at(at.clone()),
                ),
                Some(s) if s.is_terminal() => problems.push(
                    Problem::new(
                        "leaves_terminal_state",
                        format!(
                            "اقدام «{}» از وضعیت پایانی «{from}» است؛ پایان، پایان است.",
                            action.code
                        ),
                        format!("Action `{}` leaves terminal state `{from}`.", action.code),
                    )
                    .at(at.clone()),
                ),
                Some(_) => {}
            }
        }
    }
    problems
}

/// Every action leads to a state that exists.
fn actions_lead_to_states(w: &Workflow) -> Vec<Problem> {
    w.actions
        .iter()
        .enumerate()
        .filter(|(_, action)| w.state(&action.to).is_none())
        .map(|(i, action)| {
            Problem::new(
                "unknown_state",
                format!(
                    "اقدام «{}» به وضعیت ناموجود «{}» می‌رود.",
                    action.code, action.to
                ),
                format!(
                    "Action `{}` leads to `{}`, which is not a state.",
                    action.code, action.to
                ),
            )
            .at(format!("{}.to", action_at(i)))
        })
        .collect()
}

/// An action that refuses the application requires a comment: the person is owed a reason.
fn refusals_require_a_reason(w: &Workflow) -> Vec<Problem> {
    w.actions
        .iter()
        .enumerate()
        .filter(|(_, action)| {
            !action.comment
                && w.state(&action.to)
                    .is_some_and(|s| s.outcome == Some(Outcome::Refused))
        })
        .map(|(i, action)| {
            Problem::new(
                "refusal_without_reason",
                format!(
                    "اقدام «{}» درخواست را رد می‌کند؛ دلیل (توضیح) باید اجباری باشد.",
                    action.code
                ),
                format!(
                    "Action `{}` refuses the application, so it must require a reason.",
                    action.code
                ),
            )
            .at(format!("{}.comment", action_at(i)))
        })
        .collect()
}

/// Every action names at least one role, each a known role of [`ACTING_ROLES`].
fn actions_name_roles_that_act(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, action) in w.actions.iter().enumerate() {
        let at = format!("{}.roles", action_at(i));
        if action.roles.is_empty() {
            problems.push(
                Problem::new(
                    "no_roles",
                    format!("اقدام «{}» نقشی ندارد که انجامش دهد.", action.code),
                    format!("Action `{}` names no role that may take it.", action.code),
                )
                .at(at.clone()),
            );
        }
        for role in &action.roles {
            match Role::from_code(role) {
                Err(unknown) => problems.push(unknown.at(at.clone())),
                Ok(r) if !ACTING_ROLES.contains(&r) => problems.push(
                    Problem::new(
                        "role_does_not_act",
                        format!("نقش «{}» روی درخواست‌ها کاری نمی‌کند.", r.name_fa()),
                        format!("Role `{role}` does not act on applications."),
                    )
                    .at(at.clone()),
                ),
                Ok(_) => {}
            }
        }
    }
    problems
}

/// Every state can be reached from the start by some actions (checked once the start exists).
fn every_state_is_reachable(w: &Workflow) -> Vec<Problem> {
    if w.state(&w.start).is_none() {
        return Vec::new();
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in &w.actions {
        for f in &a.from {
            edges.entry(f.as_str()).or_default().push(a.to.as_str());
        }
    }
    let mut reached: BTreeSet<&str> = BTreeSet::from([w.start.as_str()]);
    let mut queue = VecDeque::from([w.start.as_str()]);
    while let Some(s) = queue.pop_front() {
        for to in edges.get(s).into_iter().flatten() {
            if reached.insert(to) {
                queue.push_back(to);
            }
        }
    }
    w.states
        .iter()
        .enumerate()
        .filter(|(_, state)| !reached.contains(state.code.as_str()))
        .map(|(i, state)| {
            Problem::new(
                "unreachable_state",
                format!("هیچ راهی از وضعیت آغاز به وضعیت «{}» نمی‌رسد.", state.code),
                format!("State `{}` cannot be reached from the start.", state.code),
            )
            .at(state_at(i))
        })
        .collect()
}

/// Some action leaves every state that is not an ending: no application stays for ever.
fn every_open_state_has_a_way_out(w: &Workflow) -> Vec<Problem> {
    w.states
        .iter()
        .enumerate()
        .filter(|(_, state)| !state.is_terminal() && w.actions_from(&state.code).next().is_none())
        .map(|(i, state)| {
            Problem::new(
                "no_way_out",
                format!(
                    "از وضعیت «{}» هیچ اقدامی بیرون نمی‌رود؛ درخواست‌ها در آن می‌مانند.",
                    state.code
                ),
                format!(
                    "No action leaves state `{}`: applications would stay there.",
                    state.code
                ),
            )
            .at(state_at(i))
        })
        .collect()
}

/// Some ending gives the person the service's output.
fn someone_can_get_the_output(w: &Workflow) -> Vec<Problem> {
    if w.states.iter().any(|s| s.outcome == Some(Outcome::Granted)) {
        return Vec::new();
    }
    vec![
        Problem::new(
            "no_granted_ending",
            "گردش کار وضعیتی پایانی برای «انجام شد» (تحویل خروجی) لازم دارد.",
            "A workflow needs a terminal state where the person gets the output.",
        )
        .at("workflow.states"),
    ]
}

/// At most one state issues the output, and it is not an ending that refuses or withdraws.
fn one_state_issues_on_the_way_to_granting(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    let issuing: Vec<(usize, &crate::workflow::WorkflowState)> = w
        .states
        .iter()
        .enumerate()
        .filter(|(_, s)| s.issues)
        .collect();
    for (i, state) in issuing.iter().skip(1) {
        problems.push(
            Problem::new(
                "second_issuing_state",
                format!("فقط یک وضعیت خروجی صادر می‌کند؛ «{}» دومی است.", state.code),
                format!(
                    "Only one state issues the output; `{}` is a second.",
                    state.code
                ),
            )
            .at(format!("{}.issues", state_at(*i))),
        );
    }
    for (i, action) in w.actions.iter().enumerate() {
        let enters_issuing = issuing.iter().any(|(_, s)| s.code == action.to);
        if enters_issuing
            && !action
                .asks
                .iter()
                .any(|a| a.code == super::HOLDER_NAME && a.required)
        {
            problems.push(
                Problem::new(
                    "issuing_without_holder_name",
                    format!(
                        "«{}» خروجی صادر می‌کند؛ باید نام دارنده را الزامی بپرسد.",
                        action.code
                    ),
                    format!(
                        "`{}` issues the output, so it must ask for `holder_name`, required.",
                        action.code
                    ),
                )
                .at(format!("{}.asks", action_at(i))),
            );
        }
    }
    for (i, state) in &issuing {
        if matches!(state.outcome, Some(Outcome::Refused | Outcome::Withdrawn)) {
            problems.push(
                Problem::new(
                    "issuing_state_refuses",
                    format!(
                        "وضعیت «{}» درخواست را رد یا بسته می‌کند و نمی‌تواند خروجی صادر کند.",
                        state.code
                    ),
                    format!(
                        "State `{}` refuses or withdraws, so it cannot issue the output.",
                        state.code
                    ),
                )
                .at(format!("{}.issues", state_at(*i))),
            );
        }
    }
    problems
}

/// What an action asks for has well-formed, distinct codes and a Persian label.
fn asked_fields_are_well_formed(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, action) in w.actions.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (j, asked) in action.asks.iter().enumerate() {
            let at = format!("{}.asks[{j}]", action_at(i));
            let well_formed = !asked.code.is_empty()
                && asked.code.len() <= 60
                && asked
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed || !seen.insert(asked.code.as_str()) {
                problems.push(
                    Problem::new(
                        "malformed_asked_field",
                        format!(
                            "کد «{}» در «{}» نادرست یا تکراری است (حروف کوچک انگلیسی، رقم و _).",
                            asked.code, action.code
                        ),
                        format!(
                            "Field code `{}` of `{}` is malformed or repeated (a-z, 0-9, _).",
                            asked.code, action.code
                        ),
                    )
                    .at(format!("{at}.code")),
                );
            }
            if asked.label.fa.trim().is_empty() {
                problems.push(
                    Problem::new(
                        "unlabelled_asked_field",
                        format!("«{}» در «{}» برچسب فارسی ندارد.", asked.code, action.code),
                        format!(
                            "Field `{}` of `{}` has no Persian label.",
                            asked.code, action.code
                        ),
                    )
                    .at(format!("{at}.label")),
                );
            }
        }
    }
    problems
}

/// The inquiries an action waits for: each named once, by an inquiry code (lower-case letters,
/// digits, dots and dashes, as `pishkhan inquiry register` takes them), at most ten.
fn required_inquiries_are_well_formed(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, action) in w.actions.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (j, code) in action.inquiries.iter().enumerate() {
            let well_formed = !code.is_empty()
                && code.len() <= 100
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
            if !well_formed || !seen.insert(code.as_str()) || j >= 10 {
                problems.push(
                    Problem::new(
                        "malformed_required_inquiry",
                        format!(
                            "استعلام «{code}» در «{}» نادرست یا تکراری است (کد استعلام ثبت‌شده؛ حداکثر ده استعلام).",
                            action.code
                        ),
                        format!(
                            "Inquiry `{code}` of `{}` is malformed or repeated (a registered inquiry's code; at most ten).",
                            action.code
                        ),
                    )
                    .at(format!("{}.inquiries[{j}]", action_at(i))),
                );
            }
        }
    }
    problems
}

/// A state where the applicant pays waits for them, is not an ending and issues nothing, and has
/// a way out that Pishkhan itself (the `system` role) may take once the payment is verified.
fn paying_states_wait_for_the_applicant(w: &Workflow) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, state) in w.states.iter().enumerate().filter(|(_, s)| s.pays) {
        let shaped =
            state.waits_for == super::Party::Applicant && state.outcome.is_none() && !state.issues;
        // Pishkhan takes that step by itself once the bill is paid: it can write down nothing
        // and issue nothing, so the step asks for no value and leads to no issuing state.
        let system_leaves = w.actions.iter().any(|a| {
            a.from.contains(&state.code)
                && a.roles.iter().any(|r| r == Role::System.code())
                && !a.asks.iter().any(|asked| asked.required)
                && w.state(&a.to)
                    .is_some_and(|to| !to.issues && to.outcome.is_none())
        });
        if !shaped || !system_leaves {
            problems.push(
                Problem::new(
                    "paying_state_malformed",
                    format!(
                        "وضعیت پرداخت «{}» باید منتظر متقاضی باشد، پایانی یا صادرکننده نباشد، و اقدامی برای خروج از آن داشته باشد که «سامانه» (پس از تأیید پرداخت) بتواند انجام دهد: بی‌مقدار الزامی و به وضعیتی که نه صادرکننده است نه پایانی.",
                        state.code
                    ),
                    format!(
                        "Paying state `{}` must wait for the applicant, be neither an ending nor issuing, and have an action out of it the `system` role may take (once the payment is verified) that asks no required value and leads to a state neither issuing nor an ending.",
                        state.code
                    ),
                )
                .at(format!("{}.pays", state_at(i))),
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Text;
    use crate::workflow::{Party, WorkflowState};

    /// The codes one rule reports on `w`.
    fn found(rule: fn(&Workflow) -> Vec<Problem>, w: &Workflow) -> Vec<&'static str> {
        rule(w).iter().map(|p| p.code).collect()
    }

    #[test]
    fn every_rule_passes_the_standard_workflow() {
        let w = Workflow::standard(5);
        for rule in RULES {
            assert_eq!(found(rule, &w), Vec::<&str>::new());
        }
    }

    #[test]
    fn a_workflow_without_states_says_only_that() {
        let mut w = Workflow::standard(5);
        w.states.clear();
        let problems = w.check();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "no_states");
    }

    #[test]
    fn states_need_good_unique_codes_names_and_sensible_deadlines() {
        let mut w = Workflow::standard(5);
        w.states[0].code = "In Review".into();
        w.states[1].code = w.states[2].code.clone();
        w.states[2].name = Text::fa(" ");
        w.states[3].sla_days = Some(MAX_SLA_DAYS + 1);
        let terminal = w.states.iter_mut().find(|s| s.is_terminal()).unwrap();
        terminal.sla_days = Some(2);
        assert_eq!(
            found(states_are_well_formed, &w),
            [
                "malformed_state_code",
                "repeated_state",
                "unnamed_state",
                "deadline_out_of_range",
                "deadline_on_terminal_state"
            ]
        );
        w.states[3].sla_days = Some(0);
        assert!(found(states_are_well_formed, &w).contains(&"deadline_out_of_range"));
    }

    #[test]
    fn the_start_must_be_a_state_that_is_not_an_ending() {
        let mut w = Workflow::standard(5);
        w.start = "nowhere".into();
        assert_eq!(found(start_is_an_open_state, &w), ["unknown_start"]);
        w.start = "delivered".into();
        assert_eq!(found(start_is_an_open_state, &w), ["terminal_start"]);
    }

    #[test]
    fn actions_need_good_unique_codes_and_names() {
        let mut w = Workflow::standard(5);
        w.actions[0].code = "Approve!".into();
        w.actions[1].code = w.actions[2].code.clone();
        w.actions[3].name = Text::fa("");
        assert_eq!(
            found(actions_are_well_formed, &w),
            ["malformed_action_code", "repeated_action", "unnamed_action"]
        );
    }

    #[test]
    fn actions_leave_states_that_exist_and_are_open() {
        let mut w = Workflow::standard(5);
        w.actions[0].from.clear();
        w.actions[1].from.push("nowhere".into());
        w.actions[2].from.push("withdrawn".into());
        assert_eq!(
            found(actions_leave_open_states, &w),
            [
                "action_leaves_no_state",
                "unknown_state",
                "leaves_terminal_state"
            ]
        );
    }

    #[test]
    fn actions_lead_to_states_that_exist() {
        let mut w = Workflow::standard(5);
        w.actions[1].to = "nowhere".into();
        let problems = actions_lead_to_states(&w);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "unknown_state");
        assert_eq!(problems[0].at, "workflow.actions[1].to");
    }

    #[test]
    fn a_refusal_requires_a_reason() {
        let mut w = Workflow::standard(5);
        let reject = w.actions.iter_mut().find(|a| a.code == "reject").unwrap();
        reject.comment = false;
        assert_eq!(
            found(refusals_require_a_reason, &w),
            ["refusal_without_reason"]
        );
    }

    #[test]
    fn actions_name_known_roles_that_act_on_applications() {
        let mut w = Workflow::standard(5);
        w.actions[0].roles.clear();
        w.actions[1].roles = vec!["agency-clark".into(), "commission".into()];
        let codes = found(actions_name_roles_that_act, &w);
        assert_eq!(codes.len(), 3, "{codes:?}");
        assert_eq!(codes[0], "no_roles");
        assert_eq!(codes[2], "role_does_not_act");
    }

    #[test]
    fn every_state_is_reached_from_the_start_and_every_open_one_left() {
        let mut w = Workflow::standard(5);
        w.states.push(WorkflowState {
            code: "limbo".into(),
            name: Text::fa("برزخ"),
            waits_for: Party::Agency,
            sla_days: None,
            outcome: None,
            next: None,
            issues: false,
            pays: false,
        });
        assert_eq!(found(every_state_is_reachable, &w), ["unreachable_state"]);
        assert_eq!(found(every_open_state_has_a_way_out, &w), ["no_way_out"]);
        w.start = "nowhere".into();
        assert_eq!(
            found(every_state_is_reachable, &w),
            Vec::<&str>::new(),
            "reachability waits for a start that exists"
        );
    }

    #[test]
    fn some_ending_gives_the_person_the_output() {
        let mut w = Workflow::standard(5);
        for state in &mut w.states {
            if state.outcome == Some(Outcome::Granted) {
                state.outcome = Some(Outcome::Refused);
            }
        }
        assert_eq!(found(someone_can_get_the_output, &w), ["no_granted_ending"]);
    }

    #[test]
    fn one_issuing_state_and_never_on_a_refusal() {
        let mut w = Workflow::standard(5);
        assert_eq!(w.issuing_state().map(|s| s.code.as_str()), Some("issued"));
        for state in &mut w.states {
            if state.code == "rejected" || state.code == "delivered" {
                state.issues = true;
            }
        }
        let codes = found(one_state_issues_on_the_way_to_granting, &w);
        assert_eq!(
            codes,
            [
                "second_issuing_state",
                "second_issuing_state",
                "issuing_without_holder_name",
                "issuing_without_holder_name",
                "issuing_state_refuses"
            ]
        );
    }

    #[test]
    fn asked_fields_have_codes_and_labels() {
        let mut w = Workflow::standard(5);
        let issue = w.actions.iter_mut().find(|a| a.code == "issue").unwrap();
        issue.asks.push(issue.asks[0].clone());
        issue.asks.push(crate::workflow::Asked {
            code: "Bad Code".into(),
            label: Text::fa(" "),
            required: false,
        });
        let codes = found(asked_fields_are_well_formed, &w);
        assert_eq!(
            codes,
            [
                "malformed_asked_field",
                "malformed_asked_field",
                "unlabelled_asked_field"
            ]
        );
        let w = Workflow::standard(5);
        let issue = w.action("issue").unwrap();
        let given = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| ((*a).into(), (*b).into()))
                .collect()
        };
        assert_eq!(
            Workflow::asked_values(issue, &given(&[])).unwrap_err().code,
            "asked_value_required"
        );
        assert_eq!(
            Workflow::asked_values(issue, &given(&[("holder_name", &"ن".repeat(201))]))
                .unwrap_err()
                .code,
            "asked_value_too_long"
        );
        assert_eq!(
            Workflow::asked_values(issue, &given(&[("other", "x")]))
                .unwrap_err()
                .code,
            "unknown_asked_field"
        );
        assert_eq!(
            Workflow::asked_values(issue, &given(&[("holder_name", " مریم احمدی ")])).unwrap(),
            given(&[("holder_name", "مریم احمدی")])
        );
    }

    #[test]
    fn required_inquiries_are_codes_named_once() {
        let mut w = Workflow::standard(5);
        w.actions[0].inquiries = vec!["tehran.public-places-clearance".into()];
        assert_eq!(
            found(required_inquiries_are_well_formed, &w),
            Vec::<&str>::new()
        );
        for bad in ["", "Tehran.Police", "a b", "x;drop"] {
            w.actions[0].inquiries = vec![bad.into()];
            assert_eq!(
                found(required_inquiries_are_well_formed, &w),
                vec!["malformed_required_inquiry"],
                "{bad:?}"
            );
        }
        w.actions[0].inquiries = vec!["a.b".into(), "a.b".into()];
        assert_eq!(
            found(required_inquiries_are_well_formed, &w),
            vec!["malformed_required_inquiry"]
        );
        w.actions[0].inquiries = (0..11).map(|n| format!("a.b{n}")).collect();
        assert_eq!(
            found(required_inquiries_are_well_formed, &w),
            vec!["malformed_required_inquiry"]
        );
    }

    #[test]
    fn a_paying_state_waits_for_the_applicant_and_the_system_can_leave_it() {
        use crate::workflow::Stage;
        let paying = |stage: Stage| {
            Workflow::staged(
                &[
                    Stage::agency("review", "بررسی", "تأیید", Some(3)),
                    stage,
                    Stage::agency("receipt", "صدور رسید", "صدور رسید", None),
                ],
                2,
            )
        };
        let w = paying(Stage::agency("payment", "پرداخت", "تأیید پرداخت", None).paying());
        // Paying as the last stage would have Pishkhan issue the output, naming its holder:
        // refused, as is a way out that asks a value Pishkhan cannot know.
        let last = Workflow::staged(
            &[
                Stage::agency("review", "بررسی", "تأیید", Some(3)),
                Stage::agency("payment", "پرداخت", "تأیید پرداخت", None).paying(),
            ],
            2,
        );
        assert_eq!(
            found(paying_states_wait_for_the_applicant, &last),
            vec!["paying_state_malformed"]
        );
        let asking = paying(
            Stage::agency("payment", "پرداخت", "تأیید پرداخت", None)
                .paying()
                .asking(&[("receipt_no", "شمارهٔ فیش", true)]),
        );
        assert_eq!(
            found(paying_states_wait_for_the_applicant, &asking),
            vec!["paying_state_malformed"]
        );
        assert!(w.state("payment").is_some_and(|s| s.pays));
        assert_eq!(
            found(paying_states_wait_for_the_applicant, &w),
            Vec::<&str>::new()
        );
        // The same state made to wait for the agency, an ending, or issuing: refused.
        for edit in [
            (|s: &mut WorkflowState| s.waits_for = Party::Agency) as fn(&mut WorkflowState),
            |s| s.outcome = Some(Outcome::Granted),
            |s| s.issues = true,
        ] {
            let mut bad = w.clone();
            let state = bad.states.iter_mut().find(|s| s.code == "payment").unwrap();
            edit(state);
            assert_eq!(
                found(paying_states_wait_for_the_applicant, &bad),
                vec!["paying_state_malformed"]
            );
        }
        // Nobody but people may leave it: Pishkhan could not move it once paid.
        let mut bad = w.clone();
        for action in bad
            .actions
            .iter_mut()
            .filter(|a| a.from.contains(&"payment".to_owned()))
        {
            action.roles.retain(|r| r != "system");
        }
        assert_eq!(
            found(paying_states_wait_for_the_applicant, &bad),
            vec!["paying_state_malformed"]
        );
    }
}
