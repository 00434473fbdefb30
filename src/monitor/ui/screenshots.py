"""Offscreen screenshots of the main screens into a folder (`make screenshots` writes docs/).

Builds a throwaway demo ward (invented patients) in a temporary folder, so it never touches a real
database, then grabs each window as a nurse would see it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pyqtgraph.exporters import ImageExporter
from PySide6.QtWidgets import QApplication, QWidget

from monitor.services import locations
from monitor.services.clinical import ClinicalService
from monitor.services.demo import DEMO_ADMINISTRATOR, DEMO_SIGN_IN_HINT, seed_demo
from monitor.services.views import AdmissionRequest, SubstanceInput
from monitor.ui import theme
from monitor.ui.admit_dialog import AdmitDialog
from monitor.ui.cows_form import CowsForm
from monitor.ui.dialogs import HistoryDialog
from monitor.ui.dose_dialog import DoseDialog
from monitor.ui.main_window import MainWindow
from monitor.ui.sign_in import SignInDialog
from monitor.ui.users_dialog import UsersDialog
from monitor.ui.welcome import WelcomeDialog


def _save(widget: QWidget, folder: Path, name: str) -> Path:
    widget.show()
    QApplication.processEvents()
    target = folder / name
    if not widget.grab().save(str(target)):
        raise OSError(f"could not write {target}")
    print(f"wrote {target}")
    return target


def _wait_for_heat_map(window: MainWindow, timeout_s: float = 30.0) -> None:
    """The item heat map is filled from a read off the GUI thread: wait for it, or the picture shows
    it empty."""
    deadline = time.monotonic() + timeout_s
    while window.trend_view.heat_map_pending() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)


def _report_pages(service: ClinicalService, actor: str, episode_id: int, folder: Path) -> list[Path]:
    """The PDF episode report of a demo patient, its first pages as PNG (needs pdftoppm, poppler-utils)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        print("pdftoppm not found (poppler-utils): the report pages are not rendered")
        return []
    pdf = folder / "episode-report.pdf"
    service.export(actor, "pdf", pdf, episode_ids=[episode_id])
    subprocess.run(
        [pdftoppm, "-r", "80", "-png", "-l", "2", str(pdf), str(folder / "report-page")], check=True
    )
    pdf.unlink()
    pages = sorted(folder.glob("report-page-*.png"))
    for page in pages:
        print(f"wrote {page}")
    return pages


def take(folder: Path, theme_choice: str = theme.LIGHT) -> list[Path]:
    """Every screen in `theme_choice`; the report pages (paper, not themed) only in the light run."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    theme.apply_theme(theme_choice)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        service = locations.connect(path=Path(scratch) / "demo.sqlite")
        try:
            episode_ids = seed_demo(service)
            welcome = WelcomeDialog(str(locations.default_database_path()))
            written.append(_save(welcome, folder, "welcome.png"))
            welcome.close()
            actor = "rn.lee"  # a demo nurse
            sign_in = SignInDialog(service, hint=DEMO_SIGN_IN_HINT)
            sign_in.form.prefill(actor)
            written.append(_save(sign_in, folder, "sign-in.png"))
            sign_in.close()
            window = MainWindow(service, actor, "demo ward (screenshot)", sign_in_hint=DEMO_SIGN_IN_HINT)
            window.resize(1366, 768)
            window.episodes.select(episode_ids[0])
            window.check_alerts()
            written.append(_save(window, folder, "main-window.png"))
            window.episode_view.tabs.setCurrentIndex(1)
            written.append(_save(window, folder, "medication-tab.png"))
            window.episode_view.tabs.setCurrentIndex(0)
            window.views.setCurrentWidget(window.ward_board)
            written.append(_save(window, folder, "ward-board.png"))
            window.views.setCurrentWidget(window.review_panel)
            written.append(_save(window, folder, "review-queue.png"))
            window.views.setCurrentWidget(window.trend_tab)
            window.resize(1366, 1000)  # the trend's stacked plots want height; a tall screen shows them all
            _wait_for_heat_map(window)
            written.append(_save(window, folder, "trend-view.png"))
            heat_map = ImageExporter(window.trend_view.items_plot)
            heat_map.parameters()["width"] = 1300
            heat_map.export(str(folder / "item-heat-map.png"))
            written.append(folder / "item-heat-map.png")
            print(f"wrote {folder / 'item-heat-map.png'}")
            window.resize(1366, 768)
            window.views.setCurrentIndex(0)

            # A new kratom patient on day 3: what the nurse sees before giving naltrexone.
            new_id = service.admit(
                actor,
                AdmissionRequest(
                    mrn="K-2001",
                    name="Riley Invented",
                    bed="5C",
                    admitted_at=service.clock.now(),
                    substances=(
                        SubstanceInput("kratom", service.clock.now() - timedelta(days=3), "20 g/day", "oral"),
                    ),
                ),
            )
            dose = DoseDialog(service, actor, service.episode(new_id), drug_key="naltrexone")
            dose.dose_edit.setText("25")
            written.append(_save(dose, folder, "dose-dialog.png"))
            dose.close()

            episode = service.episode(episode_ids[0])
            form = CowsForm(service, actor, episode)
            # a half-charted COWS: the moment a nurse sees "no total" with items missing
            for key, value in (
                ("sweating", 1),
                ("restlessness", 3),
                ("pupil_size", 1),
                ("bone_joint_aches", 2),
            ):
                form.item_widget(key).select_value(value)
            form.pulse_edit.setText("104")
            form.resize(form.sizeHint())
            written.append(_save(form, folder, "cows-form.png"))
            form.close()

            history = HistoryDialog(service.assessment_history(service.assessments(episode_ids[0])[3].id))
            written.append(_save(history, folder, "assessment-history.png"))
            history.close()

            admit = AdmitDialog(service, actor)
            admit.mrn.setText("K-2001")
            admit.name.setText("Riley Invented")
            admit.bed.setText("5C")
            admit.add_substance_row("kratom", amount="35 g/day", route="oral")
            admit.add_substance_row("fentanyl", amount="about 0.5 g/day", route="smoked")
            written.append(_save(admit, folder, "admit-dialog.png"))
            admit.close()

            users = UsersDialog(service, DEMO_ADMINISTRATOR)
            users.resize(900, 520)
            written.append(_save(users, folder, "user-accounts.png"))
            users.close()

            window.lock()
            written.append(_save(window, folder, "locked.png"))
            window.close()
            if theme_choice == theme.LIGHT:
                written.extend(_report_pages(service, actor, episode_ids[0], folder))
        finally:
            service.db.dispose()
    return written


if __name__ == "__main__":
    # python -m monitor.ui.screenshots FOLDER [light|dark]
    arguments = sys.argv[1:] + ["docs", theme.LIGHT][len(sys.argv) - 1 :]
    take(Path(arguments[0]), arguments[1])
