"""Logs: one structured line per request and per API call, each with the request id and the
user, as production writes them (settings.LOGGING's json formatter); never a token or secret."""

import copy
import io
import json
import logging
import logging.config
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from inventory.api_client import TOKEN_CACHE_KEY
from inventory.middleware import RequestIdFilter
from inventory.tests.base import BaseTestCase


def _handler(formatter_name: str, stream) -> logging.Handler:
    """The console handler of settings.LOGGING, with the given formatter, into `stream`."""
    config = copy.deepcopy(settings.LOGGING)
    configurator = logging.config.DictConfigurator(config)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"][formatter_name]))
    handler.addFilter(RequestIdFilter())
    return handler


@contextmanager
def captured_log(formatter_name: str):
    stream = io.StringIO()
    handler = _handler(formatter_name, stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


@contextmanager
def json_lines():
    """The JSON lines logged inside the block, parsed, in a list filled when it ends."""
    lines = []
    with captured_log("json") as stream:
        yield lines
    lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


class RequestLoggingTestCase(BaseTestCase):
    def test_each_request_writes_one_json_line_with_its_id_user_path_status_and_duration(self):
        self.login(self.viewer)
        with json_lines() as lines:
            response = self.client.get("/inventory/", {"q": "ignored"})

        [line] = [line for line in lines if line["logger"] == "inventory.requests"]
        assert line["request_id"] == response["X-Request-ID"]
        assert line["user"] == "victor"
        assert line["method"] == "GET"
        assert line["path"] == "/inventory/"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], int)
        assert line["level"] == "INFO"
        assert line["time"].endswith("+00:00")

    def test_each_api_call_writes_a_json_line_with_the_request_id_and_user(self):
        self.login(self.viewer)
        with json_lines() as lines:
            response = self.client.get("/catalogue/", {"country": "GB"})

        [line] = [line for line in lines if line.get("api_path") == "/number/search"]
        assert line["logger"] == "inventory.api"
        assert line["request_id"] == response["X-Request-ID"]
        assert line["user"] == "victor"
        assert line["api_method"] == "GET"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], int)
        token_lines = [line for line in lines if "token endpoint" in line["message"]]
        assert [line["request_id"] for line in token_lines] == [response["X-Request-ID"]]

    def test_no_line_holds_the_token_or_the_client_secret(self):
        self.login(self.operator)
        with captured_log("json") as json_stream, captured_log("plain") as plain_stream:
            self.client.get("/catalogue/", {"country": "GB"})
            self.client.get("/")

        token = cache.get(TOKEN_CACHE_KEY)
        assert token
        for text in (json_stream.getvalue(), plain_stream.getvalue()):
            assert token not in text
            assert settings.NUMBERS_API["CLIENT_SECRET"] not in text

    def test_a_visitor_who_is_not_logged_in_is_logged_as_a_dash(self):
        with json_lines() as lines:
            response = self.client.get("/inventory/")

        [line] = [line for line in lines if line["logger"] == "inventory.requests"]
        assert line["user"] == "-"
        assert line["status"] == response.status_code == 302

    def test_a_plain_request_id_from_the_proxy_is_kept_and_anything_else_replaced(self):
        kept = self.client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
        replaced = self.client.get("/healthz", headers={"X-Request-ID": "bad id\nwith=junk"})

        assert kept["X-Request-ID"] == "lb-1234abcd"
        assert len(replaced["X-Request-ID"]) == 32
        assert "junk" not in replaced["X-Request-ID"]

    def test_development_lines_are_plain_text_with_the_request_id_and_user(self):
        self.login(self.viewer)
        with captured_log("plain") as stream:
            response = self.client.get("/inventory/")

        [line] = [line for line in stream.getvalue().splitlines() if "inventory.requests" in line]
        rid = response["X-Request-ID"]
        assert f"INFO inventory.requests [{rid} victor] GET /inventory/ -> 200 in " in line
