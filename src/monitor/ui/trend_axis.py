"""A time axis for the trend charts: epoch seconds shown as local wall-clock time of one IANA zone.

pyqtgraph's DateAxisItem formats in the process's local zone. The trend view shows times in the
episode's zone (the zone stored with the records, design.md: "so the chart can show what the nurse
saw"), which is also the zone the alert messages use, so "naltrexone 25 mg PO at 10:05" in an alert
and the 10:05 tick on the chart agree. Ticks are placed on local wall-clock boundaries (midnight, whole
hours) and stay correct across a daylight-saving change: every tick is computed through zoneinfo.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

import pyqtgraph as pg

__all__ = ["LocalTimeAxis", "local_ticks"]

_MINUTE = 60
_HOUR = 3600
_DAY = 86400
# Time-of-day steps (seconds); each divides a day, so ticks fall on the same wall-clock times daily.
_CLOCK_STEPS = (
    _MINUTE,
    5 * _MINUTE,
    10 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    2 * _HOUR,
    3 * _HOUR,
    6 * _HOUR,
    12 * _HOUR,
)
_DAY_STEPS = (1, 2, 7, 14)  # days between date ticks
_MONTH_STEPS = (1, 2, 3, 6, 12)  # months between month ticks
# Pixels a label needs, with room to breathe (the tick text is about 7 px per character at 9 pt).
_CLOCK_LABEL_PX = 52
_DAY_LABEL_PX = 90
_MONTH_LABEL_PX = 80
# Spacing values used only to tell the levels apart in tickStrings (never a real spacing).
_MONTH_LEVEL = 30 * _DAY


def _local_midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _epoch(naive_local: datetime, zone: tzinfo) -> float:
    return naive_local.replace(tzinfo=zone).timestamp()


def _clock_ticks(start: float, stop: float, step: int, zone: tzinfo) -> list[float]:
    """Ticks every `step` seconds of local wall-clock time in [start, stop]."""
    first = datetime.fromtimestamp(start, zone).replace(tzinfo=None)
    midnight = _local_midnight(first)
    since = (first - midnight).total_seconds()
    wall = midnight + timedelta(seconds=math.floor(since / step) * step)
    ticks: list[float] = []
    for _ in range(int((stop - start) / step) + 4):  # bounded; DST adds or removes at most an hour
        value = _epoch(wall, zone)
        if value > stop:
            break
        if value >= start and (not ticks or value > ticks[-1]):
            ticks.append(value)
        wall += timedelta(seconds=step)
    return ticks


def _day_ticks(start: float, stop: float, days: int, zone: tzinfo) -> list[float]:
    """Local midnights in [start, stop], every `days` days (counted from the epoch, so stable on pan)."""
    first = _local_midnight(datetime.fromtimestamp(start, zone).replace(tzinfo=None))
    ordinal = first.toordinal()
    first -= timedelta(days=ordinal % days)
    ticks: list[float] = []
    day = first
    for _ in range(int((stop - start) / (_DAY * days)) + 4):
        value = _epoch(day, zone)
        if value > stop:
            break
        if value >= start:
            ticks.append(value)
        day += timedelta(days=days)
    return ticks


def _month_ticks(start: float, stop: float, months: int, zone: tzinfo) -> list[float]:
    first = datetime.fromtimestamp(start, zone)
    index = first.year * 12 + first.month - 1
    index -= index % months
    ticks: list[float] = []
    for _ in range(int((stop - start) / (28 * _DAY * months)) + 4):
        year, month = divmod(index, 12)
        value = _epoch(datetime(year, month + 1, 1), zone)
        if value > stop:
            break
        if value >= start:
            ticks.append(value)
        index += months
    return ticks


def _fits(step_seconds: float, seconds_per_px: float, label_px: int) -> bool:
    return step_seconds / seconds_per_px >= label_px


@functools.lru_cache(maxsize=8)
def local_ticks(start: float, stop: float, size_px: float, zone: tzinfo) -> list[tuple[float, list[float]]]:
    """Tick levels for pyqtgraph: [(spacing, values), ...], coarsest first. Cached: the stacked plots
    share one time range and width, so one computation serves every axis of a redraw (do not mutate).

    Dates (local midnights) are the major level whenever a label per day fits; times of day are the
    minor level. Longer spans fall back to dates every few days, then to months.
    """
    if not (math.isfinite(start) and math.isfinite(stop)) or stop <= start or size_px <= 0:
        return []
    seconds_per_px = (stop - start) / size_px
    days = next((d for d in _DAY_STEPS if _fits(d * _DAY, seconds_per_px, _DAY_LABEL_PX)), None)
    if days is None:
        months = next(
            (m for m in _MONTH_STEPS if _fits(m * 30 * _DAY, seconds_per_px, _MONTH_LABEL_PX)),
            _MONTH_STEPS[-1],
        )
        return [(_MONTH_LEVEL * months, _month_ticks(start, stop, months, zone))]
    levels: list[tuple[float, list[float]]] = [(float(_DAY * days), _day_ticks(start, stop, days, zone))]
    if days == 1:
        step = next((s for s in _CLOCK_STEPS if _fits(s, seconds_per_px, _CLOCK_LABEL_PX)), None)
        if step is not None:
            midnights = set(levels[0][1])
            clock = [t for t in _clock_ticks(start, stop, step, zone) if t not in midnights]
            levels.append((float(step), clock))
    return levels


@functools.lru_cache(maxsize=1024)
def _format(value: float, spacing: float, zone: tzinfo) -> str:
    """One tick label: a pure function of its arguments, so remembered (the same ticks are labelled
    again on every repaint and pan, and a date label costs a zoneinfo conversion and a strftime)."""
    moment = datetime.fromtimestamp(value, zone)
    if spacing >= _MONTH_LEVEL:
        return moment.strftime("%b %Y")
    if spacing > _DAY:
        return moment.strftime("%d %b")
    if spacing == _DAY:
        return moment.strftime("%a %d %b")
    return moment.strftime("%H:%M")


class LocalTimeAxis(pg.AxisItem):  # type: ignore[misc]
    """An axis of epoch seconds labelled in the wall-clock time of `zone` (DST-correct)."""

    def __init__(self, zone: tzinfo = UTC, orientation: str = "bottom", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.zone = zone
        self.origin = 0.0  # axis value = epoch seconds - origin (keeps exported SVG coordinates precise)
        self.enableAutoSIPrefix(False)

    def set_zone(self, zone: tzinfo, origin: float = 0.0) -> None:
        self.zone = zone
        self.origin = origin
        self.picture = None  # pyqtgraph's cached drawing of the axis
        self.update()

    def tick_levels(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """The ticks of a range in axis values, whether or not this axis draws them (a grid may)."""
        levels = local_ticks(minVal + self.origin, maxVal + self.origin, size, self.zone)
        return [(spacing, [v - self.origin for v in values]) for spacing, values in levels]

    def line_only(self) -> bool:
        """True when the axis draws nothing but its line: no values, no grid, no tick marks (the trend
        view's axes between plots). Its drawing then does not depend on the range."""
        return not self.style["showValues"] and self.grid is False and self.style["tickLength"] == 0

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        return [] if self.line_only() else self.tick_levels(minVal, maxVal, size)

    def setRange(self, mn: float, mx: float) -> None:
        if self.line_only() and math.isfinite(mn) and math.isfinite(mx):
            # Keep the drawing: pyqtgraph would draw the axis again on every pan of every plot, about
            # 0.3 ms each, for the same line.
            self.range = [mn, mx]
            return
        super().setRange(mn, mx)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [_format(v + self.origin, spacing, self.zone) for v in values]

    def iter_labels(self, start: float, stop: float, size_px: float) -> Iterator[tuple[float, str]]:
        """(value, text) of every tick label for a range: what the axis would draw (for tests)."""
        for spacing, values in local_ticks(start, stop, size_px, self.zone):
            for value in values:
                yield value, _format(value, spacing, self.zone)
