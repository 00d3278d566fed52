"""Chains and theorems (docs/language.md, proofs)."""
import pytest

from conftest import item
from proofcheck.check import compose, implies_rel

HEADER = "let a, b, x, y : real\nlet p : real, positive\n"


@pytest.mark.parametrize("rels,result", [
    (["=", "="], "="),
    (["<=", "=", "<="], "<="),
    (["<=", "<", "="], "<"),
    ([">=", ">"], ">"),
    (["=", ">="], ">="),
])
def test_compose(rels, result):
    assert compose(rels) == (result, None)


@pytest.mark.parametrize("rels,why", [
    (["<=", ">="], "mixes"),
    (["=", "!="], "`!=`"),
])
def test_compose_proves_nothing(rels, why):
    rel, reason = compose(rels)
    assert rel is None and why in reason


def test_implies_rel():
    assert implies_rel("<", "<=") and implies_rel("=", ">=") and implies_rel("<", "!=")
    assert not implies_rel("<=", "<") and not implies_rel("<=", "=")


def theorem(statement, *lines):
    body = "\n".join("  " + ln for ln in lines)
    return HEADER + f"theorem t : {statement}\nproof\n{body}\nqed\n"


def test_a_valid_chain_proves_its_theorem(check):
    r = check(theorem("(a + b)^2 >= 4*a*b", "(a + b)^2", "= a^2 + 2*a*b + b^2", ">= 4*a*b"))
    t = item(r, "t")
    assert t.status == "proved"
    assert [s.verdict.status for s in t.steps] == ["proved", "proved"]


def test_a_strict_chain_proves_a_weak_statement(check):
    r = check(theorem("p >= 0", "p", "> 0"))
    assert item(r, "t").status == "proved"


def test_a_weak_chain_does_not_prove_a_strict_statement(check):
    t = item(check(theorem("p^2 + 1 > 1", "p^2 + 1", ">= 1")), "t")
    assert t.status == "error"
    assert "this chain shows `p^2 + 1 >= 1`; the theorem states `p^2 + 1 > 1`" in t.message


def test_a_chain_that_ends_elsewhere_is_an_error_saying_what_it_shows(check):
    t = item(check(theorem("(a + b)^2 >= 4*a*b", "(a + b)^2", "= a^2 + 2*a*b + b^2", ">= 2*a*b")), "t")
    assert t.status == "error"
    assert t.message == "this chain shows `(a + b)^2 >= 2*a*b`; the theorem states `(a + b)^2 >= 4*a*b`"


def test_chain_ends_may_differ_in_form(check):
    t = item(check(theorem("2*(a + b) = 2*b + 2*a", "2*a + 2*b", "= 2*(b + a)")), "t")
    assert t.status == "proved"


def test_a_chain_read_the_other_way_round(check):
    t = item(check(theorem("a^2 + 1 >= 2*a", "2*a", "<= a^2 + 1")), "t")
    assert t.status == "proved"


def test_mixed_directions_prove_nothing(check):
    t = item(check(theorem("a <= a", "a", "<= a + 1", ">= a")), "t")
    assert t.status == "error" and "mixes" in t.message


def test_theorem_verdict_is_the_weakest_step(check):
    t = item(check(theorem("(a + b)^2 >= 0", "(a + b)^2", "= a^2 + b^2", ">= 0")), "t")
    assert [s.verdict.status for s in t.steps] == ["refuted", "proved"]
    assert t.status == "refuted"


def test_haves_are_checked_and_count_for_the_theorem(check):
    text = HEADER + ("theorem t : a^2 >= 0\nproof\n  have h : a^2 = a*a\n  have bad : a = 1\n"
                     "  a^2\n    = a*a   by h\n    >= 0\nqed\n")
    r = check(text)
    assert item(r, "h").status == "proved"
    assert item(r, "bad").status == "refuted"
    assert item(r, "t").status == "refuted"


def test_a_have_cannot_be_cited_above_itself(check):
    text = HEADER + ("theorem t : a = a\nproof\n  a\n    = a  by h\n  have h : a = a\nqed\n")
    t = item(check(text), "t")
    assert t.steps[0].verdict.status == "error"


def test_theorem_without_proof_is_unknown(check):
    r = check(HEADER + "theorem t [2] : a = a\n")
    t = item(r, "t")
    assert t.status == "unknown" and t.message == "no proof given"
    assert t.points == 2


def test_empty_proof_and_chain_without_steps(check):
    r = check(HEADER + "theorem t : a = a\nproof\nqed\ntheorem u : a = a\nproof\n  a\nqed\n")
    assert "no chain" in item(r, "t").message
    assert "no steps" in item(r, "u").message


def test_forall_theorem_binds_its_names_in_the_proof(check):
    t = item(check(theorem("forall u, v: (u + v)^2 <= 2*u^2 + 2*v^2",
                           "(u + v)^2", "= u^2 + 2*u*v + v^2", "<= 2*u^2 + 2*v^2")), "t")
    assert t.status == "proved"


def test_premises_of_the_theorem_are_usable_in_steps(check):
    t = item(check(theorem("x > 1 implies x^2 > x", "x^2", "> x")), "t")
    assert t.status == "proved"


def test_an_error_in_one_step_does_not_stop_the_others(check):
    t = item(check(theorem("a = a", "a", "= a + zz - zz", "= a")), "t")
    statuses = [s.verdict.status for s in t.steps]
    assert statuses[0] == "error" and "`zz` is not declared" in t.steps[0].verdict.message
    assert t.status == "error"


def test_a_statement_with_several_relations_cannot_have_a_chain(check):
    t = item(check(theorem("0 <= p <= p + 1", "p", "<= p + 1")), "t")
    assert t.status == "error" and "one relation" in t.message


def test_a_theorem_can_be_cited_after_it_is_proved(check):
    r = check(HEADER + "theorem t : a^2 >= 0\nproof\n  a^2\n  >= 0\nqed\nclaim u : a^2 + 1 > 0 by t\n")
    assert item(r, "u").status == "proved"


def test_a_syntax_error_inside_a_proof_costs_that_theorem_only(check):
    from conftest import item
    r = check("let a, b : real, positive\ntheorem t : a <= a + 2*b\nproof\n  a\n    <= a + b +* 3\n"
              "    <= a + 2*b\nqed\ntheorem u : a <= a + b\nproof\n  a\n    <= a + b\nqed\n")
    assert item(r, "t").status == "error" and "syntax error (line 5)" in item(r, "t").message
    assert item(r, "u").status == "proved"
