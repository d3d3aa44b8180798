"""GSM8K's answers in the four styles models write them, on 300 word problems of GSM8K's form written here.

Each problem is a GSM8K-style solution (calculator annotations ``<<a*b=c>>``, intermediate numbers, the word
"answer" inside the reasoning) with a gold as GSM8K stores it after ``####``: a plain integer, with a comma in the
thousands when the answer has them. No data is downloaded.
"""

import random

import pytest

import rewardlab

STYLES = {
    "boxed": "{reasoning}\nSo the total is $\\boxed{{{answer}}}$.",
    "answer-is": "{reasoning}\nThe answer is {answer}.",
    "answer-tag": "<think>\n{reasoning}\n</think>\n<answer>\n{answer}\n</answer>",
    "gsm8k": "{reasoning}\n#### {answer}",
}


def with_commas(value):
    return f"{value:,}"


def problems(count=300, seed=17):
    """``count`` problems as (reasoning, gold, a wrong number the reasoning also contains)."""
    rng = random.Random(seed)
    made = []
    for index in range(count):
        a, b, c = rng.randint(2, 40), rng.randint(2, 90), rng.randint(2, 30)
        price = rng.choice([1, 2, 5, 12, 25, 150])
        kind = index % 3
        if kind == 0:  # eggs: sold after eating and baking, times the price
            left = a * b - c
            total = left * price
            reasoning = (
                f"Each day the hens lay {a} * {b} = <<{a}*{b}={a * b}>>{a * b} eggs.\n"
                f"To answer the question, remove the {c} she uses: {a * b} - {c} = <<{a * b}-{c}={left}>>{left}.\n"
                f"She sells them at ${price} each: {left} * {price} = <<{left}*{price}={total}>>{total} dollars."
            )
            wrong = left
        elif kind == 1:  # wages: hours times rate, plus overtime
            base, overtime = a * price, c * price * 3 // 2
            total = base + overtime
            reasoning = (
                f"Regular pay is {a} * ${price} = ${base}.\nOvertime pays {c} * {price} * 1.5 = ${overtime}.\n"
                f"The answer needs both: {base} + {overtime} = <<{base}+{overtime}={total}>>{total}."
            )
            wrong = base
        else:  # a trip: distance over several days, minus a return leg
            out = a * b * price
            total = out - c
            reasoning = (
                f"He drives {a} miles a day for {b} days, {price} times: {a} * {b} * {price} = {out} miles.\n"
                f"He comes back {c} miles short, so {out} - {c} = <<{out}-{c}={total}>>{total} miles."
            )
            wrong = out
        wrong = wrong if wrong != total else total + 1  # at a price of 1 the number before the last is the answer
        gold = with_commas(total) if total >= 1000 else str(total)
        made.append((reasoning, gold, total, wrong))
    return made


PROBLEMS = problems()


def test_the_problems_have_golds_with_thousands_commas():
    assert sum("," in gold for _, gold, _, _ in PROBLEMS) >= 50
    assert len({gold for _, gold, _, _ in PROBLEMS}) >= 200


def answer_forms(total, index):
    """The ways a model writes the same number: plain, with commas, in dollars, with a unit."""
    return [str(total), with_commas(total), f"${with_commas(total)}", f"{total} dollars"][index % 4]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_correct_answer_in_each_style_scores_one(style):
    completions = [
        STYLES[style].format(reasoning=r, answer=answer_forms(t, i)) for i, (r, _, t, _) in enumerate(PROBLEMS)
    ]
    if style == "boxed":  # inside math a dollar sign is written \$
        completions = [c.replace("\\boxed{$", "\\boxed{\\$") for c in completions]
    values = rewardlab.get("math-accuracy")(completions=completions, solution=[g for _, g, _, _ in PROBLEMS])
    assert values == [1.0] * len(PROBLEMS)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_wrong_answer_in_each_style_scores_zero(style):
    completions = [STYLES[style].format(reasoning=r, answer=str(w)) for r, _, _, w in PROBLEMS]
    values = rewardlab.get("math-accuracy")(completions=completions, solution=[g for _, g, _, _ in PROBLEMS])
    assert values == [0.0] * len(PROBLEMS)


def test_an_off_by_one_answer_is_wrong_in_every_style():
    reasoning, gold, total, _ = PROBLEMS[0]
    completions = [style.format(reasoning=reasoning, answer=total + 1) for style in STYLES.values()]
    assert rewardlab.get("math-accuracy")(completions=completions, solution=[gold] * 4) == [0.0] * 4
