"""What `proofcheck grade` writes: JSON, CSV, a terminal table, and the results
files of Gradescope and PrairieLearn. Pure functions of the grading results
(`grade.StudentGrade`, `grade.TheoremGrade`): nothing here decides or scores.

The feedback pages for students are in report_grade_html.py.
"""
from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from .grade import ALTERED, MISSING, as_number
from .textutil import visible
from .verdict import CHECKED, ERROR, MARKS, PROVED, REFUTED, UNKNOWN

GRADE_VERSION = 1
# a mark for every status a theorem can have: the five verdicts', and two of grading's own
GRADE_MARKS = {**MARKS, ALTERED: "≠", MISSING: "∅"}
GRADE_COLORS = {PROVED: "green", CHECKED: "cyan", REFUTED: "red", UNKNOWN: "yellow", ERROR: "magenta",
                ALTERED: "red", MISSING: "red"}
_PASSING = {PROVED, CHECKED}


def _number_text(x: Fraction) -> str:
    return str(as_number(x))


def _assignment_name(assignment) -> str:
    return str(assignment.path)


# ---------------------------------------------------------------------- JSON
def theorem_document(tg) -> dict:
    return {"name": tg.name, "score": as_number(tg.score), "max_score": as_number(tg.max_score),
            "status": tg.status, "reason": tg.reason, "steps": list(tg.steps)}


def student_document(g) -> dict:
    return {"id": g.id, "path": g.path, "total": as_number(g.total), "max": as_number(g.max),
            "gradable": bool(g.gradable), "message": g.message,
            "theorems": [theorem_document(t) for t in g.theorems]}


def grade_document(assignment, grades) -> dict:
    """The `--format json` document, version 1 (docs/grading.md)."""
    return {"version": GRADE_VERSION, "assignment": _assignment_name(assignment),
            "max": as_number(assignment.max), "students": [student_document(g) for g in grades]}


def render_json(assignment, grades) -> str:
    return json.dumps(grade_document(assignment, grades), ensure_ascii=False, indent=1)


# ----------------------------------------------------------------------- CSV
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(text: str) -> str:
    """A spreadsheet must not run a cell as a formula: ids come from file names a
    student may have chosen, so one that starts like a formula gets a leading `'`."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(assignment, grades) -> str:
    """One row per student: id, one column per theorem (assignment order), total, max."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = [t.name for t in assignment.theorems]
    w.writerow(["id", *names, "total", "max"])
    for g in grades:
        scores = {t.name: t.score for t in g.theorems}
        w.writerow([_safe_cell(g.id), *(as_number(scores.get(n, Fraction(0))) for n in names),
                    as_number(g.total), as_number(g.max)])
    return out.getvalue()


# ------------------------------------------------------- words for a student
def _step_line(step: dict) -> str:
    claim = visible(f"{step['lhs']} {step['relation']} {step['rhs']}")
    text = f"line {step['line']}: {claim}  — {step['status']}"
    if step.get("message"):
        text += f": {visible(step['message'])}"
    if step.get("counterexample"):
        cex = ", ".join(f"{visible(str(k))} = {visible(str(v))}" for k, v in step["counterexample"].items())
        text += f"\n    counterexample: {cex}"
    return text


def theorem_feedback(tg) -> str:
    """What a student reads about one theorem: the verdict, why, and the steps that
    do not hold (with their counterexamples)."""
    head = f"{GRADE_MARKS.get(tg.status, '?')} {tg.status}"
    if tg.status in _PASSING and tg.score >= tg.max_score:
        head += ": every step holds" if tg.status == PROVED else \
            ": every step holds, some only checked numerically"
    if tg.reason:
        head += f" — {visible(tg.reason)}"
    lines = [head, f"score: {_number_text(tg.score)} of {_number_text(tg.max_score)}"]
    bad = [s for s in tg.steps if s.get("status") != PROVED]
    if bad:
        lines.append("")
        lines += [_step_line(s) for s in bad]
    return "\n".join(lines)


def _summary_line(g) -> str:
    return f"proofcheck: {_number_text(g.total)} of {_number_text(g.max)} points"


# ----------------------------------------------------------------- Gradescope
# Gradescope's autograder results.json, as specified in
# https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format"):
# a top-level `score` (it overrides the sum of the tests), an optional top-level
# `output` shown for the whole submission, and `tests`, each with `score`,
# `max_score`, `name`, `output` (plain text in a <pre> block) and an optional
# `status`, "passed" or "failed". The spec has no top-level `max_score`: Gradescope
# takes the maximum from the assignment's settings.
def gradescope_results(grade, assignment) -> dict:
    """Gradescope's results.json for ONE submission."""
    tests = []
    for tg in grade.theorems:
        passed = tg.status in _PASSING and tg.score >= tg.max_score
        tests.append({"name": tg.name, "score": as_number(tg.score), "max_score": as_number(tg.max_score),
                      "status": "passed" if passed else "failed", "output": theorem_feedback(tg)})
    output = _summary_line(grade)
    if not grade.gradable:
        output = f"This submission could not be graded: {visible(grade.message)}\n{output}"
    return {"score": as_number(grade.total), "output": output, "tests": tests}


# -------------------------------------------------------------- PrairieLearn
# PrairieLearn's external grader results (/grade/results/results.json), as specified in
# https://prairielearn.readthedocs.io/en/latest/externalGrading/ ("Grading results"):
# `score` in [0.0, 1.0]; `gradable: false` with `format_errors` (a string or a list of
# strings) for a submission that cannot be graded (no attempt is counted then); a
# `message` and `output` for the whole submission; `tests`, each with `name`, `points`,
# `max_points`, `message` and `output`.
def prairielearn_results(grade, assignment) -> dict:
    """PrairieLearn's external-grader results for ONE submission."""
    tests = [{"name": tg.name, "points": as_number(tg.score), "max_points": as_number(tg.max_score),
              "message": visible(tg.reason) if tg.reason else tg.status,
              "output": theorem_feedback(tg)} for tg in grade.theorems]
    score = float(grade.total / grade.max) if grade.max else 0.0
    score = min(1.0, max(0.0, round(score, 6)))
    doc = {"gradable": bool(grade.gradable), "score": score if grade.gradable else 0.0,
           "message": _summary_line(grade), "tests": tests}
    if not grade.gradable:
        doc["format_errors"] = [visible(grade.message)]
        doc["message"] = f"This submission could not be graded: {visible(grade.message)}"
    return doc


# ------------------------------------------------------------ terminal table
def render_table(assignment, grades, color: bool, width: int | None = None) -> str:
    """Students × theorems with totals, for a terminal (rich). Without `width`, as
    wide as the table and its notes need; the table is never cut narrower than its
    content. Names and ids are shown as text, never read as markup."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def style(status):
        return GRADE_COLORS.get(status, "") if color else ""

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold" if color else "", pad_edge=False)
    table.add_column(Text("student"), no_wrap=True)
    for t in assignment.theorems:
        table.add_column(Text(f"{visible(t.name)}\n/{_number_text(t.points)}"), justify="right", no_wrap=True)
    table.add_column(Text(f"total\n/{_number_text(assignment.max)}"), justify="right", no_wrap=True)
    notes = []
    for g in grades:
        by_name = {t.name: t for t in g.theorems}
        row = [Text(visible(g.id))]
        for t in assignment.theorems:
            tg = by_name.get(t.name)
            if tg is None:
                row.append(Text("-"))
                continue
            row.append(Text(f"{_number_text(tg.score)} {GRADE_MARKS.get(tg.status, '?')}", style=style(tg.status)))
        row.append(Text(_number_text(g.total), style="bold" if color else ""))
        table.add_row(*row)
        if not g.gradable:
            notes.append(f"{visible(g.id)}: not graded: {visible(g.message)}")
    legend = "✓ proved  ≈ checked  ✗ refuted  ? unknown  ! error  ≠ altered  ∅ missing"

    def console(w):
        return Console(file=io.StringIO(), width=w, force_terminal=color, color_system="standard" if color else None,
                       no_color=not color, highlight=False, markup=False, emoji=False, legacy_windows=False,
                       force_jupyter=False, force_interactive=False)

    natural = console(10_000).measure(table).maximum
    if width is None:  # nothing wraps
        width = max([natural, len(legend)] + [len(n) for n in notes])
    width = max(width, natural)  # a narrower table would cut scores short ("0.3…"); let the terminal wrap
    c = console(width)
    c.print(table)
    c.print(Text(legend, style="dim" if color else ""))
    for n in notes:
        c.print(Text(n))
    return c.file.getvalue().rstrip("\n")
