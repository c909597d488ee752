//! Each agency's webhook: its events (`events.rs`) sent to the URL its admin registered, signed
//! as the Standard Webhooks specification says (<https://www.standardwebhooks.com/>):
//!
//! - `webhook-id`: the event's id (`evt_…`), the same on every retry — the receiver's key for
//!   applying an event once;
//! - `webhook-timestamp`: when this attempt was sent, in seconds since the epoch — a receiver
//!   refuses one more than five minutes from its own clock (a replay);
//! - `webhook-signature`: `v1,BASE64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))`, once per
//!   secret in use, separated by spaces: after a rotation the old secret signs too, for the
//!   overlap the admin chose, so the agency can switch without refusing anything.
//!
//! The secret (`whsec_` and base64 of 32 random bytes) is shown once, when it is made, and kept
//! sealed (`sealed.rs`). Deliveries are outbox jobs (`jobs.rs`): queued as the webhook follows
//! its agency's feed, retried with exponential backoff and jitter, dead-lettered after their
//! last attempt; an agency that does not answer never holds up another's.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use pishkhan_domain::Problem;
use pishkhan_domain::identity::{RoleGrant, Scope};
use pishkhan_store::{FeedEvent, OutboxRecord, StoreError, WebhookRecord};
use sha2::Sha256;

use crate::App;
use crate::audit::{Actor, audit_entry};
use crate::jobs::{JobKind, Outcome};
use crate::policy::{Principal, may_grant};
use crate::secret::Secret;

/// The prefix of a webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a receiver lets a timestamp be from its clock.
pub const TOLERANCE: TimeDelta = TimeDelta::minutes(5);
/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest URL an admin may register.
const MAX_URL: usize = 500;

/// An agency's webhook as its admin sees it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub agency: String,
    pub url: String,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How an agency's exchange stands (the exchange screen).
#[derive(Debug, Clone)]
pub struct ExchangeStatus {
    pub agency: String,
    pub webhook: Option<Webhook>,
    /// Events written for the agency so far.
    pub events: i64,
    /// Deliveries queued or being retried.
    pub waiting: i64,
    /// Deliveries that failed their last attempt.
    pub dead: i64,
}

/// A delivery that failed its last attempt, with the event it carried.
#[derive(Debug, Clone)]
pub struct DeadDelivery {
    /// The job's id (to replay it).
    pub id: i64,
    pub event: String,
    pub kind: String,
    pub application: String,
    pub attempts: i64,
    pub last_error: String,
    pub dead_at: DateTime<Utc>,
}

/// Why a webhook could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The person may not look after this agency's systems (or it does not exist).
    #[error("not allowed")]
    NotAllowed,
    #[error("{}", .0.en)]
    Invalid(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn millis(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or_default()
}

impl From<WebhookRecord> for Webhook {
    fn from(r: WebhookRecord) -> Webhook {
        Webhook {
            agency: r.agency,
            url: r.url,
            previous_until: r.previous_until.map(millis),
            created_at: millis(r.created_at),
            updated_at: millis(r.updated_at),
        }
    }
}

/// Where a sealed webhook secret belongs (a sealed secret moved to another agency does not open).
pub(crate) fn secret_place(agency: &str) -> String {
    format!("webhook:{agency}")
}

/// A new secret, in the specification's form.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    bytes[..16].copy_from_slice(a.as_bytes());
    bytes[16..].copy_from_slice(b.as_bytes());
    format!("{SECRET_PREFIX}{}", BASE64.encode(&bytes))
}

/// The signature of one message under one secret (`v1,…`); `None` if the secret is malformed.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = BASE64
        .decode(secret.strip_prefix(SECRET_PREFIX)?.as_bytes())
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        BASE64.encode(&mac.finalize().into_bytes())
    ))
}

/// Why a received message is refused (what the simulator, and the documentation, check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("a webhook header is missing")]
    MissingHeader,
    #[error("the timestamp is too old or too far ahead")]
    Stale,
    #[error("no signature matches")]
    BadSignature,
}

/// Checks a received message against the receiver's secrets, as a receiver must: a timestamp
/// within [`TOLERANCE`] of `now`, and one of the `v1` signatures made with one of the secrets
/// (compared in constant time).
pub fn verify(
    secrets: &[&str],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    if id.is_empty() || timestamp.is_empty() || signatures.is_empty() {
        return Err(VerifyError::MissingHeader);
    }
    let ts: i64 = timestamp.parse().map_err(|_| VerifyError::Stale)?;
    if (now.timestamp() - ts).abs() > TOLERANCE.num_seconds() {
        return Err(VerifyError::Stale);
    }
    for secret in secrets {
        let Some(key) = secret
            .strip_prefix(SECRET_PREFIX)
            .and_then(|s| BASE64.decode(s.as_bytes()).ok())
        else {
            continue;
        };
        for given in signatures.split(' ') {
            let Some(given) = given
                .strip_prefix("v1,")
                .and_then(|s| BASE64.decode(s.as_bytes()).ok())
            else {
                continue;
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
                continue;
            };
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            if mac.verify_slice(&given).is_ok() {
                return Ok(());
            }
        }
    }
    Err(VerifyError::BadSignature)
}

/// A URL an agency may register: `https://…`, or `http://` to this machine only (an adapter
/// beside Pishkhan, the demo's simulator); no credentials in it.
pub fn check_url(url: &str) -> Result<reqwest::Url, Problem> {
    let bad = |fa: &str, en: &str| Problem::new("webhook_url_invalid", fa, en);
    let url = url.trim();
    if url.is_empty() || url.len() > MAX_URL {
        return Err(bad(
            "نشانی وب‌هوک را بنویسید (حداکثر ۵۰۰ نویسه).",
            "Write the webhook's URL (at most 500 characters).",
        ));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        bad(
            "نشانی وب‌هوک درست نیست؛ نمونه: https://sys.agency.ir/pishkhan/events",
            "The webhook URL is not valid; e.g. https://sys.agency.ir/pishkhan/events",
        )
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "نام کاربری و گذرواژه را در نشانی ننویسید؛ پیام‌ها با امضا شناخته می‌شوند.",
            "Do not put credentials in the URL; messages are authenticated by their signature.",
        ));
    }
    let local = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if local => Ok(parsed),
        _ => Err(bad(
            "نشانی وب‌هوک باید با https:// آغاز شود (http فقط برای همین رایانه).",
            "A webhook URL must start with https:// (http only for this machine).",
        )),
    }
}

/// The HTTP client deliveries share: no redirects followed (a webhook answers where it is).
fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Pishkhan-Webhooks/1")
            .build()
            .unwrap_or_default()
    })
}

/// How one delivery went.
#[derive(Debug)]
pub(crate) enum Sent {
    Delivered,
    /// The receiver answered, but not with 2xx: this event may be retried.
    Refused(String),
    /// Nobody answered (unreachable, timed out): the agency's other events wait too.
    Unreachable(String),
}

impl App {
    /// May `principal` look after `agency`'s systems (tokens, webhook, dead letters)? Its agency
    /// admins and the governorate over it may.
    pub async fn may_manage_exchange(
        &self,
        principal: &Principal,
        agency: &str,
    ) -> Result<bool, StoreError> {
        let Ok(grant) = RoleGrant::new(
            pishkhan_domain::identity::Role::System,
            Scope::Agency {
                agency: agency.to_owned(),
                unit: None,
            },
        ) else {
            return Ok(false);
        };
        let directory = self.store().org_directory().await?;
        Ok(directory.agency(agency).is_some() && may_grant(principal, &grant, &directory))
    }

    async fn exchange_allowed(
        &self,
        principal: Option<&Principal>,
        agency: &str,
    ) -> Result<(), WebhookError> {
        match principal {
            None => {
                let directory = self.store().org_directory().await?;
                if directory.agency(agency).is_none() {
                    return Err(WebhookError::NotAllowed);
                }
                Ok(())
            }
            Some(p) if self.may_manage_exchange(p, agency).await? => Ok(()),
            Some(_) => Err(WebhookError::NotAllowed),
        }
    }

    /// `agency`'s webhook, for someone who may look after it (`None`: the command line).
    pub async fn webhook(
        &self,
        principal: Option<&Principal>,
        agency: &str,
    ) -> Result<Option<Webhook>, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        Ok(self.store().webhook(agency).await?.map(Webhook::from))
    }

    /// Registers `agency`'s webhook or changes its URL. Answers the secret when a new webhook was
    /// made (shown once); a changed URL keeps its secret and its place in the feed. A new webhook
    /// is sent the events from now on (earlier ones are in the feed).
    pub async fn set_webhook(
        &self,
        principal: Option<&Principal>,
        actor: &Actor,
        agency: &str,
        url: &str,
    ) -> Result<Option<Secret<String>>, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        let url = check_url(url).map_err(WebhookError::Invalid)?;
        let existing = self.store().webhook(agency).await?;
        let secret = new_secret();
        let sealed = self.sealer()?.seal(&secret, &secret_place(agency));
        let start = self.store().feed_end(agency).await?;
        let mut unit = self.store().begin_write().await?;
        unit.put_webhook(agency, url.as_str(), &sealed, start, Utc::now())
            .await?;
        unit.audit(&audit_entry(
            actor,
            if existing.is_some() {
                "webhook.change"
            } else {
                "webhook.register"
            },
            ("agency", agency),
            serde_json::json!({ "url": url.as_str() }),
        ))
        .await?;
        unit.commit().await?;
        Ok(existing.is_none().then(|| Secret::new(secret)))
    }

    /// A new secret for `agency`'s webhook, shown once; the old one keeps signing for `overlap`
    /// (0–30 days) so the agency can switch without refusing a delivery.
    pub async fn rotate_webhook_secret(
        &self,
        principal: Option<&Principal>,
        actor: &Actor,
        agency: &str,
        overlap: TimeDelta,
    ) -> Result<Option<Secret<String>>, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        let overlap = overlap.clamp(TimeDelta::zero(), TimeDelta::days(30));
        let secret = new_secret();
        let sealed = self.sealer()?.seal(&secret, &secret_place(agency));
        let now = Utc::now();
        let mut unit = self.store().begin_write().await?;
        if !unit
            .rotate_webhook_secret(agency, &sealed, now + overlap, now)
            .await?
        {
            return Ok(None);
        }
        unit.audit(&audit_entry(
            actor,
            "webhook.rotate",
            ("agency", agency),
            serde_json::json!({ "overlap_hours": overlap.num_hours() }),
        ))
        .await?;
        unit.commit().await?;
        Ok(Some(Secret::new(secret)))
    }

    /// Stops sending `agency`'s events (its queued deliveries dropped); `false` if it had none.
    pub async fn remove_webhook(
        &self,
        principal: Option<&Principal>,
        actor: &Actor,
        agency: &str,
    ) -> Result<bool, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        let mut unit = self.store().begin_write().await?;
        if !unit.remove_webhook(agency).await? {
            return Ok(false);
        }
        unit.audit(&audit_entry(
            actor,
            "webhook.remove",
            ("agency", agency),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }

    /// The agencies whose systems `principal` looks after, by code, with their names.
    pub async fn exchange_agencies(
        &self,
        principal: &Principal,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let directory = self.store().org_directory().await?;
        let mut agencies = Vec::new();
        for org in directory.all() {
            if org.kind == pishkhan_store::OrgKind::Agency
                && self.may_manage_exchange(principal, &org.code).await?
            {
                agencies.push((org.code.clone(), org.name_fa.clone()));
            }
        }
        Ok(agencies)
    }

    /// How `agency`'s exchange stands: its webhook, events so far, deliveries waiting and
    /// dead-lettered.
    pub async fn exchange_status(
        &self,
        principal: Option<&Principal>,
        agency: &str,
    ) -> Result<ExchangeStatus, WebhookError> {
        let webhook = self.webhook(principal, agency).await?;
        let events = self.store().count_feed_events(agency).await?;
        let (waiting, dead) = self
            .store()
            .outbox_counts(JobKind::Webhook.topics(), Some(agency))
            .await?;
        Ok(ExchangeStatus {
            agency: agency.to_owned(),
            webhook,
            events,
            waiting,
            dead,
        })
    }

    /// `agency`'s deliveries that failed their last attempt, newest first, with the event each
    /// carried.
    pub async fn dead_deliveries(
        &self,
        principal: Option<&Principal>,
        agency: &str,
        limit: i64,
    ) -> Result<Vec<DeadDelivery>, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        let dead = self.dead_letters(None, Some(agency), limit).await?;
        let event_of = |payload: &str| {
            serde_json::from_str::<serde_json::Value>(payload)
                .ok()
                .and_then(|p| p.get("event").and_then(serde_json::Value::as_i64))
        };
        let ids: Vec<i64> = dead.iter().filter_map(|d| event_of(&d.payload)).collect();
        let events: BTreeMap<i64, FeedEvent> = self
            .store()
            .feed_events(&ids)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        Ok(dead
            .into_iter()
            .map(|d| {
                let event = event_of(&d.payload).and_then(|id| events.get(&id));
                DeadDelivery {
                    id: d.id,
                    event: event
                        .map(|e| crate::events::event_id(e.id))
                        .unwrap_or_default(),
                    kind: event.map(|e| e.kind.clone()).unwrap_or_default(),
                    application: event.map(|e| e.subject.clone()).unwrap_or_default(),
                    attempts: d.attempts,
                    last_error: d.last_error,
                    dead_at: millis(d.dead_at),
                }
            })
            .collect())
    }

    /// Sends one of `agency`'s dead-lettered deliveries again; `false` if it is not one.
    pub async fn replay_delivery(
        &self,
        principal: Option<&Principal>,
        actor: &Actor,
        agency: &str,
        id: i64,
    ) -> Result<bool, WebhookError> {
        self.exchange_allowed(principal, agency).await?;
        Ok(self.replay_dead_letter(actor, id, Some(agency)).await?)
    }

    /// Queues a delivery of every event a webhook has not yet queued (all agencies).
    pub(crate) async fn dispatch_webhooks(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut queued = 0;
        for hook in self.store().webhooks().await? {
            for _ in 0..20 {
                let n = self
                    .store()
                    .dispatch_webhook(&hook.agency, now, 500)
                    .await?;
                queued += n;
                if n < 500 {
                    break;
                }
            }
        }
        Ok(queued)
    }

    /// The secrets that sign `agency`'s messages now: the current one, and the previous one
    /// while its overlap lasts.
    pub(crate) fn signing_secrets(
        &self,
        hook: &WebhookRecord,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, String> {
        let sealer = self.sealer().map_err(|e| e.to_string())?;
        let place = secret_place(&hook.agency);
        let mut secrets = vec![
            sealer
                .open(&hook.secret, &place)
                .map_err(|e| e.to_string())?,
        ];
        if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_until)
            && until > now.timestamp_millis()
        {
            secrets.push(sealer.open(previous, &place).map_err(|e| e.to_string())?);
        }
        Ok(secrets)
    }

    /// Sends `events` (in order) to one agency's webhook, stopping at the first that nobody
    /// answered; answers how each went (the ones not tried are missing from the end).
    pub(crate) async fn send_to_webhook(
        &self,
        hook: &WebhookRecord,
        events: &[&FeedEvent],
    ) -> Vec<Sent> {
        let now = Utc::now();
        let secrets = match self.signing_secrets(hook, now) {
            Ok(s) => s,
            Err(e) => return vec![Sent::Refused(format!("the webhook's secret: {e}"))],
        };
        let mut results = Vec::with_capacity(events.len());
        for event in events {
            let id = crate::events::event_id(event.id);
            let body = crate::events::event_json(event).to_string();
            let timestamp = Utc::now().timestamp();
            let signature = secrets
                .iter()
                .filter_map(|s| sign(s, &id, timestamp, &body))
                .collect::<Vec<_>>()
                .join(" ");
            let sent = client()
                .post(&hook.url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await;
            let result = match sent {
                Ok(response) if response.status().is_success() => Sent::Delivered,
                Ok(response) => Sent::Refused(format!("HTTP {}", response.status().as_u16())),
                Err(e) => Sent::Unreachable(e.without_url().to_string()),
            };
            let stop = matches!(result, Sent::Unreachable(_));
            results.push(result);
            if stop {
                break;
            }
        }
        results
    }

    /// Sends every event that is due to its agency's webhook: first queues what each webhook's
    /// cursor has not yet passed, then delivers batch after batch while there is work, each
    /// agency's in order and the agencies side by side (a slow one holds up only itself; one
    /// that does not answer has its other events put back, untried). Answers (delivered, failed).
    #[tracing::instrument(skip_all)]
    pub async fn deliver_webhooks(&self, now: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
        self.dispatch_webhooks(Utc::now().min(now)).await?;
        let (mut sent, mut failed) = (0, 0);
        for _ in 0..crate::jobs::ROUNDS {
            let due = self.claim_jobs(JobKind::Webhook, now).await?;
            let claimed = due.len();
            if claimed == 0 {
                break;
            }
            let hooks = self.webhooks_by_agency().await?;
            let event_of = |job: &OutboxRecord| {
                serde_json::from_str::<serde_json::Value>(&job.payload)
                    .ok()
                    .and_then(|p| p.get("event").and_then(serde_json::Value::as_i64))
            };
            let ids: Vec<i64> = due.iter().filter_map(event_of).collect();
            let events: BTreeMap<i64, FeedEvent> = self
                .store()
                .feed_events(&ids)
                .await?
                .into_iter()
                .map(|e| (e.id, e))
                .collect();
            let mut groups: BTreeMap<String, Vec<OutboxRecord>> = BTreeMap::new();
            for job in due {
                groups.entry(job.subject.clone()).or_default().push(job);
            }
            let sends = groups.into_iter().map(|(agency, jobs)| {
                let (hooks, events) = (&hooks, &events);
                async move {
                    let Some(hook) = hooks.get(&agency) else {
                        return jobs
                            .into_iter()
                            .map(|j| (j, Outcome::Failed("the agency has no webhook".into())))
                            .collect::<Vec<_>>();
                    };
                    let (known, unknown): (Vec<_>, Vec<_>) = jobs
                        .into_iter()
                        .partition(|j| event_of(j).is_some_and(|id| events.contains_key(&id)));
                    let to_send: Vec<&FeedEvent> = known
                        .iter()
                        .filter_map(|j| event_of(j).and_then(|id| events.get(&id)))
                        .collect();
                    let mut results = self.send_to_webhook(hook, &to_send).await.into_iter();
                    let mut outcomes: Vec<(OutboxRecord, Outcome)> = known
                        .into_iter()
                        .map(|job| {
                            let outcome = match results.next() {
                                Some(Sent::Delivered) => Outcome::Done,
                                Some(Sent::Refused(e) | Sent::Unreachable(e)) => Outcome::Failed(e),
                                None => Outcome::Deferred,
                            };
                            (job, outcome)
                        })
                        .collect();
                    outcomes.extend(
                        unknown
                            .into_iter()
                            .map(|j| (j, Outcome::Failed("its event is missing".into()))),
                    );
                    outcomes
                }
            });
            let outcomes: Vec<_> = futures::future::join_all(sends)
                .await
                .into_iter()
                .flatten()
                .collect();
            let (done, not) = self.finish_jobs(JobKind::Webhook, outcomes).await?;
            (sent, failed) = (sent + done, failed + not);
            if claimed < usize::try_from(crate::jobs::BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        Ok((sent, failed))
    }

    /// The webhooks by agency (for a batch of deliveries).
    pub(crate) async fn webhooks_by_agency(
        &self,
    ) -> Result<BTreeMap<String, WebhookRecord>, StoreError> {
        Ok(self
            .store()
            .webhooks()
            .await?
            .into_iter()
            .map(|h| (h.agency.clone(), h))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification's reference libraries.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_as_the_specification_does() {
        assert_eq!(
            sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY).as_deref(),
            Some(SPEC_SIG)
        );
    }

    #[test]
    fn verifies_and_refuses_as_receivers_must() {
        let at = DateTime::from_timestamp(SPEC_TS, 0).unwrap();
        let ts = SPEC_TS.to_string();
        let ok = |secrets: &[&str], sig: &str, body: &str, now| {
            verify(secrets, SPEC_ID, &ts, sig, body.as_bytes(), now)
        };
        assert_eq!(ok(&[SPEC_SECRET], SPEC_SIG, SPEC_BODY, at), Ok(()));
        // Rotation: two signatures, either secret.
        let other = new_secret();
        let both = format!(
            "{} {SPEC_SIG}",
            sign(&other, SPEC_ID, SPEC_TS, SPEC_BODY).unwrap()
        );
        assert_eq!(ok(&[SPEC_SECRET], &both, SPEC_BODY, at), Ok(()));
        assert_eq!(ok(&[&other], &both, SPEC_BODY, at), Ok(()));
        // A changed body, a wrong secret, a replay, a forged header: refused.
        assert_eq!(
            ok(&[SPEC_SECRET], SPEC_SIG, r#"{"test": 2432232315}"#, at),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            ok(&[&other], SPEC_SIG, SPEC_BODY, at),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            ok(
                &[SPEC_SECRET],
                SPEC_SIG,
                SPEC_BODY,
                at + TimeDelta::minutes(6)
            ),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            ok(&[SPEC_SECRET], "v1,AAAA", SPEC_BODY, at),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&[SPEC_SECRET], SPEC_ID, "", SPEC_SIG, b"", at),
            Err(VerifyError::MissingHeader)
        );
    }

    #[test]
    fn urls_are_https_or_this_machine() {
        assert!(check_url("https://sys.agency.ir/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:8090/webhook").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        for bad in [
            "",
            "http://sys.agency.ir/hooks",
            "http://10.0.0.5/x",
            "ftp://x/y",
            "https://user:pw@sys.agency.ir/",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://a.ir/{}", "x".repeat(600))).is_err());
    }
}
