"""Real arithmetic: exact sign analysis of univariate rational functions, and
Z3's nlsat for polynomial problems in several variables.

Both only ever answer about the relation itself; the step's domain conditions
are proved separately. Algebraic functions are encoded exactly (|u|, max, min,
square and other roots); transcendental terms (exp, log, tanh, sin, abstract
functions, ...) become opaque variables that carry only their known ranges and
monotonicity, which can only make a true statement harder to prove, never a
false one provable. Z3 never sees `exp` (it has been seen to answer a wrong
`sat`), and its `sat` is only a candidate counterexample.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from .. import budget
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
MAX_NUMBER_BITS = 10_000  # about 3,000 digits: larger exact numbers are not handed to Z3


class Untranslatable(Exception):
    pass


_MONOTONE = (sp.exp, sp.log, sp.tanh, sp.atan)


class Z3Problem:
    """Encodes expressions and formulas for Z3.

    Every side constraint added here is true for *all* real values of the
    variables (the defining equation of a root or a reciprocal is asserted only
    where it is defined), because the same encoding is used inside hypotheses.
    Where the goal needs its expressions to be defined, the caller asserts the
    goal's domain conditions explicitly.
    """

    def __init__(self, z3, known: dict | None = None, integers: bool = False):
        self.z3 = z3
        self.integers = integers  # integer symbols as Z3 integers (else as reals: a relaxation)
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
        if max(int(q.p).bit_length(), int(q.q).bit_length()) > MAX_NUMBER_BITS:
            raise Untranslatable("a number too large for the solver")
        return self.z3.RealVal(f"{q.p}/{q.q}", self.ctx)

    def var(self, s):
        if s not in self.vars:
            make = self.z3.Int if (self.integers and s.is_integer) else self.z3.Real
            v = make(str(s.name) + f"!{len(self.vars)}", self.ctx)
            self.vars[s] = v
            self._constrain(v, symbol_interval(s))
            if s in self.bounds.known:
                self._constrain(v, self.bounds.known[s])
        return self.vars[s]

    def _constrain(self, v, iv: Interval):
        if iv.lo != -INF:
            self.side.append(v >= self.val(_rat(iv.lo)) if iv.lo_closed else v > self.val(_rat(iv.lo)))
        if iv.hi != INF:
            self.side.append(v <= self.val(_rat(iv.hi)) if iv.hi_closed else v < self.val(_rat(iv.hi)))
        if iv.nonzero:
            self.side.append(v != 0)

    def enc(self, e):
        if e in self.memo:
            return self.memo[e]
        r = self._enc(e)
        self.memo[e] = r
        return r

    def _power(self, base, n: int):
        out = self.val(1)
        for _ in range(n):
            out = out * base
        return out

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
                out = self._power(self.enc(b), abs(n))
                if n >= 0:
                    return out
                q = self.new("inv")
                self.side.append(z3.Implies(out != 0, q * out == 1))
                return q
            if x.is_Rational and abs(x.q) <= 6 and abs(x.p) <= 12:
                base = self.enc(b)
                r = self.new("root")
                p, qd = int(x.p), int(x.q)
                lhs, rhs = self._power(r, qd), self._power(base, abs(p))
                self.side.append(r >= 0)
                if p > 0:
                    self.side.append(z3.Implies(base >= 0, lhs == rhs))
                else:
                    self.side.append(z3.Implies(base > 0, z3.And(r > 0, lhs * rhs == 1)))
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
        return self._atom(e)

    def _atom(self, e):
        """An opaque term: a fresh variable with its range, monotonicity and congruence."""
        if e in self.atoms:
            return self.atoms[e][0]
        if e.has(sp.zoo, sp.nan, sp.oo):
            raise Untranslatable("infinite")
        z3 = self.z3
        v = self.new(type(e).__name__)
        self._constrain(v, self.bounds(e))
        arg = None
        if len(e.args) == 1 and (isinstance(e, _MONOTONE) or isinstance(e, AppliedUndef)):
            try:
                arg = self.enc(e.args[0])
            except Untranslatable:
                arg = None
        if arg is not None:
            for other, (w, warg) in list(self.atoms.items()):
                if warg is None:
                    continue
                if isinstance(e, AppliedUndef):
                    if getattr(other, "func", None) == e.func:  # congruence: equal arguments, equal values
                        self.side.append(z3.Implies(arg == warg, v == w))
                elif type(other) is type(e):
                    self.side.append(z3.Implies(arg < warg, v < w))
                    self.side.append(z3.Implies(arg == warg, v == w))
                    self.side.append(z3.Implies(arg > warg, v > w))
            if isinstance(e, (sp.exp, sp.log)):
                self._inverse_pairs(e, v, arg)
        self.atoms[e] = (v, arg)
        return v

    def _inverse_pairs(self, e, v, arg):
        """log and exp are inverse increasing maps: u > exp(w) iff log(u) > w (for u > 0)."""
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
            self.side.append(z3.Implies(z3.And(u > 0, u < E), L < x))

    def relation(self, lhs_z, rel, rhs_z):
        return {"=": lhs_z == rhs_z, "!=": lhs_z != rhs_z, "<": lhs_z < rhs_z, "<=": lhs_z <= rhs_z,
                ">": lhs_z > rhs_z, ">=": lhs_z >= rhs_z}[rel]

    def formula(self, f):
        """A hypothesis: a (lhs, rel, rhs) tuple, or an elaborated Rel/FAnd/FImplies (ground)."""
        z3 = self.z3
        if isinstance(f, tuple):
            l, r, rr = f
            return self.relation(self.enc(l), r, self.enc(rr))
        kind = type(f).__name__
        if kind == "Rel":
            return self.relation(self.enc(f.lhs), f.rel, self.enc(f.rhs))
        if kind == "FAnd":
            return z3.And(*[self.formula(p) for p in f.parts])
        if kind == "FImplies":
            return z3.Implies(self.formula(f.premise), self.formula(f.conclusion))
        raise Untranslatable(kind)


def _show_formula(f) -> str:
    from ..pretty import show
    kind = type(f).__name__
    if kind == "Rel":
        return f"{show(f.lhs)} {f.rel} {show(f.rhs)}"
    if kind == "FAnd":
        return " and ".join(_show_formula(p) for p in f.parts)
    if kind == "FImplies":
        return f"{_show_formula(f.premise)} implies {_show_formula(f.conclusion)}"
    if isinstance(f, tuple):
        return f"{show(f[0])} {f[1]} {show(f[2])}"
    return str(f)


def _rat(v):
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return sp.Rational(v)


def _linear(z3, ctx, formulas) -> bool:
    """Are these Z3 formulas linear arithmetic (Z3's own probes)?"""
    g = z3.Goal(ctx=ctx)
    for f in formulas:
        g.add(f)
    return any(z3.Probe(name, ctx)(g) == 1.0 for name in ("is-qflra", "is-qflia", "is-qflira"))


def z3_decide(lhs, rel, rhs, hypotheses, known, rlimit: int = budget.Z3_RLIMIT, conds=(), labels=None,
              track_all: bool = False, integers: bool = False):
    """Try to prove `lhs rel rhs` from hypotheses with Z3.

    hypotheses: (l, rel, r) tuples or ground formulas; conds: the goal's domain
    conditions, assumed (they are proved separately, by the gate). The search is
    bounded by Z3's deterministic resource limit `rlimit` (counted work), never
    by time, so the answer does not depend on the machine's speed.
    labels name the last len(labels) hypotheses (all of them with track_all);
    the unsat core then says which were used.
    Returns ("proved", text, used text, [used labels]), ("candidate", {symbol or
    atom: Fraction}, exact), ("unknown", Z3's reason: the work limit ran out) or
    None (not expressible for Z3).
    """
    try:
        import z3
    except ImportError:  # pragma: no cover - z3 is a dependency
        return None
    p = Z3Problem(z3, known, integers)
    try:
        goal = p.relation(p.enc(lhs), rel, p.enc(rhs))
        hyps = [p.formula(h) for h in hypotheses]
        hyps += [p.relation(p.enc(c.expr), c.rel, p.val(0)) for c in conds]
    except (Untranslatable, z3.Z3Exception, RecursionError, TypeError):
        return None
    unknowns = len(p.vars) + len(p.atoms)
    if unknowns > budget.Z3_MAX_NONLINEAR_UNKNOWNS and not _linear(z3, p.ctx, [goal] + hyps + p.side):
        return ("unknown", f"{unknowns} unknowns in nonlinear arithmetic, more than the "
                           f"{budget.Z3_MAX_NONLINEAR_UNKNOWNS} the solver is given")
    s = z3.Solver(ctx=p.ctx)
    s.set("rlimit", max(1, int(rlimit)))
    for c in p.side:
        s.add(c)
    tracked = {}
    n_plain = 0 if track_all else len(hypotheses) - (len(labels) if labels else 0)
    for k, h in enumerate(hyps):
        if labels and n_plain <= k < len(hypotheses):
            b = z3.Bool(f"h{k}", p.ctx)
            tracked[b.get_id()] = (labels[k - n_plain], hypotheses[k])
            s.assert_and_track(h, b)
        else:
            s.add(h)
    s.add(z3.Not(goal))
    try:
        answer = s.check()
    except z3.Z3Exception:
        return None
    if answer == z3.unsat:
        used, used_labels = "", list(labels or [])
        if tracked:
            try:
                core = [tracked[b.get_id()] for b in s.unsat_core() if b.get_id() in tracked]
                core.sort(key=lambda nf: (nf[0], _show_formula(nf[1])))  # same text on every run
                used = "; ".join(f"{name}: {_show_formula(f)}" for name, f in core[:4])
                used_labels = [name for name, _ in core]
            except z3.Z3Exception:
                used = ""
        return ("proved", "real arithmetic (Z3 nlsat: the negation is unsatisfiable)", used, used_labels)
    if answer == z3.sat:
        m = s.model()
        point = {}
        for sym, v in list(p.vars.items()) + [(a, t[0]) for a, t in p.atoms.items()]:
            val = m.eval(v, model_completion=True)
            try:
                if z3.is_algebraic_value(val):
                    val = val.approx(40)
                point[sym] = Fraction(val.numerator_as_long(), val.denominator_as_long())
            except Exception:  # noqa: BLE001 - a value we cannot read is left out
                continue
        # with no opaque terms the encoding is exact: Z3's model shows the step false,
        # even when its values are irrational and cannot be confirmed exactly
        return ("candidate", point, not p.atoms)
    return ("unknown", s.reason_unknown())
