"""Benchmarks with budgets (issue 9): each figure next to a bare baseline measured in the same run, as a
ratio, with the median of several runs. Not a test: `make test` does not run it.

    make bench            (or: .venv/bin/python bench/run.py [--runs N] [--only GROUP ...] [--keep])

It builds its own realistic data first (bench/ward_data.py: a ward of 60 open episodes with 7 days of
COWS every 2-4 h, antagonist ladders and comfort medicines, and one long stay of 20,000 assessments),
then runs each group (GROUPS below), prints every figure with its budget verdict and writes them all to
bench/results.json so changes can be compared. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import BenchContext, Figure  # noqa: E402

RESULTS = Path(__file__).with_name("results.json")

# Each group is a module under bench/ with measure(ctx: BenchContext) -> dict[str, Figure].
GROUPS = {
    "services": "bench.service_figures",  # record one COWS, evaluate the ward's alerts, import 1,000
    "screens": "bench.screen_figures",  # open the long stay, refresh the ward board
    "trend": "bench.trend_redraw",  # redraw the trend chart with 20,000 points
    "process": "bench.process_figures",  # cold start, peak memory
}


def _print_figure(name: str, figure: Figure) -> None:
    line = f"{name:38s} {figure.value:9.2f} {figure.unit}"
    ratio = figure.ratio
    if figure.baseline is not None:
        line += f"   bare {figure.baseline:8.2f} {figure.unit}"
        line += f"   ratio {ratio:5.2f}" if ratio is not None else ""
    verdict = figure.within_budget
    if verdict is not None:
        limits = []
        if figure.budget is not None:
            limits.append(f"<= {figure.budget:g} {figure.unit}")
        if figure.budget_ratio is not None:
            limits.append(f"ratio <= {figure.budget_ratio:g}")
        line += f"   budget {', '.join(limits)}: {'yes' if verdict else 'NO'}"
    print(line)
    for key, value in figure.extra.items():
        print(f"    {key}: {value:.2f}" if isinstance(value, float) else f"    {key}: {value}")
    print(f"    {figure.what}")


def _environment() -> dict[str, str]:
    import pyqtgraph as pg
    import PySide6
    import sqlalchemy

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "pyqtgraph": pg.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "qpa": os.environ.get("QT_QPA_PLATFORM", ""),
        "cpus": str(os.cpu_count()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="timed runs per figure (median reported)")
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), help="run only these groups")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder with the data")
    args = parser.parse_args()
    groups = args.only or list(GROUPS)

    from bench.ward_data import build_ward

    work = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    figures: dict[str, Figure] = {}
    try:
        started = time.perf_counter()
        ward_db = work / "ward.sqlite"
        ward = build_ward(ward_db)
        print(f"built the benchmark ward in {time.perf_counter() - started:.1f} s: {ward.summary()}")
        ctx = BenchContext(runs=args.runs, work=work, ward_db=ward_db, ward=ward)
        for group in groups:
            started = time.perf_counter()
            module = importlib.import_module(GROUPS[group])
            figures.update(module.measure(ctx))
            print(f"group {group}: {time.perf_counter() - started:.1f} s")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"Withdrawal monitor benchmarks — median of {args.runs} runs unless said, {platform.platform()}")
    print()
    over = []
    for name, figure in figures.items():
        _print_figure(name, figure)
        if figure.within_budget is False:
            over.append(name)
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": args.runs,
        "groups": groups,
        "environment": _environment(),
        "figures": {name: figure.as_json() for name, figure in figures.items()},
    }
    if args.only and RESULTS.exists():  # a partial run keeps the other groups' last figures
        previous = json.loads(RESULTS.read_text(encoding="utf-8")).get("figures", {})
        results["figures"] = {**previous, **results["figures"]}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print()
    print(f"wrote {RESULTS}")
    print("every budgeted figure within budget" if not over else f"OVER BUDGET: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
