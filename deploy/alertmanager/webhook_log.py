"""The webhook Alertmanager notifies: writes each notification it receives as one JSON
line to stdout (and to a file when ALERT_LOG names one), answers 200, and keeps nothing
else. A stand-in for the team's chat or pager: where an operator reads what fired.

Usage: python3 webhook_log.py HOST PORT
"""

import http.server
import json
import os
import sys


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            line = json.dumps(json.loads(body), separators=(",", ":"))
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        print(line, flush=True)
        path = os.environ.get("ALERT_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        # The notifications themselves are the log; request lines would only interleave.
        pass


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    http.server.ThreadingHTTPServer((host, port), Receiver).serve_forever()
