"""Alerts: evaluated from the data by the domain rules, stored once by their stable key, worked by
people (acknowledge with a reason, snooze with a cap, silence) and escalated by time. Every step is
audited. The clinic's protocol settings (thresholds, intervals) live here too: stored, audited, with
defaults declared in the domain.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor.domain import alert_state
from monitor.domain import protocol as protocol_module
from monitor.domain.alert_state import AlertEvent, AlertState, EventKind
from monitor.domain.protocol import Protocol
from monitor.domain.rules import RULE_TITLES, Finding, Priority, evaluate, evaluate_with_next_change
from monitor.domain.timeline import Timeline
from monitor.services.base import MAX_REASON, ServiceBase, checked_text, require_reason, usernames
from monitor.services.errors import NotFound, ValidationError
from monitor.services.timeline_builder import (
    EpisodeFacts,
    build_timeline,
    build_timelines,
    current_setting_rows,
    episode_facts,
    load_protocol,
    open_episode_facts,
    plain_rows,
)
from monitor.services.views import AlertView, SettingView
from monitor.store import audit
from monitor.store.models import (
    Alert,
    AlertEventRow,
    AlertSchedule,
    Dose,
    Episode,
    Patient,
    ProtocolSetting,
    User,
    table_of,
)

_SCHEDULE = table_of(AlertSchedule)
_UPDATE_SCHEDULE = (
    update(_SCHEDULE)
    .where(_SCHEDULE.c.episode_id == bindparam("episode"))
    .values(
        due_at=bindparam("due", type_=_SCHEDULE.c.due_at.type),
        evaluated_at=bindparam("evaluated", type_=_SCHEDULE.c.evaluated_at.type),
    )
)
_INSERT_SCHEDULE = insert(_SCHEDULE).values(
    episode_id=bindparam("episode"),
    due_at=bindparam("due", type_=_SCHEDULE.c.due_at.type),
    evaluated_at=bindparam("evaluated", type_=_SCHEDULE.c.evaluated_at.type),
)


# id, episode, patient, first seen, raised, resolved, withdrawn, first acknowledged.
_CandidateRows = Select[int, int, int, datetime, datetime, datetime | None, datetime | None, datetime]


def _escalation_candidates_statement() -> _CandidateRows:
    """High alerts not escalated yet, with what tells whether they still can (the first
    acknowledgement after they were shown)."""
    escalated = select(AlertEventRow.id).where(
        AlertEventRow.alert_id == Alert.id, AlertEventRow.kind == EventKind.ESCALATE.value
    )
    first_ack = (
        select(func.min(AlertEventRow.at))
        .where(AlertEventRow.alert_id == Alert.id, AlertEventRow.kind == EventKind.ACKNOWLEDGE.value)
        .where(AlertEventRow.at >= Alert.first_seen_at, AlertEventRow.at >= Alert.raised_at)
        .scalar_subquery()
    )
    return (
        select(
            Alert.id,
            Alert.episode_id,
            Episode.patient_id,
            Alert.first_seen_at,
            Alert.raised_at,
            Alert.resolved_at,
            Alert.withdrawn_at,
            first_ack.label("first_ack"),
        )
        .join(Episode, Episode.id == Alert.episode_id)
        .where(Alert.priority == int(Priority.HIGH), ~escalated.exists())
    )


# Built once: those of open episodes (the timer's tick), and those among {"ids"} (after a write).
_CANDIDATES_OPEN = _escalation_candidates_statement().where(Episode.discharged_at.is_(None))
_CANDIDATES_AMONG = _escalation_candidates_statement().where(Alert.id.in_(bindparam("ids", expanding=True)))


@dataclasses.dataclass(slots=True)
class _StoredAlert:
    """An episode's stored alert as the evaluation after a write reconciles it: its columns, read and
    written with plain statements (the ORM's loading and unit of work cost more than the statements
    themselves, on every clinical write). Mutable: the reconciliation changes it, then writes it."""

    id: int
    key: str
    episode_id: int
    rule: str
    priority: int
    raised_at: datetime
    first_seen_at: datetime
    message: str
    evidence_json: str
    resolved_at: datetime | None
    withdrawn_at: datetime | None
    updated_at: datetime


_ALERTS = table_of(Alert)
_ALERT_FIELDS = tuple(field.name for field in dataclasses.fields(_StoredAlert))
_STORED_ALERTS = select(*(_ALERTS.c[name] for name in _ALERT_FIELDS)).where(
    _ALERTS.c.episode_id == bindparam("episode")
)
_INSERT_ALERT = insert(_ALERTS).returning(_ALERTS.c.id)
# What the reconciliation may change in a stored alert (its key, episode and rule never change).
_CHANGEABLE = (
    "priority",
    "raised_at",
    "first_seen_at",
    "message",
    "evidence_json",
    "resolved_at",
    "withdrawn_at",
    "updated_at",
)
_UPDATE_ALERT = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"))
    .values({name: bindparam(name, type_=_ALERTS.c[name].type) for name in _CHANGEABLE})
)

# The rules a dose is checked against before it is saved (the nurse sees them and gives a reason).
DOSE_WARNING_RULES = ("antagonist_too_soon", "no_baseline_assessment")


class AlertingMixin(ServiceBase):
    # --- protocol settings -------------------------------------------------------------------------

    def protocol(self) -> Protocol:
        with self.db.read() as session:
            return load_protocol(session)

    def protocol_settings(self) -> list[SettingView]:
        with self.db.read() as session:
            rows = current_setting_rows(session)
            names = usernames(session, [r.set_by_id for r in rows.values()])
            views = []
            for spec in protocol_module.SETTINGS:
                row = rows.get(spec.key)
                views.append(
                    SettingView(
                        key=spec.key,
                        label=spec.label,
                        unit=spec.unit,
                        value=row.value if row else spec.default,
                        default=spec.default,
                        minimum=spec.minimum,
                        maximum=spec.maximum,
                        source=spec.source,
                        changed_by=names.get(row.set_by_id, "") if row else "",
                        changed_at=row.set_at if row else None,
                        reason=row.reason if row else "",
                    )
                )
            return views

    def set_protocol_setting(self, actor: str, key: str, value: float, reason: str) -> None:
        """Change one threshold of the clinic's protocol (audited; the alerts are re-evaluated)."""
        now = self.clock.now()
        why = require_reason("Reason", reason, "change the protocol")
        with self.db.write() as session:
            user = self._actor(session, actor, "set_protocol_setting")
            current = load_protocol(session)
            try:
                protocol_module.setting_spec(key)
                Protocol.from_values({**current.values(), key: value})
            except ValueError as exc:
                label = next((spec.label for spec in protocol_module.SETTINGS if spec.key == key), "Setting")
                raise ValidationError(label, str(exc)) from exc
            before = current.values()[key]
            session.add(
                ProtocolSetting(key=key, value=float(value), set_at=now, set_by_id=user.id, reason=why)
            )
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="protocol.set",
                entity="protocol_setting",
                entity_id=None,
                before={key: before},
                after={key: value},
                reason=why,
            )
            cause = f"{protocol_module.setting_spec(key).label} changed from {before} to {value}"
            for episode in open_episode_facts(session).values():
                self._sync_alerts(session, episode, now, protocol_change=cause)

    # --- evaluation --------------------------------------------------------------------------------

    def _after_write(self, session: Session, episode: int | EpisodeFacts, now: datetime) -> None:
        if isinstance(episode, int):
            episode = self._episode_facts(session, episode)
        self._sync_alerts(session, episode, now)

    def _sync_alerts(
        self,
        session: Session,
        episode: EpisodeFacts,
        now: datetime,
        *,
        protocol_change: str = "",
        timeline: Timeline | None = None,
        protocol: Protocol | None = None,
    ) -> None:
        """Evaluate one episode and bring its stored alerts in line, in the caller's transaction.

        Also writes the episode's schedule (AlertSchedule): when its findings next change with no new
        data, so that refresh_alerts evaluates it again then and not before. Every write that changes
        what the rules read calls this in its own transaction, so the schedule is never behind the data,
        whichever workstation wrote it.

        New findings are inserted once (the key is unique), known ones follow the data (peak, resolution),
        and stored alerts the data no longer supports are withdrawn (never deleted); a withdrawn alert the
        rules raise again is reinstated, shown anew. protocol_change: what changed in the protocol, when
        that is the cause (it goes into the audit reason of a withdrawal or reinstatement).
        """
        protocol = protocol or load_protocol(session)
        timeline = timeline or build_timeline(session, episode)
        evaluated, due_at = evaluate_with_next_change(timeline, protocol, now)
        findings = {f.key: f for f in evaluated}
        # Plain statements: the schedule is written on every clinical write, and never read as an object.
        connection = session.connection()
        schedule = {"episode": episode.id, "due": due_at, "evaluated": now}
        if connection.execute(_UPDATE_SCHEDULE, schedule).rowcount == 0:
            connection.execute(_INSERT_SCHEDULE, schedule)
        stored = {
            row.key: _StoredAlert(*row)
            for row in plain_rows(session, _STORED_ALERTS, {"episode": episode.id})
        }
        # By id, written in one statement after the reconciliation. A reinstated or raised alert is among
        # them through `changed` (its withdrawal or its priority).
        changed_alerts: dict[int, _StoredAlert] = {}
        system: int | None = None
        for key, finding in findings.items():
            alert = stored.get(key)
            evidence = json.dumps(finding.evidence, sort_keys=True)
            if alert is None:
                alert = _StoredAlert(
                    id=0,
                    key=key,
                    episode_id=episode.id,
                    rule=finding.rule,
                    priority=int(finding.priority),
                    raised_at=finding.raised_at,
                    first_seen_at=now,
                    message=finding.message,
                    evidence_json=evidence,
                    resolved_at=finding.resolved_at,
                    withdrawn_at=None,
                    updated_at=now,
                )
                values = {name: getattr(alert, name) for name in _ALERT_FIELDS if name != "id"}
                alert.id = connection.execute(_INSERT_ALERT, values).scalar_one()
                system = self._system_user_id(session) if system is None else system
                audit.append(
                    session,
                    at=now,
                    user_id=system,
                    action="alert.raise",
                    entity="alert",
                    entity_id=alert.id,
                    patient_id=episode.patient_id,
                    after={"key": key, "priority": finding.priority.label, "message": finding.message},
                )
                self._acknowledge_confirmed_warning(session, alert.id, finding, now)
                stored[key] = alert
                continue
            changed = (
                alert.message != finding.message
                or alert.evidence_json != evidence
                or alert.resolved_at != finding.resolved_at
                or alert.priority != int(finding.priority)
                or alert.withdrawn_at is not None
            )
            if alert.withdrawn_at is not None:
                # Shown again from now: escalation counts from here, not from a time it was withdrawn.
                alert.first_seen_at = now
                system = self._system_user_id(session) if system is None else system
                audit.append(
                    session,
                    at=now,
                    user_id=system,
                    action="alert.reinstate",
                    entity="alert",
                    entity_id=alert.id,
                    patient_id=episode.patient_id,
                    after={"key": key, "priority": finding.priority.label, "message": finding.message},
                    reason=(
                        f"the protocol raises it again ({protocol_change})"
                        if protocol_change
                        else "the data supports it again"
                    ),
                )
            if int(finding.priority) > alert.priority and alert.withdrawn_at is None:
                # Raised in priority (e.g. medium -> high): the escalation clock starts now, and the
                # step is audited, so a high alert never escalates before anyone saw it as high.
                alert.first_seen_at = now
                system = self._system_user_id(session) if system is None else system
                audit.append(
                    session,
                    at=now,
                    user_id=system,
                    action="alert.raise_priority",
                    entity="alert",
                    entity_id=alert.id,
                    patient_id=episode.patient_id,
                    before={"priority": Priority(alert.priority).label},
                    after={"priority": finding.priority.label, "message": finding.message},
                )
            if changed:
                alert.message, alert.evidence_json = finding.message, evidence
                alert.resolved_at, alert.priority = finding.resolved_at, int(finding.priority)
                alert.raised_at, alert.withdrawn_at, alert.updated_at = finding.raised_at, None, now
                changed_alerts[alert.id] = alert
        for key, alert in stored.items():
            if key not in findings and alert.withdrawn_at is None:
                alert.withdrawn_at = now
                alert.updated_at = now
                changed_alerts[alert.id] = alert
                system = self._system_user_id(session) if system is None else system
                audit.append(
                    session,
                    at=now,
                    user_id=system,
                    action="alert.withdraw",
                    entity="alert",
                    entity_id=alert.id,
                    patient_id=episode.patient_id,
                    reason=(
                        f"the protocol no longer raises it ({protocol_change})"
                        if protocol_change
                        else "the data no longer supports it (a record was amended or entered in error)"
                    ),
                )
        if changed_alerts:
            connection.execute(
                _UPDATE_ALERT,
                [
                    {"alert_id": a.id, **{name: getattr(a, name) for name in _CHANGEABLE}}
                    for a in changed_alerts.values()
                ],
            )
        # After the writes: the escalation check reads the alerts' stored state.
        self._record_escalations(session, episode, list(stored.values()), protocol, now)

    def _record_escalations(
        self,
        session: Session,
        episode: EpisodeFacts,
        alerts: list[_StoredAlert],
        protocol: Protocol,
        now: datetime,
    ) -> None:
        """Write the escalation step (by the system account) the first time it is noticed.

        Only a high alert shown at least escalate_after ago, and not resolved before then, can escalate
        (as in _escalate_on_time): those are told apart here, then with their acknowledgements as there;
        the events are read for the rest alone, which on most writes is none."""
        due = [
            a.id
            for a in alerts
            if a.priority == int(Priority.HIGH)
            and _may_escalate_by(a.first_seen_at, a.raised_at, a.resolved_at, a.withdrawn_at, protocol, now)
        ]
        if due:
            candidates = self._escalation_candidates(session, protocol, now, _CANDIDATES_AMONG, {"ids": due})
            if candidates:
                chosen = [a for a in alerts if a.id in candidates]
                events = _events_by_alert(session, list(candidates))
                self._write_escalations(
                    session, chosen, events, {episode.id: episode.patient_id}, protocol, now
                )

    def _escalate_on_time(self, session: Session, protocol: Protocol, now: datetime, done: set[int]) -> None:
        """Escalations that fall due with no new data, for the open episodes not evaluated on this tick
        (`done`: their escalations are written by _sync_alerts), from the alert tables alone."""
        candidates = self._escalation_candidates(session, protocol, now, _CANDIDATES_OPEN)
        patients = {
            alert_id: patient
            for alert_id, (episode_id, patient) in candidates.items()
            if episode_id not in done
        }
        if patients:
            alerts = list(session.scalars(select(Alert).where(Alert.id.in_(patients))))
            events = _events_by_alert(session, [a.id for a in alerts])
            by_episode = {a.episode_id: patients[a.id] for a in alerts}
            self._write_escalations(session, alerts, events, by_episode, protocol, now)

    def _escalation_candidates(
        self,
        session: Session,
        protocol: Protocol,
        now: datetime,
        statement: _CandidateRows,
        values: dict[str, Any] | None = None,
    ) -> dict[int, tuple[int, int]]:
        """The alerts a _CANDIDATES statement finds that may escalate now, with their episode and
        patient, by alert id.

        Only a high alert that has not escalated yet can escalate, and only if it was neither
        acknowledged nor resolved within escalate_after of being shown (escalation falls due then, or
        later when a snooze runs): those are told apart here from plain columns, and only the rest is
        read with its events and given the same status as everywhere (_status)."""
        candidates: dict[int, tuple[int, int]] = {}
        for row in plain_rows(session, statement, values):
            if not _may_escalate_by(
                row.first_seen_at, row.raised_at, row.resolved_at, row.withdrawn_at, protocol, now
            ):
                continue
            earliest = max(row.first_seen_at, row.raised_at) + protocol.escalate_after
            if row.first_ack is not None and row.first_ack <= min(now, earliest):
                continue  # acknowledged before it could escalate: it never will
            candidates[row.id] = (row.episode_id, row.patient_id)
        return candidates

    def _write_escalations(
        self,
        session: Session,
        alerts: Sequence[Alert | _StoredAlert],
        events: dict[int, list[AlertEvent]],
        patients: dict[int, int],
        protocol: Protocol,
        now: datetime,
    ) -> None:
        system: int | None = None
        for alert in alerts:
            status = _status(alert, events.get(alert.id, []), protocol, now)
            already = any(e.kind is EventKind.ESCALATE for e in events.get(alert.id, []))
            if status.escalated_at is not None and not already:
                system = self._system_user_id(session) if system is None else system
                session.add(
                    AlertEventRow(
                        alert_id=alert.id,
                        kind=EventKind.ESCALATE.value,
                        at=now,
                        user_id=system,
                        reason="not acknowledged in time",
                        until=None,
                    )
                )
                audit.append(
                    session,
                    at=now,
                    user_id=system,
                    action="alert.escalate",
                    entity="alert",
                    entity_id=alert.id,
                    patient_id=patients[alert.episode_id],
                    after={"escalated_at": status.escalated_at, "for": "physician"},
                    reason=f"high priority, not acknowledged within {protocol.escalate_after_minutes} min",
                )

    def _acknowledge_confirmed_warning(
        self, session: Session, alert_id: int, finding: Finding, now: datetime
    ) -> None:
        """An alert that says what the nurse was warned about before saving the dose, and gave a reason
        for, is acknowledged by her with that reason (audited as hers), so the same decision is not
        asked for twice (domain.md section 6). Done when the alert is first raised: a dose timed a few
        minutes ahead raises its alerts only when its time comes, after the write that saved it."""
        if finding.rule not in DOSE_WARNING_RULES:
            return
        dose_id = finding.evidence.get("dose_id")
        dose = session.get(Dose, dose_id) if isinstance(dose_id, int) else None
        if dose is None or not dose.warning_reason or finding.message not in json.loads(dose.warnings_json):
            return
        user = session.get(User, dose.recorded_by_id)
        assert user is not None
        view = self._alert_view(session, alert_id, now)
        self._add_event(session, user, view, EventKind.ACKNOWLEDGE, now, dose.warning_reason, None)

    def refresh_alerts(self, *, full: bool = False) -> list[AlertView]:
        """Bring every open episode's alerts up to now (the GUI's timer calls this every few seconds so
        overdue alerts appear by themselves) and return the unresolved alerts, highest priority and
        newest first.

        Evaluates only the open episodes whose schedule says their findings can have changed since they
        were last evaluated (due_at passed), those without a schedule yet (a database from before it,
        schema 0005) and those evaluated at a time after now (a clock set back, or another workstation's
        clock ahead): the others would give the same findings (monitor.domain.rules.next_change_at), so
        their timelines are not even built. Escalation, which follows from time and from what people
        did rather than from the rules, is checked on every tick for every open episode. full: evaluate
        every open episode whatever the schedule says."""
        now = self.clock.now()
        with self.db.write() as session:
            protocol = load_protocol(session)
            query = (
                select(Episode.id)
                .outerjoin(AlertSchedule, AlertSchedule.episode_id == Episode.id)
                .where(Episode.discharged_at.is_(None))
            )
            if not full:
                query = query.where(
                    or_(
                        AlertSchedule.episode_id.is_(None),
                        AlertSchedule.due_at <= now,
                        AlertSchedule.evaluated_at > now,
                    )
                )
            due = list(session.scalars(query))
            episodes = list(episode_facts(session, due).values())
            if episodes:
                # Their records in one query per record kind, not a round of queries each.
                timelines = build_timelines(session, episodes)
                for episode in episodes:
                    self._sync_alerts(
                        session, episode, now, timeline=timelines[episode.id], protocol=protocol
                    )
            self._escalate_on_time(session, protocol, now, {e.id for e in episodes})
            # The list as of the same moment, in the same transaction (one protocol read, one begin).
            return self._alert_list(session, protocol, now)

    # --- queries -----------------------------------------------------------------------------------

    def alerts(self, *, include_inactive: bool = False, episode_id: int | None = None) -> list[AlertView]:
        now = self.clock.now()
        with self.db.read() as session:
            return self._alert_list(
                session, load_protocol(session), now, include_inactive=include_inactive, episode_id=episode_id
            )

    def _alert_list(
        self,
        session: Session,
        protocol: Protocol,
        now: datetime,
        *,
        include_inactive: bool = False,
        episode_id: int | None = None,
    ) -> list[AlertView]:
        query = (
            select(Alert, Episode, Patient)
            .join(Episode, Episode.id == Alert.episode_id)
            .join(Patient, Patient.id == Episode.patient_id)
        )
        if episode_id is not None:
            query = query.where(Alert.episode_id == episode_id)
        else:
            query = query.where(Episode.discharged_at.is_(None))
        if not include_inactive:
            # Leave out in SQL what the state filter below drops for certain (alert_state.alert_status:
            # resolved or withdrawn by now; else acknowledged since it was last shown), so that the
            # list of a ward with weeks of acknowledged alerts reads only the few that are live.
            acknowledged = select(AlertEventRow.id).where(
                AlertEventRow.alert_id == Alert.id,
                AlertEventRow.kind == EventKind.ACKNOWLEDGE.value,
                AlertEventRow.at >= Alert.first_seen_at,
                AlertEventRow.at >= Alert.raised_at,
                AlertEventRow.at <= now,
            )
            query = query.where(
                or_(Alert.resolved_at.is_(None), Alert.resolved_at > now),
                or_(Alert.withdrawn_at.is_(None), Alert.withdrawn_at > now),
                ~acknowledged.exists(),
            )
        rows = session.execute(query).all()
        events = _events_by_alert(session, [a.id for a, _, _ in rows])
        views = [_view(a, e, p, events.get(a.id, []), protocol, now) for a, e, p in rows]
        if not include_inactive:
            views = [v for v in views if v.state not in ("acknowledged", "resolved")]
        return sort_alerts(views)

    def alert(self, alert_id: int) -> AlertView:
        now = self.clock.now()
        with self.db.read() as session:
            return self._alert_view(session, alert_id, now)

    def _alert_view(self, session: Session, alert_id: int, now: datetime) -> AlertView:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFound(f"Alert {alert_id} does not exist.")
        episode = self._episode(session, alert.episode_id)
        patient = session.get(Patient, episode.patient_id)
        assert patient is not None
        events = _events_by_alert(session, [alert.id]).get(alert.id, [])
        return _view(alert, episode, patient, events, load_protocol(session), now)

    def alerts_as_of(
        self, at: datetime, *, mrn: str | None = None, include_all: bool = False
    ) -> list[AlertView]:
        """Evaluate as of a past or present time without writing: records after `at` are ignored, and
        only what people did up to `at` counts (for scripted checks and `monitor alerts --at`).

        include_all: every alert ever raised with its state (`monitor alerts --all`), so also the stored
        alerts the data no longer supports (e.g. their COWS was entered in error), shown by `at`, as
        resolved when they were withdrawn, with the message and evidence they were raised with."""
        with self.db.read() as session:
            if mrn is not None and session.scalar(select(Patient.id).where(Patient.mrn == mrn)) is None:
                # Not "no alerts" for a mistyped MRN: that reads as an all-clear for the patient meant.
                raise NotFound(f"No patient has the MRN {mrn!r}.")
            query = select(Episode, Patient).join(Patient, Patient.id == Episode.patient_id)
            query = query.where(Episode.admitted_at <= at)
            if not include_all:
                # Like the alert list: a patient discharged by then has no alerts to act on (the
                # history, with include_all, keeps them).
                query = query.where(or_(Episode.discharged_at.is_(None), Episode.discharged_at > at))
            if mrn is not None:
                query = query.where(Patient.mrn == mrn)
            protocol = load_protocol(session)
            views: list[AlertView] = []
            for episode, patient in session.execute(query).all():
                findings = evaluate(build_timeline(session, EpisodeFacts.of(episode, patient)), protocol, at)
                stored = {
                    a.key: a for a in session.scalars(select(Alert).where(Alert.episode_id == episode.id))
                }
                events = _events_by_alert(session, [a.id for a in stored.values()])
                for finding in findings:
                    known = stored.get(finding.key)
                    shown = known.first_seen_at if known and known.first_seen_at <= at else finding.raised_at
                    alert = Alert(
                        id=known.id if known else 0,
                        key=finding.key,
                        episode_id=episode.id,
                        rule=finding.rule,
                        priority=int(finding.priority),
                        raised_at=finding.raised_at,
                        first_seen_at=max(shown, finding.raised_at),
                        message=finding.message,
                        evidence_json=json.dumps(finding.evidence),
                        resolved_at=finding.resolved_at,
                        withdrawn_at=None,
                        updated_at=at,
                    )
                    views.append(
                        _view(
                            alert, episode, patient, events.get(known.id, []) if known else [], protocol, at
                        )
                    )
                if include_all:
                    current = {f.key for f in findings}
                    for key, gone in stored.items():
                        if key in current or gone.first_seen_at > at or gone.raised_at > at:
                            continue
                        view = _view(gone, episode, patient, events.get(gone.id, []), protocol, at)
                        views.append(
                            dataclasses.replace(
                                view,
                                state=AlertState.RESOLVED.value,
                                resolved_at=gone.withdrawn_at or gone.resolved_at,
                                snoozed_until=None,
                                sound=False,
                            )
                        )
                session.expunge_all()
        if not include_all:
            views = [v for v in views if v.state not in ("acknowledged", "resolved")]
        return sort_alerts(views)

    # --- people's steps ----------------------------------------------------------------------------

    def acknowledge_alert(self, actor: str, alert_id: int, reason: str = "") -> AlertView:
        now = self.clock.now()
        with self.db.write() as session:
            user = self._actor(session, actor, "acknowledge_alert")
            view = self._alert_view(session, alert_id, now)
            if view.priority == Priority.HIGH.label:
                why = require_reason("Reason", reason, "acknowledge a high-priority alert")
            else:
                why = checked_text("Reason", reason, MAX_REASON)
            if view.state == AlertState.ACKNOWLEDGED.value:
                return view
            self._add_event(session, user, view, EventKind.ACKNOWLEDGE, now, why, None)
            return self._alert_view(session, alert_id, now)

    def snooze_alert(self, actor: str, alert_id: int, minutes: int, reason: str = "") -> AlertView:
        now = self.clock.now()
        with self.db.write() as session:
            user = self._actor(session, actor, "snooze_alert")
            view = self._alert_view(session, alert_id, now)
            try:
                until = alert_state.snooze_until(
                    Priority[view.priority.upper()], timedelta(minutes=minutes), load_protocol(session), now
                )
            except alert_state.SnoozeRefused as exc:
                raise ValidationError("Snooze (minutes)", str(exc)) from exc
            self._add_event(
                session, user, view, EventKind.SNOOZE, now, checked_text("Reason", reason, MAX_REASON), until
            )
            return self._alert_view(session, alert_id, now)

    def silence_alert(self, actor: str, alert_id: int) -> AlertView:
        """Stop the sound of this alert until it escalates (the sound itself cannot be turned off)."""
        now = self.clock.now()
        with self.db.write() as session:
            user = self._actor(session, actor, "silence_alert")
            view = self._alert_view(session, alert_id, now)
            self._add_event(session, user, view, EventKind.SILENCE, now, "", None)
            return self._alert_view(session, alert_id, now)

    def _add_event(
        self,
        session: Session,
        user: User,
        view: AlertView,
        kind: EventKind,
        now: datetime,
        reason: str,
        until: datetime | None,
    ) -> None:
        session.add(
            AlertEventRow(
                alert_id=view.id, kind=kind.value, at=now, user_id=user.id, reason=reason, until=until
            )
        )
        episode = self._episode(session, view.episode_id)
        audit.append(
            session,
            at=now,
            user_id=user.id,
            action=f"alert.{kind.value}",
            entity="alert",
            entity_id=view.id,
            patient_id=episode.patient_id,
            before={"state": view.state},
            after={"state": kind.value, "until": until, "message": view.message},
            reason=reason,
        )
        session.flush()


def sort_alerts(views: Iterable[AlertView]) -> list[AlertView]:
    """Highest priority first, then newest (the order of the alert bar and list)."""
    return sorted(views, key=lambda v: (-v.priority_rank, -v.raised_at.timestamp(), v.key))


def _events_by_alert(session: Session, alert_ids: Sequence[int]) -> dict[int, list[AlertEvent]]:
    if not alert_ids:
        return {}
    rows = session.execute(
        select(AlertEventRow, User.username)
        .join(User, User.id == AlertEventRow.user_id)
        .where(AlertEventRow.alert_id.in_(alert_ids))
        .order_by(AlertEventRow.id)
    ).all()
    result: dict[int, list[AlertEvent]] = {}
    for row, username in rows:
        result.setdefault(row.alert_id, []).append(
            AlertEvent(kind=EventKind(row.kind), at=row.at, by=username, reason=row.reason, until=row.until)
        )
    return result


def _may_escalate_by(
    first_seen_at: datetime,
    raised_at: datetime,
    resolved_at: datetime | None,
    withdrawn_at: datetime | None,
    protocol: Protocol,
    now: datetime,
) -> bool:
    """Whether a high alert, whatever was done about it, may have escalated by now: shown escalate_after
    ago or more, and neither resolved nor withdrawn by then (it never will once it was)."""
    earliest = max(first_seen_at, raised_at) + protocol.escalate_after
    if earliest > now:
        return False  # not due yet
    ends = [t for t in (resolved_at, withdrawn_at) if t is not None]
    return not (ends and min(ends) <= earliest)


def _status(
    alert: Alert | _StoredAlert, events: list[AlertEvent], protocol: Protocol, now: datetime
) -> alert_state.AlertStatus:
    resolved = alert.resolved_at
    if alert.withdrawn_at is not None:
        resolved = alert.withdrawn_at if resolved is None else min(resolved, alert.withdrawn_at)
    shown = max(alert.first_seen_at, alert.raised_at)
    return alert_state.alert_status(Priority(alert.priority), shown, resolved, events, protocol, now)


def _view(
    alert: Alert,
    episode: Episode,
    patient: Patient,
    events: list[AlertEvent],
    protocol: Protocol,
    now: datetime,
) -> AlertView:
    status = _status(alert, events, protocol, now)
    ack = status.acknowledged
    evidence: dict[str, Any] = json.loads(alert.evidence_json)
    priority = Priority(alert.priority)
    return AlertView(
        id=alert.id,
        key=alert.key,
        episode_id=episode.id,
        mrn=patient.mrn,
        patient=patient.name,
        bed=episode.bed,
        rule=alert.rule,
        title=RULE_TITLES.get(alert.rule, alert.rule),
        priority=priority.label,
        priority_rank=int(priority),
        raised_at=alert.raised_at,
        shown_at=max(alert.first_seen_at, alert.raised_at),
        message=alert.message,
        evidence=evidence,
        state=status.state.value,
        resolved_at=alert.resolved_at or alert.withdrawn_at,
        acknowledged_by=ack.by if ack else "",
        acknowledged_at=ack.at if ack else None,
        acknowledge_reason=ack.reason if ack else "",
        snoozed_until=status.snoozed_until,
        escalated_at=status.escalated_at,
        silenced=status.silenced,
        sound=status.sound,
    )
