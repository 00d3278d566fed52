"""Deciders: each a small module with one job.

- `bounds`     signs and ranges of expressions (like mathlib's `positivity`)
- `algebra`    equality of scalar expressions
- `realarith`  polynomial real arithmetic (exact univariate roots, Z3's nlsat)
- `gcongr`     monotone substitution with cited facts, with a readable certificate
- `mvt`        the mean value rule
- `matrices`   matrix steps: sum normal form, every size, random matrices
- `numeric`    counterexample search and test evidence (never proves)
"""
