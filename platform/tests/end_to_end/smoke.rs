use crate::support;

use reqwest::StatusCode;
use support::{TestApp, json};

#[tokio::test]
async fn a_created_item_can_be_read_back_at_its_position() {
    let app = TestApp::spawn().await;
    let created = app.create_item("lamp").await;
    let position = created["position"].as_i64().unwrap();
    let id = created["id"].as_i64().unwrap();
    let body = json(
        app.get_at(&format!("/api/v1/items/{id}"), position).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["data"]["name"], "lamp");
    app.stop().await;
}
