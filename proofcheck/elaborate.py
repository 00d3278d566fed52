"""Parse tree -> checked declarations, facts and proof obligations.

Names are resolved, shapes are checked, definitions are unfolded, and every
expression becomes a SymPy object by walking the tree (never by evaluating
text). Each expression also collects the conditions under which it is defined
(`Condition`: a denominator is nonzero, a logarithm's argument is positive, ...),
because a step does not hold where its expressions are undefined
(docs/language.md, "Where an expression is defined").

Elaboration is bounded in size, never in time: an expression may have at most
MAX_TERM_NODES nodes and MAX_TERM_DEPTH levels once definitions are unfolded,
a statement may unfold definitions to MAX_UNFOLDED nodes in all, sizes of
matrices are small expressions, and anything past a bound is an `ElabError`
that names the bound.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp

from . import syntax as S
from .mathfuncs import HugePower, SpectralNorm
from .pretty import show

# Numbers larger than this many bits (about 3900 digits) are kept as
# unevaluated powers, and an expression may not contain a larger number: Python
# cannot even print an int of more than 4300 digits.
MAX_NUMBER_BITS = 13_000
MAX_NUMBER_DIGITS = 3_900
# one expression, after unfolding definitions: nodes (as a tree) and levels
MAX_TERM_NODES = 10_000
MAX_TERM_DEPTH = 250
# nodes built by unfolding definitions in one statement, in all
MAX_UNFOLDED = 4_000
# conditions for an expression to be defined
MAX_CONDITIONS = 1_000
# a matrix size: nodes of its expression, and the largest number in it
MAX_SIZE_NODES = 40
MAX_SIZE_NUMBER = 10 ** 6
# max/min are simplified when built only when small (SymPy compares all pairs)
MAX_EAGER_MAX_ARGS = 8
MAX_EAGER_MAX_NODES = 200
# summation indices an index expression may depend on (2^k corners are checked)
MAX_INDEX_VARIABLES = 6

RESERVED = {"e", "pi", "π", "T", "I"}
KEYWORDS = {"let", "fun", "def", "assume", "claim", "theorem", "proof", "qed", "have", "by",
            "forall", "and", "implies", "sum", "prod"}
SCALAR_FUNCTIONS = {"exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "max", "min", "abs"}
MATRIX_FUNCTIONS = {"trace", "tr", "det", "inv", "norm", "norm_2", "norm_F"}
BUILTIN_FUNCTIONS = SCALAR_FUNCTIONS | MATRIX_FUNCTIONS | {"diff", "I"}
BUILTIN_FACTS = {"triangle", "rev_triangle", "abs_mul", "exp_ge", "log_le", "am_gm", "cauchy_schwarz", "mvt"}
SCALAR_ASSUMPTIONS = {"positive": {"positive": True}, "negative": {"negative": True},
                      "nonneg": {"nonnegative": True}, "nonpos": {"nonpositive": True},
                      "nonzero": {"nonzero": True}}
MATRIX_ASSUMPTIONS = {"symmetric", "psd", "pd", "invertible"}  # pd implies invertible, psd and symmetric


def _has_bigop(*exprs) -> bool:
    """Does a sum or product appear? SymPy's matrix operators call doit(), which would
    carry it out by SymPy's convention for a range that runs backwards, not the
    language's (an empty sum is 0): such operands are combined without doit."""
    return any(isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product) for e in exprs)


class ElabError(Exception):
    """A name, shape or citation problem at a place in the source."""

    def __init__(self, span: S.Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


# ------------------------------------------------------------------ data model
# why `inv(A)` may be undefined: the condition `det(A) != 0`
NEEDS_INVERTIBLE = "`inv` needs an invertible matrix"


@dataclass(frozen=True)
class Condition:
    """`expr rel 0` must hold for the expression to be defined.

    `jump` is set only on a smoothness condition of a derivative (a kink of |u|,
    max or min, where expr = 0): the difference of the derivatives of the two
    one-sided pieces. Where expr = 0 the derivative exists if jump = 0 there, and
    provably does not exist if jump != 0 and no other kink is at the same point.
    Code that rewrites conditions should use `mapped`, which keeps it."""
    expr: sp.Basic
    rel: str  # "!=", ">", ">="
    why: str
    jump: sp.Basic | None = None

    def mapped(self, f) -> "Condition":
        """The same condition with f applied to its expressions."""
        return Condition(f(self.expr), self.rel, self.why, None if self.jump is None else f(self.jump))


@dataclass
class Term:
    expr: sp.Basic
    shape: tuple | None = None  # None: scalar; else (rows, cols)
    conds: tuple = ()

    def __post_init__(self):
        if len(self.conds) > 1:  # a definition used twice must not double its conditions
            self.conds = tuple(dict.fromkeys(self.conds))


@dataclass
class Rel:
    """One relation `lhs rel rhs` of a formula, with its source text."""
    lhs: sp.Basic
    rel: str
    rhs: sp.Basic
    conds: tuple
    text: str
    lhs_text: str
    rhs_text: str
    span: S.Span
    is_matrix: bool = False
    lhs_shape: tuple | None = None


@dataclass
class FAnd:
    parts: list


@dataclass
class FImplies:
    premise: object
    conclusion: object


@dataclass
class FForall:
    variables: list  # sympy Dummies
    body: object


@dataclass
class Fact:
    name: str
    kind: str  # assume, claim, theorem, have, builtin
    formula: object  # FAnd/FImplies/FForall/Rel, or None for built-ins
    line: int


@dataclass
class VarInfo:
    symbol: sp.Basic
    shape: tuple | None
    kind: str  # real, integer, matrix, vector
    assumptions: tuple
    line: int


@dataclass
class DefInfo:
    params: list  # Dummies
    body: Term
    line: int


@dataclass
class Scope:
    vars: dict = field(default_factory=dict)
    funs: dict = field(default_factory=dict)
    defs: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    bound: dict = field(default_factory=dict)  # name -> Term (forall/def params/sum indices)
    matrix_facts: list = field(default_factory=list)  # (symbol, assumption)
    failed: dict = field(default_factory=dict)  # name -> line of a declaration that has an error

    def child(self) -> "Scope":
        return Scope(self.vars, self.funs, self.defs, self.facts, dict(self.bound), self.matrix_facts, self.failed)

    def failed_note(self, name: str):
        """An ElabError message for a name whose declaration has an error, or None."""
        if name in self.failed:
            return f"`{name}` has an error in its declaration (line {self.failed[name]}); fix that first"
        return None

    def declared_line(self, name: str):
        for table in (self.vars, self.funs, self.defs):
            if name in table:
                info = table[name]
                return getattr(info, "line", None) or 0
        return None


# -------------------------------------------------------------------- helpers
def _bits(q: sp.Rational) -> int:
    return max(int(q.p).bit_length(), int(q.q).bit_length())


def _huge(e) -> bool:
    return isinstance(e, HugePower) or (isinstance(e, sp.Rational) and _bits(e) > MAX_NUMBER_BITS)


def safe_pow(base, exp):
    """`base**exp`, kept opaque (`HugePower`) where evaluating would build a huge number."""
    if _huge(base) or _huge(exp):
        return HugePower(base, exp)
    if isinstance(base, sp.Rational) and isinstance(exp, sp.Rational):
        if abs(base) not in (0, 1) and _bits(base) * abs(exp.p) > MAX_NUMBER_BITS:
            return HugePower(base, exp)
    return sp.Pow(base, exp)


def shape_text(shape) -> str:
    if shape is None:
        return "a scalar"
    r, c = shape
    if c == 1:
        return f"a vector of length {show(r, 40)}"
    return f"a {show(r, 40)}×{show(c, 40)} matrix"


def _small_size(e) -> bool:
    """Small enough to compare by expanding: few nodes, small numbers and powers."""
    nodes, _depth = measure(e, MAX_SIZE_NODES * 2, MAX_SIZE_NODES)
    if nodes > MAX_SIZE_NODES * 2:
        return False
    for sub in sp.preorder_traversal(e):
        if isinstance(sub, HugePower) or (sub.is_Rational and abs(sub) > MAX_SIZE_NUMBER):
            return False
        if isinstance(sub, sp.Pow) and not (sub.exp.is_Integer and abs(sub.exp) <= 8):
            return False
    return True


def _same_dim(a, b, span=None) -> bool:
    """Are sizes `a` and `b` equal for every value of their names? Decided cheaply
    (structure, or expanding a small difference); a False is only ever an error
    about shapes, never a verdict. Sizes too large to compare are an error at
    `span` (or False without one)."""
    if a == b:
        return True
    if a.is_Number and b.is_Number:
        return False
    if not (_small_size(a) and _small_size(b)):
        if span is None:
            return False
        raise ElabError(span, f"the sizes `{show(a, 60)}` and `{show(b, 60)}` are too large to compare "
                        f"(a size may have at most {MAX_SIZE_NODES} nodes, numbers up to {MAX_SIZE_NUMBER}, "
                        f"powers up to 8)")
    return sp.expand(a - b) == 0


def canonical(e, depth: int = 0):
    """Rename the bound indices of sums and products by position, so that equal
    sums written twice are the same object (SymPy invents a fresh index each time)."""
    if not isinstance(e, sp.Basic) or e.is_Atom or not e.has(sp.Sum, sp.Product):
        return e
    if isinstance(e, (sp.Sum, sp.Product)):
        # the bounds of an inner range may name an outer index (`sum(k = 1..n,
        # i = 1..k, E)` is Sum(E, (i, 1, k), (k, 1, n))): rename every index
        # everywhere at once. Sums inside bounds and body get deeper names, so
        # that they cannot capture these.
        mapping = {i: sp.Symbol(f"_i{depth}_{j}", integer=True) for j, (i, _lo, _hi) in enumerate(e.limits)}
        limits = [(mapping[i], canonical(lo.xreplace(mapping), depth + 1), canonical(hi.xreplace(mapping), depth + 1))
                  for i, lo, hi in e.limits]
        body = canonical(e.function.xreplace(mapping), depth + 1)
        return type(e)(body, *limits)
    return e.func(*[canonical(a, depth) for a in e.args])


def measure(expr, max_nodes: int = MAX_TERM_NODES, max_depth: int = MAX_TERM_DEPTH) -> tuple:
    """(nodes, depth) of `expr` as a tree, counted without recursion; stops as
    soon as either passes its bound (so the cost is at most max_nodes steps)."""
    if not isinstance(expr, sp.Basic):
        return 1, 1
    nodes, deepest = 0, 0
    stack = [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        nodes += 1
        if depth > deepest:
            deepest = depth
        if nodes > max_nodes or deepest > max_depth:
            break
        stack.extend((a, depth + 1) for a in e.args)
    return nodes, deepest


def node_count(expr, limit: int = MAX_TERM_NODES) -> int:
    """Nodes of `expr`; counting stops once past `limit`."""
    return measure(expr, limit, 10 ** 9)[0]


def _too_large(expr) -> str | None:
    """Why `expr` is past the size bounds, or None."""
    nodes, depth = measure(expr)
    if nodes > MAX_TERM_NODES:
        return f"more than {MAX_TERM_NODES} nodes"
    if depth > MAX_TERM_DEPTH:
        return f"more than {MAX_TERM_DEPTH} levels of nesting"
    return None


def _huge_number(expr) -> bool:
    """Does `expr` hold a number too large to work with?"""
    return any(_bits(q) > MAX_NUMBER_BITS for q in expr.atoms(sp.Rational))


def _corners(expr, ranges: dict):
    """The values of an index expression at the ends of the ranges of the
    summation indices in it, each with facts known there (expressions >= 0), or
    None when it is not affine in each of them.

    `ranges` maps each summation index to (low, high, order), inner indices
    having higher orders. An index affine in the innermost summation index takes
    its extreme values at that index's range ends; substituting them leaves an
    expression in the outer indices, treated the same way. Every value the index
    takes lies between the smallest and the largest corner. The corners are
    also right when SymPy runs a range backwards (the points it then uses lie
    between the ends). One more fact is used for a range whose ends name no
    summation index and that provably never runs backwards (high >= low - 1):
    an index in it is used only when the range is not empty, so high - low >= 0
    may be assumed (this admits `sum(i = 2..n, v[i - 1])`)."""
    out = [(expr, ())]
    for _ in range(MAX_INDEX_VARIABLES + 1):
        pending = sorted({s for e, _h in out for s in e.free_symbols if s in ranges},
                         key=lambda s: (-ranges[s][2], str(s)))
        if not pending:
            return out
        v = pending[0]
        lo, hi, _order = ranges[v]
        extra = ()
        if not any(s in ranges for s in (lo - hi).free_symbols) and _provably_nonnegative(hi - lo + 1):
            extra = (hi - lo,)
        nxt = []
        for e, hyps in out:
            if not e.has(v):
                nxt.append((e, hyps))
                continue
            if sp.diff(e, v).has(v):
                return None  # not affine in v
            nxt += [(e.xreplace({v: lo}), hyps + extra), (e.xreplace({v: hi}), hyps + extra)]
        if len(nxt) > 2 ** MAX_INDEX_VARIABLES:
            return None
        out = nxt
    return None


def _nonnegative_given(e, hyps) -> bool:
    """Is e >= 0, given that every expression in `hyps` is >= 0? (Tries e and
    e minus each fact and minus all of them: enough for shifted ranges.)"""
    if _provably_nonnegative(e):
        return True
    tries = [e - h for h in hyps] + ([e - sum(hyps)] if len(hyps) > 1 else [])
    return any(_provably_nonnegative(t) for t in tries)


def _max_min(fn, args):
    """max/min of `args`. SymPy compares every pair of arguments when it builds
    one, which takes seconds for a few dozen large ones; large ones are kept
    as written (the same function, only not simplified)."""
    total = sum(measure(a, MAX_EAGER_MAX_NODES + 1, MAX_TERM_DEPTH)[0] for a in args)
    if len(args) > MAX_EAGER_MAX_ARGS or total > MAX_EAGER_MAX_NODES:
        return fn(*args, evaluate=False)
    return fn(*args)


def substitute(expr, mapping: dict):
    """`expr.xreplace(mapping)` without recursion, rebuilding each distinct
    subexpression once (an unfolded definition shares its parts), with the
    same care as `_max_min` for max and min."""
    memo = dict(mapping)
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in memo:
            continue
        if not e.args:
            memo[e] = e
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in memo)
            continue
        args = [memo[a] for a in e.args]
        if all(new is old for new, old in zip(args, e.args)):
            memo[e] = e
        elif isinstance(e, (sp.Max, sp.Min)):
            memo[e] = _max_min(e.func, args)
        else:
            memo[e] = e.func(*args)
    return memo[expr]


def _provably_nonnegative(e) -> bool:
    try:
        return bool(sp.expand(e).is_nonnegative)
    except Exception:  # noqa: BLE001 - cannot tell: not proved
        return False


# ----------------------------------------------------------------- elaborator
_LEVELS = {"+": "+-", "-": "+-", "*": "*/", "/": "*/"}


class Elaborator:
    """Turns expression and formula nodes into SymPy terms in a scope."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.ranges: dict = {}   # summation index (a Dummy) -> (low, high, order)
        self._level = 0          # depth of term() calls: 0 is a call from outside
        self._unfolded = 0       # nodes built by unfolding definitions, this expression

    # -- source text of a span (for reports)
    def source(self, span: S.Span) -> str:
        return S.span_text(self.lines, span)

    # -- expressions
    def term(self, node, scope: Scope) -> Term:
        if self._level == 0:
            return self._outermost(node.span, lambda: self._term(node, scope))
        return self._term(node, scope)

    def _term(self, node, scope: Scope) -> Term:
        method = getattr(self, "_t_" + type(node).__name__)
        self._level += 1
        try:
            t = method(node, scope)
        finally:
            self._level -= 1
        if len(t.conds) > MAX_CONDITIONS:
            raise ElabError(node.span, f"this expression is defined only under more than {MAX_CONDITIONS} "
                            f"conditions (denominators, logarithms, roots): too many to check")
        return t

    def _outermost(self, span, build):
        """Run `build` for an expression written in the source: bound its size,
        and turn any failure of SymPy on it into an error at `span`."""
        self._unfolded = 0
        saved = self._level
        try:
            t = build()
        except ElabError:
            raise
        except RecursionError:
            raise ElabError(span, "this expression is nested too deeply to check") from None
        except Exception:  # noqa: BLE001 - SymPy failing on a hostile input must not end the run
            raise ElabError(span, "this expression could not be read: it is too large, or a combination "
                            "the checker cannot handle") from None
        finally:
            self._level = saved
        if isinstance(t, Term):
            why = _too_large(t.expr)
            if why:
                raise ElabError(span, f"this expression is too large to check: it has {why} once "
                                f"definitions are unfolded (definitions are expanded where they are used)")
            if _huge_number(t.expr):
                raise ElabError(span, f"this expression has a number of more than {MAX_NUMBER_DIGITS} digits, "
                                f"too large to work with (a power such as 10^5000 on its own is kept exact)")
        return t

    def scalar(self, node, scope: Scope, what: str = "this") -> Term:
        t = self.term(node, scope)
        if t.shape is not None:
            if self._is_one_by_one(t.shape):
                return Term(t.expr[0, 0], None, t.conds)
            raise ElabError(node.span, f"{what} must be a scalar, but `{self.source(node.span)}` is "
                            f"{shape_text(t.shape)}")
        if what == "a size":
            self._check_size(t.expr, node)
        return t

    def _check_size(self, e, node):
        """A size of a matrix is a small expression with small numbers."""
        text = self.source(node.span)
        nodes, _depth = measure(e, MAX_SIZE_NODES, MAX_SIZE_NODES)
        if nodes > MAX_SIZE_NODES:
            raise ElabError(node.span, f"the size `{text}` is too large an expression (at most {MAX_SIZE_NODES} "
                            f"nodes)")
        for sub in sp.preorder_traversal(e):
            if isinstance(sub, HugePower) or (sub.is_Rational and abs(sub) > MAX_SIZE_NUMBER):
                raise ElabError(node.span, f"the size `{text}` has a number larger than {MAX_SIZE_NUMBER}")

    @staticmethod
    def _is_one_by_one(shape) -> bool:
        return shape is not None and shape[0] == 1 and shape[1] == 1

    def _t_Num(self, node: S.Num, scope):
        return Term(sp.Rational(node.value.numerator, node.value.denominator))

    def _t_Name(self, node: S.Name, scope):
        name = node.name
        if name in scope.bound:
            return scope.bound[name]
        if name in scope.vars:
            v = scope.vars[name]
            return Term(v.symbol, v.shape)
        if name in scope.defs:
            d = scope.defs[name]
            if d.params:
                raise ElabError(node.span, f"`{name}` is a function of {len(d.params)} argument(s): "
                                f"write `{name}(…)`")
            return d.body
        if name == "e":
            return Term(sp.E)
        if name in ("pi", "π"):
            return Term(sp.pi)
        if name == "I":
            raise ElabError(node.span, "`I` is the identity matrix: write `I(n)` with its size")
        if name == "T":
            raise ElabError(node.span, "`T` is reserved for transposes: write `A^T`")
        if name in scope.funs:
            raise ElabError(node.span, f"`{name}` is a function: apply it, as in `{name}(x)`")
        if name in BUILTIN_FUNCTIONS:
            raise ElabError(node.span, f"`{name}` is a built-in function: apply it, as in `{name}(x)`")
        if scope.failed_note(name):
            raise ElabError(node.span, scope.failed_note(name))
        raise ElabError(node.span, f"`{name}` is not declared: add `let {name} : real` (or the right "
                        f"type) before this line")

    def _t_Neg(self, node: S.Neg, scope):
        t = self.term(node.arg, scope)
        if t.shape is not None and _has_bigop(t.expr):
            return Term(sp.MatMul(-1, t.expr), t.shape, t.conds)  # no doit: see _has_bigop
        return Term(-t.expr, t.shape, t.conds)

    def _t_BinOp(self, node: S.BinOp, scope):
        """`a + b - c + …` and `a*b/c*…` are read left to right without recursion
        (a long sum is a deep tree); scalar operands are combined in one step."""
        level = _LEVELS[node.op]
        spine = []
        first = node
        while isinstance(first, S.BinOp) and _LEVELS[first.op] == level:
            spine.append(first)
            first = first.left
        spine.reverse()
        acc = self.term(first, scope)
        operands, conds = None, []  # scalars not yet combined (acc is then a scalar)
        for op_node in spine:
            b = self.term(op_node.right, scope)
            op = op_node.op
            if op in "+-/":
                b = self._scalarize(b)
            if op in "+-" and operands is None:
                acc = self._scalarize(acc)
            if acc.shape is None and b.shape is None:
                if operands is None:
                    operands, conds = [acc.expr], list(acc.conds)
                conds.extend(b.conds)
                if op == "+":
                    operands.append(b.expr)
                elif op == "-":
                    operands.append(-b.expr)
                elif op == "*":
                    operands.append(b.expr)
                else:
                    operands.append(sp.Pow(b.expr, -1))
                    conds.append(Condition(b.expr, "!=", f"`{self.source(op_node.right.span)}` is a denominator"))
                continue
            if operands is not None:
                acc = Term(self._combine(level, operands), None, tuple(conds))
                operands = None
            acc = self._binop(op_node, acc, b)
        if operands is not None:
            acc = Term(self._combine(level, operands), None, tuple(conds))
        return acc

    @staticmethod
    def _combine(level, operands):
        return sp.Add(*operands) if level == "+-" else sp.Mul(*operands)

    def _binop(self, node: S.BinOp, a: Term, b: Term) -> Term:
        """One operation of which at least one side is a matrix."""
        conds = a.conds + b.conds
        op = node.op
        if op in "+-":
            a, b = self._scalarize(a), self._scalarize(b)
            if (a.shape is None) != (b.shape is None):
                raise ElabError(node.span, f"cannot {'add' if op == '+' else 'subtract'} "
                                f"{shape_text(a.shape)} and {shape_text(b.shape)}: "
                                f"`{self.source(node.left.span)}` is {shape_text(a.shape)}, "
                                f"`{self.source(node.right.span)}` is {shape_text(b.shape)}")
            if a.shape is not None and not (_same_dim(a.shape[0], b.shape[0], node.span)
                                            and _same_dim(a.shape[1], b.shape[1], node.span)):
                raise ElabError(node.span, f"cannot {'add' if op == '+' else 'subtract'} matrices of "
                                f"different shapes: {shape_text(a.shape)} and {shape_text(b.shape)}")
            if a.shape is not None and _has_bigop(a.expr, b.expr):
                # not even doit(deep=False): MatAdd's clean-up (glom) multiplies the
                # coefficients out, and a product over i = 1..m becomes 2^m
                expr = sp.MatAdd(a.expr, b.expr if op == "+" else sp.MatMul(-1, b.expr))
            else:
                expr = a.expr + b.expr if op == "+" else a.expr - b.expr
            return Term(expr, a.shape, conds)
        if op == "*":
            if a.shape is None or b.shape is None:
                if _has_bigop(a.expr, b.expr):
                    return Term(sp.MatMul(a.expr, b.expr), a.shape or b.shape, conds)
                return Term(a.expr * b.expr, a.shape or b.shape, conds)
            if not _same_dim(a.shape[1], b.shape[0], node.span):
                raise ElabError(node.span, f"cannot multiply {shape_text(a.shape)} by {shape_text(b.shape)}: "
                                f"the inner sizes {show(a.shape[1], 40)} and {show(b.shape[0], 40)} differ")
            shape = (a.shape[0], b.shape[1])
            expr = sp.MatMul(a.expr, b.expr)
            if self._is_one_by_one(shape):
                return Term(expr[0, 0], None, conds)
            return Term(expr, shape, conds)
        # division
        b = self._scalarize(b)
        if b.shape is not None:
            raise ElabError(node.span, f"cannot divide by {shape_text(b.shape)}: use `inv(…)`")
        cond = Condition(b.expr, "!=", f"`{self.source(node.right.span)}` is a denominator")
        if _has_bigop(a.expr, b.expr):
            return Term(sp.MatMul(sp.Pow(b.expr, -1), a.expr), a.shape, conds + (cond,))
        return Term(a.expr / b.expr, a.shape, conds + (cond,))

    def _scalarize(self, t: Term) -> Term:
        if self._is_one_by_one(t.shape):
            return Term(t.expr[0, 0], None, t.conds)
        return t

    def _t_Power(self, node: S.Power, scope):
        base = self.term(node.base, scope)
        exp = self.scalar(node.exponent, scope, "an exponent")
        conds = base.conds + exp.conds
        if base.shape is not None and not self._is_one_by_one(base.shape):
            if not (exp.expr.is_Integer and exp.expr >= 0):
                raise ElabError(node.span, "a matrix can only be raised to a whole power `A^k` (k = 0, 1, 2, …)")
            if not _same_dim(base.shape[0], base.shape[1], node.span):
                raise ElabError(node.span, f"only a square matrix has powers; this is {shape_text(base.shape)}")
            return Term(sp.MatPow(base.expr, exp.expr), base.shape, conds)
        base = self._scalarize(base)
        b, e = base.expr, exp.expr
        text = self.source(node.base.span)
        if e.is_integer:
            if not e.is_nonnegative:
                conds += (Condition(b, "!=", f"`{text}` is raised to a power that may be negative"),)
        else:
            if e.is_positive:
                conds += (Condition(b, ">=", f"`{text}` is raised to a power that may not be a whole number"),)
            else:
                # b^e for real e: b > 0, or b = 0 with e > 0 (0^e = 0); never b < 0
                conds += (Condition(b, ">=", f"`{text}` is raised to a power that may not be a whole number"),
                          Condition(sp.Max(b, e), ">", f"`{text}` may be 0 while its power is not positive"))
        return Term(safe_pow(b, e), None, conds)

    def _t_Abs(self, node: S.Abs, scope):
        t = self.scalar(node.arg, scope, "the argument of `|…|`")
        return Term(sp.Abs(t.expr), None, t.conds)

    def _t_Norm(self, node: S.Norm, scope):
        t = self.term(node.arg, scope)
        name = {"vec": "norm", "2": "norm_2", "F": "norm_F"}[node.kind]
        return self._matrix_function(name, t, node)

    def _t_Transpose(self, node: S.Transpose, scope):
        t = self.term(node.arg, scope)
        if t.shape is None:
            return t
        return Term(sp.Transpose(t.expr), (t.shape[1], t.shape[0]), t.conds)

    def _t_Index(self, node: S.Index, scope):
        base = self.term(node.base, scope)
        if base.shape is None:
            raise ElabError(node.span, f"`{self.source(node.base.span)}` is a scalar and has no entries")
        idx = [self.scalar(i, scope, "an index") for i in node.indices]
        conds = base.conds + sum((i.conds for i in idx), ())
        rows, cols = base.shape
        if len(idx) == 1:
            if cols != 1:
                raise ElabError(node.span, f"`{self.source(node.base.span)}` is {shape_text(base.shape)}: "
                                f"write two indices, `A[i, j]`")
            i, j = idx[0].expr, sp.Integer(1)
            self._check_index(i, rows, node.indices[0])
        elif len(idx) == 2:
            i, j = idx[0].expr, idx[1].expr
            self._check_index(i, rows, node.indices[0])
            self._check_index(j, cols, node.indices[1])
        else:
            raise ElabError(node.span, "an entry takes one index (vectors) or two (matrices)")
        try:
            entry = base.expr[i - 1, j - 1]
        except (IndexError, ValueError, TypeError):
            raise ElabError(node.span, f"`{self.source(node.span)}` is not an entry of "
                            f"{shape_text(base.shape)}") from None
        return Term(entry, None, conds)

    def _check_index(self, k, bound, inode):
        """An index must be an integer that stays in 1..bound for every value of
        the names in it: decided here, from the declarations and the ranges of
        the summation indices (an index affine in them is checked at the ends of
        their ranges). Otherwise an error, as for `v[0]`."""
        text = self.source(inode.span)
        where = f"1..{show(bound, 40)}"
        if k.is_Number:
            if not k.is_Integer:
                raise ElabError(inode.span, f"an index must be an integer; `{text}` is not")
            if k < 1 or (bound.is_Number and k > bound):
                raise ElabError(inode.span, f"index {show(k, 40)} is outside {where}")
        elif not k.is_integer:
            raise ElabError(inode.span, f"an index must be an integer; `{text}` may not be one (an index "
                            f"is built from integers and summation indices)")
        corners = _corners(k, self.ranges)
        if corners is None:
            raise ElabError(inode.span, f"the index `{text}` may leave {where}: it is not an affine expression "
                            f"in the summation indices, so its range cannot be checked")
        for c, hyps in corners:
            for ok, side in ((_nonnegative_given(c - 1, hyps), "less than 1"),
                             (_nonnegative_given(bound - c, hyps), f"more than {show(bound, 40)}")):
                if ok:
                    continue
                value = "" if c == k else f" (at an end of a summation range it is {show(c, 40)}, which may be {side})"
                raise ElabError(inode.span, f"the index `{text}` may leave {where}{value}; an index must "
                                f"stay in range for every value the declarations allow")

    def _t_Deriv(self, node: S.Deriv, scope):
        return self._derivative(node, node.var, node.body, 1, scope)

    def _derivative(self, node, var_name, body_node, order, scope):
        var = self._lookup_variable(var_name, node.span, scope)
        body = self.scalar(body_node, scope, "the expression being differentiated")
        conds = body.conds + self._smoothness(body.expr, var)
        return Term(sp.Derivative(body.expr, (var, order)), None, conds)

    def _lookup_variable(self, name, span, scope):
        if name in scope.bound:
            sym = scope.bound[name].expr
        elif name in scope.vars and scope.vars[name].shape is None:
            sym = scope.vars[name].symbol
        else:
            raise ElabError(span, f"`d/d{name}`: `{name}` is not a declared real variable")
        if not isinstance(sym, sp.Symbol):
            raise ElabError(span, f"`{name}` is not a variable one can differentiate by")
        if sym.is_integer:
            raise ElabError(span, f"`{name}` is an integer; derivatives are taken by real variables")
        return sym

    @staticmethod
    def _smoothness(expr, var) -> tuple:
        """Where |u|, max, min and sqrt may stop being differentiable.

        At a kink of |u| (where u = 0) or of max(a, b) / min(a, b) (where a = b)
        the expression equals one of two pieces near the point: |u| replaced by u
        or by -u, max by a or by b. When the pieces' derivatives agree wherever the
        kink is (shown by solving u = 0 for the variable, u linear in it, and
        algebra), the derivative exists there and is the formal one (SymPy's
        sign(0) = 0 and Heaviside(0) = 1/2 give the common value): no condition.
        Otherwise the condition stays, with the pieces' difference as its `jump`
        (NaN, never known, for kinks nested inside another kink's argument and for
        roots at 0: a point at such a kink is then no counterexample by itself).
        """
        out = []
        kinks = (sp.Abs, sp.Max, sp.Min)
        for sub in sp.preorder_traversal(expr):
            if not getattr(sub, "has", None) or not sub.has(var):
                continue
            if isinstance(sub, sp.Abs):
                why = "|u| has no derivative where u = 0 (u is `%s`)" % show(sub.args[0], 80)
                u = sub.args[0]
                pieces = (expr.xreplace({sub: u}), expr.xreplace({sub: -u}))
                nested = u.has(*kinks)
                pairs = [(u, pieces, why)]
            elif isinstance(sub, (sp.Max, sp.Min)):
                nested = any(a.has(*kinks) for a in sub.args) or len(sub.args) != 2
                a, b = sub.args[0], sub.args[-1]
                why = "max and min have no derivative where their arguments are equal"
                pairs = [(a - b, (expr.xreplace({sub: a}), expr.xreplace({sub: b})), why)] if not nested else \
                    [(x - y, None, why) for x, y in itertools.combinations(sub.args, 2)]
            elif isinstance(sub, sp.Pow) and sub.exp.is_Rational and not sub.exp.is_integer and sub.exp < 1:
                # where the base is 0 the derivative may or may not exist (sqrt(x^4 + x^6)):
                # a jump that is never known says "no counterexample from this alone"
                out.append(Condition(sub.base, ">", "a root has no derivative at 0", sp.nan))
                continue
            else:
                continue
            for u, pieces, why in pairs:
                if nested or pieces is None:
                    out.append(Condition(u, "!=", why, sp.nan))  # a kink whose jump is not known
                    continue
                jump = _kink_jump(pieces, var)
                if jump is not None and _vanishes_where_zero(jump, u, var):
                    continue  # the one-sided derivatives agree at every kink: differentiable
                out.append(Condition(u, "!=", why, jump))
        n_kinks = sum(1 for sub in sp.preorder_traversal(expr) if isinstance(sub, kinks) and sub.has(var))
        if n_kinks > 1:
            # several kinks may meet at one point (max(x, 0) + min(x, 0) is x): one kink's
            # jump, computed with the others held, says nothing there; never refute from it
            out = [Condition(c.expr, c.rel, c.why, sp.nan) for c in out]
        return tuple(out)

    def _t_BigOp(self, node: S.BigOp, scope):
        inner = scope.child()
        limits = []
        conds = ()
        for r in node.ranges:
            lo = self.scalar(r.low, inner, "a range bound")
            hi = self.scalar(r.high, inner, "a range bound")
            for b, sub in ((lo, r.low), (hi, r.high)):
                if not b.expr.is_integer:
                    raise ElabError(sub.span, f"the bound `{self.source(sub.span)}` must be an integer "
                                    f"(declare it `integer`)")
            self._check_new_name(r.var, r.span, inner, bound_ok=True)
            # the index runs from its lower bound up: it inherits the bound's sign
            sign = {"positive": True} if lo.expr.is_positive else \
                {"nonnegative": True} if lo.expr.is_nonnegative else {}
            idx = sp.Dummy(r.var, integer=True, **sign)
            inner.bound[r.var] = Term(idx)
            self.ranges[idx] = (lo.expr, hi.expr, len(self.ranges))
            limits.append((idx, lo.expr, hi.expr))
            conds += lo.conds + hi.conds
        body = self.scalar(node.body, inner, f"the body of `{node.kind}`")
        if any(c.expr.has(l[0]) for c in body.conds for l in limits):
            # a condition on the index must hold for every index in range: keep
            # it as a product/sum-free condition only when it does not depend on it
            body_conds = tuple(c for c in body.conds if not any(c.expr.has(l[0]) for l in limits))
            body_conds += tuple(Condition(sp.Product(c.expr, *[(l[0], l[1], l[2]) for l in limits]), "!=", c.why)
                                for c in body.conds if c.rel == "!=" and any(c.expr.has(l[0]) for l in limits))
            unsupported = [c for c in body.conds if c.rel != "!=" and any(c.expr.has(l[0]) for l in limits)]
            if unsupported:
                raise ElabError(node.span, "a logarithm or root whose argument depends on the summation "
                                "index is not supported yet")
        else:
            body_conds = body.conds
        cls = sp.Sum if node.kind == "sum" else sp.Product
        expr = cls(body.expr, *[(i, lo, hi) for i, lo, hi in reversed(limits)])
        return Term(expr, None, conds + body_conds)

    def _t_Call(self, node: S.Call, scope):
        name = node.name
        if name in scope.bound or name in scope.vars:
            raise ElabError(node.name_span, f"`{name}` is a variable, not a function; "
                            f"write `{name}*(…)` to multiply")
        if name in scope.defs:
            d = scope.defs[name]
            if not d.params:
                raise ElabError(node.name_span, f"`{name}` is a constant; it takes no arguments")
            if len(node.args) != len(d.params):
                raise ElabError(node.span, f"`{name}` takes {len(d.params)} argument(s), got {len(node.args)}")
            args = [self.scalar(a, scope, f"an argument of `{name}`") for a in node.args]
            mapping = dict(zip(d.params, [a.expr for a in args]))
            conds = sum((a.conds for a in args), ())
            body_conds = tuple(c.mapped(lambda e: substitute(e, mapping)) for c in d.body.conds)
            expr = substitute(d.body.expr, mapping)
            # definitions are expanded where they are used: bound what that builds
            for e in (expr,) + tuple(c.expr for c in body_conds):
                nodes, depth = measure(e)
                self._unfolded += nodes
                if nodes > MAX_TERM_NODES or depth > MAX_TERM_DEPTH:
                    raise ElabError(node.span, f"`{name}(…)` unfolds to more than "
                                    f"{MAX_TERM_NODES if nodes > MAX_TERM_NODES else MAX_TERM_DEPTH} "
                                    f"{'nodes' if nodes > MAX_TERM_NODES else 'levels of nesting'} "
                                    f"(definitions are expanded where they are used)")
                if self._unfolded > MAX_UNFOLDED:
                    raise ElabError(node.span, f"the definitions used here unfold to more than {MAX_UNFOLDED} "
                                    f"nodes in all (definitions are expanded where they are used)")
            return Term(expr, d.body.shape, conds + body_conds)
        if name in scope.funs:
            if len(node.args) != 1:
                raise ElabError(node.span, f"`{name}` is a function of one real argument")
            a = self.scalar(node.args[0], scope, f"the argument of `{name}`")
            return Term(scope.funs[name](a.expr), None, a.conds)
        if name == "diff":
            return self._diff_call(node, scope)
        if name == "I":
            if len(node.args) != 1:
                raise ElabError(node.span, "`I(n)` takes the size of the identity matrix")
            n = self.scalar(node.args[0], scope, "a size")
            if not (n.expr.is_integer and n.expr.is_positive):
                raise ElabError(node.span, "the size in `I(n)` must be a positive integer")
            return Term(sp.Identity(n.expr), (n.expr, n.expr), n.conds)
        if name in SCALAR_FUNCTIONS:
            return self._scalar_function(node, scope)
        if name in MATRIX_FUNCTIONS:
            if len(node.args) != 1:
                raise ElabError(node.span, f"`{name}` takes one argument")
            return self._matrix_function(name, self.term(node.args[0], scope), node)
        if scope.failed_note(name):
            raise ElabError(node.name_span, scope.failed_note(name))
        raise ElabError(node.name_span, f"`{name}` is not a declared function: declare it with "
                        f"`fun {name} : real -> real` or `def {name}(t) = …`")

    def _diff_call(self, node: S.Call, scope):
        if len(node.args) not in (2, 3):
            raise ElabError(node.span, "write `diff(E, x)` or `diff(E, x, 2)`")
        var_node = node.args[1]
        if not isinstance(var_node, S.Name):
            raise ElabError(var_node.span, "the second argument of `diff` is the variable, a name")
        order = 1
        if len(node.args) == 3:
            o = node.args[2]
            if not (isinstance(o, S.Num) and o.value.denominator == 1 and 1 <= o.value <= 20):
                raise ElabError(o.span, "the order of a derivative is a whole number from 1 to 20")
            order = int(o.value)
        return self._derivative(node, var_node.name, node.args[0], order, scope)

    def _scalar_function(self, node: S.Call, scope):
        name = node.name
        if name in ("max", "min"):
            if len(node.args) < 2:
                raise ElabError(node.span, f"`{name}` takes two or more arguments")
            args = [self.scalar(a, scope, f"an argument of `{name}`") for a in node.args]
            conds = sum((a.conds for a in args), ())
            fn = sp.Max if name == "max" else sp.Min
            return Term(_max_min(fn, [a.expr for a in args]), None, conds)
        if len(node.args) != 1:
            raise ElabError(node.span, f"`{name}` takes one argument, got {len(node.args)}")
        a = self.scalar(node.args[0], scope, f"the argument of `{name}`")
        u = a.expr
        text = self.source(node.args[0].span)
        conds = a.conds
        if name == "exp":
            expr = sp.exp(u)
        elif name in ("log", "ln"):
            expr = sp.log(u)
            conds += (Condition(u, ">", f"`{text}` is the argument of a logarithm"),)
        elif name == "sqrt":
            expr = sp.sqrt(u)
            conds += (Condition(u, ">=", f"`{text}` is under a square root"),)
        elif name == "sin":
            expr = sp.sin(u)
        elif name == "cos":
            expr = sp.cos(u)
        elif name == "tan":
            expr = sp.tan(u)
            conds += (Condition(sp.cos(u), "!=", f"cos(`{text}`) is the denominator of tan"),)
        elif name == "tanh":
            expr = sp.tanh(u)
        elif name == "sigmoid":
            expr = 1 / (1 + sp.exp(-u))
        elif name == "abs":
            expr = sp.Abs(u)
        else:  # pragma: no cover - table and branches agree
            raise ElabError(node.span, f"unknown function `{name}`")
        return Term(expr, None, conds)

    def _matrix_function(self, name, t: Term, node):
        if t.shape is None:
            if name in ("trace", "tr", "det"):
                return t  # a scalar is a 1×1 matrix
            if name == "inv":
                return Term(1 / t.expr, None, t.conds + (Condition(t.expr, "!=", "`inv` of zero"),))
            return Term(sp.Abs(t.expr), None, t.conds)  # a norm of a scalar
        rows, cols = t.shape
        square = _same_dim(rows, cols, node.span)
        if name in ("trace", "tr", "det", "inv") and not square:
            raise ElabError(node.span, f"`{name}` needs a square matrix; this is {shape_text(t.shape)}")
        A = t.expr

        def times(X, Y):  # X*Y, without carrying out a sum inside (see _has_bigop)
            return sp.MatMul(X, Y) if _has_bigop(X, Y) else X * Y
        if name in ("trace", "tr"):
            return Term(sp.Trace(A), None, t.conds)
        if name == "det":
            return Term(sp.Determinant(A), None, t.conds)
        if name == "inv":
            cond = Condition(sp.Determinant(A), "!=", NEEDS_INVERTIBLE)
            return Term(sp.Inverse(A), t.shape, t.conds + (cond,))
        if name == "norm":
            if cols != 1 and rows != 1:
                raise ElabError(node.span, f"`norm` is the vector 2-norm; for {shape_text(t.shape)} use "
                                f"`norm_2` or `norm_F`")
            inner = times(sp.Transpose(A), A) if cols == 1 else times(A, sp.Transpose(A))
            return Term(sp.sqrt(inner[0, 0]), None, t.conds)
        if name == "norm_F":
            return Term(sp.sqrt(sp.Trace(times(sp.Transpose(A), A))), None, t.conds)
        if name == "norm_2":
            if cols == 1:  # the spectral norm of a vector is its 2-norm
                return Term(sp.sqrt(times(sp.Transpose(A), A)[0, 0]), None, t.conds)
            return Term(SpectralNorm(A), None, t.conds)
        raise ElabError(node.span, f"unknown function `{name}`")  # pragma: no cover

    # -- names
    def _check_new_name(self, name, span, scope: Scope, bound_ok=False):
        bad = _foreign_letter(name)
        if bad:
            raise ElabError(span, bad)
        if name in RESERVED:
            raise ElabError(span, f"`{name}` is reserved ({_reserved_meaning(name)}); choose another name")
        if name in BUILTIN_FUNCTIONS or name in KEYWORDS:
            raise ElabError(span, f"`{name}` is a built-in name; choose another name")
        if bound_ok:
            return
        line = scope.declared_line(name)
        if line is not None:
            raise ElabError(span, f"`{name}` is already declared (line {line})")
        if name in scope.facts:
            raise ElabError(span, f"`{name}` is already the name of a fact (line {scope.facts[name].line})")

    # -- formulas
    def formula(self, node, scope: Scope):
        if isinstance(node, S.Chain):
            rels = []
            terms = [self.term(e, scope) for e in node.exprs]
            for i, rel in enumerate(node.rels):
                a, b = terms[i], terms[i + 1]
                rels.append(self.relation(a, rel, b, node.exprs[i], node.exprs[i + 1]))
            return rels[0] if len(rels) == 1 else FAnd(rels)
        if isinstance(node, S.Forall):
            inner = scope.child()
            variables = []
            for n in node.names:
                self._check_new_name(n, node.span, inner, bound_ok=True)
                d = sp.Dummy(n, real=True)
                inner.bound[n] = Term(d)
                variables.append(d)
            return FForall(variables, self.formula(node.body, inner))
        if isinstance(node, S.And):
            sides = []  # `P and Q and R …` is a deep tree: read it without recursion
            while isinstance(node, S.And):
                sides.append(node.right)
                node = node.left
            sides.append(node)
            parts = []
            for side in reversed(sides):
                f = self.formula(side, scope)
                parts.extend(f.parts if isinstance(f, FAnd) else [f])
            return FAnd(parts)
        if isinstance(node, S.Implies):
            return FImplies(self.formula(node.premise, scope), self.formula(node.conclusion, scope))
        raise ElabError(node.span, "expected a formula")  # pragma: no cover

    def relation(self, a: Term, rel: str, b: Term, left_node, right_node) -> Rel:
        span = S.Span(left_node.span.line, left_node.span.column, right_node.span.end_line,
                      right_node.span.end_column)
        return self._outermost(span, lambda: self._relation(a, rel, b, left_node, right_node, span))

    def _relation(self, a: Term, rel: str, b: Term, left_node, right_node, span) -> Rel:
        a, b = self._scalarize(a), self._scalarize(b)
        lt, rt = self.source(left_node.span), self.source(right_node.span)
        if (a.shape is None) != (b.shape is None):
            raise ElabError(span, f"cannot compare {shape_text(a.shape)} with {shape_text(b.shape)}: "
                            f"`{lt}` is {shape_text(a.shape)}, `{rt}` is {shape_text(b.shape)}")
        if a.shape is not None:
            if rel not in ("=", "!="):
                raise ElabError(span, f"`{rel}` compares scalars; `{lt}` and `{rt}` are matrices")
            if not (_same_dim(a.shape[0], b.shape[0], span) and _same_dim(a.shape[1], b.shape[1], span)):
                raise ElabError(span, f"cannot compare {shape_text(a.shape)} with {shape_text(b.shape)}")
        for t, node in ((a, left_node), (b, right_node)):
            why = _too_large(t.expr)
            if why:
                raise ElabError(node.span, f"this expression is too large to check: it has {why}")
        conds = tuple(c.mapped(canonical) for c in a.conds + b.conds)
        return Rel(canonical(a.expr), rel, canonical(b.expr), conds, f"{lt} {rel} {rt}", lt, rt, span,
                   is_matrix=a.shape is not None, lhs_shape=a.shape)


# Greek letters that look like Latin ones: `Ο` and `O` in one report would read the same
_GREEK_LOOKALIKES = set("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο")


def _foreign_letter(name: str):
    """Names use ASCII and Greek letters (and digits, `_`): a letter from another
    script (Cyrillic `а` looks exactly like Latin `a`) or a Greek letter that looks
    Latin could make two different names look the same. The error, or None."""
    import unicodedata
    for ch in name:
        if ch.isascii() or ch == "_" or ch.isdigit():
            continue
        if "\u0370" <= ch <= "\u03ff":
            if ch in _GREEK_LOOKALIKES:
                return (f"`{name}` uses the Greek letter `{ch}` ({unicodedata.name(ch, '?').lower()}), which looks "
                        f"like a Latin letter; use the Latin one")
            continue
        return (f"`{name}` uses `{ch}` ({unicodedata.name(ch, 'an unnamed character').lower()}); names use ASCII "
                f"or Greek letters, digits and `_`, so that different names never look alike")
    return None


def _reserved_meaning(name: str) -> str:
    return {"e": "Euler's number", "pi": "π", "π": "π", "T": "transpose, as in A^T",
            "I": "the identity matrix I(n)"}[name]


def make_variable(name: str, type_name: str, dims: list, assumptions: list, span) -> tuple:
    """(symbol, shape, kind) for a `let` declaration; raises ElabError."""
    if type_name in ("real", "integer"):
        if dims:
            raise ElabError(span, f"`{type_name}` takes no size")
        kw = {"integer": True} if type_name == "integer" else {"real": True}
        for a, a_span in assumptions:
            if a not in SCALAR_ASSUMPTIONS:
                hint = " (that is for matrices)" if a in MATRIX_ASSUMPTIONS else ""
                raise ElabError(a_span, f"unknown assumption `{a}`{hint}; a scalar may be "
                                f"{', '.join(SCALAR_ASSUMPTIONS)}")
            kw.update(SCALAR_ASSUMPTIONS[a])
        try:
            return sp.Symbol(name, **kw), None, type_name
        except Exception:  # inconsistent assumptions, e.g. positive and negative  # noqa: BLE001
            raise ElabError(span, f"the assumptions on `{name}` contradict each other") from None
    if type_name in ("matrix", "vector"):
        want = 2 if type_name == "matrix" else 1
        if len(dims) != want:
            raise ElabError(span, "write `matrix(m, n)` or `vector(n)`")
        for a, a_span in assumptions:
            if a not in MATRIX_ASSUMPTIONS:
                raise ElabError(a_span, f"unknown assumption `{a}`; a matrix may be symmetric, psd, pd or invertible")
            if type_name == "vector":
                raise ElabError(a_span, f"`{a}` is an assumption on square matrices, not vectors")
        shape = (dims[0], dims[1]) if want == 2 else (dims[0], sp.Integer(1))
        if assumptions and not _same_dim(shape[0], shape[1]):
            raise ElabError(span, f"`{assumptions[0][0]}` needs a square matrix")
        return sp.MatrixSymbol(name, *shape), shape, type_name
    raise ElabError(span, f"unknown type `{type_name}`; use real, integer, matrix(m, n) or vector(n)")


def _kink_jump(pieces, var):
    """d/dvar of the first piece minus that of the second (None if SymPy fails)."""
    try:
        jump = sp.diff(pieces[0], var) - sp.diff(pieces[1], var)
    except Exception:  # noqa: BLE001 - no formal derivative: keep the plain condition
        return None
    if jump.has(sp.Derivative, sp.Subs):
        return None
    return jump


def _vanishes_where_zero(jump, u, var) -> bool:
    """Is jump = 0 at every point where u = 0? Shown when u = a*var + b with a, b free
    of var: substitute var = -b/a and prove the result 0 (where a = 0, u does not
    depend on var and |u| is smooth in it; there the jump, 2*F_k*a, is 0 too)."""
    from .deciders import algebra
    try:
        poly = sp.Poly(u, var)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return False
    if poly.degree() != 1:
        return False
    a, b = poly.all_coeffs()
    if a.has(var) or b.has(var) or a.is_zero:
        return False
    at_kink = jump.xreplace({var: -b / a})
    try:
        return algebra.prove_equal(at_kink, sp.Integer(0)) is not None
    except Exception:  # noqa: BLE001 - a rewrite that fails proves nothing
        return False
