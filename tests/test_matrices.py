"""Matrices and vectors: shapes, the three matrix deciders, the smallest failing size."""
import pytest
import sympy as sp

from conftest import item
from proofcheck.deciders import matrices

HEADER = """let m, n : integer, positive
let A, B, X : matrix(m, n)
let C, D : matrix(n, n)
let P : matrix(n, n), psd
let S : matrix(n, n), symmetric
let u : vector(m)
let v, w : vector(n)
let M : matrix(2, 2)
"""


def status(check, formula, **kw):
    it = item(check(HEADER + f"claim c : {formula}\n", **kw), "c")
    return it, [s.verdict for s in it.steps]


@pytest.mark.parametrize("formula,message", [
    ("A + C = A", "cannot add matrices of different shapes: a m×n matrix and a n×n matrix"),
    ("trace(A*B) = 0", "cannot multiply a m×n matrix by a m×n matrix: the inner sizes n and m differ"),
    ("A + 1 = A", "cannot add a m×n matrix and a scalar"),
    ("v^T*u = 0", "cannot multiply"),
    ("det(A) = 0", "`det` needs a square matrix"),
    ("norm(A) = 0", "`norm` is the vector 2-norm"),
    ("A[1, 1, 1] = 0", "one index (vectors) or two"),
    ("v[1, 2] = 0", "index 2 is outside 1..1"),
    ("A^2 = A", "only a square matrix has powers"),
    ("C^(1/2) = C", "whole power"),
    ("A/A = A", "cannot divide by"),
])
def test_shape_errors_name_both_shapes(check, formula, message):
    it, _ = status(check, formula)
    assert it.status == "error"
    assert message in it.own.message


@pytest.mark.parametrize("formula", [
    "trace(A^T*B) = sum(i = 1..m, j = 1..n, A[i, j]*B[i, j])",
    "norm_F(A + X)^2 = norm_F(A)^2 + norm_F(X)^2 + 2*trace(A^T*X)",
    "trace(C*D) = trace(D*C)",
    "norm_F(A) = sqrt(sum(i = 1..m, j = 1..n, A[i, j]^2))",
    "det(C*D) = det(C)*det(D)",
    "det(C) != 0 implies det(C*D*inv(C)) = det(D)",
    "(A^T*B)[1, 1] = sum(j = 1..m, A[j, 1]*B[j, 1])",
    "|v^T*w| <= norm(v)*norm(w) by cauchy_schwarz",
    "det(M) = M[1, 1]*M[2, 2] - M[1, 2]*M[2, 1]",
    "norm(v)^2 >= 0",
    "(C^T)^T = C",
    "(C + D)^T = C^T + D^T",
    "I(n)*C = C",
    "det(C) != 0 implies inv(inv(C)) = C",
    "(C + D)^2 = C^2 + C*D + D*C + D^2",
    "det(C^T) = det(C)",
    "trace(A^T*A) >= 0",
    "trace(P) >= 0",
    "(C*D)^T = D^T*C^T",
    "A^T*A*v = A^T*(A*v)",
])
def test_identities_for_every_size_are_proved(check, formula):
    it, vs = status(check, formula)
    assert it.status == "proved", vs


@pytest.mark.parametrize("formula", [
    "S^T = S",
    "trace(P)/n >= det(P)^(1/n)",
    "norm(A*v) <= norm_F(A)*norm(v)",
])
def test_identities_checked_on_every_size_up_to_four(check, formula):
    it, vs = status(check, formula)
    assert it.status == "checked", vs
    assert "= 1..4" in vs[0].message or "sizes" in vs[0].message


@pytest.mark.parametrize("formula", [
    "norm_2(A^T*A) = norm_2(A)^2",
    "norm_F(A) >= norm_2(A)",
    "norm_2(C) >= norm_F(C)/sqrt(n)",
])
def test_spectral_norm_facts_are_evidence_from_random_matrices(check, formula):
    it, vs = status(check, formula)
    assert it.status == "checked", vs
    assert "random matrix instances" in vs[0].message


@pytest.mark.parametrize("formula,size", [
    ("det(C + D) = det(C) + det(D)", {"n": "2"}),
    ("trace(C*D) = trace(C)*trace(D)", {"n": "2"}),
    ("(C*D)^T = C^T*D^T", {"n": "2"}),
    ("norm_2(A^T*A) = norm_2(A)", {"m": "1", "n": "1"}),
    ("trace(P)/n >= sqrt(det(P))", {"n": "1"}),
    ("norm_F(A + X)^2 = norm_F(A)^2 + norm_F(X)^2 + trace(A^T*X)", {"m": "1", "n": "1"}),
    ("(C + D)^2 = C^2 + 2*C*D + D^2", {"n": "2"}),
    ("C*D = D*C", {"n": "2"}),
    ("trace(C*D) >= 0", {"n": "1"}),
    ("I(n)*C = C^T", {"n": "2"}),
    ("I(n)*C*I(n) = 2*C", {"n": "1"}),
    ("(C + D)^3 = C^3 + 3*C^2*D + 3*C*D^2 + D^3", {"n": "2"}),
])
def test_false_claims_are_refuted_at_the_smallest_failing_size(check, formula, size):
    it, vs = status(check, formula)
    assert it.status == "refuted", vs
    ce = vs[0].counterexample
    for k, v in size.items():
        assert ce[k] == v
    assert any(k in ce for k in ("A", "C", "P"))  # the matrices are shown


def _matrix(text):
    """Read a matrix as the report writes it, `[[1, 2], [3/2, 4]]`, without evaluating code."""
    import re
    from fractions import Fraction
    rows = re.findall(r"\[([^\[\]]*)\]", text)
    return sp.Matrix([[sp.Rational(str(Fraction(x.strip()))) for x in row.split(",")] for row in rows])


def test_gradients_over_samples(check):
    text = HEADER + ("let t : real\n"
                     "claim good : d/dt sum(i = 1..m, (t*u[i] - 1)^2) = 2*sum(i = 1..m, (t*u[i] - 1)*u[i])\n"
                     "claim bad : d/dt sum(i = 1..m, (t*u[i] - 1)^2) = sum(i = 1..m, (t*u[i] - 1)*u[i])\n")
    r = check(text)
    assert item(r, "good").status == "proved"
    assert item(r, "bad").status == "refuted" and item(r, "bad").steps[0].verdict.counterexample["m"] == "1"


def test_psd_counterexamples_are_psd(check):
    it, vs = status(check, "P[1, 1] >= 1")
    assert it.status == "refuted"
    P = _matrix(vs[0].counterexample["P"])
    assert P == P.T and all(ev >= 0 for ev in P.eigenvals())


def test_premises_restrict_the_random_matrices(check):
    # true: under the premise v = 0 the claim holds; no random v satisfies it, so nothing is refuted
    it, vs = status(check, "v = 0*v implies norm(v) = 0")
    assert it.status != "refuted"


def test_uncited_cauchy_schwarz_is_named(check):
    it, vs = status(check, "|v^T*w| <= norm(v)*norm(w)")
    assert it.status == "unknown" and "`cauchy_schwarz`" in vs[0].message


def test_sum_normal_form_is_insensitive_to_index_names_and_offsets():
    n = sp.Symbol("n", integer=True, positive=True)
    A = sp.MatrixSymbol("A", n, n)
    i, j = sp.Dummy("i", integer=True), sp.Dummy("j", integer=True)
    one_based = sp.Sum(A[i - 1, j - 1] * A[j - 1, i - 1], (i, 1, n), (j, 1, n))
    zero_based = sp.Sum(A[j, i] * A[i, j], (j, 0, n - 1), (i, 0, n - 1))
    assert matrices.normal_form(one_based) == matrices.normal_form(zero_based)
    assert matrices.prove_equal_by_sums(sp.Trace(A * A), one_based)


def test_sum_normal_form_does_not_equate_different_sums():
    n = sp.Symbol("n", integer=True, positive=True)
    A = sp.MatrixSymbol("A", n, n)
    i, j = sp.Dummy("i", integer=True), sp.Dummy("j", integer=True)
    assert matrices.prove_equal_by_sums(sp.Trace(A * A), sp.Sum(A[i, j] ** 2, (i, 0, n - 1), (j, 0, n - 1))) is None


def test_cyclic_trace_cancels_only_a_matrix_with_its_own_inverse(check):
    it, vs = status(check, "det(C) != 0 implies trace(C*D*inv(C)) = trace(D)")
    assert it.status == "proved"
    text = HEADER + "let E : matrix(n, n)\nclaim c : det(E) != 0 implies trace(C*D*inv(E)) = trace(D)\n"
    assert item(check(text), "c").status == "refuted"


def test_certified_spectral_norm():
    from proofcheck.evaluate import spectral_norm
    val = spectral_norm(sp.ImmutableMatrix([[3, 0], [4, 5]]))  # singular values sqrt(45), sqrt(5)
    assert val.contains(sp.sqrt(45).evalf(30)) or abs(float(val.mid()) - 45 ** 0.5) < 1e-12


def test_norm_bounds_on_3x3_matrices_end_in_counted_work(verdicts):
    """With 18 entries and two square roots, Z3's nonlinear arithmetic ran past its
    work limit (21 s a query) and these ended at the time limit; the query is no
    longer asked, and the concrete instances decide them."""
    got = verdicts("let E, F : matrix(3, 3)\n"
                   "claim holds : trace(E*F) <= norm_F(E)*norm_F(F)\n"
                   "claim too_strong : trace(E*F) >= -(1/2)*norm_F(E)*norm_F(F)\n")
    assert got == {"holds": "checked", "too_strong": "refuted"}


def test_traces_of_powers_of_sums_are_multiplied_out_and_proved(verdicts):
    """trace((A - I)^4) went through SymPy's symbolic sums for seconds and ended at the
    time limit; the argument is now multiplied out (order kept) and traced term by term."""
    got = verdicts("let n : integer, positive\nlet A, B : matrix(n, n)\n"
                   "claim even : trace((A - I(n))^4) = trace((I(n) - A)^4)\n"
                   "claim cyclic : trace((A*B - I(n))^3) = trace((B*A - I(n))^3)\n"
                   "claim square : trace((A - I(n))^2) = trace(A^2) - 2*trace(A) + n\n"
                   "claim wrong : trace((A - I(n))^2) = trace(A^2) - trace(A) + n\n"
                   "claim order : trace((A + B)^2) = trace(A^2) + 2*trace(A*B) + trace(B^2)\n"
                   "claim not_commuting : trace((A + B)^3) = trace(A^3) + 3*trace(A^2*B) + 3*trace(A*B^2) + trace(B^3)\n"
                   "claim commuting_wrong : (A + B)^2 = A^2 + 2*A*B + B^2\n"
                   "claim rotated : trace(A*A*B) = trace(A*B*A)\n"
                   "let C : matrix(n, n)\n"
                   "claim not_a_rotation : trace(A*B*C) = trace(B*A*C)\n")
    assert got == {"even": "proved", "cyclic": "proved", "square": "proved", "wrong": "refuted",
                   "order": "proved", "not_commuting": "proved", "commuting_wrong": "refuted",
                   "rotated": "proved", "not_a_rotation": "refuted"}


def test_renaming_a_sum_index_never_captures_or_touches_a_bound_one():
    """_substitute replaces free occurrences only: an inner sum binding the same name
    keeps its own, and an inner index equal to a replacement is renamed first."""
    import sympy as sp
    from proofcheck.deciders.matrices import _substitute
    j, k, n = sp.symbols("j k n", integer=True)
    f = sp.Function("f")
    inner = sp.Sum(f(k, j), (k, 0, n))
    e = f(j) * inner
    out = _substitute(e, {j: k})          # j -> k must not be captured by the inner k
    (outer_free,) = [a for a in out.args if not isinstance(a, sp.Sum)]
    (new_inner,) = [a for a in out.args if isinstance(a, sp.Sum)]
    assert outer_free == f(k)
    bound = new_inner.limits[0][0]
    assert bound != k and new_inner.function == f(bound, k)
    shadowed = sp.Sum(f(j), (j, 0, n))   # j bound here: nothing to replace
    assert _substitute(shadowed, {j: k}) == shadowed


def test_long_traces_are_compared_rotated_first_and_bounded_before_sums(verdicts):
    """Products of six or more factors cost SymPy seconds each as sums over entries, and
    ran into the time limit: the rotated traces are compared first (a proof when they
    agree), and the sums are not attempted past a counted bound (the instances decide)."""
    got = verdicts("let n : integer, positive\nlet A, B, C, D : matrix(n, n)\n"
                   "claim squares : trace((A*B*C - C*B*A)^2) = trace((C*B*A - A*B*C)^2)\n"
                   "claim fourth : trace((A*B)^4) = trace((B*A)^4)\n"
                   "claim long : trace((A*B*C*D - I(n))^2) = trace((D*A*B*C - I(n))^2)\n"
                   "claim cube_false : trace((A*B + C*D)^3) = trace((B*A + D*C)^3)\n"
                   "claim square_false : trace((A*B + C*D)^2) = trace((B*A + D*C)^2)\n")
    assert got == {"squares": "proved", "fourth": "proved", "long": "proved",
                   "cube_false": "refuted", "square_false": "refuted"}


def test_products_too_long_for_symbolic_entries_are_left_to_the_instances(verdicts):
    """An entry of a product of 66 symbolic 2x2 matrices has 2^65 terms: the size is
    skipped by a counted bound (it ran to the time limit), and A^65 is not written out."""
    chain = "*".join(["A", "B"] * 33)
    rotated = "*".join(["B", "A"] * 33)
    got = verdicts("let n : integer, positive\nlet A, B, C : matrix(n, n)\n"
                   f"claim long : trace({chain}) = trace({rotated})\n"
                   "claim power : trace(A^65*B*C) = trace(B*C*A^65)\n"
                   "claim power_false : trace(A^65*B*C) = trace(B*A^65*C)\n")
    assert got == {"long": "checked", "power": "checked", "power_false": "refuted"}


def test_vector_identities_with_sums_inside_products_are_proved(verdicts):
    """u^T*(A*v + w) has an inner sum times an entry; the sum normal form joins such a
    sum to the one around it (independent ranges), so these are proved for every size,
    and their wrong variants are refuted."""
    got = verdicts("let n : integer, positive\nlet A, B : matrix(n, n)\nlet u, v, w : vector(n)\n"
                   "claim dist : u^T*(A*v + w) = (A^T*u)^T*v + u^T*w\n"
                   "claim gram : (A*v)^T*(B*w) = v^T*A^T*B*w\n"
                   "claim square : norm(A*v + w)^2 = norm(A*v)^2 + 2*w^T*A*v + norm(w)^2\n"
                   "claim square_wrong : norm(A*v + w)^2 = norm(A*v)^2 + w^T*A*v + norm(w)^2\n"
                   "claim gram_wrong : (A*v)^T*(B*w) = v^T*A*B*w\n")
    assert got == {"dist": "proved", "gram": "proved", "square": "proved",
                   "square_wrong": "refuted", "gram_wrong": "refuted"}


def test_a_sum_that_does_not_use_the_outer_index_stays_a_factor(verdicts):
    """Σ_i v_i Σ_j v_j is (Σ v)^2, which is >= 0; joined into a double sum it is not
    seen to be. Only an inner sum that uses an outer index joins the sum around it."""
    got = verdicts("let n : integer, positive\nlet u, v, w : vector(n)\n"
                   "claim square : sum(i = 1..n, v[i]*sum(j = 1..n, v[j])) >= 0\n"
                   "claim factor : sum(i = 1..n, u[i]*(v^T*w)) = sum(i = 1..n, u[i])*(v^T*w)\n"
                   "claim gram : (v^T*w)^2 = sum(i = 1..n, v[i]*w[i]*sum(j = 1..n, v[j]*w[j]))\n")
    assert got == {"square": "proved", "factor": "proved", "gram": "proved"}


def test_renaming_apart_a_sum_index_renames_the_inner_ranges_that_use_it():
    """Sum(f(i, j), (i, 0, j), (j, 0, n)): i runs up to j. Renaming j apart (because a
    replacement brings in a symbol named j) must rename it in i's range too."""
    import sympy as sp
    from proofcheck.deciders.matrices import _substitute
    i, j, n, x = sp.symbols("i j n x", integer=True)
    f = sp.Function("f")
    s = sp.Sum(f(i, j, x), (i, 0, j), (j, 0, n))
    out = _substitute(s, {x: j})             # x -> j: the bound j must be renamed apart
    (ii, lo_i, hi_i), (jj, lo_j, hi_j) = out.limits
    assert jj != j and hi_i == jj and out.function == f(ii, jj, j)
    # the same value: at n = 2 with f(a, b, c) = (a + 1)*(b + 2)*c, 35*x with x = j
    g = lambda e: e.replace(f, lambda a, b, c: (a + 1) * (b + 2) * c)  # noqa: E731
    assert g(out).subs(n, 2).doit() == g(s).subs(n, 2).doit().subs(x, j) == 35 * j
