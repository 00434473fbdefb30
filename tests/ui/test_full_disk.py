"""Issue 7: a full disk or a database that turned read-only, met at the bedside. The nurse reads a plain
message, the COWS form stays on screen with everything typed, what was saved before is all there, and
the same form saves once the problem is gone. Both are simulated on the real database file: a page
limit at the size the file has now (SQLite's "database or disk is full") and query_only (its
"attempt to write a readonly database")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import event

from monitor.services.clinical import ClinicalService
from monitor.store.database import Database
from monitor.ui.cows_form import CowsForm
from tests.conftest import FakeClock
from tests.helpers import admission, cows


def page_limit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    cursor.execute(f"PRAGMA max_page_count = {pages}")
    cursor.close()


def read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")


@pytest.fixture
def trouble(db: Database) -> Iterator[Callable[[Callable[..., None]], None]]:
    """Switch a problem on for every connection from now on (the pooled ones are closed first)."""
    listeners: list[Callable[..., None]] = []

    def switch_on(listener: Callable[..., None]) -> None:
        event.listen(db.engine, "connect", listener)
        db.dispose()
        listeners.append(listener)

    yield switch_on
    for listener in listeners:
        if event.contains(db.engine, "connect", listener):
            event.remove(db.engine, "connect", listener)


@pytest.mark.parametrize(
    ("problem", "words"),
    [(page_limit, "full"), (read_only, "can only be read")],
    ids=["disk full", "read-only"],
)
def test_the_form_survives_a_failed_save_and_saves_once_the_problem_is_gone(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    clock: FakeClock,
    trouble: Callable[[Callable[..., None]], None],
    db: Database,
    problem: Callable[..., None],
    words: str,
) -> None:
    episode_id = service.admit(nurse, admission(clock.now() - timedelta(hours=8)))
    before = [
        service.record_assessment(nurse, episode_id, cows(clock.now() - timedelta(minutes=m)))
        for m in (50, 40)
    ]
    form = CowsForm(service, nurse, service.episode(episode_id))
    qtbot.addWidget(form)
    form.show()
    for key in ("sweating", "restlessness", "gi_upset"):
        form.item_widget(key).radio(2 if key != "restlessness" else 3).click()
    for item in form._items.values():
        if item.value() is None:
            item.select_value(0)
    form.note_edit.setText("typed before the trouble")
    trouble(problem)
    if problem is page_limit:
        # Fill the file to its limit first, as a long shift would.
        filler = cows(clock.now() - timedelta(minutes=30))
        for _ in range(500):
            try:
                service.record_assessment(nurse, episode_id, filler)
            except Exception:
                break
    saved_so_far = len(service.assessments(episode_id))

    form.save_button.click()
    assert form.saved is None and form.isVisible()
    status = form.status_text()
    assert words in status.lower(), status
    assert "sqlite" not in status.lower() and "Traceback" not in status
    assert form.note_edit.text() == "typed before the trouble"
    assert form.selected("restlessness") == 3
    assert len(service.assessments(episode_id)) == saved_so_far  # nothing half-written
    assert {a.id for a in before} <= {a.id for a in service.assessments(episode_id)}

    event.remove(db.engine, "connect", problem)  # IT frees the disk / fixes the share
    db.dispose()  # for every connection: the simulated problem lives in the open ones
    form.save_button.click()
    assert form.saved is not None
    assert form.saved.total == 2 + 3 + 2
    assert service.verify_audit_chain().intact
