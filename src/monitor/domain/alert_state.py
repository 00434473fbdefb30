"""The alert workflow as a pure function: acknowledged, snoozed, escalated or resolved, as of a time.

The alert itself is derived by the rules; what people did about it (acknowledge with a reason, snooze,
silence) is a list of stored events; escalation follows from time. Keeping this pure lets the GUI, the
`monitor alerts --at TIME` command and the tests agree on every state.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.domain.protocol import Protocol
from monitor.domain.rules import Priority


class AlertState(enum.Enum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class EventKind(enum.Enum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    ESCALATE = "escalate"
    SILENCE = "silence"


@dataclass(frozen=True)
class AlertEvent:
    kind: EventKind
    at: datetime
    by: str
    reason: str = ""
    until: datetime | None = None


@dataclass(frozen=True)
class AlertStatus:
    state: AlertState
    acknowledged: AlertEvent | None
    snoozed_until: datetime | None
    escalation_due_at: datetime | None
    escalated_at: datetime | None
    silenced: bool
    sound: bool

    @property
    def needs_action(self) -> bool:
        """Shown in the alert bar: nobody has dealt with it yet."""
        return self.state in (AlertState.ACTIVE, AlertState.ESCALATED)


class SnoozeRefused(ValueError):
    pass


def snooze_cap(priority: Priority, protocol: Protocol) -> timedelta:
    """High alerts may only be snoozed briefly (domain.md section 6: a capped snooze)."""
    return protocol.high_snooze_cap if priority is Priority.HIGH else protocol.other_snooze_cap


def snooze_until(priority: Priority, requested: timedelta, protocol: Protocol, now: datetime) -> datetime:
    if requested <= timedelta(0):
        raise SnoozeRefused("A snooze must last at least one minute.")
    cap = snooze_cap(priority, protocol)
    if requested > cap:
        minutes = int(cap.total_seconds() // 60)
        raise SnoozeRefused(f"A {priority.label}-priority alert can be snoozed for at most {minutes} min.")
    return now + requested


def _escalation_due(
    priority: Priority, shown_at: datetime, snoozes: Sequence[AlertEvent], protocol: Protocol
) -> datetime | None:
    if priority is not Priority.HIGH:
        return None
    due = shown_at + protocol.escalate_after
    # A snooze running when escalation falls due postpones it to the snooze's end (at most the cap).
    # Only snoozes running at that moment count: a snooze renewed before the last one ends must not
    # put escalation off again and again (that would make the cap and the escalation meaningless).
    running = [e.until for e in snoozes if e.until is not None and e.at <= due < e.until]
    return max([due, *running])


def alert_status(
    priority: Priority,
    shown_at: datetime,
    resolved_at: datetime | None,
    events: Sequence[AlertEvent],
    protocol: Protocol,
    now: datetime,
) -> AlertStatus:
    """The state of one alert as of `now`; events after `now` are ignored.

    shown_at is when the alert first appeared (escalation counts from it, not from a back-charted
    clinical time).
    """
    # Only what people did since the alert was (last) shown counts: an alert shown again, or raised in
    # priority (e.g. medium -> high), needs a fresh acknowledgement and sounds again.
    past = sorted((e for e in events if shown_at <= e.at <= now), key=lambda e: e.at)
    acks = [e for e in past if e.kind is EventKind.ACKNOWLEDGE]
    acknowledged = acks[0] if acks else None
    snoozes = [e for e in past if e.kind is EventKind.SNOOZE]
    due = _escalation_due(priority, shown_at, snoozes, protocol)
    escalated_at = None
    if (
        due is not None
        and now >= due
        and (acknowledged is None or acknowledged.at > due)
        and (resolved_at is None or resolved_at > due)
    ):
        escalated_at = due
    # A snooze taken before the escalation does not hide the escalated alert (as with silence); one
    # taken after it (the physician has been called) is honoured.
    running = [
        e
        for e in snoozes
        if e.until is not None and e.at <= now < e.until and (escalated_at is None or e.at >= escalated_at)
    ]
    snoozed_until = running[-1].until if running else None
    if resolved_at is not None and resolved_at <= now:
        state = AlertState.RESOLVED
    elif acknowledged is not None:
        state = AlertState.ACKNOWLEDGED
    elif snoozed_until is not None:
        state = AlertState.SNOOZED
    elif escalated_at is not None:
        state = AlertState.ESCALATED
    else:
        state = AlertState.ACTIVE
    # Silencing stops the sound until the alert escalates; an escalated alert sounds again.
    silences = [e for e in past if e.kind is EventKind.SILENCE]
    silenced = any(escalated_at is None or s.at >= escalated_at for s in silences)
    sound = priority is Priority.HIGH and state in (AlertState.ACTIVE, AlertState.ESCALATED) and not silenced
    return AlertStatus(
        state=state,
        acknowledged=acknowledged,
        snoozed_until=snoozed_until,
        escalation_due_at=due,
        escalated_at=escalated_at,
        silenced=silenced,
        sound=sound,
    )
