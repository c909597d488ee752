//! `user`, `token` and `org`: accounts, API tokens, and the organisations roles are held in.

use clap::Subcommand;
use pishkhan_app::Secret;
use pishkhan_app::audit::Actor;
use pishkhan_app::orgs::OrgError;
use pishkhan_app::records::OrgKind;
use pishkhan_app::users::{UserError, generate_password};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};

use crate::context::{Context, DatabaseArgs, Failure};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account holding one role within a scope. Without --password-stdin a strong
    /// password is generated and shown once.
    Create {
        #[arg(long)]
        username: String,
        /// The person's name, as the screens show it.
        #[arg(long)]
        name: String,
        /// citizen, operator, centre-manager, agency-clerk, agency-editor, agency-admin,
        /// governorate-admin, noc, commission, system.
        #[arg(long)]
        role: String,
        /// self, centre:CODE, agency:CODE[/UNIT], province:CODE or national.
        #[arg(long)]
        scope: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token for an API client; it is shown once.
    Create {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. the system's name.
        #[arg(long, default_value = "api")]
        label: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List an API client's tokens: id, name, created, last used, until when it works.
    List {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Stop a token at once (by the id `token list` shows).
    Revoke {
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Replace a token: a new one is shown once, the old one keeps working for the overlap.
    Rotate {
        id: String,
        /// How long the old token keeps working, in hours (0 to 720).
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Add an agency or a service centre to a province.
    Add {
        /// agency or centre.
        kind: String,
        /// Lower-case letters, digits and dashes, e.g. tehran-civil-registry.
        code: String,
        /// The province's code, e.g. tehran.
        #[arg(long)]
        province: String,
        /// The Persian name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// A refusal the operator can fix is a configuration failure; a store failure is not.
fn user_failure(error: UserError) -> Failure {
    match error {
        UserError::Store(e) => Failure::runtime(e),
        e => Failure::config(e),
    }
}

impl UserCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        let UserCommand::Create {
            username,
            name,
            role,
            scope,
            password_stdin,
            database,
        } = self;
        let role = Role::from_code(role.trim()).map_err(|e| Failure::config(e.en))?;
        let scope = Scope::parse(&scope).map_err(|e| Failure::config(e.en))?;
        let grant = RoleGrant::new(role, scope).map_err(|e| Failure::config(e.en))?;
        let (password, generated) = if password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Failure::config(format!("cannot read the password: {e}")))?;
            (
                Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()),
                false,
            )
        } else {
            (generate_password(), true)
        };
        let created = {
            let (username, password, grant) = (&username, &password, grant.clone());
            ctx.with_app(database, |app| async move {
                app.create_user(
                    &Actor::command_line(),
                    username,
                    &name,
                    password,
                    vec![grant],
                )
                .await
                .map_err(user_failure)
            })
            .await
        };
        created?;
        println!(
            "Created {username} ({} in {}).",
            grant.role().code(),
            grant.scope()
        );
        if generated {
            println!("Password (shown only now): {}", password.expose());
        }
        Ok(())
    }
}

impl TokenCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        match self {
            TokenCommand::Create {
                username,
                label,
                database,
            } => {
                let (who, label) = (username.trim(), &label);
                let token = ctx
                    .with_app(database, |app| async move {
                        app.create_api_token(&Actor::command_line(), who, label)
                            .await
                            .map_err(user_failure)
                    })
                    .await?;
                println!("Token for {username} (shown only now): {}", token.expose());
            }
            TokenCommand::List { username, database } => {
                let who = username.trim();
                let tokens = ctx
                    .with_app(database, |app| async move {
                        let user = app
                            .user_by_username(who)
                            .await
                            .map_err(Failure::runtime)?
                            .ok_or_else(|| Failure::config(format!("there is no user `{who}`")))?;
                        app.api_tokens(None, &user.id)
                            .await
                            .map_err(user_failure)?
                            .ok_or_else(|| {
                                Failure::config(format!(
                                    "`{who}` is not an API client (role system)"
                                ))
                            })
                    })
                    .await?;
                let now = chrono::Utc::now();
                for t in tokens {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                        (None, Some(at)) if at <= now => format!("expired {}", at.to_rfc3339()),
                        (None, Some(at)) => format!("works until {}", at.to_rfc3339()),
                        (None, None) => "works".to_owned(),
                    };
                    let used = t.last_used_at.map_or_else(
                        || "never used".to_owned(),
                        |at| format!("last used {}", at.to_rfc3339()),
                    );
                    println!(
                        "{}\t{}\tcreated {}\t{used}\t{state}",
                        t.id,
                        t.label,
                        t.created_at.to_rfc3339()
                    );
                }
            }
            TokenCommand::Revoke { id, database } => {
                let id = id.trim().to_owned();
                let done = ctx
                    .with_app(database, |app| {
                        let id = id.clone();
                        async move {
                            app.revoke_api_token(None, &Actor::command_line(), &id)
                                .await
                                .map_err(user_failure)
                        }
                    })
                    .await?;
                if !done {
                    return Err(Failure::config(format!(
                        "there is no working token `{id}` (see `pishkhan token list`)"
                    )));
                }
                println!("Token {id} revoked: it no longer works.");
            }
            TokenCommand::Rotate {
                id,
                overlap_hours,
                database,
            } => {
                let id = id.trim().to_owned();
                let overlap = chrono::TimeDelta::hours(overlap_hours);
                let fresh = ctx
                    .with_app(database, |app| {
                        let id = id.clone();
                        async move {
                            app.rotate_api_token(None, &Actor::command_line(), &id, overlap)
                                .await
                                .map_err(user_failure)
                        }
                    })
                    .await?;
                let Some((fresh_id, token)) = fresh else {
                    return Err(Failure::config(format!(
                        "there is no working token `{id}` (see `pishkhan token list`)"
                    )));
                };
                println!(
                    "New token {fresh_id} (shown only now): {}\nThe old token {id} works for {overlap_hours} more hour(s).",
                    token.expose()
                );
            }
        }
        Ok(())
    }
}

impl OrgCommand {
    pub async fn run(self, ctx: &Context) -> Result<(), Failure> {
        let OrgCommand::Add {
            kind,
            code,
            province,
            name,
            database,
        } = self;
        let kind = match kind.as_str() {
            "agency" => OrgKind::Agency,
            "centre" => OrgKind::Centre,
            other => {
                return Err(Failure::config(format!(
                    "`{other}` is not a kind of organisation; use agency or centre"
                )));
            }
        };
        let (code_ref, province_ref) = (&code, &province);
        ctx.with_app(database, |app| async move {
            app.add_org(&Actor::command_line(), kind, code_ref, province_ref, &name)
                .await
                .map_err(|e| match e {
                    OrgError::Store(e) => Failure::runtime(e),
                    e => Failure::config(e),
                })
        })
        .await?;
        println!("Added {code} in {province}.");
        Ok(())
    }
}
