import pytest

from inventory.paging import Pagination


@pytest.mark.parametrize(
    ("count", "size", "pages"), [(0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (250, 100, 3)]
)
def test_pages_round_up(count, size, pages):
    assert Pagination(count, 1, size).pages == pages


def test_the_first_page_has_no_previous():
    page = Pagination(25, 1, 10)
    assert (page.has_previous, page.has_next, page.next) == (False, True, 2)
    assert (page.first_item, page.last_item) == (1, 10)


def test_the_last_page_has_no_next_and_may_be_short():
    page = Pagination(25, 3, 10)
    assert (page.has_previous, page.has_next, page.previous) == (True, False, 2)
    assert (page.first_item, page.last_item) == (21, 25)


def test_a_page_past_the_end_does_not_exist_and_points_back_to_the_last():
    page = Pagination(25, 9, 10)
    assert not page.exists
    assert page.previous == 3


def test_an_empty_result_is_one_empty_page():
    page = Pagination(0, 1, 20)
    assert page.exists
    assert (page.first_item, page.last_item) == (0, 0)
