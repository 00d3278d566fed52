"""SymPy objects for the built-ins that SymPy lacks: matrix norms.

`norm(v)` and `norm_F(A)` are written out exactly (square roots of sums of
squares); only the spectral norm needs an opaque function.
"""
from __future__ import annotations

import sympy as sp


class SpectralNorm(sp.Function):
    """‖A‖_2, the largest singular value of A. Opaque: decided on instances."""
    nargs = 1
    is_real = True
    is_nonnegative = True
    is_commutative = True

    def _sympystr(self, printer):
        return "norm_2(%s)" % printer._print(self.args[0])


class HugePower(sp.Function):
    """base**exponent for numbers too large to compute, e.g. 2^(2^(2^20)).

    Exactly base**exponent, but never evaluated (SymPy would try to build the
    integer, also when the object is unpickled in a worker).
    """
    nargs = 2
    is_real = True
    is_commutative = True

    @classmethod
    def eval(cls, base, exponent):
        return None

    def _eval_is_positive(self):
        if self.args[0].is_positive:
            return True
        return None

    def _sympystr(self, printer):
        return "(%s)^(%s)" % (printer._print(self.args[0]), printer._print(self.args[1]))
