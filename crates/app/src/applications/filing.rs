//! Filing an application: who files, for whom, through which channel; every form and document
//! checked; stored with its documents, audit entry and notices, or not at all.

use super::*;

impl App {
    /// Files an application. The one use case behind `/me`, `/counter` and the API.
    #[tracing::instrument(skip_all, fields(service = %request.service))]
    pub async fn submit_application(
        &self,
        principal: &Principal,
        source: &str,
        request: SubmitApplication,
        now: DateTime<Utc>,
    ) -> Result<Submitted, ApplicationError> {
        // A retry of a filing already made answers what it answered, and does nothing.
        if let Some(key) = &request.idempotency
            && let Some(answer) = self.replayed(principal, key).await?
        {
            return submitted_from(&answer);
        }
        // The published card, from the portal's cache (emptied when anything is published).
        let page = self
            .service_page(&request.service)
            .await?
            .ok_or(ApplicationError::NotFound)?;
        let service = &page.service;
        let card = &service.card;
        let filer = self
            .filer(
                principal,
                card,
                &request.national_id,
                &request.mobile,
                request.centre.as_deref(),
                request.consent.as_deref(),
                now,
            )
            .await?;
        let Filer {
            channel,
            national_id,
            mobile,
            centre,
            consent,
            acting,
        } = filer;
        let attached: Vec<Attached> = request.documents.iter().map(Attached::of).collect();
        let (email, answers, problems) = self
            .check_filing(card, &request.email, &request.answers, &attached)
            .await?;
        if !problems.is_empty() {
            return Err(ApplicationError::Invalid(problems));
        }

        let workflow = card.workflow();
        let start = workflow
            .state(&workflow.start)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: workflow has no start", card.code)))?;
        let deadline = self.deadline(start.sla_days, now).await?;
        let documents = self
            .put_documents(&request.documents, &acting.actor)
            .await?;
        let stored = self
            .store_filing(
                principal,
                source,
                &request,
                card,
                service.version,
                (channel, &national_id, &mobile, &email),
                (&centre, &consent, &acting),
                (&answers, deadline, &documents),
                now,
            )
            .await;
        match stored {
            Ok(Some(submitted)) => Ok(submitted),
            // A request with the same key, at the same moment, filed first: its answer.
            Ok(None) => {
                self.forget_documents(&documents).await;
                let answer = match &request.idempotency {
                    Some(key) => self.replayed(principal, key).await?,
                    None => None,
                };
                match answer {
                    Some(answer) => submitted_from(&answer),
                    None => Err(StoreError::Corrupt(
                        "an idempotency key was taken and then not found".into(),
                    )
                    .into()),
                }
            }
            Err(error) => {
                // Nothing refers to the files: they go, as the filing did.
                self.forget_documents(&documents).await;
                Err(error)
            }
        }
    }

    /// Stores a checked filing under a fresh tracking code (drawn again on the rare collision),
    /// with its idempotency key when there is one; `None` when a request with the same key was
    /// stored first.
    #[allow(clippy::too_many_arguments)]
    async fn store_filing(
        &self,
        principal: &Principal,
        source: &str,
        request: &SubmitApplication,
        card: &ServiceCard,
        version: i64,
        (channel, national_id, mobile, email): (&str, &str, &str, &str),
        (centre, consent, acting): (&Option<String>, &Option<String>, &Acting),
        (answers, deadline, documents): (&str, Option<JalaliDate>, &[NewDocument]),
        now: DateTime<Utc>,
    ) -> Result<Option<Submitted>, ApplicationError> {
        let workflow = card.workflow();
        let agency = card.agency.clone();
        let deadline_text = deadline.map(|d| d.format_long_fa()).unwrap_or_default();
        for _ in 0..5 {
            let code = TrackingCode::generate(random_u64());
            let text = self
                .notification_text(
                    "application.submitted",
                    &[
                        ("code", &code.grouped_fa()),
                        ("service", &card.title.fa),
                        ("deadline", &deadline_text),
                    ],
                )
                .await?;
            let notify = self.notice(&code, mobile, email, &text);
            let submitted = Submitted {
                code: code.clone(),
                state: workflow.start.clone(),
                deadline,
            };
            let new = NewApplication {
                code: code.as_str().to_owned(),
                service: card.code.clone(),
                service_version: version,
                agency: agency.clone(),
                national_id: national_id.to_owned(),
                mobile: mobile.to_owned(),
                email: email.to_owned(),
                channel: channel.to_owned(),
                centre: centre.clone(),
                filed_by: acting.actor.clone(),
                filed_by_role: acting.role.code().to_owned(),
                consent: consent.clone(),
                state: workflow.start.clone(),
                deadline: deadline.map(|d| d.format_numeric()),
                answers: answers.to_owned(),
                fee_rials: card.total_fee(),
                at: now,
                documents: documents.to_vec(),
                outbox: notify,
                events: vec![EventKind::Filed.about(
                    &agency,
                    code.as_str(),
                    json!({
                        "code": code.as_str(),
                        "service": card.code,
                        "service_version": version,
                        "state": workflow.start,
                        "channel": channel,
                        "centre": centre,
                        "documents": documents.len(),
                    }),
                )],
                audit: NewAuditEntry {
                    at: now,
                    actor: acting.actor.clone(),
                    action: "application.submit".into(),
                    target_kind: "application".into(),
                    target_id: code.as_str().to_owned(),
                    source: source.to_owned(),
                    details: json!({
                        "service": card.code,
                        "version": version,
                        "channel": channel,
                        "centre": centre,
                        "consent": consent,
                        "documents": documents.len(),
                    })
                    .to_string(),
                },
                idempotency: request
                    .idempotency
                    .as_ref()
                    .map(|key| Self::idempotency_row(principal, key, &submitted.answer())),
            };
            match self.store().insert_application(new).await {
                Ok(()) => return Ok(Some(submitted)),
                Err(WriteError::CodeTaken) => continue,
                Err(WriteError::KeyTaken) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Err(WriteError::CodeTaken.into())
    }

    /// Files stored for a filing or an action that did not happen: removed, as nothing refers
    /// to them (a failure is logged; the sweep at start removes what is left).
    pub(super) async fn forget_documents(&self, documents: &[NewDocument]) {
        for document in documents {
            if let Err(e) = self.documents().delete(&document.object_key).await {
                tracing::warn!(error = %e, key = %document.object_key, "an unused file stays");
            }
        }
    }

    /// Who files, for whom, through which channel: a citizen online (if the card offers it), an
    /// operator at one of their centres with the citizen's unexpired consent given to them there
    /// (if the card is offered at centres), or an agency system for its own agency.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn filer(
        &self,
        principal: &Principal,
        card: &ServiceCard,
        national_id: &str,
        mobile: &str,
        centre: Option<&str>,
        consent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Filer, ApplicationError> {
        let offers = |channel: Channel| card.channels.iter().any(|c| c.channel == channel);
        Ok(match principal {
            Principal::Citizen(citizen) => {
                if !offers(Channel::Online) {
                    return Err(ApplicationError::one(
                        "service",
                        Problem::new(
                            "channel_not_offered",
                            "این خدمت برخط ارائه نمی‌شود؛ به یکی از دفترهای پیشخوان یا دستگاه مراجعه کنید.",
                            "This service is not offered online; go to a service centre or the agency.",
                        ),
                    ));
                }
                Filer {
                    channel: "online",
                    national_id: citizen.national_id.clone(),
                    mobile: citizen.mobile.clone(),
                    centre: None,
                    consent: None,
                    acting: Acting {
                        role: Role::Citizen,
                        actor: principal.actor_id(),
                    },
                }
            }
            Principal::Staff(user) => {
                let Some(centre) = centre.map(str::to_owned) else {
                    return Err(ApplicationError::NotFound);
                };
                if !counter_centres(principal).contains(&centre) {
                    return Err(ApplicationError::NotFound);
                }
                if !offers(Channel::Centre) {
                    return Err(ApplicationError::one(
                        "service",
                        Problem::new(
                            "channel_not_offered",
                            "این خدمت در دفترهای پیشخوان ارائه نمی‌شود.",
                            "This service is not offered at service centres.",
                        ),
                    ));
                }
                let national_id = NationalId::parse(national_id)
                    .map_err(|e| ApplicationError::one("national_id", e))?;
                let citizen = self
                    .store()
                    .citizen_by_national_id(national_id.as_str())
                    .await?
                    .ok_or_else(|| ApplicationError::one("consent", no_consent()))?;
                let consent_id = consent.unwrap_or_default().to_owned();
                let consent = self
                    .store()
                    .consents_of_citizen(&citizen.id)
                    .await?
                    .into_iter()
                    .find(|c| c.id == consent_id);
                match consent {
                    Some(c)
                        if c.centre == centre && c.operator_id == user.id && c.expires_at > now => {
                    }
                    _ => return Err(ApplicationError::one("consent", no_consent())),
                }
                Filer {
                    channel: "centre",
                    national_id: citizen.national_id,
                    mobile: citizen.mobile,
                    centre: Some(centre),
                    consent: Some(consent_id),
                    acting: Acting {
                        role: Role::Operator,
                        actor: principal.actor_id(),
                    },
                }
            }
            Principal::System(_) => {
                if !principal
                    .scopes_of(Role::System)
                    .iter()
                    .any(|s| matches!(s, Scope::Agency { agency, .. } if *agency == card.agency))
                {
                    return Err(ApplicationError::NotFound);
                }
                let national_id =
                    NationalId::parse(national_id).map_err(|e| placed("national_id", e));
                let mobile = MobileNumber::parse(mobile).map_err(|e| placed("mobile", e));
                let (national_id, mobile) = match (national_id, mobile) {
                    (Ok(n), Ok(m)) => (n, m),
                    (n, m) => {
                        return Err(ApplicationError::Invalid(
                            [n.err(), m.err()].into_iter().flatten().collect(),
                        ));
                    }
                };
                Filer {
                    channel: "api",
                    national_id: national_id.as_str().to_owned(),
                    mobile: mobile.e164(),
                    centre: None,
                    consent: None,
                    acting: Acting {
                        role: Role::System,
                        actor: principal.actor_id(),
                    },
                }
            }
        })
    }

    /// Checks a filing's e-mail, forms and documents with the Persian core: answers the e-mail
    /// and the forms' answers normalized, and every problem found (none: it may be filed). A
    /// file field's answer points at one of the attachments (`{"document": index}`); its type
    /// and size are taken from the attachment's content, not from the client.
    pub(crate) async fn check_filing(
        &self,
        card: &ServiceCard,
        email: &str,
        given_answers: &BTreeMap<String, BTreeMap<String, Value>>,
        attached: &[Attached],
    ) -> Result<(String, String, Vec<Problem>), ApplicationError> {
        let mut problems = Vec::new();
        let email = email.trim().to_owned();
        if !email.is_empty() && (!email.contains('@') || email.len() > 200) {
            problems.push(placed(
                "email",
                Problem::new(
                    "email_invalid",
                    "نشانی رایانامه درست نیست.",
                    "The e-mail address is not valid.",
                ),
            ));
        }
        let mut answers: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for form in &card.forms {
            let Some(schema) = self.form_at(&form.code, i64::from(form.version)).await? else {
                continue;
            };
            let mut given = given_answers.get(&form.code).cloned().unwrap_or_default();
            for field in schema.fields() {
                if !matches!(field.kind, FieldKind::File { .. }) {
                    continue;
                }
                let Some(answer) = given.get_mut(&field.id) else {
                    continue;
                };
                let index = answer.get("document").and_then(Value::as_u64);
                let upload = index.and_then(|i| attached.get(usize::try_from(i).ok()?));
                match (index, upload) {
                    (
                        Some(i),
                        Some(Attached {
                            kind: Ok(kind),
                            file_name,
                            size,
                            ..
                        }),
                    ) => {
                        *answer = json!({
                            "document": i,
                            "name": clean_file_name(file_name),
                            "media_type": kind.mime(),
                            "bytes": size,
                        });
                    }
                    (_, Some(Attached { kind: Err(e), .. })) => {
                        problems.push(placed(&format!("{}.{}", form.code, field.id), e.invalid()))
                    }
                    _ => problems.push(placed(
                        &format!("{}.{}", form.code, field.id),
                        Problem::new(
                            "file_not_attached",
                            format!("پرونده‌ای برای «{}» پیوست نشده است.", field.label.fa),
                            format!("No file is attached for “{}”.", field.label.fa),
                        ),
                    )),
                }
            }
            match schema.validate(&given) {
                Ok(clean) => {
                    answers.insert(form.code.clone(), clean);
                }
                Err(errors) => {
                    problems.extend(errors.into_iter().map(|e| e.within(&form.code)));
                }
            }
        }
        for form in given_answers.keys() {
            if !card.forms.iter().any(|f| &f.code == form) {
                problems.push(placed(
                    form,
                    Problem::new(
                        "unknown_form",
                        format!("فرم «{form}» از فرم‌های این خدمت نیست."),
                        format!("Form `{form}` is not one of this service's forms."),
                    ),
                ));
            }
        }
        // Documents: every required one present, each checked by its content.
        for (i, doc) in card.documents.iter().enumerate() {
            if !attached.iter().any(|u| u.requirement == doc.name.fa) {
                problems.push(placed(
                    &format!("documents[{i}]"),
                    Problem::new(
                        "document_missing",
                        format!("تصویر «{}» را پیوست کنید.", doc.name.fa),
                        format!(
                            "Attach a scan of “{}”.",
                            doc.name.en.as_deref().unwrap_or(&doc.name.fa)
                        ),
                    ),
                ));
            }
        }
        problems.extend(check_attached(attached, |r| {
            r.is_empty() || card.documents.iter().any(|d| d.name.fa == r)
        }));
        let answers =
            serde_json::to_string(&answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((email, answers, problems))
    }

    /// A complete example filing for a service, as an agency system would send it: every form
    /// filled with valid example answers, and a small PDF for each required document and each
    /// file field. For agencies' developers (`pishkhan applications example`), the benchmark and
    /// the tests.
    pub async fn example_submission(
        &self,
        service: &str,
    ) -> Result<Option<SubmitApplication>, StoreError> {
        let Some(published) = self.published_service(service).await? else {
            return Ok(None);
        };
        let card = published.card;
        let mut documents: Vec<Upload> = card
            .documents
            .iter()
            .map(|d| Upload {
                requirement: d.name.fa.clone(),
                file_name: "scan.pdf".into(),
                bytes: EXAMPLE_PDF.to_vec(),
                provenance: None,
            })
            .collect();
        let mut answers = BTreeMap::new();
        for form in &card.forms {
            let Some((schema, _)) = self.form(&form.code, Some(i64::from(form.version))).await?
            else {
                continue;
            };
            let mut filled = schema.example_answers();
            for field in schema.fields() {
                if let FieldKind::File { accept, .. } = &field.kind {
                    // A file of a kind the field accepts (a photo field takes only JPEG).
                    let (extension, bytes) =
                        if accept.is_empty() || accept.iter().any(|a| a == "application/pdf") {
                            ("pdf", EXAMPLE_PDF)
                        } else {
                            ("jpg", EXAMPLE_JPEG)
                        };
                    filled.insert(field.id.clone(), json!({ "document": documents.len() }));
                    documents.push(Upload {
                        requirement: String::new(),
                        file_name: format!("{}.{extension}", field.id),
                        bytes: bytes.to_vec(),
                        provenance: None,
                    });
                }
            }
            answers.insert(form.code.clone(), filled);
        }
        Ok(Some(SubmitApplication {
            service: card.code,
            national_id: "0076229645".into(),
            mobile: "09121234567".into(),
            answers,
            documents,
            ..Default::default()
        }))
    }
}

impl Submitted {
    /// What a filing answers, as kept under its idempotency key.
    fn answer(&self) -> serde_json::Value {
        json!({
            "code": self.code.as_str(),
            "state": self.state,
            "deadline": self.deadline.map(|d| d.format_numeric()),
        })
    }
}

/// The filing an idempotency key's answer names.
fn submitted_from(answer: &serde_json::Value) -> Result<Submitted, ApplicationError> {
    let corrupt = || StoreError::Corrupt(format!("a stored idempotent answer: {answer}"));
    let code = answer["code"]
        .as_str()
        .and_then(|c| TrackingCode::parse(c).ok())
        .ok_or_else(corrupt)?;
    let deadline = match answer["deadline"].as_str() {
        Some(d) => Some(JalaliDate::parse(d).map_err(|_| corrupt())?),
        None => None,
    };
    Ok(Submitted {
        code,
        state: answer["state"].as_str().ok_or_else(corrupt)?.to_owned(),
        deadline,
    })
}
