"""Reports errors with Python's Sentry SDK, as an application would: the end-to-end tests
run it against the platform (scripts/install-sentry-sdk provides the SDK).

    python send.py DSN ACTION...

Each ACTION is one of
    exception=TEXT   raise ValueError(TEXT) in a function of this file and capture it
    message=TEXT     capture TEXT as a message at level warning
and prints the event id the SDK gave it, one line each, in order. The SDK's queue is
flushed before the script ends, so every event has been answered by then; the SDK's own
log (debug mode) goes to stderr.
"""

import sys

import sentry_sdk


def charge(text):
    raise ValueError(text)


def capture(action):
    kind, _, text = action.partition("=")
    if kind == "exception":
        try:
            charge(text)
        except ValueError:
            return sentry_sdk.capture_exception()
    if kind == "message":
        return sentry_sdk.capture_message(text, level="warning")
    sys.exit(f"unknown action {action!r}: exception=TEXT or message=TEXT")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sentry_sdk.init(
        dsn=sys.argv[1],
        release="shop@1.2.3",
        environment="test",
        server_name="e2e",
        debug=True,
        # What the SDK does without the brotli module, said outright: the tests count on
        # a gzip-compressed body.
        _experiments={"transport_compression_algo": "gzip"},
    )
    sentry_sdk.set_tag("checkout", "eu")
    sentry_sdk.set_user({"id": "42", "email": "ada@example.com"})
    for action in sys.argv[2:]:
        print(capture(action), flush=True)
    sentry_sdk.flush(timeout=10)


if __name__ == "__main__":
    main()
