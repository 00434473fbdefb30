"""Reading the audit trail: search by patient, user, time and action, and export it to CSV.

The CSV export (`write_audit_csv`) is UTF-8 with a byte-order mark (so spreadsheets detect the
encoding) and has exactly the columns in `CSV_HEADER`:

    id          the audit row's number (its place in the hash chain)
    at          when it was written, ISO 8601 in UTC (e.g. 2026-11-20T09:00:00Z)
    user        the acting account's user name
    action      what was done, e.g. "assessment.record", "audit.export"
    entity      the kind of record, e.g. "assessment"
    entity_id   that record's id (empty when the action is not about one record)
    patient_mrn the patient's MRN (empty when the action is not about a patient)
    reason      the reason given, if any
    before      the values before, as JSON ("null" for a new record)
    after       the values after, as JSON
    row_hash    the row's hash in the chain (`monitor audit verify` checks it)

A text cell starting with "=", "+", "-", "@" or a tab gets a leading apostrophe, so a spreadsheet
shows a typed reason as text instead of running it as a formula (OWASP's CSV injection advice).
Exporting is itself audited ("audit.export": the filters, with the patient as an id, and the row count).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from monitor.io.csv_safety import spreadsheet_text
from monitor.services.base import ServiceBase, clean
from monitor.services.errors import NotFound, ValidationError
from monitor.services.files import atomic_file
from monitor.services.views import AuditView
from monitor.store import audit
from monitor.store.models import AuditEntry, Patient, User

CSV_HEADER = (
    "id",
    "at",
    "user",
    "action",
    "entity",
    "entity_id",
    "patient_mrn",
    "reason",
    "before",
    "after",
    "row_hash",
)
DEFAULT_LIMIT = 5000


@dataclass(frozen=True)
class AuditRecord(AuditView):
    """An audit row as the viewer and the export show it: with the patient's MRN and the row hash."""

    patient_mrn: str = ""
    row_hash: str = ""


@dataclass(frozen=True)
class AuditFilters:
    mrn: str | None = None
    username: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def csv_row(record: AuditRecord) -> list[str]:
    """One CSV line of the export, in CSV_HEADER order."""
    return [
        str(record.id),
        iso_utc(record.at),
        spreadsheet_text(record.username),
        spreadsheet_text(record.action),
        spreadsheet_text(record.entity),
        "" if record.entity_id is None else str(record.entity_id),
        spreadsheet_text(record.patient_mrn),
        spreadsheet_text(record.reason),
        spreadsheet_text(record.before_json),
        spreadsheet_text(record.after_json),
        record.row_hash,
    ]


def _aware(field: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, f"{field} must include a time zone.")
    return value.astimezone(UTC)


def _filters(
    mrn: str | None, username: str | None, since: datetime | None, until: datetime | None, action: str | None
) -> AuditFilters:
    start = _aware("From", since)
    end = _aware("To", until)
    if start is not None and end is not None and start > end:
        raise ValidationError("From", "The start of the period is after its end: check From and To.")
    return AuditFilters(
        mrn=clean(mrn) or None,
        username=clean(username) or None,
        since=start,
        until=end,
        action=clean(action) or None,
    )


def _query(filters: AuditFilters) -> Select[AuditEntry, str, str]:
    """Audit rows with their user name and patient MRN, newest first, in one query."""
    query = (
        select(AuditEntry, User.username, Patient.mrn)
        .join(User, User.id == AuditEntry.user_id)
        .outerjoin(Patient, Patient.id == AuditEntry.patient_id)
    )
    if filters.mrn is not None:
        query = query.where(Patient.mrn == filters.mrn)
    if filters.username is not None:
        query = query.where(User.username == filters.username)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at <= filters.until)
    if filters.action is not None:
        query = query.where(AuditEntry.action == filters.action)
    return query.order_by(AuditEntry.id.desc())


def _record(entry: AuditEntry, username: str, mrn: str | None) -> AuditRecord:
    return AuditRecord(
        id=entry.id,
        at=entry.at,
        username=username,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        patient_id=entry.patient_id,
        reason=entry.reason,
        before_json=entry.before_json,
        after_json=entry.after_json,
        patient_mrn=mrn or "",
        row_hash=entry.row_hash,
    )


def _records(session: Session, filters: AuditFilters, limit: int | None) -> Iterator[AuditRecord]:
    query = _query(filters)
    if limit is not None:
        query = query.limit(limit)
    for entry, username, mrn in session.execute(query.execution_options(yield_per=500)):
        yield _record(entry, username, mrn)


def _check_names(session: Session, filters: AuditFilters) -> None:
    """A filter naming a patient or user that does not exist is a typo: say so (not an empty list)."""
    if (
        filters.mrn is not None
        and session.scalar(select(Patient.id).where(Patient.mrn == filters.mrn)) is None
    ):
        raise NotFound(f"No patient has the MRN {filters.mrn!r}.")
    if (
        filters.username is not None
        and session.scalar(select(User.id).where(User.username == filters.username)) is None
    ):
        raise NotFound(f"There is no user {filters.username!r}.")


class AuditQueriesMixin(ServiceBase):
    """Search and export of the audit trail (the writes append to it in their own transactions)."""

    def audit_search(
        self,
        actor: str,
        *,
        mrn: str | None = None,
        username: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[AuditRecord]:
        """Audit rows matching every filter given, newest first, at most `limit` of them."""
        filters = _filters(mrn, username, since, until, action)
        if limit < 1:
            raise ValidationError("Limit", "The limit must be at least 1.")
        with self.db.read() as session:
            self._actor(session, actor, "view_audit")
            rows = list(_records(session, filters, limit))
            if not rows:
                _check_names(session, filters)
            return rows

    def audit_actions(self) -> list[str]:
        """The actions present in the audit trail, for the viewer's Action filter."""
        with self.db.read() as session:
            return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

    def write_audit_csv(
        self,
        actor: str,
        path: Path | str,
        *,
        mrn: str | None = None,
        username: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
        replace: bool = False,
    ) -> int:
        """Export every matching audit row (newest first) to a CSV file; returns the number of rows.
        `replace`: an existing file may be written over (a save dialog asked); never the database.

        The file appears complete or not at all (written beside it, then renamed), and the export is
        audited with the filters and the count.
        """
        filters = _filters(mrn, username, since, until, action)
        with self.db.read() as session:
            self._actor(session, actor, "view_audit")  # refused before any file is touched
        with atomic_file(path, "CSV file", replace=replace, database=self.db.path) as temp:
            with temp.open("w", encoding="utf-8-sig", newline="") as stream, self.db.read() as session:
                _check_names(session, filters)
                patient_id = None
                if filters.mrn is not None:
                    patient_id = session.scalar(select(Patient.id).where(Patient.mrn == filters.mrn))
                writer = csv.writer(stream)
                writer.writerow(CSV_HEADER)
                count = 0
                for record in _records(session, filters, None):
                    writer.writerow(csv_row(record))
                    count += 1
            self._audit_export(actor, filters, patient_id, count)
        return count

    def _audit_export(self, actor: str, filters: AuditFilters, patient_id: int | None, count: int) -> None:
        now = self.clock.now()
        described: dict[str, Any] = {
            "patient_id": patient_id,
            "user": filters.username,
            "since": filters.since,
            "until": filters.until,
            "action": filters.action,
        }
        with self.db.write() as session:
            user = self._actor(session, actor, "view_audit")
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="audit.export",
                entity="audit_log",
                entity_id=None,
                patient_id=patient_id,
                after={
                    "format": "csv",
                    "filters": {k: v for k, v in described.items() if v is not None},
                    "rows": count,
                },
            )
