"""Phone-number and country presentation, on top of `phonenumbers` and `pycountry`."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
import pycountry
from phonenumbers import PhoneNumberFormat


def flag(country_code: str) -> str:
    """The flag emoji of an ISO 3166-1 alpha-2 code (regional indicator letters)."""
    code = country_code.upper()
    if len(code) != 2 or not code.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code)


@cache
def country_name(country_code: str) -> str:
    country = pycountry.countries.get(alpha_2=country_code.upper())
    if country is None:
        return country_code.upper()
    return getattr(country, "common_name", None) or country.name


def name_order(name: str) -> str:
    """A sort key for names as people alphabetise them: Åland with A, Côte d'Ivoire with C."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


@cache
def country_choices() -> list[tuple[str, str]]:
    """Every country with a numbering plan, by name: ("NL", "Netherlands (NL)"). The name
    comes first, so typing "Neth" in a picker finds it; flags are left to decoration."""
    codes = phonenumbers.SUPPORTED_REGIONS & {c.alpha_2 for c in pycountry.countries}
    named = sorted(codes, key=lambda code: name_order(country_name(code)))
    return [(code, f"{country_name(code)} ({code})") for code in named]


@cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in country_choices())


def calling_code(country_code: str) -> str:
    return str(phonenumbers.country_code_for_region(country_code.upper()) or "")


def national_prefix(country_code: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country_code.upper())
    return (metadata.national_prefix or "") if metadata else ""


def _parsed(msisdn: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(f"+{msisdn}")
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=20_000)  # pages show the same numbers again and again
def _written(msisdn: str) -> tuple[str, str]:
    """The number written internationally and nationally: parsed once for both, as most
    pages show both (parsing costs as much as the two formats together)."""
    number = _parsed(msisdn)
    if number is None:
        return f"+{msisdn}", msisdn
    return (
        phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
    )


def international(msisdn: str) -> str:
    """+44 7700 900123"""
    return _written(msisdn)[0]


def national(msisdn: str) -> str:
    """07700 900123, as people in the number's own country write it."""
    return _written(msisdn)[1]


# --- what people type -------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s().\-/]")


@dataclass(frozen=True)
class Typed:
    """A number as someone typed it: separators gone, and whether it began with its
    country code (+31…, 0031…), which `rest` no longer carries."""

    rest: str
    international: bool
    plus: bool  # typed with a leading "+"


def without_separators(raw: str | None) -> str:
    """What someone typed, without spaces, dots, dashes, slashes and brackets."""
    return _SEPARATORS.sub("", raw or "")


def typed(raw: str | None) -> Typed:
    """The one place that reads a typed number: separators gone, then a leading + or 00."""
    text = without_separators(raw)
    if text.startswith("+"):
        return Typed(rest=text[1:], international=True, plus=True)
    if text.startswith("00"):
        return Typed(rest=text[2:], international=True, plus=False)
    return Typed(rest=text, international=False, plus=False)


def typed_digits(raw: str | None) -> str:
    """+31 6 1234 5678, 0031612345678 or 31612345678 → 31612345678 (not checked further)."""
    return typed(raw).rest


def is_possible(digits: str) -> bool:
    """Whether these international digits can be a phone number (length and prefix)."""
    number = _parsed(digits)
    return number is not None and phonenumbers.is_possible_number(number)


_API_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile-lvn",
    phonenumbers.PhoneNumberType.TOLL_FREE: "landline-toll-free",
}


def likely_type(msisdn: str) -> str:
    """The API's number type a number most likely has, by its country's numbering plan:
    mobile, toll-free, else landline (the type the API searches when none is given)."""
    number = _parsed(msisdn)
    if number is None:
        return "landline"
    return _API_TYPES.get(phonenumbers.number_type(number), "landline")
