//! This process as a node of the province's deployment: registered at start, kept alive by a
//! heartbeat, marked stopped at a clean shutdown. Several nodes may share one PostgreSQL database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pishkhan_store::{NodeRecord, StoreError};

use crate::{App, VERSION};

/// How often a node records that it is alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// This process's identity as a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    pub id: String,
}

impl App {
    /// Registers this process as a node listening on `listen`.
    pub async fn register_node(&self, listen: &str) -> Result<NodeIdentity, StoreError> {
        let now = Utc::now();
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.store()
            .register_node(&NodeRecord {
                id: id.clone(),
                hostname: hostname(),
                listen: listen.to_owned(),
                version: VERSION.to_owned(),
                started_at: now,
                last_seen_at: now,
                stopped_at: None,
            })
            .await?;
        Ok(NodeIdentity { id })
    }

    /// Records a heartbeat for the node now.
    pub async fn heartbeat(&self, node: &NodeIdentity) -> Result<bool, StoreError> {
        self.store().touch_node(&node.id, Utc::now()).await
    }

    /// Records the node's clean stop.
    pub async fn stop_node(&self, node: &NodeIdentity) -> Result<bool, StoreError> {
        self.store().stop_node(&node.id, Utc::now()).await
    }

    /// Nodes that sent a heartbeat within the last three intervals and have not stopped.
    pub async fn live_nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        self.store().live_nodes(live_since(Utc::now())).await
    }

    /// Sends heartbeats until the task is dropped. A failed heartbeat is logged, not fatal: the
    /// database may be away for a while, and readiness reports that.
    pub async fn run_heartbeats(self, node: NodeIdentity) {
        let mut ticker = tokio::time::interval(HEARTBEAT_INTERVAL);
        ticker.tick().await;
        let mut ticks: u64 = 0;
        loop {
            ticker.tick().await;
            if let Err(e) = self.heartbeat(&node).await {
                tracing::warn!(error = %e, "node heartbeat failed");
            }
            if let Err(e) = self.flush_search_misses().await {
                tracing::warn!(error = %e, "counting searches that found nothing failed");
            }
            // Every few minutes, ended sessions and spent codes go (any node may do it).
            ticks += 1;
            if ticks.is_multiple_of(SWEEP_EVERY_TICKS) {
                match self.sweep_sign_in_data(Utc::now()).await {
                    Ok(swept) => tracing::debug!(?swept, "swept ended sessions and old codes"),
                    Err(e) => tracing::warn!(error = %e, "sweeping ended sessions failed"),
                }
                // Idempotency keys are promised for 24 hours; kept for two days.
                if let Err(e) = self
                    .store()
                    .sweep_idempotency(Utc::now() - chrono::TimeDelta::days(2))
                    .await
                {
                    tracing::warn!(error = %e, "sweeping old idempotency keys failed");
                }
                // Drafts nobody touched for a month go, with their files.
                match self.expire_drafts(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "expired old drafts"),
                    Err(e) => tracing::warn!(error = %e, "expiring old drafts failed"),
                }
            }
        }
    }
}

/// Heartbeats between two sweeps of ended sessions and spent codes.
const SWEEP_EVERY_TICKS: u64 = 20;

fn live_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - HEARTBEAT_INTERVAL * 3
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
