"""Self-BLEU equals the plain sacrebleu and nltk leave-one-out loops, exactly, on corpora with awkward cases."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp

import rewardlab.metrics.tokens
from rewardlab.metrics.selfbleu import bleu_statistics, self_bleu, self_bleu_by_group, sentence_self_bleu
from rewardlab.metrics.tokens import TokenIds, token_ids, tokenize


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


# Pieces that exercise every rule of sacrebleu's 13a tokenizer and the places where words meet: digits beside
# full stops, commas and hyphens, entities, <skipped>, a hyphen before a line break, other whitespace, Chinese,
# emoji and the private-use characters that token_ids uses as markers.
fragments = st.sampled_from(
    ["a", "b", "9", ".", ",", "-", "'", '"', "&", "&quot;", "&amp;", "&lt;", "<skipped>", "$", "?", "/", "{", "~"]
    + [" ", "  ", "\t", "\n", "-\n", "\r", "\xa0", "\u3000", "\x1c", "中", "文。", "😂", "\ue000", "\ue001"]
)
awkward_text = st.lists(fragments, max_size=14).map("".join)


def same_token_ids(ours: TokenIds, theirs: TokenIds) -> bool:
    return (
        ours.ids.tolist() == theirs.ids.tolist()
        and ours.lengths.tolist() == theirs.lengths.tolist()
        and ours.vocabulary_size == theirs.vocabulary_size
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(awkward_text, max_size=6))
def test_token_ids_number_the_13a_tokens_of_whole_texts(texts):
    assert same_token_ids(token_ids(texts), TokenIds.from_lists(tokenize(texts)))


@pytest.mark.parametrize("name", ["intl", "char", "none", "zh"])
def test_token_ids_number_the_tokens_of_other_tokenizers(name):
    texts = ["Hello, world! 3.5", "中文测试。", "", "a-\nb 1-2", "Hello, world! 3.5"]
    assert same_token_ids(token_ids(texts, name), TokenIds.from_lists(tokenize(texts, name)))


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["long-\nword here", "long- word"], id="hyphen-before-line-break"),
        pytest.param(["-<skipped>\na b", "a-<skipped><skipped>\nb"], id="skipped-then-hyphen-before-line-break"),
    ],
)
def test_token_ids_keep_words_that_13a_joins(texts):
    assert same_token_ids(token_ids(texts), TokenIds.from_lists(tokenize(texts)))


def test_token_ids_are_the_same_across_chunks(monkeypatch):
    texts = ["a b.", "b-\nc", "", "c d!", "a b.", "3.5 1,000", "x-\ny", "d"]
    monkeypatch.setattr(rewardlab.metrics.tokens, "CHUNK_TEXTS", 3)
    assert same_token_ids(token_ids(texts), TokenIds.from_lists(tokenize(texts)))


def test_token_ids_leave_no_joined_batch_in_sacrebleus_line_caches():
    for batch in (["first batch"], ["second batch"], ["third", "batch"]):
        token_ids(batch)
    assert Tokenizer13a.__call__.cache_info().currsize == 0
    assert TokenizerRegexp.__call__.cache_info().currsize == 0


def test_token_ids_keep_a_word_that_is_a_later_chunks_marker(monkeypatch):
    texts = ["a \ue000", "b c", "\ue000 b"]
    monkeypatch.setattr(rewardlab.metrics.tokens, "CHUNK_TEXTS", 1)
    assert same_token_ids(token_ids(texts), TokenIds.from_lists(tokenize(texts)))


def test_token_ids_reject_a_text_that_is_not_a_string():
    with pytest.raises(TypeError, match="expected a string, got int"):
        token_ids(["a b", 3])


@settings(max_examples=150, deadline=None)
@given(corpus)
def test_self_bleu_equals_a_plain_sacrebleu_loop(texts):
    ours = sentence_self_bleu(texts)
    assert ours == pytest.approx(plain_sacrebleu(texts), abs=1e-9)
    assert self_bleu(texts) == pytest.approx(sum(plain_sacrebleu(texts)) / len(texts), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(awkward_text, min_size=2, max_size=6))
def test_self_bleu_equals_a_plain_sacrebleu_loop_on_awkward_texts(texts):
    assert sentence_self_bleu(texts) == pytest.approx(plain_sacrebleu(texts), abs=1e-9)


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["中文 测试。", "中文 测试。", "中文 不同 的 句子"], id="chinese"),
        pytest.param(["我喜欢猫", "我喜欢狗", "你好"], id="chinese-without-spaces"),
        pytest.param(["so good 😂😂", "so good 😂", "😂"], id="emoji"),
        pytest.param(["a", "a b", "a b c", "b c"], id="shorter-than-four-tokens"),
        pytest.param(["same text here", "same text here", "same text here", "other"], id="duplicates"),
        pytest.param(["long-\nword here", "longword here", "long- word"], id="hyphen-before-line-break"),
        pytest.param(["3.5 and 1,000", "3.5 and 1 , 000", "it's 3-4 days."], id="numbers"),
        pytest.param(["&quot;hi&quot; &amp; bye", '"hi" & bye', "<skipped> hi"], id="entities"),
        pytest.param(["", "", "a"], id="empty"),
    ],
)
def test_self_bleu_equals_a_plain_sacrebleu_loop_on_tricky_corpora(texts):
    assert sentence_self_bleu(texts) == pytest.approx(plain_sacrebleu(texts), abs=1e-9)


def test_bleu_statistics_are_the_same_when_keys_are_too_large_to_pack():
    tokens = token_ids(["a b a b c", "a b c d", "b c d e a b", "c d"])
    groups = np.zeros(4, dtype=np.int64)
    huge = TokenIds(tokens.ids, tokens.lengths, 2**59)  # n-gram keys beyond what fits beside a position in an int64
    ours, packed = bleu_statistics(huge, groups, 4), bleu_statistics(tokens, groups, 4)
    assert ours.matches.tolist() == packed.matches.tolist()


def test_bleu_statistics_accept_token_lists():
    stats = bleu_statistics([["a", "b"], ["a", "c"]], np.zeros(2, dtype=np.int64), 2)
    assert stats.matches.tolist() == [[1, 0], [1, 0]]


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
        members = [t for t, label in zip(texts, groups, strict=True) if label == g]
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
