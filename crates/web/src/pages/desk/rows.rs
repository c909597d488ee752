//! Lists edited as rows: an input per column with a Persian label, choices as Persian options,
//! a box to remove a row, a number to reorder, and blank rows to add — all without JavaScript
//! (`static/rows.js` adds buttons to add and move rows when it runs). The card's lists (channels,
//! steps, documents, fees), a form's sections, fields and choices, and a workflow's states and
//! actions are all edited this way; each page turns the rows posted back ([`posted`]) into its
//! own data. The card's rows become the catalogue table's cells (one line per row, columns
//! joined by `|`), so the card is read and checked by the same code as an imported file; editors
//! never see that format.

use std::collections::BTreeMap;

/// Joins the values of a column that takes several choices.
pub const SEP: char = '\u{1f}';

/// What a column holds, as the page shows it.
pub enum ColumnKind {
    Text,
    /// An identifier or another code typed left to right.
    Code,
    Number,
    /// One of (value, Persian label).
    Choice(Vec<(String, String)>),
    /// Any of (value, Persian label); the row's value joins them with [`SEP`].
    Many(Vec<(String, String)>),
}

/// A column as the page shows it.
pub struct Column {
    pub key: &'static str,
    pub label: String,
    pub kind: ColumnKind,
    /// The values of the row's `kind` column this column applies to, space-separated (empty:
    /// all); `rows.js` hides it for the others.
    pub only: &'static str,
}

impl Column {
    pub fn new(key: &'static str, label: impl Into<String>, kind: ColumnKind) -> Self {
        Column {
            key,
            label: label.into(),
            kind,
            only: "",
        }
    }

    /// The column applies only to rows whose `kind` is one of `kinds` (space-separated).
    pub fn only(mut self, kinds: &'static str) -> Self {
        self.only = kinds;
        self
    }

    /// Is `code` the row's value (or one of them)?
    pub fn picked(&self, value: &str, code: &str) -> bool {
        match self.kind {
            ColumnKind::Many(_) => value.split(SEP).any(|v| v == code),
            _ => value == code,
        }
    }

    /// Does the value match none of the choices (so the page offers "choose")?
    pub fn unmatched(&self, value: &str) -> bool {
        match &self.kind {
            ColumnKind::Choice(choices) => !choices.iter().any(|(c, _)| c == value),
            _ => false,
        }
    }

    /// Rows a multiple choice shows at once.
    pub fn size(&self) -> usize {
        match &self.kind {
            ColumnKind::Many(choices) => choices.len().clamp(2, 4),
            _ => 1,
        }
    }

    /// Takes several choices (shown wider).
    pub fn is_many(&self) -> bool {
        matches!(self.kind, ColumnKind::Many(_))
    }

    fn is_choice(&self) -> bool {
        matches!(self.kind, ColumnKind::Choice(_) | ColumnKind::Many(_))
    }
}

/// A row as the editor shows it.
pub struct Row {
    pub values: Vec<String>,
    /// A blank row, offered to add one.
    pub blank: bool,
}

/// A list as the editor shows it: its columns, its rows, then blank rows to add.
pub struct List {
    /// The prefix of its inputs' names (`row:NAME:INDEX:COLUMN`).
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl List {
    pub fn new(
        name: &'static str,
        label: impl Into<String>,
        hint: impl Into<String>,
        columns: Vec<Column>,
        rows: Vec<Vec<String>>,
    ) -> Self {
        let width = columns.len();
        let mut rows: Vec<Row> = rows
            .into_iter()
            .map(|mut values| {
                values.resize(width, String::new());
                Row {
                    values,
                    blank: false,
                }
            })
            .collect();
        rows.extend((0..BLANK_ROWS).map(|_| Row {
            values: vec![String::new(); width],
            blank: true,
        }));
        List {
            name,
            label: label.into(),
            hint: hint.into(),
            columns,
            rows,
        }
    }
}

/// The most rows a list takes from one form.
const MAX_ROWS: usize = 500;

/// Says so when a form posts rows past [`MAX_ROWS`] in a list: refused, not cut.
pub fn overflow(form: &[(String, String)]) -> Option<String> {
    let beyond = form.iter().any(|(key, _)| {
        let mut parts = key.splitn(4, ':');
        parts.next() == Some("row")
            && parts
                .nth(1)
                .and_then(|i| i.parse::<usize>().ok())
                .is_none_or(|i| i >= MAX_ROWS)
    });
    beyond.then(|| {
        format!(
            "یک فهرست بیش از {} ردیف نمی‌گیرد؛ چیزی ذخیره نشد.",
            pishkhan_domain::text::to_persian_digits(&MAX_ROWS.to_string())
        )
    })
}

/// The rows of list `name` posted back, in their order (by the order numbers; ties keep the
/// page's order), each with its index on the page: removed rows and rows left blank are dropped.
/// A row counts when its first column is given (a channel chosen, a step's "who") or something
/// was typed into it; a blank row's other choices alone do not count.
pub fn posted(
    form: &[(String, String)],
    name: &str,
    columns: &[Column],
) -> Vec<(usize, Vec<String>)> {
    // index → column → values
    let mut rows: BTreeMap<usize, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for (key, value) in form {
        let mut parts = key.splitn(4, ':');
        let (Some("row"), Some(list), Some(index), Some(column)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if list != name {
            continue;
        }
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_ROWS {
            continue;
        }
        rows.entry(index)
            .or_default()
            .entry(column)
            .or_default()
            .push(value.as_str());
    }
    let mut kept: Vec<(i64, usize, Vec<String>)> = Vec::new();
    for (index, row) in rows {
        if row.contains_key("_remove") {
            continue;
        }
        let values: Vec<String> = columns
            .iter()
            .map(|c| {
                let given = row.get(c.key).map(Vec::as_slice).unwrap_or_default();
                given
                    .iter()
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(&SEP.to_string())
            })
            .collect();
        let typed = values.first().is_some_and(|v| !v.is_empty())
            || columns
                .iter()
                .zip(&values)
                .any(|(c, v)| !c.is_choice() && !v.is_empty());
        if !typed {
            continue;
        }
        let order = row
            .get("_order")
            .and_then(|o| o.first())
            .map(|o| pishkhan_domain::text::to_ascii_digits(o.trim()))
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(i64::try_from(index).unwrap_or(i64::MAX) + 1);
        kept.push((order, index, values));
    }
    kept.sort_by_key(|(order, index, _)| (*order, *index));
    kept.into_iter()
        .map(|(_, index, values)| (index, values))
        .collect()
}

// --- the card's lists ---------------------------------------------------------------------

/// What a column of the card's lists holds.
pub enum SpecKind {
    Text,
    Number,
    /// (value the table format reads, message id of its Persian name)
    Choice(&'static [(&'static str, &'static str)]),
    /// One of the inquiry services registered now (or none): which can supply a document.
    Inquiry,
}

pub struct ColumnSpec {
    pub key: &'static str,
    /// Message id of the column's label.
    pub label: &'static str,
    pub kind: SpecKind,
}

pub struct ListSpec {
    /// The table column the list is stored in.
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub columns: &'static [ColumnSpec],
}

const fn text(key: &'static str, label: &'static str) -> ColumnSpec {
    ColumnSpec {
        key,
        label,
        kind: SpecKind::Text,
    }
}

const fn number(key: &'static str, label: &'static str) -> ColumnSpec {
    ColumnSpec {
        key,
        label,
        kind: SpecKind::Number,
    }
}

pub const LISTS: [ListSpec; 4] = [
    ListSpec {
        name: "channels",
        label: "desk-f-channels",
        hint: "rows-h-channels",
        columns: &[
            ColumnSpec {
                key: "channel",
                label: "rows-channel",
                kind: SpecKind::Choice(&[
                    ("centre", "portal-channel-centre"),
                    ("online", "portal-channel-online"),
                    ("agency-office", "portal-channel-office"),
                ]),
            },
            ColumnSpec {
                key: "complete",
                label: "rows-complete",
                kind: SpecKind::Choice(&[
                    ("complete", "rows-complete-yes"),
                    ("partial", "rows-complete-no"),
                ]),
            },
            text("note", "rows-note"),
        ],
    },
    ListSpec {
        name: "steps",
        label: "desk-f-steps",
        hint: "rows-h-steps",
        columns: &[
            text("who", "rows-who"),
            text("what", "rows-what"),
            number("days", "rows-days"),
        ],
    },
    ListSpec {
        name: "documents",
        label: "desk-f-documents",
        hint: "rows-h-documents",
        columns: &[
            text("name", "rows-document"),
            ColumnSpec {
                key: "original",
                label: "rows-original",
                kind: SpecKind::Choice(&[("copy", "rows-copy"), ("original", "rows-original-yes")]),
            },
            number("copies", "rows-copies"),
            number("step", "rows-step"),
            text("note", "rows-note"),
            ColumnSpec {
                key: "inquiry",
                label: "rows-inquiry",
                kind: SpecKind::Inquiry,
            },
        ],
    },
    ListSpec {
        name: "fees",
        label: "desk-f-fees",
        hint: "rows-h-fees",
        columns: &[
            text("title", "rows-fee-title"),
            number("rials", "rows-rials"),
            text("collector", "rows-collector"),
            number("share", "rows-share"),
            text("basis", "rows-basis"),
        ],
    },
];

/// Blank rows offered under each list, to add to it.
pub const BLANK_ROWS: usize = 2;

/// A card list's columns as the page shows them; `inquiries` are the inquiry services a
/// document may name, as (code, name).
fn card_columns(
    spec: &ListSpec,
    t: &crate::i18n::Translator,
    inquiries: &[(String, String)],
) -> Vec<Column> {
    spec.columns
        .iter()
        .map(|c| {
            let kind = match c.kind {
                SpecKind::Text => ColumnKind::Text,
                SpecKind::Number => ColumnKind::Number,
                SpecKind::Choice(choices) => ColumnKind::Choice(
                    choices
                        .iter()
                        .map(|(code, label)| ((*code).to_owned(), t.string(label)))
                        .collect(),
                ),
                SpecKind::Inquiry => ColumnKind::Choice(
                    std::iter::once((String::new(), t.string("rows-inquiry-none")))
                        .chain(inquiries.iter().cloned())
                        .collect(),
                ),
            };
            Column::new(c.key, t.string(c.label), kind)
        })
        .collect()
}

/// The card's lists as the editor shows them, from the card's cells.
pub fn card_lists(
    cells: &std::collections::BTreeMap<String, String>,
    t: &crate::i18n::Translator,
    inquiries: &[(String, String)],
) -> Vec<List> {
    LISTS
        .iter()
        .map(|spec| {
            let width = spec.columns.len();
            List::new(
                spec.name,
                t.string(spec.label),
                t.string(spec.hint),
                card_columns(spec, t, inquiries),
                rows_of(cells.get(spec.name).map_or("", String::as_str), width),
            )
        })
        .collect()
}

/// The rows of a list's cell: one per line, its columns split at `|`, as many as the list has.
pub fn rows_of(cell: &str, width: usize) -> Vec<Vec<String>> {
    cell.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut row: Vec<String> = line.split('|').map(|p| p.trim().to_owned()).collect();
            row.resize(width, String::new());
            row
        })
        .collect()
}

/// Turns the card's rows posted back into the lists' cells (only for lists the form had rows
/// of), and says in Persian what cannot be stored: a `|` or a line break inside a box.
pub fn cells_from_rows(
    form: &[(String, String)],
    t: &crate::i18n::Translator,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut cells = Vec::new();
    let mut errors = Vec::new();
    for spec in &LISTS {
        let prefix = format!("row:{}:", spec.name);
        if !form.iter().any(|(k, _)| k.starts_with(&prefix)) {
            continue;
        }
        let columns = card_columns(spec, t, &[]);
        let mut lines = Vec::new();
        for (index, values) in posted(form, spec.name, &columns) {
            for (column, value) in columns.iter().zip(&values) {
                if value.contains('|') || value.contains('\n') || value.contains(SEP) {
                    errors.push(format!(
                        "«{}»، ردیف {}، «{}»: نویسهٔ | و رفتن به سطر تازه در این خانه نمی‌آیند.",
                        t.string(spec.label),
                        pishkhan_domain::text::to_persian_digits(&(index + 1).to_string()),
                        column.label
                    ));
                }
            }
            lines.push(values.join(" | ").trim_end_matches([' ', '|']).to_owned());
        }
        cells.push((spec.name.to_owned(), lines.join("\n")));
    }
    (cells, errors)
}

/// A posted form from pairs, for tests.
#[cfg(test)]
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translator() -> crate::i18n::Translator {
        crate::i18n::Translator::new(
            std::sync::Arc::new(crate::i18n::I18n::load().unwrap()),
            pishkhan_domain::Language::Persian,
        )
    }

    #[test]
    fn rows_become_lines_in_their_order_without_removed_or_blank_ones() {
        let (cells, errors) = cells_from_rows(
            &form(&[
                ("row:steps:0:who", "متقاضی"),
                ("row:steps:0:what", "ثبت درخواست"),
                ("row:steps:0:days", ""),
                ("row:steps:0:_order", "2"),
                ("row:steps:1:who", "اداره"),
                ("row:steps:1:what", "بررسی"),
                ("row:steps:1:days", "۳"),
                ("row:steps:1:_order", "1"),
                ("row:steps:2:who", "حذف‌شده"),
                ("row:steps:2:what", "x"),
                ("row:steps:2:_remove", "on"),
                ("row:steps:3:who", ""),
                ("row:steps:3:what", ""),
                ("row:documents:0:name", "کارت ملی"),
                ("row:documents:0:original", "original"),
                ("row:documents:0:copies", "1"),
                ("row:documents:1:original", "copy"),
            ]),
            &translator(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let get = |n: &str| cells.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("steps"), "اداره | بررسی | ۳\nمتقاضی | ثبت درخواست");
        assert_eq!(get("documents"), "کارت ملی | original | 1");
        // Lists the form had no rows of are left alone.
        assert!(!cells.iter().any(|(k, _)| k == "fees"));
        assert_eq!(
            rows_of(&get("steps"), 3)[1],
            vec!["متقاضی", "ثبت درخواست", ""]
        );
    }

    #[test]
    fn rows_past_the_limit_are_refused_not_cut() {
        assert_eq!(overflow(&form(&[("row:steps:499:who", "x")])), None);
        for forged in ["row:steps:500:who", "row:steps:-1:who", "row:steps:x:who"] {
            let message = overflow(&form(&[(forged, "x")])).unwrap();
            assert!(message.contains("۵۰۰"), "{forged}: {message}");
        }
    }

    #[test]
    fn a_separator_typed_into_a_box_is_refused_in_persian() {
        let (_, errors) = cells_from_rows(
            &form(&[
                ("row:fees:0:title", "عوارض | جریمه"),
                ("row:fees:0:rials", "1000"),
            ]),
            &translator(),
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("ردیف ۱"), "{errors:?}");
        assert!(errors[0].contains("هزینه‌ها"), "{errors:?}");
    }
}
