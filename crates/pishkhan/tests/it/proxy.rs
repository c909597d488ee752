//! Behind a real reverse proxy (Debian's nginx, as a province would run it): limits count each
//! client, not the proxy; a client cannot pick its own address by sending `X-Forwarded-For`,
//! through the proxy or around it.
//!
//! The clients connect from 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback on Linux). Needs
//! `nginx` installed (`scripts/test` installs it); without it the test says so and does nothing.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Server, free_port, pishkhan, wait_until_listening};

struct Nginx {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx on a free port of 127.0.0.1, passing everything to `upstream` with the client's
/// address appended to `X-Forwarded-For`, as its documentation configures it.
fn nginx_in_front_of(upstream: &str) -> Option<Nginx> {
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = format!(
        "worker_processes 1;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {dir}/body;\n\
           proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n\
           uwsgi_temp_path {dir}/uwsgi;\n\
           scgi_temp_path {dir}/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{\n\
               proxy_pass http://{upstream};\n\
               proxy_set_header Host $host;\n\
               proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             }}\n\
           }}\n\
         }}\n",
        dir = dir.path().display()
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(binary)
        .args(["-e", "stderr", "-g", "daemon off;", "-c"])
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let address = format!("127.0.0.1:{port}");
    assert!(
        wait_until_listening(&address, Duration::from_secs(10)),
        "nginx did not start"
    );
    Some(Nginx {
        child,
        address,
        _dir: dir,
    })
}

/// A sign-in attempt from `from` (a loopback address) to `to`, with extra header lines; the
/// status.
fn sign_in(from: &str, to: &str, extra: &str) -> u16 {
    let target: SocketAddr = to.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(format!("{from}:0").parse().unwrap())?;
            socket.connect(target).await?.into_std()
        })
        .unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let csrf = "csrf-token-of-at-least-thirty-two-characters";
    let body = format!("csrf={csrf}&username=ghost&password=wrong+guess+again");
    let request = format!(
        "POST /signin HTTP/1.1\r\nHost: {to}\r\nCookie: pishkhan_csrf={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn limits_count_each_client_behind_the_proxy_and_nobody_picks_their_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    command.env("PISHKHAN_TRUSTED_PROXIES", "127.0.0.1");
    command.env("PISHKHAN_LOG_LEVEL", "warn");
    let server = Server::start(command);
    let Some(nginx) = nginx_in_front_of(&server.address) else {
        eprintln!("skipped: nginx is not installed");
        return;
    };
    let proxy = nginx.address.as_str();

    // Client A, through the proxy: five wrong passwords, then slowed down.
    for _ in 0..5 {
        assert_eq!(sign_in("127.0.0.2", proxy, ""), 401);
    }
    assert_eq!(sign_in("127.0.0.2", proxy, ""), 429);
    // Client B, through the same proxy, is not: limits count clients, not the proxy.
    assert_eq!(sign_in("127.0.0.3", proxy, ""), 401);
    // A cannot escape by naming another address: the proxy appends the real one, and only
    // that (the rightmost hop) is believed.
    assert_eq!(
        sign_in("127.0.0.2", proxy, "X-Forwarded-For: 203.0.113.77\r\n"),
        429
    );
    // Nor around the proxy: from an address that is not a trusted proxy, the header is ignored
    // and A is A.
    assert_eq!(
        sign_in(
            "127.0.0.2",
            &server.address,
            "X-Forwarded-For: 203.0.113.78\r\n"
        ),
        429
    );
    // And B, straight to the server, is still B.
    assert_eq!(sign_in("127.0.0.3", &server.address, ""), 401);
    drop(nginx);
    drop(server);
}
