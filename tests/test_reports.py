"""Text and JSON reports."""
import json

from proofcheck.report_json import render as render_json
from proofcheck.report_text import Style, render_run

SOURCE = """let a, b : real
claim good : (a + b)^2 = a^2 + 2*a*b + b^2
claim bad : (a + b)^2 = a^2 + b^2
claim broken : a <=
theorem t : a^2 >= 0
proof
  a^2
    >= 0
qed
"""


def test_text_report_has_marks_lines_methods_and_counterexamples(check):
    r = check(SOURCE)
    text = render_run([r], 0.5, Style(False))
    assert "✓ <test>:2  claim good: (a + b)^2 = a^2 + 2*a*b + b^2   proved · rational normal form" in text
    assert "✗ <test>:3  claim bad: (a + b)^2 = a^2 + b^2   refuted · counterexample (exact or certified" in text
    assert "fails at a = 1, b = 1: left side = 4, right side = 2" in text
    assert "! <test>:4  syntax error: expected an expression after `<=`" in text
    assert "^" in text  # a caret under the error
    assert "✓ <test>:5  theorem t   proved" in text
    assert "<test>: 2 proved, 1 refuted, 1 error" in text


def test_text_report_colours_only_when_asked(check):
    r = check(SOURCE)
    assert "\x1b[" not in render_run([r], 0.1, Style(False))
    assert "\x1b[31m" in render_run([r], 0.1, Style(True))


def test_quiet_report_is_only_summaries(check):
    r = check(SOURCE)
    lines = render_run([r], 0.1, Style(False), quiet=True).splitlines()
    assert lines[0].startswith("<test>: 2 proved")
    assert lines[-1].startswith("total: 1 file(s)")


def test_json_report_follows_the_schema(check):
    r = check(SOURCE)
    doc = json.loads(render_json([r], 0.25))
    assert doc["version"] == 1
    assert doc["summary"] == {"proved": 2, "checked": 0, "refuted": 1, "unknown": 0, "error": 1, "seconds": 0.25}
    f = doc["files"][0]
    assert f["path"] == "<test>" and f["status"] == "error"
    bad = [i for i in f["items"] if i["name"] == "bad"][0]
    assert bad["kind"] == "claim" and bad["line"] == 3 and bad["status"] == "refuted"
    step = bad["steps"][0]
    assert step["line"] == 3 and step["column"] == 13
    assert step["relation"] == "=" and step["lhs"] == "(a + b)^2" and step["rhs"] == "a^2 + b^2"
    assert step["counterexample"] == {"a": "1", "b": "1"}
    assert step["method"] and isinstance(step["seconds"], float)
    syntax = [i for i in f["items"] if i["kind"] == "syntax"][0]
    assert syntax["line"] == 4 and syntax["status"] == "error"


def test_json_diagnostics_are_lsp_shaped_and_zero_based(check):
    r = check(SOURCE)
    diags = json.loads(render_json([r], 0.1))["files"][0]["diagnostics"]
    codes = sorted(d["code"] for d in diags)
    assert codes == ["error", "refuted"]
    refuted = [d for d in diags if d["code"] == "refuted"][0]
    assert refuted["range"]["start"] == {"line": 2, "character": 12}
    assert refuted["severity"] == 1 and refuted["source"] == "proofcheck"
    assert "fails at" in refuted["message"]


def test_json_for_a_file_of_syntax_errors_is_valid(check):
    r = check("claim : (\nlet x real\n")
    doc = json.loads(render_json([r], 0.1))
    assert doc["summary"]["error"] == 2
    assert len(doc["files"][0]["diagnostics"]) == 2
