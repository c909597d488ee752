//! Request bodies in flight, all requests together, stay under one budget.
//!
//! Three hundred unauthenticated 1 MiB bodies once held 560 MB. Each body now takes its bytes
//! from a shared budget ([`BodyBudget`]) while it is being received and handled, and gives them
//! back when the request ends: a body that declares its length takes all of it up front (or is
//! answered 503 with `Retry-After` at once); a chunked one takes each chunk as it arrives, and
//! fails when the budget is spent. Per-route size limits still apply on top.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::state::WebState;

/// The budget is counted in KiB (a semaphore counts up to `u32::MAX` permits at once).
const UNIT: usize = 1024;

/// Bytes of request bodies the process holds at once.
#[derive(Debug)]
pub struct BodyBudget {
    units: Arc<Semaphore>,
    total: usize,
}

impl BodyBudget {
    pub fn new(bytes: usize) -> BodyBudget {
        let units = (bytes / UNIT).max(1);
        BodyBudget {
            units: Arc::new(Semaphore::new(units)),
            total: units,
        }
    }

    /// Bytes of the budget in use now.
    pub fn in_use(&self) -> usize {
        (self.total - self.units.available_permits()) * UNIT
    }
}

fn units_for(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

/// Middleware: reserves a request body's bytes from the budget for as long as the request runs.
pub async fn reserve(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let budget = &state.body_budget;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (parts, body) = request.into_parts();
    let body = match declared {
        Some(0) => body,
        Some(length) => {
            let Ok(permit) = budget
                .units
                .clone()
                .try_acquire_many_owned(units_for(length))
            else {
                return busy();
            };
            // The whole length is held; the body's own frames take nothing more.
            Body::new(Budgeted {
                inner: body,
                units: None,
                held: vec![permit],
            })
        }
        None => Body::new(Budgeted {
            inner: body,
            units: Some(budget.units.clone()),
            held: Vec::new(),
        }),
    };
    next.run(Request::from_parts(parts, body)).await
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "5"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "Pishkhan is receiving too much at once; try again in a few seconds.\n\
         پیشخوان هم‌اکنون بیش از اندازه داده دریافت می‌کند؛ چند ثانیهٔ دیگر دوباره بفرستید.\n",
    )
        .into_response()
}

/// The budget is spent: a chunked body cannot take more.
#[derive(Debug, thiserror::Error)]
#[error("too many request bodies are being received at once")]
struct BudgetSpent;

/// A body that holds its share of the budget until it is dropped (with the request).
struct Budgeted {
    inner: Body,
    /// Where each chunk takes its bytes from; `None` when the whole length is held already.
    units: Option<Arc<Semaphore>>,
    held: Vec<OwnedSemaphorePermit>,
}

impl HttpBody for Budgeted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && let Some(units) = self.units.clone()
        {
            match units.try_acquire_many_owned(units_for(data.len())) {
                Ok(permit) => self.held.push(permit),
                Err(_) => return Poll::Ready(Some(Err(axum::Error::new(BudgetSpent)))),
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_whole_kib() {
        assert_eq!(units_for(1), 1);
        assert_eq!(units_for(1024), 1);
        assert_eq!(units_for(1025), 2);
        let budget = BodyBudget::new(10 * 1024);
        assert_eq!(budget.in_use(), 0);
        let held = budget.units.clone().try_acquire_many_owned(4).unwrap();
        assert_eq!(budget.in_use(), 4 * 1024);
        assert!(budget.units.clone().try_acquire_many_owned(7).is_err());
        drop(held);
        assert_eq!(budget.in_use(), 0);
    }
}
