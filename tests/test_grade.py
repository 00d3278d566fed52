"""The grading core: a submission against the assignment, as parsed."""
from fractions import Fraction

import pytest

from proofcheck.check import Options
from proofcheck.grade import (ALTERED, MISSING, AssignmentError, Rules, assignment_from_text, decode_submission,
                              grade_file, shape)
from proofcheck.parse import parse_document

ASSIGNMENT = """# Lipschitz rules
let x, y : real
let L_f, L_g : real, nonneg
fun f, g : real -> real
assume lip_f : forall u, v: |f(u) - f(v)| <= L_f*|u - v|
assume lip_g : forall u, v: |g(u) - g(v)| <= L_g*|u - v|
theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|
theorem sum_rule [3] : |f(x) + g(x) - (f(y) + g(y))| <= (L_f + L_g)*|x - y|
"""

COMPOSITION = """theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|
proof
  |g(f(x)) - g(f(y))|
    <= L_g*|f(x) - f(y)|       by lip_g
    <= L_g*(L_f*|x - y|)       by lip_f
     = L_g*L_f*|x - y|
qed
"""
SUM_RULE = """theorem sum_rule [3] : |f(x) + g(x) - (f(y) + g(y))| <= (L_f + L_g)*|x - y|
proof
  |f(x) + g(x) - (f(y) + g(y))|
    = |(f(x) - f(y)) + (g(x) - g(y))|
    <= |f(x) - f(y)| + |g(x) - g(y)|   by triangle
    <= L_f*|x - y| + L_g*|x - y|       by lip_f, lip_g
    = (L_f + L_g)*|x - y|
qed
"""
HEAD = ASSIGNMENT.split("theorem composition")[0]
PERFECT = HEAD + COMPOSITION + SUM_RULE


@pytest.fixture(scope="module")
def assignment():
    return assignment_from_text(ASSIGNMENT, "hw.pf")


@pytest.fixture
def grade(runner, assignment, tmp_path):
    def _grade(text, rules=Rules(), name="student"):
        f = tmp_path / f"{name}.pf"
        f.write_text(text, encoding="utf-8")
        g = grade_file(assignment, str(f), Options(), runner, rules)
        return g, {t.name: t for t in g.theorems}
    return _grade


def test_a_perfect_submission_gets_full_marks(grade):
    g, th = grade(PERFECT)
    assert g.total == 5 and g.max == 5 and g.gradable
    assert th["composition"].status == "proved" and th["composition"].score == 2 and th["composition"].reason == ""
    assert th["composition"].steps and th["composition"].steps[0]["status"] == "proved"


def test_spelling_of_the_statement_does_not_matter(grade):
    text = PERFECT.replace("theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|",
                           "theorem composition [2] :  |g(f(x))-g(f(y))|  ≤  (L_g*L_f)*|x - y|")
    g, th = grade(text)
    assert th["composition"].score == 2, th["composition"].reason


def test_a_changed_statement_scores_zero_and_says_how(grade):
    text = PERFECT.replace("theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|",
                           "theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y| + 1 + 1")
    g, th = grade(text)
    t = th["composition"]
    assert t.score == 0 and t.status == ALTERED
    assert "statement changed" in t.reason and "+ 1 + 1" in t.reason and "<= L_g*L_f*|x - y|`" in t.reason
    assert th["sum_rule"].score == 3


def test_a_changed_statement_over_several_lines_is_quoted_without_its_comments(grade):
    text = PERFECT.replace("theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|",
                           "theorem composition [2] : |g(f(x)) - g(f(y))| <= (L_g*L_f*|x - y|   # the bound\n"
                           "    + 1)   # plus one")
    g, th = grade(text)
    t = th["composition"]
    assert t.status == ALTERED
    assert t.reason.endswith("the submission `|g(f(x)) - g(f(y))| <= (L_g*L_f*|x - y| + 1)`"), t.reason


def test_a_changed_declaration_costs_every_theorem_that_uses_it(grade):
    g, th = grade(PERFECT.replace("let L_f, L_g : real, nonneg", "let L_f, L_g : real, positive"))
    assert g.total == 0
    assert all(t.status == ALTERED and "declaration changed" in t.reason and "positive" in t.reason
               for t in th.values())


def test_a_changed_assumption_costs_the_theorems_that_cite_it(grade):
    text = PERFECT.replace("assume lip_g : forall u, v: |g(u) - g(v)| <= L_g*|u - v|",
                           "assume lip_g : forall u, v: |g(u) - g(v)| <= L_g*|u - v|/2")
    g, th = grade(text)
    assert th["composition"].score == 0 and "assumption changed" in th["composition"].reason
    assert th["sum_rule"].score == 0 and "`lip_g`" in th["sum_rule"].reason or "lip_g" in th["sum_rule"].reason


def test_an_added_assumption_scores_zero_directly_or_through_a_claim(grade):
    direct = PERFECT.replace("theorem composition", "assume cheat : x = y\ntheorem composition").replace(
        "<= L_g*(L_f*|x - y|)       by lip_f", "<= L_g*(L_f*|x - y|)       by lip_f, cheat")
    g, th = grade(direct)
    assert th["composition"].score == 0 and "`cheat`" in th["composition"].reason
    assert th["sum_rule"].score == 3
    through = direct.replace("assume cheat : x = y", "assume cheat : x = y\nclaim helper : x - y = 0 by cheat") \
        .replace("by lip_f, cheat", "by lip_f, helper")
    g, th = grade(through)
    assert th["composition"].score == 0 and "`cheat`" in th["composition"].reason


def test_a_cited_claim_counts_only_as_far_as_it_is_proved(grade):
    text = PERFECT.replace("theorem sum_rule", "claim shortcut : |f(x) - f(y)| <= 0\ntheorem sum_rule").replace(
        "<= L_f*|x - y| + L_g*|x - y|       by lip_f, lip_g", "<= L_f*|x - y| + L_g*|x - y|       by lip_f, lip_g, shortcut")
    g, th = grade(text)
    # the helper is refuted; the proof still holds without it, so nothing is lost
    assert th["sum_rule"].score == 3
    leaning = HEAD + COMPOSITION + SUM_RULE.replace(
        "    <= L_f*|x - y| + L_g*|x - y|       by lip_f, lip_g\n    = (L_f + L_g)*|x - y|",
        "    <= 0 + L_g*|x - y|       by shortcut, lip_g\n    <= (L_f + L_g)*|x - y|")
    leaning = leaning.replace("theorem sum_rule", "claim shortcut : |f(x) - f(y)| <= 0\ntheorem sum_rule")
    g, th = grade(leaning)
    t = th["sum_rule"]
    assert t.status not in ("proved", "checked") and t.score < 3
    assert any("shortcut" in s["message"] for s in t.steps)


def test_a_slip_costs_partial_credit(grade):
    text = PERFECT.replace("<= |f(x) - f(y)| + |g(x) - g(y)|   by triangle",
                           "<= |f(x) - f(y)| + |g(x) - g(y)| - 1   by triangle")
    g, th = grade(text)
    t = th["sum_rule"]
    assert t.status == "refuted"
    # steps that rewrite an expression into itself count neither way
    counted = [s for s in t.steps if not (s["relation"] == "=" and s["method"].startswith("identical"))]
    good = sum(1 for s in counted if s["status"] in ("proved", "checked"))
    assert abs(t.score - Fraction(3, 2) * Fraction(good, len(counted))) <= Fraction(1, 200) and 0 < t.score < 3
    g, th = grade(text, Rules(partial=Fraction(0)))
    assert th["sum_rule"].score == 0


def test_missing_theorem_and_missing_proof(grade):
    g, th = grade(HEAD + COMPOSITION)
    assert th["sum_rule"].status == MISSING and th["sum_rule"].score == 0 and "no theorem `sum_rule`" in \
        th["sum_rule"].reason
    g, th = grade(HEAD + COMPOSITION + SUM_RULE.split("proof")[0])
    assert th["sum_rule"].status == MISSING and th["sum_rule"].reason == "no proof given"


def test_a_syntax_error_costs_only_its_theorem(grade):
    g, th = grade(PERFECT.replace("<= L_g*(L_f*|x - y|)       by lip_f", "<= L_g*(L_f*|x - y|))       by lip_f"))
    assert th["composition"].score == 0 and "syntax" in th["composition"].reason
    assert th["sum_rule"].score == 3


def test_junk_and_oversized_files_score_zero(grade, runner, assignment, tmp_path):
    f = tmp_path / "junk.pf"
    f.write_bytes(b"\x00\x01\x02\xff junk")
    g = grade_file(assignment, str(f), Options(), runner, Rules())
    assert not g.gradable and g.total == 0 and "not text" in g.message
    text, why = decode_submission(b"\xff\xfe bad", Rules())
    assert text is None and "UTF-8" in why
    text, why = decode_submission(b"x" * 2000, Rules(max_bytes=1000))
    assert text is None and "over the limit" in why


def test_strict_grading_does_not_count_checked():
    from proofcheck.grade import _grade_theorem  # noqa: F401 - the rule lives there
    assert Rules(strict=True).strict


def test_a_broken_assignment_is_refused():
    with pytest.raises(AssignmentError):
        assignment_from_text("let x : real\ntheorem t : x <= \n")
    with pytest.raises(AssignmentError):
        assignment_from_text("let x : real\nclaim c : x = x\n")


def test_shapes_ignore_positions_and_spellings():
    a = parse_document("let x : real\nclaim c : (x + 1) <= 2*x\n").statements[1].formula
    b = parse_document("let x : real\n\nclaim c :   x+1 ≤ 2x\n").statements[1].formula
    c = parse_document("let x : real\nclaim c : x + 1 <= 2*x + 0\n").statements[1].formula
    assert shape(a) == shape(b) and shape(a) != shape(c)


def test_a_theorem_stated_twice_scores_zero(grade):
    altered = COMPOSITION.replace("<= L_g*L_f*|x - y|\nproof", "<= L_g*L_f*|x - y| + 100\nproof", 1)
    g, th = grade(HEAD + COMPOSITION.replace("by lip_f", "") + altered + SUM_RULE)
    assert th["composition"].score == 0 and "2 times" in th["composition"].reason
    assert th["sum_rule"].score == 3


def test_a_name_declared_twice_cannot_smuggle_in_another_meaning(grade):
    # a fake assumption first, the assignment's exact line second
    fake = PERFECT.replace("assume lip_g :", "assume lip_g : forall u, v: |g(u) - g(v)| <= 0\nassume lip_g :", 1)
    g, th = grade(fake)
    assert th["composition"].score == 0 and "twice" in th["composition"].reason
    # a stronger declaration first
    fake = PERFECT.replace("let L_f, L_g : real, nonneg", "let L_f, L_g : real, positive\nlet L_f, L_g : real, nonneg")
    g, th = grade(fake)
    assert g.total == 0 and all("twice" in t.reason for t in th.values())
    # a definition standing in for a variable
    fake = PERFECT.replace("let x, y : real", "def x = 0\nlet x, y : real")
    g, th = grade(fake)
    assert g.total == 0


def test_padding_a_wrong_proof_with_trivial_steps_earns_nothing(grade):
    padded = HEAD + """theorem composition [2] : |g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|
proof
  |g(f(x)) - g(f(y))|
    <= L_g*L_f*|x - y|
""" + "    = L_g*L_f*|x - y|\n" * 30 + "qed\n" + SUM_RULE
    g, th = grade(padded)
    assert th["composition"].status != "proved" and th["composition"].score == 0


def test_too_many_steps_is_not_graded(grade):
    many = PERFECT + "".join(f"claim c{i} : x^2 + {i} >= 0\n" for i in range(30))
    g, th = grade(many, Rules(max_steps=20))
    assert not g.gradable and "over the limit of 20" in g.message
