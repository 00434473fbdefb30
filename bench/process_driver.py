"""The subprocess bench/process_figures.py times (issue 9): one fresh interpreter per run, offscreen.

    python bench/process_driver.py bare            # imports PySide6 and pyqtgraph, shows an empty main window
    python bench/process_driver.py app DB          # `monitor --db DB`: the real start, signed in by a timer
    python bench/process_driver.py ward DB         # the same, then the nurse opens an episode and its views

`app` and `ward` run the shipped code path: monitor.cli.main.main(["--db", DB]) (integrity check,
migrations check, the real sign-in dialog with the real password check, then the main window), with
only the command module imported before it, as the console script does. There is
no sign-in bypass: a timer finds the SignInDialog among the top-level widgets, types the user name and
password (from $BENCH_USER and $BENCH_PASSWORD) and presses Sign in, as a nurse would. The only
difference from `monitor` is that this script makes the QApplication first (run_gui takes the existing
instance) so the timer can run. Every mode ends once its main window is exposed and the pending events
(the first paint) are processed, and prints one JSON line: monotonic times of the steps (comparable
with the parent's clock: CLOCK_MONOTONIC is system-wide), the peak RSS and, for `ward`, the RSS after
each step. $BENCH_LAUNCHED_AT is the parent's time.monotonic() just before it started this process.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()  # before any other import: the interpreter's own start is before this

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

POLL_MS = 5
marks: dict[str, float] = {"driver": STARTED}
result: dict[str, Any] = {"marks": marks}


def _rss_mb() -> float:
    """The current resident set (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return _peak_mb()


def _peak_mb() -> float:
    """This process's peak resident set. On Linux the high-water mark of its own memory (VmHWM):
    ru_maxrss there keeps the peak of the process it was forked from (Linux carries it across exec),
    so a child of a big benchmark runner would report the runner's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6  # bytes on macOS, KiB on Linux


def _timed(owner: Any, name: str, label: str) -> None:
    """Wrap owner.name so its start and end land in marks (first call only)."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = f"{label}_start" not in marks
        if first:
            marks[f"{label}_start"] = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            if first:
                marks[f"{label}_end"] = time.monotonic()

    setattr(owner, name, wrapper)


def _bare() -> int:
    import pyqtgraph  # noqa: F401
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    marks["imported"] = time.monotonic()
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    window.show()
    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(lambda: _when_shown(app, timer, lambda: window))
    timer.start()
    return app.exec()


def _when_shown(app: Any, timer: Any, find: Any, after: Any = None) -> None:
    """Once the main window is visible and exposed: process pending events (its first paint), note the
    time, do `after` (the ward mode's nurse), then close the window as Quit (Ctrl+Q) does: the last
    window closed ends app.exec()."""
    window = find()
    if window is None or not window.isVisible():
        return
    handle = window.windowHandle()
    if handle is None or not handle.isExposed():
        return
    timer.stop()
    marks["visible"] = time.monotonic()
    app.processEvents()
    marks["shown"] = time.monotonic()
    result["rss_shown_mb"] = round(_rss_mb(), 1)
    if after is not None:
        after(window)
    window.close()


def _app(db: str, nurse_opens: int | None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    # As the `monitor` console script: only the command module before main(), which starts the
    # database check and then loads SQLAlchemy, the services and the windows. Both modules wrapped
    # here are light and imported by that command module anyway.
    from monitor.cli.main import main
    from monitor.services import locations

    marks["imported"] = time.monotonic()
    _timed(locations, "check_database_file", "integrity")  # on the check's worker thread
    _timed(locations, "connect", "connect")
    user = os.environ["BENCH_USER"]
    password = os.environ["BENCH_PASSWORD"]
    app = QApplication(sys.argv[:1])
    signed: list[bool] = []

    def top_level(name: str) -> Any:
        for widget in app.topLevelWidgets():
            if type(widget).__name__ == name and widget.isVisible():
                return widget
        return None

    def tick() -> None:
        if not signed:
            dialog = top_level("SignInDialog")
            if dialog is None:
                return
            signed.append(True)
            marks["sign_in_shown"] = time.monotonic()
            dialog.form.username.setText(user)
            dialog.form.password.setText(password)
            marks["sign_in_start"] = time.monotonic()
            dialog.form.sign_in_button.click()  # the password check; the dialog accepts
            marks["sign_in_end"] = time.monotonic()  # then run_gui builds the main window
            return
        _when_shown(app, timer, lambda: top_level("MainWindow"), after)

    def after(window: Any) -> None:
        if nurse_opens is None:
            return
        # As a nurse would: pick the patient in the ward list (which opens them; else Enter), look at
        # the ward board, then at the trend of that episode.
        steps = result.setdefault("rss_steps_mb", {})
        window.episodes.select(nurse_opens)  # selecting the row opens it
        shown = window.episode_view.episode
        if shown is None or shown.id != nurse_opens:
            window.episodes.opened.emit(nurse_opens)
        app.processEvents()
        marks["episode_opened"] = time.monotonic()
        steps["episode"] = round(_rss_mb(), 1)
        window.views.setCurrentWidget(window.ward_board)
        app.processEvents()
        steps["ward_board"] = round(_rss_mb(), 1)
        window.views.setCurrentWidget(window.trend_tab)
        app.processEvents()
        marks["trend_shown"] = time.monotonic()
        steps["trend"] = round(_rss_mb(), 1)

    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(tick)
    timer.start()
    return main(["--db", db])


def run(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "bare":
        code = _bare()
    elif mode == "app":
        code = _app(argv[1], None)
    elif mode == "ward":
        code = _app(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    if "shown" not in marks:
        raise SystemExit(f"process_driver: the main window was never shown (exit code {code})")
    marks["done"] = time.monotonic()
    launched = os.environ.get("BENCH_LAUNCHED_AT")
    if launched:
        marks["launched"] = float(launched)
    result["peak_rss_mb"] = round(_peak_mb(), 1)
    result["exit_code"] = code
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
