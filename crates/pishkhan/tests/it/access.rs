//! The route × role matrix: every route the router has, requested by every kind of principal
//! (and by admins of a neighbouring scope), against expectations written here, independently of
//! the router's own table. A route added without an expectation fails the first assertion.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeDelta, Utc};
use http::Method;
use pishkhan_app::Secret;
use pishkhan_app::audit::Actor;
use pishkhan_app::records::{CitizenRecord, OrgKind};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_store::{SessionOwner, SessionRecord, Store};
use pishkhan_web::route_specs;

use crate::support::{Reply, get, on_both_backends, send_form, state_on};

on_both_backends!(every_route_answers_every_role_as_expected);

/// Who may use a route, in this test's own words.
#[derive(Clone, Copy, Debug)]
enum Who {
    Everyone,
    /// Answers 404 to everyone (the API's catch-all, and objects the fixture does not have).
    NobodyFound,
    SignedIn,
    Staff,
    Citizen,
    Counter,
    /// Operators, asking for a draft or application the fixture does not have: 404 for them.
    CounterMissing,
    UserAdmins,
    /// User admins, but only those whose scope holds the target account; the others get 404.
    UserAdminsOfTarget,
    ProvinceEditors,
    /// Governorate admins held in the national scope: what applies to every province.
    NationalEditors,
    /// A province's own plan: its governorate admins; one held nationally has no province of its
    /// own, and is told there is none (404).
    ProvincePlan,
    /// Catalogue editors (agency editors and admins, governorate admins).
    Editors,
    /// Editors whose scope holds the target service's agency; other editors get 404.
    EditorsOfTarget,
    /// Editors, asking for a form the fixture does not have: 404 for them.
    EditorsMissing,
    /// User admins, about an account that has nothing of the kind: 404 to them, 403 to others.
    UserAdminsMissing,
    ApiClient,
    /// The citizen, asking for an application the fixture does not have: 404.
    CitizenMissing,
    /// Centre managers (a centre's money).
    CentreManagers,
    /// Agency clerks and admins (the applications' desk).
    Workers,
    /// Workers, asking for an application the fixture does not have: 404 for them.
    WorkersMissing,
    /// Anyone signed in, asking for an object the fixture does not have: 404 for them.
    SignedInMissing,
    /// API clients, asking for an object the fixture does not have: 404 for them.
    ApiClientMissing,
    /// Agency admins and governorate admins (the exchange with agencies' systems).
    ExchangeAdmins,
    /// Those, about agency tehran-tax: its admin and Tehran's (or the national) governorate
    /// admin; the neighbours are told it does not exist.
    ExchangeAdminsOfTarget,
}

/// Every route and who may use it.
const EXPECTED: &[(&str, &str, Who)] = &[
    ("GET", "/", Who::Everyone),
    ("GET", "/lang/{tag}", Who::Everyone),
    ("GET", "/static/{*path}", Who::Everyone),
    ("GET", "/search", Who::Everyone),
    ("GET", "/track", Who::Everyone),
    ("GET", "/verify", Who::Everyone),
    ("GET", "/centres", Who::Everyone),
    ("GET", "/developers", Who::Everyone),
    ("GET", "/desk/applications", Who::Workers),
    // No such inquiry in the fixture: 404 to the counter.
    ("POST", "/counter/inquiries/{inquiry}", Who::CounterMissing),
    // The fixture's application does not exist: 404 to the workers.
    (
        "POST",
        "/desk/applications/{code}/inquiries/{inquiry}",
        Who::WorkersMissing,
    ),
    ("GET", "/me/applications/{code}", Who::CitizenMissing),
    ("POST", "/me/applications/{code}", Who::Citizen),
    (
        "GET",
        "/me/applications/{code}/withdraw",
        Who::CitizenMissing,
    ),
    // A body without the revision is refused before the application is looked up.
    ("POST", "/me/applications/{code}/withdraw", Who::Citizen),
    ("POST", "/counter/applications/{code}", Who::Counter),
    (
        "GET",
        "/counter/applications/{code}/withdraw",
        Who::CounterMissing,
    ),
    (
        "POST",
        "/counter/applications/{code}/withdraw",
        Who::Counter,
    ),
    ("POST", "/me/applications/{code}/pay", Who::CitizenMissing),
    ("GET", "/me/bills", Who::Citizen),
    // An empty form: the bill is refused by code (422) before the bank is asked.
    ("POST", "/me/bills/pay", Who::Citizen),
    ("GET", "/me/bills/{number}", Who::CitizenMissing),
    ("GET", "/me/bills/{number}/pdf", Who::CitizenMissing),
    ("GET", "/counter/bills", Who::Counter),
    // Without a method the form is refused (422) before any bill is read.
    ("POST", "/counter/bills", Who::Counter),
    ("GET", "/counter/payments/{number}", Who::CounterMissing),
    ("GET", "/counter/payments/{number}/pdf", Who::CounterMissing),
    ("GET", "/counter/till", Who::Counter),
    ("GET", "/counter/statement", Who::CentreManagers),
    ("GET", "/counter/statement/pdf", Who::CentreManagers),
    ("GET", "/counter/statement/xlsx", Who::CentreManagers),
    // Empty forms: the amounts (or the operator) are refused by name, nothing closed.
    ("POST", "/counter/till", Who::Counter),
    ("POST", "/counter/till/approve", Who::Counter),
    ("POST", "/counter/till/day", Who::Counter),
    ("GET", "/desk/bills", Who::Workers),
    ("GET", "/desk/payments/{number}", Who::WorkersMissing),
    (
        "POST",
        "/desk/payments/{number}/refund",
        Who::WorkersMissing,
    ),
    (
        "POST",
        "/counter/applications/{code}/pay",
        Who::CounterMissing,
    ),
    // The bank's form, from another site: no session or token needed, and an unknown payment
    // is not found for anyone.
    ("POST", "/payments/callback", Who::NobodyFound),
    ("POST", "/track/receipt", Who::Everyone),
    ("GET", "/desk/applications/{code}", Who::WorkersMissing),
    ("POST", "/desk/applications/{code}", Who::Workers),
    (
        "GET",
        "/desk/applications/{code}/documents/{id}",
        Who::WorkersMissing,
    ),
    ("POST", "/track", Who::Everyone),
    (
        "GET",
        "/applications/{code}/receipt.pdf",
        Who::SignedInMissing,
    ),
    ("GET", "/outputs/{number}", Who::SignedInMissing),
    ("GET", "/outputs/{number}/credential", Who::SignedInMissing),
    // The fixture has no such output: 404 to those who may act on outputs.
    (
        "POST",
        "/counter/outputs/{number}/hand-over",
        Who::CounterMissing,
    ),
    ("POST", "/desk/outputs/{number}/revoke", Who::WorkersMissing),
    ("GET", "/services/{code}", Who::Everyone),
    ("GET", "/services/{code}/pdf", Who::Everyone),
    ("GET", "/categories/{code}", Who::NobodyFound),
    ("GET", "/events/{code}", Who::NobodyFound),
    ("GET", "/agencies/{code}", Who::NobodyFound),
    ("GET", "/forms/{code}", Who::NobodyFound),
    ("GET", "/forms/{code}/pdf", Who::NobodyFound),
    ("GET", "/sitemap.xml", Who::Everyone),
    ("GET", "/robots.txt", Who::Everyone),
    ("GET", "/signin", Who::Everyone),
    ("POST", "/signin", Who::Everyone),
    ("GET", "/signin/second-factor", Who::Everyone),
    ("POST", "/signin/second-factor", Who::Everyone),
    ("GET", "/signin/password", Who::Everyone),
    ("POST", "/signin/password", Who::Everyone),
    ("GET", "/signin/citizen", Who::Everyone),
    ("POST", "/signin/citizen", Who::Everyone),
    ("POST", "/signin/citizen/code", Who::Everyone),
    ("POST", "/signout", Who::Everyone),
    ("POST", "/signout/everywhere", Who::SignedIn),
    ("GET", "/account", Who::Staff),
    ("GET", "/account/password", Who::Staff),
    ("POST", "/account/password", Who::Staff),
    ("GET", "/account/second-factor", Who::Staff),
    ("POST", "/account/second-factor", Who::Staff),
    ("GET", "/me", Who::Citizen),
    ("GET", "/counter", Who::Counter),
    ("POST", "/counter/consent", Who::Counter),
    ("POST", "/counter/consent/confirm", Who::Counter),
    ("POST", "/counter/drafts", Who::Counter),
    ("GET", "/counter/drafts/{id}", Who::CounterMissing),
    // A body that is not multipart is refused before the draft is looked up.
    ("POST", "/counter/drafts/{id}", Who::Counter),
    ("GET", "/counter/drafts/{id}/review", Who::CounterMissing),
    ("POST", "/counter/drafts/{id}/submit", Who::CounterMissing),
    ("POST", "/counter/drafts/{id}/discard", Who::CounterMissing),
    ("GET", "/counter/applications/{code}", Who::CounterMissing),
    ("GET", "/me/apply/{service}", Who::Citizen),
    ("POST", "/me/apply/{service}", Who::Citizen),
    // No draft: back to the form.
    ("GET", "/me/apply/{service}/review", Who::Citizen),
    ("POST", "/me/apply/{service}/submit", Who::Citizen),
    ("POST", "/me/apply/{service}/discard", Who::Citizen),
    ("GET", "/admin/notifications", Who::NationalEditors),
    ("POST", "/admin/notifications", Who::NationalEditors),
    ("GET", "/desk", Who::Editors),
    ("GET", "/desk/services/new", Who::EditorsMissing),
    ("POST", "/desk/services/new", Who::EditorsMissing),
    ("GET", "/desk/forms/new", Who::EditorsMissing),
    ("POST", "/desk/forms/new", Who::EditorsMissing),
    ("GET", "/desk/services/{code}", Who::EditorsOfTarget),
    ("POST", "/desk/services/{code}", Who::EditorsOfTarget),
    ("POST", "/desk/services/{code}/submit", Who::EditorsOfTarget),
    (
        "POST",
        "/desk/services/{code}/publish",
        Who::EditorsOfTarget,
    ),
    ("POST", "/desk/services/{code}/return", Who::EditorsOfTarget),
    ("POST", "/desk/services/{code}/retire", Who::EditorsOfTarget),
    ("GET", "/desk/services/{code}/diff", Who::EditorsOfTarget),
    ("GET", "/desk/agencies/{code}", Who::EditorsMissing),
    ("POST", "/desk/agencies/{code}", Who::EditorsMissing),
    ("POST", "/desk/agencies/{code}/offices", Who::EditorsMissing),
    (
        "POST",
        "/desk/agencies/{code}/offices/{office}/delete",
        Who::EditorsMissing,
    ),
    ("GET", "/desk/forms/{code}", Who::EditorsMissing),
    ("POST", "/desk/forms/{code}", Who::EditorsMissing),
    ("GET", "/admin", Who::UserAdmins),
    ("GET", "/admin/users", Who::UserAdmins),
    ("POST", "/admin/users", Who::UserAdmins),
    ("GET", "/admin/users/{id}", Who::UserAdminsOfTarget),
    (
        "POST",
        "/admin/users/{id}/reset-password",
        Who::UserAdminsOfTarget,
    ),
    ("POST", "/admin/users/{id}/disable", Who::UserAdminsOfTarget),
    ("POST", "/admin/users/{id}/enable", Who::UserAdminsOfTarget),
    (
        "POST",
        "/admin/users/{id}/reset-second-factor",
        Who::UserAdminsOfTarget,
    ),
    // The target account is an operator, not an API client: it has no tokens to manage.
    ("POST", "/admin/users/{id}/tokens", Who::UserAdminsMissing),
    (
        "POST",
        "/admin/users/{id}/tokens/{token}/rotate",
        Who::UserAdminsMissing,
    ),
    (
        "POST",
        "/admin/users/{id}/tokens/{token}/revoke",
        Who::UserAdminsMissing,
    ),
    ("GET", "/admin/exchange", Who::ExchangeAdmins),
    (
        "GET",
        "/admin/exchange/{agency}",
        Who::ExchangeAdminsOfTarget,
    ),
    (
        "POST",
        "/admin/exchange/{agency}/webhook",
        Who::ExchangeAdminsOfTarget,
    ),
    (
        "POST",
        "/admin/exchange/{agency}/webhook/rotate",
        Who::ExchangeAdminsOfTarget,
    ),
    (
        "POST",
        "/admin/exchange/{agency}/webhook/remove",
        Who::ExchangeAdminsOfTarget,
    ),
    (
        "POST",
        "/admin/exchange/{agency}/dead/{job}/replay",
        Who::ExchangeAdminsOfTarget,
    ),
    ("GET", "/admin/plan", Who::ProvincePlan),
    ("POST", "/admin/plan", Who::ProvincePlan),
    ("GET", "/admin/catalogue", Who::ProvinceEditors),
    ("GET", "/admin/catalogue/template.csv", Who::ProvinceEditors),
    ("POST", "/admin/catalogue/import", Who::ProvinceEditors),
    ("POST", "/admin/catalogue/confirm", Who::ProvinceEditors),
    ("GET", "/admin/holidays", Who::NationalEditors),
    ("POST", "/admin/holidays", Who::NationalEditors),
    ("GET", "/admin/search", Who::NationalEditors),
    ("POST", "/admin/search", Who::NationalEditors),
    ("POST", "/api/v1/checks/{kind}", Who::Everyone),
    ("POST", "/api/v1/bills/inspect", Who::Everyone),
    ("GET", "/api/v1/calendar/business-days", Who::Everyone),
    ("GET", "/api/v1/calendar/holidays", Who::Everyone),
    // An unknown code is a status in the answer, not an error.
    ("GET", "/api/v1/verify/{code}", Who::Everyone),
    ("GET", "/api/v1/keys", Who::Everyone),
    // What checks a credential without Pishkhan is public; no key has the fixture's id.
    ("GET", "/api/v1/keys/{id}", Who::NobodyFound),
    ("GET", "/api/v1/issuer", Who::Everyone),
    ("GET", "/api/v1/status/{list}", Who::Everyone),
    ("GET", "/api/v1/contexts", Who::Everyone),
    ("GET", "/api/v1/contexts/{name}", Who::Everyone),
    ("GET", "/api/v1/services", Who::Everyone),
    ("GET", "/api/v1/suggest", Who::Everyone),
    ("GET", "/api/v1/services/{code}", Who::Everyone),
    ("GET", "/api/v1/forms/{code}", Who::NobodyFound),
    ("GET", "/api/v1/catalog.jsonld", Who::Everyone),
    ("GET", "/api/v1/openapi.json", Who::Everyone),
    ("GET", "/api/v1/whoami", Who::ApiClient),
    ("POST", "/api/v1/applications", Who::ApiClient),
    ("GET", "/api/v1/applications", Who::ApiClient),
    ("GET", "/api/v1/events", Who::ApiClient),
    // The form body is not the JSON expected: refused (400) before the inquiry is looked up.
    ("POST", "/api/v1/inquiries/{code}", Who::ApiClient),
    (
        "GET",
        "/api/v1/applications/{code}/documents/{id}",
        Who::ApiClientMissing,
    ),
    ("GET", "/api/v1/applications/{code}", Who::ApiClientMissing),
    (
        "GET",
        "/api/v1/applications/{code}/receipt.pdf",
        Who::ApiClientMissing,
    ),
    (
        "GET",
        "/api/v1/outputs/{number}/credential",
        Who::ApiClientMissing,
    ),
    (
        "POST",
        "/api/v1/applications/{code}/actions",
        Who::ApiClient,
    ),
    ("ANY", "/api/{*rest}", Who::NobodyFound),
    ("GET", "/healthz", Who::Everyone),
    ("GET", "/readyz", Who::Everyone),
    // Only with the metrics token, which no principal holds.
    ("GET", "/metrics", Who::NobodyFound),
];

/// The principals: a name, the role and scope (none for anonymous and the citizen).
const PRINCIPALS: &[(&str, Option<(Role, &str)>)] = &[
    ("anonymous", None),
    ("citizen", None),
    ("operator", Some((Role::Operator, "centre:tehran-1001"))),
    (
        "centre-manager",
        Some((Role::CentreManager, "centre:tehran-1001")),
    ),
    (
        "agency-clerk",
        Some((Role::AgencyClerk, "agency:tehran-tax")),
    ),
    (
        "agency-editor",
        Some((Role::AgencyEditor, "agency:tehran-tax")),
    ),
    (
        "agency-admin",
        Some((Role::AgencyAdmin, "agency:tehran-tax")),
    ),
    (
        "governorate-admin",
        Some((Role::GovernorateAdmin, "province:tehran")),
    ),
    ("noc", Some((Role::Noc, "province:tehran"))),
    ("commission", Some((Role::Commission, "national"))),
    ("system", Some((Role::System, "agency:tehran-tax"))),
    // Neighbours: the same roles one scope over.
    (
        "neighbour-governorate-admin",
        Some((Role::GovernorateAdmin, "province:isfahan")),
    ),
    // Above every province: the deployment's administrator.
    (
        "national-governorate-admin",
        Some((Role::GovernorateAdmin, "national")),
    ),
    (
        "neighbour-centre-manager",
        Some((Role::CentreManager, "centre:tehran-1002")),
    ),
    (
        "neighbour-agency-admin",
        Some((Role::AgencyAdmin, "agency:isfahan-tax")),
    ),
];

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The guard sent them to sign in (303 to a sign-in page, or 401 from the API).
    SignIn,
    /// The guard refused (403).
    Forbidden,
    /// Answered as if it did not exist (404).
    NotFound,
    /// Reached the handler.
    Allowed,
}

fn expected(who: Who, principal: &str, role: Option<Role>, api: bool) -> Outcome {
    let anonymous = principal == "anonymous" || (api && principal != "system");
    let staff = role.is_some_and(|r| r != Role::System);
    let has = |roles: &[Role]| role.is_some_and(|r| roles.contains(&r));
    let allowed = match who {
        Who::Everyone => true,
        Who::NobodyFound => return Outcome::NotFound,
        Who::SignedIn | Who::SignedInMissing => principal != "anonymous" && principal != "system",
        Who::Staff => staff,
        Who::Citizen | Who::CitizenMissing => principal == "citizen",
        Who::Counter | Who::CounterMissing => has(&[Role::Operator, Role::CentreManager]),
        Who::CentreManagers => has(&[Role::CentreManager]),
        Who::Workers | Who::WorkersMissing => has(&[Role::AgencyClerk, Role::AgencyAdmin]),
        Who::UserAdmins | Who::UserAdminsOfTarget | Who::UserAdminsMissing => has(&[
            Role::GovernorateAdmin,
            Role::CentreManager,
            Role::AgencyAdmin,
        ]),
        Who::ProvinceEditors | Who::ProvincePlan => has(&[Role::GovernorateAdmin]),
        Who::NationalEditors => principal == "national-governorate-admin",
        Who::Editors | Who::EditorsOfTarget | Who::EditorsMissing => has(&[
            Role::AgencyEditor,
            Role::AgencyAdmin,
            Role::GovernorateAdmin,
        ]),
        Who::ApiClient | Who::ApiClientMissing => principal == "system",
        Who::ExchangeAdmins | Who::ExchangeAdminsOfTarget => {
            has(&[Role::GovernorateAdmin, Role::AgencyAdmin])
        }
    };
    if allowed {
        // The target account is an operator of centre tehran-1001: only Tehran's governorate
        // admin and that centre's manager may see it; other admins are told it does not exist.
        if matches!(who, Who::UserAdminsOfTarget)
            && !matches!(
                principal,
                "governorate-admin" | "centre-manager" | "national-governorate-admin"
            )
        {
            return Outcome::NotFound;
        }
        if matches!(
            who,
            Who::EditorsMissing
                | Who::UserAdminsMissing
                | Who::ApiClientMissing
                | Who::SignedInMissing
                | Who::WorkersMissing
                | Who::CitizenMissing
                | Who::CounterMissing
        ) {
            return Outcome::NotFound;
        }
        // The target service belongs to agency tehran-tax: its editor and admin and Tehran's
        // governorate admin may open it; editors elsewhere are told it does not exist.
        if matches!(who, Who::ExchangeAdminsOfTarget)
            && !matches!(
                principal,
                "agency-admin" | "governorate-admin" | "national-governorate-admin"
            )
        {
            return Outcome::NotFound;
        }
        if matches!(who, Who::ProvincePlan) && principal == "national-governorate-admin" {
            return Outcome::NotFound;
        }
        if matches!(who, Who::EditorsOfTarget)
            && !matches!(
                principal,
                "agency-editor"
                    | "agency-admin"
                    | "governorate-admin"
                    | "national-governorate-admin"
            )
        {
            return Outcome::NotFound;
        }
        Outcome::Allowed
    } else if anonymous || principal == "system" && !api {
        Outcome::SignIn
    } else {
        Outcome::Forbidden
    }
}

fn observed(reply: &Reply) -> Outcome {
    match reply.header("x-pishkhan-denied") {
        "sign-in-required" => Outcome::SignIn,
        "forbidden" => Outcome::Forbidden,
        _ if reply.status == http::StatusCode::NOT_FOUND => Outcome::NotFound,
        _ => Outcome::Allowed,
    }
}

fn token_hash(token: &str) -> String {
    pishkhan_domain::digest::sha256_hex(token.as_bytes())
}

/// (Re)opens the principal's session straight in the store (sign-in itself is tested elsewhere).
async fn ensure_session(store: &Store, owner: &SessionOwner, token: &str) {
    if store.session(&token_hash(token)).await.unwrap().is_some() {
        return;
    }
    let now = Utc::now();
    store
        .insert_session(&SessionRecord {
            token_hash: token_hash(token),
            owner: owner.clone(),
            stage: "full".to_owned(),
            csrf: format!("csrf-{token}"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + TimeDelta::hours(1),
            ip: "192.0.2.1".to_owned(),
            user_agent: "matrix".to_owned(),
            pending_secret: None,
        })
        .await
        .unwrap();
}

async fn every_route_answers_every_role_as_expected(store: Store) {
    // The router's routes and this test's expectations name the same routes.
    let routes: BTreeSet<(String, String)> = route_specs()
        .into_iter()
        .map(|spec| {
            let method = spec.method.map_or("ANY".to_owned(), |m| m.to_string());
            (method, spec.path.to_owned())
        })
        .collect();
    let expectations: BTreeMap<(String, String), Who> = EXPECTED
        .iter()
        .map(|(m, p, who)| (((*m).to_owned(), (*p).to_owned()), *who))
        .collect();
    let expected_routes: BTreeSet<(String, String)> = expectations.keys().cloned().collect();
    assert_eq!(
        routes, expected_routes,
        "every route needs an expectation here, and every expectation a route"
    );

    let state = state_on(store.clone());
    let app = state.app.clone();
    let router = pishkhan_web::router(state);
    let cli = Actor::command_line();
    for (kind, code, province) in [
        (OrgKind::Agency, "tehran-tax", "tehran"),
        (OrgKind::Agency, "isfahan-tax", "isfahan"),
        (OrgKind::Centre, "tehran-1001", "tehran"),
        (OrgKind::Centre, "tehran-1002", "tehran"),
    ] {
        app.add_org(&cli, kind, code, province, code).await.unwrap();
    }
    let password = Secret::new("matrix passphrase for everyone".to_owned());
    let target = app
        .create_user(
            &cli,
            "target",
            "هدف",
            &password,
            vec![
                RoleGrant::new(Role::Operator, Scope::parse("centre:tehran-1001").unwrap())
                    .unwrap(),
            ],
        )
        .await
        .unwrap();
    // A published service of agency tehran-tax, the target of the desk's routes.
    let mut pick = |n: usize| n / 2;
    let service = pishkhan_app::synth::synthetic_card(1, "tehran-tax", &mut pick);
    app.load_published_service(&cli, &service).await.unwrap();
    let citizen = store
        .ensure_citizen(&CitizenRecord {
            id: "matrix-citizen".to_owned(),
            national_id: "0082451291".to_owned(),
            mobile: "+989121234567".to_owned(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();

    // Each principal: its session owner and token (cookie), or API token.
    let mut principals = Vec::new();
    for (name, grant) in PRINCIPALS {
        let owner = match (name, grant) {
            (&"citizen", _) => Some(SessionOwner::Citizen(citizen.id.clone())),
            (_, Some((role, scope))) => {
                let grant = RoleGrant::new(*role, Scope::parse(scope).unwrap()).unwrap();
                let id = app
                    .create_user(&cli, &name.replace('-', "."), name, &password, vec![grant])
                    .await
                    .unwrap();
                // An API client has no page session: its token is its only credential.
                (*role != Role::System).then_some(SessionOwner::User(id))
            }
            _ => None,
        };
        let api_token = if *name == "system" {
            Some(
                app.create_api_token(&cli, "system", "matrix")
                    .await
                    .unwrap(),
            )
        } else {
            None
        };
        principals.push((*name, grant.map(|(r, _)| r), owner, api_token));
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for spec in route_specs() {
        let method_name = spec
            .method
            .as_ref()
            .map_or("ANY".to_owned(), Method::to_string);
        let who = expectations[&(method_name.clone(), spec.path.to_owned())];
        let path = spec
            .path
            .replace("{tag}", "en")
            .replace("{*path}", "fonts/OFL.txt")
            .replace("{id}", &target)
            .replace("{kind}", "national-id")
            .replace("{code}", &service.code)
            .replace("{service}", &service.code)
            .replace("{office}", "main")
            .replace("{token}", "0123456789ab")
            .replace("{agency}", "tehran-tax")
            .replace("{job}", "1")
            .replace("{list}", "0")
            .replace("{name}", "credentials-v2")
            .replace("{inquiry}", "no-such-inquiry")
            .replace("{*rest}", "nothing-here");
        let api = path.starts_with("/api/");
        for (name, role, owner, api_token) in &principals {
            let token = format!("session-of-{name}");
            let mut cookie = String::new();
            if let Some(owner) = owner {
                ensure_session(&store, owner, &token).await;
                cookie = format!("pishkhan_session={token}");
            } else {
                cookie.push_str("pishkhan_csrf=anonymous-csrf-token-of-thirty-two-chars");
            }
            let csrf = if owner.is_some() {
                format!("csrf-{token}")
            } else {
                "anonymous-csrf-token-of-thirty-two-chars".to_owned()
            };
            let bearer = api_token
                .as_ref()
                .map(|t| format!("Bearer {}", t.expose()))
                .unwrap_or_default();
            let mut headers = vec![("cookie", cookie.as_str())];
            if !bearer.is_empty() {
                headers.push(("authorization", bearer.as_str()));
            }
            let method = spec.method.clone().unwrap_or(Method::GET);
            let reply = if method == Method::GET {
                get(&router, &path, &headers).await
            } else {
                send_form(&router, method, &path, &format!("csrf={csrf}"), &headers).await
            };
            let want = expected(who, name, *role, api);
            let got = observed(&reply);
            checked += 1;
            if want != got {
                failures.push(format!(
                    "{method_name} {path} as {name}: expected {want:?}, got {got:?} ({})",
                    reply.status
                ));
            }
            if got == Outcome::SignIn && !api {
                assert!(
                    reply.header("location").starts_with("/signin"),
                    "{path} as {name} redirects to sign in"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, EXPECTED.len() * PRINCIPALS.len());
}
