//! Who may call which identity endpoint: anonymous, the member themselves, another user,
//! an admin, and a blocked user, against every endpoint that needs a token.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account, PASSWORD},
    authorization::Endpoint,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Member,
    OtherUser,
    Admin,
    Blocked,
}

/// The endpoints; `{id}` is the member the call is about.
fn endpoints() -> Vec<Endpoint> {
    let endpoint = Endpoint::new;
    vec![
        endpoint(Method::GET, "/api/v1/users/me", None),
        endpoint(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({ "name": "Renamed" })),
        ),
        endpoint(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(json!({ "current_password": PASSWORD, "new_password": "Difference2" })),
        ),
        endpoint(Method::GET, "/api/v1/members", None),
        endpoint(Method::GET, "/api/v1/members/{id}", None),
        endpoint(Method::DELETE, "/api/v1/members/{id}", None),
        endpoint(Method::POST, "/api/v1/members/{id}/block", None),
        endpoint(Method::POST, "/api/v1/members/{id}/unblock", None),
        endpoint(Method::POST, "/api/v1/auth/logout", None),
    ]
}

/// The expected status of each endpoint, in [`endpoints`] order.
fn expected(caller: Caller) -> [u16; 9] {
    match caller {
        Caller::Anonymous | Caller::Blocked => [401; 9],
        Caller::Member => [200, 200, 204, 403, 200, 204, 403, 403, 204],
        Caller::OtherUser => [200, 200, 204, 403, 403, 403, 403, 403, 204],
        // The admin's own password is not PASSWORD; unblocking a member who is not
        // blocked is a conflict, not a refusal.
        Caller::Admin => [200, 200, 403, 200, 200, 204, 200, 409, 204],
    }
}

#[tokio::test]
async fn every_identity_endpoint_answers_each_kind_of_caller_as_it_should() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let mut n = 0;
    let mut mismatches = Vec::new();
    for caller in [
        Caller::Anonymous,
        Caller::Member,
        Caller::OtherUser,
        Caller::Admin,
        Caller::Blocked,
    ] {
        for (endpoint, want) in endpoints().iter().zip(expected(caller)) {
            n += 1;
            // Fresh accounts for every call, so no call changes what the next one sees.
            let member = app.sign_up(&format!("member{n}@example.com")).await;
            let acting = acting(&app, caller, &member, n).await;
            let path = endpoint.path.replace("{id}", &member.id);
            let at = acting
                .as_ref()
                .map_or(0, |a| a.position)
                .max(member.position);
            mismatches.extend(
                app.status_mismatch(caller, acting.as_ref(), endpoint, &path, at, want)
                    .await,
            );
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    app.stop().await;
}

/// The account that makes the call (None: anonymous).
async fn acting(app: &TestApp, caller: Caller, member: &Account, n: usize) -> Option<Account> {
    match caller {
        Caller::Anonymous => None,
        Caller::Member => Some(member.clone()),
        Caller::OtherUser => Some(app.sign_up(&format!("other{n}@example.com")).await),
        Caller::Admin => Some(app.admin().await),
        Caller::Blocked => {
            let blocked = app.sign_up(&format!("blocked{n}@example.com")).await;
            let admin = app.admin().await;
            let path = format!("/api/v1/members/{}/block", blocked.id);
            let response = app.send_as(Some(&admin), Method::POST, &path, None).await;
            assert_eq!(response.status(), StatusCode::OK);
            Some(blocked)
        }
    }
}
