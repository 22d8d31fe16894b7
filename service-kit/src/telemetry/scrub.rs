//! The last net before a log line leaves the process: whatever a record, a span (a
//! request's URI with `?access_token=`) or a library put in it, secrets are masked.
//! The line formatter writes each record in one `write`, so each call holds whole lines.

use std::{
    borrow::Cow,
    io::{self, Write},
};

use error_report::masking::scrub_text;
use tracing_subscriber::fmt::MakeWriter;

/// Makes writers that scrub what they write into `M`'s.
#[derive(Debug, Clone, Copy)]
pub struct Scrubbing<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Scrubbing<M> {
    type Writer = Scrubbed<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Scrubbed(self.0.make_writer())
    }
}

/// A writer that masks secrets in each buffer before passing it on.
pub struct Scrubbed<W>(W);

impl<W: Write> Write for Scrubbed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        match scrub_text(&text) {
            Cow::Borrowed(_) => self.0.write_all(buf)?,
            Cow::Owned(clean) => self.0.write_all(clean.as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt;

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Self;

        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    #[test]
    fn json_lines_lose_the_secrets_of_spans_fields_and_messages() {
        let buffer = Buffer::default();
        let subscriber = fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(Scrubbing(buffer.clone()))
            .finish();
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
        tracing::subscriber::with_default(subscriber, || {
            let uri = format!("/api/v1/chats/stream?access_token={jwt}");
            let span = tracing::info_span!("request", uri = %uri, request_id = "r1");
            let _entered = span.enter();
            tracing::info!(
                password = "Hunter22x",
                "login body {{\"refresh_token\":\"rt-998877\"}}"
            );
            tracing::info!(authorization = %format!("Bearer {jwt}"), "called");
        });
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count(), 2, "{written}");
        for secret in [jwt, "Hunter22x", "rt-998877"] {
            assert!(!written.contains(secret), "{secret} in {written}");
        }
        assert!(written.contains("access_token=[Filtered]"), "{written}");
        for line in written.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("still a JSON line");
        }
    }

    #[test]
    fn text_lines_lose_their_secrets_too() {
        let buffer = Buffer::default();
        let subscriber = fmt()
            .with_ansi(false)
            .with_writer(Scrubbing(buffer.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(new_password = "Hunter22x", cookie = "sid=abc123", "changed");
        });
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(!written.contains("Hunter22x"), "{written}");
        assert!(!written.contains("abc123"), "{written}");
    }
}
