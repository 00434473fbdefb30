"""Benchmark group: redrawing the trend chart of a 20,000-assessment stay (issue 4) against bare
pyqtgraph plotting the same arrays in the same run. Budget (issue 9): ratio 1.5 and 16 ms. Figures:
- trend_chart_repaint_*: a forced repaint of the COWS chart's area (widget.grab of it);
- trend_chart_pan_*: a 1 % pan, then that repaint: includes the range change of every linked plot;
- trend_view_pan_*: a 1 % pan, then Qt repaints the whole trend view (all eight plots);
each with the whole stay and with the last 72 h in view, against a bare PlotWidget of the same size
(clip-to-view and peak downsampling on, as in the trend chart). Each figure is the median of several
timed runs after a warm-up. The repaint and the chart's pan alternate with the bare plot's (a change in
the shared machine's speed during the runs hits both alike; it moved the ratio by up to a third between
runs); the whole view's pan runs after the bare one, as alternating two windows' repaints slowed both.
The budget is for the 20,000 points drawn (the whole stay in view); the last 72 h (288 points) are
reported for comparison, unbudgeted: there the bare plot draws a short line and nothing else, so the
ratio measures the chart's fixed furniture (bands, labels, windows, markers).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF
from PySide6.QtWidgets import QApplication, QWidget

from bench.common import BenchContext, Figure, median_between, medians_interleaved
from bench.long_stay import N_ASSESSMENTS, LongStay
from monitor.ui.trend import TrendView

BUDGET_MS = 16.0
BUDGET_RATIO = 1.5
CHART_SIZE = (1366, 980)  # the trend view on a ward workstation's 1366 x 768 (scrolling) or larger


def _settle(app: QApplication) -> None:
    for _ in range(3):
        app.processEvents()


def _pan(plot: object, state: dict[str, float]) -> None:
    """Shift the time range by 1 % (alternately left and right, so the view stays put over the runs)."""
    (low, high), _y = plot.vb.viewRange()  # type: ignore[attr-defined]
    shift = (high - low) * 0.01 * state["sign"]
    state["sign"] = -state["sign"]
    plot.setXRange(low + shift, high + shift, padding=0)  # type: ignore[attr-defined]


def _chart_redraw(
    app: QApplication, widget: QWidget, plot: object, rect: QRect | None
) -> Callable[[], object]:
    """Pan, then paint the chart's area: all the work a pan causes (range change of every linked plot,
    re-clipping, re-downsampling, labels) plus the repaint of the chart itself. The repaint of the
    other plots it also schedules is flushed after the timed part (measured by _view_redraw)."""
    state = {"sign": 1.0}

    def act() -> object:
        _pan(plot, state)
        return widget.grab(rect) if rect is not None else widget.grab()

    return act


def _view_redraw(app: QApplication, plot: object) -> Callable[[], object]:
    """Pan, then let Qt repaint everything the pan changed (what the nurse waits for)."""
    state = {"sign": 1.0}

    def act() -> object:
        _pan(plot, state)
        app.processEvents()
        return None

    return act


def measure(ctx: BenchContext) -> dict[str, Figure]:
    runs = ctx.runs
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    source = LongStay()

    started = time.perf_counter()
    view = TrendView(source)  # type: ignore[arg-type]
    view.resize(*CHART_SIZE)
    view.show()
    view.show_episode(1)
    _settle(app)
    load_ms = (time.perf_counter() - started) * 1000
    xs, ys = view.cows_points()
    assert len(xs) == N_ASSESSMENTS, "every assessment is a point of the line"

    # The trend chart: the COWS plot's area of the view (bands, labels, doses, windows, markers, line).
    scene_rect: QRectF = view.cows_plot.sceneBoundingRect()
    chart_rect = view.graphics.mapFromScene(scene_rect).boundingRect()
    chart_size = (chart_rect.width(), chart_rect.height())
    view_size = (view.graphics.width(), view.graphics.height())

    def bare_plot(size: tuple[int, int], fast: bool) -> pg.PlotWidget:
        """Bare pyqtgraph: the same arrays in a plain PlotWidget; fast = the same long-data settings."""
        widget = pg.PlotWidget()
        widget.resize(*size)
        if fast:
            widget.plot(view.to_view_x(xs), ys, skipFiniteCheck=True)
            widget.setClipToView(True)
            widget.setDownsampling(auto=True, mode="peak")
        else:
            widget.plot(view.to_view_x(xs), ys)
        widget.setXRange(*view.cows_plot.vb.viewRange()[0], padding=0)
        widget.show()
        return widget

    bare = bare_plot(chart_size, True)
    plain = bare_plot(chart_size, False)
    bare_big = bare_plot(view_size, True)
    _settle(app)

    figures: dict[str, Figure] = {}

    def record(name: str, what: str, ms: float, baseline: float | None, budgeted: bool) -> None:
        figures[name] = Figure(
            what=what,
            value=ms,
            baseline=baseline,
            budget=BUDGET_MS if budgeted else None,
            budget_ratio=BUDGET_RATIO if budgeted and baseline is not None else None,
            samples=runs,
        )

    def flush() -> None:
        app.processEvents()

    for label, zoom in (("whole_stay", None), ("last_72h", 72.0)):
        if zoom is None:
            view.show_whole_episode()
        else:
            view.show_last_hours(zoom)
        for widget in (bare, plain, bare_big):
            widget.setXRange(*view.cows_plot.vb.viewRange()[0], padding=0)
        _settle(app)
        in_view = "the whole stay (20,000 points)" if zoom is None else "the last 72 h (288 points)"
        repaint, bare_repaint = medians_interleaved(
            lambda: view.graphics.grab(chart_rect), lambda: bare.grab(), flush, runs
        )
        record(
            f"trend_chart_repaint_{label}",
            f"repaint of the COWS chart with {in_view} in view, vs bare pyqtgraph of the same size plotting "
            "the same arrays with clip-to-view and peak downsampling",
            repaint,
            bare_repaint,
            zoom is None,
        )
        pan, bare_pan = medians_interleaved(
            _chart_redraw(app, view.graphics, view.cows_plot, chart_rect),
            _chart_redraw(app, bare, bare.getPlotItem(), None),
            flush,
            runs,
        )
        record(
            f"trend_chart_pan_{label}",
            f"pan by 1 % with {in_view} in view, then repaint the COWS chart (includes the range change of "
            "every linked plot: re-clip, re-downsample, labels), vs the same on bare pyqtgraph",
            pan,
            bare_pan,
            zoom is None,
        )
        # One after the other: alternated, the two windows' repaints made both about 60 % slower.
        whole = median_between(_view_redraw(app, view.cows_plot), lambda: None, runs)
        bare_whole = median_between(_view_redraw(app, bare_big.getPlotItem()), lambda: None, runs)
        record(
            f"trend_view_pan_{label}",
            f"pan by 1 % with {in_view} in view and let Qt repaint the whole trend view ({view_size[0]} x "
            f"{view_size[1]} px: events, COWS, heat map, five vital-sign plots), vs bare pyqtgraph plotting "
            "the same arrays in one plot of the same size",
            whole,
            bare_whole,
            zoom is None,
        )
        if zoom is None:
            plain_repaint = median_between(lambda: plain.grab(), flush, runs)
            record(
                "bare_default_repaint_whole_stay",
                "for reference: bare pyqtgraph plotting the 20,000 points with default settings (no "
                "clip-to-view, no downsampling), chart size",
                plain_repaint,
                None,
                False,
            )
    record(
        "trend_view_load",
        "for reference: show_episode() of the stay from the stub source",
        load_ms,
        None,
        False,
    )
    view.close()
    for widget in (bare, plain, bare_big):
        widget.close()
    return figures
