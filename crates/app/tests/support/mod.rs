//! Shared by the app's test files: each test runs once on SQLite and once on PostgreSQL.

/// Declares, for each named `async fn(Store)`, a SQLite test and a PostgreSQL test.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = pishkhan_store::testing::fresh_sqlite().await;
                super::$name(db.store.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = pishkhan_store::testing::fresh_postgres().await else { return };
                super::$name(db.store.clone()).await;
            }
        }
    )+};
}
