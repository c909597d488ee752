//! Text messages: one interface, two providers. The development provider appends each message
//! to a file (the demo's user and the tests read codes there); the HTTP provider posts to any
//! SMS gateway, configured by URL, key and a body template.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pishkhan_domain::id::MobileNumber;
use tokio::io::AsyncWriteExt;

use crate::Secret;
use crate::config::SmsSettings;

/// Name of the development provider's file in the data folder.
pub const SMS_FILE_NAME: &str = "sms-outbox.jsonl";

/// One message to one number.
#[derive(Clone)]
pub struct SmsMessage {
    pub to: MobileNumber,
    pub text: String,
    /// The one-time code inside `text`, for gateways whose templates take it separately.
    pub code: Option<String>,
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the SMS file {path} cannot be written: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the SMS gateway did not answer: {0}")]
    Unreachable(String),
    #[error("the SMS gateway refused the message with HTTP status {0}")]
    Refused(u16),
}

/// Where messages go.
#[derive(Debug)]
pub enum SmsProvider {
    File {
        path: PathBuf,
        lock: tokio::sync::Mutex<()>,
    },
    Http {
        client: reqwest::Client,
        url: String,
        key: Secret<String>,
        template: String,
    },
}

impl SmsProvider {
    pub fn from_settings(settings: &SmsSettings, data_dir: &Path) -> Result<SmsProvider, String> {
        Ok(match settings {
            SmsSettings::File => SmsProvider::File {
                path: data_dir.join(SMS_FILE_NAME),
                lock: tokio::sync::Mutex::new(()),
            },
            SmsSettings::Http { url, key, template } => SmsProvider::Http {
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| format!("the HTTP client for SMS cannot be built: {e}"))?,
                url: url.clone(),
                key: key.clone(),
                template: template.clone(),
            },
        })
    }

    /// A name for logs: which provider, never its key.
    pub fn describe(&self) -> String {
        match self {
            SmsProvider::File { path, .. } => format!("file {}", path.display()),
            SmsProvider::Http { url, .. } => {
                let host = url.split('/').nth(2).unwrap_or("?");
                format!("HTTP gateway at {host}")
            }
        }
    }

    pub async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        match self {
            SmsProvider::File { path, lock } => {
                let line = serde_json::json!({
                    "at": chrono::Utc::now().to_rfc3339(),
                    "to": message.to.e164(),
                    "text": message.text,
                    "code": message.code,
                })
                .to_string()
                    + "\n";
                let _guard = lock.lock().await;
                let error = |source| SmsError::File {
                    path: path.clone(),
                    source,
                };
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(error)?;
                file.write_all(line.as_bytes()).await.map_err(error)?;
                file.sync_data().await.map_err(error)
            }
            SmsProvider::Http {
                client,
                url,
                key,
                template,
            } => {
                let json = template.trim_start().starts_with('{');
                let fill = |value: &str| {
                    if json {
                        let quoted = serde_json::Value::String(value.to_owned()).to_string();
                        quoted[1..quoted.len() - 1].to_owned()
                    } else {
                        url_encode(value)
                    }
                };
                let body = template
                    .replace("{to}", &fill(&message.to.e164()))
                    .replace("{text}", &fill(&message.text))
                    .replace("{code}", &fill(message.code.as_deref().unwrap_or("")));
                let target = url.replace("{key}", &url_encode(key.expose()));
                let content_type = if json {
                    "application/json"
                } else {
                    "application/x-www-form-urlencoded"
                };
                let response = client
                    .post(&target)
                    .header("content-type", content_type)
                    .bearer_auth(key.expose())
                    .body(body)
                    .send()
                    .await
                    // reqwest's error names the URL, which may carry the key: say less.
                    .map_err(|e| {
                        SmsError::Unreachable(if e.is_timeout() {
                            "timed out after 10 s".to_owned()
                        } else if e.is_connect() {
                            "connection failed".to_owned()
                        } else {
                            "request failed".to_owned()
                        })
                    })?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(SmsError::Refused(response.status().as_u16()))
                }
            }
        }
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads the development provider's file: every message, oldest first, as (to, text, code).
pub fn read_sms_file(path: &Path) -> std::io::Result<Vec<(String, String, Option<String>)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|v| {
            (
                v["to"].as_str().unwrap_or_default().to_owned(),
                v["text"].as_str().unwrap_or_default().to_owned(),
                v["code"].as_str().map(str::to_owned),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn message() -> SmsMessage {
        SmsMessage {
            to: MobileNumber::parse("09121234567").unwrap(),
            text: "کد ورود: ۱۲۳۴۵۶ \"ok\"".to_owned(),
            code: Some("123456".to_owned()),
        }
    }

    #[tokio::test]
    async fn the_file_provider_appends_one_json_line_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let provider = SmsProvider::from_settings(&SmsSettings::File, dir.path()).unwrap();
        provider.send(&message()).await.unwrap();
        provider.send(&message()).await.unwrap();
        let messages = read_sms_file(&dir.path().join(SMS_FILE_NAME)).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].0, "+989121234567");
        assert_eq!(messages[0].2.as_deref(), Some("123456"));
    }

    /// A real HTTP server stands in for the gateway: the adapter's request is checked as sent.
    #[tokio::test]
    async fn the_http_provider_posts_the_template_filled_in() {
        type Seen = Arc<Mutex<Vec<(String, String, String)>>>;
        let seen: Seen = Arc::default();
        let recorder = seen.clone();
        let app = axum::Router::new().route(
            "/{key}/send",
            axum::routing::post(
                move |axum::extract::Path(key): axum::extract::Path<String>,
                      headers: axum::http::HeaderMap,
                      body: String| {
                    let recorder = recorder.clone();
                    async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        recorder.lock().unwrap().push((key.clone(), auth, body));
                        if key == "bad-key" {
                            axum::http::StatusCode::UNAUTHORIZED
                        } else {
                            axum::http::StatusCode::OK
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let settings = |key: &str| SmsSettings::Http {
            url: format!("http://{address}/{{key}}/send"),
            key: Secret::new(key.to_owned()),
            template: r#"{"receptor":"{to}","message":"{text}","token":"{code}"}"#.to_owned(),
        };
        let dir = tempfile::tempdir().unwrap();
        let provider = SmsProvider::from_settings(&settings("k-1"), dir.path()).unwrap();
        provider.send(&message()).await.unwrap();
        let (key, auth, body) = seen.lock().unwrap()[0].clone();
        assert_eq!(key, "k-1");
        assert_eq!(auth, "Bearer k-1");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["receptor"], "+989121234567");
        assert_eq!(body["message"], "کد ورود: ۱۲۳۴۵۶ \"ok\"");
        assert_eq!(body["token"], "123456");
        assert!(!provider.describe().contains("k-1"));

        let refusing = SmsProvider::from_settings(&settings("bad-key"), dir.path()).unwrap();
        let error = refusing.send(&message()).await.unwrap_err();
        assert!(matches!(error, SmsError::Refused(401)), "{error}");

        let form = SmsProvider::from_settings(
            &SmsSettings::Http {
                url: format!("http://{address}/k-2/send"),
                key: Secret::new("k-2".to_owned()),
                template: "to={to}&text={text}".to_owned(),
            },
            dir.path(),
        )
        .unwrap();
        form.send(&message()).await.unwrap();
        let (_, _, body) = seen.lock().unwrap()[2].clone();
        assert!(body.starts_with("to=%2B989121234567&text=%DA%A9"), "{body}");
    }
}
