//! The `pishkhan` program as an operator runs it: start-up failures are one clear line and a
//! non-zero exit; a server answers, stops cleanly on SIGTERM, and several share one PostgreSQL.

use std::time::Duration;

use pishkhan_store::testing::PostgresDatabase;
use pishkhan_store::{DatabaseLocation, PoolSettings, Store};

use crate::support::{Finished, Server, pishkhan, run};

const LIMIT: Duration = Duration::from_secs(30);

/// The program failed with exactly one line on stderr, and no panic; returns that line.
fn one_line_failure(finished: &Finished, code: i32) -> String {
    assert_eq!(finished.code, Some(code), "stderr: {}", finished.stderr);
    let lines: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line, got: {:?}", finished.stderr);
    assert!(!finished.stderr.contains("panicked"));
    assert!(lines[0].starts_with("pishkhan: error: "), "{}", lines[0]);
    lines[0].to_owned()
}

#[test]
fn a_wrong_setting_stops_the_program_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    command.env("PISHKHAN_LOG_FORMAT", "xml");
    let line = one_line_failure(&run(command, LIMIT), 2);
    assert!(line.contains("log_format"), "{line}");
    assert!(line.contains("PISHKHAN_LOG_FORMAT"), "{line}");
    assert!(line.contains("text, json"), "{line}");
    assert!(
        !dir.path().join("pishkhan-data").exists(),
        "nothing was created"
    );
}

#[test]
fn a_config_file_with_an_unknown_setting_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pishkhan.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:9\"\n").unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["--config", file.to_str().unwrap(), "migrate"]);
    let line = one_line_failure(&run(command, LIMIT), 2);
    assert!(line.contains("unknown setting `listn`"), "{line}");
    assert!(line.contains("listen"), "lists the known settings: {line}");
}

#[test]
fn a_busy_port_stops_the_program_before_it_touches_anything() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let mut command = pishkhan(dir.path());
    command.args(["serve", "--listen", &address, "--data-dir", "data"]);
    let line = one_line_failure(&run(command, LIMIT), 1);
    assert!(
        line.contains(&format!("cannot listen on {address}")),
        "{line}"
    );
    assert!(line.contains("already in use"), "{line}");
    assert!(
        !dir.path().join("data").exists(),
        "no data folder was created"
    );
}

#[test]
fn an_unusable_data_folder_stops_the_program() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), b"x").unwrap();
    let mut command = pishkhan(dir.path());
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        "a-file/data",
    ]);
    let line = one_line_failure(&run(command, LIMIT), 1);
    assert!(
        line.contains("data folder a-file/data cannot be created"),
        "{line}"
    );
}

#[test]
fn a_bad_or_unreachable_database_stops_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let mut wrong_kind = pishkhan(dir.path());
    wrong_kind.args([
        "migrate",
        "--database-url",
        "mysql://root:hunter2@localhost/x",
    ]);
    let line = one_line_failure(&run(wrong_kind, LIMIT), 2);
    assert!(line.contains("--database-url"), "{line}");
    assert!(!line.contains("hunter2"), "never repeats a secret: {line}");

    let mut unreachable = pishkhan(dir.path());
    unreachable.args([
        "migrate",
        "--database-url",
        "postgres://app:hunter2@127.0.0.1:1/x",
    ]);
    let line = one_line_failure(&run(unreachable, LIMIT), 1);
    assert!(
        line.contains("cannot connect to PostgreSQL at 127.0.0.1:1/x"),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn migrate_prepares_an_sqlite_database_in_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["migrate", "--data-dir", "data"]);
    let finished = run(command, LIMIT);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    assert!(
        finished
            .stdout
            .contains("Database is up to date: SQLite file data/pishkhan.sqlite3")
    );
    assert!(dir.path().join("data/pishkhan.sqlite3").exists());
}

#[tokio::test]
async fn a_server_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    let server = Server::start(command);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("SQLite file data/pishkhan.sqlite3"))
    );

    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="fa" dir="rtl">"#));
    assert_eq!(server.get("/readyz").0, 200);

    let exit = server.terminate();
    assert!(exit.success(), "{exit:?}");

    // The node recorded its clean stop.
    let store = Store::connect(
        &DatabaseLocation::SqliteFile(dir.path().join("data/pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let epoch = chrono::DateTime::UNIX_EPOCH;
    assert!(store.live_nodes(epoch).await.unwrap().is_empty());
    store.close().await;
}

#[test]
fn logs_are_json_lines_when_configured_and_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
    command.env("PISHKHAN_LOG_FORMAT", "json");
    let server = Server::start_capturing_log(command);
    assert_eq!(server.get("/no-such-page").0, 404);
    let (status, log) = server.terminate_reading_log();
    assert!(status.success());

    let entries: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(entries.iter().any(|e| e["fields"]["message"] == "serving"));
    let request = entries
        .iter()
        .find(|e| e["span"]["path"] == "/no-such-page")
        .expect("the request was logged");
    assert_eq!(request["span"]["request_id"].as_str().unwrap().len(), 36);
    assert!(
        entries
            .iter()
            .any(|e| e["fields"]["message"] == "shutting down")
    );
}

#[tokio::test]
async fn demo_serves_from_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = pishkhan(dir.path());
    command.args(["demo", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("data folder: pishkhan-demo"))
    );
    assert_eq!(server.get("/readyz").0, 200);
    assert!(server.terminate().success());
    assert!(dir.path().join("pishkhan-demo/pishkhan.sqlite3").exists());
}

#[tokio::test]
async fn two_servers_share_one_postgresql_database() {
    let Some(database) = PostgresDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A documents folder only this node sees would lose the scans filed through the other:
    // refused, saying what to set.
    let mut alone = pishkhan(dir.path());
    alone.args(["serve", "--listen", "127.0.0.1:0"]);
    alone.env("PISHKHAN_DATABASE_URL", &database.url);
    let refused = run(alone, LIMIT);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("PISHKHAN_DOCUMENTS_SHARED"),
        "{}",
        refused.stderr
    );
    // Here both nodes do share one folder (one machine), and say so.
    let start = || {
        let mut command = pishkhan(dir.path());
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        command.env("PISHKHAN_DATABASE_URL", &database.url);
        command.env("PISHKHAN_DOCUMENTS_SHARED", "true");
        command
    };
    // Both start at once: migrations from two processes must not collide.
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(start()));
        let b = s.spawn(|| Server::start(start()));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(first.address, second.address);
    for server in [&first, &second] {
        assert!(
            server
                .banner
                .iter()
                .any(|l| l.contains("database:    PostgreSQL at"))
        );
        assert_eq!(server.get("/readyz").0, 200);
        assert_eq!(server.get("/").0, 200);
    }

    let nodes = |expected: &str| {
        let mut command = pishkhan(dir.path());
        command.args(["nodes", "--database-url", &database.url]);
        let finished = run(command, LIMIT);
        assert_eq!(finished.code, Some(0), "{}", finished.stderr);
        assert!(finished.stdout.starts_with(expected), "{}", finished.stdout);
        assert!(
            !finished.stdout.contains("postgres@"),
            "no credentials shown"
        );
    };
    nodes("2 node(s) serving PostgreSQL at");
    assert!(first.terminate().success());
    nodes("1 node(s) serving PostgreSQL at");
    assert!(second.terminate().success());
    nodes("0 node(s) serving PostgreSQL at");
}

#[test]
fn holidays_are_imported_whole_or_not_at_all_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("1405.csv");
    std::fs::write(&good, "covered,1405,,\n1405/01/01,solar,آغاز نوروز,Nowruz\n1405/03/06,lunar,عید سعید قربان,Eid al-Adha\n").unwrap();
    let mut import = pishkhan(dir.path());
    import.args([
        "holidays",
        "import",
        good.to_str().unwrap(),
        "--data-dir",
        "data",
    ]);
    let finished = run(import, LIMIT);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    assert_eq!(finished.stdout.trim(), "1405: 2 holiday(s), complete list");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "1405/12/30,solar,x,y\n1405/01/02,moon,x,y\n").unwrap();
    let mut import = pishkhan(dir.path());
    import.args([
        "holidays",
        "import",
        bad.to_str().unwrap(),
        "--data-dir",
        "data",
    ]);
    let finished = run(import, LIMIT);
    assert_eq!(finished.code, Some(2));
    assert!(
        finished.stderr.contains("سطر ۱، ستون «تاریخ»"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("سطر ۲، ستون «نوع»"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("2 problem(s)"),
        "{}",
        finished.stderr
    );

    let mut list = pishkhan(dir.path());
    list.args(["holidays", "list", "1405", "--data-dir", "data"]);
    let finished = run(list, LIMIT);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let lines: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(lines[0], "1405: complete list");
    assert_eq!(
        lines.len(),
        3,
        "the good import stands, the bad one changed nothing: {lines:?}"
    );
    assert!(lines[2].starts_with("1405/03/06"));
}

#[tokio::test]
async fn audit_verify_names_an_entry_edited_behind_the_programs_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.csv");
    std::fs::write(
        &file,
        "1404/01/01,solar,نوروز,Nowruz\n1405/01/01,solar,نوروز,Nowruz\n",
    )
    .unwrap();
    let mut import = pishkhan(dir.path());
    import.args([
        "holidays",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        "data",
    ]);
    import.env("USER", "maryam");
    assert_eq!(run(import, LIMIT).code, Some(0));

    let verify = || {
        let mut command = pishkhan(dir.path());
        command.args(["audit", "verify", "--data-dir", "data"]);
        run(command, LIMIT)
    };
    let intact = verify();
    assert_eq!(intact.code, Some(0), "{}", intact.stderr);
    assert!(
        intact.stdout.contains("intact: 2 entries"),
        "{}",
        intact.stdout
    );

    // Someone with the database file removes the guard and rewrites who did it.
    let store = Store::connect(
        &DatabaseLocation::SqliteFile(dir.path().join("data/pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let (entries, _) = store.audit_chain().await.unwrap();
    assert_eq!(entries[0].fields.actor, "cli:maryam");
    pishkhan_store::testing::execute_raw(&store, "DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    pishkhan_store::testing::execute_raw(
        &store,
        "UPDATE audit_log SET actor = 'cli:someone' WHERE seq = 2",
    )
    .await
    .unwrap();
    store.close().await;

    let broken = verify();
    let line = one_line_failure(&broken, 1);
    assert!(line.contains("entry #2"), "{line}");
    assert!(line.contains("edited"), "{line}");
}

#[tokio::test]
async fn the_first_administrator_is_created_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let create = |username: &str, role: &str, scope: &str, password: Option<&str>| {
        let mut command = pishkhan(dir.path());
        command.args([
            "user",
            "create",
            "--username",
            username,
            "--name",
            "مریم احمدی",
            "--role",
            role,
            "--scope",
            scope,
            "--data-dir",
            "data",
        ]);
        if password.is_some() {
            command.arg("--password-stdin");
        }
        command.env("USER", "installer");
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            if let Some(password) = password {
                writeln!(stdin, "{password}").unwrap();
            }
        }
        let output = child.wait_with_output().unwrap();
        Finished {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    };

    let created = create("m.ahmadi", "governorate-admin", "province:tehran", None);
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(
        created
            .stdout
            .starts_with("Created m.ahmadi (governorate-admin in province:tehran).")
    );
    let password = created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown only now): "))
        .unwrap();
    assert_eq!(password.len(), 19);

    let taken = create(
        "m.ahmadi",
        "noc",
        "province:tehran",
        Some("another-long-phrase-here"),
    );
    assert!(one_line_failure(&taken, 2).contains("taken"));
    let weak = create("clerk", "agency-clerk", "agency:tax", Some("password1234"));
    assert!(one_line_failure(&weak, 2).contains("easy to guess"));
    let mismatch = create(
        "op",
        "operator",
        "province:tehran",
        Some("another-long-phrase-here"),
    );
    assert!(one_line_failure(&mismatch, 2).contains("centre:CODE"));
    // A scope must name an organisation that exists: add the agency first.
    let missing = create(
        "clerk",
        "agency-clerk",
        "agency:tax/unit-2",
        Some("bazaar-of-tabriz-at-dawn"),
    );
    assert!(one_line_failure(&missing, 2).contains("no agency:tax/unit-2"));
    let mut add = pishkhan(dir.path());
    add.args(["org", "add", "agency", "tax", "--province", "tehran"])
        .args(["--name", "ادارهٔ کل امور مالیاتی", "--data-dir", "data"]);
    add.env("USER", "installer");
    let added = run(add, Duration::from_secs(60));
    assert_eq!(added.code, Some(0), "{}", added.stderr);
    let chosen = create(
        "clerk",
        "agency-clerk",
        "agency:tax/unit-2",
        Some("bazaar-of-tabriz-at-dawn"),
    );
    assert_eq!(chosen.code, Some(0), "{}", chosen.stderr);
    assert!(
        !chosen.stdout.contains("Password"),
        "a chosen password is never echoed"
    );

    // Stored with an argon2id hash, never the password; both creations are on the record.
    let store = Store::connect(
        &DatabaseLocation::SqliteFile(dir.path().join("data/pishkhan.sqlite3")),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let user = store.user_by_username("m.ahmadi").await.unwrap().unwrap();
    let hash = store.password_hash(&user.id).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(password));
    let (entries, _) = store.audit_chain().await.unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.fields.action.as_str(), e.fields.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("user.create", "cli:installer"),
            ("agency.create", "cli:installer"),
            ("user.create", "cli:installer")
        ]
    );
    assert!(!entries.iter().any(|e| e.fields.details.contains(password)));
    store.close().await;
}

/// The data folder holds password hashes, second-factor secrets, text messages and citizens'
/// documents: nobody but Pishkhan's own user may read any of it.
#[cfg(unix)]
#[test]
fn the_data_folder_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut migrate = pishkhan(dir.path());
    migrate.args(["migrate", "--data-dir", "data"]);
    let finished = run(migrate, LIMIT);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            assert_eq!(
                mode(&path) & 0o077,
                0,
                "{} is readable by others",
                path.display()
            );
        }
    }
    assert!(files >= 1, "the database file is there");
}

/// An agency system's token from the command line: made and shown once, listed by id, rotated
/// (the old one working for the overlap asked for), revoked; a second revocation fails naming the
/// listing to look at; the listing never shows a token itself.
#[test]
fn api_tokens_are_listed_rotated_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let step = |args: &[&str]| {
        let mut command = pishkhan(dir.path());
        command.args(args).args(["--data-dir", "data"]);
        run(command, LIMIT)
    };
    for args in [
        &[
            "org",
            "add",
            "agency",
            "t-agency",
            "--province",
            "tehran",
            "--name",
            "دستگاه",
        ][..],
        &[
            "user",
            "create",
            "--username",
            "t.sys",
            "--name",
            "سامانه",
            "--role",
            "system",
            "--scope",
            "agency:t-agency",
        ][..],
    ] {
        let done = step(args);
        assert_eq!(done.code, Some(0), "{}", done.stderr);
    }
    let made = step(&["token", "create", "--username", "t.sys", "--label", "one"]);
    assert_eq!(made.code, Some(0), "{}", made.stderr);
    let token = made
        .stdout
        .split("(shown only now): ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    let listed = step(&["token", "list", "--username", "t.sys"]);
    assert!(
        !listed.stdout.contains(&token),
        "the listing never shows a token"
    );
    let id = listed.stdout.split('\t').next().unwrap().to_owned();
    assert!(
        listed.stdout.contains("never used\tworks"),
        "{}",
        listed.stdout
    );

    let rotated = step(&["token", "rotate", &id, "--overlap-hours", "2"]);
    assert_eq!(rotated.code, Some(0), "{}", rotated.stderr);
    assert!(
        rotated
            .stdout
            .contains(&format!("The old token {id} works for 2 more hour(s)."))
    );
    let listed = step(&["token", "list", "--username", "t.sys"]);
    assert_eq!(listed.stdout.lines().count(), 2);
    assert!(listed.stdout.contains("works until"), "{}", listed.stdout);
    let too_long = step(&["token", "rotate", &id, "--overlap-hours", "1000"]);
    assert_ne!(too_long.code, Some(0));

    let revoked = step(&["token", "revoke", &id]);
    assert_eq!(revoked.code, Some(0), "{}", revoked.stderr);
    let again = step(&["token", "revoke", &id]);
    assert_ne!(again.code, Some(0));
    assert!(
        again.stderr.contains("pishkhan token list"),
        "{}",
        again.stderr
    );
    assert!(
        step(&["token", "list", "--username", "t.sys"])
            .stdout
            .contains("revoked")
    );
}

/// Dead letters from the command line: none listed on a fresh install; replaying a message that
/// is not dead-lettered fails naming where to look.
#[test]
fn the_outbox_lists_dead_letters_and_refuses_to_replay_a_live_one() {
    let dir = tempfile::tempdir().unwrap();
    let step = |args: &[&str]| {
        let mut command = pishkhan(dir.path());
        command.args(args).args(["--data-dir", "data"]);
        run(command, LIMIT)
    };
    let dead = step(&["outbox", "dead"]);
    assert_eq!(dead.code, Some(0), "{}", dead.stderr);
    assert!(dead.stdout.trim().is_empty(), "{}", dead.stdout);
    let replay = step(&["outbox", "replay", "42"]);
    assert_ne!(replay.code, Some(0));
    assert!(
        replay.stderr.contains("pishkhan outbox dead"),
        "{}",
        replay.stderr
    );
}

#[test]
fn a_settlement_file_is_reconciled_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let reconcile = |file: &std::path::Path, terminal: Option<&str>| {
        let mut command = pishkhan(dir.path());
        command.args([
            "payments",
            "reconcile",
            "--date",
            "2026-12-04",
            file.to_str().unwrap(),
            "--data-dir",
            "data",
        ]);
        if let Some(terminal) = terminal {
            command.args(["--terminal", terminal]);
        }
        run(command, LIMIT)
    };
    let header = "date,terminal,order,token,reference,amount\n";
    // An empty day matches: exit 0.
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, header).unwrap();
    let finished = reconcile(&empty, Some("T-1"));
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    assert!(
        finished.stdout.contains("0 payment(s) matched"),
        "{}",
        finished.stdout
    );
    // A line Pishkhan never took: listed, in Persian, exit 1.
    let forged = dir.path().join("forged.csv");
    std::fs::write(
        &forged,
        format!("{header}2026-12-04,T-1,PAY-X,SBXFORGED,R1,5000\n"),
    )
    .unwrap();
    let finished = reconcile(&forged, Some("T-1"));
    assert_eq!(finished.code, Some(1), "{}", finished.stderr);
    assert!(
        finished.stdout.contains("unknown: سطر ۲"),
        "{}",
        finished.stdout
    );
    // Not a settlement file: each problem on its line, exit 2; no terminal named or set: said so.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{header}2026-12-04,T-1,PAY-X\n")).unwrap();
    let finished = reconcile(&bad, Some("T-1"));
    assert_eq!(finished.code, Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("سطر ۲"), "{}", finished.stderr);
    let line = one_line_failure(&reconcile(&empty, None), 2);
    assert!(line.contains("--terminal"), "{line}");
    // The books' balances: none yet, and they sum to zero.
    let mut command = pishkhan(dir.path());
    command.args(["payments", "balances", "agency:", "--data-dir", "data"]);
    let finished = run(command, LIMIT);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    assert!(
        finished.stdout.contains("0 account(s)") && finished.stdout.contains("sum to 0"),
        "{}",
        finished.stdout
    );
}
