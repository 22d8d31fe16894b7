//! Changing, blocking and deleting accounts, and who may do it.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, PASSWORD},
    error, json, position,
};

#[tokio::test]
async fn a_changed_name_shows_in_the_profile_and_an_absent_one_is_kept() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let body = json!({ "name": "  Countess Lovelace " });
    let response = app
        .send_as(Some(&ada), Method::PATCH, "/api/v1/users/me", Some(&body))
        .await;
    let at = position(&response);
    assert_eq!(
        json(response, StatusCode::OK).await["data"]["name"],
        "Countess Lovelace"
    );
    let me = app.get_as(Some(&ada), "/api/v1/users/me", at).await;
    assert_eq!(
        json(me, StatusCode::OK).await["data"]["name"],
        "Countess Lovelace"
    );
    // A partial update without the name keeps it.
    let nothing = app
        .send_as(
            Some(&ada),
            Method::PATCH,
            "/api/v1/users/me",
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        json(nothing, StatusCode::OK).await["data"]["name"],
        "Countess Lovelace"
    );
    let empty = app
        .send_as(
            Some(&ada),
            Method::PATCH,
            "/api/v1/users/me",
            Some(&json!({ "name": "" })),
        )
        .await;
    error(
        empty,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "name must be",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let elsewhere = app.log_in("ada@example.com", PASSWORD).await;
    let path = "/api/v1/users/me/password";
    let wrong = json!({ "current_password": "Wrong1234", "new_password": "Difference2" });
    let response = app
        .send_as(Some(&ada), Method::PUT, path, Some(&wrong))
        .await;
    error(
        response,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "current password is wrong",
    )
    .await;
    let weak = json!({ "current_password": PASSWORD, "new_password": "weak" });
    let response = app
        .send_as(Some(&ada), Method::PUT, path, Some(&weak))
        .await;
    error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "an upper-case letter",
    )
    .await;
    let good = json!({ "current_password": PASSWORD, "new_password": "Difference2" });
    let response = app
        .send_as(Some(&ada), Method::PUT, path, Some(&good))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let old = app.try_log_in("ada@example.com", PASSWORD).await;
    error(
        old,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "wrong email or password",
    )
    .await;
    app.log_in("ada@example.com", "Difference2").await;
    let other = app.get_as(Some(&elsewhere), "/api/v1/users/me", 0).await;
    error(
        other,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "session has ended",
    )
    .await;
    // Read once the members read model holds Ada (in Kafka mode it may lag the command).
    let this = app
        .get_as(Some(&ada), "/api/v1/users/me", ada.position)
        .await;
    assert_eq!(this.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_blocked_member_is_locked_out_at_once_until_unblocked() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let admin = app.admin().await;
    let block = format!("/api/v1/members/{}/block", ada.id);
    let response = app.send_as(Some(&admin), Method::POST, &block, None).await;
    let at = position(&response);
    assert_eq!(
        json(response, StatusCode::OK).await["data"]["blocked"],
        true
    );
    let me = app.get_as(Some(&ada), "/api/v1/users/me", 0).await;
    error(
        me,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "session has ended",
    )
    .await;
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": ada.refresh_token }),
        )
        .await;
    error(
        refresh,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "not valid",
    )
    .await;
    let login = app.try_log_in("ada@example.com", PASSWORD).await;
    error(login, StatusCode::FORBIDDEN, "FORBIDDEN", "blocked").await;
    let member = app
        .get_as(Some(&admin), &format!("/api/v1/members/{}", ada.id), at)
        .await;
    assert_eq!(json(member, StatusCode::OK).await["data"]["blocked"], true);
    let again = app.send_as(Some(&admin), Method::POST, &block, None).await;
    error(again, StatusCode::CONFLICT, "CONFLICT", "blocked already").await;
    let unblock = format!("/api/v1/members/{}/unblock", ada.id);
    let response = app
        .send_as(Some(&admin), Method::POST, &unblock, None)
        .await;
    assert_eq!(
        json(response, StatusCode::OK).await["data"]["blocked"],
        false
    );
    app.log_in("ada@example.com", PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn only_admins_block_and_not_themselves() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let admin = app.admin().await;
    let block_bob = format!("/api/v1/members/{}/block", bob.id);
    let by_user = app
        .send_as(Some(&ada), Method::POST, &block_bob, None)
        .await;
    error(by_user, StatusCode::FORBIDDEN, "FORBIDDEN", "admin").await;
    let by_nobody = app.send_as(None, Method::POST, &block_bob, None).await;
    error(
        by_nobody,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    let own = format!("/api/v1/members/{}/block", admin.id);
    let itself = app.send_as(Some(&admin), Method::POST, &own, None).await;
    error(
        itself,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "themselves",
    )
    .await;
    let unknown = format!("/api/v1/members/{}/block", uuid::Uuid::now_v7());
    let missing = app
        .send_as(Some(&admin), Method::POST, &unknown, None)
        .await;
    error(
        missing,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such member",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_member_is_gone_and_their_address_free_again() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let admin = app.admin().await;
    let ada_path = format!("/api/v1/members/{}", ada.id);
    let by_other = app
        .send_as(Some(&bob), Method::DELETE, &ada_path, None)
        .await;
    error(
        by_other,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "themselves or an admin",
    )
    .await;
    let by_self = app
        .send_as(Some(&ada), Method::DELETE, &ada_path, None)
        .await;
    assert_eq!(by_self.status(), StatusCode::NO_CONTENT);
    let at = position(&by_self);
    let token = app.get_as(Some(&ada), "/api/v1/users/me", 0).await;
    error(
        token,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "session has ended",
    )
    .await;
    let login = app.try_log_in("ada@example.com", PASSWORD).await;
    error(
        login,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "wrong email or password",
    )
    .await;
    let read = app.get_as(Some(&admin), &ada_path, at).await;
    error(read, StatusCode::NOT_FOUND, "NOT_FOUND", "no member").await;
    let twice = app
        .send_as(Some(&admin), Method::DELETE, &ada_path, None)
        .await;
    error(twice, StatusCode::NOT_FOUND, "NOT_FOUND", "no such member").await;
    let again = app.sign_up("ada@example.com").await;
    assert_ne!(again.id, ada.id);
    let bob_path = format!("/api/v1/members/{}", bob.id);
    let by_admin = app
        .send_as(Some(&admin), Method::DELETE, &bob_path, None)
        .await;
    assert_eq!(by_admin.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn account_changes_need_a_token() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    let calls = [
        (Method::PATCH, "/api/v1/users/me".to_owned()),
        (Method::PUT, "/api/v1/users/me/password".to_owned()),
        (Method::DELETE, format!("/api/v1/members/{id}")),
        (Method::POST, format!("/api/v1/members/{id}/block")),
        (Method::POST, format!("/api/v1/members/{id}/unblock")),
        (Method::POST, "/api/v1/auth/logout".to_owned()),
        (Method::GET, "/api/v1/users/me".to_owned()),
        (Method::GET, "/api/v1/members".to_owned()),
        (Method::GET, format!("/api/v1/members/{id}")),
    ];
    for (method, path) in calls {
        let body = json!({});
        let response = app.send_as(None, method.clone(), &path, Some(&body)).await;
        let error = error(
            response,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "access token",
        )
        .await;
        assert!(error["message"].is_string(), "{method} {path}");
    }
    app.stop().await;
}

/// Changes of one account that race each other (none conditional on a version) are each
/// decided again on what the winner left: every one applies, none is a `409`. (Each
/// conflict means another of the eight committed, so eight attempts always suffice.)
#[tokio::test]
async fn concurrent_changes_of_one_account_all_apply() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let renames = (0..8).map(|i| {
        let body = json!({ "name": format!("Ada {i}") });
        let ada = &ada;
        let app = &app;
        async move {
            app.send_as(Some(ada), Method::PATCH, "/api/v1/users/me", Some(&body))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(renames).await;
    assert_eq!(statuses, vec![StatusCode::OK; 8]);
    app.stop().await;
}
