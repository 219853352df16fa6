"""The API's `pattern` + `search_pattern` pair, applied in Python and in SQL alike."""

from dataclasses import dataclass

STARTS_WITH, CONTAINS, ENDS_WITH = 0, 1, 2


@dataclass(frozen=True)
class Pattern:
    """Digits to look for in the full E.164 msisdn (country code included), and where."""

    digits: str
    mode: int = STARTS_WITH

    def matches(self, msisdn: str) -> bool:
        if self.mode == STARTS_WITH:
            return msisdn.startswith(self.digits)
        if self.mode == ENDS_WITH:
            return msisdn.endswith(self.digits)
        return self.digits in msisdn

    def sql(self) -> tuple[str, list]:
        """A WHERE clause on the `msisdn` column, with its parameters."""
        if self.mode == STARTS_WITH:
            return prefix_range(self.digits)
        if self.mode == ENDS_WITH:
            return "substr(msisdn, ?) = ?", [-len(self.digits), self.digits]
        return "instr(msisdn, ?) > 0", [self.digits]


def prefix_range(prefix: str) -> tuple[str, list]:
    """A "starts with" test as a range, so SQLite can walk the msisdn index instead of scanning."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return "msisdn >= ? AND msisdn < ?", [prefix, following]
