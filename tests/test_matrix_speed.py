"""Matrix steps that end `checked`: what the report says, and that the faster way to it
(an exact polynomial check per size first, then concrete matrices only at the sizes it
did not decide, all evaluated exactly with flint) finds the same counterexamples as the
plain search over every size of the plan.
"""
import random

import sympy as sp

from conftest import item
from proofcheck.check import FileChecker, Options
from proofcheck.deciders import matrices
from proofcheck.obligations import StepTask
from proofcheck.parse import parse_document

HEADER = """let m, n : integer, positive
let A, X : matrix(m, n)
let C, D : matrix(n, n)
let P : matrix(n, n), psd
let v : vector(n)
let x : real
"""

NULL_SPACE = """let m, n : integer, positive
let A : matrix(m, n)
let v : vector(n)

theorem null_space : A^T*(A*v) = 0*v implies norm(A*v)^2 = 0
proof
  norm(A*v)^2
    = (A*v)^T*(A*v)
    = v^T*(A^T*(A*v))
    = 0
qed
"""


def task_of(formula, header=HEADER):
    c = FileChecker(parse_document(header + f"claim c : {formula}\n"), Options(timeout=5.0))
    c.build()
    (t,) = [t for t in c.tasks if isinstance(t, StepTask)]
    return t


def plain_search(t):
    """The refutation of the concrete search over the whole plan, without the symbolic check."""
    exprs = [t.lhs, t.rhs] + [c.expr for c in t.conds]
    exprs += [e for (l, _, r) in (matrices._premise_rels(t) or []) for e in (l, r) if isinstance(e, sp.Basic)]
    mats = matrices.matrix_symbols(*exprs)
    dims = matrices.dimension_symbols(mats, exprs)
    scalars = sorted({s for e in exprs for s in e.free_symbols
                      if isinstance(s, sp.Symbol) and s not in dims and not s.name.startswith("_")},
                     key=lambda s: s.name)
    kinds = {m: set(matrices._closure(k)) for m, k in (t.matrix_kinds or {}).items()}
    refuted, _ = matrices._search(t, mats, kinds, matrices.search_plan(dims), scalars, random.Random(t.seed), exprs)
    return refuted


def test_an_equation_with_a_premise_is_checked_at_every_small_size(check):
    it = item(check(NULL_SPACE), "null_space")
    assert it.status == "checked", [s.verdict for s in it.steps]
    *rewrites, last = it.steps
    # the rewrites of norm(A*v)^2 hold without the premise: proved for every size
    assert all(s.verdict.status == "proved" for s in rewrites), [s.verdict for s in rewrites]
    for step in [last]:  # `= 0` needs the premise A^T*(A*v) = 0*v
        v = step.verdict
        assert v.status == "checked" and v.method == "every size, symbolic entries", v
        assert "holds exactly for every size with m = 1..4, n = 1..4 (symbolic entries)" in v.message
        # the concrete matrices are tested at the sizes the symbolic check did not decide
        assert "(k, k), (k, 1), (1, k) for k = 5..8 other than the 16 decided with symbolic entries" in v.message
        assert "(of 108 tried)" in v.message and "not proved for larger sizes" in v.message
        assert v.detail["sizes"] == 16 and v.detail["points"] > 0


def test_the_report_is_the_same_on_every_run(check):
    first = [s.verdict.message for s in item(check(NULL_SPACE), "null_space").steps]
    again = [s.verdict.message for s in item(check(NULL_SPACE), "null_space").steps]
    assert first == again


def test_a_false_equation_gets_the_smallest_counterexample_of_the_plain_search():
    # false only where m != n: the first such size of the plan is m = 1, n = 2
    t = task_of("norm_F(A)^2 = trace(A^T*A)*m/n")
    v = matrices.decide(t)
    assert v.status == "refuted"
    assert (v.counterexample["m"], v.counterexample["n"]) == ("1", "2")
    assert v.message == plain_search(t).message


def test_an_equation_false_only_beyond_the_symbolic_sizes_is_refuted_at_the_first_of_them():
    # an identity at n = 1..4 (decided with symbolic entries, whose instances are skipped), false
    # at n = 5 for a random C that is not symmetric (every structured instance agrees): the
    # counterexample is the one the plain search finds there, with the same random matrices
    k = "(n - 1)*(n - 2)*(n - 3)*(n - 4)"
    t = task_of(f"{k}*trace(C*D) = {k}*trace(C^T*D)")
    v = matrices.decide(t)
    assert v.status == "refuted"
    assert v.counterexample["n"] == "5"
    assert v.message == plain_search(t).message
    assert v.counterexample["C"] != v.counterexample["C"].replace("-", "")  # a random one


def test_an_equation_undefined_at_some_instance_is_still_refuted():
    # the identity holds with symbolic entries, but a singular C makes the step undefined
    v = matrices.decide(task_of("inv(C)*C = I(n)"))
    assert v.status == "refuted" and "undefined there" in v.message


def test_checked_inequalities_still_test_every_size_of_the_plan():
    v = matrices.decide(task_of("trace(P)/n >= det(P)^(1/n)"))
    assert v.status == "checked"
    assert "at all 84 structured and random matrix instances tested (of 84 tried), at the sizes n = 1..8" \
        in v.message
    v = matrices.decide(task_of("norm_2(A^T*A) = norm_2(A)^2"))
    assert v.status == "checked" and "(of 300 tried)" in v.message


def test_counterexamples_are_exact():
    v = matrices.decide(task_of("trace(C)^2 <= 4*norm_F(C)^2"))
    assert v.status == "refuted" and v.counterexample["n"] == "5"
    assert v.message == plain_search(task_of("trace(C)^2 <= 4*norm_F(C)^2")).message
    v = matrices.decide(task_of("norm_2(A^T*A) = norm_2(A)"))
    assert v.status == "refuted" and v.counterexample["A"] == "[[1/2]]"


def test_a_size_decided_with_symbolic_entries_draws_the_same_random_instances():
    # the instances at every later size do not depend on which sizes were decided symbolically
    t = task_of("x*trace(C*D) + trace(P) = trace(P) + trace(x*D*C)")
    exprs = [t.lhs, t.rhs]
    mats = matrices.matrix_symbols(*exprs)
    dims = matrices.dimension_symbols(mats, exprs)
    kinds = {m: set(matrices._closure(k)) for m, k in (t.matrix_kinds or {}).items()}
    scalars = [sp.Symbol("x", real=True)]
    plan = matrices.search_plan(dims)
    tested, settled = random.Random(7), random.Random(7)
    a = matrices._Search(t, mats, kinds, plan, scalars, tested, exprs)
    b = matrices._Search(t, mats, kinds, plan, scalars, settled, exprs)
    for size, n_random in plan[:4]:
        assert a.test(size, n_random) is None
        b.settle(size, n_random)
        assert tested.getstate() == settled.getstate()
    assert len(a.evidence.rows) == 4 and not a.evidence.settled
    assert len(b.evidence.settled) == 4 and not b.evidence.rows
