"""Pure analytics rules: reporting periods and the coaching signals' arithmetic."""

from datetime import date, timedelta

import pytest

from services.feedback.domain import SurveyKind
from services.feedback.domain.analytics import (
    CoachingFlag,
    IntegrityCounts,
    Period,
    Slice,
    Tile,
    coaching_flags,
    is_top_box,
    next_period,
    period_start,
    period_starts,
    tiles,
    top_box_jump_z,
)


@pytest.mark.parametrize(
    ("period", "day", "start"),
    [(Period.DAY, date(2026, 3, 4), date(2026, 3, 4)),
     (Period.WEEK, date(2026, 3, 4), date(2026, 3, 2)),  # a Wednesday: its Monday
     (Period.WEEK, date(2026, 3, 1), date(2026, 2, 23)),  # a Sunday: the Monday before
     (Period.MONTH, date(2026, 2, 28), date(2026, 2, 1))],
)  # fmt: skip
def test_a_day_falls_in_one_period(period, day, start):
    assert period_start(period, day) == start


def test_a_series_lists_every_period_that_overlaps_the_window():
    months = period_starts(Period.MONTH, date(2025, 11, 15), date(2026, 2, 3))
    assert months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert len(period_starts(Period.DAY, date(2024, 2, 1), date(2024, 3, 1))) == 30  # leap year
    assert period_starts(Period.WEEK, date(2026, 3, 2), date(2026, 3, 8)) == [date(2026, 3, 2)]


def test_totals_cover_the_window_exactly_with_the_coarsest_periods():
    assert tiles(date(2026, 1, 1), date(2026, 3, 31)) == [
        Tile(Period.MONTH, date(2026, 1, 1), date(2026, 3, 1))
    ]
    # Thursday 26 February to Monday 20 April: days, March, days, two weeks, a day.
    assert tiles(date(2026, 2, 26), date(2026, 4, 20)) == [
        Tile(Period.DAY, date(2026, 2, 26), date(2026, 2, 28)),
        Tile(Period.MONTH, date(2026, 3, 1), date(2026, 3, 1)),
        Tile(Period.DAY, date(2026, 4, 1), date(2026, 4, 5)),
        Tile(Period.WEEK, date(2026, 4, 6), date(2026, 4, 13)),
        Tile(Period.DAY, date(2026, 4, 20), date(2026, 4, 20)),
    ]


def covered_days(window: list[Tile]) -> list[date]:
    days = []
    for tile in window:
        for start in period_starts(tile.period, tile.first_start, tile.last_start):
            end = next_period(tile.period, start)
            days += [start + timedelta(days=n) for n in range((end - start).days)]
    return sorted(days)


def test_the_tiles_cover_every_day_of_any_window_once():
    first = date(2025, 12, 20)
    for length in range(0, 120, 3):
        for shift in range(0, 40, 7):
            start = first + timedelta(days=shift)
            last = start + timedelta(days=length)
            expected = [start + timedelta(days=n) for n in range(length + 1)]
            assert covered_days(tiles(start, last)) == expected


def test_the_baseline_is_the_equally_long_window_before():
    part = Slice(kind=SurveyKind.NPS, first=date(2026, 3, 1), last=date(2026, 3, 10))
    baseline = part.baseline()
    assert (baseline.first, baseline.last) == (date(2026, 2, 19), date(2026, 2, 28))


def test_top_box_is_the_highest_answer_of_each_scale():
    assert is_top_box(SurveyKind.NPS, 10) and not is_top_box(SurveyKind.NPS, 9)
    assert is_top_box(SurveyKind.CSAT, 5) and not is_top_box(SurveyKind.CSAT, None)


def counts(**fields) -> IntegrityCounts:
    base = dict(answers=40, top_box=4, baseline_answers=40, baseline_top_box=4,
                from_dealer_network=0, from_shared_network=0)  # fmt: skip
    return IntegrityCounts(**base | fields)


def test_a_jump_needs_size_significance_and_enough_answers():
    assert top_box_jump_z(4, 40, 4, 40) == 0.0
    assert top_box_jump_z(30, 40, 4, 40) > 5
    assert coaching_flags(counts(top_box=30)) == [CoachingFlag.TOP_BOX_JUMP]
    assert coaching_flags(counts(top_box=9)) == []  # +12.5 points: within the noise
    small = counts(answers=10, top_box=10, baseline_answers=10, baseline_top_box=1)
    assert coaching_flags(small) == []  # too few answers to tell
    assert coaching_flags(counts(top_box=2, baseline_top_box=30)) == []  # a fall is no jump


def test_network_signals_need_a_few_answers_and_a_share():
    assert coaching_flags(counts(from_dealer_network=2)) == []
    assert coaching_flags(counts(from_dealer_network=3)) == [CoachingFlag.DEALER_NETWORK]
    assert coaching_flags(counts(answers=1000, from_shared_network=20)) == []  # 2 %
    assert coaching_flags(counts(from_shared_network=5)) == [CoachingFlag.SHARED_NETWORK]
