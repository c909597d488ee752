//! The Persian analyzer: the same words whatever letters, digits, spacing or ZWNJ people use.
//!
//! Built on the Persian core's folding (`pishkhan_domain::text::fold`: Arabic ي/ك → ی/ک, ۀ → ه,
//! diacritics and tatweel dropped, every digit → ASCII, lower case). One thing folding alone
//! cannot do is keep a compound together: `گواهی‌نامه` is one word written with a ZWNJ, and
//! people type it as `گواهینامه`, `گواهی نامه` or `گواهی‌نامه`. So a word with a ZWNJ yields the
//! joined word **and** its parts at the same position: every spelling finds it, and so does the
//! first part alone (`گواهی`). Words without a ZWNJ (`گواهینامه`) are reached from their first
//! part by prefix matching at query time (see `index.rs`).

use pishkhan_domain::text::fold;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the analyzer is registered under in the index.
pub const PERSIAN: &str = "pishkhan-persian";

/// A private-use character standing in for a ZWNJ while the text is folded (folding turns a
/// ZWNJ into a space, which would split the compound apart).
const JOINER: char = '\u{E000}';

/// Words too common to tell services apart: Persian function words and the verbs of requests
/// ("how do I …"), and a few English ones. Dropped from queries and from the index.
const STOP_WORDS: &[&str] = &[
    "و",
    "در",
    "از",
    "به",
    "با",
    "برای",
    "را",
    "که",
    "این",
    "ان",
    "یک",
    "ها",
    "های",
    "هایی",
    "ی",
    "می",
    "من",
    "ما",
    "تا",
    "یا",
    "هم",
    "بر",
    "چطور",
    "چطوری",
    "چگونه",
    "چه",
    "کجا",
    "چیست",
    "کنم",
    "کنیم",
    "کرد",
    "کردن",
    "شود",
    "میشه",
    "باید",
    "بگیرم",
    "بگیریم",
    "خواهم",
    "میخواهم",
    "میخوام",
    "لطفا",
    "خوام",
    "رو",
    "بدم",
    "چیکار",
    "چکار",
    "شده",
    "شدم",
    "شدیم",
    "کنن",
    "بکنم",
    "کردم",
    "کرده",
    "کنه",
    "بزنم",
    "دارم",
    "ندارم",
    "هست",
    "است",
    "the",
    "a",
    "an",
    "of",
    "for",
    "to",
    "and",
    "my",
    "how",
    "i",
    "do",
    "in",
    "on",
];

/// One word as the analyzer sees it: the joined form and, for a compound, its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The folded word with its ZWNJs removed: `گواهینامه`.
    pub joined: String,
    /// The parts of a compound written with ZWNJ (`گواهی`, `نامه`); empty for a plain word.
    pub parts: Vec<String>,
    /// Byte offsets in the original text.
    pub from: usize,
    pub to: usize,
}

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// The words of a text, folded, stop words left out.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let push = |from: usize, to: usize, out: &mut Vec<Word>| {
        let raw = &text[from..to];
        let marked: String = raw
            .chars()
            .map(|c| match c {
                '\u{200C}' | '\u{200D}' => JOINER,
                c => c,
            })
            .collect();
        let folded = fold(&marked);
        let parts: Vec<String> = folded
            .split(JOINER)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut joined: String = parts.concat();
        let mut parts = parts;
        // A colloquial spelling is read as the written word (`خونه` → `خانه`).
        if let Some(written) = crate::spoken::written(&joined) {
            joined = written.to_owned();
            parts = vec![joined.clone()];
        }
        if joined.is_empty() || is_stop_word(&joined) {
            return;
        }
        let parts = if parts.len() > 1 {
            parts.into_iter().filter(|p| !is_stop_word(p)).collect()
        } else {
            Vec::new()
        };
        out.push(Word {
            joined,
            parts,
            from,
            to,
        });
    };
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
            end = i + c.len_utf8();
        } else if let Some(s) = start.take() {
            push(s, end, &mut out);
        }
    }
    if let Some(s) = start {
        push(s, end, &mut out);
    }
    out
}

/// Letters, digits, combining marks (diacritics, the hamza above), tatweel and the joiners
/// belong to a word; everything else (spaces, punctuation, symbols) separates words.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '\u{200C}' | '\u{200D}' | 'ـ' | '\u{064B}'..='\u{065F}' | '\u{0670}'
        )
}

/// The analyzer as a tantivy tokenizer: a compound's parts share the joined word's position.
#[derive(Clone, Default)]
pub struct PersianTokenizer;

pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for PersianTokenizer {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let mut tokens = Vec::new();
        for (position, word) in words(text).into_iter().enumerate() {
            let token = |text: String| Token {
                offset_from: word.from,
                offset_to: word.to,
                position,
                text,
                position_length: 1,
            };
            tokens.push(token(word.joined.clone()));
            for part in &word.parts {
                tokens.push(token(part.clone()));
            }
        }
        Tokens { tokens, next: 0 }
    }
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.joined).collect()
    }

    #[test]
    fn every_spelling_gives_the_same_words() {
        let expected = vec!["گواهینامه".to_owned(), "رانندگی".to_owned()];
        assert_eq!(joined("گواهی‌نامهٔ رانندگی"), expected);
        assert_eq!(joined("گواهينامه رانندگي"), expected);
        assert_eq!(joined("گواهینامۀ  رانندگی؟"), expected);
        assert_eq!(joined("۱۲۳ كد"), vec!["123".to_owned(), "کد".to_owned()]);
    }

    #[test]
    fn a_compound_keeps_its_parts() {
        let w = words("گواهی‌نامه");
        assert_eq!(w[0].parts, vec!["گواهی".to_owned(), "نامه".to_owned()]);
        // "ها" is a plural ending, not a word to search by.
        let w = words("شناسنامه‌ها");
        assert_eq!(w[0].joined, "شناسنامهها");
        assert_eq!(w[0].parts, vec!["شناسنامه".to_owned()]);
    }

    #[test]
    fn stop_words_are_left_out() {
        assert_eq!(
            joined("چطور گواهینامه را تمدید کنم"),
            vec!["گواهینامه".to_owned(), "تمدید".to_owned()]
        );
    }
}
