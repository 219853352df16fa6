"""The JSON API's own inputs, as the portal's forms: the same fields and sentences as the
pages that do the same things (the pages' forms are used as they are where they fit)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from inventory.bulk_forms import MSISDN, ValuesField
from inventory.forms import CountryField, PortalForm, _msisdn_digits
from inventory.governance_forms import REASON_MAX_LENGTH
from inventory.models import Batch, Feature, NumberType

_MSISDN_MESSAGE = "That is not a complete international number (7 to 15 digits)."


def _reason() -> forms.CharField:
    return forms.CharField(
        label="reason",
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="Why it is needed, for an approver: only when the approval rules hold the "
        "purchase back (without one it is refused, 409 approval-required).",
    )


def _money(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=10, decimal_places=4, min_value=Decimal(0), **kwargs
    )


class _NumberOnSale(PortalForm):
    """The fields an offer and a pick share."""

    country = CountryField()
    msisdn = forms.RegexField(
        regex=MSISDN, label="number", error_messages={"invalid": _MSISDN_MESSAGE}
    )
    type = forms.ChoiceField(
        label="number type",
        choices=[("", "The likeliest for the number"), *NumberType.choices],
        required=False,
        help_text="As the search gave it; left out, the likeliest type for the number.",
    )
    max_monthly_cost = _money(
        "max monthly cost", help_text="The most you agree to pay a month, in EUR."
    )
    max_setup_cost = _money("max setup cost", help_text="The most you agree to pay to set it up.")


class OfferForm(_NumberOnSale):
    """A number on sale and the most the script agrees to pay for it."""

    reason = _reason()


class PickForm(_NumberOnSale):
    """A number for the selection (a bulk purchase): as an offer, with its features."""

    # No reason here: it is asked when the bulk purchase is confirmed.
    type = forms.ChoiceField(label="number type", choices=NumberType.choices)
    features = forms.MultipleChoiceField(choices=Feature.choices, required=False)


class NumbersForm(PortalForm):
    """Owned numbers for a bulk configuration or cancellation."""

    numbers = ValuesField(label="numbers")

    def clean_numbers(self) -> list[str]:
        numbers = list(dict.fromkeys(self.cleaned_data["numbers"]))
        if len(numbers) > Batch.MAX_ITEMS:
            raise forms.ValidationError(
                f"Name at most {Batch.MAX_ITEMS:,} numbers at once.", code="too_many"
            )
        wrong = next((number for number in numbers if not MSISDN.match(number)), None)
        if wrong is not None:
            raise forms.ValidationError(f"“{wrong[:20]}” is not a number. {_MSISDN_MESSAGE}")
        return numbers


class CancelConfirmForm(PortalForm):
    """Cancelling takes a deliberate act from a script too: it names the number again."""

    msisdn = forms.CharField(label="number", max_length=30)

    def __init__(self, *args, number: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.number = number

    def clean_msisdn(self) -> str:
        if _msisdn_digits(self.cleaned_data["msisdn"]) != self.number:
            raise forms.ValidationError(
                "That is not this number. Type it in full, with its country code.",
                code="mismatch",
            )
        return self.number


class BatchConfirmForm(PortalForm):
    typed = forms.CharField(
        label="confirmation",
        max_length=30,
        required=False,
        help_text="For a bulk cancellation: “cancel N”, N being the number of numbers.",
    )
    reason = _reason()
