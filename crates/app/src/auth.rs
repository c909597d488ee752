//! Signing in and staying signed in: staff by password and second factor, citizens by a code
//! sent to their mobile; sessions in the database; limits on guessing; consent codes for
//! assisted filing.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, TimeDelta, Utc};
use pishkhan_domain::Language;
use pishkhan_domain::id::{Invalid, MobileNumber, NationalId};
use pishkhan_domain::identity::Scope;
use pishkhan_domain::totp::{TotpSecret, constant_time_eq};
use pishkhan_store::{
    Attempt, CitizenRecord, CodeRecord, ConsentRecord, Limit, SessionOwner, SessionRecord,
    StoreError,
};
use sha2::{Digest, Sha256};

use crate::audit::Actor;
use crate::policy::{Principal, counter_centres};
use crate::sms::{SmsError, SmsMessage};
use crate::{App, Secret};

/// How long a one-time code sent by SMS stays good.
pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(3);
/// Tries allowed at one code.
pub const CODE_TRIES: i64 = 5;
/// How long a consent lets an operator file for the citizen.
pub const CONSENT_LIFETIME: TimeDelta = TimeDelta::hours(2);
/// Wrong passwords accepted per account per minute; the next is refused without checking.
pub const PASSWORDS_PER_MINUTE: i64 = 5;
/// Wrong passwords per account per quarter hour before the account is locked for the rest of it.
pub const PASSWORDS_PER_QUARTER_HOUR: i64 = 10;

/// Where a request came from (for the audit log and the limiters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// How far sign-in has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Full,
    /// Password accepted; the TOTP code is owed.
    SecondFactor,
    /// Password accepted; the role needs a second factor and none is enrolled yet.
    EnrolSecondFactor,
    /// An admin reset the password: a new one is owed.
    ChangePassword,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::SecondFactor => "second-factor",
            Stage::EnrolSecondFactor => "enrol-second-factor",
            Stage::ChangePassword => "change-password",
        }
    }

    fn from_code(code: &str) -> Option<Stage> {
        [
            Stage::Full,
            Stage::SecondFactor,
            Stage::EnrolSecondFactor,
            Stage::ChangePassword,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A live session, resolved to its principal.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub csrf: String,
    pub stage: Stage,
    pub principal: Principal,
    pub pending_secret: Option<TotpSecret>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// The principal, once sign-in is complete.
    pub fn signed_in(&self) -> Option<&Principal> {
        (self.stage == Stage::Full).then_some(&self.principal)
    }

    pub fn actor(&self, client: &Client) -> Actor {
        Actor {
            id: self.principal.actor_id(),
            source: client.ip.clone(),
        }
    }
}

/// A session just created: the token goes in the cookie, and nowhere else.
#[derive(Debug)]
pub struct NewSession {
    pub token: Secret<String>,
    pub session: Session,
}

/// A code was sent; the person types it next.
#[derive(Debug, Clone)]
pub struct CodeTicket {
    pub code_id: String,
    /// The number it went to, with the middle hidden: `0912***4567`.
    pub masked_mobile: String,
    pub expires_at: DateTime<Utc>,
}

/// Why sign-in (or a consent) did not go through. Nothing was changed but the attempt counters.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("too many attempts; try again at {retry_at}")]
    Throttled { retry_at: DateTime<Utc> },
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("wrong code ({tries_left} tries left)")]
    WrongCode { tries_left: i64 },
    #[error("wrong or already used authenticator code")]
    WrongSecondFactor,
    #[error("the code has expired or was used")]
    CodeExpired,
    #[error("the mobile number is not the one registered for this national ID")]
    MobileMismatch,
    #[error("{}", .0.en)]
    Invalid(Invalid),
    #[error("not allowed")]
    NotAllowed,
    #[error("the message could not be sent: {0}")]
    Sms(#[from] SmsError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// A message for the person at the screen.
    pub fn message(&self, lang: Language) -> String {
        let fa = lang == Language::Persian;
        match self {
            AuthError::Throttled { retry_at } => {
                let seconds = (*retry_at - Utc::now()).num_seconds().max(1);
                let minutes = (seconds + 59) / 60;
                if fa {
                    format!(
                        "تلاش‌های ناموفق زیاد بود. برای امنیت حساب، {} دقیقهٔ دیگر دوباره امتحان کنید.",
                        pishkhan_domain::text::to_persian_digits(&minutes.to_string())
                    )
                } else {
                    format!(
                        "Too many failed attempts. For the account's safety, try again in {minutes} minute(s)."
                    )
                }
            }
            AuthError::WrongCredentials => pick(
                fa,
                "نام کاربری یا گذرواژه درست نیست.",
                "The username or password is wrong.",
            ),
            AuthError::AccountDisabled => pick(
                fa,
                "این حساب غیرفعال شده است. با مدیر واحد خود تماس بگیرید.",
                "This account is disabled. Contact your unit's administrator.",
            ),
            AuthError::WrongCode { tries_left } => {
                if fa {
                    format!(
                        "کد درست نیست. {} بار دیگر می‌توانید امتحان کنید.",
                        pishkhan_domain::text::to_persian_digits(&tries_left.to_string())
                    )
                } else {
                    format!("The code is wrong. You can try {tries_left} more time(s).")
                }
            }
            AuthError::WrongSecondFactor => pick(
                fa,
                "کد برنامهٔ احراز هویت درست نیست یا پیش‌تر به کار رفته است. کد تازه‌ای را که برنامه نشان می‌دهد وارد کنید.",
                "The authenticator code is wrong or was already used. Enter the new code your app shows.",
            ),
            AuthError::CodeExpired => pick(
                fa,
                "این کد منقضی یا پیش‌تر استفاده شده است. کد تازه بخواهید.",
                "This code has expired or was already used. Ask for a new one.",
            ),
            AuthError::MobileMismatch => pick(
                fa,
                "این شمارهٔ همراه با شمارهٔ ثبت‌شده برای این کد ملی یکی نیست. با همان شماره‌ای وارد شوید که نخستین بار ثبت کردید.",
                "This mobile number is not the one registered for this national ID. Use the number you registered first.",
            ),
            AuthError::Invalid(invalid) => {
                if fa {
                    invalid.fa.clone()
                } else {
                    invalid.en.clone()
                }
            }
            AuthError::NotAllowed => pick(
                fa,
                "شما اجازهٔ این کار را ندارید.",
                "You are not allowed to do this.",
            ),
            AuthError::Sms(_) => pick(
                fa,
                "فرستادن پیامک ممکن نشد. یک دقیقهٔ دیگر دوباره امتحان کنید.",
                "The text message could not be sent. Try again in a minute.",
            ),
            AuthError::Hashing(_) | AuthError::Store(_) => pick(
                fa,
                "خطایی در سامانه رخ داد. دوباره امتحان کنید.",
                "Something went wrong in the system. Try again.",
            ),
        }
    }

    /// A stable code for JSON answers and tests.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Throttled { .. } => "throttled",
            AuthError::WrongCredentials => "wrong_credentials",
            AuthError::AccountDisabled => "account_disabled",
            AuthError::WrongCode { .. } => "wrong_code",
            AuthError::WrongSecondFactor => "wrong_second_factor",
            AuthError::CodeExpired => "code_expired",
            AuthError::MobileMismatch => "mobile_mismatch",
            AuthError::Invalid(invalid) => invalid.code,
            AuthError::NotAllowed => "not_allowed",
            AuthError::Sms(_) => "sms_failed",
            AuthError::Hashing(_) | AuthError::Store(_) => "internal",
        }
    }
}

fn pick(fa: bool, persian: &str, english: &str) -> String {
    if fa { persian } else { english }.to_owned()
}

/// 32 random bytes, URL-safe base64.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// A token for an anonymous visitor's forms (the CSRF cookie).
pub fn random_csrf_token() -> String {
    random_token()
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn six_digits() -> String {
    // Rejection sampling keeps every code equally likely.
    loop {
        let value = OsRng.next_u32();
        if value < 4_294_000_000 {
            return format!("{:06}", value % 1_000_000);
        }
    }
}

fn code_hash(code_id: &str, code: &str) -> String {
    sha256_hex(&format!("{code_id}:{code}"))
}

/// `+989121234567` → `0912***4567`.
pub fn mask_mobile(e164: &str) -> String {
    let local = e164
        .strip_prefix("+98")
        .map_or(e164.to_owned(), |rest| format!("0{rest}"));
    if local.len() == 11 {
        format!("{}***{}", &local[..4], &local[7..])
    } else {
        "***".to_owned()
    }
}

/// An argon2id hash of a password nobody knows, checked when the username does not exist, so a
/// wrong username takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(random_token().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn throttled(attempt: Attempt) -> Result<(), AuthError> {
    match attempt {
        Attempt::Allowed => Ok(()),
        Attempt::Refused { retry_at, .. } => Err(AuthError::Throttled { retry_at }),
    }
}

fn limit(key: String, max: i64, window: TimeDelta) -> Limit {
    Limit {
        key,
        max,
        window_ms: window.num_milliseconds(),
    }
}

/// Hashes a new password with argon2id (off the async threads: it takes a while on purpose).
pub(crate) async fn hash_password(password: &Secret<String>) -> Result<String, AuthError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))?
}

impl App {
    /// How many times a password was checked against its argon2 hash since start (for metrics,
    /// and for proving that refused attempts are refused before the hash is touched).
    pub fn password_checks(&self) -> u64 {
        self.inner.password_checks.load(Ordering::Relaxed)
    }

    async fn verify_password(&self, hash: String, password: &Secret<String>) -> bool {
        self.inner.password_checks.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false)
    }

    /// Staff sign-in, first step. Every attempt is counted before the password is checked; once
    /// an account has [`PASSWORDS_PER_MINUTE`] attempts in the last minute (or
    /// [`PASSWORDS_PER_QUARTER_HOUR`] in the last quarter hour), further attempts are refused
    /// without touching the hash.
    pub async fn staff_sign_in(
        &self,
        username: &str,
        password: &Secret<String>,
        client: &Client,
    ) -> Result<NewSession, AuthError> {
        let username = username.trim().to_lowercase();
        let now = Utc::now();
        let minute_key = format!("password:{username}");
        let quarter_key = format!("password-15m:{username}");
        let attempt = self
            .store()
            .take_attempt(
                &[
                    limit(
                        minute_key.clone(),
                        PASSWORDS_PER_MINUTE,
                        TimeDelta::minutes(1),
                    ),
                    limit(
                        quarter_key.clone(),
                        PASSWORDS_PER_QUARTER_HOUR,
                        TimeDelta::minutes(15),
                    ),
                    limit(
                        format!("password-ip:{}", client.ip),
                        60,
                        TimeDelta::minutes(1),
                    ),
                ],
                now,
            )
            .await?;
        if let Err(refused) = throttled(attempt) {
            self.record(
                &Actor {
                    id: format!("anonymous:{username}"),
                    source: client.ip.clone(),
                },
                "session.sign-in-refused",
                ("user", &username),
                serde_json::json!({ "reason": "throttled" }),
            )
            .await?;
            return Err(refused);
        }
        let user = self.store().user_by_username(&username).await?;
        let hash = match &user {
            Some(user) => self
                .store()
                .password_hash(&user.id)
                .await?
                .unwrap_or_default(),
            None => decoy_hash().to_owned(),
        };
        let matches = self.verify_password(hash, password).await;
        let Some(user) = user.filter(|_| matches) else {
            self.record(
                &Actor {
                    id: format!("anonymous:{username}"),
                    source: client.ip.clone(),
                },
                "session.sign-in-failed",
                ("user", &username),
                serde_json::json!({ "reason": "wrong_credentials" }),
            )
            .await?;
            return Err(AuthError::WrongCredentials);
        };
        self.store().clear_attempts(&minute_key).await?;
        self.store().clear_attempts(&quarter_key).await?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        if is_api_client_only(&user) {
            // An agency system's account works with its API token, never through pages.
            return Err(AuthError::NotAllowed);
        }
        let needs_factor = user
            .grants
            .iter()
            .any(|g| g.role().requires_second_factor());
        let (stage, pending) = if user.has_second_factor {
            (Stage::SecondFactor, None)
        } else if needs_factor {
            (Stage::EnrolSecondFactor, Some(new_totp_secret()))
        } else if user.must_change_password {
            (Stage::ChangePassword, None)
        } else {
            (Stage::Full, None)
        };
        let actor = Actor {
            id: format!("user:{}", user.id),
            source: client.ip.clone(),
        };
        let created = self
            .open_session(
                SessionOwner::User(user.id.clone()),
                stage,
                pending,
                client,
                now,
                None,
            )
            .await?;
        self.record(
            &actor,
            "session.sign-in",
            ("user", &user.id),
            serde_json::json!({ "stage": stage.code(), "user_agent": client.user_agent }),
        )
        .await?;
        Ok(created)
    }

    /// Creates a session. `absolute_from` keeps the original sign-in time across rotations.
    async fn open_session(
        &self,
        owner: SessionOwner,
        stage: Stage,
        pending_secret: Option<TotpSecret>,
        client: &Client,
        now: DateTime<Utc>,
        absolute_from: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<NewSession, AuthError> {
        let token = random_token();
        let (created_at, expires_at) = absolute_from.unwrap_or((
            now,
            now + TimeDelta::from_std(self.config().session_absolute_timeout)
                .unwrap_or(TimeDelta::hours(12)),
        ));
        let record = SessionRecord {
            token_hash: sha256_hex(&token),
            owner,
            stage: stage.code().to_owned(),
            csrf: random_token(),
            created_at,
            last_seen_at: now,
            expires_at,
            ip: client.ip.clone(),
            user_agent: client.user_agent.chars().take(300).collect(),
            pending_secret: pending_secret.as_ref().map(TotpSecret::to_base32),
        };
        self.store().insert_session(&record).await?;
        let session = self.resolve(record).await?.ok_or(AuthError::NotAllowed)?;
        Ok(NewSession {
            token: Secret::new(token),
            session,
        })
    }

    /// Turns a stored session into a live one, or `None` if its owner is gone or disabled.
    async fn resolve(&self, record: SessionRecord) -> Result<Option<Session>, StoreError> {
        let Some(stage) = Stage::from_code(&record.stage) else {
            return Ok(None);
        };
        let principal = match &record.owner {
            SessionOwner::User(id) => match self.store().user_by_id(id).await? {
                Some(user) if !user.disabled && !is_api_client_only(&user) => {
                    Principal::Staff(user)
                }
                _ => return Ok(None),
            },
            SessionOwner::Citizen(id) => match self.store().citizen_by_id(id).await? {
                Some(citizen) => Principal::Citizen(citizen),
                None => return Ok(None),
            },
        };
        Ok(Some(Session {
            token_hash: record.token_hash,
            csrf: record.csrf,
            stage,
            principal,
            pending_secret: record
                .pending_secret
                .as_deref()
                .and_then(TotpSecret::from_base32),
            created_at: record.created_at,
            expires_at: record.expires_at,
        }))
    }

    /// The live session a cookie's token names: `None` if unknown, past its absolute expiry,
    /// idle too long, or its owner is disabled (an ended session is deleted).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let token_hash = sha256_hex(token);
        let Some(record) = self.store().session(&token_hash).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let idle = TimeDelta::from_std(self.config().session_idle_timeout)
            .unwrap_or(TimeDelta::minutes(30));
        if record.expires_at <= now || now - record.last_seen_at > idle {
            self.store().delete_session(&token_hash).await?;
            return Ok(None);
        }
        // Note activity at most every minute (or a tenth of the idle timeout, if shorter).
        let touch_every = std::cmp::min(TimeDelta::minutes(1), idle / 10);
        if now - record.last_seen_at >= touch_every {
            self.store().touch_session(&token_hash, now).await?;
        }
        let resolved = self.resolve(record).await?;
        if resolved.is_none() {
            self.store().delete_session(&token_hash).await?;
        }
        Ok(resolved)
    }

    /// Moves a session to its next stage under a new token (the old one stops working).
    async fn rotate(
        &self,
        session: &Session,
        stage: Stage,
        pending: Option<TotpSecret>,
        client: &Client,
    ) -> Result<NewSession, AuthError> {
        let owner = match &session.principal {
            Principal::Citizen(c) => SessionOwner::Citizen(c.id.clone()),
            Principal::Staff(u) | Principal::System(u) => SessionOwner::User(u.id.clone()),
        };
        let created = self
            .open_session(
                owner,
                stage,
                pending,
                client,
                Utc::now(),
                Some((session.created_at, session.expires_at)),
            )
            .await?;
        self.store().delete_session(&session.token_hash).await?;
        Ok(created)
    }

    /// The stage after the second factor (or its enrolment).
    fn after_second_factor(session: &Session) -> Stage {
        match &session.principal {
            Principal::Staff(user) if user.must_change_password => Stage::ChangePassword,
            _ => Stage::Full,
        }
    }

    /// Second step for staff with a second factor: the code from their authenticator app.
    pub async fn verify_second_factor(
        &self,
        session: &Session,
        code: &str,
        client: &Client,
    ) -> Result<NewSession, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        if session.stage != Stage::SecondFactor {
            return Err(AuthError::NotAllowed);
        }
        let now = Utc::now();
        throttled(
            self.store()
                .take_attempt(
                    &[limit(format!("totp:{}", user.id), 5, TimeDelta::minutes(1))],
                    now,
                )
                .await?,
        )?;
        let Some((secret, last)) = self.store().totp_state(&user.id).await? else {
            return Err(AuthError::NotAllowed);
        };
        let secret = TotpSecret::from_base32(&secret).ok_or(AuthError::NotAllowed)?;
        let last = last.and_then(|s| u64::try_from(s).ok());
        let step = secret.verify(code, now.timestamp(), last);
        let claimed = match step.and_then(|s| i64::try_from(s).ok()) {
            Some(step) => self.store().claim_totp_step(&user.id, step).await?,
            None => false,
        };
        if !claimed {
            self.record(
                &session.actor(client),
                "session.second-factor-failed",
                ("user", &user.id),
                serde_json::json!({}),
            )
            .await?;
            return Err(AuthError::WrongSecondFactor);
        }
        self.store()
            .clear_attempts(&format!("totp:{}", user.id))
            .await?;
        let next = Self::after_second_factor(session);
        let created = self.rotate(session, next, None, client).await?;
        self.record(
            &session.actor(client),
            "session.second-factor",
            ("user", &user.id),
            serde_json::json!({}),
        )
        .await?;
        Ok(created)
    }

    /// Enrolment of a second factor during sign-in (roles that require one) or from the account
    /// page: the code proves the app holds the secret shown.
    pub async fn enrol_second_factor(
        &self,
        session: &Session,
        code: &str,
        client: &Client,
    ) -> Result<Option<NewSession>, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        let Some(secret) = &session.pending_secret else {
            return Err(AuthError::NotAllowed);
        };
        let now = Utc::now();
        throttled(
            self.store()
                .take_attempt(
                    &[limit(format!("totp:{}", user.id), 5, TimeDelta::minutes(1))],
                    now,
                )
                .await?,
        )?;
        let Some(step) = secret.verify(code, now.timestamp(), None) else {
            return Err(AuthError::WrongSecondFactor);
        };
        self.store()
            .set_totp_secret(&user.id, Some(&secret.to_base32()))
            .await?;
        self.store()
            .claim_totp_step(&user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?;
        self.record(
            &session.actor(client),
            "user.second-factor-enrol",
            ("user", &user.id),
            serde_json::json!({}),
        )
        .await?;
        if session.stage == Stage::EnrolSecondFactor {
            let next = Self::after_second_factor(session);
            return Ok(Some(self.rotate(session, next, None, client).await?));
        }
        self.store()
            .set_session_stage(&session.token_hash, session.stage.code(), None)
            .await?;
        Ok(None)
    }

    /// Starts enrolment from the account page: a new secret, shown until confirmed.
    pub async fn begin_second_factor_enrolment(
        &self,
        session: &Session,
    ) -> Result<TotpSecret, StoreError> {
        if let Some(secret) = &session.pending_secret {
            return Ok(secret.clone());
        }
        let secret = new_totp_secret();
        self.store()
            .set_session_stage(
                &session.token_hash,
                session.stage.code(),
                Some(&secret.to_base32()),
            )
            .await?;
        Ok(secret)
    }

    /// A member of staff sets a new password: at the forced change after a reset (no current
    /// password asked: they just signed in with it), or from the account page (current password
    /// checked). Every other session of theirs ends.
    pub async fn change_own_password(
        &self,
        session: &Session,
        current: Option<&Secret<String>>,
        new: &Secret<String>,
        client: &Client,
    ) -> Result<NewSession, AuthError> {
        let Principal::Staff(user) = &session.principal else {
            return Err(AuthError::NotAllowed);
        };
        if session.stage != Stage::ChangePassword {
            let Some(current) = current else {
                return Err(AuthError::WrongCredentials);
            };
            throttled(
                self.store()
                    .take_attempt(
                        &[limit(
                            format!("password:{}", user.username),
                            PASSWORDS_PER_MINUTE,
                            TimeDelta::minutes(1),
                        )],
                        Utc::now(),
                    )
                    .await?,
            )?;
            let hash = self
                .store()
                .password_hash(&user.id)
                .await?
                .unwrap_or_default();
            if !self.verify_password(hash, current).await {
                return Err(AuthError::WrongCredentials);
            }
        }
        pishkhan_domain::password::check_new_password(
            new.expose(),
            &[&user.username, &user.display_name],
        )
        .map_err(AuthError::Invalid)?;
        let hash = hash_password(new).await?;
        self.store()
            .set_password_hash(&user.id, &hash, false)
            .await?;
        self.store()
            .delete_sessions_of(&SessionOwner::User(user.id.clone()))
            .await?;
        self.record(
            &session.actor(client),
            "user.password-change",
            ("user", &user.id),
            serde_json::json!({}),
        )
        .await?;
        self.open_session(
            SessionOwner::User(user.id.clone()),
            Stage::Full,
            None,
            client,
            Utc::now(),
            Some((session.created_at, session.expires_at)),
        )
        .await
    }

    /// Ends one session.
    pub async fn sign_out(&self, session: &Session, client: &Client) -> Result<(), StoreError> {
        self.store().delete_session(&session.token_hash).await?;
        self.record(
            &session.actor(client),
            "session.sign-out",
            (
                owner_kind(&session.principal),
                &owner_id(&session.principal),
            ),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// Ends every session of the session's owner, on every device.
    pub async fn sign_out_everywhere(
        &self,
        session: &Session,
        client: &Client,
    ) -> Result<u64, StoreError> {
        let owner = match &session.principal {
            Principal::Citizen(c) => SessionOwner::Citizen(c.id.clone()),
            Principal::Staff(u) | Principal::System(u) => SessionOwner::User(u.id.clone()),
        };
        let ended = self.store().delete_sessions_of(&owner).await?;
        self.record(
            &session.actor(client),
            "session.sign-out-everywhere",
            (
                owner_kind(&session.principal),
                &owner_id(&session.principal),
            ),
            serde_json::json!({ "sessions": ended }),
        )
        .await?;
        Ok(ended)
    }

    /// How many sessions the owner has open.
    pub async fn open_sessions(&self, principal: &Principal) -> Result<i64, StoreError> {
        let owner = match principal {
            Principal::Citizen(c) => SessionOwner::Citizen(c.id.clone()),
            Principal::Staff(u) | Principal::System(u) => SessionOwner::User(u.id.clone()),
        };
        self.store().count_sessions_of(&owner).await
    }

    /// Citizen sign-in, first step: checks the national ID against the mobile it is bound to
    /// (if any) and sends a code. Limited per number and per address.
    pub async fn request_sign_in_code(
        &self,
        national_id: &str,
        mobile: &str,
        client: &Client,
    ) -> Result<CodeTicket, AuthError> {
        let national_id = NationalId::parse(national_id).map_err(AuthError::Invalid)?;
        let mobile = MobileNumber::parse(mobile).map_err(AuthError::Invalid)?;
        let registered = self
            .store()
            .citizen_by_national_id(national_id.as_str())
            .await?;
        if registered.is_some_and(|citizen| citizen.mobile != mobile.e164()) {
            return Err(AuthError::MobileMismatch);
        }
        let now = Utc::now();
        throttled(
            self.store()
                .take_attempt(
                    &[
                        limit(
                            format!("sms-mobile:{}", mobile.e164()),
                            3,
                            TimeDelta::minutes(10),
                        ),
                        limit(format!("sms-ip:{}", client.ip), 10, TimeDelta::minutes(10)),
                    ],
                    now,
                )
                .await?,
        )?;
        let code = six_digits();
        let text = format!(
            "پیشخوان: کد ورود شما {} است. این کد را به هیچ‌کس، حتی کارکنان دفتر، ندهید.",
            pishkhan_domain::text::to_persian_digits(&code)
        );
        self.send_code("sign-in", &national_id, &mobile, code, text, None, "", now)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_code(
        &self,
        purpose: &str,
        national_id: &NationalId,
        mobile: &MobileNumber,
        code: String,
        text: String,
        requested: Option<(&str, &str)>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeTicket, AuthError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let record = CodeRecord {
            id: id.clone(),
            purpose: purpose.to_owned(),
            mobile: mobile.e164(),
            national_id: national_id.as_str().to_owned(),
            code_hash: code_hash(&id, &code),
            created_at: now,
            expires_at: now + CODE_LIFETIME,
            attempts: 0,
            used_at: None,
            requested_by: requested.map(|(user, _)| user.to_owned()),
            centre: requested.map(|(_, centre)| centre.to_owned()),
            note: note.to_owned(),
        };
        self.store().insert_code(&record).await?;
        self.sms()
            .send(&SmsMessage {
                to: mobile.clone(),
                text,
                code: Some(code),
            })
            .await?;
        Ok(CodeTicket {
            code_id: id,
            masked_mobile: mask_mobile(&mobile.e164()),
            expires_at: record.expires_at,
        })
    }

    /// Checks a typed code: counts the try, refuses expired, used or over-tried codes, and
    /// marks it used on success (once, even under racing requests).
    async fn redeem_code(
        &self,
        code_id: &str,
        code: &str,
        purpose: &str,
        requested_by: Option<&str>,
    ) -> Result<CodeRecord, AuthError> {
        let code = pishkhan_domain::text::to_ascii_digits(code.trim());
        let now = Utc::now();
        let Some(record) = self.store().try_code(code_id).await? else {
            return Err(AuthError::CodeExpired);
        };
        if record.purpose != purpose
            || record.requested_by.as_deref() != requested_by
            || record.used_at.is_some()
            || record.expires_at <= now
            || record.attempts > CODE_TRIES
        {
            return Err(AuthError::CodeExpired);
        }
        let expected = code_hash(code_id, &code);
        if !constant_time_eq(expected.as_bytes(), record.code_hash.as_bytes()) {
            let tries_left = CODE_TRIES - record.attempts;
            return Err(if tries_left > 0 {
                AuthError::WrongCode { tries_left }
            } else {
                AuthError::CodeExpired
            });
        }
        if !self.store().use_code(code_id, now).await? {
            return Err(AuthError::CodeExpired);
        }
        Ok(record)
    }

    /// Registers the citizen on first sign-in, binding the national ID to the mobile the code
    /// went to.
    async fn citizen_for(&self, record: &CodeRecord) -> Result<CitizenRecord, AuthError> {
        let citizen = self
            .store()
            .ensure_citizen(&CitizenRecord {
                id: uuid::Uuid::new_v4().simple().to_string(),
                national_id: record.national_id.clone(),
                mobile: record.mobile.clone(),
                created_at: Utc::now(),
            })
            .await?;
        if citizen.mobile != record.mobile {
            return Err(AuthError::MobileMismatch);
        }
        Ok(citizen)
    }

    /// Citizen sign-in, second step: the code from the text message.
    pub async fn sign_in_with_code(
        &self,
        code_id: &str,
        code: &str,
        client: &Client,
    ) -> Result<NewSession, AuthError> {
        let record = self.redeem_code(code_id, code, "sign-in", None).await?;
        let citizen = self.citizen_for(&record).await?;
        let created = self
            .open_session(
                SessionOwner::Citizen(citizen.id.clone()),
                Stage::Full,
                None,
                client,
                Utc::now(),
                None,
            )
            .await?;
        self.record(
            &Actor {
                id: format!("citizen:{}", citizen.id),
                source: client.ip.clone(),
            },
            "session.sign-in",
            ("citizen", &citizen.id),
            serde_json::json!({ "user_agent": client.user_agent }),
        )
        .await?;
        Ok(created)
    }

    /// An operator asks a walk-in citizen's consent to file for them: a code goes to the mobile
    /// bound to the national ID (or, for someone not yet registered, the mobile they give).
    /// Looking the citizen up is a staff view of personal data, and is recorded.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_consent(
        &self,
        operator: &Principal,
        centre: &str,
        national_id: &str,
        mobile: &str,
        purpose: &str,
        client: &Client,
    ) -> Result<CodeTicket, AuthError> {
        let Principal::Staff(user) = operator else {
            return Err(AuthError::NotAllowed);
        };
        if !counter_centres(operator).iter().any(|c| c == centre) {
            return Err(AuthError::NotAllowed);
        }
        let purpose = purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(AuthError::Invalid(Invalid::new(
                "bad_purpose",
                "بنویسید رضایت برای ثبت چه درخواستی است (حداکثر ۲۰۰ نویسه).",
                "Write which application the consent is for (at most 200 characters).",
            )));
        }
        let national_id = NationalId::parse(national_id).map_err(AuthError::Invalid)?;
        let actor = Actor {
            id: format!("user:{}", user.id),
            source: client.ip.clone(),
        };
        let registered = self
            .store()
            .citizen_by_national_id(national_id.as_str())
            .await?;
        self.record(
            &actor,
            "citizen.lookup",
            ("citizen", registered.as_ref().map_or("unregistered", |c| c.id.as_str())),
            serde_json::json!({ "national_id": national_id.as_str(), "centre": centre, "purpose": purpose }),
        )
        .await?;
        let mobile = match &registered {
            Some(citizen) => MobileNumber::parse(&citizen.mobile).map_err(AuthError::Invalid)?,
            None => MobileNumber::parse(mobile).map_err(AuthError::Invalid)?,
        };
        let now = Utc::now();
        throttled(
            self.store()
                .take_attempt(
                    &[
                        limit(
                            format!("sms-mobile:{}", mobile.e164()),
                            3,
                            TimeDelta::minutes(10),
                        ),
                        limit(
                            format!("consent-operator:{}", user.id),
                            30,
                            TimeDelta::minutes(10),
                        ),
                    ],
                    now,
                )
                .await?,
        )?;
        let centre_name = self
            .store()
            .org_directory()
            .await?
            .name_of(&Scope::Centre(centre.to_owned()))
            .unwrap_or(centre)
            .to_owned();
        let code = six_digits();
        let text = format!(
            "پیشخوان: {} در دفتر «{}» می‌خواهد برای «{}» به نام شما درخواست ثبت کند. اگر خودتان در دفتر هستید و موافقید، کد {} را به او بگویید؛ وگرنه این کد را ندهید.",
            user.display_name,
            centre_name,
            purpose,
            pishkhan_domain::text::to_persian_digits(&code)
        );
        self.send_code(
            "consent",
            &national_id,
            &mobile,
            code,
            text,
            Some((&user.id, centre)),
            purpose,
            now,
        )
        .await
    }

    /// The operator types the code the citizen read out: the consent is recorded.
    pub async fn confirm_consent(
        &self,
        operator: &Principal,
        code_id: &str,
        code: &str,
        client: &Client,
    ) -> Result<ConsentRecord, AuthError> {
        let Principal::Staff(user) = operator else {
            return Err(AuthError::NotAllowed);
        };
        let record = self
            .redeem_code(code_id, code, "consent", Some(&user.id))
            .await?;
        let centre = record.centre.clone().unwrap_or_default();
        if !counter_centres(operator).contains(&centre) {
            return Err(AuthError::CodeExpired);
        }
        let citizen = self.citizen_for(&record).await?;
        let now = Utc::now();
        let consent = ConsentRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            citizen_id: citizen.id.clone(),
            operator_id: user.id.clone(),
            operator_name: user.display_name.clone(),
            centre: centre.clone(),
            centre_name: String::new(),
            purpose: record.note.clone(),
            granted_at: now,
            expires_at: now + CONSENT_LIFETIME,
        };
        self.store().insert_consent(&consent).await?;
        self.record(
            &Actor { id: format!("user:{}", user.id), source: client.ip.clone() },
            "consent.grant",
            ("citizen", &citizen.id),
            serde_json::json!({ "consent": consent.id, "centre": centre, "purpose": consent.purpose }),
        )
        .await?;
        Ok(consent)
    }

    /// What was done on a citizen's behalf at centres, newest first.
    pub async fn consents_of(
        &self,
        citizen: &CitizenRecord,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.store().consents_of_citizen(&citizen.id).await
    }

    /// Deletes ended sessions, attempts older than any limiter's window, and one-time codes a
    /// day past expiry. Returns how many of each went.
    pub async fn sweep_sign_in_data(&self) -> Result<(u64, u64, u64), StoreError> {
        let now = Utc::now();
        let idle = TimeDelta::from_std(self.config().session_idle_timeout)
            .unwrap_or(TimeDelta::minutes(30));
        let sessions = self.store().delete_stale_sessions(now, now - idle).await?;
        let attempts = self
            .store()
            .prune_attempts(now - TimeDelta::days(1))
            .await?;
        let codes = self
            .store()
            .delete_expired_codes(now - TimeDelta::days(1))
            .await?;
        Ok((sessions, attempts, codes))
    }

    /// The API client an `Authorization: Bearer` token names.
    pub async fn api_principal(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let Some(user_id) = self.store().api_token_user(&sha256_hex(token)).await? else {
            return Ok(None);
        };
        Ok(self
            .store()
            .user_by_id(&user_id)
            .await?
            .filter(|u| {
                !u.disabled
                    && u.grants
                        .iter()
                        .any(|g| g.role() == pishkhan_domain::identity::Role::System)
            })
            .map(Principal::System))
    }
}

/// An account that holds only the `system` role: an agency system's API client.
fn is_api_client_only(user: &pishkhan_store::UserRecord) -> bool {
    !user.grants.is_empty()
        && user
            .grants
            .iter()
            .all(|g| g.role() == pishkhan_domain::identity::Role::System)
}

fn owner_kind(principal: &Principal) -> &'static str {
    match principal {
        Principal::Citizen(_) => "citizen",
        _ => "user",
    }
}

fn owner_id(principal: &Principal) -> String {
    match principal {
        Principal::Citizen(c) => c.id.clone(),
        Principal::Staff(u) | Principal::System(u) => u.id.clone(),
    }
}

/// 20 random bytes, as RFC 6238 recommends for SHA-1.
pub fn new_totp_secret() -> TotpSecret {
    let mut bytes = vec![0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    TotpSecret::from_bytes(bytes)
}
