//! What is wrong with something a person or a system sent, as one type everywhere: a stable code
//! for programs, a message in Persian and in English for people, and — when the value is part
//! of something larger — where it is.
//!
//! Identifier parsers answer a lone problem (a national ID's check digit); forms, cards,
//! workflows, applications and the files people import answer problems placed at a field path
//! (`sections[1].fields[2]`, `birth.father_national_id`, `documents[0]`) or at a line and column
//! of a file. Pages and the API word them from here, in the reader's language.

use std::fmt;

use serde::Serialize;

use crate::Language;
use crate::text::to_persian_digits;

/// One problem: what, where, and what to do, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where in what was sent: a path such as `steps[2]` or `form.field`, or in a file of
    /// rows the column (`date`); empty for a lone value.
    pub at: String,
    /// How Persian text names that place, when `at` is a code: the column `date` is «تاریخ».
    #[serde(skip)]
    pub at_fa: Option<Box<str>>,
    /// In a file of lines or rows: the line (from 1), as the person's editor numbers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Stable, for programs: `checksum`, `unknown_state`, `document_required` …
    pub code: &'static str,
    pub fa: String,
    pub en: String,
}

impl Problem {
    /// A problem with a lone value.
    pub fn new(code: &'static str, fa: impl Into<String>, en: impl Into<String>) -> Problem {
        Problem {
            at: String::new(),
            at_fa: None,
            line: None,
            code,
            fa: fa.into(),
            en: en.into(),
        }
    }

    /// The same problem, placed at `at`.
    pub fn at(mut self, at: impl Into<String>) -> Problem {
        self.at = at.into();
        self
    }

    /// The same problem, placed at `at`, which Persian text calls `name_fa`.
    pub fn at_named(mut self, at: impl Into<String>, name_fa: impl Into<String>) -> Problem {
        self.at = at.into();
        self.at_fa = Some(name_fa.into().into_boxed_str());
        self
    }

    /// The same problem, placed on line `line` of a file (from 1; 0 places it on no line: the
    /// file as a whole, or a single row typed on a page).
    pub fn on_line(mut self, line: usize) -> Problem {
        self.line = (line > 0).then_some(line);
        self
    }

    /// The same problem inside `outer`: `field` within form `birth` is at `birth.field`.
    pub fn within(mut self, outer: &str) -> Problem {
        self.at = match (outer.is_empty(), self.at.is_empty()) {
            (true, _) => self.at,
            (false, true) => outer.to_owned(),
            (false, false) => format!("{outer}.{}", self.at),
        };
        self
    }

    /// The message alone, in `lang`.
    pub fn message(&self, lang: Language) -> &str {
        match lang {
            Language::Persian => &self.fa,
            Language::English => &self.en,
        }
    }

    /// The message with where it is, for a list of problems a person reads:
    /// `سطر ۳، ستون «تاریخ»: …`, `Line 3: …`, `«steps[2]»: …`, or the message alone.
    pub fn located(&self, lang: Language) -> String {
        let message = self.message(lang);
        let at_fa = self.at_fa.as_deref().unwrap_or(&self.at);
        match (lang, self.line, self.at.is_empty()) {
            (_, None, true) => message.to_owned(),
            (Language::Persian, None, false) => format!("«{at_fa}»: {message}"),
            (Language::English, None, false) => format!("`{}`: {message}", self.at),
            (Language::Persian, Some(line), true) => {
                format!("سطر {}: {message}", to_persian_digits(&line.to_string()))
            }
            (Language::English, Some(line), true) => format!("Line {line}: {message}"),
            (Language::Persian, Some(line), false) => format!(
                "سطر {}، ستون «{at_fa}»: {message}",
                to_persian_digits(&line.to_string()),
            ),
            (Language::English, Some(line), false) => {
                format!("Line {line}, column `{}`: {message}", self.at)
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.located(Language::English))
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrong() -> Problem {
        Problem::new(
            "checksum",
            "رقم کنترل درست نیست.",
            "The check digit is wrong.",
        )
    }

    #[test]
    fn a_lone_problem_is_its_message() {
        assert_eq!(wrong().located(Language::Persian), "رقم کنترل درست نیست.");
        assert_eq!(wrong().to_string(), "checksum: The check digit is wrong.");
    }

    #[test]
    fn a_placed_problem_says_where_in_the_readers_language() {
        let field = wrong().at("father_national_id").within("birth");
        assert_eq!(field.at, "birth.father_national_id");
        assert_eq!(
            field.located(Language::English),
            "`birth.father_national_id`: The check digit is wrong."
        );
        assert_eq!(
            wrong().at("date").on_line(3).located(Language::Persian),
            "سطر ۳، ستون «date»: رقم کنترل درست نیست."
        );
        assert_eq!(
            wrong().on_line(12).located(Language::English),
            "Line 12: The check digit is wrong."
        );
        assert_eq!(wrong().within("national_id").at, "national_id");
        let named = wrong().at_named("date", "تاریخ").on_line(2);
        assert_eq!(
            named.located(Language::Persian),
            "سطر ۲، ستون «تاریخ»: رقم کنترل درست نیست."
        );
        assert_eq!(
            named.located(Language::English),
            "Line 2, column `date`: The check digit is wrong."
        );
        assert_eq!(wrong().at("x").within("").at, "x");
    }
}
