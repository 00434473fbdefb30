"""The episode trend view (issue 4): COWS over time with its severity bands, doses, the antagonist's alert
window and baseline, alerts, the 11 items as a heat map and the vital signs, on one local time axis.

Layout, top to bottom, in one pyqtgraph GraphicsLayout (so one export holds all of it):
title · legend · events lane (dose labels, alert markers, the time axis) · COWS total with the bands ·
items heat map (+ colour bar) · pulse · blood pressure · SpO2 · respiratory rate · temperature
(+ a second time axis at the bottom). Every plot's x is linked to the COWS plot; y is fixed (mouse
zoom and pan act on time only), so the bands and rows never drift.

Clinical reading rules kept here:
- severity, dose role and alert priority are never told by colour alone: bands carry their names as
  text, doses a prefix (▼ antagonist, ◇ opioid agonist, ○ comfort) and a line style, alerts a shape
  (▲ high, ◆ medium, ● low) and their message on hover;
- an assessment entered in error is drawn as a cross and never joined to the line; an amended one as a
  square on the line (it is the current version);
- times are the episode's zone (what the nurse saw, and what the alert messages say).

Long stays (20,000 assessments, hundreds of doses): the COWS line is one PlotDataItem with clip-to-view
and peak downsampling, built from numpy arrays; the dose lines are one item per role and plot (vertical
segments), not one InfiniteLine per dose; dose labels and baseline labels come from small pools laid out
for the range in view; point symbols, thick pens and the context dose lines appear only when few are in
view (_update_detail). Plotted x is epoch seconds minus `origin` (the admission hour), so that exported
SVG keeps its precision; the methods that report what is drawn return epoch seconds.

The view keeps nothing the database cannot rebuild: show_episode() reloads everything through the service.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QFontMetricsF, QImage, QPainterPath, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.domain.protocol import Protocol as ClinicProtocol
from monitor.domain.scales import COWS
from monitor.services.clock import Clock
from monitor.services.views import (
    AlertView,
    AssessmentColumns,
    AssessmentView,
    DoseView,
    EpisodeDetail,
    VitalsView,
)
from monitor.ui import trend_data as td
from monitor.ui.background import BackgroundTask
from monitor.ui.errors import describe
from monitor.ui.trend_axis import LocalTimeAxis

__all__ = ["ROLE_PREFIX", "TrendSource", "TrendView"]

HOUR = 3600.0
# Dose role → label prefix, colour, line style (never colour alone).
ROLE_PREFIX: dict[str, str] = {"antagonist": "▼", "agonist": "◇", "comfort": "○"}
_ROLE_STYLE: dict[str, tuple[str, int, Qt.PenStyle]] = {
    "antagonist": ("#8E24AA", 2, Qt.PenStyle.SolidLine),
    "agonist": ("#E65100", 1, Qt.PenStyle.DashDotLine),
    "comfort": ("#00897B", 1, Qt.PenStyle.DashLine),
}
# Alert priority → scatter symbol and colour (the alert bar's shapes and colours, alerts.py).
_PRIORITY_SYMBOL: dict[str, str] = {"high": "t1", "medium": "d", "low": "o"}
_PRIORITY_SHAPE: dict[str, str] = {"high": "▲", "medium": "◆", "low": "●"}
_PRIORITY_COLOUR: dict[str, str] = {"high": "#B3261E", "medium": "#F2A900", "low": "#1F5F99"}
# Band key → translucent fill: readable over a light or a dark background.
_BAND_FILL: dict[str, tuple[int, int, int, int]] = {
    "below_mild": (76, 175, 80, 38),
    "mild": (205, 220, 57, 48),
    "moderate": (255, 193, 7, 55),
    "moderately_severe": (255, 112, 67, 60),
    "severe": (229, 57, 53, 66),
}
_AMENDED_BRUSH = "#4FC3F7"
_ERROR_PEN = "#9E9E9E"
_THRESHOLD_PEN = "#D32F2F"
_WINDOW_FILL = (142, 36, 170, 30)

# Vital-sign plots: key, title, series (td.VITAL_SERIES keys), y range when there is no data.
_VITAL_PLOTS: tuple[tuple[str, str, tuple[str, ...], tuple[float, float]], ...] = (
    ("pulse", "Pulse (bpm)", ("pulse",), (40.0, 140.0)),
    ("bp", "Blood pressure (mmHg)", ("systolic", "diastolic"), (40.0, 180.0)),
    ("spo2", "SpO2 (%)", ("spo2",), (85.0, 100.0)),
    ("resp_rate", "Respiratory rate (/min)", ("resp_rate",), (6.0, 30.0)),
    ("temp", "Temperature (°C)", ("temp",), (35.5, 39.0)),
)
_SERIES_STYLE: dict[str, tuple[str, str]] = {  # colour, symbol
    "pulse": ("#C62828", "o"),
    "systolic": ("#1565C0", "t"),
    "diastolic": ("#1565C0", "t1"),
    "spo2": ("#2E7D32", "o"),
    "resp_rate": ("#6A1B9A", "o"),
    "temp": ("#EF6C00", "o"),
}

_LEFT_AXIS_WIDTH = 170  # room for the item names; the same on every plot so the x axes line up
_EVENTS_HEIGHT = 116  # top time axis + the alert lane + three rows of dose labels
_DOSE_ROWS = 3
_SYMBOLS_UP_TO = 800  # draw COWS point symbols when at most this many points are in view
_VITAL_SYMBOLS_UP_TO = 300
_CONTEXT_DOSES = 120  # dose lines on the heat map and vital signs when at most this many are in view
_REFERENCE_LABEL_PX = 90  # label the baseline and alert level when the window is at least this wide
_Y_COWS = (-1.0, 49.5)
_MIN_X_RANGE = 10 * 60.0


class TrendSource(Protocol):
    """What the view reads; ClinicalService provides it (and a benchmark or test may stub it)."""

    clock: Clock

    def episode(self, episode_id: int) -> EpisodeDetail: ...

    def assessments(self, episode_id: int) -> list[AssessmentView]: ...

    def doses(self, episode_id: int) -> list[DoseView]: ...

    def vitals(self, episode_id: int) -> list[VitalsView]: ...

    def alerts(self, *, include_inactive: bool = ..., episode_id: int | None = ...) -> list[AlertView]: ...

    def protocol(self) -> ClinicProtocol: ...


@dataclass
class _Loaded:
    episode: EpisodeDetail
    zone: tzinfo
    series: td.CowsSeries
    doses: list[td.DoseMark]
    alerts: list[td.AlertMark]
    vitals: tuple[VitalsView, ...]
    vital_arrays: dict[str, td.FloatArray]
    grid: td.HeatGrid
    start: float
    end: float
    items_pending: bool = False  # the heat map's item scores are being read (TrendView.defer_items)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else ZoneInfo("UTC")


def _plain(text: str) -> str:
    return text.replace("&", "")


class _StaticSample(pg.ItemSample):  # type: ignore[misc]
    """A legend sample that does not hide its item when clicked (the legend only explains)."""

    def mouseClickEvent(self, event: Any) -> None:
        event.accept()


@contextlib.contextmanager
def _svg_closed_paths() -> Iterator[None]:
    """pyqtgraph 0.14.0's SVG exporter cannot parse the closing "Z" that Qt 6.11 writes into paths
    (pyqtgraph issue 3495; fixed upstream by PR 3458, not yet released). While exporting, rewrite each
    "Z" as a line back to the start of its subpath, which draws the same shape, then let pyqtgraph's own
    coordinate correction run. Restored on exit; a no-op if pyqtgraph's function is not there."""
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = getattr(module, "correctCoordinates", None)
    if original is None:
        yield
        return

    def tolerant(node: Any, defs: Any, item: Any, options: Any) -> Any:
        for path in node.getElementsByTagName("path"):
            path.setAttribute("d", _close_subpaths(path.getAttribute("d")))
        return original(node, defs, item, options)

    setattr(module, "correctCoordinates", tolerant)  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "correctCoordinates", original)  # noqa: B010


def _close_subpaths(d: str) -> str:
    tokens = d.split()
    start = ""
    out = []
    for token in tokens:
        if token[:1] in "Mm" and "," in token:
            start = token[1:]
        if token in ("Z", "z"):
            if start:
                out.append("L" + start)
            continue
        if token[:1] in "Zz" and len(token) > 1:  # "Z" glued to the next command
            if start:
                out.append("L" + start)
            token = token[1:]
            if token[:1] in "Mm":
                start = token[1:]
        out.append(token)
    return " ".join(out)


class _FixedCurve(pg.PlotCurveItem):  # type: ignore[misc]
    """A PlotCurveItem whose data bounds survive a pan or zoom. pyqtgraph drops its cached data bounds
    (min and max of x and y) on every change of the view transform, although they depend only on the
    data and the pen, and it drops them itself when either changes (setData, setPen). Only the
    bounding rectangle, which adds the pen's width in pixels, depends on the view. The dose lines and
    reference segments (about twenty curves) would otherwise scan their arrays again on every pan."""

    def viewTransformChanged(self) -> None:
        self._boundingRect = None
        self.prepareGeometryChange()


Rgba = tuple[int, int, int, int]


def _over(rgba: Rgba, under: QColor) -> QColor:
    """The opaque colour a translucent fill shows over an opaque one (a new QColor: callers may keep it)."""
    return QColor(_over_rgb(rgba, under.rgb()))


@functools.lru_cache(maxsize=512)
def _over_rgb(rgba: Rgba, under: int) -> int:
    r, g, b, a = rgba
    alpha = a / 255
    below = QColor(under)
    return QColor(
        round(below.red() * (1 - alpha) + r * alpha),
        round(below.green() * (1 - alpha) + g * alpha),
        round(below.blue() * (1 - alpha) + b * alpha),
    ).rgb()


class _Backdrop(pg.GraphicsObject):  # type: ignore[misc]
    """A plot's furniture under its data, painted with opaque fills only: the severity bands, the
    antagonists' alert windows and the time grid (the bottom axis's ticks, pyqtgraph's grid alpha).
    Qt's raster engine blends a translucent fill one pixel row at a time (about 0.3 µs a row, however
    narrow): the 21 alert windows of a long stay in view, a pixel or two wide each, cost 1 ms a frame,
    pyqtgraph's grid lines (drawn by the axis, over the data) 0.3-0.7 ms a plot; an opaque fill is a
    copy. So each translucent layer is composed here, over what lies under it, into the opaque colour
    it shows, cell by cell (band, window over band, grid over either): the same colours, with the grid
    and windows under the data and the band names.

    A child of the ViewBox (its pixels), not of its data group: laid out again when the time range or
    the size changes (layout), so a repaint only fills the rectangles. Hovering a window gives its
    tooltip (drug, dose and the window's times)."""

    def __init__(self, plot: Any, bg: QColor, grid: QColor, grid_alpha: float) -> None:
        super().__init__(plot.vb)
        self._vb = plot.vb
        self._axis = plot.getAxis("bottom")
        self._bg = QColor(bg)
        self._grid = QColor(grid)
        self._grid_alpha = int(grid_alpha * 255)  # as pyqtgraph's AxisItem.setGrid takes it
        self._bands: list[tuple[float, float, Rgba]] = []  # data y low, high, translucent fill
        self._window_fill: Rgba = (0, 0, 0, 0)
        self._spans: list[tuple[float, float]] = []  # data x of each window, sorted
        self._tips: list[str] = []
        self._fills: list[tuple[QColor, list[QRectF]]] = []  # what paint() draws, by colour
        self._band_rects: list[QRectF] = []
        self._shape = QPainterPath()
        self._rect = QRectF()
        self.setZValue(-1000)  # above the ViewBox background, under its data group and labels
        self._vb.sigResized.connect(self.layout)
        self._vb.sigXRangeChanged.connect(self.layout)

    def set_bands(self, bands: list[tuple[float, float, Rgba]]) -> None:
        self._bands = sorted(bands)
        self.layout()

    def set_windows(self, spans: list[tuple[float, float, str]], fill: Rgba) -> None:
        ordered = sorted(spans)
        self._spans = [(x0, x1) for x0, x1, _tip in ordered]
        self._tips = [tip for _x0, _x1, tip in ordered]
        self._window_fill = fill
        self.layout()

    def spans(self) -> list[tuple[float, float]]:
        return list(self._spans)

    def band_rects(self) -> list[QRectF]:
        """The pixel rectangle (in the ViewBox) of each band, in the order given to set_bands."""
        return [QRectF(r) for r in self._band_rects]

    def _grid_lines(self, low: float, high: float, width: float) -> list[tuple[float, int]]:
        """(pixel x, alpha) of each grid line: the bottom axis's ticks with pyqtgraph's own alpha
        per level (AxisItem.generateDrawSpecs), so the grid looks as pyqtgraph drew it."""
        axis = self._axis
        if not axis.isVisible() or high <= low:
            return []
        length = width + 2  # the axis's length in pixels as pyqtgraph measures it
        lines = []
        for level, (_spacing, values) in enumerate(axis.tick_levels(low, high, length)):
            fade = min(max(0.05 * length / (len(values) + 1), 0.0), 1.0)
            alpha = int(255 / (level + 1) * self._grid_alpha / 255 * fade)
            for value in values:
                if low <= value <= high and alpha > 0:
                    lines.append(((value - low) / (high - low) * width, alpha))
        return lines

    def layout(self, *_args: object) -> None:
        vb = self._vb
        width, height = float(vb.width()), float(vb.height())
        (x_range, y_range) = vb.viewRange()
        low, high = float(x_range[0]), float(x_range[1])
        bottom, top = float(y_range[0]), float(y_range[1])
        if width <= 0 or height <= 0 or high <= low or top <= bottom:
            self._fills, self._band_rects = [], []
            self.update()
            return

        def px_y(value: float) -> float:
            return (top - value) / (top - bottom) * height

        def px_x(value: float) -> float:
            return (value - low) / (high - low) * width

        # Rows: each band, and the plot background between and around them.
        self._band_rects = []
        rows: list[tuple[float, float, QColor]] = []
        edge = 0.0
        for band_low, band_high, rgba in reversed(self._bands):  # top first
            y0, y1 = max(0.0, px_y(band_high)), min(height, px_y(band_low))
            self._band_rects.append(QRectF(0.0, px_y(band_high), width, px_y(band_low) - px_y(band_high)))
            if y0 > edge:
                rows.append((edge, y0, self._bg))
            if y1 > y0:
                rows.append((y0, y1, _over(rgba, self._bg)))
            edge = max(edge, y1)
        if edge < height:
            rows.append((edge, height, self._bg))
        self._band_rects.reverse()
        fills: dict[int, list[QRectF]] = {}  # opaque rgb -> rectangles
        bg = self._bg.rgb()
        for y0, y1, colour in rows:
            if colour.rgb() != bg:
                fills.setdefault(colour.rgb(), []).append(QRectF(0.0, y0, width, y1 - y0))
        windows = [
            (max(0.0, px_x(x0)), min(width, px_x(x1))) for x0, x1 in self._spans if x1 >= low and x0 <= high
        ]
        shape = QPainterPath()
        if windows:
            for y0, y1, colour in rows:
                rects = fills.setdefault(_over_rgb(self._window_fill, colour.rgb()), [])
                rects.extend(QRectF(x0, y0, x1 - x0, y1 - y0) for x0, x1 in windows)
            for x0, x1 in windows:
                shape.addRect(QRectF(x0, 0.0, x1 - x0, height))
        self._shape = shape
        grid = (self._grid.red(), self._grid.green(), self._grid.blue())
        for x, alpha in self._grid_lines(low, high, width):
            in_window = any(x0 <= x <= x1 for x0, x1 in windows)
            for y0, y1, colour in rows:
                under = _over_rgb(self._window_fill, colour.rgb()) if in_window else colour.rgb()
                end = y1 + 0.5 if y1 >= height else y1  # a grid line reaches the axis, half a pixel lower
                fills.setdefault(_over_rgb((*grid, alpha), under), []).append(
                    QRectF(x - 0.5, y0, 1.0, end - y0)
                )
        self._fills = [(QColor(rgb), rects) for rgb, rects in fills.items()]
        rect = QRectF(0.0, 0.0, width, height + 0.5)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def shape(self) -> QPainterPath:
        return self._shape  # the windows: only they have a tooltip

    def paint(self, painter: Any, *_args: object) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self._fills:
            painter.setBrush(colour)
            painter.drawRects(rects)

    def hoverEvent(self, event: Any) -> None:
        if event.isExit():
            self.setToolTip("")
            return
        x = self._vb.mapToView(event.pos()).x()
        inside = (tip for (x0, x1), tip in zip(self._spans, self._tips, strict=True) if x0 <= x <= x1)
        self.setToolTip(next(inside, ""))


class _Points(pg.ScatterPlotItem):  # type: ignore[misc]
    """A ScatterPlotItem hidden while it has no points: pyqtgraph runs its whole paint (about 0.15 ms)
    for none, on every frame (the hover ring, and the amended, error and alert markers of most stays)."""

    def setData(self, *args: Any, **kwargs: Any) -> None:
        super().setData(*args, **kwargs)
        self.setVisible(len(self.data) > 0)


class _HeatImage(pg.ImageItem):  # type: ignore[misc]
    """The heat map's ImageItem, keeping its rendered image in the format the raster painter draws
    directly. pyqtgraph renders a colour-mapped image as 8-bit indexed, which Qt converts, all 11 x
    20,000 cells of it, on every paint (1 ms of each pan of a long stay). Converted once per render
    (that is, whenever pyqtgraph itself renders the image again: new data, levels or colour map)."""

    qimage: QImage | None

    def render(self) -> None:
        super().render()
        qimage = self.qimage
        if qimage is not None and qimage.format() != QImage.Format.Format_ARGB32_Premultiplied:
            self.qimage = qimage.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


class TrendView(QWidget):
    """The trend of one episode. show_episode(id) loads it through the service.

    defer_items: the item scores of the heat map (11 rows per assessment, 220,000 on a long stay) are
    read off the GUI thread after the chart is drawn, and the heat map filled in when they arrive
    (heat_map_drawn); the COWS line, doses, alerts and vital signs do not wait for them. Off, they are
    read with the rest (a stub source without a column-wise read always is)."""

    heat_map_drawn = Signal()

    def __init__(
        self, service: TrendSource, parent: QWidget | None = None, *, defer_items: bool = False
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.episode_id: int | None = None
        self._data: _Loaded | None = None
        self.defer_items = defer_items
        # The load whose item scores are wanted: (serial, episode id, assessment ids in series order).
        self._serial = 0
        self._items_wanted: tuple[int, int, np.ndarray] | None = None
        self._items_reading: int | None = None  # the serial of the load a running read was started for
        self._items_task = BackgroundTask(self._read_items, self)
        self._items_task.done.connect(self._items_read)
        self._items_task.failed.connect(self._items_failed)
        self._dynamic: list[tuple[Any, Any]] = []  # (plot, item) removed on each load
        self._doses: list[td.DoseMark] = []
        self._dose_x = np.zeros(0)  # epoch seconds of self._doses, sorted
        self._dose_text_px: list[float] = []
        self._dose_curves: dict[str, Any] = {}  # role -> its dose lines on the COWS plot
        self._context_dose_curves: list[Any] = []  # dose lines on the heat map and vital signs
        # (role, plot) -> that role's dose lines on that plot: made once and given new data on each load
        # (making and removing two dozen items took a quarter of a load)
        self._dose_lines: dict[tuple[str, int], _FixedCurve] = {}
        self._label_pool: list[Any] = []  # TextItems in the events lane, reused on every layout
        self._shown_labels: list[tuple[td.DoseMark, Any]] = []
        self._references: list[tuple[str, Any]] = []  # ("baseline" | "threshold", segment)
        self._reference_marks: list[td.DoseMark] = []
        self._reference_pool: list[Any] = []  # TextItems naming baselines and alert levels
        self._alert_marks: list[td.AlertMark] = []
        # Plotted x = epoch seconds - origin. Epoch values (~1.8e9) lose their seconds in the SVG
        # export, which writes about six significant digits (pyqtgraph issue 2661): points and lines
        # would land minutes to hours from their times. Times relative to the stay keep their precision.
        self.origin = 0.0
        self._fg = self.palette().color(QPalette.ColorRole.Text)
        self._bg = self.palette().color(QPalette.ColorRole.Base)
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        self._build_widgets()
        self._build_plots()
        self._set_zone(ZoneInfo("UTC"), 0.0)

    # --- construction -----------------------------------------------------------------------------

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(_plain(text))
        button.clicked.connect(slot)
        return button

    def _build_widgets(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.last_24h_button = self._button(self.tr("Last 24 h"), lambda: self.show_last_hours(24))
        self.last_72h_button = self._button(self.tr("Last 72 h"), lambda: self.show_last_hours(72))
        self.whole_episode_button = self._button(self.tr("Whole episode"), self.show_whole_episode)
        self.export_png_button = self._button(self.tr("Export PNG…"), lambda: self._ask_export("png"))
        self.export_svg_button = self._button(self.tr("Export SVG…"), lambda: self._ask_export("svg"))
        for button in (self.last_24h_button, self.last_72h_button, self.whole_episode_button):
            bar.addWidget(button)
        bar.addStretch(1)
        hint = QLabel(self.tr("Wheel or drag on a chart: zoom and pan in time"))
        hint.setAccessibleName(hint.text())
        bar.addWidget(hint)
        bar.addStretch(1)
        bar.addWidget(self.export_png_button)
        bar.addWidget(self.export_svg_button)
        layout.addLayout(bar)

        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setAccessibleName(self.tr("Trend message"))
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        layout.addWidget(self.message_label)

        self.hover_label = QLabel(self.tr("Move the mouse over a chart to see the nearest assessment."))
        self.hover_label.setWordWrap(True)
        self.hover_label.setAccessibleName(self.tr("Details under the mouse"))
        self.hover_label.setTextFormat(Qt.TextFormat.PlainText)
        # A fixed height: the charts must not jump when the text under the mouse changes length.
        self.hover_label.setFixedHeight(4 * self.fontMetrics().lineSpacing() + 6)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.hover_label)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(self._bg)
        self.graphics.setMinimumHeight(960)
        self.graphics.setAccessibleName(self.tr("Trend charts"))
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setWidget(self.graphics)
        layout.addWidget(self.scroll_area, 1)

    def _tone(self, colour: str) -> QColor:
        """A named colour of this module as drawn: lighter on a dark background, so that purple, blue
        and red lines and labels keep their contrast in a dark theme."""
        return QColor(colour).lighter(150) if self._bg.lightness() < 128 else QColor(colour)

    def _pen(self, colour: str | QColor, width: float = 1, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Any:
        return pg.mkPen(self._tone(colour) if isinstance(colour, str) else colour, width=width, style=style)

    def _new_plot(self, row: int, *, top_axis: bool = False, bottom_values: bool = False) -> Any:
        axes = {"bottom": LocalTimeAxis(orientation="bottom")}
        if top_axis:
            axes["top"] = LocalTimeAxis(orientation="top")
        plot = self.graphics.ci.addPlot(row=row, col=0, axisItems=axes)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        for name in ("left", "bottom", "top"):
            axis = plot.getAxis(name)
            axis.setPen(self._pen(self._fg))
            axis.setTextPen(self._pen(self._fg))
            axis.setTickFont(self._small)
        plot.getAxis("left").setWidth(_LEFT_AXIS_WIDTH)
        if top_axis:
            plot.showAxis("top")
            plot.getAxis("top").setStyle(showValues=True)
            plot.getAxis("top").setGrid(False)
        bottom = plot.getAxis("bottom")
        bottom.setStyle(showValues=bottom_values)
        if not bottom_values:
            bottom.setHeight(4)
        self._time_axes.append(bottom)
        if top_axis:
            self._time_axes.append(plot.getAxis("top"))
        # Axes that are never shown must not follow the time range: every pan would otherwise
        # re-render the (HTML) label of each hidden top axis for its SI prefix. None of the axes has a
        # unit, so the prefix is off everywhere.
        for name in ("left", "bottom", "top", "right"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        if not top_axis:
            plot.getAxis("top").unlinkFromView()
        plot.getAxis("right").unlinkFromView()
        plot.vb.setDefaultPadding(0.0)
        # The time grid is painted by the backdrop, under the data (see _Backdrop); the bottom axis keeps
        # its look without it: no tick marks, labels where they were.
        bottom.setStyle(tickLength=0, tickAlpha=0)
        self._backdrops[id(plot)] = _Backdrop(plot, self._bg, self._fg, grid_alpha=0.15)
        return plot

    def _build_plots(self) -> None:
        ci = self.graphics.ci
        ci.setContentsMargins(4, 4, 8, 4)
        ci.setSpacing(2)
        self._time_axes: list[LocalTimeAxis] = []
        self._backdrops: dict[int, _Backdrop] = {}  # id(plot) -> its backdrop
        self.title = pg.LabelItem("", color=self._fg, size="11pt", justify="left")
        ci.addItem(self.title, row=0, col=0, colspan=2)

        self.legend = pg.LegendItem(
            colCount=6, labelTextColor=self._fg, labelTextSize="8pt", sampleType=_StaticSample, frame=False
        )
        ci.addItem(self.legend, row=1, col=0, colspan=2)

        self.events_plot = self._new_plot(2, top_axis=True)
        self.events_plot.setMaximumHeight(_EVENTS_HEIGHT)
        self.events_plot.setMinimumHeight(_EVENTS_HEIGHT)
        self.events_plot.setYRange(0, _DOSE_ROWS + 1, padding=0)
        self.events_plot.getAxis("left").setTicks([[(0.5, self.tr("Alerts")), (2.5, self.tr("Doses"))], []])
        self.events_plot.getAxis("left").setStyle(tickLength=0)

        self.cows_plot = self._new_plot(3)
        self.cows_plot.setYRange(*_Y_COWS, padding=0)
        self.cows_plot.setClipToView(True)
        self.cows_plot.setDownsampling(auto=True, mode="peak")
        self.cows_plot.setLabel("left", self.tr("COWS total"), color=self._fg.name())
        bounds = [0] + [b.low for b in COWS.bands[1:]] + [COWS.bands[-1].high]
        self.cows_plot.getAxis("left").setTicks([[(float(v), str(v)) for v in bounds], []])

        self.items_plot = self._new_plot(4)
        self.items_plot.setYRange(0, len(COWS.items), padding=0)
        self.items_plot.hideAxis("bottom")  # no time grid over the cells: it reads as a change of score
        ticks = [(len(COWS.items) - item.number + 0.5, f"{item.number} {item.label}") for item in COWS.items]
        self.items_plot.getAxis("left").setTicks([ticks, []])
        self.items_plot.getAxis("left").setStyle(tickLength=0)

        self.vitals_plots: dict[str, Any] = {}
        for offset, (key, _title, _series, _default) in enumerate(_VITAL_PLOTS):
            last = offset == len(_VITAL_PLOTS) - 1
            self.vitals_plots[key] = self._new_plot(5 + offset, bottom_values=last)
        layout = ci.layout
        layout.setRowStretchFactor(3, 5)
        layout.setRowStretchFactor(4, 4)
        for offset in range(len(_VITAL_PLOTS)):
            layout.setRowStretchFactor(5 + offset, 2)

        for plot in self._plots()[1:]:
            plot.setXLink(self.cows_plot)
        self._build_cows_items()
        self._build_events_items()
        self._build_heat_map()
        self._build_vitals_items()
        self._build_legend()
        self._build_hover_items()

        self.cows_plot.vb.sigXRangeChanged.connect(self._on_x_range_changed)
        self.events_plot.vb.sigResized.connect(self._layout_dose_labels)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _plots(self) -> list[Any]:
        return [self.cows_plot, self.events_plot, self.items_plot, *self.vitals_plots.values()]

    def _build_cows_items(self) -> None:
        plot = self.cows_plot
        # The bands are painted by the plot's backdrop; their names are children of the ViewBox itself,
        # not of its data group: a pan or zoom does not move them (the y range is fixed); _place_bands
        # lays them out again when the plot is resized.
        self._cows_backdrop = self._backdrops[id(plot)]
        self._band_items: list[tuple[Any, Rgba, Any]] = []  # band, translucent fill, TextItem
        for band in COWS.bands:
            fill = _BAND_FILL.get(band.key, (128, 128, 128, 40))
            text = f"{band.label} {band.low}–{band.high}"
            if band.app_defined:
                text += self.tr(" (app's label)")
            label = pg.TextItem(text, color=self._fg, anchor=(0, 0.5))
            label.setFont(self._small)
            label.setParentItem(plot.vb)
            label.setZValue(-500)  # under the data: a point is never hidden by a label
            self._band_items.append((band, fill, label))
        # the half points between bands, so that every whole total sits inside exactly one band
        self._cows_backdrop.set_bands(
            [(band.low - 0.5, band.high + 0.5, fill) for band, fill, _l in self._band_items]
        )
        plot.vb.sigResized.connect(self._place_bands)

        self.cows_curve = pg.PlotDataItem(
            [],
            [],
            pen=self._pen(self._fg, 2),
            symbol=None,
            symbolSize=6,
            symbolBrush=self._fg,
            symbolPen=self._pen(self._fg),
            skipFiniteCheck=True,
            name=self.tr("COWS total"),
        )
        self.cows_curve.setZValue(10)
        # Peak downsampling keeps each bucket's minimum and maximum, so one bucket per pixel loses
        # nothing visible; pyqtgraph's default (5 per pixel) draws five times the points for no gain.
        self.cows_curve.opts["autoDownsampleFactor"] = 1.0
        plot.addItem(self.cows_curve)
        self.amended_scatter = _Points(
            symbol="s", size=11, pen=self._pen(self._fg, 1.5), brush=pg.mkBrush(_AMENDED_BRUSH)
        )
        self.amended_scatter.setZValue(15)
        plot.addItem(self.amended_scatter)
        self.error_scatter = _Points(
            symbol="x", size=13, pen=self._pen(_ERROR_PEN, 1), brush=pg.mkBrush(_ERROR_PEN)
        )
        self.error_scatter.setZValue(15)
        plot.addItem(self.error_scatter)

    def _build_events_items(self) -> None:
        self.alert_scatter = _Points(size=13, hoverable=True, tip=lambda x, y, data: data, hoverSize=16)
        self.alert_scatter.setZValue(20)
        self.events_plot.addItem(self.alert_scatter)

    def _build_heat_map(self) -> None:
        self.colour_map = pg.colormap.get("viridis")
        self.heat_image = _HeatImage(axisOrder="row-major")
        self.heat_image.setColorMap(self.colour_map)
        self.heat_image.setLevels((0, 5))
        self.items_plot.addItem(self.heat_image)
        self.colour_bar = pg.ColorBarItem(
            values=(0, 5),
            colorMap=self.colour_map,
            interactive=False,
            width=14,
            colorMapMenu=False,
        )
        self.colour_bar.getAxis("right").setTextPen(self._pen(self._fg))
        self.colour_bar.getAxis("right").setPen(self._pen(self._fg))
        self.colour_bar.getAxis("right").setTickFont(self._small)
        self.colour_bar.getAxis("right").setLabel(self.tr("item score"), color=self._fg.name())
        self.graphics.ci.addItem(self.colour_bar, row=4, col=1)

    def _build_vitals_items(self) -> None:
        self.vitals_curves: dict[str, Any] = {}
        self._vital_titles: list[tuple[Any, Any]] = []
        for key, title, series, default in _VITAL_PLOTS:
            plot = self.vitals_plots[key]
            plot.setYRange(*default, padding=0)
            for name in series:
                colour, symbol = _SERIES_STYLE[name]
                curve = pg.PlotDataItem(
                    [],
                    [],
                    pen=self._pen(colour, 1.5),
                    symbol=symbol,
                    symbolSize=6,
                    symbolBrush=self._tone(colour),
                    symbolPen=self._pen(colour),
                    connect="finite",
                )
                plot.addItem(curve)
                self.vitals_curves[name] = curve
            text = self.tr(title)
            if key == "bp":
                text += self.tr("  ▽ systolic  △ diastolic")
            label = pg.TextItem(text, color=self._fg, anchor=(0, 0), fill=pg.mkBrush(self._translucent_bg()))
            label.setFont(self._small)
            label.setParentItem(plot.vb)  # pinned to the top left corner, whatever the time range
            label.setPos(1, 0)
            label.setZValue(1000)
            self._vital_titles.append((plot, label))

    def _translucent_bg(self, alpha: int = 200) -> QColor:
        colour = QColor(self._bg)
        colour.setAlpha(alpha)
        return colour

    def _build_legend(self) -> None:
        legend = self.legend
        legend.addItem(self.cows_curve, self.tr("COWS total"))
        legend.addItem(
            pg.ScatterPlotItem(symbol="s", size=10, pen=self._pen(self._fg, 1.5), brush=_AMENDED_BRUSH),
            self.tr("amended"),
        )
        legend.addItem(
            pg.ScatterPlotItem(symbol="x", size=12, pen=self._pen(_ERROR_PEN), brush=_ERROR_PEN),
            self.tr("entered in error"),
        )
        for role, words in (
            ("antagonist", self.tr("antagonist dose")),
            ("agonist", self.tr("opioid agonist")),
            ("comfort", self.tr("comfort medicine")),
        ):
            colour, width, style = _ROLE_STYLE[role]
            legend.addItem(
                pg.PlotDataItem(pen=self._pen(colour, width, style)), f"{ROLE_PREFIX[role]} {words}"
            )
        legend.addItem(
            pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(*_WINDOW_FILL), pen=None),
            self.tr("antagonist alert window"),
        )
        legend.addItem(
            pg.PlotDataItem(pen=self._pen("#8E24AA", 2, Qt.PenStyle.DashLine)), self.tr("pre-dose baseline")
        )
        legend.addItem(
            pg.PlotDataItem(pen=self._pen(_THRESHOLD_PEN, 2, Qt.PenStyle.DotLine)),
            self.tr("alert level (baseline + rise)"),
        )
        for priority in ("high", "medium", "low"):
            legend.addItem(
                pg.ScatterPlotItem(
                    symbol=_PRIORITY_SYMBOL[priority],
                    size=11,
                    brush=_PRIORITY_COLOUR[priority],
                    pen=self._pen(self._fg),
                ),
                f"{_PRIORITY_SHAPE[priority]} " + self.tr(f"{priority} alert"),
            )

    def _build_hover_items(self) -> None:
        self.hover_point = _Points(symbol="o", size=16, pen=self._pen(self._fg, 2), brush=pg.mkBrush(None))
        self.hover_point.setZValue(40)
        self.cows_plot.addItem(self.hover_point, ignoreBounds=True)
        self._cursors = []
        for plot in (self.cows_plot, self.items_plot):
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=self._pen(self._fg, 1, Qt.PenStyle.DotLine))
            cursor.setZValue(35)
            cursor.hide()
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors.append(cursor)

    # --- loading ----------------------------------------------------------------------------------

    def show_episode(
        self,
        episode_id: int,
        *,
        columns: AssessmentColumns | None = None,
        doses: Sequence[DoseView] | None = None,
        vitals: Sequence[VitalsView] | None = None,
        detail: EpisodeDetail | None = None,
    ) -> None:
        """Load (or reload) an episode through the service and draw it. A failure shows as a message.

        columns, doses, vitals, detail: the episode and its records as the caller has just read them
        (the bedside, when nothing was written since), so that they are not read twice; None reads them."""
        self.episode_id = episode_id
        self._serial += 1
        self._items_wanted = None
        try:
            loaded = self._load(episode_id, columns, doses, vitals, detail)
        except Exception as exc:  # shown as words, never a traceback (design.md)
            self._clear()
            self._data = None
            self.title.setText("")
            self._say(describe(exc))
            return
        self._data = loaded
        self._draw(loaded)
        if not len(loaded.series):
            self._say(self.tr("No COWS charted yet in this episode."))
        else:
            self._say("")
        self.show_whole_episode()
        if loaded.items_pending:
            ids = np.asarray(loaded.series.columns.ids, dtype=np.int64)[loaded.series.rows]
            self._items_wanted = (self._serial, episode_id, ids)
            self._restart_items()
        else:
            self.heat_map_drawn.emit()

    def heat_map_pending(self) -> bool:
        """True while the item scores of the episode shown are still being read."""
        return self._items_wanted is not None

    def wait_for_items(self, timeout_ms: int = 60_000) -> None:
        """Block until a read of item scores in progress ends (closing, tests)."""
        self._items_task.wait(timeout_ms)

    def _read_items(self) -> tuple[tuple[int, int, np.ndarray], td.FloatArray] | None:
        """In the worker thread: the item scores of the load wanted when it starts."""
        wanted = self._items_wanted
        read_items = getattr(self.service, "assessment_item_columns", None)
        if wanted is None or read_items is None:
            return None
        return wanted, td.item_matrix(wanted[2], read_items(wanted[1]))

    def _items_read(self, result: object) -> None:
        self._items_reading = None
        wanted = self._items_wanted
        if wanted is None:
            return
        if result is None or not isinstance(result, tuple) or result[0][0] != wanted[0]:
            self._restart_items()  # read for an earlier load: read again for this one
            return
        data = self._data
        assert data is not None
        self._items_wanted = None
        series = replace(data.series, items=result[1])
        data.series = series
        data.grid = td.heat_grid(series.xs, series.items, until=data.end)
        data.items_pending = False
        self._draw_heat_map(data.grid)
        self.heat_map_drawn.emit()

    def _restart_items(self) -> None:
        """Start reading the wanted load's item scores, once a read still going (for an earlier load)
        has ended: one read at a time, the latest load's last."""
        wanted = self._items_wanted
        if wanted is None or self._items_reading == wanted[0]:
            return
        if self._items_task.start():
            self._items_reading = wanted[0]
        else:
            QTimer.singleShot(5, self._restart_items)

    def _items_failed(self, text: str) -> None:
        self._items_reading = None
        if self._items_wanted is None:
            return
        self._items_wanted = None
        self._say(self.tr("The item scores could not be read: {0}").format(text))
        self.heat_map_drawn.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._items_wanted = None
        self.wait_for_items()
        super().closeEvent(event)

    def refresh(self) -> None:
        if self.episode_id is not None:
            self.show_episode(self.episode_id)

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _read_series(self, episode_id: int, columns: AssessmentColumns | None) -> td.CowsSeries:
        """The COWS and item scores in two column-wise reads (no view object per assessment); a source
        without them (a stub) through its view objects. defer_items: the items are left blank here (NaN)
        and read after the chart is drawn (show_episode)."""
        service = self.service
        read_columns = getattr(service, "assessment_columns", None)
        read_items = getattr(service, "assessment_item_columns", None)
        if read_columns is None or read_items is None:
            return td.cows_series(service.assessments(episode_id))
        if columns is None or columns.episode_id != episode_id:
            columns = read_columns(episode_id)
        return td.cows_columns(columns, None if self.defer_items else read_items(episode_id))

    def _load(
        self,
        episode_id: int,
        columns: AssessmentColumns | None = None,
        given: Sequence[DoseView] | None = None,
        taken: Sequence[VitalsView] | None = None,
        detail: EpisodeDetail | None = None,
    ) -> _Loaded:
        service = self.service
        episode = detail if detail is not None and detail.id == episode_id else service.episode(episode_id)
        series = self._read_series(episode_id, columns)
        protocol = service.protocol()
        if given is None or any(d.episode_id != episode_id for d in given[:1]):
            given = service.doses(episode_id)
        if taken is None or any(v.episode_id != episode_id for v in taken[:1]):
            taken = service.vitals(episode_id)
        doses = td.dose_marks(given, series, protocol)
        alerts = td.alert_marks(service.alerts(include_inactive=True, episode_id=episode_id))
        vitals, arrays = td.vitals_series(taken)
        now = service.clock.now()
        start = td.epoch(episode.admitted_at)
        end = td.epoch(episode.discharged_at) if episode.discharged_at else td.epoch(now)
        pending = self.defer_items and hasattr(service, "assessment_item_columns") and len(series) > 0
        return _Loaded(
            episode=episode,
            zone=_zone(episode.tz_name),
            series=series,
            items_pending=pending,
            doses=doses,
            alerts=alerts,
            vitals=vitals,
            vital_arrays=arrays,
            grid=td.HeatGrid(np.full((len(COWS.items), 0), np.nan), 0.0, 1.0)
            if pending
            else td.heat_grid(series.xs, series.items, until=end),
            start=start,
            end=end,
        )

    def _set_zone(self, zone: tzinfo, origin: float) -> None:
        self._zone = zone
        self.origin = origin
        for axis in self._time_axes:
            axis.set_zone(zone, origin)

    def to_view_x(self, epoch_seconds: float | np.ndarray) -> Any:
        """Epoch seconds to the plots' x coordinate."""
        return epoch_seconds - self.origin

    def from_view_x(self, x: float | np.ndarray) -> Any:
        """The plots' x coordinate to epoch seconds."""
        return x + self.origin

    def _add(self, plot: Any, item: Any, *, ignore_bounds: bool = True) -> Any:
        plot.addItem(item, ignoreBounds=ignore_bounds)
        self._dynamic.append((plot, item))
        return item

    def _clear(self) -> None:
        for plot, item in self._dynamic:
            plot.removeItem(item)
        self._dynamic.clear()
        self._doses = []
        self._dose_x = np.zeros(0)
        self._dose_text_px = []
        self._dose_curves = {}
        self._context_dose_curves = []
        for curve in self._dose_lines.values():
            curve.setVisible(False)
        self._cows_backdrop.set_windows([], _WINDOW_FILL)
        self._references = []
        self._reference_marks = []
        for label in self._reference_pool:
            label.setVisible(False)
        self._layout_dose_labels()
        self._alert_marks = []
        self.cows_curve.setData([], [])
        self.amended_scatter.setData([], [])
        self.error_scatter.setData([], [])
        self.alert_scatter.setData([], [])
        self.heat_image.clear()
        for curve in self.vitals_curves.values():
            curve.setData([], [])
        self._hide_hover()

    def _draw(self, data: _Loaded) -> None:
        self._clear()
        self._set_zone(data.zone, float(int(data.start // HOUR) * HOUR))
        episode = data.episode
        zone_name = getattr(data.zone, "key", str(data.zone))
        admitted = episode.admitted_at.astimezone(data.zone).strftime("%a %d %b %Y %H:%M")
        parts = [
            episode.name,
            self.tr("MRN") + f" {episode.mrn}",
            self.tr("bed") + f" {episode.bed or '–'}",
            self.tr("admitted") + f" {admitted}",
        ]
        if episode.discharged_at is not None:
            discharged = episode.discharged_at.astimezone(data.zone).strftime("%a %d %b %Y %H:%M")
            parts.append(self.tr("discharged") + f" {discharged}")
        parts.append(self.tr("times in") + f" {zone_name}")
        self.title.setText(" · ".join(parts))

        series = data.series
        xs = self.to_view_x(series.xs)
        self.cows_curve.setData(xs, series.ys, skipFiniteCheck=True)
        self.amended_scatter.setData(xs[series.amended], series.ys[series.amended])
        self.error_scatter.setData(self.to_view_x(series.error_xs), series.error_ys)
        self._draw_heat_map(data.grid)
        self._draw_vitals(data)  # before the doses: their lines span each plot's final y range
        self._draw_doses(data)
        self._draw_alerts(data.alerts)
        start = min([data.start, *series.xs[:1], *series.error_xs[:1]])
        end = max([data.end, *series.xs[-1:], *series.error_xs[-1:]])
        span = max(end - start, HOUR)
        # room to look back further than the stay (the "Last 72 h" of a short stay) but not to 1970
        margin = max(span, 96 * HOUR)
        self.cows_plot.vb.setLimits(
            xMin=self.to_view_x(start - margin),
            xMax=self.to_view_x(end + margin),
            minXRange=_MIN_X_RANGE,
            maxXRange=span + 2 * margin,
        )

    def _draw_heat_map(self, grid: td.HeatGrid, *, repeat: tuple[int, int] = (1, 1)) -> None:
        """repeat: (rows, columns) each cell is repeated, for an export whose viewer smooths images."""
        if grid.columns == 0:
            self.heat_image.clear()
            return
        image = grid.image[::-1]
        if repeat != (1, 1):
            image = np.repeat(np.repeat(image, repeat[0], axis=0), repeat[1], axis=1)
        self.heat_image.setImage(image, autoLevels=False, levels=(0, 5))
        left = self.to_view_x(grid.x0)
        self.heat_image.setRect(QRectF(left, 0.0, grid.columns * grid.width, float(len(COWS.items))))

    @contextlib.contextmanager
    def _sharp_heat_map(self) -> Iterator[None]:
        """While exporting an SVG, embed the heat map with each cell several pixels wide: a viewer that
        smooths the embedded image then blurs only the edge of a cell, never a score into the next hours."""
        grid = self._data.grid if self._data is not None else None
        if grid is None or grid.columns == 0:
            yield
            return
        self._draw_heat_map(grid, repeat=(8, max(1, min(8, 4000 // grid.columns))))
        try:
            yield
        finally:
            self._draw_heat_map(grid)

    def _dose_text(self, mark: td.DoseMark) -> str:
        return f"{ROLE_PREFIX.get(mark.role, '○')} {mark.label}"

    def _local(self, x: float, seconds: bool = False) -> str:
        fmt = "%a %d %b %Y %H:%M:%S" if seconds else "%a %d %b %Y %H:%M"
        return datetime.fromtimestamp(x, self._zone).strftime(fmt)

    def _hhmm(self, x: float) -> str:
        return datetime.fromtimestamp(x, self._zone).strftime("%H:%M")

    def _dose_tip(self, mark: td.DoseMark) -> str:
        dose = mark.view
        lines = [
            self._dose_text(mark)
            + " · "
            + self.tr("given")
            + f" {self._local(mark.x)} "
            + self.tr("by")
            + f" {dose.recorded_by}",
        ]
        if mark.is_antagonist:
            if mark.window_end is not None:
                lines.append(self.tr("alert window until") + f" {self._local(mark.window_end)}")
            if mark.baseline is not None:
                lines.append(
                    self.tr("baseline COWS")
                    + f" {mark.baseline.total} "
                    + self.tr("at")
                    + f" {self._hhmm(mark.baseline.x)}; "
                    + self.tr("alert at COWS ≥")
                    + f" {mark.threshold}"
                )
            else:
                lines.append(self.tr("no baseline COWS; alert at COWS ≥") + f" {mark.threshold}")
        if dose.warning_reason:
            lines.append(self.tr("given despite a warning:") + f" {dose.warning_reason}")
        return "\n".join([*lines[:1], "; ".join(lines[1:])] if len(lines) > 1 else lines)

    def _draw_doses(self, data: _Loaded) -> None:
        """Dose lines as one item per role and plot (vertical segments), however many doses a stay has:
        one InfiniteLine per dose made a pan of a long stay (400 doses) take 160 ms. The labels come
        from a small pool placed by _layout_dose_labels."""
        self._doses = list(data.doses)
        self._dose_x = np.array([m.x for m in self._doses], dtype=np.float64)
        metrics = QFontMetricsF(self._small)
        self._dose_text_px = [metrics.horizontalAdvance(self._dose_text(m)) + 10 for m in self._doses]
        by_role: dict[str, list[float]] = {}
        for mark in self._doses:
            by_role.setdefault(mark.role, []).append(mark.x)
        self._draw_windows([m for m in self._doses if m.is_antagonist])
        self._draw_references([m for m in self._doses if m.is_antagonist])
        for role, xs in by_role.items():
            x = np.repeat(self.to_view_x(np.asarray(xs, dtype=np.float64)), 2)
            for plot in self._plots():
                low, high = plot.vb.viewRange()[1]  # fixed: zoom and pan act on time only
                curve = self._dose_line(role, plot)
                curve.setData(x, np.tile([low, high], len(xs)), connect="pairs", skipFiniteCheck=True)
                curve.setVisible(True)
                if plot is self.cows_plot:
                    self._dose_curves[role] = curve
                # Antagonist lines always show on the COWS plot; comfort and agonist lines there, and
                # every dose line on the heat map and vital signs, are context (see _update_detail).
                if plot is not self.events_plot and not (plot is self.cows_plot and role == "antagonist"):
                    self._context_dose_curves.append(curve)
        self._layout_dose_labels()

    def _dose_line(self, role: str, plot: Any) -> _FixedCurve:
        """The item drawing `role`'s dose lines on `plot`, made on first use."""
        curve = self._dose_lines.get((role, id(plot)))
        if curve is None:
            colour, width, style = _ROLE_STYLE.get(role, _ROLE_STYLE["comfort"])
            if plot is self.items_plot:  # role colours would vanish into the colour map
                pen = self._pen("#FFFFFF", width, style)
            elif plot in (self.cows_plot, self.events_plot):
                pen = self._pen(colour, width, style)
            else:
                pen = self._pen(colour, 1, style)
            curve = _FixedCurve(connect="pairs", pen=pen, skipFiniteCheck=True)
            curve.setZValue(5)
            plot.addItem(curve, ignoreBounds=True)
            self._dose_lines[(role, id(plot))] = curve
        return curve

    def _draw_windows(self, marks: list[td.DoseMark]) -> None:
        """Each antagonist's alert window, shaded from the dose to dose + protocol window over the whole
        height of the COWS plot, by its backdrop (see _Backdrop)."""
        spans = [
            (
                float(self.to_view_x(m.x)),
                float(self.to_view_x(m.window_end)),
                self.tr("Alert window after") + f" {m.label}: {self._hhmm(m.x)}–{self._hhmm(m.window_end)}",
            )
            for m in marks
            if m.window_end is not None
        ]
        self._cows_backdrop.set_windows(spans, _WINDOW_FILL)

    def _draw_references(self, marks: list[td.DoseMark]) -> None:
        """Each antagonist's pre-dose baseline (dashed, from the baseline COWS to the end of the window)
        and its alert level (dotted, over the window): one item per kind for all doses."""
        colour = _ROLE_STYLE["antagonist"][0]
        pens = {
            "baseline": self._pen(colour, 2, Qt.PenStyle.DashLine),
            "threshold": self._pen(_THRESHOLD_PEN, 2, Qt.PenStyle.DotLine),
        }
        segments: dict[str, tuple[list[float], list[float]]] = {"baseline": ([], []), "threshold": ([], [])}
        for mark in marks:
            end = mark.window_end if mark.window_end is not None else mark.x + HOUR
            if mark.baseline is not None:
                segments["baseline"][0].extend([mark.baseline.x, end])
                segments["baseline"][1].extend([mark.baseline.total] * 2)
            if mark.threshold is not None:
                segments["threshold"][0].extend([mark.x, end])
                segments["threshold"][1].extend([mark.threshold] * 2)
        for kind, (xs, ys) in segments.items():
            if not xs:
                continue
            curve = _FixedCurve(
                self.to_view_x(np.asarray(xs, dtype=np.float64)),
                np.asarray(ys, dtype=np.float64),
                connect="pairs",
                pen=pens[kind],
                skipFiniteCheck=True,
            )
            curve.setZValue(8)
            self._add(self.cows_plot, curve)
            self._references.append((kind, curve))
        self._reference_marks = [m for m in marks if m.threshold is not None or m.baseline is not None]

    def _label_references(self, low: float, high: float, per_px: float) -> None:
        """Name the baseline and the alert level of each window in view that is wide enough to hold the
        words (left of the dose line), from a small pool of labels."""
        wanted: list[tuple[str, QColor, float, float, tuple[float, float]]] = []  # text, colour, x, y, anchor
        for mark in self._reference_marks:
            end = mark.window_end if mark.window_end is not None else mark.x + HOUR
            if end < low or mark.x > high or (end - mark.x) / per_px < _REFERENCE_LABEL_PX:
                continue
            if mark.baseline is not None:
                text = self.tr("baseline") + f" {mark.baseline.total}"
                colour = self._tone(_ROLE_STYLE["antagonist"][0])
                wanted.append((text, colour, mark.x, mark.baseline.total, (1, 0)))
            if mark.threshold is not None:
                words = self.tr("alert ≥") if mark.baseline is not None else self.tr("no baseline: alert ≥")
                colour = self._tone(_THRESHOLD_PEN)
                wanted.append((f"{words} {mark.threshold}", colour, mark.x, mark.threshold, (1, 1)))
            if len(wanted) >= 24:
                break
        while len(self._reference_pool) < len(wanted):
            label = pg.TextItem("")
            label.setFont(self._small)
            label.setZValue(9)
            self.cows_plot.addItem(label, ignoreBounds=True)
            self._reference_pool.append(label)
        for label, (text, colour, x, y, anchor) in zip(self._reference_pool, wanted, strict=False):
            if label.toPlainText() != text:
                label.setText(text, color=colour)
            label.setAnchor(anchor)
            label.setPos(self.to_view_x(x), y)
            label.setVisible(True)
        for label in self._reference_pool[len(wanted) :]:
            label.setVisible(False)

    def _draw_alerts(self, alerts: list[td.AlertMark]) -> None:
        self._alert_marks = list(alerts)
        spots = []
        for mark in alerts:
            words = {"high": self.tr("HIGH"), "medium": self.tr("MEDIUM"), "low": self.tr("LOW")}.get(
                mark.priority, mark.priority.upper()
            )
            tip = (
                f"{_PRIORITY_SHAPE.get(mark.priority, '●')} {words} – {mark.view.title}\n"
                f"{mark.message}\n" + self.tr("raised") + f" {self._local(mark.x)} · {mark.view.state}"
            )
            spots.append(
                {
                    "pos": (self.to_view_x(mark.x), 0.5),
                    "symbol": _PRIORITY_SYMBOL.get(mark.priority, "o"),
                    "brush": pg.mkBrush(_PRIORITY_COLOUR.get(mark.priority, "#777777")),
                    "pen": self._pen(self._fg),
                    "data": tip,
                }
            )
        self.alert_scatter.setData(spots)

    def _draw_vitals(self, data: _Loaded) -> None:
        arrays = data.vital_arrays
        xs = arrays["x"]
        for key, _title, series, default in _VITAL_PLOTS:
            plot = self.vitals_plots[key]
            values = [arrays[name] for name in series]
            for name, ys in zip(series, values, strict=True):
                self.vitals_curves[name].setData(self.to_view_x(xs), ys, connect="finite")
            finite = np.concatenate([v[np.isfinite(v)] for v in values]) if xs.size else np.zeros(0)
            low, high = default
            if finite.size:
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
            pad = (high - low) * 0.08
            plot.setYRange(low - pad, high + pad * 3, padding=0)  # room for the title at the top

    # --- x range ----------------------------------------------------------------------------------

    def x_range(self) -> tuple[float, float]:
        """The visible time range in epoch seconds."""
        low, high = self.cows_plot.vb.viewRange()[0]
        return float(self.from_view_x(low)), float(self.from_view_x(high))

    def set_x_range(self, start: float, end: float) -> None:
        """Show [start, end] (epoch seconds) on every plot."""
        self.cows_plot.setXRange(self.to_view_x(start), self.to_view_x(end), padding=0)

    def _end(self) -> float:
        if self._data is not None:
            return self._data.end
        return td.epoch(self.service.clock.now())

    def show_last_hours(self, hours: float) -> None:
        """Show [end - hours, end]: end is now, or the discharge for a closed episode."""
        end = self._end()
        self.set_x_range(end - hours * HOUR, end)

    def show_whole_episode(self) -> None:
        data = self._data
        if data is None:
            self.show_last_hours(24)
            return
        xs = [data.start, data.end, *data.series.xs[:1], *data.series.xs[-1:]]
        xs += [*data.series.error_xs[:1], *data.series.error_xs[-1:]]
        xs += [m.x for m in data.doses[:1]] + [m.x for m in data.doses[-1:]]
        start, end = min(xs), max(xs)
        span = max(end - start, HOUR)
        self.set_x_range(start - span * 0.02, end + span * 0.02)

    def _on_x_range_changed(self, *_args: object) -> None:
        low, high = self.x_range()
        self._update_detail(low, high)
        self._layout_dose_labels()

    def _band_px(self, value: float) -> float:
        """The vertical position in the COWS ViewBox (pixels from its top) of a total."""
        bottom, top = _Y_COWS
        return float((top - value) / (top - bottom) * self.cows_plot.vb.height())

    def _place_bands(self, *_args: object) -> None:
        for band, _fill, label in self._band_items:
            top, bottom = self._band_px(band.high + 0.5), self._band_px(band.low - 0.5)
            label.setPos(4.0, (top + bottom) / 2)

    def _update_detail(self, low: float, high: float) -> None:
        """Level of detail for the range in view. Qt strokes a wide pen many times slower than a
        hairline (measured: 2 px through 400 segments 5.6 ms, 1 px 0.5 ms), so a dense view gets
        hairlines without point symbols, a zoomed-in one the thick line with its points; the baseline
        and alert-level labels show when their window is wide enough to hold them."""
        data = self._data
        xs = data.series.xs if data is not None else np.zeros(0)
        visible = int(np.searchsorted(xs, high, side="right") - np.searchsorted(xs, low, side="left"))
        dense = visible > _SYMBOLS_UP_TO
        symbol = "o" if visible > 0 and not dense else None
        if self.cows_curve.opts["symbol"] != symbol:
            self.cows_curve.setSymbol(symbol)
        width = 1 if dense else 2
        if self.cows_curve.opts["pen"].widthF() != width:
            self.cows_curve.setPen(self._pen(self._fg, width))
        vx = data.vital_arrays["x"] if data is not None else np.zeros(0)
        seen = int(np.searchsorted(vx, high, side="right") - np.searchsorted(vx, low, side="left"))
        vitals_dense = seen > _VITAL_SYMBOLS_UP_TO
        for name, curve in self.vitals_curves.items():
            colour, shape = _SERIES_STYLE[name]
            wanted = None if vitals_dense else shape
            if curve.opts["symbol"] != wanted:
                curve.setSymbol(wanted)
            pen_width = 1 if vitals_dense else 1.5
            if curve.opts["pen"].widthF() != pen_width:
                curve.setPen(self._pen(colour, pen_width))
        per_px = (high - low) / max(1.0, self.cows_plot.vb.width()) if high > low else 1.0
        self._label_references(low, high, per_px)
        # Context dose lines (see _draw_doses): when hundreds are in view they are a smear that hides
        # the data and costs a few ms per frame, so they show when at most _CONTEXT_DOSES are in view;
        # the events lane keeps every line, and the antagonists stay on the COWS plot.
        doses = int(np.searchsorted(self._dose_x, high, side="right") - np.searchsorted(self._dose_x, low))
        for curve in self._context_dose_curves:
            curve.setVisible(doses <= _CONTEXT_DOSES)

    def _layout_dose_labels(self, *_args: object) -> None:
        """Give each visible dose a label in one of the rows of the events lane, left to right, so that
        no two overlap; a dose whose label fits in no row keeps its line (the hover tells it)."""
        low, high = self.x_range()
        width_px = max(1.0, self.events_plot.vb.width())
        per_px = (high - low) / width_px if high > low else 1.0
        row_end = [-1e9] * _DOSE_ROWS
        placed: list[tuple[int, int, tuple[float, float]]] = []  # dose index, row, anchor
        xs = self._dose_x
        index = int(np.searchsorted(xs, low, side="left"))
        last = int(np.searchsorted(xs, high, side="right"))
        while index < last:
            px = (xs[index] - low) / per_px
            text_px = self._dose_text_px[index]
            if px + 3 + text_px <= width_px:
                left, right, anchor = px + 2, px + 2 + text_px, (0.0, 0.5)
            else:
                left, right, anchor = px - 2 - text_px, px - 2, (1.0, 0.5)
            row = next((r for r in range(_DOSE_ROWS) if row_end[r] < left - 4), None)
            if row is None:
                # No label starts left of px + 2, so none fits before a row ends: skip the doses up to
                # there (a long stay has hundreds in view, most of them unlabelled; 1 px to spare).
                free = low + (min(row_end) + 1) * per_px
                index = max(index + 1, int(np.searchsorted(xs, free, side="left")))
                continue
            row_end[row] = right
            placed.append((index, row, anchor))
            index += 1
            if all(end > width_px for end in row_end):
                break
        while len(self._label_pool) < len(placed):
            label = pg.TextItem("", anchor=(0, 0.5), fill=pg.mkBrush(self._translucent_bg(215)))
            label.setFont(self._small)
            label.setZValue(25)
            self.events_plot.addItem(label, ignoreBounds=True)
            self._label_pool.append(label)
        self._shown_labels = []
        for label, (index, row, anchor) in zip(self._label_pool, placed, strict=False):
            mark = self._doses[index]
            text = self._dose_text(mark)
            if label.toPlainText() != text:
                label.setText(text, color=self._tone(_ROLE_STYLE.get(mark.role, _ROLE_STYLE["comfort"])[0]))
            if (label.anchor.x(), label.anchor.y()) != anchor:  # a new anchor re-lays the text out
                label.setAnchor(anchor)
            label.setPos(self.to_view_x(mark.x), row + 1.5)
            label.setVisible(True)
            self._shown_labels.append((mark, label))
        for label in self._label_pool[len(placed) :]:
            label.setVisible(False)

    # --- hover ------------------------------------------------------------------------------------

    def _hide_hover(self) -> None:
        self.hover_point.setData([], [])
        for cursor in self._cursors:
            cursor.hide()

    def _plot_at(self, scene_pos: QPointF) -> Any | None:
        for plot in self._plots():
            if plot.vb.sceneBoundingRect().contains(scene_pos):
                return plot
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        data = self._data
        plot = self._plot_at(scene_pos)
        if data is None or plot is None:
            return
        point = plot.vb.mapSceneToView(scene_pos)
        x, y = float(self.from_view_x(point.x())), point.y()
        if any(plot is p for p in self.vitals_plots.values()):
            self.hover_label.setText(self._vitals_text(data, x))
            return
        if plot is self.events_plot:
            text = self._event_text(data, x, y)
            if text:
                self.hover_label.setText(text)
                return
        index = td.nearest_index(data.series.xs, x)
        if index is None:
            self.hover_label.setText(self.tr("No COWS charted yet in this episode."))
            return
        item_number = None
        if plot is self.items_plot and 0 <= y < len(COWS.items):
            item_number = len(COWS.items) - int(y)
        text = self.assessment_text(data.series.point(index), item_number)
        doses = self._doses_near(x, 5) if plot is self.cows_plot else []
        if doses:  # on a dose line: what was given, then the nearest assessment
            text = "\n".join([*(self._dose_tip(d) for d in doses), text])
        self.hover_label.setText(text)
        ax, ay = float(data.series.xs[index]), float(data.series.ys[index])
        self.hover_point.setData([self.to_view_x(ax)], [ay])
        for cursor in self._cursors:
            cursor.setValue(self.to_view_x(ax))
            cursor.show()

    def assessment_text(
        self, view: AssessmentView | td.AssessmentPoint, item_number: int | None = None
    ) -> str:
        """What the hover shows for one assessment: exact local time, total, band, items, author."""
        when = view.taken_at.astimezone(self._zone).strftime("%a %d %b %Y %H:%M:%S %Z")
        head = [
            when,
            self.tr("COWS") + f" {view.total}",
            view.band_label,
            view.status + (f" (v{view.version})" if view.version > 1 else ""),
            self.tr("by")
            + f" {view.recorded_by}"
            + (f" ({view.recorded_by_name})" if view.recorded_by_name else ""),
        ]
        if view.entered_in_error and view.void_reason:
            head.append(self.tr("reason") + f": {view.void_reason}")
        elif view.version > 1 and view.amend_reason:
            head.append(self.tr("amended because") + f": {view.amend_reason}")
        items = []
        for item in COWS.items:
            value = view.items.get(item.key)
            items.append(f"{item.number} {item.label} {'–' if value is None else value}")
        lines = [" · ".join(head), "; ".join(items)]
        if item_number is not None:
            item = COWS.items[item_number - 1]
            value = view.items.get(item.key)
            if value is not None:
                lines.insert(0, f"{item.number} {item.label}: {value} – {item.anchor_for(value)}")
        return "\n".join(lines)

    def _event_text(self, data: _Loaded, x: float, y: float) -> str:
        low, high = self.x_range()
        tolerance = (high - low) / max(1.0, self.events_plot.vb.width()) * 8  # 8 px
        if y < 1.0:
            near = [m for m in data.alerts if abs(m.x - x) <= tolerance]
            if near:
                best = min(near, key=lambda m: abs(m.x - x))
                shape = _PRIORITY_SHAPE.get(best.priority, "●")
                return f"{shape} {best.priority.upper()} – {best.view.title}\n{best.message}"
        return "\n".join(self._dose_tip(d) for d in self._doses_near(x, 8))

    def _doses_near(self, x: float, pixels: float) -> list[td.DoseMark]:
        """The doses given at the time of the dose line nearest to x (epoch seconds), if that line is
        within `pixels` of it (two medicines given together share a line)."""
        index = td.nearest_index(self._dose_x, x)
        if index is None:
            return []
        low, high = self.x_range()
        tolerance = (high - low) / max(1.0, self.cows_plot.vb.width()) * pixels
        nearest = self._dose_x[index]
        if abs(nearest - x) > tolerance:
            return []
        return [m for m in self._doses if m.x == nearest]

    def _vitals_text(self, data: _Loaded, x: float) -> str:
        xs = data.vital_arrays["x"]
        index = td.nearest_index(xs, x)
        if index is None:
            return self.tr("No vital signs charted in this episode.")
        v = data.vitals[index]
        parts = [v.taken_at.astimezone(self._zone).strftime("%a %d %b %Y %H:%M %Z")]
        if v.pulse_bpm is not None:
            parts.append(self.tr("pulse") + f" {v.pulse_bpm} bpm")
        if v.systolic is not None or v.diastolic is not None:
            parts.append(self.tr("BP") + f" {v.systolic or '–'}/{v.diastolic or '–'} mmHg")
        if v.spo2 is not None:
            parts.append(f"SpO2 {v.spo2} %")
        if v.resp_rate is not None:
            parts.append(self.tr("resp. rate") + f" {v.resp_rate}/min")
        if v.temp_c is not None:
            parts.append(self.tr("temp.") + f" {v.temp_c:.1f} °C")
        parts.append(self.tr("by") + f" {v.recorded_by}")
        return " · ".join(parts)

    # --- what is drawn (for tests and reviewers) --------------------------------------------------

    def band_regions(self) -> list[tuple[str, int, int]]:
        """(label, low, high) of each shaded band, read from the drawn regions (which span the half
        points between bands, so that every whole total sits inside exactly one band)."""
        result = []
        vb = self.cows_plot.vb
        for (band, _fill, _label), rect in zip(
            self._band_items, self._cows_backdrop.band_rects(), strict=True
        ):
            top = vb.mapToView(QPointF(0.0, rect.top())).y()
            bottom = vb.mapToView(QPointF(0.0, rect.bottom())).y()
            result.append((band.label, round(bottom + 0.5), round(top - 0.5)))
        return result

    def band_edges(self) -> list[tuple[float, float]]:
        """(low, high) in COWS points of each shaded band as drawn (the half points between bands)."""
        vb = self.cows_plot.vb
        return [
            (vb.mapToView(QPointF(0.0, r.bottom())).y(), vb.mapToView(QPointF(0.0, r.top())).y())
            for r in self._cows_backdrop.band_rects()
        ]

    def band_labels(self) -> list[str]:
        return [label.textItem.toPlainText() for _band, _region, label in self._band_items]

    def dose_markers(self) -> list[tuple[float, str, bool]]:
        """(x epoch seconds, label, is_antagonist) of every dose line drawn on the COWS plot."""
        drawn: dict[str, np.ndarray] = {}
        for role, curve in self._dose_curves.items():
            xs, _ys = curve.getData()
            drawn[role] = self.from_view_x(np.asarray(xs)[::2])
        return [
            (float(m.x), m.label, m.is_antagonist)
            for m in self._doses
            if m.role in drawn and np.isclose(drawn[m.role], m.x, rtol=0, atol=1e-3).any()
        ]

    def dose_labels(self) -> list[tuple[float, str, Any]]:
        """(x epoch seconds, text, TextItem) of the dose labels shown in the events lane."""
        return [
            (float(self.from_view_x(label.pos().x())), label.toPlainText(), label)
            for _m, label in self._shown_labels
        ]

    def dose_label_texts(self) -> list[str]:
        return [text for _x, text, _label in self.dose_labels()]

    def dose_pens(self) -> list[tuple[str, str, int]]:
        """(colour, pen style name, width) of the line of each dose in dose_markers()."""
        result = []
        for mark in self._doses:
            curve = self._dose_curves.get(mark.role)
            if curve is not None:
                pen = curve.opts["pen"]
                result.append((pen.color().name(), pen.style().name, int(pen.widthF())))
        return result

    def window_regions(self) -> list[tuple[float, float]]:
        """(start, end) epoch seconds of each antagonist alert window drawn on the COWS plot."""
        spans = self._cows_backdrop.spans()
        return [(float(self.from_view_x(low)), float(self.from_view_x(high))) for low, high in spans]

    def reference_segments(self) -> list[tuple[str, float, float, float]]:
        """(kind, x from, x to, y) of the baseline and threshold segments; kind "baseline"/"threshold"."""
        result = []
        for kind, item in self._references:
            xs, ys = item.getData()
            for k in range(0, len(xs), 2):
                start, end = self.from_view_x(float(xs[k])), self.from_view_x(float(xs[k + 1]))
                result.append((kind, start, end, float(ys[k])))
        return result

    def reference_labels(self) -> list[tuple[float, str]]:
        """(x epoch seconds, text) of the baseline and alert-level labels shown."""
        return [
            (float(self.from_view_x(label.pos().x())), label.toPlainText())
            for label in self._reference_pool
            if label.isVisible()
        ]

    def alert_markers(self) -> list[tuple[float, str, str]]:
        """(x epoch seconds, priority, message) of every alert marker."""
        xs, _ys = self.alert_scatter.getData()
        return [
            (float(self.from_view_x(x)), mark.priority, mark.message)
            for x, mark in zip(xs, self._alert_marks, strict=True)
        ]

    def alert_symbols(self) -> list[str]:
        return [str(s) for s in self.alert_scatter.data["symbol"]]

    def cows_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(xs, ys) of the COWS line as given to it (epoch seconds, totals)."""
        xs, ys = self.cows_curve.getOriginalDataset()
        if xs is None:
            return np.zeros(0), np.zeros(0)
        return self.from_view_x(np.asarray(xs)), np.asarray(ys)

    def amended_points(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.amended_scatter.getData()
        return self.from_view_x(np.asarray(xs)), np.asarray(ys)

    def error_points(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.error_scatter.getData()
        return self.from_view_x(np.asarray(xs)), np.asarray(ys)

    def heatmap_values(self) -> np.ndarray:
        """The 11 x n item scores behind the heat map (row 0 = item 1, one column per assessment)."""
        if self._data is None:
            return np.zeros((len(COWS.items), 0))
        return self._data.series.items.copy()

    def heatmap_image(self) -> tuple[np.ndarray, float, float]:
        """(image as drawn with row 0 = item 1, x of its left edge, width of a column in seconds)."""
        if self._data is None:
            return np.zeros((len(COWS.items), 0)), 0.0, 1.0
        grid = self._data.grid
        return grid.image.copy(), grid.x0, grid.width

    def vitals_points(self, series: str) -> tuple[np.ndarray, np.ndarray]:
        """(xs, ys) of one vital-sign series: pulse, systolic, diastolic, spo2, resp_rate, temp."""
        xs, ys = self.vitals_curves[series].getOriginalDataset()
        if xs is None:
            return np.zeros(0), np.zeros(0)
        return self.from_view_x(np.asarray(xs)), np.asarray(ys)

    def time_labels(self) -> list[tuple[float, str]]:
        """The tick labels of the bottom time axis for the current range (what it draws)."""
        axis = self.vitals_plots[_VITAL_PLOTS[-1][0]].getAxis("bottom")
        low, high = self.x_range()
        return list(axis.iter_labels(low, high, max(1.0, axis.width())))

    # --- export -----------------------------------------------------------------------------------

    def export(self, path: str | Path) -> Path:
        """Write the charts as shown (current time range) to PNG or SVG, chosen by the suffix."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(self.tr("Export to a .png or .svg file."))
        self._hide_hover()
        self.graphics.ci.update()
        scene = self.graphics.scene()
        if suffix == ".png":
            exporter = pyqtgraph.exporters.ImageExporter(scene)
            exporter.export(str(target))
        else:
            with _svg_closed_paths(), self._sharp_heat_map():
                pyqtgraph.exporters.SVGExporter(scene).export(str(target))
            # Heat-map cells must stay sharp when the drawing is scaled: a smoothed cell would smear a
            # score into the hours beside it. pyqtgraph writes image-rendering="optimizeSpeed", which
            # some viewers ignore; the CSS property is what browsers honour.
            text = target.read_text(encoding="utf-8")
            target.write_text(text.replace("<image ", '<image style="image-rendering:pixelated" '), "utf-8")
        if not target.exists() or target.stat().st_size == 0:
            raise OSError(f"{target} was not written")
        return target

    def _ask_export(self, kind: str) -> None:
        name = f"trend-episode-{self.episode_id or 0}.{kind}"
        caption = self.tr("Export PNG") if kind == "png" else self.tr("Export SVG")
        pattern = self.tr("PNG image (*.png)") if kind == "png" else self.tr("SVG drawing (*.svg)")
        path, _chosen = QFileDialog.getSaveFileName(self, caption, name, pattern)
        if not path:
            return
        if not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        try:
            written = self.export(path)
        except Exception as exc:  # a full disk or a read-only folder: words, not a traceback
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else describe(exc)
            self._say(self.tr("Could not export to") + f" {path}: {detail}")
            return
        self._say(self.tr("Exported to") + f" {written}")
