//! Fees paid online through the sandbox bank (its own process, as a real gateway would be):
//! paid once however often the bank's answer comes, a wrong amount reversed and never counted,
//! a lost callback recovered by the sweep after a restart, forged callbacks ignored, and the
//! books balanced after each. On SQLite and PostgreSQL.

use chrono::{TimeDelta, Utc};
use pishkhan_app::App;
use pishkhan_app::applications::ApplicationError;
use pishkhan_app::audit::Actor;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::CitizenRecord;
use pishkhan_app::{PaymentSettings, Secret};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::payment::Method;
use pishkhan_store::Store;
use serde_json::{Value, json};

use crate::applications::request;
use crate::support::{Server, on_both_backends, test_config};

on_both_backends!(a_fee_is_paid_online_once_and_every_fault_ends_balanced);

const SERVICE: &str = "tehran.traffic-fines";
use crate::bank::{KEY, TERMINAL, bank};

/// What the bank says of the payment `token`: paid, settled, reversed …
fn bank_status(bank: &Server, token: &str) -> Value {
    let (_, said) = request(
        &bank.address,
        "POST",
        "/api/verify",
        "",
        &json!({ "terminal": TERMINAL, "key": KEY, "token": token }).to_string(),
    )
    .unwrap();
    serde_json::from_str::<Value>(&said).unwrap()["status"].clone()
}

fn tell(bank: &Server, mode: &str) {
    let (status, _) = request(
        &bank.address,
        "POST",
        "/control",
        "",
        &json!({ "mode": mode }).to_string(),
    )
    .unwrap();
    assert_eq!(status, 204);
}

/// The person pays on the bank's page: the token of the form the bank sends them back with, if
/// it sends them back.
fn pay_at_bank(bank: &Server, page: &str) -> Option<String> {
    let token = page.rsplit('/').next().unwrap();
    let (status, reply) =
        crate::bank::post_form(&bank.address, &format!("/pay/{token}"), "choice=pay");
    assert_eq!(status, 200, "{reply}");
    reply.contains("name=\"token\"").then(|| token.to_owned())
}

async fn app_with_bank(store: Store, bank: &Server) -> App {
    let mut config = test_config();
    config.payment = Some(PaymentSettings {
        url: format!("http://{}", bank.address),
        terminal: TERMINAL.into(),
        key: Secret::new(KEY.into()),
    });
    let app = App::with_store(config, store).unwrap();
    app.seed_holidays().await.unwrap();
    app
}

async fn person(store: &Store) -> Principal {
    let record = store
        .ensure_citizen(&CitizenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            national_id: "0082451291".into(),
            mobile: "+989121234567".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    Principal::Citizen(record)
}

async fn staff(app: &App, store: &Store, name: &str, role: Role, scope: &str) -> Principal {
    let id = app
        .create_user(
            &Actor::command_line(),
            name,
            "کارمند",
            &Secret::new("payments test passphrase".to_owned()),
            vec![RoleGrant::new(role, Scope::parse(scope).unwrap()).unwrap()],
        )
        .await
        .unwrap();
    let user = store.user_by_id(&id).await.unwrap().unwrap();
    if role == Role::System {
        Principal::System(user)
    } else {
        Principal::Staff(user)
    }
}

/// A traffic-fines application of the citizen's, taken by the police's system to its payment
/// step with the fines listed at `rials`.
async fn owing(app: &App, citizen: &Principal, police: &Principal, rials: &str) -> String {
    let mut filing = app.example_submission(SERVICE).await.unwrap().unwrap();
    filing.national_id = String::new();
    filing.mobile = String::new();
    let filed = app
        .submit_application(citizen, "test", filing, Utc::now())
        .await
        .unwrap();
    let code = filed.code.as_str().to_owned();
    for (action, fields) in [
        ("start-review", vec![]),
        (
            "statement-done",
            vec![("fines_rials".to_owned(), rials.to_owned())],
        ),
    ] {
        let view = app.application_for(police, &code).await.unwrap().unwrap();
        app.act_on_application_with(
            police,
            "test",
            &code,
            view.record.revision,
            action,
            "",
            &fields,
            vec![],
            None,
            None,
            Utc::now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{action}: {e:?}"));
    }
    let view = app.application_for(police, &code).await.unwrap().unwrap();
    assert_eq!(view.record.state, "payment");
    code
}

async fn state_of(app: &App, who: &Principal, code: &str) -> String {
    app.application_for(who, code)
        .await
        .unwrap()
        .unwrap()
        .record
        .state
}

async fn books(store: &Store) -> Vec<(String, i64)> {
    assert_eq!(store.ledger_total().await.unwrap(), 0, "the books balance");
    store.ledger_balances("").await.unwrap()
}

async fn a_fee_is_paid_online_once_and_every_fault_ends_balanced(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    app.load_demo_catalogue().await.unwrap();
    let (services, _) = app
        .published_services(&pishkhan_app::records::ServiceFilter::default(), 500, 0)
        .await
        .unwrap();
    let agency = services
        .iter()
        .find(|s| s.card.code == SERVICE)
        .map(|s| s.card.agency.clone())
        .unwrap();
    let police = staff(
        &app,
        &store,
        "police.system",
        Role::System,
        &format!("agency:{agency}"),
    )
    .await;
    let citizen = person(&store).await;

    // The bill: the fines the police listed, owed at the payment step. Their system cannot
    // move it on unpaid.
    let code = owing(&app, &citizen, &police, "۲۵۰٬۰۰۰").await;
    let record = app
        .application_for(&citizen, &code)
        .await
        .unwrap()
        .unwrap()
        .record;
    let owed = app.owed_bill(&record).await.unwrap().unwrap();
    assert_eq!(owed.bill.total(), 250_000);
    let unpaid = app
        .act_on_application(
            &police,
            "test",
            &code,
            record.revision,
            "payment-done",
            "",
            vec![],
            None,
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&unpaid, ApplicationError::Invalid(p) if p[0].code == "payment_required"),
        "{unpaid:?}"
    );
    // Only the applicant pays online; an operator takes it at a counter, not a citizen.
    assert!(matches!(
        app.start_online_payment(&police, "test", &code, Utc::now()).await,
        Err(PaymentError::Refused(p)) if p.code == "payment_citizen_only"
    ));
    assert!(matches!(
        app.pay_at_counter(&citizen, "test", &code, Method::Cash, "", Utc::now()).await,
        Err(PaymentError::Refused(p)) if p.code == "payment_counter_only"
    ));

    // Paid at the bank, the answer told twice at once and once more later: paid once, the
    // application moved on once, settled with the bank.
    let page = app
        .start_online_payment(&citizen, "test", &code, Utc::now())
        .await
        .unwrap();
    assert!(
        page.starts_with(&format!("http://{}/pay/SBX", bank.address)),
        "{page}"
    );
    let token = pay_at_bank(&bank, &page).unwrap();
    let (first, second) = tokio::join!(
        app.payment_returned(&token, Utc::now()),
        app.payment_returned(&token, Utc::now())
    );
    let (paid, refusal) = first.unwrap();
    second.unwrap();
    assert_eq!(refusal, None);
    let (again, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(again.state, "settled");
    assert_eq!(again.number, paid.number);
    assert_eq!(state_of(&app, &citizen, &code).await, "receipt");
    let history = app
        .application_for(&citizen, &code)
        .await
        .unwrap()
        .unwrap()
        .events;
    assert_eq!(
        history
            .iter()
            .filter(|e| e.action == "payment-done")
            .count(),
        1
    );
    let after_paid = books(&store).await;
    assert_eq!(
        after_paid,
        vec![
            (format!("agency:{agency}"), -250_000),
            (format!("provider:{TERMINAL}"), 250_000),
        ]
    );
    assert_eq!(bank_status(&bank, &token), "settled");
    // Nothing is owed any more: no second payment can start.
    assert!(matches!(
        app.start_online_payment(&citizen, "test", &code, Utc::now()).await,
        Err(PaymentError::Refused(p)) if p.code == "payment_not_owed"
    ));

    // A forged callback: an unknown token, or an empty one, changes nothing.
    assert!(matches!(
        app.payment_returned("SBX0000000000000000", Utc::now())
            .await,
        Err(PaymentError::NotFound)
    ));
    assert!(matches!(
        app.payment_returned("", Utc::now()).await,
        Err(PaymentError::NotFound)
    ));

    // The bank takes 1,000 rials less: refused, reversed with the bank, never counted; the
    // application still owes, and the person is told why.
    let short = owing(&app, &citizen, &police, "120000").await;
    tell(&bank, "amount");
    let page = app
        .start_online_payment(&citizen, "test", &short, Utc::now())
        .await
        .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (failed, refusal) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(refusal.map(|r| r.code()), Some("payment_wrong_amount"));
    assert_eq!(failed.state, "failed");
    assert!(failed.note.unwrap().contains("برگشت داده شد"));
    assert_eq!(state_of(&app, &citizen, &short).await, "payment");
    assert_eq!(books(&store).await, after_paid);
    assert_eq!(bank_status(&bank, &token), "reversed");

    // Declined by the bank: failed, nothing counted, and the person may pay again.
    tell(&bank, "fail");
    let page = app
        .start_online_payment(&citizen, "test", &short, Utc::now())
        .await
        .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (declined, refusal) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(
        (declined.state.as_str(), refusal.map(|r| r.code())),
        ("failed", Some("payment_not_paid"))
    );

    // The bank takes the money and its answer never arrives (the crash between the bank's
    // confirmation and the application's update): the payment stays pending. After a restart
    // (a new App on the same database) the sweep asks the bank and finishes it: paid, the
    // application moved on, settled. The late callback then changes nothing.
    tell(&bank, "timeout");
    let page = app
        .start_online_payment(&citizen, "test", &short, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        pay_at_bank(&bank, &page),
        None,
        "the bank never sent the person back"
    );
    let token = page.rsplit('/').next().unwrap().to_owned();
    drop(app);
    let app = app_with_bank(store.clone(), &bank).await;
    assert_eq!(
        app.sweep_payments(Utc::now()).await.unwrap(),
        0,
        "not due yet"
    );
    assert_eq!(state_of(&app, &citizen, &short).await, "payment");
    let later = Utc::now() + TimeDelta::minutes(16);
    assert!(app.sweep_payments(later).await.unwrap() >= 1);
    assert_eq!(state_of(&app, &citizen, &short).await, "receipt");
    let (late, _) = app.payment_returned(&token, later).await.unwrap();
    assert_eq!(late.state, "settled");
    assert_eq!(
        books(&store).await,
        vec![
            (format!("agency:{agency}"), -370_000),
            (format!("provider:{TERMINAL}"), 370_000),
        ]
    );

    // A payment started and left on the bank's page: given up after two hours, and if the
    // person pays after that, the money goes back.
    tell(&bank, "normal");
    let left = owing(&app, &citizen, &police, "50000").await;
    let page = app
        .start_online_payment(&citizen, "test", &left, Utc::now())
        .await
        .unwrap();
    let token = page.rsplit('/').next().unwrap().to_owned();
    app.sweep_payments(Utc::now() + TimeDelta::hours(3))
        .await
        .unwrap();
    let payments = app
        .owed_bill(
            &app.application_for(&citizen, &left)
                .await
                .unwrap()
                .unwrap()
                .record,
        )
        .await
        .unwrap()
        .unwrap()
        .payments;
    assert_eq!(payments.last().unwrap().state, "failed");
    pay_at_bank(&bank, &page).unwrap();
    let (given_back, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(given_back.state, "failed");
    assert_eq!(bank_status(&bank, &token), "reversed");
    assert_eq!(state_of(&app, &citizen, &left).await, "payment");
    assert_eq!(
        books(&store).await.iter().map(|(_, r)| r.abs()).max(),
        Some(370_000)
    );
}
