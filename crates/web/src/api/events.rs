//! `GET /api/v1/events`: an agency system's feed of what happened to its agency's applications,
//! for systems behind a firewall that cannot receive webhooks. Read from a cursor: each page's
//! `next` is the cursor of its last event; a system that keeps `next` only after applying the
//! page never misses an event and, applying by event id, never applies one twice. With `wait`
//! the request waits (up to 30 s) for an event when there is none yet (long poll).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pishkhan_app::policy::Principal;
use pishkhan_domain::Problem;
use pishkhan_domain::identity::{Role, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiError, caller_language};
use crate::auth::Visitor;
use crate::state::WebState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `next` of the previous page (`TX-ID`); absent or `0` from the beginning.
    #[param(pattern = "^[0-9]{1,18}-[0-9]{1,18}$|^0$")]
    pub after: Option<String>,
    /// At most this many (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Seconds to wait for an event when there is none yet (0–30, default 0).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// One event (the same body a webhook receives).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedItem {
    /// Stable: the same event always has the same id (`evt_…`); apply each id once.
    pub id: String,
    /// This event's place in the feed; send it as `after` to read on from here.
    pub cursor: String,
    /// `application.filed`, `application.documents_added`, `application.resubmitted`,
    /// `application.action_taken`, `application.withdrawn`, `application.overdue`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The application's tracking code.
    pub subject: String,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// What happened: the code, service, and for actions the action, from, to and role.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<FeedItem>,
    /// Where to read on from (the last event's cursor, or the `after` sent when there was none).
    pub next: String,
}

/// The agency whose feed a system reads: the one it holds an agency-wide `system` role in.
fn agency_of(principal: &Principal) -> Option<String> {
    principal
        .scopes_of(Role::System)
        .into_iter()
        .find_map(|scope| match scope {
            Scope::Agency { agency, unit: None } => Some(agency.clone()),
            _ => None,
        })
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "listEvents",
    summary = "رویدادهای درخواست‌های دستگاه از یک نشانگر، بی‌جاافتادگی و بی‌تکرار",
    tag = "agency systems",
    security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "The events after `after`, oldest first", body = EventPage),
        (status = 400, description = "A bad cursor, limit or wait", body = crate::api::ErrorBody),
        (status = 401, description = "No token", body = crate::api::ErrorBody),
        (status = 403, description = "The token is not an agency-wide system's", body = crate::api::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    crate::api::ApiQuery(query): crate::api::ApiQuery<EventsQuery>,
) -> Response {
    let lang = caller_language(&headers);
    let bad = |code: &'static str, fa: &str, en: &str| {
        ApiError::bad_request(&Problem::new(code, fa, en), lang).into_response()
    };
    let Some(agency) = visitor.principal().and_then(agency_of) else {
        return ApiError::refused(
            StatusCode::FORBIDDEN,
            &Problem::new(
                "not_agency_system",
                "رویدادها برای سامانهٔ یک دستگاه است (نقش system در کل دستگاه).",
                "The feed is for an agency's system (the system role over a whole agency).",
            ),
            lang,
        )
        .into_response();
    };
    let after_text = query.after.unwrap_or_else(|| "0".to_owned());
    let Some(after) = pishkhan_app::events::parse_cursor(&after_text) else {
        return bad(
            "bad_cursor",
            "after باید همان next صفحهٔ پیشین باشد.",
            "`after` must be the `next` of the previous page.",
        );
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return bad(
            "bad_limit",
            "limit عددی از ۱ تا ۵۰۰ است.",
            "`limit` is a number from 1 to 500.",
        );
    }
    let wait = query.wait.unwrap_or(0);
    if wait > 30 {
        return bad(
            "bad_wait",
            "wait ثانیه‌های انتظار است، از ۰ تا ۳۰.",
            "`wait` is seconds to wait, from 0 to 30.",
        );
    }
    match state
        .app
        .agency_events(&agency, after, limit, Duration::from_secs(wait))
        .await
    {
        Ok(events) => {
            let next = events
                .last()
                .map(|e| pishkhan_app::events::cursor_text(e.cursor()))
                .unwrap_or_else(|| pishkhan_app::events::cursor_text(after));
            // The same body a webhook receives (`events::event_json`), typed for the document.
            let events = match events
                .iter()
                .map(|e| serde_json::from_value::<FeedItem>(pishkhan_app::events::event_json(e)))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(events) => events,
                Err(e) => return ApiError::from(e).into_response(),
            };
            (
                [(header::CACHE_CONTROL, "no-store")],
                Json(EventPage { events, next }),
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
