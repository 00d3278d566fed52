"""Decide one obligation: the deciders in order of cost, then the verdict.

This is the only place verdicts for steps are made. `proved` needs a sound
decider to succeed on the relation *and* every domain condition; `refuted`
needs a point confirmed by `evaluate` (exact or certified); `checked` needs no
proof, no violation and enough sample points agreeing; everything else is
`unknown`, with the reason.
"""
from __future__ import annotations

import random
import re
from fractions import Fraction

import sympy as sp

from . import budget, gate
from .deciders import algebra, bounds
from .elaborate import FAnd, Rel, node_count
from .evaluate import outer_range
from .lazy import lazy_module
from .obligations import DomainTask, EqualTask, StepTask
from .syntax import FLIP
from .verdict import CHECKED, PROVED, REFUTED, UNKNOWN, Verdict, follows_message

# loaded when a step first needs them: a file of simple steps never does
factlib = lazy_module("proofcheck.facts")
gcongr = lazy_module("proofcheck.deciders.gcongr")
mvt = lazy_module("proofcheck.deciders.mvt")
numeric = lazy_module("proofcheck.deciders.numeric")
realarith = lazy_module("proofcheck.deciders.realarith")

QUICK_POINTS = 40
DEEP_POINTS = 160
MIN_EVIDENCE_POINTS = 25
MAX_SUM_EXPAND = 200


def run_task(task):
    """Decide one task. The wall clock is only a safety net: when it fires the
    answer is `unknown`, never `checked` or `proved` (see budget.py)."""
    try:
        with budget.wall_limit(0.9 * task.timeout):
            if isinstance(task, EqualTask):
                return decide_equal(task)
            if isinstance(task, DomainTask):
                return decide_domain(task)
            return decide_step(task)
    except budget.OutOfTime:
        return Verdict(UNKNOWN, "limits", f"time limit: no verdict within {task.timeout:g} s "
                       f"(a safety net; raise it with --timeout)")


# ------------------------------------------------------------------ preparing
def _bigop_doit(s, enclosing=()):
    """A sum or product over one index, carried out where that is exact in the
    language's sense. Its body has been prepared (inner sums carried out where
    they could be); `enclosing`: the ranges of the sums around it."""
    (i, lo, hi), inner = outer_range(s)
    count = hi - lo + 1
    empty = sp.Integer(0) if isinstance(s, sp.Sum) else sp.Integer(1)
    if count.is_Integer:
        n = int(count)
        if n <= 0:
            return empty
        if n <= MAX_SUM_EXPAND:
            terms = [_prepare_bigops(inner.xreplace({i: lo + k}), enclosing) for k in range(n)]
            return sp.Add(*terms) if isinstance(s, sp.Sum) else sp.Mul(*terms)
    if inner.has(sp.Sum, sp.Product):
        return s  # an inner range may run backwards: SymPy would read it its own way (Karr's)
    if count.is_Integer:
        return s.doit()
    # symbolic bounds: SymPy's convention for empty ranges differs from ours (an empty
    # sum is 0), so evaluate only when the range is known not to run backwards, for
    # every value of the enclosing indices
    counts = gate.range_counts(count, enclosing)
    if counts is not None and all(bounds.prove_sign(c, ">=") is not None for c in counts):
        return s.doit()
    return s


def _prepare_bigops(e, enclosing=()):
    """Sums and products carried out, innermost first, each where it is exact
    (`_bigop_doit`). A sum over several indices is a sum of sums."""
    if not isinstance(e, sp.Basic) or not e.has(sp.Sum, sp.Product):
        return e
    if isinstance(e, (sp.Sum, sp.Product)):
        outer, inner = outer_range(e)
        inner = _prepare_bigops(inner, enclosing + (outer,))
        return _bigop_doit(type(e)(inner, outer), enclosing)
    args = [_prepare_bigops(a, enclosing) for a in e.args]
    return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e


def prepare(e, sums: bool = True):
    """Carry out derivatives and finite sums/products (not sums on matrix steps:
    the matrix decider has its own normal form for them)."""
    if not isinstance(e, sp.Basic):
        return e
    if e.has(sp.Derivative):
        e = e.replace(lambda x: isinstance(x, sp.Derivative), lambda x: x.doit())
    if sums and e.has(sp.Sum, sp.Product):
        e = _prepare_bigops(e)
    return e


def ground(formulas):
    """Ground relations [(lhs, rel, rhs)] of the formulas, and whether that is all of them."""
    out, complete = [], True
    for f in formulas:
        if isinstance(f, Rel):
            if f.is_matrix:
                complete = False
            else:
                out.append((prepare(f.lhs), f.rel, prepare(f.rhs)))
        elif isinstance(f, FAnd):
            sub, ok = ground(f.parts)
            out += sub
            complete = complete and ok
        else:
            complete = False
    return out, complete


def known_intervals(premises) -> dict:
    """Bounds on single symbols stated by premises (`x > 0`, `t <= 1`)."""
    known: dict = {}
    for (l, r, rr) in premises:
        for sym, rel, c in ((l, r, rr), (rr, FLIP[r], l)):
            if isinstance(sym, sp.Symbol) and c.is_Rational:
                q = Fraction(int(c.p), int(c.q))
                iv = {"<": bounds.make(-bounds.INF, q, False, False), "<=": bounds.make(-bounds.INF, q, False, True),
                      ">": bounds.make(q, bounds.INF, False, False), ">=": bounds.make(q, bounds.INF, True, False),
                      "=": bounds.make(q, q, True, True), "!=": None}[rel]
                if rel == "!=" and q == 0:
                    iv = bounds.Interval(nonzero=True)
                if iv is not None:
                    known[sym] = bounds.intersect(known[sym], iv) if sym in known else iv
    return known


# -------------------------------------------------------------------- proving
NEVER = lambda: 1e9  # noqa: E731 - deciders still accept a time_left; it no longer decides anything


def prove_relation(lhs, rel, rhs, premises, known, time_left=NEVER, conds=()):
    """A method name if `lhs rel rhs` holds wherever defined, else None; plus a
    candidate counterexample point from the solvers, if one was produced.
    Every search here is bounded by counted work; `time_left` is ignored."""
    candidate = None
    if rel == "=":
        method = algebra.prove_equal(lhs, rhs, NEVER)
        if method:
            return method, None
        method = _prove_equal_with_signs(lhs, rhs, known)
        if method:
            return method, None
        method, r = _z3(lhs, rel, rhs, premises, known, conds)
        if method:
            return method
        if r and r[0] == "candidate":
            candidate = r[1]
        return None, candidate
    d, srel = _sign_goal(lhs, rel, rhs)
    form = bounds.prove_sign(d, srel, known)
    if form is not None:
        return "signs and ranges of the terms (interval bounds)", None
    free = sorted((s for s in d.free_symbols if isinstance(s, sp.Symbol)), key=str)
    if len(free) == 1 and not premises_beyond(premises, free[0]):
        x = free[0]
        if _is_rational_in(d, x):
            iv = bounds.symbol_interval(x)
            if x in known:
                iv = bounds.intersect(iv, known[x])
            r = realarith.univariate(d, srel, x, iv)
            if r and r[0] == "proved":
                return r[1], None
            if r and r[0] == "counterexample":
                candidate = r[1]
    method, r = _z3(lhs, rel, rhs, premises, known, conds)
    if method:
        return method
    if r and r[0] == "candidate":
        if r[2] and all(isinstance(p, tuple) for p in premises):
            candidate = dict(candidate or r[1])
            candidate["__exact_sat__"] = r[1]
        elif candidate is None:
            candidate = r[1]
    return None, candidate


def _sign_goal(lhs, rel, rhs):
    """`lhs rel rhs` as `d srel 0`."""
    if rel in ("<", "<="):
        return rhs - lhs, (">" if rel == "<" else ">=")
    if rel in (">", ">="):
        return lhs - rhs, rel
    return lhs - rhs, rel  # = and !=


def _z3(lhs, rel, rhs, premises, known, conds):
    """((method, None) or None, Z3's answer): Z3 over the reals, then, when its model
    gives an integer name a fractional value, over the integers."""
    r = realarith.z3_decide(lhs, rel, rhs, premises, known, budget.Z3_RLIMIT, conds)
    if r and r[0] == "proved":
        return (r[1], None), r
    over_integers = _over_the_integers(lhs, rel, rhs, premises, known, conds, r)
    if over_integers is None:
        return None, r
    if over_integers[0]:
        return over_integers, r   # proved over the integers
    return None, None             # Z3's model is no counterexample: drop it


def _over_the_integers(lhs, rel, rhs, premises, known, conds, r):
    """When Z3's model of the negation gives an integer name a value that is not an
    integer, it is no counterexample: decide over the integers instead. Returns
    (method, None) when that proves the step, (None, None) to drop the model, or None."""
    if not (r and r[0] == "candidate"):
        return None
    names = set()
    for e in [lhs, rhs] + [x for p in premises if isinstance(p, tuple) for x in (p[0], p[2])]:
        if isinstance(e, sp.Basic):
            names |= {s for s in e.free_symbols if s.is_integer}
    if not names:
        return None
    ri = realarith.z3_decide(lhs, rel, rhs, premises, known, budget.Z3_RLIMIT, conds, integers=True)
    if ri and ri[0] == "proved":
        return "integer arithmetic (Z3: the negation has no integer solution)", None
    if not all(isinstance(r[1].get(s), Fraction) and r[1][s].denominator == 1 for s in names):
        return None, None  # a model at non-integer values is no counterexample
    return None


def _prove_equal_with_signs(lhs, rhs, known):
    """Equal for every value the premises allow: symbols whose sign a premise fixes
    (`x > 0 implies 0^x = 0`) are replaced by symbols carrying that sign, which
    SymPy's rewriting may use; an identity for all such values is the claim."""
    refined = {}
    for s, iv in sorted(known.items(), key=lambda kv: str(kv[0])):
        if not isinstance(s, sp.Symbol) or isinstance(s, sp.Dummy):
            continue
        flags = {"positive": True} if iv.positive() else {"negative": True} if iv.negative() else \
            {"nonnegative": True} if iv.nonneg() else {"nonpositive": True} if iv.nonpos() else {}
        if flags:
            base = {k: v for k, v in s.assumptions0.items() if k in ("integer", "real")}
            refined[s] = sp.Dummy(s.name, **{**base, **flags, "real": True})
    if not refined:
        return None
    method = algebra.prove_equal(lhs.xreplace(refined), rhs.xreplace(refined), NEVER)
    return f"{method}, with the signs the premises give" if method else None


def premises_beyond(premises, x) -> bool:
    """Do the premises say more than bounds on x alone?"""
    for prem in premises:
        if not isinstance(prem, tuple):
            return True  # a formula (an instance of a fact): more than bounds on x
        l, r, rr = prem
        syms = (l - rr).free_symbols
        if syms - {x} or not (isinstance(l, sp.Symbol) or isinstance(rr, sp.Symbol)):
            return True
    return False


def _is_rational_in(d, x) -> bool:
    try:
        return d.is_rational_function(x) and not d.has(sp.Abs, sp.Max, sp.Min) and \
            all(a.is_Rational or a == x for a in d.atoms(sp.Number, sp.Symbol, sp.NumberSymbol))
    except Exception:  # noqa: BLE001
        return False


def prove_condition(c, premises, known, time_left=NEVER, matrix_kinds=None):
    """Is the domain condition `c` proved? (The gate's own test, for deciders that
    want to know early.)"""
    return gate.prove_condition(c.expr, c.rel, premises, known, matrix_kinds)


# ------------------------------------------------------------------- deciding
def _bad_constant(*exprs) -> bool:
    return any(isinstance(e, sp.Basic) and e.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for e in exprs)


def _fact_instances(facts, step_exprs):
    """Ground instances of the cited facts at the step's terms: [(fact name, formula)]."""
    out = []
    for f in facts:
        if f.name in factlib.IMPLIED_BY_ENCODING or f.formula is None:
            continue
        for inst in factlib.instances(factlib.prepare_formula(f.formula, prepare), step_exprs):
            out.append((f.name, inst))
    return out


def _refutable_facts(facts):
    """(ground facts to check at a point, function facts to check on the table) or None
    when some cited fact cannot be checked at a point."""
    ground_facts, function_facts = [], []
    for f in facts:
        kind = factlib.classify(f)
        if kind == "builtin":
            continue  # a true theorem: every point satisfies it
        if kind == "ground":
            ground_facts.append(f.formula)
        elif kind:
            function_facts.extend(kind)
        else:
            return None
    return ground_facts, function_facts


CHEAP_CANCEL_NODES = 200  # a difference up to this size is cancelled before the numeric search
CHEAP_FACTOR_NODES = 30   # an inequality's difference up to this size is also factored first


def _small_polynomial(d) -> bool:
    """A polynomial in its names with small rational coefficients (factoring anything
    else can cost more than the search: SymPy factors the integers of 10^(-3000))."""
    names = d.free_symbols
    if not names or d.atoms(sp.Float) or not d.is_polynomial(*names):
        return False
    return all(max(int(q.p).bit_length(), int(q.q).bit_length()) <= 64 for q in d.atoms(sp.Rational))


def _cheap_proof(lhs, rel, rhs, known):
    """A method name when the relation holds by the cheapest sound methods."""
    if rel in ("=", "<=", ">=") and lhs == rhs:
        return "identical expressions"
    if rel == "=":
        # the rational normal form of a small difference: the commonest proof of an
        # equality step, cheaper than the numeric search it spares
        d = lhs - rhs
        if d == 0:
            return "identical after normalisation"
        if node_count(d, CHEAP_CANCEL_NODES) <= CHEAP_CANCEL_NODES and algebra.common_denominator_zero(d):
            return "rational normal form (common denominator, numerator expanded)"
    if rel in ("<", "<=", ">", ">="):
        d, srel = _sign_goal(lhs, rel, rhs)
        if bounds.prove_sign(d, srel, known, quick=True) is not None:
            return "signs and ranges of the terms (interval bounds)"
        # a small difference in every form (factored: x^2 - 2*x + 1 is (x - 1)^2): cheap
        # at this size, and the search it spares costs more
        if node_count(d, CHEAP_FACTOR_NODES) <= CHEAP_FACTOR_NODES and _small_polynomial(d):
            try:
                if bounds.prove_sign(d, srel, known) is not None:
                    return "signs and ranges of the terms (interval bounds)"
            except (TypeError, ValueError, ArithmeticError):  # a form SymPy cannot order: the search decides
                pass
    return None


def _prepared_conds(task, sums: bool = True):
    return [c.mapped(lambda e: prepare(e, sums)) for c in task.conds]


def decide_step(task: StepTask) -> Verdict:
    """Search for a counterexample, then a proof, then evidence; every `proved`
    goes through the gate (gate.admit) before it is returned."""
    sums = not task.is_matrix
    lhs, rhs = prepare(task.lhs, sums), prepare(task.rhs, sums)
    conds = _prepared_conds(task, sums)
    premises, premises_ground = ground(task.premises)
    if task.suggest_for is not None:
        return _suggest(task, lhs, rhs, conds, premises)
    if task.is_matrix:
        return _decide_matrix_step(task, lhs, rhs, conds, premises)

    cited_facts = [factlib.builtin_fact(f.name) if f.kind == "builtin" else f for f in task.facts]
    known = known_intervals(premises)

    if _bad_constant(lhs, rhs) or any(_bad_constant(c.expr) for c in conds):
        return Verdict(REFUTED, "exact evaluation", "this step divides by zero (or is infinite) for every "
                       "value of its names", counterexample={})

    cheap = _cheap_proof(lhs, task.rel, rhs, known)
    if cheap:
        # proof first where it is cheap (identical sides, signs and ranges): it spares
        # evaluating huge terms in the search; the gate still checks the domain
        proof = Verdict(PROVED, cheap, "", detail={"uses": []})
        if gate.admit(task, proof, premises, known, (), lhs, rhs, conds) is None:
            return proof

    # a counterexample must satisfy the premises and every cited fact
    checkable = _refutable_facts(cited_facts)
    ground_cited, cited_complete = ground(checkable[0]) if checkable else ([], True)
    # every premise and cited fact must be checkable at a point, or no point can be trusted
    can_refute = premises_ground and checkable is not None and cited_complete
    problem = numeric.Problem(lhs, task.rel, rhs, conds, premises + ground_cited, known,
                              function_facts=checkable[1] if checkable else [])
    rng = random.Random(task.seed)
    if can_refute:
        quick = numeric.search(problem, rng, QUICK_POINTS, NEVER, local=False)
        if quick.kind == "counterexample":
            return _refuted_unless_uncited(quick, task, lhs, rhs, premises, known, conds)

    # proving: first without the cited facts, then with their instances
    step_exprs = [lhs, rhs] + [c.expr for c in conds] + [e for (l, _, r) in premises for e in (l, r)]
    method, candidate = prove_relation(lhs, task.rel, rhs, premises, known, NEVER, conds)
    uses: list = []          # names of the cited facts the proof used
    used_instances: list = []  # and their instances, for the vacuity check
    own_facts = [f for f in cited_facts if f.kind != "builtin"]
    if not method and "mvt" in task.hints:
        method = mvt.prove(lhs, task.rel, rhs, own_facts, NEVER)
        if method:
            uses = [f.name for f in own_facts]
            used_instances = _fact_instances(own_facts, step_exprs)
    if not method and cited_facts:
        insts = _fact_instances(cited_facts, step_exprs)
        if insts:
            method = gcongr.prove(lhs, task.rel, rhs, insts, known)
            if method:
                # the certificate names each fact it used ("… by lip_f")
                named = set(re.findall(r" by (\w+)", method)) - {"signs"}
                uses = sorted(named)
                used_instances = [(n, i) for n, i in insts if n in named]
        if insts and not method:
            r = realarith.z3_decide(lhs, task.rel, rhs, premises + [i for _, i in insts], known,
                                    budget.Z3_RLIMIT, conds, labels=[n for n, _ in insts])
            if r and r[0] == "proved":
                method = "cited facts instantiated at the step's terms, then real arithmetic (Z3)"
                if len(r) > 2 and r[2]:
                    method += " — used " + r[2]
                uses, used_instances = _fewest_uses(task, lhs, rhs, premises, known, conds, insts, sorted(set(r[3])))
            elif r and r[0] == "candidate":
                candidate = r[1]
    rejection = None
    if method:
        proof = Verdict(PROVED, method, "", detail={"uses": uses})
        if used_instances:  # for the editor's hover: the facts' instances the proof used
            proof.detail["instances"] = [f"{n}: {realarith._show_formula(i)}" for n, i in used_instances][:8]
        rejection = gate.admit(task, proof, premises, known, used_instances, lhs, rhs, conds)
        if rejection is None:
            return proof

    exact_sat = candidate.pop("__exact_sat__", None) if candidate else None
    deep = None
    if can_refute:
        if candidate:
            problem.extra_points = [candidate]
        deep = numeric.search(problem, rng, DEEP_POINTS, NEVER, local=True)
        if deep.kind == "counterexample":
            return _refuted_unless_uncited(deep, task, lhs, rhs, premises, known, conds)

    if rejection is not None:
        return Verdict(UNKNOWN, method, rejection.reason, detail={"gate": rejection.kind})
    verdict = _without_proof(task, problem, deep, can_refute)
    if exact_sat is not None and premises_ground and not task.facts and verdict.status in (CHECKED, UNKNOWN):
        shown = ", ".join(f"{s.name} ≈ {float(v):.6g}" for s, v in exact_sat.items() if isinstance(s, sp.Symbol))
        verdict = Verdict(UNKNOWN, "real arithmetic (Z3)",
                          f"false according to Z3 (a counterexample near {shown}), but it could not be confirmed "
                          f"in exact arithmetic: its values may be irrational")
    # would an uncited fact prove it?
    if task.uncited:
        names = _uncited_that_prove(task, lhs, rhs, premises, known, conds, step_exprs)
        if names:
            return _follows_from(names, verdict)
    return verdict


def _suggest(task, lhs, rhs, conds, premises) -> Verdict:
    """The second pass of a step that was not proved: would a fact in scope that it
    does not cite prove it? Then the student forgot a citation: say that (keeping
    the first verdict for when no suggested fact holds); otherwise the first verdict."""
    prior = task.suggest_for
    if task.is_matrix or "undefined there" in prior.message or "does not exist there" in prior.message:
        return prior  # a fact can make a relation hold, never make a step defined
    if (prior.detail or {}).get("gate") == "vacuous":
        return prior  # contradictory premises or citations: every fact "proves" it, none may be suggested
    known = known_intervals(premises)
    step_exprs = [lhs, rhs] + [c.expr for c in conds] + [e for (l, _, r) in premises for e in (l, r)]
    names = _uncited_that_prove(task, lhs, rhs, premises, known, conds, step_exprs,
                                refuted=prior.status == REFUTED, point=prior.counterexample)
    return _follows_from(names, prior) if names else prior


def _fewest_uses(task, lhs, rhs, premises, known, conds, insts, used):
    """Z3's unsat core need not be minimal. A step is only as good as the claims,
    theorems and `have`s it uses, so try to do without each of those (counted: one
    query per fact): a fact the proof does not need cannot weaken it."""
    kinds = {f.name: f.kind for f in task.facts}
    for name in [n for n in used if kinds.get(n) in ("claim", "theorem", "have")]:
        rest = [(n, i) for n, i in insts if n != name]
        r = realarith.z3_decide(lhs, task.rel, rhs, premises + [i for _, i in rest], known, budget.Z3_RLIMIT,
                                conds, labels=[n for n, _ in rest])
        if r and r[0] == "proved":
            insts = rest
            used = [n for n in used if n != name]
    return used, insts


def _decide_matrix_step(task, lhs, rhs, conds, premises) -> Verdict:
    from dataclasses import replace
    from .deciders import matrices
    verdict = matrices.decide(replace(task, lhs=lhs, rhs=rhs, conds=tuple(conds)), NEVER)
    if verdict.status == PROVED:
        rejection = gate.admit(task, verdict, premises, {}, (), lhs, rhs, conds)
        if rejection is not None:
            return Verdict(UNKNOWN, verdict.method, rejection.reason, detail={"gate": rejection.kind})
    return verdict


def _without_proof(task, problem, deep, can_refute) -> Verdict:
    """The verdict when nothing proved or refuted the step: checked or unknown."""
    reason = "" if can_refute else "; a counterexample cannot be confirmed against the premises or cited facts"
    if deep is not None and deep.kind == "evidence":
        if task.rel == "!=":
            return Verdict(UNKNOWN, "numeric search", "no proof found; tests are no evidence for `!=`, which "
                           "can fail at single points that no test hits")
        if deep.tight:
            return Verdict(UNKNOWN, "numeric search", "no proof found; the two sides come very close at "
                           "some tested points, so tests cannot tell")
        n_free = len(numeric.Sampler(problem, random.Random(0)).symbols)
        far = _fails_far_away(task, problem)
        if far:
            return Verdict(UNKNOWN, "limits of the two sides", far)
        if deep.valid >= MIN_EVIDENCE_POINTS or (n_free == 0 and deep.valid >= 1):
            where = f"{deep.valid} test points" if n_free else "a certified numeric evaluation"
            return Verdict(CHECKED, "numeric testing",
                           f"no proof found, but the step holds at {where} (boundary values and random "
                           f"rationals, exact or with certified error bounds)", detail={"points": deep.valid})
        return Verdict(UNKNOWN, "numeric search", f"no proof found, and too few test points could be "
                       f"evaluated ({deep.valid})")
    return Verdict(UNKNOWN, "", "no proof found" + reason)


_FAR_NODES = 80


def _fails_far_away(task, problem):
    """Test points reach 10^±1000 only: `log(p) < 10^6` holds at all of them and fails
    beyond. For a step in one variable, without premises or cited facts, the limit of
    the difference at the ends of the variable's range (SymPy's `limit`) tells: when
    it breaks the relation, the step fails somewhere far away, and it is not
    `checked`. A message, or None. (It can only withhold `checked`, never prove.)"""
    if task.premises or task.facts or task.rel not in ("<", "<=", ">", ">="):
        return None
    d = (problem.rhs - problem.lhs) if task.rel in ("<", "<=") else (problem.lhs - problem.rhs)
    if not isinstance(d, sp.Basic) or d.has(sp.Sum, sp.Product, sp.Derivative) or node_count(d) > _FAR_NODES:
        return None
    free = [x for x in d.free_symbols if isinstance(x, sp.Symbol)]
    if len(free) != 1 or free[0].is_integer:
        return None
    x = free[0]
    ends = [("+oo", sp.oo, "grows")]
    if not x.is_nonnegative:
        ends.append(("-oo", -sp.oo, "decreases"))
    if x.is_positive:
        ends.append(("0", 0, "tends to 0"))
    from .pretty import show
    for _, point, how in ends:
        try:
            lim = sp.limit(d, x, point, "+") if point == 0 else sp.limit(d, x, point)
        except Exception:  # noqa: BLE001 - a limit SymPy cannot take decides nothing
            continue
        bad = (lim == -sp.oo) or (lim.is_real and lim.is_number and (lim < 0 if task.rel in ("<=", ">=") else lim <= 0)
                                  and lim.is_finite)
        if bad and lim != 0:
            return (f"no violation at the tested points, but as {x.name} {how} the difference of the two sides "
                    f"tends to {show(lim)}, so the step fails for some value of {x.name} beyond those tested")
    return None


def _follows_from(names, otherwise: Verdict) -> Verdict:
    """`unknown`, naming uncited facts that prove the step. The file checker keeps
    only names of facts that hold (a refuted claim proves too much), and falls back
    to `otherwise` when none is left."""
    return Verdict(UNKNOWN, "", follows_message(names), detail={"suggested": list(names), "otherwise": otherwise})


def _cited_facts_contradict(task, step_exprs, premises, known):
    """A gate.Rejection when the cited facts (with the premises) are contradictory,
    instantiated at the step's terms and at a fresh point for every function they
    speak of: then no point "satisfies every cited fact", and nothing is refuted."""
    from sympy.core.function import AppliedUndef
    own = [f for f in task.facts if f.kind != "builtin" and f.formula is not None]
    if not own:
        return None
    funcs = set()
    for f in own:
        for e in factlib._formula_exprs(f.formula):
            funcs |= {a.func for a in e.atoms(AppliedUndef)}
    fresh = sp.Dummy("t0", real=True)
    extra = [fresh] + [fn(fresh) for fn in sorted(funcs, key=str)]
    rej = gate.contradiction(premises, _fact_instances(own, step_exprs + extra), known)
    return rej if rej is not None and rej.kind == "vacuous" else None


def _refuted_unless_uncited(outcome, task, lhs, rhs, premises, known, conds) -> Verdict:
    """A counterexample to the step as cited; but if a fact in scope that was not
    cited proves the step, the student forgot a citation: say that instead."""
    step_exprs = [lhs, rhs] + [c.expr for c in conds] + [e for (l, _, r) in premises for e in (l, r)]
    rej = _cited_facts_contradict(task, step_exprs, premises, known)
    if rej is not None:
        who = rej.reason.split(":")[0]
        return Verdict(UNKNOWN, "cited facts (Z3: they contradict each other)",
                       f"{who}: no values satisfy them all, so nothing can be concluded from "
                       f"them, neither this step nor its negation", detail={"gate": rej.kind})
    if task.uncited and not outcome.message.startswith("undefined"):
        step_exprs = [lhs, rhs] + [c.expr for c in conds] + [e for (l, _, r) in premises for e in (l, r)]
        names = _uncited_that_prove(task, lhs, rhs, premises, known, conds, step_exprs, refuted=True,
                                    point=outcome.point)
        if names:
            return _follows_from(names, _refuted(outcome, task))
    return _refuted(outcome, task)


MAX_SUGGESTION_TRIES = 12


_EXACT_VALUE = re.compile(r"-?\d+(/\d+)?")


def _exact_point(values, exprs) -> dict | None:
    """A counterexample's values as {symbol: Fraction}, or None when one of them is
    only approximate or is not a plain name's value (a function value)."""
    if not values:
        return None
    by_name = {x.name: x for e in exprs if isinstance(e, sp.Basic) for x in e.free_symbols
               if isinstance(x, sp.Symbol)}
    env = {}
    for name, text in values.items():
        if name not in by_name or not isinstance(text, str) or not _EXACT_VALUE.fullmatch(text.strip()):
            return None
        env[by_name[name]] = Fraction(text.strip())
    return env


def _uncited_that_prove(task, lhs, rhs, premises, known, conds, step_exprs, refuted=False, point=None):
    """Names of facts in scope, not cited, each of which alone (with the cited ones)
    proves the step. Bounded by a count of facts tried and Z3's rlimit.
    refuted: the step has a counterexample. A built-in fact is a theorem, true at
    that point too, so it cannot prove the step: only the document's own facts
    (which the point may break) are tried. point: that counterexample's values, by
    name; a fact whose every instance holds there cannot prove the step either (the
    point satisfies it and still breaks the step), so it costs no solver query."""
    # a fact can make the relation hold, never make an undefined step defined
    if gate.unproved_domain([lhs, rhs], conds, premises, known, task.matrix_kinds):
        return []
    uncited = [f for f in task.uncited if not (refuted and f.kind == "builtin")]
    if not uncited:
        return []
    env = _exact_point(point, step_exprs) if refuted else None
    cited = [factlib.builtin_fact(f.name) if f.kind == "builtin" else f for f in task.facts]
    base = [i for _, i in _fact_instances(cited, step_exprs)]
    candidates = []  # (fact, its instances; None for the mean value rule), in the order tried
    for fact in uncited:
        f = factlib.builtin_fact(fact.name) if fact.kind == "builtin" else fact
        if f.formula is None and fact.name != "mvt":
            continue
        if len(candidates) >= MAX_SUGGESTION_TRIES:
            break
        if fact.name == "mvt":
            candidates.append((fact, None))
            continue
        insts = [i for _, i in _fact_instances([f], step_exprs)]
        if f.name in factlib.IMPLIED_BY_ENCODING or not insts:
            continue
        if env is not None and all(gate.holds_at(i, env) is True for i in insts):
            continue
        candidates.append((fact, insts))
    by_z3 = [insts for _, insts in candidates if insts is not None]
    if len(by_z3) > 1:
        # one query with every candidate at once: a model of them all where the step
        # fails satisfies each one alone too, so none of them can prove it
        r = realarith.z3_decide(lhs, task.rel, rhs, premises + base + [i for insts in by_z3 for i in insts],
                                known, budget.Z3_RLIMIT_SMALL, conds)
        if r and r[0] == "candidate":
            candidates = [(fact, insts) for fact, insts in candidates if insts is None]
    found = []
    for fact, insts in candidates:
        if insts is None:
            if mvt.prove(lhs, task.rel, rhs, [g for g in task.facts if g.kind != "builtin"] +
                         [g for g in task.uncited if g.kind != "builtin"], NEVER):
                found.append("mvt")
            continue
        r = realarith.z3_decide(lhs, task.rel, rhs, premises + base + insts, known, budget.Z3_RLIMIT_SMALL, conds)
        if r and r[0] == "proved":
            # a fact that contradicts the declarations proves anything: never suggest it
            if gate.contradiction(premises, [(fact.name, i) for i in base + insts], known) is not None:
                continue
            found.append(fact.name)
            if len(found) >= 3:
                break
    return found


def _short(e, limit=80) -> str:
    from .pretty import show
    return show(e, limit)


def _refuted(outcome: numeric.Outcome, task=None) -> Verdict:
    values = outcome.point or {}
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    where = f"fails at {shown}" if shown else "false"
    note = ""
    if task is not None and task.facts:
        note = " (these values satisfy the declarations and every cited fact)"
    return Verdict(REFUTED, "counterexample (exact or certified evaluation)",
                   f"{where}: {outcome.message}{note}", counterexample=values)


def decide_equal(task: EqualTask) -> Verdict:
    """Are a chain's end and the statement's side equal expressions? (Their
    domains are checked where they occur: in the steps and the statement.)"""
    if task.is_matrix or task.a.has(sp.MatrixSymbol) or task.b.has(sp.MatrixSymbol):
        from .deciders import matrices
        ok = matrices.structurally_equal(task.a, task.b)
        return Verdict(PROVED if ok else UNKNOWN, "matrix normal form", "")
    a, b = prepare(task.a), prepare(task.b)
    method = algebra.prove_equal(a, b, NEVER)
    if method:
        return Verdict(PROVED, method, "")
    return Verdict(UNKNOWN, "", "not shown equal")


def decide_domain(task: DomainTask) -> Verdict:
    """A theorem's statement must be defined wherever the declarations and its
    premises allow (the domain rule applies to it as to every step)."""
    exprs = [prepare(e) for e in task.exprs]
    conds = _prepared_conds(task)
    premises, premises_ground = ground(task.premises)
    known = known_intervals(premises)
    missing = gate.unproved_domain(exprs, conds, premises, known, task.matrix_kinds)
    if not missing:
        return Verdict(PROVED, "domain conditions proved", "")
    scalar = not any(gate._has_matrix(e) for e in exprs + [c.expr for c in conds])
    if scalar and premises_ground:
        zero = sp.Integer(0)
        problem = numeric.Problem(zero, "=", zero, conds, premises, known)
        found = numeric.search(problem, random.Random(task.seed), DEEP_POINTS, NEVER, local=False)
        if found.kind == "counterexample":
            v = _refuted(found)
            v.message = "the statement is " + v.message.replace("fails at", "not defined at", 1)
            return v
    return Verdict(UNKNOWN, "", "could not show that the statement is defined wherever the declarations "
                   "allow: " + "; ".join(missing))
