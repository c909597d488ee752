//! Outputs through the running program: an agency system takes a birth certificate through the
//! registry's stages to its output; `pishkhan verify` checks the QR code — its text, and a
//! picture of the printed page — offline against the published keys; a changed byte, another
//! system's QR code and an unpublished key each get their own answer; after `pishkhan keys
//! rotate` the old output still verifies, and once its key is revoked it shows revoked, offline
//! and online.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::applications::{app_on, complete_body, demo, request, token};
use crate::support::{pishkhan, run};

fn verify(dir: &Path, keys: &Path, input: &str) -> (Option<i32>, String) {
    let mut command = pishkhan(dir);
    command.args(["verify", "--keys"]).arg(keys).arg(input);
    let done = run(command, Duration::from_secs(60));
    (done.code, format!("{}{}", done.stdout, done.stderr))
}

fn save_keys(address: &str, token: &str, path: &Path) -> Value {
    let (status, keys) = request(address, "GET", "/api/v1/keys", token, "").unwrap();
    assert_eq!(status, 200, "{keys}");
    std::fs::write(path, &keys).unwrap();
    serde_json::from_str(&keys).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_verifies_offline_from_its_qr_code_through_rotation_until_its_key_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo(dir.path());
    let token = token(dir.path());
    let (app, _) = app_on(&dir.path().join("data")).await;
    let (body, _) = complete_body(&app).await;
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

    // The registry's own stages, each action as the API lists it, with what it asks.
    let mut detail = Value::Null;
    for _ in 0..10 {
        let (_, shown) = request(
            &server.address,
            "GET",
            &format!("/api/v1/applications/{code}"),
            &token,
            "",
        )
        .unwrap();
        detail = serde_json::from_str(&shown).unwrap();
        if detail["state"] == "issued" {
            break;
        }
        let action = detail["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                !["request-documents", "reject", "withdraw"].contains(&a["code"].as_str().unwrap())
            })
            .unwrap_or_else(|| panic!("no way on: {detail}"))
            .clone();
        let mut fields = serde_json::Map::new();
        for asked in action["asks"].as_array().unwrap() {
            let value = if asked["code"] == "holder_name" {
                "علی رضایی"
            } else {
                "۱۲۳۴۵۶۷۸۹۰"
            };
            fields.insert(asked["code"].as_str().unwrap().to_owned(), json!(value));
        }
        if detail["state"] == "submitted" {
            // An output's PDF sent with a step that issues nothing, or not base64: refused,
            // each with its code, and nothing moves.
            for (pdf, refusal) in [
                ("%%% not base64", "not_base64"),
                ("JVBERi0xLjQKJSVFT0YK", "output_pdf_not_issuing"),
            ] {
                let (status, refused) = request(
                    &server.address,
                    "POST",
                    &format!("/api/v1/applications/{code}/actions"),
                    &token,
                    &json!({ "action": action["code"], "revision": detail["revision"],
                             "output_pdf_base64": pdf })
                    .to_string(),
                )
                .unwrap();
                assert_eq!(status, 422, "{refused}");
                assert!(refused.contains(refusal), "{refused}");
            }
        }
        let (status, moved) = request(
            &server.address,
            "POST",
            &format!("/api/v1/applications/{code}/actions"),
            &token,
            &json!({
                "action": action["code"], "revision": detail["revision"], "fields": fields,
                // The registry's own cashier took the fee: its system says so, as an
                // exemption from paying through Pishkhan (audited with this reason).
                "comment": if detail["state"] == "payment" { "هزینه در صندوق ثبت احوال دریافت شد" } else { "" },
            })
            .to_string(),
        )
        .unwrap();
        assert_eq!(status, 200, "{} → {moved}", action["code"]);
    }
    assert_eq!(detail["state"], "issued", "{detail}");
    let output = detail["outputs"][0].clone();
    assert_eq!(output["holder_name"], "علی رضایی");
    let payload = output["payload"].as_str().unwrap().to_owned();
    let number = output["number"].as_str().unwrap().to_owned();

    // Offline: the payload's text, and a picture of the printed page (the QR code on it).
    let keys = dir.path().join("keys.json");
    save_keys(&server.address, &token, &keys);
    let (exit, said) = verify(dir.path(), &keys, &payload);
    assert_eq!(exit, Some(0), "{said}");
    assert!(said.contains("VALID") && said.contains(&number), "{said}");
    let stored = dir.path().join("data/documents/outputs");
    let pdf = std::fs::read_dir(&stored)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{number}-"))
        })
        .expect("the PDF is stored under its number");
    let picture = dir.path().join("page");
    let rendered = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "300", "-singlefile"])
        .arg(&pdf)
        .arg(&picture)
        .status()
        .expect("pdftoppm (poppler-utils) is required");
    assert!(rendered.success());
    let (exit, said) = verify(
        dir.path(),
        &keys,
        picture.with_extension("png").to_str().unwrap(),
    );
    assert_eq!(exit, Some(0), "read from the picture: {said}");
    assert!(said.contains(&number), "{said}");

    // Bad input: each its own answer, and a failing exit.
    let mut changed = payload.clone().into_bytes();
    let at = changed.len() - 10;
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    let (exit, said) = verify(dir.path(), &keys, &String::from_utf8(changed).unwrap());
    assert_eq!(exit, Some(1));
    assert!(said.contains("TAMPERED"), "{said}");
    let (exit, said) = verify(dir.path(), &keys, "WIFI:S:cafe;T:WPA;P:secret;;");
    assert_eq!(exit, Some(1));
    assert!(said.contains("FOREIGN"), "{said}");
    let empty = dir.path().join("no-keys.json");
    std::fs::write(&empty, r#"{"keys":[]}"#).unwrap();
    let (exit, said) = verify(dir.path(), &empty, &payload);
    assert_eq!(exit, Some(1));
    assert!(said.contains("UNKNOWN KEY"), "{said}");
    let (exit, said) = verify(dir.path(), &dir.path().join("missing.json"), &payload);
    assert_eq!(exit, Some(1), "{said}");

    // The same output as a Verifiable Credential, checked offline too; one changed letter
    // breaks it.
    let credential_file = dir.path().join("output.vc.json");
    let credential = save_credential(&server.address, &token, &number, &credential_file);
    let (exit, said) = verify(dir.path(), &keys, credential_file.to_str().unwrap());
    assert_eq!(exit, Some(0), "{said}");
    assert!(
        said.contains("VALID") && said.contains("علی رضایی"),
        "{said}"
    );
    let mut forged = credential.clone();
    forged["credentialSubject"]["name"] = json!("علی رضائی");
    let forged_file = dir.path().join("forged.vc.json");
    std::fs::write(&forged_file, forged.to_string()).unwrap();
    let (exit, said) = verify(dir.path(), &keys, forged_file.to_str().unwrap());
    assert_eq!(exit, Some(1));
    assert!(said.contains("TAMPERED"), "{said}");
    assert!(!revoked_in_status_list(
        &server.address,
        &token,
        &credential
    ));

    // Rotation: a new key signs; the old output still verifies against the keys now published.
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    let old_key = first["keys"][0]["id"].as_str().unwrap().to_owned();
    let mut rotate = pishkhan(dir.path());
    rotate.args(["keys", "rotate", "--data-dir", "data"]);
    let done = run(rotate, Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let published = save_keys(&server.address, &token, &keys);
    assert_eq!(published["keys"].as_array().unwrap().len(), 2);
    let (exit, said) = verify(dir.path(), &keys, &payload);
    assert_eq!(exit, Some(0), "after rotation: {said}");

    // The key that signs now cannot be revoked; the old one can, and its outputs show revoked.
    let new_key = published["keys"][1]["id"].as_str().unwrap().to_owned();
    let mut refuse = pishkhan(dir.path());
    refuse.args([
        "keys",
        "revoke",
        &new_key,
        "--reason",
        "آزمون",
        "--data-dir",
        "data",
    ]);
    let done = run(refuse, Duration::from_secs(60));
    assert_eq!(done.code, Some(1), "{}", done.stdout);
    assert!(done.stderr.contains("rotate"), "{}", done.stderr);
    let mut revoke = pishkhan(dir.path());
    revoke.args([
        "keys",
        "revoke",
        &old_key,
        "--reason",
        "کلید به بیرون درز کرد",
        "--data-dir",
        "data",
    ]);
    let done = run(revoke, Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    save_keys(&server.address, &token, &keys);
    let (exit, said) = verify(dir.path(), &keys, &payload);
    assert_eq!(exit, Some(1));
    assert!(said.contains("REVOKED"), "{said}");
    let (_, online) = request(
        &server.address,
        "GET",
        &format!(
            "/api/v1/verify/{}",
            output["verification_code"].as_str().unwrap()
        ),
        &token,
        "",
    )
    .unwrap();
    let online: Value = serde_json::from_str(&online).unwrap();
    assert_eq!(online["status"], "revoked", "{online}");

    // The credential signed by the revoked key: refused offline, set in the status list, and
    // its key no longer an assertion method of the issuer. Downloaded again, it carries the
    // new key's proof, and the status list still says revoked.
    let (exit, said) = verify(dir.path(), &keys, credential_file.to_str().unwrap());
    assert_eq!(exit, Some(1));
    assert!(said.contains("REVOKED"), "{said}");
    assert!(revoked_in_status_list(&server.address, &token, &credential));
    let (_, issuer) = request(&server.address, "GET", "/api/v1/issuer", &token, "").unwrap();
    let issuer: Value = serde_json::from_str(&issuer).unwrap();
    assert!(
        !issuer["assertionMethod"]
            .as_array()
            .unwrap()
            .contains(&credential["proof"]["verificationMethod"]),
        "{issuer}"
    );
    let again = save_credential(&server.address, &token, &number, &credential_file);
    assert!(
        again["proof"]["verificationMethod"]
            .as_str()
            .unwrap()
            .ends_with(&new_key)
    );
    assert!(revoked_in_status_list(&server.address, &token, &again));
}

fn save_credential(address: &str, token: &str, number: &str, path: &Path) -> Value {
    let (status, text) = request(
        address,
        "GET",
        &format!("/api/v1/outputs/{number}/credential"),
        token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{text}");
    std::fs::write(path, &text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Reads a credential's entry in the status list it names (signed by a key the issuer lists).
fn revoked_in_status_list(address: &str, token: &str, credential: &Value) -> bool {
    let status = &credential["credentialStatus"];
    let url = status["statusListCredential"].as_str().unwrap();
    let path = &url[url.find("/api/").unwrap()..];
    let (code, list) = request(address, "GET", path, token, "").unwrap();
    assert_eq!(code, 200, "{list}");
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    let index: u64 = status["statusListIndex"].as_str().unwrap().parse().unwrap();
    pishkhan_domain::credential::status_list_entry(
        list["credentialSubject"]["encodedList"].as_str().unwrap(),
        index % pishkhan_domain::credential::STATUS_LIST_LENGTH,
    )
    .unwrap()
}
