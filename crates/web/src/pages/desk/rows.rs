//! The card's lists (channels, steps, documents, fees) edited as rows: an input per column with
//! a Persian label, choices as Persian options, a box to remove a row, a number to reorder, and
//! blank rows to add — all without JavaScript. The rows become the catalogue table's cells
//! (`catalog_table`: one line per row, columns joined by `|`), so the card is read and checked
//! by the same code as an imported file; editors never see that format.

use std::collections::BTreeMap;

/// What a column holds.
pub enum ColumnKind {
    Text,
    Number,
    /// (value the table format reads, message id of its Persian name)
    Choice(&'static [(&'static str, &'static str)]),
}

pub struct Column {
    pub key: &'static str,
    /// Message id of the column's label.
    pub label: &'static str,
    pub kind: ColumnKind,
}

pub struct ListSpec {
    /// The table column the list is stored in.
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub columns: &'static [Column],
}

const fn text(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        kind: ColumnKind::Text,
    }
}

const fn number(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        kind: ColumnKind::Number,
    }
}

pub const LISTS: [ListSpec; 4] = [
    ListSpec {
        name: "channels",
        label: "desk-f-channels",
        hint: "rows-h-channels",
        columns: &[
            Column {
                key: "channel",
                label: "rows-channel",
                kind: ColumnKind::Choice(&[
                    ("centre", "portal-channel-centre"),
                    ("online", "portal-channel-online"),
                    ("agency-office", "portal-channel-office"),
                ]),
            },
            Column {
                key: "complete",
                label: "rows-complete",
                kind: ColumnKind::Choice(&[
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
            Column {
                key: "original",
                label: "rows-original",
                kind: ColumnKind::Choice(&[
                    ("copy", "rows-copy"),
                    ("original", "rows-original-yes"),
                ]),
            },
            number("copies", "rows-copies"),
            number("step", "rows-step"),
            text("note", "rows-note"),
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

/// Turns the rows posted back into the lists' cells (only for lists the form had rows of), and
/// says in Persian what cannot be stored: a `|` or a line break inside a box. Rows marked for
/// removal and rows left blank are dropped; the others follow their order numbers (ties keep the
/// page's order).
pub fn cells_from_rows(
    form: &[(String, String)],
    t: &crate::i18n::Translator,
) -> (Vec<(String, String)>, Vec<String>) {
    // list → index → column → value
    let mut lists: BTreeMap<&str, BTreeMap<usize, BTreeMap<&str, &str>>> = BTreeMap::new();
    for (key, value) in form {
        let mut parts = key.splitn(4, ':');
        let (Some("row"), Some(list), Some(index), Some(column)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Some(spec) = LISTS.iter().find(|s| s.name == list) else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index > 500 {
            continue;
        }
        lists
            .entry(spec.name)
            .or_default()
            .entry(index)
            .or_default()
            .insert(column, value.as_str());
    }
    let mut cells = Vec::new();
    let mut errors = Vec::new();
    for spec in &LISTS {
        let Some(rows) = lists.get(spec.name) else {
            continue;
        };
        let mut kept: Vec<(i64, usize, String)> = Vec::new();
        for (index, row) in rows {
            if row.contains_key("_remove") {
                continue;
            }
            let values: Vec<&str> = spec
                .columns
                .iter()
                .map(|c| row.get(c.key).map_or("", |v| v.trim()))
                .collect();
            // A row counts when its first column is given (a channel chosen, a step's "who")
            // or something was typed into it; a blank row's other choices alone do not count.
            let typed = !values[0].is_empty()
                || spec
                    .columns
                    .iter()
                    .zip(&values)
                    .any(|(c, v)| !matches!(c.kind, ColumnKind::Choice(_)) && !v.is_empty());
            if !typed {
                continue;
            }
            for (column, value) in spec.columns.iter().zip(&values) {
                if value.contains('|') || value.contains('\n') {
                    errors.push(format!(
                        "«{}»، ردیف {}، «{}»: نویسهٔ | و رفتن به سطر تازه در این خانه نمی‌آیند.",
                        t.string(spec.label),
                        pishkhan_domain::text::to_persian_digits(&(index + 1).to_string()),
                        t.string(column.label)
                    ));
                }
            }
            let order = row
                .get("_order")
                .map(|o| pishkhan_domain::text::to_ascii_digits(o.trim()))
                .and_then(|o| o.parse::<i64>().ok())
                .unwrap_or(i64::try_from(*index).unwrap_or(i64::MAX) + 1);
            let line = values.join(" | ");
            kept.push((order, *index, line.trim_end_matches([' ', '|']).to_owned()));
        }
        kept.sort();
        cells.push((
            spec.name.to_owned(),
            kept.into_iter()
                .map(|(_, _, line)| line)
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    (cells, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

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
