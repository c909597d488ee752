//! Documents in an S3-compatible bucket, against a real S3-compatible server the test starts
//! (`moto_server`, from PyPI's `moto[server]`, which `scripts/test` installs): a filing's scans
//! land in the bucket byte for byte, and nothing in the local folder. Without `moto_server` the
//! test says so and does nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pishkhan_store::{DatabaseLocation, PoolSettings, Store};
use serde_json::Value;

use crate::applications::{app_on, complete_body, request, token};
use crate::support::{Server, free_port, pishkhan, wait_until_listening};

struct Moto {
    child: Child,
    address: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<Moto> {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let address = format!("127.0.0.1:{port}");
    // Dropped (killed) if it never listens.
    let moto = Moto { child, address };
    wait_until_listening(&moto.address, Duration::from_secs(30)).then_some(moto)
}

/// One HTTP/1.1 request on a fresh connection: status, head and body (unchunked).
fn raw(
    address: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut bytes = reply[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bytes = unchunk(&bytes);
    }
    (status, head, bytes)
}

/// A request to the S3 server (it checks no signature on these): status and body.
fn s3(address: &str, method: &str, path: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = raw(address, method, path, "", "");
    (status, body)
}

/// Signs the demo's agency clerk in; the session token.
fn clerk_session(address: &str) -> String {
    let csrf = "csrf-token-of-at-least-thirty-two-characters";
    let (status, head, _) = raw(
        address,
        "POST",
        "/signin",
        &format!(
            "Cookie: pishkhan_csrf={csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        ),
        &format!(
            "csrf={csrf}&username=clerk.registry&password={}",
            pishkhan_app::demo::DEMO_PASSWORD
        ),
    );
    assert_eq!(status, 303);
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| value.trim().strip_prefix("pishkhan_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .expect("signed in")
}

fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filings_scans_land_in_the_bucket_byte_for_byte() {
    let Some(moto) = moto() else {
        eprintln!("skipped: moto_server is not installed (pip install 'moto[server]')");
        return;
    };
    assert_eq!(s3(&moto.address, "PUT", "/pishkhan-docs").0, 200);

    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    command.env("PISHKHAN_LOG_LEVEL", "warn");
    command.env("PISHKHAN_DOCUMENTS_S3_BUCKET", "pishkhan-docs");
    command.env(
        "PISHKHAN_DOCUMENTS_S3_ENDPOINT",
        format!("http://{}", moto.address),
    );
    command.env("AWS_ACCESS_KEY_ID", "test");
    command.env("AWS_SECRET_ACCESS_KEY", "test");
    let server = Server::start(command);
    let token = token(dir.path());
    let (app, _) = app_on(&dir.path().join("data")).await;
    let (body, documents) = complete_body(&app).await;

    let (status, reply) = request(
        &server.address,
        "POST",
        "/api/v1/applications",
        &token,
        &body.to_string(),
    )
    .unwrap();
    assert_eq!(status, 201, "{reply}");
    let code = serde_json::from_str::<Value>(&reply).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // Read back through the program: the agency's clerk downloads each scan from the desk.
    let session = clerk_session(&server.address);
    let store = Store::connect(
        &DatabaseLocation::SqliteFile(dir.path().join("data/pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let files = store.application_documents(&code).await.unwrap();
    assert_eq!(files.len(), documents);
    for file in &files {
        let (status, _, bytes) = raw(
            &server.address,
            "GET",
            &format!("/desk/applications/{code}/documents/{}", file.id),
            &format!("Cookie: pishkhan_session={session}\r\n"),
            "",
        );
        assert_eq!(
            status, 200,
            "{} did not come back from the bucket",
            file.object_key
        );
        assert_eq!(pishkhan_domain::digest::sha256_hex(&bytes), file.sha256);
    }
    // In the bucket, and nothing in the local folder.
    let (status, listing) = s3(&moto.address, "GET", "/pishkhan-docs?list-type=2");
    assert_eq!(status, 200);
    let listing = String::from_utf8_lossy(&listing);
    for file in &files {
        assert!(listing.contains(&file.object_key), "{listing}");
    }
    assert!(
        !dir.path().join("data/documents").exists(),
        "nothing in the local folder"
    );
    drop(server);
    store.close().await;
}
