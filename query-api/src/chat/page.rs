//! A minimal chat page: log in, pick a room, send and see messages live. One static
//! document with its script inline, so it works without any other asset.

use axum::response::Html;

const PAGE: &str = include_str!("chat.html");

pub async fn chat_page() -> Html<&'static str> {
    Html(PAGE)
}
