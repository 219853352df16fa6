"""Locust users for the benchmark. `bench.loadgen` runs locust on this file, one user class at
a time; everything a run needs comes from the environment:

    BENCH_OUT            where the raw samples and notes are written (JSON) when locust quits
    BENCH_USERNAME/PASSWORD  the portal login each simulated user signs in with
    BENCH_PATHS          PageUser: JSON object, page kind -> [portal path, text the page
                         must contain], requested round robin (each request is named by
                         its kind)
    BENCH_SANDBOX        CatalogueUser, BurstUser: the sandbox's base URL
    BENCH_QUERIES        CatalogueUser: JSON list of catalogue query strings
    BENCH_USERS          BurstUser: how many users take part in the burst
    BENCH_BURST_SEARCHES BurstUser: new searches each user makes per burst

Every request is recorded with its own start time and duration (locust's `request` event), so
the bench computes exact percentiles and the throughput over the measured requests only, not
over logins or start-up.
"""

import json
import os
import re
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser

SAMPLES: list[dict] = []
NOTES: dict = {}
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CONTROL_STATE = "/_sandbox/state?numbers=0"
SEARCH_PATH = "/communication/nexmo/phone-numbers/number/search"
TOKEN_PATH = "/oauth/client_credential/accesstoken?grant_type=client_credentials"  # noqa: S105


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **kwargs):
    SAMPLES.append(
        {
            "name": name,
            "start": kwargs.get("start_time"),
            "ms": response_time,
            "ok": exception is None,
            "error": "" if exception is None else str(exception)[:200],
            "bytes": response_length,
        }
    )


@events.quitting.add_listener
def _dump(environment, **kwargs):
    with open(os.environ["BENCH_OUT"], "w", encoding="utf-8") as out:
        json.dump({"samples": SAMPLES, "notes": NOTES}, out)


def _env_json(name: str, default=None):
    value = os.environ.get(name)
    return json.loads(value) if value else default


class PortalUser(FastHttpUser):
    """Signs in through the real login form (CSRF token and all) before its first task."""

    abstract = True
    wait_time = constant(0)

    def on_start(self):
        page = self.client.get("/login/", name="login-form")
        found = _CSRF.search(page.content or b"")
        if not found:
            raise StopUser("no CSRF token on the login page")
        # No redirect: the home page behind it would fetch an API token, and the burst
        # below must start with none.
        answer = self.client.post(
            "/login/",
            data={
                "username": os.environ["BENCH_USERNAME"],
                "password": os.environ["BENCH_PASSWORD"],
                "csrfmiddlewaretoken": found.group(1).decode(),
                "next": "/inventory/",
            },
            allow_redirects=False,
            name="login",
        )
        if answer.status_code != 302:
            raise StopUser(f"login refused (HTTP {answer.status_code})")

    def page(
        self, path: str, *, name: str, marker: bytes, refusal: bytes = b"", headers=None
    ) -> bool:
        """GET a portal page; it counts as failed unless it is the page asked for."""
        with self.client.get(path, name=name, catch_response=True, headers=headers) as response:
            body = response.content or b""
            if response.status_code != 200 or marker not in body:
                response.failure(f"HTTP {response.status_code}, not the expected page")
                return False
            if refusal and refusal in body:
                response.failure("the page shows an error")
                return False
            return True


class PageUser(PortalUser):
    """Portal pages, round robin over BENCH_PATHS, as fast as the portal answers. Taking
    the kinds in turn means whatever else the machine does hits them all alike."""

    serial = 0

    def on_start(self):
        super().on_start()
        self.paths = list(_env_json("BENCH_PATHS").items())
        self.turn = 0
        PageUser.serial += 1
        # The portal keeps a plain request id it is sent, and gunicorn's access line shows it
        # with the server's own time for the request: the bench reads those back.
        self.request_id = f"bench.{os.environ.get('BENCH_TAG', 'run')}.{{kind}}.{PageUser.serial}"

    @task
    def portal_page(self):
        kind, (path, marker) = self.paths[self.turn % len(self.paths)]
        self.turn += 1
        self.page(
            path,
            name=kind,
            marker=marker.encode(),
            headers={"X-Request-ID": f"{self.request_id.format(kind=kind)}.{self.turn}"},
        )


class _Sequence(PortalUser):
    """A user that runs a fixed script once; locust quits when every such user is done."""

    abstract = True
    finished = 0

    def control_calls(self) -> dict:
        """The sandbox's call counters (its control surface is neither counted nor limited)."""
        response = self.sandbox.get(CONTROL_STATE, name="control")
        return response.json()["calls"]

    def on_start(self):
        super().on_start()
        self.sandbox = FastHttpSession(
            os.environ["BENCH_SANDBOX"], request_event=self.environment.events.request, user=self
        )

    @task
    def script(self):
        try:
            self.run_script()
        finally:
            _Sequence.finished += 1
            if _Sequence.finished >= int(os.environ.get("BENCH_USERS", "1")):
                self.environment.runner.quit()
        raise StopUser()

    def run_script(self):
        raise NotImplementedError


def _delta(after: dict, before: dict, operation: str) -> int:
    return after.get(operation, 0) - before.get(operation, 0)


class CatalogueUser(_Sequence):
    """One user: times the sandbox's own answer to each query (with a token of its own), then
    the portal's first search for it, then the portal's repeat, counting the API calls."""

    def run_script(self):
        queries = _env_json("BENCH_QUERIES")
        token = self.sandbox.post(
            TOKEN_PATH,
            data={
                "client_id": os.environ["BENCH_CLIENT_ID"],
                "client_secret": os.environ["BENCH_CLIENT_SECRET"],
            },
            name="direct-token",
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        results, refusal = b'id="results-heading"', b'data-testid="search-error"'
        markers = {"new": results, "repeat": b"from the last minute"}
        # Warm-up: the portal's token and both workers' first-request costs are not measured.
        for _ in range(4):
            self.page("/catalogue/?" + queries[0]["warm"], name="warm", marker=b"<form")
        phases = {}
        for phase in ("direct", "new", "repeat"):
            before = self.control_calls()
            for number, query in enumerate(queries):
                if phase == "direct":
                    self.sandbox.get(SEARCH_PATH + "?" + query["api"], headers=bearer, name=phase)
                else:
                    # The request id ties gunicorn's time for the page to the portal's own
                    # log line for the API call it made (see bench.loadgen.request_overheads).
                    self.page(
                        "/catalogue/?" + query["portal"],
                        name=phase,
                        marker=markers[phase],
                        refusal=refusal,
                        headers={"X-Request-ID": f"bench.catalogue.{phase}.{number}"},
                    )
            after = self.control_calls()
            phases[phase] = {
                "searches": len(queries),
                "api_calls": _delta(after, before, "GET /number/search"),
                "token_calls": _delta(after, before, "POST /oauth/client_credential/accesstoken"),
            }
        NOTES["phases"] = phases


class _Burst:
    """What the burst users share: a barrier, and the coordinator's counts."""

    ready = 0
    go = (Event(), Event())
    done = [0, 0]
    all_done = (Event(), Event())


class BurstUser(_Sequence):
    """Many users sign in, wait until all have, then all search at once, twice: with no token
    in the shared cache, and again after the sandbox expired every token it issued."""

    def run_script(self):
        users = int(os.environ["BENCH_USERS"])
        searches = int(os.environ["BENCH_BURST_SEARCHES"])
        me = _Burst.ready
        _Burst.ready += 1
        NOTES.setdefault("bursts", [{}, {}])
        for burst in (0, 1):
            if me == 0:  # the coordinator
                if burst == 0:
                    while _Burst.ready < users:
                        gevent.sleep(0.01)
                else:
                    _Burst.all_done[0].wait()
                    self.sandbox.post("/_sandbox/expire-tokens", name="control")
                before = self.control_calls()
                NOTES["bursts"][burst]["started"] = time.time()
                _Burst.go[burst].set()
            _Burst.go[burst].wait()
            for n in range(searches):
                digits = f"{(burst * users + me) * searches + n:04d}"
                self.page(
                    f"/catalogue/?country=GB&type=mobile-lvn&pattern={digits}&match=contains",
                    name=f"burst-{burst}",
                    marker=b'id="results-heading"',
                    refusal=b'data-testid="search-error"',
                )
            _Burst.done[burst] += 1
            if _Burst.done[burst] == users:
                _Burst.all_done[burst].set()
            if me == 0:
                _Burst.all_done[burst].wait()
                after = self.control_calls()
                NOTES["bursts"][burst].update(
                    finished=time.time(),
                    token_calls=_delta(after, before, "POST /oauth/client_credential/accesstoken"),
                    api_calls=_delta(after, before, "GET /number/search"),
                    searches=users * searches,
                )
