//! Persian text: digits, folding for search and comparison, and number formatting.
//!
//! People type Persian with Arabic keyboards (ي ك), with or without the zero-width non-joiner
//! (می‌خواهم, میخواهم, می خواهم), with diacritics or tatweel, and with Persian, Arabic-Indic or ASCII
//! digits. [`fold`] maps all of these to one form, so that two spellings a person would call the
//! same compare equal.

/// Persian digits ۰…۹ (U+06F0…U+06F9).
const PERSIAN_DIGITS: [char; 10] = ['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'];

/// The digit value of an ASCII, Persian (۰–۹) or Arabic-Indic (٠–٩) digit.
pub fn digit_value(c: char) -> Option<u8> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
        '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
        _ => return None,
    };
    u8::try_from(value).ok()
}

/// Replaces Persian and Arabic-Indic digits with ASCII digits; everything else is kept.
pub fn to_ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from(b'0' + d),
            None => c,
        })
        .collect()
}

/// Replaces ASCII and Arabic-Indic digits with Persian digits; everything else is kept.
pub fn to_persian_digits(text: &str) -> String {
    text.chars()
        .map(|c| match digit_value(c) {
            Some(d) => PERSIAN_DIGITS[usize::from(d)],
            None => c,
        })
        .collect()
}

/// Bidirectional control characters that copy-paste and some keyboards insert invisibly.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Folds Persian text for search and comparison:
/// - Arabic letters to their Persian forms: ي ى ئ → ی, ك → ک, ة ۀ → ه;
/// - hamza forms people type inconsistently: أ إ آ ٱ → ا, ؤ → و; a lone hamza (ء) and the combining
///   hamza are dropped;
/// - diacritics (fatha … sukun, superscript alef) and tatweel (ـ) are removed;
/// - every digit becomes ASCII;
/// - the zero-width non-joiner and joiner, and every run of white space, become one space; bidi
///   controls vanish; the ends are trimmed;
/// - Latin letters are lowercased.
///
/// Folding is idempotent: `fold(fold(x)) == fold(x)`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let mapped = match c {
            'ي' | 'ى' | 'ئ' | 'ې' => Some('ی'),
            'ك' => Some('ک'),
            'ة' | 'ۀ' | 'ە' => Some('ه'),
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ؤ' => Some('و'),
            'ء' | '\u{0654}' | '\u{0655}' | 'ـ' => None,
            '\u{064B}'..='\u{065F}' | '\u{0670}' => None,
            c if is_bidi_control(c) => None,
            '\u{200C}' | '\u{200D}' => {
                pending_space = true;
                None
            }
            c if c.is_whitespace() => {
                pending_space = true;
                None
            }
            c => match digit_value(c) {
                Some(d) => Some(char::from(b'0' + d)),
                None => Some(c),
            },
        };
        if let Some(c) = mapped {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Which digits a formatted number uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// Persian digits, grouped with the Arabic thousands separator: ۱۲٬۳۴۵٬۶۷۸
    Persian,
    /// ASCII digits, grouped with commas: 12,345,678
    Ascii,
}

/// Formats an integer with thousands grouping: `1234567` → `۱٬۲۳۴٬۵۶۷` or `1,234,567`.
pub fn format_integer(value: i64, digits: Digits) -> String {
    let separator = match digits {
        Digits::Persian => '٬',
        Digits::Ascii => ',',
    };
    let plain = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(plain.len() + plain.len() / 3 + 1);
    if value < 0 {
        grouped.push('-');
    }
    for (i, c) in plain.chars().enumerate() {
        if i > 0 && (plain.len() - i).is_multiple_of(3) {
            grouped.push(separator);
        }
        grouped.push(c);
    }
    match digits {
        Digits::Persian => to_persian_digits(&grouped),
        Digits::Ascii => grouped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_convert_both_ways() {
        assert_eq!(to_ascii_digits("۱۴۰۴/۰۱/۱۵"), "1404/01/15");
        assert_eq!(to_ascii_digits("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(to_persian_digits("1404/01/15"), "۱۴۰۴/۰۱/۱۵");
        assert_eq!(to_persian_digits("٣ and 4"), "۳ and ۴");
    }

    #[test]
    fn folding_unifies_what_people_type() {
        assert_eq!(fold("گواهينامه"), fold("گواهی‌نامه").replace(' ', ""));
        assert_eq!(fold("كد ملي"), "کد ملی");
        assert_eq!(fold("می‌خواهم"), "می خواهم");
        assert_eq!(fold("می  \u{200C} خواهم"), "می خواهم");
        assert_eq!(fold("مَدرِسه"), "مدرسه");
        assert_eq!(fold("كتابــخانه"), "کتابخانه");
        assert_eq!(fold("خانهٔ"), "خانه");
        assert_eq!(fold("خانۀ"), "خانه");
        assert_eq!(fold("مسئله"), fold("مسیله"));
        assert_eq!(fold("مؤسسه"), "موسسه");
        assert_eq!(fold("آب"), "اب");
        assert_eq!(fold("إسلام"), "اسلام");
        assert_eq!(fold("  ۱۲۳ Abc\u{200F} "), "123 abc");
    }

    #[test]
    fn formats_grouped_numbers() {
        assert_eq!(format_integer(0, Digits::Persian), "۰");
        assert_eq!(format_integer(999, Digits::Ascii), "999");
        assert_eq!(format_integer(1000, Digits::Ascii), "1,000");
        assert_eq!(format_integer(1_234_567, Digits::Persian), "۱٬۲۳۴٬۵۶۷");
        assert_eq!(format_integer(-45_000, Digits::Ascii), "-45,000");
        assert_eq!(
            format_integer(i64::MIN, Digits::Ascii),
            "-9,223,372,036,854,775,808"
        );
    }
}
