//! Password rules for staff accounts: long enough, and not guessable. "Guessable" is judged by
//! zxcvbn, whose dictionaries come from passwords leaked in real breaches, together with the
//! user's own details (a password made of one's username is refused).

use crate::id::Problem;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// Checks a new password; `user_inputs` are the account's own words (username, name).
pub fn check_new_password(password: &str, user_inputs: &[&str]) -> Result<(), Problem> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Problem::new(
            "too_short",
            format!(
                "گذرواژه دست‌کم {} نویسه می‌خواهد؛ این {} نویسه است. یک عبارت چندکلمه‌ای به‌خاطرسپردنی بهترین گزینه است.",
                crate::text::to_persian_digits(&MIN_LENGTH.to_string()),
                crate::text::to_persian_digits(&length.to_string())
            ),
            format!(
                "A password needs at least {MIN_LENGTH} characters; this one has {length}. A memorable phrase of several words works best."
            ),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        return Err(Problem::new(
            "guessable",
            "این گذرواژه در فهرست گذرواژه‌های لورفته یا الگوهای رایج است و به‌آسانی حدس زده می‌شود. گذرواژهٔ دیگری برگزینید.",
            "This password is among leaked passwords or common patterns and is easy to guess. Choose another.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_short_and_common_passwords() {
        assert_eq!(
            check_new_password("kutah", &[]).unwrap_err().code,
            "too_short"
        );
        for common in [
            "password1234",
            "qwertyuiop123",
            "iloveyou12345",
            "123456789012",
        ] {
            assert_eq!(
                check_new_password(common, &[]).unwrap_err().code,
                "guessable",
                "{common}"
            );
        }
        assert_eq!(
            check_new_password("maryam.ahmadi1", &["maryam.ahmadi"])
                .unwrap_err()
                .code,
            "guessable",
            "made of the user's own name"
        );
    }

    #[test]
    fn accepts_a_long_phrase() {
        assert!(check_new_password("tabriz-bazaar-morning-tea", &["maryam"]).is_ok());
        assert!(check_new_password("گذرواژهٔ بلند و به‌یادماندنی من", &[]).is_ok());
    }
}
