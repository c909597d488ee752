use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::pages::portal::province_choices;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: PageContext,
    /// The six priority groups of Article 4 (and the rest): (code, name).
    categories: Vec<(&'static str, &'static str)>,
    /// Life and business events: (code, name).
    events: Vec<(&'static str, &'static str)>,
    provinces: Vec<(String, String)>,
    /// The search box's words (none on the home page).
    q: String,
    /// The chosen province's code ("" for none) and name.
    province: String,
    province_name: String,
    /// The chosen province's agencies with published services: (code, name), by name.
    agencies: Vec<(String, String)>,
}

#[derive(serde::Deserialize)]
pub struct HomeQuery {
    province: Option<String>,
}

/// `GET /`: the search box first, the categories, life events, and the agencies of the province
/// the visitor chooses.
pub async fn show(
    State(state): State<WebState>,
    page: PageContext,
    Query(query): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let categories = pishkhan_domain::catalog::Category::ALL
        .iter()
        .map(|c| (c.code(), c.name_fa()))
        .collect();
    let events = pishkhan_domain::catalog::LIFE_EVENTS
        .iter()
        .map(|(code, fa, _)| (*code, *fa))
        .collect();
    let provinces = province_choices(&state).await?;
    let chosen = crate::pages::portal::chosen_province(&provinces, query.province, &page);
    let mut agencies: Vec<(String, String)> = Vec::new();
    if let Some((code, _)) = &chosen {
        let filter = pishkhan_app::search::Filter {
            province: Some(code.clone()),
            ..Default::default()
        };
        for entry in state.app.browse_services(&filter).await? {
            if entry.province.as_deref() == Some(code.as_str())
                && !agencies.iter().any(|(a, _)| *a == entry.agency)
            {
                agencies.push((entry.agency.clone(), entry.agency_name.clone()));
            }
        }
        agencies.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let (province, province_name) = chosen.unwrap_or_default();
    render(&Home {
        page,
        categories,
        events,
        provinces,
        q: String::new(),
        province,
        province_name,
        agencies,
    })
}
