//! The audit log's hash chain (زنجیره ممیزی): each entry carries the hash of the one before, so an
//! entry edited or deleted behind the program's back breaks the chain where it happened.
//!
//! The hash covers every field of the entry in a fixed, unambiguous encoding (each field's length
//! before its bytes), so no two different entries can encode alike.

use sha2::{Digest, Sha256};

/// What an audit entry records: who did what to which record, from where, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields {
    /// Position in the chain, from 1, with no gaps.
    pub seq: i64,
    /// Milliseconds since the Unix epoch, UTC.
    pub at_ms: i64,
    /// Who: a user id, `cli:<os user>`, `system`.
    pub actor: String,
    /// What: `holidays.import`, `application.view` …
    pub action: String,
    /// To which kind of record, and which one.
    pub target_kind: String,
    pub target_id: String,
    /// From where: an IP address, or `cli`.
    pub source: String,
    /// Anything else worth keeping, as JSON text.
    pub details: String,
}

/// The hash that precedes the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The entry's hash, chained to the previous entry's hash.
pub fn entry_hash(previous: &[u8; 32], fields: &AuditFields) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"pishkhan-audit-v1");
    hasher.update(previous);
    hasher.update(fields.seq.to_be_bytes());
    hasher.update(fields.at_ms.to_be_bytes());
    for text in [
        &fields.actor,
        &fields.action,
        &fields.target_kind,
        &fields.target_id,
        &fields.source,
        &fields.details,
    ] {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.finalize().into()
}

pub fn to_hex(bytes: &[u8; 32]) -> String {
    crate::digest::hex(bytes)
}

pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    crate::digest::digest_from_hex(text)
}

/// A stored entry as read back: its fields and the hashes it was stored with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub fields: AuditFields,
    pub prev_hash: String,
    pub hash: String,
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry is missing before `seq` (deleted).
    Gap { expected: i64, found: i64 },
    /// The entry's stored link to its predecessor is not the predecessor's hash.
    Link { seq: i64 },
    /// The entry's contents do not hash to its stored hash (edited).
    Contents { seq: i64 },
    /// Entries after `last` were removed (the head records more).
    Truncated { last: i64, head: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Gap { expected, found } => write!(
                f,
                "entry #{expected} is missing (the next entry found is #{found}): deleted"
            ),
            ChainBreak::Link { seq } => write!(
                f,
                "entry #{seq} does not link to the entry before it: the chain was rewritten"
            ),
            ChainBreak::Contents { seq } => write!(
                f,
                "entry #{seq} does not match its hash: its contents were edited"
            ),
            ChainBreak::Truncated { last, head } => write!(
                f,
                "the log ends at entry #{last} but had {head} entries: the last ones were deleted"
            ),
        }
    }
}

/// Walks entries in order and names the first break. `head` is the number of entries the log
/// says it has written.
pub fn verify_chain(
    entries: impl IntoIterator<Item = StoredEntry>,
    head: i64,
) -> Result<i64, ChainBreak> {
    let mut previous = GENESIS;
    let mut expected = 1;
    for entry in entries {
        let seq = entry.fields.seq;
        if seq != expected {
            return Err(ChainBreak::Gap {
                expected,
                found: seq,
            });
        }
        if from_hex(&entry.prev_hash) != Some(previous) {
            return Err(ChainBreak::Link { seq });
        }
        let hash = entry_hash(&previous, &entry.fields);
        if to_hex(&hash) != entry.hash {
            return Err(ChainBreak::Contents { seq });
        }
        previous = hash;
        expected += 1;
    }
    let last = expected - 1;
    if last != head {
        return Err(ChainBreak::Truncated { last, head });
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut previous = GENESIS;
        (1..=n)
            .map(|seq| {
                let fields = AuditFields {
                    seq,
                    at_ms: 1_000 * seq,
                    actor: "cli:root".into(),
                    action: "holidays.import".into(),
                    target_kind: "holiday_year".into(),
                    target_id: format!("{}", 1400 + seq),
                    source: "cli".into(),
                    details: "{}".into(),
                };
                let hash = entry_hash(&previous, &fields);
                let entry = StoredEntry {
                    fields,
                    prev_hash: to_hex(&previous),
                    hash: to_hex(&hash),
                };
                previous = hash;
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(chain(5), 5), Ok(5));
        assert_eq!(verify_chain(Vec::new(), 0), Ok(0));
    }

    #[test]
    fn names_the_first_broken_entry() {
        let mut edited = chain(5);
        edited[2].fields.actor = "someone-else".into();
        assert_eq!(
            verify_chain(edited, 5),
            Err(ChainBreak::Contents { seq: 3 })
        );

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify_chain(deleted, 5),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );

        let mut truncated = chain(5);
        truncated.pop();
        assert_eq!(
            verify_chain(truncated, 5),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );

        // Rewriting an entry and its hash still breaks the next entry's link.
        let mut rewritten = chain(5);
        rewritten[1].fields.actor = "forger".into();
        let prev = from_hex(&rewritten[1].prev_hash).unwrap();
        rewritten[1].hash = to_hex(&entry_hash(&prev, &rewritten[1].fields));
        assert_eq!(verify_chain(rewritten, 5), Err(ChainBreak::Link { seq: 3 }));
    }

    #[test]
    fn hex_round_trips() {
        let bytes = entry_hash(&GENESIS, &chain(1)[0].fields);
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("zz"), None);
    }
}
