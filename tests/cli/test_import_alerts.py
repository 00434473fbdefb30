"""`monitor import` and `monitor alerts` end to end, on episode files written in the test."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from monitor.cli.main import main
from monitor.services.clinical import ClinicalService
from monitor.services.views import AssessmentInput
from monitor.store.database import open_database
from tests.io.test_episode_json import EXAMPLE


def cows_items(total_parts: dict[str, int]) -> dict[str, int]:
    items = {k: 0 for k in EXAMPLE["assessments"][0]["items"]}
    items.update(total_parts)
    return items


def kratom_day3_file() -> dict[str, Any]:
    """A kratom patient (last use 2.5 days before) given naltrexone, COWS 4 -> 17 50 min later."""
    data = copy.deepcopy(EXAMPLE)
    data["episode"]["substances"][0]["last_use_at"] = "2026-11-17T21:00:00Z"
    data["assessments"] = [
        {
            "scale": "COWS",
            "taken_at": "2026-11-20T09:00:00Z",
            "by": "rn.lee",
            "pulse_bpm": 88,
            "items": cows_items(
                {"resting_pulse": 1, "restlessness": 1, "pupil_size": 1, "anxiety_irritability": 1}
            ),
        },
        {
            "scale": "COWS",
            "taken_at": "2026-11-20T09:55:00Z",
            "by": "rn.lee",
            "pulse_bpm": 108,
            "items": cows_items(
                {
                    "resting_pulse": 2,
                    "sweating": 2,
                    "restlessness": 3,
                    "pupil_size": 2,
                    "bone_joint_aches": 2,
                    "runny_nose_tearing": 1,
                    "gi_upset": 2,
                    "tremor": 1,
                    "yawning": 1,
                    "anxiety_irritability": 1,
                }
            ),
        },
    ]
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as raw:
        return {
            table: raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("patients", "episodes", "assessments", "doses", "vitals", "users")
        }


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_twice_adds_nothing_the_second_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, f = str(tmp_path / "w.sqlite"), write(tmp_path / "alex.json", kratom_day3_file())
    code, out, _ = run(capsys, "--db", db, "import", str(f))
    assert code == 0
    assert "1 new episode(s)" in out and "added 2 assessment(s), 1 dose(s), 1 vital sign set(s)" in out
    first = counts(Path(db))
    assert first == {"patients": 1, "episodes": 1, "assessments": 2, "doses": 1, "vitals": 1, "users": 3}
    code, out, _ = run(capsys, "--db", db, "import", str(f))
    assert code == 0 and "4 record(s) already present" in out
    assert counts(Path(db)) == first


def test_unknown_author_becomes_an_inactive_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.sqlite"
    run(capsys, "--db", str(db), "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT active FROM users WHERE username = 'rn.lee'").fetchone() == (0,)
    code, _, err = run(
        capsys,
        "--db",
        str(tmp_path / "other.sqlite"),
        "import",
        "--no-create-users",
        str(write(tmp_path / "b.json", kratom_day3_file())),
    )
    assert code == 2 and "unknown user 'rn.lee'" in err


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["assessments"][1]["items"].update(sweating=5), "assessments[1].items.sweating"),
        (lambda d: d["doses"][0].update(given_at="2026-11-20T09:05:00"), "doses[0].given_at"),
        (lambda d: d["vitals"][0].update(diastolic=150), "vitals[0].diastolic"),
        (lambda d: d["patient"].pop("name"), "patient.name"),
    ],
)
def test_one_bad_record_rejects_every_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, says: str
) -> None:
    db = tmp_path / "w.sqlite"
    good = copy.deepcopy(kratom_day3_file())
    good["patient"]["mrn"] = "K-2000"
    bad = kratom_day3_file()
    change(bad)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "import",
        str(write(tmp_path / "good.json", good)),
        str(write(tmp_path / "bad.json", bad)),
    )
    assert code == 2
    assert f"bad.json: {says}" in err and "nothing was written" in err
    assert "Traceback" not in err
    assert counts(db)["patients"] == 0


def test_a_conflicting_record_at_the_same_time_is_refused_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "w.sqlite")
    run(capsys, "--db", db, "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    before = counts(Path(db))
    changed = kratom_day3_file()
    changed["assessments"][0]["items"]["yawning"] = 1
    changed["vitals"].append({"taken_at": "2026-11-20T11:00:00Z", "pulse_bpm": 90, "by": "rn.lee"})
    code, _, err = run(capsys, "--db", db, "import", str(write(tmp_path / "b.json", changed)))
    assert code == 2 and "assessments[0].taken_at: a different COWS at this time" in err
    assert counts(Path(db)) == before


def test_alerts_json_for_the_kratom_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "w.sqlite")
    run(capsys, "--db", db, "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    code, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T10:00:00Z", "--json")
    assert code == 0
    alerts = json.loads(out)
    by_rule = {a["rule"]: a for a in alerts}
    assert set(by_rule) == {"precipitated_withdrawal", "antagonist_too_soon"}
    pw = by_rule["precipitated_withdrawal"]
    assert (pw["mrn"], pw["priority"], pw["raised_at"], pw["state"]) == (
        "K-1001",
        "high",
        "2026-11-20T09:55:00Z",
        "active",
    )
    assert pw["message"] == "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 09:05"
    assert pw["evidence"]["rise"] == 13 and pw["evidence"]["baseline_total"] == 4
    soon = by_rule["antagonist_too_soon"]
    assert soon["priority"] == "high" and soon["raised_at"] == "2026-11-20T09:05:00Z"
    assert "kratom" in soon["message"] and "7 days" in soon["message"]
    assert alerts[0]["rule"] == "precipitated_withdrawal"  # highest priority, newest first


def test_alerts_at_a_time_ignores_later_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "w.sqlite")
    run(capsys, "--db", db, "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    code, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T09:30:00Z", "--json")
    assert code == 0
    assert [a["rule"] for a in json.loads(out)] == ["antagonist_too_soon"]
    code, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T09:04:00Z", "--json")
    assert json.loads(out) == []


def test_alerts_all_includes_resolved_ones_with_their_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "w.sqlite")
    run(capsys, "--db", db, "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    _, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T10:00:00Z", "--json")
    assert "reassessment_overdue" not in {a["rule"] for a in json.loads(out)}
    _, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T10:00:00Z", "--all", "--json")
    overdue = [a for a in json.loads(out) if a["rule"] == "reassessment_overdue"]
    # the +30 min slot (09:35 +/- 15) was missed: raised 09:50, resolved by the 09:55 COWS
    assert [(a["raised_at"], a["state"], a["resolved_at"]) for a in overdue] == [
        ("2026-11-20T09:50:00Z", "resolved", "2026-11-20T09:55:00Z")
    ]


def test_alerts_mrn_filter_and_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "w.sqlite")
    run(capsys, "--db", db, "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    # A mistyped MRN is no all-clear ("no active alerts" for a patient with a HIGH alert, QA found)
    code, out, err = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T10:00:00Z", "--mrn", "K-1O01")
    assert (code, out, err) == (2, "", "monitor: No patient has the MRN 'K-1O01'.\n")
    _, out, _ = run(capsys, "--db", db, "alerts", "--at", "2026-11-20T10:00:00Z", "--mrn", "K-1001")
    assert out.splitlines()[0].startswith("▲ HIGH")
    assert "COWS 4 -> 17 (+13)" in out.splitlines()[0]


@pytest.mark.parametrize("at", ["yesterday", "2026-11-20T10:00:00"])
def test_bad_time_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], at: str) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "w.sqlite"), "alerts", "--at", at)
    assert code == 2 and "--at" in err and "Traceback" not in err


def test_missing_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "w.sqlite"), "import", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: cannot be read" in err


def service_on(db: Path) -> ClinicalService:
    """The services on the database the command wrote (system clock, like the command)."""
    return ClinicalService(open_database(path=db), zone_name="Europe/Berlin")


def test_import_twice_after_entered_in_error_and_amendment_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, f = tmp_path / "w.sqlite", write(tmp_path / "alex.json", kratom_day3_file())
    assert run(capsys, "--db", str(db), "import", str(f))[0] == 0
    service = service_on(db)
    try:
        actor = service.ensure_workstation_user().username
        [episode] = service.open_episodes()
        baseline, rise = service.assessments(episode.id)
        service.mark_entered_in_error(actor, rise.id, "charted on the wrong patient")
        items: dict[str, int | None] = {**baseline.items, "yawning": 1}
        amended = AssessmentInput(baseline.taken_at, items, pulse_bpm=baseline.pulse_bpm)
        service.amend_assessment(actor, baseline.id, amended, "yawning missed")
        before = counts(db)
        code, out, err = run(capsys, "--db", str(db), "import", str(f))
        assert (code, err) == (0, "")
        assert "added 0 assessment(s), 0 dose(s), 0 vital sign set(s); 4 record(s) already present" in out
        assert counts(db) == before
        current = service.assessments(episode.id, include_entered_in_error=False)
        assert [(a.version, a.items["yawning"]) for a in current] == [(2, 1)]
    finally:
        service.db.dispose()


def test_import_audits_each_record_with_the_importing_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.sqlite"
    f = write(tmp_path / "a.json", kratom_day3_file())
    service = service_on(db)
    service.ensure_user("rn.admin", "Importing Nurse", "nurse")
    service.db.dispose()
    assert run(capsys, "--db", str(db), "--user", "rn.admin", "import", str(f))[0] == 0
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT a.action, u.username, a.patient_id FROM audit_log a JOIN users u ON u.id = a.user_id "
            "WHERE a.action IN ('assessment.record', 'dose.record', 'vitals.record', 'user.create', "
            "'episode.import') ORDER BY a.id"
        ).fetchall()
    actions = [r[0] for r in rows]
    assert actions.count("assessment.record") == 2
    assert actions.count("dose.record") == 1 and actions.count("vitals.record") == 1
    assert ("user.create", "rn.admin") in [(r[0], r[1]) for r in rows]  # rn.lee, created by the import
    assert {r[1] for r in rows} == {"rn.admin"}
    assert all(r[2] is not None for r in rows if r[0] != "user.create")


def test_a_user_name_without_an_account_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.sqlite"
    f = write(tmp_path / "a.json", kratom_day3_file())
    code, _out, err = run(capsys, "--db", str(db), "--user", "dr.nobody", "import", str(f))
    assert code == 2
    assert err == (
        f"monitor: there was no database at {db}: importing into a new one\n"
        "monitor: There is no account 'dr.nobody'. An administrator creates accounts in the app "
        "(Clinic > Users and workstation lock).\n"
    )
    service = service_on(db)
    try:
        assert not service.account_exists("dr.nobody") and service.open_episodes() == []
    finally:
        service.db.dispose()


@pytest.mark.parametrize("command", [["alerts"], ["episodes"], ["audit", "verify"]])
def test_a_mistyped_database_path_is_refused_not_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """QA: `--db ward.sqllite alerts` made a new, empty database and answered "no active alerts"."""
    db = tmp_path / "ward.sqllite"
    code, out, err = run(capsys, "--db", str(db), *command)
    assert (code, out) == (2, "")
    assert err.startswith(f"monitor: There is no database at {db}. Check the path.")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_given_as_the_database_is_named_as_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "--db", str(tmp_path), "alerts")
    assert (code, err) == (
        2,
        f"monitor: {tmp_path} is a folder, not a database file: give the file's path.\n",
    )


def test_alerts_all_keeps_an_alert_withdrawn_by_an_entered_in_error_cows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.sqlite"
    run(capsys, "--db", str(db), "import", str(write(tmp_path / "a.json", kratom_day3_file())))
    service = service_on(db)
    try:
        actor = service.ensure_workstation_user().username
        [episode] = service.open_episodes()
        rise = service.assessments(episode.id)[1]
        pw = next(a for a in service.alerts(include_inactive=True) if a.rule == "precipitated_withdrawal")
        voided = service.mark_entered_in_error(actor, rise.id, "another patient's score")
    finally:
        service.db.dispose()
    _, out, _ = run(capsys, "--db", str(db), "alerts", "--json")
    assert "precipitated_withdrawal" not in {a["rule"] for a in json.loads(out)}
    _, out, _ = run(capsys, "--db", str(db), "alerts", "--all", "--json")
    [gone] = [a for a in json.loads(out) if a["rule"] == "precipitated_withdrawal"]
    assert voided.voided_at is not None
    assert (gone["state"], gone["message"], gone["evidence"]["rise"]) == ("resolved", pw.message, 13)
    assert gone["resolved_at"] == voided.voided_at.isoformat().replace("+00:00", "Z")
