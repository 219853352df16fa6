"""How the client paces one kind of call from the windows the gateway's headers describe."""

from datetime import UTC, datetime

from inventory.api_client.pacing import SPIKE_ARREST_SECONDS, UPSTREAM_WINDOWS, Pace, Window
from inventory.api_client.results import Quota

LIST_CALL = "GET /account/numbers"


def answer(limit, used, unit="minute"):
    """The quota figures of one answer, as the gateway's headers give them."""
    now = datetime.now(tz=UTC)
    return Quota(limit=limit, used=used, interval=1, time_unit=unit, reset_at=now, seen_at=now)


def test_a_window_described_once_keeps_pacing_when_answers_describe_another():
    pace = Pace()
    pace.learn(answer(60, 1))  # the listing's own window: a second apart

    pace.learn(answer(180, 150))  # the API-wide window, now the tightest

    assert pace.spacing() == 1.0
    assert pace.windows == {Window(60, 60), Window(180, 60)}


def test_a_window_goes_once_an_answer_leaves_more_calls_than_its_whole_limit():
    pace = Pace()
    pace.learn(answer(60, 1))

    pace.learn(answer(100_000, 5))  # no window of 60 could leave 99,995 calls

    assert pace.windows == set()
    assert pace.spacing() == 0.0


def test_a_window_stays_while_answers_leave_no_more_than_its_limit():
    pace = Pace()
    pace.learn(answer(60, 1))

    pace.learn(answer(180, 121))  # 59 left: the window of 60 may still be in force

    assert Window(60, 60) in pace.windows


def test_a_listing_starts_at_upstreams_pace_of_one_a_second():
    pace = Pace(UPSTREAM_WINDOWS[LIST_CALL])

    assert pace.spacing() == 1.0


def test_upstreams_pace_ends_with_the_first_answer_that_shows_more_room():
    pace = Pace(UPSTREAM_WINDOWS[LIST_CALL])

    pace.learn(answer(100_000, 1))

    assert pace.spacing() == 0.0


def test_windows_longer_than_a_minute_set_no_pace():
    pace = Pace()

    pace.learn(answer(1000, 10, unit="day"))

    assert pace.spacing() == 0.0
    assert pace.windows == set()


def test_a_spike_arrest_keeps_calls_a_second_apart_whatever_the_headers_say():
    pace = Pace()
    pace.learn(answer(180, 1))

    pace.arrested()
    pace.learn(answer(100_000, 1))

    assert pace.spacing() == SPIKE_ARREST_SECONDS


def test_figures_without_a_limit_change_nothing():
    pace = Pace(UPSTREAM_WINDOWS[LIST_CALL])

    pace.learn(answer(None, None))

    assert pace.spacing() == 1.0
