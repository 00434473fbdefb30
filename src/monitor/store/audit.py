"""The append-only audit log: who, what, when, why, before and after, each row chained to the last.

A row's hash covers its own content and the previous row's hash, so an edited or deleted row breaks
the chain from that row on; `verify_chain` names the first row that does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from monitor.store import models
from monitor.store.models import AuditEntry

GENESIS_HASH = "0" * 64
_HEAD_KEY = "audit_chain_head"  # in Session.info: (transaction, id, row_hash) of the last append


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default, ensure_ascii=False)


def _row_hash(row: dict[str, Any]) -> str:
    """The hash of a row of the log, from its column values (as inserted, or as read back)."""
    content = {
        "id": row["id"],
        "at": row["at"].isoformat(),
        "user_id": row["user_id"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "patient_id": row["patient_id"],
        "reason": row["reason"],
        "before": row["before_json"],
        "after": row["after_json"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(to_json(content).encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    user_id: int,
    action: str,
    entity: str,
    entity_id: int | None,
    patient_id: int | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> None:
    """Add an audit row in the caller's transaction (so the write and its audit commit together)."""
    if at.tzinfo is None or at.utcoffset() is None:
        # astimezone() would silently read a naive time as this machine's local time.
        raise ValueError("naive datetime given to the audit log; audit times must carry a zone")
    # Plain statements on the session's connection: every clinical write appends one or more rows, and
    # nothing the ORM holds pending is read or written here.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Serialise writers on the chain head; SQLite's BEGIN IMMEDIATE already does.
        connection.execute(text("SELECT pg_advisory_xact_lock(7215001)"))
    # The chain's head: read once per write transaction, then followed as this transaction appends.
    # Writers take turns (BEGIN IMMEDIATE on SQLite, the advisory lock on PostgreSQL), so within one
    # write transaction only these appends move the head; a new transaction reads it again.
    transaction = session.get_transaction()
    known = session.info.get(_HEAD_KEY)
    if known is not None and known[0] is transaction:
        last_id, last_hash = known[1], known[2]
    else:
        last = connection.execute(_HEAD).first()
        last_id, last_hash = (last.id, last.row_hash) if last else (0, GENESIS_HASH)
    values: dict[str, Any] = {
        "id": last_id + 1,
        "at": at.astimezone(UTC),
        "user_id": user_id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "patient_id": patient_id,
        "reason": reason,
        "before_json": to_json(before),
        "after_json": to_json(after),
        "prev_hash": last_hash,
    }
    values["row_hash"] = _row_hash(values)
    # A plain INSERT now, not an ORM object flushed later: the log is never read back as objects in
    # the transaction that writes it, and every clinical write appends one or more rows.
    connection.execute(_INSERT, values)
    session.info[_HEAD_KEY] = (transaction, values["id"], values["row_hash"])


_INSERT = insert(models.table_of(AuditEntry))
_HEAD = select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    first_broken_id: int | None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order and report the first row whose hash or link does not match."""
    expected_prev = GENESIS_HASH
    expected_id = 1
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(500):
        count += 1
        if entry.id != expected_id:
            return ChainReport(count, entry.id, f"row {expected_id} is missing before row {entry.id}")
        if entry.prev_hash != expected_prev:
            return ChainReport(count, entry.id, "link to the previous row does not match")
        if _row_hash(models.as_dict(entry)) != entry.row_hash:
            return ChainReport(count, entry.id, "row content does not match its hash")
        expected_prev = entry.row_hash
        expected_id += 1
    return ChainReport(count, None)
