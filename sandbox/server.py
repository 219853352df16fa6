"""Serving the sandbox over HTTP.

A threaded stdlib WSGI server runs a small WSGI application of the sandbox's own: each
request is routed by the sandbox's URLconf to its view, with none of the portal's
middleware, login, CSRF or session machinery. Each request runs in its own daemon thread:
a request held by a delay or timeout fault never blocks the others.
"""

import logging
import socket
import struct
import sys
import threading
from pathlib import Path
from socketserver import TCPServer, ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.urls import Resolver404, get_resolver

from .gateway import API_BASE, TOKEN_PATH
from .options import SandboxOptions
from .responses import DroppedConnection
from .simulator import ENVIRON_KEY, Simulator

__all__ = ["SandboxOptions", "SandboxServer"]

log = logging.getLogger("sandbox")

# Where the environ carries the client's socket, so a fault can reset that very connection.
SOCKET_KEY = "sandbox.socket"
_POLL_SECONDS = 0.1  # how quickly stop() is noticed


class SandboxApp:
    """The sandbox as a WSGI application: Django's request and response objects and the
    sandbox's URLconf, and nothing else of Django's request handling (so no 4xx is logged:
    refusals are the simulator's everyday business; an error in its own code is)."""

    def __init__(self, simulator: Simulator):
        self.simulator = simulator
        self.resolver = get_resolver("sandbox.urls")

    def __call__(self, environ, start_response):
        environ[ENVIRON_KEY] = self.simulator
        request = WSGIRequest(environ)
        response = self.respond(request)
        if isinstance(response, DroppedConnection):
            response.close()
            _drop(request.META.get(SOCKET_KEY), response.action)
            # wsgiref treats this as the client going away: it stops without writing a byte.
            raise ConnectionAbortedError("dropped on purpose by a sandbox fault")
        body = response.content
        # As the gateway does; without it, only the closing connection marks the body's end.
        response["Content-Length"] = str(len(body))
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [body]

    def respond(self, request: WSGIRequest) -> HttpResponse:
        try:
            match = self.resolver.resolve(request.path_info)
        except Resolver404:
            return JsonResponse({"error": "not found", "path": request.path}, status=404)
        try:
            return match.func(request, *match.args, **match.kwargs)
        except Exception:
            log.exception("The sandbox failed to answer %s %s", request.method, request.path)
            return HttpResponseServerError("sandbox error", content_type="text/plain")


def _drop(connection: socket.socket | None, action: str) -> None:
    if connection is None or action != "reset":
        return  # "close": the server's usual shutdown sends a FIN after no response at all
    # Linger on, with a zero timeout: closing now sends an RST instead of a FIN. The socket
    # really closes when the request handler lets go of its file objects, a moment later.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class _RequestHandler(WSGIRequestHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ[SOCKET_KEY] = self.connection
        return environ

    def log_message(self, format, *args):
        pass  # a stderr line per request would drown everything else


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request held by a "timeout" fault must not keep the process alive
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def handle_error(self, request, client_address):
        # A client hanging up mid-request is routine here; anything else is a bug to show.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _ThreadingServerV6(_ThreadingServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """The sandbox on a real socket. `port=0` picks a free port; see `base_url`."""

    def __init__(
        self,
        *,
        state_path: Path,
        options: SandboxOptions = SandboxOptions(),  # noqa: B008 - frozen, so safely shared
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.options = options
        self.state_path = Path(state_path)
        # Bind first: a port already in use must not leave a new state file behind.
        server_class = _ThreadingServerV6 if ":" in host else _ThreadingServer
        self._httpd = server_class((host, port), _RequestHandler)
        try:
            self.simulator = Simulator(self.state_path, options)
        except BaseException:
            self._httpd.server_close()
            raise
        self._httpd.set_app(SandboxApp(self.simulator))
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False
        self.port: int = self._httpd.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown_host}:{self.port}"
        self.api_url = self.base_url + API_BASE
        self.token_url = f"{self.base_url}{TOKEN_PATH}?grant_type=client_credentials"
        self.control_url = self.base_url + "/_sandbox"

    def start(self) -> "SandboxServer":
        """Serve in a daemon thread and return at once."""
        self._serving = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() is called from another thread, or an
        exception (KeyboardInterrupt) ends the loop."""
        self._serving = True
        self._httpd.serve_forever(poll_interval=_POLL_SECONDS)

    def stop(self) -> None:
        """Stop serving and close the state file. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._serving:
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join()
        self._httpd.server_close()
        self.simulator.close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
