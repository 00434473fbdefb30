"""Issue 8: every window fits a 1366 x 768 bedside screen. A dialog opens at its size hint, so that size
(and the smallest it can be shrunk to) must fit the screen less a taskbar and a title bar; the main
window must shrink to it. Qt 6 scales logical pixels on high-DPI screens, so the same check holds at
200 % on a 2732 x 1536 panel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.demo import DEMO_ADMINISTRATOR, seed_demo
from monitor.ui.admit_dialog import AdmitDialog
from monitor.ui.alerts import AcknowledgeDialog, SnoozeDialog
from monitor.ui.audit_viewer import AuditViewer
from monitor.ui.cows_form import CowsForm
from monitor.ui.dialogs import DischargeDialog, HistoryDialog, ReasonDialog, SubstanceReportDialog
from monitor.ui.dose_dialog import DoseDialog
from monitor.ui.export_dialog import ExportDialog
from monitor.ui.help_dialogs import AboutDialog, ShortcutsDialog
from monitor.ui.main_window import MainWindow
from monitor.ui.protocol_dialog import ProtocolDialog
from monitor.ui.review_panel import SignOffDialog
from monitor.ui.sign_in import ChangePasswordDialog, FirstAdministratorDialog, SignInDialog
from monitor.ui.users_dialog import AddUserDialog, ResetPasswordDialog, UsersDialog
from monitor.ui.vitals_dialog import VitalsDialog
from monitor.ui.welcome import WelcomeDialog
from tests.conftest import FakeClock

SCREEN = QSize(1366, 768)
TASKBAR, TITLE_BAR = 40, 32  # a Windows taskbar; a window's title bar and frame
ROOM = QSize(SCREEN.width(), SCREEN.height() - TASKBAR - TITLE_BAR)

NURSE, PHYSICIAN = "rn.lee", "dr.park"  # demo accounts (seed_demo)


@pytest.fixture
def demo(service: ClinicalService, clock: FakeClock) -> list[int]:
    clock.advance(days=3)  # the demo charts backwards from now
    return seed_demo(service, now=clock.now())


def _dialogs(service: ClinicalService, episodes: list[int]) -> dict[str, Callable[[], QWidget]]:
    episode = service.episode(episodes[0])
    assessment = service.assessments(episodes[0])[-1]
    alert = next(a for a in service.alerts() if a.needs_action)
    return {
        "welcome": lambda: WelcomeDialog("/home/nurse/.local/share/withdrawal-monitor/monitor.sqlite"),
        "first administrator": lambda: FirstAdministratorDialog(service),
        "sign in": lambda: SignInDialog(service, hint="Demo accounts: rn.lee (password demo-password)"),
        "change password": lambda: ChangePasswordDialog(service, NURSE, "Your password was reset."),
        "admit": lambda: AdmitDialog(service, NURSE),
        "record COWS": lambda: CowsForm(service, NURSE, episode),
        "amend COWS": lambda: CowsForm(service, NURSE, episode, amend=assessment),
        "give dose": lambda: DoseDialog(service, NURSE, episode, drug_key="naltrexone"),
        "record vitals": lambda: VitalsDialog(service, NURSE, episode),
        "report substance use": lambda: SubstanceReportDialog(service, NURSE, episode.id),
        "assessment history": lambda: HistoryDialog(service.assessment_history(assessment.id)),
        "reason": lambda: ReasonDialog("Entered in error", "Why is this assessment in error?"),
        "discharge": lambda: DischargeDialog(service, NURSE, episode.id, episode.name),
        "acknowledge alert": lambda: AcknowledgeDialog(service, NURSE, alert),
        "snooze alert": lambda: SnoozeDialog(service, NURSE, alert),
        "sign off": lambda: SignOffDialog(service, PHYSICIAN, episode.id),
        "export": lambda: ExportDialog(service, NURSE, episode),
        "protocol": lambda: ProtocolDialog(service, PHYSICIAN),
        "audit trail": lambda: AuditViewer(service, DEMO_ADMINISTRATOR),
        "user accounts": lambda: UsersDialog(service, DEMO_ADMINISTRATOR),
        "add user": lambda: AddUserDialog(service, DEMO_ADMINISTRATOR),
        "reset password": lambda: ResetPasswordDialog(service, DEMO_ADMINISTRATOR, NURSE),
        "keyboard shortcuts": lambda: ShortcutsDialog(
            [QAction(f"Action {n}", shortcut=f"Ctrl+Shift+{chr(65 + n)}") for n in range(20)]
        ),
        "about": lambda: AboutDialog("/home/nurse/.local/share/withdrawal-monitor/monitor.sqlite", "0005"),
    }


def _fits(size: QSize) -> bool:
    return size.width() <= ROOM.width() and size.height() <= ROOM.height()


def test_every_dialog_opens_within_a_1366_by_768_screen(
    qtbot: QtBot, service: ClinicalService, demo: list[int]
) -> None:
    too_big = {}
    factories = _dialogs(service, demo)
    assert len(factories) >= 24  # every dialog the app opens (a new one belongs in this list)
    for name, make in factories.items():
        dialog = make()
        qtbot.addWidget(dialog)
        dialog.show()
        QApplication.processEvents()
        opened, smallest = dialog.size(), dialog.minimumSizeHint()
        if not (_fits(opened) and _fits(smallest)):
            too_big[name] = (opened.toTuple(), smallest.toTuple())
        dialog.close()
    assert too_big == {}, f"room {ROOM.toTuple()}: (opened, smallest) = {too_big}"


def test_every_dialog_subclass_is_checked() -> None:
    """A dialog added to the app without a place in the list above fails here, not on a bedside screen."""
    import monitor.ui as ui_package

    checked = {
        "AdmitDialog", "AcknowledgeDialog", "SnoozeDialog", "AuditViewer", "CowsForm", "DischargeDialog",
        "HistoryDialog", "ReasonDialog", "SubstanceReportDialog", "DoseDialog", "ExportDialog",
        "AboutDialog", "ShortcutsDialog", "ProtocolDialog", "SignOffDialog", "ChangePasswordDialog",
        "FirstAdministratorDialog", "SignInDialog", "AddUserDialog", "ResetPasswordDialog", "UsersDialog",
        "VitalsDialog", "WelcomeDialog",
    }  # fmt: skip
    abstract = {"_AlertDialog", "NewAccountDialog"}  # bases, checked through their subclasses

    def subclasses(cls: type) -> set[type]:
        return {c for s in cls.__subclasses__() for c in {s} | subclasses(s)}

    ours = {c.__name__ for c in subclasses(QDialog) if c.__module__.startswith(ui_package.__name__ + ".")}
    assert ours - abstract == checked


def test_the_main_window_shrinks_to_the_bedside_screen(
    qtbot: QtBot, service: ClinicalService, demo: list[int]
) -> None:
    window = MainWindow(service, NURSE, "test database")
    qtbot.addWidget(window)
    window.show()
    window.episodes.select(demo[0])
    window.open_episode(demo[0])
    for index in range(window.views.count()):  # bedside, ward board, review queue, trend
        window.views.setCurrentIndex(index)
        QApplication.processEvents()
        assert _fits(window.minimumSizeHint()), (index, window.minimumSizeHint().toTuple())
    window.resize(ROOM)
    QApplication.processEvents()
    assert window.size() == ROOM


def test_the_main_window_opens_maximised_on_a_screen_smaller_than_it(
    qtbot: QtBot, service: ClinicalService, demo: list[int]
) -> None:
    from monitor.ui.app import _show_fitting

    window = MainWindow(service, NURSE, "test database")  # 1280 x 800 by default
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    assert room.height() < 800 + 32  # the test screen (offscreen: 800 x 800) is smaller than the window
    _show_fitting(window)
    assert window.isMaximized()
    small = QDialog()
    qtbot.addWidget(small)
    small.resize(400, 300)
    _show_fitting(small)
    assert small.isVisible() and not small.isMaximized()
