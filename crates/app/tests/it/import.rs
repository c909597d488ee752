#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Importing the catalogue from files, on both databases: errors import nothing and are all
//! reported; a good file imports everything; importing twice changes nothing; CSV, XLSX, JSON.

use pishkhan_app::audit::Actor;
use pishkhan_app::config::Sources;
use pishkhan_app::import::ImportError;
use pishkhan_app::import::PlannedChange;
use pishkhan_app::policy::Principal;
use pishkhan_app::records::{OrgKind, ServiceFilter};
use pishkhan_app::{App, Config};
use pishkhan_domain::catalog_table::{COLUMNS, row_from_card};
use pishkhan_domain::identity::{Role, RoleGrant, Scope};
use pishkhan_store::Store;

use pishkhan_store::on_both_backends;

on_both_backends!(
    a_file_with_errors_imports_nothing_and_reports_every_error,
    a_good_file_imports_everything_and_twice_changes_nothing,
    spreadsheets_and_json_import_too,
    a_spreadsheet_bomb_is_refused_before_it_is_read,
    a_preview_says_what_each_row_would_do_and_changes_nothing,
);

async fn app(store: Store) -> App {
    let app = App::with_store(Config::load(&Sources::default()).unwrap(), store).unwrap();
    let cli = Actor::command_line();
    for (code, name) in [
        ("synth-agency", "دستگاه آزمون"),
        ("tehran-civil-registry", "ثبت احوال"),
    ] {
        app.add_org(&cli, OrgKind::Agency, code, "tehran", name)
            .await
            .unwrap();
    }
    app
}

fn quiet(_: usize, _: usize) {}

async fn published(app: &App) -> i64 {
    app.published_services(&ServiceFilter::default(), 1, 0)
        .await
        .unwrap()
        .1
}

fn csv_rows(count: usize) -> Vec<csv::StringRecord> {
    let text = pishkhan_app::synth::synthetic_csv(count, "synth-agency").unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader.records().map(Result::unwrap).collect()
}

fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.into_inner().unwrap()
}

async fn a_file_with_errors_imports_nothing_and_reports_every_error(store: Store) {
    let app = app(store.clone()).await;
    let column = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let mut rows: Vec<Vec<String>> = csv_rows(5)
        .into_iter()
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    rows[1][column("category")] = "space".into();
    rows[3][column("steps")] = "متقاضی | ثبت | دو روز".into();
    rows[4][column("code")] = rows[0][column("code")].clone();
    let error = app
        .import_catalogue(&Actor::command_line(), "bad.csv", &write_csv(&rows), &quiet)
        .await
        .unwrap_err();
    let ImportError::Invalid(errors) = error else {
        panic!("{error}")
    };
    let cells: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line.unwrap_or(0), e.at.as_str()))
        .collect();
    assert_eq!(cells, [(3, "category"), (5, "steps"), (6, "code")]);
    assert!(errors[0].fa.contains("space"));
    assert_eq!(published(&app).await, 0, "nothing was imported");
}

async fn a_good_file_imports_everything_and_twice_changes_nothing(store: Store) {
    let app = app(store.clone()).await;
    let file = pishkhan_app::synth::synthetic_csv(120, "synth-agency").unwrap();
    let report = app
        .import_catalogue(&Actor::command_line(), "synth.csv", file.as_bytes(), &quiet)
        .await
        .unwrap();
    assert_eq!(
        (report.rows, report.published, report.unchanged),
        (120, 120, 0)
    );
    assert_eq!(published(&app).await, 120);
    let (before, _) = store.audit_chain().await.unwrap();
    let again = app
        .import_catalogue(&Actor::command_line(), "synth.csv", file.as_bytes(), &quiet)
        .await
        .unwrap();
    assert_eq!((again.published, again.unchanged), (0, 120));
    let (after, _) = store.audit_chain().await.unwrap();
    assert_eq!(
        before.len(),
        after.len(),
        "nothing changed, nothing recorded"
    );
    let one = app
        .published_service("synth-agency.synthetic-000007")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.version, 1);
}

async fn spreadsheets_and_json_import_too(store: Store) {
    let app = app(store.clone()).await;
    let example = pishkhan_app::demo::example_card().unwrap();
    // XLSX, written by another library than the one that reads it.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet
            .write_string(0, u16::try_from(c).unwrap(), *name)
            .unwrap();
    }
    for (c, value) in row_from_card(&example).iter().enumerate() {
        sheet
            .write_string(1, u16::try_from(c).unwrap(), value)
            .unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let report = app
        .import_catalogue(
            &Actor::command_line(),
            "civil-registry.xlsx",
            &bytes,
            &quiet,
        )
        .await
        .unwrap();
    assert_eq!(report.published, 1);
    let stored = app.published_service(&example.code).await.unwrap().unwrap();
    assert_eq!(stored.card.steps, example.steps);
    assert_eq!(stored.card.fees, example.fees);

    // JSON: a form and a card that uses it, in one file.
    let form: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/standards/examples/duplicate-birth-certificate.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut card = serde_json::to_value(&example).unwrap();
    card["code"] = serde_json::json!("tehran.with-form");
    card["forms"] =
        serde_json::json!([{"code": "civil-registry.duplicate-birth-certificate", "version": 1}]);
    let file = serde_json::json!({
        "forms": [{"agency": "tehran-civil-registry", "form": form}],
        "services": [card]
    });
    let report = app
        .import_catalogue(
            &Actor::command_line(),
            "catalogue.json",
            file.to_string().as_bytes(),
            &quiet,
        )
        .await
        .unwrap();
    assert_eq!((report.forms, report.published), (1, 1));
    assert!(
        app.form("civil-registry.duplicate-birth-certificate", None)
            .await
            .unwrap()
            .is_some()
    );

    let error = app
        .import_catalogue(&Actor::command_line(), "catalogue.ods", b"x", &quiet)
        .await
        .unwrap_err();
    assert!(matches!(error, ImportError::Unreadable(_)));
}

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

async fn a_spreadsheet_bomb_is_refused_before_it_is_read(store: Store) {
    use std::io::Write;
    let app = app(store.clone()).await;
    let before = peak_mib();
    // 1. Two cells at the sheet's far corners: a reader that builds the grid between them
    //    would allocate for sixteen billion cells.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "code").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let corners = workbook.save_to_buffer().unwrap();
    assert!(
        corners.len() < 8 * 1024,
        "a small file: {} bytes",
        corners.len()
    );
    // 2. A zip bomb: one part of 200 MB of zeros, a few hundred KB compressed.
    let mut bomb = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bomb));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..200 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    // 3. Too many rows in a CSV.
    let mut rows = format!("{}\n", COLUMNS.join(","));
    for i in 0..=pishkhan_app::import::MAX_ROWS {
        rows.push_str(&format!("s{i},synth-agency\n"));
    }
    for (name, bytes) in [
        ("corners.xlsx", corners),
        ("bomb.xlsx", bomb),
        ("rows.csv", rows.into_bytes()),
    ] {
        let started = std::time::Instant::now();
        let error = app
            .import_catalogue(&Actor::command_line(), name, &bytes, &quiet)
            .await
            .unwrap_err();
        let ImportError::TooBig(problem) = error else {
            panic!("{name}: {error}");
        };
        assert_eq!(problem.code, "file_too_big");
        assert!(
            problem.fa.contains("پذیرفته نشد") || problem.fa.contains("حداکثر"),
            "{}",
            problem.fa
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name}: refused in {:?}",
            started.elapsed()
        );
    }
    assert_eq!(published(&app).await, 0, "nothing was imported");
    let grew = peak_mib().saturating_sub(before);
    assert!(grew < 400, "the peak memory grew by {grew} MiB");
}

async fn governor(app: &App, store: &Store, username: &str) -> (Principal, Actor) {
    let id = app
        .create_user(
            &Actor::command_line(),
            username,
            "کارشناس استانداری",
            &pishkhan_app::Secret::new("import preview test passphrase".to_owned()),
            vec![
                RoleGrant::new(
                    Role::GovernorateAdmin,
                    Scope::parse("province:tehran").unwrap(),
                )
                .unwrap(),
            ],
        )
        .await
        .unwrap();
    let actor = Actor {
        id: id.clone(),
        source: "127.0.0.1".into(),
    };
    (
        Principal::Staff(store.user_by_id(&id).await.unwrap().unwrap()),
        actor,
    )
}

async fn a_preview_says_what_each_row_would_do_and_changes_nothing(store: Store) {
    let app = app(store.clone()).await;
    let (admin, actor) = governor(&app, &store, "gov.preview").await;
    let file = pishkhan_app::synth::synthetic_csv(3, "synth-agency").unwrap();
    app.import_catalogue(&Actor::command_line(), "first.csv", file.as_bytes(), &quiet)
        .await
        .unwrap();
    // The same three, the second with another title, and two new ones.
    let column = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let mut rows: Vec<Vec<String>> = csv_rows(5)
        .into_iter()
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    rows[1][column("title_fa")] = "عنوانی دیگر".into();
    let bytes = write_csv(&rows);
    let (chain_before, _) = store.audit_chain().await.unwrap();
    let plan = app
        .preview_catalogue_as(&admin, "next.csv", &bytes)
        .await
        .unwrap();
    let changes: Vec<(usize, PlannedChange)> = plan
        .rows
        .iter()
        .map(|r| (r.line, r.change.clone()))
        .collect();
    assert_eq!(
        changes,
        [
            (2, PlannedChange::Unchanged),
            (3, PlannedChange::Changed(vec!["عنوان".into()])),
            (4, PlannedChange::Unchanged),
            (5, PlannedChange::New),
            (6, PlannedChange::New),
        ]
    );
    assert_eq!(published(&app).await, 3, "a preview publishes nothing");
    let (chain_after, _) = store.audit_chain().await.unwrap();
    assert_eq!(
        chain_before.len(),
        chain_after.len(),
        "nor records anything"
    );

    // The file waits for its confirmation, found only by the person who previewed it.
    let token = app.stage_import(&actor, bytes.clone()).await.unwrap();
    let (_, someone_else) = governor(&app, &store, "gov.other").await;
    assert!(
        app.staged_import(&someone_else, &token)
            .await
            .unwrap()
            .is_none()
    );
    for forged in ["../../etc/passwd", "", "a/b", &"x".repeat(65)] {
        assert!(
            app.staged_import(&actor, forged).await.unwrap().is_none(),
            "{forged}"
        );
    }
    assert_eq!(
        app.staged_import(&actor, &token).await.unwrap(),
        Some(bytes.clone())
    );
    app.import_catalogue_as(&admin, &actor, "next.csv", &bytes)
        .await
        .unwrap();
    app.drop_staged_import(&actor, &token).await.unwrap();
    assert!(app.staged_import(&actor, &token).await.unwrap().is_none());
    assert_eq!(published(&app).await, 5);

    // Out of the admin's province: refused at the preview already.
    app.add_org(
        &Actor::command_line(),
        OrgKind::Agency,
        "isfahan-x",
        "isfahan",
        "دستگاه اصفهان",
    )
    .await
    .unwrap();
    let file = pishkhan_app::synth::synthetic_csv(1, "isfahan-x").unwrap();
    let error = app
        .preview_catalogue_as(&admin, "far.csv", file.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(error, ImportError::Invalid(_)), "{error}");
}
