"""Clinical-time rules: 5 min future tolerance, back-charting after 1 h (design.md, Data rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.charting import (
    FUTURE_TOLERANCE,
    LATE_CHARTING_AFTER,
    TimeVerdict,
    check_clinical_time,
    require_aware,
)

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_constants() -> None:
    assert timedelta(minutes=5) == FUTURE_TOLERANCE
    assert timedelta(hours=1) == LATE_CHARTING_AFTER


@pytest.mark.parametrize(
    ("offset", "verdict"),
    [
        (timedelta(0), TimeVerdict.ON_TIME),
        (timedelta(minutes=5), TimeVerdict.ON_TIME),
        (timedelta(minutes=5) + SECOND, TimeVerdict.IN_FUTURE),
        (timedelta(minutes=5, microseconds=1), TimeVerdict.IN_FUTURE),
        (timedelta(hours=3), TimeVerdict.IN_FUTURE),
        (-timedelta(minutes=30), TimeVerdict.ON_TIME),
        (-timedelta(hours=1), TimeVerdict.ON_TIME),
        (-timedelta(hours=1) - SECOND, TimeVerdict.LATE),
        (-timedelta(days=2), TimeVerdict.LATE),
    ],
)
def test_boundaries(offset: timedelta, verdict: TimeVerdict) -> None:
    assert check_clinical_time(NOW + offset, NOW) is verdict


def test_other_time_zones_compare_as_instants() -> None:
    # 10:30 at UTC+10 is 00:30 UTC: the same instant as NOW.
    sydney_like = timezone(timedelta(hours=10))
    assert check_clinical_time(datetime(2026, 3, 29, 10, 30, tzinfo=sydney_like), NOW) is TimeVerdict.ON_TIME
    # 01:36 at UTC+1 is 00:36 UTC: 6 min ahead.
    cet = timezone(timedelta(hours=1))
    assert check_clinical_time(datetime(2026, 3, 29, 1, 36, tzinfo=cet), NOW) is TimeVerdict.IN_FUTURE


def test_naive_taken_at_raises() -> None:
    with pytest.raises(ValueError, match="taken_at must include a time zone"):
        check_clinical_time(datetime(2026, 3, 29, 0, 30), NOW)


def test_naive_now_raises() -> None:
    with pytest.raises(ValueError, match="now must include a time zone"):
        check_clinical_time(NOW, datetime(2026, 3, 29, 0, 30))


def test_require_aware_converts_to_utc() -> None:
    local = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    converted = require_aware(local, "taken_at")
    assert converted == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert converted.utcoffset() == timedelta(0)
    assert converted.tzinfo is UTC


def test_require_aware_rejects_naive() -> None:
    with pytest.raises(ValueError, match=r"^dose time must include a time zone$"):
        require_aware(datetime(2026, 1, 1), "dose time")


@given(st.integers(-3 * 24 * 3600, 3 * 24 * 3600))
def test_verdict_matches_offset(seconds: int) -> None:
    offset = timedelta(seconds=seconds)
    verdict = check_clinical_time(NOW + offset, NOW)
    if offset > timedelta(minutes=5):
        assert verdict is TimeVerdict.IN_FUTURE
    elif offset < -timedelta(hours=1):
        assert verdict is TimeVerdict.LATE
    else:
        assert verdict is TimeVerdict.ON_TIME
