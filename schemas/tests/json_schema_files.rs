//! The checked-in JSON Schema files are what analysts rely on: they must match the code.

use std::{fs, path::PathBuf};

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json")
}

#[test]
fn checked_in_json_schemas_match_the_event_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (path, text) in schemas::catalog::schema_files() {
        let file = schema_dir().join(&path);
        if update {
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, &text).unwrap();
        } else if fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale JSON Schema files {stale:?}: run `UPDATE_SCHEMAS=1 cargo test -p schemas`"
    );
}

#[test]
fn every_event_type_has_a_schema_file_and_no_file_is_orphaned() {
    let expected: Vec<String> = schemas::catalog::schema_files()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let mut found = Vec::new();
    for context in fs::read_dir(schema_dir()).unwrap() {
        let context = context.unwrap().path();
        if context.is_dir() {
            for file in fs::read_dir(&context).unwrap() {
                let name = file.unwrap().file_name().into_string().unwrap();
                let dir = context.file_name().unwrap().to_str().unwrap();
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    for path in &found {
        assert!(expected.contains(path), "orphaned schema file {path}");
    }
}

/// Published schemas are frozen: `published.sha256` (in `sha256sum` format, so analysts
/// can verify their copies with `sha256sum -c`) records every schema file once published.
/// Changing a published event type's schema breaks its readers; add a new schema version
/// with an upcaster instead. `UPDATE_SCHEMAS=1` records new files, never changes old ones.
#[test]
fn published_schema_versions_never_change() {
    use sha2::{Digest, Sha256};
    let lock_path = schema_dir().join("published.sha256");
    let lock = fs::read_to_string(&lock_path).unwrap_or_default();
    let mut published: Vec<(String, String)> = lock
        .lines()
        .filter_map(|line| line.split_once("  "))
        .map(|(hash, path)| (path.to_owned(), hash.to_owned()))
        .collect();
    let mut changed = Vec::new();
    let mut added = false;
    for (path, text) in schemas::catalog::schema_files() {
        let hash = hex::encode(Sha256::digest(text.as_bytes()));
        match published.iter().find(|(p, _)| *p == path) {
            Some((_, known)) if *known != hash => changed.push(path),
            Some(_) => {}
            None => {
                published.push((path, hash));
                added = true;
            }
        }
    }
    assert!(
        changed.is_empty(),
        "published schemas changed: {changed:?}; add a new schema version instead"
    );
    if added {
        assert!(
            std::env::var_os("UPDATE_SCHEMAS").is_some(),
            "new schema files are not recorded in published.sha256: run `UPDATE_SCHEMAS=1 cargo test -p schemas`"
        );
        let text: String = published
            .iter()
            .map(|(path, hash)| format!("{hash}  {path}\n"))
            .collect();
        fs::write(lock_path, text).unwrap();
    }
}
