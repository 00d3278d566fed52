"""End-to-end verdicts on single claims: true ones proved, false ones refuted with values."""
import pytest

from conftest import item

HEADER = """let x, y, a, b, t : real
let p, q : real, positive
let n : integer, positive
let z : real, nonzero
def softplus(s) = log(1 + exp(s))
"""

PROVED = [
    "x^2 - 2*x + 2 > 0",
    "0 < exp(t)/(1 + exp(t)) < 1",
    "pi > 3.14",
    "0.1 + 0.2 = 0.3",
    "(a + b)^2 = a^2 + 2*a*b + b^2",
    "d/dt softplus(t) = sigmoid(t)",
    "sigmoid(t) = 1/2 + tanh(t/2)/2",
    "a^2 + b^2 >= 2*a*b",
    "p/p = 1",
    "log(p*q) = log(p) + log(q)",
    "sum(i = 1..n, i) = n*(n + 1)/2",
    "sum(i = 1..4, i^2) = 30",
    "prod(i = 1..4, i) = 24",
    "(x + 1)^100000 = (1 + x)^100000",
    "|a*b| = |a|*|b|",
    "|a + b| <= |a| + |b|",
    "sin(x) <= 1",
    "tanh(x) = (exp(x) - exp(-x))/(exp(x) + exp(-x))",
    "forall u: u^2 >= 0",
    "x > 1 implies x^2 > x",
    "d/dx (x^3) = 3*x^2",
    "diff(x^3, x, 2) = 6x",
    "sigmoid(t)*(1 - sigmoid(t)) <= 1/4",
    "sqrt(p) <= (1 + p)/2",
    "max(a, b) >= a",
    "10^100 + 1 > 10^100",
    "z^2 > 0",
    "|z| > 0",
    "exp(x + y) = exp(x)*exp(y)",
    "e^(2*x) = exp(x)^2",
    "sqrt(4) = 2",
    "sqrt(x^2) = |x|",
    "softplus(t) > t",
    "1/(1 + p) < 1",
    "x != x + 1",
]

REFUTED = [
    "sqrt(2) < 1.41",
    "(x^2 - 1)/(x - 1) = x + 1",
    "(a + b)^2 = a^2 + b^2",
    "a^3 + b^3 >= 2*a^2*b",
    "x/x = 1",
    "sum(i = 1..n, i) = n^2/2",
    "exp(x) > 1 + x",
    "sqrt(x^2) = x",
    "log(x) <= x - 1",
    "x > 0 implies x^2 > x",
    "min(a, b) > a",
    "1/0 = 1",
    "d/dx |x| = x/|x|",
    "sigmoid(t) < 1/2",
    "exp(x) >= 1 + x + x^2/2",
    "p + q > 2*sqrt(p*q)",
    "x^2 != 1",
    "sin(x) <= 0.99999",
    "1/(x^2 - 2) > -100",
]


@pytest.mark.parametrize("formula", PROVED)
def test_true_claims_are_proved(check, formula):
    result = check(HEADER + f"claim c : {formula}\n")
    it = item(result, "c")
    assert it.status == "proved", (formula, [s.verdict for s in it.steps], it.own)
    assert all(s.verdict.method for s in it.steps)


@pytest.mark.parametrize("formula", REFUTED)
def test_false_claims_are_refuted_with_values(check, formula):
    result = check(HEADER + f"claim c : {formula}\n")
    it = item(result, "c")
    assert it.status == "refuted", (formula, [s.verdict for s in it.steps])
    bad = [s.verdict for s in it.steps if s.verdict.status == "refuted"][0]
    assert bad.counterexample is not None
    assert bad.message.startswith(("fails at", "false", "this step"))


def test_counterexample_values_are_exact_and_break_the_step(check):
    it = item(check(HEADER + "claim c : (a + b)^2 = a^2 + b^2\n"), "c")
    ce = it.steps[0].verdict.counterexample
    from fractions import Fraction
    av, bv = Fraction(ce["a"]), Fraction(ce["b"])
    assert (av + bv) ** 2 != av ** 2 + bv ** 2


def test_integer_counterexamples_are_integers(check):
    it = item(check(HEADER + "claim c : n^2 >= 2*n\n"), "c")
    assert it.status == "refuted"
    assert it.steps[0].verdict.counterexample == {"n": "1"}


def test_checked_is_evidence_and_says_how_many_points(check):
    # true (the maximum of x*exp(-x) is 1/e at x = 1), but no decider proves it
    it = item(check(HEADER + "claim c : x*exp(-x) <= 1/e\n"), "c")
    assert it.status == "checked"
    assert "test points" in it.steps[0].verdict.message


def test_unknown_when_tests_cannot_tell(check):
    it = item(check(HEADER + "claim c : sin(x) < 1\n"), "c")  # false at pi/2, never at a rational
    assert it.status == "unknown"


def test_domain_condition_that_cannot_be_shown_gives_unknown_not_proved(check):
    it = item(check(HEADER + "claim c : (x - sin(x))/(x - sin(x)) = 1\n"), "c")
    assert it.status in ("unknown", "refuted")
    assert it.status != "proved"


def test_undefined_only_at_irrational_points_is_unknown_and_names_the_condition(check):
    it = item(check(HEADER + "claim c : tan(x) = sin(x)/cos(x)\n"), "c")
    v = it.steps[0].verdict
    assert v.status == "unknown"
    assert "`cos(x)` != 0" in v.message


def test_pathological_steps_end_and_the_rest_is_checked(check):
    text = HEADER + ("claim huge : 2^(2^(2^(2^(2^20)))) > 0\n"
                     "claim big : (x + 1)^100000 = (1 + x)^100000\n"
                     "claim slow : (x + 1)^3000 = sum(k = 0..3000, x^k)\n"
                     "claim fine : x + x = 2*x\n")
    result = check(text, timeout=2.0)
    assert item(result, "fine").status == "proved"
    assert item(result, "huge").status in ("proved", "unknown")
    assert item(result, "slow").status in ("unknown", "refuted")
    assert result.seconds < 15


@pytest.mark.parametrize("formula", [
    "x^2 != 2",                      # false only at ±sqrt(2)
    "(x^2 - 2)^2 + y^2 > 0",         # false only at (±sqrt(2), 0)
    "x^3 - 3*x + 1 != 0",            # three irrational roots
    "exp(x) != 2",                   # false at log(2)
    "cos(x) > -1",                   # false at pi
    "(x - pi)^2 > 0",                # false at pi
])
def test_false_only_at_irrational_points_is_never_checked(check, formula):
    it = item(check(HEADER + f"claim c : {formula}\n"), "c")
    assert it.status == "unknown", (formula, it.steps[0].verdict)


def test_irrational_counterexample_from_z3_is_reported(check):
    it = item(check(HEADER + "claim c : x^2 != 2\n"), "c")
    assert "false according to Z3" in it.steps[0].verdict.message and "1.41421" in it.steps[0].verdict.message


def test_a_counterexample_must_satisfy_a_cited_implication(check):
    text = HEADER + "claim h : x > 0 implies y > 0\nclaim c : x > 0 implies y > -1 by h\n"
    it = item(check(text), "c")
    assert it.status != "refuted"


def test_matrix_counterexamples_respect_cited_facts(check):
    text = ("let n : integer, positive\nlet A : matrix(n, n)\nassume h : trace(A) = 1\n"
            "claim c : trace(A) = 1 by h\nclaim d : trace(A) >= 1 by h\n")
    r = check(text)
    assert item(r, "c").status != "refuted" and item(r, "d").status != "refuted"


def test_mvt_needs_differentiability_everywhere(check):
    text = ("let a, b : real\ndef h(s) = max(s, 0, 2*s)\n"
            "assume flat : forall t: |d/dt h(t)| <= 1\n"
            "claim c : |h(a) - h(b)| <= 1*|a - b| by mvt, flat\n")
    it = item(check(text), "c")
    assert it.status != "proved"


def test_summation_indices_know_their_sign(check):
    text = HEADER + "claim geometric : (1 - x)*sum(k = 0..5, x^k) = 1 - x^6\nclaim neg : sum(k = -2..2, x^k) = x^2\n"
    r = check(text)
    assert item(r, "geometric").status == "proved"
    neg = item(r, "neg")  # x^(-2) needs x != 0: refuted at x = 0 because it is undefined there
    assert neg.status == "refuted" and "undefined" in neg.steps[0].verdict.message


def test_monotone_facts_bind_counterexamples(check):
    text = ("let x, y : real\nfun h : real -> real\n"
            "assume mono : forall u, v: u <= v implies h(u) <= h(v)\n"
            "claim up : h(x) <= h(x + 1) by mono\nclaim down : h(x) <= h(x - 1) by mono\n")
    r = check(text)
    assert item(r, "up").status == "proved"
    down = item(r, "down")
    assert down.status == "refuted"
    ce = down.steps[0].verdict.counterexample
    from fractions import Fraction
    assert Fraction(ce["h(x)"]) > Fraction(ce["h(x - 1)"])  # the values found are increasing in x


def test_counterexamples_are_shrunk_to_simple_values(check):
    it = item(check(HEADER + "claim c : (a - b)^2 >= a^2 - b^2\n"), "c")
    ce = it.steps[0].verdict.counterexample
    from fractions import Fraction
    assert all(abs(Fraction(v).numerator) + Fraction(v).denominator <= 4 for v in ce.values()), ce


def test_a_step_that_needs_an_uncited_assumption_says_which_to_cite(check):
    text = ("let x, y : real\nassume big : x > 1\nclaim other : y^2 >= 0\n"
            "claim c : x^2 > 1\n")
    it = item(check(text), "c")
    assert it.status == "unknown"
    assert "cite it with `by big`" in it.message
    assert "other" not in it.message  # true at the counterexample too: it cannot help


def test_a_refuted_step_stays_refuted_when_no_fact_in_scope_helps(check):
    text = "let x : real\nassume big : x > 1\nclaim fine : x^2 >= 0\nclaim c : x^3 > x^2 + 10\n"
    it = item(check(text), "c")
    assert it.status == "refuted" and it.steps[0].verdict.counterexample


def test_among_several_uncited_facts_the_one_that_proves_the_step_is_named(check):
    text = "let x : real\nassume big : x > 1\nassume bigger : x > 5\nclaim c : x^3 >= x + 1\n"
    it = item(check(text), "c")
    assert it.status == "unknown" and "cite it with `by bigger`" in it.message
    assert "`big`" not in it.message  # x = 6/5 satisfies it and breaks the step


def test_several_uncited_facts_that_do_not_prove_the_step_leave_it_refuted(check):
    text = "let x : real\nassume big : x > 1\nassume mid : x < 3/2\nclaim c : x^3 >= x + 1\n"
    it = item(check(text), "c")
    assert it.status == "refuted" and it.steps[0].verdict.counterexample


def test_contradictory_premises_get_no_suggestion(check):
    text = "let x : real\nassume big : x > 5\nclaim c : x < 0 and x > 1 implies x = 7\n"
    it = item(check(text), "c")
    assert it.status == "unknown" and "contradict" in it.message and "cite" not in it.message


def test_a_step_searched_for_suggestions_reports_the_time_of_both_passes():
    """decide_tasks: the second pass (facts it could cite) replaces the verdict; the
    step's time is the first pass's and the second's, and a matrix step, which no
    fact can make proved by citation search, is not sent again."""
    import sympy as sp
    from proofcheck.check import decide_tasks
    from proofcheck.elaborate import Fact
    from proofcheck.obligations import StepTask
    from proofcheck.results import Options
    from proofcheck.verdict import Verdict

    class Runner:
        def __init__(self):
            self.batches = []

        def run(self, tasks, timeout):
            self.batches.append(tasks)
            first = len(self.batches) == 1
            return [Verdict("refuted", "m", "first" if first else "second", seconds=0.5 if first else 0.25)
                    for _ in tasks]

    x = sp.Symbol("x", real=True)
    fact = Fact("big", "assume", None, 1)
    scalar = StepTask(x, ">", sp.Integer(1), (), [], [], [], uncited=[fact])
    matrix = StepTask(x, ">", sp.Integer(2), (), [], [], [], is_matrix=True, uncited=[fact])
    runner = Runner()
    got = decide_tasks([scalar, matrix], runner, Options())
    assert [len(b) for b in runner.batches] == [2, 1]
    assert (got[0].message, got[0].seconds) == ("second", 0.75)
    assert (got[1].message, got[1].seconds) == ("first", 0.5)
