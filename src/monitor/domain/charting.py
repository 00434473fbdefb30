"""Rules on clinical time (`taken_at`): when a nurse may chart an observation.

design.md, Data rules: store timezone-aware UTC; reject clinical times more than 5 minutes in the
future; back-charting more than 1 h late needs a reason.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

__all__ = [
    "FUTURE_TOLERANCE",
    "LATE_CHARTING_AFTER",
    "TimeVerdict",
    "check_clinical_time",
    "require_aware",
]

# Clock drift between workstations: a clinical time up to this far ahead of now is accepted.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Charting later than this after the clinical time is back-charting and needs a reason.
LATE_CHARTING_AFTER = timedelta(hours=1)


class TimeVerdict(enum.Enum):
    """What the app does with a clinical time."""

    ON_TIME = "on_time"  # accept as is
    LATE = "late"  # accept only with a back-charting reason
    IN_FUTURE = "in_future"  # refuse: nobody can observe the future


def require_aware(dt: datetime, what: str) -> datetime:
    """dt converted to UTC; a naive datetime is refused because its instant is unknowable."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must include a time zone")
    return dt.astimezone(UTC)


def check_clinical_time(taken_at: datetime, now: datetime) -> TimeVerdict:
    """Classify a clinical time against now.

    Exactly now + FUTURE_TOLERANCE is still ON_TIME; exactly now - LATE_CHARTING_AFTER is still ON_TIME.
    Raises ValueError for a naive datetime (either argument).
    """
    taken = require_aware(taken_at, "taken_at")
    current = require_aware(now, "now")
    if taken - current > FUTURE_TOLERANCE:
        return TimeVerdict.IN_FUTURE
    if current - taken > LATE_CHARTING_AFTER:
        return TimeVerdict.LATE
    return TimeVerdict.ON_TIME
