//! The keys that sign outputs: Ed25519, in a file (`signing_key_file`, by default `signing.key`
//! in the data folder, created 0600 at first use), one key per line, `ID BASE64(SEED)`. The last
//! line signs; every line's public half is published (`GET /api/v1/keys`) and recorded in the
//! database, so what an old key signed keeps verifying after `pishkhan keys rotate` appends a new
//! one — even on a node whose file no longer holds it. Nodes sharing a database share the file;
//! a running node reads it again when it changes (`App::signers`), so a rotation takes at once.
//! A revoked key (`pishkhan keys revoke`) is marked in the database: its outputs show revoked.

use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use data_encoding::{BASE64, BASE64URL_NOPAD};
use ed25519_dalek::SigningKey;
use pishkhan_domain::output::{PublishedKey, key_id};
use pishkhan_store::SigningKeyRecord;

/// The signing keys this node holds, newest last.
pub struct Signers {
    keys: Vec<(String, SigningKey)>,
}

impl std::fmt::Debug for Signers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Signers").field("key_ids", &ids).finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the signing key file {path}: {problem}")]
pub struct KeyFileError {
    pub path: PathBuf,
    pub problem: String,
}

fn new_line() -> (String, String) {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let id = key_id(&key.verifying_key());
    let line = format!("{id} {}\n", BASE64.encode(&seed));
    (id, line)
}

impl Signers {
    /// Reads the key file, creating it (0600) with one new key if it does not exist.
    pub fn open_or_create(path: &Path) -> Result<Signers, KeyFileError> {
        let problem = |problem: String| KeyFileError {
            path: path.to_owned(),
            problem,
        };
        if !path.exists() {
            crate::sealed::create_file_whole(path, &new_line().1)
                .map_err(|e| problem(e.to_string()))?;
        }
        let mut keys = Vec::new();
        for (n, (id, seed)) in crate::sealed::read_key_lines(path)
            .map_err(problem)?
            .into_iter()
            .enumerate()
        {
            let key = SigningKey::from_bytes(&seed);
            if key_id(&key.verifying_key()) != id {
                return Err(problem(format!(
                    "key {}: the id `{id}` is not this key's ({})",
                    n + 1,
                    key_id(&key.verifying_key())
                )));
            }
            keys.push((id, key));
        }
        Ok(Signers { keys })
    }

    /// Appends a new key to the file: it signs from now on. Answers its id.
    pub fn add_key(path: &Path) -> Result<String, KeyFileError> {
        Signers::open_or_create(path)?;
        let (id, line) = new_line();
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(line.as_bytes()).and(file.sync_all()))
            .map_err(|e| KeyFileError {
                path: path.to_owned(),
                problem: e.to_string(),
            })?;
        Ok(id)
    }

    /// The key that signs now, and its id.
    pub fn current(&self) -> (&str, &SigningKey) {
        let (id, key) = &self.keys[self.keys.len() - 1];
        (id, key)
    }

    /// The key with this id, if this node holds it.
    pub fn key(&self, id: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|(i, _)| i == id).map(|(_, key)| key)
    }

    /// Every key's id and public half (base64url), oldest first.
    pub fn public_keys(&self) -> Vec<(String, String)> {
        self.keys
            .iter()
            .map(|(id, key)| {
                (
                    id.clone(),
                    BASE64URL_NOPAD.encode(key.verifying_key().as_bytes()),
                )
            })
            .collect()
    }
}

/// A stored public key (base64url) as a key to check with; `None` if it is not one.
pub fn published_key(public_key: &str) -> Option<ed25519_dalek::VerifyingKey> {
    PublishedKey::from_base64url("", public_key, false).map(|k| k.key)
}

/// A published key as the domain checks with it; `None` if the stored key is not one.
pub fn published(record: &SigningKeyRecord) -> Option<PublishedKey> {
    PublishedKey::from_base64url(&record.id, &record.public_key, record.revoked_at.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_private_and_rotation_keeps_old_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let first = Signers::open_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let old = first.current().0.to_owned();
        let new = Signers::add_key(&path).unwrap();
        let both = Signers::open_or_create(&path).unwrap();
        assert_eq!(both.current().0, new);
        let ids: Vec<String> = both.public_keys().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [old, new]);
    }

    #[test]
    fn a_line_whose_id_is_not_its_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        std::fs::write(
            &path,
            format!("abcdef012345 {}\n", BASE64.encode(&[1u8; 32])),
        )
        .unwrap();
        let error = Signers::open_or_create(&path).unwrap_err();
        assert!(error.problem.contains("not this key's"), "{error}");
    }
}
