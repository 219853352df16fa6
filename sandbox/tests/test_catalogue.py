import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from sandbox import catalogue

DECIMAL = re.compile(r"\d+\.\d{2}")
LIBRARY_TYPE = {
    "landline": {PhoneNumberType.FIXED_LINE},
    "mobile-lvn": {PhoneNumberType.MOBILE},
    "landline-toll-free": {PhoneNumberType.TOLL_FREE},
}
# Where phonenumbers cannot tell fixed from mobile in a numbering plan.
AMBIGUOUS = {("US", "landline"), ("US", "mobile-lvn"), ("CA", "landline"), ("CA", "mobile-lvn")}
AMBIGUOUS |= {("DK", "landline"), ("MX", "mobile-lvn")}
REQUIRED_COUNTRIES = {
    "GB", "NL", "US", "DE", "FR", "BE", "ES", "IT", "SE", "IE", "AT", "CH", "DK",
    "NO", "FI", "PL", "PT", "CZ", "CA", "AU", "JP", "SG", "ZA", "BR", "MX",
}  # fmt: skip


def expected_types(country: str, number_type: str) -> set:
    allowed = set(LIBRARY_TYPE[number_type])
    if (country, number_type) in AMBIGUOUS:
        allowed.add(PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return allowed


def assert_valid(country: str, number_type: str, msisdn: str) -> None:
    parsed = phonenumbers.parse("+" + msisdn)
    assert phonenumbers.is_valid_number(parsed), msisdn
    assert phonenumbers.is_valid_number_for_region(parsed, country), msisdn
    assert phonenumbers.number_type(parsed) in expected_types(country, number_type), msisdn
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == "+" + msisdn


def test_the_catalogue_covers_the_required_countries():
    assert set(catalogue.COUNTRIES) >= REQUIRED_COUNTRIES


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
def test_every_number_on_sale_is_valid_for_its_country_and_type(country):
    shop = catalogue.catalogue_for(1)

    for number_type in catalogue.NUMBER_TYPES:
        listings = shop.listings(country, number_type)
        assert len(listings) >= 1000, (country, number_type)
        for listing in listings:
            assert listing.country == country
            assert listing.type == number_type
            assert_valid(country, number_type, listing.msisdn)


@pytest.mark.parametrize("country", catalogue.COUNTRIES)
def test_each_country_lists_a_number_once_in_order(country):
    shop = catalogue.catalogue_for(1)
    msisdns = [
        listing.msisdn for t in catalogue.NUMBER_TYPES for listing in shop.listings(country, t)
    ]

    assert len(msisdns) == len(set(msisdns))
    for number_type in catalogue.NUMBER_TYPES:
        ordered = [listing.msisdn for listing in shop.listings(country, number_type)]
        assert ordered == sorted(ordered)


def test_numbers_spread_over_several_prefixes():
    shop = catalogue.catalogue_for(1)

    for country in ("GB", "NL", "DE", "US"):
        for number_type in ("landline", "mobile-lvn"):
            heads = {listing.msisdn[:5] for listing in shop.listings(country, number_type)}
            assert len(heads) >= 5, (country, number_type)


def test_features_are_realistic_for_each_type():
    shop = catalogue.catalogue_for(1)

    for country in catalogue.COUNTRIES:
        mobile = {listing.features for listing in shop.listings(country, "mobile-lvn")}
        toll_free = {listing.features for listing in shop.listings(country, "landline-toll-free")}
        landline = {listing.features for listing in shop.listings(country, "landline")}
        assert mobile == {("VOICE", "SMS")}  # KPN documents no MMS
        assert toll_free == {("VOICE",)}
        assert landline == {("VOICE",), ("VOICE", "SMS")}


def test_prices_are_euro_decimal_strings():
    shop = catalogue.catalogue_for(1)

    for country in catalogue.COUNTRIES:
        for number_type in catalogue.NUMBER_TYPES:
            for listing in shop.listings(country, number_type):
                assert DECIMAL.fullmatch(listing.cost)
                assert DECIMAL.fullmatch(listing.initial_price)
                assert float(listing.cost) > 0


def test_the_same_seed_gives_the_same_catalogue():
    first = catalogue.Catalogue(5)
    second = catalogue.Catalogue(5)
    other = catalogue.Catalogue(6)

    assert first.listings("NL", "mobile-lvn") == second.listings("NL", "mobile-lvn")
    assert first.listings("JP", "landline") == second.listings("JP", "landline")
    assert first.listings("NL", "mobile-lvn") != other.listings("NL", "mobile-lvn")


def test_lookup_finds_a_listing_only_in_its_own_country():
    shop = catalogue.catalogue_for(1)
    listing = shop.listings("BE", "landline")[10]

    assert shop.lookup("BE", listing.msisdn) == listing
    assert shop.lookup("NL", listing.msisdn) is None
    assert shop.lookup("XX", listing.msisdn) is None


def test_starter_numbers_are_valid_distinct_varied_and_never_on_sale():
    starters = catalogue.starter_numbers(3, 2000)
    shop = catalogue.catalogue_for(3)

    assert len({s.msisdn for s in starters}) == 2000
    assert {s.country for s in starters} == set(catalogue.COUNTRIES)
    assert {s.type for s in starters} == set(catalogue.NUMBER_TYPES)
    for starter in starters:
        assert_valid(starter.country, starter.type, starter.msisdn)
        assert shop.lookup(starter.country, starter.msisdn) is None


def test_a_few_starter_numbers_come_from_different_countries():
    starters = catalogue.starter_numbers(1, 6)

    assert len({s.country for s in starters}) == 6
    assert len({s.type for s in starters}) == 3


def test_starter_numbers_are_deterministic_for_a_seed():
    assert catalogue.starter_numbers(9, 300) == catalogue.starter_numbers(9, 300)
    assert catalogue.starter_numbers(9, 300) != catalogue.starter_numbers(10, 300)
