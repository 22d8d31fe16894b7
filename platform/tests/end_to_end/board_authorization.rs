//! Who may call which board endpoint: anonymous, the post's author, the comment's author,
//! another member, an admin, and a blocked author.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    authorization::Endpoint,
    json, position_of,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    PostAuthor,
    CommentAuthor,
    OtherMember,
    Admin,
    BlockedPostAuthor,
}

/// The endpoints; `{post}` is a post of the post author with one comment `{comment}` by
/// the comment author.
fn endpoints() -> Vec<Endpoint> {
    let endpoint = Endpoint::new;
    let post = json!({ "title": "Title", "content": "Content" });
    vec![
        endpoint(Method::GET, "/api/v1/posts", None),
        endpoint(Method::GET, "/api/v1/posts/{post}", None),
        endpoint(Method::GET, "/api/v1/posts/{post}/comments", None),
        endpoint(Method::POST, "/api/v1/posts", Some(post.clone())),
        endpoint(Method::PUT, "/api/v1/posts/{post}", Some(post)),
        endpoint(
            Method::POST,
            "/api/v1/posts/{post}/comments",
            Some(json!({ "content": "Me too" })),
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/posts/{post}/comments/{comment}",
            None,
        ),
        endpoint(Method::DELETE, "/api/v1/posts/{post}", None),
    ]
}

/// The expected status of each endpoint, in [`endpoints`] order.
fn expected(caller: Caller) -> [u16; 8] {
    match caller {
        Caller::Anonymous | Caller::BlockedPostAuthor => [200, 200, 200, 401, 401, 401, 401, 401],
        Caller::PostAuthor => [200, 200, 200, 201, 200, 201, 204, 204],
        Caller::CommentAuthor => [200, 200, 200, 201, 403, 201, 204, 403],
        Caller::OtherMember => [200, 200, 200, 201, 403, 201, 403, 403],
        Caller::Admin => [200, 200, 200, 201, 200, 201, 204, 204],
    }
}

#[tokio::test]
async fn every_board_endpoint_answers_each_kind_of_caller_as_it_should() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let mut mismatches = Vec::new();
    for (n, caller) in [
        Caller::Anonymous,
        Caller::PostAuthor,
        Caller::CommentAuthor,
        Caller::OtherMember,
        Caller::Admin,
        Caller::BlockedPostAuthor,
    ]
    .into_iter()
    .enumerate()
    {
        let author = app.sign_up(&format!("author{n}@example.com")).await;
        let commenter = app.sign_up(&format!("commenter{n}@example.com")).await;
        // A fresh post and comment for every call, so no call changes what the next sees.
        let mut prepared = Vec::new();
        for _ in endpoints() {
            prepared.push(prepare(&app, &author, &commenter).await);
        }
        let acting = acting(&app, caller, &author, &commenter, &admin, n).await;
        for ((endpoint, want), (post, comment, at)) in
            endpoints().iter().zip(expected(caller)).zip(prepared)
        {
            let path = endpoint
                .path
                .replace("{post}", &post.to_string())
                .replace("{comment}", &comment.to_string());
            mismatches.extend(
                app.status_mismatch(caller, acting.as_ref(), endpoint, &path, at, want)
                    .await,
            );
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    app.stop().await;
}

/// A post of `author` with one comment of `commenter`: their ids and the last position.
async fn prepare(app: &TestApp, author: &Account, commenter: &Account) -> (i64, i64, i64) {
    let body = json!({ "title": "Hello", "content": "World" });
    let response = app
        .send_as(Some(author), Method::POST, "/api/v1/posts", Some(&body))
        .await;
    let post = json(response, StatusCode::CREATED).await["data"]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/posts/{post}/comments");
    let body = json!({ "content": "First!" });
    let response = app
        .send_as(Some(commenter), Method::POST, &path, Some(&body))
        .await;
    let data = json(response, StatusCode::CREATED).await["data"].clone();
    (post, data["id"].as_i64().unwrap(), position_of(&data))
}

/// The account that makes the call (None: anonymous).
async fn acting(
    app: &TestApp,
    caller: Caller,
    author: &Account,
    commenter: &Account,
    admin: &Account,
    n: usize,
) -> Option<Account> {
    match caller {
        Caller::Anonymous => None,
        Caller::PostAuthor => Some(author.clone()),
        Caller::CommentAuthor => Some(commenter.clone()),
        Caller::OtherMember => Some(app.sign_up(&format!("other{n}@example.com")).await),
        Caller::Admin => Some(admin.clone()),
        Caller::BlockedPostAuthor => {
            let path = format!("/api/v1/members/{}/block", author.id);
            let response = app.send_as(Some(admin), Method::POST, &path, None).await;
            assert_eq!(response.status(), StatusCode::OK);
            Some(author.clone())
        }
    }
}
