"""An SMTP server for the end-to-end tests: aiosmtpd with a handler that spools what it
accepts and can defer, refuse or slow down deliveries.

    server.py --port 2525 --spool DIR [--defer-first N] [--reject] [--delay-ms N]
              [--reply-delay-ms N] [--exit-on-eof]

Every accepted message becomes DIR/<n>.eml (the bytes as received) and one line of
DIR/received.jsonl (with `received_at`, the time its DATA was accepted in seconds since
the Unix epoch); every refused one a line of DIR/refused.jsonl. A file is complete
once its line is there: the .eml is written under a temporary name and renamed first.
Numbering goes on from the .eml files already in DIR, so a restarted server on the same
spool never reuses a number. Prints `ready <port>` once listening.

Run it with the python that scripts/install-aiosmtpd prints.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

from aiosmtpd.smtp import SMTP

ACCEPTED = "250 2.0.0 Ok: queued as"
DEFERRED = "451 4.3.0 try again later"
REJECTED = "550 5.1.1 no such mailbox"
# A line break before a space or tab continues a header (RFC 5322 folding).
FOLD = re.compile(r"\r?\n(?=[ \t])")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True, help="folder for what is received")
    parser.add_argument(
        "--defer-first",
        type=int,
        default=0,
        metavar="N",
        help="answer 451 to the first N DATA commands",
    )
    parser.add_argument("--reject", action="store_true", help="answer 550 to every DATA")
    parser.add_argument(
        "--delay-ms", type=int, default=0, metavar="N", help="wait before answering DATA"
    )
    parser.add_argument(
        "--reply-delay-ms",
        type=int,
        default=0,
        metavar="N",
        help="wait between keeping an accepted message and answering 250, as a server "
        "whose reply is slow to arrive: a client that dies meanwhile never learns of it",
    )
    parser.add_argument(
        "--exit-on-eof",
        action="store_true",
        help="exit when standard input closes, as it does when the parent dies",
    )
    return parser.parse_args()


def last_number(spool):
    numbers = (name[: -len(".eml")] for name in os.listdir(spool) if name.endswith(".eml"))
    return max((int(n) for n in numbers if n.isdigit()), default=0)


class Spool:
    """The handler. Between the optional delays it never awaits, so numbering and writing
    a message happen in one step of the event loop and need no lock."""

    def __init__(self, spool, defer_first, reject, delay_ms, reply_delay_ms):
        self.spool = spool
        self.defers_left = defer_first
        self.reject = reject
        self.delay = delay_ms / 1000
        self.reply_delay = reply_delay_ms / 1000
        self.n = last_number(spool)
        # Opened once: a line per message is one write and a flush.
        self.received = open(os.path.join(spool, "received.jsonl"), "a", encoding="utf-8")
        self.refused = open(os.path.join(spool, "refused.jsonl"), "a", encoding="utf-8")
        # Headers only, in the legacy policy: the modern one costs ten times as much.
        self.headers = BytesHeaderParser(policy=compat32)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.defers_left > 0:
            self.defers_left -= 1
            return self.refuse(envelope, DEFERRED)
        if self.reject:
            return self.refuse(envelope, REJECTED)
        self.n += 1
        n = self.n
        self.store(envelope)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return f"{ACCEPTED} {n}"

    def store(self, envelope):
        received_at = time.time()
        path = os.path.join(self.spool, f"{self.n}.eml")
        with open(path + ".tmp", "wb") as out:
            out.write(envelope.original_content)
        os.replace(path + ".tmp", path)
        record = {"n": self.n, "received_at": received_at, **self.describe(envelope)}
        self.append(self.received, record)

    def refuse(self, envelope, reply):
        code = int(reply[:3])
        self.append(self.refused, {"code": code, "reply": reply, **self.describe(envelope)})
        return reply

    def describe(self, envelope):
        headers = self.headers.parsebytes(envelope.original_content)
        return {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": header(headers, "Message-ID"),
            "subject": header(headers, "Subject"),
        }

    @staticmethod
    def append(file, record):
        file.write(json.dumps(record) + "\n")
        file.flush()


def header(headers, name):
    """The header's text, unfolded and with RFC 2047 encoded words decoded (as sent when
    they do not decode: a test server reports, it does not judge)."""
    value = headers.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = FOLD.sub("", value)
    try:
        return str(make_header(decode_header(value))).strip()
    except (HeaderParseError, LookupError, UnicodeError):
        return str(value).strip()


async def serve(args):
    os.makedirs(args.spool, exist_ok=True)
    handler = Spool(args.spool, args.defer_first, args.reject, args.delay_ms, args.reply_delay_ms)
    loop = asyncio.get_running_loop()
    # A fixed hostname: the default resolves the machine's FQDN on every connection.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", enable_SMTPUTF8=True),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watch = asyncio.create_task(stop_at_eof(stop)) if args.exit_on_eof else None
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    await stop.wait()
    if watch:
        watch.cancel()
    server.close()
    await server.wait_closed()


async def stop_at_eof(stop):
    """Sets `stop` once standard input closes: a test process that dies without stopping
    its server (killed at a timeout) takes the server with it."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass
    stop.set()


def main():
    args = parse_args()
    if min(args.defer_first, args.delay_ms, args.reply_delay_ms) < 0:
        sys.exit("--defer-first, --delay-ms and --reply-delay-ms take numbers >= 0")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
