//! `serve` and `demo`: the web server, its background work, and a clean stop.

use std::net::SocketAddr;

use pishkhan_app::{App, Config};
use pishkhan_domain::identity::Role;
use pishkhan_web::WebState;
use tokio::net::TcpListener;

use crate::context::{Failure, init_logging};

/// How long requests in flight may finish after SIGTERM or Ctrl+C.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Where `demo` keeps its data unless told otherwise, apart from a real installation's.
pub const DEMO_DATA_DIR: &str = "pishkhan-demo";

pub async fn serve(config: Config, demo: bool) -> Result<(), Failure> {
    init_logging(&config);
    if let Some(problem) = config.serving_problem() {
        return Err(Failure::config(problem));
    }
    // Take the port before touching the database: a busy port fails fast and changes nothing.
    let listener = bind(config.listen).await?;
    let address = listener.local_addr().map_err(Failure::runtime)?;
    // `--listen …:0` asks for any free port: links printed on outputs and in credentials name
    // the one taken, not port 0.
    let mut config = config;
    config.listen = address;
    // The demo pays fees online through a sandbox bank of its own, stopped with it.
    let demo_bank = if demo {
        crate::bank_sim::start_beside_demo(&mut config)?
    } else {
        None
    };
    let app = App::start(config).await?;
    let (demo_accounts, demo_services) = if demo {
        let accounts = app.load_demo().await.map_err(Failure::runtime)?;
        let services = app.load_demo_catalogue().await.map_err(Failure::runtime)?;
        (accounts, services)
    } else {
        (Vec::new(), 0)
    };
    // The demo's civil registry has a system of its own: the simulator, stopped with the demo.
    let demo_sim = if demo {
        Some(crate::agency_sim::start_beside_demo(&app).await?)
    } else {
        None
    };
    let state = WebState::new(app.clone()).map_err(Failure::runtime)?;
    let node = app
        .register_node(&address.to_string())
        .await
        .map_err(Failure::runtime)?;
    let heartbeats = tokio::spawn(app.clone().run_heartbeats(node.clone()));
    tokio::spawn(sweep_orphans(app.clone()));
    let indexed = app.rebuild_search().await.map_err(Failure::runtime)?;
    let follower = tokio::spawn(app.clone().follow_catalogue());
    let application_jobs = tokio::spawn(app.clone().run_application_jobs());
    let payment_sweep = tokio::spawn(app.clone().run_payment_sweep());

    println!(
        "Pishkhan {} is serving http://{address}",
        pishkhan_app::VERSION
    );
    println!("  database:    {}", app.database_description());
    println!("  documents:   {}", app.documents().describe());
    println!("  mobile lines: {}", app.mobile_ownership().describe());
    match &app.config().payment {
        Some(gateway) => println!(
            "  payments:    online through {} (terminal {})",
            gateway.url, gateway.terminal
        ),
        None => println!("  payments:    at counters only (no payment gateway configured)"),
    }
    println!("  data folder: {}", app.config().data_dir.display());
    println!("  search index: {indexed} published services");
    if demo {
        println!(
            "  demo catalogue: {demo_services} published services in the pilot provinces ({})",
            pishkhan_app::demo::PILOT_PROVINCES.join(", ")
        );
        print_demo_accounts(&app, &address, &demo_accounts);
        let bills: Vec<String> = pishkhan_app::demo::sample_bills()
            .into_iter()
            .map(|(what, bill, payment)| format!("{what} {bill} / {payment}"))
            .collect();
        println!(
            "  bills:       a walk-in's bills to pay at a counter (/counter/bills, bill ID / payment ID): {}; the water company's clerk.water sees what was paid at /desk/bills",
            bills.join(", ")
        );
        if let Some(bank) = &demo_bank {
            println!(
                "  sandbox bank: http://{} plays the payment gateway: no money moves (tell it to fail, time out, call back twice or take less: POST /control)",
                bank.address
            );
        }
        if let Some(sim) = &demo_sim {
            println!(
                "  agency systems: a simulator at http://{} receives the webhook of {} (what it applied: GET /records) and answers the inquiries of {}",
                sim.address,
                crate::agency_sim::DEMO_AGENCY,
                crate::agency_sim::DEMO_INQUIRY_AGENCIES.join(", ")
            );
        }
    }
    println!("Stop with Ctrl+C.");
    tracing::info!(%address, node = %node.id, "serving");

    let limits = &app.config().limits;
    let served = pishkhan_web::server::serve(
        listener,
        pishkhan_web::router(state.clone()),
        pishkhan_web::server::ServerLimits {
            max_connections: limits.max_connections,
            max_connections_per_address: limits.max_connections_per_address,
            header_timeout: limits.header_timeout,
            drain: DRAIN,
            trusted_proxies: limits.trusted_proxies.clone().into(),
        },
        state.connections.clone(),
        shutdown_signal(),
    )
    .await;
    heartbeats.abort();
    follower.abort();
    application_jobs.abort();
    payment_sweep.abort();
    drop(demo_sim);
    drop(demo_bank);
    if let Err(e) = app.stop_node(&node).await {
        tracing::warn!(error = %e, "could not record the node's stop");
    }
    app.close().await;
    served.map_err(|e| Failure::runtime(format!("the server stopped: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

fn print_demo_accounts(
    app: &App,
    address: &SocketAddr,
    accounts: &[pishkhan_app::demo::DemoAccount],
) {
    use pishkhan_app::demo::{DEMO_CITIZEN, DEMO_PASSWORD};
    println!();
    println!("Demo accounts (staff sign in at http://{address}/signin, password {DEMO_PASSWORD}):");
    for account in accounts {
        let factor = match &account.totp_secret {
            Some(secret) => format!("  second factor: TOTP secret {secret}"),
            None => String::new(),
        };
        // Say what is there: these roles sign in, but their own pages are still planned.
        let planned = if matches!(account.role, Role::Noc | Role::Commission) {
            "  (no pages of its own yet: planned)"
        } else {
            ""
        };
        println!(
            "  {:<18} {:<17} {}{}{}",
            account.role.code(),
            account.username,
            account.scope,
            factor,
            planned
        );
    }
    println!(
        "  API client:  pishkhan token create --username system.registry --data-dir {}",
        app.config().data_dir.display()
    );
    println!(
        "  citizen:     http://{address}/signin/citizen with national ID {} and mobile {};",
        DEMO_CITIZEN.0, DEMO_CITIZEN.1
    );
    println!(
        "               the registry of mobile lines (Shahkar) is the file {}: add `national ID,mobile` to sign in as someone else;",
        app.config()
            .data_dir
            .join(pishkhan_app::ownership::REGISTRY_FILE_NAME)
            .display()
    );
    println!(
        "               text messages (sign-in and consent codes) are written to {}",
        app.config()
            .data_dir
            .join(pishkhan_app::sms::SMS_FILE_NAME)
            .display()
    );
    println!();
}

async fn bind(address: SocketAddr) -> Result<TcpListener, Failure> {
    TcpListener::bind(address).await.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "the address is already in use; stop the other program or choose another \
                 address with --listen"
                    .to_owned()
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "this machine has no such address; choose another with --listen".to_owned()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need privileges); choose another with --listen"
                    .to_owned()
            }
            _ => e.to_string(),
        };
        Failure::runtime(format!("cannot listen on {address}: {why}"))
    })
}

/// Resolves on SIGTERM or Ctrl+C: the server then stops taking connections and finishes the
/// requests in flight.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Removes documents no row names (see `app::orphans`), in the background.
async fn sweep_orphans(app: pishkhan_app::App) {
    match app.sweep_orphans(chrono::Utc::now()).await {
        Ok(swept) if swept.removed > 0 => {
            tracing::warn!(
                removed = swept.removed,
                of = swept.files,
                "removed documents no row names"
            );
        }
        Ok(swept) => tracing::info!(files = swept.files, "no orphaned documents"),
        Err(e) => tracing::warn!(error = %e, "could not sweep orphaned documents"),
    }
}
