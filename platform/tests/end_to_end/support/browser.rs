//! A headless Chromium driven over WebDriver, for the tests of the pages the services
//! serve (the chat page, the errors dashboard).
//!
//! Needs Debian's Chromium and its driver (`scripts/ensure-chromium` installs them);
//! without them a test fails, it never skips. The WebDriver client is a few plain HTTP
//! calls over reqwest: `fantoccini` would bring a second `http` major version (0.2, via
//! `webdriver` 0.53) and a second ICU stack.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, Method};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page gets to show what it should.
const PATIENCE: Duration = Duration::from_secs(10);
/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a free loopback port, killed (and its scratch folder removed) when
/// dropped, however the test ends.
pub(crate) struct ChromeDriver {
    process: Child,
    url: String,
    scratch: PathBuf,
}

impl ChromeDriver {
    pub(crate) fn start() -> Self {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: install it with scripts/ensure-chromium"
            );
        }
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().unwrap().port()
        };
        let scratch = std::env::temp_dir().join(format!("browser-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&scratch).expect("a scratch folder");
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                scratch.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
            scratch,
        }
    }

    /// Waits until the driver accepts sessions.
    pub(crate) async fn ready(&mut self) {
        let http = client();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                panic!("chromedriver exited: {status}; {}", self.log());
            }
            if let Ok(response) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not get ready; {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A headless Chromium with a fresh profile.
    pub(crate) async fn open_browser(&self) -> Browser {
        let profile = self.scratch.join("profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let http = client();
        let response = http
            .post(format!("{}/session", self.url))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers");
        let body: Value = response.json().await.expect("a JSON answer");
        let Some(session) = body["value"]["sessionId"].as_str() else {
            panic!("Chromium did not start: {body}; {}", self.log());
        };
        Browser {
            session: format!("{}/session/{session}", self.url),
            http,
        }
    }

    fn log(&self) -> String {
        let log =
            std::fs::read_to_string(self.scratch.join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        format!(
            "chromedriver log (last lines, newest first):\n{}",
            tail.join("\n")
        )
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// One WebDriver session: the few commands the test needs.
pub(crate) struct Browser {
    /// The session's URL.
    session: String,
    http: Client,
}

impl Browser {
    /// Runs a command; panics with the driver's error when it fails.
    pub(crate) async fn command(&self, method: Method, path: &str, body: Value) -> Value {
        let request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        let request = if method == Method::GET {
            request
        } else {
            request.json(&body)
        };
        let response = request.send().await.expect("chromedriver answers");
        let status = response.status();
        let answer: Value = response.json().await.expect("a JSON answer");
        let error = &answer["value"];
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {} ({})",
            error["error"],
            error["message"]
        );
        answer["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let body = json!({ "using": "css selector", "value": css });
        let element = self.command(Method::POST, "/element", body).await;
        element[ELEMENT].as_str().expect("an element").to_owned()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/value");
        self.command(Method::POST, &path, json!({ "text": text }))
            .await;
    }

    pub(crate) async fn click(&self, css: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/click");
        self.command(Method::POST, &path, json!({})).await;
    }

    /// Runs `script` in the page (with `$` as `document.getElementById`); its result.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        let script = format!("const $ = (id) => document.getElementById(id); {script}");
        let body = json!({ "script": script, "args": [] });
        self.command(Method::POST, "/execute/sync", body).await
    }

    /// Polls `script` until it returns true, failing after the patience with what the
    /// page shows.
    pub(crate) async fn wait_until(&self, what: &str, script: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.eval(script).await != true {
            if tokio::time::Instant::now() >= deadline {
                let page = self
                    .eval("return document.body.innerText.slice(0, 3000);")
                    .await;
                panic!("{what}: not within {PATIENCE:?}; the page shows {page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session, which closes Chromium.
    pub(crate) async fn quit(&self) {
        let _ = self
            .http
            .delete(&self.session)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
    }
}
