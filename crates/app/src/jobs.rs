//! Background jobs: the outbox's rows, typed by their topic. Each kind says how many attempts a
//! job gets and how long to wait between them; the runner claims due jobs in batches (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes share the work without taking the
//! same job), finishes the delivered ones together in one statement, retries the failed ones
//! later and dead-letters a job that fails its last attempt: it waits, listed
//! (`pishkhan outbox dead`, the exchange screen), until someone replays it.
//!
//! A job claimed by a node that dies is taken again when its lease ends; so each job runs at
//! least once, and what it delivers carries a stable id for the receiver to apply it once.

use chrono::{DateTime, TimeDelta, Utc};
use pishkhan_store::{DeadLetter, OutboxRecord, StoreError};

use crate::App;
use crate::audit::{Actor, audit_entry};

/// How long a claimed job is this worker's before another may take it.
pub const LEASE: TimeDelta = TimeDelta::minutes(2);
/// Jobs claimed at once.
pub const BATCH: i64 = 100;
/// Batches one run takes at most (so other kinds get their turn).
pub const ROUNDS: usize = 20;

/// The kinds of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// A text message or e-mail to a person (`notify.sms`, `notify.email`).
    Notification,
    /// An event sent to an agency's webhook (`webhook.deliver`; subject: the agency).
    Webhook,
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Notification, JobKind::Webhook];

    /// The start of the topics of this kind.
    pub fn topics(self) -> &'static str {
        match self {
            JobKind::Notification => "notify.",
            JobKind::Webhook => "webhook.",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            JobKind::Notification => "پیامک و ایمیل",
            JobKind::Webhook => "وب‌هوک دستگاه",
        }
    }

    pub fn of_topic(topic: &str) -> Option<JobKind> {
        JobKind::ALL
            .into_iter()
            .find(|k| topic.starts_with(k.topics()))
    }

    /// Attempts before a job is dead-lettered: notifications about four hours of tries,
    /// webhooks about fourteen hours (an agency's system down overnight loses nothing).
    pub fn max_attempts(self) -> i64 {
        match self {
            JobKind::Notification => 10,
            JobKind::Webhook => 18,
        }
    }

    /// The pause before try `attempts + 1`. Notifications: 30 s, 2 min, 4.5 min … at most an
    /// hour. Webhooks: exponential from 10 s, at most two hours, with "full jitter" from
    /// `jitter` (0..1) over its second half, so receivers coming back are not hit all at once.
    pub fn backoff(self, attempts: i64, jitter: f64) -> TimeDelta {
        match self {
            JobKind::Notification => {
                let n = attempts.clamp(0, 20) + 1;
                TimeDelta::seconds((30 * n * n).min(3600))
            }
            JobKind::Webhook => {
                let full = (10_i64 << attempts.clamp(0, 20)).min(7200);
                let jitter = jitter.clamp(0.0, 1.0);
                TimeDelta::milliseconds((full as f64 * 1000.0 * (0.5 + 0.5 * jitter)) as i64)
            }
        }
    }
}

/// How one job went.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    Failed(String),
    /// Not tried (its receiver did not answer another job): due again soon, no attempt counted.
    Deferred,
}

/// A random fraction for jitter.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 11) as f64 / (1u64 << 53) as f64
}

impl App {
    /// Takes up to [`BATCH`] due jobs of `kind` for [`LEASE`].
    pub(crate) async fn claim_jobs(
        &self,
        kind: JobKind,
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        self.store()
            .claim_outbox(kind.topics(), now, LEASE.num_milliseconds(), BATCH)
            .await
    }

    /// Records how claimed jobs went: the done ones finished together, the failed ones retried
    /// after their pause or dead-lettered after their last attempt, the deferred ones put back.
    /// Answers (done, failed).
    pub(crate) async fn finish_jobs(
        &self,
        kind: JobKind,
        outcomes: Vec<(OutboxRecord, Outcome)>,
    ) -> Result<(usize, usize), StoreError> {
        let now = Utc::now();
        let (mut done, mut deferred, mut failed) = (Vec::new(), Vec::new(), 0);
        for (job, outcome) in outcomes {
            match outcome {
                Outcome::Done => done.push(job.id),
                Outcome::Deferred => deferred.push(job.id),
                Outcome::Failed(problem) => {
                    let last = job.attempts + 1 >= kind.max_attempts();
                    if last {
                        tracing::error!(id = job.id, topic = %job.topic, problem = %problem, "job dead-lettered after its last attempt");
                    } else {
                        tracing::warn!(id = job.id, topic = %job.topic, problem = %problem, "job failed; will retry");
                    }
                    let retry = (!last).then(|| now + kind.backoff(job.attempts, jitter()));
                    self.store()
                        .outbox_failed(job.id, &problem, now, retry)
                        .await?;
                    failed += 1;
                }
            }
        }
        self.store().outbox_done_many(&done, now).await?;
        self.store()
            .outbox_defer(&deferred, now + kind.backoff(0, jitter()))
            .await?;
        Ok((done.len(), failed))
    }

    /// Dead-lettered jobs of `kind` (all kinds: `None`), of one agency's webhook when `agency`
    /// is given, newest first.
    pub async fn dead_letters(
        &self,
        kind: Option<JobKind>,
        agency: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let topics = match (kind, agency) {
            (_, Some(_)) => JobKind::Webhook.topics(),
            (Some(kind), None) => kind.topics(),
            (None, None) => "",
        };
        self.store().dead_letters(topics, agency, limit).await
    }

    /// Tries a dead-lettered job again (attempts counted from zero), on the record; `false` if
    /// it is not dead-lettered — or, with `agency`, not that agency's webhook's.
    pub async fn replay_dead_letter(
        &self,
        actor: &Actor,
        id: i64,
        agency: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some(dead) = self.store().dead_letter(id).await? else {
            return Ok(false);
        };
        if let Some(agency) = agency
            && (JobKind::of_topic(&dead.topic) != Some(JobKind::Webhook) || dead.subject != agency)
        {
            return Ok(false);
        }
        let mut unit = self.store().begin_write().await?;
        if !unit.replay_outbox(id, Utc::now()).await? {
            return Ok(false);
        }
        unit.audit(&audit_entry(
            actor,
            "outbox.replay",
            ("outbox", &id.to_string()),
            serde_json::json!({ "topic": dead.topic, "subject": dead.subject }),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_slow_down_up_to_an_hour() {
        let n = JobKind::Notification;
        assert_eq!(n.backoff(0, 0.3), TimeDelta::seconds(30));
        assert_eq!(n.backoff(1, 0.9), TimeDelta::seconds(120));
        assert!(n.backoff(5, 0.0) < n.backoff(6, 0.0));
        assert_eq!(n.backoff(100, 0.0), TimeDelta::seconds(3600));
    }

    #[test]
    fn webhooks_back_off_exponentially_with_jitter() {
        let w = JobKind::Webhook;
        assert_eq!(w.backoff(0, 1.0), TimeDelta::seconds(10));
        assert_eq!(w.backoff(0, 0.0), TimeDelta::seconds(5));
        assert_eq!(w.backoff(3, 1.0), TimeDelta::seconds(80));
        assert_eq!(w.backoff(30, 1.0), TimeDelta::seconds(7200));
        assert!(w.backoff(30, 0.0) >= TimeDelta::seconds(3600));
        let total: i64 = (0..w.max_attempts() - 1)
            .map(|a| w.backoff(a, 0.5).num_seconds())
            .sum();
        assert!((12 * 3600..=30 * 3600).contains(&total), "{total}");
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn topics_name_their_kind() {
        assert_eq!(JobKind::of_topic("notify.sms"), Some(JobKind::Notification));
        assert_eq!(JobKind::of_topic("webhook.deliver"), Some(JobKind::Webhook));
        assert_eq!(JobKind::of_topic("application.submitted"), None);
    }
}
