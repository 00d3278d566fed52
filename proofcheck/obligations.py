"""The tasks handed to deciders: one per step (context ⊢ lhs R rhs).

Plain data, sent to worker processes by pickling.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class StepTask:
    lhs: object
    rel: str
    rhs: object
    conds: tuple                 # elaborate.Condition: where the step's expressions are defined
    premises: list               # formulas usable without citation (from `implies`, theorem premises)
    facts: list                  # cited facts: elaborate.Fact
    hints: list                  # the names cited
    is_matrix: bool = False
    shape: tuple | None = None
    seed: int = 0
    timeout: float = 5.0
    uncited: list = field(default_factory=list)  # facts in scope that were not cited
    matrix_kinds: dict = field(default_factory=dict)  # MatrixSymbol -> ("psd", ...)
    # set for the second pass of a step that was not proved: only look for facts in
    # scope (`uncited`) that would prove it, and otherwise keep this verdict
    suggest_for: object = None


@dataclass
class EqualTask:
    """Are two expressions equal (after unfolding and simplifying)? For chain ends."""
    a: object
    b: object
    timeout: float = 5.0
    is_matrix: bool = False


@dataclass
class DomainTask:
    """Is a theorem's statement defined wherever its declarations and premises allow?"""
    exprs: list                  # the statement's sides
    conds: tuple                 # elaborate.Condition
    premises: list
    seed: int = 0
    timeout: float = 5.0
    matrix_kinds: dict = field(default_factory=dict)
