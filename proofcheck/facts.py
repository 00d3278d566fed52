"""Cited facts: the built-in ones as formulas, ground instances at a step's
terms, and what a counterexample must satisfy.

Instantiation is E-matching in miniature: the non-arithmetic subterms of a
`forall` fact that contain its bound names (`f(u)`, `exp(t)`, `sqrt(a*b)`) are its
triggers; each trigger is matched against the subterms of the step, and the
bindings found (or, for a name no trigger binds, the step's basic terms) are
combined into ground instances. More instances can only help a proof, never
make a false step provable: each instance is a consequence of the fact.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from .elaborate import FAnd, Fact, FForall, FImplies, Rel
from .syntax import Span

MAX_INSTANCES = 150
_NOSPAN = Span(0, 0, 0, 0)


def rel(lhs, r, rhs) -> Rel:
    return Rel(lhs, r, rhs, (), f"{lhs} {r} {rhs}", str(lhs), str(rhs), _NOSPAN)


def _builtin_formulas() -> dict:
    # fixed indices: this module may be loaded in the middle of a task (decide.py loads it
    # on first use), and must not move the numbering of that task's own Dummies
    a, b, t = (sp.Dummy(n, dummy_index=k, real=True) for k, n in enumerate(("a", "b", "t"), start=1))
    return {
        "triangle": FForall([a, b], rel(sp.Abs(a + b), "<=", sp.Abs(a) + sp.Abs(b))),
        "rev_triangle": FForall([a, b], rel(sp.Abs(sp.Abs(a) - sp.Abs(b)), "<=", sp.Abs(a - b))),
        "abs_mul": FForall([a, b], rel(sp.Abs(a * b), "=", sp.Abs(a) * sp.Abs(b))),
        "exp_ge": FForall([t], rel(sp.exp(t), ">=", 1 + t)),
        "log_le": FForall([t], FImplies(rel(t, ">", sp.Integer(0)), rel(sp.log(t), "<=", t - 1))),
        "am_gm": FForall([a, b], FImplies(FAnd([rel(a, ">=", sp.Integer(0)), rel(b, ">=", sp.Integer(0))]),
                                          rel(a + b, ">=", 2 * sp.sqrt(a * b)))),
    }


BUILTIN = _builtin_formulas()
# facts that the exact |.| encoding of the real-arithmetic decider already knows
IMPLIED_BY_ENCODING = {"triangle", "rev_triangle", "abs_mul"}


def builtin_fact(name: str) -> Fact:
    return Fact(name, "builtin", BUILTIN.get(name), 0)


# ---------------------------------------------------------------- the terms
def subterms(exprs) -> list:
    """Every sub-expression, once each, in a fixed order (first met in a preorder
    walk): callers iterate over it, and a set's order would change with the hash
    seed, and with it which instances fit under MAX_INSTANCES."""
    out: dict = {}
    for e in exprs:
        if isinstance(e, sp.Basic):
            for t in sp.preorder_traversal(e):
                out.setdefault(t, None)
    return list(out)


def basic_terms(exprs) -> list:
    """Symbols and non-arithmetic terms (function values): instantiation candidates."""
    out = set()
    for t in subterms(exprs):
        if t.is_Symbol or isinstance(t, AppliedUndef):
            out.add(t)
    return sorted(out, key=sp.default_sort_key)


def _formula_exprs(f):
    if isinstance(f, Rel):
        return [f.lhs, f.rhs]
    if isinstance(f, FAnd):
        return [e for p in f.parts for e in _formula_exprs(p)]
    if isinstance(f, FImplies):
        return _formula_exprs(f.premise) + _formula_exprs(f.conclusion)
    if isinstance(f, FForall):
        return _formula_exprs(f.body)
    return []


def map_exprs(f, fn):
    """The formula with fn applied to every expression in it."""
    if isinstance(f, Rel):
        return replace(f, lhs=fn(f.lhs), rhs=fn(f.rhs))
    if isinstance(f, FAnd):
        return FAnd([map_exprs(p, fn) for p in f.parts])
    if isinstance(f, FImplies):
        return FImplies(map_exprs(f.premise, fn), map_exprs(f.conclusion, fn))
    if isinstance(f, FForall):
        return FForall(f.variables, map_exprs(f.body, fn))
    return f


def substitute(f, mapping):
    """Replace names by terms. Every `forall` binds fresh Dummy names of its own, so no
    key of the mapping is bound inside and no term can be captured."""
    return map_exprs(f, lambda e: e.xreplace(mapping))


def prepare_formula(f, prepare):
    return map_exprs(f, prepare)


def _triggers(body, variables):
    trig = []
    for t in subterms(_formula_exprs(body)):
        if t.is_Atom or isinstance(t, (sp.Add, sp.Mul)) or not (t.free_symbols & set(variables)):
            continue
        if isinstance(t, sp.Pow) and t.exp.is_Integer:
            continue
        trig.append(t)
    return trig


def _match(pattern, term, variables):
    """Bindings of `variables` making pattern equal to term, or None."""
    if type(pattern) is not type(term):
        return None
    if isinstance(pattern, AppliedUndef) and pattern.func != term.func:
        return None
    wilds = {v: sp.Wild(f"w_{i}") for i, v in enumerate(variables)}
    m = term.match(pattern.xreplace(wilds))
    if not m:
        return None
    out = {}
    for v, w in wilds.items():
        if w in m:
            out[v] = m[w]
    return out


def instances(fact_formula, step_exprs, limit: int = MAX_INSTANCES) -> list:
    """Ground instances of a (possibly `forall`) fact at the terms of a step."""
    variables, body = [], fact_formula
    while isinstance(body, FForall):
        variables += body.variables
        body = body.body
    if not variables:
        return [body]
    terms = subterms(step_exprs)
    candidates = {v: [] for v in variables}
    for trig in _triggers(body, variables):
        for t in terms:
            m = _match(trig, t, variables)
            if m:
                for v, value in m.items():
                    if value.free_symbols & set(variables):
                        continue
                    if value not in candidates[v]:
                        candidates[v].append(value)
    basics = basic_terms(step_exprs)
    for v in variables:
        if not candidates[v]:
            candidates[v] = list(basics)
    pools = [candidates[v] for v in variables]
    present = {t for t in terms if isinstance(t, AppliedUndef)}
    out = []
    for combo in itertools.product(*pools):
        inst = substitute(body, dict(zip(variables, combo)))
        exprs = _formula_exprs(inst)
        if any(a not in present for e in exprs for a in e.atoms(AppliedUndef)):
            continue  # it would only speak of function values the step never mentions
        if _trivial(inst):
            continue
        out.append(inst)
        if len(out) >= limit:
            break
    return out


def _trivial(f) -> bool:
    """An instance that says nothing, such as |f(x) - f(x)| <= L*|x - x|."""
    if isinstance(f, Rel):
        return f.lhs == f.rhs and f.rel in ("=", "<=", ">=")
    return False


# --------------------------------------------------- what a model must satisfy
@dataclass
class FunctionFact:
    """A `forall` fact about one abstract function that a finite table can be
    checked against, with an extension to all of R guaranteed:
    kind "lipschitz": |F(u) - F(v)| <= c*|u - v|  (McShane extension),
    kind "bound":     |F(u)| <= c, or lo <= F(u) <= hi (clipping keeps Lipschitz),
    kind "monotone":  u <= v implies F(u) <= F(v) (or strict, or decreasing): a monotone
                      table extends by linear interpolation, and by slope ±1 outside."""
    func: object
    kind: str
    const: object = None
    lo: object = None
    hi: object = None
    direction: int = 1       # monotone: +1 increasing, -1 decreasing
    strict: bool = False


def classify(fact: Fact):
    """"builtin" (a true theorem), "ground", a FunctionFact, or None (cannot be checked at a point)."""
    if fact.kind == "builtin":
        return "builtin"
    f = fact.formula
    if not isinstance(f, FForall):
        return "ground"
    variables, body = [], f
    while isinstance(body, FForall):
        variables += body.variables
        body = body.body
    if isinstance(body, FImplies):
        m = _classify_monotone(body, variables)
        return [m] if m else None
    if not isinstance(body, (Rel, FAnd)):
        return None
    rels = body.parts if isinstance(body, FAnd) else [body]
    out = []
    for r in rels:
        c = _classify_rel(r, variables)
        if c is None:
            return None
        out.append(c)
    return out


def _classify_monotone(body: FImplies, variables):
    """forall u, v: u R v implies F(u) S F(v), with R, S among <, <=, >, >=."""
    if len(variables) != 2 or not isinstance(body.premise, Rel) or not isinstance(body.conclusion, Rel):
        return None
    u, v = variables
    p, c = body.premise, body.conclusion
    norm = {"<": ("<", False), "<=": ("<", True), ">": (">", False), ">=": (">", True)}
    if p.rel not in norm or c.rel not in norm:
        return None
    if {p.lhs, p.rhs} != {u, v}:
        return None
    a, b = (p.lhs, p.rhs)  # premise a R b
    if not (isinstance(c.lhs, AppliedUndef) and isinstance(c.rhs, AppliedUndef) and c.lhs.func == c.rhs.func
            and c.lhs.args == (a,) and c.rhs.args == (b,)):
        return None
    pr, p_weak = norm[p.rel]
    cr, c_weak = norm[c.rel]
    if p_weak and not c_weak:
        return None  # u <= v implies F(u) < F(v) is false at u = v: no function satisfies it
    direction = 1 if pr == cr else -1
    return FunctionFact(c.lhs.func, "monotone", direction=direction, strict=not c_weak)


def _is_app_of(e, var):
    return isinstance(e, AppliedUndef) and len(e.args) == 1 and e.args[0] == var


def _classify_rel(r: Rel, variables):
    lhs, op, rhs = r.lhs, r.rel, r.rhs
    if op in (">=", ">"):
        lhs, rhs, op = rhs, lhs, "<=" if op == ">=" else "<"
    if op != "<=":
        return None
    # |F(u) - F(v)| <= c*|u - v|
    if len(variables) == 2 and isinstance(lhs, sp.Abs):
        u, v = variables
        inner = lhs.args[0]
        for a, b in ((u, v), (v, u)):
            F = [t for t in inner.atoms(AppliedUndef) if t.args == (a,)]
            if F:
                func = F[0].func
                if sp.expand(inner - (func(a) - func(b))) == 0 or sp.expand(inner + (func(a) - func(b))) == 0:
                    c = sp.simplify(rhs / sp.Abs(u - v))
                    if not (c.free_symbols & {u, v}) and not c.has(AppliedUndef):
                        return FunctionFact(func, "lipschitz", const=c)
    # |F(u)| <= c   or   F(u) <= c   or   c <= F(u)
    if len(variables) == 1:
        (u,) = variables
        if isinstance(lhs, sp.Abs) and _is_app_of(lhs.args[0], u) and not (rhs.free_symbols & {u}) \
                and not rhs.has(AppliedUndef):
            return FunctionFact(lhs.args[0].func, "bound", const=rhs)
        if _is_app_of(lhs, u) and not (rhs.free_symbols & {u}) and not rhs.has(AppliedUndef):
            return FunctionFact(lhs.func, "bound", hi=rhs)
        if _is_app_of(rhs, u) and not (lhs.free_symbols & {u}) and not lhs.has(AppliedUndef):
            return FunctionFact(rhs.func, "bound", lo=lhs)
    return None


def table_satisfies(ff: FunctionFact, table: dict, evaluate) -> bool | None:
    """Does a finite table {argument value: function value} of ff.func extend to a
    function satisfying the fact? `evaluate` gives exact values of constants."""
    entries = [(arg, val) for (func, order, arg), val in table.items() if func == ff.func and order == 0]
    if any(func == ff.func and order > 0 for (func, order, _), _v in table.items()):
        return None  # derivative values would also have to fit the extension
    try:
        if ff.kind == "monotone":
            pts = sorted(entries)
            for (a, fa), (b, fb) in zip(pts, pts[1:]):
                if a == b:
                    continue
                step = (fb - fa) * ff.direction
                if step < 0 or (ff.strict and step == 0):
                    return False
            return True
        if ff.kind == "lipschitz":
            c = evaluate(ff.const)
            if not isinstance(c, Fraction) or c < 0:
                return None if not isinstance(c, Fraction) else False
            return all(abs(fa - fb) <= c * abs(a - b) for (a, fa), (b, fb) in itertools.combinations(entries, 2))
        if ff.const is not None:
            c = evaluate(ff.const)
            if not isinstance(c, Fraction):
                return None
            return c >= 0 and all(abs(v) <= c for _, v in entries)
        lo = evaluate(ff.lo) if ff.lo is not None else None
        hi = evaluate(ff.hi) if ff.hi is not None else None
        if (lo is not None and not isinstance(lo, Fraction)) or (hi is not None and not isinstance(hi, Fraction)):
            return None
        return all((lo is None or v >= lo) and (hi is None or v <= hi) for _, v in entries)
    except Exception:  # noqa: BLE001 - an undefined constant: cannot vouch for the table
        return None
