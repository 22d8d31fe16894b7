//! From which level records are captured: an operator lowers it to WARN or raises it back
//! to ERROR at run time, so it is one atomic every record's check reads.

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use schemas::errors::Level;

/// The capture level, shared by the layer and whoever changes it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CaptureLevel(Arc<AtomicU8>);

const ERROR: u8 = 0;
const WARNING: u8 = 1;

impl CaptureLevel {
    /// Captures from `level` up: `warning` (or anything below it) captures WARN and ERROR,
    /// anything else ERROR only.
    pub fn new(level: Level) -> Self {
        Self(Arc::new(AtomicU8::new(encode(level))))
    }

    pub fn set(&self, level: Level) {
        self.0.store(encode(level), Ordering::Relaxed);
    }

    pub fn get(&self) -> Level {
        match self.0.load(Ordering::Relaxed) {
            WARNING => Level::Warning,
            _ => Level::Error,
        }
    }

    /// Whether a record at `level` is captured.
    pub fn captures(&self, level: &tracing::Level) -> bool {
        match *level {
            tracing::Level::ERROR => true,
            tracing::Level::WARN => self.0.load(Ordering::Relaxed) == WARNING,
            _ => false,
        }
    }
}

fn encode(level: Level) -> u8 {
    if level <= Level::Warning {
        WARNING
    } else {
        ERROR
    }
}

/// The errors context's name of a tracing level.
pub fn level_of(level: &tracing::Level) -> Level {
    match *level {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warning,
        tracing::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_always_captured_and_warnings_only_once_lowered() {
        let level = CaptureLevel::new(Level::Error);
        assert!(level.captures(&tracing::Level::ERROR));
        assert!(!level.captures(&tracing::Level::WARN));
        level.set(Level::Warning);
        assert!(level.captures(&tracing::Level::WARN));
        assert!(!level.captures(&tracing::Level::INFO));
        assert_eq!(level.get(), Level::Warning);
        level.set(Level::Fatal);
        assert_eq!(level.get(), Level::Error);
        assert!(!level.captures(&tracing::Level::WARN));
    }
}
