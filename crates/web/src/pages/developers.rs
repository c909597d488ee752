//! `/developers`: the API reference for agencies' IT teams, drawn from the same OpenAPI document
//! as `/api/v1/openapi.json` (so it cannot drift from the API), as a plain page that needs no
//! script and nothing from the network. Persian around it; the document's own descriptions are
//! English and marked so.

use askama::Template;
use axum::response::Response;
use serde_json::Value;
use utoipa::OpenApi;

use crate::api::openapi::ApiDoc;
use crate::error::WebError;
use crate::page::{PageContext, render};

pub struct ParamView {
    pub name: String,
    pub place: &'static str,
    pub required: bool,
    pub kind: String,
    pub description: String,
}

pub struct OperationView {
    pub id: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub token: bool,
    pub params: Vec<ParamView>,
    /// The request body's type, when it has one.
    pub body: Option<String>,
    /// (status, description, type)
    pub responses: Vec<(String, String, String)>,
}

pub struct GroupView {
    pub name: &'static str,
    pub operations: Vec<OperationView>,
}

pub struct PropertyView {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

pub struct SchemaView {
    pub name: String,
    pub description: String,
    pub properties: Vec<PropertyView>,
    /// For enumerations: the values.
    pub values: Vec<String>,
}

#[derive(Template)]
#[template(path = "developers.html")]
struct DevelopersView {
    page: PageContext,
    version: String,
    groups: Vec<GroupView>,
    schemas: Vec<SchemaView>,
}

/// The Persian name of a tag of the document.
fn group_name(tag: &str) -> &'static str {
    match tag {
        "agency systems" => "سامانه‌های دستگاه‌ها (با توکن)",
        "catalogue" => "کاتالوگ خدمات و فرم‌ها",
        "checks" => "بررسی شناسه‌ها و تاریخ‌ها",
        "bills" => "قبض‌ها",
        "calendar" => "تقویم کاری",
        "outputs" => "سنجش خروجی‌ها",
        _ => "دیگر",
    }
}

/// A schema's type in a few words: `string`, `ApplicationDetail`, `array of Problem`.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "array" => format!(
            "array of {}",
            schema.get("items").map(type_of).unwrap_or_default()
        ),
        Some(Value::String(kind)) => match schema.get("format").and_then(Value::as_str) {
            Some(format) => format!("{kind} ({format})"),
            None => kind.clone(),
        },
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The type of the first content of a body or response.
fn content_type(value: &Value) -> String {
    value
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().next())
        .map(|(media, body)| match body.get("schema") {
            Some(schema) => format!("{} ({media})", type_of(schema)),
            None => media.clone(),
        })
        .unwrap_or_default()
}

fn operations(document: &Value) -> Vec<GroupView> {
    let tags: Vec<String> = document
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().map(|t| text(t, "name")).collect())
        .unwrap_or_default();
    let mut groups: Vec<(String, GroupView)> = tags
        .iter()
        .map(|t| {
            (
                t.clone(),
                GroupView {
                    name: group_name(t),
                    operations: Vec::new(),
                },
            )
        })
        .collect();
    let paths = document.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| ParamView {
                    name: text(p, "name"),
                    place: match p.get("in").and_then(Value::as_str) {
                        Some("path") => "در نشانی",
                        Some("query") => "پرسش (?)",
                        Some("header") => "سرآیند",
                        _ => "دیگر",
                    },
                    required: p.get("required").and_then(Value::as_bool) == Some(true),
                    kind: p.get("schema").map(type_of).unwrap_or_default(),
                    description: text(p, "description"),
                })
                .collect();
            let responses = op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(status, r)| (status.clone(), text(r, "description"), content_type(r)))
                .collect();
            let view = OperationView {
                id: text(op, "operationId"),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(op, "summary"),
                token: op.get("security").is_some(),
                params,
                body: op.get("requestBody").map(content_type),
                responses,
            };
            let tag = op
                .get("tags")
                .and_then(|t| t.get(0))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match groups.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, group)) => group.operations.push(view),
                None => groups.push((
                    tag.clone(),
                    GroupView {
                        name: group_name(&tag),
                        operations: vec![view],
                    },
                )),
            }
        }
    }
    groups
        .into_iter()
        .map(|(_, g)| g)
        .filter(|g| !g.operations.is_empty())
        .collect()
}

fn schemas(document: &Value) -> Vec<SchemaView> {
    let found = document
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    found
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let properties = schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(property, s)| PropertyView {
                    name: property.clone(),
                    kind: type_of(s),
                    required: required.contains(&property.as_str()),
                    description: text(s, "description"),
                })
                .collect();
            let values = schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            SchemaView {
                name: name.clone(),
                description: text(schema, "description"),
                properties,
                values,
            }
        })
        .collect()
}

/// `GET /developers`
pub async fn reference(page: PageContext) -> Result<Response, WebError> {
    let document = serde_json::to_value(ApiDoc::openapi())?;
    render(&DevelopersView {
        version: document
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        groups: operations(&document),
        schemas: schemas(&document),
        page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once_with_a_persian_summary_and_a_unique_id() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let groups = operations(&document);
        let all: Vec<&OperationView> = groups.iter().flat_map(|g| &g.operations).collect();
        let count: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(all.len(), count);
        let mut ids: Vec<&str> = all.iter().map(|o| o.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "operation ids are unique: {ids:?}");
        for op in &all {
            assert!(
                op.summary
                    .chars()
                    .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{} has a Persian summary",
                op.id
            );
        }
        assert!(groups.iter().all(|g| g.name != "دیگر"));
        // Every type a reference names is described below.
        let names: Vec<String> = schemas(&document).into_iter().map(|s| s.name).collect();
        let text = document.to_string();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference.chars().take_while(|c| *c != '"').collect();
            assert!(names.contains(&name), "{name} is described");
        }
    }
}
