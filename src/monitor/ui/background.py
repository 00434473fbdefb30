"""One piece of work off the GUI thread (an automatic backup), its end reported back on the GUI thread.

The alarm, the alert bar and typing must never wait for a file copy: the work runs in a QThread, and
`done` or `failed` arrive through queued signals. Exports, which also report progress, have their own
worker in export_dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal

from monitor.ui.errors import describe


class _Worker(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__()
        self.work = work

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # in words for the screen; describe() logs without patient data
            self.failed.emit(describe(exc))
            return
        self.done.emit(result)


class BackgroundTask(QObject):
    """Runs `work` in a worker thread each time start() is called (never two at once)."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self._thread: QThread | None = None
        self._worker: _Worker | None = None

    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> bool:
        """Start the work unless it is still running from last time; True if it started."""
        if self._thread is not None:
            return False
        thread = QThread(self)
        worker = _Worker(self.work)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self.done)
        worker.failed.connect(self.failed)
        # Direct: quit() is thread-safe and must not wait for a GUI thread that may be in wait().
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._finished)
        self._thread, self._worker = thread, worker
        thread.start()
        return True

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until the running work ends (closing the window, tests)."""
        if self._thread is None:
            return True
        ended = self._thread.wait(timeout_ms)
        self._finished()
        return bool(ended)

    def _finished(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
        if self._worker is not None:
            self._worker.deleteLater()
        self._thread, self._worker = None, None
