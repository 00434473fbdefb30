"""The episode file format, version 1 (shared/formats/episode-v1.md): parsing and validation.

Parsing is strict: unknown keys, times without an offset and values outside the scale are errors, each
naming the record and the field (`episodes[0].assessments[2].items.sweating`), so a typo never silently
drops data. Writing to the database is the services' job (all-or-nothing, idempotent).
"""

from __future__ import annotations

import dataclasses
import json
import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.domain import charting, medications, plausibility, scales, substances
from monitor.domain.text import AMOUNT_MAX, BED_MAX, MRN_MAX, NAME_MAX, NOTE_MAX, bad_character, text_problem

FORMAT_ONE = "withdrawal-monitor/episode@1"
FORMAT_MANY = "withdrawal-monitor/episodes@1"
SEXES = ("female", "male", "other", "unknown")
# No clinical time or birth date in a file is before this: an earlier year is a typing error (and the
# alert rules' arithmetic would leave the calendar).
EARLIEST_YEAR = 1900
# Whole numbers beyond a 64-bit integer fit no column (and no plausible measurement).
_INT_LIMIT = 2**63
_MAX_TIME_LENGTH = 64

_SHOW = reprlib.Repr()
_SHOW.maxstring = 60
_SHOW.maxother = 60
_SHOW.maxlong = 30
_SHOW.maxlevel = 2
_SHOW.maxlist = _SHOW.maxdict = 4


def _shown(value: Any) -> str:
    """A value as a message quotes it: short, whatever its size or depth."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT_LIMIT:
        return "a number far too large"
    return _SHOW.repr(value)


def _key(key: str) -> str:
    """A key as a place names it (`items.sweating`): odd or very long keys quoted and shortened."""
    if len(key) <= 60 and key.isprintable() and key.strip() == key and key and "." not in key:
        return key
    return _shown(key)


class EpisodeFileError(ValueError):
    """A file that does not follow the format; `where` names the record and field."""

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.problem = message
        location = f"{source}: {where}: " if where else f"{source}: "
        super().__init__(location + message)


@dataclass(frozen=True)
class PatientRecord:
    mrn: str
    name: str
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class SubstanceRecord:
    substance: str
    last_use_at: datetime | None
    amount: str = ""
    route: str = ""


@dataclass(frozen=True)
class AssessmentRecord:
    scale: str
    taken_at: datetime
    by: str
    items: Mapping[str, int]
    pulse_bpm: int | None = None
    note: str = ""


@dataclass(frozen=True)
class DoseRecordIn:
    drug: str
    form: str
    dose_mg: float
    given_at: datetime
    by: str


@dataclass(frozen=True)
class VitalsRecordIn:
    taken_at: datetime
    by: str
    pulse_bpm: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    resp_rate: int | None = None
    spo2: int | None = None
    temp_c: float | None = None


@dataclass(frozen=True)
class EpisodeRecord:
    """One episode as read from a file; `where` says which one (for messages)."""

    where: str
    patient: PatientRecord
    admitted_at: datetime
    discharged_at: datetime | None
    bed: str
    substances: tuple[SubstanceRecord, ...]
    assessments: tuple[AssessmentRecord, ...]
    doses: tuple[DoseRecordIn, ...]
    vitals: tuple[VitalsRecordIn, ...]
    source: str = field(default="", compare=False)  # the file it came from (for messages)


class _Reader:
    """Walks one decoded JSON document, raising EpisodeFileError at the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> EpisodeFileError:
        return EpisodeFileError(self.source, where, message)

    def obj(self, value: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object")
        self.no_duplicates(value, where)
        unknown = sorted(str(k) for k in set(value) - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise self.fail(_join(where, _key(unknown[0])), f"unknown key (allowed: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(_join(where, missing[0]), "is required")
        return value

    def no_duplicates(self, value: dict[str, Any], where: str) -> None:
        duplicates = getattr(value, "duplicates", ())
        if duplicates:
            raise self.fail(_join(where, _key(duplicates[0])), "appears more than once in the object")

    def text(self, value: Any, where: str, *, required: bool = True, max_len: int = NAME_MAX) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, "must be a string")
        cleaned: str = value.strip()
        if required and not cleaned:
            raise self.fail(where, "must not be empty")
        problem = text_problem(cleaned, max_len)
        if problem:
            raise self.fail(where, problem)
        return cleaned

    def time(self, value: Any, where: str, *, required: bool = True) -> datetime | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.fail(where, "must be an ISO 8601 time with an offset, e.g. 2026-11-20T08:00:00Z")
        shown = _shown(value)
        # fromisoformat stops at a NUL (and takes "...Z\x00junk" for a time): check the characters first
        if len(value) > _MAX_TIME_LENGTH or bad_character(value):
            raise self.fail(where, f"{shown} is not an ISO 8601 time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(where, f"{shown} is not an ISO 8601 time") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise self.fail(where, f"{shown} has no offset; add Z or +01:00 so the time is unambiguous")
        if parsed.year < EARLIEST_YEAR:
            raise self.fail(where, f"{shown} is before {EARLIEST_YEAR}; check the year")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is in the year 10000 in UTC
            raise self.fail(where, f"{shown} is beyond the year 9999") from None

    def integer(self, value: Any, where: str, *, required: bool = False) -> int | None:
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "must be a whole number")
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise self.fail(where, "is a number far out of range")
        return value

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, "must be a number")
        try:
            result = float(value)  # an int beyond a double overflows here
        except OverflowError:
            raise self.fail(where, "is a number far out of range") from None
        if not math.isfinite(result):
            raise self.fail(where, "must be a finite number")
        return result

    def items_list(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        return value


def parse_document(data: Any, source: str = "file") -> list[EpisodeRecord]:
    """Validate a decoded document (one episode or a list of them) into records."""
    reader = _Reader(source)
    if not isinstance(data, dict):
        raise reader.fail("", "the document must be a JSON object")
    fmt = data.get("format")
    if fmt == FORMAT_MANY:
        reader.obj(data, "", {"format", "episodes"}, set())
        episodes = data["episodes"]
        if not isinstance(episodes, list):
            raise reader.fail("episodes", "must be a list of episodes")
        records = [_episode(reader, e, f"episodes[{n}]", with_format=False) for n, e in enumerate(episodes)]
    elif fmt == FORMAT_ONE:
        records = [_episode(reader, data, "", with_format=True)]
    else:
        raise reader.fail("format", f"must be {FORMAT_ONE!r} or {FORMAT_MANY!r}, not {_shown(fmt)}")
    return [dataclasses.replace(r, source=source) for r in records]


class _Object(dict[str, Any]):
    """A decoded JSON object that remembers keys given twice (json keeps the last one silently)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicates = []
        for key, _value in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        result.duplicates = tuple(duplicates)
    return result


def load_file(path: Path) -> list[EpisodeRecord]:
    """Read and validate an episode file. Raises EpisodeFileError with a plain message."""
    source = path.name or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EpisodeFileError(source, "", f"cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:  # a NUL in the path
        raise EpisodeFileError(_shown(source), "", f"cannot be read ({exc})") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        raise EpisodeFileError(source, "", "starts with a byte order mark; save it as UTF-8 without BOM")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_object)
    except UnicodeDecodeError as exc:
        raise EpisodeFileError(source, "", f"is not UTF-8 text (byte {exc.start + 1} is not)") from exc
    except json.JSONDecodeError as exc:
        raise EpisodeFileError(
            source, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise EpisodeFileError(
            source, "", "nests arrays or objects too deeply to be an episode file"
        ) from exc
    except ValueError as exc:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise EpisodeFileError(source, "", "holds a number with thousands of digits") from exc
    return parse_document(data, source)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _episode(reader: _Reader, data: Any, where: str, *, with_format: bool) -> EpisodeRecord:
    top = {"patient", "episode"}
    if with_format:
        top.add("format")
    obj = reader.obj(data, where, top, {"assessments", "doses", "vitals"})
    patient = _patient(reader, obj["patient"], _join(where, "patient"))
    ep_where = _join(where, "episode")
    ep = reader.obj(obj["episode"], ep_where, {"admitted_at"}, {"discharged_at", "bed", "substances"})
    admitted = reader.time(ep["admitted_at"], f"{ep_where}.admitted_at")
    assert admitted is not None
    discharged = reader.time(ep.get("discharged_at"), f"{ep_where}.discharged_at", required=False)
    if discharged is not None and discharged < admitted:
        raise reader.fail(f"{ep_where}.discharged_at", "is before admitted_at")
    bed = reader.text(ep.get("bed"), f"{ep_where}.bed", required=False, max_len=BED_MAX)
    uses = tuple(
        _substance(reader, s, f"{ep_where}.substances[{n}]")
        for n, s in enumerate(reader.items_list(ep.get("substances"), f"{ep_where}.substances"))
    )
    assessments = tuple(
        _assessment(reader, a, _join(where, f"assessments[{n}]"))
        for n, a in enumerate(reader.items_list(obj.get("assessments"), _join(where, "assessments")))
    )
    doses = tuple(
        _dose(reader, d, _join(where, f"doses[{n}]"))
        for n, d in enumerate(reader.items_list(obj.get("doses"), _join(where, "doses")))
    )
    vitals = tuple(
        _vitals(reader, v, _join(where, f"vitals[{n}]"))
        for n, v in enumerate(reader.items_list(obj.get("vitals"), _join(where, "vitals")))
    )
    # As when charting in the app: a clinical time more than 1 h before admission is a wrong date, and
    # nothing is charted after the discharge (the app refuses records on a discharged episode).
    earliest = admitted - charting.LATE_CHARTING_AFTER
    for kind, times in (
        ("assessments", [a.taken_at for a in assessments]),
        ("doses", [d.given_at for d in doses]),
        ("vitals", [v.taken_at for v in vitals]),
    ):
        for n, when in enumerate(times):
            field_name = _join(where, f"{kind}[{n}].{'given_at' if kind == 'doses' else 'taken_at'}")
            if when < earliest:
                raise reader.fail(
                    field_name,
                    f"is more than 1 hour before the admission ({ep_where}.admitted_at); check the date",
                )
            if discharged is not None and when > discharged:
                raise reader.fail(
                    field_name, f"is after the discharge ({ep_where}.discharged_at); check the date"
                )
    return EpisodeRecord(
        where=where or "episode",
        patient=patient,
        admitted_at=admitted,
        discharged_at=discharged,
        bed=bed,
        substances=uses,
        assessments=assessments,
        doses=doses,
        vitals=vitals,
    )


def _patient(reader: _Reader, data: Any, where: str) -> PatientRecord:
    obj = reader.obj(data, where, {"mrn", "name"}, {"birth_date", "sex"})
    birth: date | None = None
    if obj.get("birth_date") is not None:
        text = reader.text(obj["birth_date"], f"{where}.birth_date", max_len=10)
        try:
            birth = date.fromisoformat(text)
        except ValueError:
            raise reader.fail(f"{where}.birth_date", f"{text!r} is not a date like 1988-03-14") from None
        if birth.year < EARLIEST_YEAR:
            raise reader.fail(f"{where}.birth_date", f"{text!r} is before {EARLIEST_YEAR}; check the year")
    sex = obj.get("sex")
    if sex is not None and (not isinstance(sex, str) or sex not in SEXES):
        raise reader.fail(f"{where}.sex", f"must be one of {', '.join(SEXES)}")
    return PatientRecord(
        mrn=reader.text(obj["mrn"], f"{where}.mrn", max_len=MRN_MAX),
        name=reader.text(obj["name"], f"{where}.name"),
        birth_date=birth,
        sex=sex,
    )


def _substance(reader: _Reader, data: Any, where: str) -> SubstanceRecord:
    obj = reader.obj(data, where, {"substance"}, {"last_use_at", "amount", "route"})
    key = obj["substance"]
    try:
        substances.substance(key if isinstance(key, str) else "")
    except substances.UnknownSubstance:
        allowed = ", ".join(s.key for s in substances.SUBSTANCES)
        raise reader.fail(
            f"{where}.substance", f"unknown substance {_shown(key)}; allowed keys are {allowed}"
        ) from None
    route = reader.text(obj.get("route"), f"{where}.route", required=False, max_len=32)
    if route and route not in substances.ROUTES:
        raise reader.fail(f"{where}.route", f"must be one of {', '.join(substances.ROUTES)}")
    return SubstanceRecord(
        substance=key,
        last_use_at=reader.time(obj.get("last_use_at"), f"{where}.last_use_at", required=False),
        amount=reader.text(obj.get("amount"), f"{where}.amount", required=False, max_len=AMOUNT_MAX),
        route=route,
    )


def _assessment(reader: _Reader, data: Any, where: str) -> AssessmentRecord:
    obj = reader.obj(data, where, {"scale", "taken_at", "by", "items"}, {"pulse_bpm", "note"})
    scale = scales.SCALES.get(obj["scale"]) if isinstance(obj["scale"], str) else None
    if scale is None:
        raise reader.fail(f"{where}.scale", f"must be one of {', '.join(scales.SCALES)}")
    items = obj["items"]
    if not isinstance(items, dict):
        raise reader.fail(f"{where}.items", "must be an object of item scores")
    reader.no_duplicates(items, f"{where}.items")
    for key in items:
        if key not in scale.keys:
            raise reader.fail(
                f"{where}.items.{_key(key)}", f"unknown item (items are {', '.join(scale.keys)})"
            )
    for key in scale.keys:
        if key not in items:
            raise reader.fail(f"{where}.items.{key}", "is missing: every item needs a score")
        value = items[key]
        allowed_values = scale.item(key).allowed_values
        # a whole number: 1.0 equals 1, but the score is stored (and checked again) as an integer
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed_values:
            allowed = ", ".join(str(v) for v in allowed_values)
            raise reader.fail(
                f"{where}.items.{key}", f"{_shown(value)} is not an allowed value (allowed: {allowed})"
            )
    pulse = reader.integer(obj.get("pulse_bpm"), f"{where}.pulse_bpm")
    if pulse is not None:
        try:
            expected = scales.resting_pulse_value(pulse)
        except scales.ImplausiblePulse as exc:
            raise reader.fail(f"{where}.pulse_bpm", str(exc)) from None
        if scale is scales.COWS and items["resting_pulse"] != expected:
            raise reader.fail(
                f"{where}.items.resting_pulse",
                f"is {items['resting_pulse']} but a pulse of {pulse} bpm scores {expected}",
            )
    taken = reader.time(obj["taken_at"], f"{where}.taken_at")
    assert taken is not None
    return AssessmentRecord(
        scale=scale.code,
        taken_at=taken,
        by=reader.text(obj["by"], f"{where}.by", max_len=64),
        items=dict(items),
        pulse_bpm=pulse,
        note=reader.text(obj.get("note"), f"{where}.note", required=False, max_len=NOTE_MAX),
    )


def _dose(reader: _Reader, data: Any, where: str) -> DoseRecordIn:
    obj = reader.obj(data, where, {"drug", "form", "dose_mg", "given_at", "by"}, set())
    drug = obj["drug"] if isinstance(obj["drug"], str) else ""
    try:
        known = medications.drug(drug)
    except medications.UnknownDrug:
        allowed = ", ".join(d.key for d in medications.DRUGS)
        raise reader.fail(
            f"{where}.drug", f"unknown drug {_shown(obj['drug'])}; known drugs are {allowed}"
        ) from None
    form = obj["form"] if isinstance(obj["form"], str) else ""
    if form not in known.forms:
        raise reader.fail(
            f"{where}.form",
            f"{drug} is not given as {_shown(obj['form'])}; allowed forms are {', '.join(known.forms)}",
        )
    dose_mg = reader.number(obj["dose_mg"], f"{where}.dose_mg")
    problem = plausibility.check_dose_mg(dose_mg)
    if problem:
        raise reader.fail(f"{where}.dose_mg", problem)
    given = reader.time(obj["given_at"], f"{where}.given_at")
    assert given is not None
    return DoseRecordIn(
        drug=drug,
        form=form,
        dose_mg=dose_mg,
        given_at=given,
        by=reader.text(obj["by"], f"{where}.by", max_len=64),
    )


def _vitals(reader: _Reader, data: Any, where: str) -> VitalsRecordIn:
    fields = set(plausibility.VITAL_LIMITS)
    obj = reader.obj(data, where, {"taken_at", "by"}, fields)
    values: dict[str, float | None] = {}
    for key in plausibility.VITAL_LIMITS:
        raw = obj.get(key)
        if raw is None:
            values[key] = None
        elif key == "temp_c":
            values[key] = reader.number(raw, f"{where}.{key}")
        else:
            values[key] = reader.integer(raw, f"{where}.{key}")
    problems = plausibility.check_vitals(values)
    if problems:
        key, message = problems[0]
        raise reader.fail(f"{where}.{key}", message)
    if all(v is None for v in values.values()):
        raise reader.fail(where, "has no measurement")
    taken = reader.time(obj["taken_at"], f"{where}.taken_at")
    assert taken is not None

    def as_int(key: str) -> int | None:
        value = values[key]
        return None if value is None else int(value)

    return VitalsRecordIn(
        taken_at=taken,
        by=reader.text(obj["by"], f"{where}.by", max_len=64),
        pulse_bpm=as_int("pulse_bpm"),
        systolic=as_int("systolic"),
        diastolic=as_int("diastolic"),
        resp_rate=as_int("resp_rate"),
        spo2=as_int("spo2"),
        temp_c=values["temp_c"],
    )
