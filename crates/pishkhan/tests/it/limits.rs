//! Nobody can exhaust the server without signing in: bounded attacks on loopback against the
//! real program, each checking that `/healthz` keeps answering and memory stays flat.
//!
//! The attackers connect from 127.0.0.2 (all of 127/8 is loopback on Linux), so the per-address
//! cap applies to them and not to the health checks from 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::{METRICS_TOKEN, Server, http_get, pishkhan};

/// The server's peak resident memory so far, in MiB.
fn peak_mib(server: &Server) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn serve(dir: &std::path::Path, settings: &[(&str, &str)]) -> Server {
    let mut command = pishkhan(dir);
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    for (name, value) in settings {
        command.env(name, value);
    }
    Server::start(command)
}

/// A TCP connection from 127.0.0.2.
fn attacker(address: &str) -> std::io::Result<TcpStream> {
    let target: SocketAddr = address.parse().unwrap();
    let socket = connect_from_second_loopback(target)?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(socket)
}

/// The standard library cannot choose a connection's source address; tokio's socket can, on a
/// small runtime, and hands the connection back as a blocking std stream.
fn connect_from_second_loopback(target: SocketAddr) -> std::io::Result<TcpStream> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind("127.0.0.2:0".parse().unwrap())?;
        let stream = socket.connect(target).await?;
        stream.into_std().and_then(|s| {
            s.set_nonblocking(false)?;
            Ok(s)
        })
    })
}

/// Whether the server has closed this connection (a read sees the end, or a reset).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 512];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

fn healthy(server: &Server) {
    let started = Instant::now();
    let (status, _) = http_get(&server.address, "/healthz");
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "/healthz took {:?}",
        started.elapsed()
    );
}

#[test]
fn slow_and_idle_connections_are_closed_and_health_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            ("PISHKHAN_HEADER_TIMEOUT", "1s"),
            ("PISHKHAN_MAX_CONNECTIONS_PER_ADDRESS", "32"),
            ("PISHKHAN_METRICS_TOKEN", METRICS_TOKEN),
        ],
    );
    // 120 connections from one address: half a request head each, then nothing (slowloris),
    // or nothing at all.
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..120 {
        let Ok(mut stream) = attacker(&server.address) else {
            refused += 1;
            continue;
        };
        if i % 2 == 0 {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        }
        held.push(stream);
    }
    healthy(&server);
    // Over the address's cap, connections were closed at once.
    let metrics = metrics_of(&server.address);
    let refused_by_server: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pishkhan_connections_refused_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        refused_by_server + refused >= 120 - 32,
        "refused {refused_by_server} (+{refused} at connect)"
    );
    // Within a little over the header timeout, every held connection is closed by the server.
    std::thread::sleep(Duration::from_millis(2500));
    for stream in &mut held {
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        assert!(closed_by_server(stream), "a slow connection is still open");
    }
    healthy(&server);
    // A whole, prompt request on a fresh connection from the same address is served again.
    let mut stream = attacker(&server.address).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.terminate();
}

#[test]
fn big_anonymous_bodies_are_refused_without_holding_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            ("PISHKHAN_MAX_CONNECTIONS_PER_ADDRESS", "1000"),
            ("PISHKHAN_MAX_BODY_IN_FLIGHT_MIB", "64"),
        ],
    );
    healthy(&server);
    let before = peak_mib(&server);
    // 300 anonymous tracking lookups, each with a body of 1 MiB, all at once.
    let address = server.address.clone();
    let clients: Vec<_> = (0..300)
        .map(|_| {
            let address = address.clone();
            std::thread::spawn(move || {
                let Ok(mut stream) = attacker(&address) else {
                    return 0;
                };
                let head = format!(
                    "POST /track HTTP/1.1\r\nHost: {address}\r\nContent-Type: \
                     application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                    1024 * 1024
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return 0;
                }
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..16 {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                }
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer)
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or(0)
            })
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    healthy(&server);
    let answered: Vec<u16> = statuses.iter().copied().filter(|s| *s != 0).collect();
    assert!(!answered.is_empty());
    assert!(
        answered.iter().all(|s| *s == 413 || *s == 503),
        "every body refused: {answered:?}"
    );
    let grew = peak_mib(&server).saturating_sub(before);
    assert!(grew < 100, "the server's peak memory grew by {grew} MiB");
    server.terminate();
}

#[test]
fn a_request_that_stalls_is_answered_408_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[("PISHKHAN_REQUEST_TIMEOUT", "2s")]);
    let mut stream = attacker(&server.address).unwrap();
    // A body that promises 1,000 bytes and sends ten.
    stream
        .write_all(
            b"POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: \
              application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncode=12345",
        )
        .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    healthy(&server);
    server.terminate();
}

/// `/metrics`, with the token.
fn metrics_of(address: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
}

#[test]
fn metrics_answer_only_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let off = serve(dir.path(), &[]);
    assert_eq!(
        http_get(&off.address, "/metrics").0,
        404,
        "no token set: off"
    );
    off.terminate();
    let on = serve(dir.path(), &[("PISHKHAN_METRICS_TOKEN", METRICS_TOKEN)]);
    assert_eq!(http_get(&on.address, "/metrics").0, 404, "no token given");
    assert!(metrics_of(&on.address).contains("pishkhan_connections_open"));
    on.terminate();
}
