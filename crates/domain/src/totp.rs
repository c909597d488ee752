//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps) — the second
//! factor staff enter from an authenticator app. The secret and the time come in as parameters.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;

/// A shared secret, as raw bytes (20 bytes for new enrolments).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(«redacted»)")
    }
}

impl TotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    /// From the base32 text authenticator apps show (spaces and lower case accepted, padding optional).
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let mut clean: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let clean_len = clean.trim_end_matches('=').len();
        clean.truncate(clean_len);
        while !clean.len().is_multiple_of(8) {
            clean.push('=');
        }
        let bytes = data_encoding::BASE32.decode(clean.as_bytes()).ok()?;
        (!bytes.is_empty()).then_some(TotpSecret(bytes))
    }

    /// Base32 without padding, as typed into an authenticator app.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let label = percent(&format!("{issuer}:{account}"));
        format!(
            "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            self.to_base32(),
            percent(issuer)
        )
    }

    /// HOTP (RFC 4226) value for a counter.
    pub fn hotp(&self, counter: u64) -> u32 {
        // An HMAC key of any length is accepted, so this cannot fail.
        let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&self.0) else {
            return 0;
        };
        mac.update(&counter.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = (u32::from(digest[offset] & 0x7f) << 24)
            | (u32::from(digest[offset + 1]) << 16)
            | (u32::from(digest[offset + 2]) << 8)
            | u32::from(digest[offset + 3]);
        binary % 10u32.pow(DIGITS)
    }

    /// The code for the step containing `unix_seconds`, as six digits.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        format!("{:06}", self.hotp(step_of(unix_seconds)))
    }

    /// Checks a code typed at `unix_seconds`, allowing one step of clock drift either way, and
    /// refusing any step at or before `last_used_step` (a code works once). Returns the step
    /// that matched, to be stored as the new `last_used_step`.
    pub fn verify(
        &self,
        code: &str,
        unix_seconds: i64,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let code = crate::text::to_ascii_digits(code.trim());
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let now = step_of(unix_seconds);
        let mut matched = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            // Compare every candidate, so timing does not tell which step matched.
            let candidate = format!("{:06}", self.hotp(step));
            if constant_time_eq(candidate.as_bytes(), code.as_bytes()) {
                matched = Some(step);
            }
        }
        matched.filter(|step| last_used_step.is_none_or(|last| *step > last))
    }
}

fn step_of(unix_seconds: i64) -> u64 {
    u64::try_from(unix_seconds.max(0) / STEP_SECONDS).unwrap_or(0)
}

/// Equal lengths and bytes, in time that depends only on the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B (SHA-1 column; the RFC prints 8 digits, we keep the last 6).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code_at(time), eight[2..], "at {time}");
        }
    }

    /// RFC 4226, Appendix D.
    #[test]
    fn rfc_4226_hotp_values() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(secret.hotp(counter as u64), *value);
        }
    }

    #[test]
    fn codes_work_once_and_within_a_step_of_drift() {
        let secret = TotpSecret::from_base32("JBSW Y3DP EHPK 3PXP").unwrap();
        assert_eq!(secret.to_base32(), "JBSWY3DPEHPK3PXP");
        let now = 1_700_000_000;
        let code = secret.code_at(now);
        let step = secret.verify(&code, now, None).unwrap();
        assert_eq!(
            secret.verify(&code, now, Some(step)),
            None,
            "replay refused"
        );
        assert!(
            secret.verify(&code, now + 30, None).is_some(),
            "one step late"
        );
        assert!(
            secret.verify(&code, now + 90, None).is_none(),
            "three steps late"
        );
        let persian = crate::text::to_persian_digits(&code);
        assert!(
            secret.verify(&persian, now, None).is_some(),
            "Persian digits"
        );
        assert!(secret.verify("12345", now, None).is_none());
        assert!(TotpSecret::from_base32("not base32!").is_none());
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let secret = TotpSecret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let uri = secret.otpauth_uri("Pishkhan", "m.ahmadi");
        assert!(uri.starts_with("otpauth://totp/Pishkhan%3Am.ahmadi?secret=JBSWY3DPEHPK3PXP"));
        assert!(format!("{secret:?}").contains("redacted"));
    }
}
