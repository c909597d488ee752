use std::sync::Arc;

use pishkhan_app::App;

use crate::i18n::{I18n, I18nError};
use crate::metrics::Metrics;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub i18n: Arc<I18n>,
    pub metrics: Arc<Metrics>,
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
        Ok(WebState {
            app,
            i18n: Arc::new(I18n::load()?),
            metrics: Arc::new(Metrics::new()?),
        })
    }
}
