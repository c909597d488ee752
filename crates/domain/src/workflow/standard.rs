//! The workflow every service uses until its editors adapt it.

use super::staged::common_state;
use super::{Action, Asked, MAX_SLA_DAYS, Party, Workflow, WorkflowState};
use crate::forms::Text;

impl Workflow {
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
                issues: code == "issued",
                pays: false,
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
                asks: Vec::new(),
                inquiries: Vec::new(),
            };
        let review = processing_days.clamp(1, MAX_SLA_DAYS);
        let mut workflow = Workflow {
            start: "submitted".into(),
            states: vec![
                common_state("submitted"),
                state(
                    "in-review",
                    "در حال بررسی در دستگاه",
                    Party::Agency,
                    Some(review),
                    None,
                    Some("کاری لازم نیست؛ نتیجه پیامک می‌شود."),
                ),
                common_state("needs-documents"),
                common_state("resubmitted"),
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
                common_state("delivered"),
                common_state("rejected"),
                common_state("withdrawn"),
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
        };
        if let Some(issue) = workflow.actions.iter_mut().find(|a| a.code == "issue") {
            issue.asks = vec![Asked::holder_name()];
        }
        workflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_workflow_passes_its_checks() {
        for days in [0, 1, 7, 30, 1000] {
            let w = Workflow::standard(days);
            assert_eq!(w.check(), Vec::new());
        }
    }
}
