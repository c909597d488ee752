//! Group commit for SQLite: one writer task owns a write connection; callers send their write as
//! a job with a reply slot; the writer takes everything waiting (up to [`MAX_BATCH`]), runs each
//! job under its own savepoint inside one transaction, commits once (one fsync with
//! `synchronous=FULL`), and only then answers every caller. A job that fails rolls back to its
//! savepoint and gets its own error; the others in the batch are not affected.
//!
//! The writer runs on its own thread, with its own single-threaded runtime and its own
//! connection (opened with the pool's options, so the same pragmas): under load the server's
//! runtime has a queue of requests in front of any task woken from outside it, and the writer —
//! one statement's answer after another — would wait in that queue at every statement. On its
//! own thread it waits for the operating system only.
//!
//! A write that can be said as a script (`script.rs`: statements with numbered parameters) is
//! sent as one: the writer puts the scripts of every such write waiting in a batch into one
//! statement list (under the params limit), so a batch of filings costs a handful of round trips
//! to the database, not a dozen per filing. If that list fails, the writer runs its writes again
//! one by one, each under its own savepoint, so only the write at fault is refused.
//!
//! Why: on this class of disk one fsync costs 0.2–4 ms, so a commit per request caps durable
//! writes at a few hundred per second. On PostgreSQL the same writer serves another purpose:
//! every audited write takes the audit chain's head row, which serialises transactions; one
//! batch takes it once. (Each node has its own writer; nodes still serialise on the head row,
//! batch by batch.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sqlx::{Connection, Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::script::{Arg, Script};

/// Writes that share one commit, at most.
pub const MAX_BATCH: usize = 256;

/// The boxed future a job returns.
pub(crate) type JobFuture<'c, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'c>>;

/// One write: given the connection (inside a transaction and a savepoint), do the statements.
pub(crate) type Job<DB, E> =
    Box<dyn for<'c> FnOnce(&'c mut <DB as Database>::Connection) -> JobFuture<'c, E> + Send>;

/// The audit chain's head: its last entry's place and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditHead {
    pub(crate) seq: i64,
    pub(crate) hash: String,
}

/// What a writer has done since it started: for the operator (`/metrics`) and the benchmark,
/// which shows that many writes share each commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed (or rolled back whole), each one flush of the log to disk.
    pub batches: u64,
    /// Writes carried by those transactions.
    pub jobs: u64,
    /// Time spent running batches, from `BEGIN` to the end of `COMMIT`, in microseconds.
    pub busy_micros: u64,
    /// Of which in `COMMIT` (the flush to disk), in microseconds.
    pub commit_micros: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
    busy_micros: AtomicU64,
    commit_micros: AtomicU64,
}

/// A write as a script: given the audit chain's head before it, adds its statements (and its
/// audit entry, without moving the head row) to the script and answers the head after it. It
/// may be called more than once (the writer retries it alone if its batch's script fails).
pub(crate) type Scripted =
    Box<dyn Fn(&mut Script, &AuditHead) -> Result<AuditHead, StoreError> + Send>;

/// The boxed future of a dialect's database call.
pub(crate) type DbFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// What differs between the backends, for the writer.
pub(crate) struct Dialect<DB: Database> {
    /// `BEGIN IMMEDIATE` on SQLite (take the write lock at once), `BEGIN` on PostgreSQL.
    pub(crate) begin: &'static str,
    /// Reads the audit head (on PostgreSQL locking its row until the commit).
    pub(crate) head: for<'c> fn(&'c mut DB::Connection) -> DbFuture<'c, AuditHead>,
    /// Runs a script in one round trip.
    pub(crate) run: for<'c> fn(&'c mut DB::Connection, &'c Script) -> DbFuture<'c, ()>,
}

impl<DB: Database> Clone for Dialect<DB> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<DB: Database> Copy for Dialect<DB> {}

/// Parameters in one batch script at most (SQLite refuses a parameter numbered past 32,766;
/// PostgreSQL counts at most 65,535 in a statement).
const MAX_SCRIPT_ARGS: usize = 30_000;

enum Work<DB: Database, E> {
    Job(Job<DB, E>),
    Script(Scripted),
}

/// Where a write's answer goes.
type Reply<E> = oneshot::Sender<Result<(), E>>;

struct Request<DB: Database, E> {
    work: Work<DB, E>,
    reply: Reply<E>,
}

/// The writer for one database and one kind of job error `E`; started on first use, inside the
/// caller's runtime.
pub(crate) struct GroupWriter<DB: Database, E> {
    pool: Pool<DB>,
    dialect: Dialect<DB>,
    sender: OnceLock<mpsc::UnboundedSender<Request<DB, E>>>,
    counters: Arc<Counters>,
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
    E: From<StoreError> + From<sqlx::Error> + Send + 'static,
{
    pub(crate) fn new(pool: Pool<DB>, dialect: Dialect<DB>) -> Arc<Self> {
        Arc::new(GroupWriter {
            pool,
            dialect,
            sender: OnceLock::new(),
            counters: Arc::default(),
        })
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
            busy_micros: self.counters.busy_micros.load(Ordering::Relaxed),
            commit_micros: self.counters.commit_micros.load(Ordering::Relaxed),
        }
    }

    /// Runs `job` in the next batch; returns once that batch is committed (durable) or failed.
    pub(crate) async fn write(&self, job: Job<DB, E>) -> Result<(), E> {
        self.send(Work::Job(job)).await
    }

    /// Runs a scripted write in the next batch, with the others there; returns once that batch
    /// is committed (durable) or failed.
    pub(crate) async fn write_script(&self, script: Scripted) -> Result<(), E> {
        self.send(Work::Script(script)).await
    }

    async fn send(&self, work: Work<DB, E>) -> Result<(), E> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let options = self.pool.connect_options();
            let dialect = self.dialect;
            let counters = Arc::clone(&self.counters);
            // If the thread or its runtime cannot start, `receiver` is dropped and every write
            // is answered `WriterStopped`.
            let _ = std::thread::Builder::new()
                .name("pishkhan-writer".into())
                .spawn(move || {
                    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        runtime.block_on(run(options, dialect, receiver, counters));
                    }
                });
            sender
        });
        let (reply, answer) = oneshot::channel();
        sender
            .send(Request { work, reply })
            .map_err(|_| E::from(StoreError::WriterStopped))?;
        answer
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?
    }
}

/// The writer's loop: until every sender is gone (the store is dropped), take what is waiting,
/// run it as one transaction, answer. Its connection is opened on first use and opened again
/// after a batch that failed as a whole (the connection may be what broke).
async fn run<DB, E>(
    options: Arc<<DB::Connection as Connection>::Options>,
    dialect: Dialect<DB>,
    mut receiver: mpsc::UnboundedReceiver<Request<DB, E>>,
    counters: Arc<Counters>,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + From<sqlx::Error> + Send + 'static,
{
    let mut connection: Option<DB::Connection> = None;
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .jobs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let conn = match &mut connection {
            Some(conn) => conn,
            None => match DB::Connection::connect_with(&options).await {
                Ok(conn) => connection.insert(conn),
                Err(error) => {
                    fail_all(batch, &error.to_string());
                    continue;
                }
            },
        };
        let whole = run_batch(conn, dialect, batch, &counters).await;
        counters.busy_micros.fetch_add(
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if !whole {
            connection = None;
        }
    }
}

/// One batch: every job, and every run of consecutive scripted writes, under its own savepoint;
/// one commit; then the answers. Says whether the batch went through as a whole (a write's own
/// refusal counts as going through).
async fn run_batch<DB, E>(
    conn: &mut DB::Connection,
    dialect: Dialect<DB>,
    batch: Vec<Request<DB, E>>,
    counters: &Counters,
) -> bool
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + From<sqlx::Error> + Send + 'static,
{
    // A savepoint is open at the start of each unit of work, opened with the statement before
    // it (the `BEGIN`, or the end of the unit before); `COMMIT` releases the last one.
    let opening = sqlx::AssertSqlSafe(format!("{}; SAVEPOINT item", dialect.begin));
    if let Err(error) = sqlx::raw_sql(opening).execute(&mut *conn).await {
        fail_all(batch, &error.to_string());
        return false;
    }
    let mut unit = Unit {
        conn,
        dialect,
        done: Vec::with_capacity(batch.len()),
        broken: None,
        head: None,
    };
    let mut scripts: Vec<(Scripted, Reply<E>)> = Vec::new();
    for request in batch {
        match request.work {
            Work::Script(script) => scripts.push((script, request.reply)),
            Work::Job(job) => {
                unit.scripts(std::mem::take(&mut scripts)).await;
                unit.job(job, request.reply).await;
            }
        }
    }
    unit.scripts(scripts).await;
    let Unit {
        conn, done, broken, ..
    } = unit;
    let commit_started = Instant::now();
    let committed = match broken {
        Some(problem) => Err(problem),
        None => sqlx::raw_sql("COMMIT")
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    counters.commit_micros.fetch_add(
        u64::try_from(commit_started.elapsed().as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    match committed {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
            true
        }
        Err(problem) => {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            for (reply, _) in done {
                let _ = reply.send(Err(E::from(StoreError::BatchFailed(problem.clone()))));
            }
            false
        }
    }
}

/// A batch in progress: its connection, the answers waiting for the commit, what broke it (after
/// which every write is refused), and the audit head as the batch's own writes left it.
struct Unit<'a, DB: Database, E> {
    conn: &'a mut DB::Connection,
    dialect: Dialect<DB>,
    done: Vec<(Reply<E>, Result<(), E>)>,
    broken: Option<String>,
    head: Option<AuditHead>,
}

impl<DB, E> Unit<'_, DB, E>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + From<sqlx::Error> + Send + 'static,
{
    fn refuse_if_broken(&self, reply: Reply<E>) -> Option<Reply<E>> {
        match &self.broken {
            Some(problem) => {
                let _ = reply.send(Err(E::from(StoreError::BatchFailed(problem.clone()))));
                None
            }
            None => Some(reply),
        }
    }

    /// Ends the unit that ran: kept (`RELEASE`) or undone (`ROLLBACK TO`), and the next
    /// savepoint opened.
    async fn close(&mut self, kept: bool) {
        let end = if kept {
            "RELEASE item; SAVEPOINT item"
        } else {
            "ROLLBACK TO item; RELEASE item; SAVEPOINT item"
        };
        if let Err(error) = sqlx::raw_sql(end).execute(&mut *self.conn).await {
            self.broken = Some(error.to_string());
        }
    }

    async fn job(&mut self, job: Job<DB, E>, reply: Reply<E>) {
        let Some(reply) = self.refuse_if_broken(reply) else {
            return;
        };
        let result = (job)(&mut *self.conn).await;
        // A job that went through may have moved the audit chain (by its own statements): the
        // next scripted write reads the head again. One that failed left it where it was.
        if result.is_ok() {
            self.head = None;
        }
        self.close(result.is_ok()).await;
        self.done.push((reply, result));
    }

    /// Consecutive scripted writes: as few scripts as the params limit allows; a script that
    /// fails is undone and its writes run again one by one.
    async fn scripts(&mut self, writes: Vec<(Scripted, Reply<E>)>) {
        let mut chunk: Vec<(Scripted, Reply<E>)> = Vec::new();
        let mut script = Script::default();
        for (write, reply) in writes {
            let Some(reply) = self.refuse_if_broken(reply) else {
                continue;
            };
            let head = match self.head().await {
                Ok(head) => head,
                Err(error) => {
                    let _ = reply.send(Err(error));
                    continue;
                }
            };
            let mark = script.mark();
            match write(&mut script, &head) {
                Ok(next) => {
                    self.head = Some(next);
                    chunk.push((write, reply));
                }
                Err(error) => {
                    script.truncate(mark);
                    self.done.push((reply, Err(E::from(error))));
                    continue;
                }
            }
            if script.args().len() >= MAX_SCRIPT_ARGS {
                self.run_chunk(std::mem::take(&mut chunk), std::mem::take(&mut script))
                    .await;
            }
        }
        self.run_chunk(chunk, script).await;
    }

    /// The audit head: as the batch left it, else read.
    async fn head(&mut self) -> Result<AuditHead, E> {
        if let Some(head) = &self.head {
            return Ok(head.clone());
        }
        match (self.dialect.head)(&mut *self.conn).await {
            Ok(head) => {
                self.head = Some(head.clone());
                Ok(head)
            }
            Err(error) => {
                // The transaction may be unusable now (PostgreSQL aborts it): the rest of the
                // batch is refused rather than run on it.
                self.broken = Some(error.to_string());
                Err(E::from(error))
            }
        }
    }

    async fn run_chunk(&mut self, chunk: Vec<(Scripted, Reply<E>)>, mut script: Script) {
        if chunk.is_empty() {
            return;
        }
        let Some(head) = self.head.clone() else {
            return;
        };
        move_head(&mut script, &head);
        let result = (self.dialect.run)(&mut *self.conn, &script).await;
        let kept = result.is_ok();
        self.close(kept).await;
        if kept {
            self.done
                .extend(chunk.into_iter().map(|(_, reply)| (reply, Ok(()))));
            return;
        }
        // One of them is at fault (a tracking code drawn twice, say): each alone, from the head
        // as it was before the chunk (read again).
        self.head = None;
        for (write, reply) in chunk {
            let Some(reply) = self.refuse_if_broken(reply) else {
                continue;
            };
            let head = match self.head().await {
                Ok(head) => head,
                Err(error) => {
                    self.done.push((reply, Err(error)));
                    continue;
                }
            };
            let mut alone = Script::default();
            let result = match write(&mut alone, &head) {
                Ok(next) => {
                    move_head(&mut alone, &next);
                    (self.dialect.run)(&mut *self.conn, &alone)
                        .await
                        .map(|()| next)
                        .map_err(E::from)
                }
                Err(error) => Err(E::from(error)),
            };
            match result {
                Ok(next) => {
                    self.head = Some(next);
                    self.close(true).await;
                    self.done.push((reply, Ok(())));
                }
                Err(error) => {
                    self.close(false).await;
                    self.done.push((reply, Err(error)));
                }
            }
        }
    }
}

/// Ends a script by moving the audit head row to `head`: once per script, as PostgreSQL
/// updates a row once per statement.
fn move_head(script: &mut Script, head: &AuditHead) {
    let seq = script.arg(Arg::Int(head.seq));
    let hash = script.arg(Arg::Text(head.hash.clone()));
    script.push(format!(
        "UPDATE audit_head SET seq = {seq}, hash = {hash} WHERE id = 1"
    ));
}

fn fail_all<DB: Database, E: From<StoreError>>(batch: Vec<Request<DB, E>>, problem: &str) {
    for request in batch {
        let _ = request
            .reply
            .send(Err(E::from(StoreError::BatchFailed(problem.to_owned()))));
    }
}
