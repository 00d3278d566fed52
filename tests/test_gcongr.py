"""Monotone substitution (gcongr): certificates, side conditions, and what it refuses."""
import pytest
import sympy as sp

from proofcheck.deciders import gcongr
from proofcheck.facts import rel

x, y, c = sp.symbols("x y c", real=True)
L = sp.Symbol("L", nonnegative=True)
f = sp.Function("f", real=True)
LIP = [("lip", rel(sp.Abs(f(x) - f(y)), "<=", L * sp.Abs(x - y)))]


def test_multiplying_a_cited_bound_by_a_nonnegative_factor():
    method = gcongr.prove(3 * sp.Abs(f(x) - f(y)), "<=", 3 * L * sp.Abs(x - y), LIP, {})
    assert method.startswith("monotone substitution (gcongr)")
    assert "3 >= 0" in method and "by lip" in method


def test_the_sign_side_condition_is_required():
    assert gcongr.prove(c * sp.Abs(f(x) - f(y)), "<=", c * L * sp.Abs(x - y), LIP, {}) is None
    assert gcongr.prove(-2 * sp.Abs(f(x) - f(y)), "<=", -2 * L * sp.Abs(x - y), LIP, {}) is None


def test_sums_pair_their_terms_and_increasing_functions_pass_through():
    m = gcongr.prove(sp.exp(sp.Abs(f(x) - f(y))) + 1, "<=", sp.exp(L * sp.Abs(x - y)) + 1, LIP, {})
    assert m and "by lip" in m


def test_a_strict_goal_needs_a_strict_piece():
    assert gcongr.prove(sp.Abs(f(x) - f(y)), "<", L * sp.Abs(x - y), LIP, {}) is None


def test_cited_facts_appear_in_the_report(check):
    text = ("let x, y : real\nlet L : real, nonneg\nfun f : real -> real\n"
            "assume lip : forall u, v: |f(u) - f(v)| <= L*|u - v|\n"
            "claim k : 2*|f(x) - f(y)| <= 2*L*|x - y| by lip\n")
    it = [i for i in check(text).items if i.name == "k"][0]
    assert it.status == "proved"
    assert "gcongr" in it.steps[0].verdict.method and "2 >= 0" in it.steps[0].verdict.method


@pytest.mark.parametrize("formula", [
    "exp(|f(x) - f(y)|) <= exp(L*|x - y|) + c",    # c may be negative
    "-|f(x) - f(y)| <= -L*|x - y|",                # multiplying by -1 reverses
    "|f(x) - f(y)| + 1 <= L*|x - y| + c",
    "(|f(x) - f(y)| - 1)^2 <= (L*|x - y| - 1)^2",  # squaring is monotone only on [0, oo)
])
def test_false_substitutions_are_never_accepted(check, formula):
    text = ("let x, y, c : real\nlet L : real, nonneg\nfun f : real -> real\n"
            "assume lip : forall u, v: |f(u) - f(v)| <= L*|u - v|\n"
            f"claim k : {formula} by lip\n")
    it = [i for i in check(text).items if i.name == "k"][0]
    assert it.status == "refuted", it.steps[0].verdict
