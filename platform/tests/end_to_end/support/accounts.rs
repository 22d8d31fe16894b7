//! Accounts for tests: register, log in, call with a token.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use super::{TestApp, json};

pub(crate) const PASSWORD: &str = "Analytical1";
pub(crate) const ADMIN_FLAGS: [&str; 2] = [
    "--admin-email=root@example.com",
    "--admin-password=Rootpass1",
];

/// A logged-in user.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
    /// Position of the account's registration.
    pub position: i64,
}

impl TestApp {
    /// Registers `email` (password [`PASSWORD`]) and logs in.
    pub(crate) async fn sign_up(&self, email: &str) -> Account {
        self.sign_up_named(email, email).await
    }

    /// Registers `email` with a display name and logs in.
    pub(crate) async fn sign_up_named(&self, email: &str, name: &str) -> Account {
        let body = json!({ "email": email, "password": PASSWORD, "name": name });
        let data = json(
            self.post("/api/v1/auth/register", &body).await,
            StatusCode::CREATED,
        )
        .await["data"]
            .clone();
        let mut account = self.log_in(email, PASSWORD).await;
        account.position = data["position"].as_i64().unwrap();
        account
    }

    /// Logs in, asserting success.
    pub(crate) async fn log_in(&self, email: &str, password: &str) -> Account {
        let response = self.try_log_in(email, password).await;
        let data = json(response, StatusCode::OK).await["data"].clone();
        Account {
            id: data["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            token: data["access_token"].as_str().unwrap().to_owned(),
            refresh_token: data["refresh_token"].as_str().unwrap().to_owned(),
            position: 0,
        }
    }

    pub(crate) async fn try_log_in(&self, email: &str, password: &str) -> Response {
        let body = json!({ "email": email, "password": password });
        self.post("/api/v1/auth/login", &body).await
    }

    /// The admin of [`ADMIN_FLAGS`], logged in.
    pub(crate) async fn admin(&self) -> Account {
        self.log_in("root@example.com", "Rootpass1").await
    }

    /// A request with the account's token (none for `None`).
    pub(crate) fn as_user(
        &self,
        account: Option<&Account>,
        method: Method,
        path: &str,
    ) -> RequestBuilder {
        let request = self.request(method, path);
        match account {
            Some(account) => request.bearer_auth(&account.token),
            None => request,
        }
    }

    /// `GET` as the account, once the read models reflect `position`.
    pub(crate) async fn get_as(
        &self,
        account: Option<&Account>,
        path: &str,
        position: i64,
    ) -> Response {
        self.as_user(account, Method::GET, path)
            .header("x-min-position", position.to_string())
            .send()
            .await
            .unwrap()
    }

    /// A body-less request as the account.
    pub(crate) async fn send_as(
        &self,
        account: Option<&Account>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        let request = self.as_user(account, method, path);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }
}
