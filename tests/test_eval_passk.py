"""pass@k: the unbiased estimator of Chen et al. (2021) and its refusal of n < k."""

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.passk import mean_pass_at_k, pass_at_k


def exact_pass_at_k(n, c, k):
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@st.composite
def counts(draw):
    n = draw(st.integers(1, 300))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@given(counts())
def test_pass_at_k_equals_the_combinatorial_formula(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        pytest.param(10, 3, 1, 0.3, id="pass@1-is-c/n"),
        pytest.param(10, 3, 5, 1 - 21 / 252, id="n10-c3-k5"),
        pytest.param(10, 0, 10, 0.0, id="none-correct"),
        pytest.param(10, 1, 10, 1.0, id="k-equals-n-one-correct"),
        pytest.param(200, 5, 100, 1 - comb(195, 100) / comb(200, 100), id="codex-n200"),
    ],
)
def test_pass_at_k_reference_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("c", [0, 3])
def test_pass_at_k_refuses_fewer_samples_than_k(c):
    with pytest.raises(ValueError, match="pass@5 needs at least 5 samples, got n=3"):
        pass_at_k(3, min(c, 3), 5)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, -3)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_pass_at_k_rejects_non_integers():
    with pytest.raises(TypeError):
        pass_at_k(10.0, 3, 1)


def test_mean_pass_at_k_averages_problems_and_reports_n():
    result = mean_pass_at_k([4, 6], [1, 3], k=2)
    assert result.estimate.value == pytest.approx((pass_at_k(4, 1, 2) + pass_at_k(6, 3, 2)) / 2)
    assert (result.n_min, result.n_max, result.n_label) == (4, 6, "n=4-6")
    assert result.estimate.n == 2


def test_mean_pass_at_k_fails_on_the_problem_with_too_few_samples():
    with pytest.raises(ValueError, match="n=2"):
        mean_pass_at_k([10, 2], [1, 1], k=5)
