"""NUL bytes and oversized values, on every form and filter: refused, never a 500 (on
PostgreSQL too, which cannot store a NUL and fails a lookup with one)."""

from django.test import override_settings

from inventory.forms import NOTES_MAX_LENGTH
from inventory.models import Action, Operation, OwnedNumber
from inventory.tests.base import PASSWORD, BaseTestCase
from inventory.tests.factories import owned_number

MSISDN = "447700900123"
HUGE = "9" * 10_000
ADMIN = "/admin/inventory/operation/"

# Every query-string filter, by page, and who may open the page.
FILTERS = {
    "/catalogue/": ["country", "type", "features", "match", "pattern", "size", "page"],
    "/catalogue/buy/": ["country", "type", "msisdn"],
    "/inventory/": ["country", "type", "features", "match", "pattern", "configured", "q",
                    "sort", "size", "page"],
    "/inventory/numbers.csv": ["country", "type", "features", "match", "pattern", "configured",
                               "q", "sort", "size", "page"],
    f"/numbers/{MSISDN}/": ["anything"],
    ADMIN: ["action__exact", "outcome__exact", "unsettled", "user", "country", "q",
            "created_at__year", "created_at__month", "created_at__day", "o", "p"],
    f"{ADMIN}export.csv": ["action__exact", "outcome__exact", "unsettled", "user", "country",
                           "q", "created_at__year", "created_at__month", "created_at__day"],
    "/login/": ["next"],
    "/healthz": ["anything"],
}  # fmt: skip
# Every form, by the URL it posts to.
FORMS = {
    "/login/": ["username", "password", "next"],
    "/logout/": ["next"],
    "/catalogue/buy/confirm/": ["offer"],
    "/inventory/sync/": ["anything"],
    f"/numbers/{MSISDN}/notes/": ["label", "team", "notes"],
    f"/numbers/{MSISDN}/configure/": ["moHttpUrl", "moSmppSysType", "voiceCallbackType",
                                      "voiceCallbackValue", "voiceStatusCallback"],
    f"/numbers/{MSISDN}/configure/confirm/": ["change"],
    f"/numbers/{MSISDN}/cancel/": ["typed", "token"],
}  # fmt: skip
NUL_VALUES = ["\x00", "GB\x00", "a" * 50 + "\x00" + "b" * 50]


class BadInputTestCase(BaseTestCase):
    def setUp(self):
        self.number = owned_number(MSISDN, label="Reception")

    def as_the_right_user(self, path: str):
        self.login(self.superuser if path.startswith("/admin/") else self.operator)

    def assert_nothing_changed(self):
        self.number.refresh_from_db()
        assert (self.number.label, self.number.notes) == ("Reception", "")
        assert self.sandbox.calls("POST /number/cancel") == 0
        assert self.sandbox.calls("POST /number/update") == 0
        changes = [Action.ANNOTATE, Action.CONFIGURE, Action.CANCEL, Action.PURCHASE]
        assert not Operation.objects.filter(action__in=changes).exists()

    # --- NUL ---

    def test_a_nul_in_any_filter_is_a_400(self):
        for path, fields in FILTERS.items():
            self.as_the_right_user(path)
            for field in fields:
                for value in NUL_VALUES:
                    response = self.client.get(path, {field: value})
                    assert response.status_code == 400, (path, field, value)
        self.assertContains(response, "That request could not be understood", status_code=400)

    def test_a_nul_in_any_form_field_is_a_400(self):
        for path, fields in FORMS.items():
            for field in fields:
                self.as_the_right_user(path)
                for value in NUL_VALUES:
                    response = self.client.post(path, {field: value})
                    assert response.status_code == 400, (path, field, value)
        self.assert_nothing_changed()
        assert not Operation.objects.filter(action=Action.LOGIN_FAILED).exists()

    def test_a_nul_in_a_field_name_is_a_400(self):
        self.login(self.operator)

        assert self.client.get("/inventory/", {"q\x00": "x"}).status_code == 400
        assert self.client.post(f"/numbers/{MSISDN}/notes/", {"x\x00": "1"}).status_code == 400

    def test_the_cancel_forms_token_with_a_nul_is_refused_before_anything_looks_it_up(self):
        self.login(self.operator)

        response = self.client.post(
            f"/numbers/{MSISDN}/cancel/", {"typed": MSISDN, "token": "abc\x00"}
        )

        assert response.status_code == 400
        assert OwnedNumber.objects.filter(msisdn=MSISDN).exists()
        assert self.sandbox.calls("POST /number/cancel") == 0

    def test_a_nul_in_the_address_or_a_header_is_a_400(self):
        self.login(self.operator)

        assert self.client.get("/numbers/%00/").status_code == 400
        assert self.client.get("/inventory/", headers={"User-Agent": "x\x00y"}).status_code == 400
        login = self.client.post(
            "/login/", {"username": "olivia", "password": "wrong"}, headers={"Accept": "\x00"}
        )
        assert login.status_code == 400

    # --- oversized ---

    def test_an_oversized_filter_is_a_400(self):
        for path, fields in FILTERS.items():
            self.as_the_right_user(path)
            for field in fields:
                response = self.client.get(path, {field: HUGE})
                assert response.status_code == 400, (path, field)

    def test_an_oversized_form_is_a_400(self):
        for path, fields in FORMS.items():
            self.as_the_right_user(path)
            for field in fields:
                response = self.client.post(path, {field: "x" * 100_000})
                assert response.status_code == 400, (path, field)
        self.assert_nothing_changed()

    def test_an_oversized_field_is_refused_by_its_form_and_nothing_is_recorded(self):
        for path, fields in FORMS.items():
            if path == "/inventory/sync/":  # reads no field: it would start a real sync
                continue
            for field in fields:
                self.as_the_right_user(path)
                response = self.client.post(path, {field: HUGE})
                assert response.status_code < 500, (path, field)
        self.assert_nothing_changed()

    def test_a_ten_thousand_character_username_is_a_failed_login(self):
        response = self.client.post("/login/", {"username": HUGE, "password": PASSWORD})

        self.assertContains(response, "didn't match")
        entry = Operation.objects.get(action=Action.LOGIN_FAILED)
        assert entry.actor_username == HUGE[:150]

    def test_notes_are_limited_and_an_over_long_note_leaves_no_entry(self):
        self.login(self.operator)
        path = f"/numbers/{MSISDN}/notes/"

        too_long = self.client.post(path, {"label": "L", "notes": "n" * (NOTES_MAX_LENGTH + 1)})
        self.number.refresh_from_db()
        assert (too_long.status_code, self.number.notes) == (400, "")  # shown again, typed
        assert not Operation.objects.filter(action=Action.ANNOTATE).exists()

        self.client.post(path, {"label": "L", "notes": "n" * NOTES_MAX_LENGTH})
        self.number.refresh_from_db()
        assert self.number.notes == "n" * NOTES_MAX_LENGTH
        assert Operation.objects.filter(action=Action.ANNOTATE).count() == 1

    def test_a_two_megabyte_note_is_a_400(self):
        self.login(self.operator)

        response = self.client.post(f"/numbers/{MSISDN}/notes/", {"notes": "n" * 2_000_000})

        assert response.status_code == 400
        self.assert_nothing_changed()

    # --- odd but clean values ---

    def test_the_audit_filters_take_any_clean_value_without_a_500(self):
        self.login(self.superuser)
        values = ["9999", "-1", "0", "13", "32", "abc", "%", "'", "🙂", "x" * 300, "1.5", " "]
        for field in FILTERS[ADMIN]:
            for value in values:
                for path in (ADMIN, f"{ADMIN}export.csv"):
                    response = self.client.get(path, {field: value})
                    assert response.status_code < 500, (path, field, value)

    def test_the_audit_date_drill_down_at_the_end_of_time_is_no_500(self):
        self.login(self.superuser)
        end = {"created_at__year": "9999", "created_at__month": "12", "created_at__day": "31"}

        for path in (ADMIN, f"{ADMIN}export.csv"):
            assert self.client.get(path, end).status_code < 500, path
            assert self.client.get(path, {**end, "created_at__day": ""}).status_code < 500

    @override_settings(MAX_QUERY_STRING_LENGTH=100)
    def test_the_query_string_limit_is_a_setting(self):
        self.login(self.operator)

        assert self.client.get("/inventory/", {"q": "x" * 80}).status_code == 200
        assert self.client.get("/inventory/", {"q": "x" * 120}).status_code == 400
