"""The parse tree as plain dataclasses: what the user wrote, with positions.

Every node carries a `Span` (1-based line and column, end exclusive), so every
later stage can point back at the text. Nothing here knows about SymPy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from .span import Span  # noqa: F401 - re-exported: every node has one

# `a R b` read from the right: `b FLIP[R] a`
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}

# `#` starts a comment, to the end of the line, wherever it is: the language has no
# strings or other tokens with a `#` in them
COMMENT = re.compile(r"#[^\n]*")


def span_text(lines: list, span: Span) -> str:
    """The text of `span` as a report shows it. `lines` are the file's lines. A span
    over several lines (a statement continued inside brackets) is shown on one line:
    its pieces without their comments, joined with single spaces."""
    if span.line == span.end_line:  # a comment ends the line: none is inside the span
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:]]
    parts += lines[span.line:span.end_line - 1]
    parts.append(lines[span.end_line - 1][:span.end_column - 1])
    pieces = (COMMENT.sub("", p).strip() for p in parts)
    return " ".join(p for p in pieces if p)


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
