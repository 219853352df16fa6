"""Page arithmetic shared by the catalogue (pages of the API) and the inventory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pagination:
    count: int  # items over all pages
    page: int  # 1-based
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def exists(self) -> bool:
        """Whether this page is within the results (page 1 always is)."""
        return self.page <= self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def previous(self) -> int:
        return min(self.page - 1, self.pages)

    @property
    def next(self) -> int:
        return self.page + 1

    @property
    def first_item(self) -> int:
        return 0 if self.count == 0 else (self.page - 1) * self.size + 1

    @property
    def last_item(self) -> int:
        return min(self.page * self.size, self.count)
