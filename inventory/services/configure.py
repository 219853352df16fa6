"""Changing where a number's calls and messages go."""

from __future__ import annotations

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.services.cache import cache_owned, change_applied, configuration_of
from inventory.services.operations import ApiOperation, Intent, OperationRefused, Verdict

NOT_IN_INVENTORY = "This number is no longer in the inventory; nothing was sent."


class Configure(ApiOperation):
    """Send only the fields that change (an empty string clears one), then read the number
    back: the change counts as made only when the API shows it."""

    action = Action.CONFIGURE

    def __init__(
        self, *, msisdn: str, changes: dict[str, str], reviewed: dict | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.msisdn = msisdn
        self.changes = dict(changes)
        # The configuration the user saw when they reviewed the change, if they did.
        self.reviewed = reviewed

    def intent(self) -> Intent:
        number = OwnedNumber.objects.filter(msisdn=self.msisdn).first()
        if number is None:
            raise OperationRefused(NOT_IN_INVENTORY)
        if not self.changes:
            raise OperationRefused("Nothing to change: the form matches the current configuration.")
        current = configuration_of(number)
        if self.reviewed is not None and self.reviewed != current:
            raise OperationRefused("The number changed since you reviewed it; review again.")
        self.country = number.country
        return Intent(
            action=self.action,
            country=number.country,
            msisdn=number.msisdn,
            request={"country": number.country, "msisdn": number.msisdn, **self.changes},
            before={name: current[name] for name in self.changes},
            after=dict(self.changes),
        )

    def refusal(self) -> str:
        if not OwnedNumber.objects.filter(msisdn=self.msisdn).exists():
            return NOT_IN_INVENTORY
        return ""

    def send(self) -> api.Confirmation:
        return self.client.update(country=self.country, msisdn=self.msisdn, changes=self.changes)

    def check(self, found: api.OwnedNumber | None) -> Verdict | None:
        if found is None:
            return Verdict(
                Outcome.FAILED,
                "The API accepted the change, but the number is no longer in the account.",
            )
        if not change_applied(self.changes, found):
            return Verdict(Outcome.FAILED, "The API accepted the change but did not apply it.")
        return None

    def apply(self, entry: Operation, found: api.OwnedNumber | None) -> None:
        cache_owned(found, sent=self.changes)

    def explain_decline(self, error: api.ApiMethodFailed) -> str:
        label = error.label if error.label and error.label != "method failed" else ""
        try:
            if self.client.find_owned(msisdn=self.msisdn) is None:
                return "The account no longer owns this number, so it cannot be changed."
        except api.ApiError:
            pass
        if label:
            return f"The provider declined the change: {label.rstrip('.')}."
        return (
            "The provider declined the change (“method failed”). A webhook URL must answer "
            "HTTP 200 before the provider accepts it."
        )

    @classmethod
    def judge(cls, entry: Operation, found: api.OwnedNumber | None) -> Verdict:
        if found is None:
            return Verdict(Outcome.FAILED, "The number is no longer in the account.")
        if change_applied(entry.request, found):
            return Verdict(Outcome.SUCCEEDED, "The API shows the change: it was applied.")
        return Verdict(Outcome.FAILED, "The API does not show the change: it was not applied.")

    @classmethod
    def apply_settlement(cls, entry: Operation, found: api.OwnedNumber | None) -> None:
        cache_owned(found, sent=entry.request)


def number_configure(
    *,
    actor: Actor,
    msisdn: str,
    changes: dict[str, str],
    form_token: str,
    reviewed: dict | None = None,
    client: api.NumbersApiClient | None = None,
) -> Operation:
    """Change a number's webhooks and voice routing. `reviewed` is the configuration the
    user saw when they reviewed the change: if the number changed since, nothing is sent."""
    operation = Configure(
        actor=actor,
        msisdn=msisdn,
        changes=changes,
        reviewed=reviewed,
        form_token=form_token,
        client=client,
    )
    return operation.run()
