"""Starting the GUI: open the database (plain message on failure), then the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from monitor.services import locations
from monitor.services.errors import DatabaseProblem, ServiceError


def run_gui(*, path: Path | None, url: str | None, user: str | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Withdrawal monitor")
    app.setOrganizationName("WithdrawalMonitor")
    try:
        service = locations.connect(path=path, url=url)
        name = user or locations.configured_user()
        actor = service.ensure_user(name).username if name else service.ensure_workstation_user().username
    except (DatabaseProblem, ServiceError) as problem:
        message = problem.message
        print(f"monitor: {message}", file=sys.stderr)
        QMessageBox.critical(None, "Withdrawal monitor", message)
        return 2
    from monitor.ui.main_window import MainWindow

    where = url or str(service.db.path)
    window = MainWindow(service, actor, where)
    window.show()
    try:
        return app.exec()
    finally:
        service.db.dispose()
