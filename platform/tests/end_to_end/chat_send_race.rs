//! A member removed from a room while their message is on its way cannot post it: the
//! message is appended on condition that the room is still at the version its membership
//! was checked on.

use crate::support;

use reqwest::StatusCode;
use schemas::{
    NewEvent,
    chat::{self, ChatEvent, MemberLeft},
};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use support::{TestApp, chat::room_id, error, json};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_their_message_is_on_its_way_cannot_post_it() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let team = room_id(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    // Appends wait for the head lock, which the test holds: Bob's send is checked
    // against the room (he is a member) and then waits to be appended.
    let mut held = app.db.pool.begin().await.unwrap();
    sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
        .execute(&mut *held)
        .await
        .unwrap();
    let send = tokio::spawn(
        app.client
            .post(format!("{}/api/v1/chats/{team}/messages", app.base))
            .bearer_auth(&bob.token)
            .json(&json!({ "text": "one last word" }))
            .send(),
    );
    wait_for_a_blocked_append(&app.db.pool).await;
    // Ada removes Bob, committed before the send that is already under way.
    let removal = remove(&mut held, team, &bob.id, &ada.id).await;
    held.commit().await.unwrap();
    let refused = send.await.unwrap().unwrap();
    error(
        refused,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "only members of the room",
    )
    .await;
    let history = app
        .get_as(
            Some(&ada),
            &format!("/api/v1/chats/{team}/messages"),
            removal,
        )
        .await;
    let history = json(history, StatusCode::OK).await;
    assert_eq!(history["data"]["items"], json!([]), "{history}");
    app.stop().await;
}

/// Appends `user`'s removal from `room` (at the room's first version) on the connection
/// that holds the head lock; returns its position.
async fn remove(conn: &mut PgConnection, room: i64, user: &str, by: &str) -> i64 {
    let left = NewEvent::from_domain(&ChatEvent::MemberLeft(MemberLeft {
        room_id: room,
        user_id: user.parse().unwrap(),
        by: by.parse().unwrap(),
        new_owner: None,
        left_at: time::OffsetDateTime::now_utc(),
    }));
    let none = vec![None::<&str>];
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT last_position FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, now())",
    )
    .bind(vec![None::<i32>])
    .bind(vec![chat::room_stream(room)])
    .bind(vec![1_i64])
    .bind(&none)
    .bind(&none)
    .bind(vec![1_i32])
    .bind(vec!["test"])
    .bind(&none)
    .bind(&none)
    .bind(&none)
    .bind(vec![1_i32])
    .bind(vec![Uuid::now_v7()])
    .bind(vec![left.context])
    .bind(vec![left.event_type])
    .bind(vec![left.schema_version])
    .bind(vec![Value::to_string(&left.data)])
    .fetch_one(conn)
    .await
    .unwrap();
    position.expect("the removal was appended")
}

/// Waits until an append of the platform waits for the head lock.
async fn wait_for_a_blocked_append(pool: &PgPool) {
    tokio::time::timeout(support::chat::PATIENCE, async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND wait_event_type = 'Lock' AND query LIKE '%append_batch%'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the send waits for the head lock");
}
