"""Formulas printed the way they are written in .pf files: |x|, x^2, sqrt(x),
sum(i = 1..n, E), A[i, j] (1-based), A^T, inv(A), d/dx E.

`visible(text)` (textutil.py, re-exported here): user text for a message, with
control and invisible characters shown as escapes, so that what a report prints
is what the file contains.
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from .textutil import visible  # noqa: F401 - used here, and re-exported for the message builders

# integers with more digits than this are printed shortened (Python refuses to
# print an int of more than 4300 digits, and no message needs them)
MAX_SHOWN_DIGITS = 40

# names SymPy invents for bound indices: canonical() makes `_i0_1`
_CANONICAL_INDEX = re.compile(r"_i\d+_\d+")
_INDEX_NAMES = ("i", "j", "k", "l", "p", "q", "r", "s")


def short_int(n: int) -> str:
    """An integer for a message: exact when short, else its first digits and its size."""
    n = int(n)
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n.bit_length() <= MAX_SHOWN_DIGITS * 3:  # at most ~36 digits: always printable
        return sign + str(n)
    # digits without converting the whole number: 10**(k-1) <= n < 10**k
    k = int(n.bit_length() * 0.30102999566398120) + 1
    while k > 1 and 10 ** (k - 1) > n:
        k -= 1
    while 10 ** k <= n:
        k += 1
    if k <= MAX_SHOWN_DIGITS:
        return sign + str(n)
    lead = n // 10 ** (k - 12)
    return f"{sign}{lead}…({k} digits)"


class PfPrinter(StrPrinter):
    """SymPy's string printer, speaking the .pf language."""

    def __init__(self, settings=None, index_names=None):
        super().__init__(settings)
        self.index_names = index_names or {}

    # -- numbers and names
    def _print_Integer(self, e):
        return short_int(e.p)

    def _print_Rational(self, e):
        return f"{short_int(e.p)}/{short_int(e.q)}"

    def _print_Symbol(self, e):
        return self.index_names.get(e, e.name)

    def _print_Dummy(self, e):
        return self.index_names.get(e, e.name)

    def _print_Exp1(self, e):
        return "e"

    def _print_Pi(self, e):
        return "pi"

    def _print_ImaginaryUnit(self, e):
        return "i"

    def _print_Infinity(self, e):
        return "infinity"

    def _print_NegativeInfinity(self, e):
        return "-infinity"

    def _print_ComplexInfinity(self, e):
        return "undefined"

    def _print_NaN(self, e):
        return "undefined"

    # -- operators
    def _print_Abs(self, e):
        return "|%s|" % self._print(e.args[0])

    def _print_Pow(self, e, rational=False):
        return super()._print_Pow(e, rational).replace("**", "^")

    def _print_Mul(self, e):
        return super()._print_Mul(e).replace("**", "^")

    def _print_MatPow(self, e):
        return super()._print_MatPow(e).replace("**", "^")

    def _print_Max(self, e):
        return "max(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_Min(self, e):
        return "min(%s)" % ", ".join(self._print(a) for a in e.args)

    def _print_Function(self, e):
        name = e.func.__name__
        if name in ("log", "exp", "sin", "cos", "tan", "tanh", "sqrt"):
            return "%s(%s)" % (name, ", ".join(self._print(a) for a in e.args))
        return super()._print_Function(e)

    def _print_Derivative(self, e):
        out = self._print(e.expr)
        for var, count in e.variable_count:
            v = self._print(var)
            if count != 1:
                out = f"diff({out}, {v}, {self._print(count)})"
                continue
            if not (e.expr.is_Atom or e.expr.is_Function or e.expr.is_Pow) or out.startswith("d/d"):
                out = f"({out})"
            out = f"d/d{v} {out}"
        return out

    # -- sums and products
    def _print_Sum(self, e):
        return self._bigop("sum", e)

    def _print_Product(self, e):
        return self._bigop("prod", e)

    def _bigop(self, kind, e):
        ranges = [f"{self._print(i)} = {self._print(lo)}..{self._print(hi)}" for i, lo, hi in reversed(e.limits)]
        return "%s(%s, %s)" % (kind, ", ".join(ranges), self._print(e.function))

    # -- matrices
    def _print_MatrixElement(self, e):
        rows, cols = e.parent.shape
        parent = self.parenthesize(e.parent, PRECEDENCE["Atom"], strict=True)
        i, j = self._print(e.i + 1), self._print(e.j + 1)
        if cols == 1:
            return f"{parent}[{i}]"
        return f"{parent}[{i}, {j}]"

    def _print_Transpose(self, e):
        return "%s^T" % self.parenthesize(e.arg, PRECEDENCE["Atom"], strict=True)

    def _print_Inverse(self, e):
        return "inv(%s)" % self._print(e.arg)

    def _print_Determinant(self, e):
        return "det(%s)" % self._print(e.arg)

    def _print_Trace(self, e):
        return "trace(%s)" % self._print(e.arg)

    def _print_Identity(self, e):
        return "I(%s)" % self._print(e.rows)

    def _print_ZeroMatrix(self, e):
        return "0"


def _index_names(e) -> dict:
    """Readable names for the bound indices SymPy or canonical() invented,
    avoiding the names already in the expression."""
    try:
        symbols = e.atoms(sp.Symbol)
    except Exception:  # noqa: BLE001 - not a SymPy object
        return {}
    taken = {s.name for s in symbols if not _CANONICAL_INDEX.fullmatch(s.name)}
    invented = sorted((s for s in symbols if _CANONICAL_INDEX.fullmatch(s.name)), key=lambda s: s.name)
    names = {}
    pool = [n for n in _INDEX_NAMES] + [f"{n}{k}" for k in range(1, 50) for n in _INDEX_NAMES]
    free = (n for n in pool if n not in taken)
    for s in invented:
        names[s] = next(free, s.name)
    return names


def show(e, limit: int = 120) -> str:
    """`e` as .pf text, cut to `limit` characters; never fails."""
    try:
        text = PfPrinter(index_names=_index_names(e)).doprint(e)
    except Exception:  # noqa: BLE001 - a printer bug must not end the report
        return "…"
    text = visible(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"
