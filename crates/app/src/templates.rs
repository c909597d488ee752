//! The Persian texts of the notifications people get about their applications. Each has a
//! built-in text; the province's admins may edit it (`/admin/notifications`). A text names the
//! facts it shows in braces — `{code}`, `{service}`, … — and only the facts its kind offers.
//! Edited texts are read through the shared cache (a change on another node shows within its TTL).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use pishkhan_domain::id::Problem;
use pishkhan_store::{NewAuditEntry, StoreError};
use serde_json::json;

use crate::App;
use crate::audit::Actor;

/// One kind of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateKind {
    pub key: &'static str,
    /// When it is sent, in Persian (for the editing page).
    pub when: &'static str,
    pub built_in: &'static str,
    /// The facts it may show.
    pub facts: &'static [&'static str],
}

/// Every kind of notification about an application.
pub const TEMPLATES: [TemplateKind; 2] = [
    TemplateKind {
        key: "application.submitted",
        when: "ثبت درخواست (برخط، در دفتر پیشخوان یا از سامانهٔ دستگاه)",
        built_in: "درخواست «{service}» ثبت شد. کد رهگیری: {code}",
        facts: &["code", "service", "deadline"],
    },
    TemplateKind {
        key: "application.changed",
        when: "هر گام گردش کار که شهروند باید بداند (درخواست مدرک، تأیید، رد…)",
        built_in: "درخواست {code} («{service}»): {state}. {comment} {link}",
        facts: &["code", "service", "state", "comment", "link"],
    },
];

/// The longest text (a few SMS parts).
pub const MAX_TEMPLATE_CHARS: usize = 400;

fn kind(key: &str) -> Option<&'static TemplateKind> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// `body` with each `{fact}` replaced; spaces doubled by an empty fact are closed up.
/// One pass, so a fact's own text (a clerk's comment) is never read as a placeholder; the
/// admin's line breaks are kept.
pub fn fill(body: &str, facts: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let fact = after.find('}').and_then(|close| {
            let name = &after[..close];
            facts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, close))
        });
        match fact {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The problems with an edited text: too long, or naming a fact its kind does not offer.
pub fn check(kind: &TemplateKind, body: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let length = body.chars().count();
    if length > MAX_TEMPLATE_CHARS {
        problems.push(Problem::new(
            "template_too_long",
            format!(
                "متن حداکثر {} نویسه است؛ این {} نویسه است.",
                pishkhan_domain::text::to_persian_digits(&MAX_TEMPLATE_CHARS.to_string()),
                pishkhan_domain::text::to_persian_digits(&length.to_string())
            ),
            format!("A text has at most {MAX_TEMPLATE_CHARS} characters; this has {length}."),
        ));
    }
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            problems.push(Problem::new(
                "template_brace",
                "یک «{» بی «}» مانده است.",
                "A “{” has no closing “}”.",
            ));
            break;
        };
        let name = &after[..close];
        if !kind.facts.contains(&name) {
            problems.push(Problem::new(
                "template_fact",
                format!(
                    "«{{{name}}}» در این پیام شناخته نیست؛ مجاز: {}.",
                    kind.facts
                        .iter()
                        .map(|f| format!("{{{f}}}"))
                        .collect::<Vec<_>>()
                        .join("، ")
                ),
                format!(
                    "“{{{name}}}” is not known in this message; allowed: {}.",
                    kind.facts
                        .iter()
                        .map(|f| format!("{{{f}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    if kind.facts.contains(&"code") && !body.contains("{code}") {
        problems.push(Problem::new(
            "template_code_missing",
            "متن باید کد رهگیری را داشته باشد: «{code}».",
            "The text must show the tracking code: “{code}”.",
        ));
    }
    problems
}

impl App {
    /// The texts in use now: edited ones, else built-in (key → (text, edited?)).
    pub async fn notification_templates(
        &self,
    ) -> Result<Arc<BTreeMap<String, (String, bool)>>, StoreError> {
        if let Some(kept) = self.inner.templates.get("all") {
            return Ok(kept);
        }
        let edited: BTreeMap<String, String> = self
            .store()
            .notification_templates()
            .await?
            .into_iter()
            .map(|t| (t.key, t.body))
            .collect();
        let texts: BTreeMap<String, (String, bool)> = TEMPLATES
            .iter()
            .map(|t| {
                let text = edited.get(t.key);
                (
                    t.key.to_owned(),
                    (
                        text.cloned().unwrap_or_else(|| t.built_in.to_owned()),
                        text.is_some(),
                    ),
                )
            })
            .collect();
        let texts = Arc::new(texts);
        self.inner.templates.put("all", Arc::clone(&texts));
        Ok(texts)
    }

    /// A notification's text with its facts filled in.
    pub(crate) async fn notification_text(
        &self,
        key: &str,
        facts: &[(&str, &str)],
    ) -> Result<String, StoreError> {
        let texts = self.notification_templates().await?;
        let body = texts
            .get(key)
            .map(|(text, _)| text.as_str())
            .or_else(|| kind(key).map(|k| k.built_in))
            .unwrap_or_default();
        Ok(fill(body, facts))
    }

    /// Saves edited texts (an empty one goes back to the built-in text), all or none: every
    /// problem is answered with its key, and nothing is saved while any remains.
    #[tracing::instrument(skip_all)]
    pub async fn save_notification_templates(
        &self,
        actor: &Actor,
        bodies: &BTreeMap<String, String>,
    ) -> Result<Result<(), Vec<(String, Problem)>>, StoreError> {
        let mut problems = Vec::new();
        let mut clean = Vec::new();
        for (key, body) in bodies {
            let Some(kind) = kind(key) else {
                problems.push((
                    key.clone(),
                    Problem::new(
                        "template_unknown",
                        format!("پیامی با نام «{key}» نیست."),
                        format!("There is no message `{key}`."),
                    ),
                ));
                continue;
            };
            let body = body.trim().replace("\r\n", "\n");
            if !body.is_empty() {
                problems.extend(check(kind, &body).into_iter().map(|p| (key.clone(), p)));
            }
            clean.push((key.clone(), body));
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let now = Utc::now();
        let audit = NewAuditEntry {
            at: now,
            actor: actor.id.clone(),
            action: "notification_templates.save".into(),
            target_kind: "notification_templates".into(),
            target_id: "all".into(),
            source: actor.source.clone(),
            details: json!({ "keys": clean.iter().map(|(k, _)| k).collect::<Vec<_>>() })
                .to_string(),
        };
        self.store()
            .save_notification_templates(&clean, &actor.id, now, &audit)
            .await?;
        self.inner.templates.clear();
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_texts_pass_their_own_checks() {
        for t in TEMPLATES {
            assert!(check(&t, t.built_in).is_empty(), "{}", t.key);
        }
    }

    #[test]
    fn facts_are_filled_and_unknown_ones_refused() {
        assert_eq!(
            fill(
                "درخواست {code} «{service}»: {state}. {comment}",
                &[
                    ("code", "۱۲۳"),
                    ("service", "ثبت ولادت"),
                    ("state", "تأیید شد"),
                    ("comment", ""),
                ]
            ),
            "درخواست ۱۲۳ «ثبت ولادت»: تأیید شد."
        );
        // A comment that looks like a placeholder stays as written; line breaks stay.
        assert_eq!(
            fill(
                "{code}\n{comment}",
                &[("comment", "{code}"), ("code", "۱۲۳")]
            ),
            "۱۲۳\n{code}"
        );
        let kind = &TEMPLATES[0];
        let problems = check(kind, "کد {code} برای {name}");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "template_fact");
        assert!(problems[0].fa.contains("{name}"));
        assert_eq!(check(kind, "ثبت شد")[0].code, "template_code_missing");
        assert_eq!(check(kind, "ثبت شد {code")[0].code, "template_brace");
        assert_eq!(
            check(kind, &"ا{code}".repeat(100))[0].code,
            "template_too_long"
        );
    }
}
