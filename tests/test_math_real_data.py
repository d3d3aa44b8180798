r"""Math rewards on data as real datasets and real models hold it: every row here once got a confident wrong number.

Golds are written as MATH (bare LaTeX, ``\dfrac``, ``\!`` thousands, ``\text{}`` choices) and GSM8K (plain
numbers, ``1,000``) store them; completions as Qwen models write them (plain numbers in ``<answer>`` blocks, Qwen3's
pre-filled ``<think>`` cut off by ``max_completion_length``, Chinese and Japanese reasoning that loops).
"""

import json

import pytest

import rewardlab

THINK = "<think>\nLet me work it out.\n</think>\n"

#: (gold as the dataset stores it, completion, math-accuracy)
ACCURACY_TABLE = [
    # GSM8K-style plain numbers, answered as plain numbers
    pytest.param("72", THINK + "<answer>\n72\n</answer>", 1.0, id="gsm8k-plain-in-block"),
    pytest.param("72", THINK + "<answer>72</answer>", 1.0, id="gsm8k-plain-in-block-no-newlines"),
    pytest.param("72", THINK + "<answer>\n71\n</answer>", 0.0, id="gsm8k-wrong-plain"),
    pytest.param("1,000", THINK + "<answer>\n1000\n</answer>", 1.0, id="gsm8k-thousands-separator-gold"),
    pytest.param("-5", THINK + "<answer>\n-5\n</answer>", 1.0, id="negative"),
    pytest.param("23", "23.0", 1.0, id="bare-decimal-completion"),
    pytest.param("18", THINK + "**Answer:** 18", 1.0, id="markdown-answer-anchor"),
    pytest.param("18", THINK + "The final answer is $\\boxed{18}$.", 1.0, id="boxed-final-answer"),
    pytest.param("12", THINK + "<answer>\n12 apples\n</answer>", 1.0, id="number-with-unit-word"),
    pytest.param("12", THINK + "<answer>\n１２\n</answer>", 1.0, id="full-width-digits"),
    pytest.param("18", THINK + "<answer>\nI am not sure\n</answer>", 0.0, id="words-only"),
    pytest.param("18", THINK + "She makes 9 * 2 = 18 dollars.", 0.0, id="number-in-prose-without-anchor"),
    # MATH-style bare-LaTeX golds
    pytest.param("2^{10}", THINK + "<answer>\n1024\n</answer>", 1.0, id="math-power"),
    pytest.param("2^{10}", THINK + "<answer>\n2\n</answer>", 0.0, id="math-power-not-its-base"),
    pytest.param("2^{10}", THINK + "<answer>\n2^{10}\n</answer>", 1.0, id="math-power-answered-bare"),
    pytest.param("3\\sqrt{3}", THINK + "<answer>\n$\\sqrt{27}$\n</answer>", 1.0, id="math-surd"),
    pytest.param("3\\sqrt{3}", THINK + "<answer>\n$3$\n</answer>", 0.0, id="math-surd-not-its-coefficient"),
    pytest.param("\\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{1}{\\sqrt{2}}}", 1.0, id="math-nested-frac"),
    pytest.param("(x+1)^2", "\\boxed{x^2+2x+1}", 1.0, id="math-polynomial"),
    pytest.param("[1,2)", "\\boxed{[1,2)}", 1.0, id="math-half-open-interval"),
    pytest.param("[1,2)", "\\boxed{(1,2)}", 0.0, id="math-interval-wrong-bracket"),
    pytest.param("(-\\infty, 3]", "\\boxed{(-\\infty,3]}", 1.0, id="math-infinite-interval"),
    pytest.param("\\frac{\\pi}{2}", "\\boxed{\\frac{\\pi}{2}}", 1.0, id="math-pi"),
    pytest.param("2\\pi", "\\boxed{2}", 0.0, id="math-pi-not-its-coefficient"),
    pytest.param("\\dfrac{9}{4}", THINK + "<answer>\n2.25\n</answer>", 1.0, id="math-dfrac"),
    pytest.param("10,\\!080", "\\boxed{10080}", 1.0, id="math-thin-space-thousands"),
    pytest.param("\\text{(C)}", "\\boxed{\\text{(C)}}", 1.0, id="math-choice"),
    pytest.param("\\text{(C)}", "\\boxed{\\text{(D)}}", 0.0, id="math-wrong-choice"),
    pytest.param(
        "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
        "\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}",
        1.0,
        id="math-vector",
    ),
    pytest.param("\u22125", THINK + "<answer>\n-5\n</answer>", 1.0, id="unicode-minus-gold"),
    pytest.param("x = 5", THINK + "<answer>\n5\n</answer>", 1.0, id="equation-gold"),
    # golds that are not math: the row does not apply
    pytest.param("forty two", "\\boxed{42}", None, id="gold-in-words"),
    pytest.param("between 3 and 5", "\\boxed{4}", None, id="gold-prose-with-two-numbers"),
]


@pytest.mark.parametrize(("gold", "completion", "expected"), ACCURACY_TABLE)
def test_math_accuracy_on_real_data(gold, completion, expected):
    assert rewardlab.get("math-accuracy")(completions=[completion], solution=[gold]) == [expected]


#: Qwen3 with its thinking template: the prompt ends with "<think>\n", so the completion starts inside it.
PREFILLED_TABLE = [
    pytest.param("Okay, 3 times 4 is 12, so \\boxed{12}. Wait, let me double-check the", 0.0, id="cut-off-boxed"),
    pytest.param("Okay, 3 times 4 is 12.\n</think>\n<answer>\n12\n</answer>", 1.0, id="closed-plain"),
    pytest.param("Okay, 3 times 4.\n</think>\nThe answer is $\\boxed{12}$.", 1.0, id="closed-boxed"),
    pytest.param("Okay, \\boxed{12}.\n</think>\n<answer>\nunsure\n</answer>", 0.0, id="answer-only-in-reasoning"),
]


@pytest.mark.parametrize(("completion", "expected"), PREFILLED_TABLE)
@pytest.mark.parametrize("name", ["math-accuracy", "math-cosine", "math-length"])
def test_prefilled_thinking_on_real_completions(name, completion, expected):
    [result] = rewardlab.get(name, think_prefilled=True).score(["p"], [completion], solution=["12"])
    correct = result.value if name == "math-accuracy" else result.components["correct"]
    assert correct == expected


CHINESE_LOOP = "首先，我们计算三乘以四。三乘以四等于十二。" + "等等，让我再检查一下。三乘以四等于十二。" * 4
CHINESE_CLEAN = "首先，我们计算三乘以四，得到十二。然后检查：十二除以四等于三，所以答案是十二。"
JAPANESE_LOOP = "まず、三かける四を計算します。" + "もう一度確認します。三かける四は十二です。" * 4
JAPANESE_CLEAN = "まず、三かける四を計算すると十二になります。検算として十二を四で割ると三です。"


@pytest.mark.parametrize(
    ("looping", "clean"),
    [
        pytest.param(CHINESE_LOOP, CHINESE_CLEAN, id="chinese"),
        pytest.param(JAPANESE_LOOP, JAPANESE_CLEAN, id="japanese"),
    ],
)
def test_math_repetition_penalises_looping_chinese_and_japanese_reasoning(looping, clean):
    loop_value, clean_value = rewardlab.get("math-repetition")(completions=[looping, clean])
    assert loop_value < -0.5
    assert clean_value > -0.1


@pytest.mark.parametrize("run", ["baseline", "grpo"])
def test_math_accuracy_agrees_with_every_correct_label_of_the_fixture_runs(fixtures_dir, run):
    with open(fixtures_dir / "runs" / run / "generations.jsonl", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    values = rewardlab.get("math-accuracy")(
        completions=[r["completion"] for r in rows], solution=[r["solution"] for r in rows]
    )
    assert any(r["correct"] for r in rows)
    assert [v == 1.0 for v in values] == [r["correct"] for r in rows]
