//! Group commit for SQLite: one writer task owns a write connection; callers send their write as
//! a job with a reply slot; the writer takes everything waiting (up to [`MAX_BATCH`]), runs each
//! job under its own savepoint inside one transaction, commits once (one fsync with
//! `synchronous=FULL`), and only then answers every caller. A job that fails rolls back to its
//! savepoint and gets its own error; the others in the batch are not affected.
//!
//! Why: on this class of disk one fsync costs 0.2–4 ms, so a commit per request caps durable
//! writes at a few hundred per second. On PostgreSQL the same writer serves another purpose:
//! every audited write takes the audit chain's head row, which serialises transactions; one
//! batch takes it once. (Each node has its own writer; nodes still serialise on the head row,
//! batch by batch.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use sqlx::{Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// Writes that share one commit, at most.
pub const MAX_BATCH: usize = 256;

/// The boxed future a job returns.
pub(crate) type JobFuture<'c, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'c>>;

/// One write: given the connection (inside a transaction and a savepoint), do the statements.
pub(crate) type Job<DB, E> =
    Box<dyn for<'c> FnOnce(&'c mut <DB as Database>::Connection) -> JobFuture<'c, E> + Send>;

struct Request<DB: Database, E> {
    job: Job<DB, E>,
    reply: oneshot::Sender<Result<(), E>>,
}

/// The writer for one database and one kind of job error `E`; started on first use, inside the
/// caller's runtime.
pub(crate) struct GroupWriter<DB: Database, E> {
    pool: Pool<DB>,
    /// `BEGIN IMMEDIATE` on SQLite (take the write lock at once), `BEGIN` on PostgreSQL.
    begin: &'static str,
    sender: OnceLock<mpsc::UnboundedSender<Request<DB, E>>>,
}

impl<DB: Database, E> std::fmt::Debug for GroupWriter<DB, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl<DB, E> GroupWriter<DB, E>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + Send + 'static,
{
    pub(crate) fn new(pool: Pool<DB>, begin: &'static str) -> Arc<Self> {
        Arc::new(GroupWriter {
            pool,
            begin,
            sender: OnceLock::new(),
        })
    }

    /// Runs `job` in the next batch; returns once that batch is committed (durable) or failed.
    pub(crate) async fn write(&self, job: Job<DB, E>) -> Result<(), E> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run(self.pool.clone(), self.begin, receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        sender
            .send(Request { job, reply })
            .map_err(|_| E::from(StoreError::WriterStopped))?;
        answer
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?
    }
}

async fn run<DB, E>(
    pool: Pool<DB>,
    begin: &'static str,
    mut receiver: mpsc::UnboundedReceiver<Request<DB, E>>,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + Send + 'static,
{
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(error) => {
                fail_all(batch, &error.to_string());
                continue;
            }
        };
        if let Err(error) = sqlx::raw_sql(begin).execute(&mut *conn).await {
            fail_all(batch, &error.to_string());
            continue;
        }
        let mut done = Vec::with_capacity(batch.len());
        let mut broken: Option<String> = None;
        for request in batch {
            if let Some(problem) = &broken {
                let _ = request
                    .reply
                    .send(Err(E::from(StoreError::BatchFailed(problem.clone()))));
                continue;
            }
            if let Err(error) = sqlx::raw_sql("SAVEPOINT item").execute(&mut *conn).await {
                broken = Some(error.to_string());
                let _ = request
                    .reply
                    .send(Err(E::from(StoreError::Database(error))));
                continue;
            }
            let result = (request.job)(&mut conn).await;
            let end = if result.is_ok() {
                "RELEASE item"
            } else {
                "ROLLBACK TO item; RELEASE item"
            };
            if let Err(error) = sqlx::raw_sql(end).execute(&mut *conn).await {
                broken = Some(error.to_string());
            }
            done.push((request.reply, result));
        }
        let committed = match broken {
            Some(problem) => Err(problem),
            None => sqlx::raw_sql("COMMIT")
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        match committed {
            Ok(()) => {
                for (reply, result) in done {
                    let _ = reply.send(result);
                }
            }
            Err(problem) => {
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                for (reply, _) in done {
                    let _ = reply.send(Err(E::from(StoreError::BatchFailed(problem.clone()))));
                }
            }
        }
    }
}

fn fail_all<DB: Database, E: From<StoreError>>(batch: Vec<Request<DB, E>>, problem: &str) {
    for request in batch {
        let _ = request
            .reply
            .send(Err(E::from(StoreError::BatchFailed(problem.to_owned()))));
    }
}
