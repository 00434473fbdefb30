"""The medication pick list (shared/domain.md sections 3 and 5)."""

from __future__ import annotations

import pytest

from monitor.domain.medications import (
    DRUGS,
    FORM_ABBREVIATIONS,
    Drug,
    DrugRole,
    InvalidForm,
    UnknownDrug,
    check_form,
    describe_dose,
    drug,
    format_mg,
)

COMFORT_KEYS = [
    "clonidine",
    "lofexidine",
    "clonazepam",
    "lorazepam",
    "diazepam",
    "hydroxyzine",
    "diphenhydramine",
    "ondansetron",
    "prochlorperazine",
    "loperamide",
    "bismuth_subsalicylate",
    "dicyclomine",
    "ibuprofen",
    "acetaminophen",
    "trazodone",
    "gabapentin",
    "octreotide",
]


def test_order_and_roles() -> None:
    assert [d.key for d in DRUGS] == ["naltrexone", "naloxone", "buprenorphine", "methadone", *COMFORT_KEYS]
    roles = {d.key: d.role for d in DRUGS}
    assert roles["naltrexone"] is DrugRole.ANTAGONIST
    assert roles["naloxone"] is DrugRole.ANTAGONIST
    assert roles["buprenorphine"] is DrugRole.AGONIST
    assert roles["methadone"] is DrugRole.AGONIST
    assert all(roles[k] is DrugRole.COMFORT for k in COMFORT_KEYS)


@pytest.mark.parametrize(
    ("key", "forms"),
    [
        ("naltrexone", ("oral", "extended_release_injection")),
        ("naloxone", ("iv", "im", "sc", "intranasal")),
        ("buprenorphine", ("sublingual", "buccal", "extended_release_injection", "transdermal")),
        ("methadone", ("oral",)),
        ("clonidine", ("oral",)),
        ("lorazepam", ("oral", "iv", "im")),
        ("ondansetron", ("oral", "iv", "im")),
        ("octreotide", ("sc",)),
    ],
)
def test_forms(key: str, forms: tuple[str, ...]) -> None:
    assert drug(key).forms == forms


@pytest.mark.parametrize(
    ("key", "typical"),
    [
        # domain.md section 5, word for word.
        ("clonidine", "0.1-0.2 mg PO q4-8h (check BP first)"),
        ("lofexidine", "0.54 mg QID, max 2.88 mg/day"),
        ("clonazepam", "0.5-1.5 mg q6-8h PRN"),
        ("lorazepam", "1 mg q4-6h PRN"),
        ("diazepam", "5-10 mg"),
        ("hydroxyzine", "25-100 mg q6-8h"),
        ("diphenhydramine", "50-100 mg"),
        ("ondansetron", "4-8 mg q4-8h"),
        ("prochlorperazine", "5-10 mg"),
        ("loperamide", "4 mg, then 2 mg per loose stool, max 16 mg/day"),
        ("bismuth_subsalicylate", "524 mg"),
        ("dicyclomine", "10-20 mg"),
        ("ibuprofen", "400 mg"),
        ("acetaminophen", "650-1000 mg, max 4 g/day"),
        ("trazodone", "25-100 mg at night"),
        ("gabapentin", ""),
        ("octreotide", ""),
    ],
)
def test_typical_text_from_domain(key: str, typical: str) -> None:
    assert drug(key).typical == typical


def test_daily_maxima_and_alpha2() -> None:
    maxima = {d.key: d.max_daily_mg for d in DRUGS if d.max_daily_mg is not None}
    assert maxima == {"lofexidine": 2.88, "loperamide": 16, "acetaminophen": 4000}
    assert {d.key for d in DRUGS if d.alpha2_agonist} == {"clonidine", "lofexidine"}


def test_every_form_has_an_abbreviation() -> None:
    assert dict(FORM_ABBREVIATIONS) == {
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
    for d in DRUGS:
        assert all(f in FORM_ABBREVIATIONS for f in d.forms), d.key


def test_unknown_drug_lists_keys() -> None:
    with pytest.raises(UnknownDrug, match="naltrexone, naloxone") as caught:
        drug("naltrexon")
    assert isinstance(caught.value, ValueError)
    assert caught.value.key == "naltrexon"


def test_check_form() -> None:
    check_form("naltrexone", "oral")
    check_form("naloxone", "intranasal")
    with pytest.raises(InvalidForm, match="oral, extended_release_injection") as caught:
        check_form("naltrexone", "iv")
    assert isinstance(caught.value, ValueError)
    assert caught.value.allowed == ("oral", "extended_release_injection")
    with pytest.raises(UnknownDrug):
        check_form("aspirin", "oral")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("naltrexone", "oral", 25), "naltrexone 25 mg PO"),
        (("naltrexone", "oral", 25.0), "naltrexone 25 mg PO"),
        (("naltrexone", "extended_release_injection", 380), "naltrexone 380 mg XR inj"),
        (("naloxone", "im", 0.4), "naloxone 0.4 mg IM"),
        (("naloxone", "sc", 0.8), "naloxone 0.8 mg SC"),
        (("naltrexone", "oral", 0.25), "naltrexone 0.25 mg PO"),
        (("lofexidine", "oral", 0.54), "lofexidine 0.54 mg PO"),
        (("buprenorphine", "sublingual", 8), "buprenorphine 8 mg SL"),
        (("acetaminophen", "oral", 1000), "acetaminophen 1000 mg PO"),
    ],
)
def test_describe_dose(args: tuple[str, str, float], expected: str) -> None:
    assert describe_dose(*args) == expected


def test_describe_dose_refuses_bad_form() -> None:
    with pytest.raises(InvalidForm):
        describe_dose("naltrexone", "iv", 25)


@pytest.mark.parametrize(
    ("mg", "text"), [(25, "25"), (25.0, "25"), (0.4, "0.4"), (2.88, "2.88"), (0.125, "0.125"), (1.5, "1.5")]
)
def test_format_mg(mg: float, text: str) -> None:
    assert format_mg(mg) == text


def test_format_mg_refuses_nan() -> None:
    with pytest.raises(ValueError):
        format_mg(float("nan"))


def test_drug_definition_checks_forms() -> None:
    with pytest.raises(ValueError, match="unknown forms"):
        Drug("x", "X", DrugRole.COMFORT, ("rectal",))
    with pytest.raises(ValueError, match="at least one form"):
        Drug("x", "X", DrugRole.COMFORT, ())
