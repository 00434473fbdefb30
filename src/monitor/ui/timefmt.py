"""Local-time display and conversion between Qt date-times and aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime


def local(dt: datetime | None) -> str:
    """A stored UTC time as the workstation shows it."""
    if dt is None:
        return ""
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def ago(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return ""
    minutes = int((now - dt).total_seconds() // 60)
    if minutes < 0:
        return "in the future"
    if minutes < 60:
        return f"{minutes} min ago"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {mins:02d} min ago"
    return f"{hours // 24} days {hours % 24} h ago"


def to_qdatetime(dt: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(dt.timestamp()))


def from_qdatetime(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)
