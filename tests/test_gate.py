"""The gate every `proved` passes (proofcheck/gate.py), tested as an attacker would.

The gallery proofs/soundness.pf states the verdict each trap must get; the other
tests poke the gate's three checks one by one: domains (the statement's too),
citations' verdicts (transitively), and contradictory premises.
"""
import re
from pathlib import Path

import pytest
import sympy as sp

from proofcheck import gate
from proofcheck.check import Options, check_text
from proofcheck.verdict import CHECKED, PROVED, REFUTED, UNKNOWN, Verdict

from conftest import item

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "proofs" / "soundness.pf"
EXPECT = re.compile(r"#\s*expect:\s*(proved|checked|refuted|unknown|error)\b")


def expectations(text):
    return {n: m.group(1) for n, line in enumerate(text.split("\n"), 1) if (m := EXPECT.search(line))}


def test_the_gallery_gets_the_verdict_each_trap_states(runner):
    text = GALLERY.read_text(encoding="utf-8")
    want = expectations(text)
    result = check_text(text, str(GALLERY), Options(), runner)
    got = {it.span.line: it.status for it in result.items if it.kind in ("claim", "theorem", "have")}
    assert set(got) == set(want), "every claim and theorem of the gallery states its verdict"
    wrong = {line: (got[line], want[line]) for line in want if got[line] != want[line]}
    assert not wrong, f"line: (got, expected): {wrong}"


# ------------------------------------------------------------- citations
def test_a_refuted_or_unknown_fact_makes_a_step_unknown():
    v = gate.cap_by_citations(Verdict(PROVED, "m"), [("wrong", REFUTED)])
    assert v.status == UNKNOWN and "`wrong`, which is refuted" in v.message
    v = gate.cap_by_citations(Verdict(CHECKED, "m"), [("t", UNKNOWN)])
    assert v.status == UNKNOWN and "`t`" in v.message


def test_a_checked_fact_makes_a_proved_step_checked_only():
    v = gate.cap_by_citations(Verdict(PROVED, "m"), [("evidence", CHECKED), ("fine", PROVED)])
    assert v.status == CHECKED and "`evidence`" in v.message and "`fine`" not in v.message


def test_refutations_are_not_capped():
    v = Verdict(REFUTED, "counterexample", "fails at x = 1")
    assert gate.cap_by_citations(v, [("wrong", REFUTED)]) is v


HEADER = "let x, y : real\nlet a, b : real, positive\nfun f : real -> real\n"


def test_citations_carry_verdicts_transitively(check):
    r = check(HEADER + "claim bad : x^2 >= x + 1\n"
              "claim mid : x^2 + 1 >= x + 2 by bad\n"
              "claim top : x^2 + 2 >= x + 3 by mid\n")
    assert item(r, "bad").status == REFUTED
    assert item(r, "mid").status == UNKNOWN and "`bad`, which is refuted" in item(r, "mid").message
    assert item(r, "top").status == UNKNOWN and "`mid`" in item(r, "top").message


def test_a_theorem_without_proof_cannot_be_leaned_on(check):
    r = check(HEADER + "theorem t : f(x) >= 0\nclaim c : f(x) + 1 >= 1 by t\n")
    assert item(r, "t").status == UNKNOWN and "no proof" in item(r, "t").message
    assert item(r, "c").status == UNKNOWN and "`t`" in item(r, "c").message


def test_a_have_that_fails_caps_the_steps_that_use_it(check):
    r = check(HEADER + "theorem t : f(x) <= f(x) + 1\nproof\n  have h : f(x) <= f(x) - 1\n"
              "  f(x)\n    <= f(x) - 1  by h\n    <= f(x) + 1\nqed\n")
    t = item(r, "t")
    assert t.status in (REFUTED, UNKNOWN)
    assert t.steps[0].verdict.status == UNKNOWN and "`h`" in t.steps[0].verdict.message


def test_a_step_that_does_not_need_a_bad_citation_keeps_its_proof(check):
    r = check(HEADER + "claim bad : x >= x + 1\nclaim c : a + b > 0 by bad\n")
    assert item(r, "c").status == PROVED


def test_suggestions_only_name_proved_facts(check):
    r = check(HEADER + "claim shaky : f(x) <= 1\nclaim c : f(x) - 1 <= 0\n")
    assert "shaky" not in item(r, "c").message


def test_assumptions_and_builtins_hold(check):
    r = check(HEADER + "assume pos : forall t: f(t) > 0\nclaim c : f(x) + 1 > 1 by pos\n"
              "claim d : |x + y| <= |x| + |y| by triangle\n")
    assert item(r, "c").status == PROVED and item(r, "d").status == PROVED


# ---------------------------------------------------------------- domains
@pytest.mark.parametrize("statement", ["x/x = 1", "(x^2 - 1)/(x - 1) = x + 1", "exp(log(x)) = x",
                                       "sqrt(x)^2 = x", "log(x^2) = 2*log(|x|)"])
def test_a_theorem_statement_must_be_defined(check, statement):
    r = check(HEADER + f"theorem t : {statement}\nproof\n  x\n    = x\nqed\nclaim c : x != 1 by t\n")
    assert item(r, "t").status != PROVED and item(r, "t").status != CHECKED
    assert item(r, "c").status not in (PROVED, CHECKED)


def test_a_guarded_statement_is_proved(check):
    r = check(HEADER + "theorem t : x != 1 implies (x^2 - 1)/(x - 1) = x + 1\nproof\n"
              "  (x^2 - 1)/(x - 1)\n    = x + 1\nqed\n")
    assert item(r, "t").status == PROVED


def test_identical_sides_are_not_exempt(check):
    r = check(HEADER + "claim c : (1/0)*x = (1/0)*x\nclaim d : log(-a) = log(-a)\n")
    assert item(r, "c").status == REFUTED and item(r, "d").status == REFUTED


def test_a_sum_whose_range_may_run_backwards():
    k = sp.Symbol("k", integer=True)
    i = sp.Symbol("i", integer=True)
    counts = gate.range_conditions([sp.Sum(i, (i, 1, k))])
    assert counts == [k]
    assert gate.unproved_domain([sp.Sum(i, (i, 1, k))], [], [], {}) != []
    n = sp.Symbol("n", integer=True, positive=True)
    assert gate.unproved_domain([sp.Sum(i, (i, 1, n))], [], [], {}) == []


# ---------------------------------------------------------------- vacuity
def test_contradictory_facts_are_named():
    x = sp.Symbol("x", real=True)
    from proofcheck.facts import rel
    rej = gate.contradiction([], [("pos", rel(x, ">", sp.Integer(0))), ("neg", rel(x, "<", sp.Integer(0)))], {})
    assert rej is not None and "`pos`" in rej.reason and "`neg`" in rej.reason and "contradict" in rej.reason
    assert gate.contradiction([], [("pos", rel(x, ">", sp.Integer(0)))], {}) is None


def test_contradictory_assumptions_prove_nothing(check):
    r = check(HEADER + "assume pos : x > 0\nassume neg : x < 0\nclaim c : x = 17 by pos, neg\n")
    c = item(r, "c")
    assert c.status == UNKNOWN and "`pos`" in c.message and "`neg`" in c.message


def test_contradictory_premises_prove_nothing(check):
    r = check(HEADER + "claim c : a < 0 implies a = 3\n"
              "theorem t : x > 1 and x < 0 implies x = 5\nproof\n  x\n    = 5\nqed\n")
    assert item(r, "c").status == UNKNOWN and "contradict" in item(r, "c").message
    assert item(r, "t").status == UNKNOWN


def test_a_forall_fact_that_contradicts_itself(check):
    r = check(HEADER + "assume odd : forall t: f(t) > t and f(t) < t\nclaim c : f(x) = 42 by odd\n")
    assert item(r, "c").status == UNKNOWN and "`odd`" in item(r, "c").message


def test_a_failed_declaration_is_named_where_it_is_used(check):
    r = check("def g(t) = log(t) + q\nlet x : real\nclaim c : g(x) = g(x)\n")
    assert item(r, "c").status == "error" and "`g` has an error in its declaration (line 1)" in item(r, "c").message


def test_internal_problems_do_not_leak_python_names(runner):
    """A decider bug ends as `unknown` in plain words; Python's names stay in the detail."""
    from proofcheck.obligations import StepTask
    broken = StepTask(lhs=object(), rel="=", rhs=sp.Integer(1), conds=(), premises=[], facts=[], hints=[])
    (v,) = runner.run([broken], 5.0)
    assert v.status == UNKNOWN and v.method == "internal"
    assert "bug in proofcheck" in v.message and "Error" not in v.message
    assert "internal" in v.detail


def test_names_that_look_like_other_names_are_refused(check):
    r = check("let a : real\nlet \u0430 : real, positive\nlet \u03bf : real\nlet \u03b1 : real\nclaim c : a > 0\n")
    errors = [it.message for it in r.items if it.status == "error"]
    assert any("cyrillic" in m for m in errors) and any("omicron" in m for m in errors)
    assert len(errors) == 2  # Greek alpha is fine


def test_consistent_premises_need_no_solver_and_contradictory_ones_are_still_caught():
    """The vacuity check first looks for a simple point where every premise holds
    (exact arithmetic); only without one does it ask Z3. Either way the answer must
    be the same: consistent premises admit the proof, contradictory ones do not."""
    import sympy as sp
    from proofcheck import gate
    from proofcheck.decide import known_intervals
    x = sp.Symbol("x", real=True)
    k = sp.Symbol("k", integer=True)
    consistent = [(x, ">", sp.Integer(3)), (x, "<", sp.Integer(10))]
    assert gate._holds_somewhere(consistent, known_intervals(consistent))
    assert gate.contradiction(consistent, [], known_intervals(consistent)) is None
    for bad in ([(x, ">", sp.Integer(3)), (x, "<", sp.Integer(2))],   # over the reals
                [(k, ">", sp.Integer(0)), (k, "<", sp.Integer(1))]):  # over the integers only
        assert not gate._holds_somewhere(bad, known_intervals(bad))
        rejection = gate.contradiction(bad, [], known_intervals(bad))
        assert rejection is not None and rejection.kind == "vacuous"


_X, _Y = sp.symbols("x y", real=True)


@pytest.mark.parametrize("condition, premise, proved", [
    ((_X - 3, "!="), (_X, "!=", 3), True),
    ((3 - _X, "!="), (_X, "!=", 3), True),                  # turned around: -1 times the premise
    ((2*_X - 2*_Y, ">="), (_X, ">", _Y), True),             # a positive multiple, weaker relation
    ((2*_Y - 2*_X, ">"), (_X, "<", _Y), True),
    ((2*_Y - 2*_X, ">="), (_X, ">", _Y), False),            # a negative multiple turns the relation round
    ((_X - 3, ">"), (_X, ">=", 3), False),                  # a weaker premise than the condition
    ((_X - 3, "!="), (_X, "=", 3), False),
    ((_X**2 - 9, "!="), (_X, "!=", 3), False),              # not a multiple of the premise
    ((_X - _Y, "!="), (_X - 3, "!=", 0), False),            # other terms
])
def test_a_condition_a_premise_states_is_proved_without_a_solver(condition, premise, proved):
    """gate._premise_gives: the premise itself, up to a rational factor, and nothing more."""
    from proofcheck.deciders.realarith import z3_decide
    (expr, rel), premises = condition, [(premise[0], premise[1], sp.sympify(premise[2]))]
    assert gate._premise_gives(expr, rel, premises) is proved
    if proved:  # what it proves, Z3 proves too
        assert z3_decide(expr, rel, sp.Integer(0), premises, {})[0] == "proved"


def test_domains_stated_as_premises(check):
    r = check(HEADER + "claim ok : x != 3 implies (x^2 - 9)/(x - 3) = x + 3\n"
              "claim scaled : a > b implies sqrt(2*a - 2*b) >= 0\n"
              "claim wrong_way : a > b implies sqrt(2*b - 2*a) >= 0\n"
              "claim too_weak : x >= 3 implies log(x - 3) <= x\n")
    assert item(r, "ok").status == PROVED and item(r, "scaled").status == PROVED
    assert item(r, "wrong_way").status != PROVED and item(r, "too_weak").status != PROVED


def test_cited_facts_with_a_simple_common_point_are_consistent_and_contradictory_ones_are_not():
    x = sp.Symbol("x", real=True)
    from proofcheck.elaborate import FAnd
    from proofcheck.facts import rel
    both = FAnd((rel(x, ">=", sp.Integer(1)), rel(x ** 2, "<=", sp.Integer(4))))
    assert gate._holds_somewhere([both, rel(x ** 2 + 1, ">=", x + 3)], {})  # x = 2
    clash = [rel(x, ">", sp.Integer(2)), rel(x ** 2, "<", sp.Integer(4))]
    assert not gate._holds_somewhere(clash, {})
    rej = gate.contradiction([], [("big", clash[0]), ("small", clash[1])], {})
    assert rej is not None and rej.kind == "vacuous"


def test_a_premise_too_big_to_expand_is_not_expanded(check):
    """The premise match counts terms on the tree before expanding: a power of a long
    sum is passed over (it used to be expanded, to the time limit), and the domain
    is proved from the premise that states it."""
    r = check("let a, b, c, d, g, h, x, y : real\n"
              "claim blow : (a + b + c + d + g + h)^40 >= 0 and x > y implies log(x - y) = log(x - y)\n")
    assert item(r, "blow").status == PROVED
    s = sp.symbols("a:f", real=True)
    assert gate._expanded_terms(sum(s) ** 40) > gate.MAX_PREMISE_MATCH_TERMS
    assert gate._expanded_terms((s[0] + s[1]) ** 3 * (s[2] - 1)) == 8
