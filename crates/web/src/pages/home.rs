use askama::Template;
use axum::response::Response;

use crate::error::WebError;
use crate::page::{PageContext, render};

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: PageContext,
}

/// `GET /`: what the portal is, and the areas it opens.
pub async fn show(page: PageContext) -> Result<Response, WebError> {
    render(&Home { page })
}
