#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Identity on both databases: sign-in limits under concurrency, second factor, citizen codes,
//! sessions, consent, and admins kept inside their scope.

use chrono::{TimeDelta, Utc};

use pishkhan_app::audit::Actor;
use pishkhan_app::auth::{AuthError, Client, Stage};
use pishkhan_app::config::Sources;
use pishkhan_app::policy::Principal;
use pishkhan_app::sms::{SMS_FILE_NAME, read_sms_file};
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::id::{MobileNumber, NationalId};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::totp::TotpSecret;
use pishkhan_store::{OrgKind, Store};

use pishkhan_store::on_both_backends;

on_both_backends!(
    the_sixth_wrong_password_in_a_minute_is_refused_without_hashing,
    the_limiter_holds_under_concurrent_attempts,
    a_huge_username_is_refused_and_recorded_without_it,
    governorate_admins_enrol_and_use_a_second_factor,
    citizens_sign_in_with_a_code_bound_to_their_mobile,
    a_stranger_cannot_sign_in_with_someone_elses_national_id,
    a_citizen_whose_line_changed_is_bound_to_the_new_one,
    an_unreachable_or_slow_registry_refuses_and_binds_nothing,
    consent_goes_only_to_a_line_the_registry_confirms,
    a_change_whose_audit_entry_fails_is_not_stored,
    guessing_from_many_addresses_does_not_lock_the_owner_out,
    codes_to_every_number_together_have_a_budget,
    second_factor_secrets_are_sealed_at_rest_and_keys_rotate,
    idle_sessions_end_and_sign_out_everywhere_ends_all,
    busy_sessions_still_end_at_the_absolute_timeout,
    operators_file_only_with_the_citizens_consent,
    admins_see_and_manage_only_their_scope,
    api_tokens_rotate_with_overlap_and_revoke_at_once,
);

struct Fixture {
    app: App,
    /// The app's own store, for reading back what it wrote.
    store: Store,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "correct horse battery staple";

fn client() -> Client {
    Client {
        ip: "192.0.2.7".to_owned(),
        user_agent: "test".to_owned(),
        device: None,
    }
}

fn client_at(ip: &str) -> Client {
    Client {
        ip: ip.to_owned(),
        user_agent: "test".to_owned(),
        device: None,
    }
}

fn secret(text: &str) -> Secret<String> {
    Secret::new(text.to_owned())
}

fn grant(role: Role, scope: &str) -> RoleGrant {
    RoleGrant::new(role, Scope::parse(scope).unwrap()).unwrap()
}

async fn fixture(store: Store, idle: &str) -> Fixture {
    fixture_with(store, &[("PISHKHAN_SESSION_IDLE_TIMEOUT", idle)]).await
}

async fn fixture_with(store: Store, settings: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(&Sources {
        env: vec![(
            "PISHKHAN_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )]
        .into_iter()
        .chain(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .collect(),
        ..Sources::default()
    })
    .unwrap();
    let app = App::with_store(config, store.clone()).unwrap();
    let cli = Actor::command_line();
    for (kind, code, province, name) in [
        (
            OrgKind::Agency,
            "tehran-tax",
            "tehran",
            "ادارهٔ کل امور مالیاتی تهران",
        ),
        (
            OrgKind::Agency,
            "isfahan-tax",
            "isfahan",
            "ادارهٔ کل امور مالیاتی اصفهان",
        ),
        (
            OrgKind::Centre,
            "tehran-1001",
            "tehran",
            "دفتر پیشخوان ۱۰۰۱",
        ),
        (
            OrgKind::Centre,
            "tehran-1002",
            "tehran",
            "دفتر پیشخوان ۱۰۰۲",
        ),
        (
            OrgKind::Centre,
            "isfahan-2001",
            "isfahan",
            "دفتر پیشخوان ۲۰۰۱",
        ),
    ] {
        app.add_org(&cli, kind, code, province, name).await.unwrap();
    }
    // The registry of mobile lines knows one person's line.
    register(&app, "0082451291", "09121234567").await;
    Fixture {
        app,
        store,
        _dir: dir,
    }
}

/// The development registry learns that `mobile` is `national_id`'s line.
async fn register(app: &App, national_id: &str, mobile: &str) {
    pishkhan_app::ownership::register_pair(
        &app.config().data_dir,
        &NationalId::parse(national_id).unwrap(),
        &MobileNumber::parse(mobile).unwrap(),
    )
    .await
    .unwrap();
}

async fn user(app: &App, username: &str, grants: Vec<RoleGrant>) -> String {
    app.create_user(
        &Actor::command_line(),
        username,
        "مریم احمدی",
        &secret(PASSWORD),
        grants,
    )
    .await
    .unwrap()
}

async fn staff(store: &Store, username: &str) -> Principal {
    Principal::Staff(store.user_by_username(username).await.unwrap().unwrap())
}

fn sms_codes(app: &App) -> Vec<(String, String, Option<String>)> {
    read_sms_file(&app.config().data_dir.join(SMS_FILE_NAME)).unwrap()
}

async fn the_sixth_wrong_password_in_a_minute_is_refused_without_hashing(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    for _ in 0..5 {
        let error = f
            .app
            .staff_sign_in(
                "clerk",
                &secret("wrong password 123"),
                &client(),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::WrongCredentials), "{error}");
    }
    assert_eq!(f.app.password_checks(), 5);
    // The sixth, even with the right password, is refused before the hash is looked at.
    let error = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Throttled { .. }), "{error}");
    assert_eq!(f.app.password_checks(), 5, "no hash was checked");
    assert!(
        error
            .message(pishkhan_domain::Language::Persian)
            .contains("دقیقه")
    );

    // Another account is not affected; a right password clears its own counter.
    user(
        &f.app,
        "editor",
        vec![grant(Role::AgencyEditor, "agency:tehran-tax")],
    )
    .await;
    let signed = f
        .app
        .staff_sign_in("Editor ", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(signed.session.stage, Stage::Full);
    // An agency system's account cannot sign in to pages, even with its password.
    user(
        &f.app,
        "system.tax",
        vec![grant(Role::System, "agency:tehran-tax")],
    )
    .await;
    let error = f
        .app
        .staff_sign_in("system.tax", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::NotAllowed), "{error}");
    // An unknown username costs a hash too (no timing difference), and is counted the same.
    let error = f
        .app
        .staff_sign_in("nobody", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::WrongCredentials));
}

async fn the_limiter_holds_under_concurrent_attempts(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "operator",
        vec![grant(Role::Operator, "centre:tehran-1001")],
    )
    .await;
    let before = f.app.password_checks();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let app = f.app.clone();
        tasks.spawn(async move {
            app.staff_sign_in(
                "operator",
                &secret(&format!("wrong guess number {i}")),
                &client(),
                Utc::now(),
            )
            .await
        });
    }
    let (mut wrong, mut refused) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Err(AuthError::WrongCredentials) => wrong += 1,
            Err(AuthError::Throttled { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((wrong, refused), (5, 15));
    assert_eq!(f.app.password_checks() - before, 5);
}

async fn governorate_admins_enrol_and_use_a_second_factor(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "gov",
        vec![grant(Role::GovernorateAdmin, "province:tehran")],
    )
    .await;
    let first = f
        .app
        .staff_sign_in("gov", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(first.session.stage, Stage::EnrolSecondFactor);
    assert!(first.session.signed_in().is_none(), "not signed in yet");
    let pending = first.session.pending_secret.clone().unwrap();
    let now = chrono::Utc::now().timestamp();
    let error = f
        .app
        .enrol_second_factor(&first.session, "000000", &client(), Utc::now())
        .await;
    if pending.code_at(now) != "000000" {
        assert!(matches!(error, Err(AuthError::WrongSecondFactor)));
    }
    let full = f
        .app
        .enrol_second_factor(&first.session, &pending.code_at(now), &client(), Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(full.session.stage, Stage::Full);
    assert!(
        f.app
            .session(first.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_none(),
        "the token rotated"
    );
    assert!(
        f.app
            .session(full.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_some()
    );

    let second = f
        .app
        .staff_sign_in("gov", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(second.session.stage, Stage::SecondFactor);
    // The code used at enrolment does not work again; the next one does.
    let replay = f
        .app
        .verify_second_factor(
            &second.session,
            &pending.code_at(now),
            &client(),
            Utc::now(),
        )
        .await;
    assert!(matches!(replay, Err(AuthError::WrongSecondFactor)));
    let done = f
        .app
        .verify_second_factor(
            &second.session,
            &pending.code_at(now + 30),
            &client(),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(done.session.stage, Stage::Full);
    let stored = f
        .store
        .totp_state(&done.session.principal.actor_id()[5..])
        .await
        .unwrap();
    // Stored sealed; opened with the key file, it is the secret enrolled.
    let user_id = &done.session.principal.actor_id()[5..];
    let sealer =
        pishkhan_app::sealed::Sealer::open_or_create(&f.app.config().secrets_key_file()).unwrap();
    let opened = sealer
        .open(
            &stored.unwrap().0,
            &pishkhan_app::sealed::totp_place(user_id),
        )
        .unwrap();
    assert_eq!(TotpSecret::from_base32(&opened).unwrap(), pending);
}

async fn citizens_sign_in_with_a_code_bound_to_their_mobile(store: Store) {
    let f = fixture(store, "30m").await;
    let ticket = f
        .app
        .request_sign_in_code("۰۰۸۲۴۵۱۲۹۱", "0912 123 4567", &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(ticket.masked_mobile, "0912***4567");
    let (to, text, code) = sms_codes(&f.app).pop().unwrap();
    let code = code.unwrap();
    assert_eq!(to, "+989121234567");
    assert!(text.contains(&pishkhan_domain::text::to_persian_digits(&code)));
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let error = f
        .app
        .sign_in_with_code(&ticket.code_id, wrong, &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, AuthError::WrongCode { tries_left: 4 }),
        "{error}"
    );
    let signed = f
        .app
        .sign_in_with_code(&ticket.code_id, &code, &client(), Utc::now())
        .await
        .unwrap();
    let Principal::Citizen(citizen) = &signed.session.principal else {
        panic!("a citizen session")
    };
    assert_eq!(citizen.national_id, "0082451291");
    let again = f
        .app
        .sign_in_with_code(&ticket.code_id, &code, &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(again, AuthError::CodeExpired), "single use");
    // Codes per number are limited: two more, then refused.
    for _ in 0..2 {
        f.app
            .request_sign_in_code("0082451291", "09121234567", &client(), Utc::now())
            .await
            .unwrap();
    }
    let error = f
        .app
        .request_sign_in_code("0082451291", "09121234567", &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Throttled { .. }), "{error}");
    let error = f
        .app
        .request_sign_in_code("1234567890", "09121234567", &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Invalid(_)));
}

async fn a_stranger_cannot_sign_in_with_someone_elses_national_id(store: Store) {
    let f = fixture(store, "30m").await;
    // An agency filed for 0082451291; a stranger tries it with their own phone. The answer is
    // the one the owner gets, but no text leaves and no code can ever be redeemed.
    let before = sms_codes(&f.app).len();
    let ticket = f
        .app
        .request_sign_in_code("0082451291", "09351112233", &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        ticket.masked_mobile, "0935***2233",
        "the same answer as for the owner"
    );
    assert_eq!(sms_codes(&f.app).len(), before, "no text message to anyone");
    for tries_left in (0..5).rev() {
        let guess = format!("{:06}", 123_456 + tries_left);
        let error = f
            .app
            .sign_in_with_code(&ticket.code_id, &guess, &client(), Utc::now())
            .await
            .unwrap_err();
        if tries_left > 0 {
            assert!(
                matches!(error, AuthError::WrongCode { tries_left: t } if t == tries_left),
                "{error}"
            );
        } else {
            assert!(matches!(error, AuthError::CodeExpired), "{error}");
        }
    }
    assert!(
        f.store
            .citizen_by_national_id("0082451291")
            .await
            .unwrap()
            .is_none(),
        "nobody was bound to the national ID"
    );
    // An ID nobody has signed in with gets the same answer too.
    let unknown = f
        .app
        .request_sign_in_code("0076229645", "09351112244", &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(unknown.masked_mobile, "0935***2244");
    assert_eq!(sms_codes(&f.app).len(), before);
    // Every pair counts against the national ID, so nobody can try mobiles one after another.
    let mut refused = None;
    for i in 0..12 {
        let mobile = format!("0935111{i:04}");
        if let Err(e) = f
            .app
            .request_sign_in_code(
                "0082451291",
                &mobile,
                &client_at(&format!("198.51.100.{i}")),
                Utc::now(),
            )
            .await
        {
            refused = Some((i, e));
            break;
        }
    }
    let (i, error) = refused.expect("the national ID's attempts are limited");
    assert!(matches!(error, AuthError::Throttled { .. }), "{error}");
    assert_eq!(
        i, 9,
        "ten attempts per national ID in ten minutes (one was made above)"
    );
    // The owner, whose line the registry confirms, still signs in... after the window.
    let later = Utc::now() + chrono::TimeDelta::minutes(11);
    let ticket = f
        .app
        .request_sign_in_code("0082451291", "09121234567", &client(), later)
        .await
        .unwrap();
    let (to, _, code) = sms_codes(&f.app).pop().unwrap();
    assert_eq!(to, "+989121234567");
    f.app
        .sign_in_with_code(&ticket.code_id, &code.unwrap(), &client(), later)
        .await
        .unwrap();
    let counts = f.app.mobile_ownership().counts();
    assert_eq!(counts.confirmed, 1);
    assert!(counts.denied >= 10, "{counts:?}");
}

async fn a_citizen_whose_line_changed_is_bound_to_the_new_one(store: Store) {
    let f = fixture(store, "30m").await;
    let now = Utc::now();
    let sign_in = |mobile: &'static str| {
        let app = f.app.clone();
        async move {
            let ticket = app
                .request_sign_in_code("0082451291", mobile, &client(), now)
                .await
                .unwrap();
            let (_, _, code) = sms_codes(&app).pop().unwrap();
            app.sign_in_with_code(&ticket.code_id, &code.unwrap(), &client(), now)
                .await
                .unwrap()
        }
    };
    let old_session = sign_in("09121234567").await;
    // The person moved to a new line; the registry says so.
    register(&f.app, "0082451291", "09351112233").await;
    let before = sms_codes(&f.app).len();
    let new_session = sign_in("09351112233").await;
    let Principal::Citizen(citizen) = &new_session.session.principal else {
        panic!("a citizen session")
    };
    assert_eq!(citizen.mobile, "+989351112233");
    assert!(
        f.app
            .session(old_session.token.expose(), now)
            .await
            .unwrap()
            .is_none(),
        "the sessions of the old line ended"
    );
    assert!(
        f.app
            .session(new_session.token.expose(), now)
            .await
            .unwrap()
            .is_some()
    );
    let told: Vec<_> = sms_codes(&f.app)[before..]
        .iter()
        .filter(|(to, _, _)| to == "+989121234567")
        .cloned()
        .collect();
    assert_eq!(told.len(), 1, "the old line is told once: {told:?}");
    assert!(told[0].1.contains("تغییر کرد"), "{}", told[0].1);
    let (entries, _) = f.store.audit_chain().await.unwrap();
    let rebound = entries
        .iter()
        .find(|e| e.fields.action == "citizen.mobile-rebound")
        .expect("the change is on the record");
    assert!(rebound.fields.details.contains("0912***4567"));
    assert!(
        !rebound.fields.details.contains("09121234567"),
        "masked in the audit log"
    );
    f.app.verify_audit().await.unwrap();
}

/// A registry on loopback that answers as told.
async fn registry_server(answer: &'static str) -> String {
    use axum::response::IntoResponse;
    use axum::routing::post;
    let router = axum::Router::new().route(
        "/inquiry",
        post(move |body: axum::Json<serde_json::Value>| async move {
            match answer {
                "slow" => {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    axum::http::StatusCode::OK.into_response()
                }
                "broken" => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                "garbled" => "not json".into_response(),
                _ => axum::Json(serde_json::json!({
                    "match": body.0["nationalCode"] == "0082451291"
                        && body.0["mobileNumber"] == "09121234567",
                }))
                .into_response(),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/inquiry")
}

async fn an_unreachable_or_slow_registry_refuses_and_binds_nothing(store: Store) {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/inquiry", listener.local_addr().unwrap())
    };
    let cases = [
        (registry_server("honest").await, true),
        (closed, false),
        (registry_server("broken").await, false),
        (registry_server("garbled").await, false),
        (registry_server("slow").await, false),
    ];
    for (i, (url, works)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&Sources {
            env: [
                ("PISHKHAN_DATA_DIR", dir.path().to_str().unwrap()),
                ("PISHKHAN_MOBILE_OWNERSHIP_PROVIDER", "http"),
                ("PISHKHAN_MOBILE_OWNERSHIP_URL", &url),
                ("PISHKHAN_MOBILE_OWNERSHIP_TIMEOUT", "1s"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
            ..Sources::default()
        })
        .unwrap();
        let app = App::with_store(config, store.clone()).unwrap();
        // Each case in its own ten minutes, so the limits of the one before do not answer.
        let now = Utc::now() + chrono::TimeDelta::minutes(11 * i as i64);
        let started = std::time::Instant::now();
        let asked = app
            .request_sign_in_code("0082451291", "09121234567", &client(), now)
            .await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{url}: fails fast"
        );
        if works {
            asked.unwrap();
            assert_eq!(app.mobile_ownership().counts().confirmed, 1);
            assert_eq!(sms_codes(&app).len(), 1);
        } else {
            let error = asked.unwrap_err();
            assert!(
                matches!(error, AuthError::RegistryUnavailable),
                "{url}: {error}"
            );
            assert!(
                error
                    .message(pishkhan_domain::Language::Persian)
                    .contains("شاهکار")
            );
            assert_eq!(app.mobile_ownership().counts().unavailable, 1);
            assert!(sms_codes(&app).is_empty(), "{url}: nothing sent");
        }
    }
    assert!(
        store
            .citizen_by_national_id("0082451291")
            .await
            .unwrap()
            .is_none(),
        "nothing was bound"
    );
}

async fn consent_goes_only_to_a_line_the_registry_confirms(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "op1",
        vec![grant(Role::Operator, "centre:tehran-1001")],
    )
    .await;
    let op1 = staff(&f.store, "op1").await;
    let ask = |mobile: &'static str| {
        let (app, op1) = (f.app.clone(), op1.clone());
        async move {
            app.request_consent(
                &op1,
                "tehran-1001",
                "0082451291",
                mobile,
                "گواهی عدم سوء پیشینه",
                &client(),
                Utc::now(),
            )
            .await
        }
    };
    // The operator types any mobile for someone who has never signed in: refused.
    let error = ask("09351112233").await.unwrap_err();
    assert!(matches!(error, AuthError::NotTheirMobile), "{error}");
    assert!(sms_codes(&f.app).is_empty());
    assert!(
        f.store
            .citizen_by_national_id("0082451291")
            .await
            .unwrap()
            .is_none()
    );
    // The citizen (or someone in their name) spends the line's budget of sign-in codes…
    let mut sent = 0;
    while f
        .app
        .request_sign_in_code("0082451291", "09121234567", &client(), Utc::now())
        .await
        .is_ok()
    {
        sent += 1;
        assert!(sent <= 5, "sign-in codes to one line are limited");
    }
    assert!(sent >= 1);
    // …and the operator in front of them can still ask consent: consent codes have their own
    // budget. The line that is theirs gets the code, and the consent binds it.
    let ticket = ask("09121234567").await.unwrap();
    let (to, _, code) = sms_codes(&f.app).pop().unwrap();
    assert_eq!(to, "+989121234567");
    f.app
        .confirm_consent(&op1, &ticket.code_id, &code.unwrap(), &client(), Utc::now())
        .await
        .unwrap();
    let citizen = f
        .store
        .citizen_by_national_id("0082451291")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(citizen.mobile, "+989121234567");
    // Once bound, the mobile on record is used whatever is typed.
    ask("09351112233").await.unwrap();
    assert_eq!(sms_codes(&f.app).pop().unwrap().0, "+989121234567");
}

async fn a_huge_username_is_refused_and_recorded_without_it(store: Store) {
    let f = fixture(store, "30m").await;
    let (before, _) = f.store.audit_chain().await.unwrap();
    let huge = "x".repeat(500 * 1024);
    for i in 0..20 {
        let error = f
            .app
            .staff_sign_in(
                &huge,
                &secret(PASSWORD),
                &client_at(&format!("203.0.113.{i}")),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::WrongCredentials), "{error}");
        let error = f
            .app
            .staff_sign_in(
                "clerk",
                &secret(&huge),
                &client_at("203.0.113.200"),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                AuthError::WrongCredentials | AuthError::Throttled { .. }
            ),
            "{error}"
        );
    }
    assert_eq!(
        f.app.password_checks(),
        0,
        "no argon2 hash was computed for any of them"
    );
    let (after, _) = f.store.audit_chain().await.unwrap();
    let written: usize = after[before.len()..]
        .iter()
        .map(|e| e.fields.actor.len() + e.fields.target_id.len() + e.fields.details.len())
        .sum();
    assert_eq!(
        after.len() - before.len(),
        40,
        "each refusal is on the record"
    );
    assert!(
        written < 40 * 200,
        "recorded without the input: {written} bytes"
    );
}

async fn idle_sessions_end_and_sign_out_everywhere_ends_all(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    // The clock is the test's: half an hour passes without waiting for it.
    let t0 = Utc::now();
    let a = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), t0)
        .await
        .unwrap();
    let minutes = |m: i64| chrono::TimeDelta::minutes(m);
    assert!(
        f.app
            .session(a.token.expose(), t0 + minutes(29))
            .await
            .unwrap()
            .is_some(),
        "used within the idle timeout: still signed in"
    );
    assert!(
        f.app
            .session(a.token.expose(), t0 + minutes(29 + 31))
            .await
            .unwrap()
            .is_none(),
        "idle too long"
    );

    let b = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    let c = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(f.app.open_sessions(&b.session.principal).await.unwrap(), 2);
    let ended = f
        .app
        .sign_out_everywhere(&c.session, &client())
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert!(
        f.app
            .session(b.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.app
            .session(c.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    f.app.verify_audit().await.unwrap();
}

async fn operators_file_only_with_the_citizens_consent(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "op1",
        vec![grant(Role::Operator, "centre:tehran-1001")],
    )
    .await;
    user(
        &f.app,
        "op2",
        vec![grant(Role::Operator, "centre:tehran-1002")],
    )
    .await;
    let op1 = staff(&f.store, "op1").await;
    let op2 = staff(&f.store, "op2").await;
    // Not at a centre one works at.
    let error = f
        .app
        .request_consent(
            &op2,
            "tehran-1001",
            "0082451291",
            "09121234567",
            "گواهی عدم سوء پیشینه",
            &client(),
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::NotAllowed));
    let ticket = f
        .app
        .request_consent(
            &op1,
            "tehran-1001",
            "0082451291",
            "09121234567",
            "گواهی عدم سوء پیشینه",
            &client(),
            Utc::now(),
        )
        .await
        .unwrap();
    let (_, text, code) = sms_codes(&f.app).pop().unwrap();
    assert!(text.contains("دفتر پیشخوان ۱۰۰۱"), "{text}");
    let code = code.unwrap();
    // Another operator cannot use the code.
    let error = f
        .app
        .confirm_consent(&op2, &ticket.code_id, &code, &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::CodeExpired));
    let consent = f
        .app
        .confirm_consent(&op1, &ticket.code_id, &code, &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(consent.centre, "tehran-1001");
    let citizen = f
        .store
        .citizen_by_national_id("0082451291")
        .await
        .unwrap()
        .unwrap();
    let listed = f.app.consents_of(&citizen).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].centre_name, "دفتر پیشخوان ۱۰۰۱");
    assert_eq!(listed[0].operator_name, "مریم احمدی");
    assert_eq!(listed[0].purpose, "گواهی عدم سوء پیشینه");
    // The lookup of the citizen by staff is on the record.
    let (entries, _) = f.store.audit_chain().await.unwrap();
    assert!(entries.iter().any(|e| e.fields.action == "citizen.lookup"));
    assert!(entries.iter().any(|e| e.fields.action == "consent.grant"));
}

async fn admins_see_and_manage_only_their_scope(store: Store) {
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "gov-tehran",
        vec![grant(Role::GovernorateAdmin, "province:tehran")],
    )
    .await;
    user(
        &f.app,
        "manager",
        vec![grant(Role::CentreManager, "centre:tehran-1001")],
    )
    .await;
    let tehran_op = user(
        &f.app,
        "op-tehran",
        vec![grant(Role::Operator, "centre:tehran-1001")],
    )
    .await;
    let other_op = user(
        &f.app,
        "op-other",
        vec![grant(Role::Operator, "centre:tehran-1002")],
    )
    .await;
    let isfahan_op = user(
        &f.app,
        "op-isfahan",
        vec![grant(Role::Operator, "centre:isfahan-2001")],
    )
    .await;
    let gov = staff(&f.store, "gov-tehran").await;
    let manager = staff(&f.store, "manager").await;
    let actor = Actor {
        id: gov.actor_id(),
        source: "test".into(),
    };

    let names: Vec<String> = f
        .app
        .manageable_users(&gov)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["manager", "op-other", "op-tehran"]);
    let names: Vec<String> = f
        .app
        .manageable_users(&manager)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["op-tehran"]);

    assert!(
        f.app
            .user_for_admin(&gov, &actor, &isfahan_op)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.app
            .user_for_admin(&manager, &actor, &other_op)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.app
            .admin_reset_password(&manager, &actor, &other_op)
            .await
            .unwrap()
            .is_none()
    );
    let password = f
        .app
        .admin_reset_password(&manager, &actor, &tehran_op)
        .await
        .unwrap()
        .unwrap();
    let signed = f
        .app
        .staff_sign_in("op-tehran", &password, &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(signed.session.stage, Stage::ChangePassword);
    let changed = f
        .app
        .change_own_password(
            &signed.session,
            None,
            &secret("a brand new long passphrase"),
            &client(),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(changed.session.stage, Stage::Full);

    let error = f
        .app
        .admin_create_user(
            &manager,
            &actor,
            "new-op",
            "علی رضایی",
            vec![grant(Role::Operator, "centre:tehran-1002")],
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not allowed"), "{error}");
    let (_, first_password) = f
        .app
        .admin_create_user(
            &gov,
            &actor,
            "new-noc",
            "علی رضایی",
            vec![grant(Role::Noc, "province:tehran")],
        )
        .await
        .unwrap();
    let signed = f
        .app
        .staff_sign_in("new-noc", &first_password, &client(), Utc::now())
        .await
        .unwrap();
    assert_eq!(signed.session.stage, Stage::EnrolSecondFactor);

    assert!(
        f.app
            .admin_set_disabled(&gov, &actor, &tehran_op, true)
            .await
            .unwrap()
    );
    assert!(
        f.app
            .session(changed.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_none(),
        "disabling ends sessions"
    );
    let error = f
        .app
        .staff_sign_in(
            "op-tehran",
            &secret("a brand new long passphrase"),
            &client(),
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::AccountDisabled));
    f.app.verify_audit().await.unwrap();
}

async fn busy_sessions_still_end_at_the_absolute_timeout(store: Store) {
    let f = fixture_with(
        store,
        &[
            ("PISHKHAN_SESSION_IDLE_TIMEOUT", "30m"),
            ("PISHKHAN_SESSION_ABSOLUTE_TIMEOUT", "12h"),
        ],
    )
    .await;
    user(
        &f.app,
        "clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    let t0 = Utc::now();
    let signed = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), t0)
        .await
        .unwrap();
    // In use every twenty minutes for almost twelve hours: never idle, still signed in.
    for step in 1..36 {
        let at = t0 + chrono::TimeDelta::minutes(20 * step);
        assert!(
            f.app
                .session(signed.token.expose(), at)
                .await
                .unwrap()
                .is_some(),
            "in use at {at}"
        );
    }
    assert!(
        f.app
            .session(
                signed.token.expose(),
                t0 + chrono::TimeDelta::hours(12) + chrono::TimeDelta::minutes(1)
            )
            .await
            .unwrap()
            .is_none(),
        "ended at the absolute limit however busy"
    );
}

/// Makes every append to the audit log fail, in the database itself (no code path is spared),
/// or stops doing so.
async fn audit_fails(store: &Store, fail: bool) {
    use pishkhan_store::testing::execute_raw;
    let sql = match (store.backend(), fail) {
        (pishkhan_store::Backend::Sqlite, true) => {
            "CREATE TRIGGER audit_fault BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END"
        }
        (pishkhan_store::Backend::Sqlite, false) => "DROP TRIGGER audit_fault",
        (pishkhan_store::Backend::Postgres, true) => {
            "CREATE FUNCTION audit_fault() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected audit failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER audit_fault BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_fault()"
        }
        (pishkhan_store::Backend::Postgres, false) => {
            "DROP TRIGGER audit_fault ON audit_log; DROP FUNCTION audit_fault()"
        }
    };
    execute_raw(store, sql).await.unwrap();
}

/// Every audited change commits with its audit entry: when the entry cannot be written, the
/// change is not stored either — accounts, passwords, tokens, sessions, organisations,
/// holidays, search synonyms, agency contacts and catalogue versions alike.
async fn a_change_whose_audit_entry_fails_is_not_stored(store: Store) {
    let f = fixture(store, "30m").await;
    let cli = Actor::command_line();
    let gov_id = user(
        &f.app,
        "gov",
        vec![
            grant(Role::GovernorateAdmin, "province:tehran"),
            grant(Role::GovernorateAdmin, "national"),
        ],
    )
    .await;
    let clerk_id = user(
        &f.app,
        "clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    user(
        &f.app,
        "sys",
        vec![grant(Role::System, "agency:tehran-tax")],
    )
    .await;
    let gov = staff(&f.store, "gov").await;
    let signed = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    let (entries_before, _) = f.store.audit_chain().await.unwrap();

    audit_fails(&f.store, true).await;
    assert!(
        f.app
            .create_user(
                &cli,
                "newcomer",
                "نو",
                &secret(PASSWORD),
                vec![grant(Role::AgencyClerk, "agency:tehran-tax")]
            )
            .await
            .is_err()
    );
    assert!(
        f.app
            .add_org(&cli, OrgKind::Agency, "tehran-new", "tehran", "تازه")
            .await
            .is_err()
    );
    assert!(
        f.app
            .import_holidays(
                &cli,
                "1410/01/01,solar,نوروز,Nowruz\ncovered,1410,,\n",
                "t.csv"
            )
            .await
            .is_err()
    );
    assert!(
        f.app
            .admin_reset_password(&gov, &cli, &clerk_id)
            .await
            .is_err()
    );
    assert!(
        f.app
            .admin_set_disabled(&gov, &cli, &clerk_id, true)
            .await
            .is_err()
    );
    assert!(f.app.create_api_token(&cli, "sys", "t").await.is_err());
    assert!(
        f.app
            .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
            .await
            .is_err()
    );
    assert!(f.app.sign_out(&signed.session, &client()).await.is_err());
    assert!(
        f.app
            .save_synonyms(&gov, &cli, "شناسنامه = سجلی")
            .await
            .is_err()
    );
    let mut card = pishkhan_app::demo::example_card().unwrap();
    card.code = "tehran.audited".into();
    card.agency = "tehran-tax".into();
    assert!(f.app.save_service_draft(&gov, &cli, &card).await.is_err());
    audit_fails(&f.store, false).await;

    // Nothing of any of them was stored.
    assert!(
        f.store
            .user_by_username("newcomer")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.store
            .org_directory()
            .await
            .unwrap()
            .agency("tehran-new")
            .is_none()
    );
    assert!(!f.app.holiday_calendar().await.unwrap().covers(1410));
    let clerk = f.store.user_by_id(&clerk_id).await.unwrap().unwrap();
    assert!(!clerk.disabled && !clerk.must_change_password);
    assert!(
        f.app
            .session(signed.token.expose(), Utc::now())
            .await
            .unwrap()
            .is_some(),
        "the one session is still there, and no other was opened"
    );
    assert_eq!(
        f.app
            .open_sessions(&signed.session.principal)
            .await
            .unwrap(),
        1
    );
    assert!(f.store.synonym_list().await.unwrap().is_none());
    assert!(!f.app.service_exists("tehran.audited").await.unwrap());
    let (entries_after, _) = f.store.audit_chain().await.unwrap();
    assert_eq!(entries_after.len(), entries_before.len());
    f.app.verify_audit().await.unwrap();

    // With the audit log back, the same changes go through, each on the record.
    f.app.create_api_token(&cli, "sys", "t").await.unwrap();
    f.app
        .admin_set_disabled(&gov, &cli, &clerk_id, true)
        .await
        .unwrap();
    let (entries_now, _) = f.store.audit_chain().await.unwrap();
    let changes: Vec<&str> = entries_now[entries_before.len()..]
        .iter()
        .map(|e| e.fields.action.as_str())
        .filter(|action| !action.ends_with(".view"))
        .collect();
    assert_eq!(changes, ["api-token.create", "user.disable"]);
    let _ = gov_id;
}

/// Twenty wrong passwords from twenty addresses used to lock the account, the right password
/// included. Now each address is slowed on its own; and when many addresses spend the account's
/// budget, the owner's own browser (one that signed in before) still gets through.
async fn guessing_from_many_addresses_does_not_lock_the_owner_out(store: Store) {
    use pishkhan_app::auth::ACCOUNT_PASSWORDS_PER_HOUR;
    let f = fixture(store, "30m").await;
    user(
        &f.app,
        "clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    let guess = |i: i64| {
        let app = f.app.clone();
        async move {
            app.staff_sign_in(
                "clerk",
                &secret("a wrong guess 123"),
                &client_at(&format!("198.51.100.{i}")),
                Utc::now(),
            )
            .await
        }
    };
    for i in 0..20 {
        assert!(matches!(guess(i).await, Err(AuthError::WrongCredentials)));
    }
    // The owner, from the office: in, and the browser is known from now on.
    let signed = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &client(), Utc::now())
        .await
        .unwrap();
    let device = signed.device.expect("a new browser is given its cookie");

    // Many more addresses spend the account's budget: a browser never seen is refused…
    for i in 20..ACCOUNT_PASSWORDS_PER_HOUR {
        let _ = guess(i).await;
    }
    let checks = f.app.password_checks();
    let stranger = f
        .app
        .staff_sign_in(
            "clerk",
            &secret(PASSWORD),
            &client_at("203.0.113.9"),
            Utc::now(),
        )
        .await;
    assert!(
        matches!(stranger, Err(AuthError::Throttled { .. })),
        "{stranger:?}"
    );
    assert_eq!(f.app.password_checks(), checks, "refused before the hash");
    // …a forged cookie is a browser never seen…
    let mut forged = client_at("203.0.113.9");
    forged.device = Some("0".repeat(64));
    assert!(matches!(
        f.app
            .staff_sign_in("clerk", &secret(PASSWORD), &forged, Utc::now())
            .await,
        Err(AuthError::Throttled { .. })
    ));
    // …and the owner's own browser, from anywhere, gets through (with the right password only).
    let mut own = client_at("203.0.113.10");
    own.device = Some(device.expose().clone());
    assert!(matches!(
        f.app
            .staff_sign_in("clerk", &secret("a wrong guess 123"), &own, Utc::now())
            .await,
        Err(AuthError::WrongCredentials)
    ));
    let again = f
        .app
        .staff_sign_in("clerk", &secret(PASSWORD), &own, Utc::now())
        .await
        .unwrap();
    assert!(again.device.is_none(), "already known");
    // A browser known for one account is a stranger to another.
    user(
        &f.app,
        "other",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    let other = f
        .app
        .staff_sign_in("other", &secret(PASSWORD), &own, Utc::now())
        .await
        .unwrap();
    assert!(other.device.is_some());
}

/// Many addresses asking codes for many numbers cannot run up the SMS bill: all codes together
/// take `sms_per_minute`.
async fn codes_to_every_number_together_have_a_budget(store: Store) {
    let f = fixture_with(
        store,
        &[
            ("PISHKHAN_SESSION_IDLE_TIMEOUT", "30m"),
            ("PISHKHAN_SMS_PER_MINUTE", "2"),
        ],
    )
    .await;
    let ask = |national_id: &'static str, mobile: &'static str, ip: &'static str| {
        let app = f.app.clone();
        async move {
            app.request_sign_in_code(national_id, mobile, &client_at(ip), Utc::now())
                .await
        }
    };
    assert!(
        ask("1234567891", "09121111111", "198.51.100.1")
            .await
            .is_ok()
    );
    assert!(
        ask("2345678917", "09122222222", "198.51.100.2")
            .await
            .is_ok()
    );
    let third = ask("3456789122", "09123333333", "198.51.100.3").await;
    assert!(
        matches!(third, Err(AuthError::Throttled { .. })),
        "{third:?}"
    );
    // Attempts count by source: an IPv6 subscriber's /64 is one source.
    assert_eq!(client_at("2001:db8:77:1::a").source(), "2001:db8:77:1::");
    assert_eq!(
        client_at("2001:db8:77:1:ffff::1").source(),
        client_at("2001:db8:77:1::2").source()
    );
    assert_ne!(
        client_at("2001:db8:77:2::1").source(),
        client_at("2001:db8:77:1::1").source()
    );
    assert_eq!(client_at("198.51.100.4").source(), "198.51.100.4");
}

/// A copy of the database does not give away anyone's second factor: each TOTP secret is
/// sealed with the key file's key, bound to its account; one stored before sealing existed is
/// sealed at the next start; a rotation seals every secret with the new key; a node without the
/// key that sealed a secret refuses to start.
async fn second_factor_secrets_are_sealed_at_rest_and_keys_rotate(store: Store) {
    use pishkhan_app::sealed::Sealer;
    use pishkhan_domain::totp::TotpSecret;
    let f = fixture(store.clone(), "30m").await;
    let cli = Actor::command_line();
    let id = user(
        &f.app,
        "gov",
        vec![grant(Role::GovernorateAdmin, "province:tehran")],
    )
    .await;
    let totp = TotpSecret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DP").unwrap();
    f.app.set_second_factor(&cli, &id, &totp).await.unwrap();
    let stored = f.store.totp_secrets().await.unwrap();
    assert_eq!(stored.len(), 1);
    let key_file = f.app.config().secrets_key_file();
    let first = Sealer::open_or_create(&key_file)
        .unwrap()
        .current()
        .to_owned();
    assert!(
        stored[0].1.starts_with(&format!("sealed:v1:{first}:")),
        "{}",
        stored[0].1
    );
    assert!(!stored[0].1.contains(&totp.to_base32()));

    let sign_in = |at: i64| {
        let app = f.app.clone();
        let totp = totp.clone();
        async move {
            let first = app
                .staff_sign_in("gov", &secret(PASSWORD), &client(), Utc::now())
                .await
                .unwrap();
            app.verify_second_factor(&first.session, &totp.code_at(at), &client(), Utc::now())
                .await
        }
    };
    let now = Utc::now().timestamp();
    assert!(sign_in(now).await.is_ok(), "the sealed secret opens");

    // Stored in the clear (before sealing existed): sealed at the next start, still works.
    pishkhan_store::testing::execute_raw(
        &f.store,
        "UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXPJBSWY3DP' WHERE username = 'gov'",
    )
    .await
    .unwrap();
    let done = f.app.reseal_secrets(&cli, false).await.unwrap();
    assert_eq!((done.resealed, &done.key), (1, &first));
    assert!(
        f.store.totp_secrets().await.unwrap()[0]
            .1
            .starts_with(&format!("sealed:v1:{first}:"))
    );
    assert!(sign_in(now + 30).await.is_ok());

    // Rotated: a new key in the file, every secret sealed with it, sign-in unchanged.
    let second = Sealer::add_key(&key_file).unwrap();
    let rotated = App::with_store(f.app.config().clone(), store.clone()).unwrap();
    let done = rotated.reseal_secrets(&cli, true).await.unwrap();
    assert_eq!((done.resealed, &done.key), (1, &second));
    assert!(
        f.store.totp_secrets().await.unwrap()[0]
            .1
            .starts_with(&format!("sealed:v1:{second}:"))
    );

    // A node whose key file lacks the new key cannot open it, and says which key it lacks.
    let other = tempfile::tempdir().unwrap();
    let mut config = f.app.config().clone();
    config.secrets_key_file = Some(other.path().join("secrets.key"));
    let stranger = App::with_store(config, store.clone()).unwrap();
    let refused = stranger.reseal_secrets(&cli, false).await.unwrap_err();
    assert!(
        refused.to_string().contains(&format!("`{second}`")),
        "{refused}"
    );
}

/// An agency admin looks after its system's tokens: made and shown once, last use noted, a
/// rotation keeps the old token working for the overlap only, a revocation stops it at once;
/// another agency's admin sees none of it, and an account that is not an API client has none.
async fn api_tokens_rotate_with_overlap_and_revoke_at_once(store: Store) {
    let f = fixture(store, "30m").await;
    let cli = Actor::command_line();
    let sys_id = user(
        &f.app,
        "sys",
        vec![grant(Role::System, "agency:tehran-tax")],
    )
    .await;
    user(
        &f.app,
        "tax.admin",
        vec![grant(Role::AgencyAdmin, "agency:tehran-tax")],
    )
    .await;
    user(
        &f.app,
        "isfahan.admin",
        vec![grant(Role::AgencyAdmin, "agency:isfahan-tax")],
    )
    .await;
    let clerk_id = user(
        &f.app,
        "tax.clerk",
        vec![grant(Role::AgencyClerk, "agency:tehran-tax")],
    )
    .await;
    let admin = staff(&f.store, "tax.admin").await;
    let stranger = staff(&f.store, "isfahan.admin").await;
    let works = |token: String| {
        let app = f.app.clone();
        async move { app.api_principal(&token).await.unwrap().is_some() }
    };

    // A name is needed, and not a huge one.
    for label in ["", "   ", &"ب".repeat(101)] {
        assert!(
            f.app
                .admin_create_api_token(&admin, &cli, &sys_id, label)
                .await
                .is_err()
        );
    }
    let (first_id, first) = f
        .app
        .admin_create_api_token(&admin, &cli, &sys_id, "سامانهٔ مالیات")
        .await
        .unwrap()
        .unwrap();
    assert!(works(first.expose().clone()).await);
    let listed = f
        .app
        .api_tokens(Some(&admin), &sys_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, first_id);
    assert!(listed[0].last_used_at.is_some(), "the use is noted");

    // Not another agency's admin, and not an account that is no API client.
    assert!(
        f.app
            .api_tokens(Some(&stranger), &sys_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.app
            .api_tokens(Some(&admin), &clerk_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.app
            .admin_create_api_token(&stranger, &cli, &sys_id, "x")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !f.app
            .revoke_api_token(Some(&stranger), &cli, &first_id)
            .await
            .unwrap()
    );
    assert!(
        f.app
            .rotate_api_token(Some(&stranger), &cli, &first_id, TimeDelta::hours(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        works(first.expose().clone()).await,
        "a refused change changes nothing"
    );

    // Rotation: the new one works, the old one too until the overlap ends; an overlap beyond
    // thirty days or below zero is refused.
    for bad in [TimeDelta::days(31), TimeDelta::hours(-1)] {
        assert!(
            f.app
                .rotate_api_token(Some(&admin), &cli, &first_id, bad)
                .await
                .is_err()
        );
    }
    let (second_id, second) = f
        .app
        .rotate_api_token(Some(&admin), &cli, &first_id, TimeDelta::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert!(works(second.expose().clone()).await);
    assert!(
        works(first.expose().clone()).await,
        "the old token works during the overlap"
    );
    let old = f.store.api_token(&first_id).await.unwrap().unwrap();
    let until = old.expires_at.unwrap();
    assert!(
        until > Utc::now() + TimeDelta::minutes(59) && until <= Utc::now() + TimeDelta::hours(1)
    );
    assert_eq!(
        f.store
            .working_api_token(
                &pishkhan_domain::digest::sha256_hex(first.expose().as_bytes()),
                until + TimeDelta::seconds(1)
            )
            .await
            .unwrap(),
        None,
        "and not after it"
    );
    // With no overlap, the replaced token stops at once; rotating it again is refused.
    let (_, third) = f
        .app
        .rotate_api_token(Some(&admin), &cli, &second_id, TimeDelta::zero())
        .await
        .unwrap()
        .unwrap();
    assert!(!works(second.expose().clone()).await);
    assert!(works(third.expose().clone()).await);
    assert!(
        f.app
            .rotate_api_token(Some(&admin), &cli, &second_id, TimeDelta::hours(1))
            .await
            .unwrap()
            .is_none()
    );

    // Revocation stops a token at once, once; the command line may revoke too.
    assert!(
        f.app
            .revoke_api_token(Some(&admin), &cli, &first_id)
            .await
            .unwrap()
    );
    assert!(!works(first.expose().clone()).await);
    assert!(
        !f.app
            .revoke_api_token(Some(&admin), &cli, &first_id)
            .await
            .unwrap()
    );
    let third_id = pishkhan_store::api_token_id(&pishkhan_domain::digest::sha256_hex(
        third.expose().as_bytes(),
    ));
    assert!(f.app.revoke_api_token(None, &cli, &third_id).await.unwrap());
    assert!(!works(third.expose().clone()).await);
    assert!(
        !f.app
            .revoke_api_token(None, &cli, "no-such-token")
            .await
            .unwrap()
    );

    // Every change is on the record.
    let (entries, _) = f.store.audit_chain().await.unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e.fields.action.as_str())
        .filter(|a| a.starts_with("api-token."))
        .collect();
    assert_eq!(
        actions,
        [
            "api-token.create",
            "api-token.rotate",
            "api-token.rotate",
            "api-token.revoke",
            "api-token.revoke"
        ]
    );
}
