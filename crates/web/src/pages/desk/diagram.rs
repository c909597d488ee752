//! A service's workflow drawn on the server as SVG, beside its table: each state a box in rows by
//! how many steps it is from the start (the start on top), each action an arrow labelled with
//! its name; a step back (asking for documents) curves on the side. Plain SVG in the page: no
//! script, readable by screen readers through its title and the table beside it.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;

use pishkhan_domain::workflow::Workflow;

const BOX_W: i32 = 170;
const BOX_H: i32 = 46;
const GAP_X: i32 = 120;
const ROW_H: i32 = 110;
const MARGIN: i32 = 40;
/// An arrow's label: on a white halo, so a line crossing it does not hide it.
const LABEL: &str = r##"font-size="12" text-anchor="middle" fill="#0b0c0c" stroke="#ffffff" stroke-width="4" paint-order="stroke""##;
/// Beginning at its point and running right (whatever the page's direction).
const LABEL_START: &str = r##"font-size="12" direction="ltr" text-anchor="start" fill="#0b0c0c" stroke="#ffffff" stroke-width="4" paint-order="stroke""##;
const LABEL_END: &str = r##"font-size="12" text-anchor="end" fill="#0b0c0c" stroke="#ffffff" stroke-width="4" paint-order="stroke""##;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The workflow as an SVG element (`title` names it for assistive technology).
pub fn workflow_svg(workflow: &Workflow, title: &str) -> String {
    // Rows: breadth-first from the start; states not reached go last.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue = VecDeque::new();
    depth.insert(workflow.start.as_str(), 0);
    queue.push_back(workflow.start.as_str());
    while let Some(state) = queue.pop_front() {
        let d = depth[state];
        for action in workflow.actions_from(state) {
            if !depth.contains_key(action.to.as_str()) {
                depth.insert(action.to.as_str(), d + 1);
                queue.push_back(action.to.as_str());
            }
        }
    }
    let deepest = depth.values().copied().max().unwrap_or(0);
    for state in &workflow.states {
        depth.entry(state.code.as_str()).or_insert(deepest + 1);
    }
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for state in &workflow.states {
        rows.entry(depth[state.code.as_str()])
            .or_default()
            .push(state.code.as_str());
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i32;
    let width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + 160;
    let height = MARGIN * 2 + (rows.len() as i32 - 1).max(0) * ROW_H + BOX_H;
    // Box centres, right to left in each row (the page reads right to left).
    let mut at: BTreeMap<&str, (i32, i32)> = BTreeMap::new();
    for (row, (_, states)) in rows.iter().enumerate() {
        let n = states.len() as i32;
        let span = n * BOX_W + (n - 1) * GAP_X;
        let first = (width - span) / 2 + span - BOX_W / 2;
        for (i, state) in states.iter().enumerate() {
            let x = first - i as i32 * (BOX_W + GAP_X);
            let y = MARGIN + row as i32 * ROW_H + BOX_H / 2;
            at.insert(state, (x, y));
        }
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="workflow-diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="workflow-diagram-title"><title id="workflow-diagram-title">{}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#0b0c0c"/></marker></defs>"##,
        escape(title)
    );
    // Arrows first, boxes over them.
    let mut bends: BTreeMap<(&str, &str), i32> = BTreeMap::new();
    for action in &workflow.actions {
        let Some(&(tx, ty)) = at.get(action.to.as_str()) else {
            continue;
        };
        for from in &action.from {
            let Some(&(fx, fy)) = at.get(from.as_str()) else {
                continue;
            };
            let seen = bends
                .entry((from.as_str(), action.to.as_str()))
                .or_insert(0);
            *seen += 1;
            let offset = (*seen - 1) * 14;
            let label = escape(&action.name.fa);
            if ty > fy {
                // Forward: from the bottom of one box to the top of the other.
                let (x1, y1, x2, y2) = (fx, fy + BOX_H / 2, tx, ty - BOX_H / 2);
                let _ = write!(
                    svg,
                    r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#505a5f" stroke-width="1.5" marker-end="url(#arrow)"/><text x="{}" y="{}" {}>{label}</text>"##,
                    // Nearer the target than the source: arrows fanning out of one box spread
                    // apart before their labels, which would overlap at the midpoints. Beside
                    // a straight-down arrow rather than across it.
                    x1 + (x2 - x1) * 62 / 100 + if x1 == x2 { 8 } else { 0 },
                    y1 + (y2 - y1) * 62 / 100 + offset,
                    if x1 == x2 { LABEL_START } else { LABEL }
                );
            } else if ty == fy {
                // Sideways in one row: a straight arrow between the facing sides.
                let (x1, x2) = if tx < fx {
                    (fx - BOX_W / 2, tx + BOX_W / 2)
                } else {
                    (fx + BOX_W / 2, tx - BOX_W / 2)
                };
                let y = fy + offset - 6;
                let _ = write!(
                    svg,
                    r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#505a5f" stroke-width="1.5" stroke-dasharray="5 3" marker-end="url(#arrow)"/><text x="{}" y="{}" {LABEL}>{label}</text>"##,
                    (x1 + x2) / 2,
                    y - 6
                );
            } else {
                // Back: a curve out to the left side.
                let (x1, y1, x2, y2) = (fx - BOX_W / 2, fy, tx - BOX_W / 2, ty);
                let bulge = x1.min(x2) - 50 - offset;
                let _ = write!(
                    svg,
                    r##"<path d="M {x1} {y1} C {bulge} {y1}, {bulge} {y2}, {x2} {y2}" fill="none" stroke="#505a5f" stroke-width="1.5" stroke-dasharray="5 3" marker-end="url(#arrow)"/><text x="{}" y="{}" {LABEL_END}>{label}</text>"##,
                    // Outside the curve, near the state it returns to, so it crosses nothing
                    // drawn between the rows and stays clear of the forward labels.
                    bulge - 4,
                    y2 + BOX_H / 2 + 14 + offset
                );
            }
        }
    }
    for state in &workflow.states {
        let Some(&(x, y)) = at.get(state.code.as_str()) else {
            continue;
        };
        let (fill, stroke) = match state.outcome {
            Some(_) => ("#f3f2f1", "#505a5f"),
            None if state.code == workflow.start => ("#e8f1f8", "#1d70b8"),
            None => ("#ffffff", "#0f4c45"),
        };
        let _ = write!(
            svg,
            r##"<rect x="{}" y="{}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="2"/><text x="{x}" y="{}" font-size="13" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
            x - BOX_W / 2,
            y - BOX_H / 2,
            y + 5,
            escape(&short(&state.name.fa, 26))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A state's name cut to fit its box (the table beside the diagram has it whole).
fn short(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(most - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_action_is_drawn_and_text_is_escaped() {
        let mut workflow = Workflow::standard(10);
        workflow.states[0].name = pishkhan_domain::forms::Text::fa("ثبت <شد> & منتظر");
        let svg = workflow_svg(&workflow, "گردش کار");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), workflow.states.len());
        let arrows: usize = workflow.actions.iter().map(|a| a.from.len()).sum();
        assert_eq!(
            svg.matches("<line").count() + svg.matches("<path d=\"M ").count() - 1,
            arrows
        );
        assert!(svg.contains("ثبت &lt;شد&gt; &amp; منتظر"));
        assert!(!svg.contains("<شد>"));
    }
}
