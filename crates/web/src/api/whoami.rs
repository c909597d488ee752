//! `GET /api/v1/whoami`: which agency system a token belongs to, and what it may do. The first
//! route for agencies' systems; the exchange issue builds on the same bearer-token check.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::ApiError;
use crate::auth::Visitor;

/// The API client behind the token.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub username: String,
    pub name: String,
    /// `role @ scope`, e.g. `system @ agency:tehran-civil-registry`.
    pub grants: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    operation_id = "whoAmI",
    summary = "سامانهٔ فراخواننده کیست و چه نقش‌هایی دارد",
    tag = "agency systems",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The API client", body = WhoAmI),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::api::ErrorBody),
    )
)]
pub async fn show(visitor: Visitor) -> Response {
    match visitor.principal() {
        Some(pishkhan_app::policy::Principal::System(user)) => Json(WhoAmI {
            username: user.username.clone(),
            name: user.display_name.clone(),
            grants: user
                .grants
                .iter()
                .map(pishkhan_app::users::grant_text)
                .collect(),
        })
        .into_response(),
        _ => ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "This address needs an API token.",
        )
        .into_response(),
    }
}
