//! Operations endpoints for load balancers and monitoring: liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_app::Unready;
use serde_json::json;

use crate::state::WebState;

fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// `GET /healthz`: the process is up and answering.
pub async fn healthz() -> Response {
    no_store(
        StatusCode::OK,
        json!({ "status": "ok", "version": pishkhan_app::VERSION }),
    )
}

/// `GET /readyz`: this process can take writes — the database answers, its writer runs, the data
/// folder has room. 503 (within a second) while any of them does not, naming which, and 200 again
/// as soon as it does, without a restart. (While the storage is full, pages that only read keep
/// answering: the 503 tells the operator and the load balancer, not the reader.)
pub async fn readyz(State(state): State<WebState>) -> Response {
    let backend = state.app.database_engine();
    match state.app.readiness().await {
        Ok(()) => no_store(
            StatusCode::OK,
            json!({ "status": "ready", "database": backend }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let problem = match e {
                Unready::Database(_) | Unready::DatabaseTimeout(_) => "database unreachable",
                Unready::Writer => "database writer restarting",
                Unready::StorageFull => "storage full",
            };
            no_store(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unready", "database": backend, "problem": problem }),
            )
        }
    }
}
