// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use super::*;

fn key() -> SigningKey {
    let seed: [u8; 32] = data_encoding::HEXLOWER
        .decode(b"9b937b81322d816cfab9d5a3baacc9b2a5febe4b149f126b3630f93a29527017")
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&seed)
}

#[test]
fn canonical_json_matches_rfc_8785_as_the_npm_canonicalize_package_prints_it() {
    // Expected text from npm `canonicalize` 2.0 (RFC 8785's reference), run on the same input:
    // members sorted by UTF-16 code units (the emoji's surrogate pair before U+FB33), only the
    // seven escapes JSON.stringify makes, U+2028 left as it is.
    let doc = json!({"peach":"This sorting order","péché":"is wrong according to French",
        "pêche":"but canonicalization MUST","sin":"ignore locale","\u{20ac}":"Euro Sign",
        "\r":"Carriage Return","\u{1f600}":"Emoji: Grinning Face","1":"One","\u{80}":"Control",
        "\u{fb33}":"Hebrew Letter Dalet With Dagesh","نام":"محمد\u{7}\"\\\n/\u{2028}",
        "n":[1,-9007199254740992_i64,true,null,{}]});
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"n\":[1,-9007199254740992,true,null,{}],\
        \"peach\":\"This sorting order\",\"péché\":\"is wrong according to French\",\
        \"pêche\":\"but canonicalization MUST\",\"sin\":\"ignore locale\",\"\u{80}\":\"Control\",\
        \"نام\":\"محمد\\u0007\\\"\\\\\\n/\u{2028}\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\
        \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canonical_json(&doc).unwrap(), expected);
}

#[test]
fn canonical_json_refuses_numbers_it_cannot_print_as_ecmascript_does() {
    for n in [json!(1.5), json!(9_007_199_254_740_993_u64), json!(1e300)] {
        assert!(matches!(
            canonical_json(&json!({ "n": n })),
            Err(CredentialError::NotCanonical(_))
        ));
    }
}

#[test]
fn base58btc_round_trips_and_keeps_leading_zeros() {
    assert_eq!(base58btc(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
    assert_eq!(base58btc(&[0, 0, 1]), "112");
    assert_eq!(base58btc(&[]), "");
    for bytes in [
        vec![0u8, 0, 255, 1],
        vec![7u8; 64],
        b"Hello World!".to_vec(),
    ] {
        assert_eq!(base58btc_decode(&base58btc(&bytes)).unwrap(), bytes);
    }
    assert_eq!(base58btc_decode("0OIl"), None);
}

#[test]
fn the_multikey_of_a_key_is_what_the_npm_ed25519_multikey_package_derives() {
    // npm @digitalbazaar/ed25519-multikey 1.3: generate({seed}) with the same 32 bytes.
    assert_eq!(
        multikey(&key().verifying_key()),
        "z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP"
    );
}

fn credential() -> Map<String, Value> {
    json!({
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://pishkhan.example/api/v1/issuer",
        "credentialSubject": {"name": "مریم احمدی", "number": "1404-0001-1"}
    })
    .as_object()
    .unwrap()
    .clone()
}

fn options() -> ProofOptions {
    ProofOptions {
        verification_method: "https://pishkhan.example/api/v1/keys/abc".into(),
        created: "2026-12-03T10:00:00Z".into(),
    }
}

#[test]
fn a_signed_credential_verifies_and_any_change_breaks_it() {
    let signed = Value::Object(sign(credential(), &options(), &key()).unwrap());
    let public = key().verifying_key();
    verify(&signed, &public).unwrap();
    assert_eq!(
        verification_method(&signed),
        Some("https://pishkhan.example/api/v1/keys/abc")
    );
    assert_eq!(signed["proof"]["@context"], json!([CREDENTIALS_V2]));
    assert!(
        signed["proof"]["proofValue"]
            .as_str()
            .unwrap()
            .starts_with('z')
    );

    let mut changed = signed.clone();
    changed["credentialSubject"]["name"] = json!("مریم احمدي");
    assert_eq!(
        verify(&changed, &public),
        Err(CredentialError::BadSignature)
    );
    let mut changed = signed.clone();
    changed["proof"]["created"] = json!("2027-01-01T00:00:00Z");
    assert_eq!(
        verify(&changed, &public),
        Err(CredentialError::BadSignature)
    );
    let mut changed = signed.clone();
    changed["@context"] = json!(["https://example.org/other"]);
    assert_eq!(
        verify(&changed, &public),
        Err(CredentialError::ContextMismatch)
    );
    let mut changed = signed.clone();
    changed["proof"]["proofValue"] = json!("zzz0");
    assert_eq!(
        verify(&changed, &public),
        Err(CredentialError::BadProofValue)
    );
    let mut changed = signed.clone();
    changed.as_object_mut().unwrap().remove("proof");
    assert_eq!(verify(&changed, &public), Err(CredentialError::NoProof));
    let other = SigningKey::from_bytes(&[9; 32]).verifying_key();
    assert_eq!(verify(&signed, &other), Err(CredentialError::BadSignature));

    // Key order in the JSON text does not matter: JCS sorts it.
    let reordered: Value = serde_json::from_str(&{
        let mut text = String::from("{");
        let members = signed.as_object().unwrap();
        let mut names: Vec<_> = members.keys().collect();
        names.reverse();
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("{}:{}", json!(n), members[*n]));
        }
        text + "}"
    })
    .unwrap();
    verify(&reordered, &public).unwrap();
}

#[test]
fn a_status_list_sets_exactly_the_revoked_entries() {
    let encoded = encode_status_list([0, 9, 131_071, 999_999], STATUS_LIST_LENGTH);
    assert!(encoded.starts_with('u'));
    for (index, set) in [
        (0, true),
        (1, false),
        (9, true),
        (8, false),
        (131_071, true),
    ] {
        assert_eq!(status_list_entry(&encoded, index), Ok(set), "entry {index}");
    }
    // 16 KiB of mostly zero bits compresses to a few dozen bytes.
    assert!(encoded.len() < 200, "{}", encoded.len());
    assert_eq!(
        status_list_entry(&encoded, STATUS_LIST_LENGTH),
        Err(CredentialError::BadStatusList)
    );
    assert_eq!(
        status_list_entry("zabc", 0),
        Err(CredentialError::BadStatusList)
    );
}
