"""Plausibility limits for measured values: outside them an entry is almost certainly a typing error.

These are the app's own limits (not clinical thresholds; alert thresholds live in the protocol). They
refuse a pulse of 0 or 400, a diastolic above the systolic, a dose of 0 mg.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain.scales import PULSE_PLAUSIBLE_BPM


@dataclass(frozen=True)
class Limit:
    key: str
    label: str
    unit: str
    low: float
    high: float

    def check(self, value: float) -> str | None:
        """None if plausible, else a sentence naming the field and the accepted range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.label} must be a number."
        if not self.low <= value <= self.high:
            return (
                f"{self.label} {value:g} {self.unit} is not plausible; enter {self.low:g} to {self.high:g}."
            )
        return None


VITAL_LIMITS: dict[str, Limit] = {
    "pulse_bpm": Limit("pulse_bpm", "Pulse", "bpm", *PULSE_PLAUSIBLE_BPM),
    "systolic": Limit("systolic", "Systolic pressure", "mmHg", 50, 260),
    "diastolic": Limit("diastolic", "Diastolic pressure", "mmHg", 20, 160),
    "resp_rate": Limit("resp_rate", "Respiratory rate", "breaths/min", 2, 70),
    "spo2": Limit("spo2", "SpO2", "%", 50, 100),
    "temp_c": Limit("temp_c", "Temperature", "°C", 30, 43),
}

# A single dose above this is a typing error for every medicine on the pick list (XR naltrexone is 380).
MAX_DOSE_MG = 2000.0


def check_vitals(values: dict[str, float | None]) -> list[tuple[str, str]]:
    """Problems as (field key, message); empty if every given value is plausible."""
    problems = []
    for key, value in values.items():
        if value is None:
            continue
        message = VITAL_LIMITS[key].check(value)
        if message:
            problems.append((key, message))
    systolic, diastolic = values.get("systolic"), values.get("diastolic")
    if systolic is not None and diastolic is not None and not problems and diastolic >= systolic:
        problems.append(("diastolic", f"Diastolic {diastolic:g} must be below systolic {systolic:g}."))
    if (systolic is None) != (diastolic is None):
        key = "diastolic" if diastolic is None else "systolic"
        problems.append((key, "Enter both systolic and diastolic pressure, or neither."))
    return problems


def check_dose_mg(value: float) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "The dose must be a number of mg."
    if not 0 < value <= MAX_DOSE_MG:
        return f"The dose must be more than 0 mg and at most {MAX_DOSE_MG:g} mg."
    return None
