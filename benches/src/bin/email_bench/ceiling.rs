//! Phase `ceiling`: what a plain pooled lettre client gets through to the sink. The
//! transport is the worker's (`AsyncSmtpTransport`, plain SMTP, a pool of
//! EMAIL_CONCURRENCY connections) with as many sending tasks, and the messages have the
//! shape the worker sends: From MAIL_FROM, one recipient, a subject, a Message-ID
//! `<id@domain>`, a date and a short plain-text body.

use std::time::Duration;

use anyhow::Context;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::PoolConfig,
};
use uuid::Uuid;

use crate::{
    args::Args,
    ledger::{Sent, message_id_of},
    round::{self, PhaseResult, TO, Watch, epoch_seconds, subject, text},
};

/// The longest one exchange with the sink may take (the worker's default SMTP_TIMEOUT_MS).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn ceiling_phase(args: &Args, watch: &Watch) -> anyhow::Result<PhaseResult> {
    let (host, port) = args.smtp_server()?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(PoolConfig::new().max_size(args.smtp_concurrency))
        .build();
    let from = args.mail_from.clone();
    let to: Mailbox = TO.parse().context("the recipient")?;
    let domain = watch.domain.clone();
    eprintln!(
        "ceiling: {} tasks sending through a pool of {} connections to {}, {} messages after {} of warm-up",
        args.smtp_concurrency,
        args.smtp_concurrency,
        args.smtp_url,
        args.emails,
        args.warmup_emails
    );
    let send = move |n| {
        let (transport, from, to, domain) =
            (transport.clone(), from.clone(), to.clone(), domain.clone());
        async move {
            let id = Uuid::new_v4();
            let message = Message::builder()
                .from(from)
                .to(to)
                .subject(subject(n))
                .message_id(Some(message_id_of(id, &domain)))
                .date_now()
                .header(ContentType::TEXT_PLAIN)
                .body(text(n))
                .context("building the message")?;
            let at = epoch_seconds();
            transport
                .send(message)
                .await
                .context("sending to the sink")?;
            Ok(Sent { id, at })
        }
    };
    round::phase(
        watch,
        args.warmup_emails,
        args.emails,
        args.smtp_concurrency as usize,
        send,
    )
    .await
}
