"""SLA arithmetic in pure domain code: business hours in a dealer's time zone, pauses."""

from datetime import UTC, date, datetime, time, timedelta

from services.tickets.domain.sla import (
    ALWAYS_OPEN,
    BusinessHours,
    SlaClock,
    SlaClockKind,
    business_hours_problem,
    policy_rank,
)

NINE_TO_SIX = ((time(9), time(18)),)
SHANGHAI = BusinessHours(
    time_zone="Asia/Shanghai",
    weekly={day: NINE_TO_SIX for day in ("mon", "tue", "wed", "thu", "fri")},
    holidays=frozenset({date(2026, 3, 4)}),
)


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Shanghai local time (UTC+8, no DST)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_around_the_clock_is_plain_addition():
    start = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)
    assert ALWAYS_OPEN.add(start, 1800) == datetime(2026, 3, 3, 0, 20, tzinfo=UTC)


def test_time_outside_opening_hours_does_not_count():
    # Monday 17:45: 15 minutes today, the other 45 on Tuesday morning.
    assert SHANGHAI.add(shanghai(2, 17, 45), 3600) == shanghai(3, 9, 45)
    # Opened at night: the clock starts at opening.
    assert SHANGHAI.add(shanghai(2, 22), 1800) == shanghai(3, 9, 30)


def test_weekends_and_holidays_are_skipped():
    # Friday 17:00 + 2 h → Monday 10:00.
    assert SHANGHAI.add(shanghai(6, 17), 7200) == shanghai(9, 10)
    # Tuesday 17:00 + 2 h: Wednesday 4 March is a holiday → Thursday 10:00.
    assert SHANGHAI.add(shanghai(3, 17), 7200) == shanghai(5, 10)


def test_business_seconds_between_two_moments():
    assert SHANGHAI.seconds_between(shanghai(6, 17), shanghai(9, 10)) == 7200
    assert SHANGHAI.seconds_between(shanghai(7, 10), shanghai(8, 20)) == 0  # weekend


def test_daylight_saving_time_is_respected():
    berlin = BusinessHours(time_zone="Europe/Berlin", weekly={"mon": NINE_TO_SIX})
    # 30 March 2026 is the Monday after Berlin moves to summer time (UTC+2).
    assert berlin.add(datetime(2026, 3, 30, 0, 0, tzinfo=UTC), 60) == datetime(
        2026, 3, 30, 7, 1, tzinfo=UTC
    )


def test_a_paused_clock_has_no_deadline_and_resumes_with_what_was_left():
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    clock = SlaClock.started(SlaClockKind.RESOLUTION, 3600, start)
    assert clock.due_at(ALWAYS_OPEN) == start + timedelta(hours=1)

    paused = clock.pause(start + timedelta(minutes=20), ALWAYS_OPEN)
    assert paused.due_at(ALWAYS_OPEN) is None
    assert paused.consumed_seconds == 1200

    # Two days waiting on parts cost nothing: 40 minutes remain after resuming.
    resumed = paused.resume(start + timedelta(days=2))
    assert resumed.due_at(ALWAYS_OPEN) == start + timedelta(days=2, minutes=40)


def test_pauses_in_business_hours_count_only_open_time():
    clock = SlaClock.started(SlaClockKind.FIRST_RESPONSE, 3600, shanghai(2, 17, 30))
    paused = clock.pause(shanghai(3, 9, 10), SHANGHAI)  # 30 min Monday + 10 min Tuesday
    assert paused.consumed_seconds == 2400
    assert paused.resume(shanghai(3, 14)).due_at(SHANGHAI) == shanghai(3, 14, 20)


def test_a_stopped_clock_reports_whether_it_was_met():
    start = datetime(2026, 3, 2, tzinfo=UTC)
    clock = SlaClock.started(SlaClockKind.FIRST_RESPONSE, 1800, start)
    assert clock.met is None
    assert clock.stop(start + timedelta(minutes=29), ALWAYS_OPEN).met is True
    assert clock.stop(start + timedelta(minutes=31), ALWAYS_OPEN).met is False
    late = clock.breach(start + timedelta(minutes=30)).stop(start + timedelta(hours=1), ALWAYS_OPEN)
    assert late.met is False and late.due_at(ALWAYS_OPEN) is None


def test_a_reopened_case_restarts_with_the_remaining_resolution_time():
    start = datetime(2026, 3, 2, tzinfo=UTC)
    clock = SlaClock.started(SlaClockKind.RESOLUTION, 7200, start)
    stopped = clock.stop(start + timedelta(minutes=30), ALWAYS_OPEN)
    again = stopped.restart(start + timedelta(days=1))
    assert again.due_at(ALWAYS_OPEN) == start + timedelta(days=1, minutes=90)


def test_opening_hours_are_validated():
    assert business_hours_problem({"mon": [(time(9), time(18))]}) is None
    assert "not a weekday" in business_hours_problem({"monday": [(time(9), time(18))]})
    assert "must be before" in business_hours_problem({"mon": [(time(18), time(9))]})
    assert "overlap" in business_hours_problem({"mon": [(time(9), time(13)), (time(12), time(18))]})
    assert "at least one day" in business_hours_problem({"mon": []})


def test_the_most_specific_policy_wins():
    assert policy_rank("complaint", "high", "complaint", "high") == 3
    assert policy_rank("complaint", None, "complaint", "high") == 2
    assert policy_rank(None, "high", "complaint", "high") == 1
    assert policy_rank(None, None, "complaint", "high") == 0
    assert policy_rank("inquiry", None, "complaint", "high") is None
