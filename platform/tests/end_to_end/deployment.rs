//! docker-compose.yml and the files it mounts cannot run on a machine without Docker, so
//! what they name is checked against the code: the binaries and their subcommands, every
//! variable given to a service, the Kafka topics, the services nginx and Prometheus
//! reach (Prometheus on their metrics listeners), what is published beyond the loopback
//! interface, and the mail server the email worker sends to. In modules of their own:
//! nginx's routes ([`nginx_routes`], over the [`nginx_conf`] model of the
//! template as compose renders it), the collection of
//! logs by Alloy into Loki ([`log_collection`], reading [`alloy_syntax`]), Grafana's
//! data sources and dashboards ([`grafana`]), the alert rules and the metrics the
//! dashboards and rules query ([`prometheus`]); the image's user and healthcheck
//! ([`image`]).

mod alloy_syntax;
mod grafana;
mod image;
mod log_collection;
mod nginx_conf;
mod nginx_routes;
mod prometheus;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use clap::CommandFactory;
use serde_json::Value;

/// Variables the services read outside their command-line configuration.
const READ_ELSEWHERE: &[&str] = &["RUST_LOG"];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the platform crate sits in the workspace")
        .to_path_buf()
}

fn read(file: &str) -> String {
    let path = repository().join(file);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

/// nginx's configuration as the nginx service of docker-compose.yml renders its template:
/// every `${NGINX_*}` name replaced by that service's value for it.
fn nginx_rendered() -> String {
    let compose = compose();
    let given = environment(&services(&compose)["nginx"]);
    let mut text = read(NGINX_TEMPLATE);
    for name in template_names(&text) {
        let value = given.get(&name).unwrap_or_else(|| {
            panic!("the nginx service does not set {name}, which {NGINX_TEMPLATE} uses")
        });
        text = text.replace(&format!("${{{name}}}"), value);
    }
    text
}

const NGINX_TEMPLATE: &str = "deploy/nginx/templates/nginx.conf.template";

/// The `${NGINX_*}` names a template uses.
fn template_names(text: &str) -> BTreeSet<String> {
    regex::Regex::new(r"\$\{(NGINX_[A-Z0-9_]+)\}")
        .expect("a valid pattern")
        .captures_iter(text)
        .map(|found| found[1].to_owned())
        .collect()
}

#[test]
fn compose_renders_the_nginx_template_into_the_configuration_nginx_reads() {
    let compose = compose();
    let nginx = &services(&compose)["nginx"];
    let given = environment(nginx);
    // The image writes <templates>/<name>.template to <output dir>/<name>.
    assert_eq!(
        given.get("NGINX_ENVSUBST_OUTPUT_DIR").map(String::as_str),
        Some("/etc/nginx")
    );
    let mounts: Vec<&str> = nginx["volumes"]
        .as_array()
        .expect("the nginx service mounts its template")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        mounts.contains(&"./deploy/nginx/templates:/etc/nginx/templates:ro"),
        "the template folder is mounted where the image renders templates from: {mounts:?}"
    );
    // Only the template's names are replaced: nginx's own $variables stay.
    let filter = regex::Regex::new(&given["NGINX_ENVSUBST_FILTER"]).expect("the filter is a regex");
    for name in template_names(&read(NGINX_TEMPLATE)) {
        assert!(
            filter.is_match(&name),
            "the image's filter leaves {name} unreplaced"
        );
    }
    for kept in ["kept", "rest", "request_id", "host"] {
        assert!(
            !filter.is_match(kept),
            "the image's filter would replace ${kept}"
        );
    }
    let rendered = nginx_rendered();
    assert!(
        template_names(&rendered).is_empty(),
        "a name is left in the rendered file"
    );
    assert!(
        rendered.contains("${kept}[redacted]${rest}"),
        "nginx's own variables stay"
    );
}

/// The compose file with its anchors and merge keys resolved.
fn compose() -> Value {
    serde_saphyr::from_str(&read("docker-compose.yml"))
        .unwrap_or_else(|err| panic!("docker-compose.yml is not valid YAML: {err}"))
}

fn services(compose: &Value) -> &serde_json::Map<String, Value> {
    compose["services"]
        .as_object()
        .expect("docker-compose.yml has services")
}

/// A service that runs one of the workspace's binaries.
struct Running {
    command: Vec<String>,
    environment: BTreeMap<String, String>,
}

/// The services that run one of the workspace's binaries, by name.
fn platform_services(compose: &Value) -> BTreeMap<String, Running> {
    services(compose)
        .iter()
        .filter(|(_, service)| service["image"] == "platform:latest")
        .map(|(name, service)| {
            let command = service["command"]
                .as_array()
                .unwrap_or_else(|| panic!("service {name}: command is not a list"))
                .iter()
                .map(|word| word.as_str().expect("command words are strings").to_owned())
                .collect();
            let environment = environment(service);
            (
                name.clone(),
                Running {
                    command,
                    environment,
                },
            )
        })
        .collect()
}

/// A binary's command-line definition, by its name.
fn binary(name: &str) -> clap::Command {
    match name {
        "command-api" => command_api::Config::command(),
        "query-api" => query_api::Config::command(),
        "projector" => projector::Config::command(),
        "platform" => platform::Config::command(),
        other => panic!("no binary named {other} in the workspace"),
    }
}

/// The variables a command-line definition reads, with their defaults.
fn variables(command: &clap::Command) -> BTreeMap<String, Option<String>> {
    command
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_str()?.to_owned();
            let default = arg
                .get_default_values()
                .first()
                .and_then(|value| value.to_str())
                .map(str::to_owned);
            Some((env, default))
        })
        .collect()
}

fn environment(service: &Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_object()
        .map(|vars| {
            vars.iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The default of a `${NAME:-default}` substitution, or the text itself.
fn substituted(value: &str) -> &str {
    value
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|inner| inner.split_once(":-"))
        .map_or(value, |(_, default)| default)
}

#[test]
fn compose_runs_the_workspace_binaries_with_variables_they_read() {
    let compose = compose();
    let dockerfile = read("Dockerfile");
    let running = platform_services(&compose);
    let binaries: BTreeSet<&str> = running
        .values()
        .map(|service| service.command[0].as_str())
        .collect();
    assert_eq!(
        binaries,
        BTreeSet::from(["command-api", "projector", "query-api"]),
        "compose runs each service binary"
    );

    for (
        name,
        Running {
            command,
            environment: given,
        },
    ) in &running
    {
        let definition = binary(&command[0]);
        assert!(
            dockerfile.contains(&format!("target/release/{}", command[0])),
            "the Dockerfile does not ship {}, which service {name} runs",
            command[0]
        );
        if let Some(subcommand) = command.get(1) {
            assert!(
                definition.find_subcommand(subcommand).is_some(),
                "service {name}: {} has no subcommand {subcommand}",
                command[0]
            );
        }
        let accepted = variables(&definition);
        for variable in given.keys() {
            assert!(
                accepted.contains_key(variable) || READ_ELSEWHERE.contains(&variable.as_str()),
                "service {name} sets {variable}, which {} does not read",
                command[0]
            );
        }
        for arg in definition
            .get_arguments()
            .filter(|arg| arg.is_required_set())
        {
            let env = arg.get_env().and_then(|env| env.to_str());
            assert!(
                env.is_some_and(|env| given.contains_key(env)),
                "service {name} does not set {:?}, which {} requires",
                env.unwrap_or(arg.get_id().as_str()),
                command[0]
            );
        }
        // Every service of the stack shares one topic prefix, defaulting to the code's.
        assert_eq!(
            given
                .get("KAFKA_TOPIC_PREFIX")
                .map(|value| substituted(value)),
            accepted["KAFKA_TOPIC_PREFIX"].as_deref(),
            "service {name}: topic prefix"
        );
    }
}

#[test]
fn compose_services_share_one_database_broker_and_token_secret() {
    let running = platform_services(&compose());
    for variable in ["DATABASE_URL", "KAFKA_BROKERS", "JWT_SECRET"] {
        let values: BTreeSet<Option<&String>> = running
            .values()
            .map(|service| service.environment.get(variable))
            .collect();
        assert_eq!(
            values.len(),
            1,
            "{variable} differs between services: {values:?}"
        );
        assert!(
            values.first().is_some_and(Option::is_some),
            "{variable} is not set on the services"
        );
    }
}

#[test]
fn compose_demands_a_token_secret_and_has_no_default_for_it() {
    for (name, service) in platform_services(&compose()) {
        let secret = service.environment.get("JWT_SECRET").map(String::as_str);
        assert!(
            secret.is_some_and(|s| s.starts_with("${JWT_SECRET:?") && s.ends_with('}')),
            "service {name}: JWT_SECRET must be demanded from the environment (`${{JWT_SECRET:?...}}`), not {secret:?}"
        );
    }
}

#[test]
fn compose_creates_a_topic_for_every_context() {
    let compose = compose();
    let init = environment(&services(&compose)["kafka-init"]);
    let created: BTreeSet<&str> = init["CONTEXTS"].split_whitespace().collect();
    for context in schemas::catalog::CONTEXTS {
        assert!(
            created.contains(context),
            "kafka-init creates no topic for the {context} context"
        );
    }
    let prefix = variables(&command_api::Config::command())["KAFKA_TOPIC_PREFIX"].clone();
    assert_eq!(Some(substituted(&init["TOPIC_PREFIX"])), prefix.as_deref());
}

/// The methods of each path of an OpenAPI document.
pub(crate) fn operations(document: Value) -> Vec<(String, String)> {
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item is an object")
                .keys()
                .filter(|key| {
                    ["get", "head", "post", "put", "patch", "delete"].contains(&key.as_str())
                })
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

/// `host:port` of every running service whose `variable` is `0.0.0.0:<port>`.
fn listening_on(
    running: &BTreeMap<String, Running>,
    variable: &str,
    port: u16,
) -> BTreeSet<String> {
    running
        .iter()
        .filter(|(_, service)| {
            service.environment.get(variable).map(String::as_str)
                == Some(format!("0.0.0.0:{port}").as_str())
        })
        .map(|(name, _)| format!("{name}:{port}"))
        .collect()
}

#[test]
fn nginx_and_prometheus_reach_services_of_the_stack() {
    let compose = compose();
    let running = platform_services(&compose);
    let listening = listening_on(&running, "HTTP_ADDR", 8080);
    assert_eq!(
        listening.len(),
        running.len(),
        "every service listens on 8080"
    );
    let metrics = listening_on(&running, "METRICS_ADDR", 9100);
    assert_eq!(
        metrics.len(),
        running.len(),
        "every service serves /metrics on 9100"
    );

    let nginx = nginx_rendered();
    let upstreams: BTreeSet<String> = nginx
        .lines()
        .filter_map(|line| line.trim().strip_prefix("server ")?.strip_suffix(';'))
        .map(str::to_owned)
        .collect();
    assert!(
        !upstreams.is_empty(),
        "nginx.conf names its upstream servers"
    );
    let prometheus = read("deploy/prometheus/prometheus.yml");
    let scraped: Value = serde_saphyr::from_str(&prometheus).expect("prometheus.yml is YAML");
    let targets: BTreeSet<String> = scraped["scrape_configs"]
        .as_array()
        .expect("prometheus.yml has scrape_configs")
        .iter()
        .flat_map(|job| {
            job["static_configs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|config| config["targets"].as_array().cloned().unwrap_or_default())
        .map(|target| target.as_str().expect("a target is a string").to_owned())
        .collect();
    assert_eq!(
        targets, metrics,
        "Prometheus scrapes every service of the stack on its metrics listener"
    );
    for upstream in &upstreams {
        assert!(
            listening.contains(upstream),
            "nginx proxies to {upstream}, which no service of the stack listens on"
        );
    }
}

#[test]
fn compose_publishes_monitoring_on_loopback_only_and_demands_grafanas_password() {
    let compose = compose();
    let all = services(&compose);
    for (name, service) in all {
        for port in service["ports"].as_array().cloned().unwrap_or_default() {
            let port = port.as_str().expect("ports are strings").to_owned();
            if ["prometheus", "grafana"].contains(&name.as_str()) {
                assert!(
                    port.starts_with("127.0.0.1:"),
                    "{name} publishes {port} beyond the loopback interface"
                );
            }
            assert!(
                !port.ends_with(":9100"),
                "{name} publishes the metrics listener ({port})"
            );
        }
    }
    let grafana = environment(&all["grafana"]);
    let password = grafana
        .get("GF_SECURITY_ADMIN_PASSWORD")
        .map(String::as_str);
    assert!(
        password.is_some_and(|p| p.starts_with("${GRAFANA_ADMIN_PASSWORD:?") && p.ends_with('}')),
        "Grafana's admin password must be demanded from the environment, not {password:?}"
    );
}

#[test]
fn the_email_worker_sends_to_the_mail_server_of_the_stack() {
    let compose = compose();
    let all = services(&compose);
    let running = platform_services(&compose);
    let senders: Vec<(&String, &Running)> = running
        .iter()
        .filter(|(_, service)| service.environment.contains_key("SMTP_URL"))
        .collect();
    assert!(
        senders
            .iter()
            .any(|(_, service)| service.command[0] == "projector"),
        "the projector, which runs the email worker, is given SMTP_URL"
    );
    for (name, service) in senders {
        let url = substituted(&service.environment["SMTP_URL"]);
        let (host, port) = url
            .strip_prefix("smtp://")
            .and_then(|rest| rest.split_once(':'))
            .unwrap_or_else(|| panic!("service {name}: SMTP_URL {url:?} is not smtp://host:port"));
        let server = all
            .get(host)
            .unwrap_or_else(|| panic!("service {name} mails {host}, which the stack does not run"));
        let bind = environment(server)
            .get("MP_SMTP_BIND_ADDR")
            .cloned()
            .unwrap_or_else(|| panic!("{host} does not say where it listens for SMTP"));
        assert_eq!(
            bind.rsplit(':').next(),
            Some(port),
            "service {name} mails port {port}; {host} listens on {bind}"
        );
        assert!(
            all[name.as_str()]["depends_on"][host].is_object(),
            "service {name} does not wait for {host}"
        );
    }
}
