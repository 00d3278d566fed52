"""The outputs of `proofcheck grade`: JSON, CSV, the terminal table, Gradescope's and
PrairieLearn's results files, and the students' feedback pages, the last ones
rendered in a real headless Chromium (Debian's `chromium`, which .ci/run installs).

The results are made by grading small submissions with the real grader: perfect,
a slip (a refuted step), an altered statement, a syntax error with hostile text,
and binary junk."""
import csv
import dataclasses
import html
import io
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest

from proofcheck import grade
from proofcheck.check import Options
from proofcheck.report_grade import (gradescope_results, grade_document, prairielearn_results, render_csv,
                                     render_json, render_table)
from proofcheck.report_grade_html import page_name, write_feedback

ASSIGNMENT = """let a, b : real
fun f : real -> real
theorem square [2] : (a + b)^2 = a^2 + 2*a*b + b^2
theorem nonneg_sq : a^2 + b^2 >= 0
"""

PERFECT = """let a, b : real
fun f : real -> real
theorem square [2] : (a + b)^2 = a^2 + 2*a*b + b^2
proof
  (a + b)^2
    = (a + b)*(a + b)
    = a^2 + 2*a*b + b^2
qed
theorem nonneg_sq : a^2+b^2 ≥ 0
proof
  a^2 + b^2
    >= 0
qed
"""

LONG = "x" * 300
SLIP = f"""let a, b : real
fun f : real -> real
# a very long comment that a phone must wrap: {LONG}
theorem square [2] : (a + b)^2 = a^2 + 2*a*b + b^2
proof
  (a + b)^2
    = a*(a + b) + b*(a + b)
    = a^2 + b^2 + a*b + a*b + 0*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a + 0*b*b*b*b
    = a^2 + 2*a*b + b^2 + a*b
    = a^2 + 2*a*b + b^2
qed
theorem nonneg_sq : a^2 + b^2 >= 0
proof
  a^2 + b^2
    >= 0
qed
"""
SLIP_REFUTED_LINES = [9, 10]  # the slip `+ a*b` on line 9 makes it, and the step after it, false

ALTERED = """let a, b : real
fun f : real -> real
theorem square [2] : (a + b)^2 = a^2 + 2*a*b + b^2
proof
  (a + b)^2
    = a^2 + 2*a*b + b^2
qed
theorem nonneg_sq : a^2 + b^2 >= 0 + 1
proof
  a^2 + b^2
    >= 1
qed
"""

HOSTILE = """let a, b : real
fun f : real -> real
# </span></div><script>alert("pwned")</script> <img src=x onerror=alert(1)> and a bidi \u202eoverride
theorem square [2] : (a + b)^2 = a^2 + 2*a*b + b^2
proof
  (a + b)^2
    = (a + b)*(a + b) +
    = a^2 + 2*a*b + b^2
qed
theorem nonneg_sq : a^2 + b^2 >= 0
proof
  a^2 + b^2
    >= 0
qed
"""
HOSTILE_SYNTAX_LINE = 7

STUDENTS = {"ada": PERFECT, "bob": SLIP, "cy, the third": ALTERED, "eve": HOSTILE}


@pytest.fixture(scope="module")
def graded(runner, tmp_path_factory):
    """(assignment, [StudentGrade]) for ada, bob, 'cy, the third', eve and junk, graded for real."""
    d = tmp_path_factory.mktemp("course")
    (d / "hw.pf").write_text(ASSIGNMENT, encoding="utf-8")
    subs = d / "subs"
    subs.mkdir()
    for sid, text in STUDENTS.items():
        (subs / f"{sid}.pf").write_text(text, encoding="utf-8")
    (subs / "junk.pf").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    assignment = grade.load_assignment(str(d / "hw.pf"))
    files, problems = grade.collect_submissions([str(subs)])
    assert not problems
    grades = [grade.grade_file(assignment, f, Options(timeout=5.0), runner, grade.Rules()) for f in files]
    return assignment, grades


def by_id(grades, sid):
    return next(g for g in grades if g.id == sid)


# ---------------------------------------------------------------------- JSON
STEP_KEYS = {"line", "column", "end_line", "end_column", "relation", "lhs", "rhs", "hints", "status", "method",
             "message", "counterexample", "seconds"}


def test_json_has_exactly_the_documented_shape(graded):
    assignment, grades = graded
    doc = json.loads(render_json(assignment, grades))
    assert doc == json.loads(json.dumps(grade_document(assignment, grades)))
    assert set(doc) == {"version", "assignment", "max", "students"}
    assert doc["version"] == 1 and doc["assignment"] == assignment.path and doc["max"] == 3
    assert [s["id"] for s in doc["students"]] == ["ada", "bob", "cy, the third", "eve", "junk"]
    for s in doc["students"]:
        assert set(s) == {"id", "path", "total", "max", "gradable", "message", "theorems"}
        assert isinstance(s["id"], str) and s["path"].endswith(".pf") and isinstance(s["gradable"], bool)
        assert isinstance(s["total"], (int, float)) and s["max"] == 3 and isinstance(s["message"], str)
        assert [t["name"] for t in s["theorems"]] == ["square", "nonneg_sq"]
        for t in s["theorems"]:
            assert set(t) == {"name", "score", "max_score", "status", "reason", "steps"}
            assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], int)
            assert isinstance(t["reason"], str) and isinstance(t["steps"], list)
            for st in t["steps"]:
                assert set(st) == STEP_KEYS
        assert s["total"] == pytest.approx(sum(t["score"] for t in s["theorems"]), abs=0.011)
    ada, bob, cy, eve, junk = doc["students"]
    assert ada["total"] == 3 and ada["gradable"] and ada["message"] == ""
    assert [t["status"] for t in ada["theorems"]] == ["proved", "proved"]
    assert all(t["reason"] == "" and t["score"] == t["max_score"] for t in ada["theorems"])
    assert [st["line"] for st in ada["theorems"][0]["steps"]] == [6, 7]
    # the slip: 2 of 4 steps hold, half the points times 2/4 = 0.5
    sq = bob["theorems"][0]
    assert sq["status"] == "refuted" and sq["score"] == 0.5 and "line 9" in sq["reason"]
    bad = [st for st in sq["steps"] if st["status"] == "refuted"]
    assert [st["line"] for st in bad] == SLIP_REFUTED_LINES and all(st["counterexample"] for st in bad)
    assert bob["total"] == 1.5
    # the altered statement scores 0 and says why, in words
    nn = cy["theorems"][1]
    assert nn["status"] == "altered" and nn["score"] == 0
    assert nn["reason"] == "statement changed: the assignment states `a^2 + b^2 >= 0`, the submission " \
                           "`a^2 + b^2 >= 0 + 1`"
    assert cy["total"] == 2
    # a syntax error costs only its theorem
    assert [t["status"] for t in eve["theorems"]] == ["error", "proved"] and eve["total"] == 1
    # junk: not gradable, zero, with a message; the others were graded all the same
    assert junk["gradable"] is False and junk["total"] == 0 and "not text" in junk["message"]
    assert all(t["status"] == "error" and t["score"] == 0 and t["steps"] == [] for t in junk["theorems"])


def test_json_numbers_are_whole_or_two_decimals():
    assignment = grade.assignment_from_text("let a : real\ntheorem t [3] : a = a\n")
    tg = grade.TheoremGrade("t", Fraction(1, 3), Fraction(3), "refuted", "why")
    g = grade.StudentGrade("s", "s.pf", Fraction(1, 3), Fraction(3), True, "", [tg])
    doc = grade_document(assignment, [g])
    assert doc["max"] == 3 and isinstance(doc["max"], int)
    assert doc["students"][0]["theorems"][0]["score"] == 0.33 and doc["students"][0]["total"] == 0.33


# ----------------------------------------------------------------------- CSV
def test_csv_reads_back_with_the_csv_module(graded):
    assignment, grades = graded
    text = render_csv(assignment, grades)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "square", "nonneg_sq", "total", "max"]
    table = {r[0]: r[1:] for r in rows[1:]}
    assert list(table) == ["ada", "bob", "cy, the third", "eve", "junk"]  # the comma is quoted, not a column
    assert '"cy, the third"' in text
    assert table["ada"] == ["2", "1", "3", "3"]
    assert table["bob"] == ["0.5", "1", "1.5", "3"]
    assert table["cy, the third"] == ["2", "0", "2", "3"]
    assert table["junk"] == ["0", "0", "0", "3"]
    for r in rows[1:]:
        assert len(r) == 5 and float(r[1]) + float(r[2]) == pytest.approx(float(r[3]))
    # DictReader, as a gradebook import would use it
    first = next(csv.DictReader(io.StringIO(text)))
    assert first["id"] == "ada" and first["total"] == "3"


def test_csv_does_not_let_a_spreadsheet_run_an_id_as_a_formula(graded):
    assignment, grades = graded
    evil = dataclasses.replace(by_id(grades, "ada"), id='=HYPERLINK("http://x","y")')
    rows = list(csv.reader(io.StringIO(render_csv(assignment, [evil]))))
    assert rows[1][0] == "'" + evil.id


# ------------------------------------------------------------------ Gradescope
# https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format")
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}


def test_gradescope_results_follow_the_published_format(graded):
    assignment, grades = graded
    for g in grades:
        doc = json.loads(json.dumps(gradescope_results(g, assignment)))
        assert set(doc) <= GRADESCOPE_TOP and {"score", "tests"} <= set(doc)
        assert doc["score"] == pytest.approx(float(g.total))
        assert [t["name"] for t in doc["tests"]] == ["square", "nonneg_sq"]
        for t in doc["tests"]:
            assert set(t) <= GRADESCOPE_TEST and {"name", "score", "max_score", "status", "output"} <= set(t)
            assert t["status"] in ("passed", "failed") and isinstance(t["output"], str)
        assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"], abs=0.011)
    ada = gradescope_results(by_id(grades, "ada"), assignment)
    assert ada["score"] == 3 and [t["status"] for t in ada["tests"]] == ["passed", "passed"]
    assert [t["max_score"] for t in ada["tests"]] == [2, 1]
    bob = gradescope_results(by_id(grades, "bob"), assignment)
    sq = bob["tests"][0]
    assert sq["status"] == "failed" and sq["score"] == 0.5
    assert "line 9: a^2 + b^2 + a*b + a*b" in sq["output"] and "line 10: a^2 + 2*a*b + b^2 + a*b" in sq["output"]
    assert "counterexample: a = " in sq["output"]
    cy = gradescope_results(by_id(grades, "cy, the third"), assignment)
    assert cy["tests"][1]["status"] == "failed" and "statement changed" in cy["tests"][1]["output"]
    junk = gradescope_results(by_id(grades, "junk"), assignment)
    assert junk["score"] == 0 and "could not be graded" in junk["output"] and "not text" in junk["output"]
    assert all(t["status"] == "failed" and t["score"] == 0 for t in junk["tests"])


# ---------------------------------------------------------------- PrairieLearn
# https://prairielearn.readthedocs.io/en/latest/externalGrading/ ("Grading results")
PL_TOP = {"gradable", "score", "message", "output", "images", "tests", "format_errors"}
PL_TEST = {"name", "description", "points", "max_points", "message", "output", "images"}


def test_prairielearn_results_follow_the_published_format(graded):
    assignment, grades = graded
    for g in grades:
        doc = json.loads(json.dumps(prairielearn_results(g, assignment)))
        assert set(doc) <= PL_TOP and isinstance(doc["gradable"], bool)
        assert 0.0 <= doc["score"] <= 1.0
        for t in doc["tests"]:
            assert set(t) <= PL_TEST and {"name", "points", "max_points", "message", "output"} <= set(t)
    ada = prairielearn_results(by_id(grades, "ada"), assignment)
    assert ada["gradable"] is True and ada["score"] == 1.0 and "format_errors" not in ada
    assert [(t["name"], t["points"], t["max_points"]) for t in ada["tests"]] == [("square", 2, 2), ("nonneg_sq", 1, 1)]
    bob = prairielearn_results(by_id(grades, "bob"), assignment)
    assert bob["score"] == pytest.approx(1.5 / 3, abs=1e-6)
    assert bob["tests"][0]["points"] == 0.5 and "refuted" in bob["tests"][0]["message"]
    junk = prairielearn_results(by_id(grades, "junk"), assignment)
    assert junk["gradable"] is False
    assert isinstance(junk["format_errors"], list) and "not text" in junk["format_errors"][0]


# ------------------------------------------------------------ terminal table
def test_terminal_table_shows_students_theorems_and_totals(graded):
    assignment, grades = graded
    plain = render_table(assignment, grades, color=False)
    assert "\x1b[" not in plain
    lines = plain.splitlines()
    header = "\n".join(lines[:2])
    assert "square" in header and "nonneg_sq" in header and "total" in header and "/3" in header
    row = {ln.split()[0]: ln for ln in lines if ln.split() and ln.split()[0] in ("ada", "bob", "junk")}
    assert row["ada"].split()[1:] == ["2", "✓", "1", "✓", "3"]
    assert row["bob"].split()[1:] == ["0.5", "✗", "1", "✓", "1.5"]
    assert "cy, the third" in plain and "≠" in plain
    assert any(ln.startswith("junk: not graded:") and "not text" in ln for ln in lines)
    coloured = render_table(assignment, grades, color=True)
    assert "\x1b[31m" in coloured and "\x1b[32m" in coloured


def test_terminal_table_prints_ids_as_text_never_as_markup(graded):
    assignment, grades = graded
    odd = dataclasses.replace(by_id(grades, "ada"), id="[bold red]x[/] :smile: \x1b[2J")
    out = render_table(assignment, [odd], color=True)
    assert "[bold red]x[/] :smile: \\x1b[2J" in out and "\x1b[2J" not in out


# ----------------------------------------------------------- feedback pages
def test_pages_escape_everything_a_submission_says(graded, tmp_path):
    assignment, grades = graded
    (path,) = write_feedback(tmp_path, assignment, [by_id(grades, "eve")])
    page = Path(path).read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;/span&gt;&lt;/div&gt;&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "\u202e" not in page and "\\u202eoverride" in page


def test_page_names_are_safe_and_distinct(graded, tmp_path):
    assignment, grades = graded
    ada = by_id(grades, "ada")
    ids = ["../../evil", "a/b", "Ada", "ada", ".hidden", "", "CON", "é"]
    paths = write_feedback(tmp_path, assignment, [dataclasses.replace(ada, id=i) for i in ids])
    names = [os.path.basename(p) for p in paths]
    assert len({n.lower() for n in names}) == len(ids)
    for p, n in zip(paths, names):
        assert Path(p).parent == tmp_path and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.html", n)
    assert names[2:4] == ["Ada.html", "ada-2.html"]
    assert sorted(os.listdir(tmp_path)) == sorted(names)
    assert page_name("ada", set()) == "ada"


# ------------------------------------------------- in a real headless browser
def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed, and the feedback pages must be tested in a real browser: "
                    "install Debian's `chromium` package (apt-get install chromium); .ci/run does this")
    return exe


def _run_chromium(tmp_path, *args) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile}", "--window-size=375,800", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout


class _Rows(HTMLParser):
    """The line rows, notes and banners of a feedback page, in document order:
    (kind, attributes, text)."""

    def __init__(self):
        super().__init__()
        self.rows, self.depth, self.current, self.in_mark = [], 0, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        kind = (attrs.get("class") or "").split(" ")[0]
        if self.current is None and tag == "div" and kind in ("ln", "note", "banner"):
            self.current, self.depth = [kind, attrs, []], 1
        elif self.current is not None and tag == "div":
            self.depth += 1
        if self.current is not None and tag == "span" and "mark" in (attrs.get("class") or "").split():
            self.current[2].append("\x00")
            self.in_mark = True

    def handle_endtag(self, tag):
        if self.in_mark and tag == "span":
            self.current[2].append("\x01")
            self.in_mark = False
        if self.current is not None and tag == "div":
            self.depth -= 1
            if self.depth == 0:
                kind, attrs, parts = self.current
                self.rows.append((kind, attrs, "".join(parts)))
                self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current[2].append(data)


def _rows(dom: str):
    p = _Rows()
    p.feed(dom)
    return p.rows


def _mark(text: str) -> str:
    """The mark in a row's text (between \\x00 and \\x01)."""
    return text.split("\x00")[1].split("\x01")[0] if "\x00" in text else ""


def _code(text: str) -> str:
    """The source text of a line row (after its mark)."""
    return text.split("\x01", 1)[1]


def test_browser_shows_each_mark_on_its_line_with_the_reason_beside_it(graded, tmp_path):
    assignment, grades = graded
    paths = write_feedback(tmp_path / "out", assignment, grades)
    page = {Path(p).stem: p for p in paths}
    dom = _run_chromium(tmp_path, "--dump-dom", Path(page["bob"]).as_uri())
    rows = _rows(dom)
    lines = [r for r in rows if r[0] == "ln"]
    assert len(lines) == len(SLIP.rstrip("\n").split("\n"))
    src = SLIP.split("\n")
    for kind, attrs, text in lines:  # every row shows its own source line
        no = int(attrs["data-line"])
        assert attrs["id"] == f"L{no}" and _code(text).strip() == src[no - 1].strip()
    marks = {int(a["data-line"]): (a.get("data-status"), _mark(t)) for k, a, t in lines}
    assert marks[7] == ("proved", "✓") and marks[8] == ("proved", "✓")
    assert marks[9] == ("refuted", "✗") and marks[10] == ("refuted", "✗")
    assert marks[15] == ("proved", "✓")  # the second theorem's step
    assert marks[1] == (None, "") and marks[5] == (None, "")  # `proof` carries no mark
    # the note right under the refuted line: the step in full, the message, the counterexample
    i = next(i for i, r in enumerate(rows) if r[0] == "ln" and r[1]["data-line"] == "9")
    kind, attrs, note = rows[i + 1]
    assert kind == "note" and attrs["data-line"] == "9" and "note s-refuted" in attrs["class"]
    assert "refuted" in note and "This step says a^2 + b^2 + a*b + a*b" in note
    assert re.search(r"Counterexample: a = -?\d+, b = -?\d+", note)
    assert rows[i + 2][0] == "ln" and rows[i + 2][1]["data-line"] == "10"
    assert rows[i + 3][0] == "note" and "This step says a^2 + 2*a*b + b^2 + a*b = a^2 + 2*a*b + b^2" in rows[i + 3][2]
    assert sum(1 for r in rows if r[0] == "note") == 2  # nothing else is flagged
    # the theorem's banner sits right above its statement, with its score
    j = next(i for i, r in enumerate(rows) if r[0] == "ln" and r[1]["data-line"] == "4")
    kind, attrs, banner = rows[j - 1]
    assert kind == "banner" and attrs["data-theorem"] == "square"
    assert "0.5 / 2 points" in banner and "refuted" in banner
    assert "1.5 / 3" in dom and 'id="total"' in dom

    # the syntax error is marked `!` on its own line, and its theorem scores 0
    rows = _rows(_run_chromium(tmp_path, "--dump-dom", Path(page["eve"]).as_uri()))
    lines = {int(a["data-line"]): (a.get("data-status"), _mark(t)) for k, a, t in rows if k == "ln"}
    assert lines[HOSTILE_SYNTAX_LINE] == ("error", "!")
    i = next(i for i, r in enumerate(rows) if r[0] == "ln" and r[1]["data-line"] == str(HOSTILE_SYNTAX_LINE))
    assert rows[i + 1][0] == "note" and "syntax error" in rows[i + 1][2]
    assert any(k == "banner" and "0 / 2 points" in t for k, a, t in rows)


_HARNESS_SCRIPT = """var doc = this.contentDocument, root = doc.documentElement, out = document.body;
out.setAttribute('data-sw', root.scrollWidth);
out.setAttribute('data-cw', root.clientWidth);
out.setAttribute('data-cut', Array.from(doc.querySelectorAll('.tx'))
  .filter(function (e) { return e.scrollWidth > e.clientWidth + 1; }).length);"""


def _widths(tmp_path, page_html: str, name: str) -> tuple:
    """(scrollWidth, clientWidth, lines cut) of a page shown 375 px wide: the page's
    widths, and how many source lines are wider than their box (cut off or
    scrolled rather than wrapped). Headless Chromium lays out --dump-dom at no
    less than 500 px, so a harness page holds the page in a 375 px iframe (srcdoc,
    so the harness may read it; the page itself has no scripts) and writes what it
    measured into its own DOM."""
    probe = tmp_path / f"measure-{name}.html"
    probe.write_text(
        "<!DOCTYPE html><html><body style='margin:0'><iframe style='width:375px;height:800px;border:0' "
        f'onload="{html.escape(_HARNESS_SCRIPT, quote=True)}" srcdoc="{html.escape(page_html, quote=True)}">'
        "</iframe></body></html>", encoding="utf-8")
    dom = _run_chromium(tmp_path, "--dump-dom", probe.as_uri())
    found = [re.search(rf'data-{k}="(\d+)"', dom) for k in ("sw", "cw", "cut")]
    assert all(found), "the harness did not measure the page"
    return tuple(int(m.group(1)) for m in found)


def test_browser_pages_do_not_overflow_at_phone_width(graded, tmp_path):
    assignment, grades = graded
    paths = write_feedback(tmp_path / "out", assignment, grades)
    page = {Path(p).stem: Path(p) for p in paths}
    # the measurement sees overflow where there is some
    wide = "<!DOCTYPE html><html><body><div style='width:900px'>wide</div></body></html>"
    sw, cw, _ = _widths(tmp_path, wide, "control")
    assert cw == 375 and sw >= 900
    # bob's page has a 300-character word and a long step; junk's page is the message alone
    for sid in ("bob", "junk"):
        sw, cw, cut = _widths(tmp_path, page[sid].read_text(encoding="utf-8"), sid)
        assert cw == 375 and sw <= cw, f"{sid}'s page is {sw} px wide at a 375 px screen"
        assert cut == 0, f"{cut} lines of {sid}'s submission do not wrap at a 375 px screen"


def _png_pixels(data: bytes):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def test_browser_screenshot_at_phone_width_has_nothing_cut_off_at_the_right(graded, tmp_path):
    assignment, grades = graded
    paths = write_feedback(tmp_path / "out", assignment, grades)
    bob = next(Path(p) for p in paths if Path(p).stem == "bob")
    shot = tmp_path / "bob.png"
    _run_chromium(tmp_path, f"--screenshot={shot}", bob.as_uri())
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (375, 800)
    background = (0xF4, 0xF5, 0xF7)  # the page's background colour (body in report_grade_html.CSS)
    right_edge = {px for row in rows for px in row[-5:]}
    assert right_edge == {background}, "something reaches the right edge of a phone screen"
    ink = sum(1 for row in rows for px in row if sum(px) < 300)  # dark pixels: text was drawn
    assert ink > 2000
