"""What the editor features need from a parsed document: where names are declared,
which facts may be cited where, the outline, and where a citation goes.

Everything here works on `syntax.Document` (parse.parse_document): no SymPy, fast.
Positions are 1-based lines and code-point columns, as in `syntax.Span`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import syntax as S

_WORD = re.compile(r"[^\W\d_ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹][^\Wᵀ⁰¹²³⁴⁵⁶⁷⁸⁹]*")
KEYWORDS = ("let", "fun", "def", "assume", "claim", "theorem", "have", "proof", "qed", "by", "forall",
            "and", "implies", "sum", "prod")
BUILTIN_FUNCTIONS = ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "max", "min", "abs",
                     "diff", "trace", "tr", "det", "inv", "norm", "norm_2", "norm_F", "I")


@dataclass
class Name:
    name: str
    kind: str            # variable, function, def, assume, claim, theorem, have
    span: S.Span         # the name itself (or the statement, when it cannot be found)
    statement: S.Span    # the whole statement
    text: str            # the statement's first line, for hovers
    scope: S.Span | None = None   # haves: the proof they belong to
    body: S.Span | None = None    # theorems: their proof (a theorem cannot cite itself there)


@dataclass
class Index:
    lines: list
    names: list = field(default_factory=list)
    statements: list = field(default_factory=list)

    def lookup(self, name: str, line: int):
        """The declaration `name` refers to on `line`: a `have` of the proof around
        it first, then the last declaration above (or anywhere in the file)."""
        local = [n for n in self.names if n.name == name and n.scope is not None
                 and n.scope.line <= line <= n.scope.end_line]
        if local:
            return local[-1]
        glob = [n for n in self.names if n.name == name and n.scope is None]
        above = [n for n in glob if n.span.line <= line]
        return (above or glob or [None])[-1]

    def citable(self, line: int) -> list:
        """Facts that a step on `line` may cite: stated above it (haves: in its proof)."""
        out = []
        for n in self.names:
            if n.kind not in ("assume", "claim", "theorem", "have") or n.statement.end_line >= line:
                continue
            if n.scope is not None and not (n.scope.line <= line <= n.scope.end_line):
                continue
            if n.body is not None and n.body.line <= line <= n.body.end_line:
                continue
            out.append(n)
        return out

    def declared(self, line: int | None = None) -> list:
        return [n for n in self.names if n.kind in ("variable", "function", "def")
                and (line is None or n.statement.line <= line)]


def _find(lines, span: S.Span, name: str, after: int = 1) -> S.Span:
    """The span of `name` written in the statement at `span` (the first occurrence
    as a whole word from column `after`); the statement's start when not found."""
    for ln in range(span.line, span.end_line + 1):
        if not (0 < ln <= len(lines)):
            break
        text = lines[ln - 1]
        start = after - 1 if ln == span.line else 0
        for m in _WORD.finditer(text, start):
            if m.group(0) == name:
                return S.Span(ln, m.start() + 1, ln, m.end() + 1)
    return S.Span(span.line, span.column, span.line, span.column + 1)


def word_at(line_text: str, col0: int):
    """(word, start, end) under the 0-based code-point column, or None."""
    for m in _WORD.finditer(line_text):
        if m.start() <= col0 <= m.end():
            return m.group(0), m.start(), m.end()
    return None


def build(doc: S.Document) -> Index:
    lines = doc.text.split("\n")
    idx = Index(lines)

    def first_line(span):
        return lines[span.line - 1].strip() if 0 < span.line <= len(lines) else ""

    def add(name, kind, st_span, scope=None, body=None):
        if not name:
            return
        idx.names.append(Name(name, kind, _find(lines, st_span, name, st_span.column), st_span,
                              first_line(st_span), scope, body))

    for st in doc.statements:
        idx.statements.append(st)
        if isinstance(st, S.Let):
            for n in st.names:
                add(n, "variable", st.span)
        elif isinstance(st, S.Fun):
            for n in st.names:
                add(n, "function", st.span)
        elif isinstance(st, S.Def):
            add(st.name, "def", st.span)
        elif isinstance(st, S.Assume):
            add(st.name, "assume", st.span)
        elif isinstance(st, S.Claim):
            add(st.name, "claim", st.span)
        elif isinstance(st, S.Theorem):
            add(st.name, "theorem", st.span, body=st.proof.span if st.proof is not None else None)
            if st.proof is not None:
                for h in st.proof.haves:
                    add(h.name, "have", h.span, scope=st.proof.span)
    return idx


def hint_site(doc: S.Document, step_span: S.Span):
    """Where a citation goes for the step at `step_span`: (line, column, has_hints),
    1-based, the column just after the last cited name or the end of the statement."""
    for st in doc.statements:
        if isinstance(st, S.Claim) and st.span.line <= step_span.line <= st.span.end_line:
            return _site(st.span, st.hints)
        if isinstance(st, S.Theorem) and st.proof is not None:
            for h in st.proof.haves:
                if h.span.line <= step_span.line <= h.span.end_line:
                    return _site(h.span, h.hints)
            for step in st.proof.steps:
                if step.span == step_span:
                    return _site(step.span, step.hints)
    return None


def _site(span: S.Span, hints):
    if hints:
        last = hints[-1].span
        return last.end_line, last.end_column, True
    return span.end_line, span.end_column, False
