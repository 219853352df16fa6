import pytest

SUCCESS = {"error-code": "200", "error-code-label": "success"}
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


@pytest.fixture
def owned(sandbox) -> dict:
    number = sandbox.available("GB", "mobile-lvn")
    assert sandbox.buy(number).status_code == 200
    return number


def update(sandbox, number: dict, **fields):
    return sandbox.post(
        "/number/update", {"country": number["country"], "msisdn": number["msisdn"], **fields}
    )


def config_of(sandbox, number: dict) -> dict:
    shown = sandbox.owned_number(number["msisdn"])
    facts = ("country", "msisdn", "type", "features", "limitations", "cost")
    return {k: v for k, v in shown.items() if k not in facts}


def test_it_sets_the_fields_it_is_given(sandbox, owned):
    response = update(
        sandbox,
        owned,
        moHttpUrl="https://example.com/inbound",
        moSmppSysType="inbound",
        voiceCallbackType="sip",
        voiceCallbackValue="sip:desk@pbx.example.com",
        voiceStatusCallback="https://example.com/status",
        app_id=APP_ID,
    )

    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert config_of(sandbox, owned) == {
        "moHttpUrl": "https://example.com/inbound",
        "moSmppSysType": "inbound",
        "voiceCallbackType": "sip",
        "voiceCallbackValue": "sip:desk@pbx.example.com",
        "voiceStatusCallback": "https://example.com/status",
        "app_id": APP_ID,
    }


def test_the_owned_list_shows_the_new_configuration(sandbox, owned):
    update(sandbox, owned, voiceCallbackType="tel", voiceCallbackValue="31201234567")

    [shown] = sandbox.owned_page()["numbers"]

    assert shown["voiceCallbackType"] == "tel"
    assert shown["voiceCallbackValue"] == "31201234567"
    assert "moHttpUrl" not in shown


def test_the_owned_list_never_shows_the_write_only_settings(sandbox, owned):
    update(
        sandbox,
        owned,
        moHttpUrl="https://example.com/inbound",
        moSmppSysType="inbound",
        voiceStatusCallback="https://example.com/status",
    )

    [shown] = sandbox.owned_page()["numbers"]

    assert shown["moHttpUrl"] == "https://example.com/inbound"
    assert "moSmppSysType" not in shown
    assert "voiceStatusCallback" not in shown
    # The control surface shows what the sandbox keeps, so tests can check what was sent.
    assert config_of(sandbox, owned)["voiceStatusCallback"] == "https://example.com/status"


def test_fields_left_out_keep_their_value(sandbox, owned):
    update(sandbox, owned, moHttpUrl="https://example.com/inbound")

    update(sandbox, owned, voiceStatusCallback="https://example.com/status")

    assert config_of(sandbox, owned) == {
        "moHttpUrl": "https://example.com/inbound",
        "voiceStatusCallback": "https://example.com/status",
    }


def test_an_empty_value_clears_the_field(sandbox, owned):
    update(sandbox, owned, moHttpUrl="https://example.com/inbound", app_id=APP_ID)

    assert update(sandbox, owned, moHttpUrl="").status_code == 200

    assert config_of(sandbox, owned) == {"app_id": APP_ID}


def test_empty_voice_type_and_value_clear_both(sandbox, owned):
    update(sandbox, owned, voiceCallbackType="app", voiceCallbackValue=APP_ID)

    update(sandbox, owned, voiceCallbackType="", voiceCallbackValue="")

    assert config_of(sandbox, owned) == {}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"voiceCallbackType": "tel"}, "voiceCallbackValue"),
        ({"voiceCallbackValue": "447700900123"}, "voiceCallbackType"),
        ({"voiceCallbackType": "tel", "voiceCallbackValue": ""}, "voiceCallbackValue"),
        ({"voiceCallbackType": "", "voiceCallbackValue": "447700900123"}, "voiceCallbackType"),
        ({"voiceCallbackType": "vxml", "voiceCallbackValue": "x"}, "voiceCallbackType"),
        ({"voiceCallbackType": "tel", "voiceCallbackValue": "+447700900123"}, "voiceCallbackValue"),
        ({"voiceCallbackType": "tel", "voiceCallbackValue": "sip:a@b.c"}, "voiceCallbackValue"),
        ({"voiceCallbackType": "sip", "voiceCallbackValue": "447700900123"}, "voiceCallbackValue"),
        ({"voiceCallbackType": "sip", "voiceCallbackValue": "sip:"}, "voiceCallbackValue"),
        ({"voiceCallbackType": "app", "voiceCallbackValue": "my-app"}, "voiceCallbackValue"),
        ({"moHttpUrl": "not a url"}, "moHttpUrl"),
        ({"moHttpUrl": "ftp://example.com/inbound"}, "moHttpUrl"),
        ({"voiceStatusCallback": "example.com/status"}, "voiceStatusCallback"),
        ({"app_id": "12345"}, "app_id"),
    ],
)
def test_invalid_values_get_a_400_naming_the_field(sandbox, owned, fields, field):
    response = update(sandbox, owned, **fields)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert config_of(sandbox, owned) == {}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("sip", "sip:desk@pbx.example.com"),
        ("sip", "sips:desk@pbx.example.com:5061"),
        ("tel", "14155550100"),
        ("app", APP_ID),
    ],
)
def test_valid_voice_callbacks_are_accepted(sandbox, owned, kind, value):
    assert (
        update(sandbox, owned, voiceCallbackType=kind, voiceCallbackValue=value).status_code == 200
    )


def test_country_and_msisdn_are_required(sandbox, owned):
    response = sandbox.post("/number/update", {"moHttpUrl": "https://example.com/inbound"})

    assert response.status_code == 400
    assert set(response.json()) == {"country", "msisdn"}


@pytest.mark.parametrize("field", ["moHttpUrl", "voiceStatusCallback"])
def test_a_callback_that_does_not_answer_200_fails_with_420(sandbox, owned, field):
    response = update(sandbox, owned, **{field: "https://hooks.example.invalid/inbound"})

    assert response.status_code == 420
    body = response.json()
    assert body["error-code"] == "420"
    assert field in body["error-code-label"]
    assert "200" in body["error-code-label"]
    assert config_of(sandbox, owned) == {}


def test_a_failed_callback_check_changes_nothing_else(sandbox, owned):
    update(sandbox, owned, moHttpUrl="https://hooks.invalid/inbound", app_id=APP_ID)

    assert config_of(sandbox, owned) == {}


def test_updating_a_number_not_owned_fails_with_420(sandbox):
    number = sandbox.available()

    response = update(sandbox, number, moHttpUrl="https://example.com/inbound")

    assert response.status_code == 420
    assert response.json() == {"error-code": "420", "error-code-label": "method failed"}


def test_updating_under_the_wrong_country_fails_with_420(sandbox, owned):
    response = sandbox.post(
        "/number/update",
        {"country": "FR", "msisdn": owned["msisdn"], "moHttpUrl": "https://example.com/x"},
    )

    assert response.status_code == 420
    assert config_of(sandbox, owned) == {}


def test_a_json_body_is_not_accepted(sandbox, owned):
    response = sandbox.post(
        "/number/update",
        json={
            "country": owned["country"],
            "msisdn": owned["msisdn"],
            "moHttpUrl": "https://example.com/x",
        },
    )

    assert response.status_code == 400
    assert config_of(sandbox, owned) == {}
