"""hatchet.wire.durations: the duration strings the SDK sends and the server reads."""

import pytest

from hatchet.wire.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("0s", 0.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("365d", 365 * 86400.0),
        (f"{365 * 86400 * 1000}ms", 365 * 86400.0),
    ],
)
def test_parses_each_unit(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value", ["", "30", "s", "1.5s", "-1s", " 30s", "30s ", "30 s", "30S", "1w", "1m30s", "ms"]
)
def test_rejects_malformed_strings(value):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [30, 1.5, None])
def test_rejects_non_strings(value):
    with pytest.raises(TypeError, match="must be a string"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["366d", "8761h", "31536001s", "1" + "0" * 30 + "s"])
def test_rejects_durations_over_a_year(value):
    with pytest.raises(ValueError, match=f"duration '{value}' is too long: at most 365d"):
        parse_duration(value)
