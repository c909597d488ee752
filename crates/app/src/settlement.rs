//! Reconciling the payment gateway's daily settlement file with Pishkhan's online payments
//! (`pishkhan_domain::settlement` has the rules). Reading changes nothing; the run is audited
//! with what did not match, for a person to act on.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use pishkhan_domain::Problem;
use pishkhan_domain::settlement::{OurPayment, Reconciliation, parse_settlement, reconcile};
use pishkhan_store::{PaymentRecord, StoreError};
use serde_json::json;

use crate::App;
use crate::audit::{Actor, audit_entry};

/// The most mismatches the audit line keeps in full (the count is always kept).
const AUDITED_MISMATCHES: usize = 200;

/// Why a file was not reconciled.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The file is not a settlement file: each problem on its line.
    #[error("the settlement file has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// No terminal was named and no payment gateway is configured.
    #[error("no payment gateway is configured: name the terminal the file is for")]
    NoGateway,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn ours(p: &PaymentRecord) -> OurPayment {
    OurPayment {
        number: p.number.clone(),
        token: p.token.clone().unwrap_or_default(),
        reference: p.reference.clone(),
        rials: p.rials,
        state: p.state.clone(),
        settled_on: (p.state == "settled")
            .then(|| {
                p.ended_at
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|at| at.date_naive())
            })
            .flatten(),
    }
}

impl App {
    /// Reconciles the gateway's settlement file of `day` (the bank's calendar day, UTC) with
    /// the online payments asked for or ended around it, and those its lines name.
    /// `terminal`: the gateway terminal the file is for; the configured one when `None`.
    pub async fn reconcile_settlement(
        &self,
        actor: &Actor,
        terminal: Option<&str>,
        day: NaiveDate,
        file: &str,
    ) -> Result<Reconciliation, ReconcileError> {
        let terminal = terminal
            .map(str::to_owned)
            .or_else(|| self.config().payment.as_ref().map(|g| g.terminal.clone()))
            .ok_or(ReconcileError::NoGateway)?;
        let lines = parse_settlement(file).map_err(ReconcileError::Invalid)?;
        // A payment is settled within hours of being asked; three days either side is ample,
        // and a line naming an older token is looked up by itself.
        let start = day.and_time(NaiveTime::MIN).and_utc();
        let mut known: BTreeMap<String, PaymentRecord> = self
            .store()
            .online_payments_around(start - TimeDelta::days(3), start + TimeDelta::days(4))
            .await?
            .into_iter()
            .filter_map(|p| p.token.clone().map(|t| (t, p)))
            .collect();
        for line in &lines {
            if !known.contains_key(&line.token)
                && let Some(p) = self.store().payment_by_token(&line.token).await?
            {
                known.insert(line.token.clone(), p);
            }
        }
        let ours: Vec<OurPayment> = known.values().map(ours).collect();
        let result = reconcile(day, &terminal, &lines, &ours);
        let listed: Vec<_> = result
            .mismatches
            .iter()
            .take(AUDITED_MISMATCHES)
            .map(|m| json!({ "code": m.code(), "text": m.describe_fa() }))
            .collect();
        self.store()
            .append_audit(&audit_entry(
                actor,
                "payments.reconcile",
                ("settlement", &format!("{terminal}:{day}")),
                json!({
                    "lines": lines.len(), "matched": result.matched,
                    "matched_rials": result.matched_rials,
                    "mismatches": result.mismatches.len(), "listed": listed,
                }),
            ))
            .await?;
        Ok(result)
    }
}
