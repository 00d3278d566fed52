"""Names, shapes, definitions, citations: errors at their step, the rest still checked."""
import pytest

from conftest import item

DECLS = """let x, y : real
let n : integer, positive
let A : matrix(2, 3)
let B : matrix(3, 2)
let v : vector(3)
fun f : real -> real
def sq(t) = t^2
def c = 2*pi
assume h : x <= y
"""


@pytest.mark.parametrize("claim,message", [
    ("z = 1", "`z` is not declared"),
    ("g(x) = 1", "`g` is not a declared function"),
    ("x(y + 1) = 1", "`x` is a variable, not a function"),
    ("f(x, y) = 1", "`f` is a function of one real argument"),
    ("sq(x, y) = 1", "`sq` takes 1 argument(s), got 2"),
    ("c(x) = 1", "`c` is a constant"),
    ("sq = 1", "`sq` is a function of 1 argument(s)"),
    ("exp = 1", "`exp` is a built-in function"),
    ("log(x, y) = 1", "`log` takes one argument"),
    ("x + A = x", "cannot add a scalar and a 2×3 matrix"),
    ("trace(A*A) = 1", "cannot multiply a 2×3 matrix by a 2×3 matrix"),
    ("A = B", "cannot compare a 2×3 matrix with a 3×2 matrix"),
    ("A <= A", "`<=` compares scalars"),
    ("x = A", "cannot compare a scalar with a 2×3 matrix"),
    ("trace(A) = 1", "`trace` needs a square matrix"),
    ("|A| = 1", "must be a scalar"),
    ("A[3, 1] = 1", "index 3 is outside 1..2"),
    ("x[1] = 1", "is a scalar and has no entries"),
    ("I = 1", "`I` is the identity matrix"),
    ("d/dn n = 1", "`n` is an integer"),
    ("d/dq x = 1", "`q` is not a declared real variable"),
    ("sum(i = 1..x, i) = 1", "must be an integer"),
    ("x = y by nothing_here", "unknown fact `nothing_here`"),
    ("x = y by trangle", "did you mean `triangle`?"),
])
def test_elaboration_errors_are_reported_at_their_item(check, claim, message):
    result = check(DECLS + f"claim bad : {claim}\nclaim good : x + x = 2*x\n")
    bad = item(result, "bad")
    assert bad.status == "error"
    assert message in bad.own.message
    assert item(result, "good").status == "proved"


@pytest.mark.parametrize("decl,message", [
    ("let e : real", "`e` is reserved"),
    ("let T : real", "`T` is reserved"),
    ("let exp : real", "`exp` is a built-in name"),
    ("let x : real", "`x` is already declared (line 1)"),
    ("let q : real, postive", "unknown assumption `postive`"),
    ("let q : real, psd", "that is for matrices"),
    ("let M : matrix(2, 3), psd", "needs a square matrix"),
    ("let q : complex", "unknown type `complex`"),
    ("let M : matrix(x, 2)", "a size must be a positive integer"),
    ("fun k : integer -> real", "functions are declared"),
    ("assume h : x = x", "already the name of a fact"),
    ("assume triangle : x = x", "name of a built-in fact"),
])
def test_declaration_errors(check, decl, message):
    result = check(DECLS + decl + "\nclaim good : x + x = 2*x\n")
    errors = [it for it in result.items if it.status == "error"]
    assert errors and message in errors[0].own.message
    assert item(result, "good").status == "proved"


def test_definitions_are_unfolded(verdicts):
    v = verdicts(DECLS + "claim u : sq(x + 1) = x^2 + 2*x + 1\nclaim w : c = 2*pi\n")
    assert v == {"u": "proved", "w": "proved"}


def test_a_later_fact_cannot_be_cited_earlier(check):
    result = check(DECLS + "claim early : x <= y by later\nassume later : x <= y\n")
    assert "unknown fact `later`" in item(result, "early").own.message


def test_one_by_one_matrices_are_scalars(verdicts):
    v = verdicts("let n : integer, positive\nlet v, w : vector(n)\nclaim s : v^T*w + 1 = 1 + v^T*w\n")
    assert v["s"] == "proved"


def test_bound_variables_shadow_and_stay_local(verdicts):
    v = verdicts("let x : real\nclaim q : forall x: x^2 >= 0\nclaim r : forall u: (u - x)^2 >= 0\n")
    assert v == {"q": "proved", "r": "proved"}
