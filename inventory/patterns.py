"""Digit patterns: what people type to find numbers, as the API and the cache match them."""

from __future__ import annotations

from dataclasses import dataclass

MATCH_MODES = [
    ("starts", "starts with"),
    ("contains", "contains"),
    ("ends", "ends with"),
]
# The API's search_pattern values for each match mode.
SEARCH_PATTERN = {"starts": 0, "contains": 1, "ends": 2}


@dataclass(frozen=True)
class DigitPattern:
    """A digit pattern the user typed, turned into what the API expects."""

    digits: str  # what is sent as `pattern`
    mode: str  # starts / contains / ends

    @property
    def search_pattern(self) -> int:
        return SEARCH_PATTERN[self.mode]

    def describe(self) -> str:
        """The pattern as words: Numbers {that start with +316}."""
        shown = f"+{self.digits}" if self.mode == "starts" else self.digits
        verb = {"starts": "start with", "contains": "contain", "ends": "end with"}[self.mode]
        return f"that {verb} {shown}"
