"""Issue 7 in the window: another workstation's dose shows within 2 seconds without a restart, and the
status bar says when the last good backup was made (warning when there is none or it is too old)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.views import DoseInput, VitalsInput
from monitor.store.database import Database, open_database
from monitor.ui.main_window import TAB_MEDICATION, MainWindow
from tests.conftest import FakeClock
from tests.helpers import admission, cows


@pytest.fixture
def episode(service: ClinicalService, nurse: str, clock: FakeClock) -> int:
    episode_id = service.admit(nurse, admission(clock.now() - timedelta(hours=2)))
    service.record_assessment(nurse, episode_id, cows(clock.now() - timedelta(hours=1), yawning=1))
    return episode_id


@pytest.fixture
def window(qtbot: QtBot, service: ClinicalService, nurse: str, episode: int) -> MainWindow:
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    win.show()
    win.open_from_overview(episode)
    win.episode_view.tabs.setCurrentIndex(TAB_MEDICATION)
    return win


@pytest.fixture
def other_workstation(db: Database, clock: FakeClock) -> Iterator[ClinicalService]:
    second = open_database(path=db.path)
    yield ClinicalService(second, clock=clock, zone_name="Europe/Berlin")
    second.dispose()


def test_a_dose_given_at_another_workstation_shows_within_2_seconds(
    window: MainWindow,
    qtbot: QtBot,
    other_workstation: ClinicalService,
    episode: int,
    clock: FakeClock,
    physician: str,
) -> None:
    assert window.episode_view.dose_model.rowCount() == 0
    other_workstation.record_dose(physician, episode, DoseInput("clonidine", "oral", 0.1, clock.now()))
    qtbot.waitUntil(lambda: window.episode_view.dose_model.rowCount() == 1, timeout=2000)
    assert window.episode_view.dose_model.index(0, 1).data() == "Clonidine 0.1 mg PO"


def test_a_write_made_while_the_ward_board_is_shown_is_at_the_bedside_on_return(
    window: MainWindow,
    qtbot: QtBot,
    other_workstation: ClinicalService,
    episode: int,
    clock: FakeClock,
    physician: str,
) -> None:
    """The bedside episode is reloaded when the bedside is looked at, not behind the ward board on
    every change (a long stay's reload takes a second of the GUI thread)."""
    window.views.setCurrentWidget(window.ward_board)
    other_workstation.record_dose(physician, episode, DoseInput("clonidine", "oral", 0.1, clock.now()))
    window.refresh_if_changed()
    assert window.ward_board.model.rowCount() == 1  # the board itself is reloaded at once
    window.views.setCurrentIndex(0)  # Ctrl+1: back at the bedside
    assert window.episode_view.dose_model.rowCount() == 1
    assert window.episode_view.dose_model.index(0, 1).data() == "Clonidine 0.1 mg PO"


def test_no_reload_under_an_open_dialog_or_the_lock(
    window: MainWindow,
    qtbot: QtBot,
    other_workstation: ClinicalService,
    episode: int,
    clock: FakeClock,
    nurse: str,
) -> None:
    window.lock()
    other_workstation.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, clock.now()))
    qtbot.wait(1500)
    assert window.episode_view.dose_model.rowCount() == 0  # nothing redrawn behind the lock screen
    window.locked_user = None  # (unlocking itself is tested in test_lock.py)
    window.refresh_if_changed()
    assert window.episode_view.dose_model.rowCount() == 1


def test_the_status_bar_shows_the_last_good_backup(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, clock: FakeClock
) -> None:
    assert window.backup_label.text() == "⚠ No backup yet"
    window.start_backups()  # what the app does once the window is up: a backup now, as one is due
    qtbot.waitUntil(lambda: window.backup_label.text().startswith("Last good backup"), timeout=10_000)
    last = service.last_good_backup()
    assert last is not None and last.path.exists()
    clock.advance(hours=9)  # over twice the default interval of 4 h
    window.show_backup_state()
    assert window.backup_label.text().endswith(": too old")
    window.close()  # waits for a backup in progress
    assert not window.backup_task.running()


def test_the_trend_after_another_workstations_write_is_not_the_bedsides_earlier_read(
    window: MainWindow,
    qtbot: QtBot,
    other_workstation: ClinicalService,
    episode: int,
    clock: FakeClock,
    nurse: str,
) -> None:
    """The trend takes the bedside's rows only while nothing was written since they were read."""
    assert len(window.episode_view.rows) == 1
    other_workstation.record_assessment(nurse, episode, cows(clock.now() - timedelta(minutes=5), sweating=2))
    vitals = VitalsInput(clock.now() - timedelta(minutes=4), 88, 120, 80, 16, 97, 36.8)
    other_workstation.record_vitals(nurse, episode, vitals)
    assert len(window.episode_view.rows) == 1  # the change poll has not run: the bedside's earlier read
    window.views.setCurrentWidget(window.trend_tab)  # Ctrl+4
    trend = window.trend_view
    assert list(trend.cows_points()[1]) == [1, 2]
    assert list(trend.vitals_points("pulse")[1]) == [88]
    qtbot.waitUntil(lambda: not trend.heat_map_pending(), timeout=5000)
    assert trend.heatmap_values()[1].tolist() == [0, 2]  # item 2, sweating, of each COWS
