//! A write as one round trip: statements whose `$n` parameters are numbered across all of them,
//! sent to SQLite as consecutive statements (its driver runs them all in one call) and to
//! PostgreSQL as one statement — every statement but the last as a data-modifying `WITH` part.
//! Foreign keys hold either way: PostgreSQL checks them at the end of the whole statement.
//!
//! Why: the group-commit writer runs its batch's writes one after another, and each statement is
//! a round trip to another thread (SQLite's driver) or process (PostgreSQL). A filing as twelve
//! statements spent most of its time in those trips; as one it does not.

use sqlx::AssertSqlSafe;

use crate::writer::{AuditHead, Dialect};

/// A value bound to one `$n`.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Maybe(Option<String>),
    Int(i64),
    MaybeInt(Option<i64>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Text(value.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Arg {
        Arg::Text(value.clone())
    }
}

impl From<&Option<String>> for Arg {
    fn from(value: &Option<String>) -> Arg {
        Arg::Maybe(value.clone())
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Arg {
        Arg::Maybe(value.map(str::to_owned))
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg::Int(value)
    }
}

/// Statements and the values of their parameters.
#[derive(Debug, Default)]
pub(crate) struct Script {
    statements: Vec<String>,
    args: Vec<Arg>,
}

impl Script {
    /// Adds a value; answers its placeholder.
    pub(crate) fn arg(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// `($a, $b, …)` for the given values, as one row of a `VALUES` list.
    pub(crate) fn row(&mut self, values: Vec<Arg>) -> String {
        let places: Vec<String> = values.into_iter().map(|v| self.arg(v)).collect();
        format!("({})", places.join(", "))
    }

    /// Adds a statement (no trailing `;`), written with placeholders from [`Script::arg`].
    pub(crate) fn push(&mut self, statement: String) {
        self.statements.push(statement);
    }

    /// Where the script ends now, to go back to with [`Script::truncate`].
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.statements.len(), self.args.len())
    }

    pub(crate) fn truncate(&mut self, (statements, args): (usize, usize)) {
        self.statements.truncate(statements);
        self.args.truncate(args);
    }

    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }

    pub(crate) fn sqlite(&self) -> AssertSqlSafe<String> {
        AssertSqlSafe(self.statements.join(";\n"))
    }

    pub(crate) fn postgres(&self) -> AssertSqlSafe<String> {
        let Some((last, first)) = self.statements.split_last() else {
            return AssertSqlSafe(String::new());
        };
        if first.is_empty() {
            return AssertSqlSafe(last.clone());
        }
        let parts: Vec<String> = first
            .iter()
            .enumerate()
            .map(|(i, s)| format!("s{i} AS ({s})"))
            .collect();
        AssertSqlSafe(format!("WITH {} {last}", parts.join(", ")))
    }
}

/// Runs `$script` on `$conn` in one round trip, with `$sql` the backend's text of it
/// (`script.sqlite()` or `script.postgres()`). Errors leave through `?` as `sqlx::Error`.
macro_rules! run_script {
    ($conn:expr, $script:expr, $sql:expr) => {{
        let script: &$crate::script::Script = $script;
        let mut query = sqlx::query($sql);
        for arg in script.args() {
            query = match arg {
                $crate::script::Arg::Text(v) => query.bind(v.as_str()),
                $crate::script::Arg::Maybe(v) => query.bind(v.as_deref()),
                $crate::script::Arg::Int(v) => query.bind(*v),
                $crate::script::Arg::MaybeInt(v) => query.bind(*v),
            };
        }
        query.execute(&mut *$conn).await?
    }};
}

/// The writer's SQLite: `BEGIN IMMEDIATE` takes the write lock at once.
pub(crate) const SQLITE: Dialect<sqlx::Sqlite> = Dialect {
    begin: "BEGIN IMMEDIATE",
    head: |conn| {
        Box::pin(async move {
            let (seq, hash): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(AuditHead { seq, hash })
        })
    },
    run: |conn, script| {
        Box::pin(async move {
            run_script!(conn, script, script.sqlite());
            Ok(())
        })
    },
};

/// The writer's PostgreSQL: the audit head's row is locked when first read, until the commit.
pub(crate) const POSTGRES: Dialect<sqlx::Postgres> = Dialect {
    begin: "BEGIN",
    head: |conn| {
        Box::pin(async move {
            let (seq, hash): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(AuditHead { seq, hash })
        })
    },
    run: |conn, script| {
        Box::pin(async move {
            run_script!(conn, script, script.postgres());
            Ok(())
        })
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_statements() {
        let mut script = Script::default();
        let a = script.arg("x");
        let row = script.row(vec![Arg::Int(1), Arg::Maybe(None)]);
        script.push(format!("INSERT INTO a (v) VALUES ({a})"));
        script.push(format!("INSERT INTO b (n, m) VALUES {row}"));
        script.push("UPDATE c SET n = 1".into());
        assert_eq!(
            script.sqlite().0,
            "INSERT INTO a (v) VALUES ($1);\nINSERT INTO b (n, m) VALUES ($2, $3);\nUPDATE c SET n = 1"
        );
        assert_eq!(
            script.postgres().0,
            "WITH s0 AS (INSERT INTO a (v) VALUES ($1)), s1 AS (INSERT INTO b (n, m) VALUES ($2, $3)) \
             UPDATE c SET n = 1"
        );
        assert_eq!(script.args().len(), 3);
    }
}
