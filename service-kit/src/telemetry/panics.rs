//! Panics as error records. The default hook prints a panic's message to stderr, past the
//! scrubbing and the capture; this one logs it instead. A panic in a request is logged
//! by the layer that answers it `500` (see [`crate::layers`]), with the request's id:
//! here it only leaves its location for that layer.

use std::{any::Any, cell::RefCell, panic::PanicHookInfo};

thread_local! {
    /// Where the last panic of this thread happened, until the request layer takes it.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook with one that logs panics at ERROR.
pub fn log_them() {
    std::panic::set_hook(Box::new(|info: &PanicHookInfo<'_>| {
        let location = info.location().map(ToString::to_string);
        if crate::layers::in_request() {
            LOCATION.with(|last| *last.borrow_mut() = location);
            return;
        }
        let message = message(info.payload());
        tracing::error!(target: "panic", location, "panicked: {message}");
    }));
}

/// Where the panic this thread is recovering from happened, if the hook saw it.
pub(crate) fn take_location() -> Option<String> {
    LOCATION.with(|last| last.borrow_mut().take())
}

/// The message a panic was raised with (a `&str` or a `String` for `panic!`).
pub(crate) fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
