"""Clinical use cases: admit, discharge, record, amend and void assessments.

Each use case is one transaction that names the acting user and writes its audit row in the same
transaction, so a record and its audit trail commit together or not at all. Clinical rows are never
updated or deleted: an amendment is a new version linked to the one it replaces.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, cast, func, insert, select
from sqlalchemy.orm import Session, aliased, selectinload

from monitor.domain import charting, scales, substances
from monitor.domain.text import AMOUNT_MAX, BED_MAX, MRN_MAX, NAME_MAX
from monitor.services.accounts import AccountsMixin
from monitor.services.alerting import AlertingMixin
from monitor.services.audit_queries import AuditQueriesMixin
from monitor.services.backups import BackupsMixin
from monitor.services.base import (
    MAX_REASON,
    SYSTEM_USERNAME,
    Actor,
    ServiceBase,
    checked_text,
    clean,
    require_reason,
    usernames,
)
from monitor.services.errors import Conflict, NotFound, ValidationError
from monitor.services.exporting import ExportingMixin
from monitor.services.importing import ImportingMixin
from monitor.services.medication import MedicationMixin
from monitor.services.review import ReviewMixin
from monitor.services.timeline_builder import build_timeline, newest_cows
from monitor.services.views import (
    AdmissionRequest,
    AssessmentColumns,
    AssessmentInput,
    AssessmentItemColumns,
    AssessmentView,
    AuditView,
    EpisodeDetail,
    EpisodeSummary,
    SubstanceView,
    UserView,
)
from monitor.store import audit
from monitor.store.models import (
    Assessment,
    AssessmentItem,
    AssessmentVoid,
    AuditEntry,
    Episode,
    Patient,
    SignOff,
    SubstanceUse,
    User,
    table_of,
)

SEXES = ("female", "male", "other", "unknown")


class ClinicalService(
    AccountsMixin,
    AlertingMixin,
    ReviewMixin,
    MedicationMixin,
    ImportingMixin,
    AuditQueriesMixin,
    ExportingMixin,
    BackupsMixin,
    ServiceBase,
):
    """The use cases the GUI, the CLI, the tests and the benchmarks all call."""

    # --- users ------------------------------------------------------------------------------------

    def ensure_user(
        self, username: str, display_name: str = "", role: str = "nurse", *, workstation_default: bool = False
    ) -> UserView:
        """Create the account if it does not exist (used for the configured default user)."""
        username = clean(username)
        if not username:
            raise ValidationError("username", "A user name is required.")
        with self.db.write() as session:
            user = self._user_in(
                session, username, display_name, role, workstation_default=workstation_default
            )
            return _user_view(user)

    def ensure_workstation_user(self) -> UserView:
        with self.db.write() as session:
            return _user_view(self._workstation_user_in(session))

    def account_exists(self, username: str) -> bool:
        """An account of that name exists and is active (the application's own never counts)."""
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.username == clean(username)))
            return user is not None and user.active and user.username != SYSTEM_USERNAME

    def user_label(self, username: str) -> str:
        """How the status bar names the acting user, e.g. "rn.lee (Robin Lee)"."""
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                return username
            return f"{user.username} ({user.display_name})" if user.display_name != username else username

    def admit(self, actor: str, request: AdmissionRequest) -> int:
        """Admit a patient to a new episode; an existing MRN adds the episode to that patient."""
        now = self.clock.now()
        mrn = clean(request.mrn)
        if not mrn:
            raise ValidationError("MRN", "The MRN is required.")
        if len(mrn) > MRN_MAX:
            raise ValidationError("MRN", f"The MRN is too long (at most {MRN_MAX} characters).")
        mrn = checked_text("MRN", mrn, MRN_MAX)
        name = checked_text("Name", request.name, NAME_MAX)
        bed = checked_text("Bed", request.bed, BED_MAX)
        if not name:
            raise ValidationError("Name", "The patient's name is required.")
        if request.birth_date is not None and request.birth_date > now.date():
            raise ValidationError("Birth date", "The birth date is in the future.")
        if request.birth_date is not None and request.birth_date < date(1900, 1, 1):
            raise ValidationError("Birth date", "The birth date is before 1900; check the year.")
        sex = request.sex or None
        if sex is not None and sex not in SEXES:
            raise ValidationError("Sex", f"Sex must be one of {', '.join(SEXES)}.")
        admitted_at = self._checked_time("Admitted at", request.admitted_at, now)
        uses = []
        for number, use in enumerate(request.substances, start=1):
            try:
                substances.substance(use.substance)
            except substances.UnknownSubstance as exc:
                raise ValidationError("Substance", f"Substance {number}: {exc}") from exc
            if use.last_use_at is not None:
                try:
                    last = charting.require_aware(use.last_use_at, "Last use")
                except ValueError as exc:
                    raise ValidationError(
                        "Last use", f"Substance {number}: the last use must include a time zone."
                    ) from exc
                if last > now + charting.FUTURE_TOLERANCE:
                    raise ValidationError("Last use", f"Substance {number}: the last use is in the future.")
                use = dataclasses.replace(use, last_use_at=last)  # UTC in the row and in the audit
            if use.route and use.route not in substances.ROUTES:
                raise ValidationError("Route", f"Substance {number}: route must be one of the list.")
            uses.append(use)

        with self.db.write() as session:
            user = self._actor(session, actor, "admit")
            patient = session.scalar(select(Patient).where(Patient.mrn == mrn))
            if patient is None:
                patient = Patient(
                    mrn=mrn,
                    name=name,
                    birth_date=request.birth_date,
                    sex=sex,
                    created_at=now,
                    created_by_id=user.id,
                )
                session.add(patient)
                session.flush()
                audit.append(
                    session,
                    at=now,
                    user_id=user.id,
                    action="patient.create",
                    entity="patient",
                    entity_id=patient.id,
                    patient_id=patient.id,
                    after={"mrn": mrn, "name": name, "birth_date": request.birth_date, "sex": sex},
                )
            elif patient.name.casefold() != name.casefold():
                raise ValidationError(
                    "Name",
                    f"MRN {mrn} belongs to {patient.name}, not {name}. Check the MRN or the name.",
                )
            open_episode = session.scalar(
                select(Episode).where(Episode.patient_id == patient.id, Episode.discharged_at.is_(None))
            )
            if open_episode is not None:
                raise Conflict(
                    f"{patient.name} (MRN {mrn}) already has an open episode in bed "
                    f"{open_episode.bed or '(none)'}; discharge it before admitting again."
                )
            episode = Episode(
                patient_id=patient.id,
                admitted_at=admitted_at,
                bed=bed,
                recorded_at=now,
                admitted_by_id=user.id,
                tz_name=self.zone_name,
                discharge_note="",
            )
            session.add(episode)
            session.flush()
            for use in uses:
                session.add(
                    SubstanceUse(
                        episode_id=episode.id,
                        substance=use.substance,
                        last_use_at=use.last_use_at,
                        amount=checked_text("Amount", use.amount, AMOUNT_MAX),
                        route=use.route,
                    )
                )
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.admit",
                entity="episode",
                entity_id=episode.id,
                patient_id=patient.id,
                after={
                    "admitted_at": admitted_at,
                    "bed": episode.bed,
                    "substances": [
                        {
                            "substance": u.substance,
                            "last_use_at": u.last_use_at,
                            "amount": u.amount,
                            "route": u.route,
                        }
                        for u in uses
                    ],
                },
            )
            session.flush()
            self._after_write(session, episode.id, now)
            return episode.id

    def discharge(self, actor: str, episode_id: int, discharged_at: datetime, note: str = "") -> None:
        now = self.clock.now()
        when = self._checked_time("Discharged at", discharged_at, now)
        with self.db.write() as session:
            user = self._actor(session, actor, "discharge")
            episode = self._episode(session, episode_id)
            if episode.discharged_at is not None:
                raise Conflict("This episode is already discharged.")
            if when < episode.admitted_at:
                raise ValidationError("Discharged at", "The discharge time is before the admission.")
            facts = self._episode_facts(session, episode.id)
            stay = build_timeline(session, facts)
            charted = [
                *(a.taken_at for a in stay.assessments),
                *(d.given_at for d in stay.doses),
                *(v.taken_at for v in stay.vitals),
            ]
            if charted and when < max(charted):
                # Nothing is charted after a discharge (an episode file says so too, and is refused).
                raise ValidationError(
                    "Discharged at",
                    "The discharge time is before the last record of the stay (a COWS, a dose or vital "
                    "signs charted later); correct the time.",
                )
            episode.discharged_at = when
            episode.discharged_by_id = user.id
            episode.discharge_note = checked_text("Discharge note", note)
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.discharge",
                entity="episode",
                entity_id=episode.id,
                patient_id=episode.patient_id,
                before={"discharged_at": None},
                after={"discharged_at": when, "note": episode.discharge_note},
            )
            session.flush()
            # The stay read above, now discharged: evaluated without reading its records again.
            self._sync_alerts(
                session,
                dataclasses.replace(facts, discharged_at=when),
                now,
                timeline=dataclasses.replace(stay, discharged_at=when),
            )

    # --- assessments ------------------------------------------------------------------------------

    def record_assessment(self, actor: str, episode_id: int, entry: AssessmentInput) -> AssessmentView:
        """Save a complete assessment. Refused: a missing item, a future time, late charting with no
        reason, a closed episode."""
        now = self.clock.now()
        result = self._score(entry)
        taken_at = self._checked_time("Time taken", entry.taken_at, now)
        late_reason = self._late_reason("Reason for late charting", taken_at, now, entry.late_reason)
        with self.db.write() as session:
            user, episode = self._open_episode(session, actor, "record_assessment", episode_id, "assessments")
            if taken_at < episode.admitted_at - charting.LATE_CHARTING_AFTER:
                raise ValidationError("Time taken", "The time taken is before the admission.")
            row = self._insert_assessment(
                session, user, episode.id, entry, result, taken_at, now, late_reason
            )
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="assessment.record",
                entity="assessment",
                entity_id=row.id,
                patient_id=episode.patient_id,
                after=_assessment_audit(row, result),
                reason=late_reason,
            )
            session.flush()
            self._after_write(session, episode, now)
            return _new_assessment_view(row, user, result)

    def amend_assessment(
        self, actor: str, assessment_id: int, entry: AssessmentInput, reason: str
    ) -> AssessmentView:
        """Correct an assessment: a new version replaces it; the old one stays in the history."""
        now = self.clock.now()
        why = require_reason("Reason for amendment", reason, "amend an assessment")
        result = self._score(entry)
        taken_at = self._checked_time("Time taken", entry.taken_at, now)
        with self.db.write() as session:
            user = self._actor(session, actor, "amend_assessment")
            old = session.get(Assessment, assessment_id)
            if old is None:
                raise NotFound(f"Assessment {assessment_id} does not exist.")
            self._require_current(session, old, "amend")
            episode = self._episode(session, old.episode_id)
            self._not_before_admission("Time taken", taken_at, episode)
            row = self._insert_assessment(
                session,
                user,
                episode.id,
                entry,
                result,
                taken_at,
                now,
                checked_text("Reason for late charting", entry.late_reason, MAX_REASON),
                replaces=old,
                amend_reason=why,
            )
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="assessment.amend",
                entity="assessment",
                entity_id=row.id,
                patient_id=episode.patient_id,
                before=_assessment_audit(old, None),
                after=_assessment_audit(row, result),
                reason=why,
            )
            session.flush()
            self._after_write(session, row.episode_id, now)
            return self._assessment_views(session, [row])[0]

    def mark_entered_in_error(self, actor: str, assessment_id: int, reason: str) -> AssessmentView:
        now = self.clock.now()
        why = require_reason("Reason", reason, "mark an assessment entered in error")
        with self.db.write() as session:
            user = self._actor(session, actor, "mark_entered_in_error")
            row = session.get(Assessment, assessment_id)
            if row is None:
                raise NotFound(f"Assessment {assessment_id} does not exist.")
            self._require_current(session, row, "mark entered in error")
            episode = self._episode(session, row.episode_id)
            void = AssessmentVoid(assessment_id=row.id, voided_at=now, voided_by_id=user.id, reason=why)
            self._record_void(session, user, episode, void, "assessment", row.id, why, now)
            return self._assessment_views(session, [row])[0]

    # --- queries ----------------------------------------------------------------------------------

    def open_episodes(self) -> list[EpisodeSummary]:
        with self.db.read() as session:
            episodes = session.execute(
                select(Episode, Patient)
                .join(Patient, Patient.id == Episode.patient_id)
                .where(Episode.discharged_at.is_(None))
                .order_by(Episode.bed, Patient.name)
            ).all()
            latest = newest_cows(session, [e.id for e, _ in episodes])
            result = []
            for episode, patient in episodes:
                last = latest.get(episode.id)
                band = scales.COWS.band_for(last.total).label if last else ""
                result.append(
                    EpisodeSummary(
                        id=episode.id,
                        patient_id=patient.id,
                        mrn=patient.mrn,
                        name=patient.name,
                        bed=episode.bed,
                        admitted_at=episode.admitted_at,
                        discharged_at=episode.discharged_at,
                        latest_total=last.total if last else None,
                        latest_band=band,
                        latest_taken_at=last.taken_at if last else None,
                    )
                )
            return result

    def episode(self, episode_id: int) -> EpisodeDetail:
        with self.db.read() as session:
            episode = session.scalar(
                select(Episode)
                .where(Episode.id == episode_id)
                .options(selectinload(Episode.substances), selectinload(Episode.patient))
            )
            if episode is None:
                raise NotFound(f"Episode {episode_id} does not exist.")
            names = usernames(session, [episode.admitted_by_id, episode.discharged_by_id])
            patient = episode.patient
            return EpisodeDetail(
                id=episode.id,
                patient_id=patient.id,
                mrn=patient.mrn,
                name=patient.name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                bed=episode.bed,
                admitted_at=episode.admitted_at,
                admitted_by=names.get(episode.admitted_by_id, ""),
                discharged_at=episode.discharged_at,
                discharged_by=names.get(episode.discharged_by_id or -1, ""),
                discharge_note=episode.discharge_note,
                tz_name=episode.tz_name,
                substances=tuple(_substance_view(u) for u in episode.substances),
            )

    def assessments(
        self, episode_id: int, *, include_entered_in_error: bool = True, with_items: bool = True
    ) -> list[AssessmentView]:
        """The current version of each assessment of the episode, oldest first.

        with_items=False leaves each view's items empty (a list of totals, e.g. the assessments table,
        does not read the 11 item rows of each assessment). Plain columns, not ORM objects, and the
        related rows by episode (indexed), not by a list of thousands of ids: a long stay has 20,000."""
        with self.db.read() as session:
            successor = aliased(Assessment)
            rows = session.execute(
                select(*Assessment.__table__.columns)
                .where(Assessment.episode_id == episode_id)
                .where(~select(successor.id).where(successor.replaces_id == Assessment.id).exists())
                .order_by(Assessment.taken_at, Assessment.id)
            ).all()
            views = self._assessment_views(session, rows, episode_id=episode_id, with_items=with_items)
        if not include_entered_in_error:
            views = [v for v in views if not v.entered_in_error]
        return views

    def assessment_columns(self, episode_id: int) -> AssessmentColumns:
        """The current version of each assessment of the episode (entered in error included), oldest
        first, as plain columns: one indexed query for the list and small ones for the rare details
        (voids, amendment reasons, authors, sign-offs). No items (assessment_item_columns)."""
        with self.db.read() as session:
            # Every version is read with what it replaces, and the replaced ones are left out here:
            # a NOT EXISTS per row in SQL cost a quarter of the read of a long stay, where amendments
            # are rare. (An amendment stays in its episode, so the episode's rows say it all.)
            *columns, replaces = _plain_columns(
                session,
                select(
                    Assessment.id,
                    _epoch_column(Assessment.taken_at, session),
                    Assessment.scale,
                    Assessment.total,
                    Assessment.version,
                    Assessment.recorded_by_id,
                    Assessment.note,
                    Assessment.replaces_id,
                )
                .where(Assessment.episode_id == episode_id)
                .order_by(Assessment.taken_at, Assessment.id),
            )
            replaced = {i for i in replaces if i is not None}
            if replaced:
                current = [k for k, i in enumerate(columns[0]) if i not in replaced]
                columns = [tuple(column[k] for k in current) for column in columns]
            if not columns[0]:
                return AssessmentColumns(episode_id=episode_id)
            ids, read_times, scale_col, totals, versions, author_ids, notes = columns
            taken_at = _epoch_seconds(read_times)
            of_episode = Assessment.episode_id == episode_id
            voids = {
                v.assessment_id: v
                for v in session.scalars(
                    select(AssessmentVoid)
                    .join(Assessment, Assessment.id == AssessmentVoid.assessment_id)
                    .where(of_episode)
                )
            }
            # The amendments among the current versions, found in the column already read (a query for
            # version > 1 read every row of a long stay again), then their details by id; by episode
            # when there are very many (a statement takes a limited number of values).
            amended_ids = [i for i, version in zip(ids, versions, strict=True) if version > 1]
            which = (
                Assessment.id.in_(amended_ids)
                if len(amended_ids) <= _IDS_PER_STATEMENT
                else (of_episode & (Assessment.version > 1))
            )
            wanted = set(amended_ids)  # current versions only, whichever way they are read
            amended = {
                row.id: row
                for row in (
                    session.execute(
                        select(Assessment.id, Assessment.recorded_at, Assessment.amend_reason).where(which)
                    )
                    if amended_ids
                    else ()
                )
                if row.id in wanted
            }
            user_ids = sorted(set(author_ids) | {v.voided_by_id for v in voids.values()})
            users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
            signed = list(session.scalars(select(SignOff).where(SignOff.episode_id == episode_id)))
            # Amended or voided after a physician signed off the period it belongs to (as
            # _assessment_views decides it), for the few rows that were amended or voided at all.
            changed = set()
            rare = voids.keys() | amended.keys()
            if rare and signed:
                position_of = {assessment_id: n for n, assessment_id in enumerate(ids)}
                for assessment_id in rare:
                    n = position_of.get(assessment_id)
                    if n is None:  # a superseded version
                        continue
                    taken = datetime.fromtimestamp(taken_at[n], UTC)
                    row = amended.get(assessment_id)
                    void = voids.get(assessment_id)
                    if any(
                        s.period_start <= taken <= s.period_end
                        and (
                            (row is not None and row.recorded_at > s.signed_at)
                            or (void is not None and void.voided_at > s.signed_at)
                        )
                        for s in signed
                    ):
                        changed.add(assessment_id)
        position = {user_id: i for i, user_id in enumerate(user_ids)}
        band_keys, band_labels = _band_columns(scale_col, totals)
        return AssessmentColumns(
            episode_id=episode_id,
            ids=ids,
            taken_at=taken_at,
            scales=scale_col,
            totals=totals,
            band_keys=band_keys,
            band_labels=band_labels,
            versions=versions,
            entered_in_error=tuple(map(voids.__contains__, ids)),
            authors=tuple(map(position.__getitem__, author_ids)),
            notes=notes,
            users=tuple((users[u].username, users[u].display_name) for u in user_ids),
            void_reasons={i: v.reason for i, v in voids.items()},
            amend_reasons={i: r.amend_reason for i, r in amended.items() if r.amend_reason},
            changed_after_sign_off=frozenset(changed),
        )

    def assessment_item_columns(self, episode_id: int) -> AssessmentItemColumns:
        """Every item score of the episode's assessments in one query (the heat map): ordered by
        assessment as taken, then item key, which the indexes give without a sort."""
        with self.db.read() as session:
            ids, keys, values = _plain_columns(
                session,
                select(AssessmentItem.assessment_id, AssessmentItem.item_key, AssessmentItem.value)
                .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
                .where(Assessment.episode_id == episode_id)
                .order_by(Assessment.taken_at, Assessment.id, AssessmentItem.item_key),
            )
        return AssessmentItemColumns(assessment_ids=ids, item_keys=keys, values=values)

    def assessment_history(self, assessment_id: int) -> list[AssessmentView]:
        """Every version of the assessment, first to current."""
        with self.db.read() as session:
            row = session.get(Assessment, assessment_id)
            if row is None:
                raise NotFound(f"Assessment {assessment_id} does not exist.")
            root = row.root_id or row.id
            rows = session.scalars(
                select(Assessment)
                .where((Assessment.id == root) | (Assessment.root_id == root))
                .order_by(Assessment.version)
            ).all()
            return self._assessment_views(session, rows)

    def audit_entries(self, *, patient_id: int | None = None, limit: int = 500) -> list[AuditView]:
        with self.db.read() as session:
            query = select(AuditEntry, User.username).join(User, User.id == AuditEntry.user_id)
            if patient_id is not None:
                query = query.where(AuditEntry.patient_id == patient_id)
            rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
            return [
                AuditView(
                    id=e.id,
                    at=e.at,
                    username=name,
                    action=e.action,
                    entity=e.entity,
                    entity_id=e.entity_id,
                    patient_id=e.patient_id,
                    reason=e.reason,
                    before_json=e.before_json,
                    after_json=e.after_json,
                )
                for e, name in rows
            ]

    def verify_audit_chain(self) -> audit.ChainReport:
        with self.db.read() as session:
            return audit.verify_chain(session)

    # --- helpers ----------------------------------------------------------------------------------

    def _score(self, entry: AssessmentInput) -> scales.Score:
        scale = scales.SCALES.get(entry.scale)
        if scale is None:
            raise ValidationError("Scale", f"Unknown scale {entry.scale!r}.")
        try:
            result = scales.score(scale, entry.items)
        except scales.ScaleError as exc:
            raise ValidationError("Items", str(exc)) from exc
        if not result.complete:
            labels = ", ".join(f"{scale.item(k).number} {scale.item(k).label}" for k in result.missing)
            raise ValidationError("Items", f"Not saved: every item needs a score. Missing: {labels}.")
        if entry.pulse_bpm is not None and scale is scales.COWS:
            try:
                expected = scales.resting_pulse_value(entry.pulse_bpm)
            except scales.ImplausiblePulse as exc:
                raise ValidationError("Pulse (bpm)", str(exc)) from exc
            if result.answers["resting_pulse"] != expected:
                raise ValidationError(
                    "Pulse (bpm)",
                    f"A pulse of {entry.pulse_bpm} bpm scores {expected} on item 1, "
                    f"not {result.answers['resting_pulse']}.",
                )
        return result

    def _insert_assessment(
        self,
        session: Session,
        user: User | Actor,
        episode_id: int,
        entry: AssessmentInput,
        result: scales.Score,
        taken_at: datetime,
        now: datetime,
        late_reason: str,
        *,
        replaces: Assessment | None = None,
        amend_reason: str = "",
    ) -> Assessment:
        assert result.total is not None
        row = Assessment(
            episode_id=episode_id,
            scale=entry.scale,
            taken_at=taken_at,
            recorded_at=now,
            recorded_by_id=user.id,
            tz_name=self.zone_name,
            total=result.total,
            pulse_bpm=entry.pulse_bpm,
            note=checked_text("Note", entry.note),
            late_reason=late_reason,
            root_id=(replaces.root_id or replaces.id) if replaces else None,
            version=(replaces.version + 1) if replaces else 1,
            replaces_id=replaces.id if replaces else None,
            amend_reason=amend_reason,
        )
        # Plain INSERTs (the row, then its items in one executemany): the ORM's unit of work costs more
        # than the writes themselves, and the row is not read back as an object in this transaction.
        # The object returned is the saved values, not attached to the session.
        values = {c.key: getattr(row, c.key) for c in _ASSESSMENT_COLUMNS if c.key != "id"}
        connection = session.connection()
        row.id = connection.execute(_INSERT_ASSESSMENT, values).scalar_one()
        connection.execute(
            _INSERT_ITEM,
            [{"assessment_id": row.id, "item_key": k, "value": v} for k, v in result.answers.items()],
        )
        return row

    def _require_current(self, session: Session, row: Assessment, what: str) -> None:
        successor = session.scalar(select(Assessment).where(Assessment.replaces_id == row.id))
        if successor is not None:
            who = usernames(session, [successor.recorded_by_id]).get(successor.recorded_by_id, "")
            raise Conflict(
                f"Cannot {what}: this version was already amended by {who} "
                f"(recorded {successor.recorded_at:%Y-%m-%d %H:%M} UTC). Open the current version."
            )
        if session.get(AssessmentVoid, row.id) is not None:
            raise Conflict(f"Cannot {what}: this assessment is already marked entered in error.")

    def _assessment_views(
        self,
        session: Session,
        rows: Sequence[Any],
        *,
        episode_id: int | None = None,
        with_items: bool = True,
    ) -> list[AssessmentView]:
        """rows: Assessment objects or rows of its columns. episode_id: every row is of that episode
        (related rows are then read by episode through its index, not by a list of ids)."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        items: dict[int, dict[str, int]] = {i: {} for i in ids}
        item_columns = select(AssessmentItem.assessment_id, AssessmentItem.item_key, AssessmentItem.value)
        if episode_id is not None:
            of_episode = Assessment.episode_id == episode_id
            item_rows = item_columns.join(Assessment, Assessment.id == AssessmentItem.assessment_id).where(
                of_episode
            )
            void_rows = (
                select(AssessmentVoid)
                .join(Assessment, Assessment.id == AssessmentVoid.assessment_id)
                .where(of_episode)
            )
            successor_rows = select(Assessment.replaces_id, Assessment.id).where(
                of_episode, Assessment.replaces_id.is_not(None)
            )
        else:
            item_rows = item_columns.where(AssessmentItem.assessment_id.in_(ids))
            void_rows = select(AssessmentVoid).where(AssessmentVoid.assessment_id.in_(ids))
            successor_rows = select(Assessment.replaces_id, Assessment.id).where(
                Assessment.replaces_id.in_(ids)
            )
        if with_items:
            for assessment_id, key, value in session.execute(item_rows):
                if assessment_id in items:
                    items[assessment_id][key] = value
        voids = {v.assessment_id: v for v in session.scalars(void_rows)}
        successors: dict[int | None, int] = {old: new for old, new in session.execute(successor_rows)}
        user_ids = [r.recorded_by_id for r in rows] + [v.voided_by_id for v in voids.values()]
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(set(user_ids))))}
        signed = list(
            session.scalars(select(SignOff).where(SignOff.episode_id.in_({r.episode_id for r in rows})))
        )

        def changed_after_sign_off(row: Any, void: AssessmentVoid | None) -> bool:
            """Amended or voided after a physician signed off the period it belongs to."""
            if row.version == 1 and void is None:
                return False  # neither amended nor voided: nothing changed (most rows)
            return any(
                s.episode_id == row.episode_id
                and s.period_start <= row.taken_at <= s.period_end
                and (
                    (row.version > 1 and row.recorded_at > s.signed_at)
                    or (void and void.voided_at > s.signed_at)
                )
                for s in signed
            )

        views = []
        bands: dict[tuple[str, int], scales.Band] = {}
        for row in rows:
            band = bands.get((row.scale, row.total))
            if band is None:
                band = bands[(row.scale, row.total)] = scales.SCALES[row.scale].band_for(row.total)
            void = voids.get(row.id)
            author = users[row.recorded_by_id]
            views.append(
                _assessment_view(
                    row,
                    author,
                    items[row.id],
                    band,
                    superseded_by_id=successors.get(row.id),
                    changed_after_sign_off=changed_after_sign_off(row, void),
                    void_reason=void.reason if void else "",
                    voided_by=users[void.voided_by_id].username if void else "",
                    voided_at=void.voided_at if void else None,
                )
            )
        return views


def _user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        is_workstation_default=user.is_workstation_default,
    )


def _substance_view(use: SubstanceUse) -> SubstanceView:
    known = substances.substance(use.substance)
    return SubstanceView(
        substance=use.substance,
        label=known.label,
        is_opioid=known.is_opioid,
        last_use_at=use.last_use_at,
        amount=use.amount,
        route=use.route,
    )


def _new_assessment_view(row: Assessment, author: User | Actor, result: scales.Score) -> AssessmentView:
    """The view of an assessment just recorded, from what the write has in hand (no queries): its first
    version, so not amended, not entered in error, not changed after a sign-off; the items as saved
    (in the order a query of them returns, by key)."""
    band = scales.SCALES[row.scale].band_for(row.total)
    return _assessment_view(row, author, dict(sorted(result.answers.items())), band)


def _assessment_view(
    row: Any, author: User | Actor, items: dict[str, int], band: scales.Band, **state: Any
) -> AssessmentView:
    """An assessment row (an Assessment or a row of its columns) as a view; state: what only the other
    rows can tell (superseded_by_id, changed_after_sign_off, the void's reason, who and when)."""
    return AssessmentView(
        id=row.id,
        root_id=row.root_id or row.id,
        version=row.version,
        episode_id=row.episode_id,
        scale=row.scale,
        taken_at=row.taken_at,
        recorded_at=row.recorded_at,
        recorded_by=author.username,
        recorded_by_name=author.display_name,
        tz_name=row.tz_name,
        items=items,
        total=row.total,
        band_key=band.key,
        band_label=band.label,
        pulse_bpm=row.pulse_bpm,
        note=row.note,
        late_reason=row.late_reason,
        replaces_id=row.replaces_id,
        amend_reason=row.amend_reason,
        **state,
    )


def _assessment_audit(row: Assessment, result: scales.Score | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": row.id,
        "taken_at": row.taken_at,
        "total": row.total,
        "pulse_bpm": row.pulse_bpm,
        "note": row.note,
        "version": row.version,
    }
    if result is not None:
        values["items"] = dict(result.answers)
    else:
        values["items"] = {i.item_key: i.value for i in row.items}
    return values


_IDS_PER_STATEMENT = 500  # ids in one IN (...): SQLite takes at most 32,766 values in a statement
_ASSESSMENT_COLUMNS = table_of(Assessment).columns
_INSERT_ASSESSMENT = insert(table_of(Assessment)).returning(table_of(Assessment).c.id)
_INSERT_ITEM = insert(table_of(AssessmentItem))


def _band_columns(scale_col: Sequence[str], totals: Sequence[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The band key and label of each (scale, total), each band looked up once: one scale (COWS) by its
    total alone, without a (scale, total) pair per row (a quarter of the cost on a long stay)."""
    kinds = set(scale_col)
    if len(kinds) == 1:
        scale = scales.SCALES[next(iter(kinds))]
        by_total = {total: scale.band_for(total) for total in set(totals)}
        keys = {total: band.key for total, band in by_total.items()}
        labels = {total: band.label for total, band in by_total.items()}
        return tuple(map(keys.__getitem__, totals)), tuple(map(labels.__getitem__, totals))
    scored = list(zip(scale_col, totals, strict=True))
    bands = {key: scales.SCALES[key[0]].band_for(key[1]) for key in set(scored)}
    return tuple(bands[key].key for key in scored), tuple(bands[key].label for key in scored)


def _epoch_column(column: Any, session: Session) -> Any:
    """A UTC datetime column read for _epoch_seconds, without a datetime object per row (which costs
    more than reading the row): on SQLite the stored naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' itself
    (converting it in SQL took 11 ms of a 20,000-row read, numpy takes 2), on PostgreSQL integer
    microseconds since the epoch."""
    if session.get_bind().dialect.name == "sqlite":
        return column
    return cast(func.round(func.extract("epoch", column) * 1_000_000), BigInteger)


def _epoch_seconds(values: Sequence[Any]) -> tuple[float, ...]:
    """Epoch seconds from what _epoch_column read, exactly datetime.timestamp(): whole microseconds
    divided once (both are exact below 2**53 microseconds, and the division is correctly rounded)."""
    import numpy as np  # loaded by the charts anyway; the command line loads it only for these reads

    if values and isinstance(values[0], str):
        micros = np.array(values, dtype="datetime64[us]").astype(np.int64)
    else:
        micros = np.array(values, dtype=np.int64)
    return tuple((micros / 1_000_000).tolist())


def _plain_columns(session: Session, statement: Any) -> tuple[tuple[Any, ...], ...]:
    """The columns of a query of plain integer and text columns (no type processing is needed), from
    the driver's rows one at a time: a SQLAlchemy Row per row, or even all the driver's rows alive at
    once (the garbage collector then runs over and over), costs more than the read on long lists."""
    result = session.connection().execute(statement)
    try:
        width = len(result.keys())
        rows: Iterable[tuple[Any, ...]] = result.cursor  # type: ignore[assignment]
        flat: list[Any] = list(itertools.chain.from_iterable(rows))
    finally:
        result.close()
    return tuple(tuple(flat[k::width]) for k in range(width))
