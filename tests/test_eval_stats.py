"""Intervals and paired tests (bootstrap, McNemar), accuracy, mean reward and distinct-n."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2

from eval.accuracy import accuracy, mean_reward
from eval.distinct import distinct_counts, distinct_n, grouped_distinct_counts
from eval.stats import mcnemar, mean_estimate, paired_bootstrap
from rewardlab.metrics.tokens import token_ids, tokenize


@given(st.integers(0, 12), st.integers(0, 12))
def test_mcnemar_with_few_discordant_pairs_is_the_exact_binomial_test(b, c):
    first = [False] * b + [True] * c + [True] * 5
    second = [True] * b + [False] * c + [True] * 5
    test = mcnemar(first, second)
    expected = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    assert test.p_value == pytest.approx(expected, rel=1e-9)
    assert test.test == "McNemar exact"
    assert test.difference == pytest.approx((b - c) / (b + c + 5))


@pytest.mark.parametrize(
    ("b", "c"),
    [
        pytest.param(150, 86, id="b150-c86"),
        pytest.param(30, 12, id="moderate"),
        pytest.param(20, 20, id="balanced"),
    ],
)
def test_mcnemar_with_many_discordant_pairs_is_continuity_corrected_chi2(b, c):
    test = mcnemar([False] * b + [True] * c, [True] * b + [False] * c)
    statistic = max(0, abs(b - c) - 1) ** 2 / (b + c)
    assert test.p_value == pytest.approx(chi2.sf(statistic, 1), rel=1e-9)
    assert test.test == "McNemar chi2"


def test_mcnemar_without_disagreement_gives_p_one():
    assert mcnemar([True, False], [True, False]).p_value == 1.0


def test_paired_bootstrap_is_reproducible_for_a_seed():
    rng = np.random.default_rng(1)
    a, b = rng.random(30), rng.random(30)
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    assert paired_bootstrap(a, b, seed=3).ci_low != paired_bootstrap(a, b, seed=4).ci_low


def test_paired_bootstrap_of_identical_runs_finds_nothing():
    values = [0.1, 0.5, 0.9, 0.3]
    test = paired_bootstrap(values, values)
    assert (test.difference, test.ci_low, test.ci_high, test.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_paired_bootstrap_detects_a_consistent_improvement():
    rng = np.random.default_rng(0)
    a = rng.random(40)
    test = paired_bootstrap(a, a + 0.2 + rng.normal(0, 0.05, 40), n_boot=2000)
    assert test.ci_low < test.difference < test.ci_high
    assert test.ci_low > 0.1
    assert test.p_value == pytest.approx(1 / 2001)


def test_paired_bootstrap_uses_the_statistic_given():
    test = paired_bootstrap([0, 0, 10], [1, 1, 1], statistic=np.median)
    assert test.difference == 1.0


def test_mean_estimate_reports_the_standard_error_and_an_interval_around_the_mean():
    values = [0.2, 0.4, 0.6, 0.8, 1.0]
    e = mean_estimate(values, n_boot=500, seed=0)
    assert e.value == pytest.approx(0.6)
    assert e.stderr == pytest.approx(np.std(values, ddof=1) / math.sqrt(5))
    assert e.ci_low < e.value < e.ci_high
    assert e.n == 5


def test_accuracy_weighs_every_prompt_the_same():
    result = accuracy([True, True, True, False, False, False, False, False], groups=["a"] * 2 + ["b"] * 6)
    assert result.value == pytest.approx((1.0 + 1 / 6) / 2)
    assert result.n == 2


def test_accuracy_without_groups_counts_rows():
    result = accuracy([True, False, False, True])
    assert (result.value, result.n) == (0.5, 4)
    assert result.stderr == pytest.approx(math.sqrt(1 / 3 / 4))


def test_mean_reward_averages_prompt_means():
    assert mean_reward([1.0, 0.0, 0.5, 0.5], groups=["a", "a", "b", "b"]).value == 0.5


@pytest.mark.parametrize(
    ("texts", "n", "expected"),
    [
        pytest.param(["the cat sat", "the cat ran"], 1, 4 / 6, id="distinct-1"),
        pytest.param(["the cat sat", "the cat ran"], 2, 3 / 4, id="distinct-2"),
        pytest.param(["a a a a"], 1, 1 / 4, id="repetition"),
        pytest.param(["one", "two"], 2, 0.0, id="no-bigrams"),
    ],
)
def test_distinct_n_is_distinct_over_all_ngrams(texts, n, expected):
    assert distinct_n(texts, n) == pytest.approx(expected)


#: Words that 13a cuts apart, joins across a line break, or leaves whole; some repeat, some are shorter than n.
TRICKY_WORDS = ["a", "b", "a", "b", "你好，世界！", "x-", "\ny", "1.5-2", "hello!!", "<skipped>", "é", ",", "."]


@given(st.lists(st.tuples(st.integers(0, 3), st.lists(st.sampled_from(TRICKY_WORDS), max_size=6)), max_size=12))
def test_grouped_distinct_counts_are_the_distinct_counts_of_each_groups_token_lists(texts_by_group):
    groups = np.array([group for group, _ in texts_by_group], dtype=np.int64)
    texts = [" ".join(words) for _, words in texts_by_group]
    counts = grouped_distinct_counts(token_ids(texts), groups, [1, 2, 3])
    for n in (1, 2, 3):
        expected = [
            distinct_counts(tokenize([text for text, g in zip(texts, groups, strict=True) if g == group]), n)
            for group in range(len(counts[n][0]))
        ]
        assert list(zip(counts[n][0].tolist(), counts[n][1].tolist(), strict=True)) == expected


def test_grouped_distinct_counts_keep_texts_and_groups_apart():
    texts = ["b c", "b c", "b c", "c b"]  # joined, the texts would add the bigram "c b" to group 0
    counts = grouped_distinct_counts(token_ids(texts), np.array([0, 0, 1, 1]), [2])
    assert counts[2][0].tolist() == [1, 2]
    assert counts[2][1].tolist() == [2, 2]
