//! Accounts: created with a checked password hashed by argon2id, every creation on the record.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::Utc;
use pishkhan_domain::id::Invalid;
use pishkhan_domain::identity::RoleGrant;
use pishkhan_domain::password::check_new_password;
use pishkhan_store::{CreateUserError, NewUser, StoreError};

use crate::audit::Actor;
use crate::{App, Secret};

/// Why an account was not created; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{}", .0.en)]
    Invalid(Invalid),
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A username: 3 to 40 lower-case letters, digits, dots, dashes or underscores.
fn check_username(username: &str) -> Result<(), Invalid> {
    let ok = (3..=40).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            "bad_username",
            "نام کاربری ۳ تا ۴۰ نویسه است: حروف کوچک انگلیسی، رقم، نقطه، خط تیره یا زیرخط.",
            "A username has 3 to 40 characters: lower-case letters, digits, dots, dashes or underscores.",
        ))
    }
}

/// A random password that is easy to read aloud and type: four groups of four characters from an
/// alphabet without look-alikes (no 0/o, 1/l).
pub fn generate_password() -> Secret<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    Secret::new(groups.join("-"))
}

impl App {
    /// Creates an account with its first grants. The password must pass the strength rules.
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        password: &Secret<String>,
        grants: Vec<RoleGrant>,
    ) -> Result<String, UserError> {
        check_username(username).map_err(UserError::Invalid)?;
        if display_name.trim().is_empty() {
            return Err(UserError::Invalid(Invalid::new(
                "empty_name",
                "نام و نام خانوادگی را بنویسید.",
                "Write the person's name.",
            )));
        }
        check_new_password(password.expose(), &[username, display_name])
            .map_err(UserError::Invalid)?;
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|e| UserError::Hashing(e.to_string()))?
            .to_string();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let grant_texts: Vec<String> = grants
            .iter()
            .map(|g| format!("{} @ {}", g.role().code(), g.scope()))
            .collect();
        self.store()
            .create_user(&NewUser {
                id: id.clone(),
                username: username.to_owned(),
                display_name: display_name.trim().to_owned(),
                password_hash: hash,
                grants,
                at: Utc::now(),
            })
            .await
            .map_err(|e| match e {
                CreateUserError::UsernameTaken(name) => UserError::UsernameTaken(name),
                CreateUserError::Store(e) => UserError::Store(e),
            })?;
        self.record(
            actor,
            "user.create",
            ("user", &id),
            serde_json::json!({ "username": username, "grants": grant_texts }),
        )
        .await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_pass_the_rules() {
        for _ in 0..20 {
            let password = generate_password();
            assert_eq!(password.expose().len(), 19);
            check_new_password(password.expose(), &["admin"]).unwrap();
        }
    }

    #[test]
    fn usernames_are_plain() {
        assert!(check_username("m.ahmadi").is_ok());
        assert!(check_username("Ab").is_err());
        assert!(check_username("مریم").is_err());
    }
}
