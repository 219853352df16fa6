"""Reading and checking request parameters. Problems are collected per field, then sent as
one 400 whose keys are the parameter names, as the provider does."""

import re
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .catalogue import NUMBER_TYPES
from .matching import Pattern

FEATURES = ("SMS", "VOICE", "MMS")
MAX_PAGE_SIZE = 100
MAX_INDEX = 10**9
REQUIRED = "Is required."

COUNTRY = re.compile(r"[A-Z]{2}")
MSISDN = re.compile(r"[1-9][0-9]{6,14}")  # E.164 digits: no "+", no leading zero
_DIGITS = re.compile(r"[0-9]{1,15}")
DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,4})?")
_SIP_URI = re.compile(r"sips?:[^\s@]+(@[^\s@]+)?")
_URL = URLValidator(schemes=["http", "https"])
_TRUE, _FALSE = "true", "false"


class Reader:
    """Reads parameters from one QueryDict, noting every problem in `errors`."""

    def __init__(self, data):
        self.data = data
        self.errors: dict[str, str] = {}

    def _value(self, name: str) -> str | None:
        """The parameter, or None when absent. An empty optional value counts as absent."""
        value = self.data.get(name)
        return value if value not in (None, "") else None

    def country(self, name: str = "country", *, required: bool = True) -> str | None:
        value = self._value(name)
        if value is None:
            if required:
                self.errors[name] = REQUIRED
            return None
        if not COUNTRY.fullmatch(value):
            self.errors[name] = "Must be an ISO 3166-1 alpha-2 code in upper case, such as NL."
            return None
        return value

    def msisdn(self, name: str = "msisdn") -> str | None:
        value = self._value(name)
        if value is None:
            self.errors[name] = REQUIRED
        elif not MSISDN.fullmatch(value):
            self.errors[name] = "Must be 7 to 15 digits in E.164 form, without + or 00."
        else:
            return value
        return None

    def integer(self, name: str, *, default: int, low: int, high: int | None = None) -> int:
        value = self._value(name)
        if value is None:
            return default
        if not re.fullmatch(r"-?[0-9]+", value):
            self.errors[name] = "Must be an integer."
            return default
        # Python refuses int() of thousands of digits; anything this long is out of range.
        number = int(value) if len(value) < 19 else None
        if number is None or number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.errors[name] = f"Must be {bounds}."
            return default
        return number

    def page(self) -> tuple[int, int]:
        """(offset, size) from the 1-based `index` and the `size` of a page."""
        # Bounded, so that the offset stays well inside SQLite's 64-bit integers.
        index = self.integer("index", default=1, low=1, high=MAX_INDEX)
        size = self.integer("size", default=10, low=1, high=MAX_PAGE_SIZE)
        return (index - 1) * size, size

    def pattern(self) -> Pattern | None:
        mode = self.integer("search_pattern", default=0, low=0, high=2)
        value = self._value("pattern")
        if value is None:
            return None
        if not _DIGITS.fullmatch(value):
            self.errors["pattern"] = "Must be 1 to 15 digits."
            return None
        return Pattern(value, mode)

    def number_type(self) -> str | None:
        value = self._value("type")
        if value is not None and value not in NUMBER_TYPES:
            self.errors["type"] = f"Must be one of {', '.join(NUMBER_TYPES)}."
            return None
        return value

    def features(self) -> frozenset[str]:
        value = self._value("features")
        if value is None:
            return frozenset()
        wanted = value.split(",")
        if not all(feature in FEATURES for feature in wanted):
            self.errors["features"] = f"Must be a comma-separated list of {', '.join(FEATURES)}."
            return frozenset()
        return frozenset(wanted)

    def boolean(self, name: str) -> bool | None:
        value = self._value(name)
        if value is None:
            return None
        if value.lower() not in (_TRUE, _FALSE):
            self.errors[name] = "Must be true or false."
            return None
        return value.lower() == _TRUE

    def text(self, name: str) -> str | None:
        return self._value(name)


def url_problem(value: str) -> str | None:
    try:
        _URL(value)
    except ValidationError:
        return "Must be an http or https URL."
    return None


def hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def voice_callback_problem(kind: str, value: str) -> str | None:
    """What is wrong with a voice callback value for its type, if anything."""
    if kind == "sip" and not _SIP_URI.fullmatch(value):
        return "Must be a SIP URI, such as sip:alice@example.com, for type sip."
    if kind == "tel" and not MSISDN.fullmatch(value):
        return "Must be a phone number in E.164 digits, such as 447700900000, for type tel."
    if kind == "app" and not is_uuid(value):
        return "Must be an application id (a UUID) for type app."
    return None


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
