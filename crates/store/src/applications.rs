//! Applications: the row, its history, its documents' metadata, and the outbox rows and audit
//! entry each change brings, all written in one transaction, shared with the other writes waiting
//! at the same moment (group commit, `writer.rs`, on both backends); the caller is answered only
//! after the commit.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::audit::NewAuditEntry;
use crate::feed::NewFeedEvent;
use crate::script::{Arg, Script};
use crate::statements::Connection;
use crate::writer::{AuditHead, Scripted};
use crate::{Pool, Store, StoreError, on_pool};

/// A file attached to an application (its bytes are already in the object store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub id: String,
    pub requirement: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub object_key: String,
    pub uploaded_by: String,
    /// Fetched from an agency's inquiry, not uploaded: where it came from (JSON).
    pub provenance: Option<String>,
}

/// Something to do after the commit: a notification, a delivery to an agency system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    pub topic: String,
    /// What it is about (an application's tracking code).
    pub subject: String,
    /// JSON text.
    pub payload: String,
}

/// An `Idempotency-Key` and the first answer to the request that carried it, written with the
/// change it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdempotency {
    /// Whose key (an API client's user id): keys of different clients never meet.
    pub client: String,
    pub key: String,
    /// SHA-256 of the request (hex): the same key with another request is refused.
    pub request_hash: String,
    /// JSON.
    pub answer: String,
}

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub answer: String,
}

/// A new application, whole.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub code: String,
    pub service: String,
    pub service_version: i64,
    pub agency: String,
    pub national_id: String,
    pub mobile: String,
    pub email: String,
    pub channel: String,
    pub centre: Option<String>,
    pub filed_by: String,
    pub filed_by_role: String,
    pub consent: Option<String>,
    pub state: String,
    pub deadline: Option<String>,
    /// JSON text.
    pub answers: String,
    pub fee_rials: i64,
    pub at: DateTime<Utc>,
    pub documents: Vec<NewDocument>,
    pub outbox: Vec<NewOutboxMessage>,
    /// What agencies' systems are told (`feed.rs`).
    pub events: Vec<NewFeedEvent>,
    pub audit: NewAuditEntry,
    /// The API client's key for this filing, if it sent one.
    pub idempotency: Option<NewIdempotency>,
}

/// One workflow action taken on an application.
#[derive(Debug, Clone)]
pub struct Transition {
    pub code: String,
    /// The revision the actor saw; someone else's change in between refuses this one.
    pub revision: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub comment: String,
    pub deadline: Option<String>,
    pub outcome: Option<String>,
    pub at: DateTime<Utc>,
    pub documents: Vec<NewDocument>,
    pub outbox: Vec<NewOutboxMessage>,
    /// What agencies' systems are told (`feed.rs`).
    pub events: Vec<NewFeedEvent>,
    pub audit: NewAuditEntry,
    /// The API client's key for this action, if it sent one.
    pub idempotency: Option<NewIdempotency>,
    /// What the actor wrote down for the action's asked fields (JSON pairs), if it asks any.
    pub fields: Option<String>,
    /// The output this step issues, if it enters the workflow's issuing state.
    pub output: Option<crate::outputs::NewOutput>,
}

/// Why a write to an application did not happen. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The tracking code is already used (draw another).
    #[error("tracking code already taken")]
    CodeTaken,
    /// The client's idempotency key was used meanwhile, by a request running at the same time:
    /// read its answer.
    #[error("idempotency key already used")]
    KeyTaken,
    /// The application changed since the actor looked at it.
    #[error("the application changed meanwhile")]
    Stale,
    /// What the write found in its transaction forbids it (a closed till, takings that moved
    /// while they were counted): nothing of it was written. The reason's stable code.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    /// Two unique violations have a meaning — a tracking code drawn twice, an idempotency key
    /// used by a request at the same moment — told apart by the table they hit; any other is an
    /// error like the rest, kept whole.
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(e) = &error
            && e.is_unique_violation()
        {
            match unique_table(e.as_ref()) {
                // The code's row, or its first event (PostgreSQL may hit either first when a
                // filing's statements run as one).
                Some("applications" | "application_events") => return WriteError::CodeTaken,
                Some("idempotency_keys") => return WriteError::KeyTaken,
                _ => {}
            }
        }
        WriteError::Store(StoreError::Database(error))
    }
}

/// The table a unique violation hit: PostgreSQL names the constraint (`<table>_pkey`); SQLite
/// says `UNIQUE constraint failed: <table>.<column>`.
fn unique_table(error: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    let said = match error.constraint() {
        Some(constraint) => constraint.to_owned(),
        None => error.message().to_owned(),
    };
    ["idempotency_keys", "application_events", "applications"]
        .into_iter()
        .find(|table| {
            said.contains(&format!("{table}_pkey")) || said.contains(&format!(": {table}."))
        })
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationRecord {
    pub code: String,
    pub service: String,
    pub service_version: i64,
    pub agency: String,
    pub national_id: String,
    pub mobile: String,
    pub email: String,
    pub channel: String,
    pub centre: Option<String>,
    pub filed_by: String,
    pub consent: Option<String>,
    pub state: String,
    pub state_since: i64,
    pub deadline: Option<String>,
    pub assignee: Option<String>,
    pub escalated_at: Option<i64>,
    pub outcome: Option<String>,
    pub answers: String,
    pub fee_rials: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision: i64,
}

/// One step of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub seq: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub comment: String,
    pub deadline: Option<String>,
    pub at: i64,
    /// What the actor wrote down for the action's asked fields (JSON pairs).
    pub fields: Option<String>,
}

/// A document's metadata.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRecord {
    pub id: String,
    pub application: String,
    pub event_seq: i64,
    pub requirement: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub object_key: String,
    pub uploaded_by: String,
    pub at: i64,
    /// Fetched from an agency's inquiry, not uploaded: where it came from (JSON).
    pub provenance: Option<String>,
}

/// Which applications a desk lists.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// The agencies whose applications may be listed (the clerk's scopes); empty lists nothing.
    pub agencies: Vec<String>,
    /// Only these states (the ones the clerk's roles may act in); empty means any open state.
    pub states: Vec<String>,
    pub service: Option<String>,
    /// Only those whose deadline is before this Jalali day (`YYYY/MM/DD`): overdue work.
    pub deadline_before: Option<String>,
    pub assignee: Option<String>,
    /// Closed applications too (granted, refused, withdrawn), not only open ones.
    pub include_closed: bool,
    /// Only closed applications.
    pub closed_only: bool,
    /// Only this application (its 11-digit tracking code).
    pub code: Option<String>,
    /// Only this person's applications (their national ID).
    pub national_id: Option<String>,
    /// Ordered by when they last changed (then by code), oldest change first, instead of by
    /// deadline: how an agency system pages through them.
    pub by_change: bool,
    /// Only those that changed after this point: (milliseconds, code), from the last row of the
    /// previous page.
    pub changed_after: Option<(i64, String)>,
    pub limit: i64,
    pub offset: i64,
}

/// A message that failed its last allowed attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    pub id: i64,
    pub topic: String,
    pub subject: String,
    /// JSON text.
    pub payload: String,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: i64,
    pub dead_at: i64,
}

/// A message the outbox holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRecord {
    pub id: i64,
    pub topic: String,
    pub subject: String,
    pub payload: String,
    pub attempts: i64,
}

const COLUMNS: &str = "code, service, service_version, agency, national_id, mobile, email, channel, \
    centre, filed_by, consent, state, state_since, deadline, assignee, escalated_at, outcome, \
    answers, fee_rials, created_at, updated_at, revision";

/// A new application into a script (`script.rs`): the row, the first event, documents, outbox
/// messages, the audit entry after `head`. Answers the chain's new head.
fn application_into(
    script: &mut Script,
    new: &NewApplication,
    head: &AuditHead,
) -> Result<AuditHead, StoreError> {
    let at = new.at.timestamp_millis();
    let row = script.row(vec![
        Arg::from(&new.code),
        Arg::from(&new.service),
        Arg::Int(new.service_version),
        Arg::from(&new.agency),
        Arg::from(&new.national_id),
        Arg::from(&new.mobile),
        Arg::from(&new.email),
        Arg::from(&new.channel),
        Arg::from(&new.centre),
        Arg::from(&new.filed_by),
        Arg::from(&new.consent),
        Arg::from(&new.state),
        Arg::Int(at),
        Arg::from(&new.deadline),
        Arg::from(&new.answers),
        Arg::Int(new.fee_rials),
        Arg::Int(at),
        Arg::Int(at),
        Arg::Int(1),
    ]);
    script.push(format!(
        "INSERT INTO applications (code, service, service_version, agency, national_id, mobile, \
         email, channel, centre, filed_by, consent, state, state_since, deadline, answers, \
         fee_rials, created_at, updated_at, revision) VALUES {row}"
    ));
    let row = script.row(vec![
        Arg::from(&new.code),
        Arg::Int(1),
        Arg::from("submit"),
        Arg::Maybe(None),
        Arg::from(&new.state),
        Arg::from(&new.filed_by),
        Arg::from(&new.filed_by_role),
        Arg::from(""),
        Arg::from(&new.deadline),
        Arg::Int(at),
    ]);
    script.push(format!(
        "INSERT INTO application_events (application, seq, action, from_state, to_state, actor, \
         actor_role, comment, deadline, at) VALUES {row}"
    ));
    if !new.documents.is_empty() {
        let rows: Vec<String> = new
            .documents
            .iter()
            .map(|d| {
                script.row(vec![
                    Arg::from(&d.id),
                    Arg::from(&new.code),
                    Arg::Int(1),
                    Arg::from(&d.requirement),
                    Arg::from(&d.file_name),
                    Arg::from(&d.content_type),
                    Arg::Int(d.size),
                    Arg::from(&d.sha256),
                    Arg::from(&d.object_key),
                    Arg::from(&d.uploaded_by),
                    Arg::Int(at),
                    Arg::from(&d.provenance),
                ])
            })
            .collect();
        script.push(format!(
            "INSERT INTO application_documents (id, application, event_seq, requirement, \
             file_name, content_type, size, sha256, object_key, uploaded_by, at, provenance) \
             VALUES {}",
            rows.join(", ")
        ));
    }
    if !new.outbox.is_empty() {
        let rows: Vec<String> = new
            .outbox
            .iter()
            .map(|m| {
                script.row(vec![
                    Arg::from(&m.topic),
                    Arg::from(&m.subject),
                    Arg::from(&m.payload),
                    Arg::Int(at),
                    Arg::Int(at),
                ])
            })
            .collect();
        script.push(format!(
            "INSERT INTO outbox (topic, subject, payload, created_at, next_at) VALUES {}",
            rows.join(", ")
        ));
    }
    crate::feed::events_into(script, &new.events, at);
    if let Some(key) = &new.idempotency {
        idempotency_into(script, key, at);
    }
    crate::audit::chain_into(script, &new.audit, head)
}

fn idempotency_into(script: &mut Script, key: &NewIdempotency, at: i64) {
    let row = script.row(vec![
        Arg::from(&key.client),
        Arg::from(&key.key),
        Arg::from(&key.request_hash),
        Arg::from(&key.answer),
        Arg::Int(at),
    ]);
    script.push(format!(
        "INSERT INTO idempotency_keys (client, key, request_hash, answer, created_at) VALUES {row}"
    ));
}

/// The metadata of `documents`, attached to the event `seq` of application `code`.
async fn insert_documents_on(
    conn: &mut (impl Connection + ?Sized),
    code: &str,
    seq: i64,
    documents: &[NewDocument],
    at: i64,
) -> Result<(), sqlx::Error> {
    for d in documents {
        conn.execute(
            "INSERT INTO application_documents (id, application, event_seq, requirement, file_name, \
             content_type, size, sha256, object_key, uploaded_by, at, provenance) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            vec![
                Arg::from(&d.id),
                Arg::from(code),
                Arg::Int(seq),
                Arg::from(&d.requirement),
                Arg::from(&d.file_name),
                Arg::from(&d.content_type),
                Arg::Int(d.size),
                Arg::from(&d.sha256),
                Arg::from(&d.object_key),
                Arg::from(&d.uploaded_by),
                Arg::Int(at),
                Arg::from(&d.provenance),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Messages for the outbox, due at once.
pub(crate) async fn insert_outbox_on(
    conn: &mut (impl Connection + ?Sized),
    messages: &[NewOutboxMessage],
    at: i64,
) -> Result<(), sqlx::Error> {
    for m in messages {
        conn.execute(
            "INSERT INTO outbox (topic, subject, payload, created_at, next_at) VALUES ($1, $2, $3, $4, $4)",
            vec![
                Arg::from(&m.topic),
                Arg::from(&m.subject),
                Arg::from(&m.payload),
                Arg::Int(at),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The statements of one action: the row moves only if its revision is the one the actor saw;
/// otherwise nothing is written and the answer is [`WriteError::Stale`].
pub(crate) async fn apply_transition_on(
    conn: &mut (impl Connection + ?Sized),
    t: &Transition,
) -> Result<(), WriteError> {
    let at = t.at.timestamp_millis();
    let moved = conn
        .execute(
            "UPDATE applications SET state = $1, state_since = $2, deadline = $3, outcome = $4, \
             escalated_at = NULL, updated_at = $2, revision = revision + 1 \
             WHERE code = $5 AND revision = $6 AND state = $7",
            vec![
                Arg::from(&t.to_state),
                Arg::Int(at),
                Arg::from(&t.deadline),
                Arg::from(&t.outcome),
                Arg::from(&t.code),
                Arg::Int(t.revision),
                Arg::from(&t.from_state),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    let seq = conn
        .fetch_int(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM application_events WHERE application = $1",
            vec![Arg::from(&t.code)],
        )
        .await?;
    conn.execute(
        "INSERT INTO application_events (application, seq, action, from_state, to_state, actor, \
         actor_role, comment, deadline, at, fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            Arg::from(&t.code),
            Arg::Int(seq),
            Arg::from(&t.action),
            Arg::from(&t.from_state),
            Arg::from(&t.to_state),
            Arg::from(&t.actor),
            Arg::from(&t.actor_role),
            Arg::from(&t.comment),
            Arg::from(&t.deadline),
            Arg::Int(at),
            Arg::from(&t.fields),
        ],
    )
    .await?;
    insert_documents_on(conn, &t.code, seq, &t.documents, at).await?;
    if let Some(output) = &t.output {
        crate::outputs::insert_output_on(conn, output).await?;
    }
    insert_outbox_on(conn, &t.outbox, at).await?;
    crate::feed::insert_events_on(conn, &t.events, at).await?;
    if let Some(key) = &t.idempotency {
        conn.execute(
            "INSERT INTO idempotency_keys (client, key, request_hash, answer, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::from(&key.client),
                Arg::from(&key.key),
                Arg::from(&key.request_hash),
                Arg::from(&key.answer),
                Arg::Int(at),
            ],
        )
        .await?;
    }
    crate::audit::append_on(conn, &t.audit).await?;
    Ok(())
}

/// Gives application `code` to `user` (or to nobody), if it is still at `revision`.
async fn assign_on(
    conn: &mut (impl Connection + ?Sized),
    code: &str,
    revision: i64,
    user: &Option<String>,
    at: i64,
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let moved = conn
        .execute(
            "UPDATE applications SET assignee = $1, updated_at = $2, revision = revision + 1 \
             WHERE code = $3 AND revision = $4",
            vec![
                Arg::from(user),
                Arg::Int(at),
                Arg::from(code),
                Arg::Int(revision),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

/// Marks application `code` escalated in its current state, if it is still at `revision` and
/// nobody escalated it first.
async fn escalate_on(
    conn: &mut (impl Connection + ?Sized),
    code: &str,
    revision: i64,
    at: i64,
    events: &[NewFeedEvent],
    audit: &NewAuditEntry,
) -> Result<(), WriteError> {
    let moved = conn
        .execute(
            "UPDATE applications SET escalated_at = $1, revision = revision + 1 \
             WHERE code = $2 AND revision = $3 AND escalated_at IS NULL",
            vec![Arg::Int(at), Arg::from(code), Arg::Int(revision)],
        )
        .await?;
    if moved != 1 {
        return Err(WriteError::Stale);
    }
    crate::feed::insert_events_on(conn, events, at).await?;
    crate::audit::append_on(conn, audit).await?;
    Ok(())
}

/// Runs `$body` — statements on `$conn`, inside the batch's transaction and this job's
/// savepoint — through this backend's group-commit writer (`writer.rs`): when it returns `Ok`
/// the change is durable; otherwise nothing of it was stored.
macro_rules! batched {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite(_) => {
                $store
                    .writer()?
                    .write(Box::new(move |$conn| Box::pin(async move { $body })))
                    .await
            }
            Pool::Postgres(_) => {
                $store
                    .pg_writer()?
                    .write(Box::new(move |$conn| Box::pin(async move { $body })))
                    .await
            }
        }
    };
}
pub(crate) use batched;

impl Store {
    /// Stores a new application, durably, with everything that goes with it; or nothing.
    pub async fn insert_application(&self, new: NewApplication) -> Result<(), WriteError> {
        let write: Scripted = Box::new(move |script, head| application_into(script, &new, head));
        match &self.pool {
            Pool::Sqlite(_) => self.writer()?.write_script(write).await,
            Pool::Postgres(_) => self.pg_writer()?.write_script(write).await,
        }
    }

    /// Moves an application by one workflow action, if nobody changed it meanwhile.
    pub async fn apply_transition(&self, transition: Transition) -> Result<(), WriteError> {
        batched!(self, conn => apply_transition_on(conn, &transition).await)
    }

    /// The first answer given under a client's idempotency key, if the key was used.
    pub async fn idempotency(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, IdempotencyRecord>(
                "SELECT request_hash, answer FROM idempotency_keys WHERE client = $1 AND key = $2",
            )
            .bind(client)
            .bind(key)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Forgets idempotency keys used before `before` (they are kept at least a day).
    pub async fn sweep_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before.timestamp_millis())
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    pub async fn application(&self, code: &str) -> Result<Option<ApplicationRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM applications WHERE code = $1");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApplicationRecord>(sqlx::AssertSqlSafe(sql))
                .bind(code)
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn application_events(&self, code: &str) -> Result<Vec<EventRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, EventRecord>(
                "SELECT seq, action, from_state, to_state, actor, actor_role, comment, deadline, at, \
                 fields \
                 FROM application_events WHERE application = $1 ORDER BY seq",
            )
            .bind(code)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn application_documents(
        &self,
        code: &str,
    ) -> Result<Vec<DocumentRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DocumentRecord>(
                "SELECT id, application, event_seq, requirement, file_name, content_type, size, \
                 sha256, object_key, uploaded_by, at, provenance FROM application_documents \
                 WHERE application = $1 ORDER BY at, id",
            )
            .bind(code)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Every document fetched from an agency's inquiry (once only), oldest first.
    pub async fn fetched_documents(&self) -> Result<Vec<DocumentRecord>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DocumentRecord>(
                "SELECT id, application, event_seq, requirement, file_name, content_type, size, \
                 sha256, object_key, uploaded_by, at, provenance FROM application_documents \
                 WHERE provenance IS NOT NULL ORDER BY at, id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// A person's applications, newest first.
    pub async fn applications_of_person(
        &self,
        national_id: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM applications WHERE national_id = $1 \
             ORDER BY created_at DESC, code LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApplicationRecord>(sqlx::AssertSqlSafe(sql))
                .bind(national_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// What a centre filed, newest first.
    pub async fn applications_of_centre(
        &self,
        centre: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM applications WHERE centre = $1 \
             ORDER BY created_at DESC, code LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApplicationRecord>(sqlx::AssertSqlSafe(sql))
                .bind(centre)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Open applications for a desk, the nearest deadline first.
    pub async fn inbox(&self, filter: &InboxFilter) -> Result<Vec<ApplicationRecord>, StoreError> {
        if filter.agencies.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT {COLUMNS} FROM applications WHERE {}",
            if filter.closed_only {
                "outcome IS NOT NULL"
            } else if filter.include_closed {
                "1 = 1"
            } else {
                "outcome IS NULL"
            }
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let list = |count: usize, next: &mut dyn FnMut() -> String| {
            (0..count).map(|_| next()).collect::<Vec<_>>().join(", ")
        };
        sql += &format!(
            " AND agency IN ({})",
            list(filter.agencies.len(), &mut next)
        );
        if !filter.states.is_empty() {
            sql += &format!(" AND state IN ({})", list(filter.states.len(), &mut next));
        }
        if filter.service.is_some() {
            sql += &format!(" AND service = {}", next());
        }
        if filter.deadline_before.is_some() {
            sql += &format!(" AND deadline IS NOT NULL AND deadline < {}", next());
        }
        if filter.assignee.is_some() {
            sql += &format!(" AND assignee = {}", next());
        }
        if filter.code.is_some() {
            sql += &format!(" AND code = {}", next());
        }
        if filter.national_id.is_some() {
            sql += &format!(" AND national_id = {}", next());
        }
        if filter.changed_after.is_some() {
            sql += &format!(" AND (updated_at, code) > ({}, {})", next(), next());
        }
        let order = if filter.by_change || filter.changed_after.is_some() {
            "updated_at, code"
        } else {
            "deadline IS NULL, deadline, created_at"
        };
        sql += &format!(" ORDER BY {order} LIMIT {} OFFSET {}", next(), next());
        Ok(on_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, ApplicationRecord>(sqlx::AssertSqlSafe(sql));
            for a in &filter.agencies {
                query = query.bind(a);
            }
            for s in &filter.states {
                query = query.bind(s);
            }
            if let Some(s) = &filter.service {
                query = query.bind(s);
            }
            if let Some(d) = &filter.deadline_before {
                query = query.bind(d);
            }
            if let Some(a) = &filter.assignee {
                query = query.bind(a);
            }
            if let Some(c) = &filter.code {
                query = query.bind(c);
            }
            if let Some(n) = &filter.national_id {
                query = query.bind(n);
            }
            if let Some((at, code)) = &filter.changed_after {
                query = query.bind(at).bind(code);
            }
            query.bind(filter.limit).bind(filter.offset).fetch_all(pool).await?
        }))
    }

    /// Claims (or assigns) an application to `user`, if it is still at `revision`.
    pub async fn assign_application(
        &self,
        code: &str,
        revision: i64,
        user: Option<&str>,
        at: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> Result<(), WriteError> {
        let (code, user, audit) = (code.to_owned(), user.map(str::to_owned), audit.clone());
        let at = at.timestamp_millis();
        batched!(self, conn => assign_on(conn, &code, revision, &user, at, &audit).await)
    }

    /// Open applications whose deadline passed before `today` (a Jalali day) and that have not
    /// been escalated in their current state.
    pub async fn overdue_unescalated(
        &self,
        today: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM applications WHERE outcome IS NULL AND deadline IS NOT NULL \
             AND deadline < $1 AND escalated_at IS NULL ORDER BY deadline, code LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApplicationRecord>(sqlx::AssertSqlSafe(sql))
                .bind(today)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Marks one application escalated (once per state), with its events and audit entry.
    /// Answers false when another node escalated it first or it moved on.
    pub async fn mark_escalated(
        &self,
        code: &str,
        revision: i64,
        at: DateTime<Utc>,
        events: &[NewFeedEvent],
        audit: &NewAuditEntry,
    ) -> Result<bool, WriteError> {
        let (code, events, audit) = (code.to_owned(), events.to_vec(), audit.clone());
        let at = at.timestamp_millis();
        let result: Result<(), WriteError> =
            batched!(self, conn => escalate_on(conn, &code, revision, at, &events, &audit).await);
        match result {
            Ok(()) => Ok(true),
            Err(WriteError::Stale) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes up to `limit` due outbox messages for `lease_ms`; another worker skips them until
    /// the lease ends (so a crashed worker's messages are retried).
    pub async fn claim_outbox(
        &self,
        topic_prefix: &str,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let now = now.timestamp_millis();
        let until = now + lease_ms;
        let topics = format!("{topic_prefix}%");
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let rows = sqlx::query_as::<_, OutboxRecord>(
                    "SELECT id, topic, subject, payload, attempts FROM outbox \
                     WHERE done_at IS NULL AND dead_at IS NULL AND next_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until <= $1) AND topic LIKE $3 \
                     ORDER BY id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .bind(&topics)
                .fetch_all(&mut *tx)
                .await?;
                for row in &rows {
                    sqlx::query("UPDATE outbox SET claimed_until = $1 WHERE id = $2")
                        .bind(until)
                        .bind(row.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(rows)
            }
            Pool::Postgres(pool) => {
                let rows = sqlx::query_as::<_, OutboxRecord>(
                    "UPDATE outbox SET claimed_until = $1 WHERE id IN ( \
                     SELECT id FROM outbox WHERE done_at IS NULL AND dead_at IS NULL AND next_at <= $2 \
                     AND (claimed_until IS NULL OR claimed_until <= $2) AND topic LIKE $4 \
                     ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, topic, subject, payload, attempts",
                )
                .bind(until)
                .bind(now)
                .bind(limit)
                .bind(&topics)
                .fetch_all(pool)
                .await?;
                Ok(rows)
            }
        }
    }

    /// A message was delivered.
    pub async fn outbox_done(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET done_at = $1, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = NULL WHERE id = $2",
            )
            .bind(at.timestamp_millis())
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Messages delivered, finished in one statement.
    pub async fn outbox_done_many(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        for chunk in ids.chunks(500) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE outbox SET done_at = $1, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = NULL WHERE id IN ({list})"
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(at.timestamp_millis());
                for id in chunk {
                    query = query.bind(id);
                }
                query.execute(pool).await?;
            });
        }
        Ok(())
    }

    /// A delivery failed: try again at `retry_at`, or, with `None` (its last allowed attempt),
    /// no more: it is dead-lettered at `at`.
    pub async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        at: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_at = COALESCE($1, next_at), \
                 dead_at = CASE WHEN $1 IS NULL THEN $2 ELSE NULL END, claimed_until = NULL, \
                 last_error = $3 WHERE id = $4",
            )
            .bind(retry_at.map(|t| t.timestamp_millis()))
            .bind(at.timestamp_millis())
            .bind(&error)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Dead-lettered messages whose topic starts with `topic_prefix` (and whose subject is
    /// `subject`, when given), newest first.
    pub async fn dead_letters(
        &self,
        topic_prefix: &str,
        subject: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let topics = format!("{topic_prefix}%");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DeadLetter>(
                "SELECT id, topic, subject, payload, attempts, COALESCE(last_error, '') AS last_error, \
                 created_at, dead_at FROM outbox WHERE dead_at IS NOT NULL AND topic LIKE $1 \
                 AND ($2 IS NULL OR subject = $2) ORDER BY dead_at DESC, id DESC LIMIT $3",
            )
            .bind(&topics)
            .bind(subject)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// One dead-lettered message.
    pub async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DeadLetter>(
                "SELECT id, topic, subject, payload, attempts, COALESCE(last_error, '') AS last_error, \
                 created_at, dead_at FROM outbox WHERE dead_at IS NOT NULL AND id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Gives claimed messages back without counting an attempt, due again at `next_at` (their
    /// receiver did not answer another message; they were not tried).
    pub async fn outbox_defer(
        &self,
        ids: &[i64],
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(500) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE outbox SET claimed_until = NULL, next_at = $1 WHERE id IN ({list})"
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(next_at.timestamp_millis());
                for id in chunk {
                    query = query.bind(id);
                }
                query.execute(pool).await?;
            });
        }
        Ok(())
    }

    /// How many messages whose topic starts with `topic_prefix` wait (not done, not dead), and
    /// how many are dead-lettered — about `subject`, when given.
    pub async fn outbox_counts(
        &self,
        topic_prefix: &str,
        subject: Option<&str>,
    ) -> Result<(i64, i64), StoreError> {
        let topics = format!("{topic_prefix}%");
        Ok(on_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT COALESCE(SUM(CASE WHEN done_at IS NULL AND dead_at IS NULL THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
                 FROM outbox WHERE topic LIKE $1 AND ($2 IS NULL OR subject = $2)",
            )
            .bind(&topics)
            .bind(subject)
            .fetch_one(pool)
            .await?;
            (row.get::<i64, _>(0), row.get::<i64, _>(1))
        }))
    }

    /// Outbox messages about `subject` (for tests and the operator's view).
    pub async fn outbox_of(
        &self,
        subject: &str,
    ) -> Result<Vec<(String, String, Option<i64>)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query("SELECT topic, payload, done_at FROM outbox WHERE subject = $1 ORDER BY id")
                .bind(subject)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| (row.get(0), row.get(1), row.get(2)))
                .collect()
        }))
    }

    /// How many applications are stored.
    pub async fn count_applications(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM applications")
                .fetch_one(pool)
                .await?
        }))
    }
}
