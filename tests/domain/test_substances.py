"""Substance list and opioid action (shared/domain.md sections 3 and 4)."""

from __future__ import annotations

import pytest

from monitor.domain.substances import (
    ROUTES,
    SUBSTANCES,
    OpioidAction,
    Substance,
    UnknownSubstance,
    substance,
)

EXPECTED = [
    ("heroin", OpioidAction.SHORT),
    ("fentanyl", OpioidAction.SHORT),
    ("oxycodone", OpioidAction.SHORT),
    ("hydrocodone", OpioidAction.SHORT),
    ("morphine", OpioidAction.SHORT),
    ("hydromorphone", OpioidAction.SHORT),
    ("codeine", OpioidAction.SHORT),
    ("tramadol", OpioidAction.SHORT),
    ("kratom", OpioidAction.SHORT),
    ("methadone", OpioidAction.LONG),
    ("buprenorphine", OpioidAction.LONG),
    ("other_opioid", OpioidAction.SHORT),
    ("alcohol", None),
    ("benzodiazepine", None),
    ("stimulant", None),
    ("other", None),
]


def test_list_and_order() -> None:
    assert [(s.key, s.opioid_action) for s in SUBSTANCES] == EXPECTED


def test_keys_unique() -> None:
    keys = [s.key for s in SUBSTANCES]
    assert len(keys) == len(set(keys)) == 16


@pytest.mark.parametrize(("key", "action"), EXPECTED)
def test_lookup(key: str, action: OpioidAction | None) -> None:
    found = substance(key)
    assert found.key == key
    assert found.opioid_action is action
    assert found.is_opioid is (action is not None)
    assert found.label


def test_kratom_is_short_acting_opioid() -> None:
    kratom = substance("kratom")
    assert kratom.label == "Kratom (mitragynine)"
    assert kratom.is_opioid
    assert kratom.opioid_action is OpioidAction.SHORT
    assert "partial mu agonist" in kratom.note
    assert "7-day" in kratom.note


@pytest.mark.parametrize("key", ["methadone", "buprenorphine"])
def test_long_acting(key: str) -> None:
    assert substance(key).opioid_action is OpioidAction.LONG


# Domain.md section 4's short-acting list.
@pytest.mark.parametrize(
    "key", ["heroin", "fentanyl", "oxycodone", "morphine", "hydrocodone", "codeine", "tramadol", "kratom"]
)
def test_short_acting_per_protocol_table(key: str) -> None:
    assert substance(key).opioid_action is OpioidAction.SHORT


@pytest.mark.parametrize("key", ["alcohol", "benzodiazepine", "stimulant", "other"])
def test_non_opioids(key: str) -> None:
    assert not substance(key).is_opioid
    assert substance(key).opioid_action is None


def test_other_opioid() -> None:
    other = substance("other_opioid")
    assert other.label == "Other opioid"
    assert other.is_opioid


def test_unknown_key_lists_allowed() -> None:
    with pytest.raises(UnknownSubstance) as excinfo:
        substance("krattom")
    message = str(excinfo.value)
    assert "krattom" in message
    for s in SUBSTANCES:
        assert s.key in message
    assert excinfo.value.key == "krattom"
    assert isinstance(excinfo.value, ValueError)


def test_action_values() -> None:
    assert OpioidAction.SHORT.value == "short"
    assert OpioidAction.LONG.value == "long"


def test_note_defaults_empty() -> None:
    assert Substance("x", "X", None).note == ""


def test_routes() -> None:
    assert ROUTES == (
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
    assert len(set(ROUTES)) == len(ROUTES)
