import time

INVALID = {
    "fault": {
        "faultstring": "Invalid Access Token",
        "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
    }
}
EXPIRED = {
    "fault": {
        "faultstring": "Access Token expired",
        "detail": {"errorcode": "keymanagement.service.access_token_expired"},
    }
}


def test_a_call_without_a_token_is_refused(sandbox):
    response = sandbox.get("/account/numbers", headers={})

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_made_up_token_is_refused(sandbox):
    response = sandbox.get("/number/search", {"country": "GB"}, headers=sandbox.bearer("made-up"))

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_token_sent_under_another_scheme_is_refused(sandbox):
    response = sandbox.get("/account/numbers", headers={"Authorization": f"Token {sandbox.token}"})

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_token_expired_by_the_control_surface_is_refused_as_expired(sandbox):
    token = sandbox.token
    assert sandbox.control("POST", "expire-tokens").json() == {"expired": 1}

    response = sandbox.get("/account/numbers", headers=sandbox.bearer(token))

    assert response.status_code == 401
    assert response.json() == EXPIRED


def test_a_token_expires_after_its_lifetime(sandbox):
    sandbox.reset(token_ttl=1)
    token = sandbox.token
    assert sandbox.get("/account/numbers", headers=sandbox.bearer(token)).status_code == 200

    time.sleep(1.1)
    response = sandbox.get("/account/numbers", headers=sandbox.bearer(token))

    assert response.json() == EXPIRED


def test_a_fresh_token_works_after_the_old_one_expired(sandbox):
    sandbox.control("POST", "expire-tokens")
    fresh = sandbox.fetch_token().json()["access_token"]

    assert sandbox.get("/account/numbers", headers=sandbox.bearer(fresh)).status_code == 200


def test_every_api_operation_needs_a_token(sandbox):
    for method, path in [
        ("GET", "/account/numbers"),
        ("GET", "/number/search"),
        ("POST", "/number/buy"),
        ("POST", "/number/cancel"),
        ("POST", "/number/update"),
    ]:
        call = sandbox.get if method == "GET" else sandbox.post
        assert call(path, headers={}).status_code == 401, path


def test_a_refused_call_does_not_reach_the_operation(sandbox):
    number = sandbox.available()

    response = sandbox.post(
        "/number/buy", {"country": "GB", "msisdn": number["msisdn"]}, headers={}
    )

    assert response.status_code == 401
    assert sandbox.state()["owned_count"] == 0


def test_a_reset_forgets_every_token(sandbox):
    token = sandbox.token
    sandbox.reset()

    assert sandbox.get("/account/numbers", headers=sandbox.bearer(token)).json() == INVALID
