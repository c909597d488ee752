//! `applications`: what agencies' developers start from — an example filing, a workflow; `outbox`:
//! the notifications that failed their last attempt.

use clap::Subcommand;

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

/// The messages that must go out after a commit (notifications): those that failed their last
/// attempt, and trying one again.
#[derive(Subcommand)]
pub enum OutboxCommand {
    /// List the dead-lettered notifications, newest first: id, topic, application, attempts,
    /// when it gave up, the last error.
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Try a dead-lettered message again, its attempts counted from zero (on the record).
    Replay {
        id: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl OutboxCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            OutboxCommand::Dead { limit, database } => {
                let dead = ctx
                    .with_app(database, |app| async move {
                        app.dead_notifications(limit.clamp(1, 10_000))
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
                        app.replay_dead_letter(&pishkhan_app::audit::Actor::command_line(), id)
                            .await
                            .map_err(Failure::runtime)
                    })
                    .await?;
                if !done {
                    return Err(Failure::config(format!(
                        "message {id} is not dead-lettered (see `pishkhan outbox dead`)"
                    )));
                }
                println!("Message {id} will be tried again.");
            }
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
