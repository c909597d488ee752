//! The sandbox bank (`pishkhan bank-sim`) as its own process: the gateway flow Pishkhan's
//! payments are built against, each behaviour it can be told to show, and what it refuses.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::applications::request;
use crate::support::{Server, pishkhan};

pub(crate) const TERMINAL: &str = "T-1001";
pub(crate) const KEY: &str = "sandbox-key-1001";

pub(crate) fn bank(dir: &std::path::Path) -> Server {
    let mut command = pishkhan(dir);
    command
        .args(["bank-sim", "--listen", "127.0.0.1:0"])
        .env("PISHKHAN_BANK_TERMINALS", format!("{TERMINAL}:{KEY}"));
    Server::start(command)
}

fn post(bank: &Server, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = request(&bank.address, "POST", path, "", &body.to_string()).unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A form POST, as the person's browser sends it: status and page.
pub(crate) fn post_form(address: &str, path: &str, form: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply.split(' ').nth(1).unwrap().parse().unwrap();
    (status, reply.split_once("\r\n\r\n").unwrap().1.to_owned())
}

/// The hidden fields of the form the bank's page sends back to the merchant.
fn callback_form(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let name = input
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = input
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn ask(bank: &Server, order: &str, amount: i64, callback: &str) -> String {
    let (status, body) = post(
        bank,
        "/api/token",
        &json!({ "terminal": TERMINAL, "key": KEY, "amount": amount, "order": order,
                 "callback": callback }),
    );
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn by_token(token: &str) -> Value {
    json!({ "terminal": TERMINAL, "key": KEY, "token": token })
}

fn control(bank: &Server, mode: &str) {
    let (status, _) = post(bank, "/control", &json!({ "mode": mode }));
    assert_eq!(status, 204, "{mode}");
}

#[test]
fn the_sandbox_bank_pays_settles_and_refuses_as_a_gateway_does() {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    assert!(
        bank.banner[0].contains("Sandbox bank (no money moves)"),
        "{:?}",
        bank.banner
    );
    let callback = "http://127.0.0.1:9/payments/callback";

    // What it refuses before any money is asked.
    for (body, status, error) in [
        (
            json!({ "terminal": TERMINAL, "key": "wrong-key-000", "amount": 230_000, "order": "o", "callback": callback }),
            401,
            "terminal",
        ),
        (
            json!({ "terminal": TERMINAL, "key": KEY, "amount": 999, "order": "o", "callback": callback }),
            422,
            "amount",
        ),
        (
            json!({ "terminal": TERMINAL, "key": KEY, "amount": 230_000, "order": "", "callback": callback }),
            422,
            "order",
        ),
        (
            json!({ "terminal": TERMINAL, "key": KEY, "amount": 230_000, "order": "o", "callback": "javascript:x" }),
            422,
            "callback",
        ),
    ] {
        let (got, said) = post(&bank, "/api/token", &body);
        assert_eq!(
            (got, said["error"].as_str()),
            (status, Some(error)),
            "{body}"
        );
    }

    // Paid, verified, settled; in the day's settlement file.
    let token = ask(&bank, "P-1", 230_000, callback);
    assert_eq!(
        post(
            &bank,
            "/api/token",
            &json!({ "terminal": TERMINAL, "key": KEY,
        "amount": 230_000, "order": "P-1", "callback": callback })
        )
        .0,
        409,
        "an order id is used once"
    );
    let (status, page) = bank.get(&format!("/pay/{token}"));
    assert_eq!(status, 200);
    assert!(
        page.contains("هیچ پولی جابه‌جا نمی‌شود") && page.contains("۲۳۰٬۰۰۰ ریال"),
        "{page}"
    );
    let (status, page) = post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    assert_eq!(status, 200);
    let form = callback_form(&page);
    assert_eq!(field(&form, "status"), "paid", "{page}");
    assert_eq!(field(&form, "amount"), "230000");
    let reference = field(&form, "reference").to_owned();
    assert_eq!(reference.len(), 12);
    assert!(page.contains(&format!("action=\"{callback}\"")));
    let (_, said) = post(&bank, "/api/verify", &by_token(&token));
    assert_eq!(
        (said["status"].as_str(), said["amount"].as_i64()),
        (Some("paid"), Some(230_000))
    );
    assert_eq!(said["reference"].as_str(), Some(reference.as_str()));
    // Paying the same link again is refused.
    let (_, again) = post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    assert!(
        callback_form(&again).is_empty() && again.contains("پیش‌تر استفاده شده"),
        "{again}"
    );
    for _ in 0..2 {
        let (status, said) = post(&bank, "/api/settle", &by_token(&token));
        assert_eq!((status, said["status"].as_str()), (200, Some("settled")));
    }
    let (status, said) = post(&bank, "/api/reverse", &by_token(&token));
    assert_eq!((status, said["error"].as_str()), (409, Some("not_paid")));
    let today = chrono::Utc::now().date_naive();
    let (status, csv) = bank.get(&format!(
        "/api/settlement?terminal={TERMINAL}&key={KEY}&date={today}"
    ));
    assert_eq!(status, 200);
    assert!(
        csv.contains(&format!("{TERMINAL},P-1,{token},{reference},230000")),
        "{csv}"
    );
    assert_eq!(
        bank.get(&format!(
            "/api/settlement?terminal={TERMINAL}&key=nope-nope&date={today}"
        ))
        .0,
        401
    );

    // Cancelled by the person; declined by the bank.
    let token = ask(&bank, "P-2", 50_000, callback);
    let (_, page) = post_form(&bank.address, &format!("/pay/{token}"), "choice=cancel");
    assert_eq!(field(&callback_form(&page), "status"), "cancelled");
    control(&bank, "fail");
    let token = ask(&bank, "P-3", 50_000, callback);
    let (_, page) = post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    assert_eq!(field(&callback_form(&page), "status"), "declined");
    let (status, said) = post(&bank, "/api/settle", &by_token(&token));
    assert_eq!((status, said["error"].as_str()), (409, Some("not_paid")));

    // A different amount taken, and said so when verified.
    control(&bank, "amount");
    let token = ask(&bank, "P-4", 230_000, callback);
    post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    let (_, said) = post(&bank, "/api/verify", &by_token(&token));
    assert_eq!(said["amount"].as_i64(), Some(229_000));

    // The person never comes back: only an inquiry by order finds the payment; reversed.
    control(&bank, "timeout");
    let token = ask(&bank, "P-5", 230_000, callback);
    let (_, page) = post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    assert!(
        callback_form(&page).is_empty() && page.contains("پاسخ به پذیرنده نرسید"),
        "{page}"
    );
    let (_, said) = post(
        &bank,
        "/api/inquire",
        &json!({ "terminal": TERMINAL, "key": KEY, "order": "P-5" }),
    );
    assert_eq!(said["status"].as_str(), Some("paid"));
    let (status, said) = post(&bank, "/api/reverse", &by_token(&token));
    assert_eq!((status, said["status"].as_str()), (200, Some("reversed")));
    let (status, said) = post(&bank, "/api/settle", &by_token(&token));
    assert_eq!((status, said["error"].as_str()), (409, Some("not_paid")));

    // Called back twice: once server to server, then through the browser.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let merchant = listener.local_addr().unwrap();
    let heard = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buffer = [0u8; 4096];
        let n = stream.read(&mut buffer).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    });
    control(&bank, "double");
    let token = ask(
        &bank,
        "P-6",
        230_000,
        &format!("http://{merchant}/callback"),
    );
    let (_, page) = post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    let server_call = heard.join().unwrap();
    assert!(
        server_call.starts_with("POST /callback") && server_call.contains("status=paid"),
        "{server_call}"
    );
    assert_eq!(field(&callback_form(&page), "status"), "paid");

    // Someone else's terminal, or an unknown payment.
    let (status, _) = post(
        &bank,
        "/api/verify",
        &json!({ "terminal": TERMINAL, "key": "wrong-key-000", "token": token }),
    );
    assert_eq!(status, 401);
    let (status, said) = post(&bank, "/api/verify", &by_token("SBX0000"));
    assert_eq!((status, said["error"].as_str()), (404, Some("unknown")));
    assert_eq!(bank.get("/pay/SBX0000").0, 404);
    let token = ask(&bank, "P-7", 230_000, callback);
    assert_eq!(
        post_form(&bank.address, &format!("/pay/{token}"), "choice=steal").0,
        422
    );
    assert_eq!(
        post(&bank, "/control", &json!({ "mode": "explode" })).0,
        422
    );
}
