"""The one extraction rule and the normalisation before math-verify: every false positive and miss of issue 17."""

import pytest

import rewardlab
from rewardlab.rewards.math.extract import boxed, final_answer, normalise

GSM8K_REASONING = (
    "To answer this, find the cost of one pen: 2 / 5 = 0.40 dollars.\n"
    "Five pens cost 5 * 0.40 = 2.00 dollars.\n#### 2.00"
)


def accuracy(completion, gold):
    return rewardlab.get("math-accuracy")(completions=[completion], solution=[gold])[0]


# Each was read wrong before (the answer scored 1.0 against a gold it is not equal to): now right against its true
# value and wrong against the value it was misread as.
FALSE_POSITIVES = [
    pytest.param(r"\boxed{4 4/9}", r"\frac{40}{9}", r"\frac{8}{9}", id="mixed-number-not-a-product"),
    pytest.param(r"\boxed{1 234 567}", "1234567", "802", id="digit-groups-not-a-product"),
    pytest.param(r"The answer is $\boxed{\sqrt 2+\sqrt 5}$", r"\sqrt{2}+\sqrt{5}", "2", id="sqrt-without-braces"),
    pytest.param("The answer is $1/3.$", r"\frac{1}{3}", "1", id="full-stop-inside-math"),
    pytest.param(r"$\sum_{k=0}^n\bigl(k\bigr)$", r"\frac{n(n+1)}{2}", "0", id="sized-delimiters"),
    pytest.param(GSM8K_REASONING, "2", "0.40", id="answer-in-reasoning-does-not-anchor"),
    pytest.param(r"First I thought \boxed{3}. Checking again, it is \boxed{5}.", "5", "3", id="self-correction"),
]


@pytest.mark.parametrize(("completion", "gold", "misread"), FALSE_POSITIVES)
def test_a_former_false_positive_is_read_as_written(completion, gold, misread):
    assert accuracy(completion, gold) == 1.0
    assert accuracy(completion, misread) == 0.0


# Correct answers that scored 0 before.
MISSES = [
    pytest.param("6 * 7 = 42\n#### 42", "42", id="gsm8k-final-line"),
    pytest.param("So it is $42.$", "42", id="full-stop-in-dollars"),
    pytest.param(r"\boxed{42.}", "42", id="full-stop-in-box"),
    pytest.param(r"\boxed{1 000}", "1000", id="thousands-with-a-space"),
    pytest.param(r"\boxed{1{,}000}", "1000", id="thousands-with-braced-comma"),
    pytest.param("\\boxed{1\u2009000}", "1000", id="thousands-with-a-thin-space"),
    pytest.param(r"\boxed{1\,000}", "1000", id="thousands-with-latex-thin-space"),
    pytest.param(r"\boxed{\frac94\pi}", r"\frac{9\pi}{4}", id="frac-without-braces"),
    pytest.param(r"\boxed{3 1/2}", r"\frac{7}{2}", id="mixed-number"),
    pytest.param(r"\boxed{3\frac{1}{2}}", "3.5", id="mixed-number-in-latex"),
    pytest.param("The answer is 28 percent.", "28", id="percent-word"),
    pytest.param("The answer is 28%.", "28", id="percent-sign"),
    pytest.param("Final Answer: The largest $n$ is 34.", "34", id="final-answer-sentence"),
    pytest.param("Final Answer: The final answer is $34$. I hope it is correct.", "34", id="minerva-final-answer"),
    pytest.param(r"We find that $x \lt 3$.", "x < 3", id="only-math-span-of-a-sentence"),
    pytest.param("$e^2$", r"\mathrm{e}^2", id="gold-with-mathrm-e"),
    pytest.param("$2e$", r"$2\mathrm{e}$", id="delimited-gold-with-mathrm-e"),
    pytest.param("The answer is 1,018.", "1018", id="comma-thousands-after-phrase"),
    pytest.param(r"\boxed{1018}", "1,018", id="gold-with-comma-thousands"),
    pytest.param("<answer>Janet makes $18 every day.</answer>", "18", id="dollars-in-answer-tag"),
    pytest.param(r"\boxed{5!}", "120", id="factorial-is-not-punctuation"),
]


@pytest.mark.parametrize(("completion", "gold"), MISSES)
def test_a_former_miss_is_correct(completion, gold):
    assert accuracy(completion, gold) == 1.0


# ------------------------------------------------------------------------------------------------ the rule


RULE_CASES = [
    pytest.param(r"Some steps \boxed{3} and then \boxed{7}", "7", "boxed", id="last-box"),
    pytest.param(r"<answer>The answer is $5$, so \boxed{6}</answer>", "6", "boxed", id="box-before-phrase"),
    pytest.param("<answer>\n12\n</answer>", "12", "answer-tag", id="answer-tag-content"),
    pytest.param("<answer>12 apples</answer>", "12", "answer-tag", id="answer-tag-number-in-words"),
    pytest.param("The answer is 5.\n#### 6", "6", "gsm8k", id="gsm8k-before-phrase"),
    pytest.param("#### 3\nwait\n#### 4", "4", "gsm8k", id="last-gsm8k-line"),
    pytest.param("#### $1,018 in all", "1018", "gsm8k", id="gsm8k-with-dollars-and-words"),
    pytest.param("The answer is 3. No: the answer is 4.", "4", "phrase", id="last-phrase"),
    pytest.param("So $x=2$. The answer is $x=3$.", "x=3", "phrase", id="phrase-before-span"),
    pytest.param("**Final Answer:** $\\frac{1}{2}$", "\\frac{1}{2}", "phrase", id="bold-final-answer"),
    pytest.param("The answer is clear.\nWe get $7$.", "7", "math-span", id="phrase-without-math-falls-through"),
    pytest.param("The answer is clear: we get $7$.", "7", "phrase", id="math-later-in-the-phrase-sentence"),
    pytest.param("Adding gives $3$.\nHence $y = 7$.", "y = 7", "math-span", id="last-span"),
    pytest.param("23.0", "23.0", "whole", id="all-math-text"),
    pytest.param("28 percent", "28\\%", "whole", id="all-math-with-a-percent-word"),
    pytest.param(r"\boxed{1}, \boxed{2} \quad\text{and}\quad \boxed{3}", "1, 2, 3", "boxed", id="one-answer-in-parts"),
    pytest.param(
        r"so \boxed{255}. In all $10,455. Final Answer: The final answer is $10,455$.",
        "10455",
        "phrase",
        id="final-answer-phrase-after-the-last-box",
    ),
    pytest.param(r"\boxed{12}. The answer is correct.", "12", "boxed", id="phrase-without-answer-after-box"),
    pytest.param("The pair $(x, y)$ that solves it is $(7, 6)$", "(7, 6)", "math-span", id="span-after-is"),
    pytest.param("The answer is $ 9 $", "9", "phrase", id="spaces-inside-dollars"),
    pytest.param("It is $odd$.", "odd", "math-span", id="one-word-span"),
    pytest.param("It costs $5 and $10 in all.", None, "none", id="amounts-are-not-math-spans"),
]


@pytest.mark.parametrize(("region", "text", "rule"), RULE_CASES)
def test_the_final_answer_is_found_by_the_first_rule_that_applies(region, text, rule):
    found = final_answer(region)
    assert (found.text, found.rule) == (text, rule)


NO_ANSWER_CASES = [
    pytest.param("", id="empty"),
    pytest.param("I computed 12 apples and stopped.", id="number-in-prose-without-anchor"),
    pytest.param("<answer>I don't know</answer>", id="words-in-answer-tag"),
    pytest.param(r"It is \boxed{}", id="empty-box"),
    pytest.param("#### none", id="gsm8k-line-without-a-number"),
]


@pytest.mark.parametrize("region", NO_ANSWER_CASES)
def test_a_region_without_an_answer_gives_none_with_a_reason(region):
    found = final_answer(region)
    assert found.text is None and not found.undecided and found.reason


UNDECIDED_CASES = [
    pytest.param("The answer is 3 or 5.", id="two-numbers-after-phrase"),
    pytest.param("The answer is $3$ or $5$.", id="two-spans-after-phrase"),
    pytest.param("So $a=3$ and $b=5$.", id="two-spans-in-last-sentence"),
    pytest.param("#### 3 or 5", id="two-numbers-on-gsm8k-line"),
    pytest.param("<answer>3, 4, 5, 6 or 7</answer>", id="list-in-answer-tag"),
]


@pytest.mark.parametrize("region", UNDECIDED_CASES)
def test_two_different_answers_at_one_place_are_undecided(region):
    found = final_answer(region)
    assert found.text is None and found.undecided and found.reason


def test_an_undecided_answer_gets_none_with_the_reason_and_no_answer_gets_zero_with_it():
    reward = rewardlab.get("math-accuracy")
    undecided, missing = reward.score(["", ""], ["The answer is 3 or 5.", "It is 3."], solution=["3", "3"])
    assert undecided.value is None and "different numbers" in undecided.details["error"]
    assert missing.value == 0.0 and missing.details["error"].startswith("no final answer")
    assert missing.details["answer_rule"] == "none"


def test_a_gold_that_cannot_be_read_wins_over_an_answer_that_cannot_be_found():
    reward = rewardlab.get("math-accuracy")
    [result] = reward.score([""], ["no answer here"], solution=["just words"])
    assert result.value is None and result.details["error"] == "the gold solution cannot be read as math"


def test_the_reasoning_never_anchors_an_answer():
    completion = "<think>\nThe answer is 12. \\boxed{12}\n#### 12\n</think>\nI am not sure."
    assert accuracy(completion, "12") == 0.0


# ------------------------------------------------------------------------------------------------ exploits

HEDGES = [
    pytest.param(r"\boxed{3} \boxed{5}", id="two-boxes-only-the-last-counts"),
    pytest.param(r"\boxed{3, 5}", id="a-set-is-not-its-element"),
    pytest.param(r"\boxed{3 \text{ or } 5}", id="or-in-a-box"),
    pytest.param("The answer is 3 or 5.", id="or-after-phrase"),
    pytest.param("$3$ or $5$", id="or-between-spans"),
    pytest.param("#### 1 2 3 4 5 6 7 8 9", id="every-digit-on-the-gsm8k-line"),
    pytest.param("<answer>5</answer>\n#### 3", id="second-style-after-the-answer-block"),
    pytest.param(r"<think>\boxed{3}</think><answer>5</answer>", id="right-answer-only-in-reasoning"),
    pytest.param(r"\boxed{3} \boxed{4} \boxed{5}", id="every-candidate-boxed"),
    pytest.param("<answer>1, 2, 3, 4, 5, 6, 7, 8, 9, 10</answer>", id="every-candidate-in-the-tag"),
    pytest.param(r"\boxed{\text{3 or 5}}", id="or-in-text-in-a-box"),
    pytest.param(r"\boxed{x > 0}", id="an-inequality-for-a-number"),
    pytest.param("#### 3\n#### 5", id="two-gsm8k-lines-only-the-last-counts"),
    pytest.param(r"\boxed{}", id="an-empty-box"),
]


@pytest.mark.parametrize("completion", HEDGES)
def test_a_hedge_scores_no_more_than_an_honest_wrong_answer(completion):
    assert accuracy(completion, "3") in (0.0, None)
    assert accuracy("The answer is 4.", "3") == 0.0


# ------------------------------------------------------------------------------------------------ normalisation

NORMALISE_CASES = [
    pytest.param("4 4/9", "(4+4/9)", id="mixed-number"),
    pytest.param("1 234 567", "1234567", id="digit-groups"),
    pytest.param("1 234/5", "1 234/5", id="not-digit-groups-before-a-fraction-nor-a-mixed-number"),
    pytest.param("4 9/4", "4 9/4", id="improper-fraction-is-not-a-mixed-number"),
    pytest.param("1{,}234", "1234", id="braced-comma"),
    pytest.param("1,234.5", "1234.5", id="comma-groups-with-decimals"),
    pytest.param("(1,234)", "(1,234)", id="a-pair-keeps-its-comma"),
    pytest.param("1,5", "1,5", id="not-a-digit-group"),
    pytest.param(r"11,\! 111,\! 100", "11111100", id="comma-and-negative-thin-space"),
    pytest.param(
        r"\begin{pmatrix}1 \\ 2\end{pmatrix}", r"\begin{pmatrix}1 \\ 2\end{pmatrix}", id="row-break-is-no-space"
    ),
    pytest.param("42.", "42", id="trailing-full-stop"),
    pytest.param("x = 3;", "x = 3", id="trailing-semicolon"),
    pytest.param(r"\dfrac{1}{2}", r"\frac{1}{2}", id="dfrac"),
    pytest.param(r"\left( 1, 2 \right)", "( 1, 2 )", id="left-right"),
    pytest.param(r"x \le 3", r"x \leq 3", id="le"),
    pytest.param(r"\left\{ 1 \right\}", r"\{ 1 \}", id="left-brace"),
    pytest.param("\u22125", "-5", id="unicode-minus"),
    pytest.param("\uff14\uff12", "42", id="full-width-digits"),
    pytest.param("90°", r"90^\circ", id="degree-sign"),
    pytest.param(r"\mathrm{cm}", r"\text{cm}", id="mathrm-unit"),
]


@pytest.mark.parametrize(("answer", "expected"), NORMALISE_CASES)
def test_normalise(answer, expected):
    assert normalise(answer) == expected


def test_boxed_contents_keep_nested_braces():
    assert boxed(r"\boxed{\frac{1}{\sqrt{2}}} and \fbox{7}") == [r"\frac{1}{\sqrt{2}}", "7"]


def test_details_name_the_rule_and_the_answer_read():
    [result] = rewardlab.get("math-accuracy").score([""], ["Thus:\n#### 1,018"], solution=["1018"])
    assert result.value == 1.0
    assert (result.details["answer"], result.details["answer_rule"]) == ("1018", "gsm8k")


# ------------------------------------------------------------------------------------------------ the math preset

LAYOUTS = [
    "<think>\nI add.\n</think>\n<answer>\n{}\n</answer>",
    "<think>\nI add.\n</think>\n<answer>\n\\boxed{{{}}}\n</answer>",
    "<think>\nI add.\n</think>\n<answer>\n{}\n</answer>\nand more text",
    "<think>\n\n</think>\n<answer>\n{}\n</answer>",
    "The answer is {}.",
    "#### {}",
    "\\boxed{{{}}}",
]
EMPTY_AND_HEDGES = [
    "<think>\n\n</think>\n<answer>\n\n</answer>",
    "<think>\nI add.\n</think>\n<answer>\n3 or 4\n</answer>",
    "<think>\nI add.\n</think>\n<answer>\n\\boxed{3} \\boxed{5}\n</answer>",
    "",
]


def test_every_correct_answer_scores_above_every_wrong_one_whatever_the_layout():
    reward = rewardlab.get("math")
    correct = reward(completions=[layout.format(4) for layout in LAYOUTS], solution=["4"] * len(LAYOUTS))
    wrong = reward(completions=[layout.format(5) for layout in LAYOUTS], solution=["4"] * len(LAYOUTS))
    others = reward(completions=EMPTY_AND_HEDGES, solution=["4"] * len(EMPTY_AND_HEDGES))
    assert min(correct) >= 1.0
    assert max(wrong + others) <= 0.5


def test_empty_tags_earn_nothing_in_the_preset():
    [result] = rewardlab.get("math").score([""], ["<think>\n\n</think>\n<answer>\n\n</answer>"], solution=["4"])
    assert result.value == 0.0
    assert (result.components["math-format"], result.components["math-tags"]) == (0.0, 0.0)


def test_an_empty_completion_gets_the_worst_repetition_value():
    reward = rewardlab.get("math-repetition")
    assert reward(completions=["", "a b c d"]) == [-1.0, 0.0]
