//! Reading applications: the applicant, the centre that filed, the agency; `/track` by code and
//! national ID; a citizen's list; the desk's inbox; documents.

use super::*;

impl App {
    /// An application and its history, for someone who may see it (else `None`, the same as
    /// a missing one).
    pub async fn application_for(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Option<ApplicationView>, ApplicationError> {
        let Ok(code) = TrackingCode::parse(code) else {
            return Ok(None);
        };
        let Some(record) = self.store().application(code.as_str()).await? else {
            return Ok(None);
        };
        if !self.may_see(principal, &record) {
            return Ok(None);
        }
        self.view(record).await.map(Some)
    }

    /// Tracking without signing in: the tracking code and the applicant's national ID must both
    /// match; a wrong pair answers the same as a missing code.
    #[tracing::instrument(skip_all, fields(code = %code))]
    pub async fn track(
        &self,
        code: &str,
        national_id: &str,
        client_ip: &str,
    ) -> Result<Option<ApplicationView>, ApplicationError> {
        // Guessing pairs is slowed to a few dozen a minute per address.
        let attempt = self
            .store()
            .take_attempt(
                &[pishkhan_store::Limit {
                    key: format!("track-ip:{client_ip}"),
                    max: TRACKS_PER_MINUTE,
                    window_ms: 60_000,
                }],
                Utc::now(),
            )
            .await?;
        if !matches!(attempt, pishkhan_store::Attempt::Allowed) {
            return Err(ApplicationError::one(
                "code",
                Problem::new(
                    "too_many_tries",
                    "از این نشانی در یک دقیقه بیش از اندازه پیگیری شده است؛ یک دقیقه دیگر دوباره بکوشید.",
                    "Too many lookups from this address in a minute; try again in a minute.",
                ),
            ));
        }
        let code = TrackingCode::parse(code).map_err(|e| ApplicationError::one("code", e))?;
        let national_id =
            NationalId::parse(national_id).map_err(|e| ApplicationError::one("national_id", e))?;
        match self.store().application(code.as_str()).await? {
            Some(record) if record.national_id == national_id.as_str() => {
                self.view(record).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    pub(super) async fn view(
        &self,
        record: ApplicationRecord,
    ) -> Result<ApplicationView, ApplicationError> {
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        let workflow = card.workflow();
        let events = self.store().application_events(&record.code).await?;
        let documents = self.store().application_documents(&record.code).await?;
        let outputs = self.store().outputs_of_application(&record.code).await?;
        Ok(ApplicationView {
            record,
            card,
            workflow,
            events,
            documents,
            outputs,
        })
    }

    /// The answers of an application by form, each with its field's Persian label, in the
    /// form's order: what a clerk reads.
    pub async fn labelled_answers(
        &self,
        view: &ApplicationView,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, StoreError> {
        let answers: BTreeMap<String, BTreeMap<String, Value>> =
            serde_json::from_str(&view.record.answers).unwrap_or_default();
        let mut out = Vec::new();
        for form in &view.card.forms {
            let Some(given) = answers.get(&form.code) else {
                continue;
            };
            let Some(schema) = self.form_at(&form.code, i64::from(form.version)).await? else {
                continue;
            };
            let lines = schema
                .fields()
                .filter_map(|field| {
                    let value = given.get(&field.id)?;
                    // Choices by their labels, as the person saw them.
                    let label_of = |v: &str| match &field.kind {
                        FieldKind::Select { options } | FieldKind::MultiSelect { options } => {
                            options
                                .iter()
                                .find(|o| o.value == v)
                                .map_or_else(|| v.to_owned(), |o| o.label.fa.clone())
                        }
                        FieldKind::YesNo {} => if v == "yes" { "بله" } else { "خیر" }.to_owned(),
                        _ => v.to_owned(),
                    };
                    let text = match value {
                        Value::String(s) => label_of(s),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), label_of))
                            .collect::<Vec<_>>()
                            .join("، "),
                        Value::Object(o) => o
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("—")
                            .to_owned(),
                        other => other.to_string(),
                    };
                    Some((field.label.fa.clone(), text))
                })
                .collect();
            out.push((schema.title.fa.clone(), lines));
        }
        Ok(out)
    }

    /// Who may read an application: the applicant, the centre that filed it, the agency's staff
    /// and system.
    fn may_see(&self, principal: &Principal, record: &ApplicationRecord) -> bool {
        match principal {
            Principal::Citizen(c) => c.national_id == record.national_id,
            Principal::Staff(_) | Principal::System(_) => {
                self.acting_role(principal, record).is_some()
            }
        }
    }

    /// A person's own applications (signed-in citizen), newest first.
    pub async fn my_applications(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        match principal {
            Principal::Citizen(c) => {
                self.store()
                    .applications_of_person(&c.national_id, 200)
                    .await
            }
            _ => Ok(Vec::new()),
        }
    }

    /// What an operator's centres filed: those waiting on the applicant first, then the open
    /// ones, then the closed; newest first within each. Each with whether it waits on the
    /// applicant.
    pub async fn centre_applications(
        &self,
        principal: &Principal,
    ) -> Result<Vec<CentreFiling>, StoreError> {
        let mut out = Vec::new();
        for centre in counter_centres(principal) {
            for record in self.store().applications_of_centre(&centre, 200).await? {
                let card = self
                    .card_at(&record.service, record.service_version)
                    .await?;
                let workflow = card.workflow();
                let state = workflow.state(&record.state);
                out.push(CentreFiling {
                    service_title: card.title.fa.clone(),
                    state_name: state.map_or_else(|| record.state.clone(), |s| s.name.fa.clone()),
                    waits_on_applicant: state
                        .is_some_and(|s| s.waits_for == Party::Applicant && s.outcome.is_none()),
                    record,
                });
            }
        }
        out.sort_by_key(|f| {
            (
                !f.waits_on_applicant,
                f.record.outcome.is_some(),
                std::cmp::Reverse(f.record.created_at),
            )
        });
        Ok(out)
    }

    /// What the desk lists for this member of staff: open applications of the agencies they
    /// work for, in the states their roles may act in.
    pub async fn inbox(
        &self,
        principal: &Principal,
        mut filter: InboxFilter,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let mut agencies: Vec<String> = [Role::AgencyClerk, Role::AgencyAdmin, Role::System]
            .iter()
            .flat_map(|r| principal.scopes_of(*r))
            .filter_map(|s| match s {
                Scope::Agency { agency, .. } => Some(agency.clone()),
                _ => None,
            })
            .collect();
        agencies.sort();
        agencies.dedup();
        filter.agencies = agencies;
        filter.limit = filter.limit.clamp(1, 200);
        let every_state = filter.include_closed || filter.closed_only;
        let rows = self.store().inbox(&filter).await?;
        if every_state {
            // Everything of the clerk's agencies, finished cases too: to find one, not to act.
            return Ok(rows);
        }
        // Only what this person's roles may move on (the workflow is per service version, so
        // this is decided per row).
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(role) = self.acting_role(principal, &row) else {
                continue;
            };
            let card = self.card_at(&row.service, row.service_version).await?;
            let workflow = card.workflow();
            if workflow
                .actions_from(&row.state)
                .any(|a| Workflow::roles_of(a).any(|r| r == role))
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// A document's bytes, for someone who may see its application.
    pub async fn application_document(
        &self,
        principal: &Principal,
        code: &str,
        document: &str,
    ) -> Result<Option<(DocumentRecord, Vec<u8>)>, ApplicationError> {
        let Some(view) = self.application_for(principal, code).await? else {
            return Ok(None);
        };
        let Some(doc) = view.documents.into_iter().find(|d| d.id == document) else {
            return Ok(None);
        };
        let bytes = self
            .documents()
            .get(&doc.object_key)
            .await
            .map_err(|e| ApplicationError::Documents(e.to_string()))?;
        Ok(Some((doc, bytes)))
    }
}

/// One application a centre filed, as its counter lists it.
pub struct CentreFiling {
    pub record: ApplicationRecord,
    pub service_title: String,
    pub state_name: String,
    /// The workflow waits for the applicant (documents asked for).
    pub waits_on_applicant: bool,
}
