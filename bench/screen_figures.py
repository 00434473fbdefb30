"""Benchmark group: the screens a nurse waits for (issue 9), on the benchmark ward with the real main
window and a real ClinicalService. Figures (medians of ctx.runs timed runs after a warm-up):

- open_episode_long_stay (budget 150 ms): from the nurse opening the 20,000-assessment stay on the
  ward board (its row activated) to the bedside view with the assessment table filled and the trend
  chart drawn (the Trend view brought up, Ctrl+4), every pending event processed. The heat map's item
  scores (220,000) are read off the GUI thread once the chart is drawn and fill the heat map a moment
  later: the figure is the table and the chart (COWS line, doses, alerts, vital signs) ready; the
  complete draw, heat map filled, is an extra. Between runs (untimed) the heat map is waited for, then
  the nurse opens another episode and goes back to the ward board. extra: the two halves, the complete
  draw.
- ward_board_refresh (budget 100 ms): another workstation writes (a COWS charted through a second
  service on the same file, untimed); then what the 1-second change poll does with the ward board on
  screen (MainWindow.refresh_if_changed: the counter moved, so the ward, the alerts and the board are
  reloaded), events processed.

Each with a bare baseline for reference (not budgeted: the budgets are absolute): a plain QTableView
over the same rows read with plain sqlite3 (no services, no formatting rules, no chart).
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QTableView

from bench.common import BenchContext, Figure, median_between, percentile, timed_samples
from monitor.domain.scales import COWS
from monitor.services import locations
from monitor.services.views import AssessmentInput
from monitor.ui.app import app_garbage_collection
from monitor.ui.main_window import MainWindow
from monitor.ui.ward_board import EPISODE_ROLE

OPEN_BUDGET_MS = 150.0
BOARD_BUDGET_MS = 100.0
WINDOW_SIZE = (1366, 768)  # a ward workstation's screen


def _settle(app: QApplication) -> None:
    for _ in range(3):
        app.processEvents()


class _Rows(QAbstractTableModel):
    """The bare baseline's model: a list of tuples of text."""

    def __init__(self, rows: list[tuple[Any, ...]], columns: int) -> None:
        super().__init__()
        self.rows = rows
        self.columns = columns

    def set_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.columns

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        return str(self.rows[index.row()][index.column()])


def _bare_table(app: QApplication, columns: int) -> tuple[QTableView, _Rows]:
    model = _Rows([], columns)
    table = QTableView()
    table.setModel(model)
    table.resize(*WINDOW_SIZE)
    table.show()
    _settle(app)
    return table, model


def _board_row(window: MainWindow, episode_id: int) -> QModelIndex:
    proxy = window.ward_board.proxy
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        if index.data(EPISODE_ROLE) == episode_id:
            return index
    raise LookupError(f"episode {episode_id} is not on the ward board")


def _open_from_board(app: QApplication, window: MainWindow, episode_id: int) -> None:
    """What a double-click (or Enter) on the episode's row of the ward board does."""
    window.views.setCurrentWidget(window.ward_board)
    _settle(app)
    index = _board_row(window, episode_id)
    window.ward_board.table.setCurrentIndex(index)
    window.ward_board.table.doubleClicked.emit(index)


def measure(ctx: BenchContext) -> dict[str, Figure]:
    # As `monitor` runs its windows (run_gui): with the app's garbage collector thresholds.
    with app_garbage_collection():
        return _measure(ctx)


def _measure(ctx: BenchContext) -> dict[str, Figure]:
    runs = ctx.runs
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    ward = ctx.ward
    long_stay = ward.long_stay_episode_id
    others = [e for e in ward.ward_episode_ids if e != long_stay]
    service = locations.connect(path=ctx.ward_db)
    window = MainWindow(service, ward.nurse_username, "benchmark ward")
    # Timers off: a 30-second alert re-evaluation or a backup check landing inside a timed run would
    # measure that instead (the change poll is driven by hand below, as its timer would).
    for timer in (window.alert_timer, window.change_poll, window.ward_board.poll, window.backup_timer):
        timer.stop()
    window.resize(*WINDOW_SIZE)
    window.show()
    _settle(app)
    figures: dict[str, Figure] = {}

    # --- opening the long stay from the ward board ------------------------------------------------
    halves: dict[str, list[float]] = {"table_ms": [], "trend_ms": [], "complete_ms": []}
    state = {"other": 0}
    opened = {"at": 0.0}

    def heat_map_filled() -> None:
        """Until the trend's heat map is filled (its item scores read off the GUI thread), painted."""
        trend = window._trend
        if trend is None or not opened["at"]:
            return
        while trend.heat_map_pending():
            app.processEvents()
            time.sleep(0.0005)
        _settle(app)
        halves["complete_ms"].append((time.perf_counter() - opened["at"]) * 1000)
        opened["at"] = 0.0

    def open_long_stay() -> None:
        started = opened["at"] = time.perf_counter()
        window.ward_board.table.doubleClicked.emit(_board_row(window, long_stay))
        _settle(app)
        table_done = time.perf_counter()
        window.views.setCurrentWidget(window.trend_tab)  # Ctrl+4
        _settle(app)
        halves["table_ms"].append((table_done - started) * 1000)
        halves["trend_ms"].append((time.perf_counter() - table_done) * 1000)

    def switch_away() -> None:
        heat_map_filled()
        state["other"] = (state["other"] + 1) % len(others)
        _open_from_board(app, window, others[state["other"]])
        _settle(app)
        window.views.setCurrentWidget(window.ward_board)
        _settle(app)

    switch_away()
    samples = timed_samples(open_long_stay, switch_away, runs)
    open_long_stay()  # once more, untimed, to check what it shows
    heat_map_filled()
    table_rows = window.episode_view.table.model().rowCount()
    assert table_rows == len(window.episode_view.rows) >= ward.counts.get("long_stay_assessments", 1) * 0.9, (
        "every assessment of the stay is a row of the table"
    )
    xs, _ys = window.trend_view.cows_points()
    assert len(xs) > 0 and window.trend_view.episode_id == long_stay, "the long stay's chart is drawn"
    cells = window.trend_view.heatmap_values()
    assert cells.shape == (11, len(xs)) and not np.isnan(cells).any(), "the heat map holds every item"
    # the timed runs' halves (the last opening, to check what it shows, is not one of them)
    timed = tuple(halves[key][-runs - 1 : -1] for key in ("table_ms", "trend_ms", "complete_ms"))

    # Bare: the same rows read with plain sqlite3 into a plain QTableView, shown and painted.
    bare_table, bare_model = _bare_table(app, 6)
    connection = sqlite3.connect(ctx.ward_db)
    query = (
        "SELECT taken_at, total, version, recorded_by_id, note, id FROM assessments "
        "WHERE episode_id = ? ORDER BY taken_at DESC, id DESC"
    )

    def bare_open() -> None:
        bare_model.set_rows(connection.execute(query, (long_stay,)).fetchall())
        bare_table.setCurrentIndex(bare_model.index(0, 0))
        _settle(app)

    bare_ms = median_between(bare_open, lambda: bare_model.set_rows([]), runs)
    figures["open_episode_long_stay"] = Figure(
        what=(
            f"open the {table_rows:,}-assessment stay from the ward board: bedside table filled, then the "
            "Trend view (Ctrl+4) drawn with the COWS line, doses, alerts and vital signs, events "
            "processed (the item heat map is filled a moment later from a read off the GUI thread: "
            "complete_ms); vs a bare QTableView filled from plain sqlite3"
        ),
        value=statistics.median(samples),
        baseline=bare_ms,
        budget=OPEN_BUDGET_MS,
        samples=runs,
        extra={
            "table_ms (bedside, median)": statistics.median(timed[0]),
            "trend_ms (Trend view, median)": statistics.median(timed[1]),
            "complete_ms (to the heat map filled, median)": statistics.median(timed[2]),
            "p90_ms": percentile(samples, 90),
        },
    )

    # --- the ward board after another workstation's write ----------------------------------------
    other_station = locations.connect(path=ctx.ward_db)
    nurse = ward.nurse_username
    writes = {"n": 0}

    def another_workstation_writes() -> None:
        writes["n"] += 1
        episode = others[writes["n"] % len(others)]
        items: dict[str, int | None] = {key: 0 for key in COWS.keys}
        when = other_station.clock.now() - timedelta(seconds=30)
        other_station.record_assessment(nurse, episode, AssessmentInput(taken_at=when, items=items))

    window.views.setCurrentWidget(window.ward_board)
    _settle(app)
    changed_reloads = {"n": 0}

    def poll_after_write() -> None:
        before = window._seen_version
        window.refresh_if_changed()
        _settle(app)
        if window._seen_version != before:
            changed_reloads["n"] += 1

    board_samples = timed_samples(poll_after_write, another_workstation_writes, runs, warmup=2)
    assert changed_reloads["n"] >= runs, "every timed poll saw the other workstation's write"
    board_rows = window.ward_board.proxy.rowCount()
    other_station.db.dispose()

    bare_board, bare_board_model = _bare_table(app, 11)
    board_query = (
        "SELECT e.bed, p.name, p.mrn, e.id, e.admitted_at, e.tz_name, e.admitted_by_id, e.patient_id, "
        "e.discharged_at, e.discharge_note, e.id FROM episodes e JOIN patients p ON p.id = e.patient_id "
        "WHERE e.discharged_at IS NULL"
    )

    def bare_refresh() -> None:
        bare_board_model.set_rows(connection.execute(board_query).fetchall())
        _settle(app)

    bare_board_ms = median_between(bare_refresh, lambda: None, runs)
    figures["ward_board_refresh"] = Figure(
        what=(
            f"after another workstation charts a COWS, the change poll reloads the ward board ({board_rows} "
            "open episodes) with the board on screen, events processed; vs a bare QTableView reloaded "
            "with the open episodes from plain sqlite3"
        ),
        value=statistics.median(board_samples),
        baseline=bare_board_ms,
        budget=BOARD_BUDGET_MS,
        samples=runs,
        extra={"p90_ms": percentile(board_samples, 90)},
    )

    connection.close()
    for widget in (bare_table, bare_board):
        widget.close()
    window.close()
    service.db.dispose()
    return figures
