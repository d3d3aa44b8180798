"""Self-BLEU equals the plain sacrebleu and nltk leave-one-out loops, exactly, on corpora with awkward cases."""

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sacrebleu.metrics.bleu import BLEU

from eval.selfbleu import self_bleu, self_bleu_by_group, sentence_self_bleu
from eval.tokens import tokenize


def plain_sacrebleu(texts):
    bleu = BLEU(effective_order=True)
    return [bleu.sentence_score(t, texts[:i] + texts[i + 1 :]).score / 100 for i, t in enumerate(texts)]


def plain_nltk(texts, order):
    tokens = tokenize(texts)
    smoothing = SmoothingFunction().method1
    weights = (1 / order,) * order
    return [
        sentence_bleu(tokens[:i] + tokens[i + 1 :], t, weights=weights, smoothing_function=smoothing)
        for i, t in enumerate(tokens)
    ]


words = st.sampled_from(["a", "b", "c", "the", "cat", "sat", "mat", "3.5", "x,y", "don't", "!", "Hello."])
text = st.lists(words, max_size=9).map(" ".join) | st.sampled_from(["", " ", "a", "a a a a", "b."])
corpus = st.lists(text, min_size=2, max_size=9).flatmap(
    lambda texts: st.lists(st.sampled_from(texts), min_size=0, max_size=3).map(lambda dup: texts + dup)
)


@settings(max_examples=150, deadline=None)
@given(corpus)
def test_self_bleu_equals_a_plain_sacrebleu_loop(texts):
    ours = sentence_self_bleu(texts)
    assert ours == pytest.approx(plain_sacrebleu(texts), abs=1e-9)
    assert self_bleu(texts) == pytest.approx(sum(plain_sacrebleu(texts)) / len(texts), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(corpus, st.integers(1, 4))
def test_nltk_mode_equals_nltk_method1(texts, order):
    assert sentence_self_bleu(texts, mode="nltk", max_order=order) == pytest.approx(
        plain_nltk(texts, order), abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(corpus, st.integers(2, 3))
def test_grouped_self_bleu_scores_each_group_on_its_own(texts, n_groups):
    groups = [i % n_groups for i in range(len(texts))]
    if min(groups.count(g) for g in set(groups)) < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_group = self_bleu_by_group(texts, groups)
    for g, value in per_group.items():
        members = [t for t, label in zip(texts, groups) if label == g]
        assert value == pytest.approx(sum(plain_sacrebleu(members)) / len(members), abs=1e-9)


NLTK_HYP1 = "It is a guide to action which ensures that the military always obeys the commands of the party"
NLTK_HYP2 = "It is to insure the troops forever hearing the activity guidebook that party direct"
NLTK_REFS = [
    "It is a guide to action that ensures that the military will forever heed Party commands",
    "It is the guiding principle which guarantees the military forces always being under the command of the Party",
    "It is the practical guide for the army always to heed the directions of the party",
]


@pytest.mark.parametrize(
    ("hypothesis", "expected"),
    [
        pytest.param(NLTK_HYP1, 0.5045, id="nltk-docs-hypothesis1-0.5045"),
        pytest.param(NLTK_HYP2, 0.0370, id="nltk-docs-hypothesis2-method1-0.0370"),
    ],
)
def test_nltk_mode_reproduces_nltk_documented_scores(hypothesis, expected):
    score = sentence_self_bleu([hypothesis, *NLTK_REFS], mode="nltk")[0]
    assert expected <= score < expected + 1e-4  # nltk's docstring shows the first four decimals


def test_identical_texts_score_one_and_disjoint_texts_zero():
    assert self_bleu(["the cat sat on the mat"] * 3) == 1.0
    assert self_bleu(["alpha beta", "gamma delta", "epsilon zeta"]) == 0.0


def test_empty_texts_score_zero():
    assert sentence_self_bleu(["", "", "a b c"]) == [0.0, 0.0, 0.0]


def test_a_single_text_has_no_self_bleu():
    with pytest.raises(ValueError, match="at least two texts"):
        self_bleu(["only one"])


def test_a_group_of_one_text_is_an_error():
    with pytest.raises(ValueError, match="group 'b' has one"):
        self_bleu(["x y", "x y", "z"], groups=["a", "a", "b"])


def test_groups_of_different_sizes_warn():
    with pytest.warns(UserWarning, match="differ in size"):
        self_bleu(["a b", "a b", "a b", "c d", "c d"], groups=[1, 1, 1, 2, 2])


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown Self-BLEU mode"):
        self_bleu(["a", "b"], mode="bleurt")
