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

/// The pause before try `attempts + 1`: 30 s, 2 min, 4.5 min … at most an hour.
fn backoff(attempts: i64) -> TimeDelta {
    let n = attempts.clamp(0, 20) + 1;
    TimeDelta::seconds((30 * n * n).min(3600))
}

impl App {
    /// Delivers the notifications that are due; answers (delivered, failed).
    #[tracing::instrument(skip_all)]
    pub async fn deliver_notifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), pishkhan_store::StoreError> {
        let due = self
            .store()
            .claim_outbox("notify.", now, LEASE.num_milliseconds(), 100)
            .await?;
        let (mut sent, mut failed) = (0, 0);
        for message in due {
            let result = self.deliver(&message.topic, &message.payload).await;
            match result {
                Ok(()) => {
                    self.store().outbox_done(message.id, Utc::now()).await?;
                    sent += 1;
                }
                Err(problem) => {
                    tracing::warn!(id = message.id, topic = %message.topic, problem = %problem, "notification not delivered; will retry");
                    self.store()
                        .outbox_failed(message.id, &problem, Utc::now() + backoff(message.attempts))
                        .await?;
                    failed += 1;
                }
            }
        }
        Ok((sent, failed))
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
