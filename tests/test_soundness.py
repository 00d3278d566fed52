"""Soundness: mutate valid steps and make sure no false mutant is ever proved or checked.

Every step that is `proved` in proofs/ and in the test tables is mutated (drop a
term, change a coefficient or an exponent, flip the relation, swap a variable,
drop the citations, weaken an assumption from positive/nonneg to real). Each
mutant is decided like any step. A mutant that comes out `proved` or `checked` is
then judged by an independent oracle: SymPy's `evalf` at 50 digits on sampled
points that respect the declarations and premises, with abstract functions
replaced by concrete ones that satisfy the cited Lipschitz and bound facts. If
the oracle finds the mutant false anywhere, the checker accepted a false step.
"""
import random
import zlib
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from proofcheck import facts as factlib
from proofcheck.check import FileChecker, Options
from proofcheck.decide import ground, prepare
from proofcheck.elaborate import Condition
from proofcheck.parse import parse_document

from test_verdicts import HEADER, PROVED

ROOT = Path(__file__).resolve().parent.parent
FILES = [p for p in sorted((ROOT / "proofs").rglob("*.pf")) if p.name != "mistakes.pf"]
REL_MUTANTS = {"=": ["<", ">", "!="], "<=": [">=", "<", "="], "<": [">=", "<=", ">"], ">=": ["<=", ">", "="],
               ">": ["<=", ">=", "<"], "!=": ["="]}
SAMPLES = [Fraction(v) for v in ("0", "1", "-1", "2", "-2", "1/2", "-1/2", "3", "-3", "1/3", "10", "-10", "1/10",
                                 "7/4", "-5/3", "100", "-100", "1/100", "1000", "-1000", "5", "-7/2")]


def tasks_from(text):
    c = FileChecker(parse_document(text), Options(timeout=3.0))
    c.build()
    return c.tasks


@pytest.fixture(scope="module")
def valid_steps(runner):
    from proofcheck.obligations import StepTask
    tasks = []
    for f in FILES:
        tasks += tasks_from(f.read_text(encoding="utf-8"))
    for formula in PROVED:
        tasks += tasks_from(HEADER + f"claim c : {formula}\n")
    tasks = [t for t in tasks if isinstance(t, StepTask) and not t.is_matrix]
    verdicts = runner.run(tasks, 3.0)
    return [t for t, v in zip(tasks, verdicts) if v.status == "proved"]


# ------------------------------------------------------------------ mutations
def _terms(e):
    return list(e.args) if isinstance(e, sp.Add) else []


def mutants(t, rng):
    """(kind, mutated task) pairs; a mutation SymPy cannot build (an index out of range) is skipped."""
    out = []

    def add(kind, make):
        try:
            out.append((kind, make()))
        except (IndexError, ValueError, TypeError):
            pass

    for r in REL_MUTANTS[t.rel]:
        add("flip relation", lambda r=r: replace(t, rel=r))
    for side in ("lhs", "rhs"):
        e = getattr(t, side)
        terms = _terms(e)
        if len(terms) > 1:
            k = rng.randrange(len(terms))
            add("drop a term", lambda: replace(t, **{side: sp.Add(*(terms[:k] + terms[k + 1:]))}))
        nums = [n for n in sp.preorder_traversal(e) if isinstance(n, sp.Rational) and n not in (0,)]
        if nums:
            n = rng.choice(nums)
            add("change a coefficient", lambda: replace(t, **{side: e.xreplace({n: n + 1})}))
        pows = [p for p in sp.preorder_traversal(e) if isinstance(p, sp.Pow) and p.exp.is_Integer]
        if pows:
            p = rng.choice(pows)
            add("change an exponent", lambda: replace(t, **{side: e.xreplace({p: p.base ** (p.exp + 1)})}))
        syms = sorted({s for s in e.free_symbols if isinstance(s, sp.Symbol)}, key=str)
        others = sorted({s for s in (t.lhs - t.rhs).free_symbols if isinstance(s, sp.Symbol)}, key=str) \
            if not isinstance(t.lhs, sp.MatrixExpr) else []
        if syms and len(others) > 1:
            a = rng.choice(syms)
            b = rng.choice([s for s in others if s != a])
            add("swap a variable", lambda: replace(t, **{side: e.xreplace({a: b})}))
    if isinstance(t.lhs, sp.MatrixExpr) or t.lhs.has(sp.MatrixSymbol):
        mats = sorted(t.lhs.atoms(sp.MatrixSymbol) | t.rhs.atoms(sp.MatrixSymbol), key=str)
        same = [(a, b) for a in mats for b in mats if a != b and a.shape == b.shape]
        if same:
            a, b = rng.choice(same)
            add("swap a matrix", lambda: replace(t, rhs=t.rhs.xreplace({a: b})))
        square = [m for m in mats if m.shape[0] == m.shape[1]]
        if square:
            m = rng.choice(square)
            add("transpose a matrix", lambda: replace(t, rhs=t.rhs.xreplace({m: m.T})))
    if t.facts:
        add("drop the citations", lambda: replace(t, facts=[], hints=[]))
    try:
        diff_syms = sorted((t.lhs - t.rhs).free_symbols, key=str) if not isinstance(t.lhs, sp.MatrixExpr) else []
    except TypeError:
        diff_syms = []
    for s in diff_syms:
        if isinstance(s, sp.Symbol) and (s.is_positive or s.is_nonnegative) and not s.is_integer:
            weak = sp.Symbol(s.name, real=True)
            mp = {s: weak}
            add("weaken an assumption", lambda: replace(
                t, lhs=t.lhs.xreplace(mp), rhs=t.rhs.xreplace(mp),
                conds=tuple(Condition(c.expr.xreplace(mp), c.rel, c.why) for c in t.conds),
                facts=[replace(f, formula=factlib.substitute(f.formula, mp)) if f.formula is not None else f
                       for f in t.facts]))
            break
    if t.matrix_kinds:  # weaken psd/symmetric to a plain matrix
        add("weaken a matrix assumption", lambda: replace(t, matrix_kinds={}))
    return out


# --------------------------------------------------------------------- oracle
def _concrete_functions(t, point, rng):
    """Concrete f(s) = a*tanh(b*s + c) satisfying the cited Lipschitz/bound facts at this point."""
    funcs = set()
    for e in [t.lhs, t.rhs]:
        funcs |= {a.func for a in e.atoms(AppliedUndef)}
    if not funcs:
        return {}
    lip, bound = {}, {}
    for f in t.facts:
        kind = factlib.classify(f)
        if kind in ("builtin", "ground") or kind is None:
            if kind is None:
                return None
            continue
        for ff in kind:
            c = (ff.const if ff.const is not None else None)
            if c is None:
                return None
            v = sp.N(c.xreplace(point), 30)
            if v < 0:
                return None  # no function satisfies the fact here: not an admissible point
            (lip if ff.kind == "lipschitz" else bound)[ff.func] = v
    s = sp.Dummy("s")
    out = {}
    for func in funcs:
        K = bound.get(func, sp.Integer(3))
        L = lip.get(func, sp.Integer(3))
        a = K * sp.Rational(rng.randint(1, 10), 10) * rng.choice([1, -1])
        b = (L / abs(a) if a != 0 else 0) * sp.Rational(rng.randint(0, 10), 10)
        c = sp.Rational(rng.randint(-10, 10), 7)
        out[func] = sp.Lambda(s, a * sp.tanh(b * s + c))
    return out


def _exact(e, point, funcs):
    e = prepare(e).xreplace(point)
    for func, lam in funcs.items():
        e = e.replace(lambda x: isinstance(x, AppliedUndef) and x.func == func, lambda x: lam(*x.args))
    return e.doit()


def _num(e):
    v = sp.N(e, 50, maxn=4000)
    if v.free_symbols or not v.is_real or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None  # a name the point gave no value (a constant of a cited fact): no number
    return v


def _value(e, point, funcs):
    return _num(_exact(e, point, funcs))


def _violated(rel, a_expr, b_expr):
    """True when `a rel b` is certainly false; None when 50 digits cannot tell."""
    a, b = _num(a_expr), _num(b_expr)
    if a is None or b is None:
        return None
    diff = sp.expand(b_expr - a_expr)
    if diff.is_Rational:  # exact: no rounding to allow for
        return {"=": diff != 0, "!=": diff == 0, "<": diff <= 0, "<=": diff < 0, ">": diff >= 0,
                ">=": diff > 0}[rel]
    if diff == 0:
        d, exact_zero = sp.Integer(0), True
    else:
        d, exact_zero = _num(diff), False
        if d is None:
            return None
        if d == 0:  # a zero without digits: the difference is below what evalf resolves
            return None
    tol = sp.Float("1e-25") * (1 + abs(a) + abs(b))
    if rel in ("<", ">", "!=") and exact_zero:
        return True
    return {"=": abs(d) > tol, "!=": False, "<": d < -tol, "<=": d < -tol, ">": d > tol, ">=": d > tol}[rel]


def _holds(rel, a, b):
    tol = sp.Float("1e-25") * (1 + abs(a) + abs(b))
    d = b - a
    return {"=": abs(d) <= tol, "!=": abs(d) > tol, "<": d > tol, "<=": d >= -tol, ">": d < -tol,
            ">=": d <= tol}[rel]


def oracle_finds_false(t, rng, tries=40):
    """A point respecting declarations and premises where the mutant is false or undefined."""
    syms = sorted({s for e in [t.lhs, t.rhs] + [c.expr for c in t.conds] for s in e.free_symbols
                   if isinstance(s, sp.Symbol)}, key=str)
    premises, complete = ground(t.premises)
    if not complete:
        return None
    for f in t.facts:  # ground cited facts must hold at the point too
        if factlib.classify(f) == "ground":
            more, ok = ground([f.formula])
            if not ok:
                return None
            premises = premises + more
    for _ in range(tries):
        point = {}
        for s in syms:
            pool = [v for v in SAMPLES if (not s.is_integer or v.denominator == 1)
                    and (not s.is_positive or v > 0) and (not s.is_nonnegative or v >= 0)
                    and (not s.is_negative or v < 0) and (not s.is_nonpositive or v <= 0)
                    and (not s.is_nonzero or v != 0)]
            q = rng.choice(pool)
            point[s] = sp.Rational(q.numerator, q.denominator)
        funcs = _concrete_functions(t, point, rng)
        if funcs is None:
            continue
        try:
            ok = True
            for (l, r, rr) in premises:
                a, b = _value(l, point, funcs), _value(rr, point, funcs)
                if a is None or b is None or not _holds(r, a, b):
                    ok = False
                    break
            if not ok:
                continue
            for c in t.conds:
                v = _value(c.expr, point, funcs)
                if v is None:
                    continue
                if not {"!=": abs(v) > 1e-30, ">": v > 1e-30, ">=": v > -1e-30}[c.rel]:
                    return point  # undefined there: the step does not hold
            bad = _violated(t.rel, _exact(t.lhs, point, funcs), _exact(t.rhs, point, funcs))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if bad:
            return point
    return None


def test_no_false_mutant_is_proved_or_checked(valid_steps, runner):
    rng = random.Random(1)
    all_mutants = []
    for t in valid_steps:
        for kind, m in mutants(t, rng):
            all_mutants.append((kind, t, m))
    verdicts = runner.run([m for _, _, m in all_mutants], 3.0)
    accepted_false = []
    stats = {}
    for (kind, orig, m), v in zip(all_mutants, verdicts):
        stats.setdefault(kind, {}).setdefault(v.status, 0)
        stats[kind][v.status] += 1
        if v.status in ("proved", "checked"):
            # the oracle's points from the mutant's text (hash() of a str changes per process)
            bad = oracle_finds_false(m, random.Random(zlib.crc32(f"{kind}|{m.lhs}|{m.rhs}".encode())))
            if bad is not None:
                accepted_false.append((kind, f"{m.lhs} {m.rel} {m.rhs}", v.status, v.method, bad))
    total = len(all_mutants)
    refuted = sum(s.get("refuted", 0) for s in stats.values())
    print(f"\nmutants: {total}, refuted: {refuted} ({100 * refuted / max(1, total):.0f}%)")
    for kind, s in sorted(stats.items()):
        print(f"  {kind:24} {dict(sorted(s.items()))}")
    assert total > 300
    for case in accepted_false:
        print("ACCEPTED FALSE:", case)
    assert not accepted_false, accepted_false[:5]


def test_the_oracle_catches_false_steps():
    """The suite is only as good as its oracle: it must see these as false."""
    false_steps = ["(a + b)^2 = a^2 + b^2", "exp(x) >= 1 + x + x^2/2", "log(p) <= p - 2", "x^2 > x",
                   "sqrt(x^2) = x", "p + q >= 3*sqrt(p*q)", "10^100 + 1 > 10^100 + 2"]
    for formula in false_steps:
        (t,) = [t for t in tasks_from(HEADER + f"claim c : {formula}\n")]
        assert oracle_finds_false(t, random.Random(0)) is not None, formula


def test_the_oracle_respects_cited_function_facts():
    text = ("let x, y : real\nlet L : real, nonneg\nfun f : real -> real\n"
            "assume lip : forall u, v: |f(u) - f(v)| <= L*|u - v|\n"
            "claim good : |f(x) - f(y)| <= L*|x - y| by lip\nclaim bad : |f(x) - f(y)| <= L*|x - y|/2 by lip\n")
    good, bad = tasks_from(text)
    assert oracle_finds_false(good, random.Random(0), tries=80) is None
    assert oracle_finds_false(bad, random.Random(0), tries=80) is not None


# ------------------------------------------------------------ matrix mutants
def _random_instance(t, rng, size_values):
    """Explicit random matrices (psd as L*L^T, symmetric as S + S^T) for the mutant's symbols."""
    from proofcheck.deciders.matrices import dimension_symbols, matrix_symbols
    exprs = [t.lhs, t.rhs] + [c.expr for c in t.conds]
    mats = matrix_symbols(*exprs)
    dims = dimension_symbols(mats, exprs)
    sizes = {d: sp.Integer(rng.choice(size_values)) for d in dims}
    mapping = {}
    for m in mats:
        r, c = (int(x.xreplace(sizes)) for x in m.shape)
        kinds = set(t.matrix_kinds.get(m, ()))
        M = sp.Matrix(r, c, lambda i, j: sp.Rational(rng.randint(-4, 4), rng.choice([1, 1, 2, 3])))
        if kinds & {"psd", "pd"}:
            M = M * M.T + (sp.eye(r) if "pd" in kinds else sp.zeros(r))
        elif "symmetric" in kinds:
            M = M + M.T
        mapping[m] = sp.ImmutableMatrix(M)
    scalars = {s: sp.Rational(rng.randint(-5, 5), rng.choice([1, 2])) for e in exprs for s in e.free_symbols
               if isinstance(s, sp.Symbol) and s not in dims and not s.name.startswith("_")}
    scalars = {s: (abs(v) + 1 if (s.is_positive or s.is_nonnegative) else v) for s, v in scalars.items()}
    return sizes, mapping, scalars


def _explicit_norms(e):
    """norm_2 of an explicit matrix as sqrt(largest eigenvalue of M^T*M), computed by SymPy."""
    from proofcheck.mathfuncs import SpectralNorm
    if not isinstance(e, sp.Basic) or not e.has(SpectralNorm):
        return e
    def norm(x):
        M = x.args[0]
        values = [sp.re(sp.N(ev, 60)) for ev in (M.T * M).eigenvals()]  # real: M^T*M is symmetric
        return sp.sqrt(max(values))
    return e.replace(lambda x: isinstance(x, SpectralNorm) and isinstance(x.args[0], sp.MatrixBase), norm)


def matrix_oracle_finds_false(t, rng, tries=25):
    from proofcheck.deciders.matrices import instantiate
    if t.premises or any(f.kind != "builtin" for f in t.facts):
        return None  # premises and facts would have to hold: not judged here
    for _ in range(tries):
        sizes, mapping, scalars = _random_instance(t, rng, [1, 2, 3])
        try:
            a = instantiate(prepare(t.lhs).xreplace(scalars), mapping, sizes)
            b = instantiate(prepare(t.rhs).xreplace(scalars), mapping, sizes)
            if any(_num(instantiate(c.expr.xreplace(scalars), mapping, sizes)) is None for c in t.conds):
                continue
        except Exception:  # noqa: BLE001 - e.g. a singular inverse: not a usable instance
            continue
        pairs = list(zip(a, b)) if isinstance(a, sp.MatrixBase) else [(a, b)]
        for x, y in pairs:
            try:
                if _violated(t.rel, _explicit_norms(sp.sympify(x)), _explicit_norms(sp.sympify(y))):
                    return sizes, mapping
            except (TypeError, ValueError):  # a value SymPy cannot order: not judged
                continue
    return None


def test_no_false_matrix_mutant_is_proved_or_checked(runner):
    from proofcheck.obligations import StepTask
    tasks = []
    for f in FILES:
        tasks += [t for t in tasks_from(f.read_text(encoding="utf-8")) if isinstance(t, StepTask) and t.is_matrix]
    verdicts = runner.run(tasks, 5.0)
    valid = [t for t, v in zip(tasks, verdicts) if v.status in ("proved", "checked")]
    rng = random.Random(3)
    mutated = [(k, m) for t in valid for k, m in mutants(t, rng)]
    results = runner.run([m for _, m in mutated], 5.0)
    accepted_false = []
    counts = {}
    for (kind, m), v in zip(mutated, results):
        counts[v.status] = counts.get(v.status, 0) + 1
        if v.status in ("proved", "checked"):
            bad = matrix_oracle_finds_false(m, random.Random(7))
            if bad is not None:
                accepted_false.append((kind, f"{m.lhs} {m.rel} {m.rhs}", v.status, v.method))
    print(f"\nmatrix mutants: {len(mutated)}, {dict(sorted(counts.items()))}")
    for case in accepted_false:
        print("ACCEPTED FALSE:", case)
    assert len(mutated) > 40
    assert not accepted_false, accepted_false[:3]


def test_the_matrix_oracle_catches_false_claims():
    head = "let n : integer, positive\nlet C, D : matrix(n, n)\nlet P : matrix(n, n), psd\n"
    for formula in ["det(C + D) = det(C) + det(D)", "C*D = D*C", "norm_2(C^T*C) = norm_2(C)",
                    "trace(P)/n >= sqrt(det(P))"]:
        (t,) = tasks_from(head + f"claim c : {formula}\n")
        assert matrix_oracle_finds_false(t, random.Random(0), tries=60) is not None, formula


# ------------------------------------------- the gate: statements and vacuity
def _theorem_statement_variants(text):
    """Each single-relation theorem of a file, with its statement's left side
    multiplied by (zz - 1)/(zz - 1) for a fresh real zz: the chain still matches
    (the ends are equal where defined) but the statement is undefined at zz = 1."""
    from proofcheck import syntax as S
    doc = parse_document(text)
    lines = text.split("\n")
    out = []
    for st in doc.statements:
        if not isinstance(st, S.Theorem) or st.proof is None or not isinstance(st.formula, S.Chain):
            continue
        if len(st.formula.exprs) != 2:
            continue
        sp_ = st.formula.exprs[0].span
        if sp_.line != sp_.end_line:
            continue
        line = lines[sp_.line - 1]
        lhs = line[sp_.column - 1:sp_.end_column - 1]
        new = line[:sp_.column - 1] + f"({lhs})*(zz - 1)/(zz - 1)" + line[sp_.end_column - 1:]
        variant = lines[:sp_.line - 1] + [new] + lines[sp_.line:]
        out.append((st.name, "let zz : real\n" + "\n".join(variant)))
    return out


def test_no_theorem_with_an_undefined_statement_is_proved(runner):
    from proofcheck.check import check_text
    tried = 0
    for f in FILES:
        for name, text in _theorem_statement_variants(f.read_text(encoding="utf-8")):
            result = check_text(text, str(f), Options(timeout=5.0), runner)
            (th,) = [it for it in result.items if it.kind == "theorem" and it.name == name]
            tried += 1
            assert th.status not in ("proved", "checked"), (f.name, name, th.status, th.message)
    assert tried >= 15


def test_contradictory_citations_never_prove_a_false_mutant(valid_steps, runner):
    """Every mutant also cites two contradictory assumptions (through which Z3 could
    prove anything): a false mutant must still not be proved or checked."""
    from proofcheck.elaborate import Fact
    z = sp.Symbol("zz", real=True)
    bad = [Fact("up", "assume", factlib.rel(z, ">", sp.Integer(1)), 1),
           Fact("down", "assume", factlib.rel(z, "<", sp.Integer(0)), 2)]
    rng = random.Random(5)
    pairs = []
    for t in valid_steps[::3]:
        for kind, m in mutants(t, rng)[:3]:
            pairs.append((m, replace(m, facts=list(m.facts) + bad, hints=list(m.hints) + ["up", "down"])))
    verdicts = runner.run([m2 for _, m2 in pairs], 3.0)
    accepted_false = []
    for (m, _), v in zip(pairs, verdicts):
        if v.status in ("proved", "checked"):
            if oracle_finds_false(m, random.Random(11)) is not None:
                accepted_false.append((f"{m.lhs} {m.rel} {m.rhs}", v.status, v.method, v.message))
    assert len(pairs) > 60
    assert not accepted_false, accepted_false[:3]
