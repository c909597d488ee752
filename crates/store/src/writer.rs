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
//! The writer fails safely. Its queue is bounded ([`WriterSettings::queue`]): a write that
//! finds it full is refused at once (`WriterBusy`, a 503 with `Retry-After` to the person) rather
//! than piling up memory. A caller waits at most [`WriterSettings::wait`] for its answer; a write
//! whose caller has stopped waiting before the writer reached it is not run. A job that panics
//! takes its batch down (nothing of it is committed, every caller in it is answered
//! `WriterStopped`) and the writer starts again on a fresh connection; while it is down,
//! `GroupWriter::is_up` says so (`/readyz` answers 503). The thread is started with the store,
//! so a process that cannot start it does not start at all.
//!
//! Why: on this class of disk one fsync costs 0.2–4 ms, so a commit per request caps durable
//! writes at a few hundred per second. On PostgreSQL the same writer serves another purpose:
//! every audited write takes the audit chain's head row, which serialises transactions; one
//! batch takes it once. (Each node has its own writer; nodes still serialise on the head row,
//! batch by batch.)

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::script::{Arg, Script};

/// Writes that share one commit, at most.
pub const MAX_BATCH: usize = 256;

/// How much the writer takes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterSettings {
    /// Writes waiting for the writer, at most; one more is refused (`WriterBusy`).
    pub queue: usize,
    /// How long a caller waits for its write's answer before it gives up (`WriterTimeout`).
    pub wait: Duration,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            queue: 4096,
            wait: Duration::from_secs(20),
        }
    }
}

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
    /// Writes refused because the queue was full.
    pub refused_busy: u64,
    /// Writes not run because their caller had stopped waiting.
    pub abandoned: u64,
    /// Times the writer started again after a job panicked.
    pub restarts: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
    busy_micros: AtomicU64,
    commit_micros: AtomicU64,
    refused_busy: AtomicU64,
    abandoned: AtomicU64,
    restarts: AtomicU64,
    /// The writer's loop is running (false while it starts again, and once it has ended).
    up: AtomicBool,
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

/// The writer for one database and one kind of job error `E`, on its own thread.
pub(crate) struct GroupWriter<DB: Database, E> {
    sender: mpsc::Sender<Request<DB, E>>,
    counters: Arc<Counters>,
    wait: Duration,
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
    /// Starts the writer's thread; an error if the thread cannot be started.
    pub(crate) fn start(
        pool: &Pool<DB>,
        dialect: Dialect<DB>,
        settings: WriterSettings,
    ) -> Result<Arc<Self>, StoreError> {
        let (sender, mut receiver) = mpsc::channel(settings.queue.max(1));
        let options = pool.connect_options();
        let counters = Arc::new(Counters::default());
        counters.up.store(true, Ordering::Relaxed);
        let shared = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("pishkhan-writer".into())
            .spawn(move || {
                // Until every sender is gone: a panic ends the runtime it happened in (and the
                // batch with it, uncommitted), and the loop starts again on a new one.
                loop {
                    shared.up.store(true, Ordering::Relaxed);
                    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()?;
                        runtime.block_on(run(&options, dialect, &mut receiver, &shared));
                        Ok::<(), std::io::Error>(())
                    }));
                    shared.up.store(false, Ordering::Relaxed);
                    match ran {
                        Ok(Ok(())) => return,
                        Ok(Err(error)) => {
                            tracing::error!(%error, "the database writer cannot start a runtime");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                        Err(_) => {
                            tracing::error!("a write panicked; the database writer starts again");
                        }
                    }
                    shared.restarts.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(StoreError::WriterStart)?;
        Ok(Arc::new(GroupWriter {
            sender,
            counters,
            wait: settings.wait,
        }))
    }

    pub(crate) fn stats(&self) -> WriteStats {
        let c = &self.counters;
        WriteStats {
            batches: c.batches.load(Ordering::Relaxed),
            jobs: c.jobs.load(Ordering::Relaxed),
            busy_micros: c.busy_micros.load(Ordering::Relaxed),
            commit_micros: c.commit_micros.load(Ordering::Relaxed),
            refused_busy: c.refused_busy.load(Ordering::Relaxed),
            abandoned: c.abandoned.load(Ordering::Relaxed),
            restarts: c.restarts.load(Ordering::Relaxed),
        }
    }

    /// Whether the writer is running (not starting again after a panic, not ended).
    pub(crate) fn is_up(&self) -> bool {
        self.counters.up.load(Ordering::Relaxed) && !self.sender.is_closed()
    }

    /// Writes waiting for the writer now.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
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
        let (reply, answer) = oneshot::channel();
        match self.sender.try_send(Request { work, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.refused_busy.fetch_add(1, Ordering::Relaxed);
                return Err(E::from(StoreError::WriterBusy));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(E::from(StoreError::WriterStopped));
            }
        }
        match tokio::time::timeout(self.wait, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(E::from(StoreError::WriterStopped)),
            // Dropping `answer` tells the writer not to run the write if it has not reached it.
            Err(_) => Err(E::from(StoreError::WriterTimeout)),
        }
    }
}

/// The writer's loop: until every sender is gone (the store is dropped), take what is waiting,
/// run it as one transaction, answer. Its connection is opened on first use and opened again
/// after a batch that failed as a whole (the connection may be what broke).
async fn run<DB, E>(
    options: &<DB::Connection as Connection>::Options,
    dialect: Dialect<DB>,
    receiver: &mut mpsc::Receiver<Request<DB, E>>,
    counters: &Counters,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: From<StoreError> + From<sqlx::Error> + Send + 'static,
{
    let mut connection: Option<DB::Connection> = None;
    while let Some(first) = receiver.recv().await {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(request) = next {
            // A caller that stopped waiting has been answered `WriterTimeout`: its write is not
            // run at all.
            if request.reply.is_closed() {
                counters.abandoned.fetch_add(1, Ordering::Relaxed);
            } else {
                batch.push(request);
            }
            next = if batch.len() < MAX_BATCH {
                receiver.try_recv().ok()
            } else {
                None
            };
        }
        if batch.is_empty() {
            continue;
        }
        let started = Instant::now();
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .jobs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let conn = match &mut connection {
            Some(conn) => conn,
            None => match DB::Connection::connect_with(options).await {
                Ok(conn) => connection.insert(conn),
                Err(error) => {
                    fail_all(batch, &Failure::of(&error));
                    continue;
                }
            },
        };
        let whole = run_batch(conn, dialect, batch, counters).await;
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
        fail_all(batch, &Failure::of(&error));
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
            .map_err(|e| Failure::of(&e)),
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
                let _ = reply.send(Err(E::from(problem.error())));
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
    broken: Option<Failure>,
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
                let _ = reply.send(Err(E::from(problem.error())));
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
            self.broken = Some(Failure::of(&error));
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
                self.broken = Some(Failure::of(&error));
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

fn fail_all<DB: Database, E: From<StoreError>>(batch: Vec<Request<DB, E>>, problem: &Failure) {
    for request in batch {
        let _ = request.reply.send(Err(E::from(problem.error())));
    }
}

/// Why a batch could not be committed, for every write in it: the storage is full (the person
/// is told so and asked to come back), or something else.
#[derive(Debug, Clone)]
struct Failure {
    full: bool,
    message: String,
}

impl Failure {
    fn of(error: &sqlx::Error) -> Failure {
        Failure {
            full: crate::error::is_storage_full(error),
            message: error.to_string(),
        }
    }

    fn error(&self) -> StoreError {
        if self.full {
            StoreError::StorageFull
        } else {
            StoreError::BatchFailed(self.message.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::Sqlite;
    use tokio::sync::oneshot;

    use super::*;
    use crate::applications::WriteError;
    use crate::testing::{TestDatabase, fresh_sqlite};

    type Writer = Arc<GroupWriter<Sqlite, WriteError>>;

    async fn writer(queue: usize, wait: Duration) -> (TestDatabase, Writer) {
        let db = fresh_sqlite().await;
        let crate::Pool::Sqlite(pool) = &db.store.pool else {
            unreachable!("a fresh SQLite store")
        };
        let writer =
            GroupWriter::start(pool, crate::script::SQLITE, WriterSettings { queue, wait })
                .unwrap();
        writer
            .write(statement("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            .await
            .unwrap();
        (db, writer)
    }

    fn statement(sql: &'static str) -> Job<Sqlite, WriteError> {
        Box::new(move |conn| {
            Box::pin(async move {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
    }

    /// A scripted write of one row.
    fn insert(x: i64) -> Scripted {
        Box::new(move |script: &mut Script, head: &AuditHead| {
            let x = script.arg(Arg::Int(x));
            script.push(format!("INSERT INTO t (x) VALUES ({x})"));
            Ok(head.clone())
        })
    }

    /// A job that holds the writer until it is released, so that what is sent meanwhile waits
    /// in the queue and then goes as one batch. Answers once the job is running.
    async fn hold(writer: &Writer) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let (started, running) = oneshot::channel();
        let (release, released) = oneshot::channel::<()>();
        let job: Job<Sqlite, WriteError> = Box::new(move |_conn| {
            Box::pin(async move {
                let _ = started.send(());
                let _ = released.await;
                Ok(())
            })
        });
        let w = Arc::clone(writer);
        let done = tokio::spawn(async move {
            let _ = w.write(job).await;
        });
        running.await.unwrap();
        (release, done)
    }

    async fn queued(writer: &Writer, n: usize) {
        for _ in 0..500 {
            if writer.queued() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("{n} writes never queued (now {})", writer.queued());
    }

    async fn rows(db: &TestDatabase) -> Vec<i64> {
        let crate::Pool::Sqlite(pool) = &db.store.pool else {
            unreachable!()
        };
        sqlx::query_scalar("SELECT x FROM t ORDER BY x")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    fn send_script(writer: &Writer, x: i64) -> tokio::task::JoinHandle<Result<(), WriteError>> {
        let w = Arc::clone(writer);
        tokio::spawn(async move { w.write_script(insert(x)).await })
    }

    #[tokio::test]
    async fn a_failing_write_in_a_batch_is_refused_alone() {
        let (db, writer) = writer(16, Duration::from_secs(10)).await;
        let (release, held) = hold(&writer).await;
        let batches_before = writer.stats().batches;
        let first = send_script(&writer, 1);
        queued(&writer, 1).await;
        let twice = send_script(&writer, 1);
        queued(&writer, 2).await;
        let third = send_script(&writer, 3);
        queued(&writer, 3).await;
        release.send(()).unwrap();
        held.await.unwrap();
        assert!(first.await.unwrap().is_ok());
        assert!(matches!(
            twice.await.unwrap(),
            Err(WriteError::Store(StoreError::Database(_)))
        ));
        assert!(third.await.unwrap().is_ok());
        assert_eq!(rows(&db).await, [1, 3]);
        // The three shared one batch (the held job's batch ended before they were taken).
        assert_eq!(writer.stats().batches, batches_before + 1);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let (db, writer) = writer(2, Duration::from_secs(10)).await;
        let (release, held) = hold(&writer).await;
        let a = send_script(&writer, 1);
        let b = send_script(&writer, 2);
        queued(&writer, 2).await;
        let refused = writer.write_script(insert(3)).await;
        assert!(matches!(
            refused,
            Err(WriteError::Store(StoreError::WriterBusy))
        ));
        release.send(()).unwrap();
        held.await.unwrap();
        assert!(a.await.unwrap().is_ok() && b.await.unwrap().is_ok());
        assert_eq!(rows(&db).await, [1, 2]);
        assert_eq!(writer.stats().refused_busy, 1);
    }

    #[tokio::test]
    async fn a_write_whose_caller_stopped_waiting_is_not_run() {
        let (db, writer) = writer(16, Duration::from_millis(200)).await;
        let (release, held) = hold(&writer).await;
        let late = writer.write_script(insert(7)).await;
        assert!(matches!(
            late,
            Err(WriteError::Store(StoreError::WriterTimeout))
        ));
        release.send(()).unwrap();
        held.await.unwrap();
        writer.write_script(insert(8)).await.unwrap();
        assert_eq!(rows(&db).await, [8]);
        assert_eq!(writer.stats().abandoned, 1);
    }

    #[tokio::test]
    async fn a_panicking_write_takes_its_batch_down_and_the_writer_starts_again() {
        let (db, writer) = writer(16, Duration::from_secs(10)).await;
        let (release, held) = hold(&writer).await;
        let before = send_script(&writer, 1);
        queued(&writer, 1).await;
        let w = Arc::clone(&writer);
        let panics = tokio::spawn(async move {
            let job: Job<Sqlite, WriteError> =
                Box::new(|_conn| Box::pin(async { panic!("a write that panics (on purpose)") }));
            w.write(job).await
        });
        queued(&writer, 2).await;
        release.send(()).unwrap();
        held.await.unwrap();
        assert!(matches!(
            before.await.unwrap(),
            Err(WriteError::Store(StoreError::WriterStopped))
        ));
        assert!(matches!(
            panics.await.unwrap(),
            Err(WriteError::Store(StoreError::WriterStopped))
        ));
        // Nothing of that batch was stored; the writer is back and takes the next write.
        writer.write_script(insert(2)).await.unwrap();
        assert_eq!(rows(&db).await, [2]);
        assert_eq!(writer.stats().restarts, 1);
        assert!(writer.is_up());
    }
}
