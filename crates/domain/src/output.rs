//! An output (خروجی) a person takes away, and what makes it checkable by anyone: a compact
//! payload signed with Ed25519, printed as a QR code, and a short code to type.
//!
//! The payload says what the output is (the service), its number, a digest of its holder (never
//! the national ID itself), when it was issued and until when it holds, and which key signed it.
//! Its text form is `PK1.` + base64url(the claims' JSON) + `.` + base64url(the signature over
//! exactly those JSON bytes): nothing is canonicalised, so what is checked is byte for byte what
//! was signed. [`verify`] needs only the published public keys, so it runs offline.
//!
//! Nothing here draws randomness or reads the clock: the caller brings the key, the code's
//! random bytes and today's date.

use chrono::NaiveDate;
use data_encoding::{BASE64URL_NOPAD, Encoding};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::{hex, sha256};

/// What starts every payload Pishkhan signs (version 1).
pub const PREFIX: &str = "PK1.";

/// The longest payload text accepted (a QR holds a few hundred characters comfortably).
pub const MAX_PAYLOAD: usize = 1200;

/// What an output's payload claims, in the order it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The service whose output this is (its card's code).
    #[serde(rename = "s")]
    pub service: String,
    /// The output's number, as printed.
    #[serde(rename = "n")]
    pub number: String,
    /// [`holder_digest`] of the holder's national ID under this number.
    #[serde(rename = "h")]
    pub holder: String,
    /// The day it was issued (Gregorian, ISO 8601).
    #[serde(rename = "i")]
    pub issued: NaiveDate,
    /// The last day it holds, when it has a validity period.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// The id of the key that signed it ([`key_id`]).
    #[serde(rename = "k")]
    pub key: String,
}

/// A key's id: the start of the SHA-256 of its public key, as hex.
pub fn key_id(public: &VerifyingKey) -> String {
    hex(&sha256(public.as_bytes())[..6])
}

/// A digest that ties an output to its holder's national ID without revealing it: a clerk who
/// holds the person's ID card can check it, a stranger learns nothing they did not already hold.
pub fn holder_digest(number: &str, national_id: &str) -> String {
    let mut text = Vec::with_capacity(64);
    text.extend_from_slice(b"pishkhan-holder\0");
    text.extend_from_slice(number.as_bytes());
    text.push(0);
    text.extend_from_slice(national_id.as_bytes());
    hex(&sha256(&text)[..10])
}

/// Signs `claims` with `key` (whose id they must name) into the payload text.
pub fn sign(claims: &Claims, key: &SigningKey) -> String {
    debug_assert_eq!(claims.key, key_id(&key.verifying_key()));
    // Claims are strings and dates: serialising them cannot fail.
    let body = serde_json::to_vec(claims).unwrap_or_default();
    let signature = key.sign(&body);
    format!(
        "{PREFIX}{}.{}",
        BASE64URL_NOPAD.encode(&body),
        BASE64URL_NOPAD.encode(&signature.to_bytes())
    )
}

/// Why a payload did not verify. Each case is its own status on the verify page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not a Pishkhan payload at all (another system's QR, a web address, text).
    Foreign,
    /// Shaped like one, but a byte was changed: the signature does not hold.
    Tampered,
    /// Signed with a key this province does not publish.
    UnknownKey(String),
}

/// A public key as published, and whether it has been revoked.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    pub id: String,
    pub key: VerifyingKey,
    /// The key was revoked (compromised): what it signed no longer counts.
    pub revoked: bool,
}

impl PublishedKey {
    /// A key as `GET /api/v1/keys` publishes it (32 bytes, base64url); `None` if it is not one.
    pub fn from_base64url(id: &str, public_key: &str, revoked: bool) -> Option<PublishedKey> {
        let bytes: [u8; 32] = BASE64URL_NOPAD
            .decode(public_key.as_bytes())
            .ok()?
            .try_into()
            .ok()?;
        Some(PublishedKey {
            id: id.to_owned(),
            key: VerifyingKey::from_bytes(&bytes).ok()?,
            revoked,
        })
    }
}

/// The status a verification ends in, for an output the signature vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Valid,
    /// Its validity period has ended.
    Expired,
    /// It, or the key that signed it, was revoked.
    Revoked,
}

/// Reads the payload out of what a QR code or a person gave: the payload itself, or a link
/// carrying it as `p=` (the QR holds a link to the verify page, so a phone opens it).
pub fn payload_in(text: &str) -> &str {
    let text = text.trim();
    match text.find("p=") {
        Some(at) if !text.starts_with(PREFIX) => {
            let rest = &text[at + 2..];
            rest.split(['&', '#']).next().unwrap_or(rest)
        }
        _ => text,
    }
}

fn decode(encoding: &Encoding, part: &str) -> Result<Vec<u8>, Rejection> {
    encoding
        .decode(part.as_bytes())
        .map_err(|_| Rejection::Tampered)
}

/// Checks a payload's signature against the published keys and answers its claims, or why not.
/// Works offline: the keys are all it needs.
pub fn verify(text: &str, keys: &[PublishedKey]) -> Result<Verified, Rejection> {
    let text = payload_in(text);
    if text.len() > MAX_PAYLOAD {
        return Err(Rejection::Foreign);
    }
    let Some(rest) = text.strip_prefix(PREFIX) else {
        return Err(Rejection::Foreign);
    };
    let Some((body, signature)) = rest.split_once('.') else {
        return Err(Rejection::Tampered);
    };
    let body = decode(&BASE64URL_NOPAD, body)?;
    let signature: [u8; 64] = decode(&BASE64URL_NOPAD, signature)?
        .try_into()
        .map_err(|_| Rejection::Tampered)?;
    // The key id is read before the signature is checked only to pick the key; nothing else of
    // the claims is trusted until it holds.
    #[derive(Deserialize)]
    struct KeyOnly {
        k: String,
    }
    let key_named: KeyOnly = serde_json::from_slice(&body).map_err(|_| Rejection::Tampered)?;
    let Some(published) = keys.iter().find(|k| k.id == key_named.k) else {
        return Err(Rejection::UnknownKey(key_named.k));
    };
    published
        .key
        .verify(&body, &Signature::from_bytes(&signature))
        .map_err(|_| Rejection::Tampered)?;
    let claims: Claims = serde_json::from_slice(&body).map_err(|_| Rejection::Tampered)?;
    Ok(Verified {
        claims,
        key_revoked: published.revoked,
    })
}

/// A payload whose signature holds: its claims, and whether the key that signed it has since
/// been revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims: Claims,
    pub key_revoked: bool,
}

impl Verified {
    /// Its standing on `today`, as far as the payload and the keys tell (an output revoked on
    /// its own is known only online).
    pub fn standing(&self, today: NaiveDate) -> Standing {
        if self.key_revoked {
            Standing::Revoked
        } else if self.claims.until.is_some_and(|until| today > until) {
            Standing::Expired
        } else {
            Standing::Valid
        }
    }
}

/// The alphabet of verification codes: Crockford's base 32 (no I, L, O, U to misread).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// How many characters a verification code has (60 bits: not guessable in any number of tries
/// the verify endpoint's rate limit allows).
pub const CODE_LENGTH: usize = 12;

/// A verification code from random bytes (the caller draws them), as `XXXX-XXXX-XXXX`.
pub fn verification_code(random: [u8; 8]) -> String {
    let mut bits = u64::from_be_bytes(random);
    let mut code = String::with_capacity(CODE_LENGTH + 2);
    for i in 0..CODE_LENGTH {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(CODE_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    code
}

/// A typed verification code in its stored form (`XXXX-XXXX-XXXX`), or `None` if it cannot be
/// one. Forgiving of how people type: lower case, spaces or no dashes, Persian or Arabic digits,
/// and the letters Crockford's alphabet leaves out read as the digits they look like.
pub fn parse_verification_code(typed: &str) -> Option<String> {
    let mut chars = Vec::with_capacity(CODE_LENGTH);
    for c in typed.chars() {
        let c = match c {
            '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
            '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
            c => c.to_ascii_uppercase(),
        };
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        match c {
            '-' | ' ' | '\u{200c}' => continue,
            c if c.is_ascii() && CODE_ALPHABET.contains(&(c as u8)) => chars.push(c),
            _ => return None,
        }
        if chars.len() > CODE_LENGTH {
            return None;
        }
    }
    if chars.len() != CODE_LENGTH {
        return None;
    }
    let mut out = String::with_capacity(CODE_LENGTH + 2);
    for (i, c) in chars.into_iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

/// A national ID shown to someone who is not its holder: the last three digits only.
pub fn masked_national_id(national_id: &str) -> String {
    let n = national_id.chars().count();
    national_id
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 3 < n { '•' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn published(k: &SigningKey, revoked: bool) -> PublishedKey {
        PublishedKey {
            id: key_id(&k.verifying_key()),
            key: k.verifying_key(),
            revoked,
        }
    }

    fn claims(k: &SigningKey) -> Claims {
        Claims {
            service: "tehran.building-permit".into(),
            number: "14051234567890-1".into(),
            holder: holder_digest("14051234567890-1", "0082451291"),
            issued: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            until: NaiveDate::from_ymd_opt(2027, 12, 2),
            key: key_id(&k.verifying_key()),
        }
    }

    #[test]
    fn a_signed_payload_verifies_offline_with_the_published_key() {
        let k = key(7);
        let text = sign(&claims(&k), &k);
        assert!(text.starts_with(PREFIX));
        assert!(text.len() < 400, "{} characters", text.len());
        let back = verify(&text, &[published(&k, false)]).unwrap();
        assert_eq!(back.claims, claims(&k));
        let day = |m, d| NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        assert_eq!(back.standing(day(12, 2)), Standing::Valid);
        assert_eq!(back.standing(day(12, 3)), Standing::Expired);
        // Through the verify page's link, as a phone's camera reads the QR.
        let link = format!("https://pishkhan.example/verify?p={text}");
        assert!(verify(&link, &[published(&k, false)]).is_ok());
    }

    #[test]
    fn every_single_byte_changed_is_caught() {
        let k = key(7);
        let keys = [published(&k, false)];
        let text = sign(&claims(&k), &k);
        for at in PREFIX.len()..text.len() {
            let mut bytes = text.clone().into_bytes();
            if bytes[at] == b'.' {
                continue;
            }
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            match verify(&changed, &keys) {
                Err(Rejection::Tampered | Rejection::UnknownKey(_)) => {}
                other => panic!("byte {at} changed: {other:?}"),
            }
        }
    }

    #[test]
    fn foreign_codes_unknown_and_revoked_keys_have_their_own_answers() {
        let k = key(7);
        let other = key(9);
        let text = sign(&claims(&k), &k);
        for foreign in [
            "",
            "https://example.com/",
            "WIFI:S:cafe;T:WPA;P:secret;;",
            "PK2.abc.def",
        ] {
            assert_eq!(
                verify(foreign, &[published(&k, false)]).unwrap_err(),
                Rejection::Foreign
            );
        }
        assert_eq!(
            verify(&"x".repeat(5000), &[published(&k, false)]).unwrap_err(),
            Rejection::Foreign
        );
        assert_eq!(
            verify(&text, &[published(&other, false)]).unwrap_err(),
            Rejection::UnknownKey(key_id(&k.verifying_key()))
        );
        // Signed by another key that claims this key's id: the signature does not hold.
        let forged = sign_as(&claims(&k), &other);
        assert_eq!(
            verify(&forged, &[published(&k, false)]).unwrap_err(),
            Rejection::Tampered
        );
        let back = verify(&text, &[published(&k, true)]).unwrap();
        assert_eq!(
            back.standing(back.claims.issued),
            Standing::Revoked,
            "a revoked key's outputs show revoked"
        );
    }

    fn sign_as(claims: &Claims, key: &SigningKey) -> String {
        let body = serde_json::to_vec(claims).unwrap();
        format!(
            "{PREFIX}{}.{}",
            BASE64URL_NOPAD.encode(&body),
            BASE64URL_NOPAD.encode(&key.sign(&body).to_bytes())
        )
    }

    #[test]
    fn verification_codes_are_read_as_people_type_them() {
        let code = verification_code([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        assert_eq!(code.len(), 14);
        assert_eq!(
            parse_verification_code(&code).as_deref(),
            Some(code.as_str())
        );
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(
            parse_verification_code(&typed).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            parse_verification_code("۱۲۳۴-abcd-efgh").as_deref(),
            Some("1234-ABCD-EFGH")
        );
        assert_eq!(
            parse_verification_code("O0IL-0000-0000").as_deref(),
            Some("0011-0000-0000")
        );
        for bad in ["", "1234", "1234-5678-9ABC-D", "12U4-5678-9ABC", "<script>"] {
            assert_eq!(parse_verification_code(bad), None, "{bad}");
        }
        assert_eq!(masked_national_id("0082451291"), "•••••••291");
    }
}
