//! The audit log, as the rest of the app uses it: who did what to which record, from where.

use chrono::Utc;
use pishkhan_domain::audit::{ChainBreak, verify_chain};
use pishkhan_store::{NewAuditEntry, StoreError};

use crate::App;

/// Who acted, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A user id, or `cli:<os user>` for the command line.
    pub id: String,
    /// An IP address, or `cli`.
    pub source: String,
}

impl Actor {
    /// The person at the command line (the OS user, as the shell reports it).
    pub fn command_line() -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Actor {
            id: format!("cli:{user}"),
            source: "cli".to_owned(),
        }
    }
}

/// An entry for the audit log, to be written with the change it records (in its transaction).
pub(crate) fn audit_entry(
    actor: &Actor,
    action: &str,
    target: (&str, &str),
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at: Utc::now(),
        actor: actor.id.clone(),
        action: action.to_owned(),
        target_kind: target.0.to_owned(),
        target_id: target.1.to_owned(),
        source: actor.source.clone(),
        details: details.to_string(),
    }
}

/// What `verify_audit` found.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log is broken: {0}")]
    Broken(ChainBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Records one action in the audit log.
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: (&str, &str),
        details: serde_json::Value,
    ) -> Result<i64, StoreError> {
        self.store()
            .append_audit(&audit_entry(actor, action, target, details))
            .await
    }

    /// Like [`App::record`], through the group-commit writer: durable before it returns, sharing
    /// one commit with the writes waiting beside it (for entries written on every request, such
    /// as an agency system's reads).
    pub async fn record_batched(
        &self,
        actor: &Actor,
        action: &str,
        target: (&str, &str),
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        match self
            .store()
            .append_audit_batched(audit_entry(actor, action, target, details))
            .await
        {
            Ok(()) => Ok(()),
            Err(pishkhan_store::WriteError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::BatchFailed(e.to_string())),
        }
    }

    /// Walks the whole chain; returns how many entries it holds, or names the first break.
    pub async fn verify_audit(&self) -> Result<i64, AuditError> {
        let (entries, head) = self.store().audit_chain().await?;
        verify_chain(entries, head).map_err(AuditError::Broken)
    }
}
