//! Phase `ingest`: concurrent senders each posting one-event envelopes to
//! `POST /api/{project}/envelope/`, authenticated as the Python SDK is. Every answer must
//! be `200 {"id": "<the event's id>"}`.

use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use benches::{
    http::{endpoint, snippet},
    load::{self, Measured},
};
use reqwest::{
    Client, StatusCode, Url,
    header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue},
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    args::{Args, Encoding},
    envelope::Template,
    project::Project,
};

/// What the Python SDK sends with each envelope.
const SENTRY_CLIENT: &str = "sentry.python/2.76.0";

/// One encoding's measurement.
#[derive(Debug, Serialize)]
pub(crate) struct IngestResult {
    pub encoding: &'static str,
    /// Bytes of one envelope as sent.
    pub body_bytes: usize,
    pub throughput: Measured,
}

/// Where and as whom the senders post.
#[derive(Clone)]
struct Target {
    url: Url,
    auth: HeaderValue,
    template: Arc<Template>,
    encoding: Encoding,
}

/// Phase `ingest` in one encoding: a probe that must be recorded, then the load.
pub(crate) async fn ingest_phase(
    args: &Args,
    client: &Client,
    project: &Project,
    encoding: Encoding,
) -> anyhow::Result<IngestResult> {
    let target = Target {
        url: endpoint(&args.url, &format!("/api/{}/envelope/", project.id))?,
        auth: HeaderValue::from_str(&format!(
            "Sentry sentry_key={}, sentry_version=7, sentry_client={SENTRY_CLIENT}",
            project.key
        ))
        .context("the client key is not a header value")?,
        template: Arc::new(Template::new()),
        encoding,
    };
    let body_bytes = target.template.fresh(encoding).0.len();
    send(client, &target)
        .await
        .with_context(|| format!("probe POST {}", target.url))?;
    eprintln!(
        "ingest ({}): {} senders on POST {}, envelopes of {body_bytes} bytes, {} s warm-up, {} s measured",
        encoding.name(),
        args.concurrency,
        target.url,
        args.warmup_seconds,
        args.seconds
    );
    let op_client = client.clone();
    let report = load::closed_loop(args.concurrency as usize, args.limits(), move |_| {
        let (client, target) = (op_client.clone(), target.clone());
        async move { send(&client, &target).await }
    })
    .await;
    Ok(IngestResult {
        encoding: encoding.name(),
        body_bytes,
        throughput: Measured::from(&report),
    })
}

/// Posts a fresh envelope; anything but `200` naming its event is an error.
async fn send(client: &Client, target: &Target) -> anyhow::Result<()> {
    let (body, id) = target.template.fresh(target.encoding);
    let mut request = client
        .post(target.url.clone())
        .header("X-Sentry-Auth", target.auth.clone())
        .header(CONTENT_TYPE, "application/x-sentry-envelope");
    if target.encoding == Encoding::Gzip {
        request = request.header(CONTENT_ENCODING, "gzip");
    }
    let response = request.body(body).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != StatusCode::OK {
        bail!("status {status}: {}", snippet(&body));
    }
    let answer: Value = serde_json::from_slice(&body)
        .with_context(|| format!("the 200 body is not JSON: {}", snippet(&body)))?;
    ensure!(
        answer["id"].as_str() == Some(id.as_str()),
        "the 200 names another event than {id}: {answer}"
    );
    Ok(())
}
