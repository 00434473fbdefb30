"""Crash safety, proven by a test (issue 7).

A child process (crash_child.py) records assessments through ClinicalService in a loop and is killed with
SIGKILL at random moments, many times over, on the same database file (two such files side by side, to
share out the children's start-up time: 56 kills in all). After every kill:

* the database (as the dead child left it, WAL file included) passes PRAGMA integrity_check and
  foreign_key_check;
* every write whose service call had returned (a "done N" line from the child) is present, in this and
  all earlier rounds;
* nothing else is: the round's writes are exactly its confirmed ones, plus at most the one the child
  was inside when killed (committed, but killed before it could say so);
* every stored assessment is whole: all its COWS items and its audit entry, never half a transaction.

Each new child opens the database the dead one left behind, so WAL recovery at open_database is tested
too. At the end the application itself opens the file, sees every assessment, and the audit hash
chain is intact.

Most rounds wait for the child's first confirmed write and then kill it after a random delay, so the kill
lands while it is writing (inside a service call in almost every round: counted and checked); a few
rounds kill it at a random moment of start-up (importing, opening, migration check, first writes).
The delays come from a seeded random.Random: a failing round can be replayed with the same seed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.store.database import open_database
from tests.helpers import admission

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
NURSE = "rn.crash"  # the account crash_child.py records as
NOTE_PREFIX = "crash-safety seq "

SEED = 20261120
LANES = 2
ROUNDS_PER_LANE = 28  # 56 kills in all
STARTUP_KILL_EVERY = 9  # every 9th round kills the child during start-up instead of while writing
WRITE_DELAY_S = (0.05, 0.6)  # after the first confirmed write
STARTUP_DELAY_S = (0.0, 2.0)  # after the start of the process (start-up takes ~1.5 s here)
SEQ_STRIDE = 1_000_000  # round r numbers its writes from r * SEQ_STRIDE: unique across rounds
FIRST_WRITE_TIMEOUT_S = 60.0


@dataclass
class Round:
    lane: int
    number: int
    start_seq: int
    lines: list[str] = field(default_factory=list)
    first_done: threading.Event = field(default_factory=threading.Event)
    committed_unconfirmed: bool = False  # killed between the commit and its "done" line
    wal_left: int = 0  # bytes of WAL the dead child left behind (for the next child to recover)

    @property
    def where(self) -> str:
        return f"lane {self.lane} round {self.number}"

    @property
    def confirmed(self) -> set[int]:
        return {int(line.split()[1]) for line in self.lines if line.startswith("done ")}

    @property
    def begun(self) -> set[int]:
        return {int(line.split()[1]) for line in self.lines if line.startswith("begin ")}

    @property
    def killed_inside_call(self) -> bool:
        """The last line says the child was inside record_assessment when it died."""
        return bool(self.lines) and self.lines[-1].startswith("begin ")


def _read_lines(stream: IO[str], rnd: Round) -> None:
    for raw in stream:
        line = raw.strip()
        rnd.lines.append(line)
        if line.startswith("done "):
            rnd.first_done.set()


def _child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), path) if p)}


def _run_and_kill(
    db_path: Path, episode_id: int, rnd: Round, delay: float, during_startup: bool, log: Path
) -> None:
    """Start a child, kill it with SIGKILL after `delay`, return once it is dead and its output read."""
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(db_path), str(episode_id), str(rnd.start_seq)],
            cwd=REPO_ROOT,
            env=_child_env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
        )
    assert child.stdout is not None
    reader = threading.Thread(target=_read_lines, args=(child.stdout, rnd), daemon=True)
    reader.start()
    try:
        if not during_startup:
            started = rnd.first_done.wait(FIRST_WRITE_TIMEOUT_S)
            assert started or child.poll() is not None, f"{rnd.where}: no write in time"
        time.sleep(delay)
        alive = child.poll() is None
        assert alive, f"{rnd.where}: child died on its own ({child.returncode}): {log.read_text()}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        reader.join(timeout=30)
        child.stdout.close()
    assert not reader.is_alive()


def _snapshot(db_path: Path, into: Path) -> Path:
    """Copy the database and its WAL as the dead child left them (checks then never touch the original,
    so the next child meets exactly the state a crash leaves: a WAL to recover, a stale -shm)."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{db_path}{suffix}")
        if source.exists():
            shutil.copyfile(source, into / f"{db_path.name}{suffix}")
    return into / db_path.name


def _check_database(copy: Path, episode_id: int, where: str) -> dict[int, int]:
    """Integrity and wholeness of the copy; returns seq -> assessment id of the episode's assessments."""
    connection = sqlite3.connect(copy)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        assert integrity == [("ok",)], f"{where}: {integrity}"
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
        assert foreign == [], f"{where}: {foreign}"
        rows = connection.execute(
            "SELECT id, note FROM assessments WHERE episode_id = ?", (episode_id,)
        ).fetchall()
        seqs: dict[int, int] = {}
        for assessment_id, note in rows:
            assert note.startswith(NOTE_PREFIX), f"{where}: {note!r}"
            seq = int(note.removeprefix(NOTE_PREFIX))
            assert seq not in seqs, f"{where}: seq {seq} stored twice"
            seqs[seq] = assessment_id
        items = dict(
            connection.execute("SELECT assessment_id, count(*) FROM assessment_items GROUP BY assessment_id")
        )
        audited = dict(
            connection.execute(
                "SELECT entity_id, count(*) FROM audit_log "
                "WHERE entity = 'assessment' AND action = 'assessment.record' GROUP BY entity_id"
            )
        )
    finally:
        connection.close()
    for seq, assessment_id in seqs.items():
        assert items.get(assessment_id) == len(COWS.keys), (
            f"{where}: seq {seq} items {items.get(assessment_id)}"
        )
        assert audited.get(assessment_id) == 1, f"{where}: seq {seq} audit rows {audited.get(assessment_id)}"
    return seqs


@dataclass
class Lane:
    """One database file, its episode, and the rounds of kills run on it."""

    number: int
    folder: Path
    episode_id: int = 0
    rounds: list[Round] = field(default_factory=list)
    confirmed: set[int] = field(default_factory=set)
    stored: int = 0

    @property
    def db_path(self) -> Path:
        return self.folder / "monitor.sqlite"


# open_database is called from the test's main thread only: two migrations at once in one process cross
# Alembic's process-global migration context (one thread migrates the other's connection; measured: errors
# and segmentation faults). The lanes' threads only start children and read files with plain sqlite3.


def _set_up(lane: Lane) -> None:
    """A new database with the nurse the children record as and one admitted episode."""
    lane.folder.mkdir()
    db = open_database(path=lane.db_path)
    try:
        service = ClinicalService(db, zone_name="Europe/Berlin")
        service.ensure_user(NURSE, "Crash Nurse", "nurse")
        lane.episode_id = service.admit(NURSE, admission(datetime.now(UTC), mrn=f"K-{lane.number}"))
    finally:
        db.dispose()


def _run_rounds(lane: Lane, stop: threading.Event) -> None:
    """The kills on one lane; a failure stops the other lanes at their next round."""
    try:
        _kill_and_check(lane, stop)
    except BaseException:
        stop.set()
        raise


def _kill_and_check(lane: Lane, stop: threading.Event) -> None:
    rng = random.Random(SEED + lane.number)
    for number in range(ROUNDS_PER_LANE):
        if stop.is_set():
            return
        rnd = Round(lane=lane.number, number=number, start_seq=number * SEQ_STRIDE)
        during_startup = number % STARTUP_KILL_EVERY == STARTUP_KILL_EVERY - 1
        delay = rng.uniform(*(STARTUP_DELAY_S if during_startup else WRITE_DELAY_S))
        _run_and_kill(lane.db_path, lane.episode_id, rnd, delay, during_startup, lane.folder / "stderr.txt")
        lane.rounds.append(rnd)

        where = rnd.where
        wal = Path(f"{lane.db_path}-wal")
        rnd.wal_left = wal.stat().st_size if wal.exists() else 0
        stored = _check_database(_snapshot(lane.db_path, lane.folder / "check"), lane.episode_id, where)
        lane.confirmed |= rnd.confirmed
        lost = lane.confirmed - stored.keys()
        assert not lost, f"{where}: confirmed writes lost: {sorted(lost)}"
        # This round's writes: its confirmed ones, in order from start_seq, plus at most the one the
        # child had begun when it died. Anything else would be a write from nowhere.
        mine = sorted(s for s in stored if rnd.start_seq <= s < rnd.start_seq + SEQ_STRIDE)
        assert mine == list(range(rnd.start_seq, rnd.start_seq + len(mine))), f"{where}: gaps {mine}"
        extra = set(mine) - rnd.confirmed
        assert len(extra) <= 1 and extra <= rnd.begun, f"{where}: unconfirmed writes {extra}"
        rnd.committed_unconfirmed = bool(extra)
        lane.stored = len(stored)


def _check_with_the_application(lane: Lane) -> None:
    """The application opens what the last kill left, sees every confirmed write; the audit chain holds."""
    db = open_database(path=lane.db_path)
    try:
        service = ClinicalService(db, zone_name="Europe/Berlin")
        notes = {a.note for a in service.assessments(lane.episode_id)}
        missing = {f"{NOTE_PREFIX}{s}" for s in lane.confirmed} - notes
        assert not missing, f"lane {lane.number}: the application does not see {sorted(missing)}"
        report = service.verify_audit_chain()
        assert report.intact, f"lane {lane.number}: {report.problem}"
    finally:
        db.dispose()


def test_killed_writer_never_corrupts_or_loses_a_confirmed_write(tmp_path: Path) -> None:
    """SIGKILL recording children LANES x ROUNDS_PER_LANE times: files stay sound, no confirmed write lost."""
    lanes = [Lane(n, tmp_path / f"lane{n}") for n in range(LANES)]
    for lane in lanes:
        _set_up(lane)
    started = time.monotonic()
    # Lanes run side by side on separate files only to share out the children's start-up time.
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="crash-lane") as pool:
        for future in [pool.submit(_run_rounds, lane, stop) for lane in lanes]:
            future.result()
    elapsed = time.monotonic() - started
    for lane in lanes:
        _check_with_the_application(lane)

    rounds = [r for lane in lanes for r in lane.rounds]
    writing = [r for r in rounds if r.confirmed]
    inside = [r for r in rounds if r.killed_inside_call]
    committed_unconfirmed = sum(r.committed_unconfirmed for r in rounds)
    confirmed = sum(len(lane.confirmed) for lane in lanes)
    per_round = sorted(len(r.confirmed) for r in rounds)
    print(
        f"\ncrash safety: {len(rounds)} kills in {elapsed:.1f} s, {confirmed} confirmed writes "
        f"(per round min {per_round[0]}, median {per_round[len(per_round) // 2]}, max {per_round[-1]}), "
        f"{len(writing)} rounds killed after confirmed writes, {len(inside)} inside record_assessment "
        f"({committed_unconfirmed} of those had committed), {sum(lane.stored for lane in lanes)} stored, "
        f"{sum(1 for r in rounds if r.wal_left)} kills left a WAL behind"
    )
    # Not vacuous: the children really were writing when killed, mostly inside a service call.
    assert len(rounds) >= 50
    assert len(writing) >= 0.8 * len(rounds), f"only {len(writing)} rounds had confirmed writes"
    assert len(inside) >= 0.5 * len(rounds), f"only {len(inside)} kills landed inside record_assessment"
    assert confirmed > len(rounds), f"only {confirmed} confirmed writes"
    # Kills that left WAL frames behind (for the next child to recover) are counted above but not
    # required: the app closes its connection after every write, which checkpoints the WAL, so frames
    # survive only a kill between a commit and that close. That window is a matter of timing: loaded
    # machines hit it 5-19 times in 56 kills, a quick CI run once hit it 0 times.
