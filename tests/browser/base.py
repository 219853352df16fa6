"""Browser tests: Playwright driving Debian's Chromium against a live portal and the sandbox.

Chromium comes from CHROMIUM_PATH (default /usr/bin/chromium); Playwright never downloads
a browser. Without Chromium these tests are skipped and say why.
"""

import os
import re
import tempfile
from pathlib import Path
from unittest import SkipTest

import pytest
from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings

from inventory.tests.base import PASSWORD, make_user
from inventory.tests.processes import PortalProcess, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# axe-core comes from npm (package.json at the root; `npm ci` installs it).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SCHEMES = ("light", "dark")


def _shared_cache_settings() -> override_settings:
    """The live portal and the task workers a journey starts must share a cache (totals,
    sync status): Redis when the suite runs on it, else files in a directory of this run."""
    if os.environ.get("CACHE_URL"):
        return override_settings()
    location = tempfile.mkdtemp(prefix="np-cache-")
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    return override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": location}})


@pytest.mark.browser
class BrowserTestCase(TrailTransactionTestCase, StaticLiveServerTestCase):
    """A live portal, a fresh sandbox account, and a Chromium page per test."""

    @classmethod
    def setUpClass(cls):
        if not Path(CHROMIUM).exists():
            raise SkipTest(
                f"No Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH"
            )
        # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
        # make between browser steps are ordinary synchronous ones.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        from playwright.sync_api import sync_playwright

        super().setUpClass()
        cls._shared_cache = _shared_cache_settings()
        cls._shared_cache.enable()
        cls.playwright = sync_playwright().start()
        try:
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        except Exception:
            # tearDownClass does not run after a failed setUpClass: a Playwright left
            # running would make every later browser test fail on its event loop.
            cls.playwright.stop()
            cls._shared_cache.disable()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        cls._shared_cache.disable()
        super().tearDownClass()

    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def setUp(self):
        self.context = self.browser.new_context(viewport=DESKTOP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.csp_violations = []
        self.page.on("console", self._watch_console)

    def tearDown(self):
        self.context.close()
        assert not self.csp_violations, f"Content-Security-Policy violations: {self.csp_violations}"

    def _watch_console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)

    # --- helpers ---

    def user(self, username, *groups, **flags):
        return make_user(username, *groups, **flags)

    def start_task_worker(self):
        """A real task worker on the test's database, for journeys that queue work."""
        location = settings.CACHES["default"].get("LOCATION", "")
        cache_url = os.environ.get("CACHE_URL") or f"filecache://{location}"
        environment = portal_environment(CACHE_URL=cache_url)
        worker = PortalProcess.manage("run_worker", "--interval", "0.2", env=environment)
        self.addCleanup(worker.stop)
        return worker

    def go(self, path: str):
        return self.page.goto(self.live_server_url + path)

    def log_in(self, username: str, password: str = PASSWORD):
        self.go("/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()

    def log_out(self):
        self.page.get_by_role("button", name=re.compile("^Log out")).click()
        self.page.wait_for_load_state()

    def screenshot(self, name: str, *, schemes=("light",)):
        """Full-page screenshots at desktop and phone widths, for people to look at."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for scheme in schemes:
            self.page.emulate_media(color_scheme=scheme)
            suffix = "" if scheme == "light" else "-dark"
            for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                self.page.set_viewport_size(viewport)
                path = SCREENSHOTS / f"{name}-{label}{suffix}.png"
                self.page.screenshot(path=path, full_page=True)
        self.page.emulate_media(color_scheme="light")
        self.page.set_viewport_size(DESKTOP)

    # --- what every page must do ---

    def sideways_overflow(self) -> int:
        """How many pixels the document is wider than the window (0: it never scrolls sideways)."""
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def axe_violations(self) -> list[str]:
        """axe-core's violations on the current page, one line each ("rule: where")."""
        if not AXE.exists():
            pytest.skip(f"axe-core is not installed ({AXE} is missing): run `npm ci` first")
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated by the test runner, not loaded by the page, so the page's CSP (which
            # refuses inline scripts, and is kept on in these tests) does not apply to it.
            self.page.evaluate(AXE.read_text() + "\n;undefined")
        results = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
        return list(results)

    def hidden_off_screen(self, selector: str) -> list[str]:
        """Elements matching `selector` that stand (partly) outside the window's width (those
        shown to screen readers only are not standing anywhere)."""
        return self.page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)]
                .filter(el => el.offsetParent !== null)
                // Kept for screen readers only (a chart's table): nobody sees it anywhere.
                .filter(el => !el.closest('.visually-hidden'))
                .filter(el => { const r = el.getBoundingClientRect();
                                return r.left < 0 || r.right > window.innerWidth + 0.5; })
                .map(el => el.outerHTML.slice(0, 120))""",
            selector,
        )
