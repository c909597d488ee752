#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Identity on both databases: sign-in limits under concurrency, second factor, citizen codes,
//! sessions, consent, and admins kept inside their scope.

use chrono::Utc;

use pishkhan_app::audit::Actor;
use pishkhan_app::auth::{AuthError, Client, Stage};
use pishkhan_app::config::Sources;
use pishkhan_app::policy::Principal;
use pishkhan_app::sms::{SMS_FILE_NAME, read_sms_file};
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::totp::TotpSecret;
use pishkhan_store::{OrgKind, Store};

use pishkhan_store::on_both_backends;

on_both_backends!(
    the_sixth_wrong_password_in_a_minute_is_refused_without_hashing,
    the_limiter_holds_under_concurrent_attempts,
    governorate_admins_enrol_and_use_a_second_factor,
    citizens_sign_in_with_a_code_bound_to_their_mobile,
    idle_sessions_end_and_sign_out_everywhere_ends_all,
    busy_sessions_still_end_at_the_absolute_timeout,
    operators_file_only_with_the_citizens_consent,
    admins_see_and_manage_only_their_scope,
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
    Fixture {
        app,
        store,
        _dir: dir,
    }
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
    assert_eq!(
        TotpSecret::from_base32(&stored.unwrap().0).unwrap(),
        pending
    );
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
    // The national ID is now bound to that mobile.
    let error = f
        .app
        .request_sign_in_code("0082451291", "09351112233", &client(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::MobileMismatch));
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
