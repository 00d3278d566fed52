"""Two report leftovers: comments inside a step continued over several lines, and a
scalar division by zero in a matrix step. Both only changed what a report says."""
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


# ------------------------------------------ a scalar division by zero in a matrix step
MATRICES = """let n : integer, positive
let x : real
let A, B : matrix(n, n)

claim m1 : (1/(x - x))*A = A
claim m2 : A/(x - 1) = (1/(x - 1))*A
claim m3 : (1/0)*A = A
claim m4 : log(x)*A = log(x)*A
claim m5 : x > 0 implies (A/(exp(x) - 1))*(exp(x) - 1) = A
claim inverse : inv(A)*A = I(n)
claim shifted : x > 0 implies inv(A + exp(x)*I(n))*(A + exp(x)*I(n)) = I(n)
"""


def _by_name(r):
    return {i.name: i for i in r.items}


def test_a_zero_denominator_in_a_matrix_step_is_named_not_called_singular(check):
    items = _by_name(check(MATRICES))
    expected = {"m1": "`x - x` is a denominator, and it is 0 there",
                "m2": "`x - 1` is a denominator, and it is 0 there",
                "m3": "`0` is a denominator, and it is 0 there",
                "m4": "`x` is the argument of a logarithm, and it is not positive there"}
    for name, why in expected.items():
        item = items[name]
        assert item.status == "refuted", name
        message = item.steps[0].verdict.message
        assert message.endswith(f"undefined there: {why}"), message
        assert "singular" not in message and "invert" not in message


def test_the_text_report_names_the_zero_denominator(check):
    text = render_run([check(MATRICES)], 0.1, Style(False))
    assert "(sizes are tried from the smallest up): undefined there: `x - x` is a denominator, and it is 0 there" \
        in text


def test_a_singular_matrix_to_invert_keeps_its_message(check):
    item = _by_name(check(MATRICES))["inverse"]
    assert item.status == "refuted"
    assert item.steps[0].verdict.message.endswith(
        "undefined there (a matrix to invert is singular or a root or logarithm is out of its domain)")


def test_an_unproved_scalar_denominator_is_not_advised_an_invertible_matrix(check):
    items = _by_name(check(MATRICES))
    scalar, inverse = items["m5"], items["shifted"]
    assert scalar.status == inverse.status == "unknown"
    assert scalar.steps[0].verdict.message.endswith(
        "I could not prove the step's conditions (`exp(x) - 1` != 0); add the condition as a premise")
    assert inverse.steps[0].verdict.message.endswith(
        "; declare the matrix `invertible` (or `pd`), or add the condition as a premise")
