//! The configuration's rules, read as an operator meets them.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pishkhan.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn the_readme_lists_every_setting_once_declared() {
    // Say it once: a setting declared here is documented in the README's table.
    let readme = include_str!("../../../../README.md");
    let settings = Config::settings();
    assert_eq!(settings.len(), 45);
    for (key, env, _) in settings {
        assert!(
            readme.contains(&format!("| `{key}` | `{env}` |")),
            "the README's settings table has no row for `{key}`"
        );
    }
}

#[test]
fn sessions_and_sms_are_configurable() {
    let config = Config::load(&Sources {
        env: env(&[
            ("PISHKHAN_SESSION_IDLE_TIMEOUT", "5s"),
            ("PISHKHAN_SMS_PROVIDER", "http"),
            ("PISHKHAN_SMS_URL", "https://sms.example/{key}/send"),
            ("PISHKHAN_SMS_KEY", "k-123"),
        ]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.session_idle_timeout, Duration::from_secs(5));
    assert_eq!(
        config.session_absolute_timeout,
        Duration::from_secs(12 * 3600)
    );
    assert!(!config.secure_cookies);
    assert!(
        matches!(&config.sms, SmsSettings::Http { template, .. } if template == DEFAULT_SMS_TEMPLATE)
    );
    assert!(
        !format!("{config:?}").contains("k-123"),
        "the key stays secret"
    );
    let err = Config::load(&Sources {
        env: env(&[("PISHKHAN_SMS_PROVIDER", "http")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("sms_url"), "{err}");
    let err = Config::load(&Sources {
        env: env(&[("PISHKHAN_SESSION_ABSOLUTE_TIMEOUT", "forever")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("30m"), "{err}");
    assert_eq!(parse_duration("12h"), Some(Duration::from_secs(43_200)));
    assert_eq!(parse_duration("0s"), None);
    assert_eq!(parse_duration("31d"), None);
}

#[test]
fn defaults_serve_sqlite_on_loopback() {
    let config = Config::load(&Sources::default()).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, PathBuf::from("pishkhan-data"));
    assert!(matches!(config.database, DatabaseChoice::Sqlite));
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.log_level, LogLevel::Info);
    assert_eq!(config.db_max_connections, 10);
}

#[test]
fn flags_beat_env_and_env_beats_file() {
    let (_dir, path) =
        file("listen = \"127.0.0.1:1000\"\ndata_dir = \"from-file\"\nlog_format = \"json\"\n");
    let sources = Sources {
        file: Some(path),
        env: env(&[
            ("PISHKHAN_LISTEN", "127.0.0.1:2000"),
            ("PISHKHAN_DATA_DIR", "from-env"),
        ]),
        overrides: {
            let mut flags = Overrides::default();
            flags.set(&LISTEN, Some("127.0.0.1:3000".into()));
            flags
        },
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.listen.port(), 3000);
    assert_eq!(config.data_dir, PathBuf::from("from-env"));
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn a_wrong_value_names_the_setting_its_source_and_what_is_allowed() {
    let sources = Sources {
        env: env(&[("PISHKHAN_LOG_FORMAT", "xml")]),
        ..Sources::default()
    };
    let message = Config::load(&sources).unwrap_err().to_string();
    assert_eq!(
        message,
        "setting `log_format` (from environment variable PISHKHAN_LOG_FORMAT) \
         must be one of: text, json (found `xml`)"
    );
}

#[test]
fn numbers_are_checked_in_range_from_file_and_env() {
    let (_dir, path) = file("db_max_connections = 0\n");
    let err = Config::load(&Sources {
        file: Some(path.clone()),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("must be a whole number from 1 to 256 (found 0)")
    );
    let config = Config::load(&Sources {
        file: Some(path),
        env: env(&[("PISHKHAN_DB_MAX_CONNECTIONS", "32")]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.db_max_connections, 32);
}

#[test]
fn unknown_keys_and_variables_are_refused() {
    let (_dir, path) = file("listn = \"127.0.0.1:1\"\n");
    let err = Config::load(&Sources {
        file: Some(path),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "listn"));

    let err = Config::load(&Sources {
        env: env(&[("PISHKHAN_LISTN", "x")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown environment variable PISHKHAN_LISTN")
    );

    // The test suite's own variables are not settings, and are not refused.
    Config::load(&Sources {
        env: env(&[("PISHKHAN_TEST_DATABASE_URL", "postgres://x/y")]),
        ..Sources::default()
    })
    .unwrap();
}

#[test]
fn a_broken_file_says_where() {
    let (_dir, path) = file("listen = \"127.0.0.1:1\"\ndata_dir = \n");
    let err = Config::load(&Sources {
        file: Some(path),
        ..Sources::default()
    })
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("is not valid TOML"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");

    let missing = Config::load(&Sources {
        file: Some(PathBuf::from("/nonexistent/pishkhan.toml")),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(matches!(missing, ConfigError::FileUnreadable { .. }));
}

#[test]
fn database_urls_are_checked_but_never_repeated() {
    let err = Config::load(&Sources {
        overrides: {
            let mut flags = Overrides::default();
            flags.set(&DATABASE_URL, Some("mysql://root:hunter2@db/x".into()));
            flags
        },
        ..Sources::default()
    })
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("--database-url"), "{message}");
    assert!(message.contains("postgres://"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");

    let config = Config::load(&Sources {
        env: env(&[(
            "PISHKHAN_DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:5432/pishkhan",
        )]),
        ..Sources::default()
    })
    .unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    assert_eq!(
        config.database_location().unwrap().describe(),
        "PostgreSQL at 127.0.0.1:5432/pishkhan"
    );
}

#[test]
fn an_empty_database_url_means_sqlite_in_the_data_folder() {
    let config = Config::load(&Sources {
        env: env(&[
            ("PISHKHAN_DATABASE_URL", ""),
            ("PISHKHAN_DATA_DIR", "/srv/p"),
        ]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(
        config.database_location().unwrap().describe(),
        "SQLite file /srv/p/pishkhan.sqlite3"
    );
}

#[test]
fn absolute_links_use_the_configured_origin_never_a_guess() {
    let config = Config::load(&Sources::default()).unwrap();
    assert_eq!(config.public_origin(), "http://127.0.0.1:8080");
    let config = Config::load(&Sources {
        env: env(&[
            ("PISHKHAN_PUBLIC_ORIGIN", "https://pishkhan.tehran.example/"),
            ("PISHKHAN_LISTEN", "0.0.0.0:80"),
        ]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.public_origin(), "https://pishkhan.tehran.example");
    let config = Config::load(&Sources {
        env: env(&[("PISHKHAN_LISTEN", "0.0.0.0:80")]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(config.public_origin(), "http://localhost");
    let err = Config::load(&Sources {
        env: env(&[("PISHKHAN_PUBLIC_ORIGIN", "https://evil.example/path?x")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("public_origin"), "{err}");
}

#[test]
fn several_nodes_may_not_keep_documents_in_a_folder_only_one_sees() {
    let load = |pairs: &[(&str, &str)]| {
        Config::load(&Sources {
            env: env(pairs),
            ..Sources::default()
        })
        .unwrap()
    };
    assert_eq!(load(&[]).serving_problem(), None, "SQLite: one node");
    let postgres = ("PISHKHAN_DATABASE_URL", "postgres://u@db.example/p");
    let problem = load(&[postgres]).serving_problem().unwrap();
    assert!(problem.contains("PISHKHAN_DOCUMENTS_SHARED"), "{problem}");
    assert!(
        problem.contains("PISHKHAN_DOCUMENTS_S3_BUCKET"),
        "{problem}"
    );
    assert_eq!(
        load(&[postgres, ("PISHKHAN_DOCUMENTS_SHARED", "true")]).serving_problem(),
        None
    );
    assert_eq!(
        load(&[postgres, ("PISHKHAN_DOCUMENTS_S3_BUCKET", "scans")]).serving_problem(),
        None
    );
    let limits = load(&[
        ("PISHKHAN_WRITE_QUEUE", "10"),
        ("PISHKHAN_WRITE_WAIT", "3s"),
        ("PISHKHAN_MIN_FREE_DISK_MIB", "0"),
    ])
    .limits;
    assert_eq!(
        (limits.write_queue, limits.write_wait, limits.min_free_disk),
        (10, Duration::from_secs(3), 0)
    );
}

#[test]
fn proxies_are_addresses_or_cidr_blocks_from_a_list_or_a_toml_array() {
    let from_env = Config::load(&Sources {
        env: env(&[
            (
                "PISHKHAN_TRUSTED_PROXIES",
                "127.0.0.1, 10.0.0.0/8 2001:db8::/32",
            ),
            ("PISHKHAN_FORWARDED_HEADER", "Forwarded"),
        ]),
        ..Sources::default()
    })
    .unwrap();
    let listed: Vec<String> = from_env
        .limits
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(listed, ["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"]);
    assert_eq!(from_env.limits.forwarded_header, ForwardedHeader::Forwarded);
    let (_dir, path) = file("trusted_proxies = [\"192.0.2.0/24\"]\n");
    let from_file = Config::load(&Sources {
        file: Some(path),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(from_file.limits.trusted_proxies.len(), 1);
    for (name, bad, says) in [
        (
            "PISHKHAN_TRUSTED_PROXIES",
            "10.0.0.0/33",
            "not an address or a CIDR block",
        ),
        (
            "PISHKHAN_TRUSTED_PROXIES",
            "proxy.example",
            "not an address or a CIDR block",
        ),
        ("PISHKHAN_FORWARDED_HEADER", "x-real-ip", "x-forwarded-for"),
    ] {
        let message = Config::load(&Sources {
            env: env(&[(name, bad)]),
            ..Sources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            message.contains(name) && message.contains(says),
            "{message}"
        );
    }
}
