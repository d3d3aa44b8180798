"""Math rewards: every branch of every definition, each peer bug by name, and the fixture's sample completions."""

import json
import math
import pickle
import re
import sys

import pytest

import rewardlab
from rewardlab.errors import ConfigError, RewardlabError, RowError
from rewardlab.rewards.math.answers import answer_region

GOOD = "<think>\n3 * 4 = 12\n</think>\n<answer>\n\\boxed{12}\n</answer>"


def score(name, completions, **columns):
    params = columns.pop("params", {})
    return rewardlab.get(name, **params).score(columns.pop("prompts", [""] * len(completions)), completions, **columns)


def values(name, completions, **columns):
    return [s.value for s in score(name, completions, **columns)]


# ------------------------------------------------------------------------------------------------ math-format

FORMAT_CASES = [
    pytest.param(GOOD, {}, 1.0, id="exact-layout"),
    pytest.param(GOOD + "\n  \n", {}, 1.0, id="trailing-whitespace-ignored"),
    pytest.param("<think>\n\n</think>\n<answer>\n\n</answer>", {}, 0.0, id="empty-sections-are-no-layout"),
    pytest.param("<think>\nx\n</think>\n<answer>\n \n</answer>", {}, 0.0, id="blank-answer-is-no-layout"),
    pytest.param(" " + GOOD, {}, 0.0, id="leading-text-fails"),
    pytest.param("<think>\nx</think>\n<answer>\n12\n</answer>", {}, 0.0, id="missing-newline-fails"),
    pytest.param("<answer>\n12\n</answer>", {}, 0.0, id="missing-think-fails"),
    pytest.param("<think>\na <think> b\n</think>\n<answer>\n12\n</answer>", {}, 0.0, id="tag-twice-fails"),
    pytest.param(GOOD + "\n<answer>\n13\n</answer>", {}, 0.0, id="second-answer-block-fails"),
    pytest.param("<answer>\n12\n</answer>\n<think>\nx\n</think>", {}, 0.0, id="wrong-order-fails"),
    pytest.param("<think>\nx\n</think>\nhm\n<answer>\n12\n</answer>", {}, 0.0, id="text-between-blocks-fails"),
    pytest.param("3 * 4 = 12\n</think>\n<answer>\n12\n</answer>", {"think_prefilled": True}, 1.0, id="prefilled"),
    pytest.param(GOOD, {"think_prefilled": True}, 0.0, id="prefilled-but-completion-repeats-think"),
    pytest.param([{"role": "assistant", "content": GOOD}], {}, 1.0, id="chat-message-completion"),
]


@pytest.mark.parametrize(("completion", "params", "expected"), FORMAT_CASES)
def test_math_format(completion, params, expected):
    assert values("math-format", [completion], params=params) == [expected]


def test_math_format_rejects_text_after_answer_that_open_r1_multiline_dollar_accepts():
    hacked = GOOD + "\nAnd some unrelated text the policy learned to append."
    open_r1_pattern = r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$"
    assert re.match(open_r1_pattern, hacked, re.DOTALL | re.MULTILINE)  # the peer's bug: `$` matches at a newline
    [result] = score("math-format", [hacked])
    assert result.value == 0.0
    assert result.details == {"problem": "text after </answer>"}


@pytest.mark.parametrize(
    ("completion", "problem"),
    [
        pytest.param("<answer>\n12\n</answer>", "<think> occurs 0 times", id="count"),
        pytest.param("<think>\nx</think>\n<answer>\n12\n</answer>", "not laid out as", id="layout"),
    ],
)
def test_math_format_details_say_what_is_wrong(completion, problem):
    assert score("math-format", [completion])[0].details["problem"].startswith(problem)


# ------------------------------------------------------------------------------------------------ math-tags

TAGS_CASES = [
    pytest.param(GOOD, {}, 1.0, id="all-four"),
    pytest.param("no tags at all", {}, 0.0, id="none"),
    pytest.param("<think>\nx", {}, 0.25, id="think-open-only"),
    pytest.param("x\n</think>\ny", {}, 0.25, id="think-close-only"),
    pytest.param("x\n<answer>\ny", {}, 0.25, id="answer-open-only"),
    pytest.param("x\n</answer>", {}, 0.25, id="answer-close-only"),
    pytest.param("<think>\nx\n</think>\n<think>\ny\n</think>\n<answer>\n1\n</answer>", {}, 0.5, id="think-twice"),
    pytest.param("<think>x</think><answer>1</answer>", {}, 0.0, id="tags-without-newlines"),
    pytest.param("x\n</think>\n<answer>\n1\n</answer>", {}, 0.75, id="prefilled-think-is-not-counted"),
    pytest.param("x\n</think>\n<answer>\n1\n</answer>", {"think_prefilled": True}, 1.0, id="prefilled-think-counted"),
]


@pytest.mark.parametrize(("completion", "params", "expected"), TAGS_CASES)
def test_math_tags(completion, params, expected):
    assert values("math-tags", [completion], params=params) == [expected]


def test_math_tags_details_name_each_tag():
    [result] = score("math-tags", ["<think>\nx\n</think>\nno answer"])
    assert result.details == {"think_open": 0.25, "think_close": 0.25, "answer_open": 0.0, "answer_close": 0.0}


# ------------------------------------------------------------------------------------------------ answer_region

REGION_CASES = [
    pytest.param(GOOD, "<answer>\n\\boxed{12}\n</answer>", id="answer-block"),
    pytest.param("<answer>1</answer> then <answer>2</answer>", "<answer>1</answer>", id="first-answer-block"),
    pytest.param("<think>\n<answer>5</answer>\n</think>\n<answer>4</answer>", "<answer>4</answer>", id="not-in-think"),
    pytest.param("<think>\nx\n</think>\nIt is $4$.", "\nIt is $4$.", id="after-think"),
    pytest.param("x\n</think>\nIt is $4$.", "\nIt is $4$.", id="after-prefilled-think"),
    pytest.param("It is $4$.", "It is $4$.", id="whole-completion"),
    pytest.param("<think>\nit is \\boxed{4}", "", id="unclosed-think-gives-nothing"),
    pytest.param("<think>\nx\n</think>\n<answer>\n\\boxed{4}", "\n<answer>\n\\boxed{4}", id="unclosed-answer"),
]


@pytest.mark.parametrize(("completion", "expected"), REGION_CASES)
def test_answer_region(completion, expected):
    assert answer_region(completion) == expected


# ------------------------------------------------------------------------------------------------ math-accuracy

ACCURACY_CASES = [
    pytest.param(GOOD, "12", 1.0, id="boxed-in-answer-block"),
    pytest.param("<think>\nx\n</think>\n<answer>\n$12$\n</answer>", "12", 1.0, id="dollars-after-answer-tag"),
    pytest.param("<think>\nx\n</think>\nThe answer is $12$.", "12", 1.0, id="text-after-think"),
    pytest.param("So the final answer is \\boxed{12}.", "12", 1.0, id="whole-completion"),
    pytest.param(GOOD, "\\boxed{12}", 1.0, id="boxed-gold"),
    pytest.param(GOOD, "$12$", 1.0, id="dollar-gold"),
    pytest.param(GOOD, 12, 1.0, id="numeric-gold"),
    pytest.param("<answer>\n\\boxed{0.5}\n</answer>", "\\frac{1}{2}", 1.0, id="equal-values"),
    pytest.param("<answer>\n\\boxed{12 \\text{ apples}}\n</answer>", "12", 1.0, id="units-normalised"),
    pytest.param("<answer>\n\\boxed{(1,2)}\n</answer>", "$1 < x < 2$", 1.0, id="interval-answer-to-relation-gold"),
    pytest.param("<answer>\n$1 < x < 2$\n</answer>", "$(1,2)$", 0.0, id="gold-first-verify-is-not-symmetric"),
    pytest.param("<answer>\n\\boxed{13}\n</answer>", "12", 0.0, id="wrong"),
    pytest.param("<think>\nx\n</think>\n<answer>\n12\n</answer>", "12", 1.0, id="plain-number-in-answer-block"),
    pytest.param("<answer>12</answer>", "12", 1.0, id="plain-number-in-answer-block-without-newlines"),
    pytest.param("<answer>\n-5\n</answer>", "-5", 1.0, id="plain-negative-number"),
    pytest.param("<answer>\n1/2\n</answer>", "$\\frac{1}{2}$", 1.0, id="plain-fraction-to-latex-gold"),
    pytest.param("23.0", "23", 1.0, id="plain-decimal-alone"),
    pytest.param("<think>\nx\n</think>\nThe answer is 12.", "12", 1.0, id="plain-number-after-answer-anchor"),
    pytest.param("<answer>\nI don't know\n</answer>", "12", 0.0, id="words-are-no-answer"),
    pytest.param("I computed 12 apples and stopped.", "12", 0.0, id="number-in-prose-without-anchor-is-no-answer"),
    pytest.param("<answer>\n2\n</answer>", "2^{10}", 0.0, id="bare-latex-gold-is-not-read-as-its-first-number"),
    pytest.param("<answer>\n1024\n</answer>", "2^{10}", 1.0, id="bare-latex-gold-power"),
    pytest.param("<answer>\n-5\n</answer>", "\u22125", 1.0, id="gold-with-unicode-minus"),
    pytest.param("<think>\nit is \\boxed{12}\n</think>\n<answer>\nunsure\n</answer>", "12", 0.0, id="only-in-think"),
    pytest.param("<think>\nit is \\boxed{12}", "12", 0.0, id="unclosed-think"),
    pytest.param("<answer>\\boxed{13}</answer><answer>\\boxed{12}</answer>", "12", 0.0, id="first-block-counts"),
    pytest.param("", "12", 0.0, id="empty-completion"),
    pytest.param(GOOD, "no number here", None, id="unparseable-gold"),
    pytest.param(GOOD, "just words with 2 and 3", None, id="prose-gold-with-two-numbers"),
    pytest.param(GOOD, "12 apples", 1.0, id="prose-gold-with-one-number"),
    pytest.param("<answer>\nyes\n</answer>", "yes", None, id="one-word-gold-is-not-read-as-a-product-of-letters"),
    pytest.param("<answer>\n\\pi\n</answer>", "\\pi", 1.0, id="bare-latex-constant-gold-and-answer"),
    pytest.param(GOOD, "", None, id="empty-gold"),
    pytest.param(GOOD, None, None, id="missing-gold"),
]


@pytest.mark.parametrize(("completion", "solution", "expected"), ACCURACY_CASES)
def test_math_accuracy(completion, solution, expected):
    assert values("math-accuracy", [completion], solution=[solution]) == [expected]


def test_math_accuracy_details_show_what_was_parsed():
    [result] = score("math-accuracy", [GOOD], solution=["\\frac{24}{2}"])
    assert result.details == {
        "answer_text": "<answer>\n\\boxed{12}\n</answer>",
        "answer": "12",
        "answer_rule": "boxed",
        "answer_parsed": ["12", "12"],
        "gold_parsed": ["12", "\\frac{24}{2}"],
    }
    assert result.components == {"timed_out": 0.0}


def test_math_accuracy_says_why_a_gold_gives_no_verdict():
    [unreadable, missing] = score("math-accuracy", [GOOD, GOOD], solution=["just words", None])
    assert (unreadable.value, unreadable.details["error"]) == (None, "the gold solution cannot be read as math")
    assert (missing.value, missing.details["error"]) == (None, "no gold solution")


def test_math_accuracy_details_keep_the_end_of_a_long_answer_text():
    long = "words " * 200 + "so the answer is $12$"
    [result] = score("math-accuracy", [long], solution=["12"])
    assert result.value == 1.0
    assert len(result.details["answer_text"]) == 300
    assert result.details["answer_text"].endswith("so the answer is $12$")


def test_math_accuracy_scores_a_batch_with_repeated_golds_and_answers():
    completions = [GOOD, "<answer>\n$13$\n</answer>", GOOD, "x"] * 4
    assert values("math-accuracy", completions, solution=["12"] * 16) == [1.0, 0.0, 1.0, 0.0] * 4


def test_math_accuracy_needs_the_solution_column():
    with pytest.raises(RewardlabError, match="'solution' column"):
        values("math-accuracy", [GOOD])


def test_math_accuracy_rejects_a_solution_of_the_wrong_type():
    with pytest.raises(RowError) as error:
        values("math-accuracy", [GOOD, GOOD], solution=["12", ["12"]])
    assert (error.value.index, error.value.field) == (1, "solution")


def test_completion_of_the_wrong_type_names_its_row():
    with pytest.raises(RowError) as error:
        values("math-format", [GOOD, 42])
    assert (error.value.index, error.value.field) == (1, "completion")


def test_math_format_rejects_a_flag_that_is_not_a_boolean():
    with pytest.raises(ConfigError, match="think_prefilled must be true or false"):
        rewardlab.get("math-format", think_prefilled="no")


def test_a_flag_written_as_text_is_read_as_the_boolean_it_names():
    assert rewardlab.get("math-format", think_prefilled="False").think_prefilled is False


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "soon", True])
def test_math_accuracy_rejects_a_bad_timeout(timeout):
    with pytest.raises(ConfigError, match="timeout"):
        rewardlab.get("math-accuracy", timeout=timeout)


# ------------------------------------------------------------------------------------------------ think_prefilled

CUT_OFF = "Let me compute 3 * 4. That is \\boxed{12}, so"  # Qwen3 pre-filled <think>; cut off before </think>
CLOSED = "3 * 4 = 12\n</think>\n<answer>\n12\n</answer>"


@pytest.mark.parametrize("name", ["math-accuracy", "math-cosine", "math-length"])
def test_a_completion_cut_off_in_prefilled_thinking_has_no_answer(name):
    [result] = score(name, [CUT_OFF], solution=["12"], params={"think_prefilled": True})
    assert result.components["correct" if name != "math-accuracy" else "timed_out"] == 0.0
    assert result.details["answer_text"] == ""
    assert result.details["answer_parsed"] == []


def test_without_think_prefilled_the_same_completion_is_read_whole():
    assert values("math-accuracy", [CUT_OFF], solution=["12"]) == [1.0]


@pytest.mark.parametrize("name", ["math-accuracy", "math-cosine"])
def test_a_prefilled_completion_that_closes_its_thinking_is_scored(name):
    [result] = score(name, [CLOSED], solution=["12"], params={"think_prefilled": True})
    assert result.value > 0


def test_math_preset_scores_a_cut_off_prefilled_completion_zero():
    [result] = score("math", [CUT_OFF], solution=["12"], params={"think_prefilled": True})
    assert (result.components["math-accuracy"], result.components["math-format"]) == (0.0, 0.0)
    assert result.value == 0.25 * 0.25  # only the pre-filled <think> tag, at the preset's tag weight
    assert score("math", [CLOSED], solution=["12"], params={"think_prefilled": True})[0].value == 1.5


@pytest.mark.parametrize("name", ["math-accuracy", "math-cosine", "math-length", "math-tags", "think-format"])
def test_think_prefilled_must_be_a_boolean(name):
    with pytest.raises(ConfigError, match="think_prefilled must be true or false"):
        rewardlab.get(name, think_prefilled="yes")


# ------------------------------------------------------------------------------------------------ math-cosine

WRONG = "<answer>\n\\boxed{13}\n</answer>"


COSINE_CASES = [
    pytest.param(GOOD, 0, 1.0, id="correct-empty-is-max-correct"),
    pytest.param(GOOD, 500, 0.75, id="correct-half-way"),
    pytest.param(GOOD, 1000, 0.5, id="correct-at-max-len-is-min-correct"),
    pytest.param(GOOD, 3000, 0.5, id="correct-beyond-max-len-stays-min-correct"),
    pytest.param(WRONG, 0, -1.0, id="wrong-empty-is-min-wrong"),
    pytest.param(WRONG, 500, -0.75, id="wrong-half-way"),
    pytest.param(WRONG, 1000, -0.5, id="wrong-at-max-len-is-max-wrong"),
    pytest.param(WRONG, 3000, -0.5, id="wrong-beyond-max-len-stays-max-wrong"),
]


@pytest.mark.parametrize(("answer", "length", "expected"), COSINE_CASES)
def test_math_cosine(answer, length, expected):
    ids = [[0] * length]  # lengths from token ids, so the test can use round numbers
    assert values("math-cosine", [answer], solution=["12"], completion_ids=ids) == [pytest.approx(expected)]


def test_math_cosine_is_clamped_where_open_r1_rewards_very_long_answers_again():
    def open_r1(length, max_len=1000):  # open-r1's cosine_scaled_reward for a correct answer, without the clamp
        return 0.5 + 0.5 * (1.0 - 0.5) * (1.0 + math.cos(length / max_len * math.pi))

    assert open_r1(2000) == pytest.approx(1.0)  # the peer's bug: twice max_len earns the short-answer reward
    ids = [[0] * 2000]
    assert values("math-cosine", [GOOD], solution=["12"], completion_ids=ids) == [0.5]


def test_math_cosine_without_parseable_gold_is_none():
    assert values("math-cosine", [GOOD], solution=["no number"]) == [None]


def test_math_cosine_counts_characters_without_token_ids():
    [result] = score("math-cosine", [GOOD], solution=["12"], params={"max_len": 2 * len(GOOD)})
    assert result.value == pytest.approx(0.75)
    assert (result.details["length"], result.details["unit"]) == (len(GOOD), "chars")
    assert result.components == {"correct": 1.0, "length": float(len(GOOD))}


def test_math_cosine_unit_chars_ignores_token_ids():
    params = {"max_len": 2 * len(GOOD), "unit": "chars"}
    [result] = score("math-cosine", [GOOD], solution=["12"], completion_ids=[[0] * 5000], params=params)
    assert result.value == pytest.approx(0.75)


def test_math_cosine_unit_tokens_needs_token_ids():
    reward = rewardlab.get("math-cosine", unit="tokens")
    assert "completion_ids" in reward.columns
    with pytest.raises(RewardlabError, match="completion_ids"):
        reward(completions=[GOOD], solution=["12"])


def test_math_cosine_custom_values():
    params = {"min_wrong": -2.0, "max_wrong": 0.0, "min_correct": 0.0, "max_correct": 2.0, "max_len": 10}
    got = values("math-cosine", [GOOD, WRONG], solution=["12"] * 2, completion_ids=[[], []], params=params)
    assert got == [2.0, -2.0]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"max_len": 0}, id="max-len-zero"),
        pytest.param({"unit": "words"}, id="unknown-unit"),
        pytest.param({"min_wrong": float("inf")}, id="infinite-value"),
    ],
)
def test_math_cosine_rejects_bad_parameters(params):
    with pytest.raises(ConfigError):
        rewardlab.get("math-cosine", **params)


# ------------------------------------------------------------------------------------------------ math-length


def test_math_length_is_group_level():
    assert rewardlab.get("math-length").group_level


LENGTH_CASES = [
    pytest.param([(GOOD, 10), (GOOD, 20), (GOOD, 30)], [0.5, 0.0, -0.5], id="correct-gets-lambda"),
    pytest.param([(WRONG, 10), (WRONG, 20), (WRONG, 30)], [0.0, 0.0, -0.5], id="wrong-gets-min-0-lambda"),
    pytest.param([(GOOD, 10), (WRONG, 30)], [0.5, -0.5], id="correct-short-wrong-long"),
    pytest.param([(WRONG, 10), (GOOD, 30)], [0.0, -0.5], id="wrong-short-correct-long"),
    pytest.param([(GOOD, 10), (WRONG, 10)], [0.0, 0.0], id="all-lengths-equal"),
    pytest.param([(GOOD, 10)], [0.0], id="group-of-one"),
]


@pytest.mark.parametrize(("rows", "expected"), LENGTH_CASES)
def test_math_length(rows, expected):
    completions = [c for c, _ in rows]
    ids = [[0] * n for _, n in rows]
    got = values(
        "math-length", completions, prompts=["p"] * len(rows), solution=["12"] * len(rows), completion_ids=ids
    )
    assert got == [pytest.approx(e) for e in expected]


def test_math_length_without_parseable_gold_is_none_and_not_counted():
    got = values(
        "math-length",
        [GOOD, GOOD, GOOD],
        prompts=["p"] * 3,
        solution=["12", "12", "no number"],
        completion_ids=[[0] * 10, [0] * 30, [0] * 1000],
    )
    assert got == [0.5, -0.5, None]


def test_math_length_normalises_within_each_prompt_not_over_the_batch_as_open_r1_does():
    group_a = dict(completions=[GOOD, GOOD], completion_ids=[[0] * 10, [0] * 20])
    group_b = dict(completions=[GOOD, GOOD], completion_ids=[[0] * 500, [0] * 1000])
    alone = values("math-length", prompts=["a", "a"], solution=["12"] * 2, **group_a)
    together = values(
        "math-length",
        group_a["completions"] + group_b["completions"],
        prompts=["a", "a", "b", "b"],
        solution=["12"] * 4,
        completion_ids=group_a["completion_ids"] + group_b["completion_ids"],
    )
    assert alone == [0.5, -0.5]
    assert together == [0.5, -0.5, 0.5, -0.5]
    # open-r1's len_reward takes min and max over the whole batch: prompt a's rows would get 0.5 and ~0.49.
    batch_lengths = [10, 20, 500, 1000]
    open_r1_a = [0.5 - (n - min(batch_lengths)) / (max(batch_lengths) - min(batch_lengths)) for n in (10, 20)]
    assert open_r1_a != alone


def test_math_length_groups_by_prompt_id_when_present():
    got = values(
        "math-length",
        [GOOD, GOOD, GOOD, GOOD],
        prompts=["same text"] * 4,
        prompt_id=["a", "a", "b", "b"],
        solution=["12"] * 4,
        completion_ids=[[0] * 10, [0] * 20, [0] * 100, [0] * 200],
    )
    assert got == [0.5, -0.5, 0.5, -0.5]


def test_math_length_groups_chat_prompts_by_their_text():
    chat = [{"role": "user", "content": "2+2?"}]
    got = values(
        "math-length", [GOOD, GOOD], prompts=[chat, list(chat)], solution=["12"] * 2, completion_ids=[[0], [0, 0]]
    )
    assert got == [0.5, -0.5]


def test_math_length_details_show_the_group():
    [first, _] = score(
        "math-length", [GOOD, GOOD], prompts=["p", "p"], solution=["12"] * 2, completion_ids=[[0], [0] * 3]
    )
    assert (first.details["group_min"], first.details["group_max"], first.details["group_size"]) == (1, 3, 2)
    assert first.details["unit"] == "tokens"


# ------------------------------------------------------------------------------------------------ math-repetition

REPETITION_CASES = [
    pytest.param("", {}, -1.0, id="empty-gets-the-worst-value"),
    pytest.param(" \n ", {}, -1.0, id="blank-gets-the-worst-value"),
    pytest.param("", {"max_penalty": -0.5}, -0.5, id="empty-gets-max-penalty"),
    pytest.param("two words", {}, 0.0, id="fewer-words-than-n"),
    pytest.param("a b c d e f", {}, 0.0, id="no-repeated-ngram"),
    pytest.param("go go go go go go", {}, -0.75, id="one-ngram-repeated"),
    pytest.param("Go GO go gO go go", {}, -0.75, id="lower-cased"),
    pytest.param("a b c a b c", {}, -0.25, id="some-repeats"),
    pytest.param("a b a b", {"ngram_size": 2}, -1 / 3, id="bigrams"),
    pytest.param("go go go go go go", {"max_penalty": -0.5}, -0.375, id="custom-max-penalty"),
]


@pytest.mark.parametrize(("completion", "params", "expected"), REPETITION_CASES)
def test_math_repetition(completion, params, expected):
    assert values("math-repetition", [completion], params=params) == [pytest.approx(expected)]


CJK_REPETITION_CASES = [
    pytest.param("答案是五。答案是五。答案是五。", {}, -8 / 13, "characters", id="chinese-repeated-sentence"),
    pytest.param("我们先计算三乘四得到十二然后检查", {}, 0.0, "characters", id="chinese-no-repeat"),
    pytest.param("答えは五です。答えは五です。", {}, -5 / 12, "characters", id="japanese-repeated-sentence"),
    pytest.param("所以 x = 5 所以 x = 5", {}, -3 / 8, "characters", id="mixed-chinese-and-math"),
    pytest.param("答案是五。答案是五。答案是五。", {"language": "en"}, 0.0, "words", id="forced-en-sees-one-word"),
    pytest.param("答案是五。答案是五。答案是五。", {"language": "ja"}, -8 / 13, "characters", id="forced-ja"),
]


@pytest.mark.parametrize(("completion", "params", "expected", "split"), CJK_REPETITION_CASES)
def test_math_repetition_counts_characters_of_chinese_and_japanese(completion, params, expected, split):
    [result] = score("math-repetition", [completion], params=params)
    assert result.value == pytest.approx(expected)
    assert result.details["split"] == split


def test_math_repetition_on_chinese_where_open_r1_splits_on_whitespace_only():
    text = "我们计算一下。我们计算一下。我们计算一下。我们计算一下。"
    assert len(text.split()) < 3  # the peer's bug: one "word", so never penalised
    assert values("math-repetition", [text]) == [pytest.approx(-19 / 26)]


def test_math_repetition_language_zh_uses_jieba_when_installed(monkeypatch):
    class FakeJieba:
        @staticmethod
        def cut(text):
            return [text[i : i + 2] for i in range(0, len(text), 2)]

    monkeypatch.setitem(sys.modules, "jieba", FakeJieba)
    [result] = score("math-repetition", ["这个这个这个这个这个"], params={"ngram_size": 2, "language": "zh"})
    assert result.value == pytest.approx(-0.75)  # open-r1's own zh case: 这个 × 5 → 4 bigrams, 1 distinct
    assert result.details["split"] == "jieba"


def test_math_repetition_language_zh_without_jieba_counts_characters(monkeypatch):
    monkeypatch.setitem(sys.modules, "jieba", None)  # import jieba then raises ImportError
    [result] = score("math-repetition", ["这个这个这个这个这个"], params={"ngram_size": 2, "language": "zh"})
    assert result.value == pytest.approx(-7 / 9)
    assert result.details["split"] == "characters"


TOKEN_REPETITION_CASES = [  # TRL's get_repetition_penalty_reward cases
    pytest.param([1, 2, 3, 4], 2, -1.0, 0.0, id="no-repetition"),
    pytest.param([5, 5, 5, 5, 5], 2, -1.0, -0.75, id="full-repetition"),
    pytest.param([1, 2, 1, 2, 1, 2], 2, -1.0, -0.6, id="partial-repetition"),
    pytest.param([1, 2], 3, -1.0, 0.0, id="shorter-than-n"),
    pytest.param([1, 2, 3], 3, -1.0, 0.0, id="exactly-n"),
    pytest.param([], 3, -1.0, -1.0, id="empty-gets-the-worst-value"),
    pytest.param([5, 5, 5, 5, 5], 2, -0.5, -0.375, id="max-penalty-scales"),
    pytest.param([1, 2, 3, 1, 2, 3], 2, -1.0, -0.4, id="bigrams"),
    pytest.param([1, 2, 3, 1, 2, 3], 3, -1.0, -0.25, id="trigrams"),
]


@pytest.mark.parametrize(("ids", "n", "max_penalty", "expected"), TOKEN_REPETITION_CASES)
def test_math_repetition_over_token_ids(ids, n, max_penalty, expected):
    reward = rewardlab.get("math-repetition", ngram_size=n, max_penalty=max_penalty, unit="tokens")
    assert reward(completions=["5 5 5 5 5"], completion_ids=[ids]) == [pytest.approx(expected)]


def test_math_repetition_token_mode_needs_token_ids():
    reward = rewardlab.get("math-repetition", unit="tokens")
    assert reward.columns == ("completion_ids",)
    with pytest.raises(RewardlabError, match="completion_ids"):
        reward(completions=["x"])
    with pytest.raises(RowError) as error:
        reward(completions=["x", "y"], completion_ids=[[1], "1 2 3"])
    assert (error.value.index, error.value.field) == (1, "completion_ids")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"language": "fr"}, id="unknown-language"),
        pytest.param({"unit": "chars"}, id="unknown-unit"),
        pytest.param({"ngram_size": 0}, id="n-zero"),
        pytest.param({"ngram_size": 2.5}, id="n-not-integer"),
        pytest.param({"max_penalty": 0.5}, id="positive-penalty"),
    ],
)
def test_math_repetition_rejects_bad_parameters(params):
    with pytest.raises(ConfigError):
        rewardlab.get("math-repetition", **params)


# ------------------------------------------------------------------------------------------------ think-format

THINK_FORMAT_CASES = [  # TRL's think_format_reward cases, then ours
    pytest.param("<think>This is my reasoning.</think>This is my answer.", {}, 1.0, id="one-line"),
    pytest.param("<think>\nThis is my reasoning.\n</think>\nThis is my answer.", {}, 1.0, id="multiline"),
    pytest.param("<think>\nThis is <some tag> my reasoning.</think>\nAnswer.", {}, 1.0, id="other-tags-inside"),
    pytest.param("<think></think>\nThis is my answer.", {}, 1.0, id="empty-reasoning"),
    pytest.param("<think>\nThis is my reasoning.\nThis is my answer.", {}, 0.0, id="no-closing-tag"),
    pytest.param("This is my reasoning. This is my answer.", {}, 0.0, id="no-tags"),
    pytest.param("This is my reasoning.</think>\nThis is my answer.", {}, 0.0, id="no-opening-tag"),
    pytest.param("This<think>is my reasoning.</think>\nThis is my answer.", {}, 0.0, id="think-in-the-middle"),
    pytest.param("<think>This is<think>my reasoning.</think></think>Answer.", {}, 0.0, id="nested"),
    pytest.param("<think>This is</think>\nmy\n<think>reasoning.</think>\nAnswer.", {}, 0.0, id="two-blocks"),
    pytest.param("<think>a</think>b</think>c", {}, 0.0, id="second-closing-tag"),
    pytest.param("My reasoning.\n</think>\nMy answer.", {"think_prefilled": True}, 1.0, id="prefilled"),
    pytest.param("My reasoning, cut off", {"think_prefilled": True}, 0.0, id="prefilled-never-closed"),
    pytest.param([{"role": "assistant", "content": "<think>x</think>y"}], {}, 1.0, id="chat-message"),
]


@pytest.mark.parametrize(("completion", "params", "expected"), THINK_FORMAT_CASES)
def test_think_format(completion, params, expected):
    assert values("think-format", [completion], params=params) == [expected]


def test_think_format_details_say_what_is_wrong():
    [result] = score("think-format", ["<think>a</think>b</think>"])
    assert result.details == {"problem": "</think> occurs 2 times"}


# ------------------------------------------------------------------------------------------------ math-steps

STEPS_CASES = [
    pytest.param("It is 4.", 0, id="no-markers"),
    pytest.param("Step 1: add. Step 2: carry.", 2, id="step-n-colon"),
    pytest.param("1. add\n2. carry\n3. check", 3, id="numbered-lines"),
    pytest.param("  1. add\n  2. carry", 2, id="indented-numbered-lines"),
    pytest.param("- add\n- carry\n* check", 3, id="bullets"),
    pytest.param("First, add. Second, carry. Next, check. Finally, write.", 4, id="ordinal-words"),
    pytest.param("3.14 is close to pi\n-5 is negative\n**bold** text", 0, id="numbers-and-bold-are-not-steps"),
]


@pytest.mark.parametrize(("completion", "count"), STEPS_CASES)
def test_math_steps(completion, count):
    [result] = score("math-steps", [completion])
    assert result.details == {"steps": count}
    assert result.value == pytest.approx(min(1.0, count / 3))


def test_math_steps_matches_numbered_lines_on_every_line_where_open_r1_anchors_only_the_text_start():
    numbered = "Let me work it out.\n1. add the tens\n2. add the units\n3. add both"
    open_r1_pattern = r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)"
    assert len(re.findall(open_r1_pattern, numbered)) == 0  # the peer's bug: `^` without MULTILINE
    assert values("math-steps", [numbered]) == [1.0]


# ------------------------------------------------------------------------------------------------ overlong

OVERLONG_CASES = [
    pytest.param(0, 0.0, id="empty"),
    pytest.param(6, 0.0, id="at-max-length-minus-cache"),
    pytest.param(7, -0.25, id="inside-the-cache"),
    pytest.param(8, -0.5, id="half-way-through-the-cache"),
    pytest.param(10, -1.0, id="at-max-length"),
    pytest.param(11, -1.0, id="beyond-max-length"),
]


@pytest.mark.parametrize(("length", "expected"), OVERLONG_CASES)
def test_overlong(length, expected):
    reward = rewardlab.get("overlong", max_length=10, cache=4)
    assert reward(completions=["x" * length]) == [expected]
    assert reward(completions=["x"], completion_ids=[[1] * length]) == [expected]


def test_overlong_defaults_are_dapo_s():
    reward = rewardlab.get("overlong")
    assert (reward.max_length, reward.cache) == (20480, 4096)
    assert reward(completions=["x"], completion_ids=[[1] * 18432]) == [-0.5]


def test_overlong_cache_zero_is_a_hard_cut_as_trl_allows():
    reward = rewardlab.get("overlong", max_length=10, cache=0)
    assert reward(completions=["x"] * 3, completion_ids=[[1] * 9, [1] * 10, [1] * 11]) == [0.0, 0.0, -1.0]


def test_overlong_unit_chars_ignores_token_ids():
    reward = rewardlab.get("overlong", max_length=10, cache=4, unit="chars")
    assert reward(completions=["x"], completion_ids=[[1] * 100]) == [0.0]


def test_overlong_rejects_a_row_without_token_ids():
    with pytest.raises(RowError) as error:
        rewardlab.get("overlong", unit="tokens")(completions=["x", "y"], completion_ids=[[1], None])
    assert (error.value.index, error.value.field) == (1, "completion_ids")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"max_length": 0}, id="max-length-zero"),
        pytest.param({"cache": -1}, id="cache-negative"),
        pytest.param({"max_length": 10, "cache": 11}, id="cache-longer-than-max"),
        pytest.param({"unit": "bytes"}, id="unknown-unit"),
    ],
)
def test_overlong_rejects_bad_parameters(params):
    with pytest.raises(ConfigError):
        rewardlab.get("overlong", **params)


# ------------------------------------------------------------------------------------------------ math preset

MATH_CASES = [
    pytest.param(GOOD, 1.5, id="correct-and-well-formed"),
    pytest.param(WRONG.replace("<answer>", "<think>\nx\n</think>\n<answer>"), 0.5, id="wrong-but-well-formed"),
    pytest.param("So it is \\boxed{12}.", 1.0, id="correct-without-tags"),
    pytest.param("3 * 4 = 12\n#### 12", 1.0, id="correct-gsm8k-line"),
    pytest.param("<think>\n\n</think>\n<answer>\n\n</answer>", 0.0, id="empty-tags-earn-nothing"),
    pytest.param("no idea", 0.0, id="nothing"),
]


@pytest.mark.parametrize(("completion", "expected"), MATH_CASES)
def test_math_preset(completion, expected):
    assert values("math", [completion], solution=["12"]) == [expected]


def test_math_preset_without_parseable_gold_keeps_format_and_tags():
    assert values("math", [GOOD], solution=["no number"]) == [0.5]


def test_math_preset_components_show_each_part():
    [result] = score("math", ["<think>\nx\n</think>\n<answer>\n\\boxed{12}\n</answer>\nbye"], solution=["12"])
    assert result.value == 1.25
    assert {k: result.components[k] for k in ("math-accuracy", "math-format", "math-tags")} == {
        "math-accuracy": 1.0,
        "math-format": 0.0,
        "math-tags": 1.0,
    }
    assert result.details["math-format"] == {"problem": "text after </answer>"}
    assert result.details["math-accuracy"]["answer_parsed"] == ["12", "12"]


def test_math_preset_is_named_math_and_passes_its_parameters_on():
    reward = rewardlab.get("math", timeout=2.0, think_prefilled=True)
    assert reward.__name__ == "math"
    assert reward.settings() == {"timeout": 2.0, "think_prefilled": True}
    assert [r.name for r in reward.rewards] == ["math-accuracy", "math-format", "math-tags"]
    assert reward.rewards[0].timeout == 2.0
    assert all(part.think_prefilled for part in reward.rewards)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone(completions=["x\n</think>\n<answer>\n$12$\n</answer>"], solution=["12"]) == [1.5]


def test_math_preset_logs_each_component_mean():
    logged = {}
    reward = rewardlab.get("math")
    reward(completions=[GOOD, "no idea"], solution=["12", "12"], log_metric=logged.__setitem__)
    assert logged["math/math-accuracy"] == 0.5
    assert logged["math/math-format"] == 0.5


def test_config_error_is_also_a_value_error_as_the_peers_raise():
    with pytest.raises(ValueError, match="max_penalty"):
        rewardlab.get("math-repetition", max_penalty=1.5)


def test_build_combines_math_rewards_with_weights():
    reward = rewardlab.build("math-format,math-tags", weights=[1.0, 0.5])
    assert reward(completions=[GOOD]) == [1.5]


# ------------------------------------------------------------------------------------------------ fixture

EXPECTED_BY_KIND = {  # kind: (math-accuracy, math-format, math-tags)
    "correct": (1.0, 1.0, 1.0),
    "correct_dollar": (1.0, 1.0, 1.0),
    "wrong": (0.0, 1.0, 1.0),
    "missing_tags": (1.0, 0.0, 0.0),
    "text_after_answer": (1.0, 0.0, 1.0),
    "answer_in_think": (0.0, 1.0, 1.0),
    "bare_number": (1.0, 1.0, 1.0),
    "truncated": (0.0, 0.0, 0.25),
    "numbered_steps": (1.0, 1.0, 1.0),
    "repetitive": (0.0, 1.0, 1.0),
    "no_answer_tags": (1.0, 0.0, 0.5),
}


@pytest.fixture(scope="module")
def math_rows(fixtures_dir):
    with open(fixtures_dir / "math.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_fixture_holds_about_forty_problems_with_varied_completions(math_rows):
    assert len({r["prompt_id"] for r in math_rows}) >= 40
    assert {r["kind"] for r in math_rows} == set(EXPECTED_BY_KIND)
    assert all({"prompt_id", "prompt", "completion", "solution"} <= set(r) for r in math_rows)


def test_fixture_completions_score_as_their_kind_says(math_rows):
    reward = rewardlab.get("math")
    scores = reward.score(
        [r["prompt"] for r in math_rows],
        [r["completion"] for r in math_rows],
        solution=[r["solution"] for r in math_rows],
    )
    for row, s in zip(math_rows, scores, strict=True):
        got = (s.components["math-accuracy"], s.components["math-format"], s.components["math-tags"])
        assert got == EXPECTED_BY_KIND[row["kind"]], (row["prompt_id"], row["kind"], s.details)


def test_fixture_repetitive_completions_are_penalised_most(math_rows):
    got = values("math-repetition", [r["completion"] for r in math_rows])
    worst = {r["kind"] for r, v in zip(math_rows, got, strict=True) if v < -0.5}
    assert worst == {"repetitive"}
