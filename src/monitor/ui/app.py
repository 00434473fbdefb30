"""Starting the GUI: open the database (plain message on failure), the first administrator on an empty
database, the sign-in, then the main window."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from monitor.services import backups, locations
from monitor.services.demo import DEMO_SIGN_IN_HINT
from monitor.services.errors import DatabaseProblem, ProblemKind, ServiceError
from monitor.ui import theme
from monitor.ui.app_icon import app_icon
from monitor.ui.crash import install_excepthook

# The garbage collector's thresholds while the app runs. By default a collection of the youngest objects
# starts every 700 new ones and the older generations are swept after them; with a stay of 20,000
# assessments open, opening it again and its trend spent about 11 ms in collections (gc.callbacks).
# What the app frees goes by reference counting; cycles are still collected, less often.
GC_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def app_garbage_collection() -> Iterator[None]:
    """GC_THRESHOLDS for the app's run, the previous ones after it (a test process goes on)."""
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _refuse(message: str) -> int:
    print(f"monitor: {message}", file=sys.stderr)
    QMessageBox.critical(None, "Withdrawal monitor", message)
    return 2


def _show_fitting(window: QWidget) -> None:
    """At its own size where the screen has room for it and a title bar; maximised on a smaller one
    (a 1366 x 768 bedside screen), so that no part of the ward opens below the taskbar."""
    room = window.screen().availableGeometry()
    frame = window.frameGeometry().size() - window.size()
    if window.width() + frame.width() > room.width() or window.height() + frame.height() + 32 > room.height():
        window.showMaximized()
    else:
        window.show()


def run_gui(
    *,
    path: Path | None,
    url: str | None,
    user: str | None,
    sign_in_hint: str = "",
    integrity: Future[str | None] | None = None,
) -> int:
    """`user` (--user or $MONITOR_USER) only fills in the sign-in's user name: a password is always asked.
    integrity: the check of the SQLite file at `path`, when the caller started it already (the command
    does, before the heavy imports); else it is started here."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Withdrawal monitor")
    app.setOrganizationName("WithdrawalMonitor")
    # Matches resources/linux/org.withdrawalmonitor.WithdrawalMonitor.desktop (icon and name in the dock).
    app.setDesktopFileName("org.withdrawalmonitor.WithdrawalMonitor")
    app.setWindowIcon(app_icon())  # title bars and the Windows taskbar
    theme.apply_theme(theme.chosen_theme(locations.read_preferences()))  # before the first dialog shows
    logs = locations.log_dir()
    previous_level = logging.getLogger().level
    log_file = locations.configure_logging(logs)
    previous_hook = sys.excepthook
    install_excepthook(logs)
    try:
        with app_garbage_collection():
            return _run(app, path=path, url=url, user=user, sign_in_hint=sign_in_hint, integrity=integrity)
    finally:
        sys.excepthook = previous_hook  # (a test process goes on after the app)
        locations.stop_logging(log_file)
        logging.getLogger().setLevel(previous_level)


def _run(
    app: QApplication,
    *,
    path: Path | None,
    url: str | None,
    user: str | None,
    sign_in_hint: str,
    integrity: Future[str | None] | None,
) -> int:
    db_file = None if url else Path(path or locations.default_database_path())
    if integrity is None and db_file is not None:
        # SQLite checks the file without holding the GIL, so the windows' modules load meanwhile;
        # nothing opens the database before the answer.
        integrity = locations.start_integrity_check(db_file)
    from monitor.ui.main_window import MainWindow
    from monitor.ui.sign_in import FirstAdministratorDialog, SignInDialog
    from monitor.ui.welcome import DEMO, WelcomeDialog

    damage = integrity.result() if integrity is not None else None
    if damage is not None and db_file is not None:
        # Refused before anything opens it for writing; the message names the newest good backup.
        return _refuse(backups.damage_advice(db_file, damage))
    try:
        service = locations.connect(path=path, url=url)
        first_start = service.needs_first_administrator()
    except (DatabaseProblem, ServiceError) as problem:
        message = problem.message
        if (
            isinstance(problem, DatabaseProblem)
            and problem.kind is ProblemKind.CORRUPT
            and db_file is not None
        ):
            message = backups.damage_advice(db_file, problem.message)
        return _refuse(message)
    try:
        name = user or locations.configured_user() or ""
        if first_start and sign_in_hint == "":
            welcome = WelcomeDialog(locations.display_location(service.db.path, url))
            if not welcome.exec():
                return 0
            if welcome.choice == DEMO:
                service.db.dispose()
                service = locations.connect(path=locations.rebuild_demo_database())
                sign_in_hint, first_start = DEMO_SIGN_IN_HINT, False
        if first_start:
            first = FirstAdministratorDialog(service)
            if not first.exec() or first.user is None:
                return 0
            name = first.user.username
        sign_in = SignInDialog(service, hint=sign_in_hint)
        sign_in.form.prefill(name)
        if not sign_in.exec() or sign_in.user is None:
            return 0
        where = locations.display_location(service.db.path, url)
        window = MainWindow(service, sign_in.user.username, where, sign_in_hint=sign_in_hint)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _show_fitting(window)
        window.load_deferred_modules()
        window.start_backups()
        try:
            return app.exec()
        finally:
            # Its timers must not reach the database once it is closed below. Closed by the user (Quit,
            # Ctrl+Q) it is already deleted (WA_DeleteOnClose), and closing it again would raise.
            if shiboken6.isValid(window):
                window.close()
    finally:
        service.db.dispose()
