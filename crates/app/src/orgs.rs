//! Agencies and centres: the organisations staff roles are scoped to.

use chrono::Utc;
use pishkhan_domain::id::Problem;
use pishkhan_domain::identity::Scope;
use pishkhan_store::{AddOrgError, OrgDirectory, OrgKind, Province, StoreError};

use crate::App;
use crate::audit::Actor;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("{}", .0.en)]
    Invalid(Problem),
    #[error("{0}")]
    Add(#[from] AddOrgError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Adds an agency or a centre to a province, on the record.
    #[tracing::instrument(skip_all, fields(code = %code, province = %province))]
    pub async fn add_org(
        &self,
        actor: &Actor,
        kind: OrgKind,
        code: &str,
        province: &str,
        name_fa: &str,
    ) -> Result<(), OrgError> {
        // A code must be usable inside a scope (`agency:CODE`, `centre:CODE`).
        let scope_text = match kind {
            OrgKind::Agency => format!("agency:{code}"),
            OrgKind::Centre => format!("centre:{code}"),
        };
        Scope::parse(&scope_text).map_err(OrgError::Invalid)?;
        if name_fa.trim().is_empty() {
            return Err(OrgError::Invalid(Problem::new(
                "empty_name",
                "نام را بنویسید.",
                "Write the name.",
            )));
        }
        let kind_name = match kind {
            OrgKind::Agency => "agency",
            OrgKind::Centre => "centre",
        };
        let audit = crate::audit::audit_entry(
            actor,
            &format!("{kind_name}.create"),
            (kind_name, code),
            serde_json::json!({ "province": province, "name": name_fa.trim() }),
        );
        self.store()
            .add_org(kind, code, province, name_fa.trim(), Utc::now(), &audit)
            .await?;
        self.public_changed();
        Ok(())
    }

    pub async fn org_directory(&self) -> Result<OrgDirectory, StoreError> {
        self.store().org_directory().await
    }

    pub async fn provinces(&self) -> Result<Vec<Province>, StoreError> {
        self.store().provinces().await
    }
}
