"""Benchmark group: the services (issue 9), each next to a bare baseline measured in the same run.

- record_cows_p95: one COWS recorded through ClinicalService.record_assessment (validation, audit row,
  alert evaluation of the episode, durable commit) on a copy of the ward, against a bare sqlite3 insert
  and commit of one row with the same pragmas (WAL, synchronous=FULL). The two are interleaved sample
  by sample, so the machine's noise hits both alike. Budget: ratio 5 at p95.
- record_cows_p95_without_evaluation: the same writes with the alert evaluation left out (patched out
  here, never in the app), for reference: what of the write is the evaluation. No budget.
- evaluate_ward_alerts: ClinicalService.refresh_alerts(), the GUI timer's call, on the ward in its
  steady state (every episode's alert schedule up to date, as after the app has run a while): it
  evaluates only the episodes whose findings can have changed since (none, mostly), checks escalation
  for all, and returns the alert list. Budget: 20 ms.
- evaluate_ward_alerts_full: refresh_alerts(full=True): every alert rule for every open episode, as a
  protocol change (or the first tick on a database from before the schedule) costs. No budget.
- import_1000_episodes: 1,000 generated episodes through ClinicalService.import_episodes into a fresh
  database, against a bare sqlite3 executemany of the same clinical rows into an empty database of the
  same schema. No budget; the ratio is reported.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
import unittest.mock
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import BenchContext, Figure, percentile, timed_samples
from bench.ward_data import BENCH_NURSE, cows_items
from monitor.domain import scales
from monitor.io.episode_json import (
    AssessmentRecord,
    DoseRecordIn,
    EpisodeRecord,
    PatientRecord,
    SubstanceRecord,
    VitalsRecordIn,
)
from monitor.services import alerting, locations, timeline_builder
from monitor.services.views import AssessmentInput
from monitor.store.database import backup_sqlite_file
from monitor.store.models import Base

RECORD_SAMPLES = 200
RECORD_BUDGET_RATIO = 5.0
ALERTS_BUDGET_MS = 20.0
IMPORT_EPISODES = 1_000
IMPORT_RUNS = 3


def _copy_ward(ctx: BenchContext, name: str) -> Path:
    target = ctx.work / name
    return backup_sqlite_file(ctx.ward_db, target)


# --- record one COWS --------------------------------------------------------------------------------


def _bare_connection(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the app's pragmas: WAL and synchronous=FULL."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS assessment "
        "(id INTEGER PRIMARY KEY, episode_id INTEGER, taken_at TEXT, total INTEGER, pulse_bpm INTEGER)"
    )
    return connection


def record_cows(ctx: BenchContext, *, evaluate: bool = True) -> Figure:
    """evaluate=False: the same writes with the alert evaluation left out (a reference figure: how much
    of the write is the evaluation)."""
    path = _copy_ward(ctx, "record.sqlite" if evaluate else "record-no-evaluation.sqlite")
    service = locations.connect(path=path)  # the system clock: "now" is real time
    bare = _bare_connection(ctx.work / "bare-record.sqlite")
    rng = random.Random(90)
    episodes = list(ctx.ward.ward_episode_ids)
    nurse = ctx.ward.nurse_username
    samples = max(RECORD_SAMPLES, ctx.runs)
    service_ms: list[float] = []
    bare_ms: list[float] = []
    left_out = unittest.mock.patch.object(alerting.AlertingMixin, "_after_write", lambda *_args: None)
    try:
        if not evaluate:
            left_out.start()
        for k in range(samples + 5):  # 5 untimed warm-ups
            items, bpm = cows_items(rng.randint(2, 16), rng)
            entry = AssessmentInput(
                taken_at=datetime.now(UTC) - timedelta(minutes=rng.randint(1, 20)),
                items=dict(items),
                pulse_bpm=bpm,
            )
            episode_id = episodes[k % len(episodes)]
            started = time.perf_counter()
            service.record_assessment(nurse, episode_id, entry)
            elapsed = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            bare.execute("BEGIN")
            bare.execute(
                "INSERT INTO assessment (episode_id, taken_at, total, pulse_bpm) VALUES (?, ?, ?, ?)",
                (episode_id, entry.taken_at.isoformat(), sum(items.values()), bpm),
            )
            bare.execute("COMMIT")
            bare_elapsed = (time.perf_counter() - started) * 1000
            if k >= 5:
                service_ms.append(elapsed)
                bare_ms.append(bare_elapsed)
    finally:
        if not evaluate:
            left_out.stop()
        bare.close()
        service.db.dispose()
    p95, bare_p95 = percentile(service_ms, 95), percentile(bare_ms, 95)
    p50, bare_p50 = percentile(service_ms, 50), percentile(bare_ms, 50)
    what = (
        "record one COWS through the services (validation, audit row, alert evaluation of the "
        "episode, durable commit), p95 over ward episodes, vs a bare sqlite3 insert+commit of one "
        "row (journal_mode=WAL and synchronous=FULL, as the app) in the same run, interleaved"
    )
    if not evaluate:
        what = (
            "for reference: the same, with the alert evaluation left out (the write's validation, "
            "audit row and durable commit alone)"
        )
    return Figure(
        what=what,
        value=p95,
        baseline=bare_p95,
        budget_ratio=RECORD_BUDGET_RATIO if evaluate else None,
        samples=samples,
        extra={"p50": p50, "baseline_p50": bare_p50, "ratio_p50": p50 / bare_p50 if bare_p50 else 0.0},
    )


# --- evaluate every alert rule for the ward -------------------------------------------------------


def evaluate_ward(ctx: BenchContext) -> tuple[Figure, Figure]:
    path = _copy_ward(ctx, "alerts.sqlite")
    service = locations.connect(path=path)  # the system clock: "now" is real time
    evaluated: list[int] = []

    def counting(session: Any, episodes: Any) -> Any:
        evaluated.append(len(episodes))
        return timeline_builder.build_timelines(session, episodes)

    # Counts the episodes each tick evaluates (their timelines built), for the figure's text.
    counted = unittest.mock.patch.object(alerting, "build_timelines", counting)
    try:
        with counted:
            episodes = len(service.open_episodes())
            # Untimed ticks first bring the schedule up to now (what fell due since the ward was built).
            for _ in range(3):
                service.refresh_alerts()
            evaluated.clear()
            steady = timed_samples(service.refresh_alerts, lambda: None, ctx.runs, warmup=0)
            steady_evaluated = sum(evaluated)
            full = timed_samples(lambda: service.refresh_alerts(full=True), lambda: None, ctx.runs)
    finally:
        service.db.dispose()
    tick = Figure(
        what=(
            f"refresh_alerts(), the GUI timer's tick, on the ward in its steady state ({episodes} open "
            "episodes: the ward and the long stay, every alert schedule up to date as after the app "
            "has run): evaluates only the episodes whose findings can have changed since their last "
            f"evaluation ({steady_evaluated} episode evaluations over the {ctx.runs} timed ticks), "
            "checks escalation of every open episode's high alerts from the alert tables, returns the "
            "alert list; one write transaction"
        ),
        value=statistics.median(steady),
        budget=ALERTS_BUDGET_MS,
        samples=ctx.runs,
        extra={"evaluated_episodes": steady_evaluated},
    )
    everything = Figure(
        what=(
            f"refresh_alerts(full=True): every alert rule for every open episode ({episodes}) and the "
            "stored alerts brought in line, in one write transaction: what a protocol change costs "
            "(and the first tick on a database from before the schedule); reference, no budget"
        ),
        value=statistics.median(full),
        samples=ctx.runs,
    )
    return tick, everything


# --- import 1,000 episodes ----------------------------------------------------------------------------


def import_records(count: int, now: datetime, seed: int = 1000) -> list[EpisodeRecord]:
    """Finished 2-day stays of the past months: COWS every 4 h (13), clonidine every 6 h, one naloxone
    challenge with its flowsheet COWS, vital signs every 8 h; charted by the importing nurse."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        admitted = now - timedelta(days=10 + number * 0.2, minutes=rng.randint(0, 600))
        taken = [admitted + timedelta(hours=1 + 4 * k) for k in range(12)]
        challenge = admitted + timedelta(hours=27, minutes=20)
        taken += [challenge - timedelta(minutes=10), challenge + timedelta(minutes=30)]
        assessments = []
        for moment in sorted(taken):
            items, bpm = cows_items(rng.randint(2, 18), rng)
            assessments.append(AssessmentRecord("COWS", moment, BENCH_NURSE, items, bpm))
        doses = [
            DoseRecordIn("clonidine", "oral", 0.1, admitted + timedelta(hours=2 + 6 * k), BENCH_NURSE)
            for k in range(7)
        ]
        doses.append(DoseRecordIn("naloxone", "sc", 0.8, challenge, BENCH_NURSE))
        vitals = [
            VitalsRecordIn(
                taken_at=admitted + timedelta(hours=1 + 8 * k),
                by=BENCH_NURSE,
                pulse_bpm=rng.randint(60, 104),
                systolic=rng.randint(100, 140),
                diastolic=rng.randint(62, 90),
                resp_rate=rng.randint(12, 20),
                spo2=rng.randint(94, 99),
                temp_c=round(rng.uniform(36.3, 37.5), 1),
            )
            for k in range(6)
        ]
        records.append(
            EpisodeRecord(
                where="episode",
                patient=PatientRecord(
                    f"I-{number + 1:05d}", f"Import Patient {number + 1:04d}", None, "unknown"
                ),
                admitted_at=admitted,
                discharged_at=admitted + timedelta(hours=48),
                bed=f"I{number % 30 + 1}",
                substances=(
                    SubstanceRecord("heroin", admitted - timedelta(hours=20), "daily", "intravenous"),
                ),
                assessments=tuple(assessments),
                doses=tuple(sorted(doses, key=lambda d: d.given_at)),
                vitals=tuple(vitals),
            )
        )
    return records


def _sqlite_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (naive UTC text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _bare_rows(records: Sequence[EpisodeRecord], now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    """The clinical rows the import writes, as plain tuples with ids given here."""
    stamp, zone = _sqlite_time(now), "UTC"
    rows: dict[str, list[tuple[Any, ...]]] = {
        k: []
        for k in (
            "patients",
            "episodes",
            "substance_uses",
            "assessments",
            "assessment_items",
            "doses",
            "vitals",
        )
    }
    assessment_id = dose_id = vitals_id = use_id = 0
    for number, record in enumerate(records, start=1):
        p = record.patient
        rows["patients"].append((number, p.mrn, p.name, p.birth_date, p.sex, stamp, 1))
        rows["episodes"].append(
            (
                number,
                number,
                _sqlite_time(record.admitted_at),
                record.bed,
                stamp,
                1,
                zone,
                _sqlite_time(record.discharged_at) if record.discharged_at else None,
                1,
                "",
            )
        )
        for use in record.substances:
            use_id += 1
            last = _sqlite_time(use.last_use_at) if use.last_use_at else None
            rows["substance_uses"].append((use_id, number, use.substance, last, use.amount, use.route))
        for a in record.assessments:
            assessment_id += 1
            result = scales.score(scales.SCALES[a.scale], a.items)
            rows["assessments"].append(
                (
                    assessment_id,
                    number,
                    a.scale,
                    _sqlite_time(a.taken_at),
                    stamp,
                    1,
                    zone,
                    result.total,
                    a.pulse_bpm,
                    a.note,
                    "imported",
                    None,
                    1,
                    None,
                    "",
                )
            )
            rows["assessment_items"] += [(assessment_id, key, value) for key, value in result.answers.items()]
        for d in record.doses:
            dose_id += 1
            rows["doses"].append(
                (
                    dose_id,
                    number,
                    d.drug,
                    d.form,
                    d.dose_mg,
                    _sqlite_time(d.given_at),
                    stamp,
                    1,
                    zone,
                    "",
                    "",
                    "[]",
                    "",
                )
            )
        for v in record.vitals:
            vitals_id += 1
            rows["vitals"].append(
                (
                    vitals_id,
                    number,
                    _sqlite_time(v.taken_at),
                    stamp,
                    1,
                    zone,
                    v.pulse_bpm,
                    v.systolic,
                    v.diastolic,
                    v.resp_rate,
                    v.spo2,
                    v.temp_c,
                    "",
                    "",
                )
            )
    return rows


_BARE_COLUMNS = {
    "patients": ("id", "mrn", "name", "birth_date", "sex", "created_at", "created_by_id"),
    "episodes": (
        "id",
        "patient_id",
        "admitted_at",
        "bed",
        "recorded_at",
        "admitted_by_id",
        "tz_name",
        "discharged_at",
        "discharged_by_id",
        "discharge_note",
    ),
    "substance_uses": ("id", "episode_id", "substance", "last_use_at", "amount", "route"),
    "assessments": (
        "id",
        "episode_id",
        "scale",
        "taken_at",
        "recorded_at",
        "recorded_by_id",
        "tz_name",
        "total",
        "pulse_bpm",
        "note",
        "late_reason",
        "root_id",
        "version",
        "replaces_id",
        "amend_reason",
    ),
    "assessment_items": ("assessment_id", "item_key", "value"),
    "doses": (
        "id",
        "episode_id",
        "drug",
        "form",
        "dose_mg",
        "given_at",
        "recorded_at",
        "recorded_by_id",
        "tz_name",
        "note",
        "late_reason",
        "warnings_json",
        "warning_reason",
    ),
    "vitals": (
        "id",
        "episode_id",
        "taken_at",
        "recorded_at",
        "recorded_by_id",
        "tz_name",
        "pulse_bpm",
        "systolic",
        "diastolic",
        "resp_rate",
        "spo2",
        "temp_c",
        "note",
        "late_reason",
    ),
}


def _empty_database(path: Path) -> None:
    """A new database with the app's schema (its migrations) and the importing nurse."""
    service = locations.connect(path=path)
    try:
        service.ensure_user(BENCH_NURSE, "Bench Nurse", "nurse")
    finally:
        service.db.dispose()


def _bare_import(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for table, columns in _BARE_COLUMNS.items():
            marks = ", ".join("?" for _ in columns)
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows[table]
            )
        connection.execute("COMMIT")
        return (time.perf_counter() - started) * 1000
    finally:
        connection.close()


def import_episodes(ctx: BenchContext) -> Figure:
    for table, columns in _BARE_COLUMNS.items():  # the bare rows must fit the app's schema as it is
        missing = set(Base.metadata.tables[table].columns.keys()) - set(columns)
        assert not missing, f"bare import of {table} misses {missing}"
    now = datetime.now(UTC).replace(microsecond=0)
    records = import_records(IMPORT_EPISODES, now)
    rows = _bare_rows(records, now)
    service_ms: list[float] = []
    bare_ms: list[float] = []
    for run in range(IMPORT_RUNS):
        target = ctx.work / f"import-{run}.sqlite"
        _empty_database(target)
        service = locations.connect(path=target)
        try:
            started = time.perf_counter()
            service.import_episodes(BENCH_NURSE, records, source="bench import")
            service_ms.append((time.perf_counter() - started) * 1000)
        finally:
            service.db.dispose()
        bare_target = ctx.work / f"import-bare-{run}.sqlite"
        _empty_database(bare_target)
        bare_ms.append(_bare_import(bare_target, rows))
    counts = {table: len(table_rows) for table, table_rows in rows.items()}
    return Figure(
        what=(
            f"import {IMPORT_EPISODES:,} finished episodes ({counts['assessments']:,} COWS, "
            f"{counts['doses']:,} doses, {counts['vitals']:,} vital sign sets) through the services "
            "(one audited transaction, every record checked and audited, alerts evaluated) into a fresh "
            "database, vs a bare sqlite3 executemany of the same clinical rows (no audit) into an empty "
            f"database of the same schema; median of {IMPORT_RUNS} runs"
        ),
        value=statistics.median(service_ms),
        baseline=statistics.median(bare_ms),
        samples=IMPORT_RUNS,
        extra={"episodes": IMPORT_EPISODES},
    )


def measure(ctx: BenchContext) -> dict[str, Figure]:
    tick, full = evaluate_ward(ctx)
    return {
        "record_cows_p95": record_cows(ctx),
        "record_cows_p95_without_evaluation": record_cows(ctx, evaluate=False),
        "evaluate_ward_alerts": tick,
        "evaluate_ward_alerts_full": full,
        "import_1000_episodes": import_episodes(ctx),
    }
