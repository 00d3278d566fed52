"""The parser's fast path and its memo change nothing a reader of a `Document` can see.

No timings here: only that the fast path (hand-written, for plain ASCII lines) builds
exactly the nodes and spans Lark builds, that repeated lines get their own line numbers
and their own objects, and that parsing leaves the garbage collector as it found it.
"""
from __future__ import annotations

import gc
import random

import pytest

import proofcheck.parse as P
from proofcheck import syntax as S


def lark_only(text: str, first_line: int):
    """`parse_line` with the fast path switched off."""
    saved = P._fast_parse
    P._fast_parse = lambda t, f: None
    try:
        return P.parse_line(text, first_line)
    finally:
        P._fast_parse = saved


def _expr(r: random.Random, depth: int = 0) -> str:
    atoms = ["x", "y", "2", "3.5", "f(x)", "g(x, y)", "(x + 1)", "|x - y|", "2x", "3(x+y)", "2x^2",
             "-x", "+x", "x_1", "10", "0", "a**2"]
    if depth > 3 or r.random() < 0.3:
        e = r.choice(atoms)
    else:
        e = _expr(r, depth + 1) + r.choice([" + ", " - ", "*", " / ", "^", " * "]) + _expr(r, depth + 1)
    c = r.random()
    if c < 0.1:
        e = "(" + e + ")"
    elif c < 0.15:
        e = "|" + e + "|"
    elif c < 0.2:
        e = "-" + e
    elif c < 0.23:
        e = "+" + e
    elif c < 0.28:
        e = "h(" + e + ")"
    return e


def _lines(seed: int, n: int):
    r = random.Random(seed)
    rels = [" = ", " <= ", " >= ", " < ", " > ", " != "]
    out = []
    for i in range(n):
        f = _expr(r) + r.choice(rels) + _expr(r)
        if r.random() < 0.2:
            f += r.choice(rels) + _expr(r)
        if r.random() < 0.1:
            f += " and " + _expr(r) + " <= " + _expr(r)
        if r.random() < 0.05:
            f += " implies " + _expr(r) + " <= 1"
        hint = r.choice(["", "", " by lip_f", " by a, b"])
        k = r.random()
        if k < 0.3:
            line = f"claim c{i} : {f}{hint}"
        elif k < 0.4:
            line = f"claim: {f}{hint}"
        elif k < 0.5:
            line = f"theorem t : {f}"
        elif k < 0.6:
            line = f"  {r.choice(['=', '<=', '>='])} {_expr(r)}{hint}"
        elif k < 0.7:
            line = f"  {_expr(r)}"
        elif k < 0.75:
            line = f"  {_expr(r)} = {_expr(r)}{hint}"
        elif k < 0.8:
            line = f"have h : {f}{hint}"
        elif k < 0.85:
            line = f"assume a : {f}"
        else:  # a damaged line: the fast path must hand it to Lark, which words the error
            line = f"claim : {f}"
            j = r.randrange(len(line))
            line = line[:j] + r.choice([" ", "(", ")", "|", "2", "x", "=", "", "*", " by ", " and "]) + line[j + 1:]
        if r.random() < 0.05 and "(" in line:
            line = line.replace("(", "(\n  ", 1)  # a logical line over two physical ones
        out.append(line)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_builds_what_lark_builds(seed):
    fast = 0
    for n, line in enumerate(_lines(seed, 1500)):
        first = 1 + (n * 37) % 3000
        expected = lark_only(line, first)
        got = P.parse_line(line, first)
        assert got == expected, line
        fast += P._fast_parse(line, first) is not None
    assert fast > 1000  # the fast path really reads the ordinary lines


@pytest.mark.parametrize("line", [
    "claim : 2 x = y",                 # a space after a number: Lark's message
    "claim : x = = y",
    "claim c : (x + 1",
    "claim : x^T = x",                 # transpose, derivative, ranges, unicode: Lark's
    "claim : d/dx x^2 = 2x",
    "claim : sum(i = 1..n, i) >= 0",
    "claim : x ≤ y",
    "claim : by = 1",                  # a keyword where a name goes
    "let x : real",
    "theorem t [3] : x = x",
    "  x = y = z",
    "claim : " + "-" * 150 + "x = 1",  # nested too deeply
])
def test_lines_outside_the_fast_path_read_as_before(line):
    assert P.parse_line(line, 5) == lark_only(line, 5)


def test_repeated_lines_have_their_own_line_numbers_and_objects():
    block = ["theorem t : x ≤ x + 1", "proof", "  x", "  ≤ x + 1", "qed", "claim : x ≤ (y", "claim c : x ≥ 0"]
    text = "\n".join(["let x, y : real"] + block * 50) + "\n"
    saved = P._fast_parse
    doc = P.parse_document(text, "t.pf")
    P._fast_parse = lambda t, f: None
    try:
        P_doc = P.parse_document(text, "t.pf")
    finally:
        P._fast_parse = saved
    assert doc == P_doc
    theorems = [s for s in doc.statements if isinstance(s, S.Theorem)]
    assert len(theorems) == 50
    assert [t.span.line for t in theorems] == [2 + 7 * k for k in range(50)]
    assert len({id(t) for t in theorems}) == 50
    assert len({id(t.proof) for t in theorems}) == 50
    assert [t.proof.steps[0].span.line for t in theorems] == [5 + 7 * k for k in range(50)]
    assert [p.span.line for p in doc.problems] == [7 + 7 * k for k in range(50)]
    assert all(p.source_line == "claim : x ≤ (y" for p in doc.problems)


def test_repeated_lines_go_through_lark_once(monkeypatch):
    calls = []
    real = P.lark_parser()

    class Counting:
        def parse(self, text):
            calls.append(text)
            return real.parse(text)

    monkeypatch.setattr(P, "lark_parser", lambda: Counting())
    text = "\n".join(["let x : real"] + ["claim : x ≤ x + 1"] * 200 + ["claim : (x + 1)^2 = x^2 + 2*x + 1"] * 200)
    doc = P.parse_document(text)
    assert len(doc.statements) == 401
    assert calls.count("claim : x ≤ x + 1") == 1
    assert not any("(x + 1)^2" in c for c in calls)  # the fast path read those
    assert [s.span.line for s in doc.statements[1:201]] == list(range(2, 202))


@pytest.mark.parametrize("enabled", [True, False])
def test_parse_document_leaves_the_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        P.parse_document("let x : real\nclaim : x = x\nclaim : (x\n")
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_numbers_and_names_are_shared_but_equal():
    doc = P.parse_document("let x : real\n" + "claim : x + 1 = 1 + x\n" * 3)
    nums = [c.formula.exprs[0].right for c in doc.statements[1:]]
    assert all(n == S.Num(n.span, "1", n.value) for n in nums)
    assert len({n.span.line for n in nums}) == 3


def test_spans_of_a_logical_line_over_several_physical_lines():
    text = "let x, y : real\nclaim c : (x +\n   y)^2 >= 0 by sq_nonneg\n"
    doc = P.parse_document(text)
    saved = P._fast_parse
    P._fast_parse = lambda t, f: None
    try:
        assert doc == P.parse_document(text)
    finally:
        P._fast_parse = saved
    claim = doc.statements[1]
    assert claim.span == S.Span(2, 1, 3, 26)
    assert claim.hints[0].span == S.Span(3, 17, 3, 26)


def test_iter_document_yields_the_document_piece_by_piece():
    text = ("let x : real\ntheorem t : x <= x + 1\nproof\n  x\n  <= x + 1\n  x = x\nqed\nqed\n"
            "claim : x = (x\ntheorem u : x = x\nproof\n  x\n  = x\n")
    doc = P.parse_document(text)
    pieces = list(P.iter_document(text))
    assert [n for k, n in pieces if k == P.STATEMENT] == doc.statements
    assert [n for k, n in pieces if k == P.PROBLEM] == doc.problems
    kinds = [(k, type(n).__name__) for k, n in pieces]
    # a theorem comes after the problems inside its proof, with its proof attached
    assert kinds.index(("statement", "Theorem")) > kinds.index(("problem", "SyntaxProblem"))
    theorem = next(n for k, n in pieces if k == P.STATEMENT and isinstance(n, S.Theorem))
    assert theorem.proof is not None and len(theorem.proof.steps) == 1
    assert all(n.source_line for k, n in pieces if k == P.PROBLEM)
