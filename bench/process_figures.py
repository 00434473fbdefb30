"""Benchmark group: the app as a process (issue 9). Figures:
- cold_start: from starting `monitor --db WARD` (a fresh interpreter) to its main window shown on the
  benchmark ward, signed in through the real sign-in dialog; against a bare script that imports PySide6
  and pyqtgraph and shows an empty main window. Budget: ratio 2.0. Median of several runs, app and bare
  alternating so the machine's noise hits both; where the app's time goes is printed beside it.
- peak_memory: the peak RSS of the app once a nurse has the ward open, the long stay (20,000
  assessments) opened at the bedside, the ward board and that episode's trend looked at. Budget 300 MB;
  the bare script's peak RSS for reference.

Each run is a subprocess of bench/process_driver.py (see there how it signs in without any bypass in
the app), offscreen, with its own scratch home folders so it neither reads nor writes the user's
settings and logs, on a copy of the ward database (the sign-ins' audit rows stay out of the ward the
other groups measure). One untimed run of each first: it fills the OS file cache and makes the ward's
first automatic backup, which later starts only check for, and compiles the bytecode of the monitor
package (into the scratch folder) as an installed app has it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BenchContext, Figure

DRIVER = Path(__file__).with_name("process_driver.py")
COLD_START_RATIO = 2.0
PEAK_MEMORY_MB = 300.0
MAX_START_RUNS = 9  # each run is a whole app start (about 3 s): --runs 25 would take minutes
MEMORY_RUNS = 3  # the peak RSS varies little


def _environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("MONITOR_USER", None)
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(folder / name.lower())
    env["MONITOR_CONFIG_DIR"] = str(folder / "monitor-config")
    # As installed (pip compiles the bytecode): the warm-up run writes the monitor package's bytecode,
    # here rather than into the source tree, even where the shell sets PYTHONDONTWRITEBYTECODE.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy (sqlite's backup API: WAL frames included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _drive(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One process: its JSON report, with times in ms from its launch."""
    launched = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(DRIVER), *args],
        env={**env, "BENCH_LAUNCHED_AT": repr(launched)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    ended = time.monotonic()
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise RuntimeError(f"{DRIVER.name} {args[0]} failed (exit {done.returncode}):\n{tail}")
    report: dict[str, Any] = json.loads(lines[-1])
    marks = report["marks"]
    report["ms"] = {key: (value - launched) * 1000 for key, value in marks.items()}
    report["ms"]["exited"] = (ended - launched) * 1000
    return report


def _between(report: dict[str, Any], start: str, end: str) -> float:
    ms = report["ms"]
    return float(ms[end] - ms[start])


def _median(reports: list[dict[str, Any]], start: str, end: str) -> float:
    return statistics.median(_between(r, start, end) for r in reports)


def measure(ctx: BenchContext) -> dict[str, Figure]:
    folder = ctx.work / "process"
    folder.mkdir(exist_ok=True)
    env = _environment(folder)
    env["BENCH_USER"] = ctx.ward.nurse_username
    env["BENCH_PASSWORD"] = ctx.ward.password
    ward_db = folder / "ward.sqlite"
    _copy_database(ctx.ward_db, ward_db)
    app_args = ["app", str(ward_db)]
    ward_args = ["ward", str(ward_db), str(ctx.ward.long_stay_episode_id)]

    _drive(["bare"], env)  # warm-up: file cache, and the ward's first automatic backup
    _drive(app_args, env)
    runs = max(3, min(ctx.runs, MAX_START_RUNS))
    bare: list[dict[str, Any]] = []
    app: list[dict[str, Any]] = []
    for _ in range(runs):
        bare.append(_drive(["bare"], env))
        app.append(_drive(app_args, env))
    ward = [_drive(ward_args, env) for _ in range(MEMORY_RUNS)]

    parts = {
        "app: interpreter start": ("launched", "driver"),
        "app: imports (PySide6 and the command module)": ("driver", "imported"),
        "app: imports (SQLAlchemy, services, windows) while the database is checked": (
            "imported",
            "connect_start",
        ),
        "app: database integrity check (worker thread, beside the imports)": (
            "integrity_start",
            "integrity_end",
        ),
        "app: database open (migrations check)": ("connect_start", "connect_end"),
        "app: UI imports and the sign-in dialog shown": ("connect_end", "sign_in_shown"),
        "app: sign-in (argon2 password check)": ("sign_in_start", "sign_in_end"),
        "app: main window built, shown and painted": ("sign_in_end", "shown"),
        "app: close and exit after shown": ("shown", "exited"),
    }
    start_extra: dict[str, Any] = {
        f"{name} (ms)": round(_median(app, start, end), 1) for name, (start, end) in parts.items()
    }
    start_extra["bare: imports PySide6 and pyqtgraph (ms)"] = round(_median(bare, "driver", "imported"), 1)
    start_extra["bare: close and exit after shown (ms)"] = round(_median(bare, "shown", "exited"), 1)
    start_extra["app runs (ms)"] = sorted(round(_between(r, "launched", "shown")) for r in app)
    start_extra["bare runs (ms)"] = sorted(round(_between(r, "launched", "shown")) for r in bare)

    peak = statistics.median(r["peak_rss_mb"] for r in ward)
    memory_extra: dict[str, Any] = {
        "RSS with the main window on the ward (MB)": statistics.median(r["rss_shown_mb"] for r in ward),
        "RSS with the long stay open at the bedside (MB)": statistics.median(
            r["rss_steps_mb"]["episode"] for r in ward
        ),
        "RSS after the ward board (MB)": statistics.median(r["rss_steps_mb"]["ward_board"] for r in ward),
        "RSS after the long stay's trend (MB)": statistics.median(r["rss_steps_mb"]["trend"] for r in ward),
        "open the long stay at the bedside (ms)": round(_median(ward, "shown", "episode_opened"), 1),
        "peak RSS at start, no episode open (MB)": statistics.median(r["peak_rss_mb"] for r in app),
    }
    return {
        "cold_start": Figure(
            what="from starting `monitor --db WARD` to its main window painted on the 60-bed ward, "
            "signed in by a nurse (fresh process, offscreen); bare: import PySide6 + pyqtgraph, "
            "show an empty QMainWindow",
            value=_median(app, "launched", "shown"),
            baseline=_median(bare, "launched", "shown"),
            budget_ratio=COLD_START_RATIO,
            samples=runs,
            extra=start_extra,
        ),
        "peak_memory": Figure(
            what="peak RSS of the app with the ward open, the long stay (20,000 assessments) opened "
            "at the bedside, the ward board and its trend viewed; bare: the bare script's peak RSS",
            value=peak,
            unit="MB",
            baseline=statistics.median(r["peak_rss_mb"] for r in bare),
            budget=PEAK_MEMORY_MB,
            samples=MEMORY_RUNS,
            extra=memory_extra,
        ),
    }


if __name__ == "__main__":  # development: python -m bench.process_figures WARD.sqlite (builds none)
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class _Ward:
        nurse_username: str
        password: str
        long_stay_episode_id: int

    import tempfile

    database = Path(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="monitor-bench-process-") as scratch:
        context = BenchContext(
            runs=int(sys.argv[5]) if len(sys.argv) > 5 else 3,
            work=Path(scratch),
            ward_db=database,
            ward=_Ward(sys.argv[2], sys.argv[3], int(sys.argv[4])),
        )
        for key, figure in measure(context).items():
            print(key, json.dumps(figure.as_json(), indent=1))
