//! Signing in and staying signed in, in one room per way in:
//!
//! - [`sessions`]: sessions in the database (any node serves any request), idle and absolute
//!   timeouts, rotation, signing out, API tokens;
//! - [`staff`]: staff by password (argon2, limited before hashing) and second factor (TOTP);
//! - [`codes`]: citizens by a one-time code sent to their mobile;
//! - [`consent`]: a citizen's consent code, read out at a centre, for assisted filing.
//!
//! Every use case takes the time it happens at (`now`) from its caller, so tests move the clock
//! instead of waiting for it.

mod codes;
mod consent;
mod sessions;
mod staff;

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, TimeDelta, Utc};
use pishkhan_domain::Language;
use pishkhan_domain::id::{MobileNumber, NationalId, Problem};
use pishkhan_domain::identity::Scope;
use pishkhan_domain::totp::{TotpSecret, constant_time_eq};
use pishkhan_store::{
    Attempt, CitizenRecord, CodeRecord, ConsentRecord, Limit, SessionOwner, SessionRecord,
    StoreError, Unit,
};

use crate::audit::{Actor, audit_entry};
use crate::policy::{Principal, counter_centres};
use crate::sms::{SmsError, SmsMessage};
use crate::{App, Secret};

/// How long a one-time code sent by SMS stays good.
pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(3);
/// The longest username anyone has (longer ones are refused before they are counted or logged).
pub const MAX_USERNAME_CHARS: usize = 64;
/// The longest password checked (argon2 would hash anything; a megabyte is an attack).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// How much of a browser's `User-Agent` is kept (in sessions and the audit log).
pub const MAX_USER_AGENT_CHARS: usize = 300;

/// The hash of a code that must never be redeemed: not hex, so no typed code's hash equals it.
const UNREDEEMABLE: &str = "unredeemable";
/// Tries allowed at one code.
pub const CODE_TRIES: i64 = 5;
/// How long a consent lets an operator file for the citizen.
pub const CONSENT_LIFETIME: TimeDelta = TimeDelta::hours(2);
/// Wrong passwords accepted per account per minute; the next is refused without checking.
pub const PASSWORDS_PER_MINUTE: i64 = 5;
/// Wrong passwords per account per quarter hour before the account is locked for the rest of it.
pub const PASSWORDS_PER_QUARTER_HOUR: i64 = 10;
/// Password checks for one account in an hour, from every address together, from browsers that
/// never signed in to it (many addresses guessing at once); its own browsers are not counted.
pub const ACCOUNT_PASSWORDS_PER_HOUR: i64 = 30;

/// Where a request came from (for the audit log and the limiters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
    /// The browser's own cookie, set when it last signed in to a staff account
    /// (see [`NewSession::device`]).
    pub device: Option<String>,
}

impl Client {
    /// Where attempts are counted from: the address, or for IPv6 its /64 (see [`group`]).
    pub fn source(&self) -> String {
        self.ip
            .parse()
            .map_or_else(|_| self.ip.clone(), |ip| group(ip).to_string())
    }
}

/// An address as limits count it: IPv4 as it is, IPv6 as its /64 — one subscriber is given a
/// whole /64 and may use any address in it.
pub fn group(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => {
            ipnet::Ipv6Net::new(v6, 64).map_or(ip, |net| std::net::IpAddr::V6(net.network()))
        }
        std::net::IpAddr::V4(_) => ip,
    }
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
    /// A staff sign-in from a browser not yet known for the account: the cookie to give it, by
    /// which it gets through when the account's own budget of password checks is spent.
    pub device: Option<Secret<String>>,
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
    /// The registry says the mobile an operator gave is not the citizen's line.
    #[error("the registry does not confirm the mobile is the national ID's line")]
    NotTheirMobile,
    /// The registry of mobile lines cannot be asked: nothing is bound or sent (fail closed).
    #[error("the mobile registry cannot be asked")]
    RegistryUnavailable,
    #[error("{}", .0.en)]
    Invalid(Problem),
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
            AuthError::NotTheirMobile => pick(
                fa,
                "به گواهی سامانهٔ شاهکار، این شمارهٔ همراه به نام صاحب این کد ملی نیست. شمارهٔ همراهی را وارد کنید که به نام خود اوست.",
                "The national registry of mobile lines says this number is not in the name of this national ID's holder. Enter a number registered in their name.",
            ),
            AuthError::RegistryUnavailable => pick(
                fa,
                "سامانهٔ استعلام مالکیت شمارهٔ همراه (شاهکار) اکنون پاسخ نمی‌دهد، پس کدی فرستاده نشد. چند دقیقهٔ دیگر دوباره امتحان کنید.",
                "The national registry of mobile lines is not answering, so no code was sent. Try again in a few minutes.",
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
            AuthError::NotTheirMobile => "not_their_mobile",
            AuthError::RegistryUnavailable => "registry_unavailable",
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
    pishkhan_domain::digest::sha256_hex(text.as_bytes())
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

/// Codes sent to one mobile, whatever asks for them: three in ten minutes.
fn texts_to(mobile: &MobileNumber) -> Limit {
    limit(
        format!("sms-mobile:{}", mobile.e164()),
        3,
        TimeDelta::minutes(10),
    )
}

impl App {
    /// Codes sent to every number together: `sms_per_minute` (an attacker with many addresses
    /// and many numbers cannot run up the province's SMS bill).
    fn texts_in_all(&self) -> Limit {
        limit(
            "sms-all".to_owned(),
            i64::from(self.config().limits.sms_per_minute),
            TimeDelta::minutes(1),
        )
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

/// An account that holds only the `system` role: an agency system's API client.
fn is_api_client_only(user: &pishkhan_store::UserRecord) -> bool {
    !user.grants.is_empty()
        && user
            .grants
            .iter()
            .all(|g| g.role() == pishkhan_domain::identity::Role::System)
}

/// A session about to be stored: its token (for the cookie, never stored) and its row.
pub(super) struct Opening {
    token: String,
    record: SessionRecord,
}

/// Whose sessions a principal's are.
fn session_owner(principal: &Principal) -> SessionOwner {
    match principal {
        Principal::Citizen(c) => SessionOwner::Citizen(c.id.clone()),
        Principal::Staff(u) | Principal::System(u) => SessionOwner::User(u.id.clone()),
    }
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
