"""Monotone substitution, in the style of mathlib's `gcongr`.

To show `a <= b` (or `<`) when both sides have the same shape: match the head
symbols, turn the pairs of subterms that differ into subgoals, and prove the side
conditions each position needs. A subgoal is closed by structural equality, by a
cited fact's instance read literally, or by the sign decider on `b - a`.

Rules (each sound on its own):
- sums: `x + r <= y + r` from `x <= y`; several differing terms pair up, each `<=`;
- products: `c*x <= c*y` from `x <= y` and `c >= 0` (the side condition that
  `lip_f` alone cannot supply when `c : real`);
- increasing functions (exp, log, sqrt and other positive powers on their
  domain, tanh): `f(x) <= f(y)` from `x <= y`.
The report lists every subgoal and what closed it.
"""
from __future__ import annotations

import itertools

import sympy as sp

from ..pretty import show
from ..syntax import FLIP
from . import bounds

_INCREASING = (sp.exp, sp.log, sp.tanh, sp.atan)
MAX_DEPTH = 6


class _Goal:
    def __init__(self, facts, known):
        self.facts = facts      # [(name, Rel)] ground instances
        self.known = known
        self.notes: list = []

    def le(self, a, b, strict: bool, depth: int = 0) -> bool:
        if depth > MAX_DEPTH:
            return False
        if not strict and (a == b or sp.expand(a - b) == 0):
            return True
        for name, f in self.facts:
            if self._fact_closes(f, a, b, strict):
                self.notes.append(f"{show(a)} {'<' if strict else '<='} {show(b)} by {name}")
                return True
        if bounds.prove_sign(b - a, ">" if strict else ">=", self.known) is not None:
            if a != b:
                self.notes.append(f"{show(a)} {'<' if strict else '<='} {show(b)} by signs")
            return True
        return self._congruence(a, b, strict, depth)

    def _fact_closes(self, f, a, b, strict) -> bool:
        rel = getattr(f, "rel", None)
        if rel is None:
            return False
        lhs, rhs = f.lhs, f.rhs
        if rel in (">", ">="):
            lhs, rhs, rel = rhs, lhs, FLIP[rel]
        if rel not in ("<", "<=", "="):
            return False
        if strict and rel != "<":
            return False
        return sp.expand(lhs - a) == 0 and sp.expand(rhs - b) == 0

    def _congruence(self, a, b, strict, depth) -> bool:
        if isinstance(a, sp.Add) and isinstance(b, sp.Add):
            return self._sums(a, b, strict, depth)
        if isinstance(a, sp.Mul) or isinstance(b, sp.Mul):
            return self._products(a, b, strict, depth)
        if type(a) is type(b) and isinstance(a, _INCREASING):
            return self.le(a.args[0], b.args[0], strict, depth + 1)
        if isinstance(a, sp.Pow) and isinstance(b, sp.Pow) and a.exp == b.exp and a.exp.is_positive:
            if a.exp.is_Integer and int(a.exp) % 2 == 1:
                return self.le(a.base, b.base, strict, depth + 1)
            if bounds.prove_sign(a.base, ">=", self.known) is not None:  # x^k increasing on x >= 0
                return self.le(a.base, b.base, strict, depth + 1)
        return False

    def _sums(self, a, b, strict, depth) -> bool:
        ta, tb = list(a.args), list(b.args)
        for t in list(ta):  # common terms cancel
            if t in tb:
                ta.remove(t)
                tb.remove(t)
        if not ta or not tb or len(ta) != len(tb) or len(ta) > 4:
            return False
        saved = list(self.notes)
        for perm in itertools.permutations(tb):
            self.notes = list(saved)
            results = []
            ok = True
            for x, y in zip(ta, perm):
                if self.le(x, y, False, depth + 1):
                    results.append((x, y))
                else:
                    ok = False
                    break
            if ok and (not strict or any(self.le(x, y, True, depth + 1) for x, y in results)):
                return True
        self.notes = saved
        return False

    def _products(self, a, b, strict, depth) -> bool:
        fa, fb = list(sp.Mul.make_args(a)), list(sp.Mul.make_args(b))
        common = []
        for f in list(fa):
            if f in fb:
                fa.remove(f)
                fb.remove(f)
                common.append(f)
        if not common:
            return False
        c = sp.Mul(*common)
        if bounds.prove_sign(c, ">" if strict else ">=", self.known) is None:
            return False  # the side condition: a factor multiplied into an inequality must be >= 0
        self.notes.append(f"{show(c)} {'>' if strict else '>='} 0")
        return self.le(sp.Mul(*fa), sp.Mul(*fb), strict, depth + 1)


def prove(lhs, rel, rhs, facts, known):
    """A method description if `lhs rel rhs` follows by monotone substitution, else None."""
    if rel in (">", ">="):
        lhs, rhs, rel = rhs, lhs, FLIP[rel]
    if rel not in ("<", "<="):
        return None
    g = _Goal(facts, known)
    try:
        ok = g.le(lhs, rhs, rel == "<")
    except Exception:  # noqa: BLE001 - a shape we cannot compare is just not proved here
        return None
    if not ok or not any(" by " in n and not n.endswith("by signs") for n in g.notes):
        return None  # only report it when a cited fact was used (else the other deciders speak)
    return "monotone substitution (gcongr): " + "; ".join(dict.fromkeys(g.notes))
