//! The languages the portal speaks. Persian is the default; English serves visitors and agencies'
//! IT teams.

use std::fmt;
use std::str::FromStr;

/// A language of the user interface (زبان).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Persian (فارسی), written right to left. The default.
    #[default]
    Persian,
    /// English, written left to right.
    English,
}

/// Text direction of a language, as HTML's `dir` attribute spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    RightToLeft,
    LeftToRight,
}

impl Direction {
    pub fn as_html(self) -> &'static str {
        match self {
            Direction::RightToLeft => "rtl",
            Direction::LeftToRight => "ltr",
        }
    }
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Persian, Language::English];

    /// The BCP 47 tag, as used in `lang` attributes and cookies.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Persian => "fa",
            Language::English => "en",
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Language::Persian => Direction::RightToLeft,
            Language::English => Direction::LeftToRight,
        }
    }

    /// The language's name in itself, as a language switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::Persian => "فارسی",
            Language::English => "English",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A language tag we do not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`; known: fa, en")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    /// Accepts a primary tag with an optional region (`fa`, `fa-IR`, `en-GB`), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "fa" | "per" | "fas" => Ok(Language::Persian),
            "en" | "eng" => Ok(Language::English),
            _ => Err(UnknownLanguage(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_is_default_and_right_to_left() {
        assert_eq!(Language::default(), Language::Persian);
        assert_eq!(Language::Persian.direction().as_html(), "rtl");
        assert_eq!(Language::English.direction().as_html(), "ltr");
    }

    #[test]
    fn parses_tags_with_regions_and_case() {
        assert_eq!("fa-IR".parse(), Ok(Language::Persian));
        assert_eq!("EN_gb".parse(), Ok(Language::English));
        assert_eq!(
            "de".parse::<Language>(),
            Err(UnknownLanguage("de".to_owned()))
        );
        assert!("".parse::<Language>().is_err());
    }

    #[test]
    fn tag_round_trips() {
        for lang in Language::ALL {
            assert_eq!(lang.tag().parse(), Ok(lang));
        }
    }
}
