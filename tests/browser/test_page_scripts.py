"""The portal's own small scripts in a real browser: busy buttons while the API is slow,
the country picker answering typing, and live progress of a task."""

import json
import re

from playwright.sync_api import expect

from tests.browser.base import BrowserTestCase

CLICK_AND_LOOK = """() => {
    const button = document.querySelector("[data-testid=confirm-purchase]");
    button.click();
    const state = {disabled: button.disabled, busy: button.getAttribute("aria-busy"),
                   text: button.textContent, resent: false};
    // A second submit of the same form (Enter pressed again, a script) is not sent.
    document.addEventListener("submit", (e) => { state.resent = !e.defaultPrevented; });
    button.form.requestSubmit();
    return state;
}"""


class BusyButtons(BrowserTestCase):
    def test_with_the_buy_call_delayed_the_button_is_busy_at_once_and_buys_once(self):
        self.user("olivia", "Operator")
        self.log_in("olivia")
        self.go("/catalogue/?country=GB&type=mobile-lvn")
        self.page.locator("[data-testid^=buy-]").first.click()
        button = self.page.get_by_test_id("confirm-purchase")
        expect(button).to_be_enabled()
        self.sandbox.fault("POST /number/buy", "delay", delay=4)

        # Clicked, and read back in the same turn of the page's event loop: what the person
        # sees the moment they click, before the answer (or even the request) has gone out.
        state = self.page.evaluate(CLICK_AND_LOOK)

        assert state == {"disabled": True, "busy": "true", "text": "Buying…", "resent": False}
        expect(self.page.get_by_test_id("operation")).to_be_visible(timeout=20_000)
        assert self.sandbox.calls("POST /number/buy") == 1

    def test_every_form_that_calls_the_api_says_what_it_is_doing(self):
        from inventory.tests.factories import owned_number

        number = owned_number("447700900123")
        self.user("olivia", "Operator")
        self.log_in("olivia")
        for path, label in [
            (f"/numbers/{number.msisdn}/cancel/", "Cancelling…"),
            ("/inventory/", "Queueing the sync…"),
        ]:
            self.go(path)
            expect(self.page.locator(f"button[data-busy-label='{label}']")).to_have_count(1)


class CountryPicker(BrowserTestCase):
    def test_typing_neth_chooses_the_netherlands(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        self.go("/catalogue/")
        picker = self.page.get_by_label("Country")

        picker.focus()
        self.page.keyboard.type("Neth")

        expect(picker).to_have_value("NL")
        expect(picker.locator("option:checked")).to_have_text("Netherlands (NL)")

    def test_countries_searched_lately_come_first_and_are_marked_when_on_sale(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        self.go("/catalogue/?country=DE&type=landline")
        self.go("/catalogue/")

        recent = self.page.locator("optgroup[label='Searched lately'] option")
        expect(recent).to_have_count(1)
        expect(recent.first).to_have_text(re.compile(r"^Germany \(DE\) — "))


class LiveProgress(BrowserTestCase):
    """static/js/poll.js against the shape of the task-status endpoints; the test serves a
    small page and the answers itself (on the portal's own origin, its CSP in force)."""

    def serve(self, answers: list[dict]):
        page_url = self.live_server_url + "/_tests/progress/"
        status_url = self.live_server_url + "/_tests/progress/status"
        html = f"""<!doctype html><html lang="en"><head><title>Progress</title>
            <link rel="stylesheet" href="/static/css/portal.css"></head><body><main>
            <div class="task-progress" data-poll-url="{status_url}" data-poll-interval="50">
              <progress max="1" aria-label="Progress"></progress>
              <p data-poll-message aria-live="polite">Waiting for the task…</p>
            </div></main><script src="/static/js/poll.js"></script></body></html>"""
        headers = {
            "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
            "style-src 'self'; connect-src 'self'"
        }
        remaining = list(answers)

        def status(route):
            answer = remaining.pop(0) if len(remaining) > 1 else remaining[0]
            route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

        self.page.route(
            page_url,
            lambda route: route.fulfill(
                status=200, content_type="text/html", body=html, headers=headers
            ),
        )
        self.page.route(status_url, status)
        done = "<title>Done</title><h1>Done</h1>"
        self.page.route(
            self.live_server_url + "/_tests/done/",
            lambda route: route.fulfill(status=200, content_type="text/html", body=done),
        )
        return page_url

    def test_the_bar_and_message_follow_the_task_until_done_then_the_page_moves_on(self):
        url = self.serve(
            [
                {"state": "queued", "progress": 0, "message": "Queued"},
                {"state": "running", "progress": 0.5, "message": "Half way: 20 of 40 numbers"},
                {"state": "done", "progress": 1, "message": "Done", "done_url": "/_tests/done/"},
            ]
        )
        self.page.goto(url)
        expect(self.page).to_have_url(re.compile("/_tests/done/$"))

    def test_it_shows_running_progress_and_stops_on_failure(self):
        url = self.serve(
            [
                {"state": "running", "progress": 0.25, "message": "A quarter"},
                {
                    "state": "failed",
                    "progress": 0.25,
                    "message": "The sync stopped: the API is down.",
                },
            ]
        )
        self.page.goto(url)
        box = self.page.locator(".task-progress")
        expect(box).to_have_attribute("data-state", "failed")
        expect(box.locator("[data-poll-message]")).to_have_text(
            "The sync stopped: the API is down."
        )
        assert self.page.locator("progress").evaluate("bar => bar.value") == 0.25

    def test_a_done_url_on_another_site_is_not_followed(self):
        url = self.serve(
            [
                {
                    "state": "done",
                    "progress": 1,
                    "message": "Done",
                    "done_url": "https://elsewhere.example/",
                }
            ]
        )
        self.page.goto(url)
        expect(self.page.locator(".task-progress")).to_have_attribute("data-state", "done")
        assert self.page.url == url
