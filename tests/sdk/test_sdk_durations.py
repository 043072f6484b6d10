import pytest

from hatchet.sdk.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("0s", 0.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
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
