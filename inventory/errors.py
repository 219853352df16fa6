"""One place that turns API errors into what a person reads on the page."""

from inventory import api_client as api
from inventory.api_client.wire import sentence


def api_error_message(error: api.ApiError, *, doing: str) -> str:
    """`doing` completes "… so the <doing> did not happen", e.g. "search"."""
    if isinstance(error, api.ApiThrottled):
        wait = f" Try again in {max(int(error.retry_after), 1)} s." if error.retry_after else ""
        return (
            "The Phone Numbers API is busy (it is refusing calls for now: its request quota "
            f"is used up or calls came too fast), so the {doing} did not run.{wait}"
        )
    if isinstance(error, api.ApiUnreachable):
        return (
            f"The Phone Numbers API could not be reached, so the {doing} did not run. "
            "Try again in a minute."
        )
    if isinstance(error, api.ApiCredentialsRejected):
        return (
            f"The Phone Numbers API refused the portal's credentials, so the {doing} did not "
            "run. An administrator needs to check the API settings."
        )
    if isinstance(error, api.ApiRefused):
        # Its message names what to check (the app's product, the base URL).
        return f"The {doing} did not run. {sentence(error.message)}"
    if isinstance(error, api.ApiRequestInvalid):
        details = "; ".join(f"{field}: {text.rstrip('. ')}" for field, text in error.errors.items())
        return sentence(f"The Phone Numbers API refused the {doing}: {details or error.message}")
    if isinstance(error, api.ApiBadResponse) and (error.status or 0) >= 500:
        return (
            f"The Phone Numbers API is having trouble (it answered HTTP {error.status}), "
            f"so the {doing} did not run. Try again in a few minutes."
        )
    if isinstance(error, api.ApiBadResponse):
        return (
            f"The Phone Numbers API sent an answer the portal could not read, so the {doing} "
            "did not complete. Try again in a minute."
        )
    return sentence(f"The {doing} did not complete: {error}")
