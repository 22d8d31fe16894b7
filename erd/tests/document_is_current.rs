//! docs/erd.md is what `scripts/erd` generates from today's migrations.

use std::path::Path;

use event_log::testing::TestDatabase;

#[tokio::test]
async fn the_committed_schema_document_matches_a_freshly_migrated_database() {
    let db = TestDatabase::new().await;
    let generated = erd::generate(&db.pool).await;
    db.drop().await;
    let generated = generated.unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(erd::DOCUMENT);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let first_difference = committed
        .lines()
        .zip(generated.lines())
        .position(|(committed, generated)| committed != generated)
        .map(|line| line + 1);
    assert!(
        committed == generated,
        "{} is stale (first difference at line {first_difference:?}): run scripts/erd",
        path.display()
    );
}
