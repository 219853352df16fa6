"""Forms of approvals, protected numbers and notifications."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from inventory.forms import PortalForm
from inventory.models import Event

REASON_MAX_LENGTH = 2000


class DecisionForm(PortalForm):
    """An approver's decision: the reason is told to the requester (required to reject)."""

    reason = forms.CharField(
        label="Reason (told to the requester)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        required=False,
    )


class ApprovalRulesForm(PortalForm):
    purchase_above = forms.DecimalField(
        label="Purchases above (€, set-up and the first month)",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text="Empty: no limit.",
    )
    bulk_above = forms.IntegerField(
        label="Bulk purchases of more than (numbers)",
        min_value=0,
        max_value=100_000,
        required=False,
        help_text="Empty: no limit.",
    )
    over_budget = forms.BooleanField(
        label="Purchases that take a team over its budget", required=False
    )


class ProtectForm(PortalForm):
    reason = forms.CharField(
        label="Reason for protecting it",
        max_length=500,
        help_text="Shown to anyone who tries to cancel it.",
    )


class NotificationPreferencesForm(PortalForm):
    events = forms.MultipleChoiceField(
        label="Email me when", widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, events: list[Event], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["events"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(event.value, event.label) for event in events]


class WebhookForm(PortalForm):
    inline_errors = ("name", "url", "secret")

    name = forms.CharField(max_length=80)
    url = forms.URLField(
        label="Address (https://…)",
        max_length=500,
        assume_scheme="https",
        help_text="Slack, Teams or any receiver of a JSON POST.",
    )
    secret = forms.CharField(
        label="Signing secret",
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="16 characters or more; the receiver checks each message's signature with it.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, needs_secret: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_secret = needs_secret
        if not needs_secret:
            self.fields["secret"].help_text += " Leave it empty to keep the current one."

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Give an address that starts with https://.")
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if self.needs_secret and not secret:
            raise forms.ValidationError("Choose a signing secret of 16 characters or more.")
        return secret
