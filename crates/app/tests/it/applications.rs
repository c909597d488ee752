#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Applications on both databases: submitting (citizen, operator with consent, agency system),
//! the workflow's rules, tracking, the desk's inbox, escalation, durability under concurrency.

use chrono::{DateTime, TimeZone, Utc};
use pishkhan_app::applications::{ApplicationError, SubmitApplication, Upload};
use pishkhan_app::audit::Actor;
use pishkhan_app::config::Sources;
use pishkhan_app::jobs::JobKind;
use pishkhan_app::payments::PaymentError;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::{CitizenRecord, InboxFilter, ServiceFilter};
use pishkhan_app::{App, Config, Secret};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_domain::payment::Method;
use pishkhan_domain::tracking::TrackingCode;
use pishkhan_store::{
    NewApplication, NewAuditEntry, NewDocument, NewOutboxMessage, Store, WriteError,
};

use pishkhan_store::on_both_backends;

on_both_backends!(
    every_demo_workflow_and_form_passes_its_checks,
    every_tehran_service_runs_its_own_workflow_to_a_verifiable_output,
    an_agency_system_issues_its_own_pdf_and_the_credential_follows_revocation,
    a_citizen_applies_and_the_agency_works_it_through_the_workflow,
    an_operator_files_only_with_consent_and_a_system_only_for_its_agency,
    deadlines_skip_fridays_and_holidays_and_overdue_work_escalates_once,
    concurrent_submissions_are_all_stored_whole,
    a_taken_tracking_code_refuses_only_its_filing_in_a_batch,
    retried_filings_and_actions_happen_once,
    only_a_tracking_code_collision_is_taken_for_one,
    files_no_row_names_are_swept_after_a_grace_and_the_rest_kept,
    a_notification_that_keeps_failing_is_dead_lettered_then_replayed,
);

const RENEWAL: &str = "tehran.driving-licence-renewal";
use pishkhan_app::applications::EXAMPLE_PDF as PDF;

pub(crate) async fn app_on(store: Store) -> App {
    let dir = tempfile::tempdir().unwrap().keep();
    let mut config = Config::load(&Sources::default()).unwrap();
    config.data_dir = dir;
    let app = App::with_store(config, store).unwrap();
    app.seed_holidays().await.unwrap();
    assert_eq!(app.load_demo_catalogue().await.unwrap(), 88);
    app
}

pub(crate) async fn staff(
    app: &App,
    store: &Store,
    username: &str,
    role: Role,
    scope: &str,
) -> Principal {
    let id = app
        .create_user(
            &Actor::command_line(),
            username,
            "کارمند",
            &Secret::new("applications test passphrase".to_owned()),
            vec![RoleGrant::new(role, Scope::parse(scope).unwrap()).unwrap()],
        )
        .await
        .unwrap();
    Principal::Staff(store.user_by_id(&id).await.unwrap().unwrap())
}

pub(crate) async fn citizen(store: &Store, national_id: &str) -> Principal {
    let record = store
        .ensure_citizen(&CitizenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            national_id: national_id.into(),
            mobile: "+989121234567".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    Principal::Citizen(record)
}

/// A complete, valid submission for `service` (the app's own example), for the citizen.
pub(crate) async fn complete(app: &App, service: &str) -> SubmitApplication {
    let mut request = app.example_submission(service).await.unwrap().unwrap();
    request.national_id = String::new();
    request.mobile = String::new();
    request
}

fn codes(error: ApplicationError) -> Vec<String> {
    match error {
        ApplicationError::Invalid(problems) => {
            problems.into_iter().map(|p| p.code.to_owned()).collect()
        }
        other => panic!("expected problems, got {other:?}"),
    }
}

async fn every_demo_workflow_and_form_passes_its_checks(store: Store) {
    let app = app_on(store.clone()).await;
    let (services, total) = app
        .published_services(&ServiceFilter::default(), 500, 0)
        .await
        .unwrap();
    assert_eq!(total, 88);
    for service in services {
        let workflow = service.card.workflow();
        assert_eq!(workflow.check(), vec![], "{}", service.card.code);
        for form in &service.card.forms {
            let (schema, _) = app
                .form(&form.code, Some(i64::from(form.version)))
                .await
                .unwrap()
                .unwrap();
            let answers = schema.example_answers();
            let without_files: Vec<_> = schema
                .validate(&answers)
                .err()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.code != "required")
                .collect();
            assert!(without_files.is_empty(), "{}: {without_files:?}", form.code);
        }
    }
}

/// The text poppler reads out of a PDF, as it reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is required");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The way forward from `state`: the action an agency's system takes that neither asks for
/// documents nor refuses.
fn way_forward(
    workflow: &pishkhan_domain::workflow::Workflow,
    state: &str,
) -> pishkhan_domain::workflow::Action {
    workflow
        .actions_from(state)
        .find(|a| {
            !matches!(a.to.as_str(), "needs-documents" | "rejected" | "withdrawn")
                && a.roles.iter().any(|r| r == "system")
        })
        .unwrap_or_else(|| panic!("no way on from {state}"))
        .clone()
}

/// Every value `action` asks for, written down (the holder's name as مریم احمدی).
fn asked_values(action: &pishkhan_domain::workflow::Action) -> Vec<(String, String)> {
    action
        .asks
        .iter()
        .map(|a| {
            let value = if a.code == "holder_name" {
                "مریم احمدی"
            } else {
                "۱۲۳۴۵"
            };
            (a.code.clone(), value.to_owned())
        })
        .collect()
}

/// The key that checks a credential's proof, from the issuer's published keys.
async fn credential_key(app: &App, credential: &serde_json::Value) -> ed25519_dalek::VerifyingKey {
    let method = pishkhan_domain::credential::verification_method(credential).unwrap();
    let id = method.rsplit('/').next().unwrap();
    let keys = app.published_keys().await.unwrap();
    let key = keys.iter().find(|k| k.id == id).unwrap();
    pishkhan_app::signing::published_key(&key.public_key).unwrap()
}

/// Whether the status list says `credential`'s output is revoked.
async fn listed_revoked(app: &App, credential: &serde_json::Value) -> bool {
    let index: i64 = credential["credentialStatus"]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let per_list = pishkhan_domain::credential::STATUS_LIST_LENGTH as i64;
    let list = app
        .status_list_credential(index / per_list, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let key = credential_key(app, &list).await;
    pishkhan_domain::credential::verify(&list, &key).unwrap();
    assert_eq!(
        list["issuer"], credential["issuer"]["id"],
        "the list's issuer is the credential's"
    );
    pishkhan_domain::credential::status_list_entry(
        list["credentialSubject"]["encodedList"].as_str().unwrap(),
        (index % per_list) as u64,
    )
    .unwrap()
}

async fn every_tehran_service_runs_its_own_workflow_to_a_verifiable_output(store: Store) {
    let app = app_on(store.clone()).await;
    let (services, _) = app
        .published_services(&ServiceFilter::default(), 500, 0)
        .await
        .unwrap();
    let tehran: Vec<_> = services
        .into_iter()
        .filter(|s| s.card.code.starts_with("tehran."))
        .collect();
    assert_eq!(tehran.len(), 22);
    let mut systems: std::collections::HashMap<String, Principal> = Default::default();
    let mut outputs_seen = 0;
    let mut inquiries_asked = 0;
    let mut exempted = 0;
    demo_agencies_answer(&app).await;
    for service in tehran {
        let agency = service.card.agency.clone();
        if !systems.contains_key(&agency) {
            let user = match staff(
                &app,
                &store,
                &format!("sys-{agency}"),
                Role::System,
                &format!("agency:{agency}"),
            )
            .await
            {
                Principal::Staff(u) => u,
                _ => unreachable!(),
            };
            systems.insert(agency.clone(), Principal::System(user));
        }
        let system = systems[&agency].clone();
        let mut request = complete(&app, &service.card.code).await;
        request.national_id = "0082451291".into();
        request.mobile = "09121234567".into();
        let filed = app
            .submit_application(&system, "test", request, Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", service.card.code));
        let code = filed.code.as_str().to_owned();
        let workflow = service.card.workflow();
        // The way forward: at each state, the action that neither asks for documents nor
        // refuses, with every value it asks for written down.
        let mut view = app.application_for(&system, &code).await.unwrap().unwrap();
        let mut steps = 0;
        while !workflow.state(&view.record.state).unwrap().issues {
            steps += 1;
            assert!(
                steps < 20,
                "{}: stuck in {}",
                service.card.code,
                view.record.state
            );
            let forward = way_forward(&workflow, &view.record.state);
            let fields = asked_values(&forward);
            if !forward.inquiries.is_empty() {
                // The stage waits for other agencies' answers: refused, naming them, until
                // they are asked through the exchange for this application.
                let error = app
                    .act_on_application_with(
                        &system,
                        "test",
                        &code,
                        view.record.revision,
                        &forward.code,
                        "",
                        &fields,
                        vec![],
                        None,
                        None,
                        Utc::now(),
                    )
                    .await
                    .unwrap_err();
                let ApplicationError::Invalid(problems) = &error else {
                    panic!("{error:?}")
                };
                assert_eq!(problems[0].code, "inquiries_needed");
                assert!(problems[0].fa.contains("استعلام پلیس اماکن عمومی"));
                for inquiry in &forward.inquiries {
                    ask_for(&app, &system, &view, inquiry).await;
                }
                inquiries_asked += forward.inquiries.len();
            }
            // A paying state: the agency's system cannot move it on unpaid, nor can a clerk
            // without a reason; a clerk exempting with one can (audited). Paying online and at
            // the counter are the payments tests'.
            let owes = app.owed_bill(&view.record).await.unwrap().is_some();
            let (actor, comment) = if owes {
                let refused = |error: ApplicationError| match error {
                    ApplicationError::Invalid(problems) => problems[0].code,
                    other => panic!("{other:?}"),
                };
                let unpaid = app
                    .act_on_application_with(
                        &system,
                        "test",
                        &code,
                        view.record.revision,
                        &forward.code,
                        "",
                        &fields,
                        vec![],
                        None,
                        None,
                        Utc::now(),
                    )
                    .await
                    .unwrap_err();
                assert_eq!(refused(unpaid), "payment_required", "{}", service.card.code);
                let clerk = staff(
                    &app,
                    &store,
                    &format!("clerk-{code}"),
                    Role::AgencyClerk,
                    &format!("agency:{agency}"),
                )
                .await;
                let no_reason = app
                    .act_on_application_with(
                        &clerk,
                        "test",
                        &code,
                        view.record.revision,
                        &forward.code,
                        "",
                        &fields,
                        vec![],
                        None,
                        None,
                        Utc::now(),
                    )
                    .await
                    .unwrap_err();
                assert_eq!(refused(no_reason), "payment_exemption_reason");
                exempted += 1;
                (clerk, "معافیت آزمون: فیش بانکی در دستگاه دیده شد")
            } else {
                (system.clone(), "")
            };
            view = app
                .act_on_application_with(
                    &actor,
                    "test",
                    &code,
                    view.record.revision,
                    &forward.code,
                    comment,
                    &fields,
                    vec![],
                    None,
                    None,
                    Utc::now(),
                )
                .await
                .unwrap_or_else(|e| panic!("{} {}: {e:?}", service.card.code, forward.code));
        }
        assert!(
            steps >= 2,
            "{}: its own stages, not one step",
            service.card.code
        );
        assert_eq!(view.outputs.len(), 1, "{}", service.card.code);
        let output = &view.outputs[0];
        let (_, pdf) = app
            .output_pdf(&system, &output.number)
            .await
            .unwrap()
            .unwrap();
        // To look at each kind of output: PISHKHAN_TEST_OUTPUTS=DIR keeps every PDF there.
        if let Some(dir) = std::env::var_os("PISHKHAN_TEST_OUTPUTS") {
            let dir = std::path::Path::new(&dir);
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{}.pdf", service.card.code)), &pdf).unwrap();
        }
        let raw = pdf_text(&pdf);
        assert!(
            raw.contains(&output.number) && raw.contains(&output.code),
            "{}: the number and the verification code are printed",
            service.card.code
        );
        let text = pishkhan_render::comparable(&raw);
        assert!(
            text.contains(&pishkhan_render::comparable("مریم احمدی")),
            "{}: the holder's name is printed",
            service.card.code
        );
        assert!(
            text.contains(&pishkhan_render::comparable(&service.card.output.fa)),
            "{}: what it is is printed",
            service.card.code
        );
        let verified = app.verify_code(&output.code, Utc::now()).await.unwrap();
        assert_eq!(verified.status, "valid", "{}", service.card.code);
        let by_qr = app
            .verify_payload(&output.payload, Utc::now())
            .await
            .unwrap();
        assert_eq!(by_qr.status, "valid", "{}", service.card.code);
        // And as a Verifiable Credential: its proof holds, its status entry is clear.
        let credential = app
            .output_credential(&system, &output.number, Utc::now())
            .await
            .unwrap()
            .unwrap();
        let key = credential_key(&app, &credential).await;
        pishkhan_domain::credential::verify(&credential, &key).unwrap();
        assert_eq!(credential["credentialSubject"]["name"], "مریم احمدی");
        assert!(!listed_revoked(&app, &credential).await);
        outputs_seen += 1;
    }
    assert_eq!(outputs_seen, 22);
    assert_eq!(inquiries_asked, 3, "the business licence's three checks");
    assert!(
        exempted >= 4,
        "the services that bill on the way: {exempted}"
    );
}

/// Registers the demo's inquiry services against an agency system in this test that answers
/// from the demo's simulator data (as `pishkhan agency-sim` does).
async fn demo_agencies_answer(app: &App) {
    use axum::body::Bytes;
    let data: serde_json::Value = serde_json::from_str(pishkhan_app::demo::DEMO_SIM_DATA).unwrap();
    let router = axum::Router::new().route(
        "/inquiries/{name}",
        axum::routing::post(move |body: Bytes| {
            let data = data.clone();
            async move {
                let question: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let code = question["inquiry"].as_str().unwrap_or_default();
                let answer = data["inquiries"][code]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|pair| pair["input"] == question["input"])
                    .map_or_else(
                        || serde_json::json!({ "found": false }),
                        |pair| serde_json::json!({ "output": pair["output"] }),
                    );
                answer.to_string()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let definitions: Vec<serde_json::Value> =
        serde_json::from_str(pishkhan_app::demo::DEMO_INQUIRIES).unwrap();
    for definition in definitions {
        let text = definition.to_string().replace("{sim}", &sim);
        app.register_inquiry(None, &Actor::command_line(), &text)
            .await
            .unwrap();
    }
}

/// Asks `inquiry` for `view`'s application, with what the application says (its national ID,
/// its answers), and expects it answered.
async fn ask_for(
    app: &App,
    who: &Principal,
    view: &pishkhan_app::applications::ApplicationView,
    inquiry: &str,
) {
    let definition = app.inquiry_definition(inquiry).await.unwrap().unwrap();
    let answers: serde_json::Value = serde_json::from_str(&view.record.answers).unwrap();
    let input = definition
        .input
        .iter()
        .map(|f| {
            // Answers are kept by form, then by field.
            let value = if f.id == "national_id" {
                serde_json::json!(view.record.national_id)
            } else {
                answers
                    .as_object()
                    .unwrap()
                    .values()
                    .find_map(|form| form.get(&f.id).cloned())
                    .unwrap_or_default()
            };
            (f.id.clone(), value)
        })
        .collect();
    let purpose = pishkhan_app::inquiries::Purpose {
        application: Some(view.record.code.clone()),
        consent: None,
        draft: None,
    };
    let answer = app
        .inquire(who, "test", inquiry, &purpose, &input, Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{inquiry}: {e:?}"));
    assert!(
        answer.found,
        "{inquiry}: the demo agency knows the applicant"
    );
}

async fn an_agency_system_issues_its_own_pdf_and_the_credential_follows_revocation(store: Store) {
    let app = app_on(store.clone()).await;
    let service = "tehran.building-permit";
    let card = app.published_service(service).await.unwrap().unwrap().card;
    let scope = format!("agency:{}", card.agency);
    let system = match staff(&app, &store, "sys", Role::System, &scope).await {
        Principal::Staff(user) => Principal::System(user),
        _ => unreachable!(),
    };
    let clerk = staff(&app, &store, "clerk", Role::AgencyClerk, &scope).await;
    let mut request = complete(&app, service).await;
    request.national_id = "0082451291".into();
    request.mobile = "09121234567".into();
    let filed = app
        .submit_application(&system, "test", request, Utc::now())
        .await
        .unwrap();
    let code = filed.code.as_str().to_owned();
    let workflow = card.workflow();
    let mut view = app.application_for(&system, &code).await.unwrap().unwrap();
    let act = |who: Principal, revision: i64, action: String, pdf: Option<Vec<u8>>| {
        let (app, code) = (app.clone(), code.clone());
        let fields = asked_values(&workflow.action(&action).unwrap().clone());
        // The agency's own cashier took the fee: its system says so (an audited exemption).
        let comment = if action == "payment-done" {
            "هزینه در صندوق دستگاه دریافت شد"
        } else {
            ""
        };
        async move {
            app.act_on_application_with(
                &who,
                "test",
                &code,
                revision,
                &action,
                comment,
                &fields,
                vec![],
                pdf,
                None,
                Utc::now(),
            )
            .await
        }
    };
    // A file sent with a step that issues nothing is refused, and nothing moves.
    let first = way_forward(&workflow, &view.record.state);
    let error = act(
        system.clone(),
        view.record.revision,
        first.code.clone(),
        Some(PDF.to_vec()),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(error), vec!["output_pdf_not_issuing"]);
    loop {
        let forward = way_forward(&workflow, &view.record.state);
        if workflow.state(&forward.to).unwrap().issues {
            break;
        }
        view = act(system.clone(), view.record.revision, forward.code, None)
            .await
            .unwrap();
    }
    let issue = way_forward(&workflow, &view.record.state).code;
    let revision = view.record.revision;
    // Only the agency's own system sends its PDF; only a whole PDF; at most 10 MB.
    let error = act(clerk.clone(), revision, issue.clone(), Some(PDF.to_vec()))
        .await
        .unwrap_err();
    assert_eq!(codes(error), vec!["output_pdf_not_yours"]);
    let mut huge = PDF.to_vec();
    huge.resize(pishkhan_app::applications::MAX_OUTPUT_PDF + 1, b' ');
    huge.extend_from_slice(b"%%EOF");
    for bad in [
        b"not a pdf at all".to_vec(),
        PDF[..PDF.len() / 2].to_vec(),
        b"%%EOF %PDF-1.7".to_vec(),
        huge,
    ] {
        let error = act(system.clone(), revision, issue.clone(), Some(bad))
            .await
            .unwrap_err();
        assert_eq!(codes(error), vec!["output_pdf_invalid"]);
    }
    let unchanged = app.application_for(&system, &code).await.unwrap().unwrap();
    assert_eq!(unchanged.record.revision, revision);
    assert!(unchanged.outputs.is_empty());

    // Issued by the agency: its PDF kept as sent, numbered and signed as any other.
    let issued = act(system.clone(), revision, issue.clone(), Some(PDF.to_vec()))
        .await
        .unwrap();
    let output = issued.outputs[0].clone();
    let (record, pdf) = app
        .output_pdf(&system, &output.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pdf, PDF);
    assert_eq!(
        record.supplied_by.as_deref().map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(
        app.verify_code(&output.code, Utc::now())
            .await
            .unwrap()
            .status,
        "valid"
    );

    // Its credential: the same every time, checked by its key, clear in the status list; the
    // holder may download it, a clerk of another agency may not.
    let credential = app
        .output_credential(&system, &output.number, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let again = app
        .output_credential(
            &citizen(&store, "0082451291").await,
            &output.number,
            Utc::now(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credential, again);
    let other = staff(
        &app,
        &store,
        "other",
        Role::AgencyClerk,
        "agency:tehran-tax",
    )
    .await;
    assert!(
        app.output_credential(&other, &output.number, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    let key = credential_key(&app, &credential).await;
    pishkhan_domain::credential::verify(&credential, &key).unwrap();
    assert!(
        credential["credentialSubject"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "۱۲۳۴۵"),
        "what the steps wrote down is in it"
    );
    assert!(!listed_revoked(&app, &credential).await);
    let issuer = app.issuer_document().await.unwrap();
    assert_eq!(issuer["id"], credential["issuer"]["id"]);
    assert!(
        issuer["assertionMethod"]
            .as_array()
            .unwrap()
            .contains(&credential["proof"]["verificationMethod"])
    );

    // Revoked: the list says so at once; the credential's own bytes still verify.
    app.revoke_output(&clerk, "test", &output.number, "نقشه عوض شد.", Utc::now())
        .await
        .unwrap();
    assert!(listed_revoked(&app, &credential).await);
    pishkhan_domain::credential::verify(&credential, &key).unwrap();
    // A list no output has reached is not there.
    assert!(
        app.status_list_credential(1, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.status_list_credential(-1, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_citizen_applies_and_the_agency_works_it_through_the_workflow(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let now = Utc::now();

    // Incomplete or wrong: refused with every problem, nothing stored.
    let mut missing = complete(&app, RENEWAL).await;
    missing.documents.remove(0);
    let first_form = missing.answers.keys().next().cloned().unwrap();
    missing
        .answers
        .get_mut(&first_form)
        .unwrap()
        .insert("no-such-field".into(), "x".into());
    let problems = codes(
        app.submit_application(&person, "test", missing, now)
            .await
            .unwrap_err(),
    );
    assert!(
        problems.contains(&"document_missing".to_owned()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"unknown_field".to_owned()),
        "{problems:?}"
    );
    let mut disguised = complete(&app, RENEWAL).await;
    disguised.documents[0].bytes = b"MZ\x90\x00 an executable named scan.pdf".to_vec();
    let problems = codes(
        app.submit_application(&person, "test", disguised, now)
            .await
            .unwrap_err(),
    );
    assert_eq!(problems, vec!["document_kind"]);
    assert_eq!(store.count_applications().await.unwrap(), 0);

    // Complete: filed, with a tracking code, its first event, its documents and notices.
    let submitted = app
        .submit_application(&person, "test", complete(&app, RENEWAL).await, now)
        .await
        .unwrap();
    let code = submitted.code.as_str().to_owned();
    assert_eq!(
        TrackingCode::parse(&submitted.code.grouped_fa()).unwrap(),
        submitted.code
    );
    assert_eq!(submitted.state, "submitted");
    assert!(submitted.deadline.is_some());
    let view = app.application_for(&person, &code).await.unwrap().unwrap();
    assert_eq!(view.record.channel, "online");
    assert_eq!(view.events.len(), 1);
    let attached = complete(&app, RENEWAL).await.documents.len();
    assert_eq!(view.documents.len(), attached);
    let (doc, bytes) = app
        .application_document(&person, &code, &view.documents[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, PDF);
    assert_eq!(doc.content_type, "application/pdf");
    let outbox = store.outbox_of(&code).await.unwrap();
    let topics: Vec<&str> = outbox.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(topics, vec!["notify.sms"]);
    assert!(outbox[0].1.contains(&submitted.code.grouped_fa()));
    let told: Vec<String> = store
        .events_about(&code)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(told, vec!["application.filed"]);

    // Someone else sees nothing.
    let stranger = citizen(&store, "0082451291").await;
    assert!(
        app.application_for(&stranger, &code)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.track(&code, "0082451291", "test")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.track(&code, "0076229645", "test")
            .await
            .unwrap()
            .is_some()
    );
    let error = app.track("1234", "0076229645", "test").await.unwrap_err();
    assert_eq!(codes(error), vec!["tracking_code_length"]);

    // The clerk of the agency sees it in the inbox; a clerk of another agency does not.
    let agency = view.record.agency.clone();
    let clerk = staff(
        &app,
        &store,
        "clerk",
        Role::AgencyClerk,
        &format!("agency:{agency}"),
    )
    .await;
    let other = staff(
        &app,
        &store,
        "other",
        Role::AgencyClerk,
        "agency:tehran-tax",
    )
    .await;
    let inbox = app.inbox(&clerk, InboxFilter::default()).await.unwrap();
    assert_eq!(
        inbox.iter().map(|a| &a.code).collect::<Vec<_>>(),
        vec![&code]
    );
    assert!(
        app.inbox(&other, InboxFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    // Illegal actions: refused with the reason, nothing changed.
    let act = |who: Principal, revision: i64, action: &'static str, comment: &'static str| {
        let app = app.clone();
        let code = code.clone();
        async move {
            app.act_on_application(
                &who,
                "test",
                &code,
                revision,
                action,
                comment,
                vec![],
                None,
                Utc::now(),
            )
            .await
        }
    };
    let refused = |r: Result<_, ApplicationError>| codes(r.unwrap_err());
    assert_eq!(
        refused(act(clerk.clone(), 1, "documents-check-done", "").await),
        vec!["wrong_state"]
    );
    assert_eq!(
        refused(act(person.clone(), 1, "start-review", "").await),
        vec!["role_may_not_act"]
    );
    assert_eq!(
        refused(act(clerk.clone(), 1, "request-documents", " ").await),
        vec!["comment_required"]
    );
    assert!(matches!(
        act(other.clone(), 1, "start-review", "").await,
        Err(ApplicationError::NotFound)
    ));
    let unchanged = app.application_for(&person, &code).await.unwrap().unwrap();
    assert_eq!(
        (unchanged.record.state.as_str(), unchanged.record.revision),
        ("submitted", 1)
    );
    assert_eq!(unchanged.events.len(), 1);

    // The clerk asks for a document; the citizen resubmits; the clerk approves and delivers.
    let v = act(
        clerk.clone(),
        1,
        "request-documents",
        "تصویر پشت کارت ملی خوانا نیست.",
    )
    .await
    .unwrap();
    assert_eq!(v.record.state, "needs-documents");
    assert_eq!(
        v.record.deadline, None,
        "no deadline runs against the agency"
    );
    assert!(matches!(
        act(clerk.clone(), 1, "start-review", "").await,
        Err(ApplicationError::Stale)
    ));
    let v = app
        .act_on_application(
            &person,
            "test",
            &code,
            v.record.revision,
            "resubmit",
            "تصویر تازه پیوست شد.",
            vec![Upload {
                requirement: String::new(),
                file_name: "national-card-back.png".into(),
                bytes: [
                    &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
                    b"rest",
                ]
                .concat(),
                provenance: None,
            }],
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(v.record.state, "resubmitted");
    assert_eq!(v.documents.len(), attached + 1);
    // The traffic police's own stages: documents and medical result checked, fees paid, card.
    let v = act(clerk.clone(), v.record.revision, "start-review", "")
        .await
        .unwrap();
    assert_eq!(v.record.state, "documents-check");
    let v = act(clerk.clone(), v.record.revision, "documents-check-done", "")
        .await
        .unwrap();
    assert_eq!(v.record.state, "payment");
    // Unpaid, the clerk moves it on only as an exemption, with its reason (audited).
    let v = act(
        clerk.clone(),
        v.record.revision,
        "payment-done",
        "فیش بانکی پرداخت در دستگاه دیده شد",
    )
    .await
    .unwrap();
    assert_eq!(v.record.state, "printing");
    // Issuing asks for the holder's name as the agency's records have it.
    assert_eq!(
        refused(act(clerk.clone(), v.record.revision, "issue", "").await),
        vec!["asked_value_required"]
    );
    assert!(v.outputs.is_empty());
    // Two clerks issue at the same moment: one output is issued, the other step is refused as
    // stale, and its PDF is removed without touching the one issued.
    let issue = |who: Principal, revision: i64| {
        let (app, code) = (app.clone(), code.clone());
        tokio::spawn(async move {
            app.act_on_application_with(
                &who,
                "test",
                &code,
                revision,
                "issue",
                "",
                &[
                    ("holder_name".to_owned(), "مریم احمدی".to_owned()),
                    ("licence_number".to_owned(), "۹۸۷۶۵۴۳۲۱".to_owned()),
                ],
                vec![],
                None,
                None,
                Utc::now(),
            )
            .await
        })
    };
    let both = [
        issue(clerk.clone(), v.record.revision),
        issue(clerk.clone(), v.record.revision),
    ];
    let mut won = Vec::new();
    for task in both {
        match task.await.unwrap() {
            Ok(view) => won.push(view),
            Err(ApplicationError::Stale) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "one of the two steps is taken");
    let v = won.remove(0);
    assert_eq!(v.record.state, "issued");
    assert_eq!(
        v.outputs.len(),
        1,
        "entering the issuing state issued one output"
    );
    let output = v.outputs[0].clone();
    assert_eq!(output.holder_name, "مریم احمدی");
    assert_eq!(output.number, format!("{code}-1"));
    let stored_outputs = walk_files(&app.config().data_dir.join("documents/outputs"));
    assert_eq!(
        stored_outputs, 1,
        "the losing step's PDF is gone, the winner's kept"
    );
    // The holder downloads it; a stranger cannot.
    let (_, pdf) = app
        .output_pdf(&person, &output.number)
        .await
        .unwrap()
        .expect("the holder sees the output");
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(pishkhan_domain::digest::sha256_hex(&pdf), output.pdf_sha256);
    assert!(
        app.output_pdf(&other, &output.number)
            .await
            .unwrap()
            .is_none()
    );
    // Anyone verifies it by its code (as typed) or its QR payload; nothing else is told.
    let found = app
        .verify_code(&output.code.to_lowercase().replace('-', " "), Utc::now())
        .await
        .unwrap();
    assert_eq!(found.status, "valid");
    let shown = found.output.unwrap();
    assert_eq!(shown.holder_name, "مریم احمدی");
    assert!(
        !shown.national_id.contains("0082451"),
        "{}",
        shown.national_id
    );
    let by_payload = app
        .verify_payload(&output.payload, Utc::now())
        .await
        .unwrap();
    assert_eq!(by_payload.status, "valid");
    let mut forged = output.payload.clone().into_bytes();
    let at = forged.len() / 2;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        app.verify_payload(&forged, Utc::now())
            .await
            .unwrap()
            .status,
        "tampered"
    );
    assert_eq!(
        app.verify_payload("WIFI:S:x;;", Utc::now())
            .await
            .unwrap()
            .status,
        "foreign"
    );
    assert_eq!(
        app.verify_code("0000-0000-0000", Utc::now())
            .await
            .unwrap()
            .status,
        "unknown"
    );
    let v = act(clerk.clone(), v.record.revision, "deliver", "")
        .await
        .unwrap();
    assert_eq!(v.record.state, "delivered");
    assert_eq!(v.record.outcome.as_deref(), Some("granted"));
    assert_eq!(
        v.events
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        vec![
            "submit",
            "request-documents",
            "resubmit",
            "start-review",
            "documents-check-done",
            "payment-done",
            "issue",
            "deliver"
        ]
    );
    assert!(
        app.inbox(&clerk, InboxFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // The person was told at each step they should know about.
    let sms = store
        .outbox_of(&code)
        .await
        .unwrap()
        .into_iter()
        .filter(|(t, _, _)| t == "notify.sms")
        .count();
    assert_eq!(
        sms, 6,
        "submitted, needs documents, documents checked, paid, issued, delivered"
    );
    // The agency revokes it with a reason: the holder is told, verification says revoked,
    // and it cannot be revoked twice. The citizen may not revoke.
    assert!(matches!(
        app.revoke_output(&person, "test", &output.number, "خطا", Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));
    assert_eq!(
        codes(
            app.revoke_output(&clerk, "test", &output.number, "  ", Utc::now())
                .await
                .unwrap_err()
        ),
        vec!["reason_required"]
    );
    app.revoke_output(
        &clerk,
        "test",
        &output.number,
        "نام دارنده نادرست ثبت شده بود.",
        Utc::now(),
    )
    .await
    .unwrap();
    let revoked = app.verify_code(&output.code, Utc::now()).await.unwrap();
    assert_eq!(revoked.status, "revoked");
    assert_eq!(
        revoked.output.unwrap().revoked_reason.as_deref(),
        Some("نام دارنده نادرست ثبت شده بود.")
    );
    assert_eq!(
        app.verify_payload(&output.payload, Utc::now())
            .await
            .unwrap()
            .status,
        "revoked"
    );
    assert_eq!(
        codes(
            app.revoke_output(&clerk, "test", &output.number, "دوباره", Utc::now())
                .await
                .unwrap_err()
        ),
        vec!["already_revoked"]
    );
    // Every change is in the audit chain, which still verifies.
    app.verify_audit().await.unwrap();
}

async fn an_operator_files_only_with_consent_and_a_system_only_for_its_agency(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let Principal::Citizen(record) = &person else {
        unreachable!()
    };
    let directory = store.org_directory().await.unwrap();
    let centre = directory
        .all()
        .into_iter()
        .find(|o| o.kind == pishkhan_app::records::OrgKind::Centre && o.province == "tehran")
        .map(|o| o.code.clone());
    let centre = match centre {
        Some(c) => c,
        None => {
            app.add_org(
                &Actor::command_line(),
                pishkhan_app::records::OrgKind::Centre,
                "tehran-centre-1",
                "tehran",
                "دفتر پیشخوان ۱",
            )
            .await
            .unwrap();
            "tehran-centre-1".to_owned()
        }
    };
    let operator = staff(
        &app,
        &store,
        "operator",
        Role::Operator,
        &format!("centre:{centre}"),
    )
    .await;
    let mut request = complete(&app, RENEWAL).await;
    request.national_id = "0076229645".into();
    request.centre = Some(centre.clone());
    // Without a consent: refused.
    let problems = codes(
        app.submit_application(&operator, "test", request.clone(), Utc::now())
            .await
            .unwrap_err(),
    );
    assert_eq!(problems, vec!["consent_required"]);
    // With one the citizen gave this operator at this centre: filed through the centre.
    let Principal::Staff(user) = &operator else {
        unreachable!()
    };
    let consent = pishkhan_app::records::ConsentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        citizen_id: record.id.clone(),
        operator_id: user.id.clone(),
        operator_name: user.display_name.clone(),
        centre: centre.clone(),
        centre_name: String::new(),
        purpose: "تمدید گواهینامه".into(),
        granted_at: Utc::now(),
        expires_at: Utc::now() + chrono::TimeDelta::hours(2),
    };
    store.insert_consent(&consent).await.unwrap();
    request.consent = Some(consent.id.clone());
    let filed = app
        .submit_application(&operator, "test", request.clone(), Utc::now())
        .await
        .unwrap();
    let view = app
        .application_for(&operator, filed.code.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.record.channel, "centre");
    assert_eq!(view.record.centre.as_deref(), Some(centre.as_str()));
    assert_eq!(view.record.consent.as_deref(), Some(consent.id.as_str()));
    // The citizen sees it among their own.
    let mine = app.my_applications(&person).await.unwrap();
    assert_eq!(mine.len(), 1);
    // The centre lists what it filed.
    let listed = app.centre_applications(&operator).await.unwrap();
    assert!(listed.iter().any(|f| f.record.code == view.record.code));
    // Withdrawing in the citizen's name takes their consent, open at this centre: refused once
    // it has lapsed, nothing changed…
    let lapsed = Utc::now() + chrono::TimeDelta::hours(3);
    let refused = app
        .act_on_application(
            &operator,
            "test",
            &view.record.code,
            view.record.revision,
            "withdraw",
            "",
            Vec::new(),
            None,
            lapsed,
        )
        .await
        .unwrap_err();
    assert_eq!(codes(refused), vec!["consent_needed"]);
    let unchanged = app
        .application_for(&operator, &view.record.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.record.state, view.record.state);
    // …an operator of another centre does not even see it…
    app.add_org(
        &Actor::command_line(),
        pishkhan_app::records::OrgKind::Centre,
        &format!("{centre}-other"),
        "tehran",
        "دفتر همسایه",
    )
    .await
    .unwrap();
    let neighbour = staff(
        &app,
        &store,
        "neighbour",
        Role::Operator,
        &format!("centre:{centre}-other"),
    )
    .await;
    assert!(
        app.application_for(&neighbour, &view.record.code)
            .await
            .unwrap()
            .is_none()
    );
    // …and while it is open, the withdrawal is taken.
    let withdrawn = app
        .act_on_application(
            &operator,
            "test",
            &view.record.code,
            view.record.revision,
            "withdraw",
            "به درخواست خود متقاضی",
            Vec::new(),
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(withdrawn.record.state, "withdrawn");

    // An agency system files for its own agency only.
    let agency = view.record.agency.clone();
    let system = Principal::System(
        match staff(
            &app,
            &store,
            "sys",
            Role::System,
            &format!("agency:{agency}"),
        )
        .await
        {
            Principal::Staff(u) => u,
            _ => unreachable!(),
        },
    );
    let mut by_api = complete(&app, RENEWAL).await;
    by_api.national_id = "۰۰۸۲۴۵۱۲۹۱".into();
    by_api.mobile = "09351112233".into();
    let filed = app
        .submit_application(&system, "test", by_api.clone(), Utc::now())
        .await
        .unwrap();
    let view = app
        .application_for(&system, filed.code.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            view.record.channel.as_str(),
            view.record.national_id.as_str()
        ),
        ("api", "0082451291")
    );
    by_api.mobile = "0935".into();
    let expected = pishkhan_domain::id::MobileNumber::parse("0935")
        .unwrap_err()
        .code
        .to_owned();
    assert_eq!(
        codes(
            app.submit_application(&system, "test", by_api, Utc::now())
                .await
                .unwrap_err()
        ),
        vec![expected]
    );
    let foreign = Principal::System(
        match staff(&app, &store, "sys2", Role::System, "agency:tehran-tax").await {
            Principal::Staff(u) => u,
            _ => unreachable!(),
        },
    );
    let mut request = complete(&app, RENEWAL).await;
    request.national_id = "0082451291".into();
    request.mobile = "09351112233".into();
    assert!(matches!(
        app.submit_application(&foreign, "test", request, Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));

    // The centre prints the output for the person and records the hand-over: its own operator
    // only, once, and never a revoked output.
    let mut again = complete(&app, RENEWAL).await;
    again.centre = Some(centre.clone());
    again.national_id = "0076229645".into();
    let fresh = pishkhan_app::records::ConsentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        granted_at: Utc::now(),
        expires_at: Utc::now() + chrono::TimeDelta::hours(2),
        ..consent.clone()
    };
    store.insert_consent(&fresh).await.unwrap();
    again.consent = Some(fresh.id.clone());
    let at_counter = app
        .submit_application(&operator, "test", again, Utc::now())
        .await
        .unwrap();
    let code = at_counter.code.as_str().to_owned();
    let mut moved = app.application_for(&system, &code).await.unwrap().unwrap();
    for (action, fields) in [
        ("start-review", vec![]),
        ("documents-check-done", vec![]),
        ("payment-done", vec![]),
        (
            "issue",
            vec![
                ("holder_name".to_owned(), "زهرا کریمی".to_owned()),
                ("licence_number".to_owned(), "۱۲۳۴۵۶".to_owned()),
            ],
        ),
    ] {
        if action == "payment-done" {
            // The fee is taken at the counter that filed it, in cash: into the operator's
            // till, and the application moves on with it. A card needs the terminal's
            // reference; someone from another centre cannot take it.
            let refused = app
                .pay_at_counter(&operator, "test", &code, Method::Card, "x", Utc::now())
                .await
                .unwrap_err();
            assert!(
                matches!(refused, PaymentError::Refused(p) if p.code == "payment_bad_reference")
            );
            let paid = app
                .pay_at_counter(&operator, "test", &code, Method::Cash, "", Utc::now())
                .await
                .unwrap();
            assert_eq!((paid.state.as_str(), paid.rials), ("paid", 120_000));
            let again = app
                .pay_at_counter(&operator, "test", &code, Method::Cash, "", Utc::now())
                .await
                .unwrap_err();
            assert!(matches!(again, PaymentError::Refused(p) if p.code == "payment_not_owed"));
            assert_eq!(store.ledger_total().await.unwrap(), 0);
            let tills = store.ledger_balances("till:").await.unwrap();
            assert_eq!(tills.len(), 1);
            assert_eq!(tills[0].1, 120_000);
            moved = app.application_for(&system, &code).await.unwrap().unwrap();
            assert_ne!(moved.record.state, "payment");
            continue;
        }
        moved = app
            .act_on_application_with(
                &system,
                "test",
                &code,
                moved.record.revision,
                action,
                "",
                &fields,
                vec![],
                None,
                None,
                Utc::now(),
            )
            .await
            .unwrap();
    }
    let number = moved.outputs[0].number.clone();
    assert!(
        app.output_pdf(&operator, &number).await.unwrap().is_some(),
        "the centre prints it"
    );
    assert!(app.output_pdf(&neighbour, &number).await.unwrap().is_none());
    assert!(matches!(
        app.hand_over_output(&neighbour, "test", &number, Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));
    assert!(matches!(
        app.hand_over_output(&system, "test", &number, Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));
    app.hand_over_output(&operator, "test", &number, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        codes(
            app.hand_over_output(&operator, "test", &number, Utc::now())
                .await
                .unwrap_err()
        ),
        vec!["not_to_hand_over"]
    );
    let handed = app
        .application_for(&operator, &code)
        .await
        .unwrap()
        .unwrap();
    assert!(handed.outputs[0].handed_over_at.is_some());
    let audited = store
        .audit_entries_about("output.hand-over", "output", &number)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    // An operator may not revoke what the agency issued.
    assert!(matches!(
        app.revoke_output(&operator, "test", &number, "اشتباه", Utc::now())
            .await,
        Err(ApplicationError::NotFound)
    ));
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 8, 0, 0).unwrap()
}

async fn deadlines_skip_fridays_and_holidays_and_overdue_work_escalates_once(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    // Thursday 1404/08/01: one business day later is Saturday 1404/08/03 (Friday skipped).
    let thursday = app
        .submit_application(
            &person,
            "test",
            complete(&app, RENEWAL).await,
            at(2025, 10, 23),
        )
        .await
        .unwrap();
    assert_eq!(thursday.deadline.unwrap().format_numeric(), "1404/08/03");
    // Thursday 1404/12/28: Friday 12/29 (also a holiday) and Nowruz 1405/01/01–04 skipped.
    let nowruz = app
        .submit_application(
            &person,
            "test",
            complete(&app, RENEWAL).await,
            at(2026, 3, 19),
        )
        .await
        .unwrap();
    assert_eq!(nowruz.deadline.unwrap().format_numeric(), "1405/01/05");

    // Past both deadlines: each escalated once, whichever node runs the job and how often.
    let later = at(2026, 4, 20);
    assert_eq!(app.escalate_overdue(later).await.unwrap(), 2);
    assert_eq!(app.escalate_overdue(later).await.unwrap(), 0);
    let escalations = store
        .events_about(thursday.code.as_str())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "application.overdue")
        .count();
    assert_eq!(escalations, 1);
    // Overdue filter on the desk.
    let view = app
        .application_for(&person, thursday.code.as_str())
        .await
        .unwrap()
        .unwrap();
    let clerk = staff(
        &app,
        &store,
        "clerk",
        Role::AgencyClerk,
        &format!("agency:{}", view.record.agency),
    )
    .await;
    let overdue = app
        .inbox(
            &clerk,
            InboxFilter {
                deadline_before: Some("1404/09/01".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(overdue.len(), 1);
    assert!(view.overdue(pishkhan_domain::JalaliDate::in_iran(later)));
}

async fn concurrent_submissions_are_all_stored_whole(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let request = complete(&app, RENEWAL).await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (app, person, request) = (app.clone(), person.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            app.submit_application(&person, "test", request, Utc::now())
                .await
                .unwrap()
                .code
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 64, "each submission its own tracking code");
    assert_eq!(store.count_applications().await.unwrap(), 64);
    for code in &codes {
        let view = app
            .application_for(&person, code.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(view.events.len(), 1);
        assert_eq!(view.documents.len(), request.documents.len());
    }
    app.verify_audit().await.unwrap();
}

fn filing(code: &str, documents: usize) -> NewApplication {
    NewApplication {
        code: code.to_owned(),
        service: "tehran.birth-certificate".into(),
        service_version: 1,
        agency: "tehran-civil-registry".into(),
        national_id: "0076229645".into(),
        mobile: "+989121234567".into(),
        email: String::new(),
        channel: "api".into(),
        centre: None,
        filed_by: "system".into(),
        filed_by_role: "system".into(),
        consent: None,
        state: "submitted".into(),
        deadline: Some("1405/09/09".into()),
        answers: r#"{"form":{"a":"ب"}}"#.into(),
        fee_rials: 1000,
        at: at(2025, 11, 1),
        documents: (0..documents)
            .map(|i| NewDocument {
                // Unique like the real ones (random), so only the code can collide.
                id: format!("{code}-{i}-{}", uuid::Uuid::new_v4().simple()),
                requirement: format!("doc-{i}"),
                file_name: format!("scan-{i}.pdf"),
                content_type: "application/pdf".into(),
                size: 10,
                sha256: "00".repeat(32),
                object_key: format!("documents/00/{code}-{i}"),
                uploaded_by: "system".into(),
                provenance: None,
            })
            .collect(),
        outbox: vec![NewOutboxMessage {
            topic: "notify.sms".into(),
            subject: code.to_owned(),
            payload: "{}".into(),
        }],
        events: vec![],
        audit: NewAuditEntry {
            at: at(2025, 11, 1),
            actor: "system".into(),
            action: "application.submit".into(),
            target_kind: "application".into(),
            target_id: code.to_owned(),
            source: "test".into(),
            details: "{}".into(),
        },
        idempotency: None,
    }
}

/// Filings are written by the group-commit writer as one script per batch; a filing whose
/// tracking code is taken must fail alone, with nothing of it stored, while the others in its
/// batch (and audit entries appended beside them) land whole and the chain stays intact.
async fn a_taken_tracking_code_refuses_only_its_filing_in_a_batch(store: Store) {
    app_on(store.clone()).await;
    let base = audit_count(&store).await;
    store
        .insert_application(filing("10000000001", 2))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            match i {
                // The same code again: refused.
                17 => store
                    .insert_application(filing("10000000001", 3))
                    .await
                    .map(|()| "filed"),
                // An audit entry appended directly, beside the writer.
                i if i % 10 == 5 => store
                    .append_audit(&audit_entry(i))
                    .await
                    .map(|_| "appended")
                    .map_err(WriteError::from),
                // A job of the writer that is not a script (moves the chain itself).
                i if i % 10 == 9 => store
                    .assign_application(
                        "10000000001",
                        1 + i / 10,
                        Some("clerk"),
                        at(2025, 11, 1),
                        &audit_entry(i),
                    )
                    .await
                    .map(|()| "assigned"),
                i => store
                    .insert_application(filing(
                        &format!("2000000{i:04}"),
                        usize::try_from(i % 4).unwrap(),
                    ))
                    .await
                    .map(|()| "filed"),
            }
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let taken: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Err(WriteError::CodeTaken)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(taken, vec![17]);
    // Assignments raced with each other on the revision: some may be stale, none other fails.
    for (i, result) in results.iter().enumerate() {
        match result {
            Ok(_) | Err(WriteError::Stale) if i % 10 == 9 => {}
            Ok(_) => {}
            Err(WriteError::CodeTaken) if i == 17 => {}
            Err(e) => panic!("write {i} failed: {e}"),
        }
    }
    let filed = results.iter().filter(|r| matches!(r, Ok("filed"))).count();
    assert_eq!(filed, 31);
    assert_eq!(store.count_applications().await.unwrap(), 32);
    let first = store.application_documents("10000000001").await.unwrap();
    assert_eq!(
        first.len(),
        2,
        "the refused filing added nothing to the first"
    );
    for i in (0..40_i64).filter(|i| *i != 17 && i % 10 != 5 && i % 10 != 9) {
        let code = format!("2000000{i:04}");
        let record = store.application(&code).await.unwrap().unwrap();
        assert_eq!(record.answers, r#"{"form":{"a":"ب"}}"#);
        assert_eq!(store.application_events(&code).await.unwrap().len(), 1);
        assert_eq!(
            store.application_documents(&code).await.unwrap().len(),
            usize::try_from(i % 4).unwrap()
        );
        assert_eq!(store.outbox_of(&code).await.unwrap().len(), 1);
    }
    let entries = audit_count(&store).await - base;
    let assigned = results
        .iter()
        .filter(|r| matches!(r, Ok("assigned")))
        .count();
    assert_eq!(
        entries,
        i64::try_from(1 + 31 + 4 + assigned).unwrap(),
        "one entry per filing, append and assignment"
    );
}

fn audit_entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: at(2025, 11, 1),
        actor: format!("user-{n}"),
        action: "test.append".to_owned(),
        target_kind: "test".to_owned(),
        target_id: n.to_string(),
        source: "127.0.0.1".to_owned(),
        details: format!("{{\"n\":{n}}}"),
    }
}

/// The audit chain's length, checked whole.
async fn audit_count(store: &Store) -> i64 {
    let (entries, head) = store.audit_chain().await.unwrap();
    pishkhan_domain::audit::verify_chain(entries, head).unwrap()
}

/// An agency system that times out and retries sends the same Idempotency-Key: whether the
/// retries come after the first answer or at the same moment, one application is filed, one
/// action taken, each retry answers the first answer, and the files of the retries are gone.
async fn retried_filings_and_actions_happen_once(store: Store) {
    use pishkhan_app::applications::IdempotencyKey;
    let app = app_on(store.clone()).await;
    let agency = app
        .published_service(RENEWAL)
        .await
        .unwrap()
        .unwrap()
        .card
        .agency;
    let system = match staff(
        &app,
        &store,
        "sys",
        Role::System,
        &format!("agency:{agency}"),
    )
    .await
    {
        Principal::Staff(user) => Principal::System(user),
        other => other,
    };
    let mut request = complete(&app, RENEWAL).await;
    request.national_id = "0082451291".into();
    request.mobile = "09351112233".into();
    let key = |key: &str, hash: &str| {
        Some(IdempotencyKey {
            key: key.into(),
            request_hash: hash.into(),
        })
    };
    request.idempotency = key("retry-1", "hash-a");
    // Eight copies at once, then one more after them.
    let copies = (0..8).map(|_| {
        let (app, system, request) = (app.clone(), system.clone(), request.clone());
        tokio::spawn(async move {
            app.submit_application(&system, "test", request, Utc::now())
                .await
        })
    });
    let mut codes = std::collections::BTreeSet::new();
    for copy in copies {
        codes.insert(copy.await.unwrap().unwrap().code.as_str().to_owned());
    }
    let later = app
        .submit_application(&system, "test", request.clone(), Utc::now())
        .await
        .unwrap();
    codes.insert(later.code.as_str().to_owned());
    assert_eq!(
        codes.len(),
        1,
        "one tracking code for every copy: {codes:?}"
    );
    assert_eq!(store.count_applications().await.unwrap(), 1);
    // The same key with another request is refused; another key files anew.
    let mut other = request.clone();
    other.idempotency = key("retry-1", "hash-b");
    assert!(matches!(
        app.submit_application(&system, "test", other, Utc::now())
            .await,
        Err(ApplicationError::KeyReused)
    ));
    let mut fresh = request.clone();
    fresh.idempotency = key("retry-2", "hash-a");
    let second = app
        .submit_application(&system, "test", fresh, Utc::now())
        .await
        .unwrap();
    assert_ne!(second.code, later.code);
    assert_eq!(store.count_applications().await.unwrap(), 2);
    // Only the two filings' files are kept: the copies' were removed.
    let stored_files = walk_files(&app.config().data_dir.join("documents"));
    let per_filing = request.documents.len();
    assert_eq!(stored_files, 2 * per_filing, "no orphaned files");

    // An action, retried at the same moment with its key, is taken once.
    let code = later.code.as_str().to_owned();
    let revision = app
        .application_for(&system, &code)
        .await
        .unwrap()
        .unwrap()
        .record
        .revision;
    let events_before = store.application_events(&code).await.unwrap().len();
    let actions = (0..4).map(|_| {
        let (app, system, code) = (app.clone(), system.clone(), code.clone());
        tokio::spawn(async move {
            app.act_on_application(
                &system,
                "test",
                &code,
                revision,
                "start-review",
                "",
                vec![],
                Some(IdempotencyKey {
                    key: "act-1".into(),
                    request_hash: "hash-act".into(),
                }),
                Utc::now(),
            )
            .await
        })
    });
    for action in actions {
        let view = action.await.unwrap().unwrap();
        assert_eq!(view.record.state, "documents-check");
    }
    assert_eq!(
        store.application_events(&code).await.unwrap().len(),
        events_before + 1,
        "the action was taken once"
    );
}

/// How many files are under `dir`.
fn walk_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() { walk_files(&path) } else { 1 }
        })
        .sum()
}

/// A unique violation elsewhere — here a document id used twice — is an error with its cause,
/// never mistaken for a tracking code drawn twice (which would draw again and again).
async fn only_a_tracking_code_collision_is_taken_for_one(store: Store) {
    app_on(store.clone()).await;
    let mut first = filing("30000000001", 1);
    first.documents[0].id = "used-once".into();
    store.insert_application(first).await.unwrap();
    let mut clash = filing("30000000002", 1);
    clash.documents[0].id = "used-once".into();
    match store.insert_application(clash).await {
        Err(WriteError::Store(cause)) => {
            assert!(
                cause.to_string().to_lowercase().contains("unique"),
                "{cause}"
            );
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    assert!(matches!(
        store.insert_application(filing("30000000001", 0)).await,
        Err(WriteError::CodeTaken)
    ));
    assert_eq!(store.count_applications().await.unwrap(), 1);
}

/// A scan written for a filing that then failed (or a process killed between the file and the
/// row) is removed by the sweep at start, once older than the grace; files rows name stay.
async fn files_no_row_names_are_swept_after_a_grace_and_the_rest_kept(store: Store) {
    use pishkhan_app::orphans::GRACE;
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let now = Utc::now();
    app.submit_application(&person, "test", complete(&app, RENEWAL).await, now)
        .await
        .unwrap();
    let docs = app.documents();
    let filed: Vec<String> = docs
        .list("documents/")
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert!(!filed.is_empty());
    docs.put("documents/zz/zz0rphan", PDF.to_vec())
        .await
        .unwrap();
    docs.put("drafts/no-such-draft/scan", PDF.to_vec())
        .await
        .unwrap();
    // An output's PDF whose issuing step never committed (a crash in between).
    docs.put("outputs/30000000001-1-0a1b2c3d4e5f.pdf", PDF.to_vec())
        .await
        .unwrap();

    // Within the grace, a file may belong to a filing in flight: nothing goes.
    let swept = app.sweep_orphans(Utc::now()).await.unwrap();
    assert_eq!((swept.files, swept.removed), (filed.len() + 3, 0));

    // Past it, the three no row names go; the filing's stay.
    let later = Utc::now() + GRACE + chrono::Duration::minutes(1);
    let swept = app.sweep_orphans(later).await.unwrap();
    assert_eq!(swept.removed, 3);
    let left: Vec<String> = docs
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(left, filed);
    assert_eq!(app.sweep_orphans(later).await.unwrap().removed, 0);
}

/// A text message that cannot be sent (the provider's file is a folder, so every write fails) is
/// retried with pauses, then dead-lettered after its last attempt and left alone; replayed, it
/// is tried again from zero and, once the provider works, delivered — once. Delivered messages
/// are finished together.
async fn a_notification_that_keeps_failing_is_dead_lettered_then_replayed(store: Store) {
    let app = app_on(store.clone()).await;
    let person = citizen(&store, "0076229645").await;
    let sms_file = app.config().data_dir.join(pishkhan_app::sms::SMS_FILE_NAME);
    std::fs::create_dir_all(&sms_file).unwrap();
    let submitted = app
        .submit_application(&person, "test", complete(&app, RENEWAL).await, Utc::now())
        .await
        .unwrap();
    let code = submitted.code.as_str().to_owned();
    // Each round far enough ahead for the pause before the next attempt to have passed.
    let mut later = Utc::now();
    for attempt in 1..=JobKind::Notification.max_attempts() {
        later += chrono::TimeDelta::hours(2);
        let (sent, failed) = app.deliver_notifications(later).await.unwrap();
        assert_eq!((sent, failed), (0, 1), "attempt {attempt}");
    }
    let dead = app
        .dead_letters(Some(JobKind::Notification), None, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].subject, code);
    assert_eq!(dead[0].attempts, JobKind::Notification.max_attempts());
    assert!(!dead[0].last_error.is_empty());
    later += chrono::TimeDelta::days(1);
    assert_eq!(
        app.deliver_notifications(later).await.unwrap(),
        (0, 0),
        "left alone"
    );

    // The provider works again; the message is replayed (on the record) and goes out once.
    std::fs::remove_dir(&sms_file).unwrap();
    let cli = Actor::command_line();
    assert!(
        app.replay_dead_letter(&cli, dead[0].id, None)
            .await
            .unwrap()
    );
    assert!(
        !app.replay_dead_letter(&cli, dead[0].id, None)
            .await
            .unwrap(),
        "not dead any more"
    );
    assert_eq!(app.deliver_notifications(Utc::now()).await.unwrap(), (1, 0));
    assert_eq!(app.deliver_notifications(later).await.unwrap(), (0, 0));
    assert!(
        app.dead_letters(Some(JobKind::Notification), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = pishkhan_app::sms::read_sms_file(&sms_file).unwrap();
    assert_eq!(sent.len(), 1);
    let (entries, _) = store.audit_chain().await.unwrap();
    assert!(entries.iter().any(|e| e.fields.action == "outbox.replay"));
}
