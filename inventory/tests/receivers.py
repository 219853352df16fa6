"""Real receivers of notifications for tests, on loopback: an SMTP server (aiosmtpd) and an
HTTP server that checks each webhook's signature as a receiver would."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from inventory.tests.processes import free_port


class SmtpServer:
    """A real SMTP server in a thread; `messages` are the parsed emails it received."""

    def __init__(self):
        self.messages: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@dataclass
class Received:
    body: dict
    headers: dict
    signature_ok: bool


@dataclass
class WebhookReceiver:
    """An HTTP server in a thread that verifies X-Portal-Signature with `secret` (as the
    README tells receivers to) and answers `status`."""

    secret: str
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Portal-Timestamp", "")
                expected = hmac.new(
                    receiver.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
                ).hexdigest()
                given = self.headers.get("X-Portal-Signature", "")
                receiver.received.append(
                    Received(
                        body=json.loads(body),
                        headers=dict(self.headers),
                        signature_ok=hmac.compare_digest(given, f"sha256={expected}"),
                    )
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def dead_url() -> str:
    """An address on loopback where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
