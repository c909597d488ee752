//! SHA-256 digests written as lower-case hex: what Pishkhan stores of tokens and codes, the
//! checksums of attached documents, and the links of the audit chain. One encoder for all.

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

/// Bytes as lower-case hex, two characters a byte.
pub fn hex(bytes: &[u8]) -> String {
    HEXLOWER.encode(bytes)
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The SHA-256 of `bytes`, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// A 32-byte digest back from its hex; `None` for anything else.
pub fn digest_from_hex(text: &str) -> Option<[u8; 32]> {
    HEXLOWER.decode(text.as_bytes()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_a_digest() {
        let bytes = sha256(b"pishkhan");
        assert_eq!(digest_from_hex(&hex(&bytes)), Some(bytes));
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(digest_from_hex("zz"), None);
        assert_eq!(digest_from_hex(&"0".repeat(62)), None);
        assert_eq!(digest_from_hex(&"A".repeat(64)), None, "lower case only");
    }
}
