//! The errors dashboard page: one static document with its script inline, like the chat
//! page. It logs in, follows the tail, charts counts per level and lists issues.

use axum::response::Html;

const PAGE: &str = include_str!("errors.html");

pub async fn dashboard_page() -> Html<&'static str> {
    Html(PAGE)
}
