"""Each decider on its own: what it proves, what it refuses, and the known traps of SymPy and Z3."""
import random
from fractions import Fraction

import pytest
import sympy as sp

from proofcheck.deciders import algebra, bounds, numeric, realarith
from proofcheck.elaborate import Condition
from proofcheck.evaluate import Evaluator, Uncertain, Undefined, difference, relation_holds

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
p = sp.Symbol("p", positive=True)
n = sp.Symbol("n", integer=True, positive=True)


# ---------------------------------------------------------------- evaluation
def test_exact_rational_evaluation():
    assert Evaluator({x: Fraction(1, 3)})(x ** 2 + 1) == Fraction(10, 9)


def test_float_trap_log_one_plus_e50_is_certified_nonzero():
    d = difference(sp.log(1 + sp.exp(50)) - 50, sp.Integer(0), {}, 128)
    assert relation_holds("=", d) is False   # 1.9e-22, not 0


def test_float_trap_true_identity_is_never_refuted():
    a = sp.Symbol("a", real=True)
    lhs, rhs = (1 - sp.cos(a)) / a ** 2, 2 * sp.sin(a / 2) ** 2 / a ** 2
    d = difference(lhs, rhs, {a: Fraction(1, 10 ** 8)}, 128)
    assert relation_holds("=", d) is not False


def test_undefined_and_uncertain_are_distinguished():
    with pytest.raises(Undefined):
        Evaluator({x: Fraction(0)})(sp.log(x))
    with pytest.raises(Undefined):
        Evaluator({x: Fraction(-1)})(sp.sqrt(x))
    with pytest.raises(Uncertain):
        Evaluator({})(sp.Function("f")(x))


# -------------------------------------------------------------------- bounds
@pytest.mark.parametrize("expr,rel", [
    (sp.exp(x), ">"), (1 - 1 / (1 + sp.exp(-x)), ">"), (sp.Abs(x) + 1, ">"), (x ** 2, ">="),
    (sp.pi - sp.Rational(314, 100), ">"), (sp.log(1 + p), ">"), (sp.tanh(x) + 1, ">"),
    (sp.sqrt(p) + p, ">"), (1 - sp.sin(x), ">="), (sp.Max(x, 1), ">"),
])
def test_bounds_prove_signs(expr, rel):
    assert bounds.prove_sign(expr, rel) is not None


@pytest.mark.parametrize("expr,rel", [
    (sp.exp(x) - 1, ">"), (x ** 2, ">"), (sp.sqrt(2) - sp.Rational(141, 100), "<"), (sp.log(p), ">"),
    (1 - sp.sin(x), ">"), (sp.tanh(x), ">="), (x ** 3, ">="),
])
def test_bounds_never_prove_false_signs(expr, rel):
    assert bounds.prove_sign(expr, rel) is None


def test_bounds_use_premises():
    known = {x: bounds.make(1, bounds.INF, False, False)}
    assert bounds.prove_sign(sp.log(x), ">", known) is not None
    assert bounds.prove_sign(sp.log(x), ">") is None


def test_closed_endpoints_stay_closed_under_monotone_maps():
    iv = bounds.Bounds({x: bounds.make(0, 1, True, True)})(sp.exp(x))
    assert iv.lo == 1 and iv.lo_closed      # exp(0) = 1 is attained: never claim exp(x) > 1


# ------------------------------------------------------------------ algebra
@pytest.mark.parametrize("lhs,rhs", [
    (1 / (1 + sp.exp(-x)), sp.Rational(1, 2) + sp.tanh(x / 2) / 2),
    ((x + 1) ** 2, x ** 2 + 2 * x + 1),
    (sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1)),
    (sp.log(p * 2), sp.log(p) + sp.log(2)),
    (sp.exp(x + y), sp.exp(x) * sp.exp(y)),
])
def test_algebra_proves_identities(lhs, rhs):
    assert algebra.prove_equal(lhs, rhs)


@pytest.mark.parametrize("lhs,rhs", [
    ((x + 1) ** 2, x ** 2 + 1), (sp.tanh(x), 2 / (1 + sp.exp(-x)) - 1 + x * 0 + sp.Rational(1, 10 ** 30)),
    (sp.log(x ** 2), 2 * sp.log(x)),
])
def test_algebra_never_proves_false_identities(lhs, rhs):
    assert algebra.prove_equal(lhs, rhs) is None


# --------------------------------------------------------------- real arith
def test_univariate_is_exact_both_ways():
    iv = bounds.Interval()
    assert realarith.univariate(x ** 2 - 2 * x + 2, ">", x, iv)[0] == "proved"
    assert realarith.univariate(x ** 2 - 2 * x + 1, ">", x, iv) == ("counterexample", {x: Fraction(1)})
    assert realarith.univariate(x ** 2 - 2, "!=", x, iv) is None  # zeros only at ±sqrt(2)


def test_z3_proves_polynomial_and_abs_facts():
    assert realarith.z3_decide(x ** 2 + y ** 2, ">=", 2 * x * y, [], {}, 2000)[0] == "proved"
    assert realarith.z3_decide(sp.Abs(x + y), "<=", sp.Abs(x) + sp.Abs(y), [], {}, 2000)[0] == "proved"
    assert realarith.z3_decide(sp.sqrt(x ** 2 + 1), ">=", sp.Abs(x), [], {}, 2000)[0] == "proved"


def test_z3_sat_is_only_a_candidate():
    r = realarith.z3_decide(x ** 3 + y ** 3, ">=", 2 * x ** 2 * y, [], {}, 2000)
    assert r[0] == "candidate"


def test_z3_never_sees_exp_and_cannot_prove_exp_ge():
    # exp(x) >= 1 + x is true but needs the citable fact exp_ge: as an opaque positive atom it is not provable
    r = realarith.z3_decide(sp.exp(x), ">=", 1 + x, [], {}, 2000)
    assert r is None or r[0] != "proved"


def test_monotone_atoms():
    assert realarith.z3_decide(sp.exp(x), "<=", sp.exp(y), [(x, "<=", y)], {}, 2000)[0] == "proved"
    assert realarith.z3_decide(sp.log(1 + sp.exp(x)), ">", x, [], {}, 2000)[0] == "proved"


# ------------------------------------------------------------------ numeric
def _problem(lhs, rel, rhs, conds=(), premises=()):
    return numeric.Problem(lhs, rel, rhs, list(conds), list(premises), {})


def test_search_finds_far_away_counterexamples():
    out = numeric.search(_problem(sp.exp(x), ">=", 1 + x + x ** 2 / 1000), random.Random(0), 160, lambda: 1.0)
    assert out.kind == "counterexample"


def test_search_reports_undefined_points():
    cond = Condition(x - 1, "!=", "`x - 1` is a denominator")
    out = numeric.search(_problem(x + 1, "=", x + 1, [cond]), random.Random(0), 40, lambda: 1.0)
    assert out.kind == "counterexample" and out.point == {"x": "1"}


def test_search_respects_premises_and_integers():
    out = numeric.search(_problem(x ** 2, ">", x, premises=[(x, ">", sp.Integer(1))]), random.Random(0), 100,
                         lambda: 1.0)
    assert out.kind == "evidence"
    out = numeric.search(_problem(n ** 2, ">=", 2 * n), random.Random(0), 100, lambda: 1.0)
    assert out.kind == "counterexample" and out.point == {"n": "1"}


def test_search_ignores_candidates_that_break_the_declarations():
    prob = _problem(n ** 2, ">=", n)
    prob.extra_points = [{n: Fraction(1, 2)}]   # violates the step, but n is an integer
    assert numeric.search(prob, random.Random(0), 40, lambda: 1.0).kind == "evidence"


def test_abstract_function_values_are_consistent():
    f = sp.Function("f", real=True)
    # f(x) - f(y) = 0 is false, but not when x = y: the search must never give f two values at one point
    out = numeric.search(_problem(f(x) - f(x), "=", sp.Integer(0)), random.Random(0), 60, lambda: 1.0)
    assert out.kind == "evidence"
    out = numeric.search(_problem(f(x), "=", f(y)), random.Random(0), 60, lambda: 1.0)
    assert out.kind == "counterexample" and out.point["x"] != out.point["y"]


def test_interval_products_with_infinite_and_tiny_endpoints_stay_exact():
    """A tiny Fraction times inf once became 0.0 * inf = nan, and nan compared as
    anything: `trace(P)/n >= sqrt(det(P))` came out proved."""
    from fractions import Fraction
    from proofcheck.deciders import bounds
    tiny = bounds.make(Fraction(-1, 2 ** 4096), bounds.INF, True, False)
    neg = bounds.make(-bounds.INF, Fraction(-1), False, True)
    iv = bounds.mul(tiny, neg)
    assert iv.lo == -bounds.INF and iv.hi == bounds.INF  # (-tiny)*(-inf) is +inf, not nan
    small = bounds.mul(tiny, bounds.make(Fraction(1), Fraction(2), True, True))
    assert small.lo == Fraction(-2, 2 ** 4096) and small.hi == bounds.INF
    assert not bounds.holds(bounds.make(float("nan"), 1, True, True), ">=")
    n = sp.Symbol("n", integer=True, positive=True)
    t, d = sp.Dummy("t", nonnegative=True), sp.Dummy("d", nonnegative=True)
    assert bounds.prove_sign(t / n - sp.sqrt(d), ">=", {}) is None
    assert bounds.prove_sign(sp.exp(sp.Integer(10) ** 10) - 10 ** 100, ">", {}) is not None


def test_a_tiny_positive_constant_is_positive(verdicts):
    """exp(-10^6) is about 10^-434295: its ball's lower end is far below what an
    interval endpoint is written out to, but it is certified positive, so the
    clamped end is open and the sign is proved; its equality to 0 stays refuted."""
    got = verdicts("let x : real\nclaim a : exp(-10^6) > 0\nclaim b : -exp(-10^6) < 0\n"
                   "claim c : exp(-10^6)*x^2 >= 0\nclaim d : exp(-10^6) <= 0\nclaim e : exp(-10^6) > 10^(-3000)\n")
    assert got == {"a": "proved", "b": "proved", "c": "proved", "d": "refuted", "e": "refuted"}


def test_z3_is_not_given_large_nonlinear_problems_but_large_linear_ones_are_decided():
    import sympy as sp
    from proofcheck import budget
    from proofcheck.deciders.realarith import z3_decide
    xs = sp.symbols(f"x1:{budget.Z3_MAX_NONLINEAR_UNKNOWNS + 3}", real=True)
    total = sum(xs)
    linear = z3_decide(total, ">=", sp.Integer(0), [(x, ">=", sp.Integer(0)) for x in xs], {})
    assert linear[0] == "proved"
    squares = z3_decide(sum(x * x for x in xs), ">=", sp.Integer(0), [], {})
    assert squares[0] == "unknown" and "nonlinear" in squares[1]
    few = xs[:budget.Z3_MAX_NONLINEAR_UNKNOWNS]
    assert z3_decide(sum(x * x for x in few), ">=", sp.Integer(0), [], {})[0] == "proved"


def test_interval_sums_of_numbers_beyond_floats_are_exact(check):
    """10^400 + inf once went through a float (OverflowError: an internal problem)."""
    from conftest import item
    r = check("let x : real\nclaim big : x - 10^400 > 0 implies log(x - 10^400 - 1) = log(x - 10^400 - 1)\n"
              "claim fine : x - 10^400 > 1 implies log(x - 10^400 - 1) = log(x - 10^400 - 1)\n")
    big, fine = item(r, "big"), item(r, "fine")
    assert big.status == "refuted" and "undefined there" in big.steps[0].verdict.message
    assert fine.status == "proved"
