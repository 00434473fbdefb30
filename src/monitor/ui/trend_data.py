"""What the trend view draws, computed from the service's read models with numpy (no Qt here).

Everything is rebuilt from the service on each load: nothing here is a cache of state the database
cannot rebuild. Times become float epoch seconds (UTC); the axis shows them in local time.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from monitor.domain.protocol import Protocol
from monitor.domain.scales import COWS
from monitor.services.views import (
    AlertView,
    AssessmentColumns,
    AssessmentItemColumns,
    AssessmentView,
    DoseView,
    VitalsView,
)

__all__ = [
    "VITAL_SERIES",
    "AlertMark",
    "AssessmentPoint",
    "Baseline",
    "CowsSeries",
    "DoseMark",
    "HeatGrid",
    "alert_marks",
    "cows_columns",
    "cows_series",
    "dose_marks",
    "epoch",
    "heat_grid",
    "item_matrix",
    "nearest_index",
    "vitals_series",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# A heat-map cell holds the latest assessment until the next one, but not across a gap in charting
# longer than this (the gap then shows as blank: no assessment, not "unchanged").
HOLD_LIMIT = timedelta(hours=8)
# Finest and coarsest time resolution of the heat-map grid.
HEAT_MAX_CELL_SECONDS = 15 * 60
HEAT_MIN_CELL_SECONDS = 60
HEAT_MAX_COLUMNS = 40_000

# (key, VitalsView attribute): blood pressure is one plot with two series.
VITAL_SERIES: tuple[tuple[str, str], ...] = (
    ("pulse", "pulse_bpm"),
    ("systolic", "systolic"),
    ("diastolic", "diastolic"),
    ("spo2", "spo2"),
    ("resp_rate", "resp_rate"),
    ("temp", "temp_c"),
)


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def _empty() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class AssessmentPoint:
    """What the hover tells of one assessment (the attributes of AssessmentView it uses)."""

    id: int
    taken_at: datetime
    total: int
    band_label: str
    status: str
    version: int
    recorded_by: str
    recorded_by_name: str
    entered_in_error: bool
    void_reason: str
    amend_reason: str
    items: dict[str, int]


@dataclass(frozen=True)
class CowsSeries:
    """The episode's current assessments split into what the line joins and what it must not.

    xs, ys, items, amended: the valid assessments (not entered in error), oldest first; items is
    (11, n) in COWS form order (row 0 = item 1), NaN where an item was not read. error_*: assessments
    entered in error, drawn apart. rows, error_rows: their positions in `columns` (the one read)."""

    columns: AssessmentColumns = field(default_factory=lambda: AssessmentColumns(episode_id=0))
    xs: FloatArray = field(default_factory=_empty)
    ys: FloatArray = field(default_factory=_empty)
    items: FloatArray = field(default_factory=lambda: np.zeros((len(COWS.items), 0)))
    rows: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    amended: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    error_xs: FloatArray = field(default_factory=_empty)
    error_ys: FloatArray = field(default_factory=_empty)
    error_rows: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.xs.size)

    def point(self, index: int) -> AssessmentPoint:
        """The valid assessment at index (as xs) for the hover."""
        c = self.columns
        i = int(self.rows[index])
        assessment_id = c.ids[i]
        scores = self.items[:, index]
        return AssessmentPoint(
            id=assessment_id,
            taken_at=c.taken_at_utc(i),
            total=c.totals[i],
            band_label=c.band_labels[i],
            status=c.status(i),
            version=c.versions[i],
            recorded_by=c.recorded_by(i),
            recorded_by_name=c.recorded_by_name(i),
            entered_in_error=c.entered_in_error[i],
            void_reason=c.void_reasons.get(assessment_id, ""),
            amend_reason=c.amend_reasons.get(assessment_id, ""),
            items={k: int(v) for k, v in zip(COWS.keys, scores, strict=True) if not math.isnan(v)},
        )


_SORTED_KEYS = tuple(sorted(COWS.keys))
_ROW_OF_KEY = {key: row for row, key in enumerate(COWS.keys)}
_SORTED_KEY_ROWS = np.array([_ROW_OF_KEY[k] for k in _SORTED_KEYS], dtype=np.int64)


def item_matrix(ids: IntArray, scores: AssessmentItemColumns) -> FloatArray:
    """(11, len(ids)) COWS item scores of the assessments `ids` (row 0 = item 1), NaN where none was
    read; rows of other assessments (superseded versions) are left out."""
    n = ids.size
    image = np.full((len(COWS.keys), n), math.nan)
    count = len(scores.values)
    if n == 0 or count == 0:
        return image
    of = np.fromiter(scores.assessment_ids, dtype=np.int64, count=count)
    values = np.fromiter(scores.values, dtype=np.float64, count=count)
    whole, extra = divmod(count, len(_SORTED_KEYS))
    if not extra and scores.item_keys == _SORTED_KEYS * whole:  # the usual case: every item, in key order
        rows = np.tile(_SORTED_KEY_ROWS, whole)
    else:
        rows = np.fromiter((_ROW_OF_KEY.get(k, -1) for k in scores.item_keys), dtype=np.int64, count=count)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    at = np.minimum(np.searchsorted(sorted_ids, of), n - 1)
    keep = (sorted_ids[at] == of) & (rows >= 0)
    image[rows[keep], order[at[keep]]] = values[keep]
    return image


def cows_columns(columns: AssessmentColumns, scores: AssessmentItemColumns | None = None) -> CowsSeries:
    """The series from the service's column-wise read (scores None: the items are all NaN)."""
    n = len(columns)
    xs_all = np.fromiter(columns.taken_at, dtype=np.float64, count=n)
    totals = np.fromiter(columns.totals, dtype=np.float64, count=n)
    voided = np.fromiter(columns.entered_in_error, dtype=bool, count=n)
    is_cows = np.fromiter(map(COWS.code.__eq__, columns.scales), dtype=bool, count=n)
    ids = np.fromiter(columns.ids, dtype=np.int64, count=n)
    # oldest first (the service's order); a stub's may not be: sort by (time, id)
    order = np.lexsort((ids, xs_all))
    valid = order[(~voided[order]) & is_cows[order]]
    errors = order[voided[order] & is_cows[order]]
    versions = np.fromiter(columns.versions, dtype=np.int64, count=n)
    if scores is not None:
        items = item_matrix(ids[valid], scores)
    else:
        items = np.full((len(COWS.keys), valid.size), math.nan)
    return CowsSeries(
        columns=columns,
        xs=xs_all[valid],
        ys=totals[valid],
        items=items,
        rows=valid,
        amended=versions[valid] > 1,
        error_xs=xs_all[errors],
        error_ys=totals[errors],
        error_rows=errors,
    )


def cows_series(assessments: Sequence[AssessmentView]) -> CowsSeries:
    """The series from view objects (a stub source, tests)."""
    current = [a for a in assessments if a.is_current]
    episode_id = current[0].episode_id if current else 0
    series = cows_columns(AssessmentColumns.from_views(episode_id, current))
    valid = [current[i] for i in series.rows.tolist()]
    n, keys = len(valid), COWS.keys
    getter = operator.itemgetter(*keys)
    try:  # a saved assessment always has every item: one C call per assessment
        rows = [getter(a.items) for a in valid]
        items = np.array(rows, dtype=np.float64).reshape(n, len(keys)).T.copy()
    except KeyError:  # a stub may leave items out: they show as blank cells
        flat = np.fromiter(
            (a.items.get(k, math.nan) for a in valid for k in keys), dtype=np.float64, count=n * len(keys)
        )
        items = flat.reshape(n, len(keys)).T.copy()
    return replace(series, items=items)


def nearest_index(xs: FloatArray, x: float) -> int | None:
    """Index of the value of the sorted array nearest to x (None if empty)."""
    if xs.size == 0:
        return None
    right = int(np.searchsorted(xs, x))
    if right <= 0:
        return 0
    if right >= xs.size:
        return xs.size - 1
    return right if xs[right] - x < x - xs[right - 1] else right - 1


@dataclass(frozen=True)
class Baseline:
    """The pre-dose COWS the precipitated-withdrawal rule compares against."""

    x: float
    total: int


@dataclass(frozen=True)
class DoseMark:
    x: float
    label: str  # e.g. "naltrexone 25 mg PO"
    role: str  # antagonist, agonist, comfort
    view: DoseView
    window_end: float | None = None  # antagonists: end of the alert window
    baseline: Baseline | None = None
    threshold: int | None = None  # the COWS total that raises the alert in the window

    @property
    def is_antagonist(self) -> bool:
        return self.role == "antagonist"


def _baseline(series: CowsSeries, given: float, max_age: timedelta) -> Baseline | None:
    """The latest valid COWS in [given - max_age, given], both ends inclusive (as the rule does)."""
    index = int(np.searchsorted(series.xs, given, side="right")) - 1
    if index < 0 or series.xs[index] < given - max_age.total_seconds():
        return None
    return Baseline(x=float(series.xs[index]), total=int(series.ys[index]))


def dose_marks(doses: Sequence[DoseView], series: CowsSeries, protocol: Protocol) -> list[DoseMark]:
    """Every dose not entered in error; antagonists with their alert window, baseline and threshold."""
    marks = []
    for dose in sorted(doses, key=lambda d: (d.given_at, d.id)):
        if dose.entered_in_error:
            continue
        x = epoch(dose.given_at)
        if dose.role != "antagonist":
            marks.append(DoseMark(x=x, label=dose.description, role=dose.role, view=dose))
            continue
        try:
            window: timedelta | None = protocol.window_for(dose.drug, dose.form)
        except ValueError:  # a drug or form the protocol does not know: draw the dose, no window
            window = None
        baseline = _baseline(series, x, protocol.baseline_max_age)
        threshold = baseline.total + protocol.pw_rise if baseline else protocol.no_baseline_threshold
        marks.append(
            DoseMark(
                x=x,
                label=dose.description,
                role=dose.role,
                view=dose,
                window_end=x + window.total_seconds() if window is not None else None,
                baseline=baseline,
                threshold=threshold,
            )
        )
    return marks


@dataclass(frozen=True)
class AlertMark:
    x: float
    priority: str  # high, medium, low
    message: str
    view: AlertView


def alert_marks(alerts: Sequence[AlertView]) -> list[AlertMark]:
    ordered = sorted(alerts, key=lambda a: (a.raised_at, -a.priority_rank, a.id))
    return [AlertMark(epoch(a.raised_at), a.priority, a.message, a) for a in ordered]


def vitals_series(vitals: Sequence[VitalsView]) -> tuple[tuple[VitalsView, ...], dict[str, FloatArray]]:
    """Valid readings, oldest first, and one array per series with NaN where not measured."""
    valid = tuple(sorted((v for v in vitals if not v.entered_in_error), key=lambda v: (v.taken_at, v.id)))
    arrays: dict[str, FloatArray] = {"x": np.array([epoch(v.taken_at) for v in valid], dtype=np.float64)}
    for key, attribute in VITAL_SERIES:
        values = [getattr(v, attribute) for v in valid]
        arrays[key] = np.array([math.nan if x is None else float(x) for x in values], dtype=np.float64)
    return valid, arrays


@dataclass(frozen=True)
class HeatGrid:
    """The item heat map on a regular time grid: image[row, column], row 0 = item 1.

    Column c covers [x0 + c * width, x0 + (c + 1) * width). A column holds the highest score of each
    item among the assessments inside it (so no rise is hidden), else the latest assessment before it
    (held until the next one, at most HOLD_LIMIT), else NaN (drawn blank).
    """

    image: FloatArray
    x0: float
    width: float

    @property
    def columns(self) -> int:
        return int(self.image.shape[1])

    def column_at(self, x: float) -> int:
        return int((x - self.x0) // self.width)


def heat_grid(xs: FloatArray, items: FloatArray, until: float | None = None) -> HeatGrid:
    """until: the end of the data (now, or the discharge): the last assessment is held up to it, never
    into the future."""
    rows = items.shape[0]
    if xs.size == 0:
        return HeatGrid(np.full((rows, 0), math.nan), 0.0, 1.0)
    gaps = np.diff(xs)
    positive = gaps[gaps > 0]
    smallest = float(positive.min()) if positive.size else float(HEAT_MAX_CELL_SECONDS)
    typical = float(np.median(positive)) if positive.size else float(HEAT_MAX_CELL_SECONDS)
    hold = HOLD_LIMIT.total_seconds()
    x0 = float(xs[0])
    end = float(xs[-1]) + min(typical, hold)
    if until is not None:
        end = max(min(end, until), float(xs[-1]) + 1.0)
    width = min(smallest, HEAT_MAX_CELL_SECONDS)
    width = max(width, (end - x0) / HEAT_MAX_COLUMNS, HEAT_MIN_CELL_SECONDS)
    columns = max(1, math.ceil((end - x0) / width))
    image = np.full((rows, columns), math.nan)
    column_of = np.minimum(((xs - x0) // width).astype(np.int64), columns - 1)
    filled, first = np.unique(column_of, return_index=True)
    image[:, filled] = np.maximum.reduceat(items, first, axis=1)
    starts = x0 + np.arange(columns, dtype=np.float64) * width
    latest = np.searchsorted(xs, starts, side="left") - 1
    safe = np.maximum(latest, 0)
    empty = np.ones(columns, dtype=bool)
    empty[filled] = False
    held = empty & (latest >= 0) & (starts - xs[safe] < hold)
    image[:, held] = items[:, latest[held]]
    return HeatGrid(image=image, x0=x0, width=width)
