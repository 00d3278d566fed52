"""The mean value rule (the built-in fact `mvt`, docs/language.md).

From a cited fact bounding a derivative for every real t, `|d/dt h(t)| <= L` or
`c <= d/dt h(t) <= C` (then L = max(|c|, |C|)), a step `|h(a) - h(b)| <= R`
follows when R >= L*|a - b|. The function h must be defined and differentiable
on all of R (its domain and smoothness conditions are proved for a generic t):
then h(a) - h(b) = h'(ξ)(a - b) for some ξ between a and b.

What is checked, each needed for the rule to be sound:
- the fact is `forall t:` over one real variable with no other assumption (a
  bound over t > 0 only would not cover a and b of any sign), and its body is
  exactly one or two relations (no premises, no other parts);
- the derivative is a first derivative by the bound variable itself;
- in the two-sided form both halves bound the derivative of the *same* function
  (shown equal by `algebra.prove_equal`; `0 <= d/ds s and d/ds exp(-s) <= 0`
  bounds two different functions and says nothing about either one's slope on
  both sides);
- the bounds do not depend on t, and L = max(|c|, |C|) bounds |h'| from c <= h' <= C;
- the step's difference equals h(a) - h(b) for that same h, and R >= L*|a - b|.
"""
from __future__ import annotations

import sympy as sp

from ..elaborate import FAnd, FForall, Rel
from ..facts import _match
from ..syntax import FLIP
from . import algebra, bounds


def _derivative_bound(fact):
    """(t, h(t), L, conds) from `forall t: |d/dt h(t)| <= L` or `c <= d/dt h(t) <= C`."""
    f = fact.formula
    if not isinstance(f, FForall) or len(f.variables) != 1:
        return None
    t, body = f.variables[0], f.body
    if not (isinstance(t, sp.Symbol) and t.is_real and t.is_integer is None and
            t.is_nonnegative is None and t.is_nonpositive is None and t.is_zero is None):
        return None  # the fact must speak of every real t
    rels = body.parts if isinstance(body, FAnd) else [body]
    conds = tuple(c for r in rels if isinstance(r, Rel) for c in r.conds)

    def deriv_of(e):
        if isinstance(e, sp.Derivative) and e.variables == (t,) and e.expr.has(t):
            return e.expr
        return None

    if len(rels) == 1 and isinstance(rels[0], Rel):
        r = rels[0]
        lhs, op, rhs = (r.lhs, r.rel, r.rhs) if r.rel in ("<=", "<") else (r.rhs, FLIP[r.rel], r.lhs)
        if op in ("<=", "<") and isinstance(lhs, sp.Abs):
            h = deriv_of(lhs.args[0])
            if h is not None and not rhs.has(t) and not (rhs.is_number and (rhs < 0) is sp.true):
                return t, h, rhs, conds
        return None
    if len(rels) == 2 and all(isinstance(r, Rel) for r in rels):
        lo = hi = h_lo = h_hi = None
        for r in rels:
            lhs, op, rhs = (r.lhs, r.rel, r.rhs) if r.rel in ("<=", "<") else (r.rhs, FLIP[r.rel], r.lhs)
            if op not in ("<=", "<"):
                return None
            if deriv_of(rhs) is not None and not lhs.has(t) and lo is None:
                h_lo, lo = deriv_of(rhs), lhs
            elif deriv_of(lhs) is not None and not rhs.has(t) and hi is None:
                h_hi, hi = deriv_of(lhs), rhs
            else:
                return None
        if lo is None or hi is None:
            return None
        # both halves must bound the slope of one and the same function
        if h_lo != h_hi and algebra.prove_equal(h_lo, h_hi) is None:
            return None
        if lo.is_number and hi.is_number and (lo > hi) is sp.true:
            return None  # no function has such a slope: the fact is contradictory
        return t, h_lo, sp.Max(sp.Abs(lo), sp.Abs(hi)), conds
    return None


def prove(lhs, rel, rhs, facts, time_left):
    """A method description if the step follows by the mean value rule, else None."""
    if rel == ">=":
        lhs, rel, rhs = rhs, "<=", lhs
    if rel not in ("<=",) or not isinstance(lhs, sp.Abs):
        return None
    diff = lhs.args[0]
    for fact in facts:
        if fact.formula is None:
            continue
        found = _derivative_bound(fact)
        if found is None:
            continue
        t, h, L, conds = found
        # h must be defined and differentiable everywhere
        if any(bounds.prove_sign(c.expr, c.rel) is None for c in conds):
            continue
        points = []
        for sub in sp.preorder_traversal(diff):
            m = _match(h, sub, [t]) if h.has(t) else None
            if m and t in m and m[t] not in points:
                points.append(m[t])
        for a in points:
            for b in points:
                if a == b:
                    continue
                ha, hb = h.xreplace({t: a}), h.xreplace({t: b})
                if algebra.prove_equal(diff, ha - hb) is None:
                    continue
                need = L * sp.Abs(a - b)
                if algebra.prove_equal(rhs, need) or bounds.prove_sign(rhs - need, ">=") is not None:
                    return f"mean value rule with `{fact.name}` (|h'| <= {L} everywhere)"
    return None
