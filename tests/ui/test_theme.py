"""Light and dark themes (issue 8): every text colour readable on what it is drawn on, the choice
saved for the next start, and a change of theme reaching labels, tables and the trend charts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QRadioButton, QStyle, QWidget
from pytestqt.qtbot import QtBot

from monitor.services import locations
from monitor.services.clinical import ClinicalService
from monitor.ui import theme
from monitor.ui.alerts import priority_colours
from monitor.ui.main_window import MainWindow
from tests.conftest import FakeClock
from tests.helpers import admission, cows

AA_TEXT = 4.5  # WCAG 2.1 AA, normal-size text
TEXT_PAIRS = (
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
)


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    """Whatever a test switches to, the next test starts in the platform's own look."""
    yield
    theme.apply_theme(theme.SYSTEM)


def _contrast(palette: QPalette, fg: QPalette.ColorRole, bg: QPalette.ColorRole) -> float:
    return theme.contrast_ratio(palette.color(fg), palette.color(bg))


@pytest.mark.parametrize("make_palette", [theme.light_palette, theme.dark_palette], ids=["light", "dark"])
def test_every_text_colour_of_both_palettes_reads_at_aa_contrast(
    qapp: QApplication, make_palette: object
) -> None:
    palette = make_palette()  # type: ignore[operator]
    low = {
        f"{fg.name} on {bg.name}": round(_contrast(palette, fg, bg), 2)
        for fg, bg in TEXT_PAIRS
        if _contrast(palette, fg, bg) < AA_TEXT
    }
    assert low == {}


def test_the_dark_palette_is_dark_and_the_light_one_light(qapp: QApplication) -> None:
    assert theme.scheme(theme.dark_palette()) == theme.DARK
    assert theme.scheme(theme.light_palette()) == theme.LIGHT


@pytest.mark.parametrize(
    ("make_palette", "tones"),
    [(theme.light_palette, theme.LIGHT_TONES), (theme.dark_palette, theme.DARK_TONES)],
    ids=["light", "dark"],
)
def test_warning_caution_and_muted_tones_read_on_window_and_table_backgrounds(
    qapp: QApplication, make_palette: object, tones: theme.Tones
) -> None:
    palette = make_palette()  # type: ignore[operator]
    for name in theme.TONE_NAMES:
        colour = QColor(getattr(tones, name))
        for background in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            ratio = theme.contrast_ratio(colour, palette.color(background))
            assert ratio >= AA_TEXT, f"{name} on {background.name}: {ratio:.2f}"


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
@pytest.mark.parametrize("escalated", [False, True])
def test_alert_colours_carry_their_own_readable_text_in_either_theme(priority: str, escalated: bool) -> None:
    background, text = priority_colours(priority, escalated)
    assert theme.contrast_ratio(QColor(text), QColor(background)) >= AA_TEXT


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    black, white = QColor("#000000"), QColor("#ffffff")
    assert theme.contrast_ratio(black, white) == pytest.approx(21.0)
    assert theme.contrast_ratio(white, white) == pytest.approx(1.0)
    # #767676 on white is the classic "just passes AA" grey: 4.54:1
    assert theme.contrast_ratio(QColor("#767676"), white) == pytest.approx(4.54, abs=0.01)


def test_the_theme_to_start_with(monkeypatch: pytest.MonkeyPatch) -> None:
    assert theme.chosen_theme({}) == theme.SYSTEM
    assert theme.chosen_theme({"theme": "dark"}) == theme.DARK
    assert theme.chosen_theme({"theme": "Dark "}) == theme.DARK
    assert theme.chosen_theme({"theme": "drak"}) == theme.SYSTEM  # a typo does not stop the app
    monkeypatch.setenv(theme.THEME_ENV, "light")
    assert theme.chosen_theme({"theme": "dark"}) == theme.LIGHT  # the environment wins for one run


def test_preferences_are_saved_and_a_broken_file_counts_as_none(own_preferences: Path) -> None:
    assert locations.read_preferences() == {}
    locations.save_preference("theme", "dark")
    assert json.loads((own_preferences / "preferences.json").read_text()) == {"theme": "dark"}
    assert locations.read_preferences() == {"theme": "dark"}
    (own_preferences / "preferences.json").write_text("{not json", encoding="utf-8")
    assert locations.read_preferences() == {}
    locations.save_preference("theme", "light")  # and saving over it repairs it
    assert locations.read_preferences() == {"theme": "light"}


def test_a_toned_label_follows_a_change_of_theme(qtbot: QtBot, restore_theme: None) -> None:
    label = QLabel("No backup yet")
    qtbot.addWidget(label)
    theme.apply_theme(theme.LIGHT)
    theme.set_tone(label, "caution")
    assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.LIGHT_TONES.caution)
    assert label.font().bold()
    theme.apply_theme(theme.DARK)
    shown = label.palette().color(QPalette.ColorRole.WindowText)
    assert shown == QColor(theme.DARK_TONES.caution)
    assert theme.contrast_ratio(shown, label.palette().color(QPalette.ColorRole.Window)) >= AA_TEXT
    theme.set_tone(label, None)  # back to the theme's own text colour, and following it
    assert label.palette().color(QPalette.ColorRole.WindowText) == QColor("#e6e6e6")
    assert not label.font().bold()
    theme.apply_theme(theme.LIGHT)  # (Qt hands the new palette to existing widgets in an event)
    light_text = theme.light_palette().color(QPalette.ColorRole.WindowText)
    qtbot.waitUntil(lambda: label.palette().color(QPalette.ColorRole.WindowText) == light_text)


def _error_row_colour(window: MainWindow) -> QColor:
    model = window.episode_view.table.model()
    for row in range(model.rowCount()):
        if "ENTERED IN ERROR" in str(model.index(row, 3).data()):
            brush = model.index(row, 1).data(Qt.ItemDataRole.ForegroundRole)
            return QColor(brush.color() if hasattr(brush, "color") else brush)
    raise AssertionError("no entered-in-error row shown")


def test_choosing_dark_in_the_view_menu_redraws_the_ward_and_is_remembered(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    clock: FakeClock,
    own_preferences: Path,
    restore_theme: None,
) -> None:
    theme.apply_theme(theme.LIGHT)
    episode = service.admit(nurse, admission(clock.now()))
    clock.advance(minutes=20)
    wrong = service.record_assessment(nurse, episode, cows(clock.now(), sweating=2))
    service.mark_entered_in_error(nurse, wrong.id, "charted on the wrong patient")
    clock.advance(minutes=5)
    service.record_assessment(nurse, episode, cows(clock.now(), sweating=1, yawning=2))
    window = MainWindow(service, nurse, "test database")
    qtbot.addWidget(window)
    window.show()
    window.episodes.select(episode)
    window.open_episode(episode)
    window.views.setCurrentWidget(window.trend_tab)
    qtbot.waitUntil(lambda: len(window.trend_view.cows_points()[0]) == 1)
    assert theme.contrast_ratio(_error_row_colour(window), QColor("#ffffff")) >= AA_TEXT
    assert window.theme_actions[theme.SYSTEM].isChecked()

    window.theme_actions[theme.DARK].trigger()

    assert theme.scheme() == theme.DARK
    assert window.theme_actions[theme.DARK].isChecked()
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    assert theme.contrast_ratio(_error_row_colour(window), base) >= AA_TEXT
    # The trend view was built again in the dark theme, on the same episode, still in view.
    assert window.views.currentWidget() is window.trend_tab
    assert window.trend_view.graphics.backgroundBrush().color().lightness() < 128
    _xs, ys = window.trend_view.cows_points()
    assert list(ys) == [3]  # the voided COWS is not on the line; the current one (1 + 2) is
    assert locations.read_preferences() == {"theme": "dark"}

    assert theme.chosen_theme(locations.read_preferences()) == theme.DARK


@pytest.mark.parametrize("choice", [theme.LIGHT, theme.DARK])
def test_radio_buttons_and_check_boxes_stand_out_in_either_theme(
    qtbot: QtBot, restore_theme: None, choice: str
) -> None:
    """WCAG's 3:1 for the parts of a control: the outline of an empty one, the dot of a chosen one
    (Fusion's own outline is the window colour darkened: about 1.1:1 on the dark palette)."""
    theme.apply_theme(choice)
    window = QApplication.palette().color(QPalette.ColorRole.Window)

    def strongest_contrast(widget: QWidget, centre_only: bool) -> float:
        widget.show()
        image = widget.grab().toImage()
        size = widget.style().pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth)
        top = (image.height() - size) // 2
        points = (
            [(size // 2, top + size // 2)]
            if centre_only
            else [(x, y) for x in range(size + 2) for y in range(image.height())]
        )
        return max(theme.contrast_ratio(image.pixelColor(x, y), window) for x, y in points)

    for make in (QRadioButton, QCheckBox):
        empty = make("0 – No report of chills or flushing")
        qtbot.addWidget(empty)
        assert strongest_contrast(empty, centre_only=False) >= 3.0, make.__name__
    chosen = QRadioButton("1 – Subjective chills or flushing")
    chosen.setChecked(True)
    qtbot.addWidget(chosen)
    assert strongest_contrast(chosen, centre_only=True) >= 3.0
