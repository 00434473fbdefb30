"""The clinic's protocol: every threshold and interval the alert rules use, with its default and source.

shared/domain.md: "Defaults marked configurable belong in the clinic's protocol settings, not in code
constants: published cut-offs differ, and a clinic's physicians sign off their own." The settings are
stored in the database with an audit trail; the defaults are declared here (SETTINGS), each with the
line of domain.md it comes from in `source`. A number that domain.md does not give says so.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.domain.medications import DrugRole, check_form
from monitor.domain.medications import drug as lookup_drug
from monitor.domain.substances import OpioidAction

__all__ = [
    "DEFAULT_PROTOCOL",
    "SETTINGS",
    "UNITS",
    "InvalidSetting",
    "Protocol",
    "SettingSpec",
    "setting_spec",
]

UNITS: tuple[str, ...] = ("points", "minutes", "hours", "days", "bpm", "mmHg", "%", "breaths/min")


@dataclass(frozen=True)
class SettingSpec:
    """One protocol setting: its default, the range a clinic may set, and where the default comes from.

    The type of `default` decides the kind: an int default makes a whole-number setting.
    """

    key: str
    label: str
    unit: str
    default: int | float
    minimum: int | float
    maximum: int | float
    source: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"setting {self.key!r}: unit {self.unit!r} is not one of {UNITS}")
        if not self.minimum <= self.default <= self.maximum:
            raise ValueError(f"setting {self.key!r}: default outside {self.minimum}-{self.maximum}")
        if not self.source:
            raise ValueError(f"setting {self.key!r} needs a source")

    @property
    def integer(self) -> bool:
        """Whether the setting takes whole numbers only."""
        return isinstance(self.default, int)

    @property
    def range_text(self) -> str:
        """E.g. "2-20 points"."""
        unit = self.unit if self.unit == "%" else f" {self.unit}"
        return f"{self.minimum}-{self.maximum}{unit}"


_S4 = "domain.md section 4"
_UNCONFIRMED = "unconfirmed cut-off"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "pw_rise",
        "Precipitated-withdrawal rise",
        "points",
        6,
        2,
        20,
        f"{_S4}: COWS total >= pre-dose baseline + 6 (Dunn et al., Front Psychiatry 2023;14:1141980: a rise "
        "of at least 6 COWS points within 60 min of the antagonist)",
    ),
    SettingSpec(
        "baseline_max_age_hours",
        "Baseline COWS maximum age",
        "hours",
        4,
        1,
        24,
        f"{_S4}: latest complete COWS at or before the dose, not older than 4 h (local choice)",
    ),
    SettingSpec(
        "window_naloxone_minutes",
        "Window after naloxone",
        "minutes",
        60,
        15,
        240,
        f"{_S4}: naloxone 60 min (Dunn 2023: 90% of peak COWS within 60 min of 0.4 mg IM naloxone)",
    ),
    SettingSpec(
        "window_naltrexone_oral_hours",
        "Window after oral naltrexone",
        "hours",
        6,
        1,
        24,
        f"{_S4}: oral naltrexone 6 h (domain.md section 3: blocks within 5 min to 1 h; kratom case began "
        "about 1 h after the first oral dose)",
    ),
    SettingSpec(
        "window_naltrexone_er_hours",
        "Window after extended-release naltrexone",
        "hours",
        72,
        6,
        168,
        f"{_S4}: extended-release naltrexone 72 h (domain.md section 3: plasma peaks about 2 h after "
        "injection and again at 2-3 days, Vivitrol label)",
    ),
    SettingSpec(
        "no_baseline_threshold",
        "COWS alert level without a baseline",
        "points",
        13,
        5,
        36,
        f"{_S4}: any COWS >= 13 (moderate band, Wesson & Ling) in the window raises the same alert, marked "
        '"no baseline"',
    ),
    SettingSpec(
        "reassess_first_minutes",
        "First reassessment after an antagonist",
        "minutes",
        30,
        10,
        120,
        f"{_S4}: +30 min (flowsheet printed with the COWS form, domain.md section 1)",
    ),
    SettingSpec(
        "reassess_second_minutes",
        "Second reassessment after an antagonist",
        "minutes",
        120,
        30,
        480,
        f"{_S4}: +2 h (flowsheet printed with the COWS form, domain.md section 1)",
    ),
    SettingSpec(
        "reassess_tolerance_minutes",
        "Reassessment tolerance either side",
        "minutes",
        15,
        5,
        60,
        f"{_S4}: each reassessment due within 15 min either side (flowsheet on the form)",
    ),
    SettingSpec(
        "routine_interval_hours",
        "Routine COWS interval",
        "hours",
        4,
        1,
        24,
        f"{_S4}: every 4 h while the episode is open (common practice; no authoritative source found)",
    ),
    SettingSpec(
        "routine_grace_minutes",
        "Routine COWS grace period",
        "minutes",
        15,
        0,
        120,
        "Local choice (issue text; not in domain.md): 15 min, the same tolerance as the post-dose "
        f"reassessments ({_S4})",
    ),
    SettingSpec(
        "opioid_free_short_days",
        "Opioid-free interval, short-acting opioids",
        "days",
        7,
        1,
        30,
        f"{_S4}: 7 days after short-acting opioids, kratom included (Revia and Vivitrol labels: at least "
        "7-10 days; the seed article applies 7-10 days to kratom)",
    ),
    SettingSpec(
        "opioid_free_long_days",
        "Opioid-free interval, long-acting opioids",
        "days",
        14,
        1,
        60,
        f"{_S4}: 14 days after methadone or buprenorphine (labels: vulnerable for up to 2 weeks; seed)",
    ),
    SettingSpec(
        "severity_medium",
        "Severity alert, medium priority",
        "points",
        25,
        5,
        48,
        f"{_S4}: COWS >= 25 medium (moderately severe band 25-36, Wesson & Ling)",
    ),
    SettingSpec(
        "severity_high",
        "Severity alert, high priority",
        "points",
        37,
        5,
        48,
        f"{_S4}: COWS >= 37 high (severe band, more than 36, Wesson & Ling)",
    ),
    SettingSpec(
        "systolic_low",
        "Low systolic blood pressure",
        "mmHg",
        90,
        60,
        120,
        f"{_S4}: systolic < 90, hold clonidine/lofexidine (clonidine/lofexidine guidance)",
    ),
    SettingSpec(
        "diastolic_low",
        "Low diastolic blood pressure",
        "mmHg",
        60,
        30,
        90,
        f"{_S4}: diastolic < 60, hold clonidine/lofexidine (clonidine/lofexidine guidance)",
    ),
    SettingSpec(
        "pulse_low",
        "Low pulse",
        "bpm",
        50,
        30,
        70,
        f"{_S4}: pulse < 50 (red flag; {_UNCONFIRMED})",
    ),
    SettingSpec(
        "pulse_high",
        "High pulse",
        "bpm",
        120,
        90,
        180,
        f"{_S4}: pulse > 120 (red flag; {_UNCONFIRMED})",
    ),
    SettingSpec(
        "spo2_low",
        "Low SpO2",
        "%",
        92,
        80,
        98,
        f"{_S4}: SpO2 < 92 (red flag; {_UNCONFIRMED})",
    ),
    SettingSpec(
        "resp_rate_low",
        "Low respiratory rate",
        "breaths/min",
        10,
        4,
        16,
        f"{_S4}: respiratory rate < 10 (red flag; {_UNCONFIRMED})",
    ),
    SettingSpec(
        "alpha2_hypotension_window_hours",
        "Clonidine/lofexidine look-back for low BP",
        "hours",
        6,
        1,
        24,
        "Local choice (issue text; not in domain.md; unconfirmed): 6 h, within the q4-8h clonidine dosing "
        "interval (domain.md section 5)",
    ),
    SettingSpec(
        "high_snooze_cap_minutes",
        "Longest snooze of a high-priority alert",
        "minutes",
        15,
        1,
        60,
        "domain.md section 6 (a capped snooze); the 15 min is a local choice from the issue text, "
        "unconfirmed",
    ),
    SettingSpec(
        "escalate_after_minutes",
        "Escalate an unacknowledged high-priority alert after",
        "minutes",
        10,
        1,
        60,
        "domain.md section 6 (escalation); the 10 min is a local choice from the issue text, unconfirmed",
    ),
    SettingSpec(
        "other_snooze_cap_minutes",
        "Longest snooze of a medium- or low-priority alert",
        "minutes",
        60,
        5,
        240,
        "domain.md section 6 (a capped snooze); 60 min is a local choice, unconfirmed",
    ),
)

_SPECS: dict[str, SettingSpec] = {s.key: s for s in SETTINGS}
if len(_SPECS) != len(SETTINGS):  # pragma: no cover - guards an edit of the table above
    raise ValueError("setting keys must be unique")


def setting_spec(key: str) -> SettingSpec:
    """The spec of one setting; an unknown key raises InvalidSetting."""
    try:
        return _SPECS[key]
    except KeyError:
        known = ", ".join(_SPECS)
        raise InvalidSetting(key, f"Unknown protocol setting {key!r}; known settings are {known}") from None


class InvalidSetting(ValueError):
    """A protocol value the app refuses; the message names the setting and its allowed range."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


def _checked(spec: SettingSpec, value: object) -> int | float:
    """The value as the setting's type, or InvalidSetting."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSetting(
            spec.key, f"{spec.label}: {value!r} is not a number; allowed range {spec.range_text}"
        )
    if spec.integer:
        if value != int(value):
            raise InvalidSetting(
                spec.key,
                f"{spec.label}: {value!r} is not a whole number; allowed range {spec.range_text}",
            )
        value = int(value)
    else:
        value = float(value)
    if not spec.minimum <= value <= spec.maximum:
        raise InvalidSetting(
            spec.key, f"{spec.label}: {value!r} is outside the allowed range {spec.range_text}"
        )
    return value


@dataclass(frozen=True)
class Protocol:
    """One clinic's protocol values; construction validates every value (InvalidSetting otherwise).

    Attributes mirror SETTINGS one to one (checked at import); the defaults are the spec defaults.
    """

    pw_rise: int = 6
    baseline_max_age_hours: int = 4
    window_naloxone_minutes: int = 60
    window_naltrexone_oral_hours: int = 6
    window_naltrexone_er_hours: int = 72
    no_baseline_threshold: int = 13
    reassess_first_minutes: int = 30
    reassess_second_minutes: int = 120
    reassess_tolerance_minutes: int = 15
    routine_interval_hours: int = 4
    routine_grace_minutes: int = 15
    opioid_free_short_days: int = 7
    opioid_free_long_days: int = 14
    severity_medium: int = 25
    severity_high: int = 37
    systolic_low: int = 90
    diastolic_low: int = 60
    pulse_low: int = 50
    pulse_high: int = 120
    spo2_low: int = 92
    resp_rate_low: int = 10
    alpha2_hypotension_window_hours: int = 6
    high_snooze_cap_minutes: int = 15
    escalate_after_minutes: int = 10
    other_snooze_cap_minutes: int = 60

    def __post_init__(self) -> None:
        for spec in SETTINGS:
            value = getattr(self, spec.key)
            checked = _checked(spec, value)
            if type(value) is not type(checked):
                # Only exact ints for whole-number settings (6.0 is accepted by from_values, not here).
                raise InvalidSetting(
                    spec.key,
                    f"{spec.label}: {value!r} must be given as a "
                    f"{'whole number' if spec.integer else 'number'}; allowed range {spec.range_text}",
                )
        self._check_consistency()

    def _check_consistency(self) -> None:
        """Rules between settings, so that no combination makes a rule meaningless."""
        first, second = _SPECS["reassess_first_minutes"], _SPECS["reassess_second_minutes"]
        tolerance = _SPECS["reassess_tolerance_minutes"]
        if self.reassess_second_minutes <= self.reassess_first_minutes:
            raise InvalidSetting(
                second.key,
                f"{second.label} ({self.reassess_second_minutes} minutes) must be later than the "
                f"{first.label.lower()} ({self.reassess_first_minutes} minutes)",
            )
        if self.reassess_first_minutes <= self.reassess_tolerance_minutes:
            # Otherwise the pre-dose baseline could count as the post-dose reassessment.
            raise InvalidSetting(
                tolerance.key,
                f"{tolerance.label} ({self.reassess_tolerance_minutes} minutes) must be shorter than the "
                f"{first.label.lower()} ({self.reassess_first_minutes} minutes)",
            )
        short, long = _SPECS["opioid_free_short_days"], _SPECS["opioid_free_long_days"]
        if self.opioid_free_long_days < self.opioid_free_short_days:
            # Methadone and buprenorphine stay longer than heroin or kratom (domain.md section 4).
            raise InvalidSetting(
                short.key,
                f"{short.label} ({self.opioid_free_short_days} days) must not be longer than the "
                f"{long.label.lower()} ({self.opioid_free_long_days} days)",
            )
        medium, high = _SPECS["severity_medium"], _SPECS["severity_high"]
        if self.severity_high <= self.severity_medium:
            raise InvalidSetting(
                high.key,
                f"{high.label} ({self.severity_high} points) must be above the "
                f"{medium.label.lower()} ({self.severity_medium} points)",
            )

    @classmethod
    def from_values(cls, values: Mapping[str, float]) -> Protocol:
        """A protocol from stored values (setting key -> number); settings not given keep their default.

        Raises InvalidSetting for an unknown key, a non-number, a fractional value of a whole-number
        setting, a value outside the setting's range, or an inconsistent combination.
        """
        kwargs: dict[str, int | float] = {}
        for key, value in values.items():
            kwargs[key] = _checked(setting_spec(key), value)
        return cls(**kwargs)  # type: ignore[arg-type]

    def values(self) -> dict[str, int | float]:
        """Every setting's value, in SETTINGS order."""
        return {spec.key: getattr(self, spec.key) for spec in SETTINGS}

    # --- durations the rules use ------------------------------------------------------------------

    @property
    def baseline_max_age(self) -> timedelta:
        return timedelta(hours=self.baseline_max_age_hours)

    @property
    def window_naloxone(self) -> timedelta:
        return timedelta(minutes=self.window_naloxone_minutes)

    @property
    def window_naltrexone_oral(self) -> timedelta:
        return timedelta(hours=self.window_naltrexone_oral_hours)

    @property
    def window_naltrexone_er(self) -> timedelta:
        return timedelta(hours=self.window_naltrexone_er_hours)

    @property
    def reassess_first(self) -> timedelta:
        return timedelta(minutes=self.reassess_first_minutes)

    @property
    def reassess_second(self) -> timedelta:
        return timedelta(minutes=self.reassess_second_minutes)

    @property
    def reassess_tolerance(self) -> timedelta:
        return timedelta(minutes=self.reassess_tolerance_minutes)

    @property
    def routine_interval(self) -> timedelta:
        return timedelta(hours=self.routine_interval_hours)

    @property
    def routine_grace(self) -> timedelta:
        return timedelta(minutes=self.routine_grace_minutes)

    @property
    def opioid_free_short(self) -> timedelta:
        return timedelta(days=self.opioid_free_short_days)

    @property
    def opioid_free_long(self) -> timedelta:
        return timedelta(days=self.opioid_free_long_days)

    @property
    def alpha2_hypotension_window(self) -> timedelta:
        return timedelta(hours=self.alpha2_hypotension_window_hours)

    @property
    def high_snooze_cap(self) -> timedelta:
        return timedelta(minutes=self.high_snooze_cap_minutes)

    @property
    def escalate_after(self) -> timedelta:
        return timedelta(minutes=self.escalate_after_minutes)

    @property
    def other_snooze_cap(self) -> timedelta:
        return timedelta(minutes=self.other_snooze_cap_minutes)

    def opioid_free_days(self, action: OpioidAction) -> int:
        """The opioid-free interval in days before an antagonist, for a short- or long-acting opioid."""
        return self.opioid_free_long_days if action is OpioidAction.LONG else self.opioid_free_short_days

    def opioid_free_interval(self, action: OpioidAction) -> timedelta:
        """The opioid-free interval before an antagonist, for a short- or long-acting opioid."""
        return timedelta(days=self.opioid_free_days(action))

    def window_for(self, drug: str, form: str) -> timedelta:
        """How long after an antagonist dose a COWS rise counts as precipitated withdrawal.

        Naloxone (any form) -> window_naloxone; naltrexone oral -> window_naltrexone_oral; naltrexone
        extended_release_injection -> window_naltrexone_er. Raises UnknownDrug or InvalidForm for a drug
        or form that is not on the list, and ValueError for a drug that is not an antagonist.
        """
        check_form(drug, form)
        if lookup_drug(drug).role is not DrugRole.ANTAGONIST:
            raise ValueError(f"{drug} is not an opioid antagonist: it has no precipitated-withdrawal window")
        if drug == "naloxone":
            return self.window_naloxone
        if drug == "naltrexone" and form == "oral":
            return self.window_naltrexone_oral
        if drug == "naltrexone" and form == "extended_release_injection":
            return self.window_naltrexone_er
        raise ValueError(f"no window is defined for {drug} {form}")  # pragma: no cover - new antagonist


if {f.name: f.default for f in dataclasses.fields(Protocol)} != {
    s.key: s.default for s in SETTINGS
}:  # pragma: no cover - guards an edit of either table
    raise ValueError("Protocol attributes and defaults must mirror SETTINGS")

DEFAULT_PROTOCOL = Protocol()
