//! Every message a round sent, matched with what the sink accepted by Message-ID
//! (`<id@domain>`): which arrived, which did not, which came twice, and the rates and
//! latencies that follow from the send times and the sink's arrival times.

use std::{
    collections::{HashMap, hash_map::Entry},
    time::Duration,
};

use benches::latency::{LatencySummary, Recorder};
use serde::Serialize;
use uuid::Uuid;

use crate::sink::Received;

/// A message handed over: to the API (its request sent) or to the SMTP client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    pub id: Uuid,
    /// Seconds since the Unix epoch, on the clock the sink stamps arrivals with.
    pub at: f64,
}

/// The messages of one round and their arrivals.
#[derive(Debug)]
pub(crate) struct Ledger {
    domain: String,
    sent: HashMap<Uuid, f64>,
    /// The first arrival of each message sent.
    arrived: HashMap<Uuid, f64>,
    duplicates: u64,
    foreign: u64,
}

impl Ledger {
    /// A ledger of `sent`, whose Message-IDs are `<id@domain>`.
    pub(crate) fn new(domain: &str, sent: impl IntoIterator<Item = Sent>) -> Self {
        Self {
            domain: domain.to_owned(),
            sent: sent.into_iter().map(|s| (s.id, s.at)).collect(),
            arrived: HashMap::new(),
            duplicates: 0,
            foreign: 0,
        }
    }

    pub(crate) fn record(&mut self, received: &Received) {
        let id = received
            .message_id
            .as_deref()
            .and_then(|text| parse_message_id(text, &self.domain))
            .filter(|id| self.sent.contains_key(id));
        let Some(id) = id else {
            self.foreign += 1;
            return;
        };
        match self.arrived.entry(id) {
            Entry::Occupied(_) => self.duplicates += 1,
            Entry::Vacant(first) => {
                first.insert(received.received_at);
            }
        }
    }

    /// Whether every message sent has arrived.
    pub(crate) fn complete(&self) -> bool {
        self.arrived.len() == self.sent.len()
    }

    pub(crate) fn deliveries(&self) -> Deliveries {
        let mut latency = Recorder::new();
        for (id, received_at) in &self.arrived {
            let waited = (received_at - self.sent[id]).max(0.0);
            latency.record(Duration::from_secs_f64(waited));
        }
        let first_sent = self.sent.values().copied().reduce(f64::min);
        let first_arrival = self.arrived.values().copied().reduce(f64::min);
        let last_arrival = self.arrived.values().copied().reduce(f64::max);
        let delivered = self.arrived.len() as u64;
        let complete = self.complete() && delivered > 0;
        let span = |from: Option<f64>| match (complete, from, last_arrival) {
            (true, Some(from), Some(to)) => Some(to - from),
            _ => None,
        };
        let from_first_sent_seconds = span(first_sent);
        let between_arrivals_seconds = span(first_arrival);
        Deliveries {
            sent: self.sent.len() as u64,
            delivered,
            missing: self.sent.len() as u64 - delivered,
            duplicates: self.duplicates,
            foreign: self.foreign,
            from_first_sent_seconds,
            per_second: from_first_sent_seconds.and_then(|s| rate(delivered, s)),
            between_arrivals_seconds,
            per_second_between_arrivals: between_arrivals_seconds
                .and_then(|s| rate(delivered.saturating_sub(1), s)),
            latency_us: latency.summary(),
        }
    }
}

/// How a round's messages arrived.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Deliveries {
    pub sent: u64,
    /// Messages that arrived at least once.
    pub delivered: u64,
    pub missing: u64,
    /// Arrivals of a message that had already arrived.
    pub duplicates: u64,
    /// Arrivals that are none of this round's messages.
    pub foreign: u64,
    /// From the first message handed over to the last arrival (only when all arrived).
    pub from_first_sent_seconds: Option<f64>,
    /// Messages ÷ that time: the delivery rate.
    pub per_second: Option<f64>,
    /// From the first arrival to the last (only when all arrived).
    pub between_arrivals_seconds: Option<f64>,
    /// Arrivals after the first ÷ that time: the rate once deliveries flow.
    pub per_second_between_arrivals: Option<f64>,
    /// From each message handed over to its arrival.
    pub latency_us: LatencySummary,
}

impl Deliveries {
    /// What went wrong, as failures of the run: every message must arrive exactly once.
    pub(crate) fn failures(&self, round: &str) -> Vec<String> {
        let mut failures = Vec::new();
        if self.missing > 0 {
            failures.push(format!(
                "{round}: {} of {} messages did not arrive",
                self.missing, self.sent
            ));
        }
        if self.duplicates > 0 {
            failures.push(format!(
                "{round}: {} messages arrived more than once",
                self.duplicates
            ));
        }
        failures
    }
}

/// `count` events over `seconds`, per second.
fn rate(count: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| count as f64 / seconds)
}

/// The id in a Message-ID `<id@domain>` of `domain`.
pub(crate) fn parse_message_id(text: &str, domain: &str) -> Option<Uuid> {
    let inner = text.trim().strip_prefix('<')?.strip_suffix('>')?;
    let (local, at) = inner.rsplit_once('@')?;
    if !at.eq_ignore_ascii_case(domain) {
        return None;
    }
    Uuid::parse_str(local).ok()
}

/// The Message-ID of the message `id` from `domain`, as the platform writes it.
pub(crate) fn message_id_of(id: Uuid, domain: &str) -> String {
    format!("<{id}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "platform.localhost";

    fn arrival(id: Uuid, at: f64) -> Received {
        Received {
            received_at: at,
            message_id: Some(message_id_of(id, DOMAIN)),
        }
    }

    #[test]
    fn a_message_id_names_its_email_on_its_domain() {
        let id = Uuid::new_v4();
        assert_eq!(
            parse_message_id(&message_id_of(id, DOMAIN), DOMAIN),
            Some(id)
        );
        assert_eq!(
            parse_message_id(&format!(" <{}@Platform.Localhost> ", id.simple()), DOMAIN),
            Some(id)
        );
        assert_eq!(
            parse_message_id(&message_id_of(id, "other.test"), DOMAIN),
            None
        );
        assert_eq!(
            parse_message_id("<welcome@platform.localhost>", DOMAIN),
            None
        );
        assert_eq!(parse_message_id(&id.to_string(), DOMAIN), None);
    }

    #[test]
    fn rates_and_latencies_follow_from_send_and_arrival_times() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        // Sent at 100.0, 100.1, ... 100.4; each arrives 0.5 s after it was sent.
        let sent = ids.iter().enumerate().map(|(k, &id)| Sent {
            id,
            at: 100.0 + k as f64 / 10.0,
        });
        let mut ledger = Ledger::new(DOMAIN, sent);
        for (k, &id) in ids.iter().enumerate() {
            assert!(!ledger.complete());
            ledger.record(&arrival(id, 100.5 + k as f64 / 10.0));
        }
        assert!(ledger.complete());
        let d = ledger.deliveries();
        assert_eq!((d.sent, d.delivered, d.missing, d.duplicates), (5, 5, 0, 0));
        // 5 messages from 100.0 to 100.9; 4 more arrivals from 100.5 to 100.9.
        assert!((d.per_second.unwrap() - 5.0 / 0.9).abs() < 1e-6, "{d:?}");
        assert!((d.per_second_between_arrivals.unwrap() - 10.0).abs() < 1e-6);
        assert!((499_000..=501_000).contains(&d.latency_us.p50_us), "{d:?}");
        assert!((499_000..=501_000).contains(&d.latency_us.max_us), "{d:?}");
        assert!(d.failures("platform").is_empty());
    }

    #[test]
    fn missing_copies_and_strangers_are_counted() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let mut ledger = Ledger::new(DOMAIN, ids.iter().map(|&id| Sent { id, at: 1.0 }));
        ledger.record(&arrival(ids[0], 2.0));
        ledger.record(&arrival(ids[0], 3.0));
        ledger.record(&arrival(ids[1], 2.5));
        ledger.record(&arrival(Uuid::new_v4(), 2.0));
        ledger.record(&Received {
            received_at: 2.0,
            message_id: None,
        });
        let d = ledger.deliveries();
        assert_eq!(
            (d.delivered, d.missing, d.duplicates, d.foreign),
            (2, 1, 1, 2)
        );
        assert_eq!(d.per_second, None, "no rate while a message is missing");
        assert_eq!(d.failures("ceiling").len(), 2);
        // The copy's later arrival (2.0 s after its send) does not count.
        assert!(
            (1_499_000..=1_501_000).contains(&d.latency_us.max_us),
            "{d:?}"
        );
    }
}
