//! The synonym list an admin edits: what people call a service → words the cards use.
//!
//! One rule per line, `what people type = words in the cards`; several ways of saying it may
//! share a line, separated by `،` or `,`:
//!
//! ```text
//! خلافی ماشین، جریمه ماشین = خلافی خودرو
//! جواز کسب = پروانه کسب
//! ```
//!
//! Empty lines and lines starting with `#` are ignored. Both sides are read through the Persian
//! analyzer, so spelling, digits and ZWNJ do not matter.

use pishkhan_domain::Problem;

use crate::analyzer::words;

/// A rule: when a query holds every word of `phrase` in a row, `adds` joins the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub phrase: Vec<String>,
    pub adds: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    rules: Vec<Rule>,
}

fn folded(text: &str) -> Vec<String> {
    words(text).into_iter().map(|w| w.joined).collect()
}

impl Synonyms {
    /// Reads the list; every bad line is reported, and nothing is taken from a list with errors.
    pub fn parse(text: &str) -> Result<Synonyms, Vec<Problem>> {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |code, fa: &str, en: &str| Problem::new(code, fa, en).on_line(i + 1);
            let Some((left, right)) = line.split_once('=') else {
                errors.push(error(
                    "no_equals_sign",
                    "هر سطر به شکل «آنچه مردم می‌نویسند = واژه‌های شناسنامهٔ خدمت» است؛ علامت = ندارد.",
                    "Each line reads `what people type = words in the cards`; this one has no `=`.",
                ));
                continue;
            };
            let adds = folded(right);
            if adds.is_empty() {
                errors.push(error(
                    "nothing_on_the_right",
                    "سمت راست علامت = خالی است.",
                    "Nothing on the right of `=`.",
                ));
                continue;
            }
            let phrases: Vec<Vec<String>> = left
                .split([',', '،'])
                .map(folded)
                .filter(|p| !p.is_empty())
                .collect();
            if phrases.is_empty() {
                errors.push(error(
                    "nothing_on_the_left",
                    "سمت چپ علامت = خالی است.",
                    "Nothing on the left of `=`.",
                ));
                continue;
            }
            for phrase in phrases {
                rules.push(Rule {
                    phrase,
                    adds: adds.clone(),
                });
            }
        }
        if errors.is_empty() {
            Ok(Synonyms { rules })
        } else {
            Err(errors)
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Does a rule's phrase hold this (folded) word? Such a word is worth reading out of a spoken
    /// form (`ماشینمو` → `ماشین`) though no card uses it.
    pub fn mentions(&self, word: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.phrase.iter().any(|w| w == word))
    }

    /// Where the rules' phrases stand in a query of these (folded) words: for each word, the
    /// words the rules covering it add (a synonym is another way of saying that phrase).
    pub fn alternatives(&self, query: &[String]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = vec![Vec::new(); query.len()];
        for rule in &self.rules {
            let n = rule.phrase.len();
            if n == 0 || n > query.len() {
                continue;
            }
            for start in 0..=query.len() - n {
                if query[start..start + n] != rule.phrase[..] {
                    continue;
                }
                for slot in &mut out[start..start + n] {
                    for word in &rule.adds {
                        if !slot.contains(word) {
                            slot.push(word.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The words the rules add to a query of these (folded) words.
    pub fn expand(&self, query: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rule in &self.rules {
            let n = rule.phrase.len();
            let found = n <= query.len() && query.windows(n).any(|w| w == rule.phrase.as_slice());
            if found {
                for word in &rule.adds {
                    if !query.contains(word) && !out.contains(word) {
                        out.push(word.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rules_and_expands_queries() {
        let s = Synonyms::parse("# comment\nخلافی ماشين، جريمه = خلافی خودرو\n\nجواز کسب = پروانه")
            .unwrap_or_default();
        assert_eq!(s.rules().len(), 3);
        let q = folded("استعلام خلافی ماشین");
        assert_eq!(s.expand(&q), vec!["خودرو".to_owned()]);
        assert_eq!(s.expand(&folded("جواز")), Vec::<String>::new());
    }

    #[test]
    fn reports_every_bad_line() {
        let errors = Synonyms::parse("x = y\nno equals\n = x\ny =")
            .err()
            .unwrap_or_default();
        let lines: Vec<usize> = errors.iter().filter_map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }
}
