//! Iranian identifiers as types that can only be built valid: `NationalId::parse` and friends.
//!
//! Every parser accepts what people type: Persian or Arabic-Indic digits, spaces, dashes and
//! invisible bidi marks. A rejection says precisely why, as an [`Problem`] with a stable code (for
//! machines) and a message in Persian and English (for people). Things worth a second look that
//! do not make a value invalid (an unknown mobile operator, say) are [`Notice`]s.
//! The algorithms are those of `FORMATS.md`; where we differ from the reference implementation
//! (`@persian-tools/persian-tools`) on purpose, the module says so.

mod bill;
mod legal_id;
mod mobile;
mod national_id;
mod plate;
mod postal_code;
mod sheba;

pub use bill::{
    BillCheck, BillId, BillServiceType, PaymentId, inspect_bill, issue_bill, split_barcode,
};
pub use legal_id::LegalId;
pub use mobile::{MobileNumber, MobileOperator};
pub use national_id::NationalId;
pub use plate::{PlateCategory, VehiclePlate};
pub use postal_code::PostalCode;
pub use sheba::Sheba;

use crate::text::{digit_value, is_bidi_control};

/// Why a value was refused: a stable code and a message a person can act on.
pub use crate::problem::Problem;

/// Something worth a second look that does not make the value invalid.
pub type Notice = Problem;

/// Strips what people type around the digits (white space, dashes, bidi marks), turns Persian and
/// Arabic-Indic digits into ASCII, and refuses anything else. `what` names the value in Persian
/// and English for the messages.
pub(crate) fn digits_only(input: &str, what: (&str, &str)) -> Result<String, Problem> {
    let mut digits = String::with_capacity(input.len());
    for c in input.chars() {
        if c.is_whitespace() || is_separator(c) || is_bidi_control(c) {
            continue;
        }
        match digit_value(c) {
            Some(d) => digits.push(char::from(b'0' + d)),
            None => {
                return Err(Problem::new(
                    "not_digits",
                    format!("{} فقط باید رقم داشته باشد؛ «{c}» رقم نیست.", what.0),
                    format!(
                        "The {} may contain digits only; “{c}” is not a digit.",
                        what.1
                    ),
                ));
            }
        }
    }
    if digits.is_empty() {
        return Err(Problem::new(
            "empty",
            format!("{} را وارد کنید.", what.0),
            format!("Enter the {}.", what.1),
        ));
    }
    Ok(digits)
}

/// Dashes and similar marks people put between groups of digits.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '‐' | '‑' | '–' | '—' | '_' | '.' | '/' | '\u{200C}' | 'ـ'
    )
}

pub(crate) fn wrong_length(
    what: (&str, &str),
    expected: &str,
    expected_en: &str,
    got: usize,
) -> Problem {
    Problem::new(
        "wrong_length",
        format!(
            "{} باید {expected} رقم باشد؛ {} رقم وارد شده است.",
            what.0,
            crate::text::to_persian_digits(&got.to_string())
        ),
        format!(
            "The {} must have {expected_en} digits; {got} were entered.",
            what.1
        ),
    )
}

/// The digit at `i` of an ASCII-digit string.
pub(crate) fn nth(digits: &str, i: usize) -> u32 {
    digits
        .as_bytes()
        .get(i)
        .map_or(0, |b| u32::from(b.saturating_sub(b'0')))
}
