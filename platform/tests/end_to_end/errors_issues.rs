//! Error tracking for admins: projects with their DSNs (members refused), the issues
//! errors are grouped into (listed, paged, sorted, filtered), and their life: resolved,
//! regressed by a new error, muted, reopened.

use reqwest::{Method, StatusCode};
use schemas::errors::{IssueStatus, Level};
use serde_json::{Value, json};

use crate::support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    error, header, issues, json, position, unprocessable,
};

impl TestApp {
    async fn errors_call(
        &self,
        account: Option<&Account>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        self.send_as(account, method, &format!("/api/v1/errors{path}"), body)
            .await
    }

    async fn errors_get(&self, account: &Account, path: &str, at: i64) -> Value {
        let response = self
            .get_as(Some(account), &format!("/api/v1/errors{path}"), at)
            .await;
        json(response, StatusCode::OK).await["data"].clone()
    }
}

#[tokio::test]
async fn admins_create_projects_with_a_dsn_and_members_are_refused() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let member = app.sign_up("ada@example.com").await;
    let body = json!({ "name": "shop", "rate_limit_per_minute": 120 });
    let anonymous = app
        .errors_call(None, Method::POST, "/projects", Some(&body))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let refused = app
        .errors_call(Some(&member), Method::POST, "/projects", Some(&body))
        .await;
    error(refused, StatusCode::FORBIDDEN, "FORBIDDEN", "admin").await;

    let response = app
        .errors_call(Some(&admin), Method::POST, "/projects", Some(&body))
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/errors/projects/1");
    let created = json(response, StatusCode::CREATED).await["data"].clone();
    assert_eq!(
        created["id"], 1,
        "project numbers start at 1: 0 is the platform's"
    );
    let key = created["public_key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert!(key.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    let host = app.base.trim_start_matches("http://");
    assert_eq!(created["dsn"], format!("http://{key}@{host}/1"));
    assert_eq!(created["rate_limit_per_minute"], 120);

    let listed = app
        .errors_get(&admin, "/projects", created["position"].as_i64().unwrap())
        .await;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [0, 1],
        "the platform's own project is there from the start"
    );
    assert_eq!(listed[0]["name"], "platform");
    assert!(listed[0]["dsn"].is_null());
    assert_eq!(listed[1]["dsn"], created["dsn"]);
    let forbidden = app
        .get_as(Some(&member), "/api/v1/errors/projects", 0)
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    // Renamed at the version read; a stale version is a conflict.
    let renamed = app
        .as_user(Some(&admin), Method::PUT, "/api/v1/errors/projects/1")
        .header("If-Match", "\"1\"")
        .json(&json!({ "name": "store" }))
        .send()
        .await
        .unwrap();
    let renamed = json(renamed, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (renamed["name"].as_str(), renamed["version"].as_i64()),
        (Some("store"), Some(2))
    );
    assert_eq!(renamed["rate_limit_per_minute"], 600, "the default quota");
    let stale = app
        .as_user(Some(&admin), Method::PUT, "/api/v1/errors/projects/1")
        .header("If-Match", "\"1\"")
        .json(&json!({ "name": "again" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    let rotated = app
        .errors_call(Some(&admin), Method::POST, "/projects/1/rotate-key", None)
        .await;
    let rotated = json(rotated, StatusCode::OK).await["data"].clone();
    assert_ne!(rotated["public_key"], created["public_key"]);
    let project = app
        .errors_get(&admin, "/projects/1", rotated["position"].as_i64().unwrap())
        .await;
    assert_eq!(project["dsn"], rotated["dsn"]);
    assert_eq!(project["name"], "store");

    // The platform's project takes alert rules, but neither a name nor a key.
    for (method, path, body) in [
        (Method::PUT, "/projects/0", Some(json!({ "name": "mine" }))),
        (Method::POST, "/projects/0/rotate-key", None),
    ] {
        let response = app
            .errors_call(Some(&admin), method, path, body.as_ref())
            .await;
        error(response, StatusCode::CONFLICT, "CONFLICT", "platform").await;
    }
    let rules = json!({
        "on_new_issue": true, "on_regression": false, "interval_minutes": 10,
        "frequency": { "events": 50, "minutes": 5 },
        "slack_webhook_url": "http://127.0.0.1:9/hook", "email_to": ["ops@example.com"],
    });
    let set = app
        .errors_call(
            Some(&admin),
            Method::PUT,
            "/projects/0/alert-rules",
            Some(&rules),
        )
        .await;
    let set = json(set, StatusCode::OK).await["data"].clone();
    let platform = app
        .errors_get(&admin, "/projects/0", set["position"].as_i64().unwrap())
        .await;
    assert_eq!(platform["alert_rules"], rules);
    assert_eq!(platform["version"], 1);

    let bad = json!({
        "on_new_issue": true, "on_regression": true, "interval_minutes": 0,
        "frequency": { "events": 0, "minutes": 2000 },
        "slack_webhook_url": "hooks.slack.com", "email_to": ["nobody"],
    });
    let refused = app
        .errors_call(
            Some(&admin),
            Method::PUT,
            "/projects/1/alert-rules",
            Some(&bad),
        )
        .await;
    let refused = unprocessable(refused, "interval_minutes").await;
    for field in [
        "interval_minutes",
        "frequency.events",
        "frequency.minutes",
        "slack_webhook_url",
        "email_to[0]",
    ] {
        assert!(
            refused["details"]["fields"][field].is_string(),
            "{field}: {refused}"
        );
    }
    let bad_name = app
        .errors_call(
            Some(&admin),
            Method::POST,
            "/projects",
            Some(&json!({ "name": " " })),
        )
        .await;
    unprocessable(bad_name, "name").await;
    let missing = app
        .errors_call(
            Some(&admin),
            Method::PUT,
            "/projects/99/alert-rules",
            Some(&rules),
        )
        .await;
    error(missing, StatusCode::NOT_FOUND, "NOT_FOUND", "project").await;
    app.stop().await;
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn issues_are_listed_resolved_regressed_muted_and_reopened() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let member = app.sign_up("ada@example.com").await;
    let shop = app.create_project(&admin, "shop", 600).await;
    assert_eq!(shop.id, 1, "the project the errors below report to");
    // Three issues: KeyError thrice (two users), TypeError once (a warning), and one
    // in the platform's own project.
    let key_error = issues::error(1, "KeyError", Level::Error, Some("ada"));
    let key_issue = key_error.issue_id.to_string();
    app.report_error(key_error).await;
    app.report_error(issues::error(1, "KeyError", Level::Error, Some("bob")))
        .await;
    let type_error = issues::error(1, "TypeError", Level::Warning, None);
    let type_issue = type_error.issue_id.to_string();
    app.report_error(type_error).await;
    let panic_error = issues::error(0, "PanicError", Level::Error, None);
    let panic_issue = panic_error.issue_id.to_string();
    app.report_error(panic_error).await;
    let latest = issues::error(1, "KeyError", Level::Fatal, Some("ada"));
    let latest_id = latest.event_id.simple().to_string();
    let at = app.report_error(latest).await;

    let all = app.errors_get(&admin, "/issues", at).await;
    assert_eq!(all["total"], 3);
    assert_eq!(ids(&all)[0], key_issue, "most recently seen first");
    let frequent = app
        .errors_get(&admin, "/issues?project=1&sort=frequent&size=1", at)
        .await;
    assert_eq!(
        (frequent["total"].as_i64(), frequent["total_pages"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(ids(&frequent), [key_issue.as_str()]);
    let second = app
        .errors_get(&admin, "/issues?project=1&sort=frequent&size=1&page=2", at)
        .await;
    assert_eq!(ids(&second), [type_issue.as_str()]);
    let key = &frequent["items"][0];
    assert_eq!(
        (key["times_seen"].as_i64(), key["users_seen"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(key["level"], "fatal", "the highest level seen");
    assert_eq!(key["status"], "open");
    // A level filter means that level or higher.
    let warnings = app.errors_get(&admin, "/issues?level=warning", at).await;
    assert_eq!(warnings["total"], 3);
    let errors = app.errors_get(&admin, "/issues?level=error", at).await;
    let mut error_ids = ids(&errors);
    error_ids.sort();
    let mut expected = vec![key_issue.clone(), panic_issue];
    expected.sort();
    assert_eq!(error_ids, expected, "the warning is left out");
    let fatal = app.errors_get(&admin, "/issues?level=fatal", at).await;
    assert_eq!(ids(&fatal), [key_issue.as_str()]);
    let searched = app.errors_get(&admin, "/issues?q=typeerror", at).await;
    assert_eq!(ids(&searched), [type_issue.as_str()]);
    let platform = app.errors_get(&admin, "/issues?project=0", at).await;
    assert_eq!(platform["total"], 1);
    let bad = app
        .get_as(Some(&admin), "/api/v1/errors/issues?sort=newest", at)
        .await;
    error(bad, StatusCode::BAD_REQUEST, "INVALID_INPUT", "sort").await;
    let forbidden = app.get_as(Some(&member), "/api/v1/errors/issues", at).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let detail = app
        .errors_get(&admin, &format!("/issues/{key_issue}"), at)
        .await;
    let latest_event = &detail["latest_event"];
    assert_eq!(
        latest_event["event_id"].as_str().unwrap().replace('-', ""),
        latest_id
    );
    assert_eq!(
        latest_event["exceptions"][0]["frames"][0]["function"],
        "checkout"
    );
    assert_eq!(latest_event["tags"]["browser"], "Firefox");
    assert_eq!(latest_event["release"], "shop@1.2.0");
    let events = app
        .errors_get(&admin, &format!("/issues/{key_issue}/events?size=2"), at)
        .await;
    assert_eq!(events["total"], 3);
    assert_eq!(events["items"][0]["level"], "fatal", "latest first");
    let counts = app
        .errors_get(&admin, "/counts?project=1&minutes=5", at)
        .await;
    let minutes = counts.as_array().unwrap();
    assert_eq!(minutes.len(), 5, "every minute, zero-filled");
    let sum = |level: &str| {
        minutes
            .iter()
            .map(|m| m[level].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!((sum("error"), sum("warning"), sum("fatal")), (2, 1, 1));

    // Resolve; resolving again changes nothing; a new error is a regression.
    let resolve = format!("/issues/{key_issue}/resolve");
    let resolved = app
        .errors_call(Some(&admin), Method::POST, &resolve, None)
        .await;
    let resolved = json(resolved, StatusCode::OK).await["data"].clone();
    assert_eq!(
        (resolved["status"].as_str(), resolved["changed"].as_bool()),
        (Some("resolved"), Some(true))
    );
    let again = app
        .errors_call(Some(&admin), Method::POST, &resolve, None)
        .await;
    let again_position = position(&again);
    let again = json(again, StatusCode::OK).await["data"].clone();
    assert_eq!(again["changed"], false);
    assert_eq!(
        again_position,
        resolved["position"].as_i64().unwrap(),
        "nothing appended"
    );
    let at = app
        .report_error(issues::error(1, "KeyError", Level::Error, Some("cy")))
        .await;
    let regressed = app
        .errors_get(&admin, &format!("/issues/{key_issue}"), at)
        .await;
    assert_eq!(regressed["status"], IssueStatus::Open.as_str());
    assert_eq!(regressed["regressed"], true);
    // The regression makes resolving a change again.
    let resolved = app
        .errors_call(Some(&admin), Method::POST, &resolve, None)
        .await;
    assert_eq!(
        json(resolved, StatusCode::OK).await["data"]["changed"],
        true
    );

    let muted = app
        .errors_call(
            Some(&admin),
            Method::POST,
            &format!("/issues/{key_issue}/mute"),
            None,
        )
        .await;
    let at = json(muted, StatusCode::OK).await["data"]["position"]
        .as_i64()
        .unwrap();
    let listed = app.errors_get(&admin, "/issues?status=muted", at).await;
    assert_eq!(ids(&listed), [key_issue.as_str()]);
    let reopened = app
        .errors_call(
            Some(&admin),
            Method::POST,
            &format!("/issues/{key_issue}/reopen"),
            None,
        )
        .await;
    let at = json(reopened, StatusCode::OK).await["data"]["position"]
        .as_i64()
        .unwrap();
    let open = app
        .errors_get(&admin, &format!("/issues/{key_issue}"), at)
        .await;
    assert_eq!(
        (open["status"].as_str(), open["regressed"].as_bool()),
        (Some("open"), Some(false))
    );

    let unknown = "/issues/00000000-0000-0000-0000-000000000001";
    let missing = app
        .errors_call(
            Some(&admin),
            Method::POST,
            &format!("{unknown}/resolve"),
            None,
        )
        .await;
    error(missing, StatusCode::NOT_FOUND, "NOT_FOUND", "issue").await;
    let missing = app
        .get_as(Some(&admin), &format!("/api/v1/errors{unknown}"), 0)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let member_resolve = app
        .errors_call(Some(&member), Method::POST, &resolve, None)
        .await;
    assert_eq!(member_resolve.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}
