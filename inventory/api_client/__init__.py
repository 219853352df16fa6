"""The one way the portal talks to the Phone Numbers API: `NumbersApiClient` (see client.py
for how it behaves), the results it returns and the errors it raises."""

from inventory.api_client.client import (
    QUOTA_CALLS,
    TOKEN_CACHE_KEY,
    NumbersApiClient,
    default_client,
)
from inventory.api_client.errors import (
    ApiBadResponse,
    ApiCredentialsRejected,
    ApiError,
    ApiMethodFailed,
    ApiOutcomeUnknown,
    ApiRefused,
    ApiRequestInvalid,
    ApiThrottled,
    ApiUnreachable,
)
from inventory.api_client.results import (
    ApiConfig,
    AvailableNumber,
    Confirmation,
    Limitation,
    OwnedNumber,
    Page,
    Quota,
)
from inventory.api_client.wire import parse_available, parse_owned, parse_page, parse_quota

__all__ = [
    "QUOTA_CALLS",
    "TOKEN_CACHE_KEY",
    "ApiBadResponse",
    "ApiConfig",
    "ApiCredentialsRejected",
    "ApiError",
    "ApiMethodFailed",
    "ApiOutcomeUnknown",
    "ApiRefused",
    "ApiRequestInvalid",
    "ApiThrottled",
    "ApiUnreachable",
    "AvailableNumber",
    "Confirmation",
    "Limitation",
    "NumbersApiClient",
    "OwnedNumber",
    "Page",
    "Quota",
    "default_client",
    "parse_available",
    "parse_owned",
    "parse_page",
    "parse_quota",
]
