//! Where mail goes: an SMTP server over one pooled transport (its connections are reused
//! from one attempt to the next), or `.eml` files in a directory when no server is set.
//! Every outcome becomes a [`Delivery`] that says whether to try again.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use email_job::{Delivery, Email};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart, header::ContentType},
    transport::smtp::{self, PoolConfig},
};
use secrecy::{ExposeSecret, SecretString};

/// The transport every attempt of this process shares.
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl Mailer {
    /// An SMTP transport for `url` with a pool of `connections`, each exchange bounded by
    /// `timeout`; without a URL, files in `dir` (created if missing).
    pub fn new(
        url: Option<&SecretString>,
        dir: &std::path::Path,
        connections: u32,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let Some(url) = url else {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the mail directory {}", dir.display()))?;
            let dir = dir.canonicalize()?;
            return Ok(Self::Files(AsyncFileTransport::new(&dir), dir));
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            // The URL may hold credentials: the error must not repeat it.
            .map_err(|err| anyhow::anyhow!("SMTP_URL is not a valid SMTP URL: {err}"))?
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(connections))
            .build();
        Ok(Self::Smtp(transport))
    }

    /// Where mail goes, for the logs (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "SMTP".to_owned(),
            Self::Files(_, dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Sends `message` and says how it went.
    pub async fn send(&self, message: Message) -> Delivery {
        match self {
            Self::Smtp(transport) => match transport.send(message).await {
                Ok(response) => Delivery::Accepted(reply(&response)),
                Err(err) => classify(&err),
            },
            Self::Files(transport, dir) => match transport.send(message).await {
                Ok(id) => Delivery::Accepted(format!("written to {}/{id}.eml", dir.display())),
                Err(err) => Delivery::Transient(format!("cannot write the file: {err}")),
            },
        }
    }
}

/// A server's reply as one line: `250 2.0.0 Ok: queued as 12`.
fn reply(response: &smtp::response::Response) -> String {
    let lines: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), lines.join(" "))
}

/// 5xx is for good; 4xx, timeouts, refused connections and broken exchanges are for now.
fn classify(err: &smtp::Error) -> Delivery {
    let text = err.to_string();
    if err.is_permanent() {
        Delivery::Permanent(text)
    } else {
        Delivery::Transient(text)
    }
}

/// The message every attempt of `email` sends: the same headers, Message-ID included.
pub fn message(email: &Email, from: &Mailbox, message_id: &str) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(email.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .date_now();
    for to in &email.to {
        let mailbox = email_job::address::parse(to).map_err(anyhow::Error::msg)?;
        builder = builder.to(mailbox);
    }
    let message = match &email.html {
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone()),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            html.clone(),
        )),
    };
    Ok(message?)
}
