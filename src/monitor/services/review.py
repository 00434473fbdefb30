"""The physician's and charge nurse's overview: the ward board, the review queue and sign-off.

A sign-off covers an episode's period (from the previous sign-off, or admission, to its end); a record
of that period amended or entered in error afterwards is marked "changed after sign-off".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.domain import medications, scales
from monitor.domain.protocol import Protocol
from monitor.domain.timeline import DoseRecord, ScoredAssessment
from monitor.services.base import ServiceBase, require_reason
from monitor.services.errors import Conflict, ValidationError
from monitor.services.timeline_builder import (
    current_cows,
    last_antagonist_doses,
    load_protocol,
    second_newest_cows_times,
)
from monitor.services.views import AlertView, ReviewItem, SignOffView, WardRow
from monitor.store import audit
from monitor.store.models import AuditEntry, Episode, Patient, SignOff, User

REVIEW_INTERVAL = timedelta(hours=24)  # issue 4: episodes not reviewed for 24 h join the queue
SPARKLINE_SPAN = timedelta(hours=24)


class ReviewMixin(ServiceBase):
    # The alerting mixin provides this (it comes first in ClinicalService's bases); declared here for
    # the type checker.
    def alerts(self, *, include_inactive: bool = False, episode_id: int | None = None) -> list[AlertView]:
        raise NotImplementedError

    def data_version(self) -> int:
        """A change counter: every write appends an audit row, so its newest id moves with any change,
        made here or at another workstation. Views poll it and reload only when it moved."""
        with self.db.read() as session:
            return session.scalar(select(func.max(AuditEntry.id))) or 0

    def ward_board(self, alerts: Sequence[AlertView] | None = None) -> list[WardRow]:
        """Every open episode, the worst first: highest alert needing action, then the highest COWS.
        alerts: the current alerts (self.alerts()) when the caller has just read them for the alert bar."""
        now = self.clock.now()
        by_episode: dict[int, list[AlertView]] = {}
        for alert in self.alerts() if alerts is None else alerts:
            if alert.needs_action or alert.state == "snoozed":
                by_episode.setdefault(alert.episode_id, []).append(alert)
        with self.db.read() as session:
            protocol = load_protocol(session)
            rows = session.execute(
                select(Episode, Patient)
                .join(Patient, Patient.id == Episode.patient_id)
                .where(Episode.discharged_at.is_(None))
            ).all()
            ids = [episode.id for episode, _patient in rows]
            # Only what a row shows, for every open episode at once: the last antagonist dose, and the
            # COWS from when the row needs them (a 20,000-assessment stay is read from about its last day).
            last_doses = last_antagonist_doses(session, ids)
            since = _board_window(ids, last_doses, second_newest_cows_times(session, ids), protocol, now)
            cows = current_cows(session, ids, since)
            board = [
                _ward_row(
                    cows[episode.id],
                    last_doses.get(episode.id),
                    episode,
                    patient,
                    by_episode.get(episode.id, []),
                    protocol,
                    now,
                )
                for episode, patient in rows
            ]
        return sorted(board, key=lambda r: (-r.worst_priority, -(r.latest_total or -1), r.bed))

    # --- sign-off -----------------------------------------------------------------------------------

    def sign_off(
        self, actor: str, episode_id: int, comment: str, period_end: datetime | None = None
    ) -> SignOffView:
        now = self.clock.now()
        text = require_reason("Comment", comment, "sign off a period")
        end = self._checked_time("Period end", period_end or now, now)
        with self.db.write() as session:
            user = self._actor(session, actor, "sign_off")
            episode = self._episode(session, episode_id)
            previous = _last_sign_off(session, episode_id)
            start = previous.period_end if previous else episode.admitted_at
            if end <= start:
                raise Conflict("This period is already signed off; nothing new to sign.")
            if end < episode.admitted_at:
                raise ValidationError("Period end", "The period ends before the admission.")
            row = SignOff(
                episode_id=episode.id,
                period_start=start,
                period_end=end,
                signed_at=now,
                signed_by_id=user.id,
                comment=text,
            )
            session.add(row)
            session.flush()
            audit.append(
                session,
                at=now,
                user_id=user.id,
                action="episode.sign_off",
                entity="sign_off",
                entity_id=row.id,
                patient_id=episode.patient_id,
                after={"period_start": start, "period_end": end, "comment": text},
            )
            return _sign_off_view(row, user.username)

    def sign_offs(self, episode_id: int) -> list[SignOffView]:
        with self.db.read() as session:
            rows = session.execute(
                select(SignOff, User.username)
                .join(User, User.id == SignOff.signed_by_id)
                .where(SignOff.episode_id == episode_id)
                .order_by(SignOff.period_end)
            ).all()
            return [_sign_off_view(row, name) for row, name in rows]

    def review_queue(self) -> list[ReviewItem]:
        """Escalated alerts, precipitated-withdrawal alerts, and episodes not reviewed for 24 h."""
        now = self.clock.now()
        items: list[ReviewItem] = []
        with self.db.read() as session:
            episodes = session.execute(
                select(Episode, Patient)
                .join(Patient, Patient.id == Episode.patient_id)
                .where(Episode.discharged_at.is_(None))
            ).all()
            last = {e.id: _last_sign_off(session, e.id) for e, _ in episodes}
        for alert in self.alerts(include_inactive=True):
            signed = last.get(alert.episode_id)
            reviewed = signed is not None and signed.period_end >= alert.raised_at
            if reviewed:  # a sign-off covering the alert's time is the physician's review of it
                continue
            if alert.escalated_at is not None:
                kind, since = "escalated alert", alert.escalated_at
            elif alert.rule == "precipitated_withdrawal":
                kind, since = "precipitated withdrawal", alert.raised_at
            else:
                continue
            items.append(
                ReviewItem(
                    kind=kind,
                    episode_id=alert.episode_id,
                    patient=alert.patient,
                    bed=alert.bed,
                    mrn=alert.mrn,
                    detail=alert.message,
                    since=since,
                    alert_id=alert.id,
                )
            )
        for episode, patient in episodes:
            signed = last.get(episode.id)
            since = signed.signed_at if signed else episode.admitted_at
            if now - since >= REVIEW_INTERVAL:
                what = f"last signed off {since:%Y-%m-%d %H:%M} UTC" if signed else "never signed off"
                items.append(
                    ReviewItem(
                        kind="not reviewed for 24 h",
                        episode_id=episode.id,
                        patient=patient.name,
                        bed=episode.bed,
                        mrn=patient.mrn,
                        detail=what,
                        since=since,
                    )
                )
        order = {"escalated alert": 0, "precipitated withdrawal": 1, "not reviewed for 24 h": 2}
        return sorted(items, key=lambda i: (order[i.kind], i.since))


def _offset_label(offset: timedelta) -> str:
    """E.g. "30 min", "2 h", "1 h 30 min" (the ward board's next-due reason)."""
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes:02d} min" if minutes else "")


def _last_sign_off(session: Session, episode_id: int) -> SignOff | None:
    return session.scalar(
        select(SignOff).where(SignOff.episode_id == episode_id).order_by(SignOff.period_end.desc()).limit(1)
    )


def _sign_off_view(row: SignOff, username: str) -> SignOffView:
    return SignOffView(
        id=row.id,
        episode_id=row.episode_id,
        period_start=row.period_start,
        period_end=row.period_end,
        signed_at=row.signed_at,
        signed_by=username,
        comment=row.comment,
    )


def _board_window(
    episode_ids: Sequence[int],
    last_doses: dict[int, DoseRecord],
    second_newest: dict[int, datetime],
    protocol: Protocol,
    now: datetime,
) -> dict[int, datetime]:
    """From when each episode's COWS matter to its ward-board row (_ward_row): the sparkline's span, the
    newest two (the latest total and its change) and the last antagonist's reassessment slots still open
    (whether each was met), whichever reaches back furthest. A slot whose window has closed changes
    nothing on the row, so the COWS around it are not read."""
    tolerance = protocol.reassess_tolerance
    window = {}
    for i in episode_ids:
        moments = [now - SPARKLINE_SPAN]
        if i in second_newest:
            moments.append(second_newest[i])
        if i in last_doses:
            given_at = last_doses[i].given_at
            moments.extend(
                given_at + offset - tolerance
                for offset in (protocol.reassess_first, protocol.reassess_second)
                if given_at + offset + tolerance >= now
            )
        window[i] = min(moments)
    return window


def _ward_row(
    cows: Sequence[ScoredAssessment],
    last_dose: DoseRecord | None,
    episode: Episode,
    patient: Patient,
    alerts: Sequence[AlertView],
    protocol: Protocol,
    now: datetime,
) -> WardRow:
    """cows: the episode's current COWS, oldest first (at least those since _board_window's moment);
    last_dose: its newest antagonist dose."""
    latest = cows[-1] if cows else None
    before = cows[-2] if len(cows) > 1 else None
    due_at = (latest.taken_at if latest else episode.admitted_at) + protocol.routine_interval
    reason = "routine"
    if last_dose is not None:
        # The clinic's post-dose reassessments (protocol settings), each due within the tolerance.
        tolerance = protocol.reassess_tolerance
        for offset in (protocol.reassess_first, protocol.reassess_second):
            slot = last_dose.given_at + offset
            met = any(abs(a.taken_at - slot) <= tolerance for a in cows)
            if not met and slot + tolerance >= now and slot < due_at:
                due_at, reason = slot, f"post-dose +{_offset_label(offset)}"
                break
    active = [a for a in alerts if a.needs_action]
    top = max(active, key=lambda a: (a.priority_rank, a.raised_at)) if active else None
    return WardRow(
        episode_id=episode.id,
        bed=episode.bed,
        patient=patient.name,
        mrn=patient.mrn,
        latest_total=latest.total if latest else None,
        latest_band=scales.COWS.band_for(latest.total).label if latest else "",
        latest_at=latest.taken_at if latest else None,
        change=(latest.total - before.total) if latest and before else None,
        next_due_at=due_at,
        next_due_reason=reason,
        alerts_high=sum(a.priority == "high" for a in active),
        alerts_medium=sum(a.priority == "medium" for a in active),
        alerts_low=sum(a.priority == "low" for a in active),
        top_alert=top.message if top else "",
        last_antagonist=medications.describe_dose(last_dose.drug, last_dose.form, last_dose.dose_mg)
        if last_dose
        else "",
        last_antagonist_at=last_dose.given_at if last_dose else None,
        sparkline=tuple((a.taken_at, a.total) for a in cows if a.taken_at >= now - SPARKLINE_SPAN),
    )
