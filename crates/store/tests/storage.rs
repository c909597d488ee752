//! The storage test suite: every case runs on SQLite, and again on PostgreSQL when
//! `PISHKHAN_TEST_DATABASE_URL` names a server. Each case gets its own fresh database.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pishkhan_domain::audit::{ChainBreak, verify_chain};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::{Holiday, HolidayKind, HolidayYear, JalaliDate};
use pishkhan_store::testing::{
    execute_raw, fresh_postgres, fresh_sqlite, schema_columns, sqlite_pragmas,
};
use pishkhan_store::{
    Backend, CreateUserError, NewAuditEntry, NewUser, NodeRecord, Replace, Store,
};

use pishkhan_store::on_both_backends;

on_both_backends!(
    migrations_are_idempotent,
    ping_answers,
    a_registered_node_reads_back_whole,
    heartbeats_keep_a_node_live,
    a_stopped_node_is_not_live,
    a_duplicate_node_is_refused_and_the_first_kept,
    concurrent_writers_all_land,
    instants_keep_millisecond_precision,
    holiday_years_are_replaced_whole_and_read_back_in_order,
    the_seed_never_overwrites_an_edited_year,
    a_failed_holiday_import_changes_nothing,
    nodes_seeding_at_once_write_each_year_once,
    concurrent_audit_appends_form_one_intact_chain,
    the_audit_log_refuses_changes_through_the_database,
    an_edited_audit_entry_is_named,
    a_deleted_audit_entry_is_named,
    deleted_last_audit_entries_are_noticed,
    a_user_and_their_grants_read_back,
    a_taken_username_is_refused_and_nothing_half_written,
);

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + secs, 0).unwrap()
}

fn node(id: &str, started: DateTime<Utc>) -> NodeRecord {
    NodeRecord {
        id: id.to_owned(),
        hostname: "host-1".to_owned(),
        listen: "127.0.0.1:8080".to_owned(),
        version: "0.1.0".to_owned(),
        started_at: started,
        last_seen_at: started,
        stopped_at: None,
    }
}

async fn migrations_are_idempotent(store: Store) {
    // The fresh database is migrated already; running again changes nothing and fails nothing.
    store.migrate().await.unwrap();
    store.register_node(&node("n1", at(0))).await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.node("n1").await.unwrap().is_some());
}

async fn ping_answers(store: Store) {
    store.ping().await.unwrap();
}

async fn a_registered_node_reads_back_whole(store: Store) {
    let mut record = node("n-fa", at(10));
    record.hostname = "سرور-استان".to_owned();
    store.register_node(&record).await.unwrap();
    assert_eq!(store.node("n-fa").await.unwrap(), Some(record));
    assert_eq!(store.node("missing").await.unwrap(), None);
}

async fn heartbeats_keep_a_node_live(store: Store) {
    store.register_node(&node("old", at(0))).await.unwrap();
    store.register_node(&node("new", at(5))).await.unwrap();
    assert!(store.touch_node("old", at(100)).await.unwrap());
    assert!(!store.touch_node("nobody", at(100)).await.unwrap());

    let ids = |nodes: Vec<NodeRecord>| nodes.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.live_nodes(at(50)).await.unwrap()),
        ["old"],
        "only the node seen since t=50"
    );
    assert_eq!(
        ids(store.live_nodes(at(0)).await.unwrap()),
        ["old", "new"],
        "ordered by start"
    );
}

async fn a_stopped_node_is_not_live(store: Store) {
    store.register_node(&node("n1", at(0))).await.unwrap();
    assert!(store.stop_node("n1", at(30)).await.unwrap());
    assert!(!store.stop_node("n1", at(31)).await.unwrap(), "stops once");
    assert!(
        !store.touch_node("n1", at(40)).await.unwrap(),
        "no heartbeat after stop"
    );
    assert!(store.live_nodes(at(0)).await.unwrap().is_empty());
    let stored = store.node("n1").await.unwrap().unwrap();
    assert_eq!(stored.stopped_at, Some(at(30)));
    assert_eq!(stored.last_seen_at, at(30));
}

async fn a_duplicate_node_is_refused_and_the_first_kept(store: Store) {
    let first = node("same", at(0));
    store.register_node(&first).await.unwrap();
    let mut second = node("same", at(9));
    second.hostname = "intruder".to_owned();
    assert!(store.register_node(&second).await.is_err());
    assert_eq!(store.node("same").await.unwrap(), Some(first));
}

async fn concurrent_writers_all_land(store: Store) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("c{i:02}");
                store.register_node(&node(&id, at(i))).await?;
                store.touch_node(&id, at(i + 1000)).await
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap());
    }
    assert_eq!(store.live_nodes(at(1000)).await.unwrap().len(), 40);
}

async fn instants_keep_millisecond_precision(store: Store) {
    let started = at(0) + Duration::milliseconds(123);
    store.register_node(&node("ms", started)).await.unwrap();
    let stored = store.node("ms").await.unwrap().unwrap();
    assert_eq!(stored.started_at, started);
}

/// Both backends' migrations must build the same tables with the same columns.
#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let Some(pg) = fresh_postgres().await else {
        return;
    };
    let lite = fresh_sqlite().await;
    let sqlite_columns = schema_columns(&lite.store).await.unwrap();
    let postgres_columns = schema_columns(&pg.store).await.unwrap();
    assert!(sqlite_columns.contains(&("nodes".to_owned(), "last_seen_at".to_owned())));
    assert_eq!(
        sqlite_columns.iter().collect::<BTreeSet<_>>(),
        postgres_columns.iter().collect::<BTreeSet<_>>(),
        "tables and columns differ between migrations/sqlite and migrations/postgres"
    );
}

/// Every SQLite connection is durable (WAL + synchronous=FULL) and enforces foreign keys.
#[tokio::test]
async fn sqlite_connections_are_durable_and_enforce_foreign_keys() {
    let db = fresh_sqlite().await;
    // Several connections at once, so the pool must open more than one.
    let (a, b, c) = tokio::join!(
        sqlite_pragmas(&db.store),
        sqlite_pragmas(&db.store),
        sqlite_pragmas(&db.store)
    );
    for pragmas in [a, b, c] {
        assert_eq!(pragmas, Some(("wal".to_owned(), 2, 1)));
    }
}

fn holiday(date: &str, name: &str) -> Holiday {
    Holiday {
        date: JalaliDate::parse(date).unwrap(),
        name_fa: name.to_owned(),
        name_en: format!("{name} (en)"),
        kind: HolidayKind::Lunar,
    }
}

fn year(year: i32, covered: bool, holidays: Vec<Holiday>) -> HolidayYear {
    HolidayYear {
        year,
        covered,
        holidays,
    }
}

async fn holiday_years_are_replaced_whole_and_read_back_in_order(store: Store) {
    let years = [
        year(
            1405,
            false,
            vec![holiday("1405/01/02", "دوم"), holiday("1405/01/01", "اول")],
        ),
        year(1404, true, vec![holiday("1404/12/29", "نفت")]),
    ];
    let written = store
        .replace_holiday_years(&years, "test", Replace::All, at(0), &|_| None)
        .await
        .unwrap();
    assert_eq!(written, [1405, 1404]);
    let dates: Vec<String> = store
        .holidays()
        .await
        .unwrap()
        .iter()
        .map(|h| h.date.format_numeric())
        .collect();
    assert_eq!(dates, ["1404/12/29", "1405/01/01", "1405/01/02"]);
    let records = store.holiday_years().await.unwrap();
    assert_eq!(
        records
            .iter()
            .map(|r| (r.year, r.covered))
            .collect::<Vec<_>>(),
        [(1404, true), (1405, false)]
    );

    // Replacing 1405 drops its old days and keeps 1404.
    store
        .replace_holiday_years(
            &[year(1405, true, vec![holiday("1405/03/06", "قربان")])],
            "admin.csv",
            Replace::All,
            at(5),
            &|_| None,
        )
        .await
        .unwrap();
    let names: Vec<String> = store
        .holidays()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.name_fa)
        .collect();
    assert_eq!(names, ["نفت", "قربان"]);
    let y1405 = store.holiday_years().await.unwrap().pop().unwrap();
    assert_eq!(
        (y1405.covered, y1405.source.as_str(), y1405.updated_at),
        (true, "admin.csv", at(5))
    );
}

async fn the_seed_never_overwrites_an_edited_year(store: Store) {
    store
        .replace_holiday_years(
            &[year(1404, true, vec![holiday("1404/01/01", "ویرایش‌شده")])],
            "admin.csv",
            Replace::All,
            at(0),
            &|_| None,
        )
        .await
        .unwrap();
    let seed = [
        year(1404, true, vec![holiday("1404/01/01", "بذر")]),
        year(1405, false, vec![holiday("1405/01/01", "بذر")]),
    ];
    let written = store
        .replace_holiday_years(&seed, "seed", Replace::MissingOnly, at(1), &|_| None)
        .await
        .unwrap();
    assert_eq!(written, [1405], "only the year with no list");
    let names: Vec<(String, String)> = store
        .holidays()
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.date.format_numeric(), h.name_fa))
        .collect();
    assert_eq!(
        names,
        [
            ("1404/01/01".to_owned(), "ویرایش‌شده".to_owned()),
            ("1405/01/01".to_owned(), "بذر".to_owned())
        ]
    );
}

async fn a_failed_holiday_import_changes_nothing(store: Store) {
    store
        .replace_holiday_years(
            &[year(1404, true, vec![holiday("1404/01/01", "نوروز")])],
            "first",
            Replace::All,
            at(0),
            &|_| None,
        )
        .await
        .unwrap();
    // The second year repeats a (date, name): the database refuses it, and the whole import,
    // 1404 included, is rolled back.
    let broken = [
        year(1404, false, vec![holiday("1404/01/02", "جایگزین")]),
        year(
            1405,
            true,
            vec![
                holiday("1405/01/01", "تکراری"),
                holiday("1405/01/01", "تکراری"),
            ],
        ),
    ];
    assert!(
        store
            .replace_holiday_years(&broken, "broken", Replace::All, at(1), &|_| None)
            .await
            .is_err()
    );
    let holidays = store.holidays().await.unwrap();
    assert_eq!(holidays.len(), 1);
    assert_eq!(holidays[0].name_fa, "نوروز");
    let years = store.holiday_years().await.unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!(
        (years[0].covered, years[0].source.as_str()),
        (true, "first")
    );
}

async fn nodes_seeding_at_once_write_each_year_once(store: Store) {
    let seed = vec![
        year(
            1404,
            true,
            vec![
                holiday("1404/01/01", "نوروز"),
                holiday("1404/01/02", "نوروز ۲"),
            ],
        ),
        year(1405, false, vec![holiday("1405/01/01", "نوروز")]),
    ];
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let seed = seed.clone();
            tokio::spawn(async move {
                store
                    .replace_holiday_years(&seed, "seed", Replace::MissingOnly, at(0), &|_| None)
                    .await
            })
        })
        .collect();
    let mut writers = 0;
    for task in tasks {
        let written = task.await.unwrap().unwrap();
        if !written.is_empty() {
            writers += 1;
        }
    }
    assert_eq!(writers, 1, "exactly one seeding wrote the years");
    assert_eq!(store.holidays().await.unwrap().len(), 3);
}

fn audit_entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: at(n),
        actor: format!("user-{n}"),
        action: "holidays.import".to_owned(),
        target_kind: "holiday_year".to_owned(),
        target_id: format!("{}", 1400 + n),
        source: "127.0.0.1".to_owned(),
        details: format!("{{\"n\":{n}}}"),
    }
}

async fn verify(store: &Store) -> Result<i64, ChainBreak> {
    let (entries, head) = store.audit_chain().await.unwrap();
    verify_chain(entries, head)
}

/// What someone with direct database access would do first: remove the append-only guard.
async fn drop_the_guard(store: &Store) {
    let sql = match store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log;",
    };
    execute_raw(store, sql).await.unwrap();
}

async fn appended(store: &Store, n: i64) {
    for i in 1..=n {
        store.append_audit(&audit_entry(i)).await.unwrap();
    }
    assert_eq!(verify(store).await, Ok(n));
}

async fn concurrent_audit_appends_form_one_intact_chain(store: Store) {
    let tasks: Vec<_> = (1..=30)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.append_audit(&audit_entry(i)).await })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    assert_eq!(verify(&store).await, Ok(30));
}

async fn the_audit_log_refuses_changes_through_the_database(store: Store) {
    appended(&store, 2).await;
    assert!(
        execute_raw(&store, "UPDATE audit_log SET actor = 'x' WHERE seq = 1")
            .await
            .is_err()
    );
    assert!(
        execute_raw(&store, "DELETE FROM audit_log WHERE seq = 2")
            .await
            .is_err()
    );
    assert_eq!(verify(&store).await, Ok(2));
}

async fn an_edited_audit_entry_is_named(store: Store) {
    appended(&store, 5).await;
    drop_the_guard(&store).await;
    execute_raw(
        &store,
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3",
    )
    .await
    .unwrap();
    assert_eq!(verify(&store).await, Err(ChainBreak::Contents { seq: 3 }));
}

async fn a_deleted_audit_entry_is_named(store: Store) {
    appended(&store, 5).await;
    drop_the_guard(&store).await;
    execute_raw(&store, "DELETE FROM audit_log WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        verify(&store).await,
        Err(ChainBreak::Gap {
            expected: 2,
            found: 3
        })
    );
}

async fn deleted_last_audit_entries_are_noticed(store: Store) {
    appended(&store, 5).await;
    drop_the_guard(&store).await;
    execute_raw(&store, "DELETE FROM audit_log WHERE seq >= 4")
        .await
        .unwrap();
    assert_eq!(
        verify(&store).await,
        Err(ChainBreak::Truncated { last: 3, head: 5 })
    );
}

fn grant(role: &str, scope: &str) -> RoleGrant {
    RoleGrant::new(Role::from_code(role).unwrap(), Scope::parse(scope).unwrap()).unwrap()
}

fn new_user(id: &str, username: &str, grants: Vec<RoleGrant>) -> NewUser {
    NewUser {
        id: id.to_owned(),
        username: username.to_owned(),
        display_name: "مریم احمدی".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        grants,
        at: at(0),
        must_change_password: false,
    }
}

async fn a_user_and_their_grants_read_back(store: Store) {
    let grants = vec![
        grant("governorate-admin", "province:tehran"),
        grant("agency-editor", "agency:civil-registry/unit-2"),
    ];
    let user = new_user("u1", "m.ahmadi", grants);
    assert!(
        !format!("{user:?}").contains("argon2id"),
        "no hash in Debug"
    );
    store.create_user(&user, &audit_entry(0)).await.unwrap();
    let stored = store.user_by_username("m.ahmadi").await.unwrap().unwrap();
    assert_eq!(stored.id, "u1");
    assert_eq!(stored.display_name, "مریم احمدی");
    assert!(!stored.disabled);
    let mut expected = vec![
        grant("agency-editor", "agency:civil-registry/unit-2"),
        grant("governorate-admin", "province:tehran"),
    ];
    expected.sort();
    let mut got = stored.grants.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(
        store.password_hash("u1").await.unwrap().unwrap(),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    );
    assert!(store.user_by_username("nobody").await.unwrap().is_none());
}

async fn a_taken_username_is_refused_and_nothing_half_written(store: Store) {
    store
        .create_user(
            &new_user("u1", "clerk", vec![grant("agency-clerk", "agency:tax")]),
            &audit_entry(0),
        )
        .await
        .unwrap();
    let taken = store
        .create_user(
            &new_user("u2", "clerk", vec![grant("noc", "province:fars")]),
            &audit_entry(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(taken, CreateUserError::UsernameTaken(ref name) if name == "clerk"));

    // A grant that fails (the same grant twice) takes the new account with it.
    let twice = grant("operator", "centre:shiraz-1");
    assert!(
        store
            .create_user(
                &new_user("u3", "operator", vec![twice.clone(), twice]),
                &audit_entry(0),
            )
            .await
            .is_err()
    );
    assert!(store.user_by_username("operator").await.unwrap().is_none());
    let first = store.user_by_username("clerk").await.unwrap().unwrap();
    assert_eq!(first.grants, vec![grant("agency-clerk", "agency:tax")]);
}

/// A write behind a lock someone else holds fails after the lock timeout, instead of waiting
/// for as long as the lock is held (39 s, once, on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_behind_a_held_lock_fails_after_the_lock_timeout() {
    use sqlx::Connection;
    let settings = pishkhan_store::PoolSettings {
        lock_timeout: std::time::Duration::from_millis(800),
        ..pishkhan_store::PoolSettings::default()
    };
    // SQLite: another connection holds the write lock.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pishkhan.sqlite3");
    let location = pishkhan_store::DatabaseLocation::SqliteFile(path.clone());
    let store = Store::connect(&location, settings).await.unwrap();
    store.migrate().await.unwrap();
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert!(store.append_audit(&audit_entry(1)).await.is_err());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "SQLite waited {:?}",
        started.elapsed()
    );
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    store.append_audit(&audit_entry(1)).await.unwrap();

    // PostgreSQL: another transaction holds the audit chain's head row.
    let Some(database) = pishkhan_store::testing::PostgresDatabase::create().await else {
        return;
    };
    let location = pishkhan_store::DatabaseLocation::postgres_url(&database.url).unwrap();
    let store = Store::connect(&location, settings).await.unwrap();
    store.migrate().await.unwrap();
    let mut holder = sqlx::PgConnection::connect(&database.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let refused = store.append_audit(&audit_entry(1)).await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "PostgreSQL waited {:?}",
        started.elapsed()
    );
    assert!(refused.to_string().contains("lock"), "{refused}");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    store.append_audit(&audit_entry(1)).await.unwrap();
    store.close().await;
}
