"""Time sources. Services ask a clock for now (UTC) so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import tzlocal


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def workstation_zone_name() -> str:
    """The IANA zone of this workstation (stored with each record); UTC if it cannot be told."""
    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # tzlocal raises several types on odd set-ups; a zone name is not worth a crash
        return "UTC"
    return name or "UTC"
