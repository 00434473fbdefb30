"""Record assessments through the services until killed (run as a child process by test_crash_safety.py).

Usage: python tests/store/crash_child.py DB_PATH EPISODE_ID START_INDEX

Opens the database as the application does (WAL recovery, schema check), then records COWS assessments
for the episode forever, each with the note "crash-safety seq N" (N = START_INDEX, START_INDEX + 1, ...).
Protocol on stdout, one flushed line each:

    open            open_database returned
    begin N         about to call record_assessment for seq N
    done N          record_assessment for seq N returned: the write is confirmed

A "done" line is written only after the service call returned, so every "done" seq must survive a kill.
The test runs this with the repository root as working directory and on PYTHONPATH.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.services.clinical import ClinicalService
from monitor.store.database import open_database
from tests.helpers import cows

NURSE = "rn.crash"
NOTE_PREFIX = "crash-safety seq "
# Values COWS allows, cycled so totals (and with them the alerts evaluated in the same transaction) change.
SWEATING = (0, 1, 2, 3, 4)
RESTLESSNESS = (0, 1, 3, 5)


def note_for(seq: int) -> str:
    return f"{NOTE_PREFIX}{seq}"


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(db_path: str, episode_id: int, start: int) -> int:
    db = open_database(path=Path(db_path))
    # The system clock: each assessment is charted at the moment it is recorded, so none is late,
    # in the future, or before the admission (which the test made at set-up, before any child ran).
    service = ClinicalService(db, zone_name="Europe/Berlin")
    emit("open")
    seq = start
    while True:
        entry = cows(
            datetime.now(UTC),
            sweating=SWEATING[seq % len(SWEATING)],
            restlessness=RESTLESSNESS[seq % len(RESTLESSNESS)],
        )
        entry = dataclasses.replace(entry, note=note_for(seq))
        emit(f"begin {seq}")
        service.record_assessment(NURSE, episode_id, entry)
        emit(f"done {seq}")
        seq += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
