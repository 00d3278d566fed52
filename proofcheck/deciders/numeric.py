"""Counterexample search and test evidence. This module never proves anything.

Points are exact rationals chosen to respect the declared assumptions and the
premises (boundary values first, then random ones, then a local search towards
a violation). A point counts as a counterexample only when `evaluate` confirms,
exactly or with a certified arb enclosure, that every premise holds there and
the step fails (or is undefined) there. Values of abstract functions are chosen
per distinct argument value, so the reported values always come from a real
function.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from ..evaluate import (Evaluator, Uncertain, Undefined, as_equation, condition_holds, difference, format_value,
                        relation_holds, subtract)
from ..facts import table_satisfies
from .bounds import INF, Interval, symbol_interval

SPECIAL = [Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2), Fraction(-1, 2),
           Fraction(3), Fraction(-3), Fraction(1, 3), Fraction(10), Fraction(-10), Fraction(1, 10),
           Fraction(-1, 10), Fraction(100), Fraction(-100), Fraction(1, 100), Fraction(7, 4), Fraction(-5, 3),
           Fraction(1000), Fraction(-1000), Fraction(10 ** 4), Fraction(-10 ** 4), Fraction(1, 1000),
           Fraction(-1, 1000), Fraction(10 ** 6), Fraction(-10 ** 6), Fraction(1, 10 ** 6), Fraction(10 ** 9),
           Fraction(-10 ** 9)]
SPECIAL_INT = [Fraction(k) for k in (0, 1, -1, 2, -2, 3, 4, 5, -3, 10, 7, 100, 1000, -1000, 10 ** 6, -10 ** 6)]


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
        self.symbols = sorted(syms, key=lambda s: s.name)
        atoms = set()
        for e in exprs:
            atoms |= e.atoms(AppliedUndef)
            atoms |= {d for d in e.atoms(sp.Derivative) if d.expr.has(AppliedUndef)}
            atoms |= {d for d in e.atoms(sp.Subs) if d.has(AppliedUndef)}
        # inner applications first: g(f(x)) needs f(x)
        self.atoms = sorted(atoms, key=lambda a: (sp.count_ops(a), sp.default_sort_key(a)))
        self.intervals = {s: self._interval(s) for s in self.symbols}
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
    def value_for(self, s, mode: int, k: int) -> Fraction:
        iv = self.intervals[s]
        ints = bool(s.is_integer)
        pool = SPECIAL_INT if ints else SPECIAL
        if mode == 0:  # everyone takes the same special value
            cands = [v for v in pool if _in(v, iv)]
            if cands:
                return cands[k % len(cands)]
        if mode == 1:
            cands = [v for v in pool if _in(v, iv)]
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
        n_special = len(SPECIAL)
        for k in range(count):
            if k < n_special:
                mode = 0
            elif k < 3 * n_special:
                mode = 1
            else:
                mode = 2
            yield {s: self.value_for(s, mode, k) for s in self.symbols}

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
                    self.rng.choice(SPECIAL)
            env[a] = table[key]
            shown[str(a)] = format_value(table[key])
        return env, shown, table


def _check_point(p: Problem, env: dict, prec: int = 128, final: bool = False):
    """("violated", why) / ("holds", margin) / ("skip", why) at one full point."""
    for (l, r, rr) in p.premises:
        try:
            d = difference(l, rr, env, prec)
        except (Uncertain, Undefined):
            return ("skip", "premise")
        if relation_holds(r, d) is not True:
            return ("skip", "premise")
    for c in p.conds:
        try:
            v = Evaluator(env, prec)(c.expr)
        except Undefined:
            continue  # an enclosing condition reports it
        except Uncertain:
            return ("skip", "condition")
        ok = condition_holds(c.rel, v)
        if ok is None:
            return ("skip", "condition")
        if not ok:
            return ("violated", f"undefined there: {c.why}, and it is "
                                f"{ {'!=': '0', '>': 'not positive', '>=': 'negative'}[c.rel]} there")
    try:
        ev = Evaluator(env, prec)
        a, b = ev(p.lhs), ev(p.rhs)
    except Undefined as exc:
        return ("violated", f"undefined there ({exc})")
    except Uncertain:
        return ("skip", "value")
    d = subtract(b, a)
    ok = relation_holds(p.rel, d)
    if ok is None:
        if final and p.rel in ("=", "<=", ">="):
            # the sides agree to the working precision: evidence, never a proof
            return ("holds", 0.0)
        return ("skip", "precision")
    if not ok:
        return ("violated", f"left side {as_equation(a)}, right side {as_equation(b)}")
    scale = 1 + abs(_float(a)) + abs(_float(b))
    return ("holds", abs(_float(d)) / scale)


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
    candidates = list(p.extra_points) + list(sampler.points(count))
    seen = set()
    for raw in candidates:
        if time_left() <= 0:
            break
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
            point, info, shown = _shrink(p, sampler, point, fixed, info, shown, time_left)
            return Outcome("counterexample", _show(point, shown), info, valid)
        if kind == "holds":
            valid += 1
            best.append((info, point))
            if p.rel in ("<", ">", "!=") and info < 1e-12:
                tight = True
    if local and p.rel in ("<", "<=", ">", ">=") and best and sampler.symbols:
        best.sort(key=lambda t: t[0])
        for margin, start in best[:3]:
            found = _descend(p, sampler, start, time_left)
            if found is not None:
                kind, point, info, shown = found
                if kind == "violated":
                    return Outcome("counterexample", _show(point, shown), info, valid)
                if kind == "tight":
                    tight = True
    return Outcome("evidence", None, "", valid, tight)


SIMPLE = [Fraction(v) for v in (0, 1, -1, 2, -2, 3, -3)] + [Fraction(1, 2), Fraction(-1, 2), Fraction(10),
                                                             Fraction(-10)]


def _simplicity(v: Fraction) -> int:
    return abs(v.numerator) + v.denominator


def _shrink(p, sampler, point, fixed, info, shown, time_left):
    """Simpler values that still break the step (each one certified like any point)."""
    for s in sampler.symbols:
        for v in SIMPLE:
            if time_left() <= 0 or _simplicity(v) >= _simplicity(point[s]):
                break
            cand = dict(point)
            cand[s] = v
            if not sampler.admissible(cand):
                continue
            r = _evaluate(p, sampler, cand, fixed)
            if r is not None and r[0] == "violated":
                point, info, shown = cand, r[1], r[2]
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
    kind, info = _check_point(p, env)
    if kind == "skip":
        kind2, info2 = _check_point(p, env, 512, final=True)
        if kind2 == "skip":
            return None
        kind, info = kind2, info2
    return kind, info, shown


def _descend(p, sampler, start: dict, time_left, budget: int = 120):
    """Pattern search on the margin; returns a violated point if it finds one."""
    point = dict(start)
    res = _evaluate(p, sampler, point)
    if res is None or res[0] != "holds":
        return None
    current = res[1]
    step = Fraction(1, 2)
    evals = 0
    while evals < budget and step > Fraction(1, 10 ** 7) and time_left() > 0:
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
                    shrunk, info, shown = _shrink(p, sampler, cand, None, r[1], r[2], time_left)
                    return ("violated", shrunk, info, shown)
                if r[1] < current:
                    point, current, improved = cand, r[1], True
        if not improved:
            step /= 4
    if p.rel in ("<", ">") and current < 1e-9:
        return ("tight", point, current, {})
    return None
