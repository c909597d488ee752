//! Workflows made of an agency's own stages, in order: what each demo service's agency really
//! does (SERVICES-REFERENCE.md), wrapped in what every workflow has — a round for missing
//! documents, refusal with a reason, withdrawal, issue of the output and its delivery.

use super::{Action, Asked, MAX_SLA_DAYS, Outcome, Party, Workflow, WorkflowState};
use crate::forms::Text;

/// One stage of an agency's procedure.
#[derive(Debug, Clone)]
pub struct Stage {
    pub code: &'static str,
    /// What the stage is, as the tracking page says it.
    pub name: &'static str,
    /// The action that ends it ("ثبت نتیجهٔ بازدید").
    pub done: &'static str,
    /// Its deadline in business days, where the reference gives one; `None` where it says
    /// "unconfirmed" (no deadline is invented).
    pub sla_days: Option<u32>,
    /// Who must act: the agency, or the applicant (a payment, a test to pass).
    pub waits_for: Party,
    /// What the one ending it writes down (code, label, required).
    pub asks: &'static [(&'static str, &'static str, bool)],
    /// The inquiries that must have been answered through the exchange before it ends.
    pub inquiries: Vec<String>,
    /// The applicant pays here (see [`WorkflowState::pays`]).
    pub pays: bool,
}

impl Stage {
    /// An agency stage.
    pub const fn agency(
        code: &'static str,
        name: &'static str,
        done: &'static str,
        sla_days: Option<u32>,
    ) -> Stage {
        Stage {
            code,
            name,
            done,
            sla_days,
            waits_for: Party::Agency,
            asks: &[],
            inquiries: Vec::new(),
            pays: false,
        }
    }

    /// The same stage, ending only once these inquiries were answered for the application.
    pub fn inquiring(mut self, codes: &[&str]) -> Stage {
        self.inquiries = codes.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// The same stage, asking these values of the one who ends it.
    pub const fn asking(mut self, asks: &'static [(&'static str, &'static str, bool)]) -> Stage {
        self.asks = asks;
        self
    }

    /// The same stage, waiting for the applicant (the agency records when it is done).
    pub const fn on_applicant(mut self) -> Stage {
        self.waits_for = Party::Applicant;
        self
    }

    /// The same stage, where the applicant pays the fee bill (waiting on them).
    pub const fn paying(mut self) -> Stage {
        self.waits_for = Party::Applicant;
        self.pays = true;
        self
    }
}

const AGENCY: [&str; 3] = ["agency-clerk", "agency-admin", "system"];

/// A state every built-in workflow has, by its code: `submitted`, `needs-documents`,
/// `resubmitted`, `delivered`, `rejected`, `withdrawn`.
pub(super) fn common_state(code: &str) -> WorkflowState {
    let (name, waits_for, sla_days, outcome, next) = match code {
        "submitted" => (
            "ثبت شد؛ در نوبت بررسی",
            Party::Agency,
            Some(1),
            None,
            Some("کاری لازم نیست؛ دستگاه درخواست را بررسی می‌کند."),
        ),
        "needs-documents" => (
            "نیاز به مدرک یا اصلاح",
            Party::Applicant,
            None,
            None,
            Some(
                "آنچه خواسته شده را در «درخواست‌های من» یا در دفتر پیشخوانی که درخواست را ثبت کرد بفرستید.",
            ),
        ),
        "resubmitted" => (
            "مدارک دوباره فرستاده شد؛ در نوبت بررسی",
            Party::Agency,
            Some(2),
            None,
            Some("کاری لازم نیست؛ دستگاه مدارک را بررسی می‌کند."),
        ),
        "delivered" => (
            "تحویل شد",
            Party::Agency,
            None,
            Some(Outcome::Granted),
            None,
        ),
        "rejected" => (
            "رد شد",
            Party::Agency,
            None,
            Some(Outcome::Refused),
            Some("دلیل رد در سابقه آمده است؛ راه اعتراض در شناسنامهٔ خدمت نوشته شده است."),
        ),
        _ => (
            "با انصراف متقاضی بسته شد",
            Party::Applicant,
            None,
            Some(Outcome::Withdrawn),
            None,
        ),
    };
    WorkflowState {
        code: code.into(),
        name: Text::fa(name),
        waits_for,
        sla_days,
        outcome,
        next: next.map(Text::fa),
        issues: false,
        pays: false,
    }
}

fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

impl Workflow {
    /// A workflow of `stages` in order, after `submitted`, ending in the output's issue (within
    /// `issue_days`) and delivery. The agency may ask for documents in any of its own stages
    /// (the answer goes back to the first stage), refuse with a reason, and the applicant may
    /// withdraw until the agency's work is under way.
    pub fn staged(stages: &[Stage], issue_days: u32) -> Workflow {
        let review = [Stage::agency(
            "in-review",
            "در حال بررسی در دستگاه",
            "تأیید و صدور",
            None,
        )];
        let stages = if stages.is_empty() {
            &review[..]
        } else {
            stages
        };
        let state = |code: &str,
                     fa: &str,
                     waits_for,
                     sla_days: Option<u32>,
                     outcome,
                     next: Option<&str>| {
            WorkflowState {
                code: code.into(),
                name: Text::fa(fa),
                waits_for,
                sla_days: sla_days.map(|d| d.clamp(1, MAX_SLA_DAYS)),
                outcome,
                next: next.map(Text::fa),
                issues: code == "issued",
                pays: false,
            }
        };
        let action =
            |code: &str, fa: &str, from: Vec<String>, to: &str, roles, comment, notify| Action {
                code: code.into(),
                name: Text::fa(fa),
                from,
                to: to.into(),
                roles,
                comment,
                document: false,
                notify,
                asks: Vec::new(),
                inquiries: Vec::new(),
            };
        let first = stages[0].code;
        let mut states = vec![common_state("submitted")];
        for stage in stages {
            let mut entered = state(
                stage.code,
                stage.name,
                stage.waits_for,
                stage.sla_days,
                None,
                Some(match (stage.pays, stage.waits_for) {
                    (true, _) => {
                        "هزینه را در صفحهٔ همین درخواست به‌صورت اینترنتی یا در یکی از دفترهای پیشخوان بپردازید؛ پس از پرداخت، درخواست خودکار به گام بعد می‌رود."
                    }
                    (false, Party::Agency) => "کاری لازم نیست؛ هر گام پیامک می‌شود.",
                    (false, Party::Applicant) => {
                        "این گام با شماست؛ آنچه لازم است در سابقه آمده است."
                    }
                }),
            );
            entered.pays = stage.pays;
            states.push(entered);
        }
        states.extend([
            common_state("needs-documents"),
            common_state("resubmitted"),
            state(
                "issued",
                "صادر شد؛ آمادهٔ تحویل",
                Party::Agency,
                Some(issue_days.max(1)),
                None,
                Some("خروجی را در «درخواست‌های من» دریافت کنید، یا در دفتر پیشخوان تحویل بگیرید."),
            ),
            common_state("delivered"),
            common_state("rejected"),
            common_state("withdrawn"),
        ]);
        let agency_stages: Vec<String> = stages
            .iter()
            .filter(|s| s.waits_for == Party::Agency)
            .map(|s| s.code.to_owned())
            .collect();
        let mut actions = vec![action(
            "start-review",
            "شروع بررسی",
            vec!["submitted".into(), "resubmitted".into()],
            first,
            roles(&AGENCY),
            false,
            false,
        )];
        for (i, stage) in stages.iter().enumerate() {
            let to = stages.get(i + 1).map_or("issued", |s| s.code);
            let mut done = action(
                &format!("{}-done", stage.code),
                stage.done,
                vec![stage.code.into()],
                to,
                roles(&AGENCY),
                false,
                true,
            );
            done.asks = stage
                .asks
                .iter()
                .map(|(code, label, required)| Asked {
                    code: (*code).into(),
                    label: Text::fa(label),
                    required: *required,
                })
                .collect();
            done.inquiries = stage.inquiries.clone();
            if to == "issued" {
                done.code = "issue".into();
                done.asks.push(Asked::holder_name());
            }
            actions.push(done);
        }
        let mut from_review = vec!["submitted".to_owned(), "resubmitted".to_owned()];
        from_review.extend(agency_stages.iter().cloned());
        actions.extend([
            action(
                "request-documents",
                "درخواست مدرک یا اصلاح",
                from_review.clone(),
                "needs-documents",
                roles(&AGENCY),
                true,
                true,
            ),
            action(
                "resubmit",
                "ارسال دوباره",
                vec!["needs-documents".into()],
                "resubmitted",
                roles(&["citizen", "operator", "system"]),
                false,
                false,
            ),
            action(
                "reject",
                "رد درخواست",
                from_review,
                "rejected",
                roles(&AGENCY),
                true,
                true,
            ),
            action(
                "deliver",
                "تحویل",
                vec!["issued".into()],
                "delivered",
                roles(&["agency-clerk", "agency-admin", "operator", "system"]),
                false,
                true,
            ),
            action(
                "withdraw",
                "انصراف",
                vec!["submitted".into(), "needs-documents".into()],
                "withdrawn",
                roles(&["citizen", "operator"]),
                false,
                true,
            ),
        ]);
        Workflow {
            start: "submitted".into(),
            states,
            actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_workflow_passes_its_checks_and_issues_at_the_end() {
        let w = Workflow::staged(
            &[
                Stage::agency("file-review", "بررسی پرونده", "پایان بررسی پرونده", Some(5)),
                Stage::agency("site-inspection", "بازدید از محل", "ثبت نتیجهٔ بازدید", None)
                    .asking(&[("inspection", "خلاصهٔ گزارش بازدید", true)]),
                Stage::agency("payment", "پرداخت عوارض", "تأیید پرداخت", None).on_applicant(),
            ],
            2,
        );
        assert_eq!(w.check(), Vec::new());
        let issue = w.action("issue").unwrap();
        assert_eq!(issue.from, ["payment"]);
        assert_eq!(w.issuing_state().unwrap().code, "issued");
        // No deadline where the reference gives none.
        assert_eq!(w.state("site-inspection").unwrap().sla_days, None);
        assert_eq!(w.state("file-review").unwrap().sla_days, Some(5));
        // Documents may be asked for in the agency's stages, not while the applicant pays.
        let asking = w.action("request-documents").unwrap();
        assert!(asking.from.contains(&"site-inspection".to_owned()));
        assert!(!asking.from.contains(&"payment".to_owned()));
    }

    #[test]
    fn no_stages_is_review_then_issue() {
        let w = Workflow::staged(&[], 1);
        assert_eq!(w.check(), Vec::new());
        assert_eq!(w.action("start-review").unwrap().to, "in-review");
        assert_eq!(w.action("issue").unwrap().from, ["in-review"]);
    }
}
