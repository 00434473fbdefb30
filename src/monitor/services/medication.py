"""Medication record, vital signs, later substance reports and readiness for naltrexone.

Before an antagonist dose is saved the nurse sees what the rules will say (too soon after opioid use,
no baseline COWS) and gives a reason to go ahead: a warning, never a block, because a clinic may dose
inside the interval on purpose (rapid naltrexone induction, domain.md section 3).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.domain import medications, plausibility, substances
from monitor.domain.rules import is_antagonist, preview_dose
from monitor.domain.text import AMOUNT_MAX
from monitor.domain.timeline import DoseRecord
from monitor.services.base import MAX_REASON, ServiceBase, checked_text, require_reason, usernames
from monitor.services.errors import Conflict, NotFound, ValidationError
from monitor.services.timeline_builder import (
    VITAL_MEASUREMENTS,
    EpisodeFacts,
    build_timeline,
    last_uses,
    load_protocol,
    plain_rows,
    valid_dose,
)
from monitor.services.views import (
    DoseInput,
    DoseView,
    ReadinessRow,
    SubstanceInput,
    VitalsInput,
    VitalsView,
    WarningView,
)
from monitor.store import audit
from monitor.store.models import Dose, DoseVoid, SubstanceUpdate, Vitals, VitalsVoid

_VITALS_COLUMNS = (
    Vitals.id,
    Vitals.episode_id,
    Vitals.taken_at,
    Vitals.recorded_at,
    Vitals.recorded_by_id,
    *VITAL_MEASUREMENTS,
    Vitals.note,
)


_DOSE_COLUMNS = (
    Dose.id,
    Dose.episode_id,
    Dose.drug,
    Dose.form,
    Dose.dose_mg,
    Dose.given_at,
    Dose.recorded_at,
    Dose.recorded_by_id,
    Dose.note,
    Dose.warning_reason,
    Dose.warnings_json,
    Dose.late_reason,
)


def _values(row: Dose | Vitals, columns: Sequence[Any]) -> tuple[Any, ...]:
    """An ORM row's values of these columns, in order (as a read of those columns gives them)."""
    return tuple(getattr(row, column.key) for column in columns)


_AGONISTS = [d.key for d in medications.DRUGS if d.role is medications.DrugRole.AGONIST]

# The form's labels, used as ValidationError.field so the UI can show the message beside the field.
VITAL_FIELDS = {
    "pulse_bpm": "Pulse (bpm)",
    "systolic": "Systolic (mmHg)",
    "diastolic": "Diastolic (mmHg)",
    "resp_rate": "Respiratory rate (/min)",
    "spo2": "SpO2 (%)",
    "temp_c": "Temperature (°C)",
}
WARNING_REASON_FIELD = "Reason to give anyway"


class MedicationMixin(ServiceBase):
    # --- doses ------------------------------------------------------------------------------------

    def _checked_dose(self, entry: DoseInput) -> None:
        try:
            medications.drug(entry.drug)
        except medications.UnknownDrug as exc:
            raise ValidationError("Medicine", str(exc)) from exc
        try:
            medications.check_form(entry.drug, entry.form)
        except medications.InvalidForm as exc:
            raise ValidationError("Form", str(exc)) from exc
        problem = plausibility.check_dose_mg(entry.dose_mg)
        if problem:
            raise ValidationError("Dose (mg)", problem)

    def _dose_warnings(
        self, session: Session, episode: EpisodeFacts, entry: DoseInput, now: datetime
    ) -> list[WarningView]:
        record = DoseRecord(
            id=0, drug=entry.drug, form=entry.form, dose_mg=entry.dose_mg, given_at=entry.given_at
        )
        if not is_antagonist(record):
            return []
        timeline = build_timeline(session, episode)
        findings = preview_dose(timeline, load_protocol(session), record, max(now, entry.given_at))
        return [WarningView(rule=f.rule, priority=f.priority.label, message=f.message) for f in findings]

    def preview_dose(self, episode_id: int, entry: DoseInput) -> list[WarningView]:
        """What the rules will say if this dose is saved (empty for comfort medicines)."""
        now = self.clock.now()
        self._checked_dose(entry)
        given_at = self._checked_time("Time given", entry.given_at, now)
        entry = DoseInput(entry.drug, entry.form, entry.dose_mg, given_at, entry.note, entry.warning_reason)
        with self.db.read() as session:
            return self._dose_warnings(session, self._episode_facts(session, episode_id), entry, now)

    def record_dose(self, actor: str, episode_id: int, entry: DoseInput) -> DoseView:
        now = self.clock.now()
        self._checked_dose(entry)
        given_at = self._checked_time("Time given", entry.given_at, now)
        late_reason = self._late_reason("Reason for late charting", given_at, now, entry.late_reason)
        entry = DoseInput(entry.drug, entry.form, entry.dose_mg, given_at, entry.note, entry.warning_reason)
        with self.db.write() as session:
            user, episode = self._open_episode(session, actor, "record_dose", episode_id, "doses")
            self._not_before_admission("Time given", given_at, episode)
            warnings = self._dose_warnings(session, episode, entry, now)
            reason = checked_text(WARNING_REASON_FIELD, entry.warning_reason, MAX_REASON)
            if warnings and not reason:
                listed = "; ".join(f"{w.priority.upper()}: {w.message}" for w in warnings)
                raise ValidationError(
                    WARNING_REASON_FIELD,
                    f"The rules warn about this dose ({listed}). Give a reason to go ahead.",
                )
            row = Dose(
                episode_id=episode.id,
                drug=entry.drug,
                form=entry.form,
                dose_mg=float(entry.dose_mg),
                given_at=given_at,
                recorded_at=now,
                recorded_by_id=user.id,
                tz_name=self.zone_name,
                note=checked_text("Note", entry.note),
                late_reason=late_reason,
                warnings_json=json.dumps([w.message for w in warnings]),
                warning_reason=reason if warnings else "",
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="dose.record",
                entity="dose",
                entity_id=row.id,
                patient_id=episode.patient_id,
                after={
                    "drug": row.drug,
                    "form": row.form,
                    "dose_mg": row.dose_mg,
                    "given_at": given_at,
                    "warnings": [w.message for w in warnings],
                },
                reason="; ".join(r for r in (row.warning_reason, late_reason) if r),
            )
            # The alerts repeating the warnings confirmed here are acknowledged with the reason when they
            # are raised (AlertingMixin._acknowledge_confirmed_warning): now, or at a dose time ahead.
            self._after_write(session, episode, now)
            return self._dose_views(session, [_values(row, _DOSE_COLUMNS)])[0]

    def doses(self, episode_id: int) -> list[DoseView]:
        with self.db.read() as session:
            # Plain rows, not ORM objects: a long stay has hundreds of doses, and only their values are
            # read (Session.execute passes even plain columns through the ORM's row loading, half the
            # cost of the read).
            rows = plain_rows(
                session,
                select(*_DOSE_COLUMNS).where(Dose.episode_id == episode_id).order_by(Dose.given_at, Dose.id),
            )
            return self._dose_views(session, rows)

    def mark_dose_entered_in_error(self, actor: str, dose_id: int, reason: str) -> DoseView:
        now = self.clock.now()
        why = require_reason("Reason", reason, "mark a dose entered in error")
        with self.db.write() as session:
            user = self._actor(session, actor, "mark_dose_entered_in_error")
            row = session.get(Dose, dose_id)
            if row is None:
                raise NotFound(f"Dose {dose_id} does not exist.")
            if session.get(DoseVoid, dose_id) is not None:
                raise Conflict("This dose is already marked entered in error.")
            episode = self._episode(session, row.episode_id)
            void = DoseVoid(dose_id=row.id, voided_at=now, voided_by_id=user.id, reason=why)
            self._record_void(session, user, episode, void, "dose", row.id, why, now)
            return self._dose_views(session, [_values(row, _DOSE_COLUMNS)])[0]

    def _dose_views(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[DoseView]:
        """rows: the values of _DOSE_COLUMNS, in that order (unpacked by position, as _vitals_views)."""
        if not rows:
            return []
        # Every void of the episode (rows are of one episode; voids are few): not an IN of every dose id.
        voids = {
            v.dose_id: v
            for v in session.scalars(
                select(DoseVoid).join(Dose, Dose.id == DoseVoid.dose_id).where(Dose.episode_id == rows[0][1])
            )
        }
        names = usernames(session, [r[7] for r in rows] + [v.voided_by_id for v in voids.values()])
        # A long stay repeats a few medicines hundreds of times: each label worked out once.
        described: dict[tuple[str, str, float], str] = {}
        warned: dict[str, tuple[str, ...]] = {}
        views = []
        for (
            dose_id,
            episode_id,
            drug,
            form,
            mg,
            given_at,
            recorded_at,
            author,
            note,
            why,
            warnings,
            late,
        ) in rows:
            known = medications.drug(drug)
            void = voids.get(dose_id)
            key = (drug, form, mg)
            if key not in described:
                described[key] = medications.describe_dose(drug, form, mg)
            if warnings not in warned:
                warned[warnings] = tuple(json.loads(warnings))
            views.append(
                DoseView(
                    id=dose_id,
                    episode_id=episode_id,
                    drug=drug,
                    drug_label=known.label,
                    role=known.role.value,
                    form=form,
                    dose_mg=mg,
                    description=described[key],
                    given_at=given_at,
                    recorded_at=recorded_at,
                    recorded_by=names.get(author, ""),
                    note=note,
                    warning_reason=why,
                    warnings=warned[warnings],
                    late_reason=late,
                    void_reason=void.reason if void else "",
                    voided_by=names.get(void.voided_by_id, "") if void else "",
                    voided_at=void.voided_at if void else None,
                )
            )
        return views

    # --- vital signs ------------------------------------------------------------------------------

    def record_vitals(self, actor: str, episode_id: int, entry: VitalsInput) -> VitalsView:
        now = self.clock.now()
        values: dict[str, float | None] = {
            "pulse_bpm": entry.pulse_bpm,
            "systolic": entry.systolic,
            "diastolic": entry.diastolic,
            "resp_rate": entry.resp_rate,
            "spo2": entry.spo2,
            "temp_c": entry.temp_c,
        }
        if all(v is None for v in values.values()):
            raise ValidationError("Pulse (bpm)", "Enter at least one measurement.")
        problems = plausibility.check_vitals(values)
        if problems:
            key, message = problems[0]
            raise ValidationError(VITAL_FIELDS[key], message)
        taken_at = self._checked_time("Time taken", entry.taken_at, now)
        late_reason = self._late_reason("Reason for late charting", taken_at, now, entry.late_reason)
        with self.db.write() as session:
            user, episode = self._open_episode(session, actor, "record_vitals", episode_id, "vital signs")
            self._not_before_admission("Time taken", taken_at, episode)
            row = Vitals(
                episode_id=episode.id,
                taken_at=taken_at,
                recorded_at=now,
                recorded_by_id=user.id,
                tz_name=self.zone_name,
                pulse_bpm=entry.pulse_bpm,
                systolic=entry.systolic,
                diastolic=entry.diastolic,
                resp_rate=entry.resp_rate,
                spo2=entry.spo2,
                temp_c=entry.temp_c,
                note=checked_text("Note", entry.note),
                late_reason=late_reason,
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="vitals.record",
                entity="vitals",
                entity_id=row.id,
                patient_id=episode.patient_id,
                after={**values, "taken_at": taken_at},
                reason=late_reason,
            )
            self._after_write(session, episode, now)
            return self._vitals_views(session, [_values(row, _VITALS_COLUMNS)])[0]

    def vitals(self, episode_id: int) -> list[VitalsView]:
        with self.db.read() as session:
            rows = plain_rows(  # as doses()
                session,
                select(*_VITALS_COLUMNS)
                .where(Vitals.episode_id == episode_id)
                .order_by(Vitals.taken_at, Vitals.id),
            )
            return self._vitals_views(session, rows)

    def mark_vitals_entered_in_error(self, actor: str, vitals_id: int, reason: str) -> VitalsView:
        now = self.clock.now()
        why = require_reason("Reason", reason, "mark vital signs entered in error")
        with self.db.write() as session:
            user = self._actor(session, actor, "mark_vitals_entered_in_error")
            row = session.get(Vitals, vitals_id)
            if row is None:
                raise NotFound(f"Vital signs {vitals_id} do not exist.")
            if session.get(VitalsVoid, vitals_id) is not None:
                raise Conflict("These vital signs are already marked entered in error.")
            episode = self._episode(session, row.episode_id)
            void = VitalsVoid(vitals_id=row.id, voided_at=now, voided_by_id=user.id, reason=why)
            self._record_void(session, user, episode, void, "vitals", row.id, why, now)
            return self._vitals_views(session, [_values(row, _VITALS_COLUMNS)])[0]

    def _vitals_views(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[VitalsView]:
        """rows: the values of _VITALS_COLUMNS, in that order (unpacked by position: a long stay has over
        a thousand readings, and reading a row's fields by name cost more than the rest)."""
        if not rows:
            return []
        voids = {  # as in _dose_views
            v.vitals_id: v
            for v in session.scalars(
                select(VitalsVoid)
                .join(Vitals, Vitals.id == VitalsVoid.vitals_id)
                .where(Vitals.episode_id == rows[0][1])
            )
        }
        names = usernames(session, [r[4] for r in rows])
        views = []
        for (
            vitals_id,
            episode_id,
            taken_at,
            recorded_at,
            author,
            pulse,
            sys,
            dia,
            resp,
            spo2,
            temp,
            note,
        ) in rows:
            void = voids.get(vitals_id)
            views.append(
                VitalsView(
                    id=vitals_id,
                    episode_id=episode_id,
                    taken_at=taken_at,
                    recorded_at=recorded_at,
                    recorded_by=names.get(author, ""),
                    pulse_bpm=pulse,
                    systolic=sys,
                    diastolic=dia,
                    resp_rate=resp,
                    spo2=spo2,
                    temp_c=temp,
                    note=note,
                    void_reason=void.reason if void else "",
                    voided_at=void.voided_at if void else None,
                )
            )
        return views

    # --- substance history and readiness ----------------------------------------------------------

    def record_substance_use(self, actor: str, episode_id: int, use: SubstanceInput) -> None:
        """A later report of use (e.g. the patient says on day 2 that they took kratom yesterday)."""
        now = self.clock.now()
        try:
            substances.substance(use.substance)
        except substances.UnknownSubstance as exc:
            raise ValidationError("Substance", str(exc)) from exc
        if use.last_use_at is None:
            raise ValidationError("Last use", "The time of the last use is required.")
        last = self._checked_time("Last use", use.last_use_at, now)
        if use.route and use.route not in substances.ROUTES:
            raise ValidationError("Route", f"Route must be one of {', '.join(substances.ROUTES)}.")
        with self.db.write() as session:
            user, episode = self._open_episode(
                session, actor, "record_substance_use", episode_id, "substance reports"
            )
            row = SubstanceUpdate(
                episode_id=episode.id,
                substance=use.substance,
                last_use_at=last,
                amount=checked_text("Amount", use.amount, AMOUNT_MAX),
                route=use.route,
                recorded_at=now,
                recorded_by_id=user.id,
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="substance.report",
                entity="substance_update",
                entity_id=row.id,
                patient_id=episode.patient_id,
                after={
                    "substance": use.substance,
                    "last_use_at": last,
                    "amount": row.amount,
                    "route": row.route,
                },
            )
            self._after_write(session, episode, now)

    def readiness(self, episode_id: int) -> list[ReadinessRow]:
        """Days since the last use of each opioid (and agonist doses given here) against the interval."""
        now = self.clock.now()
        with self.db.read() as session:
            self._episode(session, episode_id)
            protocol = load_protocol(session)
            rows: list[ReadinessRow] = []
            latest: dict[str, datetime] = {}
            for use in last_uses(session, episode_id):  # oldest first: the newest per substance wins
                if use.last_use_at is not None:
                    latest[use.substance] = use.last_use_at
            for key, last_use_at in latest.items():
                known = substances.substance(key)
                if known.opioid_action is None:
                    continue
                days = protocol.opioid_free_days(known.opioid_action)
                rows.append(_readiness_row(key, known.label, "reported use", last_use_at, days, now))
            # The newest agonist dose of each drug given here (not the comfort medicines: a long stay
            # has hundreds of those).
            given = dict(
                session.execute(
                    select(Dose.drug, func.max(Dose.given_at))
                    .where(Dose.episode_id == episode_id, Dose.drug.in_(_AGONISTS), Dose.given_at <= now)
                    .where(valid_dose())
                    .group_by(Dose.drug)
                ).all()
            )
            for drug, given_at in given.items():
                days = protocol.opioid_free_days(substances.OpioidAction.LONG)
                label = medications.drug(drug).label
                rows.append(_readiness_row(drug, label, "dose given here", given_at, days, now))
        return sorted(rows, key=lambda r: r.clear_at, reverse=True)


def _readiness_row(
    key: str, label: str, source: str, last: datetime, days: int, now: datetime
) -> ReadinessRow:
    return ReadinessRow(
        substance=key,
        label=label,
        source=source,
        last_use_at=last,
        elapsed=now - last,
        interval_days=days,
        clear_at=last + timedelta(days=days),
    )
