"""Fuzzing (issue 7): random documents from the grammar, and the files of proofs/
mutated character by character. The property: every statement gets an item,
nothing raises, and each example stays within a time bound.

Most examples stop after parsing and elaboration (`FileChecker.build`, no
deciders), so the test is fast; a few run end to end with `--timeout 1`.
Hypothesis is derandomized, so CI sees the same examples every run.
"""
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofcheck import syntax as S
from proofcheck.check import FileChecker, Options, check_text
from proofcheck.parse import parse_document

STATUSES = {"proved", "checked", "refuted", "unknown", "error"}
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
BUILD_SECONDS = 20      # parse + elaborate one document (generous: the machine is shared)
END_TO_END_SECONDS = 120

HEADER = ("let x, y, z : real\nlet a, b : real, positive\nlet k : integer\nlet m, n : integer, positive\n"
          "let v, w : vector(n)\nlet A, B : matrix(n, n)\nlet P : matrix(n, n), psd\nfun f : real -> real\n"
          "def sq(t) = t^2\n")

# ------------------------------------------------------------ grammar strategy
HOSTILE_ATOMS = ["9" * 5000, "0." + "3" * 1200, "(" * 120 + "x" + ")" * 120, "-" * 300 + "x",
                 "x" + "^x" * 200, "\u212a", "\uff58", "x\u00b2", "x\u2070\u00b9", "\x00", "\ufeff", "\u202e",
                 "x\u0301", "\u00bd", "A\u1d40", "π", "e", "I", "T", "10^5000", "2^(2^(2^20))"]
NAMES = ["x", "y", "z", "a", "b", "k", "m", "n", "t", "i", "j", "u", "undeclared", "σ"]


def atoms():
    return st.one_of(
        st.sampled_from(NAMES),
        st.integers(min_value=0, max_value=10 ** 6).map(str),
        st.sampled_from(["0.5", "1/3", "2x", "3(x + 1)", "sq(x)", "f(y)", "v[1]", "v[i]", "A[1, 2]", "A[x, 1]",
                         "v[n + 1]", "v^T*w", "norm(v)", "trace(A)", "det(P)", "I(n)", "‖v‖", "|x|"]),
        st.sampled_from(HOSTILE_ATOMS),
    )


def expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from([" + ", " - ", "*", "/", "^", " · "]), inner).map("".join),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs", "f", "sq"]),
                      inner).map(lambda p: f"{p[0]}({p[1]})"),
            st.tuples(inner, inner).map(lambda p: f"max({p[0]}, {p[1]})"),
            inner.map(lambda e: f"|{e}|"),
            inner.map(lambda e: f"d/dx {e}"),
            st.tuples(st.sampled_from(["1..n", "1..n + 1", "0..k", "2..n", "i..n"]), inner).map(
                lambda p: f"sum(i = {p[0]}, {p[1]})"),
            inner.map(lambda e: f"v[{e}]"),
            st.lists(inner, min_size=2, max_size=40).map(" + ".join),   # long flat chains
        )
    return st.recursive(atoms(), extend, max_leaves=12)


RELS = st.sampled_from(["=", "<", "<=", ">", ">=", "!=", "≤", "≥", "≠"])


def formulas():
    chain = st.tuples(expressions(), RELS, expressions()).map(" ".join)
    return st.one_of(
        chain,
        st.tuples(chain, chain).map(lambda p: f"{p[0]} and {p[1]}"),
        st.tuples(chain, chain).map(lambda p: f"{p[0]} implies {p[1]}"),
        chain.map(lambda c: f"forall u, t: {c}"),
    )


def statements():
    name = st.sampled_from(["c1", "c2", "h", "th", "lemma", "K", "\u212a"])
    hints = st.one_of(st.just(""), st.lists(st.sampled_from(["c1", "h", "triangle", "am_gm", "nope"]),
                                            min_size=1, max_size=2).map(lambda h: "  by " + ", ".join(h)))
    claim = st.tuples(name, formulas(), hints).map(lambda p: f"claim {p[0]} : {p[1]}{p[2]}")
    assume = st.tuples(name, formulas()).map(lambda p: f"assume {p[0]} : {p[1]}")
    let = st.tuples(st.sampled_from(["p", "q", "C", "u1"]),
                    st.sampled_from(["real", "integer, positive", "matrix(n, n)", "vector(n + 1)",
                                     "matrix(10^5000, 2)", "matrix(" + "*".join(["(n + 1)"] * 25) + ", n)",
                                     "real, positive, negative"])).map(lambda p: f"let {p[0]} : {p[1]}")
    define = st.tuples(st.sampled_from(["g", "hh"]), expressions()).map(lambda p: f"def {p[0]}(t) = {p[1]}")
    steps = st.lists(st.tuples(RELS, expressions(), hints).map(lambda p: f"  {p[0]} {p[1]}{p[2]}"),
                     min_size=0, max_size=4)
    theorem = st.tuples(name, st.sampled_from(["", " [3]", " [" + "9" * 5000 + "]"]), formulas(),
                        expressions(), steps).map(
        lambda p: f"theorem {p[0]}{p[1]} : {p[2]}\nproof\n  {p[3]}\n" + "\n".join(p[4]) + "\nqed")
    return st.one_of(claim, claim, assume, let, define, theorem)


documents = st.lists(statements(), min_size=1, max_size=6).map(lambda s: HEADER + "\n".join(s) + "\n")


# ------------------------------------------------------------ mutation strategy
PROOF_FILES = sorted(str(p) for p in Path(__file__).resolve().parent.parent.joinpath("proofs").rglob("*.pf"))
MUTATION_CHARS = "x(){}[]|^*/+-=<>,:.#\n 0129_\x00\t\ufeff\u212a\u00b2\u2264∀√‖ᵀ"


@st.composite
def mutated_files(draw):
    path = draw(st.sampled_from(PROOF_FILES))
    text = Path(path).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        pos = draw(st.integers(min_value=0, max_value=max(0, len(text))))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        ch = draw(st.sampled_from(MUTATION_CHARS))
        if op == "insert":
            text = text[:pos] + ch + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + 1:]
        elif op == "replace":
            text = text[:pos] + ch + text[pos + 1:]
        else:  # a slice repeated: longer lines, deeper brackets
            end = draw(st.integers(min_value=pos, max_value=min(len(text), pos + 40)))
            text = text[:end] + text[pos:end] * draw(st.integers(min_value=1, max_value=50)) + text[end:]
    return text


# ------------------------------------------------------------ the property
def check_built(text: str):
    """Parse and elaborate `text`; every statement must have an item, with a status."""
    started = time.monotonic()
    doc = parse_document(text, "<fuzz>")
    checker = FileChecker(doc, Options(timeout=1))
    checker.build()
    assert time.monotonic() - started < BUILD_SECONDS
    lines = {it.span.line for it in checker.items}
    for st_ in doc.statements:
        if isinstance(st_, (S.Claim, S.Theorem)):
            assert st_.span.line in lines, (st_, text)
    syntax_lines = {it.span.line for it in checker.items if it.kind == "syntax"}
    for p in doc.problems:
        assert p.span.line in syntax_lines and p.message
    for it in checker.items:
        if it.own is not None:
            assert it.own.status in STATUSES and it.own.message
            assert "Traceback" not in it.own.message and it.own.method != "internal"
    return checker


def check_end_to_end(runner, text: str):
    started = time.monotonic()
    result = check_text(text, "<fuzz>", Options(timeout=1), runner)
    assert time.monotonic() - started < END_TO_END_SECONDS
    for it in result.items:
        assert it.status in STATUSES
        for s in it.steps:
            assert s.verdict is not None and s.verdict.status in STATUSES
            assert "**" not in s.verdict.message and s.verdict.method != "internal", s.verdict.detail
    return result


@settings(max_examples=40, **SETTINGS)
@given(documents)
def test_generated_documents_elaborate_without_raising(text):
    check_built(text)


@settings(max_examples=40, **SETTINGS)
@given(mutated_files())
def test_mutated_proof_files_elaborate_without_raising(text):
    check_built(text)


@settings(max_examples=12, **SETTINGS)
@given(documents)
def test_generated_documents_end_to_end(runner, text):
    check_end_to_end(runner, text)


@settings(max_examples=10, **SETTINGS)
@given(mutated_files())
def test_mutated_proof_files_end_to_end(runner, text):
    check_end_to_end(runner, text)


def test_every_proof_file_is_in_the_mutation_pool():
    assert len(PROOF_FILES) >= 5
