//! Server-Sent Events as the platform writes them: blocks of `field: value` lines, each
//! block ended by an empty line (`\n\n`); a line starting with `:` is a comment (the
//! heartbeat). Only the fields this benchmark reads are kept: `event` and `data`.

use std::borrow::Cow;

use anyhow::{bail, ensure};

/// Longest block accepted; the platform's are well under a kilobyte.
const MAX_BLOCK: usize = 1 << 20;

/// One block of the stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// The `event` field; None means `message` to a browser.
    pub event: Option<&'a str>,
    /// The `data` lines joined by `\n`; None for a block without data (a heartbeat, the
    /// `retry` preamble), which a browser would not dispatch.
    pub data: Option<Cow<'a, str>>,
}

impl Block<'_> {
    /// The event type a browser would dispatch.
    pub(crate) fn kind(&self) -> &str {
        self.event.unwrap_or("message")
    }
}

/// The bytes read so far that do not make a whole block yet.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    pending: Vec<u8>,
}

impl Blocks {
    /// Adds bytes as they arrived.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> anyhow::Result<()> {
        self.pending.extend_from_slice(chunk);
        ensure!(
            self.pending.len() <= MAX_BLOCK,
            "a block of more than {MAX_BLOCK} bytes"
        );
        Ok(())
    }

    /// Whether a whole block is waiting.
    pub(crate) fn has_block(&self) -> bool {
        find_end(&self.pending, 0).is_some()
    }

    /// Hands every whole block to `each` and keeps the rest; fails if a block was not
    /// UTF-8 (after handing over the others).
    pub(crate) fn drain(&mut self, mut each: impl FnMut(Block<'_>)) -> anyhow::Result<()> {
        let (mut start, mut invalid) = (0, 0);
        while let Some(end) = find_end(&self.pending, start) {
            match std::str::from_utf8(&self.pending[start..end]) {
                Ok(text) => each(parse_block(text)),
                Err(_) => invalid += 1,
            }
            start = end + 2;
        }
        self.pending.drain(..start);
        ensure!(invalid == 0, "{invalid} blocks that are not UTF-8");
        Ok(())
    }
}

/// Where the block starting at `from` ends (the index of its `\n\n`).
fn find_end(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| from + i)
}

fn parse_block(text: &str) -> Block<'_> {
    let mut block = Block {
        event: None,
        data: None,
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => block.event = Some(value),
            "data" => {
                block.data = Some(match block.data.take() {
                    None => Cow::Borrowed(value),
                    Some(earlier) => Cow::Owned(format!("{earlier}\n{value}")),
                })
            }
            _ => {}
        }
    }
    block
}

/// Fails unless the response is a 200 event stream.
pub(crate) fn check_content_type(response: &reqwest::Response) -> anyhow::Result<()> {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("text/event-stream") {
        bail!("content-type {content_type:?}, not text/event-stream");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(blocks: &mut Blocks) -> Vec<(String, Option<String>)> {
        let mut seen = Vec::new();
        blocks
            .drain(|b| seen.push((b.kind().to_owned(), b.data.map(Cow::into_owned))))
            .unwrap();
        seen
    }

    #[test]
    fn blocks_are_read_across_chunk_boundaries() {
        let stream = "retry: 1000\n\n: heartbeat\n\nid: 42\nevent: message\ndata: {\"seq\":1}\n\n\
            event: presence\ndata: {\"online\":true}\n\n";
        let mut blocks = Blocks::default();
        let mut seen = Vec::new();
        // Fed a few bytes at a time, cutting lines and the blank line in the middle.
        for chunk in stream.as_bytes().chunks(7) {
            blocks.push(chunk).unwrap();
            seen.extend(collect(&mut blocks));
        }
        assert_eq!(
            seen,
            vec![
                ("message".to_owned(), None),
                ("message".to_owned(), None),
                ("message".to_owned(), Some("{\"seq\":1}".to_owned())),
                ("presence".to_owned(), Some("{\"online\":true}".to_owned())),
            ]
        );
        assert!(blocks.pending.is_empty());
    }

    #[test]
    fn data_lines_join_and_partial_blocks_wait() {
        let mut blocks = Blocks::default();
        blocks
            .push(b"event: x\ndata: a\ndata:b\r\n\nevent: y\ndata: c")
            .unwrap();
        assert!(blocks.has_block());
        assert_eq!(
            collect(&mut blocks),
            vec![("x".to_owned(), Some("a\nb".to_owned()))]
        );
        assert!(!blocks.has_block());
        blocks.push(b"\n\n").unwrap();
        assert_eq!(
            collect(&mut blocks),
            vec![("y".to_owned(), Some("c".to_owned()))]
        );
    }

    #[test]
    fn an_endless_block_is_refused() {
        let mut blocks = Blocks::default();
        assert!(blocks.push(&vec![b'a'; MAX_BLOCK + 1]).is_err());
    }
}
