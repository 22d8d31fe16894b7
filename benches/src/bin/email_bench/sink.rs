//! What the SMTP sink (`scripts/smtp/server.py`) accepted: one JSON line per message in
//! `<spool>/received.jsonl`, read as it grows.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::Deserialize;

/// One message the sink accepted (the fields this benchmark reads; the line has more).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Received {
    /// When the sink accepted the message's DATA, in seconds since the Unix epoch.
    pub received_at: f64,
    /// The Message-ID header, `<id@domain>`.
    pub message_id: Option<String>,
}

/// `received.jsonl` from where it ended when this was opened: each read returns the
/// complete lines added since the last one.
pub(crate) struct ReceivedLog {
    path: PathBuf,
    file: File,
    /// A line the sink had not finished writing at the last read.
    partial: Vec<u8>,
}

impl ReceivedLog {
    /// The log of the sink spooling to `spool`, from its current end.
    pub(crate) fn from_end(spool: &Path) -> anyhow::Result<Self> {
        let path = spool.join("received.jsonl");
        let mut file = File::open(&path).with_context(|| {
            format!(
                "opening {} (is the sink running with --spool {}?)",
                path.display(),
                spool.display()
            )
        })?;
        file.seek(SeekFrom::End(0))?;
        Ok(Self {
            path,
            file,
            partial: Vec::new(),
        })
    }

    /// The messages accepted since the last read.
    pub(crate) fn read_new(&mut self) -> anyhow::Result<Vec<Received>> {
        let mut chunk = Vec::new();
        self.file
            .read_to_end(&mut chunk)
            .with_context(|| format!("reading {}", self.path.display()))?;
        complete_lines(&mut self.partial, &chunk)
            .with_context(|| format!("a line of {}", self.path.display()))
    }
}

/// Parses the complete lines of `partial` + `chunk`; what follows the last line break
/// stays in `partial` for the next chunk.
fn complete_lines(partial: &mut Vec<u8>, chunk: &[u8]) -> anyhow::Result<Vec<Received>> {
    partial.extend_from_slice(chunk);
    let Some(end) = partial.iter().rposition(|&b| b == b'\n') else {
        return Ok(Vec::new());
    };
    let lines: Vec<u8> = partial.drain(..=end).collect();
    lines
        .split(|&b| b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .map(|line| {
            serde_json::from_slice(line).with_context(|| {
                format!(
                    "{} (the sink must write received_at: scripts/smtp/server.py)",
                    String::from_utf8_lossy(line)
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"n": 7, "received_at": 1764600000.25, "mail_from": "no-reply@platform.localhost", "rcpt_tos": ["bob@example.com"], "message_id": "<a@b>", "subject": "s"}"#;

    #[test]
    fn a_line_is_read_once_complete() {
        let mut partial = Vec::new();
        let (head, tail) = LINE.split_at(40);
        assert!(
            complete_lines(&mut partial, head.as_bytes())
                .unwrap()
                .is_empty()
        );
        let read = complete_lines(&mut partial, format!("{tail}\n{head}").as_bytes()).unwrap();
        assert_eq!(
            read,
            vec![Received {
                received_at: 1_764_600_000.25,
                message_id: Some("<a@b>".to_owned()),
            }]
        );
        assert_eq!(partial, head.as_bytes(), "the unfinished line waits");
        let read = complete_lines(&mut partial, format!("{tail}\n{LINE}\n").as_bytes()).unwrap();
        assert_eq!(read.len(), 2);
        assert!(partial.is_empty());
    }

    #[test]
    fn a_line_without_received_at_is_an_error() {
        let old = r#"{"n": 1, "message_id": "<a@b>"}"#;
        let error = complete_lines(&mut Vec::new(), format!("{old}\n").as_bytes()).unwrap_err();
        assert!(format!("{error:#}").contains("received_at"), "{error:#}");
    }

    #[test]
    fn the_log_is_read_from_where_it_ended() {
        let spool = std::env::temp_dir().join(format!("email-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&spool).unwrap();
        let path = spool.join("received.jsonl");
        std::fs::write(&path, format!("{LINE}\n")).unwrap();
        let mut log = ReceivedLog::from_end(&spool).unwrap();
        assert!(
            log.read_new().unwrap().is_empty(),
            "earlier lines are not read"
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, format!("{LINE}\n{LINE}\n").as_bytes()).unwrap();
        assert_eq!(log.read_new().unwrap().len(), 2);
        assert!(log.read_new().unwrap().is_empty());
        std::fs::remove_dir_all(&spool).unwrap();
    }
}
