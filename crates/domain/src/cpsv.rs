//! The published catalogue as CPSV-AP 3.2.0 JSON-LD: each card a `cpsv:PublicService` with its
//! competent authority, channels, costs, evidence, output, events, thematic area, place and legal
//! basis. What CPSV-AP has no term for (steps, redress, what happens without an answer, visits in
//! person, the processing time in business days, the forms) goes in the extension namespace
//! [`EXTENSION`], documented in `docs/standards/cpsv-ap-extension.md`. Code values (channels,
//! categories, currency, places) are typed as `skos:Concept` or `dct:Location` in the graph, as
//! the shapes' `sh:class` checks require.

use serde_json::{Value, json};

use crate::catalog::{Channel, ServiceCard};
use crate::forms::Text;

/// Pishkhan's extension namespace.
pub const EXTENSION: &str = "https://pishkhan.ir/ns/catalogue#";

/// An agency as the export names it.
#[derive(Debug, Clone)]
pub struct Authority {
    pub code: String,
    pub name_fa: String,
    pub province: String,
    pub province_fa: String,
}

fn texts(text: &Text) -> Value {
    let mut values = vec![json!({"@value": text.fa, "@language": "fa"})];
    if let Some(en) = &text.en {
        values.push(json!({"@value": en, "@language": "en"}));
    }
    Value::Array(values)
}

fn event_title(code: &str) -> &str {
    match code {
        "birth" => "تولد فرزند",
        "death" => "درگذشت یکی از نزدیکان",
        "lost-documents" => "گم شدن مدارک",
        "change-of-details" => "تغییر مشخصات هویتی",
        "opening-a-shop" => "راه‌اندازی کسب‌وکار",
        "running-a-business" => "اداره کسب‌وکار",
        "starting-a-trade" => "آغاز بازرگانی",
        "buying-a-car" => "خرید خودرو",
        "selling-a-car" => "فروش خودرو",
        "learning-to-drive" => "یادگیری رانندگی",
        "renewing-documents" => "تمدید مدارک",
        "building-a-home" => "ساختن خانه",
        "buying-a-home" => "خرید خانه",
        "moving-home" => "جابه‌جایی خانه",
        other => other,
    }
}

fn channel_title(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::Online => ("برخط", "Online"),
        Channel::Centre => ("دفتر پیشخوان", "Service centre"),
        Channel::AgencyOffice => ("ادارهٔ دستگاه", "Agency office"),
    }
}

/// The whole export: `base` is the site's address (`https://…`, no trailing slash).
pub fn catalogue(base: &str, cards: &[(ServiceCard, Authority)]) -> Value {
    let mut graph: Vec<Value> = Vec::new();
    let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut once = |id: String, node: Value, graph: &mut Vec<Value>| {
        if seen.insert(id) {
            graph.push(node);
        }
    };
    once(
        "currency".into(),
        json!({
            "@id": "http://publications.europa.eu/resource/authority/currency/IRR",
            "@type": "skos:Concept",
            "skos:prefLabel": [{"@value": "ریال", "@language": "fa"}, {"@value": "Iranian rial", "@language": "en"}]
        }),
        &mut graph,
    );
    for (card, authority) in cards {
        let service = format!("{base}/services/{}", card.code);
        let agency = format!("{base}/agencies/{}", authority.code);
        let place = format!("{base}/provinces/{}", authority.province);
        once(
            place.clone(),
            json!({
                "@id": place,
                "@type": "dct:Location",
                "skos:prefLabel": [{"@value": format!("استان {}", authority.province_fa), "@language": "fa"}]
            }),
            &mut graph,
        );
        once(
            agency.clone(),
            json!({
                "@id": agency,
                "@type": "cv:PublicOrganisation",
                "dct:identifier": authority.code,
                "skos:prefLabel": [{"@value": authority.name_fa, "@language": "fa"}],
                "dct:spatial": {"@id": place}
            }),
            &mut graph,
        );
        let category = format!("{base}/categories/{}", card.category.code());
        once(
            category.clone(),
            json!({
                "@id": category,
                "@type": "skos:Concept",
                "skos:prefLabel": [{"@value": card.category.name_fa(), "@language": "fa"}],
                "skos:notation": card.category.code()
            }),
            &mut graph,
        );
        let mut channels = Vec::new();
        for offer in &card.channels {
            let kind = format!("{base}/channel-types/{}", offer.channel.code());
            let (fa, en) = channel_title(offer.channel);
            once(
                kind.clone(),
                json!({
                    "@id": kind,
                    "@type": "skos:Concept",
                    "skos:prefLabel": [{"@value": fa, "@language": "fa"}, {"@value": en, "@language": "en"}]
                }),
                &mut graph,
            );
            let mut channel = json!({
                "@id": format!("{service}#channel-{}", offer.channel.code()),
                "@type": "cv:Channel",
                "dct:identifier": format!("{}#{}", card.code, offer.channel.code()),
                "dct:type": {"@id": kind},
                "pk:completeService": offer.complete
            });
            if let Some(note) = &offer.note {
                channel["dct:description"] = texts(note);
            }
            channels.push(channel);
        }
        let costs: Vec<Value> = card
            .fees
            .iter()
            .enumerate()
            .map(|(i, fee)| {
                let mut cost = json!({
                    "@id": format!("{service}#cost-{}", i + 1),
                    "@type": "cv:Cost",
                    "dct:identifier": format!("{}#cost-{}", card.code, i + 1),
                    "cv:hasValue": {"@value": fee.rials as f64, "@type": "xsd:double"},
                    "cv:currency": {"@id": "http://publications.europa.eu/resource/authority/currency/IRR"},
                    "dct:description": texts(&fee.title),
                    "pk:centreShareRials": fee.centre_share_rials,
                    "pk:collector": texts(&fee.collector)
                });
                if let Some(basis) = &fee.legal_basis {
                    cost["pk:legalBasis"] = texts(basis);
                }
                cost
            })
            .collect();
        let evidence: Vec<Value> = card
            .documents
            .iter()
            .enumerate()
            .map(|(i, document)| {
                let mut node = json!({
                    "@id": format!("{service}#evidence-{}", i + 1),
                    "@type": "cv:Evidence",
                    "dct:identifier": format!("{}#evidence-{}", card.code, i + 1),
                    "dct:title": texts(&document.name),
                    "pk:original": document.original,
                    "pk:copies": document.copies
                });
                if let Some(note) = &document.note {
                    node["dct:description"] = texts(note);
                }
                node
            })
            .collect();
        let events: Vec<Value> = card
            .events
            .iter()
            .map(|event| {
                let kind = if card.audience.contains(&crate::catalog::Audience::Citizen) {
                    "cv:LifeEvent"
                } else {
                    "cv:BusinessEvent"
                };
                let id = format!("{base}/events/{event}");
                json!({
                    "@id": id,
                    "@type": ["cv:Event", kind],
                    "dct:identifier": event,
                    "dct:title": [{"@value": event_title(event), "@language": "fa"}]
                })
            })
            .collect();
        let steps: Vec<Value> = card
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut node = json!({
                    "@type": "pk:Step",
                    "pk:position": i + 1,
                    "pk:actor": texts(&step.who),
                    "dct:description": texts(&step.what)
                });
                if let Some(days) = step.days {
                    node["pk:businessDays"] = json!(days);
                }
                node
            })
            .collect();
        let mut node = json!({
            "@id": service,
            "@type": "cpsv:PublicService",
            "dct:identifier": card.code,
            "dct:title": texts(&card.title),
            "dct:description": texts(&card.summary),
            "cv:hasCompetentAuthority": {"@id": agency},
            "cv:thematicArea": {"@id": category},
            "dct:spatial": {"@id": place},
            "cv:processingTime": {"@value": format!("P{}D", card.processing_days), "@type": "xsd:duration"},
            "cv:hasChannel": channels,
            "cv:hasCost": costs,
            "cpsv:hasInput": evidence,
            "cpsv:produces": [{
                "@id": format!("{service}#output"),
                "@type": "cv:Output",
                "dct:identifier": format!("{}#output", card.code),
                "dct:title": texts(&card.output)
            }],
            "cv:isGroupedBy": events,
            "pk:processingBusinessDays": card.processing_days,
            "pk:visitsInPerson": card.visits_in_person,
            "pk:steps": {"@list": steps},
            "pk:form": card.forms.iter().map(|f| json!({
                "@id": format!("{base}/api/v1/forms/{}?version={}", f.code, f.version)
            })).collect::<Vec<_>>()
        });
        if let Some(basis) = &card.legal_basis {
            node["cpsv:follows"] = json!([{
                "@id": format!("{service}#rule"),
                "@type": "cpsv:Rule",
                "dct:identifier": format!("{}#rule", card.code),
                "dct:title": texts(basis),
                "dct:description": texts(basis)
            }]);
        }
        if let Some(redress) = &card.redress {
            node["pk:redress"] = texts(redress);
        }
        if let Some(no_answer) = &card.on_no_answer {
            node["pk:onNoAnswer"] = texts(no_answer);
        }
        if let Some(unit) = &card.deciding_unit {
            node["pk:decidingUnit"] = texts(unit);
        }
        graph.push(node);
    }
    json!({
        "@context": {
            "cpsv": "http://purl.org/vocab/cpsv#",
            "cv": "http://data.europa.eu/m8g/",
            "dct": "http://purl.org/dc/terms/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "pk": EXTENSION
        },
        "@graph": graph
    })
}
