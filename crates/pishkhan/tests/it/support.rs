//! Helpers shared by the integration tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use pishkhan_app::config::{Config, DatabaseChoice, Sources};
use pishkhan_app::{App, Secret};
use pishkhan_store::Store;
use pishkhan_web::WebState;
use tower::ServiceExt;

pub(crate) use pishkhan_store::on_both_backends;

/// A configuration with defaults, for an app built on a store the test opened itself.
pub fn test_config() -> Config {
    let mut config = Config::load(&Sources::default()).unwrap();
    // Its own data folder (key files are made there at first use), never the working folder.
    config.data_dir = tempfile::tempdir().unwrap().keep();
    config.metrics_token = Secret::new(METRICS_TOKEN.to_owned());
    config
}

/// The metrics token of [`test_config`].
pub const METRICS_TOKEN: &str = "metrics-token-for-the-tests";

/// The header that opens `/metrics` under [`test_config`].
pub const METRICS_AUTH: (&str, &str) = ("authorization", "Bearer metrics-token-for-the-tests");

pub fn postgres_config(url: &str) -> Config {
    let mut config = test_config();
    config.database = DatabaseChoice::Postgres(Secret::new(url.to_owned()));
    config
}

/// The whole router, with middleware, on `store`.
pub fn router_on(store: Store) -> Router {
    pishkhan_web::router(state_on(store))
}

pub fn state_on(store: Store) -> WebState {
    WebState::new(App::with_store(test_config(), store).unwrap()).unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// Sends one GET through the router, in process.
pub async fn get(router: &Router, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(router, Request::get(path), headers, Body::empty()).await
}

/// Sends one POST with a JSON body through the router, in process.
pub async fn post_json(router: &Router, path: &str, json: &str, headers: &[(&str, &str)]) -> Reply {
    let request = Request::post(path).header("content-type", "application/json");
    send(router, request, headers, Body::from(json.to_owned())).await
}

/// Sends one request with a form body (`application/x-www-form-urlencoded`).
pub async fn send_form(
    router: &Router,
    method: http::Method,
    path: &str,
    form: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    send(router, request, headers, Body::from(form.to_owned())).await
}

async fn send(
    router: &Router,
    mut request: http::request::Builder,
    headers: &[(&str, &str)],
    body: Body,
) -> Reply {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// The `pishkhan` program, with no PISHKHAN_* settings from the test's own environment, run in
/// `dir` so default data folders land there.
pub fn pishkhan(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PISHKHAN_") {
            command.env_remove(name);
        }
    }
    command.current_dir(dir);
    command
}

pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command to its end, failing the test if it takes longer than `limit`.
pub fn run(mut command: Command, limit: Duration) -> Finished {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child, limit).expect("the program did not finish in time");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Finished {
        code: status.code(),
        stdout,
        stderr,
    }
}

pub fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `pishkhan serve` (or `demo`); killed if the test ends without stopping it.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`, read from the program's first line.
    pub address: String,
    /// Everything it printed on stdout, the first line included.
    pub banner: Vec<String>,
    /// Its stderr (the log), when started with [`Server::start_capturing_log`].
    pub log: Option<std::process::ChildStderr>,
}

impl Server {
    /// Starts the command (which must listen on port 0 or a free port) and waits for its
    /// "is serving http://…" line.
    pub fn start(command: Command) -> Server {
        Server::spawn(command, false)
    }

    /// Like [`Server::start`], keeping the program's log (stderr) for the test to read.
    pub fn start_capturing_log(command: Command) -> Server {
        Server::spawn(command, true)
    }

    fn spawn(mut command: Command, capture_log: bool) -> Server {
        let log = if capture_log {
            Stdio::piped()
        } else {
            Stdio::inherit()
        };
        let mut child = command.stdout(Stdio::piped()).stderr(log).spawn().unwrap();
        let log = child.stderr.take();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let address = loop {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the server did not say where it serves");
            banner.push(line.clone());
            if let Some((_, url)) = line.split_once(" is serving http://") {
                break url.trim().to_owned();
            }
        };
        // The rest of the banner follows at once.
        while let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(300)) {
            banner.push(line);
        }
        Server {
            child,
            address,
            banner,
            log,
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.address, path)
    }

    /// Sends SIGTERM, waits for the program to end, and returns its captured log (empty unless
    /// started with [`Server::start_capturing_log`]).
    pub fn terminate_reading_log(mut self) -> (std::process::ExitStatus, String) {
        let mut log = String::new();
        let reader = self.log.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                stderr.read_to_string(&mut text).ok();
                text
            })
        });
        let status = self.terminate();
        if let Some(reader) = reader {
            log = reader.join().unwrap();
        }
        (status, log)
    }

    /// Sends SIGTERM and waits for the program to end.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        wait(&mut self.child, Duration::from_secs(20)).expect("no clean stop within 20 s")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A plain HTTP/1.1 GET over TCP: status and body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A port of 127.0.0.1 nothing listens on now (for a server the test starts next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Waits until something accepts connections at `address`; false if nothing did within `limit`.
pub fn wait_until_listening(address: &str, limit: Duration) -> bool {
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}
