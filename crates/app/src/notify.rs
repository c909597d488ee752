//! The worker that empties the outbox's notifications: each `notify.sms` goes through the SMS
//! provider, each `notify.email` to the e-mail file (`email-outbox.jsonl` in the data folder,
//! until a mail relay is configured). A failed delivery is tried again later, with a growing
//! pause; a claimed message another node was sending when it died is retried when its lease
//! ends. Other outbox topics (`application.*`) wait for the exchange with agency systems.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pishkhan_domain::id::MobileNumber;
use tokio::io::AsyncWriteExt;

use crate::App;
use crate::sms::SmsMessage;

/// Where e-mails are written while no relay is configured.
pub const EMAIL_FILE_NAME: &str = "email-outbox.jsonl";

/// How long a claimed message is this worker's before another may take it.
const LEASE: TimeDelta = TimeDelta::minutes(2);

/// Messages claimed at once.
const BATCH: i64 = 100;
/// Batches a call takes at most.
const ROUNDS: usize = 20;
/// Attempts before a message is dead-lettered (with the pauses below, about four hours).
pub const MAX_ATTEMPTS: i64 = 10;

/// The pause before try `attempts + 1`: 30 s, 2 min, 4.5 min … at most an hour.
fn backoff(attempts: i64) -> TimeDelta {
    let n = attempts.clamp(0, 20) + 1;
    TimeDelta::seconds((30 * n * n).min(3600))
}

impl App {
    /// Delivers the notifications that are due, batch after batch while there is work (at most
    /// [`ROUNDS`] batches a call, so other jobs get their turn); answers (delivered, failed).
    /// Deliveries are finished together, one statement a batch; a message that fails its
    /// [`MAX_ATTEMPTS`]th attempt is dead-lettered, not retried (`pishkhan outbox dead`).
    #[tracing::instrument(skip_all)]
    pub async fn deliver_notifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), pishkhan_store::StoreError> {
        let (mut sent, mut failed) = (0, 0);
        for _ in 0..ROUNDS {
            let due = self
                .store()
                .claim_outbox("notify.", now, LEASE.num_milliseconds(), BATCH)
                .await?;
            let claimed = due.len();
            let mut delivered = Vec::with_capacity(claimed);
            for message in due {
                match self.deliver(&message.topic, &message.payload).await {
                    Ok(()) => delivered.push(message.id),
                    Err(problem) => {
                        let last = message.attempts + 1 >= MAX_ATTEMPTS;
                        if last {
                            tracing::error!(id = message.id, topic = %message.topic, problem = %problem, "notification dead-lettered after its last attempt");
                        } else {
                            tracing::warn!(id = message.id, topic = %message.topic, problem = %problem, "notification not delivered; will retry");
                        }
                        let retry = (!last).then(|| Utc::now() + backoff(message.attempts));
                        self.store()
                            .outbox_failed(message.id, &problem, Utc::now(), retry)
                            .await?;
                        failed += 1;
                    }
                }
            }
            sent += delivered.len();
            self.store()
                .outbox_done_many(&delivered, Utc::now())
                .await?;
            if claimed < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        Ok((sent, failed))
    }

    /// The notifications that failed their last attempt, newest first.
    pub async fn dead_notifications(
        &self,
        limit: i64,
    ) -> Result<Vec<pishkhan_store::DeadLetter>, pishkhan_store::StoreError> {
        self.store().dead_letters("notify.", limit).await
    }

    /// Tries a dead-lettered message again (attempts counted from zero), on the record; `false`
    /// if it is not dead-lettered.
    pub async fn replay_dead_letter(
        &self,
        actor: &crate::audit::Actor,
        id: i64,
    ) -> Result<bool, pishkhan_store::StoreError> {
        let mut unit = self.store().begin_write().await?;
        if !unit.replay_outbox(id, Utc::now()).await? {
            return Ok(false);
        }
        unit.audit(&crate::audit::audit_entry(
            actor,
            "outbox.replay",
            ("outbox", &id.to_string()),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }

    async fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        let payload: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| format!("payload: {e}"))?;
        let field = |name: &str| payload.get(name).and_then(|v| v.as_str()).unwrap_or("");
        match topic {
            "notify.sms" => {
                let to = MobileNumber::parse(field("to")).map_err(|e| e.en)?;
                self.sms()
                    .send(&SmsMessage {
                        to,
                        text: field("text").to_owned(),
                        code: None,
                    })
                    .await
                    .map_err(|e| e.to_string())
            }
            "notify.email" => {
                let line = serde_json::json!({
                    "at": Utc::now().to_rfc3339(),
                    "to": field("to"),
                    "text": field("text"),
                })
                .to_string()
                    + "\n";
                let path = self.config().data_dir.join(EMAIL_FILE_NAME);
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                file.write_all(line.as_bytes())
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                file.sync_data()
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
            other => Err(format!("no deliverer for topic {other}")),
        }
    }

    /// The background jobs of applications, on every node: notifications every few seconds,
    /// escalation of overdue work every minute. Runs until the task is aborted.
    pub async fn run_application_jobs(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = self.deliver_notifications(Utc::now()).await {
                tracing::warn!(error = %e, "notifications: the outbox could not be read");
            }
            if rounds.is_multiple_of(20) {
                match self.escalate_overdue(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(escalated = n, "overdue applications escalated"),
                    Err(e) => tracing::warn!(error = %e, "escalation could not run"),
                }
            }
            rounds = rounds.wrapping_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_slow_down_up_to_an_hour() {
        assert_eq!(backoff(0), TimeDelta::seconds(30));
        assert_eq!(backoff(1), TimeDelta::seconds(120));
        assert!(backoff(5) < backoff(6));
        assert_eq!(backoff(100), TimeDelta::seconds(3600));
    }
}
