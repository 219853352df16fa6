import base64
import time
from urllib.parse import quote_plus

import requests

from .helpers import CREDENTIALS, TIMEOUT

TOKEN_FIELDS = {
    # What KPN adds to Apigee's answer: the app's products, organisation, developer, level.
    "api_product_list",
    "organization_name",
    "developer_email",
    "level",
    "refresh_token",
    "refresh_count",
    "access_token",
    "token_type",
    "expires_in",
    "issued_at",
    "client_id",
    "application_name",
    "scope",
    "refresh_token_expires_in",
    "status",
}


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def test_it_issues_a_token_for_credentials_in_the_form_body(sandbox):
    response = sandbox.fetch_token()

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == TOKEN_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["client_id"] == CREDENTIALS["client_id"]
    assert body["status"] == "approved"
    assert body["scope"] == ""
    assert body["refresh_token_expires_in"] == "0"


def test_every_value_in_the_token_response_is_a_string(sandbox):
    body = sandbox.fetch_token().json()

    assert all(isinstance(value, str) for value in body.values())
    assert body["expires_in"] == "3599"
    assert abs(int(body["issued_at"]) - time.time() * 1000) < 60_000


def test_it_accepts_http_basic_credentials(sandbox):
    response = requests.post(sandbox.token_url, headers=basic(**CREDENTIALS), timeout=TIMEOUT)

    assert response.status_code == 200
    assert (
        sandbox.get(
            "/account/numbers", headers=sandbox.bearer(response.json()["access_token"])
        ).status_code
        == 200
    )


def test_it_accepts_the_grant_type_in_the_body_too(sandbox):
    url = sandbox.base_url + "/oauth/client_credential/accesstoken"
    response = requests.post(
        url, data={**CREDENTIALS, "grant_type": "client_credentials"}, timeout=TIMEOUT
    )

    assert response.status_code == 200


def test_each_token_is_new_and_unguessable(sandbox):
    tokens = {sandbox.fetch_token().json()["access_token"] for _ in range(5)}

    assert len(tokens) == 5
    assert all(len(token) >= 24 for token in tokens)


def test_it_refuses_a_wrong_secret(sandbox):
    response = sandbox.fetch_token(client_id=CREDENTIALS["client_id"], client_secret="guess")

    assert response.status_code == 401
    assert response.json()["ErrorCode"] == "invalid_client"
    assert response.json()["Error"]


def test_it_refuses_an_unknown_client_over_basic(sandbox):
    response = requests.post(
        sandbox.token_url, headers=basic("someone", CREDENTIALS["client_secret"]), timeout=TIMEOUT
    )

    assert response.status_code == 401
    assert response.json()["ErrorCode"] == "invalid_client"


def test_it_refuses_a_request_without_credentials(sandbox):
    response = requests.post(sandbox.token_url, timeout=TIMEOUT)

    assert response.status_code == 401


def test_it_refuses_a_missing_grant_type(sandbox):
    url = sandbox.base_url + "/oauth/client_credential/accesstoken"
    response = requests.post(url, data=CREDENTIALS, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["ErrorCode"] == "invalid_request"


def test_it_refuses_an_unsupported_grant_type(sandbox):
    url = sandbox.base_url + "/oauth/client_credential/accesstoken?grant_type=password"
    response = requests.post(url, data=CREDENTIALS, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["ErrorCode"] == "unsupported_grant_type"


def test_it_only_answers_post(sandbox):
    response = requests.get(sandbox.token_url, timeout=TIMEOUT)

    assert response.status_code == 405


def test_the_token_lifetime_follows_the_options(sandbox):
    sandbox.reset(token_ttl=120)

    assert sandbox.fetch_token().json()["expires_in"] == "120"


def test_a_refused_token_request_is_still_counted(sandbox):
    sandbox.fetch_token(client_id=CREDENTIALS["client_id"], client_secret="guess")

    assert sandbox.state()["calls"]["POST /oauth/client_credential/accesstoken"] == 1
