//! People type as they speak: colloquial forms (`خونه`, `ساختمون`, `اومده`), the endings speech
//! glues to a word (`شناسنامه‌ام`, `گواهینامم`, `برقمو`), and Persian in Latin letters
//! (`shenasname`, `govahiname`). This module turns each into the written word the cards use.
//!
//! Two layers. [`written`] is a fixed table of colloquial spellings, applied by the analyzer to
//! cards, queries and synonym rules alike (so a rule may be written either way). [`stems`] and
//! [`skeleton`] need to know which words the catalogue holds, so the index applies them to
//! queries only: a word the catalogue does not know loses a spoken ending when what remains is
//! a word it knows; a Latin word is matched to the Persian words whose consonants it spells.

use std::collections::HashMap;
use std::sync::OnceLock;

use pishkhan_domain::text::fold;

/// Colloquial spelling → written word. Pronunciation only (`خونه` is `خانه`); what a phrase
/// *means* (`برق رفته` is an outage) belongs to the synonyms an admin edits.
const COLLOQUIAL: &[(&str, &str)] = &[
    ("خونه", "خانه"),
    ("خونمون", "خانه"),
    ("ساختمون", "ساختمان"),
    ("اومده", "آمده"),
    ("اومد", "آمد"),
    ("اومدم", "آمدم"),
    ("کوچیک", "کوچک"),
    ("کوچیکم", "کوچک"),
    ("تموم", "تمام"),
    ("داره", "دارد"),
    ("نداره", "ندارد"),
    ("بسازم", "ساخت"),
    ("بسازیم", "ساخت"),
    ("ساختن", "ساخت"),
    ("فروختم", "فروش"),
    ("فروختیم", "فروش"),
    ("بفروشم", "فروش"),
    ("خریدم", "خرید"),
    ("خریدیم", "خرید"),
    ("بخرم", "خرید"),
    ("دزدیدن", "دزدیده"),
    ("مرده", "فوت"),
    ("پاره", "فرسوده"),
    ("کاسبی", "کسب"),
    ("کاسب", "کسب"),
    ("کاسبها", "کسب"),
    ("اجازه", "مجوز"),
    ("کنتورو", "کنتور"),
    ("آبو", "آب"),
    ("برقو", "برق"),
    ("گازو", "گاز"),
];

fn colloquial() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        COLLOQUIAL
            .iter()
            .map(|(spoken, written)| (fold(spoken), fold(written).replace(' ', "")))
            .collect()
    })
}

/// The written form of a folded colloquial word, if it is one.
pub fn written(folded: &str) -> Option<&'static str> {
    colloquial().get(folded).map(String::as_str)
}

/// Endings speech glues to a word: possessives (`ام`, `م`, `مون` …) and the object marker
/// (`رو`, `و`), longest first.
const ENDINGS: &[&str] = &[
    "هامون",
    "هاتون",
    "هاشون",
    "امو",
    "مونو",
    "مون",
    "تون",
    "شون",
    "مو",
    "رو",
    "ام",
    "ات",
    "اش",
    "یم",
    "م",
    "ت",
    "ش",
    "و",
    "ه",
];

/// The words a spoken word may stand for, most likely first: itself, and each stem left when a
/// spoken ending is taken off (a stem ending in `ه` may have lost it: `گواهینامم` →
/// `گواهینامه`). Stems shorter than two letters are not offered.
pub fn stems(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for ending in ENDINGS {
        let Some(stem) = word.strip_suffix(ending) else {
            continue;
        };
        if stem.chars().count() < 2 {
            continue;
        }
        out.push(stem.to_owned());
        if !stem.ends_with('ه') {
            out.push(format!("{stem}ه"));
        }
    }
    out
}

/// Is the word written in Latin letters (Finglish, or English)?
pub fn is_latin(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '\'')
}

/// The consonants a word spells, in one alphabet for both scripts, so a Persian word and its
/// Latin spelling meet: short vowels are not written in Persian and long ones are written in
/// many ways in Latin, so every vowel (and the letters that double as vowels: `ا و ی ع`, a final
/// `ه`; `a e i o u v w y`) is left out, letters that sound alike share a class (`س ص ث` = s,
/// `ز ذ ض ظ` = z, `ت ط` = t, `ح ه` = h, `غ ق` = q), and a doubled consonant counts once.
pub fn skeleton(word: &str) -> String {
    let mut classes: Vec<char> = Vec::with_capacity(word.len());
    if is_latin(word) {
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            let (class, width) = match (c, next) {
                ('s', Some('h')) => (Some('S'), 2),
                ('c', Some('h')) => (Some('C'), 2),
                ('k', Some('h')) => (Some('x'), 2),
                ('g', Some('h')) => (Some('q'), 2),
                ('a' | 'e' | 'i' | 'o' | 'u' | 'v' | 'w' | 'y' | '\'', _) => (None, 1),
                ('c', _) => (Some('k'), 1),
                ('q', _) => (Some('q'), 1),
                ('x', _) => (Some('x'), 1),
                (c, _) if c.is_ascii_alphabetic() => (Some(c), 1),
                _ => (None, 1),
            };
            if let Some(class) = class {
                classes.push(class);
            }
            i += width;
        }
    } else {
        let chars: Vec<char> = word.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let last = i + 1 == chars.len();
            let class = match c {
                'ب' => Some('b'),
                'پ' => Some('p'),
                'ت' | 'ط' => Some('t'),
                'ث' | 'س' | 'ص' => Some('s'),
                'ج' => Some('j'),
                'چ' => Some('C'),
                'ح' => Some('h'),
                'ه' if !last => Some('h'),
                'خ' => Some('x'),
                'د' => Some('d'),
                'ذ' | 'ز' | 'ض' | 'ظ' => Some('z'),
                'ر' => Some('r'),
                'ش' => Some('S'),
                'غ' | 'ق' => Some('q'),
                'ف' => Some('f'),
                'ک' => Some('k'),
                'گ' => Some('g'),
                'ل' => Some('l'),
                'م' => Some('m'),
                'ن' => Some('n'),
                c if c.is_ascii_digit() => Some(c),
                _ => None,
            };
            if let Some(class) = class {
                classes.push(class);
            }
            // `ژ` is written `zh` in Latin, as `ظه` is: both read z, h.
            if c == 'ژ' {
                classes.extend(['z', 'h']);
            }
        }
    }
    classes.dedup();
    classes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latin_spelling_and_the_persian_word_share_a_skeleton() {
        for (latin, persian) in [
            ("shenasname", "شناسنامه"),
            ("govahiname", "گواهینامه"),
            ("khalafi", "خلافی"),
            ("bargh", "برق"),
            ("ghabz", "قبض"),
            ("tamdid", "تمدید"),
            ("ezharname", "اظهارنامه"),
            ("avarez", "عوارض"),
            ("pelak", "پلاک"),
            ("telefon", "تلفن"),
        ] {
            assert_eq!(
                skeleton(latin),
                skeleton(&fold(persian)),
                "{latin} / {persian}"
            );
        }
        assert_ne!(skeleton("bargh"), skeleton(&fold("آب")));
    }

    #[test]
    fn spoken_endings_leave_the_written_stem() {
        assert!(stems(&fold("گواهینامم")).contains(&fold("گواهینامه")));
        assert!(stems(&fold("برقمو")).contains(&fold("برق")));
        assert!(stems(&fold("اسمم")).contains(&fold("اسم")));
        assert!(stems("ab").is_empty() || stems("ab").iter().all(|s| s.chars().count() >= 2));
        assert_eq!(written(&fold("خونه")), Some("خانه"));
        assert_eq!(written(&fold("ساختمون")), Some("ساختمان"));
        assert_eq!(written("خانه"), None);
    }
}
