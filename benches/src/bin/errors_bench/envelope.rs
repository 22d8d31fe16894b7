//! The envelope every sender posts: what the Python SDK sent for one captured exception
//! (the ingestion tests' fixture), with a fresh event id each time, so that each is a new
//! error rather than a retry the platform answers without appending.

use std::io::Write;

use flate2::{Compression, write::GzEncoder};
use uuid::Uuid;

use crate::args::Encoding;

/// A real SDK's envelope: header, one `event` item of about 2 KB with a stack trace.
const FIXTURE: &[u8] =
    include_bytes!("../../../../command-api/src/errors/sentry/fixtures/python-exception.envelope");
/// The fixture's event id, in its header and in its event.
const FIXTURE_ID: &[u8] = b"85727085acb8484690f4d47cf632eeb4";

/// The fixture, and where its event id is written.
pub(crate) struct Template {
    offsets: Vec<usize>,
}

impl Template {
    pub(crate) fn new() -> Self {
        let offsets = FIXTURE
            .windows(FIXTURE_ID.len())
            .enumerate()
            .filter(|(_, window)| *window == FIXTURE_ID)
            .map(|(at, _)| at)
            .collect::<Vec<_>>();
        assert!(
            offsets.len() >= 2,
            "the fixture names its event id in its header and its event"
        );
        Self { offsets }
    }

    /// The envelope of a new event (the id has the fixture id's length, so the item's
    /// `length` still holds), and that id.
    pub(crate) fn fresh(&self, encoding: Encoding) -> (Vec<u8>, String) {
        let id = Uuid::new_v4().simple().to_string();
        let mut body = FIXTURE.to_vec();
        for &at in &self.offsets {
            body[at..at + FIXTURE_ID.len()].copy_from_slice(id.as_bytes());
        }
        let body = match encoding {
            Encoding::Identity => body,
            Encoding::Gzip => gzip(&body),
        };
        (body, id)
    }
}

/// Level 9, as the Python SDK compresses.
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 2), Compression::best());
    encoder
        .write_all(body)
        .expect("writing to memory does not fail");
    encoder.finish().expect("writing to memory does not fail")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    #[test]
    fn each_envelope_carries_a_fresh_id_in_its_header_and_event() {
        let template = Template::new();
        let (body, id) = template.fresh(Encoding::Identity);
        let (_, other) = template.fresh(Encoding::Identity);
        assert_ne!(id, other);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.matches(&id).count(), template.offsets.len());
        assert!(!text.contains("85727085acb8484690f4d47cf632eeb4"));
        assert_eq!(text.len(), FIXTURE.len());
    }

    #[test]
    fn a_gzipped_envelope_inflates_to_the_plain_one_with_its_id() {
        let (body, id) = Template::new().fresh(Encoding::Gzip);
        let mut plain = String::new();
        GzDecoder::new(&body[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert!(body.len() < plain.len());
        assert!(plain.starts_with(&format!("{{\"event_id\":\"{id}\"")));
    }
}
