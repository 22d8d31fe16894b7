//! Every message the run sends, whether its send succeeded, and how many streams received
//! it; and the text that carries each message's number and due time to its receivers.

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use serde::Serialize;

/// Every message text this benchmark sends starts with this.
const TEXT_PREFIX: &str = "chat-bench";

const PENDING: u8 = 0;
const SENT: u8 = 1;
const FAILED: u8 = 2;

/// What a message's text carries: its number, when its send was due (microseconds after
/// the run's time base) and whether it is measured (sent after the warm-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub n: u64,
    pub due_us: u64,
    pub measured: bool,
}

impl Stamp {
    pub(crate) fn text(self) -> String {
        let phase = if self.measured { 'm' } else { 'w' };
        format!("{TEXT_PREFIX} {} {} {phase}", self.n, self.due_us)
    }

    /// The stamp in a text of this benchmark; None for any other text.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut words = text.strip_prefix(TEXT_PREFIX)?.split_ascii_whitespace();
        let n = words.next()?.parse().ok()?;
        let due_us = words.next()?.parse().ok()?;
        let measured = match words.next()? {
            "m" => true,
            "w" => false,
            _ => return None,
        };
        words.next().is_none().then_some(Self {
            n,
            due_us,
            measured,
        })
    }
}

/// How a received message was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Counted,
    /// It arrived with another room's id than the one it was sent to.
    WrongRoom,
    /// No message of this run has that number.
    Unknown,
}

/// Message `n` goes to room `n mod rooms`.
pub(crate) struct Ledger {
    /// The platform's id of each room.
    room_ids: Vec<i64>,
    state: Vec<AtomicU8>,
    delivered: Vec<AtomicU32>,
}

impl Ledger {
    /// Room for `capacity` messages (numbered from 0).
    pub(crate) fn new(room_ids: Vec<i64>, capacity: usize) -> Self {
        assert!(!room_ids.is_empty());
        Self {
            room_ids,
            state: (0..capacity).map(|_| AtomicU8::new(PENDING)).collect(),
            delivered: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.state.len()
    }

    /// The room (index) message `n` goes to, and its turn there.
    pub(crate) fn room_of(&self, n: u64) -> (usize, u64) {
        let rooms = self.room_ids.len() as u64;
        ((n % rooms) as usize, n / rooms)
    }

    pub(crate) fn room_id(&self, room: usize) -> i64 {
        self.room_ids[room]
    }

    /// Records how message `n`'s send ended.
    pub(crate) fn sent(&self, n: u64, ok: bool) {
        if let Some(state) = self.state.get(n as usize) {
            state.store(if ok { SENT } else { FAILED }, Ordering::Relaxed);
        }
    }

    /// Counts one arrival of message `n` on a stream, in room `room_id`.
    pub(crate) fn deliver(&self, n: u64, room_id: i64) -> Delivery {
        let Some(delivered) = self.delivered.get(n as usize) else {
            return Delivery::Unknown;
        };
        if self.room_id(self.room_of(n).0) != room_id {
            return Delivery::WrongRoom;
        }
        delivered.fetch_add(1, Ordering::Relaxed);
        Delivery::Counted
    }

    /// Deliveries the messages sent so far still owe, `receivers` being the streams each
    /// room's messages must reach.
    pub(crate) fn outstanding(&self, receivers: &[u32]) -> u64 {
        self.tally(receivers).missing
    }

    /// Counts messages and deliveries.
    pub(crate) fn tally(&self, receivers: &[u32]) -> Tally {
        let mut tally = Tally::default();
        for (n, (state, delivered)) in self.state.iter().zip(&self.delivered).enumerate() {
            let delivered = u64::from(delivered.load(Ordering::Relaxed));
            match state.load(Ordering::Relaxed) {
                SENT => {
                    let expected = u64::from(receivers[self.room_of(n as u64).0]);
                    tally.sent += 1;
                    tally.expected += expected;
                    tally.delivered += delivered.min(expected);
                    tally.missing += expected.saturating_sub(delivered);
                    tally.incomplete += u64::from(delivered < expected);
                    tally.surplus += delivered.saturating_sub(expected);
                }
                FAILED => {
                    tally.failed += 1;
                    tally.of_failed += delivered;
                }
                _ => tally.of_unsent += delivered,
            }
        }
        tally
    }
}

/// Messages and deliveries of the whole run (warm-up included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Tally {
    /// Sends answered 201.
    pub sent: u64,
    /// Sends that failed (an error status, a timeout, a broken connection).
    pub failed: u64,
    /// Deliveries the sent messages owe: for each, the streams that carry its room.
    pub expected: u64,
    /// Of those, the ones that arrived.
    pub delivered: u64,
    pub missing: u64,
    /// Sent messages that did not reach every stream of their room.
    pub incomplete: u64,
    /// Arrivals beyond a message's receivers (a stream that got it twice).
    pub surplus: u64,
    /// Arrivals of messages whose send failed (the platform may have taken them anyway).
    pub of_failed: u64,
    /// Arrivals of messages never sent: none can arrive.
    pub of_unsent: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_survive_the_text() {
        let stamp = Stamp {
            n: 12_345,
            due_us: 2_000_017,
            measured: true,
        };
        assert_eq!(stamp.text(), "chat-bench 12345 2000017 m");
        assert_eq!(Stamp::parse(&stamp.text()), Some(stamp));
        let warm = Stamp {
            measured: false,
            ..stamp
        };
        assert_eq!(Stamp::parse(&warm.text()), Some(warm));
        for other in [
            "hello",
            "chat-bench 1 2",
            "chat-bench 1 2 x",
            "chat-bench 1 2 m 3",
            "chat-bench a 2 m",
        ] {
            assert_eq!(Stamp::parse(other), None, "{other}");
        }
    }

    #[test]
    fn the_tally_finds_missing_and_surplus_deliveries() {
        // Two rooms: room 0 (id 7) has 3 receivers, room 1 (id 9) has 2.
        let receivers = [3, 2];
        let ledger = Ledger::new(vec![7, 9], 6);
        assert_eq!(ledger.room_of(5), (1, 2));
        for n in 0..4 {
            ledger.sent(n, true);
        }
        ledger.sent(4, false);
        for _ in 0..3 {
            assert_eq!(ledger.deliver(0, 7), Delivery::Counted);
        }
        ledger.deliver(1, 9);
        ledger.deliver(1, 9);
        ledger.deliver(1, 9); // one too many
        ledger.deliver(2, 7); // 2 of 3
        // Message 3 (room 1) never arrives; message 4 failed but arrived once.
        ledger.deliver(4, 7);
        assert_eq!(ledger.deliver(3, 7), Delivery::WrongRoom);
        assert_eq!(ledger.deliver(99, 7), Delivery::Unknown);

        let tally = ledger.tally(&receivers);
        assert_eq!(
            tally,
            Tally {
                sent: 4,
                failed: 1,
                expected: 3 + 2 + 3 + 2,
                delivered: 3 + 2 + 1,
                missing: 2 + 2,
                incomplete: 2,
                surplus: 1,
                of_failed: 1,
                of_unsent: 0,
            }
        );
        assert_eq!(ledger.outstanding(&receivers), 4);
    }
}
