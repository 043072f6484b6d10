"""The audit's rule for a cron's runs: which fired a fire time twice, and how many
fire times none fired, from the fire time each run records."""

from datetime import UTC, datetime, timedelta

from tests.chaos.audit import cron_fires

START = datetime(2026, 12, 2, 21, 0, 0, tzinfo=UTC)  # a fire time of */5 * * * * *


def fired_for(*seconds: float) -> list[datetime]:
    return [START + timedelta(seconds=s) for s in seconds]


def test_a_cron_firing_every_time_fired_nothing_twice_and_missed_nothing() -> None:
    assert cron_fires(fired_for(0, 5, 10, 15, 20)) == ([], 0)


def test_after_downtime_the_missed_fire_times_fire_once_and_count_as_missed() -> None:
    # Down from 7 s to 37 s: the tick at 10 s fires late, once; 15 to 35 s are missed.
    assert cron_fires(fired_for(0, 5, 10, 40, 45)) == ([], 5)


def test_a_second_run_for_one_fire_time_is_found() -> None:
    assert cron_fires(fired_for(0, 5, 10, 10, 15)) == ([3], 0)


def test_a_second_run_right_after_downtime_is_found() -> None:
    assert cron_fires(fired_for(0, 5, 10, 10, 40)) == ([3], 5)
