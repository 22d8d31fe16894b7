//! The project the ingest phase reports to, made as an operator makes one: the admin
//! (`--admin-email`, `--admin-password`) logs in and creates it with
//! `POST /api/v1/errors/projects`, named `errors-bench`. A project of that name that
//! exists already (an earlier run on the same platform) is reused with its key.

use anyhow::Context;
use benches::http::{self, User, endpoint, expect_status};
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};

use crate::args::Args;

/// The project's name, by which a later run finds it.
const NAME: &str = "errors-bench";
/// Events a minute the project takes: the most a project may, over ten times what a run
/// sends (about 1,000 a second), so no report is refused for its quota.
const RATE_LIMIT_PER_MINUTE: i64 = 1_000_000;

/// A project to report to.
pub(crate) struct Project {
    pub id: i64,
    pub key: String,
}

/// The benchmark's project on `--url`'s platform, created unless it exists.
pub(crate) async fn ensure_project(args: &Args, client: &Client) -> anyhow::Result<Project> {
    let admin = http::log_in(client, &args.url, &args.admin_email, &args.admin_password)
        .await
        .with_context(|| {
            format!(
                "logging in as the admin {} (the platform's ADMIN_EMAIL)",
                args.admin_email
            )
        })?;
    let projects = endpoint(&args.url, "/api/v1/errors/projects")?;
    if let Some(project) = existing(client, &projects, &admin).await? {
        return Ok(project);
    }
    let body = json!({ "name": NAME, "rate_limit_per_minute": RATE_LIMIT_PER_MINUTE });
    let response = client
        .post(projects)
        .header(reqwest::header::AUTHORIZATION, admin.auth.clone())
        .json(&body)
        .send()
        .await?;
    let created = expect_status(response, StatusCode::CREATED, "creating the project").await?;
    project(&created["data"]).context("the project created")
}

/// The project named [`NAME`], if there is one.
async fn existing(
    client: &Client,
    projects: &Url,
    admin: &User,
) -> anyhow::Result<Option<Project>> {
    let response = client
        .get(projects.clone())
        .header(reqwest::header::AUTHORIZATION, admin.auth.clone())
        .send()
        .await?;
    let listed = expect_status(response, StatusCode::OK, "listing the projects").await?;
    let listed = listed["data"]
        .as_array()
        .context("the projects are not a list")?;
    listed
        .iter()
        .find(|p| p["name"] == NAME)
        .map(|p| project(p).context("the project listed"))
        .transpose()
}

fn project(view: &Value) -> anyhow::Result<Project> {
    Ok(Project {
        id: view["id"].as_i64().context("no id")?,
        key: view["public_key"]
            .as_str()
            .context("no public_key")?
            .to_owned(),
    })
}
