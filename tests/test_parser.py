"""The grammar and the parse tree: every construct of the language (docs/language.md), every error path."""
from fractions import Fraction

import pytest

from proofcheck import syntax as S
from proofcheck.parse import logical_lines, parse_document, parse_line


def expr_of(claim_text):
    node = parse_line("claim: " + claim_text, 1)
    assert isinstance(node, S.Claim), node
    return node.formula


def test_running_example_parses_into_a_theorem_with_a_chain():
    text = open("proofs/lipschitz.pf", encoding="utf-8").read()
    doc = parse_document(text)
    assert doc.problems == []
    theorems = [s for s in doc.statements if isinstance(s, S.Theorem)]
    assert [t.name for t in theorems] == ["composition", "sum_rule", "product_rule"]
    proof = theorems[0].proof
    assert [s.rel for s in proof.steps] == ["<=", "<=", "="]
    assert [h.name for h in proof.steps[0].hints] == ["lip_g"]


@pytest.mark.parametrize("text,kind", [
    ("let x, y : real", S.Let),
    ("let a, b : real, positive", S.Let),
    ("let n, m : integer, positive", S.Let),
    ("let A, B : matrix(m, n)", S.Let),
    ("let P : matrix(n, n), psd", S.Let),
    ("let v, w : vector(n)", S.Let),
    ("fun f, g : real -> real", S.Fun),
    ("fun f : real → real", S.Fun),
    ("def softplus(t) = log(1 + exp(t))", S.Def),
    ("def c = 2*pi", S.Def),
    ("assume h : forall u, v: |f(u) - f(v)| <= L*|u - v|", S.Assume),
    ("claim c : x <= y by h1, h2", S.Claim),
    ("claim : 0 < sigmoid(t) < 1", S.Claim),
    ("theorem t [3] : x = x", S.Theorem),
    ("have h : x >= 0 by a", S.Have),
    ("proof", S.ProofOpen),
    ("qed", S.ProofClose),
    ("|a - b| <= |a| + |b|  by triangle", S.ChainStart),
    ("<= L_g*|f(x) - f(y)|       by lip_g", S.ChainStep),
])
def test_every_statement_form_parses(text, kind):
    assert isinstance(parse_line(text, 1), kind)


def test_points_are_exact():
    assert parse_line("theorem t [2.5] : x = x", 1).points == Fraction(5, 2)


def test_decimals_are_exact_rationals():
    chain = expr_of("0.25 = 1/4")
    assert chain.exprs[0].value == Fraction(1, 4)


def test_unicode_spellings_are_accepted():
    chain = expr_of("a ≤ b ≥ c ≠ d")
    assert chain.rels == ["<=", ">=", "!="]
    f = parse_line("claim: ∀ x: x·y × 2 = √x", 1).formula
    assert isinstance(f, S.Forall)


def test_precedence_power_binds_tighter_than_minus_and_is_right_associative():
    e = expr_of("-x^2 = a^b^c").exprs
    assert isinstance(e[0], S.Neg) and isinstance(e[0].arg, S.Power)
    assert isinstance(e[1].exponent, S.Power)


def test_implicit_multiplication_number_before_name_or_paren():
    e = expr_of("2x^2 = 3(x + 1)").exprs
    assert isinstance(e[0], S.BinOp) and e[0].implicit and isinstance(e[0].right, S.Power)
    assert isinstance(e[1], S.BinOp) and e[1].implicit


def test_derivative_binds_like_a_function():
    e = expr_of("d/dx (x^2 + 1) = d/dx x^2 + 1").exprs
    assert isinstance(e[0], S.Deriv) and e[0].var == "x"
    assert isinstance(e[1], S.BinOp) and isinstance(e[1].left, S.Deriv)


def test_sums_products_entries_transposes_norms():
    e = expr_of("sum(i = 1..m, j = 1..n, A[i, j]^2) = ‖A‖_F^2").exprs
    assert isinstance(e[0], S.BigOp) and [r.var for r in e[0].ranges] == ["i", "j"]
    assert isinstance(e[1], S.Power) and e[1].base.kind == "F"
    e = expr_of("v^T*w = prod(k = 1..3, k)").exprs
    assert isinstance(e[0].left, S.Transpose)
    assert e[1].kind == "prod"


def test_formulas_and_implies_binds_loosest():
    f = parse_line("claim: x > 0 and y > 0 implies x*y > 0", 1).formula
    assert isinstance(f, S.Implies) and isinstance(f.premise, S.And)
    f = parse_line("claim: (x <= y) and (y <= z)", 1).formula
    assert isinstance(f, S.And)


def test_positions_are_kept():
    node = parse_line("claim c : x <= y", 7)
    assert node.span.line == 7
    assert node.formula.exprs[1].span.column == 16


def test_line_breaks_inside_brackets_continue_the_line():
    text = "claim c : f(x,\n   y) = (a +\n b)\nlet z : real"
    assert [n for n, _ in logical_lines(text)] == [1, 4]
    doc = parse_document("let x, y, a, b : real\nfun f : real -> real\n" + text)
    assert any(isinstance(s, S.Claim) for s in doc.statements)


def test_comments_are_ignored():
    doc = parse_document("# only a comment\nlet x : real  # and a trailing one\n\n")
    assert doc.problems == [] and len(doc.statements) == 1


@pytest.mark.parametrize("text,message,column", [
    ("claim: x <= ", "expected an expression after `<=`, the line ends here", 12),
    ("claim: x y", "expected an operator", 10),
    ("let x real", "expected `:` or `,` after `x`, found `real`", 7),
    ("claim: |x = 1", "expected `|` after `x`, found `=`", 11),
    ("claim: x <= y by", "expected a name after `by`", 17),
    ("theorem : x = 1", "expected a name after `theorem`, found `:`", 9),
    ("claim: f(x,) = 1", "expected an expression after `,`, found `)`", 12),
    ("claim c: (x + 1 <= 2", "`(` is never closed", 10),
    ("claim c: x + 1) <= 2", "`)` closes nothing", 15),
    ("claim: x @ y", "unexpected character `@`", 10),
    ("claim: 2 x = 1", "a number multiplies a name only when written directly before it", 8),
    ("claim: sum(i = 1..n) = 1", "needs a range first", 8),
    ("claim: sum(x, i = 1..n) = 1", "expected a range `i = a..b` here", 12),
])
def test_syntax_errors_say_where_and_what_was_expected(text, message, column):
    node = parse_line(text, 1)
    assert isinstance(node, S.SyntaxProblem)
    assert message in node.message
    assert node.span.column == column


@pytest.mark.parametrize("text,message", [
    ("proof\nqed", "`proof` must follow a `theorem` line"),
    ("qed", "`qed` without a `proof`"),
    ("x <= y", "a proof step outside a proof"),
    ("have h : x = x", "`have` is for proofs"),
    ("theorem t : x = x\nproof\n x\n = x", "no `qed` before the end of the file"),
    ("theorem t : x = x\nproof\n x\n = x\nlet y : real", "no `qed` before the next statement"),
    ("theorem t : x = x\nproof\n = x\nqed", "a step needs an expression before it"),
    ("theorem t : x = x\nproof\n x\n x\nqed", "a proof has one chain"),
    ("theorem t : x = x\nproof\nproof\nqed", "`proof` inside a proof"),
])
def test_structure_errors(text, message):
    doc = parse_document(text)
    assert any(message in p.message for p in doc.problems), [p.message for p in doc.problems]


def test_a_bad_line_does_not_hide_the_rest():
    doc = parse_document("let x : real\nclaim a : x <=\nclaim b : x = x\n")
    assert len(doc.problems) == 1 and doc.problems[0].span.line == 2
    assert [s.name for s in doc.statements if isinstance(s, S.Claim)] == ["b"]


def test_an_unclosed_bracket_does_not_swallow_the_next_statement():
    doc = parse_document("claim a : f(x\nclaim b : x = x\n")
    assert [s.name for s in doc.statements if isinstance(s, S.Claim)] == ["b"]


def test_deep_nesting_is_an_error_not_a_crash():
    doc = parse_document("claim a : " + "(" * 500 + "x" + ")" * 500 + " = x")
    assert doc.problems and "nested" in doc.problems[0].message


def test_long_sums_do_not_crash():
    doc = parse_document("let x : real\nclaim a : " + " + ".join(["x"] * 3000) + " = 3000*x")
    assert len(doc.statements) == 2 or doc.problems
