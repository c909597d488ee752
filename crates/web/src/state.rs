use std::sync::Arc;

use pishkhan_app::App;

use crate::i18n::{I18n, I18nError};
use crate::limits::BodyBudget;
use crate::metrics::Metrics;
use crate::server::ConnectionStats;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub i18n: Arc<I18n>,
    pub metrics: Arc<Metrics>,
    /// Request bodies being received, all requests together (`limits.rs`).
    pub body_budget: Arc<BodyBudget>,
    /// Connections open and refused (`server.rs`).
    pub connections: Arc<ConnectionStats>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebInitError {
    #[error(transparent)]
    I18n(#[from] I18nError),
    #[error("metrics cannot be set up: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl WebState {
    pub fn new(app: App) -> Result<WebState, WebInitError> {
        let limits = &app.config().limits;
        Ok(WebState {
            i18n: Arc::new(I18n::load()?),
            metrics: Arc::new(Metrics::new()?),
            body_budget: Arc::new(BodyBudget::new(limits.max_body_in_flight)),
            connections: Arc::default(),
            app,
        })
    }
}
