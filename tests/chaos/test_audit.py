"""The audit's rule for a cron's runs: which fired a fire time twice, though a run
does not say which fire time started it."""

from datetime import UTC, datetime, timedelta

from tests.chaos.audit import cron_fires

START = datetime(2026, 12, 2, 21, 0, 0, tzinfo=UTC)  # a fire time of */5 * * * * *


def created(*seconds: float) -> list[datetime]:
    return [START + timedelta(seconds=s) for s in seconds]


def test_a_cron_firing_on_time_fired_nothing_twice_and_missed_nothing() -> None:
    assert cron_fires(created(0.1, 5.1, 10.2, 15.1, 20.3)) == ([], 0)


def test_after_downtime_the_missed_fire_times_fire_once_and_count_as_missed() -> None:
    assert cron_fires(created(0.1, 5.1, 37.2, 40.1, 45.1)) == ([], 5)


def test_a_fire_late_by_less_than_the_period_is_not_taken_for_the_next_one() -> None:
    assert cron_fires(created(0.1, 5.1, 14.9, 15.1, 20.1)) == ([], 0)


def test_a_second_run_for_one_fire_time_is_found() -> None:
    assert cron_fires(created(0.1, 5.1, 10.1, 10.2, 15.1)) == ([3], 0)


def test_a_second_run_two_seconds_late_is_found() -> None:
    assert cron_fires(created(0.1, 5.1, 10.1, 12.1, 15.1)) == ([3], 0)


def test_a_second_run_right_after_downtime_is_found() -> None:
    assert cron_fires(created(0.1, 5.1, 37.2, 37.3, 40.1)) == ([3], 5)
