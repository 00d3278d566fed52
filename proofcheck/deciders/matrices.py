"""Matrix and vector steps.

Three methods, strongest first:

1. **Sums in normal form** (a proof for every size): traces, products and entries
   are written as finite sums over entries; every sum is normalised (indices
   shifted to start at 0, split over `+`, constant factors pulled out, rectangular
   nests flattened, bound indices named canonically). Each rewrite is an exact
   identity of finite sums, so a difference that vanishes is 0 for all sizes.
2. **Every size up to a bound, symbolic entries**: each free dimension takes the
   values 1..4 (1..3 with three dimensions, 1..2 with more); matrices become
   matrices of symbols (symmetric ones symmetric, psd ones L*L^T with L lower
   triangular, pd ones with a positive diagonal of L); the scalar or entrywise
   relation is then decided exactly. With numeric dimensions this is a proof;
   with symbolic ones it is `checked`, and the report says which sizes.
3. **Random matrices** of each size and kind (integer, rank one, diagonal,
   identity multiples, near singular; psd as L*L^T): a violation computed exactly,
   or with certified balls for norms and roots, is a counterexample at the
   smallest size that has one. The spectral norm is the square root of the largest
   root of the characteristic polynomial of A^T*A, enclosed by arb.
"""
from __future__ import annotations

import itertools
import random
from fractions import Fraction

import sympy as sp

import signal
from contextlib import contextmanager

from ..evaluate import (Evaluator, Uncertain, Undefined, as_equation, condition_holds, difference, format_value,
                        relation_holds, subtract)
from ..mathfuncs import SpectralNorm
from ..verdict import CHECKED, PROVED, REFUTED, UNKNOWN, Verdict
from . import algebra

MIN_MATRIX_EVIDENCE = 24


class SizeTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Interrupt pure-Python work (SymPy) after `seconds`, inside a worker process.
    The worker's own kill is the backstop for code that does not return to Python."""
    if seconds <= 0:
        raise SizeTimeout()
    if not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise SizeTimeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

# ------------------------------------------------------------ sum normal form
_IDX = "_k"


def _shift_limits(s):
    """Sum with every index running from 0, limits independent of each other, or None."""
    body = s.function
    limits = []
    indices = [l[0] for l in s.limits]
    for (i, lo, hi) in s.limits:
        if (lo.free_symbols | hi.free_symbols) & set(indices):
            return None
        j = sp.Dummy("j", integer=True)
        body = body.xreplace({i: j + lo})
        limits.append((j, sp.Integer(0), sp.expand(hi - lo)))
    return body, limits


def _canonical_sum(body, limits):
    """One Sum, indices renamed canonically (the smallest form over renamings of equal ranges)."""
    best = None
    order = sorted(range(len(limits)), key=lambda k: sp.default_sort_key(limits[k][2]))
    groups = [list(g) for _, g in itertools.groupby(order, key=lambda k: sp.default_sort_key(limits[k][2]))]
    for perm in itertools.product(*[itertools.permutations(g) for g in groups]):
        flat = [k for g in perm for k in g]
        names = {limits[k][0]: sp.Symbol(f"{_IDX}{pos}", integer=True, nonnegative=True)
                 for pos, k in enumerate(flat)}
        new_body = body.xreplace(names)
        new_limits = [(names[limits[k][0]], sp.Integer(0), limits[k][2]) for k in flat]
        cand = sp.Sum(new_body, *new_limits)
        key = sp.default_sort_key(cand)
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1]


def _normal_sum(s):
    shifted = _shift_limits(s)
    if shifted is None:
        return s
    body, limits = shifted
    # flatten nests: Sum(Sum(f, inner), outer)
    while isinstance(body, sp.Sum):
        inner = _shift_limits(body)
        if inner is None:
            break
        body, more = inner
        limits = more + limits
    indices = {l[0] for l in limits}
    body = sp.expand(normal_form(body))
    out = sp.Integer(0)
    for term in sp.Add.make_args(body):
        const, dep = [], []
        for f in sp.Mul.make_args(term):
            (dep if f.free_symbols & indices else const).append(f)
        used = [l for l in limits if any(f.has(l[0]) for f in dep)]
        unused = [l for l in limits if l not in used]
        factor = sp.Mul(*const)
        for (_, lo, hi) in unused:
            factor *= (hi - lo + 1)
        if not dep:
            out += factor
            continue
        out += factor * _canonical_sum(sp.Mul(*dep), used)
    return out


def _cancel_inverses(factors):
    out = []
    for f in factors:
        if out and (out[-1] == sp.Inverse(f) or sp.Inverse(out[-1]) == f or
                    (isinstance(f, sp.Inverse) and f.arg == out[-1]) or
                    (isinstance(out[-1], sp.Inverse) and out[-1].arg == f)):
            out.pop()
        else:
            out.append(f)
    return out


def _cyclic_trace(t):
    """Tr(X1 ... Xk) = Tr(X2 ... Xk X1): choose the rotation with the fewest factors after
    cancelling M*inv(M) (the inverse exists wherever the step is defined)."""
    arg = t.arg
    if isinstance(arg, sp.MatMul):
        arg = arg.doit(deep=False)  # flatten (Q*L)*inv(Q) into Q*L*inv(Q)
    if not isinstance(arg, sp.MatMul):
        return t
    coeff, factors = arg.as_coeff_matrices()
    best = None
    for k in range(len(factors)):
        rot = _cancel_inverses(factors[k:] + factors[:k])
        key = (len(rot), sp.default_sort_key(sp.MatMul(*rot)) if rot else ())
        if best is None or key < best[0]:
            best = (key, rot)
    rot = best[1]
    if not rot:
        return coeff * t.arg.shape[0]
    inner = rot[0] if len(rot) == 1 else sp.MatMul(*rot)
    if inner.shape[0] != inner.shape[1]:
        return t
    return coeff * sp.Trace(inner)


def normal_form(e):
    """Traces and matrix products as sums over entries, every sum normalised."""
    if not isinstance(e, sp.Basic):
        return e
    if e.has(sp.Inverse) and e.has(sp.Trace):
        e = e.replace(lambda x: isinstance(x, sp.Trace), _cyclic_trace)
    for _ in range(3):  # det(A*B) = det(A)*det(B), det(A^-1) = 1/det(A), det(A^T) = det(A)
        if not e.has(sp.Determinant):
            break
        new = e.replace(lambda x: isinstance(x, sp.Determinant), lambda x: x.doit())
        if new == e:
            break
        e = new
    if e.has(sp.Trace):
        e = e.replace(lambda x: isinstance(x, sp.Trace), lambda x: x.rewrite(sp.Sum))
    e = e.replace(lambda x: isinstance(x, sp.Sum), _normal_sum)
    return sp.expand(e)


def prove_equal_by_sums(lhs, rhs):
    try:
        d = normal_form(lhs) - normal_form(rhs)
    except Exception:  # noqa: BLE001 - an expression we cannot rewrite
        return None
    if sp.expand(d) == 0:
        return "finite sums over the entries, in normal form (holds for every size)"
    return None


# ------------------------------------------------------------------ instances
def matrix_symbols(*exprs):
    out = set()
    for e in exprs:
        if isinstance(e, sp.Basic):
            out |= e.atoms(sp.MatrixSymbol)
    return sorted(out, key=lambda m: m.name)


def dimension_symbols(mats, exprs):
    dims = set()
    for m in mats:
        for d in m.shape:
            dims |= d.free_symbols
    for e in exprs:
        for s in e.free_symbols:
            if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive:
                dims.add(s)
    return sorted(dims, key=lambda s: s.name)


def size_assignments(dims):
    top = 4 if len(dims) <= 2 else 3 if len(dims) == 3 else 2
    combos = list(itertools.product(range(1, top + 1), repeat=len(dims)))
    combos.sort(key=lambda c: (sum(c), c))
    return [dict(zip(dims, map(sp.Integer, c))) for c in combos], top


def _symbolic_matrix(m, rows, cols, kinds):
    name = m.name
    if kinds & {"psd", "pd"}:
        L = sp.zeros(rows, rows)
        for i in range(rows):
            for j in range(i + 1):
                if i == j and "pd" in kinds:
                    L[i, j] = sp.Symbol(f"{name}_L{i + 1}{j + 1}", positive=True)
                else:
                    L[i, j] = sp.Symbol(f"{name}_L{i + 1}{j + 1}", real=True)
        return sp.ImmutableMatrix(L * L.T)
    if "symmetric" in kinds:
        return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{min(i, j) + 1}{max(i, j) + 1}",
                                                                     real=True))
    return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i + 1}{j + 1}", real=True))


def instantiate(e, mapping, sizes):
    """Substitute sizes and explicit matrices, carry out the matrix operations.

    Sums are expanded while the matrices are still symbols (an explicit matrix
    cannot be indexed by a symbolic index), then the matrices are substituted."""
    if not isinstance(e, sp.Basic):
        return e
    e = e.xreplace(sizes)
    if e.has(sp.Sum):
        from ..decide import _bigop_doit  # explicit term-by-term expansion: exact and fast
        for _ in range(6):
            if not e.has(sp.Sum):
                break
            e = e.replace(lambda x: isinstance(x, sp.Sum), _bigop_doit)
    e = e.xreplace({m.xreplace(sizes): M for m, M in mapping.items()})
    e = e.doit()
    if isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.ImmutableMatrix):
        e = e.as_explicit()
    return e


def _entries(e):
    if isinstance(e, sp.MatrixBase):
        return list(e)
    return [e]


# ------------------------------------------------------------ random matrices
def _random_matrix(rng, rows, cols, kinds, style):
    def r():
        return sp.Integer(rng.randint(-4, 4))
    if kinds & {"psd", "pd"}:
        if style == "rank one":
            u = sp.Matrix(rows, 1, lambda i, j: r())
            M = u * u.T
        elif style == "identity":
            M = sp.eye(rows) * sp.Integer(rng.randint(0, 3))
        else:
            L = sp.Matrix(rows, rows, lambda i, j: r() if j <= i else 0)
            M = L * L.T
        if "pd" in kinds:
            M = M + sp.eye(rows) * sp.Rational(rng.randint(1, 4), rng.choice([1, 10, 100]))
        return sp.ImmutableMatrix(M)
    if "symmetric" in kinds:
        M = sp.Matrix(rows, rows, lambda i, j: 0)
        for i in range(rows):
            for j in range(i, rows):
                M[i, j] = M[j, i] = r()
        return sp.ImmutableMatrix(M)
    if style == "rank one":
        u = sp.Matrix(rows, 1, lambda i, j: r())
        v = sp.Matrix(cols, 1, lambda i, j: r())
        return sp.ImmutableMatrix(u * v.T)
    if style == "diagonal":
        return sp.ImmutableMatrix(rows, cols, lambda i, j: r() if i == j else 0)
    if style == "identity":
        k = sp.Integer(rng.randint(-3, 3))
        return sp.ImmutableMatrix(rows, cols, lambda i, j: k if i == j else 0)
    if style == "near singular" and rows == cols and rows > 1:
        M = sp.Matrix(rows, cols, lambda i, j: r())
        M[rows - 1, :] = M[0, :] + sp.Matrix(1, cols, lambda i, j: sp.Rational(rng.choice([0, 1]), 1000))
        return sp.ImmutableMatrix(M)
    return sp.ImmutableMatrix(rows, cols, lambda i, j: r())


STYLES = ["integer", "rank one", "integer", "diagonal", "identity", "integer", "near singular"]


def _show_matrix(M) -> str:
    rows = ["[" + ", ".join(str(x) for x in M.row(i)) + "]" for i in range(M.rows)]
    return "[" + ", ".join(rows) + "]"


# -------------------------------------------------------------------- decide
def _matrix_difference_vanishes(d) -> bool:
    """Does SymPy's matrix algebra reduce d to the zero matrix? Matrix symbols do not
    commute, so (A + B)^2 expands to A^2 + A*B + B*A + B^2, never 2*A*B."""
    for step in (lambda e: e.doit(), lambda e: sp.expand(e.doit())):
        try:
            r = step(d)
        except Exception:  # noqa: BLE001
            continue
        if isinstance(r, sp.ZeroMatrix) or r == 0:
            return True
    # a generic entry (i, j): the sum normal form of its difference vanishing, with i and j
    # free, means every entry of every size agrees
    i = sp.Symbol("_row", integer=True, nonnegative=True)
    j = sp.Symbol("_col", integer=True, nonnegative=True)
    try:
        entry = d.replace(lambda x: isinstance(x, sp.MatPow) and x.exp.is_Integer and 0 < x.exp <= 8,
                          lambda x: sp.MatMul(*[x.base] * int(x.exp), evaluate=False))[i, j]
        return sp.expand(normal_form(entry)) == 0
    except Exception:  # noqa: BLE001 - an entry SymPy cannot write out
        return False


def _vector_pairs(mats):
    vecs = [m for m in mats if m.shape[1] == 1]
    return [(v, w) for v in vecs for w in vecs if v.shape[0] == w.shape[0]]


def _cauchy_schwarz(mats):
    """Instances |v^T*w| <= norm(v)*norm(w), in sum normal form, for the step's vectors."""
    from ..facts import rel
    out = []
    for v, w in _vector_pairs(mats):
        inner = normal_form((v.T * w)[0, 0])
        out.append(rel(sp.Abs(inner), "<=", sp.sqrt(normal_form((v.T * v)[0, 0])) *
                       sp.sqrt(normal_form((w.T * w)[0, 0]))))
    return out


def _symbolic(task, mats, time_left):
    """A proof for every size: sums in normal form, then signs, Z3 and cited facts on them."""
    from ..decide import prove_condition, prove_relation
    try:
        with time_limit(max(0.05, min(2.0, 0.4 * time_left()))):
            lhs, rhs = normal_form(task.lhs), normal_form(task.rhs)
            conds = [type(c)(normal_form(c.expr), c.rel, c.why) for c in task.conds]
            if isinstance(lhs, sp.MatrixExpr):
                if task.rel == "=" and _matrix_difference_vanishes(lhs - rhs):
                    return "matrix algebra (transpose, identity, inverse and distributive rules, entries as " \
                           "sums; products kept in order), for every size"
                return None
            prems = [(normal_form(l), r, normal_form(rr)) for (l, r, rr) in (_premise_rels(task) or [])
                     if not isinstance(l, sp.MatrixExpr)]
            hyps = _cauchy_schwarz(mats) if "cauchy_schwarz" in task.hints else []
            if task.rel == "=":
                # cheap exact comparisons only: the full portfolio (simplify) on sums is slow
                d = sp.expand(lhs - rhs)
                if d == 0 or sp.cancel(sp.together(d)) == 0:
                    method = "matrix normal form: sums over entries, determinant rules (holds for every size)"
                else:
                    method = None
            else:
                method, _ = prove_relation(lhs, task.rel, rhs, prems + hyps, {}, time_left, conds)
                if method and hyps:
                    method = "the cited `cauchy_schwarz` at the step's vectors, then " + method
                elif method:
                    method = "finite sums over the entries in normal form, then " + method
            if not method:
                return None
            if all(prove_condition(c, prems, {}, time_left) for c in conds):
                return method
    except SizeTimeout:
        return None
    except Exception:  # noqa: BLE001 - a form SymPy cannot rewrite
        return None
    return None


def decide(task, time_left) -> Verdict:
    lhs, rhs = task.lhs, task.rhs
    kinds = {m: set(k) for m, k in (task.matrix_kinds or {}).items()}
    exprs = [lhs, rhs] + [c.expr for c in task.conds]
    mats = matrix_symbols(*exprs)
    if task.rel == "=" and lhs == rhs:
        return Verdict(PROVED, "identical expressions", "")
    method = _symbolic(task, mats, time_left)
    if method:
        return Verdict(PROVED, method, "")
    dims = dimension_symbols(mats, exprs)
    sizes, top = size_assignments(dims)
    scalars = sorted({s for e in exprs for s in e.free_symbols
                      if isinstance(s, sp.Symbol) and s not in dims and not s.name.startswith("_")},
                     key=lambda s: s.name)
    rng = random.Random(task.seed)

    # random matrices, smallest size first: cheap, and it finds the smallest failing size
    refuted, agreeing = _search(task, mats, kinds, sizes, scalars, rng, time_left)
    if refuted is not None:
        return refuted
    if "cauchy_schwarz" not in task.hints and _vector_pairs(mats) and time_left() > 0.2:
        from dataclasses import replace
        if _symbolic(replace(task, hints=list(task.hints) + ["cauchy_schwarz"]), mats, time_left):
            from ..decide import follows_message
            return Verdict(UNKNOWN, "", follows_message(["cauchy_schwarz"]))
    # every size with symbolic entries, each within its own time
    done, stopped = [], None
    for size in sizes:
        budget = time_left() / max(1, len(sizes) - len(done)) * 2
        try:
            with time_limit(min(budget, time_left() - 0.05)):
                ok = _holds_symbolically(task, mats, kinds, size, time_left)
        except SizeTimeout:
            ok = None
        if ok is None:
            stopped = size
            break
        done.append(size)
    tested = _evidence_text(task, agreeing)
    if stopped is None and done:
        if not dims:
            return Verdict(PROVED, "exact computation with symbolic entries", "")
        where = ", ".join(f"{d} = 1..{top}" for d in dims)
        return Verdict(CHECKED, "every size, symbolic entries",
                       f"holds exactly for every size with {where} (symbolic entries); not proved for "
                       f"larger sizes", detail={"sizes": len(done)})
    if done and dims:
        last = ", ".join(f"{d} = {v}" for d, v in done[-1].items())
        where = ", ".join(f"{d} = {v}" for d, v in stopped.items())
        return Verdict(CHECKED, "sizes with symbolic entries, then random matrices",
                       f"holds exactly for the {len(done)} smallest sizes (up to {last}); {where} was not "
                       f"decided in time, and {tested}", detail={"sizes": len(done)})
    if agreeing >= MIN_MATRIX_EVIDENCE:
        return Verdict(CHECKED, "random matrices", f"no proof found; {tested}", detail={"points": agreeing})
    return Verdict(UNKNOWN, "", f"could not decide this matrix step; {tested}")


def _evidence_text(task, agreeing):
    if agreeing == 0:
        if task.premises or task.facts:
            return "no random matrix instance satisfied the premises and cited facts, so none could be tested"
        return "no random matrix instance could be evaluated"
    kinds = "psd as L*L^T, " if any(set(k) & {"psd", "pd"} for k in (task.matrix_kinds or {}).values()) else ""
    return (f"it holds at {agreeing} random matrix instances of every size tried ({kinds}integer, rational, "
            f"rank one, diagonal, identity multiples, near singular), exactly or within certified bounds")


def _premise_rels(task):
    """The step's premises as relations [(lhs, rel, rhs)] (matrix ones entrywise later), or None
    if some premise is not a plain relation (then nothing can be refuted)."""
    from ..elaborate import FAnd, Rel
    out = []

    def walk(f):
        if isinstance(f, Rel):
            out.append((f.lhs, f.rel, f.rhs))
            return True
        if isinstance(f, FAnd):
            return all(walk(p) for p in f.parts)
        return False
    ok = all(walk(f) for f in task.premises)
    # cited facts bind a counterexample too: built-in ones are theorems, others must be plain relations
    for fact in task.facts:
        if fact.kind == "builtin":
            continue
        ok = ok and fact.formula is not None and walk(fact.formula)
    return out if ok else None


def _instantiated_premises(prems, mapping, size):
    out = []
    for (l, r, rr) in prems:
        a, b = instantiate(l, mapping, size), instantiate(rr, mapping, size)
        for x, y in zip(_entries(a), _entries(b)):
            out.append((x, r, y))
    return out


def _holds_symbolically(task, mats, kinds, size, time_left):
    mapping = {}
    for m in mats:
        rows, cols = (d.xreplace(size) for d in m.shape)
        if not (rows.is_Integer and cols.is_Integer):
            return None
        mapping[m] = _symbolic_matrix(m, int(rows), int(cols), kinds.get(m, set()))
    try:
        a = instantiate(task.lhs, mapping, size)
        b = instantiate(task.rhs, mapping, size)
    except Exception:  # noqa: BLE001 - an operation SymPy cannot carry out symbolically
        return None
    if a.has(SpectralNorm) or b.has(SpectralNorm):
        return None
    pairs = list(zip(_entries(a), _entries(b)))
    prems = _premise_rels(task) or []
    hyps = _instantiated_premises(prems, mapping, size) if prems else []
    from ..decide import prove_relation
    for x, y in pairs:
        if time_left() <= 0:
            return None
        if task.rel == "=" and algebra.prove_equal(x, y, time_left) is not None:
            continue
        method, _ = prove_relation(x, task.rel, y, hyps, {}, time_left)
        if not method:
            return None
    return True


def _search(task, mats, kinds, sizes, scalars, rng, time_left):
    """(refutation or None, number of instances where the step held)."""
    from .numeric import SPECIAL, value_allowed
    agreeing = 0
    prems = _premise_rels(task)
    for size in sizes:
        for trial in range(10):
            if time_left() <= 0.3 * task.timeout:
                return None, agreeing
            mapping = {}
            for m in mats:
                rows, cols = (d.xreplace(size) for d in m.shape)
                if not (rows.is_Integer and cols.is_Integer):
                    return None, agreeing
                if trial < 2:  # structured first: a half and twice the identity (catch x < sqrt(x) slips)
                    q = sp.Rational(1, 2) if trial == 0 else sp.Integer(2)
                    mapping[m] = sp.ImmutableMatrix(int(rows), int(cols), lambda i, j: q if i == j else 0)
                    continue
                style = STYLES[trial % len(STYLES)]
                scale = sp.Rational(1, rng.choice([2, 3, 10])) if trial % 3 == 1 else sp.Integer(1)
                mapping[m] = _random_matrix(rng, int(rows), int(cols), kinds.get(m, set()), style) * scale
            env = {s: (rng.choice(SPECIAL[:13]) if not s.is_integer else Fraction(rng.randint(1, 4)))
                   for s in scalars}
            env = {s: v for s, v in env.items() if value_allowed(s, v)}
            if len(env) != len(scalars):
                continue
            sub = {s: sp.Rational(v.numerator, v.denominator) for s, v in env.items()}
            if prems is None or not _premises_hold(prems, mapping, size, sub):
                continue  # a counterexample must satisfy every premise
            try:
                conds_ok = _conditions_hold(task, mapping, size, sub)
            except Exception:  # noqa: BLE001
                continue
            if conds_ok is False:
                return _refutation(task, mapping, size, env, "undefined there (a matrix to invert is singular "
                                   "or a root or logarithm is out of its domain)"), agreeing
            if conds_ok is None:
                continue
            try:
                a = instantiate(task.lhs.xreplace(sub), mapping, size)
                b = instantiate(task.rhs.xreplace(sub), mapping, size)
            except Exception:  # noqa: BLE001 - e.g. an operation SymPy refuses
                continue
            held = True
            for x, y in zip(_entries(a), _entries(b)):
                try:
                    ev = Evaluator({}, 256)
                    xv, yv = ev(x), ev(y)
                except (Uncertain, Undefined):
                    held = False
                    break
                d = subtract(yv, xv)
                verdict = relation_holds(task.rel, d)
                if verdict is False:
                    what = f"left side {as_equation(xv)}, right side {as_equation(yv)}"
                    if isinstance(task.lhs, sp.MatrixExpr):
                        what = f"the matrices differ (an entry is {format_value(xv)} on the left, " \
                               f"{format_value(yv)} on the right)"
                    return _refutation(task, mapping, size, env, what), agreeing
                if verdict is None and task.rel in ("<", ">", "!="):
                    held = False  # equal within the enclosure: no evidence for a strict relation
            if held:
                agreeing += 1
    return None, agreeing


def _premises_hold(prems, mapping, size, sub) -> bool:
    try:
        for (x, r, y) in _instantiated_premises([(l.xreplace(sub), rr_r, rr.xreplace(sub)) for (l, rr_r, rr) in prems],
                                                mapping, size):
            if relation_holds(r, difference(x, y, {}, 256)) is not True:
                return False
    except Exception:  # noqa: BLE001 - cannot evaluate: not a usable point
        return False
    return True


def _conditions_hold(task, mapping, size, sub):
    for c in task.conds:
        v = instantiate(c.expr.xreplace(sub), mapping, size)
        try:
            val = Evaluator({}, 256)(v)
        except Undefined:
            return False
        except Uncertain:
            return None
        ok = condition_holds(c.rel, val)
        if ok is None:
            return None
        if not ok:
            return False
    return True


def _refutation(task, mapping, size, env, what):
    values = {str(d): str(v) for d, v in size.items()}
    values.update({m.name: _show_matrix(M) for m, M in mapping.items()})
    values.update({s.name: format_value(v) for s, v in env.items()})
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    smallest = " (sizes are tried from the smallest up)" if size else ""
    return Verdict(REFUTED, "counterexample (exact or certified evaluation of concrete matrices)",
                   f"fails at {shown}{smallest}: {what}", counterexample=values)


def structurally_equal(a, b) -> bool:
    """Equal as expressions: identical, or equal sums in normal form."""
    if a == b:
        return True
    try:
        if isinstance(a, sp.MatrixExpr):
            return bool(sp.simplify(a - b) == sp.ZeroMatrix(*a.shape))
        return sp.expand(normal_form(a) - normal_form(b)) == 0
    except Exception:  # noqa: BLE001
        return False
