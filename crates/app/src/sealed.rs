//! Secrets the database keeps but must not reveal if it is copied: staff second-factor (TOTP)
//! secrets, and the one a session holds during enrolment. Each is sealed with XChaCha20-Poly1305
//! under a key from a file (`secrets_key_file`, by default `secrets.key` in the data folder,
//! created 0600 at first start), bound to where it is stored (a sealed secret moved to another
//! account or session does not open).
//!
//! The key file holds one key per line, `ID BASE64` (the id is the start of the key's SHA-256);
//! the last line seals, every line opens.
//! `pishkhan secrets rotate` appends a new key and seals every stored secret again with it; the
//! old line may be removed once sessions begun before the rotation have ended (12 hours).
//! Nodes sharing a PostgreSQL database must share the file; a start that finds a secret sealed
//! with a key it does not hold stops with an error naming the key.
//!
//! Stored form: `sealed:v1:ID:BASE64(nonce ‖ ciphertext)`. A value without the prefix is a
//! secret stored before sealing existed: it opens as it is and is sealed at the next start.

use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use data_encoding::BASE64;

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// The keys, newest last.
#[derive(Clone)]
pub struct Sealer {
    keys: Vec<(String, Key)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Sealer").field("key_ids", &ids).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the secrets key file {path}: {problem}")]
    KeyFile { path: PathBuf, problem: String },
    #[error("a secret is sealed with key `{0}`, which the secrets key file does not hold")]
    UnknownKey(String),
    #[error("a sealed secret does not open (altered, or moved from where it was stored)")]
    Broken,
}

impl Sealer {
    /// Reads the key file, creating it with one new key if it does not exist.
    pub fn open_or_create(path: &Path) -> Result<Sealer, SealError> {
        let problem = |problem: String| SealError::KeyFile {
            path: path.to_owned(),
            problem,
        };
        if !path.exists() {
            create_key_file(path).map_err(|e| problem(e.to_string()))?;
        }
        let keys = read_key_lines(path)
            .map_err(problem)?
            .into_iter()
            .map(|(id, bytes)| (id, Key::from(bytes)))
            .collect();
        Ok(Sealer { keys })
    }

    /// Appends a new key to the file; it seals from now on. Answers its id.
    pub fn add_key(path: &Path) -> Result<String, SealError> {
        Sealer::open_or_create(path)?;
        let key = new_key();
        let id = key_id(&key);
        let line = format!("{id} {}\n", BASE64.encode(&key));
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(line.as_bytes()).and(file.sync_all()))
            .map_err(|e| SealError::KeyFile {
                path: path.to_owned(),
                problem: e.to_string(),
            })?;
        Ok(id)
    }

    /// The id of the key that seals.
    pub fn current(&self) -> &str {
        &self.keys[self.keys.len() - 1].0
    }

    /// Seals `secret`, bound to `place` (where it is stored, e.g. `users.totp_secret:ID`).
    pub fn seal(&self, secret: &str, place: &str) -> String {
        let (id, key) = &self.keys[self.keys.len() - 1];
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(key);
        // Encryption fails only for messages of gigabytes.
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: place.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{id}:{}", BASE64.encode(&out))
    }

    /// Opens what [`Sealer::seal`] made for `place` (or a secret stored before sealing).
    pub fn open(&self, stored: &str, place: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, encoded) = rest.split_once(':').ok_or(SealError::Broken)?;
        let key = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, key)| key)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let bytes = BASE64
            .decode(encoded.as_bytes())
            .map_err(|_| SealError::Broken)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Broken);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Broken)?;
        let plain = XChaCha20Poly1305::new(key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| SealError::Broken)?;
        String::from_utf8(plain).map_err(|_| SealError::Broken)
    }

    /// The key a stored value is sealed with (`None`: not sealed).
    pub fn key_of(stored: &str) -> Option<&str> {
        stored.strip_prefix(PREFIX)?.split(':').next()
    }

    /// Whether this key file can open what `stored` holds.
    pub fn holds_key_of(&self, stored: &str) -> bool {
        Sealer::key_of(stored).is_none_or(|id| self.keys.iter().any(|(k, _)| k == id))
    }
}

/// Writes a new key file whole, or leaves the one another process created first: two nodes
/// starting together on one data folder must not read a half-written file or each seal with a key
/// the other overwrote. The key goes to a private file of its own, synced, then is linked into
/// place, which fails if the name already exists.
fn create_key_file(path: &Path) -> std::io::Result<()> {
    let key = new_key();
    create_file_whole(path, &format!("{} {}\n", key_id(&key), BASE64.encode(&key)))
}

/// The keys of a key file (`ID BASE64` a line, 32 bytes each; blank lines and `#` comments
/// skipped), in order; or what is wrong with it, with the line. A file with no key is wrong.
pub(crate) fn read_key_lines(path: &Path) -> Result<Vec<(String, [u8; 32])>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, encoded) = line
            .split_once(' ')
            .ok_or_else(|| format!("line {}: expected `ID BASE64`", n + 1))?;
        let bytes: [u8; 32] = BASE64
            .decode(encoded.trim().as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("line {}: not 32 bytes in base64", n + 1))?;
        keys.push((id.to_owned(), bytes));
    }
    if keys.is_empty() {
        return Err("holds no key".to_owned());
    }
    Ok(keys)
}

/// Creates `path` (0600) holding `line`, whole or not at all: written to a private draft,
/// synced, then linked into place. If another process created it first, that one stays.
pub(crate) fn create_file_whole(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".new-{}-{}",
        std::process::id(),
        key_id(&new_key())
    ));
    let draft = PathBuf::from(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&draft)
        .and_then(|mut file| file.write_all(line.as_bytes()).and(file.sync_all()))
        .and_then(|()| match std::fs::hard_link(&draft, path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        });
    let _ = std::fs::remove_file(&draft);
    written
}

/// A key's name: the start of its SHA-256, so two key files never name different keys alike (a
/// secret sealed elsewhere is "unknown key", not a failed opening).
fn key_id(key: &[u8; 32]) -> String {
    pishkhan_domain::digest::sha256_hex(key)[..12].to_owned()
}

fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    key
}

/// Where a user's TOTP secret is stored (the additional data it is sealed with).
pub fn totp_place(user_id: &str) -> String {
    format!("users.totp_secret:{user_id}")
}

/// Where an enrolling session's pending secret is stored.
pub fn pending_place(token_hash: &str) -> String {
    format!("sessions.pending_secret:{token_hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_where_it_was_stored_and_only_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let sealer = Sealer::open_or_create(&path).unwrap();
        let first = sealer.current().to_owned();
        assert_eq!(first.len(), 12);
        let sealed = sealer.seal("JBSWY3DPEHPK3PXP", &totp_place("u1"));
        assert!(sealed.starts_with(&format!("sealed:v1:{first}:")));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            sealer.open(&sealed, &totp_place("u1")).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        // Moved to another account: does not open.
        assert!(matches!(
            sealer.open(&sealed, &totp_place("u2")),
            Err(SealError::Broken)
        ));
        // Altered: does not open.
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&altered, &totp_place("u1")).is_err());
        // Stored before sealing existed: opens as it is.
        assert_eq!(sealer.open("PLAIN", "x").unwrap(), "PLAIN");

        // Rotated: the new key seals, the old still opens; without the old line, it does not.
        let second = Sealer::add_key(&path).unwrap();
        assert_ne!(second, first);
        let rotated = Sealer::open_or_create(&path).unwrap();
        assert_eq!(rotated.current(), second);
        assert!(
            rotated
                .seal("S", "p")
                .starts_with(&format!("sealed:v1:{second}:"))
        );
        assert_eq!(
            rotated.open(&sealed, &totp_place("u1")).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let newest = text.lines().last().unwrap().to_owned();
        std::fs::write(&path, format!("{newest}\n")).unwrap();
        let only_new = Sealer::open_or_create(&path).unwrap();
        assert!(!only_new.holds_key_of(&sealed));
        assert!(matches!(
            only_new.open(&sealed, &totp_place("u1")),
            Err(SealError::UnknownKey(id)) if id == first
        ));
        // A key file that is not one is refused with its line.
        std::fs::write(&path, "k1 not-base64\n").unwrap();
        let refused = Sealer::open_or_create(&path).unwrap_err().to_string();
        assert!(refused.contains("line 1"), "{refused}");
    }

    #[test]
    fn nodes_starting_together_all_get_the_one_key_created() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("secrets.key");
            let ids: Vec<String> = std::thread::scope(|s| {
                let starts: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| Sealer::open_or_create(&path).unwrap().current().to_owned())
                    })
                    .collect();
                starts.into_iter().map(|t| t.join().unwrap()).collect()
            });
            assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(left.len(), 1, "no drafts left behind");
        }
    }
}

/// What sealing the stored secrets again did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resealed {
    /// Secrets now sealed with the current key that were not before.
    pub resealed: usize,
    /// The key that seals now.
    pub key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Store(#[from] pishkhan_store::StoreError),
}

impl crate::App {
    /// Seals with the current key every stored secret (staff TOTP secrets, agencies' webhook
    /// secrets) that is not yet sealed (`all`: or is sealed with an older key, after a
    /// rotation); one audit entry records how many. Fails, changing nothing, if a secret is
    /// sealed with a key the file does not hold.
    pub async fn reseal_secrets(
        &self,
        actor: &crate::audit::Actor,
        all: bool,
    ) -> Result<Resealed, ResealError> {
        let sealer = self.sealer()?;
        let mut stored: Vec<(Kept, String)> = self
            .store()
            .totp_secrets()
            .await?
            .into_iter()
            .map(|(user_id, s)| (Kept::Totp(user_id), s))
            .collect();
        for hook in self.store().webhooks().await? {
            if let Some(previous) = hook.previous_secret {
                stored.push((Kept::Webhook(hook.agency.clone(), true), previous));
            }
            stored.push((Kept::Webhook(hook.agency, false), hook.secret));
        }
        if let Some((_, missing)) = stored.iter().find(|(_, s)| !sealer.holds_key_of(s)) {
            let id = Sealer::key_of(missing).unwrap_or_default().to_owned();
            return Err(SealError::UnknownKey(id).into());
        }
        let stale: Vec<&(Kept, String)> = stored
            .iter()
            .filter(|(_, s)| match Sealer::key_of(s) {
                None => true,
                Some(id) => all && id != sealer.current(),
            })
            .collect();
        let key = sealer.current().to_owned();
        if stale.is_empty() {
            return Ok(Resealed { resealed: 0, key });
        }
        let mut unit = self.store().begin_write().await?;
        let mut resealed = 0;
        for (kept, old) in stale {
            let done = match kept {
                Kept::Totp(user_id) => {
                    let place = totp_place(user_id);
                    let secret = sealer.open(old, &place)?;
                    unit.reseal_totp_secret(user_id, old, &sealer.seal(&secret, &place))
                        .await?
                }
                Kept::Webhook(agency, previous) => {
                    let place = crate::webhooks::secret_place(agency);
                    let secret = sealer.open(old, &place)?;
                    unit.reseal_webhook_secret(
                        agency,
                        *previous,
                        old,
                        &sealer.seal(&secret, &place),
                    )
                    .await?
                }
            };
            if done {
                resealed += 1;
            }
        }
        unit.audit(&crate::audit::audit_entry(
            actor,
            "secrets.reseal",
            ("secrets", "all"),
            serde_json::json!({ "resealed": resealed, "key": key }),
        ))
        .await?;
        unit.commit().await?;
        Ok(Resealed { resealed, key })
    }
}

/// Where a sealed secret is kept.
enum Kept {
    /// A staff account's TOTP secret (by user id).
    Totp(String),
    /// An agency's webhook secret (`true`: the previous one, still signing after a rotation).
    Webhook(String, bool),
}
