#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The published form standard (`docs/standards/form-schema-v1.json`) and the Rust types agree:
//! every example form is valid for both, every broken one for neither. The JSON Schema side is
//! checked with Python's `jsonschema` (an implementation nobody here wrote); it is required when
//! `PISHKHAN_TEST_REQUIRE_ORACLES` is set, as the test command sets it.

use std::path::{Path, PathBuf};
use std::process::Command;

use pishkhan_domain::forms::FormSchema;

fn standards() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/standards")
}

fn examples(suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(standards().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples ending in {suffix}");
    files
}

/// `Some(valid)` from Python's jsonschema, or `None` if it is not installed.
fn json_schema_says(file: &Path) -> Option<bool> {
    let script = "import json,sys\n\
        try:\n import jsonschema\n\
        except ImportError:\n sys.exit(3)\n\
        schema=json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator.check_schema(schema)\n\
        errors=list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\n\
        sys.exit(1 if errors else 0)\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(standards().join("form-schema-v1.json"))
        .arg(file)
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => {
            assert!(
                std::env::var_os("PISHKHAN_TEST_REQUIRE_ORACLES").is_none(),
                "python3 with jsonschema is required (pip install jsonschema)"
            );
            None
        }
    }
}

#[test]
fn example_forms_are_valid_for_the_types_and_the_published_schema() {
    for file in examples(".json") {
        let text = std::fs::read_to_string(&file).unwrap();
        let form: FormSchema =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(form.check(), vec![], "{}", file.display());
        if let Some(valid) = json_schema_says(&file) {
            assert!(valid, "{} against the JSON Schema", file.display());
        }
    }
}

#[test]
fn broken_forms_are_refused_by_both() {
    for file in examples(".json.bad") {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            serde_json::from_str::<FormSchema>(&text).is_err(),
            "{} parses",
            file.display()
        );
        if let Some(valid) = json_schema_says(&file) {
            assert!(!valid, "{} passes the JSON Schema", file.display());
        }
    }
}
