"""Peers' grader suites as case tables: math-verify's own tests and the Qwen2.5-Math grader's, read by our rule.

``tests/data/math_verify_cases.jsonl`` restates the (gold, answer, verdict) facts of math-verify's test files
(huggingface/Math-Verify at 5d148cf: ``test_all.py``, ``test_boxed.py``, ``test_numina_cases.py``,
``test_open_thoughts.py``, ``test_yujianll.py``, ``test_strict.py``), each answer given to ``math-accuracy`` as the
whole completion. ``verdict`` is what mathematical truth gives, ``math_verify`` what math-verify's test expects (with
its options), and ``note`` says why they differ where they do. Where our reward does not reach the true verdict,
``ours`` is what it gives and ``limit`` why; the README lists these known limits. ``qwen_grader_cases.jsonl`` holds
the pairs of Qwen2.5-Math's ``evaluation/grader.py`` (its ``math_equal`` tests and the pairs in ``_test_math_equal``),
each answer in a ``\\boxed{}``.
"""

import json
from pathlib import Path

import pytest

import rewardlab

DATA = Path(__file__).parent / "data"


def table(name):
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def scored(rows):
    reward = rewardlab.get("math-accuracy")
    return reward.score([""] * len(rows), [r["answer"] for r in rows], solution=[r["gold"] for r in rows])


MATH_VERIFY = table("math_verify_cases.jsonl")
QWEN = table("qwen_grader_cases.jsonl")


@pytest.fixture(scope="module")
def math_verify_scores():
    return scored(MATH_VERIFY)


def test_the_math_verify_table_holds_every_ported_case():
    assert len(MATH_VERIFY) == 268
    assert {row["verdict"] for row in MATH_VERIFY} == {0, 1}


@pytest.mark.parametrize("index", range(len(MATH_VERIFY)), ids=lambda i: f"{MATH_VERIFY[i]['source']}-{i}")
def test_math_verify_case(math_verify_scores, index):
    row = MATH_VERIFY[index]
    expected = row.get("ours", row["verdict"])
    assert math_verify_scores[index].value == expected, (row, math_verify_scores[index].details)


def test_no_ported_case_is_a_false_positive(math_verify_scores):
    pairs = zip(MATH_VERIFY, math_verify_scores, strict=True)
    assert [row for row, score in pairs if row["verdict"] == 0 and score.value == 1.0] == []


def test_every_case_we_do_not_get_right_is_a_named_limit_and_never_a_false_positive():
    limits = [row for row in MATH_VERIFY if "ours" in row]
    assert all(row["limit"] for row in limits)
    assert not [row for row in limits if row["ours"] == 1.0]
    assert len(limits) <= 20


def test_math_verify_s_own_wrong_verdict_on_mathrm_e_is_right_here(math_verify_scores):
    [index] = [i for i, row in enumerate(MATH_VERIFY) if row["answer"] == "$1 + \\frac{1}{\\mathrm{e}}$"]
    assert math_verify_scores[index].value == 0.0 == MATH_VERIFY[index]["verdict"]


@pytest.mark.parametrize("row", QWEN, ids=lambda row: f"{row['answer'][:40]}|{row['gold'][:30]}")
def test_qwen_grader_case(row):
    assert scored([row])[0].value == row["verdict"]
