"""What every benchmark group shares: the figure record, timing helpers and the run's context.

A figure is one measured number with what it means, the bare baseline measured in the same run (when
the issue names one), and its budget: an absolute one (ms or MB) and/or a ratio to the baseline.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    what: str
    value: float
    unit: str = "ms"
    baseline: float | None = None
    budget: float | None = None  # absolute, in `unit`
    budget_ratio: float | None = None  # value / baseline
    samples: int = 1
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. p50 next to a p95 figure

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.value / self.baseline

    @property
    def within_budget(self) -> bool | None:
        """None when nothing is budgeted (a figure reported for comparison only)."""
        verdicts = []
        if self.budget is not None:
            verdicts.append(self.value <= self.budget)
        if self.budget_ratio is not None:
            ratio = self.ratio
            verdicts.append(ratio is not None and ratio <= self.budget_ratio)
        return all(verdicts) if verdicts else None

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"what": self.what, "unit": self.unit, "value": round(self.value, 2)}
        if self.baseline is not None:
            entry["baseline"] = round(self.baseline, 2)
            ratio = self.ratio
            entry["ratio"] = None if ratio is None else round(ratio, 2)
        if self.budget is not None:
            entry["budget"] = self.budget
        if self.budget_ratio is not None:
            entry["budget_ratio"] = self.budget_ratio
        entry["within_budget"] = self.within_budget
        entry["samples"] = self.samples
        entry.update({key: round(v, 2) if isinstance(v, float) else v for key, v in self.extra.items()})
        return entry


@dataclass(frozen=True)
class BenchContext:
    """Handed to every group's measure(): how many runs, and the data built once for the whole run."""

    runs: int
    work: Path  # a scratch folder for this run (deleted afterwards unless --keep)
    ward_db: Path  # the ward database (bench/ward_data.py): 60 open episodes plus the long stay
    ward: Any  # bench.ward_data.WardData: ids and counts of what was built


def median_between(
    action: Callable[[], object], after: Callable[[], object], runs: int, warmup: int = 3
) -> float:
    """Median time in ms of action(); after() runs between timed runs, untimed."""
    return statistics.median(timed_samples(action, after, runs, warmup))


def medians_interleaved(
    action: Callable[[], object],
    baseline: Callable[[], object],
    after: Callable[[], object],
    runs: int,
    warmup: int = 3,
) -> tuple[float, float]:
    """Median times in ms of action() and of its bare baseline(), timed alternately (action, baseline,
    action, ...) so that a change in the machine's speed during the measurement hits both alike;
    after() runs after each, untimed."""
    for _ in range(warmup):
        for run in (action, baseline):
            run()
            after()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for run, into in ((action, samples[0]), (baseline, samples[1])):
            started = time.perf_counter()
            run()
            into.append((time.perf_counter() - started) * 1000)
            after()
    return statistics.median(samples[0]), statistics.median(samples[1])


def timed_samples(
    action: Callable[[], object], after: Callable[[], object], runs: int, warmup: int = 3
) -> list[float]:
    """Each timed run of action() in ms, after `warmup` untimed ones; after() runs between, untimed."""
    for _ in range(warmup):
        action()
        after()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
        after()
    return samples


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between the nearest ranks."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
