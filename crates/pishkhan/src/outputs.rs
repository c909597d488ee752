//! `pishkhan keys` (the keys that sign outputs) and `pishkhan verify` (check an output's QR
//! payload, or a photo or scan of its QR code, offline against the published keys).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use pishkhan_domain::output::{self, PublishedKey, Rejection, Standing};

use crate::context::{Context, DatabaseArgs, Failure};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// The keys that ever signed outputs: id, created, revoked.
    List(DatabaseArgs),
    /// Add a new key to the signing key file: it signs from now on. Old keys stay published, so
    /// what they signed keeps verifying.
    Rotate(DatabaseArgs),
    /// Revoke a key (compromised): everything it signed shows revoked. Rotate first.
    Revoke {
        /// The key's id (`pishkhan keys list`).
        id: String,
        /// Why (kept in the audit log and shown with the outputs it signed).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl KeysCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            KeysCommand::List(database) => {
                ctx.with_app(database, |app| async move {
                    for key in app.published_keys().await.map_err(Failure::runtime)? {
                        let created = chrono::DateTime::from_timestamp_millis(key.created_at)
                            .unwrap_or_default()
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                        match key.revoked_at {
                            Some(_) => println!(
                                "{}  created {created}  REVOKED: {}",
                                key.id,
                                key.revoked_reason.unwrap_or_default()
                            ),
                            None => println!("{}  created {created}", key.id),
                        }
                    }
                    Ok(())
                })
                .await
            }
            KeysCommand::Rotate(database) => {
                let path = ctx.load(database.clone().overrides())?.signing_key_file();
                let id =
                    pishkhan_app::signing::Signers::add_key(&path).map_err(Failure::runtime)?;
                ctx.with_app(database, |app| async move {
                    app.published_keys().await.map_err(Failure::runtime)?;
                    println!(
                        "Added key {id} to {}: it signs from now on (running nodes that read \
                         this file sign with it from their next output); the older keys stay \
                         published.",
                        path.display()
                    );
                    Ok(())
                })
                .await
            }
            KeysCommand::Revoke {
                id,
                reason,
                database,
            } => {
                ctx.with_app(database, |app| async move {
                    app.revoke_signing_key(
                        &pishkhan_app::audit::Actor::command_line(),
                        &id,
                        &reason,
                        chrono::Utc::now(),
                    )
                    .await
                    .map_err(Failure::runtime)?;
                    println!("Key {id} is revoked: what it signed shows revoked.");
                    Ok(())
                })
                .await
            }
        }
    }
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The QR code's content (`PK1.…`, or the verify link holding it), a PNG or JPEG image of
    /// the QR code (a photo or a scan of the paper), or an output's Verifiable Credential (the
    /// `.vc.json` file its holder downloaded).
    pub input: String,
    /// The published keys, as `GET /api/v1/keys` gives them (saved once; then no network).
    #[arg(long, value_name = "FILE")]
    pub keys: PathBuf,
}

#[derive(serde::Deserialize)]
struct KeysFile {
    keys: Vec<KeyEntry>,
}

#[derive(serde::Deserialize)]
struct KeyEntry {
    id: String,
    public_key: String,
    #[serde(default)]
    revoked: Option<String>,
}

/// Reads the QR codes in an image; their texts. A small picture (a code a few pixels a module)
/// is read again at twice the size before giving up.
fn qr_texts(path: &std::path::Path) -> Result<Vec<String>, Failure> {
    let image = image::open(path)
        .map_err(|e| {
            Failure::runtime(format!("{}: not an image I can read ({e})", path.display()))
        })?
        .to_luma8();
    let read = |image: image::GrayImage| -> Vec<String> {
        let mut prepared = rqrr::PreparedImage::prepare(image);
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
            .collect()
    };
    let (width, height) = image.dimensions();
    let found = read(image.clone());
    if !found.is_empty() || width.max(height) > 4000 {
        return Ok(found);
    }
    let larger = image::imageops::resize(
        &image,
        width * 2,
        height * 2,
        image::imageops::FilterType::Triangle,
    );
    Ok(read(larger))
}

/// `pishkhan verify`: exit 0 only for a valid output.
pub fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&args.keys)
        .map_err(|e| Failure::runtime(format!("{}: {e}", args.keys.display())))?;
    let file: KeysFile = serde_json::from_str(&text).map_err(|e| {
        Failure::runtime(format!(
            "{}: not the keys list of GET /api/v1/keys ({e})",
            args.keys.display()
        ))
    })?;
    let keys: Vec<PublishedKey> = file
        .keys
        .iter()
        .filter_map(|k| PublishedKey::from_base64url(&k.id, &k.public_key, k.revoked.is_some()))
        .collect();
    let path = std::path::Path::new(&args.input);
    if path.is_file()
        && let Ok(text) = std::fs::read_to_string(path)
        && text.trim_start().starts_with('{')
    {
        return verify_credential(path, &text, &keys);
    }
    let payload = if path.is_file() {
        let texts = qr_texts(path)?;
        match texts.into_iter().next() {
            Some(text) => text,
            None => {
                return Err(Failure::runtime(format!(
                    "no QR code found in {} (photograph it flat, in focus, the whole code)",
                    path.display()
                )));
            }
        }
    } else {
        args.input.clone()
    };
    let today = pishkhan_domain::JalaliDate::in_iran(chrono::Utc::now()).to_gregorian();
    match output::verify(&payload, &keys) {
        Ok(verified) => {
            let c = &verified.claims;
            let standing = verified.standing(today);
            println!("service  {}", c.service);
            println!("number   {}", c.number);
            println!("holder   {} (digest of the holder's national ID)", c.holder);
            println!("issued   {}", c.issued);
            match c.until {
                Some(until) => println!("until    {until}"),
                None => println!("until    (does not expire)"),
            }
            println!("key      {}", c.key);
            match standing {
                Standing::Valid => {
                    println!(
                        "VALID: the signature holds (an output revoked on its own is known only online)"
                    );
                    Ok(())
                }
                Standing::Expired => Err(Failure::runtime(
                    "EXPIRED: the signature holds, but its validity ended",
                )),
                Standing::Revoked => Err(Failure::runtime(
                    "REVOKED: the key that signed it was revoked",
                )),
            }
        }
        Err(Rejection::Foreign) => Err(Failure::runtime("FOREIGN: not a Pishkhan output's code")),
        Err(Rejection::Tampered) => Err(Failure::runtime(
            "TAMPERED: the signature does not hold; do not trust this document",
        )),
        Err(Rejection::UnknownKey(id)) => Err(Failure::runtime(format!(
            "UNKNOWN KEY: signed with key {id}, which the keys file does not publish"
        ))),
    }
}

/// `pishkhan verify` of a Verifiable Credential: its `eddsa-jcs-2022` proof against the saved
/// keys (the key its `verificationMethod` names), its key's revocation and its validity. Its
/// own revocation is in the status list it names, which only the network has.
fn verify_credential(
    path: &std::path::Path,
    text: &str,
    keys: &[PublishedKey],
) -> Result<(), Failure> {
    use pishkhan_domain::credential::{self, CredentialError};
    let credential: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Failure::runtime(format!("{}: not a credential's JSON ({e})", path.display()))
    })?;
    let Some(method) = credential::verification_method(&credential) else {
        return Err(Failure::runtime(
            "FOREIGN: not a Verifiable Credential with a Data Integrity proof",
        ));
    };
    let id = method.rsplit('/').next().unwrap_or_default();
    let Some(key) = keys.iter().find(|k| k.id == id) else {
        return Err(Failure::runtime(format!(
            "UNKNOWN KEY: signed with {method}, which the keys file does not publish"
        )));
    };
    match credential::verify(&credential, &key.key) {
        Ok(()) => {}
        Err(CredentialError::NoProof) => {
            return Err(Failure::runtime(
                "FOREIGN: not a credential with an eddsa-jcs-2022 proof",
            ));
        }
        Err(e) => {
            return Err(Failure::runtime(format!(
                "TAMPERED: {e}; do not trust this credential"
            )));
        }
    }
    let subject = &credential["credentialSubject"];
    let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    println!("output   {}", field(&credential["name"]));
    println!("number   {}", field(&subject["outputNumber"]));
    println!("holder   {}", field(&subject["name"]));
    println!("issued   {}", field(&credential["validFrom"]));
    match credential["validUntil"].as_str() {
        Some(until) => println!("until    {until}"),
        None => println!("until    (does not expire)"),
    }
    println!("key      {id}");
    if key.revoked {
        return Err(Failure::runtime(
            "REVOKED: the key that signed it was revoked",
        ));
    }
    let expired = credential["validUntil"]
        .as_str()
        .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
        .is_some_and(|until| until < chrono::Utc::now());
    if expired {
        return Err(Failure::runtime(
            "EXPIRED: the proof holds, but its validity ended",
        ));
    }
    println!(
        "VALID: the proof holds (whether the output was revoked since is in its status list: {})",
        field(&credential["credentialStatus"]["statusListCredential"])
    );
    Ok(())
}
