//! Forms on the desk: edit one in the form mini-language; a new form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::catalog::CatalogError;
use serde::Deserialize;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

use super::{AgencyQuery, NoticeQuery, actor, editable_agency};

#[derive(Template)]
#[template(path = "desk_form.html")]
struct FormEditView {
    page: PageContext,
    code: String,
    title: String,
    sections: String,
    fields: String,
    latest: i64,
    published: Option<i64>,
    notice: Option<String>,
    errors: Vec<String>,
}

/// `GET /desk/forms/{code}`
pub async fn form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let (form, doc) = state
        .app
        .form_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let (sections, fields) = pishkhan_domain::form_lines::to_lines(&form);
    let notice = query.done.map(|_| page.t.string("desk-form-saved"));
    render(&FormEditView {
        page,
        code,
        title: form.title.fa,
        sections,
        fields,
        latest: doc.latest_version,
        published: doc.published_version,
        notice,
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
pub struct FormEdit {
    #[serde(default)]
    title: String,
    #[serde(default)]
    sections: String,
    #[serde(default)]
    fields: String,
}

/// `POST /desk/forms/{code}`: saves the edited form as its next version.
pub async fn save_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(edit): Form<FormEdit>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let (base, doc) = state
        .app
        .form_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let errors = match pishkhan_domain::form_lines::from_lines(
        &base,
        &edit.title,
        &edit.sections,
        &edit.fields,
    ) {
        Ok(mut form) => {
            form.version = u32::try_from(doc.latest_version + 1).unwrap_or(u32::MAX);
            match state
                .app
                .save_form(principal, &actor(&visitor)?, &doc.agency, &form)
                .await
            {
                Ok(_) => return Ok(redirect(&format!("/desk/forms/{code}?done=saved"))),
                Err(CatalogError::Store(e)) => return Err(WebError::from(e)),
                Err(CatalogError::NotFound) => return Err(WebError::NotFound),
                Err(other) => other.lines(page.lang),
            }
        }
        Err(problems) => problems
            .into_iter()
            .map(|p| {
                let list = if p.list == "sections" {
                    page.t.string("desk-form-sections")
                } else {
                    page.t.string("desk-form-fields")
                };
                if fa {
                    format!("{list}، سطر {}: {}", page.digits(&p.line.to_string()), p.fa)
                } else {
                    format!("{list}, line {}: {}", p.line, p.en)
                }
            })
            .collect(),
    };
    let mut response = render(&FormEditView {
        page,
        code,
        title: edit.title,
        sections: edit.sections,
        fields: edit.fields,
        latest: doc.latest_version,
        published: doc.published_version,
        notice: None,
        errors,
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

// --- an agency's contact point ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk_new_form.html")]
struct NewFormView {
    page: PageContext,
    agency: String,
    agency_name: String,
    code: String,
    title: String,
    sections: String,
    fields: String,
    errors: Vec<String>,
}

/// `GET /desk/forms/new?agency=CODE`
pub async fn new_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AgencyQuery>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let agency_name = editable_agency(&state, principal, query.agency.as_deref()).await?;
    let agency = query.agency.unwrap_or_default();
    render(&NewFormView {
        code: format!("{agency}."),
        title: String::new(),
        sections: "applicant | مشخصات درخواست‌کننده".into(),
        fields: "applicant | national_id | national-id | کد ملی | required\napplicant | mobile | mobile | شمارهٔ همراه | required".into(),
        page,
        agency,
        agency_name,
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
pub struct NewFormForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    sections: String,
    #[serde(default)]
    fields: String,
}

/// `POST /desk/forms/new?agency=CODE`
pub async fn create_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AgencyQuery>,
    Form(input): Form<NewFormForm>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let agency_name = editable_agency(&state, principal, query.agency.as_deref()).await?;
    let agency = query.agency.unwrap_or_default();
    let code = input.code.trim().to_owned();
    let blank = pishkhan_domain::forms::FormSchema {
        schema: pishkhan_domain::forms::SCHEMA_V1.to_owned(),
        code: code.clone(),
        version: 1,
        title: pishkhan_domain::forms::Text::fa(input.title.trim()),
        description: None,
        sections: Vec::new(),
        rules: Vec::new(),
    };
    let fa = page.lang == pishkhan_domain::Language::Persian;
    let taken = state.app.form(&code, Some(1)).await?.is_some();
    let errors = if taken {
        vec![page.t.string("desk-code-taken")]
    } else {
        match pishkhan_domain::form_lines::from_lines(
            &blank,
            &input.title,
            &input.sections,
            &input.fields,
        ) {
            Ok(form) => match state
                .app
                .save_form(principal, &actor(&visitor)?, &agency, &form)
                .await
            {
                Ok(_) => return Ok(redirect(&format!("/desk/forms/{code}?done=saved"))),
                Err(CatalogError::Store(e)) => return Err(WebError::from(e)),
                Err(other) => other.lines(page.lang),
            },
            Err(problems) => problems
                .into_iter()
                .map(|p| {
                    if fa {
                        format!("{}، سطر {}: {}", p.list, p.line, p.fa)
                    } else {
                        format!("{}, line {}: {}", p.list, p.line, p.en)
                    }
                })
                .collect(),
        }
    };
    let mut response = render(&NewFormView {
        page,
        agency,
        agency_name,
        code,
        title: input.title,
        sections: input.sections,
        fields: input.fields,
        errors,
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
