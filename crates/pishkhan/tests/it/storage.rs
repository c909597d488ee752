//! A full disk: on a small file system the test mounts (tmpfs), filings are refused with 503
//! and a clear "storage is full" (no scan left behind), `/readyz` and `/metrics` say so, reads go
//! on, what was acknowledged before stays whole, and writes come back once there is room.
//!
//! Mounting needs root (as on the CI machine); elsewhere the test says so and does nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::applications::{app_on, complete_body, request, request_with, token};
use crate::support::{METRICS_TOKEN, pishkhan, run};

/// A tmpfs of `mib` MiB on `path`, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, mib: u32) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        let done = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=0700")])
            .arg("tmpfs")
            .arg(path)
            .output()
            .ok()?;
        done.status.success().then(|| SmallDisk {
            path: path.to_owned(),
        })
    }

    /// Bytes free, as `df` says.
    fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(&self.path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Grows (or shrinks) the filler file until `free` bytes are left, about.
    fn leave_free(&self, free: u64) {
        let filler = self.path.join("filler");
        let now = std::fs::metadata(&filler).map_or(0, |m| m.len());
        let target = (now + self.free()).saturating_sub(free);
        std::fs::write(&filler, vec![0u8; usize::try_from(target).unwrap()]).unwrap();
    }

    fn empty_filler(&self) {
        let _ = std::fs::remove_file(self.path.join("filler"));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn files_under(path: &Path) -> usize {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_keeps_serving_reads() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("data"), 32) else {
        eprintln!("skipped: cannot mount a small file system here (needs root)");
        return;
    };
    let server = demo_on(
        dir.path(),
        &[
            ("PISHKHAN_MIN_FREE_DISK_MIB", "2"),
            ("PISHKHAN_METRICS_TOKEN", METRICS_TOKEN),
        ],
    );
    let token = token(dir.path());
    let (app, _) = app_on(&dir.path().join("data")).await;
    let (body, _) = complete_body(&app).await;
    let post = |body: &str| {
        request(
            &server.address,
            "POST",
            "/api/v1/applications",
            &token,
            body,
        )
        .unwrap()
    };
    let (status, reply) = post(&body.to_string());
    assert_eq!(status, 201, "{reply}");
    let code = serde_json::from_str::<Value>(&reply).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let documents = dir.path().join("data/documents");
    let stored_files = files_under(&documents);

    // Room above the floor, but not for a 4 MiB scan: the write itself fails (no space left),
    // and is refused as "storage full", the scan's file removed.
    disk.leave_free(3 * MIB);
    let mut big = body.clone();
    let mut scan = pishkhan_app::applications::EXAMPLE_PDF.to_vec();
    scan.resize(4 * MIB as usize, b' ');
    big["documents"][0]["content_base64"] = Value::from(data_encoding::BASE64.encode(&scan));
    let (status, reply) = request_with(
        &server.address,
        "POST",
        "/api/v1/applications",
        &token,
        &big.to_string(),
        "Accept-Language: fa\r\n",
    )
    .unwrap();
    assert_eq!(status, 503, "{reply}");
    assert!(reply.contains("storage_full"), "{reply}");
    assert_eq!(files_under(&documents), stored_files, "no scan left behind");

    // Under the floor: refused before anything is written; /readyz and /metrics say why.
    disk.leave_free(MIB);
    let (status, reply) = post(&body.to_string());
    assert_eq!(status, 503, "{reply}");
    assert!(reply.contains("storage_full"), "{reply}");
    assert_eq!(files_under(&documents), stored_files);
    let (status, ready) = server.get("/readyz");
    assert_eq!(status, 503, "{ready}");
    assert!(ready.contains("storage full"), "{ready}");
    let metrics = metrics(&server.address);
    assert!(metrics.contains("pishkhan_storage_full 1"), "{metrics}");

    // Reads go on: the portal, and the application filed before.
    assert_eq!(server.get("/").0, 200);
    let (status, reply) = request(
        &server.address,
        "GET",
        &format!("/api/v1/applications/{code}"),
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");

    // Room again: ready, and filings go through.
    disk.empty_filler();
    assert_eq!(server.get("/readyz").0, 200);
    let (status, reply) = post(&body.to_string());
    assert_eq!(status, 201, "{reply}");
    drop(server);

    // What was acknowledged is whole, the audit chain unbroken.
    let mut verify = pishkhan(dir.path());
    verify.args(["audit", "verify", "--data-dir", "data"]);
    let done = run(verify, Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}{}", done.stdout, done.stderr);
    drop(disk);
}

fn demo_on(dir: &Path, settings: &[(&str, &str)]) -> crate::support::Server {
    let mut command = pishkhan(dir);
    command.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    command.env("PISHKHAN_LOG_LEVEL", "warn");
    for (name, value) in settings {
        command.env(name, value);
    }
    crate::support::Server::start(command)
}

fn metrics(address: &str) -> String {
    let (status, body) = request(address, "GET", "/metrics", METRICS_TOKEN, "").unwrap();
    assert_eq!(status, 200);
    body
}
