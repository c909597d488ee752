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

on_both_backends!(
    a_fee_is_paid_online_once_and_every_fault_ends_balanced,
    a_bill_is_paid_once_at_the_counter_and_its_company_sees_it,
    a_till_closes_once_and_only_its_manager_approves_a_difference,
    the_banks_settlement_file_is_reconciled_and_every_mismatch_listed,
    a_centres_monthly_statement_lists_its_shares_on_the_page_in_pdf_and_xlsx,
    callbacks_racing_each_other_never_give_back_the_payment_that_moved_the_application,
    a_bill_is_paid_online_once_and_one_paid_meanwhile_at_a_counter_is_given_back,
    a_payment_and_its_tills_close_at_the_same_instant_never_both_pass,
    an_agencys_admin_refunds_an_online_payment_never_more_than_is_left
);

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

/// The demo catalogue loaded, and the traffic police's system (whose fines the tests pay) with
/// the police's agency code.
async fn police_system(app: &App, store: &Store, name: &str) -> (Principal, String) {
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
    let police = staff(app, store, name, Role::System, &format!("agency:{agency}")).await;
    (police, agency)
}

async fn books(store: &Store) -> Vec<(String, i64)> {
    assert_eq!(store.ledger_total().await.unwrap(), 0, "the books balance");
    store.ledger_balances("").await.unwrap()
}

async fn a_fee_is_paid_online_once_and_every_fault_ends_balanced(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    let (police, agency) = police_system(&app, &store, "police.system").await;
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

fn refusal(error: PaymentError) -> String {
    match error {
        PaymentError::Refused(problem) => problem.code.to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A walk-in's water bill at a counter: read (by IDs or barcode), paid once however often or
/// however concurrently it is tried, into the operator's till and owed to the province's water
/// company, whose clerk sees it and whose neighbour does not; bad, forged and foreign input
/// refused; the books balanced throughout.
async fn a_bill_is_paid_once_at_the_counter_and_its_company_sees_it(store: Store) {
    use pishkhan_app::records::OrgKind;
    use pishkhan_domain::id::{BillServiceType, issue_bill};
    let app = App::with_store(test_config(), store.clone()).unwrap();
    let cli = Actor::command_line();
    for (kind, code) in [
        (OrgKind::Centre, "tehran-c-bills"),
        (OrgKind::Centre, "tehran-c-other"),
        (OrgKind::Agency, "tehran-water"),
        (OrgKind::Agency, "tehran-gas"),
    ] {
        app.add_org(&cli, kind, code, "tehran", "سازمان آزمون")
            .await
            .unwrap();
    }
    let operator = staff(
        &app,
        &store,
        "op-bills",
        Role::Operator,
        "centre:tehran-c-bills",
    )
    .await;
    let neighbour = staff(
        &app,
        &store,
        "op-other",
        Role::Operator,
        "centre:tehran-c-other",
    )
    .await;
    let manager = staff(
        &app,
        &store,
        "mgr-bills",
        Role::CentreManager,
        "centre:tehran-c-bills",
    )
    .await;
    let water_clerk = staff(
        &app,
        &store,
        "clerk-water",
        Role::AgencyClerk,
        "agency:tehran-water",
    )
    .await;
    let gas_clerk = staff(
        &app,
        &store,
        "clerk-gas",
        Role::AgencyClerk,
        "agency:tehran-gas",
    )
    .await;
    let (bill, payment) = issue_bill(4455667, 12, BillServiceType::Water, 1_230_000, 5, 7).unwrap();
    let (bill, payment) = (bill.as_str().to_owned(), payment.as_str().to_owned());

    // Read first: what it is, whom it is for, not paid.
    let read = app
        .read_bill("tehran-c-bills", &bill, &payment)
        .await
        .unwrap();
    assert_eq!(
        (
            read.rials,
            read.payee.as_str(),
            read.period.as_str(),
            read.paid.is_none()
        ),
        (1_230_000, "tehran-water", "07", true)
    );
    // The barcode in the first box says the same; Persian digits too.
    let barcode = pishkhan_domain::id::inspect_bill(&bill, &payment)
        .barcode()
        .unwrap();
    let persian = pishkhan_domain::text::to_persian_digits(&barcode);
    let by_barcode = app.read_bill("tehran-c-bills", &persian, "").await.unwrap();
    assert_eq!(
        (by_barcode.bill_id, by_barcode.payment_id),
        (bill.clone(), payment.clone())
    );
    // A mobile bill has no provincial agency: it is owed to its company by code.
    let (mobile, mobile_payment) =
        issue_bill(99, 3, BillServiceType::Mobile, 50_000, 5, 2).unwrap();
    let mobile_read = app
        .read_bill("tehran-c-bills", mobile.as_str(), mobile_payment.as_str())
        .await
        .unwrap();
    assert_eq!(mobile_read.payee, "mobile-003");

    // Bad and forged input: each refused by name, nothing written.
    let now = Utc::now();
    let wrong_digit = format!(
        "{}{}",
        &bill[..bill.len() - 1],
        (bill.as_bytes()[bill.len() - 1] - b'0' + 1) % 10
    );
    for (b, p, code) in [
        (wrong_digit.as_str(), payment.as_str(), "checksum"),
        ("", payment.as_str(), "empty"),
        (bill.as_str(), "1770160", "bill_pair_mismatch"),
        ("12", "", "wrong_length"),
        (&*"9".repeat(5000), "", "wrong_length"),
    ] {
        let error = app
            .pay_bill_at_counter(
                &operator,
                "test",
                "tehran-c-bills",
                b,
                p,
                Method::Cash,
                "",
                now,
            )
            .await
            .unwrap_err();
        assert_eq!(refusal(error), code, "{b} / {p}");
    }
    let card_without = app
        .pay_bill_at_counter(
            &operator,
            "test",
            "tehran-c-bills",
            &bill,
            &payment,
            Method::Card,
            "",
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(card_without), "payment_bad_reference");
    // Someone from the neighbouring centre, its manager, a clerk: not their counter's till.
    for who in [&neighbour, &manager, &water_clerk] {
        let error = app
            .pay_bill_at_counter(
                who,
                "test",
                "tehran-c-bills",
                &bill,
                &payment,
                Method::Cash,
                "",
                now,
            )
            .await
            .unwrap_err();
        assert_eq!(refusal(error), "payment_counter_only");
    }
    assert!(
        store
            .bill_payments_to("tehran-water", 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Eight counters' tries at once: one pays, the rest are told it is paid.
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, operator, bill, payment) =
            (app.clone(), operator.clone(), bill.clone(), payment.clone());
        tries.spawn(async move {
            app.pay_bill_at_counter(
                &operator,
                "test",
                "tehran-c-bills",
                &bill,
                &payment,
                Method::Cash,
                "",
                Utc::now(),
            )
            .await
        });
    }
    let results = tries.join_all().await;
    let paid: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(paid.len(), 1, "{results:?}");
    for result in results.iter().filter(|r| r.is_err()) {
        match result {
            Err(PaymentError::Refused(p)) => assert_eq!(p.code, "bill_paid"),
            other => panic!("{other:?}"),
        }
    }
    let number = paid[0].number.clone();
    assert_eq!(
        (
            paid[0].purpose.as_str(),
            paid[0].rials,
            paid[0].method.as_str()
        ),
        ("bill", 1_230_000, "cash")
    );
    // Later, the same bill again: refused, saying when and by which payment.
    let again = app
        .pay_bill_at_counter(
            &operator,
            "test",
            "tehran-c-bills",
            &bill,
            &payment,
            Method::Cash,
            "",
            Utc::now(),
        )
        .await
        .unwrap_err();
    match again {
        PaymentError::Refused(p) => {
            assert_eq!(p.code, "bill_paid");
            assert!(p.fa.contains(&number), "{}", p.fa);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        app.read_bill("tehran-c-bills", &bill, &payment)
            .await
            .unwrap()
            .paid
            .is_some()
    );

    // The books: the till holds it, the water company is owed it, nothing else moved.
    assert_eq!(store.ledger_total().await.unwrap(), 0);
    let books = books(&store).await;
    assert!(
        books.contains(&("company:tehran-water".to_owned(), -1_230_000)),
        "{books:?}"
    );
    assert!(
        books.iter().any(
            |(account, rials)| account.starts_with("till:tehran-c-bills/") && *rials == 1_230_000
        ),
        "{books:?}"
    );

    // The receipt: this centre's staff; not the neighbour's.
    assert_eq!(
        app.counter_payment(&manager, &number).await.unwrap().number,
        number
    );
    assert!(matches!(
        app.counter_payment(&neighbour, &number).await,
        Err(PaymentError::NotFound)
    ));
    // The water company's clerk sees it; the gas company's does not, and cannot ask for water's.
    let seen = app
        .bills_paid_to(&water_clerk, "tehran-water")
        .await
        .unwrap();
    assert_eq!(
        seen.iter().map(|p| p.number.clone()).collect::<Vec<_>>(),
        vec![number.clone()]
    );
    assert!(
        app.bills_paid_to(&gas_clerk, "tehran-gas")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        app.bills_paid_to(&gas_clerk, "tehran-water").await,
        Err(PaymentError::NotFound)
    ));

    // By card: the terminal's reference kept; the same reference cannot pay another bill.
    let (gas, gas_payment) = issue_bill(777, 5, BillServiceType::Gas, 80_000, 5, 3).unwrap();
    let by_card = app
        .pay_bill_at_counter(
            &operator,
            "test",
            "tehran-c-bills",
            gas.as_str(),
            gas_payment.as_str(),
            Method::Card,
            "REF778899",
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(by_card.reference.as_deref(), Some("REF778899"));
    let reused = app
        .pay_bill_at_counter(
            &operator,
            "test",
            "tehran-c-bills",
            mobile.as_str(),
            mobile_payment.as_str(),
            Method::Card,
            "REF778899",
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(reused), "payment_reference_used");
    assert_eq!(store.ledger_total().await.unwrap(), 0);
    // Every payment is audited.
    let (chain, _) = store.audit_chain().await.unwrap();
    let audited: Vec<_> = chain
        .iter()
        .filter(|e| e.fields.target_id == number)
        .map(|e| e.fields.action.clone())
        .collect();
    assert_eq!(audited, vec!["payment.bill".to_owned()]);
}

/// Two operators' tills and their centre's day: expected totals by method from what each took,
/// an unexplained difference refused, an explained one waiting for the manager (not for the
/// neighbouring centre's, nor the operator), approved once into the centre's differences
/// account; a till closed twice (even at once) refused, a closed till taking no more money,
/// the centre's day closed only when every till is; the books balanced throughout.
async fn a_till_closes_once_and_only_its_manager_approves_a_difference(store: Store) {
    use pishkhan_app::records::OrgKind;
    use pishkhan_domain::JalaliDate;
    use pishkhan_domain::id::{BillServiceType, issue_bill};
    let app = App::with_store(test_config(), store.clone()).unwrap();
    let cli = Actor::command_line();
    for (kind, code) in [
        (OrgKind::Centre, "tehran-c-till"),
        (OrgKind::Centre, "tehran-c-next"),
        (OrgKind::Agency, "tehran-water"),
    ] {
        app.add_org(&cli, kind, code, "tehran", "سازمان آزمون")
            .await
            .unwrap();
    }
    let here = "centre:tehran-c-till";
    let first = staff(&app, &store, "op-first", Role::Operator, here).await;
    let second = staff(&app, &store, "op-second", Role::Operator, here).await;
    let third = staff(&app, &store, "op-third", Role::Operator, here).await;
    let manager = staff(&app, &store, "mgr-till", Role::CentreManager, here).await;
    let next_manager = staff(
        &app,
        &store,
        "mgr-next",
        Role::CentreManager,
        "centre:tehran-c-next",
    )
    .await;
    let now = Utc::now();
    let today = JalaliDate::in_iran(now);
    let pay = |who: &Principal, file: u32, rials: i64, method: Method, reference: &str| {
        let (bill, payment) = issue_bill(file, 7, BillServiceType::Water, rials, 5, 9).unwrap();
        let (app, who, reference) = (app.clone(), who.clone(), reference.to_owned());
        async move {
            app.pay_bill_at_counter(
                &who,
                "test",
                "tehran-c-till",
                bill.as_str(),
                payment.as_str(),
                method,
                &reference,
                now,
            )
            .await
        }
    };
    pay(&first, 101, 1_230_000, Method::Cash, "").await.unwrap();
    pay(&first, 102, 80_000, Method::Card, "POS000111")
        .await
        .unwrap();
    pay(&second, 103, 50_000, Method::Cash, "").await.unwrap();

    let till = app.till_day(&first, "tehran-c-till", today).await.unwrap();
    assert_eq!(
        (till.expected_cash, till.expected_card, till.takings.len()),
        (1_230_000, 80_000, 2)
    );
    // The manager cannot read an operator's own till as theirs; a neighbour sees nothing.
    assert!(matches!(
        app.till_day(&manager, "tehran-c-till", today).await,
        Err(PaymentError::NotFound)
    ));
    assert!(matches!(
        app.centre_day(&next_manager, "tehran-c-till", today).await,
        Err(PaymentError::NotFound)
    ));

    // Refused: short without a reason, a negative count, a day not yet come, another's centre.
    let close = |who: &Principal, cash: i64, card: i64, why: &str, day: JalaliDate| {
        let (app, who, why) = (app.clone(), who.clone(), why.to_owned());
        async move {
            app.close_till(&who, "test", "tehran-c-till", day, cash, card, &why, now)
                .await
        }
    };
    for (cash, card, why, day, code) in [
        (1_200_000, 80_000, "", today, "till_unexplained"),
        (1_200_000, 80_000, "کم", today, "till_unexplained"),
        (
            -1,
            80_000,
            "یک اسکناس گم شده است",
            today,
            "till_negative_count",
        ),
        (1_230_000, 80_000, "", today.add_days(1), "till_future_day"),
        (
            1_200_000,
            80_000,
            &*"کم".repeat(600),
            today,
            "till_explanation_too_long",
        ),
    ] {
        let error = close(&first, cash, card, why, day).await.unwrap_err();
        assert_eq!(refusal(error), code, "{cash} {card} {why}");
    }
    let elsewhere = app
        .close_till(&first, "test", "tehran-c-next", today, 0, 0, "", now)
        .await
        .unwrap_err();
    assert_eq!(refusal(elsewhere), "till_not_yours");

    // Short by 30,000 and explained: waits for the manager.
    let closed = close(
        &first,
        1_200_000,
        80_000,
        "یک اسکناس سی هزار ریالی کم آمد",
        today,
    )
    .await
    .unwrap();
    assert_eq!(
        (closed.state.as_str(), closed.difference),
        ("awaiting", -30_000)
    );
    // Closed twice: refused; a closed till takes no more money today.
    assert_eq!(
        refusal(
            close(&first, 1_230_000, 80_000, "", today)
                .await
                .unwrap_err()
        ),
        "till_closed_already"
    );
    assert_eq!(
        refusal(
            pay(&first, 104, 10_000, Method::Cash, "")
                .await
                .unwrap_err()
        ),
        "till_closed"
    );
    // The centre's day waits for every till.
    assert_eq!(
        refusal(
            app.close_centre_day(&manager, "test", "tehran-c-till", today, now)
                .await
                .unwrap_err()
        ),
        "centre_tills_open"
    );
    // The second operator closes exactly, twice at once: one close stands.
    let (a, b) = tokio::join!(
        close(&second, 50_000, 0, "", today),
        close(&second, 50_000, 0, "", today)
    );
    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let failed = results.into_iter().find_map(Result::err).unwrap();
    assert_eq!(refusal(failed), "till_closed_already");
    assert_eq!(
        app.till_day(&second, "tehran-c-till", today)
            .await
            .unwrap()
            .close
            .unwrap()
            .state,
        "closed"
    );

    // Only this centre's manager approves, once.
    for who in [&first, &next_manager] {
        let error = app
            .approve_till_close(who, "test", "tehran-c-till", &first.actor_id(), today, now)
            .await
            .unwrap_err();
        assert_eq!(refusal(error), "till_manager_only");
    }
    let before = books(&store).await;
    app.approve_till_close(
        &manager,
        "test",
        "tehran-c-till",
        &first.actor_id(),
        today,
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        refusal(
            app.approve_till_close(
                &manager,
                "test",
                "tehran-c-till",
                &first.actor_id(),
                today,
                now
            )
            .await
            .unwrap_err()
        ),
        "till_nothing_to_approve"
    );
    let after = books(&store).await;
    assert_ne!(before, after);
    assert_eq!(store.ledger_total().await.unwrap(), 0);
    let till_key = format!("till:tehran-c-till/{}", first.actor_id());
    assert!(after.contains(&(till_key, 1_280_000)), "{after:?}");
    assert!(
        after.contains(&("differences:tehran-c-till".to_owned(), 30_000)),
        "{after:?}"
    );

    // Now the day closes, once; after it nobody at this centre takes money today.
    let day = app
        .close_centre_day(&manager, "test", "tehran-c-till", today, now)
        .await
        .unwrap();
    assert_eq!(
        (day.cash, day.card, day.difference, day.tills),
        (1_250_000, 80_000, -30_000, 2)
    );
    assert_eq!(
        refusal(
            app.close_centre_day(&manager, "test", "tehran-c-till", today, now)
                .await
                .unwrap_err()
        ),
        "centre_day_closed_already"
    );
    assert_eq!(
        refusal(
            pay(&third, 105, 10_000, Method::Cash, "")
                .await
                .unwrap_err()
        ),
        "till_closed"
    );
    let shown = app
        .centre_day(&manager, "tehran-c-till", today)
        .await
        .unwrap();
    assert_eq!(shown.tills.len(), 2);
    assert!(shown.closed.is_some());
    // Each close is audited.
    let (chain, _) = store.audit_chain().await.unwrap();
    let actions: Vec<_> = chain
        .iter()
        .filter(|e| e.fields.target_kind == "till")
        .map(|e| e.fields.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "till.close",
            "till.close",
            "till.approve",
            "centre_day.close"
        ]
    );
}

/// The sandbox bank's own settlement file of the day, against the payments Pishkhan settled
/// with it: everything matches; then a tampered copy (an amount changed, a line the bank never
/// had, a line twice, a payment left out) lists each by name, and a file that is not one is
/// refused line by line. Reconciling changes nothing.
async fn the_banks_settlement_file_is_reconciled_and_every_mismatch_listed(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    let (police, _) = police_system(&app, &store, "police.recon").await;
    let citizen = person(&store).await;
    let mut numbers = Vec::new();
    for fines in ["۱۲۰٬۰۰۰", "۳۴۰٬۰۰۰"] {
        let code = owing(&app, &citizen, &police, fines).await;
        let page = app
            .start_online_payment(&citizen, "test", &code, Utc::now())
            .await
            .unwrap();
        let token = pay_at_bank(&bank, &page).unwrap();
        let (payment, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
        assert_eq!(payment.state, "settled");
        numbers.push(payment.number);
    }
    let day = Utc::now().date_naive();
    let (status, file) = request(
        &bank.address,
        "GET",
        &format!("/api/settlement?terminal={TERMINAL}&key={KEY}&date={day}"),
        "",
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{file}");
    assert_eq!(file.lines().count(), 3, "{file}");
    let books = books(&store).await;
    let actor = Actor::command_line();

    let clean = app
        .reconcile_settlement(&actor, None, day, &file)
        .await
        .unwrap();
    assert_eq!((clean.matched, clean.matched_rials), (2, 460_000));
    assert!(clean.mismatches.is_empty(), "{:?}", clean.mismatches);

    // Tampered: the first line's amount, an unknown line, the second line twice; then the
    // second line left out of another copy.
    let lines: Vec<&str> = file.lines().collect();
    let changed = lines[1]
        .rsplit_once(',')
        .map(|(head, _)| format!("{head},999000"))
        .unwrap();
    let tampered = format!(
        "{}\n{changed}\n{}\n{day},{TERMINAL},PAY-X,SBXFORGED,REF9,5000\n{}\n",
        lines[0], lines[2], lines[2]
    );
    let listed = app
        .reconcile_settlement(&actor, None, day, &tampered)
        .await
        .unwrap();
    let codes: Vec<_> = listed.mismatches.iter().map(|m| m.code()).collect();
    assert_eq!(
        codes,
        vec!["amount", "unknown", "duplicate"],
        "{:?}",
        listed.mismatches
    );
    assert_eq!(listed.matched, 1);
    let short = format!("{}\n{}\n", lines[0], lines[1]);
    let missing = app
        .reconcile_settlement(&actor, None, day, &short)
        .await
        .unwrap();
    assert_eq!(missing.mismatches.len(), 1);
    assert_eq!(missing.mismatches[0].code(), "missing");
    assert!(
        missing.mismatches[0].describe_fa().contains(&numbers[1])
            || missing.mismatches[0].describe_fa().contains(&numbers[0])
    );
    // Another day's file for this terminal: every line is not this file's.
    let yesterday = day.pred_opt().unwrap();
    let other = app
        .reconcile_settlement(&actor, None, yesterday, &file)
        .await
        .unwrap();
    assert_eq!(
        other
            .mismatches
            .iter()
            .map(|m| m.code())
            .collect::<Vec<_>>(),
        vec!["not_this_file", "not_this_file"]
    );
    // Not a settlement file: refused, each problem on its line.
    match app
        .reconcile_settlement(&actor, None, day, &format!("{}\nnonsense\n", lines[0]))
        .await
    {
        Err(pishkhan_app::settlement::ReconcileError::Invalid(problems)) => {
            assert_eq!(
                (problems[0].code, problems[0].line),
                ("settlement_fields", Some(2))
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing changed; each run audited.
    assert_eq!(books, crate::payments::books(&store).await);
    let (chain, _) = store.audit_chain().await.unwrap();
    let runs = chain
        .iter()
        .filter(|e| e.fields.action == "payments.reconcile")
        .count();
    assert_eq!(runs, 4);
}

/// A centre's shares in one month, from the books: the entries its payments post (a fee bill
/// with the centre's share, as a counter payment posts it), one of them last month. Its
/// manager reads the month on the page, as PDF and as XLSX, each with the same total; the
/// neighbouring centre's manager is told it does not exist, an operator is refused, and a month
/// that does not exist is said so.
async fn a_centres_monthly_statement_lists_its_shares_on_the_page_in_pdf_and_xlsx(store: Store) {
    use calamine::{DataType, Reader, Xlsx};
    use pishkhan_app::records::OrgKind;
    use pishkhan_domain::JalaliDate;
    use pishkhan_domain::ledger::{Account, BillLine, FeeBill};
    use pishkhan_store::{NewLedgerEntry, SessionOwner, SessionRecord};

    let app = App::with_store(test_config(), store.clone()).unwrap();
    let cli = Actor::command_line();
    for code in ["tehran-c-stmt", "tehran-c-near"] {
        app.add_org(&cli, OrgKind::Centre, code, "tehran", "دفتر پیشخوان آزمون")
            .await
            .unwrap();
    }
    let manager = staff(
        &app,
        &store,
        "mgr-stmt",
        Role::CentreManager,
        "centre:tehran-c-stmt",
    )
    .await;
    let near = staff(
        &app,
        &store,
        "mgr-near",
        Role::CentreManager,
        "centre:tehran-c-near",
    )
    .await;
    let operator = staff(
        &app,
        &store,
        "op-stmt",
        Role::Operator,
        "centre:tehran-c-stmt",
    )
    .await;
    let bill = FeeBill {
        agency: "tehran-civil-registry".into(),
        centre: Some("tehran-c-stmt".into()),
        lines: vec![
            BillLine {
                title: "هزینهٔ صدور".into(),
                rials: 230_000,
                centre_share: 0,
                legal_basis: None,
            },
            BillLine {
                title: "کارمزد دفتر".into(),
                rials: 120_000,
                centre_share: 120_000,
                legal_basis: None,
            },
        ],
    };
    let now = Utc::now();
    for (n, at) in [(1, now), (2, now), (3, now - TimeDelta::days(40))] {
        store
            .post_ledger_entry(&NewLedgerEntry {
                kind: "payment".into(),
                reference: format!("PAY-STMT{n}"),
                memo: format!("نقدی در پیشخوان برای پروندهٔ {n}"),
                key: Some(format!("payment:PAY-STMT{n}")),
                reverses: None,
                posted_by: operator.actor_id(),
                posted_at: at,
                entry: bill
                    .payment_entry(Account::Till("tehran-c-stmt".into(), operator.actor_id()))
                    .unwrap(),
            })
            .await
            .unwrap();
    }
    let today = JalaliDate::in_iran(now);
    let month = JalaliDate::new(today.year(), today.month(), 1).unwrap();
    let statement = app
        .centre_statement(&manager, "tehran-c-stmt", month)
        .await
        .unwrap();
    // Two this month (unless the month began under 40 days ago and the third is in it too).
    let expected: Vec<_> = [now, now, now - TimeDelta::days(40)]
        .into_iter()
        .filter(|at| {
            let d = JalaliDate::in_iran(*at);
            (d.year(), d.month()) == (today.year(), today.month())
        })
        .collect();
    assert_eq!(statement.lines.len(), expected.len());
    assert_eq!(statement.total, 120_000 * expected.len() as i64);
    assert!(matches!(
        app.centre_statement(&near, "tehran-c-stmt", month).await,
        Err(PaymentError::NotFound)
    ));
    assert!(matches!(
        app.centre_statement(&operator, "tehran-c-stmt", month)
            .await,
        Err(PaymentError::NotFound)
    ));

    // Through the pages, signed in as the manager.
    let token = "statement-manager-session-token-0123456789";
    let id = match &manager {
        Principal::Staff(user) => user.id.clone(),
        _ => unreachable!(),
    };
    store
        .insert_session(&SessionRecord {
            token_hash: pishkhan_domain::digest::sha256_hex(token.as_bytes()),
            owner: SessionOwner::User(id),
            stage: "full".to_owned(),
            csrf: "statement-csrf".to_owned(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + TimeDelta::hours(1),
            ip: "192.0.2.1".to_owned(),
            user_agent: "test".to_owned(),
            pending_secret: None,
        })
        .await
        .unwrap();
    let router = crate::support::router_on(store.clone());
    let cookie = format!("pishkhan_session={token}");
    let headers = [("cookie", cookie.as_str())];
    let month_key = format!("{:04}/{:02}", month.year(), month.month());
    let query = format!("centre=tehran-c-stmt&month={month_key}");
    let total_fa =
        pishkhan_domain::Rials(statement.total).format_rials(pishkhan_domain::Language::Persian);
    let page = crate::support::get(&router, &format!("/counter/statement?{query}"), &headers).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&total_fa), "{total_fa} in the page");
    let pdf = crate::support::get(
        &router,
        &format!("/counter/statement/pdf?{query}"),
        &headers,
    )
    .await;
    assert_eq!(
        (pdf.status.as_u16(), pdf.header("content-type")),
        (200, "application/pdf")
    );
    if let Some(text) = crate::portal::pdftotext(&pdf.bytes) {
        assert!(
            text.contains(&pishkhan_render::comparable("صورت‌حساب سهم دفتر")),
            "{text}"
        );
        assert!(
            text.contains(&pishkhan_render::comparable("کارمزد"))
                || text.contains(&pishkhan_render::comparable("پیشخوان")),
            "{text}"
        );
    }
    let xlsx = crate::support::get(
        &router,
        &format!("/counter/statement/xlsx?{query}"),
        &headers,
    )
    .await;
    assert_eq!(xlsx.status, 200);
    let mut book = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let numbers: Vec<f64> = sheet
        .rows()
        .filter_map(|row| row.get(3).and_then(|c| c.get_float()))
        .collect();
    // Each share, then the total.
    assert_eq!(numbers.len(), expected.len() + 1, "{numbers:?}");
    assert_eq!(*numbers.last().unwrap(), statement.total as f64);
    // Another centre in the query: this manager's own is shown (never the neighbour's).
    let other = crate::support::get(
        &router,
        &format!("/counter/statement/xlsx?centre=tehran-c-near&month={month_key}"),
        &headers,
    )
    .await;
    assert_eq!(other.status, 200);
    // The manager reads a bill at the counter's page but is not offered to take its money.
    let (bill, payment) = pishkhan_domain::id::issue_bill(
        4321,
        11,
        pishkhan_domain::id::BillServiceType::Gas,
        50_000,
        5,
        8,
    )
    .unwrap();
    let read = crate::support::get(
        &router,
        &format!(
            "/counter/bills?bill_id={}&payment_id={}",
            bill.as_str(),
            payment.as_str()
        ),
        &headers,
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.body.contains("۵۰٬۰۰۰ ریال"));
    assert!(
        !read.body.contains("name=\"method\""),
        "no cash-or-card form"
    );
    assert!(read.body.contains("متصدی دفتر می‌گیرد"));
    let bad = crate::support::get(&router, "/counter/statement?month=1405/13", &headers).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("۱۴۰۵/۰۹"), "says how to write a month");
}

/// The bank's answer arriving four times at once, ten payments over: every one ends paid once
/// and settled, at Pishkhan and at the bank — none given back by a callback that read the
/// application after another had moved it (a race found under load).
async fn callbacks_racing_each_other_never_give_back_the_payment_that_moved_the_application(
    store: Store,
) {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    let (police, _) = police_system(&app, &store, "police.race").await;
    let citizen = person(&store).await;
    for _ in 0..10 {
        let code = owing(&app, &citizen, &police, "۹۰٬۰۰۰").await;
        let page = app
            .start_online_payment(&citizen, "test", &code, Utc::now())
            .await
            .unwrap();
        let token = pay_at_bank(&bank, &page).unwrap();
        let mut racing = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (app, token) = (app.clone(), token.clone());
            racing.spawn(async move { app.payment_returned(&token, Utc::now()).await });
        }
        for answer in racing.join_all().await {
            answer.unwrap();
        }
        let (payment, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
        assert_eq!(payment.state, "settled", "{payment:?}");
        assert_eq!(bank_status(&bank, &token), "settled");
        assert_eq!(state_of(&app, &citizen, &code).await, "receipt");
    }
    books(&store).await;
}

async fn a_bill_is_paid_online_once_and_one_paid_meanwhile_at_a_counter_is_given_back(
    store: Store,
) {
    use pishkhan_app::records::OrgKind;
    use pishkhan_domain::id::{BillServiceType, issue_bill};
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    let cli = Actor::command_line();
    for (kind, code) in [
        (OrgKind::Centre, "tehran-c-online"),
        (OrgKind::Agency, "tehran-electricity"),
    ] {
        app.add_org(&cli, kind, code, "tehran", "سازمان آزمون")
            .await
            .unwrap();
    }
    let operator = staff(
        &app,
        &store,
        "op-online",
        Role::Operator,
        "centre:tehran-c-online",
    )
    .await;
    let citizen = person(&store).await;
    let stranger = Principal::Citizen(
        store
            .ensure_citizen(&CitizenRecord {
                id: uuid::Uuid::new_v4().to_string(),
                national_id: "0076229645".into(),
                mobile: "+989121112233".into(),
                created_at: Utc::now(),
            })
            .await
            .unwrap(),
    );
    let ids = |file: u32, service, rials| {
        let (bill, payment) = issue_bill(file, 1, service, rials, 9, 5).unwrap();
        (bill.as_str().to_owned(), payment.as_str().to_owned())
    };

    // Forged and wrong input is refused by code before the bank is asked; staff pay at a
    // counter, not online.
    let (bill, payment) = ids(7788990, BillServiceType::Electricity, 800_000);
    let refused = |e: PaymentError| refusal(e);
    assert_eq!(
        refused(
            app.start_online_bill_payment(&operator, "test", &bill, &payment, Utc::now())
                .await
                .unwrap_err()
        ),
        "payment_citizen_only"
    );
    let forged = format!("{}{}", &payment[..payment.len() - 1], "0");
    let forged = if forged == payment {
        format!("{}{}", &payment[..payment.len() - 1], "1")
    } else {
        forged
    };
    for (b, p) in [
        (bill.as_str(), forged.as_str()),
        ("12", payment.as_str()),
        (&"9".repeat(5000), ""),
    ] {
        let error = app
            .start_online_bill_payment(&citizen, "test", b, p, Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(error, PaymentError::Refused(_)), "{error:?}");
    }
    assert!(
        books(&store).await.is_empty(),
        "nothing asked, nothing posted"
    );

    // Paid at the bank, its answer told twice at once: paid once, into the company's account,
    // settled with the bank; the person's list and receipt have it, a stranger's do not.
    let read = app.read_bill_online(&bill, &payment).await.unwrap();
    assert_eq!(
        (read.payee.as_str(), read.rials),
        ("tehran-electricity", 800_000)
    );
    let page = app
        .start_online_bill_payment(&citizen, "test", &bill, &payment, Utc::now())
        .await
        .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (first, second) = tokio::join!(
        app.payment_returned(&token, Utc::now()),
        app.payment_returned(&token, Utc::now())
    );
    let (paid, refusal_said) = first.unwrap();
    second.unwrap();
    assert_eq!(refusal_said, None);
    let paid = app.my_payment(&citizen, &paid.number).await.unwrap();
    assert_eq!(
        (paid.state.as_str(), paid.purpose.as_str()),
        ("settled", "bill")
    );
    assert_eq!(bank_status(&bank, &token), "settled");
    assert_eq!(
        books(&store).await,
        vec![
            ("company:tehran-electricity".to_owned(), -800_000),
            (format!("provider:{TERMINAL}"), 800_000),
        ]
    );
    let mine = app.my_bill_payments(&citizen).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(matches!(
        app.my_payment(&stranger, &paid.number).await,
        Err(PaymentError::NotFound)
    ));
    assert!(matches!(
        app.my_payment_pdf(&stranger, &paid.number).await,
        Err(PaymentError::NotFound)
    ));
    assert!(app.my_bill_payments(&stranger).await.unwrap().is_empty());
    let pdf = app.my_payment_pdf(&citizen, &paid.number).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    // Paying it again, online or at the counter, is refused before any money is taken.
    assert_eq!(
        refused(
            app.start_online_bill_payment(&citizen, "test", &bill, &payment, Utc::now())
                .await
                .unwrap_err()
        ),
        "bill_paid"
    );
    assert_eq!(
        refused(
            app.pay_bill_at_counter(
                &operator,
                "test",
                "tehran-c-online",
                &bill,
                &payment,
                Method::Cash,
                "",
                Utc::now()
            )
            .await
            .unwrap_err()
        ),
        "bill_paid"
    );

    // Started online, then paid at a counter while the person was on the bank's page: the
    // counter's payment stands, the bank's money goes back, nothing is counted twice.
    let (gas_bill, gas_payment) = ids(5566778, BillServiceType::Gas, 450_000);
    let page = app
        .start_online_bill_payment(&citizen, "test", &gas_bill, &gas_payment, Utc::now())
        .await
        .unwrap();
    app.pay_bill_at_counter(
        &operator,
        "test",
        "tehran-c-online",
        &gas_bill,
        &gas_payment,
        Method::Cash,
        "",
        Utc::now(),
    )
    .await
    .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (given_back, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(given_back.state, "failed");
    assert!(given_back.note.unwrap().contains("برگشت"));
    assert_eq!(bank_status(&bank, &token), "reversed");
    let gas_payee = app
        .read_bill_online(&gas_bill, &gas_payment)
        .await
        .unwrap()
        .payee;
    let balances = books(&store).await;
    assert!(
        balances.contains(&(format!("company:{gas_payee}"), -450_000)),
        "{balances:?}"
    );
    assert!(balances.contains(&(format!("provider:{TERMINAL}"), 800_000)));

    // The bank settles another amount than asked: refused, reversed, never counted.
    tell(&bank, "amount");
    let (water_bill, water_payment) = ids(3344556, BillServiceType::Water, 120_000);
    let page = app
        .start_online_bill_payment(&citizen, "test", &water_bill, &water_payment, Utc::now())
        .await
        .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (wrong, why) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(why.map(|r| r.code()), Some("payment_wrong_amount"));
    assert_eq!(wrong.state, "failed");
    assert_eq!(bank_status(&bank, &token), "reversed");
    assert_eq!(books(&store).await, balances);
    tell(&bank, "normal");
}

async fn a_payment_and_its_tills_close_at_the_same_instant_never_both_pass(store: Store) {
    use pishkhan_app::records::OrgKind;
    use pishkhan_domain::JalaliDate;
    use pishkhan_domain::id::{BillServiceType, issue_bill};
    let app = App::with_store(test_config(), store.clone()).unwrap();
    app.add_org(
        &Actor::command_line(),
        OrgKind::Centre,
        "tehran-c-race",
        "tehran",
        "دفتر آزمون",
    )
    .await
    .unwrap();
    let operator = staff(
        &app,
        &store,
        "op-race",
        Role::Operator,
        "centre:tehran-c-race",
    )
    .await;
    // Each round: a bill paid in cash and the till closed (counting nothing new) at once. Either
    // the close counted the payment (it came first), or the payment was refused (the close came
    // first): never a close whose count misses a payment the till took.
    for round in 0..12u32 {
        let (bill, payment) =
            issue_bill(1_000_000 + round, 1, BillServiceType::Water, 10_000, 1, 5).unwrap();
        let (bill, payment) = (bill.as_str().to_owned(), payment.as_str().to_owned());
        let at = Utc::now() - TimeDelta::days(i64::from(round) + 1);
        let day = JalaliDate::in_iran(at);
        let till = app.till_day(&operator, "tehran-c-race", day).await.unwrap();
        let (paying, closing) = tokio::join!(
            app.pay_bill_at_counter(
                &operator,
                "test",
                "tehran-c-race",
                &bill,
                &payment,
                Method::Cash,
                "",
                at
            ),
            app.close_till(
                &operator,
                "test",
                "tehran-c-race",
                day,
                till.expected_cash,
                till.expected_card,
                "",
                at
            )
        );
        let after = app.till_day(&operator, "tehran-c-race", day).await.unwrap();
        match (&paying, &closing) {
            // The payment first: the close that counted without it was refused (in its own
            // transaction, or before it when the close read the books after the payment), and
            // the till stays open to be counted again.
            (Ok(_), Err(e)) => {
                let e = format!("{e:?}");
                assert!(
                    e.contains("till_moved") || e.contains("till_unexplained"),
                    "{e}"
                );
                assert!(after.close.is_none());
                assert_eq!(after.expected_cash, 10_000);
            }
            // The close first: the payment was refused, and the close counted everything.
            (Err(e), Ok(close)) => {
                assert!(format!("{e:?}").contains("till_closed"), "{e:?}");
                assert_eq!(close.expected_cash, after.expected_cash, "round {round}");
            }
            (Ok(_), Ok(close)) => panic!(
                "both passed: the close counted {} of {}",
                close.expected_cash, after.expected_cash
            ),
            (Err(a), Err(b)) => panic!("both refused: {a:?} {b:?}"),
        }
    }
    assert_eq!(store.ledger_total().await.unwrap(), 0);
}

async fn an_agencys_admin_refunds_an_online_payment_never_more_than_is_left(store: Store) {
    use pishkhan_app::records::OrgKind;
    let dir = tempfile::tempdir().unwrap();
    let bank = bank(dir.path());
    let app = app_with_bank(store.clone(), &bank).await;
    let (police, agency) = police_system(&app, &store, "police.refunds").await;
    app.add_org(
        &Actor::command_line(),
        OrgKind::Agency,
        "tehran-neighbour",
        "tehran",
        "دستگاه همسایه",
    )
    .await
    .unwrap();
    let citizen = person(&store).await;
    let admin = staff(
        &app,
        &store,
        "admin-refunds",
        Role::AgencyAdmin,
        &format!("agency:{agency}"),
    )
    .await;
    let clerk = staff(
        &app,
        &store,
        "clerk-refunds",
        Role::AgencyClerk,
        &format!("agency:{agency}"),
    )
    .await;
    let neighbour = staff(
        &app,
        &store,
        "admin-neighbour",
        Role::AgencyAdmin,
        "agency:tehran-neighbour",
    )
    .await;
    let code = owing(&app, &citizen, &police, "250000").await;
    let page = app
        .start_online_payment(&citizen, "test", &code, Utc::now())
        .await
        .unwrap();
    let token = pay_at_bank(&bank, &page).unwrap();
    let (paid, _) = app.payment_returned(&token, Utc::now()).await.unwrap();
    assert_eq!(paid.state, "settled");
    let number = paid.number.clone();
    let why = "جریمه به اشتباه دو بار ثبت شده بود";
    let refund = |who: &Principal, amount: &str, reason: &str| {
        let (app, who, number) = (app.clone(), who.clone(), number.clone());
        let (amount, reason) = (amount.to_owned(), reason.to_owned());
        async move {
            app.refund_payment(&who, "test", &number, &amount, &reason, Utc::now())
                .await
        }
    };

    // The neighbour agency does not see it; the clerk sees it and may not refund.
    assert!(matches!(
        app.agency_payment(&neighbour, &number).await,
        Err(PaymentError::NotFound)
    ));
    assert!(matches!(
        refund(&neighbour, "1000", why).await,
        Err(PaymentError::NotFound)
    ));
    assert!(
        !app.agency_payment(&clerk, &number)
            .await
            .unwrap()
            .may_refund
    );
    assert_eq!(
        refusal(refund(&clerk, "1000", why).await.unwrap_err()),
        "refund_admin_only"
    );
    // Bad amounts and a missing reason: refused by code, nothing asked of the bank.
    for (amount, reason, code) in [
        ("100000", "اشتباه", "refund_reason_required"),
        ("0", why, "refund_not_positive"),
        ("-5", why, "invalid_amount"),
        ("صد", why, "invalid_amount"),
        ("250001", why, "refund_too_large"),
        ("99999999999999999999999", why, "invalid_amount"),
    ] {
        let said = refusal(refund(&admin, amount, reason).await.unwrap_err());
        assert!(
            said == code || (code == "invalid_amount" && said != "refund_too_large"),
            "{amount}: {said}"
        );
    }
    assert_eq!(
        refusal(refund(&admin, "1000", &"ب".repeat(1001)).await.unwrap_err()),
        "refund_reason_too_long"
    );
    assert_eq!(store.refunded(&number).await.unwrap(), 0);

    // Part of it given back, through the desk's page: the bank refunds, the books take it from
    // the agency. More than is left is refused on the page, in Persian, and nothing moves.
    let router = pishkhan_web::router(pishkhan_web::WebState::new(app.clone()).unwrap());
    let session = "refund-admin-session-token-0123456789ab";
    let now = Utc::now();
    store
        .insert_session(&pishkhan_store::SessionRecord {
            token_hash: pishkhan_domain::digest::sha256_hex(session.as_bytes()),
            owner: pishkhan_store::SessionOwner::User(match &admin {
                Principal::Staff(user) => user.id.clone(),
                _ => unreachable!(),
            }),
            stage: "full".to_owned(),
            csrf: "refund-csrf".to_owned(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + TimeDelta::hours(1),
            ip: "192.0.2.1".to_owned(),
            user_agent: "test".to_owned(),
            pending_secret: None,
        })
        .await
        .unwrap();
    let cookie = format!("pishkhan_session={session}");
    let headers = [("cookie", cookie.as_str())];
    let shown = crate::support::get(&router, &format!("/desk/payments/{number}"), &headers).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("۲۵۰٬۰۰۰ ریال"));
    assert!(
        shown.body.contains("name=\"reason\""),
        "the admin is offered a refund"
    );
    let path = format!("/desk/payments/{number}/refund");
    let too_much = crate::support::send_form(
        &router,
        http::Method::POST,
        &path,
        "csrf=refund-csrf&amount=300000&reason=%D8%AC%D8%B1%DB%8C%D9%85%D9%87%20%D8%A8%D9%87%20%D8%A7%D8%B4%D8%AA%D8%A8%D8%A7%D9%87%20%D8%AB%D8%A8%D8%AA%20%D8%B4%D8%AF",
        &headers,
    )
    .await;
    assert_eq!(too_much.status, 422, "{}", too_much.body);
    assert!(too_much.body.contains("بیش از مانده"), "{}", too_much.body);
    let done = crate::support::send_form(
        &router,
        http::Method::POST,
        &path,
        "csrf=refund-csrf&amount=%DB%B1%DB%B0%DB%B0%D9%AC%DB%B0%DB%B0%DB%B0&reason=%D8%AC%D8%B1%DB%8C%D9%85%D9%87%20%D8%A8%D9%87%20%D8%A7%D8%B4%D8%AA%D8%A8%D8%A7%D9%87%20%D8%AB%D8%A8%D8%AA%20%D8%B4%D8%AF",
        &headers,
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        format!("/desk/payments/{number}?done=1")
    );
    let after = app.agency_payment(&admin, &number).await.unwrap();
    assert_eq!(after.refunded, 100_000);
    assert!(after.may_refund);
    assert_eq!(
        books(&store).await,
        vec![
            (format!("agency:{agency}"), -150_000),
            (format!("provider:{TERMINAL}"), 150_000),
        ]
    );
    // Two refunds of 100,000 at once, with 150,000 left: one passes.
    let (a, b) = tokio::join!(refund(&admin, "100000", why), refund(&admin, "100000", why));
    assert_eq!(
        [&a, &b].iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} {b:?}"
    );
    let refused_one = if a.is_err() { a } else { b };
    let code = refusal(refused_one.unwrap_err());
    assert!(
        ["refund_too_large", "refund_bank_refused"].contains(&code.as_str()),
        "{code}"
    );
    // What is left, then nothing more.
    let last = refund(&admin, "50,000", why).await.unwrap();
    assert_eq!(last.refunded, 250_000);
    assert!(!last.may_refund);
    assert_eq!(
        refusal(refund(&admin, "1", why).await.unwrap_err()),
        "refund_too_large"
    );
    assert_eq!(
        books(&store).await,
        vec![
            (format!("agency:{agency}"), 0),
            (format!("provider:{TERMINAL}"), 0),
        ]
    );
    let said = bank_said(&bank, &token);
    assert_eq!(said["refunded"], 250_000);
    assert_eq!(
        app.balances("agency:").await.unwrap(),
        vec![(format!("agency:{agency}"), 0)]
    );
}

/// Everything the bank says of the payment `token`.
fn bank_said(bank: &Server, token: &str) -> Value {
    let (_, said) = request(
        &bank.address,
        "POST",
        "/api/verify",
        "",
        &json!({ "terminal": TERMINAL, "key": KEY, "token": token }).to_string(),
    )
    .unwrap();
    serde_json::from_str::<Value>(&said).unwrap()
}
