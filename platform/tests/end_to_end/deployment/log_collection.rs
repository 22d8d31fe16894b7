//! The compose stack's central log collection: Loki stores every container's lines,
//! Alloy reads them through the Docker socket and pushes them to Loki. Each file names
//! things the others define (a service, a port, a path, a label); these tests hold them
//! to each other and to the services' log format.

use std::collections::BTreeSet;

use clap::ValueEnum;
use regex::Regex;
use serde_json::Value;
use service_kit::telemetry::LogFormat;

use super::{
    alloy_syntax::{self, Block},
    compose, platform_services, read, services,
};

pub(super) fn yaml(file: &str) -> Value {
    serde_saphyr::from_str(&read(file)).unwrap_or_else(|err| panic!("{file} is not YAML: {err}"))
}

/// The one service of the stack running `image` (any tag), with its name; its tag must
/// pin a version, so the stack does not change under a user.
pub(super) fn running<'a>(compose: &'a Value, image: &str) -> (&'a str, &'a Value) {
    let mut found = services(compose).iter().filter(|(_, service)| {
        service["image"]
            .as_str()
            .is_some_and(|name| name.split(':').next() == Some(image))
    });
    let (name, service) = found
        .next()
        .unwrap_or_else(|| panic!("no service of the stack runs {image}"));
    assert!(found.next().is_none(), "one service runs {image}");
    let tag = service["image"].as_str().unwrap().split(':').nth(1);
    assert!(
        tag.is_some_and(|tag| tag != "latest" && tag.chars().any(|c| c.is_ascii_digit())),
        "{name}: {image} is not pinned to a version"
    );
    (name, service)
}

/// What a service mounts at `target`: the host path (relative to the repository) or
/// the named volume.
pub(super) fn mounted(service: &Value, target: &str) -> Option<String> {
    service["volumes"].as_array()?.iter().find_map(|volume| {
        let mut parts = volume.as_str()?.split(':');
        let source = parts.next()?;
        (parts.next()? == target).then(|| source.trim_start_matches("./").to_owned())
    })
}

/// A named volume of the stack mounted at `target`.
fn on_named_volume(compose: &Value, service: &Value, target: &str) -> bool {
    mounted(service, target).is_some_and(|volume| compose["volumes"].get(&volume).is_some())
}

/// The words of a service's command.
fn command(service: &Value) -> Vec<&str> {
    service["command"]
        .as_array()
        .expect("the command is a list")
        .iter()
        .map(|word| word.as_str().expect("command words are strings"))
        .collect()
}

pub(super) fn depends_on(service: &Value, other: &str) -> bool {
    let depends = &service["depends_on"];
    depends.get(other).is_some()
        || depends
            .as_array()
            .is_some_and(|names| names.iter().any(|name| name == other))
}

pub(super) struct Loki {
    pub(super) service: String,
    pub(super) port: u64,
    config: Value,
}

pub(super) fn loki(compose: &Value) -> Loki {
    let (name, service) = running(compose, "grafana/loki");
    let file = command(service)
        .iter()
        .find_map(|word| word.strip_prefix("-config.file="))
        .map(|path| mounted(service, path).expect("Loki's config file is mounted"))
        .expect("Loki is given its config file");
    let config = yaml(&file);
    let port = config["server"]["http_listen_port"]
        .as_u64()
        .expect("Loki's config sets its HTTP port");
    Loki {
        service: name.to_owned(),
        port,
        config,
    }
}

pub(super) fn alloy(compose: &Value) -> (&Value, Block) {
    let (_, service) = running(compose, "grafana/alloy");
    let file = command(service)
        .iter()
        .find(|word| word.ends_with(".alloy"))
        .map(|path| mounted(service, path).expect("Alloy's config file is mounted"))
        .expect("Alloy is given its config file");
    (service, alloy_syntax::parse(&read(&file)))
}

/// A reference to another component's export, e.g. `loki.write.loki.receiver`: that
/// component must exist.
fn referenced<'a>(config: &'a Block, reference: &alloy_syntax::Value, export: &str) -> &'a Block {
    let alloy_syntax::Value::Reference(path) = reference else {
        panic!("{reference:?} is not a reference");
    };
    let component = path
        .strip_suffix(&format!(".{export}"))
        .unwrap_or_else(|| panic!("{path} is not a {export}"));
    let (name, label) = component.rsplit_once('.').expect("component.label");
    config.block(name, Some(label))
}

#[test]
fn loki_keeps_logs_on_its_volume_for_a_retention_period() {
    let compose = compose();
    let Loki {
        service, config, ..
    } = loki(&compose);
    let prefix = config["common"]["path_prefix"].as_str().unwrap();
    assert!(
        on_named_volume(&compose, &services(&compose)[&service], prefix),
        "Loki's data ({prefix}) is on a volume of the stack"
    );
    assert!(config["common"]["storage"]["filesystem"].is_object());
    // Structured metadata (request ids, targets) needs the tsdb index and schema v13.
    let schema = config["schema_config"]["configs"]
        .as_array()
        .and_then(|configs| configs.last())
        .expect("Loki's config has a schema");
    assert_eq!(schema["store"], "tsdb");
    assert_eq!(schema["schema"], "v13");
    assert_eq!(schema["object_store"], "filesystem");
    assert_ne!(config["limits_config"]["allow_structured_metadata"], false);

    let retention = config["limits_config"]["retention_period"]
        .as_str()
        .expect("a retention period is set");
    let hours: u64 = retention
        .strip_suffix('h')
        .and_then(|hours| hours.parse().ok())
        .unwrap_or_else(|| panic!("retention {retention} is not in hours"));
    assert!(hours >= 24, "logs are kept at least a day, not {retention}");
    let compactor = &config["compactor"];
    assert_eq!(
        compactor["retention_enabled"], true,
        "the compactor deletes"
    );
    assert_eq!(compactor["delete_request_store"], "filesystem");
}

#[test]
fn alloy_reads_every_container_through_the_docker_socket_and_pushes_to_loki() {
    let compose = compose();
    let loki = loki(&compose);
    let (service, config) = alloy(&compose);
    assert!(
        depends_on(service, &loki.service),
        "Alloy starts after Loki"
    );

    let source = config.block("loki.source.docker", None);
    let discovery = referenced(&config, source.attribute("targets").unwrap(), "targets");
    assert_eq!(discovery.name, "discovery.docker");
    for host in [source.string("host"), discovery.string("host")] {
        let socket = host.strip_prefix("unix://").expect("a unix socket");
        assert_eq!(
            mounted(service, socket).as_deref(),
            Some("/var/run/docker.sock"),
            "Alloy reads the Docker socket at {socket}"
        );
    }
    // Compose labels every container it starts with its service: that filter is all of them.
    let filter = discovery.block("filter", None);
    assert_eq!(filter.string("name"), "label");
    assert_eq!(
        filter.attribute("values"),
        Some(&alloy_syntax::Value::List(vec![
            alloy_syntax::Value::String("com.docker.compose.service".into())
        ]))
    );
    // loki.source.docker reads back only what Docker's own log drivers keep.
    for (name, service) in services(&compose) {
        let driver = service["logging"]["driver"].as_str().unwrap_or("json-file");
        assert!(
            ["json-file", "local", "journald"].contains(&driver),
            "service {name} logs to {driver}, which Alloy cannot read"
        );
    }

    let forward = |block: &Block| -> Vec<alloy_syntax::Value> {
        match block.attribute("forward_to") {
            Some(alloy_syntax::Value::List(to)) => to.clone(),
            other => panic!("{} forwards to {other:?}", block.name),
        }
    };
    let process = referenced(&config, &forward(source)[0], "receiver");
    assert_eq!(process.name, "loki.process");
    let write = referenced(&config, &forward(process)[0], "receiver");
    assert_eq!(write.name, "loki.write");
    assert_eq!(
        write.block("endpoint", None).string("url"),
        format!("http://{}:{}/loki/api/v1/push", loki.service, loki.port),
        "Alloy pushes to the Loki of the stack"
    );

    let storage = command(service)
        .iter()
        .find_map(|word| word.strip_prefix("--storage.path="))
        .expect("Alloy is given a storage path");
    assert!(
        on_named_volume(&compose, service, storage),
        "Alloy's read positions ({storage}) survive a restart"
    );
}

/// The labels Alloy gives a line: relabelled target labels and `stage.labels` keys.
pub(super) fn alloy_labels(config: &Block) -> BTreeSet<String> {
    let source = config.block("loki.source.docker", None);
    let relabel = referenced(config, source.attribute("relabel_rules").unwrap(), "rules");
    let mut labels: BTreeSet<String> = relabel
        .blocks("rule")
        .map(|rule| rule.string("target_label").to_owned())
        .collect();
    let process = config.block("loki.process", None);
    for matched in process.blocks("stage.match") {
        for stage in matched.blocks("stage.labels") {
            let Some(alloy_syntax::Value::Object(values)) = stage.attribute("values") else {
                panic!("stage.labels has values");
            };
            labels.extend(values.iter().map(|(label, _)| label.clone()));
        }
    }
    labels
}

#[test]
fn the_services_json_lines_get_their_level_as_a_label_and_request_id_as_metadata() {
    let compose = compose();
    let (_, config) = alloy(&compose);
    let json = LogFormat::Json.to_possible_value().unwrap();
    let running = platform_services(&compose);
    for (name, service) in &running {
        assert_eq!(
            service.environment.get("LOG_FORMAT").map(String::as_str),
            Some(json.get_name()),
            "service {name} writes JSON lines, which Alloy parses"
        );
    }

    let relabel = referenced(
        &config,
        config
            .block("loki.source.docker", None)
            .attribute("relabel_rules")
            .unwrap(),
        "rules",
    );
    assert!(
        relabel.blocks("rule").any(|rule| {
            rule.attribute("source_labels")
                == Some(&alloy_syntax::Value::List(vec![
                    alloy_syntax::Value::String(
                        "__meta_docker_container_label_com_docker_compose_service".into(),
                    ),
                ]))
                && rule.string("target_label") == "service"
        }),
        "lines are labelled with their compose service"
    );

    let process = config.block("loki.process", None);
    let parsing = process
        .blocks("stage.match")
        .find(|matched| {
            matched.blocks("stage.json").any(|json| {
                json.attribute("expressions")
                    .is_some_and(|e| format!("{e:?}").contains("\"level\""))
            })
        })
        .expect("a stage reads the services' JSON level");
    let selector = parsing.string("selector");
    let pattern = selector
        .strip_prefix("{service=~\"")
        .and_then(|rest| rest.strip_suffix("\"}"))
        .unwrap_or_else(|| panic!("the selector {selector} picks services by name"));
    // LogQL matches a label's whole value.
    let picks = Regex::new(&format!("^(?:{pattern})$")).unwrap();
    for name in services(&compose).keys() {
        assert_eq!(
            picks.is_match(name),
            running.contains_key(name),
            "Alloy parses JSON lines of exactly the platform's services, not so for {name}"
        );
    }

    let expressions = match parsing.block("stage.json", None).attribute("expressions") {
        Some(alloy_syntax::Value::Object(entries)) => entries.clone(),
        other => panic!("stage.json expressions: {other:?}"),
    };
    let expression = |key: &str| {
        expressions
            .iter()
            .find(|(name, _)| name == key)
            .and_then(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("stage.json extracts no {key}"))
            .to_owned()
    };
    // tracing's JSON lines: the level at the top, the request id in the current span.
    assert_eq!(expression("level"), "level");
    assert_eq!(expression("request_id"), "span.request_id");
    let template = parsing.block("stage.template", None);
    assert_eq!(template.string("source"), "level");
    assert_eq!(template.string("template"), "{{ ToLower .Value }}");
    let metadata = format!(
        "{:?}",
        parsing
            .block("stage.structured_metadata", None)
            .attribute("values")
    );
    assert!(
        metadata.contains("\"request_id\""),
        "request ids are metadata"
    );

    // Labels multiply streams: only values from a short list may become one.
    assert_eq!(
        alloy_labels(&config),
        BTreeSet::from(["container", "level", "project", "service"].map(String::from))
    );
}
