use askama::Template;
use axum::response::Response;

use crate::error::WebError;
use crate::page::{PageContext, render};

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: PageContext,
    /// The six priority groups of Article 4 (and the rest): (code, name).
    categories: Vec<(&'static str, &'static str)>,
}

/// `GET /`: the search box first, the categories, and the areas the portal opens.
pub async fn show(page: PageContext) -> Result<Response, WebError> {
    let categories = pishkhan_domain::catalog::Category::ALL
        .iter()
        .map(|c| (c.code(), c.name_fa()))
        .collect();
    render(&Home { page, categories })
}
