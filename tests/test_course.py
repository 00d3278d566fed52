"""The example course (examples/course): every student's grade, theorem by theorem.

Each submission in examples/course/submissions/ goes wrong in one way a grader has
to handle; the table below is what a teacher reading the grades should see. The
same expectations hold through the grading core and through `proofcheck grade
--format json`.
"""
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from proofcheck import grade
from proofcheck.check import Options

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "examples" / "course"
ASSIGNMENT = COURSE / "assignment.pf"
SUBMISSIONS = COURSE / "submissions"

POINTS = {"composition": 2, "sum_rule": 2, "product_rule": 3, "softplus_lipschitz": 3}

# student -> {theorem: (score, status, words the reason must contain)}; theorems not
# listed get full marks, `proved`, and no reason.
EXPECTED = {
    "ada": {},
    # a sign slip in one step of the sum rule: 3 of its 4 steps hold, half credit × 3/4
    "ben": {"sum_rule": (Fraction(3, 4), "refuted", ["line 26", "refuted", "3 of 4 steps"])},
    # `… + 1 + 1` on the right side: a weaker statement, whatever its proof
    "cy": {"composition": (0, "altered", ["statement changed", "L_g*L_f*|x - y| + 1 + 1"])},
    # an added assumption, cited through a claim (composition) and directly (softplus)
    "dee": {"composition": (0, "altered", ["lip_gf", "assumption the assignment does not make"]),
            "softplus_lipschitz": (0, "altered", ["lip_softplus", "assumption the assignment does not make"])},
    # K_f, K_g made positive: only the theorem that uses them is lost
    "eli": {"product_rule": (0, "altered", ["declaration changed", "positive", "nonneg"])},
    # a refuted helper claim (slope <= 1/2), cited: the theorem it touches scores nothing
    "fay": {"softplus_lipschitz": (0, None, ["slope"])},
    "gus": {"product_rule": (0, "missing", ["no proof given", "product_rule"])},
    # an unclosed |…| in the sum rule's proof: only that theorem is lost
    "hal": {"sum_rule": (0, "error", ["syntax error"])},
    # not a text file
    "ivy": {name: (0, "error", ["not text"]) for name in POINTS},
    # other spellings of the same statements (≤, spacing, redundant parentheses)
    "jo": {},
    # product_rule stated but not proved
    "kim": {"product_rule": (0, "missing", ["no proof given"])},
}


def expected_total(student):
    exp = EXPECTED[student]
    return sum((Fraction(exp[n][0]) if n in exp else Fraction(p) for n, p in POINTS.items()), Fraction(0))


def check_theorem(student, name, score, max_score, status, reason):
    exp = EXPECTED[student].get(name)
    where = f"{student}/{name}: {status} {score} {reason!r}"
    assert Fraction(str(max_score)) == POINTS[name], where
    if exp is None:
        assert Fraction(str(score)) == POINTS[name], where
        assert status == "proved", where
        assert reason == "", where
        return
    want_score, want_status, words = exp
    assert Fraction(str(score)) == Fraction(want_score), where
    if want_status is not None:
        assert status == want_status, where
    else:
        assert status not in ("proved", "checked"), where
    for w in words:
        assert w in reason, where


@pytest.fixture(scope="module")
def assignment():
    return grade.load_assignment(str(ASSIGNMENT))


@pytest.fixture(scope="module")
def grades(assignment, runner):
    files, problems = grade.collect_submissions([str(SUBMISSIONS)])
    assert problems == []
    return {g.id: g for g in (grade.grade_file(assignment, f, Options(), runner, grade.Rules()) for f in files)}


def test_assignment_outline(assignment):
    assert [(t.name, t.points) for t in assignment.theorems] == list(POINTS.items())
    assert assignment.max == 10
    assert set(assignment.outline.assumptions) == {"lip_f", "lip_g", "bound_f", "bound_g"}


def test_every_submission_is_graded(grades):
    assert sorted(grades) == sorted(EXPECTED)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_grade_of_each_student(grades, student):
    g = grades[student]
    assert [t.name for t in g.theorems] == list(POINTS)
    for t in g.theorems:
        check_theorem(student, t.name, t.score, t.max_score, t.status, t.reason)
    assert g.total == expected_total(student)
    assert g.max == 10


def test_junk_is_not_gradable_and_says_why(grades):
    assert grades["ivy"].gradable is False
    assert "not text" in grades["ivy"].message
    assert all(g.gradable and g.message == "" for sid, g in grades.items() if sid != "ivy")


def test_slip_reports_the_refuted_step(grades):
    """The feedback of a slip carries the failing step and its counterexample."""
    sum_rule = next(t for t in grades["ben"].theorems if t.name == "sum_rule")
    bad = [s for s in sum_rule.steps if s["status"] == "refuted"]
    assert len(bad) == 1 and bad[0]["line"] == 26
    assert bad[0]["counterexample"]


def test_command_json(tmp_path):
    """`proofcheck grade … --format json`: the documented shape, the same grades."""
    proc = subprocess.run(
        [sys.executable, "-m", "proofcheck", "grade", str(ASSIGNMENT), str(SUBMISSIONS), "--format", "json",
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["version"] == 1
    assert data["max"] == 10
    assert data["assignment"].endswith("assignment.pf")
    students = {s["id"]: s for s in data["students"]}
    assert sorted(students) == sorted(EXPECTED)
    for sid, s in students.items():
        assert set(s) >= {"id", "path", "total", "max", "gradable", "message", "theorems"}
        assert Path(s["path"]).name == f"{sid}.pf"
        assert s["gradable"] == (sid != "ivy")
        assert s["max"] == 10
        assert Fraction(str(s["total"])) == expected_total(sid), sid
        assert [t["name"] for t in s["theorems"]] == list(POINTS)
        for t in s["theorems"]:
            assert set(t) >= {"name", "score", "max_score", "status", "reason", "steps"}
            check_theorem(sid, t["name"], t["score"], t["max_score"], t["status"], t["reason"])
