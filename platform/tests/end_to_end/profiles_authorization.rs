//! Who may call which prompts endpoint: anonymous, the owner of the profile, book and
//! text, another member, and an admin (who, for a member's own things, is just another
//! user). The original fetched by id with no owner check; here another user's profile,
//! book or text is a 404 for reading and for every change.

use crate::support;

use reqwest::Method;
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    authorization::Endpoint,
    id, position_of,
    prompts::{profile, public_script},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Owner,
    OtherMember,
    Admin,
}

/// The endpoints; `{profile}` links `{book}` and `{text}`, all the owner's; `{script}` is
/// an admin's public script of three scripts; `{at}` the position after all of them.
fn endpoints() -> Vec<Endpoint> {
    let endpoint = Endpoint::new;
    let profile = profile("en", "Physics", 1, &[], &[]);
    let book = json!({ "author": "Feynman", "title": "Lectures" });
    let text = json!({ "title": "Notes", "text": "Text." });
    let script = public_script("Review", &["a", "b", "c"]);
    vec![
        endpoint(Method::GET, "/api/v1/profiles", None),
        endpoint(Method::POST, "/api/v1/profiles", Some(profile.clone())),
        endpoint(Method::GET, "/api/v1/profiles/{profile}", None),
        endpoint(Method::GET, "/api/v1/profiles/{profile}?as_of={at}", None),
        endpoint(Method::GET, "/api/v1/profiles/{profile}/dialogues", None),
        endpoint(Method::GET, "/api/v1/profiles/{profile}/history", None),
        endpoint(Method::PUT, "/api/v1/profiles/{profile}", Some(profile)),
        endpoint(Method::DELETE, "/api/v1/profiles/{profile}", None),
        endpoint(Method::GET, "/api/v1/ref-books", None),
        endpoint(Method::POST, "/api/v1/ref-books", Some(book.clone())),
        endpoint(Method::GET, "/api/v1/ref-books/{book}", None),
        endpoint(Method::PUT, "/api/v1/ref-books/{book}", Some(book)),
        endpoint(Method::DELETE, "/api/v1/ref-books/{book}", None),
        endpoint(Method::GET, "/api/v1/ref-data", None),
        endpoint(Method::POST, "/api/v1/ref-data", Some(text.clone())),
        endpoint(Method::GET, "/api/v1/ref-data/{text}", None),
        endpoint(Method::PUT, "/api/v1/ref-data/{text}", Some(text)),
        endpoint(Method::DELETE, "/api/v1/ref-data/{text}", None),
        endpoint(Method::GET, "/api/v1/public-scripts", None),
        endpoint(Method::GET, "/api/v1/public-scripts/{script}", None),
        endpoint(Method::POST, "/api/v1/public-scripts", Some(script.clone())),
        endpoint(Method::PUT, "/api/v1/public-scripts/{script}", Some(script)),
        endpoint(
            Method::PUT,
            "/api/v1/public-scripts/{script}/order",
            Some(json!({ "order": [3, 1, 2] })),
        ),
        endpoint(Method::DELETE, "/api/v1/public-scripts/{script}", None),
    ]
}

/// The expected status of each endpoint, in [`endpoints`] order.
fn expected(caller: Caller) -> [u16; 24] {
    let own = [200, 201, 200, 200, 200, 200, 200, 204];
    let others = [200, 201, 404, 404, 404, 404, 404, 404];
    let own_reference = [200, 201, 200, 200, 204];
    let others_reference = [200, 201, 404, 404, 404];
    let (profiles, references, writes) = match caller {
        Caller::Anonymous => return [401; 24],
        Caller::Owner => (own, own_reference, [403, 403, 403, 403]),
        Caller::OtherMember => (others, others_reference, [403, 403, 403, 403]),
        Caller::Admin => (others, others_reference, [201, 200, 200, 204]),
    };
    let mut statuses = [0; 24];
    statuses[..8].copy_from_slice(&profiles);
    statuses[8..13].copy_from_slice(&references);
    statuses[13..18].copy_from_slice(&references);
    statuses[18..20].copy_from_slice(&[200, 200]);
    statuses[20..].copy_from_slice(&writes);
    statuses
}

#[tokio::test]
async fn every_prompts_endpoint_answers_each_kind_of_caller_as_it_should() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let mut mismatches = Vec::new();
    for (n, caller) in [
        Caller::Anonymous,
        Caller::Owner,
        Caller::OtherMember,
        Caller::Admin,
    ]
    .into_iter()
    .enumerate()
    {
        let owner = app.sign_up(&format!("owner{n}@example.com")).await;
        // Fresh things for every call, so no call changes what the next one sees.
        let mut prepared = Vec::new();
        for _ in endpoints() {
            prepared.push(prepare(&app, &owner, &admin).await);
        }
        let acting = match caller {
            Caller::Anonymous => None,
            Caller::Owner => Some(owner.clone()),
            Caller::OtherMember => Some(app.sign_up(&format!("other{n}@example.com")).await),
            Caller::Admin => Some(admin.clone()),
        };
        for ((endpoint, want), things) in endpoints().iter().zip(expected(caller)).zip(prepared) {
            let path = endpoint
                .path
                .replace("{profile}", &things.profile.to_string())
                .replace("{book}", &things.book.to_string())
                .replace("{text}", &things.text.to_string())
                .replace("{script}", &things.script.to_string())
                .replace("{at}", &things.at.to_string());
            mismatches.extend(
                app.status_mismatch(caller, acting.as_ref(), endpoint, &path, things.at, want)
                    .await,
            );
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    app.stop().await;
}

/// What one call is made on.
struct Things {
    profile: i64,
    book: i64,
    text: i64,
    script: i64,
    at: i64,
}

async fn prepare(app: &TestApp, owner: &Account, admin: &Account) -> Things {
    let book = app.create_book(owner, "Feynman", "Lectures").await;
    let text = app.create_text(owner, "Notes", "Text.").await;
    let body = profile("en", "Physics", 1, &[id(&book)], &[id(&text)]);
    let profile = app.create_profile(owner, &body).await;
    let script = app
        .create_as(
            admin,
            "/api/v1/public-scripts",
            &public_script("Review", &["a", "b", "c"]),
        )
        .await;
    Things {
        profile: id(&profile),
        book: id(&book),
        text: id(&text),
        script: id(&script),
        at: position_of(&script),
    }
}
