"""Deep pages of the inventory by seek: following the pager's links gives exactly the pages
that counting rows from the start gives, for every sort both ways, forwards and back."""

import re
from html import unescape

from django.db.models import F

from inventory import selectors
from inventory.forms import INVENTORY_SORT_CHOICES
from inventory.models import OwnedNumber
from inventory.paging import Pagination
from inventory.selectors import InventoryFilter
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import varied_numbers

SORTS = [value for value, _ in INVENTORY_SORT_CHOICES]
COLUMNS = {"country": "country_name"}


def expected_order(sort: str) -> list[str]:
    """The order the page promises, by Django's own NULLS LAST ordering."""
    name = sort.lstrip("-")
    column = F(COLUMNS.get(name, name))
    descending = sort.startswith("-")
    keys = [column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)]
    keys.append(F("msisdn").desc() if descending else F("msisdn").asc())
    return list(OwnedNumber.objects.order_by(*keys).values_list("msisdn", flat=True))


class KeysetPagingTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        varied_numbers(233)  # 5 pages of 50, the last one short

    def page(self, **values) -> selectors.InventoryPage:
        return selectors.owned_number_list(filters=InventoryFilter(size=50, **values))

    def test_following_next_gives_the_counted_pages_for_every_sort(self):
        for sort in SORTS:
            order = expected_order(sort)
            page, seen = self.page(sort=sort), []
            while True:
                counted = self.page(sort=sort, page=page.pagination.page)
                assert [n.msisdn for n in page.rows] == [n.msisdn for n in counted.rows], sort
                seen += [n.msisdn for n in page.rows]
                if not page.pagination.has_next:
                    break
                after = page.pagination.after
                page = self.page(sort=sort, page=page.pagination.next, after=after)
            assert seen == order, sort
            assert page.pagination.page == 5

    def test_following_previous_from_the_last_page_gives_the_same_pages(self):
        for sort in SORTS:
            order = expected_order(sort)
            page, seen = self.page(sort=sort, page=5), []
            assert [n.msisdn for n in page.rows] == order[200:], sort
            while True:
                seen = [n.msisdn for n in page.rows] + seen
                if not page.pagination.has_previous:
                    break
                before = page.pagination.before
                page = self.page(sort=sort, page=page.pagination.previous, before=before)
            assert seen == order, sort

    def test_a_page_counted_from_the_end_is_the_same_as_from_the_start(self):
        for page_number in (3, 4):
            rows = self.page(sort="-monthly_cost", page=page_number).rows
            start = (page_number - 1) * 50
            assert [n.msisdn for n in rows] == expected_order("-monthly_cost")[start : start + 50]

    def test_a_cursor_of_another_sort_or_a_tampered_one_counts_pages_instead(self):
        order = expected_order("label")
        for cursor in ("msisdn~~31700000007", "label~x~not-digits", "label~~", "~", "%%%"):
            page = self.page(sort="label", page=2, after=cursor)
            assert [n.msisdn for n in page.rows] == order[50:100], cursor

    def test_the_pager_links_carry_the_cursors_and_still_say_page_x_of_y(self):
        self.login(self.viewer)
        response = self.client.get("/inventory/", {"sort": "-purchased_at"})
        page_two = unescape(re.search(r'href="([^"]+)" rel="next"', response.content.decode())[1])
        assert "after=-purchased_at~" in page_two

        response = self.client.get("/inventory/" + page_two)

        self.assertContains(response, "51–100 of 233 · page 2 of 5")
        rows = [n.msisdn for n in response.context["listing"].rows]
        assert rows == expected_order("-purchased_at")[50:100]
        back = unescape(re.search(r'href="([^"]+)" rel="prev"', response.content.decode())[1])
        assert "before=" not in back  # page 1 is the canonical first page
        self.assertContains(response, "Last</a>")


class BoundedCountTestCase(BaseTestCase):
    def test_a_search_no_totals_group_covers_says_more_than_the_bound(self):
        varied_numbers(1500)
        OwnedNumber.objects.update(label="Shared line")
        self.login(self.viewer)

        response = self.client.get("/inventory/", {"q": "shared"})

        summary = response.context["listing"].summary
        assert (summary.exact, summary.count) == (False, selectors.COUNT_BOUND)
        self.assertContains(response, "More than <strong>1000</strong> numbers match")
        self.assertContains(response, "of more than 1000 · page 1")
        assert response.context["listing"].pagination.has_next


def test_a_count_that_is_a_lower_bound_has_no_last_page():
    pagination = Pagination(1000, 3, 50, exact=False, more=True, after="x", before="y")
    assert pagination.exists
    assert pagination.has_next
    assert pagination.last_item == 150
