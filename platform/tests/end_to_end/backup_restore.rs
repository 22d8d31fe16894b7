//! The backup procedure of docs/operations.md, run for real: `scripts/backup` (pg_dump of
//! the store of record, the read models left out) while the platform serves,
//! `scripts/restore` (pg_restore into an empty database, then `replay` of every
//! projection), and a platform on the restored database answering as the first did.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use event_log::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account, PASSWORD},
    chat::room_id,
    instances::SHARED_SECRET,
    json,
    prompts::profile,
};

/// Every capability's state: items, members, orders, the board, a chat room, prompt
/// profiles. Returns the reads to compare, as (account, path).
async fn write_history(app: &TestApp) -> Vec<(Option<Account>, String)> {
    let lamp = app.create_item("Desk lamp").await;
    app.create_item("Chair").await;
    app.update_item(1, "Floor lamp").await;
    app.delete_item(2).await;
    let admin = app.admin().await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let bob = app.sign_up_named("bob@example.com", "Bob").await;
    let order = app.place_order(&ada, "Keyboard").await;
    let number = order["number"].as_i64().unwrap();
    app.place_order(&ada, "Mouse").await;
    let paid = app.move_order(Some(&ada), number, "pay").await;
    assert_eq!(paid.status(), StatusCode::OK);
    let post = app
        .create_as(
            &ada,
            "/api/v1/posts",
            &json!({ "title": "Meetup", "content": "Thursday at seven." }),
        )
        .await;
    let post_id = post["id"].as_i64().unwrap();
    let comment_path = format!("/api/v1/posts/{post_id}/comments");
    app.create_as(&bob, &comment_path, &json!({ "content": "See you there" }))
        .await;
    let room = room_id(
        &app.create_group(&ada, "Team", std::slice::from_ref(&bob.id))
            .await,
    );
    app.say(&ada, room, "hello").await;
    app.say(&bob, room, "hi Ada").await;
    let book = app.create_book(&ada, "Knuth", "TAOCP").await;
    let text = app.create_text(&ada, "Notes", "Loops and trees").await;
    let ids = |data: &Value| data["id"].as_i64().unwrap();
    let profile = app
        .create_profile(
            &ada,
            &profile("en", "Computing", 3, &[ids(&book)], &[ids(&text)]),
        )
        .await;
    let profile_id = ids(&profile);
    let reads = [
        (None, "/api/v1/items?page=1&size=20".to_owned()),
        (None, format!("/api/v1/items/{}", lamp["id"])),
        (Some(&ada), "/api/v1/users/me".to_owned()),
        (Some(&admin), "/api/v1/members?page=1&size=20".to_owned()),
        (Some(&admin), format!("/api/v1/members/{}", bob.id)),
        (Some(&ada), "/api/v1/orders".to_owned()),
        (Some(&admin), "/api/v1/orders?status=PAID".to_owned()),
        (Some(&ada), format!("/api/v1/orders/{number}")),
        (None, "/api/v1/posts?page=1&size=20".to_owned()),
        (None, format!("/api/v1/posts/{post_id}")),
        (None, comment_path),
        (Some(&ada), "/api/v1/chats".to_owned()),
        (Some(&bob), format!("/api/v1/chats/{room}")),
        (Some(&bob), format!("/api/v1/chats/{room}/messages")),
        (Some(&ada), "/api/v1/profiles".to_owned()),
        (Some(&ada), format!("/api/v1/profiles/{profile_id}")),
        (
            Some(&ada),
            format!("/api/v1/profiles/{profile_id}/dialogues"),
        ),
        (Some(&ada), "/api/v1/ref-books".to_owned()),
        (Some(&ada), "/api/v1/ref-data".to_owned()),
    ];
    reads
        .into_iter()
        .map(|(account, path)| (account.cloned(), path))
        .collect()
}

/// Waits until every projection has applied every event of its context, at most 30 s.
/// (In Kafka mode `X-Min-Position` waits only for positions of a read model's own
/// context, and the reads span them all.)
async fn caught_up(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for projection in projector::projections() {
        loop {
            let (behind, _) = projector::lag::measure(&app.db.pool, projection.as_ref())
                .await
                .unwrap();
            if behind == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} is {behind} events behind",
                projection.name()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Each read's status and body, once every read model has applied the whole log.
async fn answers(app: &TestApp, reads: &[(Option<Account>, String)]) -> Vec<Value> {
    caught_up(app).await;
    let mut answers = Vec::new();
    for (account, path) in reads {
        let response = app
            .as_user(account.as_ref(), Method::GET, path)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        answers.push(json!({ "path": path, "status": status, "body": body }));
    }
    answers
}

fn script(name: &str, args: &[&str]) -> Output {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(repository.join("scripts").join(name))
        .args(args)
        // The all-in-one binary has the projector's operator commands.
        .env("PROJECTOR", env!("CARGO_BIN_EXE_platform"))
        .output()
        .unwrap_or_else(|err| panic!("cannot run scripts/{name}: {err}"));
    assert!(
        output.status.success(),
        "scripts/{name} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The tables whose rows the dump holds, from its table of contents.
fn tables_with_data(dump: &Path) -> Vec<String> {
    let output = Command::new("pg_restore")
        .arg("--list")
        .arg(dump)
        .output()
        .expect("pg_restore (PostgreSQL's client) is installed");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once("TABLE DATA public ")?.1.split(' ').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_restored_backup_replayed_answers_as_the_platform_it_was_taken_from() {
    let mut flags = vec![SHARED_SECRET];
    flags.extend(ADMIN_FLAGS);
    let app = TestApp::spawn_with(&flags).await;
    let reads = write_history(&app).await;
    let before = answers(&app, &reads).await;

    let dir = std::env::temp_dir().join(format!("platform-backup-{}", app.db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let dump: PathBuf = dir.join("platform.dump");
    script("backup", &[&app.db.url, dump.to_str().unwrap()]);
    let transport_args = app.transport_args.clone();
    app.stop().await;
    let saved = tables_with_data(&dump);
    for table in [
        "events",
        "credentials",
        "sessions",
        "projection_checkpoints",
    ] {
        assert!(saved.iter().any(|t| t == table), "{table} not in {saved:?}");
    }
    for read_model in projector::projections().iter().flat_map(|p| p.tables()) {
        assert!(
            !saved.iter().any(|t| t == read_model),
            "the backup holds the rows of read model {read_model}"
        );
    }

    // The original is gone; its broker and topics (Kafka mode) stay, as when a database
    // is lost and the broker is not.
    flags.extend(transport_args.iter().map(String::as_str));
    let restored = TestDatabase::empty().await;
    let output = script("restore", &[dump.to_str().unwrap(), &restored.url]);
    let said = String::from_utf8_lossy(&output.stdout);
    for projection in projector::projections() {
        assert!(
            said.contains(&format!("{}: replayed", projection.name())),
            "{} was not replayed: {said}",
            projection.name()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let again = TestApp::spawn_on(restored, &flags).await;
    let after = answers(&again, &reads).await;
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before, after, "the restored platform answers otherwise");
    }
    // The command side came back too: passwords log in, numbers carry on.
    let ada = again.log_in("ada@example.com", PASSWORD).await;
    let order = again
        .send_as(
            Some(&ada),
            Method::POST,
            "/api/v1/orders",
            Some(&crate::support::orders::order_body("Pad")),
        )
        .await;
    assert_eq!(json(order, StatusCode::CREATED).await["data"]["number"], 3);
    again.stop().await;
}
