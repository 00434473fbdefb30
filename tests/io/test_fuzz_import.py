"""Fuzzing the episode importer (issue 7, "bad input everywhere it enters").

Properties:
- parse_document / load_file return records or raise EpisodeFileError whose message starts with the
  file's name and names the place (`episodes[0].assessments[0].items.sweating`), short whatever the
  input; never another exception (TypeError, KeyError, RecursionError, OverflowError, ...);
- what parses, import_episodes writes whole or refuses with a ServiceError naming the file, and then
  not one row of any table has changed; a file that imported imports again without adding a record.

Inputs: the format document's example (alone and in an episodes@1 wrapper) mutated (keys deleted or
added, any value replaced by one of another type or an odd one, times, scores, drugs, doses and vital
signs out of bounds), arbitrary JSON, and arbitrary or damaged bytes as a file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from monitor.domain import medications, substances
from monitor.io.episode_json import (
    FORMAT_MANY,
    FORMAT_ONE,
    EpisodeFileError,
    EpisodeRecord,
    load_file,
    parse_document,
)
from monitor.services.clinical import ClinicalService
from monitor.services.errors import ServiceError
from monitor.services.importing import ImportRefused
from monitor.store.database import open_database
from tests.conftest import FakeClock
from tests.io.test_episode_json import EXAMPLE

SOURCE = "ward.json"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # the example's times are a day before
JsonPath = tuple[str | int, ...]

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IMPORT_FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def example_doc() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def wrapped(*episodes: dict[str, Any]) -> dict[str, Any]:
    """An episodes@1 document of these episode@1 documents."""
    inner = []
    for episode in episodes:
        body = copy.deepcopy(episode)
        body.pop("format", None)
        inner.append(body)
    return {"format": FORMAT_MANY, "episodes": inner}


def second_patient() -> dict[str, Any]:
    doc = example_doc()
    doc["patient"] = {"mrn": "K-1002", "name": "Sam Second"}
    return doc


def one_wrapped() -> dict[str, Any]:
    return wrapped(example_doc())


def two_wrapped() -> dict[str, Any]:
    return wrapped(example_doc(), second_patient())


# --- JSON paths --------------------------------------------------------------------------------------


def children(value: Any) -> list[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return list(value.items())
    return list(enumerate(value)) if isinstance(value, list) else []


def paths(value: Any, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    """Every path below the root, containers included."""
    for key, child in children(value):
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def containers(value: Any, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    """Paths of every object (the root is `()`)."""
    if isinstance(value, dict):
        yield prefix
    for key, child in children(value):
        yield from containers(child, (*prefix, key))


def parent_of(doc: Any, path: JsonPath) -> Any:
    target = doc
    for part in path[:-1]:
        target = target[part]
    return target


def shown(path: JsonPath) -> str:
    """A path as the parser names it: episodes[0].assessments[0].items.sweating."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def record_of(path: JsonPath) -> str:
    """The record a path lies in: `patient`, `episode`, `assessments[0]`, `episodes[1].doses[0]`."""
    head: JsonPath = ()
    rest = list(path)
    if rest[:1] == ["episodes"]:
        head, rest = tuple(rest[:2]), rest[2:]
    if not rest:
        return shown(head)
    take = 2 if len(rest) > 1 and isinstance(rest[1], int) else 1
    return shown((*head, *rest[:take]))


# --- values ------------------------------------------------------------------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([2**63, -(2**63) - 1, 10**400, -(10**400), 1e308, -0.0, 5e-324])
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**400,
    -(10**30),
    0.5,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "   ",
    "x" * 5000,
    "\x00",
    "a\x00b",
    "\ud800",
    "\udcff",
    "\x1b[31mred",
    "\u202eevil",
    "\ufeffK-1001",
    "２５",
    "🙂",
    [],
    [1, 2],
    {},
    {"a": 1},
    [[[[[[[[[[[]]]]]]]]]]],
]
odd_values = st.sampled_from(ODD_VALUES).map(copy.deepcopy) | json_values | st.text()  # copies: mutated later

BAD_TIMES = [
    "2026-11-20T09:00:00",  # no offset
    "2026-11-20",
    "yesterday",
    "2026-13-45T25:61:00Z",
    "",
    "0001-01-01T00:00:00+01:00",  # leaves the calendar in UTC
    "0001-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59Z",
    "2099-01-01T00:00:00Z",  # future
    "2026-11-20T09:00:00+24:00",
    "2026-11-20T09:00:00Z\x00junk",
    "２０２６-11-20T09:00:00Z",
    "2026-11-20T09:00:00.123456789Z",
    "2026-11-20T09:00:00+01:00:00.5",
    " 2026-11-20T09:00:00Z ",
]
ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))]
moments = st.datetimes(
    min_value=datetime(1890, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(ZONES)
)
near_moments = st.builds(
    lambda minutes, zone: (NOW + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(-4 * 24 * 60, 2 * 24 * 60),
    st.sampled_from(ZONES),
)
times = (
    st.sampled_from(BAD_TIMES)
    | moments.map(lambda t: t.isoformat())
    | moments.map(lambda t: t.replace(tzinfo=None).isoformat())
    | near_moments.map(lambda t: t.isoformat().replace("+00:00", "Z"))
    | st.text(max_size=30)
)
wrong_words = st.sampled_from(["", "x", "NALTREXONE", "naltrexon", "heroin", "oral ", "COWS", "cows", "CIWA"])
names = st.text(max_size=80) | st.sampled_from(["rn.lee", "system", "workstation", "Rn.Lee", "rn.zoë"])
numbers = (
    st.integers(-1000, 3000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -0.0, 1e-300, 2000, 2000.0001, 0.0001, 37.0, 10**400])
)


def semantic(path: JsonPath) -> st.SearchStrategy[Any]:
    """A value plausible in shape for the field at `path`, often out of its bounds."""
    key = path[-1]
    if isinstance(key, int):
        return odd_values
    if key.endswith("_at"):
        return times
    if len(path) >= 2 and path[-2] == "items":
        return st.integers(-3, 9) | st.sampled_from([0.0, 1.0, 1.5, True, "1", None, 2**63])
    if key == "drug":
        return st.sampled_from([d.key for d in medications.DRUGS]) | wrong_words
    if key == "form":
        return st.sampled_from(sorted({f for d in medications.DRUGS for f in d.forms})) | wrong_words
    if key == "substance":
        return st.sampled_from([s.key for s in substances.SUBSTANCES]) | wrong_words
    if key == "route":
        return st.sampled_from(substances.ROUTES) | wrong_words
    if key == "scale":
        return wrong_words
    if key == "sex":
        return st.sampled_from(["female", "male", "other", "unknown", "M", "", "Female"])
    if key == "birth_date":
        return st.dates().map(str) | st.sampled_from(["1988-02-30", "1988-3-14", "2099-01-01", "19880314"])
    if key == "format":
        return st.sampled_from([FORMAT_ONE, FORMAT_MANY, "withdrawal-monitor/episode@2", ""])
    if key in ("mrn", "name", "by", "bed", "note", "amount"):
        return names
    return numbers  # dose_mg, pulse_bpm, systolic, diastolic, resp_rate, spo2, temp_c


@st.composite
def mutated(draw: st.DrawFn, max_mutations: int = 3) -> tuple[dict[str, Any], list[tuple[str, JsonPath]]]:
    """A valid document with 1..max_mutations changes; returns it and what was changed where."""
    doc: dict[str, Any] = draw(st.sampled_from([example_doc, one_wrapped, two_wrapped]))()
    done: list[tuple[str, JsonPath]] = []
    for _ in range(draw(st.integers(1, max_mutations))):
        kind = draw(st.sampled_from(["delete", "add", "replace", "semantic", "semantic"]))
        if kind == "add":
            where = draw(st.sampled_from(list(containers(doc))))
            key = draw(st.text(max_size=12) | st.sampled_from(["colour", "Format", "sweatng", "notes"]))
            target = parent_of(doc, (*where, key))
            if key in target:
                continue
            target[key] = draw(odd_values)
            done.append((kind, (*where, key)))
            continue
        all_paths = list(paths(doc))
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = parent_of(doc, path)
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(odd_values if kind == "replace" else semantic(path))
        done.append((kind, path))
    return doc, done


PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_refusal(error: EpisodeFileError, source: str) -> None:
    message = str(error)
    assert message.startswith(f"{source}: "), message
    assert error.problem.strip(), message
    assert len(message) < 1200, f"message of {len(message)} characters"
    assert "Traceback" not in message


def check_place(error: EpisodeFileError, doc: Any, done: list[tuple[str, JsonPath]]) -> None:
    """One change to a valid document: the refusal names the record that was changed."""
    if not isinstance(doc, dict):
        return
    assert error.where, str(error)
    [(_kind, path)] = done
    if "format" in path or "admitted_at" in path:  # the whole document, or every record's time bound
        return
    while any(isinstance(p, str) and not PLAIN_KEY.fullmatch(p) for p in path):
        path = path[:-1]  # an odd key is quoted in the message: check the record it was added to
    if path:
        assert error.where.startswith(record_of(path)), (str(error), shown(path))


# --- 1. parse_document: mutated documents and arbitrary JSON ----------------------------------------

DOC = example_doc()
WRAPPED = wrapped(example_doc(), second_patient())


def changed(
    doc: dict[str, Any], path: JsonPath, value: Any
) -> tuple[dict[str, Any], list[tuple[str, JsonPath]]]:
    doc = copy.deepcopy(doc)
    parent_of(doc, path)[path[-1]] = value
    return doc, [("regression", path)]


@FUZZ
@given(mutated(max_mutations=1))
# regressions: each of these raised something other than EpisodeFileError, or parsed and then failed
# the import with an exception that is no ServiceError
@example(changed(DOC, ("assessments", 0, "items", "sweating"), 0.0))  # InvalidItemValue at import
@example(changed(DOC, ("vitals", 0, "pulse_bpm"), 10**400))  # OverflowError formatting the limit
@example(changed(DOC, ("vitals", 0, "temp_c"), 10**400))  # OverflowError in math.isfinite
@example(changed(DOC, ("doses", 0, "dose_mg"), 10**400))  # OverflowError in math.isfinite
@example(changed(DOC, ("episode", "admitted_at"), "0001-01-01T00:00:00+01:00"))  # OverflowError
@example(changed(DOC, ("episode", "admitted_at"), "9999-12-31T23:59:59-01:00"))  # OverflowError
@example(changed(DOC, ("patient", "name"), "\ud800"))  # UnicodeEncodeError at import
@example(changed(WRAPPED, ("episodes", 1, "doses", 0, "by"), "rn.\udcff"))  # UnicodeEncodeError at import
@example(changed(DOC, ("doses", 0, "given_at"), "2026-11-20T09:05:00Z\x00junk"))  # accepted as a time
@example(changed(DOC, ("assessments", 0, "taken_at"), "1999-11-20T09:00:00Z"))  # long before admission
def test_one_change_is_parsed_or_refused_naming_the_record(
    case: tuple[dict[str, Any], list[tuple[str, JsonPath]]],
) -> None:
    doc, done = case
    try:
        records = parse_document(doc, SOURCE)
    except EpisodeFileError as error:
        check_refusal(error, SOURCE)
        check_place(error, doc, done)
        event("refused")
    else:
        assert all(isinstance(r, EpisodeRecord) and r.source == SOURCE for r in records)
        event("parsed")


@FUZZ
@given(mutated(max_mutations=4))
def test_several_changes_are_parsed_or_refused(
    case: tuple[dict[str, Any], list[tuple[str, JsonPath]]],
) -> None:
    doc, _done = case
    try:
        parse_document(doc, SOURCE)
    except EpisodeFileError as error:
        check_refusal(error, SOURCE)
        assert error.where


documents = json_values | st.fixed_dictionaries(
    {"format": st.sampled_from([FORMAT_ONE, FORMAT_MANY])},
    optional={
        "patient": json_values,
        "episode": json_values,
        "episodes": st.lists(json_values, max_size=3),
        "assessments": json_values,
        "doses": json_values,
        "vitals": json_values,
    },
)


@FUZZ
@given(documents)
def test_arbitrary_json_is_refused_with_a_message(doc: Any) -> None:
    try:
        parse_document(doc, SOURCE)
    except EpisodeFileError as error:
        check_refusal(error, SOURCE)


def deeply_nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


HUGE = "x" * 5_000_000


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("patient", "name"), HUGE, "patient.name"),
        (("assessments", 0, "taken_at"), HUGE, "assessments[0].taken_at"),
        (("doses", 0, "drug"), HUGE, "doses[0].drug"),
        (("doses", 0, "form"), HUGE, "doses[0].form"),
        (("episode", "substances", 0, "substance"), HUGE, "episode.substances[0].substance"),
        (("format",), HUGE, "format"),
        (("assessments", 0, "items", "sweating"), deeply_nested(10_000), "assessments[0].items.sweating"),
        (("vitals", 0, "spo2"), deeply_nested(10_000), "vitals[0].spo2"),
    ],
)
def test_huge_or_deep_values_get_a_short_message(path: JsonPath, value: Any, where: str) -> None:
    doc, _ = changed(DOC, path, value)
    with pytest.raises(EpisodeFileError) as error:
        parse_document(doc, SOURCE)
    assert error.value.where == where
    check_refusal(error.value, SOURCE)


def test_a_huge_unknown_key_is_named_short() -> None:
    doc = example_doc()
    doc["patient"][HUGE] = 1
    with pytest.raises(EpisodeFileError) as error:
        parse_document(doc, SOURCE)
    assert error.value.where.startswith("patient.'xxx") and "unknown key" in error.value.problem
    check_refusal(error.value, SOURCE)


# --- 2. load_file: arbitrary and damaged bytes --------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


def good_bytes() -> bytes:
    return json.dumps(EXAMPLE, ensure_ascii=False).encode("utf-8")


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    good = draw(st.sampled_from([good_bytes(), json.dumps(WRAPPED, indent=2).encode()]))
    how = draw(st.sampled_from(["truncate", "insert", "bom", "latin-1", "utf-16", "duplicate", "flip"]))
    if how == "truncate":
        return good[: draw(st.integers(0, len(good) - 1))]
    if how == "insert":
        at = draw(st.integers(0, len(good)))
        return good[:at] + draw(st.binary(min_size=1, max_size=8)) + good[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + good
    if how == "latin-1":
        doc = example_doc()
        doc["patient"]["name"] = "Zoë Müller"
        return json.dumps(doc, ensure_ascii=False).encode("latin-1")
    if how == "utf-16":
        return good.decode().encode("utf-16")
    if how == "duplicate":  # json keeps the last of two equal keys: the file must be refused
        pair = draw(st.sampled_from(['"sweating": 0', '"dose_mg": 25', '"bed": "3B"']))
        return good.decode().replace(pair, f"{pair}, {pair}", 1).encode()
    data = bytearray(good)
    at = draw(st.integers(0, len(data) - 1))
    data[at] = draw(st.integers(0, 255))
    return bytes(data)


RAW_EXAMPLES = [
    b"",
    b"   ",
    b"null",
    b"[]",
    b"NaN",
    b"\xff\xfe{}",
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b"[" * 100_000,
    b'{"format": "withdrawal-monitor/episode@1", "patient": ' + b"1" * 5000 + b"}",
    json.dumps({**EXAMPLE, "patient": {"mrn": "K-1", "name": "x" * 5_000_000}}).encode(),
    good_bytes().replace(b'"sweating": 0', b'"sweating": 4, "sweating": 0'),
    good_bytes().replace(b'"patient": {', b'"patient": {"name": "Someone Else", '),
]


@FUZZ
@given(
    st.binary(max_size=300)
    | damaged()
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
@example(b"\xef\xbb\xbf" + good_bytes())
def test_any_file_content_is_read_or_refused_naming_the_file(files: Path, raw: bytes) -> None:
    path = files / "content.json"
    path.write_bytes(raw)
    try:
        records = load_file(path)
    except EpisodeFileError as error:
        check_refusal(error, "content.json")
    else:
        assert all(isinstance(r, EpisodeRecord) for r in records)


@pytest.mark.parametrize("raw", RAW_EXAMPLES, ids=lambda raw: repr(raw[:24]))
def test_hostile_files_are_refused_naming_the_file(files: Path, raw: bytes) -> None:
    path = files / "hostile.json"
    path.write_bytes(raw)
    with pytest.raises(EpisodeFileError) as error:
        load_file(path)
    check_refusal(error.value, "hostile.json")


def test_a_key_given_twice_is_refused_not_silently_dropped(files: Path) -> None:
    path = files / "twice.json"
    path.write_bytes(good_bytes().replace(b'"sweating": 0', b'"sweating": 4, "sweating": 0'))
    with pytest.raises(EpisodeFileError) as error:
        load_file(path)
    assert error.value.where == "assessments[0].items.sweating"
    assert "more than once" in error.value.problem


def test_a_file_that_cannot_be_read_is_named(files: Path) -> None:
    for path, says in [
        (files, "cannot be read"),
        (files / "missing.json", "cannot be read"),
        (Path("nul\x00.json"), "cannot be read"),
    ]:
        with pytest.raises(EpisodeFileError, match=re.escape(says)):
            load_file(path)


# --- 3. import_episodes: all or nothing --------------------------------------------------------------


def row_counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        tables = [
            r[0]
            for r in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'"
            )
        ]
        return {t: raw.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


CLINICAL = ("patients", "episodes", "substance_uses", "assessments", "doses", "vitals")


def shift_all(doc: dict[str, Any], delta: timedelta) -> None:
    """Move every time in the document by delta (keeps it consistent)."""
    for path in list(paths(doc)):
        if isinstance(path[-1], str) and path[-1].endswith("_at"):
            parent = parent_of(doc, path)
            value = parent[path[-1]]
            if isinstance(value, str):
                moved = datetime.fromisoformat(value) + delta
                parent[path[-1]] = moved.isoformat()


PATIENTS = [("K-1001", "Alex Example"), ("K-1002", "Sam Second"), ("K-1003", "Kim Third")]


@st.composite
def importable(draw: st.DrawFn) -> dict[str, Any]:
    """Documents that parse, made to reach the importer's refusals as well as its writes: times up to
    just past now, a patient whose name differs, two open episodes, the same record time with other
    content, an unknown author, the app's own account."""
    episodes = []
    for number in range(draw(st.integers(1, 3))):
        doc = example_doc()
        mrn, name = PATIENTS[number]
        if draw(st.integers(0, 5)) == 0:  # the first patient again, perhaps under another name
            mrn, name = "K-1001", draw(st.sampled_from(["Alex Example", "ALEX EXAMPLE", "Someone"]))
        doc["patient"]["mrn"], doc["patient"]["name"] = mrn, name
        shift_all(doc, timedelta(hours=draw(st.sampled_from([0, 0, -72, 24]))))
        admitted = datetime.fromisoformat(doc["episode"]["admitted_at"])
        span = int((NOW - admitted).total_seconds() // 60)

        def later(low: int = -50, *, admitted: datetime = admitted, span: int = span) -> str:
            """A time from `low` minutes after admission to 10 minutes past now."""
            return (admitted + timedelta(minutes=draw(st.integers(low, span + 10)))).isoformat()

        for _ in range(draw(st.integers(0, 2))):
            change = draw(st.sampled_from(["time", "by", "again", "discharge", "birth", "last_use", "value"]))
            record = draw(st.sampled_from(["assessments", "doses", "vitals"]))
            if change == "time":
                doc[record][0]["given_at" if record == "doses" else "taken_at"] = later()
            elif change == "by":
                doc[record][0]["by"] = draw(st.sampled_from(["system", "workstation", "rn.zoë", "dr.rao"]))
            elif change == "again":  # a second record at the same time, perhaps with other content
                again = copy.deepcopy(doc[record][0])
                if record == "assessments":
                    again["items"]["yawning"] = draw(st.sampled_from([1, 2]))
                elif record == "doses":
                    again["dose_mg"] = draw(st.sampled_from([25, 50]))
                else:
                    again["pulse_bpm"] = draw(st.sampled_from([88, 90]))
                doc[record].append(again)
            elif change == "discharge":
                doc["episode"]["discharged_at"] = later(0) if draw(st.booleans()) else None
            elif change == "birth":
                doc["patient"]["birth_date"] = draw(
                    st.sampled_from(["1900-01-01", "2026-11-21", "2026-11-22"])
                )
            elif change == "last_use":
                doc["episode"]["substances"][0]["last_use_at"] = later()
            else:
                doc["assessments"][0]["items"]["yawning"] = draw(st.sampled_from([0, 2]))
        episodes.append(doc)
    return episodes[0] if len(episodes) == 1 else wrapped(*episodes)


def import_into(path: Path, doc: dict[str, Any], *, create_users: bool = True) -> None:
    """Parse and import `doc` into the database at path as the workstation account."""
    service = ClinicalService(open_database(path=path), clock=FakeClock(NOW), zone_name="Europe/Berlin")
    try:
        actor = service.ensure_workstation_user().username
        service.import_episodes(
            actor, parse_document(doc, SOURCE), create_unknown_users=create_users, source=SOURCE
        )
    finally:
        service.db.dispose()


class Databases:
    """Fresh databases, copied from migrated templates (migrating and the first import are what cost):
    empty but for the workstation account, or with the example already imported."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates: dict[bool, Path] = {}
        self.made = 0

    def fresh(self, known: bool) -> Path:
        if known not in self.templates:
            template = self.folder / f"template-{known}.sqlite"
            service = ClinicalService(
                open_database(path=template), clock=FakeClock(NOW), zone_name="Europe/Berlin"
            )
            service.ensure_workstation_user()
            service.db.dispose()
            if known:  # the file adds to (or conflicts with) what is there
                import_into(template, example_doc())
            self.templates[known] = template
        self.made += 1
        path = self.folder / f"db-{self.made}" / "monitor.sqlite"
        path.parent.mkdir()
        shutil.copy(self.templates[known], path)
        return path


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    return Databases(tmp_path_factory.mktemp("databases"))


@IMPORT_FUZZ
@given(
    st.one_of(importable(), importable(), mutated(max_mutations=1).map(lambda case: case[0])),
    st.booleans(),
    st.sampled_from([True, True, True, False]),
)
@example(
    wrapped(example_doc(), {**example_doc(), "patient": {"mrn": "K-1001", "name": "Someone"}}), False, True
)
def test_import_writes_everything_or_nothing(
    databases: Databases, doc: dict[str, Any], known: bool, create_users: bool
) -> None:
    try:
        parse_document(doc, SOURCE)
    except EpisodeFileError:
        event("does not parse")
        return
    path = databases.fresh(known)
    try:
        before = row_counts(path)
        try:
            import_into(path, doc, create_users=create_users)
        except ServiceError as refusal:
            event(f"refused: {re.sub(r'[0-9]+', 'N', refusal.message.split(': ', 2)[-1])[:60]}")
            assert refusal.message.startswith(f"{SOURCE}: "), refusal.message
            assert "Traceback" not in refusal.message
            assert row_counts(path) == before, refusal.message
            return
        event("imported")
        after = row_counts(path)
        assert after["audit_log"] > before["audit_log"]
        import_into(path, doc, create_users=create_users)  # importing the same file twice adds nothing
        again = row_counts(path)
        assert {t: again[t] for t in CLINICAL} == {t: after[t] for t in CLINICAL}
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


# --- regressions found by the fuzzing ----------------------------------------------------------------


def refusal_of(databases: Databases, doc: dict[str, Any], *, known: bool = False) -> str:
    path = databases.fresh(known)
    try:
        before = row_counts(path)
        with pytest.raises(ImportRefused) as refused:
            import_into(path, doc)
        assert row_counts(path) == before
        return refused.value.message
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_a_last_use_in_the_future_is_refused(databases: Databases) -> None:
    doc = example_doc()
    doc["episode"]["substances"][0]["last_use_at"] = "2026-11-22T09:00:00Z"
    assert (
        refusal_of(databases, doc)
        == f"{SOURCE}: episode.substances[0].last_use_at: more than 5 minutes in the future"
    )


def test_a_birth_date_in_the_future_is_refused(databases: Databases) -> None:
    doc = example_doc()
    doc["patient"]["birth_date"] = "2026-11-22"
    assert refusal_of(databases, doc) == f"{SOURCE}: patient.birth_date: the birth date is in the future"


def test_a_future_discharge_is_refused_even_when_the_episode_is_known(databases: Databases) -> None:
    discharged = example_doc()
    discharged["episode"]["discharged_at"] = "2026-11-20T10:00:00Z"
    path = databases.fresh(False)
    try:
        import_into(path, discharged)
        discharged["episode"]["discharged_at"] = "2026-11-22T10:00:00Z"
        before = row_counts(path)
        with pytest.raises(ImportRefused, match=r"episode\.discharged_at: more than 5 minutes in the future"):
            import_into(path, discharged)
        assert row_counts(path) == before
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_records_by_the_applications_own_account_are_refused(databases: Databases) -> None:
    doc = example_doc()
    doc["doses"][0]["by"] = "system"
    assert refusal_of(databases, doc) == (
        f"{SOURCE}: doses[0].by: 'system' is the application's own account; name who recorded it"
    )


def test_a_refusal_names_the_file_and_the_episode(databases: Databases) -> None:
    doc = wrapped(example_doc(), {**example_doc(), "patient": {"mrn": "K-1001", "name": "Someone"}})
    assert (
        refusal_of(databases, doc)
        == f"{SOURCE}: episodes[1].patient.name: MRN K-1001 belongs to Alex Example, not Someone"
    )


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("assessments", 0, "items", "sweating"), 0.0, "assessments[0].items.sweating"),
        (("patient", "name"), "Alex \ud800", "patient.name"),
        (("patient", "mrn"), "K-\x001001", "patient.mrn"),
        (("episode", "admitted_at"), "0001-01-01T00:00:00Z", "episode.admitted_at"),
        (("patient", "birth_date"), "0001-01-01", "patient.birth_date"),
        (("doses", 0, "given_at"), "2026-11-20T09:05:00Z\x00junk", "doses[0].given_at"),
        (("vitals", 0, "taken_at"), "2026-11-10T09:00:00Z", "vitals[0].taken_at"),
    ],
)
def test_inputs_that_once_reached_the_database_are_refused_by_the_parser(
    path: JsonPath, value: Any, where: str
) -> None:
    """Each of these parsed and then crashed the import (InvalidItemValue, UnicodeEncodeError,
    OverflowError in the alert rules) or was stored although the app would refuse it."""
    doc, _ = changed(DOC, path, value)
    with pytest.raises(EpisodeFileError) as error:
        parse_document(doc, SOURCE)
    assert error.value.where == where


def test_a_file_name_that_is_not_utf8_is_stored_escaped(databases: Databases) -> None:
    """`monitor import` passes os.fsdecode'd names: Latin-1 bytes arrive as lone surrogates, which SQLite
    refused (UnicodeEncodeError out of the import, a traceback)."""
    name = os.fsdecode(b"caf\xe9.json")
    path = databases.fresh(False)
    service = ClinicalService(open_database(path=path), clock=FakeClock(NOW), zone_name="Europe/Berlin")
    try:
        actor = service.ensure_workstation_user().username
        report = service.import_episodes(actor, parse_document(example_doc(), name), source=name)
        assert report.episodes_created == 1
    finally:
        service.db.dispose()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        [(after,)] = raw.execute(
            "SELECT after_json FROM audit_log WHERE action = 'episode.import'"
        ).fetchall()
    assert json.loads(after)["source"] == "caf\\udce9.json"
