"""Ranges of expressions, in the style of mathlib's `positivity`.

`bound(expr, facts)` returns an `Interval` that certainly contains every value of
`expr` where it is defined. Each head symbol has one small rule in `RULES`; a rule
combines the intervals of the arguments. Endpoints are exact rationals (or ±inf);
transcendental endpoints are rounded outward from arb balls, so every rule is
sound. `prove_sign` then reads off `> 0`, `>= 0`, `!= 0`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from flint import arb, ctx

from ..evaluate import Evaluator, Uncertain, Undefined, arb_to_fraction_bounds, to_arb
from ..mathfuncs import HugePower, SpectralNorm

INF = math.inf


@dataclass(frozen=True)
class Interval:
    lo: object = -INF  # Fraction or ±inf
    hi: object = INF
    lo_closed: bool = False
    hi_closed: bool = False
    nonzero: bool = False  # known nonzero even if 0 lies between lo and hi

    def positive(self) -> bool:
        return self.lo > 0 or (self.lo == 0 and not self.lo_closed)

    def nonneg(self) -> bool:
        return self.lo >= 0

    def negative(self) -> bool:
        return self.hi < 0 or (self.hi == 0 and not self.hi_closed)

    def nonpos(self) -> bool:
        return self.hi <= 0

    def is_nonzero(self) -> bool:
        return self.nonzero or self.positive() or self.negative()


REALS = Interval()


def point(q: Fraction) -> Interval:
    return Interval(q, q, True, True, q != 0)


def _closed(v, flag):
    return flag and v not in (INF, -INF)


def _is_nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def make(lo, hi, lo_c, hi_c, nonzero=False) -> Interval:
    if _is_nan(lo) or _is_nan(hi):  # never trust an endpoint that is not a number: know nothing
        return Interval(-INF, INF, False, False)
    iv = Interval(lo, hi, _closed(lo, lo_c), _closed(hi, hi_c))
    if nonzero or iv.positive() or iv.negative():
        iv = Interval(iv.lo, iv.hi, iv.lo_closed, iv.hi_closed, True)
    return iv


_BIG_EXP = 4096  # endpoints beyond 2^±4096 are clamped rather than written out in full


def _arb_end(x, want_low):
    """An exact arb endpoint as a Fraction bound, outward. exp(10^10) written as a
    rational would have billions of digits: beyond 2^4096 (or below 2^-4096 in size)
    the bound is clamped there, which only widens the interval."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    if man == 0:
        return Fraction(0)
    if exp > _BIG_EXP:
        if man > 0:
            return Fraction(2 ** _BIG_EXP) if want_low else INF
        return -INF if want_low else Fraction(-2 ** _BIG_EXP)
    if exp + man.bit_length() < -_BIG_EXP:
        if man > 0:
            return Fraction(0) if want_low else Fraction(1, 2 ** _BIG_EXP)
        return Fraction(-1, 2 ** _BIG_EXP) if want_low else Fraction(0)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


def from_arb(v) -> Interval:
    if isinstance(v, Fraction):
        return point(v)
    lo, hi = _arb_end(v.lower(), True), _arb_end(v.upper(), False)
    # an end clamped to 0 from a tiny nonzero one (exp(-10^6)) is not attained: the
    # ball's own end is certified on its side of 0
    return make(lo, hi, not (lo == 0 and v.lower() > 0), not (hi == 0 and v.upper() < 0))


# -------------------------------------------------------------- interval ops
def _sum(x, y):
    """The sum of two endpoints, exactly: a Fraction beyond a float's range plus inf
    would first become a float, and fail (10^400 + inf)."""
    if x in (INF, -INF) or y in (INF, -INF):
        return x + y if x in (INF, -INF) and y in (INF, -INF) else (x if x in (INF, -INF) else y)
    return x + y


def add(a: Interval, b: Interval) -> Interval:
    return make(_sum(a.lo, b.lo), _sum(a.hi, b.hi), a.lo_closed and b.lo_closed, a.hi_closed and b.hi_closed)


def neg(a: Interval) -> Interval:
    return make(-a.hi, -a.lo, a.hi_closed, a.lo_closed, a.nonzero)


def _prod(x, y):
    """The product of two endpoints, exactly: never through floats (a tiny Fraction
    times inf would become 0.0 * inf = nan, and nan compares as anything)."""
    if x == 0 or y == 0:
        return 0
    if x in (INF, -INF) or y in (INF, -INF):
        return INF if (x > 0) == (y > 0) else -INF
    return x * y


def mul(a: Interval, b: Interval) -> Interval:
    cands = []
    for x, xc in ((a.lo, a.lo_closed), (a.hi, a.hi_closed)):
        for y, yc in ((b.lo, b.lo_closed), (b.hi, b.hi_closed)):
            v = _prod(x, y)
            attained = (xc and yc) or (x == 0 and xc) or (y == 0 and yc)
            cands.append((v, attained and v not in (INF, -INF)))
    lo = min(v for v, _ in cands)
    hi = max(v for v, _ in cands)
    lo_c = any(c for v, c in cands if v == lo)
    hi_c = any(c for v, c in cands if v == hi)
    return make(lo, hi, lo_c, hi_c, a.is_nonzero() and b.is_nonzero())


def reciprocal(a: Interval) -> Interval:
    if a.positive() or a.negative():
        def inv(v):
            if v in (INF, -INF):
                return 0
            return 1 / Fraction(v)
        lo_v, hi_v = a.lo, a.hi
        if a.positive():
            new_lo = inv(hi_v) if hi_v != INF else 0
            new_lo_c = a.hi_closed
            new_hi = INF if lo_v == 0 else inv(lo_v)
            new_hi_c = a.lo_closed and lo_v != 0
            return make(new_lo, new_hi, new_lo_c, new_hi_c, True)
        return neg(reciprocal(neg(a)))
    return Interval(nonzero=True)


def power_int(a: Interval, n: int) -> Interval:
    if n == 0:
        return point(Fraction(1))
    if n < 0:
        return reciprocal(power_int(a, -n))

    def p(v):
        return v ** n if v not in (INF, -INF) else (INF if (n % 2 == 0 or v > 0) else -INF)
    if n % 2 == 1:
        return make(p(a.lo), p(a.hi), a.lo_closed, a.hi_closed, a.is_nonzero())
    if a.nonneg():
        return make(p(a.lo), p(a.hi), a.lo_closed, a.hi_closed, a.is_nonzero())
    if a.nonpos():
        return make(p(a.hi), p(a.lo), a.hi_closed, a.lo_closed, a.is_nonzero())
    top_lo, top_hi = p(a.lo), p(a.hi)
    hi = max(top_lo, top_hi)
    hi_c = (top_lo == hi and a.lo_closed) or (top_hi == hi and a.hi_closed)
    return make(0, hi, not a.nonzero, hi_c, a.nonzero)


def monotone(a: Interval, f, increasing=True, lo_limit=-INF, hi_limit=INF) -> Interval:
    """Image of an interval under a strictly monotone f (arb -> arb).

    An endpoint of the image is closed exactly when the input endpoint it comes
    from is closed; values are rounded outward, which only widens the interval.
    """
    def img(v, want_low):
        if v == -INF:
            return lo_limit if increasing else hi_limit
        if v == INF:
            return hi_limit if increasing else lo_limit
        old = ctx.prec
        ctx.prec = 64
        try:
            ball = f(to_arb(Fraction(v)))
            if not ball.is_finite():
                return None
            end = _arb_end(ball.lower() if want_low else ball.upper(), want_low)
        finally:
            ctx.prec = old
        if end == INF:
            return hi_limit
        if end == -INF:
            return lo_limit
        return end
    if increasing:
        lo, hi = img(a.lo, True), img(a.hi, False)
        lo_c, hi_c = a.lo_closed, a.hi_closed
    else:
        lo, hi = img(a.hi, True), img(a.lo, False)
        lo_c, hi_c = a.hi_closed, a.lo_closed
    if lo is None or hi is None:
        return make(lo_limit, hi_limit, False, False)
    return make(lo, hi, lo_c, hi_c)


def intersect(a: Interval, b: Interval) -> Interval:
    if a.lo > b.lo or (a.lo == b.lo and not a.lo_closed):
        lo, lo_c = a.lo, a.lo_closed
    else:
        lo, lo_c = b.lo, b.lo_closed
    if a.hi < b.hi or (a.hi == b.hi and not a.hi_closed):
        hi, hi_c = a.hi, a.hi_closed
    else:
        hi, hi_c = b.hi, b.hi_closed
    return make(lo, hi, lo_c, hi_c, a.nonzero or b.nonzero)


# -------------------------------------------------------------- the analysis
def symbol_interval(s) -> Interval:
    if s.is_positive:
        iv = make(0, INF, False, False)
        if s.is_integer:
            iv = make(1, INF, True, False)
        return iv
    if s.is_negative:
        return make(-INF, -1, False, True) if s.is_integer else make(-INF, 0, False, False)
    if s.is_nonnegative:
        return make(0, INF, True, False)
    if s.is_nonpositive:
        return make(-INF, 0, False, True)
    if s.is_nonzero:
        return Interval(nonzero=True)
    return REALS


class Bounds:
    """Computes intervals; `known` maps atoms (symbols) to tighter intervals from premises."""

    def __init__(self, known: dict | None = None):
        self.known = known or {}
        self.memo: dict = {}

    def __call__(self, e) -> Interval:
        if e in self.memo:
            return self.memo[e]
        iv = self._bound(e)
        if e in self.known:
            iv = intersect(iv, self.known[e])
        self.memo[e] = iv
        return iv

    def _bound(self, e) -> Interval:
        if e.is_Rational:
            return point(Fraction(int(e.p), int(e.q)))
        if e.is_Symbol:
            return symbol_interval(e)
        if e.is_number and not e.has(sp.Sum, sp.Product, HugePower):
            try:
                return from_arb(Evaluator({}, 96)(e))
            except (Uncertain, Undefined):
                pass
        rule = RULES.get(type(e))
        if rule is None:
            for cls, r in RULES.items():
                if isinstance(e, cls):
                    rule = r
                    break
        if rule is None:
            return REALS
        return rule(self, e)


def _add(b: Bounds, e):
    iv = point(Fraction(0))
    for a in e.args:
        iv = add(iv, b(a))
    return iv


def _mul(b: Bounds, e):
    iv = point(Fraction(1))
    for a in e.args:
        iv = mul(iv, b(a))
    return iv


def _pow(b: Bounds, e):
    base, x = e.base, e.exp
    bi = b(base)
    if x.is_Integer:
        return power_int(bi, int(x))
    if x.is_Rational:
        # base >= 0 on the domain; x^(p/q) is monotone there
        bi = intersect(bi, make(0, INF, True, False))
        q = Fraction(int(x.p), int(x.q))
        if q > 0:
            iv = monotone(bi, lambda v: v ** to_arb(q) if v > 0 else arb(0), True, 0, INF)
            if bi.positive():
                iv = intersect(iv, make(0, INF, False, False))
            return iv
        iv = monotone(intersect(bi, make(0, INF, False, False)), lambda v: v ** to_arb(q), False, 0, INF)
        return intersect(iv, make(0, INF, False, False))
    if bi.positive():
        return make(0, INF, False, False)
    if x.is_integer and x.is_even:
        return make(0, INF, True, False, bi.is_nonzero())
    return REALS


def _exp(b: Bounds, e):
    iv = monotone(b(e.args[0]), lambda v: v.exp(), True, 0, INF)
    return intersect(iv, make(0, INF, False, False))


def _log(b: Bounds, e):
    a = intersect(b(e.args[0]), make(0, INF, False, False))  # the domain: argument > 0
    if a.lo == 0:
        top = monotone(make(a.hi, a.hi, True, True), lambda v: v.log(), True) if a.hi != INF else None
        return make(-INF, top.hi if top else INF, False, a.hi_closed)
    return monotone(a, lambda v: v.log(), True, -INF, INF)


def _tanh(b: Bounds, e):
    iv = monotone(b(e.args[0]), lambda v: v.tanh(), True, -1, 1)
    return intersect(iv, make(-1, 1, False, False))


def _atan(b: Bounds, e):
    return monotone(b(e.args[0]), lambda v: v.atan(), True, -2, 2)


def _sincos(b: Bounds, e):
    return make(-1, 1, True, True)


def _abs(b: Bounds, e):
    a = b(e.args[0])
    if a.nonneg():
        return a
    if a.nonpos():
        return neg(a)
    hi = max(-a.lo, a.hi)
    hi_c = (hi == -a.lo and a.lo_closed) or (hi == a.hi and a.hi_closed)
    return make(0, hi, not a.nonzero, hi_c, a.nonzero)


def _max(b: Bounds, e):
    ivs = [b(a) for a in e.args]
    lo = max(iv.lo for iv in ivs)
    hi = max(iv.hi for iv in ivs)
    lo_c = any(iv.lo == lo and iv.lo_closed for iv in ivs)
    hi_c = any(iv.hi == hi and iv.hi_closed for iv in ivs)
    return make(lo, hi, lo_c, hi_c)


def _min(b: Bounds, e):
    return neg(_max(b, sp.Max(*[-a for a in e.args], evaluate=False)))


def _sign(b: Bounds, e):
    return make(-1, 1, True, True)


def _bigop(b: Bounds, e):
    body = b(e.function)
    counts_ok = True
    for (i, lo, hi) in e.limits:
        count = b(hi - lo + 1)
        if not count.nonneg():
            counts_ok = False
    if not counts_ok:
        return REALS
    if isinstance(e, sp.Sum):
        if body.nonneg():
            nonempty = all(b(hi - lo).nonneg() for (_, lo, hi) in e.limits)
            return make(0, INF, not (nonempty and body.positive()), False)
        if body.nonpos():
            return neg(make(0, INF, True, False))
        return REALS
    if body.positive():
        return make(0, INF, False, False)
    if body.nonneg():
        return make(0, INF, True, False)
    return REALS


def _huge_power(b: Bounds, e):
    base = b(e.args[0])
    if base.positive():
        if base.lo >= 1 and b(e.args[1]).nonneg():
            return make(1, INF, True, False)
        return make(0, INF, False, False)
    return REALS


def _nonneg_opaque(b: Bounds, e):
    return make(0, INF, True, False)


RULES = {
    sp.Add: _add,
    sp.Mul: _mul,
    sp.Pow: _pow,
    sp.exp: _exp,
    sp.log: _log,
    sp.tanh: _tanh,
    sp.atan: _atan,
    sp.sin: _sincos,
    sp.cos: _sincos,
    sp.Abs: _abs,
    sp.Max: _max,
    sp.Min: _min,
    sp.sign: _sign,
    sp.Sum: _bigop,
    sp.Product: _bigop,
    SpectralNorm: _nonneg_opaque,
    HugePower: _huge_power,
}


# ------------------------------------------------------------------ questions
def holds(iv: Interval, rel: str) -> bool:
    """Does every value v in iv satisfy `v rel 0`?"""
    return {">": iv.positive(), ">=": iv.nonneg(), "!=": iv.is_nonzero(), "<": iv.negative(),
            "<=": iv.nonpos(), "=": iv.lo == iv.hi == 0}[rel]


def normal_forms(d, rewrites=(sp.together, sp.factor, sp.expand, sp.cancel)):
    """Equal forms of d worth bounding (the dependency problem of intervals)."""
    yield d
    seen = {d}
    for f in rewrites:
        try:
            g = f(d)
        except Exception:  # noqa: BLE001 - a failing rewrite is just skipped
            continue
        if g not in seen:
            seen.add(g)
            yield g


def prove_sign(d, rel: str, known: dict | None = None, quick: bool = False):
    """Proves `d rel 0` for every point of the domain; returns the form used, or None.
    quick: only d and its form over a common denominator (factor, expand and cancel
    cost far more on a large d, and most often to no avail on a false step)."""
    b = Bounds(known)
    for form in normal_forms(d, (sp.together,) if quick else (sp.together, sp.factor, sp.expand, sp.cancel)):
        if holds(b(form), rel):
            return form
    return None
