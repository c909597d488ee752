//! The catalogue's use cases: editors save drafts of their agency's service cards and forms,
//! send them for review, reviewers publish or retire them; the public reads what is published.
//! Every version is kept; every change is on the record.

use chrono::Utc;
use pishkhan_domain::Language;
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::{Change, ServiceCard, diff};
use pishkhan_domain::forms::FormSchema;
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_store::{
    DocKind, DocState, HistoryEntry, NewAuditEntry, NewVersion, SaveVersionError, ServiceFilter,
    StoreError, VersionRecord,
};

use crate::App;
use crate::audit::{Actor, audit_entry};
use crate::policy::Principal;

/// Roles that write drafts (within their agency, or province).
pub const EDITORS: &[Role] = &[
    Role::AgencyEditor,
    Role::AgencyAdmin,
    Role::GovernorateAdmin,
];
/// Roles that publish and retire (within their agency, or province).
pub const PUBLISHERS: &[Role] = &[Role::AgencyAdmin, Role::GovernorateAdmin];

/// Why a catalogue change was refused; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the card has {} problem(s)", .0.len())]
    InvalidCard(Vec<Problem>),
    #[error("the form has {} problem(s)", .0.len())]
    InvalidForm(Vec<Problem>),
    /// Missing, or not the caller's to touch: the same answer.
    #[error("not found")]
    NotFound,
    #[error("the latest version is {status}, not {expected}")]
    WrongState { status: String, expected: String },
    #[error("the card names {0}, which does not exist")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CatalogError {
    /// The problems, as lines for the person at the screen.
    pub fn lines(&self, lang: Language) -> Vec<String> {
        let fa = lang == Language::Persian;
        match self {
            CatalogError::InvalidCard(problems) | CatalogError::InvalidForm(problems) => {
                problems.iter().map(|p| p.located(lang)).collect()
            }
            CatalogError::NotFound => vec![if fa { "پیدا نشد." } else { "Not found." }.to_owned()],
            CatalogError::WrongState { status, .. } => vec![if fa {
                format!(
                    "این نسخه در وضعیت «{status}» است و این کار روی آن شدنی نیست؛ صفحه را تازه کنید."
                )
            } else {
                format!("This version is {status}; that cannot be done now. Reload the page.")
            }],
            CatalogError::Unknown(what) => vec![if fa {
                format!("«{what}» وجود ندارد.")
            } else {
                format!("`{what}` does not exist.")
            }],
            CatalogError::Store(_) => vec![
                if fa {
                    "خطایی در سامانه رخ داد. دوباره امتحان کنید."
                } else {
                    "Something went wrong in the system. Try again."
                }
                .to_owned(),
            ],
        }
    }
}

/// A published card as the public sees it.
#[derive(Debug, Clone)]
pub struct PublishedService {
    pub card: ServiceCard,
    pub version: i64,
    pub updated_at: chrono::DateTime<Utc>,
}

/// Everything an editor sees of one service.
#[derive(Debug, Clone)]
pub struct ServiceRecord {
    pub state: DocState,
    pub versions: Vec<VersionRecord>,
    pub history: Vec<HistoryEntry>,
}

fn agency_scope(agency: &str) -> Scope {
    Scope::Agency {
        agency: agency.to_owned(),
        unit: None,
    }
}

impl App {
    /// May `principal` act on `agency`'s catalogue with one of `roles`?
    async fn may_act(
        &self,
        principal: &Principal,
        agency: &str,
        roles: &[Role],
    ) -> Result<bool, StoreError> {
        if !matches!(principal, Principal::Staff(_)) {
            return Ok(false);
        }
        let directory = self.store().org_directory().await?;
        let target = agency_scope(agency);
        Ok(principal
            .grants()
            .iter()
            .any(|g| roles.contains(&g.role()) && g.scope().contains(&target, &directory)))
    }

    /// Loads a card straight to published, for trusted callers (the command line's import and the
    /// demo): checked like any card, but without an editor's role. If the published version
    /// already says exactly this, nothing changes (so loading a file twice is a no-op). Returns
    /// the published version and whether it is new.
    pub async fn load_published_service(
        &self,
        actor: &Actor,
        card: &ServiceCard,
    ) -> Result<(i64, bool), CatalogError> {
        self.check_service(card).await?;
        if let Some(current) = self.published_service(&card.code).await?
            && &current.card == card
        {
            return Ok((current.version, false));
        }
        let version = self.store_service_version(actor, card, None).await?;
        let now = Utc::now();
        let published = audit_entry(
            actor,
            "service.published",
            ("service", &card.code),
            serde_json::json!({ "version": version, "loaded": true }),
        );
        for (from, to, audit) in [
            ("draft", "review", None),
            ("review", "published", Some(&published)),
        ] {
            self.store()
                .set_doc_status(
                    DocKind::Service,
                    &card.code,
                    version,
                    from,
                    to,
                    &actor.id,
                    now,
                    audit,
                    None,
                )
                .await?;
        }
        self.search_changed().await;
        Ok((version, true))
    }

    /// Loads a form straight to published (trusted callers); a no-op when the published version
    /// is the same form. Returns the published version.
    pub async fn load_published_form(
        &self,
        actor: &Actor,
        agency: &str,
        form: &FormSchema,
    ) -> Result<i64, CatalogError> {
        let problems = form.check();
        if !problems.is_empty() {
            return Err(CatalogError::InvalidForm(problems));
        }
        // The body carries its version number; the stored one decides it.
        if let Some((mut current, version)) = self.form(&form.code, None).await? {
            current.version = form.version;
            if &current == form {
                return Ok(version);
            }
        }
        let next = match self.store().doc_state(DocKind::Form, &form.code).await? {
            Some(state) => state.latest_version + 1,
            None => 1,
        };
        let mut numbered = form.clone();
        numbered.version = u32::try_from(next).unwrap_or(u32::MAX);
        let version = self
            .store_form_version(actor, agency, &numbered, None)
            .await?;
        let audit = audit_entry(
            actor,
            "form.published",
            ("form", &form.code),
            serde_json::json!({ "version": version, "loaded": true }),
        );
        self.publish_form_version(actor, &form.code, version, Some(&audit))
            .await?;
        Ok(version)
    }

    /// (Every card's output template is typeset with a sample before it is stored: see
    /// [`output_template_problem`].)
    /// The checks every card passes before it is stored: its own rules, its agency, its forms.
    async fn check_service(&self, card: &ServiceCard) -> Result<(), CatalogError> {
        let directory = self.store().org_directory().await?;
        if directory.agency(&card.agency).is_none() {
            return Err(CatalogError::Unknown(format!("agency:{}", card.agency)));
        }
        let mut problems = card.check();
        if problems.is_empty() {
            problems.extend(output_template_problem(card).await);
        }
        if !problems.is_empty() {
            return Err(CatalogError::InvalidCard(problems));
        }
        for form in &card.forms {
            let exists = self
                .store()
                .doc_version(DocKind::Form, &form.code, i64::from(form.version))
                .await?
                .is_some();
            if !exists {
                return Err(CatalogError::Unknown(format!(
                    "form {} v{}",
                    form.code, form.version
                )));
            }
        }
        Ok(())
    }

    async fn store_service_version(
        &self,
        actor: &Actor,
        card: &ServiceCard,
        audit: Option<&(dyn Fn(i64) -> NewAuditEntry + Sync)>,
    ) -> Result<i64, CatalogError> {
        let body = serde_json::to_string(card).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store()
            .save_version(&card_version(card, body, actor, Utc::now()), audit)
            .await
            .map_err(|e| match e {
                SaveVersionError::OtherAgency { .. } => CatalogError::NotFound,
                SaveVersionError::Store(e) => CatalogError::Store(e),
            })
    }

    /// Makes a just-saved form version the published one.
    async fn publish_form_version(
        &self,
        actor: &Actor,
        code: &str,
        version: i64,
        audit: Option<&NewAuditEntry>,
    ) -> Result<(), StoreError> {
        self.store()
            .set_doc_status(
                DocKind::Form,
                code,
                version,
                "draft",
                "published",
                &actor.id,
                Utc::now(),
                audit,
                None,
            )
            .await?;
        Ok(())
    }

    async fn store_form_version(
        &self,
        actor: &Actor,
        agency: &str,
        form: &FormSchema,
        audit: Option<&(dyn Fn(i64) -> NewAuditEntry + Sync)>,
    ) -> Result<i64, CatalogError> {
        let body = serde_json::to_string(form).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store()
            .save_version(
                &NewVersion {
                    kind: DocKind::Form,
                    code: form.code.clone(),
                    agency: agency.to_owned(),
                    body,
                    title_fa: form.title.fa.clone(),
                    category: String::new(),
                    author: actor.id.clone(),
                    at: Utc::now(),
                },
                audit,
            )
            .await
            .map_err(|e| match e {
                SaveVersionError::OtherAgency { .. } => CatalogError::NotFound,
                SaveVersionError::Store(e) => CatalogError::Store(e),
            })
    }

    /// Saves a card as the next draft version of its service. The card must check clean, name an
    /// agency that exists and within the editor's scope, and forms that exist.
    #[tracing::instrument(skip_all, fields(service = %card.code))]
    pub async fn save_service_draft(
        &self,
        principal: &Principal,
        actor: &Actor,
        card: &ServiceCard,
    ) -> Result<i64, CatalogError> {
        let directory = self.store().org_directory().await?;
        if directory.agency(&card.agency).is_none() {
            return Err(CatalogError::Unknown(format!("agency:{}", card.agency)));
        }
        if !self.may_act(principal, &card.agency, EDITORS).await? {
            return Err(CatalogError::NotFound);
        }
        self.check_service(card).await?;
        // A document an inquiry supplies names one that is registered (once only).
        for document in &card.documents {
            if let Some(code) = document.inquiry.as_deref()
                && self.inquiry_definition(code).await?.is_none()
            {
                return Err(CatalogError::Unknown(format!("inquiry {code}")));
            }
        }
        let audit = |version: i64| {
            audit_entry(
                actor,
                "service.save",
                ("service", &card.code),
                serde_json::json!({ "version": version }),
            )
        };
        self.store_service_version(actor, card, Some(&audit)).await
    }

    /// Moves a service's latest version `version` from `from` to `to`, for a caller holding one
    /// of `roles` over its agency.
    #[allow(clippy::too_many_arguments)]
    async fn move_service(
        &self,
        principal: &Principal,
        actor: &Actor,
        code: &str,
        version: i64,
        (from, to): (&str, &str),
        roles: &[Role],
        note: Option<&str>,
    ) -> Result<(), CatalogError> {
        let state = self
            .store()
            .doc_state(DocKind::Service, code)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if !self.may_act(principal, &state.agency, EDITORS).await? {
            return Err(CatalogError::NotFound);
        }
        if !self.may_act(principal, &state.agency, roles).await? {
            return Err(CatalogError::WrongState {
                status: state.status,
                expected: from.to_owned(),
            });
        }
        let moved = self
            .store()
            .set_doc_status(
                DocKind::Service,
                code,
                version,
                from,
                to,
                &actor.id,
                Utc::now(),
                Some(&audit_entry(
                    actor,
                    &format!("service.{}", if note.is_some() { "returned" } else { to }),
                    ("service", code),
                    serde_json::json!({ "version": version, "note": note }),
                )),
                note,
            )
            .await?;
        if !moved {
            return Err(CatalogError::WrongState {
                status: state.status,
                expected: from.to_owned(),
            });
        }
        if to == "published" || from == "published" {
            self.search_changed().await;
        }
        Ok(())
    }

    /// In review → back to draft, with why: a reviewer returns the card to its editor. The note
    /// (at most 1000 characters, not empty) stays in the card's history.
    #[tracing::instrument(skip_all, fields(service = %code, version = version))]
    pub async fn return_service(
        &self,
        principal: &Principal,
        actor: &Actor,
        code: &str,
        version: i64,
        note: &str,
    ) -> Result<(), CatalogError> {
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 1000 {
            return Err(CatalogError::InvalidCard(vec![
                Problem::new(
                    "return_note",
                    "بنویسید ویرایشگر چه چیزی را باید درست کند (حداکثر ۱۰۰۰ نویسه).",
                    "Write what the editor should fix (at most 1000 characters).",
                )
                .at_named("note", "یادداشت برای ویرایشگر"),
            ]));
        }
        self.move_service(
            principal,
            actor,
            code,
            version,
            ("review", "draft"),
            PUBLISHERS,
            Some(note),
        )
        .await
    }

    /// Draft → in review.
    #[tracing::instrument(skip_all, fields(service = %code, version = version))]
    pub async fn submit_service(
        &self,
        principal: &Principal,
        actor: &Actor,
        code: &str,
        version: i64,
    ) -> Result<(), CatalogError> {
        self.move_service(
            principal,
            actor,
            code,
            version,
            ("draft", "review"),
            EDITORS,
            None,
        )
        .await
    }

    /// In review → published (agency admins and governorate admins only).
    #[tracing::instrument(skip_all, fields(service = %code, version = version))]
    pub async fn publish_service(
        &self,
        principal: &Principal,
        actor: &Actor,
        code: &str,
        version: i64,
    ) -> Result<(), CatalogError> {
        self.move_service(
            principal,
            actor,
            code,
            version,
            ("review", "published"),
            PUBLISHERS,
            None,
        )
        .await
    }

    /// Published → retired: the service leaves the portal.
    #[tracing::instrument(skip_all, fields(service = %code, version = version))]
    pub async fn retire_service(
        &self,
        principal: &Principal,
        actor: &Actor,
        code: &str,
        version: i64,
    ) -> Result<(), CatalogError> {
        self.move_service(
            principal,
            actor,
            code,
            version,
            ("published", "retired"),
            PUBLISHERS,
            None,
        )
        .await
    }

    /// Every service of every agency the principal may edit, with the agency's name, by agency.
    pub async fn services_for_editor(
        &self,
        principal: &Principal,
    ) -> Result<Vec<(String, String, Vec<(DocState, String)>)>, StoreError> {
        let directory = self.store().org_directory().await?;
        let mut out = Vec::new();
        for org in directory.all() {
            if org.kind != pishkhan_store::OrgKind::Agency
                || !self.may_act(principal, &org.code, EDITORS).await?
            {
                continue;
            }
            let mut services = Vec::new();
            for state in self
                .store()
                .docs_of_agency(DocKind::Service, &org.code)
                .await?
            {
                let title = self
                    .store()
                    .doc_version(DocKind::Service, &state.code, state.latest_version)
                    .await?
                    .map(|v| v.title_fa)
                    .unwrap_or_default();
                services.push((state, title));
            }
            out.push((org.code.clone(), org.name_fa.clone(), services));
        }
        Ok(out)
    }

    /// A form's latest version, its state and agency, for someone who may edit it; `None`
    /// otherwise (as for a form that does not exist).
    pub async fn form_for_editor(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Option<(FormSchema, DocState)>, StoreError> {
        let Some(state) = self.store().doc_state(DocKind::Form, code).await? else {
            return Ok(None);
        };
        if !self.may_act(principal, &state.agency, EDITORS).await? {
            return Ok(None);
        }
        let Some(latest) = self
            .store()
            .doc_version(DocKind::Form, code, state.latest_version)
            .await?
        else {
            return Ok(None);
        };
        let form =
            serde_json::from_str(&latest.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((form, state)))
    }

    /// Is there a service with this code (in any state)?
    pub async fn service_exists(&self, code: &str) -> Result<bool, StoreError> {
        Ok(self
            .store()
            .doc_state(DocKind::Service, code)
            .await?
            .is_some())
    }

    /// May the principal publish and retire this agency's cards?
    pub async fn may_publish(
        &self,
        principal: &Principal,
        agency: &str,
    ) -> Result<bool, StoreError> {
        self.may_act(principal, agency, PUBLISHERS).await
    }

    /// A service with all its versions and history, for someone who may edit it; `None`
    /// otherwise (as for a service that does not exist).
    pub async fn service_for_editor(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Option<ServiceRecord>, StoreError> {
        let Some(state) = self.store().doc_state(DocKind::Service, code).await? else {
            return Ok(None);
        };
        if !self.may_act(principal, &state.agency, EDITORS).await? {
            return Ok(None);
        }
        Ok(Some(ServiceRecord {
            versions: self.store().doc_versions(DocKind::Service, code).await?,
            history: self.store().service_history(code).await?,
            state,
        }))
    }

    /// What changed from version `from` to version `to`.
    pub async fn service_diff(
        &self,
        principal: &Principal,
        code: &str,
        from: i64,
        to: i64,
    ) -> Result<Option<Vec<Change>>, StoreError> {
        let Some(record) = self.service_for_editor(principal, code).await? else {
            return Ok(None);
        };
        let body = |n: i64| {
            record
                .versions
                .iter()
                .find(|v| v.version == n)
                .and_then(|v| serde_json::from_str::<serde_json::Value>(&v.body).ok())
        };
        Ok(match (body(from), body(to)) {
            (Some(a), Some(b)) => Some(diff(&a, &b)),
            _ => None,
        })
    }

    /// The published version of one service.
    pub async fn published_service(
        &self,
        code: &str,
    ) -> Result<Option<PublishedService>, StoreError> {
        let Some(state) = self.store().doc_state(DocKind::Service, code).await? else {
            return Ok(None);
        };
        let Some(number) = state.published_version else {
            return Ok(None);
        };
        let Some(version) = self
            .store()
            .doc_version(DocKind::Service, code, number)
            .await?
        else {
            return Ok(None);
        };
        let card =
            serde_json::from_str(&version.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(PublishedService {
            card,
            version: number,
            updated_at: version.created_at,
        }))
    }

    /// Published services, filtered and paged; with the total.
    pub async fn published_services(
        &self,
        filter: &ServiceFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PublishedService>, i64), StoreError> {
        let (rows, total) = self
            .store()
            .published_services(filter, limit, offset)
            .await?;
        let services = rows
            .into_iter()
            .map(|(_, version)| {
                let card = serde_json::from_str(&version.body)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(PublishedService {
                    card,
                    version: version.version,
                    updated_at: version.created_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((services, total))
    }

    /// Saves a form as a new version (checked first) and publishes it at once when the caller
    /// may publish for the agency; otherwise it waits as a draft.
    #[tracing::instrument(skip_all, fields(form = %form.code, agency = %agency))]
    pub async fn save_form(
        &self,
        principal: &Principal,
        actor: &Actor,
        agency: &str,
        form: &FormSchema,
    ) -> Result<i64, CatalogError> {
        if !self.may_act(principal, agency, EDITORS).await? {
            return Err(CatalogError::NotFound);
        }
        let problems = form.check();
        if !problems.is_empty() {
            return Err(CatalogError::InvalidForm(problems));
        }
        let audit = |version: i64| {
            audit_entry(
                actor,
                "form.save",
                ("form", &form.code),
                serde_json::json!({ "version": version }),
            )
        };
        let version = self
            .store_form_version(actor, agency, form, Some(&audit))
            .await?;
        if self.may_act(principal, agency, PUBLISHERS).await? {
            self.publish_form_version(actor, &form.code, version, None)
                .await?;
        }
        Ok(version)
    }

    /// A form's schema: the given version, or the published one.
    pub async fn form(
        &self,
        code: &str,
        version: Option<i64>,
    ) -> Result<Option<(FormSchema, i64)>, StoreError> {
        let number = match version {
            Some(n) => n,
            None => match self.store().doc_state(DocKind::Form, code).await? {
                Some(DocState {
                    published_version: Some(n),
                    ..
                }) => n,
                _ => return Ok(None),
            },
        };
        let Some(record) = self
            .store()
            .doc_version(DocKind::Form, code, number)
            .await?
        else {
            return Ok(None);
        };
        let form =
            serde_json::from_str(&record.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((form, number)))
    }
}

impl App {
    /// The whole published catalogue as CPSV-AP 3.2.0 JSON-LD, with IRIs under `base`.
    pub async fn catalogue_jsonld(&self, base: &str) -> Result<serde_json::Value, StoreError> {
        let (services, _) = self
            .published_services(&ServiceFilter::default(), i64::MAX, 0)
            .await?;
        let directory = self.store().org_directory().await?;
        let provinces = self.store().provinces().await?;
        let cards: Vec<(ServiceCard, pishkhan_domain::cpsv::Authority)> = services
            .into_iter()
            .filter_map(|service| {
                let agency = directory.agency(&service.card.agency)?;
                let province_fa = provinces
                    .iter()
                    .find(|p| p.code == agency.province)
                    .map(|p| p.name_fa.clone())
                    .unwrap_or_default();
                let authority = pishkhan_domain::cpsv::Authority {
                    code: agency.code.clone(),
                    name_fa: agency.name_fa.clone(),
                    province: agency.province.clone(),
                    province_fa,
                };
                Some((service.card, authority))
            })
            .collect();
        Ok(pishkhan_domain::cpsv::catalogue(base, &cards))
    }
}

/// A card's next stored version: its JSON `body`, written by `actor` at `at`.
pub(crate) fn card_version(
    card: &ServiceCard,
    body: String,
    actor: &Actor,
    at: chrono::DateTime<Utc>,
) -> NewVersion {
    NewVersion {
        kind: DocKind::Service,
        code: card.code.clone(),
        agency: card.agency.clone(),
        body,
        title_fa: card.title.fa.clone(),
        category: card.category.code().to_owned(),
        author: actor.id.clone(),
        at,
    }
}

/// A card's own output template, typeset with a sample output: refused with the line of its
/// first error, so an output never fails to print when a workflow issues it.
pub async fn output_template_problem(card: &ServiceCard) -> Option<pishkhan_domain::Problem> {
    let body = card.output_template.as_ref()?.typst.clone()?;
    let checked =
        tokio::task::spawn_blocking(move || pishkhan_render::check_output_template(&body)).await;
    let problem = match checked {
        Ok(Ok(())) => return None,
        Ok(Err(problem)) => problem,
        Err(e) => pishkhan_render::TemplateProblem {
            line: None,
            message: e.to_string(),
        },
    };
    let line = problem.line.unwrap_or(1);
    Some(
        pishkhan_domain::Problem::new(
            "template_error",
            format!(
                "قالب خروجی در سطر {} خطا دارد: {}",
                pishkhan_domain::text::to_persian_digits(&line.to_string()),
                problem.message
            ),
            format!(
                "The output template has an error on line {line}: {}",
                problem.message
            ),
        )
        .at("output_template.typst"),
    )
}
