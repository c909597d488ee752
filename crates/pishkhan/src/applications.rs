//! `applications`: what agencies' developers start from — an example filing, a workflow.

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
