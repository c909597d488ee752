//! The database itself: `migrate`, `nodes`, and `audit verify`.

use clap::Subcommand;

use crate::context::{Context, DatabaseArgs, Failure};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; name the first entry that was edited or deleted.
    Verify(DatabaseArgs),
}

/// Brings the schema up to date (opening the app does) and says where.
pub async fn migrate(ctx: &Context, database: DatabaseArgs) -> Result<(), Failure> {
    ctx.with_app(database, |app| async move {
        println!("Database is up to date: {}", app.database_description());
        Ok(())
    })
    .await
}

/// The processes serving this database.
pub async fn nodes(ctx: &Context, database: DatabaseArgs) -> Result<(), Failure> {
    ctx.with_app(database, |app| async move {
        let nodes = app.live_nodes().await.map_err(Failure::runtime)?;
        println!(
            "{} node(s) serving {}",
            nodes.len(),
            app.database_description()
        );
        for node in nodes {
            println!(
                "{}  {}  {}  version {}  started {}  last seen {}",
                node.id,
                node.hostname,
                node.listen,
                node.version,
                node.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                node.last_seen_at.format("%Y-%m-%d %H:%M:%S UTC"),
            );
        }
        Ok(())
    })
    .await
}

impl AuditCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            AuditCommand::Verify(database) => {
                ctx.with_app(database, |app| async move {
                    let entries = app.verify_audit().await.map_err(Failure::runtime)?;
                    println!(
                        "The audit log is intact: {entries} entries, each linked to the one before."
                    );
                    Ok(())
                })
                .await
            }
        }
    }
}
