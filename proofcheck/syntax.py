"""The parse tree as plain dataclasses: what the user wrote, with positions.

Every node carries a `Span` (1-based line and column, end exclusive), so every
later stage can point back at the text. Nothing here knows about SymPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .span import Span  # noqa: F401 - re-exported: every node has one

# `a R b` read from the right: `b FLIP[R] a`
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


# ----------------------------------------------------------------- expressions
@dataclass
class Num:
    span: Span
    text: str
    value: Fraction


@dataclass
class Name:
    span: Span
    name: str


@dataclass
class Call:
    span: Span
    name: str
    name_span: Span
    args: list


@dataclass
class BinOp:
    span: Span
    op: str  # one of + - * /
    left: object
    right: object
    implicit: bool = False  # `2x`


@dataclass
class Neg:
    span: Span
    arg: object


@dataclass
class Power:
    span: Span
    base: object
    exponent: object


@dataclass
class Abs:
    span: Span
    arg: object


@dataclass
class Norm:
    span: Span
    arg: object
    kind: str  # "vec" for ‖v‖, "2" or "F"


@dataclass
class Transpose:
    span: Span
    arg: object


@dataclass
class Index:
    span: Span
    base: object
    indices: list


@dataclass
class Deriv:
    span: Span
    var: str
    body: object
    order: int = 1


@dataclass
class Range:
    span: Span
    var: str
    low: object
    high: object


@dataclass
class BigOp:
    span: Span
    kind: str  # "sum" or "prod"
    ranges: list
    body: object


# -------------------------------------------------------------------- formulas
@dataclass
class Chain:
    """`E1 R1 E2 R2 E3 ...`"""
    span: Span
    exprs: list
    rels: list  # normalised relation strings: = != < <= > >=


@dataclass
class Forall:
    span: Span
    names: list
    body: object


@dataclass
class And:
    span: Span
    left: object
    right: object


@dataclass
class Implies:
    span: Span
    premise: object
    conclusion: object


# ------------------------------------------------------------------ statements
@dataclass
class Hint:
    span: Span
    name: str


@dataclass
class Let:
    span: Span
    names: list
    type_name: str
    type_args: list
    assumptions: list  # list of (name, span)


@dataclass
class Fun:
    span: Span
    names: list
    domain: str
    codomain: str


@dataclass
class Def:
    span: Span
    name: str
    params: list | None
    body: object


@dataclass
class Assume:
    span: Span
    name: str
    formula: object


@dataclass
class Claim:
    span: Span
    name: str | None
    formula: object
    hints: list = field(default_factory=list)


@dataclass
class Theorem:
    span: Span
    name: str
    points: Fraction | None
    formula: object
    proof: "Proof | None" = None


@dataclass
class Have:
    span: Span
    name: str | None
    formula: object
    hints: list = field(default_factory=list)


@dataclass
class ProofOpen:
    span: Span


@dataclass
class ProofClose:
    span: Span


@dataclass
class ChainStart:
    span: Span
    expr: object
    step: "ChainStep | None" = None


@dataclass
class ChainStep:
    span: Span
    rel: str
    expr: object
    hints: list = field(default_factory=list)


@dataclass
class Proof:
    span: Span
    haves: list          # Have statements, in order
    start: object | None  # the chain's first expression
    steps: list          # ChainStep
    lines: list          # every statement inside, in order (for ordering checks)


@dataclass
class SyntaxProblem:
    """A line that could not be parsed, or does not fit the file's structure."""
    span: Span
    message: str
    source_line: str = ""


@dataclass
class Document:
    path: str
    text: str
    statements: list  # Let/Fun/Def/Assume/Claim/Theorem in order
    problems: list    # SyntaxProblem
