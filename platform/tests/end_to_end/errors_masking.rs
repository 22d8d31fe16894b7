//! Secrets never reach the logs or the recorded errors: a session of registrations,
//! logins, refreshes, password changes, a chat stream opened with `?access_token=`, and
//! failures of every kind (wrong passwords, spent and forged tokens, a request that fails
//! inside the platform with credentials in its query string), against two processes, one
//! logging everything down to DEBUG and capturing warnings too. Then every line either
//! process wrote (stdout and stderr) and every recorded error is searched for each
//! password and token used.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    json,
    processes::{PlatformProcess, Processes},
};

/// What the session used that must never be written anywhere.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn keep(&mut self, secret: &str) -> String {
        self.0.push(secret.to_owned());
        secret.to_owned()
    }

    /// Keeps the tokens of a login or refresh answer; returns (access, refresh).
    fn keep_tokens(&mut self, data: &Value) -> (String, String) {
        (
            self.keep(data["access_token"].as_str().unwrap()),
            self.keep(data["refresh_token"].as_str().unwrap()),
        )
    }

    /// Fails naming every secret that appears in `text`, and where.
    fn assert_absent(&self, text: &str, place: &str) {
        let found: Vec<&String> = self
            .0
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .collect();
        assert!(found.is_empty(), "{place} shows secrets {found:?}");
    }
}

struct Session<'a> {
    processes: &'a Processes,
    secrets: Secrets,
}

impl Session<'_> {
    fn call(
        &self,
        platform: &PlatformProcess,
        method: reqwest::Method,
        path: &str,
    ) -> RequestBuilder {
        self.processes
            .client
            .request(method, format!("{}{path}", platform.base))
    }

    async fn post(
        &self,
        platform: &PlatformProcess,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.call(platform, reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers `email` with `password`, then logs in with it on `login_at`.
    async fn register_and_log_in(
        &mut self,
        register_at: &PlatformProcess,
        login_at: &PlatformProcess,
        email: &str,
        password: &str,
    ) -> (String, String) {
        let password = self.secrets.keep(password);
        let body = json!({ "email": email, "password": password, "name": email });
        let registered = self.post(register_at, "/api/v1/auth/register", &body).await;
        json(registered, StatusCode::CREATED).await;
        let login = json!({ "email": email, "password": password });
        let data = json(
            self.post(login_at, "/api/v1/auth/login", &login).await,
            StatusCode::OK,
        )
        .await;
        self.secrets.keep_tokens(&data["data"])
    }
}

#[tokio::test]
async fn no_password_or_token_of_a_session_appears_in_any_log_line_or_recorded_error() {
    let processes = Processes::new().await;
    let loud = processes.start("debug", &["--capture-level=warning"]).await;
    let quiet = processes.start("info", &[]).await;
    let mut session = Session {
        processes: &processes,
        secrets: Secrets::default(),
    };
    session.secrets.keep("Rootpass1");

    // Registrations and logins, on both processes.
    let (_, ada_refresh) = session
        .register_and_log_in(&loud, &quiet, "ada@example.com", "Ada-Secret-4471")
        .await;
    let (bob_access, _) = session
        .register_and_log_in(&quiet, &loud, "bob@example.com", "Bob-Secret-8812")
        .await;
    let admin = json!({ "email": "root@example.com", "password": "Rootpass1" });
    let data = json(
        session.post(&loud, "/api/v1/auth/login", &admin).await,
        StatusCode::OK,
    )
    .await;
    session.secrets.keep_tokens(&data["data"]);

    // A refresh, then the spent refresh token again, then a forged one.
    let refreshed = session
        .post(
            &loud,
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": ada_refresh }),
        )
        .await;
    session
        .secrets
        .keep_tokens(&json(refreshed, StatusCode::OK).await["data"]);
    let spent = session
        .post(
            &quiet,
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": ada_refresh }),
        )
        .await;
    assert_eq!(spent.status(), StatusCode::UNAUTHORIZED);
    let forged = session.secrets.keep("rt-forged-5518-refresh");
    let forged = session
        .post(
            &loud,
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": forged }),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // The spent token ended Ada's session: she logs in again.
    let login = json!({ "email": "ada@example.com", "password": "Ada-Secret-4471" });
    let data = json(
        session.post(&quiet, "/api/v1/auth/login", &login).await,
        StatusCode::OK,
    )
    .await;
    let (ada_access, _) = session.secrets.keep_tokens(&data["data"]);

    // Failures: a wrong password, a password too weak, a password change with a wrong
    // current one, then a right one.
    let wrong = session.secrets.keep("Wrong-Guess-9034");
    let denied = session
        .post(
            &loud,
            "/api/v1/auth/login",
            &json!({ "email": "ada@example.com", "password": wrong }),
        )
        .await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let weak = session.secrets.keep("weakpassword-lower");
    let body = json!({ "email": "cy@example.com", "password": weak, "name": "Cy" });
    let refused = session.post(&loud, "/api/v1/auth/register", &body).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = session.secrets.keep("Ada-Renewed-6650");
    let change =
        |current: &str| json!({ "current_password": current, "new_password": new_password });
    let response = session
        .call(&loud, reqwest::Method::PUT, "/api/v1/users/me/password")
        .bearer_auth(&ada_access)
        .json(&change("Wrong-Guess-9034"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = session
        .call(&loud, reqwest::Method::PUT, "/api/v1/users/me/password")
        .bearer_auth(&ada_access)
        .json(&change("Ada-Secret-4471"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let login = json!({ "email": "ada@example.com", "password": new_password });
    let data = json(
        session.post(&loud, "/api/v1/auth/login", &login).await,
        StatusCode::OK,
    )
    .await;
    let (ada_access, _) = session.secrets.keep_tokens(&data["data"]);

    // A chat stream opened with the token in its query string, on each process.
    for platform in [&loud, &quiet] {
        let stream = session
            .call(
                platform,
                reqwest::Method::GET,
                &format!("/api/v1/chats/stream?access_token={bob_access}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        drop(stream);
    }
    // Credentials where they do not belong: a token as a cookie, a refresh token as a
    // bearer token, a password in basic authentication.
    let response = session
        .call(&loud, reqwest::Method::GET, "/api/v1/users/me")
        .header("Cookie", format!("session={ada_refresh}; theme=dark"))
        .bearer_auth(&ada_refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = session
        .call(&quiet, reqwest::Method::GET, "/api/v1/users/me")
        .basic_auth("ada@example.com", Some("Ada-Renewed-6650"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A request that fails inside the platform (its read model is gone), with
    // credentials in its query string: the error is recorded with its request.
    sqlx::query("ALTER TABLE items RENAME TO items_gone")
        .execute(&processes.db.pool)
        .await
        .unwrap();
    for platform in [&loud, &quiet] {
        let path = format!("/api/v1/items/1?access_token={ada_access}&password=Ada-Renewed-6650");
        let failed = session
            .call(platform, reqwest::Method::GET, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let recorded = processes
        .wait_for_events("ErrorLogged", Duration::from_secs(15), |events| {
            let failed: Vec<&Value> = events
                .iter()
                .filter(|e| e["level"] == "error")
                .filter(|e| {
                    e["extra"]["request"]["uri"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("/api/v1/items/1"))
                })
                .collect();
            (failed.len() == 2).then(|| failed.iter().map(|e| e.to_string()).collect::<Vec<_>>())
        })
        .await;
    let all = processes.events("ErrorLogged").await;
    let recorded = recorded.unwrap_or_else(|| panic!("both failures were not recorded: {all:#?}"));
    for event in &recorded {
        assert!(
            event.contains("access_token=[Filtered]&password=[Filtered]"),
            "{event}"
        );
    }

    // Logging out ends the sessions.
    for token in [&ada_access, &bob_access] {
        let response = session
            .call(&quiet, reqwest::Method::POST, "/api/v1/auth/logout")
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    // Let the last lines (and any last captured record) be written.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let loud_output = loud.output();
    assert!(
        loud_output.contains("access_token=[Filtered]"),
        "the streams' requests were logged, masked"
    );
    session
        .secrets
        .assert_absent(&loud_output, "the DEBUG process's output");
    session
        .secrets
        .assert_absent(&quiet.output(), "the INFO process's output");
    for event_type in ["ErrorLogged", "IssueOpened"] {
        let events = Value::Array(processes.events(event_type).await).to_string();
        session.secrets.assert_absent(&events, event_type);
    }
    processes.stop(vec![loud, quiet]).await;
}
