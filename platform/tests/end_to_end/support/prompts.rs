//! Profiles, reference books and texts, and public scripts, created through the API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{TestApp, accounts::Account, json};

/// A profile body: `major` studied at `level`, in `language`, linking `books` and `texts`.
pub(crate) fn profile(
    language: &str,
    major: &str,
    level: i64,
    books: &[i64],
    texts: &[i64],
) -> Value {
    json!({
        "language": language, "major": major, "understanding_level": level,
        "ref_book_ids": books, "ref_data_ids": texts,
    })
}

/// A public script body with one script per text, numbered from 1.
pub(crate) fn public_script(name: &str, texts: &[&str]) -> Value {
    let scripts: Vec<Value> = (1..)
        .zip(texts)
        .map(|(number, text)| json!({ "number": number, "text": text }))
        .collect();
    json!({ "name": name, "description": "", "scripts": scripts })
}

impl TestApp {
    /// POSTs `body` to `path` as `account`, asserting `201`; the `data` of the answer.
    pub(crate) async fn create_as(&self, account: &Account, path: &str, body: &Value) -> Value {
        let response = self
            .send_as(Some(account), Method::POST, path, Some(body))
            .await;
        json(response, StatusCode::CREATED).await["data"].clone()
    }

    pub(crate) async fn create_profile(&self, account: &Account, body: &Value) -> Value {
        self.create_as(account, "/api/v1/profiles", body).await
    }

    pub(crate) async fn create_book(&self, account: &Account, author: &str, title: &str) -> Value {
        let body = json!({ "author": author, "title": title });
        self.create_as(account, "/api/v1/ref-books", &body).await
    }

    pub(crate) async fn create_text(&self, account: &Account, title: &str, text: &str) -> Value {
        let body = json!({ "title": title, "text": text });
        self.create_as(account, "/api/v1/ref-data", &body).await
    }

    /// The `data` of a `GET` as `account` once the read models reflect `position`,
    /// asserting `200`.
    pub(crate) async fn read_as(&self, account: &Account, path: &str, position: i64) -> Value {
        let response = self.get_as(Some(account), path, position).await;
        json(response, StatusCode::OK).await["data"].clone()
    }
}
