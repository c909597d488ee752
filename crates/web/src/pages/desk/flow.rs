//! A service's workflow edited as two tables, states and actions ([`super::rows`]), with the
//! standard workflow as a choice and the JSON as an option for those who know it. The tables
//! become a [`Workflow`]; the card's checks (every state reachable, a way out of each, known
//! roles, reasons for refusals) run when the card is saved.

use pishkhan_domain::forms::Text;
use pishkhan_domain::text::{to_ascii_digits, to_persian_digits};
use pishkhan_domain::workflow::{ACTING_ROLES, Action, Outcome, Party, Workflow, WorkflowState};

use super::rows::{Column, ColumnKind, List, SEP, posted};

/// The workflow part of the card form, as shown and as posted.
pub struct FlowForm {
    /// The card's own workflow (`true`) or the standard one from the processing time.
    pub own: bool,
    pub start: String,
    pub states: Vec<Vec<String>>,
    pub actions: Vec<Vec<String>>,
    /// The workflow as JSON (the advanced option).
    pub json: String,
    /// Save the JSON instead of the tables.
    pub use_json: bool,
}

fn choices(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(c, l)| ((*c).to_owned(), (*l).to_owned()))
        .collect()
}

const YES_NO: [(&str, &str); 2] = [("no", "نه"), ("yes", "بله")];

fn state_columns() -> Vec<Column> {
    vec![
        Column::new("code", "شناسه (لاتین)", ColumnKind::Code),
        Column::new("name", "نام وضعیت", ColumnKind::Text),
        Column::new(
            "waits",
            "نوبت کیست",
            ColumnKind::Choice(choices(&[("agency", "دستگاه"), ("applicant", "متقاضی")])),
        ),
        Column::new("sla", "مهلت (روز کاری)", ColumnKind::Number),
        Column::new(
            "outcome",
            "پایان",
            ColumnKind::Choice(choices(&[
                ("", "پایان نیست"),
                ("granted", "انجام شد"),
                ("refused", "رد شد"),
                ("withdrawn", "انصراف"),
            ])),
        ),
        Column::new("next", "به متقاضی چه بگوییم", ColumnKind::Text),
        Column::new(
            "issues",
            "خروجی را صادر می‌کند",
            ColumnKind::Choice(choices(&YES_NO)),
        ),
        Column::new(
            "pays",
            "متقاضی اینجا هزینه را می‌پردازد",
            ColumnKind::Choice(choices(&YES_NO)),
        ),
    ]
}

fn action_columns(states: &[(String, String)]) -> Vec<Column> {
    vec![
        Column::new("code", "شناسه (لاتین)", ColumnKind::Code),
        Column::new("name", "نام اقدام", ColumnKind::Text),
        Column::new("from", "از وضعیت", ColumnKind::Many(states.to_vec())),
        Column::new("to", "به وضعیت", ColumnKind::Choice(states.to_vec())),
        Column::new(
            "roles",
            "چه کسی",
            ColumnKind::Many(
                ACTING_ROLES
                    .iter()
                    .map(|r| (r.code().to_owned(), r.name_fa().to_owned()))
                    .collect(),
            ),
        ),
        Column::new(
            "comment",
            "توضیح لازم است",
            ColumnKind::Choice(choices(&YES_NO)),
        ),
        Column::new(
            "document",
            "سند لازم است",
            ColumnKind::Choice(choices(&YES_NO)),
        ),
        Column::new(
            "notify",
            "به متقاضی خبر بده",
            ColumnKind::Choice(choices(&YES_NO)),
        ),
    ]
}

fn yes(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

impl FlowForm {
    /// The form for a card's workflow: its own, or the standard one shown for editing.
    pub fn of(own: Option<&Workflow>, effective: &Workflow) -> Self {
        let w = own.unwrap_or(effective);
        FlowForm {
            own: own.is_some(),
            start: w.start.clone(),
            states: w
                .states
                .iter()
                .map(|s| {
                    vec![
                        s.code.clone(),
                        s.name.fa.clone(),
                        match s.waits_for {
                            Party::Agency => "agency",
                            Party::Applicant => "applicant",
                        }
                        .to_owned(),
                        s.sla_days.map(|d| d.to_string()).unwrap_or_default(),
                        s.outcome.map(|o| o.code().to_owned()).unwrap_or_default(),
                        s.next.as_ref().map(|n| n.fa.clone()).unwrap_or_default(),
                        yes(s.issues),
                        yes(s.pays),
                    ]
                })
                .collect(),
            actions: w
                .actions
                .iter()
                .map(|a| {
                    vec![
                        a.code.clone(),
                        a.name.fa.clone(),
                        a.from.join(&SEP.to_string()),
                        a.to.clone(),
                        a.roles.join(&SEP.to_string()),
                        yes(a.comment),
                        yes(a.document),
                        yes(a.notify),
                    ]
                })
                .collect(),
            json: own
                .and_then(|w| serde_json::to_string_pretty(w).ok())
                .unwrap_or_default(),
            use_json: false,
        }
    }

    /// The form as posted.
    pub fn posted(form: &[(String, String)]) -> Self {
        let get = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        FlowForm {
            own: get("workflow_kind") == "own",
            start: get("workflow_start"),
            states: posted(form, "states", &state_columns())
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            actions: posted(form, "actions", &action_columns(&[]))
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            json: get("workflow"),
            use_json: !get("workflow_use_json").is_empty(),
        }
    }

    /// The states as choices: (code, name).
    pub fn state_choices(&self) -> Vec<(String, String)> {
        self.states
            .iter()
            .filter(|s| !s[0].is_empty())
            .map(|s| {
                let name = if s[1].is_empty() { &s[0] } else { &s[1] };
                (s[0].clone(), name.clone())
            })
            .collect()
    }

    /// The two tables as the editor shows them.
    pub fn lists(&self) -> Vec<List> {
        vec![
            List::new(
                "states",
                "وضعیت‌ها",
                "هر وضعیتی که درخواست در آن می‌ماند، در یک ردیف. مهلت به روز کاری است و فقط برای وضعیت‌هایی که نوبت دستگاه است؛ وضعیت‌های پایانی مهلت ندارند.",
                state_columns(),
                self.states.clone(),
            ),
            List::new(
                "actions",
                "اقدام‌ها",
                "هر اقدامی که درخواست را از وضعیتی به وضعیت دیگر می‌برد، در یک ردیف. وضعیتی که همین حالا افزوده‌اید پس از ذخیره در فهرست‌ها می‌آید.",
                action_columns(&self.state_choices()),
                self.actions.clone(),
            ),
        ]
    }

    /// The workflow to save: `None` for the standard one; or what is wrong, in Persian.
    pub fn workflow(&self, previous: Option<&Workflow>) -> Result<Option<Workflow>, Vec<String>> {
        if self.use_json {
            return serde_json::from_str::<Workflow>(&self.json)
                .map(Some)
                .map_err(|e| vec![format!("«گردش کار (جی‌سان)»: متن درست نیست ({e}).")]);
        }
        if !self.own {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let row = |n: usize| to_persian_digits(&(n + 1).to_string());
        let keep = |fa: &str, old: Option<&Text>| Text {
            fa: fa.to_owned(),
            en: old.filter(|o| o.fa == fa).and_then(|o| o.en.clone()),
        };
        let mut states = Vec::new();
        for (i, s) in self.states.iter().enumerate() {
            let code = if s[0].is_empty() {
                format!("state-{}", i + 1)
            } else {
                s[0].clone()
            };
            if s[1].is_empty() {
                errors.push(format!("وضعیت‌ها، ردیف {}: «نام وضعیت» را بنویسید.", row(i)));
            }
            let sla = to_ascii_digits(&s[3]);
            let sla_days = if sla.is_empty() {
                None
            } else if let Ok(days) = sla.parse::<u32>() {
                Some(days)
            } else {
                errors.push(format!(
                    "وضعیت‌ها، ردیف {}: «مهلت» عددی از روزهای کاری است.",
                    row(i)
                ));
                None
            };
            let old = previous.and_then(|w| w.state(&code));
            states.push(WorkflowState {
                name: keep(&s[1], old.map(|o| &o.name)),
                waits_for: if s[2] == "applicant" {
                    Party::Applicant
                } else {
                    Party::Agency
                },
                sla_days,
                outcome: match s[4].as_str() {
                    "granted" => Some(Outcome::Granted),
                    "refused" => Some(Outcome::Refused),
                    "withdrawn" => Some(Outcome::Withdrawn),
                    _ => None,
                },
                next: Some(s[5].as_str())
                    .filter(|n| !n.is_empty())
                    .map(|n| keep(n, old.and_then(|o| o.next.as_ref()))),
                issues: s.get(6).is_some_and(|v| v == "yes"),
                pays: s.get(7).is_some_and(|v| v == "yes"),
                code,
            });
        }
        let split = |v: &str| -> Vec<String> {
            v.split(SEP)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut actions = Vec::new();
        for (i, a) in self.actions.iter().enumerate() {
            let code = if a[0].is_empty() {
                format!("action-{}", i + 1)
            } else {
                a[0].clone()
            };
            if a[1].is_empty() {
                errors.push(format!("اقدام‌ها، ردیف {}: «نام اقدام» را بنویسید.", row(i)));
            }
            if a[2].is_empty() {
                errors.push(format!(
                    "اقدام‌ها، ردیف {}: «از وضعیت» را انتخاب کنید.",
                    row(i)
                ));
            }
            if a[3].is_empty() {
                errors.push(format!(
                    "اقدام‌ها، ردیف {}: «به وضعیت» را انتخاب کنید.",
                    row(i)
                ));
            }
            if a[4].is_empty() {
                errors.push(format!(
                    "اقدام‌ها، ردیف {}: «چه کسی» را انتخاب کنید.",
                    row(i)
                ));
            }
            let old = previous.and_then(|w| w.action(&code));
            actions.push(Action {
                name: keep(&a[1], old.map(|o| &o.name)),
                from: split(&a[2]),
                to: a[3].clone(),
                roles: split(&a[4]),
                comment: a[5] == "yes",
                document: a[6] == "yes",
                notify: a[7] == "yes",
                // Kept from the saved workflow (edited in the JSON view).
                asks: old.map(|o| o.asks.clone()).unwrap_or_default(),
                inquiries: old.map(|o| o.inquiries.clone()).unwrap_or_default(),
                code,
            });
        }
        // The step that issues the output asks the holder's name, whatever the tables say: the
        // output cannot be printed without it.
        let issuing: Vec<String> = states
            .iter()
            .filter(|s| s.issues)
            .map(|s| s.code.clone())
            .collect();
        for action in &mut actions {
            if issuing.contains(&action.to) && !action.asks.iter().any(|a| a.code == "holder_name")
            {
                action
                    .asks
                    .push(pishkhan_domain::workflow::Asked::holder_name());
            }
        }
        let start = if self.start.is_empty() {
            states.first().map(|s| s.code.clone()).unwrap_or_default()
        } else {
            self.start.clone()
        };
        if errors.is_empty() {
            Ok(Some(Workflow {
                start,
                states,
                actions,
            }))
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows::form;
    use super::*;

    #[test]
    fn the_standard_workflow_round_trips_through_the_tables() {
        let standard = Workflow::standard(7);
        let mut shown = FlowForm::of(Some(&standard), &standard);
        shown.json.clear();
        assert_eq!(shown.workflow(None).unwrap().unwrap(), standard);
        shown.own = false;
        assert_eq!(shown.workflow(None).unwrap(), None);
    }

    #[test]
    fn posted_rows_become_a_workflow_with_several_choices() {
        let posted = FlowForm::posted(&form(&[
            ("workflow_kind", "own"),
            ("workflow_start", "review"),
            ("row:states:0:code", "review"),
            ("row:states:0:name", "بررسی"),
            ("row:states:0:waits", "agency"),
            ("row:states:0:sla", "۵"),
            ("row:states:1:code", "done"),
            ("row:states:1:name", "پایان"),
            ("row:states:1:outcome", "granted"),
            ("row:actions:0:name", "تأیید"),
            ("row:actions:0:from", "review"),
            ("row:actions:0:to", "done"),
            ("row:actions:0:roles", "agency-clerk"),
            ("row:actions:0:roles", "agency-admin"),
            ("row:actions:0:notify", "yes"),
        ]));
        let w = posted.workflow(None).unwrap().unwrap();
        assert_eq!(w.states[0].sla_days, Some(5));
        assert_eq!(w.actions[0].code, "action-1");
        assert_eq!(w.actions[0].roles, ["agency-clerk", "agency-admin"]);
        assert!(w.actions[0].notify && !w.actions[0].comment);
        assert_eq!(w.check(), vec![]);
    }

    #[test]
    fn missing_choices_and_bad_numbers_are_named_by_row() {
        let posted = FlowForm::posted(&form(&[
            ("workflow_kind", "own"),
            ("row:states:0:code", "review"),
            ("row:states:0:name", "بررسی"),
            ("row:states:0:sla", "پنج"),
            ("row:actions:0:name", "تأیید"),
        ]));
        let errors = posted.workflow(None).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("ردیف ۱") && errors[0].contains("مهلت"));
        assert!(errors.iter().any(|e| e.contains("«به وضعیت»")));
    }

    #[test]
    fn broken_json_is_told_in_persian() {
        let posted = FlowForm::posted(&form(&[
            ("workflow_use_json", "on"),
            ("workflow", "{\"start\": "),
        ]));
        let errors = posted.workflow(None).unwrap_err();
        assert!(errors[0].starts_with("«گردش کار (جی‌سان)»"));
    }
}
