"""Property tests (hypothesis) for invariants every rule must keep, whatever the data."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.medications import DrugRole, drug
from monitor.domain.protocol import DEFAULT_PROTOCOL, Protocol
from monitor.domain.rules import RULES, Finding, Priority, evaluate
from monitor.domain.substances import SUBSTANCES
from monitor.domain.timeline import DoseRecord, LastUse, ScoredAssessment, Timeline, VitalsRecord

BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HORIZON_MINUTES = 3 * 24 * 60

DOSES = [
    ("naltrexone", "oral", 25.0),
    ("naltrexone", "extended_release_injection", 380.0),
    ("naloxone", "im", 0.4),
    ("naloxone", "iv", 0.4),
    ("buprenorphine", "sublingual", 8.0),
    ("methadone", "oral", 30.0),
    ("clonidine", "oral", 0.1),
    ("lofexidine", "oral", 0.54),
    ("ondansetron", "oral", 4.0),
]

PROTOCOLS = [
    DEFAULT_PROTOCOL,
    Protocol.from_values(
        {"pw_rise": 3, "no_baseline_threshold": 8, "severity_medium": 10, "severity_high": 20}
    ),
    Protocol.from_values(
        {"routine_interval_hours": 1, "routine_grace_minutes": 0, "reassess_tolerance_minutes": 5}
    ),
    Protocol.from_values({"spo2_low": 96, "pulse_high": 95, "systolic_low": 110, "diastolic_low": 75}),
]

times = st.builds(
    lambda m, s: BASE + timedelta(minutes=m, seconds=s),
    st.integers(min_value=-300, max_value=HORIZON_MINUTES),
    st.sampled_from([0, 0, 0, 1, 30, 59]),
)
maybe = st.none
assessment_specs = st.lists(st.tuples(times, st.integers(0, 48)), max_size=14)
dose_specs = st.lists(st.tuples(times, st.sampled_from(DOSES)), max_size=6)
vitals_specs = st.lists(
    st.tuples(
        times,
        st.one_of(maybe(), st.integers(30, 160)),
        st.one_of(maybe(), st.integers(60, 140)),
        st.one_of(maybe(), st.integers(30, 100)),
        st.one_of(maybe(), st.integers(4, 24)),
        st.one_of(maybe(), st.integers(80, 100)),
    ),
    max_size=8,
)
use_specs = st.lists(
    st.tuples(st.sampled_from([s.key for s in SUBSTANCES]), st.one_of(maybe(), times)),
    max_size=4,
    unique_by=lambda u: u[0],
)


@st.composite
def timelines(draw: st.DrawFn) -> Timeline:
    assessments = [ScoredAssessment(i + 1, t, total) for i, (t, total) in enumerate(draw(assessment_specs))]
    doses = [DoseRecord(i + 1, d, f, mg, t) for i, (t, (d, f, mg)) in enumerate(draw(dose_specs))]
    vitals = [
        VitalsRecord(i + 1, t, pulse_bpm=p, systolic=s, diastolic=d, resp_rate=r, spo2=o)
        for i, (t, p, s, d, r, o) in enumerate(draw(vitals_specs))
    ]
    uses = [LastUse(k, t) for k, t in draw(use_specs)]
    admitted = BASE - timedelta(hours=draw(st.integers(0, 6)))
    discharged = draw(st.one_of(maybe(), times.filter(lambda t: t >= admitted)))
    return Timeline(
        episode_id=draw(st.integers(1, 1000)),
        admitted_at=admitted,
        discharged_at=discharged,
        tz_name=draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "No/Zone"])),
        assessments=tuple(assessments),
        doses=tuple(doses),
        vitals=tuple(vitals),
        substances=tuple(uses),
    )


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_invariants(tl: Timeline, found: list[Finding], now: datetime) -> None:
    keys = [f.key for f in found]
    assert len(set(keys)) == len(keys), Counter(keys).most_common(3)
    for f in found:
        assert f.rule in RULES
        assert isinstance(f.priority, Priority)
        assert f.episode_id == tl.episode_id
        assert f.key.startswith(f"{f.rule}:e{tl.episode_id}:")
        assert f.raised_at <= now
        assert f.resolved_at is None or f.raised_at <= f.resolved_at <= now
        assert json.loads(json.dumps(f.evidence)) == f.evidence
        assert f.message
    order = [(-f.priority, -f.raised_at.timestamp()) for f in found]
    assert order == sorted(order)


@SETTINGS
@given(timelines(), times, st.sampled_from(PROTOCOLS))
def test_deterministic_unique_and_never_ahead_of_now(tl: Timeline, now: datetime, protocol: Protocol) -> None:
    found = evaluate(tl, protocol, now)
    _check_invariants(tl, found, now)
    assert evaluate(tl, protocol, now) == found
    # The order the caller gives the records in does not matter.
    shuffled = dataclasses.replace(
        tl,
        assessments=tuple(reversed(tl.assessments)),
        doses=tuple(reversed(tl.doses)),
        vitals=tuple(reversed(tl.vitals)),
        substances=tuple(reversed(tl.substances)),
    )
    assert evaluate(shuffled, protocol, now) == found
    # Records after now are invisible.
    assert evaluate(tl.as_of(now), protocol, now) == found


@SETTINGS
@given(timelines(), times, st.sampled_from(PROTOCOLS))
def test_precipitated_at_most_one_per_antagonist_dose(
    tl: Timeline, now: datetime, protocol: Protocol
) -> None:
    found = [f for f in evaluate(tl, protocol, now) if f.rule == "precipitated_withdrawal"]
    dose_ids = [f.evidence["dose_id"] for f in found]
    assert len(set(dose_ids)) == len(dose_ids)
    antagonists = {d.id for d in tl.doses if drug(d.drug).role is DrugRole.ANTAGONIST and d.given_at <= now}
    assert set(dose_ids) <= antagonists
    for f in found:
        assert f.priority is Priority.HIGH
        assert f.evidence["trigger_total"] <= f.evidence["peak_total"]
        if f.evidence["no_baseline"]:
            assert f.evidence["trigger_total"] >= protocol.no_baseline_threshold
        else:
            assert f.evidence["rise"] >= protocol.pw_rise


later_records = st.one_of(
    st.tuples(st.just("assessment"), st.integers(0, 48)),
    st.tuples(st.just("dose"), st.sampled_from(DOSES)),
    st.tuples(st.just("vitals"), st.integers(80, 100)),
)


@SETTINGS
@given(
    timelines(),
    times,
    st.sampled_from(PROTOCOLS),
    later_records,
    st.integers(1, 2 * 24 * 3600),
    st.integers(0, 24 * 3600),
)
def test_later_record_never_removes_an_earlier_finding(
    tl: Timeline,
    now: datetime,
    protocol: Protocol,
    record: tuple[str, object],
    after_seconds: int,
    wait_seconds: int,
) -> None:
    before = evaluate(tl, protocol, now)
    when = now + timedelta(seconds=after_seconds)
    kind, value = record
    if kind == "assessment":
        assert isinstance(value, int)
        new_id = max((a.id for a in tl.assessments), default=0) + 1
        extended = dataclasses.replace(
            tl, assessments=(*tl.assessments, ScoredAssessment(new_id, when, value))
        )
    elif kind == "dose":
        assert isinstance(value, tuple)
        new_id = max((d.id for d in tl.doses), default=0) + 1
        extended = tl.with_dose(DoseRecord(new_id, value[0], value[1], value[2], when))
    else:
        assert isinstance(value, int)
        new_id = max((v.id for v in tl.vitals), default=0) + 1
        extended = dataclasses.replace(tl, vitals=(*tl.vitals, VitalsRecord(new_id, when, spo2=value)))
    # The later record is invisible at now ...
    assert evaluate(extended, protocol, now) == before
    # ... and once it is in the past, every earlier finding is still there, raised at the same time.
    later = {f.key: f for f in evaluate(extended, protocol, when + timedelta(seconds=wait_seconds))}
    for f in before:
        assert f.key in later, f.key
        assert later[f.key].raised_at == f.raised_at
        assert later[f.key].priority == f.priority


@SETTINGS
@given(timelines(), times, st.sampled_from(PROTOCOLS), st.integers(0, 3 * 24 * 3600))
def test_findings_persist_as_time_passes(tl: Timeline, now: datetime, protocol: Protocol, wait: int) -> None:
    before = evaluate(tl, protocol, now)
    later = {f.key: f for f in evaluate(tl, protocol, now + timedelta(seconds=wait))}
    for f in before:
        assert later[f.key].raised_at == f.raised_at
        if f.resolved_at is not None:
            assert later[f.key].resolved_at == f.resolved_at
