//! Writes both backends share, as plain async functions on a connection of either kind.
//!
//! A statement's values are [`Arg`]s, as in scripts, so one function body serves SQLite and
//! PostgreSQL alike and reads top to bottom: no macro expands it twice, and a refusal (a row that
//! moved meanwhile) is an ordinary `return`. Each function runs inside the caller's transaction,
//! so what it writes commits, or not, with the rest.

use crate::script::Arg;
use crate::writer::DbFuture;

/// A connection of either backend, inside a transaction.
pub(crate) trait Connection: Send {
    /// Runs `sql` with `args` for its `$n`; answers how many rows it changed.
    fn execute<'c>(&'c mut self, sql: &'static str, args: Vec<Arg>) -> DbFuture<'c, u64>;

    /// Runs `sql`, which answers exactly one row of one whole number.
    fn fetch_int<'c>(&'c mut self, sql: &'static str, args: Vec<Arg>) -> DbFuture<'c, i64>;

    /// Runs `sql`, which answers exactly one row of a whole number and a text.
    fn fetch_int_text<'c>(
        &'c mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> DbFuture<'c, (i64, String)>;
}

/// Binds every [`Arg`] of `$args` to `$query`, in order.
macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v.as_str()),
                Arg::Maybe(v) => query.bind(v.as_deref()),
                Arg::Int(v) => query.bind(*v),
                Arg::MaybeInt(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// The same three methods for each backend's connection type (only the type differs).
macro_rules! connection_for {
    ($connection:ty) => {
        impl Connection for $connection {
            fn execute<'c>(&'c mut self, sql: &'static str, args: Vec<Arg>) -> DbFuture<'c, u64> {
                Box::pin(async move {
                    let done = bound!(sqlx::query(sql), &args).execute(&mut *self).await?;
                    Ok(done.rows_affected())
                })
            }

            fn fetch_int<'c>(&'c mut self, sql: &'static str, args: Vec<Arg>) -> DbFuture<'c, i64> {
                Box::pin(async move {
                    let (n,): (i64,) = bound!(sqlx::query_as(sql), &args)
                        .fetch_one(&mut *self)
                        .await?;
                    Ok(n)
                })
            }

            fn fetch_int_text<'c>(
                &'c mut self,
                sql: &'static str,
                args: Vec<Arg>,
            ) -> DbFuture<'c, (i64, String)> {
                Box::pin(async move {
                    bound!(sqlx::query_as(sql), &args)
                        .fetch_one(&mut *self)
                        .await
                })
            }
        }
    };
}

connection_for!(sqlx::SqliteConnection);
connection_for!(sqlx::PgConnection);
