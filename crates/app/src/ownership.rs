//! Whose mobile line is it? The national registry of mobile subscriptions (the "Shahkar" inquiry
//! Iranian banks and government portals use) answers whether a line belongs to a national ID.
//! Pishkhan binds a national ID to a mobile, signs a citizen in, or texts a consent code only
//! when the registry confirms the pair; when it cannot be asked, nothing is bound or sent (fail
//! closed).
//!
//! Two providers, like SMS: `file` (development, the demo and the tests: lines of
//! `national ID,mobile` in `mobile-registry.csv` in the data folder) and `http` (any registry
//! that answers a JSON inquiry; URL, key, field names and timeout configured).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pishkhan_domain::id::{MobileNumber, NationalId};

use crate::Secret;

/// Name of the development registry's file in the data folder.
pub const REGISTRY_FILE_NAME: &str = "mobile-registry.csv";

/// Largest answer read from a registry (an answer is a few dozen bytes).
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// How the registry is asked.
#[derive(Debug, Clone)]
pub enum OwnershipSettings {
    /// `mobile-registry.csv` in the data folder.
    File,
    /// A JSON inquiry: `{"<national_id_field>": "0012345678", "<mobile_field>": "09121234567"}`
    /// posted to `url` with `Authorization: Bearer <key>`; the answer is JSON whose
    /// `<match_field>` is `true` when the line belongs to the national ID.
    Http {
        url: String,
        key: Secret<String>,
        national_id_field: String,
        mobile_field: String,
        match_field: String,
        timeout: Duration,
    },
}

/// Why the registry could not say.
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error("the mobile registry file {path} cannot be read: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the mobile registry did not answer: {0}")]
    Unreachable(String),
    #[error("the mobile registry answered HTTP status {0}")]
    Refused(u16),
    #[error("the mobile registry's answer is not understood: {0}")]
    Malformed(String),
}

/// The registry and what it has answered since start (for `/metrics`).
#[derive(Debug)]
pub struct MobileOwnership {
    provider: Provider,
    confirmed: AtomicU64,
    denied: AtomicU64,
    unavailable: AtomicU64,
}

#[derive(Debug)]
enum Provider {
    File(PathBuf),
    Http {
        client: reqwest::Client,
        url: String,
        key: Secret<String>,
        national_id_field: String,
        mobile_field: String,
        match_field: String,
    },
}

/// How many inquiries the registry answered each way.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnershipCounts {
    pub confirmed: u64,
    pub denied: u64,
    pub unavailable: u64,
}

impl MobileOwnership {
    pub fn from_settings(
        settings: &OwnershipSettings,
        data_dir: &Path,
    ) -> Result<MobileOwnership, String> {
        let provider = match settings {
            OwnershipSettings::File => Provider::File(data_dir.join(REGISTRY_FILE_NAME)),
            OwnershipSettings::Http {
                url,
                key,
                national_id_field,
                mobile_field,
                match_field,
                timeout,
            } => Provider::Http {
                client: reqwest::Client::builder()
                    .timeout(*timeout)
                    .connect_timeout(*timeout)
                    .build()
                    .map_err(|e| {
                        format!("the HTTP client for the mobile registry cannot be built: {e}")
                    })?,
                url: url.clone(),
                key: key.clone(),
                national_id_field: national_id_field.clone(),
                mobile_field: mobile_field.clone(),
                match_field: match_field.clone(),
            },
        };
        Ok(MobileOwnership {
            provider,
            confirmed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            unavailable: AtomicU64::new(0),
        })
    }

    /// A name for logs and the start-up banner: which registry, never its key.
    pub fn describe(&self) -> String {
        match &self.provider {
            Provider::File(path) => format!("file {}", path.display()),
            Provider::Http { url, .. } => {
                let host = url.split('/').nth(2).unwrap_or("?");
                format!("HTTP registry at {host}")
            }
        }
    }

    /// Does `mobile` belong to `national_id`? `Err` when the registry could not say.
    pub async fn confirms(
        &self,
        national_id: &NationalId,
        mobile: &MobileNumber,
    ) -> Result<bool, OwnershipError> {
        let answer = match &self.provider {
            Provider::File(path) => file_confirms(path, national_id, mobile).await,
            Provider::Http {
                client,
                url,
                key,
                national_id_field,
                mobile_field,
                match_field,
            } => {
                let mut body = serde_json::Map::new();
                body.insert(
                    national_id_field.clone(),
                    national_id.as_str().to_owned().into(),
                );
                body.insert(mobile_field.clone(), local_form(mobile).into());
                http_confirms(client, url, key, &body, match_field).await
            }
        };
        let counter = match &answer {
            Ok(true) => &self.confirmed,
            Ok(false) => &self.denied,
            Err(error) => {
                tracing::warn!(error = %error, "the mobile registry could not be asked");
                &self.unavailable
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        answer
    }

    pub fn counts(&self) -> OwnershipCounts {
        OwnershipCounts {
            confirmed: self.confirmed.load(Ordering::Relaxed),
            denied: self.denied.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
        }
    }
}

/// `09121234567`: how Iranian registries write a mobile.
fn local_form(mobile: &MobileNumber) -> String {
    let e164 = mobile.e164();
    match e164.strip_prefix("+98") {
        Some(rest) => format!("0{rest}"),
        None => e164,
    }
}

async fn file_confirms(
    path: &Path,
    national_id: &NationalId,
    mobile: &MobileNumber,
) -> Result<bool, OwnershipError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        // No registry file: no pair is known.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(OwnershipError::File {
                path: path.to_owned(),
                source,
            });
        }
    };
    Ok(registry_pairs(&text)
        .any(|(id, line)| id.as_str() == national_id.as_str() && line.e164() == mobile.e164()))
}

/// The pairs of a registry file; lines that are not a valid pair (comments, blanks) are skipped.
pub fn registry_pairs(text: &str) -> impl Iterator<Item = (NationalId, MobileNumber)> + '_ {
    text.lines().filter_map(|line| {
        let (id, mobile) = line.split_once(',')?;
        Some((
            NationalId::parse(id).ok()?,
            MobileNumber::parse(mobile).ok()?,
        ))
    })
}

/// Adds a pair to the development registry (the demo seeds its citizens this way); a pair
/// already there is not added twice.
pub async fn register_pair(
    data_dir: &Path,
    national_id: &NationalId,
    mobile: &MobileNumber,
) -> std::io::Result<()> {
    let path = data_dir.join(REGISTRY_FILE_NAME);
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if registry_pairs(&text)
        .any(|(id, line)| id.as_str() == national_id.as_str() && line.e164() == mobile.e164())
    {
        return Ok(());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "{},{}\n",
        national_id.as_str(),
        local_form(mobile)
    ));
    tokio::fs::write(&path, text).await
}

async fn http_confirms(
    client: &reqwest::Client,
    url: &str,
    key: &Secret<String>,
    body: &serde_json::Map<String, serde_json::Value>,
    match_field: &str,
) -> Result<bool, OwnershipError> {
    let json = serde_json::to_vec(body).map_err(|e| OwnershipError::Malformed(e.to_string()))?;
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json);
    if !key.expose().is_empty() {
        request = request.bearer_auth(key.expose());
    }
    let response = request
        .send()
        .await
        .map_err(|e| OwnershipError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(OwnershipError::Refused(status.as_u16()));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| OwnershipError::Unreachable(e.without_url().to_string()))?;
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err(OwnershipError::Malformed(format!(
            "{} bytes, more than {MAX_ANSWER_BYTES}",
            bytes.len()
        )));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| OwnershipError::Malformed(e.to_string()))?;
    answer
        .get(match_field)
        .and_then(serde_json::Value::as_bool)
        .ok_or_else(|| OwnershipError::Malformed(format!("no true/false `{match_field}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, mobile: &str) -> (NationalId, MobileNumber) {
        (
            NationalId::parse(id).unwrap(),
            MobileNumber::parse(mobile).unwrap(),
        )
    }

    #[tokio::test]
    async fn the_file_registry_confirms_only_its_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let registry =
            MobileOwnership::from_settings(&OwnershipSettings::File, dir.path()).unwrap();
        let (id, mobile) = pair("0076229645", "09121234567");
        assert!(
            !registry.confirms(&id, &mobile).await.unwrap(),
            "no file: no pair"
        );
        register_pair(dir.path(), &id, &mobile).await.unwrap();
        register_pair(dir.path(), &id, &mobile).await.unwrap();
        let text = std::fs::read_to_string(dir.path().join(REGISTRY_FILE_NAME)).unwrap();
        assert_eq!(text, "0076229645,09121234567\n", "a pair is written once");
        assert!(registry.confirms(&id, &mobile).await.unwrap());
        let (_, other) = pair("0076229645", "09351234567");
        assert!(!registry.confirms(&id, &other).await.unwrap());
        let counts = registry.counts();
        assert_eq!((counts.confirmed, counts.denied), (1, 2));
    }

    #[test]
    fn registry_lines_read_as_people_write_them() {
        let pairs: Vec<_> =
            registry_pairs("# demo\n۰۰۷۶۲۲۹۶۴۵, +98 912 123 4567\nnot a pair\n0076229646,0912\n")
                .collect();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].1.e164(), "+989121234567");
        assert_eq!(local_form(&pairs[0].1), "09121234567");
    }
}
