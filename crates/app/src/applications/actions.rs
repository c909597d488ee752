//! Moving an application on by its workflow's actions, and claiming it on the desk.

use super::*;

impl App {
    /// The role `principal` acts in on this application, if any.
    pub(crate) fn acting_role(
        &self,
        principal: &Principal,
        record: &ApplicationRecord,
    ) -> Option<Role> {
        let agency_scope = |role: Role| {
            principal
                .scopes_of(role)
                .iter()
                .any(|s| matches!(s, Scope::Agency { agency, .. } if *agency == record.agency))
        };
        match principal {
            Principal::Citizen(c) => (c.national_id == record.national_id).then_some(Role::Citizen),
            Principal::System(_) => agency_scope(Role::System).then_some(Role::System),
            Principal::Staff(_) => {
                if agency_scope(Role::AgencyAdmin) {
                    Some(Role::AgencyAdmin)
                } else if agency_scope(Role::AgencyClerk) {
                    Some(Role::AgencyClerk)
                } else if record
                    .centre
                    .as_ref()
                    .is_some_and(|c| counter_centres(principal).contains(c))
                {
                    Some(Role::Operator)
                } else {
                    None
                }
            }
        }
    }

    /// Has every inquiry `action` waits for been answered for this application through the
    /// exchange (the log says so: answered by the agency, or its answer reused)? Refused with
    /// their names otherwise.
    async fn require_inquiries(
        &self,
        record: &ApplicationRecord,
        action: &pishkhan_domain::workflow::Action,
    ) -> Result<(), ApplicationError> {
        if action.inquiries.is_empty() {
            return Ok(());
        }
        let log = self
            .inquiry_log_of(&record.code, record.consent.as_deref())
            .await?;
        let mut missing = Vec::new();
        for code in &action.inquiries {
            let answered = log
                .iter()
                .any(|l| &l.inquiry == code && matches!(l.outcome.as_str(), "answered" | "cached"));
            if !answered {
                let name = self
                    .inquiry_definition(code)
                    .await?
                    .map_or_else(|| code.clone(), |d| d.name.fa);
                missing.push(name);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let list = missing
            .iter()
            .map(|m| format!("«{m}»"))
            .collect::<Vec<_>>()
            .join("، ");
        Err(ApplicationError::one(
            "action",
            Problem::new(
                "inquiries_needed",
                format!(
                    "پیش از «{}» پاسخ این استعلام‌ها لازم است؛ آن‌ها را از بخش استعلام همین صفحه بپرسید: {list}.",
                    action.name.fa
                ),
                format!(
                    "“{}” needs these inquiries answered first; ask them from this page's inquiries: {}.",
                    action.name.fa,
                    missing.join(", ")
                ),
            ),
        ))
    }

    /// Is there a consent the applicant gave at the application's centre, still open at `now`?
    async fn require_open_consent(
        &self,
        record: &ApplicationRecord,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let consented = match self
            .store()
            .citizen_by_national_id(&record.national_id)
            .await?
        {
            Some(citizen) => self
                .store()
                .consents_of_citizen(&citizen.id)
                .await?
                .iter()
                .any(|c| Some(&c.centre) == record.centre.as_ref() && c.expires_at > now),
            None => false,
        };
        if consented {
            Ok(())
        } else {
            Err(ApplicationError::one(
                "action",
                Problem::new(
                    "consent_needed",
                    "انصراف به نام متقاضی فقط با رضایت اوست: نخست در پیشخوان دفتر رضایتش را با کد پیامکی بگیرید، سپس انصراف دهید.",
                    "Withdrawing in the applicant's name needs their consent: ask it at the counter with the texted code first, then withdraw.",
                ),
            ))
        }
    }

    /// Takes one workflow action that asks nothing to be written down; see
    /// [`App::act_on_application_with`].
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_application(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        revision: i64,
        action: &str,
        comment: &str,
        documents: Vec<Upload>,
        idempotency: Option<IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView, ApplicationError> {
        self.act_on_application_with(
            principal,
            source,
            code,
            revision,
            action,
            comment,
            &[],
            documents,
            None,
            idempotency,
            now,
        )
        .await
    }

    /// Takes one workflow action, with the values it asks for (`fields`: code, value).
    /// Checked against the workflow the application started with; refused with a clear reason
    /// and nothing changed when it is not allowed. Entering the workflow's issuing state issues
    /// the output in the same transaction: typeset by Pishkhan, or, when the agency's own system
    /// takes that step and sends `output_pdf`, the PDF it made (numbered and signed the same way).
    #[tracing::instrument(skip_all, fields(code = %code, action = %action))]
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_application_with(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        revision: i64,
        action: &str,
        comment: &str,
        fields: &[(String, String)],
        documents: Vec<Upload>,
        output_pdf: Option<Vec<u8>>,
        idempotency: Option<IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView, ApplicationError> {
        let Ok(code) = TrackingCode::parse(code) else {
            return Err(ApplicationError::NotFound);
        };
        // A retry of an action already taken answers with the application as it is now, and
        // takes nothing again (before the revision check: the first one moved it on).
        if let Some(key) = &idempotency
            && self.replayed(principal, key).await?.is_some()
        {
            return self
                .application_for(principal, code.as_str())
                .await?
                .ok_or(ApplicationError::NotFound);
        }
        let record = self
            .store()
            .application(code.as_str())
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let role = self
            .acting_role(principal, &record)
            .ok_or(ApplicationError::NotFound)?;
        if revision != record.revision {
            return Err(ApplicationError::Stale);
        }
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        let workflow = card.workflow();
        let comment = comment.trim();
        if comment.chars().count() > 2000 {
            return Err(ApplicationError::one(
                "comment",
                Problem::new(
                    "comment_too_long",
                    "توضیح حداکثر ۲۰۰۰ نویسه است.",
                    "A comment has at most 2000 characters.",
                ),
            ));
        }
        let taken = workflow
            .act(&record.state, action, role, comment, documents.len())
            .map_err(|e| ApplicationError::one("action", e))?
            .clone();
        let asked = Workflow::asked_values(&taken, fields)
            .map_err(|e| ApplicationError::one("fields", e))?;
        self.require_inquiries(&record, &taken).await?;
        let exempted = self
            .require_paid_or_exempted(&record, &card, &workflow, &taken, role, comment)
            .await?;
        // An operator withdraws in the applicant's name only with their consent, given at this
        // centre by the code texted to them (as for filing).
        if role == Role::Operator && workflow.withdraws(&taken) {
            self.require_open_consent(&record, now).await?;
        }
        let attached: Vec<Attached> = documents.iter().map(Attached::of).collect();
        let problems = check_attached(&attached, |_| true);
        if !problems.is_empty() {
            return Err(ApplicationError::Invalid(problems));
        }
        let next = workflow
            .state(&taken.to)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: no state {}", card.code, taken.to)))?;
        let deadline = self.deadline(next.sla_days, now).await?;
        let actor = principal.actor_id();
        let supplied = match output_pdf {
            None => None,
            Some(pdf) => Some(crate::outputs::Supplied {
                pdf: supplied_output(pdf, role, next.issues)?,
                by: actor.clone(),
            }),
        };
        // Entering the issuing state: the output, numbered, rendered, signed and stored now,
        // its row written with this step (or, if the step fails, its file forgotten).
        let output = if next.issues {
            let holder = asked
                .iter()
                .find(|(code, _)| code == pishkhan_domain::workflow::HOLDER_NAME)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut recorded = self.recorded_fields(&record, &workflow).await?;
            recorded.extend(
                asked
                    .iter()
                    .filter(|(code, _)| code != pishkhan_domain::workflow::HOLDER_NAME)
                    .map(|(code, value)| (label_of(&taken, code), value.clone())),
            );
            Some(
                self.prepare_output(&record, &card, &holder, recorded, supplied, now)
                    .await?
                    .row,
            )
        } else {
            None
        };
        let stored = self.put_documents(&documents, &actor).await?;
        let stored_keys = stored.clone();
        let output_file = output.as_ref().map(|o| o.pdf_key.clone());
        let code_text = code.as_str().to_owned();
        let events = transition_events(&record, &workflow, &taken, role, documents.len());
        let outbox = self
            .step_notice(&code, &record, &card, &taken, next, comment)
            .await?;
        let key_row = idempotency
            .as_ref()
            .map(|key| Self::idempotency_row(principal, key, &json!({ "code": code_text })));
        let transition = Transition {
            idempotency: key_row,
            code: code_text.clone(),
            revision,
            action: taken.code.clone(),
            from_state: record.state.clone(),
            to_state: taken.to.clone(),
            actor: actor.clone(),
            actor_role: role.code().to_owned(),
            comment: comment.to_owned(),
            deadline: deadline.map(|d| d.format_numeric()),
            outcome: next.outcome.map(|o| o.code().to_owned()),
            at: now,
            documents: stored,
            outbox,
            events,
            fields: (!asked.is_empty()).then(|| serde_json::to_string(&asked).unwrap_or_default()),
            output,
            audit: NewAuditEntry {
                at: now,
                actor,
                action: "application.act".into(),
                target_kind: "application".into(),
                target_id: code_text.clone(),
                source: source.to_owned(),
                details: {
                    let mut details = json!({
                        "action": taken.code,
                        "from": record.state,
                        "to": taken.to,
                        "role": role.code(),
                    });
                    if let Some(rials) = exempted {
                        details["fee_exempted_rials"] = json!(rials);
                        details["reason"] = json!(comment);
                    }
                    details.to_string()
                },
            },
        };
        match self.store().apply_transition(transition).await {
            Ok(()) => {}
            // The same request with the same key, at the same moment, took the action first
            // (the second finds the row moved on, or the key taken): the first one's answer.
            Err(pishkhan_store::WriteError::KeyTaken | pishkhan_store::WriteError::Stale)
                if match &idempotency {
                    Some(key) => self.replayed(principal, key).await?.is_some(),
                    None => false,
                } =>
            {
                self.forget_documents(&stored_keys).await;
                self.forget_file(output_file.as_deref()).await;
            }
            Err(error) => {
                self.forget_documents(&stored_keys).await;
                self.forget_file(output_file.as_deref()).await;
                return Err(error.into());
            }
        }
        let record = self
            .store()
            .application(&code_text)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        self.view(record).await
    }

    /// The text messages a step sends the applicant when its action notifies.
    async fn step_notice(
        &self,
        code: &TrackingCode,
        record: &ApplicationRecord,
        card: &pishkhan_domain::catalog::ServiceCard,
        taken: &pishkhan_domain::workflow::Action,
        next: &pishkhan_domain::workflow::WorkflowState,
        comment: &str,
    ) -> Result<Vec<pishkhan_store::NewOutboxMessage>, ApplicationError> {
        if !taken.notify {
            return Ok(Vec::new());
        }
        let comment = if next.waits_for == Party::Applicant {
            comment
        } else {
            ""
        };
        let text = self
            .notification_text(
                "application.changed",
                &[
                    ("code", &code.grouped_fa()),
                    ("service", &card.title.fa),
                    ("state", &next.name.fa),
                    ("comment", comment),
                    // Straight to the application, where what was asked for is at the top.
                    (
                        "link",
                        &format!(
                            "{}/me/applications/{}",
                            self.config().public_origin(),
                            code.as_str()
                        ),
                    ),
                ],
            )
            .await?;
        Ok(self.notice(code, &record.mobile, &record.email, &text))
    }

    /// Leaving a paying state onward (not to an ending such as withdrawal) needs the bill paid:
    /// only Pishkhan moves it, when it has verified the payment (`payments.rs`). An agency's
    /// clerk or admin may exempt it, with the reason in the comment (at least 10 letters), which
    /// the audit line keeps with the amount: `Some(rials exempted)`. So may the agency's own
    /// system, with its reason (a fee its own cashier took): the same audited exemption. A bill
    /// of nothing owes nothing.
    async fn require_paid_or_exempted(
        &self,
        record: &ApplicationRecord,
        card: &pishkhan_domain::catalog::ServiceCard,
        workflow: &Workflow,
        taken: &pishkhan_domain::workflow::Action,
        role: Role,
        comment: &str,
    ) -> Result<Option<i64>, ApplicationError> {
        let paying = workflow.state(&record.state).is_some_and(|s| s.pays);
        let onward = workflow
            .state(&taken.to)
            .is_some_and(|s| s.outcome.is_none());
        if !paying || !onward {
            return Ok(None);
        }
        let bill = self.fee_bill(record, card).await?;
        if bill.is_empty() {
            return Ok(None);
        }
        let amount =
            pishkhan_domain::Rials(bill.total()).format_rials(pishkhan_domain::Language::Persian);
        match role {
            Role::AgencyClerk | Role::AgencyAdmin | Role::System
                if comment.chars().count() >= 10 =>
            {
                Ok(Some(bill.total()))
            }
            Role::AgencyClerk | Role::AgencyAdmin => Err(ApplicationError::one(
                "comment",
                Problem::new(
                    "payment_exemption_reason",
                    format!(
                        "هزینهٔ این پرونده ({amount}) پرداخت نشده است. پرونده پس از پرداخت خودکار پیش می‌رود؛ برای معاف کردن متقاضی، دلیل و مستند معافیت را در توضیح بنویسید (دست‌کم ۱۰ نویسه)."
                    ),
                    "The fee is unpaid. The application moves on by itself once it is paid; to exempt the applicant, write the reason and its basis in the comment (at least 10 characters).",
                ),
            )),
            _ => Err(ApplicationError::one(
                "action",
                Problem::new(
                    "payment_required",
                    format!(
                        "هزینهٔ این پرونده ({amount}) هنوز پرداخت نشده است؛ پس از پرداخت، پرونده خودکار به گام بعد می‌رود."
                    ),
                    "The fee is not paid yet; once it is paid the application moves on by itself.",
                ),
            )),
        }
    }

    /// The step Pishkhan takes, as `actor`, when an application's bill is paid: the action out
    /// of its paying state that the `system` role may take onward (the workflow's checks make
    /// sure there is one that asks for nothing and issues nothing). `None` when the application
    /// is not in a paying state.
    pub(crate) async fn paid_step(
        &self,
        record: &ApplicationRecord,
        actor: &str,
        source: &str,
        payment: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Transition>, ApplicationError> {
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        let workflow = card.workflow();
        if !workflow.state(&record.state).is_some_and(|s| s.pays) {
            return Ok(None);
        }
        let Some(taken) = workflow.actions.iter().find(|a| {
            a.from.contains(&record.state)
                && a.roles.iter().any(|r| r == Role::System.code())
                && !a.asks.iter().any(|asked| asked.required)
                && workflow
                    .state(&a.to)
                    .is_some_and(|to| !to.issues && to.outcome.is_none())
        }) else {
            return Ok(None);
        };
        let next = workflow
            .state(&taken.to)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: no state {}", card.code, taken.to)))?;
        let code = TrackingCode::parse(&record.code).map_err(|_| ApplicationError::NotFound)?;
        let deadline = self.deadline(next.sla_days, now).await?;
        let comment = "هزینه پرداخت شد.".to_owned();
        let outbox = self
            .step_notice(&code, record, &card, taken, next, "")
            .await?;
        Ok(Some(Transition {
            idempotency: None,
            code: record.code.clone(),
            revision: record.revision,
            action: taken.code.clone(),
            from_state: record.state.clone(),
            to_state: taken.to.clone(),
            actor: actor.to_owned(),
            actor_role: Role::System.code().to_owned(),
            comment,
            deadline: deadline.map(|d| d.format_numeric()),
            outcome: None,
            at: now,
            documents: Vec::new(),
            outbox,
            events: transition_events(record, &workflow, taken, Role::System, 0),
            fields: None,
            output: None,
            audit: NewAuditEntry {
                at: now,
                actor: actor.to_owned(),
                action: "application.act".into(),
                target_kind: "application".into(),
                target_id: record.code.clone(),
                source: source.to_owned(),
                details: json!({
                    "action": taken.code,
                    "from": record.state,
                    "to": taken.to,
                    "role": Role::System.code(),
                    "payment": payment,
                })
                .to_string(),
            },
        }))
    }

    /// Forgets a file written for a step that did not happen.
    async fn forget_file(&self, key: Option<&str>) {
        if let Some(key) = key
            && let Err(e) = self.documents().delete(key).await
        {
            tracing::warn!(error = %e, key = %key, "an unused file stays");
        }
    }

    /// What an application's output prints besides its holder: the answers the person filed
    /// and the values earlier steps wrote down, each with its label.
    async fn recorded_fields(
        &self,
        record: &ApplicationRecord,
        workflow: &Workflow,
    ) -> Result<Vec<(String, String)>, ApplicationError> {
        let view = self.view(record.clone()).await?;
        let mut out: Vec<(String, String)> = self
            .labelled_answers(&view)
            .await?
            .into_iter()
            .flat_map(|(_, answers)| answers)
            .collect();
        for event in &view.events {
            let Some(fields) = &event.fields else {
                continue;
            };
            let values: Vec<(String, String)> = serde_json::from_str(fields).unwrap_or_default();
            let action = workflow.action(&event.action);
            for (code, value) in values {
                if code == pishkhan_domain::workflow::HOLDER_NAME {
                    continue;
                }
                let label = action.map_or_else(|| code.clone(), |a| label_of(a, &code));
                out.push((label, value));
            }
        }
        Ok(out)
    }

    /// Claims an application for oneself (`assignee` = self) or, for an agency admin, assigns
    /// it to someone else (or to nobody).
    #[tracing::instrument(skip_all, fields(code = %code))]
    pub async fn assign_application(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        revision: i64,
        assignee: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ApplicationError> {
        let record = self
            .store()
            .application(code)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let role = self
            .acting_role(principal, &record)
            .ok_or(ApplicationError::NotFound)?;
        let me = match principal {
            Principal::Staff(u) => u.id.clone(),
            _ => return Err(ApplicationError::NotFound),
        };
        let to_self = assignee == Some(me.as_str());
        if !(matches!(role, Role::AgencyClerk | Role::AgencyAdmin)
            && (to_self || role == Role::AgencyAdmin))
        {
            return Err(ApplicationError::one(
                "assignee",
                Problem::new(
                    "may_not_assign",
                    "فقط مدیر دستگاه می‌تواند کار را به دیگری بسپارد.",
                    "Only an agency admin may assign work to someone else.",
                ),
            ));
        }
        let audit = NewAuditEntry {
            at: now,
            actor: principal.actor_id(),
            action: "application.assign".into(),
            target_kind: "application".into(),
            target_id: record.code.clone(),
            source: source.to_owned(),
            details: json!({ "assignee": assignee }).to_string(),
        };
        self.store()
            .assign_application(&record.code, revision, assignee, now, &audit)
            .await?;
        Ok(())
    }
}

/// The label of a value `action` asks for (its code if it has none).
fn label_of(action: &pishkhan_domain::workflow::Action, code: &str) -> String {
    action
        .asks
        .iter()
        .find(|a| a.code == code)
        .map_or_else(|| code.to_owned(), |a| a.label.fa.clone())
}

/// What agencies' systems are told of one action: a withdrawal, a resubmission (the applicant
/// answering what the agency asked for) or any other action, and the files it attached.
fn transition_events(
    record: &ApplicationRecord,
    workflow: &Workflow,
    taken: &pishkhan_domain::workflow::Action,
    role: Role,
    documents: usize,
) -> Vec<pishkhan_store::NewFeedEvent> {
    let applicant_side = matches!(role, Role::Citizen | Role::Operator);
    let was_waiting = workflow
        .state(&record.state)
        .is_some_and(|s| s.waits_for == Party::Applicant);
    let kind = if workflow.withdraws(taken) {
        EventKind::Withdrawn
    } else if applicant_side && was_waiting {
        EventKind::Resubmitted
    } else {
        EventKind::ActionTaken
    };
    let data = json!({
        "code": record.code,
        "service": record.service,
        "action": taken.code,
        "from": record.state,
        "to": taken.to,
        "role": role.code(),
        "documents": documents,
    });
    let mut events = vec![kind.about(&record.agency, &record.code, data.clone())];
    if documents > 0 {
        events.push(EventKind::DocumentsAdded.about(&record.agency, &record.code, data));
    }
    events
}

/// The largest output PDF an agency's system may send.
pub const MAX_OUTPUT_PDF: usize = 10 * 1024 * 1024;

/// Checks an output PDF an agency's system sends with the step that issues it: only its own
/// system, only on that step, only a PDF of at most [`MAX_OUTPUT_PDF`].
fn supplied_output(pdf: Vec<u8>, role: Role, issues: bool) -> Result<Vec<u8>, ApplicationError> {
    let refuse = |code: &'static str, fa: &'static str, en: &'static str| {
        Err(ApplicationError::one(
            "output_pdf",
            Problem::new(code, fa, en),
        ))
    };
    if role != Role::System {
        return refuse(
            "output_pdf_not_yours",
            "فقط سامانهٔ خود دستگاه می‌تواند خروجی صادرشده در دستگاه را بفرستد.",
            "Only the agency's own system may send an output it issued.",
        );
    }
    if !issues {
        return refuse(
            "output_pdf_not_issuing",
            "این اقدام خروجی صادر نمی‌کند؛ فایل خروجی را با اقدام صدور بفرستید.",
            "This action issues nothing: send the output's file with the issuing action.",
        );
    }
    let tail = &pdf[pdf.len().saturating_sub(1024)..];
    let ends = tail.windows(5).any(|w| w == b"%%EOF");
    if pdf.len() > MAX_OUTPUT_PDF || !pdf.starts_with(b"%PDF-") || !ends {
        return refuse(
            "output_pdf_invalid",
            "فایل خروجی باید یک PDF کامل و حداکثر ۱۰ مگابایت باشد.",
            "The output's file must be a whole PDF of at most 10 MB.",
        );
    }
    Ok(pdf)
}
