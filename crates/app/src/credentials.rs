//! Outputs as W3C Verifiable Credentials (Data Model 2.0), so a wallet or another system checks
//! one without asking Pishkhan (decision 0016): an `eddsa-jcs-2022` Data Integrity proof made
//! with the province's signing key (`app::signing`, the same keys as the QR payload), revocation
//! through a Bitstring Status List, and the documents a verifier resolves — the issuer's
//! controller document, each key as a Multikey, the status lists, and the JSON-LD contexts,
//! which ship with Pishkhan (`crates/app/contexts`) so nothing is fetched from the network.
//!
//! The addresses, under the public origin:
//! - `/api/v1/issuer`: the controller document (the issuer's id); its `assertionMethod` lists
//!   the keys not revoked;
//! - `/api/v1/keys/{id}`: one key as a Multikey (what a proof's `verificationMethod` names);
//! - `/api/v1/status/{list}`: status list `list` (entries `list × 131072` onwards), a credential
//!   signed when asked, so a revocation shows at once;
//! - `/api/v1/contexts/{name}`: the contexts.

use chrono::{DateTime, SecondsFormat, Utc};
use pishkhan_domain::credential::{
    self, CREDENTIALS_V2, ProofOptions, STATUS_LIST_LENGTH, encode_status_list, multikey,
};
use pishkhan_store::{OutputRecord, StoreError};
use serde_json::{Map, Value, json};

use crate::App;
use crate::applications::ApplicationError;
use crate::policy::Principal;

/// A JSON-LD context Pishkhan serves: the address documents name it by, the name it is served
/// under (`/api/v1/contexts/{name}`), and its text.
pub struct Context {
    pub url: &'static str,
    pub name: &'static str,
    pub text: &'static str,
}

/// Every context the credentials and the documents that check them use (copies of the W3C's
/// published files; see `crates/app/contexts/README.md`).
pub const CONTEXTS: &[Context] = &[
    Context {
        url: CREDENTIALS_V2,
        name: "credentials-v2",
        text: include_str!("../contexts/credentials-v2.jsonld"),
    },
    Context {
        url: DID_V1,
        name: "did-v1",
        text: include_str!("../contexts/did-v1.jsonld"),
    },
    Context {
        url: MULTIKEY_V1,
        name: "multikey-v1",
        text: include_str!("../contexts/multikey-v1.jsonld"),
    },
];

const DID_V1: &str = "https://www.w3.org/ns/did/v1";
const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";

fn timestamp(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl App {
    /// The issuer's id: the address of its controller document.
    pub fn issuer_url(&self) -> String {
        format!("{}/api/v1/issuer", self.config().public_origin())
    }

    fn key_url(&self, id: &str) -> String {
        format!("{}/api/v1/keys/{id}", self.config().public_origin())
    }

    fn status_list_url(&self, list: i64) -> String {
        format!("{}/api/v1/status/{list}", self.config().public_origin())
    }

    fn multikey_of(&self, id: &str, public_key: &str, revoked_at: Option<i64>) -> Option<Value> {
        let key = crate::signing::published_key(public_key)?;
        let mut doc = json!({
            "id": self.key_url(id),
            "type": "Multikey",
            "controller": self.issuer_url(),
            "publicKeyMultibase": multikey(&key),
        });
        if let Some(at) = revoked_at {
            doc["revoked"] = json!(timestamp(at));
        }
        Some(doc)
    }

    /// The issuer's controller document: every key as a Multikey, the ones not revoked as
    /// assertion methods (so what a revoked key signed no longer verifies).
    pub async fn issuer_document(&self) -> Result<Value, StoreError> {
        let keys = self.published_keys().await?;
        let methods: Vec<Value> = keys
            .iter()
            .filter_map(|k| self.multikey_of(&k.id, &k.public_key, k.revoked_at))
            .collect();
        let assertion: Vec<String> = keys
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| self.key_url(&k.id))
            .collect();
        Ok(json!({
            "@context": [DID_V1, MULTIKEY_V1],
            "id": self.issuer_url(),
            "verificationMethod": methods,
            "assertionMethod": assertion,
        }))
    }

    /// One key as a Multikey document; `None` for a key never published.
    pub async fn key_document(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let keys = self.published_keys().await?;
        Ok(keys
            .iter()
            .find(|k| k.id == id)
            .and_then(|k| self.multikey_of(&k.id, &k.public_key, k.revoked_at))
            .map(|mut doc| {
                doc["@context"] = json!(MULTIKEY_V1);
                doc
            }))
    }

    /// Signs `document` with the key `wanted` if this node holds it and it is not revoked,
    /// otherwise with the key that signs now; `created` is the proof's time when `wanted` signs.
    async fn sign_credential(
        &self,
        document: Map<String, Value>,
        wanted: Option<&str>,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Value, StoreError> {
        let signers = self.signers().await?;
        let revoked: Vec<String> = self
            .store()
            .signing_keys()
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_some())
            .map(|k| k.id)
            .collect();
        let (id, key, created) = match wanted
            .filter(|id| !revoked.iter().any(|r| r == id))
            .and_then(|id| signers.key(id).map(|key| (id, key)))
        {
            Some((id, key)) => (id.to_owned(), key, created),
            None => {
                let (id, key) = signers.current();
                (id.to_owned(), key, now)
            }
        };
        let options = ProofOptions {
            verification_method: self.key_url(&id),
            created: created.to_rfc3339_opts(SecondsFormat::Secs, true),
        };
        let signed = credential::sign(document, &options, key)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Value::Object(signed))
    }

    /// An output as a Verifiable Credential, for someone who may see its application (`None`
    /// otherwise, as for a missing one). Signed by the key that signed the output (so the same
    /// output gives the same credential every time) while this node holds it and it is not
    /// revoked; by the key that signs now otherwise.
    pub async fn output_credential(
        &self,
        principal: &Principal,
        number: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Value>, ApplicationError> {
        let Some(record) = self.output_seen_by(principal, number).await? else {
            return Ok(None);
        };
        let document = self.credential_document(&record).await?;
        let issued = DateTime::from_timestamp_millis(record.issued_at).unwrap_or(now);
        Ok(Some(
            self.sign_credential(document, Some(&record.key_id), issued, now)
                .await?,
        ))
    }

    async fn credential_document(
        &self,
        record: &OutputRecord,
    ) -> Result<Map<String, Value>, StoreError> {
        let directory = self.store().org_directory().await?;
        let (agency, province) = crate::print::names(&directory, &record.agency);
        let origin = self.config().public_origin();
        let fields: Vec<(String, String)> = record
            .fields
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok())
            .unwrap_or_default();
        let list = record.status_index / STATUS_LIST_LENGTH as i64;
        let list_url = self.status_list_url(list);
        let mut subject = json!({
            "name": record.holder_name,
            "nationalId": record.national_id,
            "outputNumber": record.number,
            "verificationCode": record.code,
            "service": record.service,
            "application": record.application,
            "agency": agency,
        });
        if !fields.is_empty() {
            subject["fields"] = fields
                .iter()
                .map(|(label, value)| json!({ "label": label, "value": value }))
                .collect();
        }
        let mut doc = json!({
            "@context": [CREDENTIALS_V2],
            "id": format!("{origin}/verify?code={}", record.code),
            "type": ["VerifiableCredential"],
            "name": record.title,
            "description": format!("{} — {agency}", record.title),
            "issuer": {
                "id": self.issuer_url(),
                "name": province.unwrap_or_else(|| agency.clone()),
            },
            "validFrom": timestamp(record.issued_at),
            "credentialSubject": subject,
            "credentialStatus": {
                "id": format!("{list_url}#{}", record.status_index),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": record.status_index.to_string(),
                "statusListCredential": list_url,
            },
        });
        if let Some(until) = &record.valid_until {
            // The last day it holds, to its end in Iran.
            doc["validUntil"] = json!(format!("{until}T23:59:59+03:30"));
        }
        Ok(object(doc))
    }

    /// Status list `list` as a credential signed now: an entry is set when its output is
    /// revoked or its key is. `None` past the last list in use.
    pub async fn status_list_credential(
        &self,
        list: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Value>, StoreError> {
        let last = self.store().last_status_index().await?.unwrap_or(0);
        if list < 0 || list > last / STATUS_LIST_LENGTH as i64 {
            return Ok(None);
        }
        let from = list * STATUS_LIST_LENGTH as i64;
        let revoked = self
            .store()
            .revoked_status_entries(from, from + STATUS_LIST_LENGTH as i64)
            .await?;
        let url = self.status_list_url(list);
        let doc = json!({
            "@context": [CREDENTIALS_V2],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.issuer_url(),
            "validFrom": now.to_rfc3339_opts(SecondsFormat::Secs, true),
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encode_status_list(
                    revoked.iter().map(|i| (i - from) as u64),
                    STATUS_LIST_LENGTH,
                ),
            },
        });
        Ok(Some(
            self.sign_credential(object(doc), None, now, now).await?,
        ))
    }
}
