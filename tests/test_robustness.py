"""Hostile input: random text never crashes the parser or the checker."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofcheck import syntax as S
from proofcheck.parse import parse_document

ALPHABET = "xyab01234 +-*/^()[]|‖,:=<>!.#\n_dTIe" + "≤≥·∀√π"
TOKENS = ["let ", "claim ", "theorem ", "proof\n", "qed\n", "have ", "by ", "forall ", " implies ", " and ",
          "x", "y", "f(", ")", "|", "<=", "=", "sum(i = 1..3, ", "d/dx ", "^T", "2", "0.5", ": ", ", ", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_characters_never_crash_the_parser(text):
    doc = parse_document(text)
    for p in doc.problems:
        assert isinstance(p, S.SyntaxProblem) and p.span.line >= 1 and p.message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_random_token_soup_never_crashes_the_parser(text):
    doc = parse_document(text)
    assert isinstance(doc, S.Document)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map("".join))
def test_random_token_soup_never_crashes_the_checker(check, text):  # `check` is stateless
    result = check("let x, y : real\nfun f : real -> real\n" + text, timeout=2.0)
    for item in result.items:
        assert item.status in ("proved", "checked", "refuted", "unknown", "error")
        for s in item.steps:
            assert s.verdict.method != "internal", (text, s.verdict.message, s.verdict.detail)
