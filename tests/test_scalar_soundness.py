"""Scalar deciders: no false step proved or checked, no true step refuted (issue 7).

Families: trigonometry through exponentials (algebra), mvt with two functions,
`checked` that is false (numeric precision, huge magnitudes, narrow extrema),
true derivative steps refuted at kinks, and determinism of the numeric search.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from conftest import item
from proofcheck.deciders import algebra, numeric
from proofcheck.elaborate import Condition, Elaborator

ROOT = Path(__file__).resolve().parent.parent
x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
p = sp.Symbol("p", positive=True)


def _step_status(result, name):
    it = item(result, name)
    return it.status


# ------------------------------------------------------------ trigonometry
@pytest.mark.parametrize("lhs, rhs", [
    (sp.Abs(sp.cos(x)), sp.cos(x)),
    (sp.Max(sp.cos(x), 0), sp.cos(x)),
    (sp.Min(sp.sin(x), 0), sp.Integer(0)),
    (sp.sqrt(sp.cos(x) ** 2), sp.cos(x)),
    (sp.sign(sp.cos(x)), sp.Integer(1)),
    (sp.log(sp.cos(x) ** 2), 2 * sp.log(sp.cos(x))),
    (sp.Abs(sp.sin(2 * x)), 2 * sp.sin(x) * sp.cos(x)),
    (sp.Abs(sp.tan(x)), sp.tan(x)),
])
def test_trig_through_exponentials_proves_no_false_identity(lhs, rhs):
    assert algebra.prove_equal(lhs, rhs) is None


@pytest.mark.parametrize("lhs, rhs", [
    (sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1)),
    (sp.sin(2 * x), 2 * sp.sin(x) * sp.cos(x)),
    (sp.Abs(sp.cos(x)) * (sp.sin(x) ** 2 + sp.cos(x) ** 2), sp.Abs(sp.cos(x))),
    (sp.tanh(x), 2 / (1 + sp.exp(-2 * x)) - 1),
    (sp.Abs(sp.exp(x)), sp.exp(x)),
])
def test_trig_and_exp_identities_still_proved(lhs, rhs):
    assert algebra.prove_equal(lhs, rhs) is not None


def test_trig_false_identities_not_proved_end_to_end(check):
    src = """let x : real
assume any : forall s: s^2 >= 0
claim abs_cos : |cos(x)| = cos(x) by any
claim max_cos : max(cos(x), 0) = cos(x) by any
claim abs_sin2 : |sin(x)|^2 = sin(x)^2 by any
theorem chain_end : |cos(x)| = cos(x)
proof
  |cos(x)|
    = |cos(x)|
    = cos(x)
qed
"""
    r = check(src)
    assert _step_status(r, "abs_cos") not in ("proved", "checked")
    assert _step_status(r, "max_cos") not in ("proved", "checked")
    assert _step_status(r, "chain_end") not in ("proved", "checked")
    assert _step_status(r, "abs_sin2") == "proved"


# ------------------------------------------------------------------- mvt
def test_mvt_two_functions_not_proved(check):
    src = """let a, b : real
assume slope : forall s: 0 <= d/ds s and d/ds exp(-s) <= 0
claim bad : |exp(-a) - exp(-b)| <= 0 by mvt, slope
claim bad_id : |a - b| <= 0 by mvt, slope
assume mixed : forall s: |d/ds sin(s)| <= 1 and d/ds exp(s) >= 0
claim bad3 : |exp(a) - exp(b)| <= |a - b| by mvt, mixed
assume crossed : forall s: -1 <= d/ds sin(s) and d/ds cos(s) <= 1
claim bad4 : |sin(a) - sin(b)| <= |a - b| by mvt, crossed
"""
    r = check(src)
    for name in ("bad", "bad_id", "bad3", "bad4"):
        assert _step_status(r, name) not in ("proved", "checked"), name


def test_mvt_true_steps_still_proved(check):
    src = """let a, b : real
assume sin_slope : forall s: -1 <= d/ds sin(s) and d/ds sin(s) <= 1
claim good : |sin(a) - sin(b)| <= |a - b| by mvt, sin_slope
claim good_flipped : |a - b| >= |sin(a) - sin(b)| by mvt, sin_slope
assume cos_slope : forall s: |d/ds cos(s)| <= 1
claim good2 : |cos(a) - cos(b)| <= |a - b| by mvt, cos_slope
"""
    r = check(src)
    for name in ("good", "good_flipped", "good2"):
        assert _step_status(r, name) == "proved", name


def test_mvt_rejects_contradictory_numeric_bounds(check):
    src = """let a, b : real
assume silly : forall s: 1 <= d/ds sin(s) and d/ds sin(s) <= -1
claim bad : |sin(a) - sin(b)| <= |a - b| by mvt, silly
"""
    r = check(src)
    it = item(r, "bad")
    assert not (it.status == "proved" and "mean value" in (it.method or ""))


# ---------------------------------------------------- `checked` that is false
@pytest.mark.parametrize("claim", [
    "2^60 + log(3) = 2^60 + 1",
    "2^200 + log(3) = 2^200 + 1",
    "2^60 + exp(1/10^20) <= 2^60 + 1",
    "log(p) < 50",
    "p^(1/1000) < 2",
    "log(log(p + 3)) < 10",
    "log(p) > -60",
    "cos(x - 1/9) <= 1 - 10^(-20)",
    "sin(3*x + 1) >= -1 + 10^(-30)",
    "(x - 7/3)^2 + 10^(-40) > 10^(-39)",
    "x^2 + 1/x^2 > 2 + 10^(-30)",
])
def test_false_claims_are_refuted(check, claim):
    src = f"let x : real\nlet p : real, positive\nclaim c : {claim}\n"
    r = check(src)
    it = item(r, "c")
    assert it.status == "refuted", (claim, it.status, it.message)


@pytest.mark.parametrize("claim", [
    "log(p) < p",
    "exp(x) > 0",
    "sin(x)^2 <= 1",
    "cos(x - 1/9) <= 1",
    "log(1 + p) > 0",
    "p^(1/1000) > 0",
])
def test_true_claims_not_refuted(check, claim):
    src = f"let x : real\nlet p : real, positive\nclaim c : {claim}\n"
    r = check(src)
    assert item(r, "c").status in ("proved", "checked", "unknown")


def _problem(lhs, rel, rhs, conds=(), premises=()):
    return numeric.Problem(lhs, rel, rhs, list(conds), list(premises), {})


@pytest.mark.parametrize("lhs, rhs", [
    (sp.exp(x + y), sp.exp(x) * sp.exp(y)),
    (sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1)),
    (sp.log(p ** 3), 3 * sp.log(p)),
    (sp.sqrt(p) * sp.sqrt(p), p),
    (2 ** sp.Integer(60) * p + sp.log(3 * p), sp.log(3) + sp.log(p) + 2 ** sp.Integer(60) * p),
])
def test_true_equalities_give_evidence_not_counterexamples(lhs, rhs):
    out = numeric.search(_problem(lhs, "=", rhs), random.Random(0), 160, None)
    assert out.kind == "evidence"
    assert out.valid >= 25


def test_counterexample_at_huge_value_is_exact_and_short():
    out = numeric.search(_problem(sp.log(p), "<", sp.Integer(50)), random.Random(0), 160, None, local=False)
    assert out.kind == "counterexample"
    assert out.point == {"p": "10^30"}


def test_critical_point_of_a_narrow_maximum():
    out = numeric.search(_problem(sp.cos(x - sp.Rational(1, 9)), "<=", 1 - sp.Rational(1, 10 ** 20)),
                         random.Random(0), 40, None, local=False)
    assert out.kind == "counterexample"
    assert out.point == {"x": "1/9"}


def test_search_ignores_the_clock():
    prob = _problem(sp.exp(x), ">=", 1 + x + x ** 2 / 1000)
    a = numeric.search(prob, random.Random(3), 160, lambda: 1.0)
    b = numeric.search(prob, random.Random(3), 160, lambda: -1.0)
    assert (a.kind, a.point, a.message, a.valid) == (b.kind, b.point, b.message, b.valid)
    assert a.kind == "counterexample"


# ------------------------------------------------------ derivatives at kinks
@pytest.mark.parametrize("claim", [
    "d/dx (x*|x|) = 2*|x|",
    "d/dx |x|^3 = 3*x*|x|",
    "d/dx max(x, 0)^2 = 2*max(x, 0)",
    "d/dx min(x, 0)^3 = 3*min(x, 0)^2",
    "d/dx ((x - 1)*|x - 1|) = 2*|x - 1|",
    "d/dx ((x - y)*|x - y|) = 2*|x - y|",
])
def test_derivatives_through_kinks_proved(check, claim):
    src = f"let x, y : real\nclaim c : {claim}\n"
    it = item(check(src), "c")
    assert it.status == "proved", (claim, it.status, it.message)


@pytest.mark.parametrize("claim", [
    "d/dx max(x, 0) = 1",
    "d/dx min(x, 1)^2 = 2*min(x, 1)",
    "d/dx (x*|x|) = 2*x",
    "d/dx |x - 1| = 1",
])
def test_false_derivatives_still_refuted(check, claim):
    src = f"let x : real\nclaim c : {claim}\n"
    assert item(check(src), "c").status == "refuted"


def test_smoothness_drops_kinks_where_pieces_agree():
    assert Elaborator._smoothness(x * sp.Abs(x), x) == ()
    assert Elaborator._smoothness(sp.Max(x, 0) ** 2, x) == ()
    conds = Elaborator._smoothness(sp.Abs(x), x)
    assert [(c.expr, c.rel) for c in conds] == [(x, "!=")]
    assert conds[0].jump == 2   # the one-sided derivatives differ by 2
    # a condition keeps its jump through a rewriting
    assert conds[0].mapped(lambda e: e + 0).jump == 2


def _kink_search(body, rhs, premises=()):
    from proofcheck.decide import prepare
    conds = Elaborator._smoothness(body, x)
    lhs = prepare(sp.Derivative(body, x))
    return numeric.search(_problem(lhs, "=", rhs, conds, premises), random.Random(0), 160, None)


def test_kink_refutes_only_where_one_sided_derivatives_differ():
    out = _kink_search(sp.Abs(x), sp.Integer(1), [(x, ">=", sp.Integer(0))])
    assert out.kind == "counterexample" and out.point == {"x": "0"}
    assert "differ" in out.message
    # |x| - |x + x^2| = -x*|x| near 0: two kinks meet at 0, the derivative exists there
    out = _kink_search(sp.Abs(x) - sp.Abs(x + x ** 2), -2 * sp.Abs(x), [(x, ">", sp.Rational(-1, 2))])
    assert out.kind == "evidence"


def test_kink_with_unknown_jump_is_no_counterexample():
    cond = Condition(x, "!=", "a kink", sp.nan)
    out = numeric.search(_problem(x ** 2, "=", x ** 2, [cond]), random.Random(0), 40, None)
    assert out.kind == "evidence"


# ------------------------------------------------------------ determinism
DETERMINISM_FILE = """let x, y : real
let p, q : real, positive
let n : integer, positive
claim a : exp(x) >= 1 + x + x^2/1000
claim b : log(p) < 50
claim c : cos(x - 1/9) <= 1 - 10^(-20)
claim d : x^2 + y^2 >= 2*x*y
claim e : sin(x) + cos(y) <= 2
claim f : p*q <= (p + q)^2/4 + 1/10^9
claim g : n^2 >= 3*n - 2
claim h : (x + y)^3 = x^3 + y^3
claim k : sqrt(p^2 + q^2) <= p + q
"""


def _run_with_seed(path, seed):
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    out = subprocess.run([sys.executable, "-m", "proofcheck", "--format", "json", str(path)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    doc = json.loads(out.stdout)
    return [(it["name"], it["status"], [(s["status"], s.get("counterexample"), s["message"]) for s in it["steps"]])
            for f in doc["files"] for it in f["items"]]


def test_verdicts_do_not_depend_on_the_hash_seed(tmp_path):
    path = tmp_path / "several.pf"
    path.write_text(DETERMINISM_FILE)
    one = _run_with_seed(path, 1)
    two = _run_with_seed(path, 2)
    assert one == two
    statuses = {name: status for name, status, _ in one}
    assert statuses["b"] == "refuted" and statuses["c"] == "refuted" and statuses["h"] == "refuted"
