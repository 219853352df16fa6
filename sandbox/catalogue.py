"""The numbers on sale, and the numbers an account starts with.

Everything here is generated from a seed, so a given seed always yields the same numbers,
prices and features. Every number is valid for its country and its type according to
`phonenumbers` metadata: generation starts from the library's example number for the type
and re-rolls trailing digits, keeping only candidates the library accepts.

Nothing in this module is stored: the catalogue is rebuilt lazily, per country, in memory.
"""

import functools
import random
import threading
import uuid
import zlib
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from phonenumbers import PhoneNumberType

LANDLINE = "landline"
TOLL_FREE = "landline-toll-free"
MOBILE = "mobile-lvn"
NUMBER_TYPES = (LANDLINE, TOLL_FREE, MOBILE)

COUNTRIES = (
    "GB",
    "NL",
    "US",
    "DE",
    "FR",
    "BE",
    "ES",
    "IT",
    "SE",
    "IE",
    "AT",
    "CH",
    "DK",
    "NO",
    "FI",
    "PL",
    "PT",
    "CZ",
    "CA",
    "AU",
    "JP",
    "SG",
    "ZA",
    "BR",
    "MX",
)

# How many numbers each (country, type) offers before anything is bought. Comfortably above
# 1,000, so the catalogue stays at least that large after a busy demo.
CATALOGUE_SIZE = 1500

_LIBRARY_TYPE = {
    LANDLINE: PhoneNumberType.FIXED_LINE,
    TOLL_FREE: PhoneNumberType.TOLL_FREE,
    MOBILE: PhoneNumberType.MOBILE,
}

# In these numbering plans fixed and mobile ranges overlap, so phonenumbers can only say
# FIXED_LINE_OR_MOBILE for (some of) the numbers of this type.
_AMBIGUOUS = {("US", LANDLINE), ("US", MOBILE), ("CA", LANDLINE), ("CA", MOBILE)}
_AMBIGUOUS |= {("DK", LANDLINE), ("MX", MOBILE)}

# Monthly rent in EUR for (landline, toll-free, mobile). Invented, but of a believable size.
_MONTHLY = {
    "GB": ("0.90", "2.50", "0.90"),
    "NL": ("0.90", "9.00", "5.00"),
    "US": ("0.85", "1.25", "0.85"),
    "DE": ("0.90", "12.00", "12.50"),
    "FR": ("1.00", "15.00", "3.00"),
    "BE": ("1.50", "20.00", "5.00"),
    "ES": ("1.00", "15.00", "6.00"),
    "IT": ("1.50", "20.00", "8.00"),
    "SE": ("1.00", "15.00", "1.50"),
    "IE": ("1.25", "20.00", "4.00"),
    "AT": ("1.50", "15.00", "4.00"),
    "CH": ("2.00", "25.00", "6.00"),
    "DK": ("2.00", "20.00", "2.00"),
    "NO": ("2.50", "20.00", "3.00"),
    "FI": ("2.00", "20.00", "1.80"),
    "PL": ("1.20", "15.00", "2.50"),
    "PT": ("1.50", "15.00", "4.50"),
    "CZ": ("1.50", "15.00", "3.50"),
    "CA": ("0.85", "1.25", "0.85"),
    "AU": ("4.00", "25.00", "9.00"),
    "JP": ("5.00", "35.00", "12.00"),
    "SG": ("8.00", "40.00", "15.00"),
    "ZA": ("2.50", "20.00", "5.00"),
    "BR": ("5.00", "30.00", "9.00"),
    "MX": ("3.00", "25.00", "5.00"),
}
_GOLDEN_RENT_FACTOR = 3
_GOLDEN_SETUP_FEE = Decimal("25.00")
_CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Listing:
    """A number on sale."""

    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    cost: str  # monthly rent, EUR
    initial_price: str  # set-up fee, EUR
    limitations: tuple[tuple[str, str, str], ...] = ()  # (feature, direction, reach)

    def as_api(self) -> dict:
        shape = {
            "country": self.country,
            "msisdn": self.msisdn,
            "type": self.type,
            "cost": self.cost,
            "initialPrice": self.initial_price,
            "features": list(self.features),
        }
        if self.limitations:
            shape["limitations"] = limitations_as_api(self.limitations)
        return shape


@dataclass(frozen=True, slots=True)
class Starter:
    """A number an account owns from the start (or gains out-of-band). Some already have a
    messages webhook set elsewhere, limitations, or a rent the owned list shows."""

    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    limitations: tuple[tuple[str, str, str], ...] = ()
    messages_app: str = ""  # the application the number's messages go to, if any
    cost: str = ""  # the monthly rent the owned list shows, if it shows one


def limitations_for(msisdn: str, number_type: str, features) -> tuple[tuple[str, str, str], ...]:
    """What a number cannot do, decided by its digits (so a seed's catalogue stays the same):
    toll-free numbers take calls from their own country only; one SMS number in five sends
    no messages abroad."""
    if number_type == TOLL_FREE:
        return (("VOICE", "INBOUND", "DOMESTIC"),)
    if "SMS" in features and _digits_hash(msisdn) % 5 == 0:
        return (("SMS", "OUTBOUND", "INTERNATIONAL"),)
    return ()


def limitations_as_api(limitations) -> list[dict[str, str]]:
    return [
        {"feature": feature, "type": direction, "reach": reach}
        for feature, direction, reach in limitations
    ]


def _digits_hash(msisdn: str) -> int:
    return zlib.crc32(msisdn.encode())


def accepted_library_types(country: str, number_type: str) -> frozenset:
    """The phonenumbers types that count as `number_type` in `country`."""
    accepted = {_LIBRARY_TYPE[number_type]}
    if (country, number_type) in _AMBIGUOUS:
        accepted.add(PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return frozenset(accepted)


@functools.cache
def types_in(country: str) -> tuple[str, ...]:
    """The number types `country` really has, according to phonenumbers."""
    return tuple(
        t
        for t in NUMBER_TYPES
        if phonenumbers.example_number_for_type(country, _LIBRARY_TYPE[t]) is not None
    )


def is_for_sale(msisdn: str) -> bool:
    """Splits the number space in two, so starter numbers never collide with the catalogue."""
    return _digit_sum(msisdn) % 10 != 0


def _digit_sum(digits: str) -> int:
    return sum(map(int, digits))


@functools.lru_cache(maxsize=4)
def catalogue_for(seed: int) -> "Catalogue":
    """One shared catalogue per seed, so restarts and resets reuse what was generated."""
    return Catalogue(seed)


class Catalogue:
    """The numbers on sale for one seed, generated per country on first use."""

    def __init__(self, seed: int):
        self.seed = seed
        self._lock = threading.Lock()
        self._listings: dict[tuple[str, str], tuple[Listing, ...]] = {}
        self._by_msisdn: dict[str, dict[str, Listing]] = {}

    def listings(self, country: str, number_type: str) -> tuple[Listing, ...]:
        """Every number of that type on sale in that country, ordered by msisdn."""
        self._ensure(country)
        return self._listings.get((country, number_type), ())

    def lookup(self, country: str, msisdn: str) -> Listing | None:
        """The listing of `msisdn` in `country`'s catalogue, if it is in it."""
        self._ensure(country)
        return self._by_msisdn.get(country, {}).get(msisdn)

    def _ensure(self, country: str) -> None:
        if country in self._by_msisdn or country not in COUNTRIES:
            return
        with self._lock:
            if country not in self._by_msisdn:
                self._generate(country)

    def _generate(self, country: str) -> None:
        # One `taken` set per country: where two types share a range (US landline and
        # mobile), a number must still be listed once, under one type.
        taken: set[str] = set()
        index = {}
        for number_type in types_in(country):
            rng = random.Random(f"catalogue:{self.seed}:{country}:{number_type}")
            found = explore(country, number_type, rng, CATALOGUE_SIZE, taken, for_sale=True)
            listings = tuple(_listing(country, number_type, m, rng) for m in sorted(found))
            self._listings[(country, number_type)] = listings
            index.update((listing.msisdn, listing) for listing in listings)
        self._by_msisdn[country] = index


def starter_numbers(seed: int, count: int, *, label: str = "owned", avoid=frozenset()):
    """`count` distinct valid numbers spread over every country and type, never on sale.

    `label` picks an independent random stream, so a later batch differs from the first.
    Numbers in `avoid` are never returned.
    """
    combos = _interleaved_combinations()
    taken = set(avoid)
    starters: list[Starter] = []
    # Each combination gets an even share of what is still missing, so a narrow range that
    # runs dry (a few toll-free plans are small) passes its share on to the next ones.
    for attempt in range(3):
        for position, (country, number_type) in enumerate(combos):
            want = -(-(count - len(starters)) // (len(combos) - position))
            if want <= 0:
                break
            rng = random.Random(f"{label}:{attempt}:{seed}:{country}:{number_type}")
            found = explore(country, number_type, rng, want, taken, for_sale=False)
            starters.extend(
                _starter(country, m, number_type, _features(country, number_type, rng))
                for m in found
            )
    return starters


def _starter(country: str, msisdn: str, number_type: str, features) -> Starter:
    """Every fourth number has its messages routed to an application (in the provider's
    dashboard, not through the portal); every third shows its rent in the owned list."""
    spread = _digits_hash(msisdn)
    app = str(uuid.uuid5(uuid.NAMESPACE_URL, f"app:{msisdn}"))
    return Starter(
        country=country,
        msisdn=msisdn,
        type=number_type,
        features=features,
        limitations=limitations_for(msisdn, number_type, features),
        messages_app=app if spread % 4 == 1 else "",
        cost=_MONTHLY[country][NUMBER_TYPES.index(number_type)] if spread % 3 == 2 else "",
    )


def _interleaved_combinations() -> list[tuple[str, str]]:
    """Every (country, type), ordered so that neighbours differ in country and in type."""
    rounds = len(NUMBER_TYPES)
    combos = [
        (country, NUMBER_TYPES[(position + shift) % rounds])
        for shift in range(rounds)
        for position, country in enumerate(COUNTRIES)
    ]
    return [(country, t) for country, t in combos if t in types_in(country)]


def explore(country, number_type, rng, want, taken, *, for_sale: bool) -> list[str]:
    """Up to `want` new valid msisdns of the type, found by a random walk over the number space.

    Each step keeps a random-length head of a number already found and re-rolls the rest,
    so the walk spreads over several prefixes while most candidates stay valid. The last
    digit then puts the number on the requested side of `is_for_sale`. Found numbers are
    added to `taken`.
    """
    example = phonenumbers.example_number_for_type(country, _LIBRARY_TYPE[number_type])
    code = example.country_code
    accepted = accepted_library_types(country, number_type)
    heads = [phonenumbers.national_significant_number(example)]
    found: list[str] = []
    for _ in range(want * 30):  # a bound, in case a range is narrower than `want`
        if len(found) >= want:
            break
        parent = rng.choice(heads)
        kept = rng.randint(0, len(parent) - 2)
        national = parent[:kept] + "".join(rng.choices("0123456789", k=len(parent) - kept))
        national = _settle(str(code), national, for_sale)
        msisdn = f"{code}{national}"
        if msisdn in taken or not _is_valid(country, code, national, accepted):
            continue
        heads.append(national)
        taken.add(msisdn)
        found.append(msisdn)
    return found


def _settle(code: str, national: str, for_sale: bool) -> str:
    """`national` with its last digit changed, if need be, to land on the wanted side."""
    remainder = _digit_sum(code + national[:-1]) % 10
    last = int(national[-1])
    if for_sale:
        last = last if (remainder + last) % 10 else (last + 1) % 10
    else:
        last = (10 - remainder) % 10
    return f"{national[:-1]}{last}"


def _is_valid(country: str, code: int, national: str, accepted: frozenset) -> bool:
    number = _phone_number(code, national)
    # A known type implies a valid number for the region phonenumbers assigns it to; the
    # second test covers numbers shared between regions (NANP toll-free belongs to "US").
    return phonenumbers.number_type(number) in accepted and (
        phonenumbers.region_code_for_number(number) == country
        or phonenumbers.is_valid_number_for_region(number, country)
    )


def _phone_number(code: int, national: str) -> phonenumbers.PhoneNumber:
    """What `phonenumbers.parse` would build, without the cost of parsing text."""
    zeros = len(national) - len(national.lstrip("0"))
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    if zeros:  # Italian fixed lines keep their leading zero in international format
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    return number


def _listing(country: str, number_type: str, msisdn: str, rng: random.Random) -> Listing:
    monthly = Decimal(_MONTHLY[country][NUMBER_TYPES.index(number_type)])
    setup = monthly if number_type == TOLL_FREE else Decimal(0)
    if _is_golden(msisdn):
        monthly *= _GOLDEN_RENT_FACTOR
        setup += _GOLDEN_SETUP_FEE
    features = _features(country, number_type, rng)
    return Listing(
        country=country,
        msisdn=msisdn,
        type=number_type,
        features=features,
        cost=str(monthly.quantize(_CENTS)),
        initial_price=str(setup.quantize(_CENTS)),
        limitations=limitations_for(msisdn, number_type, features),
    )


def _is_golden(msisdn: str) -> bool:
    """Numbers ending in three equal digits are easy to remember, and priced accordingly."""
    return len(set(msisdn[-3:])) == 1


def _features(country: str, number_type: str, rng: random.Random) -> tuple[str, ...]:
    # KPN documents SMS and VOICE only (upstream also lists MMS for North American mobiles):
    # the sandbox sells what KPN's description promises.
    if number_type == MOBILE:
        return ("VOICE", "SMS")
    if number_type == LANDLINE and rng.random() < 0.3:
        return ("VOICE", "SMS")
    return ("VOICE",)
