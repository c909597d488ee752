//! The web layer: thin. Parse the request, call the app layer, render HTML or JSON.
//!
//! Every route is listed in [`router`]. HTML pages are askama templates (checked when compiling),
//! in Persian by default with an English switch, and work without JavaScript.

pub mod api;
mod assets;
mod auth;
mod error;
pub mod forwarded;
mod i18n;
mod limits;
mod metrics;
mod ops;
mod page;
mod pages;
mod router;
pub mod server;
mod state;

pub use error::WebError;
pub use router::{RouteSpec, route_specs, router, routes, with_middleware};
pub use state::{WebInitError, WebState};
