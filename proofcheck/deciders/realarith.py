"""Real arithmetic: exact sign analysis of univariate rational functions, and
Z3's nlsat for polynomial problems in several variables.

Both only ever answer about the relation itself; the step's domain conditions
are proved separately. Algebraic functions are encoded exactly (|u|, max, min,
square and other roots); transcendental terms (exp, log, tanh, sin, abstract
functions, ...) become opaque variables that carry only their known ranges and
monotonicity, which can only make a true statement harder to prove, never a
false one provable. Z3 never sees `exp` (see BACKENDS.md: it answered a wrong
`sat`), and its `sat` is only a candidate counterexample.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from .bounds import INF, Bounds, Interval, symbol_interval

# ---------------------------------------------------------------- univariate
_SIGN_OK = {">": lambda s: s > 0, ">=": lambda s: s >= 0, "<": lambda s: s < 0,
            "<=": lambda s: s <= 0, "!=": lambda s: s != 0}


def _frac(q) -> Fraction:
    q = sp.Rational(q)
    return Fraction(int(q.p), int(q.q))


def _inside(x: Fraction, iv: Interval) -> bool:
    if x < iv.lo or (x == iv.lo and not iv.lo_closed):
        return False
    if x > iv.hi or (x == iv.hi and not iv.hi_closed):
        return False
    return True


def univariate(d, rel: str, var, iv: Interval, deadline_ok=lambda: True):
    """Decide `d rel 0` for all x in iv where d is defined; d rational in x.

    Returns ("proved", text) or ("counterexample", {var: Fraction}) or None.
    Exact: real roots are isolated by SymPy over the rationals.
    """
    num, den = sp.fraction(sp.cancel(sp.together(d)))
    try:
        N = sp.Poly(num, var, domain="QQ")
        D = sp.Poly(den, var, domain="QQ")
    except (sp.PolynomialError, sp.CoercionFailed, ValueError):
        return None
    if N.degree() > 60 or D.degree() > 60:
        return None
    breaks = set()
    for poly in (N, D):
        if poly.degree() > 0:
            for (a, b), _mult in poly.intervals():
                breaks.add(_frac(a))
                breaks.add(_frac(b))
    for end in (iv.lo, iv.hi):
        if end not in (INF, -INF):
            breaks.add(Fraction(end))
    pts = sorted(breaks)
    samples = set(pts)
    if pts:
        samples.add(pts[0] - 1)
        samples.add(pts[-1] + 1)
        samples.update((a + b) / 2 for a, b in zip(pts, pts[1:]))
    else:
        samples.add(Fraction(0))
    ok = _SIGN_OK[rel]
    for x in sorted(samples):
        if not deadline_ok():
            return None
        if not _inside(x, iv):
            continue
        dv = D.eval(sp.Rational(x.numerator, x.denominator))
        if dv == 0:
            continue  # outside the domain
        nv = N.eval(sp.Rational(x.numerator, x.denominator))
        s = (1 if nv > 0 else -1 if nv < 0 else 0) * (1 if dv > 0 else -1)
        if not ok(s):
            return ("counterexample", {var: x})
    if rel in (">", "<", "!="):
        # a zero of the numerator inside the interval breaks a strict relation
        lo = None if iv.lo == -INF else sp.Rational(iv.lo.numerator, iv.lo.denominator)
        hi = None if iv.hi == INF else sp.Rational(iv.hi.numerator, iv.hi.denominator)
        if N.degree() > 0:
            count = N.count_roots(lo, hi)
            for end, closed in ((lo, iv.lo_closed), (hi, iv.hi_closed)):
                if end is not None and not closed and N.eval(end) == 0:
                    count -= 1
            if count > 0:
                roots = [r for r in sp.Poly(N, var).real_roots()
                         if (lo is None or r >= lo) and (hi is None or r <= hi)]
                for r in roots:
                    if D.eval(r) != 0 and r.is_Rational and _inside(_frac(r), iv):
                        return ("counterexample", {var: _frac(r)})
                return None
        elif N.is_zero:
            return None
    return ("proved", f"exact sign analysis of a rational function of {var} (real roots isolated)")


# ------------------------------------------------------------------------ Z3
class Untranslatable(Exception):
    pass


_MONOTONE = (sp.exp, sp.log, sp.tanh, sp.atan)


class Z3Problem:
    """Builds a Z3 problem for `not (goal)` together with what is known."""

    def __init__(self, z3, known: dict | None = None):
        self.z3 = z3
        self.ctx = z3.Context()
        self.side: list = []
        self.vars: dict = {}      # sympy symbol -> z3 var
        self.atoms: dict = {}     # sympy atom -> (z3 var, encoded args)
        self.memo: dict = {}
        self.bounds = Bounds(known)
        self.fresh = 0

    def new(self, name: str):
        self.fresh += 1
        return self.z3.Real(f"{name}!{self.fresh}", self.ctx)

    def val(self, q):
        q = sp.Rational(q)
        return self.z3.RealVal(f"{q.p}/{q.q}", self.ctx)

    def var(self, s):
        if s not in self.vars:
            v = self.z3.Real(str(s.name) + f"!{len(self.vars)}", self.ctx)
            self.vars[s] = v
            self._constrain(v, symbol_interval(s) if not getattr(self, "_known_only", False) else Interval())
            if s in self.bounds.known:
                self._constrain(v, self.bounds.known[s])
        return self.vars[s]

    def _constrain(self, v, iv: Interval):
        z3 = self.z3
        if iv.lo != -INF:
            lo = self.val(sp.Rational(iv.lo.numerator, iv.lo.denominator)) if isinstance(iv.lo, Fraction) else self.val(iv.lo)
            self.side.append(v >= lo if iv.lo_closed else v > lo)
        if iv.hi != INF:
            hi = self.val(sp.Rational(iv.hi.numerator, iv.hi.denominator)) if isinstance(iv.hi, Fraction) else self.val(iv.hi)
            self.side.append(v <= hi if iv.hi_closed else v < hi)
        if iv.nonzero:
            self.side.append(v != 0)

    def enc(self, e):
        if e in self.memo:
            return self.memo[e]
        r = self._enc(e)
        self.memo[e] = r
        return r

    def _enc(self, e):
        z3 = self.z3
        if e.is_Rational:
            return self.val(e)
        if e.is_Symbol:
            return self.var(e)
        if isinstance(e, sp.Add):
            return z3.Sum([self.enc(a) for a in e.args])
        if isinstance(e, sp.Mul):
            out = None
            for a in e.args:
                v = self.enc(a)
                out = v if out is None else out * v
            return out
        if isinstance(e, sp.Pow):
            b, x = e.base, e.exp
            if x.is_Integer:
                n = int(x)
                if abs(n) > 40:
                    raise Untranslatable("power too large")
                base = self.enc(b)
                out = self.val(1)
                for _ in range(abs(n)):
                    out = out * base
                if n >= 0:
                    return out
                q = self.new("inv")
                self.side.append(q * out == 1)
                return q
            if x.is_Rational and abs(x.q) <= 6 and abs(x.p) <= 12:
                base = self.enc(b)
                r = self.new("root")
                p, qd = int(x.p), int(x.q)
                lhs = self.val(1)
                for _ in range(qd):
                    lhs = lhs * r
                rhs = self.val(1)
                for _ in range(abs(p)):
                    rhs = rhs * base
                self.side.append(r >= 0)
                self.side.append(base >= 0)
                if p > 0:
                    self.side.append(lhs == rhs)
                else:
                    self.side.append(r > 0)
                    self.side.append(lhs * rhs == 1)
                return r
            return self._atom(e)
        if isinstance(e, sp.Abs):
            u = self.enc(e.args[0])
            a = self.new("abs")
            self.side.append(a >= 0)
            self.side.append(z3.Or(a == u, a == -u))
            return a
        if isinstance(e, (sp.Max, sp.Min)):
            args = [self.enc(a) for a in e.args]
            m = self.new("max" if isinstance(e, sp.Max) else "min")
            for a in args:
                self.side.append(m >= a if isinstance(e, sp.Max) else m <= a)
            self.side.append(z3.Or(*[m == a for a in args]))
            return m
        if e.is_number and not e.is_Rational:
            return self._atom(e)
        return self._atom(e)

    def _atom(self, e):
        """An opaque term: a fresh variable with its range and monotonicity."""
        if e in self.atoms:
            return self.atoms[e][0]
        if e.has(sp.zoo, sp.nan, sp.oo):
            raise Untranslatable("infinite")
        v = self.new(type(e).__name__)
        self._constrain(v, self.bounds(e))
        arg = None
        if isinstance(e, _MONOTONE) and len(e.args) == 1:
            try:
                arg = self.enc(e.args[0])
            except Untranslatable:
                arg = None
            if arg is not None:
                for other, (w, warg) in self.atoms.items():
                    if type(other) is type(e) and warg is not None:
                        z3 = self.z3
                        self.side.append(z3.Implies(arg < warg, v < w))
                        self.side.append(z3.Implies(arg == warg, v == w))
                        self.side.append(z3.Implies(arg > warg, v > w))
            if arg is not None and isinstance(e, (sp.exp, sp.log)):
                self._inverse_pairs(e, v, arg)
        self.atoms[e] = (v, arg)
        return v

    def _inverse_pairs(self, e, v, arg):
        """log and exp are inverse increasing maps: u > exp(w) iff log(u) > w."""
        z3 = self.z3
        for other, (w, warg) in list(self.atoms.items()):
            if warg is None:
                continue
            if isinstance(e, sp.log) and isinstance(other, sp.exp):
                L, u, E, x = v, arg, w, warg
            elif isinstance(e, sp.exp) and isinstance(other, sp.log):
                L, u, E, x = w, warg, v, arg
            else:
                continue
            self.side.append(z3.Implies(u > E, L > x))
            self.side.append(z3.Implies(u == E, L == x))
            self.side.append(z3.Implies(u < E, L < x))

    def relation(self, lhs_z, rel, rhs_z):
        return {"=": lhs_z == rhs_z, "!=": lhs_z != rhs_z, "<": lhs_z < rhs_z, "<=": lhs_z <= rhs_z,
                ">": lhs_z > rhs_z, ">=": lhs_z >= rhs_z}[rel]


def z3_decide(lhs, rel, rhs, hypotheses, known, timeout_ms: int):
    """Try to prove `lhs rel rhs` from hypotheses [(l, r, R)] with Z3.

    Returns ("proved", text) / ("candidate", {symbol: Fraction}) / None.
    """
    try:
        import z3
    except ImportError:  # pragma: no cover - z3 is a dependency
        return None
    p = Z3Problem(z3, known)
    try:
        goal = p.relation(p.enc(lhs), rel, p.enc(rhs))
        hyps = [p.relation(p.enc(l), r, p.enc(rr)) for (l, r, rr) in hypotheses]
    except (Untranslatable, z3.Z3Exception, RecursionError):
        return None
    s = z3.Solver(ctx=p.ctx)
    s.set("timeout", max(1, int(timeout_ms)))
    for c in p.side + hyps:
        s.add(c)
    s.add(z3.Not(goal))
    try:
        answer = s.check()
    except z3.Z3Exception:
        return None
    if answer == z3.unsat:
        return ("proved", "real arithmetic (Z3 nlsat: the negation is unsatisfiable)")
    if answer == z3.sat:
        m = s.model()
        point = {}
        for sym, v in p.vars.items():
            val = m.eval(v, model_completion=True)
            try:
                if z3.is_algebraic_value(val):
                    val = val.approx(40)
                point[sym] = Fraction(val.numerator_as_long(), val.denominator_as_long())
            except Exception:  # noqa: BLE001 - a value we cannot read is left out
                continue
        return ("candidate", point)
    return None
