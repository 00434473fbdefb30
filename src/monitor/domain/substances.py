"""Substances a patient uses, and whether each is a short- or long-acting opioid.

The opioid action decides the default opioid-free interval before naltrexone (shared/domain.md
section 4: 7 days short-acting, 14 days long-acting). The intervals themselves are protocol settings,
not constants here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ROUTES",
    "SUBSTANCES",
    "OpioidAction",
    "Substance",
    "UnknownSubstance",
    "substance",
]


class OpioidAction(enum.Enum):
    """Short- or long-acting: selects the opioid-free interval the protocol applies."""

    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True)
class Substance:
    """One substance on the pick list; opioid_action is None for a non-opioid."""

    key: str
    label: str
    opioid_action: OpioidAction | None
    note: str = ""

    @property
    def is_opioid(self) -> bool:
        """Opioids (kratom included) are what makes an antagonist dose precipitate withdrawal."""
        return self.opioid_action is not None


_SHORT = OpioidAction.SHORT
_LONG = OpioidAction.LONG

SUBSTANCES: tuple[Substance, ...] = (
    # Short-acting opioids: 7-day interval by default (domain.md section 4).
    Substance("heroin", "Heroin", _SHORT),
    Substance("fentanyl", "Fentanyl", _SHORT),
    Substance("oxycodone", "Oxycodone", _SHORT),
    Substance("hydrocodone", "Hydrocodone", _SHORT),
    Substance("morphine", "Morphine", _SHORT),
    Substance("hydromorphone", "Hydromorphone", _SHORT),
    Substance("codeine", "Codeine", _SHORT),
    Substance("tramadol", "Tramadol", _SHORT),
    Substance(
        "kratom",
        "Kratom (mitragynine)",
        _SHORT,
        note=(
            "Mitragynine is a partial mu agonist: naltrexone can precipitate withdrawal. No guideline sets "
            "an opioid-free interval for kratom; the app applies the 7-day short-acting interval."
        ),
    ),
    # Long-acting opioids: 14-day interval by default (domain.md section 4).
    Substance("methadone", "Methadone", _LONG),
    Substance("buprenorphine", "Buprenorphine", _LONG),
    Substance(
        "other_opioid",
        "Other opioid",
        _SHORT,
        note="The app applies the 7-day short-acting interval; if the opioid is long-acting, say so.",
    ),
    # Non-opioids: recorded for the history, no opioid-free interval.
    Substance("alcohol", "Alcohol", None),
    Substance("benzodiazepine", "Benzodiazepine", None),
    Substance("stimulant", "Stimulant", None),
    Substance("other", "Other", None),
)

_BY_KEY: dict[str, Substance] = {s.key: s for s in SUBSTANCES}
if len(_BY_KEY) != len(SUBSTANCES):  # pragma: no cover - guards an edit of the table above
    raise ValueError("substance keys must be unique")


class UnknownSubstance(ValueError):
    """A substance key not on the list; the message lists the allowed keys."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Unknown substance {key!r}; allowed keys are {', '.join(_BY_KEY)}")


def substance(key: str) -> Substance:
    """The substance with this key; unknown keys are refused rather than stored as free text."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownSubstance(key) from None


ROUTES: tuple[str, ...] = (
    "oral",
    "smoked",
    "intranasal",
    "intravenous",
    "intramuscular",
    "subcutaneous",
    "transdermal",
    "sublingual",
    "other",
)
