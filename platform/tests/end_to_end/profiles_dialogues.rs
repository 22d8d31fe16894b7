//! A profile's dialogue end to end: its scripts and the same as chat messages, in English
//! and in Korean, the same for the same profile and references.

use crate::support;

use serde_json::{Value, json};
use support::{TestApp, accounts::Account, id, position_of, prompts::profile};

/// Ada's books and texts for every test: two books, two texts; their ids.
async fn references(app: &TestApp, ada: &Account) -> (Vec<i64>, Vec<i64>) {
    let books = [
        app.create_book(ada, "Feynman", "Lectures on Physics").await,
        app.create_book(ada, "Griffiths", "Electrodynamics").await,
    ];
    let texts = [
        app.create_text(ada, "Maxwell", "Four equations.").await,
        app.create_text(ada, "Gauss", "Flux and charge.").await,
    ];
    (
        books.iter().map(id).collect(),
        texts.iter().map(id).collect(),
    )
}

async fn dialogue(app: &TestApp, ada: &Account, profile: &Value) -> Value {
    let path = format!("/api/v1/profiles/{}/dialogues", id(profile));
    app.read_as(ada, &path, position_of(profile)).await
}

fn strings(values: &Value) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_english_profile_gives_its_scripts_in_order_and_the_same_as_chat_messages() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (books, texts) = references(&app, &ada).await;
    let mut body = profile("en", "Physics", 2, &books, &texts);
    body["only_references"] = json!(true);
    body["data_in_sequence"] = json!(true);
    let created = app.create_profile(&ada, &body).await;
    let dialogue = dialogue(&app, &ada, &created).await;
    assert_eq!(
        (&dialogue["language"], &dialogue["profile_id"]),
        (&json!("en"), &created["id"])
    );
    let scripts = strings(&dialogue["scripts"]);
    assert_eq!(scripts.len(), 6, "{scripts:#?}");
    assert!(scripts[0].contains("I study Physics") && scripts[0].contains("second year"));
    assert!(
        scripts[1].contains("1. Lectures on Physics by Feynman\n2. Electrodynamics by Griffiths")
    );
    assert!(
        scripts[2].contains("2 reference texts, one per message"),
        "{}",
        scripts[2]
    );
    assert_eq!(
        scripts[3],
        "Reference text 1 of 2: Maxwell\n\nFour equations."
    );
    assert_eq!(
        scripts[4],
        "Reference text 2 of 2: Gauss\n\nFlux and charge."
    );
    assert!(scripts[5].starts_with("Answer only from the books and reference texts"));
    let messages = dialogue["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "system", "user", "user", "user", "system"]
    );
    for (message, script) in messages.iter().zip(&scripts) {
        assert_eq!(message["content"], script.as_str());
        assert_eq!(
            message.as_object().unwrap().len(),
            2,
            "role and content: {message}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_korean_profile_gives_korean_scripts_its_texts_together_unless_in_sequence() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (books, texts) = references(&app, &ada).await;
    let created = app
        .create_profile(&ada, &profile("ko", "물리학", 5, &books[..1], &texts))
        .await;
    let dialogue = dialogue(&app, &ada, &created).await;
    assert_eq!(dialogue["language"], "ko");
    let scripts = strings(&dialogue["scripts"]);
    assert_eq!(scripts.len(), 3, "{scripts:#?}");
    assert!(
        scripts[0].starts_with("저는 물리학을 공부하는 대학원생입니다."),
        "{}",
        scripts[0]
    );
    assert_eq!(
        scripts[1],
        "답할 때 다음 책들을 참고해 주세요:\n1. Feynman, 『Lectures on Physics』"
    );
    assert_eq!(
        scripts[2],
        "제 참고 자료입니다:\n\n[1] Maxwell\nFour equations.\n\n[2] Gauss\nFlux and charge."
    );
    let roles: Vec<&Value> = dialogue["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["role"])
        .collect();
    assert_eq!(roles, [&json!("system"), &json!("system"), &json!("user")]);
    app.stop().await;
}

#[tokio::test]
async fn the_same_profile_and_references_always_give_the_same_scripts() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (books, texts) = references(&app, &ada).await;
    let mut body = profile("ko", "경제", 0, &books, &texts);
    body["data_in_sequence"] = json!(true);
    let first = app.create_profile(&ada, &body).await;
    let twin = app.create_profile(&ada, &body).await;
    let once = dialogue(&app, &ada, &first).await;
    let again = dialogue(&app, &ada, &first).await;
    assert_eq!(once, again);
    let other = dialogue(&app, &ada, &twin).await;
    assert_eq!(once["scripts"], other["scripts"]);
    assert!(
        strings(&once["scripts"])[0].contains("경제를 공부하는 아직 대학에 입학하지 않은 학생")
    );
    app.stop().await;
}
