//! Forms on the desk: edit one as rows of sections, fields and choices; a new form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pishkhan_app::catalog::CatalogError;
use pishkhan_domain::form_rows::{
    FILE_TYPES, FieldRow, KINDS, OptionRow, RowProblem, SectionRow, conditions, from_rows,
    place_fa, to_rows,
};
use pishkhan_domain::forms::FormSchema;

use crate::auth::{Visitor, redirect, staff};
use crate::error::WebError;
use crate::page::{PageContext, render};
use crate::state::WebState;

use super::rows::{Column, ColumnKind, List, SEP, posted};
use super::{AgencyQuery, NoticeQuery, actor, editable_agency};

/// A form's rows, as shown or as posted.
struct FormRows {
    sections: Vec<SectionRow>,
    fields: Vec<FieldRow>,
    options: Vec<OptionRow>,
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(c, l)| ((*c).to_owned(), (*l).to_owned()))
        .collect()
}

const REQUIRED: [(&str, &str); 2] = [("yes", "الزامی"), ("no", "اختیاری")];

impl FormRows {
    fn of(form: &FormSchema) -> Self {
        let (sections, fields, options) = to_rows(form);
        FormRows {
            sections,
            fields,
            options,
        }
    }

    fn section_columns() -> Vec<Column> {
        vec![
            Column::new("id", "شناسه (لاتین)", ColumnKind::Code),
            Column::new("title", "عنوان بخش", ColumnKind::Text),
        ]
    }

    fn field_columns(&self) -> Vec<Column> {
        let sections = self
            .sections
            .iter()
            .map(|s| (s.id.clone(), s.title.clone()))
            .collect();
        vec![
            Column::new("section", "بخش", ColumnKind::Choice(sections)),
            Column::new("id", "شناسه (لاتین)", ColumnKind::Code),
            Column::new("label", "برچسب", ColumnKind::Text),
            Column::new("kind", "نوع", ColumnKind::Choice(pairs(&KINDS))),
            Column::new("required", "پر کردن", ColumnKind::Choice(pairs(&REQUIRED))),
            Column::new("help", "راهنما", ColumnKind::Text),
            Column::new("max_length", "بیشینهٔ طول (متن)", ColumnKind::Number)
                .only("text long-text"),
            Column::new("min", "کمینه (عدد)", ColumnKind::Number).only("number"),
            Column::new("max", "بیشینه (عدد یا مبلغ)", ColumnKind::Number).only("number money"),
            Column::new(
                "accept",
                "نوع پرونده (پیوست)",
                ColumnKind::Many(pairs(&FILE_TYPES)),
            )
            .only("file"),
            Column::new("max_kb", "بیشینهٔ حجم، کیلوبایت (پیوست)", ColumnKind::Number).only("file"),
            Column::new(
                "show_if",
                "نمایش فقط وقتی (هیچ‌کدام برگزیده نباشد: همیشه)",
                ColumnKind::Many(conditions(&self.fields, &self.options)),
            ),
        ]
    }

    fn option_columns(&self) -> Vec<Column> {
        let lists = self
            .fields
            .iter()
            .filter(|f| matches!(f.kind.as_str(), "select" | "multi-select"))
            .map(|f| (f.id.clone(), f.label.clone()))
            .collect();
        vec![
            Column::new("field", "فیلد", ColumnKind::Choice(lists)),
            Column::new("value", "مقدار (لاتین)", ColumnKind::Code),
            Column::new("label", "برچسب گزینه", ColumnKind::Text),
        ]
    }

    fn lists(&self) -> Vec<List> {
        let join = |v: &[String]| v.join(&SEP.to_string());
        vec![
            List::new(
                "sections",
                "بخش‌ها",
                "هر بخش فرم در یک ردیف؛ فیلدها زیر بخش خود می‌آیند.",
                Self::section_columns(),
                self.sections
                    .iter()
                    .map(|s| vec![s.id.clone(), s.title.clone()])
                    .collect(),
            ),
            List::new(
                "fields",
                "فیلدها",
                "هر پرسش فرم در یک ردیف. کمینه، بیشینه، نوع پرونده و حجم فقط برای نوعی که کنارشان آمده به کار می‌روند. «نمایش فقط وقتی» برای پرسشی است که تنها با پاسخی خاص به پرسشی دیگر پیدا می‌شود؛ چند پاسخ از یک پرسش را می‌توان برگزید.",
                self.field_columns(),
                self.fields
                    .iter()
                    .map(|f| {
                        vec![
                            f.section.clone(),
                            f.id.clone(),
                            f.label.clone(),
                            f.kind.clone(),
                            if f.required { "yes" } else { "no" }.to_owned(),
                            f.help.clone(),
                            f.max_length.clone(),
                            f.min.clone(),
                            f.max.clone(),
                            join(&f.accept),
                            f.max_kb.clone(),
                            join(&f.show_if),
                        ]
                    })
                    .collect(),
            ),
            List::new(
                "options",
                "گزینه‌ها",
                "گزینه‌های فیلدهایی که از فهرست انتخاب می‌شوند، هر کدام در یک ردیف. فیلد فهرستی که همین حالا افزوده‌اید پس از ذخیره در این فهرست می‌آید.",
                self.option_columns(),
                self.options
                    .iter()
                    .map(|o| vec![o.field.clone(), o.value.clone(), o.label.clone()])
                    .collect(),
            ),
        ]
    }

    fn posted(form: &[(String, String)]) -> Self {
        let split = |v: &str| -> Vec<String> {
            v.split(SEP)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let empty = FormRows {
            sections: Vec::new(),
            fields: Vec::new(),
            options: Vec::new(),
        };
        let sections = posted(form, "sections", &Self::section_columns())
            .into_iter()
            .map(|(_, v)| SectionRow {
                id: v[0].clone(),
                title: v[1].clone(),
            })
            .collect();
        let fields = posted(form, "fields", &empty.field_columns())
            .into_iter()
            .map(|(_, v)| FieldRow {
                section: v[0].clone(),
                id: v[1].clone(),
                label: v[2].clone(),
                kind: v[3].clone(),
                required: v[4] != "no",
                help: v[5].clone(),
                max_length: v[6].clone(),
                min: v[7].clone(),
                max: v[8].clone(),
                accept: split(&v[9]),
                max_kb: v[10].clone(),
                show_if: split(&v[11]),
            })
            .collect();
        let options = posted(form, "options", &empty.option_columns())
            .into_iter()
            .map(|(_, v)| OptionRow {
                field: v[0].clone(),
                value: v[1].clone(),
                label: v[2].clone(),
            })
            .collect();
        FormRows {
            sections,
            fields,
            options,
        }
    }

    /// The form these rows make, from `base` (its code, version, rules and English texts).
    fn form(&self, base: &FormSchema, title: &str) -> Result<FormSchema, Vec<RowProblem>> {
        from_rows(base, title, &self.sections, &self.fields, &self.options)
    }
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "desk_form.html")]
struct FormEditView {
    page: PageContext,
    code: String,
    title: String,
    lists: Vec<List>,
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
    let notice = query.done.map(|_| page.t.string("desk-form-saved"));
    render(&FormEditView {
        page,
        code,
        lists: FormRows::of(&form).lists(),
        title: form.title.fa,
        latest: doc.latest_version,
        published: doc.published_version,
        notice,
        errors: Vec::new(),
    })
}

/// Saves the rows as the agency's form (`base` gives its code and the version to save as), or
/// says what is wrong.
async fn save_rows(
    state: &WebState,
    visitor: &Visitor,
    agency: &str,
    rows: &FormRows,
    base: &FormSchema,
    title: &str,
    page: &PageContext,
) -> Result<Vec<String>, WebError> {
    let principal = staff(visitor)?;
    match rows.form(base, title) {
        Ok(form) => {
            match state
                .app
                .save_form(principal, &actor(visitor)?, agency, &form)
                .await
            {
                Ok(_) => Ok(Vec::new()),
                Err(CatalogError::InvalidForm(problems))
                    if page.lang == pishkhan_domain::Language::Persian =>
                {
                    Ok(problems
                        .iter()
                        .map(|p| format!("{}: {}", place_fa(&form, &p.at), p.fa))
                        .collect())
                }
                Err(CatalogError::Store(e)) => Err(WebError::from(e)),
                Err(CatalogError::NotFound) => Err(WebError::NotFound),
                Err(other) => Ok(other.lines(page.lang)),
            }
        }
        Err(problems) => Ok(problems.iter().map(RowProblem::located_fa).collect()),
    }
}

/// `POST /desk/forms/{code}`: saves the edited form as its next version.
pub async fn save_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let (mut base, doc) = state
        .app
        .form_for_editor(principal, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let rows = FormRows::posted(&form);
    let title = field(&form, "title");
    base.version = u32::try_from(doc.latest_version + 1).unwrap_or(u32::MAX);
    let errors = match super::rows::overflow(&form) {
        Some(refused) => vec![refused],
        None => save_rows(&state, &visitor, &doc.agency, &rows, &base, &title, &page).await?,
    };
    if errors.is_empty() {
        return Ok(redirect(&format!("/desk/forms/{code}?done=saved")));
    }
    let mut response = render(&FormEditView {
        page,
        code,
        title,
        lists: rows.lists(),
        latest: doc.latest_version,
        published: doc.published_version,
        notice: None,
        errors,
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

// --- a new form ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk_new_form.html")]
struct NewFormView {
    page: PageContext,
    agency: String,
    agency_name: String,
    code: String,
    title: String,
    lists: Vec<List>,
    errors: Vec<String>,
}

/// The rows a new form starts with: the applicant's section with national ID and mobile.
fn starting_rows() -> FormRows {
    let field = |id: &str, label: &str, kind: &str| FieldRow {
        section: "applicant".into(),
        id: id.into(),
        label: label.into(),
        kind: kind.into(),
        required: true,
        ..FieldRow::default()
    };
    FormRows {
        sections: vec![SectionRow {
            id: "applicant".into(),
            title: "مشخصات درخواست‌کننده".into(),
        }],
        fields: vec![
            field("national_id", "کد ملی", "national-id"),
            field("mobile", "شمارهٔ همراه", "mobile"),
        ],
        options: Vec::new(),
    }
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
        lists: starting_rows().lists(),
        page,
        agency,
        agency_name,
        errors: Vec::new(),
    })
}

/// `POST /desk/forms/new?agency=CODE`
pub async fn create_form(
    State(state): State<WebState>,
    page: PageContext,
    visitor: Visitor,
    Query(query): Query<AgencyQuery>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let principal = staff(&visitor)?;
    let agency_name = editable_agency(&state, principal, query.agency.as_deref()).await?;
    let agency = query.agency.unwrap_or_default();
    let code = field(&form, "code");
    let title = field(&form, "title");
    let rows = FormRows::posted(&form);
    let blank = FormSchema {
        schema: pishkhan_domain::forms::SCHEMA_V1.to_owned(),
        code: code.clone(),
        version: 1,
        title: pishkhan_domain::forms::Text::fa(title.as_str()),
        description: None,
        sections: Vec::new(),
        rules: Vec::new(),
    };
    let taken = state.app.form(&code, Some(1)).await?.is_some();
    let errors = if taken {
        vec![page.t.string("desk-code-taken")]
    } else if let Some(refused) = super::rows::overflow(&form) {
        vec![refused]
    } else {
        save_rows(&state, &visitor, &agency, &rows, &blank, &title, &page).await?
    };
    if errors.is_empty() {
        return Ok(redirect(&format!("/desk/forms/{code}?done=saved")));
    }
    let mut response = render(&NewFormView {
        page,
        agency,
        agency_name,
        code,
        title,
        lists: rows.lists(),
        errors,
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
