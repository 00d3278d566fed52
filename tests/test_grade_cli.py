"""`proofcheck grade`, end to end, as a course runs it."""
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from test_grade import ASSIGNMENT, PERFECT

ROOT = Path(__file__).resolve().parent.parent


def grade(*args, cwd):
    return subprocess.run([sys.executable, "-m", "proofcheck", "grade", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    d = tmp_path_factory.mktemp("course")
    (d / "hw.pf").write_text(ASSIGNMENT)
    subs = d / "subs"
    subs.mkdir()
    (subs / "ada.pf").write_text(PERFECT)
    (subs / "bob.pf").write_text(PERFECT.replace("let L_f, L_g : real, nonneg", "let L_f, L_g : real, positive"))
    (subs / "junk.pf").write_bytes(b"\x00\x01junk")
    return d


def test_json_report_of_a_class(course):
    p = grade("hw.pf", "subs", "--format", "json", "--no-cache", cwd=course)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["version"] == 1 and doc["assignment"] == "hw.pf" and doc["max"] == 5
    students = {s["id"]: s for s in doc["students"]}
    assert list(students) == ["ada", "bob", "junk"]
    assert students["ada"]["total"] == 5 and students["ada"]["gradable"] is True
    assert students["bob"]["total"] == 0 and "declaration changed" in students["bob"]["theorems"][0]["reason"]
    assert students["junk"]["gradable"] is False and students["junk"]["total"] == 0
    th = students["ada"]["theorems"][0]
    assert set(th) == {"name", "score", "max_score", "status", "reason", "steps"}
    assert "Traceback" not in p.stderr


def test_csv_lms_files_and_feedback_pages(course, tmp_path):
    p = grade("hw.pf", "subs", "--format", "csv", "--out", tmp_path / "pages", cwd=course)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [r["id"] for r in rows] == ["ada", "bob", "junk"] and rows[0]["total"] == "5"
    assert {f.name for f in (tmp_path / "pages").iterdir()} == {"ada.html", "bob.html", "junk.html"}
    gs, pl = tmp_path / "gs.json", tmp_path / "pl.json"
    p = grade("hw.pf", "subs/ada.pf", "--gradescope", gs, "--prairielearn", pl, "--format", "json", cwd=course)
    assert p.returncode == 0, p.stderr
    assert json.loads(gs.read_text())["score"] == 5
    assert json.loads(pl.read_text())["score"] == 1 and json.loads(pl.read_text())["gradable"] is True


def test_text_table_and_the_warm_cache(course):
    cold = grade("hw.pf", "subs", "--cache-dir", "cache", cwd=course)
    warm = grade("hw.pf", "subs", "--cache-dir", "cache", cwd=course)
    assert cold.returncode == warm.returncode == 0
    assert "ada" in cold.stdout and "5" in cold.stdout
    table = lambda out: [l for l in out.splitlines() if "graded in" not in l]  # noqa: E731
    assert table(cold.stdout) == table(warm.stdout)


def test_usage_errors_and_a_bad_assignment_exit_2(course, tmp_path):
    bad = tmp_path / "bad.pf"
    bad.write_text("let x : real\ntheorem t : x <=\n")
    p = grade(bad, "subs", cwd=course)
    assert p.returncode == 2 and "syntax error" in p.stderr and "Traceback" not in p.stderr
    p = grade("hw.pf", "subs", "--gradescope", tmp_path / "x.json", cwd=course)
    assert p.returncode == 2 and "exactly one" in p.stderr
    p = grade("missing.pf", "subs", cwd=course)
    assert p.returncode == 2
