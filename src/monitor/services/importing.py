"""Import of episode files (shared/formats/episode-v1.md): all-or-nothing and idempotent.

Every record of every episode is written in one transaction; the first problem rolls everything back
with a message naming the record and the field. Records already present (same patient, same admission,
same clinical time and content) are skipped, so importing the same file twice adds nothing; the same
time with different content is refused rather than guessed at.

"Present" means any version ever recorded: an amended (superseded) or entered-in-error record with the
file's content counts, so a re-import neither brings back what was entered in error nor is refused
after an amendment. Only a current, valid record with other content at that time refuses the import.
Every inserted record (and every account created for an unknown author) gets its own audit row, by
the importing user, with the record's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain import charting, scales
from monitor.services.base import SYSTEM_USERNAME, WORKSTATION_USERNAME, ServiceBase
from monitor.services.errors import ServiceError, ValidationError
from monitor.store import audit
from monitor.store.models import (
    Assessment,
    AssessmentItem,
    AssessmentVoid,
    Dose,
    DoseVoid,
    Episode,
    Patient,
    SubstanceUse,
    User,
    Vitals,
    VitalsVoid,
)

if TYPE_CHECKING:  # the file format's module loads when a file is read, not at the app's start
    from monitor.io.episode_json import EpisodeRecord

IMPORT_NOTE = "imported from an episode file"

_Content = TypeVar("_Content")


class ImportRefused(ValidationError):
    """One record of the file cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    episodes_created: int = 0
    episodes_matched: int = 0
    assessments: int = 0
    doses: int = 0
    vitals: int = 0
    skipped: int = 0
    users_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.episodes_created} new episode(s), {self.episodes_matched} already known; "
            f"added {self.assessments} assessment(s), {self.doses} dose(s), {self.vitals} vital sign set(s); "
            f"{self.skipped} record(s) already present"
            + (f"; new inactive user(s): {', '.join(self.users_created)}" if self.users_created else "")
        )


class ImportingMixin(ServiceBase):
    def import_episodes(
        self,
        actor: str,
        records: Sequence[EpisodeRecord],
        *,
        create_unknown_users: bool = True,
        source: str = "",
    ) -> ImportReport:
        """All or nothing. `actor` WORKSTATION_USERNAME: the workstation account is made in the import's
        own transaction when it does not exist yet, so a refused import writes nothing at all."""
        now = self.clock.now()
        report = ImportReport()
        with self.db.write() as session:
            if actor == WORKSTATION_USERNAME:
                self._workstation_user_in(session)
            user = self._actor(session, actor, "import_episodes")
            touched: list[Episode] = []
            for record in records:
                try:
                    episode = self._import_one(session, user, record, now, report, create_unknown_users)
                except ImportRefused as refusal:  # name the file too: several may be imported at once
                    if not record.source:
                        raise
                    raise ImportRefused(refusal.field, f"{record.source}: {refusal.message}") from None
                touched.append(episode)
            patients = {e.patient_id for e in touched}
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.import",
                entity="import",
                entity_id=None,
                # one patient (e.g. a file of one episode): the import shows in that patient's audit
                patient_id=next(iter(patients)) if len(patients) == 1 else None,
                after={
                    "source": _storable(source),
                    "episodes": [e.id for e in touched],
                    "summary": report.summary(),
                },
            )
            session.flush()
            for episode in touched:
                self._after_write(session, episode.id, now)
        return report

    def _author(
        self,
        session: Session,
        actor: User,
        name: str,
        where: str,
        now: datetime,
        report: ImportReport,
        create: bool,
    ) -> User:
        if name == SYSTEM_USERNAME:
            raise ImportRefused(
                where, f"{where}: {name!r} is the application's own account; name who recorded it"
            )
        # One look-up per author and import (an import names the same few nurses thousands of times);
        # the session lives for this one write transaction only.
        authors: dict[str, User] = session.info.setdefault("import_authors", {})
        user = authors.get(name) or session.scalar(select(User).where(User.username == name))
        if user is not None:
            authors[name] = user
            return user
        if not create:
            raise ImportRefused(where, f"{where}: unknown user {name!r} (import without creating users)")
        # Unknown authors become inactive accounts so the history keeps its author (format rule).
        user = User(
            username=name,
            display_name=name,
            role="nurse",
            active=False,
            is_workstation_default=False,
            created_at=now,
        )
        session.add(user)
        session.flush()
        audit.append(
            session,
            at=now,
            user_id=actor.id,
            action="user.create",
            entity="user",
            entity_id=user.id,
            reason=IMPORT_NOTE,
            after={
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "active": user.active,
                "workstation_default": user.is_workstation_default,
            },
        )
        report.users_created.append(name)
        authors[name] = user
        return user

    def _import_one(
        self,
        session: Session,
        actor: User,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> Episode:
        where = _prefix(record)
        self._not_future(record.admitted_at, f"{where}episode.admitted_at", now)
        if record.discharged_at is not None:
            self._not_future(record.discharged_at, f"{where}episode.discharged_at", now)
        for number, use in enumerate(record.substances):
            if use.last_use_at is not None:
                self._not_future(use.last_use_at, f"{where}episode.substances[{number}].last_use_at", now)
        if record.patient.birth_date is not None and record.patient.birth_date > now.date():
            raise ImportRefused(
                "patient.birth_date", f"{where}patient.birth_date: the birth date is in the future"
            )
        patient = session.scalar(select(Patient).where(Patient.mrn == record.patient.mrn))
        if patient is None:
            patient = Patient(
                mrn=record.patient.mrn,
                name=record.patient.name,
                birth_date=record.patient.birth_date,
                sex=record.patient.sex,
                created_at=now,
                created_by_id=actor.id,
            )
            session.add(patient)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="patient.create",
                entity="patient",
                entity_id=patient.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                after={"mrn": patient.mrn, "name": patient.name},
            )
        elif patient.name.casefold() != record.patient.name.casefold():
            raise ImportRefused(
                "patient.name",
                f"{where}patient.name: MRN {patient.mrn} belongs to {patient.name}, "
                f"not {record.patient.name}",
            )
        episode = session.scalar(
            select(Episode).where(Episode.patient_id == patient.id, Episode.admitted_at == record.admitted_at)
        )
        if episode is None:
            if record.discharged_at is None:
                open_one = session.scalar(
                    select(Episode).where(Episode.patient_id == patient.id, Episode.discharged_at.is_(None))
                )
                if open_one is not None:
                    raise ImportRefused(
                        "episode.admitted_at",
                        f"{where}episode.admitted_at: {patient.name} already has an open episode admitted at "
                        f"{open_one.admitted_at:%Y-%m-%d %H:%M} UTC",
                    )
            episode = Episode(
                patient_id=patient.id,
                admitted_at=record.admitted_at,
                bed=record.bed,
                recorded_at=now,
                admitted_by_id=actor.id,
                tz_name=self.zone_name,
                discharged_at=None,
                discharge_note="",
            )
            session.add(episode)
            session.flush()
            for use in record.substances:
                session.add(
                    SubstanceUse(
                        episode_id=episode.id,
                        substance=use.substance,
                        last_use_at=use.last_use_at,
                        amount=use.amount,
                        route=use.route,
                    )
                )
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="episode.admit",
                entity="episode",
                entity_id=episode.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                after={
                    "admitted_at": record.admitted_at,
                    "bed": record.bed,
                    "substances": [u.substance for u in record.substances],
                },
            )
            report.episodes_created += 1
        else:
            report.episodes_matched += 1
        added_before = report.assessments + report.doses + report.vitals
        self._import_assessments(session, actor, episode, record, now, report, create_users)
        self._import_doses(session, actor, episode, record, now, report, create_users)
        self._import_vitals(session, actor, episode, record, now, report, create_users)
        if (
            episode.discharged_at is not None
            and report.assessments + report.doses + report.vitals > added_before
        ):
            # As in the app: a discharged episode takes no new records (the same file again adds none).
            raise ImportRefused(
                "episode.discharged_at",
                f"{where}episode: {patient.name}'s episode admitted {record.admitted_at:%Y-%m-%d %H:%M} "
                f"UTC was discharged at {episode.discharged_at:%Y-%m-%d %H:%M} UTC: records can no longer "
                "be added",
            )
        if record.discharged_at is not None and episode.discharged_at is None:
            episode.discharged_at = record.discharged_at
            episode.discharged_by_id = actor.id
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="episode.discharge",
                entity="episode",
                entity_id=episode.id,
                patient_id=patient.id,
                reason=IMPORT_NOTE,
                before={"discharged_at": None},
                after={"discharged_at": record.discharged_at},
            )
        session.flush()
        return episode

    def _not_future(self, when: datetime, where: str, now: datetime) -> None:
        if charting.check_clinical_time(when, now) is charting.TimeVerdict.IN_FUTURE:
            raise ImportRefused(where, f"{where}: more than 5 minutes in the future")

    def _import_assessments(
        self,
        session: Session,
        actor: User,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        # Every version ever recorded at each (scale, time): amended and entered-in-error ones too.
        rows = session.scalars(select(Assessment).where(Assessment.episode_id == episode.id)).all()
        ids = [a.id for a in rows]
        items_of: dict[int, dict[str, int]] = {i: {} for i in ids}
        # Not current: amended since (another version replaces it) or entered in error.
        not_current = {a.replaces_id for a in rows if a.replaces_id is not None}
        if ids:
            for item in session.scalars(select(AssessmentItem).where(AssessmentItem.assessment_id.in_(ids))):
                items_of[item.assessment_id][item.item_key] = item.value
            not_current.update(
                session.scalars(
                    select(AssessmentVoid.assessment_id).where(AssessmentVoid.assessment_id.in_(ids))
                )
            )
        versions: dict[tuple[str, datetime], list[_Version[tuple[dict[str, int], int | None]]]] = {}
        for stored in rows:
            versions.setdefault((stored.scale, stored.taken_at), []).append(
                _Version((items_of[stored.id], stored.pulse_bpm), stored.id not in not_current)
            )
        for number, a in enumerate(record.assessments):
            where = f"{_prefix(record)}assessments[{number}]"
            self._not_future(a.taken_at, f"{where}.taken_at", now)
            known = versions.setdefault((a.scale, a.taken_at), [])
            if any(v.content == (dict(a.items), a.pulse_bpm) for v in known):
                report.skipped += 1
                continue
            if any(v.current for v in known):
                raise ImportRefused(
                    "taken_at", f"{where}.taken_at: a different {a.scale} at this time is already recorded"
                )
            author = self._author(session, actor, a.by, f"{where}.by", now, report, create_users)
            result = scales.score(scales.SCALES[a.scale], a.items)
            if result.total is None:  # the parser already requires every item; this guards the invariant
                raise ServiceError(f"{where}: incomplete assessment")
            row = Assessment(
                episode_id=episode.id,
                scale=a.scale,
                taken_at=a.taken_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                total=result.total,
                pulse_bpm=a.pulse_bpm,
                note=a.note,
                late_reason=IMPORT_NOTE,
                root_id=None,
                version=1,
                replaces_id=None,
                amend_reason="",
            )
            session.add(row)
            session.flush()
            for key, value in result.answers.items():
                session.add(AssessmentItem(assessment_id=row.id, item_key=key, value=value))
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="assessment.record",
                entity="assessment",
                entity_id=row.id,
                patient_id=episode.patient_id,
                reason=IMPORT_NOTE,
                after={
                    "id": row.id,
                    "scale": row.scale,
                    "taken_at": row.taken_at,
                    "total": row.total,
                    "pulse_bpm": row.pulse_bpm,
                    "note": row.note,
                    "version": row.version,
                    "items": dict(result.answers),
                    "recorded_by": author.username,
                },
            )
            known.append(_Version((dict(result.answers), a.pulse_bpm), True))
            report.assessments += 1

    def _import_doses(
        self,
        session: Session,
        actor: User,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        # Every dose ever recorded at each (drug, form, time), entered-in-error ones too.
        voided = set(
            session.scalars(
                select(DoseVoid.dose_id)
                .join(Dose, Dose.id == DoseVoid.dose_id)
                .where(Dose.episode_id == episode.id)
            ).all()
        )
        versions: dict[tuple[str, str, datetime], list[_Version[float]]] = {}
        for dose in session.scalars(select(Dose).where(Dose.episode_id == episode.id).order_by(Dose.id)):
            versions.setdefault((dose.drug, dose.form, dose.given_at), []).append(
                _Version(dose.dose_mg, dose.id not in voided)
            )
        for number, d in enumerate(record.doses):
            where = f"{_prefix(record)}doses[{number}]"
            self._not_future(d.given_at, f"{where}.given_at", now)
            known = versions.setdefault((d.drug, d.form, d.given_at), [])
            if any(abs(v.content - d.dose_mg) < 1e-9 for v in known):
                report.skipped += 1
                continue
            current = next((v for v in known if v.current), None)
            if current is not None:
                raise ImportRefused(
                    "dose_mg", f"{where}.dose_mg: {current.content:g} mg is already recorded at this time"
                )
            author = self._author(session, actor, d.by, f"{where}.by", now, report, create_users)
            row = Dose(
                episode_id=episode.id,
                drug=d.drug,
                form=d.form,
                dose_mg=d.dose_mg,
                given_at=d.given_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                note="",
                late_reason=IMPORT_NOTE,
                warnings_json="[]",
                warning_reason="",
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="dose.record",
                entity="dose",
                entity_id=row.id,
                patient_id=episode.patient_id,
                reason=IMPORT_NOTE,
                after={
                    "drug": row.drug,
                    "form": row.form,
                    "dose_mg": row.dose_mg,
                    "given_at": row.given_at,
                    "warnings": [],
                    "recorded_by": author.username,
                },
            )
            known.append(_Version(row.dose_mg, True))
            report.doses += 1

    def _import_vitals(
        self,
        session: Session,
        actor: User,
        episode: Episode,
        record: EpisodeRecord,
        now: datetime,
        report: ImportReport,
        create_users: bool,
    ) -> None:
        # Every set of vital signs ever recorded at each time, entered-in-error ones too.
        voided = set(
            session.scalars(
                select(VitalsVoid.vitals_id)
                .join(Vitals, Vitals.id == VitalsVoid.vitals_id)
                .where(Vitals.episode_id == episode.id)
            ).all()
        )
        versions: dict[datetime, list[_Version[_VitalValues]]] = {}
        for row in session.scalars(select(Vitals).where(Vitals.episode_id == episode.id).order_by(Vitals.id)):
            values = (row.pulse_bpm, row.systolic, row.diastolic, row.resp_rate, row.spo2, row.temp_c)
            versions.setdefault(row.taken_at, []).append(_Version(values, row.id not in voided))
        for number, v in enumerate(record.vitals):
            where = f"{_prefix(record)}vitals[{number}]"
            self._not_future(v.taken_at, f"{where}.taken_at", now)
            values = (v.pulse_bpm, v.systolic, v.diastolic, v.resp_rate, v.spo2, v.temp_c)
            known = versions.setdefault(v.taken_at, [])
            if any(k.content == values for k in known):
                report.skipped += 1
                continue
            if any(k.current for k in known):
                raise ImportRefused(
                    "taken_at", f"{where}.taken_at: different vital signs at this time are recorded"
                )
            author = self._author(session, actor, v.by, f"{where}.by", now, report, create_users)
            row = Vitals(
                episode_id=episode.id,
                taken_at=v.taken_at,
                recorded_at=now,
                recorded_by_id=author.id,
                tz_name=episode.tz_name,
                pulse_bpm=v.pulse_bpm,
                systolic=v.systolic,
                diastolic=v.diastolic,
                resp_rate=v.resp_rate,
                spo2=v.spo2,
                temp_c=v.temp_c,
                note="",
                late_reason=IMPORT_NOTE,
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=actor.id,
                action="vitals.record",
                entity="vitals",
                entity_id=row.id,
                patient_id=episode.patient_id,
                reason=IMPORT_NOTE,
                after={
                    "pulse_bpm": row.pulse_bpm,
                    "systolic": row.systolic,
                    "diastolic": row.diastolic,
                    "resp_rate": row.resp_rate,
                    "spo2": row.spo2,
                    "temp_c": row.temp_c,
                    "taken_at": row.taken_at,
                    "recorded_by": author.username,
                },
            )
            known.append(_Version(values, True))
            report.vitals += 1


_VitalValues = tuple[int | None, int | None, int | None, int | None, int | None, float | None]


@dataclass(frozen=True)
class _Version(Generic[_Content]):
    """One stored version of a record at a clinical time: its content, and whether it is the current,
    valid one (not amended since, not entered in error)."""

    content: _Content
    current: bool


def _prefix(record: EpisodeRecord) -> str:
    return "" if record.where == "episode" else f"{record.where}."


def _storable(text: str) -> str:
    """A file name as the database can store it: os.fsdecode turns the bytes of a name that is not UTF-8
    into lone surrogates, which SQLite refuses; they are kept as escapes (caf\\udce9.json)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
