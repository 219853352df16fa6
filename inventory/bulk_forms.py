"""Forms for fleet work: picking offers in the catalogue, choosing numbers in the
inventory, relabelling them, confirming a batch, and naming destinations."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core import signing
from django.http import QueryDict

from inventory.api_client import AvailableNumber
from inventory.forms import SIP_URI, UUID_PATTERN, InventoryFilterForm, WebhookField, e164_digits
from inventory.models import Batch, Destination

PICK_SALT = "inventory.pick"
PICK_MAX_AGE = 60 * 60  # an hour to add a search result to the selection
MSISDN = re.compile(r"^[1-9][0-9]{6,14}$")


def offer_pick(offer: AvailableNumber) -> str:
    """The value of a search result's checkbox: the offer as it was shown, signed."""
    return signing.dumps(offer.as_plain(), salt=PICK_SALT, compress=True)


class ValuesField(forms.MultipleChoiceField):
    """A list of submitted values whose shape the form checks itself (no fixed choices)."""

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class OfferPicksForm(forms.Form):
    """Search results ticked for the selection, each at the price it was shown at."""

    picks = ValuesField(
        error_messages={"required": "Tick at least one number to add it to your selection."}
    )

    def clean_picks(self) -> list[AvailableNumber]:
        offers = []
        for value in self.cleaned_data["picks"][: Batch.MAX_ITEMS]:
            try:
                fields = signing.loads(value, salt=PICK_SALT, max_age=PICK_MAX_AGE)
            except signing.BadSignature as bad:
                raise forms.ValidationError(
                    "These search results are too old to pick from; search again.",
                    code="stale",
                ) from bad
            offers.append(AvailableNumber.from_plain(fields))
        return offers


class NumberChoiceForm(forms.Form):
    """Numbers ticked in the inventory, or every number matching its filter."""

    msisdn = ValuesField(required=False)
    all_matching = forms.BooleanField(required=False)
    filter = forms.CharField(required=False, max_length=2000)

    def clean_msisdn(self) -> list[str]:
        numbers = self.cleaned_data["msisdn"]
        if len(numbers) > Batch.MAX_ITEMS:
            raise forms.ValidationError(
                f"Choose at most {Batch.MAX_ITEMS:,} numbers at once.", code="too_many"
            )
        if not all(MSISDN.match(value) for value in numbers):
            raise forms.ValidationError("That is not a list of numbers.", code="invalid")
        return list(dict.fromkeys(numbers))

    def filter_form(self) -> InventoryFilterForm:
        return InventoryFilterForm(QueryDict(self.cleaned_data.get("filter") or ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("all_matching") and not data.get("msisdn") and not self.errors:
            raise forms.ValidationError("Tick the numbers to work on first.", code="none")
        return data


class LabelForm(forms.Form):
    """A label and a team for many numbers; a field left empty is left as it is."""

    label = forms.CharField(max_length=100, required=False)
    team = forms.CharField(label="Owner / team", max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("label") or data.get("team")):
            raise forms.ValidationError("Type a label, a team, or both.", code="empty")
        return data

    def values(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}


class BatchConfirmForm(forms.Form):
    typed = forms.CharField(
        label="Type the confirmation", max_length=30, required=False, strip=True
    )
    # Only for a bulk purchase the approval rules hold back: why it is needed.
    reason = forms.CharField(
        label="Why are they needed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    # A bulk purchase: the team the numbers are for (optional; its budget applies).
    team = forms.CharField(
        label="For team",
        max_length=100,
        required=False,
        strip=True,
        help_text="Optional. The numbers get this team, and the team's budget applies.",
    )


class DestinationForm(forms.ModelForm):
    """A named place calls or messages go, checked as the configure form checks it."""

    class Meta:
        model = Destination
        fields = ["name", "kind", "value"]
        labels = {"kind": "Kind of destination", "value": "Address"}
        help_texts = {
            "value": "sip:user@example.com, +31 20 123 4567, an application id (UUID), "
            "or https://… for inbound SMS."
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if kind == Destination.Kind.SIP and not SIP_URI.match(value):
            self.add_error("value", "A SIP URI looks like sip:user@example.com.")
        elif kind == Destination.Kind.APP and not UUID_PATTERN.match(value):
            self.add_error("value", "An application id looks like 1b2c3d4e-…-…-…-…")
        elif kind == Destination.Kind.TEL:
            try:
                value = e164_digits(value)
            except forms.ValidationError as error:
                self.add_error("value", error)
        elif kind == Destination.Kind.WEBHOOK:
            try:
                value = WebhookField().clean(value)
            except forms.ValidationError as error:
                self.add_error("value", error)
        data["value"] = value
        return data


class MoveDestinationForm(forms.Form):
    """Every number routed to one destination, over to another."""

    to = forms.ModelChoiceField(
        label="Move them to", queryset=Destination.objects.none(), empty_label="Choose…"
    )

    def __init__(self, *args, source: Destination, **kwargs):
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ModelChoiceField)
        to.queryset = Destination.objects.filter(kind__in=_same_family(source)).exclude(
            pk=source.pk
        )


def _same_family(destination: Destination) -> list[str]:
    """Voice destinations replace each other; a webhook replaces a webhook."""
    if destination.kind == Destination.Kind.WEBHOOK:
        return [Destination.Kind.WEBHOOK]
    return [Destination.Kind.SIP, Destination.Kind.TEL, Destination.Kind.APP]
