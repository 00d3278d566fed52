"""Equality of scalar expressions.

A portfolio of exact SymPy transformations, cheapest first. Each one turns the
difference `lhs - rhs` into an expression equal to it wherever it is defined;
reaching 0 proves the equality there (the domain is checked separately). No
numeric step is involved, and `expr.equals` is never used (it can answer False
for equal expressions: sympy/sympy#29781).
"""
from __future__ import annotations

import sympy as sp

MAX_EXPAND_DEGREE = 400


def _expansion_too_big(e) -> bool:
    """Would expanding e build a huge polynomial? (an estimate by degrees)"""
    for sub in sp.preorder_traversal(e):
        if isinstance(sub, sp.Pow) and sub.exp.is_Integer and abs(int(sub.exp)) > 40 and \
                isinstance(sub.base, (sp.Add, sp.Mul)):
            return True
    try:
        total = 0
        for sub in sp.preorder_traversal(e):
            if isinstance(sub, sp.Pow) and sub.exp.is_Integer and isinstance(sub.base, sp.Add):
                total += abs(int(sub.exp)) * len(sub.base.args)
        return total > MAX_EXPAND_DEGREE
    except (TypeError, ValueError):
        return True


def exp_polynomial_form(e):
    """Rewrite hyperbolic/trig functions and sigmoids in exponentials, then
    replace each exp(c*u + ...) by powers of fresh symbols.

    A fresh symbol stands for exp(u/den) and carries only what is true of it:
    it is positive when u is real, and has no assumption at all otherwise
    (exp(I*x) is a complex number of modulus 1: calling it positive would let
    SymPy drop |.|, max and sqrt of squares, and prove |cos(x)| = cos(x)).
    If the result cancels to 0 as a rational function of those symbols, the
    original is 0 wherever it is defined (a substitution instance of a
    rational-function identity, valid for complex values). Returns the
    rational expression or None.
    """
    e = e.rewrite(sp.exp)
    e = _canonical_exp_arguments(e)
    e = sp.expand_power_exp(sp.powsimp(e, combine="exp"))
    e = e.replace(lambda s: isinstance(s, sp.exp), lambda s: sp.exp(sp.expand(s.args[0])))
    e = sp.expand_power_exp(e)
    # collect the linear "directions" of all exponents
    atoms = sorted(e.atoms(sp.exp), key=sp.default_sort_key)
    if not atoms:
        return e
    repl = {}
    fresh = {}
    for a in atoms:
        arg = a.args[0]
        coeff, rest = arg.as_coeff_Mul()
        if not coeff.is_Rational:
            coeff, rest = sp.Integer(1), arg
        key = rest
        if key not in fresh:
            fresh[key] = (sp.Dummy("E", positive=True) if key.is_extended_real is True else sp.Dummy("E"), [])
        fresh[key][1].append(coeff)
    for key, (sym, coeffs) in fresh.items():
        den = sp.ilcm(*[c.q for c in coeffs]) if coeffs else 1
        fresh[key] = (sym, den)
    for a in atoms:
        arg = a.args[0]
        coeff, rest = arg.as_coeff_Mul()
        if not coeff.is_Rational:
            coeff, rest = sp.Integer(1), arg
        sym, den = fresh[rest]
        repl[a] = sym ** int(coeff * den)
    # the symbol stands for exp(rest/den); the replacement is exact
    return e.xreplace(repl)


def _canonical_exp_arguments(e):
    """exp(u) and exp(v) with u = v written differently must become the same atom:
    put every argument that itself contains an exponential in a canonical rational
    form (innermost first)."""
    def canon(x):
        arg = x.args[0]
        if arg.has(sp.exp):
            arg = sp.cancel(sp.together(sp.expand_power_exp(_canonical_exp_arguments(arg))))
        return sp.exp(arg)
    return e.replace(lambda x: isinstance(x, sp.exp) and x.args[0].has(sp.exp), canon)


def common_denominator_zero(d) -> bool:
    """Is d = 0 wherever it is defined, because over a common denominator its
    numerator expands to the zero polynomial (in the symbols and the other atoms)?
    The same normal form as `cancel`, without the gcd: three times cheaper, so it
    runs before the numeric search."""
    if _expansion_too_big(d):
        return False
    try:
        if not any(isinstance(p, sp.Pow) and p.exp.is_negative for p in sp.preorder_traversal(d)):
            return sp.expand(d, power_exp=True, log=False) == 0  # no denominator: it is its own numerator
        numerator = sp.fraction(sp.together(d))[0]
        return sp.expand(numerator, power_exp=True, log=False) == 0
    except Exception:  # noqa: BLE001 - a rewrite that fails just does not help
        return False


def strategies():
    """(name, function) pairs, cheapest first. Each returns an expression equal to its input."""
    def cancel(d):
        if _expansion_too_big(d):
            return d
        return sp.cancel(sp.together(d))

    def expand_all(d):
        if _expansion_too_big(d):
            return d
        return sp.expand(d, power_exp=True, log=False)

    def via_exp(d):
        if _expansion_too_big(d) or not d.has(sp.exp, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.tan):
            return d
        r = exp_polynomial_form(d)
        if r is None:
            return d
        return sp.cancel(sp.together(r))

    def logs(d):
        if not d.has(sp.log):
            return d
        return sp.cancel(sp.expand_log(d))

    def trig(d):
        if not d.has(sp.sin, sp.cos, sp.tan):
            return d
        return sp.trigsimp(d)

    def piecewise(d):
        # derivatives of |u|, max and min bring sign(u) and Heaviside(u) (with
        # Heaviside(0) = 1/2, the value the evaluator uses): write every such
        # function as the Piecewise it is, for every real value, then fold
        if not d.has(sp.Heaviside, sp.sign):
            return d
        return sp.simplify(sp.piecewise_fold(d.rewrite(sp.Piecewise)))

    def full(d):
        return sp.simplify(d)

    return [
        ("rational normal form (cancel)", cancel),
        ("expansion", expand_all),
        ("rewriting in exponentials and cancelling", via_exp),
        ("expanding logarithms under the declared signs", logs),
        ("trigonometric simplification", trig),
        ("case analysis of sign, max and min (piecewise)", piecewise),
        ("SymPy simplify", full),
    ]


def prove_equal(lhs, rhs, time_left=None):
    """A method name if lhs = rhs wherever both are defined, else None. Every
    strategy is tried (a fixed list: the verdict does not depend on the clock;
    `time_left` is accepted and ignored)."""
    d = lhs - rhs
    if d == 0:
        return "identical after normalisation"
    for name, fn in strategies():
        try:
            r = fn(d)
        except Exception:  # noqa: BLE001 - a rewrite that fails just does not help
            continue
        if r == 0:
            return name
    return None
