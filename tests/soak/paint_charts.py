"""Paint many pyqtgraph charts offscreen (run as a subprocess by test_soak.py).

PySide6 6.12.0 on Python 3.11 aborts ("Fatal Python error: none_dealloc") after enough calls of a
None-returning method; pyqtgraph's axes call QPainter.setRenderHint on every paint. A crash here kills
this process, not the test runner, which then reports the exit status.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication


def main(paints: int, hint_calls: int) -> int:
    app = QApplication.instance() or QApplication([])
    widget = pg.PlotWidget()
    widget.resize(800, 400)
    x = np.arange(2000, dtype=float)
    widget.plot(x, np.sin(x / 50) * 20 + 20)
    widget.show()
    for number in range(paints):
        image = widget.grab()
        painter = QPainter(image)
        for _ in range(hint_calls):  # the pattern of the known crash: many None-returning calls
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.end()
        if number % 50 == 0:
            app.processEvents()
    print(f"painted {paints} charts")
    widget.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
