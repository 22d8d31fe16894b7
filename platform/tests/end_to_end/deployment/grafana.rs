//! Grafana's provisioning: the Loki of the stack as a data source, and dashboards that
//! Grafana finds where the provider says, that parse, that query provisioned data
//! sources only, and a logs dashboard filtering on the labels Alloy gives lines.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use regex::Regex;
use serde_json::Value;

use super::{
    compose,
    log_collection::{alloy, alloy_labels, depends_on, loki, mounted, running, yaml},
    read, repository,
};

/// Every file of a directory of the repository with the extension `ext`.
pub(super) fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(repository().join(dir))
        .unwrap_or_else(|err| panic!("reading {dir}: {err}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

pub(super) fn relative(path: &Path) -> String {
    path.strip_prefix(repository())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The data sources Grafana is provisioned with.
fn data_sources() -> Vec<Value> {
    files("deploy/grafana/provisioning/datasources", "yml")
        .iter()
        .flat_map(|file| {
            yaml(&relative(file))["datasources"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn grafana_queries_the_loki_of_the_stack() {
    let compose = compose();
    let loki = loki(&compose);
    let (grafana, service) = running(&compose, "grafana/grafana");
    assert_eq!(
        mounted(service, "/etc/grafana/provisioning").as_deref(),
        Some("deploy/grafana/provisioning")
    );
    assert!(
        depends_on(service, &loki.service),
        "{grafana} starts after Loki"
    );
    let sources = data_sources();
    let uids: BTreeSet<&str> = sources.iter().filter_map(|s| s["uid"].as_str()).collect();
    assert_eq!(
        uids.len(),
        sources.len(),
        "every data source has its own uid"
    );
    let logs: Vec<&Value> = sources.iter().filter(|s| s["type"] == "loki").collect();
    assert_eq!(logs.len(), 1, "one Loki data source");
    assert_eq!(
        logs[0]["url"],
        format!("http://{}:{}", loki.service, loki.port),
        "the data source is the Loki of the stack"
    );
}

/// The provisioned dashboards, by file.
pub(super) fn dashboards() -> Vec<(String, Value)> {
    let compose = compose();
    let (_, grafana) = running(&compose, "grafana/grafana");
    let providers: Vec<Value> = files("deploy/grafana/provisioning/dashboards", "yml")
        .iter()
        .flat_map(|file| {
            yaml(&relative(file))["providers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert!(
        !providers.is_empty(),
        "Grafana is provisioned with dashboards"
    );
    let mut found = Vec::new();
    for provider in providers {
        let path = provider["options"]["path"]
            .as_str()
            .expect("a provider's path");
        let dir = mounted(grafana, path).unwrap_or_else(|| {
            panic!("Grafana reads dashboards from {path}, which is not mounted")
        });
        for file in files(&dir, "json") {
            let name = relative(&file);
            let dashboard = serde_json::from_str(&read(&name))
                .unwrap_or_else(|err| panic!("{name} is not JSON: {err}"));
            found.push((name, dashboard));
        }
    }
    assert!(!found.is_empty(), "the provisioned folders hold dashboards");
    found
}

/// Every `datasource` reference anywhere in `value`.
fn data_source_uids<'a>(value: &'a Value, into: &mut Vec<&'a str>) {
    match value {
        Value::Object(entries) => {
            for (key, inner) in entries {
                match (key.as_str(), inner["uid"].as_str()) {
                    ("datasource", Some(uid)) => into.push(uid),
                    _ => data_source_uids(inner, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| data_source_uids(item, into)),
        _ => {}
    }
}

#[test]
fn dashboards_parse_and_query_provisioned_data_sources() {
    let sources = data_sources();
    let provisioned: BTreeSet<&str> = sources.iter().filter_map(|s| s["uid"].as_str()).collect();
    let mut uids = BTreeSet::new();
    for (name, dashboard) in &dashboards() {
        let uid = dashboard["uid"].as_str().expect("a dashboard has a uid");
        assert!(uids.insert(uid.to_owned()), "{name}: uid {uid} is taken");
        assert!(dashboard["title"].is_string(), "{name} has a title");
        let mut used = Vec::new();
        data_source_uids(dashboard, &mut used);
        assert!(!used.is_empty(), "{name} queries a data source");
        for uid in used {
            assert!(
                provisioned.contains(uid),
                "{name} queries data source {uid}, which is not provisioned"
            );
        }
    }
}

/// The Loki queries of a dashboard's panels, by panel type.
fn loki_queries(dashboard: &Value) -> Vec<(String, String)> {
    let loki = data_sources()
        .into_iter()
        .find(|source| source["type"] == "loki")
        .and_then(|source| source["uid"].as_str().map(str::to_owned))
        .expect("a Loki data source");
    dashboard["panels"]
        .as_array()
        .expect("a dashboard has panels")
        .iter()
        .filter(|panel| panel["datasource"]["uid"] == loki.as_str())
        .flat_map(|panel| {
            let kind = panel["type"].as_str().unwrap().to_owned();
            panel["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |target| (kind.clone(), target["expr"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[test]
fn the_logs_dashboard_filters_by_service_level_and_text_on_labels_alloy_sets() {
    let (_, config) = alloy(&compose());
    let labels = alloy_labels(&config);
    let dashboards = dashboards();
    let (name, logs) = dashboards
        .iter()
        .find(|(_, dashboard)| {
            loki_queries(dashboard)
                .iter()
                .any(|(kind, _)| kind == "logs")
        })
        .expect("a dashboard shows log lines");

    let variables = logs["templating"]["list"].as_array().unwrap();
    let by_label = |label: &str| {
        variables
            .iter()
            .find(|v| v["type"] == "query" && v["query"]["label"] == label)
            .and_then(|v| v["name"].as_str())
            .unwrap_or_else(|| panic!("{name} has no variable over the {label} label"))
    };
    let service = format!("${}", by_label("service"));
    let level = format!("${}", by_label("level"));
    let text = variables
        .iter()
        .find(|v| v["type"] == "textbox")
        .and_then(|v| v["name"].as_str())
        .map(|name| format!("${name}"))
        .unwrap_or_else(|| panic!("{name} has no text filter"));

    let matcher = Regex::new(r#"(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)""#).unwrap();
    let selector = Regex::new(r"\{([^{}]*)\}").unwrap();
    let grouping = Regex::new(r"by\s*\(([^)]*)\)").unwrap();
    let queries = loki_queries(logs);
    for (kind, expr) in &queries {
        assert!(
            expr.contains(&service),
            "{kind} panel: {expr} ignores {service}"
        );
        for found in selector.captures_iter(expr) {
            for pair in matcher.captures_iter(&found[1]) {
                assert!(
                    labels.contains(&pair[1]),
                    "{expr}: Alloy sets no label {}",
                    &pair[1]
                );
                if &pair[1] == "level" && !pair[2].starts_with('$') {
                    assert_eq!(pair[2], pair[2].to_lowercase(), "Alloy lower-cases levels");
                }
            }
        }
        for by in grouping.captures_iter(expr) {
            for label in by[1].split(',').map(str::trim) {
                assert!(
                    labels.contains(label),
                    "{expr}: grouped by {label}, not a label"
                );
            }
        }
    }
    let panel = |kind: &str, needle: &str| {
        queries
            .iter()
            .any(|(k, expr)| k == kind && expr.contains(needle))
    };
    assert!(
        panel("logs", &level) && panel("logs", &text),
        "the log lines follow the level and text filters"
    );
    assert!(
        panel("timeseries", "by (level)"),
        "a chart of lines per level"
    );
    assert!(
        queries
            .iter()
            .any(|(_, expr)| expr.contains("by (service)") && expr.contains("level=\"error\"")),
        "errors by service"
    );
}
