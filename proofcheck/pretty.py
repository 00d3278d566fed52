"""Formulas printed the way they are written in .pf files: |x|, x^2, sqrt(x)."""
from __future__ import annotations

from sympy.printing.str import StrPrinter


class PfPrinter(StrPrinter):
    def _print_Abs(self, e):
        return "|%s|" % self._print(e.args[0])

    def _print_Pow(self, e, rational=False):
        return super()._print_Pow(e, rational).replace("**", "^")

    def _print_Mul(self, e):
        return super()._print_Mul(e).replace("**", "^")

    def _print_Dummy(self, e):
        return e.name

    def _print_Exp1(self, e):
        return "e"


def show(e, limit: int = 120) -> str:
    try:
        text = PfPrinter().doprint(e)
    except Exception:  # noqa: BLE001 - huge numbers cannot always be printed
        return "…"
    return text if len(text) <= limit else text[:limit - 1] + "…"
