"""Cleaning what people type into the catalogue search."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.forms import CatalogueSearchForm


def cleaned(**data):
    form = CatalogueSearchForm({"country": "NL", **data})
    assert form.is_valid(), form.errors
    return form.cleaned_data


def pattern_error(**data):
    form = CatalogueSearchForm({"country": "NL", **data})
    assert not form.is_valid()
    return " ".join(form.errors["pattern"])


@pytest.mark.parametrize(
    ("country", "typed", "prefix"),
    [
        ("NL", "06", "316"),
        ("NL", "06 12", "31612"),
        ("NL", "020", "3120"),
        ("NL", "+31 6", "316"),
        ("NL", "0031 20", "3120"),
        ("NL", "(020) 555-12", "312055512"),
        ("GB", "07700", "447700"),
        ("GB", "+44 20", "4420"),
        ("DE", "030", "4930"),
        ("US", "212", "1212"),
        ("US", "1 212", "1212"),
        ("IT", "06", "3906"),  # Italian numbers keep their leading zero
    ],
)
def test_starts_with_turns_what_people_type_into_an_e164_prefix(country, typed, prefix):
    data = cleaned(country=country, pattern=typed, match="starts")
    assert data["digit_pattern"].digits == prefix
    assert data["digit_pattern"].search_pattern == 0


def test_contains_and_ends_with_send_the_digits_as_typed():
    assert cleaned(pattern="12 34", match="contains")["digit_pattern"].digits == "1234"
    assert cleaned(pattern="0042", match="ends")["digit_pattern"].search_pattern == 2


def test_an_empty_pattern_means_no_pattern():
    assert cleaned(pattern="")["digit_pattern"] is None


def test_starts_with_is_the_default_match():
    assert cleaned(pattern="06")["digit_pattern"].mode == "starts"


def test_letters_are_a_field_error():
    assert "digits only" in pattern_error(pattern="06-CALL-ME")


def test_another_countrys_code_is_a_field_error():
    assert "not a Netherlands number" in pattern_error(pattern="+44 7700", match="starts")


def test_a_country_code_with_contains_is_a_field_error():
    assert "only makes sense" in pattern_error(pattern="+31", match="contains")


def test_an_overlong_prefix_is_a_field_error():
    assert "longer than any phone number" in pattern_error(pattern="0" + "9" * 16)


def test_an_unknown_country_is_named_in_the_error():
    form = CatalogueSearchForm({"country": "XX"})
    assert not form.is_valid()
    assert "“XX” is not a country" in form.errors["country"][0]


def test_page_size_is_capped_at_100():
    assert not CatalogueSearchForm({"country": "NL", "size": "500"}).is_valid()
    assert cleaned(size="100")["size"] == 100


@given(
    country=st.sampled_from(["NL", "GB", "US", "IT", "XX", ""]),
    pattern=st.text(max_size=30),
    match=st.sampled_from(["starts", "contains", "ends", "", "bogus"]),
    size=st.text(max_size=4),
    page=st.text(max_size=6),
)
def test_any_input_either_cleans_to_a_valid_query_or_names_an_error(
    country, pattern, match, size, page
):
    form = CatalogueSearchForm(
        {"country": country, "pattern": pattern, "match": match, "size": size, "page": page}
    )
    if form.is_valid():
        found = form.cleaned_data["digit_pattern"]
        assert found is None or re.fullmatch(r"[0-9]{0,15}", found.digits)
        assert 1 <= form.cleaned_data["size"] <= 100
    else:
        assert form.errors
