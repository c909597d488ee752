//! What agencies' systems are told about their applications: typed events, written with the
//! change they describe, read by a system from a cursor (`GET /api/v1/events?after=…`) or sent
//! to its webhook (`webhooks.rs`). An event's id (`evt_…`) never changes, so a receiver that sees
//! one twice (a retried delivery) applies it once.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use pishkhan_store::{FeedCursor, FeedEvent, NewFeedEvent, StoreError};
use serde_json::{Value, json};

use crate::App;

/// The kinds of event, as they appear in `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new application reached the agency.
    Filed,
    /// Files were attached to an application (with an action).
    DocumentsAdded,
    /// The applicant answered what was asked and sent the application back.
    Resubmitted,
    /// Someone took a workflow action (not one of the kinds above).
    ActionTaken,
    /// The applicant withdrew the application.
    Withdrawn,
    /// The application passed its state's deadline.
    Overdue,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::Filed,
        EventKind::DocumentsAdded,
        EventKind::Resubmitted,
        EventKind::ActionTaken,
        EventKind::Withdrawn,
        EventKind::Overdue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventKind::Filed => "application.filed",
            EventKind::DocumentsAdded => "application.documents_added",
            EventKind::Resubmitted => "application.resubmitted",
            EventKind::ActionTaken => "application.action_taken",
            EventKind::Withdrawn => "application.withdrawn",
            EventKind::Overdue => "application.overdue",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            EventKind::Filed => "ثبت درخواست تازه",
            EventKind::DocumentsAdded => "افزودن مدرک",
            EventKind::Resubmitted => "ارسال دوباره پس از رفع نقص",
            EventKind::ActionTaken => "اقدام در گردش کار",
            EventKind::Withdrawn => "انصراف متقاضی",
            EventKind::Overdue => "گذشتن از مهلت",
        }
    }

    /// An event of this kind about application `code` of `agency`.
    pub fn about(self, agency: &str, code: &str, data: Value) -> NewFeedEvent {
        NewFeedEvent {
            agency: agency.to_owned(),
            kind: self.code().to_owned(),
            subject: code.to_owned(),
            data: data.to_string(),
        }
    }
}

/// An event's public id.
pub fn event_id(id: i64) -> String {
    format!("evt_{id}")
}

/// A cursor as a reader keeps it: opaque text, `TX-ID`.
pub fn cursor_text(cursor: FeedCursor) -> String {
    format!("{}-{}", cursor.tx, cursor.id)
}

/// Reads a cursor a reader sent back (`TX-ID`, digits only); `0` is the feed's start.
pub fn parse_cursor(text: &str) -> Option<FeedCursor> {
    if text == "0" {
        return Some(FeedCursor::default());
    }
    let number = |part: &str| {
        (!part.is_empty() && part.len() <= 18 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i64>().ok())
            .flatten()
    };
    let (tx, id) = text.split_once('-')?;
    Some(FeedCursor {
        tx: number(tx)?,
        id: number(id)?,
    })
}

/// An event as systems receive it, in the feed and in a webhook's body (the Standard Webhooks
/// shape: `type`, `timestamp`, `data`, plus the id and cursor).
pub fn event_json(event: &FeedEvent) -> Value {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    let at = Utc
        .timestamp_millis_opt(event.created_at)
        .single()
        .unwrap_or_default();
    json!({
        "id": event_id(event.id),
        "cursor": cursor_text(event.cursor()),
        "type": event.kind,
        "subject": event.subject,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
}

/// How long a long-polling reader waits at most, and how often it looks.
pub const LONG_POLL_MAX: Duration = Duration::from_secs(30);
const LONG_POLL_STEP: Duration = Duration::from_millis(250);

impl App {
    /// `agency`'s events after `after`, at most `limit`; when there are none and `wait` is set,
    /// looks again until one arrives or `wait` (at most [`LONG_POLL_MAX`]) has passed.
    pub async fn agency_events(
        &self,
        agency: &str,
        after: FeedCursor,
        limit: i64,
        wait: Duration,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let until = tokio::time::Instant::now() + wait.min(LONG_POLL_MAX);
        loop {
            let page = self
                .store()
                .feed(agency, after, limit.clamp(1, 500))
                .await?;
            if !page.is_empty() || tokio::time::Instant::now() >= until {
                return Ok(page);
            }
            tokio::time::sleep(LONG_POLL_STEP).await;
        }
    }

    /// How many events `agency` has had (for the exchange screen).
    pub async fn count_agency_events(&self, agency: &str) -> Result<i64, StoreError> {
        self.store().count_feed_events(agency).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_refuse_junk() {
        let c = FeedCursor { tx: 912, id: 44 };
        assert_eq!(parse_cursor(&cursor_text(c)), Some(c));
        assert_eq!(parse_cursor("0"), Some(FeedCursor::default()));
        for bad in [
            "",
            " 1-2",
            "+1-2",
            "1-+2",
            "00",
            "x",
            "1-",
            "-1-2",
            "1-2-3",
            "1;2",
            "9999999999999999999-1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_kind_has_a_distinct_code() {
        let codes: std::collections::BTreeSet<_> =
            EventKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), EventKind::ALL.len());
    }
}
