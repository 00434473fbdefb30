"""Protocol settings: defaults from shared/domain.md section 4, ranges that refuse typos."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from monitor.domain.medications import InvalidForm, UnknownDrug
from monitor.domain.protocol import (
    DEFAULT_PROTOCOL,
    SETTINGS,
    UNITS,
    InvalidSetting,
    Protocol,
    SettingSpec,
    setting_spec,
)
from monitor.domain.substances import OpioidAction

DEFAULTS = {
    "pw_rise": 6,
    "baseline_max_age_hours": 4,
    "window_naloxone_minutes": 60,
    "window_naltrexone_oral_hours": 6,
    "window_naltrexone_er_hours": 72,
    "no_baseline_threshold": 13,
    "reassess_first_minutes": 30,
    "reassess_second_minutes": 120,
    "reassess_tolerance_minutes": 15,
    "routine_interval_hours": 4,
    "routine_grace_minutes": 15,
    "opioid_free_short_days": 7,
    "opioid_free_long_days": 14,
    "severity_medium": 25,
    "severity_high": 37,
    "systolic_low": 90,
    "diastolic_low": 60,
    "pulse_low": 50,
    "pulse_high": 120,
    "spo2_low": 92,
    "resp_rate_low": 10,
    "alpha2_hypotension_window_hours": 6,
    "high_snooze_cap_minutes": 15,
    "escalate_after_minutes": 10,
    "other_snooze_cap_minutes": 60,
}


def test_defaults_match_domain_md() -> None:
    assert {s.key: s.default for s in SETTINGS} == DEFAULTS
    assert [s.key for s in SETTINGS] == list(DEFAULTS)
    assert DEFAULT_PROTOCOL.values() == DEFAULTS
    assert list(DEFAULT_PROTOCOL.values()) == list(DEFAULTS)
    assert Protocol() == DEFAULT_PROTOCOL


def test_attributes_mirror_settings() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(Protocol)}
    assert fields == DEFAULTS


@pytest.mark.parametrize(
    ("key", "unit", "cites"),
    [
        ("pw_rise", "points", "Dunn"),
        ("baseline_max_age_hours", "hours", "local choice"),
        ("window_naloxone_minutes", "minutes", "Dunn"),
        ("window_naltrexone_oral_hours", "hours", "section 3"),
        ("window_naltrexone_er_hours", "hours", "Vivitrol"),
        ("no_baseline_threshold", "points", "moderate"),
        ("reassess_first_minutes", "minutes", "flowsheet"),
        ("reassess_second_minutes", "minutes", "flowsheet"),
        ("reassess_tolerance_minutes", "minutes", "flowsheet"),
        ("routine_interval_hours", "hours", "no authoritative source found"),
        ("opioid_free_short_days", "days", "labels"),
        ("opioid_free_long_days", "days", "labels"),
        ("severity_medium", "points", "moderately severe"),
        ("severity_high", "points", "severe"),
        ("systolic_low", "mmHg", "clonidine/lofexidine guidance"),
        ("diastolic_low", "mmHg", "clonidine/lofexidine guidance"),
        ("pulse_low", "bpm", "unconfirmed"),
        ("pulse_high", "bpm", "unconfirmed"),
        ("spo2_low", "%", "unconfirmed"),
        ("resp_rate_low", "breaths/min", "unconfirmed"),
        ("alpha2_hypotension_window_hours", "hours", "unconfirmed"),
        ("high_snooze_cap_minutes", "minutes", "unconfirmed"),
        ("escalate_after_minutes", "minutes", "unconfirmed"),
        ("other_snooze_cap_minutes", "minutes", "unconfirmed"),
    ],
)
def test_units_and_sources(key: str, unit: str, cites: str) -> None:
    spec = setting_spec(key)
    assert spec.unit == unit
    assert cites in spec.source


def test_every_spec_is_sane() -> None:
    for spec in SETTINGS:
        assert spec.unit in UNITS
        assert spec.minimum <= spec.default <= spec.maximum
        assert spec.source
        assert spec.label
        assert spec.integer


def test_spec_refuses_bad_definition() -> None:
    with pytest.raises(ValueError, match="unit"):
        SettingSpec("x", "X", "furlongs", 1, 0, 2, "s")
    with pytest.raises(ValueError, match="default outside"):
        SettingSpec("x", "X", "points", 5, 0, 2, "s")
    with pytest.raises(ValueError, match="source"):
        SettingSpec("x", "X", "points", 1, 0, 2, "")


def test_from_values_partial_keeps_defaults() -> None:
    p = Protocol.from_values({"pw_rise": 8, "window_naloxone_minutes": 90.0})
    assert p.pw_rise == 8
    assert p.window_naloxone_minutes == 90
    assert isinstance(p.window_naloxone_minutes, int)
    assert p.severity_medium == 25
    assert Protocol.from_values({}) == DEFAULT_PROTOCOL
    assert Protocol.from_values(DEFAULT_PROTOCOL.values()) == DEFAULT_PROTOCOL


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"pw_rise": 60}, r"Precipitated-withdrawal rise: 60 is outside the allowed range 2-20 points"),
        ({"pw_rise": 1}, "outside the allowed range 2-20 points"),
        ({"spo2_low": 9}, "Low SpO2: 9 is outside the allowed range 80-98%"),
        ({"pw_rise": 6.5}, r"Precipitated-withdrawal rise: 6.5 is not a whole number; allowed range 2-20"),
        ({"pw_rise": float("nan")}, "not a number"),
        ({"pw_rise": True}, "not a number"),
        ({"pw_rise": "6"}, "not a number"),
        ({"pw_raise": 6}, "Unknown protocol setting 'pw_raise'; known settings are pw_rise"),
    ],
)
def test_from_values_refuses(values: dict[str, float], match: str) -> None:
    with pytest.raises(InvalidSetting, match=match) as caught:
        Protocol.from_values(values)
    assert isinstance(caught.value, ValueError)
    assert caught.value.key == next(iter(values))


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"reassess_first_minutes": 120, "reassess_second_minutes": 120}, "reassess_second_minutes"),
        ({"reassess_first_minutes": 15}, "reassess_tolerance_minutes"),
        ({"severity_medium": 37}, "severity_high"),
        ({"opioid_free_short_days": 30}, "opioid_free_short_days"),  # QA: accepted above the 14 long
        ({"opioid_free_long_days": 6}, "opioid_free_short_days"),
    ],
)
def test_inconsistent_combinations_refused(values: dict[str, float], key: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        Protocol.from_values(values)
    assert caught.value.key == key


def test_constructor_validates_too() -> None:
    with pytest.raises(InvalidSetting, match="outside"):
        Protocol(pw_rise=60)
    with pytest.raises(InvalidSetting, match="whole number"):
        Protocol(pw_rise=6.0)  # type: ignore[arg-type]


def test_durations() -> None:
    p = DEFAULT_PROTOCOL
    assert p.baseline_max_age == timedelta(hours=4)
    assert p.window_naloxone == timedelta(minutes=60)
    assert p.window_naltrexone_oral == timedelta(hours=6)
    assert p.window_naltrexone_er == timedelta(hours=72)
    assert p.reassess_first == timedelta(minutes=30)
    assert p.reassess_second == timedelta(hours=2)
    assert p.reassess_tolerance == timedelta(minutes=15)
    assert p.routine_interval == timedelta(hours=4)
    assert p.routine_grace == timedelta(minutes=15)
    assert p.opioid_free_short == timedelta(days=7)
    assert p.opioid_free_long == timedelta(days=14)
    assert p.opioid_free_interval(OpioidAction.SHORT) == timedelta(days=7)
    assert p.opioid_free_interval(OpioidAction.LONG) == timedelta(days=14)
    assert p.alpha2_hypotension_window == timedelta(hours=6)
    assert p.high_snooze_cap == timedelta(minutes=15)
    assert p.escalate_after == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("drug", "form", "window"),
    [
        ("naloxone", "iv", timedelta(minutes=60)),
        ("naloxone", "im", timedelta(minutes=60)),
        ("naloxone", "sc", timedelta(minutes=60)),
        ("naloxone", "intranasal", timedelta(minutes=60)),
        ("naltrexone", "oral", timedelta(hours=6)),
        ("naltrexone", "extended_release_injection", timedelta(hours=72)),
    ],
)
def test_window_for(drug: str, form: str, window: timedelta) -> None:
    assert DEFAULT_PROTOCOL.window_for(drug, form) == window


def test_window_for_follows_settings_and_refuses_non_antagonists() -> None:
    p = Protocol.from_values({"window_naloxone_minutes": 90, "window_naltrexone_er_hours": 48})
    assert p.window_for("naloxone", "im") == timedelta(minutes=90)
    assert p.window_for("naltrexone", "extended_release_injection") == timedelta(hours=48)
    with pytest.raises(InvalidForm):
        p.window_for("naltrexone", "iv")
    with pytest.raises(UnknownDrug):
        p.window_for("nalmefene", "im")
    with pytest.raises(ValueError, match="not an opioid antagonist"):
        p.window_for("clonidine", "oral")
