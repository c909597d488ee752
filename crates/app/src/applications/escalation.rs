//! Overdue work: each application past its state's deadline is escalated to the agency's admins,
//! once per state, even with several nodes.

use super::*;

impl App {
    /// Escalates every open application whose state's deadline has passed: once per state, to
    /// the agency's admins (the supervisors), with a notice in the outbox. Safe on several nodes
    /// at once (each escalation is a conditional update). Returns how many were escalated.
    #[tracing::instrument(skip_all)]
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let today = JalaliDate::in_iran(now).format_numeric();
        let mut escalated = 0;
        loop {
            let due = self.store().overdue_unescalated(&today, 100).await?;
            if due.is_empty() {
                return Ok(escalated);
            }
            let mut progressed = false;
            for row in due {
                let events = vec![EventKind::Overdue.about(
                    &row.agency,
                    &row.code,
                    json!({
                        "code": row.code,
                        "service": row.service,
                        "state": row.state,
                        "deadline": row.deadline,
                    }),
                )];
                let audit = NewAuditEntry {
                    at: now,
                    actor: "system:escalation".into(),
                    action: "application.escalate".into(),
                    target_kind: "application".into(),
                    target_id: row.code.clone(),
                    source: "worker".into(),
                    details: json!({ "state": row.state, "deadline": row.deadline }).to_string(),
                };
                match self
                    .store()
                    .mark_escalated(&row.code, row.revision, now, &events, &audit)
                    .await
                {
                    Ok(true) => {
                        escalated += 1;
                        progressed = true;
                    }
                    Ok(false) => {}
                    Err(WriteError::Store(e)) => return Err(e),
                    Err(e) => return Err(StoreError::BatchFailed(e.to_string())),
                }
            }
            if !progressed {
                return Ok(escalated);
            }
        }
    }
}
