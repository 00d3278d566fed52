"""Matrix and vector steps.

Three methods, strongest first:

1. **Sums in normal form** (a proof for every size): traces, products and entries
   are written as finite sums over entries; every sum is normalised (indices
   shifted to start at 0, split over `+`, constant factors pulled out, rectangular
   nests flattened, bound indices named canonically). Each rewrite is an exact
   identity of finite sums, so a difference that vanishes is 0 for all sizes.
   Matrix algebra (inverses, transposes, products kept in order) is used the same
   way. A proof counts only when every domain condition of the step (`inv(A)`
   needs `det(A) != 0`) is proved too: `prove_matrix_condition` knows which
   matrices are invertible (declared `invertible` or `pd`, identities, and
   products, transposes, inverses and powers of such matrices).
2. **Every size up to a bound, symbolic entries**: each free dimension takes the
   values 1..4 (1..3 with three dimensions, 1..2 with more); matrices become
   matrices of symbols (symmetric ones symmetric, psd ones L*L^T with L lower
   triangular, pd ones with a positive diagonal of L); the scalar or entrywise
   relation is then decided exactly. With numeric dimensions this is a proof;
   with symbolic ones it is `checked`, and the report says which sizes. The entry
   symbols are SymPy Dummies: no name in a document can denote them. A size is
   skipped when a *counted* bound says it is too large (entries, determinant and
   inverse sizes, nodes of the instantiated expression), never by the clock.
3. **A fixed set of concrete matrices** at every size of a fixed plan (each
   dimension 1..4, and square and vector shapes up to 8): structured ones (identity
   multiples, all-ones, diagonal patterns, zero), then random ones (integer, rank
   one, diagonal, identity multiples, near singular; psd as L*L^T, invertible ones
   nonsingular). A violation computed exactly, or with certified balls for norms
   and roots, is a counterexample at the smallest size that has one; `checked`
   is said only after the whole plan was tested, and the report says which sizes
   and how many instances. The spectral norm is the square root of the largest
   root of the characteristic polynomial of A^T*A, enclosed by arb.

For an equation of symbolic sizes, 2 and 3 run together, size by size in the
plan's order: at a size of 2 an exact polynomial check (flint; entries and
scalars as polynomial variables, premises that are equations used by exact
division) runs first, and where it holds no instance of that size can fail, so
they are drawn from the random stream (every later instance stays as the plan
fixes it) but not evaluated, unless the step has conditions that are not proved
(an instance could still show it undefined). Where that check cannot tell, the
instances are tested first, then the general symbolic check. A counterexample is
therefore the one the plain search over the plan finds: the same instance at the
same smallest size. The report says which sizes were decided with symbolic
entries and how many instances were tested at the others.

Instances are evaluated by closures compiled once per step (exact rationals and
matrices of flint, arb balls for roots and norms); an expression with a node they
do not take is evaluated the general way (explicit SymPy matrices, `Evaluator`).

No decision here depends on the time left: the work is counted. The wall clock
is only the caller's safety net (`budget.OutOfTime`, never caught here), whose
expiry makes the step `unknown`.
"""
from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import sympy as sp
from flint import arb, fmpq, fmpq_mat
from flint import ctx as _arb_ctx
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from ..evaluate import (MAX_EXACT_BITS, MAX_SUM_TERMS, Evaluator, Uncertain, Undefined, as_equation,
                        condition_holds, difference, format_value, outer_range, relation_holds, spectral_norm,
                        subtract, to_arb)
from ..elaborate import NEEDS_INVERTIBLE, node_count
from ..mathfuncs import SpectralNorm
from ..verdict import CHECKED, PROVED, REFUTED, UNKNOWN, Verdict
from . import algebra

try:  # polynomials over Q (python-flint >= 0.7); without them the general symbolic check decides
    from flint import fmpq_mpoly, fmpq_mpoly_ctx
except ImportError:  # pragma: no cover
    fmpq_mpoly = fmpq_mpoly_ctx = None

MIN_MATRIX_EVIDENCE = 24

# ---- counted bounds (work, not time)
SEARCH_TOP = 8              # concrete matrices are tried at sizes up to 8
SMALL_RANDOM = 4            # random instances per size at the small sizes (every dimension <= 4)
LARGE_RANDOM = 1            # random instances per size at the larger sizes (5..8)
FIXED_RANDOM = 24           # random instances when every size is a number (one size only)
MAX_CONCRETE_DIM = 40       # a fixed dimension beyond this is not instantiated
MAX_CONCRETE_ENTRIES = 1600  # entries of one concrete matrix
MAX_CONCRETE_DET = 12       # det / inv / spectral norm of concrete matrices up to this size
MAX_SYMBOLIC_ENTRIES = 256  # symbolic entries over all matrices of a step at one size
MAX_SYMBOLIC_PRODUCTS = 4096  # scalar multiplications in the step's matrix products at one size
MAX_SYMBOLIC_DET = 4        # det of a symbolic k×k matrix has k! terms
MAX_SYMBOLIC_INV = 3        # inv of a symbolic k×k matrix: rational functions of degree k
MAX_SYMBOLIC_POWER = 6      # A^k with symbolic entries: k - 1 products
MAX_SYMBOLIC_PATHS = 4096   # terms of an entry of a product of symbolic matrices (inner sizes multiplied)
MAX_SYMBOLIC_NODES = 20_000  # nodes of the instantiated sides
MAX_NORMAL_FORM_NODES = 4_000  # nodes of a step given to the sum normal form
MAX_RENAMINGS = 720         # canonical index renamings tried for one sum


def _has_matrix(e) -> bool:
    return isinstance(e, sp.Basic) and e.has(sp.MatrixSymbol, sp.MatrixExpr)


# ------------------------------------------------------- what is known of a matrix
def _square(X) -> bool:
    r, c = X.shape
    try:
        return bool(sp.expand(r - c) == 0)
    except Exception:  # noqa: BLE001
        return False


def _closure(s) -> frozenset:
    s = set(s)
    if {"psd", "invertible"} <= s:
        s.add("pd")  # a nonsingular psd matrix is positive definite
    if "pd" in s:
        s |= {"invertible", "psd"}
    if "psd" in s:
        s.add("symmetric")
    return frozenset(s)


def _scalar_sign(c) -> str | None:
    """'pos', 'nonneg', 'nonzero' or None for a scalar coefficient (numbers and declared signs)."""
    if c.is_positive:
        return "pos"
    if c.is_nonnegative:
        return "nonneg"
    if c.is_nonzero or c.is_negative:
        return "nonzero"
    return None


def matrix_class(X, kinds, invertible=()) -> frozenset:
    """What is known of the matrix expression X: a subset of {"invertible", "pd", "psd",
    "symmetric"}. kinds: MatrixSymbol -> assumption names; invertible: matrix
    expressions known invertible from the premises (`det(X) != 0`).

    Only exact facts are used: a product of square invertible matrices is invertible
    (det(AB) = det(A) det(B)), as are transposes, inverses and powers of invertible
    matrices and nonzero multiples; X^T*X is psd (pd when X is square and
    invertible); sums of psd matrices are psd (pd when one of them is pd)."""
    try:
        return _matrix_class(X, kinds, tuple(invertible))
    except (RecursionError, TypeError, ValueError, AttributeError):
        return frozenset()


def _matrix_class(X, kinds, invertible) -> frozenset:
    if not isinstance(X, sp.MatrixExpr) or not _square(X):
        return frozenset()
    known = set()
    if any(X == Y for Y in invertible):
        known.add("invertible")
    if isinstance(X, sp.MatrixSymbol):
        return _closure(known | set(kinds.get(X, ())))
    if isinstance(X, sp.Identity):
        return _closure({"pd"})
    if isinstance(X, sp.ZeroMatrix):
        return _closure(known | {"psd"})
    if isinstance(X, sp.Transpose):
        return _closure(known | _matrix_class(X.arg, kinds, invertible))
    if isinstance(X, sp.Inverse):
        inner = _matrix_class(X.arg, kinds, invertible)
        if "invertible" not in inner:
            return _closure(known)
        return _closure(known | (inner & {"invertible", "pd", "symmetric"}))
    if isinstance(X, sp.MatPow):
        k = X.exp
        inner = _matrix_class(X.base, kinds, invertible)
        if not k.is_Integer:
            return _closure(known)
        k = int(k)
        if k == 0:
            return _closure({"pd"})
        if k < 0 and "invertible" not in inner:
            return _closure(known)
        out = known | (inner & {"invertible"})
        if "pd" in inner:
            out.add("pd")
        elif "symmetric" in inner:
            out.add("symmetric")
            if k % 2 == 0:
                out.add("pd" if "invertible" in inner else "psd")
            elif "psd" in inner and k > 0:
                out.add("psd")
        return _closure(out)
    if isinstance(X, sp.MatMul):
        coeff, factors = X.as_coeff_matrices()
        sign = _scalar_sign(sp.sympify(coeff))
        if not factors:
            return _closure(known)
        if len(factors) == 1:
            inner = _matrix_class(factors[0], kinds, invertible)
        else:
            inner = _product_class(factors, kinds, invertible)
        out = set(known)
        if sign is not None and "invertible" in inner:
            out.add("invertible")
        if "symmetric" in inner:
            out.add("symmetric")
        if sign == "pos" and "pd" in inner:
            out.add("pd")
        elif sign in ("pos", "nonneg") and "psd" in inner:
            out.add("psd")
        return _closure(out)
    if isinstance(X, sp.MatAdd):
        parts = [_matrix_class(a, kinds, invertible) for a in X.args]
        out = set(known)
        if all("symmetric" in p for p in parts):
            out.add("symmetric")
        if all("psd" in p for p in parts):
            out.add("pd" if any("pd" in p for p in parts) else "psd")
        return _closure(out)
    return _closure(known)


def _product_class(factors, kinds, invertible) -> frozenset:
    out = set()
    if all(_square(f) for f in factors):
        classes = [_matrix_class(f, kinds, invertible) for f in factors]
        if all("invertible" in c for c in classes):
            out.add("invertible")
    # Y^T * Y and Y * Y^T (also Y^T * P * Y with P psd): psd; pd when Y is square and invertible
    if len(factors) in (2, 3):
        first, last = factors[0], factors[-1]
        mirrored = (first == last.T) or (last == first.T)
        middle = _matrix_class(factors[1], kinds, invertible) if len(factors) == 3 else _closure({"pd"})
        if mirrored and "psd" in middle:
            out.add("psd")
            end = last if len(factors) == 3 or first == last.T else first
            if "pd" in middle and _square(end) and "invertible" in _matrix_class(end, kinds, invertible):
                out.add("pd")
    return _closure(out)


# --------------------------------------------------- conditions that mention matrices
def _premise_invertibles(premises) -> list:
    """Matrix expressions X with a premise det(X) != 0 (or > 0, < 0)."""
    out = []
    for p in premises or ():
        if not (isinstance(p, tuple) and len(p) == 3):
            continue
        l, r, rr = p
        if r not in ("!=", "<", ">"):
            continue
        for a, b in ((l, rr), (rr, l)):
            if isinstance(a, sp.Determinant) and isinstance(b, sp.Basic) and b == 0:
                out.append(a.arg)
    return out


def _abstract(expr, kinds, invertible, table):
    """expr with every matrix-valued atom (det, trace, entry) replaced by a real Dummy
    carrying what is known of its sign; None if some atom depends on a bound index
    (a sum over entries: the abstraction would not be sound)."""
    def atom(x):
        if x in table:
            return table[x]
        kw = {"real": True}
        if isinstance(x, (sp.Determinant, sp.Trace)):
            c = matrix_class(x.arg, kinds, invertible)
            if "pd" in c:
                kw["positive"] = True
            elif "psd" in c:
                kw["nonnegative"] = True
            if isinstance(x, sp.Determinant) and "invertible" in c and "pd" not in c:
                kw["nonzero"] = True
        elif isinstance(x, MatrixElement) and x.i == x.j:
            c = matrix_class(x.parent, kinds, invertible)
            if "pd" in c:
                kw["positive"] = True
            elif "psd" in c:
                kw["nonnegative"] = True
        # a name no document can write (brackets), distinct objects for distinct atoms
        table[x] = sp.Dummy(f"[{sp.sstr(x)}]", **kw)
        return table[x]

    bad = []

    def visit(e):
        if isinstance(e, (sp.Determinant, sp.Trace, MatrixElement)):
            return atom(e)
        if isinstance(e, sp.MatrixExpr):
            bad.append(e)
            return e
        if not e.args:
            return e
        if isinstance(e, (sp.Sum, sp.Product)) and _has_matrix(e):
            return _abstract_bigop(e, kinds, invertible, table)
        return e.func(*[visit(a) for a in e.args])

    try:
        out = visit(expr)
    except Exception:  # noqa: BLE001
        return None
    if bad or _has_matrix(out):
        return None
    return out


def _bare_matrix(e) -> bool:
    """Does e have a matrix outside det, trace, entries and sums over entries (norm_2(A), say)?
    Then _abstract(e, ...) is None: this finds it without abstracting (and proving signs of) the
    rest first."""
    if isinstance(e, (sp.Determinant, sp.Trace, MatrixElement)):
        return False
    if isinstance(e, sp.MatrixExpr):
        return True
    if not e.args or (isinstance(e, (sp.Sum, sp.Product)) and _has_matrix(e)):
        return False
    return any(_bare_matrix(a) for a in e.args)


def _abstract_bigop(e, kinds, invertible, table):
    """A sum or product over entries as one real unknown (a closed term: sound), carrying the
    sign proved for its body at every index (with the body's own atoms abstracted, which is
    sound for each fixed index) and a range that cannot run backwards."""
    from . import bounds
    if e in table:
        return table[e]
    kw = {"real": True}
    body = _abstract(e.function, kinds, invertible, {})
    if body is not None and isinstance(e, sp.Sum):
        counts = [sp.expand(hi - lo + 1) for (_, lo, hi) in e.limits]
        try:
            forward = all(bounds.prove_sign(c, ">=", {}) is not None for c in counts)
            nonempty = all(bounds.prove_sign(c, ">", {}) is not None for c in counts)
        except Exception:  # noqa: BLE001
            forward = nonempty = False
        if forward and not any(c.has(l[0]) for c in counts for l in e.limits):
            if nonempty and _prove_scalar(body, ">", (), kinds, invertible, {}):
                kw["positive"] = True
            elif _prove_scalar(body, ">=", (), kinds, invertible, {}):
                kw["nonnegative"] = True
    table[e] = sp.Dummy(f"[{sp.sstr(e)}]", **kw)
    return table[e]


def _determinants_split(e):
    """det(A*B) = det(A)*det(B) (square factors), det(inv(A)) = 1/det(A), det(A^T) = det(A):
    SymPy's own rules, which it applies only where they are exact."""
    for _ in range(3):
        if not e.has(sp.Determinant):
            break
        new = e.replace(lambda x: isinstance(x, sp.Determinant), lambda x: x.doit())
        if new == e:
            break
        e = new
    return e


def prove_matrix_condition(cond, *args, premises=(), time_left=None) -> bool:
    """A sound proof that a domain condition `expr rel 0` holds wherever the
    declarations (and the premises) hold, for conditions that mention matrices,
    e.g. `det(A) != 0` for `inv(A)`.

    Call as prove_matrix_condition(cond, matrix_kinds) with an elaborate.Condition,
    or prove_matrix_condition(expr, rel, matrix_kinds). matrix_kinds maps a
    MatrixSymbol to its assumption names ("invertible", "pd", "psd", "symmetric");
    premises are ground (lhs, rel, rhs) tuples; a premise `det(X) != 0` makes X
    invertible. Matrices are abstracted soundly: det, trace and entries become real
    unknowns that carry only their proved signs (det of an invertible matrix is
    nonzero, of a pd matrix positive, of a psd one nonnegative)."""
    if len(args) >= 2:
        expr, rel, kinds = cond, args[0], args[1]
    else:
        expr, rel = cond.expr, cond.rel
        kinds = args[0] if args else {}
    kinds = {m: tuple(k) for m, k in (kinds or {}).items()}
    if rel not in ("!=", ">", ">="):
        return False
    if not isinstance(expr, sp.Basic):
        return False
    if expr.is_Number:
        return bool({"!=": expr != 0, ">": expr > 0, ">=": expr >= 0}[rel])
    invertible = _premise_invertibles(premises)
    tried = []
    for form in (expr, _safe(_determinants_split, expr)):
        if form is None or form in tried or _bare_matrix(form):
            continue  # the same form again would get the same answer; _abstract would give None
        tried.append(form)
        table = {}
        a = _abstract(form, kinds, invertible, table)
        if a is None:
            continue
        if _prove_scalar(a, rel, premises, kinds, invertible, table):
            return True
    return False


def _safe(f, *a):
    try:
        return f(*a)
    except Exception:  # noqa: BLE001
        return None


def _prove_scalar(a, rel, premises, kinds, invertible, table) -> bool:
    from . import bounds
    if a.is_Number:
        return bool({"!=": a != 0, ">": a > 0, ">=": a >= 0}[rel])
    try:
        if bounds.prove_sign(a, rel, {}) is not None:
            return True
    except Exception:  # noqa: BLE001
        pass
    hyps = []
    for p in premises or ():
        if not (isinstance(p, tuple) and len(p) == 3):
            continue
        l, r, rr = p
        if isinstance(l, sp.MatrixExpr) or isinstance(rr, sp.MatrixExpr):
            continue
        al = _abstract(l, kinds, invertible, table) if isinstance(l, sp.Basic) else l
        ar = _abstract(rr, kinds, invertible, table) if isinstance(rr, sp.Basic) else rr
        if al is None or ar is None:
            continue
        hyps.append((al, r, ar))
    # the atoms' known signs as hypotheses too (Z3 sees only real variables)
    for d in sorted(table.values(), key=lambda s: s.name):
        if d.is_positive:
            hyps.append((d, ">", sp.Integer(0)))
        elif d.is_nonnegative:
            hyps.append((d, ">=", sp.Integer(0)))
        elif d.is_nonzero:
            hyps.append((d, "!=", sp.Integer(0)))
    try:
        from .. import budget
        from . import realarith
        r = realarith.z3_decide(a, rel, sp.Integer(0), hyps, {}, budget.Z3_RLIMIT_SMALL)
    except Exception:  # noqa: BLE001 - an expression Z3 cannot take
        return False
    return bool(r and r[0] == "proved")


def conditions_proved(task, prems, time_left=None) -> bool:
    """Every domain condition of the step, proved (matrix ones by prove_matrix_condition,
    scalar ones by the scalar provers, both from the declarations and premises)."""
    from ..decide import prove_condition
    kinds = task.matrix_kinds or {}
    clock = time_left or (lambda: 1.0)
    for c in task.conds:
        e = c.expr
        if isinstance(e, sp.Basic) and e.is_Number:
            if not {"!=": e != 0, ">": e > 0, ">=": e >= 0}.get(c.rel, False):
                return False
            continue
        if _has_matrix(e):
            if not prove_matrix_condition(c, kinds, premises=prems):
                return False
            continue
        try:
            if not prove_condition(c, prems, {}, clock):
                return False
        except Exception:  # noqa: BLE001 - a condition the scalar provers cannot take
            return False
    return True


# ------------------------------------------------------------ sum normal form
_IDX = "_k"


class _TooLarge(Exception):
    """A counted bound of the normal form was exceeded."""


def _substitute(e, mapping: dict):
    """e with each symbol of `mapping` replaced where it is free: a Sum or Product that
    binds the symbol keeps its own inside (shadowing), and one that binds a symbol of
    a replacement has that index renamed first, so nothing is captured. (xreplace
    replaces bound indices too: Sum(v[j]*Sum(A[k, j], k), j) renamed j -> k became a
    sum over A[k, k].)"""
    if not mapping or not isinstance(e, sp.Basic):
        return e
    if isinstance(e, (sp.Sum, sp.Product)):
        body, limits = e.function, list(e.limits)
        incoming = set().union(*(t.free_symbols for t in mapping.values()))
        for k, (v, lo, hi) in enumerate(limits):
            if v in incoming:  # rename this index first: a replacement mentions it
                fresh = sp.Dummy(v.name, **v.assumptions0)
                body = _substitute(body, {v: fresh})
                # limits are listed innermost first: the ends of the inner ones (m < k)
                # are read where this index is bound
                limits = [(w, _substitute(a, {v: fresh}), _substitute(b, {v: fresh})) if m < k else (w, a, b)
                          for m, (w, a, b) in enumerate(limits)]
                limits[k] = (fresh, lo, hi)
        new_limits = []
        for k, (v, lo, hi) in enumerate(limits):
            # a limit's ends are read where the indices of the later (outer) limits are bound
            outer = {w for w, _, _ in limits[k + 1:]}
            m = {x: t for x, t in mapping.items() if x not in outer}
            new_limits.append((v, _substitute(lo, m), _substitute(hi, m)))
        inner = {x: t for x, t in mapping.items() if x not in {w for w, _, _ in limits}}
        return e.func(_substitute(body, inner), *new_limits)
    if not e.args:
        return mapping.get(e, e)
    if not (e.free_symbols & set(mapping)):
        return e
    return e.func(*[_substitute(a, mapping) for a in e.args])


def _shift_limits(s):
    """Sum with every index running from 0, limits independent of each other, or None."""
    body = s.function
    limits = []
    indices = [l[0] for l in s.limits]
    for (i, lo, hi) in s.limits:
        if (lo.free_symbols | hi.free_symbols) & set(indices):
            return None
        j = sp.Dummy("j", integer=True)
        body = _substitute(body, {i: j + lo})
        limits.append((j, sp.Integer(0), sp.expand(hi - lo)))
    return body, limits


def _canonical_sum(body, limits):
    """One Sum, indices renamed canonically (the smallest form over renamings of equal ranges)."""
    best = None
    order = sorted(range(len(limits)), key=lambda k: sp.default_sort_key(limits[k][2]))
    groups = [list(g) for _, g in itertools.groupby(order, key=lambda k: sp.default_sort_key(limits[k][2]))]
    renamings = 1
    for g in groups:
        for k in range(2, len(g) + 1):
            renamings *= k
    if renamings > MAX_RENAMINGS:
        raise _TooLarge()
    # names after those of the sums inside (already in normal form): no index is shadowed
    inner = [int(v.name[len(_IDX):]) for x in sp.preorder_traversal(body) if isinstance(x, (sp.Sum, sp.Product))
             for v, _, _ in x.limits if v.name.startswith(_IDX) and v.name[len(_IDX):].isdigit()]
    first = max(inner) + 1 if inner else 0
    for perm in itertools.product(*[itertools.permutations(g) for g in groups]):
        flat = [k for g in perm for k in g]
        names = {limits[k][0]: sp.Symbol(f"{_IDX}{pos + first}", integer=True, nonnegative=True)
                 for pos, k in enumerate(flat)}
        new_body = _substitute(body, names)
        new_limits = [(names[limits[k][0]], sp.Integer(0), limits[k][2]) for k in flat]
        cand = sp.Sum(new_body, *new_limits)
        key = sp.default_sort_key(cand)
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1]


MAX_JOINED_INDICES = 5  # indices of a sum made by joining inner sums to it (a counted bound)


def _absorbable(f, indices, outer: int) -> bool:
    """Is f a sum that should join the sum around it (`outer` indices): its body uses an
    outer index (a sum that does not is a constant factor, and stays one: Σ_i v_i Σ_j v_j
    is (Σ v)^2), its ranges mention neither the outer indices nor each other's, and
    the joined sum stays within MAX_JOINED_INDICES?"""
    if not isinstance(f, sp.Sum) or any(len(lim) != 3 for lim in f.limits):
        return False
    if not (f.free_symbols & indices) or outer + len(f.limits) > MAX_JOINED_INDICES:
        return False
    own = {v for v, _, _ in f.limits}
    return not any((lo.free_symbols | hi.free_symbols) & (indices | own) for _, lo, hi in f.limits)


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
        factors = sp.Mul.make_args(term)
        inner, left = None, sp.Integer(1)
        for f in factors:
            if _absorbable(f, indices, len(limits)):
                inner = f
            elif isinstance(f, sp.Pow) and f.exp == 2 and _absorbable(f.base, indices, len(limits)):
                inner, left = f.base, f.base  # one copy now, the other in turn
            if inner is not None:
                break
        if inner is not None:
            # u[i]*sum(j, A[i, j]*v[j]) summed over i is one sum over i and j (finite
            # sums, ranges independent of each other): its indices renamed apart first
            fresh = {v: sp.Dummy("j", integer=True) for v, _, _ in inner.limits}
            rest = left * sp.Mul(*[g for g in factors if g is not f])
            out += _normal_sum(sp.Sum(rest * _substitute(inner.function, fresh),
                                      *([(fresh[v], lo, hi) for v, lo, hi in inner.limits] + limits)))
            continue
        const, dep = [], []
        for f in factors:
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
    cancelling M*inv(M) (the inverse exists wherever the step is defined: the step's
    conditions `det(M) != 0` are proved before any proof counts)."""
    arg = t.arg
    if isinstance(arg, sp.MatMul):
        arg = arg.doit(deep=False)  # flatten (Q*L)*inv(Q) into Q*L*inv(Q)
    if isinstance(arg, sp.Identity):  # inv(P)*P
        return arg.shape[0]
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


MAX_EXPANDED_PRODUCTS = 64  # products when a trace's argument is multiplied out


def _product_terms(x, limit: int = MAX_EXPANDED_PRODUCTS):
    """x as [(scalar, [matrix factors in order])]: products of sums and integer powers
    multiplied out, the order of factors kept (matrices do not commute; A^2*B gives
    [A, A, B]). None when that makes more than `limit` products or factors (a counted
    bound)."""
    if isinstance(x, sp.MatAdd):
        out = []
        for a in x.args:
            t = _product_terms(a, limit)
            if t is None or len(out) + len(t) > limit:
                return None
            out += t
        return out
    if isinstance(x, sp.MatMul):
        coeff, factors = x.as_coeff_matrices()
        out = [(coeff, [])]
        for f in factors:
            t = _product_terms(f, limit)
            if t is None or len(out) * len(t) > limit:
                return None
            out = [(c1 * c2, f1 + f2) for c1, f1 in out for c2, f2 in t]
        return out if all(len(f) <= limit for _, f in out) else None
    if isinstance(x, sp.MatPow) and x.exp.is_Integer and 1 < x.exp <= limit:
        base = _product_terms(x.base, limit)
        if base is None or len(base) ** int(x.exp) > limit:
            return None
        out = [(sp.Integer(1), [])]
        for _ in range(int(x.exp)):
            out = [(c1 * c2, f1 + f2) for c1, f1 in out for c2, f2 in base]
        return out if all(len(f) <= limit for _, f in out) else None
    if isinstance(x, sp.MatPow) and x.exp.is_Integer and x.exp > limit:
        return None  # A^65: more factors than the bound
    if isinstance(x, sp.Transpose) and isinstance(x.arg, (sp.MatAdd, sp.MatMul, sp.MatPow)):
        y = x.doit(deep=False)  # (X + Y)^T = X^T + Y^T, (X*Y)^T = Y^T*X^T
        if not isinstance(y, sp.Transpose):
            return _product_terms(y, limit)
    return [(sp.Integer(1), [x])]


def _canonical_trace(c, factors):
    """c*trace(F1*...*Fk), its factors rotated to the least rotation (the trace of a
    product is the same for every cyclic rotation of its factors: trace(A*B*A) =
    trace(A^2*B)), identities dropped and powers combined after."""
    prod = sp.MatMul(*factors).doit() if len(factors) > 1 else factors[0]
    if isinstance(prod, sp.Identity):
        return c * prod.rows
    if isinstance(prod, sp.ZeroMatrix):
        return sp.Integer(0)
    terms = _product_terms(prod)
    if terms is None or len(terms) != 1 or len(terms[0][1]) < 2:
        return c * sp.Trace(prod)
    coeff, fs = terms[0]  # a scalar factor comes out of the trace
    c = c * coeff
    keys = [sp.default_sort_key(f) for f in fs]
    k = min(range(len(fs)), key=lambda r: keys[r:] + keys[:r])
    rot = fs[k:] + fs[:k]
    return c * sp.Trace(sp.MatMul(*rot).doit())


def _trace_multiplied_out(t):
    """trace((A - I)^2) = trace(A^2) - 2*trace(A) + n: the argument multiplied out
    (the order of factors kept), the trace taken term by term (it is linear), each
    product rotated to one canonical cyclic order. The entry sums of a power of a
    sum cost SymPy seconds to normalise; those of a plain product do not. Unchanged
    when there is too much to multiply out."""
    arg = t.arg
    if not isinstance(arg, (sp.MatMul, sp.MatPow, sp.MatAdd, sp.Transpose)):
        return t
    terms = _product_terms(arg)
    if terms is None:
        return t
    return sp.Add(*[_canonical_trace(c, f) for c, f in terms])


MAX_TRACE_WORK = 24  # counted work of turning a step's traces into sums (see trace_work)


def _trace_work(arg) -> int:
    """The work of writing trace(arg) as sums over entries, counted by its factors: SymPy
    takes up to 0.05 s for a product of up to 3 factors, 0.1 s for 4, 0.2 s for 5, and
    0.8 to 1.6 s for 6 (beyond the bound: such a step is left to the other methods)."""
    terms = _product_terms(arg)
    if terms is None:
        return MAX_TRACE_WORK + 1
    return sum({0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 4}.get(len(f), MAX_TRACE_WORK + 1) for _, f in terms)


def trace_work(*exprs) -> int:
    """The counted work of the traces of these expressions, already multiplied out and
    rotated (traces_rotated); equal traces count once."""
    traces = set()
    for e in exprs:
        if isinstance(e, sp.Basic) and e.has(sp.Trace):
            traces |= e.atoms(sp.Trace)
    return sum(_trace_work(t.arg) for t in traces)


def traces_rotated(e):
    """e with every trace multiplied out and each product in its canonical cyclic order."""
    if not isinstance(e, sp.Basic) or not e.has(sp.Trace):
        return e
    return e.replace(lambda x: isinstance(x, sp.Trace), _trace_multiplied_out)


def _trace_as_sum(t):
    """trace(X) as the sum of X's diagonal entries. SymPy's rewrite(Sum) also calls
    doit(), which tries to find closed forms of the entry sums over symbolic ranges (a
    quarter of all matrix time, and never one found here); only a Kronecker delta
    (from an identity) is worth carrying out."""
    X = t.arg
    i = sp.Dummy("i", integer=True)
    s = sp.Sum(X[i, i], (i, 0, X.shape[0] - 1))
    return s.doit() if s.has(sp.KroneckerDelta) else s


def normal_form(e):
    """Traces and matrix products as sums over entries, every sum normalised. Raises
    _TooLarge when the traces would cost more than MAX_TRACE_WORK (a counted bound)."""
    if not isinstance(e, sp.Basic):
        return e
    if e.has(sp.Trace):
        e = traces_rotated(e)
        if trace_work(e) > MAX_TRACE_WORK:
            raise _TooLarge()
    if e.has(sp.Inverse) and e.has(sp.Trace):
        e = e.replace(lambda x: isinstance(x, sp.Trace), _cyclic_trace)
    e = _determinants_split(e)  # det(A*B) = det(A)*det(B), det(A^-1) = 1/det(A), det(A^T) = det(A)
    if e.has(sp.Trace):
        e = e.replace(lambda x: isinstance(x, sp.Trace), _trace_as_sum)
    e = e.replace(lambda x: isinstance(x, sp.Sum), _normal_sum)
    return sp.expand(e)


def prove_equal_by_sums(lhs, rhs):
    try:
        d = normal_form(lhs) - normal_form(rhs)
    except Exception:  # noqa: BLE001 - an expression we cannot rewrite (or too many renamings)
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


def _small_top(dims) -> int:
    return 4 if len(dims) <= 2 else 3 if len(dims) == 3 else 2


def size_assignments(dims):
    """The sizes where the step is decided with symbolic entries: every dimension 1..top."""
    top = _small_top(dims)
    combos = list(itertools.product(range(1, top + 1), repeat=len(dims)))
    combos.sort(key=lambda c: (sum(c), c))
    return [dict(zip(dims, map(sp.Integer, c))) for c in combos], top


def search_plan(dims):
    """The fixed plan of concrete sizes: [(size, random instances)], smallest first.

    Every dimension 1..top (top = 4 with up to two dimensions); then for each
    k = top+1..SEARCH_TOP the square case (every dimension k) and, with several
    dimensions, each dimension k with the others 1. Structured matrices are tried
    at every size of the plan, random ones SMALL_RANDOM / LARGE_RANDOM times."""
    if not dims:
        return [({}, FIXED_RANDOM)]  # the declared sizes only: more random instances there
    top = _small_top(dims)
    combos = {c: SMALL_RANDOM for c in itertools.product(range(1, top + 1), repeat=len(dims))}
    if dims:
        for k in range(top + 1, SEARCH_TOP + 1):
            combos.setdefault(tuple([k] * len(dims)), LARGE_RANDOM)
            if len(dims) > 1:
                for pos in range(len(dims)):
                    combos.setdefault(tuple(k if q == pos else 1 for q in range(len(dims))), LARGE_RANDOM)
    order = sorted(combos, key=lambda c: (sum(c), c))
    return [(dict(zip(dims, map(sp.Integer, c))), combos[c]) for c in order]


def _plan_text(dims) -> str:
    """The sizes of search_plan(dims), as the report shows them."""
    top = _small_top(dims)
    if not dims:
        return "the declared sizes"
    names = ", ".join(str(d) for d in dims)
    if len(dims) == 1:
        return f"{names} = 1..{SEARCH_TOP}"
    k = next(c for c in "kspqrtuvw" if c not in {str(d) for d in dims})
    ks = ["(" + ", ".join([k] * len(dims)) + ")"]
    ks += ["(" + ", ".join(k if q == pos else "1" for q in range(len(dims))) + ")" for pos in range(len(dims))]
    return f"({names}) in {' × '.join([f'1..{top}'] * len(dims))} and {', '.join(ks)} for {k} = {top + 1}..{SEARCH_TOP}"


def _entry(label):
    # a Dummy: equal only to itself, so no scalar of the document (`B12`) and no other
    # entry (A[1, 11] vs A[11, 1]) can be confused with it; the brackets keep its name,
    # which solvers see, apart from every name a document can declare
    return sp.Dummy(label, real=True)


def _symbolic_matrix(m, rows, cols, kinds):
    """A matrix of fresh entry symbols, created row by row (a deterministic order)."""
    name = m.name
    if kinds & {"psd", "pd"}:
        L = sp.zeros(rows, rows)
        for i in range(rows):
            for j in range(i + 1):
                label = f"{name}.L[{i + 1},{j + 1}]"
                if i == j and "pd" in kinds:
                    L[i, j] = sp.Dummy(label, positive=True)
                else:
                    L[i, j] = _entry(label)
        return sp.ImmutableMatrix(L * L.T)
    if "symmetric" in kinds:
        cells = {}
        for i in range(rows):
            for j in range(i, cols):
                cells[(i, j)] = _entry(f"{name}[{i + 1},{j + 1}]")
        return sp.ImmutableMatrix(rows, cols, lambda i, j: cells[(min(i, j), max(i, j))])
    cells = [[_entry(f"{name}[{i + 1},{j + 1}]") for j in range(cols)] for i in range(rows)]
    return sp.ImmutableMatrix(cells) if rows and cols else sp.ImmutableMatrix(sp.zeros(rows, cols))


def _doit_keeping_bigops(e):
    """e.doit(), except for the sums and products still in e: their ranges may run
    backwards (`sum(i = 1..m, 1)` with m an integer of either sign), where SymPy's
    doit reads them by its own convention (Karr's: -1 for m = -1) and the language
    reads them as empty (0). They stay as they are."""
    if not e.has(sp.Sum, sp.Product):
        return e.doit()
    keep: dict = {}
    hidden = _opaque_bigops(e, keep)
    return hidden.doit().xreplace({d: x for x, d in keep.items()})


def _opaque_bigops(e, table: dict):
    """e with each outermost sum or product replaced by a fresh unknown (the same one
    for equal sums: `table`), entrywise for an explicit matrix."""
    if isinstance(e, sp.MatrixBase):
        return e.applyfunc(lambda x: _opaque_bigops(x, table))
    if not isinstance(e, sp.Basic) or not e.has(sp.Sum, sp.Product):
        return e
    if isinstance(e, (sp.Sum, sp.Product)):
        if e not in table:
            table[e] = sp.Dummy("bigop", real=True)
        return table[e]
    return e.func(*[_opaque_bigops(x, table) for x in e.args])


def instantiate(e, mapping, sizes):
    """Substitute sizes and explicit matrices, carry out the matrix operations.

    Sums are expanded while the matrices are still symbols (an explicit matrix
    cannot be indexed by a symbolic index), then the matrices are substituted."""
    if not isinstance(e, sp.Basic):
        return e
    e = e.xreplace(sizes)
    if e.has(sp.Sum, sp.Product):
        from ..decide import _prepare_bigops  # term by term, innermost first, where that is exact
        e = _prepare_bigops(e)
    e = e.xreplace({m.xreplace(sizes): M for m, M in mapping.items()})
    e = _doit_keeping_bigops(e)
    if isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.ImmutableMatrix):
        e = e.as_explicit()
    return e


def _entries(e):
    if isinstance(e, sp.MatrixBase):
        return list(e)
    return [e]


def _shapes_at(exprs, size):
    """(matrix shapes, shapes of det/inv/spectral-norm arguments, largest power) at a size,
    or None when some shape is not a number there."""
    mats, squares, power = [], [], 1
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for x in sp.preorder_traversal(e):
            shape = None
            if isinstance(x, sp.MatrixSymbol):
                mats.append(tuple(d.xreplace(size) for d in x.shape))
            elif isinstance(x, (sp.Determinant, sp.Inverse)):
                shape = x.arg.shape
            elif isinstance(x, SpectralNorm):
                shape = x.args[0].shape
            elif isinstance(x, sp.MatPow) and x.exp.is_Integer:
                power = max(power, abs(int(x.exp)))
                if int(x.exp) < 0:
                    shape = x.base.shape
            if shape is not None:
                squares.append(tuple(d.xreplace(size) for d in shape))
    for shape in mats + squares:
        if not all(isinstance(d, sp.Basic) and d.is_Integer for d in shape):
            return None
    return ([tuple(int(d) for d in s) for s in mats], [tuple(int(d) for d in s) for s in squares], power)


def concrete_size_ok(exprs, size) -> bool:
    """A counted bound: may concrete matrices be computed with at this size?"""
    shapes = _shapes_at(exprs, size)
    if shapes is None:
        return False
    mats, squares, _ = shapes
    if any(max(s) > MAX_CONCRETE_DIM or s[0] * s[1] > MAX_CONCRETE_ENTRIES for s in mats):
        return False
    return all(max(s) <= MAX_CONCRETE_DET for s in squares)


def _flat_factors(x) -> list:
    """The matrix factors of a product, nested products and whole powers written out."""
    if isinstance(x, sp.MatMul):
        return [g for f in x.args if isinstance(f, sp.MatrixExpr) for g in _flat_factors(f)]
    if isinstance(x, sp.MatPow) and x.exp.is_Integer and 1 < x.exp <= MAX_EXPANDED_PRODUCTS:
        return _flat_factors(x.base) * int(x.exp)
    return [x]


def symbolic_size_ok(exprs, size) -> bool:
    """A counted bound: may symbolic entries be used at this size?"""
    shapes = _shapes_at(exprs, size)
    if shapes is None:
        return False
    mats, squares, power = shapes
    if sum(r * c for r, c in set(mats)) > MAX_SYMBOLIC_ENTRIES:
        return False
    products = 0
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for x in sp.preorder_traversal(e):
            if isinstance(x, sp.MatMul):
                factors = [f for f in x.args if isinstance(f, sp.MatrixExpr)]
                # an entry of a product sums over every path through the inner indices:
                # as many terms as the product of the inner sizes (2^65 for 66 factors of
                # 2x2), counted on the product with nested products flattened
                chain = _flat_factors(x)
                paths = 1
                for f in chain[:-1]:
                    inner = f.shape[1].xreplace(size)
                    paths *= int(inner) if inner.is_Integer else 10 ** 6
                    if paths > MAX_SYMBOLIC_PATHS:
                        return False
                for f, g in zip(factors, factors[1:]):
                    r, k, c = (int(d.xreplace(size)) if d.xreplace(size).is_Integer else 10 ** 6
                               for d in (f.shape[0], f.shape[1], g.shape[1]))
                    products += r * k * c
                if products > MAX_SYMBOLIC_PRODUCTS:
                    return False
            elif isinstance(x, sp.MatPow) and x.exp.is_Integer:
                k = x.base.shape[0].xreplace(size)
                products += (int(k) ** 3 if k.is_Integer else 10 ** 6) * min(abs(int(x.exp)), MAX_SYMBOLIC_POWER + 1)
                if products > MAX_SYMBOLIC_PRODUCTS:
                    return False
            if isinstance(x, (sp.Determinant, sp.Inverse)):
                k = x.arg.shape[0].xreplace(size)
                if int(k) > (MAX_SYMBOLIC_DET if isinstance(x, sp.Determinant) else MAX_SYMBOLIC_INV):
                    return False
            elif isinstance(x, sp.MatPow) and x.exp.is_Integer and int(x.exp) < 0:
                if int(x.base.shape[0].xreplace(size)) > MAX_SYMBOLIC_INV:
                    return False
    return power <= MAX_SYMBOLIC_POWER or all(max(s) <= 1 for s in mats)


# ------------------------------------------------------------ concrete matrices
def _sympy_matrix(M: fmpq_mat):
    r, c = M.nrows(), M.ncols()
    if not (r and c):
        return sp.ImmutableMatrix(sp.zeros(r, c))
    return sp.ImmutableMatrix(r, c, [sp.Rational(int(x.p), int(x.q)) for x in M.entries()])


def _eye(n) -> fmpq_mat:
    return _ExactOps.identity(n)


def _nonsingular(M: fmpq_mat) -> fmpq_mat:
    """M + k*I for the smallest k >= 0 that makes it invertible (at most n + 1 tries), exactly."""
    n = M.nrows()
    for _ in range(n + 2):
        if M.det() != 0:
            return M
        M = M + _eye(n)
    return _eye(n)  # pragma: no cover - some shift among n + 1 is nonsingular


def _random_matrix(rng, rows, cols, kinds, style) -> fmpq_mat:
    """A random matrix of the declared kind in this style. The draws from rng (their number
    and order) are part of the fixed plan: every instance after this one depends on them."""
    def r():
        return rng.randint(-4, 4)
    if kinds & {"psd", "pd"}:
        n = rows
        if style == "rank one":
            u = [r() for _ in range(n)]
            M = fmpq_mat(n, n, [u[i] * u[j] for i in range(n) for j in range(n)])
        elif style == "identity":
            M = _eye(n) * rng.randint(0, 3)
        else:
            L = fmpq_mat([[r() if j <= i else 0 for j in range(n)] for i in range(n)])
            M = L * L.transpose()
        if "pd" in kinds:
            num = rng.randint(1, 4)
            M = M + _eye(n) * fmpq(num, rng.choice([1, 10, 100]))
        return M
    if "symmetric" in kinds:
        cells = [[0] * rows for _ in range(rows)]
        for i in range(rows):
            for j in range(i, rows):
                cells[i][j] = cells[j][i] = r()
        M = fmpq_mat(cells)
        return _nonsingular(M) if "invertible" in kinds else M
    if style == "rank one":
        u = [r() for _ in range(rows)]
        v = [r() for _ in range(cols)]
        M = fmpq_mat(rows, cols, [u[i] * v[j] for i in range(rows) for j in range(cols)])
    elif style == "diagonal":
        M = fmpq_mat(rows, cols, [r() if i == j else 0 for i in range(rows) for j in range(cols)])
    elif style == "identity":
        k = rng.randint(-3, 3)
        M = fmpq_mat(rows, cols, [k if i == j else 0 for i in range(rows) for j in range(cols)])
    elif style == "near singular" and rows == cols and rows > 1:
        cells = [r() for _ in range(rows * cols)]
        M = fmpq_mat(rows, cols, cells)
        for j in range(cols):
            M[rows - 1, j] = M[0, j] + fmpq(rng.choice([0, 1]), 1000)
    else:
        M = fmpq_mat(rows, cols, [r() for _ in range(rows * cols)])
    return _nonsingular(M) if "invertible" in kinds else M


STYLES = ["integer", "rank one", "integer", "diagonal", "identity", "integer", "near singular"]

# structured matrices: cheap at any size, and the extreme cases of many inequalities
# (identity: trace(A)^2 = n*norm_F(A)^2; all-ones: rank one with equal entries)
STRUCTURED = ["half identity", "twice identity", "all-ones", "diagonal 1..k", "alternating diagonal", "zero",
              "minus identity", "shift"]


def _structured_matrix(style, rows, cols, kinds):
    """The structured matrix of this style (exact, flint), or None when it is not of the declared kind."""
    k = min(rows, cols)
    pd = "pd" in kinds
    psd = pd or "psd" in kinds
    inv = pd or "invertible" in kinds

    def diag(values):
        return fmpq_mat(rows, cols, [values[i] if i == j else 0 for i in range(rows) for j in range(cols)])
    if style == "half identity":
        return diag([fmpq(1, 2)] * k)
    if style == "twice identity":
        return diag([2] * k)
    if style == "identity":
        return diag([1] * k)
    if style == "all-ones":
        J = fmpq_mat(rows, cols, [1] * (rows * cols))
        if pd or (inv and rows > 1):
            J = J + _eye(rows)  # eigenvalues rows + 1 and 1
        return J
    if style == "diagonal 1..k":
        return diag([q + 1 for q in range(k)])
    if style == "alternating diagonal":
        if psd:
            return None if pd else diag([q % 2 for q in range(k)])
        return diag([(q + 1) * (-1) ** q for q in range(k)])
    if style == "zero":
        return None if inv else fmpq_mat(rows, cols)
    if style == "minus identity":
        return None if psd else diag([-1] * k)
    if style == "shift":  # ones just above the diagonal: not symmetric, nilpotent (I + shift if invertible)
        if psd or "symmetric" in kinds:
            return None
        return fmpq_mat(rows, cols, [1 if j == i + 1 or (inv and i == j) else 0
                                     for i in range(rows) for j in range(cols)])
    return None  # pragma: no cover


def _show_matrix(M) -> str:
    rows = ["[" + ", ".join(str(x) for x in M.row(i)) + "]" for i in range(M.rows)]
    return "[" + ", ".join(rows) + "]"


# -------------------------------------------------------------------- decide
def _matrix_difference_vanishes(d) -> bool:
    """Does SymPy's matrix algebra reduce d to the zero matrix? Matrix symbols do not
    commute, so (A + B)^2 expands to A^2 + A*B + B*A + B^2, never 2*A*B. (Rules such
    as inv(A)*A = I hold only where A is invertible: the caller proves the step's
    conditions before this counts as a proof.)"""
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


def _no_clock():
    return 1.0


def _symbolic(task, mats, time_left, memo=None):
    """A method that proves the relation for every size (sums in normal form, then signs,
    Z3 and cited facts on them), or None. The step's conditions are proved by the caller.
    memo: results shared by two calls on one step (with and without a cited fact)."""
    from ..decide import prove_relation
    clock = time_left or _no_clock
    memo = {} if memo is None else memo

    def once(key, compute):
        if key not in memo:
            memo[key] = compute()
        return memo[key]
    if sum(node_count(e, MAX_NORMAL_FORM_NODES) for e in (task.lhs, task.rhs)) > MAX_NORMAL_FORM_NODES:
        return None  # a counted bound: too large for the sum normal form
    try:  # the sides with their traces multiplied out and rotated, once per step
        rotated = once("rotated", lambda: (traces_rotated(task.lhs), traces_rotated(task.rhs)))
    except Exception:  # noqa: BLE001 - a form SymPy cannot take apart
        return None
    if task.rel == "=" and not isinstance(task.lhs, sp.MatrixExpr) and (task.lhs.has(sp.Trace) or task.rhs.has(sp.Trace)):
        try:  # cheap first: the rotated traces may already agree
            if sp.expand(rotated[0] - rotated[1]) == 0:
                return "traces multiplied out, each product rotated to one cyclic order (holds for every size)"
        except Exception:  # noqa: BLE001 - a form SymPy cannot take apart: the sums decide
            pass
    try:
        if trace_work(*rotated) > MAX_TRACE_WORK:
            return None  # a counted bound for both sides together: the other methods decide
    except Exception:  # noqa: BLE001
        return None
    try:
        lhs, rhs = once("sides", lambda: (normal_form(task.lhs), normal_form(task.rhs)))
        if isinstance(lhs, sp.MatrixExpr):
            if task.rel == "=" and _matrix_difference_vanishes(lhs - rhs):
                return "matrix algebra (transpose, identity, inverse and distributive rules, entries as " \
                       "sums; products kept in order), for every size"
            return None
        signs = {">": (">", task.lhs, task.rhs), ">=": (">=", task.lhs, task.rhs), "!=": ("!=", task.lhs, task.rhs),
                 "<": (">", task.rhs, task.lhs), "<=": (">=", task.rhs, task.lhs)}
        if task.rel in signs:  # det(A) != 0 for an invertible A, det(P) >= 0 for a psd P, ...
            rel, big, small = signs[task.rel]
            if once("signs", lambda: prove_matrix_condition(big - small, rel, task.matrix_kinds or {},
                                                           premises=_scalar_premises(task))):
                return "signs of determinants, traces and entries from the declarations (invertible: det != 0; " \
                       "pd: det, trace > 0; psd: det, trace >= 0; products, transposes, inverses and powers)"
        conds = once("conds", lambda: [c.mapped(normal_form) for c in task.conds])
        prems = once("premises", lambda: [(normal_form(l), r, normal_form(rr))
                                          for (l, r, rr) in (_premise_rels(task) or [])
                                          if not isinstance(l, sp.MatrixExpr)])
        hyps = _cauchy_schwarz(mats) if "cauchy_schwarz" in task.hints else []
        if task.rel == "=":
            # cheap exact comparisons only: the full portfolio (simplify) on sums is slow
            d = sp.expand(lhs - rhs)
            if d == 0 or sp.cancel(sp.together(d)) == 0:
                return "matrix normal form: sums over entries, determinant rules (holds for every size)"
            return None
        method, _ = prove_relation(lhs, task.rel, rhs, prems + hyps, {}, clock, conds)
        if method and hyps:
            return "the cited `cauchy_schwarz` at the step's vectors, then " + method
        if method:
            return "finite sums over the entries in normal form, then " + method
    except Exception:  # noqa: BLE001 - a form SymPy cannot rewrite, or a counted bound
        return None
    return None


def _scalar_premises(task):
    return [(l, r, rr) for (l, r, rr) in (_premise_rels(task) or [])
            if not isinstance(l, sp.MatrixExpr) and not isinstance(rr, sp.MatrixExpr)]


def _unproved_note(task):
    why = sorted({c.why for c in task.conds})
    return "; the step is defined only where " + ", ".join(why) if why else ""


def decide(task, time_left=None) -> Verdict:
    """The verdict for a matrix step. `time_left` is accepted for the callers' sake and
    handed to the scalar provers; no decision here depends on it."""
    lhs, rhs = task.lhs, task.rhs
    kinds = {m: set(_closure(k)) for m, k in (task.matrix_kinds or {}).items()}  # pd: psd, invertible too
    exprs = [lhs, rhs] + [c.expr for c in task.conds]
    mats = matrix_symbols(*exprs)
    prems = _scalar_premises(task)
    proved_conds = None

    def conds_ok():
        nonlocal proved_conds
        if proved_conds is None:
            proved_conds = conditions_proved(task, prems, time_left)
        return proved_conds

    if task.rel == "=" and lhs == rhs and conds_ok():
        return Verdict(PROVED, "identical expressions", "")
    memo = {}
    method = _symbolic(task, mats, time_left, memo)
    if method and conds_ok():
        return Verdict(PROVED, method, "")
    # the premises' matrices and scalars take values too (a counterexample must satisfy them)
    search_exprs = exprs + [x for (l, _, r) in (_premise_rels(task) or []) for x in (l, r)
                            if isinstance(x, sp.Basic)]
    search_mats = matrix_symbols(*search_exprs)
    dims = dimension_symbols(search_mats, search_exprs)
    scalars = sorted({s for e in search_exprs for s in e.free_symbols
                      if isinstance(s, sp.Symbol) and s not in dims and not s.name.startswith("_")},
                     key=lambda s: s.name)
    rng = random.Random(task.seed)

    # concrete matrices, smallest size first: it finds the smallest failing size
    plan = search_plan(dims)
    search = _Search(task, search_mats, kinds, plan, scalars, rng, search_exprs)
    evidence = search.evidence
    sizes, top = size_assignments(dims)
    done, stopped, stop_why = [], None, ""
    if dims and task.rel == "=" and not method:
        # an equation of symbolic sizes: every size with symbolic entries, while a counted
        # bound allows it (stopping at the first size not decided), interleaved with the plan
        refuted, (done, stopped, stop_why) = _equation_by_sizes(task, search, mats, kinds, exprs, sizes,
                                                                scalars, search_mats, conds_ok, time_left)
        if refuted is not None:
            return refuted
    else:
        for size, n_random in plan:
            refuted = search.test(size, n_random)
            if refuted is not None:
                return refuted
    if method:  # the relation holds for every size where defined; the conditions are not proved
        inverse = any(c.why == NEEDS_INVERTIBLE for c in task.conds)  # else scalar ones: denominators, ...
        return Verdict(UNKNOWN, "", f"{method[0].upper()}{method[1:]} shows the relation where both sides are "
                       f"defined, but I could not prove the step's conditions ({_conds_text(task)}); "
                       f"{'declare the matrix `invertible` (or `pd`), or ' if inverse else ''}"
                       f"add the condition as a premise")
    # (an equation gets nothing from the cited inequality: _symbolic would answer as it did above)
    if task.rel != "=" and "cauchy_schwarz" not in task.hints and _vector_pairs(mats):
        from dataclasses import replace
        if _symbolic(replace(task, hints=list(task.hints) + ["cauchy_schwarz"]), mats, time_left, memo):
            from ..verdict import follows_message
            return Verdict(UNKNOWN, "", follows_message(["cauchy_schwarz"]))
    if not (dims and task.rel == "="):
        # every size with symbolic entries, while a counted bound allows it. It can prove a step
        # of fixed sizes; for symbolic sizes it only strengthens the evidence, so an inequality
        # whose concrete evidence is already complete skips it (a fixed rule, not the clock)
        if dims and evidence.complete() and evidence.agreeing >= MIN_MATRIX_EVIDENCE:
            sizes = []
        for size in sizes:
            if not symbolic_size_ok(exprs, size):
                stopped, stop_why = size, "is beyond the bounds for symbolic entries"
                break
            models = [] if not dims else None
            ok = _holds_symbolically(task, mats, kinds, size, time_left, models)
            if ok is None:
                refuted = _refuted_by_model(task, mats, kinds, size, models)
                if refuted is not None:
                    return refuted
                stopped, stop_why = size, "was not decided with symbolic entries"
                break
            done.append(size)
    tested = evidence.text()
    if stopped is None and done:
        if not dims:
            if conds_ok():
                return Verdict(PROVED, "exact computation with symbolic entries", "")
            if evidence.complete() and evidence.agreeing >= MIN_MATRIX_EVIDENCE:
                return Verdict(CHECKED, "symbolic entries where defined, then concrete matrices",
                               f"holds with symbolic entries wherever it is defined, but its conditions "
                               f"({_conds_text(task)}) are not proved; {tested}",
                               detail={"points": evidence.agreeing})
            return Verdict(UNKNOWN, "", f"holds with symbolic entries wherever it is defined, but its conditions "
                           f"({_conds_text(task)}) are not proved; {tested}")
        where = ", ".join(f"{d} = 1..{top}" for d in dims)
        return Verdict(CHECKED, "every size, symbolic entries",
                       f"holds exactly for every size with {where} (symbolic entries), and {tested}; not proved "
                       f"for larger sizes", detail={"sizes": len(done), "points": evidence.agreeing})
    if done and dims and evidence.complete() and evidence.agreeing >= MIN_MATRIX_EVIDENCE:
        # a few sizes decided exactly are no evidence for the others: the instances
        # must be as many as for a step with no exact size at all
        last = ", ".join(f"{d} = {v}" for d, v in done[-1].items())
        where = ", ".join(f"{d} = {v}" for d, v in stopped.items())
        return Verdict(CHECKED, "sizes with symbolic entries, then concrete matrices",
                       f"holds exactly for the {len(done)} smallest sizes (up to {last}); {where} {stop_why}, "
                       f"and {tested}", detail={"sizes": len(done), "points": evidence.agreeing})
    if evidence.complete() and evidence.agreeing >= MIN_MATRIX_EVIDENCE:
        return Verdict(CHECKED, "concrete matrices (structured and random)", f"no proof found; {tested}",
                       detail={"points": evidence.agreeing})
    # name what ran: the search tested instances, too few (or none) to count as evidence
    return Verdict(UNKNOWN, "concrete matrices (structured and random)" if evidence.agreeing else "",
                   f"could not decide this matrix step; {tested}")


def _equation_by_sizes(task, search, mats, kinds, exprs, sizes, scalars, search_mats, conds_ok, time_left):
    """The plan, size by size, for an equation of symbolic sizes: (refutation or None,
    (sizes decided with symbolic entries, the size where that stopped, why)).

    At each size of `sizes` (the symbolic ones, met in the plan's order) the exact
    polynomial check runs first; where it holds, no instance there can fail, so the
    instances are only drawn (when the step's conditions are proved or there are none:
    otherwise an instance can still show the step undefined). Where it cannot tell, the
    instances are tested first, then the general symbolic check. Every other size is
    tested. So a refutation is the one the plain search finds: at the smallest failing
    size, with the same instances."""
    done, stopped, stop_why = [], None, ""
    check = None
    for size, n_random in search.plan:
        symbolic = stopped is None and len(done) < len(sizes) and size == sizes[len(done)]
        if symbolic and not symbolic_size_ok(exprs, size):
            stopped, stop_why = size, "is beyond the bounds for symbolic entries"
            symbolic = False
        if not symbolic:
            refuted = search.test(size, n_random)
            if refuted is not None:
                return refuted, (done, stopped, stop_why)
            continue
        if check is None:
            check = _PolyCheck(task, search_mats, kinds, scalars)
        if check.holds(size):
            done.append(size)
            if not task.conds or conds_ok():
                search.settle(size, n_random)
                continue
            refuted = search.test(size, n_random)
        else:
            refuted = search.test(size, n_random)
            if refuted is None:
                if _holds_symbolically(task, mats, kinds, size, time_left) is None:
                    stopped, stop_why = size, "was not decided with symbolic entries"
                else:
                    done.append(size)
        if refuted is not None:
            return refuted, (done, stopped, stop_why)
    return None, (done, stopped, stop_why)


def _conds_text(task) -> str:
    from ..pretty import show
    return ", ".join(f"`{show(c.expr, 60)}` {c.rel} 0" for c in task.conds) or "none"


class Evidence:
    """What the concrete search tested: per size of the plan, instances tried and agreeing;
    the sizes decided exactly with symbolic entries instead (their instances, which cannot
    fail, are not evaluated) and those beyond the counted bounds."""

    def __init__(self, dims, plan, premises):
        self.dims = dims
        self.plan = plan
        self.premises = premises
        self.rows = []      # (size, tried, agreeing)
        self.settled = []   # sizes decided with symbolic entries, where no instance was evaluated
        self.skipped = []   # sizes beyond the counted bounds

    @property
    def agreeing(self) -> int:
        return sum(a for _, _, a in self.rows)

    def complete(self) -> bool:
        return not self.skipped and len(self.rows) + len(self.settled) == len(self.plan)

    def _show(self, size) -> str:
        return ", ".join(f"{d} = {v}" for d, v in size.items()) or "the declared sizes"

    def text(self) -> str:
        structured = len(STRUCTURED)
        parts = []
        others = (f" other than the {len(self.settled)} decided with symbolic entries" if self.settled else "")
        if self.agreeing == 0:
            where = " at the sizes not decided with symbolic entries" if self.settled else ""
            if self.premises:
                parts.append(f"no concrete matrix instance satisfied the premises and cited facts, so none "
                             f"could be tested{where}")
            else:
                parts.append(f"no concrete matrix instance could be evaluated{where}")
        else:
            randoms = (f"{SMALL_RANDOM} random ones up to size {_small_top(self.dims)} and {LARGE_RANDOM} "
                       f"beyond" if self.dims else f"{FIXED_RANDOM} random ones")
            parts.append(f"it holds at all {self.agreeing} structured and random matrix instances tested "
                         f"(of {sum(t for _, t, _ in self.rows)} tried), "
                         f"{'at the sizes ' + _plan_text(self.dims) if self.dims else 'at the declared sizes'}"
                         f"{others}: per size {structured} structured matrices (identity multiples, all-ones, "
                         f"diagonal patterns, zero, shift), then {randoms}; exactly or within certified bounds")
            none = [s for s, _, a in self.rows if a == 0]
            if none:
                shown = "; ".join(self._show(s) for s in none[:4]) + ("; …" if len(none) > 4 else "")
                parts.append(f"no instance satisfied the premises (or could be evaluated) at {shown}")
        if self.skipped:
            shown = "; ".join(self._show(s) for s in self.skipped[:3]) + ("; …" if len(self.skipped) > 3 else "")
            parts.append(f"not tested at {shown}: the matrices are beyond the bounds for concrete computation "
                         f"(at most {MAX_CONCRETE_DET}×{MAX_CONCRETE_DET} for det, inv and norm_2)")
        return "; ".join(parts)


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


def _refuted_by_model(task, mats, kinds, size, models):
    """A refutation from the point Z3 found for the negation of an entry's relation
    (a step of fixed sizes, no premises or facts), confirmed by exact or certified
    evaluation at the point, where the step's conditions must hold too; else None.
    Entries Z3 left free are 0."""
    if not models or task.premises or task.facts:
        return None
    mapping, point, x, y = models[0]
    values = {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()
              if isinstance(s, sp.Symbol) and isinstance(v, Fraction)}
    free = set().union(*(M.free_symbols for M in mapping.values())) if mapping else set()
    values.update({s: sp.Integer(1 if s.is_positive else 0) for s in free if s not in values})
    for s, v in values.items():  # the entries' own assumptions (a pd matrix's positive diagonal)
        if (s.is_positive and not v > 0) or (s.is_nonnegative and not v >= 0) or (s.is_integer and not v.is_Integer):
            return None
    concrete = {m: M.xreplace(values) for m, M in mapping.items()}
    if not all(x.is_Rational for M in concrete.values() for x in M):
        return None
    try:
        for c in task.conds:  # defined there (a counterexample must be)
            if condition_holds(c.rel, Evaluator({}, 256)(instantiate(c.expr, concrete, size))) is not True:
                return None
        xv = Evaluator({}, 256)(x.xreplace(values))
        yv = Evaluator({}, 256)(y.xreplace(values))
    except Exception:  # noqa: BLE001 - not evaluable there: no counterexample
        return None
    if relation_holds(task.rel, subtract(yv, xv)) is not False:
        return None
    what = f"left side {as_equation(xv)}, right side {as_equation(yv)}"
    if isinstance(task.lhs, sp.MatrixExpr):
        what = f"the matrices differ (an entry is {format_value(xv)} on the left, {format_value(yv)} on the right)"
    return _refutation(task, concrete, size, {}, what)


def _holds_symbolically(task, mats, kinds, size, time_left, models=None):
    """True when the relation holds at this size with symbolic entries, else None.
    models: a list that receives (mapping, Z3's point, x, y) when the relation of an
    entry (x rel y) was not proved and Z3 found a point for its negation."""
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
    if node_count(a, MAX_SYMBOLIC_NODES) + node_count(b, MAX_SYMBOLIC_NODES) > MAX_SYMBOLIC_NODES:
        return None  # a counted bound: too large to decide entry by entry
    prems = _premise_rels(task) or []
    try:
        hyps = _instantiated_premises(prems, mapping, size) if prems else []
    except Exception:  # noqa: BLE001 - a premise SymPy cannot write out: prove without it
        hyps = []
    opaque: dict = {}
    if any(e.has(sp.Sum, sp.Product) for e in [a, b] + [t for h in hyps for t in (h[0], h[2])]):
        # a sum whose range may run backwards (instantiate left it): an opaque unknown for
        # the provers (what holds for every value of it holds for its own), which would
        # otherwise carry it out by SymPy's convention; and Z3's value for it is no point
        a, b = _opaque_bigops(a, opaque), _opaque_bigops(b, opaque)
        hyps = [(_opaque_bigops(l, opaque), r, _opaque_bigops(rr, opaque)) for (l, r, rr) in hyps]
        models = None
    pairs = list(zip(_entries(a), _entries(b)))
    from ..decide import prove_relation
    clock = time_left or _no_clock
    for x, y in pairs:
        if task.rel == "=":
            d = sp.expand(x - y)
            if d == 0:
                continue
            if d.is_rational_function():
                # a rational function of the entries: cancelling decides the identity exactly
                if sp.cancel(sp.together(d)) == 0:
                    continue
                if not hyps:
                    return None  # a nonzero rational function is nonzero somewhere
                if _z3_equal(x, y, hyps):
                    continue
                return None
            if algebra.prove_equal(x, y, clock) is not None:
                continue
        method, candidate = prove_relation(x, task.rel, y, hyps, {}, clock)
        if not method:
            if models is not None and candidate:
                models.append((mapping, candidate.get("__exact_sat__", candidate), x, y))
            return None
    return True


def _z3_equal(x, y, hyps) -> bool:
    """x = y from the premises, by Z3 within its deterministic resource limit."""
    from .. import budget
    from . import realarith
    try:
        r = realarith.z3_decide(x, "=", y, hyps, {}, budget.Z3_RLIMIT)
    except Exception:  # noqa: BLE001
        return False
    return bool(r and r[0] == "proved")


class _EntryEvaluator(Evaluator):
    """The project's exact/ball evaluator, reading matrix entries F(i, j) from explicit
    matrices of Fractions (the indices are evaluated like any term, also inside sums)."""

    def __init__(self, env, prec, matrices, inners=None):
        super().__init__(env, prec)
        self.matrices = matrices  # entry function's name -> rows of Fractions
        self.inners = {} if inners is None else inners  # a sum -> (its outermost range, the sum over the rest)

    def _ev(self, e):
        rows = self.matrices.get(type(e).__name__) if isinstance(e, AppliedUndef) else None
        if rows is not None:
            i, j = (self.ev(a) for a in e.args)
            if not (isinstance(i, Fraction) and isinstance(j, Fraction) and i.denominator == 1
                    and j.denominator == 1 and 0 <= i < len(rows) and 0 <= j < len(rows[0])):
                raise IndexError("an index outside the matrix")  # not a usable instance
            return rows[int(i)][int(j)]
        return super()._ev(e)

    def _bigop(self, e):
        (i, lo, hi), inner = self.inners.get(e) or self.inners.setdefault(e, outer_range(e))
        lo_v, hi_v = self.ev(lo), self.ev(hi)
        if not (isinstance(lo_v, Fraction) and isinstance(hi_v, Fraction) and lo_v.denominator == 1
                and hi_v.denominator == 1):
            raise Uncertain("non-integer bounds")
        acc = Fraction(0) if isinstance(e, sp.Sum) else Fraction(1)
        for k in range(int(lo_v), int(hi_v) + 1):  # an empty range gives 0 (1 for a product)
            v = _EntryEvaluator({**self.env, i: Fraction(k)}, self.prec, self.matrices, self.inners).ev(inner)
            if isinstance(e, sp.Sum):
                acc = acc + v if isinstance(acc, Fraction) and isinstance(v, Fraction) else to_arb(acc) + to_arb(v)
            else:
                acc = acc * v if isinstance(acc, Fraction) and isinstance(v, Fraction) else to_arb(acc) * to_arb(v)
        return acc


class _Prepared:
    """A scalar expression prepared once per step: entries A[i, j] of matrix symbols are
    read from each instance's explicit matrices, sums evaluated term by term with the
    sizes as values (nothing is rebuilt per instance), and the other matrix atoms (det,
    trace, norm_2 of matrix expressions) computed once per instance."""

    def __init__(self, e):
        self.raw = e
        self.entries = {}
        self.expr = _entries_as_functions(e, self.entries)
        self.atoms = _matrix_atoms(self.expr, set(self.entries.values()))
        self.inners = {}

    def value(self, mapping, size, sub, env, cache):
        """The exact value or ball at the instance; raises Undefined or Uncertain."""
        if self.atoms is None:  # not a plain scalar in matrix atoms: the general way
            return Evaluator({}, 256)(instantiate(self.raw.xreplace(sub), mapping, size))
        for a in self.atoms:
            if a not in cache:
                cache[a] = Evaluator({}, 256)(instantiate(a.xreplace(sub), mapping, size))
        local = dict(env)
        local.update({d: Fraction(int(v)) for d, v in size.items()})
        local.update({a: cache[a] for a in self.atoms})
        matrices = {}
        for m, f in self.entries.items():
            key = ("rows", m)
            if key not in cache:
                M = mapping[m]
                cache[key] = [[_fraction(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
            matrices[f.__name__] = cache[key]
        return _EntryEvaluator(local, 256, matrices, self.inners)(self.expr)


def _fraction(x):
    return Fraction(int(x.p), int(x.q)) if x.is_Rational else Evaluator({}, 256)(x)


def _entries_as_functions(e, table):
    """A[i, j] (A a matrix symbol) as an application F(i, j) of an undefined function that
    no document can name."""
    if not isinstance(e, sp.Basic) or not e.has(MatrixElement):
        return e

    def entry(x):
        m = x.parent
        if m not in table:  # numbered: two symbols of one name (and different shapes) stay apart
            table[m] = sp.Function(f"[{m.name}#{len(table)}]", real=True)
        return table[m](x.i, x.j)
    return e.replace(lambda x: isinstance(x, MatrixElement) and isinstance(x.parent, sp.MatrixSymbol), entry)


def _matrix_atoms(e, entry_funcs):
    """The outermost scalar nodes with a matrix argument (other than entries), or None when
    e is not a scalar built from entries and such atoms, or an atom depends on a sum's index."""
    if not isinstance(e, sp.Basic) or isinstance(e, sp.MatrixExpr):
        return None
    bound = set()
    for x in sp.preorder_traversal(e):
        if isinstance(x, (sp.Sum, sp.Product)):
            bound |= {l[0] for l in x.limits}
    atoms = set()

    def walk(x):
        if isinstance(x, sp.MatrixExpr):
            return False
        if x.func in entry_funcs:
            return True
        if any(isinstance(a, sp.MatrixExpr) for a in x.args):
            if x.free_symbols & bound:
                return False
            atoms.add(x)
            return True
        return all(walk(a) for a in x.args)
    if not walk(e):
        return None
    return sorted(atoms, key=sp.default_sort_key)


# ------------------------------------------- exact evaluation of instances (flint)
# Each expression of a step is compiled once into Python closures that compute on flint
# values: fmpq (exact rationals; Python ints for indices and sizes), arb balls where a
# root or a norm is not rational, fmpq_mat for the concrete matrices. The same closures,
# with polynomials (fmpq_mpoly) as the entries, give the symbolic check of a size. A node
# they do not take (exp, log, floats, ...) leaves the expression to the general way
# (SymPy's explicit matrices and the project's Evaluator), as does a value they cannot
# hold (a matrix times a ball).
EVAL_PREC = 256              # bits of the balls at an instance, as the general way uses
MAX_POLY_TERMS = 20_000      # terms of one polynomial of the symbolic check (a counted bound)
MAX_POLY_PRODUCT = 400_000   # term pairs of one product of two polynomials there
MAX_REDUCTION_STEPS = 4_000  # division steps of the differences by the premises, per size


class _Unsupported(Exception):
    """A node the compiled evaluation does not take: the general way is used."""


class _Fallback(Exception):
    """A value the compiled evaluation cannot hold at this instance: the general way is used."""


class _NotPolynomial(Exception):
    """Not a polynomial in the entries (or too large): the symbolic check cannot decide fast."""


def _as_value(v):
    """A compiled scalar as the project's value (Fraction, or a finite arb ball)."""
    t = type(v)
    if t is int:
        return Fraction(v)
    if t is fmpq:
        return Fraction(int(v.p), int(v.q))
    if t is arb:
        if not v.is_finite():
            raise Uncertain("not finite")
        return v
    raise Uncertain("not a number")  # a matrix where a number was expected


def _from_value(v):
    if isinstance(v, Fraction):
        return fmpq(v.numerator, v.denominator)
    if isinstance(v, arb) and not v.is_finite():
        raise Uncertain("not finite")
    return v


_POWER = Evaluator({}, EVAL_PREC)  # its _pow: the exact roots and domain rules of the general way


def _num_pow(b, x):
    tb = type(b)
    if type(x) is fmpq and x.q == 1:
        x = int(x.p)
    if type(x) is int and -64 <= x <= 64 and (tb is int or tb is fmpq):
        if b == 0 and x < 0:
            raise Undefined("division by zero")
        q = fmpq(b) if tb is int else b
        if max(int(q.p).bit_length(), int(q.q).bit_length()) * abs(x) <= MAX_EXACT_BITS:
            return q ** x
    return _from_value(_POWER._pow(_as_value(b), _as_value(x)))


def _integer(v, error, why) -> int:
    """v as an int, when it is an integer value; else raise error(why)."""
    if type(v) is int:
        return v
    if type(v) is fmpq and v.q == 1:
        return int(v.p)
    raise error(why)


def _index(v) -> int:
    return _integer(v, IndexError, "an index that is not an integer")


def _bound(v) -> int:
    return _integer(v, Uncertain, "non-integer bounds")


def _run(f, env):
    """f(env) with balls at EVAL_PREC bits (restored afterwards)."""
    old = _arb_ctx.prec
    _arb_ctx.prec = EVAL_PREC
    try:
        return f(env)
    finally:
        _arb_ctx.prec = old


class _ExactOps:
    """Concrete instances: fmpq_mat matrices, exact; a singular inverse raises (not a point)."""
    poly = False

    @staticmethod
    def from_rows(rows, r, c):
        if any(type(x) not in (int, fmpq) for row in rows for x in row):
            raise _Fallback("an entry that is not rational")
        return fmpq_mat(r, c, [x for row in rows for x in row])

    @staticmethod
    def identity(n):
        M = fmpq_mat(n, n)
        for k in range(n):
            M[k, k] = 1
        return M

    @staticmethod
    def zeros(r, c):
        return fmpq_mat(r, c)

    @staticmethod
    def ones(r, c):
        return fmpq_mat(r, c, [1] * (r * c))

    @staticmethod
    def mul(X, Y):
        if X.ncols() != Y.nrows():
            raise ValueError("incompatible shapes")
        return X * Y

    @staticmethod
    def add(X, Y):
        if X.nrows() != Y.nrows() or X.ncols() != Y.ncols():
            raise ValueError("incompatible shapes")
        return X + Y

    @staticmethod
    def scale(c, X):
        if type(c) not in (int, fmpq):
            raise _Fallback("a matrix times a number that is not rational")
        return X * c

    @staticmethod
    def transpose(X):
        return X.transpose()

    @staticmethod
    def inverse(X):
        if X.nrows() != X.ncols():
            raise ValueError("inverse of a non-square matrix")
        return X.inv()  # ZeroDivisionError when singular, as SymPy's NonInvertibleMatrixError

    @classmethod
    def power(cls, X, k):
        if X.nrows() != X.ncols():
            raise ValueError("power of a non-square matrix")
        if k < 0:
            X, k = cls.inverse(X), -k
        out = cls.identity(X.nrows())
        while k:
            if k & 1:
                out = out * X
            k >>= 1
            if k:
                X = X * X
        return out

    @staticmethod
    def trace(X):
        if X.nrows() != X.ncols():
            raise ValueError("trace of a non-square matrix")
        total = fmpq(0)
        for k in range(X.nrows()):
            total += X[k, k]
        return total

    @staticmethod
    def det(X):
        if X.nrows() != X.ncols():
            raise ValueError("determinant of a non-square matrix")
        return X.det()

    @staticmethod
    def norm2(X):
        return _from_value(spectral_norm(X))

    @staticmethod
    def entry(X, i, j):
        if not (0 <= i < X.nrows() and 0 <= j < X.ncols()):
            raise IndexError("an index outside the matrix")
        return X[i, j]

    pow = staticmethod(_num_pow)
    abs = staticmethod(abs)

    @staticmethod
    def checked(v):
        return v


class _PolyMat:
    """A matrix of polynomials in the entry symbols (lists of rows)."""
    __slots__ = ("rows", "r", "c")

    def __init__(self, rows, r, c):
        self.rows, self.r, self.c = rows, r, c


def _poly_constant(v):
    """The number a constant polynomial is, or v itself when it is not a polynomial."""
    if type(v) is fmpq_mpoly:
        if not v.is_constant():
            raise _NotPolynomial("not a number")
        cs = v.coeffs()
        return cs[0] if cs else fmpq(0)
    return v


class _PolyOps:
    """Symbolic entries: polynomials over the rationals (flint), exact. Anything that is not a
    polynomial in the entries (inverses, roots of non-constants, |.|, norm_2) raises."""
    poly = True

    @staticmethod
    def times(a, b):
        if type(a) is fmpq_mpoly and type(b) is fmpq_mpoly and len(a) * len(b) > MAX_POLY_PRODUCT:
            raise _NotPolynomial("too many terms")
        return a * b

    @staticmethod
    def checked(v):
        if type(v) is fmpq_mpoly and len(v) > MAX_POLY_TERMS:
            raise _NotPolynomial("too many terms")
        if type(v) is arb:
            raise _NotPolynomial("not rational")
        return v

    @staticmethod
    def from_rows(rows, r, c):
        return _PolyMat([list(row) for row in rows], r, c)

    @staticmethod
    def identity(n):
        return _PolyMat([[1 if i == j else 0 for j in range(n)] for i in range(n)], n, n)

    @staticmethod
    def zeros(r, c):
        return _PolyMat([[0] * c for _ in range(r)], r, c)

    @staticmethod
    def ones(r, c):
        return _PolyMat([[1] * c for _ in range(r)], r, c)

    @staticmethod
    def mul(X, Y):
        if X.c != Y.r:
            raise ValueError("incompatible shapes")
        check = _PolyOps.checked
        cols = [[Y.rows[k][j] for k in range(Y.r)] for j in range(Y.c)]
        rows = []
        for row in X.rows:
            out = []
            for col in cols:
                acc = 0
                for a, b in zip(row, col):
                    acc = acc + _PolyOps.times(a, b)
                out.append(check(acc))
            rows.append(out)
        return _PolyMat(rows, X.r, Y.c)

    @staticmethod
    def add(X, Y):
        if (X.r, X.c) != (Y.r, Y.c):
            raise ValueError("incompatible shapes")
        return _PolyMat([[a + b for a, b in zip(p, q)] for p, q in zip(X.rows, Y.rows)], X.r, X.c)

    @staticmethod
    def scale(c, X):
        if type(c) is arb:
            raise _NotPolynomial("not rational")
        return _PolyMat([[_PolyOps.checked(c * a) for a in row] for row in X.rows], X.r, X.c)

    @staticmethod
    def transpose(X):
        return _PolyMat([list(col) for col in zip(*X.rows)] if X.r else [[] for _ in range(X.c)], X.c, X.r)

    @staticmethod
    def inverse(X):
        raise _NotPolynomial("an inverse")

    @classmethod
    def power(cls, X, k):
        if X.r != X.c:
            raise ValueError("power of a non-square matrix")
        if k < 0:
            raise _NotPolynomial("an inverse")
        out = cls.identity(X.r)
        for _ in range(k):
            out = cls.mul(out, X)
        return out

    @staticmethod
    def trace(X):
        if X.r != X.c:
            raise ValueError("trace of a non-square matrix")
        total = 0
        for k in range(X.r):
            total = total + X.rows[k][k]
        return total

    @classmethod
    def det(cls, X):
        if X.r != X.c:
            raise ValueError("determinant of a non-square matrix")
        if X.r > MAX_SYMBOLIC_DET:
            raise _NotPolynomial("a large determinant")
        return cls._laplace(X.rows)

    @classmethod
    def _laplace(cls, rows):
        if len(rows) == 1:
            return rows[0][0]
        total = 0
        for j, a in enumerate(rows[0]):
            minor = [row[:j] + row[j + 1:] for row in rows[1:]]
            term = cls.times(a, cls._laplace(minor))
            total = total - term if j % 2 else total + term
        return cls.checked(total)

    @staticmethod
    def norm2(X):
        raise _NotPolynomial("norm_2")

    @staticmethod
    def entry(X, i, j):
        if not (0 <= i < X.r and 0 <= j < X.c):
            raise IndexError("an index outside the matrix")
        return X.rows[i][j]

    @staticmethod
    def pow(b, x):
        if type(x) is fmpq and x.q == 1:
            x = int(x.p)
        if type(b) is fmpq_mpoly:
            if type(x) is int and 0 <= x <= 64:
                if math.comb(len(b) + x - 1, x) > MAX_POLY_TERMS:  # the terms b^x can have
                    raise _NotPolynomial("too many terms")
                return _PolyOps.checked(b ** x)
            b = _poly_constant(b)
        x = _poly_constant(x)
        return _PolyOps.checked(_num_pow(b, x))

    @staticmethod
    def abs(v):
        return _PolyOps.checked(abs(_poly_constant(v)))


_EXACT, _POLY = _ExactOps, _PolyOps


class _Compiler:
    """Compiles the expressions of one step into closures env -> value: a scalar (int,
    fmpq, arb; polynomials for the symbolic check) or a matrix of `ops`.

    env is a dict from small integers (the slots of this compiler) to values: the sizes
    (ints), the scalars, each matrix symbol (a matrix of `ops`), its rows (lists, for the
    entries read in sums) and the indices of the sums being evaluated (ints). A node the
    closures do not take raises _Unsupported at compile time."""

    def __init__(self, ops):
        self.ops = ops
        self.slots = {}

    def slot(self, key) -> int:
        s = self.slots.get(key)
        if s is None:
            s = self.slots[key] = len(self.slots)
        return s

    def env(self, values) -> dict:
        """The env of one point from {symbol or ("rows", matrix symbol): value}."""
        slots = self.slots
        return {slots[k]: v for k, v in values.items() if k in slots}

    def compile(self, e):
        """A closure for e, or None when some node of e is not taken."""
        try:
            return self._compile(e)
        except _Unsupported:
            return None
        except Exception:  # noqa: BLE001 - an expression SymPy cannot take apart: the general way
            return None

    def _compile(self, e):
        ops = self.ops
        if isinstance(e, sp.MatrixExpr):
            return self._matrix(e)
        if not isinstance(e, sp.Basic):
            raise _Unsupported(type(e).__name__)
        if e.is_Integer:
            v = int(e)
            return lambda env: v
        if e.is_Rational:
            q = fmpq(int(e.p), int(e.q))
            return lambda env: q
        if isinstance(e, sp.Symbol):
            k = self.slot(e)
            return lambda env: env[k]  # KeyError: a symbol without a value, not a usable point
        if any(isinstance(a, sp.MatrixExpr) for a in e.args) and not isinstance(
                e, (sp.Trace, sp.Determinant, SpectralNorm, MatrixElement)):
            raise _Unsupported("a matrix inside a scalar operation")
        check = ops.checked
        if isinstance(e, sp.Add):
            fs = [self._compile(a) for a in e.args]
            if ops.poly:
                def add(env):
                    total = 0
                    for f in fs:
                        total = total + f(env)
                    return check(total)
                return add
            return lambda env: sum([f(env) for f in fs], 0)
        if isinstance(e, sp.Mul):
            fs = [self._compile(a) for a in e.args]
            if ops.poly:
                times = ops.times

                def mul(env):
                    prod = 1
                    for f in fs:
                        prod = check(times(prod, f(env)))
                    return prod
                return mul
            if len(fs) == 2:
                f0, f1 = fs
                return lambda env: f0(env) * f1(env)

            def product(env):
                prod = 1
                for f in fs:
                    prod = prod * f(env)
                return prod
            return product
        if isinstance(e, sp.Pow):
            fb, fx, pw = self._compile(e.base), self._compile(e.exp), ops.pow
            return lambda env: pw(fb(env), fx(env))
        if isinstance(e, sp.Abs):
            fa, ab = self._compile(e.args[0]), ops.abs
            return lambda env: ab(fa(env))
        if isinstance(e, sp.Sum) and len({l[0] for l in e.limits}) == len(e.limits):
            return self._sum(e)
        if isinstance(e, (sp.Sum, sp.Product)):
            return self._bigop(e)
        if isinstance(e, MatrixElement):
            return self._entry(e)
        if isinstance(e, sp.Trace):
            fm, tr = self._matrix(e.arg), ops.trace
            return lambda env: tr(fm(env))
        if isinstance(e, sp.Determinant):
            fm, det = self._matrix(e.arg), ops.det
            return lambda env: det(fm(env))
        if isinstance(e, SpectralNorm):
            fm, norm = self._matrix(e.args[0]), ops.norm2
            return lambda env: norm(fm(env))
        raise _Unsupported(type(e).__name__)

    def _bigop(self, e):
        """A sum (product) term by term; as in the general way, the outermost range (SymPy
        lists it last) is the outer loop, and an empty range gives 0 (1)."""
        body = self._compile(e.function)
        limits = [(self.slot(i), self._compile(lo), self._compile(hi)) for (i, lo, hi) in reversed(e.limits)]
        is_sum = isinstance(e, sp.Sum)
        check = self.ops.checked

        def run(env, k):
            if k == len(limits):
                return body(env)
            i, flo, fhi = limits[k]
            lo, hi = _bound(flo(env)), _bound(fhi(env))
            if hi - lo + 1 > MAX_SUM_TERMS:
                raise Uncertain("too many terms")
            saved = env.get(i, _UNBOUND)
            try:
                if k + 1 == len(limits):  # the innermost range: no recursion per term
                    values = []
                    for t in range(lo, hi + 1):
                        env[i] = t
                        values.append(body(env))
                    if is_sum:
                        acc = sum(values, 0)
                    else:
                        acc = 1
                        for v in values:
                            acc = acc * v
                else:
                    acc = 0 if is_sum else 1
                    for t in range(lo, hi + 1):
                        env[i] = t
                        v = run(env, k + 1)
                        acc = acc + v if is_sum else acc * v
            finally:
                if saved is _UNBOUND:
                    env.pop(i, None)
                else:
                    env[i] = saved
            return check(acc)
        return lambda env: run(env, 0)

    def _sum(self, e):
        """A sum whose body's factors are each placed at the innermost range they depend on,
        and whose inner sums are reused across the values of the outer indices they do not
        depend on: sum(i, j, a[i]*b[j]*c[i, j]) is computed as sum(i, a[i]*sum(j, b[j]*c[i, j])).
        The value is that of the term-by-term sum (exactly, for rationals); a factor is only
        computed where a term needs it (a range without terms leaves it alone). As in the
        general way, the outermost range (SymPy lists it last) is the outer loop, and an
        empty range gives 0."""
        limits = tuple(reversed(e.limits))
        idx = [l[0] for l in limits]
        placed = [[] for _ in limits]
        outside = []
        for f in sp.Mul.make_args(e.function):
            deps = [k for k, i in enumerate(idx) if i in f.free_symbols]
            (placed[max(deps)] if deps else outside).append(f)
        factors = [[self._compile(f) for f in fs] for fs in placed]
        outer = [self._compile(f) for f in outside]
        ranges = [(self.slot(i), self._compile(lo), self._compile(hi)) for (i, lo, hi) in limits]
        keys = []  # per range: the slots of the outer indices its sum depends on
        for k in range(len(limits)):
            free = set()
            for fs in placed[k:]:
                for f in fs:
                    free |= f.free_symbols
            for (_, lo, hi) in limits[k:]:
                free |= lo.free_symbols | hi.free_symbols
            keys.append([self.slot(i) for i in idx[:k] if i in free])
        times = self.ops.times if self.ops.poly else (lambda a, b: a * b)
        check, last = self.ops.checked, len(limits) - 1

        def level(env, k, memo):
            """(the sum over ranges k.., whether it has a term) at the outer indices' values."""
            key = (k, *[env[s] for s in keys[k]])
            if key in memo:
                return memo[key]
            slot, flo, fhi = ranges[k]
            lo, hi = _bound(flo(env)), _bound(fhi(env))
            if hi - lo + 1 > MAX_SUM_TERMS:
                raise Uncertain("too many terms")
            saved = env.get(slot, _UNBOUND)
            acc, terms = 0, False
            try:
                for t in range(lo, hi + 1):
                    env[slot] = t
                    term = 1
                    if k < last:
                        term, has = level(env, k + 1, memo)
                        if not has:
                            continue
                    for f in factors[k]:
                        term = check(times(term, f(env)))
                    acc = acc + term
                    terms = True
            finally:
                if saved is _UNBOUND:
                    env.pop(slot, None)
                else:
                    env[slot] = saved
            memo[key] = out = (check(acc), terms)
            return out

        def run(env):
            value, terms = level(env, 0, {})
            if not terms:
                return 0
            for f in outer:
                value = check(times(value, f(env)))
            return value
        return run

    def _index(self, e):
        """A closure for an index: a constant, a symbol, or any integer-valued term."""
        if e.is_Integer:
            v = int(e)
            return lambda env: v
        if isinstance(e, sp.Symbol):
            k = self.slot(e)

            def symbol(env):
                v = env[k]
                return v if type(v) is int else _index(v)
            return symbol
        f = self._compile(e)
        return lambda env: _index(f(env))

    def _entry(self, e):
        fi, fj = self._index(e.i), self._index(e.j)
        parent = e.parent
        if isinstance(parent, sp.MatrixSymbol):
            k = self.slot(("rows", parent))

            def entry(env):
                rows = env[k]
                i, j = fi(env), fj(env)
                if i < 0 or j < 0:
                    raise IndexError("an index outside the matrix")  # not a usable instance
                return rows[i][j]  # IndexError beyond the last row or column, likewise
            return entry
        fp, get = self._matrix(parent), self.ops.entry
        return lambda env: get(fp(env), fi(env), fj(env))

    def _matrix(self, e):
        ops = self.ops
        if isinstance(e, sp.MatrixSymbol):
            k = self.slot(e)
            return lambda env: env[k]
        if isinstance(e, sp.MatrixBase):  # an explicit matrix written in the document
            r, c = e.shape
            fs = [self._compile(x) for x in e]
            build = ops.from_rows
            return lambda env: build([[fs[i * c + j](env) for j in range(c)] for i in range(r)], r, c)
        if isinstance(e, sp.Identity):
            fn, ident = self._compile(e.args[0]), ops.identity
            return lambda env: ident(_bound(fn(env)))
        if isinstance(e, (sp.ZeroMatrix, sp.OneMatrix)):
            fr, fc = self._compile(e.shape[0]), self._compile(e.shape[1])
            make = ops.zeros if isinstance(e, sp.ZeroMatrix) else ops.ones
            return lambda env: make(_bound(fr(env)), _bound(fc(env)))
        if isinstance(e, sp.Transpose):
            fa, tr = self._matrix(e.arg), ops.transpose
            return lambda env: tr(fa(env))
        if isinstance(e, sp.Inverse):
            fa, inv = self._matrix(e.arg), ops.inverse
            return lambda env: inv(fa(env))
        if isinstance(e, sp.MatPow):
            if not e.exp.is_Integer:
                raise _Unsupported("a matrix power that is not an integer")
            fa, k, power = self._matrix(e.base), int(e.exp), ops.power
            return lambda env: power(fa(env), k)
        if isinstance(e, sp.MatMul):
            scalars = [self._compile(a) for a in e.args if not isinstance(a, sp.MatrixExpr)]
            factors = [self._matrix(a) for a in e.args if isinstance(a, sp.MatrixExpr)]
            if not factors:
                raise _Unsupported("a product without matrices")
            mul, scale = ops.mul, ops.scale

            def product(env):
                X = factors[0](env)
                for f in factors[1:]:
                    X = mul(X, f(env))
                if scalars:
                    c = 1
                    for f in scalars:
                        c = c * f(env)
                    X = scale(c, X)
                return X
            return product
        if isinstance(e, sp.MatAdd):
            if not all(isinstance(a, sp.MatrixExpr) for a in e.args):
                raise _Unsupported("a matrix plus a number")
            fs, add = [self._matrix(a) for a in e.args], ops.add

            def total(env):
                X = fs[0](env)
                for f in fs[1:]:
                    X = add(X, f(env))
                return X
            return total
        raise _Unsupported(type(e).__name__)


_UNBOUND = object()


class _Instance:
    """One concrete instance: flint matrices, the scalars' values; SymPy's forms on demand
    (for the general way and for showing a counterexample)."""

    def __init__(self, compiler, size, matrices, env):
        self.compiler = compiler
        self.size = size
        self.matrices = matrices  # matrix symbol -> fmpq_mat
        self.scalars = env        # scalar symbol -> Fraction
        self.cache = {}           # the general way's values of matrix atoms
        self._env = self._mapping = self._sub = None

    def env(self):
        """The env of the compiled closures."""
        if self._env is None:
            values = {d: int(v) for d, v in self.size.items()}
            values.update({s: fmpq(v.numerator, v.denominator) for s, v in self.scalars.items()})
            for m, M in self.matrices.items():
                values[m] = M
                values[("rows", m)] = M.tolist()
            self._env = self.compiler.env(values)
        return self._env

    def mapping(self):
        if self._mapping is None:
            self._mapping = {m: _sympy_matrix(M) for m, M in self.matrices.items()}
        return self._mapping

    def sub(self):
        if self._sub is None:
            self._sub = {s: sp.Rational(v.numerator, v.denominator) for s, v in self.scalars.items()}
        return self._sub


class _Scalar:
    """A scalar expression of the step (a side, a condition), evaluated at instances:
    compiled once per step, else (or for a value the compiled form cannot hold) the
    general way, prepared once per step too."""

    def __init__(self, e, compiler):
        self.raw = e
        self.fast = compiler.compile(e)
        self._general = None

    def value(self, inst):
        """The exact value or ball at the instance; raises Undefined or Uncertain (or another
        exception: not a usable instance)."""
        if self.fast is not None:
            try:
                return _as_value(_run(self.fast, inst.env()))
            except _Fallback:
                pass
        if self._general is None:
            self._general = _Prepared(self.raw)
        return self._general.value(inst.mapping(), inst.size, inst.sub(), inst.scalars, inst.cache)


class _MatrixSides:
    """The two sides of a matrix-valued step: pairs of entries (row by row) at instances."""

    def __init__(self, lhs, rhs, rel, compiler):
        self.raw = (lhs, rhs)
        self.rel = rel
        self.fast = [compiler.compile(lhs), compiler.compile(rhs)]
        if None in self.fast:
            self.fast = None

    def pairs(self, inst):
        if self.fast is not None:
            try:
                env = inst.env()
                X, Y = (_run(f, env) for f in self.fast)
                if type(X) is fmpq_mat and type(Y) is fmpq_mat and \
                        (X.nrows(), X.ncols()) == (Y.nrows(), Y.ncols()):
                    if X == Y and self.rel == "=":
                        return [(Fraction(0), Fraction(0))]  # every entry agrees
                    return [(_as_value(x), _as_value(y)) for x, y in zip(X.entries(), Y.entries())]
            except _Fallback:
                pass
        sub = inst.sub()
        a = instantiate(self.raw[0].xreplace(sub), inst.mapping(), inst.size)
        b = instantiate(self.raw[1].xreplace(sub), inst.mapping(), inst.size)
        return [(Evaluator({}, 256)(x), Evaluator({}, 256)(y)) for x, y in zip(_entries(a), _entries(b))]


class _Premise:
    """A premise `l rel r` (matrix ones entry by entry), checked at instances."""

    def __init__(self, l, rel, r, compiler):
        self.raw = (l, rel, r)
        self.rel = rel
        self.fast = [compiler.compile(l), compiler.compile(r)]
        if None in self.fast:
            self.fast = None
        self._general = None

    def holds(self, inst) -> bool:
        if self.fast is not None:
            try:
                env = inst.env()
                x, y = (_run(f, env) for f in self.fast)
                if type(x) is fmpq_mat or type(y) is fmpq_mat:
                    if not (type(x) is fmpq_mat and type(y) is fmpq_mat and
                            (x.nrows(), x.ncols()) == (y.nrows(), y.ncols())):
                        raise _Fallback("a matrix compared with a number")
                    pairs = zip(x.entries(), y.entries())
                else:
                    pairs = [(x, y)]
                return all(relation_holds(self.rel, subtract(_as_value(b), _as_value(a))) is True
                           for a, b in pairs)
            except _Fallback:
                pass
            except Exception:  # noqa: BLE001 - cannot evaluate: not a usable point
                return False
        if self._general is None:
            self._general = _PreparedPremise(*self.raw)
        return self._general.holds(inst.mapping(), inst.size, inst.sub(), inst.scalars, inst.cache)


def _integer_value(s, r: int, k: int) -> Fraction:
    """An integer scalar's value in trial k, from the draw r in 1..4: every third trial
    takes 1 - r (0, -1, -2, -3) where the declaration allows it, so a range such as
    `1..m` is also tried empty and backwards."""
    if k % 3 == 2:
        from .numeric import value_allowed
        if value_allowed(s, Fraction(1 - r)):
            return Fraction(1 - r)
    return Fraction(r)


class _Search:
    """The concrete search of one step over the fixed plan: at each size structured
    matrices first, then the plan's number of random ones; nothing here looks at the clock.

    The random stream is drawn at every size of the plan in the same order, also at a
    size decided with symbolic entries (whose instances need not be evaluated), so the
    instances at every other size do not depend on which sizes were decided that way."""

    def __init__(self, task, mats, kinds, plan, scalars, rng, exprs):
        self.task, self.mats, self.kinds, self.plan = task, mats, kinds, plan
        self.scalars, self.rng, self.exprs = scalars, rng, exprs
        dims = sorted({d for size, _ in plan for d in size}, key=lambda s: s.name)
        self.evidence = Evidence(dims, plan, bool(task.premises or task.facts))
        self.compiler = compiler = _Compiler(_EXACT)
        prems = _premise_rels(task)
        self.premises = None if prems is None else [_Premise(*p, compiler) for p in prems]
        self.conds = [(c, _Scalar(c.expr, compiler)) for c in task.conds]
        self.matrix_valued = isinstance(task.lhs, sp.MatrixExpr)
        self.sides = _MatrixSides(task.lhs, task.rhs, task.rel, compiler) if self.matrix_valued else \
            (_Scalar(task.lhs, compiler), _Scalar(task.rhs, compiler))
        self._structured = {}

    def _structured_matrix(self, style, rows, cols, kinds):
        key = (style, rows, cols, frozenset(kinds))
        if key not in self._structured:
            M = _structured_matrix(style, rows, cols, kinds)
            self._structured[key] = M if M is not None else _structured_matrix("identity", rows, cols, set())
        return self._structured[key]

    def _instances(self, size, n_random):
        """(instance or None when a scalar drew a value it may not take) per trial, drawing
        from the random stream exactly as the plan fixes it."""
        mats, rng = self.mats, self.rng
        from .numeric import SPECIAL, value_allowed
        shapes = {m: tuple(int(d.xreplace(size)) for d in m.shape) for m in mats}
        trials = ([("structured", s) for s in STRUCTURED] if mats else []) + \
            [("random", t) for t in range(n_random if mats else n_random + len(STRUCTURED))]
        for k, (how, t) in enumerate(trials):
            matrices = {}
            if how == "structured":
                for j, m in enumerate(mats):
                    # several matrices take different styles (identity with minus identity, …):
                    # equal matrices hide failures like trace(C*D) >= 0
                    style = STRUCTURED[(STRUCTURED.index(t) + 3 * j) % len(STRUCTURED)]
                    matrices[m] = self._structured_matrix(style, *shapes[m], self.kinds.get(m, set()))
            else:
                style = STYLES[t % len(STYLES)]
                scale = fmpq(1, rng.choice([2, 3, 10])) if t % 3 == 1 else None
                for m in mats:
                    M = _random_matrix(rng, *shapes[m], self.kinds.get(m, set()), style)
                    matrices[m] = M * scale if scale is not None else M
            env = {s: (rng.choice(SPECIAL[:13]) if not s.is_integer else _integer_value(s, rng.randint(1, 4), k))
                   for s in self.scalars}
            env = {s: v for s, v in env.items() if value_allowed(s, v)}
            yield _Instance(self.compiler, size, matrices, env) if len(env) == len(self.scalars) else None

    def settle(self, size, n_random):
        """A size decided with symbolic entries: its instances are drawn (the stream goes on
        as the plan fixes it) but not evaluated."""
        if concrete_size_ok(self.exprs, size):
            for _ in self._instances(size, n_random):
                pass
        self.evidence.settled.append(size)

    def test(self, size, n_random):
        """Every instance of the plan at this size: a refutation, or None (the evidence grows)."""
        task = self.task
        if not concrete_size_ok(self.exprs, size):
            self.evidence.skipped.append(size)
            return None
        tried = agreeing = 0
        for inst in self._instances(size, n_random):
            tried += 1
            if inst is None:
                continue
            if self.premises is None or not all(p.holds(inst) for p in self.premises):
                continue  # a counterexample must satisfy every premise
            conds_ok, failed = True, None
            for c, prepared in self.conds:
                failed = c
                try:
                    ok = condition_holds(c.rel, prepared.value(inst))
                except Undefined:
                    ok, failed = False, None  # the condition is undefined itself: said in general words
                except Exception:  # noqa: BLE001 - Uncertain, or an operation SymPy refuses
                    ok = None
                if ok is not True:
                    conds_ok = ok
                    break
            if conds_ok is False:
                return _refutation(task, inst.mapping(), size, inst.scalars, _undefined_there(failed))
            if conds_ok is None:
                continue
            try:
                if self.matrix_valued:
                    pairs = self.sides.pairs(inst)
                else:
                    pairs = [(self.sides[0].value(inst), self.sides[1].value(inst))]
            except (Uncertain, Undefined):
                continue
            except Exception:  # noqa: BLE001 - e.g. an operation SymPy refuses
                continue
            held = True
            for xv, yv in pairs:
                d = subtract(yv, xv)
                verdict = relation_holds(task.rel, d)
                if verdict is False:
                    what = f"left side {as_equation(xv)}, right side {as_equation(yv)}"
                    if self.matrix_valued:
                        what = f"the matrices differ (an entry is {format_value(xv)} on the left, " \
                               f"{format_value(yv)} on the right)"
                    return _refutation(task, inst.mapping(), size, inst.scalars, what)
                if verdict is None and task.rel in ("<", ">", "!="):
                    held = False  # equal within the enclosure: no evidence for a strict relation
            if held:
                agreeing += 1
        self.evidence.rows.append((size, tried, agreeing))
        return None


def _search(task, mats, kinds, plan, scalars, rng, exprs):
    """(refutation or None, Evidence): every size of the fixed plan, smallest first."""
    search = _Search(task, mats, kinds, plan, scalars, rng, exprs)
    for size, n_random in plan:
        refuted = search.test(size, n_random)
        if refuted is not None:
            return refuted, search.evidence
    return None, search.evidence


class _PolyCheck:
    """The symbolic check of `lhs = rhs` at one size, fast and exact: the entries become
    polynomial variables (flint), symmetric matrices share them, psd ones are L*L^T with L
    lower triangular, the scalars stay variables; both sides are computed as polynomials.
    Equal polynomials prove the relation at that size. With premises (equations), a
    difference that division by the premises' polynomials reduces to 0 is a combination
    of them, so it vanishes wherever they hold. Anything else (not polynomial, a
    remainder) is left to the general way: this check only ever answers `holds`."""

    def __init__(self, task, mats, kinds, scalars):
        self.mats, self.kinds, self.scalars = mats, kinds, scalars
        self.compiler = compiler = _Compiler(_POLY)
        self.sides = [compiler.compile(task.lhs), compiler.compile(task.rhs)]
        self.premises = []
        for (l, rel, r) in _premise_rels(task) or []:
            if rel == "=":
                fl, fr = compiler.compile(l), compiler.compile(r)
                if fl is not None and fr is not None:
                    self.premises.append((fl, fr))

    def holds(self, size) -> bool:
        if None in self.sides or fmpq_mpoly_ctx is None:
            return False
        try:
            env = self._env(size)
            if env is None:
                return False
            x, y = (_run(f, env) for f in self.sides)
            if isinstance(x, _PolyMat) or isinstance(y, _PolyMat):
                if not (isinstance(x, _PolyMat) and isinstance(y, _PolyMat) and (x.r, x.c) == (y.r, y.c)):
                    return False
                pairs = [(a, b) for p, q in zip(x.rows, y.rows) for a, b in zip(p, q)]
            else:
                pairs = [(x, y)]
            diffs = [a - b for a, b in pairs]
            diffs = [d for d in diffs if d != 0]
            if not diffs:
                return True
            if any(type(d) is not fmpq_mpoly for d in diffs):
                return False  # a nonzero number
            divisors = self._premise_polynomials(env)
            budget = [MAX_REDUCTION_STEPS]
            return bool(divisors) and all(_reduces_to_zero(d, divisors, budget) for d in diffs)
        except Exception:  # noqa: BLE001 - not a polynomial, too large, or not computable: cannot tell
            return False

    def _env(self, size):
        env = {d: int(v) for d, v in size.items()}
        shapes = []
        count = 0
        for m in self.mats:
            rows, cols = (d.xreplace(size) for d in m.shape)
            if not (rows.is_Integer and cols.is_Integer):
                return None
            kinds = self.kinds.get(m, set())
            rows, cols = int(rows), int(cols)
            if kinds & {"psd", "pd"}:
                cells = [(i, j) for i in range(rows) for j in range(i + 1)]
            elif "symmetric" in kinds:
                cells = [(i, j) for i in range(rows) for j in range(i, cols)]
            else:
                cells = [(i, j) for i in range(rows) for j in range(cols)]
            shapes.append((m, rows, cols, kinds, cells, count))
            count += len(cells)
        names = tuple(f"x{k}" for k in range(count + len(self.scalars)))
        if not names:
            return None
        gens = fmpq_mpoly_ctx.get(names, "lex").gens()
        for m, rows, cols, kinds, cells, start in shapes:
            at = {cell: gens[start + k] for k, cell in enumerate(cells)}
            if kinds & {"psd", "pd"}:
                L = _PolyMat([[at.get((i, j), 0) for j in range(rows)] for i in range(rows)], rows, rows)
                M = _PolyOps.mul(L, _PolyOps.transpose(L))
            elif "symmetric" in kinds:
                M = _PolyMat([[at[(min(i, j), max(i, j))] for j in range(cols)] for i in range(rows)], rows, cols)
            else:
                M = _PolyMat([[at[(i, j)] for j in range(cols)] for i in range(rows)], rows, cols)
            env[m] = M
            env[("rows", m)] = M.rows
        for k, s in enumerate(self.scalars):
            env[s] = gens[count + k]
        return self.compiler.env(env)

    def _premise_polynomials(self, env):
        out = []
        for fl, fr in self.premises:
            try:
                x, y = fl(env), fr(env)
            except Exception:  # noqa: BLE001 - a premise that is not polynomial: not used (which is sound)
                continue
            if isinstance(x, _PolyMat) and isinstance(y, _PolyMat) and (x.r, x.c) == (y.r, y.c):
                diffs = [a - b for p, q in zip(x.rows, y.rows) for a, b in zip(p, q)]
            elif not isinstance(x, _PolyMat) and not isinstance(y, _PolyMat):
                diffs = [x - y]
            else:
                continue
            out += [d for d in diffs if type(d) is fmpq_mpoly and not d.is_constant()]
        return out


def _reduces_to_zero(d, divisors, budget) -> bool:
    """Does dividing d by the divisors (leading terms in the context's order) leave 0? Then d
    is a combination of them with polynomial coefficients. budget: division steps left."""
    ctx = d.context()
    leads = [(g.monomial(0), g.coefficient(0), g) for g in divisors]
    while not d.is_zero():
        budget[0] -= 1
        if budget[0] < 0:
            return False
        m, c = d.monomial(0), d.coefficient(0)
        for gm, gc, g in leads:
            if all(a >= b for a, b in zip(m, gm)):
                d = d - ctx.from_dict({tuple(a - b for a, b in zip(m, gm)): c / gc}) * g
                break
        else:
            return False  # a leading term no premise divides: no conclusion
    return True


_ROW = sp.Symbol("_prem_row", integer=True, nonnegative=True)
_COL = sp.Symbol("_prem_col", integer=True, nonnegative=True)


class _PreparedPremise:
    """A premise `l rel r`, prepared once per step: a matrix premise as its generic entry
    (i, j) (products as sums over entries), checked entry by entry at each instance."""

    def __init__(self, l, rel, r):
        self.raw = (l, rel, r)
        self.rel = rel
        self.shape = l.shape if isinstance(l, sp.MatrixExpr) else None
        if self.shape is not None:
            def entry(x):
                x = x.replace(lambda y: isinstance(y, sp.MatPow) and y.exp.is_Integer and 0 < y.exp <= 8,
                              lambda y: sp.MatMul(*[y.base] * int(y.exp), evaluate=False))
                return x[_ROW, _COL]
            l, r = entry(l), entry(r)
        self.sides = (_Prepared(l), _Prepared(r))
        if any(p.atoms is None or p.expr.has(sp.KroneckerDelta) for p in self.sides):
            self.sides = None  # the general way

    def holds(self, mapping, size, sub, env, cache) -> bool:
        if self.sides is None:
            return _premises_hold([self.raw], mapping, size, sub)
        cells = [{}]
        if self.shape is not None:
            rows, cols = (int(d.xreplace(size)) for d in self.shape)
            cells = [{_ROW: Fraction(i), _COL: Fraction(j)} for i in range(rows) for j in range(cols)]
        for cell in cells:
            local = dict(env)
            local.update(cell)
            try:
                x = self.sides[0].value(mapping, size, sub, local, cache)
                y = self.sides[1].value(mapping, size, sub, local, cache)
            except Exception:  # noqa: BLE001 - cannot evaluate: not a usable point
                return False
            if relation_holds(self.rel, subtract(y, x)) is not True:
                return False
        return True


def _premises_hold(prems, mapping, size, sub) -> bool:
    try:
        for (x, r, y) in _instantiated_premises([(l.xreplace(sub), rr_r, rr.xreplace(sub)) for (l, rr_r, rr) in prems],
                                                mapping, size):
            if relation_holds(r, difference(x, y, {}, 256)) is not True:
                return False
    except Exception:  # noqa: BLE001 - cannot evaluate: not a usable point
        return False
    return True


def _undefined_there(c) -> str:
    """Why a step is undefined at an instance where its condition c fails (None: the
    condition itself is undefined there). A scalar condition is named as for scalar
    steps (`x - 1` is a denominator, and it is 0 there); a matrix to invert, or a
    derivative's kink, in the general words."""
    if c is None or c.why == NEEDS_INVERTIBLE or c.jump is not None:
        return "undefined there (a matrix to invert is singular or a root or logarithm is out of its domain)"
    return f"undefined there: {c.why}, and it is {_FAILS_AS[c.rel]} there"


_FAILS_AS = {"!=": "0", ">": "not positive", ">=": "negative"}


def _refutation(task, mapping, size, env, what):
    values = {str(d): str(v) for d, v in size.items()}
    values.update({m.name: _show_matrix(M) for m, M in mapping.items()})
    values.update({s.name: format_value(v) for s, v in env.items()})
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    smallest = " (sizes are tried from the smallest up)" if size else ""
    return Verdict(REFUTED, "counterexample (exact or certified evaluation of concrete matrices)",
                   f"fails at {shown}{smallest}: {what}", counterexample=values)


def structurally_equal(a, b) -> bool:
    """Equal as expressions: identical, or equal sums in normal form. (The domain
    conditions, e.g. that inv(A) exists, are not looked at here: the caller proves them.)"""
    if a == b:
        return True
    try:
        if isinstance(a, sp.MatrixExpr):
            return bool(sp.simplify(a - b) == sp.ZeroMatrix(*a.shape))
        return sp.expand(normal_form(a) - normal_form(b)) == 0
    except Exception:  # noqa: BLE001
        return False
