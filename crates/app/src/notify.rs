//! The worker that empties the outbox's notifications: each `notify.sms` goes through the SMS
//! provider, each `notify.email` to the e-mail file (`email-outbox.jsonl` in the data folder,
//! until a mail relay is configured). A failed delivery is tried again later, with a growing
//! pause; a claimed message another node was sending when it died is retried when its lease
//! ends (`jobs.rs`). Deliveries to agencies' webhooks are the other kind of job (`webhooks.rs`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use pishkhan_domain::id::MobileNumber;
use tokio::io::AsyncWriteExt;

use crate::App;
use crate::jobs::{JobKind, Outcome};
use crate::sms::SmsMessage;

/// Where e-mails are written while no relay is configured.
pub const EMAIL_FILE_NAME: &str = "email-outbox.jsonl";

impl App {
    /// Delivers the notifications that are due, batch after batch while there is work (at most
    /// [`jobs::ROUNDS`](crate::jobs::ROUNDS) batches a call, so other jobs get their turn);
    /// answers (delivered, failed). See `jobs.rs` for retries and dead letters.
    #[tracing::instrument(skip_all)]
    pub async fn deliver_notifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), pishkhan_store::StoreError> {
        let (mut sent, mut failed) = (0, 0);
        for _ in 0..crate::jobs::ROUNDS {
            let due = self.claim_jobs(JobKind::Notification, now).await?;
            let claimed = due.len();
            let mut outcomes = Vec::with_capacity(claimed);
            for job in due {
                let outcome = match self.deliver(&job.topic, &job.payload).await {
                    Ok(()) => Outcome::Done,
                    Err(problem) => Outcome::Failed(problem),
                };
                outcomes.push((job, outcome));
            }
            let (done, not) = self.finish_jobs(JobKind::Notification, outcomes).await?;
            (sent, failed) = (sent + done, failed + not);
            if claimed < usize::try_from(crate::jobs::BATCH).unwrap_or(usize::MAX) {
                break;
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

    /// The background jobs of applications, on every node: notifications and webhook deliveries
    /// every few seconds, escalation of overdue work every minute. Runs until the task is aborted.
    pub async fn run_application_jobs(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            let full = crate::jobs::ROUNDS * usize::try_from(crate::jobs::BATCH).unwrap_or(0);
            let mut busy = false;
            match self.deliver_notifications(Utc::now()).await {
                Ok((sent, failed)) => busy |= sent + failed >= full,
                Err(e) => tracing::warn!(error = %e, "notifications: the outbox could not be read"),
            }
            match self.deliver_webhooks(Utc::now()).await {
                Ok((sent, failed)) => busy |= sent + failed >= full,
                Err(e) => tracing::warn!(error = %e, "webhooks: the outbox could not be read"),
            }
            // A run that stopped at its limit left work behind: the next one starts at once.
            if busy {
                tick.reset_immediately();
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
