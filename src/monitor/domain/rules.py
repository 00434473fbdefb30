"""The clinical alert rules: pure functions from an episode's timeline and the protocol to findings.

Every threshold and interval comes from the clinic's Protocol (monitor.domain.protocol), whose defaults
trace to shared/domain.md sections 3 and 4; priorities follow section 6 (high = immediate response,
medium = prompt, low = awareness). A finding is derived from data: its `key` is its stable identity, the
same on every re-evaluation of the same data, so the services can keep alert state (acknowledged,
snoozed, escalated) against it without ever duplicating an alert.

Times are compared in UTC (aware datetimes); messages show them in the episode's zone as HH:MM.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.domain.medications import DrugRole, describe_dose, drug
from monitor.domain.protocol import Protocol
from monitor.domain.scales import COWS
from monitor.domain.substances import OpioidAction, substance
from monitor.domain.timeline import DoseRecord, ScoredAssessment, Timeline, VitalsRecord

__all__ = [
    "RULES",
    "RULE_TITLES",
    "Finding",
    "Priority",
    "evaluate",
    "evaluate_with_next_change",
    "format_duration",
    "is_antagonist",
    "next_change_at",
    "preview_dose",
]


class Priority(enum.IntEnum):
    """Alarm priority in the spirit of IEC 60601-1-8 (domain.md section 6)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        """ "high", "medium" or "low": the word to show beside the shape and colour."""
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One alert the rules derive from the data.

    key: stable identity (rule, episode, and the record(s) it is about), identical on every
    re-evaluation of the same data. evidence: JSON-serialisable facts behind the message (times as ISO
    8601 strings in UTC). resolved_at: when the data showed the problem over, if it has.
    """

    key: str
    rule: str
    episode_id: int
    priority: Priority
    raised_at: datetime
    message: str
    evidence: Mapping[str, Any] = field(hash=False)
    resolved_at: datetime | None = None


RULES: tuple[str, ...] = (
    "precipitated_withdrawal",
    "antagonist_too_soon",
    "no_baseline_assessment",
    "reassessment_overdue",
    "routine_assessment_overdue",
    "withdrawal_severity",
    "vital_signs",
)

# Headings for the alert list; the message carries the specifics.
RULE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "precipitated_withdrawal": "Possible precipitated withdrawal",
        "antagonist_too_soon": "Antagonist within the opioid-free interval",
        "no_baseline_assessment": "No baseline COWS before an antagonist",
        "reassessment_overdue": "Post-dose COWS overdue",
        "routine_assessment_overdue": "Routine COWS overdue",
        "withdrawal_severity": "Severe withdrawal score",
        "vital_signs": "Abnormal vital signs",
    }
)


# --- Formatting ---------------------------------------------------------------------------------------


def format_duration(delta: timedelta) -> str:
    """A duration as a nurse reads it: "50 min", "1 h 05 min", "2 h", "2 days 11 h", "3 days".

    Whole minutes, rounded down; minutes are dropped once the duration reaches a day.
    """
    if delta < timedelta(0):
        return "-" + format_duration(-delta)
    total_minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = f"{days} day" if days == 1 else f"{days} days"
        return f"{text} {hours} h" if hours else text
    if hours:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _zone(name: str) -> tzinfo:
    """The episode's zone; an unknown or malformed name falls back to UTC (messages only)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return UTC


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def is_antagonist(dose: DoseRecord) -> bool:
    """Naltrexone (either form) or naloxone: a dose that can precipitate withdrawal."""
    return drug(dose.drug).role is DrugRole.ANTAGONIST


# --- Shared context -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every rule reads. No `now`: a rule sees the timeline as it stood at some moment (the caller
    cuts it with Timeline.as_of) and returns every finding that timeline implies, also those raised
    later (an overdue slot still ahead); the caller keeps those raised by its `now` (_ordered). So time
    changes the findings only through the cut and that filter: what next_change_at relies on."""

    timeline: Timeline
    protocol: Protocol
    zone: tzinfo
    antagonists: tuple[DoseRecord, ...]
    # Every opioid exposure the too-soon rule weighs: the reported last uses of opioids, then the
    # agonist doses given in the episode (worked out once, not for every antagonist dose).
    exposures: tuple[_Exposure, ...]
    # The assessments' times, in the timeline's order, for bisection (a long stay has 20,000).
    assessment_times: tuple[datetime, ...]

    @classmethod
    def build(cls, timeline: Timeline, protocol: Protocol) -> _Context:
        return cls(
            timeline,
            protocol,
            _zone(timeline.tz_name),
            tuple(d for d in timeline.doses if is_antagonist(d)),
            _opioid_exposures(timeline),
            tuple(a.taken_at for a in timeline.assessments),
        )

    def hhmm(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")

    def key(self, rule: str, *parts: str) -> str:
        return ":".join((rule, f"e{self.timeline.episode_id}", *parts))

    def finding(
        self,
        rule: str,
        parts: Sequence[str],
        priority: Priority,
        raised_at: datetime,
        message: str,
        evidence: dict[str, Any],
        resolved_at: datetime | None = None,
    ) -> Finding:
        return Finding(
            key=self.key(rule, *parts),
            rule=rule,
            episode_id=self.timeline.episode_id,
            priority=priority,
            raised_at=raised_at,
            message=message,
            evidence=evidence,
            resolved_at=resolved_at,
        )

    def baseline(self, dose: DoseRecord) -> ScoredAssessment | None:
        """The latest assessment in [given_at - baseline_max_age, given_at], both ends inclusive (the
        last in the timeline's order among those taken at the same time)."""
        latest = bisect.bisect_right(self.assessment_times, dose.given_at) - 1
        if latest >= 0 and self.assessment_times[latest] >= dose.given_at - self.protocol.baseline_max_age:
            return self.timeline.assessments[latest]
        return None

    def first_assessment_after(self, moment: datetime) -> ScoredAssessment | None:
        first = bisect.bisect_right(self.assessment_times, moment)
        return self.timeline.assessments[first] if first < len(self.assessment_times) else None


def _dose_evidence(dose: DoseRecord) -> dict[str, Any]:
    return {
        "dose_id": dose.id,
        "drug": dose.drug,
        "form": dose.form,
        "dose_mg": dose.dose_mg,
        "dose": describe_dose(dose.drug, dose.form, dose.dose_mg),
        "given_at": _iso(dose.given_at),
    }


# --- 1. precipitated_withdrawal -----------------------------------------------------------------------


def _belonging(ctx: _Context) -> dict[int, list[ScoredAssessment]]:
    """Assessments after each antagonist dose, by index into ctx.antagonists.

    An assessment belongs to the latest antagonist dose given strictly before it (ties in time go to the
    dose sorted last, i.e. the higher id); the window check is the caller's.
    """
    given = [d.given_at for d in ctx.antagonists]
    owned: dict[int, list[ScoredAssessment]] = {}
    for assessment in ctx.timeline.assessments:
        index = bisect.bisect_left(given, assessment.taken_at) - 1
        if index >= 0:
            owned.setdefault(index, []).append(assessment)
    return owned


def _precipitated_withdrawal(ctx: _Context) -> list[Finding]:
    p = ctx.protocol
    findings: list[Finding] = []
    owned = _belonging(ctx)
    for index, dose in enumerate(ctx.antagonists):
        window = p.window_for(dose.drug, dose.form)
        counted = [a for a in owned.get(index, []) if a.taken_at <= dose.given_at + window]
        baseline = ctx.baseline(dose)
        threshold = baseline.total + p.pw_rise if baseline is not None else p.no_baseline_threshold
        trigger_at = next((i for i, a in enumerate(counted) if a.total >= threshold), None)
        if trigger_at is None:
            continue
        trigger = counted[trigger_at]
        peak = trigger
        for later in counted[trigger_at + 1 :]:
            if later.total > peak.total:
                peak = later
        dose_text = describe_dose(dose.drug, dose.form, dose.dose_mg)
        after = format_duration(trigger.taken_at - dose.given_at)
        if baseline is not None:
            rise: int | None = trigger.total - baseline.total
            message = (
                f"COWS {baseline.total} -> {trigger.total} (+{rise}) {after} after {dose_text} "
                f"at {ctx.hhmm(dose.given_at)}"
            )
        else:
            rise = None
            message = (
                f"COWS {trigger.total} {after} after {dose_text} at {ctx.hhmm(dose.given_at)}, "
                f"no baseline COWS (alert level {p.no_baseline_threshold} without a baseline)"
            )
        if peak is not trigger:
            message += f"; peak COWS {peak.total} at {ctx.hhmm(peak.taken_at)}"
        evidence = _dose_evidence(dose) | {
            "baseline_total": baseline.total if baseline is not None else None,
            "baseline_at": _iso(baseline.taken_at) if baseline is not None else None,
            "baseline_assessment_id": baseline.id if baseline is not None else None,
            "trigger_total": trigger.total,
            "trigger_at": _iso(trigger.taken_at),
            "trigger_assessment_id": trigger.id,
            "rise": rise,
            "threshold": threshold,
            "minutes_after_dose": _minutes(trigger.taken_at - dose.given_at),
            "window_minutes": _minutes(window),
            "no_baseline": baseline is None,
            "peak_total": peak.total,
            "peak_at": _iso(peak.taken_at),
            "peak_assessment_id": peak.id,
        }
        findings.append(
            ctx.finding(
                "precipitated_withdrawal",
                (f"d{dose.id}",),
                Priority.HIGH,
                trigger.taken_at,
                message,
                evidence,
            )
        )
    return findings


# --- 2. antagonist_too_soon ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Exposure:
    substance: str
    last_use_at: datetime
    action: OpioidAction
    source: str  # "last_use" (reported) or "dose" (an agonist dose recorded in this episode)
    dose_id: int | None = None


def _opioid_exposures(timeline: Timeline) -> tuple[_Exposure, ...]:
    """The reported last uses of opioids (non-opioids never count), then the agonist doses given."""
    uses = [
        _Exposure(use.substance, use.last_use_at, action, "last_use")
        for use in timeline.substances
        if use.last_use_at is not None and (action := substance(use.substance).opioid_action) is not None
    ]
    given = [
        _Exposure(d.drug, d.given_at, OpioidAction.LONG, "dose", d.id)
        for d in timeline.doses
        if drug(d.drug).role is DrugRole.AGONIST
    ]
    return (*uses, *given)


def _exposures_before(ctx: _Context, dose: DoseRecord) -> list[_Exposure]:
    """The latest opioid exposure per substance at or before an antagonist dose."""
    latest: dict[str, _Exposure] = {}
    for exposure in ctx.exposures:
        # A use reported after the dose does not count for it, nor an agonist dose given with it.
        if exposure.last_use_at > dose.given_at or (
            exposure.source == "dose" and exposure.last_use_at == dose.given_at
        ):
            continue
        current = latest.get(exposure.substance)
        if current is None or exposure.last_use_at > current.last_use_at:
            latest[exposure.substance] = exposure
    return sorted(latest.values(), key=lambda e: (-e.last_use_at.timestamp(), e.substance))


def _antagonist_too_soon_for(ctx: _Context, dose: DoseRecord) -> Finding | None:
    p = ctx.protocol
    offending: list[dict[str, Any]] = []
    phrases: list[str] = []
    for exposure in _exposures_before(ctx, dose):
        elapsed = dose.given_at - exposure.last_use_at
        interval_days = p.opioid_free_days(exposure.action)
        if elapsed >= timedelta(days=interval_days):
            continue
        name = exposure.substance.replace("_", " ")
        what = "dose" if exposure.source == "dose" else "use"
        phrases.append(
            f"{format_duration(elapsed)} after the last {name} {what} "
            f"(opioid-free interval {_days(interval_days)})"
        )
        offending.append(
            {
                "substance": exposure.substance,
                "last_use_at": _iso(exposure.last_use_at),
                "elapsed_hours": round(elapsed.total_seconds() / 3600, 1),
                "interval_days": interval_days,
                "opioid_action": exposure.action.value,
                "source": exposure.source,
                "dose_id": exposure.dose_id,
            }
        )
    if not offending:
        return None
    dose_text = describe_dose(dose.drug, dose.form, dose.dose_mg)
    message = f"{_capitalised(dose_text)} at {ctx.hhmm(dose.given_at)} given " + " and ".join(phrases)
    return ctx.finding(
        "antagonist_too_soon",
        (f"d{dose.id}",),
        Priority.HIGH,
        dose.given_at,
        message,
        _dose_evidence(dose) | {"offending": offending},
    )


def _antagonist_too_soon(ctx: _Context) -> list[Finding]:
    return [f for d in ctx.antagonists if (f := _antagonist_too_soon_for(ctx, d)) is not None]


# --- 3. no_baseline_assessment ------------------------------------------------------------------------


def _no_baseline_for(ctx: _Context, dose: DoseRecord) -> Finding | None:
    if ctx.baseline(dose) is not None:
        return None
    max_age = ctx.protocol.baseline_max_age
    before = [a for a in ctx.timeline.assessments if a.taken_at <= dose.given_at]
    last = before[-1] if before else None
    dose_text = describe_dose(dose.drug, dose.form, dose.dose_mg)
    message = (
        f"{_capitalised(dose_text)} at {ctx.hhmm(dose.given_at)} given without a baseline COWS in the "
        f"{format_duration(max_age)} before it"
    )
    if last is not None:
        message += f" (last COWS {format_duration(dose.given_at - last.taken_at)} before the dose)"
    else:
        message += " (no COWS before it)"
    evidence = _dose_evidence(dose) | {
        "baseline_max_age_hours": ctx.protocol.baseline_max_age_hours,
        "last_assessment_id": last.id if last is not None else None,
        "last_assessment_at": _iso(last.taken_at) if last is not None else None,
    }
    return ctx.finding(
        "no_baseline_assessment", (f"d{dose.id}",), Priority.MEDIUM, dose.given_at, message, evidence
    )


def _no_baseline_assessment(ctx: _Context) -> list[Finding]:
    return [f for d in ctx.antagonists if (f := _no_baseline_for(ctx, d)) is not None]


# --- 4. reassessment_overdue --------------------------------------------------------------------------


def _reassessment_overdue(ctx: _Context) -> list[Finding]:
    p = ctx.protocol
    tolerance = p.reassess_tolerance
    discharged = ctx.timeline.discharged_at
    findings: list[Finding] = []
    times = ctx.assessment_times
    for dose in ctx.antagonists:
        for slot_name, offset in (("first", p.reassess_first), ("second", p.reassess_second)):
            slot = dose.given_at + offset
            if discharged is not None and slot > discharged:
                continue  # slots after a discharge are not due
            raised_at = slot + tolerance  # the caller keeps it once raised_at <= now
            # Any assessment within the tolerance either side of the slot (a bisection, not a scan: a
            # long stay has tens of thousands of assessments and an antagonist dose every few days).
            first = bisect.bisect_left(times, slot - tolerance)
            if first < len(times) and times[first] <= slot + tolerance:
                continue
            resolver = ctx.first_assessment_after(raised_at)
            dose_text = describe_dose(dose.drug, dose.form, dose.dose_mg)
            message = (
                f"No COWS {format_duration(offset)} after {dose_text} at {ctx.hhmm(dose.given_at)}: "
                f"due {ctx.hhmm(slot)} ± {p.reassess_tolerance_minutes} min"
            )
            evidence = _dose_evidence(dose) | {
                "slot": slot_name,
                "slot_at": _iso(slot),
                "slot_minutes": _minutes(offset),
                "tolerance_minutes": p.reassess_tolerance_minutes,
                "resolved_by_assessment_id": resolver.id if resolver is not None else None,
            }
            findings.append(
                ctx.finding(
                    "reassessment_overdue",
                    (f"d{dose.id}", slot_name),
                    Priority.MEDIUM,
                    raised_at,
                    message,
                    evidence,
                    resolver.taken_at if resolver is not None else None,
                )
            )
    return findings


# --- 5. routine_assessment_overdue --------------------------------------------------------------------


def _routine_assessment_overdue(ctx: _Context) -> list[Finding]:
    p = ctx.protocol
    tl = ctx.timeline
    # The routine clock starts at admission; an assessment charted before admission does not restart it.
    # Each anchor is admission (None) or an assessment; the next one is the COWS that followed it.
    since_admission = bisect.bisect_left(ctx.assessment_times, tl.admitted_at)
    anchors: list[ScoredAssessment | None] = [None, *tl.assessments[since_admission:]]
    findings: list[Finding] = []
    every, grace = p.routine_interval, p.routine_grace  # once, not per assessment of a long stay
    interval = format_duration(every)
    for position, anchor in enumerate(anchors):
        anchor_at = tl.admitted_at if anchor is None else anchor.taken_at
        due = anchor_at + every
        raised_at = due + grace  # the caller keeps it once raised_at <= now
        if tl.discharged_at is not None and tl.discharged_at <= raised_at:
            continue  # the episode was closed before the alert would be raised
        following = anchors[position + 1] if position + 1 < len(anchors) else None
        if following is not None and following.taken_at <= raised_at:
            continue  # arrived by due + grace
        if anchor is None:
            message = (
                f"No COWS since admission at {ctx.hhmm(anchor_at)}: the first was due at "
                f"{ctx.hhmm(due)} (every {interval})"
            )
        else:
            message = (
                f"Last COWS at {ctx.hhmm(anchor_at)} ({anchor.total}): the next was due at "
                f"{ctx.hhmm(due)} (every {interval})"
            )
        evidence: dict[str, Any] = {
            "after_assessment_id": anchor.id if anchor is not None else None,
            "last_at": _iso(anchor_at),
            "due_at": _iso(due),
            "interval_hours": p.routine_interval_hours,
            "grace_minutes": p.routine_grace_minutes,
            "resolved_by_assessment_id": following.id if following is not None else None,
        }
        findings.append(
            ctx.finding(
                "routine_assessment_overdue",
                ("admission" if anchor is None else f"a{anchor.identity}",),
                Priority.LOW,
                raised_at,
                message,
                evidence,
                following.taken_at if following is not None else None,
            )
        )
    return findings


# --- 6. withdrawal_severity ---------------------------------------------------------------------------


def _withdrawal_severity(ctx: _Context) -> list[Finding]:
    p = ctx.protocol
    findings: list[Finding] = []
    open_indexes: list[int] = []
    armed = {"medium": True, "high": True}
    levels = (("high", p.severity_high, Priority.HIGH), ("medium", p.severity_medium, Priority.MEDIUM))
    for assessment in ctx.timeline.assessments:
        if assessment.total < p.severity_medium:
            armed = {"medium": True, "high": True}
            for index in open_indexes:
                old = findings[index]
                findings[index] = dataclasses.replace(
                    old,
                    resolved_at=assessment.taken_at,
                    evidence=dict(old.evidence) | {"resolved_by_assessment_id": assessment.id},
                )
            open_indexes = []
            continue
        band = COWS.band_for(assessment.total).label.lower()
        for level, threshold, priority in levels:
            if assessment.total < threshold or not armed[level]:
                continue
            armed[level] = False
            at = ctx.hhmm(assessment.taken_at)
            message = f"COWS {assessment.total} ({band}) at {at}; alert level {threshold}"
            evidence: dict[str, Any] = {
                "assessment_id": assessment.id,
                "total": assessment.total,
                "band": band,
                "taken_at": _iso(assessment.taken_at),
                "level": level,
                "threshold": threshold,
                "resolved_by_assessment_id": None,
            }
            open_indexes.append(len(findings))
            findings.append(
                ctx.finding(
                    "withdrawal_severity",
                    (f"a{assessment.identity}", level),
                    priority,
                    assessment.taken_at,
                    message,
                    evidence,
                )
            )
    return findings


# --- 7. vital_signs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Abnormality:
    sign: str  # spo2, resp_rate, systolic, diastolic, pulse
    value: int
    threshold: int
    direction: str  # "below" or "above"
    priority: Priority


def _abnormalities(p: Protocol, v: VitalsRecord) -> list[_Abnormality]:
    found: list[_Abnormality] = []
    if v.spo2 is not None and v.spo2 < p.spo2_low:
        found.append(_Abnormality("spo2", v.spo2, p.spo2_low, "below", Priority.HIGH))
    if v.resp_rate is not None and v.resp_rate < p.resp_rate_low:
        found.append(_Abnormality("resp_rate", v.resp_rate, p.resp_rate_low, "below", Priority.HIGH))
    # Priority of low BP is decided by the caller (HIGH after clonidine/lofexidine).
    if v.systolic is not None and v.systolic < p.systolic_low:
        found.append(_Abnormality("systolic", v.systolic, p.systolic_low, "below", Priority.MEDIUM))
    if v.diastolic is not None and v.diastolic < p.diastolic_low:
        found.append(_Abnormality("diastolic", v.diastolic, p.diastolic_low, "below", Priority.MEDIUM))
    if v.pulse_bpm is not None and v.pulse_bpm < p.pulse_low:
        found.append(_Abnormality("pulse", v.pulse_bpm, p.pulse_low, "below", Priority.MEDIUM))
    if v.pulse_bpm is not None and v.pulse_bpm > p.pulse_high:
        found.append(_Abnormality("pulse", v.pulse_bpm, p.pulse_high, "above", Priority.MEDIUM))
    return found


def _bp_text(p: Protocol, v: VitalsRecord, signs: set[str]) -> str:
    if v.systolic is not None and v.diastolic is not None:
        if signs >= {"systolic", "diastolic"}:
            return f"BP {v.systolic}/{v.diastolic} (below {p.systolic_low}/{p.diastolic_low})"
        if "systolic" in signs:
            return f"BP {v.systolic}/{v.diastolic} (systolic below {p.systolic_low})"
        return f"BP {v.systolic}/{v.diastolic} (diastolic below {p.diastolic_low})"
    if v.systolic is not None:
        return f"systolic BP {v.systolic} (below {p.systolic_low})"
    return f"diastolic BP {v.diastolic} (below {p.diastolic_low})"


def _alpha2_doses(ctx: _Context, v: VitalsRecord) -> list[DoseRecord]:
    """The latest clonidine/lofexidine dose per drug in [taken_at - window, taken_at]."""
    earliest = v.taken_at - ctx.protocol.alpha2_hypotension_window
    latest: dict[str, DoseRecord] = {}
    for dose in ctx.timeline.doses:
        if drug(dose.drug).alpha2_agonist and earliest <= dose.given_at <= v.taken_at:
            latest[dose.drug] = dose  # doses are sorted: the last one wins
    return sorted(latest.values(), key=lambda d: (d.given_at, d.id))


def _resolves(v: VitalsRecord, later: VitalsRecord, p: Protocol, signs: set[str]) -> bool:
    """A later record resolves an abnormal one when it shows no abnormality and re-measured every sign
    that was abnormal (a temperature-only record does not clear a low SpO2)."""
    if _abnormalities(p, later):
        return False
    measured = {
        "spo2": later.spo2,
        "resp_rate": later.resp_rate,
        "systolic": later.systolic,
        "diastolic": later.diastolic,
        "pulse": later.pulse_bpm,
    }
    return all(measured[sign] is not None for sign in signs)


def _vital_signs(ctx: _Context) -> list[Finding]:
    p = ctx.protocol
    findings: list[Finding] = []
    records = ctx.timeline.vitals
    for position, v in enumerate(records):
        found = _abnormalities(p, v)
        if not found:
            continue
        signs = {a.sign for a in found}
        parts: list[str] = []
        priorities: list[Priority] = []
        alpha2: list[DoseRecord] = []
        for a in found:
            if a.sign == "spo2":
                parts.append(f"SpO2 {a.value}% (below {a.threshold}%)")
            elif a.sign == "resp_rate":
                parts.append(f"RR {a.value}/min (below {a.threshold}/min)")
            elif a.sign == "pulse":
                parts.append(f"pulse {a.value} bpm ({a.direction} {a.threshold})")
            priorities.append(a.priority)
        if signs & {"systolic", "diastolic"}:
            bp = _bp_text(p, v, signs)
            alpha2 = _alpha2_doses(ctx, v)
            if alpha2:
                names = " and ".join(dict.fromkeys(d.drug for d in alpha2))
                given = " and ".join(
                    f"{describe_dose(d.drug, d.form, d.dose_mg)} at {ctx.hhmm(d.given_at)}" for d in alpha2
                )
                bp += f" within {format_duration(p.alpha2_hypotension_window)} of {given}: hold {names}"
                priorities.append(Priority.HIGH)
            else:
                priorities.append(Priority.MEDIUM)
            # Keep the order SpO2, RR, BP, pulse.
            parts.insert(sum(1 for a in found if a.sign in ("spo2", "resp_rate")), bp)
        resolver = next((r for r in records[position + 1 :] if _resolves(v, r, p, signs)), None)
        evidence: dict[str, Any] = {
            "vitals_id": v.id,
            "taken_at": _iso(v.taken_at),
            "abnormalities": [
                {
                    "sign": a.sign,
                    "value": a.value,
                    "threshold": a.threshold,
                    "direction": a.direction,
                    "priority": (
                        Priority.HIGH.label
                        if a.sign in ("systolic", "diastolic") and alpha2
                        else a.priority.label
                    ),
                }
                for a in found
            ],
            "alpha2_doses": [_dose_evidence(d) for d in alpha2],
            "alpha2_window_hours": p.alpha2_hypotension_window_hours,
            "resolved_by_vitals_id": resolver.id if resolver is not None else None,
        }
        findings.append(
            ctx.finding(
                "vital_signs",
                (f"v{v.id}",),
                max(priorities),
                v.taken_at,
                _capitalised("; ".join(parts)),
                evidence,
                resolver.taken_at if resolver is not None else None,
            )
        )
    return findings


# --- Entry points -------------------------------------------------------------------------------------

_RULE_FUNCTIONS: Mapping[str, Callable[[_Context], list[Finding]]] = MappingProxyType(
    {
        "precipitated_withdrawal": _precipitated_withdrawal,
        "antagonist_too_soon": _antagonist_too_soon,
        "no_baseline_assessment": _no_baseline_assessment,
        "reassessment_overdue": _reassessment_overdue,
        "routine_assessment_overdue": _routine_assessment_overdue,
        "withdrawal_severity": _withdrawal_severity,
        "vital_signs": _vital_signs,
    }
)
if tuple(_RULE_FUNCTIONS) != RULES:  # pragma: no cover - guards an edit of either table
    raise ValueError("every rule needs a function, in RULES order")


def _require_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")


def _ordered(findings: list[Finding], now: datetime) -> list[Finding]:
    """Raised by now only; priority descending, then newest first, then key (stable sorts)."""
    kept = [f for f in findings if f.raised_at <= now]
    kept.sort(key=lambda f: f.key)
    kept.sort(key=lambda f: f.raised_at, reverse=True)
    kept.sort(key=lambda f: f.priority, reverse=True)
    return kept


def _implied(cut: Timeline, protocol: Protocol) -> list[Finding]:
    """Every finding a timeline (already cut at some moment) implies, with its raised_at, unfiltered:
    also those raised after the cut (an overdue time still ahead)."""
    ctx = _Context.build(cut, protocol)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(_RULE_FUNCTIONS[rule](ctx))
    return findings


def evaluate(timeline: Timeline, protocol: Protocol, now: datetime) -> list[Finding]:
    """Every finding on the timeline as it stood at `now` (records after now are ignored).

    Pure and deterministic. Sorted by priority (high first), then raised_at (newest first), then key.
    """
    _require_aware(now)
    return _ordered(_implied(timeline.as_of(now), protocol), now)


def evaluate_with_next_change(
    timeline: Timeline, protocol: Protocol, now: datetime
) -> tuple[list[Finding], datetime | None]:
    """evaluate(timeline, protocol, now), and next_change_at(timeline, protocol, now), in one pass over
    the rules (the services store both in the transaction of every write)."""
    _require_aware(now)
    implied = _implied(timeline.as_of(now), protocol)
    current = _ordered(implied, now)
    # evaluate(t) is a function of timeline.as_of(t) and of the filter raised_at <= t only (the rules
    # read no clock: _Context has none), and both change only at given moments, so evaluate is constant
    # from one of these moments to the next: a finding's raised_at (the filter lets it in) and a
    # record's clinical time (the cut lets it in). Walk them in order until the result differs.
    records = timeline.clinical_times_after(now)
    at = now
    while True:
        pending = min((f.raised_at for f in implied if f.raised_at > at), default=None)
        record = next((r for r in records if r > at), None)
        if pending is not None and (record is None or pending < record):
            # The cut stays as it is until then, and a finding not there before is let in.
            return current, pending
        if record is None:
            return current, None  # nothing ahead: nothing can change without new data
        # A record comes in (at the same moment as a finding, perhaps): it may change nothing (normal
        # vital signs), or even keep that finding from being raised (the COWS that was due), so look.
        implied = _implied(timeline.as_of(record), protocol)
        if _ordered(implied, record) != current:
            return current, record
        at = record


def next_change_at(timeline: Timeline, protocol: Protocol, now: datetime) -> datetime | None:
    """The earliest moment after `now` at which evaluate(timeline, protocol, t) differs from
    evaluate(timeline, protocol, now) with no new data; None when nothing can change any more.

    For t from now up to (not including) that moment, evaluate gives the same findings (keys, messages,
    evidence, raised_at, resolved_at). A change comes when an overdue time passes (a routine COWS due at
    10:00 + 4 h with 30 min grace changes it at 14:30) or when a record timed after now (a clinical time
    may be a few minutes ahead) comes into the past and changes what the rules say. Pure: the services
    store it with each episode so the timer re-evaluates only the episodes whose moment has come.
    """
    return evaluate_with_next_change(timeline, protocol, now)[1]


def preview_dose(timeline: Timeline, protocol: Protocol, dose: DoseRecord, now: datetime) -> list[Finding]:
    """What the rules will say about a dose not yet saved (its id may be 0 or negative).

    Only the findings tied to the dose itself: antagonist_too_soon and no_baseline_assessment (empty for
    a dose that is not an antagonist). The dose may be timed slightly after now (clock drift).
    """
    _require_aware(now)
    if not is_antagonist(dose):
        return []
    at = max(now, dose.given_at)
    ctx = _Context.build(timeline.as_of(now).with_dose(dose), protocol)
    findings = [
        f for f in (_antagonist_too_soon_for(ctx, dose), _no_baseline_for(ctx, dose)) if f is not None
    ]
    return _ordered(findings, at)
