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
                           "symmetry": "proved", "one_lipschitz": "proved"},
}
HOMEWORK = {
    "proofs/homework/q1_null_space.pf": {"null_space": "checked", "converse": "checked", "operator_bound": "checked",
                                         "bilinear_bound": "checked"},
    "proofs/homework/q2_spectral_norm.pf": {"gram": "checked", "outer_gram": "checked", "same_norm": "checked",
                                            "transpose_norm": "checked"},
    "proofs/homework/q3_trace_inner_product.pf": {"diagonal_entry": "proved", "trace_inner_product": "proved",
                                                  "symmetric_in_A_B": "proved"},
    "proofs/homework/q4_frobenius.pf": {"frobenius": "proved", "similar_trace": "proved"},
    "proofs/homework/q5_frobenius_of_sum.pf": {"expansion": "proved"},
    "proofs/homework/q6_determinant.pf": {"similar_determinant": "proved", "two_by_two": "proved"},
    "proofs/homework/q6_norm_chain.pf": {"norm_chain": "checked"},
    "proofs/homework/q7_softplus.pf": {"derivative": "proved", "slope_between": "proved", "one_lipschitz": "proved"},
    "proofs/homework/q8_composition.pf": {"two": "proved", "three": "proved"},
    "proofs/homework/q9_lipschitz_rules.pf": {"sum_rule": "proved", "product_rule": "proved"},
    "proofs/homework/q10_sigmoid_tanh_network.pf": {"sigmoid_tanh": "proved", "rewrite": "proved"},
    "proofs/homework/q11_perceptron.pf": {"through_first": "proved", "through_second": "proved",
                                          "left_of_three": "proved", "right_of_three": "proved",
                                          "above_line": "proved"},
    "proofs/homework/q12_backprop.pf": {"sigmoid_slope": "proved", "grad_w": "proved", "grad_b": "proved",
                                        "grad_h": "proved", "grad_hidden_weight": "proved",
                                        "grad_hidden_bias": "proved"},
    "proofs/homework/q13_convolution.pf": {"second": "proved", "effective_kernel": "proved", "third": "proved",
                                           "receptive_field": "proved"},
    "proofs/homework/slips.pf": {"slip_gram": "refuted", "fixed_gram": "checked", "slip_amgm": "refuted",
                                 "fixed_amgm": "checked", "slip_cross_term": "refuted",
                                 "fixed_cross_term": "proved"},
    "proofs/lipschitz.pf": {"composition": "proved", "sum_rule": "proved", "product_rule": "proved"},
    "proofs/inequalities.pf": {"am_gm_two": "proved", "am_gm_direct": "proved", "wrong_am_gm": "refuted",
                               "cauchy_schwarz_2d": "proved", "wrong_cauchy_schwarz": "refuted",
                               "exp_tangent": "proved", "exp_tangent_shifted": "proved", "log_tangent": "proved",
                               "log_below_identity": "proved", "wrong_exp_second_order": "refuted",
                               "wrong_log_tangent": "refuted", "triangle_three": "proved",
                               "reverse_triangle": "proved", "wrong_reverse_triangle": "refuted"},
}
EXPECTED.update(HOMEWORK)
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


def test_every_homework_file_has_expectations():
    from pathlib import Path
    files = {str(p) for p in Path("proofs/homework").glob("*.pf")}
    assert files == {k for k in EXPECTED if k.startswith("proofs/homework/")}
