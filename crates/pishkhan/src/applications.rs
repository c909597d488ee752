//! `applications`: what agencies' developers start from — an example filing, a workflow; `outbox`:
//! the jobs that failed their last attempt; `webhook`: where an agency's events are sent;
//! `inquiry`: the inquiry services agencies answer; `exchange verify`: the log of their calls.

use clap::Subcommand;

use pishkhan_app::audit::Actor;
use pishkhan_app::inquiries::InquiryError;
use pishkhan_app::webhooks::WebhookError;

use crate::context::{Context, DatabaseArgs, Failure};

#[derive(Subcommand)]
pub enum ApplicationsCommand {
    /// Print a complete example body for `POST /api/v1/applications` for a published service:
    /// every form filled with valid example answers, a small PDF for each document.
    Example {
        /// The service's code, e.g. tehran.birth-certificate.
        service: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the workflow a published service's applications follow, as JSON (its own, or the
    /// standard one): the starting point for an editor adapting it on the desk.
    Workflow {
        /// The service's code, e.g. tehran.building-permit.
        service: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// The jobs that run after a commit (notifications, webhook deliveries): those that failed
/// their last attempt, and trying one again.
#[derive(Subcommand)]
pub enum OutboxCommand {
    /// List the dead-lettered jobs, newest first: id, topic, subject (an application, or the
    /// agency of a webhook delivery), attempts, when it gave up, the last error.
    Dead {
        /// Only this agency's webhook deliveries.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Try a dead-lettered job again, its attempts counted from zero (on the record).
    Replay {
        id: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl OutboxCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            OutboxCommand::Dead {
                agency,
                limit,
                database,
            } => {
                let dead = ctx
                    .with_app(database, |app| async move {
                        app.dead_letters(None, agency.as_deref(), limit.clamp(1, 10_000))
                            .await
                            .map_err(Failure::runtime)
                    })
                    .await?;
                for d in dead {
                    let at = chrono::DateTime::from_timestamp_millis(d.dead_at)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    println!(
                        "{}\t{}\t{}\t{} attempts\tdead {at}\t{}",
                        d.id, d.topic, d.subject, d.attempts, d.last_error
                    );
                }
            }
            OutboxCommand::Replay { id, database } => {
                let done = ctx
                    .with_app(database, |app| async move {
                        app.replay_dead_letter(&Actor::command_line(), id, None)
                            .await
                            .map_err(Failure::runtime)
                    })
                    .await?;
                if !done {
                    return Err(Failure::config(format!(
                        "job {id} is not dead-lettered (see `pishkhan outbox dead`)"
                    )));
                }
                println!("Job {id} will be tried again.");
            }
        }
        Ok(())
    }
}

/// An agency's webhook: where its events are sent, signed (Standard Webhooks).
#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Show the agency's webhook.
    Show {
        agency: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Register the agency's webhook (its secret is shown once), or change its URL.
    Set {
        agency: String,
        /// https://…, or http:// to this machine only.
        url: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// A new secret, shown once; the old one keeps signing for the overlap.
    Rotate {
        agency: String,
        /// How long the old secret signs too, in hours (0 to 720).
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Stop sending the agency's events (deliveries not yet made are dropped).
    Remove {
        agency: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn webhook_failure(e: WebhookError) -> Failure {
    match e {
        WebhookError::NotAllowed => {
            Failure::config("there is no such agency (see `pishkhan org list`)")
        }
        WebhookError::Invalid(problem) => Failure::config(problem.en),
        WebhookError::Store(e) => Failure::runtime(e),
    }
}

impl WebhookCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        let cli = Actor::command_line();
        match self {
            WebhookCommand::Show { agency, database } => {
                let hook = ctx
                    .with_app(database, |app| async move {
                        app.webhook(None, agency.trim())
                            .await
                            .map_err(webhook_failure)
                    })
                    .await?;
                match hook {
                    Some(h) => println!(
                        "{}\t{}\tsince {}{}",
                        h.agency,
                        h.url,
                        h.created_at.to_rfc3339(),
                        h.previous_until
                            .map(|t| format!("\tprevious secret signs until {}", t.to_rfc3339()))
                            .unwrap_or_default()
                    ),
                    None => println!("No webhook: the agency's systems pull GET /api/v1/events."),
                }
            }
            WebhookCommand::Set {
                agency,
                url,
                database,
            } => {
                let secret = ctx
                    .with_app(database, |app| async move {
                        app.set_webhook(None, &cli, agency.trim(), &url)
                            .await
                            .map_err(webhook_failure)
                    })
                    .await?;
                match secret {
                    Some(secret) => println!(
                        "Webhook registered. Its secret (shown only now): {}",
                        secret.expose()
                    ),
                    None => println!("Webhook URL changed; its secret is the same."),
                }
            }
            WebhookCommand::Rotate {
                agency,
                overlap_hours,
                database,
            } => {
                let overlap = chrono::TimeDelta::hours(overlap_hours.clamp(0, 720));
                let secret = ctx
                    .with_app(database, |app| async move {
                        app.rotate_webhook_secret(None, &cli, agency.trim(), overlap)
                            .await
                            .map_err(webhook_failure)
                    })
                    .await?
                    .ok_or_else(|| Failure::config("the agency has no webhook"))?;
                println!(
                    "New secret (shown only now): {}\nThe old one signs too for {} more hour(s).",
                    secret.expose(),
                    overlap.num_hours()
                );
            }
            WebhookCommand::Remove { agency, database } => {
                let removed = ctx
                    .with_app(database, |app| async move {
                        app.remove_webhook(None, &cli, agency.trim())
                            .await
                            .map_err(webhook_failure)
                    })
                    .await?;
                if !removed {
                    return Err(Failure::config("the agency has no webhook"));
                }
                println!(
                    "Webhook removed; the agency's systems can still pull GET /api/v1/events."
                );
            }
        }
        Ok(())
    }
}

/// Inquiry services agencies answer (استعلام).
#[derive(Subcommand)]
pub enum InquiryCommand {
    /// Register an inquiry service from its JSON definition (or replace it): code, agency,
    /// name, url, input and output fields (form standard), roles, services, timeout_ms,
    /// cache_seconds. Everything is checked first; problems are listed with where they are.
    Register {
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the inquiry services (of one agency).
    List {
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl InquiryCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            InquiryCommand::Register { file, database } => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| Failure::config(format!("{}: {e}", file.display())))?;
                let code = ctx
                    .with_app(database, |app| async move {
                        app.register_inquiry(None, &Actor::command_line(), &text)
                            .await
                            .map_err(|e| match e {
                                InquiryError::Invalid(problems) => Failure::config(
                                    problems
                                        .iter()
                                        .map(|p| format!("{}: {}", p.at, p.en))
                                        .collect::<Vec<_>>()
                                        .join("\n"),
                                ),
                                other => Failure::runtime(other),
                            })
                    })
                    .await?;
                println!("Inquiry {code} registered.");
            }
            InquiryCommand::List { agency, database } => {
                let list = ctx
                    .with_app(database, |app| async move {
                        app.inquiry_definitions(agency.as_deref())
                            .await
                            .map_err(Failure::runtime)
                    })
                    .await?;
                for d in list {
                    println!(
                        "{}\t{}\t{}\t{} ms\tcache {} s\t{}",
                        d.code,
                        d.agency,
                        d.url,
                        d.timeout_ms,
                        d.cache_seconds,
                        d.roles.join(",")
                    );
                }
            }
        }
        Ok(())
    }
}

/// The log of exchanges with agencies' systems.
#[derive(Subcommand)]
pub enum ExchangeCommand {
    /// Check the log: the audit chain every inquiry call is a link of, and how the calls went;
    /// with --entry and --answer, whether an answer someone kept is the one that entry logged.
    Verify {
        #[arg(long, requires = "answer")]
        entry: Option<i64>,
        /// A file holding the answer as the agency sent it.
        #[arg(long, requires = "entry")]
        answer: Option<std::path::PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl ExchangeCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        let ExchangeCommand::Verify {
            entry,
            answer,
            database,
        } = self;
        let kept = match &answer {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| Failure::config(format!("{}: {e}", path.display())))?,
            ),
            None => None,
        };
        let verified = ctx
            .with_app(database, |app| async move {
                let check = entry.zip(kept.as_deref());
                app.verify_exchange_log(check)
                    .await
                    .map_err(Failure::runtime)
            })
            .await?;
        let calls: i64 = verified.calls.values().sum();
        println!(
            "The chain verifies: {} entries, {calls} inquiry calls ({}).",
            verified.chain,
            verified
                .calls
                .iter()
                .map(|(outcome, n)| format!("{outcome} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "Documents fetched from inquiries: {}, each the answer its call logged{}.",
            verified.documents,
            if verified.documents_wrong.is_empty() {
                ""
            } else {
                " — EXCEPT those below"
            }
        );
        for wrong in &verified.documents_wrong {
            println!("  {wrong}");
        }
        match (entry, verified.answer_matches) {
            (Some(seq), Some(true)) => println!("Entry {seq}: the answer is the one it logged."),
            (Some(seq), Some(false)) => {
                return Err(Failure::config(format!(
                    "entry {seq}: this answer is NOT the one it logged (its SHA-256 differs)"
                )));
            }
            (Some(seq), None) => {
                return Err(Failure::config(format!(
                    "entry {seq} is not an inquiry call"
                )));
            }
            _ => {}
        }
        if !verified.documents_wrong.is_empty() {
            return Err(Failure::config(format!(
                "{} fetched document(s) are not what the log holds",
                verified.documents_wrong.len()
            )));
        }
        Ok(())
    }
}

fn no_such_service(service: &str) -> Failure {
    Failure::config(format!(
        "no published service `{service}`; `pishkhan demo` loads the demo catalogue"
    ))
}

impl ApplicationsCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            ApplicationsCommand::Example { service, database } => {
                let service = service.trim();
                let example = ctx
                    .with_app(database, |app| async move {
                        app.example_submission(service)
                            .await
                            .map_err(Failure::runtime)
                    })
                    .await?
                    .ok_or_else(|| no_such_service(service))?;
                println!(
                    "{}",
                    pishkhan_web::api::applications::example_json(&example)
                );
                Ok(())
            }
            ApplicationsCommand::Workflow { service, database } => {
                let service = service.trim();
                let page = ctx
                    .with_app(database, |app| async move {
                        app.service_page(service).await.map_err(Failure::runtime)
                    })
                    .await?
                    .ok_or_else(|| no_such_service(service))?;
                let workflow = page.service.card.workflow();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&workflow).map_err(Failure::runtime)?
                );
                Ok(())
            }
        }
    }
}
