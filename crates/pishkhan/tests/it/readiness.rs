//! `/readyz` follows the database: 503 within a second of PostgreSQL becoming unreachable, and
//! 200 again when it is back, without restarting the server.
//!
//! The shared PostgreSQL server is not stopped (other tests use it): the app reaches it through a
//! TCP relay that this test cuts and restores, which is what the app sees when the database host
//! goes away and comes back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pishkhan_app::App;
use pishkhan_store::testing::PostgresDatabase;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::{get, postgres_config};

/// Relays TCP connections from a local port to the database server, until stopped.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16, upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        tokio::io::copy_bidirectional(&mut client, &mut server)
                            .await
                            .ok();
                    }
                });
                connections.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay { port, tasks }
    }

    /// Closes the listening port and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn server_address(url: &str) -> SocketAddr {
    let after_scheme = url.split_once("://").unwrap().1;
    let authority = after_scheme.split('/').next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port.parse().unwrap()
}

/// Polls `/readyz` until it answers `status`, failing after `limit`. Returns how long it took.
async fn until_status(router: &axum::Router, status: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let reply = get(router, "/readyz", &[]).await;
        if reply.status == status {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "/readyz still {} after {:?}, expected {status}",
            reply.status,
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_without_a_restart() {
    let Some(database) = PostgresDatabase::create().await else {
        return;
    };
    let upstream = server_address(&database.url);
    let relay = Relay::start(0, upstream).await;
    let relayed_url = database
        .url
        .replacen(
            &upstream.to_string(),
            &format!("127.0.0.1:{}", relay.port),
            1,
        )
        .replacen("localhost:", "127.0.0.1:", 1);
    assert!(
        relayed_url.contains(&relay.port.to_string()),
        "{relayed_url}"
    );

    let app = App::start(postgres_config(&relayed_url)).await.unwrap();
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app.clone()).unwrap());
    until_status(&router, 200, Duration::from_secs(5)).await;

    relay.cut();
    let went_down = until_status(&router, 503, Duration::from_secs(1)).await;
    let down = get(&router, "/readyz", &[]).await;
    assert!(down.body.contains(r#""status":"unready""#));
    assert!(
        !down.body.contains("127.0.0.1"),
        "no internals in the answer"
    );
    // The liveness probe is about the process, not the database.
    assert_eq!(get(&router, "/healthz", &[]).await.status, 200);

    let restored = Relay::start(relay.port, upstream).await;
    let came_back = until_status(&router, 200, Duration::from_secs(10)).await;
    eprintln!("readyz: 503 after {went_down:?}, 200 again after {came_back:?}");
    restored.cut();
    app.close().await;
}
