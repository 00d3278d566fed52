"""The gate every `proved` passes through.

Deciders search for proofs; none of them may say `proved` by itself. A step, a
chain's end comparison or a theorem becomes `proved` only after this module has
re-checked the three things no decider may forget (docs/soundness.md):

1. **Domains** (`admit`, in the worker): every condition under which the step's
   expressions are defined (denominators, logarithms, roots, `inv` of a matrix,
   sums whose range may run backwards) is proved from the declarations and
   premises, by a sound method, whatever the decider did.
2. **No vacuous proofs** (`admit`): the premises and the cited facts' instances
   are satisfiable; when Z3 shows them contradictory the step is `unknown`, and
   the message names the facts that contradict each other.
3. **Citations carry their verdicts** (`settle_citations`, after every step is
   decided): a step proved or checked *from* a claim, theorem or `have` is at most
   as strong as that fact, transitively; assumptions count as true and built-in
   facts as theorems.

The functions here are small on purpose: this file, `bounds.prove_sign`,
`realarith.z3_decide` and the deciders' own proofs are the trusted base.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import math

import sympy as sp
from sympy.core.function import AppliedUndef

from . import budget
from .verdict import CHECKED, ERROR, PROVED, REFUTED, UNKNOWN, Verdict


@dataclass
class Rejection:
    """Why the gate refused a `proved`: `reason` is shown to the user."""
    reason: str
    kind: str  # "domain", "vacuous" (shown contradictory), "undecided" (could not tell)


# --------------------------------------------------------------- 1. domains
def range_counts(count, enclosing):
    """Conditions `c >= 0`, free of the enclosing sums' indices, that together make
    `count >= 0` for every value of those indices in their ranges; None when that
    cannot be reduced so (count not linear in an index).

    enclosing: the (index, lo, hi) of the sums around, outermost first. A count
    linear in an index takes its least value over the index's range at one of the
    two ends (an empty range has no values, so nothing is asked of it)."""
    count = sp.expand(count)
    for idx, lo, hi in reversed(enclosing):
        if count.has(idx):
            if not count.is_polynomial(idx) or sp.degree(count, idx) > 1:
                return None
            out = []
            for end in (lo, hi):
                sub = range_counts(count.xreplace({idx: end}), enclosing)
                if sub is None:
                    return None
                out += sub
            return out
    return [count]


def range_conditions(exprs) -> list:
    """`hi - lo + 1 >= 0` for every sum or product whose range is symbolic, inner
    ones included (for every value of the outer indices: `range_counts`).

    The language says a sum over an empty range is 0 (a product 1); SymPy's
    convention for a range that runs backwards (Karr's) is different, so a proof
    may use a sum's closed form only where the range is known not to run
    backwards. A range that cannot be reduced to conditions on the names stays
    as it is: a condition on a bound index, which no proof establishes."""
    out, seen = [], set()

    def add(c):
        # a number needs no proof when it is >= 0; a negative one (a range that runs
        # backwards at some value of the outer indices) can get none
        if (c.is_Number and c >= 0) or c in seen:
            return
        seen.add(c)
        out.append(c)

    def walk(e, enclosing):
        if not isinstance(e, sp.Basic) or not e.has(sp.Sum, sp.Product):
            return
        if isinstance(e, (sp.Sum, sp.Product)):
            inner = tuple(enclosing)
            for (idx, lo, hi) in reversed(e.limits):  # outermost first
                walk(lo, inner)
                walk(hi, inner)
                counts = range_counts(hi - lo + 1, inner)
                for c in (counts if counts is not None else [sp.expand(hi - lo + 1)]):
                    add(c)
                inner = inner + ((idx, lo, hi),)
            walk(e.function, inner)
            return
        for a in e.args:
            walk(a, enclosing)

    for e in exprs:
        walk(e, ())
    return out


def _has_matrix(e) -> bool:
    return isinstance(e, sp.Basic) and e.has(sp.MatrixSymbol, sp.MatrixExpr)


def implies_rel(have: str, want: str) -> bool:
    """Does `a have b` imply `a want b`?"""
    if have == want:
        return True
    return want in {"=": {"<=", ">="}, "<": {"<=", "!="}, ">": {">=", "!="}}.get(have, set())


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
MAX_PREMISE_MATCH_TERMS = 12


def _expanded_terms(e, limit: int = MAX_PREMISE_MATCH_TERMS) -> int:
    """An upper bound on the number of terms of sp.expand(e), counted on the tree
    before expanding (a sum adds its terms' counts, a product multiplies them, a
    power (t1 + ... + tk)^n has at most C(n + k - 1, k - 1)); anything above `limit`
    is reported as limit + 1, so (a + b + c)^40 costs nothing to reject."""
    if isinstance(e, sp.Add):
        total = 0
        for a in e.args:
            total += _expanded_terms(a, limit)
            if total > limit:
                return limit + 1
        return total
    if isinstance(e, sp.Mul):
        total = 1
        for a in e.args:
            total *= _expanded_terms(a, limit)
            if total > limit:
                return limit + 1
        return total
    if isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp > 1:
        k = _expanded_terms(e.base, limit)
        if k > limit:
            return limit + 1
        return min(limit + 1, math.comb(int(e.exp) + k - 1, k - 1)) if int(e.exp) <= 64 or k == 1 else limit + 1
    return 1


def _premise_gives(expr, rel, premises) -> bool:
    """Is `expr rel 0` a premise `l R r` restated: expr = c*(l - r) for a rational
    c != 0 (compared term by term after expanding both, exactly) and R, turned
    around when c < 0, implies rel? (`x != 3` gives `x - 3 != 0`; `a > b` gives
    `2*a - 2*b >= 0`.) A one-line proof that needs no solver."""
    if not isinstance(expr, sp.Expr) or _has_matrix(expr) or _expanded_terms(expr) > MAX_PREMISE_MATCH_TERMS:
        return False
    mine = None
    for p in premises:
        if not isinstance(p, tuple) or not isinstance(p[0], sp.Expr) or not isinstance(p[2], sp.Expr):
            continue
        d = p[0] - p[2]
        if d.free_symbols != expr.free_symbols or _has_matrix(d) or _expanded_terms(d) > MAX_PREMISE_MATCH_TERMS:
            continue
        if mine is None:
            mine = sp.expand(expr).as_coefficients_dict()
            if len(mine) > MAX_PREMISE_MATCH_TERMS or not all(c.is_Rational for c in mine.values()):
                return False
        theirs = sp.expand(d).as_coefficients_dict()
        if set(theirs) != set(mine) or not all(c.is_Rational and c != 0 for c in theirs.values()):
            continue
        ratios = {mine[t] / theirs[t] for t in mine}
        if len(ratios) != 1:
            continue
        c = ratios.pop()
        if c == 0:
            continue
        have = p[1] if c > 0 else _FLIP[p[1]]
        if implies_rel(have, rel):
            return True
    return False


def prove_condition(expr, rel, premises, known, matrix_kinds=None) -> bool:
    """A sound proof that `expr rel 0` wherever the declarations and premises hold:
    interval bounds, a premise that states it (up to a rational factor), the matrix
    decider's own rules (a determinant of invertible matrices, a trace of A^T*A),
    then real arithmetic with the premises (matrix expressions are opaque terms
    there)."""
    from .deciders import bounds, realarith
    try:
        if bounds.prove_sign(expr, rel, known) is not None:
            return True
    except (TypeError, ValueError, AttributeError):  # a matrix expression bounds cannot read
        pass
    if _premise_gives(expr, rel, premises):
        return True
    if _has_matrix(expr):  # the matrix rules first: they are cheap, and Z3 sees a determinant as opaque
        from .deciders.matrices import prove_matrix_condition
        if prove_matrix_condition(expr, rel, matrix_kinds or {}, premises=tuple(
                p for p in premises if isinstance(p, tuple))):
            return True
    r = realarith.z3_decide(expr, rel, sp.Integer(0), premises, known, budget.Z3_RLIMIT_SMALL)
    return bool(r and r[0] == "proved")


def unproved_domain(exprs, conds, premises, known, matrix_kinds=None) -> list:
    """The domain conditions (text) that could not be proved."""
    from .pretty import show
    missing = []
    for c in conds:
        if c.expr.is_Number:
            ok = {"!=": c.expr != 0, ">": c.expr > 0, ">=": c.expr >= 0}[c.rel]
        else:
            ok = prove_condition(c.expr, c.rel, premises, known, matrix_kinds)
        if not ok:
            missing.append(f"`{show(c.expr, 80)}` {c.rel} 0 ({c.why})")
    for count in range_conditions(exprs + [c.expr for c in conds]):
        if not prove_condition(count, ">=", premises, known, matrix_kinds):
            missing.append(f"`{show(count, 80)}` >= 0 (a sum or product's range may run backwards; the "
                           f"language reads such a range as empty, and the proof relies on it being not)")
    return sorted(set(missing))


# ------------------------------------------------------------- 2. vacuity
def contradiction(premises, instances, known) -> Rejection | None:
    """When the premises and cited instances are contradictory, a Rejection
    naming them; None when they are satisfiable or there are none.

    premises: ground (lhs, rel, rhs) tuples from `implies` and the theorem's
    premises; instances: (fact name, ground formula) pairs the proof may use."""
    from .deciders import realarith
    if not premises and not instances:
        return None
    zero = sp.Integer(0)
    hyps = list(premises) + [f for _, f in instances]
    if _holds_somewhere(hyps, known):
        return None  # a point where all of them hold, checked exactly: they are consistent
    labels = ["the premises"] * len(premises) + [n for n, _ in instances]
    r = realarith.z3_decide(zero, "!=", zero, hyps, known, budget.Z3_RLIMIT_SMALL, labels=labels,
                            track_all=True)
    if r is not None and r[0] != "proved" and _has_integer_symbols(hyps):
        # satisfiable over the reals; no integer may satisfy them (k > 0 and k < 1)
        ri = realarith.z3_decide(zero, "!=", zero, hyps, known, budget.Z3_RLIMIT_SMALL, labels=labels,
                                 track_all=True, integers=True)
        if ri is not None and ri[0] == "proved":
            r = ri
    if r is None:
        return None  # not expressible for Z3: the proof did not rest on Z3 reading them either
    if r[0] == "unknown":
        return Rejection("I could not check that the premises and cited facts are consistent "
                         "(the check ran out of its work limit); a proof from contradictory facts "
                         "proves nothing", "undecided")
    if r[0] == "proved":
        names = []
        for n in (r[3] if len(r) > 3 else labels):
            if n not in names:
                names.append(n)
        names = names or ["the premises"]  # a core of side conditions only: the premises with the declarations
        shown = " and ".join(f"`{n}`" if n != "the premises" else n for n in names)
        verb = "contradict each other" if len(names) > 1 else \
            ("are contradictory" if names == ["the premises"] else "is contradictory")
        return Rejection(f"{shown} {verb}: anything follows from them, so this proves nothing", "vacuous")
    return None


def holds_at(f, env) -> bool | None:
    """Does a ground formula (an (lhs, rel, rhs) tuple, a Rel, FAnd or FImplies) hold
    at the point `env` {symbol: Fraction}, in exact or certified arithmetic? None
    when that cannot be told (a name without a value, undefined there, a ball too
    wide, a matrix relation)."""
    from .elaborate import FAnd, FImplies, Rel
    from .evaluate import difference, relation_holds
    if isinstance(f, FAnd):
        values = [holds_at(p, env) for p in f.parts]
        return False if False in values else (True if all(v is True for v in values) else None)
    if isinstance(f, FImplies):
        premise = holds_at(f.premise, env)
        return True if premise is False else (holds_at(f.conclusion, env) if premise is True else None)
    if isinstance(f, Rel):
        if f.is_matrix:
            return None
        f = (f.lhs, f.rel, f.rhs)
    if not isinstance(f, tuple):
        return None
    l, rel, r = f
    if not all(isinstance(e, sp.Basic) and e.free_symbols <= env.keys() for e in (l, r)):
        return None
    try:
        return relation_holds(rel, difference(l, r, env, 128))
    except Exception:  # noqa: BLE001 - undefined or not evaluable there
        return None


_SIMPLE_VALUES = [Fraction(v) for v in (0, 1, -1, 2, -2, 3, -3)] + [Fraction(1, 2), Fraction(-1, 2)]
MAX_WITNESS_POINTS = 32


def _holds_somewhere(hyps, known) -> bool:
    """Is there a point, among a fixed few simple ones each allowed by its symbol's
    declaration and by the ranges the premises give, where every hypothesis holds
    in exact (or certified) arithmetic? Then they are consistent, and Z3 need not
    be asked. Only relations of symbols are tried, alone or joined by `and` and
    `implies` (no functions, matrices or quantified formulas)."""
    from itertools import islice, product

    from .deciders.numeric import value_allowed
    from .elaborate import FAnd, FImplies, Rel
    from .facts import _formula_exprs
    names: set = set()
    for h in hyps:
        if isinstance(h, tuple):
            exprs = (h[0], h[2])
        elif isinstance(h, (Rel, FAnd, FImplies)):  # a cited fact's instance (no quantifier left)
            exprs = _formula_exprs(h)
        else:
            return False
        for e in exprs:
            if not isinstance(e, sp.Basic) or e.atoms(AppliedUndef) or e.has(sp.MatrixExpr):
                return False
            names |= e.free_symbols
    names = sorted(names, key=str)
    if not names or len(names) > 4 or not all(isinstance(x, sp.Symbol) for x in names):
        return False
    choices = []
    for x in names:
        candidates = list(_SIMPLE_VALUES)
        iv = known.get(x)
        if iv is not None:  # inside the premises' own bounds (x > 3: 4)
            for end, step in ((iv.lo, 1), (iv.hi, -1)):
                if isinstance(end, Fraction):
                    candidates[:0] = [end + step, end]
        choices.append([v for v in dict.fromkeys(candidates) if value_allowed(x, v)])
    for combo in islice(product(*choices), MAX_WITNESS_POINTS):
        env = dict(zip(names, combo))
        if all(holds_at(h, env) is True for h in hyps):
            return True
    return False


def _has_integer_symbols(formulas) -> bool:
    from .facts import _formula_exprs
    for f in formulas:
        exprs = list(f[::2]) if isinstance(f, tuple) else _formula_exprs(f)
        if any(isinstance(e, sp.Basic) and any(s.is_integer for s in e.free_symbols) for e in exprs):
            return True
    return False


# ---------------------------------------------------------------- the gate
def admit(task, verdict: Verdict, premises, known, instances=(), lhs=None, rhs=None,
          conds=None) -> Rejection | None:
    """Check a `proved` verdict for a step (a StepTask). None admits it."""
    if verdict.status != PROVED:
        return None
    lhs = task.lhs if lhs is None else lhs
    rhs = task.rhs if rhs is None else rhs
    conds = list(task.conds if conds is None else conds)
    # the step as written too: a sum the decider carried out no longer shows its range
    written = [e for e in (task.lhs, task.rhs) if isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product)]
    missing = unproved_domain([lhs, rhs] + written, conds, premises, known, getattr(task, "matrix_kinds", {}))
    if missing:
        method = verdict.method or "a decider"
        return Rejection(f"the relation holds where both sides are defined ({method}), but I could not "
                         f"show the step is always defined: {'; '.join(missing)}", "domain")
    return contradiction(premises, list(instances), known)


# ---------------------------------------------------------- 3. citations
CITED_KINDS = ("claim", "theorem", "have")


def cap_by_citations(verdict: Verdict, cited: list) -> Verdict:
    """A step's verdict, capped by the verdicts of the facts it used.

    cited: [(name, status)] of the claims, theorems and `have`s the step's proof
    used (assumptions and built-ins are not listed: they hold). A refuted,
    unknown, error or missing-proof fact makes a proved or checked step unknown;
    a checked fact makes it at most checked."""
    if verdict.status not in (PROVED, CHECKED):
        return verdict
    bad = [(n, s) for n, s in cited if s in (ERROR, REFUTED, UNKNOWN)]
    if bad:
        what = ", ".join(f"`{n}`, which is {_status_words(s)}" for n, s in bad)
        return Verdict(UNKNOWN, verdict.method, f"follows from {what}", seconds=verdict.seconds,
                       detail={"capped_by": [n for n, _ in bad], "uncapped": verdict.status})
    if verdict.status == PROVED:
        weak = [n for n, s in cited if s == CHECKED]
        if weak:
            listed = ", ".join(f"`{n}`" for n in weak)
            return Verdict(CHECKED, verdict.method, f"proved from {listed}, which is only checked (tested, "
                           f"not proved), so this step is only as good as that evidence",
                           seconds=verdict.seconds, detail={"capped_by": weak, "uncapped": PROVED})
    return verdict


def _status_words(status: str) -> str:
    return {ERROR: "an error", REFUTED: "refuted", UNKNOWN: "unknown (not proved)"}.get(status, status)
