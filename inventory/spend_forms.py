"""Forms for spend: contract prices on the rate card (one at a time, or a CSV file of
them), budgets, and the team a purchase is for."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django import forms

from inventory import phone
from inventory.forms import CountryField, PortalForm
from inventory.models import NumberType
from inventory.services.pricing import ContractPrice

MAX_PRICE = Decimal("100000")
CSV_MAX_BYTES = 512 * 1024
CSV_MAX_ROWS = 2000
CSV_COLUMNS = ("country", "type", "monthly", "setup")
TEAM_HELP = "Optional. The number gets this team, and the team's budget applies."
_TYPE_WORDS = {
    **{value: value for value in NumberType.values},
    **{label.lower(): value for value, label in NumberType.choices},
    "toll-free": NumberType.TOLL_FREE,
    "tollfree": NumberType.TOLL_FREE,
    "mobile-lvn": NumberType.MOBILE,
}


def price_from_text(text: str, *, what: str) -> Decimal | None:
    """ "1.25", "€1,25" or "" (none) → a price in EUR, or ValueError saying what is wrong."""
    cleaned = text.strip().removeprefix("€").strip().replace(",", ".")
    if not cleaned:
        return None
    try:
        price = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"the {what} “{text.strip()}” is not an amount such as 1.25") from None
    if not price.is_finite() or price < 0 or price >= MAX_PRICE:
        raise ValueError(f"the {what} must be between 0 and {MAX_PRICE:,} euros")
    if price != price.quantize(Decimal("0.0001")):
        raise ValueError(f"the {what} has more than four decimals")
    return price


class MoneyField(forms.CharField):
    """An amount in euros, as people type it ("1.25", "€1,25"); empty for none."""

    def __init__(self, **kwargs):
        super().__init__(max_length=20, required=False, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        try:
            return price_from_text(text, what=str(self.label).lower())
        except ValueError as problem:
            raise forms.ValidationError(f"{str(problem).capitalize()}.", code="money") from None


class ContractPriceForm(PortalForm):
    """One country and type's contract price; an empty monthly price removes it."""

    country = CountryField()
    type = forms.ChoiceField(label="Number type", choices=NumberType.choices)
    monthly = MoneyField(label="Monthly price", help_text="Empty: use the catalogue price.")
    setup = MoneyField(label="Setup price")

    def contract_price(self) -> ContractPrice:
        data = self.cleaned_data
        return ContractPrice(data["country"], data["type"], data["monthly"], data["setup"])


class RateCardImportForm(forms.Form):
    """A CSV file of contract prices: country, type, monthly, setup (a header row first).
    Every row is checked before any is applied; what is wrong is said per row."""

    file = forms.FileField(
        label="CSV file",
        help_text="Columns: country, type, monthly, setup. An empty monthly price removes "
        "the contract price for that country and type.",
        error_messages={"required": "Choose a CSV file to import.", "empty": "The file is empty."},
    )

    def clean_file(self) -> list[ContractPrice]:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {CSV_MAX_BYTES // 1024} KB; import it in parts."
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not text in UTF-8: save it from the spreadsheet as “CSV UTF-8”."
            ) from None
        prices, problems = parse_rate_card_csv(text)
        if problems:
            raise forms.ValidationError(problems)
        return prices


def parse_rate_card_csv(text: str) -> tuple[list[ContractPrice], list[str]]:
    """The contract prices a CSV file gives, and a sentence for each row that is wrong."""
    dialect = ";" if text.splitlines()[:1] and text.splitlines()[0].count(";") > 0 else ","
    reader = csv.reader(io.StringIO(text), delimiter=dialect)
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [name for name in CSV_COLUMNS[:3] if name not in header]
    if missing:
        return [], [
            "The first row must name the columns country, type, monthly and setup; "
            f"it lacks {', '.join(missing)}."
        ]
    where = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    prices: list[ContractPrice] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}  # (country, type) → the row that gave it
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if number > CSV_MAX_ROWS + 1:
            problems.append(f"The file has more than {CSV_MAX_ROWS:,} rows; import it in parts.")
            break
        try:
            price = _row_price(row, where)
        except ValueError as problem:
            problems.append(f"Row {number}: {problem}.")
            continue
        kind = (price.country, price.type)
        if kind in seen:
            problems.append(f"Row {number}: the same country and type as row {seen[kind]}.")
            continue
        seen[kind] = number
        prices.append(price)
    if not prices and not problems:
        problems.append("The file has no rows of prices under its header.")
    return prices, problems


def _row_price(row: list[str], where: dict[str, int]) -> ContractPrice:
    def cell(name: str) -> str:
        index = where.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    country = cell("country").upper()
    if country not in phone.country_codes():
        raise ValueError(f"“{cell('country')}” is not a country code such as NL or GB")
    number_type = _TYPE_WORDS.get(cell("type").lower())
    if number_type is None:
        raise ValueError(f"“{cell('type')}” is not a number type (landline, mobile or toll-free)")
    monthly = price_from_text(cell("monthly"), what="monthly price")
    setup = price_from_text(cell("setup"), what="setup price")
    return ContractPrice(country, number_type, monthly, setup)


class BudgetForm(PortalForm):
    team = forms.CharField(
        label="Team",
        max_length=100,
        required=False,
        help_text="Empty for the overall budget of the whole account.",
    )
    amount = MoneyField(label="Monthly budget", help_text="Empty: no budget.")


class TeamForm(PortalForm):
    """The team a purchase is for (optional)."""

    team = forms.CharField(label="For team", max_length=100, required=False, help_text=TEAM_HELP)
