"""Issue 9: what the start costs and how the app ends. Starting the app imports no export library
(reportlab for the PDF, fhir.resources and pydantic for FHIR, the CSV and episode-file writers; they
load when an export is made), and opening a database already at the newest schema imports no alembic:
bench/process_figures.py measured them as a large part of the cold start. The `monitor` command starts
the database file's integrity check before Qt, SQLAlchemy and the services load, and the app waits for
its answer. The main window is shown before its dialogs and the charts' library (pyqtgraph, numpy)
load. The garbage collector runs less often while the app runs; Quit ends the app without an error."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from monitor.cli import main as cli_main
from monitor.services import locations
from monitor.services.clinical import ClinicalService
from monitor.services.demo import seed_demo
from monitor.ui import app as app_module
from monitor.ui.main_window import DEFERRED_MODULES, MainWindow
from monitor.ui.sign_in import SignInDialog
from tests.ui.test_main_window import when_dialog_opens

PASSWORD = "first admin passphrase"
NOT_AT_START = (
    "reportlab",
    "fhir",
    "fhir_core",
    "pydantic",
    "alembic",
    "mako",
    "monitor.io.csv_tables",
    "monitor.io.episode_json",
    *DEFERRED_MODULES,
    "pyqtgraph",
    "numpy",
)


def _output_of_fresh_interpreter(code: str) -> str:
    """What `code` prints in a fresh interpreter (offscreen): this test process has imported everything
    already."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


def test_starting_the_app_imports_no_export_library_nor_alembic(db_path: Path) -> None:
    locations.connect(path=db_path).db.dispose()  # a database at the newest schema
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import monitor.cli.main, monitor.ui.app, monitor.ui.main_window, monitor.ui.sign_in\n"
        "from monitor.services import locations\n"
        f"locations.connect(path=Path({str(db_path)!r})).db.dispose()\n"
        f"print(sorted(m for m in {NOT_AT_START!r} if m in sys.modules))\n"
    )
    assert _output_of_fresh_interpreter(code) == "[]"


def test_the_command_module_loads_neither_qt_nor_sqlalchemy() -> None:
    """So that `monitor` can start the database check before the heavy modules load."""
    heavy = ("PySide6", "sqlalchemy", "pyqtgraph", "numpy", "monitor.ui", "monitor.services.clinical")
    code = (
        "import sys\nimport monitor.cli.main\n"
        f"print(sorted({{m for m in sys.modules if m.startswith({heavy!r})}}))\n"
    )
    assert _output_of_fresh_interpreter(code) == "[]"


def test_the_command_hands_its_early_integrity_check_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services.test_backups import corrupt_index

    ward = tmp_path / "ward.sqlite"
    service = locations.connect(path=ward)
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)
    service.db.dispose()
    corrupt_index(ward)  # only the full integrity check notices this one
    handed: list[object] = []

    def run_gui(**kwargs: object) -> int:
        handed.append(kwargs["integrity"])
        return 0

    monkeypatch.setattr(app_module, "run_gui", run_gui)
    assert cli_main.main(["--db", str(ward)]) == 0
    (check,) = handed
    assert isinstance(check, Future)
    assert f"The database file {ward} is damaged" in check.result(timeout=60)
    handed.clear()
    assert cli_main.main(["--db", str(ward), "episodes"]) == 0  # not the app: not checked at start
    assert handed == []


def test_without_a_data_folder_the_command_leaves_the_check_to_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default database's folder cannot be made: no traceback before the app can say so."""

    def no_folder() -> Path:
        raise PermissionError("no data folder")

    handed: list[object] = []

    def run_gui(**kwargs: object) -> int:
        handed.append(kwargs["integrity"])
        return 0

    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.setattr(locations, "default_database_path", no_folder)
    monkeypatch.setattr(app_module, "run_gui", run_gui)
    assert cli_main.main([]) == 0
    assert handed == [None]


def test_a_damaged_database_is_refused_when_the_command_starts_the_app(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.services.test_backups import corrupt_index

    ward = tmp_path / "ward.sqlite"
    service = locations.connect(path=ward)
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)
    service.db.dispose()
    corrupt_index(ward)
    before = ward.read_bytes()
    shown: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    assert cli_main.main(["--db", str(ward)]) == 2
    assert len(shown) == 1 and f"The database file {ward} is damaged" in shown[0]
    assert ward.read_bytes() == before


def test_quit_ends_the_app_without_an_error(
    qtbot: QtBot, db_path: Path, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)
    closed: list[bool] = []
    thresholds: list[tuple[int, int, int]] = []
    before = gc.get_threshold()

    def quit_at_exec(*_args: object) -> int:
        thresholds.append(gc.get_threshold())  # while the app runs
        # Instead of the event loop: the user quits (Ctrl+Q closes the window, which deletes itself).
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                closed.append(widget.close())
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return 0

    def sign_in(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        qtbot.keyClicks(dialog.form.password, PASSWORD)
        qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)

    monkeypatch.setattr(QApplication, "exec", quit_at_exec)
    when_dialog_opens(sign_in)
    assert app_module.run_gui(path=db_path, url=None, user="admin") == 0
    assert closed == [True]
    # The collector runs less often while the app runs (collections cost a long stay's opening about
    # 11 ms), and as before after it.
    assert thresholds == [app_module.GC_THRESHOLDS] and thresholds[0][0] > before[0]
    assert gc.get_threshold() == before


def test_the_main_window_is_shown_before_its_dialogs_and_charts_load(db_path: Path) -> None:
    """The dialogs and the charts' library (pyqtgraph and numpy, a third of a second) load after the
    window's first paint, not before it, and before the nurse needs them: the first COWS form or Trend
    does not wait for them."""
    service = locations.connect(path=db_path)
    seed_demo(service)
    service.db.dispose()
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from monitor.services import locations\n"
        "from monitor.ui.main_window import DEFERRED_LOAD_DELAY_MS, DEFERRED_MODULES, MainWindow\n"
        "app = QApplication([])\n"
        f"service = locations.connect(path=Path({str(db_path)!r}))\n"
        "window = MainWindow(service, 'rn.lee', 'test ward')\n"
        "window.show()\n"
        "window.load_deferred_modules()\n"
        "app.processEvents()\n"
        "later = (*DEFERRED_MODULES, 'pyqtgraph', 'numpy')\n"
        "print(window.episodes.model.rowCount(), [m for m in later if m in sys.modules])\n"
        "deadline = time.monotonic() + DEFERRED_LOAD_DELAY_MS / 1000 + 60\n"
        "while not all(m in sys.modules for m in later) and time.monotonic() < deadline:\n"
        "    app.processEvents()\n"
        "    time.sleep(0.01)\n"
        "print([m for m in later if m not in sys.modules])\n"
        "window.close()\n"
        "service.db.dispose()\n"
    )
    shown, later = _output_of_fresh_interpreter(code).splitlines()
    count, loaded = shown.split(" ", 1)
    assert int(count) > 0  # the ward's episodes are listed without them
    assert loaded == "[]"
    assert later == "[]"  # every one of them loaded after the paint
