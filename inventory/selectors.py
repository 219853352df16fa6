"""Reads: what the pages show. Selectors read models and the cache; they never call the API
for data (the one exception, `api_connection`, asks the client whether a token can be had)."""

from dataclasses import dataclass

from inventory.api_client import ApiConfig, NumbersApiClient, Quota


@dataclass(frozen=True)
class ApiConnection:
    base_url: str
    token_ok: bool
    quotas: dict[str, Quota]


def api_connection(*, client: NumbersApiClient | None = None) -> ApiConnection:
    client = client or NumbersApiClient.from_settings()
    return ApiConnection(
        base_url=ApiConfig.from_settings().base_url,
        token_ok=client.check_token(),
        quotas=client.last_quotas(),
    )
