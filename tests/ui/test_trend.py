"""The episode trend view (issue 4): what it draws, checked against the records it was drawn from.

Data is charted through the real services with the FakeClock (a nurse charting as time passes); the
20,000-assessment stay uses a stub source with the same read models, because pushing 20,000 rows
through the services would take minutes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from bench.long_stay import LongStay
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractButton, QPushButton
from pytestqt.qtbot import QtBot

from monitor.domain.protocol import DEFAULT_PROTOCOL
from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, ProblemKind
from monitor.services.views import (
    AlertView,
    AssessmentInput,
    AssessmentView,
    DoseInput,
    DoseView,
    EpisodeDetail,
    SubstanceInput,
    VitalsInput,
    VitalsView,
)
from monitor.ui import trend as trend_module
from monitor.ui.trend import TrendView
from monitor.ui.trend_axis import local_ticks
from monitor.ui.trend_data import heat_grid
from tests.conftest import T0, FakeClock
from tests.helpers import admission, all_items

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


@dataclass
class Scenario:
    episode_id: int
    baseline: AssessmentView
    naltrexone: DoseView
    clonidine: DoseView
    amended: AssessmentView
    voided: AssessmentView


def _items(**values: int) -> dict[str, int | None]:
    return all_items(0, **values)


def chart_realistic_episode(service: ClinicalService, nurse: str, clock: FakeClock) -> Scenario:
    """A kratom user admitted 30 h before T0: withdrawal settling under comfort medicines, a baseline
    COWS, rapid naltrexone induction 2 h before T0, then precipitated withdrawal. One assessment is
    amended and one is entered in error. Each record is charted 3 minutes after it was taken."""
    admitted = T0 - timedelta(hours=30)
    clock.current = admitted + timedelta(minutes=5)
    kratom = (SubstanceInput("kratom", admitted - timedelta(days=2), "35 g/day", "oral"),)
    episode_id = service.admit(nurse, admission(admitted, "K-4001", "Alex Example", "3B", kratom))

    def at(hours_before_t0: float) -> datetime:
        when = T0 - timedelta(hours=hours_before_t0)
        clock.current = when + timedelta(minutes=3)
        return when

    def chart(hours: float, pulse: int | None = None, **values: int) -> AssessmentView:
        when = at(hours)
        return service.record_assessment(
            nurse, episode_id, AssessmentInput(taken_at=when, items=_items(**values), pulse_bpm=pulse)
        )

    def vitals(hours: float, pulse: int, sys: int, dia: int, rr: int, spo2: int, temp: float) -> None:
        when = at(hours)
        service.record_vitals(nurse, episode_id, VitalsInput(when, pulse, sys, dia, rr, spo2, temp))

    chart(
        29.5,
        96,
        resting_pulse=1,
        sweating=2,
        restlessness=1,
        pupil_size=1,
        bone_joint_aches=2,
        runny_nose_tearing=1,
        yawning=2,
        anxiety_irritability=1,
    )  # 11, mild
    vitals(29.4, 96, 138, 88, 18, 98, 37.3)
    to_amend = chart(
        25.5,
        104,
        resting_pulse=2,
        sweating=2,
        restlessness=3,
        pupil_size=2,
        bone_joint_aches=2,
        runny_nose_tearing=2,
        gi_upset=2,
        tremor=1,
        yawning=2,
        anxiety_irritability=2,
        gooseflesh=3,
    )  # 23 moderate, gooseflesh on the wrong row
    dose_time = at(25.2)
    clonidine = service.record_dose(nurse, episode_id, DoseInput("clonidine", "oral", 0.1, dose_time))
    service.record_dose(nurse, episode_id, DoseInput("ondansetron", "oral", 4, dose_time))
    chart(
        21.5,
        92,
        resting_pulse=1,
        sweating=1,
        restlessness=1,
        pupil_size=1,
        bone_joint_aches=2,
        runny_nose_tearing=1,
        gi_upset=1,
        yawning=1,
        anxiety_irritability=1,
    )  # 10
    vitals(21.4, 90, 112, 70, 16, 98, 37.0)
    voided = chart(
        17.5, 84, resting_pulse=1, sweating=4, restlessness=5, pupil_size=5, bone_joint_aches=4
    )  # 19: charted on the wrong patient
    chart(17.4, 86, resting_pulse=1, sweating=1, pupil_size=1, bone_joint_aches=1, yawning=1)  # 5
    chart(13.5, 84, resting_pulse=1, sweating=1, bone_joint_aches=1, yawning=1)  # 4
    vitals(13.4, 82, 118, 74, 16, 98, 36.9)
    chart(9.5, 80, sweating=1, bone_joint_aches=1, yawning=1, anxiety_irritability=1)  # 4
    chart(5.5, 80, sweating=1, bone_joint_aches=1, yawning=1)  # 3
    vitals(5.4, 78, 120, 76, 14, 99, 36.8)
    baseline = chart(2.4, 78, sweating=1, bone_joint_aches=1, yawning=1, anxiety_irritability=1)  # 4
    given = at(2.0)
    warnings = service.preview_dose(episode_id, DoseInput("naltrexone", "oral", 25, given))
    assert warnings, "naltrexone 2 days after kratom must warn"
    naltrexone = service.record_dose(
        nurse,
        episode_id,
        DoseInput("naltrexone", "oral", 25, given, warning_reason="Rapid induction agreed with Dr Example"),
    )
    chart(
        1.5,
        112,
        resting_pulse=2,
        sweating=3,
        restlessness=3,
        pupil_size=2,
        bone_joint_aches=2,
        runny_nose_tearing=2,
        gi_upset=2,
        tremor=1,
        yawning=1,
    )  # 18: precipitated (4 -> 18)
    vitals(1.45, 124, 150, 96, 22, 96, 37.6)
    chart(
        0.1,
        118,
        resting_pulse=2,
        sweating=3,
        restlessness=5,
        pupil_size=2,
        bone_joint_aches=2,
        runny_nose_tearing=2,
        gi_upset=3,
        tremor=2,
        yawning=2,
        anxiety_irritability=2,
        gooseflesh=3,
    )  # 26 moderately severe

    clock.current = T0 - timedelta(minutes=30)
    amended = service.amend_assessment(
        nurse,
        to_amend.id,
        AssessmentInput(taken_at=to_amend.taken_at, items={**to_amend.items, "gooseflesh": 0}, pulse_bpm=104),
        "Gooseflesh scored on the wrong row",
    )
    voided = service.mark_entered_in_error(nurse, voided.id, "Charted on the wrong patient")
    clock.current = T0
    return Scenario(episode_id, baseline, naltrexone, clonidine, amended, voided)


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def scenario(service: ClinicalService, nurse: str, clock: FakeClock) -> Scenario:
    return chart_realistic_episode(service, nurse, clock)


def _view(qtbot: QtBot, source: object) -> TrendView:
    view = TrendView(source)  # type: ignore[arg-type]
    qtbot.addWidget(view)
    view.resize(1400, 1000)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def trend(qtbot: QtBot, service: ClinicalService, scenario: Scenario) -> TrendView:
    view = _view(qtbot, service)
    view.show_episode(scenario.episode_id)
    return view


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _button(view: TrendView, name: str) -> QPushButton:
    found = [b for b in view.findChildren(QPushButton) if b.accessibleName() == name]
    assert len(found) == 1, f"one button named {name!r}"
    return found[0]


# --- the COWS line ----------------------------------------------------------------------------------


def test_cows_points_are_the_valid_assessments_at_their_times_and_totals(
    trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    valid = [a for a in service.assessments(scenario.episode_id) if not a.entered_in_error]
    xs, ys = trend.cows_points()
    assert len(xs) == len(valid) == 10
    assert xs.tolist() == [a.taken_at.timestamp() for a in valid]
    assert ys.tolist() == [float(a.total) for a in valid]
    # the amended version replaces the original on the line, at the same time
    index = xs.tolist().index(_epoch(scenario.amended.taken_at))
    assert ys[index] == scenario.amended.total == 20


def test_entered_in_error_is_marked_apart_and_not_joined_to_the_line(
    trend: TrendView, scenario: Scenario
) -> None:
    xs, _ys = trend.cows_points()
    assert _epoch(scenario.voided.taken_at) not in xs.tolist()
    ex, ey = trend.error_points()
    assert ex.tolist() == [_epoch(scenario.voided.taken_at)]
    assert ey.tolist() == [float(scenario.voided.total)]
    assert trend.error_scatter.opts["symbol"] == "x"
    assert trend.error_scatter is not trend.cows_curve.scatter


def test_amended_point_is_marked(trend: TrendView, scenario: Scenario) -> None:
    ax, ay = trend.amended_points()
    assert ax.tolist() == [_epoch(scenario.amended.taken_at)]
    assert ay.tolist() == [float(scenario.amended.total)]
    assert trend.amended_scatter.opts["symbol"] == "s"


def test_legend_names_amended_and_entered_in_error(trend: TrendView) -> None:
    texts = [label.text for _sample, label in trend.legend.items]
    assert "amended" in texts
    assert "entered in error" in texts
    assert "▼ antagonist dose" in texts
    assert "○ comfort medicine" in texts
    assert {"▲ high alert", "◆ medium alert", "● low alert"} <= set(texts)


def test_band_regions_are_the_published_bands_with_text_labels(trend: TrendView) -> None:
    assert trend.band_regions() == [
        ("Below mild", 0, 4),
        ("Mild", 5, 12),
        ("Moderate", 13, 24),
        ("Moderately severe", 25, 36),
        ("Severe", 37, 48),
    ]
    assert trend.band_labels() == [
        "Below mild 0–4 (app's label)",
        "Mild 5–12",
        "Moderate 13–24",
        "Moderately severe 25–36",
        "Severe 37–48",
    ]
    # the shaded regions tile the scale: each whole total lies in exactly one region
    edges = trend.band_edges()
    assert edges[0] == pytest.approx((-0.5, 4.5))
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(edges))
    assert edges[-1][1] == pytest.approx(48.5)
    # each name is drawn inside its band, at the left edge of the plot, whatever the time range
    for hours in (24, 72):
        trend.show_last_hours(hours)
        low, _high = trend.x_range()
        for band, _region, label in trend._band_items:
            where = trend.cows_plot.vb.mapSceneToView(label.mapToScene(QPointF(0, 0)))
            assert band.low <= where.y() <= band.high
            assert trend.from_view_x(where.x()) == pytest.approx(low, abs=60 * hours)
            assert label.isVisible()


def _pixel(view: TrendView, plot: object, x: float, y: float) -> QColor:
    """The colour drawn at (x epoch seconds, y) of a plot."""
    scene_pos = plot.vb.mapViewToScene(QPointF(view.to_view_x(x), y))  # type: ignore[attr-defined]
    point = view.graphics.mapFromScene(scene_pos)
    return view.graphics.grab().toImage().pixelColor(point)


def _composed(rgba: tuple[int, int, int, int], under: QColor) -> tuple[int, int, int]:
    r, g, b, a = rgba

    def mix(below: int, above: int) -> int:
        return round(below * (1 - a / 255) + above * a / 255)

    return mix(under.red(), r), mix(under.green(), g), mix(under.blue(), b)


def test_bands_and_alert_windows_show_their_translucent_colours_over_the_background(
    trend: TrendView, scenario: Scenario
) -> None:
    """The backdrop paints them opaque (Qt blends translucent fills slowly), composed as they would be."""
    from monitor.ui.trend import _BAND_FILL, _WINDOW_FILL

    trend.show_last_hours(6)
    given = _epoch(scenario.naltrexone.given_at)
    background = trend.graphics.backgroundBrush().color()
    band = QColor(*_composed(_BAND_FILL["severe"], background))
    outside = _pixel(trend, trend.cows_plot, given - 1800, 46.0)  # severe band, before the dose
    inside = _pixel(trend, trend.cows_plot, given + 3600, 46.0)  # severe band, in the window
    assert (outside.red(), outside.green(), outside.blue()) == (band.red(), band.green(), band.blue())
    assert (inside.red(), inside.green(), inside.blue()) == _composed(_WINDOW_FILL, band)


def test_axes_between_plots_are_not_redrawn_on_a_pan(trend: TrendView) -> None:
    """They draw only their line; the grid is the backdrop's, under the data."""
    axis = trend.cows_plot.getAxis("bottom")
    trend.graphics.grab()
    assert axis.line_only() and axis.picture is not None and axis.grid is False
    low, high = trend.x_range()
    trend.set_x_range(low + 600, high + 600)
    assert axis.picture is not None  # pyqtgraph would drop it and build it again
    assert not trend.vitals_plots["temp"].getAxis("bottom").line_only()  # the axis with the times


# --- doses, windows, baselines, alerts ----------------------------------------------------------------


def test_naltrexone_is_an_antagonist_marker_with_its_window_and_baseline(
    trend: TrendView, scenario: Scenario
) -> None:
    given = _epoch(scenario.naltrexone.given_at)
    markers = trend.dose_markers()
    assert (given, "naltrexone 25 mg PO", True) in markers
    assert "▼ naltrexone 25 mg PO" in trend.dose_label_texts()
    # the alert window: dose to dose + 6 h (oral naltrexone, protocol default)
    assert trend.window_regions() == [(given, given + 6 * HOUR)]
    # the pre-dose baseline: the latest COWS within 4 h before the dose, and the alert level above it
    segments = trend.reference_segments()
    baseline = [s for s in segments if s[0] == "baseline"]
    threshold = [s for s in segments if s[0] == "threshold"]
    assert baseline == [("baseline", _epoch(scenario.baseline.taken_at), given + 6 * HOUR, 4.0)]
    assert threshold == [("threshold", given, given + 6 * HOUR, 4.0 + DEFAULT_PROTOCOL.pw_rise)]
    # and both are named in words beside the dose line
    trend.show_last_hours(24)
    assert (given, "baseline 4") in trend.reference_labels()
    assert (given, "alert ≥ 10") in trend.reference_labels()


def test_baseline_agrees_with_the_precipitated_withdrawal_alert(
    trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    [alert] = [
        a
        for a in service.alerts(include_inactive=True, episode_id=scenario.episode_id)
        if a.rule == "precipitated_withdrawal"
    ]
    [baseline] = [s for s in trend.reference_segments() if s[0] == "baseline"]
    assert baseline[3] == alert.evidence["baseline_total"]
    assert baseline[1] == datetime.fromisoformat(str(alert.evidence["baseline_at"])).timestamp()


def test_comfort_medicines_are_distinct_non_antagonist_markers(trend: TrendView, scenario: Scenario) -> None:
    given = _epoch(scenario.clonidine.given_at)
    markers = trend.dose_markers()
    assert (given, "clonidine 0.1 mg PO", False) in markers
    assert (given, "ondansetron 4 mg PO", False) in markers
    assert "○ clonidine 0.1 mg PO" in trend.dose_label_texts()
    pens = dict(zip([m[1] for m in markers], trend.dose_pens(), strict=True))
    antagonist, comfort = pens["naltrexone 25 mg PO"], pens["clonidine 0.1 mg PO"]
    assert antagonist[0] != comfort[0]  # colour
    assert antagonist[1] != comfort[1]  # line style
    assert antagonist[1] == "SolidLine" and comfort[1] == "DashLine"


def test_dose_labels_given_at_the_same_time_do_not_overlap(trend: TrendView, scenario: Scenario) -> None:
    trend.show_last_hours(30)
    trend.graphics.grab()  # paint: pyqtgraph maps items to the new range when it paints
    given = _epoch(scenario.clonidine.given_at)
    labels = [(text, item) for x, text, item in trend.dose_labels() if x == given]
    assert sorted(text for text, _item in labels) == ["○ clonidine 0.1 mg PO", "○ ondansetron 4 mg PO"]
    assert all(item.isVisible() for _text, item in labels)
    rects = [item.sceneBoundingRect() for _text, item in labels]
    assert not rects[0].intersects(rects[1])
    # each label starts at its line, inside the events lane
    lane = trend.events_plot.vb.sceneBoundingRect()
    line_x = trend.events_plot.vb.mapViewToScene(QPointF(trend.to_view_x(given), 0)).x()
    for rect in rects:
        assert lane.contains(rect)
        assert abs(rect.left() - line_x) < 3


def test_alert_marker_at_the_precipitated_alert_with_its_message(
    trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    alerts = service.alerts(include_inactive=True, episode_id=scenario.episode_id)
    [precipitated] = [a for a in alerts if a.rule == "precipitated_withdrawal"]
    markers = trend.alert_markers()
    assert len(markers) == len(alerts)
    assert (_epoch(precipitated.raised_at), "high", precipitated.message) in markers
    assert precipitated.message.startswith("COWS 4 -> 18 (+14) 30 min after naltrexone 25 mg PO")
    symbols = dict(zip([m[2] for m in markers], trend.alert_symbols(), strict=True))
    assert symbols[precipitated.message] == "t1"  # a triangle for high
    # the marker's tool tip is the message
    tip = trend.alert_scatter.opts["tip"](x=0, y=0, data=trend.alert_scatter.data["data"][0])
    assert any(m[2] in tip for m in markers)


# --- hover --------------------------------------------------------------------------------------------


def _move_to(qtbot: QtBot, view: TrendView, plot: object, x: float, y: float) -> None:
    scene_pos = plot.vb.mapViewToScene(QPointF(view.to_view_x(x), y))  # type: ignore[attr-defined]
    widget_pos = view.graphics.mapFromScene(scene_pos)
    qtbot.mouseMove(view.graphics.viewport(), widget_pos)
    qtbot.waitUntil(lambda: view.hover_label.text().count("\n") >= 1, timeout=2000)


def test_hover_shows_the_nearest_assessment_exactly(
    qtbot: QtBot, trend: TrendView, scenario: Scenario
) -> None:
    trend.show_last_hours(30)
    amended = scenario.amended
    # a little after the amended assessment: the nearest one is it
    _move_to(qtbot, trend, trend.cows_plot, _epoch(amended.taken_at) + 600, 30)
    text = trend.hover_label.text()
    local = amended.taken_at.astimezone(BERLIN)
    assert local.strftime("%d %b %Y %H:%M:%S") in text
    assert "CET" in text  # the episode's zone, not the test machine's
    assert "COWS 20" in text and "Moderate" in text
    assert "Amended (v2)" in text
    assert "by rn.lee (Robin Lee)" in text
    for item in COWS.items:
        assert f"{item.number} {item.label} {amended.items[item.key]}" in text


def test_hover_on_the_heat_map_names_the_item_and_its_value(
    qtbot: QtBot, trend: TrendView, scenario: Scenario
) -> None:
    trend.show_last_hours(24)
    baseline = scenario.baseline
    # item 2 (sweating) is the second row from the top
    _move_to(qtbot, trend, trend.items_plot, _epoch(baseline.taken_at), len(COWS.items) - 1.5)
    sweating = COWS.item("sweating")
    assert trend.hover_label.text().startswith(f"2 Sweating: 1 – {sweating.anchor_for(1)}")


# --- item heat map ------------------------------------------------------------------------------------


def test_a_heat_map_read_off_the_gui_thread_follows_the_line_with_the_same_cells(
    qtbot: QtBot,
    trend: TrendView,
    service: ClinicalService,
    scenario: Scenario,
    nurse: str,
    clock: FakeClock,
) -> None:
    """The main window's trend (defer_items): the COWS line is drawn at once, the item scores follow
    from a worker thread into the very cells the synchronous read draws; a second episode opened while
    the first one's scores are read ends with its own."""
    now = clock.now()
    other = service.admit(nurse, admission(now - timedelta(hours=3), "K-4002", "Sam Other", "4A"))
    service.record_assessment(
        nurse, other, AssessmentInput(taken_at=now - timedelta(minutes=30), items=_items(tremor=4))
    )
    view = TrendView(service, defer_items=True)
    qtbot.addWidget(view)
    view.resize(1400, 1000)
    view.show()
    view.show_episode(other)
    with qtbot.waitSignal(view.heat_map_drawn, timeout=10_000):
        view.show_episode(scenario.episode_id)
        assert view.cows_points()[1].tolist() == trend.cows_points()[1].tolist()  # the line does not wait
    qtbot.waitUntil(lambda: not view.heat_map_pending(), timeout=10_000)
    assert view.episode_id == scenario.episode_id
    assert np.array_equal(view.heatmap_values(), trend.heatmap_values(), equal_nan=True)
    image, x0, width = view.heatmap_image()
    expected, ex0, ewidth = trend.heatmap_image()
    assert (x0, width) == (ex0, ewidth) and np.array_equal(image, expected, equal_nan=True)
    assert view.heat_image.image is not None and view.heat_image.image.shape == expected.shape
    # straight on to the other episode (the last read's thread may still be ending): its own scores
    view.show_episode(other)
    qtbot.waitUntil(lambda: not view.heat_map_pending(), timeout=10_000)
    assert view.heatmap_values()[:, 0].tolist() == [4.0 if k == "tremor" else 0.0 for k in COWS.keys]


def test_heat_map_is_11_by_n_with_the_item_scores(
    trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    valid = [a for a in service.assessments(scenario.episode_id) if not a.entered_in_error]
    values = trend.heatmap_values()
    assert values.shape == (11, len(valid))
    for column, assessment in enumerate(valid):
        assert values[:, column].tolist() == [float(assessment.items[k]) for k in COWS.keys]
    # the drawn image: at each assessment's time, its column holds that assessment's scores
    image, x0, width = trend.heatmap_image()
    for assessment in valid:
        column = int((_epoch(assessment.taken_at) - x0) // width)
        assert image[:, column].tolist() == [float(assessment.items[k]) for k in COWS.keys]
    # the ImageItem shows it with item 1 at the top, on the shared time axis
    drawn = trend.heat_image.image
    assert drawn.shape == image.shape
    assert np.array_equal(drawn[::-1], image, equal_nan=True)
    drawn_left = trend.heat_image.mapRectToView(trend.heat_image.boundingRect()).left()
    assert trend.from_view_x(drawn_left) == pytest.approx(x0)
    assert trend.items_plot.vb.linkedView(0) is trend.cows_plot.vb
    ticks = trend.items_plot.getAxis("left")._tickLevels[0]
    assert [t for _v, t in sorted(ticks, reverse=True)] == [f"{i.number} {i.label}" for i in COWS.items]


def test_heat_grid_takes_the_peak_when_assessments_share_a_cell_and_blanks_long_gaps() -> None:
    xs = np.array([0.0, 60.0, 20 * HOUR])
    items = np.zeros((11, 3))
    items[1] = [1, 4, 2]  # sweating
    grid = heat_grid(xs, items)
    assert grid.width == 60.0
    first = grid.image[:, grid.column_at(0.0)]
    second = grid.image[:, grid.column_at(60.0)]
    assert first[1] == 1 and second[1] == 4
    # held for up to 8 h after the second assessment, then blank until the third
    assert grid.image[1, grid.column_at(7 * HOUR)] == 4
    assert np.isnan(grid.image[1, grid.column_at(12 * HOUR)])
    assert grid.image[1, grid.column_at(20 * HOUR)] == 2


# --- vital signs --------------------------------------------------------------------------------------


def test_vitals_plots_show_every_series_on_the_shared_axis(
    trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    readings = service.vitals(scenario.episode_id)
    xs, pulse = trend.vitals_points("pulse")
    assert xs.tolist() == [v.taken_at.timestamp() for v in readings]
    assert pulse.tolist() == [float(v.pulse_bpm) for v in readings if v.pulse_bpm is not None]
    assert trend.vitals_points("systolic")[1].tolist() == [float(v.systolic or 0) for v in readings]
    assert trend.vitals_points("diastolic")[1].tolist() == [float(v.diastolic or 0) for v in readings]
    assert trend.vitals_points("spo2")[1].tolist() == [float(v.spo2 or 0) for v in readings]
    assert trend.vitals_points("resp_rate")[1].tolist() == [float(v.resp_rate or 0) for v in readings]
    assert trend.vitals_points("temp")[1].tolist() == [float(v.temp_c or 0) for v in readings]
    assert set(trend.vitals_plots) == {"pulse", "bp", "spo2", "resp_rate", "temp"}
    for plot in trend.vitals_plots.values():
        assert plot.vb.linkedView(0) is trend.cows_plot.vb
        assert plot.vb.viewRange()[0] == pytest.approx(trend.cows_plot.vb.viewRange()[0])


# --- time range, axis, buttons ------------------------------------------------------------------------


def test_range_buttons_set_the_time_axis(qtbot: QtBot, trend: TrendView, clock: FakeClock) -> None:
    now = clock.now().timestamp()
    qtbot.mouseClick(_button(trend, "Last 24 h"), Qt.MouseButton.LeftButton)
    low, high = trend.x_range()
    assert low == pytest.approx(now - 24 * HOUR, abs=60)
    assert high == pytest.approx(now, abs=60)
    qtbot.mouseClick(_button(trend, "Last 72 h"), Qt.MouseButton.LeftButton)
    low, high = trend.x_range()
    assert low == pytest.approx(now - 72 * HOUR, abs=60)
    assert high == pytest.approx(now, abs=60)
    qtbot.mouseClick(_button(trend, "Whole episode"), Qt.MouseButton.LeftButton)
    low, high = trend.x_range()
    admitted = (T0 - timedelta(hours=30)).timestamp()
    assert low <= admitted < now <= high
    assert high - low < 32 * HOUR
    # every plot follows the shared axis
    for plot in [trend.items_plot, trend.events_plot, *trend.vitals_plots.values()]:
        assert plot.vb.viewRange()[0] == pytest.approx([trend.to_view_x(low), trend.to_view_x(high)])


def test_every_button_has_its_text_as_accessible_name(trend: TrendView) -> None:
    buttons = trend.findChildren(QAbstractButton)
    assert {b.text() for b in buttons} == {
        "Last 24 h",
        "Last 72 h",
        "Whole episode",
        "Export PNG…",
        "Export SVG…",
    }
    for button in buttons:
        assert button.accessibleName() == button.text()


def test_time_axis_is_in_the_episodes_local_time(trend: TrendView, clock: FakeClock) -> None:
    trend.show_last_hours(24)
    labels = trend.time_labels()
    assert labels
    for value, text in labels:
        local = datetime.fromtimestamp(value, BERLIN)
        assert text in (local.strftime("%H:%M"), local.strftime("%a %d %b"))
    # midnight in Berlin (23:00 UTC) is a date tick
    midnight = datetime(2026, 11, 20, tzinfo=BERLIN).timestamp()
    assert (midnight, "Fri 20 Nov") in labels


def test_time_ticks_follow_a_daylight_saving_change() -> None:
    # Berlin, 29 March 2026: 02:00 jumps to 03:00. Hourly ticks stay on whole local hours.
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN).timestamp()
    levels = local_ticks(start, start + 6 * HOUR, 400, BERLIN)  # room for a label per hour
    hours = [datetime.fromtimestamp(v, BERLIN).strftime("%H:%M") for _s, vs in levels for v in vs]
    assert hours == ["00:00", "01:00", "03:00", "04:00", "05:00", "06:00", "07:00"]  # 6 h of real time
    # 01:00 to 03:00 local is one hour of real time that night
    values = sorted(v for _s, vs in levels for v in vs)
    assert values[2] - values[1] == HOUR


# --- export -------------------------------------------------------------------------------------------


def test_export_writes_png_and_svg(trend: TrendView, tmp_path: Path) -> None:
    png = trend.export(tmp_path / "trend.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    svg = trend.export(tmp_path / "trend.svg")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "naltrexone 25 mg PO" in text
    assert "Moderately severe 25–36" in text
    with pytest.raises(ValueError):
        trend.export(tmp_path / "trend.jpg")


def test_export_buttons_ask_for_a_file_and_say_where_it_went(
    qtbot: QtBot, trend: TrendView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "chosen"
    monkeypatch.setattr("monitor.ui.trend.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(_button(trend, "Export SVG…"), Qt.MouseButton.LeftButton)
    assert (tmp_path / "chosen.svg").stat().st_size > 0
    assert trend.message_label.text() == f"Exported to {tmp_path / 'chosen.svg'}"


def test_export_failure_is_a_message_not_a_traceback(
    qtbot: QtBot, trend: TrendView, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "missing-folder" / "trend.png"
    monkeypatch.setattr("monitor.ui.trend.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(_button(trend, "Export PNG…"), Qt.MouseButton.LeftButton)
    assert trend.message_label.isVisible()
    assert trend.message_label.text().startswith(f"Could not export to {target}")
    assert "Traceback" not in trend.message_label.text()


# --- errors and empty episodes ------------------------------------------------------------------------


def test_service_error_is_shown_as_words(
    qtbot: QtBot, service: ClinicalService, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _view(qtbot, service)

    def broken(episode_id: int) -> list[AssessmentView]:
        raise DatabaseProblem(ProblemKind.BUSY, "database is locked")

    # the view reads the assessments as columns (and a stub source as view objects): both fail
    monkeypatch.setattr(service, "assessments", broken)
    monkeypatch.setattr(service, "assessment_columns", broken)
    view.show_episode(scenario.episode_id)
    assert view.message_label.isVisible()
    assert "busy" in view.message_label.text().lower() or "another" in view.message_label.text().lower()
    assert "Traceback" not in view.message_label.text()
    assert view.cows_points()[0].size == 0


def test_unknown_episode_is_a_message(qtbot: QtBot, service: ClinicalService) -> None:
    view = _view(qtbot, service)
    view.show_episode(999)
    assert view.message_label.text() == "Episode 999 does not exist."


def test_an_episode_without_assessments_draws_bands_and_says_so(
    qtbot: QtBot, service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    episode_id = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    view = _view(qtbot, service)
    view.show_episode(episode_id)
    assert view.message_label.text() == "No COWS charted yet in this episode."
    assert len(view.band_regions()) == 5
    assert view.cows_points()[0].size == 0
    assert view.heatmap_values().shape == (11, 0)


def test_reload_shows_new_data_and_keeps_no_stale_items(
    trend: TrendView, service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    before = len(trend.cows_points()[0])
    doses = len(trend.dose_markers())
    clock.advance(minutes=20)
    service.record_assessment(
        nurse,
        scenario.episode_id,
        AssessmentInput(taken_at=clock.now(), items=_items(sweating=2), pulse_bpm=80),
    )
    trend.refresh()
    assert len(trend.cows_points()[0]) == before + 1
    assert len(trend.dose_markers()) == doses
    assert len(trend.window_regions()) == 1


def test_another_episode_shows_none_of_the_first_ones_dose_lines(
    trend: TrendView, service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    """The dose-line items are kept from one load to the next and given new data: an episode with no
    doses shows none on any plot, and the first episode's come back whole."""
    doses = trend.dose_markers()
    assert doses and any(not antagonist for _x, _label, antagonist in doses)

    def drawn_lines() -> int:
        return sum(
            len(item.getData()[0])
            for plot in trend._plots()
            for item in plot.items
            if isinstance(item, trend_module._FixedCurve)
            and item.isVisible()
            and item.getData()[0] is not None
        )

    assert drawn_lines() > 0
    quiet = service.admit(nurse, admission(clock.now() - timedelta(hours=2), mrn="Q-1", name="Quinn Quiet"))
    service.record_assessment(nurse, quiet, AssessmentInput(taken_at=clock.now(), items=_items(yawning=1)))
    trend.show_episode(quiet)
    assert trend.dose_markers() == [] and drawn_lines() == 0
    trend.show_episode(scenario.episode_id)
    assert trend.dose_markers() == doses


# --- a long stay: 20,000 assessments (the same synthetic stay the benchmark draws) ----------------------


@pytest.fixture(scope="module")
def long_stay() -> LongStay:
    return LongStay()


def test_a_20000_assessment_stay_loads_with_clip_to_view_and_peak_downsampling(
    qtbot: QtBot, long_stay: LongStay
) -> None:
    view = _view(qtbot, long_stay)
    view.show_episode(1)
    xs, ys = view.cows_points()
    assert len(xs) == 20_000
    assert xs[0] == long_stay._assessments[0].taken_at.timestamp()
    assert ys[-1] == long_stay._assessments[-1].total
    # one line item for all points, with the long-stay settings on
    curve = view.cows_curve
    assert [i for i in view.cows_plot.listDataItems() if isinstance(i, type(curve))] == [curve]
    assert curve.opts["clipToView"] is True
    assert curve.opts["autoDownsample"] is True
    assert curve.opts["downsampleMethod"] == "peak"
    assert curve.opts["skipFiniteCheck"] is True
    assert curve.opts["symbol"] is None  # 20,000 symbols would be drawn as a smear and slowly
    # what is painted is a small fraction of the points
    view.graphics.grab()
    drawn_x, _drawn_y = curve.getData()
    assert drawn_x is not None and len(drawn_x) < 5_000
    assert view.heatmap_values().shape == (11, 20_000)
    # zoomed in, the points get their symbols back
    view.show_last_hours(24)
    assert curve.opts["symbol"] == "o"


def test_entered_in_error_dates_are_utc_aware(service: ClinicalService, scenario: Scenario) -> None:
    # the view relies on aware datetimes from the service (epoch seconds are then unambiguous)
    for assessment in service.assessments(scenario.episode_id):
        assert assessment.taken_at.tzinfo is not None
        assert assessment.taken_at.utcoffset() == UTC.utcoffset(None)


def test_hover_on_an_alert_marker_shows_its_message(
    qtbot: QtBot, trend: TrendView, service: ClinicalService, scenario: Scenario
) -> None:
    trend.show_last_hours(6)
    [precipitated] = [
        a
        for a in service.alerts(include_inactive=True, episode_id=scenario.episode_id)
        if a.rule == "precipitated_withdrawal"
    ]
    _move_to(qtbot, trend, trend.events_plot, _epoch(precipitated.raised_at), 0.5)
    text = trend.hover_label.text()
    assert text.startswith("▲ HIGH – Possible precipitated withdrawal")
    assert precipitated.message in text


def test_svg_paths_closed_with_z_are_rewritten_as_lines_back_to_the_start() -> None:
    from monitor.ui.trend import _close_subpaths

    assert _close_subpaths("M0,0 L433.8,0 L433.8,264.5 L0,264.5 L0,0 Z") == (
        "M0,0 L433.8,0 L433.8,264.5 L0,264.5 L0,0 L0,0"
    )
    assert _close_subpaths("M1,2 L3,4 Z M5,6 L7,8 Z") == "M1,2 L3,4 L1,2 M5,6 L7,8 L5,6"
    assert _close_subpaths("M1,2 L3,4") == "M1,2 L3,4"


def test_hover_on_a_dose_line_names_every_medicine_given_then(
    qtbot: QtBot, trend: TrendView, scenario: Scenario
) -> None:
    trend.show_last_hours(30)
    _move_to(qtbot, trend, trend.cows_plot, _epoch(scenario.clonidine.given_at), 40)
    lines = trend.hover_label.text().splitlines()
    assert lines[0].startswith("○ clonidine 0.1 mg PO · given Thu 19 Nov 2026 08:48 by rn.lee")
    assert lines[1].startswith("○ ondansetron 4 mg PO · given")
    assert "COWS 20" in lines[2]  # and the nearest assessment (the amended one, 18 min before)
