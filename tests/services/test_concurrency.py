"""Two workstations at once (issue 7): on either backend, writers take turns, so two people doing the
same thing meet a clean "already done" instead of a lost or doubled write, and the audit chain stays
one chain. Each workstation here has its own Database (its own connections), as two processes would;
the last test runs two real processes on one SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.services.clinical import ClinicalService
from monitor.services.errors import Conflict
from monitor.services.views import AssessmentInput, DoseInput
from monitor.store.database import Database, open_database
from tests.conftest import FakeClock
from tests.helpers import admission, cows, raw_count
from tests.report_helpers import items_for_total

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def other(db: Database, clock: FakeClock) -> Iterator[ClinicalService]:
    """A second workstation on the same database (its own connections)."""
    second = open_database(path=db.path) if db.path is not None else open_database(url=db.url)
    yield ClinicalService(second, clock=clock, zone_name="Europe/Berlin")
    second.dispose()


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; each result or the exception it raised."""
    results: list[object] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], object]) -> None:
        start.wait()
        try:
            results[index] = call()
        except Exception as exc:  # collected for the assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_workstations_writing_at_once_lose_nothing(
    service: ClinicalService,
    other: ClinicalService,
    nurse: str,
    physician: str,
    clock: FakeClock,
    db: Database,
) -> None:
    first = service.admit(nurse, admission(clock.now() - timedelta(hours=2), "K-1", "Ann One", "1A"))
    second = other.admit(physician, admission(clock.now() - timedelta(hours=2), "K-2", "Ben Two", "1B"))

    def chart(svc: ClinicalService, actor: str, episode: int) -> int:
        for minute in range(15):
            svc.record_assessment(
                actor, episode, cows(clock.now() - timedelta(minutes=60 - minute), yawning=1)
            )
        return 15

    assert at_once(lambda: chart(service, nurse, first), lambda: chart(other, physician, second)) == [15, 15]
    assert len(service.assessments(first)) == len(other.assessments(second)) == 15
    assert raw_count(db, "assessments") == 30
    report = other.verify_audit_chain()
    assert report.intact, report.problem  # one chain, not two forks of it


def test_the_same_alert_acknowledged_at_two_workstations_counts_once(
    service: ClinicalService,
    other: ClinicalService,
    nurse: str,
    physician: str,
    clock: FakeClock,
    db: Database,
) -> None:
    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    service.record_assessment(nurse, episode, AssessmentInput(clock.now(), items_for_total(4)))
    clock.advance(minutes=5)
    service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="plan")
    )
    clock.advance(minutes=50)
    service.record_assessment(nurse, episode, AssessmentInput(clock.now(), items_for_total(17)))
    [alert] = [a for a in service.alerts() if a.rule == "precipitated_withdrawal"]
    results = at_once(
        lambda: service.acknowledge_alert(nurse, alert.id, "comfort medicines given"),
        lambda: other.acknowledge_alert(physician, alert.id, "seen, plan agreed"),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert raw_count(db, "alert_events", f"alert_id = {alert.id} AND kind = 'acknowledge'") == 1
    [final] = [a for a in other.alerts(include_inactive=True) if a.id == alert.id]
    assert final.state == "acknowledged"
    assert final.acknowledged_by in (nurse, physician)
    # No second alert for the same rise from two evaluations at once.
    assert len([a for a in other.alerts(include_inactive=True) if a.rule == "precipitated_withdrawal"]) == 1


def test_the_same_assessment_amended_at_two_workstations_one_wins_the_other_is_told(
    service: ClinicalService,
    other: ClinicalService,
    nurse: str,
    physician: str,
    clock: FakeClock,
    db: Database,
) -> None:
    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    original = service.record_assessment(nurse, episode, cows(clock.now(), yawning=1))
    results = at_once(
        lambda: service.amend_assessment(nurse, original.id, cows(original.taken_at, yawning=2), "typo"),
        lambda: other.amend_assessment(
            physician, original.id, cows(original.taken_at, tremor=2), "re-scored"
        ),
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], Conflict)
    assert "amended" in lost[0].message  # the loser learns what happened, and by whom
    history = other.assessment_history(original.id)
    assert [v.version for v in history] == [1, 2]
    assert other.verify_audit_chain().intact


@pytest.mark.sqlite_only
@pytest.mark.skipif(sys.platform == "win32", reason="uses the POSIX child script")
def test_two_processes_on_one_sqlite_file_both_write(
    service: ClinicalService, db: Database, clock: FakeClock
) -> None:
    """Two app processes record assessments into one file at the same time for two seconds."""
    service.ensure_user("rn.crash", "Crash Nurse", "nurse")
    episodes = [
        service.admit("rn.crash", admission(clock.now() - timedelta(days=1), f"K-{n}", f"Pat {n}", f"{n}A"))
        for n in (1, 2)
    ]
    # The children chart at the real clock; the fixture's clock only made the admissions.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, "tests/store/crash_child.py", str(db.path), str(episode), str(1000 * n)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, episode in enumerate(episodes, start=1)
    ]
    time.sleep(4)  # about 1.5 s to start, then both write
    outputs = []
    for child in children:
        child.terminate()
        out, err = child.communicate(timeout=30)
        assert "Traceback" not in err, err  # SIGTERM ends the child without one
        outputs.append([int(line.split()[1]) for line in out.splitlines() if line.startswith("done ")])
    assert all(outputs), "both processes confirmed writes"
    for episode, confirmed in zip(episodes, outputs, strict=True):
        notes = {a.note for a in service.assessments(episode)}
        assert {f"crash-safety seq {seq}" for seq in confirmed} <= notes
    assert service.verify_audit_chain().intact


def test_the_change_counter_moves_with_a_write_from_another_workstation(
    service: ClinicalService, other: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    """What the windows poll every second to show another workstation's writes (on both backends)."""
    seen = other.data_version()
    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    moved = other.data_version()
    assert moved > seen
    service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, clock.now()))
    assert other.data_version() > moved
    assert other.data_version() == other.data_version()  # reading it changes nothing
