"""Counterexample search and test evidence. This module never proves anything.

Points are exact rationals chosen to respect the declared assumptions and the
premises (boundary values first, then random ones, then a local search towards
a violation). A point counts as a counterexample only when `evaluate` confirms,
exactly or with a certified arb enclosure, that every premise holds there and
the step fails (or is undefined) there. Values of abstract functions are chosen
per distinct argument value, so the reported values always come from a real
function.

The search is deterministic: its size is counted (points, shrink and local
search steps, precision levels), never cut short by the clock, and symbols are
visited in a fixed order. Besides boundary and random values it tries huge and
tiny magnitudes (10^30 ... 2^65536, kept exact: `log(p) < 50` is false only far
beyond 10^9) and critical points: where a sub-expression vanishes, where a
polynomial sub-expression has a turning point, where the argument of sin/cos/tan
is a multiple of pi/2 (rational approximations, certified like any point).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from ..evaluate import (Evaluator, Uncertain, Undefined, Unevaluable, approx, as_equation, condition_holds,
                        format_value, magnitude_bits, relation_holds, sign, subtract, to_arb)
from ..facts import table_satisfies
from .bounds import INF, Interval, symbol_interval

SPECIAL = [Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2), Fraction(-1, 2),
           Fraction(3), Fraction(-3), Fraction(1, 3), Fraction(10), Fraction(-10), Fraction(1, 10),
           Fraction(-1, 10), Fraction(100), Fraction(-100), Fraction(1, 100), Fraction(7, 4), Fraction(-5, 3),
           Fraction(1000), Fraction(-1000), Fraction(10 ** 4), Fraction(-10 ** 4), Fraction(1, 1000),
           Fraction(-1, 1000), Fraction(10 ** 6), Fraction(-10 ** 6), Fraction(1, 10 ** 6), Fraction(10 ** 9),
           Fraction(-10 ** 9)]
# magnitudes far beyond 10^9 (exact; transcendental functions of them are arb balls)
HUGE = [Fraction(10 ** 30), Fraction(-10 ** 30), Fraction(1, 10 ** 30), Fraction(10 ** 100), Fraction(-10 ** 100),
        Fraction(1, 10 ** 100), Fraction(10 ** 1000), Fraction(2 ** (2 ** 16)), Fraction(-10 ** 1000),
        Fraction(1, 10 ** 1000), Fraction(1, 2 ** (2 ** 16)),
        ]
SPECIAL = SPECIAL + HUGE
HUGE_INT = [Fraction(k) for k in (10 ** 30, -10 ** 30, 10 ** 100, 10 ** 1000, 2 ** (2 ** 16))]
SPECIAL_INT = [Fraction(k) for k in (0, 1, -1, 2, -2, 3, 4, 5, -3, 10, 7, 100, 1000, -1000, 10 ** 6, -10 ** 6)] + \
    HUGE_INT
SPECIAL_MODERATE = [v for v in SPECIAL if v not in HUGE]
SPECIAL_INT_MODERATE = [v for v in SPECIAL_INT if v not in HUGE_INT]

# values mixed at random between the symbols (mode 1): not the 65536-bit ones, whose
# exact sums and products are slow; each of those is tried once with every symbol (mode 0)
SPECIAL_MIXED = [v for v in SPECIAL if max(v.numerator.bit_length(), v.denominator.bit_length()) <= 4000]
SPECIAL_INT_MIXED = [v for v in SPECIAL_INT if v.numerator.bit_length() <= 4000]

# precision ladder (bits) for deciding a comparison at one point; a level above the
# first is used only when the previous one could not decide, and is sized from the
# magnitudes that were met (cancellation), capped at MAX_PREC
FIRST_PREC = 128
MAX_PREC = 1 << 13
PREC_LEVELS = 3
MAX_CRITICAL_POINTS = 16     # candidate points from critical values, at most
MAX_POLY_DEGREE = 8          # polynomial sub-expressions whose roots are located
NEWTON_STARTS = 3            # univariate local refinement: starts ...
NEWTON_STEPS = 12            # ... and steps from each
SHRINK_DIGITS = (1, 2, 3, 5, 8, 12, 20)  # shorter denominators tried for a long counterexample value


@dataclass
class Problem:
    lhs: object
    rel: str
    rhs: object
    conds: list            # elaborate.Condition
    premises: list         # (lhs, rel, rhs) ground relations that must hold at the point
    known: dict            # symbol -> Interval (from premises)
    extra_points: list = field(default_factory=list)  # candidate points from solvers
    function_facts: list = field(default_factory=list)  # facts.FunctionFact the function values must satisfy
    critical: list | None = field(default=None, repr=False)  # computed once, by the first search


@dataclass
class Outcome:
    kind: str                  # "counterexample", "evidence", "inconclusive"
    point: dict | None = None  # name -> text
    message: str = ""
    valid: int = 0
    tight: bool = False


def _in(x: Fraction, iv: Interval) -> bool:
    if iv.lo != -INF and (x < iv.lo or (x == iv.lo and not iv.lo_closed)):
        return False
    if iv.hi != INF and (x > iv.hi or (x == iv.hi and not iv.hi_closed)):
        return False
    if iv.nonzero and x == 0:
        return False
    return True


def value_allowed(s, v, interval: Interval | None = None) -> bool:
    """May symbol s take the exact value v (its sign, integrality, and the given bounds)?"""
    if not isinstance(v, Fraction) or (s.is_integer and v.denominator != 1):
        return False
    return _in(v, interval if interval is not None else symbol_interval(s))


class Sampler:
    def __init__(self, problem: Problem, rng: random.Random):
        self.p = problem
        self.rng = rng
        exprs = [problem.lhs, problem.rhs] + [c.expr for c in problem.conds] + \
                [e for (l, _, r) in problem.premises for e in (l, r)] + \
                [e for ff in problem.function_facts for e in (ff.const, ff.lo, ff.hi) if e is not None]
        syms = set()
        for e in exprs:
            syms |= {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
        self.symbols = sorted(syms, key=lambda s: (s.name, sp.default_sort_key(s)))
        self.exprs = exprs
        atoms = set()
        for e in exprs:
            atoms |= e.atoms(AppliedUndef)
            atoms |= {d for d in e.atoms(sp.Derivative) if d.expr.has(AppliedUndef)}
            atoms |= {d for d in e.atoms(sp.Subs) if d.has(AppliedUndef)}
        # inner applications first: g(f(x)) needs f(x)
        self.atoms = sorted(atoms, key=lambda a: (sp.count_ops(a), sp.default_sort_key(a)))
        self.intervals = {s: self._interval(s) for s in self.symbols}
        self._special_cache: dict = {}
        self.supported = all(self._atom_key_parts(a) is not None for a in self.atoms)

    def _interval(self, s) -> Interval:
        iv = symbol_interval(s)
        if s in self.p.known:
            from .bounds import intersect
            iv = intersect(iv, self.p.known[s])
        return iv

    @staticmethod
    def _atom_key_parts(a):
        """(function, order, argument expression) identifying an atom's value."""
        if isinstance(a, AppliedUndef):
            if len(a.args) != 1:
                return None
            return (a.func, 0, a.args[0])
        if isinstance(a, sp.Derivative):
            f = a.expr
            if isinstance(f, AppliedUndef) and len(f.args) == 1 and len(a.variable_count) == 1 and \
                    a.variable_count[0][0] == f.args[0]:
                return (f.func, int(a.variable_count[0][1]), f.args[0])
            return None
        if isinstance(a, sp.Subs):
            inner = a.expr
            if isinstance(inner, sp.Derivative) and isinstance(inner.expr, AppliedUndef) and \
                    len(a.variables) == 1 and len(inner.variable_count) == 1 and \
                    inner.expr.args == (a.variables[0],) and inner.variable_count[0][0] == a.variables[0]:
                return (inner.expr.func, int(inner.variable_count[0][1]), a.point[0])
            return None
        return None

    # -- values
    def _special(self, s, kind: str) -> list:
        """The special values of a kind ("moderate", "mixed", "huge") allowed for s
        (computed once per symbol)."""
        key = (s, kind)
        if key not in self._special_cache:
            ints = bool(s.is_integer)
            pool = {"moderate": SPECIAL_INT_MODERATE if ints else SPECIAL_MODERATE,
                    "mixed": SPECIAL_INT_MIXED if ints else SPECIAL_MIXED,
                    "huge": HUGE_INT if ints else HUGE}[kind]
            self._special_cache[key] = [v for v in pool if _in(v, self.intervals[s])]
        return self._special_cache[key]

    def value_for(self, s, mode: int, k: int) -> Fraction:
        iv = self.intervals[s]
        ints = bool(s.is_integer)
        if mode == 0:  # everyone takes the same special value
            cands = self._special(s, "moderate")
            if cands:
                return cands[k % len(cands)]
        if mode == 1:
            cands = self._special(s, "mixed")
            if cands:
                return self.rng.choice(cands)
        return self.random_value(iv, ints)

    def random_value(self, iv: Interval, ints: bool) -> Fraction:
        for _ in range(50):
            # magnitudes spread from 10^-6 to 10^9 (most of them small)
            exponent = self.rng.choice([0, 0, 0, 0, 1, 1, 2, -1, -2, 3, 4, 6, -4, -6, 9])
            if ints:
                top = max(3, int(3 * 10 ** max(exponent, 0)))
                v = Fraction(self.rng.randint(-top, top))
            else:
                den = self.rng.choice([1, 2, 3, 4, 5, 7, 8, 10, 16])
                mant = Fraction(self.rng.randint(-3 * den, 3 * den), den)
                v = mant * Fraction(10) ** exponent
            if iv.lo != -INF and iv.hi != INF:
                width = iv.hi - iv.lo
                v = iv.lo + width * Fraction(self.rng.randint(0, 1000), 1000)
                if ints:
                    v = Fraction(round(v))
            elif iv.lo != -INF:
                v = iv.lo + abs(v)
            elif iv.hi != INF:
                v = iv.hi - abs(v)
            if _in(v, iv):
                return v
        return Fraction(1) if _in(Fraction(1), iv) else (iv.lo + 1 if iv.lo != -INF else iv.hi - 1)

    def admissible(self, point: dict) -> bool:
        """Does the point respect every declared assumption (sign, integrality, premises' bounds)?"""
        return all(value_allowed(s, point.get(s), self.intervals[s]) for s in self.symbols)

    def points(self, count: int):
        """The first `count` points of a fixed sequence: every moderate special value
        for all symbols at once, ten random mixes of special values, then each huge
        magnitude for all symbols at once (a search of 40 points, the quick one, stops
        before these), then random mixes, then random values."""
        n_mod = len(SPECIAL_MODERATE)
        for k in range(count):
            if k < n_mod:
                point = {s: self.value_for(s, 0, k) for s in self.symbols}
            elif k < n_mod + 10:
                point = {s: self.value_for(s, 1, k) for s in self.symbols}
            elif k < n_mod + 10 + len(HUGE):
                j = k - n_mod - 10
                point = {s: self._huge(s, j) for s in self.symbols}
            elif k < 3 * len(SPECIAL):
                point = {s: self.value_for(s, 1, k) for s in self.symbols}
            else:
                point = {s: self.value_for(s, 2, k) for s in self.symbols}
            yield point

    def _huge(self, s, j: int) -> Fraction:
        """The j-th huge magnitude allowed for s (a moderate special value if none is)."""
        huge = self._special(s, "huge")
        if huge:
            return huge[j % len(huge)]
        return self.value_for(s, 0, j)

    # -- critical points
    def critical_values(self) -> list:
        """[(symbol, value)]: where a sub-expression with that one symbol vanishes or
        turns (roots of polynomials and their derivatives), and where a trigonometric
        argument linear in it is a multiple of pi/2. Deterministic, at most
        MAX_CRITICAL_POINTS, each value allowed for its symbol."""
        subs: list = []
        seen: set = set()
        trig_args: set = set()

        def add(u):
            if isinstance(u, sp.Basic) and not u.is_number and u not in seen:
                seen.add(u)
                subs.append(u)

        if len(self.symbols) == 1 or len((self.p.lhs - self.p.rhs).free_symbols) == 1:
            add(self.p.rhs - self.p.lhs)
        for e in self.exprs:
            for node in sp.preorder_traversal(e):
                if isinstance(node, sp.Add):
                    add(node)
                elif isinstance(node, (sp.Max, sp.Min)):
                    for a, b in zip(node.args, node.args[1:]):
                        add(a - b)
                if isinstance(node, (sp.sin, sp.cos, sp.tan)):
                    trig_args.add(node.args[0])
                if isinstance(node, sp.Function):
                    for a in node.args:
                        add(a)
                elif isinstance(node, sp.Pow) and not (node.exp.is_Integer and node.exp > 0):
                    add(node.base)  # a denominator or a root: where it vanishes
        out: list = []
        for u in subs:
            free = u.free_symbols
            if len(free) != 1:
                continue
            (s,) = free
            if s not in self.intervals or u.has(sp.Function, sp.Sum, sp.Product):
                continue  # not a polynomial in one declared name: no roots located
            values = _poly_critical_values(u, s)
            if u in trig_args:
                values += _trig_critical_values(u, s)
            for v in values:
                if (s, v) not in out and value_allowed(s, v, self.intervals[s]):
                    out.append((s, v))
                    if len(out) >= MAX_CRITICAL_POINTS:
                        return out
        return out

    def critical_points(self) -> list:
        """Full points built around the critical values: the symbol takes its critical
        value, the others one of the first special values allowed for them."""
        points = []
        for i, (s, v) in enumerate(self.critical_values()):
            point = {t: (v if t == s else self.value_for(t, 0, 1 + i % 3)) for t in self.symbols}
            if point not in points:
                points.append(point)
        return points

    # -- evaluation of one point
    def complete(self, point: dict, fixed: dict | None = None):
        """Add values for the abstract-function atoms (taking those in `fixed` first).

        Returns (env, shown, table) or None; table maps (function, derivative
        order, argument value) to the value, one value per argument value."""
        env = dict(point)
        table: dict = {}
        shown = {}
        for a in self.atoms:
            func, order, arg = self._atom_key_parts(a)
            try:
                v = Evaluator(env, 128)(arg)
            except (Uncertain, Undefined):
                return None
            if not isinstance(v, Fraction):
                return None  # only exact arguments give unambiguous function values
            key = (func, order, v)
            if fixed and a in fixed:
                if key in table and table[key] != fixed[a]:
                    return None  # the candidate gives one point two values
                table[key] = fixed[a]
            elif key not in table:
                table[key] = self.random_value(Interval(), False) if self.rng.random() < 0.7 else \
                    self.rng.choice(SPECIAL_MODERATE)
            env[a] = table[key]
            shown[str(a)] = format_value(table[key])
        return env, shown, table


def _check_point(p: Problem, env: dict, prec: int = FIRST_PREC, final: bool = False, with_mag: bool = False):
    """("violated", why) / ("holds", margin) / ("skip", why) at one full point; with
    with_mag, a third item: the largest magnitude (bits) met, to size the next precision.
    A skip whose reason is in ESCALATE may be decided at a higher precision."""
    ev = Evaluator(env, prec)

    def out(*r):
        return (*r, ev.mag) if with_mag else r

    for (l, r, rr) in p.premises:
        try:
            d = subtract(ev(rr), ev(l), prec)
        except (Undefined, Unevaluable):
            return out("skip", "premise undefined")
        except Uncertain:
            return out("skip", "premise")
        ok = relation_holds(r, d)
        if ok is None:
            ev.mag = max(ev.mag, magnitude_bits(d))
            return out("skip", "premise")
        if not ok:
            return out("skip", "premise false")
    kinks = []  # violated smoothness conditions of derivatives (conditions with a jump)
    for c in p.conds:
        try:
            v = ev(c.expr)
        except Undefined:
            continue  # an enclosing condition reports it
        except Unevaluable:
            return out("skip", "condition unevaluable")
        except Uncertain:
            return out("skip", "condition")
        ok = condition_holds(c.rel, v)
        if ok is None:
            return out("skip", "condition")
        if not ok:
            if getattr(c, "jump", None) is not None:
                kinks.append(c)
                continue
            return out("violated", f"undefined there: {c.why}, and it is "
                                   f"{ {'!=': '0', '>': 'not positive', '>=': 'negative'}[c.rel]} there")
    if kinks:
        verdict = _at_kinks(kinks, ev)
        if verdict is not None:
            return out(*verdict)
    try:
        a, b = ev(p.lhs), ev(p.rhs)
    except Undefined as exc:
        return out("violated", f"undefined there ({exc})")
    except Unevaluable:
        return out("skip", "unevaluable")
    except Uncertain:
        return out("skip", "value")
    ev.mag = max(ev.mag, magnitude_bits(a), magnitude_bits(b))
    d = subtract(b, a, prec)
    ok = relation_holds(p.rel, d)
    if ok is None:
        if final and p.rel in ("=", "<=", ">="):
            # the sides agree to the working precision: evidence, never a proof
            return out("holds", 0.0)
        return out("skip", "precision")
    if not ok:
        return out("violated", f"left side {as_equation(a)}, right side {as_equation(b)}")
    scale = 1 + abs(_float(a)) + abs(_float(b))
    margin = abs(_float(d)) / scale
    return out("holds", margin if margin == margin else 1.0)  # inf/inf: not a small margin


ESCALATE = ("precision", "value", "condition", "premise", "kink")


def _at_kinks(kinks, ev):
    """The point is at kinks of derivatives (|u| with u = 0, max/min with equal
    arguments, roots at 0). None: the derivative exists there (every jump is 0,
    and the formal derivative gives its value); ("violated", why): it provably does
    not (one kink only, whose one-sided derivatives certainly differ); else a skip."""
    jumps = []
    for c in kinks:
        if c.jump.has(sp.nan):
            return ("skip", "kink unknown")
        try:
            jumps.append(ev(c.jump))
        except (Undefined, Unevaluable):
            return ("skip", "kink unknown")
        except Uncertain:
            return ("skip", "kink")
    signs = [sign(j) for j in jumps]
    if all(s == 0 for s in signs):
        return None
    # one kink only: two kinks at one point (max(x, 0) + min(x, 0)) may cancel
    if len({(c.expr, c.jump) for c in kinks}) == 1 and all(s is not None and s != 0 for s in signs):
        c = kinks[0]
        return ("violated", f"the derivative does not exist there: {c.why}, it is 0 there, and the "
                            f"derivatives from the two sides differ (by {format_value(abs(jumps[0])) if isinstance(jumps[0], Fraction) else approx(abs(jumps[0]))})")
    if any(s is None for s in signs):
        return ("skip", "kink")
    return ("skip", "kink unknown")


def _float(v) -> float:
    try:
        return float(v) if isinstance(v, Fraction) else float(v.mid())
    except (OverflowError, ValueError):
        return float("inf")


def _show(point: dict, shown: dict) -> dict:
    out = {s.name: format_value(v) for s, v in point.items()}
    out.update(shown)
    return out


def search(p: Problem, rng: random.Random, count: int, time_left, local: bool = True) -> Outcome:
    sampler = Sampler(p, rng)
    if not sampler.supported:
        return Outcome("inconclusive", message="abstract functions used in a way the search cannot model")
    valid = 0
    best: list = []  # (margin, point)
    tight = False
    if p.critical is None:
        p.critical = sampler.critical_points()
    candidates = list(p.extra_points) + list(p.critical) + list(sampler.points(count))
    seen = set()
    for raw in candidates:
        point = {s: raw.get(s, Fraction(0)) for s in sampler.symbols}
        fixed = {a: v for a, v in raw.items() if a in sampler.atoms}
        if not sampler.admissible(point):
            continue
        key = (tuple(point.values()), tuple(sorted(map(str, fixed.items()))))
        if key in seen:
            continue
        seen.add(key)
        result = _evaluate(p, sampler, point, fixed)
        if result is None:
            continue
        kind, info, shown = result
        if kind == "violated":
            point, info, shown = _shrink(p, sampler, point, fixed, info, shown)
            return Outcome("counterexample", _show(point, shown), info, valid)
        if kind == "holds":
            valid += 1
            if all(max(v.numerator.bit_length(), v.denominator.bit_length()) <= 256 for v in point.values()):
                best.append((info, point))  # local search starts only from moderate values
            if p.rel in ("<", ">", "!=") and info < 1e-12:
                tight = True
    if local and p.rel in ("<", "<=", ">", ">=") and best and sampler.symbols:
        best.sort(key=lambda t: t[0])  # a stable sort: ties keep the order the points were tried in
        if len(sampler.symbols) == 1:
            for margin, start in best[:NEWTON_STARTS]:
                found = _newton(p, sampler, start)
                if found is not None:
                    return Outcome("counterexample", _show(found[0], found[2]), found[1], valid)
        for margin, start in best[:3]:
            found = _descend(p, sampler, start)
            if found is not None:
                kind, point, info, shown = found
                if kind == "violated":
                    return Outcome("counterexample", _show(point, shown), info, valid)
                if kind == "tight":
                    tight = True
    return Outcome("evidence", None, "", valid, tight)


SIMPLE = [Fraction(v) for v in (0, 1, -1, 2, -2, 3, -3)] + [Fraction(1, 2), Fraction(-1, 2), Fraction(10),
                                                             Fraction(-10)]


SHRINK_PASSES = 3


def _simplicity(v: Fraction) -> int:
    return abs(v.numerator) + v.denominator


def _shrink(p, sampler, point, fixed, info, shown, time_left=None):
    """Simpler values that still break the step (each one certified like any point).
    A name made simpler can let another become simpler too (b = -1 lets a go from -10
    to -2), so the simple values are tried again until nothing changes, at most
    SHRINK_PASSES times: at most SHRINK_PASSES * len(symbols) * len(SIMPLE) evaluations,
    then len(symbols) * len(SHRINK_DIGITS)."""
    def breaks(s, v):
        """The point with s = v, when it is admissible and still breaks the step."""
        cand = dict(point)
        cand[s] = v
        if not sampler.admissible(cand):
            return None
        r = _evaluate(p, sampler, cand, fixed)
        return (cand, r[1], r[2]) if r is not None and r[0] == "violated" else None

    for _ in range(SHRINK_PASSES):
        changed = False
        for s in sampler.symbols:
            for v in SIMPLE:
                if _simplicity(v) >= _simplicity(point[s]):
                    break
                found = breaks(s, v)
                if found:
                    point, info, shown = found
                    changed = True
                    break
        if not changed:
            break
    # long fractions (critical points, local search): the shortest nearby one that still breaks it
    for s in sampler.symbols:
        v = point[s]
        if v.denominator < 10 ** 6:
            continue
        for k in SHRINK_DIGITS:
            cand_v = v.limit_denominator(10 ** k)
            if cand_v == v or _simplicity(cand_v) >= _simplicity(v):
                break
            found = breaks(s, cand_v)
            if found:
                point, info, shown = found
                break
    return point, info, shown


def _evaluate(p, sampler, point, fixed=None):
    done = sampler.complete(point, fixed)
    if done is None:
        return None
    env, shown, table = done
    if p.function_facts:
        ev = Evaluator(env, 128)
        for ff in p.function_facts:
            if table_satisfies(ff, table, ev) is not True:
                return None  # these function values break a cited fact: not a counterexample
    return _decide_point(p, env, shown)


def _decide_point(p, env, shown):
    """Check one full point, raising the precision while the balls cannot decide:
    at most PREC_LEVELS evaluations, from FIRST_PREC up to MAX_PREC bits, each
    level sized from the magnitudes met (cancellation in sums, arguments of
    periodic functions). When the sides of `=`, `<=`, `>=` still cannot be told
    apart with ample bits for those magnitudes (their size plus 256), the point
    is evidence (never a proof); a point that stays undecided otherwise, or whose
    magnitudes need more than MAX_PREC bits, is skipped."""
    prec = FIRST_PREC
    for level in range(PREC_LEVELS):
        kind, info, mag = _check_point(p, env, prec, with_mag=True)
        if kind != "skip":
            return kind, info, shown
        if info not in ESCALATE:
            return None
        need = mag + 2 * FIRST_PREC  # bits for the magnitudes met, and 256 more
        if level > 0 and prec >= need:
            if info == "precision" and p.rel in ("=", "<=", ">="):
                return "holds", 0.0, shown
            return None
        nxt = max(4 * prec, need)
        if nxt > MAX_PREC:
            return None  # more bits than we spend on one point: neither evidence nor counterexample
        prec = nxt
    return None


def _descend(p, sampler, start: dict, time_left=None, budget: int = 120):
    """Pattern search on the margin; returns a violated point if it finds one.
    At most `budget` evaluations (counted, never timed)."""
    point = dict(start)
    res = _evaluate(p, sampler, point)
    if res is None or res[0] != "holds":
        return None
    current = res[1]
    step = Fraction(1, 2)
    evals = 0
    while evals < budget and step > Fraction(1, 10 ** 7):
        improved = False
        for s in sampler.symbols:
            for direction in (1, -1):
                scale = max(Fraction(1), abs(point[s]))  # relative steps far from 0
                delta = step * scale
                if s.is_integer:
                    delta = max(Fraction(1), Fraction(round(delta)))
                cand = dict(point)
                cand[s] = point[s] + direction * delta
                cand[s] = Fraction(cand[s]).limit_denominator(10 ** 9)
                if not sampler.admissible(cand):
                    continue
                evals += 1
                r = _evaluate(p, sampler, cand)
                if r is None:
                    continue
                if r[0] == "violated":
                    shrunk, info, shown = _shrink(p, sampler, cand, None, r[1], r[2])
                    return ("violated", shrunk, info, shown)
                if r[1] < current:
                    point, current, improved = cand, r[1], True
        if not improved:
            step /= 4
    if p.rel in ("<", ">") and current < 1e-9:
        return ("tight", point, current, {})
    return None


def _as_fraction(v) -> Fraction | None:
    """An exact rational near a ball's midpoint (or the exact value)."""
    if isinstance(v, Fraction):
        return v
    try:
        man, exp = v.mid().man_exp()
    except (AttributeError, ValueError):
        return None
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


def _round(v: Fraction, bits: int = 200) -> Fraction:
    """v with a denominator of at most `bits` bits (closest such), or v if already small."""
    if v.denominator.bit_length() <= bits:
        return v
    return v.limit_denominator(2 ** bits)


def _degree_bound(u, s) -> float:
    """An upper bound on the degree of u in s, read off the tree without expanding
    it (infinity where u is not visibly a polynomial in s)."""
    if not u.has(s):
        return 0
    if u == s:
        return 1
    if isinstance(u, sp.Add):
        return max(_degree_bound(a, s) for a in u.args)
    if isinstance(u, sp.Mul):
        return sum(_degree_bound(a, s) for a in u.args)
    if isinstance(u, sp.Pow) and u.exp.is_Integer and u.exp >= 0:
        return int(u.exp) * _degree_bound(u.base, s)
    return float("inf")


def _poly_critical_values(u, s) -> list:
    """Real roots of u and of du/ds when u is a polynomial in s with rational
    coefficients of degree <= MAX_POLY_DEGREE: exact when rational, else rational
    approximations to about 200 bits."""
    from flint import arb as _arb, ctx, fmpz_poly
    if _degree_bound(u, s) > MAX_POLY_DEGREE:
        return []  # (x + 1)^100000 would be expanded term by term first
    try:
        poly = sp.Poly(u, s)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return []
    if not poly.is_univariate or poly.degree() < 1 or poly.degree() > MAX_POLY_DEGREE or \
            not all(c.is_Rational for c in poly.all_coeffs()):
        return []
    out = []
    for q in (poly, poly.diff(s)):
        if q.degree() < 1:
            continue
        coeffs = [sp.Rational(c) for c in reversed(q.all_coeffs())]
        den = sp.ilcm(*[c.q for c in coeffs])
        fp = fmpz_poly([int(c * den) for c in coeffs])
        old = ctx.prec
        ctx.prec = 256
        try:
            for fac, _m in fp.factor()[1]:
                if fac.degree() == 1:
                    c0, c1 = int(fac[0]), int(fac[1])
                    out.append(Fraction(-c0, c1))
                else:
                    for root, _mult in fac.complex_roots():
                        if root.imag.is_zero():
                            r = _as_fraction(root.real)
                            if r is not None:
                                out.append(_round(r))
        finally:
            ctx.prec = old
    return out


def _trig_critical_values(u, s) -> list:
    """Where the linear argument u = a*s + b of sin/cos/tan is k*pi/2, |k| <= 4:
    rational approximations to about 200 bits."""
    from flint import arb as _arb, ctx
    try:
        poly = sp.Poly(u, s)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return []
    if poly.degree() != 1 or not all(c.is_Rational for c in poly.all_coeffs()):
        return []
    a, b = [Fraction(int(c.p), int(c.q)) for c in poly.all_coeffs()]
    out = []
    old = ctx.prec
    ctx.prec = 256
    try:
        half_pi = _arb.pi() / 2
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            v = (half_pi * k - to_arb(b)) / to_arb(a)
            r = _as_fraction(v)
            if r is not None:
                out.append(_round(r))
    finally:
        ctx.prec = old
    return out


def _newton(p, sampler, start: dict):
    """For a one-symbol inequality: Newton steps on the derivative of the margin
    (towards its turning points, where narrow extrema hide) from a start point.
    Returns (point, why, shown) of a certified violation, or None. At most
    NEWTON_STEPS evaluations; every candidate is checked like any point."""
    (s,) = sampler.symbols
    if sampler.atoms:
        return None
    d = p.rhs - p.lhs
    try:
        d1 = sp.diff(d, s)
        d2 = sp.diff(d1, s)
    except Exception:  # noqa: BLE001 - no derivative, no refinement
        return None
    if d1.has(sp.Derivative, sp.Subs) or d2.has(sp.Derivative, sp.Subs):
        return None
    x = start[s]
    tried = set()
    for _ in range(NEWTON_STEPS):
        ev = Evaluator({s: x}, FIRST_PREC)
        try:
            g, h = ev(d1), ev(d2)
        except (Uncertain, Undefined, ZeroDivisionError):
            return None
        hv = to_arb(h)
        if not (hv > 0 or hv < 0):
            return None
        step = _as_fraction(to_arb(g) / hv) if not (isinstance(g, Fraction) and isinstance(h, Fraction)) \
            else g / h
        if step is None:
            return None
        x = _round(x - step)
        if x in tried:
            return None
        tried.add(x)
        point = {s: x}
        if not sampler.admissible(point):
            return None
        r = _evaluate(p, sampler, point)
        if r is not None and r[0] == "violated":
            point, info, shown = _shrink(p, sampler, point, None, r[1], r[2])
            return point, info, shown
    return None
