"""Medicines a detox clinic records: opioid antagonists, opioid agonists and comfort medicines.

The pick list and its typical doses come from shared/domain.md: section 3 (naltrexone, naloxone and
precipitated withdrawal) and section 5 (comfort and adjunct medicines; doses vary, pharmacist review).
The typical text is guidance shown beside the entry field, never a limit the app enforces; max_daily_mg
is only set where domain.md states a daily maximum.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DRUGS",
    "FORM_ABBREVIATIONS",
    "Drug",
    "DrugRole",
    "InvalidForm",
    "UnknownDrug",
    "check_form",
    "describe_dose",
    "drug",
    "format_mg",
]


class DrugRole(enum.Enum):
    """What a medicine does to an opioid-dependent patient, which is what the alert rules need."""

    ANTAGONIST = "antagonist"  # naltrexone, naloxone: can precipitate withdrawal (domain.md section 3)
    AGONIST = "agonist"  # opioid agonist given in withdrawal management (domain.md section 5)
    COMFORT = "comfort"  # comfort and adjunct medicines (domain.md section 5)


# Administration forms; the keys are stored, the abbreviations are what a nurse reads on a chart.
FORM_ABBREVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        "oral": "PO",
        "extended_release_injection": "XR inj",
        "iv": "IV",
        "im": "IM",
        "sc": "SC",
        "intranasal": "IN",
        "sublingual": "SL",
        "buccal": "buccal",
        "transdermal": "TD",
    }
)


@dataclass(frozen=True)
class Drug:
    """One medicine on the pick list.

    forms are keys of FORM_ABBREVIATIONS; alpha2_agonist marks clonidine and lofexidine, whose doses the
    vital-signs rule connects to low blood pressure (domain.md section 4: hold clonidine/lofexidine).
    """

    key: str
    label: str
    role: DrugRole
    forms: tuple[str, ...]
    typical: str = ""
    max_daily_mg: float | None = None
    alpha2_agonist: bool = False

    def __post_init__(self) -> None:
        if not self.forms:
            raise ValueError(f"drug {self.key!r} needs at least one form")
        unknown = [f for f in self.forms if f not in FORM_ABBREVIATIONS]
        if unknown:
            raise ValueError(f"drug {self.key!r}: unknown forms {unknown}")
        if len(set(self.forms)) != len(self.forms):
            raise ValueError(f"drug {self.key!r}: forms repeat: {self.forms}")


_A = DrugRole.ANTAGONIST
_AG = DrugRole.AGONIST
_C = DrugRole.COMFORT

DRUGS: tuple[Drug, ...] = (
    # Antagonists (domain.md section 3).
    Drug(
        "naltrexone",
        "Naltrexone",
        _A,
        ("oral", "extended_release_injection"),
        typical=(
            "Extended-release 380 mg IM (Vivitrol label); rapid oral induction from about 1 mg, rising "
            "over 3-7 days (Sullivan 2017)"
        ),
    ),
    Drug(
        "naloxone",
        "Naloxone",
        _A,
        ("iv", "im", "sc", "intranasal"),
        typical="0.4 mg IM (Dunn 2023); challenge 0.8 mg SC, then watch 20 min (naltrexone label)",
    ),
    # Opioid agonists given in withdrawal management: they change what an antagonist dose will do.
    Drug(
        "buprenorphine",
        "Buprenorphine",
        _AG,
        ("sublingual", "buccal", "extended_release_injection", "transdermal"),
    ),
    Drug("methadone", "Methadone", _AG, ("oral",)),
    # Comfort and adjunct medicines (domain.md section 5; doses vary, pharmacist review).
    Drug(
        "clonidine",
        "Clonidine",
        _C,
        ("oral",),
        typical="0.1-0.2 mg PO q4-8h (check BP first)",
        alpha2_agonist=True,
    ),
    Drug(
        "lofexidine",
        "Lofexidine",
        _C,
        ("oral",),
        typical="0.54 mg QID, max 2.88 mg/day",
        max_daily_mg=2.88,
        alpha2_agonist=True,
    ),
    Drug("clonazepam", "Clonazepam", _C, ("oral",), typical="0.5-1.5 mg q6-8h PRN"),
    Drug("lorazepam", "Lorazepam", _C, ("oral", "iv", "im"), typical="1 mg q4-6h PRN"),
    Drug("diazepam", "Diazepam", _C, ("oral", "iv"), typical="5-10 mg"),
    Drug("hydroxyzine", "Hydroxyzine", _C, ("oral", "im"), typical="25-100 mg q6-8h"),
    Drug("diphenhydramine", "Diphenhydramine", _C, ("oral", "iv", "im"), typical="50-100 mg"),
    Drug("ondansetron", "Ondansetron", _C, ("oral", "iv", "im"), typical="4-8 mg q4-8h"),
    Drug("prochlorperazine", "Prochlorperazine", _C, ("oral", "iv", "im"), typical="5-10 mg"),
    Drug(
        "loperamide",
        "Loperamide",
        _C,
        ("oral",),
        typical="4 mg, then 2 mg per loose stool, max 16 mg/day",
        max_daily_mg=16,
    ),
    Drug("bismuth_subsalicylate", "Bismuth subsalicylate", _C, ("oral",), typical="524 mg"),
    Drug("dicyclomine", "Dicyclomine", _C, ("oral", "im"), typical="10-20 mg"),
    Drug("ibuprofen", "Ibuprofen", _C, ("oral",), typical="400 mg"),
    Drug(
        "acetaminophen",
        "Acetaminophen",
        _C,
        ("oral", "iv"),
        typical="650-1000 mg, max 4 g/day",
        max_daily_mg=4000,
    ),
    Drug("trazodone", "Trazodone", _C, ("oral",), typical="25-100 mg at night"),
    Drug("gabapentin", "Gabapentin", _C, ("oral",)),
    Drug("octreotide", "Octreotide", _C, ("sc",)),
)

_BY_KEY: dict[str, Drug] = {d.key: d for d in DRUGS}
if len(_BY_KEY) != len(DRUGS):  # pragma: no cover - guards an edit of the table above
    raise ValueError("drug keys must be unique")


class UnknownDrug(ValueError):
    """A drug key not on the pick list; the message lists the known keys."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Unknown drug {key!r}; known drugs are {', '.join(_BY_KEY)}")


class InvalidForm(ValueError):
    """A form the drug is not given in; the message names the allowed forms."""

    def __init__(self, drug_key: str, form: str, allowed: tuple[str, ...]) -> None:
        self.drug_key = drug_key
        self.form = form
        self.allowed = allowed
        super().__init__(f"{drug_key} is not given as {form!r}; allowed forms are {', '.join(allowed)}")


def drug(key: str) -> Drug:
    """The drug with this key; an unknown key is refused rather than stored as free text."""
    try:
        return _BY_KEY[key]
    except (KeyError, TypeError):
        raise UnknownDrug(key) from None


def check_form(drug_key: str, form: str) -> None:
    """Raise UnknownDrug or InvalidForm unless the drug is given in this form."""
    found = drug(drug_key)
    if form not in found.forms:
        raise InvalidForm(drug_key, form, found.forms)


def format_mg(dose_mg: float) -> str:
    """A dose in mg as a nurse writes it: 25, 0.4, 2.88, 0.125 (never 25.0; at most 4 decimals)."""
    if isinstance(dose_mg, bool) or not math.isfinite(dose_mg):
        raise ValueError(f"dose {dose_mg!r} is not a number of mg")
    text = f"{dose_mg:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def describe_dose(drug_key: str, form: str, dose_mg: float) -> str:
    """E.g. "naltrexone 25 mg PO", "naltrexone 380 mg XR inj", "naloxone 0.4 mg IM".

    Raises UnknownDrug or InvalidForm for a drug or form that is not on the list.
    """
    check_form(drug_key, form)
    return f"{drug_key} {format_mg(dose_mg)} mg {FORM_ABBREVIATIONS[form]}"
