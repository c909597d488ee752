//! The database itself: `migrate`, `nodes`, `backup`, `restore` and `audit verify`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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

#[derive(Args)]
pub struct BackupArgs {
    /// A new (or empty) folder for the backup.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The folder `pishkhan backup` wrote.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The new data folder to restore into (must not hold a database).
    #[arg(long, value_name = "DIR")]
    pub data_dir: String,
}

/// `pishkhan backup --to DIR`.
pub async fn backup(ctx: &Context, args: BackupArgs) -> Result<(), Failure> {
    let to = args.to;
    ctx.with_app(args.database, |app| async move {
        let manifest = app.backup(&to).await.map_err(Failure::runtime)?;
        println!(
            "Backed up {} into {}: the database, and {} document file(s) ({} bytes).",
            app.database_description(),
            to.display(),
            manifest.documents,
            manifest.bytes
        );
        Ok(())
    })
    .await
}

/// `pishkhan restore --from DIR --data-dir NEW`: copies, then opens the restored database
/// (bringing an older backup's schema up to date) and checks every page and the audit chain.
pub async fn restore(ctx: &Context, args: RestoreArgs) -> Result<(), Failure> {
    let data_dir = PathBuf::from(&args.data_dir);
    let manifest =
        pishkhan_app::backup::restore(&args.from, &data_dir).map_err(Failure::runtime)?;
    let database = DatabaseArgs {
        data_dir: Some(args.data_dir),
        database_url: None,
    };
    ctx.with_app(database, |app| async move {
        let problems = app.integrity_check().await.map_err(Failure::runtime)?;
        if problems != ["ok"] {
            return Err(Failure::runtime(format!(
                "the restored database is damaged: {}",
                problems.join("; ")
            )));
        }
        let entries = app.verify_audit().await.map_err(Failure::runtime)?;
        println!(
            "Restored the backup of {} (Pishkhan {}) into {}: the database checks out, the \
             audit log is intact ({entries} entries), {} document file(s).",
            manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            manifest.version,
            data_dir.display(),
            manifest.documents
        );
        Ok(())
    })
    .await
}

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Add a new key to the secrets key file and seal every stored secret with it. The old key
    /// stays in the file: remove its line once sessions begun before now have ended (12 hours).
    Rotate(DatabaseArgs),
}

impl SecretsCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            SecretsCommand::Rotate(database) => {
                let path = ctx.load(database.clone().overrides())?.secrets_key_file();
                let key = pishkhan_app::sealed::Sealer::add_key(&path).map_err(Failure::runtime)?;
                ctx.with_app(database, |app| async move {
                    let done = app
                        .reseal_secrets(&pishkhan_app::audit::Actor::command_line(), true)
                        .await
                        .map_err(Failure::runtime)?;
                    println!(
                        "Added key {key} to {}; {} stored secret(s) sealed with it. Remove the \
                         older key's line after 12 hours (sessions begun before now).",
                        path.display(),
                        done.resealed
                    );
                    Ok(())
                })
                .await
            }
        }
    }
}
