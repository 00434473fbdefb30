"""COWS definition and scoring, table-driven from shared/domain.md section 1, plus property tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.scales import (
    COWS,
    PULSE_PLAUSIBLE_BPM,
    SCALES,
    Band,
    ImplausiblePulse,
    InvalidItemValue,
    Item,
    Option,
    ScaleDefinition,
    ScaleError,
    UnknownItem,
    resting_pulse_value,
    score,
)

# Re-typed from shared/domain.md section 1, independently of the module under test:
# key -> (number, allowed values, anchors in value order, how-to-rate text).
DOMAIN_TABLE: dict[str, tuple[int, tuple[int, ...], tuple[str, ...], str]] = {
    "resting_pulse": (
        1,
        (0, 1, 2, 4),
        ("80 or below", "81-100", "101-120", "above 120"),
        "resting pulse, measured after the patient sits or lies for one minute",
    ),
    "sweating": (
        2,
        (0, 1, 2, 3, 4),
        (
            "no report of chills or flushing",
            "subjective chills or flushing",
            "flushed or observable moistness on face",
            "beads of sweat on brow or face",
            "sweat streaming off face",
        ),
        "over the past half hour, not explained by room temperature or activity",
    ),
    "restlessness": (
        3,
        (0, 1, 3, 5),
        (
            "able to sit still",
            "reports difficulty sitting still, but is able to",
            "frequent shifting or extraneous movements of legs/arms",
            "unable to sit still for more than a few seconds",
        ),
        "observed during the assessment",
    ),
    "pupil_size": (
        4,
        (0, 1, 2, 5),
        (
            "pupils pinned or normal size for room light",
            "possibly larger than normal for room light",
            "moderately dilated",
            "so dilated that only the rim of the iris is visible",
        ),
        "",
    ),
    "bone_joint_aches": (
        5,
        (0, 1, 2, 4),
        (
            "not present",
            "mild diffuse discomfort",
            "reports severe diffuse aching of joints/muscles",
            "rubbing joints or muscles and unable to sit still because of discomfort",
        ),
        "if the patient had pain before, score only the part attributed to withdrawal",
    ),
    "runny_nose_tearing": (
        6,
        (0, 1, 2, 4),
        (
            "not present",
            "nasal stuffiness or unusually moist eyes",
            "nose running or tearing",
            "nose constantly running or tears streaming down cheeks",
        ),
        "not explained by cold symptoms or allergies",
    ),
    "gi_upset": (
        7,
        (0, 1, 2, 3, 5),
        (
            "no gi symptoms",
            "stomach cramps",
            "nausea or loose stool",
            "vomiting or diarrhoea",
            "multiple episodes of diarrhoea or vomiting",
        ),
        "over the last half hour",
    ),
    "tremor": (
        8,
        (0, 1, 2, 4),
        (
            "no tremor",
            "tremor can be felt, but not observed",
            "slight tremor observable",
            "gross tremor or muscle twitching",
        ),
        "observation of outstretched hands",
    ),
    "yawning": (
        9,
        (0, 1, 2, 4),
        (
            "no yawning",
            "yawning once or twice",
            "yawning three or more times",
            "yawning several times per minute",
        ),
        "observed during the assessment",
    ),
    "anxiety_irritability": (
        10,
        (0, 1, 2, 4),
        (
            "none",
            "reports increasing irritability or anxiousness",
            "obviously irritable or anxious",
            "so irritable or anxious that participation in the assessment is difficult",
        ),
        "",
    ),
    "gooseflesh": (
        11,
        (0, 3, 5),
        (
            "skin is smooth",
            "piloerection of skin can be felt or hairs standing up on arms",
            "prominent piloerection",
        ),
        "",
    ),
}

EXPECTED_MAX = {
    "resting_pulse": 4,
    "sweating": 4,
    "restlessness": 5,
    "pupil_size": 5,
    "bone_joint_aches": 4,
    "runny_nose_tearing": 4,
    "gi_upset": 5,
    "tremor": 4,
    "yawning": 4,
    "anxiety_irritability": 4,
    "gooseflesh": 5,
}

EXPECTED_LABELS = {
    "resting_pulse": "Resting pulse rate",
    "sweating": "Sweating",
    "restlessness": "Restlessness",
    "pupil_size": "Pupil size",
    "bone_joint_aches": "Bone or joint aches",
    "runny_nose_tearing": "Runny nose or tearing",
    "gi_upset": "GI upset",
    "tremor": "Tremor",
    "yawning": "Yawning",
    "anxiety_irritability": "Anxiety or irritability",
    "gooseflesh": "Gooseflesh skin",
}


def all_at(level: str) -> dict[str, int | None]:
    """Every item at its minimum ("min") or maximum ("max")."""
    return {i.key: (i.allowed_values[0] if level == "min" else i.max_value) for i in COWS.items}


# --- Definition ---------------------------------------------------------------------------------------


def test_scale_identity() -> None:
    assert COWS.code == "COWS"
    assert COWS.name == "Clinical Opiate Withdrawal Scale"
    assert COWS.source == "Wesson & Ling, J Psychoactive Drugs 2003;35(2):253-259"
    assert dict(SCALES) == {"COWS": COWS}


def test_items_in_domain_order() -> None:
    assert COWS.keys == tuple(DOMAIN_TABLE)
    assert [i.number for i in COWS.items] == list(range(1, 12))
    assert len(COWS.items) == 11


@pytest.mark.parametrize("key", list(DOMAIN_TABLE))
def test_item_matches_domain_table(key: str) -> None:
    number, values, anchors, instruction = DOMAIN_TABLE[key]
    item = COWS.item(key)
    assert item.number == number
    assert item.label == EXPECTED_LABELS[key]
    assert item.allowed_values == values
    assert item.max_value == EXPECTED_MAX[key] == values[-1]
    assert [o.anchor.lower() for o in item.options] == list(anchors)
    assert item.instruction.lower() == instruction
    for value, anchor in zip(values, anchors, strict=True):
        assert item.anchor_for(value).lower() == anchor


def test_values_skip_numbers_as_published() -> None:
    # The options' positions are not their values: store the value (domain.md section 1).
    assert COWS.item("restlessness").allowed_values == (0, 1, 3, 5)
    assert COWS.item("gooseflesh").allowed_values == (0, 3, 5)
    assert COWS.item("resting_pulse").allowed_values == (0, 1, 2, 4)
    assert COWS.item("gooseflesh").anchor_for(3).startswith("Piloerection")


def test_max_total_is_48() -> None:
    assert COWS.max_total == 48
    assert COWS.max_total == 4 + 4 + 5 + 5 + 4 + 4 + 5 + 4 + 4 + 4 + 5
    # Totals some web calculators print; both are wrong (domain.md section 1).
    assert COWS.max_total != 47
    assert COWS.max_total != 55


def test_anchor_for_rejects_disallowed_value() -> None:
    with pytest.raises(InvalidItemValue) as excinfo:
        COWS.item("restlessness").anchor_for(2)
    assert excinfo.value.allowed == (0, 1, 3, 5)
    assert excinfo.value.item_key == "restlessness"


def test_item_lookup_unknown_key() -> None:
    with pytest.raises(UnknownItem) as excinfo:
        COWS.item("heart_rate")
    assert excinfo.value.item_key == "heart_rate"
    assert "resting_pulse" in str(excinfo.value)


# --- Bands --------------------------------------------------------------------------------------------


def test_bands_as_published() -> None:
    assert [(b.key, b.label, b.low, b.high, b.app_defined) for b in COWS.bands] == [
        ("below_mild", "Below mild", 0, 4, True),
        ("mild", "Mild", 5, 12, False),
        ("moderate", "Moderate", 13, 24, False),
        ("moderately_severe", "Moderately severe", 25, 36, False),
        ("severe", "Severe", 37, 48, False),
    ]


@pytest.mark.parametrize(
    ("total", "band_key"),
    [
        (0, "below_mild"),
        (4, "below_mild"),
        (5, "mild"),
        (12, "mild"),
        (13, "moderate"),
        (24, "moderate"),
        (25, "moderately_severe"),
        (36, "moderately_severe"),
        (37, "severe"),
        (48, "severe"),
    ],
)
def test_band_boundaries(total: int, band_key: str) -> None:
    assert COWS.band_for(total).key == band_key


# A known wrong calculator table shifts every band down by one (0-4 "mild", 5-12 "moderate", ...).
SHIFTED_WRONG_TABLE = [(0, 4, "mild"), (5, 12, "moderate"), (13, 24, "moderately_severe"), (25, 36, "severe")]


@pytest.mark.parametrize(("low", "high", "wrong_key"), SHIFTED_WRONG_TABLE)
def test_band_table_is_not_the_shifted_one(low: int, high: int, wrong_key: str) -> None:
    for total in range(low, high + 1):
        assert COWS.band_for(total).key != wrong_key


def test_shifted_table_spot_checks() -> None:
    assert COWS.band_for(4).key != "mild"
    assert COWS.band_for(12).key != "moderate"
    assert COWS.band_for(24).key != "moderately_severe"
    assert COWS.band_for(36).key != "severe"


def test_band_range_is_not_0_to_47() -> None:
    assert COWS.bands[-1].high == 48
    assert COWS.band_for(48).key == "severe"
    with pytest.raises(ValueError, match=r"outside 0\.\.48"):
        COWS.band_for(49)


@pytest.mark.parametrize("total", [-1, 49, 55])
def test_band_for_outside_range(total: int) -> None:
    with pytest.raises(ValueError):
        COWS.band_for(total)


def test_every_total_has_exactly_one_band() -> None:
    for total in range(COWS.max_total + 1):
        assert sum(b.contains(total) for b in COWS.bands) == 1


# --- Scoring ------------------------------------------------------------------------------------------


def test_known_full_answer_set() -> None:
    answers: dict[str, int | None] = {
        "resting_pulse": 2,
        "sweating": 1,
        "restlessness": 3,
        "pupil_size": 2,
        "bone_joint_aches": 1,
        "runny_nose_tearing": 2,
        "gi_upset": 3,
        "tremor": 1,
        "yawning": 1,
        "anxiety_irritability": 2,
        "gooseflesh": 3,
    }
    result = score(COWS, answers)
    assert result.complete
    assert result.missing == ()
    assert result.total == 21
    assert result.band is not None
    assert result.band.key == "moderate"
    assert dict(result.answers) == answers


def test_all_zero_is_below_mild() -> None:
    result = score(COWS, all_at("min"))
    assert result.total == 0
    assert result.band is not None
    assert result.band.label == "Below mild"
    assert result.band.app_defined


def test_all_max_is_severe_48() -> None:
    result = score(COWS, all_at("max"))
    assert result.total == 48
    assert result.band is not None
    assert result.band.label == "Severe"


def test_mild_threshold_total() -> None:
    answers = all_at("min")
    answers["restlessness"] = 5
    result = score(COWS, answers)
    assert result.total == 5
    assert result.band is not None
    assert result.band.key == "mild"


@pytest.mark.parametrize("how", ["none", "absent"])
def test_missing_item_gives_no_total(how: str) -> None:
    answers = all_at("max")
    if how == "none":
        answers["tremor"] = None
    else:
        del answers["tremor"]
    result = score(COWS, answers)
    assert not result.complete
    assert result.missing == ("tremor",)
    assert result.total is None
    assert result.band is None
    assert "tremor" not in result.answers
    assert len(result.answers) == 10


def test_empty_answers_lists_all_missing() -> None:
    result = score(COWS, {})
    assert result.missing == COWS.keys
    assert result.total is None
    assert result.band is None
    assert dict(result.answers) == {}


@pytest.mark.parametrize(
    ("key", "value", "allowed_text"),
    [
        ("sweating", 5, "0, 1, 2, 3, 4"),
        ("restlessness", 2, "0, 1, 3, 5"),
        ("gooseflesh", 1, "0, 3, 5"),
        ("pupil_size", 3, "0, 1, 2, 5"),
        ("resting_pulse", 3, "0, 1, 2, 4"),
        ("gi_upset", 4, "0, 1, 2, 3, 5"),
        ("tremor", -1, "0, 1, 2, 4"),
    ],
)
def test_value_outside_scale_raises(key: str, value: int, allowed_text: str) -> None:
    answers = all_at("min")
    answers[key] = value
    with pytest.raises(InvalidItemValue) as excinfo:
        score(COWS, answers)
    err = excinfo.value
    assert err.item_key == key
    assert err.value == value
    assert err.allowed == COWS.item(key).allowed_values
    assert key in str(err)
    assert COWS.item(key).label in str(err)
    assert f"allowed values are {allowed_text}" in str(err)


def test_invalid_value_message_exact() -> None:
    with pytest.raises(InvalidItemValue) as excinfo:
        score(COWS, {"sweating": 5})
    assert str(excinfo.value) == (
        "Sweating (sweating): 5 is not an allowed value; allowed values are 0, 1, 2, 3, 4"
    )


def test_invalid_value_raises_even_when_others_missing() -> None:
    with pytest.raises(InvalidItemValue):
        score(COWS, {"gooseflesh": 1})


@pytest.mark.parametrize("bad", [True, False, 1.0, "1", 2.5])
def test_bool_and_non_int_rejected(bad: Any) -> None:
    answers: dict[str, Any] = dict(all_at("min"))
    answers["sweating"] = bad
    with pytest.raises(InvalidItemValue):
        score(COWS, answers)


def test_unknown_key_rejected() -> None:
    answers = all_at("min")
    answers["heart_rate"] = 0
    with pytest.raises(UnknownItem) as excinfo:
        score(COWS, answers)
    assert excinfo.value.item_key == "heart_rate"
    assert "heart_rate" in str(excinfo.value)


def test_errors_are_value_errors() -> None:
    # Callers may catch ScaleError (or ValueError) for every bad-input case.
    assert issubclass(UnknownItem, ScaleError)
    assert issubclass(InvalidItemValue, ScaleError)
    assert issubclass(ImplausiblePulse, ScaleError)
    assert issubclass(ScaleError, ValueError)


def test_score_answers_are_read_only() -> None:
    result = score(COWS, all_at("min"))
    with pytest.raises(TypeError):
        result.answers["sweating"] = 4  # type: ignore[index]


# --- Pulse --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bpm", "value"),
    [(20, 0), (60, 0), (80, 0), (81, 1), (100, 1), (101, 2), (120, 2), (121, 4), (180, 4), (250, 4)],
)
def test_resting_pulse_value(bpm: int, value: int) -> None:
    assert resting_pulse_value(bpm) == value
    assert value in COWS.item("resting_pulse").allowed_values


@pytest.mark.parametrize("bpm", [19, 251, 0, -70, 800])
def test_implausible_pulse(bpm: int) -> None:
    with pytest.raises(ImplausiblePulse, match="20 to 250"):
        resting_pulse_value(bpm)


@pytest.mark.parametrize("bpm", [True, 80.0, "80", None])
def test_pulse_must_be_int(bpm: Any) -> None:
    with pytest.raises(ImplausiblePulse):
        resting_pulse_value(bpm)


def test_pulse_plausible_range() -> None:
    assert PULSE_PLAUSIBLE_BPM == (20, 250)


# --- Definition validation (a bad definition fails at import) -----------------------------------------

_ITEM = Item("a", 1, "A", "", (Option(0, "none"), Option(2, "some"), Option(4, "lots")))


def _bands(*spans: tuple[int, int]) -> tuple[Band, ...]:
    return tuple(Band(f"b{n}", f"B{n}", low, high, app_defined=False) for n, (low, high) in enumerate(spans))


def test_valid_small_definition() -> None:
    scale = ScaleDefinition("X", "X", "test", (_ITEM,), _bands((0, 1), (2, 4)))
    assert scale.max_total == 4
    assert scale.band_for(2).key == "b1"


@pytest.mark.parametrize(
    "spans",
    [
        ((0, 1), (3, 4)),  # gap
        ((0, 2), (2, 4)),  # overlap
        ((1, 4),),  # does not start at 0
        ((0, 3),),  # stops short of the maximum
        ((0, 5),),  # runs past the maximum
        ((0, 2), (3, 2), (3, 4)),  # empty band
        (),  # no bands
    ],
)
def test_bad_bands_rejected(spans: tuple[tuple[int, int], ...]) -> None:
    with pytest.raises(ValueError):
        ScaleDefinition("X", "X", "test", (_ITEM,), _bands(*spans))


@pytest.mark.parametrize("values", [(0, 2, 2), (0, 3, 1), (), (-1, 0)])
def test_bad_item_values_rejected(values: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        Item("a", 1, "A", "", tuple(Option(v, str(v)) for v in values))


def test_duplicate_item_keys_rejected() -> None:
    with pytest.raises(ValueError):
        ScaleDefinition("X", "X", "test", (_ITEM, _ITEM), _bands((0, 8)))


# --- Properties ---------------------------------------------------------------------------------------

complete_answers = st.fixed_dictionaries({i.key: st.sampled_from(i.allowed_values) for i in COWS.items})


@given(complete_answers)
def test_complete_total_in_range_and_is_sum(answers: dict[str, int]) -> None:
    result = score(COWS, answers)
    assert result.complete
    assert result.total == sum(answers.values())
    assert 0 <= result.total <= 48
    assert result.band is not None
    assert result.band.contains(result.total)


@given(st.integers(0, 48), st.integers(0, 48))
def test_band_for_is_monotone(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert COWS.bands.index(COWS.band_for(low)) <= COWS.bands.index(COWS.band_for(high))


@given(complete_answers, st.sampled_from(COWS.keys), st.booleans())
def test_removing_any_answer_gives_no_total(answers: dict[str, int], key: str, as_none: bool) -> None:
    partial: dict[str, int | None] = dict(answers)
    if as_none:
        partial[key] = None
    else:
        del partial[key]
    result = score(COWS, partial)
    assert result.total is None
    assert result.band is None
    assert result.missing == (key,)


@given(st.data())
def test_values_outside_allowed_raise(data: st.DataObject) -> None:
    item = data.draw(st.sampled_from(COWS.items))
    bad = data.draw(st.integers().filter(lambda v: v not in item.allowed_values))
    answers = all_at("min")
    answers[item.key] = bad
    with pytest.raises(InvalidItemValue) as excinfo:
        score(COWS, answers)
    assert excinfo.value.item_key == item.key
    assert excinfo.value.allowed == item.allowed_values
