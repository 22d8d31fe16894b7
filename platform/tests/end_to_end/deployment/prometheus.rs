//! Prometheus's alert rules and the Grafana dashboards over its data: compose mounts the
//! rule files `prometheus.yml` loads, and every metric a rule or a dashboard queries is
//! one the services export. (`promtool` checks the files' syntax and runs the rules' unit
//! tests: `scripts/check-deploy`.)

use std::{collections::BTreeSet, fs, path::Path, sync::LazyLock};

use regex::Regex;
use serde_json::Value;

use super::{
    compose,
    grafana::{dashboards, files, relative},
    log_collection::{mounted, running, yaml},
    repository,
};

/// Where the configuration file sits in Prometheus's container.
const CONFIG: &str = "/etc/prometheus/prometheus.yml";

/// The rule files `prometheus.yml` names, as compose mounts them, relative to the
/// repository.
fn rule_files() -> Vec<String> {
    let compose = compose();
    let (name, prometheus) = running(&compose, "prom/prometheus");
    let config = mounted(prometheus, CONFIG)
        .unwrap_or_else(|| panic!("{name} does not mount its configuration at {CONFIG}"));
    let patterns = yaml(&config)["rule_files"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!patterns.is_empty(), "{config} loads no rule files");
    let mut found = Vec::new();
    for pattern in patterns {
        let pattern = pattern.as_str().expect("a rule file is a string");
        let inside = Path::new(CONFIG).parent().unwrap().join(pattern);
        let (dir, file) = (inside.parent().unwrap(), inside.file_name().unwrap());
        let host = mounted(prometheus, dir.to_str().unwrap()).unwrap_or_else(|| {
            panic!(
                "{config} loads {pattern}, but {name} mounts nothing at {}",
                dir.display()
            )
        });
        let file = file.to_str().unwrap();
        let matches: Vec<String> = match file.strip_prefix('*') {
            Some(ext) => files(&host, ext.trim_start_matches('.'))
                .iter()
                .map(|path| relative(path))
                .collect(),
            None => vec![format!("{host}/{file}")],
        };
        assert!(!matches.is_empty(), "{pattern} matches no file in {host}");
        found.extend(matches);
    }
    found
}

#[test]
fn prometheus_loads_the_alert_rules_compose_mounts() {
    let rules: Vec<(String, String)> = rule_files()
        .iter()
        .flat_map(|file| {
            alerts(file)
                .into_iter()
                .map(|(name, _)| (file.clone(), name))
        })
        .collect();
    for alert in [
        "HighErrorRate",
        "CommandLatencyOverTarget",
        "ProjectionLagGrowing",
        "RelayLagGrowing",
        "TargetDown",
        "ChatStreamsDropped",
    ] {
        assert!(
            rules.iter().any(|(_, name)| name == alert),
            "no rule file loaded by Prometheus has the alert {alert}: {rules:?}"
        );
    }
}

/// The alerts and recording rules of a rule file: (name, expression).
fn alerts(file: &str) -> Vec<(String, String)> {
    let rules = yaml(file);
    rules["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{file} has no groups"))
        .iter()
        .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
        .map(|rule| {
            let name = rule["alert"].as_str().or(rule["record"].as_str());
            let expr = rule["expr"].as_str().expect("a rule has an expression");
            (name.expect("a rule is named").to_owned(), expr.to_owned())
        })
        .collect()
}

/// The metrics a PromQL expression reads: what is left once strings, label matchers,
/// ranges, groupings, numbers, Grafana's variables and function calls are taken out.
fn metrics_read(expr: &str) -> BTreeSet<String> {
    static NOISE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"#,
            r"\{[^{}]*\}",
            r"\[[^\[\]]*\]",
            r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)",
            r"\$\w+",
            r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b",
        ]
        .iter()
        .map(|pattern| Regex::new(pattern).unwrap())
        .collect()
    });
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?").unwrap());
    const KEYWORDS: &[&str] = &[
        "and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without",
    ];
    let mut left = expr.to_owned();
    for noise in NOISE.iter() {
        left = noise.replace_all(&left, " ").into_owned();
    }
    NAME.captures_iter(&left)
        .filter(|found| found.get(1).is_none())
        .map(|found| found[0].to_owned())
        .filter(|name| !KEYWORDS.contains(&name.as_str()))
        .collect()
}

/// Every metric name the services export: those their code records (a histogram also as
/// its `_bucket`, `_sum` and `_count` series), those `/metrics` samples when scraped, and
/// what Prometheus adds itself.
fn exported() -> BTreeSet<String> {
    let recorded =
        Regex::new(r#"\b(counter|gauge|histogram)!\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)""#).unwrap();
    // A work queue's depth gauge is named in its definition (projector/src/queue.rs).
    let named = Regex::new(r#"\bdepth_gauge:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)""#).unwrap();
    let mut names: BTreeSet<String> = ["up", "ALERTS", "ALERTS_FOR_STATE"]
        .map(str::to_owned)
        .into();
    for file in sources(&repository()) {
        let code = fs::read_to_string(&file).unwrap();
        for found in recorded.captures_iter(&code) {
            let name = &found[2];
            if &found[1] == "histogram" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            } else {
                names.insert(name.to_owned());
            }
        }
        names.extend(named.captures_iter(&code).map(|found| found[1].to_owned()));
    }
    service_kit::metrics::handle();
    service_kit::sampled::Sampled::default().record();
    let text = service_kit::metrics::handle().render();
    names.extend(
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split(['{', ' ']).next())
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
    );
    names
}

/// The Rust files of the workspace's crates' `src` folders.
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs")
            && path.components().any(|part| part.as_os_str() == "src")
        {
            found.push(path);
        }
    }
    found
}

/// The PromQL queries of a dashboard's panels (rows' panels included) whose data source
/// is `uid`.
fn queries(panels: &Value, uid: &str, into: &mut Vec<String>) {
    for panel in panels.as_array().into_iter().flatten() {
        queries(&panel["panels"], uid, into);
        for target in panel["targets"].as_array().into_iter().flatten() {
            let source = target["datasource"]["uid"]
                .as_str()
                .or(panel["datasource"]["uid"].as_str());
            if source == Some(uid) {
                into.push(target["expr"].as_str().expect("a query").to_owned());
            }
        }
    }
}

#[test]
fn dashboards_and_alert_rules_query_only_metrics_the_services_export() {
    let exported = exported();
    let mut queried: Vec<(String, String)> = Vec::new();
    for file in rule_files() {
        queried.extend(
            alerts(&file)
                .into_iter()
                .map(|(name, expr)| (format!("{file}: {name}"), expr)),
        );
    }
    for (name, dashboard) in dashboards() {
        let mut found = Vec::new();
        queries(&dashboard["panels"], "prometheus", &mut found);
        queried.extend(found.into_iter().map(|expr| (name.clone(), expr)));
    }
    assert!(
        queried
            .iter()
            .any(|(_, expr)| expr.contains("process_cpu_seconds_total")),
        "a dashboard shows the processes' CPU"
    );
    for (place, expr) in &queried {
        let read = metrics_read(expr);
        assert!(!read.is_empty(), "{place}: {expr} reads no metric");
        for metric in read {
            assert!(
                exported.contains(&metric),
                "{place}: {expr} reads {metric}, which no service exports"
            );
        }
    }
}

#[test]
fn metric_names_are_found_in_promql_as_prometheus_reads_it() {
    let expr = r#"histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket{route!~"/a|b", job=~"$job"}[$__rate_interval]))) > 0.02 and on (job) sum by (job) (rate(http_requests_total[5m])) > 1e3 or up == 0"#;
    assert_eq!(
        metrics_read(expr),
        BTreeSet::from(
            [
                "http_request_duration_seconds_bucket",
                "http_requests_total",
                "up"
            ]
            .map(str::to_owned)
        )
    );
}
