"""Forms: every piece of user input is cleaned here before a service sees it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core import signing
from django.core.validators import URLValidator

from inventory import phone
from inventory.api_client import AvailableNumber
from inventory.models import Action, Destination, Feature, NumberType, Outcome
from inventory.patterns import MATCH_MODES, DigitPattern

PAGE_SIZES = [(10, "10"), (20, "20"), (50, "50"), (100, "100")]
_ASCII_DIGITS = re.compile(r"[0-9]*")


def clean_digit_pattern(raw: str, *, mode: str, country: str) -> DigitPattern | None:
    """Turn what a person typed into the API's pattern, or raise ValidationError.

    "Starts with" matches whole international numbers, so national input (06…, 020…) gets
    the country code and loses the national prefix; +31… and 0031… are taken as they are.
    """
    text = phone.without_separators(raw)
    if not text:
        return None
    if mode != "starts":  # digits anywhere in the number, 00 included
        if text.startswith("+"):
            raise forms.ValidationError(
                "A country code (+) only makes sense with “starts with”.", code="plus"
            )
        return DigitPattern(digits=_digits(text), mode=mode)
    number = phone.typed(text)
    international = number.international
    digits = _digits(number.rest)
    return DigitPattern(digits=_international_prefix(digits, international, country), mode=mode)


def _digits(text: str) -> str:
    if not _ASCII_DIGITS.fullmatch(text):
        raise forms.ValidationError(
            "Use digits only (spaces, dashes and a leading + are fine).", code="not_digits"
        )
    if len(text) > 15:
        raise forms.ValidationError("That is longer than any phone number.", code="too_long")
    return text


def _international_prefix(digits: str, international: bool, country: str) -> str:
    if not country:
        if not international:
            raise forms.ValidationError(
                "Choose a country, or type the number with its country code (+31…).",
                code="needs_country",
            )
        return digits
    code = phone.calling_code(country)
    if international:
        if not digits.startswith(code):
            raise forms.ValidationError(
                f"+{digits} is not a {phone.country_name(country)} number: "
                f"those start with +{code}.",
                code="wrong_country",
            )
        prefix = digits
    else:
        national_prefix = phone.national_prefix(country)
        if national_prefix and digits.startswith(national_prefix):
            digits = digits[len(national_prefix) :]
        prefix = code + digits
    if len(prefix) > 15:
        raise forms.ValidationError("That is longer than any phone number.", code="too_long")
    return prefix


class PortalForm(forms.Form):
    """A form whose error messages are sentences people read, naming the field, instead of
    Django's defaults ("Select a valid choice. satellite is not one of the available...")."""

    # Fields whose template shows their errors beside them; the others' errors go on top.
    inline_errors: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            label = str(field.label or name.replace("_", " ")).lower()
            field.error_messages.update(_plain_messages(field, label))

    def errors_on_top(self) -> list[str]:
        """What is wrong, for the message above the form: errors no field shows beside it,
        and a pointer to the fields that do."""
        shown = [
            str(error)
            for name, errors in self.errors.items()
            if name not in self.inline_errors
            for error in errors
        ]
        if any(name in self.errors for name in self.inline_errors):
            shown.append("Check the fields marked below.")
        return shown


def _plain_messages(field: forms.Field, label: str) -> dict[str, str]:
    messages = {"required": f"Fill in the {label}."}
    if isinstance(field, forms.ChoiceField):
        messages["required"] = f"Choose the {label}."
        messages["invalid_choice"] = (
            f"“%(value)s” is not one of the {label} choices here: choose one from the list."
        )
        if isinstance(field, forms.MultipleChoiceField):
            messages["invalid_list"] = f"Choose the {label} from the list."
    elif isinstance(field, forms.DecimalField):  # before IntegerField, its base class
        messages.update(
            invalid=f"The {label} must be an amount, such as 1.25.",
            min_value=f"The {label} must be %(limit_value)s or more.",
            max_value=f"The {label} must be %(limit_value)s or less.",
            max_digits=f"The {label} is too large an amount.",
            max_decimal_places=f"The {label} can have at most %(max)s decimal places.",
            max_whole_digits=f"The {label} is too large an amount.",
        )
    elif isinstance(field, forms.IntegerField):
        messages.update(
            invalid=f"The {label} must be a whole number.",
            min_value=f"The {label} must be %(limit_value)s or more.",
            max_value=f"The {label} must be %(limit_value)s or less.",
        )
    elif isinstance(field, forms.DateField):
        messages["invalid"] = f"The {label} must be a date, such as 2025-01-31."
    if getattr(field, "max_length", None):
        messages["max_length"] = (
            f"The {label} can be at most %(limit_value)d characters long "
            "(this one has %(show_value)d)."
        )
    return messages


class CountryField(forms.CharField):
    """An ISO 3166-1 alpha-2 code of a country with a numbering plan. Templates render its
    <select> with the `country_options` tag; a plain field here spares every form instance
    a deep copy of ~250 choices."""

    default_error_messages = {"unknown": "“%(value)s” is not a country the portal can search."}

    def __init__(self, **kwargs):
        super().__init__(max_length=2, **kwargs)

    def clean(self, value):
        code = super().clean(value).upper()
        if code and code not in phone.country_codes():
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value}
            )
        return code


def _with_defaults(data, **defaults):
    """Fields left out of a search take their defaults, and the page shows them chosen."""
    missing = {name: value for name, value in defaults.items() if data and not data.get(name)}
    if not missing:
        return data
    data = data.copy()
    data.update(missing)
    return data


class CatalogueSearchForm(PortalForm):
    inline_errors = ("country", "type", "pattern", "size")
    country = CountryField()
    type = forms.ChoiceField(
        label="Number type", choices=NumberType.choices, initial=NumberType.LANDLINE
    )
    features = forms.MultipleChoiceField(
        choices=Feature.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    match = forms.ChoiceField(
        label="Match",
        choices=MATCH_MODES,
        initial="starts",
        required=False,
        widget=forms.RadioSelect,
    )
    pattern = forms.CharField(
        label="Digits",
        max_length=20,
        required=False,
        help_text="For “starts with”, type the number as you know it: 06…, 020… or +31….",
    )
    size = forms.TypedChoiceField(
        label="Per page", choices=PAGE_SIZES, coerce=int, initial=20, required=False
    )
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def __init__(self, data=None, *args, **kwargs):
        # The API searches landlines when no type is given; the form says so openly.
        data = _with_defaults(data, match="starts", type=NumberType.LANDLINE, size="20")
        super().__init__(data, *args, **kwargs)
        self.fields["pattern"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["size"] = data.get("size") or 20
        data["page"] = data.get("page") or 1
        data["match"] = data.get("match") or "starts"
        if "country" in data and "pattern" in data:
            try:
                data["digit_pattern"] = clean_digit_pattern(
                    data["pattern"], mode=data["match"], country=data["country"]
                )
            except forms.ValidationError as error:
                self.add_error("pattern", error)
        return data


# --- buying -------------------------------------------------------------------------------

CONFIRMATION_MAX_AGE = 15 * 60  # seconds a confirmation page stays valid


class SignedField(forms.CharField):
    """A value the portal signed when it showed a confirmation page, verified when the page
    is submitted: what the user confirms is exactly what they were shown."""

    widget = forms.HiddenInput

    def __init__(self, *, salt: str, expired: str, tampered: str, **kwargs):
        super().__init__(**kwargs)
        self.salt, self.expired, self.tampered = salt, expired, tampered

    def sign(self, value: dict) -> str:
        return signing.dumps(value, salt=self.salt)

    def clean(self, value) -> dict:
        text = super().clean(value)
        try:
            return signing.loads(text, salt=self.salt, max_age=CONFIRMATION_MAX_AGE)
        except signing.SignatureExpired as expired:
            raise forms.ValidationError(self.expired, code="expired") from expired
        except signing.BadSignature as bad:
            raise forms.ValidationError(self.tampered, code="bad_signature") from bad


class OfferLookupForm(PortalForm):
    """Which number the user wants to buy (from a search result link)."""

    country = CountryField()
    type = forms.ChoiceField(choices=NumberType.choices)
    msisdn = forms.RegexField(
        regex=r"^[1-9]\d{6,14}$",
        error_messages={"invalid": "That is not a complete international number (7 to 15 digits)."},
    )


class PurchaseConfirmForm(forms.Form):
    """The confirmation: a signed copy of the offer the user saw, with its one-time token."""

    offer = SignedField(
        salt="inventory.offer",
        expired="This confirmation page has expired; check the price again and confirm.",
        tampered="This confirmation could not be verified; start again from the search.",
    )
    # Only for a purchase the approval rules hold back: why it is needed, for the approver.
    reason = forms.CharField(
        label="Why is it needed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    @classmethod
    def for_offer(cls, offer: AvailableNumber, *, token: str) -> PurchaseConfirmForm:
        fields = {**offer.as_plain(), "token": token}
        field = cls.base_fields["offer"]
        assert isinstance(field, SignedField)
        return cls(initial={"offer": field.sign(fields)})

    def offer_and_token(self) -> tuple[AvailableNumber, str]:
        fields = self.cleaned_data["offer"]
        return AvailableNumber.from_plain(fields), fields["token"]


# --- inventory ------------------------------------------------------------------------------

INVENTORY_SORTS = {
    "msisdn": "Number",
    "country": "Country",
    "type": "Type",
    "monthly_cost": "Monthly cost",
    "purchased_at": "Bought",
    "label": "Label",
}
INVENTORY_SORT_CHOICES = [
    (f"{sign}{key}", f"{label} {arrow}")
    for key, label in INVENTORY_SORTS.items()
    for sign, arrow in (("", "↑"), ("-", "↓"))
]


class InventoryFilterForm(PortalForm):
    """Filters over the local cache: the same match modes as the catalogue, no API call."""

    country = CountryField(required=False)
    type = forms.ChoiceField(
        label="Number type", choices=[("", "Any type"), *NumberType.choices], required=False
    )
    features = forms.MultipleChoiceField(
        choices=Feature.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    match = forms.ChoiceField(
        choices=MATCH_MODES, initial="contains", required=False, widget=forms.RadioSelect
    )
    pattern = forms.CharField(label="Digits", max_length=20, required=False)
    configured = forms.ChoiceField(
        label="Routing",
        choices=[
            ("", "Any routing"),
            ("yes", "Webhook or voice routing set"),
            ("no", "Nothing configured"),
        ],
        required=False,
    )
    q = forms.CharField(
        label="Label, team or notes",
        max_length=100,
        min_length=3,
        required=False,
        error_messages={"min_length": "Type at least 3 characters to search."},
    )
    destination = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    sort = forms.ChoiceField(label="Sort by", choices=INVENTORY_SORT_CHOICES, required=False)
    size = forms.TypedChoiceField(
        label="Per page", choices=PAGE_SIZES, coerce=int, initial=50, required=False
    )
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    # Where the page starts or ends (set by the pager's links, never typed).
    after = forms.CharField(max_length=300, required=False)
    before = forms.CharField(max_length=300, required=False)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(_with_defaults(data, match="contains", size="50"), *args, **kwargs)
        self.fields["pattern"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["size"] = data.get("size") or 50
        data["page"] = data.get("page") or 1
        data["sort"] = data.get("sort") or "msisdn"
        data["match"] = data.get("match") or "contains"
        data["digit_pattern"] = None
        if "pattern" in data:
            try:
                data["digit_pattern"] = clean_digit_pattern(
                    data["pattern"], mode=data["match"], country=data.get("country") or ""
                )
            except forms.ValidationError as error:
                self.add_error("pattern", error)
        found = data["digit_pattern"]
        if found is not None and found.mode != "starts" and len(found.digits) < 3:
            data["digit_pattern"] = None
            self.add_error("pattern", "Type at least 3 digits to match inside or at the end.")
        return data


# --- configure and cancel -------------------------------------------------------------------

SIP_URI = re.compile(
    r"^sips?:[^@\s]+@[A-Za-z0-9.-]+(:\d{1,5})?(;[^\s]*)?$|^sips?:[A-Za-z0-9.-]+(:\d{1,5})?$"
)
UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_WEBHOOK_HELP = "Must answer HTTP 200 to the provider's check. Leave empty to remove it."


class WebhookField(forms.URLField):
    """An http(s) URL the provider will call."""

    default_validators = [URLValidator(schemes=["http", "https"])]
    default_error_messages = {"invalid": "Enter a valid web address starting with https://."}

    def __init__(self, **kwargs):
        super().__init__(max_length=500, required=False, assume_scheme="https", **kwargs)


def e164_digits(raw: str) -> str:
    """An E.164 number typed as +31 6 12345678, 0031612345678 or 31612345678 → its digits."""
    digits = phone.typed_digits(raw)
    if not re.fullmatch(r"[1-9][0-9]{6,14}", digits):
        raise forms.ValidationError(
            "Type a full international number, such as +31 20 123 4567.", code="not_e164"
        )
    if not phone.is_possible(digits):
        raise forms.ValidationError("That is not a valid phone number.", code="invalid_number")
    return digits


class ConfigureForm(PortalForm):
    """A number's webhooks and voice routing, by the API's field names."""

    moHttpUrl = WebhookField(label="Inbound SMS webhook", help_text=_WEBHOOK_HELP)
    moSmppSysType = forms.CharField(
        label="SMPP system type",
        max_length=40,
        required=False,
        help_text="Only for accounts that receive messages over SMPP.",
    )
    voiceCallbackType = forms.ChoiceField(
        label="Send calls to",
        choices=[
            ("", "Nowhere (no voice routing)"),
            ("sip", "A SIP URI"),
            ("tel", "Another phone number"),
            ("app", "An application (id)"),
        ],
        required=False,
    )
    voiceCallbackValue = forms.CharField(
        label="Destination",
        max_length=500,
        required=False,
        help_text="sip:user@example.com, +31 20 123 4567, or an application id (UUID).",
    )
    voiceStatusCallback = WebhookField(label="Call status webhook", help_text=_WEBHOOK_HELP)
    # Named destinations: choosing one fills in the address it stands for.
    sms_destination = forms.ModelChoiceField(
        label="…or a named webhook",
        queryset=Destination.objects.none(),
        required=False,
        empty_label="(type an address above)",
    )
    voice_destination = forms.ModelChoiceField(
        label="…or a named destination",
        queryset=Destination.objects.none(),
        required=False,
        empty_label="(choose the kind and type the destination)",
    )
    API_FIELDS = (
        "moHttpUrl",
        "moSmppSysType",
        "voiceCallbackType",
        "voiceCallbackValue",
        "voiceStatusCallback",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        destinations = Destination.objects.order_by("name")
        sms, voice = self.fields["sms_destination"], self.fields["voice_destination"]
        assert isinstance(sms, forms.ModelChoiceField)
        assert isinstance(voice, forms.ModelChoiceField)
        sms.queryset = destinations.filter(kind=Destination.Kind.WEBHOOK)
        voice.queryset = destinations.exclude(kind=Destination.Kind.WEBHOOK)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("sms_destination"):
            data["moHttpUrl"] = data["sms_destination"].value
        if data.get("voice_destination"):
            data["voiceCallbackType"] = data["voice_destination"].kind
            data["voiceCallbackValue"] = data["voice_destination"].value
        kind = data.get("voiceCallbackType", "")
        value = (data.get("voiceCallbackValue") or "").strip()
        if kind and not value:
            self.add_error("voiceCallbackValue", "Say where calls should go.")
        elif value and not kind:
            self.add_error("voiceCallbackType", "Choose what kind of destination this is.")
        elif kind == "sip" and not SIP_URI.match(value):
            self.add_error("voiceCallbackValue", "A SIP URI looks like sip:user@example.com.")
        elif kind == "app" and not UUID_PATTERN.match(value):
            self.add_error("voiceCallbackValue", "An application id looks like 1b2c3d4e-…-…-…-…")
        elif kind == "tel":
            try:
                value = e164_digits(value)
            except forms.ValidationError as error:
                self.add_error("voiceCallbackValue", error)
        data["voiceCallbackValue"] = value
        return data

    def changes(self, current: dict[str, str]) -> dict[str, str]:
        """Only what differs from `current`; voice type and value always travel together."""
        wanted = {name: self.cleaned_data.get(name) or "" for name in self.API_FIELDS}
        changed = {name: value for name, value in wanted.items() if value != current.get(name, "")}
        if {"voiceCallbackType", "voiceCallbackValue"} & changed.keys():
            changed["voiceCallbackType"] = wanted["voiceCallbackType"]
            changed["voiceCallbackValue"] = wanted["voiceCallbackValue"]
        return changed


class SignedChangeForm(forms.Form):
    """A reviewed change, signed when it was shown, with its one-time token."""

    change = SignedField(
        salt="inventory.change",
        expired="This review has expired; review the change again.",
        tampered="This change could not be verified; start again.",
    )

    @classmethod
    def for_change(cls, change: dict) -> SignedChangeForm:
        field = cls.base_fields["change"]
        assert isinstance(field, SignedField)
        return cls(initial={"change": field.sign(change)})


class CancelForm(PortalForm):
    """Cancelling takes real effort: the user types the whole number."""

    typed = forms.CharField(label="Type the full number to confirm", max_length=30)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, msisdn: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.msisdn = msisdn
        self.fields["typed"].widget.attrs.update(autocomplete="off", inputmode="tel")

    def clean_typed(self) -> str:
        digits = phone.typed_digits(self.cleaned_data["typed"])
        if digits != self.msisdn:
            raise forms.ValidationError(
                "That is not this number. Type it in full, with its country code.",
                code="mismatch",
            )
        return digits


NOTES_MAX_LENGTH = 2000  # a few paragraphs; each change is kept whole in the audit trail


class AnnotateForm(PortalForm):
    label = forms.CharField(max_length=100, required=False)
    team = forms.CharField(label="Owner / team", max_length=100, required=False)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=NOTES_MAX_LENGTH, required=False
    )


# --- the audit trail ------------------------------------------------------------------------


def _msisdn_digits(raw: str) -> str:
    """A number as people type it (+31 6 1234 5678, 0031..., 3161...) → its digits."""
    digits = phone.typed_digits(raw)
    if digits and not re.fullmatch(r"[0-9]{1,15}", digits):
        raise forms.ValidationError(
            "Type the number with its country code, such as +31 20 123 4567.", code="not_digits"
        )
    return digits


class AuditFilterForm(PortalForm):
    """Filters over the trail. Each is served by an index (see the audit selectors)."""

    action = forms.ChoiceField(
        label="What", choices=[("", "Anything"), *Action.choices], required=False
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Any outcome"), *Outcome.choices, ("unsettled", "Unknown, not settled")],
        required=False,
    )
    user = forms.CharField(label="User", max_length=150, required=False)
    number = forms.CharField(label="Number", max_length=30, required=False)
    country = CountryField(required=False)
    since = forms.DateField(label="From", required=False)
    until = forms.DateField(label="Until", required=False)
    q = forms.CharField(
        label="Search",
        max_length=100,
        required=False,
        help_text="A number or its start, a user, an IP address, a request id, or #entry.",
    )
    # Entry numbers: the database's big integers end at 2**63 - 1.
    before = forms.IntegerField(
        min_value=1, max_value=2**62, required=False, widget=forms.HiddenInput
    )
    after = forms.IntegerField(
        min_value=0, max_value=2**62, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["since"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["until"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["number"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["user"].widget.attrs.update(autocomplete="off", list="audit-users")

    def clean_number(self) -> str:
        return _msisdn_digits(self.cleaned_data["number"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "“Until” must be the same day as “From” or later.")
        return data


# --- personal access tokens for the JSON API ------------------------------------------------

TOKEN_LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "A year")]


class ApiTokenForm(PortalForm):
    inline_errors = ("name", "days")
    name = forms.CharField(
        max_length=100, help_text="What the token is for, such as “nightly inventory export”."
    )
    days = forms.TypedChoiceField(
        label="Valid for", choices=TOKEN_LIFETIMES, coerce=int, initial=90
    )
