"""Human sizes and durations (go-units), Go durations, --since timestamps."""

from __future__ import annotations

import pytest

from dockwright.cli.timefmt import get_timestamp
from dockwright.cli.units import (
    bytes_size,
    format_duration,
    human_size,
    parse_duration,
    parse_nano_cpus,
    ram_in_bytes,
)
from dockwright.types.humanize import human_duration

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (45, "45 seconds"),
        (61, "About a minute"),
        (150, "2 minutes"),
        (3600, "About an hour"),
        (3 * 3600, "3 hours"),
        (3 * 86400, "3 days"),
        (20 * 86400, "2 weeks"),
        (90 * 86400, "3 months"),
        (3 * 365 * 86400, "3 years"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "precision", "text"),
    [
        (0, 3, "0B"),
        (999, 3, "999B"),
        (1234, 3, "1.23kB"),
        (2_087_000, 3, "2.09MB"),
        (4_260_000, 4, "4.26MB"),
    ],
)
def test_human_size(size: int, precision: int, text: str) -> None:
    assert human_size(size, precision) == text


def test_bytes_size() -> None:
    assert bytes_size(1536 * 1024) == "1.5MiB"
    assert bytes_size(0) == "0B"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100", 100),
        ("1k", 1024),
        ("512m", 512 << 20),
        ("1g", 1 << 30),
        ("1GB", 1 << 30),
        ("2MiB", 2 << 20),
        ("1.5g", 3 << 29),
    ],
)
def test_ram_in_bytes(text: str, value: int) -> None:
    assert ram_in_bytes(text) == value


def test_ram_in_bytes_errors() -> None:
    with pytest.raises(ValueError, match="invalid suffix: 'qq'"):
        ram_in_bytes("12qq")
    with pytest.raises(ValueError, match="invalid size: 'abc'"):
        ram_in_bytes("abc")


def test_go_durations() -> None:
    assert parse_duration("1m30s") == 90 * 10**9
    assert parse_duration("500ms") == 5 * 10**8
    assert parse_duration("1.5h") == 5400 * 10**9
    assert format_duration(90 * 10**9) == "1m30s"
    assert format_duration(0) == "0s"
    with pytest.raises(ValueError, match="missing unit"):
        parse_duration("10")


def test_nano_cpus() -> None:
    assert parse_nano_cpus("1.5") == 1_500_000_000
    with pytest.raises(ValueError):
        parse_nano_cpus("x")


def test_timestamps() -> None:
    assert get_timestamp("1700000000", 0) == "1700000000"
    assert get_timestamp("10m", 1000.0) == "400.000000000"
    assert get_timestamp("2024-01-01T00:00:00Z", 0) == "1704067200.000000000"
    with pytest.raises(Exception, match="failed to parse value"):
        get_timestamp("yesterday", 0)
