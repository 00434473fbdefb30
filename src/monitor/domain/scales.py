"""Rating scales as data, and the one scoring engine that reads them.

A scale (items, allowed values, anchors, severity bands, source) is data so that a clinic can add
another scale later (shared/domain.md section 2) without new scoring code. Every COWS number here comes
from shared/domain.md section 1 (Wesson & Ling, J Psychoactive Drugs 2003;35(2):253-259).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType

__all__ = [
    "COWS",
    "PULSE_PLAUSIBLE_BPM",
    "SCALES",
    "Band",
    "ImplausiblePulse",
    "InvalidItemValue",
    "Item",
    "Option",
    "ScaleDefinition",
    "ScaleError",
    "Score",
    "UnknownItem",
    "resting_pulse_value",
    "score",
]


# --- Errors -----------------------------------------------------------------------------------------


class ScaleError(ValueError):
    """Base of scoring errors, so callers can catch every bad-input case at once."""


class UnknownItem(ScaleError):
    """An answer names an item the scale does not have (a typo must not be silently dropped)."""

    def __init__(self, item_key: str, known: tuple[str, ...] = ()) -> None:
        self.item_key = item_key
        self.known = known
        message = f"Unknown item {item_key!r}"
        if known:
            message += f"; known items are {', '.join(known)}"
        super().__init__(message)


class InvalidItemValue(ScaleError):
    """A value the item does not allow: COWS values skip numbers, so e.g. restlessness 2 is an error."""

    def __init__(self, item_key: str, value: object, allowed: tuple[int, ...], label: str = "") -> None:
        self.item_key = item_key
        self.value = value
        self.allowed = allowed
        name = f"{label} ({item_key})" if label else item_key
        allowed_text = ", ".join(str(v) for v in allowed)
        super().__init__(f"{name}: {value!r} is not an allowed value; allowed values are {allowed_text}")


class ImplausiblePulse(ScaleError):
    """A pulse outside what a living, seated patient can have: almost certainly a typing error."""

    def __init__(self, bpm: object) -> None:
        self.bpm = bpm
        low, high = PULSE_PLAUSIBLE_BPM
        super().__init__(
            f"Resting pulse {bpm!r} bpm is not plausible; enter a whole number of beats per minute "
            f"from {low} to {high}"
        )


# --- Definitions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One allowed score value with its anchor text; the value is stored, never the option's position."""

    value: int
    anchor: str


@dataclass(frozen=True)
class Item:
    """One rated item: what to rate, how to rate it, and the values its anchors allow."""

    key: str
    number: int
    label: str
    instruction: str
    options: tuple[Option, ...]

    def __post_init__(self) -> None:
        values = [o.value for o in self.options]
        if not values:
            raise ValueError(f"item {self.key!r} has no options")
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise ValueError(f"item {self.key!r}: option values must be non-negative integers: {values}")
        if any(b <= a for a, b in pairwise(values)):
            raise ValueError(f"item {self.key!r}: option values must be distinct and ascending: {values}")

    @property
    def allowed_values(self) -> tuple[int, ...]:
        """The scores this item can take, ascending (gaps included: they are part of the scale)."""
        return tuple(o.value for o in self.options)

    @property
    def max_value(self) -> int:
        """The item's highest score; the scale's maximum total is the sum of these."""
        return self.options[-1].value

    def anchor_for(self, value: int) -> str:
        """The anchor text that a score means, so a stored value can be shown as the nurse saw it."""
        for option in self.options:
            if option.value == value and not isinstance(value, bool):
                return option.anchor
        raise InvalidItemValue(self.key, value, self.allowed_values, self.label)


@dataclass(frozen=True)
class Band:
    """A severity band over totals, inclusive at both ends.

    app_defined marks a band the published scale does not define (the app's own label), so that the
    UI and reports can say so.
    """

    key: str
    label: str
    low: int
    high: int
    app_defined: bool

    def contains(self, total: int) -> bool:
        """Whether a total falls in this band (both limits included)."""
        return self.low <= total <= self.high


@dataclass(frozen=True)
class ScaleDefinition:
    """A whole scale as data; checked on construction so a bad definition fails at import, not at bedside."""

    code: str
    name: str
    source: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError(f"{self.code}: a scale needs items")
        keys = [i.key for i in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.code}: item keys must be unique: {keys}")
        numbers = [i.number for i in self.items]
        if numbers != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.code}: items must be numbered 1..{len(self.items)} in order: {numbers}")
        for item in self.items:
            # Item checks its own values; repeat here so a definition built around Item still fails.
            values = item.allowed_values
            if any(b <= a for a, b in pairwise(values)):
                raise ValueError(f"{self.code}: {item.key} values must be distinct and ascending: {values}")
        self._check_bands()

    def _check_bands(self) -> None:
        """Bands must tile 0..max_total exactly: a gap leaves a total unbanded, an overlap is ambiguous."""
        if not self.bands:
            raise ValueError(f"{self.code}: a scale needs bands")
        band_keys = [b.key for b in self.bands]
        if len(set(band_keys)) != len(band_keys):
            raise ValueError(f"{self.code}: band keys must be unique: {band_keys}")
        expected_low = 0
        for band in self.bands:
            if band.low != expected_low:
                kind = "gap" if band.low > expected_low else "overlap"
                raise ValueError(
                    f"{self.code}: band {band.key!r} starts at {band.low}, expected {expected_low} ({kind})"
                )
            if band.high < band.low:
                raise ValueError(f"{self.code}: band {band.key!r} ends ({band.high}) before it starts")
            expected_low = band.high + 1
        if self.bands[-1].high != self.max_total:
            raise ValueError(
                f"{self.code}: bands end at {self.bands[-1].high} but the maximum total is {self.max_total}"
            )

    @property
    def keys(self) -> tuple[str, ...]:
        """Item keys in form order."""
        return tuple(i.key for i in self.items)

    @property
    def max_total(self) -> int:
        """Sum of the item maxima (48 for COWS; calculators printing 47 or 55 are wrong)."""
        return sum(i.max_value for i in self.items)

    def item(self, key: str) -> Item:
        """The item with this key; an unknown key is an error, never ignored."""
        for item in self.items:
            if item.key == key:
                return item
        raise UnknownItem(key, self.keys)

    def band_for(self, total: int) -> Band:
        """The severity band of a complete total."""
        if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= self.max_total:
            raise ValueError(f"{self.code}: total {total!r} is outside 0..{self.max_total}")
        for band in self.bands:
            if band.contains(total):
                return band
        raise AssertionError("unreachable: bands tile 0..max_total")  # pragma: no cover


# --- COWS (shared/domain.md section 1) --------------------------------------------------------------


def _options(*pairs: tuple[int, str]) -> tuple[Option, ...]:
    return tuple(Option(value, anchor) for value, anchor in pairs)


COWS = ScaleDefinition(
    code="COWS",
    name="Clinical Opiate Withdrawal Scale",
    source="Wesson & Ling, J Psychoactive Drugs 2003;35(2):253-259",
    items=(
        Item(
            "resting_pulse",
            1,
            "Resting pulse rate",
            "Resting pulse, measured after the patient sits or lies for one minute",
            _options((0, "80 or below"), (1, "81-100"), (2, "101-120"), (4, "Above 120")),
        ),
        Item(
            "sweating",
            2,
            "Sweating",
            "Over the past half hour, not explained by room temperature or activity",
            _options(
                (0, "No report of chills or flushing"),
                (1, "Subjective chills or flushing"),
                (2, "Flushed or observable moistness on face"),
                (3, "Beads of sweat on brow or face"),
                (4, "Sweat streaming off face"),
            ),
        ),
        Item(
            "restlessness",
            3,
            "Restlessness",
            "Observed during the assessment",
            _options(
                (0, "Able to sit still"),
                (1, "Reports difficulty sitting still, but is able to"),
                (3, "Frequent shifting or extraneous movements of legs/arms"),
                (5, "Unable to sit still for more than a few seconds"),
            ),
        ),
        Item(
            "pupil_size",
            4,
            "Pupil size",
            "",
            _options(
                (0, "Pupils pinned or normal size for room light"),
                (1, "Possibly larger than normal for room light"),
                (2, "Moderately dilated"),
                (5, "So dilated that only the rim of the iris is visible"),
            ),
        ),
        Item(
            "bone_joint_aches",
            5,
            "Bone or joint aches",
            "If the patient had pain before, score only the part attributed to withdrawal",
            _options(
                (0, "Not present"),
                (1, "Mild diffuse discomfort"),
                (2, "Reports severe diffuse aching of joints/muscles"),
                (4, "Rubbing joints or muscles and unable to sit still because of discomfort"),
            ),
        ),
        Item(
            "runny_nose_tearing",
            6,
            "Runny nose or tearing",
            "Not explained by cold symptoms or allergies",
            _options(
                (0, "Not present"),
                (1, "Nasal stuffiness or unusually moist eyes"),
                (2, "Nose running or tearing"),
                (4, "Nose constantly running or tears streaming down cheeks"),
            ),
        ),
        Item(
            "gi_upset",
            7,
            "GI upset",
            "Over the last half hour",
            _options(
                (0, "No GI symptoms"),
                (1, "Stomach cramps"),
                (2, "Nausea or loose stool"),
                (3, "Vomiting or diarrhoea"),
                (5, "Multiple episodes of diarrhoea or vomiting"),
            ),
        ),
        Item(
            "tremor",
            8,
            "Tremor",
            "Observation of outstretched hands",
            _options(
                (0, "No tremor"),
                (1, "Tremor can be felt, but not observed"),
                (2, "Slight tremor observable"),
                (4, "Gross tremor or muscle twitching"),
            ),
        ),
        Item(
            "yawning",
            9,
            "Yawning",
            "Observed during the assessment",
            _options(
                (0, "No yawning"),
                (1, "Yawning once or twice"),
                (2, "Yawning three or more times"),
                (4, "Yawning several times per minute"),
            ),
        ),
        Item(
            "anxiety_irritability",
            10,
            "Anxiety or irritability",
            "",
            _options(
                (0, "None"),
                (1, "Reports increasing irritability or anxiousness"),
                (2, "Obviously irritable or anxious"),
                (4, "So irritable or anxious that participation in the assessment is difficult"),
            ),
        ),
        Item(
            "gooseflesh",
            11,
            "Gooseflesh skin",
            "",
            _options(
                (0, "Skin is smooth"),
                (3, "Piloerection of skin can be felt or hairs standing up on arms"),
                (5, "Prominent piloerection"),
            ),
        ),
    ),
    bands=(
        # The scale defines no band below 5: "Below mild" is the app's own label (domain.md section 1).
        Band("below_mild", "Below mild", 0, 4, app_defined=True),
        Band("mild", "Mild", 5, 12, app_defined=False),
        Band("moderate", "Moderate", 13, 24, app_defined=False),
        Band("moderately_severe", "Moderately severe", 25, 36, app_defined=False),
        Band("severe", "Severe", 37, 48, app_defined=False),  # "more than 36"
    ),
)

if COWS.max_total != 48:  # pragma: no cover - guards an edit of the table above
    raise ValueError(f"COWS maximum total must be 48, got {COWS.max_total}")

SCALES: Mapping[str, ScaleDefinition] = MappingProxyType({COWS.code: COWS})


# --- Scoring ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """The result of scoring one set of answers.

    total and band are None while any item is missing: a partial total reads as a low score, which is
    dangerous (domain.md section 1).
    """

    scale: ScaleDefinition
    answers: Mapping[str, int]
    missing: tuple[str, ...]
    total: int | None
    band: Band | None

    @property
    def complete(self) -> bool:
        """Every item answered; only a complete score has a total and may be saved as complete."""
        return not self.missing


def score(scale: ScaleDefinition, answers: Mapping[str, int | None]) -> Score:
    """Score answers (item key -> value; None or absent means not yet rated).

    Raises UnknownItem for a key the scale lacks and InvalidItemValue for a bool, a non-integer or a
    value the item does not allow.
    """
    known = scale.keys
    for key in answers:
        if key not in known:
            raise UnknownItem(key, known)
    given: dict[str, int] = {}
    missing: list[str] = []
    for item in scale.items:
        value = answers.get(item.key)
        if value is None:
            missing.append(item.key)
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in item.allowed_values:
            raise InvalidItemValue(item.key, value, item.allowed_values, item.label)
        given[item.key] = int(value)
    if missing:
        total: int | None = None
        band: Band | None = None
    else:
        total = sum(given.values())
        band = scale.band_for(total)
    return Score(scale, MappingProxyType(given), tuple(missing), total, band)


# --- COWS item 1 from a measured pulse --------------------------------------------------------------

# The app's own plausibility limit, not from the scale: a value outside it is taken as a typing error
# and refused rather than scored (a pulse of 8 or 800 would otherwise score 0 or 4 silently).
PULSE_PLAUSIBLE_BPM: tuple[int, int] = (20, 250)


def resting_pulse_value(bpm: int) -> int:
    """COWS item 1 from beats per minute: 0 for 80 or below, 1 for 81-100, 2 for 101-120, 4 above 120.

    Keep the bpm as well as the score (domain.md section 1).
    """
    low, high = PULSE_PLAUSIBLE_BPM
    if isinstance(bpm, bool) or not isinstance(bpm, int) or not low <= bpm <= high:
        raise ImplausiblePulse(bpm)
    if bpm <= 80:
        return 0
    if bpm <= 100:
        return 1
    if bpm <= 120:
        return 2
    return 4
