"""The API's endpoints: each operation served behind the simulated gateway."""

from . import auth, operations, responses
from .gateway import Operation, endpoint

access_token = endpoint(
    Operation("POST", auth.issue_token, pretend=auth.pretend_token, identify=auth.claimed_client)
)
account_numbers = endpoint(Operation("GET", operations.list_owned))
number_search = endpoint(Operation("GET", operations.search))
number_buy = endpoint(Operation("POST", operations.buy, pretend=operations.pretend_success))
number_cancel = endpoint(Operation("POST", operations.cancel, pretend=operations.pretend_success))
number_update = endpoint(Operation("POST", operations.update, pretend=operations.pretend_success))


def _no_such_path(sim, request, client):
    return responses.not_found()


# Unknown paths under the API still pass the gateway: they are counted and need a token.
unknown_api_path = endpoint(Operation(None, _no_such_path))
