"""Soak test for the PySide6 6.12.0 / Python 3.11 crash (design.md, Known hazards).

Runs the chart painting in a child process: the crash aborts the interpreter, so only a subprocess
can observe it and report it as a failure instead of killing the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("paint_charts.py")


def test_painting_many_charts_does_not_abort_the_process() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # 300 paints x 2,000 None-returning calls: enough to abort 6.12.0 on 3.11 (measured 2026-11).
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "300", "2000"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert "none_dealloc" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "painted 300 charts" in result.stdout
