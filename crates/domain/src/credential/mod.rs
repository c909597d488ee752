//! An output as a W3C Verifiable Credential (Data Model 2.0) secured with a Data Integrity proof
//! of the `eddsa-jcs-2022` cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0", §3.3), and
//! the Bitstring Status List that says which outputs are revoked.
//!
//! `eddsa-jcs-2022` signs the JSON Canonicalization Scheme (RFC 8785) form of the document and of
//! the proof's options: the signed bytes are `SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document
//! without proof))`, the signature goes in `proofValue` as multibase base58btc (`z…`). No RDF
//! processing is needed to sign or check it, so Pishkhan never fetches a JSON-LD context; the
//! contexts a verifier needs ship with Pishkhan (`crates/app/contexts`).
//!
//! The documents Pishkhan signs hold strings, booleans, integers, arrays and objects only:
//! [`canonical_json`] refuses a fractional number rather than risk formatting it differently
//! from ECMAScript.

use std::io::{Read, Write};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value};

use crate::digest::sha256;

/// The cryptosuite's name, as the proof carries it.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// The VC Data Model 2.0 context.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// Entries in one status list: the specification's minimum (16 KiB of bits), which also hides
/// how many outputs were issued ("herd privacy").
pub const STATUS_LIST_LENGTH: u64 = 131_072;

/// Why a credential does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the document holds a number JCS cannot print the way ECMAScript does: {0}")]
    NotCanonical(String),
    #[error("the credential has no Data Integrity proof of the eddsa-jcs-2022 cryptosuite")]
    NoProof,
    #[error("the proof's @context is not where the document's @context starts")]
    ContextMismatch,
    #[error("the proofValue is not a multibase base58btc Ed25519 signature")]
    BadProofValue,
    #[error("the signature does not match the document")]
    BadSignature,
    #[error("the status list is not a gzip-compressed, base64url multibase bitstring")]
    BadStatusList,
}

/// The JSON Canonicalization Scheme (RFC 8785) form of `value`: object members sorted by their
/// names' UTF-16 code units, no whitespace, strings escaped as ECMAScript's `JSON.stringify`
/// does. Integers only (see the module's note).
pub fn canonical_json(value: &Value) -> Result<String, CredentialError> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), CredentialError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // ECMAScript prints integers up to 2^53 exactly; anything else is refused.
            const SAFE: u64 = 1 << 53;
            match (n.as_i64(), n.as_u64()) {
                (Some(i), _) if i.unsigned_abs() <= SAFE => out.push_str(&i.to_string()),
                (_, Some(u)) if u <= SAFE => out.push_str(&u.to_string()),
                _ => return Err(CredentialError::NotCanonical(n.to_string())),
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, name) in names.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_canonical(&members[name], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Bitcoin's base58 (what multibase calls base58btc, without the `z`).
pub fn base58btc(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    // Base-58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|d| char::from(BASE58_ALPHABET[usize::from(*d)])),
    );
    out
}

/// Decodes [`base58btc`]; `None` for a character outside the alphabet.
pub fn base58btc_decode(text: &str) -> Option<Vec<u8>> {
    let zeros = text.bytes().take_while(|b| *b == b'1').count();
    let mut bytes: Vec<u8> = Vec::new(); // least significant first
    for c in text.bytes().skip(zeros) {
        let mut carry = BASE58_ALPHABET.iter().position(|a| *a == c)? as u32;
        for byte in &mut bytes {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

/// An Ed25519 public key as a Multikey's `publicKeyMultibase`: `z` + base58btc of the multicodec
/// prefix `0xed 0x01` and the 32 key bytes (so it starts `z6Mk`).
pub fn multikey(public: &VerifyingKey) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(public.as_bytes());
    format!("z{}", base58btc(&bytes))
}

/// What the proof says besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// The URL of the Multikey that checks it.
    pub verification_method: String,
    /// XML Schema dateTimeStamp (`2026-12-03T10:00:00Z`).
    pub created: String,
}

fn proof_config(document: &Map<String, Value>, options: &ProofOptions) -> Map<String, Value> {
    let mut proof = Map::new();
    proof.insert("type".into(), "DataIntegrityProof".into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), options.created.clone().into());
    proof.insert(
        "verificationMethod".into(),
        options.verification_method.clone().into(),
    );
    proof.insert("proofPurpose".into(), "assertionMethod".into());
    if let Some(context) = document.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    proof
}

/// `SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document))`.
fn hash_data(
    proof_config: &Map<String, Value>,
    document: &Map<String, Value>,
) -> Result<Vec<u8>, CredentialError> {
    let config = canonical_json(&Value::Object(proof_config.clone()))?;
    let document = canonical_json(&Value::Object(document.clone()))?;
    let mut data = sha256(config.as_bytes()).to_vec();
    data.extend_from_slice(&sha256(document.as_bytes()));
    Ok(data)
}

/// `document` (an object without a proof) with an `eddsa-jcs-2022` proof added.
pub fn sign(
    mut document: Map<String, Value>,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Map<String, Value>, CredentialError> {
    document.remove("proof");
    let mut proof = proof_config(&document, options);
    let signature = key.sign(&hash_data(&proof, &document)?);
    proof.insert(
        "proofValue".into(),
        format!("z{}", base58btc(&signature.to_bytes())).into(),
    );
    document.insert("proof".into(), Value::Object(proof));
    Ok(document)
}

/// The verification method a credential's proof names (to find its key), if it has one.
pub fn verification_method(credential: &Value) -> Option<&str> {
    credential.get("proof")?.get("verificationMethod")?.as_str()
}

/// Checks the `eddsa-jcs-2022` proof of `credential` with `public`: the signature, and that the
/// proof's `@context` is where the document's starts. Says nothing about the status list.
pub fn verify(credential: &Value, public: &VerifyingKey) -> Result<(), CredentialError> {
    let mut document = credential
        .as_object()
        .cloned()
        .ok_or(CredentialError::NoProof)?;
    let Some(Value::Object(mut proof)) = document.remove("proof") else {
        return Err(CredentialError::NoProof);
    };
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof")
        || proof.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE)
    {
        return Err(CredentialError::NoProof);
    }
    let proof_value = match proof.remove("proofValue") {
        Some(Value::String(v)) => v,
        _ => return Err(CredentialError::BadProofValue),
    };
    if let Some(context) = proof.get("@context") {
        let as_list = |v: &Value| match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let (wanted, has) = (
            as_list(context),
            as_list(document.get("@context").unwrap_or(&Value::Null)),
        );
        if has.len() < wanted.len() || has[..wanted.len()] != wanted[..] {
            return Err(CredentialError::ContextMismatch);
        }
        document.insert("@context".into(), context.clone());
    }
    let signature = proof_value
        .strip_prefix('z')
        .and_then(base58btc_decode)
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or(CredentialError::BadProofValue)?;
    public
        .verify(&hash_data(&proof, &document)?, &signature)
        .map_err(|_| CredentialError::BadSignature)
}

/// A status list's `encodedList`: the bitstring (entry 0 is the first byte's most significant
/// bit), gzip-compressed, base64url without padding, with the multibase prefix `u`.
pub fn encode_status_list(set: impl IntoIterator<Item = u64>, length: u64) -> String {
    let mut bits = vec![0u8; length.div_ceil(8) as usize];
    for index in set.into_iter().filter(|i| *i < length) {
        bits[(index / 8) as usize] |= 0x80 >> (index % 8);
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let compressed = gzip
        .write_all(&bits)
        .and_then(|()| gzip.finish())
        .unwrap_or_default();
    format!("u{}", data_encoding::BASE64URL_NOPAD.encode(&compressed))
}

/// Whether entry `index` is set in an `encodedList`.
pub fn status_list_entry(encoded: &str, index: u64) -> Result<bool, CredentialError> {
    let compressed = encoded
        .strip_prefix('u')
        .and_then(|t| data_encoding::BASE64URL_NOPAD.decode(t.as_bytes()).ok())
        .ok_or(CredentialError::BadStatusList)?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .take(1 << 24)
        .read_to_end(&mut bits)
        .map_err(|_| CredentialError::BadStatusList)?;
    let byte = bits
        .get((index / 8) as usize)
        .ok_or(CredentialError::BadStatusList)?;
    Ok(byte & (0x80 >> (index % 8)) != 0)
}

#[cfg(test)]
mod tests;
