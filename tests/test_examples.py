"""The example files keep their verdicts. The expected verdicts live here, not in the checker."""
import pytest

from proofcheck.check import Options, check_text

EXPECTED = {
    "proofs/conv_arith.pf": {"second_layer": "proved", "effective_kernel": "proved", "effective_at_least": "proved",
                             "third_layer": "proved", "example": "proved", "receptive_field": "proved",
                             "grows": "proved", "grows_strictly": "proved"},
    "proofs/sigmoid_tanh.pf": {"halves": "proved", "tanh_def": "proved", "tanh_via_sigmoid": "proved",
                               "reflection": "proved", "sigmoid_derivative": "proved", "tanh_derivative": "proved",
                               "sigmoid_range": "proved", "tanh_range": "proved", "slope_max": "proved",
                               "unit_rewrite": "proved"},
    "proofs/softplus.pf": {"derivative": "proved", "derivative_explicit": "proved", "slope_range": "proved",
                           "slope_bound": "proved", "positive": "proved", "above_identity": "proved",
                           "symmetry": "proved"},
}
MISTAKES = "proofs/mistakes.pf"


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_example_files_keep_their_verdicts(runner, path):
    text = open(path, encoding="utf-8").read()
    result = check_text(text, path, Options(), runner)
    got = {it.name: it.status for it in result.items if it.name in EXPECTED[path]}
    assert got == EXPECTED[path]


def test_every_mistake_is_refuted_with_values(runner):
    text = open(MISTAKES, encoding="utf-8").read()
    result = check_text(text, MISTAKES, Options(), runner)
    assert result.items
    for it in result.items:
        assert it.status == "refuted", (it.name, it.message)
        assert any(s.verdict.counterexample is not None for s in it.steps)
