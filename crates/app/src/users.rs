//! Accounts: created with a checked password hashed by argon2id, every creation on the record.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Utc;
use pishkhan_domain::Language;
use pishkhan_domain::id::Problem;
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::password::check_new_password;
use pishkhan_store::{
    ApiTokenRecord, CreateUserError, NewUser, SessionOwner, StoreError, UserRecord,
};

use crate::audit::{Actor, audit_entry};
use crate::auth::{AuthError, hash_password, random_token, sha256_hex};
use crate::policy::{Principal, may_grant, may_manage_user};
use crate::{App, Secret};

/// Why an account was not created; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{}", .0.en)]
    Invalid(Problem),
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    #[error("there is no {0}")]
    UnknownScope(String),
    #[error("not allowed to grant {0}")]
    NotAllowed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UserError {
    /// A message for the person at the screen.
    pub fn message(&self, lang: Language) -> String {
        let fa = lang == Language::Persian;
        match self {
            UserError::Invalid(invalid) => {
                if fa {
                    invalid.fa.clone()
                } else {
                    invalid.en.clone()
                }
            }
            UserError::UsernameTaken(name) => {
                if fa {
                    format!("نام کاربری «{name}» پیش‌تر گرفته شده است؛ نام دیگری برگزینید.")
                } else {
                    format!("The username `{name}` is taken; choose another.")
                }
            }
            UserError::UnknownScope(scope) => {
                if fa {
                    format!("«{scope}» در فهرست استان‌ها، دستگاه‌ها و دفاتر نیست.")
                } else {
                    format!("`{scope}` is not among the provinces, agencies and centres.")
                }
            }
            UserError::NotAllowed(grant) => {
                if fa {
                    format!("شما نمی‌توانید نقش «{grant}» را بدهید: بیرون از قلمرو شماست.")
                } else {
                    format!("You cannot grant `{grant}`: it is outside your scope.")
                }
            }
            UserError::Hashing(_) | UserError::Store(_) => {
                if fa {
                    "خطایی در سامانه رخ داد. دوباره امتحان کنید.".to_owned()
                } else {
                    "Something went wrong in the system. Try again.".to_owned()
                }
            }
        }
    }
}

impl From<AuthError> for UserError {
    fn from(error: AuthError) -> UserError {
        match error {
            AuthError::Invalid(invalid) => UserError::Invalid(invalid),
            AuthError::Store(e) => UserError::Store(e),
            other => UserError::Hashing(other.to_string()),
        }
    }
}

/// A username: 3 to 40 lower-case letters, digits, dots, dashes or underscores.
fn check_username(username: &str) -> Result<(), Problem> {
    let ok = (3..=40).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
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
    /// Creates an account with its first grants. The password must pass the strength rules;
    /// every scope must name a province, agency or centre that exists.
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        password: &Secret<String>,
        grants: Vec<RoleGrant>,
    ) -> Result<String, UserError> {
        self.insert_user(actor, username, display_name, password, grants, false)
            .await
    }

    async fn insert_user(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        password: &Secret<String>,
        grants: Vec<RoleGrant>,
        must_change_password: bool,
    ) -> Result<String, UserError> {
        check_username(username).map_err(UserError::Invalid)?;
        if display_name.trim().is_empty() {
            return Err(UserError::Invalid(Problem::new(
                "empty_name",
                "نام و نام خانوادگی را بنویسید.",
                "Write the person's name.",
            )));
        }
        check_new_password(password.expose(), &[username, display_name])
            .map_err(UserError::Invalid)?;
        self.check_scopes_exist(&grants).await?;
        let hash = hash_password(password).await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let grant_texts: Vec<String> = grants.iter().map(grant_text).collect();
        let audit = audit_entry(
            actor,
            "user.create",
            ("user", &id),
            serde_json::json!({ "username": username, "grants": grant_texts }),
        );
        self.store()
            .create_user(
                &NewUser {
                    id: id.clone(),
                    username: username.to_owned(),
                    display_name: display_name.trim().to_owned(),
                    password_hash: hash,
                    grants,
                    at: Utc::now(),
                    must_change_password,
                },
                &audit,
            )
            .await
            .map_err(|e| match e {
                CreateUserError::UsernameTaken(name) => UserError::UsernameTaken(name),
                CreateUserError::Store(e) => UserError::Store(e),
            })?;
        Ok(id)
    }

    async fn check_scopes_exist(&self, grants: &[RoleGrant]) -> Result<(), UserError> {
        let directory = self.store().org_directory().await?;
        let provinces = self.store().provinces().await?;
        for grant in grants {
            let known = match grant.scope() {
                Scope::Province(code) => provinces.iter().any(|p| &p.code == code),
                other => directory.knows(other),
            };
            if !known {
                return Err(UserError::UnknownScope(grant.scope().to_string()));
            }
        }
        Ok(())
    }

    /// An admin creates an account inside their scope, with a generated password the new user
    /// must change at first sign-in. Returns the id and the password (shown once).
    #[tracing::instrument(skip_all)]
    pub async fn admin_create_user(
        &self,
        admin: &Principal,
        actor: &Actor,
        username: &str,
        display_name: &str,
        grants: Vec<RoleGrant>,
    ) -> Result<(String, Secret<String>), UserError> {
        if grants.is_empty() {
            return Err(UserError::Invalid(Problem::new(
                "no_role",
                "دست‌کم یک نقش برگزینید.",
                "Choose at least one role.",
            )));
        }
        let directory = self.store().org_directory().await?;
        if let Some(grant) = grants.iter().find(|g| !may_grant(admin, g, &directory)) {
            return Err(UserError::NotAllowed(grant_text(grant)));
        }
        let password = generate_password();
        let id = self
            .insert_user(actor, username, display_name, &password, grants, true)
            .await?;
        Ok((id, password))
    }

    /// The accounts an admin may see and manage.
    pub async fn manageable_users(&self, admin: &Principal) -> Result<Vec<UserRecord>, StoreError> {
        let directory = self.store().org_directory().await?;
        Ok(self
            .store()
            .all_users()
            .await?
            .into_iter()
            .filter(|user| may_manage_user(admin, user, &directory))
            .collect())
    }

    /// One account, if the admin may manage it; `None` otherwise, exactly as for an account that
    /// does not exist. The view is recorded.
    pub async fn user_for_admin(
        &self,
        admin: &Principal,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let Some(user) = self.store().user_by_id(id).await? else {
            return Ok(None);
        };
        let directory = self.store().org_directory().await?;
        if !may_manage_user(admin, &user, &directory) {
            return Ok(None);
        }
        self.record(actor, "user.view", ("user", id), serde_json::json!({}))
            .await?;
        Ok(Some(user))
    }

    /// Resets a password to a generated one, to be changed at next sign-in; ends the user's
    /// sessions. `None` if the admin may not manage the account.
    #[tracing::instrument(skip_all, fields(user = %id))]
    pub async fn admin_reset_password(
        &self,
        admin: &Principal,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<Secret<String>>, UserError> {
        if self.user_for_admin(admin, actor, id).await?.is_none() {
            return Ok(None);
        }
        let password = generate_password();
        let hash = hash_password(&password).await?;
        let mut unit = self.store().begin_write().await?;
        unit.set_password_hash(id, &hash, true).await?;
        unit.delete_sessions_of(&SessionOwner::User(id.to_owned()))
            .await?;
        unit.audit(&audit_entry(
            actor,
            "user.password-reset",
            ("user", id),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await?;
        Ok(Some(password))
    }

    /// Disables (ending every session) or enables an account.
    #[tracing::instrument(skip_all, fields(user = %id, disabled = disabled))]
    pub async fn admin_set_disabled(
        &self,
        admin: &Principal,
        actor: &Actor,
        id: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        if self.user_for_admin(admin, actor, id).await?.is_none() {
            return Ok(false);
        }
        let mut unit = self.store().begin_write().await?;
        unit.set_disabled(id, disabled.then(Utc::now)).await?;
        if disabled {
            unit.delete_sessions_of(&SessionOwner::User(id.to_owned()))
                .await?;
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        unit.audit(&audit_entry(
            actor,
            action,
            ("user", id),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }

    /// Removes a lost second factor: the user enrols a new one at next sign-in.
    #[tracing::instrument(skip_all, fields(user = %id))]
    pub async fn admin_reset_second_factor(
        &self,
        admin: &Principal,
        actor: &Actor,
        id: &str,
    ) -> Result<bool, StoreError> {
        if self.user_for_admin(admin, actor, id).await?.is_none() {
            return Ok(false);
        }
        let mut unit = self.store().begin_write().await?;
        unit.set_totp_secret(id, None).await?;
        unit.delete_sessions_of(&SessionOwner::User(id.to_owned()))
            .await?;
        unit.audit(&audit_entry(
            actor,
            "user.second-factor-reset",
            ("user", id),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }

    /// Gives an API client (a user with the `system` role) a bearer token, shown once.
    #[tracing::instrument(skip_all)]
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        username: &str,
        label: &str,
    ) -> Result<Secret<String>, UserError> {
        let user = self
            .store()
            .user_by_username(username)
            .await?
            .ok_or_else(|| UserError::UnknownScope(format!("user `{username}`")))?;
        if !user.grants.iter().any(|g| g.role() == Role::System) {
            return Err(UserError::Invalid(Problem::new(
                "not_an_api_client",
                "توکن فقط به کاربرانی داده می‌شود که نقش «سامانهٔ دستگاه» (system) دارند.",
                "Tokens are only for users holding the `system` role.",
            )));
        }
        Ok(self.issue_api_token(actor, &user.id, label).await?.1)
    }

    /// A new token for `user_id`: its public id and the token, shown once.
    async fn issue_api_token(
        &self,
        actor: &Actor,
        user_id: &str,
        label: &str,
    ) -> Result<(String, Secret<String>), UserError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(UserError::Invalid(Problem::new(
                "token_label",
                "برای توکن نامی تا ۱۰۰ نویسه بنویسید (مثلاً نام سامانه).",
                "Give the token a name of up to 100 characters (the system's name, say).",
            )));
        }
        let token = format!("pk_{}", random_token());
        let hash = sha256_hex(&token);
        let id = pishkhan_store::api_token_id(&hash);
        let mut unit = self.store().begin_write().await?;
        unit.insert_api_token(&hash, user_id, label, Utc::now())
            .await?;
        unit.audit(&audit_entry(
            actor,
            "api-token.create",
            ("user", user_id),
            serde_json::json!({ "label": label, "token": id }),
        ))
        .await?;
        unit.commit().await?;
        Ok((id, Secret::new(token)))
    }

    /// An account by its username (for the command line).
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.store().user_by_username(username).await
    }

    /// The account an admin (`None`: the command line) may look after tokens for: one holding
    /// the `system` role that the admin may manage.
    async fn token_owner(
        &self,
        admin: Option<&Principal>,
        user_id: &str,
    ) -> Result<Option<UserRecord>, UserError> {
        let Some(user) = self.store().user_by_id(user_id).await? else {
            return Ok(None);
        };
        if !user.grants.iter().any(|g| g.role() == Role::System) {
            return Ok(None);
        }
        if let Some(admin) = admin {
            let directory = self.store().org_directory().await?;
            if !may_manage_user(admin, &user, &directory) {
                return Ok(None);
            }
        }
        Ok(Some(user))
    }

    /// An API client's tokens, for an admin who may manage it (`None` otherwise, as for an
    /// account that does not exist, or one that is not an API client).
    pub async fn api_tokens(
        &self,
        admin: Option<&Principal>,
        user_id: &str,
    ) -> Result<Option<Vec<ApiTokenRecord>>, UserError> {
        if self.token_owner(admin, user_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store().api_tokens_of(user_id).await?))
    }

    /// A new token for an API client the admin may manage: its id and the token, shown once.
    pub async fn admin_create_api_token(
        &self,
        admin: &Principal,
        actor: &Actor,
        user_id: &str,
        label: &str,
    ) -> Result<Option<(String, Secret<String>)>, UserError> {
        if self.token_owner(Some(admin), user_id).await?.is_none() {
            return Ok(None);
        }
        self.issue_api_token(actor, user_id, label).await.map(Some)
    }

    /// Stops a token at once. `Ok(false)` if there is no such token still working that the
    /// admin (`None`: the command line) may look after.
    pub async fn revoke_api_token(
        &self,
        admin: Option<&Principal>,
        actor: &Actor,
        token_id: &str,
    ) -> Result<bool, UserError> {
        let Some(token) = self.store().api_token(token_id).await? else {
            return Ok(false);
        };
        if self.token_owner(admin, &token.user_id).await?.is_none() {
            return Ok(false);
        }
        let mut unit = self.store().begin_write().await?;
        if !unit
            .revoke_api_token(token_id, &token.user_id, Utc::now())
            .await?
        {
            return Ok(false);
        }
        unit.audit(&audit_entry(
            actor,
            "api-token.revoke",
            ("user", &token.user_id),
            serde_json::json!({ "token": token_id }),
        ))
        .await?;
        unit.commit().await?;
        Ok(true)
    }

    /// Replaces a token: a new one with the same name, and the old one working for `overlap`
    /// more (so the system can switch without a gap), then no longer. `None` if there is no such
    /// token still working that the admin (`None`: the command line) may look after.
    pub async fn rotate_api_token(
        &self,
        admin: Option<&Principal>,
        actor: &Actor,
        token_id: &str,
        overlap: chrono::TimeDelta,
    ) -> Result<Option<(String, Secret<String>)>, UserError> {
        if overlap < chrono::TimeDelta::zero() || overlap > chrono::TimeDelta::days(30) {
            return Err(UserError::Invalid(Problem::new(
                "token_overlap",
                "همپوشانی توکن کهنه و تازه از صفر تا سی روز است.",
                "The overlap of the old and the new token is zero to thirty days.",
            )));
        }
        let Some(token) = self.store().api_token(token_id).await? else {
            return Ok(None);
        };
        if self.token_owner(admin, &token.user_id).await?.is_none() {
            return Ok(None);
        }
        let now = Utc::now();
        if !token.works_at(now) {
            return Ok(None);
        }
        let fresh = format!("pk_{}", random_token());
        let hash = sha256_hex(&fresh);
        let fresh_id = pishkhan_store::api_token_id(&hash);
        let mut unit = self.store().begin_write().await?;
        if !unit
            .expire_api_token(token_id, &token.user_id, now, now + overlap)
            .await?
        {
            return Ok(None);
        }
        unit.insert_api_token(&hash, &token.user_id, &token.label, now)
            .await?;
        unit.audit(&audit_entry(
            actor,
            "api-token.rotate",
            ("user", &token.user_id),
            serde_json::json!({
                "token": token_id,
                "replaced_by": fresh_id,
                "old_works_until": (now + overlap).to_rfc3339(),
            }),
        ))
        .await?;
        unit.commit().await?;
        Ok(Some((fresh_id, Secret::new(fresh))))
    }

    /// Sets a known TOTP secret for an account (the demo's accounts, so their codes can be
    /// computed from the secret it prints).
    pub async fn set_second_factor(
        &self,
        actor: &Actor,
        user_id: &str,
        secret: &pishkhan_domain::totp::TotpSecret,
    ) -> Result<(), StoreError> {
        let sealed = self
            .sealer()?
            .seal(&secret.to_base32(), &crate::sealed::totp_place(user_id));
        let mut unit = self.store().begin_write().await?;
        unit.set_totp_secret(user_id, Some(&sealed)).await?;
        unit.audit(&audit_entry(
            actor,
            "user.second-factor-enrol",
            ("user", user_id),
            serde_json::json!({}),
        ))
        .await?;
        unit.commit().await
    }
}

/// `role @ scope`, as shown and recorded.
pub fn grant_text(grant: &RoleGrant) -> String {
    format!("{} @ {}", grant.role().code(), grant.scope())
}

impl App {
    /// Names for the actors that history and audit lines record (`user:<id>`, a bare user id,
    /// `citizen:<id>`, `demo`, `cli`, `seed`, `system:<id>`), as a person reads them: the
    /// account's display name, «شهروند», «پیش‌فرض» for what the installation loaded itself.
    /// Unknown ids are named as unknown, never shown raw.
    pub async fn actor_names(
        &self,
        actors: Vec<String>,
    ) -> Result<std::collections::HashMap<String, String>, pishkhan_store::StoreError> {
        let mut names = std::collections::HashMap::new();
        for actor in &actors {
            let actor = actor.as_str();
            if names.contains_key(actor) {
                continue;
            }
            let name = match actor.split_once(':') {
                _ if matches!(actor, "demo" | "seed" | "cli" | "migration") => {
                    "پیش‌فرض (بارگذاری سامانه)".to_owned()
                }
                Some(("citizen", _)) => "شهروند".to_owned(),
                Some(("user" | "system", id)) => self.user_name(id).await?,
                None => self.user_name(actor).await?,
                Some(_) => "ناشناخته".to_owned(),
            };
            names.insert(actor.to_owned(), name);
        }
        Ok(names)
    }

    async fn user_name(&self, id: &str) -> Result<String, pishkhan_store::StoreError> {
        Ok(self
            .store()
            .user_by_id(id)
            .await?
            .map_or_else(|| "حساب ناشناخته".to_owned(), |u| u.display_name))
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
