"""Deciders: each a small module with one job.

- `bounds`     signs and ranges of expressions (like mathlib's `positivity`)
- `algebra`    equality of scalar expressions
- `realarith`  polynomial real arithmetic (exact univariate roots, Z3's nlsat)
- `numeric`    counterexample search and test evidence (never proves)
"""
