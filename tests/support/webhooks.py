"""A webhook receiver the alert tests share: a real HTTP server on this machine that checks each
delivery's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.server import free_port

#: The secret the tests' webhook subscriptions share with the receiver.
SECRET = "receiver-shared-secret-0123456789"


class Receiver:
    """A webhook receiver on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[dict] = []
        self.bad_signatures = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers["X-Callscope-Timestamp"]
                want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(want, self.headers["X-Callscope-Signature"]):
                    outer.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                outer.got.append({"id": int(self.headers["X-Callscope-Delivery"]), "event": self.headers["X-Callscope-Event"],
                                  "payload": json.loads(body), "at": time.time()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"
