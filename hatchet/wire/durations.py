"""Duration strings as the server accepts them: an integer followed by ms, s, m, h or d;
and the bounds of the durations and times the server takes (it refuses what is out of
range where it is registered, never when it is used)."""

import re
from datetime import timedelta

# The longest duration anywhere (a timeout, a backoff, a timeout refresh): 10^30 s was
# taken and then broke every start of its step (a deadline past year 9999).
MAX_DURATION = timedelta(days=365)
# How far ahead a run may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=10 * 366)

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str) -> float:
    """Return the number of seconds in a duration string such as "30s", "10m" or "500ms"."""
    if not isinstance(value, str):
        raise TypeError(f"a duration must be a string like '30s', not {type(value).__name__}")
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(
            f"invalid duration {value!r}: use an integer followed by ms, s, m, h or d "
            "(e.g. '500ms', '30s', '10m', '1h', '2d')"
        )
    amount, unit = match.groups()
    seconds = int(amount) * _UNIT_SECONDS[unit]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {value!r} is too long: at most {MAX_DURATION.days}d")
    return seconds
