"""Report leftovers: comments inside a step continued over several lines."""
import json
import subprocess
import sys

from proofcheck import syntax as S
from proofcheck.report_json import render as render_json
from proofcheck.report_text import Style, render_run

# ------------------------------------------- comments inside a multi-line step
COMMENTED = """let a, b, x : real

theorem sq : (a + b)^2 = a^2 + 2*a*b + b^2
proof
  (a + b)^2
    = (a + b)*(a +   # zzz expand the square
       b)
    = (a^2 + a*b     # zzz first row
       # zzz the cross term again

       + b*a + b^2)
    = a^2 + 2*a*b + b^2
qed
claim c : (x^2 - 1)/(x -   # zzz the denominator
   1) = x + 1
"""


def _steps(doc):
    [sq] = [i for i in doc["files"][0]["items"] if i["name"] == "sq"]
    return sq["steps"]


def test_text_report_shows_a_commented_multiline_step_without_its_comments(check):
    r = check(COMMENTED)
    text = render_run([r], 0.1, Style(False))
    assert "✓ <test>:6  = (a + b)*(a + b)   proved" in text
    assert "✓ <test>:8  = a^2 + a*b + b*a + b^2   proved" in text
    assert "claim c: (x^2 - 1)/(x - 1) = x + 1   refuted" in text
    assert "#" not in text and "zzz" not in text


def test_json_report_of_a_commented_multiline_step_keeps_its_spans(check):
    doc = json.loads(render_json([check(COMMENTED)], 0.1))
    steps = _steps(doc)
    assert [(s["lhs"], s["rhs"]) for s in steps] == [
        ("(a + b)^2", "(a + b)*(a + b)"),
        ("(a + b)*(a + b)", "a^2 + a*b + b*a + b^2"),
        ("a^2 + a*b + b*a + b^2", "a^2 + 2*a*b + b^2"),
    ]
    assert [s["status"] for s in steps] == ["proved"] * 3
    # the spans are those of the text as written, comments and all
    assert [(s["line"], s["column"], s["end_line"], s["end_column"]) for s in steps] == [
        (6, 5, 7, 10), (8, 5, 11, 20), (12, 5, 12, 24)]


def test_a_message_quoting_commented_source_drops_the_comment(check):
    r = check(COMMENTED)
    [c] = [i for i in r.items if i.name == "c"]
    assert c.status == "refuted"
    assert "undefined there: `x - 1` is a denominator, and it is 0 there" in c.steps[0].verdict.message
    assert "#" not in c.text and "#" not in c.steps[0].verdict.message


def test_span_text_joins_the_pieces_of_a_span_with_single_spaces():
    lines = ["  = (a +   # one", "   # two", "", "     b)  # three"]
    assert S.span_text(lines, S.Span(1, 5, 4, 8)) == "(a + b)"
    assert S.span_text(lines, S.Span(1, 5, 1, 12)) == "(a +   "  # one line: exactly as written


def test_cli_json_shows_the_step_without_its_comment(tmp_path):
    f = tmp_path / "c.pf"
    f.write_text(COMMENTED, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "proofcheck", "--no-cache", "--format", "json", str(f)],
                         capture_output=True, text=True, timeout=240)
    steps = _steps(json.loads(out.stdout))
    assert steps[0]["rhs"] == "(a + b)*(a + b)"
    assert "#" not in out.stdout
